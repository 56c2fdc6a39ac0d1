//! The verdicts of the whole-project decision as types: why a class is left alone
//! ([`Reason`]) and why a rewrite is not proven ([`Unproven`]). Their `Display` is the
//! short, stable phrase `--explain` and the fix messages print.

use std::fmt;
use std::sync::Arc;

use super::safety::Blocker;

/// The kind of class a class is, inherited by its subclasses as it is (a subclass of
/// an exception class is an exception class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Derives from `BaseException`: it keeps a dict whatever its slots.
    Exception,
    /// An `enum.Enum` (or another class from `enum`).
    Enum,
    /// A `typing.NamedTuple` or `collections.namedtuple(...)` class.
    NamedTuple,
    /// A `typing.TypedDict` class.
    TypedDict,
    /// A subclass of a variable-size builtin (`int`, `str`, `tuple`...), by its name.
    BuiltinSubclass(String),
}

/// Why a class is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `# pyslim: ignore` on its line: no note at all.
    Suppressed,
    /// It defines `__slots__` (or `slots=True`) itself.
    AlreadySlotted,
    /// Two classes of one module share its qualified name.
    DefinedTwice,
    /// Another file has the same module name (scripts in folders without
    /// `__init__.py`), so names in it cannot be resolved.
    SharedModule,
    /// Defined inside a function (a new class per call).
    InFunction,
    /// A kind of class that cannot or need not take slots.
    Kind(Kind),
    /// A `typing.Protocol` class.
    Protocol,
    /// A base that cannot be resolved (its source text).
    UnresolvedBase(String),
    /// A builtin base other than the variable-size ones (`list`, `dict`).
    BuiltinBase(String),
    /// A base outside the project, which keeps a `__dict__`.
    ExternalBase(String),
    /// A metaclass other than `type`/`ABCMeta`.
    Metaclass(String),
    /// A base (or the metaclass) reads or sets `__slots__` itself, in
    /// `__init_subclass__` or a metaclass `__new__`: it may add its own slots, and a
    /// second `__slots__` would clash ("already specifies __slots__").
    BaseManagesSlots(String),
    /// Class keywords other than `metaclass`.
    ClassKeywords,
    /// A decorator that may add attributes.
    Decorator(String),
    /// Something in the class body (see [`Blocker`]).
    Blocker(Blocker),
    /// An attribute set with `setattr(self, "a-b", ...)` cannot be a slot.
    NotIdentifier(String),
    /// `class A: pass` on one line (no line to put `__slots__` on).
    OneLine,
    /// `@dataclass(slots=False)` is explicit.
    DataclassSlotsFalse,
    /// `@dataclass(**options)` or `@dataclass(slots=flag)`: `slots=` may be given
    /// already, and a second one is a `TypeError`.
    DataclassSlotsUnknown,
    /// `dataclass(slots=True)` needs Python 3.10.
    DataclassNeedsPy310,
    /// `dataclass(slots=True)` breaks zero-argument `super()` before Python 3.14.
    DataclassZeroArgSuper,
    /// A dataclass method sets an attribute that is not a field.
    DataclassNonField(String),
    /// A weakly referenced dataclass needs `weakref_slot=True`, from Python 3.11.
    DataclassWeakrefNeedsPy311,
    /// A class-level name is also an instance attribute.
    ClassAttrConflict(String),
    /// A class-level name hides an inherited instance attribute.
    InheritedAttrConflict(String),
    /// An attribute is written on an instance from outside the class.
    OutsideWrite(String),
    /// `setattr(Cls, name, v)` with a computed name may replace a slot descriptor.
    ComputedClassSetattr,
    /// The class namespace is read or listed (`vars(Cls)`, `Cls.__dict__`,
    /// `dir(Cls)`, `inspect.getmembers(Cls)`): slots would add `__slots__` and a
    /// descriptor per slot to what it holds.
    NamespaceRead,
    /// Something outside the class needs the instance dict (or its layout).
    NeedsDict(DictUse),
    /// A subclass needs its whole dict (its name).
    SubclassNeedsDict(String),
    /// A base stays unslotted (its name).
    BaseNotSlotted(String),
    /// Slots here would make two solid bases meet in this subclass (its name).
    LayoutConflict(String),
    /// On this version slots save nothing per instance: the bases' slots hold every
    /// attribute and it keeps `__weakref__` (and no subclass needs its slots).
    SavesNothing(&'static str),
}

/// What outside code does that needs an instance's dict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictUse {
    /// `vars(obj)` or `obj.__dict__`.
    Dict,
    /// `setattr(obj, name, v)` with a computed name.
    ComputedSetattr,
    /// `obj.__class__ = Other`.
    ClassAssign,
    /// `obj.__slots__`, `hasattr(obj, "__slots__")`: whether it has slots is asked.
    SlotsLookup,
}

