//! Turning a file's bytes into text the parser can read, and back, byte for byte.
//!
//! Python source is UTF-8 unless a PEP 263 cookie on line 1 or 2 says otherwise; a
//! UTF-8 byte-order mark is kept aside and written back. A file in another encoding is
//! decoded and re-encoded only when that round trip reproduces the original bytes
//! exactly, so nothing the user wrote can change by accident.

use encoding_rs::{Encoding, UTF_8};
use thiserror::Error;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file's text and how to turn it back into bytes.
#[derive(Debug, Clone)]
pub struct DecodedSource {
    /// The text without the byte-order mark.
    pub text: String,
    bom: bool,
    encoding: &'static Encoding,
}

/// Why a file's bytes could not be read as Python source.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Not UTF-8 and no cookie naming another encoding.
    #[error("not valid UTF-8 (first bad byte at offset {offset}) and no coding cookie")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A cookie names an encoding pyslim does not know.
    #[error("unknown source encoding {0:?} in the coding cookie")]
    UnknownEncoding(String),
    /// Decoding and re-encoding would not give the same bytes back.
    #[error(
        "encoding {0} does not round-trip this file's bytes exactly; skipped to keep it intact"
    )]
    NoRoundTrip(&'static str),
    /// The cookie disagrees with the BOM or the bytes are not valid in the named encoding.
    #[error("bytes are not valid {0}")]
    Malformed(&'static str),
}

impl DecodedSource {
    /// [`DecodedSource::decode`] of bytes read for it: UTF-8 without a byte-order mark
    /// (nearly every file) becomes the text without being copied.
    pub fn decode_owned(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        if bytes.starts_with(BOM) || coding_cookie(&bytes).is_some() {
            return Self::decode(&bytes);
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self {
                text,
                bom: false,
                encoding: UTF_8,
            }),
            Err(e) => Err(DecodeError::InvalidUtf8 {
                offset: e.utf8_error().valid_up_to(),
            }),
        }
    }

    /// Decodes `bytes` as Python source.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (bom, body) = match bytes.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, bytes),
        };
        let encoding = match coding_cookie(body) {
            None => UTF_8,
            Some(label) => Encoding::for_label(python_codec_alias(&label).as_bytes())
                .ok_or(DecodeError::UnknownEncoding(label))?,
        };
        if encoding == UTF_8 {
            let text = std::str::from_utf8(body).map_err(|e| DecodeError::InvalidUtf8 {
                offset: e.valid_up_to() + if bom { BOM.len() } else { 0 },
            })?;
            return Ok(Self {
                text: text.to_string(),
                bom,
                encoding,
            });
        }
        if bom {
            return Err(DecodeError::Malformed(
                "UTF-8 (a BOM with a non-UTF-8 cookie)",
            ));
        }
        let (text, had_errors) = encoding.decode_without_bom_handling(body);
        if had_errors {
            return Err(DecodeError::Malformed(encoding.name()));
        }
        let decoded = Self {
            text: text.into_owned(),
            bom,
            encoding,
        };
        match decoded.encode(&decoded.text) {
            Ok(again) if again == bytes => Ok(decoded),
            _ => Err(DecodeError::NoRoundTrip(encoding.name())),
        }
    }

    /// The text a diff should show for `text`: with the byte-order mark in front when the
    /// file has one, so the patch's first line matches the file's.
    pub fn for_diff(&self, text: &str) -> String {
        if self.bom {
            format!("\u{feff}{text}")
        } else {
            text.to_string()
        }
    }

    /// The file's bytes as read (decoding round-trips them exactly).
    pub fn original_bytes(&self) -> Vec<u8> {
        self.encode(&self.text).unwrap_or_default()
    }

    /// Encodes part of a patch in the file's encoding, so `git apply` matches its bytes.
    pub fn encode_fragment(&self, text: &str) -> Vec<u8> {
        if self.encoding == UTF_8 {
            text.as_bytes().to_vec()
        } else {
            self.encoding.encode(text).0.into_owned()
        }
    }

    /// Encodes rewritten text the way the original file was encoded.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM);
        }
        if self.encoding == UTF_8 {
            out.extend_from_slice(text.as_bytes());
        } else {
            let (bytes, _, unmappable) = self.encoding.encode(text);
            if unmappable {
                return Err(DecodeError::Malformed(self.encoding.name()));
            }
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }
}

/// The encoding named by a PEP 263 cookie in the first two lines, if any.
fn coding_cookie(body: &[u8]) -> Option<String> {
    for (number, line) in body.split(|&b| b == b'\n').take(2).enumerate() {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(name) = cookie_in_comment(comment) {
                return Some(name);
            }
        } else if number == 0 && !trimmed.trim().is_empty() {
            // PEP 263: the cookie on line 2 only counts when line 1 is blank or a comment.
            return None;
        }
    }
    None
}

