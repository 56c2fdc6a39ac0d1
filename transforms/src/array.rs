#![doc = include_str!("array.md")]

use std::collections::HashMap;

use ruff_python_ast::{Expr, ExprCall, Number, Operator, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::bindings::scope::{Body, LocalNames, Site, function_locals};
use crate::bindings::{self, Escape, ScopeKind, Tracked, UseKind};
use crate::imports::{self, Style};
use crate::syntax::target_names;
use crate::{Edit, FileContext, Finding, Fix, Impact, Note, Output, SourceModule, Transform};

/// The `array` transform.
pub struct ArrayTransform;

const NAME: &str = "array";

impl Transform for ArrayTransform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn summary(&self) -> &'static str {
        "local lists of floats become array.array('d')"
    }

    fn applicability(&self) -> &'static str {
        "always unsafe (element identity, repr and errors change)"
    }

    fn documentation(&self) -> &'static str {
        include_str!("array.md")
    }

    fn run(&self, ctx: &FileContext) -> Output {
        let ast = ctx.module.ast();
        let want = |e: &Expr| shape(e).is_some();
        let math = MathNames::new(ctx.module);
        let mut out = Output::default();
        for tracked in bindings::analyze(ast, &want, false, true) {
            let ScopeKind::Function(function) = tracked.scope else {
                continue;
            };
            let Some(shape) = shape(tracked.value) else {
                continue;
            };
            let locals = function_locals(Some(&function.parameters), Body::Stmts(&function.body));
            let types = Types {
                locals: &locals,
                math: &math,
                extra: HashMap::new(),
            };
            match check(ctx.module, &tracked, shape, &types) {
                Ok(()) => {
                    let Some(import) =
                        imports::import_member(ctx.module, "array", "array", Style::ModuleImport)
                    else {
                        out.notes.push(note(
                            &tracked,
                            "`array` is bound to something else in this file",
                        ));
                        continue;
                    };
                    out.findings.push(finding(ctx, &tracked, shape, import));
                }
                Err(Some(reason)) => out.notes.push(note(&tracked, &reason)),
                Err(None) => {}
            }
        }
        out
    }
}

fn note(tracked: &Tracked, reason: &str) -> Note {
    Note {
        transform: NAME,
        range: tracked.value.range(),
        reason: format!("`{}` stays a list: {reason}", tracked.name),
    }
}

