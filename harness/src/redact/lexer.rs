//! A lenient JSON lexer for redaction: string tokens with their byte
//! ranges and the key that holds them, and string contents as units (a
//! literal character or an escape) that can be rewritten in their own form.
//!
//! Invariant: it never fails; damaged text gives fewer or shorter tokens,
//! and bytes outside string tokens are never touched.

use std::collections::BTreeSet;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Object,
    Array,
}

/// A lexical token; strings carry the byte range of their content (without
/// the quotes; to the end of the text when the closing quote is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    Open(Container),
    Close,
    Comma,
    Str(Range<usize>),
    /// Numbers, literals and anything else outside strings.
    Scalar,
}

/// One open container while walking the tokens.
pub(super) struct Frame {
    pub(super) object: bool,
    /// An object waiting for a member's key.
    pub(super) expect_key: bool,
    /// The current member's key (objects) or the key holding the array.
    pub(super) key: Option<String>,
    /// Inside a payload reference: nothing is replaced.
    pub(super) keep_all: bool,
    /// The object holding `key` has a `cmd` member.
    pub(super) in_command: bool,
}

/// Lenient tokenizer: never fails, always advances, accepts damaged text.
pub(super) fn tokenize(bytes: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b':' => at += 1,
            b'{' => {
                tokens.push(Token::Open(Container::Object));
                at += 1;
            }
            b'[' => {
                tokens.push(Token::Open(Container::Array));
                at += 1;
            }
            b'}' | b']' => {
                tokens.push(Token::Close);
                at += 1;
            }
            b',' => {
                tokens.push(Token::Comma);
                at += 1;
            }
            b'"' => {
                let start = at + 1;
                let mut end = start;
                while let Some(&byte) = bytes.get(end) {
                    match byte {
                        b'"' => break,
                        b'\\' => end += 2,
                        _ => end += 1,
                    }
                }
                let end = end.min(bytes.len());
                tokens.push(Token::Str(start..end));
                at = end + 1;
            }
            _ => {
                let end = bytes[at..]
                    .iter()
                    .position(|byte| b" \t\n\r:{}[],\"".contains(byte))
                    .map_or(bytes.len(), |offset| at + offset);
                tokens.push(Token::Scalar);
                at = end.max(at + 1);
            }
        }
    }
    tokens
}

/// Token indexes of the objects that have a `cmd` member.
pub(super) fn objects_with_cmd(bytes: &[u8], tokens: &[Token]) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    // (token index of the object, or None for an array; expecting a key)
    let mut stack: Vec<(Option<usize>, bool)> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Open(Container::Object) => stack.push((Some(index), true)),
            Token::Open(Container::Array) => stack.push((None, false)),
            Token::Close => {
                stack.pop();
            }
            Token::Comma => {
                if let Some((Some(_), expect_key)) = stack.last_mut() {
                    *expect_key = true;
                }
            }
            Token::Str(content) => {
                if let Some((Some(object), expect_key)) = stack.last_mut()
                    && *expect_key
                {
                    *expect_key = false;
                    if &bytes[content.clone()] == b"cmd" {
                        found.insert(*object);
                    }
                }
            }
            Token::Scalar => {}
        }
    }
    found
}

/// How a character is written inside a string token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// The UTF-8 bytes themselves.
    Literal,
    /// `\n`, `\"`, ...: only whitespace and punctuation, never replaced.
    Short,
    /// `\uXXXX` for a character of the basic plane.
    Unicode,
    /// `\uXXXX\uXXXX`, a surrogate pair.
    Pair,
    /// Bytes that do not decode (invalid UTF-8, a lone surrogate, an unknown
    /// escape): kept as they are.
    Invalid,
}

/// One character of a string token, with where it is written.
pub(super) struct Unit {
    pub(super) raw: Range<usize>,
    pub(super) ch: Option<char>,
    pub(super) form: Form,
}

