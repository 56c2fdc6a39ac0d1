//! `# pyslim: ignore` and `# pyslim: ignore[name, ...]` comments.

use std::collections::HashMap;

use ruff_text_size::Ranged;

use crate::parse::SourceModule;

/// Which transforms are silenced on which line of one file.
#[derive(Debug, Default)]
pub struct Suppressions {
    /// Line (1-based) → `None` for every transform, or the named ones.
    lines: HashMap<usize, Option<Vec<String>>>,
}

impl Suppressions {
    /// Collects the suppression comments of a parsed module.
    pub fn from_module(module: &SourceModule) -> Self {
        // Every directive holds `pyslim:`; most files have none, and are spared
        // collecting their comments.
        if !module.source().contains("pyslim:") {
            return Self::default();
        }
        let mut lines = HashMap::new();
        for range in module.comments().iter() {
            let text = &module.source()[range.range()];
            if let Some(names) = parse_comment(text) {
                let (line, _) = module.line_column(range.start());
                lines.insert(line, names);
            }
        }
        Self { lines }
    }

    /// Whether `transform` is silenced for a construct starting on the 1-based line
    /// `line` gives, asked only when the file has a suppression comment at all (most
    /// files have none, and are spared placing the construct).
    pub fn is_suppressed(&self, line: impl FnOnce() -> usize, transform: &str) -> bool {
        if self.lines.is_empty() {
            return false;
        }
        match self.lines.get(&line()) {
            None => false,
            Some(None) => true,
            Some(Some(names)) => names.iter().any(|n| n == transform),
        }
    }
}

/// Reads one comment: `Some(None)` silences everything, `Some(Some(names))` the named
/// transforms, `None` means it is not a pyslim comment. A pyslim directive may follow
/// other text in the comment (`# noqa: E501  # pyslim: ignore`), as with ruff's `noqa`.
fn parse_comment(comment: &str) -> Option<Option<Vec<String>>> {
    let at = comment.find("pyslim:")?;
    let rest = comment[at + "pyslim:".len()..].trim_start();
    let rest = rest.strip_prefix("ignore")?;
    let rest = rest.trim_start();
    if let Some(list) = rest.strip_prefix('[') {
        let end = list.find(']')?;
        let names = list[..end]
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        Some(Some(names))
    } else if rest.is_empty() || rest.starts_with('#') || rest.starts_with(' ') {
        Some(None)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::parse_comment;

    #[test]
    fn reads_directives() {
        assert_eq!(parse_comment("# pyslim: ignore"), Some(None));
        assert_eq!(parse_comment("#pyslim:ignore"), Some(None));
        assert_eq!(
            parse_comment("# pyslim: ignore[slots, generator]"),
            Some(Some(vec!["slots".into(), "generator".into()]))
        );
        assert_eq!(parse_comment("# noqa  # pyslim: ignore"), Some(None));
        assert_eq!(parse_comment("# pyslim: ignored"), None);
        assert_eq!(parse_comment("# a plain comment"), None);
    }
}
