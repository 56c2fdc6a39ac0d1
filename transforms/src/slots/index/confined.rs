//! Private classes whose instances never leave their module: an object of unknown type
//! elsewhere is never one of them, so a write, `vars()` or computed `setattr` on such
//! an object says nothing of them.
//!
//! A module-level class `_Name` (private by convention: code outside the project does
//! not use it) is confined when every instance is made by a direct call `_Name(...)`
//! in a function and only ever used there in ways that hand it to no other code:
//!
//! - the call's value is bound to a local name (`acc = _Acc()`), discarded, or used at
//!   once as an object below (`_Acc().run()`);
//! - such a name, and `self` in the class's methods, are only used as the object of an
//!   attribute write or delete (`acc.total = 0`), of a read of an attribute that is no
//!   method (a bound method carries its instance with it) and no dunder
//!   (`acc.__class__` would hand out the class), of a call of a method that is no
//!   dunder (`acc.add(x)`), of an `is` test, or as the argument of a builtin that only
//!   calls the type's own methods and keeps nothing (`repr`, `str`, `print`, `id`,
//!   `len`, `hash`, the value of `format`): never returned, yielded, stored, passed,
//!   compared (`==` may run the other operand's code), captured by an inner function,
//!   or declared `global`/`nonlocal`;
//! - the class has no bases, keywords or nested classes, its body holds only methods
//!   and constants (`dataclasses.field(...)` too), its methods are plain, static or
//!   properties (a `classmethod` gets the class, `__new__` makes instances), and they
//!   call `super()` only as `super().__init__()`;
//! - the name `_Name` appears in the file nowhere else (no other reference, string or
//!   comment: the count is over the whole text), there is no star import, and no
//!   function holding an instance reads its own frame (`locals()`, `vars()`, `exec`,
//!   `eval`).
//!
//! The project decision checks the rest: no other file imports or reads the class or
//! spells its name, and no file reaches frames' locals or the garbage collector's
//! lists of objects (`f_locals`, `gc.get_referrers`), through which any object is
//! reachable. As for private functions, nothing is taken to reach the class through a
//! computed name (`getattr(module, name)`).

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, CmpOp, Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use crate::semantic::Names;
use crate::syntax::is_dunder;

use super::Indexer;
use super::bindings::{Binding, InnerBinders, call_bindings, declarations};
use super::call_sites::{count_names, is_private, star_import};

/// Builtins that only call the special methods of the type of what they are given
/// (the class's own or `object`'s) and keep nothing of it.
const INSPECTING_BUILTINS: &[&str] = &["repr", "str", "print", "id", "len", "hash", "format"];

/// Builtins that read the calling frame's names, through which a local is reachable.
const FRAME_READERS: &[&str] = &["locals", "vars", "exec", "eval"];

/// Whether `name` is one through which code reaches any object or frame-local name:
/// `frame.f_locals`, `inspect.getargvalues(frame)`, the garbage collector's lists.
pub(super) fn is_reflection(name: &str) -> bool {
    matches!(
        name,
        "f_locals" | "getargvalues" | "get_referrers" | "get_referents" | "get_objects"
    )
}

/// A module-level private class being checked.
struct Candidate<'m> {
    /// Its index among the file's class summaries.
    index: usize,
    /// Names defined in its body by a `def` that is no property: read without a call,
    /// such a name gives a bound method.
    methods: Vec<&'m str>,
    /// Its static methods, which get no instance.
    statics: Vec<&'m str>,
    /// The allowed uses of its name met so far (its `class` statement is one).
    uses: usize,
    /// Something hands an instance, or the class, to other code.
    escapes: bool,
}

