//! What a replay reads: a bundle's manifest, event log and payload files,
//! wherever they are kept (a folder on disk, or memory).

use std::fs::File;
use std::io::BufRead;
use std::io::BufReader;

use super::BundleLocation;
use super::BundlePayloads;
use super::PayloadFiles;
use crate::Limits;
use crate::error::Place;
use crate::error::ReduceError;
use crate::raw::TRACE_FILE_NAME;
use crate::raw::TraceBundleManifest;

/// The inputs of a replay: a bundle on disk, or one held in memory.
pub trait BundleSource: Sync {
    /// The size of the event log, when known (for progress displays).
    fn trace_size(&self) -> Option<u64> {
        None
    }

    /// The decoded manifest, with upstream's error texts.
    fn read_manifest(&self, limits: &Limits) -> Result<TraceBundleManifest, ReduceError>;
    /// The event log from its first byte.
    fn open_trace(&self) -> Result<Box<dyn BufRead + Send + '_>, ReduceError>;
    /// Where the reducer reads payload documents from.
    fn payloads(&self, limits: Limits) -> Box<dyn PayloadFiles + Send>;
}

impl BundleSource for BundleLocation {
    fn trace_size(&self) -> Option<u64> {
        std::fs::metadata(&self.trace_path)
            .ok()
            .map(|metadata| metadata.len())
    }

    fn read_manifest(&self, limits: &Limits) -> Result<TraceBundleManifest, ReduceError> {
        BundleLocation::read_manifest(self, limits)
    }

    fn open_trace(&self) -> Result<Box<dyn BufRead + Send + '_>, ReduceError> {
        let open_error = |cause: &dyn std::fmt::Display| {
            ReduceError::caused(
                format!("open trace event log {}", self.trace_path.display()),
                cause,
            )
            .at(&Place::file(TRACE_FILE_NAME))
        };
        super::refuse_special_file(&self.trace_path).map_err(|error| open_error(&error))?;
        let file = File::open(&self.trace_path).map_err(|error| open_error(&error))?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }

    fn payloads(&self, limits: Limits) -> Box<dyn PayloadFiles + Send> {
        Box::new(BundlePayloads::new(self.root.clone(), limits))
    }
}
