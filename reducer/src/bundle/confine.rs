//! Payload-path confinement: the one rule that decides which file a payload
//! reference may name (policy P1; upstream opens whatever the path names).
//!
//! A path must be relative, must not contain `..`, and, once symbolic links
//! are resolved, must still lie inside the bundle folder. An empty path names
//! the bundle folder itself, as it does for upstream (whose read of it then
//! fails with the operating system's message).
//! The reducer applies it before opening a payload; `new-case` applies it
//! before copying one into the corpus.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::Component;
use std::path::Path;
use std::path::PathBuf;

/// Why a payload path may not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unconfined {
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

/// A payload path that passed confinement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confined {
    /// The path to open, spelled as the reference spells it.
    pub path: PathBuf,
    /// The file was seen to be a regular file, not a link: opening it cannot
    /// block (a FIFO) or stream forever (a device).
    pub regular_file: bool,
}

/// [`confined_payload_path`] for the many payloads of one bundle: each
/// folder is resolved once, and a file that is no symbolic link lies where
/// its folder resolves to, so one `lstat` settles it. The answers are the
/// ones `confined_payload_path` gives (folders do not change during a
/// reduction).
#[derive(Debug, Clone, Default)]
pub struct FolderCache {
    /// Folder as joined onto the bundle root -> its resolved form.
    resolved: HashMap<PathBuf, Option<PathBuf>>,
}

impl FolderCache {
    pub fn confine(
        &mut self,
        root: &Path,
        canonical_root: Option<&Path>,
        path: &str,
    ) -> Result<Confined, Unconfined> {
        relative_payload_path(path)?;
        let joined = root.join(path);
        let unchecked = |path: PathBuf| {
            Ok(Confined {
                path,
                regular_file: false,
            })
        };
        let Some(canonical_root) = canonical_root else {
            return unchecked(joined);
        };
        // A file that cannot be looked at cannot be resolved: its open says why.
        let Ok(metadata) = fs::symlink_metadata(&joined) else {
            return unchecked(joined);
        };
        let resolved = match (joined.parent(), joined.file_name()) {
            (Some(folder), Some(name)) if !metadata.file_type().is_symlink() => self
                .resolved
                .entry(folder.to_path_buf())
                .or_insert_with(|| folder.canonicalize().ok())
                .as_ref()
                .map(|folder| folder.join(name)),
            _ => joined.canonicalize().ok(),
        };
        if resolved.is_some_and(|resolved| !resolved.starts_with(canonical_root)) {
            return Err(Unconfined::Escapes);
        }
        Ok(Confined {
            regular_file: metadata.is_file(),
            path: joined,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_that_leave_the_bundle_are_refused() {
        assert_eq!(relative_payload_path(""), Ok(PathBuf::new()));
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

    #[cfg(unix)]
    #[test]
    fn the_folder_cache_answers_as_the_path_check_does() -> std::io::Result<()> {
        let outside = tempfile::tempdir()?;
        fs::write(outside.path().join("secret.json"), "{}")?;
        let bundle = tempfile::tempdir()?;
        let root = bundle.path();
        fs::create_dir(root.join("payloads"))?;
        fs::write(root.join("payloads/1.json"), "{}")?;
        std::os::unix::fs::symlink(
            outside.path().join("secret.json"),
            root.join("payloads/2.json"),
        )?;
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere"))?;
        std::os::unix::fs::symlink("1.json", root.join("payloads/3.json"))?;
        let canonical_root = root.canonicalize()?;
        let mut cache = FolderCache::default();
        for path in [
            "payloads/1.json",
            "payloads/2.json",
            "elsewhere/secret.json",
            "payloads/3.json",
            "payloads/missing.json",
            "payloads/1.json/",
            "./payloads//1.json",
            "payloads",
        ] {
            let cached = cache
                .confine(root, Some(&canonical_root), path)
                .map(|confined| confined.path);
            let checked = confined_payload_path(root, Some(&canonical_root), path);
            assert_eq!(cached, checked, "{path}");
        }
        let regular = |path| {
            FolderCache::default()
                .confine(root, Some(&canonical_root), path)
                .map(|confined| confined.regular_file)
        };
        assert_eq!(regular("payloads/1.json"), Ok(true));
        assert_eq!(regular("payloads/3.json"), Ok(false));
        assert_eq!(regular("payloads"), Ok(false));
        assert_eq!(regular("payloads/2.json"), Err(Unconfined::Escapes));
        Ok(())
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
