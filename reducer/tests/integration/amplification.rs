//! A small bundle cannot make the reducer build or read without bound: the
//! state budget and the re-read budget stop it with a clear error, and
//! requests that name the same payload share one id list in memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use rollout_trace::Limits;
use rollout_trace::ReduceOptions;
use rollout_trace::bundle::MemoryBundle;

const MANIFEST: &str = r#"{"schema_version":1,"trace_id":"t","rollout_id":"r","root_thread_id":"thread-root","started_at_unix_ms":1000,"raw_event_log":"trace.jsonl","payloads_dir":"payloads"}"#;

/// `requests` inference calls of one turn, all naming one payload of `items` messages.
fn amplifying_bundle(requests: usize, items: usize) -> MemoryBundle {
    let mut trace = String::new();
    let mut seq = 0;
    let mut event = |payload: String| {
        seq += 1;
        trace.push_str(&format!(
            r#"{{"schema_version":1,"seq":{seq},"wall_time_unix_ms":{},"rollout_id":"r","thread_id":null,"codex_turn_id":null,"payload":{payload}}}"#,
            1000 + seq
        ));
        trace.push('\n');
    };
    event(r#"{"type":"thread_started","thread_id":"thread-root","agent_path":"/root","metadata_payload":null}"#.to_string());
    event(
        r#"{"type":"codex_turn_started","codex_turn_id":"turn-1","thread_id":"thread-root"}"#
            .to_string(),
    );
    for call in 0..requests {
        event(format!(
            r#"{{"type":"inference_started","inference_call_id":"inference-{call}","thread_id":"thread-root","codex_turn_id":"turn-1","model":"m","provider_name":"p","request_payload":{{"raw_payload_id":"raw_payload:1","kind":{{"type":"inference_request"}},"path":"payloads/1.json"}}}}"#
        ));
    }
    let input: Vec<String> = (0..items)
        .map(|item| {
            format!(r#"{{"type":"message","role":"user","content":[{{"type":"input_text","text":"m{item}"}}]}}"#)
        })
        .collect();
    let payload = format!(r#"{{"input":[{}]}}"#, input.join(","));
    MemoryBundle {
        manifest: Some(MANIFEST.as_bytes().to_vec()),
        trace: Some(trace.into_bytes()),
        files: Arc::new(BTreeMap::from([(
            "payloads/1.json".to_string(),
            payload.into_bytes(),
        )])),
    }
}

fn options(limits: Limits, read_ahead: bool) -> ReduceOptions {
    ReduceOptions {
        limits,
        read_ahead,
        scan_requests: read_ahead,
        ..ReduceOptions::default()
    }
}

#[test]
fn the_state_budget_stops_an_amplifying_bundle_at_the_crossing_event() {
    let bundle = amplifying_bundle(400, 500);
    let limits = Limits {
        max_state_bytes: 1 << 20,
        ..Limits::default()
    };
    for read_ahead in [true, false] {
        let error = match rollout_trace::reduce_source(&bundle, &options(limits, read_ahead)) {
            Ok(reduction) => panic!("reduced {} bytes", reduction.state_bytes),
            Err(error) => error.to_string(),
        };
        // 500 items (about 250 KB), then a 500-entry list (about 16 KB) per
        // request: the budget of 1 MiB is crossed around the 48th request.
        assert!(error.contains("inference_started"), "{error}");
        assert!(error.contains("--max-state-bytes"), "{error}");
        let line: u64 = error
            .strip_prefix("trace.jsonl:")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|line| line.parse().ok())
            .unwrap_or_else(|| panic!("no line in {error}"));
        assert!((30..80).contains(&line), "stopped at line {line}: {error}");
    }
}

#[test]
fn with_the_limits_raised_equal_lists_share_memory() -> Result<(), rollout_trace::ReduceError> {
    let bundle = amplifying_bundle(400, 500);
    let reduction = rollout_trace::reduce_source(&bundle, &ReduceOptions::default())?;
    let calls: Vec<_> = reduction.trace.inference_calls.values().collect();
    assert_eq!(calls.len(), 400);
    assert!(calls.windows(2).all(|pair| {
        pair[0]
            .request_item_ids
            .shares_storage_with(&pair[1].request_item_ids)
    }));
    assert_eq!(calls[399].request_item_ids.len(), 500);
    // The count stands for the file that upstream would write.
    let written = rollout_trace::state_json(&reduction.trace).len() as f64;
    let ratio = reduction.state_bytes as f64 / written;
    assert!((0.8..1.25).contains(&ratio), "counted/written {ratio}");
    Ok(())
}

#[test]
fn the_reread_budget_stops_a_bundle_that_names_one_file_again_and_again() {
    let bundle = amplifying_bundle(50, 500);
    let limits = Limits {
        max_reread_bytes: 100_000,
        ..Limits::default()
    };
    let errors: Vec<String> = [true, false]
        .iter()
        .map(|&read_ahead| {
            match rollout_trace::reduce_source(&bundle, &options(limits, read_ahead)) {
                Ok(_) => panic!("the re-read budget did not stop it"),
                Err(error) => error.to_string(),
            }
        })
        .collect();
    // The same error on either code path: the count is the reducer's asks.
    assert_eq!(errors[0], errors[1]);
    assert!(
        errors[0].contains("payload payloads/1.json"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("--max-reread-bytes"), "{}", errors[0]);
}
