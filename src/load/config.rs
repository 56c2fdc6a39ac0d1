//! Configuration: `pyslim.toml`, `.pyslim.toml` or `[tool.pyslim]` in `pyproject.toml`.
//!
//! As in ruff, the configuration file closest to a Python file applies to it (or the one
//! named by `--config` applies to every file), paths and globs in it are relative to its
//! folder, and an unknown key or a bad value is an error naming the key and the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use pyslim_transforms::{PythonVersion, Settings, Transform, TransformOptions, registry};
use serde::Deserialize;

/// The file names searched for, in order of preference within one folder.
pub const CONFIG_FILES: [&str; 3] = ["pyslim.toml", ".pyslim.toml", "pyproject.toml"];

/// Folders never searched unless named on the command line (ruff's defaults, plus
/// virtualenvs under any name).
pub const DEFAULT_EXCLUDE: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
];

/// The keys a configuration file may hold, exactly as written in TOML.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    /// Transforms to run (default: all).
    pub select: Option<Vec<String>>,
    /// Transforms not to run.
    pub ignore: Vec<String>,
    /// Globs of paths never searched; replaces the default list.
    pub exclude: Option<Vec<String>>,
    /// Globs added to `exclude`.
    pub extend_exclude: Vec<String>,
    /// Glob → transforms not to run on matching files.
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    /// Oldest Python to support (`"3.11"` or `"py311"`).
    pub target_version: Option<String>,
    /// Whether `.gitignore` and similar files are respected.
    pub respect_gitignore: Option<bool>,
    /// Whether test files are rewritten too (default: only read for the analysis).
    pub rewrite_tests: Option<bool>,
    /// Per-transform options.
    pub transforms: TransformOptions,
    /// Verification settings.
    pub verify: VerifyConfig,
    /// Profile settings.
    pub profile: ProfileConfig,
}

/// `[profile]`: the workload `pyslim profile` and `rewrite --verify` measure, and how a
/// profile selects rewrites.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileConfig {
    /// The workload, as after `python` (`"bench.py --n 200000"`, `"-m app.bench"`);
    /// `None`: the test suite.
    pub workload: Option<String>,
    /// Rewrites whose estimated saving at the peak is smaller are not applied when a
    /// profile is in use (`"64KiB"`, `"2MB"`, `"0"` keeps everything).
    pub min_saving: String,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        Self {
            workload: None,
            min_saving: "64KiB".to_string(),
        }
    }
}

/// `[verify]`: how `pyslim rewrite --verify` runs the project's tests.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VerifyConfig {
    /// The project's virtualenv (relative to the config file).
    pub venv: Option<PathBuf>,
    /// Arguments passed to pytest (test paths, `-k`, `-m`, ...).
    pub args: Vec<String>,
    /// Runs before and after the rewrite, interleaved, for the memory figures.
    pub repeat: usize,
    /// Seconds one run may take before it is stopped and called inconclusive; `None`:
    /// 600 for the first runs, then derived from their measured time.
    pub timeout: Option<u64>,
    /// Refuse to fall back to the venv's own interpreter when its Python differs from
    /// the one pyslim embeds.
    pub embedded: bool,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            venv: None,
            args: Vec::new(),
            repeat: 3,
            timeout: None,
            embedded: false,
        }
    }
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
    project: Option<PyProjectProject>,
}

#[derive(Deserialize)]
struct PyProjectTool {
    pyslim: Option<toml::Value>,
}

#[derive(Deserialize)]
struct PyProjectProject {
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
}

/// A configuration resolved for use: globs compiled, transforms looked up.
pub struct Config {
    /// The file it came from (`None`: the defaults).
    pub path: Option<PathBuf>,
    /// The folder paths in it are relative to.
    pub root: PathBuf,
    /// Settings handed to the transforms.
    pub settings: Arc<Settings>,
    /// Enabled transforms, in registry order, before per-file ignores.
    pub transforms: Vec<&'static dyn Transform>,
    exclude: GlobSet,
    exclude_names: GlobSet,
    per_file_ignores: Vec<(GlobSet, GlobSet, Vec<&'static str>)>,
    /// Whether `.gitignore` files are respected.
    pub respect_gitignore: bool,
    /// Whether test files (see [`super::testfiles`]) may be rewritten; by default they
    /// are only read for the analysis.
    pub rewrite_tests: bool,
    /// Verification settings, with `venv` made absolute.
    pub verify: VerifyConfig,
    /// Profile settings.
    pub profile: ProfileConfig,
    /// `[profile] min-saving`, parsed.
    pub min_saving: u64,
}

/// What the command line adds on top of the files.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--select`.
    pub select: Option<Vec<String>>,
    /// `--ignore`.
    pub ignore: Vec<String>,
    /// `--target-version`.
    pub target_version: Option<String>,
}

