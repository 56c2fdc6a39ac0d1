//! Verification end to end: `pyslim::verify::run` and the real `pyslim __worker` on the
//! small projects in `fixtures/projects/`, and `pyslim rewrite --verify` from a clean
//! environment.
//!
//! Needs a virtualenv with pytest: `bash tests/setup-test-venv.sh` creates
//! `target/test-venv` (or set `PYSLIM_TEST_VENV`).
//!
//! Library-level tests take candidate fixes from `StandInGenerator` below (exact control
//! over names and counts, e.g. two transforms for attribution): it rewrites
//! `f([... for ...])` to `f(... for ...)` for `sum`/`max`/`min` (safe) and `any`/`all`
//! (unsafe: they short-circuit), as the real `generator` transform does; the CLI tests
//! use the real transforms.
//!
//! These tests run the embedded worker, so they need the `embedded` feature (the
//! default); a build without it is covered by `tests/modes.rs`.
#![cfg(feature = "embedded")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use pyslim::load::decode::DecodedSource;
use pyslim::load::{ProjectFile, module_info};
use pyslim::python::runner::{Mode, RunOutcome, Runner};
use pyslim::report::markdown::Written;
use pyslim::verify::{Blame, VerifyRequest};
use pyslim_transforms::{
    Avoided, Edit, FileContext, Finding, Fix, Output, PerUnit, Saving, Settings, Subject, Transform,
};
use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

#[path = "common/projects.rs"]
mod projects;
use projects::{fixture, venv};
#[path = "common/venvs.rs"]
mod venvs;
use venvs::{bare_venv, site_packages, venv_importing_src_of};

/// Rewrites comprehensions passed to `consumers`; two instances with different names
/// stand for two transforms (per-transform attribution).
struct StandInGenerator {
    name: &'static str,
    consumers: &'static [&'static str],
}

impl Transform for StandInGenerator {
    fn name(&self) -> &'static str {
        self.name
    }
    fn summary(&self) -> &'static str {
        "stand-in for tests"
    }
    fn applicability(&self) -> &'static str {
        "safe for sum/max/min, unsafe for any/all"
    }
    fn documentation(&self) -> &'static str {
        ""
    }
    fn run(&self, ctx: &FileContext) -> Output {
        let mut finder = Finder(Vec::new(), self);
        for stmt in &ctx.module.ast().body {
            finder.visit_stmt(stmt);
        }
        Output {
            findings: finder.0,
            notes: Vec::new(),
        }
    }
}

struct Finder<'t>(Vec<Finding>, &'t StandInGenerator);

impl<'a> Visitor<'a> for Finder<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        ruff_python_ast::visitor::walk_stmt(self, stmt);
    }
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && let Expr::Name(name) = &*call.func
            && let [Expr::ListComp(comp)] = &*call.arguments.args
            && call.arguments.keywords.is_empty()
        {
            let id = name.id.as_str();
            let safe = match id {
                _ if !self.1.consumers.contains(&id) => None,
                "sum" | "max" | "min" => Some(true),
                "any" | "all" => Some(false),
                _ => None,
            };
            if let Some(safe) = safe {
                let r = comp.range();
                let one = TextSize::new(1);
                // The sole argument: the call's parentheses serve the generator.
                let open = Edit::deletion(r.start(), r.start() + one);
                let close = Edit::deletion(r.end() - one, r.end());
                let fix = if safe {
                    Fix::safe_edits(open, [close])
                } else {
                    Fix::unsafe_edits(open, [close])
                };
                self.0.push(Finding {
                    transform: self.1.name,
                    range: r,
                    message: format!("list comprehension in `{}()` becomes a generator", name.id),
                    fix,
                    saving: Saving {
                        subject: Subject::Transient { range: r },
                        per_unit: PerUnit::Generator {
                            avoided: Avoided::ListAndItems,
                        },
                    },
                });
            }
        }
        walk_expr(self, expr);
    }
}

static STAND_IN: StandInGenerator = StandInGenerator {
    name: "generator",
    consumers: &["sum", "max", "min", "any", "all"],
};

/// For the attribution test: `generator` without max/min, and a second transform.
static STAND_IN_SUM_ANY: StandInGenerator = StandInGenerator {
    name: "generator",
    consumers: &["sum", "any", "all"],
};
static STAND_IN_MAX: StandInGenerator = StandInGenerator {
    name: "minmax",
    consumers: &["max", "min"],
};

/// The project's non-test Python files, with the stand-in transform.
fn load(root: &Path) -> Vec<ProjectFile> {
    load_with(root, &[&STAND_IN])
}

