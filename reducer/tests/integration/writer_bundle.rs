//! The bundle a `TraceWriter` leaves on disk: layout and numbering as the
//! reference writer's, refusal of existing bundles, resume, flush policies,
//! failure handling and concurrent appends.

use std::fs;
use std::sync::Arc;

use crate::support::FaultyStorage;
use crate::support::Op;
use crate::support::check_bundle_invariants;
use crate::support::scratch_folder;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::model::RolloutStatus;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::BundleIdentity;
use rollout_trace::writer::EventContext;
use rollout_trace::writer::FlushPolicy;
use rollout_trace::writer::SteppingClock;
use rollout_trace::writer::TraceWriter;
use rollout_trace::writer::WriteErrorKind;
use rollout_trace::writer::WriterOptions;
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn fixture_identity() -> BundleIdentity {
    BundleIdentity {
        trace_id: "trace-1".to_string(),
        rollout_id: "rollout-1".to_string(),
        root_thread_id: "thread-root".to_string(),
    }
}

fn stepping() -> WriterOptions {
    WriterOptions::default().with_clock(SteppingClock::new(1000, 1))
}

fn protocol_event(writer: &TraceWriter, n: u64) -> Result<u64, rollout_trace::writer::WriteError> {
    let event_payload = writer.write_payload(RawPayloadKind::ProtocolEvent, &json!({ "n": n }))?;
    writer.append(
        EventContext::none(),
        RawTraceEventPayload::ProtocolEventObserved {
            event_type: "warning".to_string(),
            event_payload,
        },
    )
}

/// Replaces the scratch folder's path in a message, so it can be compared.
fn redact(text: &str, folder: &tempfile::TempDir) -> String {
    text.replace(&folder.path().display().to_string(), "<tmp>")
}

const S01_MANIFEST: &str = r#"{
  "schema_version": 1,
  "trace_id": "trace-1",
  "rollout_id": "rollout-1",
  "root_thread_id": "thread-root",
  "started_at_unix_ms": 1000,
  "raw_event_log": "trace.jsonl",
  "payloads_dir": "payloads"
}"#;

const S01_TRACE: &str = r#"{"schema_version":1,"seq":1,"wall_time_unix_ms":1001,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"rollout_started","trace_id":"trace-1","root_thread_id":"thread-root"}}
{"schema_version":1,"seq":2,"wall_time_unix_ms":1002,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"thread_started","thread_id":"thread-root","agent_path":"/root","metadata_payload":{"raw_payload_id":"raw_payload:1","kind":{"type":"protocol_event"},"path":"payloads/1.json"}}}
{"schema_version":1,"seq":3,"wall_time_unix_ms":1003,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"codex_turn_started","codex_turn_id":"turn-1","thread_id":"thread-root"}}
{"schema_version":1,"seq":4,"wall_time_unix_ms":1004,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"inference_started","inference_call_id":"inference-1","thread_id":"thread-root","codex_turn_id":"turn-1","model":"gpt-test","provider_name":"test-provider","request_payload":{"raw_payload_id":"raw_payload:2","kind":{"type":"inference_request"},"path":"payloads/2.json"}}}
{"schema_version":1,"seq":5,"wall_time_unix_ms":1005,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"inference_completed","inference_call_id":"inference-1","response_id":"resp-1","upstream_request_id":"req-1","response_payload":{"raw_payload_id":"raw_payload:3","kind":{"type":"inference_response"},"path":"payloads/3.json"}}}
{"schema_version":1,"seq":6,"wall_time_unix_ms":1006,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"codex_turn_ended","codex_turn_id":"turn-1","status":"completed"}}
{"schema_version":1,"seq":7,"wall_time_unix_ms":1007,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"rollout_ended","status":"completed"}}
"#;

const S01_REQUEST: &str = r#"{
  "model": "gpt-test",
  "input": [
    {
      "type": "message",
      "role": "user",
      "content": [
        {
          "type": "input_text",
          "text": "hello"
        }
      ]
    }
  ]
}"#;

