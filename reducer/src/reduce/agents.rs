//! Multi-agent v2 interaction edges (`reduction.md` §13, §14).
//!
//! An edge records work or results flowing from one agent to another. The
//! sending side (a tool call, or a child's result) is traced before the
//! recipient's request shows the delivered message to the model, so an edge
//! waits in `Reducer::pending_edges` until that exact item appears; spawn
//! edges fall back to the child thread at the end of replay.

use serde_json::Value;

use super::EventContext;
use super::Reducer;
use super::agent_wire::AgentMessageInvocationArgs;
use super::agent_wire::CollabAgentInteractionBeginEvent;
use super::agent_wire::CollabAgentInteractionEndEvent;
use super::agent_wire::CollabAgentSpawnEndEvent;
use super::agent_wire::CollabCloseBeginEvent;
use super::agent_wire::CollabCloseEndEvent;
use super::agent_wire::SubAgentActivityEvent;
use super::agent_wire::SubAgentActivityKind;
use super::agent_wire::decode;
use super::conversation::item_number_of;
use super::delivery::delivery_reading;
use super::envelope::EnvelopeDelivery;
use super::envelope::EnvelopeIndex;
use super::index::DeliveryKey;
use super::tools::push_unique;
use crate::bundle::PayloadSource;
use crate::error::Place;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::InteractionEdge;
use crate::model::InteractionEdgeKind;
use crate::model::RawPayloadRef;
use crate::model::ToolCallKind;
use crate::model::TraceAnchor;
use crate::model::item_id;

/// A delivery waiting for its recipient-side item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PendingEdge {
    edge_id: String,
    kind: InteractionEdgeKind,
    source: TraceAnchor,
    target_thread_id: String,
    author: String,
    content: String,
    /// Child thread a spawn edge points to when no delivery item appears.
    spawn_fallback_thread_id: Option<String>,
    started_at_unix_ms: i64,
    ended_at_unix_ms: Option<i64>,
    carried_raw_payload_ids: Vec<String>,
    /// The event that queued the edge, for the diagnostic if it is dropped.
    place: Place,
}

impl PendingEdge {
    pub(super) fn edge_id(&self) -> &str {
        &self.edge_id
    }

    /// What an item must carry to deliver this edge.
    pub(super) fn delivery_key(&self) -> DeliveryKey {
        DeliveryKey {
            thread_id: self.target_thread_id.clone(),
            author: self.author.clone(),
            content: self.content.clone(),
        }
    }

    /// The tool call the edge starts from, if it starts from one.
    pub(super) fn source_tool_call_id(&self) -> Option<&str> {
        match &self.source {
            TraceAnchor::ToolCall { tool_call_id } => Some(tool_call_id),
            _ => None,
        }
    }

    /// Same delivery: everything but times and carried payloads agrees.
    fn same_delivery(&self, other: &PendingEdge) -> bool {
        self.kind == other.kind
            && self.source == other.source
            && self.target_thread_id == other.target_thread_id
            && self.author == other.author
            && self.content == other.content
            && self.spawn_fallback_thread_id == other.spawn_fallback_thread_id
    }
}

pub(super) struct ObservedAgentResult<'a> {
    pub edge_id: &'a str,
    pub child_thread_id: &'a str,
    pub child_codex_turn_id: &'a str,
    pub parent_thread_id: &'a str,
    pub message: &'a str,
    pub carried_payload: Option<&'a RawPayloadRef>,
}

impl Reducer {
    /// `reduction.md` §13.2.
    pub(super) fn observe_agent_runtime_start(
        &mut self,
        tool_call_id: &str,
        kind: &ToolCallKind,
        payload: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let edge_kind = match kind {
            ToolCallKind::AssignAgentTask => InteractionEdgeKind::AssignAgentTask,
            ToolCallKind::SendMessage => InteractionEdgeKind::SendMessage,
            ToolCallKind::CloseAgent => {
                let value = payloads.read_payload(payload)?;
                let begin: CollabCloseBeginEvent = decode(&value)?;
                return self.upsert_close_edge(tool_call_id, &begin.receiver_thread_id.0, None);
            }
            _ => return Ok(()),
        };
        let value = payloads.read_payload(payload)?;
        let begin: CollabAgentInteractionBeginEvent = decode(&value)?;
        let edge = self.tool_edge(
            tool_call_id,
            format!("edge:tool:{tool_call_id}"),
            edge_kind,
            begin.receiver_thread_id.0,
            begin.prompt,
            None,
            None,
        )?;
        self.queue_or_resolve_edge(edge)
    }

