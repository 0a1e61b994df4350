//! `cargo xtask bless`: rewrite corpus expectations (placeholder).

use std::process::ExitCode;

use clap::Args;

/// Rewrite corpus expectations from the current reducer.
#[derive(Args)]
pub struct BlessArgs {
    /// Only cases whose relative path contains this text.
    filter: Option<String>,
}

pub fn run(_args: &BlessArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("bless is not implemented yet")
}
