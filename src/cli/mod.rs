//! The command line: `rewrite`, `check`, `profile`, `transforms`, `explain`,
//! `completions`, and the options every command takes (`--quiet`, `--verbose`,
//! `--color`).
//!
//! Exit codes, as in ruff: 0 nothing to do or everything applied, 1 `check` found
//! rewrites, 2 usage, configuration or I/O errors (a file that does not parse counts:
//! the other files are still processed), a workload or test suite that fails or cannot
//! be run. Stopped by a signal: 128 + its number.

mod check;
mod completions;
mod info;
mod profile;
mod rewrite;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::load::Workspace;
use crate::load::config::{Config, Overrides};
use crate::load::discovery::ConfigResolver;
use crate::profile::schema::Profile;
use crate::profile::select::Selection;
use crate::report::findings::RunReport;
use crate::report::level::Level;

/// `pyslim --version`: the version and how the binary runs the project's Python
/// (`0.1.0 (embedded CPython 3.11)`, or without the `embedded` feature `0.1.0 (no
/// embedded Python: runs the venv's interpreter)`).
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PYSLIM_BUILD_MODE"),
    ")"
);

/// Codemods that make Python programs use less memory, proven by their own tests.
#[derive(Debug, Parser)]
#[command(name = "pyslim", version = LONG_VERSION, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

/// Options every command takes, as in ruff.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// Print findings, diffs and errors only: no progress, notes or summaries.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print timings and the decisions taken (configuration, interpreter).
    #[arg(long, short, global = true)]
    verbose: bool,
    /// When to color the output; `auto` colors a terminal unless `NO_COLOR` is set.
    #[arg(long, value_enum, global = true, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Color a terminal, unless `NO_COLOR` is set (`CLICOLOR_FORCE` forces it).
    Auto,
    /// Always color, even into a pipe or a file.
    Always,
    /// Never color.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the rewrites (safe ones by default) to the files in place.
    Rewrite(rewrite::RewriteArgs),
    /// List what would be rewritten; exit 1 when anything is found (for CI).
    Check(check::CheckArgs),
    /// Run a workload (or the test suite) under measurement and rank every rewrite by
    /// the memory it would save at the peak.
    Profile(profile::ProfileArgs),
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
    /// Print a shell completion script (`pyslim completions bash > ~/.local/share/bash-completion/completions/pyslim`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
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

/// `check`'s output formats: those of every command, and two for CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// For people.
    Text,
    /// For machines (schema in README.md).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub's upload-sarif).
    Sarif,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
}

/// Options shared by `rewrite`, `check` and `profile`.
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
}

/// How the project's Python is run (`--verify`, `profile`).
#[derive(Debug, Args)]
struct PythonArgs {
    /// The project's virtualenv [default: `[verify] venv`, $VIRTUAL_ENV, .venv, venv].
    #[arg(long, value_name = "PATH")]
    venv: Option<PathBuf>,
    /// Arguments for pytest, replacing `[verify] args` (put it last: it takes the rest).
    #[arg(long, value_name = "ARGS", num_args = 1.., allow_hyphen_values = true, visible_alias = "pytest-args")]
    tests: Option<Vec<String>>,
    /// Seconds one run may take before it is killed as inconclusive [default: 600 for
    /// the first runs, then 10x the measured plain run, at least 60].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Fail instead of using the venv's own interpreter when its Python differs from
    /// the one pyslim embeds (or pyslim embeds none: `pyslim --version` says).
    #[arg(long)]
    embedded: bool,
}

impl PythonArgs {
    fn given(&self) -> bool {
        self.venv.is_some() || self.tests.is_some() || self.timeout.is_some() || self.embedded
    }
}

/// Ranking by a profile (`check`, `rewrite`).
#[derive(Debug, Args)]
struct RankArgs {
    /// Rank the rewrites by this profile (written by `pyslim profile`) and apply only
    /// those that save at least `--min-saving` at the peak.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// With a profile: the smallest estimated saving at the peak a rewrite must make to
    /// be applied, e.g. 512KiB, 2MB; 0 keeps everything [default: `[profile]
    /// min-saving`, 64KiB].
    #[arg(long, value_name = "SIZE")]
    min_saving: Option<String>,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    // `--color` is known before clap renders help or a usage error.
    let color = color_from_args(std::env::args_os());
    apply_color(color);
    let matches = Cli::command().color(clap_color(color)).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    apply_color(cli.global.color);
    crate::report::level::set(match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Level::Quiet,
        (false, true) => Level::Verbose,
        (false, false) => Level::Normal,
    });
    let result = match cli.command {
        Command::Rewrite(args) => rewrite::run(args),
        Command::Check(args) => check::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Transforms { format } => info::list_transforms(format),
        Command::Explain { name } => info::explain(&name),
        Command::Completions { shell } => completions::print(shell),
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

/// The `--color` choice given in `args` (the last one wins, as clap reads it), before
/// clap parses them: help and usage errors are colored by it too.
fn color_from_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ColorWhen {
    let mut color = ColorWhen::Auto;
    let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        };
        if let Some(value) = value
            && let Ok(choice) = ColorWhen::from_str(&value, false)
        {
            color = choice;
        }
    }
    color
}

