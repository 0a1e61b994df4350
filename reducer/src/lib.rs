//! Rollout traces of AI coding agents: the bundle format, a writer, and a
//! deterministic reducer that replays a bundle into the `state.json` graph.
//!
//! The reducer is output-compatible with upstream Codex's
//! `codex-rollout-trace` reducer: for every bundle upstream accepts, the
//! serialized state is the same bytes. It differs only where the project
//! policy says so (see `ARCHITECTURE.md`): payload paths are confined to the
//! bundle, `seq` is checked, truncated traces can be reduced partially,
//! silent drops are reported as diagnostics, and errors say where they happened.
//!
//! ```no_run
//! let reduction = rollout_trace::reduce_bundle("path/to/bundle")?;
//! println!("{}", rollout_trace::state_json(&reduction.trace));
//! # Ok::<(), rollout_trace::ReduceError>(())
//! ```
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod atomic_file;
pub mod bundle;
#[cfg(feature = "cli")]
pub mod cli;
mod error;
mod follow;
pub mod json_diff;
mod limits;
pub mod model;
mod payload_reads;
pub mod raw;
mod read_ahead;
mod reduce;
mod replay;
mod shortcuts;
pub mod views;
pub mod writer;

pub use atomic_file::write_atomically;
pub use atomic_file::write_atomically_with;
pub use bundle::BundleSource;
pub use error::Diagnostic;
pub use error::Place;
pub use error::ReduceError;
pub use follow::DEFAULT_PAYLOAD_TIMEOUT;
pub use follow::Follower;
pub use follow::Polled;
pub use limits::Limits;
pub use reduce::Reducer;
pub use reduce::Reduction;
pub use replay::Progress;
pub use replay::ReduceOptions;
pub use replay::reduce_bundle;
pub use replay::reduce_bundle_observed;
pub use replay::reduce_bundle_with;
pub use replay::reduce_source;
pub use replay::reduce_source_observed;
pub use shortcuts::Shortcuts;

/// The upstream reducer whose output this crate reproduces: Codex's
/// `codex-rs/rollout-trace` on mainline (see `UPSTREAM.md`).
pub mod upstream {
    /// The mainline commit the reducer matches (the last one touching the crate).
    pub const COMMIT: &str = "bc8b25ea0219ad63f9f939ae0be0090dc6bdd9c9";
    /// Its commit date.
    pub const COMMIT_DATE: &str = "2026-08-06";
    /// The crate's path in the Codex repository.
    pub const CRATE_PATH: &str = "codex-rs/rollout-trace";
}

/// What `--version` prints: this crate's version and the upstream commit its
/// output is compatible with.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (state.json compatible with upstream codex-rs/rollout-trace at bc8b25ea02, 2026-08-06)"
);

/// The `state.json` text of a reduced trace: pretty JSON with two-space
/// indentation and no trailing newline, as `codex debug trace-reduce` writes it.
pub fn state_json(trace: &model::RolloutTrace) -> String {
    // Serializing plain data structures into a String cannot fail.
    serde_json::to_string_pretty(trace).unwrap_or_default()
}

/// Writes the `state.json` text of `trace` (the bytes of [`state_json`]) to
/// `writer` without building it in memory first.
pub fn write_state_json(
    trace: &model::RolloutTrace,
    writer: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(writer, trace).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_names_the_upstream_commit() {
        assert!(super::upstream::COMMIT.starts_with("bc8b25ea02"));
        assert!(super::VERSION.contains(&super::upstream::COMMIT[..10]));
        assert!(super::VERSION.contains(super::upstream::COMMIT_DATE));
    }
}
