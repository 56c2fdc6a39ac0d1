//! Stage 3's resolver: what the receivers of every file's facts may be, as project
//! classes, from the types the index gave and what the classes store and return.

use std::sync::{Arc, Mutex, OnceLock};

use ruff_python_ast::name::Name;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::slots::index::{Fact, Owner, PRODUCERS, Receiver};
use crate::slots::safety::Blocker;
use crate::slots::signature;
use crate::slots::types::{self, InheritedParam, Shape, TypeRef};

use super::hierarchy::Hierarchy;
use super::project::{Project, Resolved};

/// Which classes' instances an object expression may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RecvKind {
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

/// Classes outside the project whose instances are never a project class's, unless the
/// project subclasses them (such subclasses are found through their bases): an object
/// annotated or `isinstance`-checked as one of these is no instance of a class that can
/// take slots. Each has metaclass `type` on Python 3.9 to 3.13, so `isinstance` is
/// nominal: it is no protocol, no ABC with `__subclasshook__` or `register()`. Other
/// outside classes may be (`os.PathLike`, `collections.abc.Sized`), and say nothing.
/// The builtins, then the standard library's classes that code most often annotates
/// and then writes attributes on, `vars()` or `setattr()`s (`args: argparse.Namespace`,
/// a logging filter's `record: logging.LogRecord`). The unit test below checks each
/// against the interpreter.
const CONCRETE_CLASSES: &[&str] = &[
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
    "argparse.ArgumentParser",
    "argparse.Namespace",
    "collections.Counter",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "datetime.date",
    "datetime.datetime",
    "datetime.time",
    "datetime.timedelta",
    "decimal.Decimal",
    "email.message.Message",
    "functools.partial",
    "io.BytesIO",
    "io.StringIO",
    "logging.Filter",
    "logging.Formatter",
    "logging.Handler",
    "logging.LogRecord",
    "logging.Logger",
    "logging.LoggerAdapter",
    "optparse.OptionParser",
    "optparse.Values",
    "pathlib.Path",
    "pathlib.PurePath",
    "queue.Queue",
    "re.Match",
    "re.Pattern",
    "socket.socket",
    "subprocess.Popen",
    "threading.Event",
    "threading.Thread",
    "types.SimpleNamespace",
    "unittest.TestCase",
    "urllib.request.Request",
    "uuid.UUID",
    "xml.etree.ElementTree.Element",
];

/// Resolves receivers to the classes whose instances they may be.
pub(super) struct Resolver<'p, 'a> {
    project: &'p Project<'a>,
    hierarchy: &'p Hierarchy<'a>,
    /// What the facts say once for the whole project (shared with the coarse
    /// resolver a refined one keeps, see [`Self::refined`]).
    known: Arc<Known<'a>>,
    /// The writes of [`Known::written`] by attribute, each told apart by what its
    /// object may be ([`Self::refined`]). `None`: every write of the name counts.
    writes: Option<Box<Writes<'p, 'a>>>,
    /// What [`Self::method_returns`] answered, by class, item and method: a method
    /// called on a base with thousands of subclasses (a test case class) walks them
    /// all, and the same calls recur in every file (the facts are resolved on every
    /// core at once, hence the lock).
    method_returns: Mutex<HashMap<MethodKey, Option<Vec<TypeRef>>>>,
}

/// What the facts of every file say once for the whole project.
struct Known<'a> {
    /// Attribute names written anywhere on something other than `self`: what such an
    /// attribute holds is not known from the class's own assignments.
    written: HashSet<&'a str>,
    /// `__call__` is written on something that may be any project class: any class's
    /// instances may be callable.
    call_written: bool,
    /// Project classes `__call__` is written on (`Cls.__call__ = f`): they and their
    /// subclasses may be callable. A write on a library class
    /// (`dataclasses.InitVar.__call__ = f`) gives `__call__` only to its subclasses,
    /// which have a base outside the project and count as callable anyway.
    call_written_on: HashSet<usize>,
    /// Private names of modules that some file reads through an import (`from cli
    /// import _process`, `cli._process`): such a function may be called from there.
    read_private: HashSet<&'a str>,
    /// Private names some file spells in a string: code may look them up by it.
    spelled_private: HashSet<&'a str>,
    /// Classes named in `Cls.register(...)`: their `isinstance` is open.
    registered: HashSet<usize>,
    /// Dotted names the project assigns attributes of (`mod.Cls.method = ...`,
    /// `mock.patch.object(mod.Cls, "method")`), and those it sets computed attributes
    /// on: a library method written this way may return anything.
    patched: HashSet<String>,
}

