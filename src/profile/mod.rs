//! `pyslim profile`: runs the user's workload under measurement, finds which rewrite
//! candidates hold the memory at the peak, and writes a profile ([`schema::Profile`])
//! that `check --profile` and `rewrite --profile` rank and select by.
//!
//! Three runs of the workload, each a fresh worker on a working copy (never the user's
//! files):
//!
//! 1. peak: the allocation meter (native, or tracemalloc with the venv's own
//!    interpreter) finds the traced peak and the allocation sites at it;
//! 2. plain: nothing measured inside the process; its wall time, peak RSS and output
//!    are the workload's own;
//! 3. census and probes: the meter again, on a copy instrumented with probes (the
//!    largest list each consumed-once comprehension builds, the front operations on
//!    queue candidates) and with every project class's attribute writes watched; when
//!    traced memory first reaches 99.5% of the peak run's peak, a census of the heap
//!    is taken (instances per project class, lists per allocating line with their
//!    element types). Running twice is how the census lands at the peak without keeping
//!    every allocation's history (memray's way).
//!
//! With the native meter, the census run starts beside the peak run and is paced
//! behind it ([`crate::python::pace`]: it never climbs past the peak the peak run has
//! published, so it is still below the peak when the final figure arrives), and the
//! plain run follows the peak run: two workers at a time, and no core idles while the
//! census run works. With tracemalloc, the plain and peak runs go side by side and the
//! census run after them, at the level the peak run found.
//!
//! Then every candidate of every transform (safe and unsafe) gets the quantity it acts
//! on and an estimated saving at the peak ([`estimate`]).

pub mod estimate;
pub mod schema;
pub mod select;
pub mod size;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use std::sync::Arc;

use pyslim_transforms::PythonVersion;
use pyslim_transforms::instrument::{Hook, ProbeAt, instrumented_copy, probe_edits};
use pyslim_transforms::observed::{Observed, ObservedElements, ObservedList};
use ruff_text_size::{TextRange, TextSize};

use crate::engine::{self, Facts, FixPolicy, ReportedFix, ReportedSubject};
use crate::load::ProjectFile;
use crate::python::runner::{Finished, RunSpec, WorkloadOutcome};
use crate::python::worker::{CensusSpec, Follow, MeterMode, Target};
use crate::python::{PythonInfo, Runner, pace, signals, workcopy};
use estimate::{Evidence, Proposed, RawAttributes, RawCensus, RawProbes};
use schema::{Profile, Site, WorkloadInfo};

/// What to profile and how.
#[derive(Debug, Clone)]
pub struct ProfileRequest {
    /// The project root: copied as the working copy; the workload runs there.
    pub root: PathBuf,
    /// The venv given by `--venv` or `[verify] venv` (else found as users expect).
    pub venv: Option<PathBuf>,
    /// The workload's command line after `python` (see [`workload_argv`]); `None`: the
    /// test suite.
    pub workload: Option<Vec<String>>,
    /// pytest arguments, when the test suite is the workload.
    pub pytest_args: Vec<String>,
    /// The limit per run the user set; `None`: 600 s for the first run, then derived
    /// from its measured time.
    pub timeout: Option<Duration>,
    /// Stop instead of falling back to the venv's interpreter.
    pub require_embedded: bool,
    /// Show progress on stderr (when it is a terminal).
    pub progress: bool,
    /// The pyslim binary providing `__worker` (default: the current executable).
    pub worker_exe: Option<PathBuf>,
}

