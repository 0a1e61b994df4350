//! Generated bundles reduce, and reduce to what the generator says it wrote.
//!
//! Each test generates small bundles (a dozen turns) under Cargo's
//! per-target temporary folder and reduces them with the library. The
//! expected counts are computed twice, independently: by the generator
//! while it writes (`GenSummary`) and by the formulas of `expected` from
//! the options alone; the reduced state must agree with both.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::path::PathBuf;

use rollout_trace::model::CodeCellRuntimeStatus;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RolloutTrace;
use rollout_trace::model::TraceAnchor;
use tracegen::GenOptions;
use tracegen::GenSummary;

/// A fresh folder for one bundle; `name` must be unique across tests.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("tracegen")
        .join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .unwrap_or_else(|error| panic!("remove {}: {error}", dir.display()));
    }
    dir
}

/// The folder of an already generated bundle.
fn out_dir_kept(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("tracegen")
        .join(name)
}

/// The counts a bundle with `options` must reduce to, from the options alone.
fn expected(options: &GenOptions) -> GenSummary {
    let turns = options.turns;
    let multiples = |every: Option<u64>| every.map_or(0, |k| turns / k);
    let cells = multiples(options.code_mode_every);
    // Every second cell yields and needs a `wait` call and a third request.
    let waits = cells / 2;
    let spawns = multiples(options.spawn_every);
    let compactions = options
        .compact_every
        .map_or(0, |k| turns.saturating_sub(1) / k);
    GenSummary {
        threads: 1 + spawns,
        turns: turns + spawns,
        inference_calls: 2 * turns + waits + spawns,
        // A plain turn runs one command; a cell turn runs two from its cell.
        tool_calls: (turns - cells) + 2 * cells + waits + spawns,
        terminal_operations: (turns - cells) + 2 * cells,
        code_cells: cells,
        interaction_edges: 2 * spawns,
        compactions,
        compaction_requests: compactions,
        ..GenSummary::default()
    }
}

/// The counts of a reduced state, in `GenSummary` form (file facts zero).
fn reduced_counts(trace: &RolloutTrace) -> GenSummary {
    let count = |n: usize| n as u64;
    GenSummary {
        threads: count(trace.threads.len()),
        turns: count(trace.codex_turns.len()),
        inference_calls: count(trace.inference_calls.len()),
        tool_calls: count(trace.tool_calls.len()),
        terminal_operations: count(trace.terminal_operations.len()),
        code_cells: count(trace.code_cells.len()),
        interaction_edges: count(trace.interaction_edges.len()),
        compactions: count(trace.compactions.len()),
        compaction_requests: count(trace.compaction_requests.len()),
        ..GenSummary::default()
    }
}

fn without_file_facts(summary: &GenSummary) -> GenSummary {
    GenSummary {
        events: 0,
        payload_files: 0,
        bundle_bytes: 0,
        ..summary.clone()
    }
}

/// Generates, reduces and checks one bundle; returns the reduced state.
fn generate_and_check(name: &str, options: &GenOptions) -> RolloutTrace {
    let dir = out_dir(name);
    let summary = tracegen::generate(&dir, options)
        .unwrap_or_else(|error| panic!("generate {name}: {error}"));
    let reduction =
        rollout_trace::reduce_bundle(&dir).unwrap_or_else(|error| panic!("reduce {name}: {error}"));
    assert!(
        reduction.diagnostics.is_empty(),
        "{name}: diagnostics {:?}",
        reduction.diagnostics
    );
    let trace = reduction.trace;
    assert_eq!(
        without_file_facts(&summary),
        expected(options),
        "{name}: generator summary"
    );
    assert_eq!(
        reduced_counts(&trace),
        expected(options),
        "{name}: reduced state"
    );
    assert_eq!(
        trace.raw_payloads.len() as u64,
        summary.payload_files,
        "{name}: payloads"
    );
    let lines = fs::read_to_string(dir.join("trace.jsonl"))
        .unwrap_or_else(|error| panic!("read {name}/trace.jsonl: {error}"))
        .lines()
        .count() as u64;
    assert_eq!(lines, summary.events, "{name}: events");
    assert_eq!(bundle_bytes(&dir), summary.bundle_bytes, "{name}: bytes");
    check_shapes(name, &trace);
    trace
}

