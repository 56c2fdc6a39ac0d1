//! Finding the fixes that break tests: delta debugging over fixes, grouped by file and
//! then by fix.
//!
//! The oracle runs the suite with a set of fixes applied and says whether tests that
//! passed at baseline now fail (and which). The empty set is the baseline, good by
//! definition. While the surviving set is bad, a binary search over prefixes of the
//! files finds the first file whose fixes make a prefix bad, then a second binary search
//! over that file's fixes (all earlier files' fixes applied) finds the fix; it is
//! dropped and the survivors are run again. Each culprit costs about
//! log2(files) + log2(fixes in its file) runs, plus one re-check and one confirming run.
//!
//! The oracle is told why it runs ([`Purpose`]): search steps and re-checks may run
//! only the tests in the current blame (cheap), confirmations must run everything. A
//! culprit is re-checked once before it is dropped: when its failing set passes on the
//! re-run the failure was flaky, nothing is dropped, and the survivors are confirmed
//! again (the oracle is expected to stop blaming tests that flaked).

use anyhow::Result;

/// A fix that was dropped and what its smallest failing run showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped<T, B> {
    /// The fix.
    pub item: T,
    /// What failed when it was added (the oracle's blame).
    pub blame: B,
}

/// What the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Search<T, B> {
    /// The fixes kept, per group, in their original order.
    pub kept: Vec<Vec<T>>,
    /// The fixes dropped, in the order they were found.
    pub dropped: Vec<Dropped<T, B>>,
    /// Oracle calls made.
    pub runs: usize,
}

