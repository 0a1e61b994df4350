//! The failure message of a case: what went wrong, the differing JSON paths,
//! a unified diff, and the commands to rerun and bless the case.
//!
//! Invariants:
//! - The message explains itself without colour: diff lines carry `+`/`-`
//!   markers; colour (ANSI) is only added when the caller asks for it
//!   (see [`use_color`]).
//! - The last two lines are always the rerun and bless commands of the case.
//! - The diff is bounded: Patience algorithm, [`CONTEXT_LINES`] lines of
//!   context, a [`DIFF_TIMEOUT`] after which similar approximates, and at
//!   most [`MAX_DIFF_LINES`] lines shown; path lists stop after
//!   [`MAX_PATH_LINES`] lines.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use serde_json::Value;
use similar::Algorithm;
use similar::TextDiff;

use crate::case::Case;
use crate::case::CaseKind;
use crate::case::Corpus;
use crate::case::DIAGNOSTICS;
use crate::case::EXPECTED_JSON;
use crate::verdict::Problem;
use rollout_trace::json_diff;

/// Lines of unchanged context around each change of a unified diff.
pub const CONTEXT_LINES: usize = 3;
/// Time after which the diff algorithm settles for a less minimal diff.
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest unified diff shown; the actual output file has the rest.
pub const MAX_DIFF_LINES: usize = 200;
/// Most JSON path lines shown for one file.
pub const MAX_PATH_LINES: usize = 20;

/// Whether failure texts should be coloured: standard error is a terminal
/// and `NO_COLOR` is unset or empty (no-color.org).
pub fn use_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// The command that runs one case (or the integrity trial) again.
pub fn rerun_command(test_name: &str) -> String {
    format!("cargo test -p harness --test corpus -- --exact {test_name}")
}

/// The command that rewrites the expectations of one case.
pub fn bless_command(case_name: &str) -> String {
    format!("cargo xtask bless {case_name}")
}

/// The whole failure message of `case`. `actual_dir` is where the actual
/// output files were written, as shown to the user, if they were.
pub fn failure(
    corpus: &Corpus,
    case: &Case,
    problems: &[Problem],
    actual_dir: Option<&str>,
    color: bool,
) -> String {
    let mut text = String::new();
    let actual_file = |file: &str| match actual_dir {
        Some(dir) => format!("{dir}/{file}"),
        None => format!("actual {file}"),
    };
    for problem in problems {
        match problem {
            Problem::Rejected { error } => {
                let _ = writeln!(
                    text,
                    "{} must reduce, but the reducer rejected it: {error}",
                    case.name
                );
                let _ = writeln!(text, "{}", move_hint(corpus, case));
            }
            Problem::Accepted { expected_error } => {
                let _ = writeln!(
                    text,
                    "{} must be rejected, but the reducer accepted it (state: {})",
                    case.name,
                    actual_file(EXPECTED_JSON)
                );
                if let Some(expected) = expected_error {
                    let _ = writeln!(text, "expected error: {}", expected.trim_end());
                }
                let _ = writeln!(text, "{}", move_hint(corpus, case));
            }
            Problem::Config { errors } => {
                let _ = writeln!(
                    text,
                    "{}/README.md cannot be used:",
                    corpus.display(&case.dir)
                );
                for error in errors {
                    let _ = writeln!(text, "  {error}");
                }
            }
            Problem::MissingExpectation { file, error } => {
                let _ = writeln!(text, "{} has no {file} yet", case.name);
                if let Some(error) = error {
                    let _ = writeln!(text, "the reducer's error: {error}");
                }
                let _ = writeln!(
                    text,
                    "review the actual output ({}), then run `{}`",
                    actual_file(file),
                    bless_command(&case.name)
                );
            }
            Problem::Mismatch {
                file,
                expected,
                actual,
            } => {
                let what = match (expected, actual) {
                    (None, _) if *file == DIAGNOSTICS => {
                        "the reduction has diagnostics, but diagnostics.txt does not exist"
                            .to_string()
                    }
                    (_, None) if *file == DIAGNOSTICS => {
                        "diagnostics.txt exists, but the reduction has no diagnostics".to_string()
                    }
                    _ => format!("{file} differs from the reducer's output"),
                };
                let _ = writeln!(text, "{what}:");
                if *file == EXPECTED_JSON
                    && let (Some(expected), Some(actual)) = (expected, actual)
                {
                    text.push_str(&json_paths(expected, actual));
                }
                text.push('\n');
                let old_name = if expected.is_some() {
                    corpus.display(&case.file(file))
                } else {
                    format!("{} (absent)", corpus.display(&case.file(file)))
                };
                let new_name = if actual.is_some() {
                    actual_file(file)
                } else {
                    format!("{} (absent)", actual_file(file))
                };
                text.push_str(&unified_diff(
                    expected.as_deref().unwrap_or(""),
                    actual.as_deref().unwrap_or(""),
                    &old_name,
                    &new_name,
                    color,
                ));
                text.push('\n');
            }
            Problem::Check {
                line,
                pointer,
                expected,
                actual,
            } => {
                let _ = writeln!(
                    text,
                    "README.md:{line}: check {pointer} == {} fails:",
                    compact(expected)
                );
                text.push_str(&check_difference(expected, actual.as_ref()));
            }
            Problem::ErrorCheck {
                line,
                needle,
                error,
            } => {
                let _ = writeln!(
                    text,
                    "README.md:{line}: check-error {needle:?} is not part of the error:\n  error: {error}"
                );
            }
            Problem::UnreadableState { error } => {
                let _ = writeln!(
                    text,
                    "the reduced state is not JSON, so no check: line can be verified: {error}"
                );
            }
            Problem::Nondeterministic { what } => {
                let _ = writeln!(text, "{what}");
            }
            Problem::Shortcuts { faults } => {
                let _ = writeln!(
                    text,
                    "the output is right, but a shortcut (read-ahead, request scanning) was not taken as the bundle calls for:"
                );
                for fault in faults {
                    let _ = writeln!(text, "  {fault}");
                }
            }
        }
    }
    if !text.ends_with("\n\n") {
        text.push('\n');
    }
    if let Some(dir) = actual_dir {
        let _ = writeln!(text, "actual output: {dir}/");
    }
    let _ = writeln!(text, "rerun: {}", rerun_command(&case.name));
    let _ = write!(text, "bless: {}", bless_command(&case.name));
    text
}

