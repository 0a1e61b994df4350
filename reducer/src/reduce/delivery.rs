//! How an item reads as an agent delivery (`reduction.md` §13.1): the
//! author and content an interaction edge must match to target it.
//!
//! Invariant: a pure function of the item and its thread's agent path.

use super::agent_wire::InterAgentCommunication;
use crate::model::ConversationItem;
use crate::model::ConversationItemKind;
use crate::model::ConversationPart;
use crate::model::ConversationRole;

/// `reduction.md` §13.1: (author, content) when the item is an agent
/// message delivered to the thread whose agent path is `thread_agent_path`.
pub(super) fn delivery_reading(
    item: &ConversationItem,
    thread_agent_path: &str,
) -> Option<(String, String)> {
    if item.role != ConversationRole::Assistant || item.kind != ConversationItemKind::Message {
        return None;
    }
    let (author, recipient, content) = match &item.agent_message {
        Some(metadata) => {
            let content = match item.body.parts.as_slice() {
                [ConversationPart::Text { text }] => text.clone(),
                [ConversationPart::Encoded { label, value }]
                | [
                    ConversationPart::Text { .. },
                    ConversationPart::Encoded { label, value },
                ] if label == "encrypted_content" => value.clone(),
                _ => return None,
            };
            (metadata.author.clone(), metadata.recipient.clone(), content)
        }
        None => {
            let [ConversationPart::Text { text }] = item.body.parts.as_slice() else {
                return None;
            };
            // Cheap rejection before a parse: only an object (or, as serde
            // allows for fixed shapes, an array) can decode.
            if !text.trim_start().starts_with(['{', '[']) {
                return None;
            }
            let message: InterAgentCommunication = serde_json::from_str(text).ok()?;
            let content = message.encrypted_content.unwrap_or(message.content);
            (message.author.0, message.recipient.0, content)
        }
    };
    (recipient == thread_agent_path).then_some((author, content))
}
