//! What kind of number an expression provably evaluates to: a float, an int with a
//! proven range of values, an int of unknown size, or unknown.
//!
//! The proofs are local and syntactic: literals, the builtins and `math` functions
//! whose result type is fixed, arithmetic of those, and function locals bound once to
//! such an expression or by a `range`/`enumerate` loop. Ranges use interval
//! arithmetic on `i128` with checked operations; an overflow gives up the range (not
//! the int-ness).

use std::collections::HashMap;

use ruff_python_ast::{Comprehension, Expr, ExprCall, Number, Operator, Stmt, UnaryOp};

use crate::SourceModule;
use crate::bindings::scope::{LocalNames, Site};
use crate::imports;
use crate::syntax::target_names;

/// How far a counter that moves one step per executed statement can get from where it
/// started: a `range` loop index with an unknown stop, an `enumerate` index, or an
/// element bumped by `x[i] += 1`. CPython executes at most about 10^8 loop iterations
/// a second, so counting to 2^56 takes over 20 years of one process: a practical
/// bound, not a formal one, and stated in the transform's documentation.
pub(super) const COUNTED_MAX: i128 = 1 << 56;

/// An inclusive range of int values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    /// The smallest possible value.
    pub(super) lo: i128,
    /// The largest possible value.
    pub(super) hi: i128,
}

impl Span {
    /// The span from `lo` to `hi`, in either order.
    pub(super) fn new(lo: i128, hi: i128) -> Span {
        Span {
            lo: lo.min(hi),
            hi: hi.max(lo),
        }
    }

    fn exact(value: i128) -> Span {
        Span::new(value, value)
    }

    /// The smallest span holding both.
    pub(super) fn union(self, other: Span) -> Span {
        Span::new(self.lo.min(other.lo), self.hi.max(other.hi))
    }

    /// Whether every value lies in `lo..=hi`.
    pub(super) fn within(self, lo: i128, hi: i128) -> bool {
        self.lo >= lo && self.hi <= hi
    }

    /// The span of `a + b` for `a` in `self` and `b` in `other`; `None` on overflow.
    pub(super) fn checked_add(self, other: Span) -> Option<Span> {
        Some(Span::new(
            self.lo.checked_add(other.lo)?,
            self.hi.checked_add(other.hi)?,
        ))
    }

    /// The span of `-x`.
    pub(super) fn negate(self) -> Option<Span> {
        Some(Span::new(self.hi.checked_neg()?, self.lo.checked_neg()?))
    }

    /// The span of `op(a, b)` over every pair of corners; `op` must be monotone in
    /// each argument on the spans it is used with.
    fn corners(self, other: Span, op: impl Fn(i128, i128) -> Option<i128>) -> Option<Span> {
        let values = [
            op(self.lo, other.lo)?,
            op(self.lo, other.hi)?,
            op(self.hi, other.lo)?,
            op(self.hi, other.hi)?,
        ];
        let lo = values.iter().copied().min()?;
        let hi = values.iter().copied().max()?;
        Some(Span::new(lo, hi))
    }
}

/// Python's `//` on ints (rounds toward negative infinity).
fn floor_div(a: i128, b: i128) -> Option<i128> {
    let q = a.checked_div(b)?;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q.checked_sub(1)
    } else {
        Some(q)
    }
}

/// The kind of number an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Num {
    /// Always a `float`.
    Float,
    /// Always an `int` (never a `bool`), within the span when one is proven.
    Int(Option<Span>),
    /// Anything else, or not proven.
    Unknown,
}

impl Num {
    fn int(lo: i128, hi: i128) -> Num {
        Num::Int(Some(Span::new(lo, hi)))
    }

    /// The kind of a value that is `self` on one path and `other` on another.
    fn join(self, other: Num) -> Num {
        match (self, other) {
            (Num::Float, Num::Float) => Num::Float,
            (Num::Int(Some(a)), Num::Int(Some(b))) => Num::Int(Some(a.union(b))),
            (Num::Int(_), Num::Int(_)) => Num::Int(None),
            _ => Num::Unknown,
        }
    }
}

