//! One line of `trace.jsonl`: the event envelope and its 25 payload variants.
//!
//! The shapes mirror upstream's declarations field for field and in the same
//! order. That order is observable: serde reports the first missing field in
//! declaration order, lists variants in declaration order in "unknown variant"
//! messages, and accepts a JSON array in place of an object with the fields
//! taken positionally. Unknown members are ignored everywhere.

use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;

use crate::model::CodeCellRuntimeStatus;
use crate::model::ExecutionStatus;
use crate::model::RawPayloadRef;
use crate::model::RolloutStatus;
use crate::model::ToolCallKind;
use crate::model::ToolCallSummary;

/// Envelope schema version written by the reference writer.
pub const RAW_EVENT_SCHEMA_VERSION: u32 = 1;

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawTraceEvent {
    pub schema_version: u32,
    /// Writer-assigned position, 1, 2, 3, ... (checked by our reader, ignored upstream).
    pub seq: u64,
    pub wall_time_unix_ms: i64,
    pub rollout_id: String,
    /// Envelope context: the thread the event belongs to, when the producer knows it.
    pub thread_id: Option<String>,
    /// Envelope context: the Codex turn the event belongs to, when known.
    pub codex_turn_id: Option<String>,
    pub payload: RawTraceEventPayload,
}

/// Who asked for a tool call, in runtime-local terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RawToolCallRequester {
    Model,
    CodeCell { runtime_cell_id: String },
}

/// The typed payload of an event, internally tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RawTraceEventPayload {
    RolloutStarted {
        trace_id: String,
        root_thread_id: String,
    },
    RolloutEnded {
        status: RolloutStatus,
    },
    ThreadStarted {
        thread_id: String,
        agent_path: String,
        metadata_payload: Option<RawPayloadRef>,
    },
    ThreadEnded {
        thread_id: String,
        status: RolloutStatus,
    },
    CodexTurnStarted {
        codex_turn_id: String,
        thread_id: String,
    },
    CodexTurnEnded {
        codex_turn_id: String,
        status: ExecutionStatus,
    },
    InferenceStarted {
        inference_call_id: String,
        thread_id: String,
        codex_turn_id: String,
        model: String,
        provider_name: String,
        request_payload: RawPayloadRef,
    },
    InferenceCompleted {
        inference_call_id: String,
        response_id: Option<String>,
        upstream_request_id: Option<String>,
        response_payload: RawPayloadRef,
    },
    InferenceFailed {
        inference_call_id: String,
        upstream_request_id: Option<String>,
        error: String,
        partial_response_payload: Option<RawPayloadRef>,
    },
    InferenceCancelled {
        inference_call_id: String,
        upstream_request_id: Option<String>,
        reason: String,
        partial_response_payload: Option<RawPayloadRef>,
    },
    ToolCallStarted {
        tool_call_id: String,
        model_visible_call_id: Option<String>,
        code_mode_runtime_tool_id: Option<String>,
        requester: RawToolCallRequester,
        kind: ToolCallKind,
        summary: ToolCallSummary,
        invocation_payload: Option<RawPayloadRef>,
    },
    McpToolCallCorrelationAssigned {
        tool_call_id: String,
        mcp_call_id: String,
    },
    ToolCallRuntimeStarted {
        tool_call_id: String,
        runtime_payload: RawPayloadRef,
    },
    ToolCallRuntimeEnded {
        tool_call_id: String,
        status: ExecutionStatus,
        runtime_payload: RawPayloadRef,
    },
    ToolCallEnded {
        tool_call_id: String,
        status: ExecutionStatus,
        result_payload: Option<RawPayloadRef>,
    },
    CodeCellStarted {
        runtime_cell_id: String,
        model_visible_call_id: String,
        source_js: String,
    },
    CodeCellInitialResponse {
        runtime_cell_id: String,
        status: CodeCellRuntimeStatus,
        response_payload: Option<RawPayloadRef>,
    },
    CodeCellEnded {
        runtime_cell_id: String,
        status: CodeCellRuntimeStatus,
        response_payload: Option<RawPayloadRef>,
    },
    CompactionRequestStarted {
        compaction_id: String,
        compaction_request_id: String,
        thread_id: String,
        codex_turn_id: String,
        model: String,
        provider_name: String,
        request_payload: RawPayloadRef,
    },
    CompactionRequestCompleted {
        compaction_id: String,
        compaction_request_id: String,
        response_payload: RawPayloadRef,
    },
    CompactionRequestFailed {
        compaction_id: String,
        compaction_request_id: String,
        error: String,
    },
    CompactionInstalled {
        compaction_id: String,
        checkpoint_payload: RawPayloadRef,
    },
    AgentResultObserved {
        edge_id: String,
        child_thread_id: String,
        child_codex_turn_id: String,
        parent_thread_id: String,
        message: String,
        carried_payload: Option<RawPayloadRef>,
    },
    ProtocolEventObserved {
        event_type: String,
        event_payload: RawPayloadRef,
    },
    Other {
        kind: String,
        summary: String,
        payloads: Vec<RawPayloadRef>,
        metadata: Value,
    },
}

