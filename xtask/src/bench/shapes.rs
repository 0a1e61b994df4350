//! The shapes of session the benchmark measures, each at two or more sizes.
//!
//! A shape is a set of generator options (`gen-trace` flags); its sizes are
//! turn counts. The smallest size and the largest of a shape show whether the
//! cost per byte stays flat as a session grows. Every shape a real Codex
//! session takes is here: full snapshots, incremental requests, compaction
//! (often and seldom), code-mode cells, spawned sub-agents, current-style
//! history metadata, and many small events.

use tracegen::GenOptions;

/// One shape of session.
pub struct Shape {
    /// The name `--shape` takes.
    pub name: &'static str,
    /// The `gen-trace` flags that make it (shown in the table's legend).
    pub flags: &'static str,
    /// Turn counts measured by default, smallest first.
    pub sizes: &'static [u64],
    /// Turn counts measured with `--quick`.
    pub quick_sizes: &'static [u64],
    options: fn(u64) -> GenOptions,
}

impl Shape {
    /// The generator options of this shape at `turns` turns.
    pub fn options(&self, turns: u64, seed: u64) -> GenOptions {
        GenOptions {
            seed,
            ..(self.options)(turns)
        }
    }
}

/// Every shape, in the order of the table.
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "full",
        flags: "--code-mode-every 7 --spawn-every 50",
        sizes: &[120, 200, 1000],
        quick_sizes: &[120, 200],
        options: |turns| GenOptions {
            turns,
            code_mode_every: Some(7),
            spawn_every: Some(50),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "incremental",
        flags: "--incremental --compact-every 20 --code-mode-every 7 --spawn-every 50",
        sizes: &[200, 2000],
        quick_sizes: &[200, 1000],
        options: |turns| GenOptions {
            turns,
            incremental: true,
            compact_every: Some(20),
            code_mode_every: Some(7),
            spawn_every: Some(50),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "compact-5",
        flags: "--compact-every 5",
        sizes: &[200, 1000],
        quick_sizes: &[200, 1000],
        options: |turns| GenOptions {
            turns,
            compact_every: Some(5),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "compact-20",
        flags: "--compact-every 20",
        sizes: &[200, 1000],
        quick_sizes: &[200, 1000],
        options: |turns| GenOptions {
            turns,
            compact_every: Some(20),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "code-mode",
        flags: "--incremental --code-mode-every 1",
        sizes: &[200, 1000],
        quick_sizes: &[100, 200],
        options: |turns| GenOptions {
            turns,
            incremental: true,
            code_mode_every: Some(1),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "spawns",
        flags: "--incremental --spawn-every 2",
        sizes: &[200, 1000],
        quick_sizes: &[100, 200],
        options: |turns| GenOptions {
            turns,
            incremental: true,
            spawn_every: Some(2),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "metadata",
        flags: "--history-metadata --compact-every 20",
        sizes: &[200, 1000],
        quick_sizes: &[200, 1000],
        options: |turns| GenOptions {
            turns,
            history_metadata: true,
            compact_every: Some(20),
            ..GenOptions::default()
        },
    },
    Shape {
        name: "small-events",
        flags: "--incremental --compact-every 5 --small-payloads",
        sizes: &[2000, 10000],
        quick_sizes: &[1000, 2000],
        options: |turns| GenOptions {
            turns,
            incremental: true,
            compact_every: Some(5),
            small_payloads: true,
            ..GenOptions::default()
        },
    },
];

/// The shape called `name`.
pub fn named(name: &str) -> Option<&'static Shape> {
    SHAPES.iter().find(|shape| shape.name == name)
}

/// The folder name of a generated bundle: the generator version and every
/// option, so that a bundle is reused only for the same options.
pub fn bundle_name(options: &GenOptions) -> String {
    let mut name = format!(
        "gen{}-seed{}-turns{}",
        tracegen::GENERATOR_VERSION,
        options.seed,
        options.turns
    );
    let counts = [
        ("code", options.code_mode_every),
        ("spawn", options.spawn_every),
        ("compact", options.compact_every),
    ];
    for (label, every) in counts {
        if let Some(k) = every {
            name.push_str(&format!("-{label}{k}"));
        }
    }
    let switches = [
        ("incremental", options.incremental),
        ("metadata", options.history_metadata),
        ("small", options.small_payloads),
    ];
    for (label, on) in switches {
        if on {
            name.push('-');
            name.push_str(label);
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_has_a_distinct_name_and_sizes_that_grow() {
        let mut names: Vec<&str> = SHAPES.iter().map(|shape| shape.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SHAPES.len());
        for shape in SHAPES {
            for sizes in [shape.sizes, shape.quick_sizes] {
                assert!(sizes.len() >= 2, "{}", shape.name);
                assert!(
                    sizes.windows(2).all(|pair| pair[0] < pair[1]),
                    "{}",
                    shape.name
                );
            }
        }
    }

    #[test]
    fn bundle_names_tell_every_option_apart() {
        let names: Vec<String> = SHAPES
            .iter()
            .map(|shape| bundle_name(&shape.options(200, 1)))
            .collect();
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len(), "{names:#?}");
        assert_eq!(
            bundle_name(&SHAPES[1].options(200, 3)),
            format!(
                "gen{}-seed3-turns200-code7-spawn50-compact20-incremental",
                tracegen::GENERATOR_VERSION
            )
        );
    }
}
