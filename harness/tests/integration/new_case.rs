//! `new-case` end to end, as the library function xtask calls: cases made
//! from corpus examples and synthetic bundles in temporary corpora (never in
//! `corpus/`), the shape check of redaction, refusals that leave nothing
//! behind, and redaction's length and structure guarantees over every
//! document of the corpus.

use std::io;
use std::path::Path;
use std::path::PathBuf;

use harness::Case;
use harness::CaseKind;
use harness::Corpus;
use harness::new_case::Request;
use harness::new_case::create;
use harness::new_case::summary;
use harness::redact::Redactor;
use harness::run::Output;
use harness::testing::MANIFEST;
use harness::testing::write_files;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An example case of the real corpus, used read-only.
fn example(name: &str) -> PathBuf {
    harness::corpus_root()
        .unwrap_or_else(|error| panic!("{error}"))
        .join("ok")
        .join(name)
}

/// A temporary folder holding an empty `corpus/`.
fn temp_corpus(prefix: &str) -> io::Result<(tempfile::TempDir, Corpus)> {
    let temp = tempfile::Builder::new()
        .prefix(&format!("harness-{}-", prefix))
        .tempdir()?;
    let root = temp.path().join("corpus");
    std::fs::create_dir_all(&root)?;
    Ok((temp, Corpus::new(root)))
}

