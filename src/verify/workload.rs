//! The workload before and after the kept rewrites (`rewrite --verify --workload`):
//! plain runs for peak RSS and output, metered runs for the traced peak and the
//! allocation sites at it, `repeat` of each per side, before and after side by side.
//!
//! The output (stdout) must be the same after as before; when it differs, the
//! rewrites are searched for the culprits as for a failing test and dropped. A
//! transform whose measured effect on the traced peak is a real increase is dropped
//! too. The noise rule is the tests' (at least 3 runs per side, max(4 KiB, 3x spread)).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use pyslim_transforms::Impact;

use super::bisect::{self, Purpose};
use super::pipeline::Verifier;
use super::{Blame, SkippedRun};
use crate::python::runner::{RunSpec, WorkloadOutcome};
use crate::python::stats::Change;
use crate::python::worker::{MeterMode, Target};
use crate::python::{Candidate, Finished};

/// What to measure: the workload, and what a profile estimated per rewrite.
#[derive(Debug, Clone, Default)]
pub struct WorkloadRequest {
    /// The command line after `python`.
    pub argv: Vec<String>,
    /// Estimated bytes saved at the peak, by (file as shown, transform, offset).
    pub estimates: BTreeMap<(String, String, u32), u64>,
}

/// Live bytes at one line at the peak of a run (estimated from sampled allocations
/// with the native meter).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeakSite {
    /// `file:line`, relative to the project root when inside it.
    pub site: String,
    /// Bytes.
    pub bytes: u64,
}

/// One kept rewrite's figures on the workload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RewriteFigures {
    /// The file as shown.
    pub path: String,
    /// The line.
    pub line: usize,
    /// The transform.
    pub transform: String,
    /// Memory or time: a time rewrite has no memory estimate, and its measured change
    /// is shown only to say it costs nothing.
    pub impact: Impact,
    /// The profile's estimate of its saving at the peak, bytes.
    pub estimated: Option<u64>,
    /// The measured change of the traced peak with its transform's kept rewrites alone
    /// (when more than one transform was kept; else the whole change).
    pub measured: Option<Change>,
    /// How many kept rewrites `measured` covers: the rewrites of one transform are
    /// measured together, not one by one.
    pub together: usize,
}

/// How the output compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputCheck {
    /// Identical before and after in every run.
    Identical,
    /// It differs between two runs of the same code (timestamps, timings): not
    /// compared.
    Nondeterministic,
}

/// The workload before and after.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkloadReport {
    /// The command line after `python`.
    pub argv: Vec<String>,
    /// Runs per side and kind (plain and metered).
    pub runs_per_side: usize,
    /// Traced peak before/after (meter runs), bytes above the start.
    pub traced: Option<Change>,
    /// Peak RSS before/after (plain runs), bytes.
    pub rss: Option<Change>,
    /// Workload seconds before/after (plain runs), milliseconds.
    pub wall_ms: Option<Change>,
    /// The workload started processes (in a plain run before the rewrites): no figure
    /// covers them.
    pub started_processes: bool,
    /// How the output compared.
    pub output: OutputCheck,
    /// The largest sites at the peak, before.
    pub sites_before: Vec<PeakSite>,
    /// The same sites (and any new large ones) after.
    pub sites_after: Vec<PeakSite>,
    /// Whether the sites are estimates from sampled allocations.
    pub sites_estimated: bool,
    /// Per kept rewrite, largest estimate first.
    pub rewrites: Vec<RewriteFigures>,
    /// Per transform, when more than one: the traced peak with its rewrites alone.
    pub transforms: BTreeMap<String, Option<Change>>,
}

fn spec(label: String, argv: &[String], meter: MeterMode, v: &Verifier) -> RunSpec {
    let mut spec = RunSpec::new(
        label,
        Target::Workload {
            argv: argv.to_vec(),
        },
    );
    spec.meter = meter;
    spec.timeout = Some(v.timeout);
    spec.limit_basis = Some(v.timeout_basis.clone());
    spec
}

/// Runs on session 0 (before) and 1 (after) at once.
fn pair(
    v: &mut Verifier,
    after: &[Candidate],
    label: &str,
    meter: MeterMode,
    argv: &[String],
) -> Result<(Finished, Finished)> {
    let before_spec = spec(format!("workload before {label}"), argv, meter, v);
    let after_spec = spec(format!("workload after {label}"), argv, meter, v);
    let (first, second) = v.sessions.split_at_mut(1);
    let (s0, s1) = (&mut first[0], &mut second[0]);
    s0.apply(&[])?;
    s1.apply(after)?;
    crate::profile::both(|| s0.launch(before_spec), || s1.launch(after_spec))
}

