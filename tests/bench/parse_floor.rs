//! The floor under `pyslim check`: what finding, reading and parsing every `.py` file
//! of a tree costs with pyslim's parser and allocator, and no analysis at all. The
//! benchmark (`bash tests/bench/stdlib_vs_ruff.sh`) runs it beside `pyslim
//! check` and ruff, so that what the analyses cost is the difference it prints.
//!
//!   cargo run --release --example parse_floor -- [--bind] DIR
//!
//! Files are found as the benchmark's `find` does (every `*.py` outside
//! `site-packages`), in parallel, each read, parsed and dropped on the thread that
//! found it, as pyslim's loader does.
//!
//! With `--bind`, each AST is also walked once by the least any name analysis does:
//! every name a scope binds goes into a hash set of that scope, and every name read is
//! looked up through the enclosing scopes and then the builtins. No pyslim analysis can
//! cost less than this one walk, so it bounds from below what a single semantic pass
//! per file (the redesign the wall-time target of issue 11 would need) could reach.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use pyslim_transforms::semantic::is_builtin_name;
use ruff_python_ast::visitor::{Visitor, walk_expr, walk_parameter, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use rustc_hash::FxHashSet;

// The allocator of the `pyslim` binary (src/main.rs), so that an AST costs the same
// to allocate and free. Its configuration there (one arena per core) lowers the peak
// RSS at the same speed, and is left out here.
#[cfg(jemalloc)]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let bind = args.first().is_some_and(|a| a == "--bind");
    if bind {
        args.remove(0);
    }
    let [root] = args.as_slice() else {
        eprintln!("usage: parse_floor [--bind] DIR");
        return std::process::ExitCode::from(2);
    };
    let resolved = AtomicUsize::new(0);
    let files = AtomicUsize::new(0);
    let syntax_errors = AtomicUsize::new(0);
    ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                if let Ok(entry) = entry
                    && is_python(entry.path())
                {
                    files.fetch_add(1, Ordering::Relaxed);
                    let Ok(text) = std::fs::read_to_string(entry.path()) else {
                        return ignore::WalkState::Continue;
                    };
                    match pyslim_transforms::parse(&text) {
                        Ok(module) if bind => {
                            let mut binder = Binder::default();
                            binder.visit_body(&module.ast().body);
                            resolved.fetch_add(binder.resolved, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => {
                            syntax_errors.fetch_add(1, Ordering::Relaxed);
                        }
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
    if bind {
        // Printed so that the walk's result is used and cannot be optimised away.
        println!("{} name reads resolved to a binding", resolved.into_inner());
    }
    std::process::ExitCode::SUCCESS
}

fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
        && !path.components().any(|c| c.as_os_str() == "site-packages")
}

/// The minimal name pass of `--bind`: one hash set per function or class scope.
#[derive(Default)]
struct Binder<'a> {
    /// The enclosing scopes, innermost last; the module's is first.
    scopes: Vec<FxHashSet<&'a str>>,
    /// Reads found bound in an enclosing scope or among the builtins.
    resolved: usize,
}

impl<'a> Binder<'a> {
    fn bind(&mut self, name: &'a str) {
        if self.scopes.is_empty() {
            self.scopes.push(FxHashSet::default());
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name);
        }
    }

    fn read(&mut self, name: &str) {
        if self.scopes.iter().rev().any(|s| s.contains(name)) || is_builtin_name(name) {
            self.resolved += 1;
        }
    }

    /// Walks `stmt` in a scope of its own (a function or class body).
    fn in_scope(&mut self, stmt: &'a Stmt) {
        self.scopes.push(FxHashSet::default());
        walk_stmt(self, stmt);
        self.scopes.pop();
    }
}

impl<'a> Visitor<'a> for Binder<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.bind(&def.name);
                self.in_scope(stmt);
            }
            Stmt::ClassDef(def) => {
                self.bind(&def.name);
                self.in_scope(stmt);
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.bind(bound.split('.').next().unwrap_or(bound));
                }
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(name) = expr {
            match name.ctx {
                ExprContext::Load => self.read(&name.id),
                _ => self.bind(&name.id),
            }
        } else {
            walk_expr(self, expr);
        }
    }

    fn visit_parameter(&mut self, parameter: &'a ast::Parameter) {
        self.bind(&parameter.name);
        walk_parameter(self, parameter);
    }
}
