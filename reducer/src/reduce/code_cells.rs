//! Code-mode cells: model-authored JavaScript run by the runtime (`reduction.md` §10).
//!
//! A cell is identified by the model-visible `exec` call that carries its
//! source. The runtime announces the cell before the completion event that
//! records that call, so a start is queued until its source item exists,
//! together with any lifecycle events that arrive meanwhile.

use std::collections::BTreeSet;

use serde_json::Value;

use super::EventContext;
use super::Reducer;
use super::tools::push_unique;
use crate::error::Place;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::CodeCell;
use crate::model::CodeCellRuntimeStatus;
use crate::model::ConversationItemKind;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::ProducerRef;
use crate::model::RawPayloadRef;

/// A `code_cell_started` waiting for its `exec` item.
#[derive(Debug, Clone)]
pub(super) struct PendingCodeCellStart {
    seq: u64,
    wall_time_unix_ms: i64,
    thread_id: String,
    codex_turn_id: Option<String>,
    code_cell_id: String,
    runtime_cell_id: String,
    model_visible_call_id: String,
    source_js: String,
    place: Place,
}

/// An initial response or end of a queued cell.
#[derive(Debug, Clone)]
pub(super) struct PendingCodeCellEvent {
    seq: u64,
    wall_time_unix_ms: i64,
    runtime_cell_id: String,
    kind: CodeCellEventKind,
    status: CodeCellRuntimeStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CodeCellEventKind {
    InitialResponse,
    End,
}

impl CodeCellEventKind {
    fn event_name(self) -> &'static str {
        match self {
            CodeCellEventKind::InitialResponse => "code cell initial response",
            CodeCellEventKind::End => "code cell end",
        }
    }
}

impl Reducer {
    /// `reduction.md` §10.1: the envelope thread, or the thread of the envelope turn.
    fn code_cell_event_thread(
        &self,
        cx: &EventContext,
        runtime_cell_id: &str,
        event_name: &str,
    ) -> Result<String, ReduceError> {
        if let Some(thread_id) = &cx.thread_id {
            return Ok(thread_id.clone());
        }
        let Some(turn_id) = &cx.codex_turn_id else {
            bail!("{event_name} {runtime_cell_id} did not include a thread id");
        };
        match self.turn_thread(turn_id) {
            Some(thread_id) => Ok(thread_id.to_string()),
            None => bail!("{event_name} {runtime_cell_id} referenced unknown Codex turn {turn_id}"),
        }
    }

    /// `reduction.md` §10.2.
    pub(super) fn start_code_cell(
        &mut self,
        cx: &EventContext,
        runtime_cell_id: &str,
        model_visible_call_id: &str,
        source_js: &str,
    ) -> Result<(), ReduceError> {
        let thread_id = self.code_cell_event_thread(cx, runtime_cell_id, "code cell start")?;
        let code_cell_id = format!("code_cell:{model_visible_call_id}");
        let runtime_key = (thread_id.clone(), runtime_cell_id.to_string());
        match self.runtime_cells.get(&runtime_key) {
            Some(existing) if *existing != code_cell_id => bail!(
                "runtime code cell {runtime_cell_id} in thread {thread_id} mapped to both {existing} and {code_cell_id}"
            ),
            Some(_) => {}
            None => {
                self.runtime_cells.insert(runtime_key, code_cell_id.clone());
            }
        }
        let start = PendingCodeCellStart {
            seq: cx.seq,
            wall_time_unix_ms: cx.wall_time_unix_ms,
            thread_id,
            codex_turn_id: cx.codex_turn_id.clone(),
            code_cell_id,
            runtime_cell_id: runtime_cell_id.to_string(),
            model_visible_call_id: model_visible_call_id.to_string(),
            source_js: source_js.to_string(),
            place: self.place.clone(),
        };
        if self.has_source_item(&start) {
            return self.materialize_code_cell(start);
        }
        if self.trace.code_cells.contains_key(&start.code_cell_id)
            || self.pending_cells.contains_key(&start.code_cell_id)
        {
            bail!("duplicate code cell start for {}", start.code_cell_id);
        }
        self.index
            .pending_cells_by_call
            .entry((start.thread_id.clone(), start.model_visible_call_id.clone()))
            .or_default()
            .insert(start.code_cell_id.clone());
        self.pending_cells.insert(start.code_cell_id.clone(), start);
        Ok(())
    }

