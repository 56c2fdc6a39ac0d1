//! Per-file summaries for the `slots` transform: every class with what decides whether
//! it can take `__slots__`, plus the facts about instances that other files need
//! (attribute writes from outside a class, weak references, `vars()`, ...).
//!
//! Names are resolved through the file's own imports here, to absolute dotted names
//! (`pkg.models.Base`); [`super::decide`] resolves those against the whole project.

use litemap::LiteMap;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::hash::BuildHasher;

use ruff_python_ast::PythonVersion;
use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::helpers::{map_callable, map_subscript};
use ruff_python_ast::name::{Name, UnqualifiedName};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::semantic::{self, Names};
use crate::suppression::Suppressions;
use crate::syntax::target_names;
use crate::{FileContext, SourceModule};

use thin_vec::ThinVec;

use super::safety::Blocker;
use super::signature::{CallShape, Param, ParamKind, Signature};
use super::types::{self, InheritedParam, Shape, TypeRef};
use super::verdict::Unproven;

/// Everything the project analysis needs from one file.
#[derive(Debug, Default)]
pub struct FileSummary {
    /// Dotted module name.
    pub module: String,
    /// The file's target version (dataclass `slots=True` needs 3.10).
    pub target: Option<PythonVersion>,
    /// Read for the index only ([`crate::FileContext::read_only`]): its classes are
    /// bases, subclasses and receiver types like any other, but get no plan.
    pub read_only: bool,
    /// Local name → absolute dotted target, for re-exports (`from .models import Base`).
    pub imports: HashMap<String, String>,
    /// Module-level names bound to a call (`default = Config()`): name → callee.
    pub module_instances: HashMap<String, String>,
    /// Module-level names bound only by an undecorated `def` or `class`: a function or
    /// class object, never an instance.
    pub module_functions: HashSet<String>,
    /// What the project's functions return, when every `return` (or the return
    /// annotation) says: `f` for module-level functions, `Cls.m` for methods of
    /// module-level classes.
    pub returns: HashMap<String, Vec<TypeRef>>,
    /// What the module-level functions taking a callable first (decorators) say they
    /// pass it first: `Context` for `def pass_context(f: Callable[Concatenate[Context,
    /// P], R])`.
    pub passes_first: HashMap<String, Vec<TypeRef>>,
    /// What the items of the tuples the project's functions are declared to return
    /// (`-> tuple[A, B | None]`) are, keyed like [`Self::returns`]: `None` for an item
    /// that is not instances of known classes.
    pub item_returns: HashMap<String, Vec<Option<Vec<TypeRef>>>>,
    /// The signatures of module-level functions (their `@overload`s and definition),
    /// for decorator factories.
    pub signatures: HashMap<String, Vec<Signature>>,
    /// The classes, in source order.
    pub classes: Vec<ClassSummary>,
    /// Facts about objects that may be instances of any project class.
    pub facts: Vec<Fact>,
}

/// A base-class, decorator or metaclass expression, resolved as far as this file can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// An absolute dotted name (`pkg.models.Base`, `builtins.object`).
    Dotted(String),
    /// A name this file neither defines nor imports (star import, typo), or an
    /// expression that is not a name (`namedtuple(...)`): its source text.
    Unresolved(String),
}

impl Ref {
    /// The dotted name, when there is one.
    pub fn dotted(&self) -> Option<&str> {
        match self {
            Ref::Dotted(d) => Some(d),
            Ref::Unresolved(_) => None,
        }
    }

    /// A short name for messages.
    pub fn display(&self) -> &str {
        match self {
            Ref::Dotted(d) => d.rsplit('.').next().unwrap_or(d),
            Ref::Unresolved(t) => t,
        }
    }
}

/// What an object expression may be, as far as one file can tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Receiver {
    /// `self` in a method of this file's class (index into [`FileSummary::classes`]).
    SelfOf(usize),
    /// `cls` in a classmethod, or `type(self)`: the class object itself.
    ClassOf(usize),
    /// A name bound only to calls of this callee (`x = Foo()`): an instance of it when
    /// the callee is a class.
    Instance(Name),
    /// A global name or attribute chain (`models.default`, `Foo`).
    Global(Name),
    /// A name bound only by an undecorated `def` or `class`, or a caught exception:
    /// not an instance of a class that can take slots.
    Definition,
    /// An object whose type is known from annotations, `isinstance` checks or what a
    /// function returns: one of these (a union).
    Typed(Vec<TypeRef>),
    /// `self.attr` or `obj.attr` with `obj` of known type: what the owner's class
    /// stores there; with `item`, an element of it (`self.items[0]`, the variable of
    /// `for x in obj.items`).
    AttrOf {
        /// Whose attribute it is.
        owner: Owner,
        /// The attribute (mangled for `self` in its class).
        attr: Name,
        /// An element of the attribute's container, not the attribute itself.
        item: bool,
    },
    /// What a library method known to build its result returns (see [`PRODUCERS`]):
    /// a new instance of `class`, made by `api` (`argparse.ArgumentParser.parse_args`).
    Produced {
        /// The library method, as `module.Class.method`.
        api: Name,
        /// The class of the new object it returns.
        class: Name,
    },
    /// `owner.attr` right after `owner.attr = value` with nothing run in between: what
    /// `value` is, when the owner's classes keep a plain attribute of that name.
    Stored {
        /// The object written to.
        owner: Box<Receiver>,
        /// The attribute.
        attr: Name,
        /// What was stored.
        value: Box<Receiver>,
    },
    /// Anything else: a parameter, an attribute of something, a subscript...
    Unknown,
}

impl Receiver {
    /// Unknown here, or typed in a way only the project decision reads (an inherited
    /// or decorator-given parameter type), which may turn out unknown there.
    pub fn may_be_unknown(&self) -> bool {
        match self {
            Receiver::Unknown => true,
            Receiver::Typed(members) => members.iter().any(TypeRef::is_deferred),
            _ => false,
        }
    }
}

/// The first call a name is bound to; bindings to calls of the same callee agree
/// whatever their arguments, so any of them stands for all.
#[derive(Debug, Clone)]
struct FirstCall<'a>(&'a ast::ExprCall);

impl PartialEq for FirstCall<'_> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// An expression compared by what it says, not where it is.
#[derive(Debug, Clone)]
struct SameExpr<'a>(&'a Expr);

impl PartialEq for SameExpr<'_> {
    fn eq(&self, other: &Self) -> bool {
        ComparableExpr::from(self.0) == ComparableExpr::from(other.0)
    }
}

/// The object whose attribute a [`Receiver::AttrOf`] reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// `self` in a method of this file's class (index into [`FileSummary::classes`]).
    SelfOf(usize),
    /// An object of one of these types.
    Typed(Vec<TypeRef>),
}

