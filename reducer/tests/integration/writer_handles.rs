//! Recording handles: the bundles they write reduce to the expected state,
//! a disabled recorder writes nothing, failures are reported once and stop
//! recording, and `ROLLOUT_TRACE_ROOT` switches recording on.

use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

use crate::support::FaultyStorage;
use crate::support::check_bundle_invariants;
use crate::support::scratch_folder;
use crate::support::session::CHILD;
use crate::support::session::ROOT;
use crate::support::session::TRACE_ID;
use crate::support::session::record_full_session;
use rollout_trace::model::CodeCellRuntimeStatus;
use rollout_trace::model::ExecutionStatus;
use rollout_trace::model::RolloutStatus;
use rollout_trace::model::ToolCallKind;
use rollout_trace::raw::RawTraceEventPayload;
use rollout_trace::writer::LazyPayload;
use rollout_trace::writer::Recorder;
use rollout_trace::writer::RecorderOptions;
use rollout_trace::writer::SessionMetadata;
use rollout_trace::writer::SteppingClock;
use rollout_trace::writer::ThreadSpawn;
use rollout_trace::writer::ToolCallStart;
use rollout_trace::writer::WriterOptions;
use rollout_trace::writer::generic_summary;
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn deterministic(writer: WriterOptions) -> RecorderOptions {
    RecorderOptions::default()
        .with_trace_id(TRACE_ID)
        .with_writer(writer.with_clock(SteppingClock::new(1000, 1)))
}

/// The only entry of `root`, which must be a bundle folder.
fn only_bundle(root: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let entries: Vec<PathBuf> = fs::read_dir(root)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    assert_eq!(entries.len(), 1, "one bundle per rollout: {entries:?}");
    Ok(entries[0].clone())
}

/// Every family of handles, one session: the bundle reduces strictly, with
/// no diagnostic, to exactly the snapshotted state.
#[test]
fn handles_record_a_session_that_reduces_to_the_expected_state() -> TestResult {
    let scratch = scratch_folder("handles-session");
    let recorder = Recorder::create(
        scratch.path(),
        ROOT,
        deterministic(WriterOptions::default()),
    )?;
    record_full_session(&recorder);
    drop(recorder);

    let bundle = only_bundle(scratch.path())?;
    assert_eq!(
        bundle.file_name().and_then(|name| name.to_str()),
        Some(format!("trace-{TRACE_ID}-{ROOT}").as_str())
    );
    check_bundle_invariants(&bundle);
    let reduction = rollout_trace::reduce_bundle(&bundle)?;
    let diagnostics: Vec<String> = reduction
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(diagnostics, Vec::<String>::new());
    insta::assert_snapshot!(
        "full_session_state",
        rollout_trace::state_json(&reduction.trace)
    );
    Ok(())
}

/// The handles put the envelope context where the reference producer does
/// (`trace-format.md` §4.4).
#[test]
fn handle_events_carry_the_reference_envelope_context() -> TestResult {
    let scratch = scratch_folder("handles-context");
    let recorder = Recorder::create(
        scratch.path(),
        ROOT,
        deterministic(WriterOptions::default()),
    )?;
    record_full_session(&recorder);
    drop(recorder);
    let events = check_bundle_invariants(&only_bundle(scratch.path())?);
    for event in &events {
        let context = (event.thread_id.as_deref(), event.codex_turn_id.as_deref());
        let expected = match &event.payload {
            RawTraceEventPayload::RolloutStarted { .. }
            | RawTraceEventPayload::RolloutEnded { .. }
            | RawTraceEventPayload::ThreadStarted { .. }
            | RawTraceEventPayload::ThreadEnded { .. }
            | RawTraceEventPayload::ProtocolEventObserved { .. }
            | RawTraceEventPayload::McpToolCallCorrelationAssigned { .. } => (None, None),
            RawTraceEventPayload::CodexTurnStarted {
                codex_turn_id,
                thread_id,
            } => (Some(thread_id.as_str()), Some(codex_turn_id.as_str())),
            RawTraceEventPayload::AgentResultObserved {
                child_thread_id,
                child_codex_turn_id,
                ..
            } => (
                Some(child_thread_id.as_str()),
                Some(child_codex_turn_id.as_str()),
            ),
            RawTraceEventPayload::Other { .. } => panic!("handles never write `other`"),
            // Everything else belongs to a turn of the root or the child.
            _ => match context {
                (Some(ROOT), Some("turn-1" | "turn-2")) | (Some(CHILD), Some("turn-child-1")) => {
                    context
                }
                _ => (Some("a thread"), Some("and its turn")),
            },
        };
        assert_eq!(
            context,
            expected,
            "seq {} {}",
            event.seq,
            event.payload.type_name()
        );
    }
    assert_eq!(events.len(), 41);
    Ok(())
}

