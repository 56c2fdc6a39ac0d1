//! What `rewrite` and `check` print: findings as `path:line:col: transform message`, a
//! summary per transform, and the same as JSON for machines (schema in README.md).

use std::collections::BTreeMap;
use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use pyslim_transforms::Applicability;

use super::plural;
use crate::engine::{ReportedFix, ReportedNote, applicability_name};
use crate::load::{FileError, FileOutcome, Workspace};

/// One file's results, as printed.
#[derive(Debug, Serialize)]
pub struct FileReport {
    /// The path shown to the user.
    pub path: String,
    /// Fixes applied (or that would be).
    pub fixes: Vec<ReportedFix>,
    /// Unsafe fixes not applied because `--unsafe` was not given.
    pub withheld: Vec<ReportedFix>,
    /// Candidates left alone, with reasons.
    pub notes: Vec<ReportedNote>,
    /// The unified diff, present with `rewrite --dry-run` only: `check` shows none, and
    /// `--patch` writes it to the patch file instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// Counts per transform.
#[derive(Debug, Default, Serialize)]
pub struct TransformCount {
    /// Safe fixes.
    pub safe: usize,
    /// Unsafe fixes.
    pub r#unsafe: usize,
}

/// The whole run, as printed.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Schema version of this JSON.
    pub version: u32,
    /// `check` or `rewrite`.
    pub command: &'static str,
    /// Whether files were written.
    pub written: bool,
    /// Files with fixes, withheld fixes or notes, in path order.
    pub files: Vec<FileReport>,
    /// Files skipped and configuration problems.
    pub errors: Vec<FileError>,
    /// Fixes per transform.
    pub by_transform: BTreeMap<&'static str, TransformCount>,
    /// Number of files the fixes change.
    pub files_changed: usize,
    /// Number of fixes.
    pub fixes: usize,
    /// Number of unsafe fixes withheld.
    pub withheld: usize,
    /// Number of test files among the paths given that were read for the analysis and
    /// not rewritten (`rewrite-tests` is off).
    pub test_files: usize,
    /// With `--profile`: every finding ranked by its saving at the peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<super::ranking::RankingReport>,
}

impl RunReport {
    /// Gathers the outcomes of a run. `with_notes` keeps the notes (`--explain`).
    pub fn new(
        command: &'static str,
        workspace: &Workspace,
        outcomes: &[FileOutcome],
        diffs: &BTreeMap<usize, String>,
        with_notes: bool,
        written: bool,
    ) -> Self {
        let mut report = RunReport {
            version: 1,
            command,
            written,
            files: Vec::new(),
            errors: workspace.errors.clone(),
            by_transform: BTreeMap::new(),
            files_changed: 0,
            fixes: 0,
            withheld: 0,
            test_files: workspace.test_files.len(),
            profile: None,
        };
        for outcome in outcomes {
            let rewrite = match &outcome.result {
                Ok(rewrite) => rewrite,
                Err(err) => {
                    report.errors.push(err.clone());
                    continue;
                }
            };
            let path = workspace.files[outcome.index].info.path.clone();
            for message in &rewrite.internal_errors {
                report
                    .errors
                    .push(FileError::whole_file(path.clone(), message.clone()));
            }
            for fix in &rewrite.applied {
                let count = report.by_transform.entry(fix.key.transform).or_default();
                match fix.applicability {
                    Applicability::Safe => count.safe += 1,
                    Applicability::Unsafe | Applicability::DisplayOnly => count.r#unsafe += 1,
                }
            }
            report.fixes += rewrite.applied.len();
            report.withheld += rewrite.withheld.len();
            if !rewrite.applied.is_empty() {
                report.files_changed += 1;
            }
            let notes = if with_notes {
                rewrite.notes.clone()
            } else {
                Vec::new()
            };
            if rewrite.applied.is_empty() && rewrite.withheld.is_empty() && notes.is_empty() {
                continue;
            }
            report.files.push(FileReport {
                path,
                fixes: rewrite.applied.clone(),
                withheld: rewrite.withheld.clone(),
                notes,
                diff: diffs.get(&outcome.index).cloned(),
            });
        }
        report
    }

