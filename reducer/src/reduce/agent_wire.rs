//! The multi-agent payload shapes, decoded exactly as upstream decodes them.
//!
//! Upstream reads these payloads through Codex's protocol types
//! (`CollabAgentSpawnEndEvent`, `InterAgentCommunication`, ...), so whether a
//! payload decodes, and the text of the error when it does not, follow those
//! types. Invariants, each visible in an error message or in what decodes:
//! - Every type carries its upstream name (serde writes it in `invalid type`
//!   and `invalid length` messages).
//! - Fields are declared in upstream's order with upstream's types and
//!   `default`s (the order decides the positional array form and which
//!   missing field is reported; a `default` integer rejects `null`).
//! - Thread ids decode with the `uuid` crate's parser and message, agent paths
//!   and reasoning efforts with upstream's validation messages.

use serde::Deserialize;
use serde::Deserializer;
use serde_json::Value;

use crate::error::ReduceError;

/// A thread id (upstream `ThreadId`): any UUID spelling the `uuid` crate
/// parses, kept in canonical lowercase hyphenated form.
pub(super) struct CanonicalUuid(pub String);

impl<'de> Deserialize<'de> for CanonicalUuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        uuid::Uuid::parse_str(&text)
            .map(|uuid| CanonicalUuid(uuid.hyphenated().to_string()))
            .map_err(serde::de::Error::custom)
    }
}

/// An agent path (upstream `AgentPath`): `/morpheus`, or `/root` followed by
/// lowercase segments.
pub(super) struct AgentPath(pub String);

impl<'de> Deserialize<'de> for AgentPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match validate_agent_path(&text) {
            Ok(()) => Ok(AgentPath(text)),
            Err(message) => Err(serde::de::Error::custom(message)),
        }
    }
}

/// Upstream's rules for an absolute agent path, with its messages.
fn validate_agent_path(path: &str) -> Result<(), String> {
    const PREFIX_RULE: &str = "absolute agent paths must start with `/root` or be `/morpheus`";
    if path == "/morpheus" {
        return Ok(());
    }
    let Some(stripped) = path.strip_prefix('/') else {
        return Err(PREFIX_RULE.to_string());
    };
    let mut segments = stripped.split('/');
    if segments.next() != Some("root") {
        return Err(PREFIX_RULE.to_string());
    }
    if stripped.ends_with('/') {
        return Err("absolute agent path must not end with `/`".to_string());
    }
    segments.try_for_each(validate_agent_name)
}

fn validate_agent_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("agent_name must not be empty".to_string());
    }
    if name == "root" {
        return Err("agent_name `root` is reserved".to_string());
    }
    if name == "." || name == ".." {
        return Err(format!("agent_name `{name}` is reserved"));
    }
    // Upstream also refuses a `/` here; names come from splitting a path on
    // `/`, so none can hold one.
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    {
        return Err(
            "agent_name must use only lowercase letters, digits, and underscores".to_string(),
        );
    }
    Ok(())
}

/// A reasoning effort (upstream `ReasoningEffort`): any non-empty string.
struct ReasoningEffort;

impl<'de> Deserialize<'de> for ReasoningEffort {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let effort = String::deserialize(deserializer)?;
        if effort.is_empty() {
            return Err(serde::de::Error::custom(
                "reasoning_effort must not be empty",
            ));
        }
        Ok(ReasoningEffort)
    }
}

/// The status a multi-agent tool reports for its target.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum AgentStatus {
    PendingInit,
    Running,
    Interrupted,
    Completed(Option<String>),
    Errored(String),
    Shutdown,
    NotFound,
}

#[derive(Deserialize)]
pub(super) struct CollabAgentInteractionBeginEvent {
    #[serde(rename = "call_id")]
    _call_id: String,
    #[serde(rename = "started_at_ms", default)]
    _started_at_ms: i64,
    #[serde(rename = "sender_thread_id")]
    _sender_thread_id: CanonicalUuid,
    pub receiver_thread_id: CanonicalUuid,
    pub prompt: String,
}

#[derive(Deserialize)]
pub(super) struct CollabCloseBeginEvent {
    #[serde(rename = "call_id")]
    _call_id: String,
    #[serde(rename = "started_at_ms", default)]
    _started_at_ms: i64,
    #[serde(rename = "sender_thread_id")]
    _sender_thread_id: CanonicalUuid,
    pub receiver_thread_id: CanonicalUuid,
}

#[derive(Deserialize)]
pub(super) struct CollabAgentSpawnEndEvent {
    #[serde(rename = "call_id")]
    _call_id: String,
    #[serde(rename = "completed_at_ms", default)]
    _completed_at_ms: i64,
    pub sender_thread_id: CanonicalUuid,
    pub new_thread_id: Option<CanonicalUuid>,
    #[serde(rename = "new_agent_nickname", default)]
    _new_agent_nickname: Option<String>,
    #[serde(rename = "new_agent_role", default)]
    _new_agent_role: Option<String>,
    pub prompt: String,
    #[serde(rename = "model")]
    _model: String,
    #[serde(rename = "reasoning_effort")]
    _reasoning_effort: ReasoningEffort,
    #[serde(rename = "status")]
    _status: AgentStatus,
}

