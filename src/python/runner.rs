//! Parent side of one run: writes the spec, starts the worker in its own process
//! group, shows progress, enforces the timeout, and reads back what the worker
//! reported ([`Finished`]). What that means depends on the target: for the test suite
//! [`Finished::pytest_verdict`] (a verdict or an inconclusive run), for a workload
//! [`Finished::workload_verdict`] (completed, failed, or could not be judged).

use std::collections::BTreeMap;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::signals;
use super::worker::{CensusSpec, MeterMode, Target, WorkerSpec};

pub use super::signals::Interrupted;

/// How the worker runs Python.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `pyslim __worker`: CPython embedded, started as the venv.
    Embedded,
    /// `<venv>/bin/python _pyslim_worker.py`: the venv's own interpreter (its Python
    /// differs from the linked libpython, or pyslim was built without the `embedded`
    /// feature and links none).
    VenvInterpreter,
}

/// Everything constant across the runs on one working copy.
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
    /// Per-run limit (a run may ask for its own).
    pub timeout: Duration,
    /// Scratch folder for specs, results and logs (outside the working copy).
    pub scratch: PathBuf,
    /// Show a progress bar (only when stderr is a terminal).
    pub progress: bool,
    /// The project's modules pyslim may rewrite, by dotted name, with their paths in
    /// the project ([`project_modules`]).
    pub modules: Arc<BTreeMap<String, String>>,
}

/// The dotted name and project path of each file a transform may rewrite: what a run
/// checks its target imported from the working copy ([`ModulesSeen`]).
pub fn project_modules(
    files: &[crate::load::ProjectFile],
    root: &Path,
) -> BTreeMap<String, String> {
    files
        .iter()
        .filter(|f| !f.transforms.is_empty() && !f.info.name.is_empty())
        .filter_map(|f| {
            let relative = crate::profile::relative_path(&f.path, root)?;
            Some((f.info.name.clone(), relative))
        })
        .collect()
}

/// Which of the project's modules the target imported, and from where.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ModulesSeen {
    /// How many it imported from the working copy (the code pyslim rewrites).
    pub local: usize,
    /// `[name, file]` of each it imported from another copy of the project (a file
    /// elsewhere whose path ends as the module's, as when the venv holds the project
    /// installed from another folder).
    #[serde(default)]
    pub foreign: Vec<(String, String)>,
}

impl ModulesSeen {
    /// Nothing to say when the target ran the project's own code. An error when
    /// `what` (`the workload`, `the tests`) imported the project only from elsewhere:
    /// every figure would be about that code, and no rewrite would be exercised. A
    /// warning, returned, when it imported some modules from elsewhere and some from
    /// the project.
    pub fn check(&self, what: &str) -> Result<Option<String>> {
        let Some((name, file)) = self.foreign.first() else {
            return Ok(None);
        };
        let more = match self.foreign.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more of its modules)"),
        };
        let cause = format!(
            "{what} imported the project's module `{name}` from {file}{more}: another \
             copy of the project, installed in the venv from another folder"
        );
        if self.local == 0 {
            anyhow::bail!(
                "{cause}, so pyslim would measure and test that code instead of this \
                 project's; install the project from here (`pip install -e .` with the \
                 venv's pip) or run pyslim in the folder it is installed from"
            );
        }
        Ok(Some(format!(
            "{cause}: what runs there is not the code pyslim rewrites and measures"
        )))
    }
}

/// One test's record from the plugin.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TestRecord {
    /// `passed`, `failed`, `error` or `skipped`.
    pub outcome: String,
    /// Seconds over setup, call and teardown.
    pub duration: f64,
    /// Peak traced bytes over setup, call and teardown (metered runs only).
    pub peak: Option<u64>,
    /// The instrumented code units the test reached (instrumented runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hits: Option<Vec<u32>>,
    /// For a failure: the `.py` files its traceback goes through, innermost last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// For a failure: its last error line (`AttributeError: ...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Test records of one run, by node id.
pub type TestRecords = BTreeMap<String, TestRecord>;

/// A test module pytest could not import.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CollectionError {
    /// Its node id (the module's path).
    pub nodeid: String,
    /// pytest's report, shortened.
    pub text: String,
    /// The `.py` files its traceback goes through, innermost last.
    #[serde(default)]
    pub files: Vec<String>,
}

