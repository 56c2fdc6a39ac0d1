//! The profile file (`.pyslim/profile.json`): what `pyslim profile` measured, in a
//! versioned JSON schema that `check --profile` and `rewrite --profile` read back.
//!
//! Sizes are bytes, times seconds, lines 1-based, paths relative to the project root
//! with `/`. Every figure is measured, or derived from measured counts and the figures
//! in `transforms/src/figures.rs`; derived ones are marked as estimates (`estimate`
//! or `estimated: true`).
//!
//! ```text
//! {
//!   "version": 1,
//!   "pyslim": "0.1.0",
//!   "workload": {"kind": "script" | "module" | "tests", "argv": ["bench.py", "--n", "9"]},
//!   "python": "3.11.7", "mode": "embedded" | "venv-interpreter",
//!   "meter": "native" | "tracemalloc",
//!   "plain_seconds": 0.61,          // the workload alone (run without any measuring)
//!   "profile_seconds": 1.52,        // wall time of `pyslim profile`, analysis included
//!   "traced_peak": 68000000,        // highest traced bytes above the start
//!   "rss_peak": 140000000,          // peak RSS of the plain run (its own process)
//!   "started_processes": false,     // it started processes, which nothing measures
//!   "census": {"level": 66400000, "of_peak": 0.976,
//!              "classes": [{"path": "app/model.py", "qualname": "Point",
//!                           "instances": 200000, "object_bytes": 11200000,
//!                           "with_dict": 0, "dict_bytes": 0,
//!                           "attributes": ["x", "y"]}],
//!              "lists": [{"path": "app/model.py", "line": 17, "lists": 1.0,
//!                         "elements": 1000000, "list_bytes": 8448728, "largest": 1000000,
//!                         "types": {"float": 1}, "int_min": null, "int_max": null,
//!                         "estimated": true}]},
//!   "sites": [{"path": "app/model.py", "line": 17, "bytes": 32500000, "count": 1000000}],
//!   "sites_estimated": true,
//!   "candidates": [ Candidate, ... ],   // largest estimated saving first
//!   "files": {"app/model.py": "sha256 of the file's bytes"}
//! }
//! ```
//!
//! A [`Candidate`] is one rewrite any transform proposes (safe or unsafe, as
//! `check --unsafe` lists them), with the quantity the profile measured for it, the
//! estimated saving at the peak, and, when run-time evidence contradicts it, why it is
//! dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use pyslim_transforms::Impact;

/// Whether a candidate is proven safe statically, as `check` spells it (`safe` or
/// `unsafe`; the profile's own type so its schema does not follow the ruff crates').
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Applied by `rewrite`.
    Safe,
    /// Applied only with `--unsafe` or `--verify`.
    Unsafe,
}

impl From<pyslim_transforms::Applicability> for Applicability {
    fn from(applicability: pyslim_transforms::Applicability) -> Self {
        match applicability {
            pyslim_transforms::Applicability::Safe => Self::Safe,
            _ => Self::Unsafe,
        }
    }
}

/// The schema version this pyslim writes and reads.
pub const VERSION: u32 = 1;

/// What ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadInfo {
    /// `script`, `module` or `tests` (the test suite, when no workload was given).
    pub kind: String,
    /// The command line after `python` (`["-m", "pytest", ...]` for the tests).
    pub argv: Vec<String>,
}

/// Live instances of one class at the census.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCount {
    /// The defining file, relative to the project root.
    pub path: String,
    /// `__qualname__`.
    pub qualname: String,
    /// Live instances of exactly this class (subclasses have their own entries).
    pub instances: u64,
    /// `sys.getsizeof` summed over them (the object itself, with its GC header).
    pub object_bytes: u64,
    /// Instances whose `__dict__` exists (made by `vars()`, pickling, or before 3.11).
    pub with_dict: u64,
    /// The size of those dicts.
    pub dict_bytes: u64,
    /// How many instances were examined for a dict, when not all were: past 20,000
    /// an even sample is, and `with_dict` and `dict_bytes` are scaled from it
    /// (estimates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dict_sample: Option<u64>,
    /// Attribute names seen on its instances: written while the workload ran (probe
    /// run) and keys of existing dicts.
    pub attributes: Vec<String>,
}

/// The lists whose storage (native meter) or object (tracemalloc) was allocated at
/// one line, live at the census.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListSite {
    /// The file, relative to the project root.
    pub path: String,
    /// The allocating line.
    pub line: usize,
    /// Lists (an estimate when sampled).
    pub lists: f64,
    /// Elements in them.
    pub elements: u64,
    /// `sys.getsizeof` summed (the list and its pointer storage, not the elements).
    pub list_bytes: u64,
    /// The longest one seen.
    pub largest: u64,
    /// Element type name → lists holding that type.
    pub types: BTreeMap<String, u64>,
    /// The smallest int seen, when they held only ints.
    pub int_min: Option<i64>,
    /// The largest int seen, when they held only ints.
    pub int_max: Option<i64>,
    /// Counts scaled up from sampled blocks.
    pub estimated: bool,
}