/// Phase 6: plain runs (output, RSS, time), then metered runs (traced peak and sites),
/// then, when several transforms were kept, each alone; a transform whose rewrites
/// raise the peak is dropped.
pub fn run(v: &mut Verifier) -> Result<()> {
    let Some(request) = v.request.workload.clone() else {
        return Ok(());
    };
    let argv = request.argv.clone();
    let repeat = v.request.repeat.max(1);
    let Some(plain) = plain_runs(v, &argv, repeat)? else {
        return Ok(());
    };
    let kept = v.kept();
    let after = v.set(&kept);
    let (traced_before, traced_after) = metered_runs(v, &after, repeat, &argv)?;
    // Sites as `path:line` of the original files: the "after" copy's lines moved where
    // a rewrite added one (an import). Named now, while each copy holds what its
    // metered runs ran: the runs of each transform alone below rewrite the copies.
    let sites_before = sites(traced_before.first(), &|f, l| site_name(v, 0, f, l));
    let sites_after = sites(traced_after.first(), &|f, l| site_name(v, 1, f, l));
    let traced = change(peaks(&traced_before), peaks(&traced_after));
    let mut by_transform: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in &kept {
        by_transform
            .entry(v.candidates[*i].1.transform.to_string())
            .or_default()
            .push(*i);
    }
    let transforms = if by_transform.len() > 1 {
        each_alone(v, &by_transform, &peaks(&traced_before), repeat, &argv)?
    } else {
        by_transform
            .keys()
            .map(|name| (name.clone(), traced.clone()))
            .collect()
    };
    // The gate: a real increase drops the transform's rewrites.
    for (name, figure) in &transforms {
        if let Some(c) = figure
            && c.real
            && c.change > 0
        {
            for i in by_transform.get(name).cloned().unwrap_or_default() {
                v.drop_fix(i, Blame::WorkloadIncrease { change: c.change });
            }
        }
    }
    let rewrites = figures(v, &request, &by_transform, &transforms);
    let estimated = traced_before
        .first()
        .and_then(|r| {
            r.result
                .as_ref()?
                .traced
                .as_ref()
                .map(|t| t.meter == "native")
        })
        .unwrap_or(false);
    v.workload = Some(WorkloadReport {
        argv,
        runs_per_side: repeat,
        traced,
        rss: change(rss(&plain.before), rss(&plain.after)),
        wall_ms: change(wall(&plain.before), wall(&plain.after)),
        started_processes: plain
            .before
            .iter()
            .any(|r| r.result.as_ref().is_some_and(|r| r.started_processes)),
        output: plain.output,
        sites_before,
        sites_after,
        sites_estimated: estimated,
        rewrites,
        transforms,
    });
    Ok(())
}

/// The plain runs of each side, kept once their rewrites pass the workload.
struct PlainRuns {
    before: Vec<Finished>,
    after: Vec<Finished>,
    output: OutputCheck,
}

/// At least two plain runs per side (`repeat` when more), the output compared with the
/// first "before" run's: a run with rewrites that fails or changes it starts a search
/// for the culprits, which are dropped, and the runs start over with the others.
/// `None` when no rewrite is left.
fn plain_runs(v: &mut Verifier, argv: &[String], repeat: usize) -> Result<Option<PlainRuns>> {
    let mut kept = v.kept();
    if kept.is_empty() {
        return Ok(None);
    }
    let mut reference: Option<Vec<u8>> = None;
    let mut output = OutputCheck::Identical;
    let mut plain_before = Vec::new();
    let mut plain_after = Vec::new();
    while plain_before.len() < repeat.max(2) {
        let after = v.set(&kept);
        let label = format!("#{}", plain_before.len() + 1);
        let (before, after_run) = pair(v, &after, &label, MeterMode::Off, argv)?;
        if !matches!(before.workload_verdict(), WorkloadOutcome::Completed) {
            bail!(
                "the workload `python {}` failed without any rewrite: {}",
                argv.join(" "),
                cause(&before)
            );
        }
        if reference.is_none()
            && let Some(warning) = before
                .result
                .as_ref()
                .map(|r| r.modules.check("the workload"))
                .transpose()?
                .flatten()
        {
            crate::report::findings::warn(&warning)?;
        }
        let stdout = before.stdout.clone().unwrap_or_default();
        match &reference {
            None => reference = Some(stdout),
            Some(first) if *first != stdout => output = OutputCheck::Nondeterministic,
            Some(_) => {}
        }
        let broke = match after_run.workload_verdict() {
            WorkloadOutcome::Completed => {
                output == OutputCheck::Identical && reference.as_ref() != after_run.stdout.as_ref()
            }
            _ => true,
        };
        if broke {
            let blame = blame_of(&after_run, reference.as_deref(), output.clone());
            search(
                v,
                &kept,
                blame.unwrap_or(Blame::WorkloadOutput {
                    detail: "it changed".into(),
                }),
                argv,
                reference.clone(),
                output.clone(),
            )?;
            kept = v.kept();
            plain_before.clear();
            plain_after.clear();
            if kept.is_empty() {
                return Ok(None);
            }
            continue;
        }
        plain_before.push(before);
        plain_after.push(after_run);
    }
    Ok(Some(PlainRuns {
        before: plain_before,
        after: plain_after,
        output,
    }))
}

