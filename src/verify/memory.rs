//! Per-test memory figures from repeated, interleaved runs: each test's peak before and
//! after the rewrite, compared with the noise rule of [`crate::python::stats`]. Tests
//! whose peak varies between identical runs (threads, timing, caches) are found from
//! the repeated "before" runs and left out of the totals that decide anything.

use std::collections::BTreeMap;

use crate::python::runner::TestRecord;
use crate::python::stats::{Change, NOISE_FLOOR, Spread};

/// One test's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TestMemory {
    /// pytest node id.
    pub test: String,
    /// Its peak before and after.
    #[serde(flatten)]
    pub change: Change,
    /// Its peak varies between identical runs: not in the totals.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub noisy: bool,
}

/// The memory part of a verification.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemoryReport {
    /// Runs on each side.
    pub runs_per_side: usize,
    /// Tests run in the memory runs (those that reach a kept memory fix).
    pub tests_measured: usize,
    /// Tests that passed with a peak in every run on both sides, biggest change first.
    pub tests: Vec<TestMemory>,
    /// The sum of the steady tests' peaks, per run, compared.
    pub total: Option<Change>,
}

/// Tests whose peak, over the repeated runs without rewrites, varies by more than the
/// noise floor and a tenth of its median: their before/after difference says nothing.
pub fn noisy(before: &[BTreeMap<String, TestRecord>]) -> Vec<String> {
    if before.len() < 2 {
        return Vec::new();
    }
    let Some(first) = before.first() else {
        return Vec::new();
    };
    first
        .keys()
        .filter(|id| {
            let Some(peaks) = peaks(before, id) else {
                return false;
            };
            let spread = Spread::of(&peaks);
            spread.range() > NOISE_FLOOR.max(spread.median / 10)
        })
        .cloned()
        .collect()
}

fn peaks(runs: &[BTreeMap<String, TestRecord>], id: &str) -> Option<Vec<u64>> {
    runs.iter()
        .map(|run| {
            run.get(id)
                .filter(|t| t.outcome == "passed")
                .and_then(|t| t.peak)
        })
        .collect()
}

/// Builds the report from the memory runs of each side; `noisy` tests are listed but
/// not summed.
pub fn compare(
    before: &[BTreeMap<String, TestRecord>],
    after: &[BTreeMap<String, TestRecord>],
    noisy: &[String],
) -> MemoryReport {
    let mut tests = Vec::new();
    let mut totals_before = vec![0u64; before.len()];
    let mut totals_after = vec![0u64; after.len()];
    if let (Some(first), false) = (before.first(), after.is_empty()) {
        for id in first.keys() {
            let (Some(b), Some(a)) = (peaks(before, id), peaks(after, id)) else {
                continue;
            };
            let is_noisy = noisy.contains(id);
            if !is_noisy {
                for (t, v) in totals_before.iter_mut().zip(&b) {
                    *t += v;
                }
                for (t, v) in totals_after.iter_mut().zip(&a) {
                    *t += v;
                }
            }
            let mut change = Change::new(&b, &a);
            if is_noisy {
                change.real = false;
            }
            tests.push(TestMemory {
                test: id.clone(),
                change,
                noisy: is_noisy,
            });
        }
    }
    let steady = tests.iter().any(|t| !t.noisy);
    let total = steady.then(|| Change::new(&totals_before, &totals_after));
    tests.sort_by_key(|t| std::cmp::Reverse(t.change.change.unsigned_abs()));
    MemoryReport {
        runs_per_side: before.len().min(after.len()),
        tests_measured: 0,
        tests,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(peaks: &[(&str, u64)]) -> BTreeMap<String, TestRecord> {
        peaks
            .iter()
            .map(|(id, peak)| {
                (
                    id.to_string(),
                    TestRecord {
                        outcome: "passed".into(),
                        duration: 0.0,
                        peak: Some(*peak),
                        hits: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_test_that_varies_between_identical_runs_is_noisy_and_not_summed() {
        let before = [
            run(&[("steady", 100_000), ("threads", 8_000_000)]),
            run(&[("steady", 100_100), ("threads", 200_000)]),
            run(&[("steady", 100_050), ("threads", 4_000_000)]),
        ];
        let after = [
            run(&[("steady", 50_000), ("threads", 16_000_000)]),
            run(&[("steady", 50_000), ("threads", 100_000)]),
            run(&[("steady", 50_000), ("threads", 9_000_000)]),
        ];
        let noisy = noisy(&before);
        assert_eq!(noisy, vec!["threads".to_string()]);
        let report = compare(&before, &after, &noisy);
        let total = report.total.unwrap();
        assert_eq!(total.change, -50_050);
        assert!(total.real);
        let threads = report.tests.iter().find(|t| t.test == "threads").unwrap();
        assert!(threads.noisy && !threads.change.real);
    }

    #[test]
    fn one_run_per_side_is_indicative_only() {
        let report = compare(&[run(&[("t", 8_000_000)])], &[run(&[("t", 100)])], &[]);
        assert!(!report.tests[0].change.real);
        assert!(!report.total.unwrap().real);
        assert_eq!(report.runs_per_side, 1);
    }
}
