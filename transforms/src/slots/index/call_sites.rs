//! Parameters typed by their callers: a private module-level function
//! (`def _process(filename, args)`) that only its own module calls, each time by a
//! direct call, gets in each unannotated parameter what those calls pass there
//! ([`TypeRef::CallSites`]). The module is the only caller when the name appears in
//! the file nowhere but in its `def` and those calls (no other reference, string or
//! comment that names it), the file has no star import, and no other file reads it
//! through an import (`Callers::private_refs` in its summary) or spells the name in
//! a string (`getattr(cli, "_process")`, in one piece), both checked by the project
//! decision. The leading underscore is the convention that code outside the project
//! does not call it, as for the module-level values the container transforms leave
//! alone.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{self as ast, Expr, Stmt};

use super::bindings::Binding;
use super::exprs::root_name;
use super::summary::line_in;
use super::{Indexer, Receiver};
use crate::slots::types::TypeRef;

/// A private module-level function whose callers are being collected.
pub(super) struct PrivateFunction<'m> {
    def: &'m ast::StmtFunctionDef,
    /// Its direct calls met so far.
    calls: usize,
    /// A call passed what the parameters cannot be matched to (`*args`, `**kwargs`,
    /// an unknown keyword).
    unmatched: bool,
    /// Per positional parameter, what the calls passed there, each once.
    passed: Vec<Vec<Receiver>>,
}

/// Whether `name` is private by convention (one leading underscore, not a dunder).
pub(super) fn is_private(name: &str) -> bool {
    name.starts_with('_') && !crate::syntax::is_dunder(name)
}

/// The positional parameters of `def` (those a call may fill by position).
fn positional(def: &ast::StmtFunctionDef) -> impl Iterator<Item = &ast::ParameterWithDefault> {
    def.parameters
        .posonlyargs
        .iter()
        .chain(def.parameters.args.iter())
}

/// Whether module-level code imports `*` (in an `if`, `try` or other block too): a
/// module's `__all__` may list a private name, which the import then rebinds.
pub(super) fn star_import(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::ImportFrom(i) => i.names.iter().any(|a| a.name.as_str() == "*"),
        Stmt::If(s) => {
            star_import(&s.body) || s.elif_else_clauses.iter().any(|c| star_import(&c.body))
        }
        Stmt::Try(s) => {
            star_import(&s.body)
                || star_import(&s.orelse)
                || star_import(&s.finalbody)
                || s.handlers.iter().any(|h| match h {
                    ast::ExceptHandler::ExceptHandler(h) => star_import(&h.body),
                })
        }
        Stmt::With(s) => star_import(&s.body),
        Stmt::For(s) => star_import(&s.body) || star_import(&s.orelse),
        Stmt::While(s) => star_import(&s.body) || star_import(&s.orelse),
        _ => false,
    })
}

/// The private module-level functions of `body` whose parameters callers may type:
/// plain `def`s bound once (`bindings`), with an unannotated positional parameter.
pub(super) fn candidates<'m>(
    body: &'m [Stmt],
    bindings: &HashMap<&'m str, Binding<'m>>,
) -> HashMap<&'m str, PrivateFunction<'m>> {
    if star_import(body) {
        return HashMap::default();
    }
    body.iter()
        .filter_map(|stmt| match stmt {
            Stmt::FunctionDef(def)
                if is_private(&def.name)
                    && def.decorator_list.is_empty()
                    && matches!(bindings.get(def.name.as_str()), Some(Binding::Function))
                    && positional(def).any(|p| p.parameter.annotation.is_none()) =>
            {
                Some((
                    def.name.as_str(),
                    PrivateFunction {
                        def,
                        calls: 0,
                        unmatched: false,
                        passed: vec![Vec::new(); positional(def).count()],
                    },
                ))
            }
            _ => None,
        })
        .collect()
}

