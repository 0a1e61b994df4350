//! Replaying a bundle on disk: the loop over `trace.jsonl` around the reducer.
//!
//! The loop checks what upstream does not (policy P3: `seq` starts at the
//! first event's value and grows by one) and, in partial mode (policy P4),
//! stops at the first damaged or inconsistent line instead of failing,
//! keeping exactly the effects of the events before it.

use std::io::BufRead;
use std::path::Path;

use crate::Limits;
use crate::bundle::BundleLocation;
use crate::bundle::BundleSource;
use crate::bundle::DamagedLine;
use crate::bundle::EventLine;
use crate::bundle::PayloadSource;
use crate::error::Diagnostic;
use crate::error::Place;
use crate::error::ReduceError;
use crate::raw::TRACE_FILE_NAME;
use crate::raw::TraceBundleManifest;
use crate::read_ahead::ReadAheadPayloads;
use crate::read_ahead::prepared_lines;
use crate::reduce::Reducer;
use crate::reduce::Reduction;

/// How to reduce a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReduceOptions {
    /// Reduce the events before the first damaged or inconsistent line
    /// instead of rejecting the bundle; what was skipped becomes diagnostics.
    pub partial: bool,
    pub limits: Limits,
    /// Decode lines and parse payloads on a second thread, ahead of the
    /// reducer. The result is the same either way; on by default.
    pub read_ahead: bool,
    /// Scan inference requests and decode only the items that changed since
    /// the thread's previous request. The result is the same either way; on
    /// by default.
    pub scan_requests: bool,
}

impl Default for ReduceOptions {
    fn default() -> Self {
        ReduceOptions {
            partial: false,
            limits: Limits::default(),
            read_ahead: true,
            scan_requests: true,
        }
    }
}

/// Reduces the bundle at `path` (its folder, or its `trace.jsonl`).
pub fn reduce_bundle(path: impl AsRef<Path>) -> Result<Reduction, ReduceError> {
    reduce_bundle_with(path, &ReduceOptions::default())
}

/// Reduces the bundle at `path` with `options`.
pub fn reduce_bundle_with(
    path: impl AsRef<Path>,
    options: &ReduceOptions,
) -> Result<Reduction, ReduceError> {
    reduce_source(&BundleLocation::locate(path.as_ref()), options)
}

/// How far a reduction has got, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of `trace.jsonl` read so far.
    pub trace_bytes_read: u64,
    /// The size of `trace.jsonl`, when known.
    pub trace_bytes: Option<u64>,
    /// Events applied so far.
    pub events: u64,
}

/// Reduces the bundle `source` describes.
pub fn reduce_source(
    source: &(dyn BundleSource + Sync),
    options: &ReduceOptions,
) -> Result<Reduction, ReduceError> {
    reduce_source_observed(source, options, &mut |_| {})
}

