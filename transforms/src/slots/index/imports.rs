//! The file's imports: each local name an import binds, with the absolute dotted name
//! it stands for (relative imports resolved against the file's own module).

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};

use crate::semantic;

pub(super) struct ImportCollector<'p> {
    pub(super) info: &'p crate::ModuleInfo,
    pub(super) imports: HashMap<Name, Name>,
    /// The modules imported with `*`, in order.
    pub(super) stars: Vec<Name>,
}

impl<'a> Visitor<'a> for ImportCollector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    match &alias.asname {
                        Some(asname) => {
                            self.imports
                                .insert(Name::new(asname), Name::new(&alias.name));
                        }
                        None => {
                            // `import a.b` binds `a`.
                            let root = Name::new(alias.name.split('.').next().unwrap_or(""));
                            self.imports.insert(root.clone(), root);
                        }
                    }
                }
            }
            Stmt::ImportFrom(import) => {
                let base = if import.level == 0 {
                    Some(
                        import
                            .module
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_default(),
                    )
                } else {
                    semantic::resolve_relative(
                        &self.info.name,
                        self.info.is_package,
                        import.level,
                        import.module.as_ref().map(|m| m.as_str()),
                    )
                };
                let Some(base) = base else { return };
                for alias in &import.names {
                    if &alias.name == "*" {
                        if !base.is_empty() {
                            self.stars.push(Name::new(&base));
                        }
                        continue;
                    }
                    let local = Name::new(alias.asname.as_ref().unwrap_or(&alias.name));
                    let target = if base.is_empty() {
                        Name::new(&alias.name)
                    } else {
                        Name::new(format!("{base}.{}", alias.name))
                    };
                    self.imports.insert(local, target);
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    // Imports are statements: the expressions (most of a file) are not walked.
    fn visit_expr(&mut self, _: &'a Expr) {}
}
