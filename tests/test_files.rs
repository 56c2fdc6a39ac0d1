//! Test files are read, not rewritten: which files count as tests (pytest's conventions
//! and the project's pytest configuration), `rewrite-tests = true`, what `check` and
//! `rewrite` say about them, and `--verify` leaving them alone too.
//!
//! Every file of a project here holds the same wasteful line; which files `rewrite`
//! changed tells which ones pyslim took for library code.

use std::path::Path;

use assert_cmd::Command;
use common::project;
use tempfile::TempDir;

mod common;

#[path = "common/projects.rs"]
mod projects;
use projects::{fixture, repo, venv};

const WASTEFUL: &str = "total = sum([x * 2 for x in range(10)])\n";
const SLIM: &str = "total = sum(x * 2 for x in range(10))\n";
const MARKER: (&str, &str) = ("pyproject.toml", "[project]\nname = \"p\"\n");

fn pyslim(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("pyslim")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `python` (each holding [`WASTEFUL`]) and `others` into a project, runs
/// `pyslim rewrite`, and returns the Python files it changed and its stderr.
fn rewritten(python: &[&str], others: &[(&str, &str)]) -> (Vec<String>, String) {
    let mut files: Vec<(&str, &str)> = others.to_vec();
    files.extend(python.iter().map(|p| (*p, WASTEFUL)));
    let dir = project(&files);
    let out = pyslim(dir.path(), &["rewrite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let changed = python
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(dir.path().join(p)).unwrap();
            assert!(text == WASTEFUL || text == SLIM, "{p}: {text}");
            text == SLIM
        })
        .map(|p| p.to_string())
        .collect();
    (changed, stderr(&out))
}

#[test]
fn pytests_file_names_and_test_folders_are_only_read() {
    let python = [
        "lib.py",
        "pkg/testing.py",
        "pkg/contest.py",
        "test_a.py",
        "pkg/a_test.py",
        "pkg/conftest.py",
        "tests/helpers.py",
        "test/helpers.py",
        "pkg/tests/deep/data.py",
    ];
    let (changed, stderr) = rewritten(&python, &[MARKER]);
    assert_eq!(changed, ["lib.py", "pkg/testing.py", "pkg/contest.py"]);
    assert_eq!(
        stderr,
        "Applied 3 rewrites in 3 files (generator 3); 6 test files read, not rewritten.\n"
    );
}

/// `python_files = check_*.py` and `testpaths = testing src`, written in each file
/// pytest reads: the patterns count below the testpaths only (as pytest collects them),
/// `testing` is a test folder, `src` (listed for tests kept beside the code) is not.
#[test]
fn python_files_and_testpaths_from_every_pytest_configuration() {
    let configurations = [
        (
            "pytest.ini",
            "[pytest]\npython_files = check_*.py\ntestpaths =\n    testing\n    src\n",
        ),
        (
            ".pytest.ini",
            "[pytest]\npython_files = check_*.py\ntestpaths = testing src\n",
        ),
        (
            "pytest.toml",
            "[pytest]\npython_files = [\"check_*.py\"]\ntestpaths = [\"testing\", \"src\"]\n",
        ),
        (
            ".pytest.toml",
            "[pytest]\npython_files = [\"check_*.py\"]\ntestpaths = [\"testing\", \"src\"]\n",
        ),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\npython_files = \"check_*.py\"\ntestpaths = [\"testing\", \"src\"]\n",
        ),
        (
            "pyproject.toml",
            "[tool.pytest]\npython_files = [\"check_*.py\"]\ntestpaths = [\"testing\", \"src\"]\n",
        ),
        (
            "tox.ini",
            "[tox]\nenvlist = py311\n\n[pytest]\npython_files = check_*.py\ntestpaths = testing src\n",
        ),
        (
            "setup.cfg",
            "[metadata]\nname = p\n\n[tool:pytest]\npython_files = check_*.py\ntestpaths = testing src\n",
        ),
    ];
    let python = [
        "lib.py",
        "check_outside.py",
        "src/lib.py",
        "src/check_inside.py",
        "testing/helpers.py",
    ];
    for (name, text) in configurations {
        let (changed, _) = rewritten(&python, &[MARKER, (name, text)]);
        assert_eq!(
            changed,
            ["lib.py", "check_outside.py", "src/lib.py"],
            "{name}: {text}"
        );
    }
}

