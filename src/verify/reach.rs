//! Which tests reach which fix: the call-level map mutation testers build (mutmut's
//! stats phase), here from one instrumented baseline run.
//!
//! Each fix has a scope ([`pyslim_transforms::instrument::Scope`]): the function it
//! sits in, the methods of the class it slots, or its module. The baseline run's copy
//! gets `__pyslim_hit__(unit)` at the start of those functions (only those: the
//! instrumentation costs one C call per call of a function that holds a fix), so each
//! test's record says which units it reached. A module-level fix is reached by the
//! tests whose test module reaches that module through its globals. A fix whose scope
//! could not be instrumented is treated as reached by every test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pyslim_transforms::instrument::{Hook, Scope, hit_edit, instrumented_copy, scope_of};
use ruff_text_size::TextSize;

use crate::load::ProjectFile;
use crate::python::{Candidate, RunResult, TestRecords};

/// Where one candidate's code runs, as the baseline can observe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixScope {
    /// Reached when one of these instrumented units runs.
    Units(Vec<u32>),
    /// Module level of this file (relative to the project root).
    Module(String),
    /// Not observable: every test may reach it.
    Unknown,
}

/// The instrumented texts for the baseline copy, and every candidate's scope.
pub struct Instrumented {
    /// File index → instrumented text (only files with candidates).
    pub texts: BTreeMap<usize, String>,
    /// Per candidate (same order as given).
    pub scopes: Vec<FixScope>,
}

/// Instruments the candidates' files: one unit per function that holds a fix (or per
/// method of a class that gets slots).
pub fn instrument(
    files: &[ProjectFile],
    candidates: &[Candidate],
    relative: &BTreeMap<usize, std::path::PathBuf>,
) -> Instrumented {
    let mut by_file: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, (index, _)) in candidates.iter().enumerate() {
        by_file.entry(*index).or_default().push(i);
    }
    let mut scopes = vec![FixScope::Unknown; candidates.len()];
    let mut texts = BTreeMap::new();
    let mut next_unit = 0u32;
    for (index, members) in by_file {
        let file = &files[index];
        let text = file.text();
        let Ok(module) = pyslim_transforms::parse(text) else {
            continue;
        };
        let module_path = relative
            .get(&index)
            .map(|p| p.to_string_lossy().replace('\\', "/"));
        // One unit per function, shared by the fixes inside it.
        let mut units: BTreeMap<TextSize, u32> = BTreeMap::new();
        let mut edits = Vec::new();
        let mut unit_of = |start: TextSize, edits: &mut Vec<_>| -> Option<u32> {
            if let Some(unit) = units.get(&start) {
                return Some(*unit);
            }
            let edit = hit_edit(&module, start, next_unit)?;
            edits.push(edit);
            units.insert(start, next_unit);
            next_unit += 1;
            Some(next_unit - 1)
        };
        for &i in &members {
            let offset = TextSize::new(candidates[i].1.offset);
            scopes[i] = match scope_of(&module, offset) {
                Scope::Function(start) => match unit_of(start, &mut edits) {
                    Some(unit) => FixScope::Units(vec![unit]),
                    None => FixScope::Unknown,
                },
                Scope::Class(methods) if !methods.is_empty() => {
                    let found: Option<Vec<u32>> =
                        methods.iter().map(|m| unit_of(*m, &mut edits)).collect();
                    found.map_or(FixScope::Unknown, FixScope::Units)
                }
                // A class without methods is touched from outside: whoever imports it.
                Scope::Class(_) | Scope::Module => match &module_path {
                    Some(path) => FixScope::Module(path.clone()),
                    None => FixScope::Unknown,
                },
            };
        }
        if edits.is_empty() {
            continue;
        }
        let Some(instrumented) = instrumented_copy(&module, edits, Hook::Hit) else {
            // Never run a copy that does not parse (nor one whose edits collide): this
            // file's fixes reach every test.
            for &i in &members {
                if let FixScope::Units(_) = scopes[i] {
                    scopes[i] = FixScope::Unknown;
                }
            }
            continue;
        };
        texts.insert(index, instrumented);
    }
    Instrumented { texts, scopes }
}

/// The tests of the baseline and what each reached.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Every test id of the baseline.
    pub tests: BTreeSet<String>,
    /// Units reached per test (collection-time hits of its module included).
    pub hits: BTreeMap<String, BTreeSet<u32>>,
    /// Project files (relative) each test module reaches through its globals, by the
    /// test module's relative path.
    pub module_refs: BTreeMap<String, BTreeSet<String>>,
}

