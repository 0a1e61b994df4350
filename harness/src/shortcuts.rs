//! The reducer's shortcuts, checked against facts read from the bundle.
//!
//! Read-ahead and request scanning change no output, so comparing bytes
//! both ways cannot tell a working shortcut from one that is never taken
//! (the reduction would only be slower). The reducer counts what it took
//! ([`Shortcuts`]); this module states, from the bundle alone, what it must
//! have taken, and compares:
//!
//! - the events counted are the trace's event lines;
//! - both code paths ask for the same payload documents;
//! - without read-ahead nothing is read ahead; with it, at least every
//!   request payload (each `inference_started` opens its request) and every
//!   response payload of an `inference_completed` (always read) is;
//! - without scanning no request item is skipped; with it, exactly the items
//!   whose bytes equal the item at the same position of the same thread's
//!   last full request (one without `previous_response_id`; a thread that
//!   ended keeps none) are not decoded, and at most those are handed to
//!   reconciliation unchanged.
//!
//! The facts are computed only for bundles that reduce without options that
//! change which requests are scanned (a depth limit can make the reducer
//! decode a request whole).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use rollout_trace::ReduceOptions;
use rollout_trace::Shortcuts;
use rollout_trace::raw::RawTraceEvent;
use rollout_trace::raw::RawTraceEventPayload;
use serde::Deserialize;
use serde_json::value::RawValue;

/// What a bundle says the reducer's shortcuts must do on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleFacts {
    /// Lines of `trace.jsonl` that are not blank.
    pub event_lines: u64,
    /// `inference_started` events.
    pub requests: u64,
    /// `inference_completed` events (each names its response payload).
    pub responses: u64,
    /// Request items a scanner skips (see the module doc).
    pub items_not_decoded: u64,
}

/// What one reduction reported about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub events: u64,
    pub shortcuts: Shortcuts,
}

/// The facts of the bundle in `dir`, when its log and request payloads read
/// as a reducible bundle's do (`None` otherwise: nothing is checked).
pub fn bundle_facts(dir: &Path) -> Option<BundleFacts> {
    let trace = fs::read_to_string(dir.join("trace.jsonl")).ok()?;
    let mut facts = BundleFacts {
        event_lines: 0,
        requests: 0,
        responses: 0,
        items_not_decoded: 0,
    };
    // Per thread: the items of its last full request, as written.
    let mut last_full: HashMap<String, Vec<String>> = HashMap::new();
    for line in trace.lines() {
        if line.trim().is_empty() {
            continue;
        }
        facts.event_lines += 1;
        let event: RawTraceEvent = serde_json::from_str(line).ok()?;
        match event.payload {
            RawTraceEventPayload::InferenceCompleted { .. } => facts.responses += 1,
            RawTraceEventPayload::ThreadEnded { thread_id, .. } => {
                last_full.remove(&thread_id);
            }
            RawTraceEventPayload::InferenceStarted {
                thread_id,
                request_payload,
                ..
            } => {
                facts.requests += 1;
                let text = fs::read_to_string(dir.join(&request_payload.path)).ok()?;
                let request: Request<'_> = serde_json::from_str(&text).ok()?;
                if request.previous_response_id.is_some() {
                    continue;
                }
                let items: Vec<String> = request
                    .input
                    .iter()
                    .map(|item| item.get().to_owned())
                    .collect();
                if let Some(last) = last_full.get(&thread_id) {
                    let same = items.iter().zip(last).filter(|(a, b)| a == b).count();
                    facts.items_not_decoded += same as u64;
                }
                last_full.insert(thread_id, items);
            }
            _ => {}
        }
    }
    Some(facts)
}

/// The members of a request payload the scanner's rule reads.
#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    input: Vec<&'a RawValue>,
    /// A string makes the request incremental (`null` does not).
    #[serde(default)]
    previous_response_id: Option<String>,
}

