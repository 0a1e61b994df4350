//! `Follower` equals batch replay at every step of a bundle being written:
//! appended line by line, byte by byte around line ends, with payload
//! files landing late, and with damage in strict and partial mode.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use rollout_trace::Follower;
use rollout_trace::ReduceOptions;
use rollout_trace::Reduction;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn corpus(case: &str) -> std::path::PathBuf {
    Path::new("../corpus/ok").join(case)
}

/// The state and diagnostics of a reduction, as comparable text.
fn text(reduction: &Reduction) -> String {
    let diagnostics: Vec<String> = reduction
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    format!(
        "{}\n{}",
        rollout_trace::state_json(&reduction.trace),
        diagnostics.join("\n")
    )
}

/// Batch replay of a bundle whose log is `log` (with `source`'s manifest and payloads).
fn batch(source: &Path, log: &[u8], options: &ReduceOptions) -> Result<String, String> {
    let scratch = tempfile::tempdir().map_err(|error| error.to_string())?;
    copy_files(source, scratch.path()).map_err(|error| error.to_string())?;
    fs::write(scratch.path().join("trace.jsonl"), log).map_err(|error| error.to_string())?;
    rollout_trace::reduce_bundle_with(scratch.path(), options)
        .map(|reduction| text(&reduction))
        .map_err(|error| error.to_string())
}

/// The manifest and payload files of `from` (not its log), into `to`.
fn copy_files(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::copy(from.join("manifest.json"), to.join("manifest.json"))?;
    let payloads = from.join("payloads");
    if payloads.is_dir() {
        fs::create_dir_all(to.join("payloads"))?;
        for entry in fs::read_dir(payloads)? {
            let entry = entry?;
            fs::copy(entry.path(), to.join("payloads").join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn followed(follower: &mut Follower) -> Result<String, String> {
    follower.poll().map_err(|error| error.to_string())?;
    match follower.reduction() {
        Ok(Some(reduction)) => Ok(text(&reduction)),
        Ok(None) => Err("still waiting for the manifest".to_string()),
        Err(error) => Err(error.to_string()),
    }
}

fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(bytes)
}

#[test]
fn every_prefix_equals_batch_replay_line_by_line_and_byte_by_byte() -> TestResult {
    for case in [
        "0490_example_code_mode_turn",
        "0491_example_multi_agent",
        "0517_plaintext_collaboration_envelopes_are_not_matched",
        "0102_z02_blank_lines_and_crlf_endings",
    ] {
        let source = corpus(case);
        let log = fs::read(source.join("trace.jsonl"))?;
        let live = tempfile::tempdir()?;
        let options = ReduceOptions::default();
        let mut follower = Follower::new(live.path(), options);
        // Nothing yet: it waits.
        assert_eq!(follower.poll()?.events, 0);
        assert!(follower.reduction()?.is_none());
        copy_files(&source, live.path())?;
        let trace = live.path().join("trace.jsonl");
        fs::write(&trace, b"")?;
        let mut written = 0;
        for (at, _) in log.iter().enumerate().filter(|(_, byte)| **byte == b'\n') {
            let line = &log[written..=at];
            // Around the line end: all but the newline, then all but the
            // last byte of it, are a line still being written.
            let cut = line.len().saturating_sub(2);
            append(&trace, &line[..cut])?;
            assert_eq!(
                followed(&mut follower),
                batch(&source, &log[..written], &options),
                "{case}: line being written at byte {written}"
            );
            append(&trace, &line[cut..line.len() - 1])?;
            assert_eq!(
                followed(&mut follower),
                batch(&source, &log[..written], &options),
                "{case}: newline missing at byte {at}"
            );
            append(&trace, &line[line.len() - 1..])?;
            written = at + 1;
            assert_eq!(
                followed(&mut follower),
                batch(&source, &log[..written], &options),
                "{case}: after byte {at}"
            );
        }
        assert_eq!(followed(&mut follower), batch(&source, &log, &options));
        assert_eq!(
            follower.rollout_ended(),
            log.windows(b"\"rollout_ended\"".len())
                .any(|window| window == b"\"rollout_ended\"")
        );
    }
    Ok(())
}

#[test]
fn an_event_waits_for_a_payload_file_that_lands_late() -> TestResult {
    let source = corpus("0490_example_code_mode_turn");
    let log = fs::read(source.join("trace.jsonl"))?;
    let live = tempfile::tempdir()?;
    fs::copy(
        source.join("manifest.json"),
        live.path().join("manifest.json"),
    )?;
    fs::create_dir(live.path().join("payloads"))?;
    fs::write(live.path().join("trace.jsonl"), &log)?;
    let options = ReduceOptions::default();
    let mut follower =
        Follower::new(live.path(), options).with_payload_timeout(Duration::from_secs(3600));
    let polled = follower.poll()?;
    // The first event naming a payload waits for it.
    let waiting = polled.waiting_for.unwrap_or_default();
    assert!(waiting.starts_with("payload file payloads/"), "{waiting}");
    let applied_before = follower.events();
    for entry in fs::read_dir(source.join("payloads"))? {
        let entry = entry?;
        fs::copy(
            entry.path(),
            live.path().join("payloads").join(entry.file_name()),
        )?;
    }
    assert_eq!(followed(&mut follower), batch(&source, &log, &options));
    assert!(follower.events() > applied_before);
    Ok(())
}

#[test]
fn damage_is_reported_as_batch_reports_it() -> TestResult {
    let source = corpus("0490_example_code_mode_turn");
    let mut log = fs::read(source.join("trace.jsonl"))?;
    // A complete line that does not parse, then more events.
    let third = log
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'\n')
        .nth(2)
        .map_or(0, |(at, _)| at + 1);
    log.splice(third..third, b"{\"seq\": \n".iter().copied());
    for partial in [false, true] {
        let options = ReduceOptions {
            partial,
            ..ReduceOptions::default()
        };
        let live = tempfile::tempdir()?;
        copy_files(&source, live.path())?;
        fs::write(live.path().join("trace.jsonl"), &log)?;
        let mut follower = Follower::new(live.path(), options);
        assert_eq!(followed(&mut follower), batch(&source, &log, &options));
        // Later lines change nothing: the state is the one before the damage.
        append(&live.path().join("trace.jsonl"), b"\n")?;
        assert_eq!(
            followed(&mut follower),
            batch(&source, &[&log[..], b"\n"].concat(), &options)
        );
    }
    Ok(())
}
