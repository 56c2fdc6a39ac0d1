//! What evaluating part of a comprehension may do, and what a loop body may change.
//!
//! A generator runs its element, conditions and inner `for` clauses lazily, one item at
//! a time, while the consumer (or the loop body) runs in between. Whether that is
//! observable depends on what those expressions do, graded here:
//!
//! - [`Level::Inert`]: cannot run user code or raise: names (a comprehension target is
//!   always bound; any other name is read once per item but can only change if
//!   something rebinds it, which the loop-body check looks for), constants, tuple and
//!   list displays of those, `is` / `is not`, lambdas (creating one runs nothing).
//! - [`Level::Pure`]: runs no explicit call, but may run dunder methods and raise:
//!   attribute and subscript loads (properties, `__getitem__`), arithmetic,
//!   comparisons, `and`/`or`/`not` (`__bool__`), f-strings (`__format__`), set and
//!   dict displays (hashing), unpacking targets, and calls of a few builtins that only
//!   run their operands' dunder or iteration methods (`len`, `abs`, `isinstance`, ...).
//!   We treat these like ruff and the Python community do: free of side effects that
//!   another item could observe. What they can still do is raise, and that is why a
//!   `for` loop needs [`Level::Inert`]: with a list the loop body never ran when an
//!   item raised; with a generator it ran for the earlier items.
//! - [`Level::Impure`]: anything else: calls, `await`, `yield`, `:=`.

use std::collections::HashSet;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, CmpOp, Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use crate::syntax::target_names;

/// How much evaluating an expression may do; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    Inert,
    Pure,
    Impure,
}

/// Builtins whose calls only run their operands' dunder or iteration methods, treated
/// like operators (see the module doc). `print`, `next`, `iter`, `open`, `input`,
/// `setattr`, `exec`, ... are deliberately absent.
pub(super) const PURE_BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "ascii",
    "bool",
    "bytes",
    "chr",
    "dict",
    "divmod",
    "enumerate",
    "float",
    "frozenset",
    "getattr",
    "hasattr",
    "hash",
    "id",
    "int",
    "isinstance",
    "issubclass",
    "len",
    "list",
    "max",
    "min",
    "ord",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
];

/// What one comprehension (minus its first iterable) may do.
pub(super) struct Effects<'a> {
    pub level: Level,
    /// Source text of the first call found, for the message (`f(x)` → `f()`).
    pub first_call: Option<String>,
    /// Whether an `await` or `async for` occurs (the generator would be asynchronous).
    pub is_async: bool,
    /// Names read from outside the comprehension (not bound by its own targets) by
    /// the graded parts.
    pub free_names: Vec<&'a str>,
    /// Names the first iterable reads (evaluated in the enclosing scope).
    pub first_iter_names: Vec<&'a str>,
}

/// Grades a comprehension: element, conditions and every iterable but the first (the
/// first is evaluated eagerly, in the enclosing scope, in both forms).
pub(super) fn comprehension_effects<'a>(
    comp: &'a ast::ExprListComp,
    source: &str,
    is_builtin: &dyn Fn(&str) -> bool,
) -> Effects<'a> {
    let mut grader = Grader::new(source, is_builtin);
    grader.comprehension(&comp.generators, &[&comp.elt], true);
    grader.finish()
}

/// Grades a single expression evaluated in the enclosing scope (a call's other
/// arguments, a lazy consumer's function, a comprehension's first iterable).
pub(super) fn expr_effects<'a>(
    expr: &'a Expr,
    source: &str,
    is_builtin: &dyn Fn(&str) -> bool,
) -> Effects<'a> {
    let mut grader = Grader::new(source, is_builtin);
    grader.visit_expr(expr);
    grader.finish()
}

struct Grader<'a, 's> {
    level: Level,
    first_call: Option<String>,
    is_async: bool,
    free_names: Vec<&'a str>,
    first_iter_names: Vec<&'a str>,
    /// Names bound by enclosing comprehension targets and lambda parameters.
    bound: Vec<&'a str>,
    source: &'s str,
    is_builtin: &'s dyn Fn(&str) -> bool,
}

impl<'a, 's> Grader<'a, 's> {
    fn new(source: &'s str, is_builtin: &'s dyn Fn(&str) -> bool) -> Self {
        Grader {
            level: Level::Inert,
            first_call: None,
            is_async: false,
            free_names: Vec::new(),
            first_iter_names: Vec::new(),
            bound: Vec::new(),
            source,
            is_builtin,
        }
    }

