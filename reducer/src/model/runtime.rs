//! What ran outside the model: inference calls, tool calls, code cells and terminals.

use serde::Deserialize;
use serde::Serialize;

use super::CodeCellRuntimeStatus;
use super::ExecutionWindow;
use super::ItemIdList;
use super::ToolCallKind;
use super::ToolCallSummary;

/// One request to the model provider and its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InferenceCall {
    pub inference_call_id: String,
    pub thread_id: String,
    pub codex_turn_id: String,
    pub execution: ExecutionWindow,
    pub model: String,
    pub provider_name: String,
    /// Responses API id from the last terminal event (reset to null by a late failure).
    pub response_id: Option<String>,
    pub upstream_request_id: Option<String>,
    /// The whole reconstructed input, in request order.
    pub request_item_ids: ItemIdList,
    pub response_item_ids: ItemIdList,
    pub tool_call_ids_started_by_response: Vec<String>,
    pub usage: Option<TokenUsage>,
    pub raw_request_payload_id: String,
    pub raw_response_payload_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    /// Absent from states written by older reducers.
    #[serde(default)]
    pub cache_write_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
}

/// One code-mode `exec` cell: model-authored JavaScript run by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeCell {
    /// `code_cell:<model_visible_call_id>`.
    pub code_cell_id: String,
    pub model_visible_call_id: String,
    pub thread_id: String,
    pub codex_turn_id: String,
    pub source_item_id: String,
    pub output_item_ids: Vec<String>,
    pub runtime_cell_id: Option<String>,
    pub execution: ExecutionWindow,
    pub runtime_status: CodeCellRuntimeStatus,
    pub initial_response_at_unix_ms: Option<i64>,
    pub initial_response_seq: Option<u64>,
    pub yielded_at_unix_ms: Option<i64>,
    pub yielded_seq: Option<u64>,
    pub source_js: String,
    pub nested_tool_call_ids: Vec<String>,
    pub wait_tool_call_ids: Vec<String>,
}

/// One tool invocation as the runtime saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub tool_call_id: String,
    pub mcp_call_id: Option<String>,
    pub model_visible_call_id: Option<String>,
    pub code_mode_runtime_tool_id: Option<String>,
    pub thread_id: String,
    pub started_by_codex_turn_id: Option<String>,
    pub execution: ExecutionWindow,
    pub requester: ToolCallRequester,
    pub kind: ToolCallKind,
    pub model_visible_call_item_ids: Vec<String>,
    pub model_visible_output_item_ids: Vec<String>,
    pub terminal_operation_id: Option<String>,
    pub summary: ToolCallSummary,
    pub raw_invocation_payload_id: Option<String>,
    pub raw_result_payload_id: Option<String>,
    pub raw_runtime_payload_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToolCallRequester {
    Model,
    CodeCell { code_cell_id: String },
}

/// A process or pty the runtime kept alive across operations; never ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalSession {
    pub terminal_id: String,
    pub thread_id: String,
    pub created_by_operation_id: String,
    pub operation_ids: Vec<String>,
    pub execution: ExecutionWindow,
}

/// One command run in, or input written to, a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalOperation {
    /// `terminal_operation:<n>`, from one counter for the whole replay.
    pub operation_id: String,
    pub terminal_id: Option<String>,
    pub tool_call_id: String,
    pub kind: TerminalOperationKind,
    pub execution: ExecutionWindow,
    pub request: TerminalRequest,
    pub result: Option<TerminalResult>,
    pub model_observations: Vec<TerminalModelObservation>,
    pub raw_payload_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalOperationKind {
    ExecCommand,
    WriteStdin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TerminalRequest {
    ExecCommand {
        command: Vec<String>,
        display_command: String,
        cwd: String,
        yield_time_ms: Option<u64>,
        max_output_tokens: Option<u64>,
    },
    WriteStdin {
        stdin: String,
        yield_time_ms: Option<u64>,
        max_output_tokens: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalResult {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub formatted_output: Option<String>,
    pub original_token_count: Option<u64>,
    pub chunk_id: Option<String>,
}

/// Where the model saw an operation: the call item and the output item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalModelObservation {
    pub call_item_ids: Vec<String>,
    pub output_item_ids: Vec<String>,
    pub source: TerminalObservationSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalObservationSource {
    DirectToolCall,
    CodeCellOutput,
}
