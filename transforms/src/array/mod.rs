#![doc = include_str!("doc.md")]

mod typecode;
mod types;

use ruff_python_ast::{Expr, Operator};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::bindings::scope::{Body, Site, function_locals};
use crate::bindings::{self, Escape, ScopeKind, Tracked, UseKind};
use crate::imports::{self, Style};
use crate::observed::{ObservedElements, ObservedList};
use crate::{
    Edit, Element, FileContext, Finding, Fix, Note, Output, PerUnit, Saving, SourceModule, Subject,
    Transform,
};
use typecode::TypeCode;
use types::{COUNTED_MAX, MathNames, Num, Span, Types};

/// The `array` transform.
pub struct ArrayTransform;

const NAME: &str = "array";

impl Transform for ArrayTransform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "local lists of floats or proven-range ints become array.array"
    }

    fn applicability(&self) -> &'static str {
        "always unsafe (element identity, repr and errors change)"
    }

    fn documentation(&self) -> &'static str {
        include_str!("doc.md")
    }

    fn run(&self, ctx: &FileContext) -> Output {
        let ast = ctx.module.ast();
        let want = |e: &Expr| shape(e).is_some();
        let mut out = Output::default();
        let candidates = bindings::analyze(ast, &want, false, true);
        if candidates.is_empty() {
            return out;
        }
        let math = MathNames::new(ctx.module);
        // The same for every list in the file: planned once, when first needed.
        let import = std::cell::OnceCell::new();
        // Each function's locals, found once for all its lists (a function with
        // thousands of lists would otherwise be walked once per list).
        let mut function_names = rustc_hash::FxHashMap::default();
        for tracked in candidates {
            let ScopeKind::Function(function) = tracked.scope else {
                continue;
            };
            let Some(shape) = shape(tracked.value) else {
                continue;
            };
            let locals = function_names.entry(function.range()).or_insert_with(|| {
                function_locals(Some(&function.parameters), Body::Stmts(&function.body))
            });
            let types = Types::new(locals, &math);
            let mut seen = None;
            let checked = match check(ctx.module, &tracked, shape, &types, None) {
                Err(refusal) => match observed_at(ctx, &tracked) {
                    Some(list) => {
                        seen = Some(list);
                        check(ctx.module, &tracked, shape, &types, Some(list.elements))
                            .map_err(|_| refusal)
                    }
                    None => Err(refusal),
                },
                proven => proven,
            };
            match checked {
                Ok(proven) => {
                    let Some(import) = import
                        .get_or_init(|| {
                            imports::import_member(
                                ctx.module,
                                "array",
                                "array",
                                Style::ModuleImport,
                            )
                        })
                        .clone()
                    else {
                        out.notes.push(note(
                            &tracked,
                            "`array` is bound to something else in this file",
                        ));
                        continue;
                    };
                    let mut found = finding(ctx, &tracked, shape, &proven, import);
                    if let Some(list) = seen {
                        found.message =
                            typecode::observed_message(tracked.name, proven.code, list.count);
                    }
                    out.findings.push(found);
                }
                Err(Some(reason)) => out.notes.push(note(&tracked, &reason)),
                Err(None) => {}
            }
        }
        out
    }
}

/// What a profile saw at the list's lines (where it is made and grown).
fn observed_at(ctx: &FileContext, tracked: &Tracked) -> Option<ObservedList> {
    let observed = ctx.settings.observed.as_ref()?;
    let line = |range: TextRange| ctx.module.line_column(range.start()).0;
    let mut lines = vec![line(tracked.value.range())];
    lines.extend(filling_uses(tracked).into_iter().map(line));
    observed.lists_at(&ctx.info.path, &lines)
}

fn note(tracked: &Tracked, reason: &str) -> Note {
    Note {
        transform: NAME,
        range: tracked.value.range(),
        reason: format!("`{}` stays a list: {reason}", tracked.name),
    }
}

