//! Bundle sources (a folder on disk, a bundle in memory): where a bundle's
//! files are found, how big they may be, and what a progress display learns.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use rollout_trace::BundleSource;
use rollout_trace::Limits;
use rollout_trace::Progress;
use rollout_trace::ReduceOptions;
use rollout_trace::bundle::BundleLocation;
use rollout_trace::bundle::MemoryBundle;
use rollout_trace::bundle::PayloadFiles;
use rollout_trace::model::RawPayloadKind;
use rollout_trace::model::RawPayloadRef;

use crate::support::scratch_folder;

const MANIFEST: &str = r#"{"schema_version":1,"trace_id":"trace-1","rollout_id":"rollout-1","started_at_unix_ms":1000,"root_thread_id":"thread-root","raw_event_log":"trace.jsonl","payloads_dir":"payloads"}"#;

const TRACE: &str = concat!(
    r#"{"schema_version":1,"seq":1,"wall_time_unix_ms":1001,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"rollout_started","trace_id":"trace-1","root_thread_id":"thread-root"}}"#,
    "\n",
    r#"{"schema_version":1,"seq":2,"wall_time_unix_ms":1002,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"rollout_ended","status":"completed"}}"#,
    "\n",
);

/// A payload of exactly `size` bytes (a JSON string).
fn payload_of_size(size: usize) -> Vec<u8> {
    let mut bytes = vec![b'"'];
    bytes.resize(size - 1, b'x');
    bytes.push(b'"');
    bytes
}

fn reference() -> RawPayloadRef {
    RawPayloadRef {
        raw_payload_id: "raw_payload:1".to_string(),
        kind: RawPayloadKind::ToolInvocation,
        path: "payloads/1.json".to_string(),
    }
}

fn limits_with_payload_bytes(max_payload_bytes: u64) -> Limits {
    Limits {
        max_payload_bytes,
        max_json_depth: 40,
        ..Limits::default()
    }
}

fn disk_bundle(payload: &[u8]) -> (tempfile::TempDir, BundleLocation) {
    let folder = scratch_folder("sources");
    std::fs::write(folder.path().join("manifest.json"), MANIFEST).expect("write manifest");
    std::fs::write(folder.path().join("trace.jsonl"), TRACE).expect("write trace");
    std::fs::create_dir(folder.path().join("payloads")).expect("create payloads/");
    std::fs::write(folder.path().join("payloads/1.json"), payload).expect("write payload");
    let location = BundleLocation::locate(folder.path());
    (folder, location)
}

fn memory_bundle(payload: &[u8]) -> MemoryBundle {
    MemoryBundle {
        manifest: Some(MANIFEST.as_bytes().to_vec()),
        trace: Some(TRACE.as_bytes().to_vec()),
        files: Arc::new([("payloads/1.json".to_string(), payload.to_vec())].into()),
    }
}

/// What reading the payload at these limits gives: its size, or the error.
fn read(source: &dyn BundleSource, limits: Limits) -> Result<usize, String> {
    let mut files = source.payloads(limits);
    assert_eq!(
        files.limits(),
        limits,
        "the files keep the limits they were given"
    );
    files
        .read_payload_bytes(&reference())
        .map(|bytes| bytes.len())
        .map_err(|error| error.to_string())
}

#[test]
fn a_payload_at_the_size_limit_is_read_and_one_byte_more_is_refused() {
    let payload = payload_of_size(100);
    let (_folder, on_disk) = disk_bundle(&payload);
    let in_memory = memory_bundle(&payload);
    for source in [&on_disk as &dyn BundleSource, &in_memory] {
        assert_eq!(read(source, limits_with_payload_bytes(100)), Ok(100));
        assert_eq!(read(source, limits_with_payload_bytes(1000)), Ok(100));
        let refused = read(source, limits_with_payload_bytes(99)).expect_err("over the limit");
        assert!(refused.contains("open payload raw_payload:1"), "{refused}");
        assert!(refused.contains("limit"), "{refused}");
    }
}

