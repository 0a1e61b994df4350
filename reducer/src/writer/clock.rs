//! Wall time for the writer: the system clock by default, or one the caller injects.
//!
//! Every timestamp in a bundle (the manifest's `started_at_unix_ms` and each
//! event's `wall_time_unix_ms`) comes from one `Clock`, so a generator that
//! injects a deterministic clock gets byte-identical bundles run after run.

use std::fmt;
use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

/// A source of wall time in milliseconds since the Unix epoch.
///
/// The writer asks for the time while it holds its event lock, so for any
/// clock the event timestamps are taken in `seq` order. Any
/// `Fn() -> i64 + Send + Sync` closure is a clock.
pub trait Clock: Send + Sync {
    fn now_unix_ms(&self) -> i64;
}

impl<F> Clock for F
where
    F: Fn() -> i64 + Send + Sync,
{
    fn now_unix_ms(&self) -> i64 {
        self()
    }
}

/// The operating system's wall clock, as the reference writer reads it:
/// a time before the epoch gives 0 and one past `i64::MAX` ms saturates.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            })
    }
}

/// A deterministic clock: the first reading is `start`, each later one is
/// `step` more. With `SteppingClock::new(1000, 1)` a fresh bundle gets
/// `started_at_unix_ms` 1000 and event `#n` the wall time `1000 + n`, the
/// convention of the project's corpus.
pub struct SteppingClock {
    next: AtomicI64,
    step: i64,
}

impl SteppingClock {
    pub fn new(start: i64, step: i64) -> Self {
        SteppingClock {
            next: AtomicI64::new(start),
            step,
        }
    }
}

impl Clock for SteppingClock {
    fn now_unix_ms(&self) -> i64 {
        // `fetch_update` cannot fail with a closure that always returns `Some`.
        let previous = self
            .next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(self.step))
            });
        previous.unwrap_or_else(|now| now)
    }
}

impl fmt::Debug for SteppingClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SteppingClock")
            .field("next", &self.next.load(Ordering::SeqCst))
            .field("step", &self.step)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_clock_counts_from_its_start() {
        let clock = SteppingClock::new(1000, 1);
        let readings: Vec<i64> = (0..3).map(|_| clock.now_unix_ms()).collect();
        assert_eq!(readings, vec![1000, 1001, 1002]);
    }

    #[test]
    fn closures_are_clocks() {
        let clock = || 42;
        assert_eq!(Clock::now_unix_ms(&clock), 42);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_unix_ms() > 1_577_836_800_000);
    }
}
