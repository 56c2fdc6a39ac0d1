//! `pyslim rewrite --verify`: runs the project's pytest suite in embedded CPython on a
//! working copy with the candidate rewrites applied, drops the fixes that break tests,
//! and measures per-test memory before and after.
//!
//! The steps, all on a temporary copy of the project (the user's files are untouched):
//! 1. a baseline run without any fix (tests failing there are not blamed on pyslim; a
//!    baseline that cannot be judged is an error);
//! 2. a run with every candidate fix (in parallel with the baseline, on a second copy,
//!    when there are two cores); when tests that passed at baseline fail (or the
//!    run is inconclusive), [`bisect::drop_culprits`] finds and drops the fixes
//!    responsible and re-runs the survivors until they are green;
//! 3. memory runs, before and after interleaved, until each side has `repeat` runs
//!    (the baseline and the all-fixes run count as the first of each);
//! 4. when fixes of more than one transform survive, attribution: runs of only the tests
//!    whose change was real, `repeat` times each, interleaved: without fixes, then with
//!    each transform's fixes alone (a test's peak depends on what ran before it in the
//!    session, so focused runs are compared with focused runs).
//!
//! Every run is a fresh worker process ([`crate::python::worker`]). Only pytest exit 0 or 1 with a
//! complete result file and at least one test is a verdict ([`crate::python::runner`]).
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
//!   "baseline_tests": 120,
//!   "flaky_tests": ["tests/test_t.py::test_timing"],
//!   "fixes": [{"path": "pkg/m.py", "key": {"transform": "generator", "offset": 120},
//!              "line": 7, "column": 12, "message": "…", "applicability": "unsafe",
//!              "impact": "memory", "kept": false,
//!              "dropped_because": {"kind": "tests", "tests": ["tests/test_m.py::test_a"]}
//!                              | {"kind": "inconclusive", "cause": "timed out …"}}],
//!   "runs": 9, "bisection_runs": 3, "seconds": 12.5,
//!   "memory": null | {"runs_per_side": 3,
//!      "tests": [{"test": "tests/test_m.py::test_big",
//!                 "before": {"median": 8000000, "min": 7999000, "max": 8001000},
//!                 "after": {"median": 900, "min": 880, "max": 950},
//!                 "change": -7999100, "threshold": 6000, "real": true}],
//!      "total": null | {"before": …, "after": …, "change": …, "threshold": …, "real": …}},
//!   "attribution": [{"transform": "generator", "fixes": 4, "total": null | {…}}],
//!   "skipped_runs": [{"run": "after #2", "cause": "…"}]
//! }
//! ```
//!
//! `memory.tests` holds the tests that passed with a peak in every memory run, largest
//! change first; `threshold` is max(4 KiB, 3x the larger min-max spread) and `real`
//! says whether `|change|` exceeds it.

pub mod bisect;
pub mod memory;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::engine::{self, Facts, FixKey, ReportedFix};
use crate::load::ProjectFile;
use crate::python::stats::Change;
use crate::python::{Candidate, Mode, RunOutcome, Runner, Session, runner, venv, workcopy, worker};
use bisect::Purpose;
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
    /// Limit per run.
    pub timeout: Duration,
    /// Whether unsafe fixes are candidates.
    pub unsafe_fixes: bool,
    /// Stop with an error instead of falling back to the venv's interpreter when its
    /// Python differs from the linked one.
    pub require_embedded: bool,
    /// Show progress bars on stderr (only drawn when it is a terminal).
    pub progress: bool,
    /// The pyslim binary providing `__worker` (default: the current executable).
    pub worker_exe: Option<PathBuf>,
}

/// Why a fix was dropped: the tests it broke, or why its run was inconclusive.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Blame {
    /// Tests that passed at baseline and failed with the fix.
    Tests {
        /// pytest node ids.
        tests: Vec<String>,
    },
    /// The run with the fix could not be judged.
    Inconclusive {
        /// The cause.
        cause: String,
    },
}

