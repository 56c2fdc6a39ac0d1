//! The [`Verifier`] that the verification's phases share: the two working copies (one
//! per core), the baseline's verdicts and coverage, every candidate's fate; and the
//! first two phases, baseline and candidates. The search is in `search.rs`, memory and
//! attribution in `measure.rs`, the workload in `workload.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::judge::Judge;
use super::memory::MemoryReport;
use super::reach::{self, Coverage, FixScope};
use super::{Attribution, Blame, FixOutcome, PhaseStat, SkippedRun, VerifyReport, VerifyRequest};
use crate::engine::ReportedSubject;
use crate::engine::{Facts, FixKey, ReportedFix};
use crate::load::ProjectFile;
use crate::profile::{both, derived_timeout};
use crate::python::runner::RunSpec;
use crate::python::worker::{MeterMode, Target};
use crate::python::{
    Candidate, Finished, PythonInfo, Runner, Session, TestRecords, signals, workcopy,
};

/// A set of tests to run: all, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tests {
    /// The whole suite.
    All,
    /// Only these ids.
    Only(BTreeSet<String>),
}

/// What every phase shares.
pub struct Verifier<'a> {
    pub(super) request: &'a VerifyRequest,
    pub(super) files: &'a [ProjectFile],
    pub(super) python: PythonInfo,
    /// Candidate `i`: its file index and key.
    pub(super) candidates: Vec<Candidate>,
    /// Candidate `i`'s fate.
    pub(super) fixes: Vec<FixOutcome>,
    /// Two sessions on two copies: before/after and search groups run side by side.
    pub(super) sessions: Vec<Session<'a>>,
    /// Kept alive until the report: removed on drop, on every way out.
    pub(super) _copies: Vec<workcopy::WorkingCopy>,
    pub(super) _scratch: tempfile::TempDir,
    pub(super) instrumented: reach::Instrumented,
    pub(super) judge: Option<Judge>,
    pub(super) coverage: Coverage,
    /// Candidate `i`'s tests (`None`: unknown, every test).
    pub(super) reach: Vec<Option<BTreeSet<String>>>,
    pub(super) baseline: TestRecords,
    pub(super) baseline_failures: Vec<String>,
    pub(super) baseline_collection_errors: Vec<String>,
    /// What the all-candidates run said, when it ran beside the baseline.
    pub(super) all_run: Option<Finished>,
    pub(super) initial_blame: Option<Blame>,
    /// What the latest failures point at, by test id or test module: the files their
    /// tracebacks went through, and their error text (`'Image' object has no
    /// attribute 'x'` names a class that got slots).
    pub(super) hints: BTreeMap<String, (Vec<String>, String)>,
    /// The limit for runs after the baseline.
    pub(super) timeout: Duration,
    /// How `timeout` was chosen, for timeout messages.
    pub(super) timeout_basis: String,
    pub(super) phases: Vec<PhaseStat>,
    pub(super) tests_run: usize,
    pub(super) memory: Option<MemoryReport>,
    pub(super) noisy: Vec<String>,
    pub(super) attribution: Vec<Attribution>,
    pub(super) workload: Option<super::workload::WorkloadReport>,
    pub(super) skipped: Vec<SkippedRun>,
    pub(super) started: Instant,
}

