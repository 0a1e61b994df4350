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

/// Where the reducer gets payload documents from.
///
/// The reducer asks for a payload each time a rule needs it (upstream does
/// not cache either), so an implementation may read ahead or cache as long
/// as it returns what the file holds.
pub trait PayloadSource {
    /// The payload file's bytes. Errors carry upstream's texts: `open payload
    /// <id>` when it cannot be opened, `parse payload <id>` when it opened but
    /// could not be read.
    fn read_payload_bytes(&mut self, payload: &RawPayloadRef) -> Result<Vec<u8>, ReduceError>;

    /// The limits documents are parsed with.
    fn limits(&self) -> Limits;

    /// Reads and parses the payload (`parse payload <id>` when it is not JSON).
    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError> {
        let bytes = self.read_payload_bytes(payload)?;
        parse_payload(payload, &bytes, &self.limits())
    }

    /// Reads an inference request payload, scanned when possible (see
    /// [`ScannedRequest`]), with the same errors as [`Self::read_payload`].
    fn read_request(&mut self, payload: &RawPayloadRef) -> Result<RequestPayload, ReduceError> {
        let bytes = self.read_payload_bytes(payload)?;
        prepare_request(payload, bytes, &self.limits())
    }

    /// Takes back a buffer the reducer no longer needs, so the next read can
    /// reuse its memory instead of asking the allocator (and the kernel) for
    /// fresh pages. Keeping nothing is always correct.
    fn recycle(&mut self, buffer: Vec<u8>) {
        drop(buffer);
    }
}

/// Spare read buffers a source keeps for reuse.
const SPARE_BUFFERS: usize = 2;

/// A source without payloads, for work that must not read any.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPayloads;

impl PayloadSource for NoPayloads {
    fn read_payload_bytes(&mut self, payload: &RawPayloadRef) -> Result<Vec<u8>, ReduceError> {
        Err(ReduceError::caused(
            format!("open payload {}", payload.raw_payload_id),
            "no payload files are available here",
        ))
    }

    fn limits(&self) -> Limits {
        Limits::default()
    }
}

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

impl PayloadSource for BundlePayloads {
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

    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError> {
        let bytes = self.read_payload_bytes(payload)?;
        let value = parse_payload(payload, &bytes, &self.limits);
        self.recycle(bytes);
        value
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
    let parse_error = |cause: String| {
        ReduceError::caused(format!("parse payload {}", payload.raw_payload_id), cause)
            .at_payload(&payload.path)
    };
    if let Some(depth) = crate::limits::depth_over_limit(bytes, limits.max_json_depth) {
        return Err(parse_error(super::depth_message(
            depth,
            limits.max_json_depth,
        )));
    }
    super::decode_file(bytes).map_err(|error| parse_error(error.to_string()))
}