    /// `reduction.md` §13.3.
    pub(super) fn observe_agent_runtime_end(
        &mut self,
        cx: &EventContext,
        tool_call_id: &str,
        _payload: &RawPayloadRef,
        value: &Value,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let Some(tool) = self.trace.tool_calls.get(tool_call_id) else {
            bail!("agent activity referenced unknown tool call {tool_call_id}");
        };
        let kind = tool.kind.clone();
        let tool_thread_id = tool.thread_id.clone();
        let ended = Some(cx.wall_time_unix_ms);
        if value.get("agent_thread_id").is_some() {
            let activity: SubAgentActivityEvent = decode(value)?;
            let child = activity.agent_thread_id.0;
            let (edge_id, edge_kind, fallback) = match (&kind, activity.kind) {
                (ToolCallKind::SpawnAgent, SubAgentActivityKind::Started) => (
                    format!("edge:spawn:{tool_thread_id}:{child}"),
                    InteractionEdgeKind::SpawnAgent,
                    Some(child.clone()),
                ),
                (ToolCallKind::AssignAgentTask, SubAgentActivityKind::Interacted) => (
                    format!("edge:tool:{tool_call_id}"),
                    InteractionEdgeKind::AssignAgentTask,
                    None,
                ),
                (ToolCallKind::SendMessage, SubAgentActivityKind::Interacted) => (
                    format!("edge:tool:{tool_call_id}"),
                    InteractionEdgeKind::SendMessage,
                    None,
                ),
                (ToolCallKind::CloseAgent, SubAgentActivityKind::Interrupted) => {
                    return self.upsert_close_edge(tool_call_id, &child, ended);
                }
                (kind, activity_kind) => bail!(
                    "sub-agent activity {activity_kind:?} does not match tool call kind {kind:?}"
                ),
            };
            let content = self.agent_tool_message(tool_call_id, payloads)?;
            let edge = self.tool_edge(
                tool_call_id,
                edge_id,
                edge_kind,
                child,
                content,
                fallback,
                ended,
            )?;
            return self.queue_or_resolve_edge(edge);
        }
        let edge = match kind {
            ToolCallKind::SpawnAgent => {
                let end: CollabAgentSpawnEndEvent = decode(value)?;
                let Some(child) = end.new_thread_id else {
                    return Ok(());
                };
                let child = child.0;
                self.tool_edge(
                    tool_call_id,
                    format!("edge:spawn:{}:{child}", end.sender_thread_id.0),
                    InteractionEdgeKind::SpawnAgent,
                    child.clone(),
                    end.prompt,
                    Some(child),
                    ended,
                )?
            }
            ToolCallKind::AssignAgentTask | ToolCallKind::SendMessage => {
                let end: CollabAgentInteractionEndEvent = decode(value)?;
                let edge_kind = if kind == ToolCallKind::SendMessage {
                    InteractionEdgeKind::SendMessage
                } else {
                    InteractionEdgeKind::AssignAgentTask
                };
                self.tool_edge(
                    tool_call_id,
                    format!("edge:tool:{tool_call_id}"),
                    edge_kind,
                    end.receiver_thread_id.0,
                    end.prompt,
                    None,
                    ended,
                )?
            }
            ToolCallKind::CloseAgent => {
                let end: CollabCloseEndEvent = decode(value)?;
                return self.upsert_close_edge(tool_call_id, &end.receiver_thread_id.0, ended);
            }
            _ => return Ok(()),
        };
        self.queue_or_resolve_edge(edge)
    }

    /// `reduction.md` §13.8.
    pub(super) fn observe_agent_result(
        &mut self,
        cx: &EventContext,
        observed: ObservedAgentResult<'_>,
    ) -> Result<(), ReduceError> {
        let child = observed.child_thread_id;
        let Some(thread) = self.trace.threads.get(child) else {
            bail!("agent edge referenced unknown thread {child}");
        };
        let author = thread.agent_path.clone();
        let source = match super::index::nested_get(
            &self.index.latest_assistant_message,
            child,
            observed.child_codex_turn_id,
        ) {
            Some((_, item_id)) => TraceAnchor::ConversationItem {
                item_id: item_id.clone(),
            },
            None => TraceAnchor::Thread {
                thread_id: child.to_string(),
            },
        };
        self.queue_or_resolve_edge(PendingEdge {
            edge_id: observed.edge_id.to_string(),
            kind: InteractionEdgeKind::AgentResult,
            source,
            target_thread_id: observed.parent_thread_id.to_string(),
            author,
            content: observed.message.to_string(),
            spawn_fallback_thread_id: None,
            started_at_unix_ms: cx.wall_time_unix_ms,
            ended_at_unix_ms: Some(cx.wall_time_unix_ms),
            carried_raw_payload_ids: observed
                .carried_payload
                .map(|payload| vec![payload.raw_payload_id.clone()])
                .unwrap_or_default(),
            place: self.place.clone(),
        })
    }

