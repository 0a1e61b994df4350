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
