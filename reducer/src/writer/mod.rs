//! The producer side: a trace writer and recording handles any Rust agent
//! runtime can embed.
//!
//! Two layers:
//!
//! - [`TraceWriter`] creates (or resumes) one bundle folder and appends to
//!   it: `write_payload` stores a value as `payloads/<n>.json` and returns
//!   its reference `raw_payload:<n>`; `append` writes one event line with
//!   the next `seq`. It returns every error, and can write any event in any
//!   order (the corpus generators use it directly).
//! - [`Recorder`] and the handles it hands out ([`ThreadRecorder`],
//!   [`TurnRecorder`], [`InferenceAttempt`], [`ToolCallRecorder`],
//!   [`CodeCellRecorder`], [`CompactionRecorder`]) record a runtime's
//!   activity with the envelope context the reference producer uses. They
//!   never return errors and do nothing when disabled.
//!
//! Recording is switched on by the environment variable
//! [`TRACE_ROOT_ENV`] (`ROLLOUT_TRACE_ROOT`): [`Recorder::from_env`] creates
//! the bundle `$ROLLOUT_TRACE_ROOT/trace-<trace_id>-<root_thread_id>/` for a
//! rollout; spawned child threads record into their root's bundle.
//!
//! Invariants of every bundle written here:
//!
//! - The manifest is pretty JSON (2-space indentation, no trailing newline)
//!   with `schema_version` 1; payload files likewise; each event is one line
//!   of compact JSON followed by `\n`, with envelope `schema_version` 1 and
//!   the manifest's `rollout_id`.
//! - `seq` starts at 1 and grows by exactly one per line, in file order,
//!   however many threads append; payloads are numbered 1, 2, 3, ...
//!   independently of `seq`.
//! - A payload file is complete before the first byte of any line that
//!   references it is written. After a crash at any point, every complete
//!   line's payloads are present, only the last line can be damaged, and
//!   `reduce_bundle_with(.., partial: true)` reduces every complete line.
//! - A writer never writes into a folder that already holds a bundle unless
//!   asked to resume it, and a resumed log continues `seq` and payload
//!   numbering after what is there.
//!
//! Absences: no clock or randomness is read except through the injected
//! [`Clock`] and the default trace id ([`new_trace_id`]); nothing is read
//! from the environment except by [`Recorder::from_env`] and
//! [`trace_root_from_env`].

mod clock;
mod error;
mod handles;
mod payloads;
mod recorder;
mod resume;
mod sink;
mod storage;
mod trace_writer;

pub use clock::Clock;
pub use clock::SteppingClock;
pub use clock::SystemClock;
pub use error::WriteError;
pub use error::WriteErrorKind;
pub use handles::CodeCellRecorder;
pub use handles::CompactionAttempt;
pub use handles::CompactionRecorder;
pub use handles::InferenceAttempt;
pub use handles::ToolCallRecorder;
pub use handles::ToolCallStart;
pub use payloads::AgentResult;
pub use payloads::CompactionCheckpoint;
pub use payloads::DispatchResult;
pub use payloads::ExecBegin;
pub use payloads::ExecDuration;
pub use payloads::ExecEnd;
pub use payloads::INPUT_PREVIEW_CHARS;
pub use payloads::InferenceResponse;
pub use payloads::ResponseTokenUsage;
pub use payloads::SessionMetadata;
pub use payloads::ThreadSpawn;
pub use payloads::ToolInvocation;
pub use payloads::ToolInvocationBody;
pub use payloads::agent_result_edge_id;
pub use payloads::classify_tool;
pub use payloads::generic_summary;
pub use recorder::Recorder;
pub use recorder::RecorderOptions;
pub use recorder::TRACE_ROOT_ENV;
pub use recorder::ThreadRecorder;
pub use recorder::TurnRecorder;
pub use recorder::bundle_folder_name;
pub use recorder::trace_root_from_env;
pub use sink::ErrorHook;
pub use storage::LocalDisk;
pub use storage::LogFile;
pub use storage::Storage;
pub use trace_writer::BundleIdentity;
pub use trace_writer::EventContext;
pub use trace_writer::FlushPolicy;
pub use trace_writer::LazyPayload;
pub use trace_writer::MANIFEST_SCHEMA_VERSION;
pub use trace_writer::ResumeReport;
pub use trace_writer::TracePayload;
pub use trace_writer::TraceWriter;
pub use trace_writer::WriterOptions;
pub use trace_writer::new_trace_id;
