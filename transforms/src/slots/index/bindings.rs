//! How names are bound in a scope, read from the syntax alone: what every binding of a
//! name agrees it holds, the `global`/`nonlocal` declarations, the writes on function
//! objects, and which names a statement or body rebinds.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::name::UnqualifiedName;
use ruff_python_ast::token::{TokenKind, Tokens};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use crate::slots::types::TypeRef;
use crate::syntax::TokenStarts;

/// The first call a name is bound to; bindings to calls of the same callee agree
/// whatever their arguments, so any of them stands for all.
#[derive(Debug, Clone)]
pub(super) struct FirstCall<'a>(pub(super) &'a ast::ExprCall);

impl PartialEq for FirstCall<'_> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The callee of `x = callee(...)`: a name or a dotted chain of them, compared by
/// what it says. Its segments are read when needed, not copied for every call a
/// function binds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Callee<'a>(&'a Expr);

impl<'a> Callee<'a> {
    /// The callee as a dotted name (always one: only such callees are kept).
    pub(super) fn name(&self) -> Option<UnqualifiedName<'a>> {
        UnqualifiedName::from_expr(self.0)
    }
}

impl PartialEq for Callee<'_> {
    fn eq(&self, other: &Self) -> bool {
        UnqualifiedName::from_expr(self.0) == UnqualifiedName::from_expr(other.0)
    }
}

/// An expression compared by what it says, not where it is.
#[derive(Debug, Clone)]
pub(super) struct SameExpr<'a>(pub(super) &'a Expr);

impl PartialEq for SameExpr<'_> {
    fn eq(&self, other: &Self) -> bool {
        ComparableExpr::from(self.0) == ComparableExpr::from(other.0)
    }
}

