//! Model items and provider bodies in the Responses API's JSON shapes
//! (`trace-format.md` §8.1, §8.2, §8.8).
//!
//! Items are `serde_json::Value`s built with `json!`, whose member order is
//! kept (`preserve_order`), so a bundle's bytes depend only on the values.
//! An item the model produced is pushed to the history unchanged, so that
//! the next full-snapshot request carries the very same JSON back, as real
//! clients do.

use serde::Serialize;
use serde_json::Value;
use serde_json::json;

/// The model every generated call names.
pub const MODEL: &str = "gpt-5-codex";
pub const PROVIDER: &str = "openai";

pub fn user_message(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

pub fn developer_message(text: &str) -> Value {
    json!({"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]})
}

/// An assistant message; `phase` is `commentary` (a preamble before tool
/// calls) or `final_answer`.
pub fn assistant_message(id: &str, text: &str, phase: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
        "phase": phase,
    })
}

/// A reasoning item with a readable summary and the opaque encrypted body.
pub fn reasoning(id: &str, summary: &str, encrypted_content: &str) -> Value {
    json!({
        "type": "reasoning",
        "id": id,
        "summary": [{"type": "summary_text", "text": summary}],
        "encrypted_content": encrypted_content,
    })
}

pub fn function_call(id: &str, name: &str, arguments: &str, call_id: &str) -> Value {
    json!({"type": "function_call", "id": id, "name": name, "arguments": arguments, "call_id": call_id})
}

pub fn function_call_output(call_id: &str, output: &str) -> Value {
    json!({"type": "function_call_output", "call_id": call_id, "output": output})
}

pub fn custom_tool_call(id: &str, name: &str, input: &str, call_id: &str) -> Value {
    json!({"type": "custom_tool_call", "id": id, "status": "completed", "call_id": call_id, "name": name, "input": input})
}

pub fn custom_tool_call_output(call_id: &str, output: &str) -> Value {
    json!({"type": "custom_tool_call_output", "call_id": call_id, "output": output})
}

/// A multi-agent v2 message between agents (`agent_message`, §8.8).
pub fn agent_message(author: &str, recipient: &str, text: &str) -> Value {
    json!({
        "type": "agent_message",
        "author": author,
        "recipient": recipient,
        "content": [{"type": "input_text", "text": text}],
    })
}

/// The top-level member in which current producers stamp history metadata.
pub const HISTORY_METADATA: &str = "internal_chat_message_metadata_passthrough";

/// `item` as current Codex builds re-send it in history: with its turn id,
/// and for messages, agent messages and tool outputs its creation time in
/// seconds (`upstream-main.md` §4). The member is written last, as producers
/// write it.
pub fn with_history_metadata(mut item: Value, turn_id: &str, create_time_ms: i64) -> Value {
    let stamps_time = matches!(
        item["type"].as_str(),
        Some(
            "message"
                | "agent_message"
                | "function_call_output"
                | "custom_tool_call_output"
                | "tool_search_output"
        )
    ) && !matches!(item["role"].as_str(), Some("assistant"));
    let mut metadata = json!({"turn_id": turn_id});
    if stamps_time {
        // Seconds with a fraction, as producers write `create_time`.
        metadata["create_time"] = json!(create_time_ms as f64 / 1000.0);
    }
    if let Value::Object(members) = &mut item {
        members.insert(HISTORY_METADATA.to_string(), metadata);
    }
    item
}

/// A Responses API request body. `input` borrows the history, so a request
/// costs one serialization and no copy.
#[derive(Serialize)]
pub struct RequestBody<'a> {
    pub model: &'a str,
    pub instructions: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<&'a str>,
    pub input: &'a [Value],
    pub tools: &'a Value,
    pub tool_choice: &'static str,
    pub parallel_tool_calls: bool,
    pub reasoning: Value,
    pub store: bool,
    pub stream: bool,
    pub include: [&'static str; 1],
    pub prompt_cache_key: &'a str,
}

impl<'a> RequestBody<'a> {
    pub fn new(
        instructions: &'a str,
        tools: &'a Value,
        input: &'a [Value],
        previous_response_id: Option<&'a str>,
        prompt_cache_key: &'a str,
    ) -> Self {
        RequestBody {
            model: MODEL,
            instructions,
            previous_response_id,
            input,
            tools,
            tool_choice: "auto",
            parallel_tool_calls: true,
            reasoning: json!({"effort": "medium", "summary": "auto"}),
            store: false,
            stream: true,
            include: ["reasoning.encrypted_content"],
            prompt_cache_key,
        }
    }
}

/// A compact-endpoint request (never read by the reducer, but as large as a
/// full request: the whole history goes to the compactor).
#[derive(Serialize)]
pub struct CompactionRequestBody<'a> {
    pub model: &'a str,
    pub instructions: &'a str,
    pub input: &'a [Value],
}

/// A compaction checkpoint borrowing the history it replaces (§8.6).
#[derive(Serialize)]
pub struct Checkpoint<'a> {
    pub input_history: &'a [Value],
    pub replacement_history: &'a [Value],
}

/// The tool definitions every request carries: the terminal, code mode and
/// the multi-agent tools.
pub fn tool_definitions() -> Value {
    let string = |description: &str| json!({"type": "string", "description": description});
    let number = |description: &str| json!({"type": "number", "description": description});
    json!([
        {
            "type": "function",
            "name": "exec_command",
            "description": "Runs a command in a PTY, returning output or a session ID for ongoing interaction.",
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "cmd": string("Shell command to execute."),
                    "workdir": string("Optional working directory to run the command in; defaults to the turn cwd."),
                    "yield_time_ms": number("How long to wait (in milliseconds) for output before yielding."),
                    "max_output_tokens": number("Maximum number of tokens to return. Excess output will be truncated."),
                },
                "required": ["cmd"],
                "additionalProperties": false,
            },
        },
        {
            "type": "function",
            "name": "write_stdin",
            "description": "Writes characters to an existing unified exec session and returns recent output.",
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "session_id": number("Identifier of the running unified exec session."),
                    "chars": string("Bytes to write to stdin (may be empty to poll)."),
                    "yield_time_ms": number("How long to wait (in milliseconds) for output before yielding."),
                },
                "required": ["session_id"],
                "additionalProperties": false,
            },
        },
        {
            "type": "custom",
            "name": "exec",
            "description": "Runs JavaScript in a sandboxed cell. Tools are available as `await tools.<name>(args)`; call `text(value)` to return output. Long cells yield a cell ID: poll it with `wait`.",
            "format": {"type": "text"},
        },
        {
            "type": "function",
            "name": "wait",
            "description": "Waits for a yielded code cell and returns its new output.",
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "cell_id": string("The cell ID printed when the cell yielded."),
                    "yield_time_ms": number("How long to wait before yielding again."),
                },
                "required": ["cell_id"],
                "additionalProperties": false,
            },
        },
        {
            "type": "function",
            "name": "spawn_agent",
            "description": "Starts a sub-agent with its own thread for a self-contained task; its final answer is delivered back as a message.",
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "task_name": string("Short snake_case name; becomes the agent's path segment."),
                    "agent_type": string("One of: worker, explorer."),
                    "message": string("The task, with all the context the sub-agent needs."),
                },
                "required": ["task_name", "message"],
                "additionalProperties": false,
            },
        },
    ])
}
