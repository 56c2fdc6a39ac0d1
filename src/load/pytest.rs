//! pytest's configuration, as far as it says which files are test code: the file pytest
//! would read for a folder, found by its own rules, and its `python_files` and
//! `testpaths`.
//!
//! pytest looks in the folder it starts from and then in each folder above for, in this
//! order, `pytest.toml`, `.pytest.toml`, `pytest.ini`, `.pytest.ini`, `pyproject.toml`
//! (with `[tool.pytest]` or `[tool.pytest.ini_options]`), `tox.ini` (with `[pytest]`) and
//! `setup.cfg` (with `[tool:pytest]`); the first that holds its configuration wins, and
//! its folder is the rootdir `testpaths` are relative to. `pytest.toml` and `pytest.ini`
//! count even when empty. A file pytest would refuse (malformed, or a `[pytest]` section
//! in `setup.cfg`) is an error naming the file and the cause, as pytest's own would be.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};

/// The file names pytest reads its configuration from, in its order of precedence
/// within one folder (pytest 9's `CONFIG_LOADERS_BY_NAME`).
pub const CONFIG_FILES: [&str; 7] = [
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
];

/// The part of a pytest configuration that says which files are tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PytestConfig {
    /// The file it was read from.
    pub path: PathBuf,
    /// pytest's rootdir: the folder of that file, which `testpaths` are relative to.
    pub rootdir: PathBuf,
    /// `python_files`, when set: glob patterns of test module names, replacing pytest's
    /// default `test_*.py` and `*_test.py`.
    pub python_files: Option<Vec<String>>,
    /// `testpaths`: the folders (or globs) pytest searches when given no paths.
    pub testpaths: Vec<String>,
}

/// The pytest configuration in `dir` itself: the first of [`CONFIG_FILES`] there that
/// holds pytest's configuration, or `None` when none does (pytest then looks above).
pub fn read_in(dir: &Path) -> Result<Option<PytestConfig>> {
    for name in CONFIG_FILES {
        let path = dir.join(name);
        if path.is_file()
            && let Some(config) = read(&path)?
        {
            return Ok(Some(config));
        }
    }
    Ok(None)
}

/// Reads `path` as pytest reads a file of that name; `None` when it holds no pytest
/// configuration (a `tox.ini` without `[pytest]`, a `pyproject.toml` without
/// `[tool.pytest]`).
pub fn read(path: &Path) -> Result<Option<PytestConfig>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("{}: cannot read: {e}", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let values = match name {
        "pytest.toml" | ".pytest.toml" => Some(pytest_toml(path, &text)?),
        "pyproject.toml" => pyproject_toml(path, &text)?,
        "pytest.ini" | ".pytest.ini" => {
            let ini = parse_ini(&text).map_err(|e| e.in_file(path))?;
            Some(ini.section("pytest").map(Values::Ini).unwrap_or_default())
        }
        "tox.ini" => {
            let ini = parse_ini(&text).map_err(|e| e.in_file(path))?;
            ini.section("pytest").map(Values::Ini)
        }
        "setup.cfg" => {
            let ini = parse_ini(&text).map_err(|e| e.in_file(path))?;
            match ini.section("tool:pytest") {
                Some(section) => Some(Values::Ini(section)),
                // pytest stops here rather than ignore the section.
                None if ini.section("pytest").is_some() => bail!(
                    "{}: [pytest] section in setup.cfg files is no longer supported by \
                     pytest, change to [tool:pytest] instead",
                    path.display()
                ),
                None => None,
            }
        }
        _ => bail!("{}: not a pytest configuration file", path.display()),
    };
    let Some(values) = values else {
        return Ok(None);
    };
    let rootdir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Some(PytestConfig {
        python_files: values.list(path, "python_files")?,
        testpaths: values.list(path, "testpaths")?.unwrap_or_default(),
        path: path.to_path_buf(),
        rootdir,
    }))
}

/// A configuration's values, in pytest's two modes: INI (every value a string, or a
/// list of strings from `[tool.pytest.ini_options]`) or TOML (native TOML types).
#[derive(Debug)]
enum Values {
    Ini(Vec<(String, IniValue)>),
    Toml(toml::Table),
}

#[derive(Debug)]
enum IniValue {
    Text(String),
    Toml(toml::Value),
}

impl Default for Values {
    fn default() -> Self {
        Values::Ini(Vec::new())
    }
}

