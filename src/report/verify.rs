//! The verification's terminal summary (on stderr).

use std::io::Write;

use anyhow::Result;

use super::{TOP_TESTS, alone_line, bytes, real_change};
use crate::python::stats::Change;
use crate::verify::VerifyReport;
use crate::verify::workload::{OutputCheck, WorkloadReport};

/// Writes the terminal summary: fixes kept and dropped (with the test that dropped
/// each), the tests whose memory changed most, totals, runs used.
pub fn print_summary(report: &VerifyReport, out: &mut dyn Write) -> Result<()> {
    if let Some(workload) = &report.workload {
        print_workload(workload, out)?;
    }
    if report.fixes.is_empty() {
        writeln!(
            out,
            "Verification: no rewrite to verify; the tests were not run."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Verification: {} of {} rewrites kept, {} dropped; {} runs ({} to find culprits), {:.1}s.",
        report.kept_count(),
        report.fixes.len(),
        report.dropped_count(),
        report.runs,
        report.bisection_runs,
        report.seconds
    )?;
    writeln!(
        out,
        "  Python {} ({}), venv {}",
        report.python.venv_version,
        match report.python.mode {
            crate::python::Mode::Embedded => "embedded",
            crate::python::Mode::VenvInterpreter => "the venv's own interpreter",
        },
        report.python.venv.display()
    )?;
    let phases: Vec<String> = report
        .phases
        .iter()
        .filter(|p| p.runs > 0)
        .map(|p| {
            format!(
                "{} {} runs/{} tests/{:.1}s",
                p.phase, p.runs, p.tests, p.seconds
            )
        })
        .collect();
    if !phases.is_empty() {
        writeln!(out, "  phases: {}", phases.join(", "))?;
    }
    let for_time: Vec<&str> = report
        .fixes
        .iter()
        .filter(|f| f.kept && f.fix.impact == pyslim_transforms::Impact::Time)
        .map(|f| f.fix.key.transform)
        .collect();
    if !for_time.is_empty() {
        // Time rewrites stay out of the memory gate: a deque is not smaller.
        writeln!(
            out,
            "  {} kept for time (front operations in O(1)), no memory saving claimed: {}",
            for_time.len(),
            for_time.join(", ")
        )?;
    }
    let unexercised = report.fixes.iter().filter(|f| f.tests == Some(0)).count();
    if unexercised > 0 {
        writeln!(
            out,
            "  {unexercised} rewrite(s) not exercised by the tests (kept only when safe)"
        )?;
    }
    if !report.noisy_tests.is_empty() {
        writeln!(
            out,
            "  noisy (peak varies between identical runs; out of the memory totals): {}",
            report.noisy_tests.join(", ")
        )?;
    }
    if !report.baseline_failures.is_empty() {
        writeln!(
            out,
            "  {} test(s) already failed before any rewrite (not blamed): {}",
            report.baseline_failures.len(),
            report.baseline_failures.join(", ")
        )?;
    }
    if !report.baseline_collection_errors.is_empty() {
        writeln!(
            out,
            "  {} collection error(s) before any rewrite (the tests there ran neither before \
             nor after; not blamed): {}",
            report.baseline_collection_errors.len(),
            report.baseline_collection_errors.join(", ")
        )?;
    }
    if !report.flaky_tests.is_empty() {
        writeln!(
            out,
            "  flaky (failed, then passed on the same code; not blamed): {}",
            report.flaky_tests.join(", ")
        )?;
    }
    for fix in report.fixes.iter().filter(|f| !f.kept) {
        let why = fix
            .dropped_because
            .as_ref()
            .map_or_else(String::new, |b| b.short());
        writeln!(
            out,
            "  dropped {}:{}:{} {}: {why}",
            fix.path, fix.fix.line, fix.fix.column, fix.fix.key.transform
        )?;
    }
    if let Some(memory) = &report.memory {
        writeln!(
            out,
            "Memory (traced peak per test, {} tests that reach a kept rewrite, median of {} runs each side{}):",
            memory.tests_measured,
            memory.runs_per_side,
            if memory.runs_per_side < 3 {
                "; spread unknown below 3 runs, figures indicative"
            } else {
                ""
            }
        )?;
        for t in memory.tests.iter().take(TOP_TESTS) {
            writeln!(
                out,
                "  {:<50} {:>11} -> {:>11}  {:>12}{}",
                t.test,
                bytes(t.change.before.median as i64, false),
                bytes(t.change.after.median as i64, false),
                bytes(t.change.change, true),
                if t.change.real {
                    ""
                } else if t.noisy {
                    "  (noisy test)"
                } else if t.change.runs < crate::python::stats::MIN_RUNS {
                    "  (indicative)"
                } else {
                    "  (noise)"
                }
            )?;
        }
        if let Some(total) = &memory.total {
            writeln!(
                out,
                "  total over {} tests: {} -> {} ({}{})",
                memory.tests.len(),
                bytes(total.before.median as i64, false),
                bytes(total.after.median as i64, false),
                bytes(total.change, true),
                if total.real {
                    ""
                } else if total.runs < crate::python::stats::MIN_RUNS {
                    ", indicative: fewer than 3 runs a side"
                } else {
                    ", within noise"
                }
            )?;
        }
    }
    if report.attribution.len() > 1 {
        let real = real_change(report);
        for a in &report.attribution {
            let (rewrites, total) = alone_line(a, real, |t| bytes(t.change, true));
            writeln!(out, "  {} alone ({rewrites}): {total}", a.transform)?;
        }
    }
    for skipped in &report.skipped_runs {
        writeln!(
            out,
            "  note: run {} not used: {}",
            skipped.run, skipped.cause
        )?;
    }
    Ok(())
}

/// The workload's figures, first: they are what the rewrites were chosen for.
fn print_workload(w: &WorkloadReport, out: &mut dyn Write) -> Result<()> {
    let figure = |c: &Option<Change>| match c {
        Some(c) => format!(
            "{} -> {} ({}{})",
            bytes(c.before.median as i64, false),
            bytes(c.after.median as i64, false),
            bytes(c.change, true),
            if c.real {
                ""
            } else if c.runs < crate::python::stats::MIN_RUNS {
                ", indicative"
            } else {
                ", within noise"
            }
        ),
        None => "no figures".to_string(),
    };
    writeln!(out, "Workload `python {}`:", w.argv.join(" "))?;
    writeln!(
        out,
        "  traced peak {}; peak RSS {} (median of {} runs each side)",
        figure(&w.traced),
        figure(&w.rss),
        w.runs_per_side
    )?;
    if w.started_processes {
        writeln!(
            out,
            "  it started other processes: nothing measures them, and none of these \
             figures covers them"
        )?;
    }
    writeln!(
        out,
        "  output: {}",
        match w.output {
            OutputCheck::Identical => "identical before and after",
            OutputCheck::Nondeterministic => "differs between runs of the same code: not compared",
        }
    )?;
    let mut seen = std::collections::BTreeSet::new();
    for r in &w.rewrites {
        let first = seen.insert(r.transform.as_str());
        writeln!(
            out,
            "  {}:{} {}: {}",
            r.path,
            r.line,
            r.transform,
            super::rewrite_effect(r, first, |s| s)
        )?;
    }
    Ok(())
}
