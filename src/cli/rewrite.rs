//! `pyslim rewrite`: apply the rewrites, or show them (`--dry-run`), or write a patch;
//! with `--profile` only those that pay at the peak; with `--verify` only those the
//! tests accept, and with a workload, the whole migration: profile, select, verify,
//! measure the workload before and after.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use super::{
    CommonArgs, Format, PythonArgs, RankArgs, config_here, exit_code, load, load_profile,
    min_saving, observe, print_summary, project_root, quote_venv_figures, selection, timing,
};
use crate::engine::{FixPolicy, ReportedFix};
use crate::load::{FileOutcome, Workspace};
use crate::profile::schema::Profile;
use crate::report::findings::{self, RunReport};
use crate::report::ranking::RankingReport;
use crate::verify::{VerifyReport, VerifyRequest};
use crate::write::{self, atomic_write_new, diff};

/// `rewrite`'s options.
#[derive(Debug, Args)]
pub struct RewriteArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    rank: RankArgs,
    /// Print the unified diff and change nothing.
    #[arg(long, visible_alias = "diff")]
    dry_run: bool,
    /// Write the diff to FILE as a patch (`git apply FILE` from the project root) and
    /// change nothing.
    #[arg(long, value_name = "FILE")]
    patch: Option<PathBuf>,
    /// Run the project's tests on a copy with the rewrites applied, keep only the
    /// rewrites that break no test (unsafe ones become candidates), and measure memory.
    #[arg(long)]
    verify: bool,
    /// With --verify: profile this workload first (as after `python`: `"bench.py --n
    /// 200000"`, `"-m app.bench"`), verify only the rewrites that pay at its peak, and
    /// measure it before and after [default: `[profile] workload`].
    #[arg(long, value_name = "COMMAND", requires = "verify")]
    workload: Option<String>,
    #[command(flatten)]
    python: PythonArgs,
    /// Runs before and after the rewrite for the memory figures [default: 3; fewer
    /// make the figures indicative only].
    #[arg(long, value_name = "N", requires = "verify", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: Option<u32>,
    /// Write the verification as Markdown (a pull request description) to FILE.
    #[arg(long, value_name = "FILE.md", requires = "verify")]
    report: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `rewrite`.
