//! What a transform returns: findings that carry a fix, and notes that explain why a
//! candidate was left alone.

pub use ruff_diagnostics::{Applicability, Edit, Fix};
use ruff_text_size::TextRange;

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
