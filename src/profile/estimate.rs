//! Joins the candidates with what the runs measured: the quantity each acts on and
//! the saving it would make at the peak, from the measured counts and the figures in
//! `transforms/src/figures.rs` for the Python version that ran the workload. Run-time
//! evidence against a candidate (an attribute outside its slots, a list holding other
//! types) drops it.

use std::collections::{BTreeMap, BTreeSet};

use pyslim_transforms::{Element, PerUnit, PythonVersion, figures};

use super::schema::{Candidate, Census, ClassCount, ListSite, Measured};
use crate::engine::{ReportedFix, ReportedSubject};

/// What the worker's census reported (its JSON), with absolute paths in the copy.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RawCensus {
    /// Traced bytes at the census.
    pub level: i64,
    /// Project classes.
    #[serde(default)]
    pub classes: Vec<RawClass>,
    /// Project lists by allocating line.
    #[serde(default)]
    pub lists: Vec<RawListSite>,
    /// Allocation sites at the census (tracemalloc meter only).
    #[serde(default)]
    pub sites: Vec<(String, u32, u64, u64)>,
}

/// One class in the worker's census.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RawClass {
    /// The module's file.
    pub file: Option<String>,
    /// `__qualname__`.
    pub qualname: String,
    /// Live instances.
    pub instances: u64,
    /// `sys.getsizeof` summed.
    pub object_bytes: u64,
    /// Instances with a `__dict__`.
    pub with_dict: u64,
    /// Their dicts' size.
    pub dict_bytes: u64,
    /// Keys seen in those dicts.
    #[serde(default)]
    pub dict_keys: Vec<String>,
    /// Instances examined for a dict when not all were (the dict figures are scaled).
    #[serde(default)]
    pub dict_sample: Option<u64>,
}

/// One list site in the worker's census.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RawListSite {
    /// The file.
    pub file: String,
    /// The line.
    pub line: usize,
    /// Lists (scaled from samples).
    pub lists: f64,
    /// Elements.
    pub elements: f64,
    /// `sys.getsizeof` summed.
    pub list_bytes: f64,
    /// Longest seen.
    pub largest: u64,
    /// Element type → lists holding it.
    #[serde(default)]
    pub types: BTreeMap<String, u64>,
    /// Smallest int (int-only lists).
    pub int_min: Option<i64>,
    /// Largest int.
    pub int_max: Option<i64>,
}

/// What the probe run reported.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RawProbes {
    /// Transient lists by probe id.
    #[serde(default)]
    pub transient: BTreeMap<String, RawTransient>,
    /// Queues by probe id.
    #[serde(default)]
    pub queues: BTreeMap<String, RawQueue>,
    /// Attributes written per class.
    #[serde(default)]
    pub attributes: Vec<RawAttributes>,
}

/// A transient probe.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct RawTransient {
    /// Times the expression ran.
    pub runs: u64,
    /// The longest list.
    pub largest: u64,
    /// Its bytes with the items only it held.
    pub bytes: u64,
}

/// A queue probe.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct RawQueue {
    /// Front operations.
    pub calls: u64,
    /// Elements they shifted.
    pub moved: u64,
    /// The longest list at a call.
    pub longest: u64,
}

/// Attributes written on one class's instances.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RawAttributes {
    /// The module's file.
    pub file: Option<String>,
    /// `__qualname__`.
    pub qualname: String,
    /// Names written.
    pub attributes: Vec<String>,
    /// `(file, qualname)` of the classes in its MRO after itself.
    #[serde(default)]
    pub mro: Vec<(Option<String>, String)>,
    /// Names every class in the MRO already lists in `__slots__`.
    #[serde(default)]
    pub slotted: Vec<String>,
}

/// Everything the estimates read, with paths made relative to the project root.
pub struct Evidence {
    /// The Python that ran the workload.
    pub version: PythonVersion,
    /// The census, if one was taken.
    pub census: Option<Census>,
    /// Attributes written, by (path, qualname).
    pub attributes: BTreeMap<(String, String), RawAttributes>,
    /// Transient probes by candidate index.
    pub transient: BTreeMap<usize, RawTransient>,
    /// Queue probes by candidate index.
    pub queues: BTreeMap<usize, RawQueue>,
    /// Candidates that were probed (the others were not instrumented).
    pub probed: BTreeSet<usize>,
    /// The workload started processes of its own, which nothing probes.
    pub children: bool,
}