impl Config {
    /// Loads the configuration in `path` (a `pyslim.toml`-style file or a `pyproject.toml`).
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration {}", path.display()))?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
        let (file, requires_python) = if is_pyproject {
            let doc: PyProject = toml::from_str(&text)
                .map_err(|e| anyhow!("{}: {}", path.display(), e.message()))?;
            let requires = doc.project.and_then(|p| p.requires_python);
            let table = doc.tool.and_then(|t| t.pyslim);
            let file = match table {
                Some(value) => FileConfig::deserialize(value)
                    .map_err(|e| anyhow!("{}: [tool.pyslim]: {}", path.display(), e.message()))?,
                None => FileConfig::default(),
            };
            (file, requires)
        } else {
            let file: FileConfig = toml::from_str(&text)
                .map_err(|e| anyhow!("{}: {}", path.display(), describe_toml_error(&e)))?;
            (file, requires_python_near(&root))
        };
        Self::build(
            file,
            Some(path.to_path_buf()),
            root,
            requires_python,
            overrides,
        )
        .with_context(|| format!("in {}", path.display()))
    }

    /// The defaults, for files with no configuration above them.
    pub fn defaults(root: &Path, overrides: &Overrides) -> Result<Self> {
        Self::build(
            FileConfig::default(),
            None,
            root.to_path_buf(),
            requires_python_near(root),
            overrides,
        )
    }

    fn build(
        file: FileConfig,
        path: Option<PathBuf>,
        root: PathBuf,
        requires_python: Option<String>,
        overrides: &Overrides,
    ) -> Result<Self> {
        let select = overrides.select.clone().or(file.select);
        let mut ignore = file.ignore;
        ignore.extend(overrides.ignore.iter().cloned());
        let transforms = select_transforms(select.as_deref(), &ignore)?;

        let target_version = match overrides
            .target_version
            .as_ref()
            .or(file.target_version.as_ref())
        {
            Some(v) => parse_version(v).with_context(|| "key `target-version`".to_string())?,
            None => requires_python
                .as_deref()
                .and_then(lower_bound)
                .unwrap_or(Settings::default().target_version),
        };

        let mut exclude: Vec<String> = match file.exclude {
            Some(list) => list,
            None => DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect(),
        };
        exclude.extend(file.extend_exclude);
        let (exclude_paths, exclude_names) = compile_excludes(&exclude).context("key `exclude`")?;

        let mut per_file_ignores = Vec::new();
        for (pattern, names) in file.per_file_ignores {
            let (paths, base) = compile_excludes(std::slice::from_ref(&pattern))
                .with_context(|| format!("key `per-file-ignores`, pattern {pattern:?}"))?;
            let names = names
                .iter()
                .map(|n| known_transform(n).map(|t| t.name()))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("key `per-file-ignores`, pattern {pattern:?}"))?;
            per_file_ignores.push((paths, base, names));
        }

        let mut verify = file.verify;
        if let Some(venv) = &verify.venv {
            verify.venv = Some(root.join(venv));
        }
        if verify.repeat == 0 {
            bail!("key `verify.repeat` must be at least 1");
        }
        let min_saving = crate::profile::size::parse(&file.profile.min_saving)
            .context("key `profile.min-saving`")?;
        Ok(Self {
            path,
            settings: Arc::new(Settings {
                target_version,
                options: file.transforms,
                observed: None,
                figures_version: None,
            }),
            transforms,
            exclude: exclude_paths,
            exclude_names,
            per_file_ignores,
            respect_gitignore: file.respect_gitignore.unwrap_or(true),
            rewrite_tests: file.rewrite_tests.unwrap_or(false),
            verify,
            profile: file.profile,
            min_saving,
            root,
        })
    }

    /// Whether `path` (a file or a folder) is excluded by `exclude`/`extend-exclude`.
    pub fn is_excluded(&self, path: &Path) -> bool {
        if path
            .file_name()
            .is_some_and(|name| self.exclude_names.is_match(Path::new(name)))
        {
            return true;
        }
        path.strip_prefix(&self.root)
            .is_ok_and(|rel| self.exclude.is_match(rel))
    }

    /// The transforms that run on `path`, after `per-file-ignores`.
    pub fn transforms_for(&self, path: &Path) -> Vec<&'static dyn Transform> {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let name = path.file_name().map(Path::new);
        let ignored: Vec<&str> = self
            .per_file_ignores
            .iter()
            .filter(|(paths, names, _)| {
                paths.is_match(rel) || name.is_some_and(|n| names.is_match(n))
            })
            .flat_map(|(_, _, ignored)| ignored.iter().copied())
            .collect();
        self.transforms
            .iter()
            .copied()
            .filter(|t| !ignored.contains(&t.name()))
            .collect()
    }
}

/// The configuration file in `dir` itself, if any: a `pyslim.toml`, a `.pyslim.toml`,
/// or a `pyproject.toml` with `[tool.pyslim]`. The closest such folder above a file wins.
pub fn find_config_file_in(dir: &Path) -> Option<PathBuf> {
    CONFIG_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|candidate| {
            candidate.is_file()
                && (!candidate.ends_with("pyproject.toml") || pyproject_has_section(candidate))
        })
}

fn pyproject_has_section(path: &Path) -> bool {
    // A pyproject.toml that does not parse is reported when it has our section; a
    // quick text check keeps unrelated broken files from stopping the run.
    std::fs::read_to_string(path).is_ok_and(|text| text.contains("[tool.pyslim"))
}

