//! The binding and use analysis shared by the container transforms (`tuple`, `deque`,
//! `array`): for a name bound once to a list, every place it is used and how.
//!
//! # Why not `ruff_python_semantic`
//!
//! `ruff_python_semantic` 0.0.10 provides the data structures (scopes, bindings,
//! references, `SemanticModel`), but nothing in it walks a module: ruff's linter
//! populates the model from its `Checker`, a visitor of several thousand lines in the
//! unpublished `ruff_linter` crate that pushes scopes, adds bindings and resolves every
//! load in the right order (deferred function bodies, class scopes, comprehensions,
//! `global`/`nonlocal`). Using the crate would mean re-implementing that traversal, and
//! it still would not classify uses, which is most of what the transforms need. So this
//! module is a small analysis of its own:
//!
//! - [`scope`] computes what each scope binds (Python's compile-time rule for locals),
//! - [`uses`] walks a scope with an ancestor stack, resolves each occurrence of a
//!   tracked name through nested scopes, and classifies the use from its parents,
//! - [`project`] summarises, per module, how other project modules use its
//!   module-level names.
//!
//! # What is tracked
//!
//! Only a name bound exactly once in its scope, by `name = value` (or `name: T =
//! value`), never deleted, never declared `global`/`nonlocal`, and not rebound from a
//! nested scope. With a single binding site every read of the name sees an object made
//! by that site, whatever the branches and loops, so no flow analysis is needed;
//! names bound more than once are not tracked at all (conservative and honest).
//! Augmented assignment (`xs += ...`) is recorded as a use, not a binding: on a list it
//! mutates in place.
//!
//! Every use not understood is [`Escape::Unknown`]. Reads from a nested function or
//! lambda of a function's local are [`Escape::Closure`]; a scope that calls `locals()`,
//! `vars()`, `eval`, `exec` or `globals()` tracks nothing.

pub mod computed_imports;
pub mod project;
pub mod scope;
pub mod uses;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::source_order::SourceOrderVisitor;
use ruff_python_ast::{Expr, ModModule, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};

pub use scope::{LocalName, LocalNames, Site};
pub use uses::{Escape, Index, Use, UseClass, UseKind, dotted};

/// Which kind of scope a tracked name lives in.
#[derive(Debug, Clone, Copy)]
pub enum ScopeKind<'a> {
    /// A module-level name (other modules may import it).
    Module,
    /// A function's local.
    Function(&'a StmtFunctionDef),
}

/// A name bound once to a value of interest, with every use.
#[derive(Debug, Clone)]
pub struct Tracked<'a> {
    /// The name.
    pub name: &'a str,
    /// The binding statement.
    pub site: Site<'a>,
    /// The bound value.
    pub value: &'a Expr,
    /// The name's range in the binding statement.
    pub target: TextRange,
    /// Where it lives.
    pub scope: ScopeKind<'a>,
    /// Every use in this module, in source order.
    pub uses: Vec<Use<'a>>,
    /// Why the name cannot be followed (then `uses` is incomplete).
    pub blocked: Option<&'static str>,
}

/// Every name in `module` bound once to a value `want` accepts, with its uses.
/// `in_functions` and `at_module` choose the scopes to look at.
pub fn analyze<'a>(
    module: &'a ModModule,
    want: &dyn Fn(&'a Expr) -> bool,
    at_module: bool,
    in_functions: bool,
) -> Vec<Tracked<'a>> {
    // Only `name = value` and `name: T = value` statements with a wanted value make
    // candidates: a file (or function) without one has nothing to track, and knowing
    // that costs a walk of the statements, not the binding analysis of every scope.
    if !binds_wanted(&module.body, want) {
        return Vec::new();
    }
    let module_locals = scope::body_locals(&module.body);
    let mut shadowed_module: HashSet<&str> = module_locals.keys().copied().collect();
    let star = crate::semantic::star_import(&module.body).is_some();
    // A star import may bind any builtin's name: none of them is certainly the
    // builtin (the answer every transform gives, see `crate::semantic`).
    if star {
        shadowed_module.extend(crate::semantic::BUILTINS.iter().copied());
    }
    let mut out = Vec::new();
    if at_module {
        let globals = global_declarations(&module.body);
        let mut tracked = candidates(&module_locals, want, ScopeKind::Module);
        for t in &mut tracked {
            if star {
                t.blocked = Some("the module has a star import that could rebind it");
            } else if globals.contains(t.name) {
                t.blocked = Some("declared `global` in a function");
            }
        }
        walk(&mut tracked, &module.body, true, &shadowed_module);
        out.extend(tracked);
    }
    if in_functions {
        let mut functions = Vec::new();
        collect_functions(&module.body, &mut functions);
        for function in functions {
            if !binds_wanted(&function.body, want) {
                continue;
            }
            let locals = scope::function_locals(
                Some(&function.parameters),
                scope::Body::Stmts(&function.body),
            );
            let mut tracked = candidates(&locals, want, ScopeKind::Function(function));
            if tracked.is_empty() {
                continue;
            }
            let mut shadowed = shadowed_module.clone();
            shadowed.extend(locals.keys().copied());
            walk(&mut tracked, &function.body, false, &shadowed);
            out.extend(tracked);
        }
    }
    out.sort_by_key(|t| t.target.start());
    out
}

