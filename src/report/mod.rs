//! What the user reads: the findings of `check` and `rewrite` as text and JSON
//! ([`findings`]), and verification reports: the terminal summary ([`verify`]) and the
//! Markdown report meant as a migration pull request's description ([`markdown`]). The
//! verification's JSON form is [`crate::verify::VerifyReport`] serialized.

pub mod findings;
pub mod github;
pub mod level;
pub mod markdown;
pub mod profile;
pub mod ranking;
pub mod sarif;
pub mod verify;

/// Tests shown in the terminal and in the Markdown table.
pub const TOP_TESTS: usize = 10;

/// Formats a byte count for people: `812 B`, `4.0 KiB`, `1.53 MiB`, with a sign when
/// `signed`.
pub fn bytes(value: i64, signed: bool) -> String {
    let sign = match (signed, value.signum()) {
        (true, 1) => "+",
        (_, -1) => "-",
        _ => "",
    };
    let v = value.unsigned_abs() as f64;
    if v < 1024.0 {
        format!("{sign}{} B", value.unsigned_abs())
    } else if v < 1024.0 * 1024.0 {
        format!("{sign}{:.1} KiB", v / 1024.0)
    } else {
        format!("{sign}{:.2} MiB", v / (1024.0 * 1024.0))
    }
}
