//! Modules a file may reach by a name it computes: `importlib.import_module(pkg + name)`,
//! `__import__(name)`, a module loaded from a spec or a path, `sys.modules[name]`.
//!
//! The uses of such a module's names are invisible to the project view (docutils loads
//! its language modules with `import_module(package + name)` and then requires
//! `isinstance(module.author_separators, list)`), so every module the computed name may
//! stand for counts as escaping. What a name may stand for is read from the literal it
//! starts with (`"pkg.plugins." + name`: the modules under `pkg.plugins.`); a name that
//! starts with no literal may stand for any module.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Operator};
use ruff_text_size::{Ranged, TextSize};

use crate::{ModuleInfo, SourceModule};

/// The functions that load a module by a name or a path they are given. A call of any
/// function of one of these names counts (a project wrapper of the same name included),
/// which can only make the analysis more careful.
const LOADERS: [&str; 7] = [
    "import_module",
    "__import__",
    "module_from_spec",
    "load_module",
    "load_source",
    "run_module",
    "run_path",
];

/// Whether `name` is an identifier the calls and lookups [`find`] reads begin or end
/// with: a file none of whose names is one of them has no computed import.
pub fn may_name_one(name: &str) -> bool {
    LOADERS.contains(&name) || name == "modules"
}

/// One place a file reaches modules by a computed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputedImport {
    /// What every module it may reach is named starting with; `None`: any module.
    pub prefix: Option<String>,
    /// Where it is, for the reason a transform gives: "`import_module` in pkg.mod,
    /// line 12".
    pub at: String,
}

impl ComputedImport {
    /// Whether it may reach the module `module`.
    pub fn may_reach(&self, module: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| module.starts_with(p))
    }
}

/// Every computed import of `source` (the module `info`), in source order.
pub fn find(source: &SourceModule, info: &ModuleInfo) -> Vec<ComputedImport> {
    let mut finder = Finder {
        info,
        found: Vec::new(),
    };
    finder.visit_body(&source.ast().body);
    finder
        .found
        .into_iter()
        .map(|(what, prefix, offset)| ComputedImport {
            prefix,
            at: format!(
                "`{what}` in {}, line {}",
                info.name,
                source.line_column(offset).0
            ),
        })
        .collect()
}

struct Finder<'m> {
    /// The module being read (`sys.modules[__name__]` is the module itself).
    info: &'m ModuleInfo,
    /// What reaches a module, the prefix of its name, and where.
    found: Vec<(&'static str, Option<String>, TextSize)>,
}

impl<'a> Visitor<'a> for Finder<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call) => {
                let name = match call.func.as_ref() {
                    Expr::Name(n) => Some(n.id.as_str()),
                    Expr::Attribute(a) => Some(a.attr.as_str()),
                    _ => None,
                };
                if let Some(loader) = name.and_then(|n| LOADERS.iter().find(|l| **l == n)) {
                    // Only a module name can have a known prefix: a spec or a path says
                    // nothing of the module's name.
                    let by_name = matches!(*loader, "import_module" | "__import__" | "load_module");
                    let relative = *loader == "__import__"
                        && call
                            .arguments
                            .find_argument_value("level", 4)
                            .is_some_and(|l| !is_zero(l));
                    // `import_module(".sub", __name__)`: relative to the package given.
                    let package = (*loader == "import_module")
                        .then(|| call.arguments.find_argument_value("package", 1))
                        .flatten();
                    let prefix = call
                        .arguments
                        .args
                        .first()
                        .filter(|_| by_name && !relative)
                        .and_then(|arg| self.prefix(arg, package));
                    self.found.push((loader, prefix, call.start()));
                }
                // `sys.modules.get(name)`.
                if let Expr::Attribute(a) = call.func.as_ref()
                    && a.attr.as_str() == "get"
                    && is_sys_modules(&a.value)
                {
                    let prefix = call
                        .arguments
                        .args
                        .first()
                        .and_then(|k| self.prefix(k, None));
                    self.found.push(("sys.modules", prefix, call.start()));
                }
            }
            // `sys.modules[name]` read (storing or deleting an entry reads no module).
            Expr::Subscript(s) if s.ctx == ExprContext::Load && is_sys_modules(&s.value) => {
                let prefix = self.prefix(&s.slice, None);
                self.found.push(("sys.modules", prefix, s.start()));
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

impl Finder<'_> {
    /// What a module name computed by `expr` starts with, when it starts with a literal
    /// name, absolute or relative to `package` (`import_module`'s second argument);
    /// `None` when it may be any name.
    fn prefix(&self, expr: &Expr, package: Option<&Expr>) -> Option<String> {
        let prefix = match expr {
            Expr::Name(n) if n.id.as_str() == "__name__" => Some(self.info.name.clone()),
            _ => leading_literal(expr),
        }?;
        if !prefix.starts_with('.') {
            return (!prefix.is_empty()).then_some(prefix);
        }
        // As `importlib` resolves it: the package, less a component for each dot
        // after the first, then the rest of the name.
        let rest = prefix.trim_start_matches('.');
        let level = u32::try_from(prefix.len() - rest.len()).ok()?;
        let base = match package? {
            Expr::Name(n) if n.id.as_str() == "__name__" => self.info.name.clone(),
            Expr::Name(n) if n.id.as_str() == "__package__" => {
                crate::semantic::resolve_relative(&self.info.name, self.info.is_package, 1, None)?
            }
            Expr::StringLiteral(s) => s.value.to_str().to_string(),
            _ => return None,
        };
        let base = crate::semantic::resolve_relative(&base, true, level, None)?;
        Some(format!("{base}.{rest}"))
    }
}

/// The literal text a string expression starts with: all of a string literal, the
/// left operand's of `+`, an f-string's text before its first placeholder.
fn leading_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        Expr::BinOp(b) if b.op == Operator::Add => leading_literal(&b.left),
        Expr::FString(f) => {
            let mut text = String::new();
            for part in f.value.iter() {
                match part {
                    ast::FStringPart::Literal(l) => text.push_str(&l.value),
                    ast::FStringPart::FString(f) => {
                        for element in f.elements.iter() {
                            match element {
                                ast::InterpolatedStringElement::Literal(l) => {
                                    text.push_str(&l.value)
                                }
                                ast::InterpolatedStringElement::Interpolation(_) => {
                                    return Some(text);
                                }
                            }
                        }
                    }
                }
            }
            Some(text)
        }
        _ => None,
    }
}

/// `sys.modules`.
fn is_sys_modules(expr: &Expr) -> bool {
    matches!(expr, Expr::Attribute(a) if a.attr.as_str() == "modules"
        && matches!(a.value.as_ref(), Expr::Name(n) if n.id.as_str() == "sys"))
}

fn is_zero(expr: &Expr) -> bool {
    matches!(expr, Expr::NumberLiteral(n) if n.value.as_int().and_then(|i| i.as_u8()) == Some(0))
}
