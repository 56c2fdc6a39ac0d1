//! One walk over a module that gathers everything the `generator` transform decides
//! with: which names are bound where (to spot shadowed builtins and rebound files) and
//! the candidate constructs. Deciding happens afterwards, once every binding is known,
//! because a builtin may be shadowed by a binding that comes later in the file.
//!
//! We keep our own small binding table instead of `ruff_python_semantic`: the
//! questions asked here ("is `sum` bound anywhere in the module?", "how many times is
//! `f` bound in this function?") need counts per scope, not a full semantic model, and
//! the table costs one hash insert per binding.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::token::{TokenKind, Tokens};
use ruff_python_ast::visitor::{Visitor, walk_expr, walk_pattern, walk_stmt};
use ruff_python_ast::{
    self as ast, Comprehension, ExceptHandler, Expr, ExprContext, Parameters, Pattern, Stmt,
};
use ruff_text_size::Ranged;

use super::consumers::Consumer;

/// What kind of code block a scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScopeKind {
    Module,
    Function,
    Class,
    Lambda,
}

/// One scope: its kind, its statements (empty for a lambda) and how many times each
/// name is bound in it. Bindings made inside comprehensions are counted in the
/// enclosing scope: an over-count only makes the readlines check more cautious.
pub(super) struct Scope<'a> {
    pub kind: ScopeKind,
    pub body: &'a [Stmt],
    pub bindings: HashMap<&'a str, u32>,
}

/// A call of a consumer builtin whose arguments hold a list comprehension.
pub(super) struct CallCandidate<'a> {
    pub call: &'a ast::ExprCall,
    pub consumer: Consumer,
    pub scope: usize,
    /// True when the call sits directly in a class body (not inside a nested
    /// comprehension or lambda there).
    pub in_class_body: bool,
}

/// A `for` statement whose iterable is a list comprehension, a lazy consumer call or
/// `NAME.readlines()`.
pub(super) struct ForCandidate<'a> {
    pub stmt: &'a ast::StmtFor,
    pub scope: usize,
    pub in_class_body: bool,
}

/// `with open(...) as NAME` or `NAME = open(...)`.
pub(super) struct OpenBinding<'a> {
    pub scope: usize,
    pub name: &'a str,
    pub call: &'a ast::ExprCall,
}

/// Everything gathered from one module.
pub(super) struct Index<'a> {
    pub scopes: Vec<Scope<'a>>,
    /// Every name bound anywhere in the module, with its number of bindings.
    pub module_bindings: HashMap<&'a str, u32>,
    /// Names bound by a plain `import NAME` (the module itself, not an alias), counted.
    pub plain_imports: HashMap<&'a str, u32>,
    /// Where a `from ... import *` is, if any: it may bind any builtin's name.
    pub star_import: Option<ruff_text_size::TextRange>,
    pub calls: Vec<CallCandidate<'a>>,
    pub loops: Vec<ForCandidate<'a>>,
    pub opens: Vec<OpenBinding<'a>>,
    /// Lazy consumer calls passed straight to an eager consumer (`sum(map(f, [...]))`),
    /// by start offset, with that consumer: they are used up at once, not later.
    pub consumed_at_once: HashMap<ruff_text_size::TextSize, (Consumer, &'a ast::ExprCall)>,
}

impl<'a> Index<'a> {
    /// Walks `body` (a module's statements) once.
    pub fn build(body: &'a [Stmt]) -> Self {
        let mut walker = Walker {
            index: Index {
                scopes: vec![Scope {
                    kind: ScopeKind::Module,
                    body,
                    bindings: HashMap::default(),
                }],
                module_bindings: HashMap::default(),
                plain_imports: HashMap::default(),
                star_import: crate::semantic::star_import(body),
                calls: Vec::new(),
                loops: Vec::new(),
                opens: Vec::new(),
                consumed_at_once: HashMap::default(),
            },
            stack: vec![0],
            comprehension_depth: 0,
        };
        walker.visit_body(body);
        walker.index
    }

