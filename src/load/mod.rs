//! Loading the user's project: the files found ([`discovery`]), decoded ([`decode`])
//! and paired with their configuration ([`config`]), the test files among them, which
//! are only read ([`testfiles`], with pytest's configuration from [`pytest`]), and the
//! [`Workspace`] holding them with the project index and the fix loop's outcome per
//! file. `rewrite`, `check`, `profile` and verification all start here.

pub mod config;
pub mod decode;
pub mod discovery;
mod file;
pub mod pytest;
pub mod testfiles;

pub use file::{Packages, ProjectFile, module_info, module_info_among};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use pyslim_transforms::SyntaxError;
use rayon::prelude::*;
use ruff_source_file::LineIndex;

use crate::engine::{self, Facts, FixPolicy, Rewrite};
use decode::DecodedSource;
use discovery::{ConfigResolver, discover};
use testfiles::TestFiles;

/// A problem with one file (or a configuration), reported and skipped while the other
/// files are still processed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileError {
    /// The path as shown to the user (empty for errors not about one file).
    pub path: String,
    /// 1-based line, when the error has a place.
    pub line: Option<usize>,
    /// 1-based column, when the error has a place.
    pub column: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl FileError {
    /// An error about a whole file, with no place in it (`path` empty: about none).
    pub fn whole_file(path: impl Into<String>, message: impl Into<String>) -> Self {
        FileError {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.path.is_empty(), self.line, self.column) {
            (true, _, _) => write!(f, "{}", self.message),
            (false, Some(line), Some(column)) => {
                write!(f, "{}:{line}:{column}: {}", self.path, self.message)
            }
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The files of one run and their project index.
pub struct Workspace {
    /// The folder paths are shown relative to.
    pub cwd: PathBuf,
    /// The folder a patch is applied from: the enclosing git work tree, else `cwd`.
    pub patch_root: PathBuf,
    /// Files that decoded, in path order.
    pub files: Vec<ProjectFile>,
    /// The transforms' project-wide facts.
    pub facts: Facts,
    /// Files that could not be read or decoded, and configuration errors.
    pub errors: Vec<FileError>,
    /// The test files among the paths given (see [`testfiles`]), read for the analysis
    /// and not rewritten because their configuration leaves `rewrite-tests` off; paths
    /// as shown to the user, in path order.
    pub test_files: Vec<String>,
    /// Those of [`Self::test_files`] named on the command line one by one: the user
    /// asked for them, so they are told why nothing changes there.
    pub named_test_files: Vec<String>,
    /// The configurations met, cached per folder (verification asks for its settings).
    pub resolver: Arc<ConfigResolver>,
    /// How long combining the files' facts into the project-wide views took (the
    /// slots decision is most of it), for `--verbose`.
    pub analysis_time: std::time::Duration,
}

/// The fix loop's outcome for one file of the workspace.
pub struct FileOutcome {
    /// Index into [`Workspace::files`].
    pub index: usize,
    /// The rewrite, or the file's syntax error.
    pub result: std::result::Result<Rewrite, FileError>,
}

impl Workspace {
    /// Finds, reads and indexes the files under `paths`. When a path is in a project
    /// (the closest folder at or above it holds `.git`, `pyproject.toml`, `setup.py`,
    /// `setup.cfg` or a pyslim configuration), the project's other Python files are read
    /// too, for the project index only: whether a class may get `__slots__` depends on
    /// every place that uses it, tests included. Test files are read the same way, even
    /// when among the paths given, unless their configuration sets `rewrite-tests`.
    pub fn load(paths: &[PathBuf], resolver: Arc<ConfigResolver>, cwd: PathBuf) -> Result<Self> {
        let (mut found, discovery_errors) = discover(paths, &resolver);
        let targets = found.len();
        // As `discover` records them; the files among them were named one by one.
        let given: Vec<PathBuf> = paths
            .iter()
            .map(|p| discovery::normalize(&cwd.join(p)))
            .collect();
        let named: std::collections::HashSet<&PathBuf> =
            given.iter().filter(|p| p.is_file()).collect();
        let tests = TestFiles::new(cwd.clone(), &given);
        // Each given path's own project: `pyslim check vendor/lib` from a monorepo root
        // reads `vendor/lib`'s project, not the whole repository.
        let mut roots: Vec<PathBuf> = Vec::new();
        for given in paths {
            let path = cwd.join(given);
            let dir = if path.is_dir() {
                path.as_path()
            } else {
                path.parent().unwrap_or(&cwd)
            };
            if let Some(root) = project_root(dir)
                && !roots.iter().any(|r| root.starts_with(r))
            {
                roots.retain(|r| !r.starts_with(&root));
                roots.push(root);
            }
        }
        // A root given as a path itself was walked already (`pyslim check .` at the
        // top of a project, the common case): its walk would find the same files.
        roots.retain(|root| !given.contains(&discovery::normalize(root)));
        if !roots.is_empty() {
            let (context, _) = discover(&roots, &resolver);
            let known: std::collections::HashSet<PathBuf> =
                found.iter().map(|f| f.path.clone()).collect();
            found.extend(context.into_iter().filter(|f| !known.contains(&f.path)));
        }
        let used = engine::index::indexing_transforms(
            found.iter().map(|f| f.config.transforms.as_slice()),
        );
        // Read, parse and index each file in one go, dropping its text before the next
        // is read: the sources of a large tree never all sit in memory together. The fix
        // loop reads again the few files it rewrites or reports on, each for its own run
        // (`fix_loop`).
        type Loaded = (
            Role,
            std::result::Result<(ProjectFile, engine::index::FileIndex), FileError>,
        );
        let packages = Packages::default();
        let loaded: Vec<Loaded> = found
            .into_par_iter()
            .enumerate()
            .map(|(position, file)| {
                let role = if position >= targets {
                    Role::Context
                } else if !file.config.rewrite_tests && tests.is_test(&file.path) {
                    Role::Test
                } else {
                    Role::Target
                };
                let indexed = read_file(file, role, &cwd, &packages).map(|mut file| {
                    let facts = engine::index::prepare(&mut file, &used);
                    file.release();
                    (file, facts)
                });
                (role, indexed)
            })
            .collect();
        // Then the pytest configurations met on the way that pytest would refuse.
        let mut errors: Vec<FileError> = discovery_errors
            .into_iter()
            .chain(tests.take_errors())
            .map(|e| FileError::whole_file(String::new(), format!("{e:#}")))
            .collect();
        let mut files = Vec::new();
        let mut test_files = Vec::new();
        let mut named_test_files = Vec::new();
        for (role, item) in loaded {
            match item {
                Ok((file, facts)) => {
                    if role == Role::Test {
                        test_files.push(file.info.path.clone());
                        if named.contains(&file.path) {
                            named_test_files.push(file.info.path.clone());
                        }
                    }
                    files.push((file, facts));
                }
                Err(e) if role == Role::Target => errors.push(e),
                // A file only read for the index that cannot be read is not the user's
                // concern here, no more than its syntax errors are.
                Err(_) => {}
            }
        }
        // Path order, with context files among the targets, so the index sees the
        // project the same way whichever paths were given.
        files.sort_by(|(a, _), (b, _)| a.path.cmp(&b.path));
        test_files.sort();
        named_test_files.sort();
        let (files, per_file): (Vec<ProjectFile>, Vec<engine::index::FileIndex>) =
            files.into_iter().unzip();
        let analysis_started = std::time::Instant::now();
        let facts = engine::index::combine(per_file, &used);
        let analysis_time = analysis_started.elapsed();
        let patch_root = git_root(&cwd).unwrap_or_else(|| cwd.clone());
        Ok(Self {
            cwd,
            patch_root,
            files,
            facts,
            errors,
            test_files,
            named_test_files,
            resolver,
            analysis_time,
        })
    }

    /// Runs the fix loop on every file.
    pub fn rewrite(&mut self, policy: &FixPolicy) -> Vec<FileOutcome> {
        let results = self.fix_loop(true, |_, file, facts| {
            engine::rewrite_file(file, facts, policy, true)
        });
        self.outcomes(results)
    }

    /// [`Workspace::rewrite`] without the notes (for output that shows none): files where
    /// a transform could only leave a note are not read again.
    pub fn rewrite_findings(&mut self, policy: &FixPolicy) -> Vec<FileOutcome> {
        let results = self.fix_loop(false, |_, file, facts| {
            engine::rewrite_file(file, facts, policy, false)
        });
        self.outcomes(results)
    }

    /// Reads again the texts of every file to rewrite, for work that reads them all
    /// (a profile's instrumented copy, verification).
    pub fn restore_all_texts(&mut self) {
        let failed: Vec<(usize, String)> = self
            .files
            .par_iter_mut()
            .enumerate()
            .filter(|(_, file)| !file.transforms.is_empty())
            .filter_map(|(index, file)| file.restore().err().map(|e| (index, e)))
            .collect();
        for (index, message) in failed {
            self.not_read_again(index, message);
        }
    }

    /// Runs `run` (the fix loop of one file) on every file in parallel, results in file
    /// order. A file whose text was released after indexing is read again for its own
    /// run only, when the loop will read it ([`engine::needs_text`]), and released again
    /// after unless its outcome still reads it: applied fixes (diffs, writes and SARIF
    /// compare the output with the original) or a syntax error (whose place is counted
    /// in it). So the texts of the files reported on, several MB for a large tree, are
    /// never all held at once. A file that cannot be read again, or changed since it
    /// was indexed, is reported and not rewritten.
    fn fix_loop(
        &mut self,
        notes: bool,
        run: impl Fn(usize, &ProjectFile, &Facts) -> Result<Rewrite, SyntaxError> + Sync,
    ) -> Vec<Result<Rewrite, SyntaxError>> {
        let facts = &self.facts;
        let ran: Vec<(Result<Rewrite, SyntaxError>, Option<String>)> = self
            .files
            .par_iter_mut()
            .enumerate()
            .map(|(index, file)| {
                let restored = file.released
                    && engine::needs_text(file, file.first_pass.as_ref(), facts, notes);
                if restored && let Err(message) = file.restore() {
                    return (Ok(Rewrite::default()), Some(message));
                }
                let result = run(index, file, facts);
                let applied = |r: &Rewrite| r.output.is_some() || !r.applied.is_empty();
                if restored && matches!(&result, Ok(rewrite) if !applied(rewrite)) {
                    file.release();
                }
                (result, None)
            })
            .collect();
        let mut results = Vec::with_capacity(ran.len());
        for (index, (result, failed)) in ran.into_iter().enumerate() {
            if let Some(message) = failed {
                self.not_read_again(index, message);
            }
            results.push(result);
        }
        results
    }

    /// File `index` could not be read again (see [`ProjectFile::restore`]): it is
    /// reported, and nothing of it is rewritten, as its findings point into the text
    /// indexed.
    fn not_read_again(&mut self, index: usize, message: String) {
        let file = &mut self.files[index];
        file.transforms.clear();
        file.first_pass = None;
        self.errors
            .push(FileError::whole_file(file.info.path.clone(), message));
    }

    fn outcomes(&self, results: Vec<Result<Rewrite, SyntaxError>>) -> Vec<FileOutcome> {
        results
            .into_iter()
            .enumerate()
            .map(|(index, result)| FileOutcome {
                index,
                result: result.map_err(|e| self.syntax_error(index, &e)),
            })
            .collect()
    }

    /// Makes messages quote the figures measured on `version` (the Python the tests or
    /// the workload run on) instead of the target version's.
    pub fn quote_figures_for(&mut self, version: pyslim_transforms::PythonVersion) {
        for file in &mut self.files {
            let settings = pyslim_transforms::Settings {
                figures_version: Some(version),
                ..(*file.settings).clone()
            };
            file.settings = Arc::new(settings);
            // Its messages quoted the figures of the settings it ran with.
            file.first_pass = None;
        }
    }

    /// Gives every file's transforms what a profile observed (array rewrites of lists
    /// the analysis could not type).
    pub fn observe(&mut self, observed: Arc<pyslim_transforms::observed::Observed>) {
        for file in &mut self.files {
            let settings = pyslim_transforms::Settings {
                observed: Some(observed.clone()),
                ..(*file.settings).clone()
            };
            file.settings = Arc::new(settings);
            // It ran without the observations.
            file.first_pass = None;
        }
    }

    /// Runs the fix loop on every file with only the fixes in `kept[i]` allowed for
    /// file `i` (what verification or a profile kept).
    pub fn rewrite_kept(
        &mut self,
        unsafe_fixes: bool,
        kept: &[std::collections::BTreeSet<engine::FixKey>],
    ) -> Vec<FileOutcome> {
        let results = self.fix_loop(true, |index, file, facts| {
            engine::rewrite_file_kept(file, facts, unsafe_fixes, kept.get(index))
        });
        self.outcomes(results)
    }

    fn syntax_error(&self, index: usize, err: &SyntaxError) -> FileError {
        let file = &self.files[index];
        let text = file.text();
        let lc = LineIndex::from_source_text(text).line_column(err.offset, text);
        FileError {
            path: file.info.path.clone(),
            line: Some(lc.line.get()),
            column: Some(lc.column.get()),
            message: format!("syntax error: {}; file skipped", err.message),
        }
    }

    /// The path of file `index` relative to the patch root, with `/` separators.
    pub fn patch_path(&self, index: usize) -> String {
        let path = &self.files[index].path;
        path.strip_prefix(&self.patch_root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// What a found file is for in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Among the paths given: rewritten.
    Target,
    /// A test file among the paths given: only read for the index, like a context file.
    Test,
    /// Elsewhere in the project: only read for the index.
    Context,
}

/// Reads and decodes one found file; only a [`Role::Target`] gets its transforms.
fn read_file(
    file: discovery::FoundFile,
    role: Role,
    cwd: &Path,
    packages: &Packages,
) -> std::result::Result<ProjectFile, FileError> {
    let display = display_path(&file.path, cwd);
    let error = |message: String| FileError::whole_file(display.clone(), message);
    let bytes = std::fs::read(&file.path).map_err(|e| error(format!("cannot read: {e}")))?;
    let source = DecodedSource::decode_owned(bytes).map_err(|e| error(format!("skipped: {e}")))?;
    Ok(ProjectFile::new(
        file.path.clone(),
        module_info_among(&file.path, display, packages),
        source,
        file.config.settings.clone(),
        match role {
            Role::Target => file.config.transforms_for(&file.path),
            Role::Test | Role::Context => Vec::new(),
        },
        file.config.transforms.clone(),
    ))
}

/// `path` relative to `cwd` when it is below it, else as it is.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The closest folder at or above `dir` that marks a Python project.
pub fn project_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| is_project_root(d))
        .map(Path::to_path_buf)
}

/// Whether `dir` holds `.git`, `pyproject.toml`, `setup.py`, `setup.cfg` or a pyslim
/// configuration.
pub fn is_project_root(dir: &Path) -> bool {
    const MARKERS: [&str; 6] = [
        ".git",
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "pyslim.toml",
        ".pyslim.toml",
    ];
    MARKERS.iter().any(|m| dir.join(m).exists())
}

fn git_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}
