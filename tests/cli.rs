//! The command line end to end: what users run, what they see, and what ends up on disk.

use std::path::Path;
use std::process::Command as Std;

use assert_cmd::Command;
use common::project;
use predicates::prelude::*;
use pyslim_transforms::registry;

mod common;

const WASTEFUL: &str = "total = sum([x * 2 for x in range(10)])\n";
const SLIM: &str = "total = sum(x * 2 for x in range(10))\n";

fn pyslim(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pyslim").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn rewrite_applies_in_place() {
    let dir = project(&[("a.py", WASTEFUL)]);
    pyslim(dir.path())
        .args(["rewrite", "--select", "generator"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Applied 1 rewrite in 1 file (generator 1)",
        ));
    assert_eq!(read(dir.path(), "a.py"), SLIM);
}

#[test]
fn dry_run_prints_a_diff_and_changes_nothing() {
    let dir = project(&[("a.py", WASTEFUL)]);
    for flag in ["--dry-run", "--diff"] {
        pyslim(dir.path())
            .args(["rewrite", flag])
            .assert()
            .success()
            .stdout(predicate::str::contains("--- a/a.py\n+++ b/a.py\n"))
            .stdout(predicate::str::contains(format!("+{SLIM}")));
        assert_eq!(read(dir.path(), "a.py"), WASTEFUL);
    }
}

#[test]
fn check_exit_codes() {
    let dir = project(&[("a.py", WASTEFUL)]);
    pyslim(dir.path())
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("a.py:1:13: generator "));
    assert_eq!(read(dir.path(), "a.py"), WASTEFUL, "check must never write");

    let clean = project(&[("a.py", SLIM)]);
    pyslim(clean.path()).arg("check").assert().code(0);

    pyslim(clean.path())
        .args(["check", "--no-such-flag"])
        .assert()
        .code(2);
    pyslim(clean.path())
        .args(["check", "--select", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown transform \"nope\""));
}

#[test]
fn patch_applies_with_git_apply() {
    let dir = project(&[
        ("pkg/a.py", WASTEFUL),
        ("b.py", "x = 1\r\ny = max([v for v in (1, 2)])\r\n"),
    ]);
    let git = |args: &[&str]| {
        let status = Std::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    git(&["init", "-q"]);
    pyslim(dir.path().join("pkg").as_path())
        .args(["rewrite", "--patch", "../slim.patch", "."])
        .assert()
        .success();
    pyslim(dir.path())
        .args(["rewrite", "--patch", "slim.patch"])
        .assert()
        .success();
    assert_eq!(
        read(dir.path(), "pkg/a.py"),
        WASTEFUL,
        "--patch must not change files"
    );
    let patch = read(dir.path(), "slim.patch");
    assert!(patch.contains("--- a/pkg/a.py"), "{patch}");
    git(&["apply", "--check", "slim.patch"]);
    git(&["apply", "slim.patch"]);
    assert_eq!(read(dir.path(), "pkg/a.py"), SLIM);
    assert_eq!(
        read(dir.path(), "b.py"),
        "x = 1\r\ny = max(v for v in (1, 2))\r\n"
    );
}

#[test]
fn a_syntax_error_is_reported_and_the_rest_still_processed() {
    let dir = project(&[("bad.py", "def f(:\n    pass\n"), ("good.py", WASTEFUL)]);
    pyslim(dir.path())
        .arg("rewrite")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.py:1:7: syntax error"));
    assert_eq!(read(dir.path(), "good.py"), SLIM);
    assert_eq!(read(dir.path(), "bad.py"), "def f(:\n    pass\n");
}

#[test]
fn non_utf8_file_is_named_and_skipped() {
    let dir = project(&[("good.py", WASTEFUL)]);
    std::fs::write(
        dir.path().join("latin.py"),
        b"s = '\xe9'\nt = sum([1 for _ in 'ab'])\n",
    )
    .unwrap();
    pyslim(dir.path())
        .arg("rewrite")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: latin.py: skipped: not valid UTF-8 (first bad byte at offset 5) and no coding cookie\n",
        ));
    assert_eq!(read(dir.path(), "good.py"), SLIM);
}

