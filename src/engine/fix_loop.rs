//! The fix loop on one file: parse → run transforms → pick non-overlapping fixes →
//! apply → re-parse, until nothing changes.
//!
//! Every pass is re-parsed, and a fix whose result does not parse is dropped and
//! reported as an internal error, never written.

use std::collections::{BTreeSet, HashMap};

use pyslim_transforms::fix::apply_edits;
use pyslim_transforms::observed::{Observed, ObservedList};
use pyslim_transforms::{
    FileContext, Finding, Settings, SourceModule, Subject, SyntaxError, parse,
    suppression::Suppressions,
};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::index::FirstPass;
use super::{
    FileJob, FixKey, FixPolicy, MAX_PASSES, Place, ReportedFix, ReportedNote, ReportedSaving,
    ReportedSubject, Rewrite,
};

/// Runs the fix loop on `text`. A syntax error in the input is returned as an error;
/// problems found later are reported in [`Rewrite::internal_errors`].
pub fn rewrite(text: &str, job: &FileJob, policy: &FixPolicy) -> Result<Rewrite, SyntaxError> {
    rewrite_from(text, job, policy, None, true)
}

/// [`rewrite`], with the first pass as far as the indexing parse ran it: the
/// transforms it ran are not run again, the pending ones finish on what they prepared
/// there, and the file is parsed again only when a fix applies. Without `notes`
/// (nobody shows them), [`Rewrite::notes`] stays empty.
pub fn rewrite_from(
    text: &str,
    job: &FileJob,
    policy: &FixPolicy,
    first: Option<&FirstPass>,
    notes: bool,
) -> Result<Rewrite, SyntaxError> {
    let original_index = std::sync::OnceLock::new();
    let locate = |offset: u32| {
        let index = original_index.get_or_init(|| LineIndex::from_source_text(text));
        let lc = index.line_column(TextSize::new(offset), text);
        (lc.line.get(), lc.column.get())
    };
    let mut state = Loop {
        original: text,
        job,
        policy,
        result: Rewrite::default(),
        history: Vec::new(),
        notes,
    };
    // Each pass's AST is dropped as soon as its transforms have run: their findings
    // own what they need, and a large file's AST is many times its text, so holding
    // one per pass while the later passes run multiplied a big file's peak.
    let outputs = match first {
        Some(first) => {
            let mut all = first.outputs.clone();
            for (position, prepared) in first.reporting(job.transforms, job.facts, job.info, notes)
            {
                let transform = job.transforms[position];
                let project = job.facts.get(transform.name()).map(|b| b.as_ref());
                let data = prepared.data.as_ref();
                let mut output = transform.finish(data, project, job.info, job.settings, text);
                if !notes {
                    output.notes.clear();
                }
                if output.findings.is_empty() && output.notes.is_empty() {
                    continue;
                }
                let at = |offset: TextSize| locate(offset.to_u32());
                let (findings, notes) = unsuppressed(&first.suppressions, output, at);
                all.push((position, findings, notes));
            }
            // Registry order, as a full pass reports them.
            all.sort_by_key(|(position, ..)| *position);
            all
        }
        None => {
            let module = parse(text)?;
            state.run_transforms(&module, job.settings, 0..job.transforms.len(), 0)
        }
    };
    let output = state.step(0, text, outputs, locate);
    Ok(state.finish(output))
}

/// One transform's findings and notes in one pass, with its position in the file's
/// transforms.
type Outputs = (usize, Vec<Finding>, Vec<ReportedNote>);

/// The loop's state across passes.
struct Loop<'a> {
    original: &'a str,
    job: &'a FileJob<'a>,
    policy: &'a FixPolicy<'a>,
    result: Rewrite,
    /// Edits applied by each pass, in that pass's input coordinates, to map later
    /// findings back to the original text.
    history: Vec<PassEdits>,
    /// Whether the first pass's notes are wanted.
    notes: bool,
}

impl<'a> Loop<'a> {
    fn finish(mut self, output: Option<String>) -> Rewrite {
        self.result.output = output;
        self.result
    }

    /// The settings for a later pass on `module`: a profile's observations name the
    /// original file's lines, and that pass sees them where those lines moved to.
    fn moved_settings(&self, module: &SourceModule) -> Option<Settings> {
        let job = self.job;
        let observed = job.settings.observed.as_ref()?;
        if self.history.is_empty() {
            return None;
        }
        Some(Settings {
            observed: Some(std::sync::Arc::new(move_observed(
                observed,
                &job.info.path,
                self.original,
                module,
                &self.history,
            ))),
            ..job.settings.clone()
        })
    }

