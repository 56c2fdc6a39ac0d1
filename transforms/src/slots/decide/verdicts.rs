//! Stages 4 to 6, the verdicts: each class on its own, what classes need of their
//! bases to a fixpoint with the slot layouts, and the plan per class.

use rustc_hash::FxHashSet as HashSet;

use ruff_python_ast::PythonVersion;
use ruff_python_ast::name::Name;

use crate::slots::index::{ClassSummary, Ref};
use crate::slots::safety::Blocker;
use crate::slots::verdict::{Reason, Site, UnknownWrite, Unproven};

use super::evidence::Evidence;
use super::hierarchy::{Hierarchy, external_base};
use super::project::{Project, Resolved};
use super::{Plan, ProjectPlan, SlotPlan, key, push_unique};

/// Names every class body holds without writing them (`__doc__` is `None` without a
/// docstring): every instance can read them, so a write guarded by a read of one may
/// be on any instance, and a slotted instance refuses it ("attribute '__doc__' is
/// read-only"), as click's `cmd.__doc__ = f.__doc__` on a `Command` showed. Nor can
/// a class whose methods set one on `self` take a slot of it (stack_data's
/// `self.__doc__ = func.__doc__`: "'__doc__' in __slots__ conflicts with class
/// variable").
const IMPLICIT_CLASS_NAMES: &[&str] = &[
    "__doc__",
    "__module__",
    "__annotations__",
    "__firstlineno__",
    "__static_attributes__",
];

/// Where a class stands while the decision is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum State {
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

/// Stages 4 to 6: the verdicts.
pub(super) struct Decider<'p, 'a> {
    project: &'p Project<'a>,
    hierarchy: &'p Hierarchy<'a>,
    evidence: &'p Evidence,
    pub(super) state: Vec<State>,
    own_slots: Vec<Vec<String>>,
    has_weakref: Vec<bool>,
}

