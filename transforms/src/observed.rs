//! What a profile of the user's workload observed, for the transforms that can use
//! run-time evidence: lists seen holding only floats, or only ints in a known range, at
//! the lines that allocated them. The engine hands these in through [`crate::Settings`];
//! a rewrite made from them is never safe (a run shows what happened, not what must).

use std::collections::HashMap;

/// What the elements of the lists seen at one line were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObservedElements {
    /// Only floats.
    Floats,
    /// Only ints, within these bounds.
    Ints {
        /// The smallest seen.
        min: i64,
        /// The largest seen.
        max: i64,
    },
}

/// Lists seen live near the peak, made or grown at one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservedList {
    /// 1-based line.
    pub line: usize,
    /// Their elements.
    pub elements: ObservedElements,
    /// How many elements they held.
    pub count: u64,
}

/// Observations per file, keyed by the file's path as [`crate::ModuleInfo::path`]
/// names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Lists by file.
    pub lists: HashMap<String, Vec<ObservedList>>,
}

impl Observed {
    /// The observations at any of `lines` of `path`, when they agree on one kind of
    /// element (floats, or ints, whose bounds are merged); `None` when there are none
    /// or they disagree.
    pub fn lists_at(&self, path: &str, lines: &[usize]) -> Option<ObservedList> {
        let seen: Vec<&ObservedList> = self
            .lists
            .get(path)?
            .iter()
            .filter(|l| lines.contains(&l.line))
            .collect();
        let first = **seen.first()?;
        seen.iter().skip(1).try_fold(first, |acc, l| {
            let elements = match (acc.elements, l.elements) {
                (ObservedElements::Floats, ObservedElements::Floats) => ObservedElements::Floats,
                (
                    ObservedElements::Ints { min: a, max: b },
                    ObservedElements::Ints { min: c, max: d },
                ) => ObservedElements::Ints {
                    min: a.min(c),
                    max: b.max(d),
                },
                _ => return None,
            };
            Some(ObservedList {
                line: acc.line,
                elements,
                count: acc.count + l.count,
            })
        })
    }
}
