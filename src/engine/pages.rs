//! Giving the pages freed by one stage of a run back to the system before the next.
//!
//! Indexing a tree parses, walks and frees an AST per file on every worker thread; the
//! allocator keeps those freed pages for reuse, and the project decision that follows
//! allocates other sizes on one thread, so they stay resident while every file's
//! summary is held. Only the binary knows its allocator, so it says how to release
//! them ([`on_release`]); without that, [`release`] does nothing.

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Registers how the process's allocator returns its free pages to the system.
pub fn on_release(release: fn()) {
    // A second registration would only repeat the first: keep the first.
    let _ = RELEASE.set(release);
}

/// Returns the allocator's free pages to the system, when the binary said how.
pub(crate) fn release() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn count() {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn release_calls_what_the_binary_registered() {
        super::on_release(count);
        let before = CALLS.load(Ordering::SeqCst);
        super::release();
        // Other tests of this binary may release too (any index does): at least ours.
        assert!(CALLS.load(Ordering::SeqCst) > before);
    }
}
