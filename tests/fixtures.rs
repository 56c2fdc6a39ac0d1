//! Transform fixtures: `fixtures/<transform>/<case>.py` (one file) or
//! `fixtures/<transform>/<case>/` (a small project, for cross-file cases).
//!
//! Every case is its own test, named `<transform>::<case>`, so a failure names the case
//! and one case runs alone:
//!
//!     cargo test --test fixtures -- generator::sum_start     # one case
//!     cargo test --test fixtures -- slots::                  # one transform's cases
//!     cargo test --test fixtures -- --list                   # every case
//!
//! The cases are found when the test binary starts (a `libtest-mimic` harness), not
//! listed by hand or by a build script: a new file is a new test without touching any
//! code, and editing a fixture does not rebuild the crate (a build script watching
//! `fixtures/` would recompile the whole `pyslim` package on every edit). The test
//! `layout` fails when a folder under `fixtures/` names no transform, a transform has
//! no fixture, or a fixture folder holds something that is not a case.
//!
//! Each case runs with only its transform enabled and unsafe fixes allowed, and its
//! snapshot (`tests/snapshots/`) holds the exact output of every file (carriage returns
//! and form feeds made visible) and every fix with its applicability, then every note.
//! Every case is also checked to re-parse and to be idempotent, and a case that has an
//! `if __name__ == "__main__":` block (or a `main.py` in a project case) is run with
//! `python3` before and after: the output must be the same.
//!
//! A case sets its options in `# fixture: ` lines at the top of its (first, in path
//! order) file, each a line of TOML with the configuration's own keys:
//!
//!     # fixture: target-version = "3.9"
//!     # fixture: transforms.generator.lazy-consumers = false
//!
//! To review new or changed snapshots: `INSTA_UPDATE=always INSTA_FORCE_PASS=1 cargo
//! test --test fixtures`, then read `git diff tests/snapshots`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use pyslim::engine::{FixPolicy, applicability_name};
use pyslim::load::config::parse_version;
use pyslim::load::decode::DecodedSource;
use pyslim::load::{ProjectFile, module_info};
use pyslim_transforms::{Settings, TransformOptions, parse, registry};
use serde::Deserialize;

/// The folder under `fixtures/` that holds verification projects (`tests/verify.rs`),
/// not transform cases.
const PROJECTS: &str = "projects";

/// The prefix of a case's option lines.
const OPTION_PREFIX: &str = "# fixture: ";

fn main() {
    let args = Arguments::from_args();
    let mut trials = vec![Trial::test("layout", || {
        layout_problems().map_err(Failed::from)
    })];
    trials.extend(cases().into_iter().map(|case| {
        Trial::test(format!("{}::{}", case.transform, case.name), move || {
            run_case(&case)
        })
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

struct Case {
    transform: &'static str,
    name: String,
    root: PathBuf,
    files: Vec<PathBuf>,
}

/// The entries of `dir`, sorted; an unreadable folder is a broken checkout.
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    paths.sort();
    paths
}

fn is_python(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "py")
}

/// Every case of every transform that has a fixture folder.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for transform in registry::names() {
        let dir = fixtures_dir().join(transform);
        if !dir.is_dir() {
            continue;
        }
        for path in sorted_entries(&dir) {
            let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if path.is_dir() {
                let mut files = walk_py(&path);
                files.sort();
                out.push(Case {
                    transform,
                    name,
                    root: path,
                    files,
                });
            } else if is_python(&path) {
                out.push(Case {
                    transform,
                    name,
                    root: dir.clone(),
                    files: vec![path],
                });
            }
        }
    }
    out
}

