//! Plausible text from a seed: prose for messages and reasoning summaries,
//! Rust-looking code, shell commands and their output, base64-looking blobs.
//!
//! Nothing here needs to make sense; it needs the shape and the size of
//! what a coding agent's session holds (mostly ASCII, newlines and quotes
//! that JSON must escape, a few non-ASCII characters), so that parsing and
//! copying cost what they cost on real traces.

use crate::rng::Rng;

const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "that",
    "is",
    "for",
    "it",
    "with",
    "as",
    "on",
    "this",
    "be",
    "by",
    "from",
    "we",
    "when",
    "then",
    "each",
    "which",
    "not",
    "only",
    "so",
    "but",
    "all",
    "after",
    "before",
    "into",
    "every",
    "still",
    "now",
    "again",
    "first",
    "last",
    "next",
    "same",
    "test",
    "tests",
    "file",
    "files",
    "function",
    "module",
    "crate",
    "build",
    "error",
    "errors",
    "reducer",
    "payload",
    "bundle",
    "thread",
    "turn",
    "request",
    "response",
    "item",
    "items",
    "history",
    "snapshot",
    "index",
    "cache",
    "lookup",
    "parser",
    "line",
    "lines",
    "value",
    "string",
    "struct",
    "field",
    "fields",
    "type",
    "trait",
    "impl",
    "method",
    "return",
    "result",
    "option",
    "case",
    "cases",
    "branch",
    "commit",
    "change",
    "changes",
    "diff",
    "patch",
    "fix",
    "bug",
    "check",
    "checks",
    "command",
    "output",
    "input",
    "path",
    "folder",
    "config",
    "option",
    "flag",
    "limit",
    "size",
    "order",
    "key",
    "keys",
    "map",
    "list",
    "queue",
    "pending",
    "state",
    "event",
    "events",
    "call",
    "calls",
    "tool",
    "terminal",
    "session",
    "process",
    "stdout",
    "stderr",
    "exit",
    "code",
    "status",
    "running",
    "completed",
    "failed",
    "passes",
    "fails",
    "looks",
    "seems",
    "should",
    "would",
    "could",
    "need",
    "needs",
    "add",
    "remove",
    "rename",
    "move",
    "split",
    "merge",
    "read",
    "write",
    "parse",
    "serialize",
    "compare",
    "update",
    "keep",
    "drop",
    "skip",
    "handle",
    "report",
    "return",
    "expected",
    "actual",
    "missing",
    "unknown",
    "duplicate",
    "stale",
    "slow",
    "fast",
    "large",
    "small",
    "empty",
    "whole",
    "partial",
    "deterministic",
    "sorted",
    "stable",
    "safe",
    "clean",
    "simple",
    "careful",
    "naïve",
    "café",
    "déjà",
];

const IDENTS: &[&str] = &[
    "reduce",
    "replay",
    "payload",
    "bundle",
    "snapshot",
    "history",
    "reconcile",
    "normalize",
    "match_key",
    "item_id",
    "thread_id",
    "turn_id",
    "call_id",
    "tool_call",
    "inference",
    "request",
    "response",
    "pending",
    "queue",
    "index",
    "lookup",
    "parse_line",
    "read_payload",
    "write_state",
    "limits",
    "summary",
    "config",
    "options",
    "terminal",
    "session",
    "cell",
    "edge",
    "compaction",
    "marker",
    "diagnostic",
    "error",
    "place",
    "seq",
    "wall_time",
];

const TYPES: &[&str] = &[
    "Reducer",
    "Payload",
    "Bundle",
    "Snapshot",
    "ItemId",
    "ThreadId",
    "ToolCall",
    "Inference",
    "Request",
    "Response",
    "Pending",
    "Index",
    "Limits",
    "Summary",
    "Config",
    "Terminal",
    "Session",
    "CodeCell",
    "Edge",
    "Compaction",
    "Diagnostic",
    "ReduceError",
    "Place",
];

const DIRS: &[&str] = &[
    "src",
    "src/reduce",
    "src/bundle",
    "src/model",
    "tests",
    "crates/core/src",
    "crates/cli/src",
];

