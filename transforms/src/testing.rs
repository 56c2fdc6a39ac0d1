//! Helpers for the transforms' unit tests: run a transform over a few in-memory
//! modules the way the engine does (index every file, then run each), and apply the
//! fixes of one run to see the text they make.

use crate::{Applicability, FileContext, ModuleInfo, Output, Settings, Transform, parse};

/// Runs `transform` over `modules` (dotted name, whether it is a package's
/// `__init__.py`, source) with `settings`: indexes every module first when the
/// transform builds a project index, then returns each module's output in order.
pub(crate) fn run_modules(
    transform: &dyn Transform,
    modules: &[(&str, bool, &str)],
    settings: &Settings,
) -> Vec<Output> {
    let parsed: Vec<_> = modules
        .iter()
        .map(|(name, is_package, source)| {
            let module = parse(source).expect("test source parses");
            let path = if *is_package {
                format!("{}/__init__.py", name.replace('.', "/"))
            } else {
                format!("{}.py", name.replace('.', "/"))
            };
            let info = ModuleInfo {
                name: name.to_string(),
                is_package: *is_package,
                path,
            };
            (module, info)
        })
        .collect();
    let context = |module, info, project| FileContext {
        module,
        info,
        settings,
        project,
        read_only: false,
    };
    let project = transform.needs_index().then(|| {
        let facts = parsed
            .iter()
            .filter_map(|(module, info)| transform.index_file(&context(module, info, None)))
            .collect();
        transform.index_project(facts)
    });
    let project = project.flatten();
    parsed
        .iter()
        .map(|(module, info)| transform.run(&context(module, info, project.as_deref())))
        .collect()
}

/// Runs `transform` on one module, `m`, with the default settings.
pub(crate) fn run(transform: &dyn Transform, source: &str) -> Output {
    run_modules(transform, &[("m", false, source)], &Settings::default())
        .pop()
        .expect("one output per module")
}

/// The source with every finding's fix applied, and each finding's applicability in
/// source order (the findings of one test must not overlap).
pub(crate) fn applied(source: &str, output: &Output) -> (String, Vec<Applicability>) {
    let mut findings: Vec<_> = output.findings.iter().collect();
    findings.sort_by_key(|f| f.range.start());
    let text = crate::fix::apply_edits(source, findings.iter().flat_map(|f| f.fix.edits()));
    let applicability = findings.iter().map(|f| f.fix.applicability()).collect();
    (text, applicability)
}

/// The reasons of the output's notes, in order.
pub(crate) fn reasons(output: &Output) -> Vec<&str> {
    output.notes.iter().map(|n| n.reason.as_str()).collect()
}
