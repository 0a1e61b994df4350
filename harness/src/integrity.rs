//! The static integrity check of the corpus: what must hold of its files
//! without reducing anything (rustc tidy's "stray file" check, applied to
//! case folders).
//!
//! Invariants:
//! - Every file of the corpus lies in a case folder (`corpus/ok/<case>/` or
//!   `corpus/err/<case>/`) and is one of: `manifest.json`, `trace.jsonl`,
//!   `README.md`, an expectation file of the case's kind, or a file under
//!   `payloads/` whose relative path the case's `trace.jsonl` names as a JSON
//!   string (the `"path"` of a payload reference, object or array form).
//! - Every case has a README.md that parses, exactly one expectation file of
//!   its kind (`expected.json` for ok, `expected.err` for err), and
//!   `diagnostics.txt` only in ok cases; every expectation file is
//!   non-empty and byte for byte in the form bless writes.
//! - Every issue names the file and the command that fixes it.
//! - The check reads files and writes nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::case::Case;
use crate::case::CaseKind;
use crate::case::Corpus;
use crate::case::DIAGNOSTICS;
use crate::case::EXPECTED_ERR;
use crate::case::EXPECTED_JSON;
use crate::case::README;
use crate::config::CaseConfig;
use crate::render::bless_command;

/// Files a case folder may hold besides its expectations and payloads.
const BUNDLE_FILES: &[&str] = &["manifest.json", "trace.jsonl", README];
/// The folder of payload files inside a case.
const PAYLOADS: &str = "payloads";
/// How the issue of a case without expectation starts.
const MISSING_EXPECTATION: &str = "missing expectation:";
/// The command that deletes expectation files of the wrong kind.
const PRUNE: &str = "cargo xtask bless --prune";

/// One integrity failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file or folder, as seen from the workspace root (`corpus/ok/...`).
    pub path: String,
    pub problem: String,
    /// What to run or do to fix it.
    pub fix: String,
}

/// Every integrity issue of the corpus, sorted by path.
pub fn check(corpus: &Corpus) -> Vec<Issue> {
    let mut issues = Vec::new();
    let root = corpus.root();
    if !root.is_dir() {
        issues.push(Issue {
            path: corpus.display(root),
            problem: "the corpus folder does not exist".to_string(),
            fix: "create corpus/ok/ and corpus/err/ with at least one case".to_string(),
        });
        return issues;
    }
    let cases = match corpus.discover() {
        Ok(cases) => cases,
        Err(error) => {
            issues.push(Issue {
                path: corpus.display(root),
                problem: format!("cannot be read: {error}"),
                fix: "check the folder's permissions".to_string(),
            });
            return issues;
        }
    };
    if cases.is_empty() {
        issues.push(Issue {
            path: corpus.display(root),
            problem: "no case found: there is no folder under corpus/ok/ or corpus/err/"
                .to_string(),
            fix: "add cases (a corpus without cases tests nothing)".to_string(),
        });
    }
    check_placement(corpus, &mut issues);
    for case in &cases {
        check_case(corpus, case, &mut issues);
    }
    issues.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.problem.cmp(&b.problem)));
    issues.dedup();
    issues
}