/// Splits `--workload "bench.py --n 200000"` or `"-m app.bench"` as a shell would and
/// resolves a script path against `cwd` (as `python bench.py` from there would): a
/// script inside `root` is named relative to it (it runs in the working copy), one
/// outside by its absolute path.
pub fn workload_argv(text: &str, cwd: &Path, root: &Path) -> Result<Vec<String>> {
    let mut argv = shell_words::split(text)
        .with_context(|| format!("cannot read the workload {text:?} as a command line"))?;
    match argv.first().map(String::as_str) {
        None => bail!("the workload is empty: give a script (`bench.py --n 9`) or `-m module`"),
        Some("-m") => {
            if argv.len() < 2 {
                bail!("the workload {text:?} names no module after -m");
            }
        }
        Some(script) if script.starts_with('-') => bail!(
            "the workload {text:?} starts with the option {script}: give a script or `-m module`"
        ),
        Some(script) => {
            let path = cwd.join(script);
            if !path.is_file() {
                bail!("the workload script {} does not exist", path.display());
            }
            let path = std::path::absolute(&path).unwrap_or(path);
            let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
            argv[0] = match path.strip_prefix(&root) {
                Ok(inside) => inside.to_string_lossy().into_owned(),
                Err(_) => path.to_string_lossy().into_owned(),
            };
        }
    }
    Ok(argv)
}

/// Every candidate fix with its file index, from the fix loop with unsafe fixes
/// allowed (what `check --unsafe` lists).
pub fn candidates(files: &[ProjectFile], facts: &Facts) -> Vec<(usize, ReportedFix)> {
    let policy = FixPolicy {
        unsafe_fixes: true,
        keep: None,
    };
    collect(engine::rewrite_all(files, facts, &policy, true))
}

/// What a census saw, as the transforms read it: the lists that held only floats, or
/// only ints, by the line that allocated them, keyed by each file's shown path.
pub fn observed(census: &schema::Census, files: &[ProjectFile], root: &Path) -> Observed {
    let shown: BTreeMap<String, String> = files
        .iter()
        .filter_map(|f| Some((relative_path(&f.path, root)?, f.info.path.clone())))
        .collect();
    let mut out = Observed::default();
    for site in &census.lists {
        let Some(path) = shown.get(&site.path) else {
            continue;
        };
        let kinds: Vec<&str> = site.types.keys().map(String::as_str).collect();
        let elements = match (kinds.as_slice(), site.int_min, site.int_max) {
            (["float"], _, _) => ObservedElements::Floats,
            (["int"], Some(min), Some(max)) => ObservedElements::Ints { min, max },
            _ => continue,
        };
        out.lists
            .entry(path.clone())
            .or_default()
            .push(ObservedList {
                line: site.line,
                elements,
                count: site.elements,
            });
    }
    out
}

/// The candidates only observation makes: array rewrites of lists whose elements the
/// static analysis could not type but the census saw.
fn observed_candidates(
    files: &[ProjectFile],
    facts: &Facts,
    observed: &Arc<Observed>,
    known: &[(usize, ReportedFix)],
) -> Vec<(usize, ReportedFix)> {
    if observed.lists.is_empty() {
        return Vec::new();
    }
    let policy = FixPolicy {
        unsafe_fixes: true,
        keep: None,
    };
    let found = collect(engine::rewrite_all_observed(
        files, facts, &policy, observed,
    ));
    found
        .into_iter()
        .filter(|(index, fix)| !known.iter().any(|(i, k)| i == index && k.key == fix.key))
        .collect()
}

fn collect(
    results: Vec<std::result::Result<engine::Rewrite, pyslim_transforms::SyntaxError>>,
) -> Vec<(usize, ReportedFix)> {
    results
        .into_iter()
        .enumerate()
        .filter_map(|(index, result)| result.ok().map(|r| (index, r)))
        .flat_map(|(index, rewrite)| rewrite.applied.into_iter().map(move |f| (index, f)))
        .collect()
}

/// The test suite's or the workload's target.
fn target(request: &ProfileRequest) -> Target {
    match &request.workload {
        Some(argv) => Target::Workload { argv: argv.clone() },
        None => Target::Pytest {
            args: request.pytest_args.clone(),
            only: None,
        },
    }
}

/// An error once a run shows that the target imported the project only from another
/// copy ([`ModulesSeen::check`](crate::python::runner::ModulesSeen::check)): called on
/// the first run that ends, it stops before the runs still to come, every figure of
/// which would be about that copy. The warning when only some modules came from there.
fn require_project_code(run: &Finished) -> Result<Option<String>> {
    let Some(result) = &run.result else {
        return Ok(None);
    };
    result
        .modules
        .check(target_noun(&run.spec.target))
        .map_err(|e| anyhow::anyhow!("{e}; nothing was written"))
}

