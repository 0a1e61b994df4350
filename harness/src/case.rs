//! Case discovery: which folders of the corpus are cases, and their names.
//!
//! Invariants:
//! - A case is exactly a folder two levels below the corpus root whose first
//!   level is `ok` or `err`: `corpus/ok/NNNN_name/`. It needs no particular
//!   file to count (a must-fail case may lack `trace.jsonl` or
//!   `manifest.json` on purpose); what a case folder must hold is the
//!   integrity check's business.
//! - A case's name is its path relative to the corpus root with `/`
//!   separators on every platform (`ok/0018_...`); discovery returns cases
//!   sorted by name.
//! - Looking up one case by name ([`Corpus::case_by_name`]) reads only that
//!   folder, never the whole corpus (one process per case under nextest).

use std::fmt;
use std::io;
use std::path::Path;
use std::path::PathBuf;

/// Expectation of an ok case: `state.json` plus a trailing newline.
pub const EXPECTED_JSON: &str = "expected.json";
/// Expectation of an err case: the error text plus a trailing newline.
pub const EXPECTED_ERR: &str = "expected.err";
/// Diagnostics of an ok case, one per line; present exactly when there are some.
pub const DIAGNOSTICS: &str = "diagnostics.txt";
/// The case's description, with its `reduce-args:`/`check:` lines.
pub const README: &str = "README.md";
/// The name of the test that runs the integrity check.
pub const INTEGRITY_TRIAL: &str = "corpus_integrity";

/// Whether a case must reduce or must be rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseKind {
    Ok,
    Err,
}

impl CaseKind {
    /// The folder of the corpus that holds cases of this kind.
    pub fn folder(self) -> &'static str {
        match self {
            CaseKind::Ok => "ok",
            CaseKind::Err => "err",
        }
    }

    pub fn from_folder(folder: &str) -> Option<CaseKind> {
        match folder {
            "ok" => Some(CaseKind::Ok),
            "err" => Some(CaseKind::Err),
            _ => None,
        }
    }

    /// The expectation file a case of this kind must have.
    pub fn expectation(self) -> &'static str {
        match self {
            CaseKind::Ok => EXPECTED_JSON,
            CaseKind::Err => EXPECTED_ERR,
        }
    }

    pub fn other(self) -> CaseKind {
        match self {
            CaseKind::Ok => CaseKind::Err,
            CaseKind::Err => CaseKind::Ok,
        }
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

/// One case of the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// `ok/0018_name`: the test name and the bless filter's haystack.
    pub name: String,
    pub kind: CaseKind,
    /// The folder, as passed to the reducer (and replaced by `$BUNDLE`).
    pub dir: PathBuf,
}

impl Case {
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The folder name without the kind: `0018_name`.
    pub fn folder_name(&self) -> &str {
        self.name
            .split_once('/')
            .map_or(self.name.as_str(), |(_, rest)| rest)
    }

    /// The name this case would have under the other kind (for `git mv` hints).
    pub fn name_as(&self, kind: CaseKind) -> String {
        format!("{}/{}", kind.folder(), self.folder_name())
    }
}

/// A corpus folder.
#[derive(Debug, Clone)]
pub struct Corpus {
    root: PathBuf,
}

impl Corpus {
    pub fn new(root: impl Into<PathBuf>) -> Corpus {
        Corpus { root: root.into() }
    }

    /// The corpus of the checkout this process runs in.
    pub fn of_workspace() -> Result<Corpus, String> {
        crate::corpus_root().map(Corpus::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` as seen from the folder that holds the corpus (`corpus/ok/...`),
    /// which is the workspace root for the real corpus: the form commands and
    /// messages use. Paths elsewhere are shown whole.
    pub fn display(&self, path: &Path) -> String {
        let base = self.root.parent().unwrap_or(&self.root);
        let shown = path.strip_prefix(base).unwrap_or(path);
        shown.to_string_lossy().replace('\\', "/")
    }

    /// Every case, sorted by name. Fails only when a folder cannot be read.
    pub fn discover(&self) -> io::Result<Vec<Case>> {
        let mut cases = Vec::new();
        for kind in [CaseKind::Ok, CaseKind::Err] {
            let kind_dir = self.root.join(kind.folder());
            if !kind_dir.is_dir() {
                continue;
            }
            let walk = walkdir::WalkDir::new(&kind_dir)
                .min_depth(1)
                .max_depth(1)
                .sort_by_file_name();
            for entry in walk {
                let entry = entry.map_err(io::Error::other)?;
                if !entry.file_type().is_dir() {
                    continue;
                }
                let folder = entry.file_name().to_string_lossy();
                cases.push(Case {
                    name: format!("{}/{folder}", kind.folder()),
                    kind,
                    dir: entry.into_path(),
                });
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cases)
    }

    /// The case called `name` (`ok/0018_name`), found without scanning the
    /// corpus; `None` when no such case folder exists.
    pub fn case_by_name(&self, name: &str) -> Option<Case> {
        let (folder, rest) = name.split_once('/')?;
        let kind = CaseKind::from_folder(folder)?;
        if rest.is_empty() || rest.contains(['/', '\\']) || rest == "." || rest == ".." {
            return None;
        }
        let dir = self.root.join(folder).join(rest);
        dir.is_dir().then(|| Case {
            name: name.to_string(),
            kind,
            dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_is_sorted_and_lookup_matches_it() -> io::Result<()> {
        let temp = tempfile::Builder::new()
            .prefix("harness-discover-")
            .tempdir()?;
        let root = temp.path().join("corpus");
        for folder in ["ok/0002_b", "err/0001_a", "ok/0001_a", "ok/0001_a/payloads"] {
            std::fs::create_dir_all(root.join(folder))?;
        }
        std::fs::write(root.join("ok/stray.txt"), "x")?;
        let corpus = Corpus::new(&root);
        let cases = corpus.discover()?;
        let names: Vec<&str> = cases.iter().map(|case| case.name.as_str()).collect();
        assert_eq!(names, ["err/0001_a", "ok/0001_a", "ok/0002_b"]);
        for case in &cases {
            assert_eq!(corpus.case_by_name(&case.name).as_ref(), Some(case));
        }
        for missing in [
            "ok/0003_c",
            "ok",
            "ok/",
            "ok/0001_a/payloads",
            "misc/0001_a",
            "ok/..",
        ] {
            assert_eq!(corpus.case_by_name(missing), None, "{missing}");
        }
        assert_eq!(
            corpus.display(&cases[1].file(EXPECTED_JSON)),
            "corpus/ok/0001_a/expected.json"
        );
        Ok(())
    }
}
