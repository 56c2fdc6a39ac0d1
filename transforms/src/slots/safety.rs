//! What stops a class from taking `__slots__` (the list `pyslim explain slots` prints
//! under "When a class is skipped"), with the short, stable phrases `--explain` prints. The per-instance saving quoted in messages lives in
//! [`crate::figures`].

/// A reason found inside one class that it cannot take slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// `vars(self)`: a slotted instance has no `__dict__` to return.
    Vars,
    /// `self.__dict__`: likewise.
    SelfDict,
    /// `setattr(self, name, ...)` with a computed name: it may not be a slot.
    DynamicSetattr,
    /// `setattr(cls, name, ...)` with a computed name: may replace a slot descriptor.
    DynamicClassSetattr,
    /// `functools.cached_property` stores into the instance dict.
    CachedProperty,
    /// `self.__class__ = ...`: the other class needs the same slot layout.
    ClassAssign,
    /// `__getstate__`/`__setstate__`/`__reduce__` written for a dict-based instance.
    CustomPickle(String),
    /// `if`/`for`/`try` at class level: names we would have to track per branch.
    ComplexBody,
    /// A method (its name) takes its instance through `*args`: what it sets on the
    /// instance is not seen.
    SelfInVarargs(String),
    /// `dir(self)` or `inspect.getmembers(self)`: lists the instance dict, and with
    /// slots would list unset slots and no `__dict__`.
    ListsSelf,
    /// `functools.update_wrapper(self, f)`: sets `__module__`, `__doc__`, ... on the
    /// instance (class-level names, read-only with slots) and updates its `__dict__`.
    UpdateWrapper,
}

impl Blocker {
    /// The phrase shown in notes.
    pub fn reason(&self) -> String {
        match self {
            Blocker::Vars => "uses vars(self)".into(),
            Blocker::SelfDict => "uses self.__dict__".into(),
            Blocker::DynamicSetattr => "uses setattr(self, ...) with a computed name".into(),
            Blocker::DynamicClassSetattr => {
                "uses setattr() with a computed name on the class".into()
            }
            Blocker::CachedProperty => "uses cached_property".into(),
            Blocker::ClassAssign => "assigns self.__class__".into(),
            Blocker::CustomPickle(name) => format!("defines {name}"),
            Blocker::ComplexBody => "class body has conditional or loop statements".into(),
            Blocker::SelfInVarargs(method) => {
                format!("`{method}` takes its instance through *args")
            }
            Blocker::ListsSelf => "lists itself with dir(self) or getmembers(self)".into(),
            Blocker::UpdateWrapper => {
                "passes itself to functools.update_wrapper (sets __module__, __doc__, __dict__)"
                    .into()
            }
        }
    }

    /// Whether a base of a class with this blocker must stay unslotted too: these need
    /// every attribute in the instance dict, and a slotted base would keep its own
    /// attributes out of the subclass's dict.
    pub fn needs_whole_dict(&self) -> bool {
        !matches!(
            self,
            Blocker::CachedProperty
                | Blocker::DynamicSetattr
                | Blocker::DynamicClassSetattr
                | Blocker::ComplexBody
                | Blocker::SelfInVarargs(_)
        )
    }
}
