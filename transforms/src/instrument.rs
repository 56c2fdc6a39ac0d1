//! Edits that instrument a working copy for a measuring run (never the user's files):
//! probes around the constructs a profile measures, and a call at the start of the
//! code units whose tests verification wants to know.
//!
//! Every edit keeps line numbers: text is only inserted within existing lines (or, at
//! worst, on a line appended at the module's end), so tracebacks, `inspect` and
//! line-based allocation sites still point at the user's lines.
//!
//! - A transient list `[... for ...]` or `f.readlines()` becomes
//!   `__pyslim_probe__.t(ID, [... for ...])`: the probe records its length and returns
//!   it unchanged.
//! - A queue's `q.pop(0)` becomes `__pyslim_probe__.pop0(ID, q)`, `q.insert(0, x)`
//!   `__pyslim_probe__.ins0(ID, q, x)`, and `del q[0]` `__pyslim_probe__.del0(ID, q)`.
//! - A function's body starts with `__pyslim_hit__(ID); ` on its first statement's line
//!   (after the docstring, inside the test of a leading `if`/`while`, the iterable of a
//!   leading `for`, ...), so the unit is recorded whenever the function runs.
//!
//! The names are dunders so that no class body mangles them; the worker puts them in
//! `builtins`, and each instrumented module binds them from there ([`hooks_edit`]),
//! falling back to stand-ins in a process the worker did not start.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::fix::{apply_edits, edits_overlap};
use crate::syntax::is_identifier_char;
use crate::{Edit, SourceModule};

/// What to probe at a place of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAt {
    /// The expression at this range builds a list that is consumed once.
    Transient(TextRange),
    /// The front operation (`pop(0)` call, `insert(0, x)` call, `del q[0]` statement)
    /// at this range.
    Queue(TextRange),
}

/// The edits for `probes` (with their ids); a probe whose construct is not found at
/// its range is returned in the second list (the code changed).
///
/// No edit covers the text of another construct: a probe only inserts around its
/// construct and replaces its own punctuation (`.pop(0)`, `del`, `[0]`), so probes
/// nest (`q.insert(0, sum([...]))` is probed twice). At one place, the outer probe's
/// text comes first.
pub fn probe_edits(module: &SourceModule, probes: &[(u32, ProbeAt)]) -> (Vec<Edit>, Vec<u32>) {
    let mut finder = Finder::default();
    finder.visit_body(&module.ast().body);
    let mut edits = Vec::new();
    let mut missing = Vec::new();
    let mut probes = probes.to_vec();
    probes.sort_by_key(|(_, p)| {
        let range = match p {
            ProbeAt::Transient(r) | ProbeAt::Queue(r) => *r,
        };
        (range.start(), std::cmp::Reverse(range.end()))
    });
    for (id, probe) in &probes {
        match probe {
            ProbeAt::Transient(range) => {
                if finder.exprs.contains(range) {
                    edits.push(Edit::insertion(
                        format!("__pyslim_probe__.t({id}, "),
                        range.start(),
                    ));
                    edits.push(Edit::insertion(")".to_string(), range.end()));
                } else {
                    missing.push(*id);
                }
            }
            ProbeAt::Queue(range) => match finder.front(*range, module, *id) {
                Some(front) => edits.extend(front),
                None => missing.push(*id),
            },
        }
    }
    (edits, missing)
}

/// Expressions and statements by range, for the probes.
#[derive(Default)]
struct Finder<'a> {
    exprs: Vec<TextRange>,
    calls: Vec<&'a ast::ExprCall>,
    deletes: Vec<&'a ast::StmtDelete>,
}

