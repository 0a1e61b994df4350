//! The reducer: a deterministic fold of raw events into a `RolloutTrace`.
//!
//! `Reducer` holds the reduced graph plus the pending state upstream's reducer
//! keeps between events (each queue below says which producer race makes it
//! necessary), and the indexes that replace upstream's linear scans. Applying
//! an event either succeeds or returns the first error; `finish` runs the
//! end-of-replay rules on a copy, so a reducer can keep folding a growing log.
//!
//! Invariants:
//! - No clock, randomness, environment or hash-map iteration order reaches the
//!   output: every map in the graph is a `BTreeMap`, and every "first"/"all"
//!   rule iterates in the byte-wise id order upstream's maps impose.
//! - No I/O: payload documents come from the `PayloadSource` the caller
//!   passes to each `apply`, so the fold is a pure function of the events and
//!   the documents it is given, and `Reducer` is plain data (`Clone`).
//! - Indexes are derived data: each one mirrors a scan upstream performs, and
//!   is updated wherever the scanned data changes.

mod agent_wire;
mod agents;
mod budget;
mod code_cells;
mod compaction;
mod conversation;
mod delivery;
mod envelope;
mod index;
mod inference;
pub(crate) mod normalize;
mod pending_edges;
mod request_items;
mod terminals;
mod threads;
mod tools;

use std::collections::BTreeMap;
use std::collections::HashMap;

use crate::Limits;
use crate::bundle::PayloadSource;
use crate::error::Diagnostic;
use crate::error::Place;
use crate::error::ReduceError;
use crate::model::ConversationItem;
use crate::model::ItemIdList;
use crate::model::RawPayloadRef;
use crate::model::RolloutTrace;
use crate::raw::RawTraceEvent;
use crate::raw::RawTraceEventPayload;
use crate::raw::TraceBundleManifest;
use crate::shortcuts::Shortcuts;

use self::code_cells::PendingCodeCellEvent;
use self::code_cells::PendingCodeCellStart;
use self::index::Index;
use self::pending_edges::PendingEdges;

/// The reduced graph and its result: what `finish` returns.
#[derive(Debug, Clone)]
pub struct Reduction {
    pub trace: RolloutTrace,
    /// What the reducer dropped or ignored without changing `state.json`.
    pub diagnostics: Vec<Diagnostic>,
    /// Events applied.
    pub events: u64,
    /// The bytes `state.json` takes, as the state budget counted them while
    /// reducing (an estimate: see `Limits::max_state_bytes`).
    pub state_bytes: u64,
    /// How often the pure shortcuts were taken (they change nothing else).
    pub shortcuts: Shortcuts,
}

/// The envelope facts every handler needs.
#[derive(Debug, Clone)]
struct EventContext {
    seq: u64,
    wall_time_unix_ms: i64,
    thread_id: Option<String>,
    codex_turn_id: Option<String>,
}

