//! What an annotation says about the objects it describes, as far as the `slots`
//! analysis needs it: "an instance of one of these classes (or of a subclass)", or "a
//! container whose elements are". Names are resolved through the file's imports to
//! absolute dotted names; [`super::decide`] then decides which of them are project
//! classes.
//!
//! Annotations are taken at their word, as a type checker takes them: `def f(p:
//! Point)` means `p` is a `Point`. So are the annotations that type a parameter
//! from elsewhere: an override's unannotated parameter is what every base defining
//! the method annotates it as ([`TypeRef::Inherited`]), and a decorator annotated
//! `Callable[Concatenate[X, P], R]` passes an `X` first ([`TypeRef::PassedBy`]).
//! Anything that is not a plain class, an `Optional`/`Union`/`|` of classes or one of
//! the known containers of them (`Any`, `object`, type variables, callables, mappings)
//! says nothing.

use ruff_python_ast::{self as ast, Expr, Operator};

/// One member of what an object may be.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeRef {
    /// What calling this dotted callee returns: an instance of exactly that class
    /// when it is one, what the function returns when it is a project function.
    Call(String),
    /// An instance of this dotted class or of a subclass (an annotation, an
    /// `isinstance` check, `cls(...)`).
    Of(String),
    /// Any callable object (`Callable[..., T]`): a function, or an instance of a class
    /// whose type has `__call__`.
    Callable,
    /// What the first is, but no instance of these dotted classes or their
    /// subclasses (the `else` of an `isinstance` check).
    Except(Box<TypeRef>, Vec<String>),
    /// An unannotated parameter of a method that overrides one of a base: what the
    /// bases' definitions of `method` annotate the parameter at this position and
    /// of this name as (callers reach the override through the base's signature).
    Inherited(Box<InheritedParam>),
    /// The first parameter of a function decorated (innermost) with this dotted
    /// decorator: what the decorator's own annotation says it passes there
    /// (`def pass_context(f: Callable[Concatenate[Context, P], R])`).
    PassedBy(String),
    /// What a decorator factory's result makes of the function it wraps: calling the
    /// dotted function with arguments of this shape gives a callable, and this is
    /// what calling that gives (`@command("name") def cli(): ...`).
    Applied(Box<(String, super::signature::CallShape)>),
    /// The item at this position of the tuple calling the dotted callee returns, by
    /// its declared `tuple[A, B]` return type (`_, cmd, _ = self.resolve(...)`).
    Item(String, usize),
    /// What calling this method on an object of that type returns.
    MethodOf(Box<TypeRef>, String),
    /// An unannotated parameter, at this position, of the dotted private module-level
    /// function: what its module's direct calls of it pass there, when nothing else
    /// can call it (`Callers::call_sites` in its file's summary).
    CallSites(Box<(String, usize)>),
}

/// Which parameter a [`TypeRef::Inherited`] is (boxed there: the rarer, larger
/// variants would otherwise make every type in every summary larger).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InheritedParam {
    /// The dotted class whose method it is.
    pub class: String,
    /// The method.
    pub method: String,
    /// Its position among the parameters, `self` included.
    pub position: usize,
    /// Its name.
    pub name: String,
}

impl TypeRef {
    /// `Callable`, or what is left of it after an `isinstance` check.
    pub fn is_callable(&self) -> bool {
        match self {
            TypeRef::Callable => true,
            TypeRef::Except(inner, _) => inner.is_callable(),
            TypeRef::Of(_)
            | TypeRef::Call(_)
            | TypeRef::Inherited(_)
            | TypeRef::PassedBy(_)
            | TypeRef::Applied(_)
            | TypeRef::Item(..)
            | TypeRef::MethodOf(..)
            | TypeRef::CallSites(_) => false,
        }
    }

    /// A type only the project decision reads, from what other files say (an
    /// inherited or decorator-given parameter type, a returned tuple's item, a
    /// method's result on one of those): it may turn out unknown there.
    pub fn is_deferred(&self) -> bool {
        matches!(
            self,
            TypeRef::Inherited(_)
                | TypeRef::PassedBy(_)
                | TypeRef::Applied(_)
                | TypeRef::Item(..)
                | TypeRef::MethodOf(..)
                | TypeRef::CallSites(_)
        )
    }
}

/// What an annotation describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// An instance of one of these (`None` members dropped: `None` takes no
    /// attributes).
    Instances(Vec<TypeRef>),
    /// A container (list, set, tuple of any length, iterable...) of such instances.
    Elements(Vec<TypeRef>),
    /// A class object (`type[Point]`): calling it makes such instances.
    Classes(Vec<TypeRef>),
}

/// Containers whose iteration yields their single type argument.
const CONTAINERS: &[&str] = &[
    "builtins.list",
    "builtins.set",
    "builtins.frozenset",
    "collections.deque",
    "typing.List",
    "typing.Set",
    "typing.FrozenSet",
    "typing.Deque",
    "typing.Sequence",
    "typing.MutableSequence",
    "typing.AbstractSet",
    "typing.MutableSet",
    "typing.Iterable",
    "typing.Iterator",
    "typing.Collection",
    "typing.Generator",
    "collections.abc.Sequence",
    "collections.abc.MutableSequence",
    "collections.abc.Set",
    "collections.abc.MutableSet",
    "collections.abc.Iterable",
    "collections.abc.Iterator",
    "collections.abc.Collection",
    "collections.abc.Generator",
];