impl<'a> Verifier<'a> {
    /// Finds the venv, makes the copies and instruments the baseline's.
    pub fn prepare(
        request: &'a VerifyRequest,
        files: &'a [ProjectFile],
        facts: &'a Facts,
        candidates: &[(usize, ReportedFix)],
    ) -> Result<Verifier<'a>> {
        let started = Instant::now();
        let root = std::path::absolute(&request.root).context("cannot resolve the project root")?;
        let python =
            crate::python::prepare(request.venv.as_deref(), &root, request.require_embedded)?;
        let mut relative = BTreeMap::new();
        for (index, _) in candidates {
            if relative.contains_key(index) {
                continue;
            }
            let path = std::path::absolute(&files[*index].path)
                .unwrap_or_else(|_| files[*index].path.clone());
            let rel = path.strip_prefix(&root).map_err(|_| {
                anyhow::anyhow!(
                    "{} is outside the project root {}; verification runs the tests there",
                    files[*index].path.display(),
                    root.display()
                )
            })?;
            relative.insert(*index, rel.to_path_buf());
        }
        let fixes = candidates
            .iter()
            .map(|(index, fix)| FixOutcome {
                path: files[*index].info.path.clone(),
                fix: fix.clone(),
                kept: true,
                tests: None,
                dropped_because: None,
            })
            .collect();
        let candidates: Vec<Candidate> = candidates
            .iter()
            .map(|(index, fix)| (*index, fix.key.clone()))
            .collect();
        signals::install()?;
        let scratch = tempfile::Builder::new()
            .prefix("pyslim-runs-")
            .tempdir()
            .context("cannot create a scratch folder")?;
        // Import errors in one test module must not stop the others from running:
        // they are narrowed to their module (see the search phase).
        let mut args = vec!["--continue-on-collection-errors".to_string()];
        args.extend(request.args.iter().cloned());
        let mut copies = Vec::new();
        let mut sessions = Vec::new();
        let modules = Arc::new(crate::python::runner::project_modules(files, &root));
        for n in 0..2 {
            let copy = workcopy::WorkingCopy::new(&root, &python.venv)?;
            let dir = scratch.path().join(format!("copy-{n}"));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let runner = Runner {
                worker_exe: match &request.worker_exe {
                    Some(p) => p.clone(),
                    None => std::env::current_exe().context("cannot find the pyslim binary")?,
                },
                venv: python.venv.clone(),
                mode: python.mode.clone(),
                workdir: copy.root.clone(),
                original_root: root.clone(),
                args: args.clone(),
                timeout: request.timeout.unwrap_or(Duration::from_secs(600)),
                scratch: dir,
                // One progress bar at a time on the terminal.
                progress: n == 0
                    && request.progress
                    && std::io::IsTerminal::is_terminal(&std::io::stderr()),
                modules: modules.clone(),
            };
            sessions.push(Session::new(
                runner,
                files,
                facts,
                request.unsafe_fixes,
                relative.clone(),
            ));
            copies.push(copy);
        }
        let instrumented = reach::instrument(files, &candidates, &relative);
        let count = candidates.len();
        Ok(Verifier {
            request,
            files,
            python,
            candidates,
            fixes,
            sessions,
            _copies: copies,
            _scratch: scratch,
            instrumented,
            judge: None,
            coverage: Coverage::default(),
            reach: vec![None; count],
            baseline: TestRecords::new(),
            baseline_failures: Vec::new(),
            baseline_collection_errors: Vec::new(),
            all_run: None,
            initial_blame: None,
            hints: BTreeMap::new(),
            timeout: request.timeout.unwrap_or(Duration::from_secs(600)),
            timeout_basis: match request.timeout {
                Some(t) => format!("the {}s limit set", t.as_secs()),
                None => "the default 600s limit for the first runs".to_string(),
            },
            phases: Vec::new(),
            tests_run: 0,
            memory: None,
            noisy: Vec::new(),
            attribution: Vec::new(),
            workload: None,
            skipped: Vec::new(),
            started,
        })
    }

    /// Runs one phase, recording its runs, tests and time.
    pub fn phase(
        &mut self,
        name: &str,
        body: impl FnOnce(&mut Verifier<'a>) -> Result<()>,
    ) -> Result<()> {
        signals::check()?;
        let runs = self.runs();
        let tests = self.tests_run;
        let started = Instant::now();
        body(self)?;
        self.phases.push(PhaseStat {
            phase: name.to_string(),
            runs: self.runs() - runs,
            seconds: started.elapsed().as_secs_f64(),
            tests: self.tests_run - tests,
        });
        Ok(())
    }

    fn runs(&self) -> usize {
        self.sessions.iter().map(|s| s.runs).sum()
    }

    /// The indexes of the candidates still kept.
    pub(super) fn kept(&self) -> Vec<usize> {
        (0..self.fixes.len())
            .filter(|i| self.fixes[*i].kept)
            .collect()
    }

    /// Candidate keys for `indexes`.
    pub(super) fn set(&self, indexes: &[usize]) -> Vec<Candidate> {
        indexes
            .iter()
            .map(|i| self.candidates[*i].clone())
            .collect()
    }

    /// A test-suite run spec for `tests`.
    pub(super) fn spec(&self, label: &str, tests: &Tests, meter: MeterMode) -> RunSpec {
        let mut spec = pytest_spec(label, tests, meter, &self.sessions[0].runner.args);
        spec.timeout = Some(self.timeout);
        spec.limit_basis = Some(self.timeout_basis.clone());
        spec
    }

    /// Counts the tests a spec runs.
    pub(super) fn count(&mut self, tests: &Tests) {
        self.tests_run += match tests {
            Tests::All => self.baseline.len(),
            Tests::Only(ids) => ids.len(),
        };
    }

    /// Applies `set` on session `n` and runs `tests` there.
    pub(super) fn run_on(
        &mut self,
        n: usize,
        set: &[Candidate],
        label: &str,
        tests: &Tests,
        meter: MeterMode,
    ) -> Result<Finished> {
        let spec = self.spec(label, tests, meter);
        self.count(tests);
        let session = &mut self.sessions[n];
        session.apply(set)?;
        session.launch(spec)
    }

    /// Runs `a` on session 0 and `b` on session 1 at once (one after the other on one
    /// core).
    pub(super) fn run_pair(
        &mut self,
        a: (&[Candidate], String, Tests, MeterMode),
        b: (&[Candidate], String, Tests, MeterMode),
    ) -> Result<(Finished, Finished)> {
        let spec_a = self.spec(&a.1, &a.2, a.3);
        let spec_b = self.spec(&b.1, &b.2, b.3);
        self.count(&a.2);
        self.count(&b.2);
        let (first, second) = self.sessions.split_at_mut(1);
        let (s0, s1) = (&mut first[0], &mut second[0]);
        s0.apply(a.0)?;
        s1.apply(b.0)?;
        both(|| s0.launch(spec_a), || s1.launch(spec_b))
    }

    /// Phase 1: the instrumented baseline, beside the run with every candidate.
    pub fn baseline(&mut self) -> Result<()> {
        let everything = self.set(&(0..self.candidates.len()).collect::<Vec<_>>());
        let mut spec = self.spec("baseline", &Tests::All, MeterMode::Off);
        spec.hits = true;
        spec.timeout = self.request.timeout;
        spec.limit_basis = None;
        self.count(&Tests::All);
        let texts = self.instrumented.texts.clone();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (baseline, all_run) = if !everything.is_empty() && cores >= 2 {
            let mut all_spec = self.spec("all rewrites", &Tests::All, MeterMode::Off);
            all_spec.timeout = self.request.timeout;
            all_spec.limit_basis = None;
            self.count(&Tests::All);
            let (first, second) = self.sessions.split_at_mut(1);
            let (s0, s1) = (&mut first[0], &mut second[0]);
            s0.write_texts(&texts)?;
            s1.apply(&everything)?;
            let (a, b) = both(|| s0.launch(spec), || s1.launch(all_spec))?;
            (a, Some(b))
        } else {
            let s0 = &mut self.sessions[0];
            s0.write_texts(&texts)?;
            (s0.launch(spec)?, None)
        };
        let tests = match baseline.pytest_verdict() {
            crate::python::RunOutcome::Verdict(tests) => tests,
            crate::python::RunOutcome::Inconclusive(cause) => bail!(
                "the baseline run (the test suite without any rewrite) cannot be judged: \
                 {cause}; check that the suite passes with `{}/bin/python -m pytest {}`",
                self.python.venv.display(),
                self.request.args.join(" ")
            ),
        };
        let result = baseline.result.clone().unwrap_or_default();
        if let Some(warning) = result.modules.check("the tests")? {
            crate::report::findings::warn(&warning)?;
        }
        let copy_roots: Vec<PathBuf> = self
            .sessions
            .iter()
            .map(|s| s.copy_root().to_path_buf())
            .collect();
        let relative = |file: &str| -> Option<String> {
            copy_roots
                .iter()
                .find_map(|r| reach::relative_to(std::path::Path::new(file), r))
        };
        self.coverage = Coverage::from_baseline(&tests, &result, &relative);
        let broken: Vec<String> = result
            .collection_errors
            .iter()
            .map(|e| e.nodeid.clone())
            .collect();
        self.judge = Some(Judge::new(&tests, &broken));
        self.baseline_collection_errors = broken;
        self.baseline_failures = crate::python::RunOutcome::Verdict(tests.clone()).failures();
        // The first runs ran the whole suite, unknown until now.
        self.tests_run += tests.len() * (1 + usize::from(all_run.is_some()));
        self.baseline = tests;
        if self.request.timeout.is_none() {
            self.timeout = derived_timeout(baseline.wall);
            self.timeout_basis = format!(
                "10x the baseline's {} (at least 60s)",
                crate::python::runner::seconds(baseline.wall)
            );
        }
        self.all_run = all_run;
        Ok(())
    }

    /// Phase 2: which tests reach each fix; unsafe fixes no test reaches go; what the
    /// all-candidates run broke.
    pub fn candidates(&mut self) -> Result<()> {
        let mut reach: Vec<Option<BTreeSet<String>>> = (0..self.candidates.len())
            .map(|i| {
                match self
                    .instrumented
                    .scopes
                    .get(i)
                    .unwrap_or(&FixScope::Unknown)
                {
                    FixScope::Unknown => None,
                    scope => Some(self.coverage.tests_for(scope)),
                }
            })
            .collect();
        self.share_with_bases(&mut reach);
        for (i, reached) in reach.into_iter().enumerate() {
            self.fixes[i].tests = reached.as_ref().map(BTreeSet::len);
            if reached.as_ref().is_some_and(BTreeSet::is_empty)
                && self.fixes[i].fix.applicability != pyslim_transforms::Applicability::Safe
            {
                self.drop_fix(i, Blame::NotExercised);
            }
            self.reach[i] = reached;
        }
        let kept = self.set(&self.kept());
        if kept.is_empty() {
            return Ok(());
        }
        let run = match self.all_run.take() {
            Some(run) => run,
            None => self.run_on(0, &kept, "all rewrites", &Tests::All, MeterMode::Off)?,
        };
        self.note_hints(&run);
        self.initial_blame = self.judge().blame(&run, None);
        Ok(())
    }

    /// Adds to each slotted base's tests those of the subclasses rewritten with it
    /// (`None`: every test). A base's slots are part of every instance of such a
    /// subclass, so a test that runs the subclass's methods exercises the base's
    /// rewrite even when no method of the base runs: an abstract base whose only
    /// method every subclass overrides (markdown's `Treeprocessor`) was otherwise
    /// never reached, dropped as not exercised, and took every subclass with it.
    fn share_with_bases(&self, reach: &mut [Option<BTreeSet<String>>]) {
        let by_class: BTreeMap<String, usize> = (0..self.candidates.len())
            .filter_map(|i| Some((self.class_of(i)?, i)))
            .collect();
        for i in 0..self.candidates.len() {
            let ReportedSubject::Class { needs, .. } = &self.fixes[i].fix.saving.subject else {
                continue;
            };
            for base in needs.iter().filter_map(|n| by_class.get(n)) {
                if *base == i {
                    continue;
                }
                let shared = reach[i].clone();
                match (&mut reach[*base], shared) {
                    (Some(tests), Some(more)) => tests.extend(more),
                    (slot, None) => *slot = None,
                    (None, Some(_)) => {}
                }
            }
        }
    }

    pub(super) fn judge(&self) -> &Judge {
        self.judge.as_ref().expect("the baseline ran first")
    }

    pub(super) fn drop_fix(&mut self, i: usize, blame: Blame) {
        self.fixes[i].kept = false;
        self.fixes[i].dropped_because = Some(blame);
    }

    /// Drops each kept `__slots__` rewrite one of whose project bases is not kept (a
    /// base dropped by the tests keeps a dict for every instance of the subclass), to
    /// a fixpoint. Taking the subclass's rewrite back leaves both classes as written,
    /// so nothing needs to run again.
    pub(crate) fn drop_orphans(&mut self) {
        loop {
            let kept: BTreeSet<String> = (0..self.fixes.len())
                .filter(|&i| self.fixes[i].kept)
                .filter_map(|i| self.class_of(i))
                .collect();
            let orphans: Vec<(usize, String)> = (0..self.fixes.len())
                .filter(|&i| self.fixes[i].kept)
                .filter_map(|i| match &self.fixes[i].fix.saving.subject {
                    ReportedSubject::Class { needs, .. } => needs
                        .iter()
                        .find(|base| !kept.contains(*base))
                        .map(|base| (i, base.clone())),
                    _ => None,
                })
                .collect();
            if orphans.is_empty() {
                return;
            }
            for (i, base) in orphans {
                self.drop_fix(i, Blame::BaseDropped { base });
            }
        }
    }

    /// `module.Qualname` of the class candidate `i` gives slots to.
    fn class_of(&self, i: usize) -> Option<String> {
        let module = &self.files[self.candidates[i].0].info.name;
        self.fixes[i].fix.saving.subject.class_name(module)
    }

    /// The tests that reach any of `indexes` (`All` when one is unknown).
    pub(super) fn tests_reaching(&self, indexes: &[usize]) -> Tests {
        let mut out = BTreeSet::new();
        for i in indexes {
            match &self.reach[*i] {
                None => return Tests::All,
                Some(tests) => out.extend(tests.iter().cloned()),
            }
        }
        Tests::Only(out)
    }

    /// The report.
    pub fn report(self) -> VerifyReport {
        let mut kept = vec![BTreeSet::new(); self.files.len()];
        for i in self.kept() {
            let (index, key): &(usize, FixKey) = &self.candidates[i];
            kept[*index].insert(key.clone());
        }
        let bisection_runs = self
            .phases
            .iter()
            .filter(|p| p.phase == "search")
            .map(|p| p.runs)
            .sum();
        let runs = self.runs();
        let flaky_tests = self
            .judge
            .as_ref()
            .map_or_else(Vec::new, Judge::flaky_tests);
        VerifyReport {
            python: self.python,
            pytest_args: self.request.args.clone(),
            baseline_failures: self.baseline_failures,
            baseline_collection_errors: self.baseline_collection_errors,
            baseline_tests: self.baseline.len(),
            flaky_tests,
            noisy_tests: self.noisy,
            fixes: self.fixes,
            runs,
            bisection_runs,
            seconds: self.started.elapsed().as_secs_f64(),
            phases: self.phases,
            memory: self.memory,
            attribution: self.attribution,
            workload: self.workload,
            skipped_runs: self.skipped,
            kept,
        }
    }
}
/// A test-suite run of `tests` with the user's arguments.
pub(super) fn pytest_spec(
    label: &str,
    tests: &Tests,
    meter: MeterMode,
    args: &[String],
) -> RunSpec {
    let only = match tests {
        Tests::All => None,
        Tests::Only(ids) => Some(ids.iter().cloned().collect::<Vec<_>>()),
    };
    let mut spec = RunSpec::new(
        label,
        Target::Pytest {
            args: args.to_vec(),
            only,
        },
    );
    spec.meter = meter;
    spec
}