/// How reports name what runs: `the workload` or `the tests`.
fn target_noun(target: &Target) -> &'static str {
    match target {
        Target::Workload { .. } => "the workload",
        Target::Pytest { .. } => "the tests",
    }
}

/// Whether a run of the workload completed; the error says how it failed, with its
/// output's tail.
pub fn require_completed(run: &Finished) -> Result<()> {
    let cause = match &run.spec.target {
        Target::Workload { argv } => match run.workload_verdict() {
            WorkloadOutcome::Completed => return Ok(()),
            WorkloadOutcome::Failed(cause) | WorkloadOutcome::Inconclusive(cause) => {
                format!(
                    "the workload `python {}` failed in the {} run: {cause}",
                    argv.join(" "),
                    run.spec.label
                )
            }
        },
        Target::Pytest { .. } => match run.pytest_verdict() {
            crate::python::RunOutcome::Verdict(_) => return Ok(()),
            crate::python::RunOutcome::Inconclusive(cause) => format!(
                "the test suite, the workload when none is given, could not be run ({} run): {cause}",
                run.spec.label
            ),
        },
    };
    bail!("{cause}; nothing was written")
}

/// Runs the workload three times (see the module doc) and builds the profile.
pub fn run(request: &ProfileRequest, files: &[ProjectFile], facts: &Facts) -> Result<Profile> {
    let started = Instant::now();
    let root = std::path::absolute(&request.root).context("cannot resolve the project root")?;
    let python = crate::python::prepare(request.venv.as_deref(), &root, request.require_embedded)?;
    let proposed_fixes = candidates(files, facts);
    signals::install()?;
    let copy = workcopy::WorkingCopy::new(&root, &python.venv)?;
    let second = workcopy::WorkingCopy::new(&root, &python.venv)?;
    let scratch = tempfile::Builder::new()
        .prefix("pyslim-runs-")
        .tempdir()
        .context("cannot create a scratch folder")?;
    let target = target(request);
    let ctx = Subject {
        request,
        python: &python,
        root: &root,
        files,
        target: &target,
    };
    let copies = Copies([copy.root.clone(), second.root.clone()]);
    let runs = measure(&ctx, &copies, scratch.path(), &proposed_fixes)?;
    let profile = assemble(&ctx, &copies, facts, proposed_fixes, runs)?;
    drop(copy);
    drop(second);
    Ok(Profile {
        profile_seconds: started.elapsed().as_secs_f64(),
        ..profile
    })
}

/// What a profile is of: the request, the Python that runs it, the project.
struct Subject<'a> {
    request: &'a ProfileRequest,
    python: &'a PythonInfo,
    root: &'a Path,
    files: &'a [ProjectFile],
    target: &'a Target,
}

/// The plain, peak and census runs, on the two working copies.
fn measure(
    ctx: &Subject,
    copies: &Copies,
    scratch: &Path,
    fixes: &[(usize, ReportedFix)],
) -> Result<Measured> {
    let modules = Arc::new(crate::python::runner::project_modules(ctx.files, ctx.root));
    let [first_root, second_root] = &copies.0;
    let runner = runner(
        ctx.request,
        ctx.python,
        ctx.root,
        first_root.clone(),
        scratch,
        modules,
    )?;
    let second_scratch = scratch.join("second");
    std::fs::create_dir_all(&second_scratch)?;
    let second_runner = Runner {
        workdir: second_root.clone(),
        scratch: second_scratch,
        progress: false,
        ..runner.clone()
    };
    let lanes = Lanes {
        first: &runner,
        second: &second_runner,
        second_root,
        root: ctx.root,
        files: ctx.files,
        fixes,
        target: ctx.target,
        timeout: ctx.request.timeout,
        scratch,
    };
    if ctx.python.mode == crate::python::Mode::Embedded {
        lanes.paced()
    } else {
        lanes.sequential()
    }
}

