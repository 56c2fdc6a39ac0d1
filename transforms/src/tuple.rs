#![doc = include_str!("tuple.md")]

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{Expr, ExprList};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::bindings::project::{self, FileUses, ProjectUses};
use crate::bindings::{self, ScopeKind, Site, Tracked, UseClass};
use crate::{
    Edit, FileContext, FileFacts, Finding, Fix, ModuleInfo, Note, Output, PerUnit, ProjectFacts,
    Saving, Subject, Transform,
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
        "safe when every use is proven; unsafe for exported module-level names"
    }

    fn documentation(&self) -> &'static str {
        include_str!("tuple.md")
    }

    fn needs_index(&self) -> bool {
        true
    }

    fn index_file(&self, ctx: &FileContext) -> Option<FileFacts> {
        Some(Box::new(project::index_file(ctx.module.ast(), ctx.info)))
    }

    fn index_project(&self, files: Vec<(ModuleInfo, FileFacts)>) -> Option<ProjectFacts> {
        let uses = files
            .into_iter()
            .filter_map(|(_, facts)| facts.downcast::<FileUses>().ok().map(|f| *f));
        Some(Box::new(ProjectUses::new(uses)))
    }

    fn run(&self, ctx: &FileContext) -> Output {
        // Only `name = [...]` bindings are candidates; most files have none, and the
        // binding analysis is the costly part of a whole-tree run.
        if !has_list_assignment(ctx.module.tokens()) {
            return Output::default();
        }
        let ast = ctx.module.ast();
        let project = ctx.project.and_then(|p| p.downcast_ref::<ProjectUses>());
        let exports = project::exports(ast);
        let mut out = Output::default();
        for tracked in bindings::analyze(ast, &|e| e.is_list_expr(), true, true) {
            let Expr::List(list) = tracked.value else {
                continue;
            };
            // `__all__` and other dunders are read by tools that may expect a list.
            if tracked.name.starts_with("__") && tracked.name.ends_with("__") {
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
            match verdict(&tracked, ctx, project, &exports) {
                Err(reason) => out.notes.push(Note {
                    transform: NAME,
                    range: list.range,
                    reason: format!("`{}` stays a list: {reason}", tracked.name),
                }),
                Ok(exported) => {
                    if let Some(finding) = finding(ctx, &tracked, list, exported) {
                        out.findings.push(finding);
                    }
                }
            }
        }
        out
    }
}

/// `Ok(exported)` when the rewrite is proven for all known uses; `exported` means code
/// outside the project may use the name.
fn verdict(
    tracked: &Tracked,
    ctx: &FileContext,
    project: Option<&ProjectUses>,
    exports: &project::Exports,
) -> Result<bool, String> {
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
    let ScopeKind::Module = tracked.scope else {
        return Ok(false);
    };
    let exported = exports.exposes(tracked.name, ctx.info.is_package);
    match project {
        Some(project) => {
            let external = project.external(&ctx.info.name, tracked.name);
            if external.module_escapes {
                return Err("its module object is passed around elsewhere".into());
            }
            if external.star_imported && !tracked.name.starts_with('_') {
                return Err("its module is star-imported elsewhere".into());
            }
            if let Some(class) = external.uses.iter().find(|c| **c != UseClass::Read) {
                return Err(format!(
                    "another module uses it in a way a tuple may not support ({class:?})"
                ));
            }
            Ok(exported)
        }
        // Without a project view, any public name may be imported elsewhere.
        None => Ok(exported || !tracked.name.starts_with('_')),
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

fn finding(
    ctx: &FileContext,
    tracked: &Tracked,
    list: &ExprList,
    exported: bool,
) -> Option<Finding> {
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
    let first = Edit::range_replacement("(".to_string(), open);
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
    let mut message = format!("`{}` is never mutated: {saving}", tracked.name);
    let fix = if exported {
        message.push_str(
            "; unsafe: the name is exported, and code outside the project may expect a list",
        );
        Fix::unsafe_edits(first, rest)
    } else {
        Fix::safe_edits(first, rest)
    };
    Some(Finding {
        transform: NAME,
        range: list.range,
        message,
        fix,
        saving: Saving {
            subject: Subject::Lists {
                created: list.range,
                filled: Vec::new(),
            },
            per_unit: PerUnit::Tuple,
        },
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
