//! Resource limits that keep hostile or broken bundles from exhausting memory.
//!
//! Upstream has none. The defaults are far above what real sessions write
//! (a payload holds one request: the whole history, a few MB even for long
//! sessions), so they only stop runaway inputs.

/// Upper bounds on what the reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload file (and manifest) read, in bytes.
    pub max_payload_bytes: u64,
    /// Longest `trace.jsonl` line, in bytes, terminator excluded.
    pub max_line_bytes: usize,
    /// Deepest nesting of JSON containers accepted in any document. serde_json
    /// (and therefore upstream) rejects 128 levels, so values above 127 have
    /// no further effect.
    pub max_json_depth: usize,
    /// Largest reduced state, in the bytes `state.json` would take, counted
    /// while reducing (see `reduce::budget`): what a small bundle can make
    /// the reducer build by naming large payloads again and again.
    pub max_state_bytes: u64,
    /// Bytes of payload files read again (a file's first read is free),
    /// counted where the reducer asks for documents (see `payload_reads`):
    /// what a small bundle can make the reducer read by naming the same
    /// payload files again and again.
    pub max_reread_bytes: u64,
}

/// Containers serde_json accepts before it fails with `recursion limit exceeded`.
pub const SERDE_JSON_MAX_DEPTH: usize = 127;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_bytes: 1 << 30,
            max_line_bytes: 64 << 20,
            max_json_depth: SERDE_JSON_MAX_DEPTH,
            // A 3,000-turn session without compaction writes about 2.2 GB.
            max_state_bytes: 8 << 30,
            // A real session reads a few files again (a sub-agent's
            // invocation, once per activity): kilobytes, not gigabytes.
            max_reread_bytes: 4 << 30,
        }
    }
}

/// Returns the nesting depth of the JSON text `bytes` if it exceeds `limit`,
/// counting `[` and `{` outside strings. Malformed text is left to the parser.
pub(crate) fn depth_over_limit(bytes: &[u8], limit: usize) -> Option<usize> {
    if limit >= SERDE_JSON_MAX_DEPTH {
        return None;
    }
    // Cheap first: nesting needs as many openings, and real documents have
    // far fewer brackets than the limit (this loop vectorizes; the exact
    // scan below, which skips strings, does not).
    let openings: usize = bytes
        .iter()
        .map(|&byte| usize::from(byte == b'[' || byte == b'{'))
        .sum();
    if openings <= limit {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_containers_outside_strings() {
        assert_eq!(depth_over_limit(br#"[[["[[[["]]]"#, 2), Some(3));
        assert_eq!(depth_over_limit(br#"[["[[[[\"[["]]"#, 2), None);
        assert_eq!(depth_over_limit(b"[[[]]]", 200), None);
    }
}
