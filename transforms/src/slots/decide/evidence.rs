//! Stage 3: what the facts of every file say about the classes (writes from outside,
//! weak references, dict use, escapes), and which callees are proven harmless.

use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;
use std::collections::BTreeMap;
use std::sync::Arc;
use thin_vec::ThinVec;

use crate::slots::index::{Fact, Receiver, is_harmless_library_call};
use crate::slots::verdict::{DictUse, FirstSite, Site, Unproven};

use super::hierarchy::Hierarchy;
use super::project::{Project, Resolved};
use super::push_unique;
use super::resolver::{RecvKind, Resolver};

/// The last file counted for the reason of [`Evidence::global_unproven`] at `at`.
struct LastFile {
    at: usize,
    file: usize,
}

/// Stage 3: what the facts of every file say about the classes.
pub(super) struct Evidence {
    /// Class-level names written after creation (`Cls.x = ...`).
    pub(super) late_class_names: Vec<ThinVec<String>>,
    /// Attributes written on instances from outside the class.
    pub(super) outside_writes: Vec<ThinVec<String>>,
    /// Attributes written on objects of unknown type, with the first write's site.
    pub(super) unknown_writes: BTreeMap<String, Site>,
    /// Attributes written on objects of unknown type that certainly have them, with
    /// the first write's site.
    pub(super) guarded_writes: BTreeMap<String, Site>,
    /// Classes whose instances are weakly referenced.
    pub(super) weak: HashSet<usize>,
    /// Something weakly referenced may be any instance.
    pub(super) global_weak: bool,
    /// Classes whose instances need their dict, and why.
    pub(super) needs_dict: Vec<(usize, DictUse)>,
    /// Classes on which `setattr(Cls, name, ...)` sets a computed name.
    pub(super) class_setattr: Vec<usize>,
    /// Classes whose namespace is read or listed (`vars(Cls)`, `dir(Cls)`).
    pub(super) namespace_read: Vec<usize>,
    /// Reasons every rewrite is unproven.
    pub(super) global_unproven: Vec<Unproven>,
    /// For each unknown use of [`Self::global_unproven`], the last file counted.
    unknown_files: Vec<LastFile>,
    /// Per class, the last file with a call pyslim cannot resolve that reaches it.
    unresolved_file: Vec<usize>,
    /// Reasons per class.
    pub(super) unproven: Vec<ThinVec<Unproven>>,
    /// Classes whose instances never leave the functions that make them: no object of
    /// unknown type is one of them ([`confined`]).
    pub(super) confined: Vec<bool>,
}

impl Evidence {
    pub(super) fn collect(project: &Project, hierarchy: &Hierarchy, resolver: &Resolver) -> Self {
        let n = project.len();
        let mut evidence = Evidence {
            late_class_names: vec![ThinVec::new(); n],
            outside_writes: vec![ThinVec::new(); n],
            unknown_writes: BTreeMap::new(),
            guarded_writes: BTreeMap::new(),
            weak: HashSet::default(),
            global_weak: false,
            needs_dict: Vec::new(),
            class_setattr: Vec::new(),
            namespace_read: Vec::new(),
            global_unproven: Vec::new(),
            unknown_files: Vec::new(),
            unresolved_file: vec![usize::MAX; n],
            unproven: vec![ThinVec::new(); n],
            confined: confined(project, resolver),
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
            for (i, (fact, kind)) in file.facts.iter().zip(kinds).enumerate() {
                let site = || Site {
                    path: file.path.clone(),
                    line: file.line_of(i),
                };
                evidence.fact(project, hierarchy, f, fact, kind, site);
            }
        }
        evidence
    }

