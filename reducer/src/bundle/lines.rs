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
