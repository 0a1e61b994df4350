//! The shared end of every recording handle: the rollout's writer, and the
//! rule that a failure stops recording (reported once) while the runtime goes on.
//!
//! Invariant: handles never see a `WriteError`; every write goes through
//! [`record`], which does nothing for a disabled handle (no sink) or after
//! the first failure.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use super::EventContext;
use super::TracePayload;
use super::TraceWriter;
use super::WriteError;
use crate::model::RawPayloadKind;
use crate::model::RawPayloadRef;

/// Receives the first failure of a rollout's recording.
pub type ErrorHook = Arc<dyn Fn(&WriteError) + Send + Sync>;

/// The writer of one rollout and the failure state its handles share.
pub(super) struct Sink {
    writer: TraceWriter,
    failed: AtomicBool,
    on_error: ErrorHook,
    /// Ordinal of the next `compaction_request:<n>` id.
    next_compaction_request: AtomicU64,
}

impl Sink {
    /// The rollout's writer.
    pub(super) fn writer(&self) -> &TraceWriter {
        &self.writer
    }

    /// Whether recording goes on (no failure so far).
    pub(super) fn is_recording(&self) -> bool {
        !self.failed.load(Ordering::Acquire)
    }

    pub(super) fn new(writer: TraceWriter, on_error: ErrorHook) -> Sink {
        Sink {
            writer,
            failed: AtomicBool::new(false),
            on_error,
            next_compaction_request: AtomicU64::new(1),
        }
    }

    /// Runs one recording step unless recording has stopped; a failure
    /// stops it and is reported if it is the first.
    pub(super) fn record(&self, step: impl FnOnce(&TraceWriter) -> Result<(), WriteError>) {
        if self.failed.load(Ordering::Acquire) {
            return;
        }
        if let Err(error) = step(&self.writer) {
            self.fail(&error);
        }
    }

    fn fail(&self, error: &WriteError) {
        if !self.failed.swap(true, Ordering::AcqRel) {
            (self.on_error)(error);
        }
    }

    pub(super) fn next_compaction_request_id(&self) -> String {
        let ordinal = self.next_compaction_request.fetch_add(1, Ordering::SeqCst);
        format!("compaction_request:{ordinal}")
    }
}

impl Drop for Sink {
    /// The last handle of a rollout flushes its buffered lines.
    fn drop(&mut self) {
        if self.failed.load(Ordering::Acquire) {
            return;
        }
        if let Err(error) = self.writer.flush() {
            self.fail(&error);
        }
    }
}

/// Runs `step` on the sink of an enabled handle.
pub(super) fn record(
    sink: &Option<Arc<Sink>>,
    step: impl FnOnce(&TraceWriter) -> Result<(), WriteError>,
) {
    if let Some(sink) = sink {
        sink.record(step);
    }
}

/// Writes an optional payload and returns its reference.
pub(super) fn optional_payload(
    writer: &TraceWriter,
    kind: RawPayloadKind,
    value: Option<&dyn TracePayload>,
) -> Result<Option<RawPayloadRef>, WriteError> {
    value
        .map(|value| writer.write_payload(kind, value))
        .transpose()
}

/// The thread and turn a handle records for.
#[derive(Clone, Debug)]
pub(super) struct TurnScope {
    pub(super) thread_id: Arc<str>,
    pub(super) codex_turn_id: Arc<str>,
}

impl TurnScope {
    /// The envelope context of the turn's events.
    pub(super) fn context(&self) -> EventContext {
        EventContext::turn(&*self.thread_id, &*self.codex_turn_id)
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("writer", &self.writer)
            .field("failed", &self.failed.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}
