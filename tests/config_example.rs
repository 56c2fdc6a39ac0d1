//! What users read about names must stay true. `config.example.toml` loads, names every
//! key the code accepts, and holds the defaults; and README.md, `config.example.toml`,
//! the `pyslim explain` texts and the CLI's own help agree with the code on every flag
//! and configuration key they name: a renamed flag or key fails here until every text
//! that names it is updated.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use pyslim::cli::Cli;
use pyslim::load::config::{Config, FileConfig, Overrides, ProfileConfig, VerifyConfig};
use pyslim_transforms::{Settings, TransformOptions, registry};

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
    // serde writes "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
    Some(
        list.split([',', '\n'])
            .flat_map(|k| k.split(" or "))
            .map(|k| k.trim().trim_matches('`').to_string())
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
    let path = example_path();
    let config = match Config::load(&path, &Overrides::default()) {
        Ok(config) => config,
        Err(err) => panic!("{err:#}"),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(config.path.as_deref(), Some(path.as_path()));
    assert_eq!(config.root, root);
    // Loaded, the example is the defaults: what a project with no configuration gets.
    let defaults = Config::defaults(root, &Overrides::default()).expect("the defaults");
    assert_eq!(*config.settings, *defaults.settings);
    assert_eq!(*config.settings, Settings::default());
    let names = |c: &Config| c.transforms.iter().map(|t| t.name()).collect::<Vec<_>>();
    assert_eq!(names(&config), registry::names());
    assert_eq!(names(&config), names(&defaults));
    assert_eq!(config.verify, VerifyConfig::default());
    assert!(config.respect_gitignore);
    for excluded in [".venv", "build", "src/node_modules"] {
        assert!(config.is_excluded(&root.join(excluded)), "{excluded}");
    }
    assert!(!config.is_excluded(&root.join("src")));
    let file = root.join("tests/test_a.py");
    assert_eq!(
        config
            .transforms_for(&file)
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>(),
        registry::names(),
        "no per-file ignores"
    );
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
    // Every table the example documents had its keys read: a table the walk cannot
    // read would make the check above pass without looking.
    let tables = documented
        .iter()
        .filter(|d| documented.iter().any(|k| k.starts_with(&format!("{d}."))));
    for table in tables {
        assert!(
            accepted.iter().any(|k| k.starts_with(&format!("{table}."))),
            "no key of [{table}] was read from the code: {accepted:?}"
        );
    }
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

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every long flag and visible alias of every subcommand, as `--name`.
fn cli_flags() -> BTreeSet<String> {
    // clap adds these when the parser is built, after `get_arguments` is read here.
    let mut flags: BTreeSet<String> = ["--help", "--version"].map(String::from).into();
    let mut commands = vec![Cli::command()];
    while let Some(command) = commands.pop() {
        for arg in command.get_arguments() {
            if arg.is_hide_set() {
                continue;
            }
            flags.extend(arg.get_long().map(|l| format!("--{l}")));
            flags.extend(
                arg.get_visible_aliases()
                    .into_iter()
                    .flatten()
                    .map(|a| format!("--{a}")),
            );
        }
        commands.extend(
            command
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .cloned(),
        );
    }
    flags
}

/// The long flags of `pyslim rewrite`, as `--name`.
fn rewrite_flags() -> BTreeSet<String> {
    let cli = Cli::command();
    let rewrite = cli
        .find_subcommand("rewrite")
        .expect("pyslim has a rewrite command");
    rewrite
        .get_arguments()
        .filter_map(|a| a.get_long())
        .map(|l| format!("--{l}"))
        .collect()
}

/// Every configuration key, dotted (`verify.venv`), and every table (`verify`).
fn config_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    all_keys(Vec::new(), &mut keys);
    keys
}

/// The command a flag at `at` in `line` belongs to: the last command word before it in
/// its code span (`pyslim rewrite --verify`, `cargo test --test fixtures`), where a
/// bare ` -- ` hands the rest of a `cargo run` to pyslim. A flag without a command
/// before it (`--select a,b`) is pyslim's.
fn command_of(line: &str, at: usize) -> &'static str {
    let before = &line[..at];
    let span_start = before.rfind('`').map_or(0, |i| i + 1);
    let mut command = "pyslim";
    for word in before[span_start..].split_whitespace() {
        command = match word {
            "pyslim" | "--" => "pyslim",
            "cargo" | "git" | "python3" | "bash" | "pip" | "pipx" | "pytest" | "maturin"
            | "pre-commit" => "other",
            // A workload's own arguments: `"bench.py --n 200000"`.
            _ if word.trim_start_matches('"').ends_with(".py") => "other",
            _ => command,
        };
    }
    command
}

