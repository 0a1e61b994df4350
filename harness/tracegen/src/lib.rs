//! Generates large, realistic, deterministic trace bundles with the
//! project's own writer, for benchmarks and scale tests of the reducer
//! (`cargo xtask gen-trace`, `cargo xtask bench`).
//!
//! A generated bundle is one root session of `turns` turns. Every turn has
//! a user message, then a full-snapshot request (the whole history, as
//! Responses API clients send it when nothing is stored server-side) whose
//! response holds a reasoning item, a commentary message and an
//! `exec_command` call; the command runs as a tool call with invocation,
//! runtime begin/end and result payloads (1-8 KB of output); a follow-up
//! request carries the output back and its response is the final answer.
//! Options add code-mode cells, spawned sub-agents, incremental follow-ups
//! and compaction ([`GenOptions`]).
//!
//! Invariants:
//!
//! - **Deterministic.** The same [`GenOptions`] give byte-identical bundles:
//!   every id is a counter, the clock is a `SteppingClock`, the text comes
//!   from a SplitMix64 generator seeded per turn, and JSON members keep the
//!   order they were built in. Nothing reads the clock, the environment or
//!   a hash map's order.
//! - **Valid.** Every bundle reduces without error or diagnostic, and the
//!   reduced counts equal the [`GenSummary`] (checked by `tests/generate.rs`
//!   for every option and their combination): each request is one
//!   inference call, every tool the session runs is one tool call, every
//!   command one terminal operation, every spawn two interaction edges
//!   (spawn and agent result), every compaction one install and one request.
//! - **Faithful to the producer.** Events carry the envelope context of
//!   `trace-format.md` §4.4; payloads have the §8 shapes; the code-mode
//!   `exec` call has no tool call of its own (§7 rule 8); requests after a
//!   compaction start from its replacement history; with `history_metadata`,
//!   items re-sent in history carry the metadata current producers stamp.
//! - **Bounded.** With `max_bundle_bytes` the writer stops with an error
//!   before the bundle grows past the limit, instead of filling the disk.
//!
//! Absences: no I/O except the bundle folder; no threads.

#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod agents;
mod budget;
mod code_mode;
mod compaction;
mod items;
mod rng;
mod session;
mod text;
mod tools;

use std::fmt;
use std::path::Path;

use rollout_trace::writer::WriteError;

pub use rng::Rng;

/// The version of the generator's output: raised whenever the bundle that
/// given options produce changes, so that `cargo xtask bench` does not
/// reuse a bundle of an older generator.
pub const GENERATOR_VERSION: u32 = 1;

/// What to generate. `Default` is a 10-turn session with seed 1 and no options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Turns of the root thread.
    pub turns: u64,
    /// Seed of all generated text.
    pub seed: u64,
    /// Every K-th turn (K, 2K, ...) runs its commands from a code-mode cell
    /// (an `exec` custom tool call); every other such cell yields and is
    /// finished by a `wait` call in a third request.
    pub code_mode_every: Option<u64>,
    /// Every K-th turn (K, 2K, ...) also spawns a sub-agent, which runs one
    /// turn in its own thread and delivers its answer back to the root.
    pub spawn_every: Option<u64>,
    /// Requests after the first of a turn send only the new items with
    /// `previous_response_id`, instead of the whole history.
    pub incremental: bool,
    /// Turns K+1, 2K+1, ... start with a compaction: the history is replaced
    /// by a summary, and requests start again from it.
    pub compact_every: Option<u64>,
    /// Stamp items entering a history with the metadata current Codex
    /// builds write (`internal_chat_message_metadata_passthrough` with the
    /// turn id, and a `create_time` on messages and tool outputs), as the
    /// next request re-sends them; responses stay unstamped
    /// (`upstream-main.md` §4).
    pub history_metadata: bool,
    /// Keep payloads small (command output of 16-128 bytes, short encrypted
    /// reasoning), for sessions of many small events.
    pub small_payloads: bool,
    /// Stop with an error rather than write more bytes than this.
    pub max_bundle_bytes: Option<u64>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            turns: 10,
            seed: 1,
            code_mode_every: None,
            spawn_every: None,
            incremental: false,
            compact_every: None,
            history_metadata: false,
            small_payloads: false,
            max_bundle_bytes: None,
        }
    }
}

/// What a generated bundle holds: the counts the reduced state must show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    pub threads: u64,
    pub turns: u64,
    pub inference_calls: u64,
    pub tool_calls: u64,
    pub terminal_operations: u64,
    pub code_cells: u64,
    pub interaction_edges: u64,
    pub compactions: u64,
    pub compaction_requests: u64,
    /// Lines of `trace.jsonl`.
    pub events: u64,
    /// Files in `payloads/`.
    pub payload_files: u64,
    /// Bytes of the manifest, the event log and the payload files.
    pub bundle_bytes: u64,
}

/// A generation failure: the writer's error (with the path it names).
#[derive(Debug)]
pub struct GenError(String);

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GenError {}

impl From<WriteError> for GenError {
    fn from(error: WriteError) -> Self {
        GenError(error.to_string())
    }
}

/// Writes the bundle described by `options` into the folder `out`, which
/// must not hold a bundle yet (it is created if missing).
pub fn generate(out: &Path, options: &GenOptions) -> Result<GenSummary, GenError> {
    session::Session::create(out, options)?.run()
}
