//! Redaction of a trace bundle's free text, so that a private trace can
//! become a public corpus case (`cargo xtask new-case --redact`).
//!
//! Every JSON document of a bundle (`manifest.json`, each line of
//! `trace.jsonl`, each payload file) is rewritten *lexically*: the text is
//! tokenized leniently and only the contents of some string tokens change;
//! whitespace, member order, repeated members, numbers and damaged text stay
//! exactly as they were.
//!
//! Which strings are replaced (the rules, decided from `trace-format.md` and
//! `reduction.md`: a string is replaced only if the reducer either never
//! reads it or only copies it or compares it for equality with other
//! replaced strings):
//! - Object keys are never replaced.
//! - A string value is kept when the key that holds it (the member's key; for
//!   an array element, the key of the member holding the array) is an id or
//!   a name the reducer routes by: `id` and every key ending in `_id` or
//!   `_ids`; every key ending in `agent_path`; [`KEPT_KEYS`] (types, kinds,
//!   roles, statuses, phases, tool and model names, agent names, the
//!   manifest's file names, a few setting enumerations). `name` is kept
//!   except in an object that also has a `cmd` member (a parsed shell
//!   command, where `name` is a file name).
//! - Everything below a key ending in `_payload` or called `payloads` is kept
//!   whole: those are payload references, whose `path` locates the file.
//! - Every other string value is replaced: messages, reasoning, tool
//!   arguments and outputs, commands, working folders, source code,
//!   previews, error texts, encrypted content, instructions, and any member
//!   this module does not know. A string with no key (a top-level string,
//!   an element of a top-level array) is replaced too.
//!
//! How a string is replaced ([`Redactor::text`]):
//! - If the whole string is JSON text (function-call `arguments`,
//!   `write_stdin` arguments, old-style inter-agent messages...), it is
//!   redacted by the same rules, recursively, and stays valid JSON with the
//!   same ids (`cell_id`, `session_id`, `author`, `recipient` survive).
//! - Otherwise it becomes a placeholder ([`placeholder`]): each ASCII
//!   lowercase letter becomes a lowercase letter, uppercase an uppercase
//!   letter, digit a digit; other ASCII characters and Unicode whitespace
//!   stay; any other character becomes a letter with the same UTF-8 length.
//!   The choice is seeded by a hash of the whole string and nothing else.
//!
//! Invariants:
//! - Determinism: the replacement of a string is a function of that string
//!   alone, so strings the reducer compares (a spawn `prompt` and the
//!   message the child receives, an agent result and the parent's item)
//!   stay equal. Different strings may collide (short strings especially);
//!   `new_case`'s shape check catches a collision that changes the result.
//! - Lengths: a document keeps its byte length and every string keeps its
//!   length in characters and in UTF-8 bytes (escapes are rewritten in their
//!   own form: `\u00e9` stays a six-byte `\uXXXX`), so error positions
//!   (`line 1 column 165`) and the 240-byte cut of JSON summaries stay where
//!   they were.
//! - A replaced character is always an ASCII letter or digit or a non-ASCII
//!   letter: never a quote, backslash, control character or whitespace, so
//!   valid JSON stays valid and invalid JSON stays invalid the same way.
//!
//! Limits (documented, not fixed; the shape check of `new_case` refuses a
//! result they change):
//! - A placeholder is not a secret: it depends on the string alone, so a
//!   short or guessable string can be recovered by trying candidates.
//! - Array-shaped events and payload references (positional fields,
//!   `trace-format.md` §1) have no keys, so their ids are replaced.
//! - Two JSON values whose summaries agree only in their first 240 bytes
//!   (`reduction.md` §6.9) stop matching when a string crossing the cut
//!   differs after it: the placeholder of the whole string changes.

mod lexer;

use std::collections::BTreeSet;

use lexer::Container;
use lexer::Frame;
use lexer::Token;
use lexer::decode_lossy;
use lexer::encode;
use lexer::objects_with_cmd;
use lexer::tokenize;
use lexer::units;

/// Keys whose string values are kept, besides `id`, `*_id`, `*_ids` and
/// `*agent_path`. Each is read by the reducer to route, link or validate, or
/// is an enumeration that carries no user text.
pub const KEPT_KEYS: &[&str] = &[
    // Discriminators and enumerations the reducer dispatches on.
    "type",
    "kind",
    "role",
    "phase",
    "status",
    "event_type",
    // Names: tool routing (`wait`, `write_stdin`, `exec`), tool kinds, summaries.
    "name",
    "tool_name",
    "tool_namespace",
    "server",
    "tool",
    "label",
    "model",
    "provider_name",
    // Agents: paths are validated and compared; names land in threads.
    "author",
    "recipient",
    "other_recipients",
    "task_name",
    "nickname",
    "agent_nickname",
    "agent_role",
    "receiver_agent_nickname",
    "receiver_agent_role",
    // The manifest's file names.
    "raw_event_log",
    "payloads_dir",
    // Setting enumerations (no user text; kept for readable cases).
    "reasoning_effort",
    "effort",
    "approval_policy",
    "sandbox_policy",
    "session_source",
];

