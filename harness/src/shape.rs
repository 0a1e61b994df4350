//! The shape check of `cargo xtask new-case --redact`: a redacted bundle
//! must reduce like the original apart from the free text.
//!
//! Two outcomes have the same shape when:
//! - both reduce, or both are rejected with the same error text apart from
//!   replaced characters (same length, and where they differ both characters
//!   are of one placeholder class: lowercase, uppercase, digit, or non-ASCII
//!   of one UTF-8 length);
//! - when they reduce, the two states are equal except for string values at
//!   the free-text fields of [`is_free_text`] (message and reasoning text,
//!   encoded values, JSON summaries, code, previews, terminal commands,
//!   folders, input and output). So every map has the same keys, every id
//!   list, edge endpoint and kind, terminal operation and session, status and
//!   time is the same;
//! - the diagnostics are as many and pairwise the same apart from replaced
//!   characters.
//!
//! The first difference found is reported, named by its JSON path.

use serde_json::Value;

use crate::run::Output;
use rollout_trace::json_diff;
use rollout_trace::json_diff::Change;

/// Checks that `redacted` has the outcome and the shape of `original`;
/// the error names the first difference.
pub fn compare(original: &Output, redacted: &Output) -> Result<(), String> {
    match (original, redacted) {
        (Output::Reduced { .. }, Output::Rejected { error }) => Err(format!(
            "the original bundle reduces, but the redacted one is rejected: {error}"
        )),
        (Output::Rejected { error }, Output::Reduced { .. }) => Err(format!(
            "the original bundle is rejected ({error}), but the redacted one reduces"
        )),
        (Output::Rejected { error: old }, Output::Rejected { error: new }) => {
            if same_apart_from_redaction(old, new) {
                Ok(())
            } else {
                Err(format!(
                    "the redacted bundle is rejected with another error:\n  original: {old}\n  redacted: {new}"
                ))
            }
        }
        (
            Output::Reduced {
                state: old_state,
                diagnostics: old_diagnostics,
            },
            Output::Reduced {
                state: new_state,
                diagnostics: new_diagnostics,
            },
        ) => {
            compare_states(old_state, new_state)?;
            if old_diagnostics.len() != new_diagnostics.len() {
                return Err(format!(
                    "the redacted bundle has {} diagnostics, the original {}",
                    new_diagnostics.len(),
                    old_diagnostics.len()
                ));
            }
            for (old, new) in old_diagnostics.iter().zip(new_diagnostics) {
                if !same_apart_from_redaction(old, new) {
                    return Err(format!(
                        "a diagnostic differs:\n  original: {old}\n  redacted: {new}"
                    ));
                }
            }
            Ok(())
        }
    }
}

fn compare_states(old: &str, new: &str) -> Result<(), String> {
    let parse = |state: &str| {
        serde_json::from_str::<Value>(state)
            .map_err(|error| format!("a reduced state is not JSON: {error}"))
    };
    let (old, new) = (parse(old)?, parse(new)?);
    let changes: Vec<Change<'_>> = json_diff::changes(&old, &new)
        .into_iter()
        .filter(|change| !is_redacted_text(change))
        .collect();
    let Some(first) = changes.first() else {
        return Ok(());
    };
    let more = match changes.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more difference)".to_string(),
        more => format!(" (and {more} more differences)"),
    };
    Err(format!(
        "the redacted bundle reduces to another shape: {}{more}",
        json_diff::render(std::slice::from_ref(first), 1).trim_end()
    ))
}

/// A change of a string value at a free-text field.
fn is_redacted_text(change: &Change<'_>) -> bool {
    match change {
        Change::Value {
            path,
            old: Some(Value::String(_)),
            new: Some(Value::String(_)),
        } => segments(path).is_some_and(|segments| is_free_text(&segments)),
        _ => false,
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Whether the string at this path of a `state.json` holds text that
/// redaction replaces.
pub fn is_free_text(path: &[Segment]) -> bool {
    let keys: Vec<Option<&str>> = path
        .iter()
        .map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        // A part's text, summary, encoded value, JSON summary or code.
        [
            Some("conversation_items"),
            Some(_),
            Some("body"),
            Some("parts"),
            None,
            Some("text" | "value" | "summary" | "source"),
        ] => true,
        [Some("code_cells"), Some(_), Some("source_js")] => true,
        [
            Some("tool_calls"),
            Some(_),
            Some("summary"),
            Some("message_preview" | "input_preview" | "output_preview"),
        ] => true,
        [
            Some("terminal_operations"),
            Some(_),
            Some("request"),
            Some("display_command" | "cwd" | "stdin"),
        ]
        | [
            Some("terminal_operations"),
            Some(_),
            Some("request"),
            Some("command"),
            None,
        ] => true,
        [
            Some("terminal_operations"),
            Some(_),
            Some("result"),
            Some("stdout" | "stderr" | "formatted_output"),
        ] => true,
        _ => false,
    }
}

/// The steps of a path in `json_diff`'s notation (`a.b["c:d"][0]`).
pub fn segments(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            if after.starts_with('"') {
                let end = quoted_end(after)?;
                segments.push(Segment::Key(serde_json::from_str(&after[..end]).ok()?));
                rest = after[end..].strip_prefix(']')?;
            } else {
                let end = after.find(']')?;
                segments.push(Segment::Index(after[..end].parse().ok()?));
                rest = &after[end + 1..];
            }
        } else {
            let name = rest.strip_prefix('.').unwrap_or(rest);
            let end = name.find(['.', '[']).unwrap_or(name.len());
            if end == 0 {
                return None;
            }
            segments.push(Segment::Key(name[..end].to_string()));
            rest = &name[end..];
        }
    }
    Some(segments)
}

