//! `html`: one self-contained page to explore a rollout in a browser, from
//! `file://`, offline: the rollout's status, duration and tokens, the thread
//! tree, each thread's turns (inference calls, code cells, tool calls,
//! compactions and agent edges, in order) and conversation, every object
//! opening to its full content, deep links (`page.html#<id>`), search and
//! filters.
//!
//! The document is written in one pass to a writer, never built in memory:
//! - the outline ([`outline`]): every row as escaped HTML; without
//!   JavaScript it is the page;
//! - the trace as JSON in `<script type="application/json">` ([`data`]);
//! - `explorer.js`, which builds a row's body from that JSON when the row
//!   opens (so closed rows cost no DOM), and does deep links, search and
//!   filters; `explorer.css`.
//!
//! Invariants:
//! - A pure function of the trace, like every view; the same trace gives the
//!   same bytes.
//! - Trace data is never markup: the outline escapes it ([`markup`]), the
//!   JSON cannot end its script element, and `explorer.js` builds elements
//!   with `createElement` and `textContent` only (no `innerHTML`).
//! - Nothing is requested from any network or file: no external script,
//!   style, font or image, and a Content-Security-Policy ([`csp`]) that
//!   allows nothing but the page's own script and style.
//! - The page is smaller than `state.json`: the outline is one line per
//!   object and the data is compact JSON whose request lists are stored as
//!   differences.

mod csp;
mod data;
mod markup;
mod outline;

use std::collections::BTreeSet;
use std::io;
use std::io::Write;

use markup::Markup;
use outline::Outline;

use super::graph::Graph;
use super::graph::tool_name;
use super::text::duration;
use super::text::plural;
use crate::model::ExecutionStatus;
use crate::model::RolloutTrace;

/// The page's script (hand-written, no build step).
const SCRIPT: &str = include_str!("explorer.js");
/// The page's style sheet.
const STYLE: &str = include_str!("explorer.css");

pub(crate) fn render(trace: &RolloutTrace, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let graph = Graph::new(trace);
    let mut m = Markup::new(&mut out);
    head(&mut m, trace)?;
    header(&mut m, trace)?;
    toolbar(&mut m, &graph)?;
    Outline::new(&graph).write(&mut m)?;
    m.raw("<script type=\"application/json\" class=\"trace-data\">")?;
    data::write(m.writer(), trace)?;
    m.raw("</script>\n<script>")?
        .raw(SCRIPT)?
        .raw("</script>\n</body>\n</html>\n")?;
    out.flush()
}

fn head(m: &mut Markup, trace: &RolloutTrace) -> io::Result<()> {
    m.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")?
        .raw("<meta http-equiv=\"Content-Security-Policy\" content=\"")?
        .attr(&csp::policy(SCRIPT, STYLE))?
        .raw("\">\n<meta name=\"referrer\" content=\"no-referrer\">\n")?
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")?
        .raw("<meta name=\"generator\" content=\"rollout-trace ")?
        .attr(env!("CARGO_PKG_VERSION"))?
        .raw("\">\n<title>rollout ")?
        .text(&trace.rollout_id)?
        .raw(" · ")?
        .text(trace.status.as_str())?
        .raw("</title>\n<style>")?
        .raw(STYLE)?
        .raw("</style>\n</head>\n<body>\n")?;
    Ok(())
}

/// Status, duration, start, counts and tokens of the whole rollout.
fn header(m: &mut Markup, trace: &RolloutTrace) -> io::Result<()> {
    m.raw("<header class=\"top\">\n<h1>rollout <code>")?
        .text(&trace.rollout_id)?
        .raw("</code> ")?;
    outline::status(m, ExecutionStatus::from(trace.status), true)?;
    m.raw("</h1>\n<p>")?;
    if let Some(ended) = trace.ended_at_unix_ms {
        m.raw("<b>")?
            .text(&duration(ended.saturating_sub(trace.started_at_unix_ms)))?
            .raw("</b> · ")?;
    }
    m.raw("started ")?
        .text(&utc(trace.started_at_unix_ms))?
        .raw(" · trace <code>")?
        .text(&trace.trace_id)?
        .raw("</code></p>\n<p>")?;
    let counts: Vec<String> = [
        (trace.threads.len(), "thread"),
        (trace.codex_turns.len(), "turn"),
        (trace.inference_calls.len(), "inference call"),
        (trace.tool_calls.len(), "tool call"),
        (trace.code_cells.len(), "code cell"),
        (trace.compactions.len(), "compaction"),
        (trace.interaction_edges.len(), "agent edge"),
        (trace.conversation_items.len(), "conversation item"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, noun)| plural(n, noun))
    .collect();
    m.text(&counts.join(" · "))?.raw("</p>\n")?;
    let usage = outline::total_usage(trace);
    m.raw("<p>")?.text(&outline::tokens(&usage))?;
    if usage.reasoning_output_tokens > 0 {
        m.text(&format!(" ({} reasoning)", usage.reasoning_output_tokens))?;
    }
    m.raw("</p>\n")?;
    let problems = problems(trace);
    if !problems.is_empty() {
        m.raw("<p class=\"warn\">")?
            .text(&problems)?
            .raw("</p>\n")?;
    }
    m.raw("<noscript><p class=\"note\">JavaScript is off: this is the outline. ")?
        .raw("With JavaScript, every row opens to its full content, and search and filters work.</p></noscript>\n")?
        .raw("</header>\n")?;
    Ok(())
}

