//! The verification's terminal summary (on stderr).

use std::io::Write;

use anyhow::Result;

use super::{TOP_TESTS, bytes};
use crate::verify::VerifyReport;

/// Writes the terminal summary: fixes kept and dropped (with the test that dropped
/// each), the tests whose memory changed most, totals, runs used.
pub fn print_summary(report: &VerifyReport, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "Verification: {} of {} rewrites kept, {} dropped; {} test runs ({} to find culprits), {:.1}s.",
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
    if !report.baseline_failures.is_empty() {
        writeln!(
            out,
            "  {} test(s) already failed before any rewrite (not blamed): {}",
            report.baseline_failures.len(),
            report.baseline_failures.join(", ")
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
            "Memory (tracemalloc peak per test, median of {} runs each side{}):",
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
                if t.change.real { "" } else { "  (noise)" }
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
                if total.real { "" } else { ", within noise" }
            )?;
        }
    }
    if report.attribution.len() > 1 {
        for a in &report.attribution {
            let total = a
                .total
                .as_ref()
                .map_or("no figures".to_string(), |t| bytes(t.change, true));
            writeln!(out, "  {} alone ({} fixes): {total}", a.transform, a.fixes)?;
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
