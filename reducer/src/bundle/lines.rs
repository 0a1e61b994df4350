//! Streaming `trace.jsonl` into decoded events, one physical line at a time.
//!
//! Mirrors upstream's line handling: 1-based physical line numbers (skipped
//! blank lines count), `\n` or `\r\n` terminators, lines that are empty or
//! only Unicode whitespace skipped, each other line decoded as one event.
//! Unlike upstream, a line is never buffered beyond `Limits::max_line_bytes`,
//! so a file without newlines cannot grow memory without bound.

use std::io::BufRead;

use serde_json::Value;

use crate::Limits;
use crate::error::Place;
use crate::error::ReduceError;
use crate::raw::RawTraceEvent;

/// One decoded event and where it came from.
#[derive(Debug, Clone)]
pub struct EventLine {
    /// 1-based physical line number in `trace.jsonl`.
    pub line_number: u64,
    /// Byte offset just after the line (its terminator included): where
    /// the next line starts.
    pub end_offset: u64,
    pub event: RawTraceEvent,
}

impl EventLine {
    /// The place of this event, for errors and diagnostics.
    pub fn place(&self) -> Place {
        Place::event(
            self.line_number,
            Some(self.event.seq),
            Some(self.event.payload.type_name()),
        )
    }
}

/// A line that could not be turned into an event.
#[derive(Debug, Clone)]
pub struct DamagedLine {
    pub line_number: u64,
    /// Byte offset just after the damaged line.
    pub end_offset: u64,
    pub error: ReduceError,
    /// The line had no terminator: the file ends inside it, as after a writer
    /// that stopped mid-write.
    pub unterminated: bool,
}

/// Iterator over the events of an event log.
pub struct EventLines<R> {
    reader: R,
    limits: Limits,
    line_number: u64,
    /// Bytes consumed so far.
    offset: u64,
    buffer: Vec<u8>,
    finished: bool,
}

enum RawLine {
    End,
    Line { terminated: bool },
    TooLong { length: u64, terminated: bool },
    Io(std::io::Error),
}

impl<R: BufRead> EventLines<R> {
    pub fn new(reader: R, limits: Limits) -> Self {
        Self::resume(reader, limits, 0, 0)
    }

    /// Lines of a log read from its middle: `reader` starts at byte `offset`,
    /// just after line `line_number` (line numbers and offsets go on from there).
    pub fn resume(reader: R, limits: Limits, line_number: u64, offset: u64) -> Self {
        EventLines {
            reader,
            limits,
            line_number,
            offset,
            buffer: Vec::new(),
            finished: false,
        }
    }

    /// The number of the last line read (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// Bytes of the log consumed so far (from its start).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next physical line into `self.buffer` (terminator removed),
    /// keeping at most `max_line_bytes` of it.
    fn read_raw_line(&mut self) -> RawLine {
        self.buffer.clear();
        let limit = self.limits.max_line_bytes;
        let mut length: u64 = 0;
        let mut overflow = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return RawLine::Io(error),
            };
            if available.is_empty() {
                if length == 0 {
                    return RawLine::End;
                }
                break;
            }
            let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
                Some(index) => (&available[..index], true),
                None => (available, false),
            };
            length += chunk.len() as u64;
            if !overflow {
                if self.buffer.len() + chunk.len() > limit {
                    overflow = true;
                    self.buffer.clear();
                } else {
                    self.buffer.extend_from_slice(chunk);
                }
            }
            let consumed = chunk.len() + usize::from(found_newline);
            self.reader.consume(consumed);
            self.offset += consumed as u64;
            if found_newline {
                if self.buffer.last() == Some(&b'\r') {
                    self.buffer.pop();
                }
                return if overflow {
                    RawLine::TooLong {
                        length,
                        terminated: true,
                    }
                } else {
                    RawLine::Line { terminated: true }
                };
            }
        }
        if overflow {
            RawLine::TooLong {
                length,
                terminated: false,
            }
        } else {
            RawLine::Line { terminated: false }
        }
    }
}

