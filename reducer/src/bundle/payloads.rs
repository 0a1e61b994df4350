//! Opening payload files, confined to the bundle folder.
//!
//! Upstream joins a reference's `path` onto the bundle folder as it is, so an
//! absolute path or `..` reads any file on the machine (spec README,
//! observation 1). Here every path passes the rule of `confine` before
//! anything is opened.

use std::path::PathBuf;

use serde_json::Value;

use super::FolderCache;
use super::ReadLimitedError;
use super::RequestPayload;
use super::ScannedRequest;
use super::read_limited_into;
use super::read_regular_limited_into;
use crate::Limits;
use crate::error::ReduceError;
use crate::model::RawPayloadRef;

/// Where the reducer gets payload documents from: parsed documents and
/// scanned requests, never bytes.
///
/// The reducer asks for a payload each time a rule needs it (upstream does
/// not cache either), so an implementation may read ahead or cache as long
/// as it returns what the file holds. The replay's implementation reads from
/// a [`PayloadFiles`] (`read_ahead.rs`).
pub trait PayloadSource {
    /// The payload's document. Errors carry upstream's texts: `open payload
    /// <id>` when the file cannot be opened, `parse payload <id>` when it
    /// opened but could not be read or is not JSON.
    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError>;

    /// An inference request payload, scanned when possible (see
    /// [`ScannedRequest`]), with the same errors as [`Self::read_payload`].
    fn read_request(&mut self, payload: &RawPayloadRef) -> Result<RequestPayload, ReduceError>;

    /// Takes back a buffer the reducer no longer needs, so the next read can
    /// reuse its memory instead of asking the allocator (and the kernel) for
    /// fresh pages. Keeping nothing is always correct.
    fn recycle(&mut self, buffer: Vec<u8>);
}

/// Where a bundle's payload files are read from (a folder, or memory).
pub trait PayloadFiles {
    /// The payload file's bytes. Errors carry upstream's texts: `open payload
    /// <id>` when it cannot be opened, `parse payload <id>` when it opened but
    /// could not be read.
    fn read_payload_bytes(&mut self, payload: &RawPayloadRef) -> Result<Vec<u8>, ReduceError>;

    /// The limits files are read and documents parsed with.
    fn limits(&self) -> Limits;

    /// Takes back a buffer for a later read to reuse (see
    /// [`PayloadSource::recycle`]).
    fn recycle(&mut self, buffer: Vec<u8>) {
        drop(buffer);
    }
}

/// Spare read buffers a source keeps for reuse.
const SPARE_BUFFERS: usize = 2;

/// Payload files of a bundle on disk.
#[derive(Debug, Clone)]
pub struct BundlePayloads {
    root: PathBuf,
    /// The bundle folder with symbolic links resolved, once known.
    canonical_root: Option<PathBuf>,
    limits: Limits,
    /// Buffers given back by the reducer, reused by the next large reads.
    spare: Vec<Vec<u8>>,
    /// Resolved payload folders, for confinement.
    folders: FolderCache,
}

impl BundlePayloads {
    pub fn new(root: PathBuf, limits: Limits) -> Self {
        BundlePayloads {
            canonical_root: root.canonicalize().ok(),
            root,
            limits,
            spare: Vec::new(),
            folders: FolderCache::default(),
        }
    }
}

impl PayloadFiles for BundlePayloads {
    fn limits(&self) -> Limits {
        self.limits
    }

    fn read_payload_bytes(&mut self, payload: &RawPayloadRef) -> Result<Vec<u8>, ReduceError> {
        let id = &payload.raw_payload_id;
        let open_error = |cause: String| {
            ReduceError::caused(format!("open payload {id}"), cause).at_payload(&payload.path)
        };
        let confined = self
            .folders
            .confine(&self.root, self.canonical_root.as_deref(), &payload.path)
            .map_err(|reason| open_error(format!("payload path `{}` {reason}", payload.path)))?;
        let buffer = self.spare.pop().unwrap_or_default();
        let read = if confined.regular_file {
            read_regular_limited_into(&confined.path, self.limits.max_payload_bytes, buffer)
        } else {
            read_limited_into(&confined.path, self.limits.max_payload_bytes, buffer)
        };
        let bytes = read.map_err(|error| match error {
            ReadLimitedError::Open(io) => open_error(io.to_string()),
            // Upstream opens the file, then fails while parsing what it reads.
            ReadLimitedError::Read(io) => ReduceError::caused(format!("parse payload {id}"), io)
                .at_payload(&payload.path),
            ReadLimitedError::TooLarge(size) => open_error(format!(
                "file is {size} bytes, over the limit of {} bytes (raise it with --max-payload-bytes)",
                self.limits.max_payload_bytes
            )),
        })?;
        Ok(bytes)
    }

    fn recycle(&mut self, buffer: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            self.spare.push(buffer);
        }
    }
}

/// A request payload's bytes, scanned, or decoded whole when a scan cannot
/// stand in for a whole decode (then with the whole decode's errors).
pub fn prepare_request(
    payload: &RawPayloadRef,
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<RequestPayload, ReduceError> {
    if crate::limits::depth_over_limit(&bytes, limits.max_json_depth).is_some() {
        return parse_payload(payload, &bytes, limits).map(RequestPayload::Decoded);
    }
    match ScannedRequest::scan(bytes) {
        Ok(scanned) => Ok(RequestPayload::Scanned(scanned)),
        Err(bytes) => parse_payload(payload, &bytes, limits).map(RequestPayload::Decoded),
    }
}

/// Parses payload bytes as one JSON document, with upstream's error text.
pub(crate) fn parse_payload(
    payload: &RawPayloadRef,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Value, ReduceError> {
    if let Some(depth) = crate::limits::depth_over_limit(bytes, limits.max_json_depth) {
        return Err(parse_error(
            payload,
            super::depth_message(depth, limits.max_json_depth),
        ));
    }
    decode_payload(payload, bytes)
}

/// [`parse_payload`] of bytes whose depth was already checked against the
/// limits (a scanned request's: [`prepare_request`] checks before scanning).
pub(crate) fn decode_payload(payload: &RawPayloadRef, bytes: &[u8]) -> Result<Value, ReduceError> {
    super::decode_file(bytes).map_err(|error| parse_error(payload, error.to_string()))
}

fn parse_error(payload: &RawPayloadRef, cause: String) -> ReduceError {
    ReduceError::caused(format!("parse payload {}", payload.raw_payload_id), cause)
        .at_payload(&payload.path)
}
