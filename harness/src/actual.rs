//! The actual output of a failing case, kept under the target folder for
//! inspection: `target/corpus-actual/<case name>/<expectation file>`.
//!
//! Invariants: one folder per case, holding exactly the expectation files of
//! the latest failing run (a passing run removes the folder); nothing is ever
//! written inside the corpus, whatever target folder the caller gives.

use std::io;
use std::path::Path;
use std::path::PathBuf;

use crate::case::Case;
use crate::case::Corpus;
use crate::run::Output;

/// The folder under the target folder that holds actual outputs.
pub const ACTUAL_FOLDER: &str = "corpus-actual";

/// The folder of one case's actual output.
pub fn dir(target_dir: &Path, case: &Case) -> PathBuf {
    let mut dir = target_dir.join(ACTUAL_FOLDER);
    dir.extend(case.name.split('/'));
    dir
}

/// Replaces the case's actual-output folder with the files of `output`.
pub fn write(
    corpus: &Corpus,
    target_dir: &Path,
    case: &Case,
    output: &Output,
) -> io::Result<PathBuf> {
    let dir = dir(target_dir, case);
    if dir.starts_with(corpus.root()) {
        return Err(io::Error::other(format!(
            "refusing to write actual output inside the corpus: {}",
            dir.display()
        )));
    }
    clear(target_dir, case)?;
    std::fs::create_dir_all(&dir)?;
    for (name, content) in output.files() {
        rollout_trace::write_atomically(&dir.join(name), content.as_bytes())?;
    }
    Ok(dir)
}

/// Removes the case's actual-output folder, if any.
pub fn clear(target_dir: &Path, case: &Case) -> io::Result<()> {
    match std::fs::remove_dir_all(dir(target_dir, case)) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}
