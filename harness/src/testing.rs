//! Helpers for the harness's own tests: temporary folders and small
//! synthetic cases. Not part of the harness's API.
//!
//! Invariant: every folder made here lies under the system's temporary
//! folder and is removed when its [`TempDir`] is dropped.

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

/// A folder removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new empty folder whose name starts with `prefix`, unique per process and call.
    pub fn new(prefix: &str) -> io::Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("harness-{prefix}-{}-{count}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

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
