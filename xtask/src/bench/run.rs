//! `cargo xtask bench-run` (hidden): one measurement in a process of its
//! own, so that its peak resident memory is its own. `cargo xtask bench`
//! spawns it; it prints one JSON line ([`Measurement`]) on standard output.
//!
//! - `floor`: the least any reducer must do: read every file of the bundle
//!   once and parse every JSON document as a `serde_json::Value`
//!   (`manifest.json`, each line of `trace.jsonl`, each `payloads/*.json`
//!   whole), single-threaded, with the workspace's serde_json build.
//! - `reduce`: `reduce_bundle_with` (read-ahead on or off), then
//!   `state.json` streamed to a file with `serde_json::to_writer_pretty`
//!   (the same bytes as `rollout_trace::state_json`) and renamed into place.
//!   Both phases are timed; `seconds` is their sum.
//! - `follow`: a writer thread appends a bundle's lines to a new bundle (each
//!   line's payload files first, as a live writer does) while a `Follower`
//!   polls it; the time spent inside `poll` is the fold's cost, measured per
//!   tenth of the session so that a cost growing with the session shows
//!   (`follow.rs`).
//!
//! Every measurement also reports the CPU time of its process (user +
//! system, from `/proc/self/stat`), which a busy machine inflates less than
//! wall time.

use std::fs;
use std::fs::File;
use std::io::BufRead;
use std::io::BufReader;
use std::io::BufWriter;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use clap::ValueEnum;
use rollout_trace::ReduceOptions;
use serde_json::Value;
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Floor,
    Reduce,
    Follow,
}

/// One measurement in this process (used by `cargo xtask bench`).
#[derive(Args)]
pub struct BenchRunArgs {
    kind: Kind,
    bundle: PathBuf,
    /// Reduce on one thread (`ReduceOptions { read_ahead: false, .. }`).
    #[arg(long)]
    no_read_ahead: bool,
    /// Where `reduce` and `follow` write `state.json` (`follow`: the live
    /// bundle is made beside it).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
}

/// What one measurement printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measurement {
    /// Wall time of the whole measured work.
    pub seconds: f64,
    /// The part of `seconds` spent writing `state.json` (reduce only).
    pub write_seconds: f64,
    /// `VmHWM` of the process at the end (0 where `/proc` is missing).
    pub peak_rss_bytes: u64,
    /// Size of the `state.json` written (reduce only).
    pub state_bytes: u64,
    /// User + system CPU time of the process (0 where `/proc` is missing).
    pub cpu_seconds: f64,
    /// `follow` only: seconds inside `poll` per event, by tenth of the events.
    pub per_event_seconds: [f64; 10],
}

impl Measurement {
    pub fn parse(line: &str) -> anyhow::Result<Measurement> {
        let value: Value = serde_json::from_str(line.trim())
            .with_context(|| format!("decode the measurement {line:?}"))?;
        let number = |key: &str| value[key].as_f64().unwrap_or_default();
        let count = |key: &str| value[key].as_u64().unwrap_or_default();
        let mut per_event_seconds = [0.0; 10];
        if let Some(values) = value["per_event_seconds"].as_array() {
            for (slot, value) in per_event_seconds.iter_mut().zip(values) {
                *slot = value.as_f64().unwrap_or_default();
            }
        }
        Ok(Measurement {
            seconds: number("seconds"),
            write_seconds: number("write_seconds"),
            peak_rss_bytes: count("peak_rss_bytes"),
            state_bytes: count("state_bytes"),
            cpu_seconds: number("cpu_seconds"),
            per_event_seconds,
        })
    }
}

