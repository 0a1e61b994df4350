//! Tool calls and their links to model-visible items (`reduction.md` §9).

use serde_json::Value;

use super::EventContext;
use super::Reducer;
use crate::bundle::PayloadSource;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::ConversationItemKind;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::ProducerRef;
use crate::model::RawPayloadRef;
use crate::model::TerminalModelObservation;
use crate::model::TerminalObservationSource;
use crate::model::ToolCall;
use crate::model::ToolCallKind;
use crate::model::ToolCallRequester;
use crate::model::ToolCallSummary;
use crate::raw::RawToolCallRequester;

const CALL_KINDS: [ConversationItemKind; 2] = [
    ConversationItemKind::FunctionCall,
    ConversationItemKind::CustomToolCall,
];
const OUTPUT_KINDS: [ConversationItemKind; 2] = [
    ConversationItemKind::FunctionCallOutput,
    ConversationItemKind::CustomToolCallOutput,
];

pub(super) struct StartedToolCall<'a> {
    pub tool_call_id: &'a str,
    pub model_visible_call_id: Option<&'a str>,
    pub code_mode_runtime_tool_id: Option<&'a str>,
    pub requester: &'a RawToolCallRequester,
    pub kind: &'a ToolCallKind,
    pub summary: &'a ToolCallSummary,
    pub invocation_payload: Option<&'a RawPayloadRef>,
}

