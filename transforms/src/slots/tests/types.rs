//! Receivers of known type: annotations, narrowing, returns, containers, attributes
//! of known objects and calls, each letting a write count against its own classes only.

use super::*;

#[test]
fn isinstance_anywhere_in_an_and_chain_narrows() {
    let p = decide(&[(
        "m",
        false,
        &format!(
            "{TWO_CLASSES}def f(x, on):\n    if on is not None and isinstance(x, A):\n        x.a = on\n"
        ),
    )]);
    assert!(unproven(plan(&p, "m", "A")).is_empty());
    assert!(unproven(plan(&p, "m", "B")).is_empty());
    // An `or` proves nothing, and a name rebound by `:=` after the check was checked
    // before it changed.
    for test in [
        "on is not None or isinstance(x, A)",
        "isinstance(x, A) and (x := on)",
    ] {
        let p = decide(&[(
            "m",
            false,
            &format!("{TWO_CLASSES}def f(x, on):\n    if {test}:\n        x.a = on\n"),
        )]);
        assert_eq!(
            unproven(plan(&p, "m", "B")),
            ["attribute `a` is written on an object of unknown type"],
            "{test}"
        );
    }
}

#[test]
fn what_argparse_and_optparse_parse_is_never_a_project_instance() {
    let sources = [
        "import argparse\ndef f():\n    parser = argparse.ArgumentParser()\n    return vars(parser.parse_args())\n",
        "from argparse import ArgumentParser\ndef f(argv):\n    parser = ArgumentParser()\n    ns, rest = parser.parse_known_args(argv)\n    return vars(ns)\n",
        "import optparse\ndef f(argv):\n    parser = optparse.OptionParser()\n    def g():\n        opts, args = parser.parse_args(argv)\n        return vars(opts)\n    return g\n",
        // A function that builds the parser itself, in this module or another.
        "import argparse\ndef make():\n    parser = argparse.ArgumentParser()\n    parser.add_argument('x')\n    return parser\ndef f(argv=None):\n    parser = make()\n    argv = parser.parse_args(argv)\n    return vars(argv)\n",
        "from cli import make\ndef f():\n    ns, rest = make().parse_known_args()\n    return vars(ns)\n",
    ];
    let cli = "import argparse\ndef make():\n    return argparse.ArgumentParser(prog='x')\n";
    for source in sources {
        let p = decide(&[
            ("m", false, &format!("{TWO_CLASSES}{source}")),
            ("cli", false, cli),
        ]);
        assert!(unproven(plan(&p, "m", "A")).is_empty(), "{source}");
    }
    // The object to fill may be given, the method replaced, the parser a subclass, or
    // the second item taken: then the result may be anything.
    let strict = [
        "import argparse\ndef f(ns):\n    parser = argparse.ArgumentParser()\n    return vars(parser.parse_args([], ns))\n",
        "import argparse\ndef f(ns):\n    parser = argparse.ArgumentParser()\n    return vars(parser.parse_args(namespace=ns))\n",
        "import argparse\ndef f(a):\n    parser = argparse.ArgumentParser()\n    return vars(parser.parse_args(*a))\n",
        "import argparse\nfrom unittest import mock\n@mock.patch('argparse.ArgumentParser.parse_args')\ndef f(p):\n    parser = argparse.ArgumentParser()\n    return vars(parser.parse_args())\n",
        "import argparse\nclass P(argparse.ArgumentParser):\n    pass\ndef f():\n    parser = P()\n    return vars(parser.parse_args())\n",
        "import argparse\ndef f():\n    parser = argparse.ArgumentParser()\n    ns, rest = parser.parse_known_args()\n    return vars(rest)\n",
        // A function that may return a subclass's parser, or something else.
        "import argparse\nclass P(argparse.ArgumentParser):\n    pass\ndef make():\n    return P()\ndef f():\n    return vars(make().parse_args())\n",
        "import argparse\ndef make(p):\n    if p:\n        return p\n    return argparse.ArgumentParser()\ndef f(p):\n    return vars(make(p).parse_args())\n",
        "import argparse\ndef f(make):\n    return vars(make().parse_args())\n",
    ];
    for source in strict {
        let p = decide(&[("m", false, &format!("{TWO_CLASSES}{source}"))]);
        assert_eq!(
            unproven(plan(&p, "m", "A")),
            ["vars() or __dict__ is used on an object of unknown type"],
            "{source}"
        );
    }
}

#[test]
fn a_caught_exception_is_never_slotted() {
    let p = decide(&[(
        "m",
        false,
        &format!(
            "{TWO_CLASSES}def f(ctx):\n    try:\n        pass\n    except Exception as e:\n        e.ctx = ctx\n        raise\n"
        ),
    )]);
    assert!(unproven(plan(&p, "m", "A")).is_empty());
    // The same name bound another way is not known.
    let p = decide(&[(
        "m",
        false,
        &format!(
            "{TWO_CLASSES}def f(ctx, o):\n    try:\n        pass\n    except Exception as e:\n        pass\n    e = o\n    e.ctx = ctx\n"
        ),
    )]);
    assert_eq!(
        unproven(plan(&p, "m", "A")),
        ["attribute `ctx` is written on an object of unknown type"]
    );
}