/// How every binding of a name in one scope binds it, when they all agree.
#[derive(Debug, Clone, PartialEq)]
enum Binding<'a> {
    /// `x = callee(...)`: the callee, as written, and the first such call.
    Call(String, FirstCall<'a>),
    /// A parameter annotated with a type and rebound in the body in one known way
    /// (`state: BlockState` then `state = BlockState(parent=state)`): either.
    Either(&'a Expr, Box<Binding<'a>>),
    /// An undecorated `def`: a function object.
    Function,
    /// A decorated `def`: what its outermost decorator makes of it.
    Decorated(&'a Expr),
    /// An undecorated `class`: a class object; `bare` when it names no base, metaclass
    /// or other keyword (its instances are instances of no other class).
    Class {
        /// No bases or keywords.
        bare: bool,
    },
    /// An annotated parameter or variable (`p: Point`, `x: list[Point] = []`).
    Annotated(&'a Expr),
    /// An unannotated parameter whose type something else says (an overridden
    /// method's annotation, a decorator's).
    Inferred(Vec<TypeRef>),
    /// `for x in iterable:`: an element of the iterable.
    ElementOf(&'a Expr),
    /// `a, b = call(...)`: the item at this position of what the call returns (the
    /// same call written twice binds the same way).
    Item(SameExpr<'a>, usize),
    /// `x = obj.attr`, `x = items[i]`, `x = y`: what that expression gives.
    Value(&'a Expr),
    /// `except E as e:`: a caught exception.
    Caught,
    /// Bound in different ways, or in a way that says nothing.
    Unknown,
    /// Declared `global` or `nonlocal` in the function or a nested one: any call may
    /// rebind it.
    Declared,
}

impl Binding<'_> {
    fn is_plain_definition(&self) -> bool {
        matches!(self, Binding::Function | Binding::Class { .. })
    }
}

/// A fact about some object that matters to every class whose instances it may be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fact {
    /// `obj.attr = ...`, `setattr(obj, "attr", ...)`, `mock.patch.object(obj, "attr")`.
    AttrWrite(Receiver, Name),
    /// `obj.attr = ...` on an object that just had `attr` read (`while obj is not None
    /// and obj.attr: obj.attr = False`), of a type only the project decision may know
    /// ([`Receiver::may_be_unknown`]): when it does not, the object has an attribute of
    /// that name, so it is no instance of a class without one.
    GuardedWrite(Receiver, Name),
    /// `weakref.ref(obj)` and friends; weak containers record [`Receiver::Unknown`].
    Weakref(Receiver),
    /// `vars(obj)` or `obj.__dict__`.
    DictAccess(Receiver),
    /// `setattr(obj, name, ...)` / `delattr` with a computed name.
    DynamicSetattr(Receiver),
    /// `obj.__class__ = ...`.
    ClassAssign(Receiver),
    /// Pickles are loaded somewhere (old pickles hold dict state).
    PickleLoad,
    /// Pickle protocol 0 or 1, or `copyreg`, is used.
    OldPickle,
    /// `self`, or an object that may be an instance, is passed to a call (`callee`
    /// resolved when it is a name).
    Escape(Receiver, Option<Name>),
    /// An object that may be an instance is passed to a call of another object whose
    /// type the project decision may know (`plugin(self)` with `plugin` an element of
    /// `self.plugins: list[Plugin]`): harmless when that type's `__call__` is project
    /// code.
    CalledEscape(Receiver, Box<Receiver>),
    /// `Cls.register(other)`: `Cls` is an ABC whose `isinstance` holds for classes
    /// that do not derive from it.
    Registered(String),
    /// A bound method `self.name` is passed to a call: the callee may keep a weak
    /// reference to the instance (signal libraries do).
    MethodEscape(usize, String, Option<String>),
}

/// One class, summarised.
#[derive(Debug, Default)]
pub struct ClassSummary {
    /// `Outer.Inner`; classes inside functions get `f.<locals>.Name`.
    pub qualname: String,
    /// Defined inside a function (a new class per call; skipped).
    pub in_function: bool,
    /// Silenced by `# pyslim: ignore` on its line.
    pub suppressed: bool,
    /// Its body starts on the `class` line (`class A: pass`).
    pub one_line: bool,
    /// Base expressions (subscripts mapped to their value: `Generic[T]` → `Generic`).
    pub bases: ThinVec<Ref>,
    /// `metaclass=...`.
    pub metaclass: Option<Box<Ref>>,
    /// Class keywords other than `metaclass`.
    pub other_keywords: bool,
    /// Decorators (their callable: `dataclass(frozen=True)` → `dataclasses.dataclass`).
    pub decorators: ThinVec<Ref>,
    /// `Some(value of slots=)` when decorated with `dataclasses.dataclass`; the value is
    /// `None` when `slots=` is not given, `Some(true)` for `slots=True`.
    pub dataclass: Option<Option<bool>>,
    /// Position of the `dataclass` decorator in the decorator list.
    pub dataclass_decorator: u32,
    /// `__slots__` in the body: `Some(Some(names))` for a literal, `Some(None)` otherwise.
    pub slots: Option<Option<Vec<String>>>,
    /// Names bound in the class body with a value (defaults, methods, nested classes),
    /// and `Cls.x = ...` / `cls.x = ...` written after creation.
    pub class_names: ThinVec<Name>,
    /// Names defined as properties (writes go through their setter, not a slot).
    pub properties: ThinVec<Name>,
    /// Methods defined in the body.
    pub methods: ThinVec<Name>,
    /// The annotated parameters of those methods: (method, position with `self`
    /// included, name, the instances the annotation allows).
    pub params: ThinVec<(String, usize, String, Vec<TypeRef>)>,
    /// Methods that override nothing visible here yet may override a base's, defined
    /// without a return annotation: called through a base, each returns what the
    /// base declares (the decision checks a base defines it).
    pub unannotated_returns: ThinVec<String>,
    /// Annotated class-level names that are dataclass fields (not `ClassVar`).
    pub fields: ThinVec<Name>,
    /// Attributes written on `self`, in first-assignment order.
    pub attrs: ThinVec<Name>,
    /// What each attribute written on `self` holds, when every assignment in the class
    /// says (`None`: not known); a class-level annotation is its declared type.
    pub attr_types: LiteMap<Name, Option<Shape>>,
    /// Attributes annotated at class level (their declared type wins).
    pub declared: ThinVec<Name>,
    /// What class-level names set to a name are (`state_cls = BlockState`: the
    /// dotted name), `None` when a name is set otherwise too (another value, `cls.x =
    /// ...` in a classmethod): calling `self.state_cls(...)` makes what it names.
    pub class_values: LiteMap<Name, Option<String>>,
    /// `__init_subclass__` (or, for a metaclass, `__new__`/`__init__`/`__call__`)
    /// reads or sets `__slots__`: the class manages the slots of its subclasses.
    pub manages_slots: bool,
    /// Reasons the class cannot take slots.
    pub blockers: ThinVec<Blocker>,
    /// Things that leave the rewrite unproven (the fix is then unsafe).
    pub unproven: ThinVec<Unproven>,
    /// A method calls zero-argument `super()` (or reads `__class__`).
    pub zero_arg_super: bool,
}

impl ClassSummary {
    fn add_attr(&mut self, name: &str) {
        let name = self.mangled(name);
        if !self.attrs.contains(&name) {
            self.attrs.push(name);
        }
    }

    fn add_class_name(&mut self, name: &str) {
        let name = self.mangled(name);
        if !self.class_names.contains(&name) {
            self.class_names.push(name);
        }
    }

    /// [`Self::mangle`] as a [`Name`], which holds a short name without an allocation
    /// of its own (a project's classes hold tens of thousands of names).
    fn mangled(&self, name: &str) -> Name {
        self.private_name(name)
            .map_or_else(|| Name::new(name), Name::new)
    }

    /// The name a private `__x` written in this class's body really has (`_Cls__x`), so
    /// that a subclass's `__x` is not taken for its base's.
    pub fn mangle(&self, name: &str) -> String {
        self.private_name(name).unwrap_or_else(|| name.to_string())
    }

    /// `_Cls__x` for a private `__x`; `None` for a name that is not mangled.
    fn private_name(&self, name: &str) -> Option<String> {
        let simple = self.qualname.rsplit('.').next().unwrap_or(&self.qualname);
        let stripped = simple.trim_start_matches('_');
        (name.starts_with("__") && !name.ends_with("__") && !stripped.is_empty())
            .then(|| format!("_{stripped}{name}"))
    }

    fn block(&mut self, blocker: Blocker) {
        if !self.blockers.contains(&blocker) {
            self.blockers.push(blocker);
        }
    }
}

/// Summarises one file.
pub fn index_file(ctx: &FileContext) -> FileSummary {
    let module = ctx.module;
    let body = &module.ast().body;
    let mut summary = FileSummary {
        module: ctx.info.name.clone(),
        target: Some(ctx.settings.target_version),
        read_only: ctx.read_only,
        ..FileSummary::default()
    };
    let mut imports = ImportCollector {
        info: ctx.info,
        imports: HashMap::default(),
    };
    imports.visit_body(body);
    summary.imports = imports.imports;
    // Every name bound at module level, in `if`/`try` blocks too.
    let mut module_bindings = call_bindings(body);
    // A function may rebind a module-level name it declares `global`.
    for name in declarations(body).names {
        if let Some(binding) = module_bindings.get_mut(&name) {
            *binding = Binding::Unknown;
        }
    }
    let module_names = module_bindings.keys().cloned().collect();
    summary.module_functions = module_bindings
        .iter()
        .filter(|(_, b)| b.is_plain_definition())
        .map(|(n, _)| n.clone())
        .collect();
    let mut indexer = Indexer {
        summary,
        source: module,
        suppressions: Suppressions::from_module(module),
        scopes: vec![Scope::Module {
            calls: module_bindings.clone(),
        }],
        qual: Vec::new(),
        names: Names::new(body),
        narrowed: Vec::new(),
        excluded: Vec::new(),
        typevars: HashMap::default(),
        module_names,
        function_writes: HashSet::default(),
        functions: Vec::new(),
        value_depth: std::cell::Cell::new(0),
        previous: None,
        flow: Vec::new(),
        no_flow: std::cell::Cell::new(false),
        fact_hashes: HashMap::default(),
    };
    for (name, binding) in &module_bindings {
        if let Binding::Call(callee, _) = binding
            && let Receiver::Instance(class) = indexer.instance_of(callee)
        {
            indexer
                .summary
                .module_instances
                .insert(name.clone(), class.to_string());
        }
    }
    indexer.typevars = indexer.typevars_in(body, &module_bindings);
    indexer.visit_body(body);
    let mut summary = indexer.summary;
    summary.compact();
    summary
}

impl FileSummary {
    /// Gives back the spare capacity of its growing lists: every file's summary is held
    /// until the whole project is indexed.
    fn compact(&mut self) {
        // Only a function some signature of which says what calling its result gives
        // can type a decorated function; most say nothing.
        self.signatures
            .retain(|_, signatures| signatures.iter().any(|s| s.then.is_some()));
        self.imports.shrink_to_fit();
        self.module_instances.shrink_to_fit();
        self.module_functions.shrink_to_fit();
        self.returns.shrink_to_fit();
        self.passes_first.shrink_to_fit();
        self.item_returns.shrink_to_fit();
        self.signatures.shrink_to_fit();
        self.classes.shrink_to_fit();
        self.facts.shrink_to_fit();
        for class in &mut self.classes {
            for list in [
                &mut class.class_names,
                &mut class.properties,
                &mut class.methods,
                &mut class.fields,
                &mut class.attrs,
                &mut class.declared,
            ] {
                list.shrink_to_fit();
            }
            // A list grown by one push keeps room for four: most classes have one base.
            for list in [&mut class.bases, &mut class.decorators] {
                list.shrink_to_fit();
            }
            class.params.shrink_to_fit();
            class.unannotated_returns.shrink_to_fit();
            class.blockers.shrink_to_fit();
            class.unproven.shrink_to_fit();
            shrink_map(&mut class.attr_types);
            shrink_map(&mut class.class_values);
        }
    }
}

/// Gives back a [`LiteMap`]'s spare capacity (it has no `shrink_to_fit` of its own).
fn shrink_map<K: Ord, V>(map: &mut LiteMap<K, V>) {
    let mut entries = std::mem::take(map).into_tuple_vec();
    entries.shrink_to_fit();
    // The entries come out of a map, so they are sorted and unique.
    *map = LiteMap::from_sorted_store_unchecked(entries);
}

/// A library method that builds the object it returns unless it is given one.
pub struct Producer {
    /// The library class, as constructed (`argparse.ArgumentParser`).
    pub owner: &'static str,
    /// The method.
    pub method: &'static str,
    /// `None`: the whole result is the new object; `Some(i)`: item `i` of the tuple
    /// it returns is.
    pub item: Option<usize>,
    /// The keyword of the parameter through which a caller's object is returned
    /// instead ...
    pub passed_as: &'static str,
    /// ... and how many positional arguments come before it.
    pub passed_at: usize,
    /// The class of the new object.
    pub class: &'static str,
}

/// Library methods whose result is a new object of the library's own class, as their
/// documentation and source say (`argparse`: `if namespace is None: namespace =
/// Namespace()`; `optparse`: `values = self.get_default_values()`), unless the caller
/// passes the object to fill. Such a result is never an instance of a project class,
/// so `vars(parser.parse_args())`, the usual way to turn options into a dict, says
/// nothing about the project's classes. Only calls on an object built by the library
/// class itself count (a project subclass may override the method), and the project
/// decision still checks that the project does not replace the method
/// ([`super::decide`]).
pub const PRODUCERS: &[Producer] = &[
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_args",
        item: None,
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_intermixed_args",
        item: None,
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_known_args",
        item: Some(0),
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_known_intermixed_args",
        item: Some(0),
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "optparse.OptionParser",
        method: "parse_args",
        item: Some(0),
        passed_as: "values",
        passed_at: 1,
        class: "optparse.Values",
    },
];

struct ImportCollector<'p> {
    info: &'p crate::ModuleInfo,
    imports: HashMap<String, String>,
}

impl<'a> Visitor<'a> for ImportCollector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let full = alias.name.to_string();
                    match &alias.asname {
                        Some(asname) => {
                            self.imports.insert(asname.to_string(), full);
                        }
                        None => {
                            // `import a.b` binds `a`.
                            let root = full.split('.').next().unwrap_or(&full).to_string();
                            self.imports.insert(root.clone(), root);
                        }
                    }
                }
            }
            Stmt::ImportFrom(import) => {
                let base = if import.level == 0 {
                    Some(
                        import
                            .module
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_default(),
                    )
                } else {
                    semantic::resolve_relative(
                        &self.info.name,
                        self.info.is_package,
                        import.level,
                        import.module.as_ref().map(|m| m.as_str()),
                    )
                };
                let Some(base) = base else { return };
                for alias in &import.names {
                    if &alias.name == "*" {
                        continue;
                    }
                    let local = alias.asname.as_ref().unwrap_or(&alias.name).to_string();
                    let target = if base.is_empty() {
                        alias.name.to_string()
                    } else {
                        format!("{base}.{}", alias.name)
                    };
                    self.imports.insert(local, target);
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    // Imports are statements: the expressions (most of a file) are not walked.
    fn visit_expr(&mut self, _: &'a Expr) {}
}

/// Names bound in a scope (not descending into nested functions or classes), with how
/// they are bound when every binding agrees ([`Binding::Unknown`] otherwise).
fn call_bindings(body: &[Stmt]) -> HashMap<String, Binding<'_>> {
    struct Bindings<'a> {
        out: HashMap<String, Binding<'a>>,
    }
    impl<'a> Bindings<'a> {
        fn bind(&mut self, name: &str, binding: Binding<'a>) {
            match self.out.get(name) {
                None => {
                    self.out.insert(name.to_string(), binding);
                }
                Some(prev) if *prev == binding => {}
                Some(_) => {
                    self.out.insert(name.to_string(), Binding::Unknown);
                }
            }
        }
    }
    impl<'a> Visitor<'a> for Bindings<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                // A decorator may return anything (`@click.command()` returns an
                // instance), so only undecorated definitions are known objects.
                Stmt::FunctionDef(def) => {
                    let binding = match def.decorator_list.first() {
                        None => Binding::Function,
                        Some(outermost) => Binding::Decorated(&outermost.expression),
                    };
                    self.bind(&def.name, binding);
                }
                Stmt::ClassDef(def) => {
                    let binding = if def.decorator_list.is_empty() {
                        Binding::Class {
                            bare: def.arguments.is_none(),
                        }
                    } else {
                        Binding::Unknown
                    };
                    self.bind(&def.name, binding);
                }
                Stmt::Assign(assign) => {
                    // `x = callee(...)`, and `sys.stdin = x = callee(...)`: every
                    // target gets the same object.
                    if let Expr::Call(call) = assign.value.as_ref()
                        && let Some(callee) = UnqualifiedName::from_expr(&call.func)
                        && assign.targets.iter().any(Expr::is_name_expr)
                        && assign.targets.iter().all(|t| {
                            matches!(t, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_))
                        })
                    {
                        for target in &assign.targets {
                            match target {
                                Expr::Name(name) => {
                                    self.bind(
                                        &name.id,
                                        Binding::Call(callee.to_string(), FirstCall(call)),
                                    );
                                }
                                other => self.visit_expr(other),
                            }
                        }
                        self.visit_expr(&assign.value);
                        return;
                    }
                    // `opts, args = parser.parse_args()`: each name is an item of the
                    // call's result (no starred target, which would shift them).
                    if let ([Expr::Tuple(t)], Expr::Call(_)) =
                        (assign.targets.as_slice(), assign.value.as_ref())
                        && t.elts.iter().all(Expr::is_name_expr)
                    {
                        for (i, elt) in t.elts.iter().enumerate() {
                            if let Expr::Name(name) = elt {
                                self.bind(&name.id, Binding::Item(SameExpr(&assign.value), i));
                            }
                        }
                        self.visit_expr(&assign.value);
                        return;
                    }
                    // `x = obj.attr`, `x = items[-1]`, `x = y`, `x = make().copy()`: what
                    // the expression gives, read where the name is used (see
                    // `Indexer::bound`).
                    if let [Expr::Name(name)] = assign.targets.as_slice()
                        && matches!(
                            assign.value.as_ref(),
                            Expr::Attribute(_) | Expr::Subscript(_) | Expr::Name(_) | Expr::Call(_)
                        )
                    {
                        self.bind(&name.id, Binding::Value(&assign.value));
                        self.visit_expr(&assign.value);
                        return;
                    }
                    visitor::walk_stmt(self, stmt);
                }
                // `x: Point = ...` (or a bare `x: Point`): the declared type.
                Stmt::AnnAssign(assign) if assign.target.is_name_expr() => {
                    if let Expr::Name(name) = assign.target.as_ref() {
                        self.bind(&name.id, Binding::Annotated(&assign.annotation));
                    }
                    if let Some(value) = &assign.value {
                        self.visit_expr(value);
                    }
                }
                Stmt::For(f) if f.target.is_name_expr() => {
                    if let Expr::Name(name) = f.target.as_ref() {
                        self.bind(&name.id, Binding::ElementOf(&f.iter));
                    }
                    self.visit_expr(&f.iter);
                    self.visit_body(&f.body);
                    self.visit_body(&f.orelse);
                }
                Stmt::Import(_) | Stmt::ImportFrom(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(name) if name.ctx == ExprContext::Store => {
                    self.bind(&name.id, Binding::Unknown)
                }
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
        fn visit_parameters(&mut self, _: &'a ast::Parameters) {}
        fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            if let Some(name) = &h.name {
                self.bind(name.as_str(), Binding::Caught);
            }
            visitor::walk_except_handler(self, handler);
        }
    }
    let mut b = Bindings {
        out: HashMap::default(),
    };
    b.visit_body(body);
    b.out
}

