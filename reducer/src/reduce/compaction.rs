//! Compaction requests and installed checkpoints (`reduction.md` §12).

use serde_json::Value;

use super::EventContext;
use super::Reducer;
use super::conversation::Sighting;
use super::normalize::normalize_items;
use crate::bundle::PayloadSource;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::Compaction;
use crate::model::CompactionRequest;
use crate::model::ConversationBody;
use crate::model::ConversationItemKind;
use crate::model::ConversationRole;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::ProducerRef;
use crate::model::RawPayloadRef;

use super::normalize::NormalizedItem;

pub(super) struct StartedCompactionRequest<'a> {
    pub compaction_id: &'a str,
    pub compaction_request_id: &'a str,
    pub thread_id: &'a str,
    pub codex_turn_id: &'a str,
    pub model: &'a str,
    pub provider_name: &'a str,
    pub request_payload: &'a RawPayloadRef,
}

impl Reducer {
    /// `reduction.md` §12.1.
    pub(super) fn start_compaction_request(
        &mut self,
        cx: &EventContext,
        started: StartedCompactionRequest<'_>,
    ) -> Result<(), ReduceError> {
        let request_id = started.compaction_request_id;
        if self.trace.compaction_requests.contains_key(request_id) {
            bail!("duplicate compaction request start for {request_id}");
        }
        let thread_id = started.thread_id;
        if !self.trace.threads.contains_key(thread_id) {
            bail!("trace event referenced unknown thread {thread_id}");
        }
        let turn_id = started.codex_turn_id;
        match self.turn_thread(turn_id) {
            None => {
                bail!("compaction request {request_id} referenced unknown codex turn {turn_id}")
            }
            Some(turn_thread) if turn_thread != thread_id => bail!(
                "compaction request {request_id} used thread {thread_id}, but codex turn {turn_id} belongs to {turn_thread}"
            ),
            Some(_) => {}
        }
        self.index
            .requests_by_compaction
            .entry(started.compaction_id.to_string())
            .or_default()
            .insert(request_id.to_string());
        self.trace.compaction_requests.insert(
            request_id.to_string(),
            CompactionRequest {
                compaction_request_id: request_id.to_string(),
                compaction_id: started.compaction_id.to_string(),
                thread_id: thread_id.to_string(),
                codex_turn_id: turn_id.to_string(),
                execution: ExecutionWindow::started(cx.wall_time_unix_ms, cx.seq),
                model: started.model.to_string(),
                provider_name: started.provider_name.to_string(),
                raw_request_payload_id: started.request_payload.raw_payload_id.clone(),
                raw_response_payload_id: None,
            },
        );
        Ok(())
    }

    /// `reduction.md` §12.2: completed with a response payload, failed without.
    pub(super) fn end_compaction_request(
        &mut self,
        cx: &EventContext,
        compaction_id: &str,
        request_id: &str,
        response_payload: Option<&RawPayloadRef>,
    ) -> Result<(), ReduceError> {
        let Some(request) = self.trace.compaction_requests.get_mut(request_id) else {
            bail!("compaction request completion referenced unknown request {request_id}");
        };
        if request.compaction_id != compaction_id {
            bail!(
                "compaction request {request_id} completion used compaction {compaction_id}, but start used {}",
                request.compaction_id
            );
        }
        let status = match response_payload {
            Some(_) => ExecutionStatus::Completed,
            None => ExecutionStatus::Failed,
        };
        request.execution.end(cx.wall_time_unix_ms, cx.seq, status);
        request.raw_response_payload_id =
            response_payload.map(|payload| payload.raw_payload_id.clone());
        Ok(())
    }

    /// `reduction.md` §12.3.
    pub(super) fn install_compaction(
        &mut self,
        cx: &EventContext,
        compaction_id: &str,
        checkpoint: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let Some(thread_id) = cx.thread_id.as_deref() else {
            bail!("compaction installed event {compaction_id} did not include a thread id");
        };
        let Some(turn_id) = cx.codex_turn_id.as_deref() else {
            bail!("compaction installed event {compaction_id} did not include a codex turn id");
        };
        if self.trace.compactions.contains_key(compaction_id) {
            bail!("duplicate compaction install for {compaction_id}");
        }
        if !self.trace.threads.contains_key(thread_id) {
            bail!("trace event referenced unknown thread {thread_id}");
        }
        match self.turn_thread(turn_id) {
            None => {
                bail!("compaction install {compaction_id} referenced unknown codex turn {turn_id}")
            }
            Some(turn_thread) if turn_thread != thread_id => bail!(
                "compaction install {compaction_id} used thread {thread_id}, but codex turn {turn_id} belongs to {turn_thread}"
            ),
            Some(_) => {}
        }
        let mut value = payloads.read_payload(checkpoint)?;
        let id = &checkpoint.raw_payload_id;
        let mut history = |key: &str| -> Result<Vec<Value>, ReduceError> {
            match value.get_mut(key) {
                Some(Value::Array(items)) => Ok(std::mem::take(items)),
                _ => bail!("compaction checkpoint payload {id} did not contain array {key}"),
            }
        };
        let input_history = history("input_history")?;
        let replacement_history = history("replacement_history")?;
        let input_items = normalize_items(input_history, id)?;
        let replacement_items = normalize_items(replacement_history, id)?;
        drop(value);

        let candidates = self.snapshots.get(thread_id).cloned().unwrap_or_default();
        let input_sighting = Sighting {
            thread_id,
            codex_turn_id: turn_id,
            wall_time_unix_ms: cx.wall_time_unix_ms,
            producers: &[],
        };
        let input_items = self.reconcile_detached(input_items, &input_sighting, &candidates)?;
        let producers = [ProducerRef::Compaction {
            compaction_id: compaction_id.to_string(),
        }];
        let replacement_sighting = Sighting {
            producers: &producers,
            ..input_sighting
        };
        let marker_item = self.create_item(
            &replacement_sighting,
            &NormalizedItem {
                role: ConversationRole::Assistant,
                channel: None,
                kind: ConversationItemKind::CompactionMarker,
                agent_message: None,
                body: ConversationBody::default(),
                call_id: None,
            },
        )?;
        let replacement_items =
            self.reconcile_detached(replacement_items, &replacement_sighting, &[])?;
        self.append_to_thread(thread_id, &input_items)?;
        self.append_to_thread(thread_id, &[marker_item])?;
        self.append_to_thread(thread_id, &replacement_items)?;
        let input_item_ids = self.item_list(&input_items)?;
        let replacement_item_ids = self.item_list(&replacement_items)?;
        let marker_item_id = self.item_id(marker_item);
        let request_ids = self
            .index
            .requests_by_compaction
            .get(compaction_id)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        self.pending_replacements
            .insert(thread_id.to_string(), replacement_items);
        self.trace.compactions.insert(
            compaction_id.to_string(),
            Compaction {
                compaction_id: compaction_id.to_string(),
                thread_id: thread_id.to_string(),
                codex_turn_id: turn_id.to_string(),
                installed_at_unix_ms: cx.wall_time_unix_ms,
                marker_item_id,
                request_ids,
                input_item_ids,
                replacement_item_ids,
            },
        );
        Ok(())
    }
}