impl RawTraceEventPayload {
    /// The `type` spelling of this variant, as written in `trace.jsonl`.
    pub fn type_name(&self) -> &'static str {
        match self {
            RawTraceEventPayload::RolloutStarted { .. } => "rollout_started",
            RawTraceEventPayload::RolloutEnded { .. } => "rollout_ended",
            RawTraceEventPayload::ThreadStarted { .. } => "thread_started",
            RawTraceEventPayload::ThreadEnded { .. } => "thread_ended",
            RawTraceEventPayload::CodexTurnStarted { .. } => "codex_turn_started",
            RawTraceEventPayload::CodexTurnEnded { .. } => "codex_turn_ended",
            RawTraceEventPayload::InferenceStarted { .. } => "inference_started",
            RawTraceEventPayload::InferenceCompleted { .. } => "inference_completed",
            RawTraceEventPayload::InferenceFailed { .. } => "inference_failed",
            RawTraceEventPayload::InferenceCancelled { .. } => "inference_cancelled",
            RawTraceEventPayload::ToolCallStarted { .. } => "tool_call_started",
            RawTraceEventPayload::McpToolCallCorrelationAssigned { .. } => {
                "mcp_tool_call_correlation_assigned"
            }
            RawTraceEventPayload::ToolCallRuntimeStarted { .. } => "tool_call_runtime_started",
            RawTraceEventPayload::ToolCallRuntimeEnded { .. } => "tool_call_runtime_ended",
            RawTraceEventPayload::ToolCallEnded { .. } => "tool_call_ended",
            RawTraceEventPayload::CodeCellStarted { .. } => "code_cell_started",
            RawTraceEventPayload::CodeCellInitialResponse { .. } => "code_cell_initial_response",
            RawTraceEventPayload::CodeCellEnded { .. } => "code_cell_ended",
            RawTraceEventPayload::CompactionRequestStarted { .. } => "compaction_request_started",
            RawTraceEventPayload::CompactionRequestCompleted { .. } => {
                "compaction_request_completed"
            }
            RawTraceEventPayload::CompactionRequestFailed { .. } => "compaction_request_failed",
            RawTraceEventPayload::CompactionInstalled { .. } => "compaction_installed",
            RawTraceEventPayload::AgentResultObserved { .. } => "agent_result_observed",
            RawTraceEventPayload::ProtocolEventObserved { .. } => "protocol_event_observed",
            RawTraceEventPayload::Other { .. } => "other",
        }
    }

    /// The payload files the reducer may open for this event
    /// (`trace-format.md` §9): a superset, since a few depend on state (the
    /// tool's kind). Every other payload it opens was named by an earlier
    /// event (an agent tool's invocation, read again at its runtime end).
    pub fn payloads_opened(&self) -> Vec<&RawPayloadRef> {
        match self {
            RawTraceEventPayload::ThreadStarted {
                metadata_payload, ..
            } => metadata_payload.iter().collect(),
            RawTraceEventPayload::InferenceStarted { .. }
            | RawTraceEventPayload::InferenceCompleted { .. }
            | RawTraceEventPayload::InferenceFailed { .. }
            | RawTraceEventPayload::InferenceCancelled { .. }
            | RawTraceEventPayload::ToolCallStarted { .. }
            | RawTraceEventPayload::ToolCallRuntimeStarted { .. }
            | RawTraceEventPayload::ToolCallRuntimeEnded { .. }
            | RawTraceEventPayload::ToolCallEnded { .. }
            | RawTraceEventPayload::CompactionInstalled { .. } => self.payload_refs(),
            RawTraceEventPayload::RolloutStarted { .. }
            | RawTraceEventPayload::RolloutEnded { .. }
            | RawTraceEventPayload::ThreadEnded { .. }
            | RawTraceEventPayload::CodexTurnStarted { .. }
            | RawTraceEventPayload::CodexTurnEnded { .. }
            | RawTraceEventPayload::McpToolCallCorrelationAssigned { .. }
            | RawTraceEventPayload::CodeCellStarted { .. }
            | RawTraceEventPayload::CodeCellInitialResponse { .. }
            | RawTraceEventPayload::CodeCellEnded { .. }
            | RawTraceEventPayload::CompactionRequestStarted { .. }
            | RawTraceEventPayload::CompactionRequestCompleted { .. }
            | RawTraceEventPayload::CompactionRequestFailed { .. }
            | RawTraceEventPayload::AgentResultObserved { .. }
            | RawTraceEventPayload::ProtocolEventObserved { .. }
            | RawTraceEventPayload::Other { .. } => Vec::new(),
        }
    }

    /// Every payload reference the event carries, in the order the reducer
    /// records them in `raw_payloads`.
    pub fn payload_refs(&self) -> Vec<&RawPayloadRef> {
        match self {
            RawTraceEventPayload::RolloutStarted { .. }
            | RawTraceEventPayload::RolloutEnded { .. }
            | RawTraceEventPayload::ThreadEnded { .. }
            | RawTraceEventPayload::CodexTurnStarted { .. }
            | RawTraceEventPayload::CodexTurnEnded { .. }
            | RawTraceEventPayload::McpToolCallCorrelationAssigned { .. }
            | RawTraceEventPayload::CodeCellStarted { .. }
            | RawTraceEventPayload::CompactionRequestFailed { .. } => Vec::new(),
            RawTraceEventPayload::InferenceCompleted {
                response_payload: payload,
                ..
            }
            | RawTraceEventPayload::InferenceStarted {
                request_payload: payload,
                ..
            }
            | RawTraceEventPayload::ToolCallRuntimeStarted {
                runtime_payload: payload,
                ..
            }
            | RawTraceEventPayload::ToolCallRuntimeEnded {
                runtime_payload: payload,
                ..
            }
            | RawTraceEventPayload::CompactionRequestStarted {
                request_payload: payload,
                ..
            }
            | RawTraceEventPayload::CompactionRequestCompleted {
                response_payload: payload,
                ..
            }
            | RawTraceEventPayload::CompactionInstalled {
                checkpoint_payload: payload,
                ..
            }
            | RawTraceEventPayload::ProtocolEventObserved {
                event_payload: payload,
                ..
            } => vec![payload],
            RawTraceEventPayload::ThreadStarted {
                metadata_payload: payload,
                ..
            }
            | RawTraceEventPayload::InferenceFailed {
                partial_response_payload: payload,
                ..
            }
            | RawTraceEventPayload::InferenceCancelled {
                partial_response_payload: payload,
                ..
            }
            | RawTraceEventPayload::ToolCallStarted {
                invocation_payload: payload,
                ..
            }
            | RawTraceEventPayload::ToolCallEnded {
                result_payload: payload,
                ..
            }
            | RawTraceEventPayload::CodeCellInitialResponse {
                response_payload: payload,
                ..
            }
            | RawTraceEventPayload::CodeCellEnded {
                response_payload: payload,
                ..
            }
            | RawTraceEventPayload::AgentResultObserved {
                carried_payload: payload,
                ..
            } => payload.iter().collect(),
            RawTraceEventPayload::Other { payloads, .. } => payloads.iter().collect(),
        }
    }
}
