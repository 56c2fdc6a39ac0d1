//! Reflection on instances and classes: `__dict__`, `__slots__`, code run from strings,
//! listing, and objects that are no project instance.

use super::*;

#[test]
fn getattr_and_hasattr_of_dunder_dict_need_the_dict() {
    // `getattr(p, "__dict__", {})` returns the default once `p` has no dict.
    let src = "class A:\n    def __init__(self):\n        self.a = 1\n\
               class B:\n    def __init__(self):\n        self.b = 1\n\
               def f(p: A):\n    return getattr(p, '__dict__', {})\n";
    let p = decide(&[("m", false, src)]);
    assert_eq!(
        skip(plan(&p, "m", "A")),
        "instance __dict__ is used outside the class"
    );
    assert_eq!(slots(plan(&p, "m", "B")), ["b"]);
    // On an object of unknown type, every class is unproven; on a class object it is
    // the namespace, read only of that class.
    let src = "class A:\n    def __init__(self):\n        self.a = 1\n\
               class B:\n    def __init__(self):\n        self.b = 1\n\
               def f(o):\n    return hasattr(o, '__dict__')\n\
               N = getattr(B, '__dict__')\n";
    let p = decide(&[("m", false, src)]);
    assert_eq!(
        unproven(plan(&p, "m", "A")),
        ["vars() or __dict__ is used on an object of unknown type"]
    );
    assert_eq!(
        skip(plan(&p, "m", "B")),
        "its class namespace is read (vars(), __dict__, __slots__, dir() or getmembers() on the class)"
    );
}

#[test]
fn code_run_from_a_string_reaches_the_objects_in_its_namespaces() {
    let class = "class P:\n    def __init__(self):\n        self.x = 1\n";
    let exec = ["instance is passed to `exec` outside the project"];
    // Given a namespace, the objects in it; given none, the names around the call.
    for caller in [
        "def f():\n    p = P()\n    exec('p.y = 2', {'p': p})\n",
        "def f():\n    p = P()\n    exec('p.y = 2')\n",
        "class Q(P):\n    def g(self):\n        exec('self.y = 2')\n",
        "p = P()\ndef f():\n    exec('p.y = 2')\n",
    ] {
        let p = decide(&[("m", false, &format!("{class}{caller}"))]);
        // `self` in a method of `Q` is a `Q`: only `Q` (and its subclasses) is reached.
        let reached = if caller.contains("class Q") { "Q" } else { "P" };
        assert_eq!(unproven(plan(&p, "m", reached)), exec, "{caller}");
    }
    // `eval` of data where no instance is in reach proves nothing against them.
    let p = decide(&[(
        "m",
        false,
        &format!("{class}def parse(s):\n    return eval(s)\ndef f():\n    return P()\n"),
    )]);
    assert!(unproven(plan(&p, "m", "P")).is_empty());
}

#[test]
fn asking_whether_there_are_slots_or_a_slot_named_so_needs_none_added() {
    let class = |name: &str, attr: &str| {
        format!("class {name}:\n    def __init__(self):\n        self.{attr} = 1\n")
    };
    let src = [
        class("A", "a"),
        class("B", "b"),
        class("C", "c"),
        class("D", "d"),
        class("E", "e"),
        "def f(a: A, d: D):\n    return hasattr(a, '__slots__'), dir(d)\n\
         def g():\n    return hasattr(B, 'b'), getattr(C, 'other', None), E.__slots__\n"
            .to_string(),
    ]
    .concat();
    let p = decide(&[("m", false, &src)]);
    assert_eq!(
        skip(plan(&p, "m", "A")),
        "whether an instance has __slots__ is looked up"
    );
    // `B.b` would be the slot's descriptor.
    let namespace = "its class namespace is read (vars(), __dict__, __slots__, dir() or getmembers() on the class)";
    assert_eq!(skip(plan(&p, "m", "B")), namespace);
    assert_eq!(slots(plan(&p, "m", "C")), ["c"]);
    assert_eq!(
        skip(plan(&p, "m", "D")),
        "instance __dict__ is used outside the class"
    );
    assert_eq!(skip(plan(&p, "m", "E")), namespace);
    // On an object of unknown type, every class is unproven.
    let p = decide(&[(
        "m",
        false,
        &format!(
            "{}def f(o):\n    return getattr(o, '__slots__', ())\n",
            class("A", "a")
        ),
    )]);
    assert_eq!(
        unproven(plan(&p, "m", "A")),
        ["__slots__ is looked up on an object of unknown type"]
    );
}

#[test]
fn a_method_taking_its_instance_through_varargs_leaves_the_class_alone() {
    // jinja2's `Namespace`: `def __init__(*args, **kwargs): self, args = args[0], ...`.
    let src = "class Namespace:\n    def __init__(*args, **kwargs):\n        self, args = args[0], args[1:]\n        self.__attrs = dict(*args, **kwargs)\n\
               class Sub(Namespace):\n    def __init__(self):\n        self.x = 1\n";
    let p = decide(&[("m", false, src)]);
    assert_eq!(
        skip(plan(&p, "m", "Namespace")),
        "`__init__` takes its instance through *args"
    );
    assert_eq!(
        skip(plan(&p, "m", "Sub")),
        "base `Namespace` is not slotted"
    );
}

#[test]
fn a_write_on_a_module_object_made_by_importlib_is_no_instance_write() {
    // markdown: `htmlparser = importlib.util.module_from_spec(spec)`, then
    // `htmlparser.HTMLParser = _HTMLParser`.
    let src = "import importlib.util\n\
               class A:\n    def __init__(self):\n        self.a = 1\n\
               m = importlib.util.module_from_spec(spec)\n\
               m.HTMLParser = A\n\
               n = importlib.import_module(name)\n\
               n.patched = True\n";
    let p = decide(&[("m", false, src)]);
    assert!(unproven(plan(&p, "m", "A")).is_empty());
}

#[test]
fn a_class_that_lists_itself_is_left_alone() {
    let src = "class F:\n    def __init__(self):\n        self.f = 1\n    def names(self):\n        return [n for n in dir(self) if not n.startswith('_')]\n\
               class G(F):\n    pass\n";
    let p = decide(&[("m", false, src)]);
    assert_eq!(
        skip(plan(&p, "m", "F")),
        "lists itself with dir(self) or getmembers(self)"
    );
    // A subclass's instance lists its bases' slots too.
    assert_eq!(skip(plan(&p, "m", "G")), "base `F` is not slotted");
}
