//! The bundle being shrunk: the manifest, the event lines and the payload
//! files those lines reference, held in memory, and its rendering into the
//! bytes of a candidate ([`Rendered`]).
//!
//! Invariants:
//! - A line keeps the bytes it was read as, and its parsed value when it is
//!   JSON; an edit replaces both (compact JSON, as the writer writes lines).
//!   Rendering re-serializes a line only when numbering changes it, so a
//!   line nobody touched keeps its exact bytes (a duplicate key, an odd
//!   number spelling or a damaged line may be what is interesting).
//! - Payload files are keyed by the path their references spell. Only files
//!   that a decodable line references and that exist inside the bundle
//!   folder are held (the reducer's confinement rule); a reference to a
//!   missing file stays a reference to a missing file.
//! - Rendering emits exactly the files the rendered lines reference:
//!   whatever no line names any more is dropped.
//! - Cloning is cheap: lines and files are shared (`Arc`) between the
//!   current bundle, its candidates and their renderings. A file's digest
//!   is computed once, when its bytes are made, so recognising a candidate
//!   seen before costs a pass over the event log, not over the payloads.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::fs;
use std::hash::Hash;
use std::hash::Hasher;
use std::path::Path;
use std::sync::Arc;

use rollout_trace::bundle::BundleLocation;
use rollout_trace::bundle::MemoryBundle;
use rollout_trace::bundle::confined_payload_path;
use rollout_trace::bundle::relative_payload_path;
use rollout_trace::raw::MANIFEST_FILE_NAME;
use rollout_trace::raw::TRACE_FILE_NAME;
use serde_json::Value;

use super::numbering::Numbering;
use super::numbering::Renumberer;
use super::numbering::references;

/// One line of `trace.jsonl`, without its line terminator.
#[derive(Debug)]
pub struct Line {
    bytes: Vec<u8>,
    /// The line as JSON, when it parses.
    value: Option<Value>,
}

impl Line {
    fn read(bytes: &[u8]) -> Line {
        Line {
            bytes: bytes.to_vec(),
            value: serde_json::from_slice(bytes).ok(),
        }
    }

    fn of_value(value: Value) -> Line {
        Line {
            bytes: serde_json::to_vec(&value).unwrap_or_default(),
            value: Some(value),
        }
    }

    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }
}

/// The bytes of one payload file and their digest.
#[derive(Debug)]
pub struct File {
    bytes: Vec<u8>,
    digest: u128,
}

