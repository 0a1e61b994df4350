//! Shrinking a bundle to the smallest one that is still interesting
//! (`cargo xtask minimize`), in the spirit of C-Reduce and Hypothesis: a
//! predicate says what is interesting, and passes that understand bundles
//! remove everything it does not need.
//!
//! The passes, repeated in this order until a whole round changes nothing
//! (a fixpoint) or the time limit passes:
//! 1. remove groups of events (a turn, a tool call, an event type);
//! 2. remove runs of lines, halving down to single lines;
//! 3. shrink payload files (items, members, strings, numbers);
//! 4. shrink event lines (optional members, strings, numbers);
//! 5. shorten strings that repeat (ids), every occurrence at once;
//! 6. shrink the manifest.
//!
//! Invariants:
//! - Only interesting bundles are ever kept, and the original must be one:
//!   otherwise nothing is searched and the refusal says why.
//! - Every candidate is well-formed: `seq` renumbered in order, payload
//!   files renamed `payloads/<n>.json` in first-use order with their
//!   references rewritten, unreferenced payloads dropped ([`Numbering`]).
//!   Where renumbering the original already loses what is interesting (a
//!   predicate that names `raw_payload:7`, a seq gap), that part of the
//!   original numbering is kept for the whole search (`choose_numbering`).
//! - Deterministic: the same bundle and predicate give the same result
//!   whatever `jobs` is, unless the time limit cuts the search short (and
//!   provided the predicate itself is deterministic).
//! - The result is written once, at the end, into a new folder built aside
//!   and renamed into place, then judged again where it lies.

mod bundle;
mod command;
mod events;
mod json;
mod numbering;
mod predicate;
mod search;
mod strings;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use rollout_trace::ReduceOptions;

pub use bundle::Size;
pub use numbering::Numbering;
pub use predicate::Predicate;
pub use search::Status;

use crate::CaseKind;
use crate::Corpus;
use bundle::Bundle;
use bundle::Rendered;
use predicate::Judge;
use predicate::Verdict;
use search::Search;

/// What to minimize, and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The bundle folder, or its event log.
    pub bundle: &'a Path,
    /// The folder to create for the result; it must not exist.
    pub out: &'a Path,
    pub predicate: Predicate,
    /// Stop with the best bundle so far after this long.
    pub time_limit: Option<Duration>,
    /// Candidates judged at once.
    pub jobs: usize,
    /// Limit of one command run; by default ten times the original's run,
    /// and at least 10 s.
    pub command_timeout: Option<Duration>,
    /// How our reducer reduces (`--partial`, limits); read-ahead is chosen
    /// here, by `jobs`.
    pub reduce: ReduceOptions,
}

/// What a minimization did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub out: PathBuf,
    pub predicate: Predicate,
    pub original: Size,
    pub result: Size,
    /// Candidates judged, and kept.
    pub tried: u64,
    pub kept: u64,
    pub elapsed: Duration,
    /// No single removal or simplification keeps the result interesting
    /// (false: the time limit stopped the search).
    pub fixpoint: bool,
    pub numbering: Numbering,
    /// Whether built-in predicates had to reduce from folders.
    pub on_disk: bool,
    /// Whether our reducer accepts the result (it is then an ok case).
    pub reduces: bool,
}