/// Files outside case folders, and files a case folder should not hold.
fn check_placement(corpus: &Corpus, issues: &mut Vec<Issue>) {
    let root = corpus.root();
    let mut misplaced_cases = BTreeSet::new();
    for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                issues.push(Issue {
                    path: corpus.display(&path),
                    problem: format!("cannot be read: {error}"),
                    fix: "check the permissions".to_string(),
                });
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let path = entry.path();
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let parts: Vec<String> = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        let shown = corpus.display(path);
        let in_kind_folder = CaseKind::from_folder(&parts[0]).is_some();
        let parent = path.parent().unwrap_or(root);
        let top_of_case = parts.len() == 3 && in_kind_folder;
        let in_payloads = parts.len() >= 4 && in_kind_folder && parts[2] == PAYLOADS;
        if top_of_case || in_payloads {
            if top_of_case && parts[2] == "state.json" {
                issues.push(Issue {
                    path: shown.clone(),
                    problem: "state.json is the output of `cargo xtask reduce` and does not belong in the corpus (the expectation is expected.json, written by bless)".to_string(),
                    fix: format!("rm {shown}"),
                });
            } else if top_of_case && !is_case_file(&parts[2]) {
                issues.push(Issue {
                    path: shown.clone(),
                    problem: format!(
                        "unknown file in a case folder (a case holds {}, {EXPECTED_JSON} or {EXPECTED_ERR}, {DIAGNOSTICS} and {PAYLOADS}/)",
                        BUNDLE_FILES.join(", ")
                    ),
                    fix: format!("rm {shown} (or move it out of the corpus)"),
                });
            }
            continue;
        }
        let is_kind_folder = parent == root.join("ok") || parent == root.join("err");
        if looks_like_bundle(parent) && parent != root && !is_kind_folder {
            misplaced_cases.insert(parent.to_path_buf());
            continue;
        }
        let problem = if parts.len() >= 3 && in_kind_folder {
            "unknown file in a case folder (only payloads/ may have subfolders)"
        } else {
            "file outside any case folder (the corpus holds only corpus/ok/<case>/ and corpus/err/<case>/)"
        };
        issues.push(Issue {
            path: shown.clone(),
            problem: problem.to_string(),
            fix: format!("rm {shown} (or move it into a case folder)"),
        });
    }
    for dir in misplaced_cases {
        let name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shown = corpus.display(&dir);
        let target = corpus.display(&root.join("ok").join(&name));
        issues.push(Issue {
            path: shown.clone(),
            problem: "case folder not directly under corpus/ok/ or corpus/err/, so it never runs"
                .to_string(),
            fix: format!(
                "git mv {shown} {target} (or corpus/err/{name} for a must-fail case), then `{}`",
                bless_command(&format!("ok/{name}"))
            ),
        });
    }
}

fn is_case_file(name: &str) -> bool {
    BUNDLE_FILES.contains(&name) || [EXPECTED_JSON, EXPECTED_ERR, DIAGNOSTICS].contains(&name)
}

fn looks_like_bundle(dir: &Path) -> bool {
    dir.join("trace.jsonl").is_file() || dir.join("manifest.json").is_file()
}

fn check_case(corpus: &Corpus, case: &Case, issues: &mut Vec<Issue>) {
    let shown = |name: &str| corpus.display(&case.file(name));
    let bless = bless_command(&case.name);
    let readme = case.file(README);
    if readme.is_file() {
        if let Err(errors) = CaseConfig::load(&case.dir, case.kind) {
            for error in errors {
                issues.push(Issue {
                    path: shown(README),
                    problem: error,
                    fix: "fix the line (see the README format of the corpus conventions)"
                        .to_string(),
                });
            }
        }
    } else {
        issues.push(Issue {
            path: shown(README),
            problem: "missing: every case explains what it exercises and why the output is right"
                .to_string(),
            fix: format!(
                "write {} (a `# title`, `Scenario:`, what the case exercises, its check lines)",
                shown(README)
            ),
        });
    }
    let expectation = case.kind.expectation();
    let wrong = case.kind.other().expectation();
    if !case.file(expectation).is_file() {
        issues.push(Issue {
            path: shown(expectation),
            problem: format!(
                "{MISSING_EXPECTATION} every {} case has {expectation}",
                case.kind
            ),
            fix: format!("review the output, then `{bless}`"),
        });
    }
    if case.file(wrong).is_file() {
        issues.push(Issue {
            path: shown(wrong),
            problem: format!(
                "{wrong} in an {} case, which must {} (a stray expectation)",
                case.kind,
                match case.kind {
                    CaseKind::Ok => "reduce",
                    CaseKind::Err => "be rejected",
                }
            ),
            fix: format!(
                "`{PRUNE}` (or, if the case changed kind, `git mv {} {}`)",
                corpus.display(&case.dir),
                corpus.display(&corpus.root().join(wrong_kind_folder(case)))
            ),
        });
    }
    if case.kind == CaseKind::Err && case.file(DIAGNOSTICS).is_file() {
        issues.push(Issue {
            path: shown(DIAGNOSTICS),
            problem: "diagnostics.txt in an err case: a rejected bundle has no diagnostics"
                .to_string(),
            fix: format!("`{PRUNE}`"),
        });
    }
    for name in [EXPECTED_JSON, EXPECTED_ERR, DIAGNOSTICS] {
        let Ok(bytes) = std::fs::read(case.file(name)) else {
            continue;
        };
        if let Some(problem) = form_problem(name, &bytes) {
            issues.push(Issue {
                path: shown(name),
                problem,
                fix: format!("`{bless}` rewrites it"),
            });
        }
    }
    check_payload_references(corpus, case, issues);
}

