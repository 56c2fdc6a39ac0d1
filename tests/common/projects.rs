//! The repository and the pytest virtualenv the end-to-end tests run Python with;
//! included (`#[path]`) only by the tests that run Python.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv `tests/setup-test-venv.sh` makes, or `PYSLIM_TEST_VENV`.
pub fn venv() -> PathBuf {
    let venv = std::env::var_os("PYSLIM_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/test-venv"));
    assert!(
        venv.join("pyvenv.cfg").is_file() && venv.join("bin/python").exists(),
        "no test virtualenv at {}: run `bash tests/setup-test-venv.sh` first (or set \
         PYSLIM_TEST_VENV)",
        venv.display()
    );
    venv
}