/// Every file and folder below `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let relative = entry.path().strip_prefix(dir).ok()?;
            Some(relative.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

fn output_of(dir: &Path) -> Output {
    let case = Case {
        name: String::new(),
        kind: CaseKind::Ok,
        dir: dir.to_path_buf(),
    };
    harness::run::reduce_once(&case, &Default::default()).0
}

fn state(dir: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    let reduction = rollout_trace::reduce_bundle(dir)?;
    Ok(serde_json::from_str(&rollout_trace::state_json(
        &reduction.trace,
    ))?)
}

fn redacting<'a>(name: &'a str, from: &'a Path) -> Request<'a> {
    Request {
        name,
        from,
        kind: CaseKind::Ok,
        redactor: Some(Redactor::new()),
    }
}

#[test]
fn redacted_examples_keep_their_shape_and_pass_at_once() -> TestResult {
    let (_temp, corpus) = temp_corpus("new-case-redact")?;
    for (name, source, payloads, private) in [
        (
            "multi_agent_redacted",
            "0491_example_multi_agent",
            38,
            "Audit frontend/package.json",
        ),
        (
            "code_mode_redacted",
            "0490_example_code_mode_turn",
            20,
            "rg --files",
        ),
    ] {
        let from = example(source);
        let created = create(&corpus, &redacting(name, &from))?;
        let number = if payloads == 38 { "0001" } else { "0002" };
        let shown = format!("corpus/ok/{number}_{name}");
        assert_eq!(
            summary(&corpus, &created),
            format!(
                "created {shown} from {source}\n  copied: manifest.json, trace.jsonl, {payloads} payload files, redacted\n  shape check: the redacted bundle reduces to the same objects, ids and edges as the original\n  wrote: README.md, expected.json\nnext: describe what the case pins in {shown}/README.md (and add `check:` lines), then run `cargo test -p harness --test corpus -- --exact ok/{number}_{name}`\n"
            )
        );
        assert_eq!(created.warnings, Vec::<String>::new());
        let dir = &created.case.dir;
        let files = listing(dir);
        assert_eq!(files.len(), 5 + payloads, "{files:?}");

        // The case passes where it lies, and its expectation is the state.
        assert_eq!(
            harness::trial::test_case(&corpus, &created.case, None, false),
            Ok(())
        );
        assert_eq!(harness::integrity::check(&corpus), vec![]);
        let original = state(&from)?;
        let redacted = state(dir)?;
        assert_eq!(
            std::fs::read_to_string(dir.join("expected.json"))?,
            format!("{}\n", serde_json::to_string_pretty(&redacted)?)
        );

        // Same shape; threads and edges hold no free text, so they are equal whole.
        assert_eq!(
            harness::shape::compare(&output_of(&from), &output_of(dir)),
            Ok(())
        );
        for map in [
            "threads",
            "interaction_edges",
            "raw_payloads",
            "codex_turns",
        ] {
            assert_eq!(original[map], redacted[map], "{map}");
        }
        assert_ne!(original, redacted);

        // The private text is gone from every file.
        for file in files
            .iter()
            .filter(|file| file.ends_with(".json") || file.ends_with(".jsonl"))
        {
            let text = std::fs::read_to_string(dir.join(file))?;
            assert!(!text.contains(private), "{file} still holds {private:?}");
        }
    }
    Ok(())
}

#[test]
fn a_copy_is_byte_for_byte_and_numbered_after_the_highest_case_of_its_kind() -> TestResult {
    let (_temp, corpus) = temp_corpus("new-case-copy")?;
    for folder in ["ok/0041_older", "ok/0007_oldest", "err/0099_failing"] {
        std::fs::create_dir_all(corpus.root().join(folder))?;
    }
    let from = example("0490_example_code_mode_turn");
    let request = Request {
        name: "code_mode_copy",
        from: &from,
        kind: CaseKind::Ok,
        redactor: None,
    };
    let created = create(&corpus, &request)?;
    assert_eq!(created.case.name, "ok/0042_code_mode_copy");
    assert_eq!(
        summary(&corpus, &created),
        "created corpus/ok/0042_code_mode_copy from 0490_example_code_mode_turn\n  copied: manifest.json, trace.jsonl, 20 payload files\n  wrote: README.md, expected.json\nnext: describe what the case pins in corpus/ok/0042_code_mode_copy/README.md (and add `check:` lines), then run `cargo test -p harness --test corpus -- --exact ok/0042_code_mode_copy`\n"
    );
    let dir = &created.case.dir;
    for file in listing(dir) {
        if ["README.md", "expected.json", "payloads"].contains(&file.as_str()) {
            continue;
        }
        assert_eq!(
            std::fs::read(dir.join(&file))?,
            std::fs::read(from.join(&file))?,
            "{file}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md"))?,
        "# Code mode copy\n\nScenario: none\n\nMade by `cargo xtask new-case` from `0490_example_code_mode_turn`, a real trace.\nTODO: describe what this case pins and why the expected output is right (cite reduction.md), then add\n`check:` lines for the facts it pins.\n"
    );
    assert_eq!(
        std::fs::read(dir.join("expected.json"))?,
        std::fs::read(from.join("expected.json"))?
    );
    Ok(())
}

