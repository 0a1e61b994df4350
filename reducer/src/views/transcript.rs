//! `transcript`: the model-visible conversation of each thread, in the order
//! the thread first saw its items: role, channel, text, tool calls with their
//! arguments and outputs, reasoning summaries; items a compaction installed
//! are marked.
//!
//! Invariants:
//! - Every line fits [`WIDTH`] characters (colour escapes excluded): text is
//!   wrapped, never cut mid-line.
//! - Without `full`, an item body longer than [`ITEM_LINES`] lines shows its
//!   first lines and says how many more there are; with `full`, everything
//!   the trace holds is shown. JSON bodies that the reducer itself cut at
//!   240 bytes say which payload file holds the whole text.
//! - Text from the trace is sanitized (no control characters reach the
//!   terminal); the item order is `AgentThread::conversation_item_ids`.

use super::ViewOptions;
use super::graph::Graph;
use super::graph::tool_name;
use super::text::Line;
use super::text::Style;
use super::text::WIDTH;
use super::text::plural;
use super::text::sanitize_block;
use super::text::wrap;
use crate::model::AgentThread;
use crate::model::ConversationItem;
use crate::model::ConversationItemKind;
use crate::model::ConversationPart;
use crate::model::ConversationRole;
use crate::model::ExecutionStatus;
use crate::model::RolloutTrace;

/// Body lines shown per item without `full`.
pub(crate) const ITEM_LINES: usize = 12;
/// Lines of an item body indented under its header.
const BODY_INDENT: usize = 2;
/// Bytes after which the reducer cuts JSON summaries (`reduction.md` §6).
const JSON_SUMMARY_BYTES: usize = 240;

