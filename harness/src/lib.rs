//! Corpus harness (placeholder).