/// Scenario S14 through the handles gives the reference producer's bundle
/// byte for byte: folder name, manifest, lines and metadata payloads.
#[test]
fn s14_spawned_thread_writes_into_the_root_bundle() -> TestResult {
    let scratch = scratch_folder("s14");
    let recorder = Recorder::create(
        scratch.path(),
        ROOT,
        deterministic(WriterOptions::default()),
    )?;
    let root_metadata = SessionMetadata {
        thread_id: ROOT.to_string(),
        agent_path: Some("/root".to_string()),
        session_source: json!("exec"),
        cwd: Some("/workspace".to_string()),
        model: Some("gpt-test".to_string()),
        provider_name: Some("test-provider".to_string()),
        approval_policy: Some("never".to_string()),
        sandbox_policy: Some("DangerFullAccess".to_string()),
        ..SessionMetadata::default()
    };
    recorder.start_root_thread("/root", Some(&root_metadata));
    let child = recorder.start_thread(
        CHILD,
        "/root/repo_file_counter",
        Some(&SessionMetadata {
            thread_id: CHILD.to_string(),
            agent_path: Some("/root/repo_file_counter".to_string()),
            task_name: Some("repo_file_counter".to_string()),
            nickname: Some("Kepler".to_string()),
            agent_role: Some("worker".to_string()),
            session_source: ThreadSpawn {
                parent_thread_id: ROOT.to_string(),
                depth: 1,
                agent_path: "/root/repo_file_counter".to_string(),
                agent_nickname: Some("Kepler".to_string()),
                agent_role: Some("worker".to_string()),
            }
            .session_source(),
            ..root_metadata.clone()
        }),
    );
    child.end(RolloutStatus::Completed);
    drop(recorder);

    let bundle = only_bundle(scratch.path())?;
    insta::assert_snapshot!(
        "s14_manifest",
        fs::read_to_string(bundle.join("manifest.json"))?
    );
    insta::assert_snapshot!("s14_trace", fs::read_to_string(bundle.join("trace.jsonl"))?);
    insta::assert_snapshot!(
        "s14_payload_1",
        fs::read_to_string(bundle.join("payloads/1.json"))?
    );
    insta::assert_snapshot!(
        "s14_payload_2",
        fs::read_to_string(bundle.join("payloads/2.json"))?
    );
    let reduction = rollout_trace::reduce_bundle(&bundle)?;
    insta::assert_snapshot!("s14_state", rollout_trace::state_json(&reduction.trace));
    Ok(())
}

/// Ids that cannot be part of a folder name are refused.
#[test]
fn bundle_folder_names_are_checked() {
    let scratch = scratch_folder("names");
    for (root_thread, trace_id, expected) in [
        (
            "a/b",
            TRACE_ID,
            r#"root thread id "a/b" cannot be part of a bundle folder name"#,
        ),
        (
            ROOT,
            "",
            r#"trace id "" cannot be part of a bundle folder name"#,
        ),
    ] {
        let options = RecorderOptions::default().with_trace_id(trace_id);
        let error = Recorder::create(scratch.path(), root_thread, options).expect_err("refused");
        assert_eq!(
            error.kind(),
            rollout_trace::writer::WriteErrorKind::InvalidInput
        );
        assert_eq!(error.to_string(), expected);
    }
}