#[test]
fn refusals_leave_the_corpus_as_it_was() -> TestResult {
    let (temp, corpus) = temp_corpus("new-case-refuse")?;
    std::fs::create_dir_all(corpus.root().join("err/0007_taken"))?;
    let rejected = temp.path().join("rejected");
    write_files(
        &rejected,
        &[
            ("manifest.json", MANIFEST),
            (
                "trace.jsonl",
                "{\"schema_version\":1,\"seq\":1,\"wall_time_unix_ms\":1001,\"rollout_id\":\"rollout-1\",\"thread_id\":null,\"codex_turn_id\":null,\"payload\":{\"type\":\"codex_turn_started\",\"codex_turn_id\":\"turn-1\",\"thread_id\":\"thread-ghost\"}}\n",
            ),
        ],
    )?;
    let reduces = example("0490_example_code_mode_turn");
    let nowhere = temp.path().join("nowhere");
    let before = listing(corpus.root());
    let attempts = [
        ("Bad-Name", reduces.as_path(), CaseKind::Ok, None),
        ("taken", reduces.as_path(), CaseKind::Ok, None),
        ("must_fail", reduces.as_path(), CaseKind::Err, None),
        (
            "must_reduce",
            rejected.as_path(),
            CaseKind::Ok,
            Some(Redactor::new()),
        ),
        ("nowhere", nowhere.as_path(), CaseKind::Ok, None),
        ("empty", temp.path(), CaseKind::Ok, None),
    ]
    .map(|(name, from, kind, redactor)| {
        let request = Request {
            name,
            from,
            kind,
            redactor,
        };
        create(&corpus, &request)
            .map(|created| created.case.name)
            .map_err(|error| error.replace(&temp.path().display().to_string(), "$TEMP"))
    });
    assert_eq!(
        attempts,
        [
            Err("the case name \"Bad-Name\" is not lowercase snake_case (like `resumed_child_thread`); the number is added for you".to_string()),
            Err("a case called taken exists already: corpus/err/0007_taken".to_string()),
            Err("the bundle reduces, so it cannot be a must-fail case: drop --err".to_string()),
            Err("the bundle does not reduce (trace.jsonl:1 (seq 1, codex_turn_started): trace event referenced unknown thread thread-ghost): pass --err to make it a must-fail case".to_string()),
            Err("no bundle at $TEMP/nowhere: No such file or directory (os error 2) (pass the bundle folder or its trace.jsonl)".to_string()),
            Err("$TEMP is not a trace bundle: it has neither manifest.json nor trace.jsonl".to_string()),
        ]
    );
    assert_eq!(listing(corpus.root()), before);
    Ok(())
}

