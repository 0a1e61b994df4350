//! Properties of the writer under any sequence of calls from several
//! threads, and under a kill at any write: the bundle always reduces, `seq`
//! is contiguous, every referenced payload is present, and a killed
//! writer's bundle reduces with `partial` to exactly what resuming it keeps.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

use crate::support::FaultyStorage;
use crate::support::check_bundle_invariants;
use crate::support::scratch_folder;
use crate::support::session::ROOT;
use crate::support::session::TRACE_ID;
use crate::support::session::record_full_session;
use proptest::prelude::*;
use rollout_trace::ReduceOptions;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::model::RolloutStatus;
use rollout_trace::model::ToolCallKind;
use rollout_trace::model::ToolCallSummary;
use rollout_trace::raw::RawToolCallRequester;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::BundleIdentity;
use rollout_trace::writer::EventContext;
use rollout_trace::writer::FlushPolicy;
use rollout_trace::writer::Recorder;
use rollout_trace::writer::RecorderOptions;
use rollout_trace::writer::SteppingClock;
use rollout_trace::writer::TraceWriter;
use rollout_trace::writer::WriteError;
use rollout_trace::writer::WriteErrorKind;
use rollout_trace::writer::WriterOptions;
use serde_json::Value;

/// One tool call inside a turn; every payload is optional where the format allows.
#[derive(Debug, Clone)]
struct ToolOp {
    invocation: Option<Value>,
    runtime: Option<(Value, Value)>,
    result: Option<Value>,
}

#[derive(Debug, Clone)]
enum ThreadOp {
    Protocol(Value),
    Turn(Vec<ToolOp>),
    Flush,
}

/// What one OS thread records: its own agent thread, started and ended.
#[derive(Debug, Clone)]
struct ThreadProgram {
    metadata: Option<Value>,
    ops: Vec<ThreadOp>,
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            json_object(inner),
        ]
    })
}

/// Objects with short keys that never collide with members the reducer
/// reads (`tool_name`, `agent_thread_id`, `agent_path`, ...).
fn json_object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-e]{1,3}", inner, 0..4)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

fn tool_op() -> impl Strategy<Value = ToolOp> {
    (
        prop::option::of(json_object(json_value())),
        prop::option::of((json_value(), json_object(json_value()))),
        prop::option::of(json_value()),
    )
        .prop_map(|(invocation, runtime, result)| ToolOp {
            invocation,
            runtime,
            result,
        })
}

fn thread_program() -> impl Strategy<Value = ThreadProgram> {
    let op = prop_oneof![
        json_value().prop_map(ThreadOp::Protocol),
        prop::collection::vec(tool_op(), 0..3).prop_map(ThreadOp::Turn),
        Just(ThreadOp::Flush),
    ];
    (
        prop::option::of(json_object(json_value())),
        prop::collection::vec(op, 0..6),
    )
        .prop_map(|(metadata, ops)| ThreadProgram { metadata, ops })
}

fn flush_policy() -> impl Strategy<Value = FlushPolicy> {
    prop_oneof![
        Just(FlushPolicy::EveryEvent),
        Just(FlushPolicy::EveryEventSynced),
        (1usize..2000).prop_map(|capacity_bytes| FlushPolicy::Buffered { capacity_bytes }),
    ]
}

fn identity() -> BundleIdentity {
    BundleIdentity::new("trace-1", "thread-root")
}

