//! The outline of the page, as HTML: the thread tree, then per thread its
//! turns with what happened in each (inference calls, code cells with the
//! tools they ran, tool calls, compactions) and the agent edges where they
//! leave and arrive, then its conversation. One row per object, in the
//! order of `views::graph`. It is the whole page without JavaScript.
//!
//! Invariants:
//! - Every row is a `<details>` with `data-k` (its kind) and its object's id:
//!   as `id` the first time an element gets that id, as `data-id` after, so
//!   ids are unique in the document. Rows of failed, cancelled or aborted
//!   objects (and commands that exited non-zero) carry `data-bad`, tool
//!   and code-cell rows `data-tool`: the filters of `explorer.js` read them.
//! - A row is one line of escaped text; no body is written here:
//!   `explorer.js` builds a row's body from the page data when it opens.
//! - Every object of the trace that a view lists has a row: objects of a
//!   thread the trace does not have, and items in no thread's conversation,
//!   are listed at the end.
//! - The root thread's turns and conversation are open; other threads' are
//!   closed (their rows exist but are not displayed).
//! - Every edge is shown where it leaves and where it arrives, with a link
//!   to its other end.

mod rows;

pub(super) use rows::status;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::io;

use super::markup::Markup;
use crate::model::AgentThread;
use crate::model::ExecutionStatus;
use crate::model::InteractionEdge;
use crate::model::RolloutTrace;
use crate::model::TokenUsage;
use crate::views::graph::Attach;
use crate::views::graph::Entry;
use crate::views::graph::Graph;
use crate::views::graph::window_ms;
use crate::views::text::count;
use crate::views::text::duration;
use crate::views::text::plural;

const NO_USAGE: TokenUsage = TokenUsage {
    input_tokens: 0,
    cached_input_tokens: 0,
    cache_write_input_tokens: 0,
    output_tokens: 0,
    reasoning_output_tokens: 0,
};

/// Spawn depths deeper than this are shown at this depth in the thread tree.
const TREE_DEPTH: usize = 12;

pub(super) struct Outline<'g, 'a> {
    graph: &'g Graph<'a>,
    /// Edges by the row they leave from.
    outgoing: BTreeMap<Attach<'a>, Vec<&'a InteractionEdge>>,
    /// Edges by the row they arrive at.
    incoming: BTreeMap<Attach<'a>, Vec<&'a InteractionEdge>>,
    /// Edges whose ends are not in the trace.
    unplaced: Vec<&'a InteractionEdge>,
    /// Token use per thread.
    usage: BTreeMap<&'a str, TokenUsage>,
    /// The models each thread's inference and compaction requests went to.
    models: BTreeMap<&'a str, BTreeSet<&'a str>>,
    /// Ids already given to an element.
    used: BTreeSet<&'a str>,
}

impl<'g, 'a> Outline<'g, 'a> {
    pub(super) fn new(graph: &'g Graph<'a>) -> Outline<'g, 'a> {
        let mut outline = Outline {
            graph,
            outgoing: BTreeMap::new(),
            incoming: BTreeMap::new(),
            unplaced: Vec::new(),
            usage: BTreeMap::new(),
            models: BTreeMap::new(),
            used: BTreeSet::new(),
        };
        for edge in graph.trace.interaction_edges.values() {
            let from = graph.attach(&edge.source, true);
            let to = graph.attach(&edge.target, false);
            if from.is_none() && to.is_none() {
                outline.unplaced.push(edge);
            }
            if let Some(from) = from {
                outline.outgoing.entry(from).or_default().push(edge);
            }
            if let Some(to) = to {
                outline.incoming.entry(to).or_default().push(edge);
            }
        }
        let requests = graph.trace.compaction_requests.values();
        for (thread_id, model) in graph
            .trace
            .inference_calls
            .values()
            .map(|call| (&call.thread_id, &call.model))
            .chain(requests.map(|request| (&request.thread_id, &request.model)))
        {
            outline.models.entry(thread_id).or_default().insert(model);
        }
        for call in graph.trace.inference_calls.values() {
            if let Some(usage) = &call.usage {
                add_usage(
                    outline.usage.entry(&call.thread_id).or_insert(NO_USAGE),
                    usage,
                );
            }
        }
        outline
    }

