//! Stopping cleanly on Ctrl-C, SIGTERM and SIGHUP (a cancelled CI job, `timeout`,
//! `kill`, a closed terminal): the handler only records the signal; every wait loop
//! checks [`interrupted`], kills its worker's process group and returns
//! [`Interrupted`], and the error unwinds through the working copy's and the scratch
//! folder's destructors, so nothing is left in the temporary folder and the user's
//! files are untouched. The CLI then exits with 128 + the signal's number, as a shell
//! reports a process killed by it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, bail};

/// The signal received (0: none).
static RECEIVED: std::sync::OnceLock<Arc<AtomicUsize>> = std::sync::OnceLock::new();

/// The error returned when the user or the system asked pyslim to stop.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by signal {signal}")]
pub struct Interrupted {
    /// SIGINT, SIGTERM or SIGHUP.
    pub signal: i32,
}

impl Interrupted {
    /// The exit code a shell gives a process killed by the signal.
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(130)
    }
}

/// Installs the handlers once per process.
pub fn install() -> Result<()> {
    let mut failure = None;
    RECEIVED.get_or_init(|| {
        let flag = Arc::new(AtomicUsize::new(0));
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            if let Err(e) =
                signal_hook::flag::register_usize(signal, Arc::clone(&flag), signal as usize)
            {
                failure = Some(e);
            }
        }
        flag
    });
    if let Some(e) = failure {
        bail!("cannot install the signal handlers: {e}");
    }
    Ok(())
}

/// The signal received since [`install`], if any.
pub fn received() -> Option<i32> {
    let value = RECEIVED.get()?.load(Ordering::SeqCst);
    (value != 0).then_some(value as i32)
}

/// Whether a stop was requested.
pub fn interrupted() -> bool {
    received().is_some()
}

/// Returns [`Interrupted`] when a stop was requested: phases check it between steps.
pub fn check() -> Result<()> {
    match received() {
        Some(signal) => Err(Interrupted { signal }.into()),
        None => Ok(()),
    }
}

/// A worker's process group, killed when this guard is dropped (every way out of a
/// run, including errors and panics).
pub struct ChildGroup {
    pgid: i32,
}

impl ChildGroup {
    /// Guards the group `pgid` (the child's own group, made with `process_group(0)`).
    pub fn new(pgid: i32) -> ChildGroup {
        ChildGroup { pgid }
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        // SAFETY: plain syscall on the worker's own process group.
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
        }
    }
}
