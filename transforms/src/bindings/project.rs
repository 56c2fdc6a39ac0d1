//! How the project's other modules use a module's module-level names.
//!
//! Each file contributes [`FileUses`]: for every `from M import NAME` and every
//! `import M` followed by `M.NAME`, the class of each use. [`ProjectUses`] merges them so
//! a transform asks: "how is `NAME` of module `M` used outside `M`?". An import that
//! cannot be followed, a module object passed around, `from M import *`, re-exports
//! (a public import in a package `__init__`, or one listed in `__all__`) and a module
//! that may be imported by a computed name ([`computed_imports`]) all count as escapes.

use ruff_python_ast::name::Name;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::source_order::SourceOrderVisitor;
use ruff_python_ast::{Expr, ModModule, Stmt};

use super::computed_imports::{self, ComputedImport};
use super::scope::body_locals;
use super::uses::{NameSites, UseClass, UseWalker};
use crate::{ModuleInfo, SourceModule};

/// What one file does with names from other modules.
///
/// Every file's uses are held until the whole project is indexed, so each distinct
/// fact is kept once (`os.path.join` read fifty times is one read): the project view
/// only asks which classes of use occur, and in which order they first occur. Names
/// are [`Name`]s, which hold a short dotted name without an allocation of its own.
#[derive(Debug, Default, Clone)]
pub struct FileUses {
    /// `(module, name, class)` for each distinct use of an imported name, in the order
    /// of first occurrence.
    pub uses: Vec<(Name, Name, UseClass)>,
    /// Modules whose object is passed around: any name in them may be used anyhow.
    pub escaped_modules: Vec<Name>,
    /// Modules star-imported: their public names escape.
    pub star_imported: Vec<Name>,
    /// Where the file reaches modules by a name it computes.
    pub computed_imports: Vec<ComputedImport>,
}

/// Every module's names as used by the rest of the project.
#[derive(Debug, Default)]
pub struct ProjectUses {
    uses: HashMap<(Name, Name), Vec<UseClass>>,
    escaped_modules: HashSet<Name>,
    star_imported: HashSet<Name>,
    computed_imports: Vec<ComputedImport>,
}

/// How a module-level name is used outside its module.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct External {
    /// The classes of use in other project modules, each once, in the order they first
    /// occur (files in the engine's order).
    pub uses: Vec<UseClass>,
    /// The module object itself escapes somewhere (passed to a call, returned, re-exported
    /// by a package), so any use is possible. Only the module itself counts, not its
    /// parent package: a submodule reached through a package object would need an
    /// attribute chain the analysis records.
    pub module_escapes: bool,
    /// `from module import *` appears somewhere: its public names escape.
    pub star_imported: bool,
    /// Where the project may import the module by a computed name (the first such
    /// place): its names may be used in ways no analysis sees.
    pub computed_import: Option<String>,
}

impl ProjectUses {
    /// Merges the files' facts.
    pub fn new(files: impl IntoIterator<Item = FileUses>) -> Self {
        let mut out = ProjectUses::default();
        for file in files {
            for (module, name, class) in file.uses {
                // Only which classes occur, first occurrence first, is ever read.
                let classes = out.uses.entry((module, name)).or_default();
                if !classes.contains(&class) {
                    classes.push(class);
                }
            }
            out.escaped_modules.extend(file.escaped_modules);
            out.star_imported.extend(file.star_imported);
            out.computed_imports.extend(file.computed_imports);
        }
        out
    }

    /// How `name` of `module` is used by the other project modules.
    pub fn external(&self, module: &str, name: &str) -> External {
        let module_escapes = self.escaped_modules.contains(module);
        External {
            star_imported: self.star_imported.contains(module),
            uses: self
                .uses
                .get(&(Name::new(module), Name::new(name)))
                .cloned()
                .unwrap_or_default(),
            module_escapes,
            computed_import: self
                .computed_imports
                .iter()
                .find(|c| c.may_reach(module))
                .map(|c| c.at.clone()),
        }
    }
}

/// What a module says it exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exports {
    /// No `__all__`.
    Unspecified,
    /// `__all__` is a literal list or tuple of strings.
    Listed(Vec<String>),
    /// `__all__` is built in a way the analysis does not read.
    Dynamic,
}

impl Exports {
    /// Whether outside code may import `name` from a module with these exports
    /// (`is_package`: the module is a package `__init__`, whose public names are its API).
    pub fn exposes(&self, name: &str, is_package: bool) -> bool {
        match self {
            Exports::Listed(names) => names.iter().any(|n| n == name),
            Exports::Dynamic => !name.starts_with('_'),
            Exports::Unspecified => is_package && !name.starts_with('_'),
        }
    }

