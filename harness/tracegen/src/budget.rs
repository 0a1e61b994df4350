//! A `Storage` for the trace writer that counts the bytes of the bundle and
//! refuses to grow it past a budget.
//!
//! Generated bundles grow with the square of the number of turns (every
//! full-snapshot request repeats the history), so a mistyped `--turns` can
//! fill a disk that other work shares. The budget turns that into an error
//! before the disk is full; the count gives the bundle size without a walk
//! over thousands of files.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use rollout_trace::writer::LocalDisk;
use rollout_trace::writer::LogFile;
use rollout_trace::writer::Storage;

/// Bytes written so far, shared by the storage and its log file.
#[derive(Debug, Clone)]
pub struct ByteBudget {
    written: Arc<AtomicU64>,
    limit: Option<u64>,
}

impl ByteBudget {
    pub fn new(limit: Option<u64>) -> Self {
        ByteBudget {
            written: Arc::new(AtomicU64::new(0)),
            limit,
        }
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    fn spend(&self, bytes: usize) -> io::Result<()> {
        let bytes = bytes as u64;
        let total = self.written.fetch_add(bytes, Ordering::SeqCst) + bytes;
        match self.limit {
            Some(limit) if total > limit => Err(io::Error::other(format!(
                "the bundle would exceed its size limit of {limit} bytes"
            ))),
            _ => Ok(()),
        }
    }
}

/// The local disk, within a `ByteBudget`.
#[derive(Debug, Clone)]
pub struct BudgetedDisk {
    pub budget: ByteBudget,
}

impl Storage for BudgetedDisk {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        LocalDisk.create_dir_all(path)
    }

    fn write_file(&self, path: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
        self.budget.spend(contents.len())?;
        LocalDisk.write_file(path, contents, sync)
    }

    fn create_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        Ok(Box::new(BudgetedLog {
            inner: LocalDisk.create_log(path)?,
            budget: self.budget.clone(),
        }))
    }

    fn open_log(&self, path: &Path, keep_bytes: u64) -> io::Result<Box<dyn LogFile>> {
        Ok(Box::new(BudgetedLog {
            inner: LocalDisk.open_log(path, keep_bytes)?,
            budget: self.budget.clone(),
        }))
    }
}

struct BudgetedLog {
    inner: Box<dyn LogFile>,
    budget: ByteBudget,
}

impl LogFile for BudgetedLog {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.budget.spend(bytes.len())?;
        self.inner.append(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.inner.sync()
    }
}
