//! What the file does to objects, recorded: an attribute write, a computed `setattr`
//! or a dict use on `self` goes into its class's summary, on anything else it becomes
//! a [`Fact`] for the project decision.

use std::hash::BuildHasher;

use ruff_python_ast::Expr;
use ruff_python_ast::name::Name;
use ruff_text_size::Ranged;

use crate::slots::safety::Blocker;
use crate::slots::types::{self, Shape};

use super::bindings::binds_in;
use super::exprs::{certain_reads, is_stable, root_name};
use super::{Fact, Indexer, Receiver};

impl<'m> Indexer<'m, '_> {
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

    pub(super) fn fact(&mut self, fact: Fact) {
        let named = fact.may_name_its_site();
        self.keep_fact(fact, |me| {
            named.then(|| {
                // The file's own line index, which its first pass and suppression
                // comments read too.
                let line = me.source.line_index().line_index(me.statement).get();
                u32::try_from(line).unwrap_or(u32::MAX)
            })
        });
    }

    /// Records `fact` unless the file has it already; a new one keeps the line `line`
    /// gives, if any (asked only then: most facts recur).
    pub(super) fn keep_fact(&mut self, fact: Fact, line: impl FnOnce(&Self) -> Option<u32>) {
        let hash = rustc_hash::FxBuildHasher.hash_one(&fact);
        let same = self.fact_hashes.entry(hash).or_default();
        if same.iter().any(|&i| self.summary.facts[i] == fact) {
            return;
        }
        let index = self.summary.facts.len();
        same.push(index);
        if let Ok(index) = u32::try_from(index)
            && let Some(line) = line(self)
        {
            self.summary.fact_lines.push((index, line));
        }
        self.summary.facts.push(fact);
    }

    /// An attribute of `recv` is written.
    pub(super) fn attr_write(&mut self, recv: Receiver, attr: &str) {
        self.attr_write_typed(recv, attr, None);
    }

    /// An attribute of `recv` is written with a value of type `value` (`None`: not
    /// known).
    pub(super) fn attr_write_typed(&mut self, recv: Receiver, attr: &str, value: Option<Shape>) {
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
    pub(super) fn store_target(&mut self, target: &Expr, value: Option<Shape>) {
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
    pub(super) fn store_unpacked(&mut self, targets: &[Expr], value: &Expr) {
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

    /// Whether writing `recv.attr = value` certainly follows a read of `recv.attr` on
    /// the same object: `recv` is of unknown type, evaluates to the same object each
    /// time (a name, a chain of attributes and constant subscripts of one), and
    /// `value` reads the attribute wherever it is evaluated.
    pub(super) fn guarded_by(&self, recv: &Expr, attr: &str, value: &Expr) -> bool {
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

    pub(super) fn dynamic_setattr(&mut self, recv: Receiver) {
        match recv {
            Receiver::SelfOf(c) => self.summary.classes[c].block(Blocker::DynamicSetattr),
            // A computed name set on the class may replace a slot descriptor.
            Receiver::ClassOf(c) => self.summary.classes[c].block(Blocker::DynamicClassSetattr),
            recv => self.fact(Fact::DynamicSetattr(recv)),
        }
    }

    /// `obj.__dict__`, `getattr(obj, "__dict__")` or `hasattr(obj, "__dict__")`: on a
    /// class object (`Cls.__dict__`) the class namespace, else the instance dict.
    pub(super) fn dunder_dict(&mut self, recv: Receiver) {
        if recv.may_be_class_object() {
            self.fact(Fact::Namespace(recv));
        } else {
            self.dict_access(recv, false);
        }
    }

    /// `obj.__slots__` or `hasattr(obj, "__slots__")`: on a class object its namespace
    /// is read, else whether the instance has slots is asked.
    pub(super) fn slots_lookup(&mut self, recv: Receiver) {
        if recv.may_be_class_object() {
            self.fact(Fact::Namespace(recv));
        } else {
            self.fact(Fact::SlotsLookup(recv));
        }
    }

    pub(super) fn dict_access(&mut self, recv: Receiver, vars: bool) {
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