    /// Runs the transforms at `positions` on `module` (the text of pass `pass`).
    fn run_transforms<'m>(
        &self,
        module: &'m SourceModule<'m>,
        settings: &'m Settings,
        positions: impl Iterator<Item = usize>,
        pass: usize,
    ) -> Vec<Outputs>
    where
        'a: 'm,
    {
        let job = self.job;
        // Built on first need: most files have nothing to report.
        let suppressions = std::sync::OnceLock::new();
        let mut out = Vec::new();
        for position in positions {
            let transform = job.transforms[position];
            let ctx = FileContext {
                module,
                info: job.info,
                settings,
                project: job.facts.get(transform.name()).map(|b| b.as_ref()),
                read_only: false,
            };
            let mut output = transform.run(&ctx);
            if pass > 0 || !self.notes {
                // Notes come from the first pass only.
                output.notes.clear();
            }
            if output.findings.is_empty() && output.notes.is_empty() {
                continue;
            }
            let suppressions = suppressions.get_or_init(|| Suppressions::from_module(module));
            let (findings, notes) =
                unsuppressed(suppressions, output, |offset| module.line_column(offset));
            out.push((position, findings, notes));
        }
        out
    }

    /// Applies the non-overlapping allowed fixes of `outputs` (found on `text`, the
    /// input of pass `pass`), then runs the next pass on the result, whose parse is also
    /// the check that the fixes left valid code.
    fn step(
        &mut self,
        pass: usize,
        text: &str,
        outputs: Vec<Outputs>,
        locate: impl Fn(u32) -> (usize, usize) + Copy,
    ) -> Option<String> {
        let mut candidates = Vec::new();
        let mut reported: HashMap<FixKey, ReportedFix> = HashMap::new();
        for (_, findings, notes) in outputs {
            for finding in findings {
                let key = FixKey {
                    transform: finding.transform,
                    offset: to_original(finding.range.start().to_u32(), &self.history),
                };
                // Reported in this pass's coordinates mapped back, before this pass's
                // own edits join the history.
                reported.insert(key.clone(), report(&key, &finding, locate, &self.history));
                candidates.push((key, finding));
            }
            if pass == 0 && self.notes {
                self.result.notes.extend(notes);
            }
        }
        // Withheld: unsafe without `--unsafe`. Fixes the caller does not keep (the
        // tests or a profile dropped them) are simply not applied.
        let (applicable, withheld): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|(_, finding)| self.policy.applicable(finding));
        let allowed: Vec<_> = applicable
            .into_iter()
            .filter(|(key, _)| self.policy.keeps(key))
            .collect();
        if pass == 0 {
            self.result.withheld = withheld
                .iter()
                .filter_map(|(k, _)| reported.get(k).cloned())
                .collect();
        }
        let chosen = non_overlapping(allowed);
        if chosen.is_empty() {
            return None;
        }
        if pass == MAX_PASSES {
            self.result.internal_errors.push(format!(
                "the fix loop did not settle after {MAX_PASSES} passes; the last {} fixes were not applied",
                chosen.len()
            ));
            return None;
        }
        let job = self.job;
        // Declared before the texts the next pass's module borrows, to outlive them.
        let moved;
        let all = apply_edits(text, chosen.iter().flat_map(|(_, f)| f.fix.edits()));
        // The common case: the result parses, and that parse is the next pass's.
        let next = match parse(&all) {
            Ok(module) => {
                self.applied(chosen, &mut reported);
                moved = self.moved_settings(&module);
                let settings = moved.as_ref().unwrap_or(job.settings);
                // Only the findings go on to the next pass: its AST is dropped here
                // (see `rewrite_from`).
                Ok(self.run_transforms(&module, settings, 0..job.transforms.len(), pass + 1))
            }
            Err(_) => Err(chosen),
        };
        let next = next.map(|outputs| self.step(pass + 1, &all, outputs, locate));
        let chosen = match next {
            Ok(next) => return Some(next.unwrap_or(all)),
            Err(chosen) => chosen,
        };
        drop(all);
        let kept = isolate(text, chosen, &mut self.result.internal_errors, locate);
        if kept.is_empty() {
            return None;
        }
        let moved_rest;
        let rest = apply_edits(text, kept.iter().flat_map(|(_, f)| f.fix.edits()));
        let next = match parse(&rest) {
            Ok(module) => {
                self.applied(kept, &mut reported);
                moved_rest = self.moved_settings(&module);
                let settings = moved_rest.as_ref().unwrap_or(job.settings);
                Ok(self.run_transforms(&module, settings, 0..job.transforms.len(), pass + 1))
            }
            Err(_) => Err(kept.len()),
        };
        let next = next.map(|outputs| self.step(pass + 1, &rest, outputs, locate));
        match next {
            Ok(next) => Some(next.unwrap_or(rest)),
            Err(kept) => {
                self.result.internal_errors.push(format!(
                    "internal error: {kept} fixes are valid one by one but not together; none applied in this pass"
                ));
                None
            }
        }
    }

    /// Records `kept` as applied by the current pass.
    fn applied(
        &mut self,
        kept: Vec<(FixKey, Finding)>,
        reported: &mut HashMap<FixKey, ReportedFix>,
    ) {
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
        self.history.push(PassEdits::new(edits));
        self.result
            .applied
            .extend(kept.iter().filter_map(|(k, _)| reported.remove(k)));
    }
}

