//! The model-visible conversation: items, their bodies and who produced them.

use serde::Deserialize;
use serde::Serialize;

/// One item of a thread's model-visible history, deduplicated across requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationItem {
    /// `conversation_item:<n>`, from one counter for the whole replay.
    pub item_id: String,
    pub thread_id: String,
    /// The turn that created the item (always set by the reducer).
    pub codex_turn_id: Option<String>,
    pub first_seen_at_unix_ms: i64,
    pub role: ConversationRole,
    pub channel: Option<ConversationChannel>,
    pub kind: ConversationItemKind,
    /// Present only for `agent_message` items; the only member of the model
    /// that is omitted rather than written as `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_message: Option<AgentMessageMetadata>,
    pub body: ConversationBody,
    pub call_id: Option<String>,
    pub produced_by: Vec<ProducerRef>,
}

/// Routing of a multi-agent message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentMessageMetadata {
    pub author: String,
    pub recipient: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ConversationBody {
    pub parts: Vec<ConversationPart>,
}

/// One part of an item body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ConversationPart {
    Text {
        text: String,
    },
    Summary {
        text: String,
    },
    Encoded {
        label: String,
        value: String,
    },
    /// JSON rendered compactly and cut to 240 bytes; compared by `summary` only.
    Json {
        summary: String,
        raw_payload_id: String,
    },
    Code {
        language: String,
        source: String,
    },
    /// Content kept only by reference to the payload it came from.
    PayloadRef {
        label: String,
        raw_payload_id: String,
    },
}

/// What caused an item to exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ProducerRef {
    UserInput,
    Inference { inference_call_id: String },
    Tool { tool_call_id: String },
    CodeCell { code_cell_id: String },
    InteractionEdge { edge_id: String },
    Compaction { compaction_id: String },
    Harness,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationRole {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationChannel {
    Analysis,
    Commentary,
    Final,
    Summary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationItemKind {
    Message,
    Reasoning,
    FunctionCall,
    FunctionCallOutput,
    CustomToolCall,
    CustomToolCallOutput,
    CompactionMarker,
}

impl ConversationItemKind {
    /// Kinds that carry a model-visible tool request.
    pub fn is_tool_call(self) -> bool {
        matches!(
            self,
            ConversationItemKind::FunctionCall | ConversationItemKind::CustomToolCall
        )
    }

    /// Kinds that carry a tool's output back to the model.
    pub fn is_tool_output(self) -> bool {
        matches!(
            self,
            ConversationItemKind::FunctionCallOutput | ConversationItemKind::CustomToolCallOutput
        )
    }
}
