//! Classifying one use of a tracked name from its ancestors, and the walker that finds
//! every use of a scope's tracked names.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::token::{TokenKind, Tokens};
use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, TraversalSignal};
use ruff_python_ast::{
    AnyNodeRef, CmpOp, Expr, ExprCall, ExprContext, Number, Operator, StmtDelete, UnaryOp,
};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::scope::{Body, LocalNames, body_locals_among, function_locals_among};
use crate::syntax::{TokenStarts, WalkCursor};

/// A constant index (`xs[0]`, `xs[-1]`) or anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// An integer literal, possibly negated.
    Const(i64),
    /// Any other index expression.
    Other,
}

/// Why a use lets the object out of the analysis' sight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    /// Passed to a call; `callee` is its dotted name when it has one (`json.dumps`).
    Call {
        /// Dotted name of the function, when it is a name or attribute chain.
        callee: Option<String>,
    },
    /// Formatted or printed (`print`, `str`, `repr`, f-strings): a list and a tuple print
    /// differently.
    Repr,
    /// Returned from the function.
    Return,
    /// Yielded.
    Yield,
    /// Stored in an attribute, a subscript or a container display.
    Stored,
    /// Bound to another name (`ys = xs`).
    Alias,
    /// Read by a nested function or lambda: it may run later, after anything.
    Closure,
    /// Rebound from a nested scope through `global` or `nonlocal`.
    Rebound,
    /// A use the classifier does not know: assumed to need the original type.
    Unknown,
}

/// How one use treats the object.
#[derive(Debug, Clone)]
pub enum UseKind<'a> {
    /// Iterated: `for`, a comprehension, or a builtin that consumes an iterable.
    /// `over` is the construct during which the iteration runs (a deque must not be
    /// mutated inside it).
    Iteration {
        /// The `for` statement, comprehension or call that iterates.
        over: TextRange,
        /// The iteration may continue after `over` ends: a generator expression that is
        /// not consumed on the spot.
        lazy: bool,
    },
    /// Right operand of `in` / `not in`.
    Membership,
    /// `len(x)`.
    Len,
    /// Tested for truth (`if x`, `while x`, `not x`, `assert x`).
    Truthiness,
    /// `x[i]` read.
    IndexLoad {
        /// The index.
        index: Index,
    },
    /// `x[a:b]` read; `iterated` when the slice is itself only iterated.
    SliceLoad {
        /// The slice is the iterable of a `for` or comprehension.
        iterated: bool,
    },
    /// Unpacked: `a, b = x`, `f(*x)`, `[*x]`.
    Unpacking,
    /// A method call `x.name(...)`.
    Method {
        /// The method name.
        name: &'a str,
        /// The whole call.
        call: &'a ExprCall,
    },
    /// `x[i] = value` or `x[i] op= value`.
    SubscriptStore {
        /// The index.
        index: Index,
        /// The stored value when the assignment has one target; for `x[i] op= value`
        /// the right-hand operand.
        value: Option<&'a Expr>,
        /// The operator of `x[i] op= value`, `None` for a plain assignment.
        augmented: Option<Operator>,
    },
    /// `del x[i]`; `stmt` is the statement when it deletes only this.
    SubscriptDelete {
        /// The index (slices count as `Other`).
        index: Index,
        /// The `del` statement when it has this single target.
        stmt: Option<&'a StmtDelete>,
    },
    /// `x op= value`.
    AugAssign {
        /// The operator.
        op: Operator,
        /// The right-hand side.
        value: &'a Expr,
    },
    /// Compared (`==`, `<`, `is`, or the left operand of `in`).
    Comparison {
        /// `==` or `!=`.
        equality: bool,
    },
    /// An operand of `+` or `*`: the result has the operand's type.
    Concatenation,
    /// Anything that lets the object go where the analysis cannot follow.
    Escape(Escape),
}

/// Methods of `list` that change it.
pub const MUTATING_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
];

/// A use summarised without references, for project-wide facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UseClass {
    /// Reads any sequence supports: iteration, `in`, `len`, truth, indexing, unpacking,
    /// slices that are only iterated, `index`/`count`.
    Read,
    /// Changes the object.
    Mutation,
    /// Comparison (a tuple never equals a list).
    Comparison,
    /// `+` or `*` (the result keeps the operand's type).
    Concatenation,
    /// Out of sight.
    Escape,
}

