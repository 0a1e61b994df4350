//! Writing files so that a crash or an error never leaves a half-written one.
//!
//! The content goes to a temporary file in the destination's folder, is
//! flushed to disk, and is then renamed over the destination: readers see
//! either the old file or the new one, never a mix.

use std::fs;
use std::io;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

/// Replaces `path` with `contents` atomically.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |file| file.write_all(contents))
}

/// Replaces `path` atomically with what `write` writes (buffered), so large
/// outputs need not be held in memory first.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".tmp{}", std::process::id()));
    let temporary = folder.join(temporary_name);
    let result = (|| {
        let mut file = io::BufWriter::with_capacity(1 << 20, fs::File::create(&temporary)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() -> io::Result<()> {
        let folder = std::env::temp_dir().join(format!("atomic-file-test-{}", std::process::id()));
        fs::create_dir_all(&folder)?;
        let path = folder.join("state.json");
        fs::write(&path, "old")?;
        write_atomically(&path, b"new")?;
        assert_eq!(fs::read_to_string(&path)?, "new");
        let names: Vec<_> = fs::read_dir(&folder)?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        fs::remove_dir_all(&folder)
    }
}
