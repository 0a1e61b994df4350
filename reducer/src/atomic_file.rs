//! Writing the files the project writes: never half-written, and never
//! destroying what the path names.
//!
//! What a path names decides how it is written:
//! - a regular file, or nothing yet: the content goes to a temporary file in
//!   the same folder, is flushed to disk, and is renamed over the path, so
//!   readers see the old file or the new one, never a mix (and a failure
//!   leaves the old one);
//! - a symbolic link: it is followed, and its final target is replaced that
//!   way (the temporary file beside the target), so the link stays a link;
//! - anything else that exists (a character or block device such as
//!   `/dev/null`, a FIFO, a socket) or a descriptor path (`/dev/stdout`,
//!   `/dev/fd/N`, `/proc/self/fd/N`): it is opened and written to directly,
//!   streaming. Renaming over such a path would replace it with a regular
//!   file (and, run as root, break `/dev/null` for every program).
//!
//! Invariant: nothing is ever renamed over a path that is not a regular file,
//! and no file is created outside the folder of the path or of its target.

use std::fs;
use std::io;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

/// Symbolic links followed before giving up (as the kernel's `ELOOP`).
const MAX_LINK_HOPS: usize = 40;

/// Writes `contents` to `path` (see the module doc for how).
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |file| file.write_all(contents))
}

/// Writes what `write` writes (buffered) to `path`, so large outputs need
/// not be held in memory first (see the module doc for how).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match destination(path)? {
        Destination::Stream => {
            let file = fs::OpenOptions::new().write(true).open(path)?;
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            write(&mut out)?;
            out.flush()
        }
        Destination::Replace(target) => replace(&target, write),
    }
}

/// How a path is written.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// Opened and written to directly.
    Stream,
    /// This regular file (the path, or its link's final target) is replaced.
    Replace(PathBuf),
}

fn destination(path: &Path) -> io::Result<Destination> {
    if let Ok(metadata) = fs::metadata(path) {
        if metadata.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a folder, not a file",
            ));
        }
        if !metadata.is_file() {
            return Ok(Destination::Stream);
        }
    }
    if is_descriptor_path(path) {
        return Ok(Destination::Stream);
    }
    let mut target = path.to_path_buf();
    for _ in 0..MAX_LINK_HOPS {
        match fs::symlink_metadata(&target) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&target)?;
                if is_descriptor_path(&link) {
                    return Ok(Destination::Stream);
                }
                target = match target.parent() {
                    Some(folder) if link.is_relative() => folder.join(link),
                    _ => link,
                };
            }
            _ => return Ok(Destination::Replace(target)),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINK_HOPS} symbolic links to follow"
    )))
}

/// Paths that name an open descriptor, whatever it refers to: writing to
/// them must reach that descriptor, never replace the file it has open.
fn is_descriptor_path(path: &Path) -> bool {
    let Some(text) = path.to_str() else {
        return false;
    };
    matches!(text, "/dev/stdout" | "/dev/stderr")
        || text.starts_with("/dev/fd/")
        || (text.starts_with("/proc/") && text.contains("/fd/"))
}

/// Replaces the regular file (or nothing) at `target` through a temporary
/// file beside it, keeping an existing file's permissions.
fn replace(target: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{}.", name.to_string_lossy());
    builder.prefix(&prefix).suffix(".tmp");
    let existing = fs::metadata(target)
        .ok()
        .map(|metadata| metadata.permissions());
    #[cfg(unix)]
    let default_permissions = {
        use std::os::unix::fs::PermissionsExt;
        // What `File::create` gives: 0666 less the umask.
        fs::Permissions::from_mode(0o666)
    };
    #[cfg(unix)]
    builder.permissions(existing.clone().unwrap_or(default_permissions));
    let temporary = builder.tempfile_in(folder)?;
    let mut out = io::BufWriter::with_capacity(1 << 20, temporary);
    write(&mut out)?;
    let temporary = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    temporary.as_file().sync_all()?;
    if let Some(permissions) = existing {
        // The umask may have narrowed them at creation.
        fs::set_permissions(temporary.path(), permissions)?;
    }
    temporary.persist(target).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() -> io::Result<()> {
        let folder = tempfile::tempdir()?;
        let path = folder.path().join("state.json");
        fs::write(&path, "old")?;
        write_atomically(&path, b"new")?;
        assert_eq!(fs::read_to_string(&path)?, "new");
        let names: Vec<_> = fs::read_dir(folder.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        Ok(())
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() -> io::Result<()> {
        let folder = tempfile::tempdir()?;
        let path = folder.path().join("state.json");
        fs::write(&path, "old")?;
        let result = write_atomically_with(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("the reducer failed"))
        });
        assert!(result.is_err());
        assert_eq!(fs::read_to_string(&path)?, "old");
        assert_eq!(fs::read_dir(folder.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn descriptor_paths_are_written_to_directly() {
        for path in ["/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/1"] {
            assert!(is_descriptor_path(Path::new(path)), "{path}");
        }
        for path in ["/dev/null", "out/fd/1", "/proc/self/status", "state.json"] {
            assert!(!is_descriptor_path(Path::new(path)), "{path}");
        }
    }
}
