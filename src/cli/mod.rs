//! The command line: `rewrite`, `check`, `transforms`, `explain`.
//!
//! Exit codes, as in ruff: 0 nothing to do or everything applied, 1 `check` found
//! rewrites, 2 usage, configuration or I/O errors (a file that does not parse counts:
//! the other files are still processed).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pyslim_transforms::registry;

use crate::engine::FixPolicy;
use crate::load::Workspace;
use crate::load::config::Overrides;
use crate::load::discovery::ConfigResolver;
use crate::report::findings::{self, RunReport};
use crate::write::{self, atomic_write_new, diff};

/// Codemods that make Python programs use less memory, proven by their own tests.
#[derive(Debug, Parser)]
#[command(name = "pyslim", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the rewrites (safe ones by default) to the files in place.
    Rewrite(RewriteArgs),
    /// List what would be rewritten; exit 1 when anything is found (for CI).
    Check(CheckArgs),
    /// List every transform with its summary and applicability.
    Transforms {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a transform's full documentation.
    Explain {
        /// The transform's name (see `pyslim transforms`).
        name: String,
    },
    /// Internal: one run of the project's Python (started by `--verify` and `profile`).
    #[command(name = "__worker", hide = true)]
    Worker {
        /// The worker's Python entry point, written by the parent.
        entry: PathBuf,
        /// The run's spec, written by the parent.
        spec: PathBuf,
    },
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For machines (schema in README.md).
    Json,
}

/// Options shared by `rewrite` and `check`.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Files or folders to process [default: .]
    paths: Vec<PathBuf>,
    /// Only these transforms (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    select: Option<Vec<String>>,
    /// Not these transforms (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    ignore: Vec<String>,
    /// Also apply unsafe rewrites.
    #[arg(long = "unsafe")]
    unsafe_fixes: bool,
    /// Use this configuration file for every file instead of the closest one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The oldest Python to support, e.g. 3.11 (overrides the configuration).
    #[arg(long, value_name = "VERSION")]
    target_version: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Args)]
struct RewriteArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Print the unified diff and change nothing.
    #[arg(long, visible_alias = "diff")]
    dry_run: bool,
    /// Write the diff to FILE as a patch (`git apply FILE` from the project root) and
    /// change nothing.
    #[arg(long, value_name = "FILE")]
    patch: Option<PathBuf>,
    #[command(flatten)]
    verify: VerifyArgs,
}

/// `rewrite --verify` and its options (see README.md, "Verification").
#[derive(Debug, Args)]
struct VerifyArgs {
    /// Run the project's tests on a copy with the rewrites applied, keep only the
    /// rewrites that break no test (unsafe ones become candidates), and measure memory.
    #[arg(long)]
    verify: bool,
    /// The project's virtualenv [default: `[verify] venv`, $VIRTUAL_ENV, .venv, venv].
    #[arg(long, value_name = "PATH", requires = "verify")]
    venv: Option<PathBuf>,
    /// Arguments for pytest, replacing `[verify] args` (put it last: it takes the rest).
    #[arg(long, value_name = "ARGS", num_args = 1.., allow_hyphen_values = true, requires = "verify", visible_alias = "pytest-args")]
    tests: Option<Vec<String>>,
    /// Runs before and after the rewrite for the memory figures [default: 3].
    #[arg(long, value_name = "N", requires = "verify", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: Option<u32>,
    /// Seconds one test run may take before it is killed as inconclusive [default: 600].
    #[arg(long, value_name = "SECS", requires = "verify")]
    timeout: Option<u64>,
    /// Fail instead of using the venv's own interpreter when its Python differs from
    /// the one pyslim embeds.
    #[arg(long, requires = "verify")]
    embedded: bool,
    /// Write the verification as Markdown (a pull request description) to FILE.
    #[arg(long, value_name = "FILE.md", requires = "verify")]
    report: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Also list candidates that were left alone, with the reason.
    #[arg(long)]
    explain: bool,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rewrite(args) => rewrite(args),
        Command::Check(args) => check(args),
        Command::Transforms { format } => list_transforms(format),
        Command::Explain { name } => explain(&name),
        Command::Worker { entry, spec } => {
            return match crate::python::worker::main(&entry, &spec) {
                Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(70)),
                Err(err) => {
                    eprintln!("pyslim worker: {err:#}");
                    // Not a pytest exit code: the parent reports the run inconclusive.
                    ExitCode::from(70)
                }
            };
        }
    };
    match result {
        Ok(code) => code,
        // `pyslim explain slots | head`: the reader left; that is not an error.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            if let Some(stop) = err.downcast_ref::<crate::python::signals::Interrupted>() {
                // Every temporary folder was removed on the way out (destructors).
                let _ = writeln!(
                    anstream::stderr(),
                    "Interrupted (signal {}): the workers were stopped, their temporary \
                     folders removed, and no file was changed.",
                    stop.signal
                );
                return ExitCode::from(stop.exit_code());
            }
            let red = anstyle::AnsiColor::Red.on_default().bold();
            let _ = writeln!(anstream::stderr(), "{red}error{red:#}: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn load(common: &CommonArgs) -> Result<Workspace> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let overrides = Overrides {
        select: common.select.clone(),
        ignore: common.ignore.clone(),
        target_version: common.target_version.clone(),
    };
    let resolver = Arc::new(ConfigResolver::new(
        common.config.as_deref(),
        overrides,
        cwd.clone(),
    )?);
    let paths = if common.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        common.paths.clone()
    };
    Workspace::load(&paths, resolver, cwd)
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    let workspace = load(&args.common)?;
    findings::warn_named_test_files(&workspace)?;
    let policy = FixPolicy {
        unsafe_fixes: args.common.unsafe_fixes,
        keep: None,
    };
    let outcomes = workspace.rewrite(&policy);
    let report = RunReport::new(
        "check",
        &workspace,
        &outcomes,
        &BTreeMap::new(),
        args.explain,
        false,
    );
    match args.common.format {
        Format::Json => report.print_json()?,
        Format::Text => {
            report.print_findings()?;
            report.print_summary("Found")?;
        }
    }
    Ok(exit_code(&report, report.fixes > 0))
}

