//! The `html` view without a browser: on every corpus case the page's
//! markup requests nothing, gives every object a row with a unique id, and
//! carries the whole trace in its data; trace strings built to break out of
//! text, attributes and the script stay text; a 200-turn rollout's page is
//! smaller than its `state.json`. `html_browser.rs` opens the pages.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::PathBuf;

use rollout_trace::model::ITEM_ID_PREFIX;
use rollout_trace::model::RolloutTrace;
use rollout_trace::views;
use rollout_trace::views::ViewOptions;
use serde_json::Value;

use crate::support::big_rollout;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const DATA_OPEN: &str = "<script type=\"application/json\" class=\"trace-data\">";

/// A page cut in two: the markup (with the data script's tags but not its
/// content) and the data.
pub(crate) struct Page {
    pub(crate) whole: String,
    pub(crate) markup: String,
    pub(crate) data: String,
}

pub(crate) fn page(trace: &RolloutTrace) -> Result<Page, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    views::html(trace, &ViewOptions::default(), &mut out)?;
    let whole = String::from_utf8(out)?;
    let start = whole.find(DATA_OPEN).ok_or("no data script")? + DATA_OPEN.len();
    let length = whole[start..]
        .find("</script>")
        .ok_or("data script not closed")?;
    Ok(Page {
        markup: format!("{}{}", &whole[..start], &whole[start + length..]),
        data: whole[start..start + length].to_string(),
        whole,
    })
}

/// Every reduced state of the corpus (`corpus/ok/*/expected.json`).
pub(crate) fn corpus_states() -> Result<Vec<(String, RolloutTrace)>, Box<dyn std::error::Error>> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("../corpus/ok")?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    cases.sort();
    let mut states = Vec::new();
    for case in cases {
        let expected = case.join("expected.json");
        if !expected.is_file() {
            continue;
        }
        let trace: RolloutTrace = serde_json::from_str(&std::fs::read_to_string(&expected)?)?;
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned());
        states.push((name.unwrap_or_default(), trace));
    }
    if states.len() < 100 {
        return Err(format!("only {} corpus states found", states.len()).into());
    }
    Ok(states)
}

/// The trace with `suffix` appended to every string the trace owns (ids,
/// references and map keys alike, so it stays consistent), enum names and
/// conversation item ids excepted: the model holds item ids as numbers, so
/// no trace can carry text in them.
pub(crate) fn hostile(
    trace: &RolloutTrace,
    suffix: &str,
) -> Result<RolloutTrace, Box<dyn std::error::Error>> {
    const ENUMS: [&str; 7] = [
        "type",
        "status",
        "role",
        "channel",
        "kind",
        "runtime_status",
        "source",
    ];
    fn walk(value: &mut Value, key: &str, suffix: &str) {
        match value {
            Value::String(text) if !ENUMS.contains(&key) && !text.starts_with(ITEM_ID_PREFIX) => {
                text.push_str(suffix)
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, key, suffix)),
            Value::Object(members) => {
                for (name, member) in members.iter_mut() {
                    walk(member, name, suffix);
                }
            }
            _ => {}
        }
    }
    let mut value = serde_json::to_value(trace)?;
    walk(&mut value, "", suffix);
    // The top-level maps are keyed by the ids inside them.
    for (_, map) in value.as_object_mut().ok_or("not an object")?.iter_mut() {
        if let Value::Object(members) = map {
            let old = std::mem::take(members);
            for (key, member) in old {
                let key = if key.starts_with(ITEM_ID_PREFIX) {
                    key
                } else {
                    format!("{key}{suffix}")
                };
                members.insert(key, member);
            }
        }
    }
    Ok(serde_json::from_value(value)?)
}

/// The page data turned back into `state.json`'s value: request lists
/// decoded, `tool_names` removed.
fn state_of(data: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let mut data: Value = serde_json::from_str(data)?;
    let object = data.as_object_mut().ok_or("data is not an object")?;
    object.remove("tool_names").ok_or("no tool_names")?;
    let calls = object
        .get_mut("inference_calls")
        .and_then(Value::as_object_mut)
        .ok_or("no inference calls")?;
    let mut decoded: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // A base is always an earlier call of its thread: decode until done.
    while decoded.len() < calls.len() {
        let before = decoded.len();
        for (id, call) in calls.iter() {
            if decoded.contains_key(id) {
                continue;
            }
            let request = &call["request_items"];
            let then = request["then"].as_array().ok_or("no then")?.clone();
            let ids = match request["base"].as_str() {
                None => then,
                Some(base) => {
                    let Some(base) = decoded.get(base) else {
                        continue;
                    };
                    let keep = request["keep"].as_u64().ok_or("no keep")? as usize;
                    base[..keep].iter().cloned().chain(then).collect()
                }
            };
            decoded.insert(id.clone(), ids);
        }
        if decoded.len() == before {
            return Err("request bases form a cycle".into());
        }
    }
    for (id, call) in calls.iter_mut() {
        let members = call.as_object_mut().ok_or("call is not an object")?;
        let old = std::mem::take(members);
        for (name, member) in old {
            if name == "request_items" {
                members.insert(
                    "request_item_ids".to_string(),
                    Value::Array(decoded[id].clone()),
                );
            } else {
                members.insert(name, member);
            }
        }
    }
    Ok(data)
}

