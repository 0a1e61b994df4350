//! Reading ahead: a second thread decodes `trace.jsonl` lines and parses the
//! payload files they reference while the reducer applies earlier events.
//!
//! Payload files are independent of each other and of the reducer state, so
//! parsing them can run ahead. Invariants:
//! - Events reach the reducer in file order through a bounded channel, so the
//!   reduction is the same as without read-ahead. They travel in batches (a
//!   hand-over per event would cost the two threads a wake-up each time, more
//!   than small events cost to reduce): a batch closes at
//!   [`BATCH_LINES`] lines or once its payload files reach [`BATCH_BYTES`],
//!   and at most [`BATCHES_IN_FLIGHT`] wait, so memory held by parsed but not
//!   yet applied payloads stays bounded by a few batches.
//! - A payload that fails to read or parse ahead of time is an error only if
//!   the reducer asks for it: upstream opens some payloads only in some states
//!   (a missing file that is never opened is not an error).
//! - Anything the reducer asks for that was not read ahead (or is asked for a
//!   second time) is read from the bundle as usual.

use std::sync::mpsc::Receiver;
use std::sync::mpsc::Sender;
use std::sync::mpsc::channel;
use std::sync::mpsc::sync_channel;
use std::thread::Scope;

use serde_json::Value;

use crate::Limits;
use crate::bundle::BundleSource;
use crate::bundle::DamagedLine;
use crate::bundle::EventLine;
use crate::bundle::EventLines;
use crate::bundle::PayloadFiles;
use crate::bundle::PayloadSource;
use crate::bundle::RequestPayload;
use crate::bundle::parse_payload;
use crate::bundle::prepare_request;
use crate::error::ReduceError;
use crate::model::RawPayloadRef;
use crate::payload_reads::RereadBudget;
use crate::raw::RawTraceEventPayload;
use crate::shortcuts::Shortcuts;

/// Lines handed over at once, at most.
const BATCH_LINES: usize = 64;

/// Payload file bytes after which a batch is handed over.
const BATCH_BYTES: u64 = 1 << 20;

/// Batches waiting for the reducer, at most (one more is being filled).
const BATCHES_IN_FLIGHT: usize = 1;

/// A payload read ahead: parsed, or (an inference request) scanned; with
/// the size of the file when it could be read.
enum Prepared {
    Document(Result<(Value, u64), ReduceError>),
    Request(Result<(RequestPayload, u64), ReduceError>),
}

impl Prepared {
    /// The size of the file read (0 when it could not be read).
    fn size(&self) -> u64 {
        match self {
            Prepared::Document(Ok((_, size))) | Prepared::Request(Ok((_, size))) => *size,
            Prepared::Document(Err(_)) | Prepared::Request(Err(_)) => 0,
        }
    }
}

/// A payload read ahead with the reference it was read for.
type ReadAhead = (RawPayloadRef, Prepared);

/// One line of the log with the payloads its event is expected to open.
pub(crate) struct PreparedLine {
    pub line: Result<EventLine, DamagedLine>,
    payloads: Vec<ReadAhead>,
}

/// Reads ahead the payloads the reducer may open for `payload`.
fn read_payloads_of(
    payload: &RawTraceEventPayload,
    payloads: &mut dyn PayloadFiles,
    scan_requests: bool,
) -> Vec<ReadAhead> {
    if let RawTraceEventPayload::InferenceStarted {
        request_payload, ..
    } = payload
        && scan_requests
    {
        let request = Prepared::Request(read_request_sized(payloads, request_payload));
        return vec![(request_payload.clone(), request)];
    }
    payload
        .payloads_opened()
        .into_iter()
        .map(|reference| {
            let document = Prepared::Document(read_payload_sized(payloads, reference));
            (reference.clone(), document)
        })
        .collect()
}

/// Reads and parses a payload, with the size of its file.
fn read_payload_sized(
    payloads: &mut dyn PayloadFiles,
    payload: &RawPayloadRef,
) -> Result<(Value, u64), ReduceError> {
    let bytes = payloads.read_payload_bytes(payload)?;
    let size = bytes.len() as u64;
    let value = parse_payload(payload, &bytes, &payloads.limits());
    payloads.recycle(bytes);
    value.map(|value| (value, size))
}

/// Reads and scans (or decodes) a request payload, with the size of its file.
fn read_request_sized(
    payloads: &mut dyn PayloadFiles,
    payload: &RawPayloadRef,
) -> Result<(RequestPayload, u64), ReduceError> {
    let bytes = payloads.read_payload_bytes(payload)?;
    let size = bytes.len() as u64;
    prepare_request(payload, bytes, &payloads.limits()).map(|request| (request, size))
}

/// The lines of a pass, in file order, and (with read-ahead) where to send
/// buffers back to the reading thread.
pub(crate) struct LineFeed<'scope> {
    pub lines: Box<dyn Iterator<Item = PreparedLine> + 'scope>,
    pub recycled: Option<Sender<Vec<u8>>>,
}