#[test]
fn coding_cookie_is_honoured_byte_for_byte() {
    let dir = project(&[]);
    let original = b"# -*- coding: latin-1 -*-\ns = '\xe9'\nt = sum([1 for _ in s])\n";
    std::fs::write(dir.path().join("latin.py"), original).unwrap();
    pyslim(dir.path()).arg("rewrite").assert().success();
    assert_eq!(
        std::fs::read(dir.path().join("latin.py")).unwrap(),
        b"# -*- coding: latin-1 -*-\ns = '\xe9'\nt = sum(1 for _ in s)\n"
    );
}

#[test]
fn bom_crlf_and_missing_final_newline_survive() {
    let dir = project(&[]);
    let original = "\u{feff}a = 1\r\n\tb = 2 if False else 3\r\nt = sum([1 for _ in 'ab'])";
    std::fs::write(dir.path().join("a.py"), original.replace("\tb", "b")).unwrap();
    pyslim(dir.path()).arg("rewrite").assert().success();
    assert_eq!(
        read(dir.path(), "a.py"),
        "\u{feff}a = 1\r\nb = 2 if False else 3\r\nt = sum(1 for _ in 'ab')"
    );
}

#[test]
fn unknown_config_key_names_key_and_file() {
    let dir = project(&[
        ("pyslim.toml", "selct = [\"generator\"]\n"),
        ("a.py", WASTEFUL),
    ]);
    pyslim(dir.path())
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pyslim.toml"))
        .stderr(predicate::str::contains("unknown field `selct`"))
        // Nothing was read under it: the summary must not read as a clean run.
        .stderr(predicate::str::ends_with(
            "No rewrites found; 1 error above.\n",
        ));
    let bad_value = project(&[
        ("pyslim.toml", "target-version = \"eleven\"\n"),
        ("a.py", WASTEFUL),
    ]);
    pyslim(bad_value.path())
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("target-version"));
}

#[test]
fn pyproject_section_and_closest_config_win() {
    let dir = project(&[
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.pyslim]\nignore = [\"generator\"]\n",
        ),
        ("a.py", WASTEFUL),
        ("sub/pyslim.toml", "select = [\"generator\"]\n"),
        ("sub/b.py", WASTEFUL),
    ]);
    pyslim(dir.path()).arg("rewrite").assert().success();
    assert_eq!(
        read(dir.path(), "a.py"),
        WASTEFUL,
        "ignored by [tool.pyslim]"
    );
    assert_eq!(
        read(dir.path(), "sub/b.py"),
        SLIM,
        "closest config selects it"
    );
}

#[test]
fn excludes_gitignore_and_explicit_paths() {
    let dir = project(&[
        (
            "pyslim.toml",
            "extend-exclude = [\"gen\"]\nper-file-ignores = { \"legacy_*.py\" = [\"generator\"] }\n",
        ),
        (".gitignore", "ignored.py\n"),
        ("gen/a.py", WASTEFUL),
        ("ignored.py", WASTEFUL),
        ("legacy_x.py", WASTEFUL),
        (".venv/lib/c.py", WASTEFUL),
        ("kept.py", WASTEFUL),
    ]);
    pyslim(dir.path()).arg("rewrite").assert().success();
    assert_eq!(read(dir.path(), "gen/a.py"), WASTEFUL);
    assert_eq!(read(dir.path(), "ignored.py"), WASTEFUL);
    assert_eq!(read(dir.path(), "legacy_x.py"), WASTEFUL);
    assert_eq!(read(dir.path(), ".venv/lib/c.py"), WASTEFUL);
    assert_eq!(read(dir.path(), "kept.py"), SLIM);
    // A path named on the command line is processed even when excluded.
    pyslim(dir.path())
        .args(["rewrite", "gen/a.py"])
        .assert()
        .success();
    assert_eq!(read(dir.path(), "gen/a.py"), SLIM);
}