/// The redaction rules, with an optional list of keys whose values are
/// replaced although the rules keep them (for tests that show what breaks).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    also_redacted: BTreeSet<String>,
}

impl Redactor {
    /// The rules of the module documentation.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// These rules, except that values under `key` are replaced too.
    pub fn also_redacting(mut self, key: &str) -> Redactor {
        self.also_redacted.insert(key.to_string());
        self
    }

    /// Whether a string value under `key` is kept. `in_command` says the
    /// object holding the member also has a `cmd` member.
    pub fn keeps(&self, key: &str, in_command: bool) -> bool {
        if self.also_redacted.contains(key) {
            return false;
        }
        if key == "name" {
            return !in_command;
        }
        key == "id"
            || key.ends_with("_id")
            || key.ends_with("_ids")
            || key.ends_with("agent_path")
            || KEPT_KEYS.contains(&key)
    }

    /// Whether everything below `key` is kept (a payload reference).
    fn keeps_all(&self, key: &str) -> bool {
        !self.also_redacted.contains(key) && (key.ends_with("_payload") || key == "payloads")
    }

    /// `trace.jsonl`: each physical line redacted as its own document, line
    /// terminators kept.
    pub fn lines(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for line in bytes.split_inclusive(|&byte| byte == b'\n') {
            out.extend_from_slice(&self.document(line));
        }
        out
    }

    /// One JSON document (valid or not), redacted lexically.
    pub fn document(&self, bytes: &[u8]) -> Vec<u8> {
        let tokens = tokenize(bytes);
        let in_command = objects_with_cmd(bytes, &tokens);
        let mut out = Vec::with_capacity(bytes.len());
        let mut copied = 0;
        let mut stack: Vec<Frame> = Vec::new();
        for (index, token) in tokens.iter().enumerate() {
            match *token {
                Token::Open(container) => {
                    let (key, keep_all, in_cmd) = match stack.last() {
                        Some(frame) => (frame.key.clone(), frame.keep_all, frame.in_command),
                        None => (None, false, false),
                    };
                    let keep_all =
                        keep_all || key.as_deref().is_some_and(|key| self.keeps_all(key));
                    stack.push(match container {
                        Container::Object => Frame {
                            object: true,
                            expect_key: true,
                            key: None,
                            keep_all,
                            in_command: in_command.contains(&index),
                        },
                        Container::Array => Frame {
                            object: false,
                            expect_key: false,
                            key,
                            keep_all,
                            in_command: in_cmd,
                        },
                    });
                }
                Token::Close => {
                    stack.pop();
                }
                Token::Comma => {
                    if let Some(frame) = stack.last_mut().filter(|frame| frame.object) {
                        frame.expect_key = true;
                        frame.key = None;
                    }
                }
                Token::Scalar => {}
                Token::Str(ref content) => {
                    if let Some(frame) = stack.last_mut().filter(|frame| frame.expect_key) {
                        frame.key = Some(decode_lossy(&bytes[content.clone()]));
                        frame.expect_key = false;
                        continue;
                    }
                    let keep = stack.last().is_some_and(|frame| {
                        frame.keep_all
                            || frame
                                .key
                                .as_deref()
                                .is_some_and(|key| self.keeps(key, frame.in_command))
                    });
                    if keep {
                        continue;
                    }
                    out.extend_from_slice(&bytes[copied..content.start]);
                    out.extend_from_slice(&self.string_token(&bytes[content.clone()]));
                    copied = content.end;
                }
            }
        }
        out.extend_from_slice(&bytes[copied..]);
        out
    }

    /// The replacement of one free-text string (decoded, without quotes).
    pub fn text(&self, text: &str) -> String {
        if could_be_json(text) && serde_json::from_str::<serde_json::Value>(text).is_ok() {
            let redacted = self.document(text.as_bytes());
            // Only characters change, so the bytes stay UTF-8 and the
            // character count stays; anything else would be a bug here, and
            // the placeholder is the safe answer.
            if let Ok(redacted) = String::from_utf8(redacted)
                && redacted.chars().count() == text.chars().count()
            {
                return redacted;
            }
        }
        placeholder(text)
    }

