//! `cargo xtask reduce`: one bundle to `state.json`, like `codex debug trace-reduce`,
//! or (`--format`) to one of the views of `rollout_trace::views`.

use std::io::IsTerminal;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clap::ValueEnum;
use rollout_trace::Limits;
use rollout_trace::ReduceOptions;
use rollout_trace::bundle::BundleLocation;
use rollout_trace::views::View;
use rollout_trace::views::ViewOptions;

/// Reduce a trace bundle to its `state.json` graph, or show it as a view.
///
/// Views: `summary` (a tree of threads, turns and calls), `transcript` (each
/// thread's conversation), `perfetto` (Chrome trace-event JSON: open it in
/// ui.perfetto.dev or chrome://tracing), `otlp` (OTLP/JSON traces with the
/// OpenTelemetry GenAI conventions).
#[derive(Args)]
pub struct ReduceArgs {
    /// The bundle folder, or its `trace.jsonl`.
    trace: PathBuf,
    /// Where to write: a file, or `-` for standard output.
    /// Default: `state.json` in the bundle folder for `--format json`,
    /// standard output for the other formats.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// What to write: the reduced state, or a view of it.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
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
    let view = match args.format {
        Format::Json => None,
        Format::Summary => Some(View::Summary),
        Format::Transcript => Some(View::Transcript),
        Format::Perfetto => Some(View::Perfetto),
        Format::Otlp => Some(View::Otlp),
    };
    if let Some(view) = view {
        return write_view(args, &reduction.trace, view);
    }
    let state = rollout_trace::state_json(&reduction.trace);
    let output = match &args.output {
        Some(output) => output.clone(),
        None => BundleLocation::locate(&args.trace).root.join("state.json"),
    };
    if output == Path::new("-") {
        write_stdout(&state, "the state")?;
        return Ok(ExitCode::SUCCESS);
    }
    rollout_trace::write_atomically(&output, state.as_bytes())
        .with_context(|| format!("write {}", output.display()))?;
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}

/// A view on standard output, or in the `-o` file.
fn write_view(
    args: &ReduceArgs,
    trace: &rollout_trace::model::RolloutTrace,
    view: View,
) -> anyhow::Result<ExitCode> {
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
    let text = rollout_trace::views::render(trace, view, &options);
    let Some(output) = to_file else {
        write_stdout(&text, view.name())?;
        return Ok(ExitCode::SUCCESS);
    };
    rollout_trace::write_atomically(output, text.as_bytes())
        .with_context(|| format!("write {}", output.display()))?;
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}

fn write_stdout(text: &str, what: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    // A closed pipe (`| head`) is the reader's choice, not a failure.
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(error).with_context(|| format!("write {what} to standard output"));
    }
    Ok(())
}