#[test]
fn suppression_comments() {
    let text = "a = sum([x for x in range(3)])  # pyslim: ignore\nb = sum([x for x in range(3)])  # pyslim: ignore[slots]\nc = sum([x for x in range(3)])  # pyslim: ignore[generator]\n";
    let dir = project(&[("a.py", text)]);
    pyslim(dir.path()).arg("rewrite").assert().success();
    assert_eq!(
        read(dir.path(), "a.py"),
        text.replace(
            "b = sum([x for x in range(3)])",
            "b = sum(x for x in range(3))"
        )
    );
}

/// Runs pyslim with `args` in `dir` and parses its stdout as JSON.
fn json(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = pyslim(dir).args(args).output().expect("pyslim runs");
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code(), value)
}

#[test]
fn json_output() {
    let text = "total = sum([x * 2 for x in range(10)])\nok = any([x > 1 for x in range(3)])\nd = dict([kv for kv in {}.items()])\n";
    let dir = project(&[("a.py", text), ("bad.py", "(\n")]);
    let sum = serde_json::json!({
        "key": {"transform": "generator", "offset": 12},
        "line": 1,
        "column": 13,
        "message": "list comprehension → generator: peak memory O(n) → O(1): sum() consumes the items one at a time (measured on 1M ints: 35-39 MiB → under 0.5 KiB)",
        "applicability": "safe",
        "impact": "memory",
        "saving": {
            "subject": {"kind": "transient", "at": {"start": 12, "end": 38, "line": 1}},
            "per_unit": {"kind": "generator", "avoided": "list-and-items"}
        }
    });
    let any = serde_json::json!({
        "key": {"transform": "generator", "offset": 49},
        "line": 2,
        "column": 10,
        "message": "list comprehension → generator: peak memory O(n) → O(1): any() consumes the items one at a time; unsafe: any() stops at the first true item, so the side effects and exceptions of later items no longer happen",
        "applicability": "unsafe",
        "impact": "memory",
        "saving": {
            "subject": {"kind": "transient", "at": {"start": 49, "end": 74, "line": 2}},
            "per_unit": {"kind": "generator", "avoided": "list-and-items"}
        }
    });
    let note = serde_json::json!({
        "transform": "generator",
        "line": 3,
        "column": 5,
        "reason": "`dict()` of a comprehension whose items are not written as `(key, value)` pairs"
    });
    let expected = |command: &str, file: serde_json::Value| {
        serde_json::json!({
            "version": 1,
            "command": command,
            "written": false,
            "files": [file],
            "errors": [{
                "path": "bad.py",
                "line": 2,
                "column": 1,
                "message": "syntax error: unexpected EOF while parsing; file skipped"
            }],
            "by_transform": {"generator": {"safe": 1, "unsafe": 0}},
            "files_changed": 1,
            "fixes": 1,
            "withheld": 1,
            "test_files": 0
        })
    };

    // `check --explain`: notes, and no diff. A syntax error makes the exit code 2.
    let (code, value) = json(dir.path(), &["check", "--explain", "--format", "json"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        value,
        expected(
            "check",
            serde_json::json!({
                "path": "a.py",
                "fixes": [sum],
                "withheld": [any],
                "notes": [note]
            })
        )
    );

    // `rewrite --dry-run`: the diff, and notes only with `check --explain`.
    let (code, value) = json(dir.path(), &["rewrite", "--dry-run", "--format", "json"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        value,
        expected(
            "rewrite",
            serde_json::json!({
                "path": "a.py",
                "fixes": [sum],
                "withheld": [any],
                "notes": [],
                "diff": "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n-total = sum([x * 2 for x in range(10)])\n+total = sum(x * 2 for x in range(10))\n ok = any([x > 1 for x in range(3)])\n d = dict([kv for kv in {}.items()])\n"
            })
        )
    );

    // `rewrite --patch`: the diff goes to the patch, not into the JSON.
    let (_, value) = json(
        dir.path(),
        &["rewrite", "--patch", "slim.patch", "--format", "json"],
    );
    assert_eq!(value["files"][0].get("diff"), None, "{value:#}");
    assert_eq!(value["written"], false);
    assert_eq!(read(dir.path(), "a.py"), text);
}

#[test]
fn transforms_and_explain() {
    let dir = project(&[]);
    let width = registry::names().iter().map(|n| n.len()).max().unwrap_or(0);
    let listing: String = registry::TRANSFORMS
        .iter()
        .map(|t| {
            format!(
                "{:width$}  {}\n{:width$}  applicability: {}\n",
                t.name(),
                t.summary(),
                "",
                t.applicability()
            )
        })
        .collect();
    pyslim(dir.path())
        .arg("transforms")
        .assert()
        .success()
        .stdout(listing);

    let (code, value) = json(dir.path(), &["transforms", "--format", "json"]);
    assert_eq!(code, Some(0));
    let expected: Vec<serde_json::Value> = registry::TRANSFORMS
        .iter()
        .map(|t| {
            serde_json::json!({
                "name": t.name(),
                "summary": t.summary(),
                "applicability": t.applicability(),
            })
        })
        .collect();
    assert_eq!(value, serde_json::Value::Array(expected));

    for t in registry::TRANSFORMS {
        let doc = t.documentation();
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix safety",
        ] {
            assert!(doc.contains(section), "{}: no {section}", t.name());
        }
        pyslim(dir.path())
            .args(["explain", t.name()])
            .assert()
            .success()
            .stdout(format!(
                "# {}\n\n{}\n\nApplicability: {}\n\n{}\n",
                t.name(),
                t.summary(),
                t.applicability(),
                doc.trim_end()
            ));
    }
    pyslim(dir.path())
        .args(["explain", "nope"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: unknown transform \"nope\"; the transforms are: {}\n",
            registry::names().join(", ")
        ));
}

#[test]
fn unsafe_fixes_need_the_flag() {
    let text = "ok = any([x > 1 for x in range(3)])\n";
    let dir = project(&[("a.py", text)]);
    pyslim(dir.path())
        .arg("check")
        .assert()
        .code(0)
        .stderr(predicate::str::contains("1 unsafe rewrite not applied"));
    pyslim(dir.path())
        .args(["check", "--unsafe"])
        .assert()
        .code(1);
    pyslim(dir.path())
        .args(["rewrite", "--unsafe"])
        .assert()
        .success();
    assert_eq!(
        read(dir.path(), "a.py"),
        "ok = any(x > 1 for x in range(3))\n"
    );
}

#[test]
fn the_analysis_reads_the_whole_project_but_rewrites_only_the_paths_given() {
    let class =
        "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n";
    let test = "from pkg.geo import Point\n\n\ndef test_tag():\n    p = Point(1, 2)\n    p.tag = 'origin'\n    assert p.tag == 'origin'\n";
    let dir = project(&[
        ("pyproject.toml", "[project]\nname = \"pkg\"\n"),
        ("pkg/__init__.py", ""),
        ("pkg/geo.py", class),
        ("tests/test_geo.py", test),
    ]);
    // The test sets an attribute the class does not declare: slots would break it.
    pyslim(dir.path())
        .args(["rewrite", "--select", "slots", "pkg"])
        .assert()
        .success();
    assert_eq!(read(dir.path(), "pkg/geo.py"), class);
    assert_eq!(
        read(dir.path(), "tests/test_geo.py"),
        test,
        "only the paths given are rewritten"
    );

    // Without that test the class is slotted.
    std::fs::remove_file(dir.path().join("tests/test_geo.py")).unwrap();
    pyslim(dir.path())
        .args(["rewrite", "--select", "slots", "pkg"])
        .assert()
        .success();
    assert!(read(dir.path(), "pkg/geo.py").contains("__slots__ = (\"x\", \"y\")"));
}
