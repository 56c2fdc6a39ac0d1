//! Parent side of one test run: writes the spec, starts the worker in its own process
//! group, shows progress, enforces the timeout, and turns what came back into a
//! verdict or an inconclusive run.

use std::collections::BTreeMap;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::worker::{PLUGIN_SOURCE, WorkerSpec};

/// Set by the Ctrl-C handler; every wait loop checks it.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The error returned when the user pressed Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// How the tests are run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `pyslim __worker`: CPython embedded, started as the venv.
    Embedded,
    /// `<venv>/bin/python plugin.py`: the venv's own interpreter (its Python differs
    /// from the linked libpython).
    VenvInterpreter,
}

/// Everything constant across the runs of one verification.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The pyslim binary (the worker subcommand lives there).
    pub worker_exe: PathBuf,
    /// The virtualenv.
    pub venv: PathBuf,
    /// Embedded or the venv's interpreter.
    pub mode: Mode,
    /// The working copy.
    pub workdir: PathBuf,
    /// The user's project root.
    pub original_root: PathBuf,
    /// pytest arguments.
    pub args: Vec<String>,
    /// Per-run limit.
    pub timeout: Duration,
    /// Scratch folder for specs and results (outside the working copy).
    pub scratch: PathBuf,
    /// Show a progress bar (only when stderr is a terminal).
    pub progress: bool,
}

/// One test's record from the plugin.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TestRecord {
    /// `passed`, `failed`, `error` or `skipped`.
    pub outcome: String,
    /// Seconds over setup, call and teardown.
    pub duration: f64,
    /// tracemalloc peak over setup, call and teardown, in bytes (memory runs only).
    pub peak: Option<u64>,
}

#[derive(Debug, serde::Deserialize)]
struct ResultFile {
    exit_code: i32,
    collected: usize,
    tests: BTreeMap<String, TestRecord>,
}

/// Test records of one run, by node id.
pub type TestRecords = BTreeMap<String, TestRecord>;

/// What one run established.
#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// pytest ran to the end (exit 0 or 1) and reported tests.
    Verdict(BTreeMap<String, TestRecord>),
    /// Nothing can be concluded from the run; the cause says why.
    Inconclusive(String),
}

impl RunOutcome {
    /// Test ids that failed or errored (empty for an inconclusive run).
    pub fn failures(&self) -> Vec<String> {
        match self {
            RunOutcome::Verdict(tests) => tests
                .iter()
                .filter(|(_, t)| matches!(t.outcome.as_str(), "failed" | "error"))
                .map(|(id, _)| id.clone())
                .collect(),
            RunOutcome::Inconclusive(_) => Vec::new(),
        }
    }
}

