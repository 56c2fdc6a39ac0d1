//! `check --format sarif`: the findings as a SARIF 2.1.0 log, what code scanning
//! (GitHub's `upload-sarif`) reads. One rule per transform, with its `pyslim explain`
//! text as the help; one result per rewrite with its file, line and column, and the
//! rewrite itself as a SARIF fix (the replacements that rewrite alone makes); files
//! that could not be processed are tool execution notifications.
//!
//! Columns are counted in Unicode code points, as in the text output (`columnKind`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use pyslim_transforms::registry;

use crate::engine::{self, FileJob, FixKey, FixPolicy, ReportedFix, applicability_name};
use crate::load::{FileError, FileOutcome, Workspace};

use super::findings::RunReport;

/// Where the SARIF 2.1.0 schema is published; the log names it as `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One replacement of a fix, in the original file's coordinates: the text between
/// `start` and `end` (1-based line and column, the end exclusive; equal for an
/// insertion) becomes `inserted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// First replaced character: (line, column).
    pub start: (usize, usize),
    /// The character after the last replaced one: (line, column).
    pub end: (usize, usize),
    /// The text put in its place.
    pub inserted: String,
}

/// Each fix's own replacements, by the file's path as shown and the fix's key.
pub type Fixes = BTreeMap<(String, FixKey), Vec<Replacement>>;

/// The replacements each applied fix makes on its own: the fix loop run again on the
/// file with only that fix allowed (a file with one fix uses its rewrite as it is), then
/// the difference with the original.
pub fn fixes(workspace: &Workspace, outcomes: &[FileOutcome], unsafe_fixes: bool) -> Fixes {
    let mut out = Fixes::new();
    for outcome in outcomes {
        let Ok(rewrite) = &outcome.result else {
            continue;
        };
        if rewrite.applied.is_empty() {
            // Nothing to replace, and the text of a file with nothing applied is not
            // held.
            continue;
        }
        let file = &workspace.files[outcome.index];
        let original = file.text();
        for fix in &rewrite.applied {
            let output = if rewrite.applied.len() == 1 {
                rewrite.output.clone()
            } else {
                let keep = |k: &FixKey| *k == fix.key;
                let policy = FixPolicy {
                    unsafe_fixes,
                    keep: Some(&keep),
                };
                let job = FileJob {
                    info: &file.info,
                    settings: &file.settings,
                    transforms: &file.transforms,
                    facts: &workspace.facts,
                };
                engine::rewrite(original, &job, &policy)
                    .ok()
                    .and_then(|r| r.output)
            };
            if let Some(output) = output {
                out.insert(
                    (file.info.path.clone(), fix.key.clone()),
                    replacements(original, &output),
                );
            }
        }
    }
    out
}

/// The replacements that turn `original` into `output`: each changed run of lines,
/// narrowed to the characters that differ.
pub fn replacements(original: &str, output: &str) -> Vec<Replacement> {
    let old_starts = line_starts(original);
    let new_starts = line_starts(output);
    let diff = similar::TextDiff::from_lines(original, output);
    let mut out = Vec::new();
    for op in diff.ops() {
        if op.tag() == similar::DiffTag::Equal {
            continue;
        }
        let (old, new) = (op.old_range(), op.new_range());
        let mut old_text = &original[old_starts[old.start]..old_starts[old.end]];
        let mut new_text = &output[new_starts[new.start]..new_starts[new.end]];
        let mut start = old_starts[old.start];
        // Narrow to what differs: the common prefix and suffix stay.
        let prefix = common_prefix(old_text, new_text);
        start += prefix;
        old_text = &old_text[prefix..];
        new_text = &new_text[prefix..];
        let suffix = common_suffix(old_text, new_text);
        old_text = &old_text[..old_text.len() - suffix];
        new_text = &new_text[..new_text.len() - suffix];
        out.push(Replacement {
            start: line_column(original, start),
            end: line_column(original, start + old_text.len()),
            inserted: new_text.to_string(),
        });
    }
    out
}

/// Byte offsets of each line's start, plus the text's length at the end.
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if starts.last() != Some(&text.len()) {
        starts.push(text.len());
    }
    starts
}

/// Bytes at the start of both texts that are equal, on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

/// Bytes at the end of both texts that are equal, on a character boundary.
fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// The 1-based line and column (in code points) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// A path as shown to the user, as a relative URI reference: `/` separators, and
/// every byte but the unreserved ones percent-encoded.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn region((line, column): (usize, usize), end: Option<(usize, usize)>) -> Value {
    let mut region = json!({"startLine": line, "startColumn": column});
    if let Some((end_line, end_column)) = end {
        region["endLine"] = json!(end_line);
        region["endColumn"] = json!(end_column);
    }
    region
}

