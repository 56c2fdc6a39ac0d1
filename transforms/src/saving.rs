//! What a rewrite saves, as data: the thing it acts on ([`Subject`]: a class's
//! instances, the lists made at one place, the list a comprehension builds, a queue's
//! front operations) and what it saves per unit of that thing ([`PerUnit`]).
//!
//! A profile of the user's workload measures the units (live instances at the peak,
//! elements of the lists made there, the largest list a comprehension built); the
//! figures in [`crate::figures`] turn them into bytes for the Python version that ran
//! the workload. Nothing here parses a message: ranking reads these values.

use ruff_text_size::TextRange;

use crate::fix::Impact;

/// What a rewrite acts on, in the terms a profile can measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The instances of one class of this module, by qualified name as Python spells
    /// `__qualname__` (`Outer.Inner`, `make.<locals>.Point`).
    Class {
        /// The class's `__qualname__`.
        qualname: String,
        /// The attributes its own slots will hold (without `__weakref__`): an instance
        /// seen with another attribute (not slotted by a base) would break.
        slots: Vec<String>,
        /// The project bases (`module.Qualname`) rewritten with it: without any one of
        /// them its instances keep a dict, and it saves nothing.
        needs: Vec<String>,
    },
    /// The lists made at `created` (a display, a comprehension, `[x] * n`, an empty
    /// list) and grown at `filled` (`append`, `extend`, `insert`, index stores).
    Lists {
        /// The expression that makes the list.
        created: TextRange,
        /// The calls and statements that add elements.
        filled: Vec<TextRange>,
    },
    /// The list one expression builds each time it runs, consumed once (a comprehension
    /// passed to `sum()`, `f.readlines()` in a `for` loop).
    Transient {
        /// The expression that builds the list.
        range: TextRange,
    },
    /// A list used as a queue: made at `created`, its front worked at `calls`
    /// (`pop(0)`, `insert(0, x)`, `del q[0]`).
    Queue {
        /// The expression that makes the list.
        created: TextRange,
        /// The front operations.
        calls: Vec<TextRange>,
    },
}

/// The element kind of a list an `array` rewrite replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Element {
    /// Floats: each element is its own 24 B object.
    Float,
    /// Ints: their own 28 B objects, or shared cached ones when every value is in
    /// -5..256 (then the list pays only its pointers).
    Int {
        /// Every value is proven to lie in CPython's small-int cache (-5..256).
        cached: bool,
    },
}

/// What a generator rewrite avoids building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Avoided {
    /// The list and the items only it holds (`sum`, `min`, `any`, a `for` loop): the
    /// items are made and dropped one at a time instead.
    ListAndItems,
    /// Only the list's storage: the items live on in the consumer's result (`sorted`,
    /// `set`, `dict`).
    ListOnly,
}

/// What a rewrite saves per unit of its [`Subject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PerUnit {
    /// `__slots__` or `slots=True`: bytes per instance of a class whose instances
    /// held `attributes` attributes in their dict (one more pointer when it keeps
    /// `__weakref__`).
    Slots {
        /// Attributes the rewrite moves from the dict into slots (without
        /// `__weakref__`).
        attributes: u32,
        /// Whether `__weakref__` is kept.
        weakref: bool,
    },
    /// list → `array.array(code)`: per element.
    Array {
        /// The type code written (`'d'`, `'b'`, `'h'`, `'i'`, `'q'`).
        code: char,
        /// What the list held.
        element: Element,
    },
    /// list → tuple: the list's header and spare capacity, per list.
    Tuple,
    /// list comprehension → generator: the list never built.
    Generator {
        /// What is not built.
        avoided: Avoided,
    },
    /// No memory: a time rewrite (`deque`).
    Time,
}

/// A finding's saving: what it acts on and what it saves per unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saving {
    /// The measured thing.
    pub subject: Subject,
    /// The saving per unit of it.
    pub per_unit: PerUnit,
}

impl Saving {
    /// Memory or time.
    pub fn impact(&self) -> Impact {
        match self.per_unit {
            PerUnit::Time => Impact::Time,
            _ => Impact::Memory,
        }
    }
}
