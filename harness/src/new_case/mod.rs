//! Turning a trace bundle into a corpus case (`cargo xtask new-case`): copy
//! the bundle into `corpus/ok/` or `corpus/err/`, optionally redacted, write
//! a README.md and the expectation, and check that the case passes.
//!
//! Invariants:
//! - The case folder is `NNNN_name`, NNNN one more than the highest number
//!   in use in its kind's folder; the name is lowercase snake_case and no
//!   case of either kind has it yet.
//! - An ok case reduces and an err case is rejected, judged on the source
//!   bundle before anything is written.
//! - Only `manifest.json`, `trace.jsonl` and the payload files that the
//!   decodable lines of `trace.jsonl` reference are copied, byte for byte
//!   unless redacting. A referenced path that is absolute, contains `..`, is
//!   not under `payloads/` or resolves outside the bundle is not copied, nor
//!   is a missing file; each gets a warning.
//! - The copy reduces exactly like the source (same state, diagnostics and
//!   error, with `$BUNDLE` for the folder); a redacted copy has the shape of
//!   the source ([`crate::shape`]).
//! - The expectation is planned and written by [`crate::bless`], so it is
//!   what `cargo xtask bless` writes.
//! - All-or-nothing: the case is built in a hidden folder directly in the
//!   corpus root and renamed into place when complete, then tested where it
//!   lies (its corpus test and the integrity check of its folder); on any
//!   failure nothing is left behind. Every file is written with
//!   `write_atomically`.
//! - Nothing here prints; [`summary`] renders the report.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::path::PathBuf;

use rollout_trace::ReduceOptions;
use rollout_trace::bundle::BundleLocation;
use rollout_trace::raw::MANIFEST_FILE_NAME;
use rollout_trace::raw::TRACE_FILE_NAME;

use crate::case::Case;
use crate::case::CaseKind;
use crate::case::Corpus;
use crate::case::README;
use crate::redact::Redactor;
use crate::run::Output;

mod copy;

use copy::copy_bundle;
/// The folder of payload files in a case.
const PAYLOADS: &str = "payloads";

/// What to make.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The case name without number: lowercase snake_case.
    pub name: &'a str,
    /// The bundle folder, or its event log.
    pub from: &'a Path,
    pub kind: CaseKind,
    /// Redact with these rules (`--redact`), or copy as is.
    pub redactor: Option<Redactor>,
}

/// What was made.
#[derive(Debug, Clone)]
pub struct Created {
    pub case: Case,
    /// The name of the bundle folder it was made from (`folder/log.jsonl`
    /// when its event log has another name than `trace.jsonl`).
    pub source: String,
    /// Payload files copied.
    pub payload_files: usize,
    /// Expectation files written, by name.
    pub expectations: Vec<String>,
    pub redacted: bool,
    /// Things the user should know: files not copied, and why.
    pub warnings: Vec<String>,
}