#[test]
fn every_target_of_a_chained_assignment_holds_the_call() {
    let p = decide(&[(
        "m",
        false,
        &format!("{TWO_CLASSES}import sys\ndef f():\n    sys.x = a = A()\n    a.z = 1\n"),
    )]);
    assert_eq!(
        skip(plan(&p, "m", "A")),
        "attribute `z` is set from outside the class"
    );
    assert!(unproven(plan(&p, "m", "B")).is_empty());
}

#[test]
fn a_guarded_write_of_an_implicit_class_name_may_be_on_any_instance() {
    // Every instance reads `__doc__` from its class, and a slotted one refuses to have
    // it written.
    let p = decide(&[(
        "m",
        false,
        &format!(
            "{TWO_CLASSES}def f(o):\n    if o.__doc__:\n        o.__doc__ = o.__doc__.strip()\n"
        ),
    )]);
    assert_eq!(
        unproven(plan(&p, "m", "A")),
        ["attribute `__doc__` is written on an object of unknown type"]
    );
    // A guarded write of a name no class has stays harmless.
    let p = decide(&[(
        "m",
        false,
        &format!("{TWO_CLASSES}def f(o):\n    if o.extra:\n        o.extra = 2\n"),
    )]);
    assert!(unproven(plan(&p, "m", "A")).is_empty());
}

#[test]
fn an_element_of_an_annotated_sequence_is_of_its_element_type() {
    assert_typed_writes(
        "",
        &[
            "def f(items: list[A], i):\n    items[i].a = 1\n",
            "def f(items: list[A]):\n    last = items[-1]\n    last.a = 1\n",
        ],
        // A slice is a list again, and a mapping says nothing.
        &[
            "def f(items: list[A]):\n    items[1:].a = 1\n",
            "def f(items: dict[str, A], k):\n    items[k].a = 1\n",
        ],
    );
}

const HOLDER: &str = "class C:\n    def __init__(self, xs: list[A]):\n        self.xs = xs\n        self.one = A()\n";

#[test]
fn attributes_of_known_objects_hold_what_their_class_stores() {
    assert_typed_writes(
        HOLDER,
        &[
            "    def g(self):\n        for x in self.xs:\n            x.a = 2\n        self.xs[0].a = 3\ndef f(c: C):\n    c.one.a = 1\n    for x in c.xs:\n        x.a = 1\n",
            "def f(c: C):\n    y = c.one\n    y.a = 1\n",
        ],
        // Another assignment of an unknown value, a write from outside, or a
        // class-level value an instance reads before it sets its own: not known.
        &[
            "    def g(self, ys):\n        self.xs = ys\n        for x in self.xs:\n            x.a = 2\n",
            "def f(c: C, v):\n    c.one = v\n    c.one.a = 1\n",
            "    one = None\ndef f(c: C):\n    c.one.a = 1\n",
        ],
    );
}

#[test]
fn only_a_write_that_may_reach_the_class_hides_what_its_attribute_holds() {
    assert_typed_writes(
        HOLDER,
        // The same attribute name written on an unrelated class's instance, or on an
        // object that is no project instance.
        &[
            "class D:\n    pass\ndef g(d: D, v):\n    d.one = v\ndef f(c: C):\n    c.one.a = 1\n",
            "import argparse\ndef g(ns: argparse.Namespace, v):\n    ns.one = v\ndef f(c: C):\n    c.one.a = 1\n",
        ],
        // On an object that may be a `C`: one of unknown type, a subclass's instance,
        // a base's (a `C` is one), or the class object (an instance without its own
        // value reads it).
        &[
            "def g(x, v):\n    x.one = v\ndef f(c: C):\n    c.one.a = 1\n",
            "class E(C):\n    pass\ndef g(e: E, v):\n    e.one = v\ndef f(c: C):\n    c.one.a = 1\n",
            "def g(v):\n    C.one = v\ndef f(c: C):\n    c.one.a = 1\n",
        ],
    );
    // A base's instance may be a `C`.
    let base = "class P:\n    pass\nclass C(P):\n    def __init__(self):\n        self.one = A()\n";
    assert_typed_writes(
        base,
        &["def f(c: C):\n    c.one.a = 1\n"],
        &["def g(p: P, v):\n    p.one = v\ndef f(c: C):\n    c.one.a = 1\n"],
    );
}

