//! The trace as `explorer.js` reads it: the members of `state.json`
//! (`reduced-model.md`) with one change and one addition, written as script
//! JSON.
//!
//! - Each inference call has `request_items` instead of `request_item_ids`:
//!   `{"base": <id or null>, "keep": k, "then": [...]}` is the first `k` ids
//!   of the request of `base` (the thread's previous call, in start order),
//!   then `then`. A full-snapshot request repeats the whole history, so the
//!   plain lists grow with the square of the turns (7 of the 15 MB of a
//!   200-turn `state.json`); this form grows with the turns.
//! - `tool_names`: each tool call's name as the other views show it.

use std::collections::BTreeMap;
use std::io;
use std::io::Write;

use serde::Serialize;
use serde::ser::SerializeMap;

use super::super::graph::tool_name;
use super::markup::write_script_json;
use crate::model::AgentThread;
use crate::model::CodeCell;
use crate::model::CodexTurn;
use crate::model::Compaction;
use crate::model::CompactionRequest;
use crate::model::ConversationItem;
use crate::model::ExecutionWindow;
use crate::model::InferenceCall;
use crate::model::InteractionEdge;
use crate::model::RawPayloadRef;
use crate::model::RolloutStatus;
use crate::model::RolloutTrace;
use crate::model::TerminalOperation;
use crate::model::TerminalSession;
use crate::model::TokenUsage;
use crate::model::ToolCall;

/// Writes the page data of `trace`.
pub(super) fn write(out: &mut dyn Write, trace: &RolloutTrace) -> io::Result<()> {
    let data = Data {
        schema_version: trace.schema_version,
        trace_id: &trace.trace_id,
        rollout_id: &trace.rollout_id,
        started_at_unix_ms: trace.started_at_unix_ms,
        ended_at_unix_ms: trace.ended_at_unix_ms,
        status: trace.status,
        root_thread_id: &trace.root_thread_id,
        threads: &trace.threads,
        codex_turns: &trace.codex_turns,
        conversation_items: &trace.conversation_items,
        inference_calls: Calls::new(trace),
        code_cells: &trace.code_cells,
        tool_calls: &trace.tool_calls,
        terminal_sessions: &trace.terminal_sessions,
        terminal_operations: &trace.terminal_operations,
        compactions: &trace.compactions,
        compaction_requests: &trace.compaction_requests,
        interaction_edges: &trace.interaction_edges,
        raw_payloads: &trace.raw_payloads,
        tool_names: trace
            .tool_calls
            .values()
            .map(|tool| (tool.tool_call_id.as_str(), tool_name(tool)))
            .collect(),
    };
    write_script_json(out, &data)
}

#[derive(Serialize)]
struct Data<'a> {
    schema_version: u32,
    trace_id: &'a str,
    rollout_id: &'a str,
    started_at_unix_ms: i64,
    ended_at_unix_ms: Option<i64>,
    status: RolloutStatus,
    root_thread_id: &'a str,
    threads: &'a BTreeMap<String, AgentThread>,
    codex_turns: &'a BTreeMap<String, CodexTurn>,
    conversation_items: &'a BTreeMap<String, ConversationItem>,
    inference_calls: Calls<'a>,
    code_cells: &'a BTreeMap<String, CodeCell>,
    tool_calls: &'a BTreeMap<String, ToolCall>,
    terminal_sessions: &'a BTreeMap<String, TerminalSession>,
    terminal_operations: &'a BTreeMap<String, TerminalOperation>,
    compactions: &'a BTreeMap<String, Compaction>,
    compaction_requests: &'a BTreeMap<String, CompactionRequest>,
    interaction_edges: &'a BTreeMap<String, InteractionEdge>,
    raw_payloads: &'a BTreeMap<String, RawPayloadRef>,
    tool_names: BTreeMap<&'a str, String>,
}

/// The inference calls, by id, each with its request as a difference from
/// the thread's previous call.
struct Calls<'a> {
    calls: Vec<(&'a str, Call<'a>)>,
}

impl<'a> Calls<'a> {
    fn new(trace: &'a RolloutTrace) -> Calls<'a> {
        let mut by_thread: BTreeMap<&str, Vec<&InferenceCall>> = BTreeMap::new();
        for call in trace.inference_calls.values() {
            by_thread.entry(&call.thread_id).or_default().push(call);
        }
        let mut base: BTreeMap<&str, &InferenceCall> = BTreeMap::new();
        for calls in by_thread.values_mut() {
            calls.sort_by_key(|call| (call.execution.started_seq, call.inference_call_id.as_str()));
            for pair in calls.windows(2) {
                base.insert(&pair[1].inference_call_id, pair[0]);
            }
        }
        let calls = trace
            .inference_calls
            .iter()
            .map(|(key, call)| {
                let ids = call.request_item_ids.numbers();
                let previous = base.get(call.inference_call_id.as_str()).map(|previous| {
                    let keep = previous
                        .request_item_ids
                        .numbers()
                        .iter()
                        .zip(ids)
                        .take_while(|(a, b)| a == b)
                        .count();
                    (previous.inference_call_id.as_str(), keep)
                });
                let request_items = match previous {
                    Some((base, keep)) if keep > 0 => RequestItems {
                        base: Some(base),
                        keep,
                        then: ItemIds(&ids[keep..]),
                    },
                    _ => RequestItems {
                        base: None,
                        keep: 0,
                        then: ItemIds(ids),
                    },
                };
                (key.as_str(), Call::new(call, request_items))
            })
            .collect();
        Calls { calls }
    }
}

/// Item numbers written as the item ids `state.json` holds.
struct ItemIds<'a>(&'a [u32]);

impl Serialize for ItemIds<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|&number| crate::model::item_id(number)))
    }
}

impl Serialize for Calls<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.calls.len()))?;
        for (key, call) in &self.calls {
            map.serialize_entry(key, call)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct RequestItems<'a> {
    base: Option<&'a str>,
    keep: usize,
    then: ItemIds<'a>,
}

/// An [`InferenceCall`] with `request_items` for `request_item_ids`, members
/// in the model's order.
#[derive(Serialize)]
struct Call<'a> {
    inference_call_id: &'a str,
    thread_id: &'a str,
    codex_turn_id: &'a str,
    execution: &'a ExecutionWindow,
    model: &'a str,
    provider_name: &'a str,
    response_id: Option<&'a str>,
    upstream_request_id: Option<&'a str>,
    request_items: RequestItems<'a>,
    response_item_ids: &'a crate::model::ItemIdList,
    tool_call_ids_started_by_response: &'a [String],
    usage: Option<&'a TokenUsage>,
    raw_request_payload_id: &'a str,
    raw_response_payload_id: Option<&'a str>,
}

impl<'a> Call<'a> {
    fn new(call: &'a InferenceCall, request_items: RequestItems<'a>) -> Call<'a> {
        Call {
            inference_call_id: &call.inference_call_id,
            thread_id: &call.thread_id,
            codex_turn_id: &call.codex_turn_id,
            execution: &call.execution,
            model: &call.model,
            provider_name: &call.provider_name,
            response_id: call.response_id.as_deref(),
            upstream_request_id: call.upstream_request_id.as_deref(),
            request_items,
            response_item_ids: &call.response_item_ids,
            tool_call_ids_started_by_response: &call.tool_call_ids_started_by_response,
            usage: call.usage.as_ref(),
            raw_request_payload_id: &call.raw_request_payload_id,
            raw_response_payload_id: call.raw_response_payload_id.as_deref(),
        }
    }
}
