//! The whole-project decision: which classes get `__slots__`, with which names, and
//! whether that is proven (safe) or not (unsafe). Decided once, so every file's run
//! agrees on its bases and subclasses.

use std::collections::{BTreeSet, HashMap, HashSet};

use ruff_python_ast::PythonVersion;

use super::index::{ClassSummary, Fact, FileSummary, Receiver, Ref};

/// What happens to one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Add slots.
    Slots(SlotPlan),
    /// Leave it alone, for this reason (a note).
    Skip(String),
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
    pub unproven: Vec<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecvKind {
    /// An instance of exactly this class.
    Exact(usize),
    /// `self`: an instance of this class or of a subclass.
    SelfOf(usize),
    ClassObject,
    NotOurs,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Candidate,
    /// Slotted in the source already, with these names (or unknown names).
    Existing(Option<Vec<String>>),
    Skip(String),
    Silent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solid {
    Object,
    Project(usize),
    External,
}

struct Project<'a> {
    files: &'a [FileSummary],
    /// (file, class) per class id.
    classes: Vec<(usize, usize)>,
    by_dotted: HashMap<String, usize>,
    ambiguous: HashSet<String>,
    modules: HashMap<&'a str, usize>,
    /// Module names of more than one file (scripts in folders without `__init__.py`):
    /// names in them cannot be resolved, and their classes are not keyed uniquely.
    shared_modules: HashSet<&'a str>,
}