#[test]
fn a_private_function_s_parameter_holds_what_its_module_passes() {
    assert_typed_writes(
        "",
        &[
            "def _f(x):\n    x.a = 1\ndef g():\n    _f(A())\n",
            // Passed on to itself, it is what the other callers pass.
            "def _f(x, n):\n    x.a = n\n    if n:\n        _f(x, n - 1)\ndef g():\n    _f(A(), 3)\n",
            // By keyword, or left to a `None` default.
            "def _f(y, x=None):\n    if x:\n        x.a = 1\ndef g():\n    _f(1, x=A())\n    _f(2)\n",
            // What the caller knows where it calls, a parsed namespace too.
            "import argparse\ndef _f(x, ns):\n    x.a = vars(ns)\ndef g(argv=None):\n    parser = argparse.ArgumentParser()\n    argv = parser.parse_args(argv)\n    for x in [1, 2]:\n        _f(A(), argv)\n",
        ],
        &[
            // A public function may be called from anywhere.
            "def f(x):\n    x.a = 1\ndef g():\n    f(A())\n",
            // A caller passes something unknown, or what the parameters cannot be
            // matched to.
            "def _f(x):\n    x.a = 1\ndef g(y):\n    _f(A())\n    _f(y)\n",
            "def _f(x):\n    x.a = 1\ndef g(args):\n    _f(A())\n    _f(*args)\n",
            "def _f(x):\n    x.a = 1\ndef g(kw):\n    _f(A())\n    _f(**kw)\n",
            // The function is passed on, or named in a string: other callers.
            "def _f(x):\n    x.a = 1\ndef g(h):\n    _f(A())\n    h(_f)\n",
            "def _f(x):\n    x.a = 1\ndef g(v):\n    _f(A())\n    globals()['_f'](v)\n",
            // A local of the same name is another function; decorated, rebound or
            // star-imported over, the name may be anything.
            "def _f(x):\n    x.a = 1\ndef g(_f):\n    _f(A())\n",
            "def d(f):\n    return f\n@d\ndef _f(x):\n    x.a = 1\ndef g():\n    _f(A())\n",
            "def _f(x):\n    x.a = 1\ndef g():\n    _f(A())\n_f = print\n",
            "from os import *\ndef _f(x):\n    x.a = 1\ndef g():\n    _f(A())\n",
            "def _f(x):\n    x.a = 1\ndef g():\n    _f(A())\ntry:\n    from _m import *\nexcept ImportError:\n    pass\n",
            // What a function passes on to itself in another position, or changed.
            "def _f(x, n):\n    x.a = n\n    if n:\n        _f(n, x)\ndef g():\n    _f(A(), 3)\n",
            "def _f(x, n):\n    x.a = n\n    if n:\n        _f(x.a, n - 1)\ndef g():\n    _f(A(), 3)\n",
        ],
    );
    // Another module that reads the function through an import may call it with
    // anything.
    let own = format!("{TWO_CLASSES}def _f(x):\n    x.a = 1\ndef g():\n    _f(A())\n");
    let p = decide(&[("m", false, &own), ("t", false, "import os\n")]);
    assert!(unproven(plan(&p, "m", "B")).is_empty());
    for other in [
        "from m import _f\n",
        "import m\ndef t(v):\n    m._f(v)\n",
        "import m as mm\ny = mm._f\n",
        "import importlib\ndef t(v):\n    getattr(importlib.import_module('m'), '_f')(v)\n",
    ] {
        let p = decide(&[("m", false, &own), ("t", false, other)]);
        assert_eq!(
            unproven(plan(&p, "m", "B")),
            [WRITE_A_ON_UNKNOWN],
            "{other}"
        );
    }
}

#[test]
fn a_guard_clause_narrows_the_rest_of_its_body() {
    assert_typed_writes(
        "",
        &[
            "def f(x):\n    if not isinstance(x, A):\n        raise TypeError(x)\n    x.a = 1\n",
            "def f(x):\n    if not isinstance(x, (A,)):\n        return\n    if x:\n        x.a = 1\n",
            "def f(xs):\n    for x in xs:\n        if not isinstance(x, A):\n            continue\n        x.a = 1\n",
            "def f(xs):\n    while xs:\n        x = xs.pop()\n        if not isinstance(x, A):\n            break\n        x.a = 1\n",
            // Any operand of an `or` chain: past the clause, each was false.
            "def f(x, on):\n    if on is None or not isinstance(x, A):\n        return\n    x.a = on\n",
        ],
        &[
            // `python -O` drops an `assert`.
            "def f(x):\n    assert isinstance(x, A)\n    x.a = 1\n",
            // A clause that may fall through, or has an `else`, guards nothing here.
            "def f(x):\n    if not isinstance(x, A):\n        print(x)\n    x.a = 1\n",
            "def f(x):\n    if not isinstance(x, A):\n        return\n    else:\n        pass\n    x.a = 1\n",
            // Rebound after the clause, or written before it.
            "def f(x, y):\n    if not isinstance(x, A):\n        return\n    x = y\n    x.a = 1\n",
            "def f(x):\n    x.a = 1\n    if not isinstance(x, A):\n        return\n",
            // An `and` chain may be false with `x` of any type; `:=` rebinds it.
            "def f(x, on):\n    if on and not isinstance(x, A):\n        return\n    x.a = 1\n",
            "def f(x, y):\n    if not isinstance(x, A) or (x := y):\n        return\n    x.a = 1\n",
            // Another scope: the clause is the enclosing function's.
            "def f(x):\n    if not isinstance(x, A):\n        return\n    def g():\n        x.a = 1\n    return g\n",
        ],
    );
}

