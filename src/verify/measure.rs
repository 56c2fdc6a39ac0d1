//! Phases 4 and 5: memory and attribution. The tests that reach a kept memory fix run
//! before and after, side by side, each test's peak measured; per transform, a change
//! that is a real increase drops the transform's fixes, the survivors are checked
//! again, and their memory is measured again (the figures reported are of what is
//! written).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::memory::{self, MemoryReport};
use super::pipeline::{Tests, Verifier};
use super::{Attribution, Blame, SkippedRun};
use crate::python::TestRecords;
use crate::python::worker::MeterMode;

impl Verifier<'_> {
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
        // The per-test figures were of a set that is not written any more: measured
        // again with what is (none when no memory rewrite is left).
        self.memory = None;
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
        self.memory()
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
}
