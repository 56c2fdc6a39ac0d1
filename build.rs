//! Build script.
//!
//! With the `embedded` feature (the default): writes the libpython RUNPATH into every
//! binary this package builds (the tool and its test binaries). Without it the dynamic
//! loader silently picks a different system libpython of the same soname, or none at
//! all (README.md, "Set up": an embedding build needs a shared libpython).
//!
//! Always: sets `PYSLIM_BUILD_MODE`, the part of `pyslim --version` that says how the
//! binary runs the project's Python, and `cfg(jemalloc)` where the binary uses jemalloc.
fn main() {
    println!("cargo:rustc-env=PYSLIM_BUILD_MODE={}", build_mode());
    jemalloc_cfg();
}

/// Sets `cfg(jemalloc)` where Cargo.toml gives the binary jemalloc (the same targets as
/// its `[target.'cfg(...)'.dependencies]`), so src/main.rs says it once per use.
fn jemalloc_cfg() {
    println!("cargo::rustc-check-cfg=cfg(jemalloc)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let unix = var("CARGO_CFG_TARGET_FAMILY")
        .split(',')
        .any(|f| f == "unix");
    let os = var("CARGO_CFG_TARGET_OS");
    let arch = var("CARGO_CFG_TARGET_ARCH");
    if unix
        && !matches!(os.as_str(), "openbsd" | "aix" | "android")
        && matches!(arch.as_str(), "x86_64" | "aarch64")
    {
        println!("cargo::rustc-cfg=jemalloc");
    }
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
