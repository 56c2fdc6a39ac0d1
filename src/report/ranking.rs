//! Findings ranked by a profile (`check --profile`, `rewrite --profile`): the rewrites
//! that pay at the peak, largest first, then those held back and why.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::bytes;
use crate::profile::select::{Ranked, RankedFix, Selection, Verdict};

/// The ranking as printed and as JSON (key `"profile"` of `check`/`rewrite --format
/// json`).
#[derive(Debug, serde::Serialize)]
pub struct RankingReport {
    /// The threshold, bytes.
    pub min_saving: u64,
    /// The workload the profile measured (`python ARGV`).
    pub workload: Vec<String>,
    /// Its traced peak, bytes.
    pub traced_peak: u64,
    /// Files changed since the profile: their rewrites are not ranked.
    pub stale_files: Vec<String>,
    /// Estimated bytes the applied rewrites save at the peak, in all.
    pub applied_saving: u64,
    /// Every finding with its verdict: applied first, largest saving first.
    pub fixes: Vec<RankedFix>,
}

impl RankingReport {
    /// Builds the report.
    pub fn new(selection: &Selection, ranked: &Ranked) -> RankingReport {
        RankingReport {
            min_saving: selection.min_saving,
            workload: selection.profile.workload.argv.clone(),
            traced_peak: selection.profile.traced_peak,
            stale_files: selection.stale.iter().cloned().collect(),
            applied_saving: ranked
                .fixes
                .iter()
                .filter(|f| f.profile.applies())
                .map(|f| f.profile.saving())
                .sum(),
            fixes: ranked.fixes.clone(),
        }
    }

    /// One line for `rewrite --verify`, whose output is the verification's: how many
    /// rewrites the ranking sends to the tests, and how many it leaves out and why.
    pub fn print_selected(&self) -> std::io::Result<()> {
        let selected = self.fixes.iter().filter(|f| f.profile.applies()).count();
        let left = self.fixes.len() - selected;
        let mut err = anstream::stderr().lock();
        write!(
            err,
            "Ranked by a profile of `python {}` (traced peak {}): {selected} of {} {} \
             to the tests (about {} at the peak, an estimate)",
            self.workload.join(" "),
            bytes(self.traced_peak as i64, false),
            self.fixes.len(),
            if self.fixes.len() == 1 {
                "rewrite goes"
            } else {
                "rewrites go"
            },
            bytes(self.applied_saving as i64, false),
        )?;
        if left > 0 {
            write!(
                err,
                "; {left} save less than {} at the peak or were not profiled, and are \
                 not applied (`--min-saving 0` keeps them)",
                bytes(self.min_saving as i64, false)
            )?;
        }
        writeln!(err, ".")
    }

    /// Prints the ranked findings on stdout and the notes on stderr.
    pub fn print(&self) -> std::io::Result<()> {
        let mut out = anstream::stdout().lock();
        let bold = Style::new().bold();
        let name = AnsiColor::Cyan.on_default().bold();
        let dim = Style::new().dimmed();
        let green = AnsiColor::Green.on_default();
        let mut below_header = false;
        for f in &self.fixes {
            if !f.profile.applies() && !below_header {
                below_header = true;
                writeln!(
                    out,
                    "{bold}No measurable payoff at the peak (below {}), not applied:{bold:#}",
                    bytes(self.min_saving as i64, false)
                )?;
            }
            let figure = match &f.profile {
                Verdict::Pays { saving, .. }
                | Verdict::Needed { saving, .. }
                | Verdict::Below { saving, .. } => {
                    format!("~{}", bytes(*saving as i64, false))
                }
                Verdict::Time { .. } => "time".to_string(),
                Verdict::Dropped { .. } => "dropped".to_string(),
                Verdict::Unknown => "not profiled".to_string(),
                Verdict::Stale => "unranked".to_string(),
            };
            let why = match &f.profile {
                Verdict::Pays { estimate, .. }
                | Verdict::Below { estimate, .. }
                | Verdict::Time { estimate } => estimate.clone(),
                Verdict::Needed { estimate, by, .. } => {
                    format!("{estimate}; applied because `{by}` needs its base slotted too")
                }
                Verdict::Dropped { reason } => reason.clone(),
                Verdict::Unknown => "the profile has no such candidate".to_string(),
                Verdict::Stale => "the file changed since the profile".to_string(),
            };
            writeln!(
                out,
                "{bold}{}:{}:{}:{bold:#} {green}{figure:>12}{green:#} {name}{}{name:#} {}",
                f.path, f.fix.line, f.fix.column, f.fix.key.transform, f.fix.message
            )?;
            writeln!(out, "{:>14}{dim}{why}{dim:#}", "")?;
        }
        let mut err = anstream::stderr().lock();
        writeln!(
            err,
            "Ranked by a profile of `python {}` (traced peak {}): the applied rewrites save about {} at the peak (an estimate).",
            self.workload.join(" "),
            bytes(self.traced_peak as i64, false),
            bytes(self.applied_saving as i64, false)
        )?;
        if !self.stale_files.is_empty() {
            writeln!(
                err,
                "note: {} changed since the profile: {} rewrites are not ranked (take the profile again)",
                self.stale_files.join(", "),
                if self.stale_files.len() == 1 {
                    "its"
                } else {
                    "their"
                }
            )?;
        }
        Ok(())
    }
}
