//! The project index: every enabled transform's facts about the whole project (which
//! classes are subclassed or written to from outside, which lists are imported
//! elsewhere), built from all files in parallel before any file is rewritten.
//!
//! Each file is parsed once for the index and the first pass of its fix loop together
//! ([`prepare`]): the transforms that do not read the project view run on that parse,
//! and those that do take from it all their run reads of the file
//! ([`Transform::prepare`]). The file keeps only their findings, notes and prepared
//! summaries, never the AST: holding every AST until the view exists would cost several
//! times the sources' size for a large tree. Once it exists, the first pass is
//! finished without parsing the file again; only a fix that applies makes a new text
//! to parse.

use std::any::Any;
use std::collections::HashMap;

use pyslim_transforms::suppression::Suppressions;
use pyslim_transforms::{
    FileContext, FileFacts, Finding, MayReport, ModuleInfo, Prepared, Transform, parse,
};
use rayon::prelude::*;

use super::ReportedNote;
use crate::load::ProjectFile;

/// Project-wide facts, per transform name.
pub type Facts = HashMap<&'static str, Box<dyn Any + Send + Sync>>;

/// One file's facts for the transforms that index it, by transform name.
pub type FileIndex = Vec<(&'static str, FileFacts)>;

/// What the indexing parse of a file found for the first pass of its fix loop.
#[derive(Default)]
pub struct FirstPass {
    /// The findings and notes of each transform that ran on that parse, suppressions
    /// applied, with the transform's position in [`ProjectFile::transforms`].
    pub outputs: Vec<(usize, Vec<Finding>, Vec<ReportedNote>)>,
    /// The transforms that read the project view and may report here, by position,
    /// each with what it took from the file: they finish once the view is built.
    pub pending: Vec<(usize, Prepared)>,
    /// The file's suppression comments, for what the pending transforms report.
    pub suppressions: Suppressions,
}

impl FirstPass {
    /// The pending transforms that may report in the file (`info`) once the project
    /// view is known, by position with what they prepared: those without a view, and
    /// those whose view says so (with `notes`, notes count).
    pub fn reporting<'a>(
        &'a self,
        transforms: &'a [&'static dyn Transform],
        facts: &'a Facts,
        info: &'a ModuleInfo,
        notes: bool,
    ) -> impl Iterator<Item = (usize, &'a Prepared)> + 'a {
        self.pending
            .iter()
            .filter(move |(_, prepared)| notes || prepared.may == MayReport::Fixes)
            .map(|(i, prepared)| (*i, prepared))
            .filter(move |&(i, _)| {
                let t = transforms[i];
                facts
                    .get(t.name())
                    .is_none_or(|project| t.reports_in(project.as_ref(), info, notes))
            })
    }
}

/// The transforms whose project index some file needs, in the order files name them.
pub fn indexing_transforms<'a>(
    lists: impl IntoIterator<Item = &'a [&'static dyn Transform]>,
) -> Vec<&'static dyn Transform> {
    let mut used: Vec<&'static dyn Transform> = Vec::new();
    for list in lists {
        for t in list {
            if t.needs_index() && !used.iter().any(|u| u.name() == t.name()) {
                used.push(*t);
            }
        }
    }
    used
}

/// Parses `file` once: its facts for every transform of `used` that indexes it, and
/// the first pass of its fix loop as far as it can run without the project view
/// (stored in the file). A file that does not parse contributes nothing (its error is
/// reported when it is rewritten).
pub fn prepare(file: &mut ProjectFile, used: &[&'static dyn Transform]) -> FileIndex {
    let indexes = file
        .indexed_by
        .iter()
        .any(|t| t.needs_index() && used.iter().any(|u| u.name() == t.name()));
    if !indexes && file.transforms.is_empty() {
        return Vec::new();
    }
    let Ok(module) = parse(file.text()) else {
        return Vec::new();
    };
    let ctx = |project, read_only| FileContext {
        module: &module,
        info: &file.info,
        settings: &file.settings,
        project,
        read_only,
    };
    let facts = file
        .indexed_by
        .iter()
        .filter(|t| t.needs_index() && used.iter().any(|u| u.name() == t.name()))
        .filter_map(|t| {
            let read_only = !file.transforms.iter().any(|r| r.name() == t.name());
            t.index_file(&ctx(None, read_only))
                .map(|facts| (t.name(), facts))
        })
        .collect();
    let mut first = FirstPass::default();
    // Built on first need: most files have nothing to report.
    let suppressions = std::sync::OnceLock::new();
    let locate = |offset| module.line_column(offset);
    for (position, transform) in file.transforms.iter().enumerate() {
        if transform.run_needs_project() {
            let prepared = transform.prepare(&ctx(None, false));
            if prepared.may != MayReport::Nothing {
                first.pending.push((position, prepared));
            }
            continue;
        }
        let output = transform.run(&ctx(None, false));
        if output.findings.is_empty() && output.notes.is_empty() {
            continue;
        }
        let suppressions = suppressions.get_or_init(|| Suppressions::from_module(&module));
        let (findings, notes) = super::fix_loop::unsuppressed(suppressions, output, locate);
        first.outputs.push((position, findings, notes));
    }
    if !first.pending.is_empty() {
        first.suppressions = suppressions
            .into_inner()
            .unwrap_or_else(|| Suppressions::from_module(&module));
    }
    file.first_pass = Some(first);
    facts
}

/// Combines the files' facts (in the engine's deterministic file order) into each
/// transform's project view.
pub fn combine(per_file: Vec<FileIndex>, used: &[&'static dyn Transform]) -> Facts {
    // The ASTs are gone and the decisions are about to allocate: measured on the
    // stdlib, the peak RSS of a `check` fell 49.1 -> 46.8 MiB at the same speed.
    super::pages::release();
    let mut grouped: HashMap<&'static str, Vec<FileFacts>> = HashMap::new();
    for facts in per_file {
        for (name, f) in facts {
            grouped.entry(name).or_default().push(f);
        }
    }
    let views: Vec<(&'static dyn Transform, Vec<FileFacts>)> = used
        .iter()
        .map(|t| (*t, grouped.remove(t.name()).unwrap_or_default()))
        .collect();
    // One after another, in the registry's order (the slots decision, most of this
    // stage, last; it uses every core where it can): each view frees its files'
    // facts before the next allocates, on the same thread, which reuses their pages.
    // Built side by side, the slots decision allocated in another core's arena while
    // the tuple view's freed pages stayed resident: peak RSS of a whole-stdlib check
    // 0.5 MiB higher, for a wall time the same within the noise.
    views
        .into_iter()
        .filter_map(|(t, facts)| t.index_project(facts).map(|project| (t.name(), project)))
        .collect()
}

/// Builds every enabled transform's project index over files already loaded, and
/// each file's first pass (see [`prepare`]).
pub fn index(files: &mut [ProjectFile]) -> Facts {
    let used = indexing_transforms(files.iter().map(|f| f.indexed_by.as_slice()));
    let per_file: Vec<FileIndex> = files
        .par_iter_mut()
        .map(|file| prepare(file, &used))
        .collect();
    combine(per_file, &used)
}
