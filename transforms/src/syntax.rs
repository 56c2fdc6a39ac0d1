//! Small AST questions several transforms ask, answered once.

use ruff_python_ast::Expr;
use ruff_python_ast::token::{Token, Tokens};
use ruff_text_size::{Ranged, TextRange, TextSize};

/// Whether `name` is a dunder (`__init__`, `__all__`): Python's own names, which
/// several analyses treat apart.
pub(crate) fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

/// Whether a class mangles `name` (`__x` becomes `_Cls__x` inside it): two leading
/// underscores and not two trailing ones, as CPython's `_Py_Mangle` decides.
pub(crate) fn is_mangled(name: &str) -> bool {
    name.starts_with("__") && !name.ends_with("__")
}

/// Whether `c` may continue a Python identifier (letters, digits, `_`; any non-ASCII
/// letter or digit counts).
pub(crate) fn is_identifier_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

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

/// The start offsets of some of a file's tokens, in order, asked whether any lies in a
/// range: a walk passes over every node that holds none of those it looks for.
#[derive(Debug, Default)]
pub(crate) struct TokenStarts {
    starts: Vec<TextSize>,
}

impl TokenStarts {
    /// The starts of the tokens `keep` accepts.
    pub(crate) fn of(tokens: &Tokens, keep: impl Fn(&Token) -> bool) -> Self {
        let starts = tokens
            .iter()
            .filter(|t| keep(t))
            .map(Ranged::start)
            .collect();
        Self { starts }
    }

    /// The offsets, in order.
    #[cfg(test)]
    pub(crate) fn as_slice(&self) -> &[TextSize] {
        &self.starts
    }

    /// Whether any lies in `range`.
    pub(crate) fn any_in(&self, range: TextRange) -> bool {
        let i = self.starts.partition_point(|&o| o < range.start());
        self.first_before(i, range.end())
    }

    /// [`Self::any_in`] for a walk that asks about its nodes in source order: `cursor`
    /// keeps its place, so each offset is passed once instead of searched for again at
    /// every node. A range before the last one asked (a new walk) searches afresh.
    pub(crate) fn any_in_walking(&self, range: TextRange, cursor: &mut WalkCursor) -> bool {
        let start = range.start();
        if start < cursor.last_start {
            cursor.next = self.starts.partition_point(|&o| o < start);
        } else {
            while self.starts.get(cursor.next).is_some_and(|&o| o < start) {
                cursor.next += 1;
            }
        }
        cursor.last_start = start;
        self.first_before(cursor.next, range.end())
    }

    /// Whether the offset at `i` (the first not before a range's start) is before `end`.
    fn first_before(&self, i: usize, end: TextSize) -> bool {
        self.starts.get(i).is_some_and(|&o| o < end)
    }
}

/// A walk's place among [`TokenStarts`]: the first offset not before the last node
/// asked about, and that node's start.
#[derive(Debug, Default)]
pub(crate) struct WalkCursor {
    next: usize,
    last_start: TextSize,
}
