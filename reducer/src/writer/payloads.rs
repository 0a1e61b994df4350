//! Typed payload shapes of `trace-format.md` §8 and the reference producer's
//! naming conventions, for runtimes that do not already have these values
//! in the right JSON form.
//!
//! Members are declared in the order the reference producer writes them;
//! members it omits when absent are skipped when `None`, the others are
//! written as `null`. Model items (request `input`, response
//! `output_items`) stay `serde_json::Value`: they are the provider's own
//! JSON and the reducer reads them as such (§8.8).

use serde::Serialize;
use serde_json::Value;

use crate::model::ToolCallKind;
use crate::model::ToolCallSummary;

/// Thread-start metadata (kind `session_metadata`, §8.10).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionMetadata {
    pub thread_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_role: Option<String>,
    /// `"exec"`, `"cli"`, ... for a root; `thread_spawn_source(...)` for a spawned child.
    pub session_source: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_policy: Option<String>,
}

/// The `session_source` of a spawned child: the reducer takes the parent,
/// path, task name and role from here (§8.10).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadSpawn {
    pub parent_thread_id: String,
    pub depth: u32,
    pub agent_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_role: Option<String>,
}

impl ThreadSpawn {
    /// `{"subagent":{"thread_spawn":{...}}}`.
    pub fn session_source(&self) -> Value {
        serde_json::json!({ "subagent": { "thread_spawn": self } })
    }
}

/// An inference response or partial response (kind `inference_response`, §8.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InferenceResponse {
    pub response_id: Option<String>,
    pub upstream_request_id: Option<String>,
    pub token_usage: Option<ResponseTokenUsage>,
    pub output_items: Vec<Value>,
}

/// Token counts as the reference producer writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResponseTokenUsage {
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub cache_write_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub total_tokens: i64,
}

/// A dispatch invocation (kind `tool_invocation`, §8.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInvocation {
    pub tool_name: String,
    pub tool_namespace: Option<String>,
    pub payload: ToolInvocationBody,
}

/// What the model sent to the tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToolInvocationBody {
    /// Function arguments, usually JSON text.
    Function {
        arguments: String,
    },
    ToolSearch {
        arguments: Value,
    },
    Custom {
        input: String,
    },
}

/// A terminal command's begin observation (kind `tool_runtime_event`, §8.5.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecBegin {
    pub call_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    pub turn_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<i64>,
    pub command: Vec<String>,
    /// A native path string.
    pub cwd: String,
    /// The runtime's parse of the command (ignored by the reducer).
    pub parsed_cmd: Vec<Value>,
    /// `agent`, `unified_exec_startup` or `unified_exec_interaction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interaction_input: Option<String>,
}

/// A terminal command's end observation (kind `tool_runtime_event`, §8.5.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecEnd {
    pub call_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    pub turn_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at_ms: Option<i64>,
    pub command: Vec<String>,
    pub cwd: String,
    pub parsed_cmd: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interaction_input: Option<String>,
    pub stdout: String,
    pub stderr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated_output: Option<String>,
    pub exit_code: i32,
    /// How long the command ran, as the runtime reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<ExecDuration>,
    pub formatted_output: String,
    /// `completed`, `failed` or `declined`.
    pub status: String,
}

/// A duration as the reference producer serializes one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExecDuration {
    pub secs: u64,
    pub nanos: u32,
}

/// A dispatch result (kind `tool_result`, §8.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum DispatchResult {
    /// The item returned to the model, e.g. a `function_call_output`.
    DirectResponse {
        response_item: Value,
    },
    /// The value returned to model-authored JavaScript.
    CodeModeResponse {
        value: Value,
    },
    Error {
        error: String,
    },
}

/// A child's completion notification (kind `agent_result`, §8.9).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentResult {
    pub child_agent_path: String,
    pub message: String,
    /// `{"completed": "<text>"}`, `{"errored": "<text>"}`, `"shutdown"`, ...
    pub status: Value,
}

/// An installed compaction checkpoint (kind `compaction_checkpoint`, §8.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CompactionCheckpoint {
    pub input_history: Vec<Value>,
    pub replacement_history: Vec<Value>,
}

/// The reference producer's tool kind for a tool name (§6.4).
pub fn classify_tool(tool_name: &str) -> ToolCallKind {
    match tool_name {
        "exec_command" | "local_shell" | "shell" | "shell_command" => ToolCallKind::ExecCommand,
        "write_stdin" => ToolCallKind::WriteStdin,
        "apply_patch" => ToolCallKind::ApplyPatch,
        "web_search" | "web_search_preview" => ToolCallKind::Web,
        "image_generation" | "image_query" | "imagegen" => ToolCallKind::ImageGeneration,
        "spawn_agent" => ToolCallKind::SpawnAgent,
        "send_message" => ToolCallKind::SendMessage,
        "followup_task" | "assign_task" => ToolCallKind::AssignAgentTask,
        "wait_agent" => ToolCallKind::WaitAgent,
        "close_agent" | "interrupt_agent" => ToolCallKind::CloseAgent,
        other => ToolCallKind::Other {
            name: other.to_string(),
        },
    }
}

