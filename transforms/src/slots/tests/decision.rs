//! How the project decision weighs what the files record: which writes and uses
//! count against which classes, and how a reason names its first site.

use super::*;
use crate::slots::decide::Plan;

#[test]
fn a_subclass_needing_its_dict_keeps_the_base_unslotted() {
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        self.a = 1\nclass B(A):\n    def d(self):\n        return vars(self)\n",
    )]);
    assert_eq!(skip(plan(&p, "m", "A")), "subclass `B` needs __dict__");
    assert_eq!(skip(plan(&p, "m", "B")), "uses vars(self)");
}

#[test]
fn a_file_read_only_for_the_index_gets_no_plan_but_its_facts_count() {
    let library = "class A:\n    def __init__(self):\n        self.a = 1\nclass C:\n    def __init__(self):\n        self.c = 1\n";
    let test = "from lib import A, C\nclass B(A):\n    def d(self):\n        return vars(self)\nclass T:\n    pass\ndef t():\n    c = C()\n    c.extra = 2\n";
    let summaries = [
        summarise_as("lib", false, library, false),
        summarise_as("test_lib", false, test, true),
    ];
    let p = decide::decide(&summaries);
    assert_eq!(skip(plan(&p, "lib", "A")), "subclass `B` needs __dict__");
    assert_eq!(
        skip(plan(&p, "lib", "C")),
        "attribute `extra` is set from outside the class"
    );
    let read_only: Vec<&String> = p
        .classes
        .keys()
        .filter(|k| k.starts_with("test_lib"))
        .collect();
    assert!(read_only.is_empty(), "{read_only:?}");
}

#[test]
fn unknown_receiver_writes_make_other_classes_unsafe() {
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        self.a = 1\nclass B:\n    def __init__(self):\n        self.z = 1\ndef f(o):\n    o.a = 2\n",
    )]);
    match plan(&p, "m", "A") {
        Plan::Slots(s) => assert!(s.unproven.is_empty(), "{:?}", s.unproven),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "B")),
        ["attribute `a` is written on an object of unknown type at m.py:8"]
    );
}

#[test]
fn an_unknown_write_names_one_attribute_and_counts_the_others() {
    // `B` lacks `a`, `b` and `c`: `a` and `b` are written on an unknown `o`, and `a` and
    // `c` again after a read of them, which counts against a class with such a
    // class-level name. One reason names the first; the others are counted, `a` once.
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        self.a = 1\nclass B:\n    a = 0\n    c = 0\n    def __init__(self):\n        self.z = 1\ndef f(o):\n    o.a = 2\n    o.b = 3\ndef g(o):\n    if o.a and o.c:\n        o.a = 0\n        o.c = 0\nclass C:\n    def __init__(self):\n        self.y = 1\n",
    )]);
    // `A` has `a`, and no class-level `c`: only `b` blocks it.
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "A")),
        ["attribute `b` is written on an object of unknown type at m.py:11"]
    );
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "B")),
        [
            "attribute `a` is written on an object of unknown type at m.py:10, as are 2 other attributes"
        ]
    );
}

#[test]
fn mixins_with_slots_would_conflict() {
    let p = decide(&[(
        "m",
        false,
        "class Base:\n    def __init__(self):\n        self.a = 1\nclass Mixin:\n    def setup(self):\n        self.cache = {}\nclass Real(Base, Mixin):\n    pass\n",
    )]);
    assert_eq!(slots(plan(&p, "m", "Base")), ["a"]);
    assert_eq!(
        skip(plan(&p, "m", "Mixin")),
        "slots would cause a layout conflict in subclass `Real`"
    );
    assert_eq!(skip(plan(&p, "m", "Real")), "base `Mixin` is not slotted");
}

#[test]
fn files_sharing_a_module_name_are_left_alone() {
    let p = decide(&[
        (
            "main",
            false,
            "class App:\n    def __init__(self):\n        self.a = 1\n",
        ),
        ("main", false, "class Other:\n    pass\n"),
    ]);
    assert_eq!(
        skip(plan(&p, "main", "App")),
        "its module name is shared by another file"
    );
}

