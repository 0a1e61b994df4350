//! Finding and reading the files of a bundle: manifest, event lines, payloads.
//!
//! Invariant: nothing outside the bundle folder is ever opened. The manifest
//! and the event log have fixed names; payload files are located by each
//! reference's relative path and confined to the folder (see `payloads`).

mod confine;
mod lines;
mod memory;
mod payloads;
mod request;
mod source;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::path::PathBuf;

pub use confine::Confined;
pub use confine::FolderCache;
pub use confine::Unconfined;
pub use confine::confined_payload_path;
pub use confine::relative_payload_path;
pub use lines::DamagedLine;
pub use lines::EventLine;
pub use lines::EventLines;
pub use memory::MemoryBundle;
pub use payloads::BundlePayloads;
pub use payloads::PayloadFiles;
pub use payloads::PayloadSource;
pub(crate) use payloads::decode_payload;
pub(crate) use payloads::parse_payload;
pub use payloads::prepare_request;
pub use request::RequestPayload;
pub use request::ScannedInput;
pub use request::ScannedRequest;
pub use source::BundleSource;

use crate::Limits;
use crate::error::Place;
use crate::error::ReduceError;
use crate::raw::MANIFEST_FILE_NAME;
use crate::raw::TRACE_FILE_NAME;
use crate::raw::TraceBundleManifest;

/// Largest manifest accepted: a real one is a few hundred bytes.
const MANIFEST_MAX_BYTES: u64 = 1 << 20;

/// The files of one bundle on disk.
#[derive(Debug, Clone)]
pub struct BundleLocation {
    /// The bundle folder, as the caller spelled it.
    pub root: PathBuf,
    /// The event log: `<root>/trace.jsonl` unless the caller named a file.
    pub trace_path: PathBuf,
}

impl BundleLocation {
    /// A bundle given as its folder or as the path of its event log (the
    /// bundle is then the folder holding that file).
    pub fn locate(path: &Path) -> BundleLocation {
        if path.is_file() {
            let root = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            BundleLocation {
                root,
                trace_path: path.to_path_buf(),
            }
        } else {
            BundleLocation {
                root: path.to_path_buf(),
                trace_path: path.join(TRACE_FILE_NAME),
            }
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE_NAME)
    }

    /// Reads and decodes `manifest.json`, with upstream's error texts: the bare
    /// operating-system error when it cannot be opened, `read <path>: <cause>`
    /// when it does not decode.
    pub fn read_manifest(&self, limits: &Limits) -> Result<TraceBundleManifest, ReduceError> {
        let path = self.manifest_path();
        let place = Place::file(MANIFEST_FILE_NAME);
        let bytes = read_limited(&path, MANIFEST_MAX_BYTES).map_err(|error| match error {
            ReadLimitedError::Open(io) => ReduceError::new(io.to_string()).at(&place),
            ReadLimitedError::Read(io) => {
                ReduceError::caused(format!("read {}", path.display()), io).at(&place)
            }
            ReadLimitedError::TooLarge(size) => ReduceError::caused(
                format!("read {}", path.display()),
                format!("file is {size} bytes, over the limit of {MANIFEST_MAX_BYTES} bytes for a manifest"),
            )
            .at(&place),
        })?;
        if let Some(depth) = crate::limits::depth_over_limit(&bytes, limits.max_json_depth) {
            return Err(ReduceError::caused(
                format!("read {}", path.display()),
                depth_message(depth, limits.max_json_depth),
            )
            .at(&place));
        }
        decode_file(&bytes).map_err(|error| {
            ReduceError::caused(format!("read {}", path.display()), error).at(&place)
        })
    }
}

/// Decodes a whole file's bytes, with the error upstream reports for it.
/// Upstream decodes files from a reader, whose error position counts the byte
/// the decoder had looked at but not taken (one column further than a slice
/// decode reports for `invalid type`, `duplicate field`, `number out of
/// range`...). The fast slice decode runs first; only a failure is decoded
/// again from a reader, for its text.
pub(crate) fn decode_file<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes).map_err(|slice_error| {
        // Both decoders reject the same documents; the slice's error stays
        // only should the reader ever accept one.
        serde_json::from_reader::<_, T>(bytes)
            .err()
            .unwrap_or(slice_error)
    })
}

/// Refuses to open anything but a regular file or a folder (whose read fails
/// as upstream reports it): opening a FIFO blocks until a writer appears, and
/// a device can be endless, so a bundle naming one must not hang us.
pub(crate) fn refuse_special_file(path: &Path) -> std::io::Result<()> {
    match fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() && !metadata.is_dir() => Err(std::io::Error::other(
            "not a regular file (a pipe, socket or device)",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn depth_message(depth: usize, limit: usize) -> String {
    format!(
        "JSON nesting reaches depth {depth}, over the limit of {limit} (raise it with --max-json-depth)"
    )
}

pub(crate) enum ReadLimitedError {
    /// The file could not be opened.
    Open(std::io::Error),
    /// It opened but could not be read (a folder, an I/O error).
    Read(std::io::Error),
    TooLarge(u64),
}

/// Reads a whole file, refusing files larger than `limit` bytes without
/// reading them (and stopping if one grows past the limit while being read).
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadLimitedError> {
    read_limited_into(path, limit, Vec::new())
}

/// [`read_limited`] into `buffer` (cleared first), so a caller can reuse
/// the memory of a buffer it no longer needs.
pub(crate) fn read_limited_into(
    path: &Path,
    limit: u64,
    buffer: Vec<u8>,
) -> Result<Vec<u8>, ReadLimitedError> {
    refuse_special_file(path).map_err(ReadLimitedError::Open)?;
    read_regular_limited_into(path, limit, buffer)
}

/// [`read_limited_into`] of a path already seen to be a regular file.
pub(crate) fn read_regular_limited_into(
    path: &Path,
    limit: u64,
    mut buffer: Vec<u8>,
) -> Result<Vec<u8>, ReadLimitedError> {
    let file = fs::File::open(path).map_err(ReadLimitedError::Open)?;
    let size = file.metadata().map_err(ReadLimitedError::Read)?.len();
    if size > limit {
        return Err(ReadLimitedError::TooLarge(size));
    }
    buffer.clear();
    buffer.reserve_exact(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buffer)
        .map_err(ReadLimitedError::Read)?;
    if buffer.len() as u64 > limit {
        return Err(ReadLimitedError::TooLarge(buffer.len() as u64));
    }
    Ok(buffer)
}
