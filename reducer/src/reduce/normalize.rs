//! Model items (request input, response output, checkpoint histories) turned
//! into conversation data, before any identity is assigned.
//!
//! Each item is normalized without its top-level history metadata member
//! (upstream main's rule, `upstream-main.md` §2): producers stamp it on items
//! entering history, so the same call re-sent later must normalize as it did
//! in the response that produced it.
//!
//! Normalization is a pure function of one payload's item array: the same
//! JSON always gives the same `NormalizedItem`s, whatever the reducer state.
//! Errors abort before anything is reconciled.

use serde::Deserialize;
use serde_json::Map;
use serde_json::Value;

use crate::error::ReduceError;
use crate::error::bail;
use crate::model::AgentMessageMetadata;
use crate::model::ConversationBody;
use crate::model::ConversationChannel;
use crate::model::ConversationItemKind;
use crate::model::ConversationPart;
use crate::model::ConversationRole;
use crate::model::TokenUsage;

/// Longest rendering of a JSON value kept in a `json` part, in bytes.
const JSON_SUMMARY_MAX_BYTES: usize = 240;

/// The top-level member of a model item in which producers stamp history
/// metadata (`turn_id`, `create_time`): stripped before normalization.
pub(crate) const HISTORY_METADATA_MEMBER: &str = "internal_chat_message_metadata_passthrough";

/// One model item reduced to the fields that identify a conversation item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NormalizedItem {
    pub role: ConversationRole,
    pub channel: Option<ConversationChannel>,
    pub kind: ConversationItemKind,
    pub agent_message: Option<AgentMessageMetadata>,
    pub body: ConversationBody,
    pub call_id: Option<String>,
}

/// Normalizes every element of `items`; `payload_id` is embedded in `json`
/// and `payload_ref` parts. `additional_tools` elements are dropped. The
/// items are consumed: their strings move into the result without copies.
pub(crate) fn normalize_items(
    items: Vec<Value>,
    payload_id: &str,
) -> Result<Vec<NormalizedItem>, ReduceError> {
    let mut normalized = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = normalize_item(item, payload_id)? {
            normalized.push(item);
        }
    }
    Ok(normalized)
}

/// The model item types the reducer knows.
#[derive(Clone, Copy)]
enum ItemType {
    AdditionalTools,
    Message,
    AgentMessage,
    Reasoning,
    FunctionCall,
    FunctionCallOutput,
    CustomToolCall,
    CustomToolCallOutput,
    /// Search, web search, image generation and local shell calls: kept whole as JSON.
    OpaqueCall,
    /// Tool search and MCP outputs: kept whole as JSON.
    OpaqueOutput,
    Compaction,
}

fn item_type(item: &Map<String, Value>, pid: &str) -> Result<ItemType, ReduceError> {
    let Some(item_type) = item.get("type").and_then(Value::as_str) else {
        bail!("model item in payload {pid} did not contain a string type");
    };
    Ok(match item_type {
        "additional_tools" => ItemType::AdditionalTools,
        "message" => ItemType::Message,
        "agent_message" => ItemType::AgentMessage,
        "reasoning" => ItemType::Reasoning,
        "function_call" => ItemType::FunctionCall,
        "function_call_output" => ItemType::FunctionCallOutput,
        "custom_tool_call" => ItemType::CustomToolCall,
        "custom_tool_call_output" => ItemType::CustomToolCallOutput,
        "tool_search_call" | "web_search_call" | "image_generation_call" | "local_shell_call" => {
            ItemType::OpaqueCall
        }
        "tool_search_output" | "mcp_tool_call_output" => ItemType::OpaqueOutput,
        "compaction" | "compaction_summary" | "context_compaction" => ItemType::Compaction,
        other => bail!("unsupported model item type {other} in payload {pid}"),
    })
}