fn rules() -> Vec<Value> {
    registry::TRANSFORMS
        .iter()
        .map(|t| {
            json!({
                "id": t.name(),
                "name": t.name(),
                "shortDescription": {"text": t.summary()},
                "fullDescription": {"text": t.summary()},
                "help": {"text": t.documentation(), "markdown": t.documentation()},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"applicability": t.applicability()},
            })
        })
        .collect()
}

fn result(path: &str, fix: &ReportedFix, replacements: Option<&Vec<Replacement>>) -> Value {
    let rule_index = registry::names()
        .iter()
        .position(|n| *n == fix.key.transform);
    let location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(path)},
            "region": region((fix.line, fix.column), None),
        }
    });
    let mut result = json!({
        "ruleId": fix.key.transform,
        "level": "warning",
        "message": {"text": fix.message},
        "locations": [location],
        "properties": {
            "applicability": applicability_name(fix.applicability),
            "impact": fix.impact,
        },
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    if let Some(replacements) = replacements.filter(|r| !r.is_empty()) {
        let replacements: Vec<Value> = replacements
            .iter()
            .map(|r| {
                json!({
                    "deletedRegion": region(r.start, Some(r.end)),
                    "insertedContent": {"text": r.inserted},
                })
            })
            .collect();
        result["fixes"] = json!([{
            "description": {"text": format!(
                "{} rewrite ({})",
                fix.key.transform,
                applicability_name(fix.applicability)
            )},
            "artifactChanges": [{
                "artifactLocation": {"uri": uri(path)},
                "replacements": replacements,
            }],
        }]);
    }
    result
}

fn notification(error: &FileError) -> Value {
    let mut notification = json!({
        "level": "error",
        "message": {"text": error.message},
    });
    if !error.path.is_empty() {
        let mut physical = json!({"artifactLocation": {"uri": uri(&error.path)}});
        if let Some(line) = error.line {
            physical["region"] = region((line, error.column.unwrap_or(1)), None);
        }
        notification["locations"] = json!([{"physicalLocation": physical}]);
    }
    notification
}

/// The SARIF log of a `check` run; `fixes` from [`fixes`] (a result without its
/// replacements has no fix).
pub fn log(report: &RunReport, fixes: &Fixes) -> Value {
    let results: Vec<Value> = report
        .files
        .iter()
        .flat_map(|file| {
            file.fixes.iter().map(|fix| {
                result(
                    &file.path,
                    fix,
                    fixes.get(&(file.path.clone(), fix.key.clone())),
                )
            })
        })
        .collect();
    let notifications: Vec<Value> = report.errors.iter().map(notification).collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "pyslim",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(start: (usize, usize), end: (usize, usize), inserted: &str) -> Replacement {
        Replacement {
            start,
            end,
            inserted: inserted.to_string(),
        }
    }

    #[test]
    fn replacements_are_narrowed_to_what_differs() {
        assert_eq!(
            replacements(
                "a = 1\nx = sum([i for i in y])\n",
                "a = 1\nx = sum(i for i in y)\n"
            ),
            // The line's common prefix and suffix stay: `[i for i in y]` → `i for i in y`.
            [one((2, 9), (2, 23), "i for i in y")]
        );
    }

    /// Applies replacements (in order, none overlapping) to `text`.
    fn apply(text: &str, replacements: &[Replacement]) -> String {
        let offset = |(line, column): (usize, usize)| -> usize {
            let start = line_starts(text)[line - 1];
            start
                + text[start..]
                    .chars()
                    .take(column - 1)
                    .map(char::len_utf8)
                    .sum::<usize>()
        };
        let mut out = String::new();
        let mut at = 0;
        for r in replacements {
            out.push_str(&text[at..offset(r.start)]);
            out.push_str(&r.inserted);
            at = offset(r.end);
        }
        out.push_str(&text[at..]);
        out
    }

    #[test]
    fn an_added_import_is_an_insertion_and_columns_count_code_points() {
        let original = "\"\"\"Doc.\"\"\"\né = [1]\nz = 0\nq.pop(0)\n";
        let output =
            "\"\"\"Doc.\"\"\"\nfrom collections import deque\né = (1,)\nz = 0\nq.popleft()\n";
        let found = replacements(original, output);
        assert_eq!(apply(original, &found), output);
        assert_eq!(found.last(), Some(&one((4, 6), (4, 8), "left(")));
        assert_eq!(
            replacements("é = [1]\n", "é = (1,)\n"),
            [one((1, 5), (1, 8), "(1,)")]
        );
    }

    #[test]
    fn no_final_newline_and_crlf() {
        assert_eq!(
            replacements("x = [1]", "x = (1,)"),
            [one((1, 5), (1, 8), "(1,)")]
        );
        assert_eq!(
            replacements("a\r\nx = [1]\r\n", "a\r\nx = (1,)\r\n"),
            [one((2, 5), (2, 8), "(1,)")]
        );
    }

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(uri("pkg/mod.py"), "pkg/mod.py");
        assert_eq!(uri("my dir/ü.py"), "my%20dir/%C3%BC.py");
    }
}
