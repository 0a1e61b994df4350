//! Code-mode cells (`trace-format.md` §5.16–§5.18, reduction.md §10): the
//! model writes JavaScript in an `exec` custom tool call; the runtime runs
//! it as a cell whose `exec_command` calls are nested tool calls.
//!
//! Cells alternate between the two lifecycles a runtime reports:
//!
//! - odd cells finish before they yield: `code_cell_started`, both nested
//!   commands, `code_cell_initial_response` (completed), `code_cell_ended`;
//! - even cells yield after their first command: the initial response is
//!   `yielded`, the model's next response calls `wait` with the cell id, the
//!   second command runs during the wait, then `code_cell_ended` and the
//!   end of the `wait` tool call.
//!
//! The `exec` call itself has no tool call (§7 rule 8); the cell's output
//! reaches the model as a `custom_tool_call_output`, which the reducer links
//! to the cell (§10.6).

use rollout_trace::model::CodeCellRuntimeStatus;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::raw::RawToolCallRequester;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::DispatchResult;
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
use crate::tools::ExecCall;

/// A cell the model asked for.
pub(crate) struct PlannedCell {
    pub call_id: String,
    /// The `custom_tool_call` item of the response.
    pub call_item: Value,
    runtime_cell_id: String,
    source_js: String,
    commands: [text::Command; 2],
    yields: bool,
}

/// A cell that yielded: its second command runs during the `wait`.
pub(crate) struct YieldedCell {
    runtime_cell_id: String,
    command: text::Command,
}

/// The model's `wait` call for a yielded cell.
pub(crate) struct PlannedWait {
    call_id: String,
    arguments: String,
    pub call_item: Value,
}

impl Session {
    pub fn plan_cell(&mut self, rng: &mut Rng) -> PlannedCell {
        self.ids.cell += 1;
        let commands = [text::command(rng), text::command(rng)];
        let source_js = commands
            .iter()
            .enumerate()
            .map(|(n, command)| {
                format!(
                    "const r{n} = await tools.exec_command({{ cmd: {}, workdir: {} }});\ntext(r{n}.output.slice(0, 4000));\n",
                    json!(command.cmd),
                    json!(text::WORKDIR)
                )
            })
            .collect::<String>();
        let call_id = self.ids.call();
        PlannedCell {
            call_item: items::custom_tool_call(&self.ids.item("ctc"), "exec", &source_js, &call_id),
            call_id,
            runtime_cell_id: self.ids.cell.to_string(),
            source_js,
            commands,
            yields: self.ids.cell.is_multiple_of(2),
        }
    }