#[test]
fn only_modules_with_a_fix_or_a_wanted_note_are_reported_in() {
    use crate::Transform;
    let info = |name: &str| ModuleInfo {
        name: name.into(),
        is_package: false,
        path: format!("{name}.py"),
    };
    let facts = [
        (
            "with_class",
            "class A:\n    def __init__(self):\n        self.x = 1\n",
        ),
        ("no_class", "def f():\n    return 1\n"),
        ("noted", "class B:\n    pass\n\n\nvars(B())\n"),
    ]
    .iter()
    .map(|(name, source)| {
        let module = parse(source).expect("test source parses");
        let settings = Settings::default();
        let info = info(name);
        let ctx = FileContext {
            module: &module,
            info: &info,
            settings: &settings,
            project: None,
            read_only: false,
        };
        crate::slots::Slots.index_file(&ctx).expect("slots indexes")
    })
    .collect();
    let project = crate::slots::Slots
        .index_project(facts)
        .expect("a project view");
    assert!(crate::slots::Slots.reports_in(project.as_ref(), &info("with_class"), false));
    assert!(!crate::slots::Slots.reports_in(project.as_ref(), &info("no_class"), true));
    assert!(crate::slots::Slots.reports_in(project.as_ref(), &info("noted"), true));
    assert!(!crate::slots::Slots.reports_in(project.as_ref(), &info("noted"), false));
    assert_eq!(
        crate::slots::module_of(&decide::key("a.b", "C.<locals>.D")),
        "a.b"
    );
}

#[test]
fn an_attribute_written_guarded_and_unguarded_is_one_reason() {
    // Both writes may be on an `A` (every class has `__doc__`): one reason, at the
    // first site found (unguarded writes are looked at first).
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        self.a = 1\ndef g(x):\n    if x.__doc__:\n        x.__doc__ = 2\ndef f(x):\n    x.__doc__ = 1\n",
    )]);
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "A")),
        ["attribute `__doc__` is written on an object of unknown type at m.py:8"]
    );
    // Alone, the guarded write is named by its own line, inside the `if`.
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        self.a = 1\ndef g(x):\n    if x.__doc__:\n        x.__doc__ = 2\n",
    )]);
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "A")),
        ["attribute `__doc__` is written on an object of unknown type at m.py:6"]
    );
}

#[test]
fn an_unknown_use_is_named_by_its_first_site() {
    let p = decide(&[
        (
            "a",
            false,
            "class A:\n    def __init__(self):\n        self.a = 1\n",
        ),
        (
            "b",
            false,
            "def f(x, y, z):\n    vars(x)\n    if z:\n        y.b = 1\n    vars(z)\n",
        ),
        ("c", false, "def g(x):\n    x.b = 2\n    vars(x)\n"),
    ]);
    // The other `vars()` of b.py is not counted, c.py's is; `b` is one attribute,
    // written twice.
    assert_eq!(
        unproven_with_sites(plan(&p, "a", "A")),
        [
            "vars() or __dict__ is used on an object of unknown type at b.py:2, and in 1 other file",
            "attribute `b` is written on an object of unknown type at b.py:4",
        ]
    );
    let p = decide(&[
        (
            "a",
            false,
            "class A:\n    def __init__(self):\n        self.a = 1\n",
        ),
        ("b", false, "def f(x):\n    x.__class__ = int\n"),
        ("c", false, "def g(x):\n    x.__class__ = str\n"),
        ("d", false, "def h(x):\n    x.__class__ = bytes\n"),
    ]);
    assert_eq!(
        unproven_with_sites(plan(&p, "a", "A")),
        ["__class__ is assigned on an object of unknown type at b.py:2, and in 2 other files"]
    );
}

#[test]
fn a_call_pyslim_cannot_resolve_is_named_by_its_first_site() {
    // `A` is passed to unknown callables in three files; `B` to none.
    let p = decide(&[
        (
            "a",
            false,
            "class A:\n    def run(self, cb):\n        cb(self)\nclass B:\n    def __init__(self):\n        self.b = 1\n",
        ),
        (
            "b",
            false,
            "from a import A\ndef f(g):\n    g(A())\n    g(A())\n",
        ),
        ("c", false, "from a import A\ndef h(g):\n    g(A())\n"),
    ]);
    assert_eq!(
        unproven_with_sites(plan(&p, "a", "A")),
        ["instance is passed to a call pyslim cannot resolve at a.py:3, and in 2 other files"]
    );
    assert!(unproven(plan(&p, "a", "B")).is_empty());
}

