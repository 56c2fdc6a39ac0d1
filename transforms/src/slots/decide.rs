//! The whole-project decision: which classes get `__slots__`, with which names, and
//! whether that is proven (safe) or not (unsafe). Decided once, so every file's run
//! agrees on its bases and subclasses.
//!
//! The stages, each its own function:
//!
//! 1. [`Project::new`]: every class and module, keyed by dotted name.
//! 2. [`Hierarchy::new`]: project bases, the bases outside, ancestors, descendants.
//! 3. [`Evidence::collect`]: what every file's facts say about which classes (writes
//!    from outside, weak references, dict use, escapes), with each receiver resolved
//!    to the classes its type allows ([`Resolver`]).
//! 4. [`Decider::own_verdict`]: each class on its own, in small checks, to a
//!    [`State`].
//! 5. [`Decider::needs_dict`] and [`Decider::settle`]: what classes need of their
//!    bases, to a fixpoint with the slot layouts.
//! 6. [`Decider::plans`]: the plan per class, for the classes of files the transform
//!    may rewrite (a file read only for the index still counts in stages 1 to 5).

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;
use thin_vec::ThinVec;

use ruff_python_ast::PythonVersion;
use ruff_python_ast::name::Name;

use super::index::{ClassSummary, Fact, FileSummary, Owner, Receiver, Ref};
use super::safety::Blocker;
use super::signature;
use super::types::{self, InheritedParam, Shape, TypeRef};
use super::verdict::{DictUse, Kind, Reason, Unproven};

/// What happens to one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Add slots.
    Slots(SlotPlan),
    /// Leave it alone, for this reason (a note).
    Skip(Reason),
    /// Leave it alone without a note (suppressed by the user).
    Silent,
}

/// The slots one class gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPlan {
    /// The class's own slot names, in first-assignment order, `__weakref__` last.
    pub slots: Vec<String>,
    /// Every attribute an instance holds in slots (its own and its bases').
    pub total: usize,
    /// `__weakref__` is among `slots` (or `weakref_slot=True` for a dataclass).
    pub weakref: bool,
    /// A dataclass: the fix adds `slots=True` to the decorator at this position in the
    /// decorator list, instead of a `__slots__` line.
    pub dataclass: Option<usize>,
    /// Why the rewrite is not proven; empty when it is safe.
    pub unproven: Vec<Unproven>,
    /// The file's target version, for the saving figure.
    pub target: PythonVersion,
}

/// The project-wide decision, keyed by [`key`].
#[derive(Debug, Default)]
pub struct ProjectPlan {
    /// Plan per class.
    pub classes: HashMap<String, Plan>,
}

/// The lookup key of a class.
pub fn key(module: &str, qualname: &str) -> String {
    format!("{module}\u{0}{qualname}")
}

/// Builtins through which `self` may be passed without anything being able to add
/// attributes to it or need its `__dict__`.
const HARMLESS_CALLS: &[&str] = &[
    "builtins.isinstance",
    "builtins.issubclass",
    "builtins.id",
    "builtins.hash",
    "builtins.repr",
    "builtins.str",
    "builtins.len",
    "builtins.print",
    "builtins.type",
    "builtins.iter",
    "builtins.next",
    "builtins.format",
    "builtins.bool",
    "builtins.hasattr",
    "builtins.getattr",
    "builtins.callable",
    "builtins.super",
    "builtins.sorted",
    "builtins.list",
    "builtins.tuple",
    "builtins.enumerate",
    "builtins.zip",
    "builtins.reversed",
    "builtins.min",
    "builtins.max",
    "builtins.sum",
    "builtins.any",
    "builtins.all",
    "builtins.dir",
    "copy.copy",
    "copy.deepcopy",
    "weakref.ref",
    "weakref.proxy",
    "weakref.finalize",
    "weakref.WeakMethod",
    "builtins.setattr",
    "builtins.delattr",
    "builtins.vars",
    "builtins.object",
    "builtins.set",
    "builtins.frozenset",
    "builtins.dict",
    "typing.cast",
    "typing_extensions.cast",
    "pickle.dumps",
    "pickle.dump",
];

/// Names every class body holds without writing them (`__doc__` is `None` without a
/// docstring): every instance can read them, so a write guarded by a read of one may
/// be on any instance, and a slotted instance refuses it ("attribute '__doc__' is
/// read-only"), as click's `cmd.__doc__ = f.__doc__` on a `Command` showed.
const IMPLICIT_CLASS_NAMES: &[&str] = &[
    "__doc__",
    "__module__",
    "__annotations__",
    "__firstlineno__",
    "__static_attributes__",
];

/// What a dotted name is in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
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

/// Which classes' instances an object expression may be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RecvKind {
    /// An instance of exactly this class.
    Exact(usize),
    /// `self`: an instance of this class or of a subclass.
    SelfOf(usize),
    /// An instance of one of these classes (subclasses already included), from its
    /// type; empty when the type allows no project class.
    Classes(Vec<usize>),
    ClassObject,
    NotOurs,
    Unknown,
}

/// Where a class stands while the decision is made.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Candidate,
    /// Slotted in the source already, with these names (or unknown names).
    Existing(Option<Vec<String>>),
    Skip(Reason),
}

/// The class fixing an instance layout (CPython's "solid base").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solid {
    Object,
    Project(usize),
    External,
}

/// Stage 1: every class and module of the project.
struct Project<'a> {
    files: &'a [FileSummary],
    /// (file, class) per class id.
    classes: Vec<(usize, usize)>,
    /// The id of each file's first class (ids follow the files' order).
    first_id: Vec<usize>,
    /// Per class id: whether its dotted name is its own (not ambiguous).
    keyed: Vec<bool>,
    by_dotted: HashMap<String, usize>,
    ambiguous: HashSet<String>,
    modules: HashMap<&'a str, usize>,
    /// Module names of more than one file (scripts in folders without `__init__.py`):
    /// names in them cannot be resolved, and their classes are not keyed uniquely.
    shared_modules: HashSet<&'a str>,
}

impl<'a> Project<'a> {
    fn new(files: &'a [FileSummary]) -> Self {
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

    fn len(&self) -> usize {
        self.classes.len()
    }

    fn class(&self, id: usize) -> &'a ClassSummary {
        let (f, c) = self.classes[id];
        &self.files[f].classes[c]
    }

    fn file_of(&self, id: usize) -> &FileSummary {
        &self.files[self.classes[id].0]
    }

    fn name(&self, id: usize) -> &str {
        &self.class(id).qualname
    }

    fn dotted(&self, id: usize) -> String {
        format!("{}.{}", self.file_of(id).module, self.class(id).qualname)
    }

    /// The id of class `c` of file `file`.
    fn id_of(&self, file: usize, c: usize) -> Option<usize> {
        let id = self.first_id[file] + c;
        self.keyed[id].then_some(id)
    }

