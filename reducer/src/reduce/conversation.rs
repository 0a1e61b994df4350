//! Item identity: reconciling normalized items with the items already seen.
//!
//! A request is a snapshot of the whole model-visible history, so the same
//! item comes back with every request. Reconciliation decides, item by item,
//! whether a sighting is an existing item (reused by position, or in a full
//! snapshot by content) or a new one (`reduction.md` §7). Each sighting then
//! updates the item and links it to tools, code cells and agent edges.
//!
//! Identity is an equivalence: two bodies match exactly when their
//! `MatchKey`s are equal (json parts compare by summary only; reasoning items
//! that carry an encrypted blob compare by the first blob only). Full-snapshot
//! search uses that to find candidates by hash instead of scanning the
//! baseline for every item, and verifies each candidate with `item_matches`.

use std::collections::HashMap;
use std::hash::DefaultHasher;
use std::hash::Hash;
use std::hash::Hasher;

use super::Reducer;
use super::budget::id_list_bytes;
use super::budget::item_bytes;
use super::delivery::delivery_reading;
use super::index::DeliveryKey;
use super::index::ItemSet;
use super::index::nested_entry;
use super::index::nested_get;
use super::normalize::NormalizedItem;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::ConversationBody;
use crate::model::ConversationItem;
use crate::model::ConversationItemKind;
use crate::model::ConversationPart;
use crate::model::ConversationRole;
use crate::model::ItemIdList;
use crate::model::ProducerRef;

/// Prefix of every conversation item id.
const ITEM_ID_PREFIX: &str = "conversation_item:";

/// Position of an item in `Reducer::items`: `conversation_item:<n>` is at `n - 1`.
/// Reconciliation works on positions; ids are spelled out only for the graph.
pub(super) type ItemIndex = usize;

/// How a list of sightings lines up with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReconcileMode {
    /// A full request: items may be reordered, so a miss at a position
    /// searches the whole baseline for an unused equal item.
    Full,
    /// An incremental delta or response output: positions inside the
    /// baseline must match exactly, positions past it are new items.
    Append,
}

/// One item of a payload as reconciliation gets it.
pub(super) enum Sighted {
    /// A normalized item.
    Item(NormalizedItem),
    /// Byte for byte the item at the same position of the thread's previous
    /// request, which became this item; it matches the baseline entry at its
    /// position (the caller checked), so it needs no decoding.
    Unchanged(ItemIndex),
}

/// Who and when for the items a reconciliation creates.
pub(super) struct Sighting<'a> {
    pub thread_id: &'a str,
    pub codex_turn_id: &'a str,
    pub wall_time_unix_ms: i64,
    pub producers: &'a [ProducerRef],
}

impl Reducer {
    /// `reduction.md` §7.1: one id per normalized item, in order.
    pub(super) fn reconcile(
        &mut self,
        items: Vec<Sighted>,
        sighting: &Sighting<'_>,
        start: usize,
        mode: ReconcileMode,
        baseline: &[ItemIndex],
    ) -> Result<Vec<ItemIndex>, ReduceError> {
        let mut result = Vec::with_capacity(items.len());
        let mut used = ItemSet::default();
        let mut search = BaselineSearch::new(baseline);
        for (offset, item) in items.into_iter().enumerate() {
            let index = start + offset;
            let item = match item {
                Sighted::Item(item) => item,
                Sighted::Unchanged(chosen) => {
                    let Some(stored) = self.items.get(chosen) else {
                        bail!(
                            "conversation item {ITEM_ID_PREFIX}{} was referenced before it was created",
                            chosen + 1
                        );
                    };
                    self.check_call_id_consistency(sighting.thread_id, stored_identity(stored))?;
                    self.sight_item(chosen, None, sighting.producers)?;
                    used.insert(chosen);
                    result.push(chosen);
                    continue;
                }
            };
            self.check_call_id_consistency(sighting.thread_id, item.identity())?;
            let positional = baseline
                .get(index)
                .copied()
                .filter(|&candidate| self.index_matches(candidate, &item));
            let chosen = match (positional, mode) {
                (Some(candidate), _) => candidate,
                (None, ReconcileMode::Full) => match search.find(self, &item, &used) {
                    Some(found) => found,
                    None => self.create_item(sighting, &item)?,
                },
                (None, ReconcileMode::Append) => {
                    if let Some(&existing) = baseline.get(index) {
                        bail!(
                            "model conversation mismatch while reducing turn {} for thread {} at item index {index}: existing item {} does not match the current model payload item",
                            sighting.codex_turn_id,
                            sighting.thread_id,
                            self.item_id(existing)
                        );
                    }
                    self.create_item(sighting, &item)?
                }
            };
            self.sight_item(chosen, Some(&item.body), sighting.producers)?;
            used.insert(chosen);
            result.push(chosen);
        }
        self.flush_pending_code_cells()?;
        Ok(result)
    }

