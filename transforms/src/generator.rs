//! Placeholder: being written.
use crate::{FileContext, Output, Transform};
use serde::Deserialize;

/// Options under `[transforms.generator]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    /// Also rewrite comprehensions consumed lazily (`for` loops, `enumerate`, `zip`, `map`, `filter`).
    pub lazy_consumers: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            lazy_consumers: true,
        }
    }
}

/// The `generator` transform.
pub struct Generator;

impl Transform for Generator {
    fn name(&self) -> &'static str {
        "generator"
    }
    fn summary(&self) -> &'static str {
        "list comprehensions consumed once become generator expressions"
    }
    fn applicability(&self) -> &'static str {
        "safe for pure elements; unsafe for any/all, calls and lazy consumers"
    }
    fn documentation(&self) -> &'static str {
        ""
    }
    fn run(&self, _ctx: &FileContext) -> Output {
        Output::default()
    }
}
