//! The engine: the fix loop on each file (`fix_loop.rs`), run over a whole project in
//! parallel after its index is built ([`mod@index`]), with the keys and policies that let
//! verification and profiles choose which fixes apply.
//!
//! Works on text only; reading, writing and discovery live elsewhere.

mod fix_loop;
pub mod index;
pub mod pages;

pub use fix_loop::{rewrite, rewrite_from};
pub use index::{Facts, index};
pub use pyslim_transforms::fix::{apply_edits, edits_overlap};

use std::any::Any;
use std::collections::HashMap;

use pyslim_transforms::{
    Applicability, Finding, Impact, ModuleInfo, PerUnit, Settings, SyntaxError, Transform,
};
use rayon::prelude::*;

use crate::load::ProjectFile;

/// Passes before the loop gives up. Each pass applies every non-overlapping fix, so only
/// nested rewrites need a second pass; ten means something keeps undoing itself.
pub const MAX_PASSES: usize = 10;

/// Identifies one fix across runs: the transform and where its construct starts in the
/// original text. Verification drops fixes by key and re-runs the loop without them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FixKey {
    /// The transform's name.
    pub transform: &'static str,
    /// Byte offset of the construct in the original text.
    pub offset: u32,
}

/// Which fixes the loop may apply.
pub struct FixPolicy<'a> {
    /// Apply `unsafe` fixes too (`--unsafe`, or under `--verify`).
    pub unsafe_fixes: bool,
    /// Further filter by key (verification drops culprits through this).
    pub keep: Option<&'a (dyn Fn(&FixKey) -> bool + Sync)>,
}

impl FixPolicy<'_> {
    /// Whether the fix's applicability allows it (`--unsafe`).
    fn applicable(&self, finding: &Finding) -> bool {
        match finding.fix.applicability() {
            Applicability::Safe => true,
            Applicability::Unsafe => self.unsafe_fixes,
            Applicability::DisplayOnly => false,
        }
    }

    /// Whether the caller keeps it (verification, a profile).
    fn keeps(&self, key: &FixKey) -> bool {
        self.keep.is_none_or(|keep| keep(key))
    }
}

/// One fix as reported to the user, in the original file's coordinates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportedFix {
    /// Stable identity of the fix.
    pub key: FixKey,
    /// 1-based line in the original file.
    pub line: usize,
    /// 1-based column in the original file.
    pub column: usize,
    /// The transform's message.
    pub message: String,
    /// Whether the fix is applied by default (`safe`) or only with `--unsafe` or under
    /// `--verify` (`unsafe`); spelled [`applicability_name`] in JSON and text.
    #[serde(serialize_with = "serialize_applicability")]
    pub applicability: Applicability,
    /// Memory or time.
    pub impact: Impact,
    /// What the rewrite acts on, in the original file's coordinates, and what it saves
    /// per unit of it: what a profile ranks it by.
    pub saving: ReportedSaving,
}

/// A span of the original file: its first line and its byte range.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    /// 1-based line of the start.
    pub line: usize,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset of the end.
    pub end: u32,
}

/// [`pyslim_transforms::Subject`] in the original file's coordinates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ReportedSubject {
    /// The instances of a class of this file's module.
    Class {
        /// Its `__qualname__`.
        qualname: String,
        /// The attributes its own slots will hold.
        slots: Vec<String>,
        /// The project bases (`module.Qualname`) whose rewrite it needs: without any
        /// one of them its instances keep a dict, and it saves nothing.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        needs: Vec<String>,
    },
    /// The lists made at `created` and grown at `filled`.
    Lists {
        /// The expression that makes them.
        created: Place,
        /// Where elements are added.
        filled: Vec<Place>,
    },
    /// The list one expression builds each time it runs, consumed once.
    Transient {
        /// The expression.
        at: Place,
    },
    /// A list used as a queue.
    Queue {
        /// The expression that makes it.
        created: Place,
        /// Its front operations.
        calls: Vec<Place>,
    },
}

impl ReportedSubject {
    /// For a class of the module `module`: `module.Qualname`, the name other
    /// rewrites' `needs` give it.
    pub fn class_name(&self, module: &str) -> Option<String> {
        match self {
            ReportedSubject::Class { qualname, .. } => Some(format!("{module}.{qualname}")),
            _ => None,
        }
    }
}

/// A fix's saving as reported: its subject and the saving per unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportedSaving {
    /// What it acts on.
    pub subject: ReportedSubject,
    /// What it saves per unit of that.
    pub per_unit: PerUnit,
}

/// A candidate a transform left alone, in original coordinates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportedNote {
    /// The transform's name.
    pub transform: &'static str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Why it was left alone.
    pub reason: String,
}

/// The outcome of the fix loop on one file.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    /// The rewritten text; `None` when nothing applied (most files: not copying them
    /// keeps a whole-tree run's memory to one copy of the sources).
    pub output: Option<String>,
    /// Fixes applied, in source order.
    pub applied: Vec<ReportedFix>,
    /// Fixes found but not allowed by the policy (unsafe without `--unsafe`).
    pub withheld: Vec<ReportedFix>,
    /// Candidates left alone (from the first pass).
    pub notes: Vec<ReportedNote>,
    /// Fixes dropped because their result did not parse, or a loop that did not settle.
    pub internal_errors: Vec<String>,
}

