//! The views of `rollout_trace::views`: snapshots of every view of the two
//! shipped examples, the format rules of each view on every corpus case (80
//! columns, the Chrome trace-event rules, OTLP/JSON that a real decoder
//! accepts without dropping anything), and the length bound of `summary` on
//! a long synthetic rollout.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;
use std::path::PathBuf;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use rollout_trace::model::AgentOrigin;
use rollout_trace::model::AgentThread;
use rollout_trace::model::CodexTurn;
use rollout_trace::model::ConversationBody;
use rollout_trace::model::ConversationItem;
use rollout_trace::model::ConversationItemKind;
use rollout_trace::model::ConversationPart;
use rollout_trace::model::ConversationRole;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::ExecutionWindow;
use rollout_trace::model::InferenceCall;
use rollout_trace::model::RolloutStatus;
use rollout_trace::model::RolloutTrace;
use rollout_trace::model::TokenUsage;
use rollout_trace::model::ToolCall;
use rollout_trace::model::ToolCallKind;
use rollout_trace::model::ToolCallRequester;
use rollout_trace::model::ToolCallSummary;
use rollout_trace::views;
use rollout_trace::views::View;
use rollout_trace::views::ViewOptions;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The shipped examples: snapshot name and bundle (tests run in `reducer/`).
const EXAMPLES: [(&str, &str); 2] = [
    ("code_mode_turn", "../corpus/ok/0490_example_code_mode_turn"),
    ("multi_agent", "../corpus/ok/0491_example_multi_agent"),
];

fn example(path: &str) -> Result<RolloutTrace, Box<dyn std::error::Error>> {
    Ok(rollout_trace::reduce_bundle(path)?.trace)
}

/// Every reduced state of the corpus (`corpus/ok/*/expected.json`), by case.
fn corpus_states() -> Result<Vec<(String, RolloutTrace)>, Box<dyn std::error::Error>> {
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
        let trace: RolloutTrace = serde_json::from_str(&std::fs::read_to_string(&expected)?)
            .map_err(|error| format!("{}: {error}", expected.display()))?;
        states.push((case_name(&case), trace));
    }
    if states.len() < 100 {
        return Err(format!("only {} corpus states found", states.len()).into());
    }
    Ok(states)
}

fn case_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

const PLAIN: ViewOptions = ViewOptions {
    color: false,
    full: false,
    include_content: false,
};

#[test]
fn summary_of_the_examples() -> TestResult {
    for (name, path) in EXAMPLES {
        let trace = example(path)?;
        insta::assert_snapshot!(format!("{name}_summary"), views::summary(&trace, &PLAIN));
    }
    Ok(())
}

#[test]
fn transcript_of_the_examples() -> TestResult {
    for (name, path) in EXAMPLES {
        let trace = example(path)?;
        insta::assert_snapshot!(
            format!("{name}_transcript"),
            views::transcript(&trace, &PLAIN)
        );
    }
    Ok(())
}

#[test]
fn transcript_cuts_long_items_unless_full() -> TestResult {
    let mut trace = long_rollout(1);
    let output: String = (1..=40).map(|n| format!("line {n}\n")).collect();
    let item = trace
        .conversation_items
        .values_mut()
        .next()
        .ok_or("no item")?;
    item.body.parts = vec![ConversationPart::Text { text: output }];
    let cut = views::transcript(&trace, &PLAIN);
    assert!(
        cut.contains("  line 11\n  … 29 more lines (--full shows all)\n"),
        "{cut}"
    );
    assert!(!cut.contains("line 12\n"), "{cut}");
    let full = views::transcript(
        &trace,
        &ViewOptions {
            full: true,
            ..PLAIN
        },
    );
    assert!(full.contains("  line 40\n"), "{full}");
    assert!(!full.contains("--full"), "{full}");
    Ok(())
}

#[test]
fn perfetto_of_the_examples() -> TestResult {
    for (name, path) in EXAMPLES {
        let trace = example(path)?;
        insta::assert_snapshot!(format!("{name}_perfetto"), views::perfetto(&trace));
    }
    Ok(())
}