impl<'a> Finder<'a> {
    /// The edits that make the front operation at `range` a call of the probe:
    /// `q.pop(0)` → `__pyslim_probe__.pop0(ID, q)`, `q.insert(0, v)` →
    /// `__pyslim_probe__.ins0(ID, q, v)`, `del q[0]` → `__pyslim_probe__.del0(ID, q)`;
    /// `q` and `v` keep their text (and any probe inside them).
    fn front(&self, range: TextRange, module: &SourceModule, id: u32) -> Option<Vec<Edit>> {
        let tokens = module.tokens();
        let first = |from: TextSize, to: TextSize, kind: TokenKind| {
            tokens
                .in_range(TextRange::new(from, to))
                .iter()
                .find(|t| t.kind() == kind)
                .map(Ranged::range)
        };
        if let Some(call) = self.calls.iter().find(|c| c.range() == range) {
            let Expr::Attribute(attr) = call.func.as_ref() else {
                return None;
            };
            let dot = first(attr.value.end(), attr.attr.start(), TokenKind::Dot)?;
            let args = &call.arguments.args;
            return match (attr.attr.as_str(), &args[..]) {
                ("pop", [_]) => Some(vec![
                    Edit::insertion(format!("__pyslim_probe__.pop0({id}, "), range.start()),
                    Edit::range_replacement(
                        ")".to_string(),
                        TextRange::new(dot.start(), range.end()),
                    ),
                ]),
                ("insert", [zero, value]) => {
                    let comma = first(zero.end(), value.start(), TokenKind::Comma)?;
                    Some(vec![
                        Edit::insertion(format!("__pyslim_probe__.ins0({id}, "), range.start()),
                        Edit::range_replacement(
                            ",".to_string(),
                            TextRange::new(dot.start(), comma.end()),
                        ),
                    ])
                }
                _ => None,
            };
        }
        let stmt = self.deletes.iter().find(|d| d.range() == range)?;
        let [Expr::Subscript(sub)] = stmt.targets.as_slice() else {
            return None;
        };
        Some(vec![
            Edit::range_replacement(
                format!("__pyslim_probe__.del0({id}, "),
                TextRange::new(range.start(), sub.value.start()),
            ),
            Edit::range_replacement(
                ")".to_string(),
                TextRange::new(sub.value.end(), range.end()),
            ),
        ])
    }
}

impl<'a> Visitor<'a> for Finder<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Delete(d) = stmt {
            self.deletes.push(d);
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::ListComp(_) => self.exprs.push(expr.range()),
            Expr::Call(call) => {
                self.exprs.push(expr.range());
                self.calls.push(call);
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

/// A hook the instrumented code calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `__pyslim_hit__(ID)` ([`hit_edit`]).
    Hit,
    /// `__pyslim_probe__.t(...)`, `.pop0(...)`, `.ins0(...)`, `.del0(...)`
    /// ([`probe_edits`]).
    Probe,
}

impl Hook {
    /// The module-level binding of the hook: the worker's, from `builtins`, or a
    /// stand-in that does what the code did before instrumenting, and records nothing.
    fn binding(self) -> &'static str {
        match self {
            Hook::Hit => {
                "__pyslim_hit__ = getattr(__import__(\"builtins\"), \"__pyslim_hit__\", None) \
                 or (lambda unit: None)"
            }
            Hook::Probe => {
                "__pyslim_probe__ = getattr(__import__(\"builtins\"), \"__pyslim_probe__\", None) \
                 or __import__(\"types\").SimpleNamespace(t=lambda site, value: value, \
                 pop0=lambda site, q: q.pop(0), ins0=lambda site, q, value: q.insert(0, value), \
                 del0=lambda site, q: q.__delitem__(0))"
            }
        }
    }
}

/// The text of an instrumented copy of `module`: `edits`, with the binding of `hook`
/// in front when there are any. `None` when the edits collide or the copy would not
/// parse: no run may use it, and the file stays as it is.
pub fn instrumented_copy(
    module: &SourceModule,
    mut edits: Vec<Edit>,
    hook: Hook,
) -> Option<String> {
    // First, so that it comes before an edit at the same place.
    if !edits.is_empty()
        && let Some(hooks) = hooks_edit(module, &[hook])
    {
        edits.insert(0, hooks);
    }
    if edits_overlap(&edits) {
        return None;
    }
    let copy = apply_edits(module.source(), edits.iter());
    crate::parse(&copy).is_ok().then_some(copy)
}