impl std::fmt::Display for Blame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blame::Tests { tests } => write!(f, "broke {}", tests.join(", ")),
            Blame::Inconclusive { cause } => write!(f, "run inconclusive: {cause}"),
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
            Blame::Tests { .. } => self.to_string(),
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
        }
    }
}

/// One candidate fix and its fate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FixOutcome {
    /// The file, as shown to the user.
    pub path: String,
    /// The fix (key, line, column, message, applicability, impact).
    #[serde(flatten)]
    pub fix: ReportedFix,
    /// Whether it survived verification.
    pub kept: bool,
    /// For a dropped fix: what failed when it was added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_because: Option<Blame>,
}

/// The interpreter the tests ran under.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PythonInfo {
    /// `embedded` or `venv-interpreter`.
    pub mode: Mode,
    /// The virtualenv.
    pub venv: PathBuf,
    /// Its Python version (`pyvenv.cfg`).
    pub venv_version: String,
    /// The libpython pyslim is linked against.
    pub linked_version: String,
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

/// A run that produced no usable figures (memory and attribution runs only; the
/// baseline and bisection handle theirs).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedRun {
    /// Which run.
    pub run: String,
    /// Why its figures were not used.
    pub cause: String,
}

/// Everything verification established.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// The interpreter used.
    pub python: PythonInfo,
    /// pytest arguments used (after pyslim's own `-p no:cacheprovider`).
    pub pytest_args: Vec<String>,
    /// Tests that already failed at baseline (not blamed on pyslim).
    pub baseline_failures: Vec<String>,
    /// Tests in the baseline run.
    pub baseline_tests: usize,
    /// Tests that failed and then passed on a re-run of the same code: not blamed.
    pub flaky_tests: Vec<String>,
    /// Every candidate fix, in file order, with its fate.
    pub fixes: Vec<FixOutcome>,
    /// Test runs in all.
    pub runs: usize,
    /// Of which spent finding culprits (not counting the baseline and the all-fixes run).
    pub bisection_runs: usize,
    /// Wall time of the whole verification.
    pub seconds: f64,
    /// Per-test peaks before/after (`None` when nothing was kept).
    pub memory: Option<MemoryReport>,
    /// Per-transform totals.
    pub attribution: Vec<Attribution>,
    /// Memory or attribution runs whose figures were not used.
    pub skipped_runs: Vec<SkippedRun>,
    /// The surviving fixes per file index (of the `files` passed in), for
    /// [`engine::rewrite_kept`].
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