/// Scenario S01 written through the writer gives the reference writer's
/// bytes: manifest, payload files and event lines, numbering included.
#[test]
fn s01_bundle_has_the_reference_writer_bytes() -> TestResult {
    let scratch = scratch_folder("s01");
    let bundle = scratch.path().join("bundle");
    let writer = TraceWriter::create(&bundle, fixture_identity(), stepping())?;
    let none = EventContext::none;
    writer.append(
        none(),
        RawTraceEventPayload::RolloutStarted {
            trace_id: "trace-1".to_string(),
            root_thread_id: "thread-root".to_string(),
        },
    )?;
    let metadata = writer.write_payload(
        RawPayloadKind::ProtocolEvent,
        &json!({"source": "test", "model": "gpt-test"}),
    )?;
    writer.append(
        none(),
        RawTraceEventPayload::ThreadStarted {
            thread_id: "thread-root".to_string(),
            agent_path: "/root".to_string(),
            metadata_payload: Some(metadata),
        },
    )?;
    writer.append(
        none(),
        RawTraceEventPayload::CodexTurnStarted {
            codex_turn_id: "turn-1".to_string(),
            thread_id: "thread-root".to_string(),
        },
    )?;
    let request = writer.write_payload(
        RawPayloadKind::InferenceRequest,
        &json!({"model": "gpt-test", "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
        ]}),
    )?;
    writer.append(
        none(),
        RawTraceEventPayload::InferenceStarted {
            inference_call_id: "inference-1".to_string(),
            thread_id: "thread-root".to_string(),
            codex_turn_id: "turn-1".to_string(),
            model: "gpt-test".to_string(),
            provider_name: "test-provider".to_string(),

            request_payload: request,
        },
    )?;
    let response = writer.write_payload(
        RawPayloadKind::InferenceResponse,
        &json!({"response_id": "resp-1", "output_items": []}),
    )?;
    writer.append(
        none(),
        RawTraceEventPayload::InferenceCompleted {
            inference_call_id: "inference-1".to_string(),
            response_id: Some("resp-1".to_string()),
            upstream_request_id: Some("req-1".to_string()),
            response_payload: response,
        },
    )?;
    writer.append(
        none(),
        RawTraceEventPayload::CodexTurnEnded {
            codex_turn_id: "turn-1".to_string(),
            status: ExecutionStatus::Completed,
        },
    )?;
    writer.append(
        none(),
        RawTraceEventPayload::RolloutEnded {
            status: RolloutStatus::Completed,
        },
    )?;
    drop(writer);

    assert_eq!(
        fs::read_to_string(bundle.join("manifest.json"))?,
        S01_MANIFEST
    );
    assert_eq!(fs::read_to_string(bundle.join("trace.jsonl"))?, S01_TRACE);
    assert_eq!(
        fs::read_to_string(bundle.join("payloads/1.json"))?,
        "{\n  \"source\": \"test\",\n  \"model\": \"gpt-test\"\n}"
    );
    assert_eq!(
        fs::read_to_string(bundle.join("payloads/2.json"))?,
        S01_REQUEST
    );
    assert_eq!(
        fs::read_to_string(bundle.join("payloads/3.json"))?,
        "{\n  \"response_id\": \"resp-1\",\n  \"output_items\": []\n}"
    );
    let mut names: Vec<String> = fs::read_dir(bundle.join("payloads"))?
        .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    assert_eq!(names, ["1.json", "2.json", "3.json"]);
    rollout_trace::reduce_bundle(&bundle)?;
    Ok(())
}

/// Payload ordinals and seq are two counters, both starting at 1.
#[test]
fn payload_numbering_is_independent_of_seq() -> TestResult {
    let scratch = scratch_folder("numbering");
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
    let first = writer.write_payload(RawPayloadKind::ToolResult, &json!(1))?;
    let second = writer.write_payload(RawPayloadKind::ToolInvocation, &json!(2))?;
    let seq = protocol_event(&writer, 3)?;
    assert_eq!(
        (
            first.raw_payload_id.as_str(),
            first.path.as_str(),
            first.kind
        ),
        (
            "raw_payload:1",
            "payloads/1.json",
            RawPayloadKind::ToolResult
        )
    );
    assert_eq!(
        (second.raw_payload_id.as_str(), second.path.as_str()),
        ("raw_payload:2", "payloads/2.json")
    );
    assert_eq!(seq, 1);
    assert_eq!((writer.next_seq(), writer.next_payload_ordinal()), (2, 4));
    Ok(())
}

