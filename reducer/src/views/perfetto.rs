//! `perfetto`: the rollout as Chrome trace-event JSON, which Perfetto UI
//! (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! Layout: one process per agent thread (named by agent path, root first);
//! within it, complete slices (`ph: "X"`) for the thread, its turns,
//! inference calls, code cells, tool calls, terminal operations and
//! compaction requests; flow arrows (`ph: "s"` / `"f"`) for interaction
//! edges and from each code cell to the tools it ran.
//!
//! Invariants:
//! - Timestamps are the trace's wall times: `ts` and `dur` in microseconds
//!   (milliseconds × 1000), never a clock of ours.
//! - Slices on one track (`tid`) nest properly: two slices of a track are
//!   either disjoint or one contains the other. A slice that would overlap
//!   another partially (concurrent tool calls) goes to the next track of its
//!   process; tracks are named by metadata events (`ph: "M"`).
//! - A window that never ended is drawn up to the latest time the trace
//!   mentions, with `"open": true` in its args.
//! - Every flow has exactly one `s` and one `f` event with the same `id`,
//!   each at a time inside the slice it binds to (`bp: "e"` on `f`), so the
//!   arrow attaches to that slice.
//! - Event order is deterministic: metadata, then slices by process and
//!   start, then flows in edge-id order, then code-cell flows.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::json;

use super::graph::Attach;
use super::graph::Graph;
use super::graph::shown_command;
use super::graph::tool_name;
use super::text::cut;
use super::text::one_line;
use crate::model::ExecutionWindow;
use crate::model::RolloutTrace;
use crate::model::TerminalRequest;
use crate::model::ToolCallRequester;
use crate::model::TraceAnchor;

/// Longest command shown as a terminal slice's name.
const COMMAND_CHARS: usize = 60;

/// One slice before it is placed on a track.
struct Slice<'a> {
    /// `(category, id)`: what flows point at.
    key: (&'static str, &'a str),
    name: String,
    start_us: i64,
    end_us: i64,
    /// Which of two slices with the same start and end is the parent.
    rank: u8,
    /// The slice whose track this one prefers (a code cell for the tools it
    /// ran, a tool call for its terminal operation).
    parent: Option<(&'static str, &'a str)>,
    args: Value,
}

/// Where a slice was placed.
#[derive(Clone, Copy)]
struct Placed {
    pid: usize,
    tid: usize,
    start_us: i64,
    end_us: i64,
}

/// The trace-event document: `{"displayTimeUnit", "otherData", "traceEvents"}`.
pub(crate) fn document(trace: &RolloutTrace) -> Value {
    let (other, events) = build(trace);
    json!({
        "displayTimeUnit": "ms",
        "otherData": other,
        "traceEvents": events,
    })
}

/// The document as text, one event per line.
pub(crate) fn render(trace: &RolloutTrace) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and JSON is UTF-8.
    let _ = write(trace, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes of [`render`], one event per line as it is serialized.
pub(crate) fn write(trace: &RolloutTrace, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (other, events) = build(trace);
    out.write_all(b"{\"displayTimeUnit\":\"ms\",\"otherData\":")?;
    serde_json::to_writer(&mut *out, &other)?;
    out.write_all(b",\"traceEvents\":[\n")?;
    for (index, event) in events.iter().enumerate() {
        if index > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, event)?;
    }
    out.write_all(b"\n]}\n")
}

