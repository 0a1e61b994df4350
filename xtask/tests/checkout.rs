//! `cargo xtask` works on the checkout it runs in, found at run time: a
//! copied or moved checkout (whose binaries were built elsewhere) counts and
//! blesses its own corpus and never touches the original's.
//!
//! Each test builds a small checkout in a scratch folder (a workspace
//! `Cargo.toml` and a corpus of two real cases) and runs this build's xtask
//! binary there, with the environment `cargo run` would give it in that
//! checkout (`CARGO_MANIFEST_DIR` naming its `xtask/`) or none at all.

use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Output;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const OK_CASE: &str = "ok/0001_s01_writer_records_payload_refs_and_replays_rollout_status";
const ERR_CASE: &str = "err/0036_s36_unsupported_model_item_is_reducer_error";

/// This checkout's corpus (tests run in the package folder, `xtask/`).
fn real_corpus() -> PathBuf {
    Path::new("../corpus").to_path_buf()
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// A checkout at `root`: a workspace manifest, an `xtask/` folder and a
/// corpus of [`OK_CASE`] and [`ERR_CASE`].
fn make_checkout(root: &Path) -> std::io::Result<()> {
    fs::create_dir_all(root.join("xtask"))?;
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"xtask\"]\n",
    )?;
    for case in [OK_CASE, ERR_CASE] {
        copy_tree(&real_corpus().join(case), &root.join("corpus").join(case))?;
    }
    Ok(())
}

/// This build's xtask, run in `dir` as cargo would run it from the checkout
/// at `manifest_root` (or, with `None`, started by hand: no cargo variables).
fn xtask(dir: &Path, manifest_root: Option<&Path>, args: &[&str]) -> std::io::Result<Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("ROLLOUT_TRACE_WORKSPACE")
        .env_remove("CI");
    if let Some(root) = manifest_root {
        command.env("CARGO_MANIFEST_DIR", root.join("xtask"));
    }
    command.output()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_copied_checkout_counts_its_own_cases() -> TestResult {
    let temp = tempfile::tempdir()?;
    let copy = temp.path().join("project-copy");
    make_checkout(&copy)?;
    let counted = xtask(&copy, Some(&copy), &["corpus"])?;
    assert!(counted.status.success(), "{counted:?}");
    assert_eq!(stdout(&counted), "2 cases: 1 ok, 1 err\n");

    fs::remove_dir_all(copy.join("corpus").join(ERR_CASE))?;
    let counted = xtask(&copy, Some(&copy), &["corpus"])?;
    assert_eq!(stdout(&counted), "1 cases: 1 ok, 0 err\n");
    Ok(())
}

#[test]
fn bless_in_a_copy_writes_the_copy_and_nothing_else() -> TestResult {
    let temp = tempfile::tempdir()?;
    let copy = temp.path().join("project-copy");
    make_checkout(&copy)?;
    let expected = Path::new(OK_CASE).join("expected.json");
    let original_bytes = fs::read(real_corpus().join(&expected))?;
    fs::write(copy.join("corpus").join(&expected), "{}")?;

    let blessed = xtask(&copy, Some(&copy), &["bless"])?;
    assert!(blessed.status.success(), "{blessed:?}");
    assert_eq!(
        fs::read(copy.join("corpus").join(&expected))?,
        original_bytes
    );
    assert_eq!(fs::read(real_corpus().join(&expected))?, original_bytes);
    Ok(())
}

#[test]
fn a_moved_checkout_is_found_where_it_is_now() -> TestResult {
    let temp = tempfile::tempdir()?;
    let before = temp.path().join("project");
    make_checkout(&before)?;
    let after = temp.path().join("project2");
    fs::rename(&before, &after)?;
    // As `cargo xtask` in the moved checkout starts it.
    let counted = xtask(&after, Some(&after), &["corpus"])?;
    assert_eq!(stdout(&counted), "2 cases: 1 ok, 1 err\n", "{counted:?}");
    // Started by hand from a folder inside it.
    let counted = xtask(&after.join("corpus").join("ok"), None, &["corpus"])?;
    assert_eq!(stdout(&counted), "2 cases: 1 ok, 1 err\n", "{counted:?}");
    Ok(())
}

#[test]
fn outside_a_checkout_it_says_where_it_looked_and_writes_nothing() -> TestResult {
    let temp = tempfile::tempdir()?;
    let refused = xtask(temp.path(), None, &["bless"])?;
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("cannot find the workspace from")
            && message.contains("ROLLOUT_TRACE_WORKSPACE"),
        "{message}"
    );
    assert_eq!(fs::read_dir(temp.path())?.count(), 0);
    Ok(())
}