#[test]
fn a_missing_payload_file_cannot_be_opened() {
    let in_memory = MemoryBundle {
        files: Arc::default(),
        ..memory_bundle(b"")
    };
    let error = read(&in_memory, Limits::default()).expect_err("no such file");
    assert!(error.contains("open payload raw_payload:1"), "{error}");
}

#[test]
fn a_manifest_in_memory_at_the_size_limit_is_read_and_one_byte_more_is_refused() {
    let bundle = memory_bundle(b"{}");
    let size = MANIFEST.len() as u64;
    assert!(
        bundle
            .read_manifest(&limits_with_payload_bytes(size))
            .is_ok()
    );
    let error = bundle
        .read_manifest(&limits_with_payload_bytes(size - 1))
        .expect_err("over the limit");
    assert!(
        error.to_string().contains("over the payload size limit"),
        "{error}"
    );
}

#[test]
fn a_bundle_named_by_its_event_log_is_the_folder_holding_it() {
    let (folder, _) = disk_bundle(b"{}");
    let trace = folder.path().join("trace.jsonl");
    let location = BundleLocation::locate(&trace);
    assert_eq!(
        (location.root.as_path(), location.trace_path.as_path()),
        (folder.path(), trace.as_path())
    );
    let location = BundleLocation::locate(folder.path());
    assert_eq!(
        (location.root.as_path(), location.trace_path.as_path()),
        (folder.path(), trace.as_path())
    );
    // A file named without a folder is in the working directory (the test
    // runs in the crate's folder, which holds Cargo.toml).
    let location = BundleLocation::locate(Path::new("Cargo.toml"));
    assert_eq!(location.root, PathBuf::from("."));
    assert_eq!(location.manifest_path(), PathBuf::from("./manifest.json"));
}

/// The first and the last progress a reduction of `source` reports.
fn progress_of(source: &dyn BundleSource) -> (Progress, Progress) {
    let mut seen = Vec::new();
    rollout_trace::reduce_source_observed(source, &ReduceOptions::default(), &mut |progress| {
        seen.push(*progress)
    })
    .expect("the bundle reduces");
    match (seen.first(), seen.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => panic!("no progress reported"),
    }
}

#[test]
fn progress_knows_the_size_of_the_event_log() {
    let (_folder, on_disk) = disk_bundle(b"{}");
    let in_memory = memory_bundle(b"{}");
    let size = TRACE.len() as u64;
    for source in [&on_disk as &dyn BundleSource, &in_memory] {
        let (first, last) = progress_of(source);
        assert_eq!(first.trace_bytes, Some(size));
        assert_eq!(last.trace_bytes, Some(size));
        assert_eq!(last.trace_bytes_read, size);
        assert_eq!(last.events, 2);
    }
}

/// A source that does not know its event log's size.
struct SizeUnknown(MemoryBundle);

impl BundleSource for SizeUnknown {
    fn read_manifest(
        &self,
        limits: &Limits,
    ) -> Result<rollout_trace::raw::TraceBundleManifest, rollout_trace::ReduceError> {
        self.0.read_manifest(limits)
    }

    fn open_trace(
        &self,
    ) -> Result<Box<dyn std::io::BufRead + Send + '_>, rollout_trace::ReduceError> {
        self.0.open_trace()
    }

    fn payloads(&self, limits: Limits) -> Box<dyn PayloadFiles + Send> {
        self.0.payloads(limits)
    }
}

#[test]
fn a_source_may_not_know_the_size_of_its_event_log() {
    let (first, last) = progress_of(&SizeUnknown(memory_bundle(b"{}")));
    assert_eq!((first.trace_bytes, last.trace_bytes), (None, None));
    assert_eq!(last.trace_bytes_read, TRACE.len() as u64);
}