/// Why the oracle is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'b, B> {
    /// A search step: only what `B` blames needs to run.
    Search(&'b B),
    /// A culprit's failing set once more, to tell a real failure from a flaky one.
    Recheck(&'b B),
    /// The survivors: everything must run.
    Confirm,
}

/// Drops culprits from `groups` until the oracle accepts the survivors. `blame` is what
/// the oracle said about all of `groups` (known bad). The oracle returns `None` for good
/// and `Some(blame)` for bad.
pub fn drop_culprits<T: Clone, B: Clone>(
    groups: Vec<Vec<T>>,
    blame: B,
    mut oracle: impl FnMut(&[T], Purpose<'_, B>) -> Result<Option<B>>,
) -> Result<Search<T, B>> {
    let mut kept: Vec<Vec<T>> = groups.into_iter().filter(|g| !g.is_empty()).collect();
    let mut dropped = Vec::new();
    let mut runs = 0;
    let mut current_blame = blame;
    // Flaky re-checks do not shrink the set; bound the loop all the same.
    let mut rechecks_passed = 0;
    let limit = kept.iter().map(Vec::len).sum::<usize>() + 3;
    loop {
        let flat = |groups: &[Vec<T>]| -> Vec<T> { groups.iter().flatten().cloned().collect() };
        // Files: prefix of `lo` files is good, of `hi` files bad.
        let (mut lo, mut hi) = (0, kept.len());
        let mut hi_blame = current_blame.clone();
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            runs += 1;
            match oracle(&flat(&kept[..mid]), Purpose::Search(&current_blame))? {
                None => lo = mid,
                Some(b) => {
                    hi = mid;
                    hi_blame = b;
                }
            }
        }
        let file = hi - 1;
        let base = flat(&kept[..file]);
        // Fixes in that file: base plus the first `lo` fixes is good, plus `hi` bad.
        let (mut lo, mut hi) = (0, kept[file].len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let mut set = base.clone();
            set.extend(kept[file][..mid].iter().cloned());
            runs += 1;
            match oracle(&set, Purpose::Search(&current_blame))? {
                None => lo = mid,
                Some(b) => {
                    hi = mid;
                    hi_blame = b;
                }
            }
        }
        let mut bad_set = base;
        bad_set.extend(kept[file][..hi].iter().cloned());
        runs += 1;
        let flaky = oracle(&bad_set, Purpose::Recheck(&hi_blame))?.is_none();
        if flaky {
            rechecks_passed += 1;
            if rechecks_passed > limit {
                anyhow::bail!("the tests keep failing and passing at random: no verdict");
            }
        } else {
            let item = kept[file].remove(hi - 1);
            dropped.push(Dropped {
                item,
                blame: hi_blame,
            });
            kept.retain(|g| !g.is_empty());
            if kept.is_empty() {
                break;
            }
        }
        runs += 1;
        match oracle(&flat(&kept), Purpose::Confirm)? {
            None => break,
            Some(b) => current_blame = b,
        }
    }
    Ok(Search {
        kept,
        dropped,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake test suite: each culprit breaks a test when applied; `pairs` break only
    /// when both are applied.
    fn suite(culprits: &[u32], pairs: &[(u32, u32)]) -> impl Fn(&[u32]) -> Option<String> {
        let culprits = culprits.to_vec();
        let pairs = pairs.to_vec();
        move |set: &[u32]| {
            if let Some(c) = culprits.iter().find(|c| set.contains(c)) {
                return Some(format!("test_{c}"));
            }
            pairs
                .iter()
                .find(|(a, b)| set.contains(a) && set.contains(b))
                .map(|(a, b)| format!("test_{a}_{b}"))
        }
    }

    fn search(
        groups: Vec<Vec<u32>>,
        culprits: &[u32],
        pairs: &[(u32, u32)],
    ) -> Search<u32, String> {
        let oracle = suite(culprits, pairs);
        let all: Vec<u32> = groups.iter().flatten().copied().collect();
        let blame = oracle(&all).expect("all fixes must be bad");
        drop_culprits(groups, blame, |set, _| Ok(oracle(set))).expect("oracle never errors")
    }

    #[test]
    fn single_culprit_among_many_files() {
        let groups = vec![vec![1, 2], vec![3, 4, 5], vec![6], vec![7, 8]];
        let found = search(groups, &[4], &[]);
        assert_eq!(
            found.kept,
            vec![vec![1, 2], vec![3, 5], vec![6], vec![7, 8]]
        );
        assert_eq!(
            found.dropped,
            vec![Dropped {
                item: 4,
                blame: "test_4".into()
            }]
        );
        // 2 steps over 4 files + 2 over the file's 3 fixes + re-check + confirmation.
        assert_eq!(found.runs, 6);
    }

    #[test]
    fn two_culprits_in_different_files() {
        let groups = vec![vec![1], vec![2, 3], vec![4, 5, 6]];
        let found = search(groups, &[3, 6], &[]);
        let items: Vec<u32> = found.dropped.iter().map(|d| d.item).collect();
        assert_eq!(items, vec![3, 6]);
        assert_eq!(found.kept, vec![vec![1], vec![2], vec![4, 5]]);
    }

    #[test]
    fn interacting_pair_drops_one_of_them() {
        let groups = vec![vec![1, 2], vec![3, 4]];
        let found = search(groups, &[], &[(2, 4)]);
        assert_eq!(found.dropped.len(), 1);
        assert_eq!(found.dropped[0].item, 4);
        assert_eq!(found.dropped[0].blame, "test_2_4");
        assert_eq!(found.kept, vec![vec![1, 2], vec![3]]);
    }

    #[test]
    fn only_fix_is_the_culprit_after_a_recheck() {
        let found = search(vec![vec![9]], &[9], &[]);
        assert!(found.kept.is_empty());
        assert_eq!(found.runs, 1);
    }

    #[test]
    fn a_flaky_failure_drops_nothing() {
        // Fails once (the all-fixes run, given as the initial blame), then never again.
        let groups = vec![vec![1, 2], vec![3]];
        let mut calls = Vec::new();
        let found = drop_culprits(groups, "test_flaky".to_string(), |set, purpose| {
            calls.push((set.to_vec(), format!("{purpose:?}")));
            Ok(None)
        })
        .unwrap();
        assert!(found.dropped.is_empty());
        assert_eq!(found.kept, vec![vec![1, 2], vec![3]]);
        // Search steps see nothing fail, so the last fix is suspected, re-checked (passes:
        // flaky), and the survivors confirmed.
        assert!(calls[calls.len() - 2].1.starts_with("Recheck"));
        assert_eq!(calls.last().unwrap().1, "Confirm");
    }

    #[test]
    fn runs_stay_within_two_k_log_n_plus_two() {
        // k culprits among n fixes spread over files of up to 4, every placement.
        for n in [2u32, 3, 5, 8, 16, 33, 64] {
            for k in 1..=3u32.min(n) {
                for start in 0..n {
                    let culprits: Vec<u32> = (0..k).map(|i| (start + i * 7) % n).collect();
                    let ids: Vec<u32> = (0..n).collect();
                    let groups: Vec<Vec<u32>> = ids.chunks(4).map(<[u32]>::to_vec).collect();
                    let found = search(groups, &culprits, &[]);
                    let mut dropped: Vec<u32> = found.dropped.iter().map(|d| d.item).collect();
                    dropped.sort_unstable();
                    let mut expected = culprits.clone();
                    expected.sort_unstable();
                    expected.dedup();
                    assert_eq!(dropped, expected, "n {n} k {k}");
                    let bound = 2.0 * f64::from(k) * f64::from(n).log2() + 2.0;
                    assert!(
                        found.runs as f64 <= bound,
                        "n {n}, k {k}, culprits {culprits:?}: {} runs > {bound}",
                        found.runs
                    );
                }
            }
        }
    }

    #[test]
    fn everything_bad_drops_everything() {
        let found = search(vec![vec![1, 2], vec![3]], &[1, 2, 3], &[]);
        assert!(found.kept.is_empty());
        assert_eq!(found.dropped.len(), 3);
    }
}