/// The hint for a case whose outcome no longer matches its folder.
pub(crate) fn move_hint(corpus: &Corpus, case: &Case) -> String {
    let other = case.kind.other();
    let other_dir = corpus.root().join(other.folder()).join(case.folder_name());
    let meaning = match case.kind {
        CaseKind::Ok => "if the bundle is meant to be rejected now",
        CaseKind::Err => "if the bundle is meant to be accepted now",
    };
    format!(
        "hint: bless does not move cases; {meaning}, move it deliberately: `git mv {} {} && {}`",
        corpus.display(&case.dir),
        corpus.display(&other_dir),
        bless_command(&case.name_as(other))
    )
}

/// The differing JSON paths of two `expected.json` texts, indented, or a
/// line saying why they cannot be compared as JSON.
fn json_paths(expected: &str, actual: &str) -> String {
    let expected: Value = match serde_json::from_str(expected) {
        Ok(value) => value,
        Err(error) => return format!("  (expected.json is not valid JSON: {error})\n"),
    };
    let Ok(actual) = serde_json::from_str::<Value>(actual) else {
        return "  (the reduced state is not valid JSON)\n".to_string();
    };
    let changes = json_diff::changes(&expected, &actual);
    if changes.is_empty() {
        return "  (same JSON values; only the text differs)\n".to_string();
    }
    indent(&json_diff::render(&changes, MAX_PATH_LINES))
}

fn check_difference(expected: &Value, actual: Option<&Value>) -> String {
    let Some(actual) = actual else {
        return "  actual: (absent: nothing at this pointer)\n".to_string();
    };
    let containers = |value: &Value| value.is_object() || value.is_array();
    if containers(expected) && containers(actual) {
        let changes = json_diff::changes(expected, actual);
        return format!(
            "  (check value -> actual value)\n{}",
            indent(&json_diff::render(&changes, MAX_PATH_LINES))
        );
    }
    format!(
        "  expected: {}\n  actual:   {}\n",
        compact(expected),
        compact(actual)
    )
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn indent(lines: &str) -> String {
    lines.lines().map(|line| format!("  {line}\n")).collect()
}

/// A unified diff of `old` and `new` (each line ends with `"\n"`), at most
/// [`MAX_DIFF_LINES`] lines, coloured when `color` is set.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str, color: bool) -> String {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    let full = diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(old_name, new_name)
        .to_string();
    let mut text = String::new();
    let total = full.lines().count();
    for line in full.lines().take(MAX_DIFF_LINES) {
        let colour = match line.as_bytes().first() {
            _ if !color => None,
            _ if line.starts_with("---") || line.starts_with("+++") => Some("1"),
            Some(b'-') => Some("31"),
            Some(b'+') => Some("32"),
            Some(b'@') => Some("36"),
            _ => None,
        };
        match colour {
            Some(code) => {
                let _ = writeln!(text, "\x1b[{code}m{line}\x1b[0m");
            }
            None => {
                let _ = writeln!(text, "{line}");
            }
        }
    }
    if total > MAX_DIFF_LINES {
        let _ = writeln!(
            text,
            "... {} more diff lines (the actual output file has everything)",
            total - MAX_DIFF_LINES
        );
    }
    text
}