    /// Whether `name` is bound anywhere in the module, or may be (a star import).
    pub fn is_shadowed(&self, name: &str) -> bool {
        self.star_import.is_some() || self.module_bindings.contains_key(name)
    }

    /// Whether `name` certainly refers to the module of that name: every binding of it
    /// in the file is a plain `import name`.
    pub fn is_plain_module(&self, name: &str) -> bool {
        match (self.plain_imports.get(name), self.module_bindings.get(name)) {
            (Some(plain), Some(all)) => plain == all,
            _ => false,
        }
    }

    /// Names bound in a scope, for the class-body check.
    pub fn bound_in(&self, scope: usize, name: &str) -> bool {
        self.scopes[scope].bindings.contains_key(name)
    }
}

struct Walker<'a> {
    index: Index<'a>,
    /// Indices into `index.scopes`, innermost last.
    stack: Vec<usize>,
    /// How many comprehensions enclose the current node within the current scope.
    comprehension_depth: u32,
}

impl<'a> Walker<'a> {
    fn current(&self) -> usize {
        self.stack.last().copied().unwrap_or(0)
    }

    fn bind(&mut self, name: &'a str) {
        let scope = self.current();
        *self.index.scopes[scope].bindings.entry(name).or_default() += 1;
        *self.index.module_bindings.entry(name).or_default() += 1;
    }

    fn push_scope(&mut self, kind: ScopeKind, body: &'a [Stmt]) -> u32 {
        self.index.scopes.push(Scope {
            kind,
            body,
            bindings: HashMap::default(),
        });
        self.stack.push(self.index.scopes.len() - 1);
        std::mem::take(&mut self.comprehension_depth)
    }

    fn pop_scope(&mut self, saved_depth: u32) {
        self.stack.pop();
        self.comprehension_depth = saved_depth;
    }

    fn in_class_body(&self) -> bool {
        self.comprehension_depth == 0 && self.index.scopes[self.current()].kind == ScopeKind::Class
    }

    /// Parameter defaults and annotations belong to the enclosing scope; the names to
    /// the new one (bound by the caller after pushing it).
    fn visit_parameter_values(&mut self, parameters: &'a Parameters) {
        for p in parameters.iter_non_variadic_params() {
            if let Some(default) = &p.default {
                self.visit_expr(default);
            }
            if let Some(annotation) = &p.parameter.annotation {
                self.visit_annotation(annotation);
            }
        }
        for p in [&parameters.vararg, &parameters.kwarg]
            .into_iter()
            .flatten()
        {
            if let Some(annotation) = &p.annotation {
                self.visit_annotation(annotation);
            }
        }
    }

    fn bind_parameters(&mut self, parameters: &'a Parameters) {
        for p in parameters.iter() {
            self.bind(p.name().as_str());
        }
    }

    fn bind_type_params(&mut self, type_params: Option<&'a ast::TypeParams>) {
        for tp in type_params.into_iter().flat_map(|t| t.iter()) {
            self.bind(tp.name().as_str());
        }
    }

    fn record_open(&mut self, target: &'a Expr, value: &'a Expr) {
        if let (Expr::Name(name), Expr::Call(call)) = (target, value) {
            let opens_a_file = match call.func.as_ref() {
                Expr::Name(f) => f.id.as_str() == "open",
                Expr::Attribute(a) => {
                    a.attr.as_str() == "open"
                        && matches!(a.value.as_ref(), Expr::Name(m) if m.id.as_str() == "io" || m.id.as_str() == "builtins")
                }
                _ => false,
            };
            if opens_a_file {
                self.index.opens.push(OpenBinding {
                    scope: self.current(),
                    name: name.id.as_str(),
                    call,
                });
            }
        }
    }