/// Minimizes `request.bundle` into `request.out`; `progress` hears after
/// every candidate. The error says why nothing was written.
pub fn minimize(
    request: &Request<'_>,
    progress: &(dyn Fn(&Status) + Sync),
) -> Result<Outcome, String> {
    let started = Instant::now();
    if request.out.exists() {
        return Err(format!(
            "{} exists already: name a folder to create",
            request.out.display()
        ));
    }
    let original_bundle = Bundle::load(request.bundle)?;
    let original = original_bundle.render(Numbering::KEEP);
    let options = ReduceOptions {
        // With several workers the cores are busy already.
        read_ahead: request.jobs <= 1,
        ..request.reduce
    };
    let mut judge = Judge::new(request.predicate.clone(), options)?;
    if let Some(timeout) = request.command_timeout {
        judge.timeout = timeout;
    }
    let first_run = Instant::now();
    let verdict = judge.verdict(&original, 0);
    let took = first_run.elapsed();
    match verdict {
        Verdict::Interesting => {}
        Verdict::Unrunnable(why) => {
            return Err(format!(
                "the command cannot be run, so nothing was minimized: {why}"
            ));
        }
        Verdict::Boring(why) => {
            judge.on_disk = !request.predicate.runs_commands();
            if !judge.on_disk || !judge.verdict(&original, 0).interesting() {
                // Built-in predicates only read: judging the bundle where it
                // lies tells whether copying it lost what is interesting.
                let in_place = judge.on_disk && judge.verdict_at(request.bundle).interesting();
                return Err(refusal(request, &why, in_place));
            }
        }
    }
    if request.command_timeout.is_none() {
        judge.timeout = (took * 10).max(Duration::from_secs(10));
    }

    let numbering = choose_numbering(&original_bundle, &judge);
    let deadline = request.time_limit.map(|limit| started + limit);
    let start = original_bundle.render(numbering);
    let mut search = Search::new(
        &start,
        original.size(),
        numbering,
        &judge,
        request.jobs,
        deadline,
        progress,
    );
    loop {
        let mut changed = events::remove_groups(&mut search);
        changed |= events::remove_runs(&mut search);
        changed |= json::shrink_payloads(&mut search);
        changed |= json::shrink_lines(&mut search);
        changed |= strings::shorten_repeated(&mut search);
        changed |= json::shrink_manifest(&mut search);
        if !changed || search.stopped() {
            break;
        }
    }
    let result = search.rendered();
    let status = search.status();
    let fixpoint = !search.stopped();
    drop(search);

    write_new_folder(&result, request.out)?;
    if let Verdict::Boring(why) | Verdict::Unrunnable(why) = judge.verdict_at(request.out) {
        return Err(format!(
            "the result was written to {} but is not interesting there (is the predicate deterministic?): {why}",
            request.out.display()
        ));
    }
    let reduces = rollout_trace::reduce_bundle_with(request.out, &options).is_ok();
    Ok(Outcome {
        out: request.out.to_path_buf(),
        predicate: request.predicate.clone(),
        original: original.size(),
        result: result.size(),
        tried: status.tried,
        kept: status.kept,
        elapsed: started.elapsed(),
        fixpoint,
        numbering,
        on_disk: judge.on_disk,
        reduces,
    })
}

/// The numbering of the search: the writer's when the original, so
/// renumbered, is still interesting; otherwise as much of it as keeps it so.
fn choose_numbering(original: &Bundle, judge: &Judge) -> Numbering {
    let first_seq = original
        .lines()
        .iter()
        .find_map(|line| line.value()?.get("seq")?.as_u64());
    let own_start = first_seq.filter(|seq| *seq != 1);
    let mut choices = vec![Numbering::WRITER];
    if let Some(start) = own_start {
        choices.push(Numbering {
            seq_from: Some(start),
            payloads: true,
        });
    }
    choices.extend([
        Numbering {
            seq_from: Some(1),
            payloads: false,
        },
        Numbering {
            seq_from: None,
            payloads: true,
        },
    ]);
    choices
        .into_iter()
        .find(|numbering| judge.verdict(&original.render(*numbering), 0).interesting())
        .unwrap_or(Numbering::KEEP)
}

/// Why the original cannot be minimized, with what to try instead;
/// `in_place`: it is interesting where it lies, not as the minimizer copies it.
fn refusal(request: &Request<'_>, why: &str, in_place: bool) -> String {
    let mut text = match in_place {
        true => format!(
            "the bundle is interesting where it lies but not as the minimizer copies it \
             (manifest.json, trace.jsonl and the payload files its events reference inside the folder, \
             as regular files), so nothing was minimized: {} does not hold for the copy: {why}",
            request.predicate.describe()
        ),
        false => format!(
            "the original bundle is not interesting, so nothing was minimized: {} does not hold: {why}",
            request.predicate.describe()
        ),
    };
    if let Some(warning) = request.predicate.warning() {
        let _ = write!(text, "\n  note: {warning}");
    }
    text
}

