//! A working copy and the runs made on it: [`Session::apply`] makes the copy hold exactly
//! a set of candidate fixes (re-running the fix loop with only those allowed),
//! [`Session::write_texts`] puts instrumented texts in place for one run, and
//! [`Session::launch`] starts the next run there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::runner::{Finished, RunSpec, Runner};
use crate::engine::{self, Facts, FileJob, FixKey, FixPolicy};
use crate::load::ProjectFile;

/// One candidate fix: an index into the project's files and the fix's key.
pub type Candidate = (usize, FixKey);

/// The working copy and the runs made on it.
pub struct Session<'a> {
    /// Starts the runs (its `workdir` is this copy).
    pub runner: Runner,
    /// The project's files (candidate indexes point here).
    pub files: &'a [ProjectFile],
    /// The project index the fixes were found with.
    pub facts: &'a Facts,
    /// Whether unsafe fixes may apply.
    pub unsafe_fixes: bool,
    /// Candidate files by index, relative to the project root.
    pub relative: BTreeMap<usize, PathBuf>,
    /// Runs started so far (numbers the run files; unique across sessions when the
    /// first run number differs).
    pub runs: usize,
    /// What each candidate file currently holds in the copy (its kept keys); a file
    /// holding something else (instrumented text) is absent.
    written: BTreeMap<usize, BTreeSet<FixKey>>,
    /// The text of each file written with fixes, for [`Session::original_line`].
    texts: BTreeMap<usize, String>,
}

impl<'a> Session<'a> {
    /// A session on the copy `runner.workdir`, which holds the original files.
    pub fn new(
        runner: Runner,
        files: &'a [ProjectFile],
        facts: &'a Facts,
        unsafe_fixes: bool,
        relative: BTreeMap<usize, PathBuf>,
    ) -> Session<'a> {
        let written = relative.keys().map(|i| (*i, BTreeSet::new())).collect();
        Session {
            runner,
            files,
            facts,
            unsafe_fixes,
            relative,
            runs: 0,
            written,
            texts: BTreeMap::new(),
        }
    }

    /// The working copy's root.
    pub fn copy_root(&self) -> &std::path::Path {
        &self.runner.workdir
    }

    /// Makes every candidate file in the copy hold exactly the fixes in `set`.
    pub fn apply(&mut self, set: &[Candidate]) -> Result<()> {
        let mut wanted: BTreeMap<usize, BTreeSet<FixKey>> = self
            .relative
            .keys()
            .map(|i| (*i, BTreeSet::new()))
            .collect();
        for (index, key) in set {
            wanted.entry(*index).or_default().insert(key.clone());
        }
        for (index, keys) in wanted {
            if self.written.get(&index) == Some(&keys) {
                continue;
            }
            let file = &self.files[index];
            let text = if keys.is_empty() {
                file.text().to_string()
            } else {
                let keep = |k: &FixKey| keys.contains(k);
                let policy = FixPolicy {
                    unsafe_fixes: self.unsafe_fixes,
                    keep: Some(&keep),
                };
                let job = FileJob {
                    info: &file.info,
                    settings: &file.settings,
                    transforms: &file.transforms,
                    facts: self.facts,
                };
                engine::rewrite(file.text(), &job, &policy)
                    .map_err(|e| anyhow::anyhow!("{}: {}", file.info.path, e.message))?
                    .output
                    .unwrap_or_else(|| file.text().to_string())
            };
            self.write(index, &text)?;
            if keys.is_empty() {
                self.texts.remove(&index);
            } else {
                self.texts.insert(index, text);
            }
            self.written.insert(index, keys);
        }
        Ok(())
    }

    /// Writes `texts` (by file index) into the copy as they are: the next
    /// [`Session::apply`] puts those files back.
    pub fn write_texts(&mut self, texts: &BTreeMap<usize, String>) -> Result<()> {
        for (index, text) in texts {
            self.write(*index, text)?;
            self.written.remove(index);
        }
        Ok(())
    }

    fn write(&self, index: usize, text: &str) -> Result<()> {
        let file = &self.files[index];
        let bytes = file
            .source
            .encode(text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.info.path))?;
        let target = self.runner.workdir.join(&self.relative[&index]);
        std::fs::write(&target, bytes).with_context(|| format!("cannot write {}", target.display()))
    }

    /// The line of the original file that line `line` of file `index`, as the copy
    /// holds it now, came from (rewrites add lines: an import).
    pub fn original_line(&self, index: usize, line: usize) -> usize {
        let Some(text) = self.texts.get(&index) else {
            return line;
        };
        let original = self.files[index].text();
        let diff = similar::TextDiff::from_lines(original, text.as_str());
        for op in diff.ops() {
            let new = op.new_range();
            if (new.start + 1..=new.end).contains(&line) {
                let old = op.old_range();
                return (old.start + 1 + (line - new.start - 1)).min(old.end.max(old.start + 1));
            }
        }
        line
    }

    /// The file index whose copy is at `relative` (a path relative to the copy root).
    pub fn file_at(&self, relative: &str) -> Option<usize> {
        self.relative
            .iter()
            .find(|(_, p)| p.to_string_lossy().replace('\\', "/") == relative)
            .map(|(i, _)| *i)
    }

    /// Starts one run on the copy as it is now.
    pub fn launch(&mut self, spec: RunSpec) -> Result<Finished> {
        self.runs += 1;
        self.runner.launch(spec, self.runs)
    }
}
