//! The corpus tests: one libtest-mimic trial per case of `corpus/`, named by
//! its path relative to the corpus (`ok/0018_name`), plus `corpus_integrity`.
//!
//! `cargo test -p harness --test corpus -- ok/0018` filters, `--exact NAME`
//! runs one case, `--list` lists them. Under `--exact NAME` (what nextest
//! runs, one process per test) the case folder is found from its name
//! directly: the corpus is not scanned and no other case is reduced.
//! Trials never print; their whole failure text is the `Failed` message.

use std::cell::RefCell;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use harness::Corpus;
use harness::case::INTEGRITY_TRIAL;
use libtest_mimic::Arguments;
use libtest_mimic::Failed;
use libtest_mimic::Trial;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let corpus = match Corpus::of_workspace() {
        Ok(corpus) => corpus,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let trials = match exact_name(&args) {
        Some(name) => {
            let trials = exact_trials(&corpus, name);
            if trials.is_empty() && std::env::var_os("NEXTEST").is_some() {
                eprintln!(
                    "error: no corpus case is called {name:?} (no folder {})",
                    corpus.root().join(name).display()
                );
                return ExitCode::FAILURE;
            }
            trials
        }
        None => match corpus.discover() {
            Ok(cases) if cases.is_empty() => {
                eprintln!(
                    "error: no corpus case found under {} (expected folders corpus/ok/<case>/ and corpus/err/<case>/)",
                    corpus.root().display()
                );
                return ExitCode::FAILURE;
            }
            Ok(cases) => {
                let mut trials = vec![integrity_trial(&corpus)];
                trials.extend(cases.into_iter().map(|case| case_trial(&corpus, case)));
                trials
            }
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", corpus.root().display());
                return ExitCode::FAILURE;
            }
        },
    };
    quiet_panics();
    libtest_mimic::run(&args, trials).exit_code()
}

/// The one test name of an `--exact` run without `--skip`, if this is one.
fn exact_name(args: &Arguments) -> Option<&str> {
    if args.exact && args.skip.is_empty() {
        args.filter.as_deref()
    } else {
        None
    }
}

fn exact_trials(corpus: &Corpus, name: &str) -> Vec<Trial> {
    if name == INTEGRITY_TRIAL {
        return vec![integrity_trial(corpus)];
    }
    corpus
        .case_by_name(name)
        .map(|case| case_trial(corpus, case))
        .into_iter()
        .collect()
}

fn integrity_trial(corpus: &Corpus) -> Trial {
    let corpus = corpus.clone();
    Trial::test(INTEGRITY_TRIAL, move || {
        guarded(INTEGRITY_TRIAL, || harness::trial::test_integrity(&corpus))
    })
}

fn case_trial(corpus: &Corpus, case: harness::Case) -> Trial {
    let corpus = corpus.clone();
    let name = case.name.clone();
    Trial::test(name.clone(), move || {
        let color = harness::render::use_color();
        guarded(&name, || {
            harness::trial::test_case(&corpus, &case, Some(&target_dir()), color)
        })
    })
}

/// The target folder (`target/` or `CARGO_TARGET_DIR`), from the folder
/// cargo gives integration tests for scratch files.
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

thread_local! {
    /// The message and place of the last panic on this thread.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default panic hook, which prints, with one that keeps the
/// message for the failure text.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|text| (*text).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let place = info
            .location()
            .map(|location| format!(" at {}:{}", location.file(), location.line()))
            .unwrap_or_default();
        PANIC.with(|panic| *panic.borrow_mut() = Some(format!("{message}{place}")));
    }));
}

/// Runs a trial body, turning a panic (of the reducer or the harness) into
/// a failure message.
fn guarded(name: &str, body: impl FnOnce() -> Result<(), String>) -> Result<(), Failed> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(message.into()),
        Err(_) => {
            let panic = PANIC
                .with(|panic| panic.borrow_mut().take())
                .unwrap_or_else(|| "(no message)".to_string());
            Err(format!(
                "panicked: {panic}\nrerun: {}",
                harness::render::rerun_command(name)
            )
            .into())
        }
    }
}
