//! One Python file as loaded: where it is, its module name, its decoded text, and the
//! settings and transforms that apply to it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pyslim_transforms::{ModuleInfo, Settings, Transform};

use super::decode::DecodedSource;
use crate::engine::index::FirstPass;

/// One Python file to process.
pub struct ProjectFile {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its module name and display path.
    pub info: ModuleInfo,
    /// Its decoded text, read through [`ProjectFile::text`] (empty once released).
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
    /// Whether the text was dropped after indexing: a large tree's sources need not all
    /// stay in memory while the project index is built. A file only read for the index
    /// is never read again; a file to rewrite is read again by [`ProjectFile::restore`]
    /// when the fix loop needs its text. [`ProjectFile::original_bytes`] reads it from
    /// disk meanwhile.
    pub released: bool,
    /// A hash of the text as first read: the text read again must be the one indexed.
    /// `None` for a file no transform rewrites (only read for the index), which is
    /// never read again: most of a tree's files are its tests, spared the hashing.
    pub text_hash: Option<u64>,
}

impl ProjectFile {
    /// A file as read, before indexing: its text held, no first pass yet.
    pub fn new(
        path: PathBuf,
        info: ModuleInfo,
        source: DecodedSource,
        settings: Arc<Settings>,
        transforms: Vec<&'static dyn Transform>,
        indexed_by: Vec<&'static dyn Transform>,
    ) -> Self {
        Self {
            text_hash: (!transforms.is_empty()).then(|| text_hash(&source.text)),
            path,
            info,
            source,
            settings,
            transforms,
            indexed_by,
            first_pass: None,
            released: false,
        }
    }

    /// The file's bytes as read: re-read from disk when its text was released.
    pub fn original_bytes(&self) -> Vec<u8> {
        if self.released {
            std::fs::read(&self.path).unwrap_or_default()
        } else {
            self.source.original_bytes()
        }
    }

    /// The decoded text.
    ///
    /// # Panics
    /// When the text was released and not restored: reading an empty text instead would
    /// make every offset of the index wrong, so a path that forgot to restore it fails
    /// loudly.
    pub fn text(&self) -> &str {
        assert!(
            !self.released,
            "the text of {} was released after indexing and not read again",
            self.info.path
        );
        &self.source.text
    }

    /// Drops the text after indexing (see [`ProjectFile::released`]).
    pub fn release(&mut self) {
        self.source.text = String::new();
        self.released = true;
    }

    /// Reads a released text again. Fails when the file can no longer be read or no
    /// longer holds the text that was indexed (it changed while pyslim ran): its
    /// findings would point at the wrong places.
    pub fn restore(&mut self) -> Result<(), String> {
        if !self.released {
            return Ok(());
        }
        let bytes = std::fs::read(&self.path).map_err(|e| format!("cannot read again: {e}"))?;
        let source = DecodedSource::decode_owned(bytes)
            .map_err(|e| format!("changed while pyslim ran (now {e})"))?;
        match self.text_hash {
            Some(hash) if hash == text_hash(&source.text) => {}
            Some(_) => return Err("changed while pyslim ran; run pyslim again".to_string()),
            None => return Err("only read for the project index, not kept".to_string()),
        }
        self.source = source;
        self.released = false;
        Ok(())
    }
}

/// The hash [`ProjectFile::text_hash`] holds.
fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Which folders are packages (hold an `__init__.py`), each asked of the disk once:
/// the files of a folder, and of its subfolders, share the answers.
#[derive(Debug, Default)]
pub struct Packages {
    known: Mutex<HashMap<PathBuf, bool>>,
}

impl Packages {
    /// Whether `dir` holds an `__init__.py`.
    pub fn contains(&self, dir: &Path) -> bool {
        // A poisoned lock still holds answers read from the disk.
        let lock = || self.known.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&answer) = lock().get(dir) {
            return answer;
        }
        let answer = dir.join("__init__.py").is_file();
        lock().insert(dir.to_path_buf(), answer);
        answer
    }
}

/// Works out a file's module name: the directories above it that are packages (hold an
/// `__init__.py`) plus its stem. `display` is the path shown to the user.
pub fn module_info(path: &Path, display: String) -> ModuleInfo {
    module_info_among(path, display, &Packages::default())
}

/// [`module_info`], with what `packages` already knows of the folders above `path`.
pub fn module_info_among(path: &Path, display: String, packages: &Packages) -> ModuleInfo {
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
        if !packages.contains(d) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_the_packages_above_and_a_shared_cache_gives_the_same() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        for folder in ["pkg/sub", "pkg/plain/inner", "loose"] {
            std::fs::create_dir_all(root.join(folder)).expect("create the folders");
        }
        // `pkg/plain` holds no `__init__.py`: the chain above `inner` stops there.
        for file in [
            "pkg/__init__.py",
            "pkg/sub/__init__.py",
            "pkg/plain/inner/__init__.py",
        ] {
            std::fs::write(root.join(file), "").expect("write a package marker");
        }
        let files = [
            ("pkg/sub/mod.py", "pkg.sub.mod", false),
            ("pkg/sub/__init__.py", "pkg.sub", true),
            ("pkg/top.py", "pkg.top", false),
            ("pkg/plain/inner/deep.py", "inner.deep", false),
            ("pkg/plain/script.py", "script", false),
            ("loose/tool.py", "tool", false),
        ];
        let shared = Packages::default();
        for (path, name, is_package) in files {
            let path = root.join(path);
            let fresh = module_info(&path, String::new());
            let cached = module_info_among(&path, String::new(), &shared);
            assert_eq!((fresh.name.as_str(), fresh.is_package), (name, is_package));
            assert_eq!(cached, fresh);
        }
        // Asked once: the folders' answers were kept, not read from the disk again.
        std::fs::remove_file(root.join("pkg/sub/__init__.py")).expect("remove a marker");
        let again = module_info_among(&root.join("pkg/sub/mod.py"), String::new(), &shared);
        assert_eq!(again.name, "pkg.sub.mod");
        assert_eq!(
            module_info(&root.join("pkg/sub/mod.py"), String::new()).name,
            "mod"
        );
    }

    #[test]
    fn a_file_only_read_for_the_index_is_not_hashed_and_never_read_again() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("m.py");
        std::fs::write(&path, "x = 1\n").expect("write the test file");
        let read = |transforms: Vec<&'static dyn pyslim_transforms::Transform>| {
            let mut file = ProjectFile::new(
                path.clone(),
                module_info(&path, "m.py".to_string()),
                DecodedSource::decode(b"x = 1\n").expect("UTF-8"),
                Arc::new(Settings::default()),
                transforms,
                Vec::new(),
            );
            file.release();
            file
        };
        let mut indexed_only = read(Vec::new());
        assert_eq!(indexed_only.text_hash, None);
        assert!(indexed_only.restore().is_err());
        let mut rewritten = read(pyslim_transforms::registry::TRANSFORMS.to_vec());
        assert!(rewritten.text_hash.is_some());
        assert_eq!(rewritten.restore(), Ok(()));
        assert_eq!(rewritten.text(), "x = 1\n");
    }
}
