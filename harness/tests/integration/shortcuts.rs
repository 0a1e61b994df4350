//! The reducer's shortcuts on generated sessions of every shape: the counts
//! it reports match what the bundle calls for (`harness::shortcuts`, as the
//! corpus harness checks on every case), and in a session of full snapshots
//! every item resent at its old position skips decoding and reconciliation.

use std::path::Path;

use harness::shortcuts::Taken;
use rollout_trace::ReduceOptions;
use rollout_trace::Shortcuts;
use tracegen::GenOptions;

/// Generates `options` into a fresh folder named `name`, reduces it with
/// every shortcut on and with every shortcut off, and checks the counts.
fn reduced_both_ways(name: &str, options: &GenOptions) -> Shortcuts {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("shortcuts")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap_or_else(|error| panic!("remove {dir:?}: {error}"));
    }
    tracegen::generate(&dir, options).unwrap_or_else(|error| panic!("generate: {error}"));
    let on = ReduceOptions::default();
    let off = ReduceOptions {
        read_ahead: false,
        scan_requests: false,
        ..on
    };
    let taken = |options: &ReduceOptions| {
        let reduction = rollout_trace::reduce_bundle_with(&dir, options)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        Taken {
            events: reduction.events,
            shortcuts: reduction.shortcuts,
        }
    };
    let (fast, slow) = (taken(&on), taken(&off));
    let facts = harness::shortcuts::bundle_facts(&dir)
        .unwrap_or_else(|| panic!("{name}: the bundle's facts could not be read"));
    let faults = harness::shortcuts::faults(&facts, [(&on, &fast), (&off, &slow)]);
    assert_eq!(faults, Vec::<String>::new(), "{name}");
    std::fs::remove_dir_all(&dir).unwrap_or_else(|error| panic!("remove {dir:?}: {error}"));
    fast.shortcuts
}

fn session(turns: u64) -> GenOptions {
    GenOptions {
        turns,
        seed: 7,
        code_mode_every: None,
        spawn_every: None,
        incremental: false,
        compact_every: None,
        history_metadata: false,
        small_payloads: true,
        max_bundle_bytes: None,
    }
}

#[test]
fn every_shape_takes_the_shortcuts_its_bundle_calls_for() {
    let shapes = [
        ("full", session(6)),
        (
            "incremental",
            GenOptions {
                incremental: true,
                ..session(6)
            },
        ),
        (
            "compaction",
            GenOptions {
                compact_every: Some(2),
                ..session(7)
            },
        ),
        (
            "code-mode",
            GenOptions {
                code_mode_every: Some(2),
                ..session(6)
            },
        ),
        (
            "spawns",
            GenOptions {
                spawn_every: Some(2),
                ..session(6)
            },
        ),
        (
            "metadata",
            GenOptions {
                history_metadata: true,
                compact_every: Some(3),
                ..session(7)
            },
        ),
    ];
    for (name, options) in shapes {
        let shortcuts = reduced_both_ways(name, &options);
        assert!(shortcuts.payloads_read_ahead > 0, "{name}: {shortcuts:?}");
    }
}

#[test]
fn resent_history_in_full_snapshots_is_neither_decoded_nor_reconciled_again() {
    let shortcuts = reduced_both_ways("full-snapshots", &session(8));
    assert!(shortcuts.request_items_not_decoded > 20, "{shortcuts:?}");
    assert_eq!(
        shortcuts.request_items_unchanged, shortcuts.request_items_not_decoded,
        "every resent item sits at its position of the thread's snapshot and has no payload part"
    );
}
