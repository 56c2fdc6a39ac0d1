//! Settings the transforms read: the target Python version and per-transform options.
//! The CLI fills these from the user's TOML; the types live here so the transforms stay
//! free of I/O.

use ruff_python_ast::PythonVersion;
use serde::Deserialize;

/// Options under `[transforms.<name>]`, one table per transform. Unknown keys are errors.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TransformOptions {
    /// `[transforms.generator]`.
    pub generator: crate::generator::Options,
}

/// Everything a transform may consult besides the code.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The oldest Python the project supports; rewrites must work on it.
    pub target_version: PythonVersion,
    /// Per-transform options.
    pub options: TransformOptions,
    /// What a profile of the workload observed (`--profile`); `None` without one.
    pub observed: Option<std::sync::Arc<crate::observed::Observed>>,
    /// The Python whose measured figures messages quote: the one the tests or the
    /// workload run on (`--verify`, `profile`); `None`: `target_version`.
    pub figures_version: Option<PythonVersion>,
}

impl Settings {
    /// The version the figures in messages are for.
    pub fn figures(&self) -> PythonVersion {
        self.figures_version.unwrap_or(self.target_version)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            target_version: PythonVersion::PY310,
            options: TransformOptions::default(),
            observed: None,
            figures_version: None,
        }
    }
}