impl File {
    fn new(bytes: Vec<u8>) -> Arc<File> {
        let digest = digest(|hasher| bytes.hash(hasher));
        Arc::new(File { bytes, digest })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A 128-bit digest of what `feed` hashes: SipHash with fixed keys (the
/// same on every run), twice with different salts.
fn digest(feed: impl Fn(&mut std::hash::DefaultHasher)) -> u128 {
    let half = |salt: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        salt.hash(&mut hasher);
        feed(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// A bundle in memory.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// `None`: the bundle has no `manifest.json`.
    manifest: Option<Arc<Vec<u8>>>,
    lines: Vec<Arc<Line>>,
    /// Whether the last line ends with a newline (a crashed writer's may not).
    terminated: bool,
    /// `false`: the bundle has no `trace.jsonl` (and no lines).
    has_trace: bool,
    /// Payload file contents by the path the references spell.
    files: BTreeMap<String, Arc<File>>,
}

impl Bundle {
    /// Reads the bundle at `path` (its folder, or its event log).
    pub fn load(path: &Path) -> Result<Bundle, String> {
        let location = BundleLocation::locate(path);
        let has_trace = location.trace_path.is_file();
        if !has_trace && !location.manifest_path().is_file() {
            return Err(format!(
                "{} is not a trace bundle: it has neither {MANIFEST_FILE_NAME} nor {TRACE_FILE_NAME}",
                path.display()
            ));
        }
        let read = |path: &Path| {
            fs::read(path).map_err(|error| format!("read {}: {error}", path.display()))
        };
        let manifest_path = location.manifest_path();
        let manifest = match manifest_path.is_file() {
            true => Some(Arc::new(read(&manifest_path)?)),
            false => None,
        };
        let trace = match has_trace {
            true => read(&location.trace_path)?,
            false => Vec::new(),
        };
        let root = location
            .root
            .canonicalize()
            .map_err(|error| format!("read {}: {error}", location.root.display()))?;
        let mut bundle = Bundle::of_trace(manifest, &trace);
        bundle.has_trace = has_trace;
        for line in &bundle.lines {
            let Some(value) = &line.value else { continue };
            for (_, path) in references(value) {
                if bundle.files.contains_key(path) {
                    continue;
                }
                let Ok(file) = confined_payload_path(&root, Some(&root), path) else {
                    continue;
                };
                if file.is_file() {
                    bundle
                        .files
                        .insert(path.to_string(), File::new(read(&file)?));
                }
            }
        }
        Ok(bundle)
    }

    /// A bundle of `trace`'s lines and no payload files yet.
    fn of_trace(manifest: Option<Arc<Vec<u8>>>, trace: &[u8]) -> Bundle {
        let terminated = trace.last().is_none_or(|last| *last == b'\n');
        let body = trace.strip_suffix(b"\n").unwrap_or(trace);
        let lines = match trace.is_empty() {
            true => Vec::new(),
            false => body
                .split(|byte| *byte == b'\n')
                .map(|line| Arc::new(Line::read(line)))
                .collect(),
        };
        Bundle {
            manifest,
            lines,
            terminated,
            has_trace: true,
            files: BTreeMap::new(),
        }
    }

    /// The bundle a rendering describes (the current bundle after a
    /// candidate is accepted, in the candidate's numbering).
    pub fn from_rendered(rendered: &Rendered) -> Bundle {
        let mut bundle = Bundle::of_trace(
            rendered
                .manifest
                .as_ref()
                .map(|bytes| Arc::new(bytes.clone())),
            &rendered.trace,
        );
        bundle.files = rendered.files.clone();
        bundle.has_trace = rendered.has_trace;
        bundle
    }

    pub fn lines(&self) -> &[Arc<Line>] {
        &self.lines
    }

    pub fn manifest(&self) -> Option<&[u8]> {
        self.manifest.as_deref().map(Vec::as_slice)
    }

    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|file| file.bytes())
    }

    /// The paths of the payload files held, in the order lines first
    /// reference them.
    pub fn files_in_use_order(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for line in &self.lines {
            let Some(value) = &line.value else { continue };
            for (_, path) in references(value) {
                if self.files.contains_key(path) && seen.insert(path) {
                    paths.push(path.to_string());
                }
            }
        }
        paths
    }

    /// This bundle without the lines whose index `remove` accepts.
    pub fn without_lines(&self, remove: impl Fn(usize) -> bool) -> Bundle {
        let mut bundle = self.clone();
        bundle.lines = (self.lines.iter().enumerate())
            .filter(|(index, _)| !remove(*index))
            .map(|(_, line)| Arc::clone(line))
            .collect();
        bundle
    }

    /// This bundle with line `index` replaced by `value`.
    pub fn with_line(&self, index: usize, value: Value) -> Bundle {
        let mut bundle = self.clone();
        if let Some(line) = bundle.lines.get_mut(index) {
            *line = Arc::new(Line::of_value(value));
        }
        bundle
    }

    pub fn with_file(&self, path: &str, bytes: Vec<u8>) -> Bundle {
        let mut bundle = self.clone();
        bundle.files.insert(path.to_string(), File::new(bytes));
        bundle
    }

    pub fn with_manifest(&self, bytes: Vec<u8>) -> Bundle {
        let mut bundle = self.clone();
        bundle.manifest = Some(Arc::new(bytes));
        bundle
    }

    /// The bytes of this bundle in `numbering`: the manifest, the event log
    /// and the payload files its lines reference.
    pub fn render(&self, numbering: Numbering) -> Rendered {
        let mut renumberer = Renumberer::new(numbering);
        let mut trace = Vec::new();
        // (new path, original path) of each file, in first-use order.
        let mut names: Vec<(String, String)> = Vec::new();
        let mut named = HashSet::new();
        for (index, line) in self.lines.iter().enumerate() {
            if index > 0 {
                trace.push(b'\n');
            }
            let Some(original) = &line.value else {
                trace.extend_from_slice(&line.bytes);
                continue;
            };
            let renumbered = renumberer.line(original);
            let rendered = match &renumbered {
                Some(renumbered) => {
                    trace.extend_from_slice(&serde_json::to_vec(renumbered).unwrap_or_default());
                    renumbered
                }
                None => {
                    trace.extend_from_slice(&line.bytes);
                    original
                }
            };
            // Both walks visit the references in the same order.
            for ((_, old), (_, new)) in references(original).iter().zip(references(rendered)) {
                if named.insert(new.to_string()) {
                    names.push((new.to_string(), old.to_string()));
                }
            }
        }
        if self.terminated && !self.lines.is_empty() {
            trace.push(b'\n');
        }
        let files = names
            .into_iter()
            .filter_map(|(new, old)| Some((new, Arc::clone(self.files.get(&old)?))))
            .collect();
        Rendered {
            manifest: self.manifest.as_deref().cloned(),
            trace,
            has_trace: self.has_trace,
            files,
        }
    }
}

/// The files of one candidate bundle.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub manifest: Option<Vec<u8>>,
    pub trace: Vec<u8>,
    /// `false`: no `trace.jsonl` at all (`trace` is empty).
    pub has_trace: bool,
    /// Payload files by the path their references spell.
    pub files: BTreeMap<String, Arc<File>>,
}

/// How big a bundle is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// Lines of `trace.jsonl`.
    pub events: usize,
    /// Bytes of the manifest, the event log and the payload files.
    pub bytes: u64,
    pub payload_files: usize,
}

