//! `--report FILE.md`: the verification as a migration pull request's description: what
//! changed and why per transform, the verification result, a memory table, and a Mermaid
//! `xychart-beta` chart of the peak per test before and after.

use std::collections::BTreeMap;
use std::fmt::Write;

use pyslim_transforms::registry;

use super::{TOP_TESTS, alone_line, bytes, real_change};
use crate::engine::applicability_name;
use crate::python::Mode;
use crate::python::stats::{Change, Spread};
use crate::verify::workload::{OutputCheck, WorkloadReport};
use crate::verify::{Blame, FixOutcome, VerifyReport};

/// Where the kept rewrites went, for the report's first sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The files were rewritten.
    Files,
    /// The rewrites went into a patch (`--patch`).
    Patch,
    /// Nothing was written (`--dry-run`).
    Nothing,
}

/// Renders the report.
pub fn render(report: &VerifyReport, written: Written) -> String {
    let mut md = String::new();
    // Writing into a String cannot fail.
    let _ = write_report(&mut md, report, written);
    md
}

fn write_report(md: &mut String, report: &VerifyReport, written: Written) -> std::fmt::Result {
    writeln!(md, "## Memory-saving rewrites (pyslim)\n")?;
    let outcome = match written {
        Written::Files => "applied",
        Written::Patch => "in the patch",
        Written::Nothing => "kept but not written (dry run)",
    };
    writeln!(
        md,
        "{} rewrites {outcome}, {}. Every rewrite below was checked by running the \
         project's own tests.\n",
        report.kept_count(),
        dropped_summary(
            report
                .fixes
                .iter()
                .filter_map(|f| f.dropped_because.as_ref())
        )
    )?;

    if let Some(workload) = &report.workload {
        write_workload(md, workload)?;
    }

    writeln!(md, "### What changed and why\n")?;
    let mut by_transform: BTreeMap<&str, Vec<&FixOutcome>> = BTreeMap::new();
    for fix in report.fixes.iter().filter(|f| f.kept) {
        by_transform
            .entry(fix.fix.key.transform)
            .or_default()
            .push(fix);
    }
    if by_transform.is_empty() {
        writeln!(md, "Nothing: no rewrite survived verification.\n")?;
    }
    for (name, fixes) in &by_transform {
        writeln!(md, "#### `{name}` ({} rewrites)\n", fixes.len())?;
        if let Some(t) = registry::get(name) {
            writeln!(md, "{}.\n", capitalize(t.summary()))?;
        }
        for fix in fixes {
            writeln!(
                md,
                "- `{}:{}`: {} ({})",
                fix.path,
                fix.fix.line,
                fix.fix.message,
                applicability_name(fix.fix.applicability)
            )?;
        }
        writeln!(md)?;
    }

    writeln!(md, "### Verification\n")?;
    let how = match report.python.mode {
        Mode::Embedded => "embedded in pyslim",
        Mode::VenvInterpreter => "the virtualenv's own interpreter",
    };
    writeln!(
        md,
        "- Test suite: pytest{}, {} tests, Python {} ({how}).",
        if report.pytest_args.is_empty() {
            String::new()
        } else {
            format!(" `{}`", report.pytest_args.join(" "))
        },
        report.baseline_tests,
        report.python.venv_version
    )?;
    if report.baseline_failures.is_empty() && report.baseline_collection_errors.is_empty() {
        writeln!(md, "- Baseline (before any rewrite): all tests passed.")?;
    } else if !report.baseline_failures.is_empty() {
        writeln!(
            md,
            "- Baseline (before any rewrite): {} test(s) already failed and are not blamed on \
             the rewrites: {}.",
            report.baseline_failures.len(),
            code_list(&report.baseline_failures)
        )?;
    }
    if !report.baseline_collection_errors.is_empty() {
        writeln!(
            md,
            "- Baseline (before any rewrite): pytest could not collect {}; the tests there \
             ran neither before nor after the rewrites.",
            code_list(&report.baseline_collection_errors)
        )?;
    }
    if !report.flaky_tests.is_empty() {
        writeln!(
            md,
            "- Flaky (failed, then passed on a re-run of the same code; not blamed): {}.",
            code_list(&report.flaky_tests)
        )?;
    }
    writeln!(
        md,
        "- Runs: {} in all, of which {} to find the rewrites that broke tests; by phase: {}.",
        report.runs,
        report.bisection_runs,
        report
            .phases
            .iter()
            .filter(|p| p.runs > 0)
            .map(|p| format!(
                "{} {} ({} tests, {:.1}s)",
                p.phase, p.runs, p.tests, p.seconds
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if !report.noisy_tests.is_empty() {
        writeln!(
            md,
            "- Noisy (their peak varies between identical runs; not in the memory totals): {}.",
            code_list(&report.noisy_tests)
        )?;
    }
    let dropped: Vec<&FixOutcome> = report.fixes.iter().filter(|f| !f.kept).collect();
    if dropped.is_empty() {
        writeln!(md, "- No rewrite broke a test.\n")?;
    } else {
        writeln!(md, "\nDropped rewrites:\n")?;
        writeln!(md, "| Rewrite | Location | Why |")?;
        writeln!(md, "|---|---|---|")?;
        for fix in dropped {
            let why = fix
                .dropped_because
                .as_ref()
                .map_or_else(String::new, |b| b.short());
            writeln!(
                md,
                "| `{}` | `{}:{}` | {} |",
                fix.fix.key.transform,
                fix.path,
                fix.fix.line,
                cell(&why)
            )?;
        }
        writeln!(md)?;
    }

    let Some(memory) = &report.memory else {
        return Ok(());
    };
    writeln!(md, "### Memory\n")?;
    writeln!(
        md,
        "Peak traced memory per test over setup, call and teardown (bytes requested from \
         Python's allocators, as tracemalloc counts them), for the {} tests that reach a \
         kept memory rewrite; median (min-max) of {} runs before and after, side by side. \
         A change counts only with at least 3 runs a side and when it exceeds max(4 KiB, \
         3x the spread); smaller ones are marked as noise.\n",
        memory.tests_measured, memory.runs_per_side
    )?;
    if memory.runs_per_side < 3 {
        writeln!(
            md,
            "With fewer than 3 runs a side the spread is unknown: treat these figures as \
             indicative (use `--repeat 3` or more).\n"
        )?;
    }
    writeln!(md, "| Test | Before | After | Change |")?;
    writeln!(md, "|---|---:|---:|---:|")?;
    for t in memory.tests.iter().take(TOP_TESTS) {
        writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            t.test,
            spread(&t.change.before),
            spread(&t.change.after),
            change(t.change.change, t.change.real)
        )?;
    }
    if let Some(total) = &memory.total {
        writeln!(
            md,
            "| **Total ({} tests)** | {} | {} | {} |",
            memory.tests.len(),
            spread(&total.before),
            spread(&total.after),
            change(total.change, total.real)
        )?;
    }
    writeln!(md)?;
    if report.attribution.len() > 1 {
        writeln!(
            md,
            "Per transform (its rewrites alone, total over the tests):\n"
        )?;
        let real = real_change(report);
        for a in &report.attribution {
            let (rewrites, figure) = alone_line(a, real, |t| change(t.change, t.real));
            writeln!(md, "- `{}` ({rewrites}): {figure}", a.transform)?;
        }
        writeln!(md)?;
    }
    let shown: Vec<_> = memory.tests.iter().take(TOP_TESTS).collect();
    if !shown.is_empty() {
        writeln!(md, "```mermaid")?;
        writeln!(md, "xychart-beta")?;
        writeln!(
            md,
            "    title \"Peak memory per test, KiB (bars: before, line: after)\""
        )?;
        let labels: Vec<String> = shown
            .iter()
            .map(|t| {
                let short = t.test.rsplit("::").next().unwrap_or(&t.test);
                format!("\"{}\"", short.replace('"', "'"))
            })
            .collect();
        writeln!(md, "    x-axis [{}]", labels.join(", "))?;
        writeln!(md, "    y-axis \"KiB\"")?;
        let kib = |v: u64| format!("{:.1}", v as f64 / 1024.0);
        let before: Vec<String> = shown.iter().map(|t| kib(t.change.before.median)).collect();
        let after: Vec<String> = shown.iter().map(|t| kib(t.change.after.median)).collect();
        writeln!(md, "    bar [{}]", before.join(", "))?;
        writeln!(md, "    line [{}]", after.join(", "))?;
        writeln!(md, "```")?;
    }
    Ok(())
}

/// The median with min-max; when both round to the same figure, the range width instead
/// (`7.63 MiB (7.63 MiB–7.63 MiB)` says nothing).
fn spread(s: &Spread) -> String {
    let median = bytes(s.median as i64, false);
    let (min, max) = (bytes(s.min as i64, false), bytes(s.max as i64, false));
    if s.min == s.max {
        median
    } else if min == max {
        format!("{median} (range {})", bytes(s.range() as i64, false))
    } else {
        format!("{median} ({min}–{max})")
    }
}

/// The workload's figures: the report leads with them.
fn write_workload(md: &mut String, w: &WorkloadReport) -> std::fmt::Result {
    writeln!(md, "### The workload: `python {}`\n", w.argv.join(" "))?;
    writeln!(
        md,
        "Median (min-max) of {} runs before and {} after, side by side: the traced peak \
         from runs with the allocation meter, the peak RSS and time from runs without it.\n",
        w.runs_per_side, w.runs_per_side
    )?;
    writeln!(md, "| | Before | After | Change |")?;
    writeln!(md, "|---|---:|---:|---:|")?;
    let row = |md: &mut String, name: &str, c: &Option<Change>| -> std::fmt::Result {
        match c {
            Some(c) => writeln!(
                md,
                "| {name} | {} | {} | {} |",
                spread(&c.before),
                spread(&c.after),
                change_of(c)
            ),
            None => writeln!(md, "| {name} | no figures | | |"),
        }
    };
    row(md, "Traced peak", &w.traced)?;
    row(md, "Peak RSS", &w.rss)?;
    if let Some(t) = &w.wall_ms {
        writeln!(
            md,
            "| Time | {} ms | {} ms | {:+} ms |",
            t.before.median, t.after.median, t.change
        )?;
    }
    if w.started_processes {
        writeln!(
            md,
            "\nThe workload started other processes: nothing measures them, and none of \
             these figures covers them."
        )?;
    }
    writeln!(
        md,
        "\nOutput: {}.\n",
        match w.output {
            OutputCheck::Identical => "identical before and after in every run",
            OutputCheck::Nondeterministic =>
                "it differs between two runs of the same code, so it was not compared",
        }
    )?;
    if !w.rewrites.is_empty() {
        writeln!(md, "| Rewrite | Effect on the workload's traced peak |")?;
        writeln!(md, "|---|---|")?;
        let mut seen = std::collections::BTreeSet::new();
        for r in &w.rewrites {
            let first = seen.insert(r.transform.as_str());
            writeln!(
                md,
                "| `{}` `{}:{}` | {} |",
                r.transform,
                r.path,
                r.line,
                super::rewrite_effect(r, first, |s| format!("**{s}**"))
            )?;
        }
        writeln!(md)?;
    }
    if !w.sites_before.is_empty() {
        writeln!(md, "```mermaid")?;
        writeln!(md, "xychart-beta")?;
        writeln!(
            md,
            "    title \"Largest allocation sites at the peak, KiB (bars: before, line: after{})\"",
            if w.sites_estimated { "; sampled" } else { "" }
        )?;
        let shown: Vec<_> = w.sites_before.iter().take(8).collect();
        let labels: Vec<String> = shown
            .iter()
            .map(|s| format!("\"{}\"", short_site(&s.site)))
            .collect();
        writeln!(md, "    x-axis [{}]", labels.join(", "))?;
        writeln!(md, "    y-axis \"KiB\"")?;
        let kib = |v: u64| format!("{:.1}", v as f64 / 1024.0);
        let before: Vec<String> = shown.iter().map(|s| kib(s.bytes)).collect();
        let after: Vec<String> = shown
            .iter()
            .map(|s| {
                kib(w
                    .sites_after
                    .iter()
                    .find(|a| a.site == s.site)
                    .map_or(0, |a| a.bytes))
            })
            .collect();
        writeln!(md, "    bar [{}]", before.join(", "))?;
        writeln!(md, "    line [{}]", after.join(", "))?;
        writeln!(md, "```\n")?;
    }
    Ok(())
}

/// `pkg/mod.py:12` → `mod.py:12`.
fn short_site(site: &str) -> String {
    site.rsplit('/').next().unwrap_or(site).replace('"', "'")
}

fn change_of(c: &Change) -> String {
    if c.runs < crate::python::stats::MIN_RUNS {
        format!("{} (indicative: {} run(s))", bytes(c.change, true), c.runs)
    } else {
        change(c.change, c.real)
    }
}

fn change(value: i64, real: bool) -> String {
    if real {
        format!("**{}**", bytes(value, true))
    } else {
        format!("{} (noise)", bytes(value, true))
    }
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// How many rewrites were dropped, by why: "none dropped", or "2 dropped (1 because
/// the test suite caught it, 1 not exercised by the tests and not proven safe)".
fn dropped_summary<'a>(blames: impl Iterator<Item = &'a Blame>) -> String {
    // In the order the reasons are listed.
    let mut counts = [0usize; 6];
    for blame in blames {
        let slot = match blame {
            Blame::Tests { .. } | Blame::Collection { .. } => 0,
            Blame::NotExercised => 1,
            Blame::MemoryIncrease { .. } => 2,
            Blame::WorkloadOutput { .. } | Blame::WorkloadIncrease { .. } => 3,
            Blame::Inconclusive { .. } => 4,
            Blame::BaseDropped { .. } => 5,
        };
        counts[slot] += 1;
    }
    let total: usize = counts.iter().sum();
    if total == 0 {
        return "none dropped".into();
    }
    // Each reason for one rewrite, then for several.
    let reasons = [
        (
            "because the test suite caught it",
            "because the test suite caught them",
        ),
        (
            "not exercised by the tests and not proven safe",
            "not exercised by the tests and not proven safe",
        ),
        (
            "because it raised the tests' memory",
            "because they raised the tests' memory",
        ),
        (
            "because it changed the workload's output or raised its peak",
            "because they changed the workload's output or raised its peak",
        ),
        (
            "because its test runs were inconclusive",
            "because their test runs were inconclusive",
        ),
        (
            "because a base class it needs was dropped (no saving without it)",
            "because a base class they need was dropped (no saving without it)",
        ),
    ];
    let parts: Vec<String> = counts
        .iter()
        .zip(reasons)
        .filter(|(n, _)| **n > 0)
        .map(|(n, (one, many))| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    format!("{total} dropped ({})", parts.join(", "))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_says_why_rewrites_were_dropped() {
        assert_eq!(dropped_summary([].iter()), "none dropped");
        let blames = [
            Blame::NotExercised,
            Blame::Tests {
                tests: vec!["t::a".into()],
            },
            Blame::NotExercised,
        ];
        assert_eq!(
            dropped_summary(blames.iter()),
            "3 dropped (1 because the test suite caught it, 2 not exercised by the tests \
             and not proven safe)"
        );
        let blames = [
            Blame::MemoryIncrease { change: 4096 },
            Blame::Collection {
                modules: vec!["m".into()],
                text: "ImportError".into(),
            },
            Blame::Tests { tests: vec![] },
        ];
        assert_eq!(
            dropped_summary(blames.iter()),
            "3 dropped (2 because the test suite caught them, 1 because it raised the tests' \
             memory)"
        );
    }
}