    /// Prints the report as JSON on stdout.
    pub fn print_json(&self) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, self)?;
        writeln!(out)
    }

    /// Prints the notes (`--explain`) as `path:line:col: transform skipped: reason`.
    pub fn print_notes(&self) -> std::io::Result<()> {
        let mut out = anstream::stdout().lock();
        let bold = Style::new().bold();
        let name = AnsiColor::Cyan.on_default().bold();
        for file in &self.files {
            for note in &file.notes {
                writeln!(
                    out,
                    "{bold}{}:{}:{}:{bold:#} {name}{}{name:#} skipped: {}",
                    file.path, note.line, note.column, note.transform, note.reason
                )?;
            }
        }
        Ok(())
    }

    /// Prints the findings of `check` as `path:line:col: transform message`, then notes.
    pub fn print_findings(&self) -> std::io::Result<()> {
        let mut out = anstream::stdout().lock();
        let bold = Style::new().bold();
        let name = AnsiColor::Cyan.on_default().bold();
        let warn = AnsiColor::Yellow.on_default();
        for file in &self.files {
            for fix in &file.fixes {
                let tag = match fix.applicability {
                    Applicability::Safe => String::new(),
                    other => format!(" {warn}[{}]{warn:#}", applicability_name(other)),
                };
                writeln!(
                    out,
                    "{bold}{}:{}:{}:{bold:#} {name}{}{name:#}{tag} {}",
                    file.path, fix.line, fix.column, fix.key.transform, fix.message
                )?;
            }
            for note in &file.notes {
                writeln!(
                    out,
                    "{bold}{}:{}:{}:{bold:#} {name}{}{name:#} skipped: {}",
                    file.path, note.line, note.column, note.transform, note.reason
                )?;
            }
        }
        Ok(())
    }

    /// Prints the errors, then the closing summary on stderr: counts per transform, the
    /// test files only read, how many errors are above it, and what was withheld.
    pub fn print_summary(&self, verb: &str) -> std::io::Result<()> {
        let mut err = anstream::stderr().lock();
        for e in &self.errors {
            let red = AnsiColor::Red.on_default().bold();
            writeln!(err, "{red}error{red:#}: {e}")?;
        }
        let mut suffix = match self.test_files {
            0 => String::new(),
            n => format!(
                "; {n} test {} read, not rewritten",
                plural(n, "file", "files")
            ),
        };
        // The summary is the last line read: it must not look like a clean run when
        // files or settings were left unread.
        if !self.errors.is_empty() {
            let n = self.errors.len();
            suffix.push_str(&format!("; {n} {} above", plural(n, "error", "errors")));
        }
        let ranked = self.profile.as_ref().map_or(0, |r| r.fixes.len());
        if self.fixes == 0 && ranked > 0 {
            // Found, then left out by the ranking (or the tests): not "none found".
            writeln!(
                err,
                "None of the {ranked} {} found is applied{suffix}.",
                plural(ranked, "rewrite", "rewrites")
            )?;
        } else if self.fixes == 0 {
            writeln!(err, "No rewrites found{suffix}.")?;
        } else {
            let per: Vec<String> = self
                .by_transform
                .iter()
                .map(|(name, c)| match (c.safe, c.r#unsafe) {
                    (s, 0) => format!("{name} {s}"),
                    (0, u) => format!("{name} {u} unsafe"),
                    (s, u) => format!("{name} {s} + {u} unsafe"),
                })
                .collect();
            writeln!(
                err,
                "{verb} {} {} in {} {} ({}){suffix}.",
                self.fixes,
                plural(self.fixes, "rewrite", "rewrites"),
                self.files_changed,
                plural(self.files_changed, "file", "files"),
                per.join(", ")
            )?;
        }
        if self.withheld > 0 {
            writeln!(
                err,
                "{} unsafe {} not applied (use --unsafe, or --verify to let the tests decide).",
                self.withheld,
                plural(self.withheld, "rewrite", "rewrites")
            )?;
        }
        Ok(())
    }
}

/// Warns on stderr, before any long work and in every output format (stdout stays the
/// JSON), about each test file named on the command line: the user asked for it, and
/// it is only read.
pub fn warn_named_test_files(workspace: &Workspace) -> std::io::Result<()> {
    for path in &workspace.named_test_files {
        warn(&format!(
            "{path} is a test file: read for the analysis, not rewritten (set \
             `rewrite-tests = true` to rewrite test files)"
        ))?;
    }
    Ok(())
}

/// Prints `warning: {text}` on stderr, in every output format (stdout may be JSON).
pub fn warn(text: &str) -> std::io::Result<()> {
    let yellow = AnsiColor::Yellow.on_default().bold();
    writeln!(
        anstream::stderr().lock(),
        "{yellow}warning{yellow:#}: {text}"
    )
}
