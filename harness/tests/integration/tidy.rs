//! Tidy checks over the workspace's own sources (rust-analyzer's habit: a
//! rule of the code base is a test): no import circle between modules.
//!
//! The import graph has an edge from module A to module B when A names a
//! path into B (`use crate::b::...`, `super::b::...`). Edges between a
//! module and its own descendants are not counted: split `impl` blocks and
//! re-exports go both ways by design. Every other cycle is a circle.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

type Module = Vec<String>;

/// The modules of one crate's `src` folder, by path, with their text
/// (test modules cut off).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut found = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap_or_else(|error| panic!("walk {}: {error}", src.display()));
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap_or(path).with_extension("");
        let mut module: Module = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module.first().is_some_and(|first| first == "bin") {
            continue;
        }
        if module
            .last()
            .is_some_and(|last| matches!(last.as_str(), "mod" | "lib" | "main"))
        {
            module.pop();
        }
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        found.insert(module, text);
    }
    found
}

/// The module a path names, from `module`, if it is one of `known`.
fn target(
    module: &Module,
    path: &str,
    crate_name: &str,
    known: &BTreeSet<Module>,
) -> Option<Module> {
    let mut parts = path.split("::").peekable();
    let mut base: Module = match parts.peek().copied() {
        Some("crate") => {
            parts.next();
            Vec::new()
        }
        Some(name) if name == crate_name => {
            parts.next();
            Vec::new()
        }
        Some("self") => {
            parts.next();
            module.clone()
        }
        Some("super") => {
            let mut base = module.clone();
            while parts.peek() == Some(&"super") {
                parts.next();
                base.pop();
            }
            base
        }
        _ => return None,
    };
    let mut best = known.contains(&base).then(|| base.clone());
    for part in parts {
        base.push(part.to_string());
        if !known.contains(&base) {
            break;
        }
        best = Some(base.clone());
    }
    best
}

/// Paths written in `text` that start with `crate`, `self`, `super` or the crate's name.
fn paths(text: &str, crate_name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let is_ident = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let mut at = 0;
    while at < bytes.len() {
        if !is_ident(bytes[at]) || (at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b':')) {
            at += 1;
            continue;
        }
        let mut end = at;
        while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b':') {
            end += 1;
        }
        let path = &text[at..end];
        let head = path.split("::").next().unwrap_or_default();
        if path.contains("::") && matches!(head, "crate" | "self" | "super")
            || head == crate_name && path.contains("::")
        {
            found.push(path.trim_end_matches(':').to_string());
        }
        at = end;
    }
    found
}

/// The circles of a crate's import graph, as lists of module names.
fn circles(src: &Path, crate_name: &str) -> Vec<Vec<String>> {
    let modules = modules(src);
    let known: BTreeSet<Module> = modules.keys().cloned().collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in &modules {
        for path in paths(text, crate_name) {
            let Some(target) = target(module, &path, crate_name, &known) else {
                continue;
            };
            let related = target.starts_with(module) || module.starts_with(&target);
            if !related {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    // A module is in a circle when it reaches a module that reaches it back.
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(next) = todo.pop() {
            for to in edges.get(&next).into_iter().flatten() {
                if seen.insert(to.clone()) {
                    todo.push(to.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&Module, BTreeSet<Module>> =
        known.iter().map(|module| (module, reach(module))).collect();
    let mut circles: Vec<Vec<String>> = Vec::new();
    for module in &known {
        let circle: Vec<String> = reached[module]
            .iter()
            .filter(|other| reached.get(other).is_some_and(|back| back.contains(module)))
            .map(|other| other.join("::"))
            .collect();
        let mut circle = circle;
        circle.sort();
        if !circle.is_empty() && !circles.contains(&circle) {
            circles.push(circle);
        }
    }
    circles
}

#[test]
fn no_import_circle_in_any_crate() {
    let workspace = harness::workspace_root().unwrap_or_else(|error| panic!("{error}"));
    for (src, crate_name) in [
        ("reducer/src", "rollout_trace"),
        ("harness/src", "harness"),
        ("harness/tracegen/src", "tracegen"),
        ("xtask/src", "xtask"),
    ] {
        let circles = circles(&workspace.join(src), crate_name);
        assert!(
            circles.is_empty(),
            "{src}: modules that import each other: {circles:?}"
        );
    }
}

#[test]
fn the_check_sees_a_circle() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|error| panic!("{error}"));
    };
    write("lib.rs", "mod a;\nmod b;\n");
    write("a.rs", "use crate::b::B;\npub struct A;\n");
    write("b.rs", "use super::a::A;\npub struct B;\n");
    assert_eq!(
        circles(dir.path(), "demo"),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
    write("b.rs", "pub struct B;\n");
    assert!(circles(dir.path(), "demo").is_empty());
}
