//! The worker process: `pyslim __worker SPEC.json` starts CPython embedded, as the
//! project's virtualenv, and runs the Python side (`_pyslim_worker.py` and its sibling
//! modules, shipped inside the binary and written next to the spec) once: the
//! project's pytest suite or the user's workload. It exits with the target's exit code.
//!
//! One process per run: `pytest.main` must never run twice in one interpreter
//! (`sys.modules` would keep the old code), and a test that calls `os._exit` or
//! crashes takes only this process down. When the spec asks for a meter, the native
//! allocation meter ([`crate::python::native::meter`]) is installed before the
//! interpreter starts, so that every Python allocation is counted.
//!
//! The spec and the Python side are the same in every build; the embedded entry point
//! ([`main`]) exists only with the `embedded` feature. Without it the parent always
//! starts `<venv>/bin/python _pyslim_worker.py SPEC.json` (see
//! [`crate::python::runner::Mode`]).

use std::collections::BTreeMap;
#[cfg(feature = "embedded")]
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

#[cfg(feature = "embedded")]
use anyhow::bail;
use anyhow::{Context, Result};
#[cfg(feature = "embedded")]
use pyo3::ffi;
#[cfg(feature = "embedded")]
use pyo3::prelude::*;

/// The Python side of the worker: file names and sources, written into the run's code
/// folder (the first is the entry point).
pub const PYTHON_FILES: &[(&str, &str)] = &[
    ("_pyslim_worker.py", include_str!("_pyslim_worker.py")),
    ("_pyslim_meter.py", include_str!("_pyslim_meter.py")),
    ("_pyslim_census.py", include_str!("_pyslim_census.py")),
    ("_pyslim_probes.py", include_str!("_pyslim_probes.py")),
    ("_pyslim_pytest.py", include_str!("_pyslim_pytest.py")),
];

/// What one run executes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// The project's pytest suite.
    Pytest {
        /// Arguments for pytest (after `-p no:cacheprovider`).
        args: Vec<String>,
        /// Run only these test ids; `None`: every collected test.
        only: Option<Vec<String>>,
    },
    /// The user's program, as `python ARGV...` would run it (`["-m", "mod", ...]` or
    /// `["script.py", ...]`).
    Workload {
        /// The command line after `python`.
        argv: Vec<String>,
    },
}

/// How memory is measured in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MeterMode {
    /// Not measured (a plain run: its timing and RSS are the real ones).
    Off,
    /// Each test's peak over setup, call and teardown.
    PerTest,
    /// The whole run's peak, with the allocation sites at the peak.
    Peak,
}

/// A census of the heap, taken once traced memory reaches `above_start` bytes above
/// the run's own start, or paced behind a lead run ([`Follow`]), or, with neither, at
/// each 10% of growth, the highest kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CensusSpec {
    /// The level to take it at, above what the interpreter held when the meter
    /// started: runs that import different pyslim modules start at different levels.
    pub above_start: Option<i64>,
    /// Follow a lead run running at the same time (native meter only).
    #[serde(default)]
    pub follow: Option<Follow>,
}

/// A census paced behind a lead run (see [`crate::python::pace`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Follow {
    /// The pace record the lead publishes its peak in.
    pub pace: PathBuf,
    /// The census is due at this share of the lead's final peak.
    pub share: f64,
}

/// What one worker run needs; written by the parent as JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WorkerSpec {
    /// The virtualenv (its `bin/python` is the interpreter's program name).
    pub venv: PathBuf,
    /// The working copy the target runs in.
    pub workdir: PathBuf,
    /// The user's project root (editable installs pointing there are redirected).
    pub original_root: PathBuf,
    /// What to run.
    pub target: Target,
    /// Where the result JSON goes.
    pub result: PathBuf,
    /// Where the plugin appends one line per finished test.
    pub progress: Option<PathBuf>,
    /// How memory is measured.
    pub meter: MeterMode,
    /// A census near the peak.
    pub census: Option<CensusSpec>,
    /// Install the probes the instrumented copy calls (`__pyslim_probe__`) and watch
    /// project classes' attribute writes.
    pub probes: bool,
    /// Install `__pyslim_hit__` and record the instrumented units each test reached.
    pub hits: bool,
    /// Publish this run's peak in this pace record (a lead run; native meter only).
    #[serde(default)]
    pub lead: Option<PathBuf>,
    /// The project's modules pyslim may rewrite: dotted name -> path in the project,
    /// to tell which the target imported from the working copy ([`ModulesSeen`]).
    #[serde(default)]
    pub modules: BTreeMap<String, String>,
}

