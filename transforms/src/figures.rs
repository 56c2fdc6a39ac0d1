//! The measured per-unit figures pyslim quotes in messages and multiplies by a
//! profile's counts: bytes per instance saved by `__slots__` per CPython version, and
//! bytes per element of a list and of an `array.array`.
//!
//! Every figure is a tracemalloc measurement ("traced": bytes requested from Python's
//! allocators) on 64-bit Linux, rounded to the nearest 0.1 B; `docs/memory-figures.md`
//! gives each per CPython 3.9-3.13 and says how it was measured, and
//! `python3 tests/bench/memory_figures.py` measures them all again. An estimate built
//! from these figures never claims more than they allow.

use ruff_python_ast::PythonVersion;

use crate::saving::{Avoided, Element, PerUnit};

/// Traced bytes `__slots__` saves per instance of a class whose instances, without
/// it, hold `attributes` attributes in their dict (the others already live in a base's
/// slots), on `version`, and the version the figure was measured on.
///
/// Measured at 2 and 6 attributes (plain class → slots: 3.9 and 3.10 152 → 48 and
/// 192 → 80 B, 3.11 88 → 48 and 128 → 80, 3.12 80 → 48 and 120 → 80, 3.13 88 → 48
/// and 120 → 80); between the two the smaller saving is used, so the estimate never
/// exceeds the measurements. With no attribute in the dict (a subclass whose slotted
/// bases hold them all, or an empty class) only the room for the dict and weak
/// references goes: 16, 16, 40, 32 and 16 B on 3.9 to 3.13 (64 → 48 B on 3.10 for a
/// subclass of a base with 2 slots; an empty class saves as much or more). A
/// `__weakref__` slot costs 8 B per instance up to 3.11 and 16 B from 3.12 (56 and
/// 64 B for 2 attributes).
pub fn slots_per_instance(
    version: PythonVersion,
    attributes: u32,
    weakref: bool,
) -> (u32, &'static str) {
    let (none, two, six, weakref_slot, on) = match (version.major, version.minor) {
        (3, ..=9) => (64 - 48, 152 - 48, 192 - 80, 8, "3.9"),
        (3, 10) => (64 - 48, 152 - 48, 192 - 80, 8, "3.10"),
        (3, 11) => (88 - 48, 88 - 48, 128 - 80, 8, "3.11"),
        (3, 12) => (80 - 48, 80 - 48, 120 - 80, 16, "3.12"),
        _ => (64 - 48, 88 - 48, 120 - 80, 16, "3.13"),
    };
    let figure: u32 = match attributes {
        0 => none,
        1..=5 => two.min(six),
        _ => six,
    };
    let figure = if weakref {
        figure.saturating_sub(weakref_slot)
    } else {
        figure
    };
    (figure, on)
}

/// Traced bytes a plain instance gains when its `__dict__` is made (by `vars()`,
/// `obj.__dict__`, pickling, `copy`), which `__slots__` also saves. From 3.11 an
/// instance keeps its attributes inline until then; before, every instance has its
/// dict and the per-instance figure already counts it.
pub fn materialized_dict(version: PythonVersion) -> u32 {
    if (version.major, version.minor) >= (3, 11) {
        64
    } else {
        0
    }
}

/// Traced bytes per element of a list: its 8 B pointer with the spare capacity of a
/// list grown by `append` (1M elements; 8.449 B on every version 3.9-3.13).
pub const LIST_POINTER: f64 = 8.4;

/// Traced bytes per element of a list of floats made by arithmetic: the pointer plus
/// a 24 B float object each (32.449 B on every version 3.9-3.13).
pub const LIST_OF_FLOATS: f64 = 32.4;

/// Traced bytes per element of a list of ints outside the small-int cache on
/// `version`, and the versions the figure holds for: the pointer plus an int object of
/// its own, which tracemalloc sees as 28 B up to 3.10 and 32 B from 3.11 (36.449 and
/// 40.449 B per element).
pub fn list_of_ints(version: PythonVersion) -> (f64, &'static str) {
    if (version.major, version.minor) < (3, 11) {
        (36.4, "3.9-3.10")
    } else {
        (40.4, "3.11-3.13")
    }
}

/// The smallest and largest int CPython caches (every `5` is the same object).
pub const CACHED_INTS: (i128, i128) = (-5, 256);

/// Traced bytes per element of a list holding `element`, on `version`.
pub fn list_per_element(element: Element, version: PythonVersion) -> f64 {
    match element {
        Element::Float => LIST_OF_FLOATS,
        Element::Int { cached: false } => list_of_ints(version).0,
        Element::Int { cached: true } => LIST_POINTER,
    }
}

/// Traced bytes per element of an `array.array` of type code `code` grown by `append`
/// (1M elements; the same on every version 3.9-3.13); `None` for a code pyslim never
/// writes.
pub fn array_per_element(code: char) -> Option<f64> {
    Some(match code {
        'b' => 1.0,
        'h' => 2.0,
        'i' => 4.1,
        'd' | 'q' => 8.2,
        _ => return None,
    })
}

