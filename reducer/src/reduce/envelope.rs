//! Plaintext collaboration envelopes: why some agent deliveries never match.
//!
//! Current Codex builds deliver a plaintext `spawn_agent`, `send_message` or
//! `followup_task` message to the recipient as an `agent_message` whose one
//! text part wraps the message:
//!
//! ```text
//! Message Type: NEW_TASK
//! Task name: /root/worker
//! Sender: /root
//! Payload:
//! <the message>
//! ```
//!
//! Upstream's delivery matching compares the whole text with the message, so
//! such an edge never resolves to the item (`upstream-main.md` §4). We keep
//! that outcome exactly and only explain it: this module finds, for an edge
//! that is dropped or falls back to its thread, the item that carried its
//! message in an envelope. Nothing here changes `state.json`.
//!
//! Invariant: the lookup table is built once, at the end of replay and only
//! when some edge is undelivered, in one pass over the items (first item wins).

use std::collections::HashMap;

use super::Reducer;
use crate::model::ConversationItem;
use crate::model::ConversationPart;

/// What precedes the message type in an envelope.
const MESSAGE_TYPE_PREFIX: &str = "Message Type: ";
/// What separates the envelope's header lines from the message.
const PAYLOAD_SEPARATOR: &str = "\nPayload:\n";

/// An envelope found in a conversation item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EnvelopeDelivery {
    pub item_id: String,
    /// `NEW_TASK`, `MESSAGE`, `FINAL_ANSWER`, ...
    pub message_type: String,
}

/// Envelope deliveries by (recipient thread, author, wrapped message).
#[derive(Debug, Default)]
pub(super) struct EnvelopeIndex {
    deliveries: HashMap<(String, String, String), EnvelopeDelivery>,
}

impl EnvelopeIndex {
    /// The first item of `thread_id` from `author` whose envelope wraps `message`.
    pub(super) fn find(
        &self,
        thread_id: &str,
        author: &str,
        message: &str,
    ) -> Option<&EnvelopeDelivery> {
        self.deliveries.get(&(
            thread_id.to_string(),
            author.to_string(),
            message.to_string(),
        ))
    }
}

impl Reducer {
    /// Every agent message whose single text part is an envelope.
    pub(super) fn envelope_index(&self) -> EnvelopeIndex {
        let mut index = EnvelopeIndex::default();
        for item in &self.items {
            let Some((message_type, message)) = envelope_of(item) else {
                continue;
            };
            let Some(metadata) = &item.agent_message else {
                continue;
            };
            index
                .deliveries
                .entry((
                    item.thread_id.clone(),
                    metadata.author.clone(),
                    message.to_string(),
                ))
                .or_insert_with(|| EnvelopeDelivery {
                    item_id: item.item_id.clone(),
                    message_type: message_type.to_string(),
                });
        }
        index
    }
}

/// The message type and wrapped message of an agent message item.
fn envelope_of(item: &ConversationItem) -> Option<(&str, &str)> {
    item.agent_message.as_ref()?;
    let [ConversationPart::Text { text }] = item.body.parts.as_slice() else {
        return None;
    };
    parse_envelope(text)
}

/// `(message type, message)` of an envelope text: a `Message Type:` line,
/// header lines, then `Payload:` and the message.
fn parse_envelope(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(MESSAGE_TYPE_PREFIX)?;
    let (header, message) = rest.split_once(PAYLOAD_SEPARATOR)?;
    let message_type = header.split('\n').next()?;
    Some((message_type, message))
}

#[cfg(test)]
mod tests {
    use super::parse_envelope;

    #[test]
    fn envelopes_give_their_type_and_message() {
        let text = "Message Type: NEW_TASK\nTask name: /root/worker\nSender: /root\nPayload:\ncount the files\nthen stop";
        assert_eq!(
            parse_envelope(text),
            Some(("NEW_TASK", "count the files\nthen stop"))
        );
        assert_eq!(
            parse_envelope("Message Type: MESSAGE\nPayload:\n"),
            Some(("MESSAGE", ""))
        );
        assert_eq!(parse_envelope("count the files"), None);
        assert_eq!(
            parse_envelope("Message Type: NEW_TASK\nno payload line"),
            None
        );
    }
}