/// `create` never writes into a folder that holds any part of a bundle, and
/// leaves what is there untouched; an empty existing folder is fine.
#[test]
fn create_refuses_a_folder_that_holds_a_bundle() -> TestResult {
    for (existing, expected) in [
        (
            "manifest.json",
            "bundle folder <tmp> already holds a bundle (manifest.json exists): resume it with TraceWriter::resume or choose another folder",
        ),
        (
            "trace.jsonl",
            "bundle folder <tmp> already holds a bundle (trace.jsonl exists): resume it with TraceWriter::resume or choose another folder",
        ),
        (
            "payloads/1.json",
            "bundle folder <tmp> already holds a bundle (payloads/1.json exists): resume it with TraceWriter::resume or choose another folder",
        ),
    ] {
        let scratch = scratch_folder("refuse");
        fs::create_dir_all(scratch.path().join("payloads"))?;
        fs::write(scratch.path().join(existing), "old")?;
        let error = TraceWriter::create(scratch.path(), fixture_identity(), stepping())
            .expect_err("an existing bundle is refused");
        assert_eq!(error.kind(), WriteErrorKind::BundleExists);
        assert_eq!(redact(&error.to_string(), &scratch), expected);
        assert_eq!(fs::read_to_string(scratch.path().join(existing))?, "old");
    }
    let empty = scratch_folder("empty");
    fs::create_dir_all(empty.path().join("payloads"))?;
    TraceWriter::create(empty.path(), fixture_identity(), stepping())?;
    assert!(empty.path().join("manifest.json").is_file());
    Ok(())
}

/// Resuming continues both counters, keeps the manifest, and the result
/// reduces with seq checked.
#[test]
fn resume_continues_seq_and_payload_numbering() -> TestResult {
    let scratch = scratch_folder("resume");
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
    for n in 1..=3 {
        protocol_event(&writer, n)?;
    }
    drop(writer);
    let manifest = fs::read(scratch.path().join("manifest.json"))?;

    let writer = TraceWriter::resume(scratch.path(), stepping())?;
    assert_eq!((writer.next_seq(), writer.next_payload_ordinal()), (4, 4));
    assert_eq!(
        writer.resume_report(),
        Some(&rollout_trace::writer::ResumeReport {
            kept_events: 3,
            cut_bytes: 0,
            cut_reason: None,
            added_newline: false,
        })
    );
    assert_eq!(protocol_event(&writer, 4)?, 4);
    drop(writer);

    assert_eq!(fs::read(scratch.path().join("manifest.json"))?, manifest);
    let events = check_bundle_invariants(scratch.path());
    assert_eq!(events.len(), 4);
    let reduction = rollout_trace::reduce_bundle(scratch.path())?;
    assert_eq!(
        reduction.trace.raw_payloads.keys().collect::<Vec<_>>(),
        [
            "raw_payload:1",
            "raw_payload:2",
            "raw_payload:3",
            "raw_payload:4"
        ]
    );
    Ok(())
}

/// A crash leaves at most one damaged line at the end; resume cuts it (and
/// nothing else) and continues after the last complete event.
#[test]
fn resume_cuts_a_damaged_last_line() -> TestResult {
    for (damage, reason) in [
        (
            r#"{"schema_version":1,"seq":4,"wall_ti"#.to_string(),
            "trace.jsonl:4 has no newline",
        ),
        (
            "{\"schema_version\":1,\"seq\"\n".to_string(),
            "trace.jsonl:4 does not decode as an event: EOF while parsing an object at line 1 column 25",
        ),
        ("\0\0\0\0".to_string(), "trace.jsonl:4 has no newline"),
        (
            "garbage\n{\"half".to_string(),
            "trace.jsonl:4 does not decode as an event: expected value at line 1 column 1",
        ),
    ] {
        let scratch = scratch_folder("cut");
        let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
        for n in 1..=3 {
            protocol_event(&writer, n)?;
        }
        drop(writer);
        let complete = fs::read(scratch.path().join("trace.jsonl"))?;
        let mut damaged = complete.clone();
        damaged.extend_from_slice(damage.as_bytes());
        fs::write(scratch.path().join("trace.jsonl"), &damaged)?;

        let writer = TraceWriter::resume(scratch.path(), stepping())?;
        assert_eq!(
            writer.resume_report(),
            Some(&rollout_trace::writer::ResumeReport {
                kept_events: 3,
                cut_bytes: damage.len() as u64,
                cut_reason: Some(reason.to_string()),
                added_newline: false,
            })
        );
        assert_eq!(fs::read(scratch.path().join("trace.jsonl"))?, complete);
        assert_eq!(protocol_event(&writer, 4)?, 4);
        drop(writer);
        assert_eq!(check_bundle_invariants(scratch.path()).len(), 4);
        rollout_trace::reduce_bundle(scratch.path())?;
    }
    Ok(())
}

