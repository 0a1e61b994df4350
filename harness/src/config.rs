//! A case's settings, read from the machine-readable lines of its README.md.
//!
//! Recognised lines (leading whitespace allowed, anything else is prose):
//! - `reduce-args: --partial --max-line-bytes 64` — reducer options, spelled as
//!   the flags of `cargo xtask reduce`.
//! - `check: <JSON pointer> == <compact JSON>` — ok cases: a fact about the
//!   reduced state, verified with `serde_json::Value::pointer`.
//! - `check-error: <text>` — err cases: a substring of the expected error
//!   text (the `$BUNDLE` form written to `expected.err`).
//!
//! Invariants: an unknown flag, a malformed line or a line of the wrong kind
//! (`check:` in an err case) is an error naming the README line, never
//! ignored; a missing README gives the default settings (the integrity check
//! reports it separately).

use std::path::Path;

use rollout_trace::ReduceOptions;
use serde_json::Value;

use crate::case::CaseKind;

/// The settings of one case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseConfig {
    pub options: ReduceOptions,
    pub checks: Vec<Check>,
    pub error_checks: Vec<ErrorCheck>,
}

/// A `check:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// 1-based line of README.md.
    pub line: usize,
    pub pointer: String,
    pub expected: Value,
}

/// A `check-error:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCheck {
    pub line: usize,
    pub needle: String,
}

/// Flags `reduce-args:` accepts (the flags of `cargo xtask reduce`).
const KNOWN_FLAGS: &[&str] = &[
    "--partial",
    "--max-payload-bytes N",
    "--max-line-bytes N",
    "--max-json-depth N",
    "--max-state-bytes N",
    "--max-reread-bytes N",
];

impl CaseConfig {
    /// Reads the README.md in `dir`; errors are `README.md:<line>: <what>`.
    pub fn load(dir: &Path, kind: CaseKind) -> Result<CaseConfig, Vec<String>> {
        let path = dir.join(crate::case::README);
        match std::fs::read_to_string(&path) {
            Ok(text) => CaseConfig::parse(&text, kind),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(CaseConfig::default()),
            Err(error) => Err(vec![format!("README.md: cannot be read: {error}")]),
        }
    }