impl Reason {
    /// Reasons a subclass inherits as they are (it is the same kind of class).
    pub fn inherited(&self) -> Option<Reason> {
        match self {
            Reason::Kind(_) => Some(self.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Exception => f.write_str("exception class"),
            Kind::Enum => f.write_str("Enum class"),
            Kind::NamedTuple => f.write_str("NamedTuple class"),
            Kind::TypedDict => f.write_str("TypedDict class"),
            Kind::BuiltinSubclass(name) => write!(f, "subclass of builtin `{name}`"),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Suppressed => Ok(()),
            Reason::AlreadySlotted => f.write_str("already defines __slots__"),
            Reason::DefinedTwice => f.write_str("defined more than once in its module"),
            Reason::SharedModule => f.write_str("its module name is shared by another file"),
            Reason::InFunction => f.write_str("defined inside a function"),
            Reason::Kind(kind) => kind.fmt(f),
            Reason::Protocol => f.write_str("Protocol class"),
            Reason::UnresolvedBase(text) => write!(f, "base `{text}` cannot be resolved"),
            Reason::BuiltinBase(name) => write!(f, "builtin base `{name}`"),
            Reason::ExternalBase(name) => {
                write!(f, "base `{name}` outside the project is not slotted")
            }
            Reason::Metaclass(name) => write!(f, "custom metaclass `{name}`"),
            Reason::BaseManagesSlots(name) => {
                write!(f, "`{name}` manages __slots__ of its subclasses")
            }
            Reason::ClassKeywords => f.write_str("class keyword arguments"),
            Reason::Decorator(name) => write!(f, "decorator `{name}` may add attributes"),
            Reason::Blocker(blocker) => f.write_str(&blocker.reason()),
            Reason::NotIdentifier(a) => write!(f, "attribute `{a}` is not an identifier"),
            Reason::OneLine => f.write_str("class body is on one line"),
            Reason::DataclassSlotsFalse => f.write_str("dataclass(slots=False) is explicit"),
            Reason::DataclassSlotsUnknown => {
                f.write_str("dataclass arguments are computed (`**options`, `slots=flag`)")
            }
            Reason::DataclassNeedsPy310 => f.write_str("dataclass(slots=True) needs Python 3.10"),
            Reason::DataclassZeroArgSuper => f.write_str("dataclass uses zero-argument super()"),
            Reason::DataclassNonField(a) => {
                write!(f, "sets attribute `{a}` that is not a dataclass field")
            }
            Reason::DataclassWeakrefNeedsPy311 => {
                f.write_str("weakly referenced dataclass needs Python 3.11")
            }
            Reason::ClassAttrConflict(a) => {
                write!(
                    f,
                    "class attribute `{a}` conflicts with an instance attribute"
                )
            }
            Reason::InheritedAttrConflict(a) => write!(
                f,
                "class attribute `{a}` conflicts with an inherited instance attribute"
            ),
            Reason::OutsideWrite(a) => write!(f, "attribute `{a}` is set from outside the class"),
            Reason::ComputedClassSetattr => {
                f.write_str("setattr() with a computed name on the class")
            }
            Reason::NamespaceRead => f.write_str(
                "its class namespace is read (vars(), __dict__, __slots__, dir() or getmembers() on the class)",
            ),
            Reason::NeedsDict(DictUse::Dict) => {
                f.write_str("instance __dict__ is used outside the class")
            }
            Reason::NeedsDict(DictUse::ComputedSetattr) => {
                f.write_str("setattr() with a computed name on an instance")
            }
            Reason::NeedsDict(DictUse::ClassAssign) => {
                f.write_str("instance __class__ is assigned")
            }
            Reason::NeedsDict(DictUse::SlotsLookup) => {
                f.write_str("whether an instance has __slots__ is looked up")
            }
            Reason::SubclassNeedsDict(name) => write!(f, "subclass `{name}` needs __dict__"),
            Reason::BaseNotSlotted(name) => write!(f, "base `{name}` is not slotted"),
            Reason::SavesNothing(on) => write!(
                f,
                "slots save nothing per instance on {on}: its bases' slots hold every \
                 attribute, and it keeps __weakref__"
            ),
            Reason::LayoutConflict(name) => {
                write!(
                    f,
                    "slots would cause a layout conflict in subclass `{name}`"
                )
            }
        }
    }
}

/// Why a slots rewrite is not proven (the fix is then unsafe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unproven {
    /// The class defines `__setattr__` or `__delattr__` (the name).
    Defines(String),
    /// `vars()` or `__dict__` on an object whose type is unknown (the first such use).
    /// The uses are shared: every class's reasons hold the same few.
    UnknownDict(Arc<FirstSite>),
    /// `setattr()` with a computed name on an object whose type is unknown.
    UnknownSetattr(Arc<FirstSite>),
    /// `obj.__class__ = ...` on an object whose type is unknown.
    UnknownClassAssign(Arc<FirstSite>),
    /// `obj.__slots__` or `hasattr(obj, "__slots__")` on an object whose type is
    /// unknown.
    UnknownSlotsLookup(Arc<FirstSite>),
    /// An attribute the class does not have is written on an object of unknown type,
    /// and where (boxed: every class holds its reasons, and most are smaller).
    UnknownWrite(Box<UnknownWrite>),
    /// Pickles are loaded somewhere (old pickles may hold dict state).
    PickleLoad,
    /// Pickle protocol 0/1 or `copyreg` is used.
    OldPickle,
    /// An instance is passed to a callee outside the project (its last name).
    EscapesTo(String),
    /// An instance is passed to a call pyslim cannot resolve (the first such call
    /// found for the class).
    EscapesUnresolved(Arc<FirstSite>),
    /// A base whose rewrite it needs is unsafe (the base's name).
    UnsafeBase(String),
}

