//! `cargo xtask new-case`: turn a real trace bundle into a corpus case.
//!
//! Copying, redaction, the shape check and the expectation live in
//! `harness::new_case` (tested there); this file is the command line:
//! arguments, printing (warnings on standard error, the report on standard
//! output) and the exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use harness::CaseKind;
use harness::Corpus;
use harness::new_case::Request;
use harness::redact::Redactor;

/// Copy a trace bundle into the corpus as a new case and write its expectation.
///
/// The case becomes corpus/ok/NNNN_NAME (corpus/err/ with --err), NNNN one
/// more than the highest number there. Only the payload files trace.jsonl
/// references are copied. The case passes `cargo test` right away; describe
/// what it pins in its README.md.
#[derive(Args)]
pub struct NewCaseArgs {
    /// The case name, lowercase snake_case (e.g. `resumed_child_thread`).
    name: String,
    /// The bundle: its folder, or its trace.jsonl.
    #[arg(long, value_name = "BUNDLE")]
    from: PathBuf,
    /// Make a must-fail case (corpus/err/): the bundle must be rejected.
    #[arg(long)]
    err: bool,
    /// Replace the free text of events and payloads (messages, reasoning,
    /// tool arguments and output, code) by placeholders of the same length
    /// and character classes, keeping ids, names, numbers and structure;
    /// refused if the redacted bundle reduces to another shape.
    #[arg(long)]
    redact: bool,
}

pub fn run(args: &NewCaseArgs) -> anyhow::Result<ExitCode> {
    let corpus = Corpus::of_workspace().map_err(anyhow::Error::msg)?;
    let request = Request {
        name: &args.name,
        from: &args.from,
        kind: if args.err {
            CaseKind::Err
        } else {
            CaseKind::Ok
        },
        redactor: args.redact.then(Redactor::new),
    };
    let created = match harness::new_case::create(&corpus, &request) {
        Ok(created) => created,
        Err(message) => bail!(message),
    };
    for warning in &created.warnings {
        eprintln!("warning: {warning}");
    }
    print!("{}", harness::new_case::summary(&corpus, &created));
    Ok(ExitCode::SUCCESS)
}