    fn visit_comprehensions(&mut self, generators: &'a [Comprehension], elts: &[&'a Expr]) {
        // The first iterable is evaluated in the enclosing scope.
        let mut first = true;
        for comprehension in generators {
            if first {
                self.visit_expr(&comprehension.iter);
                self.comprehension_depth += 1;
                first = false;
            } else {
                self.visit_expr(&comprehension.iter);
            }
            self.visit_expr(&comprehension.target);
            for condition in &comprehension.ifs {
                self.visit_expr(condition);
            }
        }
        for elt in elts {
            self.visit_expr(elt);
        }
        if !generators.is_empty() {
            self.comprehension_depth -= 1;
        }
    }
}

/// `x` for `[... for x in y]`, `NAME.readlines()`, or a lazy consumer call holding one.
fn is_loop_candidate(iter: &Expr) -> bool {
    match iter {
        Expr::ListComp(_) => true,
        Expr::Call(call) => {
            if let Expr::Attribute(a) = call.func.as_ref() {
                return a.attr.as_str() == "readlines" && matches!(a.value.as_ref(), Expr::Name(_));
            }
            Consumer::of_call(call).is_some_and(|c| c.is_lazy())
                && call
                    .arguments
                    .args
                    .iter()
                    .any(|a| matches!(a, Expr::ListComp(_)))
        }
        _ => false,
    }
}

impl<'a> Visitor<'a> for Walker<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.bind(def.name.as_str());
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.visit_parameter_values(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_annotation(returns);
                }
                let saved = self.push_scope(ScopeKind::Function, &def.body);
                self.bind_type_params(def.type_params.as_deref());
                self.bind_parameters(&def.parameters);
                self.visit_body(&def.body);
                self.pop_scope(saved);
            }
            Stmt::ClassDef(class) => {
                self.bind(class.name.as_str());
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                let saved = self.push_scope(ScopeKind::Class, &class.body);
                self.bind_type_params(class.type_params.as_deref());
                self.visit_body(&class.body);
                self.pop_scope(saved);
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    match &alias.asname {
                        Some(asname) => self.bind(asname.as_str()),
                        None => {
                            let full = alias.name.as_str();
                            let first = full.split('.').next().unwrap_or(full);
                            self.bind(first);
                            if first == full {
                                *self.index.plain_imports.entry(first).or_default() += 1;
                            }
                        }
                    }
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    // Star imports are found by `crate::semantic::star_import`.
                    if alias.name.as_str() != "*" {
                        self.bind(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                    }
                }
            }
            Stmt::Global(global) => {
                for name in &global.names {
                    self.bind(name.as_str());
                }
            }
            Stmt::Nonlocal(nonlocal) => {
                for name in &nonlocal.names {
                    self.bind(name.as_str());
                }
            }
            Stmt::For(for_stmt) => {
                if is_loop_candidate(&for_stmt.iter) {
                    self.index.loops.push(ForCandidate {
                        stmt: for_stmt,
                        scope: self.current(),
                        in_class_body: self.in_class_body(),
                    });
                }
                walk_stmt(self, stmt);
            }
            Stmt::With(with) => {
                for item in &with.items {
                    if let Some(vars) = &item.optional_vars {
                        self.record_open(vars, &item.context_expr);
                    }
                }
                walk_stmt(self, stmt);
            }
            Stmt::Assign(assign) => {
                if let [target] = assign.targets.as_slice() {
                    self.record_open(target, &assign.value);
                }
                walk_stmt(self, stmt);
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => {
                if matches!(name.ctx, ExprContext::Store | ExprContext::Del) {
                    self.bind(name.id.as_str());
                }
            }
            Expr::Call(call) => {
                if let Some(outer) = Consumer::of_call(call)
                    && !outer.is_lazy()
                    && let Some(position) = outer.iterable_position(call)
                    && let Expr::Call(inner) = &call.arguments.args[position]
                    && Consumer::of_call(inner).is_some_and(Consumer::is_lazy)
                {
                    self.index
                        .consumed_at_once
                        .insert(inner.range().start(), (outer, call));
                }
                if let Some(consumer) = Consumer::of_call(call)
                    && call
                        .arguments
                        .args
                        .iter()
                        .any(|a| matches!(a, Expr::ListComp(_)))
                {
                    self.index.calls.push(CallCandidate {
                        call,
                        consumer,
                        scope: self.current(),
                        in_class_body: self.in_class_body(),
                    });
                }
                walk_expr(self, expr);
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameter_values(parameters);
                }
                let saved = self.push_scope(ScopeKind::Lambda, &[]);
                if let Some(parameters) = &lambda.parameters {
                    self.bind_parameters(parameters);
                }
                self.visit_expr(&lambda.body);
                self.pop_scope(saved);
            }
            Expr::ListComp(c) => self.visit_comprehensions(&c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.visit_comprehensions(&c.generators, &[&c.elt]),
            Expr::Generator(c) => self.visit_comprehensions(&c.generators, &[&c.elt]),
            Expr::DictComp(c) => {
                // `{**d for d in ds}` (PEP 798) has no key.
                let mut elts: Vec<&Expr> = c.key.as_deref().into_iter().collect();
                elts.push(&c.value);
                self.visit_comprehensions(&c.generators, &elts);
            }
            _ => walk_expr(self, expr),
        }
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.bind(name.as_str());
        }
        ruff_python_ast::visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(p) => {
                if let Some(name) = &p.name {
                    self.bind(name.as_str());
                }
            }
            Pattern::MatchStar(p) => {
                if let Some(name) = &p.name {
                    self.bind(name.as_str());
                }
            }
            Pattern::MatchMapping(p) => {
                if let Some(name) = &p.rest {
                    self.bind(name.as_str());
                }
            }
            _ => {}
        }
        walk_pattern(self, pattern);
    }
}

