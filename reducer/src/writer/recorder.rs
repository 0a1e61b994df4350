//! Recording handles: what an agent runtime holds to record a rollout.
//!
//! A `Recorder` owns one bundle (one rollout); `ThreadRecorder` and
//! `TurnRecorder` add the envelope context of `trace-format.md` §4.4 to what
//! they record, and hand out the handles of `handles.rs`. Every handle is
//! cheap to clone, `Send + Sync`, and comes in two states:
//!
//! - disabled (`Recorder::disabled()`, or recording switched off): every
//!   call does nothing and payload values are never serialized, so
//!   instrumented code needs no `if`;
//! - enabled: calls write payload files and events and never return an
//!   error. The first failure is reported once to the `on_error` hook of
//!   `RecorderOptions` (by default one line on standard error), after which
//!   every handle of the rollout turns into a no-op; the runtime goes on.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use super::BundleIdentity;
use super::EventContext;
use super::TracePayload;
use super::TraceWriter;
use super::WriteError;
use super::WriteErrorKind;
use super::WriterOptions;
use super::handles::CodeCellRecorder;
use super::handles::CompactionRecorder;
use super::handles::InferenceAttempt;
use super::handles::ToolCallRecorder;
use super::handles::ToolCallStart;
use super::new_trace_id;
use super::sink::ErrorHook;
use super::sink::Sink;
use super::sink::TurnScope;
use super::sink::optional_payload;
use super::sink::record;
use crate::model::ExecutionStatus;
use crate::model::RawPayloadKind;
use crate::model::RolloutStatus;
use crate::raw::RawTraceEventPayload;

/// The environment variable that switches recording on: the root folder
/// under which `Recorder::from_env` creates one bundle per rollout.
///
/// Upstream Codex reads `CODEX_ROLLOUT_TRACE_ROOT` instead; this crate does
/// not, so that a variable set for Codex does not silently start recording
/// prompts and tool output in every other runtime that embeds this crate.
pub const TRACE_ROOT_ENV: &str = "ROLLOUT_TRACE_ROOT";

/// How a `Recorder` creates its bundle and reports failure.
#[derive(Clone)]
pub struct RecorderOptions {
    /// The trace id; a random UUID v4 when `None`.
    pub trace_id: Option<String>,
    pub writer: WriterOptions,
    /// Called once, with the first failure; recording stops after it.
    pub on_error: ErrorHook,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        RecorderOptions {
            trace_id: None,
            writer: WriterOptions::default(),
            on_error: Arc::new(report_to_stderr),
        }
    }
}

impl RecorderOptions {
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    pub fn with_writer(mut self, writer: WriterOptions) -> Self {
        self.writer = writer;
        self
    }

    pub fn with_on_error(mut self, on_error: impl Fn(&WriteError) + Send + Sync + 'static) -> Self {
        self.on_error = Arc::new(on_error);
        self
    }
}

impl fmt::Debug for RecorderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderOptions")
            .field("trace_id", &self.trace_id)
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

/// The default error hook: one line on standard error, ignoring a closed stream.
fn report_to_stderr(error: &WriteError) {
    let _ = writeln!(
        std::io::stderr(),
        "rollout trace: recording stopped: {error}"
    );
}