/// Makes every styled write (`anstream`) follow `color`. `auto` leaves anstream's own
/// detection, which colors a terminal and honours `NO_COLOR` and `CLICOLOR_FORCE`.
fn apply_color(color: ColorWhen) {
    let choice = match color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

fn clap_color(color: ColorWhen) -> clap::ColorChoice {
    match color {
        ColorWhen::Auto => clap::ColorChoice::Auto,
        ColorWhen::Always => clap::ColorChoice::Always,
        ColorWhen::Never => clap::ColorChoice::Never,
    }
}

/// Under `--verbose`, says on stderr how long `what` took.
fn timing(what: &str, took: std::time::Duration) {
    if crate::report::level::verbose() {
        let _ = writeln!(
            anstream::stderr(),
            "{what} in {:.1} ms",
            took.as_secs_f64() * 1000.0
        );
    }
}

/// Prints the errors of a run on stderr (what `--quiet` keeps of the summary).
fn print_errors(report: &RunReport) -> std::io::Result<()> {
    let mut err = anstream::stderr().lock();
    let red = anstyle::AnsiColor::Red.on_default().bold();
    for e in &report.errors {
        writeln!(err, "{red}error{red:#}: {e}")?;
    }
    Ok(())
}

/// Prints the closing summary (`verb`: `Found`, `Applied`), or under `--quiet` only
/// the errors in it.
fn print_summary(report: &RunReport, verb: &str) -> std::io::Result<()> {
    if crate::report::level::quiet() {
        print_errors(report)
    } else {
        report.print_summary(verb)
    }
}

fn load(common: &CommonArgs) -> Result<Workspace> {
    let started = std::time::Instant::now();
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
    let workspace = Workspace::load(&paths, resolver, cwd)?;
    if crate::report::level::verbose() {
        let config = config_here(&workspace)?;
        let _ = writeln!(
            anstream::stderr(),
            "Configuration of the current folder: {}",
            match &config.path {
                Some(path) => crate::load::display_path(path, &workspace.cwd),
                None => "none found, the defaults".to_string(),
            }
        );
        // The whole-project analysis is timed on its own line, out of the read.
        let analysis = workspace.analysis_time;
        timing(
            &format!(
                "Read {} files ({} test files among the paths given, only read)",
                workspace.files.len(),
                workspace.test_files.len()
            ),
            started.elapsed().saturating_sub(analysis),
        );
        timing("Analysed the project as a whole", analysis);
    }
    Ok(workspace)
}

/// The configuration of the current folder (verification and profile settings).
fn config_here(workspace: &Workspace) -> Result<Arc<Config>> {
    workspace.resolver.for_dir(&workspace.cwd)
}

/// The project root runs happen in: the configuration file's folder when there is one,
/// else the same project root the analysis uses (so a run from a subfolder still copies
/// the whole project).
fn project_root(workspace: &Workspace, config: &Config) -> PathBuf {
    match &config.path {
        Some(_) => config.root.clone(),
        None => crate::load::project_root(&workspace.cwd).unwrap_or_else(|| workspace.cwd.clone()),
    }
}

/// Under `--verify` and `profile`, messages quote the figures of the Python the project
/// runs on (its venv's), not the target version's. Without a venv nothing changes here:
/// the run that needs one says so.
fn quote_venv_figures(workspace: &mut Workspace, python: &PythonArgs) -> Result<()> {
    let config = config_here(workspace)?;
    let root = project_root(workspace, &config);
    let explicit = python
        .venv
        .as_ref()
        .map(|p| workspace.cwd.join(p))
        .or_else(|| config.verify.venv.clone());
    let Ok(venv) = crate::python::venv::find(explicit.as_deref(), &root) else {
        return Ok(());
    };
    if let Ok(version) = crate::load::config::parse_version(
        &venv
            .version
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join("."),
    ) {
        workspace.quote_figures_for(version);
    }
    Ok(())
}

/// The profile named by `--profile`, loaded.
fn load_profile(workspace: &Workspace, rank: &RankArgs) -> Result<Option<Profile>> {
    rank.profile
        .as_ref()
        .map(|path| Profile::load(&workspace.cwd.join(path)))
        .transpose()
}

/// Hands the profile's observations to the transforms (before the fix loop runs).
fn observe(workspace: &mut Workspace, profile: &Profile) -> Result<()> {
    let Some(census) = &profile.census else {
        return Ok(());
    };
    let config = config_here(workspace)?;
    let root = project_root(workspace, &config);
    let root = std::path::absolute(&root).unwrap_or(root);
    let observed = crate::profile::observed(census, &workspace.files, &root);
    workspace.observe(Arc::new(observed));
    Ok(())
}

/// `--min-saving`, else `[profile] min-saving`.
fn min_saving(rank: &RankArgs, config: &Config) -> Result<u64> {
    match &rank.min_saving {
        Some(text) => crate::profile::size::parse(text).context("option --min-saving"),
        None => Ok(config.min_saving),
    }
}

/// Matches a profile against the workspace's files.
fn selection<'p>(
    workspace: &Workspace,
    profile: &'p Profile,
    min_saving: u64,
) -> Result<Selection<'p>> {
    let config = config_here(workspace)?;
    let root = project_root(workspace, &config);
    let root = std::path::absolute(&root).unwrap_or(root);
    Ok(Selection::new(profile, &workspace.files, &root, min_saving))
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
