//! The measured per-unit figures pyslim quotes in messages and multiplies by a
//! profile's counts: bytes per instance saved by `__slots__` per CPython version, and
//! bytes per element of a list and of an `array.array`.
//!
//! Every figure is a tracemalloc measurement ("traced": bytes requested from Python's
//! allocators) on 64-bit Linux; `docs/memory-figures.md` says how each was measured and
//! `tests/bench/` holds the scripts that measure them again. An estimate built from
//! these figures never claims more than they allow.

use ruff_python_ast::PythonVersion;

use crate::saving::{Avoided, Element, PerUnit};

/// Traced bytes `__slots__` saves per instance of a class whose instances hold
/// `attributes` slots, on `version`, and the version the figure was measured on.
///
/// Measured at 2 and 6 attributes (plain class → slots: 3.10 152 → 48 and 192 → 80 B,
/// 3.11 88 → 48 and 128 → 80, 3.12 80 → 48 and 120 → 80, 3.13 88 → 48 and 120 → 80);
/// between the two the smaller saving is used, so the estimate never exceeds the
/// measurements. A `__weakref__` slot costs one pointer per instance.
pub fn slots_per_instance(
    version: PythonVersion,
    attributes: u32,
    weakref: bool,
) -> (u32, &'static str) {
    let (two, six, on) = match (version.major, version.minor) {
        (3, ..=10) => (152 - 48, 192 - 80, "3.10"),
        (3, 11) => (88 - 48, 128 - 80, "3.11"),
        (3, 12) => (80 - 48, 120 - 80, "3.12"),
        _ => (88 - 48, 120 - 80, "3.13"),
    };
    let figure = if attributes >= 6 { six } else { two.min(six) };
    let figure = if weakref { figure - 8 } else { figure };
    (figure, on)
}

/// Traced bytes per element of a list: its 8 B pointer with the spare capacity of a
/// list grown by `append` (1M elements, 3.11; the object layouts are the same on
/// 3.9-3.13).
pub const LIST_POINTER: f64 = 8.4;

/// Traced bytes per element of a list of floats made by arithmetic (pointer plus a
/// 24 B float object each).
pub const LIST_OF_FLOATS: f64 = 32.5;

/// Traced bytes per element of a list of ints outside the small-int cache (pointer
/// plus a 28 B int object each).
pub const LIST_OF_INTS: f64 = 40.4;

/// The smallest and largest int CPython caches (every `5` is the same object).
pub const CACHED_INTS: (i128, i128) = (-5, 256);

/// Traced bytes per element of a list holding `element`.
pub fn list_per_element(element: Element) -> f64 {
    match element {
        Element::Float => LIST_OF_FLOATS,
        Element::Int { cached: false } => LIST_OF_INTS,
        Element::Int { cached: true } => LIST_POINTER,
    }
}

/// Traced bytes per element of an `array.array` of type `code` grown by `append` (1M
/// elements); `None` for a code pyslim never writes.
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
/// list for generators (as if its items were distinct 28 B ints when they are
/// dropped with it). `None` for tuples (the saving is per list and depends on its
/// spare capacity, which a profile measures) and time rewrites.
pub fn per_unit(per_unit: PerUnit, version: PythonVersion) -> Option<f64> {
    match per_unit {
        PerUnit::Slots {
            attributes,
            weakref,
        } => Some(f64::from(
            slots_per_instance(version, attributes, weakref).0,
        )),
        PerUnit::Array { code, element } => {
            array_per_element(code).map(|after| (list_per_element(element) - after).max(0.0))
        }
        PerUnit::Generator {
            avoided: Avoided::ListOnly,
        } => Some(LIST_POINTER),
        PerUnit::Generator {
            avoided: Avoided::ListAndItems,
        } => Some(LIST_OF_INTS),
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
    }

    #[test]
    fn array_saving_is_list_minus_array() {
        let floats = PerUnit::Array {
            code: 'd',
            element: Element::Float,
        };
        let saving = per_unit(floats, PythonVersion::PY311).unwrap();
        assert!((saving - 24.3).abs() < 1e-9, "{saving}");
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
