//! Using a profile in `check` and `rewrite`: each finding is matched to the profile's
//! candidate (same file, unchanged since the profile, same transform and offset), gets
//! its measured saving, and is applied only when the saving reaches `--min-saving`.
//! Files changed since the profile are said so and keep their unranked behaviour.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::schema::{Candidate, Impact, Measured, Profile};
use super::{relative_path, sha256};
use crate::engine::{ReportedFix, ReportedSubject};
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
    /// Below the threshold, but a `__slots__` rewrite that pays needs it (its base):
    /// applied, since without it the other saves nothing.
    Needed {
        /// Estimated bytes saved at the peak by this rewrite itself.
        saving: u64,
        /// How the estimate was made.
        estimate: String,
        /// The class whose rewrite needs it (`module.Qualname`).
        by: String,
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
            Verdict::Pays { .. } | Verdict::Needed { .. } | Verdict::Time { .. } | Verdict::Stale
        )
    }

    /// Estimated bytes saved at the peak (0 when unknown).
    pub fn saving(&self) -> u64 {
        match self {
            Verdict::Pays { saving, .. }
            | Verdict::Needed { saving, .. }
            | Verdict::Below { saving, .. } => *saving,
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
        for outcome in outcomes {
            let Ok(rewrite) = &outcome.result else {
                continue;
            };
            for fix in &rewrite.applied {
                fixes.push(RankedFix {
                    path: files[outcome.index].info.path.clone(),
                    fix: fix.clone(),
                    profile: self.verdict(outcome.index, fix),
                    index: outcome.index,
                });
            }
        }
        with_needed_bases(&mut fixes, |i| &files[i].info.name);
        let mut kept = vec![BTreeSet::new(); files.len()];
        let mut held_back = false;
        for f in &fixes {
            if f.profile.applies() {
                kept[f.index].insert(f.fix.key.clone());
            } else {
                held_back = true;
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

/// A `__slots__` rewrite saves what its estimate says only when every project base it
/// needs takes slots too (a base left with a dict gives every instance one): a base
/// below the threshold is applied for it ([`Verdict::Needed`]); a base the profile
/// holds back for another reason, or does not know, holds it back. To a fixpoint.
/// `module(i)`: the module name of file `i`.
fn with_needed_bases<'f>(fixes: &mut [RankedFix], module: impl Fn(usize) -> &'f str) {
    let class_of = |f: &RankedFix| f.fix.saving.subject.class_name(module(f.index));
    let by_class: HashMap<String, usize> = fixes
        .iter()
        .enumerate()
        .filter_map(|(i, f)| class_of(f).map(|c| (c, i)))
        .collect();
    loop {
        let mut changed = false;
        for i in 0..fixes.len() {
            let ReportedSubject::Class { needs, .. } = &fixes[i].fix.saving.subject else {
                continue;
            };
            if !fixes[i].profile.applies() {
                continue;
            }
            for need in needs.clone() {
                let base = by_class.get(&need).copied();
                match base.map(|j| &fixes[j].profile) {
                    Some(v) if v.applies() => {}
                    Some(Verdict::Below { saving, estimate }) => {
                        let needed = Verdict::Needed {
                            saving: *saving,
                            estimate: estimate.clone(),
                            by: class_of(&fixes[i]).unwrap_or_default(),
                        };
                        if let Some(j) = base {
                            fixes[j].profile = needed;
                        }
                        changed = true;
                    }
                    _ => {
                        fixes[i].profile = Verdict::Dropped {
                            reason: format!(
                                "its base `{need}` is not rewritten, so its instances keep a dict: no saving"
                            ),
                        };
                        changed = true;
                        break;
                    }
                }
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FixKey, ReportedSaving};
    use pyslim_transforms::{Applicability, Impact, PerUnit};

    fn slots_fix(qualname: &str, needs: &[&str], profile: Verdict) -> RankedFix {
        RankedFix {
            path: "m.py".into(),
            fix: ReportedFix {
                key: FixKey {
                    transform: "slots",
                    offset: 0,
                },
                line: 1,
                column: 1,
                message: String::new(),
                applicability: Applicability::Safe,
                impact: Impact::Memory,
                saving: ReportedSaving {
                    subject: ReportedSubject::Class {
                        qualname: qualname.into(),
                        slots: Vec::new(),
                        needs: needs.iter().map(|n| n.to_string()).collect(),
                    },
                    per_unit: PerUnit::Slots {
                        attributes: 1,
                        weakref: false,
                    },
                },
            },
            profile,
            index: 0,
        }
    }

    fn below(saving: u64) -> Verdict {
        Verdict::Below {
            saving,
            estimate: "few".into(),
        }
    }

    fn pays(saving: u64) -> Verdict {
        Verdict::Pays {
            saving,
            estimate: "many".into(),
        }
    }

    #[test]
    fn a_paying_subclass_brings_its_bases_and_a_held_back_base_holds_it_back() {
        // `C(B(A))` pays; `B` and `A` are below the threshold: both are applied for it.
        let mut fixes = [
            slots_fix("A", &[], below(10)),
            slots_fix("B", &["m.A"], below(20)),
            slots_fix("C", &["m.A", "m.B"], pays(5000)),
        ];
        with_needed_bases(&mut fixes, |_| "m");
        assert_eq!(
            fixes[0].profile,
            Verdict::Needed {
                saving: 10,
                estimate: "few".into(),
                by: "m.C".into()
            }
        );
        assert!(fixes.iter().all(|f| f.profile.applies()));
        // A base the run-time evidence drops holds its subclasses back, and so does one
        // that is not a candidate at all.
        let mut fixes = [
            slots_fix(
                "A",
                &[],
                Verdict::Dropped {
                    reason: "observed".into(),
                },
            ),
            slots_fix("B", &["m.A"], pays(5000)),
            slots_fix("D", &["m.Gone"], pays(5000)),
        ];
        with_needed_bases(&mut fixes, |_| "m");
        assert_eq!(
            fixes[1].profile,
            Verdict::Dropped {
                reason: "its base `m.A` is not rewritten, so its instances keep a dict: no saving"
                    .into()
            }
        );
        assert!(!fixes[2].profile.applies());
        // A subclass below the threshold brings nothing in.
        let mut fixes = [
            slots_fix("A", &[], below(10)),
            slots_fix("B", &["m.A"], below(20)),
        ];
        with_needed_bases(&mut fixes, |_| "m");
        assert!(fixes.iter().all(|f| !f.profile.applies()));
    }
}