/// The `--flags` pyslim is asked for in `text`, with their line numbers.
fn flags_named(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices("--") {
            let boundary = line[..at]
                .chars()
                .next_back()
                .is_none_or(|c| " `([|,".contains(c));
            let name: String = line[at + 2..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            if boundary
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && command_of(line, at) == "pyslim"
            {
                out.push((number + 1, format!("--{name}")));
            }
        }
    }
    out
}

/// The configuration keys named in `text`, with their line numbers: TOML table
/// headers (`[verify]`, outside Python code blocks), backticked tables and keys
/// (`` `[tool.pyslim.verify]` ``, `` `[verify] venv` ``), and backticked kebab-case
/// words (`per-file-ignores`). Tables and keys of other tools' files are left out:
/// `[project]`, `requires-python`, pytest's `[pytest]` and `[tool.pytest]` tables.
fn keys_named(text: &str) -> Vec<(usize, String)> {
    const OTHER_TOOLS: &[&str] = &[
        "project",
        "tool.pyslim",
        "requires-python",
        "pytest",
        "tool.pytest",
        "tool.pytest.ini_options",
    ];
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-' || c == '_')
    };
    let mut out = Vec::new();
    // The language of the fenced code block the line is in, if any.
    let mut fence: Option<&str> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(language) = trimmed.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(language),
            };
            continue;
        }
        let mut named = Vec::new();
        if fence != Some("python")
            && let Some(table) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
        {
            named.push(table.to_string());
        }
        for span in line.split('`').skip(1).step_by(2) {
            if let Some((table, key)) = span.strip_prefix('[').and_then(|t| t.split_once(']')) {
                // `[transforms.NAME]` is a placeholder: not lowercase, not a name.
                if is_name(table) {
                    let table = table.strip_prefix("tool.pyslim.").unwrap_or(table);
                    named.push(match key.trim() {
                        "" => table.to_string(),
                        key => format!("{table}.{key}"),
                    });
                }
            } else if span.contains('-')
                && span
                    .split('-')
                    .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
            {
                named.push(span.to_string());
            }
        }
        out.extend(
            named
                .into_iter()
                .filter(|k| is_name(k) && !OTHER_TOOLS.contains(&k.as_str()))
                .map(|k| (number + 1, k)),
        );
    }
    out
}

/// A dotted key, or a leaf key written alone (`lazy-consumers`), that the code accepts.
fn is_config_key(keys: &BTreeSet<String>, key: &str) -> bool {
    keys.contains(key) || keys.iter().any(|k| k.rsplit('.').next() == Some(key))
}

/// Names in `text` (shown as `source`) that are neither a flag nor a key of pyslim.
fn unknown_names(source: &str, text: &str) -> Vec<String> {
    let flags = cli_flags();
    let keys = config_keys();
    let mut unknown: Vec<String> = flags_named(text)
        .into_iter()
        .filter(|(_, flag)| !flags.contains(flag))
        .map(|(line, flag)| format!("{source}:{line}: no flag {flag}"))
        .collect();
    unknown.extend(
        keys_named(text)
            .into_iter()
            .filter(|(_, key)| !is_config_key(&keys, key))
            .map(|(line, key)| format!("{source}:{line}: no configuration key {key}")),
    );
    unknown
}