/// The two working copies' roots, to name what ran there by the project's paths.
struct Copies([PathBuf; 2]);

impl Copies {
    /// `file` (as a run reports it) relative to the copy it is in, with `/`.
    fn relative(&self, file: &str) -> Option<String> {
        let path = Path::new(file);
        self.0
            .iter()
            .find_map(|r| path.strip_prefix(r).ok())
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    }
}

/// The profile from the runs: the census and the probes' records give each candidate
/// its quantity and estimate. `profile_seconds` is left for the caller.
fn assemble(
    ctx: &Subject,
    copies: &Copies,
    facts: &Facts,
    mut proposed_fixes: Vec<(usize, ReportedFix)>,
    runs: Measured,
) -> Result<Profile> {
    let Subject {
        request,
        python,
        root,
        files,
        target: _,
    } = *ctx;
    let Measured {
        plain,
        peak,
        census: census_run,
        probes: raw_probes,
        probed,
    } = runs;
    let plain_result = plain.result.clone().unwrap_or_default();
    if let Some(warning) = require_project_code(&plain)? {
        crate::report::findings::warn(&warning)?;
    }
    let peak_result = peak.result.clone().unwrap_or_default();
    let traced = peak_result
        .traced
        .clone()
        .context("the peak run reported no traced memory")?;
    let peak_bytes = traced.peak_above_start();
    let census_result = census_run.result.clone().unwrap_or_default();
    let raw_census: Option<RawCensus> = census_result
        .census
        .clone()
        .and_then(|v| serde_json::from_value(v).ok());
    signals::check()?;

    let relative = |file: &str| copies.relative(file);
    let attributes = attributes_written(&raw_probes, copies);
    let native = traced.meter == "native";
    // The census's level counts from its own run's start.
    let census_start = census_result
        .traced
        .as_ref()
        .map_or(traced.start, |t| t.start);
    let census = raw_census.as_ref().map(|raw| {
        estimate::census(
            raw,
            peak_bytes,
            census_start,
            &relative,
            &attributes,
            native,
        )
    });
    let version = parse_version(&census_result.python).unwrap_or(PythonVersion::PY311);
    // Lists the analysis could not type but the census saw: new array candidates.
    if let Some(census) = &census {
        let seen = Arc::new(observed(census, files, root));
        let more = observed_candidates(files, facts, &seen, &proposed_fixes);
        proposed_fixes.extend(more);
    }
    let proposed: Vec<Proposed> = proposed_fixes
        .iter()
        .filter_map(|(index, fix)| {
            Some(Proposed {
                path: relative_path(&files[*index].path, root)?,
                fix,
            })
        })
        .collect();
    let evidence = Evidence {
        version,
        census,
        attributes,
        transient: probe_ids(&raw_probes.transient),
        queues: probe_ids(&raw_probes.queues),
        probed,
        children: plain_result.started_processes,
    };
    let candidates = estimate::estimate(&proposed, &evidence);
    let sites_source: Vec<(String, u32, u64, u64)> = if native {
        peak_result.peak_sites.clone()
    } else {
        raw_census.map(|c| c.sites).unwrap_or_default()
    };
    let sites = sites_source
        .into_iter()
        .take(20)
        .map(|(file, line, bytes, count)| Site {
            path: relative(&file).unwrap_or(file),
            line: line as usize,
            bytes,
            count,
        })
        .collect();
    let files_hashes = files
        .iter()
        .filter_map(|f| Some((relative_path(&f.path, root)?, sha256(&f.original_bytes()))))
        .collect();
    let runs = [&plain, &peak, &census_run]
        .iter()
        .map(|r| schema::RunTime {
            label: r.spec.label.clone(),
            seconds: r.wall.as_secs_f64(),
        })
        .collect();
    Ok(Profile {
        version: schema::VERSION,
        pyslim: env!("CARGO_PKG_VERSION").to_string(),
        workload: workload_info(request),
        python: census_result.python.clone(),
        mode: match python.mode {
            crate::python::Mode::Embedded => "embedded".into(),
            crate::python::Mode::VenvInterpreter => "venv-interpreter".into(),
        },
        meter: traced.meter.clone(),
        plain_seconds: plain_result.seconds,
        profile_seconds: 0.0,
        traced_peak: peak_bytes,
        rss_peak: plain_result.maxrss_kib * 1024,
        started_processes: plain_result.started_processes,
        census: evidence.census,
        sites,
        sites_estimated: native,
        candidates,
        files: files_hashes,
        runs,
    })
}