#[test]
fn otlp_of_the_examples() -> TestResult {
    for (name, path) in EXAMPLES {
        let trace = example(path)?;
        insta::assert_snapshot!(format!("{name}_otlp"), views::otlp(&trace, &PLAIN));
    }
    let trace = example(EXAMPLES[0].1)?;
    let content = ViewOptions {
        include_content: true,
        ..PLAIN
    };
    insta::assert_snapshot!(
        "code_mode_turn_otlp_with_content",
        views::otlp(&trace, &content)
    );
    Ok(())
}

/// Text with ANSI escape sequences (`ESC [ ... letter`) removed.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The lines of `text` wider than the terminal views' width.
fn wide_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.chars().count() > views::WIDTH)
        .map(str::to_string)
        .collect()
}

#[test]
fn terminal_views_fit_80_columns_and_colour_is_only_escapes() -> TestResult {
    let mut states = corpus_states()?;
    for (name, path) in EXAMPLES {
        states.push((name.to_string(), example(path)?));
    }
    for (name, trace) in &states {
        for view in [View::Summary, View::Transcript] {
            for full in [false, true] {
                let options = ViewOptions { full, ..PLAIN };
                let plain = views::render(trace, view, &options);
                let wide = wide_lines(&plain);
                if !wide.is_empty() {
                    return Err(format!("{name} {}: lines over 80: {wide:#?}", view.name()).into());
                }
                if plain.contains('\x1b') {
                    return Err(format!("{name} {}: escape without colour", view.name()).into());
                }
                let colored = views::render(
                    trace,
                    view,
                    &ViewOptions {
                        color: true,
                        ..options
                    },
                );
                if strip_ansi(&colored) != plain {
                    return Err(format!("{name} {}: colour changed the text", view.name()).into());
                }
            }
        }
    }
    let trace = example(EXAMPLES[0].1)?;
    let colored = views::summary(
        &trace,
        &ViewOptions {
            color: true,
            ..PLAIN
        },
    );
    assert!(colored.contains("\x1b[32m✓\x1b[0m"), "{colored}");
    Ok(())
}