    /// Records `fact`, found at `site`, whose receiver may be what `kind` says
    /// ([`resolve_fact`]).
    fn fact(
        &mut self,
        project: &Project,
        hierarchy: &Hierarchy,
        f: usize,
        fact: &Fact,
        kind: Option<RecvKind>,
        site: impl Fn() -> Site,
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
                self.guarded_writes
                    .entry(attr.to_string())
                    .or_insert_with(site);
            }
            (Fact::GuardedWrite(recv, attr) | Fact::AttrWrite(recv, attr), Some(kind)) => {
                self.attr_write(project, kind, recv, attr, site);
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
            (Fact::Namespace(recv), Some(RecvKind::ClassObject)) => {
                let classes = class_objects(project, hierarchy, f, recv);
                self.namespace_read.extend(classes);
            }
            (Fact::Members(recv), Some(RecvKind::ClassObject)) => {
                // `dir()` lists what the class inherits too.
                for id in class_objects(project, hierarchy, f, recv) {
                    self.namespace_read.extend(hierarchy.with_ancestors(id));
                }
            }
            (Fact::ClassProbe(recv, name), Some(RecvKind::ClassObject)) => {
                // The descriptor is the class's that sets the attribute, found along
                // the bases.
                for id in class_objects(project, hierarchy, f, recv) {
                    let owners = hierarchy
                        .with_ancestors(id)
                        .filter(|&a| project.class(a).attrs.iter().any(|x| x == name));
                    self.namespace_read.extend(owners);
                }
            }
            // Only a class object's namespace changes.
            (Fact::Namespace(_) | Fact::Members(_) | Fact::ClassProbe(..), Some(_)) => {}
            (Fact::SlotsLookup(_), Some(kind)) => {
                self.dict_use(f, kind, DictUse::SlotsLookup, || {
                    Unproven::UnknownSlotsLookup(Arc::new(FirstSite::at(site())))
                });
            }
            (Fact::DictAccess(_), Some(kind)) => {
                self.dict_use(f, kind, DictUse::Dict, || {
                    Unproven::UnknownDict(Arc::new(FirstSite::at(site())))
                });
            }
            (Fact::DynamicSetattr(recv), Some(RecvKind::ClassObject)) => {
                let classes = class_objects(project, hierarchy, f, recv);
                self.class_setattr.extend(classes);
            }
            (Fact::DynamicSetattr(_), Some(kind)) => {
                self.dict_use(f, kind, DictUse::ComputedSetattr, || {
                    Unproven::UnknownSetattr(Arc::new(FirstSite::at(site())))
                });
            }
            (Fact::ClassAssign(_), Some(kind)) => {
                self.dict_use(f, kind, DictUse::ClassAssign, || {
                    Unproven::UnknownClassAssign(Arc::new(FirstSite::at(site())))
                });
            }
            (Fact::Escape(_, Some(callee)), Some(kind)) => {
                let name = callee.rsplit('.').next().unwrap_or(callee);
                self.escape(kind, hierarchy, Unproven::EscapesTo(name.to_string()));
            }
            (Fact::Escape(_, None) | Fact::CalledEscape(..), Some(kind)) => {
                self.unresolved_escape(kind, hierarchy, f, site);
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

    /// `attr` is written on `recv` at `site`, which may be what `kind` says.
    fn attr_write(
        &mut self,
        project: &Project,
        kind: RecvKind,
        recv: &Receiver,
        attr: &str,
        site: impl Fn() -> Site,
    ) {
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
                self.unknown_writes
                    .entry(attr.to_string())
                    .or_insert_with(site);
            }
        }
    }

    /// What `kind` may be is passed to code that is not proven harmless.
    fn escape(&mut self, kind: RecvKind, hierarchy: &Hierarchy, reason: Unproven) {
        for id in reached(kind, hierarchy) {
            push_unique(&mut self.unproven[id], reason.clone());
        }
    }

    /// What `kind` may be is passed, in file `f`, to a call pyslim cannot resolve: each
    /// class reached gets one reason, naming the first such call found for it and
    /// counting the other files with one.
    fn unresolved_escape(
        &mut self,
        kind: RecvKind,
        hierarchy: &Hierarchy,
        f: usize,
        site: impl Fn() -> Site,
    ) {
        // One site for every class this call reaches (copied only when a count of
        // one of them changes).
        let mut first: Option<Arc<FirstSite>> = None;
        for id in reached(kind, hierarchy) {
            let seen = self.unproven[id].iter_mut().find_map(|r| match r {
                Unproven::EscapesUnresolved(call) => Some(call),
                _ => None,
            });
            match seen {
                Some(call) => count_file(call, &mut self.unresolved_file[id], f),
                None => {
                    let call = first.get_or_insert_with(|| Arc::new(FirstSite::at(site())));
                    self.unproven[id].push(Unproven::EscapesUnresolved(call.clone()));
                    self.unresolved_file[id] = f;
                }
            }
        }
    }