fn load_with(root: &Path, transforms: &[&'static dyn Transform]) -> Vec<ProjectFile> {
    let mut paths = Vec::new();
    collect(root, &mut paths);
    paths.sort();
    let settings = Arc::new(Settings::default());
    paths
        .into_iter()
        .map(|path| {
            let display = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            ProjectFile::new(
                path.clone(),
                module_info(&path, display),
                DecodedSource::decode(&std::fs::read(&path).unwrap()).unwrap(),
                settings.clone(),
                transforms.to_vec(),
                transforms.to_vec(),
            )
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" && name != "__pycache__" && !name.starts_with('.') {
                collect(&path, out);
            }
        } else if name.ends_with(".py") && !name.starts_with("test_") {
            out.push(path);
        }
    }
}

fn request(root: &Path) -> VerifyRequest {
    VerifyRequest {
        root: root.to_path_buf(),
        venv: Some(venv()),
        args: Vec::new(),
        repeat: 1,
        timeout: Some(Duration::from_secs(60)),
        workload: None,
        unsafe_fixes: true,
        require_embedded: true,
        progress: false,
        worker_exe: Some(PathBuf::from(env!("CARGO_BIN_EXE_pyslim"))),
    }
}

/// Every file under `root` with its bytes, to prove the user's files were not touched.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_fix_that_breaks_a_test_is_dropped_and_the_others_kept() {
    let dir = fixture("breaks");
    let before = snapshot(dir.path());
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts).unwrap();
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the user's files were touched"
    );

    assert!(report.baseline_failures.is_empty());
    assert_eq!(report.baseline_tests, 3);
    assert_eq!(report.fixes.len(), 3);
    let dropped: Vec<_> = report.fixes.iter().filter(|f| !f.kept).collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].path, "shop/cart.py");
    assert_eq!(dropped[0].fix.line, 16);
    assert_eq!(
        dropped[0].dropped_because,
        Some(Blame::Tests {
            tests: vec!["tests/test_shop.py::test_audit_sees_every_item".into()]
        })
    );
    // The broken test reaches one fix only (the baseline recorded which functions it
    // ran): its re-check, then the survivors confirmed on the tests that reach them;
    // around that the baseline beside the all-fixes run, and one memory pair.
    assert_eq!(report.bisection_runs, 2);
    assert_eq!(report.runs, 6);
    assert!(report.flaky_tests.is_empty());

    // The CLI's final step: the fix loop with only the kept fixes.
    let texts = pyslim::engine::rewrite_kept(&files, &facts, true, &report.kept);
    let output = |i: usize| texts[i].as_ref().unwrap().output.clone().unwrap();
    let cart = output(1);
    assert!(cart.contains("sum(p * 2 for p in prices)"));
    assert!(cart.contains("any([_check(x, seen) for x in items])"));
    let stats = output(2);
    assert!(stats.contains("max(abs(v) for v in values)"));

    let text = pyslim::report::markdown::render(&report, Written::Nothing);
    assert!(text.contains("test_audit_sees_every_item"), "{text}");
    assert!(
        text.contains("rewrites kept but not written (dry run)"),
        "{text}"
    );
    assert_eq!(report.attribution.len(), 1);
}

/// Verifies the fixture project `name`'s `__slots__` candidates (unsafe ones too).
fn verify_slots(name: &str) -> pyslim::verify::VerifyReport {
    let dir = fixture(name);
    let slots = pyslim_transforms::registry::get("slots").unwrap();
    let mut files = load_with(dir.path(), &[slots]);
    let facts = pyslim::engine::index(&mut files);
    run_verify(&request(dir.path()), &files, &facts).unwrap()
}

/// `base-dropped`: the tests drop `Animal`'s `__slots__`; `Dog`'s own slots break no
/// test but would save nothing beside an `Animal` that keeps its dict, so they go too.
#[test]
fn a_subclass_whose_base_is_dropped_is_dropped_too() {
    let report = verify_slots("base-dropped");
    let fates: Vec<_> = report
        .fixes
        .iter()
        .map(|f| (f.fix.line, f.kept, f.dropped_because.clone()))
        .collect();
    assert_eq!(
        fates,
        [
            (
                5,
                false,
                Some(Blame::Tests {
                    tests: vec!["tests/test_zoo.py::test_tag".into()]
                })
            ),
            (
                10,
                false,
                Some(Blame::BaseDropped {
                    base: "zoo.animals.Animal".into()
                })
            ),
        ]
    );
    assert!(report.kept.iter().all(|k| k.is_empty()));
    let text = pyslim::report::markdown::render(&report, Written::Nothing);
    assert!(
        text.contains("because a base class it needs was dropped (no saving without it)"),
        "{text}"
    );
}

