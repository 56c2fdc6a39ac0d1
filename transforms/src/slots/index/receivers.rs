//! What an object expression may be, as far as the file can tell: the [`Receiver`] of
//! a name through its bindings, `isinstance` narrowing and the values flowing to it,
//! of a call through its callee, of an attribute through its owner's type.

use ruff_python_ast::name::{Name, UnqualifiedName};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::slots::signature::CallShape;
use crate::slots::types::{Shape, TypeRef};

use super::bindings::{Binding, SameExpr};
use super::exprs::is_pure;
use super::{Indexer, Owner, PRODUCERS, Producer, Receiver, Scope};

impl<'m> Indexer<'m, '_> {
    /// What an object expression may be.
    pub(super) fn receiver(&self, expr: &Expr) -> Receiver {
        match expr {
            Expr::Name(name) => {
                let id = name.id.as_str();
                for (i, scope) in self.scopes.iter().enumerate().rev() {
                    let innermost = i + 1 == self.scopes.len();
                    match scope {
                        Scope::Function {
                            self_name,
                            cls_name,
                            locals,
                            ..
                        } => {
                            if let Some((n, c)) = self_name
                                && n == id
                            {
                                return Receiver::SelfOf(*c);
                            }
                            if let Some((n, c)) = cls_name
                                && n == id
                            {
                                return Receiver::ClassOf(*c);
                            }
                            if innermost
                                && !matches!(locals.get(id), Some(Binding::Declared))
                                && let Some(value) = self.flow_value(id)
                            {
                                let found = self.guarded(|| {
                                    let outer = self.no_flow.replace(true);
                                    let found = self.receiver(value);
                                    self.no_flow.set(outer);
                                    found
                                });
                                return self.narrow(id, found);
                            }
                            if let Some(binding) = locals.get(id) {
                                let found = self.bound(binding, innermost);
                                // Declared `global` or `nonlocal` (here, or by a function
                                // nested here): any call between an `isinstance` check
                                // and this use may rebind it, so no check narrows it.
                                if matches!(binding, Binding::Declared) {
                                    return found;
                                }
                                return self.narrow(id, found);
                            }
                        }
                        Scope::Module { calls } => match calls.get(id) {
                            // Resolved below to the project class (a class object).
                            Some(Binding::Class { .. }) => break,
                            Some(Binding::Unknown) | None => {}
                            Some(binding) => {
                                return self.narrow(id, self.bound(binding, innermost));
                            }
                        },
                        Scope::Class { .. } => {}
                    }
                }
                match self.resolve(expr) {
                    Some(d) => Receiver::Global(d.into()),
                    None => Receiver::Unknown,
                }
            }
            Expr::Attribute(attr) => {
                // The object is read once: a chain (`a.b.c`, `x.__class__().__class__`)
                // would otherwise be read again at each link.
                let object =
                    (attr.attr.as_str() == "__class__").then(|| self.receiver(&attr.value));
                if let Some(Receiver::SelfOf(c)) = object {
                    return Receiver::ClassOf(c);
                }
                match UnqualifiedName::from_expr(expr) {
                    Some(n) if n.segments().first().is_some_and(|f| self.is_global(f)) => {
                        match self.resolve(expr) {
                            Some(d) => Receiver::Global(d.into()),
                            None => Receiver::Unknown,
                        }
                    }
                    _ => {
                        let object = object.unwrap_or_else(|| self.receiver(&attr.value));
                        match self.attr_owner(object, attr.attr.as_str()) {
                            Some((owner, attr)) => Receiver::AttrOf {
                                owner,
                                attr,
                                item: false,
                            },
                            None => Receiver::Unknown,
                        }
                    }
                }
            }
            Expr::Call(call) => self.call_receiver(call),
            // `items[i]`: an element of a container of known elements; a slice
            // (`items[1:]`) is a container again.
            Expr::Subscript(sub) if !sub.slice.is_slice_expr() => self.elements_of(&sub.value),
            _ => Receiver::Unknown,
        }
    }

    /// What a call gives: `cls(...)` an instance of the class, a library producer's
    /// result, a global callee's instance, or a method's result.
    fn call_receiver(&self, call: &ast::ExprCall) -> Receiver {
        if let (Expr::Name(f), [arg]) = (call.func.as_ref(), &*call.arguments.args)
            && f.id.as_str() == "type"
            && let Receiver::SelfOf(c) = self.receiver(arg)
        {
            return Receiver::ClassOf(c);
        }
        // `Foo()` of a class without bases defined in a function: it is never slotted
        // (a new class per call), and its instances are instances of nothing else.
        if let Expr::Name(n) = call.func.as_ref()
            && self.is_local_bare_class(n.id.as_str())
        {
            return Receiver::Definition;
        }
        // What the called method's object is, read once: a chain of method calls
        // (`s.replace(...).replace(...)`) would otherwise be read again at each link.
        // `cls(...)`, `type(self)(...)`, `self.__class__(...)`: an instance of the class
        // or a subclass (an attribute is a class object only as `__class__`).
        let object = match call.func.as_ref() {
            Expr::Attribute(a) => Some((a, self.receiver(&a.value))),
            _ => None,
        };
        let class_object = match (call.func.as_ref(), &object) {
            (Expr::Attribute(a), Some((_, Receiver::SelfOf(c))))
                if a.attr.as_str() == "__class__" =>
            {
                Some(*c)
            }
            (Expr::Attribute(_), _) => None,
            (func, _) => match self.receiver(func) {
                Receiver::ClassOf(c) => Some(c),
                _ => None,
            },
        };
        if let Some(c) = class_object {
            return Receiver::Typed(vec![TypeRef::Of(self.class_dotted(c))]);
        }
        // `cls.__new__(cls)`, `super().__new__(cls)`, `object.__new__(cls)`: the same,
        // without `__init__` run (copies, unpickling, `__new__` itself). As for
        // `cls(...)`, a `__new__` is taken to make an instance of the class it is given.
        if let Expr::Attribute(a) = call.func.as_ref()
            && a.attr.as_str() == "__new__"
            && let Some(first) = call.arguments.args.first()
            && let Receiver::ClassOf(c) = self.receiver(first)
            && self.allocates(&a.value)
        {
            return Receiver::Typed(vec![TypeRef::Of(self.class_dotted(c))]);
        }
        if let Some((_, object)) = &object
            && let produced @ (Receiver::Produced { .. } | Receiver::ProducedBy { .. }) =
                self.produced(call, None, object)
        {
            return produced;
        }
        if let Some(Some(Shape::Instances(members))) = self.cast_to(call)
            && !members.is_empty()
        {
            return Receiver::Typed(members);
        }
        if let Some(members) = self.class_object_call(&call.func) {
            return Receiver::Typed(members);
        }
        match self.resolve(&call.func) {
            Some(d) if !d.starts_with("builtins.") => Receiver::Instance(d.into()),
            Some(_) => Receiver::Unknown,
            None => match object {
                Some((a, object)) => self.method_result(object, a.attr.as_str()),
                None => Receiver::Unknown,
            },
        }
    }

    /// Whether `owner.__new__` is one that makes an instance of the class it is given:
    /// the class's own (`cls`, `type(self)`), the next one along its bases (`super()`),
    /// or `object`'s.
    fn allocates(&self, owner: &Expr) -> bool {
        // Certainly the builtins: a star import may bind either name.
        let builtin = |n: &ast::ExprName, name: &str| {
            n.id.as_str() == name && self.names.is_builtin(name, n.start())
        };
        match owner {
            Expr::Call(call) => matches!(call.func.as_ref(), Expr::Name(n) if builtin(n, "super")),
            Expr::Name(n) if builtin(n, "object") => true,
            _ => matches!(self.receiver(owner), Receiver::ClassOf(_)),
        }
    }

    /// What `value.method(...)` returns when `value` (whose receiver is `object`) is
    /// of known type: what the project decision finds the class's `method` (and every
    /// override) returns.
    fn method_result(&self, object: Receiver, method: &str) -> Receiver {
        if method.starts_with("__") {
            return Receiver::Unknown;
        }
        let Some(owners) = self.types_of(object) else {
            return Receiver::Unknown;
        };
        owners
            .into_iter()
            .map(|t| match t {
                TypeRef::Of(d) | TypeRef::Call(d) => Some(TypeRef::Call(format!("{d}.{method}"))),
                TypeRef::Callable | TypeRef::Except(..) => None,
                deferred => Some(TypeRef::MethodOf(Box::new(deferred), method.to_string())),
            })
            .collect::<Option<Vec<_>>>()
            .map_or(Receiver::Unknown, Receiver::Typed)
    }

    /// A receiver as the union of types it may be (`self` is an instance of its class
    /// or a subclass), when it is an instance of something known.
    fn types_of(&self, recv: Receiver) -> Option<Vec<TypeRef>> {
        match recv {
            Receiver::Typed(members) => Some(members),
            Receiver::Instance(d) => Some(vec![TypeRef::Call(d.to_string())]),
            Receiver::SelfOf(c) => Some(vec![TypeRef::Of(self.class_dotted(c))]),
            _ => None,
        }
    }

    /// Whose attribute `value.attr` is, and its name there, when `value` is of known
    /// type: `self` (the name mangled in its class), or an object of known type
    /// (private `__x` names are left out: they are mangled by the class whose code
    /// reads them, not the object's).
    fn attr_owner(&self, object: Receiver, attr: &str) -> Option<(Owner, Name)> {
        let private = crate::syntax::is_mangled(attr);
        match object {
            Receiver::SelfOf(c) => Some((Owner::SelfOf(c), self.summary.classes[c].mangled(attr))),
            Receiver::Typed(members) if !private => Some((Owner::Typed(members), Name::new(attr))),
            Receiver::Instance(d) if !private => Some((
                Owner::Typed(vec![TypeRef::Call(d.to_string())]),
                Name::new(attr),
            )),
            _ => None,
        }
    }

    /// What a name bound this way holds. `innermost`: the binding is in the scope
    /// being visited; an expression bound elsewhere is not read here, where its names
    /// may mean other objects.
    pub(super) fn bound(&self, binding: &Binding<'m>, innermost: bool) -> Receiver {
        match binding {
            Binding::Value(value) if innermost => self.guarded(|| self.receiver(value)),
            Binding::Value(_) => Receiver::Unknown,
            Binding::ElementOf(iter) if !innermost && !iter.is_name_expr() => Receiver::Unknown,
            // `x = cast(Point, value)`: what the cast says.
            Binding::Call(_, call)
                if let Some(Some(Shape::Instances(members))) = self.cast_to(call.0)
                    && !members.is_empty() =>
            {
                Receiver::Typed(members)
            }
            Binding::Call(callee, call) => {
                let name = callee.name();
                let segments = name.as_ref().map_or(&[][..], |n| n.segments());
                match self.own_class_callee(segments) {
                    // `x = cls(...)`, `x = self.__class__(...)`: an instance of the class
                    // or a subclass.
                    Some(c) => Receiver::Typed(vec![TypeRef::Of(self.class_dotted(c))]),
                    None => match self.instance_of(segments) {
                        // `x = state.copy()` with `state` local: read where it is bound.
                        Receiver::Unknown if innermost => {
                            self.guarded(|| self.call_receiver(call.0))
                        }
                        // `cls = type(self)`: the class object, as `type(self)` is read.
                        Receiver::Instance(d) if innermost && d.as_str() == "builtins.type" => {
                            self.guarded(|| self.call_receiver(call.0))
                        }
                        found => found,
                    },
                }
            }
            Binding::Either(annotation, other) => {
                let types = |r: Receiver| match r {
                    Receiver::Typed(members) => Some(members),
                    Receiver::Instance(d) => Some(vec![TypeRef::Call(d.to_string())]),
                    _ => None,
                };
                let both = types(self.bound(&Binding::Annotated(annotation), innermost))
                    .zip(types(self.bound(other, innermost)));
                match both {
                    Some((mut a, b)) => {
                        a.extend(b);
                        Receiver::Typed(a)
                    }
                    None => Receiver::Unknown,
                }
            }
            // Only instances of `BaseException` subclasses can be caught, and the
            // project's are never slotted (they keep the dict `BaseException` has), so
            // an attribute set on one (`e.ctx = ctx`) needs no slot anywhere.
            Binding::Function | Binding::Class { .. } | Binding::Caught => Receiver::Definition,
            Binding::Annotated(annotation) => match self.annotation(annotation) {
                Some(Shape::Instances(members)) => Receiver::Typed(members),
                _ => Receiver::Unknown,
            },
            Binding::Inferred(members) => Receiver::Typed(members.clone()),
            Binding::Decorated(decorator) => self.decorated(decorator),
            Binding::ElementOf(iter) => self.guarded(|| self.elements_of(iter)),
            Binding::Item(SameExpr(value), i) => match value {
                Expr::Call(call) => {
                    let object = match call.func.as_ref() {
                        Expr::Attribute(a) => self.receiver(&a.value),
                        _ => Receiver::Unknown,
                    };
                    match self.produced(call, Some(*i), &object) {
                        Receiver::Unknown if innermost => self.returned_item(call, *i, object),
                        found => found,
                    }
                }
                _ => Receiver::Unknown,
            },
            Binding::Unknown | Binding::Declared => Receiver::Unknown,
        }
    }

    /// What `object` is in `object.x = value` when the statement before stored a call's
    /// result there (`ctx.obj = Foo()`), `object` is `name.attr` and `value` runs no
    /// code: the project decision reads it if `attr` is a plain attribute.
    pub(super) fn just_stored(&self, object: &Expr, value: &Expr) -> Option<Receiver> {
        let Some(Stmt::Assign(previous)) = self.previous else {
            return None;
        };
        let ([Expr::Attribute(stored)], Expr::Call(_)) =
            (previous.targets.as_slice(), previous.value.as_ref())
        else {
            return None;
        };
        let source = self.source.source();
        if !stored.value.is_name_expr()
            || stored.attr.starts_with("__")
            || !is_pure(value)
            || source[stored.range()] != source[object.range()]
        {
            return None;
        }
        let stored_value = self.receiver(&previous.value);
        if matches!(stored_value, Receiver::Unknown) {
            return None;
        }
        Some(Receiver::Stored {
            owner: Box::new(self.receiver(&stored.value)),
            attr: stored.attr.id.clone(),
            value: Box::new(stored_value),
        })
    }

    /// Whether `item` is `patch(target) as name` or `patch.object(target, attr) as
    /// name`: `name` is a new mock (no `new` or `new_callable` replacing it).
    pub(super) fn is_fresh_mock(&self, item: &ast::WithItem, name: &str) -> bool {
        let (Some(Expr::Name(bound)), Expr::Call(call)) =
            (item.optional_vars.as_deref(), &item.context_expr)
        else {
            return false;
        };
        let positional = match self.resolve(&call.func).as_deref() {
            Some("unittest.mock.patch" | "mock.patch") => 1,
            Some("unittest.mock.patch.object" | "mock.patch.object") => 2,
            _ => return false,
        };
        bound.id.as_str() == name
            && call.arguments.args.len() == positional
            && !call.arguments.args.iter().any(Expr::is_starred_expr)
            && call.arguments.keywords.iter().all(|k| {
                k.arg
                    .as_ref()
                    .is_some_and(|a| !matches!(a.as_str(), "new" | "new_callable"))
            })
    }

    /// What a decorator makes of a function: what calling it returns, or for a
    /// decorator factory's call (`@command("name")`), what calling its result returns.
    fn decorated(&self, decorator: &Expr) -> Receiver {
        let (func, shape) = match decorator {
            Expr::Call(call) => match CallShape::of(call) {
                Some(shape) => (call.func.as_ref(), Some(shape)),
                None => return Receiver::Unknown,
            },
            other => (other, None),
        };
        if !matches!(func, Expr::Name(_) | Expr::Attribute(_)) {
            return Receiver::Unknown;
        }
        match self.resolve(func) {
            Some(d) if !d.starts_with("builtins.") => Receiver::Typed(vec![match shape {
                Some(shape) => TypeRef::Applied(Box::new((d, shape))),
                None => TypeRef::Call(d),
            }]),
            _ => Receiver::Unknown,
        }
    }

    /// An element of `iter`, when the container's annotation says what it holds, or
    /// it is an attribute of an object of known type (`self.items`, `state.brackets`:
    /// the project decision reads what the class stores there).
    fn elements_of(&self, iter: &Expr) -> Receiver {
        match iter {
            Expr::Name(name) => self.elements_of_name(name.id.as_str()),
            Expr::Attribute(a) => match self.attr_owner(self.receiver(&a.value), a.attr.as_str()) {
                Some((owner, attr)) => Receiver::AttrOf {
                    owner,
                    attr,
                    item: true,
                },
                None => Receiver::Unknown,
            },
            _ => Receiver::Unknown,
        }
    }

    fn elements_of_name(&self, name: &str) -> Receiver {
        let Some((binding, innermost)) = self.binding_of(name) else {
            return Receiver::Unknown;
        };
        match binding {
            Binding::Annotated(annotation) => match self.annotation(annotation) {
                Some(Shape::Elements(members)) => Receiver::Typed(members),
                _ => Receiver::Unknown,
            },
            // `items = self.items` then `items[0]`.
            Binding::Value(value) if innermost => self.guarded(|| self.elements_of(value)),
            _ => Receiver::Unknown,
        }
    }

    /// Runs `read` one [`Binding::Value`] level deeper, or gives `Unknown` past a few
    /// levels. Narrowing is off inside: the expression was evaluated where it was
    /// bound, not where the name is used, and an `isinstance` check in force here says
    /// nothing about what its names held there.
    fn guarded(&self, read: impl FnOnce() -> Receiver) -> Receiver {
        let depth = self.value_depth.get();
        if depth >= 4 {
            return Receiver::Unknown;
        }
        self.value_depth.set(depth + 1);
        let found = read();
        self.value_depth.set(depth);
        found
    }

    /// Calling `func` when it is a class object of known type (a name annotated
    /// `type[Point]`, or bound to `cast(type[Point], ...)`): an instance of it.
    fn class_object_call(&self, func: &Expr) -> Option<Vec<TypeRef>> {
        let Expr::Name(name) = func else {
            return None;
        };
        let (binding, _) = self.binding_of(name.id.as_str())?;
        self.class_object(binding)
    }

    fn class_object(&self, binding: &Binding<'m>) -> Option<Vec<TypeRef>> {
        let classes = |shape: Option<Shape>| match shape {
            Some(Shape::Classes(members)) => Some(members),
            _ => None,
        };
        match binding {
            Binding::Annotated(annotation) => classes(self.annotation(annotation)),
            Binding::Call(_, call) => classes(self.cast_to(call.0)?),
            Binding::Either(annotation, other) => {
                let mut members = classes(self.annotation(annotation))?;
                members.extend(self.class_object(other)?);
                Some(members)
            }
            _ => None,
        }
    }

    /// `typing.cast(T, value)`: what `T` says (`None` when the call is no cast).
    fn cast_to(&self, call: &ast::ExprCall) -> Option<Option<Shape>> {
        // Only a call of two arguments can be a cast that says something: most calls
        // are not, and are spared resolving their callee.
        if call.arguments.args.len() != 2 {
            return None;
        }
        let is_cast = matches!(
            self.resolve(&call.func).as_deref(),
            Some("typing.cast" | "typing_extensions.cast")
        );
        match (is_cast, &*call.arguments.args) {
            (true, [to, _]) => Some(self.annotation(to)),
            _ => None,
        }
    }

    /// `name` inside an `isinstance(name, ...)` branch is what the check says, when
    /// nothing better is known.
    fn narrow(&self, name: &str, found: Receiver) -> Receiver {
        if !matches!(found, Receiver::Unknown | Receiver::Typed(_)) || self.value_depth.get() > 0 {
            return found;
        }
        let depth = self.scopes.len();
        let found = self
            .narrowed
            .iter()
            .rev()
            .find(|(d, n, _)| *d == depth && n == name)
            .map_or(found, |(_, _, members)| Receiver::Typed(members.clone()));
        // In the `else` of `isinstance(name, X)`: not an `X`.
        let excluded: Vec<String> = self
            .excluded
            .iter()
            .filter(|(d, n, _)| *d == depth && n == name)
            .flat_map(|(_, _, classes)| classes.iter().cloned())
            .collect();
        match found {
            Receiver::Typed(members) if !excluded.is_empty() => Receiver::Typed(
                members
                    .into_iter()
                    .map(|m| TypeRef::Except(Box::new(m), excluded.clone()))
                    .collect(),
            ),
            found => found,
        }
    }

    /// What an expression evaluates to, as a union of types (`None`: not known).
    pub(super) fn value_type(&self, expr: &Expr) -> Option<Vec<TypeRef>> {
        match expr {
            Expr::NoneLiteral(_) => Some(Vec::new()),
            Expr::If(e) => {
                let mut members = self.value_type(&e.body)?;
                members.extend(self.value_type(&e.orelse)?);
                Some(members)
            }
            Expr::BoolOp(e) => {
                let mut members = Vec::new();
                for v in &e.values {
                    members.extend(self.value_type(v)?);
                }
                Some(members)
            }
            Expr::Name(_) | Expr::Call(_) => self.types_of(self.receiver(expr)),
            _ => None,
        }
    }

    /// What an assigned value is: [`Self::value_type`], or a container of known
    /// elements when it is a name annotated so (`self.items = items` with `items:
    /// list[Point]`).
    pub(super) fn value_shape(&self, expr: &Expr) -> Option<Shape> {
        if let Expr::Name(name) = expr
            && let Receiver::Typed(members) = self.elements_of_name(name.id.as_str())
        {
            return Some(Shape::Elements(members));
        }
        self.value_type(expr).map(Shape::Instances)
    }

    /// What `obj.method(...)` gives (`item`: the item at that position of it; `object`:
    /// what `obj` is) when `obj` is an instance of exactly a library class of
    /// [`PRODUCERS`] and the call
    /// passes nothing the method would return instead of a new object; when `obj` is
    /// what a function returns, the same once the project decision knows that the
    /// function returns such an instance ([`Receiver::ProducedBy`]).
    fn produced(&self, call: &ast::ExprCall, item: Option<usize>, object: &Receiver) -> Receiver {
        let Expr::Attribute(a) = call.func.as_ref() else {
            return Receiver::Unknown;
        };
        let Receiver::Instance(owner) = object else {
            return Receiver::Unknown;
        };
        let arguments = &call.arguments;
        let fits = |p: &Producer| {
            p.method == a.attr.as_str()
                && p.item == item
                // `*args` or `**kwargs` may pass the object through; so may the
                // parameter itself, by position or by name.
                && !arguments.args.iter().any(Expr::is_starred_expr)
                && arguments.args.len() <= p.passed_at
                && arguments
                    .keywords
                    .iter()
                    .all(|k| k.arg.as_ref().is_some_and(|n| n.as_str() != p.passed_as))
        };
        if let Some(p) = PRODUCERS.iter().find(|p| p.owner == owner && fits(p)) {
            return Receiver::Produced {
                api: Name::new(format!("{}.{}", p.owner, p.method)),
                class: Name::new_static(p.class),
            };
        }
        // A method name and item fit one producer at most; a builtin builds none.
        match PRODUCERS.iter().position(fits) {
            Some(i) if !owner.starts_with("builtins.") => Receiver::ProducedBy {
                factory: owner.clone(),
                producer: u8::try_from(i).unwrap_or(u8::MAX),
            },
            _ => Receiver::Unknown,
        }
    }

    /// The item at position `i` of what a project function or method call returns,
    /// read by the project decision from the callee's declared `tuple[...]`.
    fn returned_item(&self, call: &ast::ExprCall, i: usize, object: Receiver) -> Receiver {
        let callees = match self.resolve(&call.func) {
            Some(d) if !d.starts_with("builtins.") => vec![TypeRef::Call(d)],
            Some(_) => return Receiver::Unknown,
            None => match call.func.as_ref() {
                Expr::Attribute(a) => match self.method_result(object, a.attr.as_str()) {
                    Receiver::Typed(members) => members,
                    _ => return Receiver::Unknown,
                },
                _ => return Receiver::Unknown,
            },
        };
        callees
            .into_iter()
            .map(|t| match t {
                TypeRef::Call(d) => Some(TypeRef::Item(d, i)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map_or(Receiver::Unknown, Receiver::Typed)
    }
}
