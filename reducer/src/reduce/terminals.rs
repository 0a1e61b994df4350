//! Terminal operations and sessions (`reduction.md` §11).
//!
//! An operation is one `exec_command` or `write_stdin`; a session is the
//! process or pty the runtime names, shared by the operations that use it.
//! Operations start from a runtime begin payload or, for a `write_stdin`
//! dispatched without runtime events, from the invocation payload.

use serde::Deserialize;
use serde_json::Value;

use super::EventContext;
use super::Reducer;
use super::budget::operation_bytes;
use super::budget::result_bytes;
use crate::bundle::PayloadSource;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::RawPayloadRef;
use crate::model::TerminalOperation;
use crate::model::TerminalOperationKind;
use crate::model::TerminalRequest;
use crate::model::TerminalResult;
use crate::model::TerminalSession;
use crate::model::ToolCallKind;

/// A runtime begin observation of a terminal command.
#[derive(Deserialize)]
struct ExecCommandBeginPayload {
    process_id: Option<String>,
    command: Vec<String>,
    cwd: String,
    interaction_input: Option<String>,
}

/// A runtime end observation of a terminal command.
#[derive(Deserialize)]
struct ExecCommandEndPayload {
    process_id: Option<String>,
    stdout: String,
    stderr: String,
    exit_code: i32,
    formatted_output: String,
}

/// The dispatch-level invocation of a tool.
#[derive(Deserialize)]
struct DispatchedToolTraceRequestPayload {
    tool_name: String,
    payload: DispatchedToolPayload,
}

#[derive(Deserialize)]
struct DispatchedToolPayload {
    #[serde(rename = "type")]
    payload_type: String,
    arguments: Option<String>,
}

/// The function arguments of a `write_stdin` call.
#[derive(Deserialize)]
struct DispatchedWriteStdinArgs {
    session_id: Value,
    #[serde(default)]
    chars: String,
    yield_time_ms: Option<u64>,
    max_output_tokens: Option<u64>,
}

/// What a dispatched tool returned to its caller.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DispatchedToolTraceResponsePayload {
    DirectResponse { response_item: Value },
    CodeModeResponse { value: Value },
    Error { error: String },
}

/// The structured result code mode gets from `exec_command`/`write_stdin`.
#[derive(Deserialize)]
struct CodeModeExecResult {
    chunk_id: Option<String>,
    exit_code: Option<i32>,
    original_token_count: Option<u64>,
    output: String,
}

impl Reducer {
    /// `reduction.md` §11.1: a `write_stdin` known only from its dispatch invocation.
    pub(super) fn start_dispatch_write_stdin(
        &mut self,
        cx: &EventContext,
        tool_call_id: &str,
        thread_id: &str,
        payload: &RawPayloadRef,
        invocation: &Value,
    ) -> Result<String, ReduceError> {
        let (session_id, request) = dispatch_write_stdin(invocation).map_err(|error| {
            error
                .context(format!(
                    "parse terminal invocation payload {} as dispatch payload",
                    payload.raw_payload_id
                ))
                .at_payload(&payload.path)
        })?;
        self.create_terminal_operation(
            cx,
            NewOperation {
                tool_call_id,
                thread_id,
                terminal_id: Some(session_id),
                kind: TerminalOperationKind::WriteStdin,
                request,
                payload_id: &payload.raw_payload_id,
            },
        )
    }

