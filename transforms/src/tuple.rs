#![doc = include_str!("tuple.md")]

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{Expr, ExprList};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::bindings::project::{self, FileUses, ProjectUses};
use crate::bindings::{self, ScopeKind, Site, Tracked, UseClass};
use crate::{
    Edit, FileContext, FileFacts, Finding, Fix, MayReport, ModuleInfo, Note, Output, PerUnit,
    Prepared, ProjectFacts, Saving, Settings, Subject, Transform,
};

/// The `tuple` transform.
pub struct TupleTransform;

const NAME: &str = "tuple";

impl Transform for TupleTransform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "never-mutated list displays bound to a name become tuples"
    }

    fn applicability(&self) -> &'static str {
        "safe when every use is proven; unsafe for public module-level names"
    }

    fn documentation(&self) -> &'static str {
        include_str!("tuple.md")
    }

    fn needs_index(&self) -> bool {
        true
    }

    fn index_file(&self, ctx: &FileContext) -> Option<FileFacts> {
        Some(Box::new(project::index_file(ctx.module, ctx.info)))
    }

    fn index_project(&self, files: Vec<FileFacts>) -> Option<ProjectFacts> {
        let uses = files
            .into_iter()
            .filter_map(|facts| facts.downcast::<FileUses>().ok().map(|f| *f));
        Some(Box::new(ProjectUses::new(uses)))
    }

    fn prepare(&self, ctx: &FileContext) -> Prepared {
        // Only `name = [...]` bindings are candidates; most files have none, and the
        // binding analysis is the costly part of a whole-tree run.
        if !has_list_assignment(ctx.module.tokens()) {
            return Prepared::nothing();
        }
        let candidates = candidates(ctx);
        // The view only decides, for a module-level list, between a fix and a note; it
        // never turns a note into a fix (see `Candidate::finish`). A file with notes
        // only is spared being read again where nobody shows notes.
        let may = if candidates
            .iter()
            .any(|c| !matches!(c, Candidate::Decided(Err(_))))
        {
            MayReport::Fixes
        } else if candidates.is_empty() {
            MayReport::Nothing
        } else {
            MayReport::Notes
        };
        Prepared {
            may,
            data: Box::new(candidates),
        }
    }

    fn finish(
        &self,
        prepared: &(dyn std::any::Any + Send + Sync),
        project: Option<&(dyn std::any::Any + Send + Sync)>,
        info: &ModuleInfo,
        _settings: &Settings,
        _source: &str,
    ) -> Output {
        let Some(candidates) = prepared.downcast_ref::<Vec<Candidate>>() else {
            return Output::default();
        };
        let project = project.and_then(|p| p.downcast_ref::<ProjectUses>());
        let mut out = Output::default();
        for candidate in candidates {
            match candidate.finish(project, info) {
                Some(Ok(finding)) => out.findings.push(finding),
                Some(Err(note)) => out.notes.push(note),
                None => {}
            }
        }
        out
    }

    fn run(&self, ctx: &FileContext) -> Output {
        crate::run_prepared(self, ctx)
    }
}

/// A list bound to a name that nothing in its file mutates, as its file alone decides
/// it.
enum Candidate {
    /// A fix, or a note on why it stays a list.
    Decided(Result<Option<Finding>, Note>),
    /// A module-level name whose other uses are in other modules: the project view
    /// decides.
    ModuleLevel {
        /// The name.
        name: String,
        /// Code outside the project may read it ([`project::Exports::visible_outside`]).
        public: bool,
        /// The list display.
        list: TextRange,
        /// The rewrite, if it applies.
        rewrite: Option<Rewrite>,
    },
}

