//! Per-file summaries for the `slots` transform: every class with what decides whether
//! it can take `__slots__`, plus the facts about instances that other files need
//! (attribute writes from outside a class, weak references, `vars()`, ...).
//!
//! Names are resolved through the file's own imports here, to absolute dotted names
//! (`pkg.models.Base`); [`super::decide`] resolves those against the whole project.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{Expr, Stmt};

use crate::semantic::Names;
use crate::suppression::Suppressions;
use crate::{FileContext, SourceModule};

use super::types::TypeRef;

mod annotations;
mod bindings;
mod call_sites;
mod calls;
mod classes;
mod confined;
mod exprs;
mod facts;
mod flow;
mod imports;
mod receivers;
mod resolve;
mod summary;
mod visit;

use bindings::{Binding, InnerBinders, call_bindings, declarations};
pub use calls::is_harmless_library_call;
use imports::ImportCollector;
pub use summary::{ClassSummary, Fact, FileSummary, Owner, Receiver, Ref};

/// Summarises one file.
pub fn index_file(ctx: &FileContext) -> FileSummary {
    let module = ctx.module;
    let body = &module.ast().body;
    let mut summary = FileSummary {
        module: ctx.info.name.clone(),
        path: ctx.info.path.as_str().into(),
        target: Some(ctx.settings.target_version),
        read_only: ctx.read_only,
        ..FileSummary::default()
    };
    let mut imports = ImportCollector {
        info: ctx.info,
        imports: HashMap::default(),
        stars: Vec::new(),
    };
    imports.visit_body(body);
    summary.imports = imports.imports;
    summary.star_imports = imports.stars;
    // `from gc import get_objects`: any object may be reached through the name.
    summary.reflects = summary
        .imports
        .values()
        .any(|d| confined::is_reflection(d.rsplit('.').next().unwrap_or(d)));
    // Every name bound at module level, in `if`/`try` blocks too.
    let binders = InnerBinders::new(module.tokens());
    let mut module_bindings = call_bindings(body, &binders);
    // A function may rebind a module-level name it declares `global`.
    for name in declarations(body).names {
        if let Some(binding) = module_bindings.get_mut(name) {
            *binding = Binding::Unknown;
        }
    }
    let private_functions = call_sites::candidates(body, &module_bindings);
    let module_names = module_bindings.keys().copied().collect();
    // With a star import, what the module binds itself hides the star-imported name.
    if !summary.star_imports.is_empty() {
        summary.module_bound = module_bindings.keys().copied().map(Name::new).collect();
    }
    summary.module_functions = module_bindings
        .iter()
        .filter(|(_, b)| b.is_plain_definition())
        .map(|(n, _)| Name::new(n))
        .collect();
    let mut indexer = Indexer {
        summary,
        source: module,
        suppressions: Suppressions::from_module(module),
        scopes: vec![Scope::Module {
            calls: module_bindings.clone(),
        }],
        qual: Vec::new(),
        names: module.names(),
        narrowed: Vec::new(),
        excluded: Vec::new(),
        typevars: HashMap::default(),
        module_names,
        function_writes: HashSet::default(),
        functions: Vec::new(),
        value_depth: std::cell::Cell::new(0),
        previous: None,
        flow: Vec::new(),
        no_flow: std::cell::Cell::new(false),
        fact_hashes: HashMap::default(),
        binders,
        dotted: Vec::new(),
        statement: ruff_text_size::TextSize::default(),
        private_functions,
    };
    for (name, binding) in &module_bindings {
        if let Binding::Call(callee, _) = binding
            && let Some(callee) = callee.name()
            && let Receiver::Instance(class) = indexer.instance_of(callee.segments())
        {
            indexer
                .summary
                .module_instances
                .insert(name.to_string(), class.to_string());
        }
    }
    indexer.typevars = indexer.typevars_in(body, &module_bindings);
    indexer.visit_body(body);
    indexer.record_call_sites();
    indexer.confine(body);
    let mut summary = indexer.summary;
    summary.compact();
    summary
}

/// A library method that builds the object it returns unless it is given one.
pub struct Producer {
    /// The library class, as constructed (`argparse.ArgumentParser`).
    pub owner: &'static str,
    /// The method.
    pub method: &'static str,
    /// `None`: the whole result is the new object; `Some(i)`: item `i` of the tuple
    /// it returns is.
    pub item: Option<usize>,
    /// The keyword of the parameter through which a caller's object is returned
    /// instead ...
    pub passed_as: &'static str,
    /// ... and how many positional arguments come before it.
    pub passed_at: usize,
    /// The class of the new object.
    pub class: &'static str,
}

