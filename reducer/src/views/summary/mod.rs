//! `summary`: a compact tree of the rollout for a terminal: each thread by
//! agent path, its turns, and per turn the inference calls, code cells (with
//! the tools they ran), tool calls and compactions, with the interaction
//! edges to other threads where they leave and arrive.
//!
//! Invariants:
//! - Every line fits [`WIDTH`] characters (colour escapes excluded).
//! - Nothing that did not complete is folded away: a failed, cancelled,
//!   aborted or running turn is always shown in full, and a failed entry is
//!   always shown (a run of identical failures shows its first and a count).
//! - Repetition is folded: a run of the same block of entries is shown once
//!   and counted; a thread with more than [`FULL_TURNS`] turns shows its
//!   clean turns (completed, with everything in them) one line each, folds
//!   runs of alike turns, and when that is still more than
//!   [`TURN_LINE_BUDGET`] lines shows clean turns as ranges of equal size,
//!   about [`TURN_LINE_BUDGET`] of them. A completed turn with a failure in
//!   it shows that failure. So the length grows with the failures of a
//!   rollout, not with its length.
//! - Ids are shown last on a line, where a cut costs least.

mod entries;
mod turns;

use std::collections::BTreeMap;

use super::ViewOptions;
use super::fold::Group;
use super::fold::fold;
use super::graph::Attach;
use super::graph::Entry;
use super::graph::Graph;
use super::graph::terminal_exit;
use super::graph::tool_detail;
use super::graph::tool_name;
use super::graph::window_ms;
use super::text::Line;
use super::text::Style;
use super::text::WIDTH;
use super::text::count;
use super::text::cut;
use super::text::duration;
use super::text::one_line;
use super::text::plural;
use crate::model::AgentOrigin;
use crate::model::AgentThread;
use crate::model::CodeCell;
use crate::model::CodeCellRuntimeStatus;
use crate::model::CodexTurn;
use crate::model::Compaction;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::InferenceCall;
use crate::model::InteractionEdge;
use crate::model::RolloutTrace;
use crate::model::ToolCall;

