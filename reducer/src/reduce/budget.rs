//! The state budget (`Limits::max_state_bytes`): a bound on what a bundle
//! can make the reducer build, checked while reducing.
//!
//! A bundle is small when events name the same large payload again and
//! again: every request lists its whole input, so 20,000 requests naming
//! one 20,000-item payload describe a 14 GB `state.json` in 4 MB. The budget
//! counts what serialization will write as the state grows, and stops the
//! reduction at the event that crosses it.
//!
//! Invariants:
//! - Every way the state grows with the size of a payload is charged where
//!   it grows: a conversation item when it is created (its content), an id
//!   list when it is set (per entry, as `state.json` spells it), a terminal
//!   operation and its result (command and output) from the lengths of
//!   their texts, a thread (its metadata) by its serialization. Text is
//!   counted at its length: escapes (`\n`, `\"`) add a few percent to
//!   real output, never more than the factor the count promises. Everything else an event adds is bounded by the
//!   event's own line and charged a typical size per event type.
//! - The count is an estimate of the file's size, not a promise: it is
//!   within a small factor of the real size (tested on the corpus and on
//!   generated sessions), so a limit far above any real session stops a
//!   runaway bundle long before memory or disk runs out.

use serde::Serialize;

use crate::error::ReduceError;
use crate::model::ConversationItem;
use crate::model::ConversationPart;
use crate::model::TerminalOperation;
use crate::model::TerminalRequest;
use crate::model::TerminalResult;
use crate::raw::RawTraceEventPayload;

/// `state.json` of a trace with nothing in it.
pub(super) const EMPTY_STATE_BYTES: u64 = 480;

/// What an event adds besides the objects charged where they grow: a
/// `raw_payloads` entry per payload reference, and the typical size of the
/// object it creates (ending events only change small members, and an
/// observed agent result only marks an existing edge). The typical sizes are
/// checked per event type against what the corpus's events add.
pub(super) fn event_bytes(payload: &RawTraceEventPayload) -> u64 {
    let object = match payload {
        RawTraceEventPayload::CodexTurnStarted { .. } => 300,
        RawTraceEventPayload::InferenceStarted { .. } => 700,
        RawTraceEventPayload::ToolCallStarted { .. } => 1000,
        RawTraceEventPayload::CodeCellStarted { .. } => 460,
        RawTraceEventPayload::CompactionInstalled { .. } => 450,
        RawTraceEventPayload::CompactionRequestStarted { .. } => 550,
        // Agent edges and terminal sessions.
        RawTraceEventPayload::ToolCallRuntimeStarted { .. }
        | RawTraceEventPayload::ToolCallRuntimeEnded { .. } => 300,
        _ => 32,
    };
    object + RAW_PAYLOAD_ENTRY_BYTES * payload.payload_refs().len() as u64
}

/// One entry of `raw_payloads`.
const RAW_PAYLOAD_ENTRY_BYTES: u64 = 170;

/// Bytes of a conversation item's fixed members (keys, ids, windows,
/// indentation) in `state.json`.
const ITEM_BASE_BYTES: u64 = 450;

/// Bytes of one entry of an id list in `state.json` besides the number:
/// indentation, quotes, `conversation_item:`, comma and newline.
const ID_ENTRY_BASE_BYTES: u64 = 30;

/// The running count and its limit.
#[derive(Debug, Clone)]
pub(super) struct StateBudget {
    limit: u64,
    used: u64,
}

impl StateBudget {
    pub(super) fn new(limit: u64) -> StateBudget {
        StateBudget {
            limit,
            used: EMPTY_STATE_BYTES,
        }
    }

    /// Bytes counted so far.
    pub(super) fn used(&self) -> u64 {
        self.used
    }

    /// Counts `bytes` more; an error when the count passes the limit.
    pub(super) fn charge(&mut self, bytes: u64, what: &str) -> Result<(), ReduceError> {
        self.used = self.used.saturating_add(bytes);
        if self.used <= self.limit {
            return Ok(());
        }
        Err(ReduceError::new(format!(
            "the reduced state would grow past the limit of {} bytes ({what} brings it to about {} bytes): the bundle describes a state.json larger than any real session writes, typically by naming the same large payload again and again (raise the limit with --max-state-bytes)",
            self.limit, self.used
        )))
    }
}

