//! `cargo xtask bench --upstream BIN`: upstream's reducer measured on the
//! same bundles, run as `BIN BUNDLE OUT` (a build of `codex debug
//! trace-reduce`, or any wrapper with that calling convention).
//!
//! Without a way to ask the kernel for a finished child's peak memory (that
//! needs `wait4`, and this workspace forbids `unsafe`), the peak RSS is read
//! from `/proc/<pid>/status` (`VmHWM`, a high-water mark) every
//! [`POLL_INTERVAL`] while the child runs: a figure that can fall short of
//! the true peak (by what the last interval added), never exceed it. The
//! table marks it with `~`.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context;
use anyhow::bail;

use super::measurement::Measurement;
use super::measurement::cpu_seconds_of_stat;
use super::measurement::peak_rss_of_status;

/// How often the child's memory is read.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

pub fn measure(binary: &Path, bundle: &Path, state: &Path) -> anyhow::Result<Measurement> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .arg(bundle)
        .arg(state)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("run {}", binary.display()))?;
    let proc_dir = format!("/proc/{}", child.id());
    let mut peak_rss_bytes = 0;
    let mut cpu_seconds = 0.0;
    let status = loop {
        if let Ok(status) = fs::read_to_string(format!("{proc_dir}/status")) {
            peak_rss_bytes = peak_rss_bytes.max(peak_rss_of_status(&status));
        }
        if let Some(seconds) = fs::read_to_string(format!("{proc_dir}/stat"))
            .ok()
            .and_then(|stat| cpu_seconds_of_stat(&stat))
        {
            cpu_seconds = seconds;
        }
        if let Some(status) = child
            .try_wait()
            .with_context(|| format!("wait for {}", binary.display()))?
        {
            break status;
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!(
            "{} {} failed ({status})",
            binary.display(),
            bundle.display()
        );
    }
    let state_bytes = fs::metadata(state)
        .with_context(|| format!("stat {}", state.display()))?
        .len();
    Ok(Measurement {
        seconds,
        peak_rss_bytes,
        state_bytes,
        cpu_seconds,
        ..Measurement::default()
    })
}
