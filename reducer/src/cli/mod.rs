//! The `rollout-trace` command (feature `cli`): what a person types to reduce
//! and read traces. `cargo install --path reducer` installs it, and
//! `cargo xtask reduce`/`diff` run this same code.
//!
//! Invariants: one implementation behind both entry points (the binary and
//! xtask call [`run`] or the subcommands' `run`); printing happens here and
//! only here in the library; errors end as one `error:` line and exit
//! status 1 (2 for `diff` trouble).

// The command's output is the point of this module.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod diff;
mod follow;
pub mod reduce;

use std::process::ExitCode;

use clap::Parser;
use clap::Subcommand;

/// Reduce rollout-trace bundles and read them.
#[derive(Parser)]
#[command(name = "rollout-trace", version = crate::VERSION)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// `--version` here too, as `cargo xtask reduce --version` has it.
    #[command(version = crate::VERSION)]
    Reduce(reduce::ReduceArgs),
    Diff(diff::DiffArgs),
}

/// Runs the command line `args` (the first is the program name).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Reduce(args) => run_reduce(&args),
        Command::Diff(args) => diff::run(&args),
    };
    exit_code(result)
}

/// `reduce`: one bundle, several, or (`--follow`) one being written.
pub fn run_reduce(args: &reduce::ReduceArgs) -> anyhow::Result<ExitCode> {
    if args.follow {
        follow::run(args)
    } else {
        reduce::run(args)
    }
}

/// The exit status of a subcommand's result: an error is one line on
/// standard error and status 1.
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    #[test]
    fn the_command_and_reduce_name_the_upstream_commit() {
        for args in [
            &["rollout-trace", "--version"][..],
            &["rollout-trace", "reduce", "--version"],
        ] {
            let Err(shown) = Cli::try_parse_from(args) else {
                panic!("{args:?} parsed as a command");
            };
            assert_eq!(shown.kind(), clap::error::ErrorKind::DisplayVersion);
            assert!(shown.to_string().contains("bc8b25ea02"), "{shown}");
        }
    }
}
