//! The two builds: with the `embedded` feature (the default of `cargo build`) pyslim
//! links libpython and runs a venv of that Python embedded; without it (the wheel, see
//! pyproject.toml) it links no libpython and runs every venv with the venv's own
//! interpreter, saying so once. Each test checks the build it is compiled in:
//! `cargo test --test modes` and `cargo test --no-default-features --test modes`.
//!
//! The verification test needs the test virtualenv (`bash tests/setup-test-venv.sh`).

use std::process::Command;

#[path = "common/projects.rs"]
mod projects;
use projects::{fixture, venv};

fn pyslim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pyslim"))
}

#[test]
fn version_names_the_build_mode() {
    let out = pyslim().arg("--version").output().unwrap();
    assert!(out.status.success());
    let expected = match pyslim::python::embedded_version() {
        Some(version) => {
            let minor: Vec<&str> = version.split('.').take(2).collect();
            format!("pyslim 0.1.0 (embedded CPython {})\n", minor.join("."))
        }
        None => "pyslim 0.1.0 (no embedded Python: runs the venv's interpreter)\n".to_string(),
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    assert_eq!(
        pyslim::python::embedded_version().is_some(),
        cfg!(feature = "embedded")
    );
}

/// The binary's dynamic dependencies name libpython exactly when it embeds Python.
#[test]
fn only_the_embedded_build_loads_libpython() {
    let Ok(out) = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_pyslim"))
        .output()
    else {
        eprintln!("no ldd on this machine: skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("libc.so"), "{text}");
    assert_eq!(
        text.contains("libpython"),
        cfg!(feature = "embedded"),
        "{text}"
    );
}

/// `rewrite --verify` on the demo project: the embedded build runs the test venv (its
/// own Python) embedded; the other runs its interpreter, says so once, and decides the
/// same.
#[test]
fn verify_runs_the_venv_as_the_build_allows() {
    let dir = fixture("demo");
    let out = pyslim()
        .current_dir(dir.path())
        .args(["rewrite", "--verify", "--dry-run", "--repeat", "1"])
        .args(["--format", "json", "--venv"])
        .arg(venv())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = &value["verify"]["python"];
    let note = "note: this pyslim embeds no Python; running with ";
    if cfg!(feature = "embedded") {
        assert_eq!(python["mode"], "embedded", "{python}");
        assert_eq!(
            python["linked_version"].as_str(),
            python["venv_version"].as_str()
        );
        assert!(!stderr.contains(note), "{stderr}");
    } else {
        assert_eq!(python["mode"], "venv-interpreter", "{python}");
        assert!(python["linked_version"].is_null(), "{python}");
        assert_eq!(stderr.matches(note).count(), 1, "{stderr}");
    }
    // The demo's six rewrites all pass its tests, whichever way they ran.
    assert_eq!(value["fixes"], 6, "{stderr}");
    let fixes = value["verify"]["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 6);
    assert!(fixes.iter().all(|f| f["kept"] == true), "{fixes:?}");
}

/// `--embedded` asks for the embedded interpreter: a build without one says so.
#[test]
#[cfg(not(feature = "embedded"))]
fn embedded_is_refused_without_an_embedded_python() {
    let dir = fixture("demo");
    let out = pyslim()
        .current_dir(dir.path())
        .args(["rewrite", "--verify", "--embedded", "--venv"])
        .arg(venv())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("this pyslim was built without an embedded Python"),
        "{stderr}"
    );
}