fn requires_python_near(dir: &Path) -> Option<String> {
    let path = dir
        .ancestors()
        .map(|d| d.join("pyproject.toml"))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(path).ok()?;
    let doc: PyProject = toml::from_str(&text).ok()?;
    doc.project?.requires_python
}

/// The lowest version a `requires-python` specifier allows (`">=3.9, <4"` → 3.9).
fn lower_bound(spec: &str) -> Option<PythonVersion> {
    spec.split(',').find_map(|clause| {
        let clause = clause.trim();
        let version = clause
            .strip_prefix(">=")
            .or_else(|| clause.strip_prefix("~="))
            .or_else(|| clause.strip_prefix("=="))?;
        let mut parts = version.trim().split('.');
        let major = parts.next()?.trim().parse().ok()?;
        let minor = parts
            .next()
            .unwrap_or("0")
            .trim_end_matches('*')
            .parse()
            .ok()?;
        Some(PythonVersion { major, minor })
    })
}

/// Reads `"3.11"` or `"py311"`.
pub fn parse_version(text: &str) -> Result<PythonVersion> {
    let bad = || anyhow!("{text:?} is not a Python version; write it as \"3.11\" or \"py311\"");
    if let Some(digits) = text.strip_prefix("py") {
        let (major, minor) = digits.split_at_checked(1).ok_or_else(bad)?;
        return Ok(PythonVersion {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
        });
    }
    text.parse::<PythonVersion>().map_err(|_| bad())
}

fn known_transform(name: &str) -> Result<&'static dyn Transform> {
    registry::get(name).ok_or_else(|| {
        anyhow!(
            "unknown transform {name:?}; the transforms are: {}",
            registry::names().join(", ")
        )
    })
}

fn select_transforms(
    select: Option<&[String]>,
    ignore: &[String],
) -> Result<Vec<&'static dyn Transform>> {
    let selected: Vec<&str> = match select {
        Some(names) => names
            .iter()
            .map(|n| known_transform(n).map(|t| t.name()))
            .collect::<Result<_>>()
            .context("key `select`")?,
        None => registry::names(),
    };
    let ignored: Vec<&str> = ignore
        .iter()
        .map(|n| known_transform(n).map(|t| t.name()))
        .collect::<Result<_>>()
        .context("key `ignore`")?;
    Ok(registry::TRANSFORMS
        .iter()
        .copied()
        .filter(|t| selected.contains(&t.name()) && !ignored.contains(&t.name()))
        .collect())
}

/// Compiles exclude patterns the way ruff reads them: a pattern with a `/` matches the
/// path relative to the config folder, one without also matches any file or folder name.
fn compile_excludes(patterns: &[String]) -> Result<(GlobSet, GlobSet)> {
    let mut paths = GlobSetBuilder::new();
    let mut names = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
        let glob = Glob::new(trimmed).with_context(|| format!("bad glob {pattern:?}"))?;
        paths.add(glob.clone());
        if !trimmed.contains('/') {
            names.add(glob);
        } else {
            // `dir/sub` also excludes everything below it.
            paths.add(
                Glob::new(&format!("{trimmed}/**"))
                    .with_context(|| format!("bad glob {pattern:?}"))?,
            );
        }
    }
    Ok((paths.build()?, names.build()?))
}

/// toml's message already names the key; keep it, and the line it points at.
pub(super) fn describe_toml_error(err: &toml::de::Error) -> String {
    err.to_string().trim_end().replace('\n', "\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions() {
        assert_eq!(parse_version("3.11").unwrap(), PythonVersion::PY311);
        assert_eq!(parse_version("py39").unwrap(), PythonVersion::PY39);
        assert!(parse_version("eleven").is_err());
        assert_eq!(lower_bound(">=3.9, <4"), Some(PythonVersion::PY39));
        assert_eq!(lower_bound("~=3.12.1"), Some(PythonVersion::PY312));
        assert_eq!(lower_bound("<4"), None);
    }

    #[test]
    fn unknown_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyslim.toml");
        std::fs::write(&path, "selct = [\"slots\"]\n").unwrap();
        let Err(err) = Config::load(&path, &Overrides::default()) else {
            panic!("an unknown key must be an error");
        };
        let err = format!("{err:#}");
        assert!(err.contains("selct"), "{err}");
        assert!(err.contains("pyslim.toml"), "{err}");
    }

    #[test]
    fn excludes_match_names_and_paths() {
        let root = Path::new("/p");
        let mut cfg = Config::defaults(root, &Overrides::default()).unwrap();
        let (paths, names) = compile_excludes(&["gen/*.py".into(), "legacy".into()]).unwrap();
        cfg.exclude = paths;
        cfg.exclude_names = names;
        assert!(cfg.is_excluded(Path::new("/p/gen/a.py")));
        assert!(cfg.is_excluded(Path::new("/p/src/legacy")));
        assert!(!cfg.is_excluded(Path::new("/p/src/a.py")));
    }
}
