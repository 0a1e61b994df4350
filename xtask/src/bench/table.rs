//! The result tables of `cargo xtask bench`, in Markdown so that they can be
//! pasted into the README as they are, and the targets each row is held to.

use super::measurement::Measurement;

/// Reduce (default options) may take at most this many times the floor.
pub const MAX_RATIO: f64 = 1.5;

/// A shape's ratio at its largest size may exceed its ratio at its smallest
/// by at most this much.
pub const MAX_RATIO_GROWTH: f64 = 0.1;

/// Following may cost at most this many times per event in the last tenth
/// of a session as in the first.
pub const MAX_FOLLOW_GROWTH: f64 = 1.5;

/// One benchmarked bundle.
pub struct Row {
    pub shape: &'static str,
    pub turns: u64,
    pub events: u64,
    pub bundle_bytes: u64,
    pub floor: Measurement,
    pub one_thread: Measurement,
    /// Default options (read-ahead on): the figure the targets apply to.
    pub two_threads: Measurement,
    pub upstream: Option<Measurement>,
    /// The read-ahead state.json equals the one-thread one.
    pub same_as_one_thread: bool,
    /// Ours equals upstream's, when upstream was measured.
    pub same_as_upstream: Option<bool>,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.two_threads.seconds / self.floor.seconds
    }

    fn state_bytes(&self) -> u64 {
        self.two_threads.state_bytes
    }
}

const MIB: f64 = (1u64 << 20) as f64;

pub fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / MIB)
}

/// MiB below 1 GiB, GiB above.
pub fn size(bytes: u64) -> String {
    if (bytes as f64) < MIB * 1024.0 {
        return mib(bytes);
    }
    format!("{:.2} GiB", bytes as f64 / (MIB * 1024.0))
}

/// The memory target of a state: 2 × state.json + 16 MiB.
pub fn rss_target(state_bytes: u64) -> u64 {
    2 * state_bytes + (16 << 20)
}