pub fn run(args: RewriteArgs) -> Result<ExitCode> {
    if args.python.given() && !args.verify {
        bail!("--venv, --tests, --timeout and --embedded run the project's Python: add --verify");
    }
    let mut workspace = load(&args.common)?;
    findings::warn_named_test_files(&workspace)?;
    if args.verify || args.workload.is_some() {
        // Profiling and verification copy, instrument and rewrite every file.
        workspace.restore_all_texts();
    }
    if args.verify {
        quote_venv_figures(&mut workspace, &args.python)?;
    }
    let config = config_here(&workspace)?;
    // Under --verify the tests decide about unsafe rewrites.
    let unsafe_fixes = args.common.unsafe_fixes || args.verify;
    let policy = FixPolicy {
        unsafe_fixes,
        keep: None,
    };
    // The profile that ranks: the one given, or one of the workload taken now.
    let workload = match (&args.workload, args.verify) {
        (Some(text), _) => Some(text.clone()),
        (None, true) => config.profile.workload.clone(),
        (None, false) => None,
    };
    let profile = match (load_profile(&workspace, &args.rank)?, &workload) {
        (Some(profile), _) => Some(profile),
        (None, Some(text)) => Some(take_profile(&workspace, &args, text)?),
        (None, None) => None,
    };
    if let Some(profile) = &profile {
        observe(&mut workspace, profile)?;
    }
    let started = std::time::Instant::now();
    // `rewrite` shows no notes.
    let mut outcomes = workspace.rewrite_findings(&policy);
    timing("Ran the transforms", started.elapsed());
    let mut ranking = None;
    if let Some(profile) = &profile {
        let selection = selection(&workspace, profile, min_saving(&args.rank, &config)?)?;
        let ranked = selection.rank(&workspace.files, &outcomes);
        if ranked.held_back {
            outcomes = workspace.rewrite_kept(unsafe_fixes, &ranked.kept);
        }
        let report = RankingReport::new(&selection, &ranked);
        if args.verify && args.format == Format::Text && !crate::report::level::quiet() {
            report.print_selected()?;
        }
        ranking = Some(report);
    }

    let verification = if args.verify {
        let report = verify(
            &args,
            &workspace,
            &outcomes,
            profile.as_ref(),
            workload.as_deref(),
        )?;
        // The fix loop again, with only the rewrites the tests accepted.
        outcomes = workspace.rewrite_kept(unsafe_fixes, &report.kept);
        Some(report)
    } else {
        None
    };
    let write = !args.dry_run && args.patch.is_none();
    let diffs = write::diffs(&workspace, &outcomes);
    if let Some(patch) = &args.patch {
        write::write_patch(&workspace, &diffs, patch)?;
    }
    let shown_diffs = if args.dry_run {
        diffs.iter().map(|(i, (d, _))| (*i, d.clone())).collect()
    } else {
        BTreeMap::new()
    };
    let mut report = RunReport::new("rewrite", &workspace, &outcomes, &shown_diffs, false, write);
    report.profile = ranking;
    if write {
        // Ctrl-C or SIGTERM after the runs: nothing is written.
        crate::python::signals::check()?;
        report
            .errors
            .extend(write::write_files(&workspace, &outcomes));
    }
    match args.format {
        Format::Json => match &verification {
            Some(v) => {
                let mut value = serde_json::to_value(&report)?;
                value["verify"] = serde_json::to_value(v)?;
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            None => report.print_json()?,
        },
        Format::Text => {
            if let Some(v) = &verification
                && !crate::report::level::quiet()
            {
                crate::report::verify::print_summary(v, &mut anstream::stderr().lock())?;
            }
            if args.dry_run {
                let mut out = anstream::stdout().lock();
                for (diff, _) in diffs.values() {
                    out.write_all(diff::colorize(diff).as_bytes())?;
                }
            }
            if let Some(ranking) = &report.profile
                && verification.is_none()
            {
                ranking.print()?;
            }
            print_summary(&report, if write { "Applied" } else { "Would apply" })?;
            if let Some(patch) = &args.patch
                && !crate::report::level::quiet()
            {
                writeln!(anstream::stderr(), "Patch written to {}.", patch.display())?;
            }
        }
    }
    Ok(exit_code(&report, false))
}

/// Profiles the workload now (`rewrite --verify --workload`).
fn take_profile(workspace: &Workspace, args: &RewriteArgs, text: &str) -> Result<Profile> {
    let config = config_here(workspace)?;
    let root = project_root(workspace, &config);
    let request = super::profile::request(workspace, &config, &args.python, Some(text), &root)?;
    if !crate::report::level::quiet() {
        writeln!(
            anstream::stderr(),
            "Profiling `python {}` to rank the rewrites…",
            request.workload.as_deref().unwrap_or_default().join(" ")
        )?;
    }
    crate::profile::run(&request, &workspace.files, &workspace.facts)
}

/// Runs the tests (and the workload) and returns which candidate fixes survive.
fn verify(
    args: &RewriteArgs,
    workspace: &Workspace,
    outcomes: &[FileOutcome],
    profile: Option<&Profile>,
    workload: Option<&str>,
) -> Result<VerifyReport> {
    let config = config_here(workspace)?;
    let settings = &config.verify;
    let root = project_root(workspace, &config);
    let candidates: Vec<(usize, ReportedFix)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|r| (o.index, r)))
        .flat_map(|(index, r)| r.applied.iter().map(move |f| (index, f.clone())))
        .collect();
    let workload_request = match workload {
        Some(text) => Some(crate::verify::workload::WorkloadRequest {
            argv: crate::profile::workload_argv(text, &workspace.cwd, &root)?,
            estimates: estimates(workspace, profile, &root),
        }),
        None => None,
    };
    let request = VerifyRequest {
        root: root.clone(),
        venv: args
            .python
            .venv
            .as_ref()
            .map(|p| workspace.cwd.join(p))
            .or_else(|| settings.venv.clone()),
        args: args
            .python
            .tests
            .clone()
            .unwrap_or_else(|| settings.args.clone()),
        repeat: args.repeat.map_or(settings.repeat, |r| r as usize),
        timeout: args
            .python
            .timeout
            .or(settings.timeout)
            .map(std::time::Duration::from_secs),
        unsafe_fixes: true,
        require_embedded: args.python.embedded || settings.embedded,
        progress: !crate::report::level::quiet(),
        worker_exe: None,
        workload: workload_request,
    };
    let started = std::time::Instant::now();
    let report = crate::verify::run(&request, &workspace.files, &workspace.facts, &candidates)?;
    timing("Verified the rewrites", started.elapsed());
    if let Some(path) = &args.report {
        let path = workspace.cwd.join(path);
        use crate::report::markdown::{Written, render};
        let written = match (&args.patch, args.dry_run) {
            (Some(_), _) => Written::Patch,
            (None, true) => Written::Nothing,
            (None, false) => Written::Files,
        };
        atomic_write_new(&path, render(&report, written).as_bytes())?;
    }
    Ok(report)
}

/// The profile's estimated saving per candidate, keyed as the verification reports
/// fixes (file as shown, transform, offset).
fn estimates(
    workspace: &Workspace,
    profile: Option<&Profile>,
    root: &std::path::Path,
) -> BTreeMap<(String, String, u32), u64> {
    let Some(profile) = profile else {
        return BTreeMap::new();
    };
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let shown: BTreeMap<String, String> = workspace
        .files
        .iter()
        .filter_map(|f| {
            Some((
                crate::profile::relative_path(&f.path, &root)?,
                f.info.path.clone(),
            ))
        })
        .collect();
    profile
        .candidates
        .iter()
        .filter_map(|c| {
            Some((
                (shown.get(&c.path)?.clone(), c.transform.clone(), c.offset),
                c.saving,
            ))
        })
        .collect()
}