fn build(trace: &RolloutTrace) -> (Value, Vec<Value>) {
    let graph = Graph::new(trace);
    let other = json!({
        "rollout_id": trace.rollout_id,
        "trace_id": trace.trace_id,
        "status": trace.status.as_str(),
        "source": "rollout-trace state.json",
    });

    // Processes: threads in display order, then threads only referenced.
    let mut pids: BTreeMap<&str, usize> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    for thread in &graph.threads {
        names.push(Graph::thread_label(thread));
        pids.insert(&thread.thread_id, names.len());
    }
    let slices = slices(&graph);
    for thread_id in slices.keys() {
        if !pids.contains_key(thread_id) {
            names.push(format!("thread {thread_id}"));
            pids.insert(thread_id, names.len());
        }
    }

    let mut metadata = Vec::new();
    let mut events = Vec::new();
    let mut placed: BTreeMap<(&str, &str), Placed> = BTreeMap::new();
    let mut by_pid: Vec<(usize, &str)> = pids.iter().map(|(id, pid)| (*pid, *id)).collect();
    by_pid.sort();
    for (pid, thread_id) in by_pid {
        metadata.push(
            json!({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
            "args": {"name": names[pid - 1]}}),
        );
        metadata.push(
            json!({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
            "args": {"sort_index": pid}}),
        );
        let Some(thread_slices) = slices.get(thread_id) else {
            continue;
        };
        let mut order: Vec<&Slice> = thread_slices.iter().collect();
        order.sort_by(|a, b| {
            (a.start_us, b.end_us, a.rank, a.key).cmp(&(b.start_us, a.end_us, b.rank, b.key))
        });
        // Each track is a stack of the ends of the slices open at this start.
        let mut tracks: Vec<Vec<i64>> = Vec::new();
        for slice in order {
            let preferred = slice
                .parent
                .and_then(|parent| placed.get(&parent))
                .filter(|parent| parent.pid == pid)
                .map(|parent| parent.tid - 1);
            let mut fitting = Vec::new();
            for (index, stack) in tracks.iter_mut().enumerate() {
                while stack.last().is_some_and(|end| *end <= slice.start_us) {
                    stack.pop();
                }
                if stack.last().is_none_or(|end| *end >= slice.end_us) {
                    fitting.push(index);
                }
            }
            let chosen = preferred
                .filter(|index| fitting.contains(index))
                .or(fitting.first().copied());
            let index = chosen.unwrap_or_else(|| {
                tracks.push(Vec::new());
                tracks.len() - 1
            });
            if let Some(stack) = tracks.get_mut(index) {
                stack.push(slice.end_us);
            }
            let tid = index + 1;
            events.push(json!({
                "name": slice.name,
                "cat": slice.key.0,
                "ph": "X",
                "ts": slice.start_us,
                "dur": slice.end_us.saturating_sub(slice.start_us),
                "pid": pid,
                "tid": tid,
                "args": slice.args,
            }));
            placed.insert(
                slice.key,
                Placed {
                    pid,
                    tid,
                    start_us: slice.start_us,
                    end_us: slice.end_us,
                },
            );
        }
        for tid in 1..=tracks.len() {
            let name = if tid == 1 {
                "main".to_string()
            } else {
                format!("concurrent {}", tid - 1)
            };
            metadata.push(
                json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                "args": {"name": name}}),
            );
            metadata.push(
                json!({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                "args": {"sort_index": tid}}),
            );
        }
    }

    let mut next_id = 0u64;
    let mut flow = |name: &str, cat: &str, from: (Placed, i64), to: (Placed, i64)| {
        next_id += 1;
        [
            json!({"name": name, "cat": cat, "ph": "s", "id": next_id,
                "pid": from.0.pid, "tid": from.0.tid, "ts": from.1}),
            json!({"name": name, "cat": cat, "ph": "f", "bp": "e", "id": next_id,
                "pid": to.0.pid, "tid": to.0.tid, "ts": to.1}),
        ]
    };
    let mut flows = Vec::new();
    for edge in trace.interaction_edges.values() {
        let at = edge
            .ended_at_unix_ms
            .unwrap_or(edge.started_at_unix_ms)
            .saturating_mul(1_000);
        let (Some(from), Some(to)) = (
            endpoint(&graph, &placed, &edge.source, true, at),
            endpoint(&graph, &placed, &edge.target, false, at),
        ) else {
            continue;
        };
        flows.extend(flow(edge.kind.as_str(), "edge", from, to));
    }
    for tool in trace.tool_calls.values() {
        let ToolCallRequester::CodeCell { code_cell_id } = &tool.requester else {
            continue;
        };
        let (Some(cell), Some(nested)) = (
            placed.get(&("code_cell", code_cell_id.as_str())),
            placed.get(&("tool", tool.tool_call_id.as_str())),
        ) else {
            continue;
        };
        flows.extend(flow(
            "nested tool",
            "code_cell",
            (*cell, cell.start_us),
            (*nested, nested.start_us),
        ));
    }
    metadata.extend(events);
    metadata.extend(flows);
    (other, metadata)
}