/// `repeat` metered runs per side, `after` applied on the second; a run that did not
/// complete with a traced peak is set aside as skipped.
fn metered_runs(
    v: &mut Verifier,
    after: &[Candidate],
    repeat: usize,
    argv: &[String],
) -> Result<(Vec<Finished>, Vec<Finished>)> {
    let mut traced_before = Vec::new();
    let mut traced_after = Vec::new();
    for n in 0..repeat {
        let label = format!("metered #{}", n + 1);
        let (before, after_run) = pair(v, after, &label, MeterMode::Peak, argv)?;
        for (run, side) in [(before, &mut traced_before), (after_run, &mut traced_after)] {
            if matches!(run.workload_verdict(), WorkloadOutcome::Completed)
                && run.result.as_ref().is_some_and(|r| r.traced.is_some())
            {
                side.push(run);
            } else {
                v.skipped.push(SkippedRun {
                    run: run.spec.label.clone(),
                    cause: cause(&run),
                });
            }
        }
    }
    Ok((traced_before, traced_after))
}

/// Each transform's rewrites alone against the same "before" peaks (`before`): the
/// workload's peak depends only on its own code, not on what ran before (unlike a
/// test's).
fn each_alone(
    v: &mut Verifier,
    by_transform: &BTreeMap<String, Vec<usize>>,
    before: &[u64],
    repeat: usize,
    argv: &[String],
) -> Result<BTreeMap<String, Option<Change>>> {
    let names: Vec<(String, Vec<usize>)> = by_transform.clone().into_iter().collect();
    let mut alone: BTreeMap<String, Vec<Finished>> = BTreeMap::new();
    for chunk in names.chunks(2) {
        for n in 0..repeat {
            for (name, run) in alone_runs(v, chunk, n, argv)? {
                alone.entry(name).or_default().push(run);
            }
        }
    }
    Ok(alone
        .into_iter()
        .map(|(name, runs)| (name, change(before.to_vec(), peaks(&runs))))
        .collect())
}

/// `file:line` of a site in session `n`'s copy, as the line of the original file.
fn site_name(v: &Verifier, n: usize, file: &str, line: usize) -> String {
    let session = &v.sessions[n];
    match super::reach::relative_to(std::path::Path::new(file), session.copy_root()) {
        Some(rel) => {
            let line = session
                .file_at(&rel)
                .map_or(line, |index| session.original_line(index, line));
            format!("{rel}:{line}")
        }
        None => format!("{file}:{line}"),
    }
}

/// The traced peaks of `runs`, bytes above the start.
fn peaks(runs: &[Finished]) -> Vec<u64> {
    runs.iter()
        .filter_map(|r| {
            r.result
                .as_ref()?
                .traced
                .as_ref()
                .map(|t| t.peak_above_start())
        })
        .collect()
}

/// The peak RSS of `runs`, bytes.
fn rss(runs: &[Finished]) -> Vec<u64> {
    runs.iter()
        .filter_map(|r| Some(r.result.as_ref()?.maxrss_kib * 1024))
        .collect()
}

/// The workload's time in `runs`, milliseconds.
fn wall(runs: &[Finished]) -> Vec<u64> {
    runs.iter()
        .filter_map(|r| Some((r.result.as_ref()?.seconds * 1000.0) as u64))
        .collect()
}

/// Before against after, when both sides have figures.
fn change(before: Vec<u64>, after: Vec<u64>) -> Option<Change> {
    (!before.is_empty() && !after.is_empty()).then(|| Change::new(&before, &after))
}

/// One metered run per transform in `chunk` (two at once, one per copy).
fn alone_runs(
    v: &mut Verifier,
    chunk: &[(String, Vec<usize>)],
    n: usize,
    argv: &[String],
) -> Result<Vec<(String, Finished)>> {
    let mut specs = chunk.iter().map(|(name, set)| {
        let label = format!("workload {name} alone #{}", n + 1);
        (
            name.clone(),
            v.set(set),
            spec(label, argv, MeterMode::Peak, v),
        )
    });
    let Some((name_a, set_a, spec_a)) = specs.next() else {
        return Ok(Vec::new());
    };
    let second_spec = specs.next();
    let (first, second) = v.sessions.split_at_mut(1);
    let (s0, s1) = (&mut first[0], &mut second[0]);
    s0.apply(&set_a)?;
    match second_spec {
        Some((name_b, set_b, spec_b)) => {
            s1.apply(&set_b)?;
            let (a, b) = crate::profile::both(|| s0.launch(spec_a), || s1.launch(spec_b))?;
            Ok(vec![(name_a, a), (name_b, b)])
        }
        None => Ok(vec![(name_a, s0.launch(spec_a)?)]),
    }
}

