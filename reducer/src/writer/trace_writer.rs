//! `TraceWriter`: creates or resumes one bundle folder and appends payload
//! files and event lines to it, safely from many threads.
//!
//! Invariants:
//! - `seq` is assigned, stamped with the clock and placed in the log under
//!   one lock, so lines appear in the file in `seq` order, each line whole,
//!   and `seq` grows by exactly one from line to line.
//! - A payload file is complete on disk before `write_payload` returns its
//!   reference, hence before any event that carries the reference exists.
//! - After a failed write to the event log nothing more is written (the
//!   writer is stopped): the log never gets a line after a damaged one.

use std::fmt;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::OnceLock;
use std::sync::PoisonError;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::Clock;
use super::LocalDisk;
use super::LogFile;
use super::Storage;
use super::SystemClock;
use super::WriteError;
use super::WriteErrorKind;
use super::resume;
use crate::model::RawPayloadKind;
use crate::model::RawPayloadRef;
use crate::raw::MANIFEST_FILE_NAME;
use crate::raw::PAYLOADS_DIR_NAME;
use crate::raw::RAW_EVENT_SCHEMA_VERSION;
use crate::raw::RawTraceEvent;
use crate::raw::RawTraceEventPayload;
use crate::raw::TRACE_FILE_NAME;
use crate::raw::TraceBundleManifest;

/// Manifest schema version written by the reference writer.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// When event lines leave the writer's memory.
///
/// Whatever the policy, payload files are written when `write_payload` is
/// called, so they always reach the disk before the lines that reference
/// them; and whatever a crash leaves, `--partial` reduces every complete
/// line (a crash can only damage the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushPolicy {
    /// Each line is handed to the operating system before `append` returns
    /// (the reference writer's behaviour). A killed process loses nothing it
    /// recorded; a power failure can lose what the OS had not yet stored.
    #[default]
    EveryEvent,
    /// As `EveryEvent`, and each payload file and each line is also synced
    /// to stable storage before the call returns: survives power failures,
    /// at the cost of one or two disk syncs per call.
    EveryEventSynced,
    /// Lines collect in memory and are written when they reach
    /// `capacity_bytes`, on `flush`/`sync`, and when the writer is dropped.
    /// A killed process loses the lines still in memory (never a payload an
    /// earlier line references).
    Buffered { capacity_bytes: usize },
}

impl FlushPolicy {
    /// `Buffered` with a 64 KiB buffer.
    pub fn buffered() -> Self {
        FlushPolicy::Buffered {
            capacity_bytes: 64 * 1024,
        }
    }

    fn syncs(self) -> bool {
        self == FlushPolicy::EveryEventSynced
    }
}

/// How a writer stamps, stores and flushes.
#[derive(Clone)]
pub struct WriterOptions {
    pub flush: FlushPolicy,
    /// Source of `started_at_unix_ms` and every `wall_time_unix_ms`.
    pub clock: Arc<dyn Clock>,
    /// Where the bytes go; the local disk unless a test injects faults.
    pub storage: Arc<dyn Storage>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            flush: FlushPolicy::default(),
            clock: Arc::new(SystemClock),
            storage: Arc::new(LocalDisk),
        }
    }
}

impl WriterOptions {
    pub fn with_flush(mut self, flush: FlushPolicy) -> Self {
        self.flush = flush;
        self
    }

    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn with_storage(mut self, storage: impl Storage + 'static) -> Self {
        self.storage = Arc::new(storage);
        self
    }
}

impl fmt::Debug for WriterOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterOptions")
            .field("flush", &self.flush)
            .finish_non_exhaustive()
    }
}

/// The identity a new bundle's manifest records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleIdentity {
    pub trace_id: String,
    /// The reference producer uses the root thread id.
    pub rollout_id: String,
    pub root_thread_id: String,
}

impl BundleIdentity {
    /// The reference producer's identity: `rollout_id` is the root thread id.
    pub fn new(trace_id: impl Into<String>, root_thread_id: impl Into<String>) -> Self {
        let root_thread_id = root_thread_id.into();
        BundleIdentity {
            trace_id: trace_id.into(),
            rollout_id: root_thread_id.clone(),
            root_thread_id,
        }
    }
}

/// A fresh trace id as the reference producer makes it: a random UUID v4,
/// lowercase and hyphenated.
pub fn new_trace_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The envelope context of one event (`trace-format.md` §4.4 says which
/// events carry which parts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventContext {
    pub thread_id: Option<String>,
    pub codex_turn_id: Option<String>,
}

impl EventContext {
    /// No context: both members are written as `null`.
    pub fn none() -> Self {
        EventContext::default()
    }

