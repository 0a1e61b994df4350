//! The bless planner: which expectation files `cargo xtask bless` writes or
//! deletes, and the summary it prints.
//!
//! Invariants:
//! - Planning writes nothing; [`apply`] is the only function of the harness
//!   that changes the corpus, and it only writes or deletes expectation
//!   files (`expected.json`, `expected.err`, `diagnostics.txt`) directly in
//!   case folders of the corpus, each write atomic.
//! - A file is written only when its content changes; `diagnostics.txt` is
//!   deleted when the reduction no longer has diagnostics.
//! - A case whose outcome does not match its folder (an ok case that is now
//!   rejected, an err case that now reduces), whose README cannot be used, or
//!   whose reductions disagree is never blessed: it is refused and reported.
//!   Cases move between ok/ and err/ only by hand.
//! - Stray expectation files (the other kind's expectation, `diagnostics.txt`
//!   in an err case) are only deleted with `--prune`, which needs the whole
//!   corpus (no filter).
//! - After a successful apply, every blessed case passes its corpus test
//!   except for failing `check:` lines, which bless reports and cannot fix.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::path::PathBuf;

use crate::case::Case;
use crate::case::CaseKind;
use crate::case::Corpus;
use crate::case::DIAGNOSTICS;
use crate::case::EXPECTED_ERR;
use crate::case::EXPECTED_JSON;
use crate::config::CaseConfig;
use crate::render::rerun_command;
use crate::run::Output;
use crate::verdict::Problem;

/// What bless does to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The case had no expectation of its kind.
    New,
    Changed,
    Unchanged,
}

/// One file operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Write { path: PathBuf, content: String },
    Delete { path: PathBuf },
}

impl Action {
    pub fn path(&self) -> &Path {
        match self {
            Action::Write { path, .. } | Action::Delete { path } => path,
        }
    }
}

/// The plan for one blessable case.
#[derive(Debug, Clone)]
pub struct CasePlan {
    pub name: String,
    pub status: Status,
    pub actions: Vec<Action>,
    /// `check:`/`check-error:` lines that fail with the new output.
    pub failed_checks: usize,
}

/// A selected case that is not blessed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub name: String,
    /// One or more lines, the first says what is wrong.
    pub reason: String,
}

/// A stray expectation file, with why it is stray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub path: PathBuf,
    pub why: String,
}

/// Everything one bless run would do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cases: Vec<CasePlan>,
    pub refused: Vec<Refusal>,
    pub strays: Vec<Stray>,
    /// Whether the strays are deleted by [`apply`].
    pub prune: bool,
}

impl Plan {
    pub fn count(&self, status: Status) -> usize {
        self.cases
            .iter()
            .filter(|case| case.status == status)
            .count()
    }

    /// Whether applying the plan would change the corpus, or something needs
    /// a person (refusals, strays): what `--check` fails on.
    pub fn is_stale(&self) -> bool {
        !self.refused.is_empty()
            || !self.strays.is_empty()
            || self.cases.iter().any(|case| !case.actions.is_empty())
    }
}

/// Whether the `CI` variable says this is a CI run: set, not empty, not
/// `0` and not `false` (the rule insta uses).
pub fn is_ci(value: Option<&OsStr>) -> bool {
    value.is_some_and(|value| {
        let value = value.to_string_lossy().to_ascii_lowercase();
        !value.is_empty() && value != "0" && value != "false"
    })
}

