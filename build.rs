//! Build script.
//!
//! With the `embedded` feature (the default): writes the libpython RUNPATH into every
//! binary this package builds (the tool and its test binaries). Without it the dynamic
//! loader silently picks a different system libpython of the same soname, or none at
//! all (README.md, "Set up": an embedding build needs a shared libpython).
//!
//! Always: sets `PYSLIM_BUILD_MODE`, the part of `pyslim --version` that says how the
//! binary runs the project's Python.
fn main() {
    println!("cargo:rustc-env=PYSLIM_BUILD_MODE={}", build_mode());
}

#[cfg(feature = "embedded")]
fn build_mode() -> String {
    pyo3_build_config::add_libpython_rpath_link_args();
    let version = pyo3_build_config::get().version();
    format!("embedded CPython {}.{}", version.major, version.minor)
}

#[cfg(not(feature = "embedded"))]
fn build_mode() -> String {
    "no embedded Python: runs the venv's interpreter".to_string()
}
