//! What one file's summary records: attributes, imports, receivers, sites.

use super::*;
use crate::slots::decide::Plan;
use crate::slots::index::{Fact, Receiver};

#[test]
fn attributes_in_first_assignment_order_from_every_target_kind() {
    let s = summarise(
        "m",
        false,
        "class A:\n    def f(self, xs):\n        self.b = 1\n        self.a, *self.c = xs\n        self.b += 1\n        for self.d in xs: pass\n        with xs as self.e: pass\n        self.f: int = 0\n        [0 for self.g in xs]\n        setattr(self, 'h', 1)\n        object.__setattr__(self, 'i', 2)\n        def inner():\n            self.j = 3\n",
    );
    assert_eq!(
        s.classes[0].attrs,
        ["b", "a", "c", "d", "e", "f", "g", "h", "i", "j"]
    );
}

#[test]
fn relative_and_aliased_imports_resolve_across_modules() {
    let p = decide(&[
        ("pkg", true, "from .base import Base\n"),
        (
            "pkg.base",
            false,
            "class Base:\n    def __init__(self):\n        self.a = 1\n",
        ),
        (
            "pkg.sub.mod",
            false,
            "from ..base import Base\nclass A(Base):\n    def __init__(self):\n        self.a = 2\n        self.b = 3\n",
        ),
        (
            "app",
            false,
            "import pkg.sub.mod as m\nfrom pkg import Base as B\nclass C(m.A):\n    pass\nclass D(B):\n    pass\n",
        ),
    ]);
    assert_eq!(slots(plan(&p, "pkg.base", "Base")), ["a"]);
    assert_eq!(slots(plan(&p, "pkg.sub.mod", "A")), ["b"]);
    assert!(slots(plan(&p, "app", "C")).is_empty());
    assert!(slots(plan(&p, "app", "D")).is_empty());
}

#[test]
fn a_long_chain_of_method_calls_is_read_link_by_link() {
    // pygments' `escape_tex` chains 19 `.replace(...)`: each link's object was read
    // three times, 3^19 reads (52 s). Here 64 links, the write at the end on what the
    // last call returns: an object of unknown type, a project class's method result,
    // a new instance of the class of `self`.
    let s = summarise(
        "m",
        false,
        &format!(
            "class A:\n    def me(self) -> 'A':\n        return self\n    def new(self):\n        self{}.z = 3\ndef f(text):\n    text{}.u = 1\n    A(){}.k = 2\n",
            ".__class__()".repeat(64),
            ".replace('a', 'b')".repeat(64),
            ".me()".repeat(64)
        ),
    );
    assert!(
        s.facts
            .contains(&Fact::AttrWrite(Receiver::Unknown, "u".into()))
    );
    assert!(s.facts.iter().any(|f| matches!(f,
        Fact::AttrWrite(Receiver::Typed(_), k) if k.as_str() == "k")));
    // Only `self.__class__` is known to be the class: the next link is not.
    assert!(
        s.facts
            .contains(&Fact::AttrWrite(Receiver::Unknown, "z".into()))
    );
}

#[test]
fn receivers_are_classified() {
    let s = summarise(
        "m",
        false,
        "import other\nclass A: pass\nx = A()\ndef f(p):\n    y = A()\n    y.k = 1\n    p.u = 2\n    x.g = 3\n    A.c = 4\n    other.thing.v = 5\n",
    );
    let writes: Vec<&Fact> = s.facts.iter().collect();
    assert!(writes.contains(&&Fact::AttrWrite(
        Receiver::Instance("m.A".into()),
        "k".into()
    )));
    assert!(writes.contains(&&Fact::AttrWrite(Receiver::Unknown, "u".into())));
    assert!(writes.contains(&&Fact::AttrWrite(
        Receiver::Instance("m.A".into()),
        "g".into()
    )));
    assert!(writes.contains(&&Fact::AttrWrite(
        Receiver::Global("m.A".into()),
        "c".into()
    )));
    assert!(writes.contains(&&Fact::AttrWrite(
        Receiver::Global("other.thing".into()),
        "v".into()
    )));
}

