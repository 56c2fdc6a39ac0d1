#![doc = include_str!("doc.md")]

mod maxlen;

use ruff_python_ast::{Expr, ExprCall, Number};
use ruff_source_file::LineRanges;
use ruff_text_size::{Ranged, TextRange};

use crate::bindings::{self, Index, Tracked, UseKind};
use crate::imports::{self, Style};
use crate::{Edit, FileContext, Finding, Fix, Note, Output, PerUnit, Saving, Subject, Transform};

/// The `deque` transform.
pub struct DequeTransform;

const NAME: &str = "deque";

impl Transform for DequeTransform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "local lists used as FIFO queues become collections.deque (time, not memory)"
    }

    fn applicability(&self) -> &'static str {
        "safe when every use is proven to behave the same on a deque"
    }

    fn documentation(&self) -> &'static str {
        include_str!("doc.md")
    }

    fn run(&self, ctx: &FileContext) -> Output {
        // A queue needs a front operation; most files have none, and the binding
        // analysis is the costly part of a whole-tree run.
        if !has_front_operation(ctx.module.tokens(), ctx.module.source()) {
            return Output::default();
        }
        let ast = ctx.module.ast();
        let counts = imports::binding_counts(ctx.module, &["list", "len"]);
        let (list_shadowed, len_is_builtin) = (counts[0] > 0, counts[1] == 0);
        let want = |e: &Expr| match e {
            Expr::List(_) => true,
            Expr::Call(call) => !list_shadowed && is_list_call(call),
            _ => false,
        };
        let mut out = Output::default();
        // The same for every queue in the file: planned once, when first needed.
        let import = std::cell::OnceCell::new();
        let mut pairs = maxlen::FunctionPairs::default();
        for tracked in bindings::analyze(ast, &want, false, true) {
            match plan(&tracked) {
                Plan::NotAQueue => {}
                Plan::Skip(reason) => out.notes.push(Note {
                    transform: NAME,
                    range: tracked.value.range(),
                    reason: format!("`{}` stays a list: {reason}", tracked.name),
                }),
                Plan::Rewrite(front) => {
                    let Some(import) = import
                        .get_or_init(|| {
                            imports::import_member(
                                ctx.module,
                                "collections",
                                "deque",
                                Style::FromImport,
                            )
                        })
                        .clone()
                    else {
                        out.notes.push(Note {
                            transform: NAME,
                            range: tracked.value.range(),
                            reason: "`deque` and `collections` are both bound to something else in this file".into(),
                        });
                        continue;
                    };
                    let trimming = maxlen::find(&tracked, len_is_builtin, &mut pairs);
                    out.findings
                        .push(finding(ctx, &tracked, &front, trimming.as_ref(), import));
                }
            }
        }
        out
    }
}

/// Whether the tokens hold `pop(0`, `insert(0` or, in a file with a `del`, `[0]`: what
/// every front operation [`plan`] looks for is written with (an over-approximation).
fn has_front_operation(tokens: &ruff_python_ast::token::Tokens, source: &str) -> bool {
    use ruff_python_ast::token::TokenKind;
    // Any spelling of the int zero: `0`, `00`, `0_0`, `0x0`, `0o0`, `0b0`.
    let zero = |range: TextRange| {
        source[range]
            .bytes()
            .all(|b| matches!(b, b'0' | b'_' | b'x' | b'X' | b'o' | b'O' | b'b' | b'B'))
    };
    let mut has_del = false;
    let mut subscript_zero = false;
    // The last three significant tokens, oldest first.
    let mut last: [Option<(TokenKind, TextRange)>; 3] = [None; 3];
    for token in tokens.iter() {
        let kind = token.kind();
        if kind.is_trivia() {
            continue;
        }
        if kind == TokenKind::Del {
            has_del = true;
        }
        if let [
            Some((name, name_range)),
            Some((TokenKind::Lpar, _)),
            Some((TokenKind::Int, int)),
        ] = last
            && name == TokenKind::Name
            && matches!(&source[name_range], "pop" | "insert")
            && zero(int)
        {
            return true;
        }
        // `[0]`, and `[-0]`, which the use analysis reads as index 0 too.
        if kind == TokenKind::Rsqb
            && let Some((TokenKind::Int, int)) = last[2]
            && zero(int)
        {
            subscript_zero |= match last[1] {
                Some((TokenKind::Lsqb, _)) => true,
                Some((TokenKind::Minus | TokenKind::Plus, _)) => {
                    matches!(last[0], Some((TokenKind::Lsqb, _)))
                }
                _ => false,
            };
        }
        if has_del && subscript_zero {
            return true;
        }
        last = [last[1], last[2], Some((kind, token.range()))];
    }
    // The pattern may end the file.
    matches!(
        last,
        [Some((TokenKind::Name, name)), Some((TokenKind::Lpar, _)), Some((TokenKind::Int, int))]
            if matches!(&source[name], "pop" | "insert") && zero(int)
    )
}