/// Normalizes one item; `None` for an item that is not a conversation item
/// (`additional_tools`).
pub(crate) fn normalize_item(
    item: Value,
    pid: &str,
) -> Result<Option<NormalizedItem>, ReduceError> {
    let Value::Object(mut item) = item else {
        bail!("model item in payload {pid} did not contain a string type");
    };
    // Upstream main (`upstream-main.md` §2): history metadata is not
    // model-visible. Only the top-level member goes, and it goes as
    // `Map::remove` does under `preserve_order`: the last member takes its
    // place, which JSON summaries show.
    item.swap_remove(HISTORY_METADATA_MEMBER);
    let tool_item = |role, kind, body, item: &mut Map<String, Value>| NormalizedItem {
        role,
        channel: Some(ConversationChannel::Commentary),
        kind,
        agent_message: None,
        body,
        call_id: take_string(item, "call_id"),
    };
    let normalized = match item_type(&item, pid)? {
        ItemType::AdditionalTools => return Ok(None),
        ItemType::Message => normalize_message(item, pid)?,
        ItemType::AgentMessage => normalize_agent_message(item, pid)?,
        ItemType::Reasoning => NormalizedItem {
            role: ConversationRole::Assistant,
            channel: Some(ConversationChannel::Analysis),
            kind: ConversationItemKind::Reasoning,
            agent_message: None,
            body: reasoning_body(&mut item, pid)?,
            call_id: None,
        },
        ItemType::FunctionCall => {
            let body = arguments_body(item.remove("arguments"), pid);
            tool_item(
                ConversationRole::Assistant,
                ConversationItemKind::FunctionCall,
                body,
                &mut item,
            )
        }
        ItemType::FunctionCallOutput => {
            let body = output_body(item.remove("output"), pid);
            tool_item(
                ConversationRole::Tool,
                ConversationItemKind::FunctionCallOutput,
                body,
                &mut item,
            )
        }
        ItemType::CustomToolCall => {
            let body = custom_call_body(&mut item, pid);
            tool_item(
                ConversationRole::Assistant,
                ConversationItemKind::CustomToolCall,
                body,
                &mut item,
            )
        }
        ItemType::CustomToolCallOutput => {
            let body = output_body(item.remove("output"), pid);
            tool_item(
                ConversationRole::Tool,
                ConversationItemKind::CustomToolCallOutput,
                body,
                &mut item,
            )
        }
        ItemType::OpaqueCall => {
            let body = json_map_body(&item, pid);
            tool_item(
                ConversationRole::Assistant,
                ConversationItemKind::FunctionCall,
                body,
                &mut item,
            )
        }
        ItemType::OpaqueOutput => {
            let body = json_map_body(&item, pid);
            tool_item(
                ConversationRole::Tool,
                ConversationItemKind::FunctionCallOutput,
                body,
                &mut item,
            )
        }
        ItemType::Compaction => {
            let Some(encrypted) = take_string(&mut item, "encrypted_content") else {
                bail!("compaction item in payload {pid} did not contain string encrypted_content");
            };
            NormalizedItem {
                role: ConversationRole::Assistant,
                channel: Some(ConversationChannel::Summary),
                kind: ConversationItemKind::Message,
                agent_message: None,
                body: ConversationBody {
                    parts: vec![encoded(encrypted)],
                },
                call_id: None,
            }
        }
    };
    Ok(Some(normalized))
}

/// Moves a string member out of `item`; other types count as absent.
fn take_string(item: &mut Map<String, Value>, key: &str) -> Option<String> {
    match item.get_mut(key) {
        Some(Value::String(text)) => Some(std::mem::take(text)),
        _ => None,
    }
}

fn normalize_message(
    mut item: Map<String, Value>,
    pid: &str,
) -> Result<NormalizedItem, ReduceError> {
    let Some(role) = item.get("role").and_then(Value::as_str) else {
        bail!("message item in payload {pid} did not contain a string role");
    };
    let role = match role {
        "system" => ConversationRole::System,
        "developer" => ConversationRole::Developer,
        "user" => ConversationRole::User,
        "assistant" => ConversationRole::Assistant,
        "tool" => ConversationRole::Tool,
        other => bail!("unsupported message role {other} in payload {pid}"),
    };
    let channel = match item.get("phase").and_then(Value::as_str) {
        Some("commentary") => Some(ConversationChannel::Commentary),
        Some("final_answer") => Some(ConversationChannel::Final),
        Some("summary") => Some(ConversationChannel::Summary),
        _ => None,
    };
    Ok(NormalizedItem {
        role,
        channel,
        kind: ConversationItemKind::Message,
        agent_message: None,
        body: ConversationBody {
            parts: content_parts(item.remove("content"), pid),
        },
        call_id: None,
    })
}