/// The characters of a string token's content.
pub(super) fn units(raw: &[u8]) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let unit = if raw[at] == b'\\' {
            escape(raw, at)
        } else {
            literal(raw, at)
        };
        at = unit.raw.end;
        units.push(unit);
    }
    units
}

pub(super) fn literal(raw: &[u8], at: usize) -> Unit {
    let width = match raw[at] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 0,
    };
    let decoded = raw
        .get(at..at + width)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| text.chars().next());
    match decoded {
        Some(ch) => Unit {
            raw: at..at + width,
            ch: Some(ch),
            form: Form::Literal,
        },
        None => Unit {
            raw: at..at + 1,
            ch: None,
            form: Form::Invalid,
        },
    }
}

pub(super) fn escape(raw: &[u8], at: usize) -> Unit {
    let short = |ch: char| Unit {
        raw: at..at + 2,
        ch: Some(ch),
        form: Form::Short,
    };
    let invalid = Unit {
        raw: at..(at + 2).min(raw.len()),
        ch: None,
        form: Form::Invalid,
    };
    match raw.get(at + 1) {
        Some(b'"') => short('"'),
        Some(b'\\') => short('\\'),
        Some(b'/') => short('/'),
        Some(b'b') => short('\u{8}'),
        Some(b'f') => short('\u{c}'),
        Some(b'n') => short('\n'),
        Some(b'r') => short('\r'),
        Some(b't') => short('\t'),
        Some(b'u') => {
            let Some(first) = hex4(raw, at + 2) else {
                return invalid;
            };
            if (0xd800..0xdc00).contains(&first) {
                let low = (raw.get(at + 6..at + 8) == Some(b"\\u"))
                    .then(|| hex4(raw, at + 8))
                    .flatten()
                    .filter(|low| (0xdc00..0xe000).contains(low));
                return match low {
                    Some(low) => Unit {
                        raw: at..at + 12,
                        ch: char::from_u32(0x1_0000 + ((first - 0xd800) << 10) + (low - 0xdc00)),
                        form: Form::Pair,
                    },
                    None => Unit {
                        raw: at..at + 6,
                        ch: None,
                        form: Form::Invalid,
                    },
                };
            }
            match char::from_u32(first) {
                Some(ch) => Unit {
                    raw: at..at + 6,
                    ch: Some(ch),
                    form: Form::Unicode,
                },
                None => Unit {
                    raw: at..at + 6,
                    ch: None,
                    form: Form::Invalid,
                },
            }
        }
        _ => invalid,
    }
}

pub(super) fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = std::str::from_utf8(raw.get(at..at + 4)?).ok()?;
    if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// Writes `new` in the form of the unit it replaces (`old` is its raw text).
pub(super) fn encode(form: Form, old: &[u8], new: char, out: &mut Vec<u8>) {
    let upper = old.iter().any(u8::is_ascii_uppercase) && old.len() > 2;
    let hex = |unit: u32| {
        if upper {
            format!("\\u{unit:04X}")
        } else {
            format!("\\u{unit:04x}")
        }
    };
    match form {
        Form::Literal => {
            let mut buffer = [0; 4];
            out.extend_from_slice(new.encode_utf8(&mut buffer).as_bytes());
        }
        Form::Unicode => out.extend_from_slice(hex(u32::from(new)).as_bytes()),
        Form::Pair => {
            let mut buffer = [0; 2];
            for unit in new.encode_utf16(&mut buffer) {
                out.extend_from_slice(hex(u32::from(*unit)).as_bytes());
            }
        }
        // Never replaced (see `Form`); keep the text as it was.
        Form::Short | Form::Invalid => out.extend_from_slice(old),
    }
}

/// A key's text, escapes decoded (undecodable parts become U+FFFD).
pub(super) fn decode_lossy(raw: &[u8]) -> String {
    units(raw)
        .iter()
        .map(|unit| unit.ch.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}
