//! Classes and functions: a class statement summarised (bases, decorators, body
//! names, methods), and a function's body visited in its own scope with what its
//! parameters and `return`s say.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::helpers::map_callable;
use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::slots::safety::Blocker;
use crate::slots::types::{self, InheritedParam, Shape, TypeRef};
use crate::slots::verdict::Unproven;
use crate::syntax::target_names;

use super::bindings::{Binding, call_bindings, declarations, function_object_writes};
use super::exprs::{is_classvar, literal_strings};
use super::{ClassSummary, Indexer, Returning, Scope};

impl<'m> Indexer<'m, '_> {
    pub(super) fn visit_class(&mut self, def: &'m ast::StmtClassDef) {
        let idx = self.summary.classes.len();
        let in_function = self
            .scopes
            .iter()
            .any(|s| matches!(s, Scope::Function { .. }));
        self.qual.push(def.name.to_string());
        let mut class = ClassSummary {
            qualname: self.qual.join("."),
            in_function,
            suppressed: self
                .suppressions
                .is_suppressed(|| self.source.line_column(def.name.start()).0, "slots"),
            ..ClassSummary::default()
        };
        if let Some(first) = def.body.first() {
            // On the same line when no line break (`\n`, `\r\n` or `\r`) lies between:
            // a line index of the file, built for this alone, cost more than the scan.
            let between = &self.source.source()[TextRange::new(def.name.start(), first.start())];
            class.one_line = !between.bytes().any(|b| b == b'\n' || b == b'\r');
        }
        if let Some(args) = &def.arguments {
            for base in &*args.args {
                class.bases.push(self.to_ref(base));
            }
            for kw in &args.keywords {
                match kw.arg.as_ref().map(|a| a.as_str()) {
                    Some("metaclass") => class.metaclass = Some(Box::new(self.to_ref(&kw.value))),
                    _ => class.other_keywords = true,
                }
            }
        }
        for (position, dec) in def.decorator_list.iter().enumerate() {
            let callable = map_callable(&dec.expression);
            let r = self.to_ref(callable);
            if r.dotted() == Some("dataclasses.dataclass") {
                let mut slots = None;
                if let Expr::Call(call) = &dec.expression {
                    for kw in &call.arguments.keywords {
                        match (kw.arg.as_ref().map(|a| a.as_str()), &kw.value) {
                            (Some("slots"), Expr::BooleanLiteral(b)) => slots = Some(b.value),
                            // `slots=flag`, or `**options` that may hold it.
                            (Some("slots") | None, _) => class.dataclass_slots_unknown = true,
                            _ => {}
                        }
                    }
                }
                class.dataclass = Some(slots);
                // Offsets in a source are u32 (ruff's `TextSize`): so are its positions.
                class.dataclass_decorator = u32::try_from(position).unwrap_or(u32::MAX);
            } else {
                class.decorators.push(r);
            }
        }
        self.dotted
            .push(format!("{}.{}", self.summary.module, class.qualname));
        self.summary.classes.push(class);
        // Decorators, bases and keywords are evaluated in the enclosing scope.
        for dec in &def.decorator_list {
            self.visit_decorator(dec);
        }
        if let Some(args) = &def.arguments {
            self.visit_arguments(args);
        }
        let nested = def
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::ClassDef(c) => Some((
                    c.name.to_string(),
                    format!("{}.{}", self.qual.join("."), c.name),
                )),
                _ => None,
            })
            .collect();
        self.scopes.push(Scope::Class { nested });
        self.class_body(idx, &def.body);
        self.scopes.pop();
        self.qual.pop();
    }

    fn class_body(&mut self, idx: usize, body: &'m [Stmt]) {
        let outer_statement = self.statement;
        for stmt in body {
            // Not every statement here goes through `visit_stmt`: a fact's line.
            self.statement = stmt.start();
            match stmt {
                Stmt::Assign(assign) => {
                    for target in &assign.targets {
                        if let Expr::Name(n) = target
                            && n.id.as_str() == "__slots__"
                        {
                            self.summary.classes[idx].slots = Some(literal_strings(&assign.value));
                        }
                    }
                    let mut names = Vec::new();
                    for target in &assign.targets {
                        target_names(target, &mut names);
                    }
                    // `state_cls = BlockState`: a class (or function) called through it.
                    let named = match (assign.targets.as_slice(), assign.value.as_ref()) {
                        ([Expr::Name(_)], value @ (Expr::Name(_) | Expr::Attribute(_))) => {
                            self.resolve(value)
                        }
                        _ => None,
                    };
                    for name in names {
                        let class = &mut self.summary.classes[idx];
                        class.add_class_name(name);
                        let name = class.mangled(name);
                        let value = match class.class_values.get(&name) {
                            None => named.clone(),
                            Some(_) => None,
                        };
                        class.class_values.insert(name, value);
                    }
                    self.visit_expr(&assign.value);
                }
                Stmt::AnnAssign(assign) => {
                    if let Expr::Name(n) = assign.target.as_ref() {
                        let name = n.id.to_string();
                        if name == "__slots__"
                            && let Some(value) = &assign.value
                        {
                            self.summary.classes[idx].slots = Some(literal_strings(value));
                        }
                        let declared = self.annotation(&assign.annotation);
                        let class = &mut self.summary.classes[idx];
                        if !is_classvar(&assign.annotation) && name != "_" {
                            class.fields.push(Name::new(&name));
                            // The declared type of the instance attribute.
                            let attr = class.mangled(&name);
                            if !class.declared.contains(&attr) {
                                class.declared.push(attr.clone());
                            }
                            class.attr_types.insert(attr, declared);
                        }
                        if assign.value.is_some() {
                            class.add_class_name(&name);
                        }
                    }
                    if let Some(value) = &assign.value {
                        self.visit_expr(value);
                    }
                }
                Stmt::FunctionDef(def) => {
                    let class = &mut self.summary.classes[idx];
                    class.add_class_name(&def.name);
                    let name = class.mangled(&def.name);
                    class.methods.push(name);
                    self.method(idx, def);
                }
                Stmt::ClassDef(def) => {
                    self.summary.classes[idx].add_class_name(&def.name);
                    self.visit_class(def);
                }
                Stmt::Expr(_) | Stmt::Pass(_) => self.visit_stmt(stmt),
                Stmt::Import(_) | Stmt::ImportFrom(_) => {
                    let mut names = Vec::new();
                    if let Stmt::Import(i) = stmt {
                        for a in &i.names {
                            names.push(a.asname.as_ref().unwrap_or(&a.name).to_string());
                        }
                    }
                    if let Stmt::ImportFrom(i) = stmt {
                        for a in &i.names {
                            names.push(a.asname.as_ref().unwrap_or(&a.name).to_string());
                        }
                    }
                    for name in names {
                        self.summary.classes[idx].add_class_name(&name);
                    }
                }
                _ => {
                    // Conditional or looping class bodies define names we would have to
                    // track per branch; rather than guess, leave such classes alone.
                    self.summary.classes[idx].block(Blocker::ComplexBody);
                    self.visit_stmt(stmt);
                }
            }
        }
        self.statement = outer_statement;
    }

    fn method(&mut self, idx: usize, def: &'m ast::StmtFunctionDef) {
        let mut is_static = false;
        let mut is_classmethod = false;
        for dec in &def.decorator_list {
            let callable = map_callable(&dec.expression);
            let dotted = self.resolve(callable);
            match dotted.as_deref() {
                Some("builtins.staticmethod") => is_static = true,
                Some("builtins.classmethod") => is_classmethod = true,
                Some("builtins.property") | Some("abc.abstractproperty") => {
                    let name = self.summary.classes[idx].mangled(&def.name);
                    self.summary.classes[idx].properties.push(name);
                }
                Some("functools.cached_property") => {
                    self.summary.classes[idx].block(Blocker::CachedProperty);
                }
                _ => {
                    if let Expr::Attribute(a) = callable
                        && matches!(a.attr.as_str(), "setter" | "getter" | "deleter")
                    {
                        let name = self.summary.classes[idx].mangled(&def.name);
                        self.summary.classes[idx].properties.push(name);
                    } else if let Some(d) = &dotted
                        && d.ends_with("cached_property")
                    {
                        self.summary.classes[idx].block(Blocker::CachedProperty);
                    }
                }
            }
            self.visit_decorator(dec);
        }
        let first = def
            .parameters
            .posonlyargs
            .iter()
            .chain(def.parameters.args.iter())
            .next()
            .map(|p| p.parameter.name.to_string());
        let name = def.name.as_str();
        let class = &mut self.summary.classes[idx];
        match name {
            "__getstate__" | "__setstate__" | "__reduce__" | "__reduce_ex__" => {
                class.block(Blocker::CustomPickle(name.to_string()));
            }
            "__setattr__" | "__delattr__" => {
                let reason = Unproven::Defines(name.to_string());
                if !class.unproven.contains(&reason) {
                    class.unproven.push(reason);
                }
            }
            _ => {}
        }
        // A base that reads or sets its subclasses' `__slots__` when they are created
        // (in `__init_subclass__`, or as a metaclass), or a metaclass that does it for
        // its classes: another `__slots__` may clash with what it does. So does one
        // that makes a slotted class of them (networkx's `Config.__new__` calls
        // `dataclass(slots=cls._strict, ...)(cls)`: "already specifies __slots__").
        if matches!(
            name,
            "__init_subclass__" | "__new__" | "__init__" | "__call__" | "__prepare__"
        ) && {
            let text = &self.source.source()[def.range()];
            text.contains("__slots__") || text.contains("slots=")
        } {
            class.manages_slots = true;
        }
        // `__init_subclass__` and `__class_getitem__` are implicit classmethods.
        let implicit_classmethod = matches!(name, "__init_subclass__" | "__class_getitem__");
        let (self_name, cls_name) = if is_static || name == "__new__" {
            (None, None)
        } else if is_classmethod || implicit_classmethod {
            (None, first.map(|f| (f, idx)))
        } else {
            // `def __init__(*args, **kwargs): self, args = args[0], args[1:]`: the
            // writes on the instance are on a name the analysis cannot tie to it.
            if first.is_none() && def.parameters.vararg.is_some() {
                self.summary.classes[idx].block(Blocker::SelfInVarargs(name.to_string()));
            }
            (first.map(|f| (f, idx)), None)
        };
        let class_dotted = self.class_dotted(idx);
        let method = self.summary.classes[idx].mangle(name);
        for (position, p) in def.parameters.iter_non_variadic_params().enumerate() {
            if let Some(annotation) = &p.parameter.annotation
                && let Some(Shape::Instances(members)) =
                    types::annotation(annotation, &|e| self.resolve_type(e), Some(&class_dotted))
                && !members.is_empty()
            {
                let param = (
                    method.clone(),
                    position,
                    p.parameter.name.to_string(),
                    members,
                );
                self.summary.classes[idx].params.push(param);
            }
        }
        // An override is called through its base's signature; a constructor is not
        // (each class's `__init__` takes what its own callers pass).
        // A class without bases overrides nothing: spared a deferred type per parameter
        // (each would make the facts about it distinct).
        let has_base = self.summary.classes[idx]
            .bases
            .iter()
            .any(|b| b.dotted() != Some("builtins.object"));
        let overridable = has_base && !matches!(name, "__init__" | "__new__" | "__init_subclass__");
        let inherited = |position: usize, param: &str| {
            (overridable && position > 0).then(|| {
                TypeRef::Inherited(Box::new(InheritedParam {
                    class: class_dotted.clone(),
                    method: method.clone(),
                    position,
                    name: param.to_string(),
                }))
            })
        };
        let locals = self.function_locals(def, &inherited);
        // Methods of module-level classes are recorded (`Cls.create`), when nothing
        // but `staticmethod`/`classmethod` wraps them.
        let plain = def.decorator_list.len() == usize::from(is_static || is_classmethod);
        // An `async def` returns a coroutine, whatever its base declares.
        if overridable && plain && !def.is_async && def.returns.is_none() {
            self.summary.classes[idx]
                .unannotated_returns
                .push(method.clone());
        }
        let key = (plain && !self.summary.classes[idx].in_function).then(|| {
            // One per method: joined without the formatting machinery.
            let qualname = &self.summary.classes[idx].qualname;
            let mut key = String::with_capacity(qualname.len() + 1 + def.name.len());
            key.push_str(qualname);
            key.push('.');
            key.push_str(&def.name);
            key
        });
        self.visit_function_body(def, self_name, cls_name, locals, key);
    }

    /// The names a function binds (parameters and call results), after visiting the
    /// parameter defaults, which run in the enclosing scope. A parameter rebound in
    /// the body says nothing; an annotated one that is not holds what its annotation
    /// says. The writes on function objects in the body are noted on the way
    /// ([`function_object_writes`]): both read the body's `global`/`nonlocal`.
    ///
    /// `inferred` gives what an unannotated parameter that is not rebound holds, by its
    /// position and name, when something other than its own annotation says.
    pub(super) fn function_locals(
        &mut self,
        def: &'m ast::StmtFunctionDef,
        inferred: &dyn Fn(usize, &str) -> Option<TypeRef>,
    ) -> HashMap<&'m str, Binding<'m>> {
        let mut locals = call_bindings(&def.body, &self.binders);
        let declared = declarations(&def.body);
        self.function_writes
            .extend(function_object_writes(&def.body, declared.nonlocal));
        // A name declared `global`/`nonlocal` here is not this scope's to type, and a
        // nested function declaring it `nonlocal` may rebind it whenever it runs.
        for name in declared.names {
            locals.insert(name, Binding::Declared);
        }
        for (position, p) in def.parameters.iter_non_variadic_params().enumerate() {
            let name = p.parameter.name.as_str();
            let binding = match (&p.parameter.annotation, locals.get(name)) {
                (Some(annotation), None) => Binding::Annotated(annotation.as_ref()),
                (Some(annotation), Some(other @ Binding::Call(..))) => {
                    Binding::Either(annotation.as_ref(), Box::new(other.clone()))
                }
                (None, None) => inferred(position, name)
                    .map_or(Binding::Unknown, |t| Binding::Inferred(vec![t])),
                _ => Binding::Unknown,
            };
            locals.insert(name, binding);
            if let Some(default) = &p.default {
                self.visit_expr(default);
            }
        }
        for p in [&def.parameters.vararg, &def.parameters.kwarg]
            .into_iter()
            .flatten()
        {
            locals.insert(p.name.as_str(), Binding::Unknown);
        }
        locals
    }

    /// Visits a function's body in its own scope; `key` is its name in
    /// [`FileSummary::returns`](super::FileSummary::returns) when what it returns is
    /// recorded.
    pub(super) fn visit_function_body(
        &mut self,
        def: &'m ast::StmtFunctionDef,
        self_name: Option<(String, usize)>,
        cls_name: Option<(String, usize)>,
        locals: HashMap<&'m str, Binding<'m>>,
        key: Option<String>,
    ) {
        self.scopes.push(Scope::Function {
            self_name,
            cls_name,
            locals,
        });
        // The declared return type, read inside the function's scope so that `Self`
        // means its class.
        let declared = def
            .returns
            .as_deref()
            .and_then(|r| match self.annotation(r) {
                Some(Shape::Instances(members)) => Some(members),
                _ => None,
            });
        let key = key.filter(|_| !def.is_async);
        if let Some(key) = &key
            && let Some(items) = def.returns.as_deref().and_then(|r| self.tuple_items(r))
        {
            self.summary.item_returns.insert(key.clone(), items);
        }
        self.functions.push(Returning {
            key,
            // A function that falls off its end returns `None`.
            types: Some(Vec::new()),
            declared,
        });
        // Pushed for every function, read only by a class inside one: no `format!`.
        let mut locals = String::with_capacity(def.name.len() + ".<locals>".len());
        locals.push_str(&def.name);
        locals.push_str(".<locals>");
        self.qual.push(locals);
        // Values bound in the enclosing function may be rebound before this one runs.
        let enclosing = std::mem::take(&mut self.flow);
        self.visit_body(&def.body);
        self.flow = enclosing;
        self.qual.pop();
        if let Some(done) = self.functions.pop()
            && let Some(key) = done.key
            && let Some(types) = done.declared.or(done.types)
            && !types.is_empty()
        {
            self.summary.returns.insert(key, types);
        }
        self.scopes.pop();
    }

    /// A `return` of a value of type `value` (`None`: not known).
    pub(super) fn returned(&mut self, value: Option<Vec<TypeRef>>) {
        if let Some(f) = self.functions.last_mut() {
            f.types = match (f.types.take(), value) {
                (Some(mut all), Some(value)) => {
                    all.extend(value);
                    all.sort();
                    all.dedup();
                    Some(all)
                }
                _ => None,
            };
        }
    }
}