/// The `state.json` bytes of a list of item ids with these numbers.
pub(super) fn id_list_bytes(numbers: impl ExactSizeIterator<Item = u32>) -> u64 {
    let entries = numbers.len() as u64;
    let digits: u64 = numbers
        .map(|number| u64::from(number.checked_ilog10().unwrap_or(0) + 1))
        .sum();
    entries * ID_ENTRY_BASE_BYTES + digits
}

/// The `state.json` bytes of an object at the depth of the graph's maps:
/// its pretty serialization, with the indentation of its depth.
pub(super) fn json_bytes(value: &impl Serialize) -> u64 {
    let mut counter = ByteCounter::default();
    // Counting cannot fail; a failed serialization counts what it wrote.
    let _ = serde_json::to_writer_pretty(&mut counter, value);
    counter.bytes + 4 * counter.newlines + 8
}

/// A writer that only counts.
#[derive(Default)]
struct ByteCounter {
    bytes: u64,
    newlines: u64,
}

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.newlines += buf.iter().filter(|&&byte| byte == b'\n').count() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of a terminal operation's fixed members, without its result.
const OPERATION_BASE_BYTES: u64 = 610;

/// Bytes of a terminal result's fixed members.
const RESULT_BASE_BYTES: u64 = 190;

/// The `state.json` bytes of a terminal operation, estimated from its texts.
pub(super) fn operation_bytes(operation: &TerminalOperation) -> u64 {
    let request = match &operation.request {
        TerminalRequest::ExecCommand {
            command,
            display_command,
            cwd,
            ..
        } => {
            command.iter().map(|part| part.len() + 12).sum::<usize>()
                + display_command.len()
                + cwd.len()
        }
        TerminalRequest::WriteStdin { stdin, .. } => stdin.len(),
    };
    let ids = operation.operation_id.len()
        + operation.terminal_id.as_ref().map_or(0, String::len)
        + operation.tool_call_id.len()
        + operation
            .raw_payload_ids
            .iter()
            .map(|id| id.len() + 12)
            .sum::<usize>();
    let result = operation.result.as_ref().map_or(0, result_bytes);
    OPERATION_BASE_BYTES + (request + ids) as u64 + result
}

/// The `state.json` bytes of a terminal result, estimated from its texts.
pub(super) fn result_bytes(result: &TerminalResult) -> u64 {
    let texts = result.stdout.len()
        + result.stderr.len()
        + result.formatted_output.as_ref().map_or(0, String::len)
        + result.chunk_id.as_ref().map_or(0, String::len);
    RESULT_BASE_BYTES + texts as u64
}

