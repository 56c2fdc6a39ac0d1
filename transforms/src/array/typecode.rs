//! The `array` type code for a list's proven contents, and the saving the message
//! states for it.
//!
//! The per-element figures are tracemalloc measurements of 1M elements
//! ([`crate::figures`], `docs/memory-figures.md`). A list pays an 8 B pointer per
//! element (8.4 B traced with spare capacity) plus, for every element that is not a
//! shared object, the object itself: 24 B per float (32.4 B per element in all), an
//! int of its own (36.4 B in all up to 3.10, 40.4 B from 3.11). Ints in -5..256 are
//! cached and shared, so for them the list pays the pointer only.

use ruff_python_ast::PythonVersion;

use super::types::Span;
use crate::figures::{
    CACHED_INTS, LIST_OF_FLOATS as LIST_FLOAT_TRACED, LIST_POINTER as LIST_POINTER_TRACED,
    list_of_ints,
};

/// An `array` type code pyslim writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeCode {
    /// `'d'`: C double.
    Double,
    /// `'b'`: signed char.
    Byte,
    /// `'h'`: signed short.
    Short,
    /// `'i'`: signed int (4 B on every platform CPython supports).
    Int,
    /// `'q'`: signed long long.
    LongLong,
}

impl TypeCode {
    /// The smallest signed int code that holds every value of `span`.
    pub(super) fn for_ints(span: Span) -> Option<TypeCode> {
        [
            (TypeCode::Byte, 8),
            (TypeCode::Short, 16),
            (TypeCode::Int, 32),
            (TypeCode::LongLong, 64),
        ]
        .into_iter()
        .find(|(_, bits)| span.within(-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1))
        .map(|(code, _)| code)
    }

    /// The code's letter.
    pub(super) fn letter(self) -> char {
        match self {
            TypeCode::Double => 'd',
            TypeCode::Byte => 'b',
            TypeCode::Short => 'h',
            TypeCode::Int => 'i',
            TypeCode::LongLong => 'q',
        }
    }

    /// Bytes per element.
    fn size(self) -> u32 {
        match self {
            TypeCode::Byte => 1,
            TypeCode::Short => 2,
            TypeCode::Int => 4,
            TypeCode::Double | TypeCode::LongLong => 8,
        }
    }

    /// Traced bytes per element of the array (measured, 1M elements).
    fn traced(self) -> f64 {
        crate::figures::array_per_element(self.letter()).unwrap_or(8.2)
    }
}

fn saving(before: f64, after: f64) -> String {
    format!(
        "about {before:.1} -> {after:.1} B per element traced, -{:.0}%",
        (1.0 - after / before) * 100.0
    )
}

/// The message of a finding for `name` holding values of `code`; `span` is the
/// proven range of an int list; `target` picks the int figures, which differ by version.
pub(super) fn message(
    name: &str,
    code: TypeCode,
    span: Option<Span>,
    target: PythonVersion,
) -> String {
    let letter = code.letter();
    let size = code.size();
    let after = code.traced();
    match span {
        None => format!(
            "`{name}` holds only floats: `array('{letter}')` stores {size} B per element instead of a pointer plus a 24 B float object ({}); unsafe: each read creates a new float object and the list type changes",
            saving(LIST_FLOAT_TRACED, after)
        ),
        Some(span) if span.within(CACHED_INTS.0, CACHED_INTS.1) => format!(
            "`{name}` holds only ints in {}..{}, which CPython caches: the list pays an 8 B pointer per element, `array('{letter}')` {size} B ({}); unsafe: the list type changes",
            span.lo,
            span.hi,
            saving(LIST_POINTER_TRACED, after)
        ),
        Some(_) => {
            let small = if code == TypeCode::LongLong {
                "nothing for ints in -5..256, which CPython caches".to_string()
            } else {
                format!(
                    "{after:.1} B instead of the {LIST_POINTER_TRACED} B pointer for ints in -5..256, which CPython caches"
                )
            };
            let (before, on) = list_of_ints(target);
            format!(
                "`{name}` holds only ints that fit `array('{letter}')`: it stores {size} B per element instead of a pointer plus an int object of its own ({} on {on}); {small}; unsafe: the list type changes",
                saving(before, after)
            )
        }
    }
}

/// The message of a finding made from a profile's observation (`count` elements seen
/// near the peak): a run shows what happened, not what must, so it stays unsafe.
pub(super) fn observed_message(name: &str, code: TypeCode, count: u64) -> String {
    let letter = code.letter();
    let size = code.size();
    let what = if code == TypeCode::Double {
        "floats"
    } else {
        "ints in its range"
    };
    format!(
        "`{name}` was observed at run time holding only {what} ({count} elements near the peak): `array('{letter}')` stores {size} B per element; unsafe: not proven statically, so the tests decide"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_code_that_holds_the_span() {
        let code = |lo, hi| TypeCode::for_ints(Span::new(lo, hi));
        assert_eq!(code(-128, 127), Some(TypeCode::Byte));
        assert_eq!(code(0, 128), Some(TypeCode::Short));
        assert_eq!(code(-32769, 0), Some(TypeCode::Int));
        assert_eq!(code(0, 1 << 31), Some(TypeCode::LongLong));
        assert_eq!(code(0, i64::MAX.into()), Some(TypeCode::LongLong));
        assert_eq!(code(0, i128::from(i64::MAX) + 1), None);
        assert_eq!(code(i64::MIN.into(), 0), Some(TypeCode::LongLong));
    }

    #[test]
    fn cached_ints_save_only_the_pointer() {
        let text = message(
            "xs",
            TypeCode::Short,
            Some(Span::new(0, 255)),
            PythonVersion::PY311,
        );
        assert!(
            text.contains("about 8.4 -> 2.0 B per element traced, -76%"),
            "{text}"
        );
        let text = message(
            "xs",
            TypeCode::LongLong,
            Some(Span::new(0, 1 << 40)),
            PythonVersion::PY311,
        );
        assert!(
            text.contains("about 40.4 -> 8.2 B per element traced, -80% on 3.11-3.13"),
            "{text}"
        );
        let text = message(
            "xs",
            TypeCode::LongLong,
            Some(Span::new(0, 1 << 40)),
            PythonVersion::PY310,
        );
        assert!(
            text.contains("about 36.4 -> 8.2 B per element traced, -77% on 3.9-3.10"),
            "{text}"
        );
        assert!(text.contains("nothing for ints in -5..256"), "{text}");
    }
}
