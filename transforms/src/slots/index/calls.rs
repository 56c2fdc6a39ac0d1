//! What a call does to the objects it is given: `setattr`, `vars()`, weak references,
//! pickling, mock patches, and `self` or a possible instance handed to other code.

use ruff_python_ast::name::Name;
use ruff_python_ast::{self as ast, Expr};

use crate::slots::safety::Blocker;
use crate::slots::types::TypeRef;

use super::{Fact, Indexer, Receiver, Scope};

/// Library functions (builtins and a few of the standard library) through which
/// `self` may be passed without anything being able to add attributes to it or need
/// its `__dict__`.
const HARMLESS_CALLS: &[&str] = &[
    "builtins.isinstance",
    "builtins.issubclass",
    "builtins.id",
    "builtins.hash",
    "builtins.repr",
    "builtins.str",
    "builtins.len",
    "builtins.print",
    "builtins.type",
    "builtins.iter",
    "builtins.next",
    "builtins.format",
    "builtins.bool",
    "builtins.hasattr",
    "builtins.getattr",
    "builtins.callable",
    "builtins.super",
    "builtins.sorted",
    "builtins.list",
    "builtins.tuple",
    "builtins.enumerate",
    "builtins.zip",
    "builtins.reversed",
    "builtins.min",
    "builtins.max",
    "builtins.sum",
    "builtins.any",
    "builtins.all",
    "builtins.dir",
    "copy.copy",
    "copy.deepcopy",
    "weakref.ref",
    "weakref.proxy",
    "weakref.finalize",
    "weakref.WeakMethod",
    "builtins.setattr",
    "builtins.delattr",
    "builtins.vars",
    "builtins.object",
    "builtins.set",
    "builtins.frozenset",
    "builtins.dict",
    "typing.cast",
    "typing_extensions.cast",
    "pickle.dumps",
    "pickle.dump",
];

/// A call of `callee` (resolved) is a library function that neither keeps nor changes
/// what it is given, whatever the project is: an object passed to it does not escape.
pub fn is_harmless_library_call(callee: &str) -> bool {
    HARMLESS_CALLS.contains(&callee) || callee.starts_with("builtins.object.")
}

