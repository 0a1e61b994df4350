//! A deterministic two-thread session recorded through every handle family.

use rollout_trace::model::CodeCellRuntimeStatus;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RolloutStatus;
use rollout_trace::model::ToolCallKind;
use rollout_trace::writer::AgentResult;
use rollout_trace::writer::CompactionCheckpoint;
use rollout_trace::writer::DispatchResult;
use rollout_trace::writer::ExecBegin;
use rollout_trace::writer::ExecEnd;
use rollout_trace::writer::InferenceResponse;
use rollout_trace::writer::Recorder;
use rollout_trace::writer::ResponseTokenUsage;
use rollout_trace::writer::SessionMetadata;
use rollout_trace::writer::ThreadSpawn;
use rollout_trace::writer::ToolCallStart;
use rollout_trace::writer::ToolInvocation;
use rollout_trace::writer::ToolInvocationBody;
use rollout_trace::writer::classify_tool;
use rollout_trace::writer::generic_summary;
use serde_json::Value;
use serde_json::json;

pub const ROOT: &str = "019d0000-0000-7000-8000-000000000001";
pub const CHILD: &str = "019d0000-0000-7000-8000-000000000002";
pub const TRACE_ID: &str = "7d1c0d43-86f5-4b3e-9a55-0b6f3c1d9e21";