impl UseClass {
    /// How a message names this use.
    pub fn describe(self) -> &'static str {
        match self {
            UseClass::Read => "reads it",
            UseClass::Mutation => "changes it",
            UseClass::Comparison => "compares it",
            UseClass::Concatenation => "concatenates or repeats it",
            UseClass::Escape => "passes it where it cannot be followed",
        }
    }
}

impl UseKind<'_> {
    /// The summary class of this use.
    pub fn class(&self) -> UseClass {
        match self {
            UseKind::Iteration { .. }
            | UseKind::Membership
            | UseKind::Len
            | UseKind::Truthiness
            | UseKind::IndexLoad { .. }
            | UseKind::SliceLoad { iterated: true }
            | UseKind::Unpacking => UseClass::Read,
            UseKind::SliceLoad { iterated: false } => UseClass::Escape,
            UseKind::Method { name, .. } => {
                if MUTATING_METHODS.contains(name) {
                    UseClass::Mutation
                } else if matches!(*name, "index" | "count") {
                    UseClass::Read
                } else {
                    UseClass::Escape
                }
            }
            UseKind::SubscriptStore { .. }
            | UseKind::SubscriptDelete { .. }
            | UseKind::AugAssign { .. } => UseClass::Mutation,
            UseKind::Comparison { .. } => UseClass::Comparison,
            UseKind::Concatenation => UseClass::Concatenation,
            UseKind::Escape(_) => UseClass::Escape,
        }
    }

    /// A short phrase for notes (`"passed to json.dumps"`).
    pub fn describe(&self) -> String {
        match self {
            UseKind::Iteration { .. } => "iterated".into(),
            UseKind::Membership => "`in` test".into(),
            UseKind::Len => "`len`".into(),
            UseKind::Truthiness => "truth test".into(),
            UseKind::IndexLoad { .. } => "indexed".into(),
            UseKind::SliceLoad { .. } => "sliced".into(),
            UseKind::Unpacking => "unpacked".into(),
            UseKind::Method { name, .. } => format!("`.{name}()` called"),
            UseKind::SubscriptStore { .. } => "item assigned".into(),
            UseKind::SubscriptDelete { .. } => "item deleted".into(),
            UseKind::AugAssign { .. } => "augmented assignment".into(),
            UseKind::Comparison { .. } => "compared".into(),
            UseKind::Concatenation => "concatenated or repeated".into(),
            UseKind::Escape(escape) => match escape {
                Escape::Call { callee: Some(c) } => format!("passed to `{c}`"),
                Escape::Call { callee: None } => "passed to a call".into(),
                Escape::Repr => "formatted or printed".into(),
                Escape::Return => "returned".into(),
                Escape::Yield => "yielded".into(),
                Escape::Stored => "stored in an attribute or container".into(),
                Escape::Alias => "bound to another name".into(),
                Escape::Closure => "captured by a nested function".into(),
                Escape::Rebound => "rebound through global/nonlocal".into(),
                Escape::Unknown => "used in a way the analysis does not follow".into(),
            },
        }
    }
}

/// One use of a tracked binding.
#[derive(Debug, Clone)]
pub struct Use<'a> {
    /// The name (or `module.NAME` attribute) expression.
    pub range: TextRange,
    /// How it is used.
    pub kind: UseKind<'a>,
    /// For a module alias used as `alias.a.b`: each attribute path (`a`, `a.b`) and how
    /// that expression is used. Only filled when the walker follows attributes.
    pub attribute: Vec<(String, UseKind<'a>)>,
}

/// Builtins that consume an iterable completely before returning.
const EAGER_CONSUMERS: &[&str] = &[
    "sum",
    "min",
    "max",
    "any",
    "all",
    "sorted",
    "list",
    "tuple",
    "set",
    "frozenset",
    "dict",
];
/// Builtins that return a lazy iterator over their argument.
const LAZY_CONSUMERS: &[&str] = &["enumerate", "zip", "map", "filter", "reversed"];
/// Calls whose output shows a list and a tuple differently.
const REPR_CALLS: &[&str] = &["print", "str", "repr", "format", "ascii"];

