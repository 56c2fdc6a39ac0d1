//! `pyslim profile`, `check --profile` and `rewrite --verify --workload` on
//! `fixtures/projects/workload`, whose heap at the peak is known by construction (see
//! `shapes/geometry.py`): at `--n 20000`, 20,000 `Point`s, a local list of 60,000
//! floats (`values`, line 40), 20,000 floats whose type only a run shows (`prices`,
//! line 44), 5,000 products in a comprehension `sum()` consumes (line 56), two
//! `Settings`, three `Label`s that get an attribute at run time, a queue drained with
//! `pop(0)`.
//!
//! Needs the test virtualenv (`bash tests/setup-test-venv.sh`).

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

#[path = "common/projects.rs"]
mod projects;
use projects::{fixture, venv};
#[path = "common/venvs.rs"]
mod venvs;
use venvs::venv_importing_src_of;

/// A fresh copy of the workload project.
fn project() -> tempfile::TempDir {
    fixture("workload")
}

fn pyslim(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pyslim").unwrap();
    cmd.current_dir(dir).env_remove("VIRTUAL_ENV");
    cmd
}

/// Runs `pyslim profile` and returns the profile it wrote.
fn profile(dir: &Path) -> Value {
    profile_of(dir, "bench.py --n 20000")
}

/// Runs `pyslim profile --workload WORKLOAD` in `dir` with the test venv.
fn run_profile(dir: &Path, workload: &str) -> std::process::Output {
    pyslim(dir)
        .args(["profile", "--workload", workload, "--venv"])
        .arg(venv())
        .output()
        .unwrap()
}

/// Runs `pyslim rewrite --verify --workload WORKLOAD ARGS...` in `dir` with the test
/// venv.
fn verify_workload(dir: &Path, workload: &str, args: &[&str]) -> std::process::Output {
    pyslim(dir)
        .args(["rewrite", "--verify", "--workload", workload])
        .args(args)
        .arg("--venv")
        .arg(venv())
        .output()
        .unwrap()
}

/// Runs `pyslim profile --workload WORKLOAD` and returns the profile it wrote.
fn profile_of(dir: &Path, workload: &str) -> Value {
    let out = run_profile(dir, workload);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join(".pyslim/profile.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn class<'a>(profile: &'a Value, name: &str) -> &'a Value {
    profile["census"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["qualname"] == name)
        .unwrap_or_else(|| panic!("no census entry for {name}: {profile:#}"))
}

fn candidate<'a>(profile: &'a Value, transform: &str, line: u64) -> &'a Value {
    profile["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["transform"] == transform && c["line"] == line)
        .unwrap_or_else(|| panic!("no {transform} candidate at line {line}"))
}

