//! Records a small two-thread session with the recording handles, reduces
//! the bundle and prints a summary.
//!
//! ```text
//! cargo run -p rollout-trace --example record_session [ROOT]
//! ```
//!
//! The bundle is created under ROOT, else under `$ROLLOUT_TRACE_ROOT`, else
//! under `<temp>/rollout-trace-examples`, as `trace-<trace_id>-<root_thread_id>`.

use std::error::Error;
use std::path::PathBuf;

use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RolloutStatus;
use rollout_trace::writer::AgentResult;
use rollout_trace::writer::DispatchResult;
use rollout_trace::writer::ExecBegin;
use rollout_trace::writer::ExecEnd;
use rollout_trace::writer::InferenceResponse;
use rollout_trace::writer::Recorder;
use rollout_trace::writer::RecorderOptions;
use rollout_trace::writer::ResponseTokenUsage;
use rollout_trace::writer::SessionMetadata;
use rollout_trace::writer::ThreadSpawn;
use rollout_trace::writer::ToolCallStart;
use rollout_trace::writer::ToolInvocation;
use rollout_trace::writer::ToolInvocationBody;
use rollout_trace::writer::classify_tool;
use rollout_trace::writer::generic_summary;
use rollout_trace::writer::trace_root_from_env;
use serde_json::Value;
use serde_json::json;

const ROOT_THREAD: &str = "019d0000-0000-7000-8000-000000000001";
const CHILD_THREAD: &str = "019d0000-0000-7000-8000-000000000002";

fn message(role: &str, text: &str) -> Value {
    json!({"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]})
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .or_else(trace_root_from_env)
        .unwrap_or_else(|| std::env::temp_dir().join("rollout-trace-examples"));
    let recorder = Recorder::create(&root, ROOT_THREAD, RecorderOptions::default())?;
    let bundle = recorder
        .bundle_folder()
        .ok_or("an enabled recorder has a bundle folder")?
        .to_path_buf();

    // The root thread asks the model, which runs a command.
    let root_thread = recorder.start_root_thread(
        "/root",
        Some(&SessionMetadata {
            thread_id: ROOT_THREAD.to_string(),
            agent_path: Some("/root".to_string()),
            session_source: json!("exec"),
            cwd: Some("/workspace".to_string()),
            model: Some("gpt-test".to_string()),
            provider_name: Some("openai".to_string()),
            ..SessionMetadata::default()
        }),
    );
    let turn = root_thread.start_turn("turn-1");
    let question = message("user", "How many Rust files are there?");
    let arguments = r#"{"cmd":"ls src | wc -l"}"#;
    let call = json!({"type": "function_call", "name": "exec_command", "arguments": arguments, "call_id": "call-1"});
    turn.start_inference(
        "inference-1",
        "gpt-test",
        "openai",
        &json!({"model": "gpt-test", "instructions": "You are a coding agent.", "input": [question]}),
    )
    .complete(
        Some("resp-1"),
        Some("req-1"),
        &InferenceResponse {
            response_id: Some("resp-1".to_string()),
            upstream_request_id: Some("req-1".to_string()),
            token_usage: Some(ResponseTokenUsage {
                input_tokens: 120,
                cached_input_tokens: 0,
                cache_write_input_tokens: 0,
                output_tokens: 18,
                reasoning_output_tokens: 0,
                total_tokens: 138,
            }),
            output_items: vec![call.clone()],
        },
    );

    let tool = turn.start_tool_call(
        ToolCallStart::new(
            "call-1",
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
    let command: Vec<String> = ["bash", "-lc", "ls src | wc -l"].map(String::from).to_vec();
    tool.runtime_started(&ExecBegin {
        call_id: "call-1".to_string(),
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
            call_id: "call-1".to_string(),
            process_id: Some("pty-1".to_string()),
            turn_id: "turn-1".to_string(),
            command,
            cwd: "/workspace".to_string(),
            source: Some("agent".to_string()),
            stdout: "7\n".to_string(),
            aggregated_output: Some("7\n".to_string()),
            formatted_output: "7\n".to_string(),
            status: "completed".to_string(),
            ..ExecEnd::default()
        },
    );
    let output = json!({"type": "function_call_output", "call_id": "call-1", "output": "7\n"});
    tool.end(
        ExecutionStatus::Completed,
        Some(&DispatchResult::DirectResponse {
            response_item: output.clone(),
        }),
    );

    // A spawned child checks the answer and reports back.
    let child = recorder.start_thread(
        CHILD_THREAD,
        "/root/checker",
        Some(&SessionMetadata {
            thread_id: CHILD_THREAD.to_string(),
            agent_path: Some("/root/checker".to_string()),
            task_name: Some("checker".to_string()),
            nickname: Some("Kepler".to_string()),
            agent_role: Some("worker".to_string()),
            session_source: ThreadSpawn {
                parent_thread_id: ROOT_THREAD.to_string(),
                depth: 1,
                agent_path: "/root/checker".to_string(),
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
            "openai",
            &json!({"input": [message("user", "Check that src holds 7 Rust files.")]}),
        )
        .complete(
            Some("resp-child-1"),
            None,
            &InferenceResponse {
                response_id: Some("resp-child-1".to_string()),
                output_items: vec![message("assistant", "Confirmed: 7 files.")],
                ..InferenceResponse::default()
            },
        );
    let notification = r#"<subagent_notification>{"agent_path":"/root/checker","status":{"completed":"Confirmed: 7 files."}}</subagent_notification>"#;
    child_turn.agent_result(
        ROOT_THREAD,
        notification,
        Some(&AgentResult {
            child_agent_path: "/root/checker".to_string(),
            message: notification.to_string(),
            status: json!({"completed": "Confirmed: 7 files."}),
        }),
    );
    child_turn.end(ExecutionStatus::Completed);
    child.end(RolloutStatus::Completed);

    // The root sees the child's notification and answers.
    let delivered = json!({
        "author": "/root/checker",
        "content": notification,
        "other_recipients": [],
        "recipient": "/root",
        "trigger_turn": false,
    })
    .to_string();
    turn.start_inference(
        "inference-2",
        "gpt-test",
        "openai",
        &json!({"model": "gpt-test", "input": [question, call, output, message("assistant", &delivered)]}),
    )
    .complete(
        Some("resp-2"),
        None,
        &InferenceResponse {
            response_id: Some("resp-2".to_string()),
            output_items: vec![message("assistant", "There are 7 Rust files.")],
            ..InferenceResponse::default()
        },
    );
    turn.end(ExecutionStatus::Completed);
    root_thread.end(RolloutStatus::Completed);
    drop(recorder);

    let reduction = rollout_trace::reduce_bundle(&bundle)?;
    let trace = &reduction.trace;
    println!("bundle              {}", bundle.display());
    let status = serde_json::to_value(trace.status)?;
    println!(
        "status              {}",
        status.as_str().unwrap_or_default()
    );
    println!("threads             {}", trace.threads.len());
    println!("turns               {}", trace.codex_turns.len());
    println!("conversation items  {}", trace.conversation_items.len());
    println!("inference calls     {}", trace.inference_calls.len());
    println!("tool calls          {}", trace.tool_calls.len());
    println!("terminal operations {}", trace.terminal_operations.len());
    println!("interaction edges   {}", trace.interaction_edges.len());
    println!("raw payloads        {}", trace.raw_payloads.len());
    for diagnostic in &reduction.diagnostics {
        println!("diagnostic          {diagnostic}");
    }
    Ok(())
}
