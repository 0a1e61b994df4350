//! Snapshots of the texts the harness shows people, on small synthetic
//! corpora built in temporary folders: failure messages, the integrity
//! report and the bless summary. Review changes with `cargo insta review`
//! (or `INSTA_UPDATE=always cargo test -p harness --test messages` and `git diff`).

use std::io;
use std::path::Path;

use harness::Corpus;
use harness::bless::Mode;
use harness::testing::MANIFEST;
use harness::testing::write_files;

/// A trace that reduces: a rollout with its root thread.
const TRACE_OK: &str = concat!(
    r#"{"schema_version":1,"seq":1,"wall_time_unix_ms":1001,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"rollout_started","trace_id":"trace-1","root_thread_id":"thread-root"}}"#,
    "\n",
    r#"{"schema_version":1,"seq":2,"wall_time_unix_ms":1002,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"thread_started","thread_id":"thread-root","agent_path":"/root","metadata_payload":null}}"#,
    "\n",
);

/// A trace the reducer rejects: a turn of a thread that never started.
const TRACE_ERR: &str = concat!(
    r#"{"schema_version":1,"seq":1,"wall_time_unix_ms":1001,"rollout_id":"rollout-1","thread_id":null,"codex_turn_id":null,"payload":{"type":"codex_turn_started","codex_turn_id":"turn-1","thread_id":"thread-ghost"}}"#,
    "\n",
);

/// A temporary folder holding `corpus/` (and `target/` for actual outputs).
fn corpus_with(files: &[(&str, &str)]) -> io::Result<(tempfile::TempDir, Corpus)> {
    let temp = tempfile::Builder::new()
        .prefix(&format!("harness-{}-", "messages"))
        .tempdir()?;
    write_files(&temp.path().join("corpus"), files)?;
    let corpus = Corpus::new(temp.path().join("corpus"));
    Ok((temp, corpus))
}

/// Blesses the case `name` and returns its expected.json.
fn blessed_state(corpus: &Corpus, name: &str) -> io::Result<String> {
    let plan = harness::bless::plan(corpus, Some(name), false).map_err(io::Error::other)?;
    harness::bless::apply(corpus, &plan)?;
    std::fs::read_to_string(corpus.root().join(name).join("expected.json"))
}

fn case_failure(corpus: &Corpus, target: &Path, name: &str) -> String {
    let Some(case) = corpus.case_by_name(name) else {
        return format!("no case {name}");
    };
    match harness::trial::test_case(corpus, &case, Some(target), false) {
        Ok(()) => "passed".to_string(),
        Err(message) => message,
    }
}

#[test]
fn json_path_differences() {
    let old = serde_json::json!({
        "status": "running",
        "conversation_items": {
            "conversation_item:4": {"body": {"parts": [{"type": "text", "text": "a"}]}}
        },
        "threads": {"thread-root": {"conversation_item_ids": ["conversation_item:1", "conversation_item:2"]}},
        "removed": {"x": 1}
    });
    let new = serde_json::json!({
        "status": "completed",
        "conversation_items": {
            "conversation_item:4": {"body": {"parts": [{"type": "text", "text": "b"}]}}
        },
        "threads": {"thread-root": {"conversation_item_ids": ["conversation_item:1", "conversation_item:2", "conversation_item:3"]}},
        "added member": [1, 2]
    });
    let changes = rollout_trace::json_diff::changes(&old, &new);
    insta::assert_snapshot!(rollout_trace::json_diff::render(&changes, 20));
}

#[test]
fn changed_state_of_an_ok_case() -> io::Result<()> {
    let (temp, corpus) = corpus_with(&[
        ("ok/0001_thread/manifest.json", MANIFEST),
        ("ok/0001_thread/trace.jsonl", TRACE_OK),
        (
            "ok/0001_thread/README.md",
            "# A root thread\n\ncheck: /status == \"completed\"\ncheck: /threads/thread-root/execution == {\"status\":\"completed\"}\ncheck: /missing == 1\n",
        ),
    ])?;
    let blessed = blessed_state(&corpus, "ok/0001_thread")?;
    let edited = blessed
        .replace("\"agent_path\": \"/root\"", "\"agent_path\": \"/root/old\"")
        .replace("\"trace_id\": \"trace-1\"", "\"trace_id\": \"trace-0\"");
    std::fs::write(corpus.root().join("ok/0001_thread/expected.json"), edited)?;
    let message = case_failure(&corpus, &temp.path().join("target"), "ok/0001_thread");
    insta::assert_snapshot!(message);
    let actual = temp
        .path()
        .join("target/corpus-actual/ok/0001_thread/expected.json");
    assert_eq!(std::fs::read_to_string(actual)?, blessed);
    Ok(())
}

