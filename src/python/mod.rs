//! Running the project's Python: finding its virtualenv ([`venv`]), a temporary working
//! copy of the project ([`workcopy`]) on which a [`session::Session`] applies chosen
//! fixes, the worker process that runs CPython embedded or the venv's own interpreter
//! ([`worker`], with its Python side in `worker.py`), the parent side of each run
//! ([`runner`]: spec, process group, timeout, Ctrl-C, verdict), and the statistics that
//! compare repeated measurements ([`stats`]).
//!
//! Verification and profiles both build on this: one design for every run of the
//! user's code.
//!
//! Without the `embedded` cargo feature (the wheel) nothing here links libpython: there
//! is no [`native`] module and no embedded worker, and every run uses the venv's own
//! interpreter with the same worker code, as when the venv's Python differs from the
//! embedded one.

#[cfg(feature = "embedded")]
pub mod native;
pub mod pace;
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
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// The libpython pyslim is linked against; `None` (JSON `null`) in a build without
    /// an embedded Python.
    pub linked_version: Option<String>,
}

/// The version of the CPython this binary embeds, e.g. `3.11.7`; `None` when it was
/// built without the `embedded` feature.
pub fn embedded_version() -> Option<String> {
    #[cfg(feature = "embedded")]
    {
        Some(worker::linked_version())
    }
    #[cfg(not(feature = "embedded"))]
    {
        None
    }
}

/// Whether the note about running the venv's own interpreter was printed (it is said
/// once per command, which may prepare several runs: a profile, then a verification).
static FALLBACK_SAID: AtomicBool = AtomicBool::new(false);

/// Finds the project's venv and decides how to run it: embedded when its Python is the
/// linked one; otherwise its own interpreter (said once on stderr), or an error with
/// `require_embedded`. A build without an embedded Python always runs the venv's own
/// interpreter.
pub fn prepare(
    explicit_venv: Option<&Path>,
    root: &Path,
    require_embedded: bool,
) -> Result<PythonInfo> {
    let venv = venv::find(explicit_venv, root)?;
    let linked = embedded_version();
    let mode = match &linked {
        Some(linked) if venv::same_python(&venv.version, linked) => Mode::Embedded,
        Some(linked) if require_embedded => bail!(
            "the virtualenv {} has Python {} but pyslim embeds Python {linked}; rebuild pyslim \
             against that Python (PYO3_PYTHON) or allow the fallback (`[verify] embedded = false`)",
            venv.path.display(),
            venv.version
        ),
        None if require_embedded => bail!(
            "this pyslim was built without an embedded Python (`pyslim --version` says so), \
             so it cannot run the virtualenv {} embedded; build pyslim with the `embedded` \
             feature or allow the venv's own interpreter (`[verify] embedded = false`)",
            venv.path.display()
        ),
        Some(linked) => {
            say_once(&format!(
                "note: the virtualenv {} has Python {} but pyslim embeds Python {linked}; \
                 running with {}/bin/python and the same worker code instead (memory is \
                 measured with tracemalloc, which is slower)",
                venv.path.display(),
                venv.version,
                venv.path.display()
            ));
            Mode::VenvInterpreter
        }
        None => {
            say_once(&format!(
                "note: this pyslim embeds no Python; running with {}/bin/python (Python {}) \
                 and the same worker code (memory is measured with tracemalloc, which is \
                 slower than the embedded build's meter)",
                venv.path.display(),
                venv.version
            ));
            Mode::VenvInterpreter
        }
    };
    if mode == Mode::Embedded && crate::report::level::verbose() {
        eprintln!(
            "Running {} embedded (Python {}, the one pyslim links)",
            venv.path.display(),
            venv.version
        );
    }
    Ok(PythonInfo {
        mode,
        venv: venv.path,
        venv_version: venv.version,
        linked_version: linked,
    })
}

/// Prints `note` on stderr the first time only, and not under `--quiet`.
fn say_once(note: &str) {
    if !FALLBACK_SAID.swap(true, Ordering::Relaxed) && !crate::report::level::quiet() {
        eprintln!("{note}");
    }
}
