//! The pyslim tool: everything with side effects around the pure transforms crate:
//! configuration, file discovery, the fix loop, diffs and patches, atomic writes,
//! verification and reports.

pub mod cli;
pub mod config;
pub mod diff;
pub mod discovery;
pub mod engine;
pub mod output;
pub mod project;
pub mod report;
pub mod source;
pub mod verify;
pub mod workspace;
pub mod write;
