//! The entries of a turn (inference calls, tool calls, code cells,
//! compactions) and the agent edges that leave and arrive at each.

use super::Summary;
use super::*;

impl<'a> Summary<'_, 'a> {
    /// Entries with repetition folded and, past the budget, the middle counted.
    pub(super) fn entries(&self, entries: &[Entry<'a>], indent: usize, lines: &mut Vec<Line>) {
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

    pub(super) fn skipped(&self, skipped: &[Entry<'a>], indent: usize, lines: &mut Vec<Line>) {
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
    pub(super) fn shape(&self, entry: &Entry<'a>) -> String {
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

    pub(super) fn tool_shape(&self, tool: &ToolCall) -> String {
        let exit =
            terminal_exit(self.graph.trace, tool).map_or(String::new(), |code| code.to_string());
        format!(
            "tool|{}|{}|{exit}|{}",
            tool_name(tool),
            tool.execution.status.as_str(),
            self.edge_shape(Attach::ToolCall(&tool.tool_call_id))
        )
    }

    pub(super) fn edge_shape(&self, place: Attach<'_>) -> String {
        let mut shape = String::new();
        for edge in self.outgoing.get(&place).into_iter().flatten() {
            shape.push_str(&format!(">{}{:?}", edge.kind.as_str(), edge.target));
        }
        for edge in self.incoming.get(&place).into_iter().flatten() {
            shape.push_str(&format!("<{}{:?}", edge.kind.as_str(), edge.source));
        }
        shape
    }

    pub(super) fn entry(&self, entry: &Entry<'a>, indent: usize, lines: &mut Vec<Line>) {
        match entry {
            Entry::Inference(call) => self.inference(call, indent, lines),
            Entry::Tool(tool) => self.tool(tool, indent, lines),
            Entry::Cell(cell) => self.cell(cell, indent, lines),
            Entry::Compaction(compaction) => self.compaction(compaction, indent, lines),
        }
    }

    pub(super) fn inference(&self, call: &'a InferenceCall, indent: usize, lines: &mut Vec<Line>) {
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

    pub(super) fn tool(&self, tool: &'a ToolCall, indent: usize, lines: &mut Vec<Line>) {
        let mut line = Line::indented(indent);
        push_symbol(&mut line, tool.execution.status);
        line.plain(format!(" {}", tool_name(tool)));
        push_status_word(&mut line, tool.execution.status);
        push_duration(&mut line, &tool.execution);
        if let Some(code) = terminal_exit(self.graph.trace, tool) {
            let style = if code == 0 { Style::Plain } else { Style::Bad };
            line.push(format!("  exit {code}"), style);
        }
        let detail = tool_detail(self.graph.trace, tool);
        if !detail.is_empty() {
            line.push(format!("  {}", one_line(&detail)), Style::Dim);
        }
        lines.push(line);
        self.edges(Attach::ToolCall(&tool.tool_call_id), indent + 2, lines);
    }

    pub(super) fn cell(&self, cell: &'a CodeCell, indent: usize, lines: &mut Vec<Line>) {
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

    pub(super) fn compaction(&self, compaction: &Compaction, indent: usize, lines: &mut Vec<Line>) {
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
    pub(super) fn edges(&self, place: Attach<'_>, indent: usize, lines: &mut Vec<Line>) {
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