#[test]
fn a_nominal_library_class_holds_no_project_instance() {
    assert_typed_writes(
        "import argparse, logging, os, types\nfrom argparse import Namespace\n",
        &[
            "def f(args: argparse.Namespace):\n    args.a = 1\n",
            "def f(args: Namespace | None):\n    if args:\n        args.a = 1\n",
            "def f(record: logging.LogRecord):\n    record.a = 1\n",
            "def f(x):\n    if isinstance(x, types.SimpleNamespace):\n        x.a = 1\n",
        ],
        &[
            // A protocol or an ABC may be any class's: `isinstance` asks its hook.
            "def f(p: os.PathLike):\n    p.a = 1\n",
            "def f(x):\n    if isinstance(x, os.PathLike):\n        x.a = 1\n",
            // An outside class pyslim does not know to be nominal says nothing either.
            "def f(h: logging.handlers.QueueHandler):\n    h.a = 1\n",
        ],
    );
}

#[test]
fn a_class_s_own_new_makes_one_of_its_instances() {
    assert_typed_writes(
        "class C(A):\n    pass\n",
        &[
            "    @classmethod\n    def make(cls):\n        x = cls.__new__(cls)\n        x.a = 1\n",
            "    @classmethod\n    def make(cls):\n        object.__new__(cls).a = 1\n",
            "    @classmethod\n    def make(cls):\n        x = super().__new__(cls)\n        x.a = 1\n",
            "    def copy(self):\n        t = type(self)\n        x = t.__new__(t)\n        x.a = 1\n",
            "    def copy(self):\n        t = type(self)\n        t().a = 1\n",
        ],
        &[
            // Another object's `__new__` may make anything of what it is given.
            "    @classmethod\n    def make(cls, other):\n        x = other.__new__(cls)\n        x.a = 1\n",
            // In `__new__` itself, `cls` is whatever class the caller passes.
            "    def __new__(cls):\n        x = super().__new__(cls)\n        x.a = 1\n        return x\n",
        ],
    );
}

#[test]
fn a_name_declared_global_is_never_narrowed() {
    // `g()` may rebind `G` between the check and the write, either way.
    assert_typed_writes(
        "G = None\n",
        &[],
        &[
            "def f():\n    global G\n    if not isinstance(G, A):\n        return\n    g()\n    G.a = 1\n",
            "def f():\n    global G\n    if isinstance(G, A):\n        g()\n        G.a = 1\n",
        ],
    );
}

#[test]
fn a_bound_expression_is_read_only_in_its_own_scope() {
    // In `g`, `c` is another object than the `c` that `y` was read from.
    let code = "class D:\n    def __init__(self):\n        self.one = B()\ndef f(c: C):\n    y = c.one\n    def g(c: D):\n        y.a = 1\n    return g\n";
    assert_eq!(b_unproven(&format!("{HOLDER}{code}")), [WRITE_A_ON_UNKNOWN]);
    // Nor under an `isinstance` check made after it was bound.
    let code = "def f(o, other):\n    y = o.one\n    o = other\n    if isinstance(o, C):\n        y.a = 1\n";
    assert_eq!(b_unproven(&format!("{HOLDER}{code}")), [WRITE_A_ON_UNKNOWN]);
}

const COPIER: &str = "class S:\n    def __init__(self):\n        self.a = 0\n    def copy(self) -> 'S':\n        return S()\n";

#[test]
fn a_method_result_is_what_every_override_returns() {
    let code = "def f(s: S):\n    t = s.copy()\n    t.a = 1\n";
    assert!(b_unproven(&format!("{COPIER}{code}")).is_empty());
    // The method of what a call makes.
    let chained =
        "def make() -> S:\n    return S()\ndef f():\n    t = make().copy()\n    t.a = 1\n";
    assert!(b_unproven(&format!("{COPIER}{chained}")).is_empty());
    // A subclass's override (which `s` may be) says it returns something unknown.
    let sub = "class T(S):\n    def copy(self) -> object:\n        return make()\n";
    assert_eq!(
        b_unproven(&format!("{COPIER}{sub}{code}")),
        [WRITE_A_ON_UNKNOWN]
    );
}