    fn finish(self) -> Effects<'a> {
        Effects {
            level: self.level,
            first_call: self.first_call,
            is_async: self.is_async,
            free_names: self.free_names,
            first_iter_names: self.first_iter_names,
        }
    }
    fn raise(&mut self, level: Level) {
        self.level = self.level.max(level);
    }

    fn impure_call(&mut self, func: &Expr) {
        self.raise(Level::Impure);
        if self.first_call.is_none() {
            let text = &self.source[func.range()];
            // Long callees (`obj.method_chain(...).x`) are cut to keep messages to a line.
            let text = if text.len() > 40 || text.contains('\n') {
                "a function"
            } else {
                text
            };
            self.first_call = Some(format!("{text}()"));
        }
    }

    /// `outer_first`: the first iterable belongs to the enclosing scope and is not
    /// graded (only for the comprehension being rewritten, not for nested ones).
    fn comprehension(
        &mut self,
        generators: &'a [ast::Comprehension],
        elts: &[&'a Expr],
        outer_first: bool,
    ) {
        let mark = self.bound.len();
        for (i, generator) in generators.iter().enumerate() {
            if generator.is_async {
                self.is_async = true;
                self.raise(Level::Impure);
            }
            if i == 0 && outer_first {
                // Not graded, but its names are still read from outside.
                let mut names = NameCollector::default();
                names.visit_expr(&generator.iter);
                self.first_iter_names.extend(names.loads);
            } else {
                // Iterating an inner iterable happens lazily and may raise.
                self.raise(Level::Pure);
                self.visit_expr(&generator.iter);
            }
            if !matches!(generator.target, Expr::Name(_)) {
                // Unpacking (`for a, b in pairs`) raises on a malformed item.
                self.raise(Level::Pure);
            }
            target_names(&generator.target, &mut self.bound);
            for condition in &generator.ifs {
                self.visit_expr(condition);
            }
        }
        for elt in elts {
            self.visit_expr(elt);
        }
        self.bound.truncate(mark);
    }
}

impl<'a> Visitor<'a> for Grader<'a, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => {
                if name.ctx == ExprContext::Load && !self.bound.contains(&name.id.as_str()) {
                    self.free_names.push(name.id.as_str());
                }
            }
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_) => {}
            Expr::Tuple(_) | Expr::List(_) => walk_expr(self, expr),
            Expr::Compare(compare) => {
                if !compare
                    .ops
                    .iter()
                    .all(|op| matches!(op, CmpOp::Is | CmpOp::IsNot))
                {
                    self.raise(Level::Pure);
                }
                walk_expr(self, expr);
            }
            Expr::Lambda(lambda) => {
                // Creating a lambda runs nothing; its body runs when called, at the
                // same time in both forms. Its defaults are evaluated now.
                if let Some(parameters) = &lambda.parameters {
                    for p in parameters.iter_non_variadic_params() {
                        if let Some(default) = &p.default {
                            self.visit_expr(default);
                        }
                    }
                }
            }
            Expr::Call(call) => {
                let pure = matches!(call.func.as_ref(), Expr::Name(f)
                    if PURE_BUILTINS.contains(&f.id.as_str())
                        && !self.bound.contains(&f.id.as_str())
                        && (self.is_builtin)(f.id.as_str()));
                if pure {
                    self.raise(Level::Pure);
                    walk_expr(self, expr);
                } else {
                    self.impure_call(&call.func);
                    walk_expr(self, expr);
                }
            }
            Expr::Await(_) => {
                self.is_async = true;
                self.raise(Level::Impure);
                walk_expr(self, expr);
            }
            Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Named(_) | Expr::IpyEscapeCommand(_) => {
                self.raise(Level::Impure);
                walk_expr(self, expr);
            }
            Expr::ListComp(c) => {
                self.raise(Level::Pure);
                self.comprehension(&c.generators, &[&c.elt], false);
            }
            Expr::SetComp(c) => {
                self.raise(Level::Pure);
                self.comprehension(&c.generators, &[&c.elt], false);
            }
            Expr::Generator(c) => {
                self.raise(Level::Pure);
                self.comprehension(&c.generators, &[&c.elt], false);
            }
            Expr::DictComp(c) => {
                self.raise(Level::Pure);
                // `{**d for d in ds}` (PEP 798) has no key.
                let mut elts: Vec<&Expr> = c.key.as_deref().into_iter().collect();
                elts.push(&c.value);
                self.comprehension(&c.generators, &elts, false);
            }
            // Attribute, subscript, operators, f-strings, displays that hash, starred.
            _ => {
                self.raise(Level::Pure);
                walk_expr(self, expr);
            }
        }
    }
}

