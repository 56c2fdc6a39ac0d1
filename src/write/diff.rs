//! Unified diffs (for `--dry-run`) and patches (for `--patch`) with `a/` and `b/` paths,
//! in the form `git apply` accepts from the project root.

use similar::TextDiff;

/// The unified diff of one file, or `None` when nothing changed. `path` is the path
/// relative to the folder the patch will be applied from, with `/` separators.
pub fn unified(path: &str, old: &str, new: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    out.push_str(&format!("--- a/{path}\n+++ b/{path}\n"));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        // `similar` writes the `\ No newline at end of file` marker itself.
        out.push_str(&hunk.to_string());
    }
    Some(out)
}

/// Colours a unified diff for a terminal, line by line, as git does.
pub fn colorize(diff: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let style_for = |line: &str| -> Style {
        if line.starts_with("+++") || line.starts_with("---") {
            Style::new().bold()
        } else if line.starts_with('+') {
            AnsiColor::Green.on_default()
        } else if line.starts_with('-') {
            AnsiColor::Red.on_default()
        } else if line.starts_with("@@") {
            AnsiColor::Cyan.on_default()
        } else {
            Style::new()
        }
    };
    let mut out = String::with_capacity(diff.len() + 64);
    for line in diff.split_inclusive('\n') {
        let style = style_for(line);
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&format!("{style}{body}{style:#}{end}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{colorize, unified};

    #[test]
    fn colorize_styles_each_line_as_git_does() {
        let diff = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = [1]\n+y = (1,)\n\\ No newline at end of file";
        assert_eq!(
            colorize(diff),
            concat!(
                "\x1b[1m--- a/a.py\x1b[0m\n",
                "\x1b[1m+++ b/a.py\x1b[0m\n",
                "\x1b[36m@@ -1,2 +1,2 @@\x1b[0m\n",
                " x = 1\n",
                "\x1b[31m-y = [1]\x1b[0m\n",
                "\x1b[32m+y = (1,)\x1b[0m\n",
                // The last line has no newline: none is added, and the reset comes
                // before where the newline would be.
                "\\ No newline at end of file",
            )
        );
    }

    #[test]
    fn colorize_keeps_carriage_returns_inside_the_style() {
        // A CRLF file's lines end in `\r\n`: only the `\n` stays outside the style.
        assert_eq!(colorize("+a\r\n"), "\x1b[32m+a\r\x1b[0m\n");
        assert_eq!(colorize(""), "");
    }

    #[test]
    fn no_change_no_diff() {
        assert_eq!(unified("a.py", "x\n", "x\n"), None);
    }

    #[test]
    fn marks_missing_final_newline() {
        let diff = unified("a.py", "x = [1]", "x = (1,)").unwrap();
        assert!(
            diff.starts_with("--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n"),
            "{diff}"
        );
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }
}
