//! The fix loop on one file: parse → run transforms → pick non-overlapping fixes →
//! apply → re-parse, until nothing changes.
//!
//! Every pass is re-parsed, and a fix whose result does not parse is dropped and
//! reported as an internal error, never written.

use std::collections::HashMap;

use pyslim_transforms::observed::{Observed, ObservedList};
use pyslim_transforms::{
    Edit, FileContext, Finding, Settings, SourceModule, Subject, SyntaxError, parse,
    suppression::Suppressions,
};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::{
    FileJob, FixKey, FixPolicy, MAX_PASSES, Place, ReportedFix, ReportedNote, ReportedSaving,
    ReportedSubject, Rewrite,
};

/// Runs the fix loop on `text`. A syntax error in the input is returned as an error;
/// problems found later are reported in [`Rewrite::internal_errors`].
pub fn rewrite(text: &str, job: &FileJob, policy: &FixPolicy) -> Result<Rewrite, SyntaxError> {
    let original_index = std::sync::OnceLock::new();
    let locate = |offset: u32| {
        let index = original_index.get_or_init(|| LineIndex::from_source_text(text));
        let lc = index.line_column(TextSize::new(offset), text);
        (lc.line.get(), lc.column.get())
    };
    let mut result = Rewrite::default();
    let mut current: Option<String> = None;
    // Edits applied by each pass, in that pass's input coordinates, to map later
    // findings back to the original text.
    let mut history: Vec<Vec<(u32, u32, u32)>> = Vec::new();

    for pass in 0..=MAX_PASSES {
        // The pass borrows the current text; it hands back the next text, if any.
        let source = current.take();
        let next = run_pass(
            pass,
            text,
            source.as_deref().unwrap_or(text),
            job,
            policy,
            &mut result,
            &mut history,
            locate,
        )?;
        match next {
            Some(output) => current = Some(output),
            None => {
                current = source;
                break;
            }
        }
    }
    result.output = current;
    Ok(result)
}

/// One pass of the loop: returns the rewritten text, or `None` when nothing applied.
#[allow(clippy::too_many_arguments)] // the loop's state, passed down once per pass
fn run_pass(
    pass: usize,
    original: &str,
    text: &str,
    job: &FileJob,
    policy: &FixPolicy,
    result: &mut Rewrite,
    history: &mut Vec<Vec<(u32, u32, u32)>>,
    locate: impl Fn(u32) -> (usize, usize) + Copy,
) -> Result<Option<String>, SyntaxError> {
    {
        let module = parse(text)?;
        let mut candidates = Vec::new();
        let mut reported: HashMap<FixKey, ReportedFix> = HashMap::new();
        // Built on first need: most files have nothing to report.
        let suppressions = std::sync::OnceLock::new();
        let suppressed = |offset: TextSize, transform: &str| {
            suppressions
                .get_or_init(|| Suppressions::from_module(&module))
                .is_suppressed(&module, offset, transform)
        };
        // A profile's observations name the original file's lines; a later pass sees
        // them where those lines moved to.
        let moved;
        let settings = match &job.settings.observed {
            Some(observed) if !history.is_empty() => {
                moved = Settings {
                    observed: Some(std::sync::Arc::new(move_observed(
                        observed,
                        &job.info.path,
                        original,
                        &module,
                        history,
                    ))),
                    ..job.settings.clone()
                };
                &moved
            }
            _ => job.settings,
        };
        for transform in job.transforms {
            let ctx = FileContext {
                module: &module,
                info: job.info,
                settings,
                project: job.facts.get(transform.name()).map(|b| b.as_ref()),
            };
            let output = transform.run(&ctx);
            for finding in output.findings {
                if !suppressed(finding.range.start(), finding.transform) {
                    let key = FixKey {
                        transform: finding.transform,
                        offset: to_original(finding.range.start().to_u32(), history),
                    };
                    // Reported in this pass's coordinates mapped back, before this
                    // pass's own edits join the history.
                    reported.insert(key.clone(), report(&key, &finding, locate, history));
                    candidates.push((key, finding));
                }
            }
            if pass == 0 {
                for note in output.notes {
                    if !suppressed(note.range.start(), note.transform) {
                        let (line, column) = module.line_column(note.range.start());
                        result.notes.push(ReportedNote {
                            transform: note.transform,
                            line,
                            column,
                            reason: note.reason,
                        });
                    }
                }
            }
        }
        // Withheld: unsafe without `--unsafe`. Fixes the caller does not keep (the
        // tests or a profile dropped them) are simply not applied.
        let (applicable, withheld): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|(_, finding)| policy.applicable(finding));
        let allowed: Vec<_> = applicable
            .into_iter()
            .filter(|(key, _)| policy.keeps(key))
            .collect();
        if pass == 0 {
            result.withheld = withheld
                .iter()
                .filter_map(|(k, _)| reported.get(k).cloned())
                .collect();
        }
        let chosen = non_overlapping(allowed);
        if chosen.is_empty() {
            return Ok(None);
        }
        if pass == MAX_PASSES {
            result.internal_errors.push(format!(
                "the fix loop did not settle after {MAX_PASSES} passes; the last {} fixes were not applied",
                chosen.len()
            ));
            return Ok(None);
        }
        let (output, kept) = apply_checked(&module, chosen, &mut result.internal_errors, locate);
        if kept.is_empty() {
            return Ok(None);
        }
        let mut edits: Vec<(u32, u32, u32)> = kept
            .iter()
            .flat_map(|(_, f)| f.fix.edits().iter())
            .map(|e| {
                (
                    e.start().to_u32(),
                    e.end().to_u32(),
                    e.content().map_or(0, |c| c.len() as u32),
                )
            })
            .collect();
        edits.sort_unstable();
        history.push(edits);
        result
            .applied
            .extend(kept.iter().filter_map(|(k, _)| reported.remove(k)));
        Ok(Some(output))
    }
}