impl Values {
    /// An `args`-typed option (`python_files`, `testpaths`) read as pytest reads it: an
    /// INI string is split like a shell command line, a TOML value must be a list of
    /// strings (a string is accepted in `ini_options`, which pytest splits too).
    fn list(&self, path: &Path, key: &str) -> Result<Option<Vec<String>>> {
        let (value, toml_mode) = match self {
            Values::Ini(pairs) => match pairs.iter().find(|(k, _)| k == key) {
                Some((_, IniValue::Text(text))) => return split_args(path, key, text).map(Some),
                Some((_, IniValue::Toml(value))) => (value, false),
                None => return Ok(None),
            },
            Values::Toml(table) => match table.get(key) {
                Some(value) => (value, true),
                None => return Ok(None),
            },
        };
        match value {
            toml::Value::String(text) if !toml_mode => split_args(path, key, text).map(Some),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(anyhow!(
                        "{}: pytest option `{key}` must be a list of strings, not a list \
                         holding {}",
                        path.display(),
                        other.type_str()
                    )),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            other => bail!(
                "{}: pytest option `{key}` must be a list of strings, not {}",
                path.display(),
                other.type_str()
            ),
        }
    }
}

/// pytest reads an INI value of type `args` with Python's `shlex.split`. `shell-words`
/// splits the same way except that a word starting with `#` begins a comment (in
/// Python's default it is a word); either way such words match no file.
fn split_args(path: &Path, key: &str, text: &str) -> Result<Vec<String>> {
    shell_words::split(text).map_err(|_| {
        anyhow!(
            "{}: pytest option `{key}`: no closing quotation in {text:?}",
            path.display()
        )
    })
}

fn parse_toml(path: &Path, text: &str) -> Result<toml::Table> {
    text.parse::<toml::Table>().map_err(|e| {
        anyhow!(
            "{}: {}",
            path.display(),
            super::config::describe_toml_error(&e)
        )
    })
}

/// `pytest.toml`: the `[pytest]` table, in TOML mode; the file counts even when empty.
fn pytest_toml(path: &Path, text: &str) -> Result<Values> {
    let mut doc = parse_toml(path, text)?;
    match doc.remove("pytest") {
        Some(toml::Value::Table(table)) => Ok(Values::Toml(table)),
        Some(other) => bail!(
            "{}: `pytest` must be a table, not {}",
            path.display(),
            other.type_str()
        ),
        None => {
            let top_level: Vec<&str> = doc
                .iter()
                .filter(|(_, v)| !v.is_table())
                .map(|(k, _)| k.as_str())
                .collect();
            if !top_level.is_empty() {
                bail!(
                    "{}: pytest configuration must be under a [pytest] table (found \
                     top-level options: {})",
                    path.display(),
                    top_level.join(", ")
                );
            }
            Ok(Values::default())
        }
    }
}

/// `pyproject.toml`: `[tool.pytest]` in TOML mode or `[tool.pytest.ini_options]` in INI
/// mode; both at once is an error in pytest.
fn pyproject_toml(path: &Path, text: &str) -> Result<Option<Values>> {
    let doc = parse_toml(path, text)?;
    let Some(tool_pytest) = doc
        .get("tool")
        .and_then(|t| t.get("pytest"))
        .and_then(|p| p.as_table())
    else {
        return Ok(None);
    };
    let mut native = tool_pytest.clone();
    let ini_options = native.remove("ini_options");
    match ini_options {
        Some(_) if !native.is_empty() => bail!(
            "{}: pytest cannot use both [tool.pytest] and [tool.pytest.ini_options]",
            path.display()
        ),
        Some(toml::Value::Table(options)) => Ok(Some(Values::Ini(
            options
                .into_iter()
                .map(|(k, v)| (k, IniValue::Toml(v)))
                .collect(),
        ))),
        Some(other) => bail!(
            "{}: `tool.pytest.ini_options` must be a table, not {}",
            path.display(),
            other.type_str()
        ),
        None if native.is_empty() => Ok(None),
        None => Ok(Some(Values::Toml(native))),
    }
}

/// An INI file as pytest's parser, `iniconfig`, reads it.
#[derive(Debug, Default)]
struct Ini {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Ini {
    fn section(&self, name: &str) -> Option<Vec<(String, IniValue)>> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, pairs)| {
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), IniValue::Text(v.clone())))
                    .collect()
            })
    }
}

/// Where and why an INI file does not parse.
#[derive(Debug, PartialEq, Eq)]
struct IniError {
    /// 1-based.
    line: usize,
    message: String,
}

impl IniError {
    fn in_file(self, path: &Path) -> anyhow::Error {
        anyhow!("{}:{}: {}", path.display(), self.line, self.message)
    }
}