    pub fn thread(thread_id: impl Into<String>) -> Self {
        EventContext {
            thread_id: Some(thread_id.into()),
            codex_turn_id: None,
        }
    }

    pub fn turn(thread_id: impl Into<String>, codex_turn_id: impl Into<String>) -> Self {
        EventContext {
            thread_id: Some(thread_id.into()),
            codex_turn_id: Some(codex_turn_id.into()),
        }
    }
}

/// A value that can be stored as a payload file: anything `Serialize`.
///
/// This is an object-safe face of `Serialize`, so recording methods take
/// `&dyn TracePayload` (and `Option<&dyn TracePayload>`, where `None` needs
/// no type annotation).
pub trait TracePayload {
    /// The payload file's text: pretty JSON, two-space indentation, no
    /// trailing newline.
    fn to_payload_json(&self) -> serde_json::Result<Vec<u8>>;
}

impl<T: Serialize + ?Sized> TracePayload for T {
    fn to_payload_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec_pretty(self)
    }
}

/// A payload built only when it is written: `LazyPayload(|| build())`.
/// A disabled recorder never calls the closure.
pub struct LazyPayload<F>(pub F);

impl<F, T> Serialize for LazyPayload<F>
where
    F: Fn() -> T,
    T: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.0)().serialize(serializer)
    }
}

/// What `resume` found and cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeReport {
    /// Events kept in the log.
    pub kept_events: u64,
    /// Bytes removed from the end of the log (a damaged last line).
    pub cut_bytes: u64,
    /// Why they were removed, naming the line.
    pub cut_reason: Option<String>,
    /// The last event had lost its newline (a crash between the event and
    /// its `\n`); the event was kept and the newline added.
    pub added_newline: bool,
}

/// The writer of one bundle. `Send + Sync`: share it with `Arc`.
pub struct TraceWriter {
    folder: PathBuf,
    trace_path: PathBuf,
    manifest: TraceBundleManifest,
    flush: FlushPolicy,
    clock: Arc<dyn Clock>,
    storage: Arc<dyn Storage>,
    next_payload_ordinal: AtomicU64,
    log: Mutex<Log>,
    /// The first failure of the event log; set once, then every call fails.
    stopped: OnceLock<String>,
    resumed: Option<ResumeReport>,
}

/// The event log and what belongs to it, under the writer's lock.
struct Log {
    file: Box<dyn LogFile>,
    next_seq: u64,
    /// Serialized lines not yet appended to the file (`Buffered` only).
    pending: Vec<u8>,
    /// Seq of the first line in `pending`.
    pending_first_seq: u64,
}

