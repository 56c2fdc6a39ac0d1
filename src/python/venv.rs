//! Finding the project's virtualenv and checking that its Python is the one pyslim is
//! linked against.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A virtualenv and the Python version it was made from.
#[derive(Debug, Clone)]
pub struct Venv {
    /// The venv folder (holds `pyvenv.cfg` and `bin/python`).
    pub path: PathBuf,
    /// `version` (or `version_info`) from `pyvenv.cfg`, e.g. `3.11.7`.
    pub version: String,
}

/// Finds the venv the way users expect: the explicit one (`--venv`, then `[verify] venv`),
/// then `VIRTUAL_ENV`, then `.venv` or `venv` in the project root.
pub fn find(explicit: Option<&Path>, root: &Path) -> Result<Venv> {
    if let Some(path) = explicit {
        let path = root.join(path);
        return read(&path);
    }
    if let Some(active) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        return read(Path::new(&active))
            .context("the active virtualenv (VIRTUAL_ENV) cannot be used");
    }
    for name in [".venv", "venv"] {
        let candidate = root.join(name);
        if candidate.join("pyvenv.cfg").is_file() {
            return read(&candidate);
        }
    }
    bail!(
        "no virtualenv found for {}: pass --venv PATH, set `[verify] venv`, activate one \
         (VIRTUAL_ENV), or create .venv in the project root",
        root.display()
    )
}

/// Reads a venv's `pyvenv.cfg`.
pub fn read(path: &Path) -> Result<Venv> {
    let cfg = path.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).with_context(|| {
        format!(
            "{} is not a virtualenv (cannot read {})",
            path.display(),
            cfg.display()
        )
    })?;
    if !path.join("bin").join("python").exists() {
        bail!("{}: no bin/python in this virtualenv", path.display());
    }
    let version = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| matches!(key.trim(), "version" | "version_info"))
        .map(|(_, value)| value.trim().to_string())
        .with_context(|| format!("{}: no `version` line", cfg.display()))?;
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(Venv { path, version })
}

/// Whether a `pyvenv.cfg` version names the same Python as the linked one. Newer venvs
/// write `version_info = 3.12.1.final.0`; only the first three parts are compared.
pub fn same_python(venv_version: &str, linked: &str) -> bool {
    let three = |v: &str| v.split('.').take(3).collect::<Vec<_>>().join(".");
    three(venv_version) == three(linked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_on_three_parts() {
        assert!(same_python("3.11.7", "3.11.7"));
        assert!(same_python("3.12.1.final.0", "3.12.1"));
        assert!(!same_python("3.11.2", "3.11.7"));
        assert!(!same_python("3.12.1", "3.11.7"));
    }
}
