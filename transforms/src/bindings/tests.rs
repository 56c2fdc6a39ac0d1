//! Unit tests for the use classifier and the scope rules.

use super::*;
use crate::parse;

/// The uses of `name` (bound to a list) in `source`, as short descriptions.
fn uses_of(source: &str, name: &str) -> Vec<String> {
    let module = parse(source).expect("test source parses");
    let tracked = analyze(module.ast(), &|e| e.is_list_expr(), true, true);
    let t = tracked
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} not tracked"));
    let mut out: Vec<String> = t.uses.iter().map(|u| u.kind.describe()).collect();
    if let Some(blocked) = t.blocked {
        out.push(format!("blocked: {blocked}"));
    }
    out
}

fn tracked_names(source: &str) -> Vec<String> {
    let module = parse(source).expect("test source parses");
    analyze(module.ast(), &|e| e.is_list_expr(), true, true)
        .iter()
        .map(|t| t.name.to_string())
        .collect()
}

#[test]
fn reads() {
    let src = "xs = [1, 2]\nfor x in xs: pass\nif 3 in xs: pass\nn = len(xs)\na = xs[0]\nb, c = xs\nif xs: pass\ns = sum(xs)\nfor y in xs[1:]: pass\nf(*xs)\n";
    assert_eq!(
        uses_of(src, "xs"),
        vec![
            "iterated",
            "`in` test",
            "`len`",
            "indexed",
            "unpacked",
            "truth test",
            "iterated",
            "sliced",
            "unpacked"
        ]
    );
}

#[test]
fn mutations() {
    let src = "def f():\n    q = []\n    q.append(1)\n    q[0] = 2\n    del q[0]\n    q += [3]\n    q.pop(0)\n";
    assert_eq!(
        uses_of(src, "q"),
        vec![
            "`.append()` called",
            "item assigned",
            "item deleted",
            "augmented assignment",
            "`.pop()` called"
        ]
    );
}

#[test]
fn escapes() {
    let src = "def f(o):\n    q = []\n    g(q)\n    o.x = q\n    print(q)\n    r = q\n    d = [q]\n    h = lambda: q\n    return q\n";
    assert_eq!(
        uses_of(src, "q"),
        vec![
            "passed to `g`",
            "stored in an attribute or container",
            "formatted or printed",
            "bound to another name",
            "stored in an attribute or container",
            "captured by a nested function",
            "returned"
        ]
    );
}

#[test]
fn comparisons_and_concatenation() {
    let src = "xs = [1]\nxs == [1]\nxs < [2]\nys = xs + [2]\nzs = xs * 2\nq = xs or []\n";
    assert_eq!(
        uses_of(src, "xs"),
        vec![
            "compared",
            "compared",
            "concatenated or repeated",
            "concatenated or repeated",
            "used in a way the analysis does not follow"
        ]
    );
}

#[test]
fn rebinding_is_not_tracked() {
    assert!(tracked_names("xs = [1]\nif c:\n    xs = [2]\n").is_empty());
    assert!(tracked_names("xs = [1]\ndel xs\n").is_empty());
    assert!(tracked_names("def f():\n    for xs in y: pass\n    xs = []\n").is_empty());
    assert_eq!(tracked_names("xs = [1]\nxs += [2]\n"), vec!["xs"]);
}

#[test]
fn scopes() {
    // A function's own `xs` is not the module's.
    let src = "xs = [1]\ndef f():\n    xs = {}\n    xs.update()\nfor x in xs: pass\n";
    assert_eq!(uses_of(src, "xs"), vec!["iterated"]);
    // Module names read from functions are uses; comprehension targets shadow.
    let src = "xs = [1]\ndef f():\n    return len(xs)\nys = [xs for xs in range(3)]\n";
    assert_eq!(uses_of(src, "xs"), vec!["`len`"]);
    // `global` anywhere blocks the module name.
    let src = "xs = [1]\ndef f():\n    global xs\n    xs = []\n";
    assert_eq!(
        uses_of(src, "xs"),
        vec!["blocked: declared `global` in a function"]
    );
    // `nonlocal` rebinding of a function local blocks it.
    let src = "def f():\n    q = []\n    def g():\n        nonlocal q\n        q = [1]\n    g()\n";
    assert_eq!(
        uses_of(src, "q"),
        vec!["blocked: rebound from a nested scope"]
    );
    // The first iterable of a comprehension is evaluated in the enclosing scope.
    let src = "def f():\n    q = []\n    return [x for x in q]\n";
    assert_eq!(uses_of(src, "q"), vec!["iterated"]);
    // A generator expression reads later: like a closure.
    let src = "def f():\n    q = []\n    return (x for y in range(3) for x in q)\n";
    assert_eq!(uses_of(src, "q"), vec!["captured by a nested function"]);
}

