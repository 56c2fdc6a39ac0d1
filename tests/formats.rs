//! `check --format sarif` and `--format github`, `completions`, and the options every
//! command takes (`--quiet`, `--verbose`, `--color`), end to end on the binary.
//!
//! The SARIF log is validated against the SARIF 2.1.0 schema vendored in
//! `tests/sarif/sarif-schema-2.1.0.json` (from the public repository
//! oasis-tcs/sarif-spec, `sarif-2.1/schema/sarif-schema-2.1.0.json`, errata 01).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Two fixes in one file (the deque one adds an import), one in another, a file that
/// does not parse.
const QUEUE: &str = "\"\"\"Queues.\"\"\"\n\n\ndef total(xs):\n    return sum([x * 2 for x in xs])\n\n\ndef drain(names):\n    queue = []\n    for n in names:\n        queue.append(n)\n    out = []\n    while queue:\n        out.append(queue.pop(0))\n    return out\n";
const UNITS: &str = "def biggest(xs):\n    return max([len(x) for x in xs])\n";

fn project() -> tempfile::TempDir {
    common::project(&[
        (
            "pyproject.toml",
            "[project]\nname = \"t\"\nrequires-python = \">=3.11\"\n",
        ),
        ("pkg/queue.py", QUEUE),
        ("pkg/units.py", UNITS),
        ("pkg/bad.py", "def f(:\n    pass\n"),
        // Nothing to rewrite: its text is not held after indexing.
        ("pkg/plain.py", "LIMIT = 10\n"),
    ])
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyslim"))
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The offset of 1-based (line, column in code points) in `text`.
fn offset(text: &str, line: u64, column: u64) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line as usize - 1)
        .map(str::len)
        .sum();
    start
        + text[start..]
            .chars()
            .take(column as usize - 1)
            .map(char::len_utf8)
            .sum::<usize>()
}