    /// The module file holding `dotted` and the rest of the name in it, after
    /// following re-exports: `pkg.f` with `from .impl import f` in `pkg` is
    /// (`pkg.impl`, `f`).
    fn locate(&self, dotted: &str, depth: u8) -> Option<(usize, String)> {
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
    fn resolve(&self, dotted: &str, depth: u8) -> Resolved {
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

/// Stage 2: the class hierarchy.
struct Hierarchy<'a> {
    /// Project bases per class.
    bases: Lists<usize>,
    /// Bases outside the project per class.
    external: Lists<&'a Ref>,
    ancestors: Lists<usize>,
    descendants: Lists<usize>,
}

impl<'a> Hierarchy<'a> {
    fn new(project: &Project<'a>) -> Self {
        let n = project.len();
        let mut bases = Lists::with_capacity(n);
        let mut external = Lists::with_capacity(n);
        for id in 0..n {
            for base in &project.class(id).bases {
                match base.dotted().map(|d| project.resolve(d, 0)) {
                    Some(Resolved::Class(b)) => bases.push(b),
                    _ => external.push(base),
                }
            }
            bases.end_list();
            external.end_list();
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for id in 0..n {
            for &b in &bases[id] {
                children[b].push(id);
            }
        }
        let mut seen = vec![false; n];
        let mut ancestors = Lists::with_capacity(n);
        for id in 0..n {
            ancestors.push_list(walk(id, |x| &bases[x], &mut seen));
        }
        let mut descendants = Lists::with_capacity(n);
        for id in 0..n {
            descendants.push_list(walk(id, |x| &children[x], &mut seen));
        }
        Hierarchy {
            bases,
            external,
            ancestors,
            descendants,
        }
    }

    /// `id` and its subclasses.
    fn with_descendants(&self, id: usize) -> Vec<usize> {
        let mut out = vec![id];
        out.extend(self.descendants[id].iter().copied());
        out
    }

    /// `id`, its bases and its subclasses: every class whose code may run on an
    /// instance of `id` or of a subclass.
    fn family(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        self.with_ancestors(id)
            .chain(self.descendants[id].iter().copied())
    }

    /// `id` and its bases, nearest first as far as the walk allows.
    fn with_ancestors(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(id).chain(self.ancestors[id].iter().copied())
    }

    /// Whether `id` names a base outside the project that counts (not `object`,
    /// `ABC` or `Generic`): its layout, attributes and `__call__` are not seen.
    fn has_outside_base(&self, id: usize) -> bool {
        self.external[id].iter().any(|e| external_base(e).is_some())
    }
}

/// Builtin classes whose instances are never a project class's, unless the project
/// subclasses them (such subclasses are found through their bases).
const CONCRETE_BUILTINS: &[&str] = &[
    "builtins.int",
    "builtins.str",
    "builtins.bytes",
    "builtins.float",
    "builtins.complex",
    "builtins.bool",
    "builtins.list",
    "builtins.dict",
    "builtins.set",
    "builtins.frozenset",
    "builtins.tuple",
    "builtins.bytearray",
];

/// Resolves receivers to the classes whose instances they may be.
struct Resolver<'p, 'a> {
    project: &'p Project<'a>,
    hierarchy: &'p Hierarchy<'a>,
    /// Attribute names written anywhere on something other than `self`: what such an
    /// attribute holds is not known from the class's own assignments.
    written: HashSet<&'a str>,
    /// Classes named in `Cls.register(...)`: their `isinstance` is open.
    registered: HashSet<usize>,
    /// Dotted names the project assigns attributes of (`mod.Cls.method = ...`,
    /// `mock.patch.object(mod.Cls, "method")`), and those it sets computed attributes
    /// on: a library method written this way may return anything.
    patched: HashSet<String>,
}

impl<'p, 'a> Resolver<'p, 'a> {
    fn new(project: &'p Project<'a>, hierarchy: &'p Hierarchy<'a>) -> Self {
        let mut written = HashSet::default();
        let mut registered = HashSet::default();
        let mut patched = HashSet::default();
        for file in project.files {
            for fact in &file.facts {
                match fact {
                    Fact::AttrWrite(Receiver::Global(d), attr) => {
                        patched.insert(format!("{d}.{attr}"));
                        written.insert(attr.as_str());
                    }
                    Fact::DynamicSetattr(Receiver::Global(d)) => {
                        patched.insert(d.to_string());
                    }
                    Fact::AttrWrite(_, attr) | Fact::GuardedWrite(_, attr) => {
                        written.insert(attr.as_str());
                    }
                    Fact::Registered(dotted) => {
                        if let Resolved::Class(id) = project.resolve(dotted, 0) {
                            registered.insert(id);
                        }
                    }
                    _ => {}
                }
            }
        }
        Resolver {
            project,
            hierarchy,
            written,
            registered,
            patched,
        }
    }

    fn receiver(&self, file: usize, recv: &Receiver) -> RecvKind {
        let project = self.project;
        match recv {
            Receiver::SelfOf(c) => project
                .id_of(file, *c)
                .map_or(RecvKind::Unknown, RecvKind::SelfOf),
            Receiver::ClassOf(_) => RecvKind::ClassObject,
            Receiver::Instance(d) => match project.resolve(d, 0) {
                Resolved::Class(id) => RecvKind::Exact(id),
                Resolved::External if constructs_foreign_object(d) => RecvKind::NotOurs,
                _ => self.typed(&[TypeRef::Call(d.to_string())], 0),
            },
            Receiver::Global(d) => match project.resolve(d, 0) {
                Resolved::Class(_) => RecvKind::ClassObject,
                Resolved::Instance(id) => RecvKind::Exact(id),
                Resolved::Module | Resolved::External | Resolved::Function => RecvKind::NotOurs,
                Resolved::Other => RecvKind::Unknown,
            },
            Receiver::Typed(members) => self.typed(members, 0),
            Receiver::AttrOf { owner, attr, item } => {
                match self.attr_of(file, owner, attr, *item) {
                    Some(members) => self.typed(&members, 1),
                    None => RecvKind::Unknown,
                }
            }
            Receiver::Produced { api, class } => self.produced(api, class),
            Receiver::Stored { owner, attr, value } => {
                let owners = match owner.as_ref() {
                    Receiver::SelfOf(c) => project
                        .id_of(file, *c)
                        .map(|id| self.hierarchy.with_descendants(id)),
                    Receiver::Typed(members) => self.project_instances(members),
                    Receiver::Instance(d) => {
                        self.project_instances(&[TypeRef::Call(d.to_string())])
                    }
                    _ => None,
                };
                match owners {
                    Some(ids) if ids.iter().all(|&id| self.plain_attr(id, attr)) => {
                        self.receiver(file, value)
                    }
                    _ => RecvKind::Unknown,
                }
            }
            Receiver::Definition => RecvKind::NotOurs,
            Receiver::Unknown => RecvKind::Unknown,
        }
    }

    /// What a library method of [`super::index::PRODUCERS`] returns: a new object of
    /// the library's class, never a project instance, as long as the library is not
    /// part of the project (a vendored copy may have been changed) and the project
    /// does not replace the method or set computed attributes on its class.
    fn produced(&self, api: &str, class: &str) -> RecvKind {
        let Some((owner, _)) = api.rsplit_once('.') else {
            return RecvKind::Unknown;
        };
        let library = matches!(self.project.resolve(owner, 0), Resolved::External)
            && matches!(self.project.resolve(class, 0), Resolved::External);
        if library && !self.patched.contains(api) && !self.patched.contains(owner) {
            RecvKind::NotOurs
        } else {
            RecvKind::Unknown
        }
    }

    /// The classes a union of types allows, or `Unknown` when one member is not known.
    fn typed(&self, members: &[TypeRef], depth: u8) -> RecvKind {
        match self.classes_of(members, depth, false) {
            Some(mut ids) => {
                ids.sort_unstable();
                ids.dedup();
                RecvKind::Classes(ids)
            }
            None => RecvKind::Unknown,
        }
    }

    /// The project classes a union of types allows (subclasses included). Objects
    /// outside the project (a library's instance, a plain `str`, a function) are left
    /// out, or, with `only_project`, make the answer `None`: their attributes and
    /// `__call__` are not seen.
    fn classes_of(&self, members: &[TypeRef], depth: u8, only_project: bool) -> Option<Vec<usize>> {
        if depth > 8 {
            return None;
        }
        let project = self.project;
        let mut out = Vec::new();
        for member in members {
            match member {
                TypeRef::Call(d) => match project.resolve(d, 0) {
                    Resolved::Class(id) => out.push(id),
                    Resolved::External if constructs_foreign_object(d) && !only_project => {}
                    Resolved::External | Resolved::Module | Resolved::Instance(_) => return None,
                    Resolved::Function | Resolved::Other => {
                        let returns = self.returns(d, depth)?;
                        out.extend(self.classes_of(&returns, depth + 1, only_project)?);
                    }
                },
                TypeRef::Callable if only_project => return None,
                TypeRef::Callable => out.extend((0..project.len()).filter(|&id| self.callable(id))),
                TypeRef::Except(inner, excluded) => {
                    let inner = std::slice::from_ref(inner.as_ref());
                    let mut ids = self.classes_of(inner, depth + 1, only_project)?;
                    for d in excluded {
                        // An open `isinstance` may say no to a subclass.
                        if let Resolved::Class(x) = project.resolve(d, 0)
                            && !self.is_open(x)
                        {
                            let gone = self.hierarchy.with_descendants(x);
                            ids.retain(|i| !gone.contains(i));
                        }
                    }
                    out.extend(ids);
                }
                TypeRef::Inherited(param) => {
                    let members = self.inherited_param(param)?;
                    out.extend(self.classes_of(&members, depth + 1, only_project)?);
                }
                TypeRef::Applied(applied) => {
                    let (callee, shape) = applied.as_ref();
                    let (f, function) = project.locate(callee, 0)?;
                    let signatures = project.files[f].signatures.get(&function)?;
                    let members = signature::applied(signatures, shape)?;
                    out.extend(self.classes_of(&members, depth + 1, only_project)?);
                }
                TypeRef::Item(callee, i) => {
                    let members = self.returns_item(callee, *i)?;
                    out.extend(self.classes_of(&members, depth + 1, only_project)?);
                }
                TypeRef::MethodOf(owner, method) => {
                    let owners = self.classes_of(std::slice::from_ref(owner), depth + 1, true)?;
                    if owners.is_empty() {
                        return None;
                    }
                    for id in owners {
                        let members = self.method_returns(id, method, None)?;
                        out.extend(self.classes_of(&members, depth + 1, only_project)?);
                    }
                }
                TypeRef::PassedBy(decorator) => {
                    let (f, function) = project.locate(decorator, 0)?;
                    let members = project.files[f].passes_first.get(&function)?;
                    out.extend(self.classes_of(members, depth + 1, only_project)?);
                }
                TypeRef::Of(d) => match project.resolve(d, 0) {
                    Resolved::Class(id) if !self.is_open(id) => {
                        out.extend(self.hierarchy.with_descendants(id));
                    }
                    Resolved::External
                        if CONCRETE_BUILTINS.contains(&d.as_str()) && !only_project =>
                    {
                        // Project subclasses of the builtin are its instances too.
                        for id in 0..project.len() {
                            if self.hierarchy.external[id]
                                .iter()
                                .any(|e| e.dotted() == Some(d.as_str()))
                            {
                                out.extend(self.hierarchy.with_descendants(id));
                            }
                        }
                    }
                    _ => return None,
                },
            }
        }
        Some(out)
    }

    /// Whether `obj.attr` reads back what `obj.attr = v` stored, on instances of `id`
    /// and of every class of its family: no property, class-level name (a descriptor
    /// may be one), attribute hook or base outside the project in between.
    fn plain_attr(&self, id: usize, attr: &str) -> bool {
        let hierarchy = self.hierarchy;
        hierarchy.family(id).all(|a| {
            let class = self.project.class(a);
            !hierarchy.has_outside_base(a)
                && !class.properties.iter().any(|p| p == attr)
                && !class.class_names.iter().any(|n| n == attr)
                && !class.methods.iter().any(|m| {
                    matches!(
                        m.as_str(),
                        "__setattr__" | "__getattr__" | "__getattribute__" | "__delattr__"
                    )
                })
        })
    }

    /// What the bases of `class` that define `method` annotate its parameter at
    /// `position` named `name` as: all of them must, by the same position and name.
    fn inherited_param(&self, param: &InheritedParam) -> Option<Vec<TypeRef>> {
        let InheritedParam {
            class,
            method,
            position,
            name,
        } = param;
        let Resolved::Class(id) = self.project.resolve(class, 0) else {
            return None;
        };
        let mut out = Vec::new();
        for &a in &self.hierarchy.ancestors[id] {
            let base = self.project.class(a);
            if !base.methods.iter().any(|m| m == method) {
                continue;
            }
            let (.., members) = base
                .params
                .iter()
                .find(|(m, p, n, _)| m == method && p == position && n == name)?;
            out.extend(members.iter().cloned());
        }
        (!out.is_empty()).then_some(out)
    }

    /// Whether instances of `id` may be callable: its class or a base defines
    /// `__call__`, or has a base outside the project that may.
    fn callable(&self, id: usize) -> bool {
        // `Cls.__call__ = f` somewhere.
        self.written.contains("__call__")
            || self.hierarchy.with_ancestors(id).any(|a| {
                self.project
                    .class(a)
                    .class_names
                    .iter()
                    .any(|n| n == "__call__")
                    || self.hierarchy.has_outside_base(a)
            })
    }

    /// Whether `isinstance` (and so an annotation) of class `id` may hold for objects
    /// that are not instances of it or its subclasses: a protocol, a class with
    /// `__subclasshook__`, a registered ABC, a custom metaclass (`__instancecheck__`).
    fn is_open(&self, id: usize) -> bool {
        self.hierarchy.with_ancestors(id).any(|a| {
            let class = self.project.class(a);
            self.registered.contains(&a)
                || class.methods.iter().any(|m| m == "__subclasshook__")
                || class
                    .metaclass
                    .as_ref()
                    .is_some_and(|m| !matches!(m.dotted(), Some("builtins.type" | "abc.ABCMeta")))
                || self.hierarchy.external[a].iter().any(|e| {
                    matches!(
                        e.dotted(),
                        Some("typing.Protocol" | "typing_extensions.Protocol") | None
                    )
                })
        })
    }

    /// What calling the project function or method `dotted` returns.
    fn returns(&self, dotted: &str, depth: u8) -> Option<Vec<TypeRef>> {
        let project = self.project;
        // `Cls.create`, `mod.Cls.create`, `obj.copy()`: a method, maybe inherited.
        if let Some((prefix, method)) = dotted.rsplit_once('.') {
            match project.resolve(prefix, 0) {
                Resolved::Class(id) => return self.method_returns(id, method, None),
                // `make().copy()`, `self.state_cls().copy()`: a method of what the
                // call before it makes, when that is wholly the project's.
                Resolved::Other | Resolved::Function => {
                    let made = [TypeRef::Call(prefix.to_string())];
                    if let Some(owners) = self.classes_of(&made, depth + 1, true)
                        && !owners.is_empty()
                    {
                        let mut out = Vec::new();
                        for id in owners {
                            out.extend(self.method_returns(id, method, None)?);
                        }
                        return Some(out);
                    }
                }
                _ => {}
            }
        }
        let (f, name) = project.locate(dotted, 0)?;
        project.files[f].returns.get(&name).cloned()
    }

    /// What item `i` of the tuple the project function or method `dotted` is declared
    /// to return is.
    fn returns_item(&self, dotted: &str, i: usize) -> Option<Vec<TypeRef>> {
        let project = self.project;
        if let Some((prefix, method)) = dotted.rsplit_once('.')
            && let Resolved::Class(id) = project.resolve(prefix, 0)
        {
            return self.method_returns(id, method, Some(i));
        }
        let (f, name) = project.locate(dotted, 0)?;
        project.files[f].item_returns.get(&name)?.get(i)?.clone()
    }

    /// What `method` returns when called on class `id` or an instance of it: every
    /// definition of it in the class, its bases and its subclasses (which may
    /// override it) must say, and no instance may hold its own `method`. With
    /// `item`, what that item of the tuple it returns is (by the declared type).
    fn method_returns(&self, id: usize, method: &str, item: Option<usize>) -> Option<Vec<TypeRef>> {
        let project = self.project;
        if self.written.contains(method) {
            return None;
        }
        let mut out = Vec::new();
        let mut found = false;
        for x in self.hierarchy.with_descendants(id) {
            for a in self.hierarchy.with_ancestors(x) {
                let class = project.class(a);
                // An instance's own `method`, or a class-level one set in a way not
                // followed here (an annotated default, an import, a nested class).
                let defines = class.methods.iter().any(|m| m == method);
                let followed = defines || class.class_values.contains_key(method);
                if class.attrs.iter().any(|n| n == method)
                    || (class.class_names.iter().any(|n| n == method) && !followed)
                {
                    return None;
                }
                if defines {
                    let (f, _) = project.classes[a];
                    let key = format!("{}.{method}", class.qualname);
                    let file = &project.files[f];
                    let own = match item {
                        None => file.returns.get(&key).map(|r| Some(r.clone())),
                        Some(i) => file
                            .item_returns
                            .get(&key)
                            .map(|r| r.get(i).cloned().flatten()),
                    };
                    match own {
                        Some(types) => out.extend(types?),
                        // Called through a base, an override returns what the base
                        // declares; the base is one of the ancestors walked here.
                        None if self.overrides_unannotated(a, method) => {}
                        None => return None,
                    }
                    found = true;
                }
                // `state_cls = BlockState` at class level: calling it makes a
                // `BlockState` (a computed `setattr` on the class may replace it).
                if let Some(value) = class.class_values.get(method) {
                    if item.is_some() || class.blockers.contains(&Blocker::DynamicClassSetattr) {
                        return None;
                    }
                    out.push(TypeRef::Call(value.clone()?));
                    found = true;
                }
            }
        }
        found.then_some(out)
    }

    /// Whether class `id` defines `method` without a return annotation, overriding a
    /// project base's: what callers typed by the base get is what the base declares
    /// (type checkers type such a call by the base's signature, and an override
    /// returning something else breaks those callers).
    fn overrides_unannotated(&self, id: usize, method: &str) -> bool {
        self.project
            .class(id)
            .unannotated_returns
            .iter()
            .any(|m| m == method)
            && self.hierarchy.ancestors[id]
                .iter()
                .any(|&a| self.project.class(a).methods.iter().any(|m| m == method))
    }

    /// What `owner.attr` holds (`item`: what an element of it is), as a union of
    /// types, when every class the owner may be an instance of says.
    fn attr_of(&self, file: usize, owner: &Owner, attr: &str, item: bool) -> Option<Vec<TypeRef>> {
        let owners = match owner {
            Owner::SelfOf(c) => vec![self.project.id_of(file, *c)?],
            Owner::Typed(members) => self.project_instances(members)?,
        };
        let mut out = Vec::new();
        for id in owners {
            match (self.attr_type(id, attr)?, item) {
                (Shape::Instances(members), false) | (Shape::Elements(members), true) => {
                    out.extend(members);
                }
                _ => return None,
            }
        }
        Some(out)
    }

    /// The project classes a union of types allows, when every member is an instance
    /// of project classes only: an object outside the project (a function, a plain
    /// `str`, a library's instance) holds attributes and runs `__call__` pyslim does
    /// not see.
    fn project_instances(&self, members: &[TypeRef]) -> Option<Vec<usize>> {
        let ids = self.classes_of(members, 1, true)?;
        (!ids.is_empty()).then_some(ids)
    }

    /// The project classes whose instances a called object may be, when it may be
    /// nothing else (see [`Self::project_instances`]).
    fn called_classes(&self, file: usize, called: &Receiver) -> Option<Vec<usize>> {
        let members = match called {
            Receiver::Typed(members) => members.clone(),
            Receiver::AttrOf { owner, attr, item } => self.attr_of(file, owner, attr, *item)?,
            _ => return None,
        };
        self.project_instances(&members)
    }

    /// What `self.attr` holds in instances of `id` (or its subclasses), when every
    /// assignment in the family says and nothing else writes it.
    fn attr_type(&self, id: usize, attr: &str) -> Option<Shape> {
        if self.written.contains(attr) {
            return None;
        }
        let project = self.project;
        let family: Vec<usize> = self.hierarchy.family(id).collect();
        let mut shape: Option<Shape> = None;
        for &a in &family {
            let class = project.class(a);
            // Writes that bypass the assignments pyslim sees, and a class-level value
            // an instance reads until it sets its own (`helper = Helper()`; a
            // dataclass field's annotation covers its default).
            if class.properties.iter().any(|p| p == attr)
                || (class.class_names.iter().any(|n| n == attr)
                    && !class.declared.iter().any(|d| d == attr))
                || class.methods.iter().any(|m| {
                    matches!(
                        m.as_str(),
                        "__setattr__" | "__getattr__" | "__getattribute__"
                    )
                })
                || class.blockers.iter().any(|b| {
                    matches!(
                        b,
                        Blocker::Vars | Blocker::SelfDict | Blocker::DynamicSetattr
                    )
                })
            {
                return None;
            }
            if let Some(found) = class.attr_types.get(attr) {
                let found = found.as_ref()?;
                shape = Some(match &shape {
                    None => found.clone(),
                    Some(prev) => types::merge(prev, found)?,
                });
            }
        }
        shape
    }
}

/// Stage 3: what the facts of every file say about the classes.
struct Evidence {
    /// Class-level names written after creation (`Cls.x = ...`).
    late_class_names: Vec<ThinVec<String>>,
    /// Attributes written on instances from outside the class.
    outside_writes: Vec<ThinVec<String>>,
    /// Attributes written on objects of unknown type.
    unknown_writes: BTreeSet<String>,
    /// Attributes written on objects of unknown type that certainly have them.
    guarded_writes: BTreeSet<String>,
    /// Classes whose instances are weakly referenced.
    weak: HashSet<usize>,
    /// Something weakly referenced may be any instance.
    global_weak: bool,
    /// Classes whose instances need their dict, and why.
    needs_dict: Vec<(usize, DictUse)>,
    /// Classes on which `setattr(Cls, name, ...)` sets a computed name.
    class_setattr: Vec<usize>,
    /// Reasons every rewrite is unproven.
    global_unproven: Vec<Unproven>,
    /// Reasons per class.
    unproven: Vec<ThinVec<Unproven>>,
}

impl Evidence {
    fn collect(project: &Project, hierarchy: &Hierarchy, resolver: &Resolver) -> Self {
        let n = project.len();
        let mut evidence = Evidence {
            late_class_names: vec![ThinVec::new(); n],
            outside_writes: vec![ThinVec::new(); n],
            unknown_writes: BTreeSet::new(),
            guarded_writes: BTreeSet::new(),
            weak: HashSet::default(),
            global_weak: false,
            needs_dict: Vec::new(),
            class_setattr: Vec::new(),
            global_unproven: Vec::new(),
            unproven: vec![ThinVec::new(); n],
        };
        // What each fact's receiver may be, for every file at once: resolving is most
        // of this stage's work, only reads, and would otherwise run on one core.
        let kinds: Vec<Vec<Option<RecvKind>>> = project
            .files
            .par_iter()
            .enumerate()
            .map(|(f, file)| {
                file.facts
                    .iter()
                    .map(|fact| resolve_fact(project, hierarchy, resolver, f, fact))
                    .collect()
            })
            .collect();
        for (f, (file, kinds)) in project.files.iter().zip(kinds).enumerate() {
            for (fact, kind) in file.facts.iter().zip(kinds) {
                evidence.fact(project, hierarchy, f, fact, kind);
            }
        }
        evidence
    }

    /// Records `fact`, whose receiver may be what `kind` says ([`resolve_fact`]).
    fn fact(
        &mut self,
        project: &Project,
        hierarchy: &Hierarchy,
        f: usize,
        fact: &Fact,
        kind: Option<RecvKind>,
    ) {
        match (fact, kind) {
            (Fact::PickleLoad, _) => push_unique(&mut self.global_unproven, Unproven::PickleLoad),
            (Fact::OldPickle, _) => push_unique(&mut self.global_unproven, Unproven::OldPickle),
            (Fact::MethodEscape(c, name, callee), _) => {
                self.method_escape(project, hierarchy, f, *c, name, callee.as_deref());
            }
            // Nothing to record, or an escape proven harmless.
            (Fact::Registered(_), _) | (_, None) => {}
            (Fact::GuardedWrite(_, attr), Some(RecvKind::Unknown)) => {
                self.guarded_writes.insert(attr.to_string());
            }
            (Fact::GuardedWrite(recv, attr) | Fact::AttrWrite(recv, attr), Some(kind)) => {
                self.attr_write(project, kind, recv, attr);
            }
            (Fact::Weakref(_), Some(kind)) => match kind {
                RecvKind::Exact(id) => {
                    self.weak.insert(id);
                }
                RecvKind::SelfOf(id) => self.weak.extend(hierarchy.with_descendants(id)),
                RecvKind::Classes(ids) => self.weak.extend(ids),
                RecvKind::ClassObject | RecvKind::NotOurs => {}
                RecvKind::Unknown => self.global_weak = true,
            },
            (Fact::DictAccess(_), Some(kind)) => {
                self.dict_use(kind, DictUse::Dict, Unproven::UnknownDict);
            }
            (Fact::DynamicSetattr(recv), Some(RecvKind::ClassObject)) => {
                if let Receiver::Global(d) = recv
                    && let Resolved::Class(id) = project.resolve(d, 0)
                {
                    self.class_setattr.push(id);
                }
            }
            (Fact::DynamicSetattr(_), Some(kind)) => {
                self.dict_use(kind, DictUse::ComputedSetattr, Unproven::UnknownSetattr);
            }
            (Fact::ClassAssign(_), Some(kind)) => {
                self.dict_use(kind, DictUse::ClassAssign, Unproven::UnknownClassAssign);
            }
            (Fact::Escape(_, callee), Some(kind)) => {
                let reason = match callee.as_deref() {
                    Some(d) => Unproven::EscapesTo(d.rsplit('.').next().unwrap_or(d).to_string()),
                    None => Unproven::EscapesUnresolved,
                };
                self.escape(kind, hierarchy, reason);
            }
            (Fact::CalledEscape(..), Some(kind)) => {
                self.escape(kind, hierarchy, Unproven::EscapesUnresolved);
            }
        }
    }

    /// A bound method `self.name` of class `c` of file `f` is passed to `callee`.
    fn method_escape(
        &mut self,
        project: &Project,
        hierarchy: &Hierarchy,
        f: usize,
        c: usize,
        name: &str,
        callee: Option<&str>,
    ) {
        // Only methods (`self.on_event`), not data attributes.
        let Some(id) = project.id_of(f, c) else {
            return;
        };
        let is_method = hierarchy
            .with_ancestors(id)
            .any(|a| project.class(a).methods.iter().any(|m| m == name));
        // A bound method cannot carry attributes to its instance, but the callee may
        // keep a weak reference to it (signal libraries do): give the instances
        // `__weakref__`.
        if is_method && !proven_callee(project, hierarchy, callee) {
            self.weak.extend(hierarchy.with_descendants(id));
        }
    }

    /// `attr` is written on `recv`, which may be what `kind` says.
    fn attr_write(&mut self, project: &Project, kind: RecvKind, recv: &Receiver, attr: &str) {
        match kind {
            RecvKind::Exact(id) => self.outside_writes[id].push(attr.to_string()),
            RecvKind::Classes(ids) => {
                for id in ids {
                    self.outside_writes[id].push(attr.to_string());
                }
            }
            RecvKind::SelfOf(_) | RecvKind::NotOurs => {}
            RecvKind::ClassObject => {
                if let Receiver::Global(d) = recv
                    && let Resolved::Class(id) = project.resolve(d, 0)
                {
                    self.late_class_names[id].push(attr.to_string());
                }
            }
            RecvKind::Unknown => {
                self.unknown_writes.insert(attr.to_string());
            }
        }
    }

    /// What `kind` may be is passed to code that is not proven harmless.
    fn escape(&mut self, kind: RecvKind, hierarchy: &Hierarchy, reason: Unproven) {
        let reached: Vec<usize> = match kind {
            RecvKind::SelfOf(id) => hierarchy.with_descendants(id),
            RecvKind::Exact(id) => vec![id],
            RecvKind::Classes(ids) => ids,
            _ => return,
        };
        for id in reached {
            push_unique(&mut self.unproven[id], reason.clone());
        }
    }

    /// Outside code needs the dict of what `kind` may be.
    fn dict_use(&mut self, kind: RecvKind, why: DictUse, unknown: Unproven) {
        match kind {
            RecvKind::Exact(id) | RecvKind::SelfOf(id) => self.needs_dict.push((id, why)),
            RecvKind::Classes(ids) => self.needs_dict.extend(ids.into_iter().map(|id| (id, why))),
            RecvKind::ClassObject | RecvKind::NotOurs => {}
            RecvKind::Unknown => push_unique(&mut self.global_unproven, unknown),
        }
    }
}

/// What the receiver of `fact` (in file `f`) may be, when the fact is about one and
/// not proven harmless: an escape to a callee known to be harmless, or a call of an
/// object whose `__call__` is project code, gives `None`.
fn resolve_fact(
    project: &Project,
    hierarchy: &Hierarchy,
    resolver: &Resolver,
    f: usize,
    fact: &Fact,
) -> Option<RecvKind> {
    match fact {
        Fact::GuardedWrite(recv, _)
        | Fact::AttrWrite(recv, _)
        | Fact::Weakref(recv)
        | Fact::DictAccess(recv)
        | Fact::DynamicSetattr(recv)
        | Fact::ClassAssign(recv) => Some(resolver.receiver(f, recv)),
        Fact::Escape(recv, callee) => (!proven_callee(project, hierarchy, callee.as_deref()))
            .then(|| resolver.receiver(f, recv)),
        Fact::CalledEscape(recv, called) => {
            (!calls_project_code(hierarchy, resolver.called_classes(f, called)))
                .then(|| resolver.receiver(f, recv))
        }
        Fact::PickleLoad | Fact::OldPickle | Fact::Registered(_) | Fact::MethodEscape(..) => None,
    }
}

/// Whether calling the external `callee` builds an object of its own (a class,
/// by the capitalised-name convention, or a known lowercase one) rather than returning
/// something it was given (`copy.copy(obj)`, `getattr(...)`, `cast(T, obj)`).
fn constructs_foreign_object(callee: &str) -> bool {
    if callee.starts_with("builtins.")
        || matches!(
            callee,
            "copy.copy"
                | "copy.deepcopy"
                | "copy.replace"
                | "dataclasses.replace"
                | "typing.cast"
                | "typing_extensions.cast"
        )
    {
        return false;
    }
    let last = callee.rsplit('.').next().unwrap_or(callee);
    last.starts_with(|c: char| c.is_ascii_uppercase())
        || matches!(
            callee,
            "threading.local"
                | "shlex.shlex"
                | "collections.defaultdict"
                | "collections.deque"
                | "functools.partial"
                // A logger class must derive from `logging.Logger` (`setLoggerClass`
                // checks), an outside base that keeps a dict: never slotted.
                | "logging.getLogger"
        )
}

/// Why an external base (one outside the project) stops a class, or `None` when it is
/// known to be slot-free.
fn external_base(r: &Ref) -> Option<Reason> {
    let Some(dotted) = r.dotted() else {
        let text = r.display();
        return Some(if is_exception_name(text) {
            Reason::Kind(Kind::Exception)
        } else if text.contains("namedtuple") || text.contains("NamedTuple") {
            Reason::Kind(Kind::NamedTuple)
        } else {
            Reason::UnresolvedBase(text.to_string())
        });
    };
    let last = r.display().to_string();
    match dotted {
        "builtins.object" | "abc.ABC" | "typing.Generic" | "typing_extensions.Generic" => None,
        "typing.Protocol" | "typing_extensions.Protocol" => Some(Reason::Protocol),
        "typing.NamedTuple" | "typing_extensions.NamedTuple" => {
            Some(Reason::Kind(Kind::NamedTuple))
        }
        "typing.TypedDict" | "typing_extensions.TypedDict" => Some(Reason::Kind(Kind::TypedDict)),
        d if d.starts_with("enum.") => Some(Reason::Kind(Kind::Enum)),
        d if is_exception_name(d) => Some(Reason::Kind(Kind::Exception)),
        "builtins.int" | "builtins.str" | "builtins.bytes" | "builtins.tuple"
        | "builtins.float" | "builtins.complex" | "builtins.bool" | "builtins.frozenset" => {
            Some(Reason::Kind(Kind::BuiltinSubclass(last)))
        }
        d if d.starts_with("builtins.") => Some(Reason::BuiltinBase(last)),
        _ => Some(Reason::ExternalBase(last)),
    }
}

fn is_exception_name(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    last == "BaseException"
        || last.ends_with("Error")
        || last.ends_with("Exception")
        || last.ends_with("Warning")
}

/// Decides every class of the project.
pub fn decide(files: &[FileSummary]) -> ProjectPlan {
    let project = Project::new(files);
    let hierarchy = Hierarchy::new(&project);
    let resolver = Resolver::new(&project, &hierarchy);
    let evidence = Evidence::collect(&project, &hierarchy, &resolver);
    let mut decider = Decider::new(&project, &hierarchy, &evidence);
    for id in 0..project.len() {
        decider.state[id] = decider.own_verdict(id);
    }
    decider.needs_dict();
    decider.settle();
    decider.plans()
}

/// Stages 4 to 6: the verdicts.
struct Decider<'p, 'a> {
    project: &'p Project<'a>,
    hierarchy: &'p Hierarchy<'a>,
    evidence: &'p Evidence,
    state: Vec<State>,
    own_slots: Vec<Vec<String>>,
    has_weakref: Vec<bool>,
}

impl<'p, 'a> Decider<'p, 'a> {
    fn new(project: &'p Project<'a>, hierarchy: &'p Hierarchy<'a>, evidence: &'p Evidence) -> Self {
        let n = project.len();
        Decider {
            project,
            hierarchy,
            evidence,
            state: vec![State::Candidate; n],
            own_slots: vec![Vec::new(); n],
            has_weakref: vec![false; n],
        }
    }

    /// Whether `name` is a class-level name of `id`, late ones included. Read from the
    /// summary and the evidence rather than copied per class, which held a second list
    /// of names for every class of the project until the decision was done.
    fn has_class_name(&self, id: usize, name: &str) -> bool {
        self.project.class(id).class_names.iter().any(|n| n == name)
            || self.evidence.late_class_names[id].iter().any(|n| n == name)
    }

    /// Properties anywhere in the MRO of `id`.
    fn props_in_mro(&self, id: usize) -> HashSet<&'a str> {
        let project: &Project<'a> = self.project;
        self.hierarchy
            .with_ancestors(id)
            .flat_map(|a| {
                let (f, c) = project.classes[a];
                project.files[f].classes[c]
                    .properties
                    .iter()
                    .map(Name::as_str)
            })
            .collect()
    }

    /// The attributes instances of `id` hold themselves (dataclass fields, or what
    /// methods write on `self`), properties excepted.
    fn instance_attrs(&self, id: usize) -> Vec<String> {
        let class = self.project.class(id);
        let props = self.props_in_mro(id);
        let attrs = if class.dataclass.is_some() {
            &class.fields
        } else {
            &class.attrs
        };
        attrs
            .iter()
            .filter(|a| !props.contains(a.as_str()))
            .map(Name::to_string)
            .collect()
    }

    /// Every attribute an instance of `id` may hold or set through a property.
    fn known_attrs(&self, id: usize) -> HashSet<String> {
        let mut known: HashSet<String> = self
            .hierarchy
            .with_ancestors(id)
            .flat_map(|a| self.instance_attrs(a))
            .collect();
        known.extend(self.props_in_mro(id).into_iter().map(str::to_string));
        known
    }

    /// Stage 4: the class on its own.
    fn own_verdict(&self, id: usize) -> State {
        let class = self.project.class(id);
        if let Some(reason) = self.identity(id) {
            return match reason {
                Reason::AlreadySlotted => self.existing(class),
                reason => State::Skip(reason),
            };
        }
        let reason = self
            .kind(id)
            .or_else(|| self.body(id))
            .or_else(|| match class.dataclass {
                Some(slots) => self.dataclass(id, slots),
                None => self.class_level_names(id),
            })
            .or_else(|| self.hierarchy_names(id))
            .or_else(|| self.outside_writes(id));
        match reason {
            Some(reason) => State::Skip(reason),
            None => State::Candidate,
        }
    }

    /// A class slotted in the source: its slot names when they are known.
    fn existing(&self, class: &ClassSummary) -> State {
        let names = match (&class.slots, class.dataclass) {
            (Some(Some(names)), _) if !names.iter().any(|n| n == "__dict__") => Some(names.clone()),
            (None, Some(Some(true))) => Some(class.fields.iter().map(Name::to_string).collect()),
            _ => None,
        };
        match names {
            Some(names) => State::Existing(Some(names)),
            None => State::Skip(Reason::AlreadySlotted),
        }
    }

    /// What the class is: suppressed, ambiguous, nested, slotted already.
    fn identity(&self, id: usize) -> Option<Reason> {
        let class = self.project.class(id);
        let module = self.project.file_of(id).module.as_str();
        if class.suppressed {
            Some(Reason::Suppressed)
        } else if self.project.ambiguous.contains(&self.project.dotted(id)) {
            Some(Reason::DefinedTwice)
        } else if self.project.shared_modules.contains(module) {
            Some(Reason::SharedModule)
        } else if class.in_function {
            Some(Reason::InFunction)
        } else if class.slots.is_some() || class.dataclass == Some(Some(true)) {
            Some(Reason::AlreadySlotted)
        } else {
            None
        }
    }

    /// Bases outside the project, the metaclass, keywords and decorators.
    fn kind(&self, id: usize) -> Option<Reason> {
        let class = self.project.class(id);
        if let Some(reason) = self.hierarchy.external[id]
            .iter()
            .copied()
            .find_map(external_base)
        {
            return Some(reason);
        }
        if let Some(meta) = &class.metaclass
            && !matches!(meta.dotted(), Some("builtins.type" | "abc.ABCMeta"))
        {
            return Some(self.metaclass_reason(meta));
        }
        if let Some(reason) = self.managed_slots(id) {
            return Some(reason);
        }
        if class.other_keywords {
            return Some(Reason::ClassKeywords);
        }
        class
            .decorators
            .iter()
            .find(|dec| {
                !matches!(
                    dec.dotted(),
                    Some("functools.total_ordering" | "typing.final" | "typing_extensions.final")
                )
            })
            .map(|dec| Reason::Decorator(dec.display().to_string()))
    }

    /// A custom metaclass: one of the project's that handles `__slots__` says so.
    fn metaclass_reason(&self, meta: &Ref) -> Reason {
        if let Some(d) = meta.dotted()
            && let Resolved::Class(m) = self.project.resolve(d, 0)
            && self
                .hierarchy
                .with_ancestors(m)
                .any(|a| self.project.class(a).manages_slots)
        {
            return Reason::BaseManagesSlots(meta.display().to_string());
        }
        Reason::Metaclass(meta.display().to_string())
    }

    /// The class, a base or an inherited metaclass reads or sets `__slots__` when
    /// classes are made (a real library's config base raised "already specifies
    /// __slots__" at import once slots were added under it).
    fn managed_slots(&self, id: usize) -> Option<Reason> {
        for a in self.hierarchy.with_ancestors(id) {
            let class = self.project.class(a);
            if class.manages_slots {
                return Some(Reason::BaseManagesSlots(class.qualname.clone()));
            }
            if a != id
                && let Some(meta) = &class.metaclass
                && !matches!(meta.dotted(), Some("builtins.type" | "abc.ABCMeta"))
            {
                // A base's metaclass makes this class too.
                return Some(self.metaclass_reason(meta));
            }
        }
        None
    }

    /// What the class body and methods do.
    fn body(&self, id: usize) -> Option<Reason> {
        let class = self.project.class(id);
        if let Some(b) = class.blockers.first() {
            return Some(Reason::Blocker(b.clone()));
        }
        // `setattr(self, "not-a-name", v)` works with a dict, but slot names must be
        // identifiers.
        if let Some(a) = class.attrs.iter().find(|a| !is_identifier(a)) {
            return Some(Reason::NotIdentifier(a.to_string()));
        }
        class.one_line.then_some(Reason::OneLine)
    }

    /// A dataclass (`slots` is the value of its `slots=` argument, if given).
    fn dataclass(&self, id: usize, slots: Option<bool>) -> Option<Reason> {
        let class = self.project.class(id);
        let target = self.target(id);
        if slots == Some(false) {
            return Some(Reason::DataclassSlotsFalse);
        }
        if target < PythonVersion::PY310 {
            return Some(Reason::DataclassNeedsPy310);
        }
        if class.zero_arg_super && target < PythonVersion::PY314 {
            return Some(Reason::DataclassZeroArgSuper);
        }
        // Fields come from the class and what its bases hold (the fields of dataclass
        // bases); anything else set on `self` (in `__post_init__`, say) would need a
        // dict.
        let known = self.known_attrs(id);
        class
            .attrs
            .iter()
            .find(|a| !known.contains(a.as_str()))
            .map(|a| Reason::DataclassNonField(a.to_string()))
    }

    /// A class-level name that is also an instance attribute.
    fn class_level_names(&self, id: usize) -> Option<Reason> {
        let class = self.project.class(id);
        let props = self.props_in_mro(id);
        class
            .attrs
            .iter()
            .find(|a| !props.contains(a.as_str()) && self.has_class_name(id, a))
            .map(|a| Reason::ClassAttrConflict(a.to_string()))
    }

    /// Across the hierarchy: an inherited class-level name with a slot's name, or a
    /// class-level name hiding an inherited instance attribute.
    fn hierarchy_names(&self, id: usize) -> Option<Reason> {
        let own = self.instance_attrs(id);
        for &a in &self.hierarchy.ancestors[id] {
            if let Some(x) = own.iter().find(|x| {
                self.has_class_name(a, x)
                    && !self.project.class(a).properties.iter().any(|p| p == x)
            }) {
                return Some(Reason::ClassAttrConflict(x.clone()));
            }
            if let Some(x) = self
                .instance_attrs(a)
                .iter()
                .find(|x| self.has_class_name(id, x))
            {
                return Some(Reason::InheritedAttrConflict(x.clone()));
            }
        }
        None
    }

    /// An attribute written from outside on an instance known to be of this class.
    fn outside_writes(&self, id: usize) -> Option<Reason> {
        let known = self.known_attrs(id);
        self.evidence.outside_writes[id]
            .iter()
            .find(|a| !known.contains(*a))
            .map(|a| Reason::OutsideWrite(a.clone()))
    }

    fn target(&self, id: usize) -> PythonVersion {
        self.project
            .file_of(id)
            .target
            .unwrap_or(PythonVersion::PY310)
    }

    fn skip_candidate(&mut self, id: usize, reason: Reason) {
        if self.state[id] == State::Candidate {
            self.state[id] = State::Skip(reason);
        }
    }

    /// Stage 5a: classes whose instances need their dict keep their bases unslotted.
    fn needs_dict(&mut self) {
        for &id in &self.evidence.class_setattr {
            self.skip_candidate(id, Reason::ComputedClassSetattr);
        }
        let mut whole_dict: Vec<usize> = Vec::new();
        for &(id, why) in &self.evidence.needs_dict {
            self.skip_candidate(id, Reason::NeedsDict(why));
            whole_dict.push(id);
        }
        for id in 0..self.project.len() {
            if self
                .project
                .class(id)
                .blockers
                .iter()
                .any(Blocker::needs_whole_dict)
            {
                whole_dict.push(id);
            }
        }
        for id in whole_dict {
            let name = self.project.name(id).to_string();
            for &a in &self.hierarchy.ancestors[id] {
                self.skip_candidate(a, Reason::SubclassNeedsDict(name.clone()));
            }
        }
    }

    /// Stage 5b: hierarchies, to a fixpoint: bases first, then layouts.
    fn settle(&mut self) {
        let n = self.project.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&id| (self.hierarchy.ancestors[id].len(), id));
        loop {
            let mut changed = self.unslotted_bases(&order);
            self.slot_names(&order);
            changed |= self.layouts();
            if !changed {
                break;
            }
        }
    }

    /// A candidate with a base that stays unslotted is skipped.
    fn unslotted_bases(&mut self, order: &[usize]) -> bool {
        let mut changed = false;
        for &id in order {
            if self.state[id] != State::Candidate {
                continue;
            }
            let blocked = self.hierarchy.bases[id]
                .iter()
                .find_map(|&b| match &self.state[b] {
                    State::Candidate | State::Existing(Some(_)) => None,
                    State::Skip(r) => Some(
                        r.inherited()
                            .unwrap_or_else(|| Reason::BaseNotSlotted(self.project.name(b).into())),
                    ),
                    State::Existing(None) => {
                        Some(Reason::BaseNotSlotted(self.project.name(b).into()))
                    }
                });
            if let Some(reason) = blocked {
                self.state[id] = State::Skip(reason);
                changed = true;
            }
        }
        changed
    }

    /// Slot names, base-first: what a class's bases do not hold already.
    fn slot_names(&mut self, order: &[usize]) {
        for &id in order {
            self.own_slots[id].clear();
            self.has_weakref[id] = false;
            let base_weak = self.hierarchy.bases[id]
                .iter()
                .any(|&b| self.has_weakref[b]);
            match &self.state[id] {
                State::Existing(Some(names)) => {
                    self.own_slots[id] = names.clone();
                    self.has_weakref[id] = names.iter().any(|n| n == "__weakref__") || base_weak;
                }
                State::Candidate => {
                    let inherited: HashSet<String> = self.hierarchy.ancestors[id]
                        .iter()
                        .flat_map(|&a| self.own_slots[a].iter().cloned())
                        .collect();
                    self.own_slots[id] = self
                        .instance_attrs(id)
                        .into_iter()
                        .filter(|a| !inherited.contains(a))
                        .collect();
                    let weak = self.evidence.global_weak || self.evidence.weak.contains(&id);
                    if weak && !base_weak {
                        self.own_slots[id].push("__weakref__".into());
                        self.has_weakref[id] = true;
                    } else {
                        self.has_weakref[id] = base_weak;
                    }
                }
                State::Skip(_) | State::Existing(None) => {}
            }
        }
    }

    /// Every class's bases must have compatible solid bases; a candidate that would
    /// break that is skipped.
    fn layouts(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.project.len() {
            let mut solids: Vec<Solid> = self.hierarchy.bases[id]
                .iter()
                .map(|&b| self.solid(b, 0))
                .collect();
            if self.hierarchy.has_outside_base(id) {
                solids.push(Solid::External);
            }
            'pairs: for i in 0..solids.len() {
                for j in i + 1..solids.len() {
                    if self.compatible(solids[i], solids[j]) {
                        continue;
                    }
                    let ours = |s: Solid| match s {
                        Solid::Project(p) if self.state[p] == State::Candidate => Some(p),
                        _ => None,
                    };
                    if let Some(p) = ours(solids[j]).or(ours(solids[i])) {
                        self.state[p] =
                            State::Skip(Reason::LayoutConflict(self.project.name(id).into()));
                        changed = true;
                        break 'pairs;
                    }
                }
            }
        }
        changed
    }