impl<'p, 'a> Decider<'p, 'a> {
    pub(super) fn new(
        project: &'p Project<'a>,
        hierarchy: &'p Hierarchy<'a>,
        evidence: &'p Evidence,
    ) -> Self {
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
        // Every class body holds these: a slot of the name is refused ("'__module__' in
        // __slots__ conflicts with class variable") or hides the class's own.
        IMPLICIT_CLASS_NAMES.contains(&name)
            || self.project.class(id).class_names.iter().any(|n| n == name)
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
    pub(super) fn own_verdict(&self, id: usize) -> State {
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
        if class.dataclass_slots_unknown {
            return Some(Reason::DataclassSlotsUnknown);
        }
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

    /// Attributes the class lacks written on objects of unknown type: one reason that
    /// names the first and counts the others ([`UnknownWrite`]).
    fn unknown_writes(&self, id: usize) -> Option<Unproven> {
        let known = self.known_attrs(id);
        let writes = &self.evidence.unknown_writes;
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
        let guarded: Vec<(&String, &Site)> = self
            .evidence
            .guarded_writes
            .iter()
            .filter(|(a, _)| {
                !known.contains(*a)
                    && (dynamic
                        || self
                            .hierarchy
                            .with_ancestors(id)
                            .any(|c| self.has_class_name(c, a)))
            })
            .collect();
        // Named: the first unguarded write of an attribute the class lacks (the first
        // by name), else the first such guarded one.
        let named = writes
            .iter()
            .find(|(a, _)| !known.contains(*a))
            .or_else(|| guarded.first().copied());
        let (attr, site) = named?;
        // Counted without a pass over every attribute written on unknown objects
        // (thousands in a large tree) for each class: those it lacks are all of them
        // but the few it has, and a guarded one counts unless also unguarded.
        let lacked = writes.len() - known.iter().filter(|a| writes.contains_key(*a)).count();
        let guarded_only = guarded
            .iter()
            .filter(|(a, _)| !writes.contains_key(*a))
            .count();
        Some(Unproven::UnknownWrite(Box::new(UnknownWrite {
            attr: attr.clone(),
            site: site.clone(),
            others: lacked + guarded_only - 1,
        })))
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
    pub(super) fn needs_dict(&mut self) {
        for &id in &self.evidence.class_setattr {
            self.skip_candidate(id, Reason::ComputedClassSetattr);
        }
        for &id in &self.evidence.namespace_read {
            self.skip_candidate(id, Reason::NamespaceRead);
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
        whole_dict.extend((0..self.project.len()).filter(|&id| self.outgrows_own_slots(id)));
        for id in whole_dict {
            let name = self.project.name(id).to_string();
            for &a in &self.hierarchy.ancestors[id] {
                self.skip_candidate(a, Reason::SubclassNeedsDict(name.clone()));
            }
        }
    }

    /// A class slotted in the source that sets attributes on `self` which neither its
    /// `__slots__` nor a base's (nor a property) hold: it keeps them in the dict an
    /// unslotted base gives it, which slotting every base would take away (textual's
    /// `Content(Visual)` declares 3 slots and sets 8 attributes). Unknown slot names
    /// (`__slots__ = NAMES`) count as not holding them; `__dict__` among them holds all.
    fn outgrows_own_slots(&self, id: usize) -> bool {
        let class = self.project.class(id);
        // Only project bases are slotted here.
        if class.slots.is_none() || class.attrs.is_empty() || self.hierarchy.bases[id].is_empty() {
            return false;
        }
        let mut held: HashSet<String> = HashSet::default();
        for a in self.hierarchy.with_ancestors(id) {
            let c = self.project.class(a);
            if let Some(Some(names)) = &c.slots {
                if names.iter().any(|n| n == "__dict__") {
                    return false;
                }
                held.extend(names.iter().map(|n| c.mangle(n)));
            }
        }
        let props = self.props_in_mro(id);
        class
            .attrs
            .iter()
            .any(|a| !held.contains(a.as_str()) && !props.contains(a.as_str()))
    }

    /// Stage 5b: hierarchies, to a fixpoint: bases first, then layouts.
    pub(super) fn settle(&mut self) {
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
    pub(super) fn plans(&self) -> ProjectPlan {
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
        // A rewrite that saves nothing on its target is no memory rewrite, unless a
        // subclass's saving needs it; dropping one may leave its bases unneeded in turn.
        loop {
            let needed: HashSet<String> = plan
                .classes
                .values()
                .filter_map(|p| match p {
                    Plan::Slots(s) => Some(s.needs.iter().map(|(m, q)| key(m, q))),
                    _ => None,
                })
                .flatten()
                .collect();
            let idle: Vec<(String, &'static str)> = plan
                .classes
                .iter()
                .filter(|(k, _)| !needed.contains(*k))
                .filter_map(|(k, p)| match p {
                    Plan::Slots(s) => {
                        let (saving, on) = s.saving_on(s.target);
                        (saving == 0).then(|| (k.clone(), on))
                    }
                    _ => None,
                })
                .collect();
            if idle.is_empty() {
                break;
            }
            for (k, on) in idle {
                plan.classes.insert(k, Plan::Skip(Reason::SavesNothing(on)));
            }
        }
        // A candidate base whose plan is no rewrite after all (a weakly referenced
        // dataclass below 3.11, a base in a file only indexed) keeps the dict its
        // subclasses would otherwise lose: they are left alone too, to a fixpoint.
        loop {
            let unmet = with_need(&plan, |base| !matches!(base, Some(Plan::Slots(_))));
            if unmet.is_empty() {
                break;
            }
            for (k, base) in unmet {
                plan.classes
                    .insert(k, Plan::Skip(Reason::BaseNotSlotted(base)));
            }
        }
        // A rewrite whose needed base is unsafe is unsafe too: applied alone (the safe
        // fixes only) it would save nothing.
        let unsafe_bases = with_need(
            &plan,
            |base| matches!(base, Some(Plan::Slots(b)) if !b.unproven.is_empty()),
        );
        for (k, base) in unsafe_bases {
            if let Some(Plan::Slots(s)) = plan.classes.get_mut(&k) {
                push_unique(&mut s.unproven, Unproven::UnsafeBase(base));
            }
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
        // No object of unknown type is an instance of a confined class.
        let confined = self.evidence.confined[id];
        let mut reasons: Vec<Unproven> = self
            .evidence
            .global_unproven
            .iter()
            .filter(|r| !(confined && r.is_unknown_object()))
            .cloned()
            .collect();
        for a in self.hierarchy.with_ancestors(id) {
            for r in &self.project.class(a).unproven {
                push_unique(&mut reasons, r.clone());
            }
        }
        for r in &self.evidence.unproven[id] {
            push_unique(&mut reasons, r.clone());
        }
        if !confined && let Some(writes) = self.unknown_writes(id) {
            reasons.push(writes);
        }
        // A base that already has `__slots__` keeps its attributes out of the dict.
        let from_dict: HashSet<&String> = self
            .hierarchy
            .with_ancestors(id)
            .filter(|&a| a == id || self.state[a] == State::Candidate)
            .flat_map(|a| self.own_slots[a].iter())
            .filter(|s| *s != "__weakref__")
            .collect();
        let needs = self.hierarchy.ancestors[id]
            .iter()
            .filter(|&&a| self.state[a] == State::Candidate)
            .map(|&a| {
                (
                    self.project.file_of(a).module.to_string(),
                    self.project.name(a).to_string(),
                )
            })
            .collect();
        Plan::Slots(SlotPlan {
            slots: self.own_slots[id].clone(),
            from_dict: from_dict.len(),
            weakref,
            dataclass: class.dataclass.map(|_| class.dataclass_decorator as usize),
            unproven: reasons,
            target,
            needs,
        })
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(crate::syntax::is_identifier_char)
}

/// Each rewrite of `plan` with a needed base whose plan `pred` holds for: the
/// rewrite's key and the first such base's name.
fn with_need(plan: &ProjectPlan, pred: impl Fn(Option<&Plan>) -> bool) -> Vec<(String, String)> {
    plan.classes
        .iter()
        .filter_map(|(k, p)| match p {
            Plan::Slots(s) => s
                .needs
                .iter()
                .find(|(m, q)| pred(plan.classes.get(&key(m, q))))
                .map(|(_, q)| (k.clone(), q.clone())),
            _ => None,
        })
        .collect()
}
