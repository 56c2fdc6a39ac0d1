//! Which files are test code, so that they are read for the project index but not
//! rewritten (unless `rewrite-tests = true`). A file is test code when:
//!
//! - it is named as pytest names test modules by default, `test_*.py` or `*_test.py`,
//!   or it is a `conftest.py`;
//! - it is below a folder named `tests` or `test` inside its project (the closest
//!   folder above it that holds a project marker or pytest's configuration, else the
//!   folder given on the command line it was found in, else the current folder;
//!   folders above do not count, so a checkout under `~/test/` is not all tests);
//! - it matches the project's own `python_files` patterns (these add to the defaults);
//!   when the project also sets `testpaths`, only below those, as pytest collects them:
//!   `python_files = *.py` with `testpaths = src/test` makes `src/test` test code, not
//!   the whole project;
//! - it is below a `testpaths` entry that names a test folder: one with a folder named
//!   `test`, `tests` or `testing`, alone or as a word of its name (`unit_tests`,
//!   `functional-test`). Entries such as `src` or `doc`, which projects list so that
//!   pytest finds doctests or tests kept beside the code, hold library code: there only
//!   the `python_files` matches are tests.
//!
//! The pytest configuration is the one pytest would use for the file's folder
//! ([`super::pytest`]); `testpaths` are relative to its folder.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use super::pytest::{self, PytestConfig};

/// pytest's default `python_files`.
pub const DEFAULT_PYTHON_FILES: [&str; 2] = ["test_*.py", "*_test.py"];

/// Folder names that hold test code wherever they are in a project.
pub const TEST_FOLDERS: [&str; 2] = ["tests", "test"];

/// Decides which files are test code, reading each folder's pytest configuration once.
pub struct TestFiles {
    /// Where the folder rule counts from when no project is found above a file: the
    /// folders given on the command line, deepest first, then the current folder.
    roots: Vec<PathBuf>,
    defaults: GlobSet,
    dirs: Mutex<HashMap<PathBuf, Arc<DirRules>>>,
    errors: Mutex<Vec<anyhow::Error>>,
}

/// What applies to the files of one folder.
struct DirRules {
    /// pytest's configuration for the folder, compiled (`None`: none, or a broken one).
    pytest: Option<Arc<PytestRules>>,
    /// The folder the `tests`/`test` rule counts from: the closest one at or above that
    /// is a project root or holds pytest's configuration.
    base: Option<PathBuf>,
}

/// A pytest configuration's patterns, compiled.
struct PytestRules {
    rootdir: PathBuf,
    /// `python_files`: (patterns matched against the name, those matched against the
    /// whole path), as pytest's `fnmatch_ex` does.
    python_files: Option<(GlobSet, GlobSet)>,
    /// Every `testpaths` entry, relative to `rootdir`.
    testpaths: GlobSet,
    /// Whether an entry is the rootdir itself (`.`): then everything is below one.
    testpaths_everything: bool,
    has_testpaths: bool,
    /// The entries that name a test folder.
    test_folders: GlobSet,
}

