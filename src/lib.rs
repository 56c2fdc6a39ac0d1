//! The pyslim tool: everything with side effects around the pure transforms crate,
//! grouped by the stage of the data flow:
//!
//! - [`load`]: finding the files and their configuration, decoding them, the workspace;
//! - [`engine`]: the project index and the fix loop over every file;
//! - [`mod@write`]: diffs, patches and atomic writes;
//! - [`python`]: running the project's Python (venv, working copy, worker, runner);
//! - [`verify`]: proving rewrites with the project's tests;
//! - [`report`]: what the user reads: findings, verification reports;
//! - [`cli`]: the command line, which wires the stages together.

pub mod cli;
pub mod engine;
pub mod load;
pub mod profile;
pub mod python;
pub mod report;
pub mod verify;
pub mod write;