#[test]
fn an_annotated_parameter_rebound_to_a_call_is_either() {
    assert!(b_unproven("def f(x: A):\n    x = A()\n    x.a = 1\n").is_empty());
    assert_eq!(
        b_unproven("def f(x: A):\n    x = make()\n    x.a = 1\n"),
        [WRITE_A_ON_UNKNOWN]
    );
}

#[test]
fn calling_an_annotated_instance_runs_its_class_call() {
    let plugin = "class P:\n    def __call__(self, owner):\n        pass\n";
    let p = decide(&[(
        "m",
        false,
        &format!("{plugin}class O:\n    def run(self, p: P):\n        p(self)\n"),
    )]);
    assert!(unproven(plan(&p, "m", "O")).is_empty());
    let p = decide(&[(
        "m",
        false,
        &format!("{plugin}class O:\n    def run(self, p):\n        p(self)\n"),
    )]);
    assert_eq!(
        unproven(plan(&p, "m", "O")),
        ["instance is passed to a call pyslim cannot resolve"]
    );
}

const FACTORY: &str = "class P:\n    made = A\n    def make(self):\n        return self.made()\n";

#[test]
fn a_class_level_factory_makes_what_it_names() {
    let code = "def f(p: P):\n    x = p.made()\n    x.a = 1\n";
    assert!(b_unproven(&format!("{FACTORY}{code}")).is_empty());
    // A subclass may name another class, in a way not followed, or a classmethod
    // may replace it.
    for other in [
        "class Q(P):\n    made: type = B\n",
        "class Q(P):\n    @classmethod\n    def setup(cls):\n        cls.made = B\n",
    ] {
        assert_eq!(
            b_unproven(&format!("{FACTORY}{other}{code}")),
            [WRITE_A_ON_UNKNOWN],
            "{other}"
        );
    }
}

#[test]
fn calling_an_element_of_a_typed_container_runs_its_class_call() {
    let plugin = "class P:\n    def __call__(self, owner):\n        pass\n";
    let owner = "class O:\n    def __init__(self, plugins: list[P]):\n        self.plugins = plugins\n    def run(self):\n        for plugin in self.plugins:\n            plugin(self)\n";
    let p = decide(&[("m", false, &format!("{plugin}{owner}"))]);
    assert!(unproven(plan(&p, "m", "O")).is_empty());
    // A plugin class with a base outside the project may inherit its `__call__`.
    let p = decide(&[(
        "m",
        false,
        &format!(
            "import lib\n{}{owner}",
            plugin.replace("class P:", "class P(lib.Base):")
        ),
    )]);
    assert_eq!(
        unproven(plan(&p, "m", "O")),
        ["instance is passed to a call pyslim cannot resolve"]
    );
}

const CALLABLE_CLASS: &str = "from typing import Callable\nclass K:\n    def __init__(self):\n        self.k = 0\n    def __call__(self):\n        pass\n";

#[test]
fn a_callable_is_a_function_or_an_instance_of_a_class_with_call() {
    let code = "def f(fn: Callable[..., int]):\n    fn.a = 1\n";
    let p = decide(&[("m", false, &format!("{TWO_CLASSES}{CALLABLE_CLASS}{code}"))]);
    assert!(unproven(plan(&p, "m", "B")).is_empty());
    assert_eq!(
        skip(plan(&p, "m", "K")),
        "attribute `a` is set from outside the class"
    );
}

/// `__call__` written on a class makes it and its subclasses callable: a library
/// class's subclasses count as callable anyway, a project class's are named; only a
/// write on what may be any class makes every class callable.
#[test]
fn a_call_written_on_a_class_makes_only_its_subclasses_callable() {
    let code = "import dataclasses\ndef f(fn: Callable[..., int]):\n    fn.z = 1\n";
    let call = |patch: &str| {
        let patch = format!("def _call(*a):\n    pass\n{patch}\n");
        decide(&[(
            "m",
            false,
            &format!("{TWO_CLASSES}{CALLABLE_CLASS}{code}{patch}"),
        )])
    };
    let outside = "attribute `z` is set from outside the class";
    let p = call("dataclasses.InitVar.__call__ = _call");
    assert!(unproven(plan(&p, "m", "A")).is_empty());
    assert!(unproven(plan(&p, "m", "B")).is_empty());
    let p = call("A.__call__ = _call");
    assert_eq!(skip(plan(&p, "m", "A")), outside);
    assert!(unproven(plan(&p, "m", "B")).is_empty());
    let p = call("def g(cls):\n    cls.__call__ = _call");
    assert_eq!(skip(plan(&p, "m", "A")), outside);
    assert_eq!(skip(plan(&p, "m", "B")), outside);
}

