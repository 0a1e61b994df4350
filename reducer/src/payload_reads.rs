//! The re-read budget (`Limits::max_reread_bytes`): a bound on how much a
//! bundle can make the reducer read by naming the same payload files again
//! and again.
//!
//! Upstream reads a payload each time a rule needs it, and a producer writes
//! one payload per event, so a real session reads each file about once (a
//! sub-agent's invocation is read again per activity). A 4 MB bundle whose
//! 20,000 events name one 3 MB payload makes 60 GB of reading and parsing.
//!
//! Invariants:
//! - Counted where the reducer asks for a document (the source the replay
//!   loop hands to `Reducer::apply`), so the count and the error are the
//!   same with read-ahead and request scanning on or off.
//! - The first read of each file is free; every further read of a path
//!   counts its size. Crossing the limit is an error at that read.

use std::collections::HashSet;

use crate::error::ReduceError;
use crate::model::RawPayloadRef;

/// Re-read bytes so far against the limit.
#[derive(Debug, Clone)]
pub(crate) struct RereadBudget {
    limit: u64,
    reread_bytes: u64,
    /// Paths read so far.
    read: HashSet<String>,
}

impl RereadBudget {
    pub(crate) fn new(limit: u64) -> RereadBudget {
        RereadBudget {
            limit,
            reread_bytes: 0,
            read: HashSet::new(),
        }
    }

    /// Counts a read of `size` bytes of the file `payload` names.
    pub(crate) fn count(&mut self, payload: &RawPayloadRef, size: u64) -> Result<(), ReduceError> {
        if self.read.insert(payload.path.clone()) {
            return Ok(());
        }
        self.reread_bytes = self.reread_bytes.saturating_add(size);
        if self.reread_bytes <= self.limit {
            return Ok(());
        }
        Err(ReduceError::caused(
            format!("open payload {}", payload.raw_payload_id),
            format!(
                "payload files were read again for {} bytes in all, over the limit of {} bytes: the bundle names the same payload files again and again (raise the limit with --max-reread-bytes)",
                self.reread_bytes, self.limit
            ),
        )
        .at_payload(&payload.path))
    }
}
