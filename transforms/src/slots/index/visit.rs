//! The walk over a file: each statement and expression handed to what records it,
//! and each body visited with the values flowing through it.

use ruff_python_ast::name::UnqualifiedName;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use crate::slots::types::{self, TypeRef};

use super::bindings::{binds_in, rebinds};
use super::confined::is_reflection;
use super::exprs::is_pure;
use super::{Fact, Indexer, Receiver, Scope};

impl<'m> Visitor<'m> for Indexer<'m, '_> {
    fn visit_stmt(&mut self, stmt: &'m Stmt) {
        // A fact's line is its statement's; the rest of an enclosing statement (an
        // `elif` test, a `with` item after a body) is the enclosing one's again.
        let outer = std::mem::replace(&mut self.statement, stmt.start());
        self.visit_stmt_here(stmt);
        self.statement = outer;
    }

    fn visit_body(&mut self, body: &'m [Stmt]) {
        let outer = self.enter_body();
        let narrowed = self.narrowed.len();
        for (i, stmt) in body.iter().enumerate() {
            self.before_stmt(stmt);
            self.visit_stmt(stmt);
            self.after_stmt(stmt);
            self.narrow_after(stmt, &body[i + 1..]);
        }
        self.narrowed.truncate(narrowed);
        self.leave_body(outer);
    }

    fn visit_comprehension(&mut self, comprehension: &'m ast::Comprehension) {
        self.store_target(&comprehension.target, None);
        visitor::walk_comprehension(self, comprehension);
    }

