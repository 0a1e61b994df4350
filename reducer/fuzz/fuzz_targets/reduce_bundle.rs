//! Fuzz target: a bundle built from the fuzzer's bytes must reduce or be
//! rejected with an error — never panic, hang or differ between two runs,
//! with the default limits and with small ones (so that amplification, a
//! bundle that names payloads again and again, meets the state and re-read
//! budgets within a fuzz input's size).
//!
//! Input layout: parts separated by the byte 0xFF (never valid in UTF-8 JSON).
//! Part 0 is `trace.jsonl`; part n (n >= 1) is `payloads/<n>.json`. The
//! manifest is fixed so the fuzzer spends its time on events and payloads.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rollout_trace::Limits;
use rollout_trace::ReduceOptions;
use rollout_trace::bundle::MemoryBundle;

const MANIFEST: &str = r#"{"schema_version":1,"trace_id":"trace-1","rollout_id":"rollout-1","root_thread_id":"thread-root","started_at_unix_ms":1000,"raw_event_log":"trace.jsonl","payloads_dir":"payloads"}"#;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&byte| byte == 0xFF);
    let trace = parts.next().unwrap_or_default().to_vec();
    let files: BTreeMap<String, Vec<u8>> = parts
        .enumerate()
        .map(|(index, bytes)| (format!("payloads/{}.json", index + 1), bytes.to_vec()))
        .collect();
    let bundle = MemoryBundle {
        manifest: Some(MANIFEST.as_bytes().to_vec()),
        trace: Some(trace),
        files: Arc::new(files),
    };
    let small = Limits {
        max_state_bytes: 64 << 10,
        max_reread_bytes: 16 << 10,
        ..Limits::default()
    };
    for (partial, limits) in [
        (false, Limits::default()),
        (true, Limits::default()),
        (false, small),
    ] {
        let options = ReduceOptions {
            partial,
            limits,
            ..ReduceOptions::default()
        };
        let first = rollout_trace::reduce_source(&bundle, &options);
        let second = rollout_trace::reduce_source(&bundle, &options);
        match (&first, &second) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    rollout_trace::state_json(&a.trace),
                    rollout_trace::state_json(&b.trace)
                );
                assert_eq!(a.diagnostics, b.diagnostics);
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("reduction is not deterministic"),
        }
    }
});
