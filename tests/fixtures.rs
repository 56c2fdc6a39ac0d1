//! Transform fixtures: `fixtures/<transform>/<case>.py` (one file) or
//! `fixtures/<transform>/<case>/` (a small project, for cross-file cases).
//!
//! Each case runs with only its transform enabled and unsafe fixes allowed, and its
//! snapshot (`tests/snapshots/`) holds the exact output of every file (carriage returns
//! and form feeds made visible) and every fix with its applicability, then every note.
//! Every case is also checked to re-parse and to be idempotent, and a case that has an
//! `if __name__ == "__main__":` block (or a `main.py` in a project case) is run with
//! `python3` before and after: the output must be the same.
//!
//! A case may start with `# fixture: target-version = "3.9"` to set the target.
//!
//! To review new or changed snapshots: `INSTA_UPDATE=always cargo test --test fixtures`,
//! then read `git diff tests/snapshots`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use pyslim::engine::FixPolicy;
use pyslim::load::decode::DecodedSource;
use pyslim::load::{ProjectFile, module_info};
use pyslim_transforms::{PythonVersion, Settings, parse, registry};

struct Case {
    transform: String,
    name: String,
    root: PathBuf,
    files: Vec<PathBuf>,
}

fn cases() -> Vec<Case> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for transform in registry::names() {
        let dir = base.join(transform);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut files: Vec<PathBuf> = walk_py(&path);
                files.sort();
                out.push(Case {
                    transform: transform.to_string(),
                    name,
                    root: path,
                    files,
                });
            } else if path.extension().is_some_and(|e| e == "py") {
                out.push(Case {
                    transform: transform.to_string(),
                    name,
                    root: dir.clone(),
                    files: vec![path],
                });
            }
        }
    }
    out
}

fn walk_py(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_py(&path));
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
    out
}

fn settings_for(text: &str) -> Settings {
    let mut settings = Settings::default();
    if let Some(rest) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# fixture: target-version = \""))
    {
        let v = rest.trim_end_matches('"');
        let (major, minor) = v.split_once('.').unwrap();
        settings.target_version = PythonVersion {
            major: major.parse().unwrap(),
            minor: minor.parse().unwrap(),
        };
    }
    settings
}

/// Runs the engine over `texts` (path relative to the case root → text).
fn run(case: &Case, texts: &[(PathBuf, String)]) -> (Vec<String>, String) {
    let transform = registry::get(&case.transform).unwrap();
    let settings = Arc::new(settings_for(&texts[0].1));
    let files: Vec<ProjectFile> = texts
        .iter()
        .map(|(rel, text)| ProjectFile {
            path: case.root.join(rel),
            info: module_info(
                &case.root.join(rel),
                rel.to_string_lossy().replace('\\', "/"),
            ),
            source: DecodedSource::decode(text.as_bytes()).unwrap(),
            settings: settings.clone(),
            transforms: vec![transform],
            indexed_by: vec![transform],
        })
        .collect();
    let facts = pyslim::engine::index(&files);
    let policy = FixPolicy {
        unsafe_fixes: true,
        keep: None,
    };
    let results = pyslim::engine::rewrite_all(&files, &facts, &policy);
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
                pyslim::engine::applicability_name(fix.applicability),
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
fn check_behaviour(case: &Case, originals: &[(PathBuf, String)], outputs: &[String]) {
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
        let dir = tempfile::tempdir().unwrap();
        for ((rel, _), text) in originals.iter().zip(&texts) {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        results.push(run_python(
            dir.path(),
            &dir.path().join(&originals[entry].0),
        ));
    }
    assert!(
        results[0].0,
        "{}/{}: the original fixture fails:\n{}",
        case.transform, case.name, results[0].1
    );
    assert_eq!(
        results[0], results[1],
        "{}/{}: the rewrite changed behaviour",
        case.transform, case.name
    );
}

#[test]
fn fixtures() {
    let cases = cases();
    assert!(!cases.is_empty(), "no fixtures found");
    for case in &cases {
        let originals: Vec<(PathBuf, String)> = case
            .files
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&case.root).unwrap().to_path_buf();
                (rel, std::fs::read_to_string(p).unwrap())
            })
            .collect();
        let (outputs, log) = run(case, &originals);

        for ((rel, _), out) in originals.iter().zip(&outputs) {
            assert!(
                parse(out).is_ok(),
                "{}/{}: {} does not re-parse",
                case.transform,
                case.name,
                rel.display()
            );
        }
        let again: Vec<(PathBuf, String)> = originals
            .iter()
            .map(|(r, _)| r.clone())
            .zip(outputs.iter().cloned())
            .collect();
        let (second, second_log) = run(case, &again);
        assert_eq!(
            outputs, second,
            "{}/{}: a second run changed the output",
            case.transform, case.name
        );
        assert!(
            !second_log.lines().any(|l| !l.contains(" note: ")),
            "{}/{}: a second run found fixes:\n{second_log}",
            case.transform,
            case.name
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

        check_behaviour(case, &originals, &outputs);
    }
}