enum Scope<'a> {
    Module {
        calls: HashMap<String, Binding<'a>>,
    },
    Class {
        /// Nested class names, so `class B(A)` inside the same class body resolves.
        nested: HashMap<String, String>,
    },
    Function {
        self_name: Option<(String, usize)>,
        cls_name: Option<(String, usize)>,
        locals: HashMap<String, Binding<'a>>,
    },
}

/// A function whose return values are being collected.
struct Returning {
    /// Its key in [`FileSummary::returns`], when it is recorded there.
    key: Option<String>,
    /// The union of what its `return`s give; `None` once one is not known.
    types: Option<Vec<TypeRef>>,
    /// The declared return type (it wins over what the returns say).
    declared: Option<Vec<TypeRef>>,
}

struct Indexer<'m, 'src> {
    summary: FileSummary,
    source: &'m SourceModule<'src>,
    suppressions: Suppressions,
    scopes: Vec<Scope<'m>>,
    qual: Vec<String>,
    /// What the file binds: whether a bare name may be the builtin.
    names: Names<'m>,
    /// Every module-level name (functions, variables, classes). Only this file's
    /// indexing reads it, so it is not part of the summary held until the decision.
    module_names: HashSet<String>,
    /// `isinstance` narrowing in force: (scope depth, name, what it is).
    narrowed: Vec<(usize, String, Vec<TypeRef>)>,
    /// Where `name.attr = ...` writes on a function object (see
    /// [`function_object_writes`]): the start of the target.
    function_writes: HashSet<ruff_text_size::TextSize>,
    /// Module-level `TypeVar`s and their `bound=` (`None`: no bound).
    typevars: HashMap<String, Option<&'m Expr>>,
    /// `isinstance` checks known false (the `else` of one): (scope depth, name, the
    /// dotted classes it is not an instance of).
    excluded: Vec<(usize, String, Vec<String>)>,
    /// The functions being visited, innermost last.
    functions: Vec<Returning>,
    /// How many [`Binding::Value`] expressions are being read, one inside another
    /// (`a = b.x` with `b = a.y` would otherwise never end).
    value_depth: std::cell::Cell<u8>,
    /// The statement before the one being visited, in the same body.
    previous: Option<&'m Stmt>,
    /// What the statements visited so far in the current function bound where the
    /// visit is, one list per enclosing body: `name = value`, or `None` where a
    /// statement (re)binds the name some other way.
    flow: Vec<Vec<(&'m str, Option<&'m Expr>)>>,
    /// Reading a value bound earlier: its names are read as bound function-wide,
    /// since they may have been rebound since.
    no_flow: std::cell::Cell<bool>,
    /// Where the facts recorded so far are, by their hash: a file may record thousands,
    /// each recorded once.
    fact_hashes: HashMap<u64, Vec<usize>>,
}

