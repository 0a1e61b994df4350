//! `otlp`: the rollout as OTLP/JSON traces (an `ExportTraceServiceRequest`:
//! `{"resourceSpans": [...]}`), following the OpenTelemetry GenAI semantic
//! conventions of semantic-conventions [`SEMCONV_VERSION`] (the last release
//! that carries them before they moved to their own repository; their status
//! is Development).
//!
//! Spans (one trace, one resource, one scope):
//! - `invoke_agent {agent path}` (INTERNAL) per agent thread:
//!   `gen_ai.operation.name`, `gen_ai.agent.name` (the agent path),
//!   `gen_ai.agent.id` and `gen_ai.conversation.id` (the thread id),
//!   `gen_ai.request.model` (default model), `gen_ai.provider.name`. A spawned
//!   thread is a child of the `spawn_agent` tool call that created it.
//! - `codex_turn` (INTERNAL) per turn, under its thread.
//! - `chat {model}` (CLIENT) per inference call, under its turn:
//!   `gen_ai.request.model`, `gen_ai.provider.name`, `gen_ai.response.id`,
//!   `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`,
//!   `gen_ai.usage.cache_read.input_tokens`,
//!   `gen_ai.usage.cache_creation.input_tokens`,
//!   `gen_ai.usage.reasoning.output_tokens`.
//! - `execute_tool {name}` (INTERNAL) per tool call and per code cell (the
//!   model's `exec` tool): `gen_ai.tool.name`, `gen_ai.tool.call.id`,
//!   `gen_ai.tool.type`; a tool run by a code cell is the cell's child;
//!   `process.exit.code` for terminal operations.
//! - `compact {model}` (CLIENT) per compaction request, under its turn.
//! - Interaction edges become span links on the span where the edge arrives,
//!   pointing at the span it leaves from.
//!
//! Invariants:
//! - Deterministic ids: the trace id is the rollout's `trace_id` when that
//!   is a UUID (or 32 hex digits), else a 128-bit FNV-1a hash of it; a span
//!   id is a 64-bit FNV-1a hash of the trace id and the object's kind and
//!   id. Reducing the same bundle twice gives the same ids.
//! - Message content (`gen_ai.input.messages`, `gen_ai.output.messages`,
//!   `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`, command lines)
//!   is written only when `include_content` is set. Each `chat` span then
//!   carries its whole request, as the conventions define
//!   `gen_ai.input.messages`, so such an export grows with the square of the
//!   conversation's length.
//! - Values follow the OTLP/JSON encoding: ids in lowercase hex, 64-bit
//!   integers (times, token counts) as decimal strings, enums as integers.
//! - A span that never ended ends at the latest time the trace mentions and
//!   carries `codex.open = true`. A failed, cancelled or aborted window has
//!   status ERROR and `error.type`; other spans leave the status unset, as
//!   the conventions advise.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::json;

use super::ViewOptions;
use super::graph::Attach;
use super::graph::Entry;
use super::graph::Graph;
use super::graph::shown_command;
use super::graph::tool_name;
use crate::model::AgentThread;
use crate::model::CodeCell;
use crate::model::ConversationItem;
use crate::model::ConversationItemKind;
use crate::model::ConversationPart;
use crate::model::ConversationRole;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::InferenceCall;
use crate::model::ItemIdList;
use crate::model::RolloutTrace;
use crate::model::TerminalRequest;
use crate::model::ToolCall;
use crate::model::ToolCallKind;
use crate::model::TraceAnchor;

/// The semantic-conventions release whose GenAI conventions are followed.
pub const SEMCONV_VERSION: &str = "1.41.0";

/// The instrumentation scope named in the export.
const SCOPE_NAME: &str = "rollout-trace";

/// OTLP `Span.SpanKind` values.
const KIND_INTERNAL: i64 = 1;
const KIND_CLIENT: i64 = 3;
/// OTLP `Status.StatusCode.STATUS_CODE_ERROR`.
const STATUS_ERROR: i64 = 2;

