//! `cargo xtask gen-trace`: writes a large, realistic, deterministic bundle
//! with the `tracegen` crate, for benchmarks and scale tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use tracegen::GenOptions;
use tracegen::GenSummary;

/// Write a deterministic bundle of N turns (same arguments, same bytes).
///
/// Each turn: a user message; a full-snapshot request of the whole history
/// whose response has reasoning, a message and an exec_command call; the
/// command (1-8 KB of output) with invocation, runtime and result payloads;
/// a follow-up request and the final answer. Bundles grow with the square
/// of N (every request repeats the history): about 0.4 GB for 200 turns and
/// 10 GB for 1000.
#[derive(Args)]
pub struct GenTraceArgs {
    /// The bundle folder to create (created if missing; must not hold a bundle).
    out: PathBuf,
    /// Turns of the root thread.
    #[arg(long, value_name = "N")]
    turns: u64,
    /// Seed of the generated text.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Every K-th turn runs its commands from a code-mode cell (every other
    /// cell yields and is finished by a `wait` call).
    #[arg(long, value_name = "K")]
    code_mode_every: Option<u64>,
    /// Every K-th turn also spawns a sub-agent that answers back.
    #[arg(long, value_name = "K")]
    spawn_every: Option<u64>,
    /// Follow-up requests send only the new items, with previous_response_id.
    #[arg(long)]
    incremental: bool,
    /// Turns K+1, 2K+1, ... start with a compaction; requests then start
    /// again from its replacement history.
    #[arg(long, value_name = "K")]
    compact_every: Option<u64>,
    /// Write the bundle as current Codex builds do: items re-sent in history
    /// carry `internal_chat_message_metadata_passthrough` (turn id, and a
    /// creation time on messages and tool outputs); responses do not.
    #[arg(long)]
    history_metadata: bool,
    /// Keep every payload small (command output of 16-128 bytes, short
    /// reasoning), for sessions of many small events.
    #[arg(long)]
    small_payloads: bool,
    /// Fail instead of writing more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 30)]
    max_bytes: u64,
}

pub fn run(args: &GenTraceArgs) -> anyhow::Result<ExitCode> {
    let options = GenOptions {
        turns: args.turns,
        seed: args.seed,
        code_mode_every: args.code_mode_every,
        spawn_every: args.spawn_every,
        incremental: args.incremental,
        compact_every: args.compact_every,
        history_metadata: args.history_metadata,
        small_payloads: args.small_payloads,
        max_bundle_bytes: Some(args.max_bytes),
    };
    let start = Instant::now();
    let summary = tracegen::generate(&args.out, &options)
        .with_context(|| format!("generate {}", args.out.display()))?;
    print!("{}", describe(&summary));
    println!(
        "{:<20}{:.1} s",
        "generation time",
        start.elapsed().as_secs_f64()
    );
    println!("{:<20}{}", "bundle", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The summary as aligned `name value` lines.
pub fn describe(summary: &GenSummary) -> String {
    let rows = [
        ("bundle bytes", summary.bundle_bytes),
        ("payload files", summary.payload_files),
        ("events", summary.events),
        ("threads", summary.threads),
        ("turns", summary.turns),
        ("inference calls", summary.inference_calls),
        ("tool calls", summary.tool_calls),
        ("terminal operations", summary.terminal_operations),
        ("code cells", summary.code_cells),
        ("interaction edges", summary.interaction_edges),
        ("compactions", summary.compactions),
    ];
    rows.iter()
        .map(|(name, value)| format!("{name:<20}{value}\n"))
        .collect()
}
