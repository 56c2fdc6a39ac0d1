//! Per-test memory figures from repeated, interleaved runs: each test's peak before and
//! after the rewrite, compared with the noise rule of [`crate::python::stats`].

use std::collections::BTreeMap;

use crate::python::runner::TestRecord;
use crate::python::stats::Change;

/// One test's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TestMemory {
    /// pytest node id.
    pub test: String,
    /// Its peak before and after.
    #[serde(flatten)]
    pub change: Change,
}

/// The memory part of a verification.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemoryReport {
    /// Runs on each side.
    pub runs_per_side: usize,
    /// Tests that passed with a peak in every run on both sides, biggest change first.
    pub tests: Vec<TestMemory>,
    /// The sum of those tests' peaks, per run, compared.
    pub total: Option<Change>,
}

/// Builds the report from the memory runs of each side.
pub fn compare(
    before: &[BTreeMap<String, TestRecord>],
    after: &[BTreeMap<String, TestRecord>],
) -> MemoryReport {
    let peaks = |runs: &[BTreeMap<String, TestRecord>], id: &str| -> Option<Vec<u64>> {
        runs.iter()
            .map(|run| {
                run.get(id)
                    .filter(|t| t.outcome == "passed")
                    .and_then(|t| t.peak)
            })
            .collect()
    };
    let mut tests = Vec::new();
    let mut totals_before = vec![0u64; before.len()];
    let mut totals_after = vec![0u64; after.len()];
    if let (Some(first), false) = (before.first(), after.is_empty()) {
        for id in first.keys() {
            let (Some(b), Some(a)) = (peaks(before, id), peaks(after, id)) else {
                continue;
            };
            for (t, v) in totals_before.iter_mut().zip(&b) {
                *t += v;
            }
            for (t, v) in totals_after.iter_mut().zip(&a) {
                *t += v;
            }
            tests.push(TestMemory {
                test: id.clone(),
                change: Change::new(&b, &a),
            });
        }
    }
    let total = (!tests.is_empty()).then(|| Change::new(&totals_before, &totals_after));
    tests.sort_by_key(|t| std::cmp::Reverse(t.change.change.unsigned_abs()));
    MemoryReport {
        runs_per_side: before.len().min(after.len()),
        tests,
        total,
    }
}