/// Library methods whose result is a new object of the library's own class, as their
/// documentation and source say (`argparse`: `if namespace is None: namespace =
/// Namespace()`; `optparse`: `values = self.get_default_values()`), unless the caller
/// passes the object to fill. Such a result is never an instance of a project class,
/// so `vars(parser.parse_args())`, the usual way to turn options into a dict, says
/// nothing about the project's classes. Only calls on an object built by the library
/// class itself count (a project subclass may override the method), and the project
/// decision still checks that the project does not replace the method
/// ([`super::decide`]).
pub const PRODUCERS: &[Producer] = &[
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_args",
        item: None,
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_intermixed_args",
        item: None,
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_known_args",
        item: Some(0),
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "argparse.ArgumentParser",
        method: "parse_known_intermixed_args",
        item: Some(0),
        passed_as: "namespace",
        passed_at: 1,
        class: "argparse.Namespace",
    },
    Producer {
        owner: "optparse.OptionParser",
        method: "parse_args",
        item: Some(0),
        passed_as: "values",
        passed_at: 1,
        class: "optparse.Values",
    },
];

enum Scope<'a> {
    Module {
        calls: HashMap<&'a str, Binding<'a>>,
    },
    Class {
        /// Nested class names, so `class B(A)` inside the same class body resolves.
        nested: HashMap<String, String>,
    },
    Function {
        self_name: Option<(String, usize)>,
        cls_name: Option<(String, usize)>,
        locals: HashMap<&'a str, Binding<'a>>,
    },
}

/// A function whose return values are being collected.
struct Returning {
    /// Its key in [`FileSummary::returns`], when it is recorded there.
    key: Option<String>,
    /// The union of what its `return`s give; `None` once one is not known.
    types: Option<Vec<TypeRef>>,
    /// The declared return type (it wins over what the returns say).
    declared: Option<Vec<TypeRef>>,
}

struct Indexer<'m, 'src> {
    summary: FileSummary,
    source: &'m SourceModule<'src>,
    suppressions: Suppressions,
    scopes: Vec<Scope<'m>>,
    qual: Vec<String>,
    /// What the file binds: whether a bare name may be the builtin.
    names: &'m Names,
    /// Every module-level name (functions, variables, classes). Only this file's
    /// indexing reads it, so it is not part of the summary held until the decision.
    module_names: HashSet<&'m str>,
    /// `isinstance` narrowing in force: (scope depth, name, what it is).
    narrowed: Vec<(usize, String, Vec<TypeRef>)>,
    /// Where `name.attr = ...` writes on a function object (see
    /// [`function_object_writes`](bindings::function_object_writes)): the start of the
    /// target.
    function_writes: HashSet<ruff_text_size::TextSize>,
    /// Module-level `TypeVar`s and their `bound=` (`None`: no bound).
    typevars: HashMap<String, Option<&'m Expr>>,
    /// `isinstance` checks known false (the `else` of one): (scope depth, name, the
    /// dotted classes it is not an instance of).
    excluded: Vec<(usize, String, Vec<String>)>,
    /// The functions being visited, innermost last.
    functions: Vec<Returning>,
    /// How many [`Binding::Value`] expressions are being read, one inside another
    /// (`a = b.x` with `b = a.y` would otherwise never end).
    value_depth: std::cell::Cell<u8>,
    /// The statement before the one being visited, in the same body.
    previous: Option<&'m Stmt>,
    /// What the statements visited so far in the current function bound where the
    /// visit is, one list per enclosing body: `name = value`, or `None` where a
    /// statement (re)binds the name some other way.
    flow: Vec<Vec<(&'m str, Option<&'m Expr>)>>,
    /// Reading a value bound earlier: its names are read as bound function-wide,
    /// since they may have been rebound since.
    no_flow: std::cell::Cell<bool>,
    /// Where the facts recorded so far are, by their hash: a file may record thousands,
    /// each recorded once.
    fact_hashes: HashMap<u64, Vec<usize>>,
    /// Where the file's expressions may bind names, for each function's bindings.
    binders: InnerBinders,
    /// The absolute dotted name of each class of `summary.classes`, made once: a
    /// class's methods ask for it again and again.
    dotted: Vec<String>,
    /// Where the statement being visited starts: a fact's line is its statement's.
    statement: ruff_text_size::TextSize,
    /// The private module-level functions whose callers may type their parameters,
    /// with the calls met so far ([`call_sites`]).
    private_functions: HashMap<&'m str, call_sites::PrivateFunction<'m>>,
}
