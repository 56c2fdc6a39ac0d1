#![doc = include_str!("doc.md")]

mod decide;
mod index;
mod rewrite;
mod safety;
mod signature;
mod types;
mod verdict;

use rayon::prelude::*;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::{
    FileContext, FileFacts, Finding, Fix, MayReport, ModuleInfo, Note, Output, PerUnit,
    ProjectFacts, Saving, Subject, Transform,
};

use decide::{Plan, ProjectPlan, SlotPlan};

/// The `pyslim explain slots` text (this module's documentation).
const DOC: &str = include_str!("doc.md");

/// The `slots` transform.
pub struct Slots;

impl Transform for Slots {
    fn name(&self) -> &'static str {
        "slots"
    }

    fn summary(&self) -> &'static str {
        "add __slots__ (or dataclass slots=True) to classes whose attributes are all known"
    }

    fn applicability(&self) -> &'static str {
        "safe when the whole-project analysis proves every attribute; unsafe when an unknown object may be an instance"
    }

    fn documentation(&self) -> &'static str {
        DOC
    }

    fn needs_index(&self) -> bool {
        true
    }

    fn index_file(&self, ctx: &FileContext) -> Option<FileFacts> {
        Some(Box::new(index::index_file(ctx)))
    }

    fn index_project(&self, files: Vec<FileFacts>) -> Option<ProjectFacts> {
        let summaries: Vec<index::FileSummary> = files
            .into_iter()
            .filter_map(|facts| facts.downcast::<index::FileSummary>().ok())
            .map(|b| *b)
            .collect();
        let plan = decide::decide(&summaries);
        // Every class of the project, thousands of small lists: freed on every core,
        // it is not serial time before the fix loop (10 ms on the stdlib).
        summaries.into_par_iter().for_each(drop);
        let mut fixing = std::collections::HashSet::new();
        let mut noting = std::collections::HashSet::new();
        for (key, class) in &plan.classes {
            match class {
                Plan::Slots(_) => fixing.insert(module_of(key).to_string()),
                Plan::Skip(_) => noting.insert(module_of(key).to_string()),
                Plan::Silent => false,
            };
        }
        Some(Box::new(View {
            plan,
            fixing,
            noting,
        }))
    }

    fn may_report(&self, ctx: &FileContext) -> MayReport {
        let has_class = ctx
            .module
            .tokens()
            .iter()
            .any(|t| t.kind() == ruff_python_ast::token::TokenKind::Class);
        if has_class {
            MayReport::Fixes
        } else {
            MayReport::Nothing
        }
    }

    fn reports_in(
        &self,
        project: &(dyn std::any::Any + Send + Sync),
        info: &ModuleInfo,
        notes: bool,
    ) -> bool {
        project.downcast_ref::<View>().is_some_and(|view| {
            view.fixing.contains(&info.name) || notes && view.noting.contains(&info.name)
        })
    }

    fn run(&self, ctx: &FileContext) -> Output {
        let Some(View { plan, .. }) = ctx.project.and_then(|p| p.downcast_ref::<View>()) else {
            return Output::default();
        };
        let mut runner = Runner {
            ctx,
            plan,
            qual: Vec::new(),
            output: Output::default(),
        };
        runner.visit_body(&ctx.module.ast().body);
        runner.output
    }
}

/// The project view: the plan per class, and the modules where it has a fix or only
/// notes (the engine parses only their files again).
struct View {
    plan: ProjectPlan,
    /// Modules with a class to slot (its rewrite may still end in a note).
    fixing: std::collections::HashSet<String>,
    /// Modules with a class left alone with a note.
    noting: std::collections::HashSet<String>,
}

/// The module part of a [`decide::key`].
fn module_of(key: &str) -> &str {
    key.split_once('\u{0}').map_or(key, |(module, _)| module)
}

struct Runner<'c, 'a> {
    ctx: &'c FileContext<'a>,
    plan: &'c ProjectPlan,
    qual: Vec<String>,
    output: Output,
}

impl Runner<'_, '_> {
    fn note(&mut self, def: &ast::StmtClassDef, reason: impl Into<String>) {
        self.output.notes.push(Note {
            transform: "slots",
            range: def.name.range(),
            reason: reason.into(),
        });
    }

    fn class(&mut self, def: &ast::StmtClassDef) {
        let qualname = self.qual.join(".");
        let Some(plan) = self
            .plan
            .classes
            .get(&decide::key(&self.ctx.info.name, &qualname))
        else {
            return;
        };
        match plan {
            Plan::Silent => {}
            Plan::Skip(reason) => self.note(def, reason.to_string()),
            Plan::Slots(slots) => {
                // Idempotence: a later pass (or run) sees the slots it added.
                if already_slotted(def, slots.dataclass) {
                    return;
                }
                self.slot(def, slots);
            }
        }
    }