    /// `reduction.md` §11.2.
    pub(super) fn start_runtime_terminal_operation(
        &mut self,
        cx: &EventContext,
        tool_call_id: &str,
        thread_id: &str,
        kind: &ToolCallKind,
        payload: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<String, ReduceError> {
        let value = payloads.read_payload(payload)?;
        let begin = ExecCommandBeginPayload::deserialize(&value).map_err(|error| {
            ReduceError::caused(
                format!(
                    "parse terminal runtime start payload {}",
                    payload.raw_payload_id
                ),
                error,
            )
            .at_payload(&payload.path)
        })?;
        let (kind, request) = if *kind == ToolCallKind::WriteStdin {
            (
                TerminalOperationKind::WriteStdin,
                TerminalRequest::WriteStdin {
                    stdin: begin.interaction_input.unwrap_or_default(),
                    yield_time_ms: None,
                    max_output_tokens: None,
                },
            )
        } else {
            (
                TerminalOperationKind::ExecCommand,
                TerminalRequest::ExecCommand {
                    display_command: begin.command.join(" "),
                    command: begin.command,
                    cwd: begin.cwd,
                    yield_time_ms: None,
                    max_output_tokens: None,
                },
            )
        };
        self.create_terminal_operation(
            cx,
            NewOperation {
                tool_call_id,
                thread_id,
                terminal_id: begin.process_id,
                kind,
                request,
                payload_id: &payload.raw_payload_id,
            },
        )
    }

    /// `reduction.md` §11.4.
    fn create_terminal_operation(
        &mut self,
        cx: &EventContext,
        new: NewOperation<'_>,
    ) -> Result<String, ReduceError> {
        let operation_id = format!(
            "terminal_operation:{}",
            self.next_terminal_operation_ordinal
        );
        self.next_terminal_operation_ordinal += 1;
        let execution = ExecutionWindow::started(cx.wall_time_unix_ms, cx.seq);
        let operation = TerminalOperation {
            operation_id: operation_id.clone(),
            terminal_id: new.terminal_id.clone(),
            tool_call_id: new.tool_call_id.to_string(),
            kind: new.kind,
            execution,
            request: new.request,
            result: None,
            model_observations: Vec::new(),
            raw_payload_ids: vec![new.payload_id.to_string()],
        };
        self.budget
            .charge(operation_bytes(&operation), "a terminal operation")?;
        self.trace
            .terminal_operations
            .insert(operation_id.clone(), operation);
        if let Some(terminal_id) = &new.terminal_id {
            self.ensure_terminal_session(terminal_id, new.thread_id, &operation_id, execution)?;
        }
        Ok(operation_id)
    }

    /// Creates the session on first use and records the operation in it.
    fn ensure_terminal_session(
        &mut self,
        terminal_id: &str,
        thread_id: &str,
        operation_id: &str,
        operation_start: ExecutionWindow,
    ) -> Result<(), ReduceError> {
        let session = self
            .trace
            .terminal_sessions
            .entry(terminal_id.to_string())
            .or_insert_with(|| TerminalSession {
                terminal_id: terminal_id.to_string(),
                thread_id: thread_id.to_string(),
                created_by_operation_id: operation_id.to_string(),
                operation_ids: Vec::new(),
                execution: ExecutionWindow::started(
                    operation_start.started_at_unix_ms,
                    operation_start.started_seq,
                ),
            });
        if session.thread_id != thread_id {
            bail!(
                "terminal session {terminal_id} belongs to thread {}, not {thread_id}",
                session.thread_id
            );
        }
        super::tools::push_unique(&mut session.operation_ids, operation_id);
        Ok(())
    }

    /// `reduction.md` §11.3: ends an operation, with the result decoded from
    /// `result` (a runtime end payload or a dispatch result) when given.
    pub(super) fn end_terminal_operation(
        &mut self,
        cx: &EventContext,
        operation_id: &str,
        status: ExecutionStatus,
        result: Option<(&RawPayloadRef, &Value)>,
    ) -> Result<(), ReduceError> {
        let Some(operation) = self.trace.terminal_operations.get(operation_id) else {
            bail!("terminal end referenced unknown operation {operation_id}");
        };
        let decoded = match result {
            Some((payload, value)) => Some(decode_terminal_result(operation.kind, payload, value)?),
            None => None,
        };
        let tool_thread = self
            .trace
            .tool_calls
            .get(&operation.tool_call_id)
            .map(|tool| tool.thread_id.clone());
        let Some(operation) = self.trace.terminal_operations.get_mut(operation_id) else {
            bail!("terminal end referenced unknown operation {operation_id}");
        };
        operation
            .execution
            .end(cx.wall_time_unix_ms, cx.seq, status);
        if let (Some((payload, _)), Some((terminal_result, response_terminal_id))) =
            (result, decoded)
        {
            super::tools::push_unique(&mut operation.raw_payload_ids, &payload.raw_payload_id);
            match (&operation.terminal_id, response_terminal_id) {
                (Some(old), Some(new)) if *old != new => bail!(
                    "terminal operation {operation_id} changed process id from {old} to {new}"
                ),
                (None, Some(new)) => operation.terminal_id = Some(new),
                _ => {}
            }
            self.budget
                .charge(result_bytes(&terminal_result), "a terminal result")?;
            operation.result = Some(terminal_result);
        }
        let Some(terminal_id) = operation.terminal_id.clone() else {
            return Ok(());
        };
        let start = operation.execution;
        let Some(thread_id) = tool_thread else {
            bail!(
                "tool call {} disappeared during terminal observation linking",
                operation.tool_call_id
            );
        };
        self.ensure_terminal_session(&terminal_id, &thread_id, operation_id, start)
    }
}

struct NewOperation<'a> {
    tool_call_id: &'a str,
    thread_id: &'a str,
    terminal_id: Option<String>,
    kind: TerminalOperationKind,
    request: TerminalRequest,
    payload_id: &'a str,
}