/// A port of `iniconfig`'s parser (2.x, without inline comment stripping, as pytest
/// calls it), written here rather than taken from an INI crate because pytest's rules
/// are narrower than configparser's and every crate's: duplicate sections and names
/// are errors, `#` or `;` starts a comment only at the start of a line, a key may be
/// followed by `=` or `:` (the first `=` wins unless the key would hold a `:`), and an
/// indented line continues the value above it, even across blank lines. The values
/// pytest sees and the files it refuses are what decide which files are tests.
fn parse_ini(text: &str) -> std::result::Result<Ini, IniError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ini = Ini::default();
    // The value that an indented line continues: (section index, name index).
    let mut open: Option<(usize, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let err = |message: String| IniError {
            line: line_no,
            message,
        };
        let stripped = raw.trim_start();
        if stripped.is_empty() || stripped.starts_with(['#', ';']) {
            continue;
        }
        let line = raw.trim_end();
        let continuation = if line.starts_with('[') {
            let head = line.split('#').next().unwrap_or("");
            let head = head.split(';').next().unwrap_or("").trim_end();
            match head.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                Some("") => return Err(err("empty section name".into())),
                Some(name) => {
                    if ini.sections.iter().any(|(n, _)| n == name) {
                        return Err(err(format!("duplicate section {name:?}")));
                    }
                    ini.sections.push((name.to_string(), Vec::new()));
                    open = None;
                    continue;
                }
                // iniconfig reads a `[` line without its `]` as a continuation.
                None => line.trim(),
            }
        } else if line.starts_with(char::is_whitespace) {
            line.trim()
        } else {
            let (name, value) = match line.split_once('=') {
                Some((name, value)) if !name.contains(':') => (name, value),
                _ => line
                    .split_once(':')
                    .ok_or_else(|| err(format!("unexpected line: {line:?}")))?,
            };
            let (name, value) = (name.trim(), value.trim());
            let Some((section, (_, pairs))) = ini.sections.iter_mut().enumerate().next_back()
            else {
                return Err(err("no section header defined".into()));
            };
            if pairs.iter().any(|(n, _)| n == name) {
                return Err(err(format!("duplicate name {name:?}")));
            }
            pairs.push((name.to_string(), value.to_string()));
            open = Some((section, pairs.len() - 1));
            continue;
        };
        let Some((section, pair)) = open else {
            return Err(err("unexpected value continuation".into()));
        };
        let value = &mut ini.sections[section].1[pair].1;
        // iniconfig keeps a value's lines in a list and joins them with newlines; an
        // empty first line is not in the list.
        if !value.is_empty() {
            value.push('\n');
        }
        value.push_str(continuation);
    }
    Ok(ini)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(ini: &Ini, section: &str) -> Vec<(String, String)> {
        ini.sections
            .iter()
            .find(|(n, _)| n == section)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ini_reads_values_as_iniconfig_does() {
        let text = "\u{feff}# comment\n[pytest]\naddopts =\n    -ra\n\n    --strict-markers\n\
                    python_files: check_*.py  # kept, as in pytest\n; comment\n\
                    url = http://x:1\nkey: a=b\n[other] ; trailing\nx=\n";
        let ini = parse_ini(text).unwrap();
        assert_eq!(
            pairs(&ini, "pytest"),
            kv(&[
                ("addopts", "-ra\n--strict-markers"),
                ("python_files", "check_*.py  # kept, as in pytest"),
                ("url", "http://x:1"),
                ("key", "a=b"),
            ])
        );
        assert_eq!(pairs(&ini, "other"), kv(&[("x", "")]));
    }

    #[test]
    fn ini_errors_name_the_line() {
        let cases = [
            ("x = 1\n", 1, "no section header defined"),
            ("[a]\n  more\n", 2, "unexpected value continuation"),
            ("[a]\n[a]\n", 2, "duplicate section \"a\""),
            ("[a]\nx=1\nx=2\n", 3, "duplicate name \"x\""),
            ("[a]\n\njunk\n", 3, "unexpected line: \"junk\""),
            ("[]\n", 1, "empty section name"),
        ];
        for (text, line, message) in cases {
            assert_eq!(
                parse_ini(text).unwrap_err(),
                IniError {
                    line,
                    message: message.into()
                },
                "{text:?}"
            );
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn each_file_is_read_in_its_own_way() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let read_only = |name: &str, text: &str| read(&write(d, name, text));

        let ini = read_only(
            "pytest.ini",
            "[pytest]\npython_files = check_*.py 'a b.py'\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            ini.python_files,
            Some(vec!["check_*.py".into(), "a b.py".into()])
        );
        assert_eq!(ini.rootdir, d);
        // An empty pytest.ini is still pytest's configuration; an unrelated tox.ini is not.
        assert_eq!(
            read_only("pytest.ini", "").unwrap().unwrap().python_files,
            None
        );
        assert!(read_only("tox.ini", "[tox]\nenv = py\n").unwrap().is_none());
        assert_eq!(
            read_only("tox.ini", "[pytest]\ntestpaths =\n  testing\n  doc\n")
                .unwrap()
                .unwrap()
                .testpaths,
            vec!["testing", "doc"]
        );
        assert!(
            read_only("setup.cfg", "[metadata]\nname = x\n")
                .unwrap()
                .is_none()
        );
        let err = read_only("setup.cfg", "[pytest]\ntestpaths = t\n").unwrap_err();
        assert!(
            format!("{err}").contains("change to [tool:pytest]"),
            "{err}"
        );
        assert_eq!(
            read_only("setup.cfg", "[tool:pytest]\ntestpaths = t\n")
                .unwrap()
                .unwrap()
                .testpaths,
            vec!["t"]
        );

        // pyproject.toml: ini_options takes a string (split) or a list; [tool.pytest]
        // wants lists.
        let ini_mode =
            "[tool.pytest.ini_options]\npython_files = \"a_*.py b_*.py\"\ntestpaths = [\"t\"]\n";
        let config = read_only("pyproject.toml", ini_mode).unwrap().unwrap();
        assert_eq!(
            config.python_files,
            Some(vec!["a_*.py".into(), "b_*.py".into()])
        );
        assert_eq!(config.testpaths, vec!["t"]);
        let native = "[tool.pytest]\ntestpaths = [\"t\", \"u\"]\n";
        assert_eq!(
            read_only("pyproject.toml", native)
                .unwrap()
                .unwrap()
                .testpaths,
            vec!["t", "u"]
        );
        let err = read_only("pyproject.toml", "[tool.pytest]\ntestpaths = \"t\"\n").unwrap_err();
        assert!(
            format!("{err}")
                .ends_with("pytest option `testpaths` must be a list of strings, not string"),
            "{err}"
        );
        let both = "[tool.pytest]\ntestpaths = [\"t\"]\n[tool.pytest.ini_options]\nx = \"1\"\n";
        assert!(read_only("pyproject.toml", both).is_err());
        assert!(
            read_only("pyproject.toml", "[project]\nname = \"x\"\n")
                .unwrap()
                .is_none()
        );

        // pytest.toml: the [pytest] table; top-level options are a mistake pytest names.
        assert_eq!(
            read_only("pytest.toml", "[pytest]\ntestpaths = [\"t\"]\n")
                .unwrap()
                .unwrap()
                .testpaths,
            vec!["t"]
        );
        let err = read_only("pytest.toml", "testpaths = [\"t\"]\n").unwrap_err();
        assert!(
            format!("{err}").contains("found top-level options: testpaths"),
            "{err}"
        );

        let err = read_only("pytest.ini", "[pytest]\npython_files = 'open\n").unwrap_err();
        assert!(format!("{err}").contains("no closing quotation"), "{err}");
        let err = read_only("pyproject.toml", "[tool.pytest\n").unwrap_err();
        assert!(
            format!("{err}").starts_with(&format!(
                "{}: TOML parse error at line 1",
                d.join("pyproject.toml").display()
            )),
            "{err}"
        );
        let err = read_only("pytest.ini", "[pytest]\n  stray\n").unwrap_err();
        assert_eq!(
            format!("{err}"),
            format!(
                "{}:2: unexpected value continuation",
                d.join("pytest.ini").display()
            )
        );
    }

    #[test]
    fn the_first_file_in_pytests_order_wins() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "setup.cfg",
            "[tool:pytest]\ntestpaths = from_setup_cfg\n",
        );
        write(d, "tox.ini", "[tox]\n");
        assert_eq!(
            read_in(d).unwrap().unwrap().testpaths,
            vec!["from_setup_cfg"]
        );
        write(d, "tox.ini", "[pytest]\ntestpaths = from_tox\n");
        assert_eq!(read_in(d).unwrap().unwrap().testpaths, vec!["from_tox"]);
        write(
            d,
            "pyproject.toml",
            "[tool.pytest.ini_options]\ntestpaths = [\"from_pyproject\"]\n",
        );
        assert_eq!(
            read_in(d).unwrap().unwrap().testpaths,
            vec!["from_pyproject"]
        );
        write(d, "pytest.ini", "[pytest]\ntestpaths = from_pytest_ini\n");
        assert_eq!(
            read_in(d).unwrap().unwrap().testpaths,
            vec!["from_pytest_ini"]
        );
        write(
            d,
            "pytest.toml",
            "[pytest]\ntestpaths = [\"from_pytest_toml\"]\n",
        );
        assert_eq!(
            read_in(d).unwrap().unwrap().testpaths,
            vec!["from_pytest_toml"]
        );
        assert!(read_in(&d.join("missing")).unwrap().is_none());
    }
}
