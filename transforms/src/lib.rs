//! pyslim's transforms: pure analysis of Python source that proposes memory-saving
//! rewrites as text edits. Nothing here reads files, prints or knows about the CLI; the
//! `pyslim` binary feeds sources in and applies the fixes that come out.
//!
//! Adding a transform (README.md, "Development", says the same with the commands):
//!
//! 1. a module implementing [`Transform`], its [`Transform::documentation`] a Markdown
//!    file beside it with "What it does", "Why is this bad?", "Example", "Fix safety";
//! 2. one line in [`registry::TRANSFORMS`], and the name in `select` in
//!    `config.example.toml`, in registry order;
//! 3. options, if any: an `Options` struct in the module, a field of
//!    [`TransformOptions`] in `settings.rs`, a `[transforms.<name>]` table in
//!    `config.example.toml` with every key at its default;
//! 4. memory figures it quotes, if any: in [`figures`], measured by
//!    `tests/bench/memory_figures.py`, tabled in `docs/memory-figures.md`;
//! 5. a row in README.md's table of transforms;
//! 6. a fixture folder `fixtures/<name>/`: each case is its own test.

use std::any::Any;

pub mod figures;
pub mod fix;
pub mod parse;
pub mod registry;
pub mod saving;
pub mod settings;
pub mod suppression;
mod syntax;
#[cfg(test)]
mod testing;

pub mod array;
pub mod bindings;
pub mod deque;
pub mod generator;
pub mod imports;
pub mod instrument;
pub mod observed;
pub mod semantic;
pub mod slots;
pub mod tuple;

pub use fix::{Applicability, Edit, Finding, Fix, Impact, Note, Output};
pub use parse::{SourceModule, SyntaxError, parse};
pub use ruff_python_ast::PythonVersion;
pub use saving::{Avoided, Element, PerUnit, Saving, Subject};
pub use settings::{Settings, TransformOptions};

/// Facts one transform gathered from one file for its project-wide view. They must be
/// summaries, never the AST, so a large project's index stays small.
pub type FileFacts = Box<dyn Any + Send + Sync>;

/// A transform's project-wide view, built once from every file's [`FileFacts`].
pub type ProjectFacts = Box<dyn Any + Send + Sync>;

/// What a transform that reads the project view may report in a file, as far as the
/// file alone tells ([`Prepared::may`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MayReport {
    /// Nothing, whatever the project view says.
    Nothing,
    /// Notes at most: the project view may turn nothing into a fix.
    Notes,
    /// Fixes (and notes).
    Fixes,
}

/// What a transform that reads the project view took from one file on its indexing
/// parse ([`Transform::prepare`]).
pub struct Prepared {
    /// What it may report in the file, whatever the view says.
    pub may: MayReport,
    /// Its own summary of the file, read back by [`Transform::finish`].
    pub data: Box<dyn Any + Send + Sync>,
}

impl Prepared {
    /// Nothing to report in the file.
    pub fn nothing() -> Self {
        Self {
            may: MayReport::Nothing,
            data: Box::new(()),
        }
    }
}

/// Where a module sits in the project: what the transform sees of the file besides its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Dotted module name (`pkg.sub.mod`; `pkg` for `pkg/__init__.py`).
    pub name: String,
    /// True for a package's `__init__.py` (relative imports resolve from the package itself).
    pub is_package: bool,
    /// Path relative to the project root, with `/` separators, for messages.
    pub path: String,
}

/// What a transform sees of one file.
pub struct FileContext<'a> {
    /// The parsed file.
    pub module: &'a SourceModule<'a>,
    /// Its place in the project.
    pub info: &'a ModuleInfo,
    /// The user's settings.
    pub settings: &'a Settings,
    /// This transform's project-wide view, when it built one.
    pub project: Option<&'a (dyn Any + Send + Sync)>,
    /// The file is read for the index only: this transform never rewrites it (a test
    /// file while `rewrite-tests` is off). Its facts count, but what only a rewrite of
    /// it would use need not be kept (slots makes no plan for its classes).
    pub read_only: bool,
}