fn report(
    key: &FixKey,
    finding: &Finding,
    locate: impl Fn(u32) -> (usize, usize),
    history: &[Vec<(u32, u32, u32)>],
) -> ReportedFix {
    let (line, column) = locate(key.offset);
    let place = |range: TextRange| {
        let start = to_original(range.start().to_u32(), history);
        let end = to_original(range.end().to_u32(), history).max(start);
        Place {
            line: locate(start).0,
            start,
            end,
        }
    };
    let subject = match &finding.saving.subject {
        Subject::Class { qualname, slots } => ReportedSubject::Class {
            qualname: qualname.clone(),
            slots: slots.clone(),
        },
        Subject::Lists { created, filled } => ReportedSubject::Lists {
            created: place(*created),
            filled: filled.iter().map(|r| place(*r)).collect(),
        },
        Subject::Transient { range } => ReportedSubject::Transient { at: place(*range) },
        Subject::Queue { created, calls } => ReportedSubject::Queue {
            created: place(*created),
            calls: calls.iter().map(|r| place(*r)).collect(),
        },
    };
    ReportedFix {
        key: key.clone(),
        line,
        column,
        message: finding.message.clone(),
        applicability: finding.fix.applicability(),
        impact: finding.impact(),
        saving: ReportedSaving {
            subject,
            per_unit: finding.saving.per_unit,
        },
    }
}

/// Picks fixes in source order, skipping any that touches a range an earlier one edits;
/// skipped fixes are found again on the next pass, against the updated text.
fn non_overlapping(mut candidates: Vec<(FixKey, Finding)>) -> Vec<(FixKey, Finding)> {
    candidates.sort_by_key(|(key, f)| (f.fix.min_start(), f.range.start(), key.clone()));
    let mut taken: Vec<(TextSize, TextSize)> = Vec::new();
    let mut chosen = Vec::new();
    for (key, finding) in candidates {
        let clashes = finding.fix.edits().iter().any(|e| {
            taken.iter().any(|&(s, end)| {
                // Two insertions at one point would make their order arbitrary.
                (e.start() < end && s < e.end())
                    || (e.start() == s && e.end() == end)
                    || (e.start() == e.end() && s < e.start() && e.start() < end)
                    || (s == end && e.start() < s && s < e.end())
            })
        });
        if !clashes {
            taken.extend(finding.fix.edits().iter().map(|e| (e.start(), e.end())));
            chosen.push((key, finding));
        }
    }
    chosen
}

/// Applies `chosen` to the module's text. When the result does not parse, finds the
/// fixes whose result alone does not parse, drops them as internal errors and applies
/// the rest.
fn apply_checked(
    module: &SourceModule,
    chosen: Vec<(FixKey, Finding)>,
    errors: &mut Vec<String>,
    locate: impl Fn(u32) -> (usize, usize),
) -> (String, Vec<(FixKey, Finding)>) {
    let source = module.source();
    let all = apply_edits(source, chosen.iter().flat_map(|(_, f)| f.fix.edits()));
    if parse(&all).is_ok() {
        return (all, chosen);
    }
    let mut kept = Vec::new();
    for (key, finding) in chosen {
        let alone = apply_edits(source, finding.fix.edits().iter());
        match parse(&alone) {
            Ok(_) => kept.push((key, finding)),
            Err(err) => {
                let (line, column) = locate(key.offset);
                let error = format!(
                    "internal error: the {} fix at {line}:{column} produced invalid syntax ({err}); dropped",
                    key.transform
                );
                // A later pass proposes the same fix again when other fixes applied.
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
        }
    }
    let rest = apply_edits(source, kept.iter().flat_map(|(_, f)| f.fix.edits()));
    if parse(&rest).is_ok() {
        (rest, kept)
    } else {
        errors.push(format!(
            "internal error: {} fixes are valid one by one but not together; none applied in this pass",
            kept.len()
        ));
        (source.to_string(), Vec::new())
    }
}

/// Applies non-overlapping edits to `source`.
pub fn apply_edits<'e>(source: &str, edits: impl Iterator<Item = &'e Edit>) -> String {
    let mut edits: Vec<&Edit> = edits.collect();
    edits.sort_by_key(|e| (e.start(), e.end()));
    let mut out = String::with_capacity(source.len() + 64);
    let mut at = 0usize;
    for edit in edits {
        let (start, end) = (edit.start().to_usize(), edit.end().to_usize());
        out.push_str(&source[at..start]);
        out.push_str(edit.content().unwrap_or(""));
        at = end;
    }
    out.push_str(&source[at..]);
    out
}