    /// The thread tree, every thread, and what no thread holds.
    pub(super) fn write(&mut self, m: &mut Markup) -> io::Result<()> {
        self.thread_tree(m)?;
        m.raw("<main>\n")?;
        let graph = self.graph;
        for thread in &graph.threads {
            self.thread(m, thread)?;
        }
        self.elsewhere(m)?;
        m.raw("</main>\n")?;
        Ok(())
    }

    /// Threads nested under the thread that spawned them, each a link to its
    /// section.
    fn thread_tree(&self, m: &mut Markup) -> io::Result<()> {
        let trace = self.graph.trace;
        let mut children: BTreeMap<&str, Vec<&AgentThread>> = BTreeMap::new();
        let mut tops = Vec::new();
        for thread in &self.graph.threads {
            match Graph::spawned_by(thread) {
                Some((parent, _))
                    if parent != thread.thread_id && trace.threads.contains_key(parent) =>
                {
                    children.entry(parent).or_default().push(thread);
                }
                _ => tops.push(*thread),
            }
        }
        // Depth-first, in display order; threads in a spawn cycle are reached
        // from the first of them.
        let mut order: Vec<(&AgentThread, usize)> = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for start in tops.iter().chain(&self.graph.threads) {
            let mut stack = vec![(*start, 0usize)];
            while let Some((thread, depth)) = stack.pop() {
                if !seen.insert(&thread.thread_id) {
                    continue;
                }
                order.push((thread, depth.min(TREE_DEPTH)));
                let kids = children.get(thread.thread_id.as_str());
                for kid in kids.into_iter().flatten().rev() {
                    stack.push((kid, depth + 1));
                }
            }
        }
        m.raw("<nav class=\"tree\">\n<h2>Threads</h2>\n<ul>")?;
        let mut depth = 0;
        for (index, (thread, level)) in order.iter().enumerate() {
            if index > 0 {
                if *level > depth {
                    m.raw("<ul>")?;
                } else {
                    m.raw("</li>\n")?;
                    for _ in *level..depth {
                        m.raw("</ul></li>\n")?;
                    }
                }
            }
            depth = *level;
            m.raw("<li>")?;
            self.thread_title(m, thread, true)?;
            m.raw(" ")?;
            self.thread_facts(m, thread)?;
        }
        if !order.is_empty() {
            m.raw("</li>")?;
            for _ in 0..depth {
                m.raw("</ul></li>")?;
            }
        }
        m.raw("</ul>\n</nav>\n")?;
        Ok(())
    }

    /// The agent path (a link when `link`) and the nickname.
    fn thread_title(&self, m: &mut Markup, thread: &AgentThread, link: bool) -> io::Result<()> {
        if link {
            m.raw("<a class=\"path\"")?
                .href(&thread.thread_id)?
                .raw(">")?;
        } else {
            m.raw("<span class=\"path\">")?;
        }
        m.text(&thread.agent_path)?
            .raw(if link { "</a>" } else { "</span>" })?;
        if let Some(nickname) = &thread.nickname {
            m.raw(" <span class=\"nick\">“")?
                .text(nickname)?
                .raw("”</span>")?;
        }
        Ok(())
    }

    /// `✓ completed · 42.1s · gpt-5 · 3 turns · tokens 5400 in · 360 out`.
    fn thread_facts(&self, m: &mut Markup, thread: &AgentThread) -> io::Result<()> {
        m.raw("<span class=\"facts\">")?;
        rows::status(m, thread.execution.status, true)?;
        if let Some(ms) = window_ms(&thread.execution) {
            m.raw(" · ")?.text(&duration(ms))?;
        }
        // The thread's default model, then any other its requests went to.
        let default = thread.default_model.as_deref();
        let used = self.models.get(thread.thread_id.as_str());
        let others = used
            .into_iter()
            .flatten()
            .filter(|model| Some(**model) != default);
        let models: Vec<&str> = default.into_iter().chain(others.copied()).collect();
        if !models.is_empty() {
            m.raw(" · <span class=\"model\">")?
                .text(&models.join(", "))?
                .raw("</span>")?;
        }
        let turns = self.graph.turns(&thread.thread_id).len();
        m.raw(" · ")?.text(&plural(turns, "turn"))?;
        if let Some(usage) = self.usage.get(thread.thread_id.as_str()) {
            m.raw(" · ")?.text(&tokens(usage))?;
        }
        m.raw("</span>")?;
        Ok(())
    }

