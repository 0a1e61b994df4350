//! What makes a candidate interesting, and judging candidates.
//!
//! Invariants:
//! - The built-in predicates (`--error`, `--diagnostic`) reduce in process,
//!   from memory: no file and no process per candidate. Only when the
//!   original is interesting on disk but not in memory (texts that name the
//!   bundle folder, symbolic links) are candidates written to a scratch
//!   folder and reduced from there.
//! - Commands (`--exec`, `--differs-from`) get the candidate written to a
//!   scratch folder of the worker's own (`<scratch>/<slot>/bundle`), so
//!   parallel workers never share files; a command that overruns its time
//!   limit is killed and the candidate counts as not interesting.
//! - TEXT is matched as a substring of the whole text the user sees (the
//!   place, then upstream's message), case-sensitive.
//! - States are compared as JSON, member order included (as `state.json`
//!   is compared byte for byte); formatting is not compared.

use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use rollout_trace::ReduceError;
use rollout_trace::ReduceOptions;
use rollout_trace::Reduction;
use serde_json::Value;

use super::bundle::Rendered;
use super::command;
use super::command::Exit;

/// What makes a bundle interesting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// Reduction fails with a message containing this text.
    Error(String),
    /// Reduction succeeds and reports a diagnostic containing this text.
    Diagnostic(String),
    /// The state differs from what this command writes when run as
    /// `CMD BUNDLE OUT`, or exactly one of the two fails.
    DiffersFrom(String),
    /// This shell command exits 0 (`{}` is the candidate folder, else the
    /// folder is its last argument).
    Exec(String),
}

impl Predicate {
    /// The predicate in words, for summaries and refusals.
    pub fn describe(&self) -> String {
        match self {
            Predicate::Error(text) => format!("reduction fails with an error containing {text:?}"),
            Predicate::Diagnostic(text) => {
                format!("reduction succeeds with a diagnostic containing {text:?}")
            }
            Predicate::DiffersFrom(command) => format!(
                "the state differs from what `{command} BUNDLE OUT` writes, or exactly one of the two fails"
            ),
            Predicate::Exec(command) => format!("`{command}` exits 0"),
        }
    }

    /// A word of warning when TEXT names a position (a line, a seq, a
    /// payload file): positions change as events go, so such a predicate
    /// keeps every event before the one it names.
    pub fn warning(&self) -> Option<String> {
        let (Predicate::Error(text) | Predicate::Diagnostic(text)) = self else {
            return None;
        };
        let positional = ["trace.jsonl:", "(seq ", "payloads/", "raw_payload:"]
            .iter()
            .any(|mark| text.contains(mark));
        positional.then(|| {
            "TEXT names a line, a seq or a payload file, which change as events are removed and payloads renumbered; \
             give only the message (e.g. `was reused with different content`)"
                .to_string()
        })
    }

    /// Whether judging runs the user's command.
    pub fn runs_commands(&self) -> bool {
        matches!(self, Predicate::DiffersFrom(_) | Predicate::Exec(_))
    }
}

/// A judgement: interesting, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    Interesting,
    Boring(String),
    /// The user's command could not run at all (the shell could not find
    /// or execute it): not interesting, and worth saying so at once.
    Unrunnable(String),
}

impl Verdict {
    pub(super) fn interesting(&self) -> bool {
        *self == Verdict::Interesting
    }
}