/// `not completed: 1 turn, 2 tool calls · 3 commands exited non-zero`, or
/// nothing: what "failed only" shows.
fn problems(trace: &RolloutTrace) -> String {
    let bad = outline::is_bad;
    let counts = [
        (
            trace
                .threads
                .values()
                .filter(|t| bad(t.execution.status))
                .count(),
            "thread",
        ),
        (
            trace
                .codex_turns
                .values()
                .filter(|t| bad(t.execution.status))
                .count(),
            "turn",
        ),
        (
            trace
                .inference_calls
                .values()
                .filter(|c| bad(c.execution.status))
                .count(),
            "inference call",
        ),
        (
            trace
                .code_cells
                .values()
                .filter(|c| bad(c.execution.status))
                .count(),
            "code cell",
        ),
        (
            trace
                .tool_calls
                .values()
                .filter(|t| bad(t.execution.status))
                .count(),
            "tool call",
        ),
    ];
    let mut parts: Vec<String> = Vec::new();
    let not_completed: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, noun)| plural(*n, noun))
        .collect();
    if !not_completed.is_empty() {
        parts.push(format!("not completed: {}", not_completed.join(", ")));
    }
    let exited = trace
        .terminal_operations
        .values()
        .filter_map(|operation| operation.result.as_ref()?.exit_code)
        .filter(|code| *code != 0)
        .count();
    if exited > 0 {
        parts.push(format!("{} exited non-zero", plural(exited, "command")));
    }
    parts.join(" · ")
}

/// Search and filters, hidden until the script shows them.
fn toolbar(m: &mut Markup, graph: &Graph<'_>) -> io::Result<()> {
    m.raw("<div class=\"tools\" hidden>\n")?
        .raw("<input type=\"search\" class=\"q\" placeholder=\"search all text: messages, commands, output, ids\" aria-label=\"search\">\n")?
        .raw("<label title=\"failed, cancelled or aborted, or a command that exited non-zero\"><input type=\"checkbox\" class=\"bad\"> failed only</label>\n")?
        .raw("<select class=\"thread\" aria-label=\"thread\"><option value=\"\">all threads</option>")?;
    for thread in &graph.threads {
        m.raw("<option value=\"")?
            .attr(&thread.thread_id)?
            .raw("\">")?
            .text(&Graph::thread_label(thread))?
            .raw("</option>")?;
    }
    m.raw("</select>\n<select class=\"tool\" aria-label=\"tool\"><option value=\"\">all tools</option>")?;
    let trace = graph.trace;
    let mut names: BTreeSet<String> = trace.tool_calls.values().map(tool_name).collect();
    if !trace.code_cells.is_empty() {
        names.insert("exec".to_string());
    }
    if !trace.compactions.is_empty() {
        names.insert("compaction".to_string());
    }
    for name in names {
        m.raw("<option value=\"")?
            .attr(&name)?
            .raw("\">")?
            .text(&name)?
            .raw("</option>")?;
    }
    m.raw("</select>\n<span class=\"count\"></span>\n</div>\n")?
        .raw("<div class=\"results\" hidden></div>\n")?;
    Ok(())
}

/// `2025-10-09 09:43:19 UTC` (proleptic Gregorian, from the Unix epoch).
fn utc(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1_000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Days to a civil date: Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3_600,
        second_of_day % 3_600 / 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_follow_the_calendar() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_760_002_999_988), "2025-10-09 09:43:19 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn the_script_never_parses_markup_and_nothing_loads_anything() {
        for forbidden in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "createContextualFragment",
            "DOMParser",
            "eval(",
            "Function(",
            "fetch(",
            "XMLHttpRequest",
            "import(",
            "http:",
            "https:",
        ] {
            assert!(!SCRIPT.contains(forbidden), "explorer.js uses {forbidden}");
        }
        for forbidden in ["url(", "@import", "@font-face", "http:", "https:"] {
            assert!(!STYLE.contains(forbidden), "explorer.css uses {forbidden}");
        }
    }

    #[test]
    fn the_script_and_style_cannot_end_their_elements() {
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!SCRIPT.contains("<!--"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
    }
}