#[test]
fn the_profile_counts_the_heap_at_the_peak_and_ranks_what_pays() {
    let dir = project();
    let p = profile(dir.path());
    assert_eq!(p["version"], 1);
    assert_eq!(p["workload"]["kind"], "script");
    assert_eq!(p["meter"], "native");
    assert_eq!(p["started_processes"], false);
    // The census is taken on the way to the peak, near its top.
    let of_peak = p["census"]["of_peak"].as_f64().unwrap();
    assert!((0.97..=1.0).contains(&of_peak), "{of_peak}");

    // Exact counts, by construction.
    assert_eq!(class(&p, "Point")["instances"], 20_000);
    assert_eq!(class(&p, "Settings")["instances"], 2);
    assert_eq!(class(&p, "Label")["instances"], 3);
    assert_eq!(
        class(&p, "Label")["attributes"],
        serde_json::json!(["note", "text"])
    );
    let lists = p["census"]["lists"].as_array().unwrap();
    let at = |line: u64| {
        lists
            .iter()
            .find(|l| l["path"] == "shapes/geometry.py" && l["line"] == line)
            .unwrap_or_else(|| panic!("no list site at line {line}: {lists:#?}"))
    };
    assert_eq!(at(40)["elements"], 60_000);
    assert_eq!(at(40)["types"], serde_json::json!({"float": 1}));
    assert_eq!(at(44)["elements"], 20_000);

    // Ranked by estimated saving at the peak: the float list, the points, the list only
    // the run could type, the comprehension; the rest below 64 KiB.
    let ranked: Vec<(String, u64)> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["dropped"].is_null())
        .take(4)
        .map(|c| {
            (
                c["transform"].as_str().unwrap().to_string(),
                c["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        [
            ("array".to_string(), 38),
            ("slots".to_string(), 13),
            ("array".to_string(), 42),
            ("generator".to_string(), 56)
        ]
    );
    // 20,000 instances x 40 B on 3.11 (docs/memory-figures.md).
    assert_eq!(candidate(&p, "slots", 13)["saving"], 800_000);
    assert_eq!(candidate(&p, "slots", 19)["saving"], 80);
    // 60,000 floats x (32.4 - 8.2) B.
    let values = candidate(&p, "array", 38)["saving"].as_u64().unwrap();
    assert!((1_400_000..1_500_000).contains(&values), "{values}");
    // Only the run typed `prices`: an unsafe candidate that says so.
    let prices = candidate(&p, "array", 42);
    assert_eq!(prices["applicability"], "unsafe");
    assert!(
        prices["message"]
            .as_str()
            .unwrap()
            .contains("observed at run time holding only floats"),
        "{prices}"
    );
    let comprehension = candidate(&p, "generator", 56);
    assert_eq!(comprehension["measured"]["largest"], 5_000);
    assert_eq!(comprehension["measured"]["at_peak"], true);
    // `Label` instances got `note`: its slots are dropped by run-time evidence.
    assert_eq!(
        candidate(&p, "slots", 25)["dropped"],
        "observed at run time: instances got `note` outside the slots"
    );
    // The queue: time, counted.
    let queue = candidate(&p, "deque", 66);
    assert_eq!(queue["impact"], "time");
    assert_eq!(queue["saving"], 0);
    assert_eq!(queue["measured"]["calls"], 2_000);
}

/// A peak in the middle of the run, far above where the run ends: the census run (paced
/// behind the peak run) still counts the heap at that peak, not at the end.
#[test]
fn the_census_lands_on_a_peak_the_run_climbs_down_from() {
    let dir = project();
    std::fs::write(
        dir.path().join("phases.py"),
        "from shapes.geometry import Label, Settings\n\
         \n\
         big = [Settings(str(i)) for i in range(40000)]\n\
         print(len(big))\n\
         del big\n\
         small = [Label(str(i)) for i in range(2000)]\n\
         print(len(small))\n",
    )
    .unwrap();
    let p = profile_of(dir.path(), "phases.py");
    let of_peak = p["census"]["of_peak"].as_f64().unwrap();
    assert!((0.99..=1.0).contains(&of_peak), "{of_peak}");
    // At 99.5% of the peak or above, nearly all of the first phase's instances are
    // alive and none of the second's exist yet.
    let settings = class(&p, "Settings")["instances"].as_u64().unwrap();
    assert!((39_000..=40_000).contains(&settings), "{settings}");
    assert!(
        p["census"]["classes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["qualname"] != "Label" || c["instances"] == 0),
        "{:#}",
        p["census"]
    );
}

#[test]
fn check_with_a_profile_applies_only_what_pays_and_says_what_is_stale() {
    let dir = project();
    profile(dir.path());
    let check = |args: &[&str]| -> Value {
        let out = pyslim(dir.path())
            .args([
                "check",
                "--unsafe",
                "--format",
                "json",
                "--profile",
                ".pyslim/profile.json",
            ])
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    };
    let report = check(&[]);
    let ranked = report["profile"]["fixes"].as_array().unwrap();
    let status = |transform: &str, line: u64| -> String {
        ranked
            .iter()
            .find(|f| f["key"]["transform"] == transform && f["line"] == line)
            .map(|f| f["profile"]["status"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{transform}:{line} not ranked: {ranked:#?}"))
    };
    assert_eq!(status("slots", 13), "pays");
    assert_eq!(status("array", 38), "pays");
    assert_eq!(status("generator", 56), "pays");
    assert_eq!(status("deque", 66), "time");
    // Two Settings save 80 B: below the default 64 KiB.
    assert_eq!(status("slots", 19), "below");
    // Only what pays is in the findings.
    let applied: usize = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fixes"].as_array().unwrap().len())
        .sum();
    assert_eq!(applied, report["fixes"].as_u64().unwrap() as usize);
    assert!(
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["fixes"].as_array().unwrap())
            .all(|f| f["line"] != 19)
    );
    // --min-saving 0 keeps everything that was not dropped.
    let everything = check(&["--min-saving", "0"]);
    let statuses: Vec<&str> = everything["profile"]["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["profile"]["status"].as_str().unwrap())
        .collect();
    assert!(!statuses.contains(&"below"), "{statuses:?}");

    // A file changed since the profile: its rewrites are unranked, and said so.
    let path = dir.path().join("shapes/geometry.py");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&path, text).unwrap();
    let stale = check(&[]);
    assert_eq!(
        stale["profile"]["stale_files"],
        serde_json::json!(["shapes/geometry.py"])
    );
    assert_eq!(stale["profile"]["fixes"][0]["profile"]["status"], "stale");
}

#[test]
fn a_failing_workload_stops_with_its_output_and_writes_nothing() {
    let dir = project();
    let out = run_profile(dir.path(), "bench.py --n many");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the workload `python bench.py --n many` failed"),
        "{stderr}"
    );
    // argparse's own message, from the output's tail.
    assert!(stderr.contains("invalid int value: 'many'"), "{stderr}");
    assert!(!dir.path().join(".pyslim").exists());
}

/// The worker ends without tearing the heap down, but what a program can observe of
/// its shutdown still happens: non-daemon threads finish, atexit handlers run, and
/// buffered output is written (here seen in the failing workload's output tail).
#[test]
fn a_workload_shuts_down_as_under_python() {
    let dir = project();
    std::fs::write(
        dir.path().join("ends.py"),
        "import atexit, sys, threading, time\n\
         \n\
         def late():\n\
         \x20   time.sleep(0.2)\n\
         \x20   print('the thread finished')\n\
         \n\
         threading.Thread(target=late).start()\n\
         atexit.register(lambda: print('atexit ran'))\n\
         print('main returned')\n\
         sys.exit(4)\n",
    )
    .unwrap();
    let out = run_profile(dir.path(), "ends.py");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exit"), "{stderr}");
    let tail = stderr
        .split_once("main returned")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{stderr}"));
    let thread = tail.find("the thread finished");
    let atexit = tail.find("atexit ran");
    assert!(thread.is_some() && atexit.is_some(), "{stderr}");
    assert!(thread < atexit, "{stderr}");
}

/// The probes watch attribute writes on every project class without changing what a
/// write does: a subclass whose bases put a `__setattr__` after a watched class still
/// goes through it (the census run's workload fails otherwise, and pyslim says so).
#[test]
fn watching_attribute_writes_keeps_a_mixins_setattr() {
    let dir = project();
    std::fs::write(
        dir.path().join("shapes/mixins.py"),
        "class Plain:\n\
         \x20   pass\n\
         \n\
         \n\
         class Checked:\n\
         \x20   writes = 0\n\
         \n\
         \x20   def __setattr__(self, name, value):\n\
         \x20       Checked.writes += 1\n\
         \x20       object.__setattr__(self, name, value)\n\
         \n\
         \n\
         class Both(Plain, Checked):\n\
         \x20   pass\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mix.py"),
        "from shapes.mixins import Both, Checked\n\
         \n\
         b = Both()\n\
         b.n = 1\n\
         if Checked.writes != 1:\n\
         \x20   raise SystemExit('the mixin did not see the write')\n\
         print('ok')\n",
    )
    .unwrap();
    let out = run_profile(dir.path(), "mix.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("the run with probes failed"), "{stderr}");
}

/// `@dataclass(slots=True)` builds a new class from the watched one's namespace, the
/// wrapper included: its instances are no instances of the class the probes watched,
/// and the wrapper still hands each write on along their own MRO.
#[test]
fn watching_attribute_writes_survives_a_decorator_that_rebuilds_the_class() {
    let dir = project();
    std::fs::write(
        dir.path().join("shapes/rebuilt.py"),
        "from dataclasses import dataclass\n\
         \n\
         \n\
         @dataclass(slots=True)\n\
         class Token:\n\
         \x20   kind: str\n\
         \x20   value: int\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tokens.py"),
        "from shapes.rebuilt import Token\n\
         \n\
         tokens = [Token('n', i) for i in range(100)]\n\
         tokens[0].value = 5\n\
         print(sum(t.value for t in tokens))\n",
    )
    .unwrap();
    let out = run_profile(dir.path(), "tokens.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("the run with probes failed"), "{stderr}");
}

/// `child.py`: a workload that runs the library in a process of its own.
fn write_child_workload(dir: &Path) {
    std::fs::write(
        dir.join("child.py"),
        "import subprocess, sys\n\
         \n\
         code = 'from shapes.geometry import Point, drain, total_area; \\\n\
         print(total_area([Point(2, 3)]), drain(5))'\n\
         out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)\n\
         assert out.stdout == '6 5\\n', out.stderr\n",
    )
    .unwrap();
}

/// A probe inside another's construct (`q.insert(0, sum([...]))`: a queue and a
/// consumed-once list) measures both; this run used to panic.
#[test]
fn probes_nest_inside_each_other() {
    let dir = project();
    std::fs::write(
        dir.path().join("shapes/nest.py"),
        "def work(rows):\n    q = []\n    for r in rows:\n        q.insert(0, sum([x * 2 for x in r]))\n    out = 0\n    while q:\n        out += q.pop(0)\n    return out\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("nest.py"),
        "from shapes.nest import work\n\nprint(work([[1, 2], [3, 4]] * 1000))\n",
    )
    .unwrap();
    let p = profile_of(dir.path(), "nest.py");
    let at = |transform: &str, line: u64| {
        p["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["transform"] == transform && c["path"] == "shapes/nest.py" && c["line"] == line
            })
            .unwrap_or_else(|| panic!("no {transform} candidate at line {line}: {p:#}"))
            .clone()
    };
    // 2,000 inserts at lengths 0 to 1,999 and 2,000 pops at lengths 2,000 to 1.
    assert_eq!(
        at("deque", 2)["estimate"],
        "time, not memory: 4,000 front operations shifted 4,000,000 elements in all (O(1) \
         each on a deque)"
    );
    let generator = at("generator", 4);
    assert_eq!(generator["measured"]["runs"], 2000, "{generator:#}");
    assert_eq!(generator["measured"]["largest"], 2, "{generator:#}");
}

/// The workload runs part of its work in a child process, which imports the probed
/// working copy without the worker's hooks: the copy's stand-ins let it run as the
/// original would. The report says that process is in none of its figures.
#[test]
fn a_process_the_workload_starts_runs_the_probed_copy() {
    let dir = project();
    write_child_workload(dir.path());
    let out = run_profile(dir.path(), "child.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("the run with probes failed"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "  it started other processes: nothing measures them, and their memory is in \
             none of these figures, which are the workload's own process's\n"
        ),
        "{stdout}"
    );
    let text = std::fs::read_to_string(dir.path().join(".pyslim/profile.json")).unwrap();
    let profile: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(profile["started_processes"], true);
    // `total_area` ran in the child only, where nothing is probed.
    assert_eq!(
        candidate(&profile, "generator", 56)["estimate"],
        "the workload's own process never ran it (the processes it started may have; \
         they are not probed)"
    );
}

/// Under `--verify`, the before/after figures are the workload's own process's too,
/// and the report says so (text, and the pull request's description).
#[test]
fn rewrite_verify_with_a_workload_that_starts_a_process_says_so() {
    let dir = project();
    write_child_workload(dir.path());
    let out = verify_workload(
        dir.path(),
        "child.py",
        &["--min-saving", "0", "--dry-run", "--report", "pr.md"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Workload `python child.py`:")
            && stderr.contains(
                "  it started other processes: nothing measures them, and none of these \
                 figures covers them\n"
            ),
        "{stderr}"
    );
    let pr = std::fs::read_to_string(dir.path().join("pr.md")).unwrap();
    assert!(
        pr.contains(
            "The workload started other processes: nothing measures them, and none of \
             these figures covers them."
        ),
        "{pr}"
    );
}

/// An unsafe rewrite the tests accept but that changes what the workload prints
/// (`any([...])` stops calling at the first true item as a generator) is searched
/// out and dropped, with the line that changed; the figures are those of the others.
#[test]
fn a_rewrite_that_changes_the_workload_output_is_dropped() {
    let dir = project();
    std::fs::write(
        dir.path().join("shapes/audit.py"),
        "def _check(x):\n    print('checked', x)\n    return x > 1\n\n\n\
         def any_big(xs):\n    return any([_check(x) for x in xs])\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tests/test_audit.py"),
        "from shapes.audit import any_big\n\n\ndef test_any_big():\n    assert any_big([1, 2, 3])\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("audit.py"),
        "from shapes.audit import any_big\nfrom shapes.geometry import make_points\n\n\
         points = make_points(20000)\nprint(any_big([1, 5, 7]), len(points))\n",
    )
    .unwrap();
    let out = verify_workload(
        dir.path(),
        "audit.py",
        &[
            "--unsafe",
            "--min-saving",
            "0",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fixes = report["verify"]["fixes"].as_array().unwrap();
    let generator = fixes
        .iter()
        .find(|f| f["path"] == "shapes/audit.py")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(generator["kept"], false, "{generator:#}");
    assert_eq!(
        generator["dropped_because"]["detail"],
        "line 3 was \"checked 7\" and is now \"True 20000\"",
        "{generator:#}"
    );
    assert!(
        fixes
            .iter()
            .any(|f| f["kept"] == true && f["key"]["transform"] == "slots"),
        "{report:#}"
    );
    assert_eq!(report["verify"]["workload"]["output"], "identical");
}

#[test]
fn an_install_from_another_folder_stops_after_the_first_run() {
    // The src layout of `editable/`, whose venv imports `audit` from another copy.
    let dir = fixture("editable");
    let other = fixture("editable");
    let inner = venv_importing_src_of(dir.path(), other.path());
    // Each run of the workload leaves a line outside the working copies.
    let runs = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        dir.path().join("run.py"),
        format!(
            "import audit\nprint(audit.check_all([1, 2], []))\n\
             with open({:?}, 'a') as f:\n    f.write('ran\\n')\n",
            runs.path()
        ),
    )
    .unwrap();
    let out = pyslim(dir.path())
        .args(["profile", "--workload", "run.py", "--venv"])
        .arg(&inner)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "the workload imported the project's module `audit` from {}: another copy of the \
         project",
        other.path().join("src/audit/__init__.py").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!dir.path().join(".pyslim").exists());
    // The peak run showed it, beside the census run: the plain run never started.
    let ran = std::fs::read_to_string(runs.path()).unwrap();
    assert_eq!(ran.lines().count(), 2, "{stderr}");
}

#[test]
fn a_missing_workload_script_is_named() {
    let dir = project();
    let out = run_profile(dir.path(), "nowhere.py");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the workload script") && stderr.contains("nowhere.py does not exist"),
        "{stderr}"
    );
}

