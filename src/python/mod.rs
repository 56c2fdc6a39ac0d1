//! Running the project's Python: finding its virtualenv ([`venv`]), a temporary working
//! copy of the project ([`workcopy`]) on which a [`session::Session`] applies chosen
//! fixes, the worker process that runs CPython embedded or the venv's own interpreter
//! ([`worker`], with its Python side in `worker.py`), the parent side of each run
//! ([`runner`]: spec, process group, timeout, Ctrl-C, verdict), and the statistics that
//! compare repeated measurements ([`stats`]).
//!
//! Verification and profiles both build on this: one design for every run of the
//! user's code.

pub mod native;
pub mod runner;
pub mod session;
pub mod signals;
pub mod stats;
pub mod venv;
pub mod workcopy;
pub mod worker;

pub use runner::{Finished, Mode, RunOutcome, RunResult, RunSpec, Runner, TestRecord, TestRecords};
pub use session::{Candidate, Session};

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// The interpreter the project's code runs under.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PythonInfo {
    /// `embedded` or `venv-interpreter`.
    pub mode: Mode,
    /// The virtualenv.
    pub venv: PathBuf,
    /// Its Python version (`pyvenv.cfg`).
    pub venv_version: String,
    /// The libpython pyslim is linked against.
    pub linked_version: String,
}

/// Finds the project's venv and decides how to run it: embedded when its Python is the
/// linked one; otherwise its own interpreter (said once on stderr), or an error with
/// `require_embedded`.
pub fn prepare(
    explicit_venv: Option<&Path>,
    root: &Path,
    require_embedded: bool,
) -> Result<PythonInfo> {
    let venv = venv::find(explicit_venv, root)?;
    let linked = worker::linked_version();
    let mode = if venv::same_python(&venv.version, &linked) {
        Mode::Embedded
    } else if require_embedded {
        bail!(
            "the virtualenv {} has Python {} but pyslim embeds Python {linked}; rebuild pyslim \
             against that Python (PYO3_PYTHON) or allow the fallback (`[verify] embedded = false`)",
            venv.path.display(),
            venv.version
        );
    } else {
        eprintln!(
            "note: the virtualenv {} has Python {} but pyslim embeds Python {linked}; running \
             with {}/bin/python and the same worker code instead (memory is measured with \
             tracemalloc, which is slower)",
            venv.path.display(),
            venv.version,
            venv.path.display()
        );
        Mode::VenvInterpreter
    };
    Ok(PythonInfo {
        mode,
        venv: venv.path,
        venv_version: venv.version,
        linked_version: linked,
    })
}