pub fn render(rows: &[Row], runs: u32) -> String {
    let mut text = format!(
        "Best of {runs} runs, each in its own process. floor = read every file once and parse every \
         JSON document (one thread); reduce = `reduce_bundle_with` with default options (read-ahead \
         on) + writing state.json, streamed; 1 thread = read-ahead off; ratio = reduce / floor \
         (target ≤ {MAX_RATIO}); cpu = user + system seconds of reduce; MiB/s = bundle / reduce; \
         peak RSS of reduce (target ≤ 2 × state.json + 16 MiB); ✓ = every target met, and the \
         state.json of both thread counts identical.\n\n"
    );
    let mut header = vec![
        "shape",
        "turns",
        "events",
        "bundle",
        "state.json",
        "floor s",
        "reduce s",
        "ratio",
        "1 thread s",
        "cpu s",
        "MiB/s",
        "peak RSS",
        "RSS target",
    ];
    let with_upstream = rows.iter().any(|row| row.upstream.is_some());
    if with_upstream {
        header.extend(["upstream s", "upstream RSS"]);
    }
    header.push("met");
    text.push_str(&format!("| {} |\n", header.join(" | ")));
    text.push_str(&format!("|{}\n", " ---: |".repeat(header.len())));
    for row in rows {
        let mut cells = vec![
            row.shape.to_string(),
            row.turns.to_string(),
            row.events.to_string(),
            size(row.bundle_bytes),
            mib(row.state_bytes()),
            format!("{:.2}", row.floor.seconds),
            format!("{:.2}", row.two_threads.seconds),
            format!("{:.2}", row.ratio()),
            format!("{:.2}", row.one_thread.seconds),
            format!("{:.2}", row.two_threads.cpu_seconds),
            format!(
                "{:.0}",
                row.bundle_bytes as f64 / MIB / row.two_threads.seconds
            ),
            mib(row.two_threads.peak_rss_bytes),
            mib(rss_target(row.state_bytes())),
        ];
        if with_upstream {
            match &row.upstream {
                Some(upstream) => cells.extend([
                    format!("{:.2}", upstream.seconds),
                    format!("~{}", mib(upstream.peak_rss_bytes)),
                ]),
                None => cells.extend(["".to_string(), "".to_string()]),
            }
        }
        let met = row_misses(row, rows).is_empty();
        cells.push(if met { "✓" } else { "✗" }.to_string());
        text.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    text
}

/// Every target a row misses, in words.
pub fn misses(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .flat_map(|row| {
            row_misses(row, rows)
                .into_iter()
                .map(move |miss| format!("{} {} turns: {miss}", row.shape, row.turns))
        })
        .collect()
}

fn row_misses(row: &Row, rows: &[Row]) -> Vec<String> {
    let mut misses = Vec::new();
    if row.ratio() > MAX_RATIO {
        misses.push(format!(
            "reduce takes {:.2}x the floor (target {MAX_RATIO}x)",
            row.ratio()
        ));
    }
    let target = rss_target(row.state_bytes());
    for (threads, measured) in [("", &row.two_threads), (" on one thread", &row.one_thread)] {
        if measured.peak_rss_bytes > target {
            misses.push(format!(
                "peak RSS{threads} {} over the target {}",
                mib(measured.peak_rss_bytes),
                mib(target)
            ));
        }
    }
    if let Some(upstream) = &row.upstream
        && row.two_threads.peak_rss_bytes >= upstream.peak_rss_bytes
    {
        misses.push(format!(
            "peak RSS {} not below upstream's ~{}",
            mib(row.two_threads.peak_rss_bytes),
            mib(upstream.peak_rss_bytes)
        ));
    }
    if !row.same_as_one_thread {
        misses.push("state.json differs between read-ahead on and off".to_string());
    }
    if row.same_as_upstream == Some(false) {
        misses.push("state.json differs from upstream's".to_string());
    }
    // Flatness: the largest size of a shape against its smallest.
    let sizes: Vec<&Row> = rows
        .iter()
        .filter(|other| other.shape == row.shape)
        .collect();
    let smallest = sizes.iter().min_by_key(|other| other.turns);
    let largest = sizes.iter().max_by_key(|other| other.turns);
    if let (Some(smallest), Some(largest)) = (smallest, largest)
        && largest.turns == row.turns
        && smallest.turns < row.turns
        && row.ratio() > smallest.ratio() + MAX_RATIO_GROWTH
    {
        misses.push(format!(
            "ratio grows from {:.2} at {} turns to {:.2} (target: at most +{MAX_RATIO_GROWTH})",
            smallest.ratio(),
            smallest.turns,
            row.ratio()
        ));
    }
    misses
}

/// Whether following costs about as much per event late in a session as
/// early (first and last tenth that applied events).
pub fn follow_is_flat(followed: &Measurement) -> bool {
    follow_growth(followed).is_none_or(|growth| growth <= MAX_FOLLOW_GROWTH)
}

/// Per-event cost of the last tenth over the first.
fn follow_growth(followed: &Measurement) -> Option<f64> {
    let costs: Vec<f64> = followed
        .per_event_seconds
        .iter()
        .copied()
        .filter(|&cost| cost > 0.0)
        .collect();
    match (costs.first(), costs.last()) {
        (Some(&first), Some(&last)) => Some(last / first),
        _ => None,
    }
}

pub fn render_follow(
    turns: u64,
    events: u64,
    batch: &Measurement,
    followed: &Measurement,
    same: bool,
) -> String {
    let per_event: Vec<String> = followed
        .per_event_seconds
        .iter()
        .map(|seconds| format!("{:.0}", seconds * 1e6))
        .collect();
    let growth = follow_growth(followed).map_or("n/a".to_string(), |growth| format!("{growth:.2}"));
    let mut text = format!(
        "Following the incremental shape at {turns} turns ({events} events), written live (payload \
         files, then the line, 200 µs apart) and polled by a `Follower`; state.json rewritten at \
         most every {} ms and once at the end.\n\n",
        super::follow::REWRITE_INTERVAL.as_millis()
    );
    text.push_str("| batch reduce s | follow: polling s | follow: rewrites s | peak RSS follow | µs per event, by tenth of the session | last / first tenth | final state = batch |\n");
    text.push_str("| ---: | ---: | ---: | ---: | --- | ---: | :---: |\n");
    text.push_str(&format!(
        "| {:.2} | {:.2} | {:.2} | {} | {} | {growth} (target ≤ {MAX_FOLLOW_GROWTH}) | {} |\n",
        batch.seconds,
        followed.seconds,
        followed.write_seconds,
        mib(followed.peak_rss_bytes),
        per_event.join(" "),
        if same { "✓" } else { "✗" }
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_switch_to_gib_at_one_gib() {
        assert_eq!(size(1023 << 20), "1023 MiB");
        assert_eq!(size(5 << 29), "2.50 GiB");
        assert_eq!(rss_target(100 << 20), 216 << 20);
    }

    #[test]
    fn a_measurement_line_decodes() {
        let line = r#"{"seconds":1.5,"write_seconds":0.25,"peak_rss_bytes":1048576,"state_bytes":42,"cpu_seconds":2.0,"per_event_seconds":[0.5]}"#;
        let measured = Measurement::parse(line).map_err(|error| error.to_string());
        assert_eq!(
            measured.map(|m| (
                m.seconds,
                m.write_seconds,
                m.peak_rss_bytes,
                m.state_bytes,
                m.cpu_seconds,
                m.per_event_seconds[0]
            )),
            Ok((1.5, 0.25, 1 << 20, 42, 2.0, 0.5))
        );
    }

    fn row(shape: &'static str, turns: u64, floor: f64, reduce: f64, rss_mib: u64) -> Row {
        let measured = |seconds: f64| Measurement {
            seconds,
            peak_rss_bytes: rss_mib << 20,
            state_bytes: 10 << 20,
            ..Measurement::default()
        };
        Row {
            shape,
            turns,
            events: 100,
            bundle_bytes: 1 << 30,
            floor: measured(floor),
            one_thread: measured(reduce),
            two_threads: measured(reduce),
            upstream: None,
            same_as_one_thread: true,
            same_as_upstream: None,
        }
    }

    #[test]
    fn each_target_is_held_to() {
        let rows = [
            row("a", 200, 1.0, 1.2, 30),
            row("a", 1000, 1.0, 1.4, 30),
            row("b", 200, 1.0, 1.6, 30),
            row("c", 200, 1.0, 1.0, 37),
            row("d", 200, 1.0, 1.0, 20),
            row("d", 1000, 1.0, 1.05, 20),
        ];
        assert_eq!(
            misses(&rows),
            [
                "a 1000 turns: ratio grows from 1.20 at 200 turns to 1.40 (target: at most +0.1)",
                "b 200 turns: reduce takes 1.60x the floor (target 1.5x)",
                "c 200 turns: peak RSS 37 MiB over the target 36 MiB",
                "c 200 turns: peak RSS on one thread 37 MiB over the target 36 MiB",
            ]
        );
        let table = render(&rows, 1);
        assert_eq!(table.matches('✓').count(), 3 + 1, "{table}");
    }

    #[test]
    fn following_is_flat_when_late_events_cost_as_much_as_early_ones() {
        let mut followed = Measurement {
            per_event_seconds: [1.0, 1.1, 1.0, 1.2, 1.3, 1.2, 1.4, 1.4, 1.5, 1.4],
            ..Measurement::default()
        };
        assert!(follow_is_flat(&followed));
        followed.per_event_seconds[9] = 1.6;
        assert!(!follow_is_flat(&followed));
    }
}