/// Runs thread `index`'s program through the writer, stopping at the first error.
fn run_thread(
    writer: &TraceWriter,
    index: usize,
    program: &ThreadProgram,
) -> Result<(), WriteError> {
    let thread_id = format!("thread-{index}");
    let none = EventContext::none;
    let metadata_payload = program
        .metadata
        .as_ref()
        .map(|value| writer.write_payload(RawPayloadKind::SessionMetadata, value))
        .transpose()?;
    writer.append(
        none(),
        RawTraceEventPayload::ThreadStarted {
            thread_id: thread_id.clone(),
            agent_path: format!("/root/t{index}"),
            metadata_payload,
        },
    )?;
    let mut tools = 0;
    for (turn_index, op) in program.ops.iter().enumerate() {
        match op {
            ThreadOp::Protocol(value) => {
                let event_payload = writer.write_payload(RawPayloadKind::ProtocolEvent, value)?;
                writer.append(
                    none(),
                    RawTraceEventPayload::ProtocolEventObserved {
                        event_type: "warning".to_string(),
                        event_payload,
                    },
                )?;
            }
            ThreadOp::Flush => writer.flush()?,
            ThreadOp::Turn(tool_ops) => {
                let turn_id = format!("turn-{index}-{turn_index}");
                let context = || EventContext::turn(thread_id.as_str(), turn_id.as_str());
                writer.append(
                    context(),
                    RawTraceEventPayload::CodexTurnStarted {
                        codex_turn_id: turn_id.clone(),
                        thread_id: thread_id.clone(),
                    },
                )?;
                for tool in tool_ops {
                    tools += 1;
                    let tool_call_id = format!("tool-{index}-{tools}");
                    let invocation_payload = tool
                        .invocation
                        .as_ref()
                        .map(|value| writer.write_payload(RawPayloadKind::ToolInvocation, value))
                        .transpose()?;
                    writer.append(
                        context(),
                        RawTraceEventPayload::ToolCallStarted {
                            tool_call_id: tool_call_id.clone(),
                            model_visible_call_id: None,
                            code_mode_runtime_tool_id: None,
                            requester: RawToolCallRequester::Model,
                            kind: ToolCallKind::Other {
                                name: "probe".to_string(),
                            },
                            summary: ToolCallSummary::Generic {
                                label: "probe".to_string(),
                                input_preview: None,
                                output_preview: None,
                            },
                            invocation_payload,
                        },
                    )?;
                    if let Some((begin, end)) = &tool.runtime {
                        let runtime_payload =
                            writer.write_payload(RawPayloadKind::ToolRuntimeEvent, begin)?;
                        writer.append(
                            context(),
                            RawTraceEventPayload::ToolCallRuntimeStarted {
                                tool_call_id: tool_call_id.clone(),
                                runtime_payload,
                            },
                        )?;
                        let runtime_payload =
                            writer.write_payload(RawPayloadKind::ToolRuntimeEvent, end)?;
                        writer.append(
                            context(),
                            RawTraceEventPayload::ToolCallRuntimeEnded {
                                tool_call_id: tool_call_id.clone(),
                                status: ExecutionStatus::Completed,
                                runtime_payload,
                            },
                        )?;
                    }
                    let result_payload = tool
                        .result
                        .as_ref()
                        .map(|value| writer.write_payload(RawPayloadKind::ToolResult, value))
                        .transpose()?;
                    writer.append(
                        context(),
                        RawTraceEventPayload::ToolCallEnded {
                            tool_call_id,
                            status: ExecutionStatus::Completed,
                            result_payload,
                        },
                    )?;
                }
                writer.append(
                    context(),
                    RawTraceEventPayload::CodexTurnEnded {
                        codex_turn_id: turn_id,
                        status: ExecutionStatus::Completed,
                    },
                )?;
            }
        }
    }
    writer.append(
        none(),
        RawTraceEventPayload::ThreadEnded {
            thread_id,
            status: RolloutStatus::Completed,
        },
    )?;
    Ok(())
}

/// Runs every program on its own OS thread; returns the first error of each.
fn run_programs(writer: &Arc<TraceWriter>, programs: &[ThreadProgram]) -> Vec<Option<WriteError>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = programs
            .iter()
            .enumerate()
            .map(|(index, program)| {
                let writer = Arc::clone(writer);
                scope.spawn(move || run_thread(&writer, index, program).err())
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a recording thread panicked"))
            .collect()
    })
}

/// The event types a thread writes with its context, in order (protocol
/// events carry none).
fn expected_types(program: &ThreadProgram) -> Vec<String> {
    let mut types = vec!["thread_started".to_string()];
    for op in &program.ops {
        match op {
            ThreadOp::Protocol(_) | ThreadOp::Flush => {}
            ThreadOp::Turn(tools) => {
                types.push("codex_turn_started".to_string());
                for tool in tools {
                    types.push("tool_call_started".to_string());
                    if tool.runtime.is_some() {
                        types.push("tool_call_runtime_started".to_string());
                        types.push("tool_call_runtime_ended".to_string());
                    }
                    types.push("tool_call_ended".to_string());
                }
                types.push("codex_turn_ended".to_string());
            }
        }
    }
    types.push("thread_ended".to_string());
    types
}

/// The thread an event of these programs belongs to; none for protocol
/// events, which carry no context.
fn owner(event: &rollout_trace::raw::RawTraceEvent) -> Option<&str> {
    match &event.payload {
        RawTraceEventPayload::ThreadStarted { thread_id, .. }
        | RawTraceEventPayload::ThreadEnded { thread_id, .. } => Some(thread_id),
        _ => event.thread_id.as_deref(),
    }
}