/// Dotted name of an attribute chain (`json.dumps`), if it is one.
pub fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(name) => Some(name.id.to_string()),
        Expr::Attribute(attr) => Some(format!("{}.{}", dotted(&attr.value)?, attr.attr.id)),
        _ => None,
    }
}

/// An integer literal index, possibly negated.
pub fn const_index(expr: &Expr) -> Index {
    match expr {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().map_or(Index::Other, Index::Const),
            _ => Index::Other,
        },
        Expr::UnaryOp(u) if u.op == UnaryOp::USub => match const_index(&u.operand) {
            Index::Const(i) => Index::Const(-i),
            Index::Other => Index::Other,
        },
        _ => Index::Other,
    }
}

/// Classifies the use of the expression at `target` given its ancestors (innermost
/// last). `builtin` says whether a name still means the builtin in this file.
pub fn classify<'a>(
    target: TextRange,
    stack: &[AnyNodeRef<'a>],
    builtin: &dyn Fn(&str) -> bool,
) -> UseKind<'a> {
    let Some(&parent) = stack.last() else {
        return UseKind::Escape(Escape::Unknown);
    };
    let grand = stack.len().checked_sub(2).map(|i| stack[i]);
    match parent {
        AnyNodeRef::StmtFor(f) if f.iter.range() == target => UseKind::Iteration {
            over: f.range,
            lazy: false,
        },
        AnyNodeRef::Comprehension(c) if c.iter.range() == target => match grand {
            Some(AnyNodeRef::ExprGenerator(g)) => {
                // A generator expression iterates when consumed: on the spot only as the
                // sole argument of a builtin that consumes it.
                let consumer = stack.len().checked_sub(4).map(|i| (stack[i], stack[i + 1]));
                match consumer {
                    Some((AnyNodeRef::ExprCall(call), AnyNodeRef::Arguments(args)))
                        if args.args.len() == 1
                            && args.args[0].range() == g.range
                            && is_eager_consumer(call, builtin) =>
                    {
                        UseKind::Iteration {
                            over: call.range(),
                            lazy: false,
                        }
                    }
                    _ => UseKind::Iteration {
                        over: g.range,
                        lazy: true,
                    },
                }
            }
            _ => UseKind::Iteration {
                over: grand.map_or(c.range, |g| g.range()),
                lazy: false,
            },
        },
        AnyNodeRef::ExprCompare(cmp) => {
            if let Some(i) = cmp.comparators.iter().position(|c| c.range() == target) {
                match cmp.ops[i] {
                    CmpOp::In | CmpOp::NotIn => UseKind::Membership,
                    op => {
                        let left_op = cmp.ops.get(i + 1).copied();
                        // `xs in other` (as the left operand of the next comparison)
                        // compares by equality.
                        let equality = matches!(op, CmpOp::Eq | CmpOp::NotEq)
                            || matches!(left_op, Some(CmpOp::In | CmpOp::NotIn))
                            || matches!(left_op, Some(CmpOp::Eq | CmpOp::NotEq));
                        UseKind::Comparison { equality }
                    }
                }
            } else {
                let equality = matches!(
                    cmp.ops.first(),
                    Some(CmpOp::Eq | CmpOp::NotEq | CmpOp::In | CmpOp::NotIn)
                );
                UseKind::Comparison { equality }
            }
        }
        AnyNodeRef::Arguments(args) => {
            let Some(AnyNodeRef::ExprCall(call)) = grand else {
                return UseKind::Escape(Escape::Unknown);
            };
            let position = args.args.iter().position(|a| a.range() == target);
            classify_argument(call, position, stack, builtin)
        }
        AnyNodeRef::Keyword(_) => {
            let callee = match stack.len().checked_sub(3).map(|i| stack[i]) {
                Some(AnyNodeRef::ExprCall(call)) => dotted(&call.func),
                _ => None,
            };
            UseKind::Escape(Escape::Call { callee })
        }
        AnyNodeRef::ExprAttribute(attr) if attr.value.range() == target => match grand {
            Some(AnyNodeRef::ExprCall(call)) if call.func.range() == attr.range => {
                UseKind::Method {
                    name: attr.attr.id.as_str(),
                    call,
                }
            }
            _ => UseKind::Escape(Escape::Unknown),
        },
        AnyNodeRef::ExprSubscript(sub) if sub.value.range() == target => {
            let index = const_index(&sub.slice);
            match sub.ctx {
                ExprContext::Load => {
                    if sub.slice.is_slice_expr() {
                        let iterated = match grand {
                            Some(AnyNodeRef::StmtFor(f)) => f.iter.range() == sub.range,
                            Some(AnyNodeRef::Comprehension(c)) => c.iter.range() == sub.range,
                            _ => false,
                        };
                        UseKind::SliceLoad { iterated }
                    } else {
                        UseKind::IndexLoad { index }
                    }
                }
                ExprContext::Store => {
                    let (value, augmented) = match grand {
                        Some(AnyNodeRef::StmtAssign(a)) if a.targets.len() == 1 => {
                            (Some(a.value.as_ref()), None)
                        }
                        Some(AnyNodeRef::StmtAugAssign(a)) => (Some(a.value.as_ref()), Some(a.op)),
                        _ => (None, None),
                    };
                    UseKind::SubscriptStore {
                        index,
                        value,
                        augmented,
                    }
                }
                ExprContext::Del => {
                    let index = if sub.slice.is_slice_expr() {
                        Index::Other
                    } else {
                        index
                    };
                    let stmt = match grand {
                        Some(AnyNodeRef::StmtDelete(d)) if d.targets.len() == 1 => Some(d),
                        _ => None,
                    };
                    UseKind::SubscriptDelete { index, stmt }
                }
                ExprContext::Invalid => UseKind::Escape(Escape::Unknown),
            }
        }
        AnyNodeRef::StmtAugAssign(aug) if aug.target.range() == target => UseKind::AugAssign {
            op: aug.op,
            value: &aug.value,
        },
        AnyNodeRef::StmtAugAssign(_) => UseKind::Concatenation,
        AnyNodeRef::ExprBinOp(bin) => match bin.op {
            Operator::Add | Operator::Mult => UseKind::Concatenation,
            _ => UseKind::Escape(Escape::Unknown),
        },
        AnyNodeRef::StmtReturn(_) => UseKind::Escape(Escape::Return),
        AnyNodeRef::ExprYield(_) | AnyNodeRef::ExprYieldFrom(_) => UseKind::Escape(Escape::Yield),
        AnyNodeRef::StmtAssign(assign) if assign.value.range() == target => {
            if assign.targets.len() == 1
                && matches!(assign.targets[0], Expr::Tuple(_) | Expr::List(_))
            {
                UseKind::Unpacking
            } else if assign.targets.iter().all(Expr::is_name_expr) {
                UseKind::Escape(Escape::Alias)
            } else {
                UseKind::Escape(Escape::Stored)
            }
        }
        AnyNodeRef::StmtAnnAssign(_) => UseKind::Escape(Escape::Alias),
        AnyNodeRef::ExprList(_)
        | AnyNodeRef::ExprTuple(_)
        | AnyNodeRef::ExprSet(_)
        | AnyNodeRef::ExprDict(_) => UseKind::Escape(Escape::Stored),
        AnyNodeRef::ExprStarred(_) => match grand {
            Some(AnyNodeRef::Arguments(_) | AnyNodeRef::ExprList(_) | AnyNodeRef::ExprTuple(_))
            | Some(AnyNodeRef::ExprSet(_)) => UseKind::Unpacking,
            _ => UseKind::Escape(Escape::Unknown),
        },
        AnyNodeRef::StmtIf(s) if s.test.range() == target => UseKind::Truthiness,
        AnyNodeRef::ElifElseClause(c) if c.test.as_ref().is_some_and(|t| is_range(t, target)) => {
            UseKind::Truthiness
        }
        AnyNodeRef::StmtWhile(s) if s.test.range() == target => UseKind::Truthiness,
        AnyNodeRef::StmtAssert(s) if s.test.range() == target => UseKind::Truthiness,
        AnyNodeRef::ExprIf(e) if e.test.range() == target => UseKind::Truthiness,
        AnyNodeRef::ExprUnaryOp(u) if u.op == UnaryOp::Not => UseKind::Truthiness,
        AnyNodeRef::ExprBoolOp(b) => {
            // `xs or default` evaluates to `xs` itself: only a truth test when the whole
            // `and`/`or` is one.
            let mut depth = stack.len() - 1;
            let mut inner = b.range;
            while depth > 0 {
                let outer = stack[depth - 1];
                match outer {
                    AnyNodeRef::ExprBoolOp(o) => inner = o.range,
                    AnyNodeRef::StmtIf(s) if s.test.range() == inner => {
                        return UseKind::Truthiness;
                    }
                    AnyNodeRef::StmtWhile(s) if s.test.range() == inner => {
                        return UseKind::Truthiness;
                    }
                    AnyNodeRef::ElifElseClause(c)
                        if c.test.as_ref().is_some_and(|t| is_range(t, inner)) =>
                    {
                        return UseKind::Truthiness;
                    }
                    AnyNodeRef::ExprUnaryOp(u) if u.op == UnaryOp::Not => {
                        return UseKind::Truthiness;
                    }
                    AnyNodeRef::ExprIf(e) if e.test.range() == inner => {
                        return UseKind::Truthiness;
                    }
                    _ => return UseKind::Escape(Escape::Unknown),
                }
                depth -= 1;
            }
            UseKind::Escape(Escape::Unknown)
        }
        AnyNodeRef::InterpolatedElement(_) => UseKind::Escape(Escape::Repr),
        _ => UseKind::Escape(Escape::Unknown),
    }
}

