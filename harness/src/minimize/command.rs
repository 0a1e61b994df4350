//! Running a user's command on a candidate (`--exec`, `--differs-from`):
//! a shell command with a time limit, killed with everything it started
//! when the limit passes.
//!
//! Invariants:
//! - The command runs through `sh -c`, so a user writes it as they would in
//!   a terminal; the paths it gets are passed as positional parameters or
//!   single-quoted, never spliced in unquoted.
//! - Standard input is empty and standard output discarded; standard error
//!   goes to a file, so a refusal can show its last lines.
//! - On Unix the command leads a process group of its own, and a timeout
//!   kills the whole group (`kill -KILL -<group>`), not just the shell.

use std::fs;
use std::path::Path;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::thread;
use std::time::Duration;
use std::time::Instant;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Exit {
    /// It exited with this status (`None`: killed by a signal).
    Status(Option<i32>),
    TimedOut,
    /// It could not be started.
    Unstarted(String),
}

impl Exit {
    pub(super) fn success(&self) -> bool {
        *self == Exit::Status(Some(0))
    }

    /// The shell's own "command not found" or "not executable" status: the
    /// command never ran.
    pub(super) fn not_run(&self) -> bool {
        matches!(self, Exit::Status(Some(126 | 127)) | Exit::Unstarted(_))
    }

    pub(super) fn describe(&self, timeout: Duration) -> String {
        match self {
            Exit::Status(Some(code)) => format!("exited with status {code}"),
            Exit::Status(None) => "was killed by a signal".to_string(),
            Exit::TimedOut => format!(
                "did not finish within {} s and was killed",
                timeout.as_secs_f64()
            ),
            Exit::Unstarted(error) => format!("could not be started: {error}"),
        }
    }
}

/// `CMD` with `{}` replaced by the quoted `folder`, or with the folder as
/// its last argument when it has no `{}` (C-Reduce's and `find -exec`'s
/// conventions).
pub(super) fn exec_script(command: &str, folder: &Path) -> (String, Vec<String>) {
    let folder = folder.to_string_lossy().into_owned();
    if command.contains("{}") {
        (command.replace("{}", &quote(&folder)), Vec::new())
    } else {
        (format!("{command} \"$1\""), vec![folder])
    }
}

/// `CMD BUNDLE OUT`, as `codex debug trace-reduce`-like tools are called.
pub(super) fn reducer_script(command: &str, bundle: &Path, out: &Path) -> (String, Vec<String>) {
    (
        format!("{command} \"$1\" \"$2\""),
        vec![
            bundle.to_string_lossy().into_owned(),
            out.to_string_lossy().into_owned(),
        ],
    )
}

/// A string as one single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs `sh -c script sh args...`, standard error into `stderr`, for at
/// most `timeout`.
pub(super) fn run(script: &str, args: &[String], stderr: &Path, timeout: Duration) -> Exit {
    let error_file = match fs::File::create(stderr) {
        Ok(file) => file,
        Err(error) => return Exit::Unstarted(format!("create {}: {error}", stderr.display())),
    };
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(error_file);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return Exit::Unstarted(error.to_string()),
    };
    let started = Instant::now();
    // Most commands end in milliseconds: poll often at first, then less.
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Exit::Status(status.code()),
            Ok(None) => {}
            Err(error) => {
                kill(&mut child);
                return Exit::Unstarted(error.to_string());
            }
        }
        if started.elapsed() >= timeout {
            kill(&mut child);
            return Exit::TimedOut;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Kills the command and everything in its process group, then reaps it.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        // The workspace forbids `unsafe`, so no `killpg` call: the `kill`
        // utility signals the group.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `lines` lines of a text file, for a message (empty if unreadable).
pub(super) fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_quoted_or_passed_as_arguments() {
        let folder = Path::new("/tmp/it's here");
        assert_eq!(
            exec_script("./check.sh {} --strict", folder),
            (
                r"./check.sh '/tmp/it'\''s here' --strict".to_string(),
                Vec::new()
            )
        );
        assert_eq!(
            exec_script("./check.sh --strict", folder),
            (
                "./check.sh --strict \"$1\"".to_string(),
                vec!["/tmp/it's here".to_string()]
            )
        );
    }

    #[test]
    fn a_command_that_overruns_is_killed_with_its_children() -> std::io::Result<()> {
        let scratch = tempfile::tempdir()?;
        let stderr = scratch.path().join("stderr");
        let started = Instant::now();
        let exit = run("sleep 30 & wait", &[], &stderr, Duration::from_millis(200));
        assert_eq!(exit, Exit::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(10));
        let exit = run(
            "echo oops >&2; exit 3",
            &[],
            &stderr,
            Duration::from_secs(30),
        );
        assert_eq!(exit, Exit::Status(Some(3)));
        assert_eq!(tail(&stderr, 5), "oops");
        assert!(run("exit 0", &[], &stderr, Duration::from_secs(30)).success());
        assert!(
            run(
                "no-such-command-here",
                &[],
                &stderr,
                Duration::from_secs(30)
            )
            .not_run()
        );
        Ok(())
    }
}