#[test]
fn the_tests_of_a_subclass_verify_its_abstract_base() {
    let report = verify_slots("abstract-base");
    let fates: Vec<_> = report
        .fixes
        .iter()
        .map(|f| (f.fix.line, f.kept, f.dropped_because.clone(), f.tests))
        .collect();
    // `Step` is reached by the one test through `Upper`'s methods: before, it was
    // dropped as not exercised, and `Upper` with it as saving nothing.
    assert_eq!(fates, [(5, true, None, Some(1)), (10, true, None, Some(1))]);
}

/// `custom-items`: a conftest collects `samples/broken.py` as a test, as pygments does
/// its example sources; the file is data and does not import. The culprit search runs
/// that test alone: given on the command line, the file would be imported as a test
/// module, fail with every set of rewrites, and take the innocent rewrite too.
#[test]
fn a_search_among_items_a_conftest_collects_from_py_files_finds_only_the_culprit() {
    let dir = fixture("custom-items");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts).unwrap();
    let fates: Vec<_> = report
        .fixes
        .iter()
        .map(|f| (f.path.as_str(), f.kept, f.dropped_because.clone()))
        .collect();
    assert_eq!(
        fates,
        [
            ("pkg/alpha.py", true, None),
            (
                "pkg/checks.py",
                false,
                Some(Blame::Tests {
                    tests: vec!["samples/broken.py::".into()]
                })
            ),
        ]
    );
}

#[test]
fn savings_are_attributed_per_transform() {
    let dir = fixture("memory");
    let mut files = load_with(dir.path(), &[&STAND_IN_SUM_ANY, &STAND_IN_MAX]);
    let facts = pyslim::engine::index(&mut files);
    let mut req = request(dir.path());
    // A change is real only with three runs per side.
    req.repeat = 3;
    let report = run_verify(&req, &files, &facts).unwrap();
    assert_eq!(report.kept_count(), 3);
    let names: Vec<_> = report
        .attribution
        .iter()
        .map(|a| a.transform.as_str())
        .collect();
    assert_eq!(names, ["generator", "minmax"]);
    let generator = report.attribution[0].total.as_ref().unwrap();
    let minmax = report.attribution[1].total.as_ref().unwrap();
    // sum over 199,000 squares vs max over 99,000: both real, the first about twice.
    assert!(generator.real && minmax.real, "{:?}", report.attribution);
    assert!(
        generator.change < 2 * minmax.change / 3,
        "{:?}",
        report.attribution
    );
    // baseline beside all fixes, 3 memory pairs, then on the changed tests 3 times:
    // before, and each transform alone.
    assert_eq!(report.runs, 2 + 6 + 9);
    let mut out = Vec::new();
    pyslim::report::verify::print_summary(&report, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("minmax alone (1 rewrite)"), "{text}");
}

#[test]
fn a_test_failing_at_baseline_is_not_blamed() {
    let dir = fixture("baseline-fail");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts).unwrap();
    assert_eq!(
        report.baseline_failures,
        vec!["test_calc.py::test_known_bug"]
    );
    assert_eq!(report.baseline_collection_errors, vec!["test_broken.py"]);
    let mut text = Vec::new();
    pyslim::report::verify::print_summary(&report, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(
            "1 collection error(s) before any rewrite (the tests there ran neither before nor \
             after; not blamed): test_broken.py"
        ),
        "{text}"
    );
    let description = pyslim::report::markdown::render(&report, Written::Nothing);
    assert!(
        description.contains("pytest could not collect `test_broken.py`"),
        "{description}"
    );
    assert_eq!(report.kept_count(), 1);
    assert_eq!(report.dropped_count(), 0);
    assert_eq!(report.bisection_runs, 0);
    // The baseline beside the all-fixes run, then one memory pair.
    assert_eq!(report.runs, 4);
    assert_eq!(report.python.mode, Mode::Embedded);
}

