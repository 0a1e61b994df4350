//! What one measurement reports ([`Measurement`]), its JSON line between
//! the `bench-run` child and `cargo xtask bench`, and the `/proc` readings
//! (peak resident memory, CPU time) every kind of measurement takes.
//! `run.rs` and `follow.rs` both fill it; neither imports the other's code.

use std::fs;

use anyhow::Context;
use serde_json::Value;
use serde_json::json;

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
    /// The JSON line `bench-run` prints; [`Measurement::parse`] reads it back.
    pub fn to_line(self) -> String {
        json!({
            "seconds": self.seconds,
            "write_seconds": self.write_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "state_bytes": self.state_bytes,
            "cpu_seconds": self.cpu_seconds,
            "per_event_seconds": self.per_event_seconds,
        })
        .to_string()
    }

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

/// User + system CPU seconds of this process, from `/proc/self/stat`.
pub fn cpu_seconds() -> f64 {
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