    fn visit_expr(&mut self, expr: &'m Expr) {
        match expr {
            Expr::Call(call) => {
                self.private_call(call);
                self.call(call);
            }
            Expr::Attribute(attr) if attr.attr.as_str() == "__dict__" => {
                let recv = self.receiver(&attr.value);
                self.dunder_dict(recv);
            }
            Expr::Attribute(attr)
                if attr.attr.as_str() == "__slots__" && attr.ctx == ExprContext::Load =>
            {
                let recv = self.receiver(&attr.value);
                self.slots_lookup(recv);
            }
            Expr::Attribute(attr) if attr.attr.starts_with('_') => self.private_ref(expr),
            Expr::Attribute(a) if is_reflection(a.attr.as_str()) => self.summary.reflects = true,
            Expr::Name(n) if is_reflection(n.id.as_str()) => self.summary.reflects = true,
            Expr::StringLiteral(literal) => {
                self.private_string(literal);
                // `getattr(frame, "f_locals")`.
                if !literal.value.is_implicit_concatenated()
                    && is_reflection(literal.value.to_str())
                {
                    self.summary.reflects = true;
                }
            }
            Expr::Name(n) if n.id.as_str() == "__class__" && n.ctx == ExprContext::Load => {
                if let Some(c) = self.current_method_class() {
                    self.summary.classes[c].zero_arg_super = true;
                }
            }
            // A generator returns a generator, whatever its `return`s say.
            Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Await(_) => {
                if let Some(f) = self.functions.last_mut() {
                    f.types = None;
                    f.declared = None;
                }
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

impl<'m> Indexer<'m, '_> {
    /// What [`Visitor::visit_stmt`] does with a statement.
    fn visit_stmt_here(&mut self, stmt: &'m Stmt) {
        match stmt {
            Stmt::ClassDef(def) => {
                self.visit_class(def);
            }
            Stmt::FunctionDef(def) => self.visit_function_def(def),
            Stmt::Assign(assign) => {
                self.assign(assign);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Return(ret) => {
                let value = match &ret.value {
                    Some(v) => self.value_type(v),
                    None => Some(Vec::new()),
                };
                self.returned(value);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test);
                self.visit_narrowed(&w.test, &w.body);
                self.visit_body(&w.orelse);
            }
            Stmt::If(if_stmt) => self.visit_if(if_stmt),
            Stmt::Delete(delete) => {
                // `del Cls.x` removes a slot descriptor like `Cls.x = ...` replaces it.
                for target in &delete.targets {
                    if let Expr::Attribute(attr) = target {
                        let recv = self.receiver(&attr.value);
                        if matches!(recv, Receiver::ClassOf(_) | Receiver::Global(_)) {
                            self.attr_write(recv, attr.attr.as_str());
                        }
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AugAssign(assign) => {
                // `x.attr += 1` reads `x.attr` of the same object before writing it.
                match assign.target.as_ref() {
                    Expr::Attribute(a) => {
                        let recv = self.receiver(&a.value);
                        if recv.may_be_unknown() {
                            self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
                        } else {
                            self.attr_write(recv, a.attr.as_str());
                        }
                    }
                    target => self.store_target(target, None),
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(assign) => {
                // `self.x: Point = ...` declares what `x` holds.
                let value = self.annotation(&assign.annotation);
                self.store_target(&assign.target, value);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::For(f) => {
                self.store_target(&f.target, None);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(vars) = &item.optional_vars {
                        self.store_target(vars, None);
                    }
                }
                // `with patch("mod.Popen") as popen: popen.return_value.wait.return_value
                // = 0`: before anything else runs, every attribute of a new mock is
                // another mock it makes, never a project instance.
                if let Some(Stmt::Assign(first)) = w.body.first()
                    && let [Expr::Attribute(a)] = first.targets.as_slice()
                    && is_pure(&first.value)
                    && let Some(root) = UnqualifiedName::from_expr(&a.value)
                        .and_then(|chain| chain.segments().first().copied())
                    && w.items.iter().any(|item| self.is_fresh_mock(item, root))
                {
                    for item in &w.items {
                        self.visit_with_item(item);
                    }
                    self.visit_expr(&first.value);
                    self.visit_body(&w.body[1..]);
                    return;
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }
}

impl<'m> Indexer<'m, '_> {
    /// A function: its decorators, what its parameters are, its signature when it is
    /// a module-level function, then its body.
    fn visit_function_def(&mut self, def: &'m ast::StmtFunctionDef) {
        for dec in &def.decorator_list {
            self.visit_decorator(dec);
        }
        // `@pass_context def cli(ctx)`: the innermost decorator (applied to
        // the function itself) may say what it passes first.
        let passed_by = match def.decorator_list.last().map(|d| &d.expression) {
            Some(e @ (Expr::Name(_) | Expr::Attribute(_))) => {
                self.resolve(e).filter(|d| !d.starts_with("builtins."))
            }
            _ => None,
        };
        // Or, for a private module-level function, what its module's calls pass.
        let by_callers: Vec<Option<TypeRef>> = if self.private_functions.is_empty() {
            Vec::new()
        } else {
            (0..def.parameters.len())
                .map(|position| self.typed_by_callers(def, position))
                .collect()
        };
        let inferred = |position: usize, _: &str| {
            (position == 0)
                .then(|| passed_by.clone().map(TypeRef::PassedBy))
                .flatten()
                .or_else(|| by_callers.get(position).cloned().flatten())
        };
        let locals = self.function_locals(def, &inferred);
        if self.scopes.len() == 1 {
            let overload = def.decorator_list.iter().any(|d| {
                self.resolve(&d.expression)
                    .as_deref()
                    .and_then(types::typing_name)
                    == Some("overload")
            });
            if overload || def.decorator_list.is_empty() {
                let signature = self.signature(def, overload);
                self.summary
                    .signatures
                    .entry(def.name.to_string())
                    .or_default()
                    .push(signature);
            }
            if let Some(members) = self.passes_first(def) {
                self.summary
                    .passes_first
                    .insert(def.name.to_string(), members);
            }
        }
        // A nested function keeps the enclosing method's `self` unless it
        // rebinds the name.
        let (self_name, cls_name) = match self.scopes.last() {
            Some(Scope::Function {
                self_name,
                cls_name,
                ..
            }) => (
                self_name
                    .clone()
                    .filter(|(n, _)| !locals.contains_key(n.as_str())),
                cls_name
                    .clone()
                    .filter(|(n, _)| !locals.contains_key(n.as_str())),
            ),
            _ => (None, None),
        };
        // Only module-level functions are recorded: a nested one is a new
        // object per call, looked up by no dotted name.
        let key =
            (self.scopes.len() == 1 && def.decorator_list.is_empty()).then(|| def.name.to_string());
        self.visit_function_body(def, self_name, cls_name, locals, key);
    }

    /// `target = value`: what each target now holds, and a write on the object of an
    /// attribute target (the statement's expressions are visited after).
    fn assign(&mut self, assign: &'m ast::StmtAssign) {
        // `def f(): ...` then `f.__name__ = name`: a function object.
        if let [Expr::Attribute(a)] = assign.targets.as_slice()
            && self.function_writes.contains(&a.start())
        {
            self.attr_write(Receiver::Definition, a.attr.as_str());
            return;
        }
        // `ctx.obj = Foo()` then `ctx.obj.title = "t"`: a write on the `Foo`.
        if let [Expr::Attribute(a)] = assign.targets.as_slice()
            && let Some(recv) = self.just_stored(&a.value, &assign.value)
        {
            let value = self.value_shape(&assign.value);
            self.attr_write_typed(recv, a.attr.as_str(), value);
            return;
        }
        // `x.attr = f(x.attr)`: the value reads the attribute first.
        if let [Expr::Attribute(a)] = assign.targets.as_slice()
            && self.guarded_by(&a.value, a.attr.as_str(), &assign.value)
        {
            let recv = self.receiver(&a.value);
            self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
            return;
        }
        // `rest, ctx.args = ctx.args, []`: the whole value is evaluated before
        // any target is assigned, so its reads come first.
        let unpacked = match assign.targets.as_slice() {
            [Expr::Tuple(t)] => Some(&t.elts),
            [Expr::List(l)] => Some(&l.elts),
            _ => None,
        };
        if let Some(elts) = unpacked {
            self.store_unpacked(elts, &assign.value);
            return;
        }
        let value = match assign.targets.as_slice() {
            [_] => self.value_shape(&assign.value),
            _ => None,
        };
        for target in &assign.targets {
            self.store_target(target, value.clone());
        }
    }

    /// `if`: the test, then each clause with the `isinstance` narrowing its test gives
    /// and the exclusion the tests before it give.
    fn visit_if(&mut self, if_stmt: &'m ast::StmtIf) {
        self.visit_expr(&if_stmt.test);
        self.visit_narrowed(&if_stmt.test, &if_stmt.body);
        // `if isinstance(x, A): ... else: ...`: in the other clauses, `x` is no `A`.
        let excluded = self.isinstance_test(&if_stmt.test);
        for clause in &if_stmt.elif_else_clauses {
            let pushed = match &excluded {
                Some((name, members))
                    if !rebinds(&clause.body, name)
                        && !clause.test.as_ref().is_some_and(|t| binds_in(t, name)) =>
                {
                    let classes = members
                        .iter()
                        .filter_map(|m| match m {
                            TypeRef::Of(d) => Some(d.clone()),
                            _ => None,
                        })
                        .collect();
                    self.excluded
                        .push((self.scopes.len(), name.clone(), classes));
                    true
                }
                _ => false,
            };
            match &clause.test {
                Some(test) => {
                    self.visit_expr(test);
                    self.visit_narrowed(test, &clause.body);
                }
                None => self.visit_body(&clause.body),
            }
            if pushed {
                self.excluded.pop();
            }
        }
    }
}