/// Distinct names, in first-seen order, for messages.
pub(super) fn dedup<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::default();
    names.into_iter().filter(|n| seen.insert(*n)).collect()
}

/// A cheap pass over the tokens: whether the file may hold a candidate at all, that is a
/// list comprehension right inside a consumer call's parentheses (`sum([`, `map(f, [`,
/// `sum(([`) or after `in` (`for x in [`, `in ([`), or the name `readlines`. Most files
/// have none, and a flat token scan costs a fraction of an AST walk, so those files
/// skip the walk entirely. A false "yes" only costs time; a false "no" would lose
/// findings, so every shape the AST checks accept must pass here.
pub(super) fn may_have_candidates(tokens: &Tokens, source: &str) -> bool {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Open {
        Other,
        /// A consumer call's parentheses, or grouping parentheses inside one or after `in`.
        Consumer,
        /// A `[` where a rewritable comprehension may start.
        Candidate,
    }
    let mut open: Vec<Open> = Vec::new();
    let mut previous = TokenKind::Newline;
    let mut previous_range = ruff_text_size::TextRange::default();
    for token in tokens {
        let kind = token.kind();
        if kind.is_trivia() {
            continue;
        }
        let top = open.last().copied();
        match kind {
            TokenKind::Lpar => open.push(match previous {
                TokenKind::Name if Consumer::of_name(&source[previous_range]).is_some() => {
                    Open::Consumer
                }
                TokenKind::In => Open::Consumer,
                TokenKind::Lpar | TokenKind::Comma if top == Some(Open::Consumer) => Open::Consumer,
                _ => Open::Other,
            }),
            TokenKind::Lsqb => open.push(match previous {
                TokenKind::In => Open::Candidate,
                TokenKind::Lpar | TokenKind::Comma if top == Some(Open::Consumer) => {
                    Open::Candidate
                }
                _ => Open::Other,
            }),
            TokenKind::Lbrace => open.push(Open::Other),
            TokenKind::Rsqb | TokenKind::Rpar | TokenKind::Rbrace => {
                open.pop();
            }
            TokenKind::For if top == Some(Open::Candidate) => return true,
            TokenKind::Name if &source[token.range()] == "readlines" => return true,
            _ => {}
        }
        previous = kind;
        previous_range = token.range();
    }
    false
}