fn is_range(expr: &Expr, range: TextRange) -> bool {
    expr.range() == range
}

/// A call to a builtin that consumes an iterable before returning, or `"sep".join`.
fn is_eager_consumer(call: &ExprCall, builtin: &dyn Fn(&str) -> bool) -> bool {
    match call.func.as_ref() {
        Expr::Name(n) => {
            let id = n.id.as_str();
            builtin(id) && (EAGER_CONSUMERS.contains(&id) || id == "len")
        }
        Expr::Attribute(attr) => {
            attr.attr.id.as_str() == "join" && attr.value.is_string_literal_expr()
        }
        _ => false,
    }
}

fn classify_argument<'a>(
    call: &'a ExprCall,
    position: Option<usize>,
    stack: &[AnyNodeRef<'a>],
    builtin: &dyn Fn(&str) -> bool,
) -> UseKind<'a> {
    let callee = dotted(&call.func);
    let single = call.arguments.args.len() == 1 && call.arguments.keywords.is_empty();
    if let (Expr::Name(func), Some(position)) = (call.func.as_ref(), position) {
        let id = func.id.as_str();
        if builtin(id) {
            if id == "len" && single {
                return UseKind::Len;
            }
            if id == "bool" && single {
                return UseKind::Truthiness;
            }
            // `min(a, xs)` and `max(a, xs)` compare their arguments: only a single
            // positional argument is iterated.
            let positional = call.arguments.args.len();
            if EAGER_CONSUMERS.contains(&id)
                && position == 0
                && (positional == 1 || !matches!(id, "min" | "max"))
            {
                return UseKind::Iteration {
                    over: call.range(),
                    lazy: false,
                };
            }
            if LAZY_CONSUMERS.contains(&id) && (position > 0 || !matches!(id, "map" | "filter")) {
                // The iterator outlives the call: only a plain iteration when the call is
                // itself what a `for` or comprehension iterates.
                let outer = stack.len().checked_sub(3).map(|i| stack[i]);
                return match outer {
                    Some(AnyNodeRef::StmtFor(f)) if f.iter.range() == call.range() => {
                        UseKind::Iteration {
                            over: f.range,
                            lazy: false,
                        }
                    }
                    Some(AnyNodeRef::Comprehension(c)) if c.iter.range() == call.range() => {
                        let over = stack
                            .len()
                            .checked_sub(4)
                            .map_or(c.range, |i| stack[i].range());
                        UseKind::Iteration { over, lazy: false }
                    }
                    _ => UseKind::Escape(Escape::Call { callee }),
                };
            }
            if REPR_CALLS.contains(&id) {
                return UseKind::Escape(Escape::Repr);
            }
        }
    }
    // `", ".join(xs)`: the separator is a string literal.
    if let Expr::Attribute(attr) = call.func.as_ref()
        && attr.attr.id.as_str() == "join"
        && attr.value.is_string_literal_expr()
        && single
    {
        return UseKind::Iteration {
            over: call.range(),
            lazy: false,
        };
    }
    UseKind::Escape(Escape::Call { callee })
}

