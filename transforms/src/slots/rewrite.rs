//! The edits: a `__slots__` line placed as the class body's first statement (after the
//! docstring), or `slots=True` merged into a `@dataclass` decorator.
//!
//! Each is taken from the AST in two steps: where the edit goes and how the file writes
//! it ([`SlotsSite`], [`DecoratorSite`]), read on the indexing parse, then the edit for
//! the names the project decision chose, made without the AST.

use ruff_python_ast::helpers::is_docstring_stmt;
use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{self as ast, Expr};
use ruff_python_trivia::indentation_at_offset;
use ruff_source_file::LineRanges;
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::{Edit, SourceModule};

/// The line length past which the `__slots__` tuple is split, one name per line (the
/// default of ruff format and black).
const MAX_LINE: usize = 88;

/// How a file writes what the `__slots__` line holds.
#[derive(Debug, Clone)]
pub struct Style {
    /// One level of the file's indentation, for a tuple split over lines.
    inner: String,
    /// The file's preferred quote.
    quote: char,
    /// The file's line ending.
    newline: &'static str,
}

impl Style {
    /// `module`'s style.
    pub fn of(module: &SourceModule) -> Self {
        let stylist = module.stylist();
        Self {
            inner: stylist.indentation().as_str().to_string(),
            quote: stylist.quote().as_char(),
            newline: stylist.line_ending().as_str(),
        }
    }
}

/// Where a class's `__slots__` line goes.
#[derive(Debug, Clone, Copy)]
pub struct SlotsSite {
    /// The body's first statement, whose indentation the line takes (tabs and odd
    /// widths as the file has them).
    first: TextSize,
    place: Place,
}

/// Where the line is inserted, and in which form.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// `; line` after a docstring on the header's logical line (`class A:\`).
    AfterOnHeader(TextSize),
    /// `line; ` before the first statement on the header's logical line.
    BeforeOnHeader(TextSize),
    /// A line of its own starting here (after a docstring's line, or before the first
    /// statement's).
    LineAt(TextSize),
    /// After a docstring that ends the file without a newline.
    AfterLastLine(TextSize),
}

impl SlotsSite {
    /// Where `def`'s `__slots__` line goes, or why it cannot be placed.
    pub fn of(module: &SourceModule, def: &ast::StmtClassDef) -> Result<Self, &'static str> {
        let source = module.source();
        let first = def.body.first().ok_or("class has no body")?;
        indentation_at_offset(first.start(), source).ok_or("class body is on one line")?;
        let place = if on_header_line(module, def, first) {
            // `class A:\` continued onto the body's line: the body is a simple statement
            // list on the header's logical line, where an indented line of its own
            // would be an unexpected indent. The slots join that list, before its first
            // statement (after a docstring, which must stay first).
            if is_docstring_stmt(first) {
                Place::AfterOnHeader(first.end())
            } else {
                Place::BeforeOnHeader(first.start())
            }
        } else if is_docstring_stmt(first) {
            if let Some(next) = def.body.get(1)
                && source.line_start(next.start()) <= first.end()
            {
                return Err("class body continues on the docstring's line");
            }
            let line_end = source.line_end(first.end());
            let full_end = source.full_line_end(first.end());
            if full_end == line_end {
                // The docstring ends the file without a newline.
                Place::AfterLastLine(line_end)
            } else {
                Place::LineAt(full_end)
            }
        } else {
            Place::LineAt(source.line_start(first.start()))
        };
        Ok(Self {
            first: first.start(),
            place,
        })
    }

    /// The insertion of `__slots__ = (names...)` into `source`, the text this site was
    /// found in, written in its `style`.
    pub fn edit(&self, source: &str, style: &Style, names: &[String]) -> Edit {
        let Style {
            inner,
            quote,
            newline,
        } = style;
        // Read on the same text when the site was found.
        let indent = indentation_at_offset(self.first, source).unwrap_or_default();
        let items: Vec<String> = names.iter().map(|n| format!("{quote}{n}{quote}")).collect();
        let tuple = match items.as_slice() {
            [] => "()".to_string(),
            [one] => format!("({one},)"),
            many => format!("({})", many.join(", ")),
        };
        let mut line = format!("__slots__ = {tuple}");
        match self.place {
            Place::AfterOnHeader(at) => return Edit::insertion(format!("; {line}"), at),
            Place::BeforeOnHeader(at) => return Edit::insertion(format!("{line}; "), at),
            Place::LineAt(_) | Place::AfterLastLine(_) => {}
        }
        if indent
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum::<usize>()
            + line.len()
            > MAX_LINE
        {
            // One name per line with a trailing comma, as ruff format and black lay out
            // a tuple that does not fit.
            line = String::from("__slots__ = (");
            for item in &items {
                line.push_str(&format!("{newline}{indent}{inner}{item},"));
            }
            line.push_str(&format!("{newline}{indent})"));
        }
        match self.place {
            Place::AfterLastLine(at) => Edit::insertion(format!("{newline}{indent}{line}"), at),
            Place::LineAt(at) | Place::AfterOnHeader(at) | Place::BeforeOnHeader(at) => {
                Edit::insertion(format!("{indent}{line}{newline}"), at)
            }
        }
    }
}

/// Whether the body's first statement `first` is on the class header's logical line:
/// no logical newline between the header and it (a backslash joins the lines).
fn on_header_line(module: &SourceModule, def: &ast::StmtClassDef, first: &ast::Stmt) -> bool {
    !module
        .tokens()
        .in_range(TextRange::new(def.name.end(), first.start()))
        .iter()
        .any(|t| t.kind() == TokenKind::Newline)
}

/// A decorator of a class, as far as `slots=True` merged into it needs.
#[derive(Debug, Clone, Copy)]
pub struct DecoratorSite {
    /// It is a call with a `slots=` argument already.
    pub has_slots: bool,
    form: Form,
}

/// Where the arguments go.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// `, args` after the call's last argument (a trailing comma or comment stays put).
    AfterLast(TextSize),
    /// `args` before the `)` of a call without arguments.
    Inside(TextSize),
    /// `(args)` after a bare decorator.
    Call(TextSize),
}

impl DecoratorSite {
    /// The decorator expression `dec` of a class in `module`.
    pub fn of(module: &SourceModule, dec: &Expr) -> Self {
        match dec {
            Expr::Call(call) => {
                let last = call
                    .arguments
                    .args
                    .iter()
                    .map(Ranged::end)
                    .chain(call.arguments.keywords.iter().map(Ranged::end))
                    .max();
                let form = match last {
                    Some(end) => Form::AfterLast(end),
                    None => {
                        let close = call.arguments.end() - TextSize::from(1);
                        debug_assert_eq!(
                            &module.source()[close.to_usize()..=close.to_usize()],
                            ")"
                        );
                        Form::Inside(close)
                    }
                };
                Self {
                    has_slots: call.arguments.find_keyword("slots").is_some(),
                    form,
                }
            }
            other => Self {
                has_slots: false,
                form: Form::Call(other.end()),
            },
        }
    }

    /// The edit merging `slots=True` (and `weakref_slot=True`) into the decorator.
    pub fn edit(&self, weakref: bool) -> Edit {
        let args = if weakref {
            "slots=True, weakref_slot=True"
        } else {
            "slots=True"
        };
        match self.form {
            Form::AfterLast(end) => Edit::insertion(format!(", {args}"), end),
            Form::Inside(close) => Edit::insertion(args.to_string(), close),
            Form::Call(end) => Edit::insertion(format!("({args})"), end),
        }
    }
}
