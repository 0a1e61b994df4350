//! One row per object: a turn, an inference call, a code cell and the tools
//! it ran, a tool call, a compaction, an agent edge, a conversation item.
//! Each row's label is what the summary view's line says, as escaped text.

use std::io;

use super::Outline;
use super::is_bad;
use crate::model::CodeCell;
use crate::model::CodeCellRuntimeStatus;
use crate::model::CodexTurn;
use crate::model::Compaction;
use crate::model::ConversationItem;
use crate::model::ConversationItemKind;
use crate::model::ConversationPart;
use crate::model::ExecutionStatus;
use crate::model::ExecutionWindow;
use crate::model::InferenceCall;
use crate::model::InteractionEdge;
use crate::model::TraceAnchor;
use crate::views::graph::Attach;
use crate::views::graph::Entry;
use crate::views::graph::terminal_exit;
use crate::views::graph::tool_detail;
use crate::views::graph::tool_name;
use crate::views::graph::window_ms;
use crate::views::html::markup::Markup;
use crate::views::text::count;
use crate::views::text::cut;
use crate::views::text::duration;
use crate::views::text::one_line;
use crate::views::text::plural;

/// Characters of a command, argument or message shown on a row.
const PREVIEW_CHARS: usize = 160;
/// Rows nest at most this deep (an edge of a tool a code cell ran).
const MAX_LEVEL: usize = 2;