/// A crash between an event and its newline leaves a complete event: the
/// reducer reads it, so resume keeps it and adds the newline.
#[test]
fn resume_keeps_a_last_event_that_lost_its_newline() -> TestResult {
    let scratch = scratch_folder("newline");
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
    for n in 1..=2 {
        protocol_event(&writer, n)?;
    }
    drop(writer);
    let trace = scratch.path().join("trace.jsonl");
    let complete = fs::read(&trace)?;
    fs::write(&trace, &complete[..complete.len() - 1])?;
    let partial = rollout_trace::ReduceOptions {
        partial: true,
        ..Default::default()
    };
    let before = rollout_trace::reduce_bundle_with(scratch.path(), &partial)?;

    let writer = TraceWriter::resume(scratch.path(), stepping())?;
    assert_eq!(
        writer.resume_report(),
        Some(&rollout_trace::writer::ResumeReport {
            kept_events: 2,
            cut_bytes: 0,
            cut_reason: None,
            added_newline: true,
        })
    );
    assert_eq!(fs::read(&trace)?, complete);
    drop(writer);
    assert_eq!(
        rollout_trace::reduce_bundle(scratch.path())?.trace,
        before.trace
    );
    Ok(())
}

/// Damage followed by a complete event is not a crash's doing: resume
/// refuses rather than cutting events, and so it does for a seq fault.
#[test]
fn resume_refuses_to_cut_complete_events() -> TestResult {
    let scratch = scratch_folder("refuse-cut");
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
    for n in 1..=3 {
        protocol_event(&writer, n)?;
    }
    drop(writer);
    let text = fs::read_to_string(scratch.path().join("trace.jsonl"))?;
    let lines: Vec<&str> = text.lines().collect();
    let trace = scratch.path().join("trace.jsonl");

    fs::write(&trace, format!("{}\ngarbage\n{}\n", lines[0], lines[1]))?;
    let error = TraceWriter::resume(scratch.path(), stepping()).expect_err("damage in the middle");
    assert_eq!(error.kind(), WriteErrorKind::DamagedLog);
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "resume <tmp>/trace.jsonl: trace.jsonl:2 is damaged (does not decode as an event: expected value at line 1 column 1) but trace.jsonl:3 after it is a complete event; refusing to cut complete events (repair the log by hand)"
    );

    fs::write(&trace, format!("{}\n{}\n", lines[0], lines[2]))?;
    let error = TraceWriter::resume(scratch.path(), stepping()).expect_err("a seq gap");
    assert_eq!(error.kind(), WriteErrorKind::DamagedLog);
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "resume <tmp>/trace.jsonl: trace.jsonl:2 has seq 3 after seq 1; seq must grow by one per event (was the log written by another writer?), so continuing it would not reduce"
    );
    assert_eq!(
        fs::read_to_string(&trace)?,
        format!("{}\n{}\n", lines[0], lines[2])
    );
    Ok(())
}

#[test]
fn resume_needs_a_manifest() -> TestResult {
    let scratch = scratch_folder("no-manifest");
    let error = TraceWriter::resume(scratch.path(), stepping()).expect_err("no manifest");
    assert_eq!(error.kind(), WriteErrorKind::NotABundle);
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "resume <tmp>: no manifest.json, so it is not a bundle (create one with TraceWriter::create)"
    );
    fs::write(scratch.path().join("manifest.json"), "{}")?;
    let error = TraceWriter::resume(scratch.path(), stepping()).expect_err("bad manifest");
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "resume <tmp>: manifest.json does not decode: missing field `schema_version` at line 1 column 2"
    );
    Ok(())
}