/// Decodes a dispatch invocation of `write_stdin`: the session id and the request.
fn dispatch_write_stdin(invocation: &Value) -> Result<(String, TerminalRequest), ReduceError> {
    let dispatch = DispatchedToolTraceRequestPayload::deserialize(invocation)
        .map_err(|error| ReduceError::new(error.to_string()))?;
    if dispatch.tool_name != "write_stdin" {
        bail!(
            "dispatch terminal request is for {}, not write_stdin",
            dispatch.tool_name
        );
    }
    if dispatch.payload.payload_type != "function" {
        bail!(
            "write_stdin dispatch payload used unsupported {} payload",
            dispatch.payload.payload_type
        );
    }
    let Some(arguments) = dispatch.payload.arguments else {
        bail!("write_stdin dispatch payload omitted function arguments");
    };
    let arguments: DispatchedWriteStdinArgs =
        serde_json::from_str(&arguments).map_err(|error| {
            ReduceError::caused("parse write_stdin dispatch function arguments", error)
        })?;
    let session_id = match &arguments.session_id {
        Value::String(session_id) if !session_id.is_empty() => session_id.clone(),
        Value::Number(number) => number.to_string(),
        _ => bail!("write_stdin dispatch payload omitted session_id"),
    };
    Ok((
        session_id,
        TerminalRequest::WriteStdin {
            stdin: arguments.chars,
            yield_time_ms: arguments.yield_time_ms,
            max_output_tokens: arguments.max_output_tokens,
        },
    ))
}

/// The result of an operation and the process id the payload reports.
fn decode_terminal_result(
    kind: TerminalOperationKind,
    payload: &RawPayloadRef,
    value: &Value,
) -> Result<(TerminalResult, Option<String>), ReduceError> {
    let id = &payload.raw_payload_id;
    let protocol = ExecCommandEndPayload::deserialize(value).map(|end| {
        (
            TerminalResult {
                exit_code: Some(end.exit_code),
                stdout: end.stdout,
                stderr: end.stderr,
                formatted_output: Some(end.formatted_output),
                original_token_count: None,
                chunk_id: None,
            },
            end.process_id,
        )
    });
    match (kind, protocol) {
        (_, Ok(decoded)) => Ok(decoded),
        (TerminalOperationKind::ExecCommand, Err(error)) => {
            Err(ReduceError::caused(format!("parse exec terminal response {id}"), error)
                .at_payload(&payload.path))
        }
        (TerminalOperationKind::WriteStdin, Err(protocol_error)) => {
            match DispatchedToolTraceResponsePayload::deserialize(value) {
                Ok(dispatch) => Ok((dispatch_terminal_result(dispatch), None)),
                Err(dispatch_error) => Err(ReduceError::caused(
                    format!(
                        "parse write_stdin terminal response {id} as protocol payload ({protocol_error}) or dispatch payload"
                    ),
                    dispatch_error,
                )
                .at_payload(&payload.path)),
            }
        }
    }
}

/// `reduction.md` §11.5.
fn dispatch_terminal_result(dispatch: DispatchedToolTraceResponsePayload) -> TerminalResult {
    let text_result = |output: String| TerminalResult {
        exit_code: None,
        stdout: output.clone(),
        stderr: String::new(),
        formatted_output: Some(output),
        original_token_count: None,
        chunk_id: None,
    };
    match dispatch {
        DispatchedToolTraceResponsePayload::DirectResponse { response_item } => {
            let output = response_item
                .get("output")
                .and_then(text_of)
                .unwrap_or_else(|| response_item.to_string());
            text_result(output)
        }
        DispatchedToolTraceResponsePayload::CodeModeResponse { value } => {
            match CodeModeExecResult::deserialize(&value) {
                Ok(structured) => TerminalResult {
                    exit_code: structured.exit_code,
                    stdout: structured.output.clone(),
                    stderr: String::new(),
                    formatted_output: Some(structured.output),
                    original_token_count: structured.original_token_count,
                    chunk_id: structured.chunk_id,
                },
                Err(_) => text_result(text_of(&value).unwrap_or_else(|| value.to_string())),
            }
        }
        DispatchedToolTraceResponsePayload::Error { error } => TerminalResult {
            exit_code: None,
            stdout: String::new(),
            stderr: error.clone(),
            formatted_output: Some(error),
            original_token_count: None,
            chunk_id: None,
        },
    }
}

/// Output text of a response value: strings as they are, arrays of content
/// parts as their texts joined by newlines, null as nothing, anything else as JSON.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            let joined = texts.join("\n");
            (!joined.is_empty()).then_some(joined)
        }
        Value::Null => None,
        other => Some(other.to_string()),
    }
}
