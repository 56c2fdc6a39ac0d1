//! The `pyslim` binary: everything lives in the library; this only hands over.
fn main() -> std::process::ExitCode {
    one_malloc_arena();
    pyslim::cli::main()
}

/// Makes glibc's allocator keep one arena instead of one per thread. Parsing a tree
/// allocates and frees an AST per file on every worker thread; with an arena each,
/// the freed pages of every arena stay resident, and a whole-stdlib `check` peaked
/// ~15% higher for no measurable speed gain (tests/bench/stdlib_vs_ruff.sh).
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other
    // thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