impl<'a> Outline<'_, 'a> {
    pub(super) fn turn(
        &mut self,
        m: &mut Markup,
        index: usize,
        turn: &'a CodexTurn,
        open: bool,
    ) -> io::Result<()> {
        let trace = self.graph.trace;
        m.raw("<details class=\"turn\" data-k=\"turn\"")?;
        self.id_attr(m, &turn.codex_turn_id)?;
        if is_bad(turn.execution.status) {
            m.raw(" data-bad")?;
        }
        m.raw(if open {
            " open><summary>"
        } else {
            "><summary>"
        })?;
        m.raw("<b>turn ")?
            .text(&(index + 1).to_string())?
            .raw("</b> <span class=\"t\">+")?
            .text(&duration(
                turn.execution
                    .started_at_unix_ms
                    .saturating_sub(trace.started_at_unix_ms),
            ))?
            .raw("</span> ")?;
        status(m, turn.execution.status, true)?;
        took(m, &turn.execution)?;
        m.raw(" <span class=\"p\">")?
            .text(&self.turn_contents(turn))?
            .raw("</span></summary>\n")?;
        self.edges(m, Attach::Turn(&turn.codex_turn_id), 0)?;
        self.entries(m, self.graph.entries(&turn.codex_turn_id))?;
        m.raw("</details>\n")?;
        Ok(())
    }

    /// `2 inference · exec_command×3 · apply_patch`, in order of first use.
    fn turn_contents(&self, turn: &CodexTurn) -> String {
        let mut inference = 0usize;
        let mut names: Vec<(String, usize)> = Vec::new();
        let mut add = |name: String| match names.iter_mut().find(|(known, _)| *known == name) {
            Some((_, n)) => *n += 1,
            None => names.push((name, 1)),
        };
        for entry in self.graph.entries(&turn.codex_turn_id) {
            match entry {
                Entry::Inference(_) => inference += 1,
                Entry::Tool(tool) => add(tool_name(tool)),
                Entry::Cell(cell) => {
                    add("exec".to_string());
                    for tool in self.graph.nested_tools(&cell.code_cell_id) {
                        add(tool_name(tool));
                    }
                }
                Entry::Compaction(_) => add("compaction".to_string()),
            }
        }
        let mut parts = vec![format!("{inference} inference")];
        for (name, n) in names {
            parts.push(if n == 1 {
                one_line(&name)
            } else {
                format!("{}×{n}", one_line(&name))
            });
        }
        parts.join(" · ")
    }

    /// An entry, its edges, and for a code cell the tools it ran.
    pub(super) fn entry(&mut self, m: &mut Markup, entry: &Entry<'a>) -> io::Result<()> {
        match *entry {
            Entry::Inference(call) => {
                self.inference(m, call)?;
                self.edges(m, Attach::Inference(&call.inference_call_id), 1)
            }
            Entry::Tool(tool) => self.tool(m, tool, 0),
            Entry::Cell(cell) => {
                self.cell(m, cell)?;
                let graph = self.graph;
                for tool in graph.nested_tools(&cell.code_cell_id) {
                    self.tool(m, tool, 1)?;
                }
                Ok(())
            }
            Entry::Compaction(compaction) => self.compaction(m, compaction),
        }
    }

    fn open_row(
        &mut self,
        m: &mut Markup,
        kind: &str,
        id: &'a str,
        level: usize,
        tool: Option<&str>,
        bad: bool,
    ) -> io::Result<()> {
        m.raw("<details class=\"row l")?
            .raw(&level.min(MAX_LEVEL).to_string())?
            .raw("\" data-k=\"")?
            .raw(kind)?
            .raw("\"")?;
        self.id_attr(m, id)?;
        if let Some(tool) = tool {
            m.raw(" data-tool=\"")?.attr(tool)?.raw("\"")?;
        }
        if bad {
            m.raw(" data-bad")?;
        }
        m.raw("><summary>")?;
        Ok(())
    }

    fn inference(&mut self, m: &mut Markup, call: &'a InferenceCall) -> io::Result<()> {
        let failed = is_bad(call.execution.status);
        self.open_row(m, "inference", &call.inference_call_id, 0, None, failed)?;
        status(m, call.execution.status, false)?;
        m.raw(" <b>inference</b> <span class=\"model\">")?
            .text(&call.model)?
            .raw("</span>")?;
        took(m, &call.execution)?;
        if let Some(usage) = &call.usage {
            m.raw(" <span class=\"p\">")?
                .text(&format!(
                    "{} in ({} cached) · {} out",
                    count(usage.input_tokens),
                    count(usage.cached_input_tokens),
                    count(usage.output_tokens)
                ))?
                .raw("</span>")?;
        }
        close_row(m)
    }

    fn tool(
        &mut self,
        m: &mut Markup,
        tool: &'a crate::model::ToolCall,
        level: usize,
    ) -> io::Result<()> {
        let trace = self.graph.trace;
        let name = tool_name(tool);
        let exit = terminal_exit(trace, tool);
        let failed = is_bad(tool.execution.status) || exit.is_some_and(|code| code != 0);
        self.open_row(m, "tool", &tool.tool_call_id, level, Some(&name), failed)?;
        status(m, tool.execution.status, false)?;
        m.raw(" <b>")?.text(&one_line(&name))?.raw("</b>")?;
        took(m, &tool.execution)?;
        if let Some(code) = exit {
            m.raw(if code == 0 {
                " <span class=\"exit\">exit "
            } else {
                " <span class=\"exit bad\">exit "
            })?
            .text(&code.to_string())?
            .raw("</span>")?;
        }
        let detail = tool_detail(trace, tool);
        if !detail.is_empty() {
            m.raw(" <code class=\"p\">")?
                .text(&cut(&one_line(&detail), PREVIEW_CHARS))?
                .raw("</code>")?;
        }
        close_row(m)?;
        self.edges(m, Attach::ToolCall(&tool.tool_call_id), level + 1)
    }

    fn cell(&mut self, m: &mut Markup, cell: &'a CodeCell) -> io::Result<()> {
        let failed = is_bad(cell.execution.status)
            || matches!(
                cell.runtime_status,
                CodeCellRuntimeStatus::Failed | CodeCellRuntimeStatus::Terminated
            );
        self.open_row(m, "cell", &cell.code_cell_id, 0, Some("exec"), failed)?;
        status(m, cell.execution.status, false)?;
        m.raw(" <b>exec cell</b>")?;
        if let Some(runtime_id) = &cell.runtime_cell_id {
            m.raw(" ")?.text(&one_line(runtime_id))?;
        }
        took(m, &cell.execution)?;
        let nested = self.graph.nested_tools(&cell.code_cell_id).len();
        m.raw(" · ")?.text(&plural(nested, "tool"))?;
        if !matches!(
            cell.runtime_status,
            CodeCellRuntimeStatus::Completed | CodeCellRuntimeStatus::Failed
        ) {
            m.raw(" · <span class=\"warn\">runtime ")?
                .text(&format!("{:?}", cell.runtime_status).to_lowercase())?
                .raw("</span>")?;
        }
        if let Some(yielded) = cell.yielded_at_unix_ms {
            m.raw(" · yielded after ")?.text(&duration(
                yielded.saturating_sub(cell.execution.started_at_unix_ms),
            ))?;
        }
        m.raw(" <code class=\"p\">")?
            .text(&cut(&one_line(&cell.source_js), PREVIEW_CHARS))?
            .raw("</code>")?;
        close_row(m)
    }

    fn compaction(&mut self, m: &mut Markup, compaction: &'a Compaction) -> io::Result<()> {
        let window = self.graph.compaction_window(compaction);
        let state = window.map_or(ExecutionStatus::Completed, |window| window.status);
        self.open_row(
            m,
            "compaction",
            &compaction.compaction_id,
            0,
            Some("compaction"),
            is_bad(state),
        )?;
        status(m, state, false)?;
        m.raw(" <b>compaction</b>")?;
        if let Some(window) = &window {
            took(m, window)?;
        }
        m.raw(" · ")?.text(&format!(
            "{} → {} items, {}",
            compaction.input_item_ids.len(),
            compaction.replacement_item_ids.len(),
            plural(compaction.request_ids.len(), "request")
        ))?;
        close_row(m)
    }

    /// The edges that arrive at or leave from a row, one row each.
    pub(super) fn edges(
        &mut self,
        m: &mut Markup,
        place: Attach<'_>,
        level: usize,
    ) -> io::Result<()> {
        let incoming = self.incoming.get(&place).cloned().unwrap_or_default();
        let outgoing = self.outgoing.get(&place).cloned().unwrap_or_default();
        for edge in incoming {
            self.edge(m, edge, false, level)?;
        }
        for edge in outgoing {
            self.edge(m, edge, true, level)?;
        }
        Ok(())
    }

    /// `→ spawn_agent to /root/worker` where it leaves, `← agent_result from
    /// /root/worker` where it arrives; the path links to the other end.
    pub(super) fn edge(
        &mut self,
        m: &mut Markup,
        edge: &'a InteractionEdge,
        leaving: bool,
        level: usize,
    ) -> io::Result<()> {
        self.open_row(m, "edge", &edge.edge_id, level, None, false)?;
        let (arrow, word, other) = if leaving {
            ("→", " to ", &edge.target)
        } else {
            ("←", " from ", &edge.source)
        };
        m.raw("<span class=\"edge\">")?
            .raw(arrow)?
            .raw(" <b>")?
            .text(edge.kind.as_str())?
            .raw("</b>")?
            .raw(word)?;
        self.anchor(m, other)?;
        m.raw("</span>")?;
        close_row(m)
    }

    /// A link to an edge end, named by its thread's agent path.
    fn anchor(&self, m: &mut Markup, anchor: &TraceAnchor) -> io::Result<()> {
        let trace = self.graph.trace;
        let (id, known) = match anchor {
            TraceAnchor::ConversationItem { item_id } => {
                (item_id, trace.conversation_items.contains_key(item_id))
            }
            TraceAnchor::ToolCall { tool_call_id } => {
                (tool_call_id, trace.tool_calls.contains_key(tool_call_id))
            }
            TraceAnchor::Thread { thread_id } => (thread_id, trace.threads.contains_key(thread_id)),
        };
        let agent = self.graph.anchor_agent(anchor);
        if !known {
            return m
                .raw("<code>")?
                .text(&agent)?
                .raw("</code> (not in the trace)")
                .map(drop);
        }
        m.raw("<a")?.href(id)?.raw(">")?.text(&agent)?.raw("</a>")?;
        Ok(())
    }

    /// `#12 assistant · call exec_command · rg --files …`.
    pub(super) fn item(&mut self, m: &mut Markup, item: &'a ConversationItem) -> io::Result<()> {
        self.open_row(m, "item", &item.item_id, 0, None, false)?;
        let number = item
            .item_id
            .strip_prefix("conversation_item:")
            .map_or(item.item_id.clone(), |n| format!("#{n}"));
        m.raw("<span class=\"n\">")?
            .text(&number)?
            .raw("</span> <b class=\"role\">")?
            .text(item.role.as_str())?
            .raw("</b>")?;
        if let Some(channel) = item.channel {
            m.raw(" · ")?.text(channel.as_str())?;
        }
        let call_id = item.call_id.as_deref().unwrap_or("");
        let tool = self.graph.tool_for_call(&item.thread_id, call_id);
        let cell = self.graph.cell_for_item(&item.item_id);
        let name = match (tool, cell) {
            (Some(tool), _) => one_line(&tool_name(tool)),
            (None, Some(_)) => "exec".to_string(),
            (None, None) => "tool".to_string(),
        };
        let what = match item.kind {
            ConversationItemKind::Message => item.agent_message.as_ref().map(|routing| {
                format!(
                    "message {} → {}",
                    one_line(&routing.author),
                    one_line(&routing.recipient)
                )
            }),
            ConversationItemKind::Reasoning => Some("reasoning".to_string()),
            ConversationItemKind::FunctionCall | ConversationItemKind::CustomToolCall => {
                Some(format!("call {name}"))
            }
            ConversationItemKind::FunctionCallOutput
            | ConversationItemKind::CustomToolCallOutput => Some(format!("output of {name}")),
            ConversationItemKind::CompactionMarker => Some("compaction marker".to_string()),
        };
        if let Some(what) = what {
            m.raw(" · ")?.text(&what)?;
        }
        let state = tool
            .map(|tool| tool.execution.status)
            .or(cell.map(|cell| cell.execution.status));
        if let Some(state) = state.filter(|state| *state != ExecutionStatus::Completed) {
            m.raw(" ")?;
            status(m, state, true)?;
        }
        let preview = item.body.parts.iter().find_map(|part| {
            let text = match part {
                ConversationPart::Text { text } | ConversationPart::Summary { text } => text,
                ConversationPart::Code { source, .. } => source,
                ConversationPart::Json { summary, .. } => summary,
                ConversationPart::Encoded { .. } | ConversationPart::PayloadRef { .. } => {
                    return None;
                }
            };
            let text = one_line(text);
            (!text.is_empty()).then_some(text)
        });
        if let Some(preview) = preview {
            m.raw(" <span class=\"p\">")?
                .text(&cut(&preview, PREVIEW_CHARS))?
                .raw("</span>")?;
        }
        close_row(m)
    }
}