impl Reducer {
    /// `reduction.md` §9.1.
    pub(super) fn start_tool_call(
        &mut self,
        cx: &EventContext,
        started: StartedToolCall<'_>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let tool_call_id = started.tool_call_id;
        if self.trace.tool_calls.contains_key(tool_call_id) {
            bail!("duplicate tool call start for {tool_call_id}");
        }
        if let Some(call_id) = started.model_visible_call_id {
            // The tool holding the call id is another one: a second start of
            // this tool failed above.
            if self.index.tools_by_call_id.contains_key(call_id) {
                bail!("duplicate tool call for model-visible call id {call_id}")
            }
        }
        let thread_id = match (&cx.thread_id, &cx.codex_turn_id) {
            (Some(thread_id), _) => thread_id.clone(),
            (None, None) => bail!("tool call start did not include thread or Codex turn context"),
            (None, Some(turn_id)) => match self.turn_thread(turn_id) {
                Some(thread_id) => thread_id.to_string(),
                None => bail!("tool call start referenced unknown Codex turn {turn_id}"),
            },
        };
        if !self.trace.threads.contains_key(&thread_id) {
            bail!("tool call start referenced unknown thread {thread_id}");
        }
        if let Some(turn_id) = &cx.codex_turn_id {
            match self.turn_thread(turn_id) {
                None => bail!("tool call start referenced unknown Codex turn {turn_id}"),
                Some(turn_thread) if turn_thread != thread_id => bail!(
                    "tool call start used thread {thread_id}, but Codex turn {turn_id} belongs to {turn_thread}"
                ),
                Some(_) => {}
            }
        }
        let requester = match started.requester {
            RawToolCallRequester::Model => ToolCallRequester::Model,
            RawToolCallRequester::CodeCell { runtime_cell_id } => {
                let Some(code_cell_id) = self
                    .runtime_cells
                    .get(&(thread_id.clone(), runtime_cell_id.clone()))
                else {
                    bail!(
                        "code-mode nested tool referenced unknown runtime cell {runtime_cell_id} in thread {thread_id}"
                    );
                };
                ToolCallRequester::CodeCell {
                    code_cell_id: code_cell_id.clone(),
                }
            }
        };
        let (call_item_ids, output_item_ids) = match started.model_visible_call_id {
            Some(call_id) => (
                self.thread_items_with_call_id(&thread_id, call_id, &CALL_KINDS),
                self.thread_items_with_call_id(&thread_id, call_id, &OUTPUT_KINDS),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let invocation = match started.invocation_payload {
            Some(payload) => Some((payload, payloads.read_payload(payload)?)),
            None => None,
        };
        let terminal_operation_id = match (started.kind, &invocation) {
            (ToolCallKind::WriteStdin, Some((payload, value))) => Some(
                self.start_dispatch_write_stdin(cx, tool_call_id, &thread_id, payload, value)?,
            ),
            _ => None,
        };
        let summary = match &terminal_operation_id {
            Some(operation_id) => ToolCallSummary::Terminal {
                operation_id: operation_id.clone(),
            },
            None => started.summary.clone(),
        };
        if let Some((payload, value)) = &invocation {
            self.link_code_mode_wait(tool_call_id, &thread_id, payload, value)?;
        }
        if let Some(call_id) = started.model_visible_call_id {
            self.index
                .tools_by_call_id
                .insert(call_id.to_string(), tool_call_id.to_string());
        }
        if let ToolCallRequester::CodeCell { code_cell_id } = &requester {
            self.index
                .tools_by_requesting_cell
                .entry(code_cell_id.clone())
                .or_default()
                .insert(tool_call_id.to_string());
            if let Some(cell) = self.trace.code_cells.get_mut(code_cell_id)
                && !cell
                    .nested_tool_call_ids
                    .iter()
                    .any(|id| id == tool_call_id)
            {
                cell.nested_tool_call_ids.push(tool_call_id.to_string());
            }
        }
        self.trace.tool_calls.insert(
            tool_call_id.to_string(),
            ToolCall {
                tool_call_id: tool_call_id.to_string(),
                mcp_call_id: None,
                model_visible_call_id: started.model_visible_call_id.map(str::to_string),
                code_mode_runtime_tool_id: started.code_mode_runtime_tool_id.map(str::to_string),
                thread_id,
                started_by_codex_turn_id: cx.codex_turn_id.clone(),
                execution: ExecutionWindow::started(cx.wall_time_unix_ms, cx.seq),
                requester,
                kind: started.kind.clone(),
                model_visible_call_item_ids: call_item_ids,
                model_visible_output_item_ids: Vec::new(),
                terminal_operation_id,
                summary,
                raw_invocation_payload_id: started
                    .invocation_payload
                    .map(|payload| payload.raw_payload_id.clone()),
                raw_result_payload_id: None,
                raw_runtime_payload_ids: Vec::new(),
            },
        );
        self.link_tool_to_inference_calls(tool_call_id);
        for item_id in &output_item_ids {
            self.link_tool_output(tool_call_id, item_id);
        }
        self.sync_terminal_observation(tool_call_id);
        Ok(())
    }

    /// `reduction.md` §9.2.
    pub(super) fn assign_mcp_correlation(
        &mut self,
        tool_call_id: &str,
        mcp_call_id: &str,
    ) -> Result<(), ReduceError> {
        let Some(tool) = self.trace.tool_calls.get_mut(tool_call_id) else {
            bail!("MCP correlation referenced unknown tool call {tool_call_id}");
        };
        if tool.mcp_call_id.is_some() {
            bail!("duplicate MCP correlation for tool call {tool_call_id}");
        }
        tool.mcp_call_id = Some(mcp_call_id.to_string());
        Ok(())
    }

    /// `reduction.md` §9.3.
    pub(super) fn start_tool_runtime(
        &mut self,
        cx: &EventContext,
        tool_call_id: &str,
        payload: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let Some(tool) = self.trace.tool_calls.get_mut(tool_call_id) else {
            bail!("tool runtime start referenced unknown call {tool_call_id}");
        };
        push_unique(&mut tool.raw_runtime_payload_ids, &payload.raw_payload_id);
        let kind = tool.kind.clone();
        let thread_id = tool.thread_id.clone();
        let has_operation = tool.terminal_operation_id.is_some();
        if kind.is_terminal() {
            if has_operation {
                bail!(
                    "tool runtime start would create a second terminal operation for {tool_call_id}"
                );
            }
            let operation_id = self.start_runtime_terminal_operation(
                cx,
                tool_call_id,
                &thread_id,
                &kind,
                payload,
                payloads,
            )?;
            if let Some(tool) = self.trace.tool_calls.get_mut(tool_call_id) {
                tool.summary = ToolCallSummary::Terminal {
                    operation_id: operation_id.clone(),
                };
                tool.terminal_operation_id = Some(operation_id);
            }
            self.sync_terminal_observation(tool_call_id);
        }
        self.observe_agent_runtime_start(tool_call_id, &kind, payload, payloads)
    }

    /// `reduction.md` §9.4.
    pub(super) fn end_tool_runtime(
        &mut self,
        cx: &EventContext,
        tool_call_id: &str,
        status: ExecutionStatus,
        payload: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let Some(tool) = self.trace.tool_calls.get_mut(tool_call_id) else {
            bail!("tool runtime end referenced unknown call {tool_call_id}");
        };
        push_unique(&mut tool.raw_runtime_payload_ids, &payload.raw_payload_id);
        let operation_id = tool.terminal_operation_id.clone();
        // Upstream reads this payload once for the terminal and once for the
        // agent check; the file is the same, so one read serves both.
        let value = payloads.read_payload(payload)?;
        if let Some(operation_id) = operation_id {
            self.end_terminal_operation(cx, &operation_id, status, Some((payload, &value)))?;
        }
        self.observe_agent_runtime_end(cx, tool_call_id, payload, &value, payloads)
    }

    /// `reduction.md` §9.5.
    pub(super) fn end_tool_call(
        &mut self,
        cx: &EventContext,
        tool_call_id: &str,
        status: ExecutionStatus,
        result_payload: Option<&RawPayloadRef>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<(), ReduceError> {
        let Some(tool) = self.trace.tool_calls.get_mut(tool_call_id) else {
            bail!("tool call end referenced unknown call {tool_call_id}");
        };
        tool.execution.end(cx.wall_time_unix_ms, cx.seq, status);
        tool.raw_result_payload_id = result_payload.map(|payload| payload.raw_payload_id.clone());
        let ends_operation = tool
            .terminal_operation_id
            .clone()
            .filter(|_| tool.raw_runtime_payload_ids.is_empty());
        if let Some(operation_id) = ends_operation {
            let value = match result_payload {
                Some(payload) => Some((payload, payloads.read_payload(payload)?)),
                None => None,
            };
            let result = value.as_ref().map(|(payload, value)| (*payload, value));
            self.end_terminal_operation(cx, &operation_id, status, result)?;
        }
        if let Some(payload) = result_payload {
            self.attach_tool_result_to_edge(tool_call_id, &payload.raw_payload_id);
        }
        Ok(())
    }

    /// `reduction.md` §9.6: a sighted call or output item joins its tool call.
    pub(super) fn link_tool_item(
        &mut self,
        item_id: &str,
        call_id: &str,
        kind: ConversationItemKind,
    ) -> Result<(), ReduceError> {
        let is_call = kind.is_tool_call();
        if !is_call && !kind.is_tool_output() {
            return Ok(());
        }
        let Some(tool_call_id) = self.index.tools_by_call_id.get(call_id).cloned() else {
            return Ok(());
        };
        if is_call {
            if let Some(tool) = self.trace.tool_calls.get_mut(&tool_call_id) {
                push_unique(&mut tool.model_visible_call_item_ids, item_id);
            }
            self.link_tool_to_inference_calls(&tool_call_id);
        } else {
            self.link_tool_output(&tool_call_id, item_id);
        }
        self.sync_terminal_observation(&tool_call_id);
        Ok(())
    }

    /// `reduction.md` §9.7: inference calls whose response holds the tool's call item.
    fn link_tool_to_inference_calls(&mut self, tool_call_id: &str) {
        let Some(tool) = self.trace.tool_calls.get(tool_call_id) else {
            return;
        };
        // Each call gets the tool once (`push_unique`), in any order.
        let call_ids: Vec<&String> = tool
            .model_visible_call_item_ids
            .iter()
            .filter_map(|item_id| self.index.inference_by_response_item.get(item_id))
            .flatten()
            .collect();
        for call_id in call_ids {
            if let Some(call) = self.trace.inference_calls.get_mut(call_id) {
                push_unique(&mut call.tool_call_ids_started_by_response, tool_call_id);
            }
        }
    }

    /// The output item joins the tool, and the tool becomes one of its producers.
    fn link_tool_output(&mut self, tool_call_id: &str, item_id: &str) {
        if let Some(tool) = self.trace.tool_calls.get_mut(tool_call_id) {
            push_unique(&mut tool.model_visible_output_item_ids, item_id);
        }
        if let Some(item) = self.item_mut(item_id) {
            let producer = ProducerRef::Tool {
                tool_call_id: tool_call_id.to_string(),
            };
            if !item.produced_by.contains(&producer) {
                item.produced_by.push(producer);
            }
        }
    }

    /// `reduction.md` §11.6: the terminal operation records where the model saw it.
    pub(super) fn sync_terminal_observation(&mut self, tool_call_id: &str) {
        let Some(tool) = self.trace.tool_calls.get(tool_call_id) else {
            return;
        };
        let Some(operation_id) = &tool.terminal_operation_id else {
            return;
        };
        if tool.model_visible_call_item_ids.is_empty()
            && tool.model_visible_output_item_ids.is_empty()
        {
            return;
        }
        let Some(operation) = self.trace.terminal_operations.get_mut(operation_id) else {
            return;
        };
        let (calls, outputs) = (
            &tool.model_visible_call_item_ids,
            &tool.model_visible_output_item_ids,
        );
        match operation
            .model_observations
            .iter_mut()
            .find(|observation| observation.source == TerminalObservationSource::DirectToolCall)
        {
            // `clone_from` reuses the lists' memory: a resend that changes
            // nothing allocates nothing.
            Some(observation) => {
                observation.call_item_ids.clone_from(calls);
                observation.output_item_ids.clone_from(outputs);
            }
            None => operation.model_observations.push(TerminalModelObservation {
                call_item_ids: calls.clone(),
                output_item_ids: outputs.clone(),
                source: TerminalObservationSource::DirectToolCall,
            }),
        }
    }
}

/// Appends `id` unless the list already holds it.
pub(super) fn push_unique(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|existing| existing == id) {
        list.push(id.to_string());
    }
}

/// `payload.arguments` of a tool invocation, when it is a string.
pub(super) fn invocation_arguments(invocation: &Value) -> Option<&str> {
    invocation
        .get("payload")
        .and_then(|payload| payload.get("arguments"))
        .and_then(Value::as_str)
}