/// The length of the JSON string literal at the start of `text`.
fn quoted_end(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (index, byte) in text.bytes().enumerate().skip(1) {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(index + 1),
            _ => {}
        }
    }
    None
}

/// Whether two error or diagnostic texts are equal apart from replaced
/// characters. Redacted text reaches these messages only as quoted values
/// (serde's `invalid type: string "..."`), so outside double quotes the texts
/// must be equal; inside, a character may differ within its placeholder class.
/// Ids, places and line numbers are never quoted, so they must be equal.
pub fn same_apart_from_redaction(old: &str, new: &str) -> bool {
    if old.chars().count() != new.chars().count() {
        return false;
    }
    let mut quoted = false;
    let mut escaped = false;
    for (a, b) in old.chars().zip(new.chars()) {
        if a != b && !(quoted && class(a).is_some_and(|class_a| Some(class_a) == class(b))) {
            return false;
        }
        match a {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ => {}
        }
    }
    true
}

/// The placeholder class of a replaceable character.
fn class(ch: char) -> Option<usize> {
    match ch {
        'a'..='z' => Some(0),
        'A'..='Z' => Some(1),
        '0'..='9' => Some(2),
        _ if ch.is_ascii() || ch.is_whitespace() => None,
        _ => Some(2 + ch.len_utf8()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_segments() {
        assert_eq!(
            segments(r#"conversation_items["conversation_item:4"].body.parts[0].text"#),
            Some(vec![
                Segment::Key("conversation_items".to_string()),
                Segment::Key("conversation_item:4".to_string()),
                Segment::Key("body".to_string()),
                Segment::Key("parts".to_string()),
                Segment::Index(0),
                Segment::Key("text".to_string()),
            ])
        );
        assert_eq!(
            segments(r#"a["x\"]y"][12]"#),
            Some(vec![
                Segment::Key("a".to_string()),
                Segment::Key("x\"]y".to_string()),
                Segment::Index(12),
            ])
        );
        assert_eq!(segments("a..b"), None);
        assert_eq!(segments("a[x]"), None);
    }

    #[test]
    fn only_free_text_may_differ() {
        let state = |text: &str, call: &str| {
            let value = serde_json::json!({
                "conversation_items": {"conversation_item:1": {
                    "body": {"parts": [{"type": "text", "text": text}]},
                    "call_id": call,
                }},
                "terminal_operations": {"terminal_operation:1": {"request": {"command": [text]}}},
            });
            Output::Reduced {
                state: value.to_string(),
                diagnostics: vec![],
            }
        };
        assert_eq!(
            compare(&state("hello", "c-1"), &state("qwert", "c-1")),
            Ok(())
        );
        assert_eq!(
            compare(&state("hello", "c-1"), &state("hello", "x-1")),
            Err(r#"the redacted bundle reduces to another shape: conversation_items["conversation_item:1"].call_id: "c-1" -> "x-1""#.to_string())
        );
        let rejected = |error: &str| Output::Rejected {
            error: error.to_string(),
        };
        assert_eq!(
            compare(
                &rejected("parse payload raw_payload:1: invalid type: string \"Abc 1\""),
                &rejected("parse payload raw_payload:1: invalid type: string \"Qxz 7\"")
            ),
            Ok(())
        );
        assert_eq!(
            compare(
                &rejected("trace.jsonl:12: open payload raw_payload:1"),
                &rejected("trace.jsonl:13: open payload raw_payload:1")
            ),
            Err("the redacted bundle is rejected with another error:\n  original: trace.jsonl:12: open payload raw_payload:1\n  redacted: trace.jsonl:13: open payload raw_payload:1".to_string())
        );
        assert_eq!(
            compare(&rejected("missing field `a`"), &rejected("missing field `ab`")),
            Err("the redacted bundle is rejected with another error:\n  original: missing field `a`\n  redacted: missing field `ab`".to_string())
        );
        assert_eq!(
            compare(&state("a", "c"), &rejected("boom")),
            Err("the original bundle reduces, but the redacted one is rejected: boom".to_string())
        );
    }
}