/// The traced bytes one unit of a rewrite's subject saves, on `version`, when the
/// figure does not depend on what the profile observed: per instance for slots, per
/// element for arrays (as the list was proven to hold), per element of the avoided
/// list for generators (as if its items were distinct ints when they are dropped
/// with it). `None` for tuples (the saving is per list and depends on its
/// spare capacity, which a profile measures) and time rewrites.
pub fn per_unit(per_unit: PerUnit, version: PythonVersion) -> Option<f64> {
    match per_unit {
        PerUnit::Slots {
            attributes,
            weakref,
        } => Some(f64::from(
            slots_per_instance(version, attributes, weakref).0,
        )),
        PerUnit::Array { code, element } => array_per_element(code)
            .map(|after| (list_per_element(element, version) - after).max(0.0)),
        PerUnit::Generator {
            avoided: Avoided::ListOnly,
        } => Some(LIST_POINTER),
        PerUnit::Generator {
            avoided: Avoided::ListAndItems,
        } => Some(list_of_ints(version).0),
        PerUnit::Tuple | PerUnit::Time => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_figures_follow_the_version() {
        assert_eq!(
            slots_per_instance(PythonVersion::PY310, 2, false),
            (104, "3.10")
        );
        assert_eq!(
            slots_per_instance(PythonVersion::PY311, 2, false),
            (40, "3.11")
        );
        assert_eq!(
            slots_per_instance(PythonVersion::PY311, 6, true),
            (40, "3.11")
        );
        assert_eq!(
            slots_per_instance(PythonVersion::PY312, 3, false),
            (32, "3.12")
        );
        assert_eq!(
            slots_per_instance(PythonVersion::PY313, 6, false),
            (40, "3.13")
        );
        assert_eq!(
            slots_per_instance(PythonVersion::PY39, 2, false),
            (104, "3.9")
        );
    }

    #[test]
    fn with_nothing_in_a_dict_only_its_room_goes() {
        // A subclass of a base with 2 slots, plain → `__slots__ = ()` (and
        // `('__weakref__',)`): 64 → 48 (56) B on 3.10, 88 → 48 (56) on 3.11, 80 → 48
        // (64) on 3.12, 64 → 48 (64) on 3.13.
        let figures: Vec<_> = [
            PythonVersion::PY39,
            PythonVersion::PY310,
            PythonVersion::PY311,
            PythonVersion::PY312,
            PythonVersion::PY313,
        ]
        .into_iter()
        .map(|v| {
            (
                slots_per_instance(v, 0, false).0,
                slots_per_instance(v, 0, true).0,
            )
        })
        .collect();
        assert_eq!(figures, [(16, 8), (16, 8), (40, 32), (32, 16), (16, 0)]);
    }

    #[test]
    fn a_weakref_slot_costs_more_from_3_12() {
        // 2 attributes: plain 80 B, slots 48 B, slots with `__weakref__` 64 B on 3.12.
        assert_eq!(
            slots_per_instance(PythonVersion::PY312, 2, true),
            (80 - 64, "3.12")
        );
        assert_eq!(
            slots_per_instance(PythonVersion::PY311, 2, true),
            (88 - 56, "3.11")
        );
    }

    #[test]
    fn int_lists_cost_more_from_3_11() {
        assert_eq!(list_of_ints(PythonVersion::PY310), (36.4, "3.9-3.10"));
        assert_eq!(list_of_ints(PythonVersion::PY311), (40.4, "3.11-3.13"));
        let ints = PerUnit::Generator {
            avoided: Avoided::ListAndItems,
        };
        assert_eq!(per_unit(ints, PythonVersion::PY39), Some(36.4));
        assert_eq!(per_unit(ints, PythonVersion::PY313), Some(40.4));
    }

    #[test]
    fn array_saving_is_list_minus_array() {
        let floats = PerUnit::Array {
            code: 'd',
            element: Element::Float,
        };
        let saving = per_unit(floats, PythonVersion::PY311).unwrap();
        assert!((saving - 24.2).abs() < 1e-9, "{saving}");
        // Cached ints: the pointer is all the list paid; a 'q' array pays about as much
        // and a 'b' one less, never a negative figure.
        let cached = |code| PerUnit::Array {
            code,
            element: Element::Int { cached: true },
        };
        let q = per_unit(cached('q'), PythonVersion::PY311).unwrap();
        assert!((0.0..0.25).contains(&q), "{q}");
        let b = per_unit(cached('b'), PythonVersion::PY311).unwrap();
        assert!((b - 7.4).abs() < 1e-9, "{b}");
        assert_eq!(per_unit(PerUnit::Time, PythonVersion::PY311), None);
    }
}
