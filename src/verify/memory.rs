//! Per-test memory figures from repeated, interleaved runs: the median with min-max of
//! each test's tracemalloc peak before and after the rewrite, and the rule that calls a
//! change real (docs: python-memory-facts, "Measuring").

use std::collections::BTreeMap;

use super::runner::TestRecord;

/// A change is real only above this many bytes, whatever the spread.
pub const NOISE_FLOOR: u64 = 4096;

/// Median, minimum and maximum of repeated measurements, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Spread {
    /// Median (the mean of the middle two for an even count).
    pub median: u64,
    /// Smallest.
    pub min: u64,
    /// Largest.
    pub max: u64,
}

impl Spread {
    /// Summarises `values` (must not be empty).
    pub fn of(values: &[u64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_unstable();
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2
        };
        Spread {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }

    /// max - min.
    pub fn range(&self) -> u64 {
        self.max - self.min
    }
}

/// A before/after comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// Before the rewrite.
    pub before: Spread,
    /// After the rewrite.
    pub after: Spread,
    /// after.median - before.median (negative: a saving).
    pub change: i64,
    /// max(4 KiB, 3x the larger spread): what a change must exceed to be real.
    pub threshold: u64,
    /// Whether |change| exceeds the threshold.
    pub real: bool,
}

impl Change {
    /// Compares two series of measurements.
    pub fn new(before: &[u64], after: &[u64]) -> Change {
        let before = Spread::of(before);
        let after = Spread::of(after);
        let change = after.median as i64 - before.median as i64;
        let threshold = NOISE_FLOOR.max(3 * before.range().max(after.range()));
        Change {
            before,
            after,
            change,
            threshold,
            real: change.unsigned_abs() > threshold,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        assert_eq!(
            Spread::of(&[5, 1, 3]),
            Spread {
                median: 3,
                min: 1,
                max: 5
            }
        );
        assert_eq!(Spread::of(&[4, 2]).median, 3);
    }

    #[test]
    fn small_changes_are_noise() {
        let c = Change::new(&[10_000, 10_100, 10_050], &[7_000, 7_050, 7_000]);
        assert_eq!(c.change, -3050);
        assert!(!c.real, "below 4 KiB");
        let c = Change::new(&[100_000, 100_100, 100_050], &[50_000, 50_000, 50_000]);
        assert!(c.real);
        // A large saving drowned in a larger spread is not real.
        let c = Change::new(&[100_000, 160_000, 130_000], &[50_000, 60_000, 55_000]);
        assert_eq!(c.threshold, 180_000);
        assert!(!c.real);
    }
}