#[test]
fn dynamic_scopes_are_blocked() {
    let src = "def f():\n    q = []\n    return locals()\n";
    assert_eq!(
        uses_of(src, "q"),
        vec!["blocked: the scope uses locals(), vars(), globals(), eval or exec"]
    );
}

#[test]
fn min_max_compare_several_arguments() {
    let src = "xs = [1]\na = max(xs)\nb = max([0], xs)\nc = min(xs, key=len)\n";
    assert_eq!(
        uses_of(src, "xs"),
        vec!["iterated", "passed to `max`", "iterated"]
    );
}

#[test]
fn builtin_shadowing() {
    let src = "def len(x): return 0\nxs = [1]\nn = len(xs)\n";
    assert_eq!(uses_of(src, "xs"), vec!["passed to `len`"]);
}

#[test]
fn project_uses() {
    let info = crate::ModuleInfo {
        name: "app.main".into(),
        is_package: false,
        path: "app/main.py".into(),
    };
    let src = "from .consts import A, B\nimport app.consts as c\nfor x in A: pass\nB.append(1)\nn = len(c.C)\nc.D.sort()\n";
    let module = parse(src).expect("parses");
    let uses = project::ProjectUses::new([project::index_file(&module, &info)]);
    assert_eq!(uses.external("app.consts", "A").uses, vec![UseClass::Read]);
    assert_eq!(
        uses.external("app.consts", "B").uses,
        vec![UseClass::Mutation]
    );
    assert_eq!(uses.external("app.consts", "C").uses, vec![UseClass::Read]);
    assert_eq!(
        uses.external("app.consts", "D").uses,
        vec![UseClass::Mutation]
    );
    assert!(!uses.external("app.consts", "A").module_escapes);
    let src = "import app.consts as c\nf(c)\n";
    let module = parse(src).expect("parses");
    let uses = project::ProjectUses::new([project::index_file(&module, &info)]);
    assert!(uses.external("app.consts", "A").module_escapes);
}

#[test]
fn project_uses_deep_in_code_and_through_soft_keywords() {
    // The walk passes over code that names no tracked import: uses deep inside nested
    // scopes, f-strings and names that are soft keywords elsewhere are still found,
    // and `vars()` anywhere still makes every import escape.
    let info = crate::ModuleInfo {
        name: "app.main".into(),
        is_package: false,
        path: "app/main.py".into(),
    };
    let src = "from .consts import A, type, match\n\
               class K:\n    def m(self):\n        return [y for y in (1, 2) if f'{A.pop()}']\n\
               x = type.append(1)\n\
               match match:\n    case _:\n        len(match)\n";
    let module = parse(src).expect("parses");
    let uses = project::ProjectUses::new([project::index_file(&module, &info)]);
    assert_eq!(
        uses.external("app.consts", "A").uses,
        vec![UseClass::Mutation]
    );
    assert_eq!(
        uses.external("app.consts", "type").uses,
        vec![UseClass::Mutation]
    );
    assert!(
        uses.external("app.consts", "match")
            .uses
            .contains(&UseClass::Read)
    );
    let src = "from .consts import A\nlen(A)\ndef f():\n    return vars()\n";
    let module = parse(src).expect("parses");
    let uses = project::ProjectUses::new([project::index_file(&module, &info)]);
    assert!(
        uses.external("app.consts", "A")
            .uses
            .contains(&UseClass::Escape)
    );
}