impl<'m> Indexer<'m, '_> {
    /// Marks the module-level classes of `body` whose instances never leave the
    /// module ([`ClassSummary::confined`](super::ClassSummary)), as far as this file
    /// can tell.
    pub(super) fn confine(&mut self, body: &'m [Stmt]) {
        let mut candidates: HashMap<&'m str, Candidate<'m>> = HashMap::default();
        for stmt in body {
            if let Stmt::ClassDef(def) = stmt
                && is_private(&def.name)
                && let Some(candidate) = self.candidate(def)
            {
                candidates.insert(def.name.as_str(), candidate);
            }
        }
        if candidates.is_empty() || star_import(body) {
            return;
        }
        let mut scan = Scan {
            names: self.names,
            binders: &self.binders,
            candidates,
            locals: HashMap::default(),
            in_frame_reader: false,
            method_of: None,
        };
        scan.functions(body, None);
        let mut counts: HashMap<&str, usize> = scan
            .candidates
            .iter()
            .filter(|(_, c)| !c.escapes)
            .map(|(name, _)| (*name, 0))
            .collect();
        count_names(self.source.source(), &mut counts);
        for (name, candidate) in &scan.candidates {
            if !candidate.escapes && counts.get(name) == Some(&candidate.uses) {
                self.summary.classes[candidate.index].confined = true;
            }
        }
    }

    /// The class `def` as a candidate, when its own shape lets its instances stay in
    /// the module.
    fn candidate(&self, def: &'m ast::StmtClassDef) -> Option<Candidate<'m>> {
        if def
            .arguments
            .as_ref()
            .is_some_and(|a| !a.args.is_empty() || !a.keywords.is_empty())
            || def.type_params.is_some()
        {
            return None;
        }
        let index = self
            .summary
            .classes
            .iter()
            .position(|c| !c.in_function && c.qualname == def.name.as_str())?;
        let mut methods = Vec::new();
        let mut properties = Vec::new();
        let mut statics = Vec::new();
        for stmt in &def.body {
            match stmt {
                Stmt::FunctionDef(f) => {
                    let name = f.name.as_str();
                    if name == "__new__" {
                        return None;
                    }
                    match self.method_kind(f, &properties)? {
                        MethodKind::Property => properties.push(name),
                        MethodKind::Static => {
                            statics.push(name);
                            methods.push(name);
                        }
                        MethodKind::Plain => methods.push(name),
                    }
                }
                Stmt::Pass(_) => {}
                Stmt::Expr(e) if e.value.is_literal_expr() => {}
                Stmt::Assign(a)
                    if a.targets.iter().all(Expr::is_name_expr)
                        && self.is_plain_value(&a.value) => {}
                Stmt::AnnAssign(a)
                    if a.target.is_name_expr()
                        && a.value.as_deref().is_none_or(|v| self.is_plain_value(v)) => {}
                _ => return None,
            }
        }
        Some(Candidate {
            index,
            methods,
            statics,
            uses: 1,
            escapes: false,
        })
    }

    /// A class-level value that runs no code on an instance: a constant, or a
    /// dataclass field.
    fn is_plain_value(&self, value: &Expr) -> bool {
        ruff_python_ast::helpers::is_constant(value)
            || matches!(value, Expr::Call(call)
                if self.resolve(&call.func).as_deref() == Some("dataclasses.field"))
    }

    /// How a method of a candidate gets its first argument; `None` for a decorator that
    /// may do anything with it (`classmethod`, `functools.cache`). `properties` are the
    /// properties defined above it in the body (`@total.setter` must name one).
    fn method_kind(&self, f: &ast::StmtFunctionDef, properties: &[&str]) -> Option<MethodKind> {
        let [decorator] = f.decorator_list.as_slice() else {
            return f.decorator_list.is_empty().then_some(MethodKind::Plain);
        };
        match &decorator.expression {
            Expr::Name(n) if self.names.is_builtin(n.id.as_str(), n.start()) => {
                match n.id.as_str() {
                    "staticmethod" => Some(MethodKind::Static),
                    "property" => Some(MethodKind::Property),
                    _ => None,
                }
            }
            Expr::Attribute(a)
                if matches!(a.attr.as_str(), "setter" | "getter" | "deleter")
                    && matches!(a.value.as_ref(), Expr::Name(n)
                        if properties.contains(&n.id.as_str())) =>
            {
                Some(MethodKind::Property)
            }
            _ => None,
        }
    }
}

/// How a method gets its first argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MethodKind {
    /// The instance it is called on.
    Plain,
    /// Nothing: a `staticmethod`.
    Static,
    /// The instance, through attribute access.
    Property,
}

/// The walk over a file's functions.
struct Scan<'a, 'm> {
    names: &'a Names,
    binders: &'a InnerBinders,
    candidates: HashMap<&'m str, Candidate<'m>>,
    /// In the function being walked: the names holding instances, with their class.
    locals: HashMap<&'m str, &'m str>,
    /// The function being walked reads its own frame's names.
    in_frame_reader: bool,
    /// The candidate the function being walked is a method of.
    method_of: Option<&'m str>,
}

