//! The corpus harness: everything `cargo test` (the `corpus` test target) and
//! `cargo xtask bless` share, so a case passes exactly when bless would leave
//! it unchanged.
//!
//! A case is a bundle folder `corpus/ok/NNNN_name/` (must reduce) or
//! `corpus/err/NNNN_name/` (must be rejected) with a `README.md` and the
//! expectation files bless writes (`expected.json` or `expected.err`, and
//! `diagnostics.txt` when the reduction has diagnostics).
//!
//! It also writes the fuzz target's seed corpus ([`fuzz_seeds`]) and shrinks
//! failing bundles to small ones ([`minimize`]).
//!
//! Invariants: nothing here writes inside `corpus/` except [`bless::apply`]
//! (expectation files) and [`new_case::create`] (a whole new case folder, for
//! `cargo xtask new-case`); nothing here prints (the callers decide where
//! text goes); every text a user sees is built by a function of [`render`],
//! [`integrity`], [`bless`] or [`new_case`] and is free of colour unless the
//! caller asks for it.

#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

pub mod actual;
pub mod bless;
pub mod case;
pub mod config;
pub mod fuzz_seeds;
pub mod integrity;
pub mod minimize;
pub mod new_case;
pub mod redact;
pub mod render;
pub mod run;
pub mod shape;
pub mod shortcuts;
pub mod trial;
pub mod verdict;
pub mod workspace;

#[doc(hidden)]
pub mod testing;

use std::path::PathBuf;

pub use case::Case;
pub use case::CaseKind;
pub use case::Corpus;

/// The workspace root of the checkout this process runs in, found at run
/// time ([`workspace::root`]).
pub fn workspace_root() -> Result<PathBuf, String> {
    workspace::root()
}

/// The corpus folder of the checkout this process runs in. Both the test
/// target and xtask pass case folders to the reducer below this path, so the
/// `$BUNDLE` text of an expectation does not depend on who produced it.
pub fn corpus_root() -> Result<PathBuf, String> {
    Ok(workspace_root()?.join("corpus"))
}
