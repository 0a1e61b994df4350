//! `rollout-trace reduce --follow` on a bundle written while it runs: it
//! ends by itself after `rollout_ended` with the batch output, and on
//! SIGINT with the output of every complete event.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SOURCE: &str = "../corpus/ok/0491_example_multi_agent";

fn batch_state(bundle: &Path) -> Result<String, rollout_trace::ReduceError> {
    Ok(rollout_trace::state_json(
        &rollout_trace::reduce_bundle(bundle)?.trace,
    ))
}

/// Writes the source bundle into `live` as a writer would: payload files
/// first, then each line, sometimes in two writes; up to `lines` lines.
fn write_live(live: &Path, lines: usize) -> std::io::Result<()> {
    let source = Path::new(SOURCE);
    fs::create_dir_all(live.join("payloads"))?;
    fs::copy(source.join("manifest.json"), live.join("manifest.json"))?;
    for entry in fs::read_dir(source.join("payloads"))? {
        let entry = entry?;
        fs::copy(entry.path(), live.join("payloads").join(entry.file_name()))?;
    }
    let log = fs::read_to_string(source.join("trace.jsonl"))?;
    let mut trace = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(live.join("trace.jsonl"))?;
    for (index, line) in log.lines().take(lines).enumerate() {
        let (first, second) = line.split_at(line.len() / 2);
        trace.write_all(first.as_bytes())?;
        if index % 3 == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        trace.write_all(second.as_bytes())?;
        trace.write_all(b"\n")?;
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

#[test]
fn it_ends_after_rollout_ended_with_the_batch_output() -> TestResult {
    let scratch = tempfile::tempdir()?;
    let live = scratch.path().join("live");
    let output = scratch.path().join("state.json");
    // Started before the bundle exists: it waits for it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollout-trace"))
        .args(["reduce", "--follow", "--interval", "40", "-o"])
        .arg(&output)
        .arg(&live)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(200));
    write_live(&live, usize::MAX)?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            panic!("--follow did not end after rollout_ended");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    assert_eq!(fs::read_to_string(&output)?, batch_state(&live)?);
    Ok(())
}

#[test]
fn sigint_writes_the_state_of_every_complete_event_and_exits_0() -> TestResult {
    let scratch = tempfile::tempdir()?;
    let live = scratch.path().join("live");
    write_live(&live, 20)?;
    // Half a line more: a write in progress, not damage.
    fs::OpenOptions::new()
        .append(true)
        .open(live.join("trace.jsonl"))?
        .write_all(br#"{"schema_version":1,"seq":21,"#)?;
    let output = scratch.path().join("state.json");
    let child = Command::new(env!("CARGO_BIN_EXE_rollout-trace"))
        .args(["reduce", "--follow", "--interval", "40", "-o"])
        .arg(&output)
        .arg(&live)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(800));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()?;
    assert!(killed.success());
    let result = child.wait_with_output()?;
    assert!(result.status.success(), "{result:?}");
    // The batch output of the 20 complete lines.
    let complete = tempfile::tempdir()?;
    write_live(complete.path(), 20)?;
    assert_eq!(fs::read_to_string(&output)?, batch_state(complete.path())?);
    Ok(())
}