/// Everything the two reductions of a bundle with `facts` got wrong about
/// their shortcuts (empty when all holds).
pub fn faults(facts: &BundleFacts, runs: [(&ReduceOptions, &Taken); 2]) -> Vec<String> {
    let mut faults = Vec::new();
    for (options, taken) in runs {
        let path = describe(options);
        let counted = taken.shortcuts;
        if taken.events != facts.event_lines {
            faults.push(format!(
                "{path}: the reducer counted {} events; trace.jsonl has {} event lines",
                taken.events, facts.event_lines
            ));
        }
        if !options.read_ahead && counted.payloads_read_ahead != 0 {
            faults.push(format!(
                "{path}: {} payloads were read ahead with read-ahead off",
                counted.payloads_read_ahead
            ));
        }
        let always_read = facts.requests + facts.responses;
        if options.read_ahead && counted.payloads_read_ahead < always_read {
            faults.push(format!(
                "{path}: {} payloads were read ahead, fewer than the {} request and response payloads the events name",
                counted.payloads_read_ahead, always_read
            ));
        }
        if !options.scan_requests
            && (counted.request_items_not_decoded != 0 || counted.request_items_unchanged != 0)
        {
            faults.push(format!(
                "{path}: {} request items were not decoded and {} passed unchanged with scanning off",
                counted.request_items_not_decoded, counted.request_items_unchanged
            ));
        }
        if options.scan_requests && counted.request_items_not_decoded != facts.items_not_decoded {
            faults.push(format!(
                "{path}: {} request items were not decoded; {} repeat the bytes at their position of their thread's last full request",
                counted.request_items_not_decoded, facts.items_not_decoded
            ));
        }
        if counted.request_items_unchanged > counted.request_items_not_decoded {
            faults.push(format!(
                "{path}: {} request items passed unchanged, more than the {} not decoded",
                counted.request_items_unchanged, counted.request_items_not_decoded
            ));
        }
    }
    let asks = runs.map(|(_, taken)| {
        taken.shortcuts.payloads_read_ahead + taken.shortcuts.payloads_read_on_demand
    });
    if asks[0] != asks[1] {
        faults.push(format!(
            "the reducer asked for {} payload documents {} and {} {}",
            asks[0],
            describe(runs[0].0),
            asks[1],
            describe(runs[1].0)
        ));
    }
    faults
}

fn describe(options: &ReduceOptions) -> String {
    let on_off = |on: bool| if on { "on" } else { "off" };
    format!(
        "with read-ahead {} and request scanning {}",
        on_off(options.read_ahead),
        on_off(options.scan_requests)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(events: u64, shortcuts: Shortcuts) -> Taken {
        Taken { events, shortcuts }
    }

    const FACTS: BundleFacts = BundleFacts {
        event_lines: 9,
        requests: 2,
        responses: 1,
        items_not_decoded: 3,
    };

    #[test]
    fn honest_counts_pass() {
        let on = ReduceOptions::default();
        let off = ReduceOptions {
            read_ahead: false,
            scan_requests: false,
            ..on
        };
        let fast = Shortcuts {
            payloads_read_ahead: 4,
            payloads_read_on_demand: 1,
            request_items_not_decoded: 3,
            request_items_unchanged: 2,
        };
        let slow = Shortcuts {
            payloads_read_on_demand: 5,
            ..Shortcuts::default()
        };
        let faults = faults(&FACTS, [(&on, &taken(9, fast)), (&off, &taken(9, slow))]);
        assert_eq!(faults, Vec::<String>::new());
    }

    #[test]
    fn a_shortcut_never_taken_or_taken_wrongly_is_named() {
        let on = ReduceOptions::default();
        let off = ReduceOptions {
            read_ahead: false,
            scan_requests: false,
            ..on
        };
        let never = Shortcuts {
            payloads_read_on_demand: 5,
            ..Shortcuts::default()
        };
        let wrong = Shortcuts {
            payloads_read_ahead: 1,
            payloads_read_on_demand: 5,
            request_items_not_decoded: 1,
            request_items_unchanged: 2,
        };
        let faults = faults(&FACTS, [(&on, &taken(8, never)), (&off, &taken(9, wrong))]);
        assert_eq!(
            faults,
            [
                "with read-ahead on and request scanning on: the reducer counted 8 events; trace.jsonl has 9 event lines",
                "with read-ahead on and request scanning on: 0 payloads were read ahead, fewer than the 3 request and response payloads the events name",
                "with read-ahead on and request scanning on: 0 request items were not decoded; 3 repeat the bytes at their position of their thread's last full request",
                "with read-ahead off and request scanning off: 1 payloads were read ahead with read-ahead off",
                "with read-ahead off and request scanning off: 1 request items were not decoded and 2 passed unchanged with scanning off",
                "with read-ahead off and request scanning off: 2 request items passed unchanged, more than the 1 not decoded",
                "the reducer asked for 5 payload documents with read-ahead on and request scanning on and 6 with read-ahead off and request scanning off",
            ]
        );
    }
}
