//! Following a live bundle: the fold fed only what the event log gained.
//!
//! A `Follower` reads `trace.jsonl` from where it stopped, applies every
//! complete line through the same line stepper as a batch replay, and can
//! give, at any moment, the reduction a batch replay of the complete lines
//! would give.
//!
//! Invariants:
//! - The history is read once: each poll reads from the byte after the last
//!   line applied; nothing before it is read or parsed again (except in
//!   partial mode after the reducer failed mid-event, when the state before
//!   that line is rebuilt once, as batch replay rebuilds it).
//! - A last line without its newline is a write in progress: it is never
//!   applied nor reported as damage while it may still grow (only a line
//!   already longer than `Limits::max_line_bytes` is damage).
//! - An event whose payload files are not there yet waits for them (a live
//!   writer writes payloads first, but they may land late) up to
//!   `payload_timeout`; then it is applied, and fails as batch replay fails.
//! - `reduction()` equals batch replay of the lines applied so far: same
//!   stepper, same payload asks (no read-ahead), same end-of-replay rules.

use std::fs::File;
use std::io::Read;
use std::io::Seek;
use std::io::SeekFrom;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use crate::ReduceOptions;
use crate::bundle::BundleLocation;
use crate::bundle::BundleSource;
use crate::bundle::EventLines;
use crate::bundle::confined_payload_path;
use crate::error::ReduceError;
use crate::raw::RawTraceEventPayload;
use crate::read_ahead::ReadAheadPayloads;
use crate::reduce::Reduction;
use crate::replay::LineStepper;
use crate::replay::Step;
use crate::replay::stopped_diagnostic;

/// How long an event waits for the payload files it opens, by default.
pub const DEFAULT_PAYLOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// What a poll found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    /// Events applied by this poll.
    pub events: u64,
    /// What the follower waits for, if anything (the manifest, the log, a
    /// payload file, the rest of a line being written).
    pub waiting_for: Option<String>,
}

/// A reducer that follows a bundle as it is written.
pub struct Follower {
    location: BundleLocation,
    options: ReduceOptions,
    payload_timeout: Duration,
    phase: Phase,
}

enum Phase {
    /// No decodable manifest yet: (when it was first seen not to decode, why).
    Waiting(Option<(Instant, ReduceError)>),
    Following(Box<Following>),
    /// Partial mode, after the reducer failed mid-event: the state before
    /// that line, rebuilt once, and where it stopped.
    Frozen(Box<Reduction>, u64, ReduceError),
    /// Strict mode: the bundle is rejected.
    Failed(ReduceError),
}

struct Following {
    stepper: LineStepper,
    payloads: ReadAheadPayloads,
    /// The last line applied (or skipped as blank before it) and the byte after it.
    line_number: u64,
    offset: u64,
    /// Partial mode: the damaged or out-of-sequence line it stopped before.
    stopped: Option<(u64, ReduceError)>,
    /// A payload file the next event waits for, and since when.
    waiting_since: Option<(u64, Instant)>,
    rollout_ended: bool,
}

impl Follower {
    /// Follows the bundle at `path` (its folder; it may not exist yet).
    pub fn new(path: impl AsRef<Path>, options: ReduceOptions) -> Follower {
        let path = path.as_ref();
        let location = if path.is_file() {
            BundleLocation::locate(path)
        } else {
            BundleLocation {
                root: path.to_path_buf(),
                trace_path: path.join(crate::raw::TRACE_FILE_NAME),
            }
        };
        Follower {
            location,
            options,
            payload_timeout: DEFAULT_PAYLOAD_TIMEOUT,
            phase: Phase::Waiting(None),
        }
    }

    /// How long an event waits for its payload files (and a manifest that
    /// does not decode for the rest of it) before it is applied as it is.
    pub fn with_payload_timeout(mut self, timeout: Duration) -> Follower {
        self.payload_timeout = timeout;
        self
    }

    /// The bundle folder followed.
    pub fn root(&self) -> &Path {
        &self.location.root
    }

    /// Whether a `rollout_ended` event has been applied.
    pub fn rollout_ended(&self) -> bool {
        matches!(&self.phase, Phase::Following(following) if following.rollout_ended)
    }

    /// Events applied so far.
    pub fn events(&self) -> u64 {
        match &self.phase {
            Phase::Following(following) => following.stepper.reducer.events(),
            Phase::Frozen(reduction, ..) => reduction.events,
            _ => 0,
        }
    }

