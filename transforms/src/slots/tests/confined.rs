//! Private classes whose instances never leave their module: an object of unknown type
//! elsewhere is none of them (`index/confined.rs`).

use super::{decide, plan, unproven};
use crate::slots::decide::Plan;

/// Code that writes on, and computes attribute names of, an object of unknown type.
const TAGGING: (&str, bool, &str) = (
    "tagging",
    false,
    "def tag(obj, name, value):\n    setattr(obj, name, value)\n    obj.label = value\n",
);

/// The class every case uses, then `extra` (functions of the same module).
fn module(extra: &str) -> String {
    format!(
        "class _Acc:\n    def __init__(self, start):\n        self.total = start\n\n    def add(self, x):\n        self.total += x\n\n{extra}"
    )
}

/// The reasons `_Acc`'s rewrite is unproven, given its module's source and `others`;
/// `None` when it is skipped.
fn reasons_with(source: &str, others: &[(&str, bool, &str)]) -> Option<Vec<String>> {
    let mut files = vec![("acc", false, source), TAGGING];
    files.extend_from_slice(others);
    match plan(&decide(&files), "acc", "_Acc") {
        p @ Plan::Slots(_) => Some(unproven(p)),
        _ => None,
    }
}

fn reasons(extra: &str) -> Option<Vec<String>> {
    reasons_with(&module(extra), &[])
}

const UNKNOWN: [&str; 2] = [
    "setattr() with a computed name on an object of unknown type",
    "attribute `label` is written on an object of unknown type",
];

/// Whether the uses of unknown objects in `tagging` leave the rewrite unproven (among
/// other reasons, for the cases that also pass an instance on), or the class is
/// skipped for a reason of its own.
fn unknown(reasons: &Option<Vec<String>>) -> bool {
    reasons
        .as_ref()
        .is_none_or(|reasons| UNKNOWN.iter().all(|u| reasons.iter().any(|r| r == u)))
}

#[test]
fn instances_kept_in_the_functions_that_make_them_are_no_unknown_object() {
    let uses = [
        // Bound, a method called, an attribute read, written and deleted.
        "def f(xs):\n    acc = _Acc(0)\n    for x in xs:\n        acc.add(x)\n    acc.total += 1\n    t = acc.total\n    del acc.total\n    return t\n",
        // Discarded, or used at once.
        "def f():\n    _Acc(0)\n    _Acc(1).add(2)\n    return _Acc(3).total\n",
        // Given to builtins that only call its own methods; compared by identity.
        "def f(other):\n    acc = _Acc(0)\n    print(acc, repr(acc), str(acc), id(acc), hash(acc), format(acc, ''))\n    return acc is other or acc is not None\n",
        // Made in a method of another class, held in a local there.
        "class Report:\n    def total(self, xs):\n        acc = _Acc(0)\n        acc.add(sum(xs))\n        return acc.total\n",
    ];
    for extra in uses {
        assert_eq!(reasons(extra), Some(Vec::new()), "{extra}");
    }
    // A public class of the same module stays unproven.
    let p = decide(&[
        (
            "acc",
            false,
            &(module("def f():\n    return _Acc(0).total\n")
                + "\nclass Point:\n    def __init__(self):\n        self.x = 1\n"),
        ),
        TAGGING,
    ]);
    assert_eq!(unproven(plan(&p, "acc", "Point")), UNKNOWN);
}

#[test]
fn an_instance_handed_to_other_code_may_be_any_unknown_object() {
    let escapes = [
        ("returned", "def f():\n    acc = _Acc(0)\n    return acc\n"),
        ("yielded", "def f():\n    yield _Acc(0)\n"),
        (
            "passed",
            "def f(items):\n    acc = _Acc(0)\n    items.append(acc)\n",
        ),
        ("stored", "def f(box):\n    box.stored = _Acc(0)\n"),
        (
            "in a container",
            "def f():\n    acc = _Acc(0)\n    return len([acc])\n",
        ),
        (
            "aliased",
            "def f():\n    acc = _Acc(0)\n    b = acc\n    b.add(1)\n",
        ),
        (
            "captured",
            "def f():\n    acc = _Acc(0)\n    return lambda: acc.total\n",
        ),
        (
            "captured by a def",
            "def f():\n    acc = _Acc(0)\n    def g():\n        return acc.total\n    return g\n",
        ),
        (
            "in a comprehension",
            "def f(xs):\n    acc = _Acc(0)\n    return [acc.total for x in xs]\n",
        ),
        (
            "a bound method",
            "def f(run):\n    acc = _Acc(0)\n    run(acc.add)\n",
        ),
        (
            "compared",
            "def f(other):\n    acc = _Acc(0)\n    return acc == other\n",
        ),
        (
            "added to",
            "def f(other):\n    acc = _Acc(0)\n    acc += other\n",
        ),
        (
            "added",
            "def f(total):\n    acc = _Acc(0)\n    acc.add(1)\n    total += acc\n",
        ),
        (
            "a dunder read",
            "def f():\n    acc = _Acc(0)\n    return acc.__class__\n",
        ),
        (
            "a dunder call",
            "def f():\n    acc = _Acc(0)\n    return acc.__reduce_ex__(2)\n",
        ),
        (
            "its type",
            "def f():\n    acc = _Acc(0)\n    return type(acc)\n",
        ),
        ("global", "def f():\n    global acc\n    acc = _Acc(0)\n"),
        ("module level", "ACC = _Acc(0)\n"),
        ("a class attribute", "class Holder:\n    acc = _Acc(0)\n"),
        ("a default", "def f(acc=_Acc(0)):\n    acc.add(1)\n"),
        (
            "with",
            "def f():\n    with _Acc(0) as acc:\n        acc.add(1)\n",
        ),
        // The name holds something else too: a write through it is on an object of
        // unknown type, which may be the instance.
        (
            "rebound",
            "def f(other, name):\n    acc = _Acc(0)\n    if name:\n        acc = other\n    acc.spare = 1\n",
        ),
        (
            "a loop target",
            "def f(xs):\n    acc = _Acc(0)\n    for acc in xs:\n        acc.spare = 1\n",
        ),
        (
            "a parameter",
            "def f(acc, x):\n    if x:\n        acc = _Acc(0)\n    acc.spare = 1\n",
        ),
        (
            "imported over",
            "def f(x):\n    acc = _Acc(0)\n    if x:\n        from os import path as acc\n    acc.spare = 1\n",
        ),
        (
            "a match capture",
            "def f(x):\n    acc = _Acc(0)\n    match x:\n        case acc:\n            pass\n    acc.spare = 1\n",
        ),
        (
            "the frame read",
            "def f():\n    acc = _Acc(0)\n    return locals()\n",
        ),
        (
            "the frame read by eval",
            "def f(code):\n    acc = _Acc(0)\n    return eval(code)\n",
        ),
        ("the class passed", "def f(make):\n    return make(_Acc)\n"),
        ("isinstance", "def f(x):\n    return isinstance(x, _Acc)\n"),
        ("the name in a string", "NAMES = ['_Acc']\n"),
        ("the name in a comment", "# _Acc is private\n"),
        ("an annotation", "def f(acc: _Acc):\n    acc.add(1)\n"),
    ];
    let proven: Vec<&str> = escapes
        .iter()
        .filter(|(_, extra)| !unknown(&reasons(extra)))
        .map(|(what, _)| *what)
        .collect();
    assert_eq!(proven, Vec::<&str>::new());
}

