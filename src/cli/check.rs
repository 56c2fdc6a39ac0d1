//! `pyslim check`: list what would be rewritten; exit 1 when anything is found.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::{
    CommonArgs, Format, RankArgs, config_here, exit_code, load, load_profile, min_saving, observe,
    selection,
};
use crate::engine::FixPolicy;
use crate::report::findings::{self, RunReport};
use crate::report::ranking::RankingReport;

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
    // Notes are shown with `--explain` only.
    let mut outcomes = if args.explain {
        workspace.rewrite(&policy)
    } else {
        workspace.rewrite_findings(&policy)
    };
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
    match args.common.format {
        Format::Json => report.print_json()?,
        Format::Text => {
            match &report.profile {
                Some(ranking) => {
                    ranking.print()?;
                    report.print_notes()?;
                }
                None => report.print_findings()?,
            }
            report.print_summary("Found")?;
        }
    }
    Ok(exit_code(&report, report.fixes > 0))
}
