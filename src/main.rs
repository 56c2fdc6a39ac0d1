//! The `pyslim` binary: everything lives in the library; this only hands over.

// jemalloc, as ruff uses on these platforms: a whole-tree run allocates and frees an
// AST per file on every worker thread, and glibc's malloc spent about a fifth of a
// whole-stdlib `check` in its own bookkeeping. Measured there on 2 cores: ~18% less
// CPU and a lower peak RSS than glibc with one arena per core. (mimalloc was as fast
// but peaked ~50% higher unless told to return memory at once, which lost the speed.)
// `cfg(jemalloc)`: the targets Cargo.toml gives jemalloc (set by build.rs).
#[cfg(jemalloc)]
mod allocator {
    #[global_allocator]
    static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

    /// A C string pointer jemalloc reads at start-up (`const char *malloc_conf`).
    #[repr(transparent)]
    pub struct Conf(*const std::ffi::c_char);

    // SAFETY: it points to a `'static` string that is never written.
    unsafe impl Sync for Conf {}

    /// One arena per CPU instead of jemalloc's default of four: the worker threads are
    /// one per core, and each extra arena keeps freed pages of its own resident
    /// (peak RSS of a whole-stdlib `check` 82 vs 90 MiB on 2 cores, same speed).
    // SAFETY: jemalloc (built with the `_rjem_` prefix by tikv-jemalloc-sys) reads this
    // symbol once, as a NUL-terminated string, before the first allocation.
    #[unsafe(export_name = "_rjem_malloc_conf")]
    pub static MALLOC_CONF: Conf = Conf(c"percpu_arena:percpu".as_ptr());

    /// Returns every arena's unused dirty pages to the system (`arena.<all>.purge`;
    /// 4096 is jemalloc's `MALLCTL_ARENAS_ALL`). A failure only leaves them resident.
    pub fn release_free_pages() {
        // SAFETY: a purge takes no old or new value; the name is NUL-terminated.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                c"arena.4096.purge".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            );
        }
    }
}

fn main() -> std::process::ExitCode {
    one_malloc_arena_per_core();
    #[cfg(jemalloc)]
    pyslim::engine::pages::on_release(allocator::release_free_pages);
    pyslim::cli::main()
}

/// Where the system allocator is glibc's: caps it at one arena per core (its default:
/// up to eight per core). Parsing a tree allocates and frees an AST per file on every
/// worker thread, and glibc adds arenas as threads contend, whose freed pages stay
/// resident: a whole-stdlib `check` on 2 cores peaked ~13% higher (91 vs 79 MiB) at the
/// same speed. One arena for all threads saved as much but cost ~40% more CPU in lock
/// contention.
fn one_malloc_arena_per_core() {
    #[cfg(all(
        target_os = "linux",
        target_env = "gnu",
        not(any(target_arch = "x86_64", target_arch = "aarch64"))
    ))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets an allocator parameter; it is called before any
        // other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