    /// The redacted content of a string token (raw bytes between the quotes),
    /// in the token's own escaping.
    fn string_token(&self, raw: &[u8]) -> Vec<u8> {
        let units = units(raw);
        let decoded: Option<String> = units.iter().map(|unit| unit.ch).collect();
        let replaced: Vec<Option<char>> = match decoded {
            Some(decoded) => self.text(&decoded).chars().map(Some).collect(),
            // Invalid escapes or bytes: the reducer cannot read this string
            // anyway; replace what decodes, seeded by the raw bytes.
            None => {
                let mut state = fnv1a(raw);
                units
                    .iter()
                    .map(|unit| {
                        state = next_state(state);
                        unit.ch.map(|ch| replace(ch, mix(state)))
                    })
                    .collect()
            }
        };
        let mut out = Vec::with_capacity(raw.len());
        for (unit, new) in units.iter().zip(replaced) {
            let old = &raw[unit.raw.clone()];
            match (unit.ch, new) {
                (Some(old_ch), Some(new_ch)) if old_ch != new_ch => {
                    encode(unit.form, old, new_ch, &mut out);
                }
                _ => out.extend_from_slice(old),
            }
        }
        out
    }
}

/// The class-preserving placeholder of `text`, seeded by a hash of `text`.
pub fn placeholder(text: &str) -> String {
    let mut state = fnv1a(text.as_bytes());
    text.chars()
        .map(|ch| {
            state = next_state(state);
            replace(ch, mix(state))
        })
        .collect()
}

