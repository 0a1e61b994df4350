//! `cargo xtask reduce`: one bundle to `state.json`, like `codex debug trace-reduce`.

use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rollout_trace::Limits;
use rollout_trace::ReduceOptions;
use rollout_trace::bundle::BundleLocation;

/// Reduce a trace bundle to its `state.json` graph.
#[derive(Args)]
pub struct ReduceArgs {
    /// The bundle folder, or its `trace.jsonl`.
    trace: PathBuf,
    /// Where to write the state: a file, or `-` for standard output.
    /// Default: `state.json` in the bundle folder.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Reduce the events before the first damaged or inconsistent line
    /// (a crashed writer's trace) and list what was skipped on standard error.
    #[arg(long)]
    partial: bool,
    /// Largest payload file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_payload_bytes)]
    max_payload_bytes: u64,
    /// Longest `trace.jsonl` line, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_line_bytes)]
    max_line_bytes: usize,
    /// Deepest JSON nesting accepted (127 is also the parser's own limit).
    #[arg(long, value_name = "DEPTH", default_value_t = Limits::default().max_json_depth)]
    max_json_depth: usize,
}

pub fn run(args: &ReduceArgs) -> anyhow::Result<ExitCode> {
    let options = ReduceOptions {
        partial: args.partial,
        limits: Limits {
            max_payload_bytes: args.max_payload_bytes,
            max_line_bytes: args.max_line_bytes,
            max_json_depth: args.max_json_depth,
        },
        ..ReduceOptions::default()
    };
    let reduction = match rollout_trace::reduce_bundle_with(&args.trace, &options) {
        Ok(reduction) => reduction,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    for diagnostic in &reduction.diagnostics {
        eprintln!("note: {diagnostic}");
    }
    let state = rollout_trace::state_json(&reduction.trace);
    let output = match &args.output {
        Some(output) => output.clone(),
        None => BundleLocation::locate(&args.trace).root.join("state.json"),
    };
    if output == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        let written = stdout
            .write_all(state.as_bytes())
            .and_then(|()| stdout.flush());
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        if let Err(error) = written
            && error.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(error).context("write the state to standard output");
        }
        return Ok(ExitCode::SUCCESS);
    }
    rollout_trace::write_atomically(&output, state.as_bytes())
        .with_context(|| format!("write {}", output.display()))?;
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}