impl<'m> Indexer<'m, '_> {
    /// Resolves a global name or attribute chain to an absolute dotted name.
    fn resolve(&self, expr: &Expr) -> Option<String> {
        let name = UnqualifiedName::from_expr(expr)?;
        let segments = name.segments();
        let (first, rest) = segments.split_first()?;
        if !self.is_global(first) {
            return None;
        }
        // Built in one allocation, sized for the whole name: this runs for nearly
        // every call and name of a file.
        let rest_len: usize = rest.iter().map(|s| s.len() + 1).sum();
        if self.names.may_be_builtin(first, expr.start())
            && !self.summary.imports.contains_key(*first)
            && !self.in_nested_class(first)
        {
            return Some(joined(&["builtins", first], rest, rest_len));
        }
        self.resolve_root_with(first, rest, rest_len)
    }

    fn resolve_root(&self, first: &str) -> Option<String> {
        self.resolve_root_with(first, &[], 0)
    }

    /// [`Self::resolve_root`] of `first`, then `.` and each of `rest` (`rest_len`:
    /// their length with the dots).
    fn resolve_root_with(&self, first: &str, rest: &[&str], rest_len: usize) -> Option<String> {
        for scope in self.scopes.iter().rev() {
            if let Scope::Class { nested, .. } = scope
                && let Some(q) = nested.get(first)
            {
                return Some(joined(&[&self.summary.module, q], rest, rest_len));
            }
        }
        if let Some(target) = self.summary.imports.get(first) {
            return Some(joined(&[target], rest, rest_len));
        }
        if self.module_names.contains(first) {
            return Some(joined(&[&self.summary.module, first], rest, rest_len));
        }
        // Possibly the builtin (a star import does not rule it out): an analysis that
        // must not miss `vars(self)` or `setattr(self, ...)` takes it for one.
        if semantic::is_builtin_name(first) && !self.names.bound_at_module(first) {
            return Some(joined(&["builtins", first], rest, rest_len));
        }
        None
    }

    /// Whether an enclosing class body defines a nested class of this name.
    fn in_nested_class(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| matches!(s, Scope::Class { nested } if nested.contains_key(name)))
    }

    fn to_ref(&self, expr: &Expr) -> Ref {
        let expr = map_subscript(expr);
        match self.resolve(expr) {
            Some(d) => Ref::Dotted(d),
            None => Ref::Unresolved(self.source.source()[expr.range()].to_string()),
        }
    }

    fn is_global(&self, name: &str) -> bool {
        for scope in self.scopes.iter().rev() {
            if let Scope::Function { locals, .. } = scope
                && locals.contains_key(name)
            {
                return false;
            }
        }
        true
    }

    /// What an object expression may be.
    fn receiver(&self, expr: &Expr) -> Receiver {
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
                if attr.attr.as_str() == "__class__"
                    && let Receiver::SelfOf(c) = self.receiver(&attr.value)
                {
                    return Receiver::ClassOf(c);
                }
                match UnqualifiedName::from_expr(expr) {
                    Some(n) if n.segments().first().is_some_and(|f| self.is_global(f)) => {
                        match self.resolve(expr) {
                            Some(d) => Receiver::Global(d.into()),
                            None => Receiver::Unknown,
                        }
                    }
                    _ => match self.attr_owner(&attr.value, attr.attr.as_str()) {
                        Some((owner, attr)) => Receiver::AttrOf {
                            owner,
                            attr,
                            item: false,
                        },
                        None => Receiver::Unknown,
                    },
                }
            }
            Expr::Call(call) => self.call_receiver(call),
            // `items[i]`: an element of a container of known elements; a slice
            // (`items[1:]`) is a container again.
            Expr::Subscript(sub) if !sub.slice.is_slice_expr() => self.elements_of(&sub.value),
            _ => Receiver::Unknown,
        }
    }

    /// The module-level `T = TypeVar("T", bound=...)` of `body`, bound only there.
    fn typevars_in(
        &self,
        body: &'m [Stmt],
        bindings: &HashMap<String, Binding<'m>>,
    ) -> HashMap<String, Option<&'m Expr>> {
        let mut out = HashMap::default();
        for stmt in body {
            if let Stmt::Assign(assign) = stmt
                && let ([Expr::Name(name)], Expr::Call(call)) =
                    (assign.targets.as_slice(), assign.value.as_ref())
                && matches!(bindings.get(name.id.as_str()), Some(Binding::Call(..)))
                && matches!(
                    self.resolve(&call.func).as_deref(),
                    Some("typing.TypeVar" | "typing_extensions.TypeVar")
                )
            {
                let bound = call.arguments.find_keyword("bound").map(|k| &k.value);
                out.insert(name.id.to_string(), bound);
            }
        }
        out
    }

    /// Whether `name` is bound, in the innermost function that binds it, only by a
    /// `class` statement without bases or keywords.
    fn is_local_bare_class(&self, name: &str) -> bool {
        for scope in self.scopes.iter().rev() {
            match scope {
                Scope::Function { locals, .. } => {
                    if let Some(binding) = locals.get(name) {
                        return matches!(binding, Binding::Class { bare: true });
                    }
                }
                Scope::Module { .. } => return false,
                Scope::Class { .. } => {}
            }
        }
        false
    }

    /// Starts visiting a body: gives the statement before the one that holds it.
    fn enter_body(&mut self) -> Option<&'m Stmt> {
        self.flow.push(Vec::new());
        self.previous.take()
    }

    /// Ends visiting a body, with what [`Self::enter_body`] gave.
    fn leave_body(&mut self, outer: Option<&'m Stmt>) {
        self.flow.pop();
        self.previous = outer;
    }

    /// Before a statement of a body: what it binds anywhere inside no longer holds an
    /// earlier value, in it or after it.
    fn before_stmt(&mut self, stmt: &'m Stmt) {
        // Most statements follow no value worth forgetting: spared the walk.
        if !self.flow.iter().flatten().any(|(_, value)| value.is_some()) {
            return;
        }
        match rebound_names(stmt) {
            Some(names) => {
                if let Some(current) = self.flow.last_mut() {
                    current.extend(names.into_iter().map(|n| (n, None)));
                }
            }
            // It may bind anything (`from m import *`, `match`): forget every value.
            None => {
                for entry in self.flow.iter_mut().flatten() {
                    entry.1 = None;
                }
            }
        }
    }

    /// After a statement of a body: `name = value` holds until something rebinds it.
    fn after_stmt(&mut self, stmt: &'m Stmt) {
        if let Stmt::Assign(assign) = stmt
            && let [Expr::Name(name)] = assign.targets.as_slice()
            && matches!(
                assign.value.as_ref(),
                Expr::Attribute(_) | Expr::Subscript(_) | Expr::Name(_) | Expr::Call(_)
            )
            && let Some(current) = self.flow.last_mut()
        {
            current.push((name.id.as_str(), Some(&assign.value)));
        }
        self.previous = Some(stmt);
    }

    /// The value `name` was last assigned in the straight-line code before the
    /// statement being visited (`sub_ctx = cmd.make_context(...)`), when nothing
    /// rebinds it in between.
    fn flow_value(&self, name: &str) -> Option<&'m Expr> {
        if self.no_flow.get() {
            return None;
        }
        for body in self.flow.iter().rev() {
            if let Some((_, value)) = body.iter().rev().find(|(n, _)| *n == name) {
                return *value;
            }
        }
        None
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
        // `cls(...)`, `type(self)(...)`: an instance of the class or a subclass.
        if let Receiver::ClassOf(c) = self.receiver(&call.func) {
            return Receiver::Typed(vec![TypeRef::Of(self.class_dotted(c))]);
        }
        if let produced @ Receiver::Produced { .. } = self.produced(call, None) {
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
            None => match call.func.as_ref() {
                Expr::Attribute(a) => self.method_result(&a.value, a.attr.as_str()),
                _ => Receiver::Unknown,
            },
        }
    }

    /// What `value.method(...)` returns when `value` is of known type: what the
    /// project decision finds the class's `method` (and every override) returns.
    fn method_result(&self, value: &Expr, method: &str) -> Receiver {
        if method.starts_with("__") {
            return Receiver::Unknown;
        }
        let Some(owners) = self.types_of(self.receiver(value)) else {
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
    fn attr_owner(&self, value: &Expr, attr: &str) -> Option<(Owner, Name)> {
        let private = attr.starts_with("__") && !attr.ends_with("__");
        match self.receiver(value) {
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
    fn bound(&self, binding: &Binding<'m>, innermost: bool) -> Receiver {
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
            Binding::Call(callee, call) => match self.own_class_callee(callee) {
                // `x = cls(...)`, `x = self.__class__(...)`: an instance of the class
                // or a subclass.
                Some(c) => Receiver::Typed(vec![TypeRef::Of(self.class_dotted(c))]),
                None => match self.instance_of(callee) {
                    // `x = state.copy()` with `state` local: read where it is bound.
                    Receiver::Unknown if innermost => self.guarded(|| self.call_receiver(call.0)),
                    found => found,
                },
            },
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
                Expr::Call(call) => match self.produced(call, Some(*i)) {
                    Receiver::Unknown if innermost => self.returned_item(call, *i),
                    found => found,
                },
                _ => Receiver::Unknown,
            },
            Binding::Unknown | Binding::Declared => Receiver::Unknown,
        }
    }

    /// What `object` is in `object.x = value` when the statement before stored a call's
    /// result there (`ctx.obj = Foo()`), `object` is `name.attr` and `value` runs no
    /// code: the project decision reads it if `attr` is a plain attribute.
    fn just_stored(&self, object: &Expr, value: &Expr) -> Option<Receiver> {
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
    fn is_fresh_mock(&self, item: &ast::WithItem, name: &str) -> bool {
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

    /// The signature of a module-level `def` (an `@overload` when `overload`).
    fn signature(&self, def: &ast::StmtFunctionDef, overload: bool) -> Signature {
        let p = &def.parameters;
        let mut params = Vec::new();
        let kinds = [
            (&p.posonlyargs, ParamKind::PositionalOnly),
            (&p.args, ParamKind::Positional),
            (&p.kwonlyargs, ParamKind::KeywordOnly),
        ];
        for (list, kind) in kinds {
            for param in list {
                params.push(Param {
                    name: param.parameter.name.to_string(),
                    kind,
                    default: param.default.is_some(),
                    callable_only: param
                        .parameter
                        .annotation
                        .as_deref()
                        .is_some_and(|a| self.callable_only(a)),
                });
            }
        }
        Signature {
            overload,
            params,
            var_positional: p.vararg.is_some(),
            var_keyword: p.kwarg.is_some(),
            then: def
                .returns
                .as_deref()
                .and_then(|r| self.callable_returns(r)),
        }
    }

    /// Whether an annotation (or the module-level alias it names) allows callables
    /// only.
    fn callable_only(&self, annotation: &Expr) -> bool {
        let annotation = match (annotation, self.scopes.first()) {
            (Expr::Name(n), Some(Scope::Module { calls })) => match calls.get(n.id.as_str()) {
                Some(Binding::Value(aliased)) => *aliased,
                _ => annotation,
            },
            _ => annotation,
        };
        matches!(
            self.annotation(annotation),
            Some(Shape::Instances(members))
                if !members.is_empty() && members.iter().all(TypeRef::is_callable)
        )
    }

    /// `R` of a `Callable[..., R]` annotation, when it is instances of known classes.
    fn callable_returns(&self, annotation: &Expr) -> Option<Vec<TypeRef>> {
        let (_, returns) = types::callable_parts(annotation, &|e| self.resolve(e))?;
        self.instances(returns)
    }

    /// The instances of known classes an annotation allows (`None`: it says nothing,
    /// or allows `None` only).
    fn instances(&self, annotation: &Expr) -> Option<Vec<TypeRef>> {
        match self.annotation(annotation)? {
            Shape::Instances(members) if !members.is_empty() => Some(members),
            _ => None,
        }
    }

    /// The class a callee written as `cls` or `self.__class__` is, in a method.
    fn own_class_callee(&self, callee: &str) -> Option<usize> {
        let (first, rest) = callee.split_once('.').unwrap_or((callee, ""));
        // Only the innermost function: a nested one keeps `self` unless it rebinds it.
        match self.scopes.last()? {
            Scope::Function {
                self_name,
                cls_name,
                ..
            } => match (self_name, cls_name) {
                (Some((n, c)), _) if n == first && rest == "__class__" => Some(*c),
                (_, Some((n, c))) if n == first && rest.is_empty() => Some(*c),
                _ => None,
            },
            _ => None,
        }
    }

    /// An element of `iter`, when the container's annotation says what it holds, or
    /// it is an attribute of an object of known type (`self.items`, `state.brackets`:
    /// the project decision reads what the class stores there).
    fn elements_of(&self, iter: &Expr) -> Receiver {
        match iter {
            Expr::Name(name) => self.elements_of_name(name.id.as_str()),
            Expr::Attribute(a) => match self.attr_owner(&a.value, a.attr.as_str()) {
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

    /// The nearest binding of a local or module-level name, and whether it is in the
    /// scope being visited.
    fn binding_of(&self, name: &str) -> Option<(&Binding<'m>, bool)> {
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            let binding = match scope {
                Scope::Function { locals, .. } => locals.get(name),
                Scope::Module { calls } => calls.get(name),
                Scope::Class { .. } => None,
            };
            if let Some(binding) = binding {
                return Some((binding, i + 1 == self.scopes.len()));
            }
        }
        None
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

    /// Reads an annotation in the current scope.
    fn annotation(&self, annotation: &Expr) -> Option<Shape> {
        let own = self.current_method_class().map(|c| self.class_dotted(c));
        types::annotation(annotation, &|e| self.resolve_type(e), own.as_deref())
    }

    /// Resolves a name in an annotation: a module-level `TypeVar` with a `bound=`
    /// class stands for that class (an instance of it or of a subclass); one without
    /// a bound says nothing.
    fn resolve_type(&self, expr: &Expr) -> Option<String> {
        if let Expr::Name(n) = expr
            && self.is_global(n.id.as_str())
            && let Some(bound) = self.typevars.get(n.id.as_str())
        {
            let bound = (*bound)?;
            return match bound {
                Expr::StringLiteral(text) => {
                    let parsed = ruff_python_parser::parse_expression(text.value.to_str()).ok()?;
                    match parsed.expr() {
                        e @ (Expr::Name(_) | Expr::Attribute(_)) => self.resolve(e),
                        _ => None,
                    }
                }
                Expr::Name(_) | Expr::Attribute(_) => self.resolve(bound),
                _ => None,
            };
        }
        self.resolve(expr)
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

    /// The absolute dotted name of this file's class `c`.
    fn class_dotted(&self, c: usize) -> String {
        format!(
            "{}.{}",
            self.summary.module, self.summary.classes[c].qualname
        )
    }

    /// What an expression evaluates to, as a union of types (`None`: not known).
    fn value_type(&self, expr: &Expr) -> Option<Vec<TypeRef>> {
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
    fn value_shape(&self, expr: &Expr) -> Option<Shape> {
        if let Expr::Name(name) = expr
            && let Receiver::Typed(members) = self.elements_of_name(name.id.as_str())
        {
            return Some(Shape::Elements(members));
        }
        self.value_type(expr).map(Shape::Instances)
    }

    /// Records what `self.attr` holds after an assignment in class `c`.
    fn attr_type(&mut self, c: usize, attr: &str, value: Option<Shape>) {
        let class = &mut self.summary.classes[c];
        let attr = class.mangled(attr);
        if class.declared.contains(&attr) {
            return;
        }
        let merged = match (class.attr_types.get(&attr), value) {
            (None, value) => value,
            (Some(Some(prev)), Some(value)) => types::merge(prev, &value),
            _ => None,
        };
        class.attr_types.insert(attr, merged);
    }

    /// What `obj.method(...)` gives (`item`: the item at that position of it) when
    /// `obj` is an instance of exactly a library class of [`PRODUCERS`] and the call
    /// passes nothing the method would return instead of a new object.
    fn produced(&self, call: &ast::ExprCall, item: Option<usize>) -> Receiver {
        let Expr::Attribute(a) = call.func.as_ref() else {
            return Receiver::Unknown;
        };
        let Receiver::Instance(owner) = self.receiver(&a.value) else {
            return Receiver::Unknown;
        };
        let arguments = &call.arguments;
        let found = PRODUCERS.iter().find(|p| {
            p.owner == owner
                && p.method == a.attr.as_str()
                && p.item == item
                // `*args` or `**kwargs` may pass the object through; so may the
                // parameter itself, by position or by name.
                && !arguments.args.iter().any(Expr::is_starred_expr)
                && arguments.args.len() <= p.passed_at
                && arguments
                    .keywords
                    .iter()
                    .all(|k| k.arg.as_ref().is_some_and(|n| n.as_str() != p.passed_as))
        });
        match found {
            Some(p) => Receiver::Produced {
                api: Name::new(format!("{}.{}", p.owner, p.method)),
                class: Name::new_static(p.class),
            },
            None => Receiver::Unknown,
        }
    }

    /// The item at position `i` of what a project function or method call returns,
    /// read by the project decision from the callee's declared `tuple[...]`.
    fn returned_item(&self, call: &ast::ExprCall, i: usize) -> Receiver {
        let callees = match self.resolve(&call.func) {
            Some(d) if !d.starts_with("builtins.") => vec![TypeRef::Call(d)],
            Some(_) => return Receiver::Unknown,
            None => match call.func.as_ref() {
                Expr::Attribute(a) => match self.method_result(&a.value, a.attr.as_str()) {
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

    fn instance_of(&self, callee: &str) -> Receiver {
        let found = match callee.split_once('.') {
            Some((first, rest)) => self.resolve_root_with(first, &[rest], rest.len() + 1),
            None => self.resolve_root(callee),
        };
        found.map_or(Receiver::Unknown, |d| Receiver::Instance(d.into()))
    }

    fn current_method_class(&self) -> Option<usize> {
        self.scopes.iter().rev().find_map(|s| match s {
            Scope::Function { self_name, .. } => self_name.as_ref().map(|(_, c)| *c),
            _ => None,
        })
    }

    fn fact(&mut self, fact: Fact) {
        let hash = rustc_hash::FxBuildHasher.hash_one(&fact);
        let same = self.fact_hashes.entry(hash).or_default();
        if !same.iter().any(|&i| self.summary.facts[i] == fact) {
            same.push(self.summary.facts.len());
            self.summary.facts.push(fact);
        }
    }

    /// An attribute of `recv` is written.
    fn attr_write(&mut self, recv: Receiver, attr: &str) {
        self.attr_write_typed(recv, attr, None);
    }

    /// An attribute of `recv` is written with a value of type `value` (`None`: not
    /// known).
    fn attr_write_typed(&mut self, recv: Receiver, attr: &str, value: Option<Shape>) {
        match recv {
            Receiver::SelfOf(c) => match attr {
                "__class__" => self.summary.classes[c].block(Blocker::ClassAssign),
                "__dict__" => self.summary.classes[c].block(Blocker::SelfDict),
                _ => {
                    self.summary.classes[c].add_attr(attr);
                    self.attr_type(c, attr, value);
                }
            },
            Receiver::ClassOf(c) => {
                let class = &mut self.summary.classes[c];
                class.add_class_name(attr);
                let attr = class.mangled(attr);
                class.class_values.insert(attr, None);
            }
            recv => {
                if attr == "__class__" {
                    self.fact(Fact::ClassAssign(recv));
                } else {
                    self.fact(Fact::AttrWrite(recv, Name::new(attr)));
                }
            }
        }
    }

    /// A store into `target`; `value` is what is stored when the whole value goes
    /// there (`x.a = value`, not `x.a, x.b = pair`).
    fn store_target(&mut self, target: &Expr, value: Option<Shape>) {
        match target {
            Expr::Attribute(attr) => {
                let recv = self.receiver(&attr.value);
                self.attr_write_typed(recv, attr.attr.as_str(), value);
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.store_target(e, None)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.store_target(e, None)),
            Expr::Starred(s) => self.store_target(&s.value, None),
            _ => {}
        }
    }

    /// The stores of `a, obj.attr = value`: an attribute write whose object the
    /// value certainly reads the same attribute of (see [`Self::guarded_by`]) is
    /// guarded, unless an earlier target rebinds the object's name first.
    fn store_unpacked(&mut self, targets: &[Expr], value: &Expr) {
        for (i, target) in targets.iter().enumerate() {
            if let Expr::Attribute(a) = target
                && let Some(root) = root_name(&a.value)
                && !targets[..i].iter().any(|t| binds_in(t, root))
                && self.guarded_by(&a.value, a.attr.as_str(), value)
            {
                let recv = self.receiver(&a.value);
                self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
                continue;
            }
            self.store_target(target, None);
        }
    }

    fn visit_class(&mut self, def: &'m ast::StmtClassDef) {
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
                .is_suppressed(self.source, def.name.start(), "slots"),
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
                        if kw.arg.as_ref().is_some_and(|a| a.as_str() == "slots") {
                            slots = Some(matches!(
                                kw.value,
                                Expr::BooleanLiteral(ast::ExprBooleanLiteral { value: true, .. })
                            ));
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
        for stmt in body {
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
        // its classes: another `__slots__` may clash with what it does.
        if matches!(
            name,
            "__init_subclass__" | "__new__" | "__init__" | "__call__" | "__prepare__"
        ) && self.source.source()[def.range()].contains("__slots__")
        {
            class.manages_slots = true;
        }
        // `__init_subclass__` and `__class_getitem__` are implicit classmethods.
        let implicit_classmethod = matches!(name, "__init_subclass__" | "__class_getitem__");
        let (self_name, cls_name) = if is_static || name == "__new__" {
            (None, None)
        } else if is_classmethod || implicit_classmethod {
            (None, first.map(|f| (f, idx)))
        } else {
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
        let key = (plain && !self.summary.classes[idx].in_function)
            .then(|| format!("{}.{}", self.summary.classes[idx].qualname, def.name));
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
    fn function_locals(
        &mut self,
        def: &'m ast::StmtFunctionDef,
        inferred: &dyn Fn(usize, &str) -> Option<TypeRef>,
    ) -> HashMap<String, Binding<'m>> {
        let mut locals = call_bindings(&def.body);
        let declared = declarations(&def.body);
        self.function_writes
            .extend(function_object_writes(&def.body, declared.nonlocal));
        // A name declared `global`/`nonlocal` here is not this scope's to type, and a
        // nested function declaring it `nonlocal` may rebind it whenever it runs.
        for name in declared.names {
            locals.insert(name, Binding::Declared);
        }
        for (position, p) in def.parameters.iter_non_variadic_params().enumerate() {
            let name = p.parameter.name.to_string();
            let binding = match (&p.parameter.annotation, locals.get(&name)) {
                (Some(annotation), None) => Binding::Annotated(annotation.as_ref()),
                (Some(annotation), Some(other @ Binding::Call(..))) => {
                    Binding::Either(annotation.as_ref(), Box::new(other.clone()))
                }
                (None, None) => inferred(position, &name)
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
            locals.insert(p.name.to_string(), Binding::Unknown);
        }
        locals
    }

    /// What each item of a fixed-length `tuple[A, B]` annotation allows.
    fn tuple_items(&self, annotation: &Expr) -> Option<Vec<Option<Vec<TypeRef>>>> {
        let items = types::tuple_items(annotation, &|e| self.resolve(e))?;
        Some(items.iter().map(|e| self.instances(e)).collect())
    }

    /// What a decorator says it passes first to the function it takes: `X` when its
    /// first parameter is annotated `Callable[Concatenate[X, ...], R]` or
    /// `Callable[[X, ...], R]` with `X` an instance type.
    fn passes_first(&self, def: &ast::StmtFunctionDef) -> Option<Vec<TypeRef>> {
        let p = def
            .parameters
            .posonlyargs
            .iter()
            .chain(&def.parameters.args)
            .next()?;
        let annotation = p.parameter.annotation.as_deref()?;
        let (params, _) = types::callable_parts(annotation, &|e| self.resolve(e))?;
        let first = match params {
            Expr::List(params) => params.elts.first()?,
            Expr::Subscript(c)
                if self
                    .resolve(&c.value)
                    .as_deref()
                    .and_then(types::typing_name)
                    == Some("Concatenate") =>
            {
                match c.slice.as_ref() {
                    Expr::Tuple(t) => t.elts.first()?,
                    other => other,
                }
            }
            _ => return None,
        };
        self.instances(first)
    }

    /// Visits a function's body in its own scope; `key` is its name in
    /// [`FileSummary::returns`] when what it returns is recorded.
    fn visit_function_body(
        &mut self,
        def: &'m ast::StmtFunctionDef,
        self_name: Option<(String, usize)>,
        cls_name: Option<(String, usize)>,
        locals: HashMap<String, Binding<'m>>,
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
    fn returned(&mut self, value: Option<Vec<TypeRef>>) {
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

    /// Visits an `if` branch with what the `isinstance(name, ...)` checks in its test
    /// say about their names (when the branch does not rebind them).
    fn visit_narrowed(&mut self, test: &Expr, body: &'m [Stmt]) {
        let narrowed: Vec<(String, Vec<TypeRef>)> = self
            .isinstance_tests(test)
            .into_iter()
            .filter(|(name, _)| !rebinds(body, name))
            .collect();
        let pushed = narrowed.len();
        for (name, members) in narrowed {
            self.narrowed.push((self.scopes.len(), name, members));
        }
        // `name.attr` read by the test: until the body rebinds `name`, a write of
        // `name.attr` at the top of the body is on an object that has `attr`.
        let mut guards = read_attributes(test);
        let outer = self.enter_body();
        for stmt in body {
            self.before_stmt(stmt);
            match stmt {
                Stmt::Assign(assign) if !guards.is_empty() => {
                    if let [Expr::Attribute(a)] = assign.targets.as_slice()
                        && let Expr::Name(n) = a.value.as_ref()
                        && guards.contains(&(n.id.as_str(), a.attr.as_str()))
                        && let recv = self.receiver(&a.value)
                        && recv.may_be_unknown()
                    {
                        self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
                        self.visit_expr(&assign.value);
                    } else {
                        self.visit_stmt(stmt);
                    }
                }
                _ => self.visit_stmt(stmt),
            }
            self.after_stmt(stmt);
            guards.retain(|(name, _)| !rebinds(std::slice::from_ref(stmt), name));
        }
        self.leave_body(outer);
        self.narrowed.truncate(self.narrowed.len() - pushed);
    }

    /// The `isinstance(name, Cls)` or `isinstance(name, (A, B))` checks a test makes
    /// when it is true: the test itself or any operand of its `and` chain (the body
    /// runs only when every operand was true, `x is not None and isinstance(x, A)`
    /// included). A name the test binds with `:=` is left out: the check may have
    /// been made on its previous value.
    fn isinstance_tests(&self, test: &Expr) -> Vec<(String, Vec<TypeRef>)> {
        let operands: Vec<&Expr> = match test {
            Expr::BoolOp(b) if b.op == ast::BoolOp::And => b.values.iter().collect(),
            other => vec![other],
        };
        let mut out: Vec<(String, Vec<TypeRef>)> = Vec::new();
        for operand in operands {
            if let Some((name, members)) = self.isinstance_test(operand)
                && !binds_in(test, &name)
                && !out.iter().any(|(n, _)| *n == name)
            {
                out.push((name, members));
            }
        }
        out
    }

    /// `isinstance(name, Cls)` or `isinstance(name, (A, B))`: the name and the classes.
    fn isinstance_test(&self, test: &Expr) -> Option<(String, Vec<TypeRef>)> {
        let Expr::Call(call) = test else { return None };
        if self.resolve(&call.func).as_deref() != Some("builtins.isinstance")
            || !call.arguments.keywords.is_empty()
        {
            return None;
        }
        let [Expr::Name(name), classes] = &*call.arguments.args else {
            return None;
        };
        let classes: Vec<&Expr> = match classes {
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        let members = classes
            .into_iter()
            .map(|c| self.resolve(c).map(TypeRef::Of))
            .collect::<Option<Vec<_>>>()?;
        Some((name.id.to_string(), members))
    }

    fn call(&mut self, call: &ast::ExprCall) {
        let args = &*call.arguments.args;
        let callee = self.resolve(&call.func);
        let const_str = |e: Option<&Expr>| match e {
            Some(Expr::StringLiteral(s)) => Some(s.value.to_str().to_string()),
            _ => None,
        };
        match callee.as_deref() {
            Some("builtins.setattr") | Some("builtins.delattr") if args.len() >= 2 => {
                let recv = self.receiver(&args[0]);
                // `delattr(Cls, "x")` removes what `Cls.x` holds, a slot descriptor
                // included: treated as a write (on an instance it is harmless, and an
                // extra write only makes the analysis more careful).
                match const_str(args.get(1)) {
                    Some(name) => self.attr_write(recv, &name),
                    None => self.dynamic_setattr(recv),
                }
            }
            Some("builtins.vars") if args.len() == 1 => {
                let recv = self.receiver(&args[0]);
                self.dict_access(recv, true);
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
                    Some(Expr::Attribute(a)) if callee.as_deref() == Some("weakref.WeakMethod") => {
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
                    if callee.as_deref() == Some("pickle.dump") {
                        2
                    } else {
                        1
                    },
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
        // `x.__setattr__(...)`, `object.__setattr__(self, "x", v)`, `super().__setattr__("x", v)`.
        if let Expr::Attribute(a) = call.func.as_ref() {
            if a.attr.as_str() == "register"
                && let Receiver::Global(d) = self.receiver(&a.value)
            {
                self.fact(Fact::Registered(d.to_string()));
            }
            let attr = a.attr.as_str();
            if attr == "__setattr__" {
                let via_super = matches!(a.value.as_ref(), Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "super"));
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
                match const_str(name) {
                    Some(n) => self.attr_write(recv, &n),
                    None => self.dynamic_setattr(recv),
                }
            }
            // `mock.patch.object(obj, "name")`, `mocker.patch.object(...)`,
            // `monkeypatch.setattr(obj, "name", v)`: a write of `name` on `obj`.
            let on_patch = match a.value.as_ref() {
                Expr::Attribute(p) => p.attr.as_str() == "patch",
                Expr::Name(n) => n.id.as_str() == "patch",
                _ => false,
            };
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
            if monkeypatch && let Some(path) = const_str(args.first()) {
                if let Some((module, name)) = path.rsplit_once('.') {
                    self.attr_write(Receiver::Global(Name::new(module)), name);
                }
            } else if (patch_object || monkeypatch) && args.len() >= 2 {
                let recv = self.receiver(&args[0]);
                match const_str(args.get(1)) {
                    Some(n) => self.attr_write(recv, &n),
                    None => self.dynamic_setattr(recv),
                }
            }
        }
        // `mock.patch("pkg.mod.Cls.name")`, `mocker.patch(...)`, `@patch(...)`: a write
        // of `name` on what the rest of the string names.
        let patch = match call.func.as_ref() {
            Expr::Attribute(a) => a.attr.as_str() == "patch",
            Expr::Name(n) => n.id.as_str() == "patch",
            _ => false,
        };
        if patch
            && let Some(path) = const_str(args.first())
            && let Some((owner, name)) = path.rsplit_once('.')
        {
            self.attr_write(Receiver::Global(Name::new(owner)), name);
        }
        // Zero-argument `super()` needs the `__class__` cell that dataclass(slots=True) breaks.
        if let Expr::Name(n) = call.func.as_ref()
            && n.id.as_str() == "super"
            && args.is_empty()
            && let Some(c) = self.current_method_class()
        {
            self.summary.classes[c].zero_arg_super = true;
        }
        // A call that passes nothing hands no object on (most calls of a method on
        // `self` or of a library function with no arguments): what follows is spared.
        if args.is_empty() && call.arguments.keywords.is_empty() {
            return;
        }
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
                    || matches!(a.value.as_ref(), Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "super"))
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

    /// Whether writing `recv.attr = value` certainly follows a read of `recv.attr` on
    /// the same object: `recv` is of unknown type, evaluates to the same object each
    /// time (a name, a chain of attributes and constant subscripts of one), and
    /// `value` reads the attribute wherever it is evaluated.
    fn guarded_by(&self, recv: &Expr, attr: &str, value: &Expr) -> bool {
        if !is_stable(recv) || !self.receiver(recv).may_be_unknown() {
            return false;
        }
        let text = &self.source.source()[recv.range()];
        let mut reads = Vec::new();
        certain_reads(value, &mut reads);
        reads.iter().any(|read| match read {
            Expr::Attribute(a) => {
                a.attr.as_str() == attr && &self.source.source()[a.value.range()] == text
            }
            _ => false,
        })
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

    fn dynamic_setattr(&mut self, recv: Receiver) {
        match recv {
            Receiver::SelfOf(c) => self.summary.classes[c].block(Blocker::DynamicSetattr),
            // A computed name set on the class may replace a slot descriptor.
            Receiver::ClassOf(c) => self.summary.classes[c].block(Blocker::DynamicClassSetattr),
            recv => self.fact(Fact::DynamicSetattr(recv)),
        }
    }

    fn dict_access(&mut self, recv: Receiver, vars: bool) {
        match recv {
            Receiver::SelfOf(c) => self.summary.classes[c].block(if vars {
                Blocker::Vars
            } else {
                Blocker::SelfDict
            }),
            Receiver::ClassOf(_) => {}
            recv => self.fact(Fact::DictAccess(recv)),
        }
    }
}

impl<'m> Visitor<'m> for Indexer<'m, '_> {
    fn visit_stmt(&mut self, stmt: &'m Stmt) {
        match stmt {
            Stmt::ClassDef(def) => {
                self.visit_class(def);
            }
            Stmt::FunctionDef(def) => {
                for dec in &def.decorator_list {
                    self.visit_decorator(dec);
                }
                // `@pass_context def cli(ctx)`: the innermost decorator (applied to
                // the function itself) may say what it passes first.
                let passed_by = match def.decorator_list.last().map(|d| &d.expression) {
                    Some(e @ (Expr::Name(_) | Expr::Attribute(_))) => {
                        self.resolve(e).filter(|d| !d.starts_with("builtins."))
                    }
                    _ => None,
                };
                let inferred = |position: usize, _: &str| {
                    (position == 0)
                        .then(|| passed_by.clone().map(TypeRef::PassedBy))
                        .flatten()
                };
                let locals = self.function_locals(def, &inferred);
                if self.scopes.len() == 1 {
                    let overload = def.decorator_list.iter().any(|d| {
                        self.resolve(&d.expression)
                            .as_deref()
                            .and_then(types::typing_name)
                            == Some("overload")
                    });
                    if overload || def.decorator_list.is_empty() {
                        let signature = self.signature(def, overload);
                        self.summary
                            .signatures
                            .entry(def.name.to_string())
                            .or_default()
                            .push(signature);
                    }
                    if let Some(members) = self.passes_first(def) {
                        self.summary
                            .passes_first
                            .insert(def.name.to_string(), members);
                    }
                }
                // A nested function keeps the enclosing method's `self` unless it
                // rebinds the name.
                let (self_name, cls_name) = match self.scopes.last() {
                    Some(Scope::Function {
                        self_name,
                        cls_name,
                        ..
                    }) => (
                        self_name.clone().filter(|(n, _)| !locals.contains_key(n)),
                        cls_name.clone().filter(|(n, _)| !locals.contains_key(n)),
                    ),
                    _ => (None, None),
                };
                // Only module-level functions are recorded: a nested one is a new
                // object per call, looked up by no dotted name.
                let key = (self.scopes.len() == 1 && def.decorator_list.is_empty())
                    .then(|| def.name.to_string());
                self.visit_function_body(def, self_name, cls_name, locals, key);
            }
            Stmt::Assign(assign) => {
                // `def f(): ...` then `f.__name__ = name`: a function object.
                if let [Expr::Attribute(a)] = assign.targets.as_slice()
                    && self.function_writes.contains(&a.start())
                {
                    self.attr_write(Receiver::Definition, a.attr.as_str());
                    visitor::walk_stmt(self, stmt);
                    return;
                }
                // `ctx.obj = Foo()` then `ctx.obj.title = "t"`: a write on the `Foo`.
                if let [Expr::Attribute(a)] = assign.targets.as_slice()
                    && let Some(recv) = self.just_stored(&a.value, &assign.value)
                {
                    let value = self.value_shape(&assign.value);
                    self.attr_write_typed(recv, a.attr.as_str(), value);
                    visitor::walk_stmt(self, stmt);
                    return;
                }
                // `x.attr = f(x.attr)`: the value reads the attribute first.
                if let [Expr::Attribute(a)] = assign.targets.as_slice()
                    && self.guarded_by(&a.value, a.attr.as_str(), &assign.value)
                {
                    let recv = self.receiver(&a.value);
                    self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
                    visitor::walk_stmt(self, stmt);
                    return;
                }
                // `rest, ctx.args = ctx.args, []`: the whole value is evaluated before
                // any target is assigned, so its reads come first.
                let unpacked = match assign.targets.as_slice() {
                    [Expr::Tuple(t)] => Some(&t.elts),
                    [Expr::List(l)] => Some(&l.elts),
                    _ => None,
                };
                if let Some(elts) = unpacked {
                    self.store_unpacked(elts, &assign.value);
                    visitor::walk_stmt(self, stmt);
                    return;
                }
                let value = match assign.targets.as_slice() {
                    [_] => self.value_shape(&assign.value),
                    _ => None,
                };
                for target in &assign.targets {
                    self.store_target(target, value.clone());
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Return(ret) => {
                let value = match &ret.value {
                    Some(v) => self.value_type(v),
                    None => Some(Vec::new()),
                };
                self.returned(value);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test);
                self.visit_narrowed(&w.test, &w.body);
                self.visit_body(&w.orelse);
            }
            Stmt::If(if_stmt) => {
                self.visit_expr(&if_stmt.test);
                self.visit_narrowed(&if_stmt.test, &if_stmt.body);
                // `if isinstance(x, A): ... else: ...`: in the other clauses, `x` is no `A`.
                let excluded = self.isinstance_test(&if_stmt.test);
                for clause in &if_stmt.elif_else_clauses {
                    let pushed = match &excluded {
                        Some((name, members))
                            if !rebinds(&clause.body, name)
                                && !clause.test.as_ref().is_some_and(|t| binds_in(t, name)) =>
                        {
                            let classes = members
                                .iter()
                                .filter_map(|m| match m {
                                    TypeRef::Of(d) => Some(d.clone()),
                                    _ => None,
                                })
                                .collect();
                            self.excluded
                                .push((self.scopes.len(), name.clone(), classes));
                            true
                        }
                        _ => false,
                    };
                    match &clause.test {
                        Some(test) => {
                            self.visit_expr(test);
                            self.visit_narrowed(test, &clause.body);
                        }
                        None => self.visit_body(&clause.body),
                    }
                    if pushed {
                        self.excluded.pop();
                    }
                }
            }
            Stmt::Delete(delete) => {
                // `del Cls.x` removes a slot descriptor like `Cls.x = ...` replaces it.
                for target in &delete.targets {
                    if let Expr::Attribute(attr) = target {
                        let recv = self.receiver(&attr.value);
                        if matches!(recv, Receiver::ClassOf(_) | Receiver::Global(_)) {
                            self.attr_write(recv, attr.attr.as_str());
                        }
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AugAssign(assign) => {
                // `x.attr += 1` reads `x.attr` of the same object before writing it.
                match assign.target.as_ref() {
                    Expr::Attribute(a) => {
                        let recv = self.receiver(&a.value);
                        if recv.may_be_unknown() {
                            self.fact(Fact::GuardedWrite(recv, a.attr.id.clone()));
                        } else {
                            self.attr_write(recv, a.attr.as_str());
                        }
                    }
                    target => self.store_target(target, None),
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(assign) => {
                // `self.x: Point = ...` declares what `x` holds.
                let value = self.annotation(&assign.annotation);
                self.store_target(&assign.target, value);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::For(f) => {
                self.store_target(&f.target, None);
                visitor::walk_stmt(self, stmt);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(vars) = &item.optional_vars {
                        self.store_target(vars, None);
                    }
                }
                // `with patch("mod.Popen") as popen: popen.return_value.wait.return_value
                // = 0`: before anything else runs, every attribute of a new mock is
                // another mock it makes, never a project instance.
                if let Some(Stmt::Assign(first)) = w.body.first()
                    && let [Expr::Attribute(a)] = first.targets.as_slice()
                    && is_pure(&first.value)
                    && let Some(root) = UnqualifiedName::from_expr(&a.value)
                        .and_then(|chain| chain.segments().first().copied())
                    && w.items.iter().any(|item| self.is_fresh_mock(item, root))
                {
                    for item in &w.items {
                        self.visit_with_item(item);
                    }
                    self.visit_expr(&first.value);
                    self.visit_body(&w.body[1..]);
                    return;
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_body(&mut self, body: &'m [Stmt]) {
        let outer = self.enter_body();
        for stmt in body {
            self.before_stmt(stmt);
            self.visit_stmt(stmt);
            self.after_stmt(stmt);
        }
        self.leave_body(outer);
    }

    fn visit_comprehension(&mut self, comprehension: &'m ast::Comprehension) {
        self.store_target(&comprehension.target, None);
        visitor::walk_comprehension(self, comprehension);
    }

    fn visit_expr(&mut self, expr: &'m Expr) {
        match expr {
            Expr::Call(call) => self.call(call),
            Expr::Attribute(attr) if attr.attr.as_str() == "__dict__" => {
                let recv = self.receiver(&attr.value);
                // `Cls.__dict__` is the class namespace, not an instance dict.
                let is_class_object = matches!(&recv, Receiver::Global(_));
                if !is_class_object {
                    self.dict_access(recv, false);
                }
            }
            Expr::Name(n) if n.id.as_str() == "__class__" && n.ctx == ExprContext::Load => {
                if let Some(c) = self.current_method_class() {
                    self.summary.classes[c].zero_arg_super = true;
                }
            }
            // A generator returns a generator, whatever its `return`s say.
            Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Await(_) => {
                if let Some(f) = self.functions.last_mut() {
                    f.types = None;
                    f.declared = None;
                }
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

/// `head` then `rest`, joined with dots, in one allocation (`rest_len`: the length of
/// `rest` with a dot before each).
fn joined(head: &[&str], rest: &[&str], rest_len: usize) -> String {
    let head_len: usize = head.iter().map(|s| s.len() + 1).sum();
    let mut out = String::with_capacity(head_len + rest_len);
    for (i, part) in head.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(part);
    }
    for part in rest {
        out.push('.');
        out.push_str(part);
    }
    out
}

/// What the `global` and `nonlocal` statements anywhere in a body (nested functions
/// and classes included) declare.
#[derive(Default)]
struct Declarations {
    /// The names declared either way.
    names: HashSet<String>,
    /// There is a `nonlocal` statement.
    nonlocal: bool,
}

impl<'a> Visitor<'a> for Declarations {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Global(g) => self.names.extend(g.names.iter().map(|n| n.to_string())),
            Stmt::Nonlocal(n) => {
                self.nonlocal = true;
                self.names.extend(n.names.iter().map(|n| n.to_string()));
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    // Only statements declare: the expressions (most of a body) are not walked.
    fn visit_expr(&mut self, _: &'a Expr) {}
}

/// The [`Declarations`] of `body`.
fn declarations(body: &[Stmt]) -> Declarations {
    let mut declared = Declarations::default();
    declared.visit_body(body);
    declared
}

/// The `name.attr = ...` statements of a function body that certainly write on a
/// function object: at the top level of the body, after an undecorated `def name`
/// there with only simple statements between that do not rebind `name` (a loop, a
/// branch, `try`, an import, `global` or a nested definition may, so they end what is
/// known). A name bound twice (`def f` then `f = click.command(f)`) is not one
/// object, but at this point it is the function. `nonlocal`: the body has a
/// `nonlocal` statement somewhere ([`declarations`]), and then a nested function may
/// rebind a name of this body (`nonlocal f`) whenever it is called: nothing is known.
fn function_object_writes(body: &[Stmt], nonlocal: bool) -> Vec<ruff_text_size::TextSize> {
    if nonlocal {
        return Vec::new();
    }
    let mut functions: HashSet<&str> = HashSet::default();
    let mut out = Vec::new();
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(def) if def.decorator_list.is_empty() => {
                functions.insert(def.name.as_str());
                continue;
            }
            Stmt::Assign(assign) => {
                if let [Expr::Attribute(a)] = assign.targets.as_slice()
                    && let Expr::Name(n) = a.value.as_ref()
                    && functions.contains(n.id.as_str())
                    && !binds_in(&assign.value, n.id.as_str())
                {
                    out.push(a.start());
                }
            }
            Stmt::Expr(_)
            | Stmt::AugAssign(_)
            | Stmt::AnnAssign(_)
            | Stmt::Pass(_)
            | Stmt::Assert(_) => {}
            _ => {
                functions.clear();
                continue;
            }
        }
        functions.retain(|name| !rebinds(std::slice::from_ref(stmt), name));
    }
    out
}

/// A name, or attributes and constant subscripts of one: evaluating it twice in a row
/// gives the same object.
fn is_stable(expr: &Expr) -> bool {
    match expr {
        Expr::Name(_) => true,
        Expr::Attribute(a) => is_stable(&a.value),
        Expr::Subscript(s) => {
            is_stable(&s.value)
                && matches!(
                    s.slice.as_ref(),
                    Expr::NumberLiteral(_) | Expr::StringLiteral(_)
                )
                || matches!(s.slice.as_ref(), Expr::UnaryOp(u) if matches!(u.operand.as_ref(), Expr::NumberLiteral(_)))
                    && is_stable(&s.value)
        }
        _ => false,
    }
}

/// The attribute reads an expression certainly makes when evaluated: not those in
/// short-circuited operands, conditional branches, lambdas or comprehensions.
fn certain_reads<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Attribute(a) => {
            out.push(expr);
            certain_reads(&a.value, out);
        }
        Expr::BoolOp(b) => {
            if let Some(first) = b.values.first() {
                certain_reads(first, out);
            }
        }
        Expr::If(i) => certain_reads(&i.test, out),
        Expr::Call(c) => {
            certain_reads(&c.func, out);
            for arg in &*c.arguments.args {
                certain_reads(arg, out);
            }
            for kw in &*c.arguments.keywords {
                certain_reads(&kw.value, out);
            }
        }
        Expr::BinOp(b) => {
            certain_reads(&b.left, out);
            certain_reads(&b.right, out);
        }
        Expr::UnaryOp(u) => certain_reads(&u.operand, out),
        Expr::Compare(c) => certain_reads(&c.left, out),
        Expr::Subscript(s) => {
            certain_reads(&s.value, out);
            certain_reads(&s.slice, out);
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| certain_reads(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| certain_reads(e, out)),
        _ => {}
    }
}

/// The `name.attr` reads a test certainly makes when it is true: the test itself or
/// the operands of its `and` chain (`x is not None and x.active`), compared or negated.
fn read_attributes(test: &Expr) -> Vec<(&str, &str)> {
    let operands: Vec<&Expr> = match test {
        Expr::BoolOp(b) if b.op == ast::BoolOp::And => b.values.iter().collect(),
        other => vec![other],
    };
    operands
        .into_iter()
        .filter_map(|operand| {
            let read = match operand {
                Expr::UnaryOp(u) => u.operand.as_ref(),
                Expr::Compare(c) => c.left.as_ref(),
                other => other,
            };
            match read {
                Expr::Attribute(a) => match a.value.as_ref() {
                    Expr::Name(n) => Some((n.id.as_str(), a.attr.as_str())),
                    _ => None,
                },
                _ => None,
            }
        })
        .collect()
}

/// The names a statement binds anywhere inside it (assignments, loop and `with`
/// targets, `:=`, imports, definitions, `except ... as`, `del`), or `None` when it may
/// bind names that cannot be listed (`from m import *`, `match` patterns).
fn rebound_names(stmt: &Stmt) -> Option<Vec<&str>> {
    struct Rebound<'a> {
        names: Vec<&'a str>,
        unlisted: bool,
    }
    impl<'a> Visitor<'a> for Rebound<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(def) => {
                    // Its body is another scope; its decorators and defaults are not.
                    self.names.push(def.name.as_str());
                    for d in &def.decorator_list {
                        self.visit_decorator(d);
                    }
                    self.visit_parameters(&def.parameters);
                }
                Stmt::ClassDef(def) => {
                    self.names.push(def.name.as_str());
                    for d in &def.decorator_list {
                        self.visit_decorator(d);
                    }
                    if let Some(arguments) = &def.arguments {
                        self.visit_arguments(arguments);
                    }
                }
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        self.names
                            .push(bound.as_str().split('.').next().unwrap_or_default());
                    }
                }
                Stmt::ImportFrom(import) => {
                    for alias in &import.names {
                        if alias.name.as_str() == "*" {
                            self.unlisted = true;
                        }
                        self.names
                            .push(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                    }
                }
                Stmt::Match(_) => {
                    self.unlisted = true;
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) if n.ctx != ExprContext::Load => self.names.push(n.id.as_str()),
                // Its parameters are its own.
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
        fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            if let Some(name) = &h.name {
                self.names.push(name.as_str());
            }
            visitor::walk_except_handler(self, handler);
        }
    }
    let mut rebound = Rebound {
        names: Vec::new(),
        unlisted: false,
    };
    rebound.visit_stmt(stmt);
    (!rebound.unlisted).then_some(rebound.names)
}

/// An expression whose evaluation runs no code: a literal or a name.
fn is_pure(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Name(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
    )
}

/// The name an attribute or subscript chain starts from (`a` in `a.b[0].c`).
fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => root_name(&a.value),
        Expr::Subscript(s) => root_name(&s.value),
        _ => None,
    }
}

/// Whether `name` is stored to or deleted anywhere in `body` (nested scopes too, to
/// stay on the safe side).
fn rebinds(body: &[Stmt], name: &str) -> bool {
    let mut finder = BindingFinder { name, found: false };
    finder.visit_body(body);
    finder.found
}

/// Whether `expr` binds `name` (with `:=`; an expression cannot delete).
fn binds_in(expr: &Expr, name: &str) -> bool {
    let mut finder = BindingFinder { name, found: false };
    finder.visit_expr(expr);
    finder.found
}

/// Finds a store or delete of one name.
struct BindingFinder<'n> {
    name: &'n str,
    found: bool,
}

impl<'a> Visitor<'a> for BindingFinder<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr
            && n.ctx != ExprContext::Load
            && n.id.as_str() == self.name
        {
            self.found = true;
        }
        visitor::walk_expr(self, expr);
    }
}

/// The strings of a literal `__slots__` value (`"a"`, `("a", "b")`, `["a"]`).
fn literal_strings(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::StringLiteral(s) => Some(vec![s.value.to_str().to_string()]),
        Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => elts
            .iter()
            .map(|e| match e {
                Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `ClassVar`, `ClassVar[int]`, `typing.ClassVar[...]`, `InitVar[...]`, `KW_ONLY`: not fields.
fn is_classvar(annotation: &Expr) -> bool {
    let base = map_subscript(annotation);
    let last = match base {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        Expr::StringLiteral(s) => {
            let text = s.value.to_str();
            return text.starts_with("ClassVar") || text.contains(".ClassVar");
        }
        _ => return false,
    };
    matches!(last, "ClassVar" | "InitVar" | "KW_ONLY")
}
