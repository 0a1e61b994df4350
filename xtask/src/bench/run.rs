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

use super::measurement::Measurement;
use super::measurement::cpu_seconds;
use super::measurement::peak_rss_bytes;

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
    println!("{}", measurement.to_line());
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
