//! Unit tests for the index and the project decision (the fixtures cover the rewrite).

use crate::{FileContext, ModuleInfo, Settings, parse};

use super::decide::{self, Plan, ProjectPlan};
use super::index;

fn summarise(name: &str, is_package: bool, source: &str) -> index::FileSummary {
    summarise_as(name, is_package, source, false)
}

fn summarise_as(name: &str, is_package: bool, source: &str, read_only: bool) -> index::FileSummary {
    let module = parse(source).expect("test source parses");
    let info = ModuleInfo {
        name: name.into(),
        is_package,
        path: format!("{name}.py"),
    };
    let settings = Settings::default();
    let ctx = FileContext {
        module: &module,
        info: &info,
        settings: &settings,
        project: None,
        read_only,
    };
    index::index_file(&ctx)
}

fn decide(files: &[(&str, bool, &str)]) -> ProjectPlan {
    let summaries: Vec<_> = files
        .iter()
        .map(|(name, pkg, src)| summarise(name, *pkg, src))
        .collect();
    decide::decide(&summaries)
}

fn plan<'p>(plan: &'p ProjectPlan, module: &str, qualname: &str) -> &'p Plan {
    plan.classes
        .get(&decide::key(module, qualname))
        .unwrap_or_else(|| panic!("no plan for {module}.{qualname}"))
}

fn skip(p: &Plan) -> String {
    match p {
        Plan::Skip(reason) => reason.to_string(),
        other => panic!("not skipped: {other:?}"),
    }
}

fn slots(p: &Plan) -> Vec<&str> {
    match p {
        Plan::Slots(s) => s.slots.iter().map(String::as_str).collect(),
        other => panic!("not slotted: {other:?}"),
    }
}

/// Why the slots of `p` are unproven, without the site a reason names (see
/// [`an_unknown_use_is_named_by_its_first_site`] for those).
fn unproven(p: &Plan) -> Vec<String> {
    unproven_with_sites(p)
        .into_iter()
        .map(|text| match text.rsplit_once(" at ") {
            Some((reason, site)) if site.contains(".py:") => reason.to_string(),
            _ => text,
        })
        .collect()
}

/// Why the slots of `p` are unproven, as the messages say it.
fn unproven_with_sites(p: &Plan) -> Vec<String> {
    match p {
        Plan::Slots(s) => s.unproven.iter().map(ToString::to_string).collect(),
        other => panic!("not slotted: {other:?}"),
    }
}

const TWO_CLASSES: &str = "class A:\n    def __init__(self):\n        self.a = 1\nclass B:\n    def __init__(self):\n        self.b = 1\n";

/// What `decide` says about class `B` of [`TWO_CLASSES`] once `code` follows it: a
/// write of `a` on an object pyslim cannot type leaves `B` (which has no `a`)
/// unproven, a write on an `A` does not.
fn b_unproven(code: &str) -> Vec<String> {
    let p = decide(&[("m", false, &format!("{TWO_CLASSES}{code}"))]);
    unproven(plan(&p, "m", "B"))
}

const WRITE_A_ON_UNKNOWN: &str = "attribute `a` is written on an object of unknown type";

/// After `prefix`, each of `typed` leaves `B` of [`TWO_CLASSES`] proven (its write of
/// `a` lands on an object pyslim knows is an `A`, or no project instance), and each of
/// `untyped` leaves it unproven by that write.
fn assert_typed_writes(prefix: &str, typed: &[&str], untyped: &[&str]) {
    for code in typed {
        assert!(b_unproven(&format!("{prefix}{code}")).is_empty(), "{code}");
    }
    for code in untyped {
        assert_eq!(
            b_unproven(&format!("{prefix}{code}")),
            [WRITE_A_ON_UNKNOWN],
            "{code}"
        );
    }
}

mod confined;
mod decision;
mod file_summary;
mod reflection;
mod types;