#[test]
fn err_case_that_reduces() -> io::Result<()> {
    let (temp, corpus) = corpus_with(&[
        ("err/0002_ghost_thread/manifest.json", MANIFEST),
        ("err/0002_ghost_thread/trace.jsonl", TRACE_OK),
        (
            "err/0002_ghost_thread/README.md",
            "# Rejected\n\ncheck-error: unknown thread\n",
        ),
        (
            "err/0002_ghost_thread/expected.err",
            "trace.jsonl:1 (seq 1, codex_turn_started): trace event referenced unknown thread thread-ghost\n",
        ),
    ])?;
    let message = case_failure(
        &corpus,
        &temp.path().join("target"),
        "err/0002_ghost_thread",
    );
    insta::assert_snapshot!(message);
    Ok(())
}

#[test]
fn ok_case_that_is_rejected_and_err_case_without_expectation() -> io::Result<()> {
    let (temp, corpus) = corpus_with(&[
        ("ok/0003_ghost/manifest.json", MANIFEST),
        ("ok/0003_ghost/trace.jsonl", TRACE_ERR),
        ("ok/0003_ghost/README.md", "# Accepted\n"),
        ("err/0004_ghost/manifest.json", MANIFEST),
        ("err/0004_ghost/trace.jsonl", TRACE_ERR),
        (
            "err/0004_ghost/README.md",
            "# Rejected\n\ncheck-error: unknown turn\n",
        ),
    ])?;
    let target = temp.path().join("target");
    let message = format!(
        "{}\n\n=====\n\n{}",
        case_failure(&corpus, &target, "ok/0003_ghost"),
        case_failure(&corpus, &target, "err/0004_ghost")
    );
    insta::assert_snapshot!(message);
    Ok(())
}

#[test]
fn integrity_failures() -> io::Result<()> {
    let case = |name: &str, files: &[&str]| -> Vec<(String, String)> {
        files
            .iter()
            .map(|file| {
                let content = match *file {
                    "manifest.json" => MANIFEST,
                    "trace.jsonl" => "{\"payload\":{\"ref\":{\"path\":\"payloads/1.json\"}}}\n",
                    "expected.err" => "some error\n",
                    "state.json" => "{}",
                    "README.md" => "# Case\n",
                    _ => "{\n  \"a\": 1\n}\n",
                };
                (format!("{name}/{file}"), content.to_string())
            })
            .collect()
    };
    let mut files: Vec<(String, String)> = Vec::new();
    files.extend(case(
        "ok/0001_good",
        &[
            "manifest.json",
            "trace.jsonl",
            "README.md",
            "expected.json",
            "payloads/1.json",
        ],
    ));
    files.extend(case(
        "ok/0002_reduced_by_hand",
        &[
            "manifest.json",
            "trace.jsonl",
            "README.md",
            "expected.json",
            "state.json",
            "payloads/1.json",
            "payloads/2.json",
        ],
    ));
    files.extend(case(
        "ok/0003_no_readme_two_expectations",
        &[
            "manifest.json",
            "trace.jsonl",
            "expected.json",
            "expected.err",
        ],
    ));
    files.extend(case(
        "err/0004_wrong_kind",
        &[
            "manifest.json",
            "trace.jsonl",
            "README.md",
            "expected.json",
            "diagnostics.txt",
        ],
    ));
    files.extend(case(
        "misc/0005_misplaced",
        &["manifest.json", "trace.jsonl", "README.md"],
    ));
    files.push((
        "ok/0006_badly_formed/README.md".into(),
        "# x\n\nreduce-args: --fast\ncheck-error: y\n".into(),
    ));
    files.push((
        "ok/0006_badly_formed/expected.json".into(),
        "{\"a\":1}".into(),
    ));
    files.push(("ok/0006_badly_formed/diagnostics.txt".into(), String::new()));
    files.push(("ok/notes.txt".into(), "notes".into()));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (_temp, corpus) = corpus_with(&files)?;
    let issues = harness::integrity::check(&corpus);
    insta::assert_snapshot!(harness::integrity::render(&issues));
    Ok(())
}