/// Plans a bless of the cases whose name contains `filter` (all without one).
pub fn plan(corpus: &Corpus, filter: Option<&str>, prune: bool) -> Result<Plan, String> {
    if prune && filter.is_some() {
        return Err(
            "--prune deletes stray expectation files of the whole corpus and cannot be combined with a FILTER; run `cargo xtask bless --prune` alone"
                .to_string(),
        );
    }
    let cases = corpus
        .discover()
        .map_err(|error| format!("cannot read {}: {error}", corpus.root().display()))?;
    let selected: Vec<Case> = cases
        .into_iter()
        .filter(|case| filter.is_none_or(|filter| case.name.contains(filter)))
        .collect();
    if selected.is_empty() {
        return Err(match filter {
            Some(filter) => format!(
                "no case name contains {filter:?} (names look like ok/0018_name; list them with `cargo test -p harness --test corpus -- --list`)"
            ),
            None => format!("no case found in {}", corpus.root().display()),
        });
    }
    let mut plan = Plan {
        cases: Vec::new(),
        refused: Vec::new(),
        strays: Vec::new(),
        prune,
    };
    for case in &selected {
        plan.strays.extend(strays(case));
        match plan_case(corpus, case) {
            Ok(case_plan) => plan.cases.push(case_plan),
            Err(reason) => plan.refused.push(Refusal {
                name: case.name.clone(),
                reason,
            }),
        }
    }
    Ok(plan)
}

fn plan_case(corpus: &Corpus, case: &Case) -> Result<CasePlan, String> {
    let config = CaseConfig::load(&case.dir, case.kind);
    let options = match &config {
        Ok(config) => config.options,
        Err(errors) => {
            return Err(format!(
                "{}/README.md cannot be used: {}",
                corpus.display(&case.dir),
                errors.join("; ")
            ));
        }
    };
    let run = crate::run::run_case(case, &options);
    match (&run.output, case.kind) {
        (Output::Rejected { error }, CaseKind::Ok) => {
            return Err(format!(
                "must reduce, but the reducer rejected it: {error}\n  {}",
                crate::render::move_hint(corpus, case)
            ));
        }
        (Output::Reduced { .. }, CaseKind::Err) => {
            return Err(format!(
                "must be rejected, but the reducer accepted it\n  {}",
                crate::render::move_hint(corpus, case)
            ));
        }
        _ => {}
    }
    if let Some(what) = run.nondeterminism {
        return Err(what);
    }
    if !run.shortcut_faults.is_empty() {
        return Err(format!(
            "a shortcut was not taken as the bundle calls for: {}",
            run.shortcut_faults.join("; ")
        ));
    }
    let had_expectation = case.file(case.kind.expectation()).is_file();
    let mut actions = Vec::new();
    for (name, content) in run.output.files() {
        let path = case.file(name);
        if crate::verdict::read(&path).as_ref() != Some(&content) || !is_utf8(&path) {
            actions.push(Action::Write { path, content });
        }
    }
    let diagnostics = case.file(DIAGNOSTICS);
    if case.kind == CaseKind::Ok && run.output.file(DIAGNOSTICS).is_none() && diagnostics.is_file()
    {
        actions.push(Action::Delete { path: diagnostics });
    }
    let failed_checks = crate::verdict::judge(case, &config, &run)
        .iter()
        .filter(|problem| matches!(problem, Problem::Check { .. } | Problem::ErrorCheck { .. }))
        .count();
    let status = if !had_expectation {
        Status::New
    } else if actions.is_empty() {
        Status::Unchanged
    } else {
        Status::Changed
    };
    Ok(CasePlan {
        name: case.name.clone(),
        status,
        actions,
        failed_checks,
    })
}

fn is_utf8(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| std::str::from_utf8(&bytes).is_ok())
}

/// The stray expectation files of a case.
fn strays(case: &Case) -> Vec<Stray> {
    let mut found = Vec::new();
    let wrong = case.kind.other().expectation();
    if case.file(wrong).is_file() {
        found.push(Stray {
            path: case.file(wrong),
            why: format!("{wrong} in an {} case", case.kind),
        });
    }
    if case.kind == CaseKind::Err && case.file(DIAGNOSTICS).is_file() {
        found.push(Stray {
            path: case.file(DIAGNOSTICS),
            why: "diagnostics.txt in an err case".to_string(),
        });
    }
    found
}