    /// A pending edge sent by a tool call of the current graph.
    #[allow(clippy::too_many_arguments)]
    fn tool_edge(
        &self,
        tool_call_id: &str,
        edge_id: String,
        kind: InteractionEdgeKind,
        target_thread_id: String,
        content: String,
        spawn_fallback_thread_id: Option<String>,
        ended_at_unix_ms: Option<i64>,
    ) -> Result<PendingEdge, ReduceError> {
        let Some(tool) = self.trace.tool_calls.get(tool_call_id) else {
            bail!("agent edge referenced unknown tool call {tool_call_id}");
        };
        let Some(thread) = self.trace.threads.get(&tool.thread_id) else {
            bail!("agent edge referenced unknown thread {}", tool.thread_id);
        };
        Ok(PendingEdge {
            edge_id,
            kind,
            source: TraceAnchor::ToolCall {
                tool_call_id: tool_call_id.to_string(),
            },
            target_thread_id,
            author: thread.agent_path.clone(),
            content,
            spawn_fallback_thread_id,
            started_at_unix_ms: tool.execution.started_at_unix_ms,
            ended_at_unix_ms,
            carried_raw_payload_ids: self.agent_payload_ids(tool_call_id),
            place: self.place.clone(),
        })
    }

    /// Invocation, runtime and result payloads of a tool, once each.
    fn agent_payload_ids(&self, tool_call_id: &str) -> Vec<String> {
        let Some(tool) = self.trace.tool_calls.get(tool_call_id) else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        let all = tool
            .raw_invocation_payload_id
            .iter()
            .chain(&tool.raw_runtime_payload_ids)
            .chain(&tool.raw_result_payload_id);
        for id in all {
            push_unique(&mut ids, id);
        }
        ids
    }

    /// The `message` argument of the tool's invocation payload.
    fn agent_tool_message(
        &mut self,
        tool_call_id: &str,
        payloads: &mut dyn PayloadSource,
    ) -> Result<String, ReduceError> {
        let payload_id = self
            .trace
            .tool_calls
            .get(tool_call_id)
            .and_then(|tool| tool.raw_invocation_payload_id.clone());
        let Some(payload_id) = payload_id else {
            bail!("agent activity tool call {tool_call_id} missing invocation payload");
        };
        let Some(payload) = self.trace.raw_payloads.get(&payload_id).cloned() else {
            bail!(
                "agent activity tool call {tool_call_id} referenced missing invocation payload {payload_id}"
            );
        };
        let invocation = payloads.read_payload(&payload)?;
        let Some(arguments) = super::tools::invocation_arguments(&invocation) else {
            bail!("agent activity tool call {tool_call_id} missing function arguments");
        };
        serde_json::from_str::<AgentMessageInvocationArgs>(arguments)
            .map(|arguments| arguments.message)
            .map_err(|error| {
                ReduceError::caused(
                    format!("parse agent activity tool call {tool_call_id} arguments"),
                    error,
                )
                .at_payload(&payload.path)
            })
    }

    /// `reduction.md` §13.6: close edges target the thread; unknown threads are skipped.
    fn upsert_close_edge(
        &mut self,
        tool_call_id: &str,
        target_thread_id: &str,
        ended_at_unix_ms: Option<i64>,
    ) -> Result<(), ReduceError> {
        if !self.trace.threads.contains_key(target_thread_id) {
            return Ok(());
        }
        let Some(tool) = self.trace.tool_calls.get(tool_call_id) else {
            bail!("close edge referenced unknown tool call {tool_call_id}");
        };
        let edge = InteractionEdge {
            edge_id: format!("edge:tool:{tool_call_id}"),
            kind: InteractionEdgeKind::CloseAgent,
            source: TraceAnchor::ToolCall {
                tool_call_id: tool_call_id.to_string(),
            },
            target: TraceAnchor::Thread {
                thread_id: target_thread_id.to_string(),
            },
            started_at_unix_ms: tool.execution.started_at_unix_ms,
            ended_at_unix_ms,
            carried_item_ids: Vec::new(),
            carried_raw_payload_ids: self.agent_payload_ids(tool_call_id),
        };
        self.upsert_edge(edge)
    }