/// A payload written just before a crash has no event, but its number is
/// taken: resume numbers after the highest file, so it is never overwritten.
#[test]
fn resume_numbers_payloads_after_orphan_files() -> TestResult {
    let scratch = scratch_folder("orphan");
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
    protocol_event(&writer, 1)?;
    writer.write_payload(RawPayloadKind::ToolResult, &json!("orphan"))?;
    drop(writer);
    fs::write(scratch.path().join("payloads/.7.json.tmp"), "{")?;
    fs::write(scratch.path().join("payloads/notes.json"), "{}")?;

    let writer = TraceWriter::resume(scratch.path(), stepping())?;
    assert_eq!((writer.next_seq(), writer.next_payload_ordinal()), (2, 3));
    Ok(())
}

/// `EveryEvent`: each line is in the file when `append` returns.
#[test]
fn every_event_policy_writes_each_line_before_append_returns() -> TestResult {
    let scratch = scratch_folder("every-event");
    let storage = FaultyStorage::unlimited();
    let options = stepping().with_storage(storage.clone());
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), options)?;
    for n in 1..=3 {
        protocol_event(&writer, n)?;
        assert_eq!(check_bundle_invariants(scratch.path()).len() as u64, n);
    }
    assert_eq!(
        storage.journal(),
        [
            Op::CreateDir("payloads".to_string()),
            Op::CreateLog,
            Op::WriteFile {
                name: "manifest.json".to_string(),
                sync: false
            },
            Op::WriteFile {
                name: "payloads/1.json".to_string(),
                sync: false
            },
            Op::Append { bytes: 294 },
            Op::WriteFile {
                name: "payloads/2.json".to_string(),
                sync: false
            },
            Op::Append { bytes: 294 },
            Op::WriteFile {
                name: "payloads/3.json".to_string(),
                sync: false
            },
            Op::Append { bytes: 294 },
        ]
    );
    Ok(())
}

/// `EveryEventSynced`: payload files and lines are synced as they are written.
#[test]
fn synced_policy_syncs_payloads_and_lines() -> TestResult {
    let scratch = scratch_folder("synced");
    let storage = FaultyStorage::unlimited();
    let options = stepping()
        .with_flush(FlushPolicy::EveryEventSynced)
        .with_storage(storage.clone());
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), options)?;
    protocol_event(&writer, 1)?;
    assert_eq!(
        storage.journal(),
        [
            Op::CreateDir("payloads".to_string()),
            Op::CreateLog,
            Op::WriteFile {
                name: "manifest.json".to_string(),
                sync: true
            },
            Op::WriteFile {
                name: "payloads/1.json".to_string(),
                sync: true
            },
            Op::Append { bytes: 294 },
            Op::Sync,
        ]
    );
    Ok(())
}

/// `Buffered`: lines wait in memory until the buffer fills, `flush` is
/// called or the writer is dropped; payload files never wait.
#[test]
fn buffered_policy_writes_on_capacity_flush_and_drop() -> TestResult {
    let scratch = scratch_folder("buffered");
    let options = stepping().with_flush(FlushPolicy::Buffered {
        capacity_bytes: 600,
    });
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), options)?;
    let lines = |_: ()| check_bundle_invariants(scratch.path()).len();

    protocol_event(&writer, 1)?;
    protocol_event(&writer, 2)?;
    assert!(scratch.path().join("payloads/2.json").is_file());
    assert_eq!(lines(()), 0, "two 294-byte lines stay under 600 bytes");
    protocol_event(&writer, 3)?;
    assert_eq!(lines(()), 3, "the third line fills the buffer");
    protocol_event(&writer, 4)?;
    assert_eq!(lines(()), 3);
    writer.flush()?;
    assert_eq!(lines(()), 4, "flush writes what is buffered");
    protocol_event(&writer, 5)?;
    assert_eq!(lines(()), 4);
    drop(writer);
    assert_eq!(lines(()), 5, "drop writes what is buffered");
    rollout_trace::reduce_bundle(scratch.path())?;
    Ok(())
}