fn is_list_call(call: &ExprCall) -> bool {
    matches!(call.func.as_ref(), Expr::Name(n) if n.id.as_str() == "list")
        && call.arguments.keywords.is_empty()
        && call.arguments.args.len() <= 1
        && !call.arguments.args.iter().any(Expr::is_starred_expr)
}

/// A front operation to rewrite.
enum Front<'a> {
    /// `q.pop(0)`.
    Pop(&'a ExprCall),
    /// `q.insert(0, x)`.
    Insert(&'a ExprCall),
    /// `del q[0]`.
    Del(&'a ruff_python_ast::StmtDelete),
}

enum Plan<'a> {
    NotAQueue,
    Skip(String),
    Rewrite(Vec<Front<'a>>),
}

fn is_zero(expr: &Expr) -> bool {
    matches!(expr, Expr::NumberLiteral(n) if matches!(&n.value, Number::Int(i) if i.as_u8() == Some(0)))
}

fn plan<'a>(tracked: &Tracked<'a>) -> Plan<'a> {
    let mut front = Vec::new();
    let mut problem: Option<String> = None;
    let mutations: Vec<TextRange> = tracked
        .uses
        .iter()
        .filter(|u| u.kind.class() == bindings::UseClass::Mutation)
        .map(|u| u.range)
        .collect();
    for u in &tracked.uses {
        let ok = match &u.kind {
            UseKind::Method { name, call } => {
                let args = &call.arguments;
                let plain =
                    args.keywords.is_empty() && !args.args.iter().any(Expr::is_starred_expr);
                match (*name, args.args.len()) {
                    ("pop", 1) if plain && is_zero(&args.args[0]) => {
                        front.push(Front::Pop(call));
                        true
                    }
                    ("insert", 2) if plain && is_zero(&args.args[0]) => {
                        front.push(Front::Insert(call));
                        true
                    }
                    ("pop", 0) | ("clear", 0) | ("reverse", 0) => plain,
                    ("append" | "extend" | "remove" | "count", 1) => plain,
                    ("index", 1..=3) => plain,
                    _ => false,
                }
            }
            UseKind::SubscriptDelete {
                index: Index::Const(0),
                stmt: Some(stmt),
            } => {
                front.push(Front::Del(stmt));
                true
            }
            UseKind::IndexLoad { index } | UseKind::SubscriptStore { index, .. } => {
                let ends = matches!(index, Index::Const(0 | -1));
                if !ends && problem.is_none() {
                    problem = Some("indexed away from its ends (O(n) on a deque)".into());
                }
                ends
            }
            UseKind::Len | UseKind::Truthiness | UseKind::Membership => true,
            UseKind::AugAssign { op, .. } => *op == ruff_python_ast::Operator::Add,
            UseKind::Iteration { over, lazy } => {
                let mutated_inside = *lazy || mutations.iter().any(|m| over.contains_range(*m));
                if mutated_inside && problem.is_none() {
                    problem =
                        Some("it is mutated while being iterated (a deque would raise)".into());
                }
                !mutated_inside
            }
            _ => false,
        };
        if !ok && problem.is_none() {
            problem = Some(u.kind.describe());
        }
    }
    if front.is_empty() {
        return Plan::NotAQueue;
    }
    if let Some(blocked) = tracked.blocked {
        return Plan::Skip(blocked.to_string());
    }
    if matches!(tracked.site, bindings::Site::AnnAssign(_)) {
        return Plan::Skip("it is annotated; the annotation would need to change too".into());
    }
    match problem {
        Some(problem) => Plan::Skip(format!("{problem}; a deque needs every use to work on it")),
        None => Plan::Rewrite(front),
    }
}

