//! What the statements visited so far say about a name where the visit is: the value
//! straight-line code last assigned it, and the `isinstance` checks of the branch
//! being visited.

use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::slots::types::TypeRef;

use super::bindings::{binds_in, rebinds, rebound_names};
use super::exprs::read_attributes;
use super::{Fact, Indexer};

impl<'m> Indexer<'m, '_> {
    /// Starts visiting a body: gives the statement before the one that holds it.
    pub(super) fn enter_body(&mut self) -> Option<&'m Stmt> {
        self.flow.push(Vec::new());
        self.previous.take()
    }

    /// Ends visiting a body, with what [`Self::enter_body`] gave.
    pub(super) fn leave_body(&mut self, outer: Option<&'m Stmt>) {
        self.flow.pop();
        self.previous = outer;
    }

    /// Before a statement of a body: what it binds anywhere inside no longer holds an
    /// earlier value, in it or after it.
    pub(super) fn before_stmt(&mut self, stmt: &'m Stmt) {
        // Most statements follow no value worth forgetting: spared the walk.
        if !self.flow.iter().flatten().any(|(_, value)| value.is_some()) {
            return;
        }
        match rebound_names(stmt, &self.binders) {
            Some(mut names) => {
                // A name that holds no value looks up as none with or without an entry
                // saying so (an entry only hides earlier ones, and the frames before it
                // do not change while it lives). Recording one for every name every
                // statement binds made each later statement's scan of the flow longer.
                names.retain(|n| self.latest_value(n).is_some());
                if let Some(current) = self.flow.last_mut() {
                    current.extend(names.into_iter().map(|n| (n, None)));
                }
            }
            // It may bind anything (`from m import *`, `match`): forget every value.
            None => {
                for entry in self.flow.iter_mut().flatten() {
                    entry.1 = None;
                }
            }
        }
    }

    /// After a statement of a body: `name = value` holds until something rebinds it.
    pub(super) fn after_stmt(&mut self, stmt: &'m Stmt) {
        if let Stmt::Assign(assign) = stmt
            && let [Expr::Name(name)] = assign.targets.as_slice()
            && matches!(
                assign.value.as_ref(),
                Expr::Attribute(_) | Expr::Subscript(_) | Expr::Name(_) | Expr::Call(_)
            )
            && let Some(current) = self.flow.last_mut()
        {
            current.push((name.id.as_str(), Some(&assign.value)));
        }
        self.previous = Some(stmt);
    }

    /// The value `name` was last assigned in the straight-line code before the
    /// statement being visited (`sub_ctx = cmd.make_context(...)`), when nothing
    /// rebinds it in between.
    pub(super) fn flow_value(&self, name: &str) -> Option<&'m Expr> {
        if self.no_flow.get() {
            return None;
        }
        self.latest_value(name)
    }

    /// The value the flow's latest entry for `name` gives, innermost body first.
    fn latest_value(&self, name: &str) -> Option<&'m Expr> {
        for body in self.flow.iter().rev() {
            if let Some((_, value)) = body.iter().rev().find(|(n, _)| *n == name) {
                return *value;
            }
        }
        None
    }

    /// Visits an `if` branch with what the `isinstance(name, ...)` checks in its test
    /// say about their names (when the branch does not rebind them).
    pub(super) fn visit_narrowed(&mut self, test: &Expr, body: &'m [Stmt]) {
        let narrowed: Vec<(String, Vec<TypeRef>)> = self
            .isinstance_tests(test)
            .into_iter()
            .filter(|(name, _)| !rebinds(body, name))
            .collect();
        let outer_narrowed = self.narrowed.len();
        for (name, members) in narrowed {
            self.narrowed.push((self.scopes.len(), name, members));
        }
        // `name.attr` read by the test: until the body rebinds `name`, a write of
        // `name.attr` at the top of the body is on an object that has `attr`.
        let mut guards = read_attributes(test);
        let outer = self.enter_body();
        let outer_statement = self.statement;
        for (i, stmt) in body.iter().enumerate() {
            // A guarded write is recorded here, not by `visit_stmt`: its line.
            self.statement = stmt.start();
            self.before_stmt(stmt);
            match stmt {
                Stmt::Assign(assign) if !guards.is_empty() => {
                    if let [Expr::Attribute(a)] = assign.targets.as_slice()
                        && let Expr::Name(n) = a.value.as_ref()
                        && guards.contains(&(n.id.as_str(), a.attr.as_str()))
                        && let recv = self.receiver(&a.value)
                        && recv.may_be_unknown()
                    {
                        self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
                        self.visit_expr(&assign.value);
                    } else {
                        self.visit_stmt(stmt);
                    }
                }
                _ => self.visit_stmt(stmt),
            }
            self.after_stmt(stmt);
            self.narrow_after(stmt, &body[i + 1..]);
            guards.retain(|(name, _)| !rebinds(std::slice::from_ref(stmt), name));
        }
        self.statement = outer_statement;
        self.leave_body(outer);
        self.narrowed.truncate(outer_narrowed);
    }

    /// After a guard clause, `if not isinstance(name, Cls): raise ...` (or `return`,
    /// `continue`, `break`), the rest of its body (`rest`) runs only with a `name` that
    /// is a `Cls`: narrowed there, until the body ends, when `rest` never rebinds it.
    /// The check may be any operand of an `or` chain (`if not isinstance(x, A) or not
    /// x.ready:`): past the clause every operand was false. The clause must have no
    /// `elif`/`else` and end in the statement that leaves, so that falling through it
    /// is impossible. An `assert isinstance(...)` is no guard: `python -O` drops it.
    pub(super) fn narrow_after(&mut self, stmt: &Stmt, rest: &[Stmt]) {
        let Stmt::If(guard) = stmt else { return };
        if !guard.elif_else_clauses.is_empty()
            || !matches!(
                guard.body.last(),
                Some(Stmt::Raise(_) | Stmt::Return(_) | Stmt::Continue(_) | Stmt::Break(_))
            )
        {
            return;
        }
        let operands: Vec<&Expr> = match guard.test.as_ref() {
            Expr::BoolOp(b) if b.op == ast::BoolOp::Or => b.values.iter().collect(),
            other => vec![other],
        };
        for operand in operands {
            let Expr::UnaryOp(not) = operand else {
                continue;
            };
            if not.op == ast::UnaryOp::Not
                && let Some((name, members)) = self.isinstance_test(&not.operand)
                && !binds_in(&guard.test, &name)
                && !rebinds(rest, &name)
            {
                self.narrowed.push((self.scopes.len(), name, members));
            }
        }
    }

    /// The `isinstance(name, Cls)` or `isinstance(name, (A, B))` checks a test makes
    /// when it is true: the test itself or any operand of its `and` chain (the body
    /// runs only when every operand was true, `x is not None and isinstance(x, A)`
    /// included). A name the test binds with `:=` is left out: the check may have
    /// been made on its previous value.
    fn isinstance_tests(&self, test: &Expr) -> Vec<(String, Vec<TypeRef>)> {
        let operands: Vec<&Expr> = match test {
            Expr::BoolOp(b) if b.op == ast::BoolOp::And => b.values.iter().collect(),
            other => vec![other],
        };
        let mut out: Vec<(String, Vec<TypeRef>)> = Vec::new();
        for operand in operands {
            if let Some((name, members)) = self.isinstance_test(operand)
                && !binds_in(test, &name)
                && !out.iter().any(|(n, _)| *n == name)
            {
                out.push((name, members));
            }
        }
        out
    }

    /// `isinstance(name, Cls)` or `isinstance(name, (A, B))`: the name and the classes.
    pub(super) fn isinstance_test(&self, test: &Expr) -> Option<(String, Vec<TypeRef>)> {
        let Expr::Call(call) = test else { return None };
        if self.resolve(&call.func).as_deref() != Some("builtins.isinstance")
            || !call.arguments.keywords.is_empty()
        {
            return None;
        }
        let [Expr::Name(name), classes] = &*call.arguments.args else {
            return None;
        };
        let classes: Vec<&Expr> = match classes {
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        let members = classes
            .into_iter()
            .map(|c| self.resolve(c).map(TypeRef::Of))
            .collect::<Option<Vec<_>>>()?;
        Some((name.id.to_string(), members))
    }
}
