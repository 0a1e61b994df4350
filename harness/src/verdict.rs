//! Judging one run against the case's expectation files and README checks.
//!
//! Invariants:
//! - A case passes exactly when its outcome has the case's kind (ok cases
//!   reduce, err cases are rejected), every expectation file the output
//!   calls for exists with the same bytes, no other expectation file of that
//!   kind exists (`diagnostics.txt` without diagnostics), every README check
//!   holds, the README parses, and the two reductions agreed.
//! - Equivalently: a passing case is one bless would leave unchanged.
//! - Judging reads the case folder and never writes anything.

use std::path::Path;

use serde_json::Value;

use crate::case::Case;
use crate::case::CaseKind;
use crate::case::DIAGNOSTICS;
use crate::config::CaseConfig;
use crate::run::Output;
use crate::run::Run;

/// One reason a case fails.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// An ok case was rejected with `error`.
    Rejected {
        error: String,
    },
    /// An err case reduced; `expected_error` is its `expected.err`, if any.
    Accepted {
        expected_error: Option<String>,
    },
    /// README.md has lines the harness cannot use.
    Config {
        errors: Vec<String>,
    },
    /// The case has no expectation file of its kind yet; `error` is the
    /// error text of an err case (short enough to show whole).
    MissingExpectation {
        file: &'static str,
        error: Option<String>,
    },
    /// An expectation file differs from the output (`expected` absent: the
    /// file does not exist; `actual` absent: the output calls for no such file).
    Mismatch {
        file: &'static str,
        expected: Option<String>,
        actual: Option<String>,
    },
    /// A `check:` line does not hold (`actual` absent: nothing at the pointer).
    Check {
        line: usize,
        pointer: String,
        expected: Value,
        actual: Option<Value>,
    },
    /// A `check-error:` text does not occur in the error.
    ErrorCheck {
        line: usize,
        needle: String,
        error: String,
    },
    /// The state of an ok case is not JSON the checks can read.
    UnreadableState {
        error: String,
    },
    Nondeterministic {
        what: String,
    },
    /// A shortcut was not taken where the bundle calls for it, or was taken
    /// where it must not be (`crate::shortcuts`).
    Shortcuts {
        faults: Vec<String>,
    },
}

/// Every problem of `run` for `case`, in the order they are reported.
pub fn judge(case: &Case, config: &Result<CaseConfig, Vec<String>>, run: &Run) -> Vec<Problem> {
    let mut problems = Vec::new();
    match (&run.output, case.kind) {
        (Output::Rejected { error }, CaseKind::Ok) => problems.push(Problem::Rejected {
            error: error.clone(),
        }),
        (Output::Reduced { .. }, CaseKind::Err) => problems.push(Problem::Accepted {
            expected_error: read(&case.file(case.kind.expectation())),
        }),
        _ => {}
    }
    if let Err(errors) = config {
        problems.push(Problem::Config {
            errors: errors.clone(),
        });
    }
    if problems.is_empty() {
        compare_files(case, &run.output, &mut problems);
        if let Ok(config) = config {
            check_facts(config, &run.output, &mut problems);
        }
    }
    if let Some(what) = &run.nondeterminism {
        problems.push(Problem::Nondeterministic { what: what.clone() });
    }
    if !run.shortcut_faults.is_empty() {
        problems.push(Problem::Shortcuts {
            faults: run.shortcut_faults.clone(),
        });
    }
    problems
}

fn compare_files(case: &Case, output: &Output, problems: &mut Vec<Problem>) {
    let primary = case.kind.expectation();
    if read(&case.file(primary)).is_none() {
        let error = match output {
            Output::Rejected { error } => Some(error.clone()),
            Output::Reduced { .. } => None,
        };
        problems.push(Problem::MissingExpectation {
            file: primary,
            error,
        });
        return;
    }
    let mut names: Vec<&'static str> = output.files().iter().map(|(name, _)| *name).collect();
    if case.kind == CaseKind::Ok && !names.contains(&DIAGNOSTICS) {
        names.push(DIAGNOSTICS);
    }
    for name in names {
        let expected = read(&case.file(name));
        let actual = output.file(name);
        if expected != actual {
            problems.push(Problem::Mismatch {
                file: name,
                expected,
                actual,
            });
        }
    }
}

fn check_facts(config: &CaseConfig, output: &Output, problems: &mut Vec<Problem>) {
    match output {
        Output::Reduced { state, .. } => {
            if config.checks.is_empty() {
                return;
            }
            let state: Value = match serde_json::from_str(state) {
                Ok(state) => state,
                Err(error) => {
                    problems.push(Problem::UnreadableState {
                        error: error.to_string(),
                    });
                    return;
                }
            };
            for check in &config.checks {
                let actual = state.pointer(&check.pointer);
                if actual != Some(&check.expected) {
                    problems.push(Problem::Check {
                        line: check.line,
                        pointer: check.pointer.clone(),
                        expected: check.expected.clone(),
                        actual: actual.cloned(),
                    });
                }
            }
        }
        Output::Rejected { error } => {
            for check in &config.error_checks {
                if !error.contains(&check.needle) {
                    problems.push(Problem::ErrorCheck {
                        line: check.line,
                        needle: check.needle.clone(),
                        error: error.clone(),
                    });
                }
            }
        }
    }
}

/// A file's text, or `None` when it does not exist. Bytes that are not UTF-8
/// are replaced, which makes such a file differ from any output.
pub fn read(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}