    fn slot(&mut self, def: &ast::StmtClassDef, plan: &SlotPlan) {
        let module = self.ctx.module;
        let attributes = plan.slots.iter().filter(|s| *s != "__weakref__").count();
        let attributes_total = u32::try_from(plan.total).unwrap_or(u32::MAX);
        let (saving, on) = crate::figures::slots_per_instance(
            self.ctx.settings.figures_version.unwrap_or(plan.target),
            attributes_total,
            plan.weakref,
        );
        let (edit, what) = if let Some(position) = plan.dataclass {
            // The index resolved the decorator through the imports (`import dataclasses
            // as dc`, `from dataclasses import dataclass as dc`); its position is stable.
            let Some(dec) = def.decorator_list.get(position) else {
                return;
            };
            let edit = rewrite::dataclass_arguments(module, &dec.expression, plan.weakref);
            let weak = if plan.weakref {
                ", weakref_slot=True"
            } else {
                ""
            };
            let fields = plural(attributes, "field");
            (
                edit,
                format!("add slots=True{weak} to @dataclass ({fields})"),
            )
        } else {
            let simple = def.name.as_str();
            let names: Vec<String> = plan.slots.iter().map(|n| demangle(simple, n)).collect();
            match rewrite::slots_line(module, def, &names) {
                Ok(edit) => {
                    let weak = if plan.weakref {
                        ", keeps __weakref__"
                    } else {
                        ""
                    };
                    let attrs = plural(attributes, "attribute");
                    (edit, format!("add __slots__ ({attrs}{weak})"))
                }
                Err(reason) => {
                    self.note(def, reason);
                    return;
                }
            }
        };
        let mut message = format!("{what}: saves ~{saving} B per instance on {on}");
        let fix = if plan.unproven.is_empty() {
            Fix::safe_edit(edit)
        } else {
            message.push_str("; unsafe: ");
            message.push_str(&plan.unproven[0].to_string());
            if plan.unproven.len() > 1 {
                message.push_str(&format!(" (+{} more)", plan.unproven.len() - 1));
            }
            Fix::unsafe_edit(edit)
        };
        self.output.findings.push(Finding {
            transform: "slots",
            range: TextRange::new(def.name.start(), def.end()),
            message,
            fix,
            saving: Saving {
                subject: Subject::Class {
                    qualname: self.qual.join("."),
                    slots: plan
                        .slots
                        .iter()
                        .filter(|s| *s != "__weakref__")
                        .cloned()
                        .collect(),
                },
                per_unit: PerUnit::Slots {
                    attributes: attributes_total,
                    weakref: plan.weakref,
                },
            },
        });
    }
}

impl<'a> Visitor<'a> for Runner<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::ClassDef(def) => {
                self.qual.push(def.name.to_string());
                self.class(def);
                self.visit_body(&def.body);
                self.qual.pop();
            }
            Stmt::FunctionDef(def) => {
                self.qual.push(format!("{}.<locals>", def.name));
                self.visit_body(&def.body);
                self.qual.pop();
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, _: &'a Expr) {}
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `_Cls__x` as written inside `Cls`: `__x`.
fn demangle(class: &str, name: &str) -> String {
    let prefix = format!("_{}__", class.trim_start_matches('_'));
    match name.strip_prefix(&prefix) {
        Some(rest) if !rest.ends_with("__") && !rest.is_empty() => format!("__{rest}"),
        _ => name.to_string(),
    }
}

/// The class defines `__slots__`, or its `dataclass` decorator (at `dataclass`, the
/// position the index found) already has a `slots=` argument.
fn already_slotted(def: &ast::StmtClassDef, dataclass: Option<usize>) -> bool {
    let in_body = def.body.iter().any(|s| match s {
        Stmt::Assign(a) => a
            .targets
            .iter()
            .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == "__slots__")),
        Stmt::AnnAssign(a) => {
            matches!(a.target.as_ref(), Expr::Name(n) if n.id.as_str() == "__slots__")
        }
        _ => false,
    });
    in_body
        || dataclass
            .and_then(|p| def.decorator_list.get(p))
            .is_some_and(|d| {
                matches!(&d.expression, Expr::Call(c) if c.arguments.find_keyword("slots").is_some())
            })
}

#[cfg(test)]
mod tests;