/// The kind of `left op right`.
pub(super) fn binop(op: Operator, left: Num, right: Num) -> Num {
    match (left, right) {
        (Num::Unknown, _) | (_, Num::Unknown) => Num::Unknown,
        (Num::Int(a), Num::Int(b)) => int_binop(op, a, b),
        // At least one float. `**` with a float exponent can give a complex
        // (`(-8.0) ** (1 / 3)`), so only `float ** int` is a float.
        (_, right) => match op {
            Operator::Add
            | Operator::Sub
            | Operator::Mult
            | Operator::Div
            | Operator::FloorDiv
            | Operator::Mod => Num::Float,
            Operator::Pow if matches!(right, Num::Int(_)) => Num::Float,
            _ => Num::Unknown,
        },
    }
}

fn int_binop(op: Operator, a: Option<Span>, b: Option<Span>) -> Num {
    let both = a.zip(b);
    let span = match op {
        Operator::Div => return Num::Float,
        Operator::Add => both.and_then(|(a, b)| a.checked_add(b)),
        Operator::Sub => both.and_then(|(a, b)| a.corners(b, i128::checked_sub)),
        Operator::Mult => both.and_then(|(a, b)| a.corners(b, i128::checked_mul)),
        // Floor division is monotone in each argument while the divisor keeps one sign.
        Operator::FloorDiv => both
            .filter(|(_, b)| b.lo > 0 || b.hi < 0)
            .and_then(|(a, b)| a.corners(b, floor_div)),
        // The result of `%` takes the divisor's sign and is smaller in size, whatever
        // the dividend.
        Operator::Mod => b.and_then(|b| {
            if b.lo > 0 {
                Some(Span::new(0, b.hi - 1))
            } else if b.hi < 0 {
                Some(Span::new(b.lo + 1, 0))
            } else {
                None
            }
        }),
        // `x & m` lies in `0..=m` for any int `x` when `m >= 0`.
        Operator::BitAnd => [a, b]
            .into_iter()
            .flatten()
            .filter(|s| s.lo >= 0)
            .map(|s| s.hi)
            .min()
            .map(|hi| Span::new(0, hi)),
        Operator::BitOr | Operator::BitXor => {
            both.filter(|(a, b)| a.lo >= 0 && b.lo >= 0).map(|(a, b)| {
                let top = a.hi.max(b.hi);
                let bits = i128::BITS - top.leading_zeros();
                Span::new(0, (1i128 << bits) - 1)
            })
        }
        Operator::RShift => both
            .filter(|(_, s)| s.lo >= 0)
            .and_then(|(a, s)| a.corners(s, |x, n| Some(x >> n.min(127)))),
        Operator::LShift => both
            .filter(|(_, s)| s.lo >= 0 && s.hi <= 64)
            .and_then(|(a, s)| a.corners(s, |x, n| x.checked_mul(1i128 << n))),
        // A negative exponent gives a float.
        Operator::Pow => {
            let Some((base, exp)) = both.filter(|(_, e)| e.lo >= 0) else {
                return Num::Unknown;
            };
            let top = base.lo.unsigned_abs().max(base.hi.unsigned_abs());
            // `0 ** 0 == 1`, so the top is at least 1.
            let top = u32::try_from(exp.hi)
                .ok()
                .and_then(|e| top.checked_pow(e))
                .and_then(|t| i128::try_from(t.max(1)).ok());
            top.map(|t| {
                if base.lo >= 0 {
                    Span::new(0, t)
                } else {
                    Span::new(-t, t)
                }
            })
        }
        Operator::MatMult => return Num::Unknown,
    };
    Num::Int(span)
}

/// What the file calls the `math` module and the names imported from it, and which
/// builtins the typing relies on are bound to something else somewhere in the file.
pub(super) struct MathNames {
    module: Option<String>,
    functions: Vec<(String, String)>,
    shadowed: Vec<&'static str>,
}