    /// Parses the text of a README.md of a case of `kind`.
    pub fn parse(text: &str, kind: CaseKind) -> Result<CaseConfig, Vec<String>> {
        let mut config = CaseConfig::default();
        let mut errors = Vec::new();
        for (index, raw_line) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw_line.trim();
            let mut error = |message: String| errors.push(format!("README.md:{line}: {message}"));
            if let Some(args) = trimmed.strip_prefix("reduce-args:") {
                let mut flags = args.split_whitespace();
                while let Some(flag) = flags.next() {
                    let limits = &mut config.options.limits;
                    let mut number = |flag: &str| match flags.next().map(str::parse::<u64>) {
                        Some(Ok(value)) => Some(value),
                        _ => {
                            error(format!("reduce-args flag `{flag}` needs a number"));
                            None
                        }
                    };
                    match flag {
                        "--partial" => config.options.partial = true,
                        "--max-payload-bytes" => {
                            if let Some(value) = number(flag) {
                                limits.max_payload_bytes = value;
                            }
                        }
                        "--max-line-bytes" => {
                            if let Some(value) = number(flag) {
                                limits.max_line_bytes =
                                    usize::try_from(value).unwrap_or(usize::MAX);
                            }
                        }
                        "--max-json-depth" => {
                            if let Some(value) = number(flag) {
                                limits.max_json_depth =
                                    usize::try_from(value).unwrap_or(usize::MAX);
                            }
                        }
                        "--max-state-bytes" => {
                            if let Some(value) = number(flag) {
                                limits.max_state_bytes = value;
                            }
                        }
                        "--max-reread-bytes" => {
                            if let Some(value) = number(flag) {
                                limits.max_reread_bytes = value;
                            }
                        }
                        _ => error(format!(
                            "unknown reduce-args flag `{flag}` (known: {})",
                            KNOWN_FLAGS.join(", ")
                        )),
                    }
                }
            } else if let Some(needle) = trimmed.strip_prefix("check-error:") {
                let needle = needle.trim();
                if kind == CaseKind::Ok {
                    error(
                        "`check-error:` lines belong to err cases; an ok case uses `check: <pointer> == <json>`"
                            .to_string(),
                    );
                } else if needle.is_empty() {
                    error("`check-error:` needs the text the error must contain".to_string());
                } else {
                    config.error_checks.push(ErrorCheck {
                        line,
                        needle: needle.to_string(),
                    });
                }
            } else if let Some(rest) = trimmed.strip_prefix("check:") {
                if kind == CaseKind::Err {
                    error(
                        "`check:` lines belong to ok cases; an err case uses `check-error: <text>`"
                            .to_string(),
                    );
                    continue;
                }
                match parse_check(rest.trim()) {
                    Ok((pointer, expected)) => config.checks.push(Check {
                        line,
                        pointer,
                        expected,
                    }),
                    Err(message) => error(message),
                }
            }
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}

/// `<pointer> == <json>`, split at the first ` == ` (pointers of the corpus
/// have no spaces; JSON strings may contain ` == `).
fn parse_check(text: &str) -> Result<(String, Value), String> {
    let Some((pointer, json)) = text.split_once(" == ") else {
        return Err(format!(
            "`check: {text}` is not `check: <JSON pointer> == <compact JSON>`"
        ));
    };
    let pointer = pointer.trim();
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "JSON pointer `{pointer}` must start with `/` (RFC 6901; the whole state is the empty pointer)"
        ));
    }
    let expected = serde_json::from_str(json.trim())
        .map_err(|error| format!("the value after `==` is not JSON: {error}"))?;
    Ok((pointer.to_string(), expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limit_flags() {
        let config = CaseConfig::parse(
            "reduce-args: --max-payload-bytes 10 --max-line-bytes 20 --max-json-depth 5 --max-state-bytes 7 --max-reread-bytes 8\n",
            CaseKind::Err,
        );
        let Ok(config) = config else {
            panic!("limit flags rejected: {config:?}");
        };
        assert_eq!(
            config.options.limits,
            rollout_trace::Limits {
                max_payload_bytes: 10,
                max_line_bytes: 20,
                max_json_depth: 5,
                max_state_bytes: 7,
                max_reread_bytes: 8,
            }
        );
        assert_eq!(
            CaseConfig::parse("reduce-args: --max-line-bytes\n", CaseKind::Err),
            Err(vec![
                "README.md:1: reduce-args flag `--max-line-bytes` needs a number".to_string()
            ])
        );
    }

    #[test]
    fn reads_flags_checks_and_reports_bad_lines() {
        let text = "# Title\n\nreduce-args: --partial\nSome prose with check: inside.\ncheck: /a/b == {\"x\":\"y == z\"}\n  check: /c == 1\n";
        let config = CaseConfig::parse(text, CaseKind::Ok);
        assert_eq!(
            config,
            Ok(CaseConfig {
                options: ReduceOptions {
                    partial: true,
                    ..ReduceOptions::default()
                },
                checks: vec![
                    Check {
                        line: 5,
                        pointer: "/a/b".to_string(),
                        expected: serde_json::json!({"x": "y == z"}),
                    },
                    Check {
                        line: 6,
                        pointer: "/c".to_string(),
                        expected: serde_json::json!(1),
                    },
                ],
                error_checks: vec![],
            })
        );
        let bad = "reduce-args: --partial --fast\ncheck: a == 1\ncheck: /a = 1\ncheck: /a == {\ncheck-error: x\n";
        assert_eq!(
            CaseConfig::parse(bad, CaseKind::Ok),
            Err(vec![
                "README.md:1: unknown reduce-args flag `--fast` (known: --partial, --max-payload-bytes N, --max-line-bytes N, --max-json-depth N, --max-state-bytes N, --max-reread-bytes N)".to_string(),
                "README.md:2: JSON pointer `a` must start with `/` (RFC 6901; the whole state is the empty pointer)".to_string(),
                "README.md:3: `check: /a = 1` is not `check: <JSON pointer> == <compact JSON>`".to_string(),
                "README.md:4: the value after `==` is not JSON: EOF while parsing an object at line 1 column 1".to_string(),
                "README.md:5: `check-error:` lines belong to err cases; an ok case uses `check: <pointer> == <json>`".to_string(),
            ])
        );
        assert_eq!(
            CaseConfig::parse("check-error: open trace\ncheck: /a == 1\n", CaseKind::Err),
            Err(vec![
                "README.md:2: `check:` lines belong to ok cases; an err case uses `check-error: <text>`".to_string()
            ])
        );
    }
}