/// Everything ran to completion, every edge found its delivery, every
/// request after a compaction starts from the replacement history.
fn check_shapes(name: &str, trace: &RolloutTrace) {
    let ended = |status: ExecutionStatus| status == ExecutionStatus::Completed;
    assert!(
        trace.threads.values().all(|t| ended(t.execution.status)),
        "{name}: threads"
    );
    assert!(
        trace
            .codex_turns
            .values()
            .all(|t| ended(t.execution.status)),
        "{name}: turns"
    );
    assert!(
        trace
            .inference_calls
            .values()
            .all(|c| ended(c.execution.status) && c.usage.is_some()),
        "{name}: inference calls"
    );
    for cell in trace.code_cells.values() {
        assert!(
            ended(cell.execution.status),
            "{name}: {}",
            cell.code_cell_id
        );
        assert_eq!(
            cell.runtime_status,
            CodeCellRuntimeStatus::Completed,
            "{name}"
        );
        assert_eq!(
            cell.nested_tool_call_ids.len(),
            2,
            "{name}: {}",
            cell.code_cell_id
        );
        assert_eq!(
            cell.output_item_ids.len(),
            1,
            "{name}: {}",
            cell.code_cell_id
        );
        let waits = usize::from(cell.yielded_seq.is_some());
        assert_eq!(
            cell.wait_tool_call_ids.len(),
            waits,
            "{name}: {}",
            cell.code_cell_id
        );
    }
    for edge in trace.interaction_edges.values() {
        assert!(
            matches!(edge.target, TraceAnchor::ConversationItem { .. }),
            "{name}: edge {} not delivered",
            edge.edge_id
        );
    }
    // The first request of each compacted turn (ids are counters, so the
    // smallest id of the turn).
    let mut first_requests = BTreeMap::new();
    for call in trace.inference_calls.values() {
        first_requests
            .entry(call.codex_turn_id.as_str())
            .or_insert(call);
    }
    for compaction in trace.compactions.values() {
        let request = first_requests[compaction.codex_turn_id.as_str()];
        let replacement = &compaction.replacement_item_ids;
        assert_eq!(
            &request.request_item_ids.numbers()[..replacement.len()],
            replacement.numbers(),
            "{name}: request after {}",
            compaction.compaction_id
        );
    }
}

/// The bytes of the manifest, the log and the payload files.
fn bundle_bytes(dir: &Path) -> u64 {
    bundle_files(dir)
        .values()
        .map(|bytes| bytes.len() as u64)
        .sum()
}

/// Every file of a bundle, by relative path.
fn bundle_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let read = |path: &Path| {
        fs::read(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
    };
    let mut files = BTreeMap::new();
    for name in ["manifest.json", "trace.jsonl"] {
        files.insert(name.to_string(), read(&dir.join(name)));
    }
    let payloads = dir.join("payloads");
    let entries = fs::read_dir(&payloads)
        .unwrap_or_else(|error| panic!("list {}: {error}", payloads.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|error| panic!("list {}: {error}", payloads.display()));
        let name = entry.file_name().to_string_lossy().into_owned();
        files.insert(format!("payloads/{name}"), read(&entry.path()));
    }
    files
}

fn options(turns: u64) -> GenOptions {
    GenOptions {
        turns,
        seed: 7,
        ..GenOptions::default()
    }
}

#[test]
fn plain_session_reduces() {
    let trace = generate_and_check("plain", &options(6));
    // Two requests per turn, each a full snapshot: the second request of
    // the last turn carries everything but its own response.
    let last = trace
        .inference_calls
        .values()
        .last()
        .map(|c| c.request_item_ids.len());
    let items = trace
        .threads
        .values()
        .map(|t| t.conversation_item_ids.len())
        .sum::<usize>();
    assert_eq!(last, Some(items - 2));
}

