//! The input side: manifest, event envelope and payload variants of a trace bundle.
//!
//! Everything here is plain data with the exact JSON spelling of
//! `trace-format.md`; nothing here reads files or applies rules.

mod event;
mod manifest;

pub use event::RAW_EVENT_SCHEMA_VERSION;
pub use event::RawToolCallRequester;
pub use event::RawTraceEvent;
pub use event::RawTraceEventPayload;
pub use manifest::MANIFEST_FILE_NAME;
pub use manifest::PAYLOADS_DIR_NAME;
pub use manifest::TRACE_FILE_NAME;
pub use manifest::TraceBundleManifest;