    /// `reduction.md` §12.3: every item is matched against unused candidates
    /// by content only, or created.
    pub(super) fn reconcile_detached(
        &mut self,
        items: Vec<NormalizedItem>,
        sighting: &Sighting<'_>,
        candidates: &[ItemIndex],
    ) -> Result<Vec<ItemIndex>, ReduceError> {
        let mut result = Vec::with_capacity(items.len());
        let mut used = ItemSet::default();
        let mut search = BaselineSearch::new(candidates);
        for item in items {
            self.check_call_id_consistency(sighting.thread_id, item.identity())?;
            let chosen = match search.find(self, &item, &used) {
                Some(found) => found,
                None => self.create_item(sighting, &item)?,
            };
            self.sight_item(chosen, Some(&item.body), sighting.producers)?;
            used.insert(chosen);
            result.push(chosen);
        }
        self.flush_pending_code_cells()?;
        Ok(result)
    }

    /// Steps 3 to 6 of §7.1 for one chosen id. `body` is the sighting's body
    /// (`None` for an unchanged resend, whose merge would change nothing:
    /// merging the same body twice is the same as merging it once).
    fn sight_item(
        &mut self,
        index: ItemIndex,
        body: Option<&ConversationBody>,
        producers: &[ProducerRef],
    ) -> Result<(), ReduceError> {
        let Some(stored) = self.items.get_mut(index) else {
            bail!(
                "conversation item {ITEM_ID_PREFIX}{} was referenced before it was created",
                index + 1
            );
        };
        if stored.kind == ConversationItemKind::Reasoning
            && let Some(body) = body
        {
            merge_reasoning_body(&mut stored.body, body)?;
        }
        for producer in producers {
            if !stored.produced_by.contains(producer) {
                stored.produced_by.push(producer.clone());
            }
        }
        // Call id and kind are the sighting's: a chosen item always has the same.
        if stored.call_id.is_none() && self.pending_edges.is_empty() {
            return Ok(());
        }
        let item_id = stored.item_id.clone();
        let kind = stored.kind;
        if let Some(call_id) = stored.call_id.clone() {
            self.link_tool_item(&item_id, &call_id, kind)?;
            self.link_code_cell_output(&item_id, &call_id, kind)?;
        }
        self.resolve_pending_edges_for_item(&item_id)
    }

    /// `reduction.md` §7.4: a call id names one call (and one output) per thread.
    fn check_call_id_consistency(
        &self,
        thread_id: &str,
        item: Identity<'_>,
    ) -> Result<(), ReduceError> {
        let Some(call_id) = item.call_id else {
            return Ok(());
        };
        // Every item of a kind with this call id passed this check against
        // the first one, and matching is an equivalence on these items (their
        // bodies never change), so the first of the kind stands for all.
        let first = nested_get(&self.index.first_item_by_call_kind, thread_id, call_id)
            .and_then(|firsts| firsts.iter().find(|(kind, _)| *kind == item.kind));
        if let Some(&(_, ordinal)) = first
            && let Some(existing) = self.items.get(ordinal)
            && !identities_match(stored_identity(existing), item)
        {
            bail!("model-visible call id {call_id} was reused with different content");
        }
        Ok(())
    }

