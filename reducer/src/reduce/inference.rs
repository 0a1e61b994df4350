//! Inference calls: request and response payloads into conversation items
//! (`reduction.md` §5, §8).
//!
//! A request is incremental exactly when its payload carries a string
//! `previous_response_id`; an event's `request_input_mode` member is ignored
//! as upstream main ignores it (`upstream-main.md` §5).

use serde_json::Value;

use super::EventContext;
use super::Reducer;
use super::budget::id_list_bytes;
use super::conversation::ItemIndex;
use super::conversation::ReconcileMode;
use super::conversation::Sighted;
use super::conversation::Sighting;
use super::normalize::normalize_items;
use super::normalize::token_usage;
use super::request_items::RequestItems;
use super::request_items::request_items_of;
use crate::bundle::PayloadSource;
use crate::bundle::RequestPayload;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::InferenceCall;
use crate::model::ItemIdList;
use crate::model::ProducerRef;
use crate::model::RawPayloadRef;
use crate::model::item_id;

pub(super) struct StartedInference<'a> {
    pub inference_call_id: &'a str,
    pub thread_id: &'a str,
    pub codex_turn_id: &'a str,
    pub model: &'a str,
    pub provider_name: &'a str,
    pub request_payload: &'a RawPayloadRef,
}

/// How an attempt ended.
pub(super) enum InferenceOutcome {
    Completed { response_id: Option<String> },
    Failed,
    Cancelled,
}

impl Reducer {
    pub(super) fn start_inference(
        &mut self,
        cx: &EventContext,
        started: StartedInference<'_>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let id = started.inference_call_id;
        if self.trace.inference_calls.contains_key(id) {
            bail!("duplicate inference start for {id}");
        }
        let turn_id = started.codex_turn_id;
        let Some(turn_thread) = self.turn_thread(turn_id) else {
            bail!("inference start {id} referenced unknown codex turn {turn_id}");
        };
        if turn_thread != started.thread_id {
            bail!(
                "inference start {id} used thread {}, but codex turn {turn_id} belongs to {turn_thread}",
                started.thread_id
            );
        }
        let request_item_ids = self.reduce_request(cx, &started, payloads)?;
        self.index
            .inference_by_turn
            .entry(turn_id.to_string())
            .or_default()
            .push(id.to_string());
        self.trace.inference_calls.insert(
            id.to_string(),
            InferenceCall {
                inference_call_id: id.to_string(),
                thread_id: started.thread_id.to_string(),
                codex_turn_id: turn_id.to_string(),
                execution: ExecutionWindow::started(cx.wall_time_unix_ms, cx.seq),
                model: started.model.to_string(),
                provider_name: started.provider_name.to_string(),
                response_id: None,
                upstream_request_id: None,
                request_item_ids,
                response_item_ids: ItemIdList::default(),
                tool_call_ids_started_by_response: Vec::new(),
                usage: None,
                raw_request_payload_id: started.request_payload.raw_payload_id.clone(),
                raw_response_payload_id: None,
            },
        );
        Ok(())
    }