/// Writes `bundle` into the new folder `out`: built beside it, then
/// renamed, so `out` never holds half a bundle.
fn write_new_folder(bundle: &Rendered, out: &Path) -> Result<(), String> {
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|error| format!("create {}: {error}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".minimize-")
        .tempdir_in(&parent)
        .map_err(|error| format!("create a folder in {}: {error}", parent.display()))?;
    bundle.write_to(staging.path())?;
    if out.exists() {
        return Err(format!(
            "{} appeared while minimizing; the result was not written",
            out.display()
        ));
    }
    fs::rename(staging.path(), out)
        .map_err(|error| format!("move the result to {}: {error}", out.display()))?;
    let _ = staging.keep();
    Ok(())
}

/// Makes the minimized bundle in `out` a corpus case named `name`: an ok
/// case when our reducer accepts it, else an err case.
pub fn new_case(
    corpus: &Corpus,
    name: &str,
    out: &Path,
    redact: bool,
) -> Result<crate::new_case::Created, String> {
    let kind = match rollout_trace::reduce_bundle(out) {
        Ok(_) => CaseKind::Ok,
        Err(_) => CaseKind::Err,
    };
    crate::new_case::create(
        corpus,
        &crate::new_case::Request {
            name,
            from: out,
            kind,
            redactor: redact.then(crate::redact::Redactor::new),
        },
    )
}

/// The report of a minimization: what it started from and ended with.
pub fn summary(source: &Path, outcome: &Outcome) -> String {
    let mut text = String::new();
    let (from, to) = (outcome.original, outcome.result);
    let _ = writeln!(
        text,
        "minimized {} into {}",
        source.display(),
        outcome.out.display()
    );
    let _ = writeln!(
        text,
        "  from: {} events, {}, {} payload files",
        from.events,
        bytes(from.bytes),
        from.payload_files
    );
    let _ = writeln!(
        text,
        "  to:   {} events, {}, {} payload files",
        to.events,
        bytes(to.bytes),
        to.payload_files
    );
    let _ = writeln!(text, "  interesting: {}", outcome.predicate.describe());
    let end = match outcome.fixpoint {
        true => "a fixpoint: no single removal or simplification keeps it interesting",
        false => "stopped by the time limit: the smallest bundle so far, not a fixpoint",
    };
    let _ = writeln!(
        text,
        "  search: {} candidates tried, {} kept, {:.1} s; {end}",
        outcome.tried,
        outcome.kept,
        outcome.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        text,
        "  numbering: {}",
        describe_numbering(outcome.numbering)
    );
    if outcome.on_disk {
        let _ = writeln!(
            text,
            "  note: candidates were reduced from a scratch folder (the bundle is interesting on disk only)"
        );
    }
    text
}

/// The command that makes the result a corpus case.
pub fn next_step(outcome: &Outcome) -> String {
    format!(
        "next: cargo xtask new-case NAME --from {}{} [--redact]\n",
        outcome.out.display(),
        if outcome.reduces { "" } else { " --err" }
    )
}

fn describe_numbering(numbering: Numbering) -> String {
    let seq = match numbering.seq_from {
        Some(1) => "seq from 1".to_string(),
        Some(start) => format!("seq from {start}, as in the original"),
        None => "seq values kept (renumbering lost what is interesting)".to_string(),
    };
    let payloads = match numbering.payloads {
        true => "payload files renumbered in first-use order",
        false => "payload names kept (renumbering lost what is interesting)",
    };
    format!("{seq}; {payloads}")
}

/// A byte count for people: `812 B`, `7.9 KiB`, `10.6 MiB`.
pub fn bytes(count: u64) -> String {
    const KIB: f64 = 1024.0;
    let count_f = count as f64;
    if count < 1024 {
        format!("{count} B")
    } else if count_f < KIB * KIB {
        format!("{:.1} KiB", count_f / KIB)
    } else if count_f < KIB * KIB * KIB {
        format!("{:.1} MiB", count_f / KIB / KIB)
    } else {
        format!("{:.1} GiB", count_f / KIB / KIB / KIB)
    }
}