fn wrong_kind_folder(case: &Case) -> String {
    case.name_as(case.kind.other())
}

/// Why an expectation file is not in the form bless writes, if it is not.
fn form_problem(name: &str, bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return Some("empty: bless never writes an empty expectation".to_string());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("not UTF-8".to_string());
    };
    let Some(body) = text.strip_suffix('\n') else {
        return Some(
            "no trailing newline (bless ends every expectation with one \"\\n\")".to_string(),
        );
    };
    if body.ends_with('\n') || body.ends_with('\r') {
        return Some(
            "blank line or \"\\r\" at the end (bless ends with exactly one \"\\n\")".to_string(),
        );
    }
    match name {
        EXPECTED_JSON => {
            let value: Value = match serde_json::from_str(body) {
                Ok(value) => value,
                Err(error) => return Some(format!("not valid JSON: {error}")),
            };
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            (pretty != body).then(|| {
                "not in the exact form of state.json (JSON pretty-printed with 2-space indentation, members in the reducer's order)".to_string()
            })
        }
        EXPECTED_ERR => body
            .contains('\n')
            .then(|| format!("{} lines: the error text is one line", body.lines().count())),
        _ => body
            .split('\n')
            .any(str::is_empty)
            .then(|| "empty line: every line is one diagnostic".to_string()),
    }
}

/// Payload files that `trace.jsonl` never names. A file counts as named when
/// its path relative to the case folder occurs as a JSON string in the log:
/// the `"path"` of a payload reference, in object or array form (both decode),
/// found by text search so that damaged lines of must-fail cases count too,
/// or, on a line that decodes, under any spelling of the same relative path
/// (`payloads/1.json/`, `payloads//1.json`).
fn check_payload_references(corpus: &Corpus, case: &Case, issues: &mut Vec<Issue>) {
    let payloads = case.file(PAYLOADS);
    if !payloads.is_dir() {
        return;
    }
    let trace = std::fs::read(case.file("trace.jsonl")).unwrap_or_default();
    let trace = String::from_utf8_lossy(&trace);
    let spelled = spelled_paths(&trace);
    for entry in walkdir::WalkDir::new(&payloads)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&case.dir) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if !is_named(&trace, &relative) && !spelled.contains(&relative) {
            let shown = corpus.display(entry.path());
            issues.push(Issue {
                path: shown.clone(),
                problem: format!(
                    "payload file never referenced: no \"path\":\"{relative}\" in trace.jsonl"
                ),
                fix: format!("reference it from an event of trace.jsonl, or rm {shown}"),
            });
        }
    }
}

