//! Terminal commands: an `exec_command` tool call with its invocation,
//! runtime begin/end and result payloads (`trace-format.md` §5.11–§5.15,
//! §8.3–§8.5), whether the model or a code-mode cell asked for it.
//!
//! Each command gets its own process id, so each is one terminal operation
//! in one terminal session (reduction.md §11.2, §11.4).

use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::raw::RawToolCallRequester;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::DispatchResult;
use rollout_trace::writer::ExecBegin;
use rollout_trace::writer::ExecEnd;
use rollout_trace::writer::ToolInvocation;
use rollout_trace::writer::ToolInvocationBody;
use rollout_trace::writer::classify_tool;
use rollout_trace::writer::generic_summary;
use serde_json::Value;
use serde_json::json;

use crate::GenError;
use crate::items;
use crate::rng::Rng;
use crate::session::Ctx;
use crate::session::Session;
use crate::text;

/// A command the model asked for in a response.
pub(crate) struct PlannedExec {
    pub call_id: String,
    /// The `function_call` item of the response.
    pub call_item: Value,
    pub call: ExecCall,
}

/// One `exec_command` tool call to run.
pub(crate) struct ExecCall {
    pub tool_call_id: String,
    pub model_visible_call_id: Option<String>,
    pub code_mode_runtime_tool_id: Option<String>,
    pub requester: RawToolCallRequester,
    pub arguments: String,
    pub command: text::Command,
}

/// The function-call arguments of `exec_command`.
pub(crate) fn exec_arguments(command: &text::Command) -> String {
    json!({"cmd": command.cmd, "workdir": text::WORKDIR, "yield_time_ms": 10000}).to_string()
}

impl Session {
    pub fn plan_exec(&mut self, rng: &mut Rng) -> PlannedExec {
        let command = text::command(rng);
        let call_id = self.ids.call();
        let arguments = exec_arguments(&command);
        PlannedExec {
            call_item: items::function_call(
                &self.ids.item("fc"),
                "exec_command",
                &arguments,
                &call_id,
            ),
            call: ExecCall {
                tool_call_id: call_id.clone(),
                model_visible_call_id: Some(call_id.clone()),
                code_mode_runtime_tool_id: None,
                requester: RawToolCallRequester::Model,
                arguments,
                command,
            },
            call_id,
        }
    }

    /// Runs the command: tool start, runtime begin and end, tool end.
    /// Returns the text the model sees (the unified-exec output header and
    /// the output).
    pub fn run_exec(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        call: ExecCall,
    ) -> Result<String, GenError> {
        let invocation = self.payload(
            RawPayloadKind::ToolInvocation,
            &ToolInvocation {
                tool_name: "exec_command".to_string(),
                tool_namespace: None,
                payload: ToolInvocationBody::Function {
                    arguments: call.arguments.clone(),
                },
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallStarted {
                tool_call_id: call.tool_call_id.clone(),
                model_visible_call_id: call.model_visible_call_id.clone(),
                code_mode_runtime_tool_id: call.code_mode_runtime_tool_id.clone(),
                requester: call.requester.clone(),
                kind: classify_tool("exec_command"),
                summary: generic_summary("exec_command", Some(&call.arguments)),
                invocation_payload: Some(invocation),
            },
        )?;
        self.ids.process += 1;
        let process_id = Some((1000 + self.ids.process).to_string());
        let command = vec![
            "bash".to_string(),
            "-lc".to_string(),
            call.command.cmd.clone(),
        ];
        let parsed_cmd = vec![json!({"type": "unknown", "cmd": call.command.cmd})];
        let begin = self.payload(
            RawPayloadKind::ToolRuntimeEvent,
            &ExecBegin {
                call_id: call.tool_call_id.clone(),
                process_id: process_id.clone(),
                turn_id: ctx.turn_id.clone(),
                started_at_ms: None,
                command: command.clone(),
                cwd: text::WORKDIR.to_string(),
                parsed_cmd: parsed_cmd.clone(),
                source: Some("agent".to_string()),
                interaction_input: None,
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallRuntimeStarted {
                tool_call_id: call.tool_call_id.clone(),
                runtime_payload: begin,
            },
        )?;

        let target = if self.options.small_payloads {
            rng.range(16, 128)
        } else {
            rng.range(1024, 8192)
        } as usize;
        let stdout = call.command.output(rng, target);
        let exit_code = if rng.chance(8) { 1 } else { 0 };
        let stderr = if exit_code == 0 {
            String::new()
        } else {
            format!("error: {}\n", text::sentence(rng, 4, 12))
        };
        let aggregated = format!("{stdout}{stderr}");
        let end = self.payload(
            RawPayloadKind::ToolRuntimeEvent,
            &ExecEnd {
                call_id: call.tool_call_id.clone(),
                process_id,
                turn_id: ctx.turn_id.clone(),
                completed_at_ms: None,
                command,
                cwd: text::WORKDIR.to_string(),
                parsed_cmd,
                source: Some("agent".to_string()),
                interaction_input: None,
                stdout: stdout.clone(),
                stderr,
                aggregated_output: Some(aggregated.clone()),
                exit_code,
                duration: None,
                formatted_output: aggregated.clone(),
                status: if exit_code == 0 {
                    "completed"
                } else {
                    "failed"
                }
                .to_string(),
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallRuntimeEnded {
                tool_call_id: call.tool_call_id.clone(),
                status: if exit_code == 0 {
                    ExecutionStatus::Completed
                } else {
                    ExecutionStatus::Failed
                },
                runtime_payload: end,
            },
        )?;

        let model_text = format!(
            "Chunk ID: {:06x}\nWall time: {}.{:04} seconds\nProcess exited with code {exit_code}\nOriginal token count: {}\nOutput:\n{aggregated}",
            rng.next_u64() >> 40,
            rng.range(0, 30),
            rng.range(0, 9999),
            aggregated.len() / 4
        );
        let result = match &call.model_visible_call_id {
            Some(call_id) => DispatchResult::DirectResponse {
                response_item: items::function_call_output(call_id, &model_text),
            },
            None => DispatchResult::CodeModeResponse {
                value: json!({"output": aggregated, "exit_code": exit_code, "original_token_count": aggregated.len() / 4}),
            },
        };
        let result = self.payload(RawPayloadKind::ToolResult, &result)?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallEnded {
                tool_call_id: call.tool_call_id,
                status: ExecutionStatus::Completed,
                result_payload: Some(result),
            },
        )?;
        self.summary.tool_calls += 1;
        self.summary.terminal_operations += 1;
        Ok(model_text)
    }
}
