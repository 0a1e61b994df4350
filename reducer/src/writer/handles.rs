//! The handles below a turn: inference attempts, tool calls, code cells and
//! compactions. Each records with its turn's envelope context (thread and
//! turn), except the MCP correlation, which the reference producer writes
//! without context. Like every recording handle they are no-ops when
//! disabled and never return errors (see `recorder.rs`).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;

use super::EventContext;
use super::TracePayload;
use super::sink::Sink;
use super::sink::TurnScope;
use super::sink::optional_payload;
use super::sink::record;
use crate::model::CodeCellRuntimeStatus;
use crate::model::ExecutionStatus;
use crate::model::RawPayloadKind;
use crate::model::ToolCallKind;
use crate::model::ToolCallSummary;
use crate::raw::RawToolCallRequester;
use crate::raw::RawTraceEventPayload;

/// One request to the model provider. At most one of `complete`, `fail` and
/// `cancel` is recorded (writer rule 7); later calls are ignored.
#[derive(Clone, Debug)]
pub struct InferenceAttempt {
    sink: Option<Arc<Sink>>,
    scope: TurnScope,
    inference_call_id: Arc<str>,
    finished: Arc<AtomicBool>,
}

impl InferenceAttempt {
    pub(super) fn new(sink: Option<Arc<Sink>>, scope: TurnScope, inference_call_id: &str) -> Self {
        InferenceAttempt {
            sink,
            scope,
            inference_call_id: Arc::from(inference_call_id),
            finished: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn inference_call_id(&self) -> &str {
        &self.inference_call_id
    }

    /// Runs `step` for the attempt's single terminal event.
    fn finish(&self, step: impl FnOnce(&super::TraceWriter) -> Result<(), super::WriteError>) {
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        record(&self.sink, step);
    }

    /// Records `inference_completed` with the response (kind
    /// `inference_response`, §8.2: `response_id`, `upstream_request_id`,
    /// `token_usage`, `output_items`).
    pub fn complete(
        &self,
        response_id: Option<&str>,
        upstream_request_id: Option<&str>,
        response: &dyn TracePayload,
    ) {
        self.finish(|writer| {
            let response_payload =
                writer.write_payload(RawPayloadKind::InferenceResponse, response)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::InferenceCompleted {
                    inference_call_id: self.inference_call_id.to_string(),
                    response_id: response_id.map(str::to_string),
                    upstream_request_id: upstream_request_id.map(str::to_string),
                    response_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `inference_failed`. Pass a partial response only when output
    /// items were received, as the reference producer does.
    pub fn fail(
        &self,
        upstream_request_id: Option<&str>,
        error: &str,
        partial_response: Option<&dyn TracePayload>,
    ) {
        self.finish(|writer| {
            let partial_response_payload =
                optional_payload(writer, RawPayloadKind::InferenceResponse, partial_response)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::InferenceFailed {
                    inference_call_id: self.inference_call_id.to_string(),
                    upstream_request_id: upstream_request_id.map(str::to_string),
                    error: error.to_string(),
                    partial_response_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `inference_cancelled`, with a partial response as for `fail`.
    pub fn cancel(
        &self,
        upstream_request_id: Option<&str>,
        reason: &str,
        partial_response: Option<&dyn TracePayload>,
    ) {
        self.finish(|writer| {
            let partial_response_payload =
                optional_payload(writer, RawPayloadKind::InferenceResponse, partial_response)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::InferenceCancelled {
                    inference_call_id: self.inference_call_id.to_string(),
                    upstream_request_id: upstream_request_id.map(str::to_string),
                    reason: reason.to_string(),
                    partial_response_payload,
                },
            )?;
            Ok(())
        });
    }
}

/// The fields of `tool_call_started` the caller chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallStart {
    pub tool_call_id: String,
    pub model_visible_call_id: Option<String>,
    pub code_mode_runtime_tool_id: Option<String>,
    pub requester: RawToolCallRequester,
    pub kind: ToolCallKind,
    pub summary: ToolCallSummary,
}

impl ToolCallStart {
    /// A call requested by the model, with no model-visible call id yet.
    pub fn new(
        tool_call_id: impl Into<String>,
        kind: ToolCallKind,
        summary: ToolCallSummary,
    ) -> Self {
        ToolCallStart {
            tool_call_id: tool_call_id.into(),
            model_visible_call_id: None,
            code_mode_runtime_tool_id: None,
            requester: RawToolCallRequester::Model,
            kind,
            summary,
        }
    }

    /// The Responses `call_id` the model used.
    pub fn model_visible_call_id(mut self, call_id: impl Into<String>) -> Self {
        self.model_visible_call_id = Some(call_id.into());
        self
    }

    /// The JavaScript runtime's id of a call made by a code cell.
    pub fn code_mode_runtime_tool_id(mut self, tool_id: impl Into<String>) -> Self {
        self.code_mode_runtime_tool_id = Some(tool_id.into());
        self
    }
}

/// One tool call, from dispatch to result.
#[derive(Clone, Debug)]
pub struct ToolCallRecorder {
    sink: Option<Arc<Sink>>,
    scope: TurnScope,
    tool_call_id: Arc<str>,
}

impl ToolCallRecorder {
    pub(super) fn start(
        sink: Option<Arc<Sink>>,
        scope: TurnScope,
        start: ToolCallStart,
        invocation: Option<&dyn TracePayload>,
    ) -> Self {
        let tool_call_id: Arc<str> = Arc::from(start.tool_call_id.as_str());
        record(&sink, |writer| {
            let invocation_payload =
                optional_payload(writer, RawPayloadKind::ToolInvocation, invocation)?;
            writer.append(
                scope.context(),
                RawTraceEventPayload::ToolCallStarted {
                    tool_call_id: start.tool_call_id,
                    model_visible_call_id: start.model_visible_call_id,
                    code_mode_runtime_tool_id: start.code_mode_runtime_tool_id,
                    requester: start.requester,
                    kind: start.kind,
                    summary: start.summary,
                    invocation_payload,
                },
            )?;
            Ok(())
        });
        ToolCallRecorder {
            sink,
            scope,
            tool_call_id,
        }
    }

    pub fn tool_call_id(&self) -> &str {
        &self.tool_call_id
    }

    /// Records `mcp_tool_call_correlation_assigned` (no envelope context).
    pub fn assign_mcp_call_id(&self, mcp_call_id: &str) {
        record(&self.sink, |writer| {
            writer.append(
                EventContext::none(),
                RawTraceEventPayload::McpToolCallCorrelationAssigned {
                    tool_call_id: self.tool_call_id.to_string(),
                    mcp_call_id: mcp_call_id.to_string(),
                },
            )?;
            Ok(())
        });
    }

    /// Records `tool_call_runtime_started` with the runtime's begin
    /// observation (kind `tool_runtime_event`, §8.5).
    pub fn runtime_started(&self, observation: &dyn TracePayload) {
        record(&self.sink, |writer| {
            let runtime_payload =
                writer.write_payload(RawPayloadKind::ToolRuntimeEvent, observation)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::ToolCallRuntimeStarted {
                    tool_call_id: self.tool_call_id.to_string(),
                    runtime_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `tool_call_runtime_ended` with the runtime's end observation.
    pub fn runtime_ended(&self, status: ExecutionStatus, observation: &dyn TracePayload) {
        record(&self.sink, |writer| {
            let runtime_payload =
                writer.write_payload(RawPayloadKind::ToolRuntimeEvent, observation)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::ToolCallRuntimeEnded {
                    tool_call_id: self.tool_call_id.to_string(),
                    status,
                    runtime_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `tool_call_ended` with the caller-facing result (kind `tool_result`, §8.4).
    pub fn end(&self, status: ExecutionStatus, result: Option<&dyn TracePayload>) {
        record(&self.sink, |writer| {
            let result_payload = optional_payload(writer, RawPayloadKind::ToolResult, result)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::ToolCallEnded {
                    tool_call_id: self.tool_call_id.to_string(),
                    status,
                    result_payload,
                },
            )?;
            Ok(())
        });
    }
}

/// One code-mode cell, named by the runtime's handle (unique within a thread).
#[derive(Clone, Debug)]
pub struct CodeCellRecorder {
    sink: Option<Arc<Sink>>,
    scope: TurnScope,
    runtime_cell_id: Arc<str>,
}

impl CodeCellRecorder {
    pub(super) fn start(
        sink: Option<Arc<Sink>>,
        scope: TurnScope,
        runtime_cell_id: &str,
        model_visible_call_id: &str,
        source_js: &str,
    ) -> Self {
        record(&sink, |writer| {
            writer.append(
                scope.context(),
                RawTraceEventPayload::CodeCellStarted {
                    runtime_cell_id: runtime_cell_id.to_string(),
                    model_visible_call_id: model_visible_call_id.to_string(),
                    source_js: source_js.to_string(),
                },
            )?;
            Ok(())
        });
        CodeCellRecorder {
            sink,
            scope,
            runtime_cell_id: Arc::from(runtime_cell_id),
        }
    }

    pub fn runtime_cell_id(&self) -> &str {
        &self.runtime_cell_id
    }

    /// Records `code_cell_initial_response` with the runtime response (kind `tool_result`, §8.7).
    pub fn initial_response(
        &self,
        status: CodeCellRuntimeStatus,
        response: Option<&dyn TracePayload>,
    ) {
        record(&self.sink, |writer| {
            let response_payload = optional_payload(writer, RawPayloadKind::ToolResult, response)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::CodeCellInitialResponse {
                    runtime_cell_id: self.runtime_cell_id.to_string(),
                    status,
                    response_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `code_cell_ended` with the final runtime response.
    pub fn end(&self, status: CodeCellRuntimeStatus, response: Option<&dyn TracePayload>) {
        record(&self.sink, |writer| {
            let response_payload = optional_payload(writer, RawPayloadKind::ToolResult, response)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::CodeCellEnded {
                    runtime_cell_id: self.runtime_cell_id.to_string(),
                    status,
                    response_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records a tool call made by this cell's JavaScript: `start`'s
    /// requester is replaced by this cell.
    pub fn start_tool_call(
        &self,
        mut start: ToolCallStart,
        invocation: Option<&dyn TracePayload>,
    ) -> ToolCallRecorder {
        start.requester = RawToolCallRequester::CodeCell {
            runtime_cell_id: self.runtime_cell_id.to_string(),
        };
        ToolCallRecorder::start(self.sink.clone(), self.scope.clone(), start, invocation)
    }
}

/// One compaction checkpoint: any number of requests to the compaction
/// endpoint (all sharing the compaction id), then at most one install.
#[derive(Clone, Debug)]
pub struct CompactionRecorder {
    sink: Option<Arc<Sink>>,
    scope: TurnScope,
    compaction_id: Arc<str>,
}

impl CompactionRecorder {
    pub(super) fn new(sink: Option<Arc<Sink>>, scope: TurnScope, compaction_id: &str) -> Self {
        CompactionRecorder {
            sink,
            scope,
            compaction_id: Arc::from(compaction_id),
        }
    }

    pub fn compaction_id(&self) -> &str {
        &self.compaction_id
    }

    /// Records `compaction_request_started` with the request body (kind
    /// `compaction_request`). The attempt id is `compaction_request:<n>`,
    /// counted per bundle from 1 (upstream counts per process).
    pub fn start_request(
        &self,
        model: &str,
        provider_name: &str,
        request: &dyn TracePayload,
    ) -> CompactionAttempt {
        let compaction_request_id = self
            .sink
            .as_ref()
            .map(|sink| sink.next_compaction_request_id())
            .unwrap_or_default();
        record(&self.sink, |writer| {
            let request_payload =
                writer.write_payload(RawPayloadKind::CompactionRequest, request)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::CompactionRequestStarted {
                    compaction_id: self.compaction_id.to_string(),
                    compaction_request_id: compaction_request_id.clone(),
                    thread_id: self.scope.thread_id.to_string(),
                    codex_turn_id: self.scope.codex_turn_id.to_string(),
                    model: model.to_string(),
                    provider_name: provider_name.to_string(),
                    request_payload,
                },
            )?;
            Ok(())
        });
        CompactionAttempt {
            sink: self.sink.clone(),
            scope: self.scope.clone(),
            compaction_id: Arc::clone(&self.compaction_id),
            compaction_request_id: Arc::from(compaction_request_id.as_str()),
        }
    }

    /// Records `compaction_installed` with the checkpoint (kind
    /// `compaction_checkpoint`, §8.6: `input_history`, `replacement_history`).
    pub fn install(&self, checkpoint: &dyn TracePayload) {
        record(&self.sink, |writer| {
            let checkpoint_payload =
                writer.write_payload(RawPayloadKind::CompactionCheckpoint, checkpoint)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::CompactionInstalled {
                    compaction_id: self.compaction_id.to_string(),
                    checkpoint_payload,
                },
            )?;
            Ok(())
        });
    }
}

/// One request to the compaction endpoint.
#[derive(Clone, Debug)]
pub struct CompactionAttempt {
    sink: Option<Arc<Sink>>,
    scope: TurnScope,
    compaction_id: Arc<str>,
    compaction_request_id: Arc<str>,
}

impl CompactionAttempt {
    /// `compaction_request:<n>` (empty when disabled).
    pub fn compaction_request_id(&self) -> &str {
        &self.compaction_request_id
    }

    /// Records `compaction_request_completed` with the response (kind
    /// `compaction_response`, `{"output_items":[...]}`).
    pub fn complete(&self, response: &dyn TracePayload) {
        record(&self.sink, |writer| {
            let response_payload =
                writer.write_payload(RawPayloadKind::CompactionResponse, response)?;
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::CompactionRequestCompleted {
                    compaction_id: self.compaction_id.to_string(),
                    compaction_request_id: self.compaction_request_id.to_string(),
                    response_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `compaction_request_failed`.
    pub fn fail(&self, error: &str) {
        record(&self.sink, |writer| {
            writer.append(
                self.scope.context(),
                RawTraceEventPayload::CompactionRequestFailed {
                    compaction_id: self.compaction_id.to_string(),
                    compaction_request_id: self.compaction_request_id.to_string(),
                    error: error.to_string(),
                },
            )?;
            Ok(())
        });
    }
}
