//! Numbering a candidate the way the writer numbers a bundle: `seq` one more
//! per event, payload files `payloads/<n>.json` with id `raw_payload:<n>` in
//! the order events first reference them.
//!
//! Removing events leaves gaps the reducer rejects (policy P3) and payload
//! numbers nobody would write, so every candidate is renumbered. The
//! minimizer keeps a bundle's own numbering only where renumbering the
//! original already changes what is interesting (a predicate that names
//! `raw_payload:7` or a seq); see `choose` in the parent module.
//!
//! Invariants:
//! - A payload reference is an object with string members `raw_payload_id`
//!   and `path`, anywhere under an event's `payload`; references are
//!   visited in document order, and nothing inside one is descended into.
//! - Only references whose path stays inside the bundle by its spelling are
//!   renamed; the others (absolute, `..`) keep their text, and can never
//!   collide with a new `payloads/<n>.json`.
//! - Renumbering is idempotent: a bundle rendered in a numbering renders to
//!   the same bytes in it again.

use std::collections::BTreeMap;

use rollout_trace::bundle::relative_payload_path;
use serde_json::Value;

/// How a candidate is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbering {
    /// Give the events `seq` values from this one on, one more per line
    /// that has a `seq`; `None` keeps each line's own.
    pub seq_from: Option<u64>,
    /// Rename payload files in first-use order and rewrite the references.
    pub payloads: bool,
}

impl Numbering {
    /// Every line and reference as it is.
    pub const KEEP: Numbering = Numbering {
        seq_from: None,
        payloads: false,
    };

    /// The writer's numbering.
    pub const WRITER: Numbering = Numbering {
        seq_from: Some(1),
        payloads: true,
    };
}

/// Renumbers the lines of one rendering, in order.
pub(super) struct Renumberer {
    numbering: Numbering,
    next_seq: u64,
    /// New payload number by the path the original reference spells.
    payload_numbers: BTreeMap<String, u64>,
}

impl Renumberer {
    pub(super) fn new(numbering: Numbering) -> Renumberer {
        Renumberer {
            numbering,
            next_seq: numbering.seq_from.unwrap_or(1),
            payload_numbers: BTreeMap::new(),
        }
    }

    /// The next line renumbered, or `None` when its numbering is already right.
    pub(super) fn line(&mut self, value: &Value) -> Option<Value> {
        let Value::Object(members) = value else {
            return None;
        };
        let mut renumbered = None;
        if self.numbering.seq_from.is_some() && members.contains_key("seq") {
            let seq = self.next_seq;
            self.next_seq += 1;
            if members.get("seq").and_then(Value::as_u64) != Some(seq) {
                let line = renumbered.get_or_insert_with(|| value.clone());
                line["seq"] = Value::from(seq);
            }
        }
        if !self.numbering.payloads {
            return renumbered;
        }
        let mut stale = false;
        for (id, path) in references(value) {
            if relative_payload_path(path).is_err() {
                continue;
            }
            let next = self.payload_numbers.len() as u64 + 1;
            let number = *self.payload_numbers.entry(path.to_string()).or_insert(next);
            stale |=
                id != format!("raw_payload:{number}") || path != format!("payloads/{number}.json");
        }
        if !stale {
            return renumbered;
        }
        let line = renumbered.get_or_insert_with(|| value.clone());
        if let Some(payload) = line.get_mut("payload") {
            visit_references_mut(payload, &mut |reference| {
                let number = reference
                    .get("path")
                    .and_then(Value::as_str)
                    .and_then(|path| self.payload_numbers.get(path));
                if let Some(number) = number {
                    let id = format!("raw_payload:{number}");
                    let path = format!("payloads/{number}.json");
                    reference.insert("raw_payload_id".to_string(), Value::from(id));
                    reference.insert("path".to_string(), Value::from(path));
                }
            });
        }
        renumbered
    }
}

/// The `(raw_payload_id, path)` of every payload reference of an event
/// line, in document order.
pub(super) fn references(line: &Value) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    if let Some(payload) = line.get("payload") {
        visit_references(payload, &mut |id, path| found.push((id, path)));
    }
    found
}

/// Whether `value` is a payload reference: its id and path.
pub(super) fn as_reference(value: &Value) -> Option<(&str, &str)> {
    let id = value.get("raw_payload_id")?.as_str()?;
    let path = value.get("path")?.as_str()?;
    Some((id, path))
}

fn visit_references<'a>(value: &'a Value, visit: &mut dyn FnMut(&'a str, &'a str)) {
    if let Some((id, path)) = as_reference(value) {
        visit(id, path);
        return;
    }
    match value {
        Value::Object(members) => {
            for member in members.values() {
                visit_references(member, visit);
            }
        }
        Value::Array(items) => {
            for item in items {
                visit_references(item, visit);
            }
        }
        _ => {}
    }
}

fn visit_references_mut(
    value: &mut Value,
    visit: &mut dyn FnMut(&mut serde_json::Map<String, Value>),
) {
    if as_reference(value).is_some() {
        if let Value::Object(members) = value {
            visit(members);
        }
        return;
    }
    match value {
        Value::Object(members) => {
            for member in members.values_mut() {
                visit_references_mut(member, visit);
            }
        }
        Value::Array(items) => {
            for item in items {
                visit_references_mut(item, visit);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reference(number: &str, path: &str) -> Value {
        json!({"raw_payload_id": number, "kind": {"type": "tool_invocation"}, "path": path})
    }

    #[test]
    fn seq_and_payloads_follow_first_use() {
        let lines = [
            json!({"seq": 7, "payload": {"type": "a", "x": reference("raw_payload:9", "payloads/9.json")}}),
            json!({"seq": 9, "payload": {"type": "b"}}),
            json!({"seq": 12, "payload": {"type": "c", "payloads": [
                reference("raw_payload:4", "payloads/4.json"),
                reference("raw_payload:9", "payloads/9.json"),
                reference("raw_payload:5", "/etc/passwd"),
            ]}}),
        ];
        let mut renumberer = Renumberer::new(Numbering::WRITER);
        let renumbered: Vec<Option<Value>> =
            lines.iter().map(|line| renumberer.line(line)).collect();
        assert_eq!(
            renumbered,
            [
                Some(
                    json!({"seq": 1, "payload": {"type": "a", "x": reference("raw_payload:1", "payloads/1.json")}})
                ),
                Some(json!({"seq": 2, "payload": {"type": "b"}})),
                Some(json!({"seq": 3, "payload": {"type": "c", "payloads": [
                    reference("raw_payload:2", "payloads/2.json"),
                    reference("raw_payload:1", "payloads/1.json"),
                    reference("raw_payload:5", "/etc/passwd"),
                ]}})),
            ]
        );
        // Idempotent: the renumbered lines need nothing more.
        let mut again = Renumberer::new(Numbering::WRITER);
        for line in renumbered.iter().flatten() {
            assert_eq!(again.line(line), None);
        }
        let mut kept = Renumberer::new(Numbering::KEEP);
        assert!(lines.iter().all(|line| kept.line(line).is_none()));
    }
}
