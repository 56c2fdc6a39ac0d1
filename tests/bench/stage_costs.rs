//! Where the CPU time of `pyslim check` goes: every stage, on one thread, summed over
//! every `.py` file of a tree (outside `site-packages`, as the benchmark finds them).
//!
//!   cargo run --release --example stage_costs -- DIR [TRANSFORM...]
//!
//! Prints, in seconds of CPU: reading the files, parsing them, the shared name model
//! (`SourceModule::names`), freeing the ASTs, and for each transform (all, or those
//! named) its per-file index, its per-file run (or first-pass `prepare`), and its
//! project decision (`index_project`). `stdlib_vs_ruff.sh` measures the whole command
//! beside ruff on both cores; this splits the same work so that a change to one stage
//! can be measured alone, and so that what any redesign could save is known first.
//!
//! Files are read first and then analysed one after another, on one thread (the
//! rayon pool too), so the figures hold neither thread scheduling nor disk waits. Each stage's time is measured around
//! calls on the same parse, in the engine's order.

use std::path::Path;
use std::time::{Duration, Instant};

use pyslim_transforms::registry::TRANSFORMS;
use pyslim_transforms::{FileContext, FileFacts, ModuleInfo, Settings, Transform};

// The allocator of the `pyslim` binary (src/main.rs), so that an AST costs the same
// to allocate and free.
#[cfg(jemalloc)]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One transform's time per stage.
#[derive(Default)]
struct Costs {
    index: Duration,
    run: Duration,
    decide: Duration,
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((root, names)) = args.split_first() else {
        eprintln!("usage: stage_costs DIR [TRANSFORM...]");
        return std::process::ExitCode::from(2);
    };
    let transforms: Vec<&'static dyn Transform> = TRANSFORMS
        .iter()
        .copied()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name()))
        .collect();
    if transforms.is_empty() {
        eprintln!("stage_costs: no transform named {}", names.join(", "));
        return std::process::ExitCode::from(2);
    }
    let root = Path::new(root);
    // The slots decision runs parts of itself on every core (rayon): here on one, so
    // that every figure is one thread's.
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
    {
        eprintln!("stage_costs: {e}");
        return std::process::ExitCode::FAILURE;
    }

    let started = Instant::now();
    let files: Vec<(ModuleInfo, String)> = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .build()
        .flatten()
        .filter(|entry| is_python(entry.path()))
        .filter_map(|entry| {
            let text = std::fs::read_to_string(entry.path()).ok()?;
            Some((module_info(root, entry.path()), text))
        })
        .collect();
    let read = started.elapsed();

    let settings = Settings::default();
    let mut parse = Duration::ZERO;
    let mut names_model = Duration::ZERO;
    let mut free = Duration::ZERO;
    let mut costs: Vec<Costs> = transforms.iter().map(|_| Costs::default()).collect();
    let mut facts: Vec<Vec<FileFacts>> = transforms.iter().map(|_| Vec::new()).collect();
    let mut syntax_errors = 0;
    for (info, text) in &files {
        let whole = Instant::now();
        let mut measured = Duration::ZERO;
        // The AST is freed where this block ends: what the file's time holds beyond
        // the stages measured inside (the parse's borrow of `text` outlives any
        // explicit `drop`).
        {
            let t = Instant::now();
            let Ok(module) = pyslim_transforms::parse(text) else {
                syntax_errors += 1;
                continue;
            };
            parse += t.elapsed();
            measured += t.elapsed();
            let t = Instant::now();
            std::hint::black_box(module.names());
            names_model += t.elapsed();
            measured += t.elapsed();
            for (i, transform) in transforms.iter().enumerate() {
                let ctx = FileContext {
                    module: &module,
                    info,
                    settings: &settings,
                    project: None,
                    read_only: false,
                };
                let t = Instant::now();
                if transform.needs_index()
                    && let Some(file_facts) = transform.index_file(&ctx)
                {
                    facts[i].push(file_facts);
                }
                costs[i].index += t.elapsed();
                measured += t.elapsed();
                let t = Instant::now();
                if transform.run_needs_project() {
                    drop(std::hint::black_box(transform.prepare(&ctx)));
                } else {
                    drop(std::hint::black_box(transform.run(&ctx)));
                }
                costs[i].run += t.elapsed();
                measured += t.elapsed();
            }
        }
        free += whole.elapsed().saturating_sub(measured);
    }
    for ((transform, cost), file_facts) in transforms.iter().zip(&mut costs).zip(facts) {
        if transform.needs_index() {
            let t = Instant::now();
            drop(std::hint::black_box(transform.index_project(file_facts)));
            cost.decide = t.elapsed();
        }
    }

    println!(
        "{} files ({syntax_errors} with a syntax error), CPU seconds on one thread",
        files.len()
    );
    let row = |label: &str, d: Duration| println!("{label:<22} {:>7.3}", d.as_secs_f64());
    row("read", read);
    row("parse", parse);
    row("name model", names_model);
    row("free ASTs", free);
    let mut analyses = names_model;
    for (transform, cost) in transforms.iter().zip(&costs) {
        row(&format!("{} index", transform.name()), cost.index);
        row(&format!("{} run", transform.name()), cost.run);
        row(&format!("{} decide", transform.name()), cost.decide);
        analyses += cost.index + cost.run + cost.decide;
    }
    row("total", read + parse + free + analyses);
    row("of which analyses", analyses);
    std::process::ExitCode::SUCCESS
}

fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
        && !path.components().any(|c| c.as_os_str() == "site-packages")
}

/// The file's dotted module name under `root` (`pkg/__init__.py` is `pkg`), as the
/// project decisions key classes by it.
fn module_info(root: &Path, path: &Path) -> ModuleInfo {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let is_package = relative.file_name().is_some_and(|n| n == "__init__.py");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if is_package {
        parts.pop();
    }
    ModuleInfo {
        name: parts.join("."),
        is_package,
        path: relative.to_string_lossy().replace('\\', "/"),
    }
}