/// Names that say nothing about the object.
const OPAQUE: &[&str] = &[
    "typing.Any",
    "typing_extensions.Any",
    "builtins.object",
    "builtins.type",
    "typing.Type",
];

/// The typing module's name for `name` when `dotted` is `typing.name` or
/// `typing_extensions.name`.
pub(super) fn typing_name(dotted: &str) -> Option<&str> {
    dotted
        .strip_prefix("typing.")
        .or_else(|| dotted.strip_prefix("typing_extensions."))
}

/// `typing.Callable` or `collections.abc.Callable`.
fn is_callable(dotted: &str) -> bool {
    typing_name(dotted) == Some("Callable") || dotted == "collections.abc.Callable"
}

/// `tuple` or `typing.Tuple`.
fn is_tuple(dotted: &str) -> bool {
    matches!(dotted, "builtins.tuple" | "typing.Tuple")
}

/// The parameters and the return type of a `Callable[params, R]` annotation.
pub fn callable_parts<'e>(
    expr: &'e Expr,
    resolve: &dyn Fn(&Expr) -> Option<String>,
) -> Option<(&'e Expr, &'e Expr)> {
    let Expr::Subscript(sub) = expr else {
        return None;
    };
    if !is_callable(&resolve(&sub.value)?) {
        return None;
    }
    match sub.slice.as_ref() {
        Expr::Tuple(args) => match args.elts.as_slice() {
            [params, returns] => Some((params, returns)),
            _ => None,
        },
        _ => None,
    }
}

/// The item annotations of a fixed-length `tuple[A, B]` annotation (not `tuple[A,
/// ...]`).
pub fn tuple_items<'e>(
    expr: &'e Expr,
    resolve: &dyn Fn(&Expr) -> Option<String>,
) -> Option<&'e [Expr]> {
    let Expr::Subscript(sub) = expr else {
        return None;
    };
    if !is_tuple(&resolve(&sub.value)?) {
        return None;
    }
    match sub.slice.as_ref() {
        Expr::Tuple(items) if !items.elts.iter().any(Expr::is_ellipsis_literal_expr) => {
            Some(&items.elts)
        }
        _ => None,
    }
}

/// Reads an annotation. `resolve` maps a name or attribute chain to its absolute
/// dotted name; `own_class` is the dotted name `Self` means, inside a class.
pub fn annotation(
    expr: &Expr,
    resolve: &dyn Fn(&Expr) -> Option<String>,
    own_class: Option<&str>,
) -> Option<Shape> {
    annotation_at(expr, resolve, own_class, 0)
}

fn annotation_at(
    expr: &Expr,
    resolve: &dyn Fn(&Expr) -> Option<String>,
    own_class: Option<&str>,
    depth: u8,
) -> Option<Shape> {
    if depth > 8 {
        return None;
    }
    let recurse = |e: &Expr| annotation_at(e, resolve, own_class, depth + 1);
    match expr {
        Expr::NoneLiteral(_) => Some(Shape::Instances(Vec::new())),
        Expr::StringLiteral(s) => {
            // A forward reference: the names in it resolve like any other.
            let parsed = ruff_python_parser::parse_expression(s.value.to_str()).ok()?;
            recurse(parsed.expr())
        }
        Expr::BinOp(ast::ExprBinOp {
            left,
            op: Operator::BitOr,
            right,
            ..
        }) => union([recurse(left)?, recurse(right)?]),
        Expr::Name(_) | Expr::Attribute(_) => {
            let dotted = resolve(expr)?;
            if OPAQUE.contains(&dotted.as_str()) {
                return None;
            }
            if is_callable(&dotted) {
                return Some(Shape::Instances(vec![TypeRef::Callable]));
            }
            if typing_name(&dotted) == Some("Self") {
                return own_class.map(|c| Shape::Instances(vec![TypeRef::Of(c.to_string())]));
            }
            if typing_name(&dotted).is_some() {
                // `typing.Callable`, `typing.Hashable`...: no class of ours.
                return None;
            }
            Some(Shape::Instances(vec![TypeRef::Of(dotted)]))
        }
        Expr::Subscript(sub) => {
            let base = resolve(&sub.value)?;
            if is_callable(&base) {
                return Some(Shape::Instances(vec![TypeRef::Callable]));
            }
            let args: Vec<&Expr> = match sub.slice.as_ref() {
                Expr::Tuple(t) => t.elts.iter().collect(),
                other => vec![other],
            };
            match typing_name(&base) {
                Some("Optional") => return recurse(args.first()?),
                Some("Union") => {
                    return union(args.into_iter().map(recurse).collect::<Option<Vec<_>>>()?);
                }
                Some("Annotated") => return recurse(args.first()?),
                _ => {}
            }
            // `type[Point]`: the class object (or a subclass's).
            if matches!(base.as_str(), "builtins.type" | "typing.Type") {
                return match recurse(args.first()?)? {
                    Shape::Instances(members) if !members.is_empty() => {
                        Some(Shape::Classes(members))
                    }
                    _ => None,
                };
            }
            let tuple = is_tuple(&base);
            if CONTAINERS.contains(&base.as_str()) || tuple {
                // `tuple[X, ...]` is a sequence of X; `tuple[X, Y]` is not one type.
                let element = match (tuple, args.as_slice()) {
                    (true, [x, Expr::EllipsisLiteral(_)]) => *x,
                    (true, _) => return None,
                    (false, [x, ..]) => *x,
                    (false, []) => return None,
                };
                return match recurse(element)? {
                    Shape::Instances(members) => Some(Shape::Elements(members)),
                    Shape::Elements(_) | Shape::Classes(_) => None,
                };
            }
            if typing_name(&base).is_some() || OPAQUE.contains(&base.as_str()) {
                return None;
            }
            // A generic class (`Box[int]`): an instance of the class.
            Some(Shape::Instances(vec![TypeRef::Of(base)]))
        }
        _ => None,
    }
}

