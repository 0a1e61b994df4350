//! `cargo xtask corpus`: facts about the corpus; `--timings` lists the
//! slowest cases with their reduce times.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use harness::Corpus;
use harness::config::CaseConfig;

/// Facts about the corpus: its cases, and with --timings the slowest.
#[derive(Args)]
pub struct CorpusArgs {
    /// List the slowest cases with their reduce times (best of 3 reductions).
    #[arg(long)]
    timings: bool,
    /// How many cases --timings lists.
    #[arg(long, value_name = "N", default_value_t = 10, requires = "timings")]
    top: usize,
}

/// Reductions per case; the fastest counts (the others measure the machine).
const RUNS: usize = 3;

pub fn run(args: &CorpusArgs) -> anyhow::Result<ExitCode> {
    let corpus = Corpus::of_workspace().map_err(anyhow::Error::msg)?;
    let cases = corpus
        .discover()
        .with_context(|| format!("read {}", corpus.root().display()))?;
    let ok = cases
        .iter()
        .filter(|case| case.kind == harness::CaseKind::Ok)
        .count();
    println!("{} cases: {ok} ok, {} err", cases.len(), cases.len() - ok);
    if !args.timings {
        return Ok(ExitCode::SUCCESS);
    }
    let mut timings: Vec<(Duration, &str)> = cases
        .iter()
        .map(|case| {
            let options = CaseConfig::load(&case.dir, case.kind)
                .map(|config| config.options)
                .unwrap_or_default();
            let best = (0..RUNS)
                .map(|_| harness::run::reduce_once(case, &options).1)
                .min()
                .unwrap_or_default();
            (best, case.name.as_str())
        })
        .collect();
    let total: Duration = timings.iter().map(|(time, _)| *time).sum();
    timings.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    println!(
        "slowest {} (best of {RUNS} reductions each; all cases: {})",
        args.top.min(timings.len()),
        millis(total)
    );
    for (time, name) in timings.iter().take(args.top) {
        println!("{:>10}  {name}", millis(*time));
    }
    Ok(ExitCode::SUCCESS)
}

fn millis(time: Duration) -> String {
    format!("{:.2} ms", time.as_secs_f64() * 1000.0)
}
