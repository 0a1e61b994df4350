//! Why a writer call failed: a kind to match on and a message that names the
//! file and the operation, in the crate's error style (lowercase, no period).

use std::fmt;
use std::io;

/// What went wrong, for callers that react differently to each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteErrorKind {
    /// `create` was pointed at a folder that already holds a bundle.
    BundleExists,
    /// `resume` was pointed at a folder without a readable manifest.
    NotABundle,
    /// `resume` found a log it cannot continue without losing events.
    DamagedLog,
    /// A name given by the caller cannot be used (for example as a folder name).
    InvalidInput,
    /// A payload or event could not be encoded as JSON.
    Encode,
    /// The file system refused a write.
    Io,
    /// An earlier write to the event log failed; the writer accepts nothing
    /// more, so the log never gets a line after a damaged one.
    Stopped,
}

/// A failed writer call.
#[derive(Debug)]
pub struct WriteError {
    kind: WriteErrorKind,
    message: String,
    io: Option<io::Error>,
}

impl WriteError {
    pub(crate) fn new(kind: WriteErrorKind, message: impl Into<String>) -> Self {
        WriteError {
            kind,
            message: message.into(),
            io: None,
        }
    }

    /// An I/O failure while doing `what` (which names the file).
    pub(crate) fn io(what: impl Into<String>, error: io::Error) -> Self {
        WriteError {
            kind: WriteErrorKind::Io,
            message: what.into(),
            io: Some(error),
        }
    }

    pub fn kind(&self) -> WriteErrorKind {
        self.kind
    }

    /// The operating-system error behind an `Io` failure.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.io.as_ref()
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(io) = &self.io {
            write!(f, ": {io}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WriteError {}