fn finding(
    ctx: &FileContext,
    tracked: &Tracked,
    front: &[Front],
    trimming: Option<&maxlen::Trimming>,
    import: imports::ImportPlan,
) -> Finding {
    let source = ctx.module.source();
    let reference = &import.reference;
    let trimmed = |range: TextRange| {
        trimming.is_some_and(|t| t.statements.iter().any(|s| s.range().contains_range(range)))
    };
    // The constructor edit, then every other one.
    let mut rest = Vec::new();
    let constructor = match (trimming, tracked.value) {
        (Some(trimming), value) => {
            // A compound statement starts its own line and ends one: its lines go.
            rest.extend(trimming.statements.iter().map(|stmt| {
                Edit::range_deletion(TextRange::new(
                    source.line_start(stmt.start()),
                    source.full_line_end(stmt.end()),
                ))
            }));
            Edit::range_replacement(
                format!("{reference}(maxlen={})", trimming.maxlen),
                value.range(),
            )
        }
        (None, Expr::List(list)) if list.elts.is_empty() => {
            Edit::range_replacement(format!("{reference}()"), list.range)
        }
        (None, Expr::Call(call)) => Edit::range_replacement(reference.clone(), call.func.range()),
        (None, value) => {
            rest.push(Edit::insertion(")".to_string(), value.end()));
            Edit::insertion(format!("{reference}("), value.start())
        }
    };
    for op in front {
        let range = match op {
            Front::Pop(call) | Front::Insert(call) => call.range(),
            Front::Del(stmt) => stmt.range(),
        };
        if trimmed(range) {
            continue;
        }
        match op {
            Front::Pop(call) => {
                if let Expr::Attribute(attr) = call.func.as_ref() {
                    rest.push(Edit::range_replacement(
                        "popleft()".to_string(),
                        TextRange::new(attr.attr.start(), call.end()),
                    ));
                }
            }
            Front::Insert(call) => {
                if let (Expr::Attribute(attr), Some(value)) =
                    (call.func.as_ref(), call.arguments.args.get(1))
                {
                    rest.push(Edit::range_replacement(
                        "appendleft(".to_string(),
                        TextRange::new(attr.attr.start(), value.start()),
                    ));
                }
            }
            Front::Del(stmt) => {
                if let Some(Expr::Subscript(sub)) = stmt.targets.first() {
                    rest.push(Edit::range_replacement(
                        format!("{}.popleft()", &source[sub.value.range()]),
                        stmt.range,
                    ));
                }
            }
        }
    }
    rest.extend(import.edit);
    Finding {
        transform: NAME,
        range: tracked.value.range(),
        message: match trimming {
            Some(t) => format!(
                "`{}` is trimmed by hand to its last {} items: `deque(maxlen={})` drops the oldest item in O(1) where `pop(0)` is O(n); a time rewrite, no memory saving (the trimmed list already holds at most {} items, and a deque of as many is larger: 9.0 vs 8.6 KiB at 1,000 items, about 1 KiB more at 10 and 100)",
                tracked.name, t.maxlen, t.maxlen, t.maxlen
            ),
            None => format!(
                "`{}` is used as a FIFO queue: popping or inserting at the front is O(n) on a list and O(1) on a deque; a time rewrite, no memory saving (a deque is slightly larger than a list)",
                tracked.name
            ),
        },
        fix: Fix::safe_edits(constructor, rest),
        saving: Saving {
            subject: Subject::Queue {
                created: tracked.value.range(),
                calls: front
                    .iter()
                    .map(|op| match op {
                        Front::Pop(call) | Front::Insert(call) => call.range(),
                        Front::Del(stmt) => stmt.range(),
                    })
                    .collect(),
            },
            per_unit: PerUnit::Time,
        },
    }
}

#[cfg(test)]
mod tests;
