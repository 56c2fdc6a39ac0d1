//! A project as the engine sees it: the files to process, each with its module name,
//! settings and transforms, the project-wide index built from all of them, and the fix
//! loop run over every file in parallel with results in a deterministic order.

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyslim_transforms::{FileContext, ModuleInfo, Settings, SyntaxError, Transform, parse};
use rayon::prelude::*;

use crate::engine::{self, FileJob, FixPolicy, Rewrite};
use crate::source::DecodedSource;

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
}

/// Project-wide facts, per transform name.
pub type Facts = HashMap<&'static str, Box<dyn Any + Send + Sync>>;

/// Builds every enabled transform's project index. Files that do not parse contribute
/// nothing (they are reported when rewritten).
pub fn index(files: &[ProjectFile]) -> Facts {
    let mut used: Vec<&'static dyn Transform> = Vec::new();
    for file in files {
        for t in &file.indexed_by {
            if t.needs_index() && !used.iter().any(|u| u.name() == t.name()) {
                used.push(*t);
            }
        }
    }
    if used.is_empty() {
        return Facts::new();
    }
    // One parse per file for all transforms; only the summaries outlive it.
    let per_file: Vec<Vec<(&'static str, pyslim_transforms::FileFacts)>> = files
        .par_iter()
        .map(|file| {
            if !file.indexed_by.iter().any(|t| t.needs_index()) {
                return Vec::new();
            }
            let Ok(module) = parse(&file.source.text) else {
                return Vec::new();
            };
            file.indexed_by
                .iter()
                .filter(|t| t.needs_index() && used.iter().any(|u| u.name() == t.name()))
                .filter_map(|t| {
                    let ctx = FileContext {
                        module: &module,
                        info: &file.info,
                        settings: &file.settings,
                        project: None,
                    };
                    t.index_file(&ctx).map(|facts| (t.name(), facts))
                })
                .collect()
        })
        .collect();
    let mut grouped: HashMap<&'static str, Vec<(ModuleInfo, pyslim_transforms::FileFacts)>> =
        HashMap::new();
    for (file, facts) in files.iter().zip(per_file) {
        for (name, f) in facts {
            grouped
                .entry(name)
                .or_default()
                .push((file.info.clone(), f));
        }
    }
    let mut out = Facts::new();
    for t in used {
        let facts = grouped.remove(t.name()).unwrap_or_default();
        if let Some(project) = t.index_project(facts) {
            out.insert(t.name(), project);
        }
    }
    out
}

/// Runs the fix loop over every file in parallel; results come back in `files` order.
pub fn rewrite_all(
    files: &[ProjectFile],
    facts: &Facts,
    policy: &FixPolicy,
) -> Vec<Result<Rewrite, SyntaxError>> {
    files
        .par_iter()
        .map(|file| rewrite_file(file, facts, policy))
        .collect()
}

/// Runs the fix loop on one file; a file read only for the index is left as it is.
fn rewrite_file(
    file: &ProjectFile,
    facts: &Facts,
    policy: &FixPolicy,
) -> Result<Rewrite, SyntaxError> {
    if file.transforms.is_empty() {
        return Ok(Rewrite::default());
    }
    let job = FileJob {
        info: &file.info,
        settings: &file.settings,
        transforms: &file.transforms,
        facts,
    };
    engine::rewrite(&file.source.text, &job, policy)
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

/// Runs the fix loop over every file, each with its own set of allowed fixes
/// (`kept[i]` for `files[i]`; verification keeps only the fixes its tests accepted).
pub fn rewrite_kept(
    files: &[ProjectFile],
    facts: &Facts,
    unsafe_fixes: bool,
    kept: &[std::collections::BTreeSet<engine::FixKey>],
) -> Vec<Result<Rewrite, SyntaxError>> {
    files
        .par_iter()
        .enumerate()
        .map(|(index, file)| {
            let keep = |key: &engine::FixKey| kept.get(index).is_some_and(|k| k.contains(key));
            let policy = FixPolicy {
                unsafe_fixes,
                keep: Some(&keep),
            };
            rewrite_file(file, facts, &policy)
        })
        .collect()
}