/// What is wrong with the layout of `fixtures/`, all of it in one message.
fn layout_problems() -> Result<(), String> {
    let mut problems = Vec::new();
    let names = registry::names();
    for path in sorted_entries(&fixtures_dir()) {
        let folder = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if folder == PROJECTS || !path.is_dir() && !is_python(&path) {
            continue;
        }
        if !path.is_dir() || !names.contains(&folder.as_str()) {
            problems.push(format!(
                "fixtures/{folder} names no transform (the transforms are: {})",
                names.join(", ")
            ));
            continue;
        }
        for entry in sorted_entries(&path) {
            let shown = entry
                .strip_prefix(fixtures_dir())
                .unwrap_or(&entry)
                .display();
            if entry.is_dir() && walk_py(&entry).is_empty() {
                problems.push(format!("fixtures/{shown}/ holds no Python file"));
            } else if !entry.is_dir() && !is_python(&entry) {
                problems.push(format!(
                    "fixtures/{shown} is neither a .py case nor a project folder"
                ));
            }
        }
    }
    let cases = cases();
    for name in &names {
        if !cases.iter().any(|c| c.transform == *name) {
            problems.push(format!(
                "transform `{name}` has no fixture: add fixtures/{name}/<case>.py"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn walk_py(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in sorted_entries(dir) {
        if path.is_dir() {
            out.extend(walk_py(&path));
        } else if is_python(&path) {
            out.push(path);
        }
    }
    out
}

/// The options a case may set: the configuration file's keys that reach a transform.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CaseOptions {
    target_version: Option<String>,
    #[serde(default)]
    transforms: TransformOptions,
}

/// The settings a case's `# fixture: ` lines ask for. They must open its first file:
/// anywhere else they would be silently ignored, so that is an error.
fn settings_for(texts: &[(PathBuf, String)]) -> Result<Settings, String> {
    let mut header = String::new();
    for (position, (rel, text)) in texts.iter().enumerate() {
        let mut in_header = position == 0;
        for (number, line) in text.lines().enumerate() {
            match line.strip_prefix(OPTION_PREFIX) {
                Some(option) if in_header => {
                    header.push_str(option);
                    header.push('\n');
                }
                Some(_) => {
                    return Err(format!(
                        "{}:{}: `{OPTION_PREFIX}` lines must open the case's first file",
                        rel.display(),
                        number + 1
                    ));
                }
                None => in_header = false,
            }
        }
    }
    let options: CaseOptions =
        toml::from_str(&header).map_err(|e| format!("the case's `# fixture:` options: {e}"))?;
    let mut settings = Settings {
        options: options.transforms,
        ..Settings::default()
    };
    if let Some(version) = &options.target_version {
        settings.target_version = parse_version(version).map_err(|e| format!("{e:#}"))?;
    }
    Ok(settings)
}

/// Runs the engine over `texts` (path relative to the case root → text): the rewritten
/// text of every file, and the log of fixes and notes the snapshot holds.
fn run(
    case: &Case,
    settings: &Arc<Settings>,
    texts: &[(PathBuf, String)],
) -> (Vec<String>, String) {
    let transform = registry::get(case.transform).expect("cases() only lists transforms");
    let mut files: Vec<ProjectFile> = texts
        .iter()
        .map(|(rel, text)| {
            let source = DecodedSource::decode(text.as_bytes())
                .unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
            ProjectFile::new(
                case.root.join(rel),
                module_info(
                    &case.root.join(rel),
                    rel.to_string_lossy().replace('\\', "/"),
                ),
                source,
                settings.clone(),
                vec![transform],
                vec![transform],
            )
        })
        .collect();
    let facts = pyslim::engine::index(&mut files);
    let policy = FixPolicy {
        unsafe_fixes: true,
        keep: None,
    };
    let results = pyslim::engine::rewrite_all(&files, &facts, &policy, true);
    let mut outputs = Vec::new();
    let mut log = String::new();
    for (file, result) in files.iter().zip(results) {
        let rewrite = result.unwrap_or_else(|e| panic!("{}: {e}", file.info.path));
        assert!(
            rewrite.internal_errors.is_empty(),
            "{:?}",
            rewrite.internal_errors
        );
        for fix in &rewrite.applied {
            log.push_str(&format!(
                "{}:{}:{} {} [{}] {}\n",
                file.info.path,
                fix.line,
                fix.column,
                fix.key.transform,
                applicability_name(fix.applicability),
                fix.message
            ));
        }
        for note in &rewrite.notes {
            log.push_str(&format!(
                "{}:{}:{} note: {}\n",
                file.info.path, note.line, note.column, note.reason
            ));
        }
        outputs.push(rewrite.output.unwrap_or_else(|| file.source.text.clone()));
    }
    (outputs, log)
}

fn visible(text: &str) -> String {
    text.replace('\r', "\\r").replace('\x0c', "\\f")
}

fn run_python(dir: &Path, script: &Path) -> (bool, String) {
    let out = Command::new("python3")
        .arg(script)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 on PATH");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs the case's entry point on the original and on the rewritten files.
fn check_behaviour(originals: &[(PathBuf, String)], outputs: &[String]) {
    let entry = originals.iter().position(|(rel, text)| {
        rel.file_name().is_some_and(|n| n == "main.py")
            || text.contains("if __name__ == \"__main__\":")
    });
    let Some(entry) = entry else { return };
    let mut results = Vec::new();
    for texts in [
        originals.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
        outputs.to_vec(),
    ] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        for ((rel, _), text) in originals.iter().zip(&texts) {
            let path = dir.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("a folder in the temporary folder");
            }
            std::fs::write(&path, text).expect("a file in the temporary folder");
        }
        results.push(run_python(
            dir.path(),
            &dir.path().join(&originals[entry].0),
        ));
    }
    assert!(
        results[0].0,
        "the original fixture fails:\n{}",
        results[0].1
    );
    assert_eq!(results[0], results[1], "the rewrite changed behaviour");
}

/// One case: snapshot, re-parse, idempotence, behaviour. Failures panic with what
/// differs; the harness reports them under the case's name.
fn run_case(case: &Case) -> Result<(), Failed> {
    let originals: Vec<(PathBuf, String)> = case
        .files
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&case.root).unwrap_or(p).to_path_buf();
            let text =
                std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (rel, text)
        })
        .collect();
    let settings = Arc::new(settings_for(&originals)?);
    let (outputs, log) = run(case, &settings, &originals);

    for ((rel, _), out) in originals.iter().zip(&outputs) {
        assert!(parse(out).is_ok(), "{} does not re-parse", rel.display());
    }
    let again: Vec<(PathBuf, String)> = originals
        .iter()
        .map(|(r, _)| r.clone())
        .zip(outputs.iter().cloned())
        .collect();
    let (second, second_log) = run(case, &settings, &again);
    assert_eq!(outputs, second, "a second run changed the output");
    assert!(
        !second_log.lines().any(|l| !l.contains(" note: ")),
        "a second run found fixes:\n{second_log}"
    );

    let mut snapshot = String::new();
    for ((rel, _), out) in originals.iter().zip(&outputs) {
        if case.files.len() > 1 {
            snapshot.push_str(&format!("==> {} <==\n", rel.display()));
        }
        snapshot.push_str(&visible(out));
    }
    snapshot.push_str("---- fixes and notes ----\n");
    snapshot.push_str(&log);
    insta::assert_snapshot!(format!("{}__{}", case.transform, case.name), snapshot);

    check_behaviour(&originals, &outputs);
    Ok(())
}