/// What a nested scope binds, cached by the scope's start offset.
#[derive(Default)]
struct ScopeCache<'a> {
    locals: HashMap<TextSize, LocalNames<'a>>,
}

/// Walks a scope body and records every use of the tracked names.
pub(super) struct UseWalker<'a, 'k> {
    /// Tracked names and their index in `uses`.
    pub targets: &'k HashMap<&'a str, usize>,
    /// The scope is the module (nested functions read module names as globals).
    pub root_is_module: bool,
    /// Names that no longer mean the builtin in this scope.
    pub shadowed: &'k HashSet<&'a str>,
    /// Uses per tracked name.
    pub uses: Vec<Vec<Use<'a>>>,
    /// Why a tracked name cannot be followed at all.
    pub blocked: Vec<Option<&'static str>>,
    /// `locals()`, `vars()`, `eval` or `exec` appear: names can be reached by string.
    pub dynamic: bool,
    /// Also classify `name.attr.attr` chains (for module aliases).
    pub follow_attributes: bool,
    /// Where the names that matter to the walk occur ([`NameSites`]), when known: a
    /// node that holds none of them is passed over whole.
    sites: Option<&'k NameSites>,
    cursor: WalkCursor,
    stack: Vec<AnyNodeRef<'a>>,
    cache: ScopeCache<'a>,
}

