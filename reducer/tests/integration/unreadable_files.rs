//! Files that exist but cannot be read are reported as upstream reports
//! them: a manifest or payload that opens but fails to read is a parse-time
//! failure of that file (`read <manifest>` / `parse payload <id>`), not an
//! open failure. (A folder cannot be kept where a corpus case expects a file,
//! so these cases are built here.)

use std::fs;
use std::path::PathBuf;

fn bundle(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("unreadable")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("payloads")).unwrap_or_else(|error| panic!("{error}"));
    dir
}

const MANIFEST: &str = r#"{"schema_version":1,"trace_id":"trace-1","rollout_id":"rollout-1","root_thread_id":"thread-root","started_at_unix_ms":1000,"raw_event_log":"trace.jsonl","payloads_dir":"payloads"}"#;

const TRACE: &str = concat!(
    r#"{"schema_version":1,"seq":1,"wall_time_unix_ms":1001,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"thread_started","thread_id":"thread-root","agent_path":"/root","metadata_payload":null}}"#,
    "\n",
    r#"{"schema_version":1,"seq":2,"wall_time_unix_ms":1002,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"codex_turn_started","codex_turn_id":"turn-1","thread_id":"thread-root"}}"#,
    "\n",
    r#"{"schema_version":1,"seq":3,"wall_time_unix_ms":1003,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"inference_started","inference_call_id":"inference-1","thread_id":"thread-root","codex_turn_id":"turn-1","model":"gpt-test","provider_name":"test-provider","request_payload":{"raw_payload_id":"raw_payload:1","kind":{"type":"inference_request"},"path":"payloads/1.json"}}}"#,
    "\n",
);

#[test]
fn a_payload_that_is_a_folder_fails_to_parse() -> std::io::Result<()> {
    let dir = bundle("payload-folder");
    fs::write(dir.join("manifest.json"), MANIFEST)?;
    fs::write(dir.join("trace.jsonl"), TRACE)?;
    fs::create_dir_all(dir.join("payloads/1.json"))?;
    for scan_requests in [true, false] {
        let options = rollout_trace::ReduceOptions {
            scan_requests,
            ..rollout_trace::ReduceOptions::default()
        };
        let error = rollout_trace::reduce_bundle_with(&dir, &options)
            .err()
            .map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "trace.jsonl:3 (seq 3, inference_started, payload payloads/1.json): parse payload raw_payload:1: Is a directory (os error 21)"
            )
        );
    }
    Ok(())
}

#[test]
fn a_manifest_that_is_a_folder_fails_to_read() -> std::io::Result<()> {
    let dir = bundle("manifest-folder");
    fs::create_dir_all(dir.join("manifest.json"))?;
    fs::write(dir.join("trace.jsonl"), TRACE)?;
    let error = rollout_trace::reduce_bundle(&dir)
        .err()
        .map(|error| error.to_string());
    assert_eq!(
        error,
        Some(format!(
            "manifest.json: read {}: Is a directory (os error 21)",
            dir.join("manifest.json").display()
        ))
    );
    Ok(())
}

#[test]
fn a_payload_that_is_a_pipe_is_refused_without_blocking() -> std::io::Result<()> {
    let dir = bundle("payload-fifo");
    fs::write(dir.join("manifest.json"), MANIFEST)?;
    fs::write(dir.join("trace.jsonl"), TRACE)?;
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("payloads/1.json"))
        .status()?;
    if !status.success() {
        // No mkfifo here: nothing to test.
        return Ok(());
    }
    let error = rollout_trace::reduce_bundle(&dir)
        .err()
        .map(|error| error.to_string());
    assert_eq!(
        error.as_deref(),
        Some(
            "trace.jsonl:3 (seq 3, inference_started, payload payloads/1.json): open payload raw_payload:1: not a regular file (a pipe, socket or device)"
        )
    );
    Ok(())
}