#[test]
fn every_flag_and_key_the_texts_name_exists() {
    let mut unknown = unknown_names("README.md", &read("README.md"));
    unknown.extend(unknown_names(
        "config.example.toml",
        &read("config.example.toml"),
    ));
    for transform in registry::TRANSFORMS {
        unknown.extend(unknown_names(
            &format!("pyslim explain {}", transform.name()),
            transform.documentation(),
        ));
    }
    let mut help = Vec::new();
    Cli::command()
        .write_long_help(&mut help)
        .expect("help renders");
    for name in ["rewrite", "check", "profile", "transforms", "explain"] {
        let mut command = Cli::command();
        let sub = command
            .find_subcommand_mut(name)
            .expect("a documented subcommand");
        sub.write_long_help(&mut help).expect("help renders");
    }
    unknown.extend(unknown_names(
        "pyslim --help",
        &String::from_utf8_lossy(&help),
    ));
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
}

#[test]
fn the_readme_names_every_flag_and_transform() {
    let readme = read("README.md");
    let named: BTreeSet<String> = flags_named(&readme).into_iter().map(|(_, f)| f).collect();
    let missing: Vec<_> = cli_flags()
        .into_iter()
        .filter(|f| f != "--help" && f != "--version" && !named.contains(f))
        .collect();
    assert!(missing.is_empty(), "README.md never names {missing:?}");

    // The table of transforms: one row per transform.
    let mut rows: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(name, _)| name))
        .filter(|name| !name.starts_with('-'))
        .collect();
    rows.sort_unstable();
    let mut names = registry::names();
    names.sort_unstable();
    assert_eq!(rows, names, "README.md's table of transforms");
}

#[test]
fn the_readme_verify_table_pairs_each_flag_with_its_key() {
    let readme = read("README.md");
    let flags = rewrite_flags();
    let keys = config_keys();
    let mut rows = 0;
    for line in readme.lines().filter(|l| l.starts_with("| `--")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let flag = cells[1]
            .trim_matches('`')
            .split([' ', '`'])
            .next()
            .unwrap_or_default();
        assert!(flags.contains(flag), "{line}: `rewrite` has no {flag}");
        let key = cells[2].trim_matches('`');
        if !key.is_empty() {
            assert!(
                keys.contains(&format!("verify.{key}")),
                "{line}: [verify] has no key {key}"
            );
            // The flag and the key name the same setting.
            assert!(
                flag.trim_start_matches("--") == key || key == "args",
                "{line}: {flag} and `{key}` do not match"
            );
        }
        rows += 1;
    }
    assert_eq!(
        rows, 6,
        "the README's table of --verify options moved or changed"
    );
}

#[test]
fn the_name_finders_find_names() {
    // The finders above are what make the agreement tests able to fail: check them on
    // texts with a known wrong name.
    assert_eq!(
        flags_named("run `pyslim rewrite --dry-rn` or `cargo test --test x`, `--select a`"),
        [(1, "--dry-rn".to_string()), (1, "--select".to_string())]
    );
    assert_eq!(
        flags_named("    cargo run --release -- rewrite --verify"),
        [(1, "--verify".to_string())]
    );
    assert!(flags_named(r#"`--workload "bench.py --n 2"`"#) == [(1, "--workload".to_string())]);
    assert_eq!(
        unknown_names(
            "t",
            "set `[verify] venvs` or `per-file-ignore`\n[transforms.genertor]"
        ),
        [
            "t:1: no configuration key verify.venvs",
            "t:1: no configuration key per-file-ignore",
            "t:2: no configuration key transforms.genertor",
        ]
    );
    assert!(
        unknown_names(
            "t",
            "`[tool.pyslim.verify]`, `[project]`, `requires-python`"
        )
        .is_empty()
    );
}