#[test]
fn memory_saving_is_measured_and_noise_is_not_a_saving() {
    let dir = fixture("memory");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let mut req = request(dir.path());
    req.repeat = 3;
    let report = run_verify(&req, &files, &facts).unwrap();
    assert_eq!(report.kept_count(), 3);
    // The baseline beside the all-fixes run (not metered: they decide pass/fail), then 3
    // before and 3 after, side by side.
    assert_eq!(report.runs, 8);
    let memory = report.memory.as_ref().unwrap();
    assert_eq!(memory.runs_per_side, 3);
    let heavy = &memory.tests[0];
    assert_eq!(heavy.test, "test_squares.py::test_sum_squares");
    // 199,000 ints of 32 B plus the list's pointers (docs/memory-figures.md: 35-39 MiB
    // per million ints) against O(1) for the generator.
    assert!(heavy.change.before.median > 6_000_000, "{heavy:?}");
    assert!(heavy.change.after.median < 100_000, "{heavy:?}");
    assert!(heavy.change.real);
    assert_eq!(memory.tests[1].test, "test_squares.py::test_biggest_square");
    assert!(memory.tests[1].change.real);
    let small = &memory.tests[2];
    assert!(!small.change.real, "{small:?}");
    let total = memory.total.as_ref().unwrap();
    assert!(total.real && total.change < -6_000_000);
    assert_eq!(report.attribution.len(), 1);

    let text = pyslim::report::markdown::render(&report, Written::Patch);
    assert!(text.contains("xychart-beta"), "{text}");
    assert!(text.contains("3 rewrites in the patch"), "{text}");
    assert!(
        text.contains("| `test_squares.py::test_sum_squares` |"),
        "{text}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["memory"]["tests"][0]["real"].as_bool().unwrap());
}

fn runner(workdir: &Path, args: &[&str], timeout: Duration, scratch: &Path) -> Runner {
    Runner {
        worker_exe: PathBuf::from(env!("CARGO_BIN_EXE_pyslim")),
        venv: venv(),
        mode: Mode::Embedded,
        workdir: workdir.to_path_buf(),
        original_root: workdir.to_path_buf(),
        args: args.iter().map(|s| s.to_string()).collect(),
        timeout,
        scratch: scratch.to_path_buf(),
        progress: false,
        modules: Default::default(),
    }
}

#[test]
fn os_exit_and_segfault_are_inconclusive() {
    let dir = fixture("exits");
    let scratch = tempfile::tempdir().unwrap();
    let timeout = Duration::from_secs(60);
    let outcome = runner(dir.path(), &["test_lib.py"], timeout, scratch.path())
        .run("exit", false, None, 1)
        .unwrap();
    let RunOutcome::Inconclusive(cause) = outcome else {
        panic!("os._exit judged: {outcome:?}")
    };
    assert!(
        cause.contains("exited with code 3 without a result file"),
        "{cause}"
    );
    let outcome = runner(dir.path(), &["test_segv.py"], timeout, scratch.path())
        .run("segv", false, None, 2)
        .unwrap();
    let RunOutcome::Inconclusive(cause) = outcome else {
        panic!("segfault judged: {outcome:?}")
    };
    assert!(cause.contains("signal 11"), "{cause}");
    // No tests selected: exit 5.
    let outcome = runner(
        dir.path(),
        &["-k", "nothing_matches"],
        timeout,
        scratch.path(),
    )
    .run("empty", false, None, 3)
    .unwrap();
    assert!(
        matches!(&outcome, RunOutcome::Inconclusive(c) if c.contains("no tests")),
        "{outcome:?}"
    );

    // A baseline that cannot be judged stops verification with the cause.
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let err = run_verify(&request(dir.path()), &files, &facts).unwrap_err();
    assert!(format!("{err:#}").contains("baseline run"), "{err:#}");
}

#[test]
fn a_hanging_run_times_out_and_its_process_group_is_killed() {
    let dir = fixture("hangs");
    let scratch = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    // Long enough for pytest to start and the test to spawn its child on a busy
    // machine (3 s was not, under a parallel build).
    let outcome = runner(dir.path(), &[], Duration::from_secs(15), scratch.path())
        .run("hang", false, None, 1)
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(
        matches!(&outcome, RunOutcome::Inconclusive(c) if c.contains("timed out")),
        "{outcome:?}"
    );
    let pid: i32 = std::fs::read_to_string(dir.path().join("child.pid"))
        .expect("the hanging test never started its child before the timeout")
        .trim()
        .parse()
        .unwrap();
    // The test's child `sleep 600` was in the group: it must be gone (allow init a
    // moment to reap it).
    let gone = process_ends(pid);
    assert!(gone, "the test's child process {pid} survived the timeout");
}

/// A venv whose pyvenv.cfg names another Python: an error when embedding is required,
/// else the suite runs with the venv's own interpreter.
#[test]
fn a_python_mismatch_is_detected_before_start_up() {
    let dir = fixture("baseline-fail");
    let other = tempfile::tempdir().unwrap();
    let fake = other.path().join("venv");
    bare_venv(&fake);
    let cfg = std::fs::read_to_string(fake.join("pyvenv.cfg")).unwrap();
    let linked = pyslim::python::worker::linked_version();
    std::fs::write(
        fake.join("pyvenv.cfg"),
        cfg.replace(&format!("version = {linked}"), "version = 3.11.0"),
    )
    .unwrap();
    // pytest from the test venv.
    std::fs::write(
        site_packages(&fake).join("test_venv.pth"),
        format!("{}\n", site_packages(&venv()).display()),
    )
    .unwrap();

    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let mut req = request(dir.path());
    req.venv = Some(fake.clone());
    let err = run_verify(&req, &files, &facts).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("3.11.0") && message.contains(&linked),
        "{message}"
    );

    req.require_embedded = false;
    let report = run_verify(&req, &files, &facts).unwrap();
    assert_eq!(report.python.mode, Mode::VenvInterpreter);
    assert_eq!(
        report.baseline_failures,
        vec!["test_calc.py::test_known_bug"]
    );
    assert_eq!(report.kept_count(), 1);
}

