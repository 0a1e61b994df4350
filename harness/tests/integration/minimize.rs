//! `minimize` end to end, as the library functions xtask calls, on generated
//! bundles with injected faults: the result stays interesting, is a fixpoint
//! (checked here by removing each event with a renumbering of our own), is
//! the same bytes whatever `jobs` is, is numbered as the writer numbers, and
//! becomes a corpus case in a temporary corpus. `--exec` and
//! `--differs-from` run shell scripts around two "other reducers" that
//! disagree on one event: this test binary itself, called back through
//! [`other_reducer`].

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use harness::Corpus;
use harness::minimize::Outcome;
use harness::minimize::Predicate;
use harness::minimize::Request;
use serde_json::Value;
use tracegen::GenOptions;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CONFLICT: &str = "was reused with different content";

/// A generated bundle of `turns` turns in `dir/name`.
fn generated(dir: &Path, name: &str, turns: u64) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let bundle = dir.join(name);
    tracegen::generate(
        &bundle,
        &GenOptions {
            turns,
            ..GenOptions::default()
        },
    )?;
    Ok(bundle)
}

fn minimize(
    bundle: &Path,
    out: &Path,
    predicate: Predicate,
    jobs: usize,
) -> Result<Outcome, String> {
    let request = Request {
        bundle,
        out,
        predicate,
        time_limit: None,
        jobs,
        command_timeout: Some(Duration::from_secs(60)),
        reduce: rollout_trace::ReduceOptions::default(),
    };
    harness::minimize::minimize(&request, &|_| {})
}

/// Every file below `dir` by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| {
            let relative = entry.path().strip_prefix(dir).ok()?;
            let bytes = std::fs::read(entry.path()).ok()?;
            Some((relative.to_string_lossy().replace('\\', "/"), bytes))
        })
        .collect()
}

