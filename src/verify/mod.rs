//! `pyslim rewrite --verify`: the project's tests decide which candidate rewrites are
//! correct, per-test memory runs decide which are worth keeping, and, with a
//! workload, the workload is measured before and after.
//!
//! A pipeline of named phases, all on temporary copies of the project (the user's
//! files are untouched until the CLI writes the kept rewrites):
//!
//! 1. **baseline**: the suite without rewrites, on a copy
//!    instrumented to record which fix's code each test reaches
//!    ([`reach`]); beside it (two cores), the suite with every candidate;
//! 2. **candidates**: what the all-candidates run broke,
//!    and the fixes no test reaches ("not exercised": kept only when safe);
//! 3. **search**: the culprit search
//!    ([`bisect::drop_culprits`]) among the fixes that reach the broken tests, in
//!    groups whose tests do not overlap, each running only its broken tests; a test
//!    module that no longer imports is searched among the fixes in the modules it
//!    imports, collecting only that module, and after each such search one collection
//!    of the other broken modules says which still need one;
//! 4. **memory**: the tests that reach a kept memory fix,
//!    before and after, interleaved, each test's peak measured by the allocation meter;
//!    noisy tests (their peak varies between identical runs) stay out of the gate;
//! 5. **attribution**: per transform, and a transform
//!    whose change is a real increase is dropped (its fixes, then the survivors
//!    re-checked);
//! 6. **workload** ([`workload`]): with a workload, its traced peak and peak RSS before and
//!    after, and its output, which must not change.
//!
//! Every run is a fresh worker process ([`crate::python::worker`]); only pytest exit 0
//! or 1 with a complete result is a verdict ([`crate::python::runner`]). A change in
//! memory is real only with at least 3 runs per side and above max(4 KiB, 3x the
//! spread) ([`crate::python::stats`]).
//!
//! # JSON (`rewrite --verify --format json`, key `"verify"`)
//!
//! [`VerifyReport`] serialized; every field is documented on the types below. Sizes
//! are bytes, times seconds. Shape:
//!
//! ```text
//! {
//!   "python": {"mode": "embedded" | "venv-interpreter", "venv": "/p/.venv",
//!              "venv_version": "3.11.7", "linked_version": "3.11.7"},
//!   "pytest_args": ["tests"],
//!   "baseline_failures": ["tests/test_x.py::test_known_bug"],
//!   "baseline_collection_errors": ["tests/test_y.py"],
//!   "baseline_tests": 120,
//!   "flaky_tests": ["tests/test_t.py::test_timing"],
//!   "noisy_tests": ["tests/test_t.py::test_threads"],
//!   "fixes": [{"path": "pkg/m.py", "key": {"transform": "generator", "offset": 120},
//!              "line": 7, "column": 12, "message": "…", "applicability": "unsafe",
//!              "impact": "memory", "saving": {…}, "kept": false, "tests": 4,
//!              "dropped_because": {"kind": "tests", "tests": ["tests/test_m.py::test_a"]}
//!                | {"kind": "collection", "modules": ["tests/test_m.py"], "text": "…"}
//!                | {"kind": "inconclusive", "cause": "timed out …"}
//!                | {"kind": "not-exercised"}
//!                | {"kind": "memory-increase", "change": 8192}
//!                | {"kind": "workload-output", "detail": "…"}
//!                | {"kind": "workload-increase", "change": 8192}
//!                | {"kind": "base-dropped", "base": "pkg.mod.Base"}}],
//!   "runs": 9, "bisection_runs": 3, "seconds": 12.5,
//!   "phases": [{"phase": "baseline", "runs": 2, "seconds": 3.1, "tests": 240}, …],
//!   "memory": null | {"runs_per_side": 3, "tests_measured": 12,
//!      "tests": [{"test": "tests/test_m.py::test_big",
//!                 "before": {"median": 8000000, "min": 7999000, "max": 8001000},
//!                 "after": {"median": 900, "min": 880, "max": 950},
//!                 "change": -7999100, "threshold": 6000, "real": true, "runs": 3}],
//!      "total": null | {"before": …, "after": …, "change": …, "threshold": …, "real": …}},
//!   "attribution": [{"transform": "generator", "fixes": 4, "total": null | {…}}],
//!   "workload": null | WorkloadReport (see `workload.rs`),
//!   "skipped_runs": [{"run": "after #2", "cause": "…"}]
//! }
//! ```
//!
//! `memory.tests` holds the tests that passed with a peak in every memory run, largest
//! change first; `threshold` is max(4 KiB, 3x the larger min-max spread) and `real`
//! says whether `|change|` exceeds it with at least 3 runs per side.

pub mod bisect;
mod judge;
mod measure;
pub mod memory;
mod pipeline;
pub mod reach;
mod search;
pub mod workload;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::engine::{Facts, FixKey, ReportedFix};
use crate::load::ProjectFile;
use crate::python::PythonInfo;
use crate::python::stats::Change;
use memory::MemoryReport;