/// The edit that binds `hooks` in the module's namespace before any of its code runs,
/// so that the instrumented copy also runs where the worker did not install them: a
/// process the tests or the workload start (`subprocess`, `multiprocessing` with
/// `spawn`), which imports the same files, would otherwise stop on a `NameError`.
///
/// Placed after the docstring and the `from __future__` imports (which must come
/// first), else in front of the first statement that is simple, on its line, once
/// only undecorated `def`s (which call nothing) come before it; a leading `try` is
/// entered, as its body runs first. Where another compound statement comes first (a
/// class body, an `if`, a decorated function), no place on an existing line runs
/// before it, and the binding goes on a line of its own at the module's end (as in a
/// module of definitions only): it moves none of the user's lines, and only a call
/// made while the module is still being imported can miss it.
pub fn hooks_edit(module: &SourceModule, hooks: &[Hook]) -> Option<Edit> {
    if hooks.is_empty() {
        return None;
    }
    let bindings: Vec<&str> = hooks.iter().map(|h| h.binding()).collect();
    let bindings = bindings.join("; ");
    let body = &module.ast().body;
    let mut after = None;
    for (i, stmt) in body.iter().enumerate() {
        match stmt {
            Stmt::Expr(e) if i == 0 && e.value.is_string_literal_expr() => after = Some(stmt.end()),
            Stmt::ImportFrom(f) if f.module.as_deref() == Some("__future__") => {
                after = Some(stmt.end());
            }
            _ => break,
        }
    }
    if let Some(end) = after {
        return Some(Edit::insertion(format!("; {bindings}"), end));
    }
    if body.is_empty() {
        return None;
    }
    let mut first = body
        .iter()
        .find(|s| !matches!(s, Stmt::FunctionDef(f) if f.decorator_list.is_empty()));
    // A `try` body runs first, in the module's namespace (`try: import x` heads many
    // modules).
    while let Some(Stmt::Try(t)) = first {
        first = t.body.first();
    }
    // A leading `match` name cannot follow `; ` for ruff's parser, and wrapping it
    // could meet a probe's edit of the same statement: that module gets its binding
    // at the end.
    if let Some(first) = first
        && !ruff_python_ast::helpers::is_compound_statement(first)
        && !leads_with_match(module, first)
    {
        return Some(Edit::insertion(format!("{bindings}; "), first.start()));
    }
    // Definitions only, or a compound statement first: at the end.
    let source = module.source();
    let newline = if source.ends_with('\n') || source.ends_with('\r') {
        ""
    } else {
        "\n"
    };
    let end = TextSize::try_from(source.len()).ok()?;
    Some(Edit::insertion(format!("{newline}{bindings}\n"), end))
}

/// The edit that records unit `id` whenever the function defined at `def_range`
/// (a `def` statement's range, decorators excluded or not) starts running; `None` when
/// no edit keeps the lines (a body made only of nested definitions).
pub fn hit_edit(module: &SourceModule, def_start: TextSize, id: u32) -> Option<Edit> {
    let def = find_def(&module.ast().body, def_start)?;
    entry_edit(module, &def.body, id)
}

fn find_def(body: &[Stmt], start: TextSize) -> Option<&ast::StmtFunctionDef> {
    for stmt in body {
        if !stmt.range().contains_inclusive(start) {
            continue;
        }
        match stmt {
            Stmt::FunctionDef(def)
                if def.range.start() == start || def.name.range().start() == start =>
            {
                return Some(def);
            }
            Stmt::FunctionDef(def) => return find_def(&def.body, start),
            Stmt::ClassDef(class) => return find_def(&class.body, start),
            Stmt::If(s) => {
                return find_def(&s.body, start).or_else(|| {
                    s.elif_else_clauses
                        .iter()
                        .find_map(|c| find_def(&c.body, start))
                });
            }
            Stmt::Try(s) => {
                return find_def(&s.body, start)
                    .or_else(|| find_def(&s.orelse, start))
                    .or_else(|| find_def(&s.finalbody, start))
                    .or_else(|| {
                        s.handlers.iter().find_map(|h| {
                            let ast::ExceptHandler::ExceptHandler(h) = h;
                            find_def(&h.body, start)
                        })
                    });
            }
            Stmt::With(s) => return find_def(&s.body, start),
            Stmt::For(s) => return find_def(&s.body, start).or_else(|| find_def(&s.orelse, start)),
            Stmt::While(s) => {
                return find_def(&s.body, start).or_else(|| find_def(&s.orelse, start));
            }
            _ => return None,
        }
    }
    None
}