#[test]
fn the_else_of_an_isinstance_check_excludes_its_classes() {
    let code = "def f(fn: Callable[..., int]):\n    if isinstance(fn, K):\n        pass\n    else:\n        fn.z = 1\n";
    let p = decide(&[("m", false, &format!("{TWO_CLASSES}{CALLABLE_CLASS}{code}"))]);
    assert!(unproven(plan(&p, "m", "K")).is_empty());
    // A false `and` chain says nothing about each check.
    let code = "def f(fn: Callable[..., int], on):\n    if isinstance(fn, K) and on:\n        pass\n    else:\n        fn.z = 1\n";
    let p = decide(&[("m", false, &format!("{TWO_CLASSES}{CALLABLE_CLASS}{code}"))]);
    assert_eq!(
        skip(plan(&p, "m", "K")),
        "attribute `z` is set from outside the class"
    );
}

#[test]
fn a_class_object_of_known_type_makes_its_instances() {
    assert_typed_writes(
        "import typing as t\nT = t.TypeVar('T', bound=A)\n",
        &[
            "def f(cls: type[A]):\n    x = cls()\n    x.a = 1\n",
            "def f(cls: 'type[T] | None' = None):\n    if cls is None:\n        cls = t.cast('type[T]', A)\n    x = cls()\n    x.a = 1\n",
            "def f(v):\n    x = t.cast(A, v)\n    x.a = 1\n",
        ],
        // A type variable without a bound, or a class object bound otherwise, says
        // nothing.
        &[
            "U = t.TypeVar('U')\ndef f(cls: type[U]):\n    x = cls()\n    x.a = 1\n",
            "def f(cls: type[A], other):\n    cls = other\n    x = cls()\n    x.a = 1\n",
        ],
    );
}

#[test]
fn an_attribute_of_an_object_that_may_be_outside_the_project_is_unknown() {
    // `lib.Thing` instances hold what pyslim does not see, and a callable may be a
    // function with any attributes.
    let others = "import lib\nfrom typing import Callable\nclass K:\n    def __init__(self):\n        self.one = A()\n    def __call__(self):\n        pass\ndef make(on):\n    if on:\n        return C([])\n    return lib.Thing()\n";
    for owner in ["'C | lib.Thing'", "Callable[..., int]"] {
        let code = format!("{others}def f(c: {owner}):\n    c.one.a = 1\n");
        assert_eq!(
            b_unproven(&format!("{HOLDER}{code}")),
            [WRITE_A_ON_UNKNOWN],
            "{owner}"
        );
    }
    let code = format!("{others}def f(on):\n    c = make(on)\n    c.one.a = 1\n");
    assert_eq!(b_unproven(&format!("{HOLDER}{code}")), [WRITE_A_ON_UNKNOWN]);
}

#[test]
fn calling_an_object_that_may_be_outside_the_project_is_unresolved() {
    let plugin = "import lib\nclass P:\n    def __call__(self, owner):\n        pass\n";
    let p = decide(&[(
        "m",
        false,
        &format!("{plugin}class O:\n    def run(self, p: 'P | lib.Other'):\n        p(self)\n"),
    )]);
    assert_eq!(
        unproven(plan(&p, "m", "O")),
        ["instance is passed to a call pyslim cannot resolve"]
    );
}

#[test]
fn a_write_right_after_a_def_is_on_the_function() {
    assert_typed_writes(
        "import deco\n",
        &[
            "def g(name):\n    def f():\n        pass\n    f.a = name\n    f = deco.wrap(f)\n    return f\n",
        ],
        // Once a branch, a loop or a nested function with `nonlocal` may have rebound
        // the name, it is not known.
        &[
            "def g(name, on):\n    def f():\n        pass\n    if on:\n        f = deco.wrap(f)\n    f.a = name\n",
            "def g(name):\n    def f():\n        pass\n    def h():\n        nonlocal f\n        f = deco.thing()\n    h()\n    f.a = name\n",
        ],
    );
}

#[test]
fn a_name_declared_global_or_nonlocal_is_not_typed_by_one_scope() {
    let code = "x = A()\ndef f():\n    global x\n    x = B()\ndef g():\n    x.a = 1\n";
    assert_eq!(b_unproven(code), [WRITE_A_ON_UNKNOWN]);
    let code = "def f():\n    global y\n    y = A()\n    y.a = 1\n";
    assert_eq!(b_unproven(code), [WRITE_A_ON_UNKNOWN]);
}

#[test]
fn an_override_s_unannotated_parameter_is_what_the_base_annotates() {
    assert_typed_writes(
        "class Base:\n    def handle(self, target: A, n: int):\n        pass\n",
        // Same position and name as the base's annotated parameter: an `A`.
        &["class Sub(Base):\n    def handle(self, target, n):\n        target.a = 1\n"],
        &[
            // Another name at that position, a rebound parameter, or a constructor
            // (called with what its own callers pass) says nothing.
            "class Sub(Base):\n    def handle(self, other, n):\n        other.a = 1\n",
            "class Sub(Base):\n    def handle(self, target, n):\n        target = make()\n        target.a = 1\n",
            "class Base2:\n    def __init__(self, target: A):\n        pass\nclass Sub(Base2):\n    def __init__(self, target):\n        target.a = 1\n",
            // Every base that defines the method must annotate the parameter.
            "class Other:\n    def handle(self, target, n):\n        pass\nclass Sub(Base, Other):\n    def handle(self, target, n):\n        target.a = 1\n",
        ],
    );
}