/// Where a reason that many places may give is first found, and in how many other
/// files it is found too: an object of unknown type used in a way that needs an
/// instance's dict ([`Unproven::UnknownDict`] and its kin), or an instance passed to a
/// call pyslim cannot resolve. The message names one place, so that a user who fixes
/// it learns whether others remain. Shown as the site, then the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstSite {
    /// The first use.
    pub site: Site,
    /// Other files with such a use (another in the same file is not counted).
    pub other_files: usize,
}

impl FirstSite {
    /// The first use, at `site`, before any other is counted.
    pub fn at(site: Site) -> Self {
        FirstSite {
            site,
            other_files: 0,
        }
    }
}

impl fmt::Display for FirstSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.site)?;
        match self.other_files {
            0 => Ok(()),
            1 => f.write_str(", and in 1 other file"),
            n => write!(f, ", and in {n} other files"),
        }
    }
}

/// The attribute of an [`Unproven::UnknownWrite`], where it is first written, and how
/// many other attributes the class lacks are written on objects of unknown type too:
/// each blocks the rewrite the same way, and the message names one, so that a user
/// who makes that object's type known learns that the rewrite still waits on others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWrite {
    /// The attribute named.
    pub attr: String,
    /// Its first write on an object of unknown type.
    pub site: Site,
    /// The other attributes written that way that the class lacks.
    pub others: usize,
}

impl Unproven {
    /// A use of an object of unknown type (`vars()`, a computed `setattr`, a
    /// `__class__` assignment, a `__slots__` lookup), which may be any instance.
    pub(crate) fn is_unknown_object(&self) -> bool {
        matches!(
            self,
            Unproven::UnknownDict(_)
                | Unproven::UnknownSetattr(_)
                | Unproven::UnknownClassAssign(_)
                | Unproven::UnknownSlotsLookup(_)
        )
    }

    /// The first site of a reason that names one place of many ([`FirstSite`]).
    pub(crate) fn first_site_mut(&mut self) -> Option<&mut Arc<FirstSite>> {
        match self {
            Unproven::UnknownDict(first)
            | Unproven::UnknownSetattr(first)
            | Unproven::UnknownClassAssign(first)
            | Unproven::UnknownSlotsLookup(first)
            | Unproven::EscapesUnresolved(first) => Some(first),
            _ => None,
        }
    }
}

impl fmt::Display for Unproven {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unproven::Defines(name) => write!(f, "defines {name}"),
            Unproven::UnknownDict(site) => {
                write!(
                    f,
                    "vars() or __dict__ is used on an object of unknown type at {site}"
                )
            }
            Unproven::UnknownSlotsLookup(site) => {
                write!(
                    f,
                    "__slots__ is looked up on an object of unknown type at {site}"
                )
            }
            Unproven::UnknownSetattr(site) => write!(
                f,
                "setattr() with a computed name on an object of unknown type at {site}"
            ),
            Unproven::UnknownClassAssign(site) => {
                write!(
                    f,
                    "__class__ is assigned on an object of unknown type at {site}"
                )
            }
            Unproven::UnknownWrite(write) => {
                let UnknownWrite { attr, site, others } = write.as_ref();
                write!(
                    f,
                    "attribute `{attr}` is written on an object of unknown type at {site}"
                )?;
                match others {
                    0 => Ok(()),
                    1 => f.write_str(", as is 1 other attribute"),
                    n => write!(f, ", as are {n} other attributes"),
                }
            }
            Unproven::PickleLoad => f.write_str("the project loads pickles"),
            Unproven::OldPickle => f.write_str("the project uses pickle protocol 0/1 or copyreg"),
            Unproven::EscapesTo(callee) => {
                write!(f, "instance is passed to `{callee}` outside the project")
            }
            Unproven::EscapesUnresolved(call) => {
                write!(
                    f,
                    "instance is passed to a call pyslim cannot resolve at {call}"
                )
            }
            Unproven::UnsafeBase(base) => write!(
                f,
                "base `{base}` is unsafe, and without its slots this saves nothing"
            ),
        }
    }
}

/// Where in the project a fact was found: the first use that leaves a rewrite
/// unproven, so that its message says what to annotate, check or suppress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The file, relative to the project root.
    pub path: Arc<str>,
    /// The 1-based line of the statement, when the fact kept it.
    pub line: Option<u32>,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => f.write_str(&self.path),
        }
    }
}