/// Several pytest configurations in one folder: the first in pytest's order wins, even
/// an empty `pytest.ini`; a `tox.ini` without `[pytest]` does not count.
#[test]
fn pytests_order_decides_which_configuration_counts() {
    let mut configurations = vec![
        ("setup.cfg", "[tool:pytest]\npython_files = cfg_*.py\n"),
        ("tox.ini", "[tox]\nenvlist = py311\n"),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\npython_files = \"pyproject_*.py\"\n",
        ),
        (".pytest.ini", "[pytest]\npython_files = hidden_*.py\n"),
        ("pytest.ini", ""),
        ("pytest.toml", "[pytest]\npython_files = [\"toml_*.py\"]\n"),
    ];
    let python = ["cfg_a.py", "pyproject_a.py", "hidden_a.py", "toml_a.py"];
    // The files taken for tests as the configurations above go, from the last one up.
    let tests = [
        Some("toml_a.py"),
        None, // the empty pytest.ini
        Some("hidden_a.py"),
        Some("pyproject_a.py"),
        Some("cfg_a.py"), // tox.ini has no [pytest]
        Some("cfg_a.py"),
    ];
    for test in tests {
        let (changed, _) = rewritten(&python, &configurations);
        let kept: Vec<&str> = python
            .iter()
            .copied()
            .filter(|p| !changed.iter().any(|c| c == p))
            .collect();
        let last = configurations.last().map(|(name, _)| *name);
        assert_eq!(kept, Vec::from_iter(test), "with {last:?} last");
        configurations.pop();
    }
}

#[test]
fn rewrite_tests_true_rewrites_them_and_the_closest_configuration_decides() {
    let python = ["lib.py", "tests/test_a.py", "sub/tests/test_b.py"];
    let (changed, stderr) = rewritten(
        &python,
        &[
            ("pyslim.toml", "rewrite-tests = true\n"),
            ("sub/pyslim.toml", "rewrite-tests = false\n"),
        ],
    );
    assert_eq!(changed, ["lib.py", "tests/test_a.py"]);
    assert_eq!(
        stderr,
        "Applied 2 rewrites in 2 files (generator 2); 1 test file read, not rewritten.\n"
    );
}

#[test]
fn the_count_in_text_and_json() {
    let dir = project(&[MARKER, ("lib.py", WASTEFUL), ("tests/test_a.py", WASTEFUL)]);
    let check = pyslim(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        stderr(&check),
        "Found 1 rewrite in 1 file (generator 1); 1 test file read, not rewritten.\n"
    );
    let json = pyslim(dir.path(), &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["test_files"], 1);
    assert_eq!(report["fixes"], 1);
    assert_eq!(report["files"].as_array().unwrap().len(), 1);
    assert_eq!(report["files"][0]["path"], "lib.py");
    assert_eq!(stderr(&json), "");

    let dry_run = pyslim(dir.path(), &["rewrite", "--dry-run", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&dry_run.stdout).unwrap();
    assert_eq!(report["command"], "rewrite");
    assert_eq!(report["test_files"], 1);

    let tests_only = pyslim(dir.path(), &["check", "tests"]);
    assert_eq!(tests_only.status.code(), Some(0));
    assert_eq!(
        stderr(&tests_only),
        "No rewrites found; 1 test file read, not rewritten.\n"
    );

    // Nothing held back: no count in the text, zero in JSON.
    std::fs::write(dir.path().join("pyslim.toml"), "rewrite-tests = true\n").unwrap();
    let all = pyslim(dir.path(), &["check"]);
    assert_eq!(stderr(&all), "Found 2 rewrites in 2 files (generator 2).\n");
    let json = pyslim(dir.path(), &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["test_files"], 0);
}

/// Like a file `exclude`d in ruff's configuration, a test file named on the command
/// line is one the user asked for: it is still only read, and a warning says why
/// (also with `--format json`, on stderr, so stdout stays the JSON).
#[test]
fn a_test_file_named_on_the_command_line_is_only_read_and_the_user_told_why() {
    let dir = project(&[MARKER, ("tests/test_a.py", WASTEFUL), ("lib.py", WASTEFUL)]);
    let warning = "warning: tests/test_a.py is a test file: read for the analysis, not \
                   rewritten (set `rewrite-tests = true` to rewrite test files)\n";
    let out = pyslim(dir.path(), &["rewrite", "tests/test_a.py", "lib.py"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        format!(
            "{warning}Applied 1 rewrite in 1 file (generator 1); 1 test file read, not rewritten.\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tests/test_a.py")).unwrap(),
        WASTEFUL
    );
    let json = pyslim(
        dir.path(),
        &["check", "--format", "json", "./tests/test_a.py"],
    );
    assert_eq!(stderr(&json), warning);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["test_files"], 1);
    // A folder of tests is not a request for each file: the count says enough.
    let folder = pyslim(dir.path(), &["check", "tests"]);
    assert_eq!(
        stderr(&folder),
        "No rewrites found; 1 test file read, not rewritten.\n"
    );
}

