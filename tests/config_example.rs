//! `config.example.toml` must stay true: it loads, it names every key the code accepts,
//! and its values are the defaults.

use std::collections::BTreeSet;
use std::path::Path;

use pyslim::load::config::{Config, FileConfig, Overrides, ProfileConfig, VerifyConfig};
use pyslim_transforms::{TransformOptions, registry};

fn example_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

/// The keys a table accepts, read from serde's own "unknown field" message, so the list
/// comes from the code and cannot drift from it.
fn accepted_keys(prefix: &[&str]) -> Option<Vec<String>> {
    let mut doc = String::new();
    if !prefix.is_empty() {
        doc.push_str(&format!("[{}]\n", prefix.join(".")));
    }
    doc.push_str("__not_a_key__ = 1\n");
    let err = toml::from_str::<FileConfig>(&doc).err()?.to_string();
    let list = err
        .split("expected one of ")
        .nth(1)
        .or_else(|| err.split("expected ").nth(1))?;
    if !err.contains("unknown field") {
        return None;
    }
    Some(
        list.split(',')
            .map(|k| k.trim().trim_matches('`').trim_end_matches('`').to_string())
            .filter(|k| !k.is_empty() && !k.contains(' '))
            .collect(),
    )
}

fn all_keys(prefix: Vec<&str>, out: &mut BTreeSet<String>) {
    let Some(keys) = accepted_keys(&prefix) else {
        return;
    };
    for key in keys {
        let mut path = prefix.clone();
        path.push(&key);
        let before = out.len();
        out.insert(path.join("."));
        // A key that is itself a table of known fields is walked too.
        if accepted_keys(&path).is_some() && out.len() > before {
            all_keys(path.iter().map(|s| &**s).collect::<Vec<_>>().to_vec(), out);
        }
    }
}

/// Keys set in the example, plus keys shown commented out (`# venv = ".venv"`) where a
/// key has no default value to write.
fn documented_keys() -> BTreeSet<String> {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let mut out = BTreeSet::new();
    let mut table = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.to_string();
            for (i, _) in name.match_indices('.') {
                out.insert(name[..i].to_string());
            }
            out.insert(name.to_string());
            continue;
        }
        let body = line.strip_prefix("# ").unwrap_or(line);
        if let Some((key, _)) = body.split_once(" = ") {
            let key = key.trim();
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '"' || c == '_')
                && !key.contains('"')
            {
                out.insert(if table.is_empty() {
                    key.to_string()
                } else {
                    format!("{table}.{key}")
                });
            }
        }
    }
    out
}

#[test]
fn example_loads() {
    let config = Config::load(&example_path(), &Overrides::default());
    assert!(config.is_ok(), "{:#}", config.err().unwrap());
}

#[test]
fn example_documents_every_key() {
    let mut accepted = BTreeSet::new();
    all_keys(Vec::new(), &mut accepted);
    assert!(
        accepted.contains("transforms.generator.lazy-consumers"),
        "{accepted:?}"
    );
    let documented = documented_keys();
    let missing: Vec<_> = accepted.difference(&documented).collect();
    assert!(missing.is_empty(), "config.example.toml lacks {missing:?}");
}

#[test]
fn example_values_are_the_defaults() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let file: FileConfig = toml::from_str(&text).unwrap();
    assert_eq!(file.transforms, TransformOptions::default());
    assert_eq!(file.verify, VerifyConfig::default());
    assert_eq!(file.profile, ProfileConfig::default());
    assert_eq!(file.select.unwrap(), registry::names());
    assert!(
        file.ignore.is_empty()
            && file.extend_exclude.is_empty()
            && file.per_file_ignores.is_empty()
    );
    let exclude: Vec<&str> = file
        .exclude
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(exclude, pyslim::load::config::DEFAULT_EXCLUDE);
    assert_eq!(file.target_version.as_deref(), Some("3.10"));
    assert_eq!(file.respect_gitignore, Some(true));
    assert_eq!(file.rewrite_tests, Some(false));
}