#[test]
fn a_decorator_s_annotation_types_the_first_parameter_it_passes() {
    let deco = "import typing as t\nfrom typing_extensions import Concatenate\n";
    let callback = "def test():\n    @passing\n    def cli(ctx, n):\n        ctx.a = 1\n";
    for signature in [
        "def passing(f: t.Callable[Concatenate[A, P], R]) -> t.Callable[P, R]:\n    return f\n",
        "def passing(f: t.Callable[[A, int], R]) -> t.Callable[[int], R]:\n    return f\n",
    ] {
        assert_typed_writes(&format!("{deco}{signature}"), &[callback], &[]);
    }
    assert_typed_writes(
        &format!(
            "{deco}def passing(f: t.Callable[Concatenate[A, P], R]) -> t.Callable[P, R]:\n    return f\n"
        ),
        &[],
        // Only the innermost decorator gets the function itself, and only the first
        // parameter is typed.
        &[
            "@passing\n@other\ndef cli(ctx):\n    ctx.a = 1\n",
            "@passing\ndef cli(n, ctx):\n    ctx.a = 1\n",
            "@passing()\ndef cli(ctx):\n    ctx.a = 1\n",
        ],
    );
}

#[test]
fn an_unpacking_that_reads_the_attribute_it_writes_is_guarded() {
    assert_typed_writes(
        "",
        // The value is evaluated before any target is assigned: `o` has `a` already.
        &["def f(o):\n    rest, o.a = o.a, []\n"],
        // A target before it rebinds `o`, or the value reads another attribute.
        &[
            "def f(o, p):\n    o, o.a = p, o.a\n",
            "def f(o):\n    rest, o.a = o.b, []\n",
        ],
    );
}

#[test]
fn a_decorator_factory_s_overloads_type_what_it_makes_of_a_function() {
    assert_typed_writes(
        "import typing as t\n_F = t.Callable[..., t.Any]\n@t.overload\ndef make(name: _F) -> A: ...\n@t.overload\ndef make(name: str | None = None) -> t.Callable[[_F], A]: ...\ndef make(name=None):\n    return lambda f: A()\n",
        // `@make("x")` and `@make()` match only the second overload: an `A`.
        &[
            "def test():\n    @make(\"x\")\n    def cli():\n        pass\n    cli.a = 1\n",
            "def test():\n    @make()\n    def cli():\n        pass\n    cli.a = 1\n",
        ],
        // `@make(f)` may match the first overload, whose result is called with the
        // function: nothing says what that returns.
        &["def test(f):\n    @make(f)\n    def cli():\n        pass\n    cli.a = 1\n"],
    );
    // A plain decorator makes what it returns.
    assert_typed_writes(
        "def deco(f) -> A:\n    return A()\n",
        &["@deco\ndef cli():\n    pass\ncli.a = 1\n"],
        &[],
    );
}

#[test]
fn an_attribute_read_right_after_it_is_stored_is_what_was_stored() {
    assert_typed_writes(
        "class Holder:\n    def __init__(self):\n        self.obj = None\n",
        &["def f(h: Holder):\n    h.obj = A()\n    h.obj.a = 1\n"],
        // Code between the two (a call), a value that runs code, or a holder of
        // unknown type may change what the attribute reads.
        &[
            "def f(h: Holder):\n    h.obj = A()\n    g()\n    h.obj.a = 1\n",
            "def f(h: Holder):\n    h.obj = A()\n    h.obj.a = g()\n",
            "def f(h):\n    h.obj = A()\n    h.obj.a = 1\n",
        ],
    );
    // So may a property.
    assert_typed_writes(
        "class Holder:\n    @property\n    def obj(self):\n        return B()\n    @obj.setter\n    def obj(self, v):\n        pass\n",
        &[],
        &["def f(h: Holder):\n    h.obj = A()\n    h.obj.a = 1\n"],
    );
}

#[test]
fn the_first_write_on_a_new_mock_configures_a_mock() {
    assert_typed_writes(
        "from unittest.mock import patch\n",
        &[
            "def t():\n    with patch('m.A') as m:\n        m.return_value.a = 0\n",
            "def t():\n    with patch.object(A, 'f') as m:\n        m.a = 0\n",
        ],
        // A replacement object, or a statement before the write, may put anything
        // there.
        &[
            "def t(x):\n    with patch('m.A', x) as m:\n        m.a = 0\n",
            "def t(x):\n    with patch('m.A', new_callable=x) as m:\n        m.a = 0\n",
            "def t(x):\n    with patch('m.A') as m:\n        m.return_value = x\n        m.return_value.a = 0\n",
        ],
    );
}

