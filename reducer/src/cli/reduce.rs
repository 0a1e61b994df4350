//! `cargo xtask reduce`: bundles to `state.json`, like `codex debug trace-reduce`,
//! or (`--format`) to one of the views of `crate::views`.
//!
//! One bundle: its state goes to `<bundle>/state.json` (or `-o`), with a
//! progress bar on a terminal when the bundle is large. Several bundles (or a
//! folder of bundles): each gets its own `state.json`, `--jobs` at a time, and
//! a table of outcomes ends the run; one failure does not stop the others.

use std::io::IsTerminal;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::Duration;
use std::time::Instant;

use crate::Limits;
use crate::Progress;
use crate::ReduceOptions;
use crate::Reduction;
use crate::bundle::BundleLocation;
use crate::raw::MANIFEST_FILE_NAME;
use crate::raw::TRACE_FILE_NAME;
use crate::views::View;
use crate::views::ViewOptions;
use anyhow::Context;
use clap::Args;
use clap::ValueEnum;
use indicatif::ProgressBar;
use indicatif::ProgressDrawTarget;
use indicatif::ProgressStyle;

/// Bundles larger than this show a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 50 << 20;

/// Reduce trace bundles to their `state.json` graph, or show one as a view.
///
/// Views: `summary` (a tree of threads, turns and calls), `transcript` (each
/// thread's conversation), `perfetto` (Chrome trace-event JSON: open it in
/// ui.perfetto.dev or chrome://tracing), `otlp` (OTLP/JSON traces with the
/// OpenTelemetry GenAI conventions), `html` (one self-contained page to
/// explore the rollout in a browser, offline).
///
/// Several bundles, or a folder whose subfolders are bundles, are reduced in
/// parallel (`--jobs`), each to its own `state.json`, and a table of outcomes
/// ends the run (exit status 1 if any failed).
#[derive(Args)]
pub struct ReduceArgs {
    /// A bundle folder or its `trace.jsonl`; or a folder holding bundles.
    #[arg(required = true, value_name = "TRACE")]
    pub(super) traces: Vec<PathBuf>,
    /// Where to write (one bundle only): a file, or `-` for standard output.
    /// Default: `state.json` in the bundle folder for `--format json`,
    /// standard output for the other formats.
    #[arg(short, long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// What to write: the reduced state, or a view of it (one bundle only).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(super) format: Format,
    /// transcript: show whole item bodies instead of their first lines.
    #[arg(long)]
    full: bool,
    /// otlp: include message content, tool arguments and results, and command lines.
    #[arg(long)]
    include_content: bool,
    /// summary, transcript: colour. `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = Color::Auto)]
    color: Color,
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
    /// Largest reduced state, in the bytes state.json would take (counted
    /// while reducing: a small bundle that names large payloads again and
    /// again stops here instead of exhausting memory and disk).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_state_bytes)]
    max_state_bytes: u64,
    /// Bytes of payload files read again, in all (a file's first read is
    /// free): a bundle that names the same payloads again and again stops here.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_reread_bytes)]
    max_reread_bytes: u64,
    /// Several bundles: how many to reduce at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Follow a bundle being written: apply new events as they land and
    /// rewrite the output; ends after `rollout_ended`, on Ctrl-C or SIGTERM,
    /// or with --idle-exit.
    #[arg(long)]
    pub(super) follow: bool,
    /// --follow: rewrite the output at most this often, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500, requires = "follow")]
    pub(super) interval: u64,
    /// --follow: end after this many seconds without a new event.
    #[arg(long, value_name = "SECS", requires = "follow")]
    pub(super) idle_exit: Option<f64>,
    /// --follow: how long an event waits for a payload file it names before
    /// it is applied as it is (and fails as a batch reduce would).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, requires = "follow")]
    pub(super) payload_timeout: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    /// The reduced state (`state.json`).
    Json,
    /// A compact tree for a terminal.
    Summary,
    /// The model-visible conversation of each thread.
    Transcript,
    /// Chrome trace-event JSON for Perfetto UI and chrome://tracing.
    Perfetto,
    /// OTLP/JSON traces (GenAI semantic conventions).
    Otlp,
    /// One self-contained page to explore the rollout in a browser.
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// The reading options the flags ask for.
pub(super) fn options_of(args: &ReduceArgs) -> ReduceOptions {
    ReduceOptions {
        partial: args.partial,
        limits: Limits {
            max_payload_bytes: args.max_payload_bytes,
            max_line_bytes: args.max_line_bytes,
            max_json_depth: args.max_json_depth,
            max_state_bytes: args.max_state_bytes,
            max_reread_bytes: args.max_reread_bytes,
        },
        ..ReduceOptions::default()
    }
}

/// Reduces the bundles `args` name (without `--follow`, see `cli::run_reduce`).
pub(super) fn run(args: &ReduceArgs) -> anyhow::Result<ExitCode> {
    let options = options_of(args);
    let (bundles, batch) = bundles_of(&args.traces);
    if batch {
        if args.output.is_some() || args.format != Format::Json {
            anyhow::bail!(
                "several bundles are reduced to their own state.json: -o and --format need a single bundle"
            );
        }
        return Ok(reduce_batch(&bundles, &options, args.jobs));
    }
    let Some(bundle) = bundles.first() else {
        anyhow::bail!("no bundle given");
    };
    let reduction = match reduce_with_progress(bundle, &options) {
        Ok(reduction) => reduction,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    for diagnostic in &reduction.diagnostics {
        eprintln!("note: {diagnostic}");
    }
    write_reduction(args, bundle, &reduction, false)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the reduction where and as `args` say: the state, or a view.
/// `redraw`: a terminal shows the view in place of the previous one.
pub(super) fn write_reduction(
    args: &ReduceArgs,
    bundle: &Path,
    reduction: &Reduction,
    redraw: bool,
) -> anyhow::Result<()> {
    let view = match args.format {
        Format::Json => None,
        Format::Summary => Some(View::Summary),
        Format::Transcript => Some(View::Transcript),
        Format::Perfetto => Some(View::Perfetto),
        Format::Otlp => Some(View::Otlp),
        Format::Html => Some(View::Html),
    };
    if let Some(view) = view {
        return write_view(args, &reduction.trace, view, redraw);
    }
    let output = match &args.output {
        Some(output) => output.clone(),
        None => BundleLocation::locate(bundle).root.join("state.json"),
    };
    if output == Path::new("-") {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let written =
            crate::write_state_json(&reduction.trace, &mut stdout).and_then(|()| stdout.flush());
        ignore_broken_pipe(written).context("write the state to standard output")?;
        return Ok(());
    }
    write_state(&output, reduction)?;
    if !args.follow {
        announce(&output);
    }
    Ok(())
}

/// Prints the path written, when it names a file (not a device, a FIFO or
/// standard output, whose reader must get only the content).
fn announce(output: &Path) {
    if std::fs::metadata(output).is_ok_and(|metadata| metadata.is_file())
        && !output.starts_with("/dev")
        && !output.starts_with("/proc")
    {
        println!("{}", output.display());
    }
}

/// The bundles named by the arguments, and whether they are a batch: more
/// than one, or a folder that holds bundles rather than being one.
fn bundles_of(traces: &[PathBuf]) -> (Vec<PathBuf>, bool) {
    let mut bundles = Vec::new();
    let mut batch = traces.len() > 1;
    for trace in traces {
        if is_bundle(trace) {
            bundles.push(trace.clone());
            continue;
        }
        let mut inner: Vec<PathBuf> = std::fs::read_dir(trace)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_dir() && is_bundle(path))
            .collect();
        if inner.is_empty() {
            // Not a bundle and holds none: reduce it and let the error say why.
            bundles.push(trace.clone());
        } else {
            inner.sort();
            bundles.extend(inner);
            batch = true;
        }
    }
    (bundles, batch)
}

fn is_bundle(path: &Path) -> bool {
    path.is_file() || path.join(MANIFEST_FILE_NAME).exists() || path.join(TRACE_FILE_NAME).exists()
}

/// Reduces one bundle, with a progress bar on standard error when it is
/// large and standard error is a terminal.
fn reduce_with_progress(
    bundle: &Path,
    options: &ReduceOptions,
) -> Result<Reduction, crate::ReduceError> {
    let size = bundle_size(bundle);
    if size < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return crate::reduce_bundle_with(bundle, options);
    }
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut on_progress = |progress: &Progress| {
        if !progress.events.is_multiple_of(64) {
            return;
        }
        if let Some(trace_bytes) = progress.trace_bytes.filter(|bytes| *bytes > 0) {
            // Payloads are written beside the events that reference them, so
            // the share of the log read is the share of the bundle read.
            let share = progress.trace_bytes_read as f64 / trace_bytes as f64;
            bar.set_position((share * size as f64) as u64);
        }
        bar.set_message(format!("{} events", progress.events));
    };
    let result = crate::reduce_bundle_observed(bundle, options, &mut on_progress);
    bar.finish_and_clear();
    result
}

/// Bytes of the event log and the payload folder.
fn bundle_size(bundle: &Path) -> u64 {
    let location = BundleLocation::locate(bundle);
    let trace = std::fs::metadata(&location.trace_path).map_or(0, |metadata| metadata.len());
    let payloads: u64 = std::fs::read_dir(location.root.join(crate::raw::PAYLOADS_DIR_NAME))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    trace + payloads
}

/// Streams the state into its file, replaced atomically.
fn write_state(output: &Path, reduction: &Reduction) -> anyhow::Result<()> {
    crate::write_atomically_with(output, |file| {
        crate::write_state_json(&reduction.trace, file)
    })
    .with_context(|| format!("write {}", output.display()))
}

/// The outcome of one bundle of a batch.
struct Outcome {
    bundle: PathBuf,
    result: Result<u64, String>,
    time: Duration,
}

/// Reduces every bundle into its own `state.json`, `jobs` at a time, and
/// prints a table of outcomes. A pure function of one bundle: any batch
/// engine can run the same command bundle by bundle.
fn reduce_batch(bundles: &[PathBuf], options: &ReduceOptions, jobs: Option<usize>) -> ExitCode {
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, bundles.len().max(1));
    let next = Mutex::new(0usize);
    let outcomes = Mutex::new(Vec::with_capacity(bundles.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(bundle) = bundles.get(index) else {
                        break;
                    };
                    let outcome = reduce_one(bundle, options);
                    outcomes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((index, outcome));
                }
            });
        }
    });
    let mut outcomes = outcomes
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    outcomes.sort_by_key(|(index, _)| *index);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, outcome)| outcome).collect();
    print!("{}", outcome_table(&outcomes));
    let failed = outcomes
        .iter()
        .filter(|outcome| outcome.result.is_err())
        .count();
    if failed > 0 {
        for outcome in &outcomes {
            if let Err(error) = &outcome.result {
                eprintln!("error: {}: {error}", outcome.bundle.display());
            }
        }
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn reduce_one(bundle: &Path, options: &ReduceOptions) -> Outcome {
    let started = Instant::now();
    let result = crate::reduce_bundle_with(bundle, options)
        .map_err(|error| error.to_string())
        .and_then(|reduction| {
            let output = BundleLocation::locate(bundle).root.join("state.json");
            write_state(&output, &reduction)
                .map(|()| reduction.events)
                .map_err(|error| format!("{error:#}"))
        });
    Outcome {
        bundle: bundle.to_path_buf(),
        result,
        time: started.elapsed(),
    }
}

fn outcome_table(outcomes: &[Outcome]) -> String {
    let width = outcomes
        .iter()
        .map(|outcome| outcome.bundle.display().to_string().len())
        .max()
        .unwrap_or(0)
        .max("bundle".len());
    let mut table = format!(
        "{:<width$}  status  {:>8}  {:>9}\n",
        "bundle", "events", "time"
    );
    for outcome in outcomes {
        let (status, events) = match &outcome.result {
            Ok(events) => ("ok", events.to_string()),
            Err(_) => ("FAILED", "-".to_string()),
        };
        table.push_str(&format!(
            "{:<width$}  {status:<6}  {events:>8}  {:>8.2}s\n",
            outcome.bundle.display(),
            outcome.time.as_secs_f64()
        ));
    }
    let failed = outcomes
        .iter()
        .filter(|outcome| outcome.result.is_err())
        .count();
    table.push_str(&format!(
        "{} bundles, {} reduced, {failed} failed\n",
        outcomes.len(),
        outcomes.len() - failed
    ));
    table
}

/// A view on standard output, or in the `-o` file.
fn write_view(
    args: &ReduceArgs,
    trace: &crate::model::RolloutTrace,
    view: View,
    redraw: bool,
) -> anyhow::Result<()> {
    let to_file = args.output.as_ref().filter(|path| *path != Path::new("-"));
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        // NO_COLOR (no-color.org): set and not empty turns colour off.
        Color::Auto => {
            to_file.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        }
    };
    let options = ViewOptions {
        color,
        full: args.full,
        include_content: args.include_content,
    };
    let Some(output) = to_file else {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        // A terminal shows the new view in place of the old one: cursor
        // home, clear the screen.
        let home = if redraw { "\x1b[H\x1b[2J" } else { "" };
        let written = stdout
            .write_all(home.as_bytes())
            .and_then(|()| crate::views::write(trace, view, &options, &mut stdout))
            .and_then(|()| stdout.flush());
        ignore_broken_pipe(written)
            .with_context(|| format!("write {} to standard output", view.name()))?;
        return Ok(());
    };
    crate::write_atomically_with(output, |file| {
        crate::views::write(trace, view, &options, file)
    })
    .with_context(|| format!("write {}", output.display()))?;
    if !args.follow {
        announce(output);
    }
    Ok(())
}

/// A closed pipe (`| head`) is the reader's choice, not a failure.
fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