/// The whole run's traced memory.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Traced {
    /// `native` (the allocation hooks) or `tracemalloc`.
    pub meter: String,
    /// Traced bytes when the meter started.
    pub start: i64,
    /// The highest traced bytes.
    pub peak: i64,
    /// Traced bytes at the end.
    pub end: i64,
}

impl Traced {
    /// The run's own peak: the highest figure above what was there when it started.
    pub fn peak_above_start(&self) -> u64 {
        (self.peak - self.start).max(0) as u64
    }
}

/// What the worker wrote, the fields a run of that kind fills.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RunResult {
    /// The target's exit code.
    pub exit_code: i32,
    /// Tests that ran (pytest).
    #[serde(default)]
    pub collected: usize,
    /// Per-test records (pytest).
    #[serde(default)]
    pub tests: TestRecords,
    /// Test modules that could not be imported (pytest).
    #[serde(default)]
    pub collection_errors: Vec<CollectionError>,
    /// Units reached while a test module was collected, by its node id (pytest).
    #[serde(default)]
    pub collect_hits: BTreeMap<String, Vec<u32>>,
    /// Test module file → the project module files it reaches through globals.
    #[serde(default)]
    pub module_refs: BTreeMap<String, Vec<String>>,
    /// The workload's traceback when it raised.
    #[serde(default)]
    pub error: Option<String>,
    /// Units a workload reached.
    #[serde(default)]
    pub hits: Vec<u32>,
    /// Seconds the target ran, measured inside the worker.
    #[serde(default)]
    pub seconds: f64,
    /// The Python version that ran it.
    #[serde(default)]
    pub python: String,
    /// Peak resident set of the worker process, KiB.
    #[serde(default)]
    pub maxrss_kib: u64,
    /// The target started processes and waited for at least one (nothing measures
    /// them).
    #[serde(default)]
    pub started_processes: bool,
    /// The run's traced memory (metered runs).
    #[serde(default)]
    pub traced: Option<Traced>,
    /// `[file, line, bytes, count]` per allocation site at the peak (metered runs with
    /// sampling; estimates).
    #[serde(default)]
    pub peak_sites: Vec<(String, u32, u64, u64)>,
    /// The census, as the worker wrote it (read by the profile).
    #[serde(default)]
    pub census: Option<serde_json::Value>,
    /// The probes' records (read by the profile).
    #[serde(default)]
    pub probes: Option<serde_json::Value>,
    /// Which of the project's modules the target imported, and from where.
    #[serde(default)]
    pub modules: ModulesSeen,
}

/// One run's request.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Names the run in progress bars and messages (`baseline`, `after #2`).
    pub label: String,
    /// What it runs.
    pub target: Target,
    /// How memory is measured.
    pub meter: MeterMode,
    /// A census near the peak.
    pub census: Option<CensusSpec>,
    /// Probes in an instrumented copy.
    pub probes: bool,
    /// Record the instrumented units reached.
    pub hits: bool,
    /// Publish the peak in this pace record (see [`crate::python::pace`]).
    pub lead: Option<PathBuf>,
    /// This run's limit, when not the runner's.
    pub timeout: Option<Duration>,
    /// How the limit was chosen (`10x the baseline's 4.2s`), for the timeout message.
    pub limit_basis: Option<String>,
}

impl RunSpec {
    /// A plain run of `target`.
    pub fn new(label: impl Into<String>, target: Target) -> RunSpec {
        RunSpec {
            label: label.into(),
            target,
            meter: MeterMode::Off,
            census: None,
            probes: false,
            hits: false,
            lead: None,
            timeout: None,
            limit_basis: None,
        }
    }
}

/// How the worker process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
    /// It ran past the limit and its process group was killed.
    TimedOut(Duration),
}

/// A finished run: how it ended and what it reported.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The request.
    pub spec: RunSpec,
    /// How the process ended.
    pub exit: Exit,
    /// The result file, when the target returned normally.
    pub result: Option<RunResult>,
    /// The workload's standard output (workload runs).
    pub stdout: Option<Vec<u8>>,
    /// The last lines of the worker's other output, for messages (`""` when none).
    pub tail: String,
    /// Wall time of the whole worker process.
    pub wall: Duration,
}

