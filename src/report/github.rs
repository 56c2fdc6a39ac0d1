//! `check --format github`: GitHub Actions workflow commands, one annotation per
//! finding (`::warning title=…,file=…,line=…,col=…::message`), as ruff's
//! `--output-format github` writes them. GitHub shows each on the line of the pull
//! request's diff; the summary still goes to stderr, into the job's log.

use std::io::Write;

use pyslim_transforms::Applicability;

use crate::engine::applicability_name;

use super::findings::RunReport;

/// Escapes a workflow command's message (`%`, CR and LF).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes one annotation per finding (warnings), note (`--explain`: notices) and error
/// of the run.
pub fn print(report: &RunReport, out: &mut impl Write) -> std::io::Result<()> {
    for file in &report.files {
        let path = escape_property(&file.path);
        for fix in &file.fixes {
            let tag = match fix.applicability {
                Applicability::Safe => String::new(),
                other => format!(" [{}]", applicability_name(other)),
            };
            writeln!(
                out,
                "::warning title={},file={path},line={},col={}::{}",
                escape_property(&format!("pyslim ({})", fix.key.transform)),
                fix.line,
                fix.column,
                escape_data(&format!(
                    "{}:{}:{}: {}{tag} {}",
                    file.path, fix.line, fix.column, fix.key.transform, fix.message
                ))
            )?;
        }
        for note in &file.notes {
            writeln!(
                out,
                "::notice title={},file={path},line={},col={}::{}",
                escape_property(&format!("pyslim ({})", note.transform)),
                note.line,
                note.column,
                escape_data(&format!(
                    "{}:{}:{}: {} skipped: {}",
                    file.path, note.line, note.column, note.transform, note.reason
                ))
            )?;
        }
    }
    for error in &report.errors {
        let mut properties = vec!["title=pyslim".to_string()];
        if !error.path.is_empty() {
            properties.push(format!("file={}", escape_property(&error.path)));
        }
        if let Some(line) = error.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = error.column {
            properties.push(format!("col={column}"));
        }
        writeln!(
            out,
            "::error {}::{}",
            properties.join(","),
            escape_data(&error.to_string())
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_reads_them() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