const MATH_FLOAT_FUNCTIONS: &[&str] = &[
    "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "expm1", "log", "log10",
    "log2", "log1p", "pow", "hypot", "fabs", "degrees", "radians", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "fsum", "copysign", "fmod", "erf", "erfc", "gamma", "lgamma", "dist", "cbrt",
    "exp2",
];
const MATH_FLOAT_CONSTANTS: &[&str] = &["pi", "e", "tau", "inf", "nan"];
const TYPED_BUILTINS: &[&str] = &[
    "float",
    "int",
    "len",
    "abs",
    "ord",
    "min",
    "max",
    "round",
    "range",
    "enumerate",
];

impl MathNames {
    pub(super) fn new(module: &SourceModule) -> Self {
        // What the top-level imports bind: `(bound name, math member)`, with `None` for
        // the module itself.
        let mut imported: Vec<(&str, Option<&str>)> = Vec::new();
        for stmt in &module.ast().body {
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        if alias.name.id.as_str() == "math" {
                            let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                            imported.push((bound.id.as_str(), None));
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
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        imported.push((bound.id.as_str(), Some(alias.name.id.as_str())));
                    }
                }
                _ => {}
            }
        }
        // One pass over the file's scopes counts the bindings of every name involved.
        let names: Vec<&str> = imported.iter().map(|(bound, _)| *bound).collect();
        let import_counts = imports::binding_counts(module, &names);
        // The builtins the typing relies on, unless some scope binds them or a star
        // import may (the answer every transform gives, see `crate::semantic`).
        let file_names = module.names();
        let mut out = MathNames {
            module: None,
            functions: Vec::new(),
            shadowed: TYPED_BUILTINS
                .iter()
                .copied()
                .filter(|name| !file_names.is_builtin_everywhere(name))
                .collect(),
        };
        // A name bound anywhere else too may not be the math one where it is used.
        for ((bound, member), count) in imported.into_iter().zip(import_counts) {
            if count != 1 {
                continue;
            }
            match member {
                None => out.module = Some(bound.to_string()),
                Some(member) => out.functions.push((bound.to_string(), member.to_string())),
            }
        }
        out
    }

    fn is_math(&self, expr: &Expr, members: &[&str]) -> bool {
        match expr {
            Expr::Attribute(attr) => {
                matches!(&*attr.value, Expr::Name(n) if Some(n.id.as_str()) == self.module.as_deref())
                    && members.contains(&attr.attr.id.as_str())
            }
            Expr::Name(n) => self
                .functions
                .iter()
                .any(|(b, m)| b == n.id.as_str() && members.contains(&m.as_str())),
            _ => false,
        }
    }
}

/// Types expressions in one function body.
pub(super) struct Types<'t, 'a> {
    locals: &'t LocalNames<'a>,
    math: &'t MathNames,
    /// Comprehension variables in scope, which shadow the function's locals.
    extra: HashMap<String, Num>,
}

impl<'t, 'a> Types<'t, 'a> {
    pub(super) fn new(locals: &'t LocalNames<'a>, math: &'t MathNames) -> Self {
        Types {
            locals,
            math,
            extra: HashMap::new(),
        }
    }

    /// The kind of `expr`.
    pub(super) fn of(&self, expr: &Expr) -> Num {
        self.at(expr, 0)
    }

