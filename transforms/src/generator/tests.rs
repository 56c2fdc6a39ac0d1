//! Analysis details that the fixtures cannot reach (options) or show less directly.

use super::*;
use crate::testing::applied;
use crate::{Settings, parse};

fn run_with(source: &str, settings: &Settings) -> Output {
    crate::testing::run_modules(&Generator, &[("m", false, source)], settings)
        .pop()
        .expect("one output")
}

fn run(source: &str) -> Output {
    crate::testing::run(&Generator, source)
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
    use crate::Applicability::Safe;
    assert_eq!(
        applied(source, &run_with(source, &settings)),
        (
            "for w in [x for x in xs]:\n    print(w)\nfor i, w in enumerate([x for x in xs]):\n    print(i)\nt = sum(x for x in xs)\n".to_string(),
            vec![Safe]
        ),
        "with lazy-consumers = false only sum() is rewritten"
    );
    assert_eq!(
        applied(source, &run(source)),
        (
            "for w in (x for x in xs):\n    print(w)\nfor i, w in enumerate(x for x in xs):\n    print(i)\nt = sum(x for x in xs)\n".to_string(),
            vec![Safe, Safe, Safe]
        )
    );
}

#[test]
fn option_is_read_from_toml() {
    let options: crate::TransformOptions =
        toml::from_str("[generator]\nlazy-consumers = false\n").expect("valid options");
    assert_eq!(
        options.generator,
        Options {
            lazy_consumers: false
        }
    );
    let defaults: crate::TransformOptions = toml::from_str("").expect("empty options");
    assert_eq!(defaults.generator, Options::default());
    assert!(defaults.generator.lazy_consumers, "on by default");
    let err = toml::from_str::<crate::TransformOptions>("[generator]\nlazy = 1\n")
        .expect_err("an unknown key is an error")
        .to_string();
    assert!(
        err.contains("unknown field `lazy`, expected `lazy-consumers`"),
        "{err}"
    );
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
    use crate::Applicability::{Safe, Unsafe};
    let lazily = |source: &str| source.replace("f.readlines()", "f");
    assert_eq!(applied(text, &run(text)), (lazily(text), vec![Unsafe]));
    assert!(
        run(text).findings[0]
            .message
            .ends_with("unsafe: a decoding error in a later line would now surface after the loop body handled the earlier lines (readlines() raised before the loop); open the file in binary mode or with errors=\"replace\" to make this safe"),
        "{}",
        run(text).findings[0].message
    );
    assert_eq!(applied(binary, &run(binary)), (lazily(binary), vec![Safe]));
    let lenient = text.replace("open(p)", "open(p, errors='replace')");
    assert_eq!(
        applied(&lenient, &run(&lenient)),
        (lazily(&lenient), vec![Safe])
    );
    assert!(run(aliased_io).findings.is_empty());
}

#[test]
fn readlines_is_unsafe_where_the_body_yields_or_awaits() {
    let with_body = |body: &str| {
        format!(
            "def g(p):\n    with open(p, 'rb') as f:\n        for line in f.readlines():\n{body}"
        )
    };
    // The yield comes after a call: the call is not what makes it unsafe, the yield is.
    let yields = with_body("            process(line)\n            yield line\n");
    let output = run(&yields);
    assert_eq!(output.findings.len(), 1, "{:?}", output.notes);
    assert_eq!(
        output.findings[0].fix.applicability(),
        crate::Applicability::Unsafe
    );
    assert!(
        output.findings[0].message.ends_with(
            "unsafe: the loop body yields, and the caller may change the source before the next item; the file is now read between the items"
        ),
        "{}",
        output.findings[0].message
    );
    let awaits = format!("async {}", with_body("            await process(line)\n"));
    let output = run(&awaits);
    assert!(
        output.findings[0].message.ends_with(
            "unsafe: the loop body awaits, and other code may change the source meanwhile; the file is now read between the items"
        ),
        "{}",
        output.findings[0].message
    );
    // A generator function defined in the body does not suspend the loop; calls alone
    // cannot reach the file, whose every use was checked.
    for body in [
        "            def each():\n                yield line\n            process(each())\n",
        "            process(lambda: (yield))\n",
        "            process(line)\n",
    ] {
        let source = with_body(body);
        assert_eq!(safe_count(&run(&source)), 1, "{body}");
    }
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
