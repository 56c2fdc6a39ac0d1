//! The floor under `pyslim check`: what finding, reading and parsing every `.py` file
//! of a tree costs with pyslim's parser and allocator, and no analysis at all. The
//! benchmark (`bash tests/bench/stdlib_vs_ruff.sh`) runs it beside `pyslim
//! check` and ruff, so that what the analyses cost is the difference it prints.
//!
//!   cargo run --release --example parse_floor -- DIR
//!
//! Files are found as the benchmark's `find` does (every `*.py` outside
//! `site-packages`), in parallel, each read, parsed and dropped on the thread that
//! found it, as pyslim's loader does.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

// The allocator of the `pyslim` binary (src/main.rs), so that an AST costs the same
// to allocate and free. Its configuration there (one arena per core) lowers the peak
// RSS at the same speed, and is left out here.
#[cfg(jemalloc)]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let Some(root) = std::env::args_os().nth(1) else {
        eprintln!("usage: parse_floor DIR");
        return std::process::ExitCode::from(2);
    };
    let files = AtomicUsize::new(0);
    let syntax_errors = AtomicUsize::new(0);
    ignore::WalkBuilder::new(&root)
        .standard_filters(false)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                if let Ok(entry) = entry
                    && is_python(entry.path())
                {
                    files.fetch_add(1, Ordering::Relaxed);
                    if let Ok(text) = std::fs::read_to_string(entry.path())
                        && pyslim_transforms::parse(&text).is_err()
                    {
                        syntax_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                ignore::WalkState::Continue
            })
        });
    println!(
        "{} files parsed ({} with a syntax error)",
        files.into_inner(),
        syntax_errors.into_inner()
    );
    std::process::ExitCode::SUCCESS
}

fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
        && !path.components().any(|c| c.as_os_str() == "site-packages")
}
