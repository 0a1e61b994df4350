//! Reading an existing bundle before writing to it: the refusal check of
//! `create` and the scan of `resume`.
//!
//! `resume` keeps the longest prefix of the log made of complete events
//! (lines decoding as events, `seq` growing by one) and cuts the rest only
//! when the rest holds no complete event: a crash damages the last line at
//! most, and anything else is left for a person to look at. A last event
//! whose newline was lost is complete (a JSON object has no proper prefix
//! that is itself an object, and the reducer reads it): it is kept and the
//! writer adds the newline.

use std::fs;
use std::fs::File;
use std::io;
use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;

use super::WriteError;
use super::WriteErrorKind;
use crate::raw::MANIFEST_FILE_NAME;
use crate::raw::PAYLOADS_DIR_NAME;
use crate::raw::RawTraceEvent;
use crate::raw::TRACE_FILE_NAME;
use crate::raw::TraceBundleManifest;

/// The file that shows `folder` already holds a bundle, if any.
pub(super) fn existing_bundle_file(folder: &Path) -> Option<String> {
    for name in [MANIFEST_FILE_NAME, TRACE_FILE_NAME] {
        if folder.join(name).symlink_metadata().is_ok() {
            return Some(name.to_string());
        }
    }
    let entries = fs::read_dir(folder.join(PAYLOADS_DIR_NAME)).ok()?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .first()
        .map(|name| format!("{PAYLOADS_DIR_NAME}/{name}"))
}

pub(super) fn read_manifest(folder: &Path) -> Result<TraceBundleManifest, WriteError> {
    let path = folder.join(MANIFEST_FILE_NAME);
    let bytes = fs::read(&path).map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            WriteError::new(
                WriteErrorKind::NotABundle,
                format!(
                    "resume {}: no {MANIFEST_FILE_NAME}, so it is not a bundle (create one with TraceWriter::create)",
                    folder.display()
                ),
            )
        } else {
            WriteError::io(format!("read {}", path.display()), error)
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|error| {
        WriteError::new(
            WriteErrorKind::NotABundle,
            format!(
                "resume {}: {MANIFEST_FILE_NAME} does not decode: {error}",
                folder.display()
            ),
        )
    })
}

/// What the log holds and where its complete part ends.
#[derive(Debug, Default)]
pub(super) struct LogScan {
    /// Length of the complete prefix, in bytes.
    pub keep_bytes: u64,
    pub events: u64,
    pub last_seq: Option<u64>,
    /// Highest `n` of a `raw_payload:<n>` reference in the kept events.
    pub highest_payload_ordinal: u64,
    pub cut_bytes: u64,
    pub cut_reason: Option<String>,
    /// The last kept event has no newline yet.
    pub missing_newline: bool,
}

/// Scans `trace.jsonl` (a missing file is an empty log).
pub(super) fn scan_log(path: &Path) -> Result<LogScan, WriteError> {
    let read_error = |error| WriteError::io(format!("read {}", path.display()), error);
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(LogScan::default()),
        Err(error) => return Err(read_error(error)),
    };
    let mut reader = BufReader::new(file);
    let mut scan = LogScan::default();
    let mut line = Vec::new();
    let mut line_number = 0u64;
    loop {
        line.clear();
        let length = reader.read_until(b'\n', &mut line).map_err(read_error)?;
        if length == 0 {
            return Ok(scan);
        }
        line_number += 1;
        let damage = match decode(&line) {
            Line::Blank => None,
            Line::Damaged(reason) => Some(reason),
            Line::Event(event) => {
                scan.missing_newline = !line.ends_with(b"\n");
                if let Some(previous) = scan.last_seq
                    && previous.checked_add(1) != Some(event.seq)
                {
                    return Err(WriteError::new(
                        WriteErrorKind::DamagedLog,
                        format!(
                            "resume {}: {TRACE_FILE_NAME}:{line_number} has seq {} after seq {previous}; seq must grow by one per event (was the log written by another writer?), so continuing it would not reduce",
                            path.display(),
                            event.seq
                        ),
                    ));
                }
                scan.last_seq = Some(event.seq);
                scan.events += 1;
                for payload in event.payload.payload_refs() {
                    if let Some(ordinal) = payload
                        .raw_payload_id
                        .strip_prefix("raw_payload:")
                        .and_then(|n| n.parse::<u64>().ok())
                    {
                        scan.highest_payload_ordinal = scan.highest_payload_ordinal.max(ordinal);
                    }
                }
                None
            }
        };
        match damage {
            None => scan.keep_bytes += length as u64,
            Some(reason) => {
                // Everything from here on is cut, unless a complete event follows.
                let mut cut_bytes = length as u64;
                let mut later_number = line_number;
                loop {
                    line.clear();
                    let length = reader.read_until(b'\n', &mut line).map_err(read_error)?;
                    if length == 0 {
                        break;
                    }
                    later_number += 1;
                    cut_bytes += length as u64;
                    if let Line::Event(_) = decode(&line) {
                        return Err(WriteError::new(
                            WriteErrorKind::DamagedLog,
                            format!(
                                "resume {}: {TRACE_FILE_NAME}:{line_number} is damaged ({reason}) but {TRACE_FILE_NAME}:{later_number} after it is a complete event; refusing to cut complete events (repair the log by hand)",
                                path.display()
                            ),
                        ));
                    }
                }
                scan.cut_bytes = cut_bytes;
                scan.cut_reason = Some(format!("{TRACE_FILE_NAME}:{line_number} {reason}"));
                return Ok(scan);
            }
        }
    }
}

enum Line {
    Blank,
    Event(Box<RawTraceEvent>),
    Damaged(String),
}

/// Classifies one physical line, terminator included (only the last line
/// of the file can lack it).
fn decode(line: &[u8]) -> Line {
    let (content, terminated) = match line.strip_suffix(b"\n") {
        Some(content) => (content, true),
        None => (line, false),
    };
    if terminated && std::str::from_utf8(content).is_ok_and(|text| text.trim().is_empty()) {
        return Line::Blank;
    }
    match serde_json::from_slice::<RawTraceEvent>(content) {
        Ok(event) => Line::Event(Box::new(event)),
        Err(_) if !terminated => Line::Damaged("has no newline".to_string()),
        Err(error) => Line::Damaged(format!("does not decode as an event: {error}")),
    }
}

/// The highest `n` of a `payloads/<n>.json` file (0 when there is none).
pub(super) fn highest_payload_file(folder: &Path) -> Result<u64, WriteError> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => {
            return Err(WriteError::io(format!("list {}", folder.display()), error));
        }
    };
    let mut highest = 0;
    for entry in entries {
        let entry =
            entry.map_err(|error| WriteError::io(format!("list {}", folder.display()), error))?;
        let name = entry.file_name();
        let Some(ordinal) = name
            .to_str()
            .and_then(|name| name.strip_suffix(".json"))
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u64>().ok())
        else {
            continue;
        };
        highest = highest.max(ordinal);
    }
    Ok(highest)
}