/// A protocol agent message, decoded strictly as a whole. It is decoded as
/// the one variant of a `type`-tagged enum, as upstream decodes its response
/// item: serde then buffers the item before decoding the fields, and a
/// buffered content part accepts its variant index (`"type": 1`) as a tag.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TaggedAgentMessage {
    AgentMessage(RawAgentMessage),
}

#[derive(Deserialize)]
struct RawAgentMessage {
    author: String,
    recipient: String,
    content: Vec<AgentMessageInputContent>,
    #[serde(rename = "id")]
    _id: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentMessageInputContent {
    InputText { text: String },
    EncryptedContent { encrypted_content: String },
}

fn normalize_agent_message(
    item: Map<String, Value>,
    pid: &str,
) -> Result<NormalizedItem, ReduceError> {
    let TaggedAgentMessage::AgentMessage(message) = serde_json::from_value(Value::Object(item))
        .map_err(|error| {
            ReduceError::caused(
                format!("failed to parse agent_message item in payload {pid}"),
                error,
            )
        })?;
    if message.content.is_empty() {
        bail!("agent_message item in payload {pid} contained no content");
    }
    let parts = message
        .content
        .into_iter()
        .map(|content| match content {
            AgentMessageInputContent::InputText { text } => ConversationPart::Text { text },
            AgentMessageInputContent::EncryptedContent { encrypted_content } => {
                encoded(encrypted_content)
            }
        })
        .collect();
    Ok(NormalizedItem {
        role: ConversationRole::Assistant,
        channel: Some(ConversationChannel::Analysis),
        kind: ConversationItemKind::Message,
        agent_message: Some(AgentMessageMetadata {
            author: message.author,
            recipient: message.recipient,
        }),
        body: ConversationBody { parts },
        call_id: None,
    })
}

/// Readable content texts, then summaries, then the encrypted blob.
fn reasoning_body(
    item: &mut Map<String, Value>,
    pid: &str,
) -> Result<ConversationBody, ReduceError> {
    let mut parts = Vec::new();
    match item.get_mut("content") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) => {
            for entry in entries {
                let Some(entry_type) = entry.get("type").and_then(Value::as_str) else {
                    bail!("reasoning item in payload {pid} had content entry without string type");
                };
                if !matches!(entry_type, "reasoning_text" | "text") {
                    bail!(
                        "reasoning item in payload {pid} had unsupported content type {entry_type}"
                    );
                }
                let Some(Value::String(text)) = entry.get_mut("text") else {
                    bail!("reasoning item in payload {pid} had content entry without string text");
                };
                parts.push(ConversationPart::Text {
                    text: std::mem::take(text),
                });
            }
        }
        Some(_) => bail!("reasoning item in payload {pid} had non-array content"),
    }
    match item.get_mut("summary") {
        None => {}
        Some(Value::Array(entries)) => {
            for entry in entries {
                let Some(entry_type) = entry.get("type").and_then(Value::as_str) else {
                    bail!("reasoning item in payload {pid} had summary entry without string type");
                };
                if entry_type != "summary_text" {
                    bail!(
                        "reasoning item in payload {pid} had unsupported summary type {entry_type}"
                    );
                }
                let Some(Value::String(text)) = entry.get_mut("text") else {
                    bail!("reasoning item in payload {pid} had summary entry without string text");
                };
                parts.push(ConversationPart::Summary {
                    text: std::mem::take(text),
                });
            }
        }
        Some(_) => bail!("reasoning item in payload {pid} had non-array summary"),
    }
    match item.get_mut("encrypted_content") {
        None | Some(Value::Null) => {}
        Some(Value::String(encrypted)) => parts.push(encoded(std::mem::take(encrypted))),
        Some(_) => bail!("reasoning item in payload {pid} had non-string encrypted_content"),
    }
    if parts.is_empty() {
        bail!(
            "reasoning item in payload {pid} contained no content, summary, or encrypted_content"
        );
    }
    Ok(ConversationBody { parts })
}

