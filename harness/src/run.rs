//! Running one case: reduce it (twice, for determinism) and render the
//! expectation files the result calls for.
//!
//! Invariants:
//! - The reducer gets the case folder as [`Case::dir`]; every occurrence of
//!   that path in the error and diagnostic texts becomes `$BUNDLE`, so the
//!   rendered files do not depend on where the corpus lives.
//! - The rendered files are byte for byte what bless writes: `expected.json`
//!   is `state_json` plus `"\n"`; `expected.err` is the error's one line plus
//!   `"\n"`; `diagnostics.txt` has one line per diagnostic and exists only
//!   when there is at least one diagnostic.
//! - A second reduction, with read-ahead and request scanning switched (the
//!   other code paths),
//!   must give the same bytes; if not, the run says what differed (a case is
//!   never judged on one lucky run).
//! - A case that reduces without `--partial` must reduce to the same bytes
//!   with it (policy P4: partial mode changes nothing when nothing is damaged).
//! - A case that reduces took the shortcuts the bundle calls for, on both
//!   code paths ([`crate::shortcuts`]).

use std::path::Path;
use std::time::Duration;
use std::time::Instant;

use rollout_trace::ReduceOptions;

use crate::case::Case;
use crate::case::DIAGNOSTICS;
use crate::case::EXPECTED_ERR;
use crate::case::EXPECTED_JSON;

/// What the reducer made of a case, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Reduced {
        /// `state_json` of the trace (no trailing newline).
        state: String,
        /// Display of each diagnostic, `$BUNDLE` replaced.
        diagnostics: Vec<String>,
    },
    Rejected {
        /// Display of the error, `$BUNDLE` replaced.
        error: String,
    },
}

impl Output {
    /// The expectation files this output calls for, with their contents.
    pub fn files(&self) -> Vec<(&'static str, String)> {
        match self {
            Output::Reduced { state, diagnostics } => {
                let mut files = vec![(EXPECTED_JSON, format!("{state}\n"))];
                if !diagnostics.is_empty() {
                    files.push((DIAGNOSTICS, lines(diagnostics)));
                }
                files
            }
            Output::Rejected { error } => vec![(EXPECTED_ERR, format!("{error}\n"))],
        }
    }

    /// The content of one expectation file, if this output calls for it.
    pub fn file(&self, name: &str) -> Option<String> {
        self.files()
            .into_iter()
            .find(|(file, _)| *file == name)
            .map(|(_, content)| content)
    }
}

/// The result of running one case.
#[derive(Debug, Clone)]
pub struct Run {
    pub output: Output,
    /// Wall time of the first reduction.
    pub reduce_time: Duration,
    /// Set when the second reduction gave other bytes: what differed.
    pub nondeterminism: Option<String>,
    /// What the reductions got wrong about their shortcuts, one line each.
    pub shortcut_faults: Vec<String>,
}

/// Reduces the case with `options`, then again with read-ahead switched
/// and, for a case that reduces, with `--partial`.
pub fn run_case(case: &Case, options: &ReduceOptions) -> Run {
    let (output, reduce_time, taken) = reduce_counted(case, options);
    let other_path = ReduceOptions {
        read_ahead: !options.read_ahead,
        scan_requests: !options.scan_requests,
        ..*options
    };
    let (again, _, taken_again) = reduce_counted(case, &other_path);
    let shortcut_faults = match (taken, taken_again) {
        // Limits other than the defaults can make the reducer decode a
        // request whole; the facts assume they do not.
        (Some(taken), Some(taken_again))
            if !options.partial && options.limits == rollout_trace::Limits::default() =>
        {
            crate::shortcuts::bundle_facts(&case.dir)
                .map(|facts| {
                    crate::shortcuts::faults(
                        &facts,
                        [(options, &taken), (&other_path, &taken_again)],
                    )
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let mut nondeterminism = (again != output).then(|| describe_difference(&output, &again));
    if nondeterminism.is_none() && !options.partial && matches!(output, Output::Reduced { .. }) {
        let partial = ReduceOptions {
            partial: true,
            ..*options
        };
        let (partial_output, _) = reduce_once(case, &partial);
        if partial_output != output {
            nondeterminism = Some(format!(
                "reducing with --partial gave {} than without it, on a bundle that reduces; \
                 --partial must change nothing when nothing is damaged",
                describe_files(&output, &partial_output)
            ));
        }
    }
    Run {
        output,
        reduce_time,
        nondeterminism,
        shortcut_faults,
    }
}

/// Reduces the case once, with its wall time.
pub fn reduce_once(case: &Case, options: &ReduceOptions) -> (Output, Duration) {
    let (output, elapsed, _) = reduce_counted(case, options);
    (output, elapsed)
}

/// [`reduce_once`], with what the reduction counted of itself when it
/// reduced.
fn reduce_counted(
    case: &Case,
    options: &ReduceOptions,
) -> (Output, Duration, Option<crate::shortcuts::Taken>) {
    let started = Instant::now();
    let result = rollout_trace::reduce_bundle_with(&case.dir, options);
    let elapsed = started.elapsed();
    let taken = result
        .as_ref()
        .ok()
        .map(|reduction| crate::shortcuts::Taken {
            events: reduction.events,
            shortcuts: reduction.shortcuts,
        });
    let output = match result {
        Ok(reduction) => Output::Reduced {
            state: rollout_trace::state_json(&reduction.trace),
            diagnostics: reduction
                .diagnostics
                .iter()
                .map(|diagnostic| bundle_relative(&diagnostic.to_string(), &case.dir))
                .collect(),
        },
        Err(error) => Output::Rejected {
            error: bundle_relative(&error.to_string(), &case.dir),
        },
    };
    (output, elapsed, taken)
}

/// `text` with every occurrence of the bundle folder replaced by `$BUNDLE`.
pub fn bundle_relative(text: &str, dir: &Path) -> String {
    let dir = dir.to_string_lossy();
    if dir.is_empty() {
        return text.to_string();
    }
    text.replace(dir.as_ref(), "$BUNDLE")
}

fn lines(items: &[String]) -> String {
    items.iter().map(|item| format!("{item}\n")).collect()
}

fn describe_difference(first: &Output, second: &Output) -> String {
    format!(
        "two reductions of the same bundle (with and without read-ahead and request scanning) gave different {}: \
         the reducer is not deterministic (a HashMap order, clock, thread timing or environment \
         read reaches the output)",
        describe_files(first, second)
    )
}

/// Which expectation files differ between two outputs, e.g. `expected.json`.
fn describe_files(first: &Output, second: &Output) -> String {
    let first_files = first.files();
    let second_files = second.files();
    let mut differing = Vec::new();
    for (name, content) in &first_files {
        if second.file(name).as_ref() != Some(content) {
            differing.push(*name);
        }
    }
    for (name, _) in &second_files {
        if first.file(name).is_none() {
            differing.push(*name);
        }
    }
    format!("other {}", differing.join(" and "))
}