    /// `reduction.md` §13.4: resolve to the first undelivered matching item of
    /// the target thread, else merge with or join the pending queue.
    fn queue_or_resolve_edge(&mut self, edge: PendingEdge) -> Result<(), ReduceError> {
        let key = DeliveryKey {
            thread_id: edge.target_thread_id.clone(),
            author: edge.author.clone(),
            content: edge.content.clone(),
        };
        if let Some(item_id) = self.first_undelivered_item(&key) {
            return self.upsert_edge(resolved_edge(edge, item_id));
        }
        if let Some(pending) = self.pending_edges.by_id_mut(&edge.edge_id) {
            if !pending.same_delivery(&edge) {
                bail!(
                    "pending interaction edge {} was observed with conflicting delivery data",
                    edge.edge_id
                );
            }
            pending.started_at_unix_ms = pending.started_at_unix_ms.min(edge.started_at_unix_ms);
            pending.ended_at_unix_ms = max_end(pending.ended_at_unix_ms, edge.ended_at_unix_ms);
            for id in &edge.carried_raw_payload_ids {
                push_unique(&mut pending.carried_raw_payload_ids, id);
            }
            return Ok(());
        }
        self.pending_edges.push(edge);
        Ok(())
    }

    /// The first item of the delivery `key` that no edge targets yet. Items
    /// never stop being targets, so the ones already targeted are dropped
    /// from the front of the list for good.
    fn first_undelivered_item(&mut self, key: &DeliveryKey) -> Option<String> {
        let items = self.index.deliveries.get_mut(key)?;
        while let Some(&index) = items.front() {
            let item_id = item_id(item_number_of(index));
            if !self.index.linked_items.contains(&item_id) {
                return Some(item_id);
            }
            items.pop_front();
        }
        None
    }

    /// `reduction.md` §13.4, item side: a sighted item may be a pending delivery.
    pub(super) fn resolve_pending_edges_for_item(
        &mut self,
        item_id: &str,
    ) -> Result<(), ReduceError> {
        if self.pending_edges.is_empty() || self.index.linked_items.contains(item_id) {
            return Ok(());
        }
        let Some(item) = self.item(item_id) else {
            return Ok(());
        };
        let Some(thread) = self.trace.threads.get(&item.thread_id) else {
            return Ok(());
        };
        let Some((author, content)) = delivery_reading(item, &thread.agent_path) else {
            return Ok(());
        };
        let key = DeliveryKey {
            thread_id: item.thread_id.clone(),
            author,
            content,
        };
        let Some(edge) = self.pending_edges.take_first_delivered(&key) else {
            return Ok(());
        };
        self.upsert_edge(resolved_edge(edge, item_id.to_string()))
    }

    /// `reduction.md` §13.5: a tool's result payload travels with its edge.
    pub(super) fn attach_tool_result_to_edge(&mut self, tool_call_id: &str, payload_id: &str) {
        let first_edge = self
            .index
            .edges_by_source_tool
            .get(tool_call_id)
            .and_then(|edges| edges.first())
            .cloned();
        if let Some(edge_id) = first_edge {
            if let Some(edge) = self.trace.interaction_edges.get_mut(&edge_id) {
                push_unique(&mut edge.carried_raw_payload_ids, payload_id);
            }
            return;
        }
        if let Some(pending) = self.pending_edges.first_from_tool_mut(tool_call_id) {
            push_unique(&mut pending.carried_raw_payload_ids, payload_id);
        }
    }

    /// `reduction.md` §13.7.
    fn upsert_edge(&mut self, edge: InteractionEdge) -> Result<(), ReduceError> {
        if let Some(existing) = self.trace.interaction_edges.get_mut(&edge.edge_id) {
            if existing.kind != edge.kind
                || existing.source != edge.source
                || existing.target != edge.target
            {
                bail!(
                    "interaction edge {} was observed with conflicting endpoints",
                    edge.edge_id
                );
            }
            existing.started_at_unix_ms = existing.started_at_unix_ms.min(edge.started_at_unix_ms);
            existing.ended_at_unix_ms = max_end(existing.ended_at_unix_ms, edge.ended_at_unix_ms);
            for id in &edge.carried_item_ids {
                push_unique(&mut existing.carried_item_ids, id);
            }
            for id in &edge.carried_raw_payload_ids {
                push_unique(&mut existing.carried_raw_payload_ids, id);
            }
            return Ok(());
        }
        if let TraceAnchor::ConversationItem { item_id } = &edge.target {
            self.index.linked_items.insert(item_id.clone());
        }
        if let TraceAnchor::ToolCall { tool_call_id } = &edge.source {
            self.index
                .edges_by_source_tool
                .entry(tool_call_id.clone())
                .or_default()
                .insert(edge.edge_id.clone());
        }
        self.trace
            .interaction_edges
            .insert(edge.edge_id.clone(), edge);
        Ok(())
    }