fn close_row(m: &mut Markup) -> io::Result<()> {
    m.raw("</summary></details>\n")?;
    Ok(())
}

/// `✓`, `✗ failed`, …: the symbol, and the word unless completed (always
/// when `word`).
pub(crate) fn status(m: &mut Markup, status: ExecutionStatus, word: bool) -> io::Result<()> {
    let (symbol, class) = match status {
        ExecutionStatus::Completed => ("✓", "ok"),
        ExecutionStatus::Failed => ("✗", "bad"),
        ExecutionStatus::Cancelled | ExecutionStatus::Aborted => ("⊘", "warn"),
        ExecutionStatus::Running => ("●", "run"),
    };
    m.raw("<span class=\"s ")?
        .raw(class)?
        .raw("\">")?
        .raw(symbol)?;
    if word || status != ExecutionStatus::Completed {
        m.raw(" ")?.raw(status.as_str())?;
    }
    m.raw("</span>")?;
    Ok(())
}

/// ` 1.5s` for a closed window.
fn took(m: &mut Markup, window: &ExecutionWindow) -> io::Result<()> {
    if let Some(ms) = window_ms(window) {
        m.raw(" <span class=\"t\">")?
            .text(&duration(ms))?
            .raw("</span>")?;
    }
    Ok(())
}