/// Why a probed candidate has no record: `never` (what the workload never did), said
/// of its own process when it started others, where it may have done it unseen.
fn unseen(never: &str, evidence: &Evidence) -> String {
    if evidence.children {
        format!(
            "the workload's own process {never} (the processes it started may have; they \
             are not probed)"
        )
    } else {
        format!("the workload {never}")
    }
}

/// One candidate fix with its file's relative path.
pub struct Proposed<'a> {
    /// The path relative to the project root.
    pub path: String,
    /// The fix.
    pub fix: &'a ReportedFix,
}

/// The candidates with their measurements and estimates, largest saving first.
pub fn estimate(proposed: &[Proposed], evidence: &Evidence) -> Vec<Candidate> {
    let planned = planned_slots(proposed);
    let mut out: Vec<Candidate> = proposed
        .iter()
        .enumerate()
        .map(|(index, p)| one(index, p, evidence, &planned))
        .collect();
    out.sort_by(|a, b| {
        b.saving
            .cmp(&a.saving)
            .then(a.path.cmp(&b.path))
            .then(a.offset.cmp(&b.offset))
    });
    out
}

/// Slot names each candidate class will have, by (path, qualname).
fn planned_slots(proposed: &[Proposed]) -> BTreeMap<(String, String), Vec<String>> {
    proposed
        .iter()
        .filter_map(|p| match &p.fix.saving.subject {
            ReportedSubject::Class {
                qualname, slots, ..
            } => Some(((p.path.clone(), qualname.clone()), slots.clone())),
            _ => None,
        })
        .collect()
}

fn one(
    index: usize,
    p: &Proposed,
    evidence: &Evidence,
    planned: &BTreeMap<(String, String), Vec<String>>,
) -> Candidate {
    let fix = p.fix;
    let mut candidate = Candidate {
        path: p.path.clone(),
        line: fix.line,
        transform: fix.key.transform.to_string(),
        offset: fix.key.offset,
        applicability: fix.applicability.into(),
        impact: fix.impact,
        message: fix.message.clone(),
        measured: Measured::NotReached,
        saving: 0,
        estimate: String::new(),
        dropped: None,
    };
    let per_unit = fix.saving.per_unit;
    match &fix.saving.subject {
        ReportedSubject::Class {
            qualname, slots, ..
        } => {
            class(&mut candidate, qualname, slots, per_unit, evidence, planned);
        }
        ReportedSubject::Lists { created, filled } => {
            let mut lines: BTreeSet<usize> = filled.iter().map(|p| p.line).collect();
            lines.insert(created.line);
            lists(&mut candidate, &lines, per_unit, evidence);
        }
        ReportedSubject::Transient { at } => {
            transient(&mut candidate, index, at.line, per_unit, evidence);
        }
        ReportedSubject::Queue { .. } => queue(&mut candidate, index, evidence),
    }
    candidate
}

/// Adds what slots save on instances that have a `__dict__` (from 3.11; before, every
/// instance has one and the per-instance figure counts it). A dict made over the
/// inline values (by `vars()`, pickling, `copy`) costs the figures' 64 B on top of
/// the per-instance figure. A dict that owns its keys (more attributes than a
/// shared-keys table holds, or keys written in another order) holds the values
/// itself: slots remove its measured bytes, less the 8 B slot each attribute takes
/// instead. The census cannot tell the two apart without creating objects, so each
/// instance with a dict counts the larger of the two, which the measured average
/// decides (a shared-keys dict measures 64 B, so its own estimate stays below).
fn dict_saving(
    c: &mut Candidate,
    count: &ClassCount,
    slots: usize,
    per_instance_figure: u64,
    version: PythonVersion,
) {
    let view = u64::from(figures::materialized_dict(version));
    if view == 0 || count.with_dict == 0 {
        return;
    }
    let with_dict = count.with_dict.min(count.instances);
    let average = count.dict_bytes / with_dict;
    let slot_bytes = 8 * slots.max(count.attributes.len()) as u64;
    let owned = average.saturating_sub(slot_bytes);
    // Past 20,000 instances the census examines an even sample for dicts.
    let how = match count.dict_sample {
        Some(n) => format!("measured on {} of them", thousands(n)),
        None => "measured".to_string(),
    };
    if owned > per_instance_figure + view {
        c.saving = c.saving - with_dict * per_instance_figure + with_dict * owned;
        c.estimate.push_str(&format!(
            "; {} of them have a __dict__ of {} B on average ({how}) holding their \
             attributes: for those, {} B less {slot_bytes} B of slots = {} B each",
            thousands(with_dict),
            thousands(average),
            thousands(average),
            thousands(owned)
        ));
    } else {
        c.saving += with_dict * view;
        c.estimate.push_str(&format!(
            ", and {} of them have a __dict__ ({how}; +{view} B each, which slots remove \
             too)",
            thousands(with_dict)
        ));
    }
}