/// A disabled recorder accepts every call, writes nothing and never builds
/// a lazy payload (S15).
#[test]
fn disabled_handles_accept_every_call_and_write_nothing() -> TestResult {
    let scratch = scratch_folder("disabled");
    let builds = Arc::new(AtomicUsize::new(0));
    let lazy = {
        let builds = Arc::clone(&builds);
        LazyPayload(move || {
            builds.fetch_add(1, Ordering::SeqCst);
            json!({"expensive": true})
        })
    };
    let recorder = Recorder::disabled();
    assert!(!recorder.is_recording());
    assert_eq!(recorder.bundle_folder(), None);
    let root = recorder.start_root_thread("/root", Some(&lazy));
    root.protocol_event("warning", &lazy);
    let turn = root.start_turn("turn-1");
    let attempt = turn.start_inference("inference-1", "m", "p", &lazy);
    attempt.complete(Some("resp"), None, &lazy);
    attempt.fail(None, "error", Some(&lazy));
    attempt.cancel(None, "reason", Some(&lazy));
    let tool = turn.start_tool_call(
        ToolCallStart::new(
            "tool-1",
            ToolCallKind::ExecCommand,
            generic_summary("t", None),
        ),
        Some(&lazy),
    );
    tool.assign_mcp_call_id("mcp");
    tool.runtime_started(&lazy);
    tool.runtime_ended(ExecutionStatus::Completed, &lazy);
    tool.end(ExecutionStatus::Completed, Some(&lazy));
    let cell = turn.start_code_cell("1", "call", "js");
    cell.start_tool_call(
        ToolCallStart::new("tool-2", ToolCallKind::Web, generic_summary("t", None)),
        Some(&lazy),
    );
    cell.initial_response(CodeCellRuntimeStatus::Running, Some(&lazy));
    cell.end(CodeCellRuntimeStatus::Completed, Some(&lazy));
    let compaction = turn.compaction("compaction-1");
    let request = compaction.start_request("m", "p", &lazy);
    request.complete(&lazy);
    request.fail("error");
    compaction.install(&lazy);
    turn.agent_result("parent", "message", Some(&lazy));
    turn.end(ExecutionStatus::Completed);
    recorder
        .start_thread("child", "/root/child", Some(&lazy))
        .end(RolloutStatus::Completed);
    root.end(RolloutStatus::Completed);
    recorder.flush();

    assert_eq!(builds.load(Ordering::SeqCst), 0);
    assert_eq!(request.compaction_request_id(), "");
    assert_eq!(fs::read_dir(scratch.path())?.count(), 0);
    Ok(())
}

/// Lazy payloads are built when recording is on.
#[test]
fn enabled_handles_build_lazy_payloads() -> TestResult {
    let scratch = scratch_folder("lazy");
    let recorder = Recorder::create(
        scratch.path(),
        ROOT,
        deterministic(WriterOptions::default()),
    )?;
    let root = recorder.start_root_thread("/root", Some(&LazyPayload(|| json!({"built": 1}))));
    drop((root, recorder));
    let bundle = only_bundle(scratch.path())?;
    assert_eq!(
        fs::read_to_string(bundle.join("payloads/1.json"))?,
        "{\n  \"built\": 1\n}"
    );
    Ok(())
}

