//! Small AST questions several transforms ask, answered once.

use ruff_python_ast::Expr;

/// Names an assignment or loop target binds (`x`, `(a, b)`, `[a, *rest]`), in order.
/// Attribute and subscript targets bind no name.
pub(crate) fn target_names<'a>(target: &'a Expr, out: &mut Vec<&'a str>) {
    match target {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Tuple(t) => t.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}
