//! Helpers for the harness's own tests: small synthetic cases. Not part of
//! the harness's API. (Scratch folders come from `tempfile`.)

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
