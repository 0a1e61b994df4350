//! `cargo xtask bless`: rewrite corpus expectations from the current reducer.
//!
//! The planning, the safety checks on paths and the summary text live in
//! `harness::bless`, shared with the corpus tests; this file is the command
//! line: argument rules, the CI guard, printing and the exit code.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use harness::Corpus;
use harness::bless::Mode;

/// Rewrite corpus expectations from the current reducer.
///
/// Writes expected.json (ok cases), expected.err (err cases) and
/// diagnostics.txt, only where the content changes. A case whose outcome
/// no longer matches its folder is not blessed.
#[derive(Args)]
pub struct BlessArgs {
    /// Only cases whose name (e.g. `ok/0018_name`) contains this text.
    filter: Option<String>,
    /// Write nothing; exit with status 1 if any expectation is stale (the CI form).
    #[arg(long)]
    check: bool,
    /// Also delete stray expectation files (an expected.json in an err case,
    /// ...). Whole corpus only: refused together with a FILTER.
    #[arg(long)]
    prune: bool,
    /// Write even though the CI environment variable is set.
    #[arg(long)]
    allow_ci: bool,
}

pub fn run(args: &BlessArgs) -> anyhow::Result<ExitCode> {
    let ci = std::env::var_os("CI");
    if !args.check && !args.allow_ci && harness::bless::is_ci(ci.as_deref()) {
        bail!(
            "refusing to write expectations because CI is set (CI={}); use `cargo xtask bless --check` in CI, or pass --allow-ci",
            ci.unwrap_or_default().to_string_lossy()
        );
    }
    let corpus = Corpus::of_workspace().map_err(anyhow::Error::msg)?;
    let plan = match harness::bless::plan(&corpus, args.filter.as_deref(), args.prune) {
        Ok(plan) => plan,
        Err(message) => bail!(message),
    };
    if args.check {
        print!("{}", harness::bless::summary(&corpus, &plan, Mode::Checked));
        return Ok(if plan.is_stale() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    harness::bless::apply(&corpus, &plan)?;
    print!("{}", harness::bless::summary(&corpus, &plan, Mode::Blessed));
    // Refused cases need a person: make scripts notice.
    Ok(if plan.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
