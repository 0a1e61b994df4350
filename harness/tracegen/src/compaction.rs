//! Compaction (`trace-format.md` §5.19–§5.22, reduction.md §12): at the
//! start of a turn the history goes to the compact endpoint, and the
//! installed checkpoint replaces it with a short summary.
//!
//! The replacement history is the last two user messages and a user
//! message holding the summary, as a client's local compaction writes it.
//! It becomes the root history, so the next full-snapshot request starts
//! from it and the reducer matches it against the install's replacement
//! items (its `pending_replacement`, §5.2).

use rollout_trace::model::RawPayloadKind;
use rollout_trace::raw::RawTraceEventPayload;
use serde_json::Value;
use serde_json::json;

use crate::GenError;
use crate::items;
use crate::items::Checkpoint;
use crate::items::CompactionRequestBody;
use crate::rng::Rng;
use crate::session::Ctx;
use crate::session::Session;
use crate::session::tokens_of;
use crate::text;

/// How the summary message of a replacement history starts.
const SUMMARY_PREFIX: &str = "Another language model started to solve this problem and produced a summary of its thinking process. Use it to build on the work that has already been done:\n\n";

/// User messages kept verbatim in a replacement history.
const KEPT_USER_MESSAGES: usize = 2;

impl Session {
    pub fn compact(&mut self, ctx: &Ctx, rng: &mut Rng) -> Result<(), GenError> {
        self.ids.compaction += 1;
        let compaction_id = format!("compaction:{}", self.ids.compaction);
        let compaction_request_id = format!("compaction_request:{}", self.ids.compaction);
        let request = self.payload(
            RawPayloadKind::CompactionRequest,
            &CompactionRequestBody {
                model: items::MODEL,
                instructions: &self.instructions,
                input: &self.history,
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CompactionRequestStarted {
                compaction_id: compaction_id.clone(),
                compaction_request_id: compaction_request_id.clone(),
                thread_id: ctx.thread_id.clone(),
                codex_turn_id: ctx.turn_id.clone(),
                model: items::MODEL.to_string(),
                provider_name: items::PROVIDER.to_string(),
                request_payload: request,
            },
        )?;
        let summary =
            items::user_message(&format!("{SUMMARY_PREFIX}{}", text::prose(rng, 120, 250)));
        let response = self.payload(
            RawPayloadKind::CompactionResponse,
            &json!({"output_items": [summary]}),
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CompactionRequestCompleted {
                compaction_id: compaction_id.clone(),
                compaction_request_id,
                response_payload: response,
            },
        )?;

        let mut replacement: Vec<Value> = self
            .history
            .iter()
            .rev()
            .filter(|item| is_user_request(item))
            .take(KEPT_USER_MESSAGES)
            .cloned()
            .collect();
        replacement.reverse();
        let summary = self.entering_history(summary);
        replacement.push(summary);
        let checkpoint = self.payload(
            RawPayloadKind::CompactionCheckpoint,
            &Checkpoint {
                input_history: &self.history,
                replacement_history: &replacement,
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CompactionInstalled {
                compaction_id,
                checkpoint_payload: checkpoint,
            },
        )?;
        self.history_tokens = replacement.iter().map(tokens_of).sum();
        self.history = replacement;
        // The provider's prompt cache does not survive a new prefix.
        self.cached_tokens = 0;
        self.summary.compactions += 1;
        self.summary.compaction_requests += 1;
        Ok(())
    }
}

/// A user message the user typed: not the environment context, not an
/// earlier summary.
fn is_user_request(item: &Value) -> bool {
    if item["type"] != "message" || item["role"] != "user" {
        return false;
    }
    let text = item["content"][0]["text"].as_str().unwrap_or_default();
    !text.starts_with(SUMMARY_PREFIX) && !text.starts_with("<environment_context>")
}