/// The lines of the log, decoded (and their payloads parsed) on another
/// thread of `scope` when `read_ahead` is set, on this one otherwise; with
/// read-ahead, also where to send buffers back to the reading thread.
pub(crate) fn prepared_lines<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    source: &'env (dyn BundleSource + Sync),
    limits: Limits,
    read_ahead: bool,
    scan_requests: bool,
) -> Result<LineFeed<'scope>, ReduceError> {
    let trace = source.open_trace()?;
    let lines = EventLines::new(trace, limits);
    if !read_ahead {
        return Ok(LineFeed {
            lines: Box::new(lines.map(|line| PreparedLine {
                line,
                payloads: Vec::new(),
            })),
            recycled: None,
        });
    }
    let (sender, receiver) = sync_channel::<Vec<PreparedLine>>(BATCHES_IN_FLIGHT);
    let (recycled_sender, recycled) = channel::<Vec<u8>>();
    let mut payloads = source.payloads(limits);
    scope.spawn(move || {
        let mut batch = Vec::with_capacity(BATCH_LINES);
        let mut batch_bytes = 0;
        for line in lines {
            // Buffers the reducer is done with: read the next payloads into them.
            while let Ok(buffer) = recycled.try_recv() {
                payloads.recycle(buffer);
            }
            let read = match &line {
                Ok(line) => read_payloads_of(&line.event.payload, payloads.as_mut(), scan_requests),
                Err(_) => Vec::new(),
            };
            batch_bytes += read
                .iter()
                .map(|(_, prepared)| prepared.size())
                .sum::<u64>();
            batch.push(PreparedLine {
                line,
                payloads: read,
            });
            if batch.len() < BATCH_LINES && batch_bytes < BATCH_BYTES {
                continue;
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES));
            batch_bytes = 0;
            // The reducer stopped (an error, or the end of a partial pass).
            if sender.send(full).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = sender.send(batch);
        }
    });
    Ok(LineFeed {
        lines: Box::new(ReceivedLines {
            receiver,
            batch: Vec::new().into_iter(),
        }),
        recycled: Some(recycled_sender),
    })
}

/// The lines of the batches the reading thread sends, in order.
struct ReceivedLines {
    receiver: Receiver<Vec<PreparedLine>>,
    batch: std::vec::IntoIter<PreparedLine>,
}

impl Iterator for ReceivedLines {
    type Item = PreparedLine;

    fn next(&mut self) -> Option<PreparedLine> {
        loop {
            if let Some(line) = self.batch.next() {
                return Some(line);
            }
            self.batch = self.receiver.recv().ok()?.into_iter();
        }
    }
}

/// The payload source the replay loop hands to the reducer: this event's
/// read-ahead documents first, then the bundle.
pub(crate) struct ReadAheadPayloads {
    /// What was read ahead for the event being applied.
    current: Vec<ReadAhead>,
    bundle: Box<dyn PayloadFiles + Send>,
    /// Where buffers go back to the reading thread, when there is one.
    recycled: Option<Sender<Vec<u8>>>,
    /// Off: requests are decoded whole, never scanned.
    scan_requests: bool,
    /// What the reducer read again, against `Limits::max_reread_bytes`.
    rereads: RereadBudget,
    /// Documents handed over from read-ahead, and read at the reducer's ask.
    pub(crate) shortcuts: Shortcuts,
}

impl ReadAheadPayloads {
    pub(crate) fn new(
        bundle: Box<dyn PayloadFiles + Send>,
        scan_requests: bool,
        recycled: Option<Sender<Vec<u8>>>,
    ) -> Self {
        let rereads = RereadBudget::new(bundle.limits().max_reread_bytes);
        ReadAheadPayloads {
            current: Vec::new(),
            bundle,
            recycled,
            scan_requests,
            rereads,
            shortcuts: Shortcuts::default(),
        }
    }

    /// Makes `line`'s documents the ones available, dropping unused earlier ones.
    pub(crate) fn set_current(&mut self, line: &mut PreparedLine) {
        self.current = std::mem::take(&mut line.payloads);
    }

    /// Takes what was read ahead for `payload`, if anything was.
    fn take(&mut self, payload: &RawPayloadRef) -> Option<Prepared> {
        self.current
            .iter()
            .position(|(read, _)| {
                read.raw_payload_id == payload.raw_payload_id && read.path == payload.path
            })
            .map(|position| self.current.swap_remove(position).1)
    }
}

impl PayloadSource for ReadAheadPayloads {
    fn read_payload(&mut self, payload: &RawPayloadRef) -> Result<Value, ReduceError> {
        let (value, size) = match self.take(payload) {
            Some(Prepared::Document(result)) => {
                self.shortcuts.payloads_read_ahead += 1;
                result?
            }
            _ => {
                self.shortcuts.payloads_read_on_demand += 1;
                read_payload_sized(self.bundle.as_mut(), payload)?
            }
        };
        self.rereads.count(payload, size)?;
        Ok(value)
    }

    fn recycle(&mut self, buffer: Vec<u8>) {
        match &self.recycled {
            // The reading thread reads most payloads; it may have stopped.
            Some(sender) => {
                let _ = sender.send(buffer);
            }
            None => self.bundle.recycle(buffer),
        }
    }

    fn read_request(&mut self, payload: &RawPayloadRef) -> Result<RequestPayload, ReduceError> {
        if !self.scan_requests {
            return self.read_payload(payload).map(RequestPayload::Decoded);
        }
        let (request, size) = match self.take(payload) {
            Some(Prepared::Request(result)) => {
                self.shortcuts.payloads_read_ahead += 1;
                result?
            }
            _ => {
                self.shortcuts.payloads_read_on_demand += 1;
                read_request_sized(self.bundle.as_mut(), payload)?
            }
        };
        self.rereads.count(payload, size)?;
        Ok(request)
    }
}