/// The call placed so it runs first in `body`, without adding a line.
fn entry_edit(module: &SourceModule, body: &[Stmt], id: u32) -> Option<Edit> {
    let call = format!("__pyslim_hit__({id})");
    let mut rest = body;
    // A docstring stays the docstring: the call follows it on its line.
    if let Some(Stmt::Expr(e)) = rest.first()
        && e.value.is_string_literal_expr()
    {
        return Some(Edit::insertion(format!("; {call}"), e.end()));
    }
    // Definitions without decorators, defaults or bases run nothing: the first
    // statement after them is where the body's own work starts.
    while let Some(stmt) = rest.first() {
        let inert = match stmt {
            Stmt::FunctionDef(d) => {
                d.decorator_list.is_empty()
                    && d.parameters
                        .iter_non_variadic_params()
                        .all(|p| p.default.is_none())
                    && d.returns.is_none()
            }
            Stmt::ClassDef(c) => c.decorator_list.is_empty() && c.arguments.is_none(),
            _ => false,
        };
        if !inert {
            break;
        }
        rest = &rest[1..];
    }
    let first = rest.first()?;
    let wrap = |expr: &Expr| {
        // `__pyslim_hit__(ID) or (expr)`: the hit returns None, so the value is `expr`.
        let source = module.source();
        let text = &source[expr.range()];
        // `match():` or `if():`: the keyword must not run into the call.
        let space = if source[..expr.start().to_usize()]
            .chars()
            .next_back()
            .is_some_and(is_identifier_char)
        {
            " "
        } else {
            ""
        };
        Edit::range_replacement(format!("{space}{call} or ({text})"), expr.range())
    };
    match first {
        Stmt::If(s) => Some(wrap(&s.test)),
        Stmt::While(s) => Some(wrap(&s.test)),
        Stmt::For(s) => Some(wrap(&s.iter)),
        Stmt::With(s) => s.items.first().map(|item| wrap(&item.context_expr)),
        Stmt::Match(s) => Some(wrap(&s.subject)),
        Stmt::Try(s) => entry_edit(module, &s.body, id),
        Stmt::FunctionDef(d) => d.decorator_list.first().map(|dec| wrap(&dec.expression)),
        Stmt::ClassDef(c) => c.decorator_list.first().map(|dec| wrap(&dec.expression)),
        // ruff's parser (whose check every instrumented copy must pass) reads
        // `call; match = x` as a misplaced match statement, though CPython accepts it:
        // `(match)` is the same name.
        _ if leads_with_match(module, first) => Some(Edit::range_replacement(
            format!("{call}; (match)"),
            TextRange::at(first.start(), TextSize::from(5)),
        )),
        // Every simple statement can follow `call; ` on its own line.
        _ => Some(Edit::insertion(format!("{call}; "), first.start())),
    }
}