    fn at(&self, expr: &Expr, depth: u32) -> Num {
        // Locals bound to locals bound to...: a short chain is all real code needs.
        if depth > 6 {
            return Num::Unknown;
        }
        match expr {
            Expr::NumberLiteral(n) => match &n.value {
                Number::Float(_) => Num::Float,
                Number::Int(i) => Num::Int(i.as_i64().map(|v| Span::exact(v.into()))),
                Number::Complex { .. } => Num::Unknown,
            },
            Expr::UnaryOp(u) => match (u.op, self.at(&u.operand, depth + 1)) {
                (UnaryOp::UAdd, num) => num,
                (UnaryOp::USub, Num::Int(span)) => Num::Int(span.and_then(Span::negate)),
                (UnaryOp::USub, Num::Float) => Num::Float,
                // `~x == -x - 1`.
                (UnaryOp::Invert, Num::Int(span)) => Num::Int(
                    span.and_then(Span::negate)
                        .and_then(|s| s.checked_add(Span::exact(-1))),
                ),
                _ => Num::Unknown,
            },
            Expr::BinOp(b) => binop(
                b.op,
                self.at(&b.left, depth + 1),
                self.at(&b.right, depth + 1),
            ),
            Expr::If(e) => self
                .at(&e.body, depth + 1)
                .join(self.at(&e.orelse, depth + 1)),
            Expr::Call(call) => self.call(call, depth),
            Expr::Name(n) => {
                if self.math.is_math(expr, MATH_FLOAT_CONSTANTS) {
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
                    Some(Site::For(f)) => {
                        self.loop_variable(n.id.as_str(), &f.target, &f.iter, depth)
                    }
                    Some(Site::Assign(a)) => self.at(&a.value, depth + 1),
                    _ => Num::Unknown,
                }
            }
            Expr::Attribute(_) if self.math.is_math(expr, MATH_FLOAT_CONSTANTS) => Num::Float,
            _ => Num::Unknown,
        }
    }

    fn builtin(&self, func: &Expr, name: &str) -> bool {
        matches!(func, Expr::Name(n) if n.id.as_str() == name)
            && !self.locals.contains_key(name)
            && !self.extra.contains_key(name)
            && !self.math.shadowed.contains(&name)
    }

    fn call(&self, call: &ExprCall, depth: u32) -> Num {
        let args = &call.arguments;
        if !args.keywords.is_empty() || args.args.iter().any(Expr::is_starred_expr) {
            return Num::Unknown;
        }
        let arg = |i: usize| self.at(&args.args[i], depth + 1);
        let n = args.args.len();
        let is = |name: &str| self.builtin(&call.func, name);
        if is("float") && n <= 1 {
            return Num::Float;
        }
        if is("int") && n <= 2 {
            return if n == 0 {
                Num::int(0, 0)
            } else {
                Num::Int(None)
            };
        }
        if is("len") && n == 1 {
            // `len()` raises OverflowError beyond `sys.maxsize`.
            return Num::int(0, i64::MAX.into());
        }
        if is("ord") && n == 1 {
            return Num::int(0, 0x10FFFF);
        }
        if is("round") && n == 1 {
            return match arg(0) {
                Num::Float | Num::Int(None) => Num::Int(None),
                int @ Num::Int(Some(_)) => int,
                Num::Unknown => Num::Unknown,
            };
        }
        if is("abs") && n == 1 {
            return match arg(0) {
                Num::Int(Some(s)) => Num::Int(
                    s.negate()
                        .map(|neg| Span::new(s.lo.max(0).max(neg.lo), s.hi.max(neg.hi))),
                ),
                other => other,
            };
        }
        if (is("min") || is("max")) && n >= 2 {
            let pick: fn(i128, i128) -> i128 = if is("min") { i128::min } else { i128::max };
            return (1..n).map(arg).fold(arg(0), |acc, next| match (acc, next) {
                (Num::Float, Num::Float) => Num::Float,
                (Num::Int(Some(a)), Num::Int(Some(b))) => {
                    Num::int(pick(a.lo, b.lo), pick(a.hi, b.hi))
                }
                (Num::Int(_), Num::Int(_)) => Num::Int(None),
                _ => Num::Unknown,
            });
        }
        if self.math.is_math(&call.func, MATH_FLOAT_FUNCTIONS) {
            return Num::Float;
        }
        Num::Unknown
    }

    /// The kind of `name`, bound by `for target in iter` (a loop or a comprehension).
    fn loop_variable(&self, name: &str, target: &Expr, iter: &Expr, depth: u32) -> Num {
        let Expr::Call(call) = iter else {
            return Num::Unknown;
        };
        match target {
            Expr::Name(_) if self.builtin(&call.func, "range") => {
                Num::Int(self.range_span(call, depth))
            }
            Expr::Tuple(t)
                if self.builtin(&call.func, "enumerate")
                    && t.elts.len() == 2
                    && matches!(&t.elts[0], Expr::Name(n) if n.id.as_str() == name) =>
            {
                self.enumerate_span(call, depth)
            }
            _ => Num::Unknown,
        }
    }

