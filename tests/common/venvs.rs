//! Virtualenvs made for one test: bare ones whose `.pth` files say what they import
//! (the test virtualenv's packages, a project from some folder). Included (`#[path]`)
//! by the tests that build them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::projects::venv;

/// A virtualenv at `path` with nothing installed, made by the test virtualenv's Python.
pub fn bare_venv(path: &Path) {
    let status = Command::new(venv().join("bin/python"))
        .args(["-m", "venv", "--without-pip"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The `site-packages` folder of a virtualenv.
pub fn site_packages(venv: &Path) -> PathBuf {
    std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages")
}

/// A bare virtualenv at `project/.venv` that imports what the test virtualenv has and
/// the `src/` packages of `owner`: the project itself (an editable install) or
/// another copy of it (the project installed from another folder).
pub fn venv_importing_src_of(project: &Path, owner: &Path) -> PathBuf {
    let inner = project.join(".venv");
    bare_venv(&inner);
    std::fs::write(
        site_packages(&inner).join("src.pth"),
        format!(
            "{}\n{}\n",
            site_packages(&venv()).display(),
            owner.join("src").display()
        ),
    )
    .unwrap();
    inner
}