/// A resumable fold over one bundle's events.
#[derive(Debug, Clone)]
pub struct Reducer {
    /// The graph, except `conversation_items`, which live in `items` until `finish`.
    trace: RolloutTrace,
    /// Conversation items by ordinal: `items[n - 1]` is `conversation_item:<n>`.
    items: Vec<ConversationItem>,
    /// Identity key of each item, parallel to `items` (see `conversation::match_key`).
    match_keys: Vec<u64>,
    next_terminal_operation_ordinal: u64,
    /// Last model-visible snapshot per thread. Requests replace it and
    /// responses extend it, because both are payloads exchanged with the
    /// model; the next request is reconciled against it by position.
    snapshots: HashMap<String, Vec<conversation::ItemIndex>>,
    /// Replacement history of the last compaction installed in a thread and
    /// not yet followed by a full request. The first full request after a
    /// compaction must reuse the replacement items, not the old prefix.
    pending_replacements: HashMap<String, Vec<conversation::ItemIndex>>,
    /// The item list of each thread's last request, shared by the next
    /// request when equal (see `inference::request_list`).
    last_request_lists: HashMap<String, ItemIdList>,
    /// What the state would take in `state.json`, against `Limits::max_state_bytes`.
    budget: budget::StateBudget,
    /// The last scanned full request of each thread, so the next one decodes
    /// only the items that changed (a pure shortcut: see `request_items`).
    last_requests: HashMap<String, request_items::LastRequest>,
    /// Code cell id by (thread, runtime cell handle). Runtime lifecycle
    /// events, nested tools and waits name cells by the runtime's handle,
    /// which is unique only within a thread.
    runtime_cells: HashMap<(String, String), String>,
    /// Code-cell starts whose model-visible `exec` item has not been reduced
    /// yet: the runtime starts a cell before the completion event that
    /// records the response requesting it.
    pending_cells: BTreeMap<String, PendingCodeCellStart>,
    /// Initial responses and ends of queued cells: a fast cell can finish
    /// before its source item exists. Replayed in seq order at materialization.
    pending_cell_events: HashMap<String, Vec<PendingCodeCellEvent>>,
    /// Agent deliveries whose recipient-side item has not appeared yet: the
    /// sending tool's events precede the recipient request that shows the
    /// message to the model.
    pending_edges: PendingEdges,
    index: Index,
    diagnostics: Vec<Diagnostic>,
    /// Place of the event being applied, for diagnostics raised deep inside.
    place: Place,
    /// Events applied (including one that failed).
    events: u64,
    /// The request shortcuts taken so far (the payload ones are the replay
    /// loop's to count).
    shortcuts: Shortcuts,
}

impl Reducer {
    /// A reducer for the bundle described by `manifest`.
    pub fn new(manifest: &TraceBundleManifest) -> Self {
        Reducer {
            trace: RolloutTrace::new(
                manifest.trace_id.clone(),
                manifest.rollout_id.clone(),
                manifest.root_thread_id.clone(),
                manifest.started_at_unix_ms,
            ),
            items: Vec::new(),
            match_keys: Vec::new(),
            next_terminal_operation_ordinal: 1,
            snapshots: HashMap::new(),
            pending_replacements: HashMap::new(),
            last_requests: HashMap::new(),
            last_request_lists: HashMap::new(),
            budget: budget::StateBudget::new(Limits::default().max_state_bytes),
            runtime_cells: HashMap::new(),
            pending_cells: BTreeMap::new(),
            pending_cell_events: HashMap::new(),
            pending_edges: PendingEdges::default(),
            index: Index::default(),
            diagnostics: Vec::new(),
            place: Place::default(),
            events: 0,
            shortcuts: Shortcuts::default(),
        }
    }

    /// The same reducer with these limits (the state budget is the one the
    /// fold checks; the others bound reading, which its caller does).
    pub fn with_limits(mut self, limits: &Limits) -> Self {
        self.budget = budget::StateBudget::new(limits.max_state_bytes);
        self
    }

    /// Bytes `state.json` would take now, as the state budget counts them.
    pub fn state_bytes(&self) -> u64 {
        self.budget.used()
    }

