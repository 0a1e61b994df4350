//! `reduce --follow`: a bundle being written, reduced as it grows.
//!
//! The loop polls the `Follower` (the library does the reading and the
//! reducing) and rewrites the output after new events, at most every
//! `--interval`, so that once the writer has been quiet for an interval the
//! output is what a batch reduce of the bundle at that moment writes.
//!
//! It ends by itself, with the final output written and exit status 0,
//! once `rollout_ended` is applied, on SIGINT or SIGTERM, or after
//! `--idle-exit` seconds without a new event. A bundle that a batch reduce
//! rejects ends it with that error and exit status 1.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context;

use super::reduce::Format;
use super::reduce::ReduceArgs;
use super::reduce::options_of;
use super::reduce::write_reduction;
use crate::Follower;

/// How often the log is looked at.
const POLL_EVERY: Duration = Duration::from_millis(50);

pub(super) fn run(args: &ReduceArgs) -> anyhow::Result<ExitCode> {
    let [bundle] = args.traces.as_slice() else {
        anyhow::bail!("--follow follows one bundle");
    };
    let options = options_of(args);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("listen for SIGINT and SIGTERM")?;
    }
    let interval = Duration::from_millis(args.interval);
    let idle_exit = args.idle_exit.map(Duration::from_secs_f64);
    let payload_timeout = Duration::from_secs_f64(args.payload_timeout.max(0.0));
    let redraw = args.format == Format::Summary
        && args.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut follower = Follower::new(bundle, options).with_payload_timeout(payload_timeout);
    let mut started = false;
    let mut dirty = false;
    let mut last_write: Option<Instant> = None;
    let mut last_event = Instant::now();
    loop {
        let polled = match follower.poll() {
            Ok(polled) => polled,
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(ExitCode::FAILURE);
            }
        };
        if polled.events > 0 {
            dirty = true;
            last_event = Instant::now();
        }
        if !started && follower.reduction()?.is_some() {
            // The manifest is there: even with no event yet, the output is
            // what a batch reduce writes.
            started = true;
            dirty = true;
        }
        let ending = follower.rollout_ended()
            || stop.load(Ordering::SeqCst)
            || idle_exit.is_some_and(|idle| last_event.elapsed() >= idle);
        let due = last_write.is_none_or(|written| written.elapsed() >= interval);
        if dirty && (due || ending) {
            write(args, &follower, redraw, ending)?;
            dirty = false;
            last_write = Some(Instant::now());
        }
        if ending {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// Writes the follower's reduction; the last write also shows its notes.
fn write(args: &ReduceArgs, follower: &Follower, redraw: bool, last: bool) -> anyhow::Result<()> {
    let reduction = match follower.reduction() {
        Ok(Some(reduction)) => reduction,
        Ok(None) => return Ok(()),
        // The end-of-replay rules fail on the bundle as it stands: a batch
        // reduce would reject it now, but the next events may settle it.
        Err(_) if !last => return Ok(()),
        Err(error) => anyhow::bail!("{error}"),
    };
    write_reduction(args, follower.root(), &reduction, redraw)?;
    if last {
        for diagnostic in &reduction.diagnostics {
            eprintln!("note: {diagnostic}");
        }
    }
    Ok(())
}