/// Makes the case; the error says why nothing was made.
pub fn create(corpus: &Corpus, request: &Request<'_>) -> Result<Created, String> {
    let name = request.name;
    check_name(name)?;
    if !corpus.root().is_dir() {
        return Err(format!("no corpus folder at {}", corpus.root().display()));
    }
    let from = request.from.canonicalize().map_err(|error| {
        format!(
            "no bundle at {}: {error} (pass the bundle folder or its trace.jsonl)",
            request.from.display()
        )
    })?;
    let location = BundleLocation::locate(&from);
    if !location.manifest_path().is_file() && !location.trace_path.is_file() {
        return Err(format!(
            "{} is not a trace bundle: it has neither {MANIFEST_FILE_NAME} nor {TRACE_FILE_NAME}",
            request.from.display()
        ));
    }
    let cases = corpus
        .discover()
        .map_err(|error| format!("cannot read {}: {error}", corpus.root().display()))?;
    if let Some(existing) = cases
        .iter()
        .find(|case| name_of(case.folder_name()) == Some(name))
    {
        return Err(format!(
            "a case called {name} exists already: {}",
            corpus.display(&existing.dir)
        ));
    }
    let number = cases
        .iter()
        .filter(|case| case.kind == request.kind)
        .filter_map(|case| number_of(case.folder_name()))
        .max()
        .map_or(1, |highest| highest + 1);
    let folder = format!("{number:04}_{name}");
    let case_name = format!("{}/{folder}", request.kind.folder());

    let original = reduce(&from, &location.root);
    match (&original, request.kind) {
        (Output::Reduced { .. }, CaseKind::Err) => {
            return Err(
                "the bundle reduces, so it cannot be a must-fail case: drop --err".to_string(),
            );
        }
        (Output::Rejected { error }, CaseKind::Ok) => {
            return Err(format!(
                "the bundle does not reduce ({error}): pass --err to make it a must-fail case"
            ));
        }
        _ => {}
    }

    // The hidden folder the case is built in, removed when dropped.
    let staging = tempfile::Builder::new()
        .prefix(&format!(".new-case-{name}-"))
        .tempdir_in(corpus.root())
        .map_err(|error| format!("create a folder in {}: {error}", corpus.root().display()))?;
    // Names only: an absolute path would publish the author's folders.
    let file_name = |path: &Path| {
        path.file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut source = file_name(&location.root);
    if location.trace_path.file_name() != Some(TRACE_FILE_NAME.as_ref()) {
        source = format!("{source}/{}", file_name(&location.trace_path));
    }
    let staged = Staged {
        corpus: Corpus::new(staging.path()),
        dir: staging.path().join(request.kind.folder()).join(&folder),
        case_name,
    };
    let mut warnings = Vec::new();
    let (payload_files, expectations) = stage(
        &staged,
        &location,
        request,
        &source,
        &original,
        &mut warnings,
    )
    .map_err(|error| {
        warnings.iter().fold(error, |error, warning| {
            format!("{error}\n  warning: {warning}")
        })
    })?;
    let Staged {
        dir: staged_dir,
        case_name,
        ..
    } = staged;

    let target = corpus.root().join(request.kind.folder()).join(&folder);
    if target.exists() {
        return Err(format!(
            "{} appeared while the case was being made",
            corpus.display(&target)
        ));
    }
    fs::create_dir_all(corpus.root().join(request.kind.folder()))
        .and_then(|()| fs::rename(&staged_dir, &target))
        .map_err(|error| format!("cannot move the case to {}: {error}", target.display()))?;
    drop(staging);
    let case = Case {
        name: case_name,
        kind: request.kind,
        dir: target,
    };
    if let Err(problem) = check_in_place(corpus, &case) {
        let _ = fs::remove_dir_all(&case.dir);
        return Err(format!(
            "the new case does not pass, so it was removed: {problem}"
        ));
    }
    Ok(Created {
        case,
        source,
        payload_files,
        expectations,
        redacted: request.redactor.is_some(),
        warnings,
    })
}

/// A case being built in the staging folder.
struct Staged {
    /// The staging folder, seen as a corpus.
    corpus: Corpus,
    dir: PathBuf,
    case_name: String,
}

/// Fills the staged case folder: the bundle, README.md, the comparison with
/// the source and the expectation. Returns the number of payload files and
/// the expectation files written.
fn stage(
    staged: &Staged,
    location: &BundleLocation,
    request: &Request<'_>,
    source: &str,
    original: &Output,
    warnings: &mut Vec<String>,
) -> Result<(usize, Vec<String>), String> {
    let redactor = request.redactor.as_ref();
    let payload_files = copy_bundle(location, &staged.dir, redactor, warnings)?;
    write(
        &staged.dir.join(README),
        readme(request.name, request.kind, source, redactor.is_some()).as_bytes(),
    )?;
    let copy = reduce(&staged.dir, &staged.dir);
    if redactor.is_some() {
        crate::shape::compare(original, &copy).map_err(|difference| {
            format!(
                "redaction changed what the bundle reduces to, so no case was made: {difference}"
            )
        })?;
    } else if copy != *original {
        return Err(format!(
            "the copy does not reduce like the bundle, so no case was made:\n  bundle: {}\n  copy:   {}",
            describe(original),
            describe(&copy)
        ));
    }
    let plan = crate::bless::plan(&staged.corpus, Some(&staged.case_name), false)?;
    if let Some(refusal) = plan.refused.first() {
        return Err(format!(
            "cannot write the expectation: {} {}",
            refusal.name, refusal.reason
        ));
    }
    crate::bless::apply(&staged.corpus, &plan)
        .map_err(|error| format!("cannot write the expectation: {error}"))?;
    let expectations = plan
        .cases
        .iter()
        .flat_map(|case| &case.actions)
        .filter_map(|action| action.path().file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    Ok((payload_files, expectations))
}

/// The report of a created case (warnings are the caller's to show).
pub fn summary(corpus: &Corpus, created: &Created) -> String {
    let mut text = String::new();
    let shown = corpus.display(&created.case.dir);
    let _ = writeln!(text, "created {shown} from {}", created.source);
    let noun = if created.payload_files == 1 {
        "payload file"
    } else {
        "payload files"
    };
    let _ = writeln!(
        text,
        "  copied: {MANIFEST_FILE_NAME}, {TRACE_FILE_NAME}, {} {noun}{}",
        created.payload_files,
        if created.redacted { ", redacted" } else { "" }
    );
    if created.redacted {
        let _ = writeln!(
            text,
            "  shape check: {}",
            match created.case.kind {
                CaseKind::Ok =>
                    "the redacted bundle reduces to the same objects, ids and edges as the original",
                CaseKind::Err => "the redacted bundle is rejected with the original's error",
            }
        );
    }
    let _ = writeln!(
        text,
        "  wrote: {README}, {}",
        created.expectations.join(", ")
    );
    let _ = writeln!(
        text,
        "next: describe what the case pins in {shown}/{README} (and add {} lines), then run `{}`",
        match created.case.kind {
            CaseKind::Ok => "`check:`",
            CaseKind::Err => "`check-error:`",
        },
        crate::render::rerun_command(&created.case.name)
    );
    text
}

/// The README.md of a new case, in the corpus conventions' format.
pub fn readme(name: &str, kind: CaseKind, source: &str, redacted: bool) -> String {
    let mut title = name.replace('_', " ");
    if let Some(first) = title.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let origin = if redacted {
        format!(
            "Made by `cargo xtask new-case --redact` from `{source}`, a real trace whose free text (messages, reasoning,\n\
             tool arguments and output, code) was replaced by placeholders; ids, names and structure are the original's."
        )
    } else {
        format!("Made by `cargo xtask new-case` from `{source}`, a real trace.")
    };
    let todo = match kind {
        CaseKind::Ok => {
            "TODO: describe what this case pins and why the expected output is right (cite reduction.md), then add\n\
             `check:` lines for the facts it pins."
        }
        CaseKind::Err => {
            "TODO: describe what this case pins and why the bundle must be rejected (cite reduction.md), then add\n\
             a `check-error:` line with the reference error text."
        }
    };
    format!("# {title}\n\nScenario: none\n\n{origin}\n{todo}\n")
}

/// Accepts lowercase snake_case: `[a-z][a-z0-9]*` words joined by single `_`.
pub fn check_name(name: &str) -> Result<(), String> {
    let valid = name.starts_with(|ch: char| ch.is_ascii_lowercase())
        && name.split('_').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "the case name {name:?} is not lowercase snake_case (like `resumed_child_thread`); the number is added for you"
        ))
    }
}