/// Every name loaded in an expression.
#[derive(Default)]
struct NameCollector<'a> {
    loads: Vec<&'a str>,
}

impl<'a> Visitor<'a> for NameCollector<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(name) = expr
            && name.ctx == ExprContext::Load
        {
            self.loads.push(name.id.as_str());
        }
        walk_expr(self, expr);
    }
}

/// Why a loop body may change what a lazily evaluated comprehension (or a lazily read
/// file) sees between two items. A decision, not a message: callers match on it, and
/// [`std::fmt::Display`] writes the phrase the messages quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Hazard {
    /// The body rebinds a name the comprehension reads (`global`, `def`, `import`, `=`).
    Rebinds(String),
    /// The body stores into or deletes from an object the comprehension reads.
    Modifies(String),
    /// The body calls something that may reach what the comprehension reads;
    /// `watched` is the read name the callee hangs from, when it does.
    Calls {
        /// The callee as written (`process`, `xs.sort`).
        callee: String,
        /// The watched name the callee is an attribute of.
        watched: Option<String>,
    },
    /// The body passes an object the comprehension reads to a call.
    PassesToCall(String),
    /// The body hands control to other code between two items.
    Suspends(Suspension),
}

/// How a loop body hands control to other code between two items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Suspension {
    /// `yield` or `yield from`: the caller runs until it asks for the next value.
    Yield,
    /// `await`, `async for` or `async with`: other tasks run meanwhile.
    Await,
}

impl Suspension {
    /// The suspension `expr` itself is (not its subexpressions).
    fn of_expr(expr: &Expr) -> Option<Self> {
        match expr {
            Expr::Yield(_) | Expr::YieldFrom(_) => Some(Self::Yield),
            Expr::Await(_) => Some(Self::Await),
            _ => None,
        }
    }

    /// The suspension `stmt` itself is (not the statements in its body).
    fn of_stmt(stmt: &Stmt) -> Option<Self> {
        match stmt {
            Stmt::For(ast::StmtFor { is_async: true, .. })
            | Stmt::With(ast::StmtWith { is_async: true, .. }) => Some(Self::Await),
            _ => None,
        }
    }
}

impl std::fmt::Display for Hazard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hazard::Rebinds(name) => write!(f, "the loop body rebinds `{name}`"),
            Hazard::Modifies(target) => write!(f, "the loop body modifies `{target}`"),
            Hazard::Calls {
                callee,
                watched: Some(root),
            } => write!(
                f,
                "the loop body calls `{callee}()`, which may modify `{root}`"
            ),
            Hazard::Calls {
                callee,
                watched: None,
            } => write!(
                f,
                "the loop body calls `{callee}()`, which may change what the comprehension reads"
            ),
            Hazard::PassesToCall(arg) => write!(f, "the loop body passes `{arg}` to a call"),
            Hazard::Suspends(Suspension::Yield) => write!(
                f,
                "the loop body yields, and the caller may change the source before the next item"
            ),
            Hazard::Suspends(Suspension::Await) => write!(
                f,
                "the loop body awaits, and other code may change the source meanwhile"
            ),
        }
    }
}

/// Why a loop body may change what a lazily evaluated comprehension reads, or `None`.
///
/// `watched` are the names the comprehension reads from outside; `allowed_receivers`
/// the loop's own targets (calling a method on the item itself, `word.upper()`, cannot
/// change the source list). The check is syntactic and conservative: any call that is
/// not a pure builtin, `print`, or a method of the item may reach the source through
/// an alias, so it counts. The first hazard in source order is returned.
pub(super) fn body_hazard(
    body: &[Stmt],
    watched: &HashSet<&str>,
    allowed_receivers: &HashSet<&str>,
    source: &str,
    is_builtin: &dyn Fn(&str) -> bool,
) -> Option<Hazard> {
    let mut finder = HazardFinder {
        watched,
        allowed_receivers,
        source,
        is_builtin,
        found: None,
    };
    for stmt in body {
        finder.visit_stmt(stmt);
        if finder.found.is_some() {
            break;
        }
    }
    finder.found
}