fn class(
    c: &mut Candidate,
    qualname: &str,
    slots: &[String],
    per_unit: PerUnit,
    evidence: &Evidence,
    planned: &BTreeMap<(String, String), Vec<String>>,
) {
    let count = evidence.census.as_ref().and_then(|census| {
        census
            .classes
            .iter()
            .find(|k| k.path == c.path && k.qualname == qualname)
    });
    let instances = count.map_or(0, |k| k.instances);
    c.measured = Measured::Instances { instances };
    let per = figures::per_unit(per_unit, evidence.version).unwrap_or(0.0);
    c.saving = (instances as f64 * per) as u64;
    c.estimate = format!(
        "{} live {} x {per:.0} B per instance ({})",
        thousands(instances),
        if instances == 1 {
            "instance"
        } else {
            "instances"
        },
        version_name(evidence.version)
    );
    if let Some(count) = count
        && per > 0.0
    {
        dict_saving(c, count, slots.len(), per as u64, evidence.version);
    }
    // Attributes written at run time outside every slot the class will have.
    let Some(seen) = evidence
        .attributes
        .get(&(c.path.clone(), qualname.to_string()))
    else {
        return;
    };
    let mut allowed: BTreeSet<&str> = slots.iter().map(String::as_str).collect();
    allowed.extend(seen.slotted.iter().map(String::as_str));
    for (file, base) in &seen.mro {
        if let Some(file) = file
            && let Some(names) = planned.get(&(file.clone(), base.clone()))
        {
            allowed.extend(names.iter().map(String::as_str));
        }
    }
    let extra: Vec<&str> = seen
        .attributes
        .iter()
        .map(String::as_str)
        .filter(|a| !allowed.contains(a) && !a.starts_with("__"))
        .collect();
    if !extra.is_empty() {
        c.dropped = Some(format!(
            "observed at run time: instances got {} outside the slots",
            extra
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// The census's list sites at any of `lines` of the candidate's file, summed.
fn sites_at<'c>(census: &'c Census, path: &str, lines: &BTreeSet<usize>) -> Vec<&'c ListSite> {
    census
        .lists
        .iter()
        .filter(|s| s.path == path && lines.contains(&s.line))
        .collect()
}

fn lists(c: &mut Candidate, lines: &BTreeSet<usize>, per_unit: PerUnit, evidence: &Evidence) {
    let Some(census) = &evidence.census else {
        return;
    };
    let sites = sites_at(census, &c.path, lines);
    if sites.is_empty() {
        c.estimate = if census.lists.iter().any(|s| s.estimated) {
            "no list made here was seen near the peak (lists under 2,048 items are found \
             by sampling, so a few small ones can go unseen: they hold little)"
                .into()
        } else {
            "no list made here was live near the peak".into()
        };
        return;
    }
    let count: f64 = sites.iter().map(|s| s.lists).sum();
    let elements: u64 = sites.iter().map(|s| s.elements).sum();
    let list_bytes: u64 = sites.iter().map(|s| s.list_bytes).sum();
    let mut types: BTreeMap<String, u64> = BTreeMap::new();
    for s in &sites {
        for (name, n) in &s.types {
            *types.entry(name.clone()).or_default() += n;
        }
    }
    c.measured = Measured::Lists {
        lists: count,
        elements,
        list_bytes,
        types: types.clone(),
    };
    match per_unit {
        PerUnit::Array { code, element } => {
            let expected = match element {
                Element::Float => "float",
                Element::Int { .. } => "int",
            };
            let others: Vec<&str> = types
                .keys()
                .map(String::as_str)
                .filter(|t| *t != expected)
                .collect();
            if !others.is_empty() {
                c.dropped = Some(format!(
                    "observed at run time: the list held {} besides {expected}s",
                    others.join(", ")
                ));
                return;
            }
            // What the elements observed really cost: cached small ints only their
            // pointer, other ints and floats their own object too.
            let cached = sites.iter().all(|s| {
                matches!((s.int_min, s.int_max), (Some(lo), Some(hi))
                    if i128::from(lo) >= figures::CACHED_INTS.0 && i128::from(hi) <= figures::CACHED_INTS.1)
            });
            let observed = match element {
                Element::Float => Element::Float,
                Element::Int { .. } => Element::Int { cached },
            };
            let per = figures::per_unit(
                PerUnit::Array {
                    code,
                    element: observed,
                },
                evidence.version,
            )
            .unwrap_or(0.0);
            c.saving = (elements as f64 * per) as u64;
            c.estimate = format!(
                "{} elements in {} live list{} x {per:.1} B per element (list {:.1} B -> array('{code}') {:.1} B)",
                thousands(elements),
                fmt_count(count),
                if count == 1.0 { "" } else { "s" },
                figures::list_per_element(observed, evidence.version),
                figures::array_per_element(code).unwrap_or(0.0)
            );
        }
        PerUnit::Tuple => {
            // A tuple of n items: 40 B + 8 B per item (3.9-3.13); the list is its
            // measured size, spare capacity included.
            let tuples = 40.0 * count + 8.0 * elements as f64;
            c.saving = (list_bytes as f64 - tuples).max(0.0) as u64;
            c.estimate = format!(
                "{} live list{} of {} elements: {} as lists, about {} as tuples",
                fmt_count(count),
                if count == 1.0 { "" } else { "s" },
                thousands(elements),
                crate::report::bytes(list_bytes as i64, false),
                crate::report::bytes(tuples as i64, false)
            );
        }
        _ => {}
    }
}

fn transient(c: &mut Candidate, index: usize, line: usize, per_unit: PerUnit, evidence: &Evidence) {
    if !evidence.probed.contains(&index) {
        c.estimate = "not measured (the expression could not be instrumented)".into();
        return;
    }
    let Some(probe) = evidence.transient.get(&index) else {
        c.estimate = unseen("never ran it", evidence);
        return;
    };
    let at_peak = evidence
        .census
        .as_ref()
        .is_some_and(|census| !sites_at(census, &c.path, &BTreeSet::from([line])).is_empty());
    c.measured = Measured::Transient {
        runs: probe.runs,
        largest: probe.largest,
        bytes: probe.bytes,
        at_peak,
    };
    let held = match per_unit {
        // The items live on in the consumer's result: only the list's storage goes.
        PerUnit::Generator {
            avoided: pyslim_transforms::Avoided::ListOnly,
        } => (figures::LIST_POINTER * probe.largest as f64) as u64,
        _ => probe.bytes,
    };
    if at_peak {
        c.saving = held;
        c.estimate = format!(
            "a list of {} items ({}) built here was live at the peak",
            thousands(probe.largest),
            crate::report::bytes(held as i64, false)
        );
    } else {
        c.estimate = format!(
            "its largest list ({} items, {}) was not live at the peak: it lowers a \
             transient, not the peak",
            thousands(probe.largest),
            crate::report::bytes(held as i64, false)
        );
    }
}

fn queue(c: &mut Candidate, index: usize, evidence: &Evidence) {
    if !evidence.probed.contains(&index) {
        c.estimate = "not measured (the calls could not be instrumented)".into();
        return;
    }
    let Some(probe) = evidence.queues.get(&index) else {
        c.estimate = unseen("never popped or inserted at its front", evidence);
        return;
    };
    c.measured = Measured::Queue {
        calls: probe.calls,
        moved: probe.moved,
        longest: probe.longest,
    };
    c.estimate = format!(
        "time, not memory: {} front operations shifted {} elements in all (O(1) each on a \
         deque)",
        thousands(probe.calls),
        thousands(probe.moved)
    );
}

/// `3.11`.
fn version_name(v: PythonVersion) -> String {
    format!("{}.{}", v.major, v.minor)
}

fn fmt_count(n: f64) -> String {
    if (n - n.round()).abs() < 0.05 {
        thousands(n.round() as u64)
    } else {
        format!("~{n:.1}")
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Turns the worker's census into the profile's, with paths relative to the root
/// (`relative` returns `None` outside it) and the probe run's attribute names.
pub fn census(
    raw: &RawCensus,
    peak: u64,
    start: i64,
    relative: &dyn Fn(&str) -> Option<String>,
    attributes: &BTreeMap<(String, String), RawAttributes>,
    sampled: bool,
) -> Census {
    let level = (raw.level - start).max(0) as u64;
    let mut classes: Vec<ClassCount> = raw
        .classes
        .iter()
        .filter_map(|k| {
            let path = relative(k.file.as_deref()?)?;
            let mut names: BTreeSet<String> = k.dict_keys.iter().cloned().collect();
            if let Some(seen) = attributes.get(&(path.clone(), k.qualname.clone())) {
                names.extend(seen.attributes.iter().cloned());
            }
            Some(ClassCount {
                path,
                qualname: k.qualname.clone(),
                instances: k.instances,
                object_bytes: k.object_bytes,
                with_dict: k.with_dict,
                dict_bytes: k.dict_bytes,
                dict_sample: k.dict_sample,
                attributes: names.into_iter().collect(),
            })
        })
        .collect();
    classes.sort_by(|a, b| {
        b.instances
            .cmp(&a.instances)
            .then(a.qualname.cmp(&b.qualname))
    });
    let lists = raw
        .lists
        .iter()
        .filter_map(|s| {
            Some(ListSite {
                path: relative(&s.file)?,
                line: s.line,
                lists: s.lists,
                elements: s.elements.round() as u64,
                list_bytes: s.list_bytes.round() as u64,
                largest: s.largest,
                types: s.types.clone(),
                int_min: s.int_min,
                int_max: s.int_max,
                estimated: sampled,
            })
        })
        .collect();
    Census {
        level,
        of_peak: if peak == 0 {
            0.0
        } else {
            level as f64 / peak as f64
        },
        classes,
        lists,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_not_seen_is_said_of_the_process_that_was_probed() {
        let mut evidence = Evidence {
            version: PythonVersion::PY311,
            census: None,
            attributes: BTreeMap::new(),
            transient: BTreeMap::new(),
            queues: BTreeMap::new(),
            probed: BTreeSet::new(),
            children: false,
        };
        assert_eq!(
            unseen("never ran it", &evidence),
            "the workload never ran it"
        );
        evidence.children = true;
        assert_eq!(
            unseen("never ran it", &evidence),
            "the workload's own process never ran it (the processes it started may have; \
             they are not probed)"
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    fn counted(instances: u64, with_dict: u64, dict_bytes: u64, attributes: usize) -> ClassCount {
        ClassCount {
            path: "m.py".into(),
            qualname: "C".into(),
            instances,
            object_bytes: instances * 56,
            with_dict,
            dict_bytes,
            dict_sample: None,
            attributes: (0..attributes).map(|i| format!("a{i}")).collect(),
        }
    }

    fn candidate(saving: u64) -> Candidate {
        Candidate {
            path: "m.py".into(),
            line: 1,
            transform: "slots".into(),
            offset: 0,
            applicability: super::super::schema::Applicability::Safe,
            impact: pyslim_transforms::Impact::Memory,
            message: String::new(),
            measured: Measured::NotReached,
            saving,
            estimate: String::new(),
            dropped: None,
        }
    }

    const V311: PythonVersion = PythonVersion {
        major: 3,
        minor: 11,
    };

    #[test]
    fn dicts_over_inline_values_add_the_view_figure() {
        // 100 instances x 48 B, 10 of them with a 64 B dict made by vars().
        let mut c = candidate(4800);
        dict_saving(&mut c, &counted(100, 10, 640, 3), 3, 48, V311);
        assert_eq!(c.saving, 4800 + 10 * 64);
        assert!(
            c.estimate
                .contains("10 of them have a __dict__ (measured; +64 B each")
        );
    }

    #[test]
    fn dicts_counted_on_a_sample_say_so() {
        // 100,000 instances, 20,000 of them examined: the scaled counts are labelled.
        let mut c = candidate(100_000 * 48);
        let mut count = counted(100_000, 5_000, 320_000, 3);
        count.dict_sample = Some(20_000);
        dict_saving(&mut c, &count, 3, 48, V311);
        assert_eq!(c.saving, 100_000 * 48 + 5_000 * 64);
        assert!(
            c.estimate
                .contains("5,000 of them have a __dict__ (measured on 20,000 of them; +64 B each")
        );
    }

    #[test]
    fn dicts_holding_their_attributes_count_their_measured_bytes_less_the_slots() {
        // 30 attributes: each dict owns its keys and measures 1,584 B; the slots take
        // 240 B instead, and the 48 B figure (inline values) is not counted for them.
        let mut c = candidate(100 * 48);
        dict_saving(&mut c, &counted(100, 100, 158_400, 30), 13, 48, V311);
        assert_eq!(c.saving, 100 * (1584 - 240));
        assert!(
            c.estimate
                .contains("1,584 B less 240 B of slots = 1,344 B each")
        );
    }

    #[test]
    fn before_3_11_the_per_instance_figure_already_counts_the_dict() {
        let mut c = candidate(4800);
        let v310 = PythonVersion {
            major: 3,
            minor: 10,
        };
        dict_saving(&mut c, &counted(100, 100, 158_400, 30), 13, 48, v310);
        assert_eq!(c.saving, 4800);
        assert_eq!(c.estimate, "");
    }
}