#[test]
fn the_shape_check_catches_a_redacted_id() -> TestResult {
    let (_temp, corpus) = temp_corpus("new-case-shape")?;
    let from = example("0491_example_multi_agent");
    let mut outcomes = Vec::new();
    for key in ["edge_id", "tool_call_id"] {
        let request = Request {
            redactor: Some(Redactor::new().also_redacting(key)),
            ..redacting("ids_redacted", &from)
        };
        outcomes.push(create(&corpus, &request).map(|created| created.case.name));
    }
    assert_eq!(
        outcomes,
        [
            Err(r#"redaction changed what the bundle reduces to, so no case was made: the redacted bundle reduces to another shape: interaction_edges["edge:agent_result:019d0000-0000-7000-8000-000000000002:019d0000-0b1e-7c00-8000-00000000b001:019d0000-0000-7000-8000-000000000001"]: {"edge_id":"edge:agent_result:019d0000-0000-7000-8000-000000000002:019d0000-0b1e-7c00-8000-00000000b001:019d0000-0000-70... -> (absent) (and 5 more differences)"#.to_string()),
            Err(r#"redaction changed what the bundle reduces to, so no case was made: the redacted bundle reduces to another shape: conversation_items["conversation_item:18"].produced_by[0].tool_call_id: "call_F0llowUpTask00000003" -> "wcng_Y5zqjkBqQyup79756062" (and 21 more differences)"#.to_string()),
        ]
    );
    assert_eq!(listing(corpus.root()), Vec::<String>::new());
    Ok(())
}

// Unix only: the bundle has a symbolic link.
#[cfg(unix)]
#[test]
fn payload_references_are_copied_only_when_they_stay_in_the_bundle() -> TestResult {
    let (temp, corpus) = temp_corpus("new-case-payloads")?;
    let event = |seq: u32, path: &str| {
        format!(
            "{{\"schema_version\":1,\"seq\":{seq},\"wall_time_unix_ms\":{},\"rollout_id\":\"rollout-1\",\"thread_id\":null,\"codex_turn_id\":null,\"payload\":{{\"type\":\"protocol_event_observed\",\"event_type\":\"warning\",\"event_payload\":{{\"raw_payload_id\":\"raw_payload:{seq}\",\"kind\":{{\"type\":\"protocol_event\"}},\"path\":\"{path}\"}}}}}}\n",
            1000 + seq
        )
    };
    let trace = [
        event(1, "payloads/1.json"),
        event(2, "./payloads/1.json"),
        event(3, "payloads/9.json"),
        event(4, "../outside.json"),
        event(5, "/etc/hostname"),
        event(6, "other/6.json"),
        event(7, "payloads/7.json"),
        // A damaged line: its reference is not copied.
        "{\"schema_version\":1,\"seq\":8,\"payload\":{\"path\":\"payloads/8.json\"\n".to_string(),
    ]
    .concat();
    let bundle = temp.path().join("bundle");
    write_files(
        &bundle,
        &[
            ("manifest.json", MANIFEST),
            ("trace.jsonl", &trace),
            ("payloads/1.json", "{\"msg\":\"one\"}"),
            ("payloads/8.json", "{}"),
            ("other/6.json", "{}"),
        ],
    )?;
    write_files(temp.path(), &[("outside.json", "{}")])?;
    std::os::unix::fs::symlink(
        temp.path().join("outside.json"),
        bundle.join("payloads/7.json"),
    )?;
    let request = Request {
        name: "payload_paths",
        from: &bundle.join("trace.jsonl"),
        kind: CaseKind::Err,
        redactor: None,
    };
    let created = create(&corpus, &request)?;
    assert_eq!(
        created.warnings,
        [
            "payload path `../outside.json` (raw_payload:4, trace.jsonl line 4) contains `..` and could leave the bundle folder; not copied",
            "payload path `/etc/hostname` (raw_payload:5, trace.jsonl line 5) is absolute; payload paths must be relative to the bundle folder; not copied",
            "payload path `other/6.json` (raw_payload:6, trace.jsonl line 6) is not under payloads/, the only folder of a case that holds payload files; not copied",
            "payload path `payloads/7.json` (raw_payload:7, trace.jsonl line 7) resolves through a symbolic link to a file outside the bundle folder; not copied",
            "payload path `payloads/9.json` (raw_payload:3, trace.jsonl line 3) names no file of the bundle; not copied (fine if the case is about a missing payload)",
        ]
    );
    assert_eq!(created.payload_files, 1);
    // Given its event log, the case still names the bundle folder, not a path.
    assert_eq!(created.source, "bundle");
    assert_eq!(
        listing(&created.case.dir),
        [
            "README.md",
            "expected.err",
            "manifest.json",
            "payloads",
            "payloads/1.json",
            "trace.jsonl"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(created.case.dir.join("expected.err"))?,
        "trace.jsonl:8: parse trace event line 8: EOF while parsing an object at line 1 column 63\n"
    );
    Ok(())
}

/// Each string replaced by its length in characters: what redaction keeps.
fn skeleton(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::from(text.chars().count()),
        Value::Array(items) => Value::Array(items.iter().map(skeleton).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, value)| (key.clone(), skeleton(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn redaction_keeps_the_length_and_structure_of_every_corpus_document() -> TestResult {
    let redactor = Redactor::new();
    let mut documents = 0;
    for entry in
        walkdir::WalkDir::new(harness::corpus_root().unwrap_or_else(|error| panic!("{error}")))
            .sort_by_file_name()
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file()
            || !(name.ends_with(".json") || name == "trace.jsonl")
            || name.starts_with("expected")
        {
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        let pieces: Vec<&[u8]> = if name == "trace.jsonl" {
            bytes.split_inclusive(|&byte| byte == b'\n').collect()
        } else {
            vec![bytes.as_slice()]
        };
        for original in pieces {
            documents += 1;
            let redacted = redactor.document(original);
            let path = entry.path().display();
            assert_eq!(redacted.len(), original.len(), "{path}");
            let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
            let (before, after) = (parse(original), parse(&redacted));
            assert_eq!(before.is_some(), after.is_some(), "{path}");
            if let (Some(before), Some(after)) = (before, after) {
                assert_eq!(skeleton(&before), skeleton(&after), "{path}");
            }
        }
    }
    assert!(documents > 1000, "only {documents} documents");
    Ok(())
}