    /// The class that fixes the instance layout of `id` (CPython's "solid base"): the
    /// nearest class with non-empty slots of its own. Unslotted classes add only a
    /// dict, which does not change it.
    fn solid(&self, id: usize, depth: usize) -> Solid {
        if depth > self.project.len() {
            // A cycle through wrongly resolved names: assume the worst.
            return Solid::External;
        }
        let slotted = matches!(self.state[id], State::Candidate | State::Existing(_));
        if slotted && !self.own_slots[id].is_empty() {
            return Solid::Project(id);
        }
        if let Some(&b) = self.hierarchy.bases[id].first() {
            return self.solid(b, depth + 1);
        }
        if self.hierarchy.has_outside_base(id) {
            Solid::External
        } else {
            Solid::Object
        }
    }

    fn compatible(&self, a: Solid, b: Solid) -> bool {
        let ancestors = &self.hierarchy.ancestors;
        match (a, b) {
            (Solid::Object, _) | (_, Solid::Object) => true,
            (Solid::External, Solid::External) => true,
            (Solid::Project(x), Solid::Project(y)) => {
                x == y || ancestors[x].contains(&y) || ancestors[y].contains(&x)
            }
            _ => false,
        }
    }

    /// Stage 6: the plans.
    fn plans(&self) -> ProjectPlan {
        let mut plan = ProjectPlan::default();
        for id in 0..self.project.len() {
            let file = self.project.file_of(id);
            if file.read_only {
                // Never looked up: no transform runs there. On the stdlib 78% of the
                // classes are in test files; all plans were 3.3 of the 43 MB heap peak.
                continue;
            }
            let p = match &self.state[id] {
                State::Skip(Reason::Suppressed) => Plan::Silent,
                State::Skip(r) => Plan::Skip(r.clone()),
                State::Existing(_) => Plan::Skip(Reason::AlreadySlotted),
                State::Candidate => self.slot_plan(id),
            };
            let class = self.project.class(id);
            plan.classes.insert(key(&file.module, &class.qualname), p);
        }
        plan
    }

