//! `pyslim transforms` and `pyslim explain NAME`: what each transform does.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use pyslim_transforms::registry;

use super::Format;

/// Lists every transform with its summary and applicability.
pub fn list_transforms(format: Format) -> Result<ExitCode> {
    match format {
        Format::Json => {
            let list: Vec<_> = registry::TRANSFORMS
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "name": t.name(),
                        "summary": t.summary(),
                        "applicability": t.applicability(),
                    })
                })
                .collect();
            writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(&list)?
            )?;
        }
        Format::Text => {
            let width = registry::names().iter().map(|n| n.len()).max().unwrap_or(0);
            let mut out = anstream::stdout().lock();
            let bold = anstyle::Style::new().bold();
            for t in registry::TRANSFORMS {
                writeln!(out, "{bold}{:width$}{bold:#}  {}", t.name(), t.summary())?;
                writeln!(out, "{:width$}  applicability: {}", "", t.applicability())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a transform's full documentation.
pub fn explain(name: &str) -> Result<ExitCode> {
    let Some(transform) = registry::get(name) else {
        bail!(
            "unknown transform {name:?}; the transforms are: {}",
            registry::names().join(", ")
        );
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {}\n", transform.name())?;
    writeln!(out, "{}\n", transform.summary())?;
    writeln!(out, "Applicability: {}\n", transform.applicability())?;
    writeln!(out, "{}", transform.documentation().trim_end())?;
    Ok(ExitCode::SUCCESS)
}