/// What is judged: a candidate, or a bundle folder as it lies.
#[derive(Clone, Copy)]
enum Subject<'a> {
    Candidate(&'a Rendered),
    Folder(&'a Path),
}

/// Judges candidates for one predicate.
pub(super) struct Judge {
    pub(super) predicate: Predicate,
    pub(super) options: ReduceOptions,
    /// Reduce candidates of the built-in predicates from a folder.
    pub(super) on_disk: bool,
    /// Per-candidate limit of a command.
    pub(super) timeout: Duration,
    /// Scratch space: one folder per worker slot.
    scratch: tempfile::TempDir,
}

impl Judge {
    pub(super) fn new(predicate: Predicate, options: ReduceOptions) -> Result<Judge, String> {
        let scratch = tempfile::Builder::new()
            .prefix("minimize-")
            .tempdir()
            .map_err(|error| format!("create a scratch folder: {error}"))?;
        Ok(Judge {
            predicate,
            options,
            on_disk: false,
            timeout: Duration::from_secs(3600),
            scratch,
        })
    }

    /// Judges `candidate` with the scratch folder of worker `slot`.
    pub(super) fn verdict(&self, candidate: &Rendered, slot: usize) -> Verdict {
        self.judge(Subject::Candidate(candidate), slot)
            .unwrap_or_else(Verdict::Boring)
    }

    /// Judges the bundle in `folder` as it lies (the written result).
    pub(super) fn verdict_at(&self, folder: &Path) -> Verdict {
        self.judge(Subject::Folder(folder), 0)
            .unwrap_or_else(Verdict::Boring)
    }

    fn judge(&self, subject: Subject<'_>, slot: usize) -> Result<Verdict, String> {
        let verdict = match &self.predicate {
            Predicate::Error(text) => match self.reduce(subject, slot)? {
                Err(error) if error.to_string().contains(text.as_str()) => Verdict::Interesting,
                Err(error) => {
                    Verdict::Boring(format!("reduction fails with another error: {error}"))
                }
                Ok(reduction) => {
                    Verdict::Boring(format!("reduction succeeds ({} events)", reduction.events))
                }
            },
            Predicate::Diagnostic(text) => match self.reduce(subject, slot)? {
                Ok(reduction) => {
                    let diagnostics: Vec<String> = reduction
                        .diagnostics
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    if diagnostics
                        .iter()
                        .any(|shown| shown.contains(text.as_str()))
                    {
                        Verdict::Interesting
                    } else if diagnostics.is_empty() {
                        Verdict::Boring("reduction succeeds without diagnostics".to_string())
                    } else {
                        Verdict::Boring(format!(
                            "none of its diagnostics contains the text:\n  {}",
                            diagnostics.join("\n  ")
                        ))
                    }
                }
                Err(error) => Verdict::Boring(format!("reduction fails: {error}")),
            },
            Predicate::Exec(user_command) => {
                let folder = self.folder(subject, slot)?;
                let (script, args) = command::exec_script(user_command, &folder);
                let exit = command::run(&script, &args, &self.stderr(slot), self.timeout);
                if exit.not_run() {
                    return Ok(Verdict::Unrunnable(self.failed(&exit, slot)));
                }
                match exit.success() {
                    true => Verdict::Interesting,
                    false => Verdict::Boring(self.failed(&exit, slot)),
                }
            }
            Predicate::DiffersFrom(reducer) => {
                let folder = self.folder(subject, slot)?;
                let out = self.slot(slot).join("state.json");
                let _ = fs::remove_file(&out);
                let (script, args) = command::reducer_script(reducer, &folder, &out);
                let exit = command::run(&script, &args, &self.stderr(slot), self.timeout);
                if exit.not_run() {
                    return Ok(Verdict::Unrunnable(self.failed(&exit, slot)));
                }
                if exit == Exit::TimedOut {
                    return Ok(Verdict::Boring(self.failed(&exit, slot)));
                }
                let theirs = match exit.success() {
                    true => fs::read(&out).ok(),
                    false => None,
                };
                // Ours from the folder theirs read: the same bytes, the same place.
                let ours = rollout_trace::reduce_bundle_with(&folder, &self.options);
                match (ours, theirs) {
                    (Ok(ours), Some(theirs)) => {
                        if same_state(&rollout_trace::state_json(&ours.trace), &theirs) {
                            Verdict::Boring("both reducers write the same state".to_string())
                        } else {
                            Verdict::Interesting
                        }
                    }
                    (Err(ours), None) => Verdict::Boring(format!(
                        "both reducers fail: ours with {ours}; {}",
                        self.failed(&exit, slot)
                    )),
                    (Ok(_), None) | (Err(_), Some(_)) => Verdict::Interesting,
                }
            }
        };
        Ok(verdict)
    }

    fn reduce(
        &self,
        subject: Subject<'_>,
        slot: usize,
    ) -> Result<Result<Reduction, ReduceError>, String> {
        match subject {
            Subject::Candidate(candidate) if !self.on_disk => Ok(rollout_trace::reduce_source(
                &candidate.memory(),
                &self.options,
            )),
            _ => {
                let folder = self.folder(subject, slot)?;
                Ok(rollout_trace::reduce_bundle_with(&folder, &self.options))
            }
        }
    }

    /// The folder holding the subject: a candidate is written into the
    /// slot's bundle folder, replacing the last one.
    fn folder(&self, subject: Subject<'_>, slot: usize) -> Result<PathBuf, String> {
        let candidate = match subject {
            Subject::Folder(folder) => return Ok(folder.to_path_buf()),
            Subject::Candidate(candidate) => candidate,
        };
        let folder = self.slot(slot).join("bundle");
        if folder.exists() {
            fs::remove_dir_all(&folder)
                .map_err(|error| format!("clear {}: {error}", folder.display()))?;
        }
        candidate.write_to(&folder)?;
        Ok(folder)
    }

    /// The scratch folder of worker `slot`, created if missing.
    fn slot(&self, slot: usize) -> PathBuf {
        let folder = self.scratch.path().join(slot.to_string());
        // A folder that cannot be made shows as the command's own failure.
        let _ = fs::create_dir_all(&folder);
        folder
    }

    fn stderr(&self, slot: usize) -> PathBuf {
        self.slot(slot).join("stderr")
    }

    fn failed(&self, exit: &Exit, slot: usize) -> String {
        let said = command::tail(&self.stderr(slot), 5);
        match said.is_empty() {
            true => format!("the command {}", exit.describe(self.timeout)),
            false => format!(
                "the command {}; the end of its standard error:\n  {}",
                exit.describe(self.timeout),
                said.replace('\n', "\n  ")
            ),
        }
    }
}

/// Whether our `state.json` text and the bytes another reducer wrote are
/// the same state: the same bytes, or the same JSON with members in the
/// same order.
fn same_state(ours: &str, theirs: &[u8]) -> bool {
    if ours.as_bytes() == theirs {
        return true;
    }
    let (Ok(ours), Ok(theirs)) = (
        serde_json::from_str::<Value>(ours),
        serde_json::from_slice::<Value>(theirs),
    ) else {
        return false;
    };
    rollout_trace::json_diff::changes(&ours, &theirs).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_compare_as_ordered_json() {
        assert!(same_state(
            "{\n  \"a\": 1,\n  \"b\": 2\n}",
            br#"{"a":1,"b":2}"#
        ));
        assert!(!same_state(
            "{\n  \"a\": 1,\n  \"b\": 2\n}",
            br#"{"b":2,"a":1}"#
        ));
        assert!(!same_state("{}", b"not json"));
    }
}
