//! Phase 3, the culprit search: which kept fixes make the tests that reach them fail.
//!
//! Only the fixes that reach the broken tests are suspects, split into groups that
//! share no test, searched two at a time on the two copies, each group running only its
//! broken tests (with every kept fix outside it applied). What the failures show
//! points at suspects first: the class an `AttributeError` names (`'Image' object has
//! no attribute 'x'`: a class that lost its `__dict__`), else the files their
//! tracebacks went through; when the failure goes away without those, only they are
//! searched. A test module that no longer imports is searched among the fixes in the
//! modules it reaches, collecting only that module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::Blame;
use super::bisect::{self, Purpose};
use super::judge::Judge;
use super::pipeline::{Tests, Verifier, pytest_spec};
use super::reach;
use crate::python::runner::RunSpec;
use crate::python::worker::{MeterMode, Target};
use crate::python::{Candidate, Finished, Session};

/// Rounds of confirming the survivors (and searching again) before giving up.
const CONFIRM_ROUNDS: usize = 4;

/// Rounds of following the failures' hints before a group is bisected in full.
const HINT_ROUNDS: usize = 6;

impl Verifier<'_> {
    /// Remembers where the run's failures happened (see `hints`).
    pub(super) fn note_hints(&mut self, run: &Finished) {
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

    /// Phase 3: the culprit search, until the kept fixes pass the tests that reach them.
    pub fn search(&mut self) -> Result<()> {
        let mut blame = self.initial_blame.take();
        for _ in 0..CONFIRM_ROUNDS {
            let Some(current) = blame else {
                return Ok(());
            };
            match &current {
                Blame::Collection { modules, text } => {
                    let mut broken = modules.clone();
                    while let Some(module) = broken.first().cloned() {
                        self.search_collection(&module, text)?;
                        broken.remove(0);
                        // One culprit often breaks many modules (a class every test
                        // module imports): one collection of the others says which
                        // still fail, instead of a search for each.
                        if !broken.is_empty() {
                            broken = self.still_broken(&broken)?;
                        }
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
    pub(super) fn search_tests(&mut self, broken: &BTreeSet<String>) -> Result<()> {
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
    fn search_collection(&mut self, module: &str, text: &str) -> Result<()> {
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
        // The error the run that broke the import gave, for the culprit's reason.
        let blame = Blame::Collection {
            modules: vec![module.to_string()],
            text: text.to_string(),
        };
        let hinted = self.hinted(&suspects, &BTreeSet::from([module.to_string()]));
        let probe = Probe::Collect(self.collect_spec(&[module]));
        self.search_groups(vec![(suspects, blame, probe, hinted)])
    }

    /// Which of `modules` still fail to import with the kept fixes: one collection of
    /// them all. A run that gives no result keeps them all (the search decides).
    fn still_broken(&mut self, modules: &[String]) -> Result<Vec<String>> {
        let set = self.set(&self.kept());
        let names: Vec<&str> = modules.iter().map(String::as_str).collect();
        let mut spec = self.collect_spec(&names);
        spec.label = format!("re-collect ({} modules)", modules.len());
        self.count(&Tests::Only(modules.iter().cloned().collect()));
        let session = &mut self.sessions[0];
        session.apply(&set)?;
        let run = session.launch(spec)?;
        let Some(result) = &run.result else {
            return Ok(modules.to_vec());
        };
        let failing: BTreeSet<&str> = result
            .collection_errors
            .iter()
            .map(|e| e.nodeid.as_str())
            .collect();
        Ok(modules
            .iter()
            .filter(|m| failing.contains(m.as_str()))
            .cloned()
            .collect())
    }

    /// A spec that only collects `modules`: the user's options, no test paths.
    fn collect_spec(&self, modules: &[&str]) -> RunSpec {
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
        args.extend(modules.iter().map(|m| m.to_string()));
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