    fn has_source_item(&self, start: &PendingCodeCellStart) -> bool {
        !self
            .thread_items_with_call_id(
                &start.thread_id,
                &start.model_visible_call_id,
                &[ConversationItemKind::CustomToolCall],
            )
            .is_empty()
    }

    /// `reduction.md` §10.3: materializes, in id order, the queued cells whose
    /// source item now exists. A queued cell had no source item when it was
    /// queued, so only the calls of `custom_tool_call` items created since
    /// the last flush can have made one ready (no scan of the whole queue).
    pub(super) fn flush_pending_code_cells(&mut self) -> Result<(), ReduceError> {
        let new_sources = std::mem::take(&mut self.index.new_custom_tool_calls);
        if self.pending_cells.is_empty() {
            return Ok(());
        }
        let mut ready = BTreeSet::new();
        for key in new_sources {
            if let Some(cells) = self.index.pending_cells_by_call.remove(&key) {
                ready.extend(cells);
            }
        }
        for code_cell_id in ready {
            if let Some(start) = self.pending_cells.remove(&code_cell_id) {
                self.materialize_code_cell(start)?;
            }
        }
        Ok(())
    }

    /// `reduction.md` §10.4.
    fn materialize_code_cell(&mut self, start: PendingCodeCellStart) -> Result<(), ReduceError> {
        let code_cell_id = start.code_cell_id.clone();
        if self.trace.code_cells.contains_key(&code_cell_id) {
            bail!("duplicate code cell start for {code_cell_id}");
        }
        let Some(turn_id) = &start.codex_turn_id else {
            bail!("code cell start {code_cell_id} did not include a Codex turn id");
        };
        let thread_id = &start.thread_id;
        if !self.trace.threads.contains_key(thread_id) {
            bail!("code cell start referenced unknown thread {thread_id}");
        }
        match self.turn_thread(turn_id) {
            None => bail!("code cell start referenced unknown Codex turn {turn_id}"),
            Some(turn_thread) if turn_thread != thread_id => bail!(
                "code cell start used thread {thread_id}, but Codex turn {turn_id} belongs to {turn_thread}"
            ),
            Some(_) => {}
        }
        let call_id = &start.model_visible_call_id;
        let Some(source_item_id) = self
            .thread_items_with_call_id(thread_id, call_id, &[ConversationItemKind::CustomToolCall])
            .into_iter()
            .next()
        else {
            bail!(
                "code cell {code_cell_id} referenced model-visible call {call_id}, but no custom tool call item was observed"
            );
        };
        let output_item_ids = self.thread_items_with_call_id(
            thread_id,
            call_id,
            &[ConversationItemKind::CustomToolCallOutput],
        );
        let nested_tool_call_ids = self
            .index
            .tools_by_requesting_cell
            .get(&code_cell_id)
            .map(|tools| tools.iter().cloned().collect())
            .unwrap_or_default();
        self.index
            .cells_by_turn
            .entry(turn_id.clone())
            .or_default()
            .insert(code_cell_id.clone());
        self.trace.code_cells.insert(
            code_cell_id.clone(),
            CodeCell {
                code_cell_id: code_cell_id.clone(),
                model_visible_call_id: call_id.clone(),
                thread_id: thread_id.clone(),
                codex_turn_id: turn_id.clone(),
                source_item_id,
                output_item_ids: Vec::new(),
                runtime_cell_id: Some(start.runtime_cell_id.clone()),
                execution: ExecutionWindow::started(start.wall_time_unix_ms, start.seq),
                runtime_status: CodeCellRuntimeStatus::Starting,
                initial_response_at_unix_ms: None,
                initial_response_seq: None,
                yielded_at_unix_ms: None,
                yielded_seq: None,
                source_js: start.source_js,
                nested_tool_call_ids,
                wait_tool_call_ids: Vec::new(),
            },
        );
        for item_id in &output_item_ids {
            self.link_code_cell_output_item(&code_cell_id, item_id);
        }
        if let Some(mut events) = self.pending_cell_events.remove(&code_cell_id) {
            events.sort_by_key(|event| event.seq);
            for event in events {
                self.apply_code_cell_event(&code_cell_id, &event);
            }
        }
        Ok(())
    }