    fn thread(&mut self, m: &mut Markup, thread: &'a AgentThread) -> io::Result<()> {
        let root = thread.thread_id == self.graph.trace.root_thread_id;
        m.raw("<section class=\"thread\" data-thread=\"")?
            .attr(&thread.thread_id)?
            .raw("\"")?;
        self.id_attr(m, &thread.thread_id)?;
        m.raw(">\n<h2>")?;
        self.thread_title(m, thread, false)?;
        m.raw("</h2>\n<p>")?;
        self.thread_facts(m, thread)?;
        m.raw(" · ")?
            .text(&plural(thread.conversation_item_ids.len(), "item"))?
            .raw("</p>\n")?;
        if let Some((parent, spawn_edge)) = Graph::spawned_by(thread) {
            self.spawned(m, thread, parent, spawn_edge)?;
        }
        m.raw("<details class=\"row info\" data-k=\"thread\" data-id=\"")?
            .attr(&thread.thread_id)?
            .raw("\"><summary>thread <code>")?
            .text(&thread.thread_id)?
            .raw("</code></summary></details>\n")?;
        self.edges(m, Attach::Thread(&thread.thread_id), 0)?;
        self.turns(m, &thread.thread_id, root)?;
        self.conversation(m, thread, root)?;
        m.raw("</section>\n")?;
        Ok(())
    }

    /// `spawned by /root as worker · task name`, the parent a link.
    fn spawned(
        &self,
        m: &mut Markup,
        thread: &AgentThread,
        parent: &str,
        spawn_edge: &str,
    ) -> io::Result<()> {
        let crate::model::AgentOrigin::Spawned {
            task_name,
            agent_role,
            ..
        } = &thread.origin
        else {
            return Ok(());
        };
        m.raw("<p class=\"spawned\">spawned by ")?;
        match self.graph.trace.threads.get(parent) {
            Some(parent) => {
                m.raw("<a")?
                    .href(&parent.thread_id)?
                    .raw(">")?
                    .text(&parent.agent_path)?
                    .raw("</a>")?;
            }
            None => {
                m.raw("<code>")?.text(parent)?.raw("</code>")?;
            }
        }
        if !agent_role.is_empty() {
            m.raw(" as ")?.text(agent_role)?;
        }
        if !task_name.is_empty() {
            m.raw(" · task ")?.text(task_name)?;
        }
        if self.graph.trace.interaction_edges.contains_key(spawn_edge) {
            m.raw(" · <a")?.href(spawn_edge)?.raw(">spawn edge</a>")?;
        }
        m.raw("</p>\n")?;
        Ok(())
    }

    /// The turns of a thread (and what happened outside any turn).
    fn turns(&mut self, m: &mut Markup, thread_id: &str, open: bool) -> io::Result<()> {
        let graph = self.graph;
        let turns = graph.turns(thread_id);
        let loose = graph.loose_entries(thread_id);
        m.raw(if open {
            "<details class=\"turns\" open>"
        } else {
            "<details class=\"turns\">"
        })?
        .raw("<summary>")?
        .text(&plural(turns.len(), "turn"))?
        .raw("</summary>\n")?;
        if !loose.is_empty() {
            m.raw("<div class=\"loose\"><p class=\"note\">outside any turn</p>\n")?;
            self.entries(m, loose)?;
            m.raw("</div>\n")?;
        }
        for (index, turn) in turns.iter().enumerate() {
            self.turn(m, index, turn, open)?;
        }
        m.raw("</details>\n")?;
        Ok(())
    }