    /// Applies one event. `place` locates it for diagnostics; errors are
    /// returned without a place (the caller knows it).
    ///
    /// On error the reducer may hold part of the event's effects, as
    /// upstream's does; callers that continue must rebuild from the events
    /// before it.
    pub fn apply(
        &mut self,
        event: &RawTraceEvent,
        place: &Place,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        self.place = place.clone();
        self.events += 1;
        self.budget
            .charge(budget::event_bytes(&event.payload), "the event")?;
        for payload in event.payload.payload_refs() {
            self.record_raw_payload(payload);
        }
        let cx = EventContext {
            seq: event.seq,
            wall_time_unix_ms: event.wall_time_unix_ms,
            thread_id: event.thread_id.clone(),
            codex_turn_id: event.codex_turn_id.clone(),
        };
        match &event.payload {
            RawTraceEventPayload::RolloutStarted {
                trace_id,
                root_thread_id,
            } => {
                self.trace.trace_id.clone_from(trace_id);
                self.trace.root_thread_id.clone_from(root_thread_id);
                Ok(())
            }
            RawTraceEventPayload::RolloutEnded { status } => {
                self.trace.status = *status;
                self.trace.ended_at_unix_ms = Some(cx.wall_time_unix_ms);
                Ok(())
            }
            RawTraceEventPayload::ThreadStarted {
                thread_id,
                agent_path,
                metadata_payload,
            } => self.start_thread(
                &cx,
                thread_id,
                agent_path,
                metadata_payload.as_ref(),
                payloads,
            ),
            RawTraceEventPayload::ThreadEnded { thread_id, status } => {
                self.end_thread(&cx, thread_id, *status)
            }
            RawTraceEventPayload::CodexTurnStarted {
                codex_turn_id,
                thread_id,
            } => self.start_turn(&cx, codex_turn_id, thread_id),
            RawTraceEventPayload::CodexTurnEnded {
                codex_turn_id,
                status,
            } => self.end_turn(&cx, codex_turn_id, *status),
            RawTraceEventPayload::InferenceStarted {
                inference_call_id,
                thread_id,
                codex_turn_id,
                model,
                provider_name,
                request_payload,
            } => self.start_inference(
                &cx,
                inference::StartedInference {
                    inference_call_id,
                    thread_id,
                    codex_turn_id,
                    model,
                    provider_name,
                    request_payload,
                },
                payloads,
            ),
            RawTraceEventPayload::InferenceCompleted {
                inference_call_id,
                response_id,
                upstream_request_id,
                response_payload,
            } => self.complete_inference(
                &cx,
                inference_call_id,
                inference::InferenceOutcome::Completed {
                    response_id: response_id.clone(),
                },
                upstream_request_id.as_deref(),
                Some(response_payload),
                payloads,
            ),
            RawTraceEventPayload::InferenceFailed {
                inference_call_id,
                upstream_request_id,
                partial_response_payload,
                ..
            } => self.complete_inference(
                &cx,
                inference_call_id,
                inference::InferenceOutcome::Failed,
                upstream_request_id.as_deref(),
                partial_response_payload.as_ref(),
                payloads,
            ),
            RawTraceEventPayload::InferenceCancelled {
                inference_call_id,
                upstream_request_id,
                partial_response_payload,
                ..
            } => self.complete_inference(
                &cx,
                inference_call_id,
                inference::InferenceOutcome::Cancelled,
                upstream_request_id.as_deref(),
                partial_response_payload.as_ref(),
                payloads,
            ),
            RawTraceEventPayload::ToolCallStarted {
                tool_call_id,
                model_visible_call_id,
                code_mode_runtime_tool_id,
                requester,
                kind,
                summary,
                invocation_payload,
            } => self.start_tool_call(
                &cx,
                tools::StartedToolCall {
                    tool_call_id,
                    model_visible_call_id: model_visible_call_id.as_deref(),
                    code_mode_runtime_tool_id: code_mode_runtime_tool_id.as_deref(),
                    requester,
                    kind,
                    summary,
                    invocation_payload: invocation_payload.as_ref(),
                },
                payloads,
            ),
            RawTraceEventPayload::McpToolCallCorrelationAssigned {
                tool_call_id,
                mcp_call_id,
            } => self.assign_mcp_correlation(tool_call_id, mcp_call_id),
            RawTraceEventPayload::ToolCallRuntimeStarted {
                tool_call_id,
                runtime_payload,
            } => self.start_tool_runtime(&cx, tool_call_id, runtime_payload, payloads),
            RawTraceEventPayload::ToolCallRuntimeEnded {
                tool_call_id,
                status,
                runtime_payload,
            } => self.end_tool_runtime(&cx, tool_call_id, *status, runtime_payload, payloads),
            RawTraceEventPayload::ToolCallEnded {
                tool_call_id,
                status,
                result_payload,
            } => self.end_tool_call(
                &cx,
                tool_call_id,
                *status,
                result_payload.as_ref(),
                payloads,
            ),
            RawTraceEventPayload::CodeCellStarted {
                runtime_cell_id,
                model_visible_call_id,
                source_js,
            } => self.start_code_cell(&cx, runtime_cell_id, model_visible_call_id, source_js),
            RawTraceEventPayload::CodeCellInitialResponse {
                runtime_cell_id,
                status,
                ..
            } => self.observe_code_cell_event(
                &cx,
                runtime_cell_id,
                code_cells::CodeCellEventKind::InitialResponse,
                *status,
            ),
            RawTraceEventPayload::CodeCellEnded {
                runtime_cell_id,
                status,
                ..
            } => self.observe_code_cell_event(
                &cx,
                runtime_cell_id,
                code_cells::CodeCellEventKind::End,
                *status,
            ),
            RawTraceEventPayload::CompactionRequestStarted {
                compaction_id,
                compaction_request_id,
                thread_id,
                codex_turn_id,
                model,
                provider_name,
                request_payload,
            } => self.start_compaction_request(
                &cx,
                compaction::StartedCompactionRequest {
                    compaction_id,
                    compaction_request_id,
                    thread_id,
                    codex_turn_id,
                    model,
                    provider_name,
                    request_payload,
                },
            ),
            RawTraceEventPayload::CompactionRequestCompleted {
                compaction_id,
                compaction_request_id,
                response_payload,
            } => self.end_compaction_request(
                &cx,
                compaction_id,
                compaction_request_id,
                Some(response_payload),
            ),
            RawTraceEventPayload::CompactionRequestFailed {
                compaction_id,
                compaction_request_id,
                ..
            } => self.end_compaction_request(&cx, compaction_id, compaction_request_id, None),
            RawTraceEventPayload::CompactionInstalled {
                compaction_id,
                checkpoint_payload,
            } => self.install_compaction(&cx, compaction_id, checkpoint_payload, payloads),
            RawTraceEventPayload::AgentResultObserved {
                edge_id,
                child_thread_id,
                child_codex_turn_id,
                parent_thread_id,
                message,
                carried_payload,
            } => self.observe_agent_result(
                &cx,
                agents::ObservedAgentResult {
                    edge_id,
                    child_thread_id,
                    child_codex_turn_id,
                    parent_thread_id,
                    message,
                    carried_payload: carried_payload.as_ref(),
                },
            ),
            RawTraceEventPayload::ProtocolEventObserved { .. } => Ok(()),
            RawTraceEventPayload::Other { kind, .. } => {
                // Upstream rejects the whole bundle here (spec README, policy P9).
                self.diagnose(format!(
                    "`other` event of kind `{kind}` has no reducer: its payload references were recorded and nothing else (upstream's reducer rejects the bundle with `raw trace event has no reducer implementation`)"
                ));
                Ok(())
            }
        }
    }

