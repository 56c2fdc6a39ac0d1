//! The summary types: what one file's index gives the project decision (its classes,
//! the facts about objects, what its functions return), and how it is compacted while
//! the rest of the project is indexed.

use std::sync::Arc;

use litemap::LiteMap;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::PythonVersion;
use ruff_python_ast::name::Name;

use thin_vec::ThinVec;

use crate::slots::safety::Blocker;
use crate::slots::signature::Signature;
use crate::slots::types::{Shape, TypeRef};
use crate::slots::verdict::Unproven;

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
    /// Names are [`Name`]s, which hold a short name inline: a file imports dozens.
    pub imports: HashMap<Name, Name>,
    /// The modules the file imports with `*`, in order (absolute dotted names): a name
    /// it neither binds nor imports otherwise may come from one of them.
    pub star_imports: Vec<Name>,
    /// When the file has a star import: every name its module level binds (by
    /// assignment, `def`, `class`, ...), which a star-imported name does not replace.
    pub module_bound: HashSet<Name>,
    /// Module-level names bound to a call (`default = Config()`): name → callee.
    pub module_instances: HashMap<String, String>,
    /// Module-level names bound only by an undecorated `def` or `class`: a function or
    /// class object, never an instance.
    pub module_functions: HashSet<Name>,
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
    /// What the file says of the callers of private module-level functions; `None`
    /// when it says nothing, as most files do.
    pub callers: Option<Box<Callers>>,
    /// The classes, in source order.
    pub classes: Vec<ClassSummary>,
    /// The file reaches frames' local names or the garbage collector's lists of objects
    /// (`frame.f_locals`, `gc.get_referrers`): any object may be reached from here.
    pub reflects: bool,
    /// Facts about objects that may be instances of any project class.
    pub facts: Vec<Fact>,
    /// The file's path relative to the project root, for messages.
    pub path: Arc<str>,
    /// For each of [`Self::facts`] whose receiver may turn out unknown
    /// ([`Fact::may_name_its_site`]), by its position there, the 1-based line of the
    /// statement it was first found in: a rewrite left unproven by it says where it is.
    pub fact_lines: Vec<(u32, u32)>,
}