/// The `state.json` bytes of an item, estimated from its content.
pub(super) fn item_bytes(item: &ConversationItem) -> u64 {
    let content: usize = item
        .body
        .parts
        .iter()
        .map(|part| match part {
            ConversationPart::Text { text } | ConversationPart::Summary { text } => text.len() + 60,
            ConversationPart::Code { language, source } => language.len() + source.len() + 80,
            ConversationPart::Json {
                summary,
                raw_payload_id,
            } => summary.len() + raw_payload_id.len() + 80,
            ConversationPart::Encoded { label, value } => label.len() + value.len() + 80,
            ConversationPart::PayloadRef {
                label,
                raw_payload_id,
            } => label.len() + raw_payload_id.len() + 110,
        })
        .sum();
    let ids = item.item_id.len()
        + item.thread_id.len()
        + item.codex_turn_id.as_ref().map_or(0, String::len)
        + item.call_id.as_ref().map_or(0, String::len);
    ITEM_BASE_BYTES + (content + ids) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConversationBody;
    use crate::model::ConversationItemKind;
    use crate::model::ConversationRole;
    use crate::model::ExecutionWindow;
    use crate::model::ProducerRef;
    use crate::model::TerminalOperationKind;

    fn operation(command: &[&str], output: &str, with_result: bool) -> TerminalOperation {
        TerminalOperation {
            operation_id: "terminal_operation:12".to_string(),
            terminal_id: Some("41230".to_string()),
            tool_call_id: "call_Vc2Lm8RaQ0nV4tY7eW1sK3pB".to_string(),
            kind: TerminalOperationKind::ExecCommand,
            execution: ExecutionWindow::started(1_760_000_000_000, 1234),
            request: TerminalRequest::ExecCommand {
                command: command.iter().map(|part| part.to_string()).collect(),
                display_command: command.join(" "),
                cwd: "/home/user/project".to_string(),
                yield_time_ms: Some(10_000),
                max_output_tokens: None,
            },
            result: with_result.then(|| TerminalResult {
                exit_code: Some(0),
                stdout: output.to_string(),
                stderr: String::new(),
                formatted_output: Some(output.to_string()),
                original_token_count: Some(output.len() as u64 / 4),
                chunk_id: None,
            }),
            model_observations: Vec::new(),
            raw_payload_ids: vec!["raw_payload:77".to_string(), "raw_payload:78".to_string()],
        }
    }

    /// `estimate` is within `tolerance` (a fraction) of `value`'s serialization.
    fn assert_estimate_near(
        estimate: u64,
        value: &(impl Serialize + std::fmt::Debug),
        tolerance: f64,
    ) {
        let serialized = json_bytes(value);
        let ratio = estimate as f64 / serialized as f64;
        assert!(
            (1.0 - tolerance..=1.0 + tolerance).contains(&ratio),
            "estimate {estimate}, serialized {serialized}: {value:?}"
        );
    }

    fn item(parts: Vec<ConversationPart>, call_id: Option<&str>) -> ConversationItem {
        ConversationItem {
            item_id: "conversation_item:1234".to_string(),
            thread_id: "019a4f2e-7c1d-7b32-9e0f-3d5c8a1b2e47".to_string(),
            codex_turn_id: Some("turn-17".to_string()),
            first_seen_at_unix_ms: 1_760_000_000_000,
            role: ConversationRole::Assistant,
            channel: None,
            kind: ConversationItemKind::Message,
            agent_message: None,
            body: ConversationBody { parts },
            call_id: call_id.map(str::to_string),
            produced_by: vec![ProducerRef::Inference {
                inference_call_id: "inference:31".to_string(),
            }],
        }
    }

    #[test]
    fn item_estimates_stay_near_their_serialization() {
        let text = "The tests pass; the budget counts every part of an item.\n".repeat(30);
        let text_part = |text: &str| ConversationPart::Text {
            text: text.to_string(),
        };
        let cases = [
            item(vec![text_part("ok")], None),
            item(vec![text_part(&text)], None),
            item(vec![ConversationPart::Summary { text: text.clone() }], None),
            item(
                vec![ConversationPart::Code {
                    language: "javascript".to_string(),
                    source: text.clone(),
                }],
                Some("call_Vc2Lm8RaQ0nV4tY7eW1sK3pB"),
            ),
            item(
                vec![ConversationPart::Json {
                    summary: text.clone(),
                    raw_payload_id: "raw_payload:4711".to_string(),
                }],
                Some("call_Vc2Lm8RaQ0nV4tY7eW1sK3pB"),
            ),
            item(
                vec![ConversationPart::Encoded {
                    label: "encrypted_content".to_string(),
                    value: "gAAAAABo".repeat(200),
                }],
                None,
            ),
            item(
                vec![
                    ConversationPart::PayloadRef {
                        label: "image".to_string(),
                        raw_payload_id: "raw_payload:4712".to_string(),
                    };
                    12
                ],
                None,
            ),
        ];
        for item in cases {
            assert_estimate_near(item_bytes(&item), &item, 0.1);
        }
    }

    #[test]
    fn operation_estimates_stay_near_their_serialization() {
        let line =
            "src/reduce/budget.rs:107:pub(super) fn json_bytes(value: &impl Serialize) -> u64 {\n";
        let output = line.repeat(60);
        let cases = [
            operation(&["bash", "-lc", "ls"], "", false),
            operation(&["bash", "-lc", "ls"], "", true),
            operation(&["bash", "-lc", "rg -n json_bytes src"], &output, true),
            operation(&["cargo", "test", "-q"], "ok\n", true),
            // Every id counts: a long terminal id, and a write to stdin.
            TerminalOperation {
                terminal_id: Some("019a4f2e-7c1d-7b32-9e0f-3d5c8a1b2e47".repeat(2)),
                ..operation(&["bash"], "", false)
            },
            TerminalOperation {
                kind: TerminalOperationKind::WriteStdin,
                request: TerminalRequest::WriteStdin {
                    stdin: "yes\n".repeat(100),
                    yield_time_ms: Some(250),
                    max_output_tokens: None,
                },
                ..operation(&["bash"], &output, true)
            },
        ];
        for operation in cases {
            assert_estimate_near(operation_bytes(&operation), &operation, 0.05);
        }
    }
}
