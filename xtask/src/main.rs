//! Project tasks, run as `cargo xtask <command>` (the cargo-xtask convention:
//! a binary of the workspace behind an alias in `.cargo/config.toml`).
//!
//! - `reduce`, `diff`: the `rollout-trace` command's subcommands
//!   (`rollout_trace::cli`), here so the debugging entry point needs no install.
//! - `bless`: rewrite corpus expectations from the current reducer.
//! - `corpus`: facts about the corpus (`--timings`: the slowest cases).
//! - `gen-trace`: write a large, realistic, deterministic bundle (`tracegen`).
//! - `bench`: reduce time, memory and the read-and-parse floor on generated bundles.
//! - `new-case`: turn a real trace bundle into a corpus case (`--redact`).
//! - `minimize`: shrink a failing bundle to the smallest one that still fails.
//! - `fuzz-seeds`: the seed corpus of the fuzz target.
//! - `mutants`: mutation testing of the reducer core (cargo-mutants) and its kill rate.

mod bench;
mod bless;
mod corpus;
mod fuzz_seeds;
mod gen_trace;
mod minimize;
mod mutants;
mod new_case;

/// The command-line reducer allocates and frees large payload buffers and
/// parsed documents across two threads; mimalloc reuses that memory where
/// glibc's allocator returns it to the kernel and faults it in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clap::Subcommand;
use rollout_trace::cli;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Project tasks of the rollout-trace workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(version = rollout_trace::VERSION)]
    Reduce(cli::reduce::ReduceArgs),
    Bless(bless::BlessArgs),
    Corpus(corpus::CorpusArgs),
    GenTrace(gen_trace::GenTraceArgs),
    Bench(bench::BenchArgs),
    #[command(hide = true)]
    BenchRun(bench::BenchRunArgs),
    Diff(cli::diff::DiffArgs),
    NewCase(new_case::NewCaseArgs),
    Minimize(minimize::MinimizeArgs),
    FuzzSeeds(fuzz_seeds::FuzzSeedsArgs),
    Mutants(mutants::MutantsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Reduce(args) => cli::run_reduce(&args),
        Command::Bless(args) => bless::run(&args),
        Command::Corpus(args) => corpus::run(&args),
        Command::GenTrace(args) => gen_trace::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::BenchRun(args) => bench::run_one(&args),
        Command::Diff(args) => cli::diff::run(&args),
        Command::NewCase(args) => new_case::run(&args),
        Command::Minimize(args) => minimize::run(&args),
        Command::FuzzSeeds(args) => fuzz_seeds::run(&args),
        Command::Mutants(args) => mutants::run(&args),
    };
    cli::exit_code(result)
}

/// The root of the checkout `cargo xtask` runs in, found at run time
/// (`harness::workspace`): a copied or moved checkout works on its own files.
pub fn project_root() -> anyhow::Result<PathBuf> {
    harness::workspace_root().map_err(anyhow::Error::msg)
}