/// Whether the simple statement `stmt` starts with the name `match` (`match = x`,
/// `match.group()`), which no statement may follow `; ` for ruff's parser.
fn leads_with_match(module: &SourceModule, stmt: &Stmt) -> bool {
    module.source()[stmt.start().to_usize()..]
        .strip_prefix("match")
        .is_some_and(|rest| !rest.chars().next().is_some_and(is_identifier_char))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// The range of the first `text` in `source`.
    fn range_of(source: &str, text: &str) -> TextRange {
        let at = source.find(text).unwrap() as u32;
        TextRange::at(TextSize::new(at), TextSize::new(text.len() as u32))
    }

    /// As the working copies are made: in order of position, edits at one place in
    /// the order given.
    fn apply(source: &str, edits: Vec<Edit>) -> String {
        assert!(!edits_overlap(&edits), "overlapping edits");
        apply_edits(source, edits.iter())
    }

    fn hit(source: &str, def: &str) -> String {
        let module = parse(source).unwrap();
        let at = TextSize::new(source.find(def).unwrap() as u32);
        let edit = hit_edit(&module, at, 7).expect("an edit");
        let out = apply(source, vec![edit]);
        assert!(parse(&out).is_ok(), "{out}");
        assert_eq!(out.lines().count(), source.lines().count(), "{out}");
        out
    }

    #[test]
    fn hits_keep_lines_and_docstrings() {
        assert_eq!(
            hit("def f(x):\n    return x\n", "def f"),
            "def f(x):\n    __pyslim_hit__(7); return x\n"
        );
        assert_eq!(
            hit("def f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n", "def f"),
            "def f(x):\n    \"\"\"Doc.\"\"\"; __pyslim_hit__(7)\n    return x\n"
        );
        assert_eq!(
            hit("class C:\n    def m(self): return 1\n", "def m"),
            "class C:\n    def m(self): __pyslim_hit__(7); return 1\n"
        );
    }

    #[test]
    fn a_leading_match_name_is_parenthesized() {
        assert_eq!(
            hit("def f(d):\n    match = g(d)\n    return match\n", "def f"),
            "def f(d):\n    __pyslim_hit__(7); (match) = g(d)\n    return match\n"
        );
        assert_eq!(
            hit("def f(m):\n    match.group(1)\n", "def f"),
            "def f(m):\n    __pyslim_hit__(7); (match).group(1)\n"
        );
        assert_eq!(
            hit("def f(m):\n    matched = m\n", "def f"),
            "def f(m):\n    __pyslim_hit__(7); matched = m\n"
        );
        assert_eq!(
            hit(
                "def f():\n    match():\n        case ():\n            pass\n",
                "def f"
            ),
            "def f():\n    match __pyslim_hit__(7) or (()):\n        case ():\n            pass\n"
        );
        // A match statement is entered through its subject.
        assert_eq!(
            hit(
                "def f(m):\n    match m:\n        case 1:\n            pass\n",
                "def f"
            ),
            "def f(m):\n    match __pyslim_hit__(7) or (m):\n        case 1:\n            pass\n"
        );
    }

    #[test]
    fn hits_enter_compound_statements() {
        assert_eq!(
            hit("def f(xs):\n    for x in xs:\n        pass\n", "def f"),
            "def f(xs):\n    for x in __pyslim_hit__(7) or (xs):\n        pass\n"
        );
        assert_eq!(
            hit("def f(a):\n    if a > 1:\n        return 2\n", "def f"),
            "def f(a):\n    if __pyslim_hit__(7) or (a > 1):\n        return 2\n"
        );
        assert_eq!(
            hit(
                "def f():\n    try:\n        g()\n    finally:\n        h()\n",
                "def f"
            ),
            "def f():\n    try:\n        __pyslim_hit__(7); g()\n    finally:\n        h()\n"
        );
        assert_eq!(
            hit(
                "def f():\n    def g():\n        pass\n    return g\n",
                "def f"
            ),
            "def f():\n    def g():\n        pass\n    __pyslim_hit__(7); return g\n"
        );
    }

    /// The module with its hooks bound, checked to parse; the binding's text is shown
    /// as `B`.
    fn hooked(source: &str) -> String {
        let module = parse(source).unwrap();
        let edit = hooks_edit(&module, &[Hook::Hit]).expect("an edit");
        let out = apply(source, vec![edit]);
        assert!(parse(&out).is_ok(), "{out}");
        assert!(out.lines().count() <= source.lines().count() + 1, "{out}");
        out.replace(Hook::Hit.binding(), "B")
    }

    #[test]
    fn hooks_come_after_what_must_be_first_and_before_what_runs() {
        assert_eq!(hooked("import os\nx = 1\n"), "B; import os\nx = 1\n");
        assert_eq!(
            hooked("\"\"\"Doc.\"\"\"\nimport os\n"),
            "\"\"\"Doc.\"\"\"; B\nimport os\n"
        );
        assert_eq!(
            hooked("\"\"\"Doc.\"\"\"\nfrom __future__ import annotations  # why\nimport os\n"),
            "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations; B  # why\nimport os\n"
        );
        // An undecorated def runs nothing: the first statement after it still runs first.
        assert_eq!(
            hooked("def f():\n    return 1\nX = f()\n"),
            "def f():\n    return 1\nB; X = f()\n"
        );
        // `match` as a name cannot follow `; ` for ruff's parser: at the end.
        assert_eq!(hooked("match = 1\n"), "match = 1\nB\n");
        assert_eq!(hooked("matches = 1\n"), "B; matches = 1\n");
        // Nothing but definitions, which run nothing: at the end.
        assert_eq!(
            hooked("def f():\n    return 1\n"),
            "def f():\n    return 1\nB\n"
        );
        // Nothing simple runs first: a line of its own at the end, with or without a
        // final newline (LF or CRLF).
        assert_eq!(
            hooked(
                "try:\n    try:\n        import a\n    except ImportError:\n        a = None\nfinally:\n    pass\nX = 1\n"
            ),
            "try:\n    try:\n        B; import a\n    except ImportError:\n        a = None\nfinally:\n    pass\nX = 1\n"
        );
        assert_eq!(
            hooked("try:\n    if a:\n        pass\nexcept E:\n    pass\n"),
            "try:\n    if a:\n        pass\nexcept E:\n    pass\nB\n"
        );
        assert_eq!(
            hooked("class C:\n    pass\nX = 1\n"),
            "class C:\n    pass\nX = 1\nB\n"
        );
        assert_eq!(
            hooked("@d\ndef f():\n    pass"),
            "@d\ndef f():\n    pass\nB\n"
        );
        assert_eq!(hooked("if X:\r\n    pass\r\n"), "if X:\r\n    pass\r\nB\n");
        assert!(hooks_edit(&parse("").unwrap(), &[Hook::Hit]).is_none());
        assert!(hooks_edit(&parse("x = 1\n").unwrap(), &[]).is_none());
    }

    #[test]
    fn hook_bindings_stand_in_for_the_worker() {
        let source = format!(
            "{}\n",
            [Hook::Hit, Hook::Probe].map(Hook::binding).join("; ")
        );
        assert!(parse(&source).is_ok(), "{source}");
    }

    #[test]
    fn scopes() {
        let source = "X = [1]\nclass C:\n    def m(self):\n        return [2]\n    def n(self): pass\ndef f():\n    def g():\n        return [3]\n    return [4]\n";
        let module = parse(source).unwrap();
        let at = |text: &str| TextSize::new(source.find(text).unwrap() as u32);
        assert_eq!(scope_of(&module, at("[1]")), Scope::Module);
        assert_eq!(
            scope_of(&module, at("C:")),
            Scope::Class(vec![at("def m"), at("def n")])
        );
        assert_eq!(scope_of(&module, at("[2]")), Scope::Function(at("def m")));
        assert_eq!(scope_of(&module, at("[3]")), Scope::Function(at("def g")));
        assert_eq!(scope_of(&module, at("[4]")), Scope::Function(at("def f")));
    }

    /// Probes nest, and keep the text of what they hold: parentheses, comments.
    #[test]
    fn probes_nest() {
        let source = "def f(q, rows, p):\n    q.insert(0, sum([x for x in rows]))\n    (q).pop(0)\n    del (q)[0]\n    q.insert(0,[a for a in p]).pop(0)\n    [b for b in p].pop(0)\n";
        let module = parse(source).unwrap();
        let range = |text: &str| range_of(source, text);
        let probes = [
            (
                1,
                ProbeAt::Queue(range("q.insert(0, sum([x for x in rows]))")),
            ),
            (2, ProbeAt::Transient(range("[x for x in rows]"))),
            (3, ProbeAt::Queue(range("(q).pop(0)"))),
            (4, ProbeAt::Queue(range("del (q)[0]"))),
            (5, ProbeAt::Transient(range("[a for a in p]"))),
            (6, ProbeAt::Queue(range("q.insert(0,[a for a in p])"))),
            (
                7,
                ProbeAt::Queue(range("q.insert(0,[a for a in p]).pop(0)")),
            ),
            (8, ProbeAt::Transient(range("[b for b in p]"))),
            (9, ProbeAt::Queue(range("[b for b in p].pop(0)"))),
        ];
        let (edits, missing) = probe_edits(&module, &probes);
        assert!(missing.is_empty(), "{missing:?}");
        let out = apply(source, edits);
        assert!(parse(&out).is_ok(), "{out}");
        assert_eq!(
            out,
            "def f(q, rows, p):\n    \
             __pyslim_probe__.ins0(1, q, sum(__pyslim_probe__.t(2, [x for x in rows])))\n    \
             __pyslim_probe__.pop0(3, (q))\n    \
             __pyslim_probe__.del0(4, q)\n    \
             __pyslim_probe__.pop0(7, __pyslim_probe__.ins0(6, q,__pyslim_probe__.t(5, [a for a in p])))\n    \
             __pyslim_probe__.pop0(9, __pyslim_probe__.t(8, [b for b in p]))\n"
        );
    }

    #[test]
    fn probes_wrap_and_replace() {
        let source = "import x\ndef f(q, xs):\n    s = sum([a for a in xs])\n    q.pop(0)\n    q.insert(0, s)\n    del q[0]\n";
        let module = parse(source).unwrap();
        let range = |text: &str| range_of(source, text);
        let probes = [
            (1, ProbeAt::Transient(range("[a for a in xs]"))),
            (2, ProbeAt::Queue(range("q.pop(0)"))),
            (3, ProbeAt::Queue(range("q.insert(0, s)"))),
            (4, ProbeAt::Queue(range("del q[0]"))),
            (5, ProbeAt::Transient(range("import x"))),
        ];
        let (edits, missing) = probe_edits(&module, &probes);
        assert_eq!(missing, vec![5]);
        assert_eq!(
            apply(source, edits),
            "import x\ndef f(q, xs):\n    s = sum(__pyslim_probe__.t(1, [a for a in xs]))\n    __pyslim_probe__.pop0(2, q)\n    __pyslim_probe__.ins0(3, q, s)\n    __pyslim_probe__.del0(4, q)\n"
        );
    }
}

