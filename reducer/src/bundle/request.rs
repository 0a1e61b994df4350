//! Scanning an inference request payload without building its items.
//!
//! A request resends the whole history, so almost all of its bytes were in
//! the thread's previous request too. Scanning finds where each `input` item
//! starts and ends (and decodes the few other members the reducer reads),
//! so the reducer can decode only the items whose bytes changed.
//!
//! Invariants, which make a scan indistinguishable from decoding the whole
//! document as a `serde_json::Value` (what upstream does):
//! - A scan succeeds only if everything outside the `input` items decodes
//!   as JSON values exactly as in a whole-document decode (members other
//!   than `input` are decoded as values, at the same nesting depth).
//! - An item is decoded on its own only after checking that its nesting
//!   stays below the whole-document limit at its depth in the document.
//! - Whenever a scan or an item decode fails, the caller decodes the whole
//!   document the usual way, so errors keep upstream's text and position.

use std::fmt;
use std::ops::Range;

use serde::Deserializer;
use serde::de::MapAccess;
use serde::de::Visitor;
use serde_json::Value;
use serde_json::value::RawValue;

/// Where an item sits in a request document: object, then `input` array.
const ITEM_DEPTH_IN_DOCUMENT: usize = 2;

/// A request payload: its bytes and where its parts are.
#[derive(Debug, Clone)]
pub struct ScannedRequest {
    bytes: Vec<u8>,
    /// `previous_response_id` as decoded (the last one if repeated).
    previous_response_id: Option<Value>,
    input: ScannedInput,
}

/// The `input` member of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannedInput {
    Missing,
    /// Byte ranges of the items, in order.
    Items(Vec<Range<usize>>),
}

/// A request payload as the reducer gets it.
#[derive(Debug, Clone)]
pub enum RequestPayload {
    Scanned(ScannedRequest),
    /// A document that could not be scanned but decodes as a whole.
    Decoded(Value),
}