pub(crate) fn document(trace: &RolloutTrace, options: &ViewOptions) -> Value {
    let graph = Graph::new(trace);
    let ids = Ids::new(trace);
    let mut builder = Builder {
        graph: &graph,
        ids: &ids,
        options,
        spans: Vec::new(),
    };
    for thread in &graph.threads {
        builder.thread(thread);
    }
    let mut spans = builder.spans;
    // A parent outside the export (a spawning tool call of a thread the
    // trace does not have) would leave a dangling reference: such spans
    // become roots.
    let known: std::collections::BTreeSet<String> =
        spans.iter().map(|span| span.span_id.clone()).collect();
    for span in &mut spans {
        if span
            .parent_span_id
            .as_ref()
            .is_some_and(|parent| !known.contains(parent))
        {
            span.parent_span_id = None;
        }
    }
    add_links(&graph, &ids, &mut spans);
    let spans: Vec<Value> = spans.into_iter().map(Span::into_json).collect();
    json!({
        "resourceSpans": [{
            "resource": {
                "attributes": [
                    attribute("service.name", text("codex")),
                    attribute("codex.rollout.id", text(&trace.rollout_id)),
                    attribute("codex.trace.id", text(&trace.trace_id)),
                ],
            },
            "scopeSpans": [{
                "scope": {"name": SCOPE_NAME},
                "spans": spans,
                "schemaUrl": format!("https://opentelemetry.io/schemas/{SEMCONV_VERSION}"),
            }],
        }],
    })
}

pub(crate) fn render(trace: &RolloutTrace, options: &ViewOptions) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and JSON is UTF-8.
    let _ = write(trace, options, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes of [`render`], serialized straight into `out`.
pub(crate) fn write(
    trace: &RolloutTrace,
    options: &ViewOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(trace, options))?;
    out.write_all(b"\n")
}

/// Deterministic trace and span ids.
struct Ids {
    trace_id: String,
}

impl Ids {
    fn new(trace: &RolloutTrace) -> Ids {
        let hex: String = trace.trace_id.chars().filter(|c| *c != '-').collect();
        let usable = hex.len() == 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
            && hex.chars().any(|c| c != '0');
        let trace_id = if usable {
            hex.to_ascii_lowercase()
        } else {
            let hash = fnv1a_128(format!("trace\0{}", trace.trace_id).as_bytes()).max(1);
            format!("{hash:032x}")
        };
        Ids { trace_id }
    }