/// The root folder named by `ROLLOUT_TRACE_ROOT`, if it is set and not empty.
pub fn trace_root_from_env() -> Option<PathBuf> {
    std::env::var_os(TRACE_ROOT_ENV)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The bundle folder name of the reference producer: `trace-<trace_id>-<root_thread_id>`.
pub fn bundle_folder_name(trace_id: &str, root_thread_id: &str) -> String {
    format!("trace-{trace_id}-{root_thread_id}")
}

/// The root handle of one rollout: one bundle, shared by all its threads.
#[derive(Clone, Default)]
pub struct Recorder {
    sink: Option<Arc<Sink>>,
}

impl Recorder {
    /// A recorder that records nothing.
    pub fn disabled() -> Recorder {
        Recorder { sink: None }
    }

    /// Records under the folder named by `ROLLOUT_TRACE_ROOT` if it is set,
    /// else returns a disabled recorder. A bundle that cannot be created is
    /// reported to `options.on_error` and gives a disabled recorder.
    pub fn from_env(root_thread_id: &str, options: RecorderOptions) -> Recorder {
        let Some(root) = trace_root_from_env() else {
            return Recorder::disabled();
        };
        let on_error = Arc::clone(&options.on_error);
        match Recorder::create(root, root_thread_id, options) {
            Ok(recorder) => recorder,
            Err(error) => {
                on_error(&error);
                Recorder::disabled()
            }
        }
    }

    /// Creates the bundle `<root>/trace-<trace_id>-<root_thread_id>` and
    /// records `rollout_started`.
    pub fn create(
        root: impl AsRef<Path>,
        root_thread_id: &str,
        options: RecorderOptions,
    ) -> Result<Recorder, WriteError> {
        let trace_id = options.trace_id.unwrap_or_else(new_trace_id);
        for (what, value) in [
            ("trace id", trace_id.as_str()),
            ("root thread id", root_thread_id),
        ] {
            if value.is_empty() || value.contains(['/', '\\', '\0']) {
                return Err(WriteError::new(
                    WriteErrorKind::InvalidInput,
                    format!("{what} {value:?} cannot be part of a bundle folder name"),
                ));
            }
        }
        let folder = root
            .as_ref()
            .join(bundle_folder_name(&trace_id, root_thread_id));
        let writer = TraceWriter::create(
            folder,
            BundleIdentity::new(trace_id.clone(), root_thread_id),
            options.writer,
        )?;
        writer.append(
            EventContext::none(),
            RawTraceEventPayload::RolloutStarted {
                trace_id,
                root_thread_id: root_thread_id.to_string(),
            },
        )?;
        Ok(Recorder::with_writer(writer, options.on_error))
    }

    /// Continues recording into an existing bundle folder (see `TraceWriter::resume`).
    pub fn resume(
        bundle: impl AsRef<Path>,
        options: RecorderOptions,
    ) -> Result<Recorder, WriteError> {
        let writer = TraceWriter::resume(bundle, options.writer)?;
        Ok(Recorder::with_writer(writer, options.on_error))
    }

    /// Records through an existing writer.
    pub fn with_writer(writer: TraceWriter, on_error: ErrorHook) -> Recorder {
        Recorder {
            sink: Some(Arc::new(Sink::new(writer, on_error))),
        }
    }

    /// Whether calls are recorded: enabled and no failure so far.
    pub fn is_recording(&self) -> bool {
        self.sink.as_ref().is_some_and(|sink| sink.is_recording())
    }

    /// The bundle folder, when enabled.
    pub fn bundle_folder(&self) -> Option<&Path> {
        self.sink.as_ref().map(|sink| sink.writer().folder())
    }

    /// The writer, for events the handles do not cover (`other`, say).
    pub fn writer(&self) -> Option<&TraceWriter> {
        self.sink.as_ref().map(|sink| sink.writer())
    }

    /// Writes buffered lines now (see `FlushPolicy::Buffered`).
    pub fn flush(&self) {
        record(&self.sink, TraceWriter::flush);
    }

    /// Records the root thread's start: its metadata payload (kind
    /// `session_metadata`, §8.10) then `thread_started`.
    pub fn start_root_thread(
        &self,
        agent_path: &str,
        metadata: Option<&dyn TracePayload>,
    ) -> ThreadRecorder {
        let thread_id = self
            .sink
            .as_ref()
            .map(|sink| sink.writer().manifest().root_thread_id.clone())
            .unwrap_or_default();
        self.start_thread(&thread_id, agent_path, metadata)
    }

    /// Records the start of a thread in this rollout's bundle: the root, or
    /// a spawned child (whose metadata names its parent in
    /// `session_source.subagent.thread_spawn`).
    pub fn start_thread(
        &self,
        thread_id: &str,
        agent_path: &str,
        metadata: Option<&dyn TracePayload>,
    ) -> ThreadRecorder {
        record(&self.sink, |writer| {
            let metadata_payload =
                optional_payload(writer, RawPayloadKind::SessionMetadata, metadata)?;
            writer.append(
                EventContext::none(),
                RawTraceEventPayload::ThreadStarted {
                    thread_id: thread_id.to_string(),
                    agent_path: agent_path.to_string(),
                    metadata_payload,
                },
            )?;
            Ok(())
        });
        let is_root = self
            .sink
            .as_ref()
            .is_some_and(|sink| sink.writer().manifest().root_thread_id == thread_id);
        ThreadRecorder {
            sink: self.sink.clone(),
            thread_id: Arc::from(thread_id),
            is_root,
        }
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("bundle_folder", &self.bundle_folder())
            .field("recording", &self.is_recording())
            .finish()
    }
}

/// One thread of the rollout.
#[derive(Clone, Debug)]
pub struct ThreadRecorder {
    sink: Option<Arc<Sink>>,
    thread_id: Arc<str>,
    is_root: bool,
}

impl ThreadRecorder {
    /// The thread id (empty for the root thread of a disabled recorder).
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// Records `codex_turn_started` with the thread and turn as context.
    pub fn start_turn(&self, codex_turn_id: &str) -> TurnRecorder {
        let turn = TurnRecorder {
            sink: self.sink.clone(),
            scope: TurnScope {
                thread_id: Arc::clone(&self.thread_id),
                codex_turn_id: Arc::from(codex_turn_id),
            },
        };
        record(&self.sink, |writer| {
            writer.append(
                turn.context(),
                RawTraceEventPayload::CodexTurnStarted {
                    codex_turn_id: codex_turn_id.to_string(),
                    thread_id: self.thread_id.to_string(),
                },
            )?;
            Ok(())
        });
        turn
    }

    /// Records a protocol event (`protocol_event_observed`, no context)
    /// with its serialized form as a `protocol_event` payload.
    pub fn protocol_event(&self, event_type: &str, event: &dyn TracePayload) {
        record(&self.sink, |writer| {
            let event_payload = writer.write_payload(RawPayloadKind::ProtocolEvent, event)?;
            writer.append(
                EventContext::none(),
                RawTraceEventPayload::ProtocolEventObserved {
                    event_type: event_type.to_string(),
                    event_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `thread_ended`; for the root thread also `rollout_ended`
    /// with the same status, as the reference producer does.
    pub fn end(&self, status: RolloutStatus) {
        record(&self.sink, |writer| {
            writer.append(
                EventContext::none(),
                RawTraceEventPayload::ThreadEnded {
                    thread_id: self.thread_id.to_string(),
                    status,
                },
            )?;
            if self.is_root {
                writer.append(
                    EventContext::none(),
                    RawTraceEventPayload::RolloutEnded { status },
                )?;
            }
            Ok(())
        });
    }
}

/// One Codex turn of a thread; the events it records carry the thread and
/// the turn as envelope context.
#[derive(Clone, Debug)]
pub struct TurnRecorder {
    sink: Option<Arc<Sink>>,
    scope: TurnScope,
}

impl TurnRecorder {
    pub fn thread_id(&self) -> &str {
        &self.scope.thread_id
    }

    pub fn codex_turn_id(&self) -> &str {
        &self.scope.codex_turn_id
    }

    fn context(&self) -> EventContext {
        self.scope.context()
    }

    /// Records `inference_started` with the request body (kind
    /// `inference_request`, §8.1). The id is the caller's: upstream uses a
    /// random UUID v4 per attempt.
    pub fn start_inference(
        &self,
        inference_call_id: &str,
        model: &str,
        provider_name: &str,
        request: &dyn TracePayload,
    ) -> InferenceAttempt {
        record(&self.sink, |writer| {
            let request_payload =
                writer.write_payload(RawPayloadKind::InferenceRequest, request)?;
            writer.append(
                self.context(),
                RawTraceEventPayload::InferenceStarted {
                    inference_call_id: inference_call_id.to_string(),
                    thread_id: self.scope.thread_id.to_string(),
                    codex_turn_id: self.scope.codex_turn_id.to_string(),
                    model: model.to_string(),
                    provider_name: provider_name.to_string(),

                    request_payload,
                },
            )?;
            Ok(())
        });
        InferenceAttempt::new(self.sink.clone(), self.scope.clone(), inference_call_id)
    }

    /// Records `tool_call_started` with the invocation (kind `tool_invocation`, §8.3).
    pub fn start_tool_call(
        &self,
        start: ToolCallStart,
        invocation: Option<&dyn TracePayload>,
    ) -> ToolCallRecorder {
        ToolCallRecorder::start(self.sink.clone(), self.scope.clone(), start, invocation)
    }

    /// Records `code_cell_started` for a model-authored JavaScript cell.
    pub fn start_code_cell(
        &self,
        runtime_cell_id: &str,
        model_visible_call_id: &str,
        source_js: &str,
    ) -> CodeCellRecorder {
        CodeCellRecorder::start(
            self.sink.clone(),
            self.scope.clone(),
            runtime_cell_id,
            model_visible_call_id,
            source_js,
        )
    }

    /// A handle for one compaction checkpoint of this turn (records nothing yet).
    pub fn compaction(&self, compaction_id: &str) -> CompactionRecorder {
        CompactionRecorder::new(self.sink.clone(), self.scope.clone(), compaction_id)
    }

    /// Records that this (child) turn's result was delivered to
    /// `parent_thread_id` as the notification text `message`
    /// (`agent_result_observed`, edge id
    /// `edge:agent_result:<child>:<child turn>:<parent>`), with the result
    /// payload (kind `agent_result`, §8.9).
    pub fn agent_result(
        &self,
        parent_thread_id: &str,
        message: &str,
        payload: Option<&dyn TracePayload>,
    ) {
        record(&self.sink, |writer| {
            let carried_payload = optional_payload(writer, RawPayloadKind::AgentResult, payload)?;
            writer.append(
                self.context(),
                RawTraceEventPayload::AgentResultObserved {
                    edge_id: super::agent_result_edge_id(
                        &self.scope.thread_id,
                        &self.scope.codex_turn_id,
                        parent_thread_id,
                    ),
                    child_thread_id: self.scope.thread_id.to_string(),
                    child_codex_turn_id: self.scope.codex_turn_id.to_string(),
                    parent_thread_id: parent_thread_id.to_string(),
                    message: message.to_string(),
                    carried_payload,
                },
            )?;
            Ok(())
        });
    }

    /// Records `codex_turn_ended`.
    pub fn end(&self, status: ExecutionStatus) {
        record(&self.sink, |writer| {
            writer.append(
                self.context(),
                RawTraceEventPayload::CodexTurnEnded {
                    codex_turn_id: self.scope.codex_turn_id.to_string(),
                    status,
                },
            )?;
            Ok(())
        });
    }
}