/// `observed`'s lines of `path` in the current pass's text (`module`), moved through the
/// earlier passes' edits.
fn move_observed(
    observed: &Observed,
    path: &str,
    original: &str,
    module: &SourceModule,
    history: &[Vec<(u32, u32, u32)>],
) -> Observed {
    let Some(lists) = observed.lists.get(path) else {
        return Observed::default();
    };
    let index = LineIndex::from_source_text(original);
    let moved = lists
        .iter()
        .map(|list| {
            let start = index.line_start(
                ruff_source_file::OneIndexed::new(list.line)
                    .unwrap_or(ruff_source_file::OneIndexed::MIN),
                original,
            );
            let now = from_original(start.to_u32(), history);
            ObservedList {
                line: module.line_column(TextSize::new(now)).0,
                ..*list
            }
        })
        .collect();
    Observed {
        lists: std::iter::once((path.to_string(), moved)).collect(),
    }
}

/// Maps an offset of the original text forward through the passes in `history`: an
/// offset inside replaced text goes to the start of its replacement.
fn from_original(mut offset: u32, history: &[Vec<(u32, u32, u32)>]) -> u32 {
    for edits in history {
        let mut delta: i64 = 0;
        let mut inside = None;
        for &(start, end, new_len) in edits {
            if start > offset {
                break;
            }
            if end <= offset {
                // Before it (an insertion right at it too: the text moves behind it).
                delta += new_len as i64 - (end - start) as i64;
            } else {
                inside = Some(start);
                break;
            }
        }
        offset = (i64::from(inside.unwrap_or(offset)) + delta) as u32;
    }
    offset
}

/// Maps an offset in the text after the passes in `history` back to the original text.
/// An offset inside replaced text maps to the start of what it replaced.
fn to_original(mut offset: u32, history: &[Vec<(u32, u32, u32)>]) -> u32 {
    for edits in history.iter().rev() {
        let mut delta: i64 = 0;
        let mut mapped = None;
        for &(start, end, new_len) in edits {
            let out_start = (start as i64 + delta) as u32;
            let out_end = out_start + new_len;
            if offset < out_start {
                break;
            }
            if offset < out_end || (new_len == 0 && offset == out_start) {
                mapped = Some(start);
                break;
            }
            delta += new_len as i64 - (end - start) as i64;
        }
        offset = mapped.unwrap_or_else(|| (offset as i64 - delta) as u32);
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::to_original;

    #[test]
    fn maps_offsets_back_through_passes() {
        // Pass 1 replaced 2..4 ("[ ") with "(" (one byte shorter).
        let history = vec![vec![(2, 4, 1)]];
        assert_eq!(to_original(0, &history), 0);
        assert_eq!(to_original(2, &history), 2);
        assert_eq!(to_original(3, &history), 4);
        assert_eq!(to_original(10, &history), 11);
    }

    #[test]
    fn maps_forward_through_passes() {
        use super::from_original;
        // Pass 1 inserted 13 bytes at 0 (an import line) and replaced 20..22 by 1 byte.
        let history = vec![vec![(0, 0, 13), (20, 22, 1)]];
        assert_eq!(from_original(0, &history), 13);
        assert_eq!(from_original(10, &history), 23);
        assert_eq!(from_original(21, &history), 33);
        assert_eq!(from_original(30, &history), 42);
    }

    #[test]
    fn maps_through_insertions() {
        // An insertion of 10 bytes at 5.
        let history = vec![vec![(5, 5, 10)]];
        assert_eq!(to_original(4, &history), 4);
        assert_eq!(to_original(7, &history), 5);
        assert_eq!(to_original(15, &history), 5);
        assert_eq!(to_original(16, &history), 6);
    }
}