/// `18` of `0018_name`.
fn number_of(folder: &str) -> Option<u32> {
    let (number, _) = folder.split_once('_')?;
    if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// `name` of `0018_name`.
fn name_of(folder: &str) -> Option<&str> {
    number_of(folder)?;
    folder.split_once('_').map(|(_, name)| name)
}

/// Reduces a bundle like the harness does, `root` replaced by `$BUNDLE`.
fn reduce(path: &Path, root: &Path) -> Output {
    match rollout_trace::reduce_bundle_with(path, &ReduceOptions::default()) {
        Ok(reduction) => Output::Reduced {
            state: rollout_trace::state_json(&reduction.trace),
            diagnostics: reduction
                .diagnostics
                .iter()
                .map(|diagnostic| crate::run::bundle_relative(&diagnostic.to_string(), root))
                .collect(),
        },
        Err(error) => Output::Rejected {
            error: crate::run::bundle_relative(&error.to_string(), root),
        },
    }
}

fn describe(output: &Output) -> String {
    match output {
        Output::Reduced { state, diagnostics } => format!(
            "reduces ({} bytes of state.json, {} diagnostics)",
            state.len(),
            diagnostics.len()
        ),
        Output::Rejected { error } => format!("rejected: {error}"),
    }
}

/// The case's corpus test and the integrity check of its folder.
fn check_in_place(corpus: &Corpus, case: &Case) -> Result<(), String> {
    crate::trial::test_case(corpus, case, None, false)?;
    let shown = corpus.display(&case.dir);
    let issues: Vec<_> = crate::integrity::check(corpus)
        .into_iter()
        .filter(|issue| issue.path == shown || issue.path.starts_with(&format!("{shown}/")))
        .collect();
    if issues.is_empty() {
        Ok(())
    } else {
        Err(crate::integrity::render(&issues))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|error| format!("read {}: {error}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    rollout_trace::write_atomically(path, bytes)
        .map_err(|error| format!("write {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let names: Vec<bool> = [
            "resumed_child",
            "a1_b2",
            "x",
            "Resumed",
            "resumed-child",
            "_x",
            "x_",
            "a__b",
            "1x",
            "",
        ]
        .iter()
        .map(|name| check_name(name).is_ok())
        .collect();
        assert_eq!(
            names,
            [
                true, true, true, false, false, false, false, false, false, false
            ]
        );
        assert_eq!(
            [
                number_of("0018_name"),
                number_of("18_x"),
                number_of("name"),
                number_of("_x")
            ],
            [Some(18), Some(18), None, None]
        );
        assert_eq!([name_of("0018_a_b"), name_of("a_b")], [Some("a_b"), None]);
    }
}