/// What to verify and how.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The project root: copied as the working copy; pytest runs there.
    pub root: PathBuf,
    /// The venv given by `--venv` or `[verify] venv` (else found as users expect).
    pub venv: Option<PathBuf>,
    /// pytest arguments (`[verify] args`, `--tests`).
    pub args: Vec<String>,
    /// Memory runs per side (at least 1).
    pub repeat: usize,
    /// Limit per run the user set; `None`: 600 s for the baseline, then derived from
    /// its measured time.
    pub timeout: Option<Duration>,
    /// Whether unsafe fixes are candidates.
    pub unsafe_fixes: bool,
    /// Stop with an error instead of falling back to the venv's interpreter when its
    /// Python differs from the linked one.
    pub require_embedded: bool,
    /// Show progress bars on stderr (only drawn when it is a terminal).
    pub progress: bool,
    /// The pyslim binary providing `__worker` (default: the current executable).
    pub worker_exe: Option<PathBuf>,
    /// The workload to measure before and after, with the profile's estimates.
    pub workload: Option<workload::WorkloadRequest>,
}

/// Why a fix was dropped.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Blame {
    /// Tests that passed at baseline and failed with the fix.
    Tests {
        /// pytest node ids.
        tests: Vec<String>,
    },
    /// Test modules that imported at baseline and no longer do.
    Collection {
        /// Their node ids.
        modules: Vec<String>,
        /// The first error line.
        text: String,
    },
    /// The run with the fix could not be judged.
    Inconclusive {
        /// The cause.
        cause: String,
    },
    /// No test reaches it, and it is unsafe: nothing verified it.
    NotExercised,
    /// Its transform's measured effect on the tests' peaks was a real increase.
    MemoryIncrease {
        /// The attributed change, bytes.
        change: i64,
    },
    /// The workload's output changed with it.
    WorkloadOutput {
        /// What changed.
        detail: String,
    },
    /// Its measured effect on the workload's peak was a real increase.
    WorkloadIncrease {
        /// The change, bytes.
        change: i64,
    },
    /// A `__slots__` rewrite whose project base's rewrite was dropped: the base keeps
    /// a dict for every instance, so it would save nothing.
    BaseDropped {
        /// The base, `module.Qualname`.
        base: String,
    },
}

impl std::fmt::Display for Blame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blame::Tests { tests } => write!(f, "broke {}", tests.join(", ")),
            Blame::Collection { modules, text } if text.is_empty() => {
                write!(f, "broke the import of {}", modules.join(", "))
            }
            Blame::Collection { modules, text } => {
                write!(f, "broke the import of {} ({text})", modules.join(", "))
            }
            Blame::Inconclusive { cause } => write!(f, "run inconclusive: {cause}"),
            Blame::NotExercised => write!(
                f,
                "not exercised by the tests, and unsafe: nothing verified it"
            ),
            Blame::MemoryIncrease { change } => write!(
                f,
                "its transform raised the tests' peaks by {} (a real increase)",
                crate::report::bytes(*change, false)
            ),
            Blame::WorkloadOutput { detail } => {
                write!(f, "changed the workload's output ({detail})")
            }
            Blame::WorkloadIncrease { change } => write!(
                f,
                "raised the workload's traced peak by {} (a real increase)",
                crate::report::bytes(*change, false)
            ),
            Blame::BaseDropped { base } => write!(
                f,
                "its base `{base}` was dropped and keeps a __dict__, so it would save nothing"
            ),
        }
    }
}

impl Blame {
    /// One line for summaries: at most three tests, the cause's first line (the JSON
    /// has everything).
    pub fn short(&self) -> String {
        match self {
            Blame::Tests { tests } if tests.len() > 3 => {
                format!(
                    "broke {} and {} more",
                    tests[..3].join(", "),
                    tests.len() - 3
                )
            }
            Blame::Inconclusive { cause } => {
                let first = cause.split("; last output:").next().unwrap_or(cause);
                let detail = cause
                    .lines()
                    .map(str::trim)
                    .find(|l| l.starts_with("E ") || l.starts_with("ERROR "));
                match detail {
                    Some(d) => format!("run inconclusive: {first} ({d})"),
                    None => format!("run inconclusive: {first}"),
                }
            }
            _ => self.to_string(),
        }
    }
}

/// One candidate fix and its fate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FixOutcome {
    /// The file, as shown to the user.
    pub path: String,
    /// The fix (key, line, column, message, applicability, impact, saving).
    #[serde(flatten)]
    pub fix: ReportedFix,
    /// Whether it survived verification.
    pub kept: bool,
    /// Tests that reach its code (`None`: not known; every test may).
    pub tests: Option<usize>,
    /// For a dropped fix: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_because: Option<Blame>,
}

