//! The items of an inference request, decoding only what changed.
//!
//! A full request resends the thread's history, so most of its items are
//! byte for byte the items at the same positions of the thread's previous
//! request. Such an item needs no decoding: it normalizes as it did then,
//! and where the baseline still holds the item it became, reconciliation
//! chooses that item again (`Sighted::Unchanged`).
//!
//! Invariants (each keeps the result identical to decoding everything):
//! - An item is skipped only if its bytes equal the item at the same
//!   position of the same thread's last full request, when that request was
//!   scanned (incremental requests in between leave it in place: they send
//!   only new items, and what an item became stays that conversation item);
//!   those bytes decoded and normalized without error before, to the same
//!   kind of item (or to no item, for `additional_tools`), so they would again.
//! - Every other item is decoded before any is normalized, and any decode
//!   failure falls back to decoding the whole document, so parse errors keep
//!   their text and position and come before normalization errors, as when
//!   the whole document is decoded first.
//! - `Unchanged` is used only where the baseline entry at the item's
//!   position is the item the previous request's item became, and that item
//!   has no `payload_ref` part (those compare their payload id, which differs).

use std::ops::Range;

use serde_json::Value;

use super::Reducer;
use super::conversation::ItemIndex;
use super::conversation::Sighted;
use super::normalize::NormalizedItem;
use super::normalize::normalize_item;
use super::normalize::normalize_items;
use crate::bundle::PayloadSource;
use crate::bundle::ScannedInput;
use crate::bundle::ScannedRequest;
use crate::error::ReduceError;
use crate::error::bail;
use crate::model::ConversationPart;
use crate::model::RawPayloadRef;

/// A thread's last full request that was scanned, and what its items became.
#[derive(Debug, Clone)]
pub(super) struct LastRequest {
    scan: ScannedRequest,
    /// Per item of `input`: the conversation item it became (`None` for an
    /// item that is not a conversation item).
    became: Vec<Option<ItemIndex>>,
}

/// The items of a request, ready for reconciliation.
pub(super) struct RequestItems {
    items: Vec<RequestItem>,
    /// The scanned document, kept to become the thread's last request.
    scan: Option<ScannedRequest>,
}

enum RequestItem {
    /// Not a conversation item (`additional_tools`).
    Skipped,
    Normalized(NormalizedItem),
    /// Same bytes as the previous request's item at this position, which
    /// became this conversation item.
    Unchanged(ItemIndex),
}

/// What to remember of a full request once its items are reconciled.
pub(super) struct RequestMemo {
    scan: Option<ScannedRequest>,
    /// Per item of `input`: its position among the reconciled items.
    positions: Vec<Option<usize>>,
}

impl RequestItems {
    /// Items that were decoded as a whole document.
    pub(super) fn normalized(items: Vec<NormalizedItem>) -> Self {
        RequestItems {
            items: items.into_iter().map(RequestItem::Normalized).collect(),
            scan: None,
        }
    }
}

impl Reducer {
    /// The items of a scanned request of `thread_id`: items that changed since
    /// the thread's previous request are decoded and normalized now.
    pub(super) fn scanned_request_items(
        &mut self,
        thread_id: &str,
        payload: &RawPayloadRef,
        scan: ScannedRequest,
    ) -> Result<RequestItems, ReduceError> {
        let id = &payload.raw_payload_id;
        let ranges = match scan.input() {
            ScannedInput::Missing => bail!("inference request payload {id} did not contain input"),
            ScannedInput::Items(ranges) => ranges.clone(),
        };
        // An incremental request's items are new: none is at the position
        // it had in the last full request.
        let incremental = scan.previous_response_id().is_some();
        let previous: Vec<Option<Option<ItemIndex>>> = match self.last_requests.get(thread_id) {
            Some(last) if !incremental => ranges
                .iter()
                .enumerate()
                .map(|(position, range)| last.same_item(position, scan.item_bytes(range)))
                .collect(),
            _ => vec![None; ranges.len()],
        };
        let changed: Vec<&Range<usize>> = ranges
            .iter()
            .zip(&previous)
            .filter_map(|(range, previous)| previous.is_none().then_some(range))
            .collect();
        let Some(decoded) = changed
            .iter()
            .map(|range| scan.decode_item(range))
            .collect::<Option<Vec<Value>>>()
        else {
            // Only the whole document can say why an item does not decode
            // (its depth was checked against the limits before the scan).
            let mut value = crate::bundle::decode_payload(payload, scan.bytes())?;
            return request_items_of(&mut value, payload).map(RequestItems::normalized);
        };
        self.shortcuts.request_items_not_decoded += (ranges.len() - changed.len()) as u64;
        let mut decoded = decoded.into_iter();
        let mut items = Vec::with_capacity(ranges.len());
        for previous in previous {
            items.push(match previous {
                Some(Some(became)) => RequestItem::Unchanged(became),
                Some(None) => RequestItem::Skipped,
                None => match decoded.next() {
                    Some(value) => match normalize_item(value, id)? {
                        Some(item) => RequestItem::Normalized(item),
                        None => RequestItem::Skipped,
                    },
                    None => RequestItem::Skipped,
                },
            });
        }
        Ok(RequestItems {
            items,
            scan: Some(scan),
        })
    }

