//! What an expression says by its syntax alone, for the indexer: whether it runs code
//! or gives the same object twice, the attributes it certainly reads, literal
//! `__slots__` strings, `ClassVar` annotations.

use ruff_python_ast::helpers::map_subscript;
use ruff_python_ast::{self as ast, Expr};

/// A name, or attributes and constant subscripts of one: evaluating it twice in a row
/// gives the same object.
pub(super) fn is_stable(expr: &Expr) -> bool {
    match expr {
        Expr::Name(_) => true,
        Expr::Attribute(a) => is_stable(&a.value),
        Expr::Subscript(s) => {
            is_stable(&s.value)
                && matches!(
                    s.slice.as_ref(),
                    Expr::NumberLiteral(_) | Expr::StringLiteral(_)
                )
                || matches!(s.slice.as_ref(), Expr::UnaryOp(u) if matches!(u.operand.as_ref(), Expr::NumberLiteral(_)))
                    && is_stable(&s.value)
        }
        _ => false,
    }
}

/// The attribute reads an expression certainly makes when evaluated: not those in
/// short-circuited operands, conditional branches, lambdas or comprehensions.
pub(super) fn certain_reads<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Attribute(a) => {
            out.push(expr);
            certain_reads(&a.value, out);
        }
        Expr::BoolOp(b) => {
            if let Some(first) = b.values.first() {
                certain_reads(first, out);
            }
        }
        Expr::If(i) => certain_reads(&i.test, out),
        Expr::Call(c) => {
            certain_reads(&c.func, out);
            for arg in &*c.arguments.args {
                certain_reads(arg, out);
            }
            for kw in &*c.arguments.keywords {
                certain_reads(&kw.value, out);
            }
        }
        Expr::BinOp(b) => {
            certain_reads(&b.left, out);
            certain_reads(&b.right, out);
        }
        Expr::UnaryOp(u) => certain_reads(&u.operand, out),
        Expr::Compare(c) => certain_reads(&c.left, out),
        Expr::Subscript(s) => {
            certain_reads(&s.value, out);
            certain_reads(&s.slice, out);
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| certain_reads(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| certain_reads(e, out)),
        _ => {}
    }
}

/// The `name.attr` reads a test certainly makes when it is true: the test itself or
/// the operands of its `and` chain (`x is not None and x.active`), compared or negated.
pub(super) fn read_attributes(test: &Expr) -> Vec<(&str, &str)> {
    let operands: Vec<&Expr> = match test {
        Expr::BoolOp(b) if b.op == ast::BoolOp::And => b.values.iter().collect(),
        other => vec![other],
    };
    operands
        .into_iter()
        .filter_map(|operand| {
            let read = match operand {
                Expr::UnaryOp(u) => u.operand.as_ref(),
                Expr::Compare(c) => c.left.as_ref(),
                other => other,
            };
            match read {
                Expr::Attribute(a) => match a.value.as_ref() {
                    Expr::Name(n) => Some((n.id.as_str(), a.attr.as_str())),
                    _ => None,
                },
                _ => None,
            }
        })
        .collect()
}

/// An expression whose evaluation runs no code: a literal or a name.
pub(super) fn is_pure(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Name(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
    )
}

/// The name an attribute or subscript chain starts from (`a` in `a.b[0].c`).
pub(super) fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => root_name(&a.value),
        Expr::Subscript(s) => root_name(&s.value),
        _ => None,
    }
}

/// The strings of a literal `__slots__` value (`"a"`, `("a", "b")`, `["a"]`).
pub(super) fn literal_strings(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::StringLiteral(s) => Some(vec![s.value.to_str().to_string()]),
        Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => elts
            .iter()
            .map(|e| match e {
                Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `ClassVar`, `ClassVar[int]`, `typing.ClassVar[...]`, `InitVar[...]`, `KW_ONLY`: not fields.
pub(super) fn is_classvar(annotation: &Expr) -> bool {
    let base = map_subscript(annotation);
    let last = match base {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        Expr::StringLiteral(s) => {
            let text = s.value.to_str();
            return text.starts_with("ClassVar") || text.contains(".ClassVar");
        }
        _ => return false,
    };
    matches!(last, "ClassVar" | "InitVar" | "KW_ONLY")
}
