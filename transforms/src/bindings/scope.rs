//! What one scope binds: every name a module, function or lambda body binds directly
//! (not in nested scopes), how many binding sites it has, and whether it is declared
//! `global`/`nonlocal` or deleted there.
//!
//! Python decides at compile time which names are local to a function: any name bound
//! anywhere in its body (assignment, `for`, `with ... as`, `except ... as`, import,
//! `def`, `class`, walrus, `del`, match captures, parameters). This module reproduces
//! that rule; comprehension targets belong to the comprehension's own scope.

use std::collections::HashMap;

use ruff_python_ast::visitor::{
    Visitor, walk_except_handler, walk_expr, walk_pattern, walk_stmt, walk_type_params,
};
use ruff_python_ast::{
    Alias, Comprehension, ExceptHandler, Expr, ExprContext, ExprDictComp, ExprGenerator,
    ExprListComp, ExprSetComp, Parameters, Pattern, Stmt,
};
use ruff_text_size::{Ranged, TextRange};

use crate::syntax::target_names;

/// How a scope binds one name.
#[derive(Debug, Clone, Default)]
pub struct LocalName<'a> {
    /// Binding sites (assignments, loop targets, imports, definitions, parameters...).
    /// Augmented assignment does not count: it mutates or rebinds the same object.
    pub bindings: u32,
    /// Augmented assignments (`x += ...`).
    pub augmented: u32,
    /// `del name` occurs in the scope.
    pub deleted: bool,
    /// Declared `global` in this scope.
    pub global: bool,
    /// Declared `nonlocal` in this scope.
    pub nonlocal: bool,
    /// The binding site when there is exactly one and it is a simple statement.
    pub site: Option<Site<'a>>,
}

/// The statement that binds a name, when it is one of the forms the analysis follows.
#[derive(Debug, Clone, Copy)]
pub enum Site<'a> {
    /// `name = value` (a single target).
    Assign(&'a ruff_python_ast::StmtAssign),
    /// `name: T = value`.
    AnnAssign(&'a ruff_python_ast::StmtAnnAssign),
    /// `for name in iter:`, or `for a, b in iter:` (a flat tuple of names, each bound
    /// with this site), which is how `enumerate` and `zip` loops bind.
    For(&'a ruff_python_ast::StmtFor),
    /// Any other binding form.
    Other,
}

/// Every name a scope binds directly.
pub type LocalNames<'a> = HashMap<&'a str, LocalName<'a>, rustc_hash::FxBuildHasher>;

/// Names bound by a function or lambda: its parameters plus its body.
pub fn function_locals<'a>(parameters: Option<&'a Parameters>, body: Body<'a>) -> LocalNames<'a> {
    function_locals_among(parameters, body, |_| true)
}

/// [`function_locals`], only those names for which `keep` holds: a caller that asks
/// about a few names (the builtins', the imports it follows) is spared a map of every
/// local.
pub fn function_locals_among<'a>(
    parameters: Option<&'a Parameters>,
    body: Body<'a>,
    keep: impl Fn(&str) -> bool,
) -> LocalNames<'a> {
    let mut binder = Binder::keeping(keep);
    if let Some(parameters) = parameters {
        binder.bind_parameters(parameters);
    }
    binder.body(body);
    binder.names
}

/// Names bound by a module or class body.
pub fn body_locals<'a>(body: &'a [Stmt]) -> LocalNames<'a> {
    body_locals_among(body, |_| true)
}

/// [`body_locals`], only those names for which `keep` holds.
pub fn body_locals_among<'a>(body: &'a [Stmt], keep: impl Fn(&str) -> bool) -> LocalNames<'a> {
    let mut binder = Binder::keeping(keep);
    binder.body(Body::Stmts(body));
    binder.names
}

/// What every scope of a module binds, among the names `keep` accepts, in one walk:
/// the module's own names, then each nested scope that binds any (function, class
/// body, lambda by their whole range; a comprehension by its range, with its `for`
/// targets), in no set order.
///
/// The same answers as [`body_locals_among`] for the module, and for each nested
/// scope [`function_locals_among`] or [`body_locals_among`] (a comprehension: its
/// targets' names); asked of a nested scope one at a time, each of those walks its
/// body again, once more for every scope around it.
pub fn all_scopes_among<'a>(
    body: &'a [Stmt],
    keep: impl Fn(&str) -> bool,
) -> (LocalNames<'a>, Vec<(TextRange, Vec<&'a str>)>) {
    let mut binder = Binder {
        nested: Some(Vec::new()),
        ..Binder::keeping(keep)
    };
    binder.body(Body::Stmts(body));
    (binder.names, binder.nested.unwrap_or_default())
}