#[test]
fn a_rewrite_names_the_bases_it_needs_and_goes_when_one_is_left_alone() {
    let src = "import weakref\nfrom dataclasses import dataclass\n\
               class A:\n    def __init__(self):\n        self.a = 1\n\
               class B(A):\n    def __init__(self):\n        self.b = 1\n\
               class C(B):\n    pass\n\
               @dataclass\nclass D:\n    d: int = 0\n\
               class E(D):\n    def __init__(self):\n        self.e = 1\n\
               r = weakref.ref(D())\n";
    let p = decide(&[("m", false, src)]);
    let needs = |q: &str| match plan(&p, "m", q) {
        Plan::Slots(s) => s.needs.clone(),
        other => panic!("{other:?}"),
    };
    let named = |names: &[&str]| -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| ("m".to_string(), n.to_string()))
            .collect()
    };
    assert_eq!(needs("A"), named(&[]));
    assert_eq!(needs("B"), named(&["A"]));
    assert_eq!(needs("C"), named(&["A", "B"]));
    // A weakly referenced dataclass below 3.11 keeps its dict, so its subclass's own
    // slots would save nothing.
    assert_eq!(
        skip(plan(&p, "m", "D")),
        "weakly referenced dataclass needs Python 3.11"
    );
    assert_eq!(skip(plan(&p, "m", "E")), "base `D` is not slotted");
}

#[test]
fn a_subclass_of_an_unsafe_base_is_unsafe_too() {
    // An `A` is handed to code outside the project: `A`'s rewrite is unsafe, and `B`'s,
    // proven on its own, would save nothing applied without it.
    let src = "import lib\n\
               class A:\n    def __init__(self):\n        self.a = 1\n\
               class B(A):\n    def __init__(self):\n        self.b = 1\n\
               def f():\n    lib.keep(A())\n";
    let p = decide(&[("m", false, src)]);
    assert_eq!(
        unproven(plan(&p, "m", "A")),
        ["instance is passed to `keep` outside the project"]
    );
    assert_eq!(
        unproven(plan(&p, "m", "B")),
        ["base `A` is unsafe, and without its slots this saves nothing"]
    );
}

/// The saving figure counts the attributes the rewrite moves out of the dict: a base
/// rewritten with the class moves its own, a base slotted already moved them before.
#[test]
fn the_figure_counts_what_leaves_the_dict() {
    let source = "class Slotted:\n    __slots__ = ('a', 'b')\n    def __init__(self):\n        self.a = self.b = 1\n\
                  class Bare(Slotted):\n    pass\n\
                  class Extra(Slotted):\n    def __init__(self):\n        super().__init__()\n        self.c = 1\n\
                  class Plain:\n    def __init__(self):\n        self.x = self.y = 1\n\
                  class Sub(Plain):\n    pass\n";
    let p = decide(&[("m", false, source)]);
    let from_dict = |qualname: &str| match plan(&p, "m", qualname) {
        Plan::Slots(s) => s.from_dict,
        other => panic!("not slotted: {other:?}"),
    };
    assert_eq!(from_dict("Bare"), 0);
    assert_eq!(from_dict("Extra"), 1);
    assert_eq!(from_dict("Plain"), 2);
    assert_eq!(from_dict("Sub"), 2);
}

/// On 3.13, a class whose bases' slots hold every attribute and that keeps
/// `__weakref__` saves nothing with slots: left alone with that reason, unless a
/// subclass needs its slots to lose its own dict.
#[test]
fn a_rewrite_that_saves_nothing_is_left_alone_unless_a_subclass_needs_it() {
    let base = "import weakref\n\
                class Slotted:\n    __slots__ = ('a',)\n    def __init__(self):\n        self.a = 1\n\
                class Leaf(Slotted):\n    pass\n\
                def f():\n    return weakref.ref(Leaf())\n";
    let decide_on = |source: &str, target| {
        let mut summary = summarise("m", false, source);
        summary.target = Some(target);
        decide::decide(&[summary])
    };
    let p = decide_on(base, crate::PythonVersion::PY313);
    assert_eq!(
        skip(plan(&p, "m", "Leaf")),
        "slots save nothing per instance on 3.13: its bases' slots hold every attribute, \
         and it keeps __weakref__"
    );
    // On 3.12 the dict's room still goes (16 B).
    let p = decide_on(base, crate::PythonVersion::PY312);
    assert_eq!(slots(plan(&p, "m", "Leaf")), ["__weakref__"]);
    // A subclass with attributes of its own keeps a dict unless `Leaf` has slots.
    let with_sub = format!(
        "{base}class Sub(Leaf):\n    def __init__(self):\n        super().__init__()\n        self.b = 2\n"
    );
    let p = decide_on(&with_sub, crate::PythonVersion::PY313);
    assert_eq!(slots(plan(&p, "m", "Leaf")), ["__weakref__"]);
    assert_eq!(slots(plan(&p, "m", "Sub")), ["b"]);
}
