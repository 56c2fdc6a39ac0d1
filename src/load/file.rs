//! One Python file as loaded: where it is, its module name, its decoded text, and the
//! settings and transforms that apply to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyslim_transforms::{ModuleInfo, Settings, Transform};

use super::decode::DecodedSource;
use crate::engine::index::FirstPass;

/// One Python file to process.
pub struct ProjectFile {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its module name and display path.
    pub info: ModuleInfo,
    /// Its decoded text.
    pub source: DecodedSource,
    /// The settings that apply to it.
    pub settings: Arc<Settings>,
    /// The transforms that may rewrite it, in registry order (empty for a file that is
    /// only read for the project index, such as tests outside the paths given).
    pub transforms: Vec<&'static dyn Transform>,
    /// The transforms whose project index reads it: those enabled by its configuration,
    /// including ones `per-file-ignores` keeps from rewriting it. A test file that sets
    /// an attribute on an instance must still be seen by `slots`.
    pub indexed_by: Vec<&'static dyn Transform>,
    /// The first pass of the fix loop as far as the indexing parse ran it
    /// ([`crate::engine::index::prepare`]); `None` until then, or after the settings
    /// changed (the fix loop then starts from a parse of its own).
    pub first_pass: Option<FirstPass>,
    /// Whether the text was dropped after indexing: a file only read for the project
    /// index is never rewritten, and a large tree's sources need not all stay in memory.
    /// [`ProjectFile::original_bytes`] reads such a file again.
    pub released: bool,
}

impl ProjectFile {
    /// The file's bytes as read: re-read from disk when its text was released.
    pub fn original_bytes(&self) -> Vec<u8> {
        if self.released {
            std::fs::read(&self.path).unwrap_or_default()
        } else {
            self.source.original_bytes()
        }
    }

    /// Drops the text of a file only read for the index (see [`ProjectFile::released`]).
    pub fn release(&mut self) {
        self.source.text = String::new();
        self.released = true;
    }
}

/// Works out a file's module name: the directories above it that are packages (hold an
/// `__init__.py`) plus its stem. `display` is the path shown to the user.
pub fn module_info(path: &Path, display: String) -> ModuleInfo {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_package = stem == "__init__";
    let mut parts = Vec::new();
    if !is_package {
        parts.push(stem);
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if !d.join("__init__.py").is_file() {
            break;
        }
        match d.file_name() {
            Some(name) => parts.push(name.to_string_lossy().into_owned()),
            None => break,
        }
        dir = d.parent();
    }
    parts.reverse();
    ModuleInfo {
        name: parts.join("."),
        is_package,
        path: display,
    }
}