fn events(bundle: &Path) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let trace = std::fs::read_to_string(bundle.join("trace.jsonl"))?;
    Ok(trace
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

/// Copies `bundle` into `into` without event `index`, `seq` renumbered
/// from 1 (payload files are copied as they are: an unreferenced one is
/// harmless to the reducer).
fn without_event(bundle: &Path, index: usize, into: &Path) -> TestResult {
    let _ = std::fs::remove_dir_all(into);
    for (path, bytes) in files(bundle) {
        let target = into.join(&path);
        std::fs::create_dir_all(target.parent().ok_or("no parent")?)?;
        std::fs::write(target, bytes)?;
    }
    let mut lines = Vec::new();
    for (seq, mut event) in events(bundle)?
        .into_iter()
        .enumerate()
        .filter(|(at, _)| *at != index)
        .map(|(_, event)| event)
        .enumerate()
    {
        event["seq"] = Value::from(seq + 1);
        lines.push(serde_json::to_string(&event)? + "\n");
    }
    std::fs::write(into.join("trace.jsonl"), lines.concat())?;
    Ok(())
}

fn error_of(bundle: &Path) -> String {
    match rollout_trace::reduce_bundle(bundle) {
        Ok(_) => "(reduces)".to_string(),
        Err(error) => error.to_string(),
    }
}

/// The `(raw_payload_id, path)` of every payload reference below `value`.
fn references(value: &Value) -> Vec<(String, String)> {
    if let (Some(id), Some(path)) = (value["raw_payload_id"].as_str(), value["path"].as_str()) {
        return vec![(id.to_string(), path.to_string())];
    }
    match value {
        Value::Object(members) => members.values().flat_map(references).collect(),
        Value::Array(items) => items.iter().flat_map(references).collect(),
        _ => Vec::new(),
    }
}

/// The writer's numbering: seq 1..n, and payload files `payloads/1.json`..
/// named in the order events first reference them, each with its id.
fn assert_writer_numbering(bundle: &Path) -> TestResult {
    let mut first_use: Vec<String> = Vec::new();
    for (at, event) in events(bundle)?.iter().enumerate() {
        assert_eq!(event["seq"], Value::from(at + 1));
        for (id, path) in references(&event["payload"]) {
            let number = id.strip_prefix("raw_payload:").ok_or("not raw_payload:N")?;
            assert_eq!(path, format!("payloads/{number}.json"));
            if !first_use.iter().any(|known| known == number) {
                first_use.push(number.to_string());
            }
        }
    }
    let expected: Vec<String> = (1..=first_use.len()).map(|n| n.to_string()).collect();
    assert_eq!(first_use, expected);
    let payloads: Vec<String> = files(bundle)
        .into_keys()
        .filter(|path| path.starts_with("payloads/"))
        .collect();
    let mut named: Vec<String> = expected
        .iter()
        .map(|n| format!("payloads/{n}.json"))
        .collect();
    named.sort();
    assert_eq!(payloads, named);
    Ok(())
}

#[test]
fn a_call_id_conflict_shrinks_to_the_same_small_fixpoint_whatever_the_jobs() -> TestResult {
    let temp = tempfile::tempdir()?;
    let bundle = generated(temp.path(), "conflict", 4)?;
    let call_id = harness::testing::inject_call_id_conflict(&bundle)?;
    assert!(error_of(&bundle).contains(CONFLICT));

    let one = temp.path().join("one");
    let outcome = minimize(&bundle, &one, Predicate::Error(CONFLICT.to_string()), 1)?;
    let two = temp.path().join("two");
    minimize(&bundle, &two, Predicate::Error(CONFLICT.to_string()), 2)?;
    assert_eq!(files(&one), files(&two));

    assert!(outcome.fixpoint);
    assert!(!outcome.reduces);
    assert!(outcome.result.events <= 8, "{:?}", outcome.result);
    assert!(outcome.result.bytes <= 8 << 10, "{:?}", outcome.result);
    assert_eq!(
        error_of(&one),
        format!(
            "trace.jsonl:{} (seq {}, inference_started): model-visible call id {call_id} {CONFLICT}",
            outcome.result.events, outcome.result.events
        )
    );
    assert_writer_numbering(&one)?;
    for index in 0..outcome.result.events {
        let smaller = temp.path().join("smaller");
        without_event(&one, index, &smaller)?;
        let error = error_of(&smaller);
        assert!(!error.contains(CONFLICT), "event {index} can go: {error}");
    }

    let summary = harness::minimize::summary(Path::new("conflict"), &outcome);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[0],
        format!("minimized conflict into {}", one.display())
    );
    assert_eq!(lines[1], "  from: 44 events, 348.2 KiB, 33 payload files");
    assert_eq!(
        lines[3],
        "  interesting: reduction fails with an error containing \"was reused with different content\""
    );
    assert!(
        lines[4]
            .ends_with("s; a fixpoint: no single removal or simplification keeps it interesting")
    );
    assert_eq!(
        lines[5..],
        ["  numbering: seq from 1; payload files renumbered in first-use order"]
    );
    assert_eq!(
        harness::minimize::next_step(&outcome),
        format!(
            "next: cargo xtask new-case NAME --from {} --err [--redact]\n",
            one.display()
        )
    );

    // Into a corpus, as `minimize --new-case` does.
    let corpus = Corpus::new(temp.path().join("corpus"));
    std::fs::create_dir_all(corpus.root())?;
    let created = harness::minimize::new_case(&corpus, "call_id_conflict", &one, false)?;
    assert_eq!(created.case.name, "err/0001_call_id_conflict");
    assert_eq!(created.warnings, Vec::<String>::new());
    assert_eq!(
        harness::trial::test_case(&corpus, &created.case, None, false),
        Ok(())
    );
    assert_eq!(harness::integrity::check(&corpus), vec![]);
    Ok(())
}