#[test]
fn private_names_are_mangled_per_class() {
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        self.__x = 1\nclass B(A):\n    def __init__(self):\n        self.__x = 2\n",
    )]);
    assert_eq!(slots(plan(&p, "m", "A")), ["_A__x"]);
    assert_eq!(slots(plan(&p, "m", "B")), ["_B__x"]);
}

#[test]
fn undecorated_definitions_are_not_instances() {
    let p = decide(&[(
        "m",
        false,
        "import click\nclass A:\n    def __init__(self):\n        self.a = 1\ndef helper(): pass\nhelper.__doc__ = 'x'\n@click.command()\ndef cli(): pass\ndef f():\n    def inner(): pass\n    inner.__doc__ = 'y'\n",
    )]);
    match plan(&p, "m", "A") {
        Plan::Slots(s) => assert!(s.unproven.is_empty(), "{:?}", s.unproven),
        other => panic!("{other:?}"),
    }
    let p = decide(&[(
        "m",
        false,
        "import click\nclass A:\n    def __init__(self):\n        self.a = 1\n@click.command()\ndef cli(): pass\ncli.__doc__ = 'z'\n",
    )]);
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "A")),
        ["attribute `__doc__` is written on an object of unknown type at m.py:7"]
    );
}

#[test]
fn attribute_names_that_are_not_identifiers_skip_the_class() {
    let p = decide(&[(
        "m",
        false,
        "class A:\n    def __init__(self):\n        setattr(self, 'a-b', 1)\n",
    )]);
    assert_eq!(
        skip(plan(&p, "m", "A")),
        "attribute `a-b` is not an identifier"
    );
}

#[test]
fn a_re_exported_overloaded_function_returns_its_annotated_class() {
    let p = decide(&[
        ("pkg", true, "from .ui import progressbar as progressbar\n"),
        (
            "pkg.ui",
            false,
            "from __future__ import annotations\nimport typing as t\nif t.TYPE_CHECKING:\n    from ._impl import Bar\n@t.overload\ndef progressbar(n: int) -> Bar[int]: ...\n@t.overload\ndef progressbar(n: str) -> Bar[str]: ...\ndef progressbar(n) -> Bar[t.Any]:\n    from ._impl import Bar\n    return Bar(n)\n",
        ),
        (
            "pkg._impl",
            false,
            "import typing as t\nV = t.TypeVar('V')\nclass Bar(t.Generic[V]):\n    def __init__(self, n):\n        self.n = n\n",
        ),
        (
            "other",
            false,
            "class Unrelated:\n    def __init__(self):\n        self.u = 1\n",
        ),
        (
            "tests.test_ui",
            false,
            "import pkg\ndef make(**kwargs):\n    bar = pkg.progressbar(3)\n    for key, value in kwargs.items():\n        setattr(bar, key, value)\n    return bar\n",
        ),
    ]);
    match plan(&p, "other", "Unrelated") {
        Plan::Slots(s) => assert!(s.unproven.is_empty(), "{:?}", s.unproven),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        skip(plan(&p, "pkg._impl", "Bar")),
        "setattr() with a computed name on an instance"
    );
}

#[test]
fn a_site_s_line_counts_crlf_and_lone_cr_line_ends() {
    // `\r\n` and a lone `\r` each end a line, as in Python.
    let p = decide(&[(
        "m",
        false,
        "class A:\r\n    def __init__(self):\r\n        self.a = 1\rdef f(x):\n\n    vars(x)\r\n",
    )]);
    assert_eq!(
        unproven_with_sites(plan(&p, "m", "A")),
        ["vars() or __dict__ is used on an object of unknown type at m.py:6"]
    );
}