    /// Whether code outside the project may read the module-level value `name` of a
    /// module with these exports: any public name, unless a literal `__all__` leaves it
    /// out. Not only importers read it: a tool may load the module and read its names
    /// (Sphinx's `conf.py`, Django's settings), which no analysis of the project sees.
    pub fn visible_outside(&self, name: &str) -> bool {
        match self {
            Exports::Listed(names) => names.iter().any(|n| n == name),
            Exports::Dynamic | Exports::Unspecified => !name.starts_with('_'),
        }
    }
}

/// Reads the module's `__all__`.
pub fn exports(module: &ModModule) -> Exports {
    let mut result = Exports::Unspecified;
    for stmt in &module.body {
        let (targets, value, augmented) = match stmt {
            Stmt::Assign(a) => (a.targets.iter().collect::<Vec<_>>(), Some(&*a.value), false),
            Stmt::AnnAssign(a) => (vec![&*a.target], a.value.as_deref(), false),
            Stmt::AugAssign(a) => (vec![&*a.target], Some(&*a.value), true),
            _ => continue,
        };
        if !targets
            .iter()
            .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == "__all__"))
        {
            continue;
        }
        let names = value.and_then(string_list);
        result = match (names, result, augmented) {
            (Some(names), _, false) => Exports::Listed(names),
            (Some(mut more), Exports::Listed(mut names), true) => {
                names.append(&mut more);
                Exports::Listed(names)
            }
            _ => Exports::Dynamic,
        };
    }
    result
}

fn string_list(expr: &Expr) -> Option<Vec<String>> {
    let elts = match expr {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        _ => return None,
    };
    elts.iter()
        .map(|e| match e {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
            _ => None,
        })
        .collect()
}

/// Resolves `from .. import` relative to the importing module (see
/// [`crate::semantic::resolve_relative`], the one resolution every analysis uses).
pub fn resolve_relative(info: &ModuleInfo, level: u32, module: Option<&str>) -> Option<String> {
    crate::semantic::resolve_relative(&info.name, info.is_package, level, module)
}

/// An import binding at module level.
struct ImportBinding<'a> {
    /// The name it binds.
    bound: &'a str,
    /// The dotted path the bound name stands for (`pkg.mod` or `pkg.mod.NAME`).
    path: String,
    /// For `from M import NAME`: (M, NAME).
    from: Option<(String, String)>,
}

/// Collects what `source` does with other modules' names.
pub fn index_file(source: &SourceModule, info: &ModuleInfo) -> FileUses {
    let module = source.ast();
    let mut out = FileUses::default();
    let locals = body_locals(&module.body);
    let own_exports = exports(module);
    let mut bindings: Vec<ImportBinding> = Vec::new();
    let mut nested_imports = NestedImports::default();
    collect_imports(&module.body, info, &mut bindings, &mut out, true);
    for stmt in &module.body {
        nested_imports.visit_stmt(stmt);
    }
    // Imports inside functions and classes are not followed: their names escape.
    for (stmt, _) in nested_imports.found.iter().map(|s| (*s, ())) {
        let mut ignored = Vec::new();
        collect_imports(
            std::slice::from_ref(stmt),
            info,
            &mut ignored,
            &mut out,
            false,
        );
        for binding in ignored {
            escape_binding(&binding, &mut out);
        }
    }

    let mut followed: Vec<&ImportBinding> = Vec::new();
    for binding in &bindings {
        let local = locals.get(binding.bound);
        let single = local.is_some_and(|l| l.bindings == 1 && !l.deleted && l.augmented == 0);
        let reexported =
            own_exports.exposes(binding.bound, info.is_package) && binding.from.is_some();
        if !single || reexported {
            escape_binding(binding, &mut out);
        }
        if single {
            followed.push(binding);
        }
    }
    let targets: HashMap<&str, usize> = followed
        .iter()
        .enumerate()
        .map(|(i, b)| (b.bound, i))
        .collect();
    let shadowed: HashSet<&str> = locals.keys().copied().collect();
    // The token scan that finds the walk's sites also tells whether the file may have
    // a computed import, so that only such a file is walked for one.
    let may_compute = std::cell::Cell::new(false);
    let sites = NameSites::new(source.tokens(), source.source(), |name| {
        if computed_imports::may_name_one(name) {
            may_compute.set(true);
        }
        targets.contains_key(name)
    });
    if may_compute.get() {
        out.computed_imports = computed_imports::find(source, info);
    }
    let mut walker = UseWalker::new(&targets, true, &shadowed);
    walker.follow_attributes = true;
    walker.only_at(&sites);
    for stmt in &module.body {
        walker.visit_stmt(stmt);
    }
    for (i, binding) in followed.iter().enumerate() {
        if walker.dynamic || walker.blocked[i].is_some() {
            escape_binding(binding, &mut out);
        }
        for use_ in &walker.uses[i] {
            if let Some((module, name)) = &binding.from {
                out.uses
                    .push((Name::new(module), Name::new(name), use_.kind.class()));
            }
            if use_.attribute.is_empty() {
                // The object itself goes somewhere: if it is a module, all of it escapes.
                if !matches!(use_.kind.class(), UseClass::Read) || binding.from.is_none() {
                    out.escaped_modules.push(Name::new(&binding.path));
                }
            }
            for (path, kind) in &use_.attribute {
                let full = format!("{}.{}", binding.path, path);
                if let Some((module, name)) = full.rsplit_once('.') {
                    out.uses
                        .push((Name::new(module), Name::new(name), kind.class()));
                }
            }
        }
    }
    out.compact();
    out
}

