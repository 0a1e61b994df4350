//! What one test of the `corpus` target does, as plain functions returning
//! the failure message, so the test binary stays a thin libtest-mimic shell.
//!
//! Invariants: a case test reads its own folder only (never the rest of the
//! corpus); it writes only its actual-output folder under the target folder
//! (written when it fails, removed when it passes); the returned message is
//! the whole failure text, since trials never print.

use std::path::Path;

use crate::actual;
use crate::case::Case;
use crate::case::Corpus;
use crate::config::CaseConfig;
use crate::integrity;
use crate::render;
use crate::run;
use crate::verdict;

/// Runs one case and judges it; `target_dir` receives the actual output of
/// a failing case.
pub fn test_case(
    corpus: &Corpus,
    case: &Case,
    target_dir: Option<&Path>,
    color: bool,
) -> Result<(), String> {
    let config = CaseConfig::load(&case.dir, case.kind);
    let options = config
        .as_ref()
        .map(|config| config.options)
        .unwrap_or_default();
    let run = run::run_case(case, &options);
    let problems = verdict::judge(case, &config, &run);
    let Some(target_dir) = target_dir else {
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(render::failure(corpus, case, &problems, None, color))
        };
    };
    if problems.is_empty() {
        // A stale actual output of an earlier failure would only mislead.
        let _ = actual::clear(target_dir, case);
        return Ok(());
    }
    let (actual_dir, write_error) = match actual::write(corpus, target_dir, case, &run.output) {
        Ok(dir) => (Some(corpus.display(&dir)), None),
        Err(error) => (None, Some(error)),
    };
    let mut message = render::failure(corpus, case, &problems, actual_dir.as_deref(), color);
    if let Some(error) = write_error {
        message.push_str(&format!(
            "\n(the actual output could not be written under {}: {error})",
            target_dir.display()
        ));
    }
    Err(message)
}

/// The integrity check as a test.
pub fn test_integrity(corpus: &Corpus) -> Result<(), String> {
    let issues = integrity::check(corpus);
    if issues.is_empty() {
        Ok(())
    } else {
        Err(integrity::render(&issues))
    }
}
