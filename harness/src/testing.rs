//! Helpers for the harness's own tests (small synthetic cases, injected
//! faults) and the minimize benchmark. Not part of the harness's API.
//! (Scratch folders come from `tempfile`.)

use std::io;
use std::path::Path;

/// Writes `files` (path relative to `root`, content), creating folders.
pub fn write_files(root: &Path, files: &[(&str, &str)]) -> io::Result<()> {
    for (name, content) in files {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    Ok(())
}

/// The manifest of the synthetic bundles.
pub const MANIFEST: &str = r#"{
  "schema_version": 1,
  "trace_id": "trace-1",
  "rollout_id": "rollout-1",
  "root_thread_id": "thread-root",
  "started_at_unix_ms": 1000,
  "raw_event_log": "trace.jsonl",
  "payloads_dir": "payloads"
}"#;

/// Injects a call-id conflict into a generated bundle: in a request about
/// three fifths of the way through the log, the first `function_call` the
/// request re-sends from its history gets other arguments, so reduction
/// fails with `model-visible call id <id> was reused with different
/// content`. Returns the call id.
pub fn inject_call_id_conflict(bundle: &Path) -> io::Result<String> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let trace = std::fs::read_to_string(bundle.join("trace.jsonl"))?;
    let requests: Vec<String> = trace
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["payload"]["type"] == "inference_started")
        .filter_map(|event| {
            Some(
                event["payload"]["request_payload"]["path"]
                    .as_str()?
                    .to_string(),
            )
        })
        .collect();
    let mut sent = std::collections::BTreeSet::new();
    for (index, path) in requests.iter().enumerate() {
        let file = bundle.join(path);
        let mut request: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
        let Some(items) = request["input"].as_array_mut() else {
            continue;
        };
        let resent = items.iter_mut().find(|item| {
            item["type"] == "function_call"
                && item["call_id"].as_str().is_some_and(|id| sent.contains(id))
        });
        match resent {
            Some(item) if index >= requests.len() * 3 / 5 => {
                let call_id = item["call_id"].as_str().unwrap_or_default().to_string();
                item["arguments"] = serde_json::Value::from(r#"{"cmd":"echo injected"}"#);
                std::fs::write(&file, serde_json::to_vec_pretty(&request)?)?;
                return Ok(call_id);
            }
            _ => {}
        }
        for item in items.iter() {
            if let Some(id) = item["call_id"].as_str() {
                sent.insert(id.to_string());
            }
        }
    }
    Err(invalid(format!(
        "{}: no request re-sends a function call",
        bundle.display()
    )))
}