#[test]
fn class_bodies_and_defaults() {
    // A class attribute of the same name shadows the module name only in the class body;
    // methods read the module name.
    let src = "xs = [1]\nclass A:\n    xs = {}\n    xs.update()\n    def m(self):\n        return len(xs)\n";
    assert_eq!(uses_of(src, "xs"), vec!["`len`"]);
    // Defaults are evaluated in the enclosing scope: a plain use, not a closure.
    let src = "def f():\n    q = [1]\n    def g(a=len(q)):\n        return a\n    return g\n";
    assert_eq!(uses_of(src, "q"), vec!["`len`"]);
    // A lambda parameter of the same name shadows it.
    let src = "def f():\n    q = [1]\n    g = lambda q: q.pop()\n    return len(q), g\n";
    assert_eq!(uses_of(src, "q"), vec!["`len`"]);
}

#[test]
fn walrus_and_loops_count_as_bindings() {
    assert!(tracked_names("def f():\n    q = []\n    if (q := g()):\n        pass\n").is_empty());
    assert!(tracked_names("def f():\n    q = []\n    with g() as q:\n        pass\n").is_empty());
    assert!(tracked_names("def f():\n    q = []\n    import q\n").is_empty());
    // A comprehension target does not rebind the function's name.
    assert_eq!(
        tracked_names("def f():\n    q = []\n    return [q for q in g()]\n"),
        vec!["q"]
    );
}

#[test]
fn deque_relevant_details() {
    let src = "def f():\n    q = []\n    del q[0]\n    del q[0], q[1]\n    x = q[0]\n    q[-1] = 2\n    q[0] += 1\n";
    let module = parse(src).expect("parses");
    let tracked = analyze(module.ast(), &|e| e.is_list_expr(), false, true);
    let kinds: Vec<String> = tracked[0]
        .uses
        .iter()
        .map(|u| match &u.kind {
            UseKind::SubscriptDelete { index, stmt } => format!("del {index:?} {}", stmt.is_some()),
            UseKind::IndexLoad { index } => format!("load {index:?}"),
            UseKind::SubscriptStore {
                index,
                value,
                augmented,
            } => format!("store {index:?} {} {augmented:?}", value.is_some()),
            other => other.describe(),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "del Const(0) true",
            "del Const(0) false",
            "del Const(1) false",
            "load Const(0)",
            "store Const(-1) true None",
            "store Const(0) true Some(Add)"
        ]
    );
}

#[test]
fn generator_iteration_is_lazy_unless_consumed_on_the_spot() {
    let src = "def f():\n    q = [1]\n    a = any(x for x in q)\n    g = (x for x in q)\n    return a, list(g)\n";
    let module = parse(src).expect("parses");
    let tracked = analyze(module.ast(), &|e| e.is_list_expr(), false, true);
    let lazy: Vec<bool> = tracked[0]
        .uses
        .iter()
        .map(|u| matches!(u.kind, UseKind::Iteration { lazy: true, .. }))
        .collect();
    assert_eq!(lazy, vec![false, true]);
}

#[test]
fn a_star_import_may_shadow_the_builtins_here_as_everywhere() {
    // Without a star import `len(xs)` and `sum(xs)` are the builtins...
    let plain = "def f():\n    xs = [1, 2]\n    return len(xs) + sum(xs)\n";
    assert_eq!(uses_of(plain, "xs"), vec!["`len`", "iterated"]);
    // ...with one they may be anything the imported module exports, as the
    // `generator` transform has always assumed (`crate::semantic`).
    let star = format!("from helpers import *\n{plain}");
    let uses = uses_of(&star, "xs");
    assert!(
        !uses.iter().any(|u| u == "`len`" || u == "iterated"),
        "{uses:?}"
    );
}