/// Reduces the bundle at `path`, reporting progress after each event.
pub fn reduce_bundle_observed(
    path: impl AsRef<Path>,
    options: &ReduceOptions,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Reduction, ReduceError> {
    reduce_source_observed(&BundleLocation::locate(path.as_ref()), options, on_progress)
}

/// Reduces the bundle `source` describes, reporting progress after each event.
pub fn reduce_source_observed(
    source: &(dyn BundleSource + Sync),
    options: &ReduceOptions,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Reduction, ReduceError> {
    let (mut reduction, stopped) = match replay(source, options, None, on_progress)? {
        Pass::Done { reduction, stopped } => (*reduction, stopped),
        Pass::Rewind { line_number, error } => {
            // The failing event may have changed the state before it failed;
            // a second pass up to it gives exactly the state before it.
            match replay(source, options, Some(line_number), on_progress)? {
                Pass::Done { reduction, .. } => (*reduction, Some((line_number, error))),
                Pass::Rewind { error, .. } => return Err(error),
            }
        }
    };
    if let Some((line_number, error)) = stopped {
        reduction
            .diagnostics
            .push(stopped_diagnostic(source, line_number, &error));
    }
    Ok(reduction)
}

/// Partial mode: where the pass stopped, how many lines it left, and why.
pub(crate) fn stopped_diagnostic(
    source: &dyn BundleSource,
    line_number: u64,
    error: &ReduceError,
) -> Diagnostic {
    let skipped = source
        .open_trace()
        .map(|trace| count_lines_from(trace, line_number))
        .unwrap_or(0);
    let after = match skipped.saturating_sub(1) {
        0 => "it was the last line".to_string(),
        1 => "it and the 1 line after it were not reduced".to_string(),
        lines => format!("it and the {lines} lines after it were not reduced"),
    };
    Diagnostic::new(
        error.place().clone(),
        format!(
            "partial reduction stopped before this line ({after}): {}",
            error.upstream_text()
        ),
    )
}

/// The result of one pass over the log.
enum Pass {
    /// The pass reached the end, or (partial mode) stopped before a damaged
    /// or out-of-sequence line, given with its number.
    Done {
        reduction: Box<Reduction>,
        stopped: Option<(u64, ReduceError)>,
    },
    /// Partial mode: the reducer failed on this line after it may have
    /// changed its state; replay up to it.
    Rewind {
        line_number: u64,
        error: ReduceError,
    },
}

/// One pass over the log; with `stop_before`, lines from that number on are ignored.
fn replay(
    source: &(dyn BundleSource + Sync),
    options: &ReduceOptions,
    stop_before: Option<u64>,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Pass, ReduceError> {
    std::thread::scope(|scope| replay_in(scope, source, options, stop_before, on_progress))
}

fn replay_in<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    source: &'env (dyn BundleSource + Sync),
    options: &ReduceOptions,
    stop_before: Option<u64>,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Pass, ReduceError> {
    let trace_bytes = source.trace_size();
    let manifest = source.read_manifest(&options.limits)?;
    let feed = prepared_lines(
        scope,
        source,
        options.limits,
        options.read_ahead,
        options.scan_requests,
    )?;
    let mut payloads = ReadAheadPayloads::new(
        source.payloads(options.limits),
        options.scan_requests,
        feed.recycled,
    );
    let mut stepper = LineStepper::new(&manifest, options);
    let mut stopped = None;
    for mut prepared in feed.lines {
        payloads.set_current(&mut prepared);
        let line_number = match &prepared.line {
            Ok(line) => line.line_number,
            Err(damaged) => damaged.line_number,
        };
        if stop_before.is_some_and(|stop| line_number >= stop) {
            break;
        }
        let end_offset = match &prepared.line {
            Ok(line) => line.end_offset,
            Err(damaged) => damaged.end_offset,
        };
        match stepper.step(prepared.line, &mut payloads)? {
            Step::Applied => {}
            Step::Stop { line_number, error } => {
                stopped = Some((line_number, error));
                break;
            }
            Step::Rewind { line_number, error } => {
                return Ok(Pass::Rewind { line_number, error });
            }
        }
        on_progress(&Progress {
            trace_bytes_read: end_offset,
            trace_bytes,
            events: stepper.reducer.events(),
        });
    }
    let mut reduction = stepper.finish()?;
    reduction.shortcuts.payloads_read_ahead = payloads.shortcuts.payloads_read_ahead;
    reduction.shortcuts.payloads_read_on_demand = payloads.shortcuts.payloads_read_on_demand;
    Ok(Pass::Done {
        reduction: Box::new(reduction),
        stopped,
    })
}

/// What one line did to a pass.
pub(crate) enum Step {
    /// The line was an event and was applied (or it was skipped as blank).
    Applied,
    /// Partial mode: the line is damaged or out of sequence; the state is
    /// the one before it, and the pass stops here.
    Stop {
        line_number: u64,
        error: ReduceError,
    },
    /// Partial mode: the reducer failed on the line after it may have
    /// changed its state; the state before it needs a pass that stops there.
    Rewind {
        line_number: u64,
        error: ReduceError,
    },
}

/// The loop's state between lines: the fold and the `seq` check (policy
/// P3). Batch replay and `Follower` step lines through it, so both reduce a
/// log to the same state.
pub(crate) struct LineStepper {
    pub(crate) reducer: Reducer,
    /// Seq and line of the last event applied.
    previous: Option<(u64, u64)>,
    partial: bool,
}

impl LineStepper {
    pub(crate) fn new(manifest: &TraceBundleManifest, options: &ReduceOptions) -> LineStepper {
        LineStepper {
            reducer: Reducer::new(manifest).with_limits(&options.limits),
            previous: None,
            partial: options.partial,
        }
    }

    /// Applies one line; errors are the bundle's rejection (strict mode).
    pub(crate) fn step(
        &mut self,
        line: Result<EventLine, DamagedLine>,
        payloads: &mut dyn PayloadSource,
    ) -> Result<Step, ReduceError> {
        let line = match line {
            Ok(line) => line,
            Err(damaged) if self.partial => {
                return Ok(Step::Stop {
                    line_number: damaged.line_number,
                    error: damaged.error,
                });
            }
            Err(damaged) => return Err(damaged.error),
        };
        let place = line.place();
        if let Some(error) = check_seq(self.previous, &line.event, line.line_number, &place) {
            if self.partial {
                return Ok(Step::Stop {
                    line_number: line.line_number,
                    error,
                });
            }
            return Err(error);
        }
        self.previous = Some((line.event.seq, line.line_number));
        if let Err(error) = self.reducer.apply(&line.event, &place, payloads) {
            let error = error.at(&place);
            if self.partial {
                return Ok(Step::Rewind {
                    line_number: line.line_number,
                    error,
                });
            }
            return Err(error);
        }
        Ok(Step::Applied)
    }

    /// The graph after the end-of-replay rules. In partial mode a failure of
    /// those rules leaves the graph as it stands, with a diagnostic.
    pub(crate) fn finish(self) -> Result<Reduction, ReduceError> {
        if !self.partial {
            return self.reducer.into_finished();
        }
        self.snapshot()
    }

    /// [`Self::finish`] on a copy, so the stepper can go on.
    pub(crate) fn snapshot(&self) -> Result<Reduction, ReduceError> {
        if !self.partial {
            return self.reducer.finish();
        }
        Ok(match self.reducer.finish() {
            Ok(reduction) => reduction,
            Err(error) => {
                let mut reduction = self.reducer.clone().into_unfinished();
                reduction.diagnostics.push(Diagnostic::new(
                    Place::default(),
                    format!("partial reduction skipped the end-of-replay rules: {error}"),
                ));
                reduction
            }
        })
    }
}

/// Policy P3: each seq is the previous one plus one.
fn check_seq(
    previous: Option<(u64, u64)>,
    event: &crate::raw::RawTraceEvent,
    line_number: u64,
    place: &Place,
) -> Option<ReduceError> {
    let (previous_seq, previous_line) = previous?;
    let expected = previous_seq.checked_add(1);
    if expected == Some(event.seq) {
        return None;
    }
    let fault = match event.seq.cmp(&previous_seq) {
        std::cmp::Ordering::Equal => "repeats",
        std::cmp::Ordering::Less => "goes back from",
        std::cmp::Ordering::Greater => "skips ahead of",
    };
    Some(
        ReduceError::new(format!(
            "seq {} at {TRACE_FILE_NAME}:{line_number} {fault} seq {previous_seq} at {TRACE_FILE_NAME}:{previous_line}: seq must grow by exactly one per event (upstream ignores seq; this reducer checks it)",
            event.seq
        ))
        .at(place),
    )
}

/// Physical lines from `line_number` (1-based) to the end of the log.
fn count_lines_from(mut reader: Box<dyn BufRead + Send + '_>, line_number: u64) -> u64 {
    let mut buffer = Vec::new();
    let mut current = 0u64;
    let mut counted = 0u64;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                current += 1;
                if current >= line_number {
                    counted += 1;
                }
            }
        }
        // Long lines are not kept: only their count matters.
        buffer.truncate(0);
    }
    counted
}