    /// The values a `range(...)` yields; `None` when they are ints of unknown size.
    fn range_span(&self, call: &ExprCall, depth: u32) -> Option<Span> {
        let args = &call.arguments;
        if !args.keywords.is_empty() || args.args.iter().any(Expr::is_starred_expr) {
            return None;
        }
        let span = |i: usize| match self.at(&args.args[i], depth + 1) {
            Num::Int(span) => span,
            _ => None,
        };
        // An unknown stop still bounds the index by counting from a known start.
        match args.args.len() {
            1 => {
                let hi = span(0).map_or(COUNTED_MAX, |stop| stop.hi - 1);
                Some(Span::new(0, hi.max(0)))
            }
            2 => {
                let start = span(0)?;
                let hi = match span(1) {
                    Some(stop) => stop.hi - 1,
                    None => start.hi.checked_add(COUNTED_MAX)?,
                };
                Some(Span::new(start.lo, hi.max(start.lo)))
            }
            3 => {
                let start = span(0)?;
                let step = span(2).filter(|s| s.lo == s.hi && s.lo != 0)?.lo;
                let stop = span(1);
                if step > 0 {
                    let hi = match stop {
                        Some(stop) => stop.hi - 1,
                        None => start.hi.checked_add(COUNTED_MAX.checked_mul(step)?)?,
                    };
                    Some(Span::new(start.lo, hi.max(start.lo)))
                } else {
                    let lo = match stop {
                        Some(stop) => stop.lo + 1,
                        None => start.lo.checked_sub(COUNTED_MAX.checked_mul(-step)?)?,
                    };
                    Some(Span::new(lo.min(start.hi), start.hi))
                }
            }
            _ => None,
        }
    }

    /// The index `enumerate(it)` or `enumerate(it, start)` yields.
    fn enumerate_span(&self, call: &ExprCall, depth: u32) -> Num {
        let args = &call.arguments;
        if args.args.iter().any(Expr::is_starred_expr) || args.args.len() > 2 {
            return Num::Unknown;
        }
        let start = match (args.args.get(1), args.keywords.as_ref()) {
            (None, []) => Num::int(0, 0),
            (Some(start), []) => self.at(start, depth + 1),
            (None, [keyword]) if keyword.arg.as_ref().is_some_and(|a| a.as_str() == "start") => {
                self.at(&keyword.value, depth + 1)
            }
            _ => return Num::Unknown,
        };
        match start {
            Num::Int(Some(s)) => {
                Num::Int(s.hi.checked_add(COUNTED_MAX).map(|hi| Span::new(s.lo, hi)))
            }
            _ => Num::Int(None),
        }
    }

    /// The kind of a comprehension's element, with its loop variables typed.
    pub(super) fn element(&self, elt: &Expr, generators: &[Comprehension]) -> Num {
        let mut inner = Types {
            locals: self.locals,
            math: self.math,
            extra: self.extra.clone(),
        };
        for g in generators {
            let mut names = Vec::new();
            target_names(&g.target, &mut names);
            // Each variable is typed before the generator's own names shadow anything.
            let typed: Vec<(String, Num)> = names
                .iter()
                .map(|name| {
                    (
                        name.to_string(),
                        inner.loop_variable(name, &g.target, &g.iter, 0),
                    )
                })
                .collect();
            inner.extra.extend(typed);
        }
        inner.of(elt)
    }
}

#[cfg(test)]
mod tests {
    use ruff_python_ast::Stmt;

    use super::*;
    use crate::bindings::scope::{Body, function_locals};
    use crate::parse;

