//! Opening payload files, confined to the bundle folder.
//!
//! Upstream joins a reference's `path` onto the bundle folder as it is, so an
//! absolute path or `..` reads any file on the machine (spec README,
//! observation 1). Here a path must be relative, must not contain `..`, and
//! must still lie inside the bundle once symbolic links are resolved;
//! anything else is rejected before the file is opened.

use std::path::Component;
use std::path::Path;
use std::path::PathBuf;

use serde_json::Value;

use super::ReadLimitedError;
use super::read_limited;
use crate::Limits;
use crate::error::ReduceError;
use crate::model::RawPayloadRef;

/// Where the reducer gets payload documents from.
///
/// The reducer asks for a payload each time a rule needs it (upstream does
/// not cache either), so an implementation may read ahead or cache as long
/// as it returns what the file holds.
pub trait PayloadSource {
    /// Reads and parses the payload. Errors carry upstream's texts:
    /// `open payload <id>` or `parse payload <id>` with their cause.
    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError>;
}

/// A source without payloads, for work that must not read any.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPayloads;

impl PayloadSource for NoPayloads {
    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError> {
        Err(ReduceError::caused(
            format!("open payload {}", payload.raw_payload_id),
            "no payload files are available here",
        ))
    }
}

/// Payload files of a bundle on disk.
#[derive(Debug, Clone)]
pub struct BundlePayloads {
    root: PathBuf,
    /// The bundle folder with symbolic links resolved, once known.
    canonical_root: Option<PathBuf>,
    limits: Limits,
}

impl BundlePayloads {
    pub fn new(root: PathBuf, limits: Limits) -> Self {
        BundlePayloads {
            canonical_root: root.canonicalize().ok(),
            root,
            limits,
        }
    }

    /// The file a reference names, if it is safely inside the bundle.
    fn confined_path(&self, payload: &RawPayloadRef) -> Result<PathBuf, String> {
        let relative = Path::new(&payload.path);
        if payload.path.is_empty() {
            return Err("payload path is empty".to_string());
        }
        for component in relative.components() {
            match component {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir => {
                    return Err(format!(
                        "payload path `{}` contains `..` and could leave the bundle folder",
                        payload.path
                    ));
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(format!(
                        "payload path `{}` is absolute; payload paths must be relative to the bundle folder",
                        payload.path
                    ));
                }
            }
        }
        let joined = self.root.join(relative);
        // A missing file is reported by the open below, with upstream's text.
        if let (Some(root), Ok(resolved)) = (&self.canonical_root, joined.canonicalize())
            && !resolved.starts_with(root)
        {
            return Err(format!(
                "payload path `{}` resolves through a symbolic link to a file outside the bundle folder",
                payload.path
            ));
        }
        Ok(joined)
    }
}

impl PayloadSource for BundlePayloads {
    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError> {
        let id = &payload.raw_payload_id;
        let open_error = |cause: String| {
            ReduceError::caused(format!("open payload {id}"), cause).at_payload(&payload.path)
        };
        let path = self.confined_path(payload).map_err(open_error)?;
        let bytes = read_limited(&path, self.limits.max_payload_bytes).map_err(|error| match error {
            ReadLimitedError::Open(io) => open_error(io.to_string()),
            // Upstream opens the file, then fails while parsing what it reads.
            ReadLimitedError::Read(io) => ReduceError::caused(format!("parse payload {id}"), io)
                .at_payload(&payload.path),
            ReadLimitedError::TooLarge(size) => open_error(format!(
                "file is {size} bytes, over the limit of {} bytes (raise it with --max-payload-bytes)",
                self.limits.max_payload_bytes
            )),
        })?;
        parse_payload(payload, &bytes, &self.limits)
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
    serde_json::from_slice(bytes).map_err(|error| parse_error(error.to_string()))
}
