//! `pyslim check`: list what would be rewritten; exit 1 when anything is found.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::{
    CheckFormat, CommonArgs, RankArgs, config_here, exit_code, load, load_profile, min_saving,
    observe, print_summary, selection, timing,
};
use crate::engine::FixPolicy;
use crate::report::findings::{self, RunReport};
use crate::report::ranking::RankingReport;
use crate::report::{github, sarif};

/// `check`'s options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    rank: RankArgs,
    /// Also list candidates that were left alone, with the reason.
    #[arg(long)]
    explain: bool,
    /// Output format: `sarif` for code scanning, `github` for workflow annotations.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
}

/// Runs `check`.
pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let mut workspace = load(&args.common)?;
    findings::warn_named_test_files(&workspace)?;
    let profile = load_profile(&workspace, &args.rank)?;
    if let Some(profile) = &profile {
        observe(&mut workspace, profile)?;
    }
    let policy = FixPolicy {
        unsafe_fixes: args.common.unsafe_fixes,
        keep: None,
    };
    let started = std::time::Instant::now();
    // Notes are shown with `--explain` only.
    let mut outcomes = if args.explain {
        workspace.rewrite(&policy)
    } else {
        workspace.rewrite_findings(&policy)
    };
    timing("Ran the transforms", started.elapsed());
    let mut ranking = None;
    if let Some(profile) = &profile {
        let config = config_here(&workspace)?;
        let selection = selection(&workspace, profile, min_saving(&args.rank, &config)?)?;
        let ranked = selection.rank(&workspace.files, &outcomes);
        if ranked.held_back {
            outcomes = workspace.rewrite_kept(args.common.unsafe_fixes, &ranked.kept);
        }
        ranking = Some(RankingReport::new(&selection, &ranked));
    }
    let mut report = RunReport::new(
        "check",
        &workspace,
        &outcomes,
        &BTreeMap::new(),
        args.explain,
        false,
    );
    report.profile = ranking;
    match args.format {
        CheckFormat::Json => report.print_json()?,
        CheckFormat::Sarif => {
            let fixes = sarif::fixes(&workspace, &outcomes, args.common.unsafe_fixes);
            let log = sarif::log(&report, &fixes);
            let text = serde_json::to_string_pretty(&log)?;
            writeln!(std::io::stdout().lock(), "{text}")?;
        }
        CheckFormat::Github => {
            github::print(&report, &mut std::io::stdout().lock())?;
            print_summary(&report, "Found")?;
        }
        CheckFormat::Text => {
            match &report.profile {
                Some(ranking) => {
                    ranking.print()?;
                    report.print_notes()?;
                }
                None => report.print_findings()?,
            }
            print_summary(&report, "Found")?;
        }
    }
    Ok(exit_code(&report, report.fixes > 0))
}