/// Every scope's names as [`scope::all_scopes_among`] gives them, and as the per-scope
/// functions give them one scope at a time (found by a plain walk of every node), each
/// as sorted `(range, names)` of the scopes that bind something.
fn scopes_both_ways(source: &str) -> [Vec<(ruff_text_size::TextRange, Vec<String>)>; 2] {
    use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, walk_expr, walk_stmt};
    use ruff_python_ast::{Expr, Stmt};
    use ruff_text_size::{Ranged, TextRange};

    type Scopes = Vec<(TextRange, Vec<String>)>;
    fn push(out: &mut Scopes, range: TextRange, names: impl IntoIterator<Item = String>) {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        names.dedup();
        if !names.is_empty() {
            out.push((range, names));
        }
    }
    struct OneByOne(Scopes);
    impl<'a> SourceOrderVisitor<'a> for OneByOne {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(f) => {
                    let locals =
                        scope::function_locals(Some(&f.parameters), scope::Body::Stmts(&f.body));
                    push(&mut self.0, f.range(), locals.into_keys().map(String::from));
                }
                Stmt::ClassDef(c) => {
                    let locals = scope::body_locals(&c.body);
                    push(&mut self.0, c.range(), locals.into_keys().map(String::from));
                }
                _ => {}
            }
            walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            let generators = match expr {
                Expr::Lambda(l) => {
                    let locals =
                        scope::function_locals(l.parameters.as_deref(), scope::Body::Expr(&l.body));
                    push(&mut self.0, l.range(), locals.into_keys().map(String::from));
                    None
                }
                Expr::ListComp(c) => Some(&c.generators),
                Expr::SetComp(c) => Some(&c.generators),
                Expr::DictComp(c) => Some(&c.generators),
                Expr::Generator(c) => Some(&c.generators),
                _ => None,
            };
            if let Some(generators) = generators {
                let mut bound = Vec::new();
                for g in generators {
                    crate::syntax::target_names(&g.target, &mut bound);
                }
                push(
                    &mut self.0,
                    expr.range(),
                    bound.into_iter().map(String::from),
                );
            }
            walk_expr(self, expr);
        }
    }
    let module = parse(source).expect("test source parses");
    let body = &module.ast().body;
    let (top, nested) = scope::all_scopes_among(body, |_| true);
    let whole = TextRange::default();
    let mut at_once = Vec::new();
    push(&mut at_once, whole, top.into_keys().map(String::from));
    for (range, names) in nested {
        push(&mut at_once, range, names.into_iter().map(String::from));
    }
    let mut one_by_one = OneByOne(Vec::new());
    push(
        &mut one_by_one.0,
        whole,
        scope::body_locals(body).into_keys().map(String::from),
    );
    for stmt in body {
        one_by_one.visit_stmt(stmt);
    }
    let mut one_by_one = one_by_one.0;
    // Ranges have no order of their own: by start, then end.
    let key = |(r, names): &(TextRange, Vec<String>)| (r.start(), r.end(), names.clone());
    at_once.sort_by_key(key);
    one_by_one.sort_by_key(key);
    [at_once, one_by_one]
}

#[test]
fn every_scope_in_one_walk_binds_what_each_binds_alone() {
    let sources = [
        // Nested functions and classes, parameters, defaults and decorators evaluated
        // outside, a lambda in a default, `global`/`nonlocal`, `del`.
        "import os.path as p, sys\nfrom m import a as b\nfrom n import *\nx = 1\n\
         @deco(lambda q: q)\ndef f(a, /, b=lambda c=1: c, *args, d: int = 2, **kw) -> int:\n\
         \x20   global x\n    y = 1\n    del a\n    def g():\n        nonlocal y\n        y += 1\n\
         \x20       class C(Base, metaclass=M):\n            z = 1\n            def m(self): return z\n\
         \x20   return g\n",
        // Comprehensions: targets are their own, a walrus binds in the function, nested
        // comprehensions and lambdas inside them, in a class body too.
        "def f(xs):\n    return [(w := i) for i, (j, *k) in xs if (lambda t: t)(i)], \
         {k: v for k in xs for v in [k for k in k]}, (s for s in xs)\n\
         class K:\n    ys = [n for n in range(3)]\n    f = lambda self, len=len: len(self)\n",
        // Statements that bind: for/with/except/import in a function, match captures,
        // annotations without a value (and a lambda hidden in one), augmented
        // assignment only, `type` aliases.
        "def f(o):\n    for id, (a, b) in o: pass\n    with o as (c, d), o as e: pass\n\
         \x20   try: pass\n    except E as err: pass\n    import json\n    from x import y as z\n\
         \x20   n: int\n    o.attr: (lambda u: u) = 1\n    m += 1\n\
         \x20   match o:\n        case [str, *rest]: pass\n        case {'k': v, **kw}: pass\n\
         \x20       case C(x=id) as whole: pass\n\
         \x20   v: list[(lambda w: w)(1)]\n\
         type Alias = list[int]\n",
        // Type parameters are evaluated outside the body: the scopes in them count.
        "class C[T: [t for t in ts]]:\n    pass\ndef g[U: {k for k in ks}](): pass\n\
         class D:\n    def h[V: (lambda w: w)](self): pass\n",
    ];
    for source in sources {
        let [at_once, one_by_one] = scopes_both_ways(source);
        assert!(at_once.len() > 3, "{source}: {at_once:?}");
        assert_eq!(at_once, one_by_one, "{source}");
    }
}