impl Candidate {
    /// The fix or note in the module `info`, with the project's uses when known.
    fn finish(
        &self,
        project: Option<&ProjectUses>,
        info: &ModuleInfo,
    ) -> Option<Result<Finding, Note>> {
        match self {
            Candidate::Decided(Ok(finding)) => finding.clone().map(Ok),
            Candidate::Decided(Err(note)) => Some(Err(note.clone())),
            Candidate::ModuleLevel {
                name,
                public,
                list,
                rewrite,
            } => match elsewhere(name, *public, project, info) {
                Ok(public) => rewrite.as_ref().map(|r| Ok(r.finding(public))),
                Err(reason) => Some(Err(stays(name, *list, &reason))),
            },
        }
    }
}

/// The file's candidates, in source order.
fn candidates(ctx: &FileContext) -> Vec<Candidate> {
    let ast = ctx.module.ast();
    let exports = project::exports(ast);
    let mut out = Vec::new();
    for tracked in bindings::analyze(ast, &|e| e.is_list_expr(), true, true) {
        let Expr::List(list) = tracked.value else {
            continue;
        };
        // `__all__` and other dunders are read by tools that may expect a list.
        if crate::syntax::is_dunder(tracked.name) {
            continue;
        }
        // A list that is mutated here is plainly a list: no note.
        if tracked
            .uses
            .iter()
            .any(|u| u.kind.class() == UseClass::Mutation)
        {
            continue;
        }
        let candidate = match verdict(&tracked, ctx) {
            Err(reason) => Candidate::Decided(Err(stays(tracked.name, list.range, &reason))),
            Ok(ScopeKind::Module) => Candidate::ModuleLevel {
                name: tracked.name.to_string(),
                public: exports.visible_outside(tracked.name),
                list: list.range,
                rewrite: rewrite(ctx, &tracked, list),
            },
            Ok(ScopeKind::Function(_)) => {
                Candidate::Decided(Ok(rewrite(ctx, &tracked, list).map(|r| r.finding(false))))
            }
        };
        out.push(candidate);
    }
    out
}

/// The note keeping the list `name` at `list` a list.
fn stays(name: &str, list: TextRange, reason: &str) -> Note {
    Note {
        transform: NAME,
        range: list,
        reason: format!("`{name}` stays a list: {reason}"),
    }
}

/// `Ok(scope)` when the rewrite is proven for every use in the file; a module-level
/// name still has [`elsewhere`] to pass.
fn verdict<'a>(tracked: &Tracked<'a>, ctx: &FileContext) -> Result<ScopeKind<'a>, String> {
    if let Some(blocked) = tracked.blocked {
        return Err(blocked.to_string());
    }
    if matches!(tracked.site, Site::AnnAssign(_)) {
        return Err("it is annotated; the annotation would need to change too".into());
    }
    if let Some(u) = tracked
        .uses
        .iter()
        .find(|u| u.kind.class() != UseClass::Read)
    {
        let (line, _) = ctx.module.line_column(u.range.start());
        return Err(format!("{} on line {line}", u.kind.describe()));
    }
    Ok(tracked.scope)
}

/// For a module-level `name` of the module `info`: `Ok(public)` when no other module
/// of the project may need a list, `public` meaning code outside the project may read
/// it.
fn elsewhere(
    name: &str,
    public: bool,
    project: Option<&ProjectUses>,
    info: &ModuleInfo,
) -> Result<bool, String> {
    match project {
        Some(project) => {
            let external = project.external(&info.name, name);
            if external.module_escapes {
                return Err("its module object is passed around elsewhere".into());
            }
            if let Some(at) = &external.computed_import {
                return Err(format!(
                    "its module may be imported by a computed name ({at})"
                ));
            }
            if external.star_imported && !name.starts_with('_') {
                return Err("its module is star-imported elsewhere".into());
            }
            if let Some(class) = external.uses.iter().find(|c| **c != UseClass::Read) {
                return Err(format!(
                    "another module {} (a tuple may not support that)",
                    class.describe()
                ));
            }
            Ok(public)
        }
        // Without a project view, any public name may be imported elsewhere.
        None => Ok(public || !name.starts_with('_')),
    }
}

