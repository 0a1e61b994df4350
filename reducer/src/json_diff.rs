//! The JSON path differ: which members of two JSON documents differ, named
//! by path, e.g. `conversation_items["conversation_item:4"].body.parts[0].text`.
//!
//! Invariants:
//! - Paths: a member whose key is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`)
//!   is `.key` (`key` at the top), any other key is `["key"]` with JSON string
//!   escaping, an array element is `[n]`; the document itself is `(root)`.
//! - Objects are walked in the old document's member order, then members
//!   only the new one has; arrays index by index. A missing side is
//!   `(absent)`. Both sides are never expanded further once their kinds differ.
//! - Objects with equal members in a different order are a difference too
//!   (`state.json` is compared byte for byte), reported as a member order change.
//! - Values are shown as compact JSON, cut after [`MAX_VALUE_CHARS`] characters.

use serde_json::Map;
use serde_json::Value;

/// Longest value shown in a difference line before it is cut with `...`.
pub const MAX_VALUE_CHARS: usize = 120;

/// One difference between two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    /// The value at `path` changed, appeared (`old` absent) or vanished.
    Value {
        path: String,
        old: Option<&'a Value>,
        new: Option<&'a Value>,
    },
    /// The object at `path` has the same members in another order.
    MemberOrder {
        path: String,
        old: Vec<&'a str>,
        new: Vec<&'a str>,
    },
}

/// Every difference between `old` and `new`, in document order.
pub fn changes<'a>(old: &'a Value, new: &'a Value) -> Vec<Change<'a>> {
    let mut found = Vec::new();
    walk(String::new(), old, new, &mut found);
    found
}

fn walk<'a>(path: String, old: &'a Value, new: &'a Value, found: &mut Vec<Change<'a>>) {
    match (old, new) {
        (Value::Object(old_members), Value::Object(new_members)) => {
            walk_object(&path, old_members, new_members, found);
        }
        (Value::Array(old_items), Value::Array(new_items)) => {
            for index in 0..old_items.len().max(new_items.len()) {
                let item_path = format!("{path}[{index}]");
                match (old_items.get(index), new_items.get(index)) {
                    (Some(old_item), Some(new_item)) => walk(item_path, old_item, new_item, found),
                    (old_item, new_item) => found.push(Change::Value {
                        path: item_path,
                        old: old_item,
                        new: new_item,
                    }),
                }
            }
        }
        _ if old == new => {}
        _ => found.push(Change::Value {
            path,
            old: Some(old),
            new: Some(new),
        }),
    }
}

fn walk_object<'a>(
    path: &str,
    old: &'a Map<String, Value>,
    new: &'a Map<String, Value>,
    found: &mut Vec<Change<'a>>,
) {
    let before = found.len();
    for (key, old_value) in old {
        let member_path = member(path, key);
        match new.get(key) {
            Some(new_value) => walk(member_path, old_value, new_value, found),
            None => found.push(Change::Value {
                path: member_path,
                old: Some(old_value),
                new: None,
            }),
        }
    }
    for (key, new_value) in new {
        if !old.contains_key(key) {
            found.push(Change::Value {
                path: member(path, key),
                old: None,
                new: Some(new_value),
            });
        }
    }
    // Only when the members agree: otherwise the order is noise next to them.
    if found.len() == before && !old.keys().eq(new.keys()) {
        found.push(Change::MemberOrder {
            path: path.to_string(),
            old: old.keys().map(String::as_str).collect(),
            new: new.keys().map(String::as_str).collect(),
        });
    }
}