/// After the log refused a write, nothing more is written and every call
/// says why; what is on disk reduces with `partial`.
#[test]
fn a_failed_append_stops_the_writer() -> TestResult {
    let scratch = scratch_folder("stopped");
    // create: 3 operations; then payload 1, line 1, payload 2; line 2 is torn.
    let storage = FaultyStorage::dying_after(6, 500);
    let options = stepping().with_storage(storage);
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), options)?;
    protocol_event(&writer, 1)?;
    let error = protocol_event(&writer, 2).expect_err("the log dies");
    assert_eq!(error.kind(), WriteErrorKind::Io);
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "append event seq 2 to <tmp>/trace.jsonl: killed by the test"
    );
    let error = protocol_event(&writer, 3).expect_err("the writer stopped");
    assert_eq!(error.kind(), WriteErrorKind::Stopped);
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "trace writer for <tmp> stopped after an earlier failure (append event seq 2 to <tmp>/trace.jsonl: killed by the test)"
    );
    drop(writer);
    assert_eq!(check_bundle_invariants(scratch.path()).len(), 1);
    let options = rollout_trace::ReduceOptions {
        partial: true,
        ..Default::default()
    };
    let reduction = rollout_trace::reduce_bundle_with(scratch.path(), &options)?;
    assert_eq!(reduction.trace.raw_payloads.len(), 1);
    Ok(())
}

/// A value serde cannot encode as JSON is refused before it takes a number.
#[test]
fn an_unencodable_payload_takes_no_number() -> TestResult {
    let scratch = scratch_folder("encode");
    let writer = TraceWriter::create(scratch.path(), fixture_identity(), stepping())?;
    let map_with_tuple_keys = std::collections::BTreeMap::from([((1, 2), 3)]);
    let error = writer
        .write_payload(RawPayloadKind::ToolResult, &map_with_tuple_keys)
        .expect_err("JSON keys must be strings");
    assert_eq!(error.kind(), WriteErrorKind::Encode);
    assert_eq!(
        redact(&error.to_string(), &scratch),
        "encode a ToolResult payload for <tmp>: key must be a string"
    );
    assert_eq!(writer.next_payload_ordinal(), 1);
    assert_eq!(protocol_event(&writer, 1)?, 1, "the writer goes on");
    Ok(())
}

#[test]
fn writers_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<TraceWriter>();
    shareable::<rollout_trace::writer::Recorder>();
    shareable::<rollout_trace::writer::ThreadRecorder>();
    shareable::<rollout_trace::writer::TurnRecorder>();
    shareable::<rollout_trace::writer::InferenceAttempt>();
    shareable::<rollout_trace::writer::ToolCallRecorder>();
    shareable::<rollout_trace::writer::CodeCellRecorder>();
    shareable::<rollout_trace::writer::CompactionRecorder>();
    shareable::<rollout_trace::writer::CompactionAttempt>();
}

/// Many threads appending at once: one total order of seq, whole lines,
/// each thread's events in its own order, every payload present.
#[test]
fn concurrent_appends_keep_seq_contiguous_and_lines_whole() -> TestResult {
    const THREADS: u64 = 8;
    const EVENTS: u64 = 150;
    for flush in [
        FlushPolicy::EveryEvent,
        FlushPolicy::Buffered {
            capacity_bytes: 1000,
        },
    ] {
        let scratch = scratch_folder("concurrent");
        let options = WriterOptions::default().with_flush(flush);
        let writer = Arc::new(TraceWriter::create(
            scratch.path(),
            fixture_identity(),
            options,
        )?);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let writer = Arc::clone(&writer);
                scope.spawn(move || {
                    for n in 0..EVENTS {
                        protocol_event(&writer, thread * 1000 + n).expect("append");
                    }
                });
            }
        });
        drop(writer);
        let events = check_bundle_invariants(scratch.path());
        assert_eq!(events.len() as u64, THREADS * EVENTS);
        let mut last_seen = vec![None; THREADS as usize];
        for event in &events {
            let RawTraceEventPayload::ProtocolEventObserved { event_payload, .. } = &event.payload
            else {
                panic!("only protocol events were written");
            };
            let value: serde_json::Value =
                serde_json::from_slice(&fs::read(scratch.path().join(&event_payload.path))?)?;
            let n = value["n"].as_u64().expect("payload n");
            let (thread, index) = ((n / 1000) as usize, n % 1000);
            assert_eq!(last_seen[thread].map_or(0, |last: u64| last + 1), index);
            last_seen[thread] = Some(index);
        }
        let reduction = rollout_trace::reduce_bundle(scratch.path())?;
        assert_eq!(reduction.trace.raw_payloads.len() as u64, THREADS * EVENTS);
    }
    Ok(())
}