impl TestFiles {
    /// A classifier for files found in the folders `given` (absolute) from `cwd`.
    pub fn new(cwd: PathBuf, given: &[PathBuf]) -> Self {
        let mut roots: Vec<PathBuf> = given.iter().filter(|p| p.is_dir()).cloned().collect();
        roots.sort_by_key(|r| std::cmp::Reverse(r.components().count()));
        roots.push(cwd);
        let mut defaults = GlobSetBuilder::new();
        for pattern in DEFAULT_PYTHON_FILES {
            if let Ok(glob) = fnmatch(pattern) {
                defaults.add(glob);
            }
        }
        Self {
            roots,
            defaults: defaults.build().unwrap_or_else(|_| GlobSet::empty()),
            dirs: Mutex::new(HashMap::new()),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Whether `path` (absolute) is test code.
    pub fn is_test(&self, path: &Path) -> bool {
        let Some(name) = path.file_name() else {
            return false;
        };
        if name == "conftest.py" || self.defaults.is_match(Path::new(name)) {
            return true;
        }
        let Some(dir) = path.parent() else {
            return false;
        };
        let rules = self.dir_rules(dir);
        if let Some(pytest) = &rules.pytest
            && pytest.is_test(path)
        {
            return true;
        }
        let base = rules.base.as_deref().or_else(|| {
            self.roots
                .iter()
                .find(|r| dir.starts_with(r))
                .map(PathBuf::as_path)
        });
        base.and_then(|base| dir.strip_prefix(base).ok())
            .is_some_and(|below| {
                below.components().any(
                    |c| matches!(c, Component::Normal(n) if TEST_FOLDERS.iter().any(|t| n == *t)),
                )
            })
    }

    /// The pytest configuration files that could not be read, each error naming the
    /// file and the cause (each once: two threads may meet a folder at the same time).
    pub fn take_errors(&self) -> Vec<anyhow::Error> {
        let errors = std::mem::take(&mut *self.errors.lock().unwrap_or_else(|e| e.into_inner()));
        let mut seen = std::collections::HashSet::new();
        errors
            .into_iter()
            .filter(|e| seen.insert(format!("{e:#}")))
            .collect()
    }

    fn dir_rules(&self, dir: &Path) -> Arc<DirRules> {
        if let Some(known) = self.dirs.lock().unwrap_or_else(|e| e.into_inner()).get(dir) {
            return known.clone();
        }
        // As pytest does, stop at the first folder with a configuration: the folders
        // above it are never read, so their files cannot cause errors.
        let own = match pytest::read_in(dir) {
            Ok(Some(config)) => match PytestRules::compile(config) {
                Ok(rules) => Some(Some(Arc::new(rules))),
                Err(e) => {
                    self.push_error(e);
                    Some(None)
                }
            },
            Ok(None) => None,
            Err(e) => {
                self.push_error(e);
                Some(None)
            }
        };
        let rules = match own {
            Some(pytest) => DirRules {
                pytest,
                base: Some(dir.to_path_buf()),
            },
            None => {
                let parent = dir.parent().map(|p| self.dir_rules(p));
                DirRules {
                    pytest: parent.as_ref().and_then(|p| p.pytest.clone()),
                    base: if super::is_project_root(dir) {
                        Some(dir.to_path_buf())
                    } else {
                        parent.and_then(|p| p.base.clone())
                    },
                }
            }
        };
        let rules = Arc::new(rules);
        self.dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf(), rules.clone());
        rules
    }

    fn push_error(&self, error: anyhow::Error) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(error);
    }
}

impl PytestRules {
    fn compile(config: PytestConfig) -> Result<Self> {
        let python_files = match &config.python_files {
            Some(patterns) => {
                let mut names = GlobSetBuilder::new();
                let mut paths = GlobSetBuilder::new();
                for pattern in patterns {
                    // fnmatch_ex: a pattern without `/` matches the name; one with `/`
                    // matches the end of the absolute path.
                    if pattern.contains('/') {
                        let anchored = if pattern.starts_with('/') {
                            pattern.clone()
                        } else {
                            format!("*/{pattern}")
                        };
                        paths.add(fnmatch(&anchored)?);
                    } else {
                        names.add(fnmatch(pattern)?);
                    }
                }
                Some((names.build()?, paths.build()?))
            }
            None => None,
        };
        let mut testpaths = GlobSetBuilder::new();
        let mut test_folders = GlobSetBuilder::new();
        let mut testpaths_everything = false;
        for entry in &config.testpaths {
            let entry = match Path::new(entry).strip_prefix(&config.rootdir) {
                Ok(relative) => relative.to_string_lossy().into_owned(),
                Err(_) => entry.clone(),
            };
            let entry = entry.trim_start_matches("./").trim_end_matches('/');
            if entry.is_empty() || entry == "." {
                testpaths_everything = true;
                continue;
            }
            // pytest expands testpaths with Python's glob: `*` stays within a folder,
            // `**` crosses them.
            let glob = GlobBuilder::new(entry)
                .literal_separator(true)
                .backslash_escape(false)
                .build()
                .or_else(|_| Glob::new(&globset::escape(entry)))
                .with_context(|| format!("{}: testpaths entry {entry:?}", config.path.display()))?;
            if entry.split('/').any(names_test_folder) {
                test_folders.add(glob.clone());
            }
            testpaths.add(glob);
        }
        Ok(Self {
            python_files,
            testpaths: testpaths.build()?,
            testpaths_everything,
            has_testpaths: !config.testpaths.is_empty(),
            test_folders: test_folders.build()?,
            rootdir: config.rootdir,
        })
    }