/// The list forms the transform rewrites.
#[derive(Clone, Copy)]
enum Shape<'a> {
    /// `[]`.
    Empty,
    /// `[a, b]` (non-empty display).
    Display(&'a ruff_python_ast::ExprList),
    /// `[x] * n` or `n * [x]`.
    Repeat(&'a ruff_python_ast::ExprList),
    /// `[e for ...]`.
    Comprehension(&'a ruff_python_ast::ExprListComp),
}

fn shape(expr: &Expr) -> Option<Shape<'_>> {
    match expr {
        Expr::List(l) if l.elts.is_empty() => Some(Shape::Empty),
        Expr::List(l) => Some(Shape::Display(l)),
        Expr::BinOp(b) if b.op == Operator::Mult => match (&*b.left, &*b.right) {
            (Expr::List(l), _) | (_, Expr::List(l)) if l.elts.len() == 1 => Some(Shape::Repeat(l)),
            _ => None,
        },
        Expr::ListComp(c) => Some(Shape::Comprehension(c)),
        _ => None,
    }
}

/// What one place puts into the list.
struct Input {
    num: Num,
    line: usize,
    /// What the place is, for notes (`"the argument of `.append()`"`).
    what: &'static str,
}

/// The contents `check` proved.
struct Proven {
    code: TypeCode,
    /// The values of an int list.
    span: Option<Span>,
}

/// The element kind of a list: the first float input makes it a float list, else the
/// first int input an int list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Int,
}

/// The kinds of the elements `extend(iterable)` adds, when they are known.
fn extended(types: &Types, iterable: &Expr) -> Vec<Num> {
    match iterable {
        Expr::List(ruff_python_ast::ExprList { elts, .. })
        | Expr::Tuple(ruff_python_ast::ExprTuple { elts, .. })
            if !elts.iter().any(Expr::is_starred_expr) =>
        {
            elts.iter().map(|e| types.of(e)).collect()
        }
        Expr::ListComp(c) => vec![types.element(&c.elt, &c.generators)],
        Expr::Generator(g) => vec![types.element(&g.elt, &g.generators)],
        _ => vec![Num::Unknown],
    }
}