impl ScannedRequest {
    /// Scans `bytes`; gives them back when the document needs a whole decode.
    pub fn scan(bytes: Vec<u8>) -> Result<ScannedRequest, Vec<u8>> {
        let Some((previous_response_id, input)) = scan_members(&bytes) else {
            return Err(bytes);
        };
        Ok(ScannedRequest {
            bytes,
            previous_response_id,
            input,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The document's bytes, for reuse once the scan is no longer needed.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn input(&self) -> &ScannedInput {
        &self.input
    }

    /// `previous_response_id` when it is a string (other values count as absent).
    pub fn previous_response_id(&self) -> Option<&str> {
        self.previous_response_id.as_ref().and_then(Value::as_str)
    }

    /// The bytes of item `index` of `input`.
    pub fn item_bytes(&self, range: &Range<usize>) -> &[u8] {
        self.bytes.get(range.clone()).unwrap_or_default()
    }

    /// Decodes one item; `None` when only a whole decode can say what it is.
    pub fn decode_item(&self, range: &Range<usize>) -> Option<Value> {
        let bytes = self.item_bytes(range);
        let value: Value = serde_json::from_slice(bytes).ok()?;
        // Alone, the item may nest 127 levels; inside the document, only what
        // the document's own two levels leave. Counting brackets rules the
        // question out for almost every item; the rest are measured.
        let limit = crate::limits::SERDE_JSON_MAX_DEPTH - ITEM_DEPTH_IN_DOCUMENT;
        let openings = bytes
            .iter()
            .filter(|&&byte| byte == b'[' || byte == b'{')
            .count();
        if openings > limit && nesting(&value) > limit {
            return None;
        }
        Some(value)
    }
}

/// The deepest nesting of arrays and objects in `value` (a scalar is 0).
fn nesting(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        match value {
            Value::Array(elements) => {
                deepest = deepest.max(depth);
                pending.extend(elements.iter().map(|child| (child, depth + 1)));
            }
            Value::Object(members) => {
                deepest = deepest.max(depth);
                pending.extend(members.values().map(|child| (child, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

fn scan_members(bytes: &[u8]) -> Option<(Option<Value>, ScannedInput)> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let top = deserializer.deserialize_map(TopLevel).ok()?;
    deserializer.end().ok()?;
    // A repeated `input` keeps its last value, and the earlier ones were
    // only skipped, which checks less than a decode does (a lone UTF-16
    // surrogate in a string passes): only a whole decode can say whether
    // the document is valid.
    if top.input_repeated {
        return None;
    }
    let input = match top.input {
        None => ScannedInput::Missing,
        Some(input) => scan_input(bytes, input)?,
    };
    Some((top.previous_response_id, input))
}

/// Finds the items of the `input` member, given as its raw text.
fn scan_input(document: &[u8], input: &RawValue) -> Option<ScannedInput> {
    let text = input.get();
    // Anything but an array fails the request; the whole decode says how
    // (the skipped value may not even be valid).
    if !text.starts_with('[') {
        return None;
    }
    let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
    let base = document.as_ptr() as usize;
    let ranges = items
        .iter()
        .map(|item| {
            let start = item.get().as_ptr() as usize - base;
            start..start + item.get().len()
        })
        .collect();
    Some(ScannedInput::Items(ranges))
}

/// The top-level members the reducer reads.
struct TopLevelMembers<'a> {
    input: Option<&'a RawValue>,
    /// `input` appeared more than once.
    input_repeated: bool,
    previous_response_id: Option<Value>,
}

/// Visits the top-level object: `input` is kept raw, every other member is
/// decoded as a value (so it is checked as a whole decode would check it),
/// and a repeated member keeps its last value (a repeated `input` is noted:
/// the scan then gives way to a whole decode).
struct TopLevel;

impl<'de> Visitor<'de> for TopLevel {
    type Value = TopLevelMembers<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = TopLevelMembers {
            input: None,
            input_repeated: false,
            previous_response_id: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "input" => {
                    members.input_repeated |= members.input.is_some();
                    members.input = Some(map.next_value()?);
                }
                "previous_response_id" => members.previous_response_id = Some(map.next_value()?),
                _ => {
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_containers_not_brackets_in_strings() {
        let value: Value = serde_json::json!({"a": [[1, "[[[["], {}], "b": "{{"});
        assert_eq!(nesting(&value), 3);
        assert_eq!(nesting(&serde_json::json!("[[")), 0);
        assert_eq!(nesting(&serde_json::json!([])), 1);
    }

    #[test]
    fn finds_items_and_members() {
        let text = br#" {"model":"m","input":[{"a":1}, "x" ,[2]],"previous_response_id":"r"} "#;
        let Ok(scan) = ScannedRequest::scan(text.to_vec()) else {
            panic!("scan failed");
        };
        let ScannedInput::Items(items) = scan.input().clone() else {
            panic!("no items: {:?}", scan.input());
        };
        let texts: Vec<&[u8]> = items.iter().map(|range| scan.item_bytes(range)).collect();
        assert_eq!(texts, vec![&br#"{"a":1}"#[..], br#""x""#, b"[2]"]);
        assert_eq!(scan.previous_response_id(), Some("r"));
    }

    #[test]
    fn repeated_members_keep_the_last_and_odd_documents_need_a_whole_decode() {
        let Ok(scan) = ScannedRequest::scan(br#"{"model":"m","model":"n","input":[1]}"#.to_vec())
        else {
            panic!("scan failed");
        };
        let ScannedInput::Items(items) = scan.input() else {
            panic!("no items: {:?}", scan.input());
        };
        assert_eq!(
            items
                .iter()
                .map(|range| scan.item_bytes(range))
                .collect::<Vec<_>>(),
            [b"1"]
        );
        assert!(ScannedRequest::scan(br#"{"input":[1],"input":[2]}"#.to_vec()).is_err());
        assert!(ScannedRequest::scan(br#"{"input":{}}"#.to_vec()).is_err());
        // Skipping checks less than decoding: a lone surrogate passes a skip.
        assert!(ScannedRequest::scan(br#"{"input":"\ud800x","input":[]}"#.to_vec()).is_err());
        assert!(ScannedRequest::scan(br#"[{"input":[]}]"#.to_vec()).is_err());
        assert!(ScannedRequest::scan(br#"{"input":[], "x": 1e400}"#.to_vec()).is_err());
        assert!(ScannedRequest::scan(br#"{"input":[]} x"#.to_vec()).is_err());
    }

    #[test]
    fn item_decoding_respects_the_document_depth() {
        // 125 levels inside an item are 127 in the document: accepted.
        let ok = format!("{}{}", "[".repeat(125), "]".repeat(125));
        let deep = format!("{}{}", "[".repeat(126), "]".repeat(126));
        for (item, decodes) in [(ok, true), (deep, false)] {
            let text = format!(r#"{{"input":[{item}]}}"#);
            let Ok(scan) = ScannedRequest::scan(text.into_bytes()) else {
                panic!("scan failed");
            };
            let ScannedInput::Items(items) = scan.input().clone() else {
                panic!("no items");
            };
            assert_eq!(scan.decode_item(&items[0]).is_some(), decodes);
        }
    }
}