impl Rendered {
    pub fn size(&self) -> Size {
        let body = self.trace.strip_suffix(b"\n").unwrap_or(&self.trace);
        let events = match self.trace.is_empty() {
            true => 0,
            false => body.split(|byte| *byte == b'\n').count(),
        };
        let bytes = self.manifest.as_ref().map_or(0, Vec::len)
            + self.trace.len()
            + self
                .files
                .values()
                .map(|file| file.bytes.len())
                .sum::<usize>();
        Size {
            events,
            bytes: bytes as u64,
            payload_files: self.files.len(),
        }
    }

    /// A bundle the reducer can read without touching the disk.
    pub fn memory(&self) -> MemoryBundle {
        MemoryBundle {
            manifest: self.manifest.clone(),
            trace: self.has_trace.then(|| self.trace.clone()),
            files: Arc::new(
                (self.files.iter())
                    .map(|(path, file)| (path.clone(), file.bytes.clone()))
                    .collect(),
            ),
        }
    }

    /// A 128-bit digest of every byte and name, to recognise a candidate
    /// seen before.
    pub fn fingerprint(&self) -> u128 {
        digest(|hasher| {
            self.manifest.hash(hasher);
            self.has_trace.hash(hasher);
            self.trace.hash(hasher);
            for (path, file) in &self.files {
                path.hash(hasher);
                file.digest.hash(hasher);
            }
        })
    }

    /// Writes the bundle into the empty or missing folder `dir`.
    pub fn write_to(&self, dir: &Path) -> Result<(), String> {
        let write = |path: &Path, bytes: &[u8]| {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|error| format!("create {}: {error}", parent.display()))?;
            }
            fs::write(path, bytes).map_err(|error| format!("write {}: {error}", path.display()))
        };
        if let Some(manifest) = &self.manifest {
            write(&dir.join(MANIFEST_FILE_NAME), manifest)?;
        }
        if self.has_trace {
            write(&dir.join(TRACE_FILE_NAME), &self.trace)?;
        }
        for (path, file) in &self.files {
            // Held files passed the confinement rule when they were read.
            if let Ok(relative) = relative_payload_path(path) {
                write(&dir.join(relative), &file.bytes)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_bytes_and_their_terminator() {
        let trace = b"{\"a\":1}\n\nnot json\n{\"b\" : 2}";
        let bundle = Bundle::of_trace(None, trace);
        let rendered = bundle.render(Numbering::KEEP);
        assert_eq!(rendered.trace, trace);
        assert_eq!(rendered.size().events, 4);
        let dropped = bundle.without_lines(|index| index == 1);
        assert_eq!(
            dropped.render(Numbering::KEEP).trace,
            b"{\"a\":1}\nnot json\n{\"b\" : 2}"
        );
        let empty = Bundle::of_trace(None, b"");
        assert_eq!(empty.render(Numbering::KEEP).trace, b"");
        assert_eq!(empty.render(Numbering::KEEP).size().events, 0);
        let one = Bundle::of_trace(None, b"x\n");
        assert_eq!(one.render(Numbering::KEEP).trace, b"x\n");
    }

    #[test]
    fn files_follow_their_references_and_the_unreferenced_go() {
        let line = |seq: u64, number: u64| {
            format!(
                r#"{{"seq":{seq},"payload":{{"type":"t","p":{{"raw_payload_id":"raw_payload:{number}","kind":{{"type":"k"}},"path":"payloads/{number}.json"}}}}}}"#
            )
        };
        let trace = format!("{}\n{}\n{}\n", line(4, 5), line(5, 3), line(6, 5));
        let mut bundle = Bundle::of_trace(None, trace.as_bytes());
        for number in [3, 5] {
            bundle = bundle.with_file(&format!("payloads/{number}.json"), vec![b'0' + number]);
        }
        let rendered = bundle
            .without_lines(|index| index == 1)
            .render(Numbering::WRITER);
        assert_eq!(
            String::from_utf8_lossy(&rendered.trace),
            format!("{}\n{}\n", line(1, 1), line(2, 1))
        );
        let files: Vec<(&str, &[u8])> = (rendered.files.iter())
            .map(|(path, file)| (path.as_str(), file.bytes()))
            .collect();
        assert_eq!(files, [("payloads/1.json", b"5".as_slice())]);
        assert_eq!(
            Bundle::from_rendered(&rendered)
                .render(Numbering::WRITER)
                .fingerprint(),
            rendered.fingerprint()
        );
    }
}