#[test]
fn views_are_deterministic() -> TestResult {
    for (_, path) in EXAMPLES {
        let content = ViewOptions {
            include_content: true,
            full: true,
            ..PLAIN
        };
        for view in View::ALL {
            let first = views::render(&example(path)?, view, &content);
            let second = views::render(&example(path)?, view, &content);
            assert_eq!(first, second, "{}", view.name());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Perfetto: the Chrome trace-event format.

/// The Chrome trace-event rules the `perfetto` view relies on; `trace` gives
/// the wall times the timestamps must come from.
fn check_trace_events(document: &Value, trace: &RolloutTrace) -> Result<(), String> {
    let events = document
        .get("traceEvents")
        .and_then(Value::as_array)
        .ok_or("no traceEvents array")?;
    let mut process_names = BTreeSet::new();
    let mut thread_names = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut slices: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    let mut flows: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    let mut open: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
    for event in events {
        let field = |name: &str| event.get(name).ok_or(format!("{event}: no {name}"));
        let int = |name: &str| {
            field(name)?
                .as_u64()
                .ok_or(format!("{event}: {name} is not a non-negative integer"))
        };
        let phase = field("ph")?.as_str().ok_or("ph is not a string")?;
        field("name")?.as_str().ok_or(format!("{event}: name"))?;
        let (pid, tid) = (int("pid")?, int("tid")?);
        match phase {
            "M" => {
                let name = field("name")?.as_str().unwrap_or_default();
                let args = field("args")?;
                match name {
                    "process_name" => {
                        args.get("name")
                            .and_then(Value::as_str)
                            .ok_or("process_name")?;
                        process_names.insert(pid);
                    }
                    "thread_name" => {
                        args.get("name")
                            .and_then(Value::as_str)
                            .ok_or("thread_name")?;
                        thread_names.insert((pid, tid));
                    }
                    "process_sort_index" | "thread_sort_index" => {
                        args.get("sort_index")
                            .and_then(Value::as_i64)
                            .ok_or("sort_index")?;
                    }
                    other => return Err(format!("unknown metadata event {other}")),
                }
            }
            "X" => {
                let (ts, dur) = (int("ts")?, int("dur")?);
                // Microseconds from the trace's milliseconds.
                if ts % 1_000 != 0 || dur % 1_000 != 0 {
                    return Err(format!("{event}: not whole milliseconds in µs"));
                }
                used.insert((pid, tid));
                slices.entry((pid, tid)).or_default().push((ts, ts + dur));
                let args = field("args")?;
                if let Some(thread_id) = args.get("thread_id").and_then(Value::as_str) {
                    let thread = trace.threads.get(thread_id).ok_or("unknown thread")?;
                    let expected = thread.execution.started_at_unix_ms as u64 * 1_000;
                    if ts != expected {
                        return Err(format!("{event}: ts {ts} is not the thread start"));
                    }
                }
            }
            "B" => {
                used.insert((pid, tid));
                open.entry((pid, tid)).or_default().push(int("ts")?);
            }
            "E" => {
                let start = open.entry((pid, tid)).or_default().pop();
                if start.is_none_or(|start| start > int("ts").unwrap_or(0)) {
                    return Err(format!("{event}: E without B"));
                }
            }
            "s" | "f" => {
                int("ts")?;
                used.insert((pid, tid));
                flows.entry(int("id")?).or_default().push(event);
            }
            other => return Err(format!("{event}: phase {other} is not used by the view")),
        }
    }
    for (pid, tid) in &used {
        if !process_names.contains(pid) || !thread_names.contains(&(*pid, *tid)) {
            return Err(format!("pid {pid} tid {tid} has no name"));
        }
    }
    // Slices of a track nest: disjoint or contained.
    for (track, list) in &mut slices {
        list.sort_by_key(|&(start, end)| (start, std::cmp::Reverse(end)));
        let mut stack: Vec<u64> = Vec::new();
        for &(start, end) in list.iter() {
            while stack.last().is_some_and(|top| *top <= start) {
                stack.pop();
            }
            if stack.last().is_some_and(|top| *top < end) {
                return Err(format!("track {track:?}: slice {start}..{end} overlaps"));
            }
            stack.push(end);
        }
    }
    // Each flow: one s and one f (binding to the enclosing slice), same
    // name and category, each inside a slice of its track.
    for (id, pair) in &flows {
        let [start, finish] = pair.as_slice() else {
            return Err(format!("flow {id} has {} events", pair.len()));
        };
        if start["ph"] != "s" || finish["ph"] != "f" || finish["bp"] != "e" {
            return Err(format!("flow {id}: {start} {finish}"));
        }
        if start["name"] != finish["name"] || start["cat"] != finish["cat"] {
            return Err(format!("flow {id}: name or category differ"));
        }
        for end in [start, finish] {
            let track = (
                end["pid"].as_u64().unwrap_or(0),
                end["tid"].as_u64().unwrap_or(0),
            );
            let ts = end["ts"].as_u64().unwrap_or(0);
            let inside = slices
                .get(&track)
                .is_some_and(|list| list.iter().any(|(s, e)| *s <= ts && ts <= *e));
            if !inside {
                return Err(format!("flow {id}: {end} is in no slice"));
            }
        }
    }
    Ok(())
}

#[test]
fn perfetto_follows_the_trace_event_format() -> TestResult {
    let mut states = corpus_states()?;
    for (name, path) in EXAMPLES {
        states.push((name.to_string(), example(path)?));
    }
    for (name, trace) in &states {
        let text = views::perfetto(trace);
        let document: Value = serde_json::from_str(&text)?;
        assert_eq!(document, views::perfetto_document(trace), "{name}");
        check_trace_events(&document, trace).map_err(|error| format!("{name}: {error}"))?;
    }

    // The examples: one process per thread, concurrent work on its own
    // track, a flow for every edge and every tool a code cell ran.
    let trace = example(EXAMPLES[1].1)?;
    let document = views::perfetto_document(&trace);
    let events = document["traceEvents"].as_array().ok_or("events")?;
    let names: Vec<&str> = events
        .iter()
        .filter(|event| event["name"] == "process_name")
        .filter_map(|event| event["args"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "/root",
            "/root/frontend_deps \"Ada\"",
            "/root/backend_tests \"Turing\""
        ]
    );
    let flow_starts = events.iter().filter(|event| event["ph"] == "s").count();
    assert_eq!(flow_starts, trace.interaction_edges.len());

    let trace = example(EXAMPLES[0].1)?;
    let document = views::perfetto_document(&trace);
    let events = document["traceEvents"].as_array().ok_or("events")?;
    let cell_flows = events
        .iter()
        .filter(|event| event["ph"] == "s" && event["cat"] == "code_cell")
        .count();
    assert_eq!(cell_flows, 2);
    // The code cell outlives the first inference call: it runs on a second
    // track, with the tools it ran nested under it.
    let track_of = |name: &str| {
        events
            .iter()
            .find(|event| event["ph"] == "X" && event["name"] == name)
            .map(|event| event["tid"].clone())
    };
    assert_eq!(track_of("exec cell 1"), Some(Value::from(2)));
    assert_eq!(track_of("exec_command"), Some(Value::from(2)));
    assert_eq!(track_of("turn 1"), Some(Value::from(1)));
    Ok(())
}

// ---------------------------------------------------------------------------
// OTLP: decoded by the OpenTelemetry protocol crate.

/// Whether everything in `ours` is in `decoded` (objects by member, arrays
/// element by element, other values equal): the decoder dropped nothing.
fn contained(ours: &Value, decoded: &Value, path: &str) -> Result<(), String> {
    match (ours, decoded) {
        (Value::Object(ours), Value::Object(decoded)) => {
            for (key, value) in ours {
                let other = decoded
                    .get(key)
                    .ok_or(format!("{path}.{key}: dropped by the decoder"))?;
                contained(value, other, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(ours), Value::Array(decoded)) if ours.len() == decoded.len() => ours
            .iter()
            .zip(decoded)
            .enumerate()
            .try_for_each(|(index, (a, b))| contained(a, b, &format!("{path}[{index}]"))),
        _ if ours == decoded => Ok(()),
        _ => Err(format!("{path}: {ours} decoded as {decoded}")),
    }
}

fn decode(text: &str) -> Result<ExportTraceServiceRequest, Box<dyn std::error::Error>> {
    let request: ExportTraceServiceRequest = serde_json::from_str(text)?;
    let ours: Value = serde_json::from_str(text)?;
    contained(&ours, &serde_json::to_value(&request)?, "")?;
    Ok(request)
}

fn all_spans(request: &ExportTraceServiceRequest) -> Vec<&Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| &scope.spans)
        .collect()
}

fn string_attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| match &value.value {
            Some(any_value::Value::StringValue(text)) => Some(text.as_str()),
            _ => None,
        })
}

fn has_attribute(span: &Span, key: &str) -> bool {
    span.attributes.iter().any(|attribute| attribute.key == key)
}

/// The rules every export follows, whatever the trace.
fn check_export(request: &ExportTraceServiceRequest, name: &str) -> Result<(), String> {
    let spans = all_spans(request);
    let ids: BTreeSet<&[u8]> = spans.iter().map(|span| span.span_id.as_slice()).collect();
    if ids.len() != spans.len() {
        return Err(format!("{name}: span ids are not unique"));
    }
    let trace_ids: BTreeSet<&[u8]> = spans.iter().map(|span| span.trace_id.as_slice()).collect();
    if trace_ids.len() > 1 {
        return Err(format!("{name}: more than one trace id"));
    }
    for span in &spans {
        if span.trace_id.len() != 16 || span.span_id.len() != 8 {
            return Err(format!("{name}: {}: id lengths", span.name));
        }
        if !span.parent_span_id.is_empty() && !ids.contains(span.parent_span_id.as_slice()) {
            return Err(format!(
                "{name}: {}: parent is not in the export",
                span.name
            ));
        }
        if span.end_time_unix_nano < span.start_time_unix_nano || span.start_time_unix_nano == 0 {
            return Err(format!("{name}: {}: times", span.name));
        }
        for link in &span.links {
            if !ids.contains(link.span_id.as_slice()) {
                return Err(format!("{name}: {}: link to an unknown span", span.name));
            }
        }
        let operation = string_attribute(span, "gen_ai.operation.name");
        let required: &[&str] = match operation {
            Some("invoke_agent") => &["gen_ai.agent.name", "gen_ai.agent.id"],
            Some("chat") => &["gen_ai.request.model", "gen_ai.provider.name"],
            Some("execute_tool") => &["gen_ai.tool.name", "gen_ai.tool.call.id"],
            _ => &[],
        };
        for key in required {
            if !has_attribute(span, key) {
                return Err(format!("{name}: {}: no {key}", span.name));
            }
        }
    }
    Ok(())
}

const CONTENT_KEYS: [&str; 5] = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "process.command_line",
];

