//! Writing files so that a crash or an error never leaves a half-written one.
//!
//! The content goes to a temporary file in the destination's folder, is
//! flushed to disk, and is then renamed over the destination: readers see
//! either the old file or the new one, never a mix.
//!
//! A destination that exists and is neither a regular file nor a folder (a
//! device such as `/dev/null`, a FIFO) is written in place: renaming over
//! it would replace the device node with a regular file.

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
    if fs::metadata(path).is_ok_and(|metadata| !metadata.is_file() && !metadata.is_dir()) {
        let mut file = io::BufWriter::new(fs::OpenOptions::new().write(true).open(path)?);
        write(&mut file)?;
        return file.flush();
    }
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

    /// A FIFO stands in for `/dev/null`: a test that failed on the real
    /// device would replace it for the whole machine.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_in_place_not_replaced() -> io::Result<()> {
        use std::os::unix::fs::FileTypeExt;
        let folder = std::env::temp_dir().join(format!("atomic-file-fifo-{}", std::process::id()));
        fs::create_dir_all(&folder)?;
        let fifo = folder.join("out");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|status| status.success()) {
            return Ok(());
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo))
        };
        write_atomically(&fifo, b"through the pipe")?;
        // Checked before joining: had the FIFO been replaced, its reader
        // would wait for a writer for ever.
        assert!(fs::metadata(&fifo)?.file_type().is_fifo());
        let read = reader
            .join()
            .map_err(|_| io::Error::other("reader panicked"))??;
        assert_eq!(read, b"through the pipe");
        fs::remove_dir_all(&folder)
    }

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