    /// `reduction.md` §14: spawn edges fall back to the child thread; every
    /// other undelivered edge is dropped (and reported as a diagnostic).
    pub(super) fn finalize(&mut self) -> Result<(), ReduceError> {
        self.report_dropped_code_cells();
        let envelopes = if self.pending_edges.is_empty() {
            EnvelopeIndex::default()
        } else {
            self.envelope_index()
        };
        for edge in self.pending_edges.take_all() {
            let envelope = envelopes
                .find(&edge.target_thread_id, &edge.author, &edge.content)
                .map(envelope_reason);
            let Some(fallback) = edge.spawn_fallback_thread_id.clone() else {
                let message = match self.trace.interaction_edges.get(&edge.edge_id) {
                    // A later observation of a delivery that was already
                    // resolved: upstream queues it again and drops it here.
                    Some(resolved) => format!(
                        "{} edge {} observed again after it was resolved to {}: this observation (end time {}, payloads {}) was dropped, as upstream drops it",
                        edge.kind.as_str(),
                        edge.edge_id,
                        anchor_name(&resolved.target),
                        edge.ended_at_unix_ms
                            .map_or_else(|| "none".to_string(), |end| end.to_string()),
                        edge.carried_raw_payload_ids.join(", ")
                    ),
                    None => format!(
                        "{} edge {} dropped: no item in thread {} delivered its message from {}{}",
                        edge.kind.as_str(),
                        edge.edge_id,
                        edge.target_thread_id,
                        edge.author,
                        envelope.unwrap_or_default()
                    ),
                };
                self.diagnose_at(edge.place.clone(), message);
                continue;
            };
            if edge.kind != InteractionEdgeKind::SpawnAgent {
                bail!(
                    "non-spawn interaction edge {} carried a spawn fallback target",
                    edge.edge_id
                );
            }
            if !self.trace.threads.contains_key(&fallback) {
                self.diagnose_at(
                    edge.place.clone(),
                    format!(
                        "spawn_agent edge {} dropped: child thread {fallback} never started",
                        edge.edge_id
                    ),
                );
                continue;
            }
            if let Some(reason) = envelope {
                self.diagnose_at(
                    edge.place.clone(),
                    format!(
                        "spawn_agent edge {} targets thread {fallback}, not the item that delivered its message{reason}",
                        edge.edge_id
                    ),
                );
            }
            self.upsert_edge(InteractionEdge {
                edge_id: edge.edge_id,
                kind: edge.kind,
                source: edge.source,
                target: TraceAnchor::Thread {
                    thread_id: fallback,
                },
                started_at_unix_ms: edge.started_at_unix_ms,
                ended_at_unix_ms: edge.ended_at_unix_ms,
                carried_item_ids: Vec::new(),
                carried_raw_payload_ids: edge.carried_raw_payload_ids,
            })?;
        }
        Ok(())
    }

    fn diagnose_at(&mut self, place: Place, message: String) {
        self.diagnostics
            .push(crate::error::Diagnostic::new(place, message));
    }
}

/// Why an undelivered edge's message was not matched: it arrived in a
/// plaintext collaboration envelope (`upstream-main.md` §4).
fn envelope_reason(delivery: &EnvelopeDelivery) -> String {
    format!(
        ": {} carries it inside a plaintext collaboration envelope (Message Type: {}); upstream's delivery matching compares the whole envelope text with the message, so the two never match",
        delivery.item_id, delivery.message_type
    )
}

fn resolved_edge(edge: PendingEdge, item_id: String) -> InteractionEdge {
    InteractionEdge {
        edge_id: edge.edge_id,
        kind: edge.kind,
        source: edge.source,
        target: TraceAnchor::ConversationItem {
            item_id: item_id.clone(),
        },
        started_at_unix_ms: edge.started_at_unix_ms,
        ended_at_unix_ms: edge.ended_at_unix_ms,
        carried_item_ids: vec![item_id],
        carried_raw_payload_ids: edge.carried_raw_payload_ids,
    }
}

fn max_end(left: Option<i64>, right: Option<i64>) -> Option<i64> {
    match (left, right) {
        (Some(left), Some(right)) => Some(left.max(right)),
        (left, right) => left.or(right),
    }
}

fn anchor_name(anchor: &TraceAnchor) -> String {
    match anchor {
        TraceAnchor::ConversationItem { item_id } => item_id.clone(),
        TraceAnchor::ToolCall { tool_call_id } => format!("tool call {tool_call_id}"),
        TraceAnchor::Thread { thread_id } => format!("thread {thread_id}"),
    }
}
