//! The pyslim tool: everything with side effects around the pure transforms crate:
//! configuration, file discovery, the fix loop, diffs and patches, atomic writes,
//! verification and reports.

pub mod engine;
pub mod project;
pub mod source;
