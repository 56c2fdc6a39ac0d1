//! Statistics of repeated measurements: the median with min-max of a series, and the
//! rule that calls a before/after change real: it must exceed max(4 KiB, 3x the larger
//! spread) (README, "Verification"; the figures behind it: docs/memory-figures.md).

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
    /// Whether |change| exceeds the threshold, with at least [`MIN_RUNS`] runs on
    /// each side: with fewer there is no spread to judge by, and the figures are only
    /// indicative.
    pub real: bool,
    /// Runs on the smaller side.
    pub runs: usize,
}

/// Runs per side a change needs before it can be called real.
pub const MIN_RUNS: usize = 3;

impl Change {
    /// Compares two series of measurements.
    pub fn new(before: &[u64], after: &[u64]) -> Change {
        let (before_runs, after_runs) = (before.len(), after.len());
        let before = Spread::of(before);
        let after = Spread::of(after);
        let change = after.median as i64 - before.median as i64;
        let threshold = NOISE_FLOOR.max(3 * before.range().max(after.range()));
        let runs = before_runs.min(after_runs);
        Change {
            before,
            after,
            change,
            threshold,
            real: runs >= MIN_RUNS && change.unsigned_abs() > threshold,
            runs,
        }
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
        // One run per side: no spread, nothing is real however large.
        let c = Change::new(&[100_000], &[50_000]);
        assert!(!c.real && c.runs == 1);
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