#[test]
fn a_diagnostic_shrinks_to_an_ok_case() -> TestResult {
    let temp = tempfile::tempdir()?;
    let bundle = generated(temp.path(), "other", 2)?;
    let mut lines = events(&bundle)?;
    let mut other = lines.last().ok_or("no events")?.clone();
    other["seq"] = Value::from(lines.len() + 1);
    other["payload"] = serde_json::json!({
        "type": "other", "kind": "mystery", "summary": "a producer's experiment",
        "payloads": [], "metadata": {"note": "kept"}
    });
    lines.insert(lines.len() / 2, other);
    let trace: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(at, event)| {
            let mut event = event.clone();
            event["seq"] = Value::from(at + 1);
            event.to_string() + "\n"
        })
        .collect();
    std::fs::write(bundle.join("trace.jsonl"), trace.concat())?;

    let out = temp.path().join("out");
    let predicate = Predicate::Diagnostic("has no reducer".to_string());
    let outcome = minimize(&bundle, &out, predicate, 2)?;
    assert!(outcome.fixpoint && outcome.reduces);
    assert_eq!(outcome.result.events, 1);
    assert_eq!(outcome.result.payload_files, 0);
    let reduction = rollout_trace::reduce_bundle(&out)?;
    assert_eq!(
        reduction
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "trace.jsonl:1 (seq 1, other): `other` event of kind `` has no reducer: its payload references were recorded and nothing else (upstream's reducer rejects the bundle with `raw trace event has no reducer implementation`)"
        ]
    );

    let corpus = Corpus::new(temp.path().join("corpus"));
    std::fs::create_dir_all(corpus.root())?;
    let created = harness::minimize::new_case(&corpus, "other_event", &out, false)?;
    assert_eq!(created.case.name, "ok/0001_other_event");
    assert_eq!(
        harness::trial::test_case(&corpus, &created.case, None, false),
        Ok(())
    );
    Ok(())
}

#[test]
fn uninteresting_originals_are_refused_and_nothing_is_written() -> TestResult {
    let temp = tempfile::tempdir()?;
    let bundle = generated(temp.path(), "fine", 1)?;
    let out = temp.path().join("out");
    let refusal = |predicate: Predicate| match minimize(&bundle, &out, predicate, 1) {
        Ok(_) => "minimized".to_string(),
        Err(message) => message,
    };
    assert_eq!(
        refusal(Predicate::Error("trace.jsonl:3 (seq 3".to_string())),
        "the original bundle is not interesting, so nothing was minimized: reduction fails with an error containing \"trace.jsonl:3 (seq 3\" does not hold: reduction succeeds (14 events)\n  note: TEXT names a line, a seq or a payload file, which change as events are removed and payloads renumbered; give only the message (e.g. `was reused with different content`)"
    );
    assert_eq!(
        refusal(Predicate::Diagnostic("anything".to_string())),
        "the original bundle is not interesting, so nothing was minimized: reduction succeeds with a diagnostic containing \"anything\" does not hold: reduction succeeds without diagnostics"
    );
    assert_eq!(
        refusal(Predicate::Exec("echo no >&2; exit 1".to_string())),
        "the original bundle is not interesting, so nothing was minimized: `echo no >&2; exit 1` exits 0 does not hold: the command exited with status 1; the end of its standard error:\n  no"
    );
    assert!(
        refusal(Predicate::Exec("no-such-command-anywhere".to_string()))
            .starts_with("the command cannot be run, so nothing was minimized: the command exited with status 127"),
    );
    assert!(!out.exists());

    // Interesting where it lies, but a copy has no symbolic link to follow.
    #[cfg(unix)]
    {
        let linked = generated(temp.path(), "linked", 1)?;
        std::fs::write(temp.path().join("outside.json"), "{}")?;
        std::fs::remove_file(linked.join("payloads/1.json"))?;
        std::os::unix::fs::symlink(
            temp.path().join("outside.json"),
            linked.join("payloads/1.json"),
        )?;
        let predicate = Predicate::Error("resolves through a symbolic link".to_string());
        let refused = minimize(&linked, &out, predicate, 1)
            .err()
            .unwrap_or_default();
        assert!(
            refused.starts_with(
                "the bundle is interesting where it lies but not as the minimizer copies it"
            ),
            "{refused}"
        );
        assert!(!out.exists());
    }

    std::fs::create_dir(&out)?;
    assert_eq!(
        refusal(Predicate::Exec("true".to_string())),
        format!("{} exists already: name a folder to create", out.display())
    );
    Ok(())
}

/// The environment variables that make [`other_reducer`] reduce.
const OTHER_BUNDLE: &str = "MINIMIZE_TEST_OTHER_BUNDLE";
const OTHER_OUT: &str = "MINIMIZE_TEST_OTHER_OUT";
const OTHER_MARKER: &str = "MINIMIZE_TEST_OTHER_MARKER";