    /// Every item normalized, for reductions that do not reuse positions.
    pub(super) fn all_normalized(
        &mut self,
        request: RequestItems,
        payload: &RawPayloadRef,
        payloads: &mut dyn PayloadSource,
    ) -> Result<Vec<Sighted>, ReduceError> {
        let mut sighted = Vec::with_capacity(request.items.len());
        for (position, item) in request.items.into_iter().enumerate() {
            match item {
                RequestItem::Skipped => {}
                RequestItem::Normalized(item) => sighted.push(Sighted::Item(item)),
                RequestItem::Unchanged(_) => {
                    sighted.push(Sighted::Item(renormalize(
                        &request.scan,
                        position,
                        payload,
                    )?));
                }
            }
        }
        if let Some(scan) = request.scan {
            payloads.recycle(scan.into_bytes());
        }
        Ok(sighted)
    }

    /// The sightings of a full request reconciled from position 0 against
    /// `baseline`, and what to remember of it once it is reduced.
    pub(super) fn full_request_sightings(
        &mut self,
        request: RequestItems,
        baseline: &[ItemIndex],
        payload: &RawPayloadRef,
    ) -> Result<(Vec<Sighted>, RequestMemo), ReduceError> {
        let mut sighted = Vec::with_capacity(request.items.len());
        let mut positions = Vec::with_capacity(request.items.len());
        for (raw_position, item) in request.items.into_iter().enumerate() {
            let position = sighted.len();
            let next = match item {
                RequestItem::Skipped => {
                    positions.push(None);
                    continue;
                }
                RequestItem::Normalized(item) => Sighted::Item(item),
                RequestItem::Unchanged(became)
                    if baseline.get(position) == Some(&became) && !self.has_payload_ref(became) =>
                {
                    self.shortcuts.request_items_unchanged += 1;
                    Sighted::Unchanged(became)
                }
                RequestItem::Unchanged(_) => {
                    Sighted::Item(renormalize(&request.scan, raw_position, payload)?)
                }
            };
            positions.push(Some(position));
            sighted.push(next);
        }
        Ok((
            sighted,
            RequestMemo {
                scan: request.scan,
                positions,
            },
        ))
    }

    /// Remembers a full request for the next full one of its thread
    /// (`reconciled` is what its items became), or forgets the thread's last
    /// request when this one cannot serve (it was decoded whole).
    pub(super) fn remember_request(
        &mut self,
        thread_id: &str,
        memo: RequestMemo,
        reconciled: &[ItemIndex],
        payloads: &mut dyn PayloadSource,
    ) {
        let RequestMemo {
            scan: Some(scan),
            positions,
        } = memo
        else {
            if let Some(last) = self.last_requests.remove(thread_id) {
                payloads.recycle(last.scan.into_bytes());
            }
            return;
        };
        let became = positions
            .iter()
            .map(|position| position.and_then(|position| reconciled.get(position).copied()))
            .collect();
        let replaced = self
            .last_requests
            .insert(thread_id.to_string(), LastRequest { scan, became });
        if let Some(replaced) = replaced {
            payloads.recycle(replaced.scan.into_bytes());
        }
    }

    fn has_payload_ref(&self, index: ItemIndex) -> bool {
        self.items.get(index).is_none_or(|item| {
            item.body
                .parts
                .iter()
                .any(|part| matches!(part, ConversationPart::PayloadRef { .. }))
        })
    }
}

impl LastRequest {
    /// What the item at `position` became, if its bytes are `bytes`.
    fn same_item(&self, position: usize, bytes: &[u8]) -> Option<Option<ItemIndex>> {
        let ScannedInput::Items(ranges) = self.scan.input() else {
            return None;
        };
        let range = ranges.get(position)?;
        let became = *self.became.get(position)?;
        (self.scan.item_bytes(range) == bytes).then_some(became)
    }
}

/// Decodes and normalizes one item again (its bytes decoded before).
fn renormalize(
    scan: &Option<ScannedRequest>,
    position: usize,
    payload: &RawPayloadRef,
) -> Result<NormalizedItem, ReduceError> {
    let item = scan.as_ref().and_then(|scan| match scan.input() {
        ScannedInput::Items(ranges) => ranges
            .get(position)
            .and_then(|range| scan.decode_item(range)),
        _ => None,
    });
    let again = match item {
        Some(item) => normalize_item(item, &payload.raw_payload_id)?,
        None => None,
    };
    match again {
        Some(item) => Ok(item),
        None => bail!(
            "inference request payload {} did not decode again as it did before",
            payload.raw_payload_id
        ),
    }
}

/// `input` of a request-shaped document, normalized.
pub(super) fn request_items_of(
    payload: &mut Value,
    reference: &RawPayloadRef,
) -> Result<Vec<NormalizedItem>, ReduceError> {
    let id = &reference.raw_payload_id;
    let Some(input) = payload.get_mut("input") else {
        bail!("inference request payload {id} did not contain input");
    };
    let Value::Array(input) = input.take() else {
        bail!("inference request payload {id} had non-array input");
    };
    normalize_items(input, id)
}
