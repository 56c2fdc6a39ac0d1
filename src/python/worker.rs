//! The worker process: `pyslim __worker SPEC.json` starts CPython embedded, as the
//! project's virtualenv, runs pytest once with the plugin in `plugin.py`, and exits with
//! pytest's exit code. One process per run: `pytest.main` must never run twice in one
//! interpreter (`sys.modules` would keep the old code), and a test that calls
//! `os._exit` or crashes takes only this process down.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyModule;

/// The Python side of the worker, shipped inside the binary.
pub const PLUGIN_SOURCE: &str = include_str!("worker.py");

/// What one worker run needs; written by the parent as JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WorkerSpec {
    /// The virtualenv (its `bin/python` is the interpreter's program name).
    pub venv: PathBuf,
    /// The working copy the tests run in.
    pub workdir: PathBuf,
    /// The user's project root (editable installs pointing there are redirected).
    pub original_root: PathBuf,
    /// Arguments for pytest (after `-p no:cacheprovider`).
    pub args: Vec<String>,
    /// Where the result JSON goes.
    pub result: PathBuf,
    /// Where the plugin appends one line per finished test.
    pub progress: Option<PathBuf>,
    /// Whether to trace allocations (per-test peaks).
    pub memory: bool,
    /// Run only these test ids (culprit searches); `None`: every collected test.
    pub only: Option<Vec<String>>,
}

/// Entry point of the hidden subcommand. Returns the process exit code.
pub fn main(spec_path: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(spec_path)
        .with_context(|| format!("{}: cannot read the worker spec", spec_path.display()))?;
    let spec: WorkerSpec = serde_json::from_str(&text).context("invalid worker spec")?;
    start_interpreter(&spec.venv.join("bin").join("python"))?;
    let spec_arg = spec_path.to_string_lossy().into_owned();
    let code = Python::attach(|py| -> PyResult<i32> {
        let module = PyModule::from_code(
            py,
            &CString::new(PLUGIN_SOURCE).expect("plugin source has no NUL"),
            c"pyslim_worker.py",
            c"pyslim_worker",
        )?;
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
    // Flushes Python's buffered stdout (pytest's summary) and runs atexit handlers.
    // SAFETY: the interpreter was initialised by this thread and is not used afterwards.
    unsafe {
        ffi::Py_FinalizeEx();
    }
    Ok(code)
}

/// Starts CPython as `program_name` so it finds `pyvenv.cfg` itself: `sys.prefix`,
/// `sys.path` and `sys.executable` then match `<venv>/bin/python` exactly (pyo3's
/// default start-up does not; see docs: embedding).
fn start_interpreter(program_name: &Path) -> Result<()> {
    let name = CString::new(program_name.as_os_str().as_encoded_bytes())
        .context("venv path contains a NUL byte")?;
    // SAFETY: PyConfig is a plain C struct that PyConfig_InitPythonConfig fully
    // initialises; every status is checked, and the config is cleared after use.
    unsafe {
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
pub fn linked_version() -> String {
    // SAFETY: Py_GetVersion returns a static string and may be called before start-up.
    let full = unsafe { CStr::from_ptr(ffi::Py_GetVersion()) }.to_string_lossy();
    full.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}