#[derive(Deserialize)]
pub(super) struct CollabAgentInteractionEndEvent {
    #[serde(rename = "call_id")]
    _call_id: String,
    #[serde(rename = "completed_at_ms", default)]
    _completed_at_ms: i64,
    #[serde(rename = "sender_thread_id")]
    _sender_thread_id: CanonicalUuid,
    pub receiver_thread_id: CanonicalUuid,
    #[serde(rename = "receiver_agent_nickname", default)]
    _receiver_agent_nickname: Option<String>,
    #[serde(rename = "receiver_agent_role", default)]
    _receiver_agent_role: Option<String>,
    pub prompt: String,
    #[serde(rename = "status")]
    _status: AgentStatus,
}

#[derive(Deserialize)]
pub(super) struct CollabCloseEndEvent {
    #[serde(rename = "call_id")]
    _call_id: String,
    #[serde(rename = "completed_at_ms", default)]
    _completed_at_ms: i64,
    #[serde(rename = "sender_thread_id")]
    _sender_thread_id: CanonicalUuid,
    pub receiver_thread_id: CanonicalUuid,
    #[serde(rename = "receiver_agent_nickname", default)]
    _receiver_agent_nickname: Option<String>,
    #[serde(rename = "receiver_agent_role", default)]
    _receiver_agent_role: Option<String>,
    #[serde(rename = "status")]
    _status: AgentStatus,
}

#[derive(Deserialize)]
pub(super) struct SubAgentActivityEvent {
    #[serde(rename = "event_id")]
    _event_id: String,
    #[serde(rename = "occurred_at_ms", default)]
    _occurred_at_ms: i64,
    pub agent_thread_id: CanonicalUuid,
    #[serde(rename = "agent_path")]
    _agent_path: AgentPath,
    pub kind: SubAgentActivityKind,
}

/// Debug spelling is part of one error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum SubAgentActivityKind {
    Started,
    Interacted,
    Interrupted,
}

/// The message argument of an agent tool's invocation.
#[derive(Deserialize)]
pub(super) struct AgentMessageInvocationArgs {
    pub message: String,
}

/// An inter-agent message delivered as JSON text (the older transport).
#[derive(Deserialize)]
pub(super) struct InterAgentCommunication {
    #[serde(rename = "id", default)]
    _id: Option<String>,
    pub author: AgentPath,
    pub recipient: AgentPath,
    #[serde(rename = "other_recipients", default)]
    _other_recipients: Vec<AgentPath>,
    pub content: String,
    #[serde(default)]
    pub encrypted_content: Option<String>,
    #[serde(rename = "internal_chat_message_metadata_passthrough", default)]
    _passthrough: Option<InternalChatMessageMetadataPassthrough>,
    #[serde(rename = "trigger_turn")]
    _trigger_turn: bool,
}

/// Upstream `InternalChatMessageMetadataPassthrough` as it decodes: only
/// `turn_id` is read (its other member is never deserialized).
#[derive(Deserialize)]
struct InternalChatMessageMetadataPassthrough {
    #[serde(rename = "turn_id", default)]
    _turn_id: Option<String>,
}

/// Bare decoding errors: upstream reports these payload shapes without context.
pub(super) fn decode<T: for<'de> Deserialize<'de>>(value: &Value) -> Result<T, ReduceError> {
    T::deserialize(value).map_err(|error| ReduceError::new(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_paths_follow_upstream_rules_and_messages() {
        for valid in ["/root", "/morpheus", "/root/a", "/root/a_1/b2"] {
            assert_eq!(validate_agent_path(valid), Ok(()), "{valid}");
        }
        let prefix = "absolute agent paths must start with `/root` or be `/morpheus`";
        for (invalid, message) in [
            ("", prefix),
            ("/", prefix),
            ("root", prefix),
            ("/rootx", prefix),
            ("/morpheus/x", prefix),
            ("/root/", "absolute agent path must not end with `/`"),
            ("/root//a", "agent_name must not be empty"),
            ("/root/root", "agent_name `root` is reserved"),
            ("/root/.", "agent_name `.` is reserved"),
            ("/root/..", "agent_name `..` is reserved"),
            (
                "/root/A",
                "agent_name must use only lowercase letters, digits, and underscores",
            ),
            (
                "/root/a-b",
                "agent_name must use only lowercase letters, digits, and underscores",
            ),
        ] {
            assert_eq!(
                validate_agent_path(invalid),
                Err(message.to_string()),
                "{invalid}"
            );
        }
    }

    #[test]
    fn payload_errors_name_upstream_types_and_fields() {
        let message = |value: Value| match decode::<CollabAgentSpawnEndEvent>(&value) {
            Ok(_) => "decoded".to_string(),
            Err(error) => error.to_string(),
        };
        assert_eq!(
            message(serde_json::json!("x")),
            "invalid type: string \"x\", expected struct CollabAgentSpawnEndEvent"
        );
        assert_eq!(
            message(serde_json::json!({"call_id": "c", "completed_at_ms": null})),
            "invalid type: null, expected i64"
        );
        let uuid = "019d0000-0000-7000-8000-000000000001";
        assert_eq!(
            message(serde_json::json!({
                "call_id": "c", "sender_thread_id": uuid, "new_thread_id": null,
                "prompt": "p", "model": "m", "reasoning_effort": "", "status": "running"
            })),
            "reasoning_effort must not be empty"
        );
        assert_eq!(
            message(serde_json::json!([
                "c", 0, uuid, null, null, null, "p", "m", "low", "running"
            ])),
            "decoded"
        );
    }
}