    /// The kind of the expression `expr` returns in the body of `def f(n, s):`.
    fn kind(body: &str) -> Num {
        let source = format!("import math\ndef f(n, s):\n{body}\n");
        let module = parse(&source).expect("test source parses");
        let math = MathNames::new(&module);
        let Some(Stmt::FunctionDef(def)) = module.ast().body.get(1) else {
            panic!("no function");
        };
        let locals = function_locals(Some(&def.parameters), Body::Stmts(&def.body));
        let types = Types::new(&locals, &math);
        let Some(Stmt::Return(ret)) = def.body.last() else {
            panic!("the body must end with a return");
        };
        types.of(ret.value.as_deref().expect("a value"))
    }

    fn ret(expr: &str) -> Num {
        kind(&format!("    return {expr}"))
    }

    #[test]
    fn literals_and_arithmetic() {
        assert_eq!(ret("3"), Num::int(3, 3));
        assert_eq!(ret("-3 * 4 + 1"), Num::int(-11, -11));
        assert_eq!(ret("7 // -2"), Num::int(-4, -4));
        assert_eq!(ret("~5"), Num::int(-6, -6));
        assert_eq!(ret("2 ** 10"), Num::int(0, 1024));
        assert_eq!(ret("2 ** -1"), Num::Unknown);
        assert_eq!(ret("1 / 2"), Num::Float);
        assert_eq!(ret("2.0 ** 3"), Num::Float);
        assert_eq!(ret("2.0 ** 0.5"), Num::Unknown);
        assert_eq!(ret("99999999999999999999999"), Num::Int(None));
        assert_eq!(ret("True"), Num::Unknown);
        assert_eq!(ret("n + 1"), Num::Unknown);
        assert_eq!(ret("n % 3"), Num::Unknown);
    }

    #[test]
    fn results_bounded_whatever_the_operand() {
        assert_eq!(ret("int(s) % 10"), Num::int(0, 9));
        assert_eq!(ret("int(s) % -10"), Num::int(-9, 0));
        assert_eq!(ret("int(s) & 0xFF"), Num::int(0, 255));
        assert_eq!(ret("int(s) | 1"), Num::Int(None));
        assert_eq!(ret("ord(s) >> 8"), Num::int(0, 0x10FF));
        assert_eq!(ret("abs(ord(s) - 200)"), Num::int(0, 0x10FFFF - 200));
        assert_eq!(ret("min(len(s), 10)"), Num::int(0, 10));
        assert_eq!(ret("max(len(s) % 5, -3)"), Num::int(0, 4));
        assert_eq!(ret("max(1.0, 2.0)"), Num::Float);
        assert_eq!(ret("max(1, 2.0)"), Num::Unknown);
        assert_eq!(ret("round(math.sqrt(2))"), Num::Int(None));
    }

    #[test]
    fn loop_indexes() {
        let counted = Num::int(0, COUNTED_MAX);
        assert_eq!(
            kind("    for i in range(n):\n        pass\n    return i"),
            counted
        );
        assert_eq!(
            kind("    for i in range(10):\n        pass\n    return i * i"),
            Num::int(0, 81)
        );
        assert_eq!(
            kind("    for i in range(5, n, 2):\n        pass\n    return i"),
            Num::int(5, 5 + 2 * COUNTED_MAX)
        );
        assert_eq!(
            kind("    for i in range(10, -1, -1):\n        pass\n    return i"),
            Num::int(0, 10)
        );
        assert_eq!(
            kind("    for i in range(n, 10):\n        pass\n    return i"),
            Num::Int(None)
        );
        assert_eq!(
            kind("    for i, x in enumerate(s, 1):\n        pass\n    return i"),
            Num::int(1, 1 + COUNTED_MAX)
        );
        assert_eq!(
            kind("    for i, x in enumerate(s):\n        pass\n    return x"),
            Num::Unknown
        );
        // Bound twice: not followed.
        assert_eq!(
            kind("    for i in range(3):\n        pass\n    i = n\n    return i"),
            Num::Unknown
        );
    }

    #[test]
    fn shadowed_builtins_prove_nothing() {
        assert_eq!(kind("    len = n\n    return len(s)"), Num::Unknown);
        assert_eq!(
            kind("    for i in range(3):\n        range = n\n    return i"),
            Num::Unknown
        );
    }
}