/// `output`'s findings and notes that no suppression comment covers, the notes placed
/// at the lines and columns `locate` gives for offsets of the text they were found in.
pub(super) fn unsuppressed(
    suppressions: &Suppressions,
    output: pyslim_transforms::Output,
    locate: impl Fn(TextSize) -> (usize, usize),
) -> (Vec<Finding>, Vec<ReportedNote>) {
    let suppressed = |offset: TextSize, transform: &str| {
        suppressions.is_suppressed(|| locate(offset).0, transform)
    };
    let findings = output
        .findings
        .into_iter()
        .filter(|f| !suppressed(f.range.start(), f.transform))
        .collect();
    let notes = output
        .notes
        .into_iter()
        .filter(|n| !suppressed(n.range.start(), n.transform))
        .map(|note| {
            let (line, column) = locate(note.range.start());
            ReportedNote {
                transform: note.transform,
                line,
                column,
                reason: note.reason,
            }
        })
        .collect();
    (findings, notes)
}

fn report(
    key: &FixKey,
    finding: &Finding,
    locate: impl Fn(u32) -> (usize, usize),
    history: &[PassEdits],
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
        Subject::Class {
            qualname,
            slots,
            needs,
        } => ReportedSubject::Class {
            qualname: qualname.clone(),
            slots: slots.clone(),
            needs: needs.clone(),
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
    // The ranges of the chosen fixes' edits, by start: a range that clashes with an
    // edit starts at most `longest` before it, so only those are compared (a file with
    // thousands of fixes would otherwise compare each with all taken before it).
    let mut taken: BTreeSet<(TextSize, TextSize)> = BTreeSet::new();
    let mut longest = TextSize::default();
    let mut chosen = Vec::new();
    for (key, finding) in candidates {
        let clashes = finding.fix.edits().iter().any(|e| {
            let from = (
                e.start().checked_sub(longest).unwrap_or_default(),
                TextSize::default(),
            );
            let to = (e.end(), TextSize::from(u32::MAX));
            taken.range(from..=to).any(|&(s, end)| {
                // Two insertions at one point would make their order arbitrary.
                (e.start() < end && s < e.end())
                    || (e.start() == s && e.end() == end)
                    || (e.start() == e.end() && s < e.start() && e.start() < end)
                    || (s == end && e.start() < s && s < e.end())
            })
        });
        if !clashes {
            for e in finding.fix.edits() {
                taken.insert((e.start(), e.end()));
                longest = longest.max(e.end() - e.start());
            }
            chosen.push((key, finding));
        }
    }
    chosen
}

/// The fixes of `chosen` whose result alone parses; the others are dropped as internal
/// errors (the fixes applied together on `source` did not parse).
fn isolate(
    source: &str,
    chosen: Vec<(FixKey, Finding)>,
    errors: &mut Vec<String>,
    locate: impl Fn(u32) -> (usize, usize),
) -> Vec<(FixKey, Finding)> {
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
    kept
}

/// `observed`'s lines of `path` in the current pass's text (`module`), moved through the
/// earlier passes' edits.
fn move_observed(
    observed: &Observed,
    path: &str,
    original: &str,
    module: &SourceModule,
    history: &[PassEdits],
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

/// The edits one pass applied, sorted by start, in that pass's input coordinates:
/// (start, end, length of the new text).
pub(super) struct PassEdits {
    edits: Vec<(u32, u32, u32)>,
    /// Where each edit's new text starts in the pass's output, when these never
    /// decrease (edits that do not overlap): an offset is then mapped back by a binary
    /// search instead of a walk over the edits before it (thousands of fixes in a file
    /// made every later finding's mapping a walk over thousands of edits).
    out_starts: Option<Vec<u32>>,
    /// How much the edits before each index changed the length; `len() + 1` entries.
    deltas: Vec<i64>,
}

impl PassEdits {
    fn new(edits: Vec<(u32, u32, u32)>) -> Self {
        let mut deltas = Vec::with_capacity(edits.len() + 1);
        let mut out_starts = Vec::with_capacity(edits.len());
        let mut delta: i64 = 0;
        for &(start, end, new_len) in &edits {
            deltas.push(delta);
            out_starts.push((start as i64 + delta) as u32);
            delta += new_len as i64 - (end - start) as i64;
        }
        deltas.push(delta);
        // Edits that do not overlap land in order: each starts at or after the end of
        // the one before, so its new text starts at or after that one's.
        let monotonic = edits.windows(2).all(|w| w[0].1 <= w[1].0);
        PassEdits {
            edits,
            out_starts: monotonic.then_some(out_starts),
            deltas,
        }
    }

    /// `offset` of this pass's output in its input ([`to_original`] for one pass).
    fn back(&self, offset: u32) -> u32 {
        let Some(out_starts) = &self.out_starts else {
            return self.back_by_walk(offset);
        };
        // Edits starting before `offset`, and those starting at it too.
        let before = out_starts.partition_point(|&s| s < offset);
        let through = out_starts.partition_point(|&s| s <= offset);
        if before < through {
            // The first edit whose new text starts right at `offset`.
            return self.edits[before].0;
        }
        if before > 0 && offset < out_starts[before - 1] + self.edits[before - 1].2 {
            return self.edits[before - 1].0;
        }
        (offset as i64 - self.deltas[through]) as u32
    }

    /// [`Self::back`] by walking the edits in order.
    fn back_by_walk(&self, offset: u32) -> u32 {
        let mut delta: i64 = 0;
        for &(start, end, new_len) in &self.edits {
            let out_start = (start as i64 + delta) as u32;
            let out_end = out_start + new_len;
            if offset < out_start {
                break;
            }
            if offset < out_end || (new_len == 0 && offset == out_start) {
                return start;
            }
            delta += new_len as i64 - (end - start) as i64;
        }
        (offset as i64 - delta) as u32
    }
}

/// Maps an offset of the original text forward through the passes in `history`: an
/// offset inside replaced text goes to the start of its replacement.
fn from_original(mut offset: u32, history: &[PassEdits]) -> u32 {
    for pass in history {
        let mut delta: i64 = 0;
        let mut inside = None;
        for &(start, end, new_len) in &pass.edits {
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
fn to_original(offset: u32, history: &[PassEdits]) -> u32 {
    history
        .iter()
        .rev()
        .fold(offset, |offset, pass| pass.back(offset))
}

#[cfg(test)]
mod tests {
    use super::{PassEdits, to_original};

    #[test]
    fn maps_offsets_back_through_passes() {
        // Pass 1 replaced 2..4 ("[ ") with "(" (one byte shorter).
        let history = vec![PassEdits::new(vec![(2, 4, 1)])];
        assert_eq!(to_original(0, &history), 0);
        assert_eq!(to_original(2, &history), 2);
        assert_eq!(to_original(3, &history), 4);
        assert_eq!(to_original(10, &history), 11);
    }

    #[test]
    fn maps_forward_through_passes() {
        use super::from_original;
        // Pass 1 inserted 13 bytes at 0 (an import line) and replaced 20..22 by 1 byte.
        let history = vec![PassEdits::new(vec![(0, 0, 13), (20, 22, 1)])];
        assert_eq!(from_original(0, &history), 13);
        assert_eq!(from_original(10, &history), 23);
        assert_eq!(from_original(21, &history), 33);
        assert_eq!(from_original(30, &history), 42);
    }

    #[test]
    fn maps_through_insertions() {
        // An insertion of 10 bytes at 5.
        let history = vec![PassEdits::new(vec![(5, 5, 10)])];
        assert_eq!(to_original(4, &history), 4);
        assert_eq!(to_original(7, &history), 5);
        assert_eq!(to_original(15, &history), 5);
        assert_eq!(to_original(16, &history), 6);
    }

    #[test]
    fn the_binary_search_maps_back_as_the_walk_does() {
        // Sorted, non-overlapping edits of every kind (insertions, deletions,
        // replacements, touching ones), from a fixed pseudo-random sequence.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % u64::from(n)) as u32
        };
        for _ in 0..200 {
            let mut edits = Vec::new();
            let mut at = 0;
            for _ in 0..next(12) {
                let start = at + next(4);
                let end = start + next(3);
                edits.push((start, end, next(4)));
                at = end;
            }
            let pass = PassEdits::new(edits.clone());
            assert!(pass.out_starts.is_some(), "{edits:?}");
            for offset in 0..at + 10 {
                assert_eq!(
                    pass.back(offset),
                    pass.back_by_walk(offset),
                    "{edits:?} at {offset}"
                );
            }
        }
    }
}