fn cause(run: &Finished) -> String {
    match run.workload_verdict() {
        WorkloadOutcome::Completed => "it completed".to_string(),
        WorkloadOutcome::Failed(c) | WorkloadOutcome::Inconclusive(c) => c,
    }
}

/// What a run with rewrites says against them: it failed, or its output changed.
fn blame_of(run: &Finished, reference: Option<&[u8]>, output: OutputCheck) -> Option<Blame> {
    match run.workload_verdict() {
        WorkloadOutcome::Completed => {
            let out = run.stdout.as_deref().unwrap_or_default();
            match reference {
                Some(reference) if output == OutputCheck::Identical && reference != out => {
                    Some(Blame::WorkloadOutput {
                        detail: first_difference(reference, out),
                    })
                }
                _ => None,
            }
        }
        WorkloadOutcome::Failed(cause) => Some(Blame::WorkloadOutput {
            detail: format!(
                "the workload failed: {}",
                cause.split("; last output:").next().unwrap_or(&cause)
            ),
        }),
        WorkloadOutcome::Inconclusive(cause) => Some(Blame::Inconclusive { cause }),
    }
}

/// `line 3 was "a" and is now "b"`.
fn first_difference(before: &[u8], after: &[u8]) -> String {
    let before = String::from_utf8_lossy(before);
    let after = String::from_utf8_lossy(after);
    for (n, (b, a)) in before.lines().zip(after.lines()).enumerate() {
        if b != a {
            return format!("line {} was {:?} and is now {:?}", n + 1, clip(b), clip(a));
        }
    }
    format!(
        "{} lines before, {} after",
        before.lines().count(),
        after.lines().count()
    )
}

fn clip(line: &str) -> String {
    line.chars().take(80).collect()
}

/// Drops the rewrites that make the workload fail or change its output.
fn search(
    v: &mut Verifier,
    kept: &[usize],
    blame: Blame,
    argv: &[String],
    reference: Option<Vec<u8>>,
    output: OutputCheck,
) -> Result<()> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in kept {
        groups.entry(v.candidates[*i].0).or_default().push(*i);
    }
    let found = bisect::drop_culprits(groups.into_values().collect(), blame, |set, purpose| {
        let candidates = v.set(set);
        let label = match purpose {
            Purpose::Confirm => format!("workload confirm ({} fixes)", set.len()),
            _ => format!("workload bisect ({} fixes)", set.len()),
        };
        let spec = spec(label, argv, MeterMode::Off, v);
        let session = &mut v.sessions[1];
        session.apply(&candidates)?;
        let run = session.launch(spec)?;
        Ok(blame_of(&run, reference.as_deref(), output.clone()))
    })?;
    for dropped in found.dropped {
        v.drop_fix(dropped.item, dropped.blame);
    }
    Ok(())
}

fn figures(
    v: &Verifier,
    request: &WorkloadRequest,
    by_transform: &BTreeMap<String, Vec<usize>>,
    transforms: &BTreeMap<String, Option<Change>>,
) -> Vec<RewriteFigures> {
    let mut out: Vec<RewriteFigures> = v
        .kept()
        .into_iter()
        .map(|i| {
            let fix = &v.fixes[i];
            let transform = fix.fix.key.transform.to_string();
            let together = by_transform.get(&transform).map_or(1, Vec::len);
            RewriteFigures {
                path: fix.path.clone(),
                line: fix.fix.line,
                impact: fix.fix.impact,
                estimated: match fix.fix.impact {
                    Impact::Time => None,
                    Impact::Memory => request
                        .estimates
                        .get(&(fix.path.clone(), transform.clone(), fix.fix.key.offset))
                        .copied(),
                },
                measured: transforms.get(&transform).cloned().flatten(),
                together,
                transform,
            }
        })
        .collect();
    out.sort_by(|a, b| b.estimated.cmp(&a.estimated).then(a.path.cmp(&b.path)));
    out
}

fn sites(run: Option<&Finished>, name: &dyn Fn(&str, usize) -> String) -> Vec<PeakSite> {
    let Some(result) = run.and_then(|r| r.result.as_ref()) else {
        return Vec::new();
    };
    result
        .peak_sites
        .iter()
        .take(12)
        .map(|(file, line, bytes, _)| PeakSite {
            site: name(file, *line as usize),
            bytes: *bytes,
        })
        .collect()
}
