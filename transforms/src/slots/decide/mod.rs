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
//!    to the classes its type allows ([`Resolver`], refined once: an attribute written
//!    outside a class's methods hides what the class stores only when the coarse
//!    resolver says the write may reach the class, see [`Resolver::refined`]).
//! 4. [`Decider::own_verdict`]: each class on its own, in small checks, to a
//!    [`State`](verdicts::State).
//! 5. [`Decider::needs_dict`] and [`Decider::settle`]: what classes need of their
//!    bases, to a fixpoint with the slot layouts.
//! 6. [`Decider::plans`]: the plan per class, for the classes of files the transform
//!    may rewrite (a file read only for the index still counts in stages 1 to 5).

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::PythonVersion;

use super::index::FileSummary;
use super::verdict::{Reason, Unproven};

mod evidence;
mod hierarchy;
mod project;
mod resolver;
mod verdicts;

use evidence::Evidence;
use hierarchy::Hierarchy;
use project::Project;
use resolver::Resolver;
use verdicts::Decider;

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
    /// The attributes an instance holds in its dict without the rewrite: its own new
    /// slots and those of the bases rewritten with it, not those already in a base's
    /// `__slots__` (what the saving figure counts).
    pub from_dict: usize,
    /// `__weakref__` is among `slots` (or `weakref_slot=True` for a dataclass).
    pub weakref: bool,
    /// A dataclass: the fix adds `slots=True` to the decorator at this position in the
    /// decorator list, instead of a `__slots__` line.
    pub dataclass: Option<usize>,
    /// Why the rewrite is not proven; empty when it is safe.
    pub unproven: Vec<Unproven>,
    /// The file's target version, for the saving figure.
    pub target: PythonVersion,
    /// The project bases rewritten with it, as (module, qualname): its instances lose
    /// their dict only if every one of them takes slots too.
    pub needs: Vec<(String, String)>,
}

impl SlotPlan {
    /// [`Self::from_dict`] as the saving figures count it.
    pub fn dict_attributes(&self) -> u32 {
        u32::try_from(self.from_dict).unwrap_or(u32::MAX)
    }

    /// Traced bytes the rewrite saves per instance on `version`, and the version the
    /// figure was measured on ([`crate::figures::slots_per_instance`]).
    pub fn saving_on(&self, version: PythonVersion) -> (u32, &'static str) {
        crate::figures::slots_per_instance(version, self.dict_attributes(), self.weakref)
    }
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

/// Decides every class of the project.
pub fn decide(files: &[FileSummary]) -> ProjectPlan {
    let project = Project::new(files);
    let hierarchy = Hierarchy::new(&project);
    let resolver = Resolver::new(&project, &hierarchy).refined();
    let evidence = Evidence::collect(&project, &hierarchy, &resolver);
    let mut decider = Decider::new(&project, &hierarchy, &evidence);
    // Each class's own verdict reads no other's: on every core.
    decider.state = (0..project.len())
        .into_par_iter()
        .map(|id| decider.own_verdict(id))
        .collect();
    decider.needs_dict();
    decider.settle();
    decider.plans()
}

/// Adds `item` unless `list` holds it (a `Vec`, or a `ThinVec` kept per class).
fn push_unique<T: PartialEq>(list: &mut (impl AsRef<[T]> + Extend<T>), item: T) {
    if !list.as_ref().contains(&item) {
        list.extend([item]);
    }
}
