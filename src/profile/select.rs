//! Using a profile in `check` and `rewrite`: each finding is matched to the profile's
//! candidate (same file, unchanged since the profile, same transform and offset), gets
//! its measured saving, and is applied only when the saving reaches `--min-saving`.
//! Files changed since the profile are said so and keep their unranked behaviour.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::schema::{Candidate, Impact, Measured, Profile};
use super::{relative_path, sha256};
use crate::engine::ReportedFix;
use crate::load::ProjectFile;

/// What the profile says of one finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Verdict {
    /// Its estimated saving at the peak reaches the threshold: applied.
    Pays {
        /// Estimated bytes saved at the peak.
        saving: u64,
        /// How the estimate was made.
        estimate: String,
    },
    /// A time rewrite the workload exercised: applied, reported under time.
    Time {
        /// What the probes counted.
        estimate: String,
    },
    /// Below the threshold: "no measurable payoff at the peak"; not applied.
    Below {
        /// Estimated bytes saved at the peak.
        saving: u64,
        /// How the estimate was made.
        estimate: String,
    },
    /// Run-time evidence against it: not applied.
    Dropped {
        /// The evidence.
        reason: String,
    },
    /// The profile does not know it (another configuration): not applied.
    Unknown,
    /// Its file changed since the profile: unranked, as without a profile.
    Stale,
}

impl Verdict {
    /// Whether the rewrite may be applied.
    pub fn applies(&self) -> bool {
        matches!(
            self,
            Verdict::Pays { .. } | Verdict::Time { .. } | Verdict::Stale
        )
    }

    /// Estimated bytes saved at the peak (0 when unknown).
    pub fn saving(&self) -> u64 {
        match self {
            Verdict::Pays { saving, .. } | Verdict::Below { saving, .. } => *saving,
            _ => 0,
        }
    }
}

/// A profile matched against the workspace's files.
pub struct Selection<'p> {
    /// The profile.
    pub profile: &'p Profile,
    /// The threshold, bytes.
    pub min_saving: u64,
    /// Files changed since the profile (relative to the project root).
    pub stale: BTreeSet<String>,
    /// Each file's path relative to the root (by index), for the ones the profile has.
    paths: Vec<Option<String>>,
    candidates: HashMap<(String, String, u32), &'p Candidate>,
}

impl<'p> Selection<'p> {
    /// Matches `profile` against `files` (read under `root`).
    pub fn new(
        profile: &'p Profile,
        files: &[ProjectFile],
        root: &Path,
        min_saving: u64,
    ) -> Selection<'p> {
        let mut stale = BTreeSet::new();
        let paths = files
            .iter()
            .map(|f| {
                let rel = relative_path(&f.path, root)?;
                match profile.files.get(&rel) {
                    Some(hash) if *hash == sha256(&f.original_bytes()) => Some(rel),
                    Some(_) => {
                        stale.insert(rel);
                        None
                    }
                    // A file the profile never saw (new): treated as changed.
                    None if !f.transforms.is_empty() => {
                        stale.insert(rel);
                        None
                    }
                    None => None,
                }
            })
            .collect();
        let candidates = profile
            .candidates
            .iter()
            .map(|c| ((c.path.clone(), c.transform.clone(), c.offset), c))
            .collect();
        Selection {
            profile,
            min_saving,
            stale,
            paths,
            candidates,
        }
    }

    /// The verdict for `fix` in file `index`.
    pub fn verdict(&self, index: usize, fix: &ReportedFix) -> Verdict {
        let Some(Some(path)) = self.paths.get(index) else {
            return Verdict::Stale;
        };
        let key = (path.clone(), fix.key.transform.to_string(), fix.key.offset);
        let Some(candidate) = self.candidates.get(&key) else {
            return Verdict::Unknown;
        };
        if let Some(reason) = &candidate.dropped {
            return Verdict::Dropped {
                reason: reason.clone(),
            };
        }
        if candidate.impact == Impact::Time {
            return match candidate.measured {
                Measured::Queue { calls, .. } if calls > 0 => Verdict::Time {
                    estimate: candidate.estimate.clone(),
                },
                _ => Verdict::Below {
                    saving: 0,
                    estimate: if candidate.estimate.is_empty() {
                        "the workload never reached it".into()
                    } else {
                        candidate.estimate.clone()
                    },
                },
            };
        }
        if candidate.saving >= self.min_saving {
            Verdict::Pays {
                saving: candidate.saving,
                estimate: candidate.estimate.clone(),
            }
        } else {
            Verdict::Below {
                saving: candidate.saving,
                estimate: candidate.estimate.clone(),
            }
        }
    }
}

/// One finding with the profile's verdict.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RankedFix {
    /// The file as shown to the user.
    pub path: String,
    /// The fix.
    #[serde(flatten)]
    pub fix: ReportedFix,
    /// What the profile says.
    pub profile: Verdict,
    /// Index of its file in the workspace.
    #[serde(skip)]
    pub index: usize,
}

/// The findings of a run ranked by a profile.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Every finding, applied ones first by saving, then the rest by saving.
    pub fixes: Vec<RankedFix>,
    /// Per file index, the fixes that may apply.
    pub kept: Vec<BTreeSet<crate::engine::FixKey>>,
    /// Whether some finding was held back (the fix loop must run again without it).
    pub held_back: bool,
}

impl Selection<'_> {
    /// Ranks the fixes the loop applied (`outcomes[i]` for file `i`), and says which
    /// may stay.
    pub fn rank(&self, files: &[ProjectFile], outcomes: &[crate::load::FileOutcome]) -> Ranked {
        let mut fixes = Vec::new();
        let mut kept = vec![BTreeSet::new(); files.len()];
        let mut held_back = false;
        for outcome in outcomes {
            let Ok(rewrite) = &outcome.result else {
                continue;
            };
            for fix in &rewrite.applied {
                let verdict = self.verdict(outcome.index, fix);
                if verdict.applies() {
                    kept[outcome.index].insert(fix.key.clone());
                } else {
                    held_back = true;
                }
                fixes.push(RankedFix {
                    path: files[outcome.index].info.path.clone(),
                    fix: fix.clone(),
                    profile: verdict,
                    index: outcome.index,
                });
            }
        }
        fixes.sort_by(|a, b| {
            b.profile
                .applies()
                .cmp(&a.profile.applies())
                .then(b.profile.saving().cmp(&a.profile.saving()))
                .then(a.path.cmp(&b.path))
                .then(a.fix.line.cmp(&b.fix.line))
        });
        Ranked {
            fixes,
            kept,
            held_back,
        }
    }
}