/// `Ok` when the rewrite is proven; `Err(Some(reason))` for a note, `Err(None)` when
/// nothing says the list holds numbers (no note: most lists do not). With `observed`,
/// what a run saw the list hold stands in for the proof of its element types; every
/// other condition still holds.
fn check(
    module: &SourceModule,
    tracked: &Tracked,
    shape: Shape,
    types: &Types,
    observed: Option<ObservedElements>,
) -> Result<Proven, Option<String>> {
    let line = |range: TextRange| module.line_column(range.start()).0;
    let mut inputs = Vec::new();
    // `x[i] op= value`: the operator, the operand and the line.
    let mut updates = Vec::new();
    let mut filled = false;
    match shape {
        Shape::Empty => {}
        Shape::Display(l) | Shape::Repeat(l) => {
            for e in &l.elts {
                inputs.push(Input {
                    num: types.of(e),
                    line: line(e.range()),
                    what: "an element of the display",
                });
            }
        }
        Shape::Comprehension(c) => {
            inputs.push(Input {
                num: types.element(&c.elt, &c.generators),
                line: line(c.elt.range()),
                what: "the comprehension's element",
            });
            filled = true;
        }
    }
    let mut problem: Option<String> = None;
    for u in &tracked.uses {
        let ok = match &u.kind {
            UseKind::Method { name, call } => {
                let args = &call.arguments.args;
                let plain =
                    call.arguments.keywords.is_empty() && !args.iter().any(Expr::is_starred_expr);
                let (added, what) = match (*name, args.len()) {
                    ("append", 1) => (vec![types.of(&args[0])], "the argument of `.append()`"),
                    ("insert", 2) => (vec![types.of(&args[1])], "the item of `.insert()`"),
                    ("extend", 1) => (extended(types, &args[0]), "an item of `.extend()`"),
                    _ => (Vec::new(), ""),
                };
                if added.is_empty() {
                    plain
                        && matches!(
                            (*name, args.len()),
                            ("pop", 0 | 1) | ("count" | "index" | "remove", 1) | ("reverse", 0)
                        )
                } else {
                    filled = true;
                    let line = line(u.range);
                    inputs.extend(added.into_iter().map(|num| Input { num, line, what }));
                    plain
                }
            }
            UseKind::SubscriptStore {
                value, augmented, ..
            } => {
                filled = true;
                let num = value.map_or(Num::Unknown, |v| types.of(v));
                match augmented {
                    Some(op) => updates.push((*op, num, line(u.range))),
                    None => inputs.push(Input {
                        num,
                        line: line(u.range),
                        what: "an item stored",
                    }),
                }
                true
            }
            UseKind::IndexLoad { .. }
            | UseKind::SliceLoad { iterated: true }
            | UseKind::Len
            | UseKind::Truthiness
            | UseKind::Membership
            | UseKind::Iteration { .. }
            | UseKind::Unpacking => true,
            UseKind::Escape(Escape::Call {
                callee: Some(callee),
            }) => callee.starts_with("np.") || callee.starts_with("numpy."),
            _ => false,
        };
        if !ok && problem.is_none() {
            problem = Some(format!("{} on line {}", u.kind.describe(), line(u.range)));
        }
    }
    let kind = match observed {
        Some(ObservedElements::Floats) => Kind::Float,
        Some(ObservedElements::Ints { .. }) => Kind::Int,
        None if inputs.iter().any(|i| i.num == Num::Float) => Kind::Float,
        None if inputs.iter().any(|i| matches!(i.num, Num::Int(_))) => Kind::Int,
        None => return Err(None),
    };
    if observed.is_some() {
        // The run typed the elements: what is left to check is the list's use.
        inputs.clear();
        updates.clear();
    }
    if matches!(shape, Shape::Display(_)) && !filled {
        // A display never filled keeps its few elements: at most a few dozen bytes to
        // save, less than the array's larger header when they are constants (shared
        // with the code object) or small cached ints. Too common to note.
        return Err(None);
    }
    for input in &inputs {
        let wrong = match (kind, input.num) {
            (Kind::Float, Num::Float) | (Kind::Int, Num::Int(Some(_))) => continue,
            (Kind::Float, _) => "not proven to be a float",
            (Kind::Int, Num::Int(None)) => "an int not proven to fit in 64 bits",
            (Kind::Int, _) => "not proven to be an int",
        };
        return Err(Some(format!(
            "{} on line {} is {wrong}",
            input.what, input.line
        )));
    }
    // The int range every update can widen, by counting (see `COUNTED_MAX`).
    let mut drift = Span::new(0, 0);
    for (op, num, line) in &updates {
        let fine = match (kind, op, num) {
            (
                Kind::Float,
                Operator::Add
                | Operator::Sub
                | Operator::Mult
                | Operator::Div
                | Operator::FloorDiv
                | Operator::Mod,
                Num::Float | Num::Int(_),
            )
            | (Kind::Float, Operator::Pow, Num::Int(_)) => true,
            (Kind::Int, Operator::Add | Operator::Sub, Num::Int(Some(step))) => {
                let step = match op {
                    Operator::Sub => step.negate(),
                    _ => Some(*step),
                };
                // Each execution moves the item by at most `step`.
                let widened = step.and_then(|s| {
                    drift.checked_add(Span::new(
                        s.lo.min(0).checked_mul(COUNTED_MAX)?,
                        s.hi.max(0).checked_mul(COUNTED_MAX)?,
                    ))
                });
                if let Some(widened) = widened {
                    drift = widened;
                }
                widened.is_some()
            }
            _ => false,
        };
        if !fine {
            let kind = if kind == Kind::Float {
                "floats"
            } else {
                "ints that fit in 64 bits"
            };
            return Err(Some(format!(
                "`{}=` on line {line} is not proven to keep the items {kind}",
                op.as_str()
            )));
        }
    }
    if let Some(blocked) = tracked.blocked {
        return Err(Some(blocked.to_string()));
    }
    if matches!(tracked.site, Site::AnnAssign(_)) {
        return Err(Some(
            "it is annotated; the annotation would need to change too".into(),
        ));
    }
    if let Some(problem) = problem {
        return Err(Some(problem));
    }
    if matches!(shape, Shape::Repeat(_)) && !filled {
        return Err(Some(
            "`[x] * n` never filled holds one shared object: no saving".into(),
        ));
    }
    if kind == Kind::Float {
        return Ok(Proven {
            code: TypeCode::Double,
            span: None,
        });
    }
    let span = match observed {
        Some(ObservedElements::Ints { min, max }) => Some(Span::new(min.into(), max.into())),
        _ => inputs
            .iter()
            .filter_map(|i| match i.num {
                Num::Int(span) => span,
                _ => None,
            })
            .reduce(Span::union)
            .and_then(|s| s.checked_add(drift)),
    };
    match span.and_then(|s| TypeCode::for_ints(s).map(|code| (code, s))) {
        Some((code, span)) => Ok(Proven {
            code,
            span: Some(span),
        }),
        None => Err(Some("its ints are not proven to fit in 64 bits".into())),
    }
}

