//! The library's integration tests, in one test binary (one link instead of
//! one per file): writer, views (the HTML page in a real browser too), and
//! files that cannot be corpus cases.

mod amplification;
#[cfg(feature = "cli")]
mod cli_follow;
#[cfg(feature = "cli")]
mod cli_output;
mod follow;
mod html;
mod html_browser;
mod sources;
mod state_json;
mod support;
mod unreadable_files;
mod views;
mod writer_bundle;
mod writer_handles;
mod writer_properties;
