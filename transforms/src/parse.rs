//! The one place pyslim talks to the Python parser.
//!
//! pyslim parses with `ruff_python_parser` (pinned in the workspace): the maintained
//! successor of rustpython-parser, it reads modern syntax (PEP 695/696/701/750/758) and
//! is fast enough to re-parse every file after every pass. Keeping the parser behind
//! this module means a version bump touches one file.

use ruff_python_ast::ModModule;
use ruff_python_ast::token::Tokens;
use ruff_python_codegen::Stylist;
use ruff_python_parser::Parsed;
use ruff_python_trivia::CommentRanges;
use ruff_source_file::LineIndex;
use ruff_text_size::TextSize;
use std::sync::OnceLock;

use crate::semantic::Names;

/// A parsed Python module together with what transforms need to edit it faithfully:
/// the source text, its comments, a line index and the file's own code style.
///
/// Most files of a project have nothing to rewrite, so everything beyond the AST and
/// the tokens is computed on first use.
pub struct SourceModule<'src> {
    source: &'src str,
    parsed: Parsed<ModModule>,
    comments: OnceLock<CommentRanges>,
    line_index: OnceLock<LineIndex>,
    stylist: OnceLock<Stylist<'src>>,
    names: OnceLock<Names>,
}

/// A syntax error: where it is and what the parser said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the error in the parsed text.
    pub offset: TextSize,
    /// The parser's message.
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Parses `source` as a Python module. The text must not start with a byte-order mark:
/// the caller strips it so that every offset is an offset into `source`.
pub fn parse(source: &str) -> Result<SourceModule<'_>, SyntaxError> {
    let parsed = ruff_python_parser::parse_module(source).map_err(|err| SyntaxError {
        offset: err.location.start(),
        message: err.error.to_string(),
    })?;
    Ok(SourceModule {
        source,
        parsed,
        comments: OnceLock::new(),
        line_index: OnceLock::new(),
        stylist: OnceLock::new(),
        names: OnceLock::new(),
    })
}

impl<'src> SourceModule<'src> {
    /// The full source text.
    pub fn source(&self) -> &'src str {
        self.source
    }

    /// The module's AST.
    pub fn ast(&self) -> &ModModule {
        self.parsed.syntax()
    }

    /// The token stream (for finding brackets, commas and comments between nodes).
    pub fn tokens(&self) -> &Tokens {
        self.parsed.tokens()
    }

    /// The ranges of every comment in the file.
    pub fn comments(&self) -> &CommentRanges {
        self.comments
            .get_or_init(|| CommentRanges::from(self.parsed.tokens()))
    }

    /// Maps offsets to lines and columns.
    pub fn line_index(&self) -> &LineIndex {
        self.line_index
            .get_or_init(|| LineIndex::from_source_text(self.source))
    }

    /// The file's quote style, indentation and line ending, for generated code.
    pub fn stylist(&self) -> &Stylist<'src> {
        self.stylist
            .get_or_init(|| Stylist::from_tokens(self.parsed.tokens(), self.source))
    }

    /// What the file's scopes bind, for "is this name the builtin here" (computed once
    /// per file, whichever transforms ask).
    pub fn names(&self) -> &Names {
        self.names.get_or_init(|| Names::new(&self.ast().body))
    }

    /// The 1-based line and column (in characters) of `offset`.
    pub fn line_column(&self, offset: TextSize) -> (usize, usize) {
        let lc = self.line_index().line_column(offset, self.source);
        (lc.line.get(), lc.column.get())
    }
}