/// Every string of the decodable lines of `trace` that spells a relative
/// path inside the bundle, in its plain form (`payloads/1.json`).
fn spelled_paths(trace: &str) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::String(text) => {
                if let Ok(relative) = rollout_trace::bundle::relative_payload_path(text) {
                    found.insert(relative.to_string_lossy().replace('\\', "/"));
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            Value::Object(members) => members.values().for_each(|member| walk(member, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    for line in trace.lines() {
        if let Ok(value) = serde_json::from_str::<Value>(line) {
            walk(&value, &mut found);
        }
    }
    found
}

fn is_named(trace: &str, relative: &str) -> bool {
    [relative.to_string(), format!("./{relative}")]
        .iter()
        .filter_map(|path| serde_json::to_string(path).ok())
        .any(|quoted| trace.contains(&quoted))
}

/// The failure message of the integrity trial.
pub fn render(issues: &[Issue]) -> String {
    let mut text = String::new();
    let noun = if issues.len() == 1 { "issue" } else { "issues" };
    let _ = writeln!(text, "corpus integrity: {} {noun}", issues.len());
    for issue in issues {
        let _ = writeln!(text, "{}: {}", issue.path, issue.problem);
        let _ = writeln!(text, "  fix: {}", issue.fix);
    }
    let missing = issues
        .iter()
        .filter(|issue| issue.problem.starts_with(MISSING_EXPECTATION))
        .count();
    if missing > 1 {
        let _ = writeln!(
            text,
            "{missing} cases have no expectation: `cargo xtask bless` writes them all (review `git diff corpus/` before committing)"
        );
    }
    let _ = write!(
        text,
        "rerun: {}",
        crate::render::rerun_command(crate::case::INTEGRITY_TRIAL)
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_paths_are_found_in_objects_arrays_and_damaged_lines() {
        let text = "{\"a\":{\"path\":\"payloads/1.json\"}}\n[\"raw_payload:2\",{\"type\":\"x\"},\"./payloads/2.json\"]\n{\"p\":{\"path\":\"payloads/3.json\"";
        let named: Vec<bool> = [
            "payloads/1.json",
            "payloads/2.json",
            "payloads/3.json",
            "payloads/4.json",
            "payloads/1.js",
        ]
        .iter()
        .map(|path| is_named(text, path))
        .collect();
        assert_eq!(named, [true, true, true, false, false]);
    }

    #[test]
    fn other_spellings_of_a_path_count_on_lines_that_decode() {
        let text = "{\"path\":\"payloads/1.json/\",\"b\":[\"payloads//2.json\"],\"c\":\"../3.json\"}\n{\"path\":\"payloads/4.json/\"";
        let spelled = spelled_paths(text);
        assert!(spelled.contains("payloads/1.json"));
        assert!(spelled.contains("payloads/2.json"));
        assert!(!spelled.contains("3.json"));
        assert!(!spelled.contains("payloads/4.json"));
    }

    #[test]
    fn expectation_form() {
        let pretty = "{\n  \"a\": [\n    1\n  ]\n}\n";
        assert_eq!(form_problem(EXPECTED_JSON, pretty.as_bytes()), None);
        let problems: Vec<Option<String>> = [
            (EXPECTED_JSON, ""),
            (EXPECTED_JSON, "{\"a\":[1]}\n"),
            (EXPECTED_JSON, "{\n  \"a\": [\n    1\n  ]\n}"),
            (EXPECTED_JSON, "{\n  \"a\": [\n    1\n  ]\n}\n\n"),
            (EXPECTED_JSON, "{\n"),
            (EXPECTED_ERR, "one\ntwo\n"),
            (EXPECTED_ERR, "one line\n"),
            (DIAGNOSTICS, "a\n\nb\n"),
            (DIAGNOSTICS, "a\nb\n"),
        ]
        .iter()
        .map(|(name, text)| form_problem(name, text.as_bytes()))
        .collect();
        assert_eq!(
            problems,
            [
                Some("empty: bless never writes an empty expectation".to_string()),
                Some("not in the exact form of state.json (JSON pretty-printed with 2-space indentation, members in the reducer's order)".to_string()),
                Some("no trailing newline (bless ends every expectation with one \"\\n\")".to_string()),
                Some("blank line or \"\\r\" at the end (bless ends with exactly one \"\\n\")".to_string()),
                Some("not valid JSON: EOF while parsing an object at line 1 column 1".to_string()),
                Some("2 lines: the error text is one line".to_string()),
                None,
                Some("empty line: every line is one diagnostic".to_string()),
                None,
            ]
        );
    }
}
