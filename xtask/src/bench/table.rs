//! The result table of `cargo xtask bench`, in Markdown so that it can be
//! pasted into the README as it is.

use super::run::Measurement;

/// One benchmarked bundle.
pub struct Row {
    pub label: String,
    pub bundle_bytes: u64,
    pub files: u64,
    /// `None` when the bundle came from an earlier run.
    pub generation_seconds: Option<f64>,
    pub floor: Measurement,
    pub one_thread: Measurement,
    pub two_threads: Measurement,
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

/// The memory target of a state: 3 × state.json + 64 MiB.
pub fn rss_target(state_bytes: u64) -> u64 {
    3 * state_bytes + (64 << 20)
}

pub fn render(rows: &[Row], runs: u32) -> String {
    let mut text = format!(
        "Best of {runs} runs, each in its own process. reduce = reduce_bundle_with + writing state.json \
         (streamed; the write is also shown alone); 1t = read-ahead off, 2t = read-ahead on; \
         MiB/s = bundle bytes / reduce 2t; peak RSS = highest VmHWM of the runs.\n\n"
    );
    let header = [
        "turns",
        "bundle",
        "files",
        "state.json",
        "floor s",
        "reduce 1t s",
        "reduce 2t s",
        "1t/floor",
        "2t/floor",
        "MiB/s 2t",
        "write s",
        "peak RSS 1t",
        "peak RSS 2t",
        "RSS target",
        "gen s",
    ];
    text.push_str(&format!("| {} |\n", header.join(" | ")));
    text.push_str(&format!("|{}\n", " ---: |".repeat(header.len())));
    for row in rows {
        let state = row.two_threads.state_bytes;
        let cells = [
            row.label.clone(),
            size(row.bundle_bytes),
            row.files.to_string(),
            mib(state),
            format!("{:.2}", row.floor.seconds),
            format!("{:.2}", row.one_thread.seconds),
            format!("{:.2}", row.two_threads.seconds),
            format!("{:.2}", row.one_thread.seconds / row.floor.seconds),
            format!("{:.2}", row.two_threads.seconds / row.floor.seconds),
            format!(
                "{:.0}",
                row.bundle_bytes as f64 / MIB / row.two_threads.seconds
            ),
            format!("{:.2}", row.two_threads.write_seconds),
            mib(row.one_thread.peak_rss_bytes),
            mib(row.two_threads.peak_rss_bytes),
            mib(rss_target(state)),
            row.generation_seconds
                .map_or_else(|| "reused".to_string(), |seconds| format!("{seconds:.1}")),
        ];
        text.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_switch_to_gib_at_one_gib() {
        assert_eq!(size(1023 << 20), "1023 MiB");
        assert_eq!(size(5 << 29), "2.50 GiB");
        assert_eq!(rss_target(100 << 20), 364 << 20);
    }

    #[test]
    fn a_measurement_line_decodes() {
        let line =
            r#"{"seconds":1.5,"write_seconds":0.25,"peak_rss_bytes":1048576,"state_bytes":42}"#;
        let measured = Measurement::parse(line).map_err(|error| error.to_string());
        assert_eq!(
            measured.map(|m| (m.seconds, m.write_seconds, m.peak_rss_bytes, m.state_bytes)),
            Ok((1.5, 0.25, 1 << 20, 42))
        );
    }
}