/// Unicode scalar values the reference producer keeps of an input preview.
pub const INPUT_PREVIEW_CHARS: usize = 160;

/// The reference producer's summary (§6.5): `generic` with `label` (the tool
/// name, or `<namespace>.<name>`) and the first 160 characters of the
/// invocation text, followed by `...` only when the text was longer.
pub fn generic_summary(label: &str, input_text: Option<&str>) -> ToolCallSummary {
    let input_preview = input_text.map(|text| match text.char_indices().nth(INPUT_PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    });
    ToolCallSummary::Generic {
        label: label.to_string(),
        input_preview,
        output_preview: None,
    }
}

/// The reference producer's id of an agent-result edge.
pub fn agent_result_edge_id(
    child_thread_id: &str,
    child_codex_turn_id: &str,
    parent_thread_id: &str,
) -> String {
    format!("edge:agent_result:{child_thread_id}:{child_codex_turn_id}:{parent_thread_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_classify_as_upstream() {
        assert_eq!(classify_tool("interrupt_agent"), ToolCallKind::CloseAgent);
        assert_eq!(classify_tool("imagegen"), ToolCallKind::ImageGeneration);
        assert_eq!(classify_tool("shell"), ToolCallKind::ExecCommand);
        assert_eq!(
            classify_tool("wait"),
            ToolCallKind::Other {
                name: "wait".to_string()
            }
        );
    }

    #[test]
    fn input_preview_keeps_160_characters() {
        let long = "é".repeat(161);
        let ToolCallSummary::Generic { input_preview, .. } = generic_summary("t", Some(&long))
        else {
            panic!("generic_summary gives a generic summary");
        };
        assert_eq!(input_preview, Some(format!("{}...", "é".repeat(160))));
        let exact = "x".repeat(160);
        assert_eq!(
            generic_summary("t", Some(&exact)),
            ToolCallSummary::Generic {
                label: "t".to_string(),
                input_preview: Some(exact.clone()),
                output_preview: None,
            }
        );
    }

    /// Scenario S12: the terminal runtime payloads, byte for byte as the
    /// reference producer serializes them (`process_id` omitted when absent).
    #[test]
    fn exec_payloads_have_the_reference_shape() -> Result<(), serde_json::Error> {
        let begin = ExecBegin {
            call_id: "call-begin".to_string(),
            process_id: Some("process-1".to_string()),
            turn_id: "turn-1".to_string(),
            started_at_ms: Some(1234),
            command: vec!["pwd".to_string()],
            cwd: "C:\\windows".to_string(),
            parsed_cmd: Vec::new(),
            source: Some("agent".to_string()),
            interaction_input: None,
        };
        assert_eq!(
            serde_json::to_string(&begin)?,
            r#"{"call_id":"call-begin","process_id":"process-1","turn_id":"turn-1","started_at_ms":1234,"command":["pwd"],"cwd":"C:\\windows","parsed_cmd":[],"source":"agent"}"#
        );
        let end = ExecEnd {
            call_id: "call-end".to_string(),
            process_id: None,
            turn_id: "turn-1".to_string(),
            completed_at_ms: Some(2345),
            command: vec!["pwd".to_string()],
            cwd: "/workspace/project".to_string(),
            parsed_cmd: Vec::new(),
            source: Some("unified_exec_interaction".to_string()),
            interaction_input: Some("input".to_string()),
            stdout: "output".to_string(),
            stderr: String::new(),
            aggregated_output: Some("output".to_string()),
            exit_code: 0,
            duration: Some(ExecDuration {
                secs: 0,
                nanos: 250_000_000,
            }),
            formatted_output: "output".to_string(),
            status: "completed".to_string(),
        };
        assert_eq!(
            serde_json::to_string(&end)?,
            r#"{"call_id":"call-end","turn_id":"turn-1","completed_at_ms":2345,"command":["pwd"],"cwd":"/workspace/project","parsed_cmd":[],"source":"unified_exec_interaction","interaction_input":"input","stdout":"output","stderr":"","aggregated_output":"output","exit_code":0,"duration":{"secs":0,"nanos":250000000},"formatted_output":"output","status":"completed"}"#
        );
        Ok(())
    }
}