    /// `reduction.md` §10.5.
    pub(super) fn observe_code_cell_event(
        &mut self,
        cx: &EventContext,
        runtime_cell_id: &str,
        kind: CodeCellEventKind,
        status: CodeCellRuntimeStatus,
    ) -> Result<(), ReduceError> {
        let event_name = kind.event_name();
        let thread_id = self.code_cell_event_thread(cx, runtime_cell_id, event_name)?;
        let Some(code_cell_id) = self
            .runtime_cells
            .get(&(thread_id.clone(), runtime_cell_id.to_string()))
            .cloned()
        else {
            bail!(
                "{event_name} referenced unknown runtime cell {runtime_cell_id} in thread {thread_id}"
            );
        };
        let event = PendingCodeCellEvent {
            seq: cx.seq,
            wall_time_unix_ms: cx.wall_time_unix_ms,
            runtime_cell_id: runtime_cell_id.to_string(),
            kind,
            status,
        };
        if self.trace.code_cells.contains_key(&code_cell_id) {
            self.apply_code_cell_event(&code_cell_id, &event);
            return Ok(());
        }
        if !self.pending_cells.contains_key(&code_cell_id) {
            bail!("{event_name} referenced unknown cell {code_cell_id}");
        }
        self.pending_cell_events
            .entry(code_cell_id)
            .or_default()
            .push(event);
        Ok(())
    }

    fn apply_code_cell_event(&mut self, code_cell_id: &str, event: &PendingCodeCellEvent) {
        let Some(cell) = self.trace.code_cells.get_mut(code_cell_id) else {
            return;
        };
        match event.kind {
            CodeCellEventKind::InitialResponse => {
                cell.runtime_cell_id = Some(event.runtime_cell_id.clone());
                if cell.initial_response_at_unix_ms.is_none() {
                    cell.initial_response_at_unix_ms = Some(event.wall_time_unix_ms);
                    cell.initial_response_seq = Some(event.seq);
                }
                if event.status == CodeCellRuntimeStatus::Yielded {
                    cell.yielded_at_unix_ms = Some(event.wall_time_unix_ms);
                    cell.yielded_seq = Some(event.seq);
                }
                cell.runtime_status = event.status;
            }
            CodeCellEventKind::End => {
                end_code_cell(cell, event.wall_time_unix_ms, event.seq, event.status);
                // A running status runs again: a later turn end must end it.
                if cell.execution.status == ExecutionStatus::Running {
                    self.index
                        .cells_by_turn
                        .entry(cell.codex_turn_id.clone())
                        .or_default()
                        .insert(code_cell_id.to_string());
                }
            }
        }
    }

    /// `reduction.md` §10.6: a later `custom_tool_call_output` of the cell's call.
    pub(super) fn link_code_cell_output(
        &mut self,
        item_id: &str,
        call_id: &str,
        kind: ConversationItemKind,
    ) -> Result<(), ReduceError> {
        if kind != ConversationItemKind::CustomToolCallOutput {
            return Ok(());
        }
        let code_cell_id = format!("code_cell:{call_id}");
        if self.trace.code_cells.contains_key(&code_cell_id) {
            self.link_code_cell_output_item(&code_cell_id, item_id);
        }
        Ok(())
    }

    fn link_code_cell_output_item(&mut self, code_cell_id: &str, item_id: &str) {
        if let Some(cell) = self.trace.code_cells.get_mut(code_cell_id) {
            push_unique(&mut cell.output_item_ids, item_id);
        }
        if let Some(item) = self.item_mut(item_id) {
            let producer = ProducerRef::CodeCell {
                code_cell_id: code_cell_id.to_string(),
            };
            if !item.produced_by.contains(&producer) {
                item.produced_by.push(producer);
            }
        }
    }

