//! How often the reducer's pure shortcuts were taken.
//!
//! Read-ahead and request scanning never change `state.json` (the corpus is
//! reduced both ways and compared), so a shortcut that silently stopped
//! working would only make reduction slower. These counts let tests see
//! that each shortcut is taken where it should be: the corpus harness checks
//! them on every case against facts it computes from the bundle itself.

/// Counts of the shortcuts one reduction took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shortcuts {
    /// Payload documents the reducer was handed from read-ahead.
    pub payloads_read_ahead: u64,
    /// Payload documents read from the bundle when the reducer asked, not
    /// ahead (always, without read-ahead).
    pub payloads_read_on_demand: u64,
    /// Request items that were not decoded: their bytes equal the item at
    /// the same position of the thread's last full request.
    pub request_items_not_decoded: u64,
    /// Of those, the items handed to reconciliation as the conversation item
    /// they became before, without being normalized or matched again.
    pub request_items_unchanged: u64,
}