impl TraceWriter {
    /// Creates a new bundle in `folder` (created if needed): `payloads/`,
    /// an empty `trace.jsonl`, then `manifest.json` stamped with the clock.
    ///
    /// Refused with `BundleExists` when the folder already holds a manifest,
    /// an event log or payload files. (The reference writer silently starts
    /// over there, restarting `seq` and overwriting payloads; use `resume`
    /// to continue a bundle.)
    pub fn create(
        folder: impl AsRef<Path>,
        identity: BundleIdentity,
        options: WriterOptions,
    ) -> Result<TraceWriter, WriteError> {
        let folder = folder.as_ref().to_path_buf();
        if let Some(existing) = resume::existing_bundle_file(&folder) {
            return Err(already_holds_a_bundle(&folder, &existing));
        }
        let payloads = folder.join(PAYLOADS_DIR_NAME);
        options.storage.create_dir_all(&payloads).map_err(|error| {
            WriteError::io(
                format!("create bundle folder {}", payloads.display()),
                error,
            )
        })?;
        let trace_path = folder.join(TRACE_FILE_NAME);
        // Creating the log is the step that claims the folder: of two
        // writers racing for it, exactly one gets past here.
        let file = options
            .storage
            .create_log(&trace_path)
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::AlreadyExists => {
                    already_holds_a_bundle(&folder, TRACE_FILE_NAME)
                }
                _ => WriteError::io(format!("create {}", trace_path.display()), error),
            })?;
        let manifest = TraceBundleManifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            trace_id: identity.trace_id,
            rollout_id: identity.rollout_id,
            root_thread_id: identity.root_thread_id,
            started_at_unix_ms: options.clock.now_unix_ms(),
            raw_event_log: TRACE_FILE_NAME.to_string(),
            payloads_dir: PAYLOADS_DIR_NAME.to_string(),
        };
        let manifest_path = folder.join(MANIFEST_FILE_NAME);
        let text = serde_json::to_vec_pretty(&manifest).map_err(|error| {
            WriteError::new(
                WriteErrorKind::Encode,
                format!("encode {}: {error}", manifest_path.display()),
            )
        })?;
        options
            .storage
            .write_file(&manifest_path, &text, options.flush.syncs())
            .map_err(|error| WriteError::io(format!("write {}", manifest_path.display()), error))?;
        Ok(TraceWriter::assemble(
            folder, trace_path, manifest, options, file, 1, 1, None,
        ))
    }

    /// Continues the bundle in `folder`: `seq` goes on after the last event
    /// and payload numbering after the highest `payloads/<n>.json` (or
    /// payload id in the log). A damaged end of the log (the part of a line
    /// a crash left, which does not decode) is cut off first; a last event
    /// that decodes but lost its newline is kept and the newline added. The
    /// manifest is left as it is.
    ///
    /// Refused with `NotABundle` without a decodable manifest, and with
    /// `DamagedLog` when cutting the damage would remove a complete event or
    /// when `seq` does not grow by one in the log.
    pub fn resume(
        folder: impl AsRef<Path>,
        options: WriterOptions,
    ) -> Result<TraceWriter, WriteError> {
        let folder = folder.as_ref().to_path_buf();
        let manifest = resume::read_manifest(&folder)?;
        let trace_path = folder.join(TRACE_FILE_NAME);
        let scan = resume::scan_log(&trace_path)?;
        let payloads = folder.join(PAYLOADS_DIR_NAME);
        let highest_file = resume::highest_payload_file(&payloads)?;
        options.storage.create_dir_all(&payloads).map_err(|error| {
            WriteError::io(
                format!("create bundle folder {}", payloads.display()),
                error,
            )
        })?;
        let mut file = options
            .storage
            .open_log(&trace_path, scan.keep_bytes)
            .map_err(|error| WriteError::io(format!("open {}", trace_path.display()), error))?;
        if scan.missing_newline {
            file.append(b"\n").map_err(|error| {
                WriteError::io(
                    format!("end the last line of {}", trace_path.display()),
                    error,
                )
            })?;
        }
        let next_seq = scan.last_seq.map_or(1, |seq| seq.saturating_add(1));
        let next_payload = scan.highest_payload_ordinal.max(highest_file) + 1;
        let report = ResumeReport {
            kept_events: scan.events,
            cut_bytes: scan.cut_bytes,
            cut_reason: scan.cut_reason,
            added_newline: scan.missing_newline,
        };
        Ok(TraceWriter::assemble(
            folder,
            trace_path,
            manifest,
            options,
            file,
            next_seq,
            next_payload,
            Some(report),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        folder: PathBuf,
        trace_path: PathBuf,
        manifest: TraceBundleManifest,
        options: WriterOptions,
        file: Box<dyn LogFile>,
        next_seq: u64,
        next_payload_ordinal: u64,
        resumed: Option<ResumeReport>,
    ) -> TraceWriter {
        TraceWriter {
            folder,
            trace_path,
            manifest,
            flush: options.flush,
            clock: options.clock,
            storage: options.storage,
            next_payload_ordinal: AtomicU64::new(next_payload_ordinal),
            log: Mutex::new(Log {
                file,
                next_seq,
                pending: Vec::new(),
                pending_first_seq: next_seq,
            }),
            stopped: OnceLock::new(),
            resumed,
        }
    }

    /// The bundle folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The manifest as written (or as found by `resume`).
    pub fn manifest(&self) -> &TraceBundleManifest {
        &self.manifest
    }

    pub fn flush_policy(&self) -> FlushPolicy {
        self.flush
    }

    /// What `resume` kept and cut; `None` for a writer made by `create`.
    pub fn resume_report(&self) -> Option<&ResumeReport> {
        self.resumed.as_ref()
    }

    /// The `seq` the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.lock_log().next_seq
    }

    /// The ordinal `n` of the next payload (`raw_payload:<n>`).
    pub fn next_payload_ordinal(&self) -> u64 {
        self.next_payload_ordinal.load(Ordering::SeqCst)
    }

    /// Writes `value` as the next payload file, `payloads/<n>.json`, and
    /// returns its reference `raw_payload:<n>` with `kind`. The file is
    /// complete when this returns.
    pub fn write_payload(
        &self,
        kind: RawPayloadKind,
        value: &dyn TracePayload,
    ) -> Result<RawPayloadRef, WriteError> {
        self.check_running()?;
        let text = value.to_payload_json().map_err(|error| {
            WriteError::new(
                WriteErrorKind::Encode,
                format!(
                    "encode a {kind:?} payload for {}: {error}",
                    self.folder.display()
                ),
            )
        })?;
        let ordinal = self.next_payload_ordinal.fetch_add(1, Ordering::SeqCst);
        let relative = format!("{PAYLOADS_DIR_NAME}/{ordinal}.json");
        let path = self
            .folder
            .join(PAYLOADS_DIR_NAME)
            .join(format!("{ordinal}.json"));
        self.storage
            .write_file(&path, &text, self.flush.syncs())
            .map_err(|error| WriteError::io(format!("write {}", path.display()), error))?;
        Ok(RawPayloadRef {
            raw_payload_id: format!("raw_payload:{ordinal}"),
            kind,
            path: relative,
        })
    }

    /// Appends one event with the next `seq` and the clock's time, and
    /// returns its `seq`. Whether the line is on disk when this returns
    /// depends on the flush policy.
    pub fn append(
        &self,
        context: EventContext,
        payload: RawTraceEventPayload,
    ) -> Result<u64, WriteError> {
        let mut log = self.lock_log();
        self.check_running()?;
        let seq = log.next_seq;
        let event = RawTraceEvent {
            schema_version: RAW_EVENT_SCHEMA_VERSION,
            seq,
            wall_time_unix_ms: self.clock.now_unix_ms(),
            rollout_id: self.manifest.rollout_id.clone(),
            thread_id: context.thread_id,
            codex_turn_id: context.codex_turn_id,
            payload,
        };
        let start = log.pending.len();
        if start == 0 {
            log.pending_first_seq = seq;
        }
        if let Err(error) = serde_json::to_writer(&mut log.pending, &event) {
            log.pending.truncate(start);
            return Err(WriteError::new(
                WriteErrorKind::Encode,
                format!(
                    "encode event seq {seq} ({}) for {}: {error}",
                    event.payload.type_name(),
                    self.trace_path.display()
                ),
            ));
        }
        log.pending.push(b'\n');
        log.next_seq = seq.saturating_add(1);
        let write_now = match self.flush {
            FlushPolicy::EveryEvent | FlushPolicy::EveryEventSynced => true,
            FlushPolicy::Buffered { capacity_bytes } => log.pending.len() >= capacity_bytes,
        };
        if write_now {
            self.write_pending(&mut log, self.flush.syncs())?;
        }
        Ok(seq)
    }

    /// Hands every buffered line to the operating system.
    pub fn flush(&self) -> Result<(), WriteError> {
        let mut log = self.lock_log();
        self.check_running()?;
        self.write_pending(&mut log, self.flush.syncs())
    }

    /// Flushes, then puts the whole log on stable storage.
    pub fn sync(&self) -> Result<(), WriteError> {
        let mut log = self.lock_log();
        self.check_running()?;
        self.write_pending(&mut log, true)
    }

    fn write_pending(&self, log: &mut Log, sync: bool) -> Result<(), WriteError> {
        let result = if log.pending.is_empty() {
            Ok(())
        } else {
            log.file.append(&log.pending)
        };
        let result = result.and_then(|()| if sync { log.file.sync() } else { Ok(()) });
        let first = log.pending_first_seq;
        let last = log.next_seq.saturating_sub(1);
        let had_lines = !log.pending.is_empty();
        log.pending.clear();
        log.pending_first_seq = log.next_seq;
        let Err(error) = result else {
            return Ok(());
        };
        let what = match (had_lines, first == last) {
            (false, _) => format!("sync {}", self.trace_path.display()),
            (true, true) => format!("append event seq {first} to {}", self.trace_path.display()),
            (true, false) => format!(
                "append events seq {first} to {last} to {}",
                self.trace_path.display()
            ),
        };
        let error = WriteError::io(what, error);
        let _ = self.stopped.set(error.to_string());
        Err(error)
    }

    fn check_running(&self) -> Result<(), WriteError> {
        match self.stopped.get() {
            None => Ok(()),
            Some(first) => Err(WriteError::new(
                WriteErrorKind::Stopped,
                format!(
                    "trace writer for {} stopped after an earlier failure ({first})",
                    self.folder.display()
                ),
            )),
        }
    }

    fn lock_log(&self) -> MutexGuard<'_, Log> {
        // A panic under the lock (in a clock, say) leaves the log itself
        // consistent: lines are only ever added whole.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for TraceWriter {
    /// Flushes buffered lines. A failure here cannot be reported: call
    /// `flush` first to see it.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl fmt::Debug for TraceWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceWriter")
            .field("folder", &self.folder)
            .field("manifest", &self.manifest)
            .field("flush", &self.flush)
            .field("stopped", &self.stopped.get())
            .finish_non_exhaustive()
    }
}

fn already_holds_a_bundle(folder: &Path, existing: &str) -> WriteError {
    WriteError::new(
        WriteErrorKind::BundleExists,
        format!(
            "bundle folder {} already holds a bundle ({existing} exists): resume it with TraceWriter::resume or choose another folder",
            folder.display()
        ),
    )
}