/// Message content (and array tool outputs): texts inline, everything else by reference.
fn content_parts(content: Option<Value>, pid: &str) -> Vec<ConversationPart> {
    let Some(Value::Array(elements)) = content else {
        return vec![payload_ref("content", pid)];
    };
    let mut parts = Vec::new();
    for element in elements {
        let Value::Object(mut element) = element else {
            parts.push(payload_ref("content", pid));
            continue;
        };
        match element.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => {
                if let Some(text) = take_string(&mut element, "text") {
                    parts.push(ConversationPart::Text { text });
                }
            }
            Some(other) => parts.push(payload_ref(other, pid)),
            None => parts.push(payload_ref("content", pid)),
        }
    }
    if parts.is_empty() {
        parts.push(payload_ref("empty_content", pid));
    }
    parts
}

/// Function-call arguments: JSON text becomes a `json` part, other text stays text.
fn arguments_body(arguments: Option<Value>, pid: &str) -> ConversationBody {
    match arguments {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(parsed) => json_body(&parsed, pid),
            Err(_) => ConversationBody {
                parts: vec![ConversationPart::Text { text }],
            },
        },
        Some(value) => json_body(&value, pid),
        None => ConversationBody {
            parts: vec![payload_ref("payload", pid)],
        },
    }
}

fn output_body(output: Option<Value>, pid: &str) -> ConversationBody {
    let parts = match output {
        Some(Value::String(text)) => vec![ConversationPart::Text { text }],
        Some(array @ Value::Array(_)) => content_parts(Some(array), pid),
        Some(value) => return json_body(&value, pid),
        None => vec![payload_ref("tool_output", pid)],
    };
    ConversationBody { parts }
}

/// Custom tool input: the code-mode `exec` tool carries JavaScript.
fn custom_call_body(item: &mut Map<String, Value>, pid: &str) -> ConversationBody {
    if !matches!(item.get("input"), Some(Value::String(_))) {
        return json_map_body(item, pid);
    }
    let is_exec = item.get("name").and_then(Value::as_str) == Some("exec");
    let input = take_string(item, "input").unwrap_or_default();
    let part = if is_exec {
        ConversationPart::Code {
            language: "javascript".to_string(),
            source: input,
        }
    } else {
        ConversationPart::Text { text: input }
    };
    ConversationBody { parts: vec![part] }
}

/// `json` body of a whole item (rendered before any member is moved out).
fn json_map_body(item: &Map<String, Value>, pid: &str) -> ConversationBody {
    ConversationBody {
        parts: vec![ConversationPart::Json {
            summary: summarize_json(item),
            raw_payload_id: pid.to_string(),
        }],
    }
}

fn json_body(value: &Value, pid: &str) -> ConversationBody {
    ConversationBody {
        parts: vec![ConversationPart::Json {
            summary: summarize_json(value),
            raw_payload_id: pid.to_string(),
        }],
    }
}

fn payload_ref(label: &str, pid: &str) -> ConversationPart {
    ConversationPart::PayloadRef {
        label: label.to_string(),
        raw_payload_id: pid.to_string(),
    }
}

fn encoded(value: String) -> ConversationPart {
    ConversationPart::Encoded {
        label: "encrypted_content".to_string(),
        value,
    }
}