/// A memory-saving rewrite.
///
/// The engine calls [`Transform::index_file`] on every file (in parallel), then
/// [`Transform::index_project`] once, then [`Transform::run`] on each file for every
/// pass of its fix loop; for a transform that reads the project view, the first pass is
/// [`Transform::prepare`] on the indexing parse and [`Transform::finish`] once the view
/// is built. A transform must be idempotent: on its own output it proposes
/// nothing.
pub trait Transform: Send + Sync {
    /// Short, stable name used in config, suppressions and output (`slots`).
    fn name(&self) -> &'static str;

    /// One line for `pyslim transforms`.
    fn summary(&self) -> &'static str;

    /// When its fixes are safe and when unsafe, one line for `pyslim transforms`.
    fn applicability(&self) -> &'static str;

    /// The full `pyslim explain` text: what it does, why it saves memory, when it is
    /// unsafe, an example.
    fn documentation(&self) -> &'static str;

    /// Whether this transform builds a project index. Return `true` when implementing
    /// [`Transform::index_file`]: the engine skips the indexing parse of every file
    /// when no enabled transform needs it.
    fn needs_index(&self) -> bool {
        false
    }

    /// Gathers the facts this transform needs about the whole project from one file.
    fn index_file(&self, _ctx: &FileContext) -> Option<FileFacts> {
        None
    }

    /// Combines the per-file facts (in the engine's deterministic file order). Each
    /// file's facts say which module they are from when that matters.
    fn index_project(&self, _files: Vec<FileFacts>) -> Option<ProjectFacts> {
        None
    }

    /// Whether [`Transform::run`] reads [`FileContext::project`]. One that does not runs
    /// while the project is indexed, on the same parse of each file; one that does
    /// [prepares](Transform::prepare) there what its run reads of the file, and
    /// [finishes](Transform::finish) once the index is built, for the files
    /// [`Transform::reports_in`] keeps.
    fn run_needs_project(&self) -> bool {
        self.needs_index()
    }

    /// On the indexing parse, for a transform that
    /// [runs with the project view](Transform::run_needs_project): all that
    /// [`Transform::run`] reads of the file, with no AST, and what it may report there
    /// whatever the view says. The view's run is then [`Transform::finish`] on it, and
    /// the file is not parsed again. For every file and view, `run` must report what
    /// `finish` reports on what `prepare` took without the view.
    fn prepare(&self, _ctx: &FileContext) -> Prepared {
        Prepared::nothing()
    }

    /// [`Transform::run`] on what [`Transform::prepare`] took from the file `info`
    /// (whose text is `source`), with this transform's project view (`project`) if it
    /// built one.
    fn finish(
        &self,
        _prepared: &(dyn Any + Send + Sync),
        _project: Option<&(dyn Any + Send + Sync)>,
        _info: &ModuleInfo,
        _settings: &Settings,
        _source: &str,
    ) -> Output {
        Output::default()
    }

    /// With this transform's project view built: whether [`Transform::run`] may report
    /// a fix for the module `info`, or a note when `notes` (the caller shows them).
    /// `false` spares the file being read again.
    fn reports_in(
        &self,
        _project: &(dyn Any + Send + Sync),
        _info: &ModuleInfo,
        _notes: bool,
    ) -> bool {
        true
    }

    /// Proposes rewrites for one file.
    fn run(&self, ctx: &FileContext) -> Output;
}

/// [`Transform::run`] of a transform that [prepares](Transform::prepare): finishing
/// what it prepares on the same parse, with the view `ctx` holds.
pub fn run_prepared(transform: &dyn Transform, ctx: &FileContext) -> Output {
    let prepared = transform.prepare(ctx);
    let source = ctx.module.source();
    transform.finish(
        prepared.data.as_ref(),
        ctx.project,
        ctx.info,
        ctx.settings,
        source,
    )
}
