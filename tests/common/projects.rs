//! The repository, copies of its fixture projects and the pytest virtualenv the
//! end-to-end tests run Python with; included (`#[path]`) only by the tests that run
//! Python.

use std::path::{Path, PathBuf};

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

/// A copy of `fixtures/projects/NAME` in a temporary folder (tests must not share
/// working files), without bytecode caches or a profile left by a run.
pub fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("fixtures/projects").join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" && entry.file_name() != ".pyslim" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