fn is_constant(expr: &Expr) -> bool {
    match expr {
        _ if expr.is_literal_expr() => true,
        Expr::UnaryOp(u) => u.operand.is_number_literal_expr(),
        Expr::Tuple(t) => t.elts.iter().all(is_constant),
        _ => false,
    }
}

/// The edits turning the list into a tuple, and what they save.
struct Rewrite {
    /// The list display.
    list: TextRange,
    /// `[` to `(`.
    open: Edit,
    /// `]` to `)`, and a comma after a single element.
    rest: Vec<Edit>,
    /// The message of a safe fix.
    message: String,
}

impl Rewrite {
    /// The fix: unsafe when the name is `public`.
    fn finding(&self, public: bool) -> Finding {
        let mut message = self.message.clone();
        let (open, rest) = (self.open.clone(), self.rest.clone());
        let fix = if public {
            message.push_str(
                "; unsafe: the name is public, and code outside the project may expect a list (its users, or a tool that loads the module, as Sphinx loads conf.py)",
            );
            Fix::unsafe_edits(open, rest)
        } else {
            Fix::safe_edits(open, rest)
        };
        Finding {
            transform: NAME,
            range: self.list,
            message,
            fix,
            saving: Saving {
                subject: Subject::Lists {
                    created: self.list,
                    filled: Vec::new(),
                },
                per_unit: PerUnit::Tuple,
            },
        }
    }
}

fn rewrite(ctx: &FileContext, tracked: &Tracked, list: &ExprList) -> Option<Rewrite> {
    let open = TextRange::at(list.start(), TextSize::new(1));
    let close = TextRange::at(list.end().checked_sub(TextSize::new(1))?, TextSize::new(1));
    if &ctx.module.source()[open] != "[" || &ctx.module.source()[close] != "]" {
        return None;
    }
    let mut rest = vec![Edit::range_replacement(")".to_string(), close)];
    if let [only] = list.elts.as_slice() {
        let after = TextRange::new(only.end(), close.start());
        let has_comma = ctx
            .module
            .tokens()
            .in_range(after)
            .iter()
            .any(|t| t.kind() == TokenKind::Comma);
        if !has_comma {
            rest.push(Edit::insertion(",".to_string(), only.end()));
        }
    }
    let n = list.elts.len();
    let constant = list.elts.iter().all(is_constant);
    let saving = match (tracked.scope, constant) {
        (ScopeKind::Function(_), true) => format!(
            "a tuple of constants is built once at compile time instead of a new list of about {} B on every call",
            56 + 8 * n
        ),
        (ScopeKind::Function(_), false) => {
            "a tuple saves the list's 16 B header plus spare capacity on every call".to_string()
        }
        (ScopeKind::Module, true) => {
            "a tuple saves the list's 16 B header plus spare capacity, and a tuple of constants is built at compile time".to_string()
        }
        (ScopeKind::Module, false) => {
            "a tuple saves the list's 16 B header plus spare capacity".to_string()
        }
    };
    Some(Rewrite {
        list: list.range,
        open: Edit::range_replacement("(".to_string(), open),
        rest,
        message: format!("`{}` is never mutated: {saving}", tracked.name),
    })
}