/// The attributes the probes saw written on instances of project classes, by (path,
/// qualname), with the classes of each one's MRO named by their project paths.
fn attributes_written(
    raw_probes: &RawProbes,
    copies: &Copies,
) -> BTreeMap<(String, String), RawAttributes> {
    raw_probes
        .attributes
        .iter()
        .filter_map(|a| {
            let path = copies.relative(a.file.as_deref()?)?;
            let mut a = a.clone();
            a.mro = a
                .mro
                .iter()
                .map(|(file, q)| (file.as_deref().and_then(|f| copies.relative(f)), q.clone()))
                .collect();
            Some(((path, a.qualname.clone()), a))
        })
        .collect()
}

/// The census is taken when traced memory first reaches this share of the peak.
const CENSUS_SHARE: f64 = 0.995;

/// The runs a profile is built from, each checked to have completed.
struct Measured {
    /// Nothing measured inside the process: wall time and peak RSS.
    plain: Finished,
    /// The meter: the traced peak and the sites at it.
    peak: Finished,
    /// The census (and the probes, unless they broke the workload).
    census: Finished,
    /// The probes' records (empty when the census ran without them).
    probes: RawProbes,
    /// The candidates whose probes are in the instrumented copy.
    probed: BTreeSet<usize>,
}

/// Where and what the profile's runs execute: `first` runs on an untouched working
/// copy, `second` on the one that gets the probes.
struct Lanes<'a> {
    first: &'a Runner,
    second: &'a Runner,
    second_root: &'a Path,
    root: &'a Path,
    files: &'a [ProjectFile],
    fixes: &'a [(usize, ReportedFix)],
    target: &'a Target,
    timeout: Option<Duration>,
    scratch: &'a Path,
}

