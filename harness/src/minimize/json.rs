//! Shrinking the JSON documents of a bundle, node by node: payload files
//! (request and response items, members, strings), event lines (optional
//! members, strings, numbers) and the manifest.
//!
//! Each node is visited top-down (a node before its children, children in
//! order): an array or object first loses runs of elements or members,
//! halving the run down to one (delta debugging); a string becomes empty or
//! keeps its first half; a number becomes 0. Then its remaining children
//! are visited.
//!
//! Invariants:
//! - A document that is not JSON is left as it is (its bytes may be what is
//!   interesting). An edited payload or manifest is written as the writer
//!   writes them (pretty, two spaces); an edited line compactly.
//! - In event lines, `seq` and the inside of payload references are left
//!   alone: numbering owns them. A whole reference may still go.
//! - Every edit makes the document strictly smaller (fewer nodes, a shorter
//!   string, a non-zero number zeroed), so the passes end.

use serde_json::Map;
use serde_json::Value;

use super::bundle::Bundle;
use super::numbering::as_reference;
use super::search::Search;

/// One JSON document of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Document {
    Manifest,
    /// The line at this index of `trace.jsonl`.
    Line(usize),
    /// The payload file at this path.
    Payload(String),
}

impl Document {
    fn read(&self, bundle: &Bundle) -> Option<Value> {
        match self {
            Document::Manifest => serde_json::from_slice(bundle.manifest()?).ok(),
            Document::Line(index) => bundle.lines().get(*index)?.value().cloned(),
            Document::Payload(path) => serde_json::from_slice(bundle.file(path)?).ok(),
        }
    }

    fn write(&self, bundle: &Bundle, value: &Value) -> Bundle {
        let pretty = || serde_json::to_vec_pretty(value).unwrap_or_default();
        match self {
            Document::Manifest => bundle.with_manifest(pretty()),
            Document::Line(index) => bundle.with_line(*index, value.clone()),
            Document::Payload(path) => bundle.with_file(path, pretty()),
        }
    }
}

/// Shrinks every payload file, in first-use order.
pub(super) fn shrink_payloads(search: &mut Search<'_>) -> bool {
    let mut progress = false;
    for path in search.current().files_in_use_order() {
        progress |= shrink(search, Document::Payload(path));
    }
    progress
}

/// Shrinks every event line.
pub(super) fn shrink_lines(search: &mut Search<'_>) -> bool {
    let mut progress = false;
    for index in 0..search.current().lines().len() {
        progress |= shrink(search, Document::Line(index));
    }
    progress
}

pub(super) fn shrink_manifest(search: &mut Search<'_>) -> bool {
    shrink(search, Document::Manifest)
}

fn shrink(search: &mut Search<'_>, document: Document) -> bool {
    let Some(value) = document.read(search.current()) else {
        return false;
    };
    let mut shrinker = Shrinker {
        search,
        document,
        value,
        progress: false,
    };
    shrinker.node(&mut Vec::new());
    shrinker.progress
}

/// A step from a node to one of its children.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// An edit of the document at one index of a list: whether it applied.
type Edit<'a> = dyn Fn(&mut Value, usize) -> bool + Sync + 'a;

struct Shrinker<'s, 'a> {
    search: &'s mut Search<'a>,
    document: Document,
    /// The document as in the current bundle.
    value: Value,
    progress: bool,
}

impl Shrinker<'_, '_> {
    /// Tries `count` edits; the first interesting one becomes current.
    fn try_edits(&mut self, count: usize, edit: &Edit<'_>) -> Option<usize> {
        let document = &self.document;
        let value = &self.value;
        let found = self.search.first(count, &|bundle, index| {
            let mut edited = value.clone();
            edit(&mut edited, index).then(|| document.write(bundle, &edited))
        })?;
        self.progress = true;
        if let Some(value) = self.document.read(self.search.current()) {
            self.value = value;
        }
        Some(found)
    }