/// The path of member `key` of the value at `path`.
fn member(path: &str, key: &str) -> String {
    if is_identifier(key) {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    } else {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"));
        format!("{path}[{quoted}]")
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The differences as lines (`path: old -> new`), at most `limit` of them,
/// then `... and N more differences`. Each line ends with `"\n"`.
pub fn render(changes: &[Change<'_>], limit: usize) -> String {
    let mut text = String::new();
    for change in changes.iter().take(limit) {
        match change {
            Change::Value { path, old, new } => {
                text.push_str(&format!(
                    "{}: {} -> {}\n",
                    shown_path(path),
                    shown_value(*old),
                    shown_value(*new)
                ));
            }
            Change::MemberOrder { path, old, new } => {
                text.push_str(&format!(
                    "{}: member order {} -> {}\n",
                    shown_path(path),
                    cut(&old.join(", ")),
                    cut(&new.join(", "))
                ));
            }
        }
    }
    if changes.len() > limit {
        let more = changes.len() - limit;
        let noun = if more == 1 {
            "difference"
        } else {
            "differences"
        };
        text.push_str(&format!("... and {more} more {noun}\n"));
    }
    text
}

fn shown_path(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

fn shown_value(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(value) => cut(&serde_json::to_string(value).unwrap_or_default()),
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(old: &Value, new: &Value) -> String {
        render(&changes(old, new), 20)
    }

    #[test]
    fn nested_objects_name_the_leaf() {
        let old = json!({"conversation_items": {"conversation_item:4": {"body": {"parts": [{"text": "a"}]}}}, "status": "running"});
        let new = json!({"conversation_items": {"conversation_item:4": {"body": {"parts": [{"text": "b"}]}}}, "status": "running"});
        assert_eq!(
            diff(&old, &new),
            "conversation_items[\"conversation_item:4\"].body.parts[0].text: \"a\" -> \"b\"\n"
        );
    }

    #[test]
    fn arrays_of_different_lengths_show_absent_elements() {
        let old = json!({"ids": [1, 2, 3], "more": [[1], [2]]});
        let new = json!({"ids": [1, 5], "more": [[1], [2, 3], [4]]});
        assert_eq!(
            diff(&old, &new),
            "ids[1]: 2 -> 5\n\
             ids[2]: 3 -> (absent)\n\
             more[1][1]: (absent) -> 3\n\
             more[2]: (absent) -> [4]\n"
        );
    }

    #[test]
    fn added_and_removed_members_in_document_order() {
        let old = json!({"a": 1, "gone": {"x": [1]}, "c": {"d": null}});
        let new = json!({"a": 1, "c": {"d": null, "e": true}, "new": "v"});
        assert_eq!(
            diff(&old, &new),
            "gone: {\"x\":[1]} -> (absent)\n\
             c.e: (absent) -> true\n\
             new: (absent) -> \"v\"\n"
        );
    }

    #[test]
    fn keys_that_are_not_identifiers_are_quoted() {
        let old = json!({"plain_key1": {"_x": 1, "1abc": 1, "with space": 1, "quote\"d": 1, "": 1, "é": 1}});
        let new = json!({"plain_key1": {"_x": 2, "1abc": 2, "with space": 2, "quote\"d": 2, "": 2, "é": 2}});
        assert_eq!(
            diff(&old, &new),
            "plain_key1._x: 1 -> 2\n\
             plain_key1[\"1abc\"]: 1 -> 2\n\
             plain_key1[\"with space\"]: 1 -> 2\n\
             plain_key1[\"quote\\\"d\"]: 1 -> 2\n\
             plain_key1[\"\"]: 1 -> 2\n\
             plain_key1[\"é\"]: 1 -> 2\n"
        );
    }

    #[test]
    fn kind_changes_root_changes_and_equal_documents() {
        assert_eq!(
            diff(&json!({"a": [1]}), &json!({"a": {"0": 1}})),
            "a: [1] -> {\"0\":1}\n"
        );
        assert_eq!(diff(&json!([1]), &json!("x")), "(root): [1] -> \"x\"\n");
        assert_eq!(
            diff(&json!({"a": [1, {"b": 2}]}), &json!({"a": [1, {"b": 2}]})),
            ""
        );
        assert_eq!(diff(&json!(1), &json!(1.0)), "(root): 1 -> 1.0\n");
    }

    #[test]
    fn member_order_is_a_difference_only_when_members_agree() {
        let old: Value = serde_json::from_str(r#"{"t": {"a": 1, "b": 2}, "u": {"a": 1, "b": 2}}"#)
            .unwrap_or_default();
        let new: Value = serde_json::from_str(r#"{"t": {"b": 2, "a": 1}, "u": {"b": 3, "a": 1}}"#)
            .unwrap_or_default();
        assert_eq!(
            diff(&old, &new),
            "t: member order a, b -> b, a\nu.b: 2 -> 3\n"
        );
    }

    #[test]
    fn long_values_are_cut_and_extra_lines_counted() {
        let long = "x".repeat(200);
        let old = json!({"a": long, "b": 1, "c": 1, "d": 1});
        let new = json!({"a": "y", "b": 2, "c": 2, "d": 2});
        let expected = format!(
            "a: \"{}... -> \"y\"\nb: 1 -> 2\n... and 2 more differences\n",
            "x".repeat(MAX_VALUE_CHARS - 1)
        );
        assert_eq!(render(&changes(&old, &new), 2), expected);
        assert_eq!(
            render(&changes(&old, &new), 3),
            format!(
                "a: \"{}... -> \"y\"\nb: 1 -> 2\nc: 1 -> 2\n... and 1 more difference\n",
                "x".repeat(MAX_VALUE_CHARS - 1)
            )
        );
    }
}
