//! The edits: a `__slots__` line placed as the class body's first statement (after the
//! docstring), or `slots=True` merged into a `@dataclass` decorator.

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

/// The `__slots__ = (...)` insertion for `def`, or why it cannot be placed.
pub fn slots_line(
    module: &SourceModule,
    def: &ast::StmtClassDef,
    names: &[String],
) -> Result<Edit, &'static str> {
    let source = module.source();
    let stylist = module.stylist();
    let first = def.body.first().ok_or("class has no body")?;
    // The body's own indentation, taken from its first statement: tabs and odd widths
    // stay as the file has them.
    let indent = indentation_at_offset(first.start(), source).ok_or("class body is on one line")?;
    let quote = stylist.quote().as_char();
    let newline = stylist.line_ending().as_str();
    let items: Vec<String> = names.iter().map(|n| format!("{quote}{n}{quote}")).collect();
    let tuple = match items.as_slice() {
        [] => "()".to_string(),
        [one] => format!("({one},)"),
        many => format!("({})", many.join(", ")),
    };
    let mut line = format!("__slots__ = {tuple}");
    if on_header_line(module, def, first) {
        // `class A:\` continued onto the body's line: the body is a simple statement
        // list on the header's logical line, where an indented line of its own would be
        // an unexpected indent. The slots join that list, before its first statement
        // (after a docstring, which must stay first).
        return Ok(if is_docstring_stmt(first) {
            Edit::insertion(format!("; {line}"), first.end())
        } else {
            Edit::insertion(format!("{line}; "), first.start())
        });
    }
    if indent
        .chars()
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum::<usize>()
        + line.len()
        > MAX_LINE
    {
        // One name per line with a trailing comma, as ruff format and black lay out a
        // tuple that does not fit.
        let inner = stylist.indentation().as_str();
        line = String::from("__slots__ = (");
        for item in &items {
            line.push_str(&format!("{newline}{indent}{inner}{item},"));
        }
        line.push_str(&format!("{newline}{indent})"));
    }
    if is_docstring_stmt(first) {
        if let Some(next) = def.body.get(1)
            && source.line_start(next.start()) <= first.end()
        {
            return Err("class body continues on the docstring's line");
        }
        let line_end = source.line_end(first.end());
        let full_end = source.full_line_end(first.end());
        if full_end == line_end {
            // The docstring ends the file without a newline.
            Ok(Edit::insertion(
                format!("{newline}{indent}{line}"),
                line_end,
            ))
        } else {
            Ok(Edit::insertion(
                format!("{indent}{line}{newline}"),
                full_end,
            ))
        }
    } else {
        Ok(Edit::insertion(
            format!("{indent}{line}{newline}"),
            source.line_start(first.start()),
        ))
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

/// The edit merging `slots=True` (and `weakref_slot=True`) into the `@dataclass`
/// decorator `dec`.
pub fn dataclass_arguments(module: &SourceModule, dec: &Expr, weakref: bool) -> Edit {
    let args = if weakref {
        "slots=True, weakref_slot=True"
    } else {
        "slots=True"
    };
    match dec {
        Expr::Call(call) => {
            let last = call
                .arguments
                .args
                .iter()
                .map(Ranged::end)
                .chain(call.arguments.keywords.iter().map(Ranged::end))
                .max();
            match last {
                // After the last argument, so a trailing comma or comment stays put.
                Some(end) => Edit::insertion(format!(", {args}"), end),
                None => {
                    let close = call.arguments.end() - TextSize::from(1);
                    debug_assert_eq!(&module.source()[close.to_usize()..=close.to_usize()], ")");
                    Edit::insertion(args.to_string(), close)
                }
            }
        }
        other => Edit::insertion(format!("({args})"), other.end()),
    }
}