fn candidates<'a>(
    locals: &LocalNames<'a>,
    want: &dyn Fn(&'a Expr) -> bool,
    scope: ScopeKind<'a>,
) -> Vec<Tracked<'a>> {
    let mut out = Vec::new();
    for (name, local) in locals {
        if local.bindings != 1 || local.deleted || local.global || local.nonlocal {
            continue;
        }
        let (value, target) = match local.site {
            Some(Site::Assign(a)) => (Some(a.value.as_ref()), a.targets[0].range()),
            Some(Site::AnnAssign(a)) => (a.value.as_deref(), a.target.range()),
            _ => continue,
        };
        let Some(value) = value else { continue };
        if want(value) {
            out.push(Tracked {
                name,
                site: local.site.unwrap_or(Site::Other),
                value,
                target,
                scope,
                uses: Vec::new(),
                blocked: None,
            });
        }
    }
    out
}

fn walk<'a>(
    tracked: &mut [Tracked<'a>],
    body: &'a [Stmt],
    root_is_module: bool,
    shadowed: &HashSet<&'a str>,
) {
    if tracked.is_empty() {
        return;
    }
    let targets: HashMap<&'a str, usize> = tracked
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name, i))
        .collect();
    let mut walker = uses::UseWalker::new(&targets, root_is_module, shadowed);
    for stmt in body {
        walker.visit_stmt(stmt);
    }
    for (i, t) in tracked.iter_mut().enumerate() {
        t.uses = std::mem::take(&mut walker.uses[i]);
        if t.blocked.is_none() {
            t.blocked = walker.blocked[i];
        }
        if walker.dynamic && t.blocked.is_none() {
            t.blocked = Some("the scope uses locals(), vars(), globals(), eval or exec");
        }
    }
}

/// Every function (and method, nested function) in the module, outermost first.
pub fn collect_functions<'a>(body: &'a [Stmt], out: &mut Vec<&'a StmtFunctionDef>) {
    // Statements only: a `def` is never inside an expression, and skipping the
    // expressions makes this a fraction of a full walk.
    for stmt in body {
        if let Stmt::FunctionDef(f) = stmt {
            out.push(f);
        }
        for_each_body(stmt, &mut |body| collect_functions(body, out));
    }
}

/// Whether some statement in `body` or the bodies nested in it (other scopes included:
/// an over-approximation) is `name = value` or `name: T = value` with a value `want`
/// accepts: the only statements [`candidates`] takes a tracked name from.
fn binds_wanted<'a>(body: &'a [Stmt], want: &dyn Fn(&'a Expr) -> bool) -> bool {
    body.iter().any(|stmt| {
        let direct = match stmt {
            Stmt::Assign(a) => {
                a.targets.len() == 1 && a.targets[0].is_name_expr() && want(&a.value)
            }
            Stmt::AnnAssign(a) => a.target.is_name_expr() && a.value.as_deref().is_some_and(want),
            _ => false,
        };
        let mut nested = false;
        if !direct {
            for_each_body(stmt, &mut |body| {
                nested = nested || binds_wanted(body, want)
            });
        }
        direct || nested
    })
}

/// Calls `f` on each statement list directly inside `stmt`, in source order.
fn for_each_body<'a>(stmt: &'a Stmt, f: &mut dyn FnMut(&'a [Stmt])) {
    match stmt {
        Stmt::FunctionDef(s) => f(&s.body),
        Stmt::ClassDef(s) => f(&s.body),
        Stmt::For(s) => {
            f(&s.body);
            f(&s.orelse);
        }
        Stmt::While(s) => {
            f(&s.body);
            f(&s.orelse);
        }
        Stmt::If(s) => {
            f(&s.body);
            for clause in &s.elif_else_clauses {
                f(&clause.body);
            }
        }
        Stmt::With(s) => f(&s.body),
        Stmt::Match(s) => {
            for case in &s.cases {
                f(&case.body);
            }
        }
        Stmt::Try(s) => {
            f(&s.body);
            for handler in &s.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = handler;
                f(&h.body);
            }
            f(&s.orelse);
            f(&s.finalbody);
        }
        _ => {}
    }
}

/// Names declared `global` anywhere in the module.
fn global_declarations(body: &[Stmt]) -> HashSet<String> {
    struct Finder {
        names: HashSet<String>,
    }
    impl<'a> SourceOrderVisitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if let Stmt::Global(g) = stmt {
                self.names.extend(g.names.iter().map(|n| n.id.to_string()));
            }
            ruff_python_ast::visitor::source_order::walk_stmt(self, stmt);
        }
    }
    let mut finder = Finder {
        names: HashSet::default(),
    };
    for stmt in body {
        finder.visit_stmt(stmt);
    }
    finder.names
}

#[cfg(test)]
mod tests;
