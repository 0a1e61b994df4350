//! Lookups every view needs and the reduced model keeps only implicitly:
//! threads in display order, the turns of a thread, what happened in a turn
//! in time order, tool calls by model-visible call id, items by the call that
//! first read them.
//!
//! Invariants:
//! - Every order here is total and derived from the trace alone: wall time,
//!   then event `seq`, then a kind rank, then id. Two reductions of the same
//!   bundle give the same views.
//! - Every object of the trace that a view lists is reachable from a thread:
//!   an inference call, code cell or compaction through its turn, a tool call
//!   through its turn, its code cell or (when neither is known) its thread.

use std::collections::BTreeMap;

use crate::model::AgentOrigin;
use crate::model::AgentThread;
use crate::model::CodeCell;
use crate::model::CodexTurn;
use crate::model::Compaction;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::InferenceCall;
use crate::model::ProducerRef;
use crate::model::RolloutTrace;
use crate::model::TerminalRequest;
use crate::model::ToolCall;
use crate::model::ToolCallKind;
use crate::model::ToolCallRequester;
use crate::model::ToolCallSummary;
use crate::model::TraceAnchor;
use crate::model::item_number;

/// Something that happened inside a turn (or, for a tool call with no known
/// turn, inside a thread).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Entry<'a> {
    Inference(&'a InferenceCall),
    Cell(&'a CodeCell),
    Tool(&'a ToolCall),
    Compaction(&'a Compaction),
}

impl<'a> Entry<'a> {
    /// Sort key: wall time, seq, kind rank, id.
    fn key(&self, graph: &Graph<'a>) -> (i64, u64, u8, &'a str) {
        match *self {
            Entry::Inference(call) => (
                call.execution.started_at_unix_ms,
                call.execution.started_seq,
                0,
                &call.inference_call_id,
            ),
            Entry::Cell(cell) => (
                cell.execution.started_at_unix_ms,
                cell.execution.started_seq,
                1,
                &cell.code_cell_id,
            ),
            Entry::Tool(tool) => (
                tool.execution.started_at_unix_ms,
                tool.execution.started_seq,
                2,
                &tool.tool_call_id,
            ),
            Entry::Compaction(compaction) => {
                let (at, seq) = graph
                    .compaction_window(compaction)
                    .map(|window| (window.started_at_unix_ms, window.started_seq))
                    .unwrap_or((compaction.installed_at_unix_ms, u64::MAX));
                (at, seq, 3, &compaction.compaction_id)
            }
        }
    }
}

/// The object an interaction edge end is shown at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Attach<'a> {
    ToolCall(&'a str),
    Inference(&'a str),
    Turn(&'a str),
    Thread(&'a str),
}

/// The lookups of one trace.
pub(crate) struct Graph<'a> {
    pub(crate) trace: &'a RolloutTrace,
    /// The root first, then by start (time, seq), then id.
    pub(crate) threads: Vec<&'a AgentThread>,
    turns: BTreeMap<&'a str, Vec<&'a CodexTurn>>,
    entries: BTreeMap<&'a str, Vec<Entry<'a>>>,
    loose: BTreeMap<&'a str, Vec<Entry<'a>>>,
    nested: BTreeMap<&'a str, Vec<&'a ToolCall>>,
    tools_by_call: BTreeMap<(&'a str, &'a str), &'a ToolCall>,
    cells_by_item: BTreeMap<&'a str, &'a CodeCell>,
    /// By item number (`conversation_item:<n>`).
    first_request: BTreeMap<u32, &'a InferenceCall>,
    /// By item number.
    compaction_items: BTreeMap<u32, &'a str>,
    /// The latest wall time the trace mentions: where open windows are drawn to.
    pub(crate) end_unix_ms: i64,
}

impl<'a> Graph<'a> {
    pub(crate) fn new(trace: &'a RolloutTrace) -> Graph<'a> {
        let mut threads: Vec<&AgentThread> = trace.threads.values().collect();
        threads.sort_by_key(|thread| {
            (
                thread.thread_id != trace.root_thread_id,
                thread.execution.started_at_unix_ms,
                thread.execution.started_seq,
                thread.thread_id.as_str(),
            )
        });

        let mut turns: BTreeMap<&str, Vec<&CodexTurn>> = BTreeMap::new();
        for turn in trace.codex_turns.values() {
            turns.entry(&turn.thread_id).or_default().push(turn);
        }
        for list in turns.values_mut() {
            list.sort_by_key(|turn| {
                (
                    turn.execution.started_at_unix_ms,
                    turn.execution.started_seq,
                    turn.codex_turn_id.as_str(),
                )
            });
        }

        let mut graph = Graph {
            trace,
            threads,
            turns,
            entries: BTreeMap::new(),
            loose: BTreeMap::new(),
            nested: BTreeMap::new(),
            tools_by_call: BTreeMap::new(),
            cells_by_item: BTreeMap::new(),
            first_request: BTreeMap::new(),
            compaction_items: BTreeMap::new(),
            end_unix_ms: trace_end(trace),
        };

        let mut entries: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
        let mut loose: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
        let mut place =
            |turn_id: Option<&'a str>, thread_id: &'a str, entry: Entry<'a>| match turn_id
                .filter(|turn_id| trace.codex_turns.contains_key(*turn_id))
            {
                Some(turn_id) => entries.entry(turn_id).or_default().push(entry),
                None => loose.entry(thread_id).or_default().push(entry),
            };
        for call in trace.inference_calls.values() {
            place(
                Some(&call.codex_turn_id),
                &call.thread_id,
                Entry::Inference(call),
            );
        }
        for cell in trace.code_cells.values() {
            place(
                Some(&cell.codex_turn_id),
                &cell.thread_id,
                Entry::Cell(cell),
            );
            for item_id in cell.output_item_ids.iter().chain([&cell.source_item_id]) {
                graph.cells_by_item.entry(item_id).or_insert(cell);
            }
        }
        for compaction in trace.compactions.values() {
            place(
                Some(&compaction.codex_turn_id),
                &compaction.thread_id,
                Entry::Compaction(compaction),
            );
            let marker = item_number(&compaction.marker_item_id);
            for &number in compaction
                .replacement_item_ids
                .numbers()
                .iter()
                .chain(marker.as_ref())
            {
                graph
                    .compaction_items
                    .entry(number)
                    .or_insert(&compaction.compaction_id);
            }
        }
        for tool in trace.tool_calls.values() {
            if let Some(call_id) = &tool.model_visible_call_id {
                graph
                    .tools_by_call
                    .entry((&tool.thread_id, call_id))
                    .or_insert(tool);
            }
            if let ToolCallRequester::CodeCell { code_cell_id } = &tool.requester
                && trace.code_cells.contains_key(code_cell_id)
            {
                graph.nested.entry(code_cell_id).or_default().push(tool);
                continue;
            }
            place(
                tool.started_by_codex_turn_id.as_deref(),
                &tool.thread_id,
                Entry::Tool(tool),
            );
        }
        for list in entries.values_mut().chain(loose.values_mut()) {
            list.sort_by_key(|entry| entry.key(&graph));
        }
        graph.entries = entries;
        graph.loose = loose;
        for list in graph.nested.values_mut() {
            list.sort_by_key(|tool| {
                (
                    tool.execution.started_at_unix_ms,
                    tool.execution.started_seq,
                    tool.tool_call_id.as_str(),
                )
            });
        }

        let mut calls: Vec<&InferenceCall> = trace.inference_calls.values().collect();
        calls.sort_by_key(|call| (call.execution.started_seq, call.inference_call_id.as_str()));
        for call in calls {
            for &number in call.request_item_ids.numbers() {
                graph.first_request.entry(number).or_insert(call);
            }
        }

        graph
    }

    pub(crate) fn turns(&self, thread_id: &str) -> &[&'a CodexTurn] {
        self.turns.get(thread_id).map_or(&[], Vec::as_slice)
    }

    /// What happened in a turn, in time order; tools requested by a code cell
    /// are under the cell instead ([`Graph::nested_tools`]).
    pub(crate) fn entries(&self, turn_id: &str) -> &[Entry<'a>] {
        self.entries.get(turn_id).map_or(&[], Vec::as_slice)
    }

    /// Inference calls, code cells, compactions and tool calls of a thread
    /// whose turn is unknown.
    pub(crate) fn loose_entries(&self, thread_id: &str) -> &[Entry<'a>] {
        self.loose.get(thread_id).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn nested_tools(&self, code_cell_id: &str) -> &[&'a ToolCall] {
        self.nested.get(code_cell_id).map_or(&[], Vec::as_slice)
    }

    /// The tool call a model-visible call id of a thread started.
    pub(crate) fn tool_for_call(&self, thread_id: &str, call_id: &str) -> Option<&'a ToolCall> {
        self.tools_by_call.get(&(thread_id, call_id)).copied()
    }

    /// The code cell whose `exec` call or output is this item.
    pub(crate) fn cell_for_item(&self, item_id: &str) -> Option<&'a CodeCell> {
        self.cells_by_item.get(item_id).copied()
    }

    /// The earliest inference call whose request contained the item.
    pub(crate) fn first_request(&self, item_id: &str) -> Option<&'a InferenceCall> {
        self.first_request.get(&item_number(item_id)?).copied()
    }

    /// The compaction that installed an item (its marker or a replacement).
    pub(crate) fn compaction_of_item(&self, item_id: &str) -> Option<&'a str> {
        self.compaction_items.get(&item_number(item_id)?).copied()
    }

    /// Where an edge end is shown: its tool call or thread, or for an item
    /// the inference call that produced it (`source`) or first read it
    /// (target), else the item's turn, else its thread. Only objects the
    /// trace has.
    pub(crate) fn attach(&self, anchor: &'a TraceAnchor, source: bool) -> Option<Attach<'a>> {
        let trace = self.trace;
        match anchor {
            TraceAnchor::ToolCall { tool_call_id } => trace
                .tool_calls
                .contains_key(tool_call_id)
                .then_some(Attach::ToolCall(tool_call_id)),
            TraceAnchor::Thread { thread_id } => trace
                .threads
                .contains_key(thread_id)
                .then_some(Attach::Thread(thread_id)),
            TraceAnchor::ConversationItem { item_id } => {
                let item = trace.conversation_items.get(item_id)?;
                let call = if source {
                    item.produced_by.iter().find_map(|producer| match producer {
                        ProducerRef::Inference { inference_call_id } => {
                            trace.inference_calls.get(inference_call_id)
                        }
                        _ => None,
                    })
                } else {
                    self.first_request(item_id)
                };
                if let Some(call) = call {
                    return Some(Attach::Inference(&call.inference_call_id));
                }
                if let Some(turn) = item
                    .codex_turn_id
                    .as_ref()
                    .and_then(|turn_id| trace.codex_turns.get(turn_id))
                {
                    return Some(Attach::Turn(&turn.codex_turn_id));
                }
                let thread = trace.threads.get(&item.thread_id)?;
                Some(Attach::Thread(&thread.thread_id))
            }
        }
    }

    /// The thread an anchor belongs to.
    pub(crate) fn anchor_thread(&self, anchor: &TraceAnchor) -> Option<&'a AgentThread> {
        let thread_id = match anchor {
            TraceAnchor::ConversationItem { item_id } => {
                &self.trace.conversation_items.get(item_id)?.thread_id
            }
            TraceAnchor::ToolCall { tool_call_id } => {
                &self.trace.tool_calls.get(tool_call_id)?.thread_id
            }
            TraceAnchor::Thread { thread_id } => thread_id,
        };
        self.trace.threads.get(thread_id)
    }

    /// How an anchor's thread is named: its agent path, or the thread id
    /// when the thread is unknown.
    pub(crate) fn anchor_agent(&self, anchor: &TraceAnchor) -> String {
        if let Some(thread) = self.anchor_thread(anchor) {
            return thread.agent_path.clone();
        }
        match anchor {
            TraceAnchor::ConversationItem { item_id } => item_id.clone(),
            TraceAnchor::ToolCall { tool_call_id } => tool_call_id.clone(),
            TraceAnchor::Thread { thread_id } => thread_id.clone(),
        }
    }

    /// The window of a compaction: from its first request's start to the
    /// install when it has requests.
    pub(crate) fn compaction_window(&self, compaction: &Compaction) -> Option<ExecutionWindow> {
        let first = compaction
            .request_ids
            .iter()
            .filter_map(|id| self.trace.compaction_requests.get(id))
            .min_by_key(|request| {
                (
                    request.execution.started_at_unix_ms,
                    request.execution.started_seq,
                )
            })?;
        let status = compaction
            .request_ids
            .iter()
            .filter_map(|id| self.trace.compaction_requests.get(id))
            .map(|request| request.execution.status)
            .find(|status| *status != ExecutionStatus::Completed)
            .unwrap_or(ExecutionStatus::Completed);
        Some(ExecutionWindow {
            started_at_unix_ms: first.execution.started_at_unix_ms,
            started_seq: first.execution.started_seq,
            ended_at_unix_ms: Some(compaction.installed_at_unix_ms),
            ended_seq: None,
            status,
        })
    }

    /// A thread's name for people: `/root/worker "Ada"`.
    pub(crate) fn thread_label(thread: &AgentThread) -> String {
        match &thread.nickname {
            Some(nickname) => format!("{} \"{}\"", thread.agent_path, nickname),
            None => thread.agent_path.clone(),
        }
    }

    /// The parent thread and spawn edge of a spawned thread.
    pub(crate) fn spawned_by(thread: &AgentThread) -> Option<(&str, &str)> {
        match &thread.origin {
            AgentOrigin::Root => None,
            AgentOrigin::Spawned {
                parent_thread_id,
                spawn_edge_id,
                ..
            } => Some((parent_thread_id, spawn_edge_id)),
        }
    }
}

/// The latest wall time mentioned anywhere in the trace.
fn trace_end(trace: &RolloutTrace) -> i64 {
    fn window(window: &ExecutionWindow) -> i64 {
        window
            .ended_at_unix_ms
            .unwrap_or(window.started_at_unix_ms)
            .max(window.started_at_unix_ms)
    }
    let windows = trace
        .threads
        .values()
        .map(|thread| window(&thread.execution))
        .chain(trace.codex_turns.values().map(|t| window(&t.execution)))
        .chain(trace.inference_calls.values().map(|c| window(&c.execution)))
        .chain(trace.code_cells.values().map(|c| window(&c.execution)))
        .chain(trace.tool_calls.values().map(|t| window(&t.execution)))
        .chain(
            trace
                .terminal_operations
                .values()
                .map(|o| window(&o.execution)),
        )
        .chain(
            trace
                .compaction_requests
                .values()
                .map(|r| window(&r.execution)),
        );
    let points = trace
        .conversation_items
        .values()
        .map(|item| item.first_seen_at_unix_ms)
        .chain(trace.compactions.values().map(|c| c.installed_at_unix_ms))
        .chain(trace.interaction_edges.values().map(|edge| {
            edge.ended_at_unix_ms
                .unwrap_or(edge.started_at_unix_ms)
                .max(edge.started_at_unix_ms)
        }));
    windows
        .chain(points)
        .chain(trace.ended_at_unix_ms)
        .chain([trace.started_at_unix_ms])
        .max()
        .unwrap_or(trace.started_at_unix_ms)
}

/// The duration of a closed window.
pub(crate) fn window_ms(window: &ExecutionWindow) -> Option<i64> {
    window
        .ended_at_unix_ms
        .map(|ended| ended.saturating_sub(window.started_at_unix_ms))
}

/// The name a person knows a tool call by: the model-visible name when the
/// producer gave one, else the kind.
pub(crate) fn tool_name(tool: &ToolCall) -> String {
    match &tool.kind {
        ToolCallKind::Mcp { server, tool } => return format!("{server}.{tool}"),
        ToolCallKind::Other { name } => return name.clone(),
        _ => {}
    }
    if let ToolCallSummary::Generic { label, .. } = &tool.summary
        && !label.is_empty()
    {
        return label.clone();
    }
    tool.kind.as_str().to_string()
}

/// The exit code of the terminal command a tool call ran.
pub(crate) fn terminal_exit(trace: &RolloutTrace, tool: &ToolCall) -> Option<i32> {
    let operation_id = tool.terminal_operation_id.as_ref()?;
    let operation = trace.terminal_operations.get(operation_id)?;
    operation.result.as_ref()?.exit_code
}

/// The command, the agent, or the producer's input preview of a tool call.
pub(crate) fn tool_detail(trace: &RolloutTrace, tool: &ToolCall) -> String {
    let operation = tool
        .terminal_operation_id
        .as_ref()
        .and_then(|id| trace.terminal_operations.get(id));
    if let Some(operation) = operation {
        return match &operation.request {
            TerminalRequest::ExecCommand {
                command,
                display_command,
                ..
            } => shown_command(command, display_command),
            TerminalRequest::WriteStdin { stdin, .. } => {
                format!("stdin {}", serde_json::to_string(stdin).unwrap_or_default())
            }
        };
    }
    match &tool.summary {
        ToolCallSummary::Terminal { .. } => String::new(),
        ToolCallSummary::Agent {
            target_agent_path,
            message_preview,
            ..
        } => format!("{target_agent_path}: {message_preview}"),
        ToolCallSummary::WaitAgent {
            target_agent_path, ..
        } => target_agent_path.clone().unwrap_or_default(),
        ToolCallSummary::Generic { input_preview, .. } => input_preview.clone().unwrap_or_default(),
    }
}

/// The command a person typed, without the `bash -lc` wrapper.
pub(crate) fn shown_command(command: &[String], display_command: &str) -> String {
    if let [shell, flag, script] = command
        && (shell.ends_with("sh") && (flag == "-lc" || flag == "-c"))
    {
        return script.clone();
    }
    display_command.to_string()
}