/// The character replacing `ch`, chosen by `random`.
fn replace(ch: char, random: u64) -> char {
    let pick = |first: u32, count: u32| {
        // `count` is small, so the remainder fits and the sum is a char.
        let offset = u32::try_from(random % u64::from(count)).unwrap_or(0);
        char::from_u32(first + offset).unwrap_or(ch)
    };
    match ch {
        'a'..='z' => pick('a' as u32, 26),
        'A'..='Z' => pick('A' as u32, 26),
        '0'..='9' => pick('0' as u32, 10),
        _ if ch.is_ascii() || ch.is_whitespace() => ch,
        // Cyrillic small letters а..я, CJK ideographs, CJK extension B: no
        // whitespace, nothing JSON escapes.
        _ => match ch.len_utf8() {
            2 => pick(0x0430, 32),
            3 => pick(0x4E00, 0x5200),
            _ => pick(0x2_0000, 0xA6E0),
        },
    }
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike the
/// standard library's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64: the state advances by a constant, `mix` scrambles it.
fn next_state(state: u64) -> u64 {
    state.wrapping_add(0x9e37_79b9_7f4a_7c15)
}

fn mix(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A cheap filter before a JSON parse: JSON text starts with one of these.
fn could_be_json(text: &str) -> bool {
    text.trim_start().starts_with([
        '{', '[', '"', '-', 't', 'f', 'n', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        let redacted = Redactor::new().document(text.as_bytes());
        assert_eq!(redacted.len(), text.len(), "byte length of {text}");
        String::from_utf8_lossy(&redacted).into_owned()
    }

    #[test]
    fn placeholders_keep_classes_and_lengths_and_depend_on_the_string_only() {
        let text = "Hello, World 42!\tÉté — 東京 🎉 \u{3000}end";
        let replaced = placeholder(text);
        assert_eq!(replaced, "Esskp, Hzcrn 63!\tрcх 訄 奉牟 𠽲 \u{3000}ipn");
        assert_eq!(placeholder(text), replaced);
        assert_eq!(Redactor::new().text(text), replaced);
        for (old, new) in text.chars().zip(replaced.chars()) {
            assert_eq!(old.len_utf8(), new.len_utf8(), "{old:?} -> {new:?}");
            assert_eq!(old.is_ascii_lowercase(), new.is_ascii_lowercase());
            assert_eq!(old.is_ascii_uppercase(), new.is_ascii_uppercase());
            assert_eq!(old.is_ascii_digit(), new.is_ascii_digit());
        }
        // One character more changes every letter: the seed is the whole string.
        assert_eq!(placeholder("Hello, World 43!"), "Zbroy, Fvknq 60!");
    }

    #[test]
    fn ids_names_and_payload_references_are_kept() {
        let line = r#"{"schema_version":1,"seq":6,"wall_time_unix_ms":1006,"rollout_id":"rollout-1","thread_id":"thread-root","codex_turn_id":"turn-1","payload":{"type":"tool_call_started","tool_call_id":"call-1","model_visible_call_id":"call-1","code_mode_runtime_tool_id":null,"requester":{"type":"model"},"kind":{"type":"other","name":"wait"},"summary":{"type":"generic","label":"wait","input_preview":"Wait for cell 1","output_preview":null},"invocation_payload":{"raw_payload_id":"raw_payload:4","kind":{"type":"tool_invocation"},"path":"payloads/4.json"}}}"#;
        assert_eq!(
            redact(line),
            r#"{"schema_version":1,"seq":6,"wall_time_unix_ms":1006,"rollout_id":"rollout-1","thread_id":"thread-root","codex_turn_id":"turn-1","payload":{"type":"tool_call_started","tool_call_id":"call-1","model_visible_call_id":"call-1","code_mode_runtime_tool_id":null,"requester":{"type":"model"},"kind":{"type":"other","name":"wait"},"summary":{"type":"generic","label":"wait","input_preview":"Hnks jtr pyyx 4","output_preview":null},"invocation_payload":{"raw_payload_id":"raw_payload:4","kind":{"type":"tool_invocation"},"path":"payloads/4.json"}}}"#
        );
        // A parsed shell command's `name` is a file name; equal strings stay equal.
        assert_eq!(
            redact(
                r#"{"parsed_cmd":[{"type":"read","cmd":"cat notes.txt","name":"notes.txt","path":"notes.txt"}],"name":"exec"}"#
            ),
            r#"{"parsed_cmd":[{"type":"read","cmd":"wbw fdyzh.zqm","name":"cdtgu.sjg","path":"cdtgu.sjg"}],"name":"exec"}"#
        );
        let lines = "{\"id\":\"a\",\"text\":\"b\"}\r\n\n{\"id\":\"a\",\"text\":\"b\"}";
        assert_eq!(
            String::from_utf8_lossy(&Redactor::new().lines(lines.as_bytes())),
            "{\"id\":\"a\",\"text\":\"a\"}\r\n\n{\"id\":\"a\",\"text\":\"a\"}"
        );
        assert_eq!(
            String::from_utf8_lossy(
                &Redactor::new()
                    .also_redacting("id")
                    .document(br#"{"id":"a","text":"b"}"#)
            ),
            r#"{"id":"d","text":"a"}"#
        );
    }

    #[test]
    fn json_in_strings_is_redacted_inside_and_stays_json() {
        let invocation = "{\n  \"tool_name\": \"write_stdin\",\n  \"payload\": {\n    \"type\": \"function\",\n    \"arguments\": \"{\\\"session_id\\\": 83419, \\\"chars\\\": \\\"ls ~/secret\\\\n\\\", \\\"yield_time_ms\\\": 250}\"\n  }\n}";
        let redacted = redact(invocation);
        assert_eq!(
            redacted,
            "{\n  \"tool_name\": \"write_stdin\",\n  \"payload\": {\n    \"type\": \"function\",\n    \"arguments\": \"{\\\"session_id\\\": 83419, \\\"chars\\\": \\\"un ~/wkcgpq\\\\n\\\", \\\"yield_time_ms\\\": 250}\"\n  }\n}"
        );
        let arguments = serde_json::from_str::<serde_json::Value>(&redacted)
            .ok()
            .and_then(|value| value["payload"]["arguments"].as_str().map(str::to_string))
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
        assert_eq!(
            arguments,
            Some(
                serde_json::json!({"session_id": 83419, "chars": "un ~/wkcgpq\n", "yield_time_ms": 250})
            )
        );
        // An old-style inter-agent message keeps its paths, and its content is
        // replaced exactly as the spawn prompt it must match.
        let delivered = r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"{\"author\":\"/root\",\"recipient\":\"/root/worker\",\"content\":\"Run the tests\",\"trigger_turn\":true}"}]}"#;
        assert_eq!(
            redact(delivered),
            r#"{"type":"message","role":"user","content":[{"type":"input_text","text":"{\"author\":\"/root\",\"recipient\":\"/root/worker\",\"content\":\"Mok inn ugmpl\",\"trigger_turn\":true}"}]}"#
        );
        assert_eq!(
            redact(r#"{"call_id":"c-1","receiver_thread_id":"t-2","prompt":"Run the tests"}"#),
            r#"{"call_id":"c-1","receiver_thread_id":"t-2","prompt":"Mok inn ugmpl"}"#
        );
    }

    #[test]
    fn escapes_keep_their_form_and_damaged_text_is_redacted_leniently() {
        assert_eq!(
            redact(r#"{"a":"\u00e9t\u00E9 \ud83c\udf89 \"q\"\n","b":"\ud800x","c":"\x"}"#),
            r#"{"a":"\u044bv\u0444 \ud862\ude42 \"k\"\n","b":"\ud800y","c":"\x"}"#
        );
        assert_eq!(
            redact("{\"text\":\"unterminated"),
            "{\"text\":\"ulinaycbcsfo"
        );
        assert_eq!(
            redact("{\"text\" \"no colon\", ]] \"stray\" } {\"id\":\"x\""),
            "{\"text\" \"gd xcjkk\", ]] \"lnfsd\" } {\"id\":\"x\""
        );
        assert_eq!(redact(""), "");
        assert_eq!(redact("\\\"\u{0}"), "\\\"\u{0}");
    }
}