/// What a test-suite run established.
#[derive(Debug, Clone)]
pub enum RunOutcome {
    /// pytest ran to the end (exit 0 or 1) and reported tests.
    Verdict(TestRecords),
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

/// What a workload run established.
#[derive(Debug, Clone)]
pub enum WorkloadOutcome {
    /// It exited 0.
    Completed,
    /// It exited non-zero or raised: the program failed (its cause and output tail).
    Failed(String),
    /// It could not be judged (killed, timed out, the worker failed).
    Inconclusive(String),
}

impl Finished {
    fn timeout_cause(&self, after: Duration) -> String {
        let basis = match &self.spec.limit_basis {
            Some(basis) => format!(", {basis}"),
            None => String::new(),
        };
        format!(
            "the {} run ({}) timed out after {}{basis} (the whole process group was killed)",
            self.spec.label,
            describe_mode(&self.spec),
            seconds(after)
        )
    }

    /// The test-suite verdict: only pytest exit 0 or 1 with a complete result file and
    /// at least one test is one.
    pub fn pytest_verdict(&self) -> RunOutcome {
        let tail = &self.tail;
        let code = match &self.exit {
            Exit::TimedOut(after) => return RunOutcome::Inconclusive(self.timeout_cause(*after)),
            Exit::Signal(signal) => {
                return RunOutcome::Inconclusive(format!(
                    "the worker died from signal {signal}{tail}"
                ));
            }
            Exit::Code(code) => *code,
        };
        let Some(parsed) = &self.result else {
            return RunOutcome::Inconclusive(format!(
                "the worker exited with code {code} without a result file (a test called \
                 os._exit, or the worker failed){tail}"
            ));
        };
        if parsed.exit_code != code {
            return RunOutcome::Inconclusive(format!(
                "pytest returned {} but the worker exited with {code}{tail}",
                parsed.exit_code
            ));
        }
        match code {
            0 | 1 if parsed.collected > 0 => RunOutcome::Verdict(parsed.tests.clone()),
            0 | 1 => RunOutcome::Inconclusive("no tests ran".into()),
            2 => RunOutcome::Inconclusive(format!(
                "pytest was interrupted (exit 2: a collection error or KeyboardInterrupt){tail}"
            )),
            3 => RunOutcome::Inconclusive(format!("pytest internal error (exit 3){tail}")),
            4 => RunOutcome::Inconclusive(format!(
                "pytest usage error (exit 4): check the pytest arguments{tail}"
            )),
            5 => RunOutcome::Inconclusive("no tests collected (exit 5)".into()),
            other => RunOutcome::Inconclusive(format!("pytest exited with {other}{tail}")),
        }
    }

    /// The workload's verdict: exit 0 completes; a non-zero exit or an exception is
    /// the program's failure; anything else cannot be judged.
    pub fn workload_verdict(&self) -> WorkloadOutcome {
        let tail = &self.tail;
        let code = match &self.exit {
            Exit::TimedOut(after) => {
                return WorkloadOutcome::Inconclusive(self.timeout_cause(*after));
            }
            Exit::Signal(signal) => {
                return WorkloadOutcome::Inconclusive(format!(
                    "the workload's process died from signal {signal}{tail}"
                ));
            }
            Exit::Code(code) => *code,
        };
        match &self.result {
            None => WorkloadOutcome::Inconclusive(format!(
                "the worker exited with code {code} without a result file (the workload \
                 called os._exit, or the worker failed){tail}"
            )),
            Some(result) if result.exit_code != code => WorkloadOutcome::Inconclusive(format!(
                "the workload returned {} but the worker exited with {code}{tail}",
                result.exit_code
            )),
            Some(result) if code == 0 => {
                let _ = result;
                WorkloadOutcome::Completed
            }
            Some(result) => WorkloadOutcome::Failed(match &result.error {
                Some(_) => format!("it raised an exception{tail}"),
                None => format!("it exited with code {code}{tail}"),
            }),
        }
    }
}

fn describe_mode(spec: &RunSpec) -> String {
    let what = match &spec.target {
        Target::Pytest {
            only: Some(ids), ..
        } => format!("{} selected tests", ids.len()),
        Target::Pytest { only: None, .. } => "the test suite".to_string(),
        Target::Workload { .. } => "the workload".to_string(),
    };
    let how = match spec.meter {
        MeterMode::Off if spec.probes => "with probes",
        MeterMode::Off if spec.hits => "recording the code each test reaches",
        MeterMode::Off => "plain",
        MeterMode::PerTest => "measuring each test's peak",
        MeterMode::Peak => "measuring the peak",
    };
    format!("{what}, {how}")
}

/// `12.3s` or `4m05s`.
pub fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", s as u64 / 60, s as u64 % 60)
    }
}