    /// Outside code, in file `f`, needs the dict of what `kind` may be; when that is
    /// unknown, every rewrite is unproven by `unknown` (only the first use of each kind
    /// is named; the files with others are counted, see [`FirstSite`]).
    fn dict_use(&mut self, f: usize, kind: RecvKind, why: DictUse, unknown: impl Fn() -> Unproven) {
        match kind {
            RecvKind::Exact(id) | RecvKind::SelfOf(id) => self.needs_dict.push((id, why)),
            RecvKind::Classes(ids) => self.needs_dict.extend(ids.into_iter().map(|id| (id, why))),
            RecvKind::ClassObject | RecvKind::NotOurs => {}
            RecvKind::Unknown => {
                let unknown = unknown();
                let kind = std::mem::discriminant(&unknown);
                match self
                    .global_unproven
                    .iter()
                    .position(|u| std::mem::discriminant(u) == kind)
                {
                    Some(at) => {
                        if let Some(last) = self.unknown_files.iter_mut().find(|l| l.at == at)
                            && let Some(first) = self.global_unproven[at].first_site_mut()
                        {
                            count_file(first, &mut last.file, f);
                        }
                    }
                    None => {
                        self.unknown_files.push(LastFile {
                            at: self.global_unproven.len(),
                            file: f,
                        });
                        self.global_unproven.push(unknown);
                    }
                }
            }
        }
    }
}

/// Per class, whether its instances never leave the functions of its module that make
/// them: its file says so ([`ClassSummary::confined`](crate::slots::index::ClassSummary),
/// which also rules out bases and class keywords), it has no decorator but `dataclass`
/// (which the summary keeps apart from the others), no other file may reach it by
/// name, and no file reaches objects through frames or the garbage collector.
fn confined(project: &Project, resolver: &Resolver) -> Vec<bool> {
    let reflects = project.files.iter().any(|file| file.reflects);
    (0..project.len())
        .map(|id| {
            let class = project.class(id);
            !reflects
                && class.confined
                && class.decorators.is_empty()
                && !resolver.private_reached(&project.dotted(id))
        })
        .collect()
}

/// The classes an escape of what `kind` may be reaches (`self` of a class: it and its
/// subclasses); none for what is no project instance.
fn reached(kind: RecvKind, hierarchy: &Hierarchy) -> Vec<usize> {
    match kind {
        RecvKind::SelfOf(id) => hierarchy.with_descendants(id),
        RecvKind::Exact(id) => vec![id],
        RecvKind::Classes(ids) => ids,
        _ => Vec::new(),
    }
}

/// Counts file `f` against a reason's first site unless it is the file counted last
/// (`last`): facts come file by file, so a file not seen last is a new one.
fn count_file(first: &mut Arc<FirstSite>, last: &mut usize, f: usize) {
    if *last != f {
        *last = f;
        Arc::make_mut(first).other_files += 1;
    }
}

/// The project classes a class object `recv` (in file `f`) may be: the class a name
/// resolves to, or the class whose `cls`/`type(self)` it is and its subclasses.
fn class_objects(
    project: &Project,
    hierarchy: &Hierarchy,
    f: usize,
    recv: &Receiver,
) -> Vec<usize> {
    match recv {
        Receiver::Global(d) => match project.resolve(d, 0) {
            Resolved::Class(id) => vec![id],
            _ => Vec::new(),
        },
        Receiver::ClassOf(c) => project
            .id_of(f, *c)
            .map_or_else(Vec::new, |id| hierarchy.with_descendants(id)),
        _ => Vec::new(),
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
    let recv = fact.receiver()?;
    let harmless = match fact {
        Fact::Escape(_, callee) => proven_callee(project, hierarchy, callee.as_deref()),
        Fact::CalledEscape(_, called) => {
            calls_project_code(hierarchy, resolver.called_classes(f, called))
        }
        _ => false,
    };
    (!harmless).then(|| resolver.receiver(f, recv))
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
            return crate::syntax::is_dunder(name)
                || hierarchy
                    .with_ancestors(id)
                    .any(|a| project.class(a).methods.iter().any(|m| m == name));
        }
        is_harmless_library_call(d)
            || matches!(
                project.resolve(d, 0),
                Resolved::Class(_) | Resolved::Other | Resolved::Instance(_) | Resolved::Function
            )
    })
}