    fn slot_plan(&self, id: usize) -> Plan {
        let class = self.project.class(id);
        let target = self.target(id);
        let weakref = self.own_slots[id].iter().any(|s| s == "__weakref__");
        if class.dataclass.is_some() && weakref && target < PythonVersion::PY311 {
            return Plan::Skip(Reason::DataclassWeakrefNeedsPy311);
        }
        let mut reasons = self.evidence.global_unproven.clone();
        for a in self.hierarchy.with_ancestors(id) {
            for r in &self.project.class(a).unproven {
                push_unique(&mut reasons, r.clone());
            }
        }
        for r in &self.evidence.unproven[id] {
            push_unique(&mut reasons, r.clone());
        }
        let known = self.known_attrs(id);
        if let Some(a) = self
            .evidence
            .unknown_writes
            .iter()
            .find(|a| !known.contains(*a))
        {
            push_unique(&mut reasons, Unproven::UnknownWrite(a.clone()));
        }
        // A write on an object that certainly has the attribute: only a class that has
        // it as a class-level name (a method, a default), or computes attributes,
        // could be written this way without a slot for it.
        let dynamic = self.hierarchy.with_ancestors(id).any(|a| {
            self.project
                .class(a)
                .methods
                .iter()
                .any(|m| m == "__getattr__" || m == "__getattribute__")
        });
        if let Some(a) = self.evidence.guarded_writes.iter().find(|a| {
            !known.contains(*a)
                && (dynamic
                    || IMPLICIT_CLASS_NAMES.contains(&a.as_str())
                    || self
                        .hierarchy
                        .with_ancestors(id)
                        .any(|c| self.has_class_name(c, a)))
        }) {
            push_unique(&mut reasons, Unproven::UnknownWrite(a.clone()));
        }
        let total: HashSet<&String> = self
            .hierarchy
            .with_ancestors(id)
            .flat_map(|a| self.own_slots[a].iter())
            .filter(|s| *s != "__weakref__")
            .collect();
        Plan::Slots(SlotPlan {
            slots: self.own_slots[id].clone(),
            total: total.len(),
            weakref,
            dataclass: class.dataclass.map(|_| class.dataclass_decorator as usize),
            unproven: reasons,
            target,
        })
    }
}

