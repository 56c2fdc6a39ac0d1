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

/// Rounds of following the failures' hints before a group is bisected in full.
const HINT_ROUNDS: usize = 6;

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
    /// What the latest failures point at, by test id or test module: the files their
    /// tracebacks went through, and their error text (`'Image' object has no
    /// attribute 'x'` names a class that got slots).
    hints: BTreeMap<String, (Vec<String>, String)>,
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
        self.note_hints(&run);
        self.initial_blame = self.judge().blame(&run, None);
        Ok(())
    }

    /// Remembers where the run's failures happened (see `hints`).
    fn note_hints(&mut self, run: &Finished) {
        self.hints.clear();
        let Some(result) = &run.result else {
            return;
        };
        for (id, record) in &result.tests {
            if !record.files.is_empty() || record.error.is_some() {
                let error = record.error.clone().unwrap_or_default();
                self.hints.insert(id.clone(), (record.files.clone(), error));
            }
        }
        for error in &result.collection_errors {
            self.hints.insert(
                error.nodeid.clone(),
                (error.files.clone(), error.text.clone()),
            );
        }
    }

    /// The fixes among `fixes` the latest failures of `failures` point at.
    fn hinted(&self, fixes: &[usize], failures: &BTreeSet<String>) -> Vec<usize> {
        let hints: Vec<(Vec<String>, String)> = failures
            .iter()
            .filter_map(|f| self.hints.get(f).cloned())
            .collect();
        self.hinter().pointed_at(fixes, &hints)
    }

    /// What maps a failure's traceback and error text to candidates.
    fn hinter(&self) -> Hinter {
        Hinter {
            roots: self
                .sessions
                .iter()
                .map(|s| s.copy_root().to_path_buf())
                .collect(),
            paths: self
                .candidates
                .iter()
                .map(|(index, _)| {
                    self.sessions[0]
                        .relative
                        .get(index)
                        .map(|p| p.to_string_lossy().replace('\\', "/"))
                        .unwrap_or_default()
                })
                .collect(),
            classes: self
                .fixes
                .iter()
                .map(|f| match &f.fix.saving.subject {
                    crate::engine::ReportedSubject::Class { qualname, .. } => {
                        Some(qualname.rsplit('.').next().unwrap_or(qualname).to_string())
                    }
                    _ => None,
                })
                .collect(),
        }
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
            self.note_hints(&run);
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
        let groups = reach::groups(&known, broken)
            .into_iter()
            .map(|(fixes, tests)| {
                let blame = Blame::Tests {
                    tests: tests.iter().cloned().collect(),
                };
                let hinted = self.hinted(&fixes, &tests);
                (fixes, blame, Probe::Tests(Tests::Only(tests)), hinted)
            })
            .collect();
        self.search_groups(groups)
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
        let hinted = self.hinted(&suspects, &BTreeSet::from([module.to_string()]));
        let probe = Probe::Collect(self.collect_spec(module));
        self.search_groups(vec![(suspects, blame, probe, hinted)])
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

    /// Drops the culprits among `fixes` for `blame`; search steps run the tests in the
    /// current blame, confirmations `confirm_tests` (plus whatever the fixes reach).
    fn search_group(
        &mut self,
        fixes: Vec<usize>,
        blame: Blame,
        confirm_tests: Tests,
    ) -> Result<()> {
        let failures: BTreeSet<String> = match &blame {
            Blame::Tests { tests } => tests.iter().cloned().collect(),
            _ => BTreeSet::new(),
        };
        let hinted = self.hinted(&fixes, &failures);
        self.search_groups(vec![(fixes, blame, Probe::Tests(confirm_tests), hinted)])
    }

    /// Searches independent groups (they share no test), two at a time on the two
    /// copies, and drops what they find.
    fn search_groups(&mut self, groups: Vec<(Vec<usize>, Blame, Probe, Vec<usize>)>) -> Result<()> {
        let groups: Vec<_> = groups.into_iter().filter(|g| !g.0.is_empty()).collect();
        if groups.is_empty() {
            return Ok(());
        }
        let judge = self.judge.take().expect("the baseline ran first");
        let context = SearchContext {
            candidates: &self.candidates,
            hinter: self.hinter(),
            judge: &judge,
            args: self.sessions[0].runner.args.clone(),
            timeout: self.timeout,
            basis: self.timeout_basis.clone(),
            baseline: self.baseline.len(),
        };
        let kept = self.kept();
        let queue = std::sync::Mutex::new(
            groups
                .into_iter()
                .map(|(fixes, blame, probe, hinted)| {
                    // A hint that names every fix (or none) says nothing.
                    let hinted = if hinted.len() < fixes.len() {
                        hinted
                    } else {
                        Vec::new()
                    };
                    // Every run applies the kept fixes outside the group as well: the
                    // group's culprits are found in the company they will keep.
                    let base: Vec<usize> = kept
                        .iter()
                        .copied()
                        .filter(|i| !fixes.contains(i))
                        .collect();
                    Group {
                        fixes,
                        blame,
                        probe,
                        hinted,
                        base,
                    }
                })
                .collect::<std::collections::VecDeque<_>>(),
        );
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = if cores >= 2 { self.sessions.len() } else { 1 };
        let results: Vec<Result<GroupResult>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .sessions
                .iter_mut()
                .take(workers)
                .map(|session| {
                    let queue = &queue;
                    let context = &context;
                    scope.spawn(move || {
                        let mut dropped = Vec::new();
                        let mut tests = 0;
                        loop {
                            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                            let Some(group) = next else {
                                break;
                            };
                            let (found, ran) = search_on(session, context, group)?;
                            dropped.extend(found);
                            tests += ran;
                        }
                        Ok((dropped, tests))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a search thread panicked")))
                })
                .collect()
        });
        self.judge = Some(judge);
        for result in results {
            let (dropped, tests) = result?;
            self.tests_run += tests;
            for d in dropped {
                self.drop_fix(d.item, d.blame);
            }
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
            .map_or_else(Vec::new, Judge::flaky_tests);
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

/// What one worker's group searches dropped, and the tests they ran.
type GroupResult = (Vec<bisect::Dropped<usize, Blame>>, usize);

/// What a culprit search needs besides its session.
struct SearchContext<'c> {
    candidates: &'c [Candidate],
    hinter: Hinter,
    judge: &'c Judge,
    args: Vec<String>,
    timeout: Duration,
    basis: String,
    baseline: usize,
}

/// What failures showed: per failure, the files its traceback went through and its
/// error text.
type Hints = Vec<(Vec<String>, String)>;

/// Maps what a failure shows (the files its traceback went through, its error text) to
/// the candidates it points at.
struct Hinter {
    /// The copies' roots (tracebacks may name files by absolute path).
    roots: Vec<PathBuf>,
    /// Each candidate's file, relative to the project root.
    paths: Vec<String>,
    /// Each candidate's class name, for slots rewrites.
    classes: Vec<Option<String>>,
}

impl Hinter {
    /// The fixes among `fixes` that `hints` (files, error text) point at: the classes an
    /// AttributeError names (`'Image' object has no attribute 'x'`, `... is
    /// read-only`: a class that lost its __dict__) when there are any, else the fixes
    /// in the files the tracebacks went through.
    fn pointed_at(&self, fixes: &[usize], hints: &[(Vec<String>, String)]) -> Vec<usize> {
        let classes: BTreeSet<&str> = hints
            .iter()
            .flat_map(|(_, error)| {
                error.match_indices("' object ").filter_map(|(at, _)| {
                    let start = error[..at].rfind('\'')? + 1;
                    Some(&error[start..at])
                })
            })
            .collect();
        let by_class: Vec<usize> = fixes
            .iter()
            .copied()
            .filter(|i| {
                self.classes[*i]
                    .as_deref()
                    .is_some_and(|c| classes.contains(c))
            })
            .collect();
        if !by_class.is_empty() {
            return by_class;
        }
        let files: BTreeSet<String> = hints
            .iter()
            .flat_map(|(files, _)| files.iter())
            .map(|file| {
                let path = std::path::Path::new(file);
                self.roots
                    .iter()
                    .find_map(|r| reach::relative_to(path, r))
                    .unwrap_or_else(|| file.replace('\\', "/"))
            })
            .collect();
        fixes
            .iter()
            .copied()
            .filter(|i| files.contains(&self.paths[*i]))
            .collect()
    }
}

/// How a search step is judged: by running tests, or by collecting one test module
/// (an import that failed).
enum Probe {
    /// Run the tests in the current blame; confirmations run these.
    Tests(Tests),
    /// Collect only this module (the spec of that run).
    Collect(RunSpec),
}

/// One group of suspects to search.
struct Group {
    fixes: Vec<usize>,
    blame: Blame,
    probe: Probe,
    /// The suspects the failures' tracebacks point at (empty: no hint).
    hinted: Vec<usize>,
    /// Kept fixes outside the group, applied in every run.
    base: Vec<usize>,
}

/// Candidate indexes grouped by file, in file order.
fn by_file(candidates: &[Candidate], fixes: &[usize]) -> Vec<Vec<usize>> {
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in fixes {
        out.entry(candidates[*i].0).or_default().push(*i);
    }
    out.into_values().collect()
}

/// One run of the group's probe with `set` (and the base) applied: what it says
/// against them, and the tests it ran.
fn probe_once(
    session: &mut Session,
    context: &SearchContext,
    probe: &Probe,
    set: &[usize],
    purpose: Purpose<'_, Blame>,
) -> Result<(Option<Blame>, usize, Hints)> {
    let candidates: Vec<Candidate> = set.iter().map(|i| context.candidates[*i].clone()).collect();
    session.apply(&candidates)?;
    let step = match purpose {
        Purpose::Search(_) => "bisect",
        Purpose::Recheck(_) => "re-check",
        Purpose::Confirm => "confirm",
    };
    match probe {
        Probe::Collect(spec) => {
            let mut spec = spec.clone();
            spec.label = format!("{step} collect ({} fixes)", set.len());
            let run = session.launch(spec)?;
            let hints = run
                .result
                .iter()
                .flat_map(|r| r.collection_errors.iter())
                .map(|e| (e.files.clone(), e.text.clone()))
                .collect();
            let blame = match &run.result {
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
            };
            Ok((blame, 1, hints))
        }
        Probe::Tests(confirm) => {
            let tests = match purpose {
                Purpose::Search(Blame::Tests { tests })
                | Purpose::Recheck(Blame::Tests { tests }) => {
                    Tests::Only(tests.iter().cloned().collect())
                }
                _ => confirm.clone(),
            };
            let ran = match &tests {
                Tests::All => context.baseline,
                Tests::Only(ids) => ids.len(),
            };
            let label = format!("{step} ({} fixes)", set.len());
            let mut spec = pytest_spec(&label, &tests, MeterMode::Off, &context.args);
            spec.timeout = Some(context.timeout);
            spec.limit_basis = Some(context.basis.clone());
            let run = session.launch(spec)?;
            let only = match &tests {
                Tests::All => None,
                Tests::Only(ids) => Some(ids),
            };
            let blame = context.judge.blame(&run, only);
            if let (Purpose::Recheck(Blame::Tests { tests }), None) = (purpose, &blame) {
                context.judge.flaked(tests);
            }
            let hints = run
                .result
                .iter()
                .flat_map(|r| r.tests.values())
                .filter(|t| matches!(t.outcome.as_str(), "failed" | "error"))
                .map(|t| (t.files.clone(), t.error.clone().unwrap_or_default()))
                .collect();
            Ok((blame, ran, hints))
        }
    }
}

/// One group's culprit search on one session. Returns what it dropped and the tests
/// it ran.
fn search_on(session: &mut Session, context: &SearchContext, group: Group) -> Result<GroupResult> {
    let mut ran = 0;
    let Group {
        fixes,
        blame,
        probe,
        hinted,
        mut base,
    } = group;
    // The failures point at some suspects (their files, the class an AttributeError
    // names): when the failure goes away with every other suspect applied, the
    // culprits are among those, and the others join the base. A run that still fails
    // points further (another class, another file): a few rounds of that cost less
    // than a bisection over every suspect.
    let mut suspects = fixes;
    let mut pointed = hinted;
    for _ in 0..HINT_ROUNDS {
        if pointed.is_empty() || pointed.len() >= suspects.len() {
            break;
        }
        let mut others = base.clone();
        others.extend(suspects.iter().copied().filter(|i| !pointed.contains(i)));
        let (found, tests, hints) =
            probe_once(session, context, &probe, &others, Purpose::Search(&blame))?;
        ran += tests;
        if found.is_none() {
            base.extend(suspects.iter().copied().filter(|i| !pointed.contains(i)));
            suspects = pointed;
            break;
        }
        let more = context.hinter.pointed_at(&suspects, &hints);
        let before = pointed.len();
        for i in more {
            if !pointed.contains(&i) {
                pointed.push(i);
            }
        }
        if pointed.len() == before {
            // Nothing new to point at: search every suspect.
            break;
        }
    }
    let search = bisect::drop_culprits(
        by_file(context.candidates, &suspects),
        blame,
        |set, purpose| {
            let mut with_base = base.clone();
            with_base.extend_from_slice(set);
            let (found, tests, _) = probe_once(session, context, &probe, &with_base, purpose)?;
            ran += tests;
            Ok(found)
        },
    )?;
    Ok((search.dropped, ran))
}

/// A test-suite run of `tests` with the user's arguments.
fn pytest_spec(label: &str, tests: &Tests, meter: MeterMode, args: &[String]) -> RunSpec {
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