/// How every binding of a name in one scope binds it, when they all agree.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Binding<'a> {
    /// `x = callee(...)`: the callee, as written, and the first such call.
    Call(Callee<'a>, FirstCall<'a>),
    /// A parameter annotated with a type and rebound in the body in one known way
    /// (`state: BlockState` then `state = BlockState(parent=state)`): either.
    Either(&'a Expr, Box<Binding<'a>>),
    /// An undecorated `def`: a function object.
    Function,
    /// A decorated `def`: what its outermost decorator makes of it.
    Decorated(&'a Expr),
    /// An undecorated `class`: a class object; `bare` when it names no base, metaclass
    /// or other keyword (its instances are instances of no other class).
    Class {
        /// No bases or keywords.
        bare: bool,
    },
    /// An annotated parameter or variable (`p: Point`, `x: list[Point] = []`).
    Annotated(&'a Expr),
    /// An unannotated parameter whose type something else says (an overridden
    /// method's annotation, a decorator's).
    Inferred(Vec<TypeRef>),
    /// `for x in iterable:`: an element of the iterable.
    ElementOf(&'a Expr),
    /// `a, b = call(...)`: the item at this position of what the call returns (the
    /// same call written twice binds the same way).
    Item(SameExpr<'a>, usize),
    /// `x = obj.attr`, `x = items[i]`, `x = y`: what that expression gives.
    Value(&'a Expr),
    /// `except E as e:`: a caught exception.
    Caught,
    /// Bound in different ways, or in a way that says nothing.
    Unknown,
    /// Declared `global` or `nonlocal` in the function or a nested one: any call may
    /// rebind it.
    Declared,
}

impl Binding<'_> {
    pub(super) fn is_plain_definition(&self) -> bool {
        matches!(self, Binding::Function | Binding::Class { .. })
    }
}

/// Where in a file an expression may bind a name: its `:=` and `for` tokens. Inside
/// an expression only an assignment expression or a comprehension's target binds
/// (a `for` statement's keyword is outside every expression), so a value expression
/// holding neither binds nothing.
pub(super) struct InnerBinders {
    at: TokenStarts,
}

impl InnerBinders {
    /// The `:=` and `for` tokens of `tokens`.
    pub(super) fn new(tokens: &Tokens) -> Self {
        let at = TokenStarts::of(tokens, |t| {
            matches!(t.kind(), TokenKind::ColonEqual | TokenKind::For)
        });
        Self { at }
    }

    /// Whether `expr`, read as a value, may bind a name.
    fn may_bind_in(&self, expr: &Expr) -> bool {
        self.at.any_in(expr.range())
    }
}

/// Whether `expr` is read, not assigned or deleted: an assignment target holds the
/// names it binds whatever tokens it has.
fn is_read(expr: &Expr) -> bool {
    let ctx = match expr {
        Expr::Name(e) => e.ctx,
        Expr::Attribute(e) => e.ctx,
        Expr::Subscript(e) => e.ctx,
        Expr::Tuple(e) => e.ctx,
        Expr::List(e) => e.ctx,
        Expr::Starred(e) => e.ctx,
        _ => return true,
    };
    ctx == ExprContext::Load
}

/// Names bound in a scope (not descending into nested functions or classes), with how
/// they are bound when every binding agrees ([`Binding::Unknown`] otherwise).
/// `binders`: where the file's expressions may bind (values without any are not
/// walked).
pub(super) fn call_bindings<'a>(
    body: &'a [Stmt],
    binders: &InnerBinders,
) -> HashMap<&'a str, Binding<'a>> {
    struct Bindings<'a, 'b> {
        out: HashMap<&'a str, Binding<'a>>,
        binders: &'b InnerBinders,
    }
    impl<'a> Bindings<'a, '_> {
        fn bind(&mut self, name: &'a str, binding: Binding<'a>) {
            match self.out.get(name) {
                None => {
                    self.out.insert(name, binding);
                }
                Some(prev) if *prev == binding => {}
                Some(_) => {
                    self.out.insert(name, Binding::Unknown);
                }
            }
        }
    }
    impl<'a> Visitor<'a> for Bindings<'a, '_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                // A decorator may return anything (`@click.command()` returns an
                // instance), so only undecorated definitions are known objects.
                Stmt::FunctionDef(def) => {
                    let binding = match def.decorator_list.first() {
                        None => Binding::Function,
                        Some(outermost) => Binding::Decorated(&outermost.expression),
                    };
                    self.bind(&def.name, binding);
                }
                Stmt::ClassDef(def) => {
                    let binding = if def.decorator_list.is_empty() {
                        Binding::Class {
                            bare: def.arguments.is_none(),
                        }
                    } else {
                        Binding::Unknown
                    };
                    self.bind(&def.name, binding);
                }
                Stmt::Assign(assign) => {
                    // `x = callee(...)`, and `sys.stdin = x = callee(...)`: every
                    // target gets the same object.
                    if let Expr::Call(call) = assign.value.as_ref()
                        && UnqualifiedName::from_expr(&call.func).is_some()
                        && assign.targets.iter().any(Expr::is_name_expr)
                        && assign.targets.iter().all(|t| {
                            matches!(t, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_))
                        })
                    {
                        for target in &assign.targets {
                            match target {
                                Expr::Name(name) => {
                                    self.bind(
                                        &name.id,
                                        Binding::Call(Callee(&call.func), FirstCall(call)),
                                    );
                                }
                                other => self.visit_expr(other),
                            }
                        }
                        self.visit_expr(&assign.value);
                        return;
                    }
                    // `opts, args = parser.parse_args()`: each name is an item of the
                    // call's result (no starred target, which would shift them).
                    if let ([Expr::Tuple(t)], Expr::Call(_)) =
                        (assign.targets.as_slice(), assign.value.as_ref())
                        && t.elts.iter().all(Expr::is_name_expr)
                    {
                        for (i, elt) in t.elts.iter().enumerate() {
                            if let Expr::Name(name) = elt {
                                self.bind(&name.id, Binding::Item(SameExpr(&assign.value), i));
                            }
                        }
                        self.visit_expr(&assign.value);
                        return;
                    }
                    // `x = obj.attr`, `x = items[-1]`, `x = y`, `x = make().copy()`: what
                    // the expression gives, read where the name is used (see
                    // `Indexer::bound`).
                    if let [Expr::Name(name)] = assign.targets.as_slice()
                        && matches!(
                            assign.value.as_ref(),
                            Expr::Attribute(_) | Expr::Subscript(_) | Expr::Name(_) | Expr::Call(_)
                        )
                    {
                        self.bind(&name.id, Binding::Value(&assign.value));
                        self.visit_expr(&assign.value);
                        return;
                    }
                    visitor::walk_stmt(self, stmt);
                }
                // `x: Point = ...` (or a bare `x: Point`): the declared type.
                Stmt::AnnAssign(assign) if assign.target.is_name_expr() => {
                    if let Expr::Name(name) = assign.target.as_ref() {
                        self.bind(&name.id, Binding::Annotated(&assign.annotation));
                    }
                    if let Some(value) = &assign.value {
                        self.visit_expr(value);
                    }
                }
                Stmt::For(f) if f.target.is_name_expr() => {
                    if let Expr::Name(name) = f.target.as_ref() {
                        self.bind(&name.id, Binding::ElementOf(&f.iter));
                    }
                    self.visit_expr(&f.iter);
                    self.visit_body(&f.body);
                    self.visit_body(&f.orelse);
                }
                Stmt::Import(_) | Stmt::ImportFrom(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(name) if name.ctx == ExprContext::Store => {
                    self.bind(&name.id, Binding::Unknown)
                }
                Expr::Lambda(_) => {}
                // Most of a body: values that bind nothing, passed over whole.
                _ if is_read(expr) && !self.binders.may_bind_in(expr) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
        fn visit_parameters(&mut self, _: &'a ast::Parameters) {}
        fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            if let Some(name) = &h.name {
                self.bind(name.as_str(), Binding::Caught);
            }
            visitor::walk_except_handler(self, handler);
        }
    }
    let mut b = Bindings {
        out: HashMap::default(),
        binders,
    };
    b.visit_body(body);
    b.out
}

