//! The search state: the smallest interesting bundle so far, and judging a
//! list of candidates against it, in parallel, with the result a sequential
//! search would give.
//!
//! Invariants:
//! - [`Search::first`] accepts the interesting candidate of lowest index in
//!   its list. Workers take indices in order and stop past an index already
//!   found interesting, so every lower index is judged: the outcome does not
//!   depend on `jobs` or on timing (only the time limit cuts a list short).
//! - Every candidate is rendered in the search's numbering before it is
//!   judged, and the accepted rendering becomes the current bundle, so the
//!   current bundle is always well-formed and interesting.
//! - A candidate whose bytes were judged not interesting before, or that is
//!   the current bundle, is not judged again. Only not-interesting verdicts
//!   are remembered (a fact about the bytes), so skipping changes nothing.
//! - Nothing here prints: progress goes to the caller's callback.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use super::bundle::Bundle;
use super::bundle::Rendered;
use super::bundle::Size;
use super::numbering::Numbering;
use super::predicate::Judge;

/// Where a minimization stands, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub original: Size,
    pub current: Size,
    /// Candidates judged so far (each one reduction or command run).
    pub tried: u64,
    /// Candidates accepted: each made the bundle smaller.
    pub kept: u64,
    pub elapsed: Duration,
}

/// A candidate of a list: built from the current bundle and its index, or
/// `None` when that index has nothing to try.
pub(super) type Build<'a> = dyn Fn(&Bundle, usize) -> Option<Bundle> + Sync + 'a;

pub(super) struct Search<'a> {
    current: Bundle,
    size: Size,
    original: Size,
    numbering: Numbering,
    judge: &'a Judge,
    jobs: usize,
    started: Instant,
    deadline: Option<Instant>,
    /// Fingerprints of renderings judged not interesting, and of the
    /// current bundle.
    seen: Mutex<HashSet<u128>>,
    tried: AtomicU64,
    kept: u64,
    stopped: AtomicBool,
    progress: &'a (dyn Fn(&Status) + Sync),
}

impl<'a> Search<'a> {
    /// A search from `start`, an interesting rendering in `numbering`.
    pub(super) fn new(
        start: &Rendered,
        original: Size,
        numbering: Numbering,
        judge: &'a Judge,
        jobs: usize,
        deadline: Option<Instant>,
        progress: &'a (dyn Fn(&Status) + Sync),
    ) -> Search<'a> {
        Search {
            current: Bundle::from_rendered(start),
            size: start.size(),
            original,
            numbering,
            judge,
            jobs: jobs.max(1),
            started: Instant::now(),
            deadline,
            seen: Mutex::new(HashSet::from([start.fingerprint()])),
            tried: AtomicU64::new(0),
            kept: 0,
            stopped: AtomicBool::new(false),
            progress,
        }
    }

    pub(super) fn current(&self) -> &Bundle {
        &self.current
    }

    /// Whether the time limit has cut the search short.
    pub(super) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub(super) fn status(&self) -> Status {
        Status {
            original: self.original,
            current: self.size,
            tried: self.tried.load(Ordering::Relaxed),
            kept: self.kept,
            elapsed: self.started.elapsed(),
        }
    }

    /// The current bundle, rendered.
    pub(super) fn rendered(&self) -> Rendered {
        self.current.render(self.numbering)
    }

    /// Judges the candidates `build` makes for indices `0..count` and makes
    /// the first interesting one current; returns its index.
    pub(super) fn first(&mut self, count: usize, build: &Build<'_>) -> Option<usize> {
        if count == 0 || self.stopped() {
            return None;
        }
        let next = AtomicUsize::new(0);
        let found: Mutex<Option<(usize, Rendered)>> = Mutex::new(None);
        let this = &*self;
        let work = |slot: usize| {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let beaten = lock(&found).as_ref().is_some_and(|(best, _)| *best < index);
                if index >= count || beaten {
                    break;
                }
                if this
                    .deadline
                    .is_some_and(|deadline| Instant::now() >= deadline)
                {
                    this.stopped.store(true, Ordering::Relaxed);
                    break;
                }
                let Some(candidate) = build(&this.current, index) else {
                    continue;
                };
                let rendered = candidate.render(this.numbering);
                let print = rendered.fingerprint();
                if lock(&this.seen).contains(&print) {
                    continue;
                }
                this.tried.fetch_add(1, Ordering::Relaxed);
                if this.judge.verdict(&rendered, slot).interesting() {
                    let mut found = lock(&found);
                    if found.as_ref().is_none_or(|(best, _)| index < *best) {
                        *found = Some((index, rendered));
                    }
                } else {
                    lock(&this.seen).insert(print);
                }
                (this.progress)(&this.status());
            }
        };
        if self.jobs == 1 {
            work(0);
        } else {
            std::thread::scope(|scope| {
                for slot in 0..self.jobs {
                    let work = &work;
                    scope.spawn(move || work(slot));
                }
            });
        }
        let (index, rendered) = found.into_inner().ok().flatten()?;
        lock(&self.seen).insert(rendered.fingerprint());
        self.current = Bundle::from_rendered(&rendered);
        self.size = rendered.size();
        self.kept += 1;
        (self.progress)(&self.status());
        Some(index)
    }
}

/// Locks a mutex; a worker that panicked while holding it left consistent
/// data (sets and slots are updated in one step), so its poison is ignored.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