fn pyslim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pyslim"));
    // As from a plain shell on a fresh machine: the binary must find its libpython
    // through its RUNPATH, and nothing may leak in from the test environment.
    command.env_clear();
    command
}

#[test]
fn cli_verifies_from_a_clean_environment() {
    let dir = fixture("baseline-fail");
    let out = pyslim()
        .current_dir(dir.path())
        .args(["rewrite", "--verify", "--repeat", "1", "--format", "json"])
        .args(["--report", "report.md", "--venv"])
        .arg(venv())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verify = &json["verify"];
    assert_eq!(verify["python"]["mode"], "embedded");
    assert_eq!(
        verify["baseline_failures"][0],
        "test_calc.py::test_known_bug"
    );
    assert_eq!(verify["baseline_tests"], 2);
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(report.contains("test_known_bug"), "{report}");
    assert!(report.contains("rewrites applied"), "{report}");

    // Without a venv anywhere: a clear error naming the ways to give one.
    let out = pyslim()
        .current_dir(dir.path())
        .args(["rewrite", "--verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no virtualenv found") && stderr.contains("--venv"),
        "{stderr}"
    );
}

/// Sends `signal` to `pyslim rewrite --verify` once the hanging test has started its
/// own child: the workers stop, the temporary folders go, the user's files stay, and
/// the exit code is the shell's for that signal.
fn stop_with(signal: i32, expected_code: i32) {
    let dir = fixture("hangs");
    let before = snapshot(dir.path());
    let tmp = tempfile::tempdir().unwrap();
    let mut child = pyslim()
        .current_dir(dir.path())
        .env("TMPDIR", tmp.path())
        .args([
            "rewrite",
            "--verify",
            "--repeat",
            "1",
            "--timeout",
            "120",
            "--venv",
        ])
        .arg(venv())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the hanging test has started its own child.
    let find_pid = || -> Option<i32> {
        for entry in std::fs::read_dir(tmp.path()).ok()? {
            let pidfile = entry
                .ok()?
                .path()
                .join(dir.path().file_name()?)
                .join("child.pid");
            if let Ok(text) = std::fs::read_to_string(pidfile) {
                return text.trim().parse().ok();
            }
        }
        None
    };
    let mut pid = None;
    for _ in 0..300 {
        pid = find_pid();
        if pid.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = pid.expect("the hanging test never started");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(expected_code));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains(&format!("Interrupted (signal {signal})")),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary folders left behind: {left:?}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the user's files were touched"
    );
    assert!(process_ends(pid), "the test's child {pid} outlived pyslim");
}

#[test]
fn ctrl_c_stops_the_workers_and_removes_the_working_copy() {
    stop_with(libc::SIGINT, 130);
}

#[test]
fn sigterm_cleans_up_like_ctrl_c() {
    stop_with(libc::SIGTERM, 143);
}

#[test]
fn sighup_cleans_up_like_ctrl_c() {
    stop_with(libc::SIGHUP, 129);
}

#[test]
fn an_error_exit_leaves_no_temporary_folder() {
    // Every run of this suite dies (os._exit, a segfault): the baseline cannot be
    // judged, pyslim stops with exit 2, and nothing is left in the temporary folder.
    let dir = fixture("exits");
    let tmp = tempfile::tempdir().unwrap();
    let out = pyslim()
        .current_dir(dir.path())
        .env("TMPDIR", tmp.path())
        .args(["rewrite", "--verify", "--repeat", "1", "--venv"])
        .arg(venv())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the baseline run"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary folders left behind: {left:?}");
}

/// A venv inside the project with an editable install (a `.pth` naming the original
/// `src/`): the tests must import the working copy, or the breaking rewrite would pass.
#[test]
fn an_editable_install_runs_the_working_copy() {
    let dir = fixture("editable");
    let inner = venv_importing_src_of(dir.path(), dir.path());
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let mut req = request(dir.path());
    // Found as users expect: .venv in the project root (unless one is active here).
    req.venv = std::env::var_os("VIRTUAL_ENV").map(|_| inner.clone());
    let report = run_verify(&req, &files, &facts).unwrap();
    assert_eq!(report.python.venv, inner);
    assert_eq!(report.fixes.len(), 1);
    assert_eq!(report.dropped_count(), 1, "{:?}", report.fixes);
}