#[test]
fn every_option_alone_and_together_reduces() {
    let cases = [
        (
            "code_mode",
            GenOptions {
                code_mode_every: Some(2),
                ..options(8)
            },
        ),
        (
            "spawn",
            GenOptions {
                spawn_every: Some(3),
                ..options(7)
            },
        ),
        (
            "compact",
            GenOptions {
                compact_every: Some(3),
                ..options(10)
            },
        ),
        (
            "incremental",
            GenOptions {
                incremental: true,
                ..options(5)
            },
        ),
        (
            "history_metadata",
            GenOptions {
                history_metadata: true,
                ..options(5)
            },
        ),
        (
            "all",
            GenOptions {
                code_mode_every: Some(2),
                spawn_every: Some(3),
                compact_every: Some(4),
                incremental: true,
                history_metadata: true,
                ..options(13)
            },
        ),
    ];
    for (name, options) in &cases {
        generate_and_check(name, options);
    }
}

#[test]
fn incremental_requests_reduce_to_the_same_state_as_full_snapshots() {
    let full = GenOptions {
        code_mode_every: Some(2),
        spawn_every: Some(3),
        compact_every: Some(4),
        ..options(9)
    };
    let incremental = GenOptions {
        incremental: true,
        ..full.clone()
    };
    let full = rollout_trace::state_json(&generate_and_check("same_full", &full));
    let incremental =
        rollout_trace::state_json(&generate_and_check("same_incremental", &incremental));
    if let Some((n, (a, b))) = full
        .lines()
        .zip(incremental.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!("state.json differs at line {}:\n- {a}\n+ {b}", n + 1);
    }
    assert_eq!(full.len(), incremental.len());
}

#[test]
fn history_metadata_changes_the_bundle_but_not_the_state() {
    let plain = GenOptions {
        code_mode_every: Some(2),
        spawn_every: Some(3),
        compact_every: Some(4),
        ..options(9)
    };
    let current = GenOptions {
        history_metadata: true,
        ..plain.clone()
    };
    let plain_state = rollout_trace::state_json(&generate_and_check("metadata_off", &plain));
    let current_state = rollout_trace::state_json(&generate_and_check("metadata_on", &current));
    // The stamps are really there: requests re-send history items with them,
    // creation times on messages, and none in the responses.
    let files = bundle_files(&out_dir_kept("metadata_on"));
    let payloads: Vec<String> = files
        .values()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    let stamped = payloads
        .iter()
        .filter(|text| text.contains("internal_chat_message_metadata_passthrough"))
        .count();
    assert!(
        stamped > 9,
        "only {stamped} payloads carry history metadata"
    );
    assert!(payloads.iter().any(|text| text.contains("\"create_time\"")));
    assert!(
        payloads
            .iter()
            .filter(|text| text.contains("\"output_items\""))
            .all(|text| !text.contains("internal_chat_message_metadata_passthrough"))
    );
    // Stripped before normalization, the metadata changes nothing reduced.
    assert!(
        plain_state == current_state,
        "history metadata changed the reduced state"
    );
}

#[test]
fn same_options_give_the_same_bytes() {
    let options = GenOptions {
        code_mode_every: Some(2),
        spawn_every: Some(2),
        compact_every: Some(2),
        ..options(5)
    };
    let first = out_dir("twice_1");
    let second = out_dir("twice_2");
    let summary = tracegen::generate(&first, &options).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(tracegen::generate(&second, &options).ok(), Some(summary));
    let (first, second) = (bundle_files(&first), bundle_files(&second));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &first {
        assert!(second[path] == *bytes, "{path} differs");
    }
    // A different seed gives different text.
    let other = out_dir("twice_other_seed");
    tracegen::generate(&other, &GenOptions { seed: 8, ..options })
        .unwrap_or_else(|error| panic!("{error}"));
    assert_ne!(
        bundle_files(&other)["payloads/2.json"],
        first["payloads/2.json"]
    );
}

#[test]
fn the_size_limit_stops_the_writer() {
    let dir = out_dir("limited");
    let error = tracegen::generate(
        &dir,
        &GenOptions {
            max_bundle_bytes: Some(100_000),
            ..options(50)
        },
    )
    .err()
    .map(|error| error.to_string());
    let error = error.unwrap_or_default();
    assert!(error.contains("size limit of 100000 bytes"), "{error}");
    assert!(bundle_bytes(&dir) <= 100_000);
}