    /// The span id of the object `id` of kind `kind` (never all zeros).
    fn span(&self, kind: &str, id: &str) -> String {
        let hash = fnv1a_64(format!("{}\0{kind}\0{id}", self.trace_id).as_bytes()).max(1);
        format!("{hash:016x}")
    }
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn fnv1a_128(bytes: &[u8]) -> u128 {
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in bytes {
        hash ^= u128::from(*byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    hash
}

/// A span before it is written.
struct Span {
    /// `(kind, id)` of the object, for links.
    key: (&'static str, String),
    span_id: String,
    trace_id: String,
    parent_span_id: Option<String>,
    name: String,
    kind: i64,
    start_ms: i64,
    end_ms: i64,
    attributes: Vec<Value>,
    links: Vec<Value>,
    error: Option<&'static str>,
}

impl Span {
    fn into_json(self) -> Value {
        let mut span = json!({
            "traceId": self.trace_id,
            "spanId": self.span_id,
        });
        let Some(map) = span.as_object_mut() else {
            return span;
        };
        if let Some(parent) = self.parent_span_id {
            map.insert("parentSpanId".into(), parent.into());
        }
        map.insert("name".into(), self.name.into());
        map.insert("kind".into(), self.kind.into());
        map.insert("startTimeUnixNano".into(), nanos(self.start_ms).into());
        map.insert("endTimeUnixNano".into(), nanos(self.end_ms).into());
        map.insert("attributes".into(), self.attributes.into());
        if !self.links.is_empty() {
            map.insert("links".into(), self.links.into());
        }
        if let Some(error) = self.error {
            map.insert(
                "status".into(),
                json!({"message": error, "code": STATUS_ERROR}),
            );
        }
        span
    }
}

/// Unix milliseconds as the decimal string of Unix nanoseconds (0 before 1970).
fn nanos(ms: i64) -> String {
    u64::try_from(ms)
        .unwrap_or(0)
        .saturating_mul(1_000_000)
        .to_string()
}

fn attribute(key: &str, value: Value) -> Value {
    json!({"key": key, "value": value})
}

fn text(value: &str) -> Value {
    json!({"stringValue": value})
}

fn int(value: i64) -> Value {
    json!({"intValue": value.to_string()})
}

fn uint(value: u64) -> Value {
    int(i64::try_from(value).unwrap_or(i64::MAX))
}

fn boolean(value: bool) -> Value {
    json!({"boolValue": value})
}

struct Builder<'g, 'a> {
    graph: &'g Graph<'a>,
    ids: &'g Ids,
    options: &'g ViewOptions,
    spans: Vec<Span>,
}

impl Builder<'_, '_> {
    /// A span for `window`, with the status attributes every span carries.
    fn span(
        &mut self,
        key: (&'static str, &str),
        parent: Option<String>,
        name: String,
        kind: i64,
        window: &ExecutionWindow,
        mut attributes: Vec<Value>,
    ) -> String {
        let span_id = self.ids.span(key.0, key.1);
        let (end_ms, open) = match window.ended_at_unix_ms {
            Some(ended) => (ended.max(window.started_at_unix_ms), false),
            None => (self.graph.end_unix_ms.max(window.started_at_unix_ms), true),
        };
        attributes.push(attribute("codex.status", text(window.status.as_str())));
        if open {
            attributes.push(attribute("codex.open", boolean(true)));
        }
        let error = match window.status {
            ExecutionStatus::Failed => Some("failed"),
            ExecutionStatus::Cancelled => Some("cancelled"),
            ExecutionStatus::Aborted => Some("aborted"),
            ExecutionStatus::Running | ExecutionStatus::Completed => None,
        };
        if let Some(error) = error {
            attributes.push(attribute("error.type", text(error)));
        }
        self.spans.push(Span {
            key: (key.0, key.1.to_string()),
            span_id: span_id.clone(),
            trace_id: self.ids.trace_id.clone(),
            parent_span_id: parent,
            name,
            kind,
            start_ms: window.started_at_unix_ms,
            end_ms,
            attributes,
            links: Vec::new(),
            error,
        });
        span_id
    }

    fn thread(&mut self, thread: &AgentThread) {
        let graph = self.graph;
        let trace = graph.trace;
        // A spawned thread hangs under the tool call that spawned it, else
        // under its parent thread.
        let parent = Graph::spawned_by(thread).and_then(|(parent_thread_id, spawn_edge_id)| {
            let from_tool = trace
                .interaction_edges
                .get(spawn_edge_id)
                .and_then(|edge| match &edge.source {
                    TraceAnchor::ToolCall { tool_call_id }
                        if trace.tool_calls.contains_key(tool_call_id) =>
                    {
                        Some(self.ids.span("tool_call", tool_call_id))
                    }
                    _ => None,
                });
            from_tool.or_else(|| {
                trace
                    .threads
                    .contains_key(parent_thread_id)
                    .then(|| self.ids.span("thread", parent_thread_id))
            })
        });
        let provider = trace
            .inference_calls
            .values()
            .filter(|call| call.thread_id == thread.thread_id)
            .min_by_key(|call| call.execution.started_seq)
            .map(|call| call.provider_name.clone());
        let mut attributes = vec![
            attribute("gen_ai.operation.name", text("invoke_agent")),
            attribute("gen_ai.agent.name", text(&thread.agent_path)),
            attribute("gen_ai.agent.id", text(&thread.thread_id)),
            attribute("gen_ai.conversation.id", text(&thread.thread_id)),
        ];
        if let Some(provider) = &provider {
            attributes.push(attribute("gen_ai.provider.name", text(provider)));
        }
        if let Some(model) = &thread.default_model {
            attributes.push(attribute("gen_ai.request.model", text(model)));
        }
        if let Some(nickname) = &thread.nickname {
            attributes.push(attribute("codex.agent.nickname", text(nickname)));
        }
        let thread_span = self.span(
            ("thread", &thread.thread_id),
            parent,
            format!("invoke_agent {}", thread.agent_path),
            KIND_INTERNAL,
            &thread.execution,
            attributes,
        );
        for entry in graph.loose_entries(&thread.thread_id) {
            self.entry(entry, &thread_span);
        }
        for (index, turn) in graph.turns(&thread.thread_id).iter().enumerate() {
            let turn_span = self.span(
                ("turn", &turn.codex_turn_id),
                Some(thread_span.clone()),
                "codex_turn".to_string(),
                KIND_INTERNAL,
                &turn.execution,
                vec![
                    attribute("codex.turn.id", text(&turn.codex_turn_id)),
                    attribute("codex.turn.index", uint(index as u64 + 1)),
                    attribute("gen_ai.conversation.id", text(&thread.thread_id)),
                ],
            );
            for entry in graph.entries(&turn.codex_turn_id) {
                self.entry(entry, &turn_span);
            }
        }
    }

    fn entry(&mut self, entry: &Entry<'_>, parent: &str) {
        match entry {
            Entry::Inference(call) => self.inference(call, parent),
            Entry::Tool(tool) => self.tool(tool, parent),
            Entry::Cell(cell) => self.cell(cell, parent),
            Entry::Compaction(compaction) => {
                let trace = self.graph.trace;
                for request_id in &compaction.request_ids {
                    let Some(request) = trace.compaction_requests.get(request_id) else {
                        continue;
                    };
                    self.span(
                        ("compaction_request", &request.compaction_request_id),
                        Some(parent.to_string()),
                        format!("compact {}", request.model),
                        KIND_CLIENT,
                        &request.execution,
                        vec![
                            attribute("gen_ai.operation.name", text("compact")),
                            attribute("gen_ai.provider.name", text(&request.provider_name)),
                            attribute("gen_ai.request.model", text(&request.model)),
                            attribute("gen_ai.conversation.id", text(&request.thread_id)),
                            attribute("codex.compaction.id", text(&compaction.compaction_id)),
                        ],
                    );
                }
            }
        }
    }

    fn inference(&mut self, call: &InferenceCall, parent: &str) {
        let mut attributes = vec![
            attribute("gen_ai.operation.name", text("chat")),
            attribute("gen_ai.provider.name", text(&call.provider_name)),
            attribute("gen_ai.request.model", text(&call.model)),
            attribute("gen_ai.conversation.id", text(&call.thread_id)),
        ];
        if let Some(response_id) = &call.response_id {
            attributes.push(attribute("gen_ai.response.id", text(response_id)));
        }
        if let Some(usage) = call.usage {
            attributes.extend([
                attribute("gen_ai.usage.input_tokens", uint(usage.input_tokens)),
                attribute("gen_ai.usage.output_tokens", uint(usage.output_tokens)),
                attribute(
                    "gen_ai.usage.cache_read.input_tokens",
                    uint(usage.cached_input_tokens),
                ),
                attribute(
                    "gen_ai.usage.cache_creation.input_tokens",
                    uint(usage.cache_write_input_tokens),
                ),
                attribute(
                    "gen_ai.usage.reasoning.output_tokens",
                    uint(usage.reasoning_output_tokens),
                ),
            ]);
        }
        attributes.push(attribute(
            "codex.inference.id",
            text(&call.inference_call_id),
        ));
        if let Some(request_id) = &call.upstream_request_id {
            attributes.push(attribute("codex.upstream_request.id", text(request_id)));
        }
        if self.options.include_content {
            let input = self.messages(&call.request_item_ids, None);
            let trace = self.graph.trace;
            let calls_tools = call.response_item_ids.iter().any(|id| {
                trace
                    .conversation_items
                    .get(&id)
                    .is_some_and(|item| item.kind.is_tool_call())
            });
            let finish = if calls_tools { "tool_call" } else { "stop" };
            let output = self.messages(&call.response_item_ids, Some(finish));
            attributes.push(attribute(
                "gen_ai.input.messages",
                text(&Value::Array(input).to_string()),
            ));
            attributes.push(attribute(
                "gen_ai.output.messages",
                text(&Value::Array(output).to_string()),
            ));
        }
        self.span(
            ("inference", &call.inference_call_id),
            Some(parent.to_string()),
            format!("chat {}", call.model),
            KIND_CLIENT,
            &call.execution,
            attributes,
        );
    }

    fn tool(&mut self, tool: &ToolCall, parent: &str) {
        let trace = self.graph.trace;
        let name = tool_name(tool);
        let tool_type = match tool.kind {
            ToolCallKind::Mcp { .. } => "extension",
            _ => "function",
        };
        let call_id = tool
            .model_visible_call_id
            .as_deref()
            .unwrap_or(&tool.tool_call_id);
        let mut attributes = vec![
            attribute("gen_ai.operation.name", text("execute_tool")),
            attribute("gen_ai.tool.name", text(&name)),
            attribute("gen_ai.tool.call.id", text(call_id)),
            attribute("gen_ai.tool.type", text(tool_type)),
            attribute("codex.tool_call.id", text(&tool.tool_call_id)),
        ];
        let operation = tool
            .terminal_operation_id
            .as_ref()
            .and_then(|id| trace.terminal_operations.get(id));
        if let Some(code) = operation
            .and_then(|operation| operation.result.as_ref())
            .and_then(|result| result.exit_code)
        {
            attributes.push(attribute("process.exit.code", int(i64::from(code))));
        }
        if self.options.include_content {
            if let Some(operation) = operation
                && let TerminalRequest::ExecCommand {
                    command,
                    display_command,
                    ..
                } = &operation.request
            {
                attributes.push(attribute(
                    "process.command_line",
                    text(&shown_command(command, display_command)),
                ));
            }
            let arguments = self.item_text(&tool.model_visible_call_item_ids);
            if !arguments.is_empty() {
                attributes.push(attribute("gen_ai.tool.call.arguments", text(&arguments)));
            }
            let result = self.item_text(&tool.model_visible_output_item_ids);
            if !result.is_empty() {
                attributes.push(attribute("gen_ai.tool.call.result", text(&result)));
            }
        }
        self.span(
            ("tool_call", &tool.tool_call_id),
            Some(parent.to_string()),
            format!("execute_tool {name}"),
            KIND_INTERNAL,
            &tool.execution,
            attributes,
        );
    }

    fn cell(&mut self, cell: &CodeCell, parent: &str) {
        let mut attributes = vec![
            attribute("gen_ai.operation.name", text("execute_tool")),
            attribute("gen_ai.tool.name", text("exec")),
            attribute("gen_ai.tool.call.id", text(&cell.model_visible_call_id)),
            attribute("gen_ai.tool.type", text("function")),
            attribute("codex.code_cell.id", text(&cell.code_cell_id)),
        ];
        if self.options.include_content {
            attributes.push(attribute(
                "gen_ai.tool.call.arguments",
                text(&cell.source_js),
            ));
            let result = self.item_text(&cell.output_item_ids);
            if !result.is_empty() {
                attributes.push(attribute("gen_ai.tool.call.result", text(&result)));
            }
        }
        let cell_span = self.span(
            ("code_cell", &cell.code_cell_id),
            Some(parent.to_string()),
            "execute_tool exec".to_string(),
            KIND_INTERNAL,
            &cell.execution,
            attributes,
        );
        for tool in self.graph.nested_tools(&cell.code_cell_id) {
            self.tool(tool, &cell_span);
        }
    }

    /// The plain text of some items' bodies, joined by newlines.
    fn item_text(&self, item_ids: &[String]) -> String {
        let trace = self.graph.trace;
        let mut parts = Vec::new();
        for item in item_ids
            .iter()
            .filter_map(|id| trace.conversation_items.get(id))
        {
            for part in &item.body.parts {
                match part {
                    ConversationPart::Text { text } | ConversationPart::Summary { text } => {
                        parts.push(text.clone());
                    }
                    ConversationPart::Code { source, .. } => parts.push(source.clone()),
                    ConversationPart::Json { summary, .. } => parts.push(summary.clone()),
                    ConversationPart::Encoded { .. } | ConversationPart::PayloadRef { .. } => {}
                }
            }
        }
        parts.join("\n")
    }

    /// Items as GenAI messages (`gen-ai-input-messages.json` /
    /// `gen-ai-output-messages.json`): one message per item. Output messages
    /// carry a finish reason the trace does not record: `tool_call` when the
    /// response holds a tool call, else `stop`.
    fn messages(&self, item_ids: &ItemIdList, finish: Option<&str>) -> Vec<Value> {
        let trace = self.graph.trace;
        item_ids
            .iter()
            .filter_map(|id| trace.conversation_items.get(&id))
            .map(|item| {
                let mut message = json!({
                    "role": message_role(item.role),
                    "parts": self.message_parts(item),
                });
                if let (Some(finish), Some(map)) = (finish, message.as_object_mut()) {
                    map.insert("finish_reason".into(), finish.into());
                }
                message
            })
            .collect()
    }

    fn message_parts(&self, item: &ConversationItem) -> Vec<Value> {
        let trace = self.graph.trace;
        let call_id = item.call_id.clone().unwrap_or_default();
        let name = self
            .graph
            .tool_for_call(&item.thread_id, &call_id)
            .map(tool_name)
            .or_else(|| {
                self.graph
                    .cell_for_item(&item.item_id)
                    .map(|_| "exec".into())
            })
            .unwrap_or_default();
        let mut parts = Vec::new();
        for part in &item.body.parts {
            let content = match part {
                ConversationPart::Text { text } | ConversationPart::Summary { text } => {
                    text.clone()
                }
                ConversationPart::Code { source, .. } => source.clone(),
                ConversationPart::Json { summary, .. } => summary.clone(),
                ConversationPart::Encoded { .. } => continue,
                ConversationPart::PayloadRef {
                    label,
                    raw_payload_id,
                } => {
                    let path = trace
                        .raw_payloads
                        .get(raw_payload_id)
                        .map_or(raw_payload_id.as_str(), |payload| &payload.path);
                    parts.push(json!({"type": "payload_ref", "label": label, "path": path}));
                    continue;
                }
            };
            parts.push(match item.kind {
                ConversationItemKind::FunctionCall | ConversationItemKind::CustomToolCall => {
                    let arguments =
                        serde_json::from_str::<Value>(&content).unwrap_or(Value::String(content));
                    json!({"type": "tool_call", "id": call_id, "name": name,
                        "arguments": arguments})
                }
                ConversationItemKind::FunctionCallOutput
                | ConversationItemKind::CustomToolCallOutput => {
                    json!({"type": "tool_call_response", "id": call_id, "response": content})
                }
                ConversationItemKind::Reasoning => json!({"type": "reasoning", "content": content}),
                ConversationItemKind::Message | ConversationItemKind::CompactionMarker => {
                    json!({"type": "text", "content": content})
                }
            });
        }
        parts
    }
}

fn message_role(role: ConversationRole) -> &'static str {
    match role {
        ConversationRole::System | ConversationRole::Developer => "system",
        ConversationRole::User => "user",
        ConversationRole::Assistant => "assistant",
        ConversationRole::Tool => "tool",
    }
}

/// Interaction edges as links: on the span where the edge arrives, pointing
/// at the span it leaves from.
fn add_links(graph: &Graph<'_>, ids: &Ids, spans: &mut [Span]) {
    let trace = graph.trace;
    let index: BTreeMap<(&str, String), usize> = spans
        .iter()
        .enumerate()
        .map(|(position, span)| ((span.key.0, span.key.1.clone()), position))
        .collect();
    let span_of = |anchor, source| -> Option<(&'static str, String)> {
        Some(match graph.attach(anchor, source)? {
            Attach::ToolCall(id) => ("tool_call", id.to_string()),
            Attach::Inference(id) => ("inference", id.to_string()),
            Attach::Turn(id) => ("turn", id.to_string()),
            Attach::Thread(id) => ("thread", id.to_string()),
        })
    };
    for edge in trace.interaction_edges.values() {
        let (Some(from), Some(to)) = (span_of(&edge.source, true), span_of(&edge.target, false))
        else {
            continue;
        };
        let (Some(_), Some(&target)) = (index.get(&from), index.get(&to)) else {
            continue;
        };
        let link = json!({
            "traceId": ids.trace_id,
            "spanId": ids.span(from.0, &from.1),
            "attributes": [
                attribute("codex.edge.kind", text(edge.kind.as_str())),
                attribute("codex.edge.id", text(&edge.edge_id)),
            ],
        });
        if let Some(span) = spans.get_mut(target) {
            span.links.push(link);
        }
    }
}
