//! One answer, per file, to "what does this name mean here" for the questions every
//! transform asks: is a bare name the builtin, and what module does a relative import
//! name. The transforms used to answer these each in their own way, and the copies
//! disagreed (a star import shadowed every builtin for `generator`, not for the
//! container transforms); they now all ask [`Names`] and [`resolve_relative`].
//!
//! # Star imports
//!
//! `from m import *` binds whatever `m` exports, which one file cannot know. The safe
//! answer depends on the question, so there are two:
//!
//! - [`Names::is_builtin`] ("certainly the builtin", for a rewrite that relies on
//!   `sum` being `builtins.sum`): a star import may shadow it, so no.
//! - [`Names::may_be_builtin`] ("possibly the builtin", for an analysis that must
//!   not miss a `vars(self)` or `setattr(self, ...)`): a star import does not rule
//!   it out, so yes.
//!
//! Every transform picks the one whose wrong answer would only cost a rewrite.

use rustc_hash::FxHashSet as HashSet;

use ruff_python_ast::Stmt;
use ruff_text_size::{TextRange, TextSize};

use crate::bindings::scope::all_scopes_among;

/// The names of the `builtins` module (CPython 3.11, public names and `__import__`).
pub const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "__import__",
];

/// Whether `name` is the name of a builtin (wherever it is used).
pub fn is_builtin_name(name: &str) -> bool {
    builtin_set().contains(name)
}

/// [`BUILTINS`] as a set: asked for nearly every name the slots index resolves, a scan
/// of the list (one string comparison per builtin of the same length) was a visible
/// share of a whole-tree run.
fn builtin_set() -> &'static HashSet<&'static str> {
    static SET: std::sync::LazyLock<HashSet<&'static str>> =
        std::sync::LazyLock::new(|| BUILTINS.iter().copied().collect());
    &SET
}

/// The absolute module a `from` import names: `from ..pkg import x` (`level` 2,
/// `module` `pkg`) in module `a.b.c` is `a.pkg`. `None` when the import climbs above
/// the top-level package (Python raises `ImportError` there).
pub fn resolve_relative(
    importer: &str,
    is_package: bool,
    level: u32,
    module: Option<&str>,
) -> Option<String> {
    if level == 0 {
        return module.map(str::to_string);
    }
    let mut parts: Vec<&str> = importer.split('.').collect();
    if !is_package {
        parts.pop();
    }
    for _ in 1..level {
        parts.pop()?;
    }
    if let Some(module) = module {
        parts.push(module);
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// The first `from ... import *` of a module (only a module may have one).
pub fn star_import(body: &[Stmt]) -> Option<TextRange> {
    body.iter().find_map(|stmt| match stmt {
        Stmt::ImportFrom(i) if i.names.iter().any(|a| a.name.as_str() == "*") => Some(i.range),
        Stmt::If(s) => star_import(&s.body).or_else(|| {
            s.elif_else_clauses
                .iter()
                .find_map(|c| star_import(&c.body))
        }),
        Stmt::Try(t) => star_import(&t.body)
            .or_else(|| star_import(&t.orelse))
            .or_else(|| star_import(&t.finalbody))
            .or_else(|| {
                t.handlers.iter().find_map(|h| match h {
                    ruff_python_ast::ExceptHandler::ExceptHandler(h) => star_import(&h.body),
                })
            }),
        Stmt::With(w) => star_import(&w.body),
        Stmt::For(f) => star_import(&f.body).or_else(|| star_import(&f.orelse)),
        Stmt::While(w) => star_import(&w.body).or_else(|| star_import(&w.orelse)),
        _ => None,
    })
}

/// What one file binds, scope by scope, for [`Names::is_builtin`]. Computed once per
/// file ([`crate::SourceModule::names`]) and read by every transform.
///
/// Only builtins' names are recorded: every question is about one, and the names the
/// file binds otherwise are most of what it binds.
#[derive(Debug, Default)]
pub struct Names {
    /// The builtins' names the module scope binds.
    module: Vec<&'static str>,
    /// The nested scopes (function, class body, lambda, comprehension) that bind a
    /// builtin's name, by the range they cover, with those names; most scopes bind
    /// none. A class body's names do not reach the functions inside it; counting them
    /// there only makes the answer more careful.
    scopes: Vec<(TextRange, Vec<&'static str>)>,
    /// The first `from ... import *`, anywhere in the file.
    star_import: Option<TextRange>,
}

impl Names {
    /// Computes the names of a module's body.
    pub fn new(body: &[Stmt]) -> Self {
        let (module, scopes) = all_scopes_among(body, is_builtin_name);
        Names {
            module: builtins_among(module.into_keys()),
            scopes: scopes
                .into_iter()
                .map(|(range, names)| (range, builtins_among(names)))
                .collect(),
            star_import: star_import(body),
        }
    }

    /// Where the file's first star import is, if it has one.
    pub fn star_import(&self) -> Option<TextRange> {
        self.star_import
    }

    /// Whether the builtin's name `name` is bound at module level (not by a star
    /// import). Always `false` for a name that is not a builtin's.
    pub fn bound_at_module(&self, name: &str) -> bool {
        self.module.contains(&name)
    }

    /// Whether `name`, read at `at`, is certainly the builtin: a builtin's name that
    /// neither the module nor any scope around `at` binds, in a file without a star
    /// import.
    pub fn is_builtin(&self, name: &str, at: TextSize) -> bool {
        self.star_import.is_none() && self.may_be_builtin(name, at)
    }

    /// Whether `name` is certainly the builtin wherever it is read in the file: no
    /// scope binds it and there is no star import (for analyses that ask once per
    /// file rather than per use).
    pub fn is_builtin_everywhere(&self, name: &str) -> bool {
        self.star_import.is_none()
            && is_builtin_name(name)
            && !self.module.contains(&name)
            && !self.scopes.iter().any(|(_, names)| names.contains(&name))
    }

    /// Whether `name`, read at `at`, may be the builtin: a builtin's name that neither
    /// the module nor any scope around `at` binds (a star import may or may not).
    pub fn may_be_builtin(&self, name: &str, at: TextSize) -> bool {
        is_builtin_name(name)
            && !self.module.contains(&name)
            && !self
                .scopes
                .iter()
                .any(|(range, names)| range.contains_inclusive(at) && names.contains(&name))
    }
}

/// The builtins' names among `names`, as the `'static` names of [`BUILTINS`].
fn builtins_among<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    names.into_iter().filter_map(builtin).collect()
}

/// `name` as one of [`BUILTINS`], if it is one.
fn builtin(name: &str) -> Option<&'static str> {
    builtin_set().get(name).copied()
}

#[cfg(test)]
mod tests;
