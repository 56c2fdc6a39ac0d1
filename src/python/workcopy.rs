//! The working copy the tests run on: a copy of the project root without bytecode
//! caches, version control or virtualenvs, in a temporary folder removed on drop. The
//! user's files are never written during verification.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Folder names never copied: caches (stale bytecode must not run), version control,
/// and environments (large, and used from their original place).
const SKIPPED: &[&str] = &[
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "target",
];

/// A temporary copy of the project.
pub struct WorkingCopy {
    dir: tempfile::TempDir,
    /// The copy's root (the project root's counterpart).
    pub root: PathBuf,
}

impl WorkingCopy {
    /// Copies `root` into a new temporary folder, skipping `SKIPPED` folders and
    /// `skip` (the venv when it lives inside the project).
    pub fn new(root: &Path, skip: &Path) -> Result<WorkingCopy> {
        let dir = tempfile::Builder::new()
            .prefix("pyslim-verify-")
            .tempdir()
            .context("cannot create the working copy")?;
        let name = root.file_name().map_or("project".into(), |n| n.to_owned());
        let copy_root = dir.path().join(name);
        copy_tree(root, &copy_root, skip)
            .with_context(|| format!("cannot copy {} to a working copy", root.display()))?;
        Ok(WorkingCopy {
            dir,
            root: copy_root,
        })
    }

    /// The temporary folder holding the copy.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn copy_tree(from: &Path, to: &Path, skip: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&path)?, &target)?;
        } else if kind.is_dir() {
            let name = entry.file_name();
            if SKIPPED.iter().any(|s| name == *s) || path == skip {
                continue;
            }
            copy_tree(&path, &target, skip)?;
        } else if kind.is_file() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".pyc") || name.ends_with(".pyo") {
                continue;
            }
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}