#[test]
fn computed_imports_reach_what_their_name_may_stand_for() {
    use super::computed_imports;
    let info = crate::ModuleInfo {
        name: "app.loader".into(),
        is_package: false,
        path: "app/loader.py".into(),
    };
    let prefixes = |src: &str| {
        let module = parse(src).expect("parses");
        computed_imports::find(&module, &info)
            .into_iter()
            .map(|c| c.prefix)
            .collect::<Vec<_>>()
    };
    let some = |p: &str| vec![Some(p.to_string())];
    assert_eq!(
        prefixes("import importlib\nm = importlib.import_module('app.plugins.' + n)\n"),
        some("app.plugins.")
    );
    assert_eq!(
        prefixes("m = import_module(f'app.lang.{code}')\n"),
        some("app.lang.")
    );
    assert_eq!(
        prefixes("m = import_module('app.core')\n"),
        some("app.core")
    );
    // Relative to the package given, as importlib resolves it.
    assert_eq!(
        prefixes("m = import_module('.x', __package__)\n"),
        some("app.x")
    );
    assert_eq!(
        prefixes("m = import_module('..' + n, __name__)\n"),
        some("app.")
    );
    assert_eq!(
        prefixes("m = import_module('.' + n, package='app.sub')\n"),
        some("app.sub.")
    );
    assert_eq!(
        prefixes("import sys\nm = sys.modules[__name__]\n"),
        some("app.loader")
    );
    // A name that starts with no literal, a relative name with no package, a spec or
    // a path may stand for any module.
    assert_eq!(prefixes("m = __import__(name)\n"), vec![None]);
    assert_eq!(prefixes("m = import_module(f'{base}.x')\n"), vec![None]);
    assert_eq!(prefixes("m = import_module('.x')\n"), vec![None]);
    assert_eq!(prefixes("m = __import__('x', level=1)\n"), vec![None]);
    assert_eq!(
        prefixes("m = sys.modules.get(cls.__module__)\n"),
        vec![None]
    );
    assert_eq!(
        prefixes("m = importlib.util.module_from_spec(spec)\n"),
        vec![None]
    );
    assert_eq!(prefixes("m = runpy.run_path(path)\n"), vec![None]);
    // `modules` alone, or `modules` of something else, is no import.
    assert_eq!(prefixes("x = modules\ny = self.modules[k]\n"), vec![]);
    assert_eq!(
        prefixes("import sys\nsys.modules[k] = m\ndel sys.modules[k]\n"),
        vec![]
    );

    // The project view: only modules the name may stand for, and the first place.
    let src = "import importlib\n\ndef load(n):\n    return importlib.import_module('app.plugins.' + n)\n";
    let module = parse(src).expect("parses");
    let uses = project::ProjectUses::new([project::index_file(&module, &info)]);
    assert_eq!(
        uses.external("app.plugins.csv", "L")
            .computed_import
            .as_deref(),
        Some("`import_module` in app.loader, line 4")
    );
    assert_eq!(uses.external("app.core", "L").computed_import, None);
}