impl<'m> Indexer<'m, '_> {
    /// The type of the unannotated positional parameter at `position` of the
    /// module-level function `def`, when its callers may say it.
    pub(super) fn typed_by_callers(
        &self,
        def: &ast::StmtFunctionDef,
        position: usize,
    ) -> Option<TypeRef> {
        (self.scopes.len() == 1
            && self.private_functions.contains_key(def.name.as_str())
            && position < positional(def).count())
        .then(|| TypeRef::CallSites(Box::new((self.function_dotted(&def.name), position))))
    }

    /// The dotted name of the module-level function `name` of this file.
    fn function_dotted(&self, name: &str) -> String {
        format!("{}.{}", self.summary.module, name)
    }

    /// `call` may be a direct call of a private module-level function being followed:
    /// records what it passes to each positional parameter.
    pub(super) fn private_call(&mut self, call: &'m ast::ExprCall) {
        let Expr::Name(name) = call.func.as_ref() else {
            return;
        };
        let name = name.id.as_str();
        if !self.private_functions.contains_key(name) || !self.is_global(name) {
            return;
        }
        let receivers: Vec<Option<Receiver>> = {
            let Some(f) = self.private_functions.get(name) else {
                return;
            };
            let params: Vec<&ast::ParameterWithDefault> = positional(f.def).collect();
            let mut passed: Vec<Option<&Expr>> = vec![None; params.len()];
            let mut unmatched = call.arguments.args.len() > params.len();
            for (slot, arg) in passed.iter_mut().zip(&call.arguments.args) {
                if arg.is_starred_expr() {
                    unmatched = true;
                }
                *slot = Some(arg);
            }
            for keyword in &call.arguments.keywords {
                match keyword.arg.as_ref().and_then(|k| {
                    params
                        .iter()
                        .position(|p| p.parameter.name.as_str() == k.as_str())
                }) {
                    Some(i) if passed[i].is_none() => passed[i] = Some(&keyword.value),
                    // `**kwargs`, a keyword-only or unknown parameter, or one given twice.
                    _ => unmatched = true,
                }
            }
            if unmatched {
                if let Some(f) = self.private_functions.get_mut(name) {
                    f.unmatched = true;
                }
                return;
            }
            passed
                .iter()
                .zip(&params)
                .map(|(arg, param)| match (arg, param.default.as_deref()) {
                    (Some(arg), _) => Some(self.receiver(arg)),
                    // A `None` default is no instance of a class that can take slots.
                    (None, Some(Expr::NoneLiteral(_))) => Some(Receiver::Definition),
                    (None, Some(_)) => Some(Receiver::Unknown),
                    // The call fails: it passes nothing.
                    (None, None) => None,
                })
                .collect()
        };
        let Some(f) = self.private_functions.get_mut(name) else {
            return;
        };
        f.calls += 1;
        for (list, receiver) in f.passed.iter_mut().zip(receivers) {
            if let Some(receiver) = receiver
                && !list.contains(&receiver)
            {
                list.push(receiver);
            }
        }
    }

    /// Once the file is visited: the functions whose every reference in the file is
    /// its `def` or a direct call met, with what those calls passed. A parameter whose
    /// callers are not all known, or pass something unknown, is unknown: the facts
    /// about it say so again, and count once ([`Indexer::fact`]'s rule).
    pub(super) fn record_call_sites(&mut self) {
        let functions = std::mem::take(&mut self.private_functions);
        let mut named: HashMap<&str, usize> = functions
            .iter()
            .filter(|(_, f)| !f.unmatched && f.calls > 0)
            .map(|(name, _)| (*name, 0))
            .collect();
        count_names(self.source.source(), &mut named);
        let mut unknown: Vec<(String, usize)> = Vec::new();
        for (name, f) in functions {
            let dotted = || self.function_dotted(name);
            if named.get(name) != Some(&(f.calls + 1)) {
                unknown.extend((0..f.passed.len()).map(|p| (dotted(), p)));
                continue;
            }
            unknown.extend(
                f.passed
                    .iter()
                    .enumerate()
                    .filter(|(_, passed)| passed.contains(&Receiver::Unknown))
                    .map(|(p, _)| (dotted(), p)),
            );
            if f.passed
                .iter()
                .any(|passed| !passed.contains(&Receiver::Unknown))
            {
                self.summary
                    .callers
                    .get_or_insert_default()
                    .call_sites
                    .push((name.to_string(), f.passed));
            }
        }
        if !unknown.is_empty() {
            self.forget_call_sites(&unknown);
        }
    }

    /// The facts about the parameters `unknown` (function, position), as about an
    /// object of unknown type: each such fact kept once, with its first line.
    fn forget_call_sites(&mut self, unknown: &[(String, usize)]) {
        let is_unknown = |recv: &Receiver| {
            matches!(recv, Receiver::Typed(members) if matches!(
                members.as_slice(),
                [TypeRef::CallSites(site)] if unknown.iter().any(|u| u.0 == site.0 && u.1 == site.1)
            ))
        };
        let mut facts = std::mem::take(&mut self.summary.facts);
        let mut changed = false;
        for fact in &mut facts {
            if let Some(recv) = fact.receiver_mut()
                && is_unknown(recv)
            {
                *recv = Receiver::Unknown;
                changed = true;
            }
        }
        if !changed {
            self.summary.facts = facts;
            return;
        }
        let lines = std::mem::take(&mut self.summary.fact_lines);
        self.fact_hashes.clear();
        for (index, fact) in facts.into_iter().enumerate() {
            self.keep_fact(fact, |_| line_in(&lines, index));
        }
    }

    /// `expr` (`cli._process`) reads a private name of another module through an
    /// import: recorded for the project decision.
    pub(super) fn private_ref(&mut self, expr: &Expr) {
        let Expr::Attribute(attr) = expr else {
            return;
        };
        if !is_private(attr.attr.as_str()) {
            return;
        }
        // Only through an import: `self._x`, the usual private read, is not one.
        if !root_name(&attr.value).is_some_and(|root| self.summary.imports.contains_key(root)) {
            return;
        }
        if let Some(dotted) = self.resolve(expr) {
            let refs = &mut self.summary.callers.get_or_insert_default().private_refs;
            if !refs.iter().any(|r| r.as_str() == dotted) {
                refs.push(ruff_python_ast::name::Name::new(dotted));
            }
        }
    }
}