#[test]
fn an_instance_of_a_class_without_bases_made_in_a_function_is_no_project_instance() {
    assert_typed_writes(
        "",
        &["def f():\n    class Local:\n        pass\n    x = Local()\n    x.a = 1\n"],
        // With a base, it is an instance of that base.
        &["def f():\n    class Local(B):\n        pass\n    x = Local()\n    x.a = 1\n"],
    );
}

#[test]
fn an_item_of_a_declared_tuple_return_and_a_method_called_on_it() {
    let maker = "class Maker:\n    def split(self) -> tuple[object, A | None]:\n        return '', A()\n    def run(self):\n        name, made = self.split()\n";
    assert_typed_writes(
        maker,
        // The same call unpacked twice binds the same way.
        &[
            "        made.a = 1\n",
            "        if name:\n            name, made = self.split()\n        made.a = 1\n",
        ],
        // Another item says nothing.
        &["        name.a = 1\n"],
    );
    // Nor does a tuple of any length.
    let any_length = maker.replace("tuple[object, A | None]", "tuple[A, ...]");
    assert_typed_writes(&any_length, &[], &["        made.a = 1\n"]);
    // A method of the item's class returns what it declares.
    let chained = "class A:\n    def __init__(self):\n        self.a = 1\n    def child(self) -> 'A':\n        return A()\nclass B:\n    def __init__(self):\n        self.b = 1\ndef make() -> tuple[int, A]:\n    return 0, A()\ndef f():\n    n, made = make()\n    c = made.child()\n    c.a = 2\n";
    let p = decide(&[("m", false, chained)]);
    assert!(unproven(plan(&p, "m", "B")).is_empty());
}

#[test]
fn a_name_holds_its_last_value_until_something_rebinds_it() {
    assert_typed_writes(
        "",
        // `x` is bound two ways in the function, but right after `x = A()` it is an
        // `A`.
        &[
            "def f(items):\n    while items:\n        x = A()\n        g(x)\n        x.a = 1\n    for x in items:\n        pass\n",
        ],
        &[
            // Rebound in between, in a nested block, or by a loop around the write.
            "def f(items, y):\n    x = A()\n    if y:\n        x = y\n    x.a = 1\n",
            "def f(items):\n    x = A()\n    while items:\n        x.a = 1\n        x = items.pop()\n",
            "def f(items):\n    x = A()\n    for x in items:\n        x.a = 1\n",
            // A nested function may rebind it whenever it is called.
            "def f(items, y):\n    x = A()\n    def g():\n        nonlocal x\n        x = y\n    g()\n    x.a = 1\n",
            // A star import may bind anything.
            "def f(y):\n    x = A()\n    from m import *\n    x.a = 1\n    x = y\n",
        ],
    );
}

#[test]
fn an_override_without_a_return_annotation_returns_what_its_base_declares() {
    let maker = "class Maker:\n    def split(self) -> tuple[object, A | None]:\n        return '', A()\n    def make(self) -> A:\n        return A()\n    def run(self):\n        name, made = self.split()\n        made.a = 1\n        self.make().a = 1\n";
    assert_typed_writes(
        maker,
        // A subclass, at module level or in a test function, overrides both without
        // saying what they return.
        &[
            "class Sub(Maker):\n    def split(self):\n        return super().split()\n    def make(self):\n        return g()\n",
            "def test():\n    class Sub(Maker):\n        def split(self):\n            name, made = super().split()\n            return name, made\n",
        ],
        &[],
    );
    let untyped = |sub: &str| {
        let p = decide(&[("m", false, &format!("{TWO_CLASSES}{maker}{sub}"))]);
        unproven(plan(&p, "m", "B"))
    };
    // An override that annotates its own return says what it returns: here, nothing
    // pyslim can type.
    assert_eq!(
        untyped("class Sub(Maker):\n    def make(self) -> object:\n        return g()\n"),
        [WRITE_A_ON_UNKNOWN]
    );
    assert_eq!(
        untyped(
            "def test():\n    class Sub(Maker):\n        def split(self) -> tuple[object, object]:\n            return g()\n"
        ),
        [WRITE_A_ON_UNKNOWN]
    );
    // Nor does an `async def` override, which returns a coroutine.
    assert_eq!(
        untyped("class Sub(Maker):\n    async def make(self):\n        return g()\n"),
        [WRITE_A_ON_UNKNOWN]
    );
    // Without a project base defining the method, an unannotated one says nothing.
    assert_eq!(
        untyped(
            "class Sub(Maker):\n    def other(self):\n        return g()\n    def run2(self):\n        self.other().a = 1\n"
        ),
        [WRITE_A_ON_UNKNOWN]
    );
}
