//! ## What it does
//! Turns a list display bound to a name into a tuple display when the list is never
//! mutated and every use also works on a tuple: iteration, `in`, `len`, indexing,
//! unpacking, truth tests, and slices that are only iterated. For a module-level name,
//! the same must hold in every project module that imports it.
//!
//! ## Why is this bad?
//! A list carries a 16 B larger header than a tuple plus spare capacity (10 ints: 136 B
//! as a list, 120 B as a tuple). A tuple made only of constants is folded into a
//! constant at compile time and costs nothing per evaluation, where the list display
//! allocates a new list every time the line runs (in a function: on every call).
//!
//! Literal lists used directly as `for x in [1, 2, 3]` or `x in [a, b]` are left alone:
//! CPython already compiles those as tuples, so rewriting them saves nothing.
//!
//! ## Example
//! ```python
//! def is_weekend(day):
//!     weekend = ["sat", "sun"]
//!     return day in weekend
//! ```
//! becomes
//! ```python
//! def is_weekend(day):
//!     weekend = ("sat", "sun")
//!     return day in weekend
//! ```
//!
//! ## Fix safety
//! Safe when every use is proven to accept a tuple. Unsafe when the name is exported
//! (listed in `__all__`, or public in a package `__init__.py`): code outside the project
//! may mutate it or compare it with a list. Left alone when the list is mutated,
//! compared (a tuple never equals a list), concatenated, sliced into something that
//! flows on, passed to a call, returned, stored, printed, or captured by a closure; and
//! when the binding is annotated (the annotation would need to change too).
//!
//! Only the brackets change (a one-element list gains its trailing comma), so comments
//! and layout inside the display are kept.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{Expr, ExprList};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::bindings::project::{self, FileUses, ProjectUses};
use crate::bindings::{self, ScopeKind, Site, Tracked, UseClass};
use crate::{
    Edit, FileContext, FileFacts, Finding, Fix, Impact, ModuleInfo, Note, Output, ProjectFacts,
    Transform,
};

const DOC: &str = "What it does: turns a list display bound to a name into a tuple display when the list is never mutated and every use also works on a tuple (iteration, `in`, `len`, indexing, unpacking, truth tests, slices that are only iterated), here and in every project module that imports it.

Why: a list has a 16 B larger header than a tuple plus spare capacity (10 ints: 136 B vs 120 B). A tuple of constants is built once at compile time; a list display allocates a new list every time it runs (in a function, on every call). `for x in [1, 2, 3]` and `x in [a, b]` are left alone: CPython already compiles those as tuples.

Example:
    def is_weekend(day):
        weekend = [\"sat\", \"sun\"]        ->   weekend = (\"sat\", \"sun\")
        return day in weekend

Fix safety: safe when every use is proven to accept a tuple; unsafe when the name is exported (`__all__`, or public in a package `__init__.py`): outside code may mutate it or compare it with a list. Left alone when mutated, compared, concatenated, sliced into something that flows on, passed to a call, returned, stored, printed, captured by a closure, or annotated. Only the brackets change, so comments inside are kept.";

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
        DOC
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
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::EllipsisLiteral(_) => true,
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
        impact: Impact::Memory,
    })
}