    /// `reduction.md` §7.5.
    pub(super) fn create_item(
        &mut self,
        sighting: &Sighting<'_>,
        item: &NormalizedItem,
    ) -> Result<ItemIndex, ReduceError> {
        let ordinal = self.items.len();
        if ordinal >= MAX_ITEMS {
            bail!("a bundle of more than {MAX_ITEMS} conversation items is not supported");
        }
        let item_id = format!("{ITEM_ID_PREFIX}{}", ordinal + 1);
        if let Some(call_id) = &item.call_id {
            nested_entry(&mut self.index.items_by_call, sighting.thread_id, call_id).push(ordinal);
            let firsts = nested_entry(
                &mut self.index.first_item_by_call_kind,
                sighting.thread_id,
                call_id,
            );
            if firsts.iter().all(|(kind, _)| *kind != item.kind) {
                firsts.push((item.kind, ordinal));
            }
            if item.kind == ConversationItemKind::CustomToolCall {
                self.index
                    .new_custom_tool_calls
                    .push((sighting.thread_id.to_string(), call_id.clone()));
            }
        }
        if item.role == ConversationRole::Assistant
            && item.kind == ConversationItemKind::Message
            && item.agent_message.is_none()
        {
            let latest = nested_entry(
                &mut self.index.latest_assistant_message,
                sighting.thread_id,
                sighting.codex_turn_id,
            );
            // Greatest first-seen time, ties broken by the greatest id in byte order.
            if latest.1.is_empty()
                || (sighting.wall_time_unix_ms, item_id.as_str()) > (latest.0, latest.1.as_str())
            {
                *latest = (sighting.wall_time_unix_ms, item_id.clone());
            }
        }
        self.match_keys.push(normalized_match_key(item));
        self.items.push(ConversationItem {
            item_id: item_id.clone(),
            thread_id: sighting.thread_id.to_string(),
            codex_turn_id: Some(sighting.codex_turn_id.to_string()),
            first_seen_at_unix_ms: sighting.wall_time_unix_ms,
            role: item.role,
            channel: item.channel,
            kind: item.kind,
            agent_message: item.agent_message.clone(),
            body: item.body.clone(),
            call_id: item.call_id.clone(),
            produced_by: sighting.producers.to_vec(),
        });
        if let Some(created) = self.items.last() {
            self.budget
                .charge(item_bytes(created), "a new conversation item")?;
        }
        Ok(ordinal)
    }

    /// `reduction.md` §7.6: adds ids to the thread's list, once each.
    pub(super) fn append_to_thread(
        &mut self,
        thread_id: &str,
        items: &[ItemIndex],
    ) -> Result<(), ReduceError> {
        let Some(thread) = self.trace.threads.get_mut(thread_id) else {
            bail!("trace event referenced unknown thread {thread_id}");
        };
        let members = self
            .index
            .thread_item_sets
            .entry(thread_id.to_string())
            .or_default();
        let agent_path = thread.agent_path.clone();
        for &index in items {
            if !members.insert(index) {
                continue;
            }
            let Some(item) = self.items.get(index) else {
                continue;
            };
            thread.conversation_item_ids.push(item.item_id.clone());
            if let Some((author, content)) = delivery_reading(item, &agent_path) {
                self.index
                    .deliveries
                    .entry(DeliveryKey {
                        thread_id: thread_id.to_string(),
                        author,
                        content,
                    })
                    .or_default()
                    .push_back(index);
            }
        }
        Ok(())
    }

    pub(super) fn item(&self, item_id: &str) -> Option<&ConversationItem> {
        item_ordinal(item_id).and_then(|ordinal| self.items.get(ordinal))
    }

    pub(super) fn item_mut(&mut self, item_id: &str) -> Option<&mut ConversationItem> {
        item_ordinal(item_id).and_then(|ordinal| self.items.get_mut(ordinal))
    }

    /// Ids of the items of a thread with this call id and one of `kinds`, in
    /// byte-wise id order (the order upstream's scan of its item map yields).
    pub(super) fn thread_items_with_call_id(
        &self,
        thread_id: &str,
        call_id: &str,
        kinds: &[ConversationItemKind],
    ) -> Vec<String> {
        let mut ids: Vec<String> = self
            .index
            .items_by_call
            .get(thread_id)
            .and_then(|by_call| by_call.get(call_id))
            .into_iter()
            .flatten()
            .filter_map(|&ordinal| self.items.get(ordinal))
            .filter(|item| kinds.contains(&item.kind))
            .map(|item| item.item_id.clone())
            .collect();
        ids.sort_unstable();
        ids
    }