impl Lanes<'_> {
    fn peak_spec(&self) -> RunSpec {
        let mut spec = RunSpec::new("peak", self.target.clone());
        spec.meter = MeterMode::Peak;
        spec
    }

    fn census_spec(&self, label: &str, census: CensusSpec, timeout: Option<Duration>) -> RunSpec {
        let mut spec = RunSpec::new(label, self.target.clone());
        spec.meter = MeterMode::Peak;
        spec.census = Some(census);
        spec.timeout = timeout;
        spec
    }

    /// With the native meter: the census run starts beside the peak run and is paced
    /// behind it ([`crate::python::pace`]); the plain run follows the peak run on its
    /// core. Two workers at a time, never three: memory stays at two workloads' worth.
    fn paced(&self) -> Result<Measured> {
        let pace_path = self.scratch.join("pace");
        pace::create(&pace_path)?;
        let probed = instrument(self.second_root, self.root, self.files, self.fixes)?;
        let mut peak_spec = self.peak_spec();
        peak_spec.lead = Some(pace_path.clone());
        let follow = Follow {
            pace: pace_path.clone(),
            share: CENSUS_SHARE,
        };
        let mut census_spec = self.census_spec(
            "census and probes",
            CensusSpec {
                above_start: None,
                follow: Some(follow),
            },
            self.timeout,
        );
        census_spec.probes = true;
        let ((peak, plain), census) = both(
            || {
                let peak = self.first.launch(peak_spec, 1);
                // Whatever became of it, the census run must not wait for it any more.
                pace::abandon_unless_final(&pace_path)?;
                let peak = peak?;
                require_completed(&peak)?;
                // Its warning, if any, is the plain run's to give (`assemble`).
                require_project_code(&peak)?;
                let plain = self
                    .first
                    .launch(RunSpec::new("plain", self.target.clone()), 2)?;
                Ok((peak, plain))
            },
            || self.second.launch(census_spec, 3),
        )?;
        require_completed(&plain)?;
        self.census_outcome(census, probed, plain, peak)
    }

    /// With tracemalloc (the venv's own interpreter): the plain run beside the peak
    /// run, then the census run alone at the level the peak run found.
    fn sequential(&self) -> Result<Measured> {
        let (plain, peak) = both(
            || {
                self.first
                    .launch(RunSpec::new("plain", self.target.clone()), 1)
            },
            || self.second.launch(self.peak_spec(), 2),
        )?;
        require_completed(&plain)?;
        require_completed(&peak)?;
        // Its warning, if any, is given once the profile is assembled.
        require_project_code(&plain)?;
        let probed = instrument(self.second_root, self.root, self.files, self.fixes)?;
        let mut spec = self.census_spec(
            "census and probes",
            CensusSpec {
                above_start: Some(census_level(&peak, CENSUS_SHARE)),
                follow: None,
            },
            Some(self.derived_timeout(&plain, &peak)),
        );
        spec.probes = true;
        let census = self.second.launch(spec, 3)?;
        self.census_outcome(census, probed, plain, peak)
    }

    fn derived_timeout(&self, plain: &Finished, peak: &Finished) -> Duration {
        self.timeout
            .unwrap_or_else(|| derived_timeout(plain.wall.max(peak.wall)))
    }

    /// The census run's records; a workload the probes broke is profiled again without
    /// them, and a run that never reached the census level once more at 97% of its
    /// own peak (threads, timing).
    fn census_outcome(
        &self,
        probed_run: Finished,
        probed: BTreeSet<usize>,
        plain: Finished,
        peak: Finished,
    ) -> Result<Measured> {
        let timeout = Some(self.derived_timeout(&plain, &peak));
        let at = |run: &Finished, share: f64| CensusSpec {
            above_start: Some(census_level(run, share)),
            follow: None,
        };
        let (mut census, probes, probed) = match require_completed(&probed_run) {
            Ok(()) => {
                let raw: RawProbes = probed_run
                    .result
                    .as_ref()
                    .and_then(|r| r.probes.clone())
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default();
                (probed_run, raw, probed)
            }
            Err(e) => {
                eprintln!("note: the run with probes failed, so no probe figures ({e:#})");
                let spec = self.census_spec("census", at(&peak, CENSUS_SHARE), timeout);
                let again = self.first.launch(spec, 4)?;
                require_completed(&again)?;
                (again, RawProbes::default(), BTreeSet::new())
            }
        };
        let missed = census.result.as_ref().is_none_or(|r| r.census.is_none());
        if missed {
            let spec = self.census_spec("census again", at(&census, 0.97), timeout);
            census = self.first.launch(spec, 5)?;
            require_completed(&census)?;
        }
        Ok(Measured {
            plain,
            peak,
            census,
            probes,
            probed,
        })
    }
}

/// `share` of a metered run's own peak above its start, in bytes.
fn census_level(run: &Finished, share: f64) -> i64 {
    let peak = run
        .result
        .as_ref()
        .and_then(|r| r.traced.as_ref())
        .map_or(0, |t| t.peak_above_start());
    (peak as f64 * share) as i64
}

/// The runner every profile and workload run starts from.
pub fn runner(
    request: &ProfileRequest,
    python: &PythonInfo,
    root: &Path,
    workdir: PathBuf,
    scratch: &Path,
    modules: Arc<BTreeMap<String, String>>,
) -> Result<Runner> {
    Ok(Runner {
        worker_exe: match &request.worker_exe {
            Some(p) => p.clone(),
            None => std::env::current_exe().context("cannot find the pyslim binary")?,
        },
        venv: python.venv.clone(),
        mode: python.mode.clone(),
        workdir,
        original_root: root.to_path_buf(),
        args: request.pytest_args.clone(),
        timeout: request.timeout.unwrap_or(Duration::from_secs(600)),
        scratch: scratch.to_path_buf(),
        progress: request.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        modules,
    })
}

