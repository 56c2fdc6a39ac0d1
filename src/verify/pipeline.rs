//! The verification's phases, in the order [`super::run`] calls them. The
//! [`Verifier`] holds what they share: the two working copies (one per core), the
//! baseline's verdicts and coverage, and every candidate's fate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::bisect::{self, Purpose};
use super::judge::Judge;
use super::memory::{self, MemoryReport};
use super::reach::{self, Coverage, FixScope};
use super::{Attribution, Blame, FixOutcome, PhaseStat, SkippedRun, VerifyReport, VerifyRequest};
use crate::engine::{Facts, FixKey, ReportedFix};
use crate::load::ProjectFile;
use crate::profile::{both, derived_timeout};
use crate::python::runner::RunSpec;
use crate::python::worker::{MeterMode, Target};
use crate::python::{
    Candidate, Finished, PythonInfo, Runner, Session, TestRecords, signals, workcopy,
};

/// Test runs the culprit search may make before it gives up on a group.
const CONFIRM_ROUNDS: usize = 4;

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
    _copies: Vec<workcopy::WorkingCopy>,
    _scratch: tempfile::TempDir,
    instrumented: reach::Instrumented,
    pub(super) judge: Option<Judge>,
    pub(super) coverage: Coverage,
    /// Candidate `i`'s tests (`None`: unknown, every test).
    pub(super) reach: Vec<Option<BTreeSet<String>>>,
    pub(super) baseline: TestRecords,
    baseline_failures: Vec<String>,
    /// What the all-candidates run said, when it ran beside the baseline.
    all_run: Option<Finished>,
    initial_blame: Option<Blame>,
    /// The limit for runs after the baseline.
    pub(super) timeout: Duration,
    /// How `timeout` was chosen, for timeout messages.
    pub(super) timeout_basis: String,
    pub(super) phases: Vec<PhaseStat>,
    tests_run: usize,
    pub(super) memory: Option<MemoryReport>,
    pub(super) noisy: Vec<String>,
    pub(super) attribution: Vec<Attribution>,
    pub(super) workload: Option<super::workload::WorkloadReport>,
    pub(super) skipped: Vec<SkippedRun>,
    started: Instant,
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
            all_run: None,
            initial_blame: None,
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
        let only = match tests {
            Tests::All => None,
            Tests::Only(ids) => Some(ids.iter().cloned().collect::<Vec<_>>()),
        };
        let mut spec = RunSpec::new(
            label,
            Target::Pytest {
                args: self.sessions[0].runner.args.clone(),
                only,
            },
        );
        spec.meter = meter;
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
        for i in 0..self.candidates.len() {
            let scope = self
                .instrumented
                .scopes
                .get(i)
                .cloned()
                .unwrap_or(FixScope::Unknown);
            let reached = match scope {
                FixScope::Unknown => None,
                scope => Some(self.coverage.tests_for(&scope)),
            };
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
        self.initial_blame = self.judge().blame(&run, None);
        Ok(())
    }

    pub(super) fn judge(&self) -> &Judge {
        self.judge.as_ref().expect("the baseline ran first")
    }

    pub(super) fn drop_fix(&mut self, i: usize, blame: Blame) {
        self.fixes[i].kept = false;
        self.fixes[i].dropped_because = Some(blame);
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

    /// Phase 3: the culprit search, until the kept fixes pass the tests that reach them.
    pub fn search(&mut self) -> Result<()> {
        let mut blame = self.initial_blame.take();
        for _ in 0..CONFIRM_ROUNDS {
            let Some(current) = blame else {
                return Ok(());
            };
            match &current {
                Blame::Collection { modules, .. } => {
                    for module in modules.clone() {
                        self.search_collection(&module)?;
                    }
                }
                Blame::Tests { tests } => {
                    let broken: BTreeSet<String> = tests.iter().cloned().collect();
                    self.search_tests(&broken)?;
                }
                other => self.search_group(self.kept(), other.clone(), Tests::All)?,
            }
            // The survivors together, on the tests that reach them.
            let kept = self.kept();
            if kept.is_empty() {
                return Ok(());
            }
            let tests = self.tests_reaching(&kept);
            if tests == Tests::Only(BTreeSet::new()) {
                return Ok(());
            }
            let set = self.set(&kept);
            let run = self.run_on(0, &set, "confirm", &tests, MeterMode::Off)?;
            let only = match &tests {
                Tests::All => None,
                Tests::Only(ids) => Some(ids),
            };
            blame = self.judge().blame(&run, only);
        }
        if let Some(blame) = blame {
            // The rounds ran out: what is left still fails; nothing of it is kept.
            for i in self.kept() {
                self.drop_fix(i, blame.clone());
            }
        }
        Ok(())
    }

    /// Test failures: the fixes that reach the broken tests, in groups sharing no test,
    /// each searched with its own broken tests.
    fn search_tests(&mut self, broken: &BTreeSet<String>) -> Result<()> {
        // Broken tests that no fix reaches: run them again with every fix. Passing, they
        // are flaky; failing, the coverage missed a way in (`inspect`, a file read) and
        // every fix is a suspect.
        let reached: BTreeSet<String> = self
            .kept()
            .iter()
            .filter_map(|i| self.reach[*i].as_ref())
            .flatten()
            .cloned()
            .collect();
        let all_reach = self.kept().iter().any(|i| self.reach[*i].is_none());
        let unattributed: BTreeSet<String> = if all_reach {
            BTreeSet::new()
        } else {
            broken.difference(&reached).cloned().collect()
        };
        if !unattributed.is_empty() {
            let kept = self.kept();
            let set = self.set(&kept);
            let tests = Tests::Only(unattributed.clone());
            let run = self.run_on(0, &set, "re-check", &tests, MeterMode::Off)?;
            match self.judge().blame(&run, Some(&unattributed)) {
                None => self
                    .judge()
                    .flaked(&unattributed.iter().cloned().collect::<Vec<_>>()),
                Some(blame) => self.search_group(kept, blame, tests)?,
            }
        }
        let broken: BTreeSet<String> = broken.difference(&unattributed).cloned().collect();
        if broken.is_empty() {
            return Ok(());
        }
        let broken = &broken;
        let mut known: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        let mut unknown = Vec::new();
        for i in self.kept() {
            match &self.reach[i] {
                Some(tests) => {
                    known.insert(i, tests.clone());
                }
                None => unknown.push(i),
            }
        }
        if !unknown.is_empty() {
            // A fix that may reach every test joins every group: search them together.
            let suspects: Vec<usize> = known
                .iter()
                .filter(|(_, t)| !t.is_disjoint(broken))
                .map(|(i, _)| *i)
                .chain(unknown)
                .collect();
            let blame = Blame::Tests {
                tests: broken.iter().cloned().collect(),
            };
            return self.search_group(suspects, blame, Tests::Only(broken.clone()));
        }
        for (fixes, tests) in reach::groups(&known, broken) {
            let blame = Blame::Tests {
                tests: tests.iter().cloned().collect(),
            };
            self.search_group(fixes, blame, Tests::Only(tests))?;
        }
        Ok(())
    }

    /// A test module that no longer imports: the culprit is among the fixes in the
    /// modules it reaches; each step collects only that module.
    fn search_collection(&mut self, module: &str) -> Result<()> {
        let files = self.coverage.files_of_module(module).cloned();
        let suspects: Vec<usize> = self
            .kept()
            .into_iter()
            .filter(|i| {
                let (index, _) = &self.candidates[*i];
                match (&files, self.sessions[0].relative.get(index)) {
                    (Some(files), Some(path)) => {
                        files.contains(&path.to_string_lossy().replace('\\', "/"))
                    }
                    _ => true,
                }
            })
            .collect();
        let blame = Blame::Collection {
            modules: vec![module.to_string()],
            text: String::new(),
        };
        let groups = self.by_file(&suspects);
        let module = module.to_string();
        let search = bisect::drop_culprits(groups, blame, |set, _purpose| {
            let set: Vec<Candidate> = set.iter().map(|i| self.candidates[*i].clone()).collect();
            let mut spec = self.collect_spec(&module);
            spec.label = format!("collect {} ({} fixes)", module, set.len());
            self.tests_run += 1;
            let session = &mut self.sessions[0];
            session.apply(&set)?;
            let run = session.launch(spec)?;
            Ok(match &run.result {
                None => Some(Blame::Inconclusive {
                    cause: match run.pytest_verdict() {
                        crate::python::RunOutcome::Inconclusive(cause) => cause,
                        crate::python::RunOutcome::Verdict(_) => "no result".to_string(),
                    },
                }),
                Some(result) if result.collection_errors.is_empty() => None,
                Some(result) => Some(Blame::Collection {
                    modules: result
                        .collection_errors
                        .iter()
                        .map(|e| e.nodeid.clone())
                        .collect(),
                    text: result
                        .collection_errors
                        .first()
                        .map(|e| super::judge::short_error(&e.text))
                        .unwrap_or_default(),
                }),
            })
        })?;
        for dropped in search.dropped {
            self.drop_fix(dropped.item, dropped.blame);
        }
        Ok(())
    }

    /// A spec that only collects `module`: the user's options, no test paths.
    fn collect_spec(&self, module: &str) -> RunSpec {
        let workdir = self.sessions[0].copy_root().to_path_buf();
        let mut args: Vec<String> = self.sessions[0]
            .runner
            .args
            .iter()
            .filter(|a| {
                a.starts_with('-') || !workdir.join(a.split("::").next().unwrap_or(a)).exists()
            })
            .cloned()
            .collect();
        args.push("--collect-only".to_string());
        args.push(module.to_string());
        let mut spec = RunSpec::new("collect", Target::Pytest { args, only: None });
        spec.timeout = Some(self.timeout);
        spec.limit_basis = Some(self.timeout_basis.clone());
        spec
    }

    /// Candidate indexes grouped by file, in file order.
    fn by_file(&self, indexes: &[usize]) -> Vec<Vec<usize>> {
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in indexes {
            groups.entry(self.candidates[*i].0).or_default().push(*i);
        }
        groups.into_values().collect()
    }

    /// Drops the culprits among `fixes` for `blame`; search steps run the tests in the
    /// current blame, confirmations `confirm_tests` (plus whatever the fixes reach).
    fn search_group(
        &mut self,
        fixes: Vec<usize>,
        blame: Blame,
        confirm_tests: Tests,
    ) -> Result<()> {
        if fixes.is_empty() {
            return Ok(());
        }
        let groups = self.by_file(&fixes);
        let search = bisect::drop_culprits(groups, blame, |set, purpose| {
            let (label, tests) = match purpose {
                Purpose::Search(Blame::Tests { tests }) => {
                    ("bisect", Tests::Only(tests.iter().cloned().collect()))
                }
                Purpose::Recheck(Blame::Tests { tests }) => {
                    ("re-check", Tests::Only(tests.iter().cloned().collect()))
                }
                Purpose::Search(_) => ("bisect", confirm_tests.clone()),
                Purpose::Recheck(_) => ("re-check", confirm_tests.clone()),
                Purpose::Confirm => ("confirm", confirm_tests.clone()),
            };
            let candidates: Vec<Candidate> =
                set.iter().map(|i| self.candidates[*i].clone()).collect();
            let label = format!("{label} ({} fixes)", set.len());
            let run = self.run_on(0, &candidates, &label, &tests, MeterMode::Off)?;
            let only = match &tests {
                Tests::All => None,
                Tests::Only(ids) => Some(ids),
            };
            let blame = self.judge().blame(&run, only);
            if let (Purpose::Recheck(Blame::Tests { tests }), None) = (purpose, &blame) {
                self.judge().flaked(tests);
            }
            Ok(blame)
        })?;
        for dropped in search.dropped {
            self.drop_fix(dropped.item, dropped.blame);
        }
        Ok(())
    }

    /// Phase 4: the tests that reach a kept memory fix, before and after, interleaved,
    /// each test's peak measured.
    pub fn memory(&mut self) -> Result<()> {
        let kept: Vec<usize> = self
            .kept()
            .into_iter()
            .filter(|i| self.fixes[*i].fix.impact == pyslim_transforms::Impact::Memory)
            .collect();
        if kept.is_empty() {
            return Ok(());
        }
        let tests = self.tests_reaching(&kept);
        if tests == Tests::Only(BTreeSet::new()) {
            return Ok(());
        }
        let after = self.set(&self.kept());
        let repeat = self.request.repeat.max(1);
        let mut before_runs = Vec::new();
        let mut after_runs = Vec::new();
        for n in 0..repeat {
            let (b, a) = self.run_pair(
                (
                    &[],
                    format!("before #{}", n + 1),
                    tests.clone(),
                    MeterMode::PerTest,
                ),
                (
                    &after,
                    format!("after #{}", n + 1),
                    tests.clone(),
                    MeterMode::PerTest,
                ),
            )?;
            for (run, side) in [(b, &mut before_runs), (a, &mut after_runs)] {
                let only = match &tests {
                    Tests::All => None,
                    Tests::Only(ids) => Some(ids),
                };
                match (self.judge().blame(&run, only), run.pytest_verdict()) {
                    (None, crate::python::RunOutcome::Verdict(records)) => side.push(records),
                    (blame, _) => self.skipped.push(SkippedRun {
                        run: run.spec.label.clone(),
                        cause: blame.map_or_else(|| "no verdict".to_string(), |b| b.to_string()),
                    }),
                }
            }
        }
        if before_runs.is_empty() || after_runs.is_empty() {
            return Ok(());
        }
        self.noisy = memory::noisy(&before_runs);
        let mut report = memory::compare(&before_runs, &after_runs, &self.noisy);
        report.tests_measured = match &tests {
            Tests::All => self.baseline.len(),
            Tests::Only(ids) => ids.len(),
        };
        self.memory = Some(report);
        Ok(())
    }

    /// Phase 5: per transform; a transform whose measured change is a real increase
    /// is dropped and the survivors are checked again.
    pub fn attribution(&mut self) -> Result<()> {
        let Some(memory) = self.memory.clone() else {
            return Ok(());
        };
        let mut by_transform: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
        for i in self.kept() {
            if self.fixes[i].fix.impact == pyslim_transforms::Impact::Memory {
                by_transform
                    .entry(self.candidates[i].1.transform)
                    .or_default()
                    .push(i);
            }
        }
        if by_transform.len() == 1 {
            let (name, set) = by_transform.iter().next().expect("one entry");
            self.attribution.push(Attribution {
                transform: name.to_string(),
                fixes: set.len(),
                total: memory.total.clone(),
            });
        } else {
            self.attribute(&memory, &by_transform)?;
        }
        // The gate: a real increase costs the transform its fixes.
        let increases: Vec<(String, i64)> = self
            .attribution
            .iter()
            .filter_map(|a| {
                let total = a.total.as_ref()?;
                (total.real && total.change > 0).then(|| (a.transform.clone(), total.change))
            })
            .collect();
        if increases.is_empty() {
            return Ok(());
        }
        for (transform, change) in increases {
            for i in by_transform
                .get(transform.as_str())
                .cloned()
                .unwrap_or_default()
            {
                self.drop_fix(i, Blame::MemoryIncrease { change });
            }
        }
        // The survivors, checked again without them.
        let kept = self.kept();
        if kept.is_empty() {
            return Ok(());
        }
        let tests = self.tests_reaching(&kept);
        let set = self.set(&kept);
        let run = self.run_on(0, &set, "re-check", &tests, MeterMode::Off)?;
        let only = match &tests {
            Tests::All => None,
            Tests::Only(ids) => Some(ids.clone()),
        };
        if let Some(blame) = self.judge().blame(&run, only.as_ref()) {
            self.initial_blame = Some(blame);
            self.search()?;
        }
        Ok(())
    }

    /// Runs only the tests whose change was real: without fixes, then with each
    /// transform's fixes alone, interleaved (a test's peak depends on what ran before
    /// it in the session, so focused runs are compared with focused runs).
    fn attribute(
        &mut self,
        memory: &MemoryReport,
        by_transform: &BTreeMap<&'static str, Vec<usize>>,
    ) -> Result<()> {
        let changed: BTreeSet<String> = memory
            .tests
            .iter()
            .filter(|t| t.change.real)
            .map(|t| t.test.clone())
            .collect();
        let repeat = if changed.is_empty() {
            0
        } else {
            self.request.repeat.max(1)
        };
        let tests = Tests::Only(changed.clone());
        let mut before = Vec::new();
        let mut alone: Vec<Vec<TestRecords>> = vec![Vec::new(); by_transform.len()];
        for n in 0..repeat {
            let sides = std::iter::once(("before".to_string(), Vec::new(), None)).chain(
                by_transform
                    .iter()
                    .enumerate()
                    .map(|(k, (name, set))| (format!("{name} alone"), set.clone(), Some(k))),
            );
            for (name, set, slot) in sides {
                let candidates = self.set(&set);
                let label = format!("{name} #{}", n + 1);
                let run = self.run_on(0, &candidates, &label, &tests, MeterMode::PerTest)?;
                match (
                    self.judge().blame(&run, Some(&changed)),
                    run.pytest_verdict(),
                ) {
                    (None, crate::python::RunOutcome::Verdict(records)) => match slot {
                        Some(k) => alone[k].push(records),
                        None => before.push(records),
                    },
                    (blame, _) => self.skipped.push(SkippedRun {
                        run: label,
                        cause: blame.map_or_else(String::new, |b| b.to_string()),
                    }),
                }
            }
        }
        for ((name, set), runs) in by_transform.iter().zip(alone) {
            let total = (!runs.is_empty() && !before.is_empty())
                .then(|| memory::compare(&before, &runs, &self.noisy).total)
                .flatten();
            self.attribution.push(Attribution {
                transform: name.to_string(),
                fixes: set.len(),
                total,
            });
        }
        Ok(())
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
            .map_or_else(Vec::new, |j| j.flaky.borrow().iter().cloned().collect());
        VerifyReport {
            python: self.python,
            pytest_args: self.request.args.clone(),
            baseline_failures: self.baseline_failures,
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