impl Coverage {
    /// Reads the baseline's records; `relative` maps the worker's absolute paths
    /// back to project-relative ones.
    pub fn from_baseline(
        tests: &TestRecords,
        result: &RunResult,
        relative: &dyn Fn(&str) -> Option<String>,
    ) -> Coverage {
        let mut hits: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for (id, record) in tests {
            let mut reached: BTreeSet<u32> = record.hits.iter().flatten().copied().collect();
            for (collector, units) in &result.collect_hits {
                if id.starts_with(collector.as_str()) {
                    reached.extend(units.iter().copied());
                }
            }
            hits.insert(id.clone(), reached);
        }
        let module_refs = result
            .module_refs
            .iter()
            .filter_map(|(test_module, files)| {
                Some((
                    relative(test_module)?,
                    files.iter().filter_map(|f| relative(f)).collect(),
                ))
            })
            .collect();
        Coverage {
            tests: tests.keys().cloned().collect(),
            hits,
            module_refs,
        }
    }

    /// The tests that reach a fix of this scope (all of them when unknown).
    pub fn tests_for(&self, scope: &FixScope) -> BTreeSet<String> {
        match scope {
            FixScope::Unknown => self.tests.clone(),
            FixScope::Units(units) => self
                .hits
                .iter()
                .filter(|(_, reached)| units.iter().any(|u| reached.contains(u)))
                .map(|(id, _)| id.clone())
                .collect(),
            FixScope::Module(path) => self
                .tests
                .iter()
                .filter(|id| {
                    let module = test_module(id);
                    self.module_refs
                        .get(module)
                        .is_some_and(|refs| refs.contains(path))
                })
                .cloned()
                .collect(),
        }
    }

    /// Project files a test module reaches (for collection errors); `None` when the
    /// baseline did not see it.
    pub fn files_of_module(&self, module: &str) -> Option<&BTreeSet<String>> {
        self.module_refs.get(module)
    }
}

/// The test module part of a node id (`tests/test_x.py::TestA::test_b` →
/// `tests/test_x.py`).
pub fn test_module(id: &str) -> &str {
    id.split("::").next().unwrap_or(id)
}

/// Groups fixes so that no two groups share a test: fixes (by index) with the tests
/// each reaches, restricted to `tests`. Returns `(fixes, tests)` per group, largest
/// first; fixes reaching none of `tests` are left out.
pub fn groups(
    reach: &BTreeMap<usize, BTreeSet<String>>,
    tests: &BTreeSet<String>,
) -> Vec<(Vec<usize>, BTreeSet<String>)> {
    // Union-find over tests: fixes join the tests they reach.
    let mut parent: BTreeMap<String, String> =
        tests.iter().map(|t| (t.clone(), t.clone())).collect();
    fn find(parent: &mut BTreeMap<String, String>, t: &str) -> String {
        let mut root = t.to_string();
        while let Some(p) = parent.get(&root).filter(|p| **p != root) {
            root = p.clone();
        }
        parent.insert(t.to_string(), root.clone());
        root
    }
    for reached in reach.values() {
        let hit: Vec<&String> = reached.iter().filter(|t| tests.contains(*t)).collect();
        for pair in hit.windows(2) {
            let (a, b) = (find(&mut parent, pair[0]), find(&mut parent, pair[1]));
            if a != b {
                parent.insert(a, b);
            }
        }
    }
    let mut by_root: BTreeMap<String, (Vec<usize>, BTreeSet<String>)> = BTreeMap::new();
    for (fix, reached) in reach {
        let Some(first) = reached.iter().find(|t| tests.contains(*t)) else {
            continue;
        };
        let root = find(&mut parent, first);
        by_root.entry(root).or_default().0.push(*fix);
    }
    for t in tests {
        let root = find(&mut parent, t);
        if let Some(group) = by_root.get_mut(&root) {
            group.1.insert(t.clone());
        }
    }
    let mut out: Vec<_> = by_root.into_values().collect();
    out.sort_by_key(|(fixes, _)| std::cmp::Reverse(fixes.len()));
    out
}

/// `path` relative to `root` with `/`, when inside.
pub fn relative_to(path: &Path, root: &Path) -> Option<String> {
    path.strip_prefix(root)
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fixes_sharing_no_test_are_searched_apart() {
        let reach = BTreeMap::from([
            (0, set(&["t1", "t2"])),
            (1, set(&["t2"])),
            (2, set(&["t3"])),
            (3, set(&["t9"])),
        ]);
        let groups = groups(&reach, &set(&["t1", "t2", "t3"]));
        assert_eq!(
            groups,
            vec![(vec![0, 1], set(&["t1", "t2"])), (vec![2], set(&["t3"]))]
        );
    }

    #[test]
    fn module_scope_reaches_the_tests_of_importing_modules() {
        let coverage = Coverage {
            tests: set(&["tests/test_a.py::t1", "tests/test_b.py::t2"]),
            hits: BTreeMap::new(),
            module_refs: BTreeMap::from([
                ("tests/test_a.py".to_string(), set(&["pkg/a.py"])),
                ("tests/test_b.py".to_string(), set(&["pkg/b.py"])),
            ]),
        };
        assert_eq!(
            coverage.tests_for(&FixScope::Module("pkg/a.py".into())),
            set(&["tests/test_a.py::t1"])
        );
        assert_eq!(coverage.tests_for(&FixScope::Unknown).len(), 2);
    }
}