    /// `reduction.md` §10.7: a code-mode `wait` names the cell it waits for.
    pub(super) fn link_code_mode_wait(
        &mut self,
        tool_call_id: &str,
        thread_id: &str,
        payload: &RawPayloadRef,
        invocation: &Value,
    ) -> Result<(), ReduceError> {
        if invocation.get("tool_name").and_then(Value::as_str) != Some("wait") {
            return Ok(());
        }
        let id = &payload.raw_payload_id;
        let Some(arguments) = super::tools::invocation_arguments(invocation) else {
            bail!("wait tool request payload {id} did not contain function arguments");
        };
        let arguments: Value = serde_json::from_str(arguments).map_err(|error| {
            ReduceError::caused(
                format!("wait tool request payload {id} had invalid JSON arguments"),
                error,
            )
            .at_payload(&payload.path)
        })?;
        let Some(runtime_cell_id) = arguments.get("cell_id").and_then(Value::as_str) else {
            bail!("wait tool request payload {id} did not contain cell_id");
        };
        let Some(code_cell_id) = self
            .runtime_cells
            .get(&(thread_id.to_string(), runtime_cell_id.to_string()))
        else {
            return Ok(());
        };
        if let Some(cell) = self.trace.code_cells.get_mut(code_cell_id) {
            push_unique(&mut cell.wait_tool_call_ids, tool_call_id);
        }
        Ok(())
    }

    /// `reduction.md` §10.8: a failed or interrupted turn ends its running cells.
    pub(super) fn end_code_cells_for_turn(
        &mut self,
        cx: &EventContext,
        codex_turn_id: &str,
        turn_status: ExecutionStatus,
    ) {
        let runtime_status = match turn_status {
            ExecutionStatus::Running | ExecutionStatus::Completed => return,
            ExecutionStatus::Failed => CodeCellRuntimeStatus::Failed,
            ExecutionStatus::Cancelled | ExecutionStatus::Aborted => {
                CodeCellRuntimeStatus::Terminated
            }
        };
        let Some(cell_ids) = self.index.cells_by_turn.remove(codex_turn_id) else {
            return;
        };
        for cell_id in &cell_ids {
            if let Some(cell) = self.trace.code_cells.get_mut(cell_id)
                && cell.execution.status == ExecutionStatus::Running
            {
                end_code_cell(cell, cx.wall_time_unix_ms, cx.seq, runtime_status);
            }
        }
    }

    /// Diagnostics for queued cells that never materialized (dropped at the end, as upstream does).
    pub(super) fn report_dropped_code_cells(&mut self) {
        let dropped: Vec<(Place, String)> = self
            .pending_cells
            .values()
            .map(|start| {
                let events = self
                    .pending_cell_events
                    .get(&start.code_cell_id)
                    .map_or(0, Vec::len);
                (
                    start.place.clone(),
                    format!(
                        "code cell {} dropped: no custom_tool_call item with call id {} appeared in thread {}, so its start{} never materialized (as upstream, no code cell is written)",
                        start.code_cell_id,
                        start.model_visible_call_id,
                        start.thread_id,
                        match events {
                            0 => String::new(),
                            1 => " and 1 lifecycle event".to_string(),
                            n => format!(" and {n} lifecycle events"),
                        }
                    ),
                )
            })
            .collect();
        for (place, message) in dropped {
            self.diagnostics
                .push(crate::error::Diagnostic::new(place, message));
        }
    }
}

/// Ends a cell with a runtime status (§10.5 step 4).
fn end_code_cell(
    cell: &mut CodeCell,
    wall_time_unix_ms: i64,
    seq: u64,
    status: CodeCellRuntimeStatus,
) {
    if cell.initial_response_at_unix_ms.is_none() {
        cell.initial_response_at_unix_ms = Some(wall_time_unix_ms);
        cell.initial_response_seq = Some(seq);
    }
    cell.execution
        .end(wall_time_unix_ms, seq, status.execution_status());
    cell.runtime_status = status;
}
