//! Copying a bundle into a case folder: the manifest, the event log and
//! only the payload files its decodable lines reference, optionally redacted.
//!
//! Invariant: nothing outside the bundle is read (the reducer's confinement
//! rule, `rollout_trace::bundle::confine`), and a case keeps payload files
//! under `payloads/` only; every other reference becomes a warning.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::io::BufReader;
use std::path::Component;
use std::path::Path;
use std::path::PathBuf;

use rollout_trace::Limits;
use rollout_trace::bundle::BundleLocation;
use rollout_trace::bundle::EventLines;
use rollout_trace::bundle::confined_payload_path;
use rollout_trace::bundle::relative_payload_path;
use rollout_trace::raw::MANIFEST_FILE_NAME;
use rollout_trace::raw::TRACE_FILE_NAME;

use super::PAYLOADS;
use super::read;
use super::write;
use crate::redact::Redactor;

/// Copies (or redacts) the bundle's files into `dir`; returns the number of
/// payload files copied (`payloads/1.json` and `./payloads/1.json` are one).
pub(super) fn copy_bundle(
    location: &BundleLocation,
    dir: &Path,
    redactor: Option<&Redactor>,
    warnings: &mut Vec<String>,
) -> Result<usize, String> {
    fs::create_dir_all(dir).map_err(|error| format!("create {}: {error}", dir.display()))?;
    let manifest = location.manifest_path();
    if manifest.is_file() {
        let bytes = read(&manifest)?;
        let bytes = redactor.map_or(bytes.clone(), |redactor| redactor.document(&bytes));
        write(&dir.join(MANIFEST_FILE_NAME), &bytes)?;
    } else {
        warnings.push(format!(
            "the bundle has no {MANIFEST_FILE_NAME}, so neither has the case"
        ));
    }
    if !location.trace_path.is_file() {
        warnings.push(format!(
            "the bundle has no {TRACE_FILE_NAME}, so neither has the case"
        ));
        return Ok(0);
    }
    let bytes = read(&location.trace_path)?;
    let redacted = redactor.map_or(bytes.clone(), |redactor| redactor.lines(&bytes));
    write(&dir.join(TRACE_FILE_NAME), &redacted)?;

    let root = location
        .root
        .canonicalize()
        .map_err(|error| format!("read {}: {error}", location.root.display()))?;
    let mut copied = BTreeSet::new();
    for reference in references(&location.trace_path)? {
        let about = format!(
            "payload path `{}` ({}, {TRACE_FILE_NAME} line {})",
            reference.path, reference.raw_payload_id, reference.line
        );
        let relative = match case_relative(&reference.path) {
            Ok(relative) => relative,
            Err(why) => {
                warnings.push(format!("{about} {why}; not copied"));
                continue;
            }
        };
        if copied.contains(&relative) {
            continue;
        }
        if let Err(reason) = confined_payload_path(&root, Some(&root), &reference.path) {
            warnings.push(format!("{about} {reason}; not copied"));
            continue;
        }
        // The file under its plain spelling: `payloads/1.json/` fails to
        // open, but the copy must still hold `payloads/1.json` to fail alike.
        let source = root.join(&relative);
        let resolved = match source.canonicalize() {
            Ok(resolved) => resolved,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                warnings.push(format!(
                    "{about} names no file of the bundle; not copied (fine if the case is about a missing payload)"
                ));
                continue;
            }
            Err(error) => return Err(format!("read {}: {error}", source.display())),
        };
        if !resolved.is_file() {
            warnings.push(format!("{about} is not a file; not copied"));
            continue;
        }
        let bytes = read(&resolved)?;
        let bytes = redactor.map_or(bytes.clone(), |redactor| redactor.document(&bytes));
        let target = dir.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|error| format!("create {}: {error}", parent.display()))?;
        }
        write(&target, &bytes)?;
        copied.insert(relative);
    }
    Ok(copied.len())
}

/// A payload reference of a decodable line of the event log.
struct Reference {
    path: String,
    raw_payload_id: String,
    /// 1-based line of the first event naming this path.
    line: u64,
}

/// The payload references of `trace`, one per distinct path, sorted by path.
fn references(trace: &Path) -> Result<Vec<Reference>, String> {
    let file =
        fs::File::open(trace).map_err(|error| format!("open {}: {error}", trace.display()))?;
    let mut found: Vec<Reference> = Vec::new();
    // Damaged lines name no payload the reducer could open.
    for line in EventLines::new(BufReader::new(file), Limits::default()).flatten() {
        for payload in line.event.payload.payload_refs() {
            if found.iter().all(|known| known.path != payload.path) {
                found.push(Reference {
                    path: payload.path.clone(),
                    raw_payload_id: payload.raw_payload_id.clone(),
                    line: line.line_number,
                });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// The path inside a case where a referenced payload goes (`./` dropped), or
/// why it cannot go anywhere: the reducer's confinement rule, and a case
/// keeps payload files under `payloads/` only.
pub(super) fn case_relative(path: &str) -> Result<PathBuf, String> {
    let relative = relative_payload_path(path).map_err(|reason| reason.to_string())?;
    let mut parts = relative.components();
    let in_payloads = parts.next() == Some(Component::Normal(PAYLOADS.as_ref()));
    if !in_payloads || parts.next().is_none() {
        return Err(format!(
            "is not under {PAYLOADS}/, the only folder of a case that holds payload files"
        ));
    }
    Ok(relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_paths_of_a_case() {
        let paths: Vec<Result<PathBuf, String>> = [
            "payloads/1.json",
            "./payloads/sub/2.json",
            "../x.json",
            "/etc/passwd",
            "other/1.json",
            "payloads",
            "",
        ]
        .iter()
        .map(|path| case_relative(path))
        .collect();
        assert_eq!(
            paths,
            [
                Ok(PathBuf::from("payloads/1.json")),
                Ok(PathBuf::from("payloads/sub/2.json")),
                Err("contains `..` and could leave the bundle folder".to_string()),
                Err("is absolute; payload paths must be relative to the bundle folder".to_string()),
                Err(
                    "is not under payloads/, the only folder of a case that holds payload files"
                        .to_string()
                ),
                Err(
                    "is not under payloads/, the only folder of a case that holds payload files"
                        .to_string()
                ),
                Err(
                    "is not under payloads/, the only folder of a case that holds payload files"
                        .to_string()
                ),
            ]
        );
    }
}