/// The venv holds the project installed from another folder (a `.pth` naming another
/// copy's `src/`): the tests would import that copy and prove nothing of the rewrites,
/// so pyslim stops and names the module and where it came from.
#[test]
fn an_install_from_another_folder_stops_the_verification() {
    let dir = fixture("editable");
    let other = fixture("editable");
    let inner = venv_importing_src_of(dir.path(), other.path());
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let mut req = request(dir.path());
    req.venv = Some(inner.clone());
    let err = run_verify(&req, &files, &facts).unwrap_err();
    let text = format!("{err:#}");
    let expected = format!(
        "the tests imported the project's module `audit` from {}: another copy of the \
         project, installed in the venv from another folder",
        other.path().join("src/audit/__init__.py").display()
    );
    assert!(text.contains(&expected), "{text}");
}

/// A test starts `python -m calc`, a process the worker did not start, which imports
/// the instrumented working copy: the copy binds its own stand-in hooks, so the
/// baseline passes and the rewrite is judged (it used to stop on a `NameError` and
/// count as failing before any rewrite).
#[test]
fn a_process_the_tests_start_runs_the_instrumented_copy() {
    let dir = fixture("subprocess");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts).unwrap();
    assert!(
        report.baseline_failures.is_empty(),
        "{:?}",
        report.baseline_failures
    );
    assert_eq!(report.baseline_tests, 2);
    assert_eq!(report.kept_count(), 1);
    assert_eq!(report.dropped_count(), 0);
}

/// No candidate, no verdict to reach: the suite is not run at all.
#[test]
fn nothing_to_verify_runs_nothing() {
    let dir = fixture("baseline-fail");
    let files = load(dir.path());
    let facts = pyslim::engine::Facts::default();
    let report = pyslim::verify::run(&request(dir.path()), &files, &facts, &[]).unwrap();
    assert_eq!(report.runs, 0);
    assert!(report.phases.is_empty(), "{:?}", report.phases);
    assert!(report.fixes.is_empty());
}

#[test]
fn a_test_that_fails_once_is_flaky_and_drops_nothing() {
    let dir = fixture("flaky");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts);
    let name = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let _ = std::fs::remove_file(std::env::temp_dir().join(format!("pyslim-flaky-{name}.txt")));
    let report = report.unwrap();
    assert_eq!(report.flaky_tests, vec!["test_lib.py::test_flaky"]);
    assert_eq!(report.kept_count(), 1);
    // The test reaches no fix: re-run with all of them it passes (flaky); then the
    // confirmation, around them the baseline, the all-fixes run and one memory pair.
    assert_eq!(report.runs, 6);
    assert_eq!(report.bisection_runs, 2);
}

/// The whole command with the real `generator` transform: the unsafe `any(...)` rewrite
/// breaks a test and is dropped, the others are written.
#[test]
fn cli_writes_only_the_rewrites_the_tests_accept() {
    let dir = fixture("breaks");
    let before = snapshot(dir.path());
    let out = pyslim()
        .current_dir(dir.path())
        .args([
            "rewrite",
            "--verify",
            "--dry-run",
            "--repeat",
            "1",
            "--venv",
        ])
        .arg(venv())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(snapshot(dir.path()), before, "--dry-run changed files");
    assert!(
        stderr.contains("2 of 3 rewrites kept, 1 dropped")
            && stderr.contains("dropped shop/cart.py:16:16 generator: broke tests/test_shop.py::test_audit_sees_every_item"),
        "{stderr}"
    );
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+    return sum(p * 2 for p in prices)"),
        "{diff}"
    );
    assert!(!diff.contains("+    return any("), "{diff}");

    let out = pyslim()
        .current_dir(dir.path())
        .args(["rewrite", "--verify", "--repeat", "1", "--venv"])
        .arg(venv())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cart = std::fs::read_to_string(dir.path().join("shop/cart.py")).unwrap();
    assert!(cart.contains("return sum(p * 2 for p in prices)"), "{cart}");
    assert!(
        cart.contains("return any([_check(x, seen) for x in items])"),
        "{cart}"
    );
    let stats = std::fs::read_to_string(dir.path().join("shop/stats.py")).unwrap();
    assert!(
        stats.contains("return max(abs(v) for v in values)"),
        "{stats}"
    );
}

