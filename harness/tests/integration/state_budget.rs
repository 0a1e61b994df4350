//! The state budget's count is close to the size of the `state.json` it
//! stands for, on every corpus case and on generated sessions of every shape.

use harness::CaseKind;
use harness::Corpus;
use tracegen::GenOptions;

/// How far the count may be from the file, as a factor either way.
const MAX_FACTOR: f64 = 1.5;

fn ratio(path: &std::path::Path) -> Option<(f64, u64, usize)> {
    let reduction = rollout_trace::reduce_bundle(path).ok()?;
    let actual = rollout_trace::state_json(&reduction.trace).len();
    Some((
        reduction.state_bytes as f64 / actual as f64,
        reduction.state_bytes,
        actual,
    ))
}

#[test]
fn the_count_is_close_to_the_file_on_every_corpus_case() {
    let corpus = Corpus::of_workspace().unwrap_or_else(|error| panic!("{error}"));
    let cases = corpus.discover().unwrap_or_else(|error| panic!("{error}"));
    let mut far = Vec::new();
    for case in cases.iter().filter(|case| case.kind == CaseKind::Ok) {
        let Some((ratio, counted, actual)) = ratio(&case.dir) else {
            continue;
        };
        if !(1.0 / MAX_FACTOR..=MAX_FACTOR).contains(&ratio) {
            far.push(format!(
                "{}: counted {counted}, state.json {actual}",
                case.name
            ));
        }
    }
    assert!(far.is_empty(), "{far:#?}");
}

#[test]
fn the_count_is_close_to_the_file_on_generated_sessions() {
    let scratch = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let base = GenOptions {
        turns: 24,
        seed: 5,
        ..GenOptions::default()
    };
    let shapes = [
        ("full", base.clone()),
        (
            "every_option",
            GenOptions {
                code_mode_every: Some(3),
                spawn_every: Some(4),
                compact_every: Some(5),
                incremental: true,
                history_metadata: true,
                ..base.clone()
            },
        ),
    ];
    for (name, options) in shapes {
        let dir = scratch.path().join(name);
        tracegen::generate(&dir, &options).unwrap_or_else(|error| panic!("{name}: {error}"));
        let Some((ratio, counted, actual)) = ratio(&dir) else {
            panic!("{name}: does not reduce");
        };
        assert!(
            (1.0 / MAX_FACTOR..=MAX_FACTOR).contains(&ratio),
            "{name}: counted {counted}, state.json {actual}"
        );
    }
}

/// How far one event type's charges may be from what its events add to
/// `state.json`, summed over the corpus, as a factor either way. Tight enough
/// that a type charged the default size instead of its own is seen.
const MAX_EVENT_TYPE_FACTOR: f64 = 1.25;

/// Types whose events add less than this in the whole corpus are too small a
/// sample to judge.
const MIN_EVENT_TYPE_BYTES: i64 = 4096;

/// A corpus case as an in-memory bundle cut after `events` lines.
fn prefix(
    bundle: &rollout_trace::bundle::MemoryBundle,
    lines: &[&str],
    events: usize,
) -> rollout_trace::bundle::MemoryBundle {
    let mut trace = lines[..events].join("\n");
    trace.push('\n');
    rollout_trace::bundle::MemoryBundle {
        trace: Some(trace.into_bytes()),
        ..bundle.clone()
    }
}

fn load(dir: &std::path::Path) -> Option<(rollout_trace::bundle::MemoryBundle, String)> {
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let mut files = std::collections::BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("payloads")) {
        for entry in entries.flatten() {
            let name = format!("payloads/{}", entry.file_name().to_string_lossy());
            files.insert(name, std::fs::read(entry.path()).ok()?);
        }
    }
    let trace = String::from_utf8(read("trace.jsonl")?).ok()?;
    let bundle = rollout_trace::bundle::MemoryBundle {
        manifest: read("manifest.json"),
        trace: None,
        files: std::sync::Arc::new(files),
    };
    Some((bundle, trace))
}

/// The count and the file after the first `events` events, when they reduce.
fn sizes(
    bundle: &rollout_trace::bundle::MemoryBundle,
    lines: &[&str],
    events: usize,
) -> Option<(i64, i64)> {
    let source = prefix(bundle, lines, events);
    let reduction =
        rollout_trace::reduce_source(&source, &rollout_trace::ReduceOptions::default()).ok()?;
    let actual = rollout_trace::state_json(&reduction.trace).len();
    Some((reduction.state_bytes as i64, actual as i64))
}

#[test]
fn each_event_type_is_charged_near_what_its_events_add() {
    let corpus = Corpus::of_workspace().unwrap_or_else(|error| panic!("{error}"));
    let cases = corpus.discover().unwrap_or_else(|error| panic!("{error}"));
    // Per event type: bytes charged and bytes added, over every corpus event
    // whose bundle reduces both before and after it.
    let mut per_type: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for case in cases.iter().filter(|case| case.kind == CaseKind::Ok) {
        let Some((bundle, trace)) = load(&case.dir) else {
            continue;
        };
        let lines: Vec<&str> = trace
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let mut before = sizes(&bundle, &lines, 0);
        for events in 1..=lines.len() {
            let after = sizes(&bundle, &lines, events);
            let event_type = serde_json::from_str::<serde_json::Value>(lines[events - 1])
                .ok()
                .and_then(|event| event["payload"]["type"].as_str().map(str::to_string));
            if let (
                Some((counted_before, actual_before)),
                Some((counted, actual)),
                Some(event_type),
            ) = (before, after, event_type)
            {
                let entry = per_type.entry(event_type).or_default();
                entry.0 += counted - counted_before;
                entry.1 += actual - actual_before;
            }
            before = after;
        }
    }
    let far: Vec<String> = per_type
        .iter()
        .filter(|(_, (_, added))| *added >= MIN_EVENT_TYPE_BYTES)
        .filter(|(_, (charged, added))| {
            let ratio = *charged as f64 / *added as f64;
            !(1.0 / MAX_EVENT_TYPE_FACTOR..=MAX_EVENT_TYPE_FACTOR).contains(&ratio)
        })
        .map(|(event_type, (charged, added))| {
            format!("{event_type}: charged {charged}, added {added}")
        })
        .collect();
    let judged = per_type
        .values()
        .filter(|(_, added)| *added >= MIN_EVENT_TYPE_BYTES)
        .count();
    assert!(
        judged >= 10,
        "only {judged} event types judged: {per_type:#?}"
    );
    assert!(far.is_empty(), "{far:#?}");
}