/// The body of a scope: statements, or a lambda's single expression.
#[derive(Clone, Copy)]
pub enum Body<'a> {
    /// A module, function or class body.
    Stmts(&'a [Stmt]),
    /// A lambda body.
    Expr(&'a Expr),
}

struct Binder<'a, K> {
    names: LocalNames<'a>,
    /// Inside a comprehension's `for` target: those names are the comprehension's own.
    in_comprehension_target: u32,
    /// The names to record; the others are walked past.
    keep: K,
    /// With [`all_scopes_among`]: the nested scopes met so far, with the names they
    /// bind (those `keep` accepts), the nested scopes being walked too. Otherwise the
    /// walk stays in its own scope.
    nested: Option<Vec<(TextRange, Vec<&'a str>)>>,
}

impl<'a, K: Fn(&str) -> bool> Binder<'a, K> {
    /// A walk of one scope that records the names `keep` accepts.
    fn keeping(keep: K) -> Self {
        Self {
            names: LocalNames::default(),
            in_comprehension_target: 0,
            keep,
            nested: None,
        }
    }

    fn body(&mut self, body: Body<'a>) {
        match body {
            Body::Stmts(stmts) => {
                for stmt in stmts {
                    self.visit_stmt(stmt);
                }
            }
            Body::Expr(expr) => self.visit_expr(expr),
        }
    }

    fn bind(&mut self, name: &'a str, site: Site<'a>) {
        if let Some(entry) = self.entry(name) {
            entry.bindings += 1;
            entry.site = (entry.bindings == 1).then_some(site);
        }
    }

    /// The record of `name`, unless it is not kept.
    fn entry(&mut self, name: &'a str) -> Option<&mut LocalName<'a>> {
        (self.keep)(name).then(|| self.names.entry(name).or_default())
    }

    /// Binds the names in an assignment target, recording `site` when the target is a
    /// bare name.
    fn bind_target(&mut self, target: &'a Expr, site: Site<'a>) {
        if let Expr::Name(name) = target {
            self.bind(name.id.as_str(), site);
        } else {
            // Tuple targets, starred targets, attributes and subscripts: walking finds
            // the stored names (attribute/subscript stores bind nothing).
            self.visit_expr(target);
        }
    }

    /// With [`Binder::nested`]: walks a nested scope covering `range` (`walk` binds its
    /// parameters and visits its body) in a scope of its own, and records what it
    /// binds.
    fn nested_scope(&mut self, range: TextRange, walk: impl FnOnce(&mut Self)) {
        if self.nested.is_none() {
            return;
        }
        let names = self.in_own_scope(walk);
        if !names.is_empty()
            && let Some(nested) = &mut self.nested
        {
            nested.push((range, names.into_keys().collect()));
        }
    }

    /// With [`Binder::nested`]: walks what this scope's walk passes over (annotations of
    /// bare declarations, type parameters) for the scopes inside it only: what it
    /// binds is not this scope's.
    fn nested_scopes_in(&mut self, walk: impl FnOnce(&mut Self)) {
        if self.nested.is_some() {
            self.in_own_scope(walk);
        }
    }

    /// Runs `walk` in a fresh scope and returns what it bound there.
    fn in_own_scope(&mut self, walk: impl FnOnce(&mut Self)) -> LocalNames<'a> {
        let outer = std::mem::take(&mut self.names);
        let target = std::mem::take(&mut self.in_comprehension_target);
        walk(self);
        self.in_comprehension_target = target;
        std::mem::replace(&mut self.names, outer)
    }

    /// Binds a function's or lambda's parameters.
    fn bind_parameters(&mut self, parameters: &'a Parameters) {
        for param in parameters {
            self.bind(param.name().id.as_str(), Site::Other);
        }
    }

    /// Visits what a nested function or lambda evaluates in this scope: decorators,
    /// defaults and annotations, never its body.
    fn visit_signature(&mut self, parameters: &'a Parameters) {
        for param in parameters {
            if let Some(default) = param.default() {
                self.visit_expr(default);
            }
            if let Some(annotation) = param.annotation() {
                self.visit_expr(annotation);
            }
        }
    }
}

// The plain visitor, not the source-order one: the order of a scope's bindings does
// not matter (a name's site is kept only when it has one), and the source-order walk's
// per-node calls were a visible share of every analysis that asks what scopes bind.
impl<'a, K: Fn(&str) -> bool> Visitor<'a> for Binder<'a, K> {
    fn visit_comprehension(&mut self, comp: &'a Comprehension) {
        self.in_comprehension_target += 1;
        self.visit_expr(&comp.target);
        self.in_comprehension_target -= 1;
        self.visit_expr(&comp.iter);
        for cond in &comp.ifs {
            self.visit_expr(cond);
        }
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let bound = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = bound {
            self.bind(name.id.as_str(), Site::Other);
        }
        walk_pattern(self, pattern);
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.bind(name.id.as_str(), Site::Other);
        }
        walk_except_handler(self, handler);
    }

    fn visit_alias(&mut self, _: &'a Alias) {}

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                self.visit_signature(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_expr(returns);
                }
                self.bind(def.name.id.as_str(), Site::Other);
                if let Some(type_params) = &def.type_params {
                    self.nested_scopes_in(|b| walk_type_params(b, type_params));
                }
                self.nested_scope(def.range(), |b| {
                    b.bind_parameters(&def.parameters);
                    b.body(Body::Stmts(&def.body));
                });
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                if let Some(arguments) = &class.arguments {
                    for arg in &arguments.args {
                        self.visit_expr(arg);
                    }
                    for keyword in &arguments.keywords {
                        self.visit_expr(&keyword.value);
                    }
                }
                self.bind(class.name.id.as_str(), Site::Other);
                if let Some(type_params) = &class.type_params {
                    self.nested_scopes_in(|b| walk_type_params(b, type_params));
                }
                self.nested_scope(class.range(), |b| b.body(Body::Stmts(&class.body)));
            }
            Stmt::Assign(assign) => {
                self.visit_expr(&assign.value);
                let site = if assign.targets.len() == 1 {
                    Site::Assign(assign)
                } else {
                    Site::Other
                };
                for target in &assign.targets {
                    self.bind_target(target, site);
                }
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.visit_expr(value);
                    self.bind_target(&assign.target, Site::AnnAssign(assign));
                } else if let Expr::Name(name) = assign.target.as_ref() {
                    // `x: int` alone makes `x` local without binding it.
                    let _ = self.entry(name.id.as_str());
                } else {
                    self.nested_scopes_in(|b| b.visit_expr(&assign.target));
                }
                self.nested_scopes_in(|b| b.visit_expr(&assign.annotation));
            }
            Stmt::AugAssign(assign) => {
                self.visit_expr(&assign.value);
                if let Expr::Name(name) = assign.target.as_ref() {
                    if let Some(entry) = self.entry(name.id.as_str()) {
                        entry.augmented += 1;
                    }
                } else {
                    self.visit_expr(&assign.target);
                }
            }
            Stmt::For(for_stmt) => {
                self.visit_expr(&for_stmt.iter);
                match for_stmt.target.as_ref() {
                    Expr::Tuple(tuple) if tuple.elts.iter().all(Expr::is_name_expr) => {
                        for name in tuple.elts.iter().filter_map(Expr::as_name_expr) {
                            self.bind(name.id.as_str(), Site::For(for_stmt));
                        }
                    }
                    target => self.bind_target(target, Site::For(for_stmt)),
                }
                for stmt in &for_stmt.body {
                    self.visit_stmt(stmt);
                }
                for stmt in &for_stmt.orelse {
                    self.visit_stmt(stmt);
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.id.as_str(),
                        None => alias.name.id.as_str().split('.').next().unwrap_or_default(),
                    };
                    self.bind(bound, Site::Other);
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.as_str();
                    if bound != "*" {
                        self.bind(bound, Site::Other);
                    }
                }
            }
            Stmt::Global(global) => {
                for name in &global.names {
                    if let Some(entry) = self.entry(name.id.as_str()) {
                        entry.global = true;
                    }
                }
            }
            Stmt::Nonlocal(nonlocal) => {
                for name in &nonlocal.names {
                    if let Some(entry) = self.entry(name.id.as_str()) {
                        entry.nonlocal = true;
                    }
                }
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => match name.ctx {
                ExprContext::Store if self.in_comprehension_target == 0 => {
                    self.bind(name.id.as_str(), Site::Other);
                }
                ExprContext::Del => {
                    if let Some(entry) = self.entry(name.id.as_str()) {
                        entry.deleted = true;
                    }
                }
                _ => {}
            },
            Expr::Named(named) => {
                // A walrus binds in the enclosing function even inside a comprehension.
                self.visit_expr(&named.value);
                let saved = std::mem::take(&mut self.in_comprehension_target);
                self.visit_expr(&named.target);
                self.in_comprehension_target = saved;
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_signature(parameters);
                }
                self.nested_scope(lambda.range(), |b| {
                    if let Some(parameters) = &lambda.parameters {
                        b.bind_parameters(parameters);
                    }
                    b.visit_expr(&lambda.body);
                });
            }
            Expr::ListComp(ExprListComp { generators, .. })
            | Expr::SetComp(ExprSetComp { generators, .. })
            | Expr::DictComp(ExprDictComp { generators, .. })
            | Expr::Generator(ExprGenerator { generators, .. }) => {
                if let Some(nested) = &mut self.nested {
                    let mut bound = Vec::new();
                    for g in generators {
                        target_names(&g.target, &mut bound);
                    }
                    bound.retain(|n| (self.keep)(n));
                    if !bound.is_empty() {
                        nested.push((expr.range(), bound));
                    }
                }
                walk_expr(self, expr);
            }
            _ => walk_expr(self, expr),
        }
    }
}
