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
    pub payload: RawEventPayload,
}

/// Who asked for a tool call, in runtime-local terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RawToolCallRequester {
    Model,
    CodeCell { runtime_cell_id: String },
}

/// How a request's `input` reduces, as newer upstream producers record it on
/// `inference_started` (absent in the reference snapshot; see `reduction.md` §17.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RawInferenceRequestInputMode {
    FullSnapshot,
    Incremental {
        previous_response_id: String,
    },
    IncrementalWithUntracedPrefix {
        previous_response_id: String,
        prefix_payload: RawPayloadRef,
    },
}

/// The typed payload of an event, internally tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RawEventPayload {
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
        /// Never decoded with the event: the reference ignores the member, so
        /// a malformed value must not reject the line. The reader fills it in
        /// leniently afterwards (see `bundle::lines`).
        #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
        request_input_mode: Option<RawInferenceRequestInputMode>,
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

impl RawEventPayload {
    /// The `type` spelling of this variant, as written in `trace.jsonl`.
    pub fn type_name(&self) -> &'static str {
        match self {
            RawEventPayload::RolloutStarted { .. } => "rollout_started",
            RawEventPayload::RolloutEnded { .. } => "rollout_ended",
            RawEventPayload::ThreadStarted { .. } => "thread_started",
            RawEventPayload::ThreadEnded { .. } => "thread_ended",
            RawEventPayload::CodexTurnStarted { .. } => "codex_turn_started",
            RawEventPayload::CodexTurnEnded { .. } => "codex_turn_ended",
            RawEventPayload::InferenceStarted { .. } => "inference_started",
            RawEventPayload::InferenceCompleted { .. } => "inference_completed",
            RawEventPayload::InferenceFailed { .. } => "inference_failed",
            RawEventPayload::InferenceCancelled { .. } => "inference_cancelled",
            RawEventPayload::ToolCallStarted { .. } => "tool_call_started",
            RawEventPayload::McpToolCallCorrelationAssigned { .. } => {
                "mcp_tool_call_correlation_assigned"
            }
            RawEventPayload::ToolCallRuntimeStarted { .. } => "tool_call_runtime_started",
            RawEventPayload::ToolCallRuntimeEnded { .. } => "tool_call_runtime_ended",
            RawEventPayload::ToolCallEnded { .. } => "tool_call_ended",
            RawEventPayload::CodeCellStarted { .. } => "code_cell_started",
            RawEventPayload::CodeCellInitialResponse { .. } => "code_cell_initial_response",
            RawEventPayload::CodeCellEnded { .. } => "code_cell_ended",
            RawEventPayload::CompactionRequestStarted { .. } => "compaction_request_started",
            RawEventPayload::CompactionRequestCompleted { .. } => "compaction_request_completed",
            RawEventPayload::CompactionRequestFailed { .. } => "compaction_request_failed",
            RawEventPayload::CompactionInstalled { .. } => "compaction_installed",
            RawEventPayload::AgentResultObserved { .. } => "agent_result_observed",
            RawEventPayload::ProtocolEventObserved { .. } => "protocol_event_observed",
            RawEventPayload::Other { .. } => "other",
        }
    }

    /// Every payload reference the event carries, in the order the reducer
    /// records them in `raw_payloads` (the untraced prefix of an input mode last).
    pub fn payload_refs(&self) -> Vec<&RawPayloadRef> {
        match self {
            RawEventPayload::RolloutStarted { .. }
            | RawEventPayload::RolloutEnded { .. }
            | RawEventPayload::ThreadEnded { .. }
            | RawEventPayload::CodexTurnStarted { .. }
            | RawEventPayload::CodexTurnEnded { .. }
            | RawEventPayload::McpToolCallCorrelationAssigned { .. }
            | RawEventPayload::CodeCellStarted { .. }
            | RawEventPayload::CompactionRequestFailed { .. } => Vec::new(),
            RawEventPayload::InferenceStarted {
                request_payload,
                request_input_mode,
                ..
            } => match request_input_mode {
                Some(RawInferenceRequestInputMode::IncrementalWithUntracedPrefix {
                    prefix_payload,
                    ..
                }) => vec![request_payload, prefix_payload],
                _ => vec![request_payload],
            },
            RawEventPayload::InferenceCompleted {
                response_payload: payload,
                ..
            }
            | RawEventPayload::ToolCallRuntimeStarted {
                runtime_payload: payload,
                ..
            }
            | RawEventPayload::ToolCallRuntimeEnded {
                runtime_payload: payload,
                ..
            }
            | RawEventPayload::CompactionRequestStarted {
                request_payload: payload,
                ..
            }
            | RawEventPayload::CompactionRequestCompleted {
                response_payload: payload,
                ..
            }
            | RawEventPayload::CompactionInstalled {
                checkpoint_payload: payload,
                ..
            }
            | RawEventPayload::ProtocolEventObserved {
                event_payload: payload,
                ..
            } => vec![payload],
            RawEventPayload::ThreadStarted {
                metadata_payload: payload,
                ..
            }
            | RawEventPayload::InferenceFailed {
                partial_response_payload: payload,
                ..
            }
            | RawEventPayload::InferenceCancelled {
                partial_response_payload: payload,
                ..
            }
            | RawEventPayload::ToolCallStarted {
                invocation_payload: payload,
                ..
            }
            | RawEventPayload::ToolCallEnded {
                result_payload: payload,
                ..
            }
            | RawEventPayload::CodeCellInitialResponse {
                response_payload: payload,
                ..
            }
            | RawEventPayload::CodeCellEnded {
                response_payload: payload,
                ..
            }
            | RawEventPayload::AgentResultObserved {
                carried_payload: payload,
                ..
            } => payload.iter().collect(),
            RawEventPayload::Other { payloads, .. } => payloads.iter().collect(),
        }
    }
}
