//! The output side: the reduced `RolloutTrace` graph written as `state.json`.
//!
//! Struct members are declared in the order `reduced-model.md` prescribes and
//! serde writes them in that order. Every collection that reaches the output is
//! a `BTreeMap` keyed by id, so map order is byte-wise id order by construction
//! (`conversation_item:10` sorts before `conversation_item:2`). Optional members
//! are written as `null`, with the single exception of
//! `ConversationItem::agent_message`, which is omitted when empty.

mod conversation;
mod item_ids;
mod payload_ref;
mod runtime;
mod status;
mod wire_names;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Serialize;

pub use conversation::AgentMessageMetadata;
pub use conversation::ConversationBody;
pub use conversation::ConversationChannel;
pub use conversation::ConversationItem;
pub use conversation::ConversationItemKind;
pub use conversation::ConversationPart;
pub use conversation::ConversationRole;
pub use conversation::ProducerRef;
pub use item_ids::ITEM_ID_PREFIX;
pub use item_ids::ItemIdList;
pub use item_ids::item_id;
pub use item_ids::item_number;
pub use payload_ref::RawPayloadKind;
pub use payload_ref::RawPayloadRef;
pub use runtime::CodeCell;
pub use runtime::InferenceCall;
pub use runtime::TerminalModelObservation;
pub use runtime::TerminalObservationSource;
pub use runtime::TerminalOperation;
pub use runtime::TerminalOperationKind;
pub use runtime::TerminalRequest;
pub use runtime::TerminalResult;
pub use runtime::TerminalSession;
pub use runtime::TokenUsage;
pub use runtime::ToolCall;
pub use runtime::ToolCallRequester;
pub use status::CodeCellRuntimeStatus;
pub use status::ExecutionStatus;
pub use status::RolloutStatus;
pub use status::ToolCallKind;
pub use status::ToolCallSummary;

/// Schema version of the reduced state (not of the raw format).
pub const REDUCED_SCHEMA_VERSION: u32 = 1;

/// The whole reduced rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutTrace {
    pub schema_version: u32,
    pub trace_id: String,
    pub rollout_id: String,
    pub started_at_unix_ms: i64,
    pub ended_at_unix_ms: Option<i64>,
    pub status: RolloutStatus,
    pub root_thread_id: String,
    pub threads: BTreeMap<String, AgentThread>,
    pub codex_turns: BTreeMap<String, CodexTurn>,
    pub conversation_items: BTreeMap<String, ConversationItem>,
    pub inference_calls: BTreeMap<String, InferenceCall>,
    pub code_cells: BTreeMap<String, CodeCell>,
    pub tool_calls: BTreeMap<String, ToolCall>,
    pub terminal_sessions: BTreeMap<String, TerminalSession>,
    pub terminal_operations: BTreeMap<String, TerminalOperation>,
    pub compactions: BTreeMap<String, Compaction>,
    pub compaction_requests: BTreeMap<String, CompactionRequest>,
    pub interaction_edges: BTreeMap<String, InteractionEdge>,
    pub raw_payloads: BTreeMap<String, RawPayloadRef>,
}

impl RolloutTrace {
    /// The state before any event: identity from the manifest, everything else empty.
    pub fn new(
        trace_id: String,
        rollout_id: String,
        root_thread_id: String,
        started_at_unix_ms: i64,
    ) -> Self {
        RolloutTrace {
            schema_version: REDUCED_SCHEMA_VERSION,
            trace_id,
            rollout_id,
            started_at_unix_ms,
            ended_at_unix_ms: None,
            status: RolloutStatus::Running,
            root_thread_id,
            threads: BTreeMap::new(),
            codex_turns: BTreeMap::new(),
            conversation_items: BTreeMap::new(),
            inference_calls: BTreeMap::new(),
            code_cells: BTreeMap::new(),
            tool_calls: BTreeMap::new(),
            terminal_sessions: BTreeMap::new(),
            terminal_operations: BTreeMap::new(),
            compactions: BTreeMap::new(),
            compaction_requests: BTreeMap::new(),
            interaction_edges: BTreeMap::new(),
            raw_payloads: BTreeMap::new(),
        }
    }
}

/// Start and end of something that ran, in wall time and event order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionWindow {
    pub started_at_unix_ms: i64,
    pub started_seq: u64,
    pub ended_at_unix_ms: Option<i64>,
    pub ended_seq: Option<u64>,
    pub status: ExecutionStatus,
}

impl ExecutionWindow {
    /// An open window started by the event at `seq`.
    pub fn started(started_at_unix_ms: i64, started_seq: u64) -> Self {
        ExecutionWindow {
            started_at_unix_ms,
            started_seq,
            ended_at_unix_ms: None,
            ended_seq: None,
            status: ExecutionStatus::Running,
        }
    }

    /// Closes the window at the event `seq` with `status`.
    pub fn end(&mut self, ended_at_unix_ms: i64, ended_seq: u64, status: ExecutionStatus) {
        self.ended_at_unix_ms = Some(ended_at_unix_ms);
        self.ended_seq = Some(ended_seq);
        self.status = status;
    }
}

/// One agent thread (the root or a spawned child).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentThread {
    pub thread_id: String,
    pub agent_path: String,
    pub nickname: Option<String>,
    pub origin: AgentOrigin,
    pub execution: ExecutionWindow,
    pub default_model: Option<String>,
    /// Every item of the thread in first-observation order, without duplicates.
    pub conversation_item_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AgentOrigin {
    Root,
    Spawned {
        parent_thread_id: String,
        spawn_edge_id: String,
        task_name: String,
        agent_role: String,
    },
}

/// One Codex turn of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodexTurn {
    pub codex_turn_id: String,
    pub thread_id: String,
    pub execution: ExecutionWindow,
    /// Never populated upstream; kept for schema compatibility.
    pub input_item_ids: Vec<String>,
}

/// A compaction checkpoint installed into a thread's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compaction {
    pub compaction_id: String,
    pub thread_id: String,
    pub codex_turn_id: String,
    pub installed_at_unix_ms: i64,
    pub marker_item_id: String,
    pub request_ids: Vec<String>,
    pub input_item_ids: ItemIdList,
    pub replacement_item_ids: ItemIdList,
}

/// One attempt at the compaction endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionRequest {
    pub compaction_request_id: String,
    pub compaction_id: String,
    pub thread_id: String,
    pub codex_turn_id: String,
    pub execution: ExecutionWindow,
    pub model: String,
    pub provider_name: String,
    pub raw_request_payload_id: String,
    pub raw_response_payload_id: Option<String>,
}

/// Work or results flowing between agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionEdge {
    pub edge_id: String,
    pub kind: InteractionEdgeKind,
    pub source: TraceAnchor,
    pub target: TraceAnchor,
    pub started_at_unix_ms: i64,
    pub ended_at_unix_ms: Option<i64>,
    pub carried_item_ids: Vec<String>,
    pub carried_raw_payload_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionEdgeKind {
    SpawnAgent,
    AssignAgentTask,
    SendMessage,
    AgentResult,
    CloseAgent,
}

/// One end of an interaction edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TraceAnchor {
    ConversationItem { item_id: String },
    ToolCall { tool_call_id: String },
    Thread { thread_id: String },
}