impl<R: BufRead> Iterator for EventLines<R> {
    type Item = Result<EventLine, DamagedLine>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        loop {
            let raw = self.read_raw_line();
            let terminated = match raw {
                RawLine::End => {
                    self.finished = true;
                    return None;
                }
                RawLine::Io(error) => {
                    self.finished = true;
                    self.line_number += 1;
                    let line_number = self.line_number;
                    let error =
                        ReduceError::caused(format!("read trace event line {line_number}"), error)
                            .at(&Place::event(line_number, None, None));
                    return Some(Err(DamagedLine {
                        line_number,
                        end_offset: self.offset,
                        error,
                        unterminated: false,
                    }));
                }
                RawLine::TooLong { length, terminated } => {
                    self.line_number += 1;
                    let line_number = self.line_number;
                    let error = ReduceError::caused(
                        format!("read trace event line {line_number}"),
                        format!(
                            "line is {length} bytes long, over the limit of {} bytes (raise it with --max-line-bytes)",
                            self.limits.max_line_bytes
                        ),
                    )
                    .at(&Place::event(line_number, None, None));
                    return Some(Err(DamagedLine {
                        line_number,
                        end_offset: self.offset,
                        error,
                        unterminated: !terminated,
                    }));
                }
                RawLine::Line { terminated } => terminated,
            };
            self.line_number += 1;
            let line_number = self.line_number;
            let text = match std::str::from_utf8(&self.buffer) {
                Ok(text) => text,
                Err(_) => {
                    let error = ReduceError::caused(
                        format!("read trace event line {line_number}"),
                        "stream did not contain valid UTF-8",
                    )
                    .at(&Place::event(line_number, None, None));
                    return Some(Err(DamagedLine {
                        line_number,
                        end_offset: self.offset,
                        error,
                        unterminated: !terminated,
                    }));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let end_offset = self.offset;
            return Some(
                decode_line(text, line_number, end_offset, &self.limits).map_err(|error| {
                    DamagedLine {
                        line_number,
                        end_offset,
                        error: if terminated {
                            error
                        } else {
                            error.with_hint(
                            "the last line has no newline: the writer probably stopped mid-write; \
                             reduce with --partial to keep the events before it",
                        )
                        },
                        unterminated: !terminated,
                    }
                }),
            );
        }
    }
}

/// Decodes one non-blank line into an event.
fn decode_line(
    text: &str,
    line_number: u64,
    end_offset: u64,
    limits: &Limits,
) -> Result<EventLine, ReduceError> {
    let fail = |cause: String| {
        let (seq, event_type) = lenient_identity(text);
        ReduceError::caused(format!("parse trace event line {line_number}"), cause)
            .at(&Place::event(line_number, seq, event_type.as_deref()))
    };
    if let Some(depth) = crate::limits::depth_over_limit(text.as_bytes(), limits.max_json_depth) {
        return Err(fail(super::depth_message(depth, limits.max_json_depth)));
    }
    let event: RawTraceEvent =
        serde_json::from_str(text).map_err(|error| fail(error.to_string()))?;
    Ok(EventLine {
        line_number,
        end_offset,
        event,
    })
}

/// The seq and type of a line that failed to decode, when they can be read at all.
fn lenient_identity(text: &str) -> (Option<u64>, Option<String>) {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return (None, None);
    };
    let seq = value.get("seq").and_then(Value::as_u64);
    let event_type = value
        .get("payload")
        .and_then(|payload| payload.get("type"))
        .and_then(Value::as_str)
        .map(str::to_string);
    (seq, event_type)
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;
    use std::io::Read;

    use super::*;

    const EVENT: &str = r#"{"schema_version":1,"seq":1,"wall_time_unix_ms":1,"rollout_id":"r","thread_id":null,"codex_turn_id":null,"payload":{"type":"rollout_started","trace_id":"t","root_thread_id":"thread-root"}}"#;

    fn limits(max_line_bytes: usize) -> Limits {
        Limits {
            max_line_bytes,
            ..Limits::default()
        }
    }

    /// Every item with its line number, end offset and whether it is damaged
    /// (and unterminated), and where the iterator stood after it.
    fn read_all(log: &[u8], limits: Limits) -> Vec<(u64, u64, &'static str, u64, u64)> {
        let mut lines = EventLines::new(log, limits);
        let mut seen = Vec::new();
        while let Some(item) = lines.next() {
            let (line_number, end_offset, what) = match item {
                Ok(line) => (line.line_number, line.end_offset, "event"),
                Err(damaged) if damaged.unterminated => (
                    damaged.line_number,
                    damaged.end_offset,
                    "damaged unterminated",
                ),
                Err(damaged) => (damaged.line_number, damaged.end_offset, "damaged"),
            };
            seen.push((
                line_number,
                end_offset,
                what,
                lines.line_number(),
                lines.offset(),
            ));
        }
        seen
    }