    /// Events applied so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Runs the end-of-replay rules on a copy of the state and returns the
    /// graph; the reducer itself can go on folding events.
    pub fn finish(&self) -> Result<Reduction, ReduceError> {
        self.clone().into_finished()
    }

    /// The graph as it stands, without the end-of-replay rules.
    pub fn into_unfinished(self) -> Reduction {
        self.into_reduction()
    }

    /// Runs the end-of-replay rules and returns the graph, consuming the reducer.
    pub fn into_finished(mut self) -> Result<Reduction, ReduceError> {
        self.finalize()?;
        Ok(self.into_reduction())
    }

    fn into_reduction(self) -> Reduction {
        let mut trace = self.trace;
        trace.conversation_items = self
            .items
            .into_iter()
            .map(|item| (item.item_id.clone(), item))
            .collect();
        Reduction {
            trace,
            diagnostics: self.diagnostics,
            events: self.events,
            state_bytes: self.budget.used(),
            shortcuts: self.shortcuts,
        }
    }

    /// Records a diagnostic at the current event.
    fn diagnose(&mut self, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(self.place.clone(), message));
    }

    fn record_raw_payload(&mut self, payload: &RawPayloadRef) {
        self.trace
            .raw_payloads
            .insert(payload.raw_payload_id.clone(), payload.clone());
    }
}