fn payload_files(bundle: &Path) -> BTreeSet<String> {
    fs::read_dir(bundle.join("payloads"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

fn partial() -> ReduceOptions {
    ReduceOptions {
        partial: true,
        ..ReduceOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of writer calls from several threads gives a bundle the
    /// reducer accepts, with seq contiguous in file order, each thread's
    /// events in its own order, and exactly the written payloads present.
    #[test]
    fn any_interleaving_of_writer_calls_reduces(
        programs in prop::collection::vec(thread_program(), 1..5),
        flush in flush_policy(),
    ) {
        let scratch = scratch_folder("prop-any");
        let options = WriterOptions::default().with_flush(flush);
        let writer = Arc::new(TraceWriter::create(scratch.path(), identity(), options).expect("create"));
        let errors = run_programs(&writer, &programs);
        prop_assert!(errors.iter().all(Option::is_none), "{errors:?}");
        let payloads_written = writer.next_payload_ordinal() - 1;
        drop(writer);

        let events = check_bundle_invariants(scratch.path());
        let expected: Vec<Vec<String>> = programs.iter().map(expected_types).collect();
        let protocol_events = programs
            .iter()
            .flat_map(|program| &program.ops)
            .filter(|op| matches!(op, ThreadOp::Protocol(_)))
            .count();
        prop_assert_eq!(events.len(), expected.iter().map(Vec::len).sum::<usize>() + protocol_events);
        for (index, types) in expected.iter().enumerate() {
            let thread_id = format!("thread-{index}");
            let seen: Vec<String> = events
                .iter()
                .filter(|event| owner(event) == Some(thread_id.as_str()))
                .map(|event| event.payload.type_name().to_string())
                .collect();
            prop_assert_eq!(&seen, types);
        }
        let files = payload_files(scratch.path());
        let numbered: BTreeSet<String> = (1..=payloads_written).map(|n| format!("{n}.json")).collect();
        prop_assert_eq!(files, numbered);

        let reduction = rollout_trace::reduce_bundle(scratch.path()).expect("strict reduction");
        let referenced: BTreeSet<String> = events
            .iter()
            .flat_map(|event| event.payload.payload_refs())
            .map(|payload| payload.raw_payload_id.clone())
            .collect();
        prop_assert_eq!(reduction.trace.raw_payloads.keys().cloned().collect::<BTreeSet<_>>(), referenced);
        prop_assert_eq!(reduction.trace.threads.len(), programs.len());
    }

    /// Killing the writer at any write (a whole-file write is left as its
    /// temporary, an append keeps only its first bytes) leaves a bundle whose
    /// complete lines are contiguous with their payloads present, that
    /// `partial` reduces, and that resumes to exactly that state.
    #[test]
    fn killing_the_writer_at_any_write_leaves_a_reducible_bundle(
        programs in prop::collection::vec(thread_program(), 1..4),
        flush in flush_policy(),
        kill_at in 0.0f64..1.0,
        tear_permille in 0u64..1000,
    ) {
        // A full run tells how many storage operations the programs take.
        let total = {
            let scratch = scratch_folder("prop-count");
            let storage = FaultyStorage::unlimited();
            let options = WriterOptions::default().with_flush(flush).with_storage(storage.clone());
            let writer = Arc::new(TraceWriter::create(scratch.path(), identity(), options).expect("create"));
            run_programs(&writer, &programs);
            drop(writer);
            storage.operations()
        };
        let budget = (kill_at * (total + 1) as f64) as u64;
        let scratch = scratch_folder("prop-kill");
        let storage = FaultyStorage::dying_after(budget, tear_permille);
        let options = WriterOptions::default().with_flush(flush).with_storage(storage.clone());
        match TraceWriter::create(scratch.path(), identity(), options) {
            Ok(writer) => {
                let writer = Arc::new(writer);
                run_programs(&writer, &programs);
            }
            Err(error) => {
                // Killed while creating: no event can exist yet.
                prop_assert_eq!(error.kind(), WriteErrorKind::Io);
                let log = fs::read(scratch.path().join("trace.jsonl")).unwrap_or_default();
                prop_assert!(log.is_empty());
                if !scratch.path().join("manifest.json").exists() {
                    let error = TraceWriter::resume(scratch.path(), WriterOptions::default())
                        .expect_err("no manifest, no bundle");
                    prop_assert_eq!(error.kind(), WriteErrorKind::NotABundle);
                    return Ok(());
                }
            }
        }

        let events = check_bundle_invariants(scratch.path());
        let log = fs::read(scratch.path().join("trace.jsonl")).expect("read the log");
        let complete: usize = log
            .split_inclusive(|&byte| byte == b'\n')
            .take(events.len())
            .map(<[u8]>::len)
            .sum();
        prop_assert!(!log[complete..].contains(&b'\n'), "only the last line may be damaged");

        let damaged = rollout_trace::reduce_bundle_with(scratch.path(), &partial()).expect("partial reduction");
        let resumed = TraceWriter::resume(scratch.path(), WriterOptions::default()).expect("resume");
        prop_assert_eq!(resumed.next_seq(), events.len() as u64 + 1);
        prop_assert_eq!(resumed.resume_report().map(|report| report.cut_bytes), Some((log.len() - complete) as u64));
        drop(resumed);
        let repaired = rollout_trace::reduce_bundle(scratch.path()).expect("strict reduction after resume");
        prop_assert_eq!(&damaged.trace, &repaired.trace);

        let resumed = TraceWriter::resume(scratch.path(), WriterOptions::default()).expect("resume again");
        let event_payload = resumed
            .write_payload(RawPayloadKind::ProtocolEvent, &serde_json::json!({"after": "resume"}))
            .expect("payload after resume");
        resumed
            .append(EventContext::none(), RawTraceEventPayload::ProtocolEventObserved {
                event_type: "warning".to_string(),
                event_payload,
            })
            .expect("append after resume");
        drop(resumed);
        prop_assert_eq!(check_bundle_invariants(scratch.path()).len(), events.len() + 1);
        rollout_trace::reduce_bundle(scratch.path()).expect("strict reduction after new events");
    }
}

/// The handles' full session, killed at every one of its storage
/// operations in turn (appends torn at their start, in their middle and
/// just before their newline):
/// the first failure is reported exactly once, the caller never sees an
/// error, and what is on disk reduces with `partial` to what resume keeps.
#[test]
fn handles_survive_a_kill_at_every_write() {
    let options = |storage: FaultyStorage, reports: Arc<AtomicUsize>| {
        RecorderOptions::default()
            .with_trace_id(TRACE_ID)
            .with_writer(
                WriterOptions::default()
                    .with_clock(SteppingClock::new(1000, 1))
                    .with_storage(storage),
            )
            .with_on_error(move |_| {
                reports.fetch_add(1, Ordering::SeqCst);
            })
    };
    let total = {
        let scratch = scratch_folder("kill-count");
        let storage = FaultyStorage::unlimited();
        let recorder = Recorder::create(
            scratch.path(),
            ROOT,
            options(storage.clone(), Arc::default()),
        )
        .expect("create");
        record_full_session(&recorder);
        drop(recorder);
        storage.operations()
    };
    assert!(total > 60, "the session takes {total} operations");
    for budget in 0..total {
        for tear_permille in [0, 500, 999] {
            let scratch = scratch_folder("kill");
            let reports = Arc::new(AtomicUsize::new(0));
            let storage = FaultyStorage::dying_after(budget, tear_permille);
            let Ok(recorder) = Recorder::create(
                scratch.path(),
                ROOT,
                options(storage.clone(), Arc::clone(&reports)),
            ) else {
                continue;
            };
            record_full_session(&recorder);
            drop(recorder);
            assert!(storage.died(), "budget {budget}");
            assert_eq!(reports.load(Ordering::SeqCst), 1, "budget {budget}");

            let bundle = fs::read_dir(scratch.path())
                .expect("list the root")
                .next()
                .expect("the bundle folder")
                .expect("an entry")
                .path();
            let events = check_bundle_invariants(&bundle);
            let damaged = rollout_trace::reduce_bundle_with(&bundle, &partial())
                .unwrap_or_else(|error| panic!("budget {budget}: {error}"));
            let resumed = Recorder::resume(&bundle, RecorderOptions::default())
                .unwrap_or_else(|error| panic!("budget {budget}: {error}"));
            assert_eq!(
                resumed.writer().map(TraceWriter::next_seq),
                Some(events.len() as u64 + 1)
            );
            drop(resumed);
            let repaired = rollout_trace::reduce_bundle(&bundle)
                .unwrap_or_else(|error| panic!("budget {budget}: {error}"));
            assert_eq!(damaged.trace, repaired.trace, "budget {budget}");
        }
    }
}