impl FileUses {
    /// Keeps each use once, at its first occurrence, and each escaped or star-imported
    /// module once: what the project view reads of them is unchanged, and a large
    /// tree's index holds every file's uses at once.
    fn compact(&mut self) {
        let keep: Vec<bool> = {
            let mut seen = HashSet::with_capacity_and_hasher(self.uses.len(), Default::default());
            self.uses
                .iter()
                .map(|(module, name, class)| seen.insert((module.as_str(), name.as_str(), *class)))
                .collect()
        };
        let mut keep = keep.into_iter();
        self.uses.retain(|_| keep.next().unwrap_or(true));
        self.uses.shrink_to_fit();
        for modules in [&mut self.escaped_modules, &mut self.star_imported] {
            // Read as sets ([`ProjectUses::new`]): the order does not matter.
            modules.sort_unstable();
            modules.dedup();
            modules.shrink_to_fit();
        }
    }
}

fn escape_binding(binding: &ImportBinding, out: &mut FileUses) {
    if let Some((module, name)) = &binding.from {
        out.uses
            .push((Name::new(module), Name::new(name), UseClass::Escape));
    }
    out.escaped_modules.push(Name::new(&binding.path));
}

/// Import statements at module level, including those under `if`/`try`/`with`.
fn collect_imports<'a>(
    body: &'a [Stmt],
    info: &ModuleInfo,
    bindings: &mut Vec<ImportBinding<'a>>,
    out: &mut FileUses,
    recurse: bool,
) {
    for stmt in body {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let full = alias.name.id.as_str();
                    let (bound, path) = match &alias.asname {
                        Some(asname) => (asname.id.as_str(), full.to_string()),
                        None => {
                            let first = full.split('.').next().unwrap_or(full);
                            (first, first.to_string())
                        }
                    };
                    bindings.push(ImportBinding {
                        bound,
                        path,
                        from: None,
                    });
                }
            }
            Stmt::ImportFrom(import) => {
                let Some(module) = resolve_relative(
                    info,
                    import.level,
                    import.module.as_ref().map(|m| m.id.as_str()),
                ) else {
                    continue;
                };
                for alias in &import.names {
                    let name = alias.name.id.as_str();
                    if name == "*" {
                        out.star_imported.push(Name::new(&module));
                        continue;
                    }
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.as_str();
                    bindings.push(ImportBinding {
                        bound,
                        path: format!("{module}.{name}"),
                        from: Some((module.clone(), name.to_string())),
                    });
                }
            }
            Stmt::If(s) if recurse => {
                collect_imports(&s.body, info, bindings, out, recurse);
                for clause in &s.elif_else_clauses {
                    collect_imports(&clause.body, info, bindings, out, recurse);
                }
            }
            Stmt::Try(s) if recurse => {
                collect_imports(&s.body, info, bindings, out, recurse);
                for handler in &s.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = handler;
                    collect_imports(&h.body, info, bindings, out, recurse);
                }
                collect_imports(&s.orelse, info, bindings, out, recurse);
                collect_imports(&s.finalbody, info, bindings, out, recurse);
            }
            Stmt::With(s) if recurse => collect_imports(&s.body, info, bindings, out, recurse),
            _ => {}
        }
    }
}

/// Import statements inside functions and classes.
#[derive(Default)]
struct NestedImports<'a> {
    depth: u32,
    found: Vec<&'a Stmt>,
}

impl<'a> SourceOrderVisitor<'a> for NestedImports<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                self.depth += 1;
                ruff_python_ast::visitor::source_order::walk_stmt(self, stmt);
                self.depth -= 1;
            }
            Stmt::Import(_) | Stmt::ImportFrom(_) if self.depth > 0 => self.found.push(stmt),
            _ => ruff_python_ast::visitor::source_order::walk_stmt(self, stmt),
        }
    }

    // Imports are statements: the expressions (most of a body) are not walked.
    fn visit_expr(&mut self, _: &'a Expr) {}
}
