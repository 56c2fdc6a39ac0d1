//! Instrumentation on real code: every measuring run's working copy must parse, or
//! its file goes uninstrumented (verification then runs all of a file's tests for its
//! fixes, and a profile gets no probe there).
//!
//!   cargo run --release --example instrument_check -- DIR...
//!
//! For every `.py` file under the folders given that pyslim parses, builds the two
//! copies the runs use, with more edits than any run makes: the verification copy
//! (the hooks' binding and a hit at the start of every function) and the profile copy
//! (the binding, a transient probe around every list comprehension, and a queue probe
//! on every `x.pop(0)`, `x.insert(0, v)` and `del x[0]`). Each must parse and keep the
//! file's lines (one line may be appended, for the binding). Prints the counts and the
//! first failures; exits 1 when any copy fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pyslim::engine::{apply_edits, edits_overlap};
use pyslim_transforms::instrument::{Hook, ProbeAt, hit_edit, hooks_edit, probe_edits};
use pyslim_transforms::{Edit, SourceModule};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

/// Where the edits go: every function, comprehension and front operation.
#[derive(Default)]
struct Sites {
    defs: Vec<TextSize>,
    probes: Vec<(u32, ProbeAt)>,
}

impl Sites {
    fn probe(&mut self, at: ProbeAt) {
        let id = u32::try_from(self.probes.len()).unwrap_or(u32::MAX);
        self.probes.push((id, at));
    }
}

impl<'a> Visitor<'a> for Sites {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.defs.push(f.start()),
            Stmt::Delete(d) if front_subscript(&d.targets) => self.probe(ProbeAt::Queue(d.range())),
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::ListComp(_) => self.probe(ProbeAt::Transient(expr.range())),
            Expr::Call(call) if front_call(call) => self.probe(ProbeAt::Queue(expr.range())),
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

/// `x.pop(0)` or `x.insert(0, v)`.
fn front_call(call: &ruff_python_ast::ExprCall) -> bool {
    let Expr::Attribute(a) = call.func.as_ref() else {
        return false;
    };
    let zero_first = matches!(
        call.arguments.args.first(),
        Some(Expr::NumberLiteral(n)) if n.value.as_int().and_then(|i| i.as_u8()) == Some(0)
    );
    match a.attr.as_str() {
        "pop" => zero_first && call.arguments.args.len() == 1,
        "insert" => zero_first && call.arguments.args.len() == 2,
        _ => false,
    }
}

/// `del x[0]`.
fn front_subscript(targets: &[Expr]) -> bool {
    matches!(targets, [Expr::Subscript(s)]
        if matches!(s.slice.as_ref(), Expr::NumberLiteral(n)
            if n.value.as_int().and_then(|i| i.as_u8()) == Some(0)))
}

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            python_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// Why `edits` make a copy of `module` that no run may use, if they do.
fn fault(module: &SourceModule, edits: Vec<Edit>) -> Option<&'static str> {
    let source = module.source();
    if edits_overlap(&edits) {
        return Some("overlapping edits");
    }
    let copy = apply_edits(source, edits.iter());
    if pyslim_transforms::parse(&copy).is_err() {
        return Some("does not parse");
    }
    if copy.lines().count() > source.lines().count() + 1 {
        return Some("moves lines");
    }
    None
}

fn main() -> ExitCode {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: instrument_check DIR...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for dir in &dirs {
        python_files(Path::new(dir), &mut files);
    }
    let (mut checked, mut functions, mut probes, mut failures) = (0, 0, 0, Vec::new());
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(module) = pyslim_transforms::parse(&text) else {
            continue;
        };
        let mut sites = Sites::default();
        for stmt in &module.ast().body {
            sites.visit_stmt(stmt);
        }
        checked += 1;
        functions += sites.defs.len();
        let mut hits: Vec<Edit> = sites
            .defs
            .iter()
            .enumerate()
            .filter_map(|(i, &def)| hit_edit(&module, def, u32::try_from(i).ok()?))
            .collect();
        hits.extend(hooks_edit(&module, &[Hook::Hit]));
        if let Some(why) = fault(&module, hits) {
            failures.push(format!("{}: verification copy {why}", path.display()));
        }
        let (mut probed, missing) = probe_edits(&module, &sites.probes);
        probes += sites.probes.len() - missing.len();
        probed.extend(hooks_edit(&module, &[Hook::Probe]));
        if let Some(why) = fault(&module, probed) {
            failures.push(format!("{}: profile copy {why}", path.display()));
        }
    }
    println!(
        "{checked} files, {functions} functions hit, {probes} probes: {} copies fail",
        failures.len()
    );
    for failure in failures.iter().take(20) {
        println!("  {failure}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
