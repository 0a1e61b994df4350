//! The error of a rejected bundle and the diagnostics of an accepted one.
//!
//! A `ReduceError` keeps upstream's message chain intact (top-level message,
//! then each cause) and adds the place it happened: the file, the
//! `trace.jsonl` line, the event's seq and type, and the payload file. The
//! rendered text is `<place>: <upstream chain>`, optionally followed by a
//! hint in parentheses, so the text upstream prints for the same bundle is
//! always a contiguous part of ours.

use std::fmt;

/// Where in a bundle something happened. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// File relative to the bundle folder (`trace.jsonl`, `manifest.json`).
    pub file: Option<String>,
    /// 1-based physical line of `trace.jsonl`.
    pub line: Option<u64>,
    pub seq: Option<u64>,
    /// The event's `type` spelling, e.g. `tool_call_ended`.
    pub event_type: Option<String>,
    /// The payload file involved, as the reference names it.
    pub payload_path: Option<String>,
}

impl Place {
    /// The place of one event line.
    pub fn event(line: u64, seq: Option<u64>, event_type: Option<&str>) -> Place {
        Place {
            file: Some(crate::raw::TRACE_FILE_NAME.to_string()),
            line: Some(line),
            seq,
            event_type: event_type.map(str::to_string),
            payload_path: None,
        }
    }

    /// A whole file of the bundle.
    pub fn file(name: &str) -> Place {
        Place {
            file: Some(name.to_string()),
            ..Place::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Place::default()
    }

    /// Fills the parts `self` does not know from `outer`.
    fn fill_from(&mut self, outer: &Place) {
        if self.file.is_none() {
            self.file.clone_from(&outer.file);
        }
        if self.line.is_none() {
            self.line = outer.line;
        }
        if self.seq.is_none() {
            self.seq = outer.seq;
        }
        if self.event_type.is_none() {
            self.event_type.clone_from(&outer.event_type);
        }
        if self.payload_path.is_none() {
            self.payload_path.clone_from(&outer.payload_path);
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote_file = false;
        if let Some(file) = &self.file {
            f.write_str(file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            wrote_file = true;
        }
        let mut details = Vec::new();
        if let Some(seq) = self.seq {
            details.push(format!("seq {seq}"));
        }
        if let Some(event_type) = &self.event_type {
            details.push(event_type.clone());
        }
        if let Some(path) = &self.payload_path {
            // An empty path is shown as one, not as nothing.
            details.push(match path.as_str() {
                "" => "payload \"\"".to_string(),
                path => format!("payload {path}"),
            });
        }
        if !details.is_empty() {
            if wrote_file {
                f.write_str(" ")?;
            }
            write!(f, "({})", details.join(", "))?;
        }
        Ok(())
    }
}

/// Why a bundle was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReduceError {
    /// Boxed: errors travel through every `Result` of the reducer, so the
    /// `Err` side stays one pointer wide.
    inner: Box<ErrorInner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorInner {
    place: Place,
    /// Upstream's message chain: the top-level message, then its causes.
    chain: Vec<String>,
    /// What the user can do about it, printed after the chain.
    hint: Option<String>,
}

impl ReduceError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ReduceError {
            inner: Box::new(ErrorInner {
                place: Place::default(),
                chain: vec![message.into()],
                hint: None,
            }),
        }
    }

    /// An error whose text is `message: cause`.
    pub(crate) fn caused(message: impl Into<String>, cause: impl fmt::Display) -> Self {
        let mut error = ReduceError::new(message);
        error.inner.chain.push(cause.to_string());
        error
    }

    /// Wraps the error in an outer message, as upstream's `with_context` does.
    pub(crate) fn context(mut self, message: impl Into<String>) -> Self {
        self.inner.chain.insert(0, message.into());
        self
    }

    /// Adds the parts of `place` this error does not know yet.
    pub(crate) fn at(mut self, place: &Place) -> Self {
        self.inner.place.fill_from(place);
        self
    }

    pub(crate) fn at_payload(mut self, path: &str) -> Self {
        if self.inner.place.payload_path.is_none() {
            self.inner.place.payload_path = Some(path.to_string());
        }
        self
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.inner.hint = Some(hint.into());
        self
    }

    /// Where the error happened.
    pub fn place(&self) -> &Place {
        &self.inner.place
    }

    /// The top-level message and its causes, outermost first.
    pub fn chain(&self) -> &[String] {
        &self.inner.chain
    }

    /// The text upstream's reducer prints for the same bundle: the chain joined by `": "`.
    pub fn upstream_text(&self) -> String {
        self.inner.chain.join(": ")
    }
}

impl fmt::Display for ReduceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.inner.place.is_empty() {
            write!(f, "{}: ", self.inner.place)?;
        }
        f.write_str(&self.upstream_text())?;
        if let Some(hint) = &self.inner.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ReduceError {}

/// Returns early with a `ReduceError` built from a format string.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::ReduceError::new(format!($($arg)*)))
    };
}
pub(crate) use bail;

/// Something the reducer noticed about an accepted bundle but that does not
/// change `state.json`: data upstream drops silently, events skipped by
/// `--partial`, members it ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub place: Place,
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(place: Place, message: impl Into<String>) -> Self {
        Diagnostic {
            place,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.place, self.message)
        }
    }
}