impl<'m> Indexer<'m, '_> {
    /// Records what `call` does: to the object named by a library function it calls
    /// ([`Self::library_call`]), through a method of the object it is called on
    /// ([`Self::method_call`]), through a mock patch, and to each object it passes on
    /// ([`Self::passed_on`]).
    pub(super) fn call(&mut self, call: &ast::ExprCall) {
        let callee = self.resolve(&call.func);
        self.library_call(call, callee.as_deref());
        if let Expr::Attribute(a) = call.func.as_ref() {
            self.method_call(call, a);
        }
        // `mock.patch("pkg.mod.Cls.name")`, `mocker.patch(...)`, `@patch(...)`: a write
        // of `name` on what the rest of the string names.
        if is_patch(&call.func) {
            self.path_write(call.arguments.args.first());
        }
        // Zero-argument `super()` needs the `__class__` cell that dataclass(slots=True) breaks.
        if let Expr::Name(n) = call.func.as_ref()
            && n.id.as_str() == "super"
            && call.arguments.args.is_empty()
            && let Some(c) = self.current_method_class()
        {
            self.summary.classes[c].zero_arg_super = true;
        }
        // A call that passes nothing hands no object on (most calls of a method on
        // `self` or of a library function with no arguments): what follows is spared.
        // Nor does a call of a library function known to keep nothing it is given
        // (`len(x)`, `isinstance(x, C)`): the project decision would set aside all it
        // recorded, so working out what each argument is would be wasted.
        if !call.arguments.is_empty() && !callee.as_deref().is_some_and(is_harmless_library_call) {
            self.passed_on(call, callee);
        }
    }

    /// What a call of a library function (`setattr`, `vars`, `weakref.ref`,
    /// `pickle.loads`, ...), resolved to `callee`, does to the object it is given.
    fn library_call(&mut self, call: &ast::ExprCall, callee: Option<&str>) {
        let args = &*call.arguments.args;
        match callee {
            Some("builtins.setattr") | Some("builtins.delattr") if args.len() >= 2 => {
                let recv = self.receiver(&args[0]);
                // `delattr(Cls, "x")` removes what `Cls.x` holds, a slot descriptor
                // included: treated as a write (on an instance it is harmless, and an
                // extra write only makes the analysis more careful).
                self.named_write(recv, args.get(1));
            }
            Some("builtins.vars") if args.len() == 1 => {
                let recv = self.receiver(&args[0]);
                if recv.may_be_class_object() {
                    self.fact(Fact::Namespace(recv.clone()));
                }
                self.dict_access(recv, true);
            }
            Some(code @ ("builtins.exec" | "builtins.eval")) => self.code_from_string(call, code),
            // Sets `__module__`, `__name__`, `__qualname__`, `__doc__` on the wrapper and
            // updates its `__dict__` (pytest's `FixtureFunctionDefinition` wraps itself):
            // certain to fail on `self` once slotted. Any other object given is an escape
            // to a library function, as for every call (`passed_on`).
            Some("functools.update_wrapper") => {
                if let Some(Receiver::SelfOf(c)) = args.first().map(|a| self.receiver(a)) {
                    self.summary.classes[c].block(Blocker::UpdateWrapper);
                }
            }
            // `getattr(obj, "__dict__", {})` answers differently once `obj` has no dict,
            // `hasattr(obj, "__slots__")` once it has slots, `hasattr(Cls, "x")` once `x`
            // is a slot.
            Some("builtins.getattr" | "builtins.hasattr") if args.len() >= 2 => {
                if let Some(name) = const_str(args.get(1)) {
                    let recv = self.receiver(&args[0]);
                    match name.as_str() {
                        "__dict__" => self.dunder_dict(recv),
                        "__slots__" => self.slots_lookup(recv),
                        _ if recv.may_be_class_object() => {
                            self.fact(Fact::ClassProbe(recv, Name::new(name)));
                        }
                        _ => {}
                    }
                }
            }
            // Listing a class lists its bases' namespaces too; listing an instance reads
            // its dict.
            Some("builtins.dir" | "inspect.getmembers" | "inspect.getmembers_static")
                if !args.is_empty() =>
            {
                let recv = self.receiver(&args[0]);
                match recv {
                    recv if recv.may_be_class_object() => self.fact(Fact::Members(recv)),
                    Receiver::SelfOf(c) => self.summary.classes[c].block(Blocker::ListsSelf),
                    recv => self.dict_access(recv, false),
                }
            }
            Some(
                "weakref.ref"
                | "weakref.proxy"
                | "weakref.finalize"
                | "weakref.WeakMethod"
                | "weakref.getweakrefcount"
                | "weakref.getweakrefs",
            ) => {
                let recv = match args.first() {
                    Some(Expr::Attribute(a)) if callee == Some("weakref.WeakMethod") => {
                        self.receiver(&a.value)
                    }
                    Some(arg) => self.receiver(arg),
                    None => Receiver::Unknown,
                };
                self.fact(Fact::Weakref(recv));
            }
            Some(
                "weakref.WeakSet" | "weakref.WeakValueDictionary" | "weakref.WeakKeyDictionary",
            ) => self.fact(Fact::Weakref(Receiver::Unknown)),
            Some(
                "pickle.load" | "pickle.loads" | "pickle.Unpickler" | "shelve.open" | "dill.load"
                | "dill.loads" | "cloudpickle.load" | "cloudpickle.loads",
            ) => {
                // `pickle.loads(pickle.dumps(x))` round-trips in one process: slotted
                // instances pickle fine at the default protocol. Only stored pickles,
                // which may hold dict state, are a risk.
                let round_trip = match args.first() {
                    Some(Expr::Call(inner)) => self
                        .resolve(&inner.func)
                        .is_some_and(|d| d.ends_with(".dumps")),
                    // `s = pickle.dumps(x)` then `pickle.loads(s)` in the same function.
                    Some(arg) => {
                        matches!(self.receiver(arg), Receiver::Instance(d) if d.ends_with(".dumps"))
                    }
                    None => false,
                };
                if !round_trip {
                    self.fact(Fact::PickleLoad);
                }
            }
            Some("pickle.dump" | "pickle.dumps") => {
                let protocol = call.arguments.find_argument_value(
                    "protocol",
                    if callee == Some("pickle.dump") { 2 } else { 1 },
                );
                if let Some(Expr::NumberLiteral(n)) = protocol
                    && matches!(n.value.as_int().and_then(|i| i.as_u8()), Some(0 | 1))
                {
                    self.fact(Fact::OldPickle);
                }
            }
            Some(d) if d.starts_with("copyreg.") => self.fact(Fact::OldPickle),
            _ => {}
        }
    }

    /// What `obj.attr(...)` writes on `obj` or on the objects it is given:
    /// `x.__setattr__(...)`, `object.__setattr__(self, "x", v)`,
    /// `super().__setattr__("x", v)`, `Base.register(Cls)`, `patch.object(obj, "name")`,
    /// `patch.multiple(obj, name=...)`, `monkeypatch.setattr(obj, "name", v)`.
    fn method_call(&mut self, call: &ast::ExprCall, a: &ast::ExprAttribute) {
        let args = &*call.arguments.args;
        if a.attr.as_str() == "register"
            && let Receiver::Global(d) = self.receiver(&a.value)
        {
            self.fact(Fact::Registered(d.to_string()));
        }
        let attr = a.attr.as_str();
        if attr == "__setattr__" {
            let via_super = is_super_call(&a.value);
            // `object.__setattr__(obj, ...)`, `Base.__setattr__(obj, ...)`.
            let via_type = !via_super && matches!(self.receiver(&a.value), Receiver::Global(_));
            let (recv, name) = if via_super {
                (
                    self.current_method_class()
                        .map_or(Receiver::Unknown, Receiver::SelfOf),
                    args.first(),
                )
            } else if via_type {
                (
                    args.first().map_or(Receiver::Unknown, |e| self.receiver(e)),
                    args.get(1),
                )
            } else {
                (self.receiver(&a.value), args.first())
            };
            self.named_write(recv, name);
        }
        // `mock.patch.object(obj, "name")`, `mocker.patch.object(...)`,
        // `monkeypatch.setattr(obj, "name", v)`: a write of `name` on `obj`.
        let on_patch = is_patch(&a.value);
        let patch_object = attr == "object" && on_patch;
        if attr == "multiple"
            && on_patch
            && let Some(target) = args.first()
        {
            let recv = self.receiver(target);
            for kw in &call.arguments.keywords {
                if let Some(name) = &kw.arg {
                    self.attr_write(recv.clone(), name.as_str());
                }
            }
        }
        let monkeypatch = attr == "setattr"
            && matches!(a.value.as_ref(), Expr::Name(n) if n.id.as_str() == "monkeypatch");
        // `monkeypatch.setattr("pkg.mod.name", value)`: the string names a module
        // attribute, and the second argument is the value, not a name.
        let by_path = monkeypatch && self.path_write(args.first());
        if !by_path && (patch_object || monkeypatch) && args.len() >= 2 {
            let recv = self.receiver(&args[0]);
            self.named_write(recv, args.get(1));
        }
    }

    /// `self` or a possible instance handed to other code by a call with arguments,
    /// whose callee resolves to `callee`: each is an escape to that callee, and a bound
    /// method of `self` passed on is a method escape.
    fn passed_on(&mut self, call: &ast::ExprCall, callee: Option<String>) {
        let args = &*call.arguments.args;
        // What the callee is, and for `obj.method(...)` what `obj` is, each worked out
        // once: the questions below ask them several times.
        let func_recv = std::cell::OnceCell::new();
        let func_receiver = || func_recv.get_or_init(|| self.receiver(&call.func));
        let value_recv = match call.func.as_ref() {
            Expr::Attribute(a) => Some(self.receiver(&a.value)),
            _ => None,
        };
        // `self` or a possible instance handed to other code.
        let in_project_method = match (call.func.as_ref(), &value_recv) {
            // A method of the instance itself, or of a base (`Base.__init__(self)`,
            // `super().__init__(...)`).
            (Expr::Attribute(a), Some(value_recv)) => {
                matches!(value_recv, Receiver::SelfOf(_) | Receiver::ClassOf(_))
                    || is_super_call(&a.value)
                    // `self.__class__(self)`: the class's own constructor.
                    || matches!(func_receiver(), Receiver::ClassOf(_))
            }
            // `cls(...)`, `type(self)(...)`.
            _ => matches!(func_receiver(), Receiver::ClassOf(_)),
        };
        // A method of an object of known class (`inline.process_text(state)` with
        // `inline: InlineParser`) is named `pkg.mod.InlineParser.process_text`, which
        // the project decision finds among the class's methods.
        let callee = callee.or_else(|| {
            self.method_callee(
                &call.func,
                value_recv.as_ref().unwrap_or_else(func_receiver),
            )
        });
        if !in_project_method {
            let passed: Vec<Receiver> = args
                .iter()
                .map(|a| match a {
                    Expr::Starred(s) => s.value.as_ref(),
                    a => a,
                })
                .chain(call.arguments.keywords.iter().map(|k| &k.value))
                .map(|a| self.receiver(a))
                .filter(|r| match r {
                    // A callable passed on is tracked no more than an object of
                    // unknown type is (its type says only "maybe any callable class").
                    Receiver::Typed(members) => !members.iter().any(TypeRef::is_callable),
                    Receiver::SelfOf(_)
                    | Receiver::Instance(_)
                    | Receiver::Global(_)
                    | Receiver::AttrOf { .. } => true,
                    _ => false,
                })
                .collect();
            // `plugin(self)`: the object called may be typed only project-wide.
            let called = match (&callee, call.func.as_ref()) {
                (None, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_)) => {
                    match func_receiver() {
                        found @ (Receiver::AttrOf { .. } | Receiver::Typed(_)) => {
                            Some(found.clone())
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            for recv in passed {
                if let Some(called) = &called {
                    self.fact(Fact::CalledEscape(recv, Box::new(called.clone())));
                    continue;
                }
                self.fact(Fact::Escape(recv, callee.as_deref().map(Name::new)));
            }
            let methods: Vec<(usize, String)> = args
                .iter()
                .chain(call.arguments.keywords.iter().map(|k| &k.value))
                .filter_map(|a| match a {
                    Expr::Attribute(attr) => match self.receiver(&attr.value) {
                        Receiver::SelfOf(c) => Some((c, attr.attr.to_string())),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            for (c, name) in methods {
                let name = self.summary.classes[c].mangle(&name);
                self.fact(Fact::MethodEscape(c, name, callee.clone()));
            }
        }
    }

    /// `exec(code, ...)` or `eval(code, ...)` (`callee`): code the analysis cannot read,
    /// which reaches every object in the namespaces it is given (the values of a dict
    /// display, or the object passed) or, given none, every name of the scopes around
    /// the call. Each possible instance among them escapes to `callee`.
    fn code_from_string(&mut self, call: &ast::ExprCall, callee: &str) {
        let arguments = &call.arguments;
        let namespaces: Vec<&Expr> = arguments
            .args
            .iter()
            .skip(1)
            .chain(
                arguments
                    .keywords
                    .iter()
                    .filter(|k| matches!(k.arg.as_deref(), Some("globals" | "locals")))
                    .map(|k| &k.value),
            )
            .collect();
        let mut reached = Vec::new();
        if namespaces.is_empty() {
            for scope in &self.scopes {
                match scope {
                    Scope::Module { calls } => {
                        reached.extend(calls.values().map(|b| self.bound(b, false)));
                    }
                    Scope::Function {
                        self_name, locals, ..
                    } => {
                        if let Some((_, c)) = self_name {
                            reached.push(Receiver::SelfOf(*c));
                        }
                        reached.extend(locals.values().map(|b| self.bound(b, true)));
                    }
                    Scope::Class { .. } => {}
                }
            }
        } else {
            for namespace in namespaces {
                match namespace {
                    Expr::Dict(d) => {
                        reached.extend(d.items.iter().map(|item| self.receiver(&item.value)));
                    }
                    other => reached.push(self.receiver(other)),
                }
            }
        }
        for recv in reached {
            if !matches!(recv, Receiver::Unknown | Receiver::Definition) {
                self.fact(Fact::Escape(recv, Some(Name::new(callee))));
            }
        }
    }

    /// A write on `recv` of the attribute a call names with `name`: that attribute for
    /// a string literal, any attribute otherwise.
    fn named_write(&mut self, recv: Receiver, name: Option<&Expr>) {
        match const_str(name) {
            Some(name) => self.attr_write(recv, &name),
            None => self.dynamic_setattr(recv),
        }
    }

    /// A write of the attribute a dotted string literal names last, on what the rest of
    /// it names (`"pkg.mod.Cls.name"`: `name` on `pkg.mod.Cls`). Whether `path` is a
    /// string literal.
    fn path_write(&mut self, path: Option<&Expr>) -> bool {
        let Some(path) = const_str(path) else {
            return false;
        };
        if let Some((owner, name)) = path.rsplit_once('.') {
            self.attr_write(Receiver::Global(Name::new(owner)), name);
        }
        true
    }

    /// `obj.method` where `obj` is of one known class: `pkg.mod.Cls.method`; `obj`
    /// itself, called, when it is annotated with one class: `pkg.mod.Cls.__call__`
    /// (an instance of the class or a subclass, whose `__call__` is project code).
    /// `recv`: what `obj` is for `obj.method`, else what `func` is.
    fn method_callee(&self, func: &Expr, recv: &Receiver) -> Option<String> {
        let Expr::Attribute(a) = func else {
            return match recv {
                Receiver::Typed(members) => match members.as_slice() {
                    [TypeRef::Of(d)] => Some(format!("{d}.__call__")),
                    _ => None,
                },
                _ => None,
            };
        };
        let class = match recv {
            Receiver::Typed(members) => match members.as_slice() {
                [TypeRef::Of(d)] => d.as_str(),
                _ => return None,
            },
            Receiver::Instance(d) => d.as_str(),
            _ => return None,
        };
        Some(format!("{class}.{}", a.attr))
    }
}

/// The string a string literal holds.
fn const_str(expr: Option<&Expr>) -> Option<String> {
    match expr {
        Some(Expr::StringLiteral(s)) => Some(s.value.to_str().to_string()),
        _ => None,
    }
}

/// `patch` or `something.patch` (`mock.patch`, `mocker.patch`).
fn is_patch(expr: &Expr) -> bool {
    match expr {
        Expr::Attribute(a) => a.attr.as_str() == "patch",
        Expr::Name(n) => n.id.as_str() == "patch",
        _ => false,
    }
}

/// `super(...)`, called with or without arguments.
fn is_super_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "super"))
}
