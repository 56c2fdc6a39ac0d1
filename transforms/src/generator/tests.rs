//! Analysis details that the fixtures cannot reach (options) or show less directly.

use super::*;
use crate::{ModuleInfo, Settings, parse};

fn run_with(source: &str, settings: &Settings) -> Output {
    let module = parse(source).expect("test source parses");
    let info = ModuleInfo {
        name: "m".to_string(),
        is_package: false,
        path: "m.py".to_string(),
    };
    let ctx = FileContext {
        module: &module,
        info: &info,
        settings,
        project: None,
    };
    Generator.run(&ctx)
}

fn run(source: &str) -> Output {
    run_with(source, &Settings::default())
}

fn safe_count(output: &Output) -> usize {
    output
        .findings
        .iter()
        .filter(|f| f.fix.applicability() == crate::Applicability::Safe)
        .count()
}

#[test]
fn lazy_consumers_option_off_keeps_loops() {
    let source = "for w in [x for x in xs]:\n    print(w)\nfor i, w in enumerate([x for x in xs]):\n    print(i)\nt = sum([x for x in xs])\n";
    let mut settings = Settings::default();
    settings.options.generator.lazy_consumers = false;
    let output = run_with(source, &settings);
    assert_eq!(
        output.findings.len(),
        1,
        "only sum(): {:?}",
        output.findings
    );
    assert_eq!(run(source).findings.len(), 3);
}

#[test]
fn option_is_read_from_toml() {
    let options: crate::TransformOptions =
        toml::from_str("[generator]\nlazy-consumers = false\n").expect("valid options");
    assert!(!options.generator.lazy_consumers);
    assert!(toml::from_str::<crate::TransformOptions>("[generator]\nlazy = 1\n").is_err());
}

#[test]
fn documentation_is_the_module_doc() {
    let doc = Generator.documentation();
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Fix safety",
    ] {
        assert!(doc.contains(section), "missing {section}");
    }
}

#[test]
fn shadowing_anywhere_in_the_module_counts() {
    // The binding comes after the use, inside a function, as a parameter, or via
    // except/match/with/walrus: all of them shadow.
    for binding in [
        "def f(sum): pass",
        "try:\n    pass\nexcept E as sum:\n    pass",
        "with c as sum: pass",
        "match v:\n    case [*sum]: pass",
        "if (sum := 1): pass",
        "import sum",
        "from m import x as sum",
        "for sum in y: pass",
        "lambda sum: 0",
    ] {
        let source = format!("t = sum([x for x in xs])\n{binding}\n");
        let output = run(&source);
        assert!(
            output.findings.is_empty(),
            "{binding}: {:?}",
            output.findings
        );
    }
}

#[test]
fn plain_builtin_calls_are_pure_but_others_are_not() {
    assert_eq!(safe_count(&run("t = sum([len(x) for x in xs])\n")), 1);
    assert_eq!(safe_count(&run("t = sum([x.n for x in xs])\n")), 1);
    assert_eq!(safe_count(&run("t = sum([f(x) for x in xs])\n")), 0);
    assert_eq!(safe_count(&run("t = sum([(y := x) for x in xs])\n")), 0);
    // A rebound `len` is no longer a pure builtin.
    assert_eq!(
        safe_count(&run("len = print\nt = sum([len(x) for x in xs])\n")),
        0
    );
    // Other arguments evaluated before the items must not call anything.
    assert_eq!(safe_count(&run("t = sum([x for x in xs], start())\n")), 0);
}

#[test]
fn dict_needs_pairs_and_zip_one_iterable() {
    assert_eq!(run("d = dict([(k, v) for k, v in kv])\n").findings.len(), 1);
    assert_eq!(run("d = dict([kv for kv in kvs])\n").findings.len(), 0);
    assert_eq!(
        run("for a, b in zip([x for x in xs], ys):\n    print(a)\n")
            .findings
            .len(),
        0
    );
}

#[test]
fn loop_body_hazards() {
    let unsafe_ = |body: &str| {
        let source = format!("for w in [x for x in xs if x is not k]:\n    {body}\n");
        let output = run(&source);
        assert_eq!(output.findings.len(), 1, "{body}");
        output.findings[0].fix.applicability() == crate::Applicability::Unsafe
    };
    assert!(!unsafe_("print(w)"));
    assert!(!unsafe_("print(w.strip())"));
    assert!(unsafe_("xs.append(w)"));
    assert!(unsafe_("xs[0] = w"));
    assert!(unsafe_("del xs[0]"));
    assert!(unsafe_("k = w"));
    assert!(unsafe_("xs += [w]"));
    assert!(unsafe_("process(w)"));
    assert!(unsafe_("yield w"));
    assert!(!unsafe_("print(w, len(xs))"));
}

#[test]
fn file_mode_decides_readlines_safety() {
    let text = "with open(p) as f:\n    for line in f.readlines():\n        print(line)\n";
    let binary = "with open(p, 'rb') as f:\n    for line in f.readlines():\n        print(line)\n";
    let aliased_io =
        "import foo as io\ng = io.open(p, 'rb')\nfor line in g.readlines():\n    print(line)\n";
    assert_eq!(safe_count(&run(text)), 0);
    assert_eq!(run(text).findings.len(), 1);
    assert_eq!(safe_count(&run(binary)), 1);
    assert!(run(aliased_io).findings.is_empty());
}

#[test]
fn token_prefilter_keeps_every_candidate_shape() {
    let passes = |source: &str| {
        let module = parse(source).expect("test source parses");
        index::may_have_candidates(module.tokens(), module.source())
    };
    for source in [
        "sum([x for x in y])",
        "sum(([x for x in y]))",
        "sum(\n  # c\n  [x for x in y], 0)",
        "map(f, [x for x in y])",
        "for a in [x for x in y]: pass",
        "for a in ([x for x in y]): pass",
        "for a in enumerate([x for x in y]): pass",
        "[x async for x in y]\nsum([x async for x in y])",
        "for line in f.readlines(): pass",
        "f'{sum([x for x in y])}'",
    ] {
        assert!(passes(source), "{source}");
    }
    for source in [
        "foo([x for x in y])",
        "v = [x for x in y]",
        "sum(x for x in y)",
        "sum([1, 2]) + g([x for x in y])",
    ] {
        assert!(!passes(source), "{source}");
    }
}

#[test]
fn lazy_consumer_inside_an_eager_one() {
    assert_eq!(safe_count(&run("t = sum(map(len, [x for x in xs]))\n")), 1);
    assert_eq!(
        safe_count(&run("t = max(map(len, [x for x in xs]), key=f)\n")),
        0
    );
    assert_eq!(safe_count(&run("t = any(map(len, [x for x in xs]))\n")), 0);
    assert_eq!(safe_count(&run("t = sum(map(f, [x for x in xs]))\n")), 0);
    // Not used up at once: the iterator escapes.
    assert_eq!(safe_count(&run("t = list(map(len, [x for x in xs]))\n")), 0);
}

#[test]
fn readlines_skips_files_used_by_nested_functions() {
    let source = "f = open(p, 'rb')\ndef peek():\n    return f.readline()\nfor line in f.readlines():\n    peek()\n";
    let output = run(source);
    assert!(output.findings.is_empty());
    assert!(output.notes[0].reason.contains("nested function"));
}