/// Writes the Python side into `dir`; returns the entry point's path.
pub fn write_python_files(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the worker folder {}", dir.display()))?;
    for (name, source) in PYTHON_FILES {
        let path = dir.join(name);
        std::fs::write(&path, source)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(dir.join(PYTHON_FILES[0].0))
}

/// Entry point of the hidden subcommand: `entry` is the worker's Python entry point
/// (written by the parent). Returns the process exit code.
#[cfg(feature = "embedded")]
pub fn main(entry: &Path, spec_path: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(spec_path)
        .with_context(|| format!("{}: cannot read the worker spec", spec_path.display()))?;
    let spec: WorkerSpec = serde_json::from_str(&text).context("invalid worker spec")?;
    start_interpreter(
        &spec.venv.join("bin").join("python"),
        spec.meter != MeterMode::Off,
    )?;
    let code_dir = entry
        .parent()
        .context("the worker entry point has no folder")?
        .to_string_lossy()
        .into_owned();
    let spec_arg = spec_path.to_string_lossy().into_owned();
    let code = Python::attach(|py| -> PyResult<i32> {
        super::native::register(py)?;
        let sys = py.import("sys")?;
        sys.getattr("path")?.call_method1("insert", (0, code_dir))?;
        let module = py.import("_pyslim_worker")?;
        module.getattr("main")?.call1((spec_arg,))?.extract()
    });
    let code = match code {
        Ok(code) => code,
        Err(err) => {
            Python::attach(|py| err.print(py));
            // Distinct from every pytest exit code, so the parent reports a worker error.
            70
        }
    };
    // Reached only when the Python side failed: on success it ends the process itself,
    // without the heap's teardown (`_exit_without_teardown`).
    super::native::meter::set_sampling(0);
    // Flushes Python's buffered stdout and runs atexit handlers.
    // SAFETY: the interpreter was initialised by this thread and is not used afterwards.
    unsafe {
        ffi::Py_FinalizeEx();
    }
    Ok(code)
}

/// Starts CPython as `program_name` so it finds `pyvenv.cfg` itself: `sys.prefix`,
/// `sys.path` and `sys.executable` then match `<venv>/bin/python` exactly (pyo3's
/// default start-up does not: it takes the base interpreter's prefix). With `meter`, the allocation
/// meter is installed between pre-initialisation and initialisation.
#[cfg(feature = "embedded")]
fn start_interpreter(program_name: &Path, meter: bool) -> Result<()> {
    let name = CString::new(program_name.as_os_str().as_encoded_bytes())
        .context("venv path contains a NUL byte")?;
    // SAFETY: PyPreConfig and PyConfig are plain C structs that their Init functions
    // fully initialise; every status is checked, and the config is cleared after use.
    unsafe {
        let mut pre = std::mem::MaybeUninit::<ffi::PyPreConfig>::zeroed();
        ffi::PyPreConfig_InitPythonConfig(pre.as_mut_ptr());
        let pre = pre.assume_init();
        let status = ffi::Py_PreInitialize(&pre);
        if ffi::PyStatus_Exception(status) != 0 {
            bail!("cannot pre-initialise Python: {}", status_message(&status));
        }
        if meter {
            super::native::meter::install();
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::zeroed();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.parse_argv = 0;
        // Never write bytecode into the working copy: CPython validates a .pyc by
        // whole-second mtime and size, so a same-size edit could run stale code.
        config.write_bytecode = 0;
        let status =
            ffi::PyConfig_SetBytesString(&mut config, &mut config.program_name, name.as_ptr());
        if ffi::PyStatus_Exception(status) != 0 {
            ffi::PyConfig_Clear(&mut config);
            bail!("cannot set the program name: {}", status_message(&status));
        }
        let status = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            bail!(
                "cannot start Python as {}: {}",
                program_name.display(),
                status_message(&status)
            );
        }
    }
    Ok(())
}

#[cfg(feature = "embedded")]
fn status_message(status: &ffi::PyStatus) -> String {
    if status.err_msg.is_null() {
        return "unknown error".into();
    }
    // SAFETY: CPython sets err_msg to a static NUL-terminated string.
    unsafe { CStr::from_ptr(status.err_msg) }
        .to_string_lossy()
        .into_owned()
}

/// The version of the libpython this binary is linked against, e.g. `3.11.7`.
#[cfg(feature = "embedded")]
pub fn linked_version() -> String {
    // Read once per process: up to CPython 3.12, `Py_GetVersion` formats the version
    // into one static buffer on every call (Python/getversion.c), so two threads asking
    // at once may read it half written. Tests that verify in parallel did ("embeds
    // Python \0.11.7").
    static LINKED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINKED
        .get_or_init(|| {
            // SAFETY: Py_GetVersion may be called before start-up and returns a
            // NUL-terminated string; no other thread calls it while this one reads,
            // as every caller goes through this `OnceLock`.
            let full = unsafe { CStr::from_ptr(ffi::Py_GetVersion()) }.to_string_lossy();
            full.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .clone()
}

/// Entry point of the hidden subcommand in a build without an embedded Python: the
/// parent never starts it there, so a call is an error that says why.
#[cfg(not(feature = "embedded"))]
pub fn main(_entry: &Path, _spec_path: &Path) -> Result<i32> {
    anyhow::bail!(
        "this pyslim was built without an embedded Python: its runs use the venv's own \
         interpreter"
    )
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    /// Threads that ask at once all read the whole version (each call used to format
    /// it again into CPython's one buffer while others read it).
    #[test]
    fn the_linked_version_reads_whole_from_many_threads() {
        let versions: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..10_000)
                            .map(|_| super::linked_version())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a reader panicked"))
                .collect()
        });
        let first = &versions[0];
        let parts: Vec<&str> = first.split('.').collect();
        assert_eq!(parts.len(), 3, "{first:?}");
        assert!(
            parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "{first:?}"
        );
        assert!(versions.iter().all(|v| v == first));
    }
}
