//! Views a person can read: projections of a reduced [`RolloutTrace`] for
//! people and for the tools people debug agent runs with.
//!
//! | view | for | function |
//! | --- | --- | --- |
//! | summary | a terminal: the tree of threads, turns, calls and edges | [`summary()`] |
//! | transcript | a terminal: each thread's conversation as the model saw it | [`transcript()`] |
//! | perfetto | Perfetto UI and `chrome://tracing` (Chrome trace-event JSON) | [`perfetto()`], [`perfetto_document`] |
//! | otlp | OpenTelemetry backends (OTLP/JSON, GenAI semantic conventions [`SEMCONV_VERSION`]) | [`otlp()`], [`otlp_document`] |
//! | html | a browser: one self-contained page to click through (offline, from `file://`) | [`html()`] |
//!
//! Invariants:
//! - Every view is a pure function of the trace and [`ViewOptions`]: no I/O,
//!   no clock, no environment, no hash-map order. The same trace gives the
//!   same bytes. Whether to colour is the caller's decision (`color`).
//! - Views read the model only; they never change it, and they accept any
//!   `RolloutTrace`, including partial ones (open windows, dangling ids):
//!   nothing in them panics on data.
//! - [`html()`] writes to a writer as it goes (a 200-turn rollout's page is
//!   megabytes); [`render`] and [`write()`] work for every view.
//! - The terminal views ([`summary()`], [`transcript()`]) fit [`WIDTH`]
//!   characters per line when colour is off, and sanitize every string taken
//!   from the trace so that no control character reaches the terminal.
//!
//! ```no_run
//! use rollout_trace::views;
//!
//! let reduction = rollout_trace::reduce_bundle("path/to/bundle")?;
//! print!("{}", views::summary(&reduction.trace, &views::ViewOptions::default()));
//! # Ok::<(), rollout_trace::ReduceError>(())
//! ```

mod fold;
mod graph;
mod html;
mod otlp;
mod perfetto;
mod summary;
mod text;
mod transcript;

use std::io;
use std::io::Write;

use serde_json::Value;

use crate::model::RolloutTrace;

pub use otlp::SEMCONV_VERSION;
pub use text::WIDTH;

/// One of the views, by the name the command line uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum View {
    Summary,
    Transcript,
    Perfetto,
    Otlp,
    Html,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Summary,
        View::Transcript,
        View::Perfetto,
        View::Otlp,
        View::Html,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Summary => "summary",
            View::Transcript => "transcript",
            View::Perfetto => "perfetto",
            View::Otlp => "otlp",
            View::Html => "html",
        }
    }
}

/// Options of the views; each view reads only the fields it documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// `summary`, `transcript`: write ANSI colour escapes.
    pub color: bool,
    /// `transcript`: show whole item bodies instead of their first lines.
    pub full: bool,
    /// `otlp`: write message content, tool arguments, results and command
    /// lines (which may hold secrets or personal data).
    pub include_content: bool,
}

/// The view as text, ending with a newline.
pub fn render(trace: &RolloutTrace, view: View, options: &ViewOptions) -> String {
    match view {
        View::Summary => summary(trace, options),
        View::Transcript => transcript(trace, options),
        View::Perfetto => perfetto(trace),
        View::Otlp => otlp(trace, options),
        View::Html => {
            let mut page = Vec::new();
            // Writing to memory cannot fail, and the page is UTF-8.
            let _ = html(trace, options, &mut page);
            String::from_utf8(page).unwrap_or_default()
        }
    }
}

/// Writes the view to `out` (the bytes of [`render`]) as it is made: no
/// view is first built as one string.
pub fn write(
    trace: &RolloutTrace,
    view: View,
    options: &ViewOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match view {
        View::Summary => summary::write(trace, options, out),
        View::Transcript => transcript::write(trace, options, out),
        View::Perfetto => perfetto::write(trace, out),
        View::Otlp => otlp::write(trace, options, out),
        View::Html => html(trace, options, out),
    }
}

/// A self-contained HTML page to explore the rollout in a browser, offline
/// and from `file://`: the thread tree, each thread's turns (inference
/// calls, code cells, tool calls, compactions, agent edges) and
/// conversation, every object opening to its full content, deep links
/// (`page.html#<id>`), search and filters. Written to `out` as it is made;
/// reads no option. The page requests nothing from any network and inserts
/// trace data as text only.
pub fn html(trace: &RolloutTrace, _options: &ViewOptions, out: &mut dyn Write) -> io::Result<()> {
    html::render(trace, out)
}

/// The compact tree of the rollout (reads `color`).
pub fn summary(trace: &RolloutTrace, options: &ViewOptions) -> String {
    summary::render(trace, options)
}

/// Each thread's conversation (reads `color` and `full`).
pub fn transcript(trace: &RolloutTrace, options: &ViewOptions) -> String {
    transcript::render(trace, options)
}

/// Chrome trace-event JSON, one event per line.
pub fn perfetto(trace: &RolloutTrace) -> String {
    perfetto::render(trace)
}

/// The Chrome trace-event document as a value (the same events as [`perfetto()`]).
pub fn perfetto_document(trace: &RolloutTrace) -> Value {
    perfetto::document(trace)
}

/// OTLP/JSON traces, pretty-printed (reads `include_content`).
pub fn otlp(trace: &RolloutTrace, options: &ViewOptions) -> String {
    otlp::render(trace, options)
}

/// The OTLP `ExportTraceServiceRequest` as a value (reads `include_content`).
pub fn otlp_document(trace: &RolloutTrace, options: &ViewOptions) -> Value {
    otlp::document(trace, options)
}
