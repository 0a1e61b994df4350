//! `bench-run follow`: the cost of following a session as it is written.
//!
//! A writer thread rebuilds the bundle beside `--state`, line by line, as a
//! live writer does: a line's payload files first, then the line, with a
//! short pause between lines. The measuring thread follows it with a
//! `Follower`, polling whenever the log may have grown, and rewrites
//! `state.json` at most every [`REWRITE_INTERVAL`], as `reduce --follow`
//! does. Reported:
//! - `seconds`: the time spent inside `poll` (the fold and its reads),
//! - `write_seconds`: the time spent rewriting `state.json` (the last
//!   rewrite, after `rollout_ended`, is the final output),
//! - `per_event_seconds`: poll time per event applied, for each tenth of the
//!   session's events; a fold whose cost grows with the session shows as
//!   later tenths costing more than earlier ones.
//!
//! The live bundle is removed at the end; `state.json` stays for the caller
//! to compare with a batch reduction.

use std::fs;
use std::fs::File;
use std::io::BufRead;
use std::io::BufReader;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context;
use anyhow::bail;
use rollout_trace::Follower;
use rollout_trace::ReduceOptions;
use rollout_trace::raw::RawTraceEvent;

use super::measurement::Measurement;
use super::measurement::peak_rss_bytes;

/// How often the followed state is written out while events arrive.
pub const REWRITE_INTERVAL: Duration = Duration::from_millis(500);

/// The writer's pause after each line: a session written at about 5,000
/// events a second.
const LINE_PAUSE: Duration = Duration::from_micros(200);

/// The follower's pause when a poll found nothing new.
const IDLE_POLL: Duration = Duration::from_millis(2);

pub fn follow(source: &Path, state: &Path) -> anyhow::Result<Measurement> {
    let lines = log_lines(source)?;
    let total_events = lines.len().max(1) as u64;
    let live = state.with_extension("live");
    if live.exists() {
        if !live.join("manifest.json").exists() {
            bail!("refusing to remove {}: not a live bundle", live.display());
        }
        fs::remove_dir_all(&live).with_context(|| format!("remove {}", live.display()))?;
    }
    fs::create_dir_all(live.join("payloads"))
        .with_context(|| format!("create {}", live.display()))?;
    fs::copy(source.join("manifest.json"), live.join("manifest.json"))
        .with_context(|| format!("copy the manifest of {}", source.display()))?;

    let outcome = std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_live(source, &live, &lines));
        let measured = follow_live(&live, state, total_events);
        let written = match writer.join() {
            Ok(written) => written,
            Err(_) => bail!("the writer thread panicked"),
        };
        written.and(measured)
    });
    fs::remove_dir_all(&live).with_context(|| format!("remove {}", live.display()))?;
    outcome
}

/// The lines of `source`'s log, each with the payload paths it names.
fn log_lines(source: &Path) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let trace = source.join("trace.jsonl");
    let file = File::open(&trace).with_context(|| format!("open {}", trace.display()))?;
    let mut lines = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("read {}", trace.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: RawTraceEvent = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: decode the event", trace.display(), index + 1))?;
        let paths = event
            .payload
            .payload_refs()
            .into_iter()
            .map(|payload| payload.path.clone())
            .collect();
        lines.push((line, paths));
    }
    Ok(lines)
}

/// Appends the lines to the live log, each after its payload files.
fn write_live(source: &Path, live: &Path, lines: &[(String, Vec<String>)]) -> anyhow::Result<()> {
    let trace = live.join("trace.jsonl");
    let mut log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&trace)
        .with_context(|| format!("open {}", trace.display()))?;
    for (line, paths) in lines {
        for path in paths {
            let target: PathBuf = live.join(path);
            if !target.exists() {
                fs::copy(source.join(path), &target)
                    .with_context(|| format!("copy {path} into {}", live.display()))?;
            }
        }
        log.write_all(format!("{line}\n").as_bytes())
            .with_context(|| format!("append to {}", trace.display()))?;
        std::thread::sleep(LINE_PAUSE);
    }
    Ok(())
}

/// Follows `live` until `rollout_ended`, timing each poll.
fn follow_live(live: &Path, state: &Path, total_events: u64) -> anyhow::Result<Measurement> {
    let options = ReduceOptions {
        read_ahead: false,
        ..ReduceOptions::default()
    };
    let mut follower = Follower::new(live, options);
    let mut poll_seconds = 0.0;
    let mut write_seconds = 0.0;
    let mut tenths = [(0.0f64, 0u64); 10];
    let mut last_write: Option<Instant> = None;
    let started = Instant::now();
    loop {
        let before = follower.events();
        let clock = Instant::now();
        let polled = follower
            .poll()
            .map_err(|error| anyhow::anyhow!("follow {}: {error}", live.display()))?;
        let spent = clock.elapsed().as_secs_f64();
        poll_seconds += spent;
        if polled.events > 0 {
            let tenth = ((before * 10) / total_events).min(9) as usize;
            tenths[tenth].0 += spent;
            tenths[tenth].1 += polled.events;
        }
        let ended = follower.rollout_ended();
        let due = last_write.is_none_or(|written| written.elapsed() >= REWRITE_INTERVAL);
        if ended || (polled.events > 0 && due) {
            let clock = Instant::now();
            write_state(&follower, state)?;
            write_seconds += clock.elapsed().as_secs_f64();
            last_write = Some(Instant::now());
        }
        if ended {
            break;
        }
        if started.elapsed() > Duration::from_secs(3600) {
            bail!("follow {}: no rollout_ended after an hour", live.display());
        }
        if polled.events == 0 {
            std::thread::sleep(IDLE_POLL);
        }
    }
    let per_event_seconds = tenths.map(|(seconds, events)| {
        if events == 0 {
            0.0
        } else {
            seconds / events as f64
        }
    });
    let state_bytes = fs::metadata(state)
        .with_context(|| format!("stat {}", state.display()))?
        .len();
    Ok(Measurement {
        seconds: poll_seconds,
        write_seconds,
        peak_rss_bytes: peak_rss_bytes(),
        state_bytes,
        per_event_seconds,
        ..Measurement::default()
    })
}

fn write_state(follower: &Follower, state: &Path) -> anyhow::Result<()> {
    let Some(reduction) = follower
        .reduction()
        .map_err(|error| anyhow::anyhow!("follow: {error}"))?
    else {
        return Ok(());
    };
    rollout_trace::write_atomically_with(state, |file| {
        rollout_trace::write_state_json(&reduction.trace, file)
    })
    .with_context(|| format!("write {}", state.display()))
}
