//! References from events to payload files, as written in `trace.jsonl` and
//! copied into the `raw_payloads` map of `state.json`.

use serde::Deserialize;
use serde::Serialize;

/// One payload file of a bundle and the role it plays.
///
/// The reduced model re-serializes the reference: exactly these three members
/// in this order, whatever extra members the input carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPayloadRef {
    /// Bundle-unique id, `raw_payload:<n>` for the reference writer.
    pub raw_payload_id: String,
    pub kind: RawPayloadKind,
    /// Path relative to the bundle folder, `payloads/<n>.json` for the reference writer.
    pub path: String,
}

/// Coarse role of a payload. Adjacently tagged upstream; every variant is a
/// unit, so the JSON form is `{"type":"<name>"}` and a `"value": null` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum RawPayloadKind {
    InferenceRequest,
    InferenceResponse,
    CompactionRequest,
    CompactionCheckpoint,
    CompactionResponse,
    ToolInvocation,
    ToolResult,
    ToolRuntimeEvent,
    TerminalRuntimeEvent,
    ProtocolEvent,
    SessionMetadata,
    AgentResult,
}