    fn node(&mut self, path: &mut Vec<Step>) {
        if self.search.stopped() {
            return;
        }
        let line = matches!(self.document, Document::Line(_));
        let Some(node) = lookup(&self.value, path) else {
            return;
        };
        if line && (as_reference(node).is_some() || path == &[Step::Key("seq".to_string())]) {
            return;
        }
        match node {
            Value::Array(_) | Value::Object(_) => {
                self.remove_runs(path);
                let children: Vec<Step> = match lookup(&self.value, path) {
                    Some(Value::Array(items)) => (0..items.len()).map(Step::Index).collect(),
                    Some(Value::Object(members)) => {
                        members.keys().cloned().map(Step::Key).collect()
                    }
                    _ => Vec::new(),
                };
                for child in children {
                    path.push(child);
                    self.node(path);
                    path.pop();
                }
            }
            Value::String(_) => self.shorten(path),
            Value::Number(number) => {
                if number.as_f64() != Some(0.0) {
                    self.try_edits(1, &|value, _| set(value, path, Value::from(0)));
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Removes runs of elements or members of the container at `path`.
    fn remove_runs(&mut self, path: &[Step]) {
        let length = |value: &Value| match lookup(value, path) {
            Some(Value::Array(items)) => items.len(),
            Some(Value::Object(members)) => members.len(),
            _ => 0,
        };
        let mut run = length(&self.value);
        while run > 0 && !self.search.stopped() {
            let mut start = 0;
            loop {
                let total = length(&self.value);
                if start >= total {
                    break;
                }
                let count = (total - start).div_ceil(run);
                let found = self.try_edits(count, &|value, index| {
                    let from = start + index * run;
                    remove_range(value, path, from, from + run)
                });
                let Some(found) = found else { break };
                start += found * run;
            }
            if run == 1 {
                break;
            }
            run = run.div_ceil(2);
        }
    }

    /// Makes the string at `path` empty, or halves it while that keeps it
    /// interesting.
    fn shorten(&mut self, path: &[Step]) {
        loop {
            let Some(Value::String(text)) = lookup(&self.value, path) else {
                return;
            };
            let length = text.chars().count();
            if length == 0 {
                return;
            }
            let half: String = text.chars().take(length / 2).collect();
            let choices = [String::new(), half];
            let count = if length > 1 { 2 } else { 1 };
            match self.try_edits(count, &|value, index| {
                set(value, path, Value::String(choices[index].clone()))
            }) {
                Some(1) => continue,
                _ => return,
            }
        }
    }
}

fn lookup<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get(key),
        Step::Index(index) => node.get(index),
    })
}

fn lookup_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key),
        Step::Index(index) => node.get_mut(index),
    })
}

/// Replaces the node at `path`; whether there was one.
fn set(value: &mut Value, path: &[Step], new: Value) -> bool {
    match lookup_mut(value, path) {
        Some(node) => {
            *node = new;
            true
        }
        None => false,
    }
}

/// Removes elements or members `from..to` (clipped) of the container at
/// `path`; whether anything was removed.
fn remove_range(value: &mut Value, path: &[Step], from: usize, to: usize) -> bool {
    match lookup_mut(value, path) {
        Some(Value::Array(items)) if from < items.len() => {
            items.drain(from..to.min(items.len()));
            true
        }
        Some(Value::Object(members)) if from < members.len() => {
            let kept: Map<String, Value> = std::mem::take(members)
                .into_iter()
                .enumerate()
                .filter(|(index, _)| !(from..to).contains(index))
                .map(|(_, member)| member)
                .collect();
            *members = kept;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ranges_go_from_arrays_and_objects_in_order() {
        let mut value = json!({"a": [1, 2, 3, 4], "b": {"x": 1, "y": 2, "z": 3}});
        let a = [Step::Key("a".to_string())];
        let b = [Step::Key("b".to_string())];
        assert!(remove_range(&mut value, &a, 1, 3));
        assert!(remove_range(&mut value, &b, 0, 1));
        assert!(!remove_range(&mut value, &b, 5, 6));
        assert!(set(
            &mut value,
            &[Step::Key("a".to_string()), Step::Index(0)],
            json!(0)
        ));
        assert_eq!(
            serde_json::to_string(&value).ok(),
            Some(r#"{"a":[0,4],"b":{"y":2,"z":3}}"#.to_string())
        );
    }
}
