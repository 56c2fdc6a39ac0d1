//! What a transform returns: findings that carry a fix, and notes that explain why a
//! candidate was left alone.

pub use ruff_diagnostics::{Applicability, Edit, Fix};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::saving::Saving;

/// What a rewrite buys. Reports must not present a time rewrite as a memory saving (a
/// deque is slightly larger than a list: docs/memory-figures.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// Fewer bytes per object or a lower peak.
    Memory,
    /// Lower time complexity, no memory saving.
    Time,
}

/// One rewrite a transform proposes.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Name of the transform that produced it (`generator`, `slots`, ...).
    pub transform: &'static str,
    /// The construct being rewritten: its start gives the reported line and column, and
    /// the line a suppression comment must sit on.
    pub range: TextRange,
    /// One line for the user: what changes, what it saves, and why it is unsafe when it is.
    pub message: String,
    /// The edits and their applicability.
    pub fix: Fix,
    /// What the rewrite acts on and saves per unit of it, for ranking against a
    /// profile (and whether it is a memory or a time rewrite).
    pub saving: Saving,
}

impl Finding {
    /// Memory or time.
    pub fn impact(&self) -> Impact {
        self.saving.impact()
    }
}

/// A candidate a transform considered and left alone, with the reason (`--explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Name of the transform.
    pub transform: &'static str,
    /// The construct that was skipped.
    pub range: TextRange,
    /// Why it was skipped, as a short phrase.
    pub reason: String,
}

/// Everything one transform reports for one file.
#[derive(Debug, Default, Clone)]
pub struct Output {
    /// Proposed rewrites.
    pub findings: Vec<Finding>,
    /// Candidates left alone, with reasons.
    pub notes: Vec<Note>,
}

/// Applies non-overlapping edits to `source`.
pub fn apply_edits<'e>(source: &str, edits: impl Iterator<Item = &'e Edit>) -> String {
    let mut edits: Vec<&Edit> = edits.collect();
    edits.sort_by_key(|e| (e.start(), e.end()));
    let mut out = String::with_capacity(source.len() + 64);
    let mut at = 0usize;
    for edit in edits {
        let (start, end) = (edit.start().to_usize(), edit.end().to_usize());
        out.push_str(&source[at..start]);
        out.push_str(edit.content().unwrap_or(""));
        at = end;
    }
    out.push_str(&source[at..]);
    out
}

/// Whether two of `edits` cover the same text (an insertion inside another's range
/// included), which [`apply_edits`] cannot apply.
pub fn edits_overlap(edits: &[Edit]) -> bool {
    let mut ranges: Vec<(TextSize, TextSize)> =
        edits.iter().map(|e| (e.start(), e.end())).collect();
    ranges.sort();
    ranges.windows(2).any(|w| w[1].0 < w[0].1)
}