/// Test files among the paths given still count against slots: a test that sets an
/// attribute the class does not declare keeps `__slots__` away.
#[test]
fn test_files_only_read_still_count_for_the_analysis() {
    let class =
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n";
    let test = "from pkg.geo import Point\n\n\ndef test_tag():\n    p = Point(1, 2)\n    p.tag = 'origin'\n    assert p.tag == 'origin'\n";
    let dir = project(&[
        MARKER,
        ("pkg/__init__.py", ""),
        ("pkg/geo.py", class),
        ("tests/test_geo.py", test),
    ]);
    let out = pyslim(dir.path(), &["rewrite", "--select", "slots"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pkg/geo.py")).unwrap(),
        class
    );
    assert_eq!(
        stderr(&out),
        "No rewrites found; 1 test file read, not rewritten.\n"
    );
}

/// Like the files outside the paths given, a test file that does not decode or parse
/// is not an error: test suites keep such files on purpose, as data.
#[test]
fn a_test_file_that_does_not_decode_or_parse_is_no_error() {
    let dir = project(&[
        MARKER,
        ("lib.py", WASTEFUL),
        ("tests/data/bad_syntax.py", "def f(:\n"),
    ]);
    std::fs::write(dir.path().join("tests/data/latin1.py"), b"s = '\xe9'\n").unwrap();
    let out = pyslim(dir.path(), &["rewrite"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "Applied 1 rewrite in 1 file (generator 1); 1 test file read, not rewritten.\n"
    );
}

#[test]
fn a_malformed_pytest_configuration_names_the_file_and_line() {
    let dir = project(&[
        MARKER,
        ("pytest.ini", "[pytest]\n  testpaths = testing\n"),
        ("lib.py", WASTEFUL),
        ("test_a.py", WASTEFUL),
    ]);
    let out = pyslim(dir.path(), &["rewrite"]);
    assert_eq!(out.status.code(), Some(2));
    let ini = dir.path().join("pytest.ini");
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}:2: unexpected value continuation\nApplied 1 rewrite in 1 file \
             (generator 1); 1 test file read, not rewritten; 1 error above.\n",
            ini.display()
        )
    );
    // pytest's own conventions still hold.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("lib.py")).unwrap(),
        SLIM
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("test_a.py")).unwrap(),
        WASTEFUL
    );
}

/// The fixture project `test-only-class`: `shapes.point.Point` and the same class in
/// `tests/fakes.py`. Only the library's gets `__slots__`; with `rewrite-tests = true`
/// both do, and the test's comprehension becomes a generator too.
#[test]
fn a_test_only_class_is_left_alone_and_the_same_class_in_library_code_is_not() {
    let dir = fixture("test-only-class");
    let original = |name: &str| {
        std::fs::read_to_string(repo().join("fixtures/projects/test-only-class").join(name))
            .unwrap()
    };
    let read = |dir: &TempDir, name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let slots = "    __slots__ = (\"x\", \"y\")\n";

    let out = pyslim(dir.path(), &["rewrite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "Applied 2 rewrites in 1 file (generator 1, slots 1); 2 test files read, not rewritten.\n"
    );
    assert!(read(&dir, "shapes/point.py").contains(slots));
    assert!(read(&dir, "shapes/point.py").contains("return sum(p.x for p in points)"));
    assert_eq!(read(&dir, "tests/fakes.py"), original("tests/fakes.py"));
    assert_eq!(
        read(&dir, "tests/test_point.py"),
        original("tests/test_point.py")
    );

    let dir = fixture("test-only-class");
    let pyproject = dir.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(
        &pyproject,
        format!("{text}\n[tool.pyslim]\nrewrite-tests = true\n"),
    )
    .unwrap();
    let out = pyslim(dir.path(), &["rewrite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "Applied 4 rewrites in 3 files (generator 2, slots 2).\n"
    );
    assert!(read(&dir, "tests/fakes.py").contains(slots));
    assert!(read(&dir, "tests/test_point.py").contains("assert sum(p.x for p in points) == 3"));
}

/// `--verify` takes its candidates from the same files: the test files are not among
/// them, and the tests run against the rewritten library.
#[test]
fn verify_leaves_test_files_alone_too() {
    let dir = fixture("test-only-class");
    let out = pyslim(
        dir.path(),
        &[
            "rewrite",
            "--verify",
            "--dry-run",
            "--repeat",
            "1",
            "--venv",
            &venv().to_string_lossy(),
        ],
    );
    let stderr = stderr(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Verification: 2 of 2 rewrites kept, 0 dropped")
            && stderr.ends_with(
                "Would apply 2 rewrites in 1 file (generator 1, slots 1); 2 test files read, \
                 not rewritten.\n"
            ),
        "{stderr}"
    );
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("+++ b/shapes/point.py"), "{diff}");
    assert!(!diff.contains("tests/"), "{diff}");
}
