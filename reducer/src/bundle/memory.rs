//! A bundle held in memory: for fuzzing, property tests and tools that build
//! or shrink bundles without touching the disk.
//!
//! It behaves like a folder on disk: the manifest and event log are parsed
//! with the same code and the same error texts, and a payload is found by its
//! reference's path. Paths are looked up as written (no `..` resolution), so
//! nothing outside the map is ever reachable.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use super::BundleSource;
use super::PayloadFiles;
use crate::Limits;
use crate::error::Place;
use crate::error::ReduceError;
use crate::model::RawPayloadRef;
use crate::raw::MANIFEST_FILE_NAME;
use crate::raw::TraceBundleManifest;

/// Manifest bytes, event-log bytes and payload files by relative path.
#[derive(Debug, Clone, Default)]
pub struct MemoryBundle {
    /// `None` behaves like a missing `manifest.json`.
    pub manifest: Option<Vec<u8>>,
    /// `None` behaves like a missing `trace.jsonl`.
    pub trace: Option<Vec<u8>>,
    /// Payload file contents by path relative to the bundle (`payloads/1.json`).
    pub files: Arc<BTreeMap<String, Vec<u8>>>,
}

/// The folder name used in this bundle's error texts.
const MEMORY_ROOT: &str = "<memory>";

/// The error a missing file gives on disk (`No such file or directory`).
fn not_found() -> std::io::Error {
    std::io::Error::from_raw_os_error(2)
}

impl BundleSource for MemoryBundle {
    fn trace_size(&self) -> Option<u64> {
        self.trace.as_ref().map(|trace| trace.len() as u64)
    }

    fn read_manifest(&self, limits: &Limits) -> Result<TraceBundleManifest, ReduceError> {
        let place = Place::file(MANIFEST_FILE_NAME);
        let Some(bytes) = &self.manifest else {
            return Err(ReduceError::new(not_found().to_string()).at(&place));
        };
        let context = format!("read {MEMORY_ROOT}/{MANIFEST_FILE_NAME}");
        if bytes.len() as u64 > limits.max_payload_bytes {
            return Err(
                ReduceError::caused(context, "file is over the payload size limit").at(&place),
            );
        }
        super::decode_file(bytes).map_err(|error| ReduceError::caused(context, error).at(&place))
    }

    fn open_trace(&self) -> Result<Box<dyn BufRead + Send + '_>, ReduceError> {
        match &self.trace {
            Some(bytes) => Ok(Box::new(bytes.as_slice())),
            None => Err(ReduceError::caused(
                format!(
                    "open trace event log {MEMORY_ROOT}/{}",
                    crate::raw::TRACE_FILE_NAME
                ),
                not_found(),
            )
            .at(&Place::file(crate::raw::TRACE_FILE_NAME))),
        }
    }

    fn payloads(&self, limits: Limits) -> Box<dyn PayloadFiles + Send> {
        Box::new(MemoryPayloads {
            files: Arc::clone(&self.files),
            limits,
        })
    }
}

struct MemoryPayloads {
    files: Arc<BTreeMap<String, Vec<u8>>>,
    limits: Limits,
}

impl PayloadFiles for MemoryPayloads {
    fn limits(&self) -> Limits {
        self.limits
    }

    fn read_payload_bytes(&mut self, payload: &RawPayloadRef) -> Result<Vec<u8>, ReduceError> {
        let Some(bytes) = self.files.get(&payload.path) else {
            return Err(ReduceError::caused(
                format!("open payload {}", payload.raw_payload_id),
                not_found(),
            )
            .at_payload(&payload.path));
        };
        if bytes.len() as u64 > self.limits.max_payload_bytes {
            return Err(ReduceError::caused(
                format!("open payload {}", payload.raw_payload_id),
                "file is over the payload size limit",
            )
            .at_payload(&payload.path));
        }
        Ok(bytes.clone())
    }
}
