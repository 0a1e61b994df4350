//! `manifest.json`: the identity of a bundle.

use serde::Deserialize;
use serde::Serialize;

/// File name of the manifest inside a bundle folder.
pub const MANIFEST_FILE_NAME: &str = "manifest.json";
/// File name of the event log inside a bundle folder.
pub const TRACE_FILE_NAME: &str = "trace.jsonl";
/// Folder of payload files inside a bundle, as the reference writer names it.
pub const PAYLOADS_DIR_NAME: &str = "payloads";

/// The manifest as the reference writer produces it (member order included).
///
/// `raw_event_log` and `payloads_dir` are informative: the reducer always
/// reads `trace.jsonl`, and payload files are located by each reference's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceBundleManifest {
    pub schema_version: u32,
    pub trace_id: String,
    pub rollout_id: String,
    pub root_thread_id: String,
    pub started_at_unix_ms: i64,
    pub raw_event_log: String,
    pub payloads_dir: String,
}