fn finding(
    ctx: &FileContext,
    tracked: &Tracked,
    shape: Shape,
    proven: &Proven,
    import: imports::ImportPlan,
) -> Finding {
    let reference = &import.reference;
    let quote = ctx.module.stylist().quote().as_char();
    let code = proven.code.letter();
    let prefix = format!("{reference}({quote}{code}{quote}, ");
    // The opening edit, and the closing one where the list is wrapped.
    let (open, close) = match shape {
        Shape::Empty => (
            Edit::range_replacement(
                format!("{reference}({quote}{code}{quote})"),
                tracked.value.range(),
            ),
            None,
        ),
        Shape::Display(l) | Shape::Repeat(l) => (
            Edit::insertion(prefix, l.start()),
            Some(Edit::insertion(")".to_string(), l.end())),
        ),
        Shape::Comprehension(c) => (
            Edit::range_replacement(
                format!("{prefix}("),
                TextRange::at(c.start(), TextSize::new(1)),
            ),
            Some(Edit::range_replacement(
                "))".to_string(),
                TextRange::new(c.end() - TextSize::new(1), c.end()),
            )),
        ),
    };
    Finding {
        transform: NAME,
        range: tracked.value.range(),
        message: typecode::message(
            tracked.name,
            proven.code,
            proven.span,
            ctx.settings.figures(),
        ),
        fix: Fix::unsafe_edits(open, close.into_iter().chain(import.edit)),
        saving: Saving {
            subject: Subject::Lists {
                created: tracked.value.range(),
                filled: filling_uses(tracked),
            },
            per_unit: PerUnit::Array {
                code: proven.code.letter(),
                element: match proven.span {
                    None => Element::Float,
                    Some(span) => Element::Int {
                        cached: span
                            .within(crate::figures::CACHED_INTS.0, crate::figures::CACHED_INTS.1),
                    },
                },
            },
        },
    }
}

/// The uses that add elements to a tracked list: where a profile sees its storage grow.
fn filling_uses(tracked: &Tracked) -> Vec<TextRange> {
    tracked
        .uses
        .iter()
        .filter(|u| match &u.kind {
            UseKind::Method { name, .. } => matches!(*name, "append" | "extend" | "insert"),
            UseKind::SubscriptStore { .. } => true,
            _ => false,
        })
        .map(|u| u.range)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::observed::{Observed, ObservedElements, ObservedList};
    use crate::{ModuleInfo, Settings, parse};

    const SOURCE: &str = "def f(points):\n    prices = []\n    for row in points:\n        prices.append(row.x * 1.5)\n    total = 0.0\n    for p in prices:\n        total += p\n    return total\n";

    fn run(observed: Option<Observed>) -> Output {
        let module = parse(SOURCE).unwrap();
        let info = ModuleInfo {
            name: "m".into(),
            is_package: false,
            path: "m.py".into(),
        };
        let settings = Settings {
            observed: observed.map(Arc::new),
            ..Settings::default()
        };
        let ctx = FileContext {
            module: &module,
            info: &info,
            settings: &settings,
            project: None,
            read_only: false,
        };
        ArrayTransform.run(&ctx)
    }

    #[test]
    fn a_list_observed_holding_floats_becomes_an_unsafe_candidate() {
        // Statically `row.x * 1.5` could be anything: no candidate, not even a note.
        let plain = run(None);
        assert!(plain.findings.is_empty() && plain.notes.is_empty());
        let observed = Observed {
            lists: [(
                "m.py".to_string(),
                vec![ObservedList {
                    line: 4,
                    elements: ObservedElements::Floats,
                    count: 1000,
                }],
            )]
            .into(),
        };
        let out = run(Some(observed));
        assert_eq!(out.findings.len(), 1, "{:?}", out.notes);
        let finding = &out.findings[0];
        assert!(
            finding.message.starts_with(
                "`prices` was observed at run time holding only floats (1000 elements near the peak)"
            ),
            "{}",
            finding.message
        );
        assert_eq!(finding.fix.applicability(), crate::Applicability::Unsafe);
    }
}
