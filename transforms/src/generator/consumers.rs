//! The builtins that consume an iterable, and where in their arguments a list
//! comprehension may be turned into a generator.
//!
//! `str.join`, `tuple()` and `list()` are deliberately absent: they build a list from a
//! generator anyway, so the rewrite saves nothing and adds the generator's overhead
//! (`join` over 1M strings: the same peak either way, docs/memory-figures.md).

use ruff_python_ast::{self as ast, Expr};

/// A builtin that iterates over its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Consumer {
    Sum,
    Min,
    Max,
    Any,
    All,
    Sorted,
    Set,
    Frozenset,
    Dict,
    Enumerate,
    Zip,
    Map,
    Filter,
}

impl Consumer {
    /// The consumer a call names, if its callee is a bare builtin name. Whether the
    /// name really is the builtin is checked later, against the module's bindings.
    pub fn of_call(call: &ast::ExprCall) -> Option<Self> {
        let Expr::Name(name) = call.func.as_ref() else {
            return None;
        };
        Self::of_name(name.id.as_str())
    }

    /// The consumer a builtin name stands for.
    pub fn of_name(name: &str) -> Option<Self> {
        Some(match name {
            "sum" => Self::Sum,
            "min" => Self::Min,
            "max" => Self::Max,
            "any" => Self::Any,
            "all" => Self::All,
            "sorted" => Self::Sorted,
            "set" => Self::Set,
            "frozenset" => Self::Frozenset,
            "dict" => Self::Dict,
            "enumerate" => Self::Enumerate,
            "zip" => Self::Zip,
            "map" => Self::Map,
            "filter" => Self::Filter,
            _ => return None,
        })
    }

    /// The builtin's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Min => "min",
            Self::Max => "max",
            Self::Any => "any",
            Self::All => "all",
            Self::Sorted => "sorted",
            Self::Set => "set",
            Self::Frozenset => "frozenset",
            Self::Dict => "dict",
            Self::Enumerate => "enumerate",
            Self::Zip => "zip",
            Self::Map => "map",
            Self::Filter => "filter",
        }
    }

    /// Lazy consumers return an iterator that reads their argument when it is itself
    /// iterated, possibly much later.
    pub fn is_lazy(self) -> bool {
        matches!(self, Self::Enumerate | Self::Zip | Self::Map | Self::Filter)
    }

    /// Short-circuiting consumers stop at the first decisive item.
    pub fn short_circuits(self) -> bool {
        matches!(self, Self::Any | Self::All)
    }

    /// The index of the positional argument that may be rewritten when it is a list
    /// comprehension, or `None` when the call has another shape (then it is left alone:
    /// e.g. `min([...], y)` compares the list itself with `y`).
    pub fn rewritable_position(self, call: &ast::ExprCall) -> Option<usize> {
        self.iterable_position(call)
            .filter(|&p| matches!(call.arguments.args.get(p), Some(Expr::ListComp(_))))
    }

    /// The index of the positional argument this consumer iterates, if the call has
    /// a shape where it iterates exactly that one argument.
    pub fn iterable_position(self, call: &ast::ExprCall) -> Option<usize> {
        let args = &call.arguments.args;
        let keywords_ok = |allowed: &[&str]| {
            call.arguments.keywords.iter().all(|k| {
                k.arg
                    .as_ref()
                    .is_some_and(|a| allowed.contains(&a.as_str()))
            })
        };
        let (position, ok) = match self {
            // sum(iterable, /, start=0)
            Self::Sum => (
                0,
                (args.len() == 1 && keywords_ok(&["start"]))
                    || (args.len() == 2 && keywords_ok(&[])),
            ),
            Self::Min | Self::Max => (0, args.len() == 1 && keywords_ok(&["key", "default"])),
            Self::Sorted => (0, args.len() == 1 && keywords_ok(&["key", "reverse"])),
            Self::Any | Self::All | Self::Set | Self::Frozenset | Self::Dict => {
                (0, args.len() == 1 && keywords_ok(&[]))
            }
            Self::Enumerate => (
                0,
                (args.len() == 1 && keywords_ok(&["start"]))
                    || (args.len() == 2 && keywords_ok(&[])),
            ),
            Self::Zip => (0, args.len() == 1 && keywords_ok(&["strict"])),
            // map(function, iterable) and filter(function, iterable) with one iterable.
            Self::Map | Self::Filter => (1, args.len() == 2 && keywords_ok(&[])),
        };
        ok.then_some(position)
    }
}