/// The first place a loop body yields or awaits, whatever else it does before.
/// Nested functions and lambdas are skipped: their `yield` suspends their own frame
/// when they are called, not the loop.
pub(super) fn body_suspension(body: &[Stmt]) -> Option<Suspension> {
    #[derive(Default)]
    struct Finder(Option<Suspension>);
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if self.0.is_some() || matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                return;
            }
            self.0 = Suspension::of_stmt(stmt);
            walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.0.is_some() || expr.is_lambda_expr() {
                return;
            }
            self.0 = Suspension::of_expr(expr);
            walk_expr(self, expr);
        }
    }
    let mut finder = Finder::default();
    for stmt in body {
        finder.visit_stmt(stmt);
    }
    finder.0
}

struct HazardFinder<'w, 's> {
    watched: &'w HashSet<&'w str>,
    allowed_receivers: &'w HashSet<&'w str>,
    source: &'s str,
    is_builtin: &'s dyn Fn(&str) -> bool,
    found: Option<Hazard>,
}

/// The name an attribute/subscript chain starts from (`a` for `a.b[c].d`).
pub(super) fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => root_name(&a.value),
        Expr::Subscript(s) => root_name(&s.value),
        Expr::Call(c) => root_name(&c.func),
        _ => None,
    }
}

impl HazardFinder<'_, '_> {
    fn report(&mut self, hazard: Hazard) {
        if self.found.is_none() {
            self.found = Some(hazard);
        }
    }

    fn short(&self, expr: &Expr) -> String {
        let text = &self.source[expr.range()];
        if text.len() > 40 || text.contains('\n') {
            "a function".to_string()
        } else {
            text.to_string()
        }
    }
}

impl<'a> Visitor<'a> for HazardFinder<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found.is_some() {
            return;
        }
        match stmt {
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                if let Some(n) = names.iter().find(|n| self.watched.contains(n.as_str())) {
                    self.report(Hazard::Rebinds(n.to_string()));
                }
            }
            Stmt::FunctionDef(def) if self.watched.contains(def.name.as_str()) => {
                self.report(Hazard::Rebinds(def.name.to_string()));
            }
            Stmt::ClassDef(class) if self.watched.contains(class.name.as_str()) => {
                self.report(Hazard::Rebinds(class.name.to_string()));
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    let bound = bound.split('.').next().unwrap_or(bound);
                    if bound == "*" || self.watched.contains(bound) {
                        self.report(Hazard::Rebinds(bound.to_string()));
                    }
                }
            }
            _ => {
                if let Some(suspension) = Suspension::of_stmt(stmt) {
                    self.report(Hazard::Suspends(suspension));
                }
            }
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        match expr {
            Expr::Name(name)
                if matches!(name.ctx, ExprContext::Store | ExprContext::Del)
                    && self.watched.contains(name.id.as_str()) =>
            {
                self.report(Hazard::Rebinds(name.id.to_string()));
            }
            Expr::Attribute(ast::ExprAttribute { ctx, .. })
            | Expr::Subscript(ast::ExprSubscript { ctx, .. })
                if matches!(ctx, ExprContext::Store | ExprContext::Del) =>
            {
                if let Some(root) = root_name(expr)
                    && self.watched.contains(root)
                {
                    let text = self.short(expr);
                    self.report(Hazard::Modifies(text));
                }
            }
            Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Await(_) => {
                if let Some(suspension) = Suspension::of_expr(expr) {
                    self.report(Hazard::Suspends(suspension));
                }
            }
            Expr::Call(call) => {
                let func = call.func.as_ref();
                let harmless = match func {
                    Expr::Name(f) => {
                        (PURE_BUILTINS.contains(&f.id.as_str()) || f.id.as_str() == "print")
                            && (self.is_builtin)(f.id.as_str())
                    }
                    Expr::Attribute(a) => matches!(a.value.as_ref(), Expr::Name(r)
                        if self.allowed_receivers.contains(r.id.as_str())
                            && !self.watched.contains(r.id.as_str())),
                    _ => false,
                };
                if !harmless {
                    let callee = self.short(func);
                    let watched = root_name(func)
                        .filter(|r| self.watched.contains(r))
                        .map(str::to_string);
                    self.report(Hazard::Calls { callee, watched });
                } else if let Some(arg) = call.arguments.args.iter().find(|a| {
                    root_name(a).is_some_and(|r| self.watched.contains(r))
                        && !matches!(func, Expr::Name(f) if PURE_BUILTINS.contains(&f.id.as_str()) || f.id.as_str() == "print")
                }) {
                    let text = self.short(arg);
                    self.report(Hazard::PassesToCall(text));
                }
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}