/// The names `locals()`, `vars()`, `eval`, `exec` and `globals()` that make a scope's
/// names reachable by string.
const DYNAMIC: [&str; 5] = ["locals", "vars", "eval", "exec", "globals"];

/// The start offsets of every identifier token whose text is one of a walk's tracked
/// names or [`DYNAMIC`], in order, read from the token stream.
///
/// A name use is always inside the nodes around it, so a node whose range holds no such
/// offset holds no use the walk records, and is skipped with its subtree. On the stdlib
/// the project index walks every module with its imported names tracked; most of a
/// module mentions none of them, and that walk was a tenth of a whole-tree run.
#[derive(Debug, Default)]
pub struct NameSites {
    starts: TokenStarts,
}

impl NameSites {
    /// The sites in `tokens` (of `source`) of the names `tracked` accepts.
    pub fn new(tokens: &Tokens, source: &str, tracked: impl Fn(&str) -> bool) -> Self {
        let starts = TokenStarts::of(tokens, |t| {
            // Soft keywords (`match`, `type`, ...) are names where they are not keywords.
            (t.kind() == TokenKind::Name || t.kind().is_soft_keyword()) && {
                let text = &source[t.range()];
                tracked(text) || DYNAMIC.contains(&text)
            }
        });
        Self { starts }
    }
}

impl<'a, 'k> UseWalker<'a, 'k> {
    pub(super) fn new(
        targets: &'k HashMap<&'a str, usize>,
        root_is_module: bool,
        shadowed: &'k HashSet<&'a str>,
    ) -> Self {
        Self {
            targets,
            root_is_module,
            shadowed,
            uses: vec![Vec::new(); targets.len()],
            blocked: vec![None; targets.len()],
            dynamic: false,
            follow_attributes: false,
            sites: None,
            cursor: WalkCursor::default(),
            stack: Vec::new(),
            cache: ScopeCache::default(),
        }
    }

    /// Walks only the nodes that hold one of `sites` (which must cover every tracked
    /// name's occurrences, see [`NameSites`]).
    pub(super) fn only_at(&mut self, sites: &'k NameSites) {
        self.sites = Some(sites);
    }