/// The attribute writes outside the classes' own methods, for [`Resolver::refined`].
struct Writes<'p, 'a> {
    /// The resolver that tells what each write's object may be.
    coarse: Resolver<'p, 'a>,
    /// Where each attribute name is written, with what those objects may be once asked.
    by_attr: HashMap<&'a str, AttrWrites<'a>>,
}

/// Where one attribute name is written outside the classes' methods (file, object),
/// and what those objects may be, once asked.
#[derive(Default)]
struct AttrWrites<'a> {
    sites: Vec<(usize, &'a Receiver)>,
    kinds: OnceLock<Vec<RecvKind>>,
}

/// A question to [`Resolver::method_returns`]: class, tuple item, method.
type MethodKey = (usize, Option<usize>, Name);

impl<'p, 'a> Resolver<'p, 'a> {
    pub(super) fn new(project: &'p Project<'a>, hierarchy: &'p Hierarchy<'a>) -> Self {
        let mut written = HashSet::default();
        let mut call_written = false;
        let mut call_written_on = HashSet::default();
        let mut registered = HashSet::default();
        let mut patched = HashSet::default();
        for file in project.files {
            for fact in &file.facts {
                if let Fact::AttrWrite(recv, attr) | Fact::GuardedWrite(recv, attr) = fact
                    && attr.as_str() == "__call__"
                {
                    match recv {
                        Receiver::Global(d) => match project.resolve(d, 0) {
                            Resolved::External => {}
                            Resolved::Class(id) => {
                                call_written_on.insert(id);
                            }
                            _ => call_written = true,
                        },
                        _ => call_written = true,
                    }
                }
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
        let read_private = project
            .files
            .iter()
            .flat_map(|file| {
                file.callers
                    .iter()
                    .flat_map(|c| c.private_refs.iter())
                    .chain(file.imports.values())
                    .map(|dotted| dotted.as_str())
            })
            .filter(|dotted| {
                dotted
                    .rsplit('.')
                    .next()
                    .is_some_and(|n| n.starts_with('_'))
            })
            .collect();
        Resolver {
            project,
            hierarchy,
            known: Arc::new(Known {
                written,
                call_written,
                call_written_on,
                read_private,
                spelled_private: project
                    .files
                    .iter()
                    .filter_map(|file| file.callers.as_ref())
                    .flat_map(|c| c.private_strings.iter().map(|s| s.as_str()))
                    .collect(),
                registered,
                patched,
            }),
            writes: None,
            method_returns: Mutex::default(),
        }
    }

    /// Whether some file other than its own may reach the private module-level name
    /// `dotted` (`pkg.m._Acc`): it imports or reads it (`from pkg.m import _Acc`,
    /// `m._Acc`), or spells it in a string (`getattr(m, "_Acc")`, its own file too).
    pub(super) fn private_reached(&self, dotted: &str) -> bool {
        let name = dotted.rsplit('.').next().unwrap_or(dotted);
        self.known.read_private.contains(dotted) || self.known.spelled_private.contains(name)
    }

    /// This resolver, but with the attribute writes outside the classes' own methods
    /// told apart by their objects: `proc.md = md` on a `Proc` says nothing of what
    /// `self.md` holds in an unrelated class. What each write's object may be is this
    /// (coarser) resolver's answer, so the refined one stays sound: a write it counts
    /// as elsewhere is one the coarse resolver proved to be elsewhere.
    pub(super) fn refined(self) -> Self {
        let project = self.project;
        // Only what a class stores is ever asked about.
        let stored: HashSet<&str> = project
            .files
            .iter()
            .flat_map(|file| &file.classes)
            .flat_map(|class| class.attr_types.iter().map(|(attr, _)| attr.as_str()))
            .collect();
        let mut by_attr: HashMap<&'a str, AttrWrites<'a>> = HashMap::default();
        for (f, file) in project.files.iter().enumerate() {
            for fact in &file.facts {
                if let Fact::AttrWrite(recv, attr) | Fact::GuardedWrite(recv, attr) = fact
                    && stored.contains(attr.as_str())
                {
                    by_attr
                        .entry(attr.as_str())
                        .or_default()
                        .sites
                        .push((f, recv));
                }
            }
        }
        Resolver {
            project,
            hierarchy: self.hierarchy,
            known: Arc::clone(&self.known),
            // The coarse answers may be less precise than the refined ones.
            method_returns: Mutex::default(),
            writes: Some(Box::new(Writes {
                coarse: self,
                by_attr,
            })),
        }
    }

    /// Whether an outside write of `attr` may reach an instance of a class among
    /// `family`, so that the class's own assignments do not say what it holds.
    fn written_in(&self, attr: &str, family: &[usize]) -> bool {
        let Some(writes) = &self.writes else {
            return self.known.written.contains(attr);
        };
        let Some(written) = writes.by_attr.get(attr) else {
            return false;
        };
        // Resolved on first need: most written names are never asked about.
        let kinds = written.kinds.get_or_init(|| {
            let mut kinds: Vec<RecvKind> = Vec::new();
            for (f, recv) in &written.sites {
                let kind = writes.coarse.receiver(*f, recv);
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            kinds
        });
        kinds.iter().any(|kind| match kind {
            RecvKind::Exact(id) => family.contains(id),
            RecvKind::SelfOf(id) => self
                .hierarchy
                .with_descendants(*id)
                .iter()
                .any(|d| family.contains(d)),
            RecvKind::Classes(ids) => ids.iter().any(|id| family.contains(id)),
            // A class-level value is what an instance without its own reads.
            RecvKind::ClassObject | RecvKind::Unknown => true,
            RecvKind::NotOurs => false,
        })
    }

    pub(super) fn receiver(&self, file: usize, recv: &Receiver) -> RecvKind {
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
            Receiver::ProducedBy { factory, producer } => self.produced_by(factory, *producer),
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

    /// What a library method of [`crate::slots::index::PRODUCERS`] returns: a new
    /// object of the library's class, never a project instance, as long as the library
    /// is not part of the project (a vendored copy may have been changed) and the
    /// project does not replace the method or set computed attributes on its class.
    fn produced(&self, api: &str, class: &str) -> RecvKind {
        let Some((owner, _)) = api.rsplit_once('.') else {
            return RecvKind::Unknown;
        };
        let library = matches!(self.project.resolve(owner, 0), Resolved::External)
            && matches!(self.project.resolve(class, 0), Resolved::External);
        if library && !self.known.patched.contains(api) && !self.known.patched.contains(owner) {
            RecvKind::NotOurs
        } else {
            RecvKind::Unknown
        }
    }

    /// What the library method of [`PRODUCERS`] at `producer` returns when called on
    /// what the project function `factory` returns: as [`Self::produced`] when every
    /// object the function returns is built by the library class itself (`return
    /// argparse.ArgumentParser(...)`, not a subclass's instance).
    fn produced_by(&self, factory: &str, producer: u8) -> RecvKind {
        let Some(p) = PRODUCERS.get(usize::from(producer)) else {
            return RecvKind::Unknown;
        };
        if !matches!(self.project.resolve(factory, 0), Resolved::Function) {
            return RecvKind::Unknown;
        }
        match self.returns(factory, 0) {
            Some(members)
                if !members.is_empty()
                    && members
                        .iter()
                        .all(|m| matches!(m, TypeRef::Call(d) if d == p.owner)) =>
            {
                self.produced(&format!("{}.{}", p.owner, p.method), p.class)
            }
            _ => RecvKind::Unknown,
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

    /// The project classes an argument of a call in file `f` may be an instance of
    /// (see [`Self::classes_of`]), for a parameter typed by its callers: read at the
    /// depth of the types around it, so that a function passing its own parameter on
    /// to itself ends.
    fn passed_classes(
        &self,
        f: usize,
        passed: &Receiver,
        depth: u8,
        only_project: bool,
    ) -> Option<Vec<usize>> {
        match passed {
            Receiver::Typed(members) => self.classes_of(members, depth, only_project),
            Receiver::Instance(d) => {
                self.classes_of(&[TypeRef::Call(d.to_string())], depth, only_project)
            }
            Receiver::SelfOf(c) => self
                .project
                .id_of(f, *c)
                .map(|id| self.hierarchy.with_descendants(id)),
            Receiver::Definition => (!only_project).then(Vec::new),
            Receiver::Global(_) | Receiver::Produced { .. } | Receiver::ProducedBy { .. } => {
                match self.receiver(f, passed) {
                    RecvKind::Exact(id) => Some(vec![id]),
                    RecvKind::NotOurs => (!only_project).then(Vec::new),
                    _ => None,
                }
            }
            _ => None,
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
                TypeRef::CallSites(site) => {
                    let (function, position) = site.as_ref();
                    // Another file reads it through an import: it may pass anything.
                    let name = function.rsplit('.').next().unwrap_or(function);
                    if self.known.read_private.contains(function.as_str())
                        || self.known.spelled_private.contains(name)
                    {
                        return None;
                    }
                    let (f, name) = project.locate(function, 0)?;
                    let callers = project.files[f].callers.as_ref()?;
                    let (_, passed) = callers.call_sites.iter().find(|(n, _)| *n == name)?;
                    let passed = passed.get(*position)?;
                    for receiver in passed {
                        // The function passing the parameter on to itself (`_walk(node,
                        // depth - 1)`) passes what its other callers did.
                        if matches!(receiver, Receiver::Typed(members)
                            if members.as_slice() == std::slice::from_ref(member))
                        {
                            continue;
                        }
                        out.extend(self.passed_classes(f, receiver, depth + 1, only_project)?);
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
                        if CONCRETE_CLASSES.contains(&d.as_str()) && !only_project =>
                    {
                        // Project subclasses of the class are its instances too.
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
        // `__call__` written on what may be any class, or on this class or a base.
        self.known.call_written
            || self.hierarchy.with_ancestors(id).any(|a| {
                self.known.call_written_on.contains(&a)
                    || self
                        .project
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
            self.known.registered.contains(&a)
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
        let key = (id, item, Name::new(method));
        let known = self
            .method_returns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(found) = known {
            return found;
        }
        let found = self.method_returns_walked(id, method, item);
        self.method_returns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
        found
    }

    /// [`Self::method_returns`], worked out.
    fn method_returns_walked(
        &self,
        id: usize,
        method: &str,
        item: Option<usize>,
    ) -> Option<Vec<TypeRef>> {
        let project = self.project;
        if self.known.written.contains(method) {
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
    pub(super) fn called_classes(&self, file: usize, called: &Receiver) -> Option<Vec<usize>> {
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
        let project = self.project;
        let family: Vec<usize> = self.hierarchy.family(id).collect();
        if self.written_in(attr, &family) {
            return None;
        }
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
                // A module object (markdown patches its own copy of `html.parser`).
                | "importlib.import_module"
                | "importlib.reload"
                | "importlib.util.module_from_spec"
        )
}

#[cfg(test)]
mod tests {
    use super::CONCRETE_CLASSES;

    /// Every class of [`CONCRETE_CLASSES`] exists and has metaclass `type` (no
    /// protocol, no ABC) on the interpreter the tests run with.
    #[test]
    fn the_concrete_classes_are_nominal_on_this_python() {
        let check = r#"
import importlib, sys
bad = []
for dotted in sys.argv[1:]:
    module, _, name = dotted.rpartition(".")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type) or type(obj) is not type or "__subclasshook__" in vars(obj):
        bad.append(f"{dotted}: metaclass {type(obj).__name__}")
print("\n".join(bad))
"#;
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(check)
            .args(CONCRETE_CLASSES)
            .output()
            .expect("python3 on PATH");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");
    }
}
