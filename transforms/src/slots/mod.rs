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
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::{
    FileContext, FileFacts, Finding, Fix, MayReport, ModuleInfo, Note, Output, PerUnit, Prepared,
    ProjectFacts, Saving, Settings, SourceModule, Subject, Transform,
};

use decide::{Plan, ProjectPlan, SlotPlan};
use rewrite::{DecoratorSite, SlotsSite, Style};

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

    fn prepare(&self, ctx: &FileContext) -> Prepared {
        let has_class = ctx
            .module
            .tokens()
            .iter()
            .any(|t| t.kind() == ruff_python_ast::token::TokenKind::Class);
        if !has_class {
            return Prepared::nothing();
        }
        let mut sites = Sites {
            module: ctx.module,
            qual: Vec::new(),
            classes: Vec::new(),
        };
        sites.visit_body(&ctx.module.ast().body);
        Prepared {
            may: MayReport::Fixes,
            data: Box::new(FileSites {
                style: Style::of(ctx.module),
                classes: sites.classes,
            }),
        }
    }

    fn finish(
        &self,
        prepared: &(dyn std::any::Any + Send + Sync),
        project: Option<&(dyn std::any::Any + Send + Sync)>,
        info: &ModuleInfo,
        settings: &Settings,
        source: &str,
    ) -> Output {
        let (Some(file), Some(View { plan, .. })) = (
            prepared.downcast_ref::<FileSites>(),
            project.and_then(|p| p.downcast_ref::<View>()),
        ) else {
            return Output::default();
        };
        let mut finisher = Finisher {
            plan,
            info,
            settings,
            source,
            style: &file.style,
            output: Output::default(),
        };
        for class in &file.classes {
            finisher.class(class);
        }
        finisher.output
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
        crate::run_prepared(self, ctx)
    }
}

/// The project view: the plan per class, and the modules where it has a fix or only
/// notes (the engine finishes only their files).
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

/// A file's classes as the indexing parse saw them, and how it writes code.
struct FileSites {
    style: Style,
    classes: Vec<ClassSite>,
}

/// A class as the indexing parse saw it: all the run reads of it.
struct ClassSite {
    /// Its `__qualname__`.
    qualname: String,
    /// Its name in the `class` statement (where a note points).
    name: TextRange,
    /// The end of the statement.
    end: TextSize,
    /// Its body assigns `__slots__`.
    slotted: bool,
    /// Its decorators, in order.
    decorators: Vec<DecoratorSite>,
    /// Where its `__slots__` line goes, or why it cannot be placed.
    line: Result<SlotsSite, &'static str>,
}

/// Collects every class of a module with its qualified name.
struct Sites<'m, 'src> {
    module: &'m SourceModule<'src>,
    qual: Vec<String>,
    classes: Vec<ClassSite>,
}

impl<'a> Visitor<'a> for Sites<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::ClassDef(def) => {
                self.qual.push(def.name.to_string());
                self.classes.push(ClassSite {
                    qualname: self.qual.join("."),
                    name: def.name.range(),
                    end: def.end(),
                    slotted: assigns_slots(def),
                    decorators: def
                        .decorator_list
                        .iter()
                        .map(|d| DecoratorSite::of(self.module, &d.expression))
                        .collect(),
                    line: SlotsSite::of(self.module, def),
                });
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

impl ClassSite {
    /// The class defines `__slots__`, or its `dataclass` decorator (at `dataclass`,
    /// the position the index found) already has a `slots=` argument.
    fn already_slotted(&self, dataclass: Option<usize>) -> bool {
        self.slotted
            || dataclass
                .and_then(|p| self.decorators.get(p))
                .is_some_and(|d| d.has_slots)
    }
}

/// What the project decision means for the classes of one module.
struct Finisher<'a> {
    plan: &'a ProjectPlan,
    /// The module.
    info: &'a ModuleInfo,
    settings: &'a Settings,
    /// Its text, as when its classes were found.
    source: &'a str,
    style: &'a Style,
    output: Output,
}

impl Finisher<'_> {
    fn class(&mut self, class: &ClassSite) {
        let key = decide::key(&self.info.name, &class.qualname);
        let Some(plan) = self.plan.classes.get(&key) else {
            return;
        };
        match plan {
            Plan::Silent => {}
            Plan::Skip(reason) => self.note(class, reason.to_string()),
            Plan::Slots(slots) => {
                // Idempotence: a later pass (or run) sees the slots it added.
                if class.already_slotted(slots.dataclass) {
                    return;
                }
                self.slot(class, slots);
            }
        }
    }

    fn note(&mut self, class: &ClassSite, reason: String) {
        self.output.notes.push(Note {
            transform: "slots",
            range: class.name,
            reason,
        });
    }

    fn slot(&mut self, class: &ClassSite, plan: &SlotPlan) {
        let attributes = plan.slots.iter().filter(|s| *s != "__weakref__").count();
        let (saving, on) = plan.saving_on(self.settings.figures_version.unwrap_or(plan.target));
        let (edit, what) = if let Some(position) = plan.dataclass {
            // The index resolved the decorator through the imports (`import dataclasses
            // as dc`, `from dataclasses import dataclass as dc`); its position is stable.
            let Some(dec) = class.decorators.get(position) else {
                return;
            };
            let weak = if plan.weakref {
                ", weakref_slot=True"
            } else {
                ""
            };
            let fields = plural(attributes, "field");
            (
                dec.edit(plan.weakref),
                format!("add slots=True{weak} to @dataclass ({fields})"),
            )
        } else {
            let simple = class.qualname.rsplit('.').next().unwrap_or_default();
            let names: Vec<String> = plan.slots.iter().map(|n| demangle(simple, n)).collect();
            match class.line {
                Ok(site) => {
                    let edit = site.edit(self.source, self.style, &names);
                    let weak = if plan.weakref {
                        ", keeps __weakref__"
                    } else {
                        ""
                    };
                    let attrs = plural(attributes, "attribute");
                    (edit, format!("add __slots__ ({attrs}{weak})"))
                }
                Err(reason) => {
                    self.note(class, reason.to_string());
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
            range: TextRange::new(class.name.start(), class.end),
            message,
            fix,
            saving: Saving {
                subject: Subject::Class {
                    qualname: class.qualname.clone(),
                    slots: plan
                        .slots
                        .iter()
                        .filter(|s| *s != "__weakref__")
                        .cloned()
                        .collect(),
                    needs: plan
                        .needs
                        .iter()
                        .map(|(module, qualname)| format!("{module}.{qualname}"))
                        .collect(),
                },
                per_unit: PerUnit::Slots {
                    attributes: plan.dict_attributes(),
                    weakref: plan.weakref,
                },
            },
        });
    }
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

/// The class body assigns `__slots__`.
fn assigns_slots(def: &ast::StmtClassDef) -> bool {
    def.body.iter().any(|s| match s {
        Stmt::Assign(a) => a
            .targets
            .iter()
            .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == "__slots__")),
        Stmt::AnnAssign(a) => {
            matches!(a.target.as_ref(), Expr::Name(n) if n.id.as_str() == "__slots__")
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests;