    /// Reads what the log gained since the last poll and applies every
    /// complete line. An error is the bundle's rejection, as batch replay
    /// reports it (strict mode); it is returned again by later polls.
    pub fn poll(&mut self) -> Result<Polled, ReduceError> {
        if let Phase::Waiting(since) = &mut self.phase {
            match start(&self.location, &self.options, since, self.payload_timeout)? {
                Some(following) => self.phase = Phase::Following(Box::new(following)),
                None => {
                    return Ok(Polled {
                        events: 0,
                        waiting_for: Some(format!(
                            "{} and {}",
                            crate::raw::MANIFEST_FILE_NAME,
                            crate::raw::TRACE_FILE_NAME
                        )),
                    });
                }
            }
        }
        let following = match &mut self.phase {
            Phase::Following(following) => following,
            Phase::Failed(error) => return Err(error.clone()),
            Phase::Frozen(..) | Phase::Waiting(_) => return Ok(Polled::default()),
        };
        match following.advance(&self.location, &self.options, self.payload_timeout) {
            Ok(Advance::Polled(polled)) => Ok(polled),
            Ok(Advance::Rewind(polled, line_number, error)) => {
                let before = rebuild_before(&self.location, &self.options, line_number)?;
                self.phase = Phase::Frozen(Box::new(before), line_number, error);
                Ok(polled)
            }
            Err(error) => {
                self.phase = Phase::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// The reduction of the lines applied so far, as batch replay of them
    /// gives it; `None` before the manifest could be read.
    pub fn reduction(&self) -> Result<Option<Reduction>, ReduceError> {
        let (mut reduction, stopped) = match &self.phase {
            Phase::Waiting(_) => return Ok(None),
            Phase::Failed(error) => return Err(error.clone()),
            Phase::Following(following) => (
                following.stepper.snapshot()?,
                following
                    .stopped
                    .as_ref()
                    .map(|(line, error)| (*line, error)),
            ),
            Phase::Frozen(reduction, line, error) => ((**reduction).clone(), Some((*line, error))),
        };
        if let Some((line_number, error)) = stopped {
            reduction
                .diagnostics
                .push(stopped_diagnostic(&self.location, line_number, error));
        }
        Ok(Some(reduction))
    }
}

/// The follower's start once the manifest decodes and the log exists.
fn start(
    location: &BundleLocation,
    options: &ReduceOptions,
    since: &mut Option<(Instant, ReduceError)>,
    timeout: Duration,
) -> Result<Option<Following>, ReduceError> {
    if !location.manifest_path().is_file() || !location.trace_path.is_file() {
        return Ok(None);
    }
    let manifest = match location.read_manifest(&options.limits) {
        Ok(manifest) => manifest,
        // A manifest being written does not decode yet; one that stays so is
        // the error batch replay reports.
        Err(error) => {
            let (first, _) = since.get_or_insert_with(|| (Instant::now(), error.clone()));
            if first.elapsed() >= timeout {
                return Err(error);
            }
            return Ok(None);
        }
    };
    Ok(Some(Following {
        stepper: LineStepper::new(&manifest, options),
        payloads: ReadAheadPayloads::new(
            location.payloads(options.limits),
            options.scan_requests,
            None,
        ),
        line_number: 0,
        offset: 0,
        stopped: None,
        waiting_since: None,
        rollout_ended: false,
    }))
}

/// What `advance` did.
enum Advance {
    Polled(Polled),
    /// Partial mode: the reducer failed on this line mid-event.
    Rewind(Polled, u64, ReduceError),
}

impl Following {
    fn advance(
        &mut self,
        location: &BundleLocation,
        options: &ReduceOptions,
        timeout: Duration,
    ) -> Result<Advance, ReduceError> {
        let mut polled = Polled::default();
        if self.stopped.is_some() {
            return Ok(Advance::Polled(polled));
        }
        loop {
            let chunk = read_from(
                &location.trace_path,
                self.offset,
                options.limits.max_line_bytes,
            )?;
            let complete = chunk
                .iter()
                .rposition(|&byte| byte == b'\n')
                .map_or(0, |at| at + 1);
            // A line in progress, unless it can no longer be a valid line.
            let damaged_tail = complete == 0 && chunk.len() > options.limits.max_line_bytes;
            let usable = if damaged_tail { chunk.len() } else { complete };
            if usable == 0 {
                if !chunk.is_empty() {
                    polled.waiting_for = Some("the rest of a line being written".to_string());
                }
                return Ok(Advance::Polled(polled));
            }
            let mut lines = EventLines::resume(
                &chunk[..usable],
                options.limits,
                self.line_number,
                self.offset,
            );
            for line in lines.by_ref() {
                if let Ok(event_line) = &line
                    && let Some(missing) = self.missing_payload(
                        location,
                        &event_line.event.payload,
                        event_line.end_offset,
                        timeout,
                    )
                {
                    polled.waiting_for = Some(format!("payload file {missing}"));
                    return Ok(Advance::Polled(polled));
                }
                let (line_number, end_offset) = match &line {
                    Ok(line) => (line.line_number, line.end_offset),
                    Err(damaged) => (damaged.line_number, damaged.end_offset),
                };
                let ends_rollout = matches!(
                    &line,
                    Ok(line) if matches!(line.event.payload, RawTraceEventPayload::RolloutEnded { .. })
                );
                match self.stepper.step(line, &mut self.payloads)? {
                    Step::Applied => {
                        polled.events += 1;
                        self.rollout_ended |= ends_rollout;
                    }
                    Step::Stop { line_number, error } => {
                        self.stopped = Some((line_number, error));
                        return Ok(Advance::Polled(polled));
                    }
                    Step::Rewind { line_number, error } => {
                        return Ok(Advance::Rewind(polled, line_number, error));
                    }
                }
                self.line_number = line_number;
                self.offset = end_offset;
                self.waiting_since = None;
            }
            // Blank lines after the last event count too.
            self.line_number = lines.line_number();
            self.offset = lines.offset();
            if damaged_tail {
                return Ok(Advance::Polled(polled));
            }
        }
    }

    /// The first payload file `payload` opens that is not there yet, while
    /// the event (ending at `end_offset`) may still wait for it.
    fn missing_payload(
        &mut self,
        location: &BundleLocation,
        payload: &RawTraceEventPayload,
        end_offset: u64,
        timeout: Duration,
    ) -> Option<String> {
        let missing = payload.payloads_opened().into_iter().find(|reference| {
            // A path that may not be opened is the reducer's error to give.
            confined_payload_path(&location.root, None, &reference.path)
                .is_ok_and(|path| matches!(path.try_exists(), Ok(false)))
        })?;
        let (line_end, since) = self
            .waiting_since
            .get_or_insert_with(|| (end_offset, Instant::now()));
        if *line_end != end_offset {
            *line_end = end_offset;
            *since = Instant::now();
        }
        (since.elapsed() < timeout).then(|| missing.path.clone())
    }
}

/// Up to `max_line_bytes + 2` bytes of the log from `offset`: enough to hold
/// one whole line of the longest length accepted, with its terminator.
fn read_from(path: &PathBuf, offset: u64, max_line_bytes: usize) -> Result<Vec<u8>, ReduceError> {
    let read_error = |error: std::io::Error| {
        ReduceError::caused(format!("read trace event log {}", path.display()), error)
    };
    let mut file = File::open(path).map_err(read_error)?;
    file.seek(SeekFrom::Start(offset)).map_err(read_error)?;
    let wanted = (max_line_bytes as u64).saturating_add(2).max(1 << 20);
    let mut chunk = Vec::new();
    file.take(wanted)
        .read_to_end(&mut chunk)
        .map_err(read_error)?;
    Ok(chunk)
}

/// Partial mode after a mid-event failure on `line_number`: the reduction
/// of the lines before it, as batch replay rebuilds it.
fn rebuild_before(
    location: &BundleLocation,
    options: &ReduceOptions,
    line_number: u64,
) -> Result<Reduction, ReduceError> {
    let manifest = location.read_manifest(&options.limits)?;
    let mut stepper = LineStepper::new(&manifest, options);
    let mut payloads = ReadAheadPayloads::new(
        location.payloads(options.limits),
        options.scan_requests,
        None,
    );
    let trace = location.open_trace()?;
    for line in EventLines::new(trace, options.limits) {
        let number = match &line {
            Ok(line) => line.line_number,
            Err(damaged) => damaged.line_number,
        };
        if number >= line_number {
            break;
        }
        stepper.step(line, &mut payloads)?;
    }
    stepper.finish()
}