/// Carries out the plan: writes and deletes, and with `prune` deletes the
/// strays. Every path is checked first; nothing is touched if one is not an
/// expectation file directly in a case folder of `corpus`.
pub fn apply(corpus: &Corpus, plan: &Plan) -> io::Result<()> {
    let mut actions: Vec<Action> = plan
        .cases
        .iter()
        .flat_map(|case| case.actions.iter().cloned())
        .collect();
    if plan.prune {
        actions.extend(plan.strays.iter().map(|stray| Action::Delete {
            path: stray.path.clone(),
        }));
    }
    for action in &actions {
        ensure_expectation_path(corpus, action.path())?;
    }
    for action in &actions {
        match action {
            Action::Write { path, content } => {
                rollout_trace::write_atomically(path, content.as_bytes()).map_err(|error| {
                    io::Error::new(error.kind(), format!("write {}: {error}", path.display()))
                })?;
            }
            Action::Delete { path } => std::fs::remove_file(path).map_err(|error| {
                io::Error::new(error.kind(), format!("delete {}: {error}", path.display()))
            })?,
        }
    }
    Ok(())
}

fn ensure_expectation_path(corpus: &Corpus, path: &Path) -> io::Result<()> {
    let relative = path.strip_prefix(corpus.root()).ok();
    let parts: Vec<String> = relative
        .map(|relative| {
            relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let valid = parts.len() == 3
        && CaseKind::from_folder(&parts[0]).is_some()
        && !parts[1].starts_with('.')
        && [EXPECTED_JSON, EXPECTED_ERR, DIAGNOSTICS].contains(&parts[2].as_str());
    if valid {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "refusing to touch {}: bless only writes expectation files of case folders in {}",
            path.display(),
            corpus.root().display()
        )))
    }
}

/// Whether the summary describes a finished bless or a `--check` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Blessed,
    Checked,
}

/// The text bless prints: the counts, then the changed and new cases with
/// their files, refusals, check failures and strays.
pub fn summary(corpus: &Corpus, plan: &Plan, mode: Mode) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} changed, {} unchanged, {} new",
        plan.count(Status::Changed),
        plan.count(Status::Unchanged),
        plan.count(Status::New)
    );
    for (status, label) in [(Status::Changed, "changed"), (Status::New, "new")] {
        for case in plan.cases.iter().filter(|case| case.status == status) {
            let files: Vec<String> = case
                .actions
                .iter()
                .map(|action| {
                    let name = action
                        .path()
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match action {
                        Action::Write { .. } => name,
                        Action::Delete { .. } => format!("{name} deleted"),
                    }
                })
                .collect();
            let _ = writeln!(text, "{label}: {} ({})", case.name, files.join(", "));
        }
    }
    for refusal in &plan.refused {
        let _ = writeln!(text, "not blessed: {} {}", refusal.name, refusal.reason);
    }
    for case in plan.cases.iter().filter(|case| case.failed_checks > 0) {
        let noun = if case.failed_checks == 1 {
            "line"
        } else {
            "lines"
        };
        let _ = writeln!(
            text,
            "warning: {} fails {} check {noun} of its README (bless cannot fix that; see `{}`)",
            case.name,
            case.failed_checks,
            rerun_command(&case.name)
        );
    }
    for stray in &plan.strays {
        let shown = corpus.display(&stray.path);
        if plan.prune && mode == Mode::Blessed {
            let _ = writeln!(text, "pruned: {shown} ({})", stray.why);
        } else {
            let _ = writeln!(
                text,
                "stray: {shown} ({}): delete it with `cargo xtask bless --prune`",
                stray.why
            );
        }
    }
    if mode == Mode::Checked {
        if plan.is_stale() {
            let _ = writeln!(
                text,
                "expectations are stale (--check wrote nothing): run `cargo xtask bless`, review `git diff corpus/`, commit"
            );
        } else {
            let _ = writeln!(text, "expectations are up to date");
        }
    }
    text
}