/// Applies SARIF replacements (any order, none overlapping) to `text`.
fn apply(text: &str, replacements: &[&Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = replacements
        .iter()
        .map(|r| {
            let region = &r["deletedRegion"];
            let at = |l: &str, c: &str| {
                offset(
                    text,
                    region[l].as_u64().unwrap(),
                    region[c].as_u64().unwrap(),
                )
            };
            (
                at("startLine", "startColumn"),
                at("endLine", "endColumn"),
                r["insertedContent"]["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut out = String::new();
    let mut at = 0;
    for (start, end, inserted) in spans {
        assert!(start >= at, "overlapping replacements");
        out.push_str(&text[at..start]);
        out.push_str(&inserted);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[test]
fn sarif_validates_and_its_fixes_are_the_rewrites() {
    let dir = project();
    let out = run(dir.path(), &["check", "--format", "sarif"]);
    // Findings and a file that does not parse: exit 2, as in every format.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();

    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The validator is not vacuous: a log without its version fails.
    let mut broken = log.clone();
    broken.as_object_mut().unwrap().remove("version");
    assert!(!validator.is_valid(&broken));

    let run0 = &log["runs"][0];
    // One rule per transform, its help the `pyslim explain` text.
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(names, pyslim_transforms::registry::names());
    for (rule, transform) in rules.iter().zip(pyslim_transforms::registry::TRANSFORMS) {
        assert_eq!(rule["help"]["text"], transform.documentation());
        assert_eq!(rule["shortDescription"]["text"], transform.summary());
    }

    let results = run0["results"].as_array().unwrap();
    let summary: Vec<(String, String, u64, u64)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                location["region"]["startLine"].as_u64().unwrap(),
                location["region"]["startColumn"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = summary.clone();
    sorted.sort();
    let expected =
        |rule: &str, uri: &str, line, column| (rule.to_string(), uri.to_string(), line, column);
    assert_eq!(
        sorted,
        [
            expected("deque", "pkg/queue.py", 9, 13),
            expected("generator", "pkg/queue.py", 5, 16),
            expected("generator", "pkg/units.py", 2, 16),
        ]
    );
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }

    // Each result's fix is its rewrite alone: exactly the characters it changes.
    let fix_of = |rule: &str, uri: &str| -> Vec<&Value> {
        let result = results
            .iter()
            .find(|r| {
                r["ruleId"] == rule
                    && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
            })
            .unwrap();
        let changes = result["fixes"][0]["artifactChanges"].as_array().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0]["artifactLocation"]["uri"], uri);
        changes[0]["replacements"]
            .as_array()
            .unwrap()
            .iter()
            .collect()
    };
    let generator = fix_of("generator", "pkg/queue.py");
    assert_eq!(
        generator
            .iter()
            .map(|r| (*r).clone())
            .collect::<Vec<Value>>(),
        [serde_json::json!({
            "deletedRegion": {"startLine": 5, "startColumn": 16, "endLine": 5, "endColumn": 35},
            "insertedContent": {"text": "x * 2 for x in xs"},
        })]
    );
    // All of a file's fixes together make what `rewrite` writes.
    let mut both = generator.clone();
    both.extend(fix_of("deque", "pkg/queue.py"));
    let rewritten = {
        let copy = project();
        assert_eq!(run(copy.path(), &["rewrite"]).status.code(), Some(2));
        (
            std::fs::read_to_string(copy.path().join("pkg/queue.py")).unwrap(),
            std::fs::read_to_string(copy.path().join("pkg/units.py")).unwrap(),
        )
    };
    assert_eq!(apply(QUEUE, &both), rewritten.0);
    assert_eq!(
        apply(UNITS, &fix_of("generator", "pkg/units.py")),
        rewritten.1
    );

    // The file that does not parse is a tool notification, and the run not successful.
    let invocation = &run0["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "pkg/bad.py"
    );
}

#[test]
fn github_annotations_one_per_finding() {
    let dir = project();
    let out = run(dir.path(), &["check", "--format", "github"]);
    assert_eq!(out.status.code(), Some(2));
    // The same findings as JSON give the expected lines, message for message.
    let json: Value =
        serde_json::from_slice(&run(dir.path(), &["check", "--format", "json"]).stdout).unwrap();
    let mut expected = String::new();
    for file in json["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        for fix in file["fixes"].as_array().unwrap() {
            let (transform, line, column) = (
                fix["key"]["transform"].as_str().unwrap(),
                &fix["line"],
                &fix["column"],
            );
            expected.push_str(&format!(
                "::warning title=pyslim ({transform}),file={path},line={line},col={column}::\
                 {path}:{line}:{column}: {transform} {}\n",
                fix["message"].as_str().unwrap().replace('%', "%25")
            ));
        }
    }
    expected.push_str(
        "::error title=pyslim,file=pkg/bad.py,line=1,col=7::pkg/bad.py:1:7: syntax error: \
         Expected a parameter or the end of the parameter list; file skipped\n",
    );
    assert_eq!(stdout(&out), expected);
    assert_eq!(expected.matches("::warning ").count(), 3);
    // The summary still goes to stderr, for the job's log.
    assert!(
        stderr(&out).contains("Found 3 rewrites in 2 files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sarif_and_github_are_check_formats_only() {
    let dir = project();
    for command in ["rewrite", "profile"] {
        let out = run(dir.path(), &[command, "--format", "sarif"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("invalid value 'sarif' for '--format <FORMAT>'"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_pyslim() {"),
        ("zsh", "#compdef pyslim"),
        ("fish", "complete -c pyslim"),
    ] {
        let out = run(Path::new("."), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        // Subcommands, flags and their values are known to the script (fish writes
        // `-l verify` for `--verify`).
        for word in [
            "rewrite",
            "verify",
            "format",
            "sarif",
            "quiet",
            "completions",
        ] {
            assert!(text.contains(word), "{shell} lacks {word}");
        }
    }
    let out = run(Path::new("."), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quiet_keeps_findings_and_errors_only() {
    let dir = project();
    let normal = run(dir.path(), &["check"]);
    let quiet = run(dir.path(), &["check", "--quiet"]);
    assert_eq!(quiet.status.code(), normal.status.code());
    assert_eq!(stdout(&quiet), stdout(&normal));
    assert_eq!(stdout(&quiet).lines().count(), 3);
    assert_eq!(
        stderr(&quiet),
        "error: pkg/bad.py:1:7: syntax error: Expected a parameter or the end of the parameter list; file skipped\n"
    );
    assert!(stderr(&normal).contains("Found 3 rewrites"));
    // A global option: before the command too, and short.
    assert_eq!(stderr(&run(dir.path(), &["-q", "check"])), stderr(&quiet));

    // rewrite --dry-run: the diff stays, the summary goes.
    let out = run(dir.path(), &["rewrite", "--dry-run", "-q"]);
    assert!(stdout(&out).contains("+    return sum(x * 2 for x in xs)\n"));
    assert_eq!(
        stderr(&out),
        "error: pkg/bad.py:1:7: syntax error: Expected a parameter or the end of the parameter list; file skipped\n"
    );
    let out = run(dir.path(), &["check", "-q", "-v"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verbose_adds_timings_and_decisions() {
    let dir = project();
    let normal = run(dir.path(), &["check"]);
    let verbose = run(dir.path(), &["check", "--verbose"]);
    assert_eq!(stdout(&verbose), stdout(&normal));
    let text = stderr(&verbose);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Configuration of the current folder: none found, the defaults"
    );
    assert!(
        lines[1].starts_with("Read 4 files (0 test files among the paths given, only read) in ")
            && lines[1].ends_with(" ms"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("Analysed the project as a whole in ") && lines[2].ends_with(" ms"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("Ran the transforms in ") && lines[3].ends_with(" ms"),
        "{text}"
    );
    // Then what the normal run says.
    assert_eq!(lines[4..].join("\n") + "\n", stderr(&normal));
}

#[test]
fn color_follows_the_option_and_no_color() {
    let dir = project();
    let bold = "\u{1b}[1m";
    let colored = |out: &Output| stdout(out).contains(bold);
    // Into a pipe, `auto` does not color.
    assert!(!colored(&run(dir.path(), &["check"])));
    assert!(colored(&run(dir.path(), &["check", "--color", "always"])));
    assert!(colored(&run(dir.path(), &["--color=always", "check"])));
    assert!(!colored(&run(dir.path(), &["check", "--color", "never"])));
    let with_env = |vars: &[(&str, &str)], args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pyslim"));
        command
            .current_dir(dir.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in vars {
            command.env(k, v);
        }
        command.args(args).output().unwrap()
    };
    assert!(colored(&with_env(&[("CLICOLOR_FORCE", "1")], &["check"])));
    assert!(!colored(&with_env(
        &[("CLICOLOR_FORCE", "1")],
        &["check", "--color", "never"]
    )));
    // `--color always` is an explicit request: it wins over NO_COLOR, as in ruff.
    assert!(colored(&with_env(
        &[("NO_COLOR", "1")],
        &["check", "--color", "always"]
    )));
    // Errors on stderr follow it too.
    let out = run(dir.path(), &["check", "--color", "always"]);
    assert!(
        stderr(&out).contains("\u{1b}[1m\u{1b}[31merror"),
        "{:?}",
        stderr(&out)
    );
    let out = run(dir.path(), &["check", "--color", "never"]);
    assert!(!stderr(&out).contains('\u{1b}'), "{:?}", stderr(&out));
}
