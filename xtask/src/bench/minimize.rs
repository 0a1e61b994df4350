//! `cargo xtask bench --minimize N,..`: how long `cargo xtask minimize` takes
//! to shrink a generated bundle with one injected call-id conflict, from
//! the original to a fixpoint, with as many jobs as cores.
//!
//! The bundles send incremental follow-up requests and run a code-mode cell
//! every 12 turns (40 turns: about 11 MB and 430 events); the conflict is
//! injected as the tests inject it (`harness::testing`). Each is generated
//! afresh under `--out`, minimized in this process, and removed unless
//! `--keep`. Turn counts run in ascending order, so the peak resident
//! memory of the process after each is that bundle's.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use anyhow::bail;
use harness::minimize::Predicate;
use harness::minimize::Request;
use harness::minimize::bytes;
use tracegen::GenOptions;

const CONFLICT: &str = "was reused with different content";

pub fn run(turn_counts: &[u64], out: &Path, seed: u64, keep: bool) -> anyhow::Result<ExitCode> {
    let mut turn_counts = turn_counts.to_vec();
    turn_counts.sort_unstable();
    let jobs = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut rows = Vec::new();
    for turns in turn_counts {
        let bundle = out.join(format!("minimize-seed{seed}-turns{turns}"));
        let result = out.join(format!("minimize-seed{seed}-turns{turns}.min"));
        for dir in [&bundle, &result] {
            if dir.exists() {
                super::remove_bundle(dir)?;
            }
        }
        let options = GenOptions {
            turns,
            seed,
            incremental: true,
            code_mode_every: Some(12),
            ..GenOptions::default()
        };
        tracegen::generate(&bundle, &options)
            .with_context(|| format!("generate {}", bundle.display()))?;
        let call_id = harness::testing::inject_call_id_conflict(&bundle)
            .with_context(|| format!("inject a conflict into {}", bundle.display()))?;
        println!("{turns} turns: minimizing (call id {call_id} reused with other arguments)");
        let request = Request {
            bundle: &bundle,
            out: &result,
            predicate: Predicate::Error(CONFLICT.to_string()),
            time_limit: None,
            jobs,
            command_timeout: None,
            reduce: rollout_trace::ReduceOptions::default(),
        };
        let outcome = match harness::minimize::minimize(&request, &|_| {}) {
            Ok(outcome) => outcome,
            Err(message) => bail!("minimize {}: {message}", bundle.display()),
        };
        let row = format!(
            "{turns:>6} {:>10} {:>7} {:>7} {:>9} {:>6} {:>8.1} {:>9} {:>9}",
            bytes(outcome.original.bytes),
            outcome.original.events,
            outcome.result.events,
            bytes(outcome.result.bytes),
            outcome.tried,
            outcome.elapsed.as_secs_f64(),
            if outcome.fixpoint { "yes" } else { "no" },
            super::table::mib(super::measurement::peak_rss_bytes()),
        );
        println!("{row}");
        rows.push(row);
        if !keep {
            super::remove_bundle(&bundle)?;
            fs::remove_dir_all(&result).with_context(|| format!("remove {}", result.display()))?;
        }
    }
    println!(
        "\nminimize --error {CONFLICT:?} --jobs {jobs}, release build\n{:>6} {:>10} {:>7} {:>7} {:>9} {:>6} {:>8} {:>9} {:>9}",
        "turns",
        "bundle",
        "events",
        "→ events",
        "→ bytes",
        "tried",
        "seconds",
        "fixpoint",
        "peak RSS"
    );
    for row in rows {
        println!("{row}");
    }
    Ok(ExitCode::SUCCESS)
}
