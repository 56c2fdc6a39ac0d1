//! A working copy and the runs made on it: [`Session::apply`] makes the copy hold exactly
//! a set of candidate fixes (re-running the fix loop with only those allowed), and
//! [`Session::run`] starts the next run there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::runner::{RunOutcome, Runner};
use crate::engine::{self, Facts, FileJob, FixKey, FixPolicy};
use crate::load::ProjectFile;

/// One candidate fix: an index into the project's files and the fix's key.
pub type Candidate = (usize, FixKey);

/// The working copy and the runs made on it.
pub struct Session<'a> {
    /// Starts the runs.
    pub runner: &'a Runner,
    /// The project's files (candidate indexes point here).
    pub files: &'a [ProjectFile],
    /// The project index the fixes were found with.
    pub facts: &'a Facts,
    /// Whether unsafe fixes may apply.
    pub unsafe_fixes: bool,
    /// Candidate files by index, relative to the project root.
    pub relative: &'a BTreeMap<usize, PathBuf>,
    /// The working copy's root.
    pub copy_root: PathBuf,
    /// Runs started so far.
    pub runs: usize,
    /// What each candidate file currently holds in the copy (its kept keys).
    pub written: BTreeMap<usize, BTreeSet<FixKey>>,
}

impl Session<'_> {
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
                file.source.text.clone()
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
                engine::rewrite(&file.source.text, &job, &policy)
                    .map_err(|e| anyhow::anyhow!("{}: {}", file.info.path, e.message))?
                    .output
                    .unwrap_or_else(|| file.source.text.clone())
            };
            let bytes = file
                .source
                .encode(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.info.path))?;
            let target = self.copy_root.join(&self.relative[&index]);
            std::fs::write(&target, bytes)
                .with_context(|| format!("cannot write {}", target.display()))?;
            self.written.insert(index, keys);
        }
        Ok(())
    }

    /// Starts one run on the copy as it is now (see [`Runner::run`]).
    pub fn run(
        &mut self,
        label: &str,
        memory: bool,
        only: Option<&[String]>,
    ) -> Result<RunOutcome> {
        self.runs += 1;
        self.runner.run(label, memory, only, self.runs)
    }
}
