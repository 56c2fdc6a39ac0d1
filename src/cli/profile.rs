//! `pyslim profile`: run the workload under measurement and rank every rewrite by the
//! memory it would save at the peak.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use super::{CommonArgs, Format, PythonArgs, config_here, load, project_root, quote_venv_figures};
use crate::load::Workspace;
use crate::load::config::Config;
use crate::profile::ProfileRequest;
use crate::profile::schema::Profile;
use crate::write::atomic_write_new;

/// `profile`'s options.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The workload, as after `python`: a script with its arguments (`"bench.py --n
    /// 200000"`) or a module (`"-m app.bench"`), run from the project root in its venv
    /// [default: `[profile] workload`, else the test suite].
    #[arg(long, value_name = "COMMAND")]
    workload: Option<String>,
    /// Where to write the profile [default: .pyslim/profile.json in the project root].
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    python: PythonArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `profile`.
pub fn run(args: ProfileArgs) -> Result<ExitCode> {
    let mut workspace = load(&args.common)?;
    // The workload runs on an instrumented copy of every file.
    workspace.restore_all_texts();
    quote_venv_figures(&mut workspace, &args.python)?;
    let config = config_here(&workspace)?;
    let root = project_root(&workspace, &config);
    let request = request(
        &workspace,
        &config,
        &args.python,
        args.workload.as_deref(),
        &root,
    )?;
    let started = std::time::Instant::now();
    let profile = crate::profile::run(&request, &workspace.files, &workspace.facts)?;
    super::timing("Profiled the workload", started.elapsed());
    let output = match &args.output {
        Some(path) => workspace.cwd.join(path),
        None => root.join(".pyslim").join("profile.json"),
    };
    write(&profile, &output)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&profile)?),
        Format::Text => {
            let mut out = anstream::stdout().lock();
            crate::report::profile::print(&profile, &mut out)?;
            if !crate::report::level::quiet() {
                writeln!(
                    anstream::stderr(),
                    "Profile written to {}; rank and apply with `pyslim rewrite --profile {}`.",
                    crate::load::display_path(&output, &workspace.cwd),
                    crate::load::display_path(&output, &workspace.cwd)
                )?;
            }
        }
    }
    for error in &workspace.errors {
        writeln!(anstream::stderr(), "error: {error}")?;
    }
    Ok(if workspace.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Writes the profile, making its folder (and a `.gitignore` in a `.pyslim` folder,
/// as ruff does for its cache).
fn write(profile: &Profile, output: &Path) -> Result<()> {
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        if dir.file_name().is_some_and(|n| n == ".pyslim") && !dir.join(".gitignore").exists() {
            std::fs::write(dir.join(".gitignore"), "# Made by pyslim.\n*\n")
                .with_context(|| format!("cannot write {}", dir.join(".gitignore").display()))?;
        }
    }
    let mut bytes = serde_json::to_vec_pretty(profile)?;
    bytes.push(b'\n');
    atomic_write_new(output, &bytes)
}

/// The profile request from the options and `[profile]`/`[verify]` settings.
pub(super) fn request(
    workspace: &Workspace,
    config: &Config,
    python: &PythonArgs,
    workload: Option<&str>,
    root: &Path,
) -> Result<ProfileRequest> {
    let workload = match workload.or(config.profile.workload.as_deref()) {
        Some(text) => Some(crate::profile::workload_argv(text, &workspace.cwd, root)?),
        None => None,
    };
    let settings = &config.verify;
    Ok(ProfileRequest {
        root: root.to_path_buf(),
        venv: python
            .venv
            .as_ref()
            .map(|p| workspace.cwd.join(p))
            .or_else(|| settings.venv.clone()),
        workload,
        pytest_args: python
            .tests
            .clone()
            .unwrap_or_else(|| settings.args.clone()),
        timeout: python.timeout.or(settings.timeout).map(Duration::from_secs),
        require_embedded: python.embedded || settings.embedded,
        progress: !crate::report::level::quiet(),
        worker_exe: None,
    })
}
