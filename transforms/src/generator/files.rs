//! `for line in f.readlines():` → `for line in f:` where `f` is provably a file object.
//!
//! `readlines()` reads the whole file into a list first; iterating the file reads it in
//! chunks while the loop runs. That changes behaviour when anything else touches the
//! file in between, so `f` must be used nowhere in the loop, only as a method receiver
//! before it, and only closed after it (after a `break`, the position differs: the list
//! version has read to the end, the iterator has not).

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::effects::{Hazard, body_suspension};
use super::index::ForCandidate;
use super::{Checker, NAME};
use crate::{Avoided, Edit, Finding, Fix, PerUnit, Saving, Subject};

/// `errors=` handlers that never raise on bad input.
const LENIENT_ERRORS: &[&str] = &["ignore", "replace", "surrogateescape", "backslashreplace"];

pub(super) fn check_readlines(
    checker: &mut Checker<'_, '_, '_>,
    candidate: &ForCandidate,
    call: &ast::ExprCall,
) {
    let stmt = candidate.stmt;
    let Expr::Attribute(attr) = call.func.as_ref() else {
        return;
    };
    let Expr::Name(file) = attr.value.as_ref() else {
        return;
    };
    let name = file.id.as_str();
    let index = checker.index;
    let Some(binding) = index
        .opens
        .iter()
        .find(|o| o.scope == candidate.scope && o.name == name)
    else {
        // Not provably a file: nothing to say about it.
        return;
    };
    let opens_builtin = match binding.call.func.as_ref() {
        Expr::Name(_) => !index.is_shadowed("open"),
        Expr::Attribute(a) => match a.value.as_ref() {
            Expr::Name(m) => index.is_plain_module(m.id.as_str()),
            _ => false,
        },
        _ => false,
    };
    if !opens_builtin {
        return;
    }
    if stmt.is_async {
        return;
    }
    if !call.arguments.is_empty() {
        checker.note(
            call.range(),
            format!(
                "`{name}.readlines()` with a size hint reads only part of the file: left alone"
            ),
        );
        return;
    }
    if binding.call.start() > stmt.start() {
        checker.note(
            stmt.iter.range(),
            format!("`{name}` is opened after this loop in the source, so the loop may see another value"),
        );
        return;
    }
    if index.scopes[candidate.scope]
        .bindings
        .get(name)
        .copied()
        .unwrap_or(0)
        != 1
    {
        checker.note(
            stmt.iter.range(),
            format!("`{name}` is bound more than once in this scope, so it may not be the file opened here"),
        );
        return;
    }
    let mut uses = FileUses {
        name,
        readlines_at: file.start(),
        loop_range: stmt.range(),
        problem: None,
        nested: 0,
    };
    for s in index.scopes[candidate.scope].body {
        uses.visit_stmt(s);
    }
    if let Some(problem) = uses.problem {
        checker.note(stmt.iter.range(), problem);
        return;
    }
    // Deleting `.readlines()` must leave `f`: refuse unusual spellings
    // (`(f).readlines()`, comments or line breaks inside).
    let tail = TextRange::new(file.end(), call.end());
    if &checker.source()[tail] != ".readlines()" {
        return;
    }

    // Only code outside the loop can touch the file between two lines (the loop's own
    // uses were refused above), and it runs only where the body yields or awaits.
    let reason = match body_suspension(&stmt.body) {
        Some(suspension) => Some(format!(
            "{}; the file is now read between the items",
            Hazard::Suspends(suspension)
        )),
        None if !reads_without_decoding_errors(binding.call) => Some(
            "a decoding error in a later line would now surface after the loop body handled the earlier lines (readlines() raised before the loop); open the file in binary mode or with errors=\"replace\" to make this safe"
                .to_string(),
        ),
        None => None,
    };
    let gain = "the file is read in chunks as the loop runs instead of holding every line in a list: peak memory O(file size) → O(longest line)";
    let edit = Edit::range_deletion(tail);
    let (message, fix) = match reason {
        None => (
            format!("`{name}.readlines()` → `{name}`: {gain}"),
            Fix::safe_edit(edit),
        ),
        Some(reason) => (
            format!("`{name}.readlines()` → `{name}`: {gain}; unsafe: {reason}"),
            Fix::unsafe_edit(edit),
        ),
    };
    checker.output.findings.push(Finding {
        transform: NAME,
        range: stmt.iter.range(),
        message,
        fix,
        saving: Saving {
            subject: Subject::Transient {
                range: call.range(),
            },
            per_unit: PerUnit::Generator {
                avoided: Avoided::ListAndItems,
            },
        },
    });
}

/// Binary mode, or text with an `errors=` handler that never raises.
fn reads_without_decoding_errors(open: &ast::ExprCall) -> bool {
    let args = &open.arguments;
    if args.args.iter().any(Expr::is_starred_expr) || args.keywords.iter().any(|k| k.arg.is_none())
    {
        return false;
    }
    let constant = |position: usize, keyword: &str| -> Option<&str> {
        let value = args.args.get(position).or_else(|| {
            args.keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == keyword))
                .map(|k| &k.value)
        })?;
        match value {
            Expr::StringLiteral(s) => Some(s.value.to_str()),
            _ => None,
        }
    };
    constant(1, "mode").is_some_and(|m| m.contains('b'))
        || constant(4, "errors").is_some_and(|e| LENIENT_ERRORS.contains(&e))
}

/// Checks every use of the file name in its scope (nested scopes included: a closure
/// could read the file at any time).
struct FileUses<'n> {
    name: &'n str,
    readlines_at: TextSize,
    loop_range: TextRange,
    problem: Option<String>,
    /// Inside a nested function, lambda or class body, which may run at any time.
    nested: u32,
}

impl FileUses<'_> {
    fn found(&mut self, at: TextSize, method: Option<&str>) {
        if self.problem.is_some() || at == self.readlines_at {
            return;
        }
        let name = self.name;
        if self.nested > 0 {
            self.problem = Some(format!(
                "`{name}` is used in a nested function, which may read the file while the loop runs"
            ));
        } else if self.loop_range.contains(at) {
            self.problem = Some(format!(
                "the loop uses `{name}`: iterating the file lazily would change what it reads"
            ));
        } else if at < self.loop_range.start() {
            if method.is_none() {
                self.problem = Some(format!(
                    "`{name}` is passed around before the loop, so something else may read the file while the loop runs"
                ));
            }
        } else if method != Some("close") {
            self.problem = Some(format!(
                "`{name}` is used after the loop, where the file position would differ"
            ));
        }
    }
}

impl<'a> Visitor<'a> for FileUses<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
            self.nested += 1;
            walk_stmt(self, stmt);
            self.nested -= 1;
        } else {
            walk_stmt(self, stmt);
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Lambda(_) => {
                self.nested += 1;
                walk_expr(self, expr);
                self.nested -= 1;
                return;
            }
            Expr::Call(call) => {
                if let Expr::Attribute(a) = call.func.as_ref()
                    && let Expr::Name(n) = a.value.as_ref()
                    && n.id.as_str() == self.name
                {
                    self.found(n.start(), Some(a.attr.as_str()));
                    self.visit_arguments(&call.arguments);
                    return;
                }
            }
            Expr::Name(n) if n.id.as_str() == self.name && n.ctx == ExprContext::Load => {
                self.found(n.start(), None);
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}
