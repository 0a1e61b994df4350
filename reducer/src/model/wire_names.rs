//! The one home of the snake_case names `state.json` spells enum variants
//! with, for code that shows them to people (views, diagnostics).
//!
//! Invariant: `as_str` is exactly what serde writes for the variant (the
//! string of a unit variant, the `type` tag of a tagged one); the tests
//! below check every variant against serde, so a rename cannot drift.

use super::CodeCellRuntimeStatus;
use super::ConversationChannel;
use super::ConversationItemKind;
use super::ConversationRole;
use super::ExecutionStatus;
use super::InteractionEdgeKind;
use super::RolloutStatus;
use super::TerminalObservationSource;
use super::TerminalOperationKind;
use super::ToolCallKind;

/// Implements `as_str` for an enum from its variants' wire names.
macro_rules! wire_names {
    ($enum:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $enum {
            /// The variant's name as `state.json` spells it.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($enum::$variant { .. } => $name,)*
                }
            }
        }
    };
}

wire_names!(RolloutStatus {
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Aborted => "aborted",
});

wire_names!(ExecutionStatus {
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Cancelled => "cancelled",
    Aborted => "aborted",
});

wire_names!(CodeCellRuntimeStatus {
    Starting => "starting",
    Running => "running",
    Yielded => "yielded",
    Completed => "completed",
    Failed => "failed",
    Terminated => "terminated",
});

wire_names!(ToolCallKind {
    ExecCommand => "exec_command",
    WriteStdin => "write_stdin",
    ApplyPatch => "apply_patch",
    Mcp => "mcp",
    Web => "web",
    ImageGeneration => "image_generation",
    SpawnAgent => "spawn_agent",
    AssignAgentTask => "assign_agent_task",
    SendMessage => "send_message",
    WaitAgent => "wait_agent",
    CloseAgent => "close_agent",
    Other => "other",
});

wire_names!(ConversationRole {
    System => "system",
    Developer => "developer",
    User => "user",
    Assistant => "assistant",
    Tool => "tool",
});

wire_names!(ConversationChannel {
    Analysis => "analysis",
    Commentary => "commentary",
    Final => "final",
    Summary => "summary",
});

wire_names!(ConversationItemKind {
    Message => "message",
    Reasoning => "reasoning",
    FunctionCall => "function_call",
    FunctionCallOutput => "function_call_output",
    CustomToolCall => "custom_tool_call",
    CustomToolCallOutput => "custom_tool_call_output",
    CompactionMarker => "compaction_marker",
});

wire_names!(InteractionEdgeKind {
    SpawnAgent => "spawn_agent",
    AssignAgentTask => "assign_agent_task",
    SendMessage => "send_message",
    AgentResult => "agent_result",
    CloseAgent => "close_agent",
});

wire_names!(TerminalOperationKind {
    ExecCommand => "exec_command",
    WriteStdin => "write_stdin",
});

wire_names!(TerminalObservationSource {
    DirectToolCall => "direct_tool_call",
    CodeCellOutput => "code_cell_output",
});

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::Value;

    use super::*;

    /// What serde writes for `value`: a unit variant's string, or a tagged
    /// variant's `type`.
    fn serde_name(value: &impl Serialize) -> String {
        match serde_json::to_value(value) {
            Ok(Value::String(name)) => name,
            Ok(Value::Object(members)) => members
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            other => panic!("unexpected serialization {other:?}"),
        }
    }

    #[test]
    fn every_wire_name_is_what_serde_writes() {
        let mut pairs: Vec<(String, &'static str)> = Vec::new();
        macro_rules! check {
            ($($value:expr),* $(,)?) => {
                $(pairs.push((serde_name(&$value), $value.as_str()));)*
            };
        }
        use RolloutStatus as R;
        check!(R::Running, R::Completed, R::Failed, R::Aborted);
        use ExecutionStatus as E;
        check!(
            E::Running,
            E::Completed,
            E::Failed,
            E::Cancelled,
            E::Aborted
        );
        use CodeCellRuntimeStatus as C;
        check!(
            C::Starting,
            C::Running,
            C::Yielded,
            C::Completed,
            C::Failed,
            C::Terminated
        );
        use ToolCallKind as K;
        check!(
            K::ExecCommand,
            K::WriteStdin,
            K::ApplyPatch,
            K::Mcp {
                server: "s".to_string(),
                tool: "t".to_string()
            },
            K::Web,
            K::ImageGeneration,
            K::SpawnAgent,
            K::AssignAgentTask,
            K::SendMessage,
            K::WaitAgent,
            K::CloseAgent,
            K::Other {
                name: "n".to_string()
            },
        );
        use ConversationRole as Ro;
        check!(Ro::System, Ro::Developer, Ro::User, Ro::Assistant, Ro::Tool);
        use ConversationChannel as Ch;
        check!(Ch::Analysis, Ch::Commentary, Ch::Final, Ch::Summary);
        use ConversationItemKind as I;
        check!(
            I::Message,
            I::Reasoning,
            I::FunctionCall,
            I::FunctionCallOutput,
            I::CustomToolCall,
            I::CustomToolCallOutput,
            I::CompactionMarker
        );
        use InteractionEdgeKind as Ed;
        check!(
            Ed::SpawnAgent,
            Ed::AssignAgentTask,
            Ed::SendMessage,
            Ed::AgentResult,
            Ed::CloseAgent
        );
        check!(
            TerminalOperationKind::ExecCommand,
            TerminalOperationKind::WriteStdin
        );
        check!(
            TerminalObservationSource::DirectToolCall,
            TerminalObservationSource::CodeCellOutput
        );
        for (serde, ours) in pairs {
            assert_eq!(serde, ours);
        }
    }
}
