//! The command line end to end: what users run, what they see, and what ends up on disk.

use std::path::Path;
use std::process::Command as Std;

use assert_cmd::Command;
use common::project;
use predicates::prelude::*;

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
            "latin.py: skipped: not valid UTF-8",
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
        .stderr(predicate::str::contains("unknown field `selct`"));
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

#[test]
fn json_output() {
    let dir = project(&[("a.py", WASTEFUL), ("bad.py", "(\n")]);
    let out = pyslim(dir.path())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a syntax error makes the exit code 2"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["command"], "check");
    assert_eq!(json["fixes"], 1);
    let fix = &json["files"][0]["fixes"][0];
    assert_eq!(json["files"][0]["path"], "a.py");
    assert_eq!(fix["key"]["transform"], "generator");
    assert_eq!(fix["line"], 1);
    assert_eq!(fix["applicability"], "safe");
    assert_eq!(json["errors"][0]["path"], "bad.py");
}

#[test]
fn transforms_and_explain() {
    let dir = project(&[]);
    pyslim(dir.path())
        .arg("transforms")
        .assert()
        .success()
        .stdout(predicate::str::contains("generator"));
    pyslim(dir.path())
        .args(["explain", "generator"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Fix safety"));
    pyslim(dir.path())
        .args(["explain", "nope"])
        .assert()
        .code(2);
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