/// What one file says of the callers of private module-level functions (see
/// [`TypeRef::CallSites`]).
#[derive(Debug, Default, Clone)]
pub struct Callers {
    /// The private module-level functions (`def _process(args)`) that only this
    /// module calls, each by direct calls: per parameter position, what those calls
    /// pass there (each distinct receiver once; a missing argument's `None` default
    /// is [`Receiver::Definition`]).
    pub call_sites: Vec<(String, Vec<Vec<Receiver>>)>,
    /// Dotted names of other modules' private names this file reads through an
    /// import (`cli._process(...)` after `from pkg import cli`): such a function may
    /// be called from here with anything.
    pub private_refs: Vec<Name>,
    /// Private names this file spells out in a string (`getattr(cli, "_process")`,
    /// `"pkg.cli._process"`): the last part of each, a name some code may look up.
    pub private_strings: Vec<Name>,
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
    /// What a library method known to build its result returns (see
    /// [`PRODUCERS`](super::PRODUCERS)): a new instance of `class`, made by `api`
    /// (`argparse.ArgumentParser.parse_args`).
    Produced {
        /// The library method, as `module.Class.method`.
        api: Name,
        /// The class of the new object it returns.
        class: Name,
    },
    /// What a library method of [`PRODUCERS`](super::PRODUCERS) returns when it is
    /// called on what a function returns (`parser = create_parser()`, then
    /// `parser.parse_args()`): what [`Receiver::Produced`] is, when the project
    /// decision finds that the function returns only objects the library class itself
    /// builds; unknown otherwise.
    ProducedBy {
        /// The function, as called (a dotted name).
        factory: Name,
        /// The method's position in [`PRODUCERS`](super::PRODUCERS).
        producer: u8,
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
            Receiver::Unknown | Receiver::ProducedBy { .. } => true,
            Receiver::Typed(members) => members.iter().any(TypeRef::is_deferred),
            _ => false,
        }
    }

    /// A module-level name (a class among others) or `cls`/`type(self)`: a class
    /// object, whose namespace, not an instance dict, is what `vars()`, `__dict__` and
    /// `dir()` read of it.
    pub fn may_be_class_object(&self) -> bool {
        matches!(self, Receiver::Global(_) | Receiver::ClassOf(_))
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
    /// `vars(Cls)` or `Cls.__dict__` on what may be a class object: its own namespace
    /// is read, where slots would add a descriptor per slot and `__slots__`.
    Namespace(Receiver),
    /// `dir(Cls)` or `inspect.getmembers(Cls)` on what may be a class object: its
    /// namespace and its bases' are listed.
    Members(Receiver),
    /// `obj.__slots__`, `getattr(obj, "__slots__", ())`, `hasattr(obj, "__slots__")`:
    /// whether the object (or class) has slots is asked.
    SlotsLookup(Receiver),
    /// `hasattr(Cls, "name")` or `getattr(Cls, "name", default)` on what may be a class
    /// object: once `name` is a slot, the class has a descriptor of that name.
    ClassProbe(Receiver, Name),
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

impl Fact {
    /// The object the fact is about (the first, for a call of a known object).
    pub fn receiver(&self) -> Option<&Receiver> {
        match self {
            Fact::AttrWrite(recv, _)
            | Fact::GuardedWrite(recv, _)
            | Fact::Weakref(recv)
            | Fact::DictAccess(recv)
            | Fact::Namespace(recv)
            | Fact::Members(recv)
            | Fact::SlotsLookup(recv)
            | Fact::ClassProbe(recv, _)
            | Fact::DynamicSetattr(recv)
            | Fact::ClassAssign(recv)
            | Fact::Escape(recv, _)
            | Fact::CalledEscape(recv, _) => Some(recv),
            Fact::PickleLoad | Fact::OldPickle | Fact::Registered(_) | Fact::MethodEscape(..) => {
                None
            }
        }
    }

    /// [`Self::receiver`], to change.
    pub(super) fn receiver_mut(&mut self) -> Option<&mut Receiver> {
        match self {
            Fact::AttrWrite(recv, _)
            | Fact::GuardedWrite(recv, _)
            | Fact::Weakref(recv)
            | Fact::DictAccess(recv)
            | Fact::Namespace(recv)
            | Fact::Members(recv)
            | Fact::SlotsLookup(recv)
            | Fact::ClassProbe(recv, _)
            | Fact::DynamicSetattr(recv)
            | Fact::ClassAssign(recv)
            | Fact::Escape(recv, _)
            | Fact::CalledEscape(recv, _) => Some(recv),
            Fact::PickleLoad | Fact::OldPickle | Fact::Registered(_) | Fact::MethodEscape(..) => {
                None
            }
        }
    }

    /// Whether this fact may leave a rewrite unproven by a reason that names where the
    /// fact is (`vars(x)` at some line, a call pyslim cannot resolve). Only these keep
    /// their line: most facts are escapes to a named callee, whose reasons name it.
    pub fn may_name_its_site(&self) -> bool {
        matches!(
            self,
            Fact::AttrWrite(..)
                | Fact::GuardedWrite(..)
                | Fact::DictAccess(_)
                | Fact::DynamicSetattr(_)
                | Fact::ClassAssign(_)
                | Fact::SlotsLookup(_)
                | Fact::Escape(_, None)
                | Fact::CalledEscape(..)
        )
    }
}

impl FileSummary {
    /// The line of the fact at `index` of [`Self::facts`], when it kept one.
    pub fn line_of(&self, index: usize) -> Option<u32> {
        line_in(&self.fact_lines, index)
    }
}

/// The line `lines` (a [`FileSummary::fact_lines`]) keeps for the fact at `index`.
pub(super) fn line_in(lines: &[(u32, u32)], index: usize) -> Option<u32> {
    let index = u32::try_from(index).ok()?;
    lines
        .binary_search_by_key(&index, |&(i, _)| i)
        .ok()
        .map(|at| lines[at].1)
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
    /// The `dataclass` decorator's `slots=` is not known: computed (`slots=flag`), or
    /// maybe among keywords passed with `**`.
    pub dataclass_slots_unknown: bool,
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
    /// A private module-level class whose instances, as far as its file tells, never
    /// leave the functions that make them (see `index/confined.rs`).
    pub confined: bool,
}

impl ClassSummary {
    pub(super) fn add_attr(&mut self, name: &str) {
        let name = self.mangled(name);
        if !self.attrs.contains(&name) {
            self.attrs.push(name);
        }
    }

    pub(super) fn add_class_name(&mut self, name: &str) {
        let name = self.mangled(name);
        if !self.class_names.contains(&name) {
            self.class_names.push(name);
        }
    }

    /// [`Self::mangle`] as a [`Name`], which holds a short name without an allocation
    /// of its own (a project's classes hold tens of thousands of names).
    pub(super) fn mangled(&self, name: &str) -> Name {
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
        // Asked of every attribute written or read: most are not private.
        if !crate::syntax::is_mangled(name) {
            return None;
        }
        let simple = self.qualname.rsplit('.').next().unwrap_or(&self.qualname);
        let stripped = simple.trim_start_matches('_');
        (!stripped.is_empty()).then(|| format!("_{stripped}{name}"))
    }

    pub(super) fn block(&mut self, blocker: Blocker) {
        if !self.blockers.contains(&blocker) {
            self.blockers.push(blocker);
        }
    }
}

impl FileSummary {
    /// Gives back the spare capacity of its growing lists: every file's summary is held
    /// until the whole project is indexed.
    pub(super) fn compact(&mut self) {
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
        self.fact_lines.shrink_to_fit();
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