impl Indexer<'_, '_> {
    /// A string literal that spells a private name, alone or as the last part of a
    /// dotted one: some code may look the name up by it (`getattr(cli, "_process")`).
    pub(super) fn private_string(&mut self, literal: &ast::ExprStringLiteral) {
        // A name is short and holds no space; most strings are neither. (One spelled
        // in pieces, `"_pro" "cess"`, is computed, as far as this reading goes.)
        if literal.value.is_implicit_concatenated() {
            return;
        }
        let value = literal.value.to_str();
        if value.len() > 200 {
            return;
        }
        let last = value.rsplit('.').next().unwrap_or(value);
        if !is_private(last) || !value.split('.').all(is_identifier) {
            return;
        }
        let strings = &mut self.summary.callers.get_or_insert_default().private_strings;
        if !strings.iter().any(|s| s.as_str() == last) {
            strings.push(ast::name::Name::new(last));
        }
    }
}

/// Whether `word` is a Python identifier (ASCII letters, digits and `_`, or any
/// non-ASCII character, which only ever makes the answer more often yes).
fn is_identifier(word: &str) -> bool {
    !word.is_empty()
        && !word.starts_with(|c: char| c.is_ascii_digit())
        && word.chars().all(crate::syntax::is_identifier_char)
}

/// Counts in `counts` how many times each of its names occurs in `source` as a whole
/// word (in code, strings and comments alike), in one pass. A word is read as far as
/// ASCII letters, digits and `_` go, and one preceded by another character counts: a
/// name next to a non-ASCII letter (`é_f`, `_fé`) may be counted where Python reads
/// another identifier, never missed.
pub(super) fn count_names(source: &str, counts: &mut HashMap<&str, usize>) {
    if counts.is_empty() {
        return;
    }
    let bytes = source.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(found) = memchr::memchr(b'_', &bytes[from..]) {
        let start = from + found;
        let end = start + bytes[start..].iter().take_while(|&&b| is_word(b)).count();
        from = end;
        if start > 0 && is_word(bytes[start - 1]) {
            continue;
        }
        if let Some(count) = source.get(start..end).and_then(|w| counts.get_mut(w)) {
            *count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{count_names, is_identifier};

    #[test]
    fn identifiers_are_told_from_other_words() {
        for word in ["_process", "x1", "é_f"] {
            assert!(is_identifier(word), "{word}");
        }
        for word in ["", "1x", "a b", "a-b"] {
            assert!(!is_identifier(word), "{word}");
        }
    }

    #[test]
    fn only_whole_words_count() {
        let source = "def _f(x):\n    pass\n_f(1)\nx_f = '_f'  # _f\n_fa = a._f\n\u{e9}_f = 1\n";
        let mut counts = [("_f", 0), ("_fa", 0), ("_g", 0)].into_iter().collect();
        count_names(source, &mut counts);
        // `é_f` is another identifier, counted all the same: never fewer.
        assert_eq!(counts["_f"], 6);
        assert_eq!(counts["_fa"], 1);
        assert_eq!(counts["_g"], 0);
    }
}
