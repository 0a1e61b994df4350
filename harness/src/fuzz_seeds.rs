//! Seed inputs for the `reduce_bundle` fuzz target (`reducer/fuzz/`): every
//! corpus case and a few generated sessions, in the target's input layout.
//!
//! Layout (the fuzz target's): `trace.jsonl`, then for n = 1, 2, ... the
//! byte 0xFF and `payloads/<n>.json`. A payload a bundle does not have is an
//! empty part, so numbers keep their places. The target's manifest is fixed
//! (root thread `thread-root`), so seeds from bundles with another root
//! still exercise every rule except the root's own thread.
//!
//! Invariant: a seed is a pure function of the bundle's files (no clock, no
//! order of directory listing), so the seed folder is reproducible.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use tracegen::GenOptions;

/// Separates the parts of a fuzz input; never valid in UTF-8 JSON.
pub const PART_SEPARATOR: u8 = 0xFF;

/// The fuzz input of the bundle in `dir`: `None` when it has no readable
/// `trace.jsonl`.
pub fn seed_of_bundle(dir: &Path) -> io::Result<Option<Vec<u8>>> {
    let Ok(trace) = fs::read(dir.join("trace.jsonl")) else {
        return Ok(None);
    };
    let mut payloads = BTreeMap::new();
    if let Ok(entries) = fs::read_dir(dir.join("payloads")) {
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(number) = name
                .strip_suffix(".json")
                .and_then(|stem| stem.parse::<usize>().ok())
            else {
                continue;
            };
            if entry.file_type()?.is_file() {
                payloads.insert(number, fs::read(entry.path())?);
            }
        }
    }
    Ok(Some(encode(&trace, &payloads)))
}

/// The fuzz input of a log and its numbered payload files.
pub fn encode(trace: &[u8], payloads: &BTreeMap<usize, Vec<u8>>) -> Vec<u8> {
    let mut seed = trace.to_vec();
    let last = payloads.keys().next_back().copied().unwrap_or(0);
    for number in 1..=last {
        seed.push(PART_SEPARATOR);
        if let Some(bytes) = payloads.get(&number) {
            seed.extend_from_slice(bytes);
        }
    }
    seed
}

/// Generated sessions worth seeding with: small, one per shape (plain,
/// current-style history metadata, every option together).
pub fn generated_shapes() -> Vec<(&'static str, GenOptions)> {
    let small = GenOptions {
        turns: 3,
        seed: 11,
        ..GenOptions::default()
    };
    vec![
        ("generated_plain", small.clone()),
        (
            "generated_history_metadata",
            GenOptions {
                history_metadata: true,
                ..small.clone()
            },
        ),
        (
            "generated_all_options",
            GenOptions {
                code_mode_every: Some(2),
                spawn_every: Some(2),
                compact_every: Some(2),
                incremental: true,
                history_metadata: true,
                ..small
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_payload_numbers_keep_their_places() {
        let payloads = BTreeMap::from([(1, b"{}".to_vec()), (3, b"[]".to_vec())]);
        assert_eq!(
            encode(b"log\n", &payloads),
            b"log\n\xFF{}\xFF\xFF[]".to_vec()
        );
        assert_eq!(encode(b"log\n", &BTreeMap::new()), b"log\n".to_vec());
    }
}