#[test]
fn the_class_s_own_methods_must_keep_its_instances_too() {
    let class = |body: &str| {
        format!(
            "class _Acc:\n    def __init__(self, start):\n        self.total = start\n\n{body}\n\ndef f():\n    return _Acc(0).total\n"
        )
    };
    let escapes = [
        ("self returned", "    def me(self):\n        return self\n"),
        (
            "self passed",
            "    def register(self, reg):\n        reg.add(self)\n",
        ),
        (
            "self stored",
            "    def link(self, other):\n        other.stored = self\n",
        ),
        (
            "a bound method stored",
            "    def hook(self, hooks):\n        hooks.append(self.hook)\n",
        ),
        (
            "self rebound",
            "    def swap(self, other):\n        self = other\n        self.spare = 1\n",
        ),
        ("self in *args", "    def odd(*args):\n        pass\n"),
        ("super()", "    def parent(self):\n        return super()\n"),
        (
            "a classmethod",
            "    @classmethod\n    def make(cls):\n        return cls(0)\n",
        ),
        (
            "a cache",
            "    @functools.cache\n    def twice(self):\n        return self.total * 2\n",
        ),
        (
            "__new__",
            "    def __new__(cls, start):\n        return object.__new__(cls)\n",
        ),
        ("a class-level call", "    hook = make_hook()\n"),
        ("a nested class", "    class Inner:\n        pass\n"),
    ];
    let proven: Vec<&str> = escapes
        .iter()
        .filter(|(_, body)| !unknown(&reasons_with(&class(body), &[])))
        .map(|(what, _)| *what)
        .collect();
    assert_eq!(proven, Vec::<&str>::new());
    let kept = [
        "    def __init_more(self):\n        super().__init__()\n",
        "    @staticmethod\n    def zero():\n        return 0\n",
        "    @property\n    def double(self):\n        return self.total * 2\n\n    @double.setter\n    def double(self, v):\n        self.total = v / 2\n",
        "    def __repr__(self):\n        return f'Acc({self.total})'\n",
    ];
    for body in kept {
        assert_eq!(reasons_with(&class(body), &[]), Some(Vec::new()), "{body}");
    }
}

#[test]
fn the_project_may_reach_a_private_class_from_elsewhere() {
    let source = module("def f():\n    return _Acc(0).total\n");
    let reached = [
        ("imported", "from acc import _Acc\n"),
        (
            "read from the module",
            "import acc\n\ndef g():\n    return acc._Acc(1)\n",
        ),
        (
            "spelled in a string",
            "import acc\n\ndef g():\n    return getattr(acc, '_Acc')\n",
        ),
        // Any object, any frame's locals.
        (
            "frames read",
            "import sys\n\ndef g():\n    return sys._getframe(1).f_locals\n",
        ),
        (
            "gc lists",
            "import gc\n\ndef g(x):\n    return gc.get_referrers(x)\n",
        ),
        ("gc lists imported", "from gc import get_objects\n"),
    ];
    let proven: Vec<&str> = reached
        .iter()
        .filter(|(_, other)| !unknown(&reasons_with(&source, &[("other", false, other)])))
        .map(|(what, _)| *what)
        .collect();
    assert_eq!(proven, Vec::<&str>::new());
    // A base, a metaclass or a decorator other than `dataclass` may do anything.
    for header in [
        "class Base:\n    pass\n\nclass _Acc(Base):",
        "class _Acc(metaclass=type):",
        "import functools\n\n@functools.total_ordering\nclass _Acc:",
    ] {
        let source = format!(
            "{header}\n    def __init__(self, start):\n        self.total = start\n\ndef f():\n    return _Acc(0).total\n"
        );
        assert!(unknown(&reasons_with(&source, &[])), "{header}");
    }
}