    /// Runs the cell up to its first response. Returns the
    /// `custom_tool_call_output` the model sees, and the cell if it yielded.
    pub fn run_cell(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        cell: PlannedCell,
    ) -> Result<(Value, Option<YieldedCell>), GenError> {
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodeCellStarted {
                runtime_cell_id: cell.runtime_cell_id.clone(),
                model_visible_call_id: cell.call_id.clone(),
                source_js: cell.source_js,
            },
        )?;
        let [first, second] = cell.commands;
        let first = self.run_nested(ctx, rng, &cell.runtime_cell_id, first)?;
        if cell.yields {
            let response = self.cell_response("Yielded", &cell.runtime_cell_id, &first)?;
            self.append(
                ctx.envelope(),
                RawTraceEventPayload::CodeCellInitialResponse {
                    runtime_cell_id: cell.runtime_cell_id.clone(),
                    status: CodeCellRuntimeStatus::Yielded,
                    response_payload: Some(response),
                },
            )?;
            let output = format!(
                "Script running with cell ID {}\nWall time: {}.{:03} seconds\nOutput:\n{first}",
                cell.runtime_cell_id,
                rng.range(10, 30),
                rng.range(0, 999)
            );
            self.summary.code_cells += 1;
            return Ok((
                items::custom_tool_call_output(&cell.call_id, &output),
                Some(YieldedCell {
                    runtime_cell_id: cell.runtime_cell_id,
                    command: second,
                }),
            ));
        }
        let second = self.run_nested(ctx, rng, &cell.runtime_cell_id, second)?;
        let both = format!("{first}{second}");
        let response = self.cell_response("Result", &cell.runtime_cell_id, &both)?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodeCellInitialResponse {
                runtime_cell_id: cell.runtime_cell_id.clone(),
                status: CodeCellRuntimeStatus::Completed,
                response_payload: Some(response),
            },
        )?;
        // The initial response already carried the result.
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodeCellEnded {
                runtime_cell_id: cell.runtime_cell_id,
                status: CodeCellRuntimeStatus::Completed,
                response_payload: None,
            },
        )?;
        let output = format!(
            "Script completed\nWall time: {}.{:03} seconds\nOutput:\n{both}",
            rng.range(0, 9),
            rng.range(0, 999)
        );
        self.summary.code_cells += 1;
        Ok((items::custom_tool_call_output(&cell.call_id, &output), None))
    }

    pub fn plan_wait(&mut self, rng: &mut Rng, cell: &YieldedCell) -> PlannedWait {
        let call_id = self.ids.call();
        let arguments =
            json!({"cell_id": cell.runtime_cell_id, "yield_time_ms": rng.range(10, 60) * 1000})
                .to_string();
        PlannedWait {
            call_item: items::function_call(&self.ids.item("fc"), "wait", &arguments, &call_id),
            call_id,
            arguments,
        }
    }

    /// The `wait` tool call: the cell's second command runs and the cell
    /// ends before the wait returns. Returns the `function_call_output`.
    pub fn run_wait(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        cell: YieldedCell,
        wait: &PlannedWait,
    ) -> Result<Value, GenError> {
        let invocation = self.payload(
            RawPayloadKind::ToolInvocation,
            &ToolInvocation {
                tool_name: "wait".to_string(),
                tool_namespace: None,
                payload: ToolInvocationBody::Function {
                    arguments: wait.arguments.clone(),
                },
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallStarted {
                tool_call_id: wait.call_id.clone(),
                model_visible_call_id: Some(wait.call_id.clone()),
                code_mode_runtime_tool_id: None,
                requester: RawToolCallRequester::Model,
                kind: classify_tool("wait"),
                summary: generic_summary("wait", Some(&wait.arguments)),
                invocation_payload: Some(invocation),
            },
        )?;
        let second = self.run_nested(ctx, rng, &cell.runtime_cell_id, cell.command)?;
        let response = self.cell_response("Result", &cell.runtime_cell_id, &second)?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::CodeCellEnded {
                runtime_cell_id: cell.runtime_cell_id,
                status: CodeCellRuntimeStatus::Completed,
                response_payload: Some(response),
            },
        )?;
        let output = items::function_call_output(
            &wait.call_id,
            &format!(
                "Script completed\nWall time: {}.{:03} seconds\nOutput:\n{second}",
                rng.range(0, 9),
                rng.range(0, 999)
            ),
        );
        let result = self.payload(
            RawPayloadKind::ToolResult,
            &DispatchResult::DirectResponse {
                response_item: output.clone(),
            },
        )?;
        self.append(
            ctx.envelope(),
            RawTraceEventPayload::ToolCallEnded {
                tool_call_id: wait.call_id.clone(),
                status: ExecutionStatus::Completed,
                result_payload: Some(result),
            },
        )?;
        self.summary.tool_calls += 1;
        Ok(output)
    }

    /// A command the cell's JavaScript runs.
    fn run_nested(
        &mut self,
        ctx: &Ctx,
        rng: &mut Rng,
        runtime_cell_id: &str,
        command: text::Command,
    ) -> Result<String, GenError> {
        self.ids.runtime_tool += 1;
        let tool_call_id = format!("code-tool-{}", self.ids.runtime_tool);
        self.run_exec(
            ctx,
            rng,
            ExecCall {
                tool_call_id,
                model_visible_call_id: None,
                code_mode_runtime_tool_id: Some(format!("tool-{}", self.ids.runtime_tool)),
                requester: RawToolCallRequester::CodeCell {
                    runtime_cell_id: runtime_cell_id.to_string(),
                },
                arguments: crate::tools::exec_arguments(&command),
                command,
            },
        )
    }

    /// A runtime response payload (§8.7): `{"response": {"<Kind>": {...}}}`.
    fn cell_response(
        &self,
        kind: &str,
        runtime_cell_id: &str,
        text: &str,
    ) -> Result<rollout_trace::model::RawPayloadRef, GenError> {
        let mut body = json!({
            "cell_id": runtime_cell_id,
            "content_items": [{"type": "input_text", "text": text}],
        });
        if kind == "Result"
            && let Some(body) = body.as_object_mut()
        {
            body.insert("error_text".to_string(), Value::Null);
        }
        self.payload(
            RawPayloadKind::ToolResult,
            &json!({"response": {kind: body}}),
        )
    }
}