fn rewrite(args: RewriteArgs) -> Result<ExitCode> {
    let workspace = load(&args.common)?;
    findings::warn_named_test_files(&workspace)?;
    // Under --verify the tests decide about unsafe rewrites.
    let unsafe_fixes = args.common.unsafe_fixes || args.verify.verify;
    let policy = FixPolicy {
        unsafe_fixes,
        keep: None,
    };
    let mut outcomes = workspace.rewrite(&policy);
    let verification = if args.verify.verify {
        let report = verify(&args, &workspace, unsafe_fixes)?;
        // The fix loop again, with only the rewrites the tests accepted.
        let kept = crate::engine::rewrite_kept(
            &workspace.files,
            &workspace.facts,
            unsafe_fixes,
            &report.kept,
        );
        for (outcome, result) in outcomes.iter_mut().zip(kept) {
            if let (Ok(slot), Ok(rewrite)) = (&mut outcome.result, result) {
                *slot = rewrite;
            }
        }
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
    if write {
        report
            .errors
            .extend(write::write_files(&workspace, &outcomes));
    }
    match args.common.format {
        Format::Json => match &verification {
            Some(v) => {
                let mut value = serde_json::to_value(&report)?;
                value["verify"] = serde_json::to_value(v)?;
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            None => report.print_json()?,
        },
        Format::Text => {
            if let Some(v) = &verification {
                crate::report::verify::print_summary(v, &mut anstream::stderr().lock())?;
            }
            if args.dry_run {
                let mut out = anstream::stdout().lock();
                for (diff, _) in diffs.values() {
                    out.write_all(diff::colorize(diff).as_bytes())?;
                }
            }
            report.print_summary(if write { "Applied" } else { "Would apply" })?;
            if let Some(patch) = &args.patch {
                writeln!(anstream::stderr(), "Patch written to {}.", patch.display())?;
            }
        }
    }
    Ok(exit_code(&report, false))
}

/// Runs the tests and returns which candidate fixes survive.
fn verify(
    args: &RewriteArgs,
    workspace: &Workspace,
    unsafe_fixes: bool,
) -> Result<crate::verify::VerifyReport> {
    let config = workspace.resolver.for_dir(&workspace.cwd)?;
    let settings = &config.verify;
    let v = &args.verify;
    let request = crate::verify::VerifyRequest {
        // A configuration file marks the project; without one, the same project root
        // the analysis uses (so a run from a subfolder still copies the whole project).
        root: match &config.path {
            Some(_) => config.root.clone(),
            None => {
                crate::load::project_root(&workspace.cwd).unwrap_or_else(|| workspace.cwd.clone())
            }
        },
        venv: v
            .venv
            .as_ref()
            .map(|p| workspace.cwd.join(p))
            .or_else(|| settings.venv.clone()),
        args: v.tests.clone().unwrap_or_else(|| settings.args.clone()),
        repeat: v.repeat.map_or(settings.repeat, |r| r as usize),
        timeout: std::time::Duration::from_secs(v.timeout.unwrap_or(settings.timeout)),
        unsafe_fixes,
        require_embedded: v.embedded || settings.embedded,
        progress: true,
        worker_exe: None,
    };
    let report = crate::verify::run(&request, &workspace.files, &workspace.facts)?;
    if let Some(path) = &v.report {
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

fn exit_code(report: &RunReport, found: bool) -> ExitCode {
    if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn list_transforms(format: Format) -> Result<ExitCode> {
    match format {
        Format::Json => {
            let list: Vec<_> = registry::TRANSFORMS
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "name": t.name(),
                        "summary": t.summary(),
                        "applicability": t.applicability(),
                    })
                })
                .collect();
            writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(&list)?
            )?;
        }
        Format::Text => {
            let width = registry::names().iter().map(|n| n.len()).max().unwrap_or(0);
            let mut out = anstream::stdout().lock();
            let bold = anstyle::Style::new().bold();
            for t in registry::TRANSFORMS {
                writeln!(out, "{bold}{:width$}{bold:#}  {}", t.name(), t.summary())?;
                writeln!(out, "{:width$}  applicability: {}", "", t.applicability())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn explain(name: &str) -> Result<ExitCode> {
    let Some(transform) = registry::get(name) else {
        bail!(
            "unknown transform {name:?}; the transforms are: {}",
            registry::names().join(", ")
        );
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {}\n", transform.name())?;
    writeln!(out, "{}\n", transform.summary())?;
    writeln!(out, "Applicability: {}\n", transform.applicability())?;
    writeln!(out, "{}", transform.documentation().trim_end())?;
    Ok(ExitCode::SUCCESS)
}