/// Where a fix's code runs, for choosing the tests that reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Inside this function (the innermost `def` around the construct).
    Function(TextSize),
    /// A class: its methods, by their `def` starts (empty: it has none).
    Class(Vec<TextSize>),
    /// Module level: runs when the module is imported.
    Module,
}

/// The scope of the construct at `offset`: for a class statement's name, the class
/// (its methods); otherwise the innermost function around it, else the module.
pub fn scope_of(module: &SourceModule, offset: TextSize) -> Scope {
    let mut finder = ScopeFinder {
        offset,
        function: None,
        class: None,
    };
    finder.visit_body(&module.ast().body);
    if let Some(class) = finder.class {
        return Scope::Class(
            class
                .body
                .iter()
                .filter_map(|s| match s {
                    Stmt::FunctionDef(d) => Some(d.range.start()),
                    _ => None,
                })
                .collect(),
        );
    }
    match finder.function {
        Some(start) => Scope::Function(start),
        None => Scope::Module,
    }
}

struct ScopeFinder<'a> {
    offset: TextSize,
    function: Option<TextSize>,
    class: Option<&'a ast::StmtClassDef>,
}

impl<'a> Visitor<'a> for ScopeFinder<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if !stmt.range().contains_inclusive(self.offset) {
            return;
        }
        match stmt {
            Stmt::ClassDef(class) if class.name.range().start() == self.offset => {
                self.class = Some(class);
            }
            Stmt::FunctionDef(def) => {
                self.function = Some(def.range.start());
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }
}
