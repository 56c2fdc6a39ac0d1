//! Every transform pyslim knows, in the order they are listed and run.

use crate::Transform;

/// All transforms. Add a new one here.
pub static TRANSFORMS: &[&dyn Transform] = &[
    &crate::generator::Generator,
    &crate::tuple::TupleTransform,
    &crate::deque::DequeTransform,
    &crate::array::ArrayTransform,
    &crate::slots::Slots,
];

/// Looks a transform up by name.
pub fn get(name: &str) -> Option<&'static dyn Transform> {
    TRANSFORMS.iter().copied().find(|t| t.name() == name)
}

/// Every transform name, for error messages and listings.
pub fn names() -> Vec<&'static str> {
    TRANSFORMS.iter().map(|t| t.name()).collect()
}