    #[test]
    fn line_numbers_count_blank_lines_and_offsets_count_terminators() {
        let log = format!("{EVENT}\n\n  \r\n{EVENT}\r\n{EVENT}");
        let first = EVENT.len() as u64 + 1;
        let second = first + 1 + 4 + EVENT.len() as u64 + 2;
        let third = second + EVENT.len() as u64;
        assert_eq!(
            read_all(log.as_bytes(), Limits::default()),
            vec![
                (1, first, "event", 1, first),
                (4, second, "event", 4, second),
                (5, third, "event", 5, third),
            ]
        );
    }

    #[test]
    fn an_empty_log_has_no_lines() {
        assert_eq!(read_all(b"", Limits::default()), vec![]);
        assert_eq!(read_all(b"\n\n", Limits::default()), vec![]);
    }

    #[test]
    fn a_line_at_the_limit_is_read_and_one_byte_more_is_damaged() {
        let at_limit = format!("{EVENT}\n");
        let read = read_all(at_limit.as_bytes(), limits(EVENT.len()));
        assert_eq!(read[0].2, "event");
        let read = read_all(at_limit.as_bytes(), limits(EVENT.len() - 1));
        assert_eq!(
            read,
            vec![(
                1,
                EVENT.len() as u64 + 1,
                "damaged",
                1,
                EVENT.len() as u64 + 1
            )]
        );
        // Without its newline, the long last line is damaged and unterminated.
        let read = read_all(EVENT.as_bytes(), limits(EVENT.len() - 1));
        assert_eq!(read[0].2, "damaged unterminated");
    }

    #[test]
    fn a_long_line_read_in_small_pieces_is_measured_whole() {
        let log = format!("{EVENT}\n{EVENT}\n");
        let reader = BufReader::with_capacity(7, log.as_bytes());
        let mut lines = EventLines::new(reader, limits(EVENT.len() - 1));
        let Some(Err(damaged)) = lines.next() else {
            panic!("the first line is over the limit");
        };
        let message = damaged.error.to_string();
        assert!(
            message.contains(&format!("line is {} bytes long", EVENT.len())),
            "{message}"
        );
        assert_eq!(lines.offset(), EVENT.len() as u64 + 1);
    }

    #[test]
    fn damage_is_unterminated_only_on_a_last_line_without_newline() {
        let bad_utf8 = b"\xff\xfe\n\xff\xfe";
        let read = read_all(bad_utf8, Limits::default());
        assert_eq!(read[0].2, "damaged");
        assert_eq!(read[1].2, "damaged unterminated");
        let mut lines = EventLines::new(&b"{\"seq\":\n{\"seq\":"[..], Limits::default());
        let Some(Err(terminated)) = lines.next() else {
            panic!("not an event");
        };
        let Some(Err(unterminated)) = lines.next() else {
            panic!("not an event");
        };
        assert!(!terminated.unterminated);
        assert!(!format!("{terminated:?}").contains("--partial"));
        assert!(unterminated.unterminated);
        assert!(format!("{unterminated:?}").contains("--partial"));
    }

    /// A reader that fails once with `error`, then reads `bytes`.
    struct FailsOnce {
        error: Option<std::io::ErrorKind>,
        bytes: &'static [u8],
    }

    impl Read for FailsOnce {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if let Some(kind) = self.error.take() {
                return Err(kind.into());
            }
            self.bytes.read(buf)
        }
    }

    #[test]
    fn an_interrupted_read_is_retried() {
        let reader = BufReader::new(FailsOnce {
            error: Some(std::io::ErrorKind::Interrupted),
            bytes: b"\n\n",
        });
        assert_eq!(EventLines::new(reader, Limits::default()).count(), 0);
    }

    #[test]
    fn a_failed_read_ends_the_log_with_a_damaged_line() {
        let reader = BufReader::new(FailsOnce {
            error: Some(std::io::ErrorKind::PermissionDenied),
            bytes: b"\n\n",
        });
        let mut lines = EventLines::resume(reader, Limits::default(), 7, 300);
        let Some(Err(damaged)) = lines.next() else {
            panic!("the failed read is damage");
        };
        assert_eq!((damaged.line_number, damaged.end_offset), (8, 300));
        assert!(
            damaged
                .error
                .to_string()
                .contains("read trace event line 8")
        );
        assert!(lines.next().is_none());
    }
}