    fn index_matches(&self, index: ItemIndex, item: &NormalizedItem) -> bool {
        self.items
            .get(index)
            .is_some_and(|existing| item_matches(existing, item))
    }

    /// The id of the item at `index`.
    pub(super) fn item_id(&self, index: ItemIndex) -> String {
        format!("{ITEM_ID_PREFIX}{}", index + 1)
    }

    /// The list of the items at `indexes`, for the graph, charged to the
    /// state budget.
    pub(super) fn item_list(&mut self, indexes: &[ItemIndex]) -> Result<ItemIdList, ReduceError> {
        let numbers: Vec<u32> = indexes.iter().map(|&index| item_number_of(index)).collect();
        self.budget
            .charge(id_list_bytes(numbers.iter().copied()), "an item id list")?;
        Ok(ItemIdList::from_numbers(numbers))
    }

    /// The positions of the items of `list`.
    pub(super) fn list_indexes(list: &ItemIdList) -> impl Iterator<Item = ItemIndex> + '_ {
        list.numbers().iter().map(|&number| number as usize - 1)
    }
}

/// Conversation items a reduction may create: their numbers are `u32`s.
const MAX_ITEMS: usize = u32::MAX as usize - 1;

/// The number in the id of the item at `index` (`conversation_item:<index + 1>`).
pub(super) fn item_number_of(index: ItemIndex) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// The ordinal behind `conversation_item:<n>`, as an index into `Reducer::items`.
pub(super) fn item_ordinal(item_id: &str) -> Option<usize> {
    let number: usize = item_id.strip_prefix(ITEM_ID_PREFIX)?.parse().ok()?;
    number.checked_sub(1)
}

/// Candidates of a baseline grouped by match key, built on the first miss.
///
/// Positions with the same key form a chain in baseline order (`next`); each
/// chain's head advances past entries found used, which stay used for the
/// rest of the reconciliation.
struct BaselineSearch<'b> {
    baseline: &'b [ItemIndex],
    chains: Option<BaselineChains>,
}

struct BaselineChains {
    /// Key -> first position of its chain not known to be used.
    heads: HashMap<u64, usize, BuildKeyHasher>,
    /// Position -> next position with the same key, or `usize::MAX`.
    next: Vec<usize>,
}

impl<'b> BaselineSearch<'b> {
    fn new(baseline: &'b [ItemIndex]) -> Self {
        BaselineSearch {
            baseline,
            chains: None,
        }
    }

    /// The first baseline entry, in baseline order, that is not in `used` and matches `item`.
    fn find(
        &mut self,
        reducer: &Reducer,
        item: &NormalizedItem,
        used: &ItemSet,
    ) -> Option<ItemIndex> {
        let baseline = self.baseline;
        let chains = self.chains.get_or_insert_with(|| {
            let mut heads =
                HashMap::with_capacity_and_hasher(baseline.len(), BuildKeyHasher::default());
            let mut next = vec![usize::MAX; baseline.len()];
            // Walk backwards so each new head links to the later positions.
            for (position, &candidate) in baseline.iter().enumerate().rev() {
                if let Some(&key) = reducer.match_keys.get(candidate)
                    && let Some(later) = heads.insert(key, position)
                {
                    next[position] = later;
                }
            }
            BaselineChains { heads, next }
        });
        let head = chains.heads.get_mut(&normalized_match_key(item))?;
        skip_used_heads(head, &chains.next, baseline, used);
        let mut position = *head;
        while position != usize::MAX {
            let candidate = baseline[position];
            if !used.contains(candidate) && reducer.index_matches(candidate, item) {
                return Some(candidate);
            }
            position = chains.next[position];
        }
        None
    }
}