/// Not a test of its own: the "other reducer" of the scripts below, which
/// call this test binary back with `--exact minimize::other_reducer`.
/// Without its variables it does nothing. It writes our state to OUT, with
/// `trace_id` changed when the bundle's log contains MARKER, and fails as we
/// fail.
#[test]
fn other_reducer() {
    let (Some(bundle), Some(out)) = (std::env::var_os(OTHER_BUNDLE), std::env::var_os(OTHER_OUT))
    else {
        return;
    };
    let Ok(reduction) = rollout_trace::reduce_bundle(&bundle) else {
        std::process::exit(1);
    };
    let mut state = rollout_trace::state_json(&reduction.trace);
    let marker = std::env::var(OTHER_MARKER).unwrap_or_default();
    let trace = std::fs::read_to_string(Path::new(&bundle).join("trace.jsonl")).unwrap_or_default();
    if !marker.is_empty() && trace.contains(&marker) {
        state = state.replacen("\"trace_id\": \"", "\"trace_id\": \"disagree-", 1);
    }
    if std::fs::write(out, state).is_err() {
        std::process::exit(2);
    }
}

/// A script `reduce-<name> BUNDLE OUT` that runs [`other_reducer`], with
/// `marker` (empty: none).
fn other_reducer_script(
    dir: &Path,
    name: &str,
    marker: &str,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let script = dir.join(format!("reduce-{name}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{OTHER_BUNDLE}=\"$1\" {OTHER_OUT}=\"$2\" {OTHER_MARKER}='{marker}' exec '{}' --exact minimize::other_reducer --test-threads 1 >/dev/null 2>&1\n",
            exe.display()
        ),
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(script)
}

#[test]
fn exec_and_differs_from_shrink_to_where_two_reducers_disagree() -> TestResult {
    let temp = tempfile::tempdir()?;
    let bundle = generated(temp.path(), "disagree", 2)?;
    // The second tool call's end: both reducers accept it, one differs.
    let marker = events(&bundle)?
        .iter()
        .filter(|event| event["payload"]["type"] == "tool_call_ended")
        .nth(1)
        .and_then(|event| {
            event["payload"]["tool_call_id"]
                .as_str()
                .map(str::to_string)
        })
        .ok_or("no second tool call")?;
    let plain = other_reducer_script(temp.path(), "plain", "")?;
    let marked = other_reducer_script(temp.path(), "marked", &marker)?;
    let check = temp.path().join("disagree.sh");
    std::fs::write(
        &check,
        format!(
            "#!/bin/sh\n'{}' \"$1\" \"$1/../a.json\" && '{}' \"$1\" \"$1/../b.json\" && ! cmp -s \"$1/../a.json\" \"$1/../b.json\"\n",
            plain.display(),
            marked.display()
        ),
    )?;

    let by_exec = temp.path().join("by-exec");
    let exec = Predicate::Exec(format!("sh '{}' {{}}", check.display()));
    let outcome = minimize(&bundle, &by_exec, exec, 2)?;
    assert!(outcome.fixpoint && outcome.reduces);
    let by_differs = temp.path().join("by-differs");
    let differs = Predicate::DiffersFrom(format!("'{}'", marked.display()));
    let outcome = minimize(&bundle, &by_differs, differs, 2)?;
    assert!(outcome.fixpoint && outcome.reduces);

    for result in [&by_exec, &by_differs] {
        let trace = std::fs::read_to_string(result.join("trace.jsonl"))?;
        assert!(trace.contains(&marker), "{trace}");
        let run_check = |bundle: &Path| {
            std::process::Command::new("sh")
                .arg(&check)
                .arg(bundle)
                .status()
                .map(|status| status.success())
        };
        assert!(run_check(result)?);
        for index in 0..events(result)?.len() {
            let smaller = temp.path().join("smaller");
            without_event(result, index, &smaller)?;
            assert!(!run_check(&smaller)?, "event {index} can go:\n{trace}");
        }
    }
    Ok(())
}
