//! The file operations a writer performs, behind a trait so that tests can
//! stop a writer between any two of them (or in the middle of an append), as
//! a killed process would.
//!
//! Every byte a writer puts on disk goes through one of these calls, and the
//! writer issues them in an order that keeps the bundle reducible at every
//! point: a payload file is complete (`write_file`) before the first byte of
//! the event line that references it is appended. Reading (by `resume`) uses
//! the file system directly: an implementation must store what it is given
//! at the paths it is given.

use std::fs;
use std::fs::File;
use std::fs::OpenOptions;
use std::io;
use std::io::Write;
use std::path::Path;

/// Where a writer's bytes go.
pub trait Storage: Send + Sync {
    /// Creates a folder and its parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;

    /// Writes a whole file, replacing any file at `path`. After a crash the
    /// file is either as before or complete, never half-written. With `sync`,
    /// the content is on stable storage when the call returns.
    fn write_file(&self, path: &Path, contents: &[u8], sync: bool) -> io::Result<()>;

    /// Creates the event log, failing with `AlreadyExists` if it exists: the
    /// one step that claims a folder for a new bundle.
    fn create_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;

    /// Opens an existing event log (creating it if missing), cut to its first
    /// `keep_bytes` bytes, for appending.
    fn open_log(&self, path: &Path, keep_bytes: u64) -> io::Result<Box<dyn LogFile>>;
}

/// An event log open for appending.
pub trait LogFile: Send {
    /// Appends `bytes` at the end of the log (to the operating system, not
    /// necessarily to stable storage).
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Puts everything appended so far on stable storage.
    fn sync(&mut self) -> io::Result<()>;
}

/// The local file system. Whole files are written to a hidden temporary
/// sibling (`.<name>.tmp`) and renamed into place; a crash can leave such a
/// temporary behind, which no reader looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalDisk;

impl Storage for LocalDisk {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }

    fn write_file(&self, path: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "path has no folder or no file name",
            ));
        };
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(".tmp");
        let temporary = folder.join(temporary_name);
        let result = (|| {
            let mut file = File::create(&temporary)?;
            file.write_all(contents)?;
            if sync {
                file.sync_all()?;
            }
            drop(file);
            fs::rename(&temporary, path)?;
            if sync {
                sync_folder(folder)?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        result
    }

    fn create_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)?;
        Ok(Box::new(DiskLog { file }))
    }

    fn open_log(&self, path: &Path, keep_bytes: u64) -> io::Result<Box<dyn LogFile>> {
        let file = OpenOptions::new().append(true).create(true).open(path)?;
        if file.metadata()?.len() != keep_bytes {
            file.set_len(keep_bytes)?;
            file.sync_all()?;
        }
        Ok(Box::new(DiskLog { file }))
    }
}

/// Makes a rename inside `folder` durable (a no-op where folders cannot be opened).
fn sync_folder(folder: &Path) -> io::Result<()> {
    if cfg!(unix) {
        File::open(folder)?.sync_all()
    } else {
        Ok(())
    }
}

/// The event log as an unbuffered file in append mode: each `append` is one
/// `write_all`, so what it returns from is in the operating system's hands.
struct DiskLog {
    file: File,
}

impl LogFile for DiskLog {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}