    /// `reduction.md` §5.2: the whole model-visible input of the request.
    fn reduce_request(
        &mut self,
        cx: &EventContext,
        started: &StartedInference<'_>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<ItemIdList, ReduceError> {
        let thread_id = started.thread_id;
        let payload = started.request_payload;
        let (items, payload_previous) = match payloads.read_request(payload)? {
            RequestPayload::Decoded(mut value) => {
                let items = request_items_of(&mut value, payload)?;
                let previous = value
                    .get("previous_response_id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                (RequestItems::normalized(items), previous)
            }
            RequestPayload::Scanned(scan) => {
                let previous = scan.previous_response_id().map(str::to_string);
                (
                    self.scanned_request_items(thread_id, payload, scan)?,
                    previous,
                )
            }
        };
        let sighting = Sighting {
            thread_id,
            codex_turn_id: started.codex_turn_id,
            wall_time_unix_ms: cx.wall_time_unix_ms,
            producers: &[],
        };
        let current_snapshot = self.snapshots.get(thread_id).cloned().unwrap_or_default();
        let mut used_replacement = false;
        let mut memo = None;
        let request_items = match payload_previous {
            None => {
                let replacement = self.pending_replacements.get(thread_id).cloned();
                used_replacement = replacement.is_some();
                let baseline = replacement.unwrap_or(current_snapshot);
                let (sighted, request_memo) =
                    self.full_request_sightings(items, &baseline, payload)?;
                memo = Some(request_memo);
                self.reconcile(sighted, &sighting, 0, ReconcileMode::Full, &baseline)?
            }
            Some(previous) => {
                let items = self.all_normalized(items, payload, payloads)?;
                self.reduce_incremental(
                    items,
                    &sighting,
                    started.inference_call_id,
                    &previous,
                    &current_snapshot,
                )?
            }
        };
        self.append_to_thread(thread_id, &request_items)?;
        if used_replacement {
            self.pending_replacements.remove(thread_id);
        }
        // An incremental request sends only new items: the thread's last
        // full request stays the one the next full request compares with.
        if let Some(memo) = memo {
            self.remember_request(thread_id, memo, &request_items, payloads);
        }
        let request_item_ids = self.request_list(thread_id, &request_items)?;
        self.snapshots.insert(thread_id.to_string(), request_items);
        Ok(request_item_ids)
    }

    /// The request's id list, sharing the storage of the thread's previous
    /// request list when they are equal (a bundle naming the same request
    /// payload again and again keeps one list). Each list is charged in full:
    /// `state.json` spells every one out.
    fn request_list(
        &mut self,
        thread_id: &str,
        items: &[ItemIndex],
    ) -> Result<ItemIdList, ReduceError> {
        let list = match self.last_request_lists.get(thread_id) {
            Some(last)
                if last.len() == items.len()
                    && Self::list_indexes(last).eq(items.iter().copied()) =>
            {
                self.budget.charge(
                    id_list_bytes(last.numbers().iter().copied()),
                    "an inference request's item id list",
                )?;
                last.clone()
            }
            _ => self.item_list(items)?,
        };
        self.last_request_lists
            .insert(thread_id.to_string(), list.clone());
        Ok(list)
    }

    /// A delta after a traced response: the prefix is copied, the delta is
    /// appended against the thread's current snapshot.
    fn reduce_incremental(
        &mut self,
        items: Vec<Sighted>,
        sighting: &Sighting<'_>,
        inference_call_id: &str,
        previous_response_id: &str,
        current_snapshot: &[ItemIndex],
    ) -> Result<Vec<ItemIndex>, ReduceError> {
        let Some(mut ids) = self.traced_snapshot(sighting.thread_id, previous_response_id) else {
            bail!(
                "incremental inference request {inference_call_id} referenced unknown previous_response_id {previous_response_id}"
            );
        };
        let delta = self.reconcile(
            items,
            sighting,
            ids.len(),
            ReconcileMode::Append,
            current_snapshot,
        )?;
        ids.extend(delta);
        Ok(ids)
    }

    /// `reduction.md` §5.3: request and response items of the first call (by
    /// id) of the thread that returned `response_id`.
    fn traced_snapshot(&self, thread_id: &str, response_id: &str) -> Option<Vec<ItemIndex>> {
        let call_id =
            super::index::nested_get(&self.index.inference_by_response_id, thread_id, response_id)?
                .first()?;
        let call = self.trace.inference_calls.get(call_id)?;
        let mut items: Vec<ItemIndex> = Self::list_indexes(&call.request_item_ids).collect();
        items.extend(Self::list_indexes(&call.response_item_ids));
        Some(items)
    }

    /// `reduction.md` §5.4.
    pub(super) fn complete_inference(
        &mut self,
        cx: &EventContext,
        inference_call_id: &str,
        outcome: InferenceOutcome,
        upstream_request_id: Option<&str>,
        response_payload: Option<&RawPayloadRef>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let Some(call) = self.trace.inference_calls.get(inference_call_id) else {
            bail!("inference completion referenced unknown call {inference_call_id}");
        };
        let thread_id = call.thread_id.clone();
        let turn_id = call.codex_turn_id.clone();
        let response_item_ids = match response_payload {
            Some(payload) => Some(self.reduce_response(
                cx,
                inference_call_id,
                &thread_id,
                &turn_id,
                payload,
                payloads,
            )?),
            None => None,
        };
        let (status, response_id) = match outcome {
            InferenceOutcome::Completed { response_id } => {
                (ExecutionStatus::Completed, response_id)
            }
            InferenceOutcome::Failed => (ExecutionStatus::Failed, None),
            InferenceOutcome::Cancelled => (ExecutionStatus::Cancelled, None),
        };
        let Some(call) = self.trace.inference_calls.get_mut(inference_call_id) else {
            bail!("inference call {inference_call_id} disappeared during response reduction");
        };
        let previous_response_id = std::mem::replace(&mut call.response_id, response_id.clone());
        if call.execution.status == ExecutionStatus::Running {
            call.execution.end(cx.wall_time_unix_ms, cx.seq, status);
        }
        if let Some(upstream) = upstream_request_id {
            call.upstream_request_id = Some(upstream.to_string());
        }
        let mut replaced_items = None;
        if let (Some(payload), Some(ids)) = (response_payload, response_item_ids) {
            call.raw_response_payload_id = Some(payload.raw_payload_id.clone());
            replaced_items = Some(std::mem::replace(&mut call.response_item_ids, ids.clone()));
            for item_id in ids.iter() {
                self.index
                    .inference_by_response_item
                    .entry(item_id)
                    .or_default()
                    .insert(inference_call_id.to_string());
            }
        }
        if let Some(old_ids) = replaced_items {
            let current: std::collections::HashSet<u32> = self.trace.inference_calls
                [inference_call_id]
                .response_item_ids
                .numbers()
                .iter()
                .copied()
                .collect();
            for item_id in old_ids
                .numbers()
                .iter()
                .filter(|number| !current.contains(number))
                .map(|&number| item_id(number))
            {
                if let Some(calls) = self.index.inference_by_response_item.get_mut(&item_id) {
                    calls.remove(inference_call_id);
                }
            }
        }
        if previous_response_id != response_id {
            if let Some(previous) = previous_response_id
                && let Some(calls) = self
                    .index
                    .inference_by_response_id
                    .get_mut(&thread_id)
                    .and_then(|by_id| by_id.get_mut(&previous))
            {
                calls.remove(inference_call_id);
            }
            if let Some(current) = response_id {
                super::index::nested_entry(
                    &mut self.index.inference_by_response_id,
                    &thread_id,
                    &current,
                )
                .insert(inference_call_id.to_string());
            }
        }
        Ok(())
    }

    /// `reduction.md` §8: response output is appended to the thread's snapshot.
    fn reduce_response(
        &mut self,
        cx: &EventContext,
        inference_call_id: &str,
        thread_id: &str,
        turn_id: &str,
        payload: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<ItemIdList, ReduceError> {
        let mut value = payloads.read_payload(payload)?;
        let Some(Value::Array(output_items)) = value.get_mut("output_items").map(Value::take)
        else {
            bail!(
                "inference response payload {} did not contain output_items",
                payload.raw_payload_id
            );
        };
        let items = normalize_items(output_items, &payload.raw_payload_id)?;
        let usage = value.get("token_usage").and_then(token_usage);
        drop(value);
        let snapshot = self.snapshots.get(thread_id).cloned().unwrap_or_default();
        let producers = [ProducerRef::Inference {
            inference_call_id: inference_call_id.to_string(),
        }];
        let sighting = Sighting {
            thread_id,
            codex_turn_id: turn_id,
            wall_time_unix_ms: cx.wall_time_unix_ms,
            producers: &producers,
        };
        let indexes = self.reconcile(
            items.into_iter().map(Sighted::Item).collect(),
            &sighting,
            snapshot.len(),
            ReconcileMode::Append,
            &snapshot,
        )?;
        self.append_to_thread(thread_id, &indexes)?;
        let ids = self.item_list(&indexes)?;
        self.snapshots
            .entry(thread_id.to_string())
            .or_default()
            .extend(indexes);
        if let Some(usage) = usage
            && let Some(call) = self.trace.inference_calls.get_mut(inference_call_id)
        {
            call.usage = Some(usage);
        }
        Ok(ids)
    }

    /// `reduction.md` §5.6: a turn that ends closes its still-running calls.
    pub(super) fn end_inference_calls_for_turn(
        &mut self,
        cx: &EventContext,
        codex_turn_id: &str,
        turn_status: ExecutionStatus,
    ) {
        let status = match turn_status {
            ExecutionStatus::Running => return,
            ExecutionStatus::Completed | ExecutionStatus::Cancelled => ExecutionStatus::Cancelled,
            ExecutionStatus::Failed => ExecutionStatus::Failed,
            ExecutionStatus::Aborted => ExecutionStatus::Aborted,
        };
        // Ended calls never run again, so the turn's list is done with: a
        // turn ended again and again does not visit them again.
        let Some(call_ids) = self.index.inference_by_turn.remove(codex_turn_id) else {
            return;
        };
        for call_id in &call_ids {
            if let Some(call) = self.trace.inference_calls.get_mut(call_id)
                && call.execution.status == ExecutionStatus::Running
            {
                call.execution.end(cx.wall_time_unix_ms, cx.seq, status);
            }
        }
    }
}
