//! What a test run says against the fixes in it, measured against the baseline: tests
//! that passed there and fail now (or no longer ran), test modules that were
//! collected there and no longer import, or a run that cannot be judged at all.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::Blame;
use crate::python::{Finished, RunOutcome, TestRecords};

/// The baseline's verdicts, and the tests seen flaking since.
pub struct Judge {
    /// Tests that passed at baseline.
    pub passed: BTreeSet<String>,
    /// Test modules that failed to import at baseline (not blamed).
    pub broken_at_baseline: BTreeSet<String>,
    /// Tests seen failing and then passing on the same code: never blamed again.
    pub flaky: RefCell<BTreeSet<String>>,
}

impl Judge {
    /// From the baseline's records and collection errors.
    pub fn new(baseline: &TestRecords, collection_errors: &[String]) -> Judge {
        Judge {
            passed: baseline
                .iter()
                .filter(|(_, t)| t.outcome == "passed")
                .map(|(id, _)| id.clone())
                .collect(),
            broken_at_baseline: collection_errors.iter().cloned().collect(),
            flaky: RefCell::new(BTreeSet::new()),
        }
    }

    /// What `run` says against its fixes; `only` is the set of tests it ran (`None`:
    /// all). `None`: nothing against them.
    pub fn blame(&self, run: &Finished, only: Option<&BTreeSet<String>>) -> Option<Blame> {
        let outcome = run.pytest_verdict();
        let collection: Vec<String> = run
            .result
            .iter()
            .flat_map(|r| r.collection_errors.iter())
            .map(|e| e.nodeid.clone())
            .filter(|m| !self.broken_at_baseline.contains(m))
            .collect();
        if !collection.is_empty() {
            return Some(Blame::Collection {
                modules: collection,
                text: run
                    .result
                    .iter()
                    .flat_map(|r| r.collection_errors.iter())
                    .map(|e| short_error(&e.text))
                    .next()
                    .unwrap_or_default(),
            });
        }
        match &outcome {
            RunOutcome::Inconclusive(cause) => Some(Blame::Inconclusive {
                cause: cause.clone(),
            }),
            RunOutcome::Verdict(tests) => {
                let flaky = self.flaky.borrow();
                let expected = |id: &String| {
                    self.passed.contains(id)
                        && !flaky.contains(id)
                        && only.is_none_or(|o| o.contains(id))
                };
                let broken = outcome.failures().into_iter().filter(|id| expected(id));
                // A test that passed at baseline and no longer ran counts as broken too.
                let missing = self
                    .passed
                    .iter()
                    .filter(|id| expected(id) && !tests.contains_key(*id))
                    .cloned();
                let broken: Vec<String> = broken.chain(missing).collect();
                (!broken.is_empty()).then_some(Blame::Tests { tests: broken })
            }
        }
    }

    /// Marks tests as flaky.
    pub fn flaked(&self, tests: &[String]) {
        self.flaky.borrow_mut().extend(tests.iter().cloned());
    }
}

/// The error line of a collection error's report (`E   ImportError: ...`).
pub(super) fn short_error(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rev()
        .find(|l| l.starts_with("E "))
        .unwrap_or_else(|| text.lines().last().unwrap_or(""))
        .trim_start_matches("E ")
        .trim()
        .to_string()
}