pub fn run(args: &BenchRunArgs) -> anyhow::Result<ExitCode> {
    let state = || match &args.state {
        Some(state) => Ok(state),
        None => Err(anyhow::anyhow!("reduce and follow need --state FILE")),
    };
    let mut measurement = match args.kind {
        Kind::Floor => floor(&args.bundle)?,
        Kind::Reduce => reduce(&args.bundle, !args.no_read_ahead, state()?)?,
        Kind::Follow => super::follow::follow(&args.bundle, state()?)?,
    };
    measurement.cpu_seconds = cpu_seconds();
    let line = json!({
        "seconds": measurement.seconds,
        "write_seconds": measurement.write_seconds,
        "peak_rss_bytes": measurement.peak_rss_bytes,
        "state_bytes": measurement.state_bytes,
        "cpu_seconds": measurement.cpu_seconds,
        "per_event_seconds": measurement.per_event_seconds,
    });
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}

fn floor(bundle: &Path) -> anyhow::Result<Measurement> {
    let start = Instant::now();
    let parse = |bytes: &[u8], what: &Path| -> anyhow::Result<()> {
        serde_json::from_slice::<Value>(bytes)
            .with_context(|| format!("parse {}", what.display()))?;
        Ok(())
    };
    let manifest = bundle.join("manifest.json");
    parse(
        &fs::read(&manifest).with_context(|| format!("read {}", manifest.display()))?,
        &manifest,
    )?;
    let trace = bundle.join("trace.jsonl");
    let file = File::open(&trace).with_context(|| format!("open {}", trace.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("read {}", trace.display()))?;
        if read == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        parse(&line, &trace)?;
    }
    let payloads = bundle.join("payloads");
    for path in payload_files(&payloads)? {
        parse(
            &fs::read(&path).with_context(|| format!("read {}", path.display()))?,
            &path,
        )?;
    }
    Ok(Measurement {
        seconds: start.elapsed().as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes(),
        ..Measurement::default()
    })
}

/// The `*.json` files of a payload folder, in name order.
pub fn payload_files(payloads: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(payloads).with_context(|| format!("list {}", payloads.display()))? {
        let path = entry
            .with_context(|| format!("list {}", payloads.display()))?
            .path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn reduce(bundle: &Path, read_ahead: bool, state: &Path) -> anyhow::Result<Measurement> {
    let start = Instant::now();
    let options = ReduceOptions {
        read_ahead,
        ..ReduceOptions::default()
    };
    let reduction = rollout_trace::reduce_bundle_with(bundle, &options)
        .map_err(|error| anyhow::anyhow!("reduce {}: {error}", bundle.display()))?;
    let reduced = start.elapsed().as_secs_f64();
    let temporary = state.with_extension("json.tmp");
    let file =
        File::create(&temporary).with_context(|| format!("create {}", temporary.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer_pretty(&mut writer, &reduction.trace)
        .with_context(|| format!("write {}", temporary.display()))?;
    writer
        .flush()
        .with_context(|| format!("write {}", temporary.display()))?;
    drop(writer);
    fs::rename(&temporary, state).with_context(|| format!("rename to {}", state.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let state_bytes = fs::metadata(state)
        .with_context(|| format!("stat {}", state.display()))?
        .len();
    let measurement = Measurement {
        seconds,
        write_seconds: seconds - reduced,
        peak_rss_bytes: peak_rss_bytes(),
        state_bytes,
        ..Measurement::default()
    };
    // Freeing a large state takes time nobody measures: the process ends now.
    std::mem::forget(reduction);
    Ok(measurement)
}

/// User + system CPU seconds of this process, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| cpu_seconds_of_stat(&stat))
        .unwrap_or_default()
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. The counts are
/// in `USER_HZ` ticks, which Linux fixes at 100 per second for `/proc`.
pub fn cpu_seconds_of_stat(stat: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces; fields count from its `)`.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

/// `VmHWM` (peak resident set) of this process, from `/proc/self/status`.
pub fn peak_rss_bytes() -> u64 {
    fs::read_to_string("/proc/self/status")
        .map(|status| peak_rss_of_status(&status))
        .unwrap_or_default()
}

/// `VmHWM` of a `/proc/<pid>/status` text, in bytes (0 when absent).
pub fn peak_rss_of_status(status: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}