/// Values of an attribute in the markup (as written, escaped).
fn attribute_values<'m>(markup: &'m str, attribute: &str) -> Vec<&'m str> {
    let needle = format!(" {attribute}=\"");
    markup
        .match_indices(&needle)
        .filter_map(|(at, _)| {
            let value = &markup[at + needle.len()..];
            value.find('"').map(|end| &value[..end])
        })
        .collect()
}

/// An attribute value as the view escapes it.
fn escape_attribute(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            '\t' | '\n' => out.push(c),
            c if c.is_ascii_control() => out.push_str(&format!("&#{};", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The rules every page follows, whatever the trace.
fn check_page(name: &str, trace: &RolloutTrace, page: &Page) -> Result<(), String> {
    let markup = page.markup.to_ascii_lowercase();
    if !page.whole.starts_with("<!DOCTYPE html>\n") {
        return Err(format!("{name}: no doctype"));
    }
    if markup.matches("<script").count() != 2 {
        return Err(format!(
            "{name}: not exactly the data and the explorer script"
        ));
    }
    for tag in [
        "<img",
        "<iframe",
        "<link",
        "<object",
        "<embed",
        "<base",
        "<form",
        "<meta http-equiv=\"refresh\"",
    ] {
        if markup.contains(tag) {
            return Err(format!("{name}: {tag} in the markup"));
        }
    }
    for attribute in [
        "src", "srcset", "action", "poster", "style", "onerror", "onload",
    ] {
        if !attribute_values(&markup, attribute).is_empty() {
            return Err(format!("{name}: a {attribute} attribute in the markup"));
        }
    }
    if let Some(href) = attribute_values(&page.markup, "href")
        .into_iter()
        .find(|href| !href.starts_with('#'))
    {
        return Err(format!("{name}: a link out of the page: {href}"));
    }
    if page.data.contains('<') || page.data.contains('\u{2028}') || page.data.contains('\u{2029}') {
        return Err(format!(
            "{name}: the data holds a character that can end its script"
        ));
    }
    let ids = attribute_values(&page.markup, "id");
    let mut seen = BTreeSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(format!("{name}: id {twice} given twice"));
    }
    let data_ids: BTreeSet<&str> = attribute_values(&page.markup, "data-id")
        .into_iter()
        .collect();
    let objects = trace
        .threads
        .keys()
        .chain(trace.codex_turns.keys())
        .chain(trace.conversation_items.keys())
        .chain(trace.inference_calls.keys())
        .chain(trace.code_cells.keys())
        .chain(trace.tool_calls.keys())
        .chain(trace.compactions.keys())
        .chain(trace.interaction_edges.keys());
    for id in objects {
        let escaped = escape_attribute(id);
        if !seen.contains(escaped.as_str()) && !data_ids.contains(escaped.as_str()) {
            return Err(format!("{name}: no row for {id}"));
        }
    }
    let state = state_of(&page.data).map_err(|error| format!("{name}: {error}"))?;
    let expected = serde_json::to_string(trace).map_err(|error| error.to_string())?;
    let found = serde_json::to_string(&state).map_err(|error| error.to_string())?;
    if found != expected {
        return Err(format!("{name}: the page data is not the trace"));
    }
    Ok(())
}

#[test]
fn every_corpus_page_requests_nothing_and_holds_the_whole_trace() -> TestResult {
    let mut failures = Vec::new();
    for (name, trace) in corpus_states()? {
        if let Err(failure) = check_page(&name, &trace, &page(&trace)?) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn trace_strings_stay_text_wherever_they_go() -> TestResult {
    const SUFFIX: &str =
        "</script><img src=x onerror=alert(1)><!--<b>\"'&amp;\u{2028}\u{2029}\r\x07";
    let mut checked = 0;
    for (name, trace) in corpus_states()? {
        if !name.starts_with("049") && !name.starts_with("05") {
            continue;
        }
        let trace = hostile(&trace, SUFFIX)?;
        let page = page(&trace)?;
        check_page(&name, &trace, &page)?;
        for raw in ["<img src=x", "</script><img", "<!--<b>"] {
            assert!(
                !page.markup.contains(raw),
                "{name}: {raw} reached the markup"
            );
        }
        assert!(
            page.markup.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{name}"
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} cases checked");
    Ok(())
}

#[test]
fn the_outline_of_the_multi_agent_example() -> TestResult {
    let trace = rollout_trace::reduce_bundle("../corpus/ok/0491_example_multi_agent")?.trace;
    let page = page(&trace)?;
    let body = page.markup.split("<body>\n").nth(1).ok_or("no body")?;
    let outline = body.split(DATA_OPEN).next().ok_or("no data")?;
    insta::assert_snapshot!(outline);
    Ok(())
}

#[test]
fn a_200_turn_page_is_smaller_than_its_state_json() -> TestResult {
    let trace = big_rollout::rollout(200);
    let state = rollout_trace::state_json(&trace).len();
    let page = page(&trace)?;
    assert!(
        state > 12_000_000,
        "the rollout is smaller than a real one: {state} bytes"
    );
    assert!(
        page.whole.len() < state / 2,
        "page {} bytes, state.json {state} bytes",
        page.whole.len()
    );
    check_page("200 turns", &trace, &page)?;
    Ok(())
}

#[test]
fn an_empty_trace_is_a_page_too() -> TestResult {
    let trace = RolloutTrace::new(String::new(), String::new(), String::new(), 0);
    let page = page(&trace)?;
    check_page("empty", &trace, &page)?;
    assert!(page.markup.contains("<main>\n</main>"), "{}", page.markup);
    Ok(())
}
