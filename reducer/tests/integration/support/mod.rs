//! Helpers shared by the writer tests: scratch folders, a storage that dies
//! like a killed process, and bundle inspection.

#![allow(dead_code)]

pub mod big_rollout;
pub mod session;

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;

use rollout_trace::raw::RawTraceEvent;
use rollout_trace::writer::LocalDisk;
use rollout_trace::writer::LogFile;
use rollout_trace::writer::Storage;

/// A fresh folder under the system's temporary folder, removed on drop.
pub fn scratch_folder(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("rollout-trace-writer-{label}-"))
        .tempdir()
        .expect("create a scratch folder")
}

/// One call a writer made to its storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    CreateDir(String),
    WriteFile { name: String, sync: bool },
    CreateLog,
    OpenLog { keep_bytes: u64 },
    Append { bytes: usize },
    Sync,
}

/// The local disk, until a budget of operations runs out: the operation
/// after the last allowed one is torn as a killed process would leave it
/// (an append writes only its first bytes, a whole-file write leaves its
/// temporary file and no file), and every later one fails.
#[derive(Clone, Default)]
pub struct FaultyStorage {
    state: Arc<Mutex<FaultState>>,
}

#[derive(Default)]
struct FaultState {
    /// Operations that may still complete; `None` is unlimited.
    remaining: Option<u64>,
    /// Share of a torn append that reaches the disk, in thousandths.
    tear_permille: u64,
    dead: bool,
    journal: Vec<Op>,
}

enum Verdict {
    Run,
    Tear,
    Fail,
}

impl FaultyStorage {
    /// A storage that never fails but keeps a journal.
    pub fn unlimited() -> FaultyStorage {
        FaultyStorage::default()
    }

    /// A storage that completes `operations` operations, tears the next one
    /// (keeping `tear_permille`/1000 of an append) and fails the rest.
    pub fn dying_after(operations: u64, tear_permille: u64) -> FaultyStorage {
        let storage = FaultyStorage::default();
        {
            let mut state = storage.lock();
            state.remaining = Some(operations);
            state.tear_permille = tear_permille.min(999);
        }
        storage
    }

    pub fn journal(&self) -> Vec<Op> {
        self.lock().journal.clone()
    }

    pub fn operations(&self) -> u64 {
        self.lock().journal.len() as u64
    }

    pub fn died(&self) -> bool {
        self.lock().dead
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn admit(&self, op: Op) -> (Verdict, u64) {
        let mut state = self.lock();
        if state.dead {
            return (Verdict::Fail, 0);
        }
        match state.remaining {
            Some(0) => {
                state.dead = true;
                (Verdict::Tear, state.tear_permille)
            }
            Some(ref mut remaining) => {
                *remaining -= 1;
                state.journal.push(op);
                (Verdict::Run, 0)
            }
            None => {
                state.journal.push(op);
                (Verdict::Run, 0)
            }
        }
    }
}

fn killed() -> io::Error {
    io::Error::other("killed by the test")
}

fn name_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned());
    match (parent, name) {
        (Some(parent), Some(name)) if parent == "payloads" => format!("payloads/{name}"),
        (_, Some(name)) => name,
        _ => String::new(),
    }
}

impl Storage for FaultyStorage {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        match self.admit(Op::CreateDir(name_of(path))).0 {
            Verdict::Run => LocalDisk.create_dir_all(path),
            Verdict::Tear | Verdict::Fail => Err(killed()),
        }
    }

    fn write_file(&self, path: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
        let op = Op::WriteFile {
            name: name_of(path),
            sync,
        };
        match self.admit(op).0 {
            Verdict::Run => LocalDisk.write_file(path, contents, sync),
            Verdict::Tear => {
                // Killed before the rename: half a temporary file, no file.
                if let (Some(folder), Some(name)) = (path.parent(), path.file_name()) {
                    let temporary = folder.join(format!(".{}.tmp", name.to_string_lossy()));
                    let _ = fs::write(temporary, &contents[..contents.len() / 2]);
                }
                Err(killed())
            }
            Verdict::Fail => Err(killed()),
        }
    }

    fn create_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        match self.admit(Op::CreateLog).0 {
            Verdict::Run => Ok(Box::new(FaultyLog {
                inner: LocalDisk.create_log(path)?,
                storage: self.clone(),
            })),
            Verdict::Tear | Verdict::Fail => Err(killed()),
        }
    }

    fn open_log(&self, path: &Path, keep_bytes: u64) -> io::Result<Box<dyn LogFile>> {
        match self.admit(Op::OpenLog { keep_bytes }).0 {
            Verdict::Run => Ok(Box::new(FaultyLog {
                inner: LocalDisk.open_log(path, keep_bytes)?,
                storage: self.clone(),
            })),
            Verdict::Tear | Verdict::Fail => Err(killed()),
        }
    }
}

struct FaultyLog {
    inner: Box<dyn LogFile>,
    storage: FaultyStorage,
}

impl LogFile for FaultyLog {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.storage.admit(Op::Append { bytes: bytes.len() }) {
            (Verdict::Run, _) => self.inner.append(bytes),
            (Verdict::Tear, permille) => {
                let kept = (bytes.len() as u64 * permille / 1000) as usize;
                self.inner.append(&bytes[..kept])?;
                Err(killed())
            }
            (Verdict::Fail, _) => Err(killed()),
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        match self.storage.admit(Op::Sync).0 {
            Verdict::Run => self.inner.sync(),
            Verdict::Tear | Verdict::Fail => Err(killed()),
        }
    }
}

/// The complete events of `trace.jsonl` as the reducer reads them (a last
/// line without its newline counts when it decodes), stopping at the first
/// damaged line, and whether there was one.
pub fn complete_events(bundle: &Path) -> (Vec<RawTraceEvent>, bool) {
    let Ok(bytes) = fs::read(bundle.join("trace.jsonl")) else {
        return (Vec::new(), false);
    };
    let mut events = Vec::new();
    for line in bytes.split_inclusive(|&byte| byte == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        match serde_json::from_slice::<RawTraceEvent>(content) {
            Ok(event) => events.push(event),
            Err(_) => return (events, true),
        }
    }
    (events, false)
}

/// Checks the writer's invariants on whatever is on disk: `seq` runs 1, 2,
/// 3, ... over the complete lines, and every payload they reference is a
/// complete JSON file. Returns the complete events.
pub fn check_bundle_invariants(bundle: &Path) -> Vec<RawTraceEvent> {
    let (events, _) = complete_events(bundle);
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.seq, index as u64 + 1, "seq of line {}", index + 1);
        for payload in event.payload.payload_refs() {
            let text = fs::read(bundle.join(&payload.path)).unwrap_or_else(|error| {
                panic!("seq {} references {}: {error}", event.seq, payload.path)
            });
            serde_json::from_slice::<serde_json::Value>(&text).unwrap_or_else(|error| {
                panic!(
                    "seq {} references a damaged {}: {error}",
                    event.seq, payload.path
                )
            });
            let ordinal = payload.raw_payload_id.trim_start_matches("raw_payload:");
            assert_eq!(payload.path, format!("payloads/{ordinal}.json"));
        }
    }
    events
}
