//! Lookup tables that replace upstream's linear scans.
//!
//! Each table answers one question upstream answers by scanning a whole map
//! (spec README, observation 5). Lists are kept in the order upstream's scan
//! would visit them (byte-wise id order where upstream iterates a map), so
//! using an index never changes the output.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::collections::HashSet;
use std::collections::VecDeque;

use crate::model::ConversationItemKind;

/// `outer -> inner -> value`, looked up by `&str` without allocating.
pub(super) type Nested<V> = HashMap<String, HashMap<String, V>>;

pub(super) fn nested_get<'a, V>(map: &'a Nested<V>, outer: &str, inner: &str) -> Option<&'a V> {
    map.get(outer).and_then(|inner_map| inner_map.get(inner))
}

pub(super) fn nested_entry<'a, V: Default>(
    map: &'a mut Nested<V>,
    outer: &str,
    inner: &str,
) -> &'a mut V {
    map.entry(outer.to_string())
        .or_default()
        .entry(inner.to_string())
        .or_default()
}

/// Where an agent message was delivered: (recipient thread, author path, content).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct DeliveryKey {
    pub thread_id: String,
    pub author: String,
    pub content: String,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    /// Members of each thread's `conversation_item_ids`.
    pub thread_item_sets: HashMap<String, ItemSet>,
    /// Item ordinals by (thread, model-visible call id), in creation order.
    pub items_by_call: Nested<Vec<usize>>,
    /// The first item of each kind by (thread, model-visible call id).
    pub first_item_by_call_kind: Nested<Vec<(ConversationItemKind, usize)>>,
    /// The tool call holding each model-visible call id, across threads: at
    /// most one, since a second start with the same call id fails (so
    /// upstream's `multiple tool calls matched` error cannot arise).
    pub tools_by_call_id: HashMap<String, String>,
    /// Inference calls whose `response_item_ids` contain an item.
    pub inference_by_response_item: HashMap<String, BTreeSet<String>>,
    /// Inference calls by (thread, response id).
    pub inference_by_response_id: Nested<BTreeSet<String>>,
    /// Inference calls by turn, until a turn end ends them.
    pub inference_by_turn: HashMap<String, Vec<String>>,
    /// Materialized code cells of each turn that may still be running: a
    /// turn end ends them, a cell end with a running status adds it back.
    pub cells_by_turn: HashMap<String, BTreeSet<String>>,
    /// Queued code cells by (thread, model-visible call id) of the source
    /// item they wait for.
    pub pending_cells_by_call: HashMap<(String, String), BTreeSet<String>>,
    /// (thread, call id) of the `custom_tool_call` items created since the
    /// last flush of queued code cells.
    pub new_custom_tool_calls: Vec<(String, String)>,
    /// Tool calls whose requester is a code cell, by that cell's id.
    pub tools_by_requesting_cell: HashMap<String, BTreeSet<String>>,
    /// Compaction request ids by compaction id.
    pub requests_by_compaction: HashMap<String, BTreeSet<String>>,
    /// Interaction edge ids by the tool call they start from.
    pub edges_by_source_tool: HashMap<String, BTreeSet<String>>,
    /// Items that are the target of some interaction edge.
    pub linked_items: HashSet<String>,
    /// Items (by position) of each thread list that read as an agent
    /// delivery, in list order, less the front ones an edge already targets.
    pub deliveries: HashMap<DeliveryKey, VecDeque<usize>>,
    /// Latest plain assistant message per (thread, turn): (first seen, item id).
    pub latest_assistant_message: Nested<(i64, String)>,
}

/// A set of item positions: a bitmap, since positions are dense.
#[derive(Debug, Clone, Default)]
pub(super) struct ItemSet {
    bits: Vec<u64>,
}

impl ItemSet {
    /// Adds `index`; false if it was already there.
    pub fn insert(&mut self, index: usize) -> bool {
        let (word, bit) = (index / 64, index % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let mask = 1 << bit;
        let added = self.bits[word] & mask == 0;
        self.bits[word] |= mask;
        added
    }

    pub fn contains(&self, index: usize) -> bool {
        self.bits
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }
}
