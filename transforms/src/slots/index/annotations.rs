//! What annotations and signatures say: the types an annotation allows (a bound
//! `TypeVar` standing for its bound), the signatures of module-level functions, and
//! what a decorator says it passes first.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{self as ast, Expr, Stmt};

use crate::slots::signature::{Param, ParamKind, Signature};
use crate::slots::types::{self, Shape, TypeRef};

use super::bindings::Binding;
use super::{Indexer, Scope};

impl<'m> Indexer<'m, '_> {
    /// The module-level `T = TypeVar("T", bound=...)` of `body`, bound only there.
    pub(super) fn typevars_in(
        &self,
        body: &'m [Stmt],
        bindings: &HashMap<&'m str, Binding<'m>>,
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

    /// The signature of a module-level `def` (an `@overload` when `overload`).
    pub(super) fn signature(&self, def: &ast::StmtFunctionDef, overload: bool) -> Signature {
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

    /// Reads an annotation in the current scope.
    pub(super) fn annotation(&self, annotation: &Expr) -> Option<Shape> {
        let own = self.current_method_class().map(|c| self.class_dotted(c));
        types::annotation(annotation, &|e| self.resolve_type(e), own.as_deref())
    }

    /// Resolves a name in an annotation: a module-level `TypeVar` with a `bound=`
    /// class stands for that class (an instance of it or of a subclass); one without
    /// a bound says nothing.
    pub(super) fn resolve_type(&self, expr: &Expr) -> Option<String> {
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

    /// What each item of a fixed-length `tuple[A, B]` annotation allows.
    pub(super) fn tuple_items(&self, annotation: &Expr) -> Option<Vec<Option<Vec<TypeRef>>>> {
        let items = types::tuple_items(annotation, &|e| self.resolve(e))?;
        Some(items.iter().map(|e| self.instances(e)).collect())
    }

    /// What a decorator says it passes first to the function it takes: `X` when its
    /// first parameter is annotated `Callable[Concatenate[X, ...], R]` or
    /// `Callable[[X, ...], R]` with `X` an instance type.
    pub(super) fn passes_first(&self, def: &ast::StmtFunctionDef) -> Option<Vec<TypeRef>> {
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
}
