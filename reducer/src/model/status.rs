//! Status enums and tool classifications shared by the raw format and the reduced model.
//!
//! Upstream declares these once and uses them on both sides of the reducer, so
//! their JSON spelling is the same in `trace.jsonl` and in `state.json`. The
//! variant order is part of the contract: serde lists the variants in
//! declaration order in "unknown variant" messages, and those messages are part
//! of the error text users compare with upstream.

use serde::Deserialize;
use serde::Serialize;

/// Lifecycle of the whole rollout and of a thread as reported by the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStatus {
    Running,
    Completed,
    Failed,
    Aborted,
}

/// Lifecycle of one execution window (turn, call, cell, operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    Running,
    Completed,
    Failed,
    Cancelled,
    Aborted,
}

impl From<RolloutStatus> for ExecutionStatus {
    fn from(status: RolloutStatus) -> Self {
        match status {
            RolloutStatus::Running => ExecutionStatus::Running,
            RolloutStatus::Completed => ExecutionStatus::Completed,
            RolloutStatus::Failed => ExecutionStatus::Failed,
            RolloutStatus::Aborted => ExecutionStatus::Aborted,
        }
    }
}

/// Status reported by the code-mode runtime for one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeCellRuntimeStatus {
    Starting,
    Running,
    Yielded,
    Completed,
    Failed,
    Terminated,
}

impl CodeCellRuntimeStatus {
    /// The execution status a cell ends with when the runtime reports this status.
    pub fn execution_status(self) -> ExecutionStatus {
        match self {
            CodeCellRuntimeStatus::Starting
            | CodeCellRuntimeStatus::Running
            | CodeCellRuntimeStatus::Yielded => ExecutionStatus::Running,
            CodeCellRuntimeStatus::Completed => ExecutionStatus::Completed,
            CodeCellRuntimeStatus::Failed => ExecutionStatus::Failed,
            CodeCellRuntimeStatus::Terminated => ExecutionStatus::Cancelled,
        }
    }
}

/// Tool category chosen by the producer. `Debug` output is part of one error
/// message (`sub-agent activity ... does not match tool call kind ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToolCallKind {
    ExecCommand,
    WriteStdin,
    ApplyPatch,
    Mcp { server: String, tool: String },
    Web,
    ImageGeneration,
    SpawnAgent,
    AssignAgentTask,
    SendMessage,
    WaitAgent,
    CloseAgent,
    Other { name: String },
}

impl ToolCallKind {
    /// Kinds whose runtime observations describe a terminal operation.
    pub fn is_terminal(&self) -> bool {
        matches!(self, ToolCallKind::ExecCommand | ToolCallKind::WriteStdin)
    }
}

/// Short producer summary of a tool call; replaced by `Terminal` when the
/// reducer attaches a terminal operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ToolCallSummary {
    Terminal {
        operation_id: String,
    },
    Agent {
        target_agent_path: String,
        task_name: Option<String>,
        message_preview: String,
    },
    WaitAgent {
        target_agent_path: Option<String>,
        timeout_ms: Option<u64>,
    },
    Generic {
        label: String,
        input_preview: Option<String>,
        output_preview: Option<String>,
    },
}
