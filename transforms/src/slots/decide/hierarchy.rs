//! Stage 2: the class hierarchy (project bases, the bases outside, ancestors,
//! descendants), each kept as one list per class stored end to end.

use crate::slots::index::Ref;
use crate::slots::verdict::{Kind, Reason};

use super::project::{Project, Resolved};

/// Stage 2: the class hierarchy.
pub(super) struct Hierarchy<'a> {
    /// Project bases per class.
    pub(super) bases: Lists<usize>,
    /// Bases outside the project per class.
    pub(super) external: Lists<&'a Ref>,
    pub(super) ancestors: Lists<usize>,
    descendants: Lists<usize>,
}

impl<'a> Hierarchy<'a> {
    pub(super) fn new(project: &Project<'a>) -> Self {
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
    pub(super) fn with_descendants(&self, id: usize) -> Vec<usize> {
        let mut out = vec![id];
        out.extend(self.descendants[id].iter().copied());
        out
    }

    /// `id`, its bases and its subclasses: every class whose code may run on an
    /// instance of `id` or of a subclass.
    pub(super) fn family(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        self.with_ancestors(id)
            .chain(self.descendants[id].iter().copied())
    }

    /// `id` and its bases, nearest first as far as the walk allows.
    pub(super) fn with_ancestors(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(id).chain(self.ancestors[id].iter().copied())
    }

    /// Whether `id` names a base outside the project that counts (not `object`,
    /// `ABC` or `Generic`): its layout, attributes and `__call__` are not seen.
    pub(super) fn has_outside_base(&self, id: usize) -> bool {
        self.external[id].iter().any(|e| external_base(e).is_some())
    }
}

/// Why an external base (one outside the project) stops a class, or `None` when it is
/// known to be slot-free.
pub(super) fn external_base(r: &Ref) -> Option<Reason> {
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
pub(super) struct Lists<T> {
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
