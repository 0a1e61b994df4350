//! Where the checkout is: found when a command runs, never fixed when it was
//! compiled.
//!
//! Cargo does not rebuild a binary because its checkout was copied or moved,
//! so a path compiled in (`env!("CARGO_MANIFEST_DIR")`) would make a copy's
//! `cargo xtask bless` write into the original, and a moved checkout's
//! `cargo test` look for a corpus that is gone. The root is found, in order:
//!
//! 1. from [`OVERRIDE_VAR`], for layouts the rules below cannot see;
//! 2. from `CARGO_MANIFEST_DIR` in the *environment* of the process, which
//!    cargo sets for what `cargo run` and `cargo test` start (the folder of
//!    the package being run, inside the checkout being run);
//! 3. from the current directory, for a binary started by hand.
//!
//! In 2 and 3 the root is the nearest folder, at or above the start, whose
//! `Cargo.toml` has a `[workspace]` table.
//!
//! Invariant: every path a command of this workspace reads or writes in the
//! corpus, the target folder or the fuzz seeds derives from the root found
//! here, so nothing is written outside the checkout the command runs in.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::path::PathBuf;

/// Names the workspace root explicitly (an absolute path, or one relative to
/// the current directory).
pub const OVERRIDE_VAR: &str = "ROLLOUT_TRACE_WORKSPACE";

/// The workspace root of the checkout this process runs in.
pub fn root() -> Result<PathBuf, String> {
    let current_dir = std::env::current_dir()
        .map_err(|error| format!("cannot read the current directory: {error}"))?;
    root_from(
        std::env::var_os(OVERRIDE_VAR).as_deref(),
        std::env::var_os("CARGO_MANIFEST_DIR").as_deref(),
        &current_dir,
    )
}

/// [`root`] from the values it reads: the override, the run-time
/// `CARGO_MANIFEST_DIR`, and the current directory.
pub fn root_from(
    override_root: Option<&OsStr>,
    manifest_dir: Option<&OsStr>,
    current_dir: &Path,
) -> Result<PathBuf, String> {
    if let Some(root) = override_root.filter(|root| !root.is_empty()) {
        let root = current_dir.join(root);
        if !is_workspace(&root) {
            return Err(format!(
                "{OVERRIDE_VAR}={} names no workspace (no Cargo.toml with a [workspace] table there)",
                root.display()
            ));
        }
        return Ok(root);
    }
    let starts = manifest_dir
        .filter(|dir| !dir.is_empty())
        .map(|dir| current_dir.join(dir))
        .into_iter()
        .chain([current_dir.to_path_buf()]);
    for start in starts {
        if let Some(root) = start.ancestors().find(|dir| is_workspace(dir)) {
            return Ok(root.to_path_buf());
        }
    }
    Err(format!(
        "cannot find the workspace from {}: run the command inside the checkout (cargo xtask, cargo test) or set {OVERRIDE_VAR} to its root",
        current_dir.display()
    ))
}

/// Whether `dir` holds a `Cargo.toml` with a `[workspace]` table.
fn is_workspace(dir: &Path) -> bool {
    fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A checkout-like tree: `<temp>/work/{Cargo.toml,harness/,xtask/}`
    /// under a folder whose own `Cargo.toml` is a plain package.
    fn checkout() -> Result<(tempfile::TempDir, PathBuf), Box<dyn std::error::Error>> {
        let temp = tempfile::tempdir()?;
        fs::write(
            temp.path().join("Cargo.toml"),
            "[package]\nname = \"outer\"\n",
        )?;
        let root = temp.path().join("work");
        fs::create_dir_all(root.join("harness/src"))?;
        fs::create_dir_all(root.join("xtask"))?;
        fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"harness\"]\n",
        )?;
        fs::write(root.join("harness/Cargo.toml"), "[package]\nname = \"h\"\n")?;
        Ok((temp, root))
    }

    #[test]
    fn the_run_time_manifest_folder_wins_over_the_current_directory() -> TestResult {
        let (temp, root) = checkout()?;
        let (_other, elsewhere) = checkout()?;
        let found = root_from(None, Some(root.join("harness").as_os_str()), &elsewhere)?;
        assert_eq!(found, root);
        drop(temp);
        Ok(())
    }

    #[test]
    fn without_cargo_the_current_directory_decides() -> TestResult {
        let (_temp, root) = checkout()?;
        let found = root_from(None, None, &root.join("harness/src"))?;
        assert_eq!(found, root);
        Ok(())
    }

    #[test]
    fn a_moved_checkout_is_found_where_it_is_now() -> TestResult {
        let (temp, root) = checkout()?;
        let moved = temp.path().join("moved");
        fs::rename(&root, &moved)?;
        let found = root_from(None, Some(moved.join("xtask").as_os_str()), temp.path())?;
        assert_eq!(found, moved);
        Ok(())
    }

    #[test]
    fn the_override_names_the_root_and_is_checked() -> TestResult {
        let (_temp, root) = checkout()?;
        let (_other, elsewhere) = checkout()?;
        let found = root_from(
            Some(root.as_os_str()),
            Some(elsewhere.join("harness").as_os_str()),
            &elsewhere,
        )?;
        assert_eq!(found, root);
        let refused = root_from(Some(root.join("harness").as_os_str()), None, &root);
        assert_eq!(
            refused,
            Err(format!(
                "{OVERRIDE_VAR}={} names no workspace (no Cargo.toml with a [workspace] table there)",
                root.join("harness").display()
            ))
        );
        Ok(())
    }

    #[test]
    fn outside_any_workspace_the_error_says_what_to_do() -> TestResult {
        let temp = tempfile::tempdir()?;
        let refused = root_from(None, None, temp.path());
        assert_eq!(
            refused,
            Err(format!(
                "cannot find the workspace from {}: run the command inside the checkout (cargo xtask, cargo test) or set {OVERRIDE_VAR} to its root",
                temp.path().display()
            ))
        );
        Ok(())
    }
}