pub fn message(role: &str, text: &str) -> Value {
    json!({"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]})
}

/// The inter-agent text an older transport delivers, members in the
/// reference fixtures' (alphabetical) order.
pub fn inter_agent(author: &str, recipient: &str, content: &str, trigger_turn: bool) -> String {
    json!({
        "author": author,
        "content": content,
        "other_recipients": [],
        "recipient": recipient,
        "trigger_turn": trigger_turn,
    })
    .to_string()
}

/// Records the session: a root thread with a turn holding a completed,
/// a failed and a cancelled inference, an exec_command tool with runtime
/// begin/end, a code cell with a nested tool, an MCP tool, a compaction
/// with a failed and a completed request; a spawned child whose turn's
/// result reaches the root's second turn.
pub fn record_full_session(recorder: &Recorder) {
    let root = recorder.start_root_thread(
        "/root",
        Some(&SessionMetadata {
            thread_id: ROOT.to_string(),
            agent_path: Some("/root".to_string()),
            session_source: json!("exec"),
            cwd: Some("/workspace".to_string()),
            model: Some("gpt-test".to_string()),
            provider_name: Some("test-provider".to_string()),
            ..SessionMetadata::default()
        }),
    );
    root.protocol_event("session_configured", &json!({"model": "gpt-test"}));

    let turn = root.start_turn("turn-1");
    let user = message("user", "count the files");
    let exec_call = json!({
        "type": "function_call", "name": "exec_command",
        "arguments": "{\"cmd\":\"ls | wc -l\"}", "call_id": "call-1"
    });
    let cell_call = json!({
        "type": "custom_tool_call", "name": "exec",
        "input": "await tools.view({})", "call_id": "call-2"
    });
    let first = turn.start_inference(
        "inference-1",
        "gpt-test",
        "test-provider",
        &json!({"model": "gpt-test", "input": [user]}),
    );
    first.complete(
        Some("resp-1"),
        Some("req-1"),
        &InferenceResponse {
            response_id: Some("resp-1".to_string()),
            upstream_request_id: Some("req-1".to_string()),
            token_usage: Some(ResponseTokenUsage {
                input_tokens: 10,
                cached_input_tokens: 2,
                cache_write_input_tokens: 0,
                output_tokens: 5,
                reasoning_output_tokens: 1,
                total_tokens: 15,
            }),
            output_items: vec![exec_call.clone(), cell_call.clone()],
        },
    );

    let arguments = "{\"cmd\":\"ls | wc -l\"}";
    let tool = turn.start_tool_call(
        ToolCallStart::new(
            "tool-1",
            classify_tool("exec_command"),
            generic_summary("exec_command", Some(arguments)),
        )
        .model_visible_call_id("call-1"),
        Some(&ToolInvocation {
            tool_name: "exec_command".to_string(),
            tool_namespace: None,
            payload: ToolInvocationBody::Function {
                arguments: arguments.to_string(),
            },
        }),
    );
    let command = vec![
        "bash".to_string(),
        "-lc".to_string(),
        "ls | wc -l".to_string(),
    ];
    tool.runtime_started(&ExecBegin {
        call_id: "tool-1".to_string(),
        process_id: Some("pty-1".to_string()),
        turn_id: "turn-1".to_string(),
        command: command.clone(),
        cwd: "/workspace".to_string(),
        source: Some("agent".to_string()),
        ..ExecBegin::default()
    });
    tool.runtime_ended(
        ExecutionStatus::Completed,
        &ExecEnd {
            call_id: "tool-1".to_string(),
            process_id: Some("pty-1".to_string()),
            turn_id: "turn-1".to_string(),
            command,
            cwd: "/workspace".to_string(),
            source: Some("agent".to_string()),
            stdout: "12\n".to_string(),
            formatted_output: "12\n".to_string(),
            status: "completed".to_string(),
            ..ExecEnd::default()
        },
    );
    let exec_output =
        json!({"type": "function_call_output", "call_id": "call-1", "output": "12\n"});
    tool.end(
        ExecutionStatus::Completed,
        Some(&DispatchResult::DirectResponse {
            response_item: exec_output.clone(),
        }),
    );

    let cell = turn.start_code_cell("1", "call-2", "await tools.view({})");
    let nested = cell.start_tool_call(
        ToolCallStart::new(
            "tool-2",
            classify_tool("view"),
            generic_summary("view", Some("{}")),
        )
        .code_mode_runtime_tool_id("1"),
        Some(&ToolInvocation {
            tool_name: "view".to_string(),
            tool_namespace: None,
            payload: ToolInvocationBody::Function {
                arguments: "{}".to_string(),
            },
        }),
    );
    nested.end(
        ExecutionStatus::Completed,
        Some(&DispatchResult::CodeModeResponse { value: json!("ok") }),
    );
    cell.initial_response(
        CodeCellRuntimeStatus::Yielded,
        Some(&json!({"response": {"Yielded": {"cell_id": "1", "content_items": []}}})),
    );
    cell.end(
        CodeCellRuntimeStatus::Completed,
        Some(&json!({"response": {"Result": {"cell_id": "1", "content_items": [], "error_text": null}}})),
    );

    let mcp = turn.start_tool_call(
        ToolCallStart::new(
            "tool-3",
            ToolCallKind::Mcp {
                server: "docs".to_string(),
                tool: "search".to_string(),
            },
            generic_summary("docs.search", None),
        ),
        None,
    );
    mcp.assign_mcp_call_id("mcp-1");
    mcp.end(ExecutionStatus::Failed, None);

    let cell_output =
        json!({"type": "custom_tool_call_output", "call_id": "call-2", "output": "ok"});
    let history = vec![user.clone(), exec_call, exec_output, cell_call, cell_output];
    let request = json!({"model": "gpt-test", "input": history});
    let failed = turn.start_inference("inference-2", "gpt-test", "test-provider", &request);
    failed.fail(
        Some("req-2"),
        "stream disconnected",
        Some(&InferenceResponse {
            upstream_request_id: Some("req-2".to_string()),
            output_items: vec![message("assistant", "There are")],
            ..InferenceResponse::default()
        }),
    );
    failed.complete(Some("ignored"), None, &json!({"output_items": []}));
    let cancelled = turn.start_inference("inference-3", "gpt-test", "test-provider", &request);
    cancelled.cancel(None, "user interrupted", None);

    let compaction = turn.compaction("compaction-1");
    let summary = json!({"type": "compaction", "encrypted_content": "enc-1"});
    compaction
        .start_request("gpt-test", "test-provider", &request)
        .fail("timeout");
    compaction
        .start_request("gpt-test", "test-provider", &request)
        .complete(&json!({"output_items": [summary]}));
    compaction.install(&CompactionCheckpoint {
        input_history: history,
        replacement_history: vec![user.clone(), summary.clone()],
    });
    turn.end(ExecutionStatus::Completed);

    let child = recorder.start_thread(
        CHILD,
        "/root/worker",
        Some(&SessionMetadata {
            thread_id: CHILD.to_string(),
            agent_path: Some("/root/worker".to_string()),
            task_name: Some("worker".to_string()),
            nickname: Some("Kepler".to_string()),
            agent_role: Some("worker".to_string()),
            session_source: ThreadSpawn {
                parent_thread_id: ROOT.to_string(),
                depth: 1,
                agent_path: "/root/worker".to_string(),
                agent_nickname: Some("Kepler".to_string()),
                agent_role: Some("worker".to_string()),
            }
            .session_source(),
            model: Some("gpt-test".to_string()),
            ..SessionMetadata::default()
        }),
    );
    let child_turn = child.start_turn("turn-child-1");
    child_turn
        .start_inference(
            "inference-child-1",
            "gpt-test",
            "test-provider",
            &json!({"input": [message("user", "count the files")]}),
        )
        .complete(
            Some("resp-child-1"),
            None,
            &InferenceResponse {
                response_id: Some("resp-child-1".to_string()),
                output_items: vec![message("assistant", "12 files")],
                ..InferenceResponse::default()
            },
        );
    let notification = "<subagent_notification>{\"agent_path\":\"/root/worker\",\"status\":{\"completed\":\"12 files\"}}</subagent_notification>";
    child_turn.agent_result(
        ROOT,
        notification,
        Some(&AgentResult {
            child_agent_path: "/root/worker".to_string(),
            message: notification.to_string(),
            status: json!({"completed": "12 files"}),
        }),
    );
    child_turn.end(ExecutionStatus::Completed);
    child.end(RolloutStatus::Completed);

    let second = root.start_turn("turn-2");
    second
        .start_inference(
            "inference-4",
            "gpt-test",
            "test-provider",
            &json!({"input": [
                user,
                summary,
                message("assistant", &inter_agent("/root/worker", "/root", notification, false)),
            ]}),
        )
        .complete(
            Some("resp-4"),
            None,
            &InferenceResponse {
                response_id: Some("resp-4".to_string()),
                output_items: vec![message("assistant", "There are 12 files.")],
                ..InferenceResponse::default()
            },
        );
    second.end(ExecutionStatus::Completed);
    root.end(RolloutStatus::Completed);
}