/// The list forms the transform rewrites.
#[derive(Clone, Copy)]
enum Shape<'a> {
    /// `[]`.
    Empty,
    /// `[a, b]` (non-empty display).
    Display(&'a ruff_python_ast::ExprList),
    /// `[x] * n` or `n * [x]`.
    Repeat(&'a ruff_python_ast::ExprList),
    /// `[e for ...]`.
    Comprehension(&'a ruff_python_ast::ExprListComp),
}

fn shape(expr: &Expr) -> Option<Shape<'_>> {
    match expr {
        Expr::List(l) if l.elts.is_empty() => Some(Shape::Empty),
        Expr::List(l) => Some(Shape::Display(l)),
        Expr::BinOp(b) if b.op == Operator::Mult => match (&*b.left, &*b.right) {
            (Expr::List(l), _) | (_, Expr::List(l)) if l.elts.len() == 1 => Some(Shape::Repeat(l)),
            _ => None,
        },
        Expr::ListComp(c) => Some(Shape::Comprehension(c)),
        _ => None,
    }
}

/// What the file calls the `math` module and the names imported from it.
struct MathNames {
    module: Option<String>,
    functions: Vec<(String, String)>,
    /// Builtins the typing relies on (`float`, `len`, `abs`, `range`) that the file
    /// binds to something else somewhere.
    shadowed: Vec<&'static str>,
}

const MATH_FLOAT_FUNCTIONS: &[&str] = &[
    "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "expm1", "log", "log10",
    "log2", "log1p", "pow", "hypot", "fabs", "degrees", "radians", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "fsum", "copysign", "fmod", "erf", "erfc", "gamma", "lgamma", "dist", "cbrt",
    "exp2",
];
const MATH_FLOAT_CONSTANTS: &[&str] = &["pi", "e", "tau", "inf", "nan"];

impl MathNames {
    fn new(module: &SourceModule) -> Self {
        let mut out = MathNames {
            module: None,
            functions: Vec::new(),
            shadowed: ["float", "len", "abs", "range"]
                .into_iter()
                .filter(|b| imports::binding_sites(module, b) > 0)
                .collect(),
        };
        for stmt in &module.ast().body {
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        if alias.name.id.as_str() == "math" {
                            let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.to_string();
                            if imports::binding_sites(module, &bound) == 1 {
                                out.module = Some(bound);
                            }
                        }
                    }
                }
                Stmt::ImportFrom(import)
                    if import.level == 0
                        && import
                            .module
                            .as_ref()
                            .is_some_and(|m| m.id.as_str() == "math") =>
                {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.to_string();
                        if imports::binding_sites(module, &bound) == 1 {
                            out.functions.push((bound, alias.name.id.to_string()));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn is_float_constant(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Attribute(attr) => {
                matches!(&*attr.value, Expr::Name(n) if Some(n.id.as_str()) == self.module.as_deref())
                    && MATH_FLOAT_CONSTANTS.contains(&attr.attr.id.as_str())
            }
            Expr::Name(n) => self
                .functions
                .iter()
                .any(|(b, m)| b == n.id.as_str() && MATH_FLOAT_CONSTANTS.contains(&m.as_str())),
            _ => false,
        }
    }

    fn is_float_function(&self, func: &Expr) -> bool {
        match func {
            Expr::Attribute(attr) => {
                matches!(&*attr.value, Expr::Name(n) if Some(n.id.as_str()) == self.module.as_deref())
                    && MATH_FLOAT_FUNCTIONS.contains(&attr.attr.id.as_str())
            }
            Expr::Name(n) => self
                .functions
                .iter()
                .any(|(b, m)| b == n.id.as_str() && MATH_FLOAT_FUNCTIONS.contains(&m.as_str())),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Float,
    Int,
    Unknown,
}

struct Types<'t, 'a> {
    locals: &'t LocalNames<'a>,
    math: &'t MathNames,
    /// Comprehension variables known to be ints.
    extra: HashMap<String, Num>,
}

impl Types<'_, '_> {
    fn of(&self, expr: &Expr, depth: u32) -> Num {
        if depth > 4 {
            return Num::Unknown;
        }
        match expr {
            Expr::NumberLiteral(n) => match n.value {
                Number::Float(_) => Num::Float,
                Number::Int(_) => Num::Int,
                Number::Complex { .. } => Num::Unknown,
            },
            Expr::UnaryOp(u) if matches!(u.op, UnaryOp::USub | UnaryOp::UAdd) => {
                self.of(&u.operand, depth + 1)
            }
            Expr::BinOp(b) => {
                let (l, r) = (self.of(&b.left, depth + 1), self.of(&b.right, depth + 1));
                if l == Num::Unknown || r == Num::Unknown {
                    return Num::Unknown;
                }
                let any_float = l == Num::Float || r == Num::Float;
                match b.op {
                    Operator::Div => Num::Float,
                    Operator::Add
                    | Operator::Sub
                    | Operator::Mult
                    | Operator::FloorDiv
                    | Operator::Mod => {
                        if any_float {
                            Num::Float
                        } else {
                            Num::Int
                        }
                    }
                    Operator::Pow if any_float => Num::Float,
                    _ => Num::Unknown,
                }
            }
            Expr::If(e) => {
                let (a, b) = (self.of(&e.body, depth + 1), self.of(&e.orelse, depth + 1));
                if a == b { a } else { Num::Unknown }
            }
            Expr::Call(call) => self.call(call, depth),
            Expr::Name(n) => {
                if self.math.is_float_constant(expr) {
                    return Num::Float;
                }
                if let Some(t) = self.extra.get(n.id.as_str()) {
                    return *t;
                }
                let Some(local) = self.locals.get(n.id.as_str()) else {
                    return Num::Unknown;
                };
                if local.bindings != 1 || local.augmented > 0 || local.global || local.nonlocal {
                    return Num::Unknown;
                }
                match local.site {
                    Some(Site::For(f))
                        if is_range(&f.iter)
                            && f.target.is_name_expr()
                            && !self.math.shadowed.contains(&"range") =>
                    {
                        Num::Int
                    }
                    Some(Site::Assign(a)) => self.of(&a.value, depth + 1),
                    _ => Num::Unknown,
                }
            }
            Expr::Attribute(_) if self.math.is_float_constant(expr) => Num::Float,
            _ => Num::Unknown,
        }
    }

    fn call(&self, call: &ExprCall, depth: u32) -> Num {
        let builtin = |name: &str| {
            matches!(call.func.as_ref(), Expr::Name(n) if n.id.as_str() == name)
                && !self.locals.contains_key(name)
                && !self.math.shadowed.contains(&name)
        };
        let args = &call.arguments;
        if !args.keywords.is_empty() || args.args.iter().any(Expr::is_starred_expr) {
            return Num::Unknown;
        }
        if builtin("float") && args.args.len() <= 1 {
            return Num::Float;
        }
        if builtin("len") && args.args.len() == 1 {
            return Num::Int;
        }
        if builtin("abs") && args.args.len() == 1 {
            return self.of(&args.args[0], depth + 1);
        }
        if self.math.is_float_function(&call.func) {
            return Num::Float;
        }
        Num::Unknown
    }
}

fn is_range(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "range"))
}

/// Every element that may go in is a float.
fn floats(types: &Types, iterable: &Expr) -> bool {
    match iterable {
        Expr::List(ruff_python_ast::ExprList { elts, .. })
        | Expr::Tuple(ruff_python_ast::ExprTuple { elts, .. }) => {
            !elts.is_empty() && elts.iter().all(|e| types.of(e, 0) == Num::Float)
        }
        Expr::ListComp(c) => comprehension_floats(types, &c.elt, &c.generators),
        Expr::Generator(g) => comprehension_floats(types, &g.elt, &g.generators),
        _ => false,
    }
}

fn comprehension_floats(
    types: &Types,
    elt: &Expr,
    generators: &[ruff_python_ast::Comprehension],
) -> bool {
    let mut extra = types.extra.clone();
    for g in generators {
        if let Expr::Name(n) = &g.target {
            let t = if is_range(&g.iter) && !types.math.shadowed.contains(&"range") {
                Num::Int
            } else {
                Num::Unknown
            };
            extra.insert(n.id.to_string(), t);
        } else {
            // Unpacking targets: unknown types that shadow locals.
            let mut names = Vec::new();
            target_names(&g.target, &mut names);
            for name in names {
                extra.insert(name.to_string(), Num::Unknown);
            }
        }
    }
    let inner = Types {
        locals: types.locals,
        math: types.math,
        extra,
    };
    inner.of(elt, 0) == Num::Float
}

/// `Ok` when the rewrite is proven; `Err(Some(reason))` for a note, `Err(None)` when
/// the list simply is not a float list (no note: most lists are not).
fn check(
    module: &SourceModule,
    tracked: &Tracked,
    shape: Shape,
    types: &Types,
) -> Result<(), Option<String>> {
    let mut filled = false;
    let mut float_inputs = 0;
    let mut other_input: Option<String> = None;
    match shape {
        Shape::Empty => {}
        Shape::Display(l) | Shape::Repeat(l) => {
            if !l.elts.iter().all(|e| types.of(e, 0) == Num::Float) {
                return Err(None);
            }
            float_inputs += 1;
        }
        Shape::Comprehension(c) => {
            if !comprehension_floats(types, &c.elt, &c.generators) {
                return Err(None);
            }
            float_inputs += 1;
            filled = true;
        }
    }
    let line = |range: TextRange| module.line_column(range.start()).0;
    let mut problem: Option<String> = None;
    for u in &tracked.uses {
        let ok = match &u.kind {
            UseKind::Method { name, call } => {
                let args = &call.arguments.args;
                let plain =
                    call.arguments.keywords.is_empty() && !args.iter().any(Expr::is_starred_expr);
                let input = match (*name, args.len()) {
                    ("append", 1) => Some(types.of(&args[0], 0) == Num::Float),
                    ("insert", 2) => Some(types.of(&args[1], 0) == Num::Float),
                    ("extend", 1) => Some(floats(types, &args[0])),
                    _ => None,
                };
                match input {
                    Some(true) => {
                        float_inputs += 1;
                        filled = true;
                        plain
                    }
                    Some(false) => {
                        other_input.get_or_insert_with(|| {
                            format!(
                                "`.{name}()` of something not proven to be a float on line {}",
                                line(u.range)
                            )
                        });
                        true
                    }
                    None => {
                        plain
                            && matches!(
                                (*name, args.len()),
                                ("pop", 0 | 1) | ("count" | "index" | "remove", 1) | ("reverse", 0)
                            )
                    }
                }
            }
            UseKind::SubscriptStore { value, .. } => {
                if value.is_some_and(|v| types.of(v, 0) == Num::Float) {
                    float_inputs += 1;
                    filled = true;
                } else {
                    other_input.get_or_insert_with(|| {
                        format!(
                            "an item not proven to be a float is stored on line {}",
                            line(u.range)
                        )
                    });
                }
                true
            }
            UseKind::IndexLoad { .. }
            | UseKind::SliceLoad { iterated: true }
            | UseKind::Len
            | UseKind::Truthiness
            | UseKind::Membership
            | UseKind::Iteration { .. }
            | UseKind::Unpacking => true,
            UseKind::Escape(Escape::Call {
                callee: Some(callee),
            }) => callee.starts_with("np.") || callee.starts_with("numpy."),
            _ => false,
        };
        if !ok && problem.is_none() {
            problem = Some(format!("{} on line {}", u.kind.describe(), line(u.range)));
        }
    }
    if float_inputs == 0 {
        // Nothing proves the list holds floats: most lists do not, no note.
        return Err(None);
    }
    if let Some(other) = other_input {
        return Err(Some(other));
    }
    if let Some(blocked) = tracked.blocked {
        return Err(Some(blocked.to_string()));
    }
    if matches!(tracked.site, Site::AnnAssign(_)) {
        return Err(Some(
            "it is annotated; the annotation would need to change too".into(),
        ));
    }
    if let Some(problem) = problem {
        return Err(Some(problem));
    }
    if matches!(shape, Shape::Repeat(_)) && !filled {
        return Err(Some(
            "`[x] * n` never filled holds one shared float object: no saving".into(),
        ));
    }
    Ok(())
}

fn finding(
    ctx: &FileContext,
    tracked: &Tracked,
    shape: Shape,
    import: imports::ImportPlan,
) -> Finding {
    let reference = &import.reference;
    let quote = ctx.module.stylist().quote().as_char();
    let prefix = format!("{reference}({quote}d{quote}, ");
    let mut edits = Vec::new();
    match shape {
        Shape::Empty => edits.push(Edit::range_replacement(
            format!("{reference}({quote}d{quote})"),
            tracked.value.range(),
        )),
        Shape::Display(l) | Shape::Repeat(l) => {
            edits.push(Edit::insertion(prefix, l.start()));
            edits.push(Edit::insertion(")".to_string(), l.end()));
        }
        Shape::Comprehension(c) => {
            edits.push(Edit::range_replacement(
                format!("{prefix}("),
                TextRange::at(c.start(), TextSize::new(1)),
            ));
            edits.push(Edit::range_replacement(
                "))".to_string(),
                TextRange::new(c.end() - TextSize::new(1), c.end()),
            ));
        }
    }
    if let Some(edit) = import.edit {
        edits.push(edit);
    }
    let mut edits = edits.into_iter();
    let first = edits
        .next()
        .unwrap_or_else(|| Edit::insertion(String::new(), tracked.value.start()));
    Finding {
        transform: NAME,
        range: tracked.value.range(),
        message: format!(
            "`{}` holds only floats: `array('d')` stores 8 B per element instead of a pointer plus a 24 B float object (about 32.5 -> 8.2 B per element traced, -75%); unsafe: each read creates a new float object and the list type changes",
            tracked.name
        ),
        fix: Fix::unsafe_edits(first, edits),
        impact: Impact::Memory,
    }
}