#[test]
fn otlp_decodes_with_the_opentelemetry_protocol_crate() -> TestResult {
    for (name, trace) in corpus_states()? {
        for include_content in [false, true] {
            let options = ViewOptions {
                include_content,
                ..PLAIN
            };
            let text = views::otlp(&trace, &options);
            let request = decode(&text).map_err(|error| format!("{name}: {error}"))?;
            check_export(&request, &name)?;
            assert_eq!(
                serde_json::from_str::<Value>(&text)?,
                views::otlp_document(&trace, &options)
            );
        }
    }

    let trace = example(EXAMPLES[0].1)?;
    let request = decode(&views::otlp(&trace, &PLAIN))?;
    check_export(&request, "code_mode_turn")?;
    let spans = all_spans(&request);
    // The trace id is the rollout's own (a UUID), the root is the agent.
    assert_eq!(
        hex(&spans[0].trace_id),
        trace.trace_id.replace('-', ""),
        "trace id"
    );
    assert_eq!(spans[0].name, "invoke_agent /root");
    assert!(spans[0].parent_span_id.is_empty());
    let chat: Vec<&&Span> = spans
        .iter()
        .filter(|span| string_attribute(span, "gen_ai.operation.name") == Some("chat"))
        .collect();
    assert_eq!(chat.len(), 3);
    assert_eq!(
        string_attribute(chat[0], "gen_ai.response.id"),
        Some("resp_0a1c9e44b2d8f7a5e1")
    );
    assert!(has_attribute(chat[0], "gen_ai.usage.input_tokens"));
    let tools: Vec<(&str, &str)> = spans
        .iter()
        .filter_map(|span| {
            Some((
                string_attribute(span, "gen_ai.tool.name")?,
                string_attribute(span, "gen_ai.tool.call.id")?,
            ))
        })
        .collect();
    assert_eq!(
        tools,
        [
            ("exec", "call_Qm4tZr8vKx2LpW7nB3yHs1dE"),
            ("exec_command", "tool_1f9a2c7e"),
            ("exec_command", "tool_5d3b8e41"),
            ("wait", "call_Vn7cJ2kTq9XwR4mF8aLp6sGu"),
        ]
    );
    for span in &spans {
        for key in CONTENT_KEYS {
            assert!(!has_attribute(span, key), "{}: {key}", span.name);
        }
    }

    let content = ViewOptions {
        include_content: true,
        ..PLAIN
    };
    let request = decode(&views::otlp(&trace, &content))?;
    let messages = spans_of(&request, "gen_ai.input.messages");
    assert_eq!(messages.len(), 3);
    for text in messages {
        let parsed: Value = serde_json::from_str(&text)?;
        assert!(
            parsed
                .as_array()
                .is_some_and(|messages| !messages.is_empty())
        );
    }

    // Spawned agents hang under the tool call that spawned them; the other
    // edges are links.
    let trace = example(EXAMPLES[1].1)?;
    let request = decode(&views::otlp(&trace, &PLAIN))?;
    let spans = all_spans(&request);
    let by_id: BTreeMap<&[u8], &&Span> = spans
        .iter()
        .map(|span| (span.span_id.as_slice(), span))
        .collect();
    for agent in ["/root/frontend_deps", "/root/backend_tests"] {
        let span = spans
            .iter()
            .find(|span| span.name == format!("invoke_agent {agent}"))
            .ok_or(agent)?;
        let parent = by_id
            .get(span.parent_span_id.as_slice())
            .ok_or("no parent")?;
        assert_eq!(parent.name, "execute_tool spawn_agent");
    }
    let links: usize = spans.iter().map(|span| span.links.len()).sum();
    assert_eq!(links, trace.interaction_edges.len());
    Ok(())
}