/// What the loop needs to know about one file besides its text.
pub struct FileJob<'a> {
    /// Its place in the project.
    pub info: &'a ModuleInfo,
    /// Its settings (the closest config file's).
    pub settings: &'a Settings,
    /// The transforms enabled for it, in registry order.
    pub transforms: &'a [&'static dyn Transform],
    /// Project-wide facts per transform name.
    pub facts: &'a HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

/// The user-facing name of an applicability level: `safe`, `unsafe`, `display-only`.
pub fn applicability_name(applicability: Applicability) -> &'static str {
    match applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display-only",
    }
}

/// Writes an applicability as its user-facing name: ruff's own serde spelling
/// (`displayonly`) is not the one pyslim's JSON schema documents.
fn serialize_applicability<S: serde::Serializer>(
    applicability: &Applicability,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(applicability_name(*applicability))
}

/// Runs the fix loop over every file in parallel; results come back in `files` order.
/// Without `notes` (output that shows none), files where a transform could only leave
/// a note are not read again.
pub fn rewrite_all(
    files: &[ProjectFile],
    facts: &Facts,
    policy: &FixPolicy,
    notes: bool,
) -> Vec<Result<Rewrite, SyntaxError>> {
    files
        .par_iter()
        .map(|file| rewrite_file(file, facts, policy, notes))
        .collect()
}

/// Runs the fix loop over every file in parallel with a profile's observations in
/// each file's settings (results in `files` order).
pub fn rewrite_all_observed(
    files: &[ProjectFile],
    facts: &Facts,
    policy: &FixPolicy,
    observed: &std::sync::Arc<pyslim_transforms::observed::Observed>,
) -> Vec<Result<Rewrite, SyntaxError>> {
    files
        .par_iter()
        .map(|file| {
            let settings = Settings {
                observed: Some(observed.clone()),
                ..(*file.settings).clone()
            };
            // The first pass ran without the observations: run it again with them.
            rewrite_file_with(file, &settings, facts, policy, None, true)
        })
        .collect()
}

/// Whether the fix loop, started from `first` (`None`: from a parse of its own), needs
/// `file`'s text: it has a transform to run and its first pass either did not run,
/// found something, or left a transform that reads the project view and may report
/// here. The loop itself asks the same ([`rewrite_from`]), so a file for which this is
/// false is never read.
pub fn needs_text(
    file: &ProjectFile,
    first: Option<&index::FirstPass>,
    facts: &Facts,
    notes: bool,
) -> bool {
    if file.transforms.is_empty() {
        return false;
    }
    let Some(first) = first else {
        return true;
    };
    !first.outputs.is_empty()
        || first
            .reporting(&file.transforms, facts, &file.info, notes)
            .next()
            .is_some()
}

/// Runs the fix loop on one file; a file read only for the index is left as it is.
/// Without `notes`, a file where a transform could only leave a note is not read
/// again.
pub fn rewrite_file(
    file: &ProjectFile,
    facts: &Facts,
    policy: &FixPolicy,
    notes: bool,
) -> Result<Rewrite, SyntaxError> {
    let first = file.first_pass.as_ref();
    rewrite_file_with(file, &file.settings, facts, policy, first, notes)
}

fn rewrite_file_with(
    file: &ProjectFile,
    settings: &Settings,
    facts: &Facts,
    policy: &FixPolicy,
    first: Option<&index::FirstPass>,
    notes: bool,
) -> Result<Rewrite, SyntaxError> {
    if !needs_text(file, first, facts, notes) {
        // Nothing to run, or a first pass that found nothing with nothing pending that
        // reports here: its text was released after indexing and is not read again.
        return Ok(Rewrite::default());
    }
    let job = FileJob {
        info: &file.info,
        settings,
        transforms: &file.transforms,
        facts,
    };
    rewrite_from(file.text(), &job, policy, first, notes)
}

/// Runs the fix loop over every file, each with its own set of allowed fixes
/// (`kept[i]` for `files[i]`; verification keeps only the fixes its tests accepted).
pub fn rewrite_kept(
    files: &[ProjectFile],
    facts: &Facts,
    unsafe_fixes: bool,
    kept: &[std::collections::BTreeSet<FixKey>],
) -> Vec<Result<Rewrite, SyntaxError>> {
    files
        .par_iter()
        .enumerate()
        .map(|(index, file)| rewrite_file_kept(file, facts, unsafe_fixes, kept.get(index)))
        .collect()
}

/// Runs the fix loop on one file with only the fixes in `kept` allowed (none when
/// `None`); see [`rewrite_kept`].
pub fn rewrite_file_kept(
    file: &ProjectFile,
    facts: &Facts,
    unsafe_fixes: bool,
    kept: Option<&std::collections::BTreeSet<FixKey>>,
) -> Result<Rewrite, SyntaxError> {
    let keep = |key: &FixKey| kept.is_some_and(|k| k.contains(key));
    let policy = FixPolicy {
        unsafe_fixes,
        keep: Some(&keep),
    };
    rewrite_file(file, facts, &policy, true)
}
