//! The table `pyslim profile` prints: the workload's figures, every candidate by its
//! estimated saving at the peak, what run-time evidence dropped, and the top
//! allocation sites, whether pyslim has a rewrite for them or not.

use std::collections::BTreeSet;
use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::bytes;
use crate::profile::schema::{Applicability, Impact, Measured, Profile};

/// Candidates shown in full (the JSON has them all).
const SHOWN: usize = 25;

/// Writes the table.
pub fn print(profile: &Profile, out: &mut dyn Write) -> std::io::Result<()> {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let green = AnsiColor::Green.on_default();
    let red = AnsiColor::Red.on_default();
    writeln!(
        out,
        "{bold}Workload{bold:#}: python {} (Python {}, {}, {} meter)",
        profile.workload.argv.join(" "),
        profile.python,
        profile.mode,
        profile.meter
    )?;
    let census = match &profile.census {
        Some(c) => format!("census at {:.1}% of the peak", c.of_peak * 100.0),
        None => "no census (the second run did not reach the peak)".to_string(),
    };
    writeln!(
        out,
        "  plain run {:.2}s; traced peak {}; peak RSS {}; {census}",
        profile.plain_seconds,
        bytes(profile.traced_peak as i64, false),
        bytes(profile.rss_peak as i64, false)
    )?;
    if profile.started_processes {
        writeln!(
            out,
            "  it started other processes: nothing measures them, and their memory is in \
             none of these figures, which are the workload's own process's"
        )?;
    }
    if profile.plain_seconds > 0.0 {
        writeln!(
            out,
            "  profiling took {:.2}s ({:.1}x the plain run)",
            profile.profile_seconds,
            profile.profile_seconds / profile.plain_seconds
        )?;
    }
    writeln!(out)?;

    let (dropped, kept): (Vec<_>, Vec<_>) =
        profile.candidates.iter().partition(|c| c.dropped.is_some());
    writeln!(
        out,
        "{bold}Rewrite candidates by estimated saving at the peak{bold:#} ({} in all):",
        kept.len()
    )?;
    if kept.is_empty() {
        writeln!(out, "  none")?;
    }
    for c in kept.iter().take(SHOWN) {
        let figure = if c.impact == Impact::Time {
            "time".to_string()
        } else {
            bytes(c.saving as i64, false)
        };
        let unsafe_tag = if c.applicability == Applicability::Unsafe {
            " [unsafe]"
        } else {
            ""
        };
        writeln!(
            out,
            "  {green}{figure:>11}{green:#}  {:<9} {}:{}{unsafe_tag}",
            c.transform, c.path, c.line
        )?;
        writeln!(out, "  {:>11}  {dim}{}{dim:#}", "", c.estimate)?;
    }
    if kept.len() > SHOWN {
        writeln!(
            out,
            "  … and {} more with smaller savings (see the profile's JSON)",
            kept.len() - SHOWN
        )?;
    }
    if !dropped.is_empty() {
        writeln!(out)?;
        writeln!(out, "{bold}Dropped by run-time evidence{bold:#}:")?;
        for c in &dropped {
            writeln!(
                out,
                "  {red}{:<9}{red:#} {}:{} {}",
                c.transform,
                c.path,
                c.line,
                c.dropped.as_deref().unwrap_or_default()
            )?;
        }
    }
    if !profile.sites.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{bold}Top allocation sites at the peak{bold:#}{}:",
            if profile.sites_estimated {
                " (estimated from sampled allocations)"
            } else {
                ""
            }
        )?;
        // Lines a candidate covers, to show which sites pyslim can act on.
        let mut covered: BTreeSet<(String, usize)> = BTreeSet::new();
        for c in &profile.candidates {
            if c.dropped.is_none() && c.saving > 0 {
                covered.insert((c.path.clone(), c.line));
            }
            if let Measured::Lists { .. } | Measured::Transient { .. } = c.measured {
                covered.insert((c.path.clone(), c.line));
            }
        }
        for site in profile.sites.iter().take(10) {
            let mark = if covered.contains(&(site.path.clone(), site.line)) {
                "  (a candidate)"
            } else {
                ""
            };
            writeln!(
                out,
                "  {:>11}  {}:{} ({} blocks){mark}",
                bytes(site.bytes as i64, false),
                site.path,
                site.line,
                crate::profile::estimate::thousands(site.count)
            )?;
        }
    }
    Ok(())
}