pub(crate) fn render(trace: &RolloutTrace, options: &ViewOptions) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and every line is UTF-8.
    let _ = write(trace, options, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes of [`render`], written line by line.
pub(crate) fn write(
    trace: &RolloutTrace,
    options: &ViewOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let graph = Graph::new(trace);
    let mut lines: Vec<Line> = Vec::new();
    for (index, thread) in graph.threads.iter().enumerate() {
        if index > 0 {
            lines.push(Line::default());
        }
        thread_lines(&graph, thread, options, &mut lines);
    }
    for line in lines {
        out.write_all(line.render(WIDTH, options.color).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn thread_lines(
    graph: &Graph<'_>,
    thread: &AgentThread,
    options: &ViewOptions,
    lines: &mut Vec<Line>,
) {
    let trace = graph.trace;
    let title = format!(
        "━━ {} · thread {} ",
        Graph::thread_label(thread),
        thread.thread_id
    );
    let mut line = Line::default();
    line.push(rule(&title, '━'), Style::Bold);
    lines.push(line);
    let turns = graph.turns(&thread.thread_id);
    let mut facts = vec![
        plural(thread.conversation_item_ids.len(), "item"),
        plural(turns.len(), "turn"),
    ];
    if let Some(model) = &thread.default_model {
        facts.push(model.clone());
    }
    let mut line = Line::default();
    line.push(facts.join(" · "), Style::Dim);
    lines.push(line);

    let mut current_turn: Option<&str> = None;
    for item_id in &thread.conversation_item_ids {
        let Some(item) = trace.conversation_items.get(item_id) else {
            let mut line = Line::default();
            line.push(format!("{item_id}: not in the trace"), Style::Warn);
            lines.push(line);
            continue;
        };
        if let Some(turn_id) = item.codex_turn_id.as_deref()
            && current_turn != Some(turn_id)
        {
            current_turn = Some(turn_id);
            let number = turns
                .iter()
                .position(|turn| turn.codex_turn_id == turn_id)
                .map_or(String::new(), |index| format!("{} · ", index + 1));
            lines.push(Line::default());
            let mut line = Line::default();
            line.push(
                rule(&format!("── turn {number}{turn_id} "), '─'),
                Style::Dim,
            );
            lines.push(line);
        }
        lines.push(Line::default());
        item_lines(graph, item, options, lines);
    }
}

/// `title` followed by `fill` up to the width.
fn rule(title: &str, fill: char) -> String {
    let used = title.chars().count();
    let mut text = title.to_string();
    text.extend(std::iter::repeat_n(fill, WIDTH.saturating_sub(used)));
    text
}

fn item_lines(
    graph: &Graph<'_>,
    item: &ConversationItem,
    options: &ViewOptions,
    lines: &mut Vec<Line>,
) {
    let mut line = Line::default();
    let number = item
        .item_id
        .strip_prefix("conversation_item:")
        .map_or(item.item_id.clone(), |n| format!("#{n}"));
    line.push(format!("{number} "), Style::Dim);
    line.push(item.role.as_str(), role_style(item.role));
    if let Some(channel) = item.channel {
        line.plain(format!(" · {}", channel.as_str()));
    }
    let (what, status) = describe(graph, item);
    if !what.is_empty() {
        line.plain(format!(" · {what}"));
    }
    if let Some(status) = status.filter(|status| *status != ExecutionStatus::Completed) {
        let style = if status == ExecutionStatus::Failed {
            Style::Bad
        } else {
            Style::Warn
        };
        line.push(format!(" · {}", status.as_str()), style);
    }
    if let Some(compaction_id) = graph.compaction_of_item(&item.item_id)
        && item.kind != ConversationItemKind::CompactionMarker
    {
        line.push(format!(" · from compaction {compaction_id}"), Style::Warn);
    }
    lines.push(line);

    if item.kind == ConversationItemKind::CompactionMarker && item.body.parts.is_empty() {
        return;
    }
    let body = body_lines(graph, item);
    let shown = if options.full || body.len() <= ITEM_LINES {
        body.len()
    } else {
        ITEM_LINES - 1
    };
    for (text, style) in &body[..shown] {
        let mut line = Line::indented(BODY_INDENT);
        line.push(text.clone(), *style);
        lines.push(line);
    }
    if shown < body.len() {
        let mut line = Line::indented(BODY_INDENT);
        let more = body.len() - shown;
        let noun = if more == 1 { "line" } else { "lines" };
        line.push(
            format!("… {more} more {noun} (--full shows all)"),
            Style::Dim,
        );
        lines.push(line);
    }
}

/// What an item is beyond its role and channel, and the status of the tool
/// call behind it.
fn describe(graph: &Graph<'_>, item: &ConversationItem) -> (String, Option<ExecutionStatus>) {
    let call_id = item.call_id.as_deref().unwrap_or("");
    let tool = graph.tool_for_call(&item.thread_id, call_id);
    let cell = graph.cell_for_item(&item.item_id);
    let name = match (tool, cell) {
        (Some(tool), _) => tool_name(tool),
        (None, Some(_)) => "exec".to_string(),
        (None, None) => "tool".to_string(),
    };
    let status = tool
        .map(|tool| tool.execution.status)
        .or(cell.map(|cell| cell.execution.status));
    let call = if call_id.is_empty() {
        String::new()
    } else {
        format!(" ({call_id})")
    };
    match item.kind {
        ConversationItemKind::Message => match &item.agent_message {
            Some(routing) => (
                format!("message {} → {}", routing.author, routing.recipient),
                None,
            ),
            None => (String::new(), None),
        },
        ConversationItemKind::Reasoning => ("reasoning".to_string(), None),
        ConversationItemKind::FunctionCall | ConversationItemKind::CustomToolCall => {
            (format!("call {name}{call}"), status)
        }
        ConversationItemKind::FunctionCallOutput | ConversationItemKind::CustomToolCallOutput => {
            (format!("output of {name}{call}"), status)
        }
        ConversationItemKind::CompactionMarker => {
            let detail = graph
                .compaction_of_item(&item.item_id)
                .and_then(|id| graph.trace.compactions.get(id))
                .map_or(String::new(), |compaction| {
                    format!(
                        " {}: {} → {} items",
                        compaction.compaction_id,
                        compaction.input_item_ids.len(),
                        compaction.replacement_item_ids.len()
                    )
                });
            (format!("compaction marker{detail}"), None)
        }
    }
}

/// The body of an item as wrapped lines.
fn body_lines(graph: &Graph<'_>, item: &ConversationItem) -> Vec<(String, Style)> {
    let width = WIDTH - BODY_INDENT;
    let mut lines = Vec::new();
    let mut add = |text: &str, style: Style| {
        for line in wrap(&sanitize_block(text), width) {
            lines.push((line, style));
        }
    };
    for part in &item.body.parts {
        match part {
            ConversationPart::Text { text } => add(text, Style::Plain),
            ConversationPart::Summary { text } => add(&format!("[summary] {text}"), Style::Plain),
            ConversationPart::Code { language, source } => {
                add(&format!("[{language}]"), Style::Dim);
                add(source, Style::Plain);
            }
            ConversationPart::Encoded { label, value } => add(
                &format!("[{label}: {}]", plural(value.chars().count(), "char")),
                Style::Dim,
            ),
            ConversationPart::Json {
                summary,
                raw_payload_id,
            } => {
                add(summary, Style::Plain);
                if summary.len() > JSON_SUMMARY_BYTES && summary.ends_with("...") {
                    add(
                        &format!(
                            "[cut by the reducer; whole JSON in {}]",
                            payload_path(graph, raw_payload_id)
                        ),
                        Style::Dim,
                    );
                }
            }
            ConversationPart::PayloadRef {
                label,
                raw_payload_id,
            } => add(
                &format!("[{label}: {}]", payload_path(graph, raw_payload_id)),
                Style::Dim,
            ),
        }
    }
    while lines.last().is_some_and(|(line, _)| line.trim().is_empty()) {
        lines.pop();
    }
    if lines.is_empty() {
        lines.push(("(empty)".to_string(), Style::Dim));
    }
    lines
}

fn payload_path(graph: &Graph<'_>, raw_payload_id: &str) -> String {
    graph
        .trace
        .raw_payloads
        .get(raw_payload_id)
        .map_or(raw_payload_id.to_string(), |payload| payload.path.clone())
}

fn role_style(role: ConversationRole) -> Style {
    match role {
        ConversationRole::System | ConversationRole::Developer => Style::Dim,
        ConversationRole::User => Style::Accent,
        ConversationRole::Assistant => Style::Good,
        ConversationRole::Tool => Style::Bold,
    }
}
