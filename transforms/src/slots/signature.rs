//! Call signatures of module-level functions, as far as choosing among a function's
//! `@overload`s needs them: which parameters a call's arguments bind, and whether a
//! string literal can go where only a callable may. A decorator factory
//! (`@command("name")`) returns what the overloads that accept the call say, and the
//! function it then wraps becomes what that callable returns.

use ruff_python_ast::{self as ast, Expr};

use super::types::TypeRef;

/// How a parameter may be passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Before `/`.
    PositionalOnly,
    /// By position or by name.
    Positional,
    /// After `*` or `*args`.
    KeywordOnly,
}

/// One parameter of a [`Signature`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// How it may be passed.
    pub kind: ParamKind,
    /// It has a default, so a call may leave it out.
    pub default: bool,
    /// Its annotation allows callables only (`Callable[..., Any]`, through a module
    /// alias too): a string literal cannot go there.
    pub callable_only: bool,
}

/// One signature of a module-level function: an `@overload` or its definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// An `@overload` stub (when a function has any, they are its signatures).
    pub overload: bool,
    /// Its parameters, `*args` and `**kwargs` left out.
    pub params: Vec<Param>,
    /// It takes `*args`.
    pub var_positional: bool,
    /// It takes `**kwargs`.
    pub var_keyword: bool,
    /// What calling the callable it returns gives, when its return annotation is
    /// `Callable[..., R]` with `R` instances of known classes.
    pub then: Option<Vec<TypeRef>>,
}

/// One positional argument of a call, as far as overloads are told apart by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arg {
    /// A string literal: never callable.
    Str,
    /// Anything else.
    Other,
}

/// The arguments of a call: its positional ones and the names of its keywords.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallShape {
    /// The positional arguments, in order.
    pub positional: Vec<Arg>,
    /// The keyword arguments' names.
    pub keywords: Vec<String>,
}

impl CallShape {
    /// The shape of `call`, unless it unpacks `*args` or `**kwargs` (which may bind
    /// anything).
    pub fn of(call: &ast::ExprCall) -> Option<Self> {
        let mut positional = Vec::new();
        for arg in &*call.arguments.args {
            positional.push(match arg {
                Expr::Starred(_) => return None,
                Expr::StringLiteral(_) => Arg::Str,
                _ => Arg::Other,
            });
        }
        let keywords = call
            .arguments
            .keywords
            .iter()
            .map(|k| k.arg.as_ref().map(ToString::to_string))
            .collect::<Option<Vec<_>>>()?;
        Some(CallShape {
            positional,
            keywords,
        })
    }
}

impl Signature {
    /// Whether a call of this shape binds every required parameter of this signature,
    /// and nothing it cannot take. Argument types are not checked beyond a string
    /// literal where only a callable may go: a signature that may accept the call is
    /// kept.
    pub fn accepts(&self, call: &CallShape) -> bool {
        let positional: Vec<usize> = (0..self.params.len())
            .filter(|&i| self.params[i].kind != ParamKind::KeywordOnly)
            .collect();
        if call.positional.len() > positional.len() && !self.var_positional {
            return false;
        }
        let mut bound = vec![false; self.params.len()];
        for (arg, &i) in call.positional.iter().zip(&positional) {
            if *arg == Arg::Str && self.params[i].callable_only {
                return false;
            }
            bound[i] = true;
        }
        for keyword in &call.keywords {
            let named = self
                .params
                .iter()
                .position(|p| p.name == *keyword && p.kind != ParamKind::PositionalOnly);
            match named {
                Some(i) if !bound[i] => bound[i] = true,
                // Passed twice: a `TypeError`, whatever the overload.
                Some(_) => return false,
                None if self.var_keyword => {}
                None => return false,
            }
        }
        self.params
            .iter()
            .zip(bound)
            .all(|(p, bound)| bound || p.default)
    }
}