fn cookie_in_comment(comment: &str) -> Option<String> {
    let at = comment.find("coding")?;
    let rest = &comment[at + "coding".len()..];
    let rest = rest.strip_prefix([':', '='])?;
    let name: String = rest
        .trim_start_matches([' ', '\t'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Python codec names that the WHATWG labels used by `encoding_rs` spell differently.
fn python_codec_alias(label: &str) -> String {
    let lower = label.to_ascii_lowercase().replace('_', "-");
    match lower.as_str() {
        "utf8" | "utf-8-sig" => "utf-8".to_string(),
        "latin-1" | "latin1" | "iso-8859-1" | "l1" => "windows-1252".to_string(),
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_round_trips() {
        let bytes = b"\xEF\xBB\xBFx = 1\r\n";
        let src = DecodedSource::decode(bytes).unwrap();
        assert_eq!(src.text, "x = 1\r\n");
        assert_eq!(src.encode(&src.text).unwrap(), bytes);
    }

    #[test]
    fn latin1_cookie_is_honoured() {
        let bytes = b"# -*- coding: latin-1 -*-\ns = '\xe9'\n";
        let src = DecodedSource::decode(bytes).unwrap();
        assert!(src.text.contains('\u{e9}'));
        assert_eq!(src.encode(&src.text).unwrap(), bytes);
    }

    #[test]
    fn rewritten_text_is_encoded_back_in_the_cookie_encoding() {
        let bytes = b"# coding: cp1252\ns = '\x80 \xe9'\nt = sum([1 for _ in s])\n";
        let src = DecodedSource::decode(bytes).unwrap();
        assert_eq!(
            src.text,
            "# coding: cp1252\ns = '\u{20ac} \u{e9}'\nt = sum([1 for _ in s])\n"
        );
        let rewritten = src.text.replace("sum([1 for _ in s])", "sum(1 for _ in s)");
        assert_eq!(
            src.encode(&rewritten).unwrap(),
            b"# coding: cp1252\ns = '\x80 \xe9'\nt = sum(1 for _ in s)\n"
        );
        // A patch fragment is in the file's encoding too, so `git apply` matches it.
        assert_eq!(src.encode_fragment("+s = '\u{e9}'\n"), b"+s = '\xe9'\n");
        assert_eq!(src.for_diff("x"), "x", "no BOM to show");
    }

    #[test]
    fn text_the_encoding_cannot_hold_is_an_error_not_a_lossy_write() {
        let src = DecodedSource::decode(b"# coding: latin-1\ns = '\xe9'\n").unwrap();
        assert_eq!(
            src.encode("# coding: latin-1\ns = '\u{4e2d}'\n"),
            Err(DecodeError::Malformed("windows-1252"))
        );
        assert_eq!(
            DecodeError::Malformed("windows-1252").to_string(),
            "bytes are not valid windows-1252"
        );
    }

    #[test]
    fn a_cookie_that_does_not_round_trip_is_refused() {
        // Big5 has two codes for U+2550 (`═`): 0xA2A4 decodes to it, but encoding
        // writes 0xF9F9, so writing the file back would change bytes nobody edited.
        let err = DecodedSource::decode(b"# coding: big5\ns = '\xa2\xa4'\n").unwrap_err();
        assert_eq!(err, DecodeError::NoRoundTrip("Big5"));
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let err = DecodedSource::decode(b"x = '\xff'\n").unwrap_err();
        assert_eq!(err, DecodeError::InvalidUtf8 { offset: 5 });
    }

    #[test]
    fn cookie_on_line_two_needs_a_comment_on_line_one() {
        assert_eq!(
            coding_cookie(b"#!/usr/bin/env python\n# coding=cp1252\n"),
            Some("cp1252".into())
        );
        assert_eq!(coding_cookie(b"x = 1\n# coding=cp1252\n"), None);
    }

    #[test]
    fn bytes_read_for_it_decode_as_borrowed_ones_do() {
        let cases: [&[u8]; 6] = [
            b"x = 1\n",
            b"\xEF\xBB\xBFx = 1\r\n",
            b"# -*- coding: latin-1 -*-\ns = '\xe9'\n",
            b"# coding: utf-8\ns = '\xc3\xa9'\n",
            b"x = '\xff'\n",
            b"# coding: klingon\n",
        ];
        for bytes in cases {
            let borrowed = DecodedSource::decode(bytes);
            let owned = DecodedSource::decode_owned(bytes.to_vec());
            assert_eq!(
                owned.as_ref().map(|s| (&s.text, s.bom, s.encoding)),
                borrowed.as_ref().map(|s| (&s.text, s.bom, s.encoding)),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn unknown_cookie_is_an_error() {
        let err = DecodedSource::decode(b"# coding: klingon\n").unwrap_err();
        assert_eq!(err, DecodeError::UnknownEncoding("klingon".into()));
    }
}
