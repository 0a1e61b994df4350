//! Property tests of the reducer on generated bundles (issue "bad input").
//!
//! - Valid sequences always reduce: any seed and mix of generator options
//!   gives a bundle that reduces, to the counts the generator recorded.
//! - Reduction is deterministic: reducing twice, with every code path
//!   switched (read-ahead, request scanning), gives the same bytes.
//! - No input panics: the same bundles with random bytes changed, lines cut
//!   or dropped, reduce or are rejected with an error, never a panic, in
//!   both strict and partial mode, and partial mode always succeeds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use rollout_trace::ReduceOptions;
use rollout_trace::bundle::MemoryBundle;
use tracegen::GenOptions;

/// A generated bundle, read into memory.
fn generated(options: &GenOptions, name: &str) -> MemoryBundle {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("properties")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap_or_else(|error| panic!("remove {dir:?}: {error}"));
    }
    tracegen::generate(&dir, options).unwrap_or_else(|error| panic!("generate: {error}"));
    let read = |file: &str| std::fs::read(dir.join(file)).ok();
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("payloads"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(bytes) = std::fs::read(entry.path()) {
            files.insert(format!("payloads/{name}"), bytes);
        }
    }
    let bundle = MemoryBundle {
        manifest: read("manifest.json"),
        trace: read("trace.jsonl"),
        files: Arc::new(files),
    };
    std::fs::remove_dir_all(&dir).unwrap_or_else(|error| panic!("remove {dir:?}: {error}"));
    bundle
}

fn gen_options() -> impl Strategy<Value = GenOptions> {
    (
        1u64..6,
        any::<u64>(),
        proptest::option::of(1u64..4),
        proptest::option::of(1u64..4),
        any::<bool>(),
        proptest::option::of(1u64..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                turns,
                seed,
                code_mode_every,
                spawn_every,
                incremental,
                compact_every,
                history_metadata,
                small_payloads,
            )| {
                GenOptions {
                    turns,
                    seed,
                    code_mode_every,
                    spawn_every,
                    incremental,
                    compact_every,
                    history_metadata,
                    small_payloads,
                    max_bundle_bytes: None,
                }
            },
        )
}

/// Every combination of the code-path switches, which must not change the result.
fn all_paths(partial: bool) -> Vec<ReduceOptions> {
    let mut options = Vec::new();
    for read_ahead in [false, true] {
        for scan_requests in [false, true] {
            options.push(ReduceOptions {
                partial,
                read_ahead,
                scan_requests,
                ..ReduceOptions::default()
            });
        }
    }
    options
}

/// The outcome of a reduction as text: the state and diagnostics, or the error.
fn outcome(bundle: &MemoryBundle, options: &ReduceOptions) -> Result<String, String> {
    rollout_trace::reduce_source(bundle, options)
        .map(|reduction| {
            let diagnostics: Vec<String> = reduction
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect();
            format!(
                "{}\n{}",
                rollout_trace::state_json(&reduction.trace),
                diagnostics.join("\n")
            )
        })
        .map_err(|error| error.to_string())
}

/// A change to a bundle's bytes.
#[derive(Debug, Clone)]
enum Damage {
    /// Overwrite a byte of the log.
    LogByte { at: usize, byte: u8 },
    /// Cut the log at a byte offset (a writer that stopped mid-write).
    Truncate { at: usize },
    /// Remove one line of the log.
    DropLine { line: usize },
    /// Overwrite a byte of one payload file.
    PayloadByte { file: usize, at: usize, byte: u8 },
    /// Remove one payload file.
    DropPayload { file: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::LogByte { at, byte }),
        any::<usize>().prop_map(|at| Damage::Truncate { at }),
        any::<usize>().prop_map(|line| Damage::DropLine { line }),
        (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(file, at, byte)| Damage::PayloadByte { file, at, byte }),
        any::<usize>().prop_map(|file| Damage::DropPayload { file }),
    ]
}

fn apply(bundle: &MemoryBundle, damage: &Damage) -> MemoryBundle {
    let mut damaged = bundle.clone();
    let trace = damaged.trace.get_or_insert_with(Vec::new);
    let mut files = (*damaged.files).clone();
    let nth_file = |files: &BTreeMap<String, Vec<u8>>, index: usize| {
        (!files.is_empty())
            .then(|| files.keys().nth(index % files.len()).cloned())
            .flatten()
    };
    match damage {
        Damage::LogByte { at, byte } if !trace.is_empty() => {
            let at = at % trace.len();
            trace[at] = *byte;
        }
        Damage::Truncate { at } if !trace.is_empty() => trace.truncate(at % trace.len()),
        Damage::DropLine { line } => {
            let mut lines: Vec<&[u8]> = trace.split_inclusive(|&byte| byte == b'\n').collect();
            if !lines.is_empty() {
                lines.remove(line % lines.len());
            }
            *trace = lines.concat();
        }
        Damage::PayloadByte { file, at, byte } => {
            if let Some(name) = nth_file(&files, *file)
                && let Some(bytes) = files.get_mut(&name)
                && !bytes.is_empty()
            {
                let at = at % bytes.len();
                bytes[at] = *byte;
            }
        }
        Damage::DropPayload { file } => {
            if let Some(name) = nth_file(&files, *file) {
                files.remove(&name);
            }
        }
        _ => {}
    }
    damaged.files = Arc::new(files);
    damaged
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn valid_sequences_reduce_the_same_on_every_path(options in gen_options()) {
        let bundle = generated(&options, &format!("valid-{}", options.seed));
        let outcomes: Vec<Result<String, String>> =
            all_paths(false).iter().map(|reduce| outcome(&bundle, reduce)).collect();
        prop_assert!(outcomes[0].is_ok(), "a generated bundle was rejected: {:?}", outcomes[0]);
        for other in &outcomes[1..] {
            prop_assert_eq!(other, &outcomes[0]);
        }
        // Nothing is damaged, so partial mode changes nothing.
        prop_assert_eq!(&outcome(&bundle, &all_paths(true)[0]), &outcomes[0]);
    }

    #[test]
    fn damaged_bundles_never_panic(options in gen_options(), damages in proptest::collection::vec(damage(), 1..4)) {
        let mut bundle = generated(&options, &format!("damaged-{}", options.seed));
        for damage in &damages {
            bundle = apply(&bundle, damage);
        }
        let strict: Vec<Result<String, String>> =
            all_paths(false).iter().map(|reduce| outcome(&bundle, reduce)).collect();
        for other in &strict[1..] {
            prop_assert_eq!(other, &strict[0]);
        }
        let partial: Vec<Result<String, String>> =
            all_paths(true).iter().map(|reduce| outcome(&bundle, reduce)).collect();
        // The manifest is intact, so partial mode always keeps what comes
        // before the damage.
        prop_assert!(partial[0].is_ok(), "partial reduction failed: {:?}", partial[0]);
        for other in &partial[1..] {
            prop_assert_eq!(other, &partial[0]);
        }
    }
}