fn spans_of(request: &ExportTraceServiceRequest, key: &str) -> Vec<String> {
    all_spans(request)
        .iter()
        .filter_map(|span| string_attribute(span, key).map(str::to_string))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

// ---------------------------------------------------------------------------
// A long synthetic rollout.

fn window(start: i64, end: Option<i64>, seq: &mut u64, status: ExecutionStatus) -> ExecutionWindow {
    *seq += 2;
    ExecutionWindow {
        started_at_unix_ms: start,
        started_seq: *seq - 1,
        ended_at_unix_ms: end,
        ended_seq: end.map(|_| *seq),
        status,
    }
}

/// A root thread with `turns` turns: each an inference call, one to four
/// tool calls of a few kinds, and a final inference call; every 23rd turn
/// fails, every 31st tool call fails.
fn long_rollout(turns: usize) -> RolloutTrace {
    let mut trace = RolloutTrace::new(
        "trace-long".to_string(),
        "rollout-long".to_string(),
        "thread-root".to_string(),
        0,
    );
    let mut seq = 0;
    let mut now = 0i64;
    let mut tool_number = 0usize;
    let mut items = Vec::new();
    let names = ["exec_command", "apply_patch", "exec_command", "web_search"];
    for turn_index in 0..turns {
        let turn_id = format!("turn-{turn_index:03}");
        let turn_start = now;
        let mut add_inference = |now: &mut i64, suffix: &str, seq: &mut u64| {
            let id = format!("{turn_id}-inference-{suffix}");
            trace.inference_calls.insert(
                id.clone(),
                InferenceCall {
                    inference_call_id: id,
                    thread_id: "thread-root".to_string(),
                    codex_turn_id: turn_id.clone(),
                    execution: window(*now, Some(*now + 1_200), seq, ExecutionStatus::Completed),
                    model: "gpt-5".to_string(),
                    provider_name: "openai".to_string(),
                    response_id: Some(format!("resp-{turn_index}-{suffix}")),
                    upstream_request_id: None,
                    request_item_ids: Default::default(),
                    response_item_ids: Default::default(),
                    tool_call_ids_started_by_response: Vec::new(),
                    usage: Some(TokenUsage {
                        input_tokens: 1_000,
                        cached_input_tokens: 800,
                        cache_write_input_tokens: 0,
                        output_tokens: 50,
                        reasoning_output_tokens: 10,
                    }),
                    raw_request_payload_id: "raw_payload:1".to_string(),
                    raw_response_payload_id: None,
                },
            );
            *now += 1_300;
        };
        add_inference(&mut now, "a", &mut seq);
        for call in 0..1 + (turn_index * 7 + 3) % 4 {
            tool_number += 1;
            let name = names[(turn_index + call) % names.len()];
            let status = if tool_number.is_multiple_of(31) {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Completed
            };
            let id = format!("tool-{tool_number:04}");
            let item_id = format!("conversation_item:{}", items.len() + 1);
            items.push(ConversationItem {
                item_id: item_id.clone(),
                thread_id: "thread-root".to_string(),
                codex_turn_id: Some(turn_id.clone()),
                first_seen_at_unix_ms: now,
                role: ConversationRole::Assistant,
                channel: None,
                kind: ConversationItemKind::FunctionCall,
                agent_message: None,
                body: ConversationBody {
                    parts: vec![ConversationPart::Text {
                        text: format!("{{\"cmd\":\"step {tool_number}\\u001b[2J\"}}"),
                    }],
                },
                call_id: Some(format!("call-{tool_number}")),
                produced_by: Vec::new(),
            });
            trace.tool_calls.insert(
                id.clone(),
                ToolCall {
                    tool_call_id: id,
                    mcp_call_id: None,
                    model_visible_call_id: Some(format!("call-{tool_number}")),
                    code_mode_runtime_tool_id: None,
                    thread_id: "thread-root".to_string(),
                    started_by_codex_turn_id: Some(turn_id.clone()),
                    execution: window(now, Some(now + 400), &mut seq, status),
                    requester: ToolCallRequester::Model,
                    kind: ToolCallKind::Other {
                        name: name.to_string(),
                    },
                    model_visible_call_item_ids: vec![item_id],
                    model_visible_output_item_ids: Vec::new(),
                    terminal_operation_id: None,
                    summary: ToolCallSummary::Generic {
                        label: name.to_string(),
                        // A hostile preview: escapes must not reach a terminal.
                        input_preview: Some(format!("step {tool_number}\x1b[31m red\n")),
                        output_preview: None,
                    },
                    raw_invocation_payload_id: None,
                    raw_result_payload_id: None,
                    raw_runtime_payload_ids: Vec::new(),
                },
            );
            now += 500;
        }
        add_inference(&mut now, "b", &mut seq);
        let status = if turn_index % 23 == 22 {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Completed
        };
        trace.codex_turns.insert(
            turn_id.clone(),
            CodexTurn {
                codex_turn_id: turn_id,
                thread_id: "thread-root".to_string(),
                execution: window(turn_start, Some(now), &mut seq, status),
                input_item_ids: Vec::new(),
            },
        );
        now += 10_000;
    }
    trace.threads.insert(
        "thread-root".to_string(),
        AgentThread {
            thread_id: "thread-root".to_string(),
            agent_path: "/root".to_string(),
            nickname: None,
            origin: AgentOrigin::Root,
            execution: window(0, Some(now), &mut seq, ExecutionStatus::Completed),
            default_model: Some("gpt-5".to_string()),
            conversation_item_ids: items.iter().map(|item| item.item_id.clone()).collect(),
        },
    );
    for item in items {
        trace.conversation_items.insert(item.item_id.clone(), item);
    }
    trace.ended_at_unix_ms = Some(now);
    trace.status = RolloutStatus::Completed;
    trace
}

#[test]
fn a_200_turn_rollout_fits_a_few_screens() -> TestResult {
    let trace = long_rollout(200);
    let summary = views::summary(&trace, &PLAIN);
    let lines = summary.lines().count();
    // Three screens of 50 lines at most; the 8 failed turns are in full.
    assert!(lines <= 150, "{lines} lines:\n{summary}");
    assert!(wide_lines(&summary).is_empty(), "{summary}");
    let failed_turns = summary.matches("✗ FAILED").count();
    assert!(failed_turns >= 8, "{summary}");
    assert!(!summary.contains('\x1b'), "{summary}");
    assert!(!views::transcript(&trace, &PLAIN).contains('\x1b'));
    insta::assert_snapshot!("long_rollout_summary", summary);

    // Alike turns fold into one line with a count: one completed
    // exec_command per turn.
    let mut alike = long_rollout(60);
    let mut seen_turns = BTreeSet::new();
    alike
        .tool_calls
        .retain(|_, tool| seen_turns.insert(tool.started_by_codex_turn_id.clone()));
    for tool in alike.tool_calls.values_mut() {
        tool.execution.status = ExecutionStatus::Completed;
        tool.kind = ToolCallKind::Other {
            name: "exec_command".to_string(),
        };
    }
    for turn in alike.codex_turns.values_mut() {
        turn.execution.status = ExecutionStatus::Completed;
    }
    let summary = views::summary(&alike, &PLAIN);
    assert!(summary.lines().count() <= 40, "{summary}");
    assert!(summary.contains("more turns like this"), "{summary}");
    Ok(())
}

#[test]
fn views_accept_any_trace_without_panicking() -> TestResult {
    let mut trace = long_rollout(3);
    // Extreme and inverted times.
    if let Some(turn) = trace.codex_turns.values_mut().next() {
        turn.execution.started_at_unix_ms = i64::MIN;
        turn.execution.ended_at_unix_ms = Some(i64::MAX);
    }
    if let Some(call) = trace.inference_calls.values_mut().next() {
        call.execution.started_at_unix_ms = i64::MAX;
        call.execution.ended_at_unix_ms = Some(i64::MIN);
    }
    // Dangling references: unknown thread, turn, code cell and items.
    let mut tools = trace.tool_calls.values_mut();
    if let Some(tool) = tools.next() {
        tool.thread_id = "thread-missing".to_string();
        tool.started_by_codex_turn_id = Some("turn-missing".to_string());
    }
    if let Some(tool) = tools.next() {
        tool.requester = ToolCallRequester::CodeCell {
            code_cell_id: "code_cell:missing".to_string(),
        };
        tool.execution.ended_at_unix_ms = None;
        tool.execution.status = ExecutionStatus::Running;
    }
    if let Some(thread) = trace.threads.values_mut().next() {
        thread
            .conversation_item_ids
            .push("conversation_item:missing".to_string());
        thread.origin = AgentOrigin::Spawned {
            parent_thread_id: "thread-missing".to_string(),
            spawn_edge_id: "edge:missing".to_string(),
            task_name: "task\x1b]0;title\x07".to_string(),
            agent_role: String::new(),
        };
    }
    let all = ViewOptions {
        color: true,
        full: true,
        include_content: true,
    };
    for options in [PLAIN, all] {
        for view in View::ALL {
            views::render(&trace, view, &options);
        }
    }
    // Still an export a collector accepts (times before 1970 become 0).
    decode(&views::otlp(&trace, &all))?;
    assert!(!views::summary(&trace, &PLAIN).contains('\x1b'));
    Ok(())
}