const CRATES: &[&str] = &["core", "cli", "reducer", "harness", "model", "bundle"];

/// The name of a folder a session works in.
pub const WORKDIR: &str = "/home/dev/src/acme-shop";

pub fn word(rng: &mut Rng) -> &'static str {
    rng.pick(WORDS)
}

pub fn ident(rng: &mut Rng) -> &'static str {
    rng.pick(IDENTS)
}

/// One sentence of `min..=max` words, capitalized, ending with a period.
pub fn sentence(rng: &mut Rng, min: u64, max: u64) -> String {
    let count = rng.range(min, max);
    let mut text = String::new();
    for n in 0..count {
        let word = word(rng);
        if n == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push(' ');
            if rng.chance(4) {
                text.push('`');
                text.push_str(ident(rng));
                text.push('`');
            } else {
                text.push_str(word);
            }
        }
    }
    text.push('.');
    text
}

/// Sentences until at least `min..=max` words (drawn once) are written.
pub fn prose(rng: &mut Rng, min: u64, max: u64) -> String {
    let target = rng.range(min, max);
    let mut text = String::new();
    let mut words = 0;
    while words < target {
        let sentence = sentence(rng, 5, 18);
        words += sentence.split(' ').count() as u64;
        if !text.is_empty() {
            text.push_str(if rng.chance(15) { "\n\n" } else { " " });
        }
        text.push_str(&sentence);
    }
    text
}

/// A file path inside the session's repository.
pub fn path(rng: &mut Rng) -> String {
    format!("{}/{}.rs", rng.pick(DIRS), ident(rng))
}

/// One line of Rust-looking code.
pub fn code_line(rng: &mut Rng) -> String {
    let indent = "    ".repeat(rng.range(0, 3) as usize);
    let line = match rng.range(0, 7) {
        0 => format!(
            "let {} = {}.{}(&{})?;",
            ident(rng),
            ident(rng),
            ident(rng),
            ident(rng)
        ),
        1 => format!(
            "pub fn {}(&mut self, {}: &{}) -> Result<{}, {}> {{",
            ident(rng),
            ident(rng),
            rng.pick(TYPES),
            rng.pick(TYPES),
            rng.pick(TYPES)
        ),
        2 => format!(
            "if let Some({}) = self.{}.get(&{}) {{",
            ident(rng),
            ident(rng),
            ident(rng)
        ),
        3 => format!(
            "return Err({}::new(format!(\"{} {{}} {}\", {})));",
            rng.pick(TYPES),
            word(rng),
            word(rng),
            ident(rng)
        ),
        4 => format!("// {}", sentence(rng, 4, 12)),
        5 => format!(
            "self.{}.insert({}.clone(), {});",
            ident(rng),
            ident(rng),
            ident(rng)
        ),
        6 => "}".to_string(),
        _ => format!(
            "for {} in {}.iter().filter(|{}| !{}.is_empty()) {{",
            ident(rng),
            ident(rng),
            ident(rng),
            ident(rng)
        ),
    };
    format!("{indent}{line}")
}

/// A shell command an agent runs, and a generator of its output.
#[derive(Debug, Clone)]
pub struct Command {
    pub cmd: String,
    kind: CommandKind,
}

#[derive(Debug, Clone, Copy)]
enum CommandKind {
    Search,
    Test,
    Show,
    Log,
    List,
}

pub fn command(rng: &mut Rng) -> Command {
    let (cmd, kind) = match rng.range(0, 4) {
        0 => (
            format!("rg -n \"{}\" {}", ident(rng), rng.pick(DIRS)),
            CommandKind::Search,
        ),
        1 => (
            format!("cargo test -p {} {}", rng.pick(CRATES), ident(rng)),
            CommandKind::Test,
        ),
        2 => {
            let start = rng.range(1, 400);
            (
                format!("sed -n '{start},{}p' {}", start + 120, path(rng)),
                CommandKind::Show,
            )
        }
        3 => ("git log --oneline -n 40".to_string(), CommandKind::Log),
        _ => (format!("ls -la {}", rng.pick(DIRS)), CommandKind::List),
    };
    Command { cmd, kind }
}