#[test]
fn cli_reads_the_verify_section_of_the_config() {
    let dir = fixture("baseline-fail");
    let config = format!(
        "[verify]\nvenv = {:?}\nargs = [\"-k\", \"total\"]\nrepeat = 1\ntimeout = 60\n",
        venv().display().to_string()
    );
    std::fs::write(dir.path().join("pyslim.toml"), config).unwrap();
    let out = pyslim()
        .current_dir(dir.path())
        .args(["rewrite", "--verify", "--dry-run", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verify = &json["verify"];
    assert_eq!(verify["pytest_args"], serde_json::json!(["-k", "total"]));
    // Only test_total ran: the known bug was deselected by the configured args.
    assert_eq!(verify["baseline_tests"], 1);
    assert_eq!(verify["baseline_failures"], serde_json::json!([]));
    assert_eq!(verify["memory"]["runs_per_side"], 1);
}

/// Whether process `pid` is gone (or a zombie) within five seconds, giving init a
/// moment to reap it.
fn process_ends(pid: i32) -> bool {
    (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    })
}

/// Verifies every candidate the fix loop finds with unsafe fixes allowed (what
/// `rewrite --verify` passes in).
fn run_verify(
    request: &VerifyRequest,
    files: &[ProjectFile],
    facts: &pyslim::engine::Facts,
) -> anyhow::Result<pyslim::verify::VerifyReport> {
    let candidates = pyslim::profile::candidates(files, facts);
    pyslim::verify::run(request, files, facts, &candidates)
}

/// A test transform that replaces each occurrence of `from` by `to`: what a wrong or
/// costly rewrite looks like to verification.
struct Replace {
    name: &'static str,
    from: &'static str,
    to: &'static str,
}

impl Transform for Replace {
    fn name(&self) -> &'static str {
        self.name
    }
    fn summary(&self) -> &'static str {
        "replaces text (tests only)"
    }
    fn applicability(&self) -> &'static str {
        "unsafe"
    }
    fn documentation(&self) -> &'static str {
        ""
    }
    fn run(&self, ctx: &FileContext) -> Output {
        let source = ctx.module.source();
        let findings = source
            .match_indices(self.from)
            .map(|(at, _)| {
                let range = ruff_text_size::TextRange::at(
                    TextSize::new(at as u32),
                    TextSize::new(self.from.len() as u32),
                );
                Finding {
                    transform: self.name,
                    range,
                    message: format!("`{}` becomes `{}`", self.from, self.to),
                    fix: Fix::unsafe_edit(Edit::range_replacement(self.to.to_string(), range)),
                    saving: Saving {
                        subject: Subject::Transient { range },
                        per_unit: PerUnit::Generator {
                            avoided: Avoided::ListAndItems,
                        },
                    },
                }
            })
            .collect();
        Output {
            findings,
            notes: Vec::new(),
        }
    }
}

/// Turns a generator back into a list: it claims a memory saving and raises the peak.
static LISTIFY: Replace = Replace {
    name: "listify",
    from: "sum(x * x for x in range(n))",
    to: "sum([x * x for x in range(n)])",
};

/// Makes a module fail at import.
static BREAK_IMPORT: Replace = Replace {
    name: "breaker",
    from: "LIMIT = 10",
    to: "LIMIT = 1 / 0",
};

#[test]
fn a_fix_no_test_reaches_is_kept_only_when_safe_and_unrelated_failures_are_not_run() {
    let dir = fixture("reach");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts).unwrap();
    let fate = |line: usize| {
        report
            .fixes
            .iter()
            .find(|f| f.fix.line == line)
            .unwrap_or_else(|| panic!("no fix at line {line}"))
    };
    // `total` is reached by test_total; `largest` (safe) and `any_big` (unsafe) by none.
    assert_eq!((fate(5).kept, fate(5).tests), (true, Some(1)));
    assert_eq!((fate(9).kept, fate(9).tests), (true, Some(0)));
    assert_eq!(fate(13).tests, Some(0));
    assert_eq!(fate(13).dropped_because, Some(Blame::NotExercised));
    // The memory runs ran only the test that reaches a kept memory fix: the known bug,
    // which reaches none, was not run again.
    let memory = report.memory.as_ref().unwrap();
    assert_eq!(memory.tests_measured, 1);
    let memory_phase = report.phases.iter().find(|p| p.phase == "memory").unwrap();
    assert_eq!((memory_phase.runs, memory_phase.tests), (2, 2));
    assert_eq!(
        report.baseline_failures,
        vec!["test_lib.py::test_known_bug"]
    );
}

#[test]
fn culprits_among_many_fixes_are_found_within_the_run_bound() {
    let dir = fixture("culprits");
    let mut files = load(dir.path());
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(dir.path()), &files, &facts).unwrap();
    let n = report.fixes.len();
    assert_eq!(n, 16);
    let dropped: Vec<(String, usize)> = report
        .fixes
        .iter()
        .filter(|f| !f.kept)
        .map(|f| (f.path.clone(), f.fix.line))
        .collect();
    assert_eq!(
        dropped,
        [("pkg/b.py".to_string(), 22), ("pkg/d.py".to_string(), 18)]
    );
    // 2k·log2(n) + 2 for k culprits among n fixes.
    let k = dropped.len() as f64;
    let bound = 2.0 * k * (n as f64).log2() + 2.0;
    assert!(
        (report.bisection_runs as f64) <= bound,
        "{} search runs, bound {bound}",
        report.bisection_runs
    );
    // Each broken test reaches one fix: its re-check, then one confirmation.
    assert_eq!(report.bisection_runs, 3);
}

