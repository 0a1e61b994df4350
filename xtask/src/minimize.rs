//! `cargo xtask minimize`: shrink a bundle to the smallest one that is still
//! interesting (fails, reports a diagnostic, differs from another reducer,
//! or passes a test command).
//!
//! The search lives in `harness::minimize` (tested there); this file is the
//! command line: arguments, the progress line on a terminal, the report on
//! standard output, and `--new-case`.

use std::io::IsTerminal;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use anyhow::bail;
use clap::ArgGroup;
use clap::Args;
use harness::Corpus;
use harness::minimize::Predicate;
use harness::minimize::Request;
use harness::minimize::Status;
use harness::minimize::bytes;
use rollout_trace::Limits;
use rollout_trace::ReduceOptions;

/// Shrink a bundle to the smallest bundle that is still interesting.
///
/// Events, payload items and members, strings and the manifest are removed
/// or shortened while the predicate holds; every candidate is a well-formed
/// bundle (seq and payload files renumbered). The search ends at a fixpoint
/// or at the time limit, and writes the smallest bundle found into OUT.
#[derive(Args)]
#[command(group(
    ArgGroup::new("predicate")
        .required(true)
        .args(["error", "diagnostic", "differs_from", "exec"])
))]
pub struct MinimizeArgs {
    /// The bundle: its folder, or its trace.jsonl.
    bundle: PathBuf,
    /// The folder to create for the result.
    #[arg(short, long, value_name = "OUT")]
    out: PathBuf,
    /// Interesting: reduction fails with an error containing TEXT (give the
    /// message, not its line or seq: those change as events go).
    #[arg(long, value_name = "TEXT")]
    error: Option<String>,
    /// Interesting: reduction succeeds and a diagnostic contains TEXT.
    #[arg(long, value_name = "TEXT")]
    diagnostic: Option<String>,
    /// Interesting: the state differs from what `CMD BUNDLE OUT` writes, or
    /// exactly one of the two fails.
    #[arg(long, value_name = "CMD")]
    differs_from: Option<String>,
    /// Interesting: the shell command CMD exits 0; `{}` is replaced by the
    /// candidate's folder, else the folder is its last argument.
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// Stop after SECS seconds with the smallest bundle so far.
    #[arg(long, value_name = "SECS")]
    time_limit: Option<f64>,
    /// Candidates judged at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Kill a command that runs longer than SECS on one candidate (default:
    /// ten times its run on the original, at least 10).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Reduce with --partial (as `cargo xtask reduce --partial`).
    #[arg(long)]
    partial: bool,
    /// Largest payload file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_payload_bytes)]
    max_payload_bytes: u64,
    /// Longest `trace.jsonl` line, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_line_bytes)]
    max_line_bytes: usize,
    /// Deepest JSON nesting accepted.
    #[arg(long, value_name = "DEPTH", default_value_t = Limits::default().max_json_depth)]
    max_json_depth: usize,
    /// Largest reduced state, in the bytes state.json would take.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_state_bytes)]
    max_state_bytes: u64,
    /// Bytes of payload files read again, in all.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_reread_bytes)]
    max_reread_bytes: u64,
    /// Then make the result a corpus case, as `cargo xtask new-case NAME
    /// --from OUT` does (an err case when our reducer rejects it).
    #[arg(long, value_name = "NAME")]
    new_case: Option<String>,
    /// With --new-case: redact the free text of the case.
    #[arg(long, requires = "new_case")]
    redact: bool,
}

pub fn run(args: &MinimizeArgs) -> anyhow::Result<ExitCode> {
    let predicate = match (
        &args.error,
        &args.diagnostic,
        &args.differs_from,
        &args.exec,
    ) {
        (Some(text), ..) => Predicate::Error(text.clone()),
        (_, Some(text), ..) => Predicate::Diagnostic(text.clone()),
        (_, _, Some(command), _) => Predicate::DiffersFrom(command.clone()),
        (.., Some(command)) => Predicate::Exec(command.clone()),
        _ => bail!("give a predicate: --error, --diagnostic, --differs-from or --exec"),
    };
    if let Some(name) = &args.new_case {
        // Refuse a bad name before the search, not after.
        if let Err(problem) = harness::new_case::check_name(name) {
            bail!(problem);
        }
    }
    if let Some(warning) = predicate.warning() {
        eprintln!("warning: {warning}");
    }
    let seconds = |flag: &str, value: Option<f64>| match value {
        None => Ok(None),
        Some(seconds) => match Duration::try_from_secs_f64(seconds) {
            Ok(duration) => Ok(Some(duration)),
            Err(_) => Err(anyhow::anyhow!(
                "{flag} takes a number of seconds, not {seconds}"
            )),
        },
    };
    let request = Request {
        bundle: &args.bundle,
        out: &args.out,
        predicate,
        time_limit: seconds("--time-limit", args.time_limit)?,
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }),
        command_timeout: seconds("--timeout", args.timeout)?,
        reduce: ReduceOptions {
            partial: args.partial,
            limits: Limits {
                max_payload_bytes: args.max_payload_bytes,
                max_line_bytes: args.max_line_bytes,
                max_json_depth: args.max_json_depth,
                max_state_bytes: args.max_state_bytes,
                max_reread_bytes: args.max_reread_bytes,
            },
            ..ReduceOptions::default()
        },
    };
    let line = ProgressLine::new();
    let outcome = harness::minimize::minimize(&request, &|status| line.show(status));
    line.clear();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(message) => bail!(message),
    };
    print!("{}", harness::minimize::summary(&args.bundle, &outcome));
    let Some(name) = &args.new_case else {
        print!("{}", harness::minimize::next_step(&outcome));
        return Ok(ExitCode::SUCCESS);
    };
    let corpus = Corpus::of_workspace().map_err(anyhow::Error::msg)?;
    let created = match harness::minimize::new_case(&corpus, name, &args.out, args.redact) {
        Ok(created) => created,
        Err(message) => bail!(message),
    };
    for warning in &created.warnings {
        eprintln!("warning: {warning}");
    }
    print!("{}", harness::new_case::summary(&corpus, &created));
    Ok(ExitCode::SUCCESS)
}

/// One line on standard error, rewritten at most ten times a second, when
/// standard error is a terminal.
struct ProgressLine {
    shown: Option<Mutex<Option<Instant>>>,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            shown: std::io::stderr().is_terminal().then(|| Mutex::new(None)),
        }
    }

    fn show(&self, status: &Status) {
        let Some(shown) = &self.shown else { return };
        let Ok(mut last) = shown.lock() else { return };
        if last.is_some_and(|at| at.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let (from, to) = (status.original, status.current);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\r\x1b[2Kminimize: {} → {} events, {} → {}, {} candidates ({} kept), {:.1} s",
            from.events,
            to.events,
            bytes(from.bytes),
            bytes(to.bytes),
            status.tried,
            status.kept,
            status.elapsed.as_secs_f64()
        );
        let _ = stderr.flush();
    }

    fn clear(&self) {
        if self.shown.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