/// The heap near the peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Census {
    /// Traced bytes (above the start) when it was taken.
    pub level: u64,
    /// `level` / the peak.
    pub of_peak: f64,
    /// Project classes, most instances first.
    pub classes: Vec<ClassCount>,
    /// Project lists by allocating line, largest first.
    pub lists: Vec<ListSite>,
}

/// Live bytes allocated at one line at the peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// The file: relative to the project root when inside it, else as Python named it.
    pub path: String,
    /// The line.
    pub line: usize,
    /// Bytes.
    pub bytes: u64,
    /// Blocks.
    pub count: u64,
}

/// What a candidate acts on, as measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Measured {
    /// Live instances of its class at the census.
    Instances {
        /// Of exactly this class.
        instances: u64,
    },
    /// Lists made or grown at its lines, live at the census.
    Lists {
        /// Lists.
        lists: f64,
        /// Their elements.
        elements: u64,
        /// `sys.getsizeof` summed.
        list_bytes: u64,
        /// Element types seen → lists.
        types: BTreeMap<String, u64>,
    },
    /// The list the expression built, over every time it ran (probe run).
    Transient {
        /// Times it ran.
        runs: u64,
        /// The longest list it built.
        largest: u64,
        /// The bytes that list held (with the items only it held).
        bytes: u64,
        /// Whether such a list was live at the census (near the peak).
        at_peak: bool,
    },
    /// Front operations on the queue (probe run).
    Queue {
        /// `pop(0)`, `insert(0, x)` and `del q[0]` calls.
        calls: u64,
        /// Elements those calls shifted in all (the list's length at each call).
        moved: u64,
        /// The longest the list was at a call.
        longest: u64,
    },
    /// The workload never reached it.
    NotReached,
}

/// One rewrite candidate, with what the profile says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The file, relative to the project root.
    pub path: String,
    /// 1-based line of the construct.
    pub line: usize,
    /// The transform.
    pub transform: String,
    /// The construct's byte offset (the fix's key with `transform`).
    pub offset: u32,
    /// `safe` or `unsafe`.
    pub applicability: Applicability,
    /// `memory` or `time`.
    pub impact: Impact,
    /// The transform's message.
    pub message: String,
    /// What was measured.
    pub measured: Measured,
    /// Estimated bytes saved at the peak (0 for time rewrites and what is not at the
    /// peak).
    pub saving: u64,
    /// How the estimate was made, for people (`200,000 instances x 40 B (3.11)`).
    pub estimate: String,
    /// Run-time evidence against the rewrite: it is not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<String>,
}

/// A profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Schema version ([`VERSION`]).
    pub version: u32,
    /// The pyslim that wrote it.
    pub pyslim: String,
    /// What ran.
    pub workload: WorkloadInfo,
    /// The Python that ran it.
    pub python: String,
    /// `embedded` or `venv-interpreter`.
    pub mode: String,
    /// `native` or `tracemalloc`.
    pub meter: String,
    /// The workload's own time in the plain run.
    pub plain_seconds: f64,
    /// Wall time of the whole profile.
    pub profile_seconds: f64,
    /// The highest traced bytes above the start.
    pub traced_peak: u64,
    /// Peak RSS of the plain run, bytes.
    pub rss_peak: u64,
    /// The plain run started processes and waited for at least one: nothing in the
    /// profile covers them (their peak RSS, starting from what a forked child shares
    /// with its parent, would not measure them either).
    #[serde(default)]
    pub started_processes: bool,
    /// The heap near the peak.
    pub census: Option<Census>,
    /// Top allocation sites at the peak.
    pub sites: Vec<Site>,
    /// Whether `sites` are estimates from sampled allocations.
    pub sites_estimated: bool,
    /// Every candidate, largest estimated saving first.
    pub candidates: Vec<Candidate>,
    /// SHA-256 of each analysed file's bytes when profiled, by path.
    pub files: BTreeMap<String, String>,
    /// The worker runs the profile took, in order, with their wall time.
    #[serde(default)]
    pub runs: Vec<RunTime>,
}

/// One worker run of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTime {
    /// `plain`, `peak`, `census`, `probes`.
    pub label: String,
    /// Wall time of the worker process.
    pub seconds: f64,
}

impl Profile {
    /// Reads a profile, refusing other schema versions.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Profile> {
        use anyhow::Context;
        let text = std::fs::read(path)
            .with_context(|| format!("{}: cannot read the profile", path.display()))?;
        let version: serde_json::Value = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not a pyslim profile (invalid JSON)", path.display()))?;
        match version.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => anyhow::bail!(
                "{}: profile schema version {v}, this pyslim reads version {VERSION}; take the \
                 profile again with `pyslim profile`",
                path.display()
            ),
            None => anyhow::bail!("{}: not a pyslim profile (no version)", path.display()),
        }
        serde_json::from_value(version)
            .with_context(|| format!("{}: not a pyslim profile", path.display()))
    }
}