impl Runner {
    /// Runs the suite once on the working copy as it is now. `label` names the run in
    /// the progress bar. Errors only for Ctrl-C or when the worker cannot be started.
    /// `only` restricts the run to those test ids.
    pub fn run(
        &self,
        label: &str,
        memory: bool,
        only: Option<&[String]>,
        serial: usize,
    ) -> Result<RunOutcome> {
        let spec_path = self.scratch.join(format!("run-{serial}.json"));
        let result = self.scratch.join(format!("run-{serial}.result.json"));
        let progress = self.scratch.join(format!("run-{serial}.progress"));
        let log = self.scratch.join(format!("run-{serial}.log"));
        let spec = WorkerSpec {
            venv: self.venv.clone(),
            workdir: self.workdir.clone(),
            original_root: self.original_root.clone(),
            args: self.args.clone(),
            result: result.clone(),
            progress: Some(progress.clone()),
            memory,
            only: only.map(<[String]>::to_vec),
        };
        std::fs::write(&spec_path, serde_json::to_vec(&spec)?)?;
        let mut command = match self.mode {
            Mode::Embedded => {
                let mut c = Command::new(&self.worker_exe);
                c.arg("__worker").arg(&spec_path);
                c
            }
            Mode::VenvInterpreter => {
                let script = self.scratch.join("pyslim_worker.py");
                if !script.exists() {
                    std::fs::write(&script, PLUGIN_SOURCE)?;
                }
                let mut c = Command::new(self.venv.join("bin").join("python"));
                c.arg(&script).arg(&spec_path);
                c
            }
        };
        let log_file = std::fs::File::create(&log)?;
        let bin = self.venv.join("bin");
        // As an activated venv: its bin first. Without PATH, what a shell would use.
        let rest =
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        let mut paths = vec![bin];
        paths.extend(std::env::split_paths(&rest));
        let path = std::env::join_paths(paths).unwrap_or(rest);
        command
            .current_dir(&self.workdir)
            // A PYTHONHOME pointed anywhere but the base install breaks start-up.
            .env_remove("PYTHONHOME")
            .env("VIRTUAL_ENV", &self.venv)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            // Own process group: the timeout and Ctrl-C kill the tests' children too,
            // and the terminal's SIGINT reaches only pyslim, which decides.
            .process_group(0);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                // A worker that inherits SIGINT as ignored would not stop on Ctrl-C.
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the test worker for the {label} run"))?;
        let pgid = child.id() as i32;
        let bar = self.bar(label);
        let started = Instant::now();
        let status = loop {
            if INTERRUPTED.load(Ordering::SeqCst) {
                kill_group(pgid);
                let _ = child.wait();
                bar.finish_and_clear();
                return Err(Interrupted.into());
            }
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if started.elapsed() >= self.timeout {
                kill_group(pgid);
                let _ = child.wait();
                break None;
            }
            update_bar(&bar, &progress);
            std::thread::sleep(Duration::from_millis(40));
        };
        // Whatever the tests left running in the group goes too.
        kill_group(pgid);
        bar.finish_and_clear();
        let tail = log_tail(&log);
        let Some(status) = status else {
            return Ok(RunOutcome::Inconclusive(format!(
                "timed out after {}s (the whole process group was killed)",
                self.timeout.as_secs()
            )));
        };
        if let Some(signal) = status.signal() {
            return Ok(RunOutcome::Inconclusive(format!(
                "the worker died from signal {signal}{tail}"
            )));
        }
        let code = status.code().unwrap_or(-1);
        let parsed: Option<ResultFile> = std::fs::read(&result)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Some(parsed) = parsed else {
            return Ok(RunOutcome::Inconclusive(format!(
                "the worker exited with code {code} without a result file (a test called \
                 os._exit, or the worker failed){tail}"
            )));
        };
        if parsed.exit_code != code {
            return Ok(RunOutcome::Inconclusive(format!(
                "pytest returned {} but the worker exited with {code}{tail}",
                parsed.exit_code
            )));
        }
        match code {
            0 | 1 if parsed.collected > 0 => Ok(RunOutcome::Verdict(parsed.tests)),
            0 | 1 => Ok(RunOutcome::Inconclusive("no tests ran".into())),
            2 => Ok(RunOutcome::Inconclusive(format!(
                "pytest was interrupted (exit 2: a collection error or KeyboardInterrupt){tail}"
            ))),
            3 => Ok(RunOutcome::Inconclusive(format!(
                "pytest internal error (exit 3){tail}"
            ))),
            4 => Ok(RunOutcome::Inconclusive(format!(
                "pytest usage error (exit 4): check the pytest arguments{tail}"
            ))),
            5 => Ok(RunOutcome::Inconclusive(
                "no tests collected (exit 5)".into(),
            )),
            other => Ok(RunOutcome::Inconclusive(format!(
                "pytest exited with {other}{tail}"
            ))),
        }
    }

    fn bar(&self, label: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} tests {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar
    }
}

fn update_bar(bar: &ProgressBar, progress: &Path) {
    if bar.is_hidden() {
        return;
    }
    let Ok(text) = std::fs::read_to_string(progress) else {
        return;
    };
    let mut done = 0;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("collected ") {
            bar.set_length(n.parse().unwrap_or(0));
        } else if line == "done" {
            done += 1;
        }
    }
    bar.set_position(done);
}

fn kill_group(pgid: i32) {
    // SAFETY: plain syscall; pgid is the worker's own group (process_group(0)).
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// The last lines of the worker's output, for inconclusive causes.
fn log_tail(log: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(log) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(5);
    format!("; last output:\n    {}", lines[start..].join("\n    "))
}

/// Installs the Ctrl-C handler once per process.
pub fn install_interrupt_handler() -> Result<()> {
    static INSTALLED: std::sync::OnceLock<std::result::Result<(), String>> =
        std::sync::OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) => bail!("cannot install the Ctrl-C handler: {e}"),
    }
}