/// The first failure reaches the hook once; every later call is a no-op
/// and the caller never sees an error. What was written reduces partially.
#[test]
fn a_failure_is_reported_once_and_recording_stops() -> TestResult {
    let scratch = scratch_folder("failure");
    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook = {
        let reports = Arc::clone(&reports);
        move |error: &rollout_trace::writer::WriteError| {
            reports
                .lock()
                .expect("reports lock")
                .push(error.to_string().replace(&scratch_display(), "<tmp>"));
        }
    };
    fn scratch_display() -> String {
        SCRATCH.with(|path| path.borrow().clone())
    }
    thread_local! {
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with(|path| *path.borrow_mut() = scratch.path().display().to_string());

    // create (3), rollout_started, metadata payload, thread_started,
    // protocol payload and event, turn started, request payload: 10
    // operations; the inference start line (seq 5) is torn.
    let storage = FaultyStorage::dying_after(10, 300);
    let options =
        deterministic(WriterOptions::default().with_storage(storage.clone())).with_on_error(hook);
    let recorder = Recorder::create(scratch.path(), ROOT, options)?;
    assert!(recorder.is_recording());
    record_full_session(&recorder);
    assert!(!recorder.is_recording());
    drop(recorder);

    assert!(storage.died());
    let reports = reports.lock().expect("reports lock").clone();
    assert_eq!(
        reports,
        [format!(
            "append event seq 5 to <tmp>/trace-{TRACE_ID}-{ROOT}/trace.jsonl: killed by the test"
        )]
    );
    let bundle = only_bundle(scratch.path())?;
    assert_eq!(check_bundle_invariants(&bundle).len(), 4);
    let options = rollout_trace::ReduceOptions {
        partial: true,
        ..Default::default()
    };
    let reduction = rollout_trace::reduce_bundle_with(&bundle, &options)?;
    assert_eq!(reduction.trace.codex_turns.len(), 1);
    Ok(())
}

/// Child mode of `rollout_trace_root_switches_recording_on`: record a short
/// rollout with `Recorder::from_env`.
const CHILD_MODE: &str = "WRITER_HANDLES_FROM_ENV_CHILD";

/// `ROLLOUT_TRACE_ROOT` switches recording on: one bundle per rollout under
/// it; unset or empty, nothing is written. The test runs itself in a child
/// process, so the variable is set without touching this process's
/// environment.
#[test]
fn rollout_trace_root_switches_recording_on() -> TestResult {
    if std::env::var_os(CHILD_MODE).is_some() {
        for root_thread in ["thread-a", "thread-b"] {
            let recorder = Recorder::from_env(root_thread, RecorderOptions::default());
            let root = recorder.start_root_thread("/root", None);
            root.start_turn("turn-1").end(ExecutionStatus::Completed);
            root.end(RolloutStatus::Completed);
        }
        return Ok(());
    }
    let run_child = |root: Option<&str>, cwd: &Path| -> TestResult {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command
            .current_dir(cwd)
            .args([
                "--exact",
                "writer_handles::rollout_trace_root_switches_recording_on",
                "--test-threads=1",
            ])
            .env(CHILD_MODE, "1")
            .env_remove(rollout_trace::writer::TRACE_ROOT_ENV);
        if let Some(root) = root {
            command.env(rollout_trace::writer::TRACE_ROOT_ENV, root);
        }
        let output = command.output()?;
        assert!(output.status.success(), "child failed: {output:?}");
        Ok(())
    };

    let scratch = scratch_folder("from-env");
    let root = scratch.path().join("traces");
    run_child(Some(&root.display().to_string()), scratch.path())?;
    let names: Vec<String> = fs::read_dir(&root)?
        .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(names.len(), 2, "{names:?}");
    for thread in ["thread-a", "thread-b"] {
        let suffix = format!("-{thread}");
        let name = names
            .iter()
            .find(|name| name.ends_with(&suffix))
            .ok_or(format!("no bundle for {thread} in {names:?}"))?;
        let trace_id = name
            .strip_prefix("trace-")
            .and_then(|rest| rest.strip_suffix(&suffix))
            .ok_or(format!("bundle name {name}"))?;
        assert_eq!(uuid::Uuid::parse_str(trace_id)?.get_version_num(), 4);
        let reduction = rollout_trace::reduce_bundle(root.join(name))?;
        assert_eq!(reduction.trace.trace_id, trace_id);
        assert_eq!(reduction.trace.root_thread_id, thread);
        assert_eq!(reduction.trace.status, RolloutStatus::Completed);
    }

    let empty = scratch_folder("from-env-off");
    run_child(None, empty.path())?;
    run_child(Some(""), empty.path())?;
    assert_eq!(fs::read_dir(empty.path())?.count(), 0);
    Ok(())
}