impl Runner {
    /// Runs a test-suite run on the working copy as it is now. `label` names the run;
    /// `memory` measures each test's peak; `only` restricts it to those test ids.
    pub fn run(
        &self,
        label: &str,
        memory: bool,
        only: Option<&[String]>,
        serial: usize,
    ) -> Result<RunOutcome> {
        let mut spec = RunSpec::new(label, self.pytest(only));
        if memory {
            spec.meter = MeterMode::PerTest;
        }
        Ok(self.launch(spec, serial)?.pytest_verdict())
    }

    /// The test-suite target with the runner's arguments.
    pub fn pytest(&self, only: Option<&[String]>) -> Target {
        Target::Pytest {
            args: self.args.clone(),
            only: only.map(<[String]>::to_vec),
        }
    }

    /// Runs `spec` once on the working copy as it is now and returns how it ended.
    /// Errors only for Ctrl-C/SIGTERM/SIGHUP ([`Interrupted`]) or when the worker
    /// cannot be started.
    pub fn launch(&self, spec: RunSpec, serial: usize) -> Result<Finished> {
        signals::check()?;
        let spec_path = self.scratch.join(format!("run-{serial}.json"));
        let result = self.scratch.join(format!("run-{serial}.result.json"));
        let progress = self.scratch.join(format!("run-{serial}.progress"));
        let log = self.scratch.join(format!("run-{serial}.log"));
        let stdout_path = self.scratch.join(format!("run-{serial}.stdout"));
        let workload = matches!(spec.target, Target::Workload { .. });
        let worker_spec = WorkerSpec {
            venv: self.venv.clone(),
            workdir: self.workdir.clone(),
            original_root: self.original_root.clone(),
            target: spec.target.clone(),
            result: result.clone(),
            progress: Some(progress.clone()),
            meter: spec.meter,
            census: spec.census.clone(),
            probes: spec.probes,
            hits: spec.hits,
            lead: spec.lead.clone(),
            modules: (*self.modules).clone(),
        };
        std::fs::write(&spec_path, serde_json::to_vec(&worker_spec)?)
            .with_context(|| format!("cannot write {}", spec_path.display()))?;
        let entry = self.python_entry()?;
        let mut command = match self.mode {
            Mode::Embedded => {
                let mut c = Command::new(&self.worker_exe);
                c.arg("__worker").arg(&entry).arg(&spec_path);
                c
            }
            Mode::VenvInterpreter => {
                let mut c = Command::new(self.venv.join("bin").join("python"));
                c.arg(&entry).arg(&spec_path);
                c
            }
        };
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let out_file = if workload {
            std::fs::File::create(&stdout_path)
                .with_context(|| format!("cannot create {}", stdout_path.display()))?
        } else {
            log_file.try_clone()?
        };
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
            .stdout(out_file)
            .stderr(log_file)
            // Own process group: the timeout and signals kill the target's children
            // too, and the terminal's SIGINT reaches only pyslim, which decides.
            .process_group(0);
        if workload && std::env::var_os("PYTHONHASHSEED").is_none() {
            // The workload's output is compared between runs: the same string hashes
            // (set order, dict order of sets) in every run, unless the user chose.
            command.env("PYTHONHASHSEED", "0");
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                // A worker that inherits SIGINT as ignored would not stop on Ctrl-C.
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                libc::signal(libc::SIGHUP, libc::SIG_DFL);
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the worker for the {} run", spec.label))?;
        let pgid = child.id() as i32;
        let guard = signals::ChildGroup::new(pgid);
        let bar = self.bar(&spec.label, !workload);
        let limit = spec.timeout.unwrap_or(self.timeout);
        let status = loop {
            if signals::interrupted() {
                drop(guard);
                let _ = child.wait();
                bar.finish_and_clear();
                return Err(Interrupted {
                    signal: signals::received().unwrap_or(libc::SIGINT),
                }
                .into());
            }
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if started.elapsed() >= limit {
                break None;
            }
            update_bar(&bar, &progress);
            // Short naps while the run is young: a profile is several short runs back
            // to back, and a fixed 20 ms nap added 10 ms to each on average.
            let nap =
                (started.elapsed() / 50).clamp(Duration::from_millis(1), Duration::from_millis(20));
            std::thread::sleep(nap);
        };
        // Whatever the target left running in the group goes too.
        drop(guard);
        if status.is_none() {
            let _ = child.wait();
        }
        let wall = started.elapsed();
        bar.finish_and_clear();
        let exit = match status {
            None => Exit::TimedOut(limit),
            Some(status) => match status.signal() {
                Some(signal) => Exit::Signal(signal),
                None => Exit::Code(status.code().unwrap_or(-1)),
            },
        };
        let parsed: Option<RunResult> = std::fs::read(&result)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let stdout = if workload {
            std::fs::read(&stdout_path).ok()
        } else {
            None
        };
        let mut tail = log_tail(&log);
        if tail.is_empty() && workload {
            // A workload that failed in silence on stderr: what it printed last.
            tail = log_tail(&stdout_path);
        }
        Ok(Finished {
            spec,
            exit,
            result: parsed,
            stdout,
            tail,
            wall,
        })
    }

    /// The worker's Python entry point, written into the scratch folder on first use.
    fn python_entry(&self) -> Result<PathBuf> {
        let dir = self.scratch.join("worker");
        let entry = dir.join(super::worker::PYTHON_FILES[0].0);
        if entry.exists() {
            return Ok(entry);
        }
        super::worker::write_python_files(&dir)
    }

    fn bar(&self, label: &str, tests: bool) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let (template, length) = if tests {
            (
                "{prefix:>18} [{bar:30}] {pos}/{len} tests {elapsed}",
                Some(0),
            )
        } else {
            ("{prefix:>18} {spinner} {elapsed}", None)
        };
        let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        if !tests {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        bar
    }
}

fn update_bar(bar: &ProgressBar, progress: &Path) {
    if bar.is_hidden() || bar.length().is_none() {
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

/// The last lines of the worker's output, for inconclusive causes.
fn log_tail(log: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(log) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(8);
    format!("; last output:\n    {}", lines[start..].join("\n    "))
}

#[cfg(test)]
mod tests {
    use super::ModulesSeen;

    fn seen(local: usize, foreign: &[(&str, &str)]) -> ModulesSeen {
        ModulesSeen {
            local,
            foreign: foreign
                .iter()
                .map(|(n, f)| (n.to_string(), f.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_project_s_own_code_says_nothing() {
        assert_eq!(seen(3, &[]).check("the tests").unwrap(), None);
        // Nothing of the project imported at all: nothing to say either.
        assert_eq!(seen(0, &[]).check("the tests").unwrap(), None);
    }

    #[test]
    fn another_copy_alone_stops_and_beside_the_project_warns() {
        let foreign = [
            ("pkg", "/elsewhere/pkg/__init__.py"),
            ("pkg.core", "/elsewhere/pkg/core.py"),
        ];
        let err = seen(0, &foreign).check("the workload").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the workload imported the project's module `pkg` from \
             /elsewhere/pkg/__init__.py (and 1 more of its modules): another copy of the \
             project, installed in the venv from another folder, so pyslim would measure \
             and test that code instead of this project's; install the project from here \
             (`pip install -e .` with the venv's pip) or run pyslim in the folder it is \
             installed from"
        );
        let warning = seen(2, &foreign[1..]).check("the tests").unwrap();
        assert_eq!(
            warning.as_deref(),
            Some(
                "the tests imported the project's module `pkg.core` from \
                 /elsewhere/pkg/core.py: another copy of the project, installed in the venv \
                 from another folder: what runs there is not the code pyslim rewrites and \
                 measures"
            )
        );
    }
}