/// Calling an object of this kind runs project code: it is an instance of project
/// classes only, none with a base outside the project (whose `__call__` it could
/// inherit), so `type(obj).__call__` is defined in the project or the call fails.
fn calls_project_code(hierarchy: &Hierarchy, called: Option<Vec<usize>>) -> bool {
    let Some(ids) = called else {
        return false;
    };
    !ids.is_empty()
        && ids.iter().all(|&id| {
            hierarchy
                .with_ancestors(id)
                .all(|a| !hierarchy.has_outside_base(a))
        })
}

/// The callee is project code or a builtin known not to keep or change what it gets.
fn proven_callee(project: &Project, hierarchy: &Hierarchy, callee: Option<&str>) -> bool {
    callee.is_some_and(|d| {
        // `pkg.mod.Cls.name`: project code only when `name` is a method of the class
        // or a base (an attribute may hold any callable).
        if let Some((prefix, name)) = d.rsplit_once('.')
            && let Resolved::Class(id) = project.resolve(prefix, 0)
        {
            // Dunder names are the class's or `object`'s (`Base.__init__(self)`).
            return (name.starts_with("__") && name.ends_with("__"))
                || hierarchy
                    .with_ancestors(id)
                    .any(|a| project.class(a).methods.iter().any(|m| m == name));
        }
        HARMLESS_CALLS.contains(&d)
            || d.starts_with("builtins.object.")
            || matches!(
                project.resolve(d, 0),
                Resolved::Class(_) | Resolved::Other | Resolved::Instance(_) | Resolved::Function
            )
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// Adds `item` unless `list` holds it (a `Vec`, or a `ThinVec` kept per class).
fn push_unique<T: PartialEq>(list: &mut (impl AsRef<[T]> + Extend<T>), item: T) {
    if !list.as_ref().contains(&item) {
        list.extend([item]);
    }
}

/// Every class reachable from `id` through `edges`, without `id`.
fn walk<'e>(id: usize, edges: impl Fn(usize) -> &'e [usize], seen: &mut [bool]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack = edges(id).to_vec();
    while let Some(x) = stack.pop() {
        if x == id || seen[x] {
            continue;
        }
        seen[x] = true;
        out.push(x);
        stack.extend(edges(x).iter().copied());
    }
    // Cleared one by one: a fresh flag per class for every class made the walks
    // quadratic in the number of classes.
    for &x in &out {
        seen[x] = false;
    }
    out.sort_unstable();
    out
}

/// One list per class, stored end to end: a project has tens of thousands of classes,
/// most with no project base, and a `Vec` each held a header and an allocation apiece
/// until the decision was done.
struct Lists<T> {
    /// Where each list ends in `items`.
    ends: Vec<usize>,
    items: Vec<T>,
}

impl<T> Lists<T> {
    fn with_capacity(lists: usize) -> Self {
        Lists {
            ends: Vec::with_capacity(lists),
            items: Vec::new(),
        }
    }

    /// Adds an item to the list being built.
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    /// Closes the list being built: the next item starts the next list.
    fn end_list(&mut self) {
        self.ends.push(self.items.len());
    }

    fn push_list(&mut self, items: impl IntoIterator<Item = T>) {
        self.items.extend(items);
        self.end_list();
    }
}

impl<T> std::ops::Index<usize> for Lists<T> {
    type Output = [T];

    fn index(&self, list: usize) -> &[T] {
        let start = if list == 0 { 0 } else { self.ends[list - 1] };
        &self.items[start..self.ends[list]]
    }
}

#[cfg(test)]
mod lists_tests {
    use super::{Lists, walk};

    fn lists(of: &[&[usize]]) -> Lists<usize> {
        let mut out = Lists::with_capacity(of.len());
        for list in of {
            out.push_list(list.iter().copied());
        }
        out
    }

    #[test]
    fn lists_keep_each_list_apart_empty_ones_too() {
        let l = lists(&[&[], &[0], &[], &[0, 1]]);
        assert_eq!(&l[0], &[] as &[usize]);
        assert_eq!(&l[1], &[0]);
        assert_eq!(&l[2], &[] as &[usize]);
        assert_eq!(&l[3], &[0, 1]);
    }

    #[test]
    fn walks_share_one_seen_buffer_and_end_on_cycles() {
        // 0 -> 1 -> 2 -> 0 (a cycle the index can produce from ambiguous names), 3 -> 1.
        let bases = lists(&[&[1], &[2], &[0], &[1]]);
        let mut seen = vec![false; 4];
        let first: Vec<Vec<usize>> = (0..4)
            .map(|id| walk(id, |x| &bases[x], &mut seen))
            .collect();
        assert_eq!(
            first,
            vec![vec![1, 2], vec![0, 2], vec![0, 1], vec![0, 1, 2]]
        );
        assert!(seen.iter().all(|s| !s), "a walk leaves the buffer clear");
        let again: Vec<Vec<usize>> = (0..4)
            .map(|id| walk(id, |x| &bases[x], &mut seen))
            .collect();
        assert_eq!(first, again);
    }
}