/// A limit for later runs from the first runs' wall time: measuring runs may be a few
/// times slower than a plain one, and a machine may be busy; never below a minute.
pub fn derived_timeout(measured: Duration) -> Duration {
    (measured * 10).max(Duration::from_secs(60))
}

/// Runs two closures at once (two cores: two workers), or one after the other.
pub fn both<A, B>(
    a: impl FnOnce() -> Result<A> + Send,
    b: impl FnOnce() -> Result<B> + Send,
) -> Result<(A, B)>
where
    A: Send,
    B: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        let a = a()?;
        return Ok((a, b()?));
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(b);
        let a = a();
        let b = handle
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker thread panicked")));
        Ok((a?, b?))
    })
}

fn workload_info(request: &ProfileRequest) -> WorkloadInfo {
    match &request.workload {
        Some(argv) => WorkloadInfo {
            kind: if argv.first().is_some_and(|a| a == "-m") {
                "module".into()
            } else {
                "script".into()
            },
            argv: argv.clone(),
        },
        None => WorkloadInfo {
            kind: "tests".into(),
            argv: std::iter::once("-m".to_string())
                .chain(std::iter::once("pytest".to_string()))
                .chain(request.pytest_args.iter().cloned())
                .collect(),
        },
    }
}

/// `path` relative to `root` with `/` separators, or `None` outside it.
pub fn relative_path(path: &Path, root: &Path) -> Option<String> {
    let path = std::path::absolute(path).ok()?;
    Some(
        path.strip_prefix(root)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/"),
    )
}

/// The SHA-256 of `bytes` in hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_version(text: &str) -> Option<PythonVersion> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some(PythonVersion { major, minor })
}

fn probe_ids<T: Copy>(raw: &BTreeMap<String, T>) -> BTreeMap<usize, T> {
    raw.iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, *v)))
        .collect()
}

/// Writes the probe-instrumented files into the copy at `copy_root`; returns the
/// candidate indexes (into `fixes`) that were instrumented.
fn instrument(
    copy_root: &Path,
    root: &Path,
    files: &[ProjectFile],
    fixes: &[(usize, ReportedFix)],
) -> Result<BTreeSet<usize>> {
    let mut by_file: BTreeMap<usize, Vec<(u32, ProbeAt)>> = BTreeMap::new();
    for (id, (index, fix)) in fixes.iter().enumerate() {
        let range =
            |p: &crate::engine::Place| TextRange::new(TextSize::new(p.start), TextSize::new(p.end));
        let probes: Vec<ProbeAt> = match &fix.saving.subject {
            ReportedSubject::Transient { at } => vec![ProbeAt::Transient(range(at))],
            ReportedSubject::Queue { calls, .. } => {
                calls.iter().map(|c| ProbeAt::Queue(range(c))).collect()
            }
            _ => continue,
        };
        let id = u32::try_from(id).unwrap_or(u32::MAX);
        by_file
            .entry(*index)
            .or_default()
            .extend(probes.into_iter().map(|p| (id, p)));
    }
    let mut probed = BTreeSet::new();
    for (index, probes) in by_file {
        let file = &files[index];
        let Some(rel) = relative_path(&file.path, root) else {
            continue;
        };
        let text = file.text();
        let Ok(module) = pyslim_transforms::parse(text) else {
            continue;
        };
        let (edits, missing) = probe_edits(&module, &probes);
        // Never run a copy that does not parse, nor one whose edits collide (probes only
        // insert around what they hold, so that would be a defect): the file goes
        // unprobed rather than break the run.
        let Some(instrumented) = instrumented_copy(&module, edits, Hook::Probe) else {
            continue;
        };
        let bytes = file
            .source
            .encode(&instrumented)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.info.path))?;
        let target = copy_root.join(&rel);
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
        probed.extend(
            probes
                .iter()
                .map(|(id, _)| *id as usize)
                .filter(|id| !missing.contains(&(*id as u32))),
        );
    }
    Ok(probed)
}