/// Compact JSON (source member order) cut to 240 bytes plus `...`.
///
/// Upstream cuts at byte 240 even inside a multi-byte character and panics;
/// we cut at the last character boundary at or before byte 240 (spec README,
/// policy P2), which is identical whenever upstream does not crash.
pub(crate) fn summarize_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Render only as much as the summary can keep: large arguments are
    // re-sent with every request, and rendering them whole is wasted work.
    let mut prefix = BoundedBuffer {
        bytes: Vec::with_capacity(64),
        limit: JSON_SUMMARY_MAX_BYTES + 1,
    };
    let complete = serde_json::to_writer(&mut prefix, value).is_ok();
    let mut bytes = prefix.bytes;
    if !complete || bytes.len() > JSON_SUMMARY_MAX_BYTES {
        bytes.truncate(character_start(&bytes, JSON_SUMMARY_MAX_BYTES));
        bytes.extend_from_slice(b"...");
    }
    // serde_json writes valid UTF-8 and the cut is on a character boundary.
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// The first byte of the character of UTF-8 `bytes` that holds byte `cut`
/// (`cut` itself when it starts a character or is past the end).
fn character_start(bytes: &[u8], mut cut: usize) -> usize {
    while cut > 0 && bytes.get(cut).is_some_and(|&byte| byte & 0xC0 == 0x80) {
        cut -= 1;
    }
    cut
}

/// A writer that keeps the first `limit` bytes and then refuses more.
struct BoundedBuffer {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for BoundedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.bytes.len();
        if room == 0 {
            return Err(std::io::Error::other("summary prefix complete"));
        }
        let taken = room.min(buf.len());
        self.bytes.extend_from_slice(&buf[..taken]);
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Token counts of a response payload; `None` leaves the call's usage as it was.
pub(crate) fn token_usage(value: &Value) -> Option<TokenUsage> {
    let count = |field: &str| {
        value
            .get(field)
            .and_then(Value::as_i64)
            .map(|count| count.max(0).unsigned_abs())
    };
    Some(TokenUsage {
        input_tokens: count("input_tokens")?,
        cached_input_tokens: count("cached_input_tokens")?,
        cache_write_input_tokens: count("cache_write_input_tokens").unwrap_or(0),
        output_tokens: count("output_tokens")?,
        reasoning_output_tokens: count("reasoning_output_tokens")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_cut_keeps_whole_characters() {
        let text = format!("{}é", "a".repeat(237));
        let summary = summarize_json(&Value::String(text));
        // `"` + 237 × `a` + `é` (2 bytes) spans bytes 0..240; byte 240 is the first after the cut.
        assert_eq!(summary, format!("\"{}é...", "a".repeat(237)));
        let straddling = format!("{}é", "a".repeat(238));
        let summary = summarize_json(&Value::String(straddling));
        assert_eq!(summary, format!("\"{}...", "a".repeat(238)));
    }

    #[test]
    fn a_summary_of_exactly_the_limit_is_not_cut() {
        let at_limit = Value::String("a".repeat(JSON_SUMMARY_MAX_BYTES - 2));
        assert_eq!(summarize_json(&at_limit).len(), JSON_SUMMARY_MAX_BYTES);
        let over = Value::String("a".repeat(JSON_SUMMARY_MAX_BYTES - 1));
        assert!(summarize_json(&over).ends_with("a..."));
    }

    #[test]
    fn the_summary_buffer_keeps_its_limit_and_refuses_more() {
        use std::io::Write;
        let mut buffer = BoundedBuffer {
            bytes: Vec::new(),
            limit: 5,
        };
        assert_eq!(buffer.write(b"abc").ok(), Some(3));
        assert_eq!(buffer.write(b"defgh").ok(), Some(2));
        assert!(buffer.write(b"i").is_err());
        assert_eq!(buffer.bytes, b"abcde");
    }

    #[test]
    fn usage_clamps_negative_counts_and_rejects_fractions() {
        let usage = token_usage(&serde_json::json!({
            "input_tokens": -3, "cached_input_tokens": 1, "output_tokens": 2,
            "reasoning_output_tokens": 0
        }));
        assert_eq!(
            usage,
            Some(TokenUsage {
                input_tokens: 0,
                cached_input_tokens: 1,
                cache_write_input_tokens: 0,
                output_tokens: 2,
                reasoning_output_tokens: 0,
            })
        );
        assert_eq!(
            token_usage(&serde_json::json!({
                "input_tokens": 1.0, "cached_input_tokens": 1, "output_tokens": 2,
                "reasoning_output_tokens": 0
            })),
            None
        );
    }
}
