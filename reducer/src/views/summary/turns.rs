//! The turns of a thread: in full for a few, one line each for many, with
//! runs of alike clean turns folded and ranges above the line budget.

use super::Summary;
use super::*;

impl<'a> Summary<'_, 'a> {
    /// Turns of a long thread: clean turns (completed, and everything in
    /// them too) one line each with alike ones folded, or as ranges when that
    /// is still too long; a completed turn with failures in it as its line
    /// and those failures; other turns in full.
    pub(super) fn many_turns(&self, turns: &[&'a CodexTurn], lines: &mut Vec<Line>) {
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
    pub(super) fn failing(&self, turn: &CodexTurn) -> Vec<Entry<'a>> {
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

    pub(super) fn turn_shape(&self, turn: &CodexTurn) -> String {
        format!(
            "{}|{}",
            turn.execution.status.as_str(),
            self.turn_contents(&[turn])
        )
    }

    /// `3 inference · apply_patch · exec_command×4` for some turns.
    pub(super) fn turn_contents(&self, turns: &[&CodexTurn]) -> String {
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

    pub(super) fn turn_line(&self, index: usize, turn: &CodexTurn, lines: &mut Vec<Line>) {
        let mut line = Line::indented(2);
        line.plain(format!("turn {}  ", index + 1));
        push_status(&mut line, turn.execution.status, false);
        if let Some(ms) = window_ms(&turn.execution) {
            line.plain(format!(" {}", duration(ms)));
        }
        line.plain(format!("  {}", self.turn_contents(&[turn])));
        lines.push(line);
    }

    pub(super) fn turn_range(&self, first: usize, turns: &[&CodexTurn], lines: &mut Vec<Line>) {
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

    pub(super) fn turn(&self, index: usize, turn: &CodexTurn, lines: &mut Vec<Line>) {
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
}
