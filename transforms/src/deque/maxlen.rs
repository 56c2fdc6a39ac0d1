//! `deque(maxlen=k)` for a list trimmed by hand at every append:
//!
//! ```python
//! recent = []
//! for x in items:
//!     recent.append(x)
//!     if len(recent) > 10:
//!         recent.pop(0)
//! ```
//!
//! A deque with `maxlen` drops from the left when an append would exceed the bound,
//! which is what the trimming statement does, so the statement goes and the
//! constructor gets the bound. That holds only when every append is paired with a
//! trim right beside it, nothing else grows the list, and every pairing implies the
//! same bound; otherwise the plain queue rewrite applies.

use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, walk_body};
use ruff_python_ast::{CmpOp, Expr, ExprCall, Number, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::FxHashMap;

use super::is_zero;
use crate::bindings::{ScopeKind, Tracked, UseKind};

/// A list whose trimming statements can become `maxlen`.
pub(super) struct Trimming<'a> {
    /// The bound every trimming statement implies.
    pub(super) maxlen: u64,
    /// The trimming statements, to delete.
    pub(super) statements: Vec<&'a Stmt>,
}

/// The append statements of one function that have a trimming statement right beside
/// them, for every name at once: a function with many lists is walked once, not once
/// per list.
#[derive(Default)]
pub(super) struct FunctionPairs<'a> {
    by_function: FxHashMap<TextRange, FxHashMap<&'a str, Vec<Pair<'a>>>>,
}

/// The append call, the bound the pairing implies, the trimming statement.
type Pair<'a> = (TextRange, u64, &'a Stmt);

impl<'a> FunctionPairs<'a> {
    /// The pairs of `name` in `function`.
    fn of(&mut self, function: &'a StmtFunctionDef, name: &str) -> &[Pair<'a>] {
        let pairs = self.by_function.entry(function.range()).or_insert_with(|| {
            let mut pairs = Pairs::default();
            pairs.visit_body(&function.body);
            pairs.found
        });
        pairs.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The `maxlen` rewrite for `tracked`, when it is proven equivalent; `len_is_builtin`
/// says the file never rebinds `len`.
pub(super) fn find<'a>(
    tracked: &Tracked<'a>,
    len_is_builtin: bool,
    pairs: &mut FunctionPairs<'a>,
) -> Option<Trimming<'a>> {
    let ScopeKind::Function(function) = tracked.scope else {
        return None;
    };
    if !len_is_builtin {
        return None;
    }
    let empty = match tracked.value {
        Expr::List(list) => list.elts.is_empty(),
        Expr::Call(call) => call.arguments.is_empty(),
        _ => false,
    };
    if !empty {
        return None;
    }
    let mut appends = Vec::new();
    for u in &tracked.uses {
        match &u.kind {
            UseKind::Method {
                name: "append",
                call,
            } => appends.push(call.range()),
            // Other ways to grow the list would need their own trim.
            UseKind::Method {
                name: "extend" | "insert",
                ..
            }
            | UseKind::AugAssign { .. } => return None,
            _ => {}
        }
    }
    if appends.is_empty() {
        return None;
    }
    let found = pairs.of(function, tracked.name);
    let maxlen = found.first()?.1;
    let paired = |append: &TextRange| found.iter().any(|(call, ..)| call == append);
    if !appends.iter().all(paired) || found.iter().any(|(_, m, _)| *m != maxlen) {
        return None;
    }
    let mut statements: Vec<&Stmt> = found.iter().map(|(.., stmt)| *stmt).collect();
    statements.sort_by_key(|s| s.start());
    statements.dedup_by_key(|s| s.range());
    Some(Trimming { maxlen, statements })
}

/// Finds `name.append(x)` statements with a trimming statement of the same `name` right
/// before or after them in the same block, for every name.
#[derive(Default)]
struct Pairs<'a> {
    found: FxHashMap<&'a str, Vec<Pair<'a>>>,
}

