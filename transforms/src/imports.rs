//! Making a name from another module available: reuse an import the file already has,
//! merge into an existing `from module import ...`, or add one line in the place
//! isort and ruff would accept (after the module docstring and `__future__` imports,
//! at the top of the first import block).
//!
//! Several fixes in one file may each need the same import. Each carries the import
//! edit; they all insert at the same point, so the engine applies only one of them per
//! pass and the next pass sees the import already present and reuses it.

use ruff_diagnostics::Edit;
use ruff_python_ast::helpers::is_docstring_stmt;
use ruff_python_ast::{Stmt, StmtImportFrom};
use ruff_source_file::LineRanges;
use ruff_text_size::{Ranged, TextSize};

use crate::SourceModule;
use crate::bindings::scope::{Body, body_locals_among, function_locals_among};

/// How the fix refers to the imported object, and the edit that makes it available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPlan {
    /// The expression to write (`deque`, `collections.deque`, `array.array`).
    pub reference: String,
    /// The import to add, when the file does not have one yet.
    pub edit: Option<Edit>,
}

/// The style of a new import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `from module import member`, referenced as `member`.
    FromImport,
    /// `import module`, referenced as `module.member`.
    ModuleImport,
}

/// Makes `module.member` (for example `collections.deque`) usable at module level in
/// `source`. Returns `None` when every spelling would clash with a name the file binds
/// to something else.
pub fn import_member(
    source: &SourceModule,
    module: &str,
    member: &str,
    style: Style,
) -> Option<ImportPlan> {
    let body = &source.ast().body;
    // An existing top-level import wins.
    for stmt in body {
        match stmt {
            Stmt::ImportFrom(import) if is_from(import, module) => {
                for alias in &import.names {
                    if alias.name.id.as_str() == member {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.as_str();
                        if binding_sites(source, bound) == 1 {
                            return Some(ImportPlan {
                                reference: bound.to_string(),
                                edit: None,
                            });
                        }
                    }
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    if alias.name.id.as_str() == module {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.as_str();
                        if binding_sites(source, bound) == 1 {
                            return Some(ImportPlan {
                                reference: format!("{bound}.{member}"),
                                edit: None,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let member_free = binding_sites(source, member) == 0 && !is_read(source, member);
    let module_free = binding_sites(source, module) == 0 && !is_read(source, module);
    let style = match style {
        Style::FromImport if member_free => Style::FromImport,
        Style::ModuleImport if module_free => Style::ModuleImport,
        _ if member_free => Style::FromImport,
        _ if module_free => Style::ModuleImport,
        _ => return None,
    };
    let ending = source.stylist().line_ending().as_str();
    match style {
        Style::FromImport => {
            // Merge into `from module import a, b`.
            let existing = body.iter().find_map(|s| match s {
                Stmt::ImportFrom(i)
                    if is_from(i, module) && i.names.iter().all(|a| a.name.id.as_str() != "*") =>
                {
                    Some(i)
                }
                _ => None,
            });
            if let Some(last) = existing.and_then(|i| i.names.last()) {
                return Some(ImportPlan {
                    reference: member.to_string(),
                    edit: Some(Edit::insertion(format!(", {member}"), last.end())),
                });
            }
            Some(ImportPlan {
                reference: member.to_string(),
                edit: Some(insert_line(
                    source,
                    &format!("from {module} import {member}"),
                    ending,
                )),
            })
        }
        Style::ModuleImport => Some(ImportPlan {
            reference: format!("{module}.{member}"),
            edit: Some(insert_line(source, &format!("import {module}"), ending)),
        }),
    }
}

/// Where a statement starts, including its decorators.
fn decorated_start(stmt: &Stmt) -> TextSize {
    match stmt {
        Stmt::FunctionDef(f) => f.decorator_list.first().map_or(f.start(), Ranged::start),
        Stmt::ClassDef(c) => c.decorator_list.first().map_or(c.start(), Ranged::start),
        _ => stmt.start(),
    }
}

fn is_from(import: &StmtImportFrom, module: &str) -> bool {
    import.level == 0
        && import
            .module
            .as_ref()
            .is_some_and(|m| m.id.as_str() == module)
}

/// Adds `line` after the docstring and `__future__` imports.
fn insert_line(source: &SourceModule, line: &str, ending: &str) -> Edit {
    let text = source.source();
    let body = &source.ast().body;
    let mut skipped = 0;
    if body.first().is_some_and(is_docstring_stmt) {
        skipped = 1;
    }
    while body
        .get(skipped)
        .is_some_and(|s| matches!(s, Stmt::ImportFrom(i) if is_from(i, "__future__")))
    {
        skipped += 1;
    }
    match body.get(skipped) {
        // At the top of the import block that follows, or before the first statement
        // when nothing precedes it (comments above it stay above).
        Some(next) if matches!(next, Stmt::Import(_) | Stmt::ImportFrom(_)) => {
            Edit::insertion(format!("{line}{ending}"), text.line_start(next.start()))
        }
        Some(next) if skipped == 0 => {
            // Before code: separate the new import as a formatter would (two blank
            // lines before a top-level definition, one otherwise).
            let blank = if matches!(next, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                2
            } else {
                1
            };
            Edit::insertion(
                format!("{line}{}", ending.repeat(blank + 1)),
                text.line_start(decorated_start(next)),
            )
        }
        _ => {
            let Some(last) = skipped.checked_sub(1).and_then(|i| body.get(i)) else {
                return Edit::insertion(format!("{line}{ending}"), TextSize::new(0));
            };
            let end = text.full_line_end(last.end());
            if end == last.end() || !text[..end.to_usize()].ends_with(['\n', '\r']) {
                // The statement ends the file without a newline.
                Edit::insertion(format!("{ending}{line}{ending}"), end)
            } else {
                Edit::insertion(format!("{line}{ending}"), end)
            }
        }
    }
}

/// How many binding sites `name` has in the whole file, in any scope.
pub fn binding_sites(source: &SourceModule, name: &str) -> u32 {
    binding_counts(source, &[name])[0]
}

/// How many binding sites each of `names` has in the whole file, in any scope: one
/// pass over the scopes for all of them.
pub fn binding_counts(source: &SourceModule, names: &[&str]) -> Vec<u32> {
    // Asked with no names by a file that imports none of interest (most files): the
    // scopes are not walked for nothing.
    if names.is_empty() {
        return Vec::new();
    }
    let body = &source.ast().body;
    let mut counts = vec![0; names.len()];
    let mut add = |locals: crate::bindings::scope::LocalNames| {
        for (count, name) in counts.iter_mut().zip(names) {
            *count += locals.get(name).map_or(0, |l| l.bindings);
        }
    };
    // Each scope's map holds only the names asked about, not every local.
    let asked = |name: &str| names.contains(&name);
    add(body_locals_among(body, asked));
    let mut functions = Vec::new();
    crate::bindings::collect_functions(body, &mut functions);
    for function in functions {
        add(function_locals_among(
            Some(&function.parameters),
            Body::Stmts(&function.body),
            asked,
        ));
        for stmt in &function.body {
            if let Stmt::ClassDef(class) = stmt {
                add(body_locals_among(&class.body, asked));
            }
        }
    }
    for stmt in body {
        if let Stmt::ClassDef(class) = stmt {
            add(body_locals_among(&class.body, asked));
        }
    }
    counts
}

/// Whether `name` is read anywhere as a bare name (a builtin or a global from
/// elsewhere the new import would shadow).
fn is_read(source: &SourceModule, name: &str) -> bool {
    use ruff_python_ast::token::TokenKind;
    let text = source.source();
    let tokens = source.tokens();
    let mut previous = TokenKind::Newline;
    for token in tokens.iter() {
        if token.kind() == TokenKind::Name
            && previous != TokenKind::Dot
            && &text[token.range()] == name
        {
            return true;
        }
        if !token.kind().is_trivia() {
            previous = token.kind();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn plan(src: &str, style: Style) -> (String, String) {
        let module = parse(src).expect("parses");
        let plan = import_member(&module, "collections", "deque", style).expect("a plan");
        let out = match &plan.edit {
            Some(edit) => {
                let mut out = src.to_string();
                out.insert_str(edit.start().to_usize(), edit.content().unwrap_or(""));
                out
            }
            None => src.to_string(),
        };
        (plan.reference, out)
    }

    #[test]
    fn inserts_after_docstring_and_future() {
        let (r, out) = plan(
            "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\n\nx = 1\n",
            Style::FromImport,
        );
        assert_eq!(r, "deque");
        assert_eq!(
            out,
            "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nfrom collections import deque\n\nx = 1\n"
        );
    }

    #[test]
    fn inserts_at_top_of_import_block() {
        let (_, out) = plan("# header\nimport os\n", Style::FromImport);
        assert_eq!(out, "# header\nfrom collections import deque\nimport os\n");
        let (_, out) = plan("x = 1\n", Style::FromImport);
        assert_eq!(out, "from collections import deque\n\nx = 1\n");
        let (_, out) = plan("\"\"\"Doc.\"\"\"", Style::FromImport);
        assert_eq!(out, "\"\"\"Doc.\"\"\"\nfrom collections import deque\n");
    }

    #[test]
    fn reuses_and_merges() {
        assert_eq!(
            plan("import collections\n", Style::FromImport).0,
            "collections.deque"
        );
        let (r, out) = plan("from collections import OrderedDict\n", Style::FromImport);
        assert_eq!(
            (r.as_str(), out.as_str()),
            ("deque", "from collections import OrderedDict, deque\n")
        );
        assert_eq!(
            plan("from collections import deque as dq\n", Style::FromImport).0,
            "dq"
        );
    }

    #[test]
    fn avoids_clashes() {
        let (r, out) = plan("def f(deque):\n    pass\n", Style::FromImport);
        assert_eq!(r, "collections.deque");
        assert_eq!(out, "import collections\n\n\ndef f(deque):\n    pass\n");
    }
}
