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

use std::collections::BTreeMap;

use super::ViewOptions;
use super::fold::Group;
use super::fold::fold;
use super::graph::Attach;
use super::graph::Entry;
use super::graph::Graph;
use super::graph::shown_command;
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
use crate::model::TerminalRequest;
use crate::model::ToolCall;
use crate::model::ToolCallSummary;

/// Threads with at most this many turns show every turn in full.
pub(crate) const FULL_TURNS: usize = 8;
/// Above this many one-line turns, runs of completed turns become ranges.
pub(crate) const TURN_LINE_BUDGET: usize = 30;
/// Above this many groups in a turn, the middle is counted instead of shown.
const GROUP_BUDGET: usize = 30;
/// Groups kept at each end of a turn over [`GROUP_BUDGET`].
const GROUP_ENDS: usize = 12;

pub(crate) fn render(trace: &RolloutTrace, options: &ViewOptions) -> String {
    let graph = Graph::new(trace);
    let summary = Summary::new(&graph);
    let mut lines = Vec::new();
    summary.header(&mut lines);
    for thread in &graph.threads {
        lines.push(Line::default());
        summary.thread(thread, &mut lines);
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&line.render(WIDTH, options.color));
        out.push('\n');
    }
    out
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

    /// Turns of a long thread: clean turns (completed, and everything in
    /// them too) one line each with alike ones folded, or as ranges when that
    /// is still too long; a completed turn with failures in it as its line
    /// and those failures; other turns in full.
    fn many_turns(&self, turns: &[&'a CodexTurn], lines: &mut Vec<Line>) {
        let shapes: Vec<String> = turns.iter().map(|turn| self.turn_shape(turn)).collect();
        let failing: Vec<Vec<Entry>> = turns.iter().map(|turn| self.failing(turn)).collect();
        let clean = |index: usize| completed(turns[index]) && failing[index].is_empty();
        // Pieces: maximal runs of clean turns, and single other turns.
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        while start < turns.len() {
            let mut end = start + 1;
            if clean(start) {
                while end < turns.len() && clean(end) {
                    end += 1;
                }
            }
            pieces.push((start, end));
            start = end;
        }
        let compact_lines: usize = pieces
            .iter()
            .map(|&(start, end)| {
                if clean(start) {
                    fold(&shapes[start..end])
                        .iter()
                        .map(|group| group.len + usize::from(group.repeats > 1))
                        .sum()
                } else {
                    1 + failing[start].len()
                }
            })
            .sum();
        let ranges = compact_lines > TURN_LINE_BUDGET;
        // Ranges of at most `chunk` turns keep a long thread near the budget
        // while still showing how it went over time.
        let clean_turns = (0..turns.len()).filter(|&index| clean(index)).count();
        let chunk = clean_turns.div_ceil(TURN_LINE_BUDGET).max(1);
        for (start, end) in pieces {
            if !completed(turns[start]) {
                self.turn(start, turns[start], lines);
                continue;
            }
            if !clean(start) {
                self.turn_line(start, turns[start], lines);
                for entry in &failing[start] {
                    self.entry(entry, 4, lines);
                }
                continue;
            }
            if ranges {
                let mut first = start;
                while first < end {
                    let last = (first + chunk).min(end);
                    self.turn_range(first, &turns[first..last], lines);
                    first = last;
                }
                continue;
            }
            for group in fold(&shapes[start..end]) {
                let first = start + group.start;
                for (index, turn) in turns.iter().enumerate().skip(first).take(group.len) {
                    self.turn_line(index, turn, lines);
                }
                if group.repeats > 1 {
                    let folded = group.folded();
                    let total: i64 = turns[start + folded.start..start + folded.end]
                        .iter()
                        .filter_map(|turn| window_ms(&turn.execution))
                        .fold(0, i64::saturating_add);
                    let what = if group.len == 1 {
                        "turns like this".to_string()
                    } else {
                        format!("turns like the {} above", group.len)
                    };
                    fold_line(
                        lines,
                        2,
                        format!("… {} more {what} ({})", folded.len(), duration(total)),
                    );
                }
            }
        }
    }

    /// The entries of a turn that did not complete, or whose nested tools
    /// did not.
    fn failing(&self, turn: &CodexTurn) -> Vec<Entry<'a>> {
        self.graph
            .entries(&turn.codex_turn_id)
            .iter()
            .filter(|entry| {
                let nested_failed = match entry {
                    Entry::Cell(cell) => self
                        .graph
                        .nested_tools(&cell.code_cell_id)
                        .iter()
                        .any(|tool| tool.execution.status != ExecutionStatus::Completed),
                    _ => false,
                };
                nested_failed || entry_status(self.graph, entry) != ExecutionStatus::Completed
            })
            .copied()
            .collect()
    }

    fn turn_shape(&self, turn: &CodexTurn) -> String {
        format!(
            "{}|{}",
            turn.execution.status.as_str(),
            self.turn_contents(&[turn])
        )
    }

    /// `3 inference · apply_patch · exec_command×4` for some turns.
    fn turn_contents(&self, turns: &[&CodexTurn]) -> String {
        let mut inference = 0usize;
        let mut tools: Vec<(String, usize)> = Vec::new();
        let mut add_tool = |name: String| match tools.iter_mut().find(|(known, _)| *known == name) {
            Some((_, n)) => *n += 1,
            None => tools.push((name, 1)),
        };
        for turn in turns {
            for entry in self.graph.entries(&turn.codex_turn_id) {
                match entry {
                    Entry::Inference(_) => inference += 1,
                    Entry::Tool(tool) => add_tool(tool_name(tool)),
                    Entry::Cell(cell) => {
                        add_tool("exec".to_string());
                        for tool in self.graph.nested_tools(&cell.code_cell_id) {
                            add_tool(tool_name(tool));
                        }
                    }
                    Entry::Compaction(_) => add_tool("compaction".to_string()),
                }
            }
        }
        // Rare calls first: they say most about a turn, and survive a cut line.
        tools.sort_by_key(|(_, n)| *n);
        let mut parts = vec![format!("{inference} inference")];
        for (name, n) in tools {
            parts.push(if n == 1 { name } else { format!("{name}×{n}") });
        }
        parts.join(" · ")
    }

    fn turn_line(&self, index: usize, turn: &CodexTurn, lines: &mut Vec<Line>) {
        let mut line = Line::indented(2);
        line.plain(format!("turn {}  ", index + 1));
        push_status(&mut line, turn.execution.status, false);
        if let Some(ms) = window_ms(&turn.execution) {
            line.plain(format!(" {}", duration(ms)));
        }
        line.plain(format!("  {}", self.turn_contents(&[turn])));
        lines.push(line);
    }

    fn turn_range(&self, first: usize, turns: &[&CodexTurn], lines: &mut Vec<Line>) {
        if let [turn] = turns {
            self.turn_line(first, turn, lines);
            return;
        }
        let total: i64 = turns
            .iter()
            .filter_map(|turn| window_ms(&turn.execution))
            .fold(0, i64::saturating_add);
        let mut line = Line::indented(2);
        line.plain(format!("turns {}–{}  ", first + 1, first + turns.len()))
            .push("✓", Style::Good)
            .plain(format!(
                " {} completed  {}  {}",
                turns.len(),
                duration(total),
                self.turn_contents(turns)
            ));
        lines.push(line);
    }

    fn turn(&self, index: usize, turn: &CodexTurn, lines: &mut Vec<Line>) {
        let trace = self.graph.trace;
        let mut line = Line::indented(2);
        line.push(format!("turn {}", index + 1), Style::Bold);
        line.plain(format!(
            "  +{}  ",
            duration(
                turn.execution
                    .started_at_unix_ms
                    .saturating_sub(trace.started_at_unix_ms)
            )
        ));
        push_status(&mut line, turn.execution.status, true);
        push_duration(&mut line, &turn.execution);
        line.push(format!("  {}", turn.codex_turn_id), Style::Dim);
        lines.push(line);
        self.edges(Attach::Turn(&turn.codex_turn_id), 4, lines);
        self.entries(self.graph.entries(&turn.codex_turn_id), 4, lines);
    }

    /// Entries with repetition folded and, past the budget, the middle counted.
    fn entries(&self, entries: &[Entry<'a>], indent: usize, lines: &mut Vec<Line>) {
        let shapes: Vec<String> = entries.iter().map(|entry| self.shape(entry)).collect();
        let groups = fold(&shapes);
        let keep = |index: usize, group: &Group| {
            groups.len() <= GROUP_BUDGET
                || index < GROUP_ENDS
                || index >= groups.len() - GROUP_ENDS
                || entries[group.start..group.end()]
                    .iter()
                    .any(|entry| entry_status(self.graph, entry) != ExecutionStatus::Completed)
        };
        let mut skipped: Vec<Entry> = Vec::new();
        for (index, group) in groups.iter().enumerate() {
            if !keep(index, group) {
                skipped.extend_from_slice(&entries[group.start..group.end()]);
                continue;
            }
            self.skipped(&skipped, indent, lines);
            skipped.clear();
            for entry in &entries[group.start..group.start + group.len] {
                self.entry(entry, indent, lines);
            }
            if group.repeats > 1 {
                let folded = &entries[group.folded()];
                let total: i64 = folded
                    .iter()
                    .filter_map(|entry| entry_window(self.graph, entry))
                    .filter_map(|window| window_ms(&window))
                    .fold(0, i64::saturating_add);
                let what = if group.len == 1 {
                    "like this".to_string()
                } else {
                    format!("rounds like the {} above", group.len)
                };
                fold_line(
                    lines,
                    indent,
                    format!("… {} more {what} ({})", group.repeats - 1, duration(total)),
                );
            }
        }
        self.skipped(&skipped, indent, lines);
    }

    fn skipped(&self, skipped: &[Entry<'a>], indent: usize, lines: &mut Vec<Line>) {
        if skipped.is_empty() {
            return;
        }
        let mut names: Vec<(String, usize)> = Vec::new();
        for entry in skipped {
            let name = match entry {
                Entry::Inference(_) => "inference".to_string(),
                Entry::Cell(_) => "exec".to_string(),
                Entry::Tool(tool) => tool_name(tool),
                Entry::Compaction(_) => "compaction".to_string(),
            };
            match names.iter_mut().find(|(known, _)| *known == name) {
                Some((_, n)) => *n += 1,
                None => names.push((name, 1)),
            }
        }
        let names: Vec<String> = names
            .into_iter()
            .map(|(name, n)| if n == 1 { name } else { format!("{name}×{n}") })
            .collect();
        fold_line(
            lines,
            indent,
            format!(
                "… {} more, all completed: {}",
                skipped.len(),
                names.join(" · ")
            ),
        );
    }

    /// What makes two entries alike for folding: kind, name, status, exit
    /// code and edges.
    fn shape(&self, entry: &Entry<'a>) -> String {
        let status = entry_status(self.graph, entry).as_str();
        match entry {
            Entry::Inference(call) => format!(
                "inference|{}|{status}|{}",
                call.model,
                self.edge_shape(Attach::Inference(&call.inference_call_id))
            ),
            Entry::Tool(tool) => self.tool_shape(tool),
            Entry::Cell(cell) => {
                let nested: Vec<String> = self
                    .graph
                    .nested_tools(&cell.code_cell_id)
                    .iter()
                    .map(|tool| self.tool_shape(tool))
                    .collect();
                format!("cell|{status}|{}", nested.join(","))
            }
            Entry::Compaction(compaction) => {
                format!("compaction|{status}|{}", compaction.compaction_id)
            }
        }
    }

    fn tool_shape(&self, tool: &ToolCall) -> String {
        let exit = self
            .terminal_exit(tool)
            .map_or(String::new(), |code| code.to_string());
        format!(
            "tool|{}|{}|{exit}|{}",
            tool_name(tool),
            tool.execution.status.as_str(),
            self.edge_shape(Attach::ToolCall(&tool.tool_call_id))
        )
    }

    fn edge_shape(&self, place: Attach<'_>) -> String {
        let mut shape = String::new();
        for edge in self.outgoing.get(&place).into_iter().flatten() {
            shape.push_str(&format!(">{}{:?}", edge.kind.as_str(), edge.target));
        }
        for edge in self.incoming.get(&place).into_iter().flatten() {
            shape.push_str(&format!("<{}{:?}", edge.kind.as_str(), edge.source));
        }
        shape
    }

    fn entry(&self, entry: &Entry<'a>, indent: usize, lines: &mut Vec<Line>) {
        match entry {
            Entry::Inference(call) => self.inference(call, indent, lines),
            Entry::Tool(tool) => self.tool(tool, indent, lines),
            Entry::Cell(cell) => self.cell(cell, indent, lines),
            Entry::Compaction(compaction) => self.compaction(compaction, indent, lines),
        }
    }

    fn inference(&self, call: &'a InferenceCall, indent: usize, lines: &mut Vec<Line>) {
        let mut line = Line::indented(indent);
        push_symbol(&mut line, call.execution.status);
        line.plain(format!(" inference {}", call.model));
        push_status_word(&mut line, call.execution.status);
        push_duration(&mut line, &call.execution);
        if let Some(usage) = call.usage {
            line.plain(format!(
                "  {} in ({} cached) · {} out",
                count(usage.input_tokens),
                count(usage.cached_input_tokens),
                count(usage.output_tokens)
            ));
        }
        lines.push(line);
        self.edges(
            Attach::Inference(&call.inference_call_id),
            indent + 2,
            lines,
        );
    }

    fn tool(&self, tool: &'a ToolCall, indent: usize, lines: &mut Vec<Line>) {
        let mut line = Line::indented(indent);
        push_symbol(&mut line, tool.execution.status);
        line.plain(format!(" {}", tool_name(tool)));
        push_status_word(&mut line, tool.execution.status);
        push_duration(&mut line, &tool.execution);
        if let Some(code) = self.terminal_exit(tool) {
            let style = if code == 0 { Style::Plain } else { Style::Bad };
            line.push(format!("  exit {code}"), style);
        }
        let detail = self.tool_detail(tool);
        if !detail.is_empty() {
            line.push(format!("  {}", one_line(&detail)), Style::Dim);
        }
        lines.push(line);
        self.edges(Attach::ToolCall(&tool.tool_call_id), indent + 2, lines);
    }

    fn terminal_exit(&self, tool: &ToolCall) -> Option<i32> {
        let operation_id = tool.terminal_operation_id.as_ref()?;
        let operation = self.graph.trace.terminal_operations.get(operation_id)?;
        operation.result.as_ref()?.exit_code
    }

    /// The command, the agent, or the producer's input preview of a tool call.
    fn tool_detail(&self, tool: &ToolCall) -> String {
        let trace = self.graph.trace;
        let operation = tool
            .terminal_operation_id
            .as_ref()
            .and_then(|id| trace.terminal_operations.get(id));
        if let Some(operation) = operation {
            return match &operation.request {
                TerminalRequest::ExecCommand {
                    command,
                    display_command,
                    ..
                } => shown_command(command, display_command),
                TerminalRequest::WriteStdin { stdin, .. } => {
                    format!("stdin {}", serde_json::to_string(stdin).unwrap_or_default())
                }
            };
        }
        match &tool.summary {
            ToolCallSummary::Terminal { .. } => String::new(),
            ToolCallSummary::Agent {
                target_agent_path,
                message_preview,
                ..
            } => format!("{target_agent_path}: {message_preview}"),
            ToolCallSummary::WaitAgent {
                target_agent_path, ..
            } => target_agent_path.clone().unwrap_or_default(),
            ToolCallSummary::Generic { input_preview, .. } => {
                input_preview.clone().unwrap_or_default()
            }
        }
    }

    fn cell(&self, cell: &'a CodeCell, indent: usize, lines: &mut Vec<Line>) {
        let nested = self.graph.nested_tools(&cell.code_cell_id);
        let mut line = Line::indented(indent);
        push_symbol(&mut line, cell.execution.status);
        line.plain(" exec cell");
        if let Some(runtime_id) = &cell.runtime_cell_id {
            line.plain(format!(" {}", one_line(runtime_id)));
        }
        push_status_word(&mut line, cell.execution.status);
        push_duration(&mut line, &cell.execution);
        line.plain(format!("  {}", plural(nested.len(), "tool")));
        if !matches!(
            cell.runtime_status,
            CodeCellRuntimeStatus::Completed | CodeCellRuntimeStatus::Failed
        ) {
            line.push(
                format!("  runtime {:?}", cell.runtime_status).to_lowercase(),
                Style::Warn,
            );
        }
        if let Some(yielded) = cell.yielded_at_unix_ms {
            line.push(
                format!(
                    "  yielded after {}",
                    duration(yielded.saturating_sub(cell.execution.started_at_unix_ms))
                ),
                Style::Dim,
            );
        }
        lines.push(line);
        let nested: Vec<Entry> = nested.iter().map(|tool| Entry::Tool(tool)).collect();
        self.entries(&nested, indent + 2, lines);
    }

    fn compaction(&self, compaction: &Compaction, indent: usize, lines: &mut Vec<Line>) {
        let window = self.graph.compaction_window(compaction);
        let status = window.map_or(ExecutionStatus::Completed, |window| window.status);
        let mut line = Line::indented(indent);
        push_symbol(&mut line, status);
        line.plain(" compaction");
        push_status_word(&mut line, status);
        if let Some(window) = &window {
            push_duration(&mut line, window);
        }
        line.plain(format!(
            "  {} → {} items, {}",
            compaction.input_item_ids.len(),
            compaction.replacement_item_ids.len(),
            plural(compaction.request_ids.len(), "request")
        ));
        lines.push(line);
    }

    /// The edges that arrive at or leave from a line, one line each.
    fn edges(&self, place: Attach<'_>, indent: usize, lines: &mut Vec<Line>) {
        for edge in self.incoming.get(&place).into_iter().flatten() {
            let mut line = Line::indented(indent);
            line.push(
                format!(
                    "← {} from {}",
                    edge.kind.as_str(),
                    self.graph.anchor_agent(&edge.source)
                ),
                Style::Accent,
            );
            lines.push(line);
        }
        for edge in self.outgoing.get(&place).into_iter().flatten() {
            let mut line = Line::indented(indent);
            line.push(
                format!(
                    "→ {} to {}",
                    edge.kind.as_str(),
                    self.graph.anchor_agent(&edge.target)
                ),
                Style::Accent,
            );
            lines.push(line);
        }
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