/// What a name holds after two assignments of these shapes: the union of instances,
/// or of elements; an instance and a container do not mix.
pub fn merge(a: &Shape, b: &Shape) -> Option<Shape> {
    let (all, elements) = match (a, b) {
        (Shape::Instances(x), Shape::Instances(y)) => {
            ([x.as_slice(), y.as_slice()].concat(), false)
        }
        (Shape::Elements(x), Shape::Elements(y)) => ([x.as_slice(), y.as_slice()].concat(), true),
        // Class objects are not followed through attributes.
        _ => return None,
    };
    let mut all = all;
    all.sort();
    all.dedup();
    Some(if elements {
        Shape::Elements(all)
    } else {
        Shape::Instances(all)
    })
}

/// The union of instance shapes, or of class objects (`None` may join either);
/// containers do not mix.
fn union(shapes: impl IntoIterator<Item = Shape>) -> Option<Shape> {
    let mut members = Vec::new();
    let mut classes = false;
    let mut instances = false;
    for shape in shapes {
        match shape {
            Shape::Instances(m) => {
                instances |= !m.is_empty();
                members.extend(m);
            }
            Shape::Classes(m) => {
                classes = true;
                members.extend(m);
            }
            Shape::Elements(_) => return None,
        }
    }
    members.sort();
    members.dedup();
    match (classes, instances) {
        (true, true) => None,
        (true, false) => Some(Shape::Classes(members)),
        (false, _) => Some(Shape::Instances(members)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(src: &str) -> Option<Shape> {
        let parsed = ruff_python_parser::parse_expression(src).expect("parses");
        let resolve = |e: &Expr| {
            let name = ruff_python_ast::name::UnqualifiedName::from_expr(e)?.to_string();
            Some(match name.as_str() {
                "Optional" | "Union" | "List" | "Any" | "Self" => format!("typing.{name}"),
                "list" | "tuple" | "dict" | "object" => format!("builtins.{name}"),
                other => format!("m.{other}"),
            })
        };
        annotation(parsed.expr(), &resolve, Some("m.Own"))
    }

    fn of(names: &[&str]) -> Vec<TypeRef> {
        names
            .iter()
            .map(|n| TypeRef::Of(format!("m.{n}")))
            .collect()
    }

    #[test]
    fn plain_optional_union_and_forward_references() {
        assert_eq!(shape("Point"), Some(Shape::Instances(of(&["Point"]))));
        assert_eq!(
            shape("Optional[Point]"),
            Some(Shape::Instances(of(&["Point"])))
        );
        assert_eq!(
            shape("Point | None"),
            Some(Shape::Instances(of(&["Point"])))
        );
        assert_eq!(shape("'Point'"), Some(Shape::Instances(of(&["Point"]))));
        assert_eq!(
            shape("Union[B, 'A']"),
            Some(Shape::Instances(of(&["A", "B"])))
        );
        assert_eq!(shape("Self"), Some(Shape::Instances(of(&["Own"]))));
    }

    #[test]
    fn containers_give_their_elements() {
        assert_eq!(shape("list[Point]"), Some(Shape::Elements(of(&["Point"]))));
        assert_eq!(
            shape("List['Point']"),
            Some(Shape::Elements(of(&["Point"])))
        );
        assert_eq!(
            shape("tuple[Point, ...]"),
            Some(Shape::Elements(of(&["Point"])))
        );
        assert_eq!(shape("tuple[Point, Line]"), None);
        assert_eq!(shape("list[Point] | Point"), None);
    }

    #[test]
    fn a_type_is_no_larger_than_a_string_and_a_word() {
        // Every summary holds many of them: a large variant goes in a box.
        assert!(std::mem::size_of::<TypeRef>() <= 40);
    }

    #[test]
    fn opaque_annotations_say_nothing() {
        assert_eq!(shape("Any"), None);
        assert_eq!(shape("object"), None);
        assert_eq!(shape("Optional[Any]"), None);
        assert_eq!(shape("f()"), None);
    }
}
