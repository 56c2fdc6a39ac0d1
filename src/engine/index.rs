//! The project index: every enabled transform's facts about the whole project (which
//! classes are subclassed or written to from outside, which lists are imported
//! elsewhere), built once from all files in parallel before any file is rewritten.

use std::any::Any;
use std::collections::HashMap;

use pyslim_transforms::{FileContext, ModuleInfo, Transform, parse};
use rayon::prelude::*;

use crate::load::ProjectFile;

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