/// Verifies the candidate fixes for `files` (the fix loop's output with `keep: None`)
/// by running the project's tests. Returns an error when the tests cannot be run at all
/// (no venv, Python mismatch with `require_embedded`, a baseline that cannot be judged)
/// or on Ctrl-C ([`runner::Interrupted`]); the working copy is removed in every case.
pub fn run(request: &VerifyRequest, files: &[ProjectFile], facts: &Facts) -> Result<VerifyReport> {
    let started = Instant::now();
    let root = std::path::absolute(&request.root).context("cannot resolve the project root")?;
    let venv = venv::find(request.venv.as_deref(), &root)?;
    let linked = worker::linked_version();
    let mode = if venv::same_python(&venv.version, &linked) {
        Mode::Embedded
    } else if request.require_embedded {
        bail!(
            "the virtualenv {} has Python {} but pyslim embeds Python {linked}; rebuild pyslim \
             against that Python (PYO3_PYTHON) or allow the fallback (`[verify] embedded = false`)",
            venv.path.display(),
            venv.version
        );
    } else {
        eprintln!(
            "note: the virtualenv {} has Python {} but pyslim embeds Python {linked}; running \
             the tests with {}/bin/python and the same pytest plugin instead",
            venv.path.display(),
            venv.version,
            venv.path.display()
        );
        Mode::VenvInterpreter
    };
    let python = PythonInfo {
        mode: mode.clone(),
        venv: venv.path.clone(),
        venv_version: venv.version.clone(),
        linked_version: linked,
    };

    // Candidates: every fix the loop applies with nothing filtered.
    let all_policy = crate::engine::FixPolicy {
        unsafe_fixes: request.unsafe_fixes,
        keep: None,
    };
    let rewrites = engine::rewrite_all(files, facts, &all_policy);
    let mut fixes = Vec::new();
    let mut groups: Vec<Vec<Candidate>> = Vec::new();
    for (index, rewrite) in rewrites.iter().enumerate() {
        let Ok(rewrite) = rewrite else { continue };
        if rewrite.applied.is_empty() {
            continue;
        }
        groups.push(
            rewrite
                .applied
                .iter()
                .map(|f| (index, f.key.clone()))
                .collect(),
        );
        for fix in &rewrite.applied {
            fixes.push(FixOutcome {
                path: files[index].info.path.clone(),
                fix: fix.clone(),
                kept: true,
                dropped_because: None,
            });
        }
    }
    let relative: BTreeMap<usize, PathBuf> = groups
        .iter()
        .map(|g| {
            let index = g[0].0;
            let path = std::path::absolute(&files[index].path)
                .unwrap_or_else(|_| files[index].path.clone());
            let rel = path
                .strip_prefix(&root)
                .map(|p| p.to_path_buf())
                .map_err(|_| {
                    anyhow::anyhow!(
                        "{} is outside the project root {}; verification runs the tests there",
                        files[index].path.display(),
                        root.display()
                    )
                })?;
            Ok((index, rel))
        })
        .collect::<Result<_>>()?;

    crate::python::signals::install()?;
    let copy = workcopy::WorkingCopy::new(&root, &venv.path)?;
    let scratch = tempfile::Builder::new()
        .prefix("pyslim-runs-")
        .tempdir()
        .context("cannot create a scratch folder")?;
    let runner = Runner {
        worker_exe: match &request.worker_exe {
            Some(p) => p.clone(),
            None => std::env::current_exe().context("cannot find the pyslim binary")?,
        },
        venv: venv.path.clone(),
        mode,
        workdir: copy.root.clone(),
        original_root: root.clone(),
        args: request.args.clone(),
        timeout: request.timeout,
        scratch: scratch.path().to_path_buf(),
        progress: request.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let mut session = Session {
        runner: &runner,
        files,
        facts,
        unsafe_fixes: request.unsafe_fixes,
        relative: &relative,
        copy_root: copy.root.clone(),
        runs: 0,
        written: BTreeMap::new(),
    };

    // 1. Baseline, and at the same time (on a second copy, when there are two cores)
    // the run with every candidate: when nothing breaks, verification costs one run's
    // wall time. tracemalloc counts are per process, so the figures do not interfere.
    let all: Vec<Candidate> = groups.iter().flatten().cloned().collect();
    session.apply(&[])?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (baseline_outcome, mut all_outcome) = if !all.is_empty() && cores >= 2 {
        let second = workcopy::WorkingCopy::new(&root, &venv.path)?;
        let second_scratch = scratch.path().join("second");
        std::fs::create_dir_all(&second_scratch)?;
        let second_runner = Runner {
            workdir: second.root.clone(),
            scratch: second_scratch,
            // One progress bar at a time on the terminal.
            progress: false,
            ..runner.clone()
        };
        let mut second_session = Session {
            runner: &second_runner,
            files,
            facts,
            unsafe_fixes: request.unsafe_fixes,
            relative: &relative,
            copy_root: second.root.clone(),
            runs: 0,
            written: BTreeMap::new(),
        };
        second_session.apply(&all)?;
        let (baseline, all_fixes) = std::thread::scope(|scope| {
            let handle = scope.spawn(|| second_session.run("all rewrites", true, None));
            let baseline = session.run("baseline", true, None);
            let all_fixes = handle
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the all-rewrites run panicked")));
            (baseline, all_fixes)
        });
        session.runs += second_session.runs;
        (baseline?, Some(all_fixes?))
    } else {
        (session.run("baseline", true, None)?, None)
    };
    let baseline = match baseline_outcome {
        RunOutcome::Verdict(tests) => tests,
        RunOutcome::Inconclusive(cause) => bail!(
            "the baseline run (no rewrites) cannot be judged: {cause}; fix the test setup \
             (venv {}, pytest args {:?}) first",
            venv.path.display(),
            request.args
        ),
    };
    let baseline_failures = RunOutcome::Verdict(baseline.clone()).failures();
    let passed_at_baseline: BTreeSet<String> = baseline
        .iter()
        .filter(|(_, t)| t.outcome == "passed")
        .map(|(id, _)| id.clone())
        .collect();
    // Tests seen failing and then passing on the same code: never blamed again.
    let flaky: std::cell::RefCell<BTreeSet<String>> = Default::default();
    // What a run says against the rewrites in it; `only` is the subset that ran.
    let blame_of = |outcome: &RunOutcome, only: Option<&[String]>| -> Option<Blame> {
        match outcome {
            RunOutcome::Inconclusive(cause) => Some(Blame::Inconclusive {
                cause: cause.clone(),
            }),
            RunOutcome::Verdict(tests) => {
                let flaky = flaky.borrow();
                let expected = |id: &String| {
                    passed_at_baseline.contains(id)
                        && !flaky.contains(id)
                        && only.is_none_or(|o| o.contains(id))
                };
                let broken = outcome.failures().into_iter().filter(|id| expected(id));
                // A test that passed at baseline and no longer ran counts as broken too.
                let missing = passed_at_baseline
                    .iter()
                    .filter(|id| expected(id) && !tests.contains_key(*id))
                    .cloned();
                let broken: Vec<String> = broken.chain(missing).collect();
                (!broken.is_empty()).then_some(Blame::Tests { tests: broken })
            }
        }
    };

    let mut before_runs = vec![baseline.clone()];
    let mut after_runs = Vec::new();
    let mut skipped_runs = Vec::new();
    let mut bisection_runs = 0;
    let mut kept_set: Vec<Candidate> = all.clone();
    if !all.is_empty() {
        // 2. Every candidate (unless it already ran), then the culprit search when
        // something broke.
        let outcome = match all_outcome.take() {
            Some(outcome) => outcome,
            None => {
                session.apply(&all)?;
                session.run("all rewrites", true, None)?
            }
        };
        match blame_of(&outcome, None) {
            None => {
                if let RunOutcome::Verdict(tests) = outcome {
                    after_runs.push(tests);
                }
            }
            Some(blame) => {
                let before = session.runs;
                let search = bisect::drop_culprits(groups.clone(), blame, |set, purpose| {
                    session.apply(set)?;
                    // Searches and re-checks run only the tests that broke.
                    let (label, only) = match purpose {
                        Purpose::Search(Blame::Tests { tests }) => ("bisect", Some(tests)),
                        Purpose::Search(_) => ("bisect", None),
                        Purpose::Recheck(Blame::Tests { tests }) => ("re-check", Some(tests)),
                        Purpose::Recheck(_) => ("re-check", None),
                        Purpose::Confirm => ("confirm", None),
                    };
                    let label = format!("{label} ({} fixes)", set.len());
                    let only = only.map(Vec::as_slice);
                    let blame = blame_of(&session.run(&label, false, only)?, only);
                    if let (Purpose::Recheck(Blame::Tests { tests }), None) = (purpose, &blame) {
                        flaky.borrow_mut().extend(tests.iter().cloned());
                    }
                    Ok(blame)
                })?;
                bisection_runs = session.runs - before;
                kept_set = search.kept.iter().flatten().cloned().collect();
                for dropped in search.dropped {
                    let (index, key) = dropped.item;
                    if let Some(f) = fixes
                        .iter_mut()
                        .find(|f| f.fix.key == key && f.path == files[index].info.path)
                    {
                        f.kept = false;
                        f.dropped_because = Some(dropped.blame);
                    }
                }
            }
        }
    }

    // 3. Memory runs, interleaved: before, after, before, after ...
    if !kept_set.is_empty() {
        let repeat = request.repeat.max(1);
        while before_runs.len() < repeat || after_runs.len() < repeat {
            let after = after_runs.len() < before_runs.len();
            let (label, set) = if after {
                (format!("after #{}", after_runs.len() + 1), &kept_set[..])
            } else {
                (format!("before #{}", before_runs.len() + 1), &[][..])
            };
            session.apply(set)?;
            let outcome = session.run(&label, true, None)?;
            match (&outcome, blame_of(&outcome, None)) {
                (RunOutcome::Verdict(tests), None) => {
                    if after {
                        after_runs.push(tests.clone());
                    } else {
                        before_runs.push(tests.clone());
                    }
                }
                (_, blame) => {
                    let cause = blame.map_or_else(String::new, |b| b.to_string());
                    skipped_runs.push(SkippedRun { run: label, cause });
                    // Flaky or broken: stop measuring rather than loop forever.
                    if skipped_runs.len() > repeat {
                        break;
                    }
                }
            }
        }
    }
    let memory = (!after_runs.is_empty()).then(|| memory::compare(&before_runs, &after_runs));

    // 4. Attribution per transform.
    let mut by_transform: BTreeMap<&'static str, Vec<Candidate>> = BTreeMap::new();
    for c in &kept_set {
        by_transform
            .entry(c.1.transform)
            .or_default()
            .push(c.clone());
    }
    let mut attribution = Vec::new();
    if by_transform.len() == 1 {
        let (name, set) = by_transform.iter().next().expect("one entry");
        attribution.push(Attribution {
            transform: name.to_string(),
            fixes: set.len(),
            total: memory.as_ref().and_then(|m| m.total.clone()),
        });
    } else if let Some(memory) = &memory {
        // Only the tests whose change was real have a saving to attribute: running just
        // those keeps these tracemalloc runs short.
        let changed: Vec<String> = memory
            .tests
            .iter()
            .filter(|t| t.change.real)
            .map(|t| t.test.clone())
            .collect();
        // A test's peak depends on what ran before it in the session (imports, caches
        // warmed by earlier tests), so the focused runs are compared with focused
        // baseline runs, interleaved: before, each transform alone, before, ...
        let repeat = if changed.is_empty() {
            0
        } else {
            request.repeat.max(1)
        };
        let mut before_focused = Vec::new();
        let mut alone: Vec<Vec<runner::TestRecords>> = vec![Vec::new(); by_transform.len()];
        for i in 0..repeat {
            let sides = std::iter::once(("before", &[][..], None)).chain(
                by_transform
                    .iter()
                    .enumerate()
                    .map(|(k, (name, set))| (*name, &set[..], Some(k))),
            );
            for (name, set, slot) in sides {
                session.apply(set)?;
                let label = match slot {
                    Some(_) => format!("{name} alone #{}", i + 1),
                    None => format!("before (changed tests) #{}", i + 1),
                };
                let outcome = session.run(&label, true, Some(&changed))?;
                match (&outcome, blame_of(&outcome, Some(&changed))) {
                    (RunOutcome::Verdict(tests), None) => match slot {
                        Some(k) => alone[k].push(tests.clone()),
                        None => before_focused.push(tests.clone()),
                    },
                    (_, blame) => skipped_runs.push(SkippedRun {
                        run: label,
                        cause: blame.map_or_else(String::new, |b| b.to_string()),
                    }),
                }
            }
        }
        for ((name, set), runs) in by_transform.iter().zip(alone) {
            let total = (!runs.is_empty() && !before_focused.is_empty())
                .then(|| memory::compare(&before_focused, &runs).total)
                .flatten();
            attribution.push(Attribution {
                transform: name.to_string(),
                fixes: set.len(),
                total,
            });
        }
    }

    let mut kept = vec![BTreeSet::new(); files.len()];
    for (index, key) in kept_set {
        kept[index].insert(key);
    }
    let runs = session.runs;
    let flaky_tests = flaky.into_inner().into_iter().collect();
    drop(copy);
    Ok(VerifyReport {
        python,
        pytest_args: request.args.clone(),
        baseline_failures,
        baseline_tests: baseline.len(),
        flaky_tests,
        fixes,
        runs,
        bisection_runs,
        seconds: started.elapsed().as_secs_f64(),
        memory,
        attribution,
        skipped_runs,
        kept,
    })
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