#[test]
fn bless_summary() -> io::Result<()> {
    let (_temp, corpus) = corpus_with(&[
        ("ok/0001_thread/manifest.json", MANIFEST),
        ("ok/0001_thread/trace.jsonl", TRACE_OK),
        ("ok/0001_thread/README.md", "# A root thread\n"),
        ("ok/0002_changed/manifest.json", MANIFEST),
        ("ok/0002_changed/trace.jsonl", TRACE_OK),
        (
            "ok/0002_changed/README.md",
            "# Changed\n\ncheck: /status == \"completed\"\n",
        ),
        ("ok/0002_changed/expected.json", "{\n  \"old\": true\n}\n"),
        ("ok/0002_changed/diagnostics.txt", "an old diagnostic\n"),
        ("ok/0003_now_rejected/manifest.json", MANIFEST),
        ("ok/0003_now_rejected/trace.jsonl", TRACE_ERR),
        ("ok/0003_now_rejected/README.md", "# Accepted\n"),
        ("err/0004_ghost/manifest.json", MANIFEST),
        ("err/0004_ghost/trace.jsonl", TRACE_ERR),
        ("err/0004_ghost/README.md", "# Rejected\n"),
        ("err/0004_ghost/expected.json", "{}\n"),
    ])?;
    let plan = harness::bless::plan(&corpus, None, false).map_err(io::Error::other)?;
    let checked = harness::bless::summary(&corpus, &plan, Mode::Checked);
    harness::bless::apply(&corpus, &plan)?;
    let blessed = harness::bless::summary(&corpus, &plan, Mode::Blessed);
    let again = harness::bless::plan(&corpus, None, true).map_err(io::Error::other)?;
    harness::bless::apply(&corpus, &again)?;
    let pruned = harness::bless::summary(&corpus, &again, Mode::Blessed);
    let last = harness::bless::plan(&corpus, Some("ok/0001"), false).map_err(io::Error::other)?;
    let unchanged = harness::bless::summary(&corpus, &last, Mode::Checked);
    insta::assert_snapshot!(format!(
        "--check:\n{checked}\nbless:\n{blessed}\nbless --prune:\n{pruned}\nbless --check ok/0001:\n{unchanged}"
    ));
    assert!(
        !corpus
            .root()
            .join("ok/0002_changed/diagnostics.txt")
            .exists()
    );
    assert!(!corpus.root().join("err/0004_ghost/expected.json").exists());
    assert!(
        !corpus
            .root()
            .join("ok/0003_now_rejected/expected.err")
            .exists()
    );
    assert_eq!(
        harness::bless::plan(&corpus, Some("ok"), true).err(),
        Some("--prune deletes stray expectation files of the whole corpus and cannot be combined with a FILTER; run `cargo xtask bless --prune` alone".to_string())
    );
    Ok(())
}

#[test]
fn blessed_cases_pass_their_tests() -> io::Result<()> {
    let (temp, corpus) = corpus_with(&[
        ("ok/0001_thread/manifest.json", MANIFEST),
        ("ok/0001_thread/trace.jsonl", TRACE_OK),
        (
            "ok/0001_thread/README.md",
            "# A root thread\n\nreduce-args: --partial\ncheck: /threads/thread-root/agent_path == \"/root\"\n",
        ),
        ("err/0002_ghost/manifest.json", MANIFEST),
        ("err/0002_ghost/trace.jsonl", TRACE_ERR),
        (
            "err/0002_ghost/README.md",
            "# Rejected\n\ncheck-error: referenced unknown thread thread-ghost\n",
        ),
    ])?;
    let target = temp.path().join("target");
    let plan = harness::bless::plan(&corpus, None, false).map_err(io::Error::other)?;
    harness::bless::apply(&corpus, &plan)?;
    let results: Vec<String> = ["ok/0001_thread", "err/0002_ghost"]
        .iter()
        .map(|name| case_failure(&corpus, &target, name))
        .collect();
    assert_eq!(results, ["passed", "passed"]);
    assert_eq!(harness::integrity::check(&corpus), []);
    assert!(!target.join("corpus-actual/ok/0001_thread").exists());
    Ok(())
}

#[test]
fn bless_refuses_paths_outside_case_folders() -> io::Result<()> {
    let (_temp, corpus) = corpus_with(&[("ok/0001_thread/README.md", "# x\n")])?;
    let outside = corpus.root().join("ok/0001_thread/payloads/expected.json");
    let plan = harness::bless::Plan {
        cases: vec![harness::bless::CasePlan {
            name: "ok/0001_thread".to_string(),
            status: harness::bless::Status::Changed,
            actions: vec![harness::bless::Action::Write {
                path: outside.clone(),
                content: "{}\n".to_string(),
            }],
            failed_checks: 0,
        }],
        refused: vec![],
        strays: vec![],
        prune: false,
    };
    let error = harness::bless::apply(&corpus, &plan)
        .err()
        .map(|error| error.to_string());
    assert_eq!(
        error,
        Some(format!(
            "refusing to touch {}: bless only writes expectation files of case folders in {}",
            outside.display(),
            corpus.root().display()
        ))
    );
    assert!(!outside.exists());
    Ok(())
}

#[test]
fn ci_detection() {
    let values = [
        None,
        Some(""),
        Some("0"),
        Some("false"),
        Some("FALSE"),
        Some("true"),
        Some("1"),
    ];
    let detected: Vec<bool> = values
        .iter()
        .map(|value| harness::bless::is_ci(value.map(std::ffi::OsStr::new)))
        .collect();
    assert_eq!(detected, [false, false, false, false, false, true, true]);
}
