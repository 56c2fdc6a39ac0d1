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

pub use runner::{Finished, Mode, RunOutcome, RunSpec, Runner, TestRecord, TestRecords};
pub use session::{Candidate, Session};
