//! Shortening strings that repeat: an id names the same thread, turn or call
//! in several events, payloads and the manifest, so shortening one
//! occurrence alone breaks the link; this pass changes every occurrence at
//! once (empty, else halved while that keeps the bundle interesting).
//!
//! Invariants:
//! - The strings tried are the string values of event lines that occur at
//!   least twice in the bundle, in order of first appearance; only whole
//!   string values are replaced (never object keys, never text inside a
//!   longer string), in lines, parsed payload files and the manifest.
//! - As in the JSON passes, `seq` and the inside of payload references are
//!   left alone, and documents that are not JSON are not touched.

use std::collections::BTreeMap;

use serde_json::Value;

use super::bundle::Bundle;
use super::numbering::as_reference;
use super::search::Search;

/// Shortens each repeated string of the current bundle.
pub(super) fn shorten_repeated(search: &mut Search<'_>) -> bool {
    let mut progress = false;
    for original in repeated(search.current()) {
        let mut text = original;
        loop {
            let length = text.chars().count();
            if length == 0 {
                break;
            }
            let choices = [String::new(), text.chars().take(length / 2).collect()];
            let count = if length > 1 { 2 } else { 1 };
            let found = search.first(count, &|bundle, index| {
                replace_everywhere(bundle, &text, &choices[index])
            });
            let Some(found) = found else { break };
            progress = true;
            if found == 0 {
                break;
            }
            text = choices[1].clone();
        }
    }
    progress
}

/// The string values of event lines found at least twice in the bundle, in
/// order of first appearance.
fn repeated(bundle: &Bundle) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in bundle.lines() {
        let Some(value) = line.value() else { continue };
        visit_strings(value, &mut |text| {
            if !counts.contains_key(text) {
                order.push(text.to_string());
            }
            *counts.entry(text.to_string()).or_default() += 1;
        });
    }
    let documents = bundle
        .files_in_use_order()
        .iter()
        .filter_map(|path| serde_json::from_slice::<Value>(bundle.file(path)?).ok())
        .chain(
            bundle
                .manifest()
                .and_then(|bytes| serde_json::from_slice(bytes).ok()),
        )
        .collect::<Vec<Value>>();
    for document in &documents {
        visit_strings(document, &mut |text| {
            if let Some(count) = counts.get_mut(text) {
                *count += 1;
            }
        });
    }
    order.retain(|text| counts.get(text).is_some_and(|count| *count > 1) && !text.is_empty());
    order
}

/// `bundle` with every string value `from` replaced by `to`, or `None`
/// when nothing changed.
fn replace_everywhere(bundle: &Bundle, from: &str, to: &str) -> Option<Bundle> {
    let mut changed = bundle.clone();
    let mut any = false;
    for (index, line) in bundle.lines().iter().enumerate() {
        let Some(value) = line.value() else { continue };
        let mut value = value.clone();
        if replace(&mut value, from, to) {
            changed = changed.with_line(index, value);
            any = true;
        }
    }
    for path in bundle.files_in_use_order() {
        let Some(mut value) = bundle
            .file(&path)
            .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
        else {
            continue;
        };
        if replace(&mut value, from, to) {
            changed = changed.with_file(&path, serde_json::to_vec_pretty(&value).ok()?);
            any = true;
        }
    }
    let manifest = bundle
        .manifest()
        .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok());
    if let Some(mut value) = manifest
        && replace(&mut value, from, to)
    {
        changed = changed.with_manifest(serde_json::to_vec_pretty(&value).ok()?);
        any = true;
    }
    any.then_some(changed)
}

/// Replaces string values `from` by `to`; whether any was found.
fn replace(value: &mut Value, from: &str, to: &str) -> bool {
    if as_reference(value).is_some() {
        return false;
    }
    match value {
        Value::String(text) if text == from => {
            *text = to.to_string();
            true
        }
        Value::Object(members) => members
            .values_mut()
            .fold(false, |any, member| replace(member, from, to) | any),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, item| replace(item, from, to) | any),
        _ => false,
    }
}

fn visit_strings<'a>(value: &'a Value, visit: &mut dyn FnMut(&'a str)) {
    if as_reference(value).is_some() {
        return;
    }
    match value {
        Value::String(text) => visit(text),
        Value::Object(members) => members
            .values()
            .for_each(|member| visit_strings(member, visit)),
        Value::Array(items) => items.iter().for_each(|item| visit_strings(item, visit)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replacing_skips_references_and_keys() {
        let mut value = json!({
            "t": "abc", "abc": ["abc", "abcd"],
            "r": {"raw_payload_id": "abc", "kind": {"type": "abc"}, "path": "p"}
        });
        assert!(replace(&mut value, "abc", "x"));
        assert_eq!(
            value,
            json!({
                "t": "x", "abc": ["x", "abcd"],
                "r": {"raw_payload_id": "abc", "kind": {"type": "abc"}, "path": "p"}
            })
        );
        assert!(!replace(&mut value, "zzz", "x"));
    }
}
