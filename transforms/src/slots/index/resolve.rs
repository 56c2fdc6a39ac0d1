//! What a name means where the indexer is: a global name or attribute chain resolved
//! to an absolute dotted name (through nested classes, the file's imports, its
//! module-level names or the builtins), or the binding of a local one.

use ruff_python_ast::Expr;
use ruff_python_ast::helpers::map_subscript;
use ruff_python_ast::name::UnqualifiedName;
use ruff_text_size::Ranged;

use crate::semantic;

use super::bindings::Binding;
use super::{Indexer, Receiver, Ref, Scope};

impl<'m> Indexer<'m, '_> {
    /// Resolves a global name or attribute chain to an absolute dotted name.
    pub(super) fn resolve(&self, expr: &Expr) -> Option<String> {
        let name = UnqualifiedName::from_expr(expr)?;
        let segments = name.segments();
        let (first, rest) = segments.split_first()?;
        if !self.is_global(first) {
            return None;
        }
        // Built in one allocation, sized for the whole name: this runs for nearly
        // every call and name of a file.
        let rest_len: usize = rest.iter().map(|s| s.len() + 1).sum();
        if self.names.may_be_builtin(first, expr.start())
            && !self.summary.imports.contains_key(*first)
            && !self.in_nested_class(first)
        {
            return Some(joined(&["builtins", first], rest, rest_len));
        }
        self.resolve_root_with(first, rest, rest_len)
    }

    fn resolve_root(&self, first: &str) -> Option<String> {
        self.resolve_root_with(first, &[], 0)
    }

    /// [`Self::resolve_root`] of `first`, then `.` and each of `rest` (`rest_len`:
    /// their length with the dots).
    fn resolve_root_with(&self, first: &str, rest: &[&str], rest_len: usize) -> Option<String> {
        for scope in self.scopes.iter().rev() {
            if let Scope::Class { nested, .. } = scope
                && let Some(q) = nested.get(first)
            {
                return Some(joined(&[&self.summary.module, q], rest, rest_len));
            }
        }
        if let Some(target) = self.summary.imports.get(first) {
            return Some(joined(&[target], rest, rest_len));
        }
        if self.module_names.contains(first) {
            return Some(joined(&[&self.summary.module, first], rest, rest_len));
        }
        // Possibly the builtin (a star import does not rule it out): an analysis that
        // must not miss `vars(self)` or `setattr(self, ...)` takes it for one.
        if semantic::is_builtin_name(first) && !self.names.bound_at_module(first) {
            return Some(joined(&["builtins", first], rest, rest_len));
        }
        None
    }

    /// Whether an enclosing class body defines a nested class of this name.
    fn in_nested_class(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| matches!(s, Scope::Class { nested } if nested.contains_key(name)))
    }

    pub(super) fn to_ref(&self, expr: &Expr) -> Ref {
        let expr = map_subscript(expr);
        match self.resolve(expr) {
            Some(d) => Ref::Dotted(d),
            // A module-level name the file does not bind, after `from .reader import *`:
            // the module's own name for it, which the project decision looks up in
            // the star-imported modules (a base that is a project class is one).
            None if !self.summary.star_imports.is_empty()
                && let Expr::Name(n) = expr
                && self.is_global(n.id.as_str()) =>
            {
                Ref::Dotted(format!("{}.{}", self.summary.module, n.id))
            }
            None => Ref::Unresolved(self.source.source()[expr.range()].to_string()),
        }
    }

    pub(super) fn is_global(&self, name: &str) -> bool {
        for scope in self.scopes.iter().rev() {
            if let Scope::Function { locals, .. } = scope
                && locals.contains_key(name)
            {
                return false;
            }
        }
        true
    }

    /// Whether `name` is bound, in the innermost function that binds it, only by a
    /// `class` statement without bases or keywords.
    pub(super) fn is_local_bare_class(&self, name: &str) -> bool {
        for scope in self.scopes.iter().rev() {
            match scope {
                Scope::Function { locals, .. } => {
                    if let Some(binding) = locals.get(name) {
                        return matches!(binding, Binding::Class { bare: true });
                    }
                }
                Scope::Module { .. } => return false,
                Scope::Class { .. } => {}
            }
        }
        false
    }

    /// The class a callee written as `cls` or `self.__class__` is, in a method.
    pub(super) fn own_class_callee(&self, callee: &[&str]) -> Option<usize> {
        let (first, rest) = match callee {
            [first] => (*first, ""),
            [first, rest] => (*first, *rest),
            _ => return None,
        };
        // Only the innermost function: a nested one keeps `self` unless it rebinds it.
        match self.scopes.last()? {
            Scope::Function {
                self_name,
                cls_name,
                ..
            } => match (self_name, cls_name) {
                (Some((n, c)), _) if n == first && rest == "__class__" => Some(*c),
                (_, Some((n, c))) if n == first && rest.is_empty() => Some(*c),
                _ => None,
            },
            _ => None,
        }
    }

    /// The nearest binding of a local or module-level name, and whether it is in the
    /// scope being visited.
    pub(super) fn binding_of(&self, name: &str) -> Option<(&Binding<'m>, bool)> {
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            let binding = match scope {
                Scope::Function { locals, .. } => locals.get(name),
                Scope::Module { calls } => calls.get(name),
                Scope::Class { .. } => None,
            };
            if let Some(binding) = binding {
                return Some((binding, i + 1 == self.scopes.len()));
            }
        }
        None
    }

    /// The absolute dotted name of this file's class `c`.
    pub(super) fn class_dotted(&self, c: usize) -> String {
        self.dotted[c].clone()
    }

    pub(super) fn instance_of(&self, callee: &[&str]) -> Receiver {
        let found = match callee {
            [] => None,
            [first] => self.resolve_root(first),
            [first, rest @ ..] => {
                let rest_len = rest.iter().map(|s| s.len() + 1).sum();
                self.resolve_root_with(first, rest, rest_len)
            }
        };
        found.map_or(Receiver::Unknown, |d| Receiver::Instance(d.into()))
    }

    pub(super) fn current_method_class(&self) -> Option<usize> {
        self.scopes.iter().rev().find_map(|s| match s {
            Scope::Function { self_name, .. } => self_name.as_ref().map(|(_, c)| *c),
            _ => None,
        })
    }
}

/// `head` then `rest`, joined with dots, in one allocation (`rest_len`: the length of
/// `rest` with a dot before each).
fn joined(head: &[&str], rest: &[&str], rest_len: usize) -> String {
    let head_len: usize = head.iter().map(|s| s.len() + 1).sum();
    let mut out = String::with_capacity(head_len + rest_len);
    for (i, part) in head.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(part);
    }
    for part in rest {
        out.push('.');
        out.push_str(part);
    }
    out
}