/// Savings of one transform's fixes applied alone.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attribution {
    /// The transform.
    pub transform: String,
    /// Its surviving fixes.
    pub fixes: usize,
    /// Total peak over the tests whose change was real, in runs of only those tests:
    /// without fixes vs. with only this transform's fixes (absent when no change was
    /// real or the runs failed). With a single transform: the overall total.
    pub total: Option<Change>,
}

/// A run that produced no usable figures (memory, attribution and workload runs).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedRun {
    /// Which run.
    pub run: String,
    /// Why its figures were not used.
    pub cause: String,
}

/// Runs, tests and time of one phase.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PhaseStat {
    /// `baseline`, `search`, `memory`, `attribution`, `workload`.
    pub phase: String,
    /// Worker runs.
    pub runs: usize,
    /// Wall time.
    pub seconds: f64,
    /// Tests those runs ran, in all (selected tests count once per run).
    pub tests: usize,
}

/// Everything verification established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The interpreter used.
    pub python: PythonInfo,
    /// The user's pytest arguments (pyslim adds `-p no:cacheprovider
    /// --continue-on-collection-errors` in front).
    pub pytest_args: Vec<String>,
    /// Tests that already failed at baseline (not blamed on pyslim).
    pub baseline_failures: Vec<String>,
    /// What pytest could not collect at baseline (test modules or classes, by node
    /// id): the tests they hold ran neither before nor after, so they verified nothing.
    pub baseline_collection_errors: Vec<String>,
    /// Tests in the baseline run.
    pub baseline_tests: usize,
    /// Tests that failed and then passed on a re-run of the same code: not blamed.
    pub flaky_tests: Vec<String>,
    /// Tests whose peak varies between identical runs: left out of the memory gate.
    pub noisy_tests: Vec<String>,
    /// Every candidate fix, in file order, with its fate.
    pub fixes: Vec<FixOutcome>,
    /// Worker runs in all.
    pub runs: usize,
    /// Of which spent finding culprits.
    pub bisection_runs: usize,
    /// Wall time of the whole verification.
    pub seconds: f64,
    /// Runs, tests and time per phase, in order.
    pub phases: Vec<PhaseStat>,
    /// Per-test peaks before/after (`None` when no memory fix was kept).
    pub memory: Option<MemoryReport>,
    /// Per-transform totals.
    pub attribution: Vec<Attribution>,
    /// The workload before and after (with `--workload`).
    pub workload: Option<workload::WorkloadReport>,
    /// Memory, attribution or workload runs whose figures were not used.
    pub skipped_runs: Vec<SkippedRun>,
    /// The surviving fixes per file index (of the `files` passed in), for
    /// [`crate::engine::rewrite_kept`].
    #[serde(skip)]
    pub kept: Vec<BTreeSet<FixKey>>,
}

impl VerifyReport {
    /// Number of candidates kept.
    pub fn kept_count(&self) -> usize {
        self.fixes.iter().filter(|f| f.kept).count()
    }

    /// Number of candidates dropped.
    pub fn dropped_count(&self) -> usize {
        self.fixes.len() - self.kept_count()
    }
}

/// Verifies `candidates` (each fix the fix loop applied, with its file's index into
/// `files`) by running the project's tests. Returns an error when the tests cannot be
/// run at all (no venv, Python mismatch with `require_embedded`, a baseline that cannot
/// be judged, a workload that fails before any rewrite) or on a stop signal
/// ([`crate::python::signals::Interrupted`]); the working copies are removed in every
/// case.
pub fn run(
    request: &VerifyRequest,
    files: &[ProjectFile],
    facts: &Facts,
    candidates: &[(usize, ReportedFix)],
) -> Result<VerifyReport> {
    let mut verifier = pipeline::Verifier::prepare(request, files, facts, candidates)?;
    // Nothing to verify: the suite (and the workload) would run for no verdict.
    if candidates.is_empty() {
        return Ok(verifier.report());
    }
    verifier.phase("baseline", |v| v.baseline())?;
    verifier.phase("candidates", |v| v.candidates())?;
    verifier.drop_orphans();
    verifier.phase("search", |v| v.search())?;
    verifier.drop_orphans();
    verifier.phase("memory", |v| v.memory())?;
    verifier.phase("attribution", |v| v.attribution())?;
    verifier.drop_orphans();
    if request.workload.is_some() {
        verifier.phase("workload", |v| workload::run(v))?;
    }
    Ok(verifier.report())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_blame_fits_a_line() {
        let tests = Blame::Tests {
            tests: (1..=5).map(|i| format!("t{i}")).collect(),
        };
        assert_eq!(tests.short(), "broke t1, t2, t3 and 2 more");
        let cause = Blame::Inconclusive {
            cause: "pytest was interrupted (exit 2); last output:\n    E   AttributeError: x\n    ERROR tests/a.py".into(),
        };
        assert_eq!(
            cause.short(),
            "run inconclusive: pytest was interrupted (exit 2) (E   AttributeError: x)"
        );
    }
}
