//! Writes the libpython RUNPATH into every binary this package builds (the tool and its
//! test binaries). Without it the dynamic loader silently picks a different system
//! libpython of the same soname, or none at all (README.md, "Set up": pyslim needs a
//! shared libpython).
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
