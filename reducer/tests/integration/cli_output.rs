//! `-o` writes into what the path names (issue: `-o /dev/null` run as root
//! replaced the machine's `/dev/null`): devices and FIFOs are written to,
//! symbolic links keep being links, regular files are replaced atomically.
//! Every test works on scratch nodes, never on the machine's own `/dev/null`.

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Command;
use std::process::Output;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BUNDLE: &str = "../corpus/ok/0490_example_code_mode_turn";

/// Opens `fifo` for writing without waiting, so a reader blocked on it
/// returns (when the reducer failed before opening it).
fn release(fifo: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    const O_NONBLOCK: i32 = 0o4000;
    let _ = fs::OpenOptions::new()
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(fifo);
}

fn reduce(args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_rollout-trace"))
        .arg("reduce")
        .arg(BUNDLE)
        .args(args)
        .output()
}

fn expected_state() -> Result<String, Box<dyn std::error::Error>> {
    Ok(rollout_trace::state_json(
        &rollout_trace::reduce_bundle(BUNDLE)?.trace,
    ))
}

#[test]
fn a_symbolic_link_stays_a_link_and_its_target_is_replaced() -> TestResult {
    let scratch = tempfile::tempdir()?;
    let target = scratch.path().join("target.json");
    let link = scratch.path().join("state.json");
    fs::write(&target, "old")?;
    std::os::unix::fs::symlink("target.json", &link)?;
    let output = reduce(&["-o", &link.display().to_string()])?;
    assert!(output.status.success(), "{output:?}");
    assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
    assert_eq!(fs::read_link(&link)?, Path::new("target.json"));
    assert_eq!(fs::read_to_string(&target)?, expected_state()?);
    // Only the link and its target: the temporary file went beside the target.
    assert_eq!(fs::read_dir(scratch.path())?.count(), 2);
    Ok(())
}

#[test]
fn a_link_to_a_missing_file_creates_the_target() -> TestResult {
    let scratch = tempfile::tempdir()?;
    fs::create_dir(scratch.path().join("out"))?;
    let link = scratch.path().join("state.json");
    std::os::unix::fs::symlink("out/new.json", &link)?;
    let output = reduce(&["-o", &link.display().to_string()])?;
    assert!(output.status.success(), "{output:?}");
    assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
    assert_eq!(
        fs::read_to_string(scratch.path().join("out/new.json"))?,
        expected_state()?
    );
    Ok(())
}

#[test]
fn a_fifo_is_written_to_and_stays_a_fifo() -> TestResult {
    let scratch = tempfile::tempdir()?;
    let fifo = scratch.path().join("state.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status()?;
    assert!(made.success(), "mkfifo failed");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo))
    };
    let output = reduce(&["-o", &fifo.display().to_string()])?;
    if !output.status.success() {
        release(&fifo);
    }
    assert!(output.status.success(), "{output:?}");
    let read = reader.join().map_err(|_| "the reader panicked")??;
    assert_eq!(read, expected_state()?);
    assert!(fs::symlink_metadata(&fifo)?.file_type().is_fifo());
    // A view is written to it the same way.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo))
    };
    let output = reduce(&["--format", "summary", "-o", &fifo.display().to_string()])?;
    if !output.status.success() {
        release(&fifo);
    }
    assert!(output.status.success(), "{output:?}");
    let read = reader.join().map_err(|_| "the reader panicked")??;
    assert!(read.starts_with("rollout "), "{read}");
    assert!(fs::symlink_metadata(&fifo)?.file_type().is_fifo());
    Ok(())
}

#[test]
fn a_character_device_is_written_to_and_stays_a_device() -> TestResult {
    let scratch = tempfile::tempdir()?;
    let device = scratch.path().join("nulldev");
    // The same device as /dev/null (1, 3), made here: only root may.
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .output()?;
    if !made.status.success() {
        eprintln!(
            "skipped: mknod needs root here ({})",
            String::from_utf8_lossy(&made.stderr).trim()
        );
        return Ok(());
    }
    let output = reduce(&["-o", &device.display().to_string()])?;
    assert!(output.status.success(), "{output:?}");
    assert!(fs::symlink_metadata(&device)?.file_type().is_char_device());
    Ok(())
}

#[test]
fn dev_stdout_is_standard_output() -> TestResult {
    let output = reduce(&["-o", "/dev/stdout"])?;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout)?, expected_state()?);
    Ok(())
}

#[test]
fn a_folder_is_refused() -> TestResult {
    let scratch = tempfile::tempdir()?;
    let output = reduce(&["-o", &scratch.path().display().to_string()])?;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8(output.stderr)?.contains("is a folder"));
    Ok(())
}