#[test]
fn a_rewrite_that_raises_the_peak_is_dropped() {
    let dir = fixture("increase");
    let mut files = load_with(dir.path(), &[&LISTIFY]);
    let facts = pyslim::engine::index(&mut files);
    let mut req = request(dir.path());
    req.repeat = 3;
    let report = run_verify(&req, &files, &facts).unwrap();
    assert_eq!(report.fixes.len(), 1);
    let fix = &report.fixes[0];
    assert!(!fix.kept);
    let Some(Blame::MemoryIncrease { change }) = fix.dropped_because else {
        panic!("{:?}", fix.dropped_because)
    };
    // 200,000 squares held at once: several MB more.
    assert!(change > 5_000_000, "{change}");
    assert!(report.kept.iter().all(|k| k.is_empty()));
    // The per-test figures would be of a rewrite that is not written: none are shown
    // (the change stays in the attribution and in the reason).
    assert!(report.memory.is_none(), "{:?}", report.memory);
    assert_eq!(report.attribution.len(), 1);
}

/// `collect` with two more test modules importing the broken module: once the culprit
/// is found for the first, one collection of the other two shows they import again,
/// instead of a search for each.
#[test]
fn modules_one_culprit_broke_are_collected_again_once() {
    let dir = fixture("collect");
    let bad = std::fs::read_to_string(dir.path().join("tests/test_bad.py")).unwrap();
    for n in [2, 3] {
        std::fs::write(
            dir.path().join(format!("tests/test_bad{n}.py")),
            bad.replace("def test_within", &format!("def test_within_{n}")),
        )
        .unwrap();
    }
    let report = verify_breaking_import(dir.path());
    assert!(report.baseline_failures.is_empty());
    // The search of tests/test_bad.py as in the test below (four collections and the
    // survivors' run), then one collection of the other two modules, which import
    // again. A search for each of them too took 11 runs.
    let search = report.phases.iter().find(|p| p.phase == "search").unwrap();
    assert_eq!(search.runs, 6, "{search:?}");
}

/// Verifies `root` (the `collect` fixture) with the stand-in and the import breaker:
/// the breaker's rewrite alone is dropped.
fn verify_breaking_import(root: &Path) -> pyslim::verify::VerifyReport {
    let mut files = load_with(root, &[&STAND_IN, &BREAK_IMPORT]);
    let facts = pyslim::engine::index(&mut files);
    let report = run_verify(&request(root), &files, &facts).unwrap();
    let dropped: Vec<&pyslim::verify::FixOutcome> =
        report.fixes.iter().filter(|f| !f.kept).collect();
    assert_eq!(dropped.len(), 1, "{:?}", report.fixes);
    assert_eq!(dropped[0].fix.key.transform, "breaker");
    assert_eq!(report.kept_count(), 2);
    report
}

#[test]
fn a_broken_import_is_searched_in_its_own_module_only() {
    let dir = fixture("collect");
    let report = verify_breaking_import(dir.path());
    let dropped: Vec<&pyslim::verify::FixOutcome> =
        report.fixes.iter().filter(|f| !f.kept).collect();
    assert_eq!(
        dropped[0].fix.message,
        "`LIMIT = 10` becomes `LIMIT = 1 / 0`"
    );
    let Some(Blame::Collection { modules, text }) = &dropped[0].dropped_because else {
        panic!("{:?}", dropped[0].dropped_because)
    };
    assert_eq!(modules, &vec!["tests/test_bad.py".to_string()]);
    assert!(text.contains("ZeroDivisionError"), "{text}");
    // The search collected only tests/test_bad.py (one test counted per collection):
    // its suspects are the fixes of the modules it reaches, pkg/bad.py and, through the
    // package `pkg`, pkg/good.py: a step over the two files, one over bad.py's two
    // fixes, the re-check and the confirmation, all collections; then the survivors
    // run once on the two tests that reach them.
    let search = report.phases.iter().find(|p| p.phase == "search").unwrap();
    assert_eq!((search.runs, search.tests), (5, 6), "{search:?}");
}

/// A time rewrite is kept for its time win and the summary says so, without a memory
/// claim (the demo's FIFO queue becomes a deque).
#[test]
fn a_time_rewrite_is_kept_for_time() {
    let dir = fixture("demo");
    let out = pyslim()
        .current_dir(dir.path())
        .args([
            "rewrite",
            "--verify",
            "--dry-run",
            "--repeat",
            "1",
            "--venv",
        ])
        .arg(venv())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "  1 kept for time (front operations in O(1)), no memory saving claimed: deque\n"
        ),
        "{stderr}"
    );
}