    fn is_test(&self, path: &Path) -> bool {
        let relative = path.strip_prefix(&self.rootdir).ok();
        // The file itself and each folder above it, below the rootdir.
        let below = |set: &GlobSet| {
            relative.is_some_and(|rel| {
                rel.ancestors()
                    .any(|a| !a.as_os_str().is_empty() && set.is_match(a))
            })
        };
        if let Some((names, paths)) = &self.python_files {
            let matches = path
                .file_name()
                .is_some_and(|n| names.is_match(Path::new(n)))
                || paths.is_match(path);
            let collected = !self.has_testpaths
                || (self.testpaths_everything && relative.is_some())
                || below(&self.testpaths);
            if matches && collected {
                return true;
            }
        }
        below(&self.test_folders)
    }
}

/// Whether a folder name says it holds tests: `test`, `tests` or `testing`, alone or as
/// a word of the name (`unit_tests`, `functional-test`, `test.data`).
fn names_test_folder(name: &str) -> bool {
    name.split(['_', '-', '.']).any(|word| {
        matches!(
            word.to_ascii_lowercase().as_str(),
            "test" | "tests" | "testing"
        )
    })
}

/// A pattern as Python's `fnmatch` reads it: `*` also matches `/`, and `\` is an
/// ordinary character. A pattern globset refuses (an unclosed `[`) is matched
/// literally, as fnmatch does.
fn fnmatch(pattern: &str) -> std::result::Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(false)
        .build()
        .or_else(|_| Glob::new(&globset::escape(pattern)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    /// The files of `paths` that are tests, for a project in `dir`.
    fn tests_among(dir: &Path, paths: &[&str]) -> Vec<String> {
        let files = TestFiles::new(dir.to_path_buf(), &[]);
        let found: Vec<String> = paths
            .iter()
            .filter(|p| files.is_test(&dir.join(p)))
            .map(|p| p.to_string())
            .collect();
        let errors = files.take_errors();
        assert!(errors.is_empty(), "{errors:?}");
        found
    }

    /// Test files by pytest's conventions alone, whatever the configuration says.
    const CONVENTIONAL: [&str; 5] = [
        "pkg/test_core.py",
        "pkg/core_test.py",
        "pkg/conftest.py",
        "tests/helpers.py",
        "test/data/make.py",
    ];

    /// The files a configuration may make tests.
    const OTHERS: [&str; 5] = [
        "pkg/core.py",
        "pkg/testing.py",
        "testing/helpers.py",
        "src/lib/check_lib.py",
        "src/lib/lib.py",
    ];

    /// Which of [`OTHERS`] are tests for a project with `config` (the conventional
    /// test files always are).
    fn configured_tests(config: (&str, &str)) -> Vec<String> {
        let dir = tree(&[config]);
        assert_eq!(tests_among(dir.path(), &CONVENTIONAL), CONVENTIONAL);
        tests_among(dir.path(), &OTHERS)
    }

    #[test]
    fn pytests_default_conventions() {
        let marker = ("pyproject.toml", "[project]\nname = \"x\"\n");
        assert_eq!(configured_tests(marker), [] as [&str; 0]);
    }

    #[test]
    fn folders_above_the_project_do_not_count() {
        let dir = tree(&[("tests/project/setup.py", "")]);
        let root = dir.path().join("tests/project");
        assert_eq!(
            tests_among(&root, &["lib.py", "tests/t.py", "sub/test/x.py"]),
            ["tests/t.py", "sub/test/x.py"]
        );
        // Without any project marker, the folder rule counts from the folder given, else
        // from the current folder.
        let loose = tree(&[("test/a.py", ""), ("test/tests/a.py", "")]);
        let test = loose.path().join("test");
        let elsewhere = tempfile::tempdir().unwrap();
        for files in [
            TestFiles::new(test.clone(), &[]),
            TestFiles::new(elsewhere.path().to_path_buf(), std::slice::from_ref(&test)),
        ] {
            assert!(!files.is_test(&test.join("a.py")));
            assert!(files.is_test(&test.join("tests/a.py")));
        }
        let nowhere = TestFiles::new(elsewhere.path().to_path_buf(), &[]);
        assert!(!nowhere.is_test(&test.join("tests/a.py")));
    }

    #[test]
    fn python_files_add_patterns() {
        let ini = ("pytest.ini", "[pytest]\npython_files = check_*.py\n");
        assert_eq!(configured_tests(ini), ["src/lib/check_lib.py"]);
        // A pattern with a `/` matches the end of the path.
        let ini = ("pytest.ini", "[pytest]\npython_files = lib/*.py\n");
        assert_eq!(
            configured_tests(ini),
            ["src/lib/check_lib.py", "src/lib/lib.py"]
        );
    }

    #[test]
    fn python_files_apply_below_testpaths_only() {
        let ini = "[pytest]\npython_files = *.py\ntestpaths = src/lib\n";
        assert_eq!(
            configured_tests(("pytest.ini", ini)),
            ["src/lib/check_lib.py", "src/lib/lib.py"]
        );
    }

    #[test]
    fn testpaths_that_name_test_folders() {
        let toml = "[tool.pytest.ini_options]\ntestpaths = [\"src\", \"./testing/\", \"doc\"]\n";
        assert_eq!(
            configured_tests(("pyproject.toml", toml)),
            ["testing/helpers.py"]
        );
        let globbed = "[pytest]\ntestpaths = */unit_tests\n";
        let dir = tree(&[("pytest.ini", globbed)]);
        assert_eq!(
            tests_among(
                dir.path(),
                &["a/unit_tests/h.py", "a/b/unit_tests/h.py", "a/h.py"]
            ),
            ["a/unit_tests/h.py"]
        );
        assert!(names_test_folder("functional-Tests"));
        assert!(!names_test_folder("latest"));
        assert!(!names_test_folder("pytest_plugin"));
    }

    #[test]
    fn the_closest_pytest_configuration_applies() {
        let dir = tree(&[
            ("setup.cfg", "[tool:pytest]\npython_files = outer_*.py\n"),
            ("sub/tox.ini", "[pytest]\npython_files = inner_*.py\n"),
        ]);
        assert_eq!(
            tests_among(
                dir.path(),
                &[
                    "outer_a.py",
                    "inner_a.py",
                    "sub/outer_b.py",
                    "sub/inner_b.py"
                ]
            ),
            ["outer_a.py", "sub/inner_b.py"]
        );
    }

    #[test]
    fn a_broken_configuration_is_an_error_and_the_defaults_apply() {
        let dir = tree(&[("pytest.ini", "[pytest]\n  stray\n")]);
        let files = TestFiles::new(dir.path().to_path_buf(), &[]);
        assert!(files.is_test(&dir.path().join("test_a.py")));
        assert!(!files.is_test(&dir.path().join("a.py")));
        assert!(files.is_test(&dir.path().join("tests/a.py")));
        let errors: Vec<String> = files
            .take_errors()
            .iter()
            .map(|e| format!("{e:#}"))
            .collect();
        assert_eq!(
            errors,
            [format!(
                "{}:2: unexpected value continuation",
                dir.path().join("pytest.ini").display()
            )]
        );
    }
}