impl Project<'_> {
    fn class(&self, id: usize) -> &ClassSummary {
        let (f, c) = self.classes[id];
        &self.files[f].classes[c]
    }

    fn file_of(&self, id: usize) -> &FileSummary {
        &self.files[self.classes[id].0]
    }

    fn name(&self, id: usize) -> &str {
        &self.class(id).qualname
    }

    fn resolve(&self, dotted: &str, depth: u8) -> Resolved {
        if depth > 8 || self.ambiguous.contains(dotted) {
            return Resolved::Other;
        }
        if let Some(&id) = self.by_dotted.get(dotted) {
            return Resolved::Class(id);
        }
        let parts: Vec<&str> = dotted.split('.').collect();
        for i in (1..=parts.len()).rev() {
            let module = parts[..i].join(".");
            if self.shared_modules.contains(module.as_str()) {
                return Resolved::Other;
            }
            let Some(&f) = self.modules.get(module.as_str()) else {
                continue;
            };
            if i == parts.len() {
                return Resolved::Module;
            }
            let file = &self.files[f];
            let (name, rest) = (parts[i], &parts[i + 1..]);
            if let Some(target) = file.imports.get(name) {
                let mut next = target.clone();
                for r in rest {
                    next.push('.');
                    next.push_str(r);
                }
                return self.resolve(&next, depth + 1);
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

    fn receiver(&self, file: usize, recv: &Receiver) -> RecvKind {
        let id_of = |c: usize| {
            let summary = &self.files[file];
            self.by_dotted
                .get(&format!(
                    "{}.{}",
                    summary.module, summary.classes[c].qualname
                ))
                .copied()
        };
        match recv {
            Receiver::SelfOf(c) => id_of(*c).map_or(RecvKind::Unknown, RecvKind::SelfOf),
            Receiver::ClassOf(_) => RecvKind::ClassObject,
            Receiver::Instance(d) => match self.resolve(d, 0) {
                Resolved::Class(id) => RecvKind::Exact(id),
                Resolved::External if constructs_foreign_object(d) => RecvKind::NotOurs,
                _ => RecvKind::Unknown,
            },
            Receiver::Global(d) => match self.resolve(d, 0) {
                Resolved::Class(_) => RecvKind::ClassObject,
                Resolved::Instance(id) => RecvKind::Exact(id),
                Resolved::Module | Resolved::External | Resolved::Function => RecvKind::NotOurs,
                Resolved::Other => RecvKind::Unknown,
            },
            Receiver::Definition => RecvKind::NotOurs,
            Receiver::Unknown => RecvKind::Unknown,
        }
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
                | "collections.defaultdict"
                | "collections.deque"
                | "functools.partial"
        )
}

/// Why an external base (one outside the project) stops a class, or `None` when it is
/// known to be slot-free.
fn external_base(r: &Ref) -> Option<String> {
    let Some(dotted) = r.dotted() else {
        let text = r.display();
        return Some(if is_exception_name(text) {
            "exception class".into()
        } else if text.contains("namedtuple") || text.contains("NamedTuple") {
            "NamedTuple class".into()
        } else {
            format!("base `{text}` cannot be resolved")
        });
    };
    let last = r.display();
    match dotted {
        "builtins.object" | "abc.ABC" | "typing.Generic" | "typing_extensions.Generic" => None,
        "typing.Protocol" | "typing_extensions.Protocol" => Some("Protocol class".into()),
        "typing.NamedTuple" | "typing_extensions.NamedTuple" => Some("NamedTuple class".into()),
        "typing.TypedDict" | "typing_extensions.TypedDict" => Some("TypedDict class".into()),
        d if d.starts_with("enum.") => Some("Enum class".into()),
        d if is_exception_name(d) => Some("exception class".into()),
        "builtins.int" | "builtins.str" | "builtins.bytes" | "builtins.tuple"
        | "builtins.float" | "builtins.complex" | "builtins.bool" | "builtins.frozenset" => {
            Some(format!("subclass of builtin `{last}`"))
        }
        d if d.starts_with("builtins.") => Some(format!("builtin base `{last}`")),
        _ => Some(format!("base `{last}` outside the project is not slotted")),
    }
}

fn is_exception_name(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    last == "BaseException"
        || last.ends_with("Error")
        || last.ends_with("Exception")
        || last.ends_with("Warning")
}

/// Reasons inherited by subclasses as they are (the subclass is the same kind of class).
fn is_kind_reason(reason: &str) -> bool {
    matches!(
        reason,
        "exception class" | "Enum class" | "NamedTuple class" | "TypedDict class"
    ) || reason.starts_with("subclass of builtin")
}

/// Decides every class of the project.
pub fn decide(files: &[FileSummary]) -> ProjectPlan {
    let mut project = Project {
        files,
        classes: Vec::new(),
        by_dotted: HashMap::new(),
        ambiguous: HashSet::new(),
        modules: HashMap::new(),
        shared_modules: HashSet::new(),
    };
    for (f, file) in files.iter().enumerate() {
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
    let n = project.classes.len();

    // Project bases per class, and which bases are outside.
    let mut bases: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut state: Vec<State> = vec![State::Candidate; n];
    let mut external: Vec<Vec<Ref>> = vec![Vec::new(); n];
    for id in 0..n {
        for base in &project.class(id).bases {
            match base.dotted().map(|d| project.resolve(d, 0)) {
                Some(Resolved::Class(b)) => bases[id].push(b),
                _ => external[id].push(base.clone()),
            }
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (id, of) in bases.iter().enumerate() {
        for &b in of {
            children[b].push(id);
        }
    }
    let ancestors: Vec<Vec<usize>> = (0..n).map(|id| walk(id, &bases)).collect();
    let descendants: Vec<Vec<usize>> = (0..n).map(|id| walk(id, &children)).collect();

    // Facts from every file.
    let mut late_class_names: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut outside_writes: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut unknown_writes: BTreeSet<String> = BTreeSet::new();
    let mut weak_exact: HashSet<usize> = HashSet::new();
    let mut global_weak = false;
    let mut dict_exact: Vec<(usize, &'static str)> = Vec::new();
    let mut class_setattr: Vec<usize> = Vec::new();
    let mut global_unproven: Vec<String> = Vec::new();
    let mut unproven: Vec<Vec<String>> = vec![Vec::new(); n];
    for (f, file) in files.iter().enumerate() {
        for fact in &file.facts {
            match fact {
                Fact::AttrWrite(recv, attr) => match project.receiver(f, recv) {
                    RecvKind::Exact(id) => outside_writes[id].push(attr.clone()),
                    RecvKind::SelfOf(_) | RecvKind::NotOurs => {}
                    RecvKind::ClassObject => {
                        if let Receiver::Global(d) = recv
                            && let Resolved::Class(id) = project.resolve(d, 0)
                        {
                            late_class_names[id].push(attr.clone());
                        }
                    }
                    RecvKind::Unknown => {
                        unknown_writes.insert(attr.clone());
                    }
                },
                Fact::Weakref(recv) => match project.receiver(f, recv) {
                    RecvKind::Exact(id) => {
                        weak_exact.insert(id);
                    }
                    RecvKind::SelfOf(id) => {
                        weak_exact.insert(id);
                        weak_exact.extend(descendants[id].iter().copied());
                    }
                    RecvKind::ClassObject | RecvKind::NotOurs => {}
                    RecvKind::Unknown => global_weak = true,
                },
                Fact::DictAccess(recv) => match project.receiver(f, recv) {
                    RecvKind::Exact(id) | RecvKind::SelfOf(id) => {
                        dict_exact.push((id, "instance __dict__ is used outside the class"))
                    }
                    RecvKind::ClassObject | RecvKind::NotOurs => {}
                    RecvKind::Unknown => push_unique(
                        &mut global_unproven,
                        "vars() or __dict__ is used on an object of unknown type",
                    ),
                },
                Fact::DynamicSetattr(recv) => match project.receiver(f, recv) {
                    RecvKind::Exact(id) | RecvKind::SelfOf(id) => {
                        dict_exact.push((id, "setattr() with a computed name on an instance"))
                    }
                    RecvKind::ClassObject => {
                        if let Receiver::Global(d) = recv
                            && let Resolved::Class(id) = project.resolve(d, 0)
                        {
                            class_setattr.push(id);
                        }
                    }
                    RecvKind::NotOurs => {}
                    RecvKind::Unknown => push_unique(
                        &mut global_unproven,
                        "setattr() with a computed name on an object of unknown type",
                    ),
                },
                Fact::ClassAssign(recv) => match project.receiver(f, recv) {
                    RecvKind::Exact(id) | RecvKind::SelfOf(id) => {
                        dict_exact.push((id, "instance __class__ is assigned"))
                    }
                    RecvKind::ClassObject | RecvKind::NotOurs => {}
                    RecvKind::Unknown => push_unique(
                        &mut global_unproven,
                        "__class__ is assigned on an object of unknown type",
                    ),
                },
                Fact::PickleLoad => push_unique(&mut global_unproven, "the project loads pickles"),
                Fact::OldPickle => push_unique(
                    &mut global_unproven,
                    "the project uses pickle protocol 0/1 or copyreg",
                ),
                Fact::Escape(..) | Fact::MethodEscape(..) => {
                    let (recv, callee) = match fact {
                        Fact::Escape(recv, callee) => (recv.clone(), callee),
                        Fact::MethodEscape(c, name, callee) => {
                            // Only methods (`self.on_event`), not data attributes.
                            let id = project
                                .by_dotted
                                .get(&format!("{}.{}", file.module, file.classes[*c].qualname))
                                .copied();
                            let is_method = id.is_some_and(|id| {
                                std::iter::once(id)
                                    .chain(ancestors[id].iter().copied())
                                    .any(|a| project.class(a).methods.contains(name))
                            });
                            // A bound method cannot carry attributes to its instance,
                            // but the callee may keep a weak reference to it (signal
                            // libraries do): give the instances `__weakref__`.
                            if is_method
                                && !proven_callee(&project, callee.as_deref())
                                && let Some(id) = id
                            {
                                weak_exact.insert(id);
                                weak_exact.extend(descendants[id].iter().copied());
                            }
                            continue;
                        }
                        _ => continue,
                    };
                    let reached: Vec<usize> = match project.receiver(f, &recv) {
                        RecvKind::SelfOf(id) => std::iter::once(id)
                            .chain(descendants[id].iter().copied())
                            .collect(),
                        RecvKind::Exact(id) => vec![id],
                        _ => continue,
                    };
                    if !proven_callee(&project, callee.as_deref()) {
                        let reason = match callee.as_deref() {
                            Some(d) => format!(
                                "instance is passed to `{}` outside the project",
                                d.rsplit('.').next().unwrap_or(d)
                            ),
                            None => "instance is passed to a call pyslim cannot resolve".into(),
                        };
                        for id in reached {
                            push_unique(&mut unproven[id], &reason);
                        }
                    }
                }
            }
        }
    }

    // What each class's instances hold, and its class-level names.
    let mut class_names: Vec<Vec<String>> = (0..n)
        .map(|id| {
            let mut names = project.class(id).class_names.clone();
            names.extend(late_class_names[id].iter().cloned());
            names
        })
        .collect();
    for names in &mut class_names {
        names.dedup();
    }
    let props_in_mro = |id: usize| -> HashSet<&str> {
        std::iter::once(id)
            .chain(ancestors[id].iter().copied())
            .flat_map(|a| project.class(a).properties.iter().map(String::as_str))
            .collect()
    };
    let instance_attrs = |id: usize| -> Vec<String> {
        let class = project.class(id);
        let props = props_in_mro(id);
        let attrs = if class.dataclass.is_some() {
            &class.fields
        } else {
            &class.attrs
        };
        attrs
            .iter()
            .filter(|a| !props.contains(a.as_str()))
            .cloned()
            .collect()
    };

    // 1. Each class on its own.
    for id in 0..n {
        let class = project.class(id);
        let target = project.file_of(id).target.unwrap_or(PythonVersion::PY310);
        let reason: Option<String> = (|| {
            if class.suppressed {
                return Some(String::new());
            }
            if project.ambiguous.contains(&format!(
                "{}.{}",
                project.file_of(id).module,
                class.qualname
            )) {
                return Some("defined more than once in its module".into());
            }
            if project
                .shared_modules
                .contains(project.file_of(id).module.as_str())
            {
                return Some("its module name is shared by another file".into());
            }
            if class.in_function {
                return Some("defined inside a function".into());
            }
            if let Some(slots) = &class.slots {
                let _ = slots;
                return Some("already defines __slots__".into());
            }
            if class.dataclass == Some(Some(true)) {
                return Some("already defines __slots__".into());
            }
            for base in &external[id] {
                if let Some(reason) = external_base(base) {
                    return Some(reason);
                }
            }
            if let Some(meta) = &class.metaclass
                && !matches!(meta.dotted(), Some("builtins.type" | "abc.ABCMeta"))
            {
                return Some(format!("custom metaclass `{}`", meta.display()));
            }
            if class.other_keywords {
                return Some("class keyword arguments".into());
            }
            for dec in &class.decorators {
                if !matches!(
                    dec.dotted(),
                    Some("functools.total_ordering" | "typing.final" | "typing_extensions.final")
                ) {
                    return Some(format!("decorator `{}` may add attributes", dec.display()));
                }
            }
            if let Some(b) = class.blockers.first() {
                return Some(b.reason());
            }
            // `setattr(self, "not-a-name", v)` works with a dict, but slot names must be
            // identifiers.
            if let Some(a) = class.attrs.iter().find(|a| !is_identifier(a)) {
                return Some(format!("attribute `{a}` is not an identifier"));
            }
            if class.one_line {
                return Some("class body is on one line".into());
            }
            if let Some(slots_arg) = class.dataclass {
                if slots_arg == Some(false) {
                    return Some("dataclass(slots=False) is explicit".into());
                }
                if target < PythonVersion::PY310 {
                    return Some("dataclass(slots=True) needs Python 3.10".into());
                }
                if class.zero_arg_super && target < PythonVersion::PY314 {
                    return Some("dataclass uses zero-argument super()".into());
                }
                if let Some(a) = class
                    .attrs
                    .iter()
                    .find(|a| !class.fields.contains(a) && !class.properties.contains(a))
                {
                    return Some(format!(
                        "sets attribute `{a}` that is not a dataclass field"
                    ));
                }
            } else {
                let props = props_in_mro(id);
                if let Some(a) = class
                    .attrs
                    .iter()
                    .find(|a| !props.contains(a.as_str()) && class_names[id].contains(a))
                {
                    return Some(format!(
                        "class attribute `{a}` conflicts with an instance attribute"
                    ));
                }
            }
            // Across the hierarchy: an inherited class-level name with a slot's name,
            // or a class-level name hiding an inherited instance attribute.
            let own = instance_attrs(id);
            for &a in &ancestors[id] {
                if let Some(x) = own.iter().find(|x| {
                    class_names[a].contains(x) && !project.class(a).properties.contains(x)
                }) {
                    return Some(format!(
                        "class attribute `{x}` conflicts with an instance attribute"
                    ));
                }
                if let Some(x) = instance_attrs(a)
                    .iter()
                    .find(|x| class_names[id].contains(x))
                {
                    return Some(format!(
                        "class attribute `{x}` conflicts with an inherited instance attribute"
                    ));
                }
            }
            let known = known_attrs(id, &ancestors, &instance_attrs, &props_in_mro);
            if let Some(a) = outside_writes[id].iter().find(|a| !known.contains(*a)) {
                return Some(format!("attribute `{a}` is set from outside the class"));
            }
            None
        })();
        state[id] = match reason {
            Some(r) if r.is_empty() => State::Silent,
            Some(r) if r == "already defines __slots__" => {
                let names = match (&class.slots, class.dataclass) {
                    (Some(Some(names)), _) if !names.iter().any(|n| n == "__dict__") => {
                        Some(names.clone())
                    }
                    (None, Some(Some(true))) => Some(class.fields.clone()),
                    _ => None,
                };
                match names {
                    Some(names) => State::Existing(Some(names)),
                    None => State::Skip(r),
                }
            }
            Some(r) => State::Skip(r),
            None => State::Candidate,
        };
    }
    for id in class_setattr {
        if state[id] == State::Candidate {
            state[id] = State::Skip("setattr() with a computed name on the class".into());
        }
    }
    // Classes whose instances need their whole dict keep their bases unslotted.
    for (id, reason) in &dict_exact {
        if state[*id] == State::Candidate {
            state[*id] = State::Skip(reason.to_string());
        }
    }
    let mut whole_dict: Vec<(usize, String)> = dict_exact
        .iter()
        .map(|(id, r)| (*id, r.to_string()))
        .collect();
    for id in 0..n {
        if let Some(b) = project
            .class(id)
            .blockers
            .iter()
            .find(|b| b.needs_whole_dict())
        {
            whole_dict.push((id, b.reason()));
        }
    }
    for (id, _) in &whole_dict {
        for &a in &ancestors[*id] {
            if state[a] == State::Candidate {
                state[a] = State::Skip(format!("subclass `{}` needs __dict__", project.name(*id)));
            }
        }
    }

    // 2. Hierarchies, to a fixpoint: bases first, then layouts.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&id| (ancestors[id].len(), id));
    let mut own_slots: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut has_weakref: Vec<bool> = vec![false; n];
    loop {
        let mut changed = false;
        for &id in &order {
            if state[id] != State::Candidate {
                continue;
            }
            for &b in &bases[id] {
                let ok = matches!(state[b], State::Candidate | State::Existing(Some(_)));
                if !ok {
                    let reason = match &state[b] {
                        State::Skip(r) if is_kind_reason(r) => r.clone(),
                        _ => format!("base `{}` is not slotted", project.name(b)),
                    };
                    state[id] = State::Skip(reason);
                    changed = true;
                    break;
                }
            }
        }
        // Slot names, base-first.
        for &id in &order {
            own_slots[id].clear();
            has_weakref[id] = false;
            match &state[id] {
                State::Existing(Some(names)) => {
                    own_slots[id] = names.clone();
                    has_weakref[id] = names.iter().any(|n| n == "__weakref__")
                        || bases[id].iter().any(|&b| has_weakref[b]);
                }
                State::Candidate => {
                    let inherited: HashSet<String> = ancestors[id]
                        .iter()
                        .flat_map(|&a| own_slots[a].iter().cloned())
                        .collect();
                    own_slots[id] = instance_attrs(id)
                        .into_iter()
                        .filter(|a| !inherited.contains(a))
                        .collect();
                    let base_weak = bases[id].iter().any(|&b| has_weakref[b]);
                    if (global_weak || weak_exact.contains(&id)) && !base_weak {
                        own_slots[id].push("__weakref__".into());
                        has_weakref[id] = true;
                    } else {
                        has_weakref[id] = base_weak;
                    }
                }
                _ => {}
            }
        }
        // Layouts: every class's bases must have compatible solid bases.
        for id in 0..n {
            let mut solids: Vec<Solid> = bases[id]
                .iter()
                .map(|&b| solid(b, &state, &own_slots, &bases, &external, 0))
                .collect();
            if !external[id].is_empty() && external[id].iter().any(|e| external_base(e).is_some()) {
                solids.push(Solid::External);
            }
            'pairs: for i in 0..solids.len() {
                for j in i + 1..solids.len() {
                    if compatible(solids[i], solids[j], &ancestors) {
                        continue;
                    }
                    let ours = |s: Solid| match s {
                        Solid::Project(p) if state[p] == State::Candidate => Some(p),
                        _ => None,
                    };
                    if let Some(p) = ours(solids[j]).or(ours(solids[i])) {
                        state[p] = State::Skip(format!(
                            "slots would cause a layout conflict in subclass `{}`",
                            project.name(id)
                        ));
                        changed = true;
                        break 'pairs;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }

    // 3. Plans.
    let mut plan = ProjectPlan::default();
    for id in 0..n {
        let class = project.class(id);
        let file = project.file_of(id);
        let target = file.target.unwrap_or(PythonVersion::PY310);
        let p = match &state[id] {
            State::Silent => Plan::Silent,
            State::Skip(r) => Plan::Skip(r.clone()),
            State::Existing(_) => Plan::Skip("already defines __slots__".into()),
            State::Candidate => {
                let weakref = own_slots[id].iter().any(|s| s == "__weakref__");
                if class.dataclass.is_some() && weakref && target < PythonVersion::PY311 {
                    Plan::Skip("weakly referenced dataclass needs Python 3.11".into())
                } else {
                    let mut reasons = global_unproven.clone();
                    for a in std::iter::once(id).chain(ancestors[id].iter().copied()) {
                        for r in &project.class(a).unproven {
                            push_unique(&mut reasons, r);
                        }
                    }
                    for r in &unproven[id] {
                        push_unique(&mut reasons, r);
                    }
                    let known = known_attrs(id, &ancestors, &instance_attrs, &props_in_mro);
                    if let Some(a) = unknown_writes.iter().find(|a| !known.contains(*a)) {
                        push_unique(
                            &mut reasons,
                            &format!("attribute `{a}` is written on an object of unknown type"),
                        );
                    }
                    let total: HashSet<&String> = std::iter::once(id)
                        .chain(ancestors[id].iter().copied())
                        .flat_map(|a| own_slots[a].iter())
                        .filter(|s| *s != "__weakref__")
                        .collect();
                    Plan::Slots(SlotPlan {
                        slots: own_slots[id].clone(),
                        total: total.len(),
                        weakref,
                        dataclass: class.dataclass.map(|_| class.dataclass_decorator),
                        unproven: reasons,
                        target,
                    })
                }
            }
        };
        plan.classes.insert(key(&file.module, &class.qualname), p);
    }
    plan
}

/// The callee is project code or a builtin known not to keep or change what it gets.
fn proven_callee(project: &Project, callee: Option<&str>) -> bool {
    callee.is_some_and(|d| {
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

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

/// Every attribute an instance of `id` may hold or set through a property.
fn known_attrs<'p>(
    id: usize,
    ancestors: &[Vec<usize>],
    instance_attrs: &dyn Fn(usize) -> Vec<String>,
    props_in_mro: &dyn Fn(usize) -> HashSet<&'p str>,
) -> HashSet<String> {
    let mut known: HashSet<String> = std::iter::once(id)
        .chain(ancestors[id].iter().copied())
        .flat_map(instance_attrs)
        .collect();
    known.extend(props_in_mro(id).into_iter().map(str::to_string));
    known
}

/// Every class reachable from `id` through `edges`, without `id`.
fn walk(id: usize, edges: &[Vec<usize>]) -> Vec<usize> {
    let mut seen = vec![false; edges.len()];
    let mut out = Vec::new();
    let mut stack = edges[id].clone();
    while let Some(x) = stack.pop() {
        if x == id || seen[x] {
            continue;
        }
        seen[x] = true;
        out.push(x);
        stack.extend(edges[x].iter().copied());
    }
    out.sort_unstable();
    out
}

/// The class that fixes the instance layout of `id` (CPython's "solid base"): the
/// nearest class with non-empty slots of its own. Unslotted classes add only a dict,
/// which does not change it.
fn solid(
    id: usize,
    state: &[State],
    own_slots: &[Vec<String>],
    bases: &[Vec<usize>],
    external: &[Vec<Ref>],
    depth: usize,
) -> Solid {
    if depth > bases.len() {
        // A cycle through wrongly resolved names: assume the worst.
        return Solid::External;
    }
    let slotted = matches!(state[id], State::Candidate | State::Existing(_));
    if slotted && !own_slots[id].is_empty() {
        return Solid::Project(id);
    }
    if let Some(&b) = bases[id].first() {
        return solid(b, state, own_slots, bases, external, depth + 1);
    }
    if external[id].iter().any(|e| external_base(e).is_some()) {
        Solid::External
    } else {
        Solid::Object
    }
}

fn compatible(a: Solid, b: Solid, ancestors: &[Vec<usize>]) -> bool {
    match (a, b) {
        (Solid::Object, _) | (_, Solid::Object) => true,
        (Solid::External, Solid::External) => true,
        (Solid::Project(x), Solid::Project(y)) => {
            x == y || ancestors[x].contains(&y) || ancestors[y].contains(&x)
        }
        _ => false,
    }
}