/// Whether an `=` is directly followed by `[` anywhere in the file (comments and line
/// breaks inside brackets are not tokens that separate them).
fn has_list_assignment(tokens: &ruff_python_ast::token::Tokens) -> bool {
    use ruff_python_ast::token::TokenKind;
    let mut previous = TokenKind::Newline;
    for token in tokens.iter() {
        let kind = token.kind();
        if kind.is_trivia() {
            continue;
        }
        if previous == TokenKind::Equal && kind == TokenKind::Lsqb {
            return true;
        }
        previous = kind;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Applicability::{Safe, Unsafe};
    use crate::Settings;
    use crate::testing::{applied, reasons, run, run_modules};

    /// The rewritten text, the applicability and message of each finding, and the
    /// notes, for one module.
    fn decide(source: &str) -> (String, Vec<(crate::Applicability, String)>, Vec<String>) {
        let output = run(&TupleTransform, source);
        let (text, _) = applied(source, &output);
        let findings = output
            .findings
            .iter()
            .map(|f| (f.fix.applicability(), f.message.clone()))
            .collect();
        let notes = reasons(&output).into_iter().map(str::to_string).collect();
        (text, findings, notes)
    }

    #[test]
    fn a_local_list_only_read_becomes_a_tuple() {
        let (text, findings, notes) =
            decide("def f(day):\n    weekend = [\"sat\", \"sun\"]\n    return day in weekend\n");
        assert_eq!(
            text,
            "def f(day):\n    weekend = (\"sat\", \"sun\")\n    return day in weekend\n"
        );
        // 56 B of list header plus two 8 B pointers, on every call.
        assert_eq!(
            findings,
            [(
                Safe,
                "`weekend` is never mutated: a tuple of constants is built once at compile time instead of a new list of about 72 B on every call".to_string()
            )]
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn one_element_gains_its_comma_and_non_constants_save_only_the_header() {
        let (text, ..) = decide("def f():\n    one = [1]\n    for x in one:\n        print(x)\n");
        assert_eq!(
            text,
            "def f():\n    one = (1,)\n    for x in one:\n        print(x)\n"
        );
        let (text, findings, _) = decide("def f(a):\n    xs = [a, 2]\n    return len(xs)\n");
        assert_eq!(text, "def f(a):\n    xs = (a, 2)\n    return len(xs)\n");
        assert_eq!(
            findings,
            [(
                Safe,
                "`xs` is never mutated: a tuple saves the list's 16 B header plus spare capacity on every call".to_string()
            )]
        );
    }

    #[test]
    fn a_public_name_is_unsafe_and_a_private_or_unlisted_one_safe() {
        let unsafe_x = "`X` is never mutated: a tuple saves the list's 16 B header plus spare capacity, and a tuple of constants is built at compile time; unsafe: the name is public, and code outside the project may expect a list (its users, or a tool that loads the module, as Sphinx loads conf.py)".to_string();
        let (text, findings, _) = decide("__all__ = ['X']\nX = [1, 2]\n");
        assert_eq!(text, "__all__ = ['X']\nX = (1, 2)\n");
        assert_eq!(findings, [(Unsafe, unsafe_x.clone())]);
        // Without `__all__`, in a module that is no package too: Sphinx reads
        // `extensions` from conf.py, which nothing in the project imports.
        let (_, findings, _) = decide("X = [1, 2]\n");
        assert_eq!(findings, [(Unsafe, unsafe_x)]);
        // A private name, and a name a literal `__all__` leaves out, are the project's:
        // the project index sees every importer, and nobody mutates them.
        let (_, findings, _) = decide("_X = [1, 2]\n");
        assert_eq!(findings[0].0, Safe);
        let (_, findings, _) = decide("__all__ = ['X']\nX = 1\nY = [1, 2]\n");
        assert_eq!(findings[0].0, Safe);
    }

    #[test]
    fn what_a_tuple_cannot_do_keeps_the_list_with_a_note() {
        for (source, note) in [
            (
                "def f():\n    xs: list = [1]\n    return len(xs)\n",
                "`xs` stays a list: it is annotated; the annotation would need to change too",
            ),
            (
                "def f():\n    xs = [1]\n    g(xs)\n",
                "`xs` stays a list: passed to `g` on line 3",
            ),
            (
                "def f():\n    xs = [1]\n    return xs == [1]\n",
                "`xs` stays a list: compared on line 3",
            ),
        ] {
            let (text, findings, notes) = decide(source);
            assert_eq!(text, source);
            assert!(findings.is_empty(), "{findings:?}");
            assert_eq!(notes, [note]);
        }
    }

    #[test]
    fn mutated_lists_and_dunder_names_are_not_candidates() {
        for source in [
            "def f():\n    xs = [1]\n    xs.append(2)\n    return len(xs)\n",
            "__x__ = [1]\n",
        ] {
            assert_eq!(decide(source), (source.to_string(), Vec::new(), Vec::new()));
        }
    }

    #[test]
    fn without_the_view_it_tells_fixes_from_notes_only() {
        let may = |source: &str| {
            let module = crate::parse(source).expect("test source parses");
            let info = crate::ModuleInfo {
                name: "m".into(),
                is_package: false,
                path: "m.py".into(),
            };
            let settings = Settings::default();
            TupleTransform
                .prepare(&FileContext {
                    module: &module,
                    info: &info,
                    settings: &settings,
                    project: None,
                    read_only: false,
                })
                .may
        };
        let fixes = "def f(day):\n    weekend = ['sat', 'sun']\n    return day in weekend\n";
        let notes = "def f():\n    xs = [1]\n    return xs\n";
        assert_eq!(may(fixes), MayReport::Fixes);
        assert_eq!(may(notes), MayReport::Notes);
        assert_eq!(may("xs = [1]\nxs.append(2)\n"), MayReport::Nothing);
        assert_eq!(may("x = 1\n"), MayReport::Nothing);
        // The view never turns a note into a fix: a notes-only file keeps no fix with
        // it, so a run that shows no notes may leave it unparsed.
        let outputs = run_modules(
            &TupleTransform,
            &[("m", false, notes), ("other", false, "import m\n")],
            &Settings::default(),
        );
        assert!(outputs[0].findings.is_empty());
        assert!(!outputs[0].notes.is_empty());
    }

    #[test]
    fn other_modules_decide_for_a_module_level_name() {
        let consts = "NAMES = ['a', 'b']\n_NAMES = ['a', 'b']\n";
        let run = |importer: &str| {
            let outputs = run_modules(
                &TupleTransform,
                &[("consts", false, consts), ("main", false, importer)],
                &Settings::default(),
            );
            let consts = &outputs[0];
            (
                consts
                    .findings
                    .iter()
                    .map(|f| f.fix.applicability())
                    .collect::<Vec<_>>(),
                reasons(consts)
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )
        };
        // Only read elsewhere: the private name is proven, the public one may also be
        // read outside the project.
        assert_eq!(
            run("from consts import NAMES, _NAMES\nfor n in NAMES:\n    print(n, _NAMES[0])\n"),
            (vec![Unsafe, Safe], vec![])
        );
        assert_eq!(
            run("from consts import NAMES\nNAMES.append('c')\n"),
            (
                vec![Safe],
                vec![
                    "`NAMES` stays a list: another module changes it (a tuple may not support that)"
                        .to_string()
                ]
            )
        );
        assert_eq!(
            run("from consts import *\nprint(NAMES)\n"),
            (
                vec![Safe],
                vec!["`NAMES` stays a list: its module is star-imported elsewhere".to_string()]
            )
        );
        // docutils loads its language modules by a computed name and then checks
        // `isinstance(module.author_separators, list)`: no use of the name is visible.
        assert_eq!(
            run("import importlib\n\n\
                 def load(name):\n    return importlib.import_module('cons' + name)\n"),
            (
                vec![],
                ["NAMES", "_NAMES"]
                    .map(|n| format!("`{n}` stays a list: its module may be imported by a computed name (`import_module` in main, line 4)"))
                    .to_vec()
            )
        );
        // A computed name that cannot stand for `consts` leaves it to its uses.
        assert_eq!(
            run("import importlib\nm = importlib.import_module('plugins.' + name)\n"),
            (vec![Unsafe, Safe], vec![])
        );
    }
}