    /// Resolves a name occurrence: `None` when a nested scope binds it (not ours),
    /// else whether a function or lambda boundary lies between it and the root.
    fn resolve(&mut self, name: &str, at: TextRange) -> Option<Resolution> {
        // Only tracked names are resolved: the scopes' maps need hold no other.
        let targets = self.targets;
        let tracked = |n: &str| targets.contains_key(n);
        let mut crossed_function = false;
        // Class bodies are invisible from the functions and comprehensions inside them.
        let mut crossed_scope = false;
        let mut through_declaration = false;
        for i in (0..self.stack.len()).rev() {
            let node = self.stack[i];
            let (locals, is_function) = match node {
                AnyNodeRef::StmtFunctionDef(f)
                    if f.body.first().is_some_and(|s| s.start() <= at.start()) =>
                {
                    let locals = self.cache.locals.entry(f.start()).or_insert_with(|| {
                        function_locals_among(Some(&f.parameters), Body::Stmts(&f.body), tracked)
                    });
                    (locals as &LocalNames, true)
                }
                AnyNodeRef::ExprLambda(l) if l.body.range().contains_range(at) => {
                    let locals = self.cache.locals.entry(l.start()).or_insert_with(|| {
                        function_locals_among(l.parameters.as_deref(), Body::Expr(&l.body), tracked)
                    });
                    (locals as &LocalNames, true)
                }
                AnyNodeRef::StmtClassDef(c)
                    if c.body.first().is_some_and(|s| s.start() <= at.start()) =>
                {
                    if crossed_scope {
                        continue;
                    }
                    let locals = self
                        .cache
                        .locals
                        .entry(c.start())
                        .or_insert_with(|| body_locals_among(&c.body, tracked));
                    (locals as &LocalNames, false)
                }
                AnyNodeRef::ExprListComp(_)
                | AnyNodeRef::ExprSetComp(_)
                | AnyNodeRef::ExprDictComp(_)
                | AnyNodeRef::ExprGenerator(_) => {
                    let generators = match node {
                        AnyNodeRef::ExprListComp(c) => &c.generators,
                        AnyNodeRef::ExprSetComp(c) => &c.generators,
                        AnyNodeRef::ExprDictComp(c) => &c.generators,
                        AnyNodeRef::ExprGenerator(c) => &c.generators,
                        _ => return None,
                    };
                    if generators
                        .first()
                        .is_some_and(|g| g.iter.range().contains_range(at))
                    {
                        continue;
                    }
                    if generators.iter().any(|g| binds(&g.target, name)) {
                        return None;
                    }
                    // A generator runs later, like a closure.
                    if node.is_expr_generator() {
                        crossed_function = true;
                    }
                    crossed_scope = true;
                    continue;
                }
                _ => continue,
            };
            if let Some(local) = locals.get(name) {
                if local.global {
                    if self.root_is_module {
                        through_declaration = true;
                        break;
                    }
                    return None;
                }
                if local.nonlocal {
                    through_declaration = true;
                } else {
                    return None;
                }
            }
            crossed_function |= is_function;
            crossed_scope |= is_function;
        }
        Some(Resolution {
            crossed_function,
            through_declaration,
        })
    }
}

impl<'a> UseWalker<'a, '_> {
    /// Every attribute level above a name: for `m.a.b`, (`a`, use of `m.a`) and
    /// (`a.b`, use of `m.a.b`).
    fn attribute_chain(&self, name: TextRange) -> Vec<(String, UseKind<'a>)> {
        let mut inner = name;
        let mut path: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        let mut depth = self.stack.len();
        let shadowed = self.shadowed;
        while depth > 0 {
            let AnyNodeRef::ExprAttribute(attr) = self.stack[depth - 1] else {
                break;
            };
            if attr.value.range() != inner {
                break;
            }
            path.push(attr.attr.id.as_str());
            let kind = if attr.ctx == ExprContext::Load {
                classify(attr.range, &self.stack[..depth - 1], &|n| {
                    !shadowed.contains(n)
                })
            } else {
                // `m.NAME = value` or `del m.NAME` rebinds the module's name.
                UseKind::Escape(Escape::Rebound)
            };
            out.push((path.join("."), kind));
            inner = attr.range;
            depth -= 1;
        }
        out
    }
}