/// Moves a chain's head past positions already used, so later searches do
/// not walk them again. Only a shortcut: the walk that follows skips used
/// positions itself.
fn skip_used_heads(head: &mut usize, next: &[usize], baseline: &[ItemIndex], used: &ItemSet) {
    while *head != usize::MAX && used.contains(baseline[*head]) {
        *head = next[*head];
    }
}

/// Hashes `u64` match keys, which are already hashes, by passing them through.
type BuildKeyHasher = std::hash::BuildHasherDefault<KeyHasher>;

#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    /// Never called for the `u64` keys this hasher is made for (they come
    /// through `write_u64`); folds bytes in for any other key.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// `reduction.md` §7.3: does the stored item match the sighting?
pub(super) fn item_matches(existing: &ConversationItem, item: &NormalizedItem) -> bool {
    identities_match(stored_identity(existing), item.identity())
}

/// The fields that decide whether two sightings are the same item.
#[derive(Clone, Copy)]
pub(super) struct Identity<'a> {
    role: ConversationRole,
    channel: Option<crate::model::ConversationChannel>,
    kind: ConversationItemKind,
    agent_message: Option<&'a crate::model::AgentMessageMetadata>,
    call_id: Option<&'a str>,
    body: &'a ConversationBody,
}

impl NormalizedItem {
    pub(super) fn identity(&self) -> Identity<'_> {
        Identity {
            role: self.role,
            channel: self.channel,
            kind: self.kind,
            agent_message: self.agent_message.as_ref(),
            call_id: self.call_id.as_deref(),
            body: &self.body,
        }
    }
}

fn stored_identity(item: &ConversationItem) -> Identity<'_> {
    Identity {
        role: item.role,
        channel: item.channel,
        kind: item.kind,
        agent_message: item.agent_message.as_ref(),
        call_id: item.call_id.as_deref(),
        body: &item.body,
    }
}

fn identities_match(left: Identity<'_>, right: Identity<'_>) -> bool {
    left.role == right.role
        && left.channel == right.channel
        && left.kind == right.kind
        && left.agent_message == right.agent_message
        && left.call_id == right.call_id
        // The kinds are equal here: both are reasoning or neither is.
        && if left.kind == ConversationItemKind::Reasoning {
            reasoning_bodies_match(left.body, right.body)
        } else {
            plain_bodies_match(left.body, right.body)
        }
}

/// Part by part; `json` parts compare by summary, every other part by every field.
fn plain_bodies_match(left: &ConversationBody, right: &ConversationBody) -> bool {
    left.parts.len() == right.parts.len()
        && left
            .parts
            .iter()
            .zip(&right.parts)
            .all(|(left, right)| match (left, right) {
                (
                    ConversationPart::Json { summary: left, .. },
                    ConversationPart::Json { summary: right, .. },
                ) => left == right,
                _ => left == right,
            })
}

/// Reasoning is identified by its encrypted blob when both sightings carry one.
fn reasoning_bodies_match(left: &ConversationBody, right: &ConversationBody) -> bool {
    plain_bodies_match(left, right)
        || matches!(
            (first_encoded(left), first_encoded(right)),
            (Some(left), Some(right)) if left == right
        )
}

fn first_encoded(body: &ConversationBody) -> Option<&ConversationPart> {
    body.parts
        .iter()
        .find(|part| matches!(part, ConversationPart::Encoded { .. }))
}

/// `reduction.md` §7.8: fill in readable text or summary from a later
/// sighting of the same encrypted reasoning, never replacing what is there.
fn merge_reasoning_body(
    existing: &mut ConversationBody,
    incoming: &ConversationBody,
) -> Result<(), ReduceError> {
    if plain_bodies_match(existing, incoming) {
        return Ok(());
    }
    if !reasoning_bodies_match(existing, incoming) {
        bail!("reasoning item merge attempted with different encrypted_content identity");
    }
    let is_text = |part: &&ConversationPart| matches!(part, ConversationPart::Text { .. });
    let is_summary = |part: &&ConversationPart| matches!(part, ConversationPart::Summary { .. });
    let is_encoded = |part: &&ConversationPart| matches!(part, ConversationPart::Encoded { .. });
    let has_text = existing.parts.iter().any(|part| is_text(&part));
    let has_summary = existing.parts.iter().any(|part| is_summary(&part));
    if has_text && has_summary {
        return Ok(());
    }
    let texts = if has_text {
        &existing.parts
    } else {
        &incoming.parts
    };
    let summaries = if has_summary {
        &existing.parts
    } else {
        &incoming.parts
    };
    let merged = texts
        .iter()
        .filter(is_text)
        .chain(summaries.iter().filter(is_summary))
        .chain(existing.parts.iter().filter(is_encoded))
        .cloned()
        .collect();
    existing.parts = merged;
    Ok(())
}

