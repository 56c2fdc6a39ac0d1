//! How much the command line says besides its findings: `--quiet` (findings and errors
//! only), the default, or `--verbose` (also timings and the decisions taken). Set once
//! by the command line before any work; read wherever a progress line, a note or a
//! summary is printed.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much is said besides the findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Findings, diffs and errors only: no progress, notes or summaries.
    Quiet,
    /// Findings, progress, notes and summaries.
    Normal,
    /// Also timings and the decisions taken (configuration, interpreter).
    Verbose,
}

static LEVEL: AtomicU8 = AtomicU8::new(1);

/// Sets the level for the rest of the process.
pub fn set(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The level in force.
pub fn get() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::Quiet,
        1 => Level::Normal,
        _ => Level::Verbose,
    }
}

/// Whether `--quiet` is in force.
pub fn quiet() -> bool {
    get() == Level::Quiet
}

/// Whether `--verbose` is in force.
pub fn verbose() -> bool {
    get() == Level::Verbose
}