impl<'m> Scan<'_, 'm> {
    /// Walks every function of `body`, at any depth; `class` is the candidate whose
    /// body `body` is, if any.
    fn functions(&mut self, body: &'m [Stmt], class: Option<&'m str>) {
        for stmt in body {
            FunctionFinder { scan: self, class }.visit_stmt(stmt);
        }
    }

    /// Walks one function: `class` is the candidate it is a method of, if any.
    fn function(&mut self, f: &'m ast::StmtFunctionDef, class: Option<&'m str>) {
        self.locals.clear();
        self.in_frame_reader = false;
        self.method_of = class;
        let mut binder = LocalBinder {
            candidates: &self.candidates,
            locals: &mut self.locals,
            clashes: Vec::new(),
            imported: Vec::new(),
            matches: false,
        };
        binder.visit_body(&f.body);
        let LocalBinder {
            clashes,
            imported,
            matches,
            ..
        } = binder;
        // What the rest of the index takes each name to hold: an instance's attribute
        // written through a name it does not type would be a write on an unknown
        // object, which no longer counts against the class.
        let bindings = if self.locals.is_empty() && class.is_none() {
            HashMap::default()
        } else {
            call_bindings(&f.body, self.binders)
        };
        let declared = declarations(&f.body).names;
        let params: Vec<&str> = f.parameters.iter().map(|p| p.name().as_str()).collect();
        // Classes whose instances a name here holds along with something else.
        let mut mixed: Vec<&'m str> = clashes;
        for (name, class) in &self.locals {
            let typed = matches!(bindings.get(name), Some(Binding::Call(callee, _))
                if callee.name().is_some_and(|c| c.segments() == [*class]));
            if !typed
                || declared.contains(name)
                || imported.contains(name)
                || matches
                || params.contains(name)
            {
                mixed.push(class);
            }
        }
        if let Some(class) = class
            && !self.candidates[class].statics.contains(&f.name.as_str())
        {
            let first = f
                .parameters
                .posonlyargs
                .iter()
                .chain(&f.parameters.args)
                .next();
            match first.map(|p| p.parameter.name.as_str()) {
                // `self`, bound only as the method's first parameter.
                Some(name)
                    if !bindings.contains_key(name)
                        && !declared.contains(name)
                        && !imported.contains(&name)
                        && !matches
                        && !self.locals.contains_key(name) =>
                {
                    self.locals.insert(name, class);
                }
                // `def m(*args)`: the instance is in a tuple.
                _ => mixed.push(class),
            }
        }
        for class in mixed {
            self.escape(class);
        }
        self.visit_body(&f.body);
        if self.in_frame_reader {
            let held: Vec<&str> = self.locals.values().copied().collect();
            for class in held {
                self.escape(class);
            }
        }
    }

    fn escape(&mut self, class: &str) {
        if let Some(c) = self.candidates.get_mut(class) {
            c.escapes = true;
        }
    }

    /// `_Name(...)`, a direct call of a candidate, met where it is allowed: its class,
    /// with the use counted (the count is checked against the file's text once the
    /// walk is done) and the call's arguments walked.
    fn construct(&mut self, expr: &'m Expr) -> Option<&'m str> {
        let Expr::Call(call) = expr else {
            return None;
        };
        let Expr::Name(n) = call.func.as_ref() else {
            return None;
        };
        let (&class, _) = self.candidates.get_key_value(n.id.as_str())?;
        if let Some(candidate) = self.candidates.get_mut(class) {
            candidate.uses += 1;
        }
        self.visit_arguments(&call.arguments);
        Some(class)
    }

    /// The class of the instance `expr` is, when it is a local holding one or a
    /// construction (counted as a use of the class, its arguments walked).
    fn instance(&mut self, expr: &'m Expr) -> Option<&'m str> {
        match expr {
            Expr::Name(n) => self.locals.get(n.id.as_str()).copied(),
            _ => self.construct(expr),
        }
    }

    /// Whether `expr` is certainly an instance held here (checked without counting).
    fn holds_instance(&self, expr: &Expr) -> bool {
        matches!(expr, Expr::Name(n) if self.locals.contains_key(n.id.as_str()))
            || matches!(expr, Expr::Call(c) if matches!(c.func.as_ref(),
                Expr::Name(n) if self.candidates.contains_key(n.id.as_str())))
    }

    /// `obj.attr` read on an instance of `class`: no method, no dunder.
    fn reads_data(&self, class: &str, attr: &str) -> bool {
        !is_dunder(attr)
            && self
                .candidates
                .get(class)
                .is_some_and(|c| !c.methods.contains(&attr))
    }

    /// Any mention, in a nested function, class, lambda or comprehension (which `walk`
    /// walks), of a name holding an instance hands the instance on: the nested code
    /// may keep it.
    fn nested(&mut self, walk: impl FnOnce(&mut Mentions<'_, 'm>)) {
        let mut found = Mentions {
            locals: &self.locals,
            classes: Vec::new(),
        };
        walk(&mut found);
        for class in found.classes {
            self.escape(class);
        }
    }
}

impl<'m> Visitor<'m> for Scan<'_, 'm> {
    fn visit_stmt(&mut self, stmt: &'m Stmt) {
        match stmt {
            // Their own walks are separate ([`FunctionFinder`]); here only what they
            // take from this scope counts.
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => self.nested(|m| m.visit_stmt(stmt)),
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                for name in names {
                    if let Some(class) = self.locals.get(name.as_str()).copied() {
                        self.escape(class);
                    }
                }
            }
            Stmt::Assign(a) if matches!(a.targets.as_slice(), [Expr::Name(_)]) => {
                if self.construct(&a.value).is_none() {
                    self.visit_expr(&a.value);
                }
            }
            // `acc += x` may run the other operand's `__radd__` with `acc`.
            Stmt::AugAssign(a) if self.holds_instance(&a.target) => {
                if let Some(class) = self.instance(&a.target) {
                    self.escape(class);
                }
                self.visit_expr(&a.value);
            }
            Stmt::Expr(e) => {
                if self.construct(&e.value).is_none() {
                    self.visit_expr(&e.value);
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'m Expr) {
        match expr {
            Expr::Name(n) => {
                let name = n.id.as_str();
                if n.ctx == ExprContext::Load {
                    if let Some(class) = self.locals.get(name).copied() {
                        self.escape(class);
                    }
                    if FRAME_READERS.contains(&name) {
                        self.in_frame_reader = true;
                    }
                    // `super()` gets the instance from the frame (`super().__init__()`
                    // alone is allowed, in [`Self::call`]).
                    if matches!(name, "super" | "__class__")
                        && let Some(class) = self.method_of
                    {
                        self.escape(class);
                    }
                }
            }
            Expr::Attribute(a) if self.holds_instance(&a.value) => {
                let data = a.ctx != ExprContext::Load;
                if let Some(class) = self.instance(&a.value)
                    && !data
                    && !self.reads_data(class, a.attr.as_str())
                {
                    self.escape(class);
                }
            }
            Expr::Call(call) => self.call(call),
            Expr::Compare(c)
                if c.ops
                    .iter()
                    .all(|op| matches!(op, CmpOp::Is | CmpOp::IsNot)) =>
            {
                for operand in std::iter::once(&*c.left).chain(c.comparators.iter()) {
                    if self.holds_instance(operand) {
                        self.instance(operand);
                    } else {
                        self.visit_expr(operand);
                    }
                }
            }
            Expr::Lambda(_)
            | Expr::ListComp(_)
            | Expr::SetComp(_)
            | Expr::DictComp(_)
            | Expr::Generator(_) => {
                self.nested(|m| m.visit_expr(expr));
                // What they read of the frame is this scope's too.
                visitor::walk_expr(&mut FrameReaders { scan: self }, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

impl<'m> Scan<'_, 'm> {
    /// A call: a method of an instance, an inspecting builtin given one, or
    /// `super().__init__()`; anything else is walked as it is.
    fn call(&mut self, call: &'m ast::ExprCall) {
        match call.func.as_ref() {
            Expr::Attribute(a) if self.holds_instance(&a.value) => {
                if let Some(class) = self.instance(&a.value)
                    && is_dunder(a.attr.as_str())
                {
                    self.escape(class);
                }
                self.visit_arguments(&call.arguments);
            }
            Expr::Attribute(a)
                if a.attr.as_str() == "__init__"
                    && call.arguments.is_empty()
                    && matches!(a.value.as_ref(), Expr::Call(s)
                        if s.arguments.is_empty()
                        && matches!(s.func.as_ref(), Expr::Name(n)
                            if n.id.as_str() == "super" && self.names.is_builtin("super", n.start()))) =>
                {}
            Expr::Name(n)
                if INSPECTING_BUILTINS.contains(&n.id.as_str())
                    && self.names.is_builtin(n.id.as_str(), n.start()) =>
            {
                let only_first = n.id.as_str() == "format";
                for (i, arg) in call.arguments.args.iter().enumerate() {
                    if self.holds_instance(arg) && (i == 0 || !only_first) {
                        self.instance(arg);
                    } else {
                        self.visit_expr(arg);
                    }
                }
                for keyword in &call.arguments.keywords {
                    self.visit_expr(&keyword.value);
                }
            }
            _ => {
                // `vars()` without an argument reads the frame; `vars(x)` is handled by
                // the rest of the index.
                if let Expr::Name(n) = call.func.as_ref()
                    && n.id.as_str() == "vars"
                    && !call.arguments.is_empty()
                {
                    self.visit_arguments(&call.arguments);
                    return;
                }
                self.visit_expr(&call.func);
                self.visit_arguments(&call.arguments);
            }
        }
    }
}

/// Finds the functions of a body, at any depth, and walks each.
struct FunctionFinder<'s, 'a, 'm> {
    scan: &'s mut Scan<'a, 'm>,
    /// The candidate whose body is being read, for its methods.
    class: Option<&'m str>,
}

impl<'m> Visitor<'m> for FunctionFinder<'_, '_, 'm> {
    fn visit_stmt(&mut self, stmt: &'m Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => {
                self.scan.function(f, self.class);
                self.scan.functions(&f.body, None);
            }
            Stmt::ClassDef(c) => {
                let class = self
                    .scan
                    .candidates
                    .get_key_value(c.name.as_str())
                    .map(|(name, _)| *name);
                self.scan.functions(&c.body, class);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    // Only statements hold functions.
    fn visit_expr(&mut self, _: &'m Expr) {}
}

/// Collects the names a function binds to constructions (`acc = _Acc()`); a name bound
/// to two classes clashes.
struct LocalBinder<'s, 'm> {
    candidates: &'s HashMap<&'m str, Candidate<'m>>,
    locals: &'s mut HashMap<&'m str, &'m str>,
    clashes: Vec<&'m str>,
    /// Names imports bind, which the index's bindings do not list.
    imported: Vec<&'m str>,
    /// The function has a `match`, whose patterns bind names the index's bindings do
    /// not list.
    matches: bool,
}

impl<'m> Visitor<'m> for LocalBinder<'_, 'm> {
    fn visit_stmt(&mut self, stmt: &'m Stmt) {
        let (target, value) = match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
            Stmt::Assign(a) => match a.targets.as_slice() {
                [Expr::Name(t)] => (t, &*a.value),
                _ => return visitor::walk_stmt(self, stmt),
            },
            Stmt::Import(i) => {
                self.imported.extend(i.names.iter().map(|a| {
                    let bound = a.asname.as_ref().unwrap_or(&a.name).as_str();
                    bound.split('.').next().unwrap_or(bound)
                }));
                return;
            }
            Stmt::ImportFrom(i) => {
                self.imported.extend(
                    i.names
                        .iter()
                        .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str()),
                );
                return;
            }
            Stmt::Match(_) => {
                self.matches = true;
                return visitor::walk_stmt(self, stmt);
            }
            _ => return visitor::walk_stmt(self, stmt),
        };
        if let Expr::Call(call) = value
            && let Expr::Name(callee) = call.func.as_ref()
            && let Some((class, _)) = self.candidates.get_key_value(callee.id.as_str())
        {
            match self.locals.insert(target.id.as_str(), class) {
                Some(other) if other != *class => self.clashes.extend([other, *class]),
                _ => {}
            }
        }
    }

    fn visit_expr(&mut self, _: &'m Expr) {}
}

/// The classes of the names holding instances that code mentions.
struct Mentions<'s, 'm> {
    locals: &'s HashMap<&'m str, &'m str>,
    classes: Vec<&'m str>,
}

impl<'m> Visitor<'m> for Mentions<'_, 'm> {
    fn visit_expr(&mut self, expr: &'m Expr) {
        if let Expr::Name(n) = expr
            && let Some(class) = self.locals.get(n.id.as_str())
        {
            self.classes.push(class);
        }
        visitor::walk_expr(self, expr);
    }
}

/// Notes a read of the frame's names in a nested scope.
struct FrameReaders<'s, 'a, 'm> {
    scan: &'s mut Scan<'a, 'm>,
}

impl<'m> Visitor<'m> for FrameReaders<'_, '_, 'm> {
    fn visit_expr(&mut self, expr: &'m Expr) {
        if let Expr::Name(n) = expr
            && FRAME_READERS.contains(&n.id.as_str())
        {
            self.scan.in_frame_reader = true;
        }
        visitor::walk_expr(self, expr);
    }
}