/// The migration in one command: profile, select, verify, measure before and after.
#[test]
fn rewrite_verify_with_a_workload_measures_it_before_and_after() {
    let dir = project();
    let before = std::fs::read_to_string(dir.path().join("shapes/geometry.py")).unwrap();
    let out = verify_workload(
        dir.path(),
        "bench.py --n 20000",
        &["--repeat", "3", "--dry-run", "--format", "json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("shapes/geometry.py")).unwrap(),
        before,
        "a dry run wrote the user's file"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verify = &json["verify"];
    // Only what pays was verified: not the two Settings (80 B), not the labels.
    let verified: Vec<(String, u64)> = verify["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["key"]["transform"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(verified.contains(&("slots".into(), 13)), "{verified:?}");
    assert!(!verified.contains(&("slots".into(), 19)), "{verified:?}");
    assert!(!verified.contains(&("slots".into(), 25)), "{verified:?}");
    let workload = &verify["workload"];
    assert_eq!(workload["output"], "identical");
    assert_eq!(workload["runs_per_side"], 3);
    assert_eq!(workload["started_processes"], false);
    let traced = &workload["traced"];
    assert_eq!(traced["real"], true, "{workload:#}");
    // By construction about 2.8 MB leave the peak (docs: the fixture's module doc).
    let change = traced["change"].as_i64().unwrap();
    assert!((-3_200_000..-2_400_000).contains(&change), "{change}");
    // The slots rewrite is its transform's only one: measured alone, close to its
    // estimate of 800,000 B.
    let slots = workload["rewrites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["transform"] == "slots")
        .unwrap();
    assert_eq!(slots["estimated"], 800_000);
    assert_eq!(slots["together"], 1);
    let measured = slots["measured"]["change"].as_i64().unwrap();
    assert!((-880_000..-720_000).contains(&measured), "{measured}");
    // The two float lists are measured together, as their transform: 80,000 floats
    // leave the peak (24.4 B each, the float object and the spare pointer, as the
    // array holds 8 B per element).
    let arrays: Vec<&Value> = workload["rewrites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["transform"] == "array")
        .collect();
    assert_eq!(arrays.len(), 2, "{workload:#}");
    for array in &arrays {
        assert_eq!(array["together"], 2);
        let measured = array["measured"]["change"].as_i64().unwrap();
        assert!((-2_300_000..-1_600_000).contains(&measured), "{measured}");
    }
    // The queue is a time rewrite: no memory estimate is claimed for it.
    let deque = workload["rewrites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["transform"] == "deque")
        .unwrap();
    assert_eq!(deque["impact"], "time");
    assert_eq!(deque["estimated"], Value::Null);
    // The sites after are named by the original file's lines, though the rewritten
    // copy gained import and `__slots__` lines: the points (line 33, slotted) are still
    // there after, and the float lists (lines 40 and 44) hold far less.
    let site = |side: &str, name: &str| -> Option<u64> {
        workload[side]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["site"] == name)
            .map(|s| s["bytes"].as_u64().unwrap())
    };
    let points = site("sites_before", "shapes/geometry.py:33").unwrap();
    let slotted = site("sites_after", "shapes/geometry.py:33").unwrap();
    assert!(slotted < points && slotted > points / 4, "{workload:#}");
    let floats = site("sites_before", "shapes/geometry.py:40").unwrap();
    assert!(site("sites_after", "shapes/geometry.py:40").is_none_or(|b| b < floats / 2));
}

/// The native meter counts what tracemalloc counts (bytes requested from Python's
/// allocators), at a fraction of its cost: the same workload's traced peak agrees.
/// When the ranking sends no rewrite to the tests, the tests do not run, and the output
/// says how many were found and left out, not that none were found.
#[test]
fn a_ranking_that_keeps_nothing_runs_no_tests_and_says_what_it_left_out() {
    let dir = project();
    // The queue's rewrite is for time, not memory: the ranking would keep it.
    let out = verify_workload(
        dir.path(),
        "bench.py --n 2000",
        &["--min-saving", "1GiB", "--ignore", "deque", "--dry-run"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let found = stderr
        .split(": 0 of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no ranking line: {stderr}"));
    assert!(found > 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{found} save less than 1024.00 MiB at the peak or were not profiled, and are not \
             applied (`--min-saving 0` keeps them)."
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Verification: no rewrite to verify; the tests were not run."),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("None of the {found} rewrites found is applied")),
        "{stderr}"
    );
}

#[test]
#[cfg(feature = "embedded")]
fn the_native_meter_agrees_with_tracemalloc() {
    use pyslim::python::runner::{Mode, RunSpec, Runner};
    use pyslim::python::worker::{MeterMode, Target};
    let dir = project();
    let scratch = tempfile::tempdir().unwrap();
    let peak = |mode: Mode, serial: usize| -> (String, u64) {
        let runner = Runner {
            worker_exe: std::path::PathBuf::from(env!("CARGO_BIN_EXE_pyslim")),
            venv: venv(),
            mode,
            workdir: dir.path().to_path_buf(),
            original_root: dir.path().to_path_buf(),
            args: Vec::new(),
            timeout: std::time::Duration::from_secs(120),
            scratch: scratch.path().to_path_buf(),
            progress: false,
            modules: Default::default(),
        };
        let mut spec = RunSpec::new(
            "peak",
            Target::Workload {
                argv: vec!["bench.py".into(), "--n".into(), "20000".into()],
            },
        );
        spec.meter = MeterMode::Peak;
        let run = runner.launch(spec, serial).unwrap();
        let traced = run.result.unwrap().traced.unwrap();
        (traced.meter.clone(), traced.peak_above_start())
    };
    let (native, a) = peak(Mode::Embedded, 1);
    let (tracemalloc, b) = peak(Mode::VenvInterpreter, 2);
    assert_eq!(
        (native.as_str(), tracemalloc.as_str()),
        ("native", "tracemalloc")
    );
    let ratio = a as f64 / b as f64;
    assert!(
        (0.99..1.01).contains(&ratio),
        "native {a} B, tracemalloc {b} B"
    );
}

/// Static output quotes the figures of the target version; verification those of the
/// Python the tests ran on.
#[test]
fn figures_follow_the_python_that_runs() {
    let dir = project();
    std::fs::write(
        dir.path().join("pyslim.toml"),
        "target-version = \"3.10\"\n",
    )
    .unwrap();
    let message = |args: &[&str]| -> String {
        let out = pyslim(dir.path())
            .args(args)
            .args(["--select", "slots", "--unsafe", "--format", "json"])
            .output()
            .unwrap();
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        json["files"][0]["fixes"][0]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let check = message(&["check"]);
    assert!(
        check.contains("saves ~104 B per instance on 3.10"),
        "{check}"
    );
    let venv = venv();
    let verified = message(&[
        "rewrite",
        "--verify",
        "--dry-run",
        "--repeat",
        "1",
        "--venv",
        venv.to_str().unwrap(),
    ]);
    assert!(
        verified.contains("saves ~40 B per instance on 3.11"),
        "{verified}"
    );
}

/// Without a workload, the test suite is the workload.
#[test]
fn without_a_workload_the_test_suite_is_profiled() {
    let dir = project();
    let out = pyslim(dir.path())
        .args(["profile", "--format", "json", "--venv"])
        .arg(venv())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["workload"]["kind"], "tests");
    assert_eq!(p["workload"]["argv"], serde_json::json!(["-m", "pytest"]));
    assert!(p["traced_peak"].as_u64().unwrap() > 0);
    assert_eq!(
        p["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["label"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["plain", "peak", "census and probes"]
    );
}
