//! Payload-path confinement: the one rule that decides which file a payload
//! reference may name (policy P1; upstream opens whatever the path names).
//!
//! A path must be non-empty and relative, must not contain `..`, and, once
//! symbolic links are resolved, must still lie inside the bundle folder.
//! The reducer applies it before opening a payload; `new-case` applies it
//! before copying one into the corpus.

use std::fmt;
use std::path::Component;
use std::path::Path;
use std::path::PathBuf;

/// Why a payload path may not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unconfined {
    Empty,
    /// It contains `..`.
    Parent,
    /// It is absolute (or has a Windows prefix).
    Absolute,
    /// It leaves the bundle through a symbolic link.
    Escapes,
}

impl fmt::Display for Unconfined {
    /// The predicate, to follow "payload path `<path>`".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unconfined::Empty => "is empty",
            Unconfined::Parent => "contains `..` and could leave the bundle folder",
            Unconfined::Absolute => {
                "is absolute; payload paths must be relative to the bundle folder"
            }
            Unconfined::Escapes => {
                "resolves through a symbolic link to a file outside the bundle folder"
            }
        })
    }
}

/// The path relative to the bundle folder (`.` parts dropped), if its
/// spelling keeps it inside.
pub fn relative_payload_path(path: &str) -> Result<PathBuf, Unconfined> {
    if path.is_empty() {
        return Err(Unconfined::Empty);
    }
    let mut relative = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(Unconfined::Parent),
            Component::RootDir | Component::Prefix(_) => return Err(Unconfined::Absolute),
        }
    }
    Ok(relative)
}

/// The file `path` names inside the bundle folder `root`, whose resolved
/// form is `canonical_root` (when known). A file that does not exist passes:
/// opening it reports it, with the open's own error. The path keeps its
/// spelling (the check alone reads it component by component), so
/// `payloads/1.json/` names no file, as it does for upstream's open.
pub fn confined_payload_path(
    root: &Path,
    canonical_root: Option<&Path>,
    path: &str,
) -> Result<PathBuf, Unconfined> {
    relative_payload_path(path)?;
    let joined = root.join(path);
    if let (Some(canonical_root), Ok(resolved)) = (canonical_root, joined.canonicalize())
        && !resolved.starts_with(canonical_root)
    {
        return Err(Unconfined::Escapes);
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_that_leave_the_bundle_are_refused() {
        assert_eq!(relative_payload_path(""), Err(Unconfined::Empty));
        assert_eq!(relative_payload_path("../x.json"), Err(Unconfined::Parent));
        assert_eq!(
            relative_payload_path("payloads/../../x.json"),
            Err(Unconfined::Parent)
        );
        assert_eq!(
            relative_payload_path("/etc/passwd"),
            Err(Unconfined::Absolute)
        );
        assert_eq!(
            relative_payload_path("./payloads/./1.json"),
            Ok(PathBuf::from("payloads/1.json"))
        );
    }

    #[test]
    fn the_opened_path_keeps_its_spelling() -> Result<(), Unconfined> {
        let root = Path::new("bundle");
        for spelling in [
            "payloads/1.json/",
            "./payloads//1.json",
            "payloads/1.json/.",
        ] {
            let opened = confined_payload_path(root, None, spelling)?;
            assert_eq!(opened.as_os_str(), format!("bundle/{spelling}").as_str());
        }
        Ok(())
    }
}