fn normalized_match_key(item: &NormalizedItem) -> u64 {
    match_key(
        item.role,
        item.channel,
        item.kind,
        item.agent_message.as_ref(),
        item.call_id.as_deref(),
        &item.body,
    )
}

/// A hash that is equal for two items exactly when `item_matches` holds
/// (up to hash collisions, which callers rule out by verifying). It is
/// computed once per item: a sighting never changes it, because the only
/// body change, a reasoning merge, keeps the encrypted blob that keys it.
fn match_key(
    role: ConversationRole,
    channel: Option<crate::model::ConversationChannel>,
    kind: ConversationItemKind,
    agent_message: Option<&crate::model::AgentMessageMetadata>,
    call_id: Option<&str>,
    body: &ConversationBody,
) -> u64 {
    let mut hasher = DefaultHasher::new();
    (role, channel, kind, agent_message, call_id).hash(&mut hasher);
    match (kind, first_encoded(body)) {
        (ConversationItemKind::Reasoning, Some(encoded)) => {
            0u8.hash(&mut hasher);
            encoded.hash(&mut hasher);
        }
        _ => {
            1u8.hash(&mut hasher);
            body.parts.len().hash(&mut hasher);
            for part in &body.parts {
                match part {
                    ConversationPart::Json { summary, .. } => {
                        0u8.hash(&mut hasher);
                        summary.hash(&mut hasher);
                    }
                    other => {
                        1u8.hash(&mut hasher);
                        other.hash(&mut hasher);
                    }
                }
            }
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    fn reasoning(text: &str, encoded: Option<&str>) -> NormalizedItem {
        let mut parts = vec![ConversationPart::Text {
            text: text.to_string(),
        }];
        if let Some(value) = encoded {
            parts.push(ConversationPart::Encoded {
                label: "encrypted_content".to_string(),
                value: value.to_string(),
            });
        }
        NormalizedItem {
            role: ConversationRole::Assistant,
            channel: Some(crate::model::ConversationChannel::Analysis),
            kind: ConversationItemKind::Reasoning,
            agent_message: None,
            body: ConversationBody { parts },
            call_id: None,
        }
    }

    fn message(role: ConversationRole, text: &str) -> NormalizedItem {
        NormalizedItem {
            role,
            channel: None,
            kind: ConversationItemKind::Message,
            body: ConversationBody {
                parts: vec![ConversationPart::Text {
                    text: text.to_string(),
                }],
            },
            ..reasoning("", None)
        }
    }

    #[test]
    fn match_keys_are_equal_for_matching_items_and_differ_otherwise() {
        let key = normalized_match_key;
        // Reasoning matches by its first encoded part alone.
        assert_eq!(
            key(&reasoning("first", Some("blob"))),
            key(&reasoning("second", Some("blob")))
        );
        assert_ne!(
            key(&reasoning("same", Some("blob"))),
            key(&reasoning("same", Some("other blob")))
        );
        assert_ne!(
            key(&reasoning("first", None)),
            key(&reasoning("second", None))
        );
        let user = message(ConversationRole::User, "hello");
        assert_eq!(key(&user), key(&user.clone()));
        assert_ne!(key(&user), key(&message(ConversationRole::User, "hello!")));
        assert_ne!(
            key(&user),
            key(&message(ConversationRole::Developer, "hello"))
        );
    }

    #[test]
    fn keyed_maps_use_the_match_key_itself() {
        let build = BuildKeyHasher::default();
        for key in [0u64, 7, u64::MAX] {
            assert_eq!(build.hash_one(key), key);
        }
    }
}