struct Resolution {
    crossed_function: bool,
    through_declaration: bool,
}

/// Whether an assignment target binds `name`.
fn binds(target: &Expr, name: &str) -> bool {
    let mut names = Vec::new();
    crate::syntax::target_names(target, &mut names);
    names.contains(&name)
}

impl<'a> SourceOrderVisitor<'a> for UseWalker<'a, '_> {
    fn enter_node(&mut self, node: AnyNodeRef<'a>) -> TraversalSignal {
        if let Some(sites) = self.sites
            && !sites.starts.any_in_walking(node.range(), &mut self.cursor)
        {
            // Pushed all the same: `leave_node` runs for a skipped node too.
            self.stack.push(node);
            return TraversalSignal::Skip;
        }
        if let AnyNodeRef::ExprName(name) = node {
            let id = name.id.as_str();
            if name.ctx == ExprContext::Load && DYNAMIC.contains(&id) {
                self.dynamic = true;
            }
            if let Some(&index) = self.targets.get(id)
                && let Some(resolution) = self.resolve(id, name.range)
            {
                match name.ctx {
                    ExprContext::Store
                        if matches!(self.stack.last(), Some(AnyNodeRef::StmtAugAssign(a)) if a.target.range() == name.range)
                            && !resolution.crossed_function
                            && !resolution.through_declaration =>
                    {
                        let shadowed = self.shadowed;
                        let kind = classify(name.range, &self.stack, &|n| !shadowed.contains(n));
                        self.uses[index].push(Use {
                            range: name.range,
                            kind,
                            attribute: Vec::new(),
                        });
                    }
                    ExprContext::Load => {
                        let kind = if resolution.crossed_function && !self.root_is_module {
                            UseKind::Escape(Escape::Closure)
                        } else {
                            let shadowed = self.shadowed;
                            classify(name.range, &self.stack, &|n| !shadowed.contains(n))
                        };
                        let attribute = if self.follow_attributes {
                            self.attribute_chain(name.range)
                        } else {
                            Vec::new()
                        };
                        self.uses[index].push(Use {
                            range: name.range,
                            kind,
                            attribute,
                        });
                    }
                    _ if resolution.through_declaration || resolution.crossed_function => {
                        self.blocked[index] = Some("rebound from a nested scope");
                    }
                    _ => {}
                }
            }
        }
        self.stack.push(node);
        TraversalSignal::Traverse
    }

    fn leave_node(&mut self, _node: AnyNodeRef<'a>) {
        self.stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_found_in_any_order_of_ranges_asked() {
        let source = "import os\nx = os.sep\ndef f():\n    return vars()\ny = 1\nos.getcwd()\n";
        let module = crate::parse(source).expect("test source parses");
        let sites = NameSites::new(module.tokens(), source, |name| name == "os");
        // `os` three times, and `vars` (a dynamic name) once.
        let starts = sites.starts.as_slice();
        assert_eq!(starts.len(), 4);
        let end = u32::try_from(source.len()).expect("a short source");
        let ranges: Vec<TextRange> = (0..end)
            .flat_map(|s| (s..=end).map(move |e| TextRange::new(s.into(), e.into())))
            .collect();
        let brute = |r: TextRange| starts.iter().any(|&o| r.start() <= o && o < r.end());
        // In source order, as a walk asks, then backwards and shuffled: the cursor
        // searches afresh when a range starts before the last one.
        let mut cursor = WalkCursor::default();
        for &r in &ranges {
            assert_eq!(
                sites.starts.any_in_walking(r, &mut cursor),
                brute(r),
                "{r:?}"
            );
        }
        for &r in ranges.iter().rev().step_by(7) {
            assert_eq!(
                sites.starts.any_in_walking(r, &mut cursor),
                brute(r),
                "{r:?}"
            );
        }
        for (i, &r) in ranges.iter().enumerate().filter(|(i, _)| i % 13 == 0) {
            let r = if i % 2 == 0 {
                r
            } else {
                ranges[ranges.len() - 1 - i]
            };
            assert_eq!(
                sites.starts.any_in_walking(r, &mut cursor),
                brute(r),
                "{r:?}"
            );
        }
    }
}
