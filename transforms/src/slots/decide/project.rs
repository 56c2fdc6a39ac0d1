//! Stage 1: every class and module of the project, keyed by dotted name, and what a
//! dotted name is in the project (following re-exports).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::slots::index::{ClassSummary, FileSummary};

/// What a dotted name is in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolved {
    Class(usize),
    /// A module-level instance of a project class.
    Instance(usize),
    Module,
    /// A module-level function object (undecorated `def`).
    Function,
    /// Another project name (function, variable, ambiguous class).
    Other,
    External,
}

/// Stage 1: every class and module of the project.
pub(super) struct Project<'a> {
    pub(super) files: &'a [FileSummary],
    /// (file, class) per class id.
    pub(super) classes: Vec<(usize, usize)>,
    /// The id of each file's first class (ids follow the files' order).
    first_id: Vec<usize>,
    /// Per class id: whether its dotted name is its own (not ambiguous).
    keyed: Vec<bool>,
    by_dotted: HashMap<String, usize>,
    pub(super) ambiguous: HashSet<String>,
    modules: HashMap<&'a str, usize>,
    /// Module names of more than one file (scripts in folders without `__init__.py`):
    /// names in them cannot be resolved, and their classes are not keyed uniquely.
    pub(super) shared_modules: HashSet<&'a str>,
}

impl<'a> Project<'a> {
    pub(super) fn new(files: &'a [FileSummary]) -> Self {
        let mut project = Project {
            files,
            classes: Vec::new(),
            first_id: Vec::with_capacity(files.len()),
            keyed: Vec::new(),
            by_dotted: HashMap::default(),
            ambiguous: HashSet::default(),
            modules: HashMap::default(),
            shared_modules: HashSet::default(),
        };
        for (f, file) in files.iter().enumerate() {
            project.first_id.push(project.classes.len());
            if project.modules.insert(file.module.as_str(), f).is_some() {
                project.shared_modules.insert(file.module.as_str());
            }
            for (c, class) in file.classes.iter().enumerate() {
                let id = project.classes.len();
                project.classes.push((f, c));
                let dotted = format!("{}.{}", file.module, class.qualname);
                if project.by_dotted.insert(dotted.clone(), id).is_some() {
                    project.ambiguous.insert(dotted);
                }
            }
        }
        for dotted in &project.ambiguous {
            project.by_dotted.remove(dotted);
        }
        project.keyed = vec![false; project.classes.len()];
        for &id in project.by_dotted.values() {
            project.keyed[id] = true;
        }
        project
    }

    pub(super) fn len(&self) -> usize {
        self.classes.len()
    }

    pub(super) fn class(&self, id: usize) -> &'a ClassSummary {
        let (f, c) = self.classes[id];
        &self.files[f].classes[c]
    }

    pub(super) fn file_of(&self, id: usize) -> &FileSummary {
        &self.files[self.classes[id].0]
    }

    pub(super) fn name(&self, id: usize) -> &str {
        &self.class(id).qualname
    }

    pub(super) fn dotted(&self, id: usize) -> String {
        format!("{}.{}", self.file_of(id).module, self.class(id).qualname)
    }

    /// The id of class `c` of file `file`.
    pub(super) fn id_of(&self, file: usize, c: usize) -> Option<usize> {
        let id = self.first_id[file] + c;
        self.keyed[id].then_some(id)
    }

    /// The module file holding `dotted` and the rest of the name in it, after
    /// following re-exports: `pkg.f` with `from .impl import f` in `pkg` is
    /// (`pkg.impl`, `f`).
    pub(super) fn locate(&self, dotted: &str, depth: u8) -> Option<(usize, String)> {
        if depth > 8 {
            return None;
        }
        for (module, after) in module_prefixes(dotted).skip(1) {
            if self.shared_modules.contains(module) {
                return None;
            }
            let Some(&f) = self.modules.get(module) else {
                continue;
            };
            let (name, rest) = after.split_once('.').unwrap_or((after, ""));
            if let Some(target) = self.files[f].imports.get(name) {
                return self.locate(&joined(target, rest), depth + 1);
            }
            return Some((f, after.to_string()));
        }
        None
    }

    /// What `dotted` names in the project.
    pub(super) fn resolve(&self, dotted: &str, depth: u8) -> Resolved {
        if depth > 8 || self.ambiguous.contains(dotted) {
            return Resolved::Other;
        }
        if let Some(&id) = self.by_dotted.get(dotted) {
            return Resolved::Class(id);
        }
        for (module, after) in module_prefixes(dotted) {
            if self.shared_modules.contains(module) {
                return Resolved::Other;
            }
            let Some(&f) = self.modules.get(module) else {
                continue;
            };
            if module.len() == dotted.len() {
                return Resolved::Module;
            }
            let file = &self.files[f];
            let (name, rest) = after.split_once('.').unwrap_or((after, ""));
            if let Some(target) = file.imports.get(name) {
                return self.resolve(&joined(target, rest), depth + 1);
            }
            if file.module_functions.contains(name) && !self.by_dotted.contains_key(dotted) {
                // An undecorated function (a class would have been found above).
                return if rest.is_empty() {
                    Resolved::Function
                } else {
                    Resolved::Other
                };
            }
            if let Some(callee) = file.module_instances.get(name) {
                // An instance of a project class is ours (its methods are project code);
                // an instance of anything else is outside code.
                return match (self.resolve(callee, depth + 1), rest.is_empty()) {
                    (Resolved::Class(id), true) => Resolved::Instance(id),
                    (Resolved::Class(_), false) => Resolved::Other,
                    (Resolved::External, _) => Resolved::External,
                    _ => Resolved::Other,
                };
            }
            // `from .reader import *`: the last such module that has the name binds it,
            // unless the module binds it itself (a private name is not exported without
            // an `__all__`, not read here).
            if !name.starts_with('_') && !file.module_bound.contains(name) {
                for star in file.star_imports.iter().rev() {
                    match self.resolve(&joined(star, after), depth + 1) {
                        Resolved::Other | Resolved::External => {}
                        found => return found,
                    }
                }
            }
            return Resolved::Other;
        }
        Resolved::External
    }
}

/// Each way to read `dotted` as a module and what follows it, the longest module
/// first: (`a.b.c`, ``), (`a.b`, `c`), (`a`, `b.c`).
fn module_prefixes(dotted: &str) -> impl Iterator<Item = (&str, &str)> {
    std::iter::once((dotted, "")).chain(
        dotted
            .rmatch_indices('.')
            .map(|(i, _)| (&dotted[..i], &dotted[i + 1..])),
    )
}

/// `target.rest`, or `target` when there is no rest.
fn joined(target: &str, rest: &str) -> String {
    if rest.is_empty() {
        return target.to_string();
    }
    let mut out = String::with_capacity(target.len() + 1 + rest.len());
    out.push_str(target);
    out.push('.');
    out.push_str(rest);
    out
}