/// What calling the result of `callee(...)` (a call of `shape`) gives, from the
/// signatures of the function: the union over the overloads that may accept the call
/// (the definition when there are none), when each says.
pub fn applied(signatures: &[Signature], shape: &CallShape) -> Option<Vec<TypeRef>> {
    let overloads = signatures.iter().any(|s| s.overload);
    let mut out = Vec::new();
    let mut any = false;
    for s in signatures.iter().filter(|s| s.overload == overloads) {
        if s.accepts(shape) {
            out.extend(s.then.clone()?);
            any = true;
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, kind: ParamKind, default: bool, callable_only: bool) -> Param {
        Param {
            name: name.into(),
            kind,
            default,
            callable_only,
        }
    }

    fn shape(positional: &[Arg], keywords: &[&str]) -> CallShape {
        CallShape {
            positional: positional.to_vec(),
            keywords: keywords.iter().map(ToString::to_string).collect(),
        }
    }

    fn signature(overload: bool, params: Vec<Param>, then: Option<&str>) -> Signature {
        Signature {
            overload,
            params,
            var_positional: !overload,
            var_keyword: true,
            then: then.map(|c| vec![TypeRef::Of(c.into())]),
        }
    }

    /// `command`'s overloads in click: `(name: Callable)`, `(name, cls, **attrs)`,
    /// `(name=None, *, cls, **attrs)`, `(name=..., cls=None, **attrs)`, then the
    /// definition (`*args, **kwargs` here), not read while there are overloads.
    fn command() -> Vec<Signature> {
        use ParamKind::{KeywordOnly, Positional};
        let mut callable_only = signature(true, vec![param("name", Positional, false, true)], None);
        callable_only.var_keyword = false;
        vec![
            callable_only,
            signature(
                true,
                vec![
                    param("name", Positional, false, false),
                    param("cls", Positional, false, false),
                ],
                Some("m.Custom"),
            ),
            signature(
                true,
                vec![
                    param("name", Positional, true, false),
                    param("cls", KeywordOnly, false, false),
                ],
                Some("m.Custom"),
            ),
            signature(
                true,
                vec![
                    param("name", Positional, true, false),
                    param("cls", Positional, true, false),
                ],
                Some("m.Command"),
            ),
            signature(false, vec![], Some("m.Other")),
        ]
    }

    #[test]
    fn the_overloads_a_call_may_match_decide_what_it_returns() {
        let of = |names: &[&str]| -> Option<Vec<TypeRef>> {
            Some(names.iter().map(|n| TypeRef::Of((*n).into())).collect())
        };
        // `@command("name")` and `@command()`: the last overload only (a string is
        // no callable; `cls` is required by the others).
        assert_eq!(
            applied(&command(), &shape(&[Arg::Str], &[])),
            of(&["m.Command"])
        );
        assert_eq!(
            applied(&command(), &shape(&[], &["help"])),
            of(&["m.Command"])
        );
        // `@command(cls=X)`: three may match, and together they say.
        assert_eq!(
            applied(&command(), &shape(&[], &["cls"])),
            of(&["m.Custom", "m.Command"])
        );
        // `@command(f)` with `f` maybe callable: an overload that says nothing of
        // calling its result matches, so nothing is known.
        assert_eq!(applied(&command(), &shape(&[Arg::Other], &[])), None);
        // Nothing accepts three positional arguments, or a keyword given twice.
        assert_eq!(
            applied(&command(), &shape(&[Arg::Str, Arg::Other, Arg::Other], &[])),
            None
        );
        assert_eq!(applied(&command(), &shape(&[Arg::Str], &["name"])), None);
    }

    #[test]
    fn without_overloads_the_definition_decides() {
        let def = Signature {
            overload: false,
            params: vec![param("f", ParamKind::PositionalOnly, false, false)],
            var_positional: false,
            var_keyword: false,
            then: Some(vec![TypeRef::Of("m.A".into())]),
        };
        assert_eq!(
            applied(std::slice::from_ref(&def), &shape(&[Arg::Other], &[])),
            def.then
        );
        // A positional-only parameter cannot be named.
        assert_eq!(applied(&[def], &shape(&[], &["f"])), None);
    }
}
