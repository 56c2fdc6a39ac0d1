//! Byte sizes as users write them: `64KiB`, `2MB`, `512 kib`, `1.5MiB`, `0`, `1048576`.
//! `K`/`M`/`G` with `i` are powers of 1024 (`KiB`), without it powers of 1000 (`KB`),
//! as the units are defined; a bare number is bytes.

use anyhow::{Result, bail};

/// Parses a size into bytes.
pub fn parse(text: &str) -> Result<u64> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number = number.replace('_', "");
    let value: f64 = match number.parse() {
        Ok(v) if !number.is_empty() => v,
        _ => {
            bail!("{text:?} is not a size: write a number with an optional unit, like 64KiB or 2MB")
        }
    };
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            bail!("{text:?}: unknown size unit {other:?} (use B, KB, MB, GB, KiB, MiB or GiB)")
        }
    };
    let bytes = value * factor;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        bail!("{text:?} is out of range");
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn units() {
        assert_eq!(parse("0").unwrap(), 0);
        assert_eq!(parse("1048576").unwrap(), 1_048_576);
        assert_eq!(parse("64KiB").unwrap(), 65_536);
        assert_eq!(parse("512 kib").unwrap(), 524_288);
        assert_eq!(parse("2MB").unwrap(), 2_000_000);
        assert_eq!(parse("1.5MiB").unwrap(), 1_572_864);
        assert_eq!(parse("3 GB").unwrap(), 3_000_000_000);
        assert!(parse("").is_err());
        assert!(parse("KiB").is_err());
        assert!(
            parse("12 parsecs")
                .unwrap_err()
                .to_string()
                .contains("unknown size unit")
        );
        assert!(parse("-4KB").is_err());
    }
}