/// What the `global` and `nonlocal` statements anywhere in a body (nested functions
/// and classes included) declare.
#[derive(Default)]
pub(super) struct Declarations<'a> {
    /// The names declared either way.
    pub(super) names: HashSet<&'a str>,
    /// There is a `nonlocal` statement.
    pub(super) nonlocal: bool,
}

impl<'a> Visitor<'a> for Declarations<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Global(g) => self.names.extend(g.names.iter().map(|n| n.as_str())),
            Stmt::Nonlocal(n) => {
                self.nonlocal = true;
                self.names.extend(n.names.iter().map(|n| n.as_str()));
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    // Only statements declare: the expressions (most of a body) are not walked.
    fn visit_expr(&mut self, _: &'a Expr) {}
}

/// The [`Declarations`] of `body`.
pub(super) fn declarations(body: &[Stmt]) -> Declarations<'_> {
    let mut declared = Declarations::default();
    declared.visit_body(body);
    declared
}

/// The `name.attr = ...` statements of a function body that certainly write on a
/// function object: at the top level of the body, after an undecorated `def name`
/// there with only simple statements between that do not rebind `name` (a loop, a
/// branch, `try`, an import, `global` or a nested definition may, so they end what is
/// known). A name bound twice (`def f` then `f = click.command(f)`) is not one
/// object, but at this point it is the function. `nonlocal`: the body has a
/// `nonlocal` statement somewhere ([`declarations`]), and then a nested function may
/// rebind a name of this body (`nonlocal f`) whenever it is called: nothing is known.
pub(super) fn function_object_writes(
    body: &[Stmt],
    nonlocal: bool,
) -> Vec<ruff_text_size::TextSize> {
    if nonlocal {
        return Vec::new();
    }
    let mut functions: HashSet<&str> = HashSet::default();
    let mut out = Vec::new();
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(def) if def.decorator_list.is_empty() => {
                functions.insert(def.name.as_str());
                continue;
            }
            Stmt::Assign(assign) => {
                if let [Expr::Attribute(a)] = assign.targets.as_slice()
                    && let Expr::Name(n) = a.value.as_ref()
                    && functions.contains(n.id.as_str())
                    && !binds_in(&assign.value, n.id.as_str())
                {
                    out.push(a.start());
                }
            }
            Stmt::Expr(_)
            | Stmt::AugAssign(_)
            | Stmt::AnnAssign(_)
            | Stmt::Pass(_)
            | Stmt::Assert(_) => {}
            _ => {
                functions.clear();
                continue;
            }
        }
        functions.retain(|name| !rebinds(std::slice::from_ref(stmt), name));
    }
    out
}

