//! What the user reads: the findings of `check` and `rewrite` as text and JSON
//! ([`findings`]), and verification reports: the terminal summary ([`verify`]) and the
//! Markdown report meant as a migration pull request's description ([`markdown`]). The
//! verification's JSON form is [`crate::verify::VerifyReport`] serialized.

pub mod findings;
pub mod github;
pub mod level;
pub mod markdown;
pub mod profile;
pub mod ranking;
pub mod sarif;
pub mod verify;

/// Tests shown in the terminal and in the Markdown table.
pub const TOP_TESTS: usize = 10;

/// Formats a byte count for people: `812 B`, `4.0 KiB`, `1.53 MiB`, with a sign when
/// `signed`.
pub fn bytes(value: i64, signed: bool) -> String {
    let sign = match (signed, value.signum()) {
        (true, 1) => "+",
        (_, -1) => "-",
        _ => "",
    };
    let v = value.unsigned_abs() as f64;
    if v < 1024.0 {
        format!("{sign}{} B", value.unsigned_abs())
    } else if v < 1024.0 * 1024.0 {
        format!("{sign}{:.1} KiB", v / 1024.0)
    } else {
        format!("{sign}{:.2} MiB", v / (1024.0 * 1024.0))
    }
}

/// What one kept rewrite did to the workload, as a report line says it: the estimate
/// and the measured change of its transform's rewrites (the first row of a transform
/// carries the figure, `first`; its other rows point at it), with `(noise)` or
/// `(indicative)` where the change is not real. `strong` wraps a real figure (Markdown
/// bold).
pub fn rewrite_effect(
    r: &crate::verify::workload::RewriteFigures,
    first: bool,
    strong: fn(String) -> String,
) -> String {
    let measured = |c: &crate::python::stats::Change| {
        if c.runs < crate::python::stats::MIN_RUNS {
            format!("{} (indicative: {} run(s))", bytes(c.change, true), c.runs)
        } else if c.real {
            strong(bytes(c.change, true))
        } else {
            format!("{} (noise)", bytes(c.change, true))
        }
    };
    if r.impact == pyslim_transforms::Impact::Time {
        return match &r.measured {
            Some(c) => format!(
                "a time rewrite, no memory saving claimed; traced peak {}",
                measured(c)
            ),
            None => "a time rewrite, no memory saving claimed".to_string(),
        };
    }
    let estimated = r
        .estimated
        .map_or("-".to_string(), |b| format!("~{}", bytes(b as i64, false)));
    let measured = match &r.measured {
        None => "no figures".to_string(),
        Some(_) if !first => format!(
            "in the figure of the {} {} rewrites above",
            r.together, r.transform
        ),
        Some(c) if r.together > 1 => {
            format!(
                "{} for its {} {} rewrites together",
                measured(c),
                r.together,
                r.transform
            )
        }
        Some(c) => measured(c),
    };
    format!("estimated {estimated}, measured {measured}")
}

/// `one` when `n` is 1, else `many` ("1 rewrite", "2 rewrites").
pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// A transform's line in the per-transform part of a verify report: its rewrites
/// counted, and its own total formatted by `figure`, or why it has none. The runs with
/// a transform alone are made only for the tests whose change was real (`real_change`:
/// there is one), so without such a test none was made; otherwise they gave no figures
/// that compare (see the notes on runs not used).
pub(crate) fn alone_line(
    a: &crate::verify::Attribution,
    real_change: bool,
    figure: impl Fn(&crate::python::stats::Change) -> String,
) -> (String, String) {
    let rewrites = format!("{} {}", a.fixes, plural(a.fixes, "rewrite", "rewrites"));
    let total = match &a.total {
        Some(t) => figure(t),
        None if real_change => "no figures from its runs alone".to_string(),
        None => "not run alone (no test changed beyond the noise)".to_string(),
    };
    (rewrites, total)
}

/// Whether a test's memory changed beyond the noise (the runs of each transform alone
/// are made for those tests).
pub(crate) fn real_change(report: &crate::verify::VerifyReport) -> bool {
    report
        .memory
        .as_ref()
        .is_some_and(|m| m.tests.iter().any(|t| t.change.real))
}

#[cfg(test)]
mod rewrite_effect_tests {
    use super::rewrite_effect;
    use crate::python::stats::{Change, Spread};
    use crate::verify::workload::RewriteFigures;
    use pyslim_transforms::Impact;

    fn row(
        transform: &str,
        impact: Impact,
        change: i64,
        real: bool,
        together: usize,
    ) -> RewriteFigures {
        let spread = Spread {
            median: 1_000_000,
            min: 1_000_000,
            max: 1_000_000,
        };
        RewriteFigures {
            path: "m.py".into(),
            line: 3,
            transform: transform.into(),
            impact,
            estimated: (impact == Impact::Memory).then_some(1_900_000),
            measured: Some(Change {
                before: spread,
                after: spread,
                change,
                threshold: 4096,
                real,
                runs: 3,
            }),
            together,
        }
    }

    #[test]
    fn a_transform_measured_together_is_said_once() {
        let r = row("array", Impact::Memory, -1_887_437, true, 2);
        assert_eq!(
            rewrite_effect(&r, true, |s| s),
            "estimated ~1.81 MiB, measured -1.80 MiB for its 2 array rewrites together"
        );
        assert_eq!(
            rewrite_effect(&r, false, |s| s),
            "estimated ~1.81 MiB, measured in the figure of the 2 array rewrites above"
        );
    }

    #[test]
    fn noise_and_time_rewrites_claim_no_saving() {
        let r = row("slots", Impact::Memory, -144, false, 1);
        assert_eq!(
            rewrite_effect(&r, true, |s| s),
            "estimated ~1.81 MiB, measured -144 B (noise)"
        );
        let r = row("deque", Impact::Time, -144, false, 1);
        assert_eq!(
            rewrite_effect(&r, true, |s| s),
            "a time rewrite, no memory saving claimed; traced peak -144 B (noise)"
        );
    }
}

#[cfg(test)]
mod alone_line_tests {
    use super::alone_line;
    use crate::verify::Attribution;

    #[test]
    fn a_transform_without_figures_says_why() {
        let a = Attribution {
            transform: "slots".into(),
            fixes: 1,
            total: None,
        };
        let figure = |_: &crate::python::stats::Change| unreachable!();
        assert_eq!(
            alone_line(&a, false, figure),
            (
                "1 rewrite".to_string(),
                "not run alone (no test changed beyond the noise)".to_string()
            )
        );
        let two = Attribution { fixes: 2, ..a };
        assert_eq!(
            alone_line(&two, true, figure),
            (
                "2 rewrites".to_string(),
                "no figures from its runs alone".to_string()
            )
        );
    }
}