impl Command {
    /// The command's output: lines of its kind until at least `target_bytes`.
    pub fn output(&self, rng: &mut Rng, target_bytes: usize) -> String {
        let mut out = String::with_capacity(target_bytes + 200);
        let mut n = 0u64;
        while out.len() < target_bytes {
            n += 1;
            let line = match self.kind {
                CommandKind::Search => {
                    format!("{}:{}:{}", path(rng), rng.range(1, 900), code_line(rng))
                }
                CommandKind::Test if n == 1 => format!(
                    "   Compiling {} v0.1.0 ({WORKDIR}/crates/{})\n    Finished `test` profile [unoptimized + debuginfo] target(s) in {}.{:02}s\n     Running unittests src/lib.rs\n\nrunning tests",
                    rng.pick(CRATES),
                    rng.pick(CRATES),
                    rng.range(1, 40),
                    rng.range(0, 99)
                ),
                CommandKind::Test => format!(
                    "test {}::{}::{}_{} ... {}",
                    ident(rng),
                    ident(rng),
                    word(rng),
                    ident(rng),
                    if rng.chance(3) { "FAILED" } else { "ok" }
                ),
                CommandKind::Show => code_line(rng),
                CommandKind::Log => format!("{:07x} {}", rng.next_u64() >> 36, sentence(rng, 3, 9)),
                CommandKind::List => format!(
                    "-rw-r--r--  1 dev dev {:>6} Nov {:>2} {:02}:{:02} {}.rs",
                    rng.range(200, 60_000),
                    rng.range(1, 30),
                    rng.range(0, 23),
                    rng.range(0, 59),
                    ident(rng)
                ),
            };
            out.push_str(&line);
            out.push('\n');
        }
        if let CommandKind::Test = self.kind {
            out.push_str(&format!(
                "\ntest result: ok. {n} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.{:02}s\n",
                rng.range(1, 99)
            ));
        }
        out
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `bytes` random bytes in base64, behind the `gAAAAA` prefix of the
/// provider's encrypted reasoning.
pub fn blob(rng: &mut Rng, bytes: usize) -> String {
    let mut text = String::with_capacity(6 + bytes.div_ceil(3) * 4);
    text.push_str("gAAAAA");
    let mut remaining = bytes;
    while remaining > 0 {
        let chunk = rng.next_u64();
        let take = remaining.min(3);
        let bits = (chunk & 0xFF_FFFF) as u32;
        let sextets = [
            (bits >> 18) & 63,
            (bits >> 12) & 63,
            (bits >> 6) & 63,
            bits & 63,
        ];
        for (i, sextet) in sextets.iter().enumerate() {
            text.push(if i <= take {
                BASE64[*sextet as usize] as char
            } else {
                '='
            });
        }
        remaining -= take;
    }
    text
}

/// A lowercase task name valid as an agent path segment (`[a-z0-9_]+`).
pub fn task_name(rng: &mut Rng, n: u64) -> String {
    let mut name: String = format!("{}_{}", ident(rng), ident(rng))
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    name.push_str(&format!("_{n}"));
    name
}

const NICKNAMES: &[&str] = &[
    "Ada",
    "Turing",
    "Hopper",
    "Lovelace",
    "Knuth",
    "Dijkstra",
    "Liskov",
    "Hamilton",
    "Ritchie",
    "Thompson",
    "Kernighan",
    "Backus",
];

pub fn nickname(n: u64) -> &'static str {
    NICKNAMES[(n as usize) % NICKNAMES.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_is_base64_of_the_asked_size() {
        let text = blob(&mut Rng::new(3), 768);
        assert_eq!(text.len(), 6 + 1024);
        assert!(text.bytes().all(|b| BASE64.contains(&b) || b == b'='));
    }

    #[test]
    fn output_reaches_its_target() {
        let mut rng = Rng::new(5);
        for _ in 0..20 {
            let command = command(&mut rng);
            let out = command.output(&mut rng, 2000);
            assert!(out.len() >= 2000, "{}", command.cmd);
        }
    }

    #[test]
    fn task_names_are_agent_path_segments() {
        let mut rng = Rng::new(9);
        for n in 0..50 {
            let name = task_name(&mut rng, n);
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
        }
    }
}