impl<'a> SourceOrderVisitor<'a> for Pairs<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        // A nested scope sees the name as a capture: the analysis already refuses it.
        if !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
            ruff_python_ast::visitor::source_order::walk_stmt(self, stmt);
        }
    }

    fn visit_body(&mut self, body: &'a [Stmt]) {
        for (i, stmt) in body.iter().enumerate() {
            let Some((name, append)) = append_call(stmt) else {
                continue;
            };
            // Trimmed after the append, the list holds at most `limit` items; trimmed
            // before it, one more.
            let after = body
                .get(i + 1)
                .and_then(|next| trim_limit(next, name).map(|limit| (limit, next)));
            let before = i
                .checked_sub(1)
                .and_then(|j| body.get(j))
                .and_then(|prev| trim_limit(prev, name))
                .and_then(|limit| limit.checked_add(1))
                .map(|limit| (limit, &body[i - 1]));
            if let Some((maxlen, trim)) = after.or(before) {
                self.found
                    .entry(name)
                    .or_default()
                    .push((append.range(), maxlen, trim));
            }
        }
        walk_body(self, body);
    }
}

/// `name.append(x)` as a statement, with `name` a plain name: the name and the call.
fn append_call(stmt: &Stmt) -> Option<(&str, &ExprCall)> {
    let Stmt::Expr(expr) = stmt else {
        return None;
    };
    let Expr::Call(call) = expr.value.as_ref() else {
        return None;
    };
    let Expr::Attribute(attr) = call.func.as_ref() else {
        return None;
    };
    let Expr::Name(name) = attr.value.as_ref() else {
        return None;
    };
    let plain = call.arguments.keywords.is_empty()
        && call.arguments.args.len() == 1
        && !call.arguments.args[0].is_starred_expr();
    (plain && attr.attr.id.as_str() == "append").then_some((name.id.as_str(), call))
}

fn is_name(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Name(n) if n.id.as_str() == name)
}

/// For `if len(name) > K: name.pop(0)` (or `>=`, `while`, `del name[0]`), the length
/// the list is left with at most: `K`, or `K - 1` for `>=`.
fn trim_limit(stmt: &Stmt, name: &str) -> Option<u64> {
    let (test, body) = match stmt {
        Stmt::If(s) if s.elif_else_clauses.is_empty() => (&s.test, &s.body),
        Stmt::While(s) if s.orelse.is_empty() => (&s.test, &s.body),
        _ => return None,
    };
    let [only] = body.as_slice() else {
        return None;
    };
    let drops_front = match only {
        Stmt::Expr(e) => matches!(e.value.as_ref(), Expr::Call(call)
            if matches!(call.func.as_ref(), Expr::Attribute(a)
                if a.attr.id.as_str() == "pop" && is_name(&a.value, name))
            && call.arguments.keywords.is_empty()
            && matches!(call.arguments.args.as_ref(), [zero] if is_zero(zero))),
        Stmt::Delete(d) => matches!(d.targets.as_slice(), [Expr::Subscript(sub)]
            if is_name(&sub.value, name) && is_zero(&sub.slice)),
        _ => false,
    };
    if !drops_front {
        return None;
    }
    let Expr::Compare(compare) = test.as_ref() else {
        return None;
    };
    let ([op], [right]) = (compare.ops.as_ref(), compare.comparators.as_ref()) else {
        return None;
    };
    let is_len = |e: &Expr| {
        matches!(e, Expr::Call(call)
            if matches!(call.func.as_ref(), Expr::Name(n) if n.id.as_str() == "len")
            && call.arguments.keywords.is_empty()
            && matches!(call.arguments.args.as_ref(), [arg] if is_name(arg, name)))
    };
    let literal = |e: &Expr| match e {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_u64(),
            _ => None,
        },
        _ => None,
    };
    // `len(q) > K` and `K < len(q)` leave K items; `>=` and `<=` leave K - 1.
    let (bound, strict) = match (op, &*compare.left, right) {
        (CmpOp::Gt, left, right) if is_len(left) => (literal(right)?, true),
        (CmpOp::GtE, left, right) if is_len(left) => (literal(right)?, false),
        (CmpOp::Lt, left, right) if is_len(right) => (literal(left)?, true),
        (CmpOp::LtE, left, right) if is_len(right) => (literal(left)?, false),
        _ => return None,
    };
    if strict {
        Some(bound)
    } else {
        bound.checked_sub(1)
    }
}
