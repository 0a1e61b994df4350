//! The queue of agent deliveries waiting for their recipient-side item,
//! with the lookups the reducer makes on it, each answered without a scan.
//!
//! Upstream keeps a list and searches it (by edge id when an edge is queued
//! again, by delivery when an item is sighted, by source when a tool's
//! result arrives): a bundle with many undelivered messages made every
//! sighting cost as much as the queue is long. Invariants:
//! - Queue order is the order edges were first queued; every lookup answers
//!   "the first in queue order that ...", as the list search would.
//! - An edge id is queued at most once (a second observation merges into it).
//! - The indexes hold exactly the queued edges' keys.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::HashMap;

use super::agents::PendingEdge;
use super::index::DeliveryKey;

/// Queued edges in queue order, with their indexes.
#[derive(Debug, Clone, Default)]
pub(super) struct PendingEdges {
    next_position: u64,
    edges: BTreeMap<u64, PendingEdge>,
    by_id: HashMap<String, u64>,
    by_delivery: HashMap<DeliveryKey, BTreeSet<u64>>,
    /// By the tool call the edge starts from.
    by_source_tool: HashMap<String, BTreeSet<u64>>,
}

impl PendingEdges {
    pub(super) fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Queues `edge` last. Its id must not be queued yet (see [`Self::by_id_mut`]).
    pub(super) fn push(&mut self, edge: PendingEdge) {
        let position = self.next_position;
        self.next_position += 1;
        self.by_id.insert(edge.edge_id().to_string(), position);
        self.by_delivery
            .entry(edge.delivery_key())
            .or_default()
            .insert(position);
        if let Some(tool_call_id) = edge.source_tool_call_id() {
            self.by_source_tool
                .entry(tool_call_id.to_string())
                .or_default()
                .insert(position);
        }
        self.edges.insert(position, edge);
    }

    /// The queued edge with this id.
    pub(super) fn by_id_mut(&mut self, edge_id: &str) -> Option<&mut PendingEdge> {
        let position = self.by_id.get(edge_id)?;
        self.edges.get_mut(position)
    }

    /// The first queued edge that starts from this tool call.
    pub(super) fn first_from_tool_mut(&mut self, tool_call_id: &str) -> Option<&mut PendingEdge> {
        let position = self.by_source_tool.get(tool_call_id)?.first()?;
        self.edges.get_mut(position)
    }

    /// Removes and returns the first queued edge with this delivery.
    pub(super) fn take_first_delivered(&mut self, key: &DeliveryKey) -> Option<PendingEdge> {
        let position = *self.by_delivery.get(key)?.first()?;
        self.remove(position)
    }

    /// Removes and returns every queued edge, in queue order, leaving an
    /// empty queue (the end-of-replay rules, its only caller, queue nothing
    /// after).
    pub(super) fn take_all(&mut self) -> Vec<PendingEdge> {
        std::mem::take(self).edges.into_values().collect()
    }

    fn remove(&mut self, position: u64) -> Option<PendingEdge> {
        let edge = self.edges.remove(&position)?;
        self.by_id.remove(edge.edge_id());
        remove_from(&mut self.by_delivery, &edge.delivery_key(), position);
        if let Some(tool_call_id) = edge.source_tool_call_id() {
            remove_from(&mut self.by_source_tool, tool_call_id, position);
        }
        Some(edge)
    }
}

/// Removes `position` from the set at `key`, and the set when it empties.
fn remove_from<K, Q>(index: &mut HashMap<K, BTreeSet<u64>>, key: &Q, position: u64)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(positions) = index.get_mut(key) {
        positions.remove(&position);
        if positions.is_empty() {
            index.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_queue_is_empty() {
        assert!(PendingEdges::default().is_empty());
    }
}