/// The names a statement binds anywhere inside it (assignments, loop and `with`
/// targets, `:=`, imports, definitions, `except ... as`, `del`), or `None` when it may
/// bind names that cannot be listed (`from m import *`, `match` patterns). `binders`:
/// where the file's expressions may bind (values without any are not walked).
pub(super) fn rebound_names<'a>(stmt: &'a Stmt, binders: &InnerBinders) -> Option<Vec<&'a str>> {
    struct Rebound<'a, 'b> {
        names: Vec<&'a str>,
        unlisted: bool,
        binders: &'b InnerBinders,
    }
    impl<'a> Visitor<'a> for Rebound<'a, '_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(def) => {
                    // Its body is another scope; its decorators and defaults are not.
                    self.names.push(def.name.as_str());
                    for d in &def.decorator_list {
                        self.visit_decorator(d);
                    }
                    self.visit_parameters(&def.parameters);
                }
                Stmt::ClassDef(def) => {
                    self.names.push(def.name.as_str());
                    for d in &def.decorator_list {
                        self.visit_decorator(d);
                    }
                    if let Some(arguments) = &def.arguments {
                        self.visit_arguments(arguments);
                    }
                }
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        self.names
                            .push(bound.as_str().split('.').next().unwrap_or_default());
                    }
                }
                Stmt::ImportFrom(import) => {
                    for alias in &import.names {
                        if alias.name.as_str() == "*" {
                            self.unlisted = true;
                        }
                        self.names
                            .push(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                    }
                }
                Stmt::Match(_) => {
                    self.unlisted = true;
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) if n.ctx != ExprContext::Load => self.names.push(n.id.as_str()),
                // Its parameters are its own.
                Expr::Lambda(_) => {}
                // A value without `:=` or a comprehension binds nothing.
                _ if is_read(expr) && !self.binders.may_bind_in(expr) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
        fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            if let Some(name) = &h.name {
                self.names.push(name.as_str());
            }
            visitor::walk_except_handler(self, handler);
        }
    }
    let mut rebound = Rebound {
        names: Vec::new(),
        unlisted: false,
        binders,
    };
    rebound.visit_stmt(stmt);
    (!rebound.unlisted).then_some(rebound.names)
}

/// Whether `name` is stored to or deleted anywhere in `body` (nested scopes too, to
/// stay on the safe side).
pub(super) fn rebinds(body: &[Stmt], name: &str) -> bool {
    let mut finder = BindingFinder { name, found: false };
    finder.visit_body(body);
    finder.found
}

/// Whether `expr` binds `name` (with `:=`; an expression cannot delete).
pub(super) fn binds_in(expr: &Expr, name: &str) -> bool {
    let mut finder = BindingFinder { name, found: false };
    finder.visit_expr(expr);
    finder.found
}

/// Finds a store or delete of one name.
struct BindingFinder<'n> {
    name: &'n str,
    found: bool,
}

impl<'a> Visitor<'a> for BindingFinder<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr
            && n.ctx != ExprContext::Load
            && n.id.as_str() == self.name
        {
            self.found = true;
        }
        visitor::walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How each name of the function `f` in `source` is bound, as `call_bindings` sees
    /// it: `call:CALLEE`, `unknown`, or `other`.
    fn bound(source: &str) -> Vec<(String, String)> {
        let module = crate::parse(source).expect("test source parses");
        let Some(Stmt::FunctionDef(f)) = module.ast().body.first() else {
            panic!("the test source starts with a function");
        };
        let binders = InnerBinders::new(module.tokens());
        let mut out: Vec<(String, String)> = call_bindings(&f.body, &binders)
            .into_iter()
            .map(|(name, binding)| {
                let how = match binding {
                    Binding::Call(callee, _) => {
                        format!("call:{}", callee.name().expect("a dotted callee"))
                    }
                    Binding::Unknown => "unknown".to_string(),
                    _ => "other".to_string(),
                };
                (name.to_string(), how)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn names_bound_inside_values_are_found_and_plain_values_are_passed_over() {
        let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(n, h)| (n.to_string(), h.to_string()))
                .collect()
        };
        // `:=` deep inside a call's arguments, and a comprehension's target (taken as
        // bound here, conservatively): both still seen.
        assert_eq!(
            bound(
                "def f(items):\n    a = make()\n    print(g(h((a := other()))))\n    b = make()\n    total = sum([b for b in items])\n"
            ),
            pairs(&[("a", "unknown"), ("b", "unknown"), ("total", "call:sum")])
        );
        // The same without them: each name bound once, to its call.
        assert_eq!(
            bound(
                "def f(items):\n    a = make()\n    print(g(h(a)))\n    b = make()\n    total = sum(items)\n"
            ),
            pairs(&[
                ("a", "call:make"),
                ("b", "call:make"),
                ("total", "call:sum")
            ])
        );
        // Targets bind whatever their tokens: a tuple target, a subscript's `:=`.
        assert_eq!(
            bound("def f(xs):\n    p, q = xs\n    xs[(i := 0)] = 1\n"),
            pairs(&[("i", "unknown"), ("p", "unknown"), ("q", "unknown")])
        );
    }
}