    fn entries(&mut self, m: &mut Markup, entries: &[Entry<'a>]) -> io::Result<()> {
        for entry in entries {
            m.raw("<div class=\"g\">")?;
            self.entry(m, entry)?;
            m.raw("</div>\n")?;
        }
        Ok(())
    }

    fn conversation(
        &mut self,
        m: &mut Markup,
        thread: &'a AgentThread,
        open: bool,
    ) -> io::Result<()> {
        m.raw(if open {
            "<details class=\"conv\" open>"
        } else {
            "<details class=\"conv\">"
        })?
        .raw("<summary>conversation · ")?
        .text(&plural(thread.conversation_item_ids.len(), "item"))?
        .raw("</summary>\n")?;
        let trace = self.graph.trace;
        for item_id in &thread.conversation_item_ids {
            match trace.conversation_items.get(item_id) {
                Some(item) => self.item(m, item)?,
                None => {
                    m.raw("<p class=\"warn\">")?
                        .text(item_id)?
                        .raw(": not in the trace</p>\n")?;
                }
            }
        }
        m.raw("</details>\n")?;
        Ok(())
    }

    /// Objects no known thread holds: those of threads the trace does not
    /// have, items in no thread's conversation, edges with no known end.
    fn elsewhere(&mut self, m: &mut Markup) -> io::Result<()> {
        let trace = self.graph.trace;
        let unknown: BTreeSet<&str> = trace
            .codex_turns
            .values()
            .map(|turn| turn.thread_id.as_str())
            .chain(trace.inference_calls.values().map(|c| c.thread_id.as_str()))
            .chain(trace.code_cells.values().map(|c| c.thread_id.as_str()))
            .chain(trace.tool_calls.values().map(|t| t.thread_id.as_str()))
            .chain(trace.compactions.values().map(|c| c.thread_id.as_str()))
            .filter(|thread_id| !trace.threads.contains_key(*thread_id))
            .collect();
        let listed: BTreeSet<&str> = trace
            .threads
            .values()
            .flat_map(|thread| &thread.conversation_item_ids)
            .map(String::as_str)
            .collect();
        let unlisted: Vec<_> = trace
            .conversation_items
            .values()
            .filter(|item| !listed.contains(item.item_id.as_str()))
            .collect();
        if unknown.is_empty() && unlisted.is_empty() && self.unplaced.is_empty() {
            return Ok(());
        }
        m.raw("<section class=\"thread elsewhere\">\n<h2>Not in a known thread</h2>\n")?;
        for thread_id in unknown {
            m.raw("<h3>thread <code>")?
                .text(thread_id)?
                .raw("</code> (not in the trace)</h3>\n")?;
            self.turns(m, thread_id, true)?;
        }
        if !unlisted.is_empty() {
            m.raw("<details class=\"conv\" open><summary>items in no thread's conversation · ")?
                .text(&plural(unlisted.len(), "item"))?
                .raw("</summary>\n")?;
            for item in unlisted {
                self.item(m, item)?;
            }
            m.raw("</details>\n")?;
        }
        let unplaced = std::mem::take(&mut self.unplaced);
        for edge in &unplaced {
            self.edge(m, edge, true, 0)?;
        }
        m.raw("</section>\n")?;
        Ok(())
    }

    /// ` id="…"` the first time an id is given, ` data-id="…"` after.
    fn id_attr(&mut self, m: &mut Markup, id: &'a str) -> io::Result<()> {
        if !id.is_empty() && self.used.insert(id) {
            m.id(id)?;
        } else {
            m.raw(" data-id=\"")?.attr(id)?.raw("\"")?;
        }
        Ok(())
    }
}

/// Failed, cancelled and aborted: what the "failed only" filter shows.
pub(super) fn is_bad(status: ExecutionStatus) -> bool {
    matches!(
        status,
        ExecutionStatus::Failed | ExecutionStatus::Cancelled | ExecutionStatus::Aborted
    )
}

fn add_usage(total: &mut TokenUsage, usage: &TokenUsage) {
    total.input_tokens = total.input_tokens.saturating_add(usage.input_tokens);
    total.cached_input_tokens = total
        .cached_input_tokens
        .saturating_add(usage.cached_input_tokens);
    total.cache_write_input_tokens = total
        .cache_write_input_tokens
        .saturating_add(usage.cache_write_input_tokens);
    total.output_tokens = total.output_tokens.saturating_add(usage.output_tokens);
    total.reasoning_output_tokens = total
        .reasoning_output_tokens
        .saturating_add(usage.reasoning_output_tokens);
}

/// `tokens 14.4k in (7200 cached) · 960 out`.
pub(super) fn tokens(usage: &TokenUsage) -> String {
    format!(
        "tokens {} in ({} cached) · {} out",
        count(usage.input_tokens),
        count(usage.cached_input_tokens),
        count(usage.output_tokens)
    )
}

/// The token use of every inference call of the trace.
pub(super) fn total_usage(trace: &RolloutTrace) -> TokenUsage {
    let mut total = NO_USAGE;
    for usage in trace.inference_calls.values().filter_map(|call| call.usage) {
        add_usage(&mut total, &usage);
    }
    total
}