/// The slice an edge end attaches to ([`Graph::attach`]) and a time inside
/// it: its start, or for a thread the edge's time clamped into the thread.
fn endpoint<'a>(
    graph: &Graph<'a>,
    placed: &BTreeMap<(&str, &str), Placed>,
    anchor: &'a TraceAnchor,
    source: bool,
    at_us: i64,
) -> Option<(Placed, i64)> {
    let (key, id) = match graph.attach(anchor, source)? {
        Attach::ToolCall(id) => ("tool", id),
        Attach::Inference(id) => ("inference", id),
        Attach::Turn(id) => ("turn", id),
        Attach::Thread(id) => {
            let slice = placed.get(&("thread", id))?;
            return Some((*slice, at_us.clamp(slice.start_us, slice.end_us)));
        }
    };
    placed.get(&(key, id)).map(|slice| (*slice, slice.start_us))
}

/// Every slice of the trace, by thread id.
fn slices<'a>(graph: &Graph<'a>) -> BTreeMap<&'a str, Vec<Slice<'a>>> {
    let trace = graph.trace;
    let end = graph.end_unix_ms;
    let mut slices: BTreeMap<&str, Vec<Slice>> = BTreeMap::new();
    let mut add = |thread_id: &'a str, slice: Slice<'a>| {
        slices.entry(thread_id).or_default().push(slice);
    };

    for thread in trace.threads.values() {
        let (start_us, end_us, open) = span(&thread.execution, end);
        add(
            &thread.thread_id,
            Slice {
                key: ("thread", &thread.thread_id),
                name: Graph::thread_label(thread),
                start_us,
                end_us,
                rank: 0,
                parent: None,
                args: with_open(
                    json!({
                        "thread_id": thread.thread_id,
                        "agent_path": thread.agent_path,
                        "nickname": thread.nickname,
                        "model": thread.default_model,
                        "status": thread.execution.status.as_str(),
                    }),
                    open,
                ),
            },
        );
    }
    for thread in &graph.threads {
        for (index, turn) in graph.turns(&thread.thread_id).iter().enumerate() {
            let (start_us, end_us, open) = span(&turn.execution, end);
            add(
                &turn.thread_id,
                Slice {
                    key: ("turn", &turn.codex_turn_id),
                    name: format!("turn {}", index + 1),
                    start_us,
                    end_us,
                    rank: 1,
                    parent: None,
                    args: with_open(
                        json!({
                            "codex_turn_id": turn.codex_turn_id,
                            "status": turn.execution.status.as_str(),
                        }),
                        open,
                    ),
                },
            );
        }
    }
    for turn in trace.codex_turns.values() {
        // Turns of threads missing from the trace have no number.
        if trace.threads.contains_key(&turn.thread_id) {
            continue;
        }
        let (start_us, end_us, open) = span(&turn.execution, end);
        add(
            &turn.thread_id,
            Slice {
                key: ("turn", &turn.codex_turn_id),
                name: "turn".to_string(),
                start_us,
                end_us,
                rank: 1,
                parent: None,
                args: with_open(
                    json!({"codex_turn_id": turn.codex_turn_id,
                        "status": turn.execution.status.as_str()}),
                    open,
                ),
            },
        );
    }
    for cell in trace.code_cells.values() {
        let (start_us, end_us, open) = span(&cell.execution, end);
        let name = match &cell.runtime_cell_id {
            Some(id) => format!("exec cell {}", one_line(id)),
            None => "exec cell".to_string(),
        };
        add(
            &cell.thread_id,
            Slice {
                key: ("code_cell", &cell.code_cell_id),
                name,
                start_us,
                end_us,
                rank: 2,
                parent: None,
                args: with_open(
                    json!({
                        "code_cell_id": cell.code_cell_id,
                        "status": cell.execution.status.as_str(),
                        "runtime_status": cell.runtime_status,
                        "nested_tool_calls": cell.nested_tool_call_ids.len(),
                        "yielded_at_unix_ms": cell.yielded_at_unix_ms,
                    }),
                    open,
                ),
            },
        );
    }
    for call in trace.inference_calls.values() {
        let (start_us, end_us, open) = span(&call.execution, end);
        let mut args = json!({
            "inference_call_id": call.inference_call_id,
            "status": call.execution.status.as_str(),
            "model": call.model,
            "provider": call.provider_name,
            "response_id": call.response_id,
            "request_items": call.request_item_ids.len(),
            "response_items": call.response_item_ids.len(),
        });
        if let (Some(usage), Some(map)) = (call.usage, args.as_object_mut()) {
            map.insert("input_tokens".into(), usage.input_tokens.into());
            map.insert(
                "cached_input_tokens".into(),
                usage.cached_input_tokens.into(),
            );
            map.insert("output_tokens".into(), usage.output_tokens.into());
            map.insert(
                "reasoning_output_tokens".into(),
                usage.reasoning_output_tokens.into(),
            );
        }
        add(
            &call.thread_id,
            Slice {
                key: ("inference", &call.inference_call_id),
                name: format!("inference {}", call.model),
                start_us,
                end_us,
                rank: 3,
                parent: None,
                args: with_open(args, open),
            },
        );
    }
    for request in trace.compaction_requests.values() {
        let (start_us, end_us, open) = span(&request.execution, end);
        add(
            &request.thread_id,
            Slice {
                key: ("compaction", &request.compaction_request_id),
                name: format!("compaction {}", request.model),
                start_us,
                end_us,
                rank: 3,
                parent: None,
                args: with_open(
                    json!({
                        "compaction_request_id": request.compaction_request_id,
                        "compaction_id": request.compaction_id,
                        "status": request.execution.status.as_str(),
                        "model": request.model,
                    }),
                    open,
                ),
            },
        );
    }
    for tool in trace.tool_calls.values() {
        let (start_us, end_us, open) = span(&tool.execution, end);
        let (requester, parent) = match &tool.requester {
            ToolCallRequester::Model => ("model", None),
            ToolCallRequester::CodeCell { code_cell_id } => (
                code_cell_id.as_str(),
                Some(("code_cell", code_cell_id.as_str())),
            ),
        };
        add(
            &tool.thread_id,
            Slice {
                key: ("tool", &tool.tool_call_id),
                name: tool_name(tool),
                start_us,
                end_us,
                rank: 4,
                parent,
                args: with_open(
                    json!({
                        "tool_call_id": tool.tool_call_id,
                        "status": tool.execution.status.as_str(),
                        "kind": tool.kind,
                        "call_id": tool.model_visible_call_id,
                        "requester": requester,
                    }),
                    open,
                ),
            },
        );
    }
    for operation in trace.terminal_operations.values() {
        let thread_id = trace
            .tool_calls
            .get(&operation.tool_call_id)
            .map(|tool| tool.thread_id.as_str())
            .or_else(|| {
                let terminal = operation.terminal_id.as_ref()?;
                trace
                    .terminal_sessions
                    .get(terminal)
                    .map(|session| session.thread_id.as_str())
            });
        let Some(thread_id) = thread_id else {
            continue;
        };
        let (start_us, end_us, open) = span(&operation.execution, end);
        let command = match &operation.request {
            TerminalRequest::ExecCommand {
                command,
                display_command,
                ..
            } => format!("$ {}", shown_command(command, display_command)),
            TerminalRequest::WriteStdin { stdin, .. } => {
                format!("stdin {}", serde_json::to_string(stdin).unwrap_or_default())
            }
        };
        let exit_code = operation
            .result
            .as_ref()
            .and_then(|result| result.exit_code);
        add(
            thread_id,
            Slice {
                key: ("terminal", &operation.operation_id),
                name: cut(&one_line(&command), COMMAND_CHARS),
                start_us,
                end_us,
                rank: 5,
                parent: Some(("tool", operation.tool_call_id.as_str())),
                args: with_open(
                    json!({
                        "operation_id": operation.operation_id,
                        "terminal_id": operation.terminal_id,
                        "status": operation.execution.status.as_str(),
                        "command": command,
                        "exit_code": exit_code,
                    }),
                    open,
                ),
            },
        );
    }
    slices
}

/// Start and end in microseconds; an open window ends at `end_ms`.
fn span(window: &ExecutionWindow, end_ms: i64) -> (i64, i64, bool) {
    let start = window.started_at_unix_ms.saturating_mul(1_000);
    let (end, open) = match window.ended_at_unix_ms {
        Some(ended) => (ended, false),
        None => (end_ms, true),
    };
    (start, end.saturating_mul(1_000).max(start), open)
}

fn with_open(mut args: Value, open: bool) -> Value {
    if let (true, Some(map)) = (open, args.as_object_mut()) {
        map.insert("open".into(), Value::Bool(true));
    }
    args
}
