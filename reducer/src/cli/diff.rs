//! `cargo xtask diff <A> <B>`: the JSON-path differences between the reduced
//! states of two bundles or `state.json` files, with the differ the corpus
//! harness uses (`crate::json_diff`).
//!
//! Exit status as diff(1): 0 when the states are the same, 1 when they
//! differ, 2 when one side cannot be read or reduced.

use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::json_diff;
use clap::Args;
use serde_json::Value;

/// Show where the reduced states of A and B differ, as JSON paths.
///
/// A and B are each a bundle (its folder or its `trace.jsonl`), reduced
/// here, or a reduced state (any other `.json` file, e.g. a `state.json` or
/// a corpus `expected.json`). Exit status: 0 same, 1 different, 2 trouble.
#[derive(Args)]
pub struct DiffArgs {
    /// The old side: a bundle or a state file.
    a: PathBuf,
    /// The new side: a bundle or a state file.
    b: PathBuf,
    /// Reduce bundles in partial mode (the events before any damage).
    #[arg(long)]
    partial: bool,
    /// Most differences listed; the rest are counted.
    #[arg(long, value_name = "N", default_value_t = 200)]
    max: usize,
}

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let (a, b) = match (state(&args.a, args.partial), state(&args.b, args.partial)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let changes = json_diff::changes(&a, &b);
    if changes.is_empty() {
        eprintln!("no differences");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", json_diff::render(&changes, args.max));
    Ok(ExitCode::FAILURE)
}

/// The reduced state at `path` as JSON, member order kept.
fn state(path: &Path, partial: bool) -> Result<Value, String> {
    let is_state_file = path.is_file()
        && path
            .extension()
            .is_some_and(|extension| extension == "json")
        && path.file_name().is_some_and(|name| name != "manifest.json");
    let text = if is_state_file {
        std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?
    } else {
        let options = crate::ReduceOptions {
            partial,
            ..crate::ReduceOptions::default()
        };
        let reduction = crate::reduce_bundle_with(path, &options)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        for diagnostic in &reduction.diagnostics {
            eprintln!("note: {}: {diagnostic}", path.display());
        }
        crate::state_json(&reduction.trace)
    };
    serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}