/// Threads with at most this many turns show every turn in full.
pub(crate) const FULL_TURNS: usize = 8;
/// Above this many one-line turns, runs of completed turns become ranges.
pub(crate) const TURN_LINE_BUDGET: usize = 30;
/// Above this many groups in a turn, the middle is counted instead of shown.
const GROUP_BUDGET: usize = 30;
/// Groups kept at each end of a turn over [`GROUP_BUDGET`].
const GROUP_ENDS: usize = 12;

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
    let summary = Summary::new(&graph);
    let mut lines = Vec::new();
    summary.header(&mut lines);
    for thread in &graph.threads {
        lines.push(Line::default());
        summary.thread(thread, &mut lines);
    }
    for line in lines {
        out.write_all(line.render(WIDTH, options.color).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

struct Summary<'g, 'a> {
    graph: &'g Graph<'a>,
    /// Edges by the line they leave from.
    outgoing: BTreeMap<Attach<'a>, Vec<&'a InteractionEdge>>,
    /// Edges by the line they arrive at.
    incoming: BTreeMap<Attach<'a>, Vec<&'a InteractionEdge>>,
    /// Edges whose ends are not in the trace.
    unplaced: Vec<&'a InteractionEdge>,
}

impl<'g, 'a> Summary<'g, 'a> {
    fn new(graph: &'g Graph<'a>) -> Summary<'g, 'a> {
        let mut summary = Summary {
            graph,
            outgoing: BTreeMap::new(),
            incoming: BTreeMap::new(),
            unplaced: Vec::new(),
        };
        for edge in graph.trace.interaction_edges.values() {
            let from = graph.attach(&edge.source, true);
            let to = graph.attach(&edge.target, false);
            if from.is_none() && to.is_none() {
                summary.unplaced.push(edge);
            }
            if let Some(from) = from {
                summary.outgoing.entry(from).or_default().push(edge);
            }
            if let Some(to) = to {
                summary.incoming.entry(to).or_default().push(edge);
            }
        }
        summary
    }

    fn header(&self, lines: &mut Vec<Line>) {
        let trace = self.graph.trace;
        let status = ExecutionStatus::from(trace.status);
        let mut line = Line::default();
        line.push("rollout ", Style::Bold)
            .push(trace.rollout_id.clone(), Style::Bold)
            .plain("  ");
        push_status(&mut line, status, true);
        if let Some(ended) = trace.ended_at_unix_ms {
            line.plain(format!(
                "  {}",
                duration(ended.saturating_sub(trace.started_at_unix_ms))
            ));
        }
        lines.push(line);

        let mut line = Line::indented(2);
        line.push(format!("trace {}", trace.trace_id), Style::Dim);
        lines.push(line);

        let mut line = Line::indented(2);
        let counts = [
            plural(trace.threads.len(), "thread"),
            plural(trace.codex_turns.len(), "turn"),
            plural(trace.inference_calls.len(), "inference call"),
            plural(trace.tool_calls.len(), "tool call"),
        ];
        line.plain(counts.join(" · "));
        lines.push(line);
        let others: Vec<String> = [
            (trace.code_cells.len(), "code cell"),
            (trace.compactions.len(), "compaction"),
            (trace.interaction_edges.len(), "agent edge"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, noun)| plural(n, noun))
        .collect();
        if !others.is_empty() {
            let mut line = Line::indented(2);
            line.plain(others.join(" · "));
            lines.push(line);
        }

        let usage = trace.inference_calls.values().filter_map(|call| call.usage);
        let (mut input, mut cached, mut output) = (0u64, 0u64, 0u64);
        for usage in usage {
            input = input.saturating_add(usage.input_tokens);
            cached = cached.saturating_add(usage.cached_input_tokens);
            output = output.saturating_add(usage.output_tokens);
        }
        if input > 0 || output > 0 {
            let mut line = Line::indented(2);
            line.plain(format!(
                "tokens {} in ({} cached) · {} out",
                count(input),
                count(cached),
                count(output)
            ));
            lines.push(line);
        }
        let failures = failure_counts(trace);
        if !failures.is_empty() {
            let mut line = Line::indented(2);
            line.push(failures, Style::Bad);
            lines.push(line);
        }
        for edge in &self.unplaced {
            let mut line = Line::indented(2);
            line.push(
                format!(
                    "{} edge with unknown ends: {}",
                    edge.kind.as_str(),
                    edge.edge_id
                ),
                Style::Warn,
            );
            lines.push(line);
        }
    }

    fn thread(&self, thread: &'a AgentThread, lines: &mut Vec<Line>) {
        let turns = self.graph.turns(&thread.thread_id);
        let mut line = Line::default();
        line.push(Graph::thread_label(thread), Style::Bold)
            .plain("  ");
        push_status(&mut line, thread.execution.status, true);
        push_duration(&mut line, &thread.execution);
        if let Some(model) = &thread.default_model {
            line.plain(format!("  {model}"));
        }
        line.plain(format!("  {}", plural(turns.len(), "turn")));
        lines.push(line);

        let mut line = Line::indented(2);
        line.push(format!("thread {}", thread.thread_id), Style::Dim);
        lines.push(line);
        if let AgentOrigin::Spawned {
            parent_thread_id,
            task_name,
            agent_role,
            ..
        } = &thread.origin
        {
            let parent = self
                .graph
                .trace
                .threads
                .get(parent_thread_id)
                .map_or(parent_thread_id.as_str(), |parent| &parent.agent_path);
            let role = if agent_role.is_empty() {
                String::new()
            } else {
                format!(" as {agent_role}")
            };
            let mut line = Line::indented(2);
            line.push(
                format!("spawned by {parent}{role}, task {}", one_line(task_name)),
                Style::Dim,
            );
            lines.push(line);
        }
        self.edges(Attach::Thread(&thread.thread_id), 2, lines);

        let loose = self.graph.loose_entries(&thread.thread_id);
        if !loose.is_empty() {
            let mut line = Line::indented(2);
            line.push("outside any turn", Style::Dim);
            lines.push(line);
            self.entries(loose, 4, lines);
        }

        if turns.len() <= FULL_TURNS {
            for (index, turn) in turns.iter().enumerate() {
                self.turn(index, turn, lines);
            }
            return;
        }
        self.many_turns(turns, lines);
    }
}

fn completed(turn: &CodexTurn) -> bool {
    turn.execution.status == ExecutionStatus::Completed
}

fn entry_window(graph: &Graph<'_>, entry: &Entry<'_>) -> Option<ExecutionWindow> {
    match entry {
        Entry::Inference(call) => Some(call.execution),
        Entry::Cell(cell) => Some(cell.execution),
        Entry::Tool(tool) => Some(tool.execution),
        Entry::Compaction(compaction) => graph.compaction_window(compaction),
    }
}

fn entry_status(graph: &Graph<'_>, entry: &Entry<'_>) -> ExecutionStatus {
    entry_window(graph, entry).map_or(ExecutionStatus::Completed, |window| window.status)
}

/// `failed: 2 tool calls, 1 turn` over the whole rollout, or nothing.
fn failure_counts(trace: &RolloutTrace) -> String {
    let failed = |status: ExecutionStatus| {
        matches!(
            status,
            ExecutionStatus::Failed | ExecutionStatus::Aborted | ExecutionStatus::Cancelled
        )
    };
    let counts = [
        (
            trace
                .threads
                .values()
                .filter(|t| failed(t.execution.status))
                .count(),
            "thread",
        ),
        (
            trace
                .codex_turns
                .values()
                .filter(|t| failed(t.execution.status))
                .count(),
            "turn",
        ),
        (
            trace
                .inference_calls
                .values()
                .filter(|c| failed(c.execution.status))
                .count(),
            "inference call",
        ),
        (
            trace
                .code_cells
                .values()
                .filter(|c| failed(c.execution.status))
                .count(),
            "code cell",
        ),
        (
            trace
                .tool_calls
                .values()
                .filter(|t| failed(t.execution.status))
                .count(),
            "tool call",
        ),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, noun)| plural(*n, noun))
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("not completed: {}", parts.join(", "))
}

fn symbol(status: ExecutionStatus) -> (&'static str, Style) {
    match status {
        ExecutionStatus::Completed => ("✓", Style::Good),
        ExecutionStatus::Failed => ("✗", Style::Bad),
        ExecutionStatus::Cancelled | ExecutionStatus::Aborted => ("⊘", Style::Warn),
        ExecutionStatus::Running => ("●", Style::Warn),
    }
}

fn push_symbol(line: &mut Line, status: ExecutionStatus) {
    let (text, style) = symbol(status);
    line.push(text, style);
}

/// `✓ completed`, `✗ FAILED` (with the word when `word`, else the symbol only
/// for completed).
fn push_status(line: &mut Line, status: ExecutionStatus, word: bool) {
    let (text, style) = symbol(status);
    line.push(text, style);
    if word || status != ExecutionStatus::Completed {
        line.push(format!(" {}", status_word(status)), style);
    }
}

/// Nothing for completed entries; the status otherwise, failures in capitals.
fn push_status_word(line: &mut Line, status: ExecutionStatus) {
    if status != ExecutionStatus::Completed {
        line.push(format!(" {}", status_word(status)), symbol(status).1);
    }
}

fn status_word(status: ExecutionStatus) -> String {
    match status {
        ExecutionStatus::Failed => "FAILED".to_string(),
        other => other.as_str().to_string(),
    }
}

fn push_duration(line: &mut Line, window: &ExecutionWindow) {
    if let Some(ms) = window_ms(window) {
        line.plain(format!("  {}", duration(ms)));
    }
}

fn fold_line(lines: &mut Vec<Line>, indent: usize, text: String) {
    let mut line = Line::indented(indent);
    line.push(cut(&text, WIDTH), Style::Dim);
    lines.push(line);
}
