//! Text building blocks of the terminal views: styled lines cut to a width,
//! wrapping, sanitizing of untrusted text, and compact numbers and durations.
//!
//! Invariants:
//! - A rendered line never has more than its width in characters (escape
//!   sequences excluded): it is cut at a character boundary and ends with `…`.
//! - Text taken from the trace never reaches the terminal raw: control
//!   characters (escape sequences of a tool's output included) are replaced,
//!   so a trace cannot move the cursor or change colours.
//! - Colour escapes are written only when the caller asked for colour.
//!
//! Widths are counted in characters, not terminal cells: a wide character
//! (CJK, most emoji) takes two cells but counts one.

/// The terminal width both terminal views fit in.
pub const WIDTH: usize = 80;

/// How a piece of a line is shown when colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Bold,
    Dim,
    Good,
    Bad,
    Warn,
    Accent,
}

impl Style {
    fn escape(self) -> Option<&'static str> {
        match self {
            Style::Plain => None,
            Style::Bold => Some("\x1b[1m"),
            Style::Dim => Some("\x1b[2m"),
            Style::Good => Some("\x1b[32m"),
            Style::Bad => Some("\x1b[1;31m"),
            Style::Warn => Some("\x1b[33m"),
            Style::Accent => Some("\x1b[36m"),
        }
    }
}

/// One output line made of styled pieces.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    pieces: Vec<(String, Style)>,
}

impl Line {
    /// A line starting with `indent` spaces.
    pub(crate) fn indented(indent: usize) -> Line {
        let mut line = Line::default();
        if indent > 0 {
            line.pieces.push((" ".repeat(indent), Style::Plain));
        }
        line
    }

    pub(crate) fn push(&mut self, text: impl Into<String>, style: Style) -> &mut Line {
        let text = text.into();
        if !text.is_empty() {
            self.pieces.push((text, style));
        }
        self
    }

    pub(crate) fn plain(&mut self, text: impl Into<String>) -> &mut Line {
        self.push(text, Style::Plain)
    }

    /// The line cut to `width` characters, with colour escapes when `color`.
    pub(crate) fn render(&self, width: usize, color: bool) -> String {
        let total: usize = self
            .pieces
            .iter()
            .map(|(text, _)| text.chars().count())
            .sum();
        let mut budget = if total > width {
            width.saturating_sub(1)
        } else {
            total
        };
        let mut out = String::new();
        let mut cut_style = Style::Plain;
        for (text, style) in &self.pieces {
            if budget == 0 {
                break;
            }
            let shown: String = text.chars().take(budget).collect();
            budget -= shown.chars().count();
            cut_style = *style;
            push_styled(&mut out, &shown, *style, color);
        }
        if total > width {
            push_styled(&mut out, "…", cut_style, color);
        }
        out.truncate(out.trim_end_matches(' ').len());
        out
    }
}

fn push_styled(out: &mut String, text: &str, style: Style, color: bool) {
    match style.escape() {
        Some(escape) if color => {
            out.push_str(escape);
            out.push_str(text);
            out.push_str("\x1b[0m");
        }
        _ => out.push_str(text),
    }
}

/// `text` on one line: whitespace runs (newlines included) become one space,
/// other control characters become `�`.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(if c.is_control() { '\u{fffd}' } else { c });
    }
    out
}

/// `text` with its line structure kept: tabs become four spaces, carriage
/// returns are dropped, other control characters become `�`.
pub(crate) fn sanitize_block(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            '\r' => {}
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to `max` characters, ending with `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some(_) => {
            let kept: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{kept}…")
        }
        None => text.to_string(),
    }
}

/// The lines of `text` (already sanitized) wrapped to `width` characters,
/// breaking after the last space that leaves at least half a line, or
/// anywhere when a word is longer. Leading indentation is kept.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    for source in text.split('\n') {
        let mut rest: Vec<char> = source.trim_end().chars().collect();
        if rest.is_empty() {
            lines.push(String::new());
            continue;
        }
        while rest.len() > width {
            let space = rest[..=width]
                .iter()
                .rposition(|c| *c == ' ')
                .filter(|position| *position >= width / 2);
            let (head, skip) = match space {
                Some(position) => (position, 1),
                None => (width, 0),
            };
            lines.push(
                rest[..head]
                    .iter()
                    .collect::<String>()
                    .trim_end()
                    .to_string(),
            );
            rest.drain(..head + skip);
        }
        lines.push(rest.iter().collect());
    }
    lines
}

/// A duration in milliseconds, short: `45ms`, `1.9s`, `2m05s`, `1h02m`.
pub(crate) fn duration(ms: i64) -> String {
    if ms < 0 {
        return format!("-{}", duration(ms.saturating_neg()));
    }
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        // Tenths, rounded down so 59.99s never shows as 60.0s.
        return format!("{}.{}s", ms / 1_000, (ms % 1_000) / 100);
    }
    let seconds = ms / 1_000;
    if seconds < 3_600 {
        return format!("{}m{:02}s", seconds / 60, seconds % 60);
    }
    format!("{}h{:02}m", seconds / 3_600, (seconds % 3_600) / 60)
}

/// A token count, short: `412`, `9214`, `12.3k`, `4.1M`.
pub(crate) fn count(n: u64) -> String {
    if n < 10_000 {
        return n.to_string();
    }
    if n < 1_000_000 {
        return format!("{}.{}k", n / 1_000, (n % 1_000) / 100);
    }
    format!("{}.{}M", n / 1_000_000, (n % 1_000_000) / 100_000)
}

/// `1 turn`, `3 turns`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_to_the_width_with_an_ellipsis() {
        let mut line = Line::indented(2);
        line.plain("abc").push("defghij", Style::Bad);
        assert_eq!(line.render(12, false), "  abcdefghij");
        assert_eq!(line.render(8, false), "  abcde…");
        assert_eq!(
            line.render(8, true),
            "  abc\x1b[1;31mde\x1b[0m\x1b[1;31m…\x1b[0m"
        );
    }

    #[test]
    fn untrusted_text_loses_its_control_characters() {
        assert_eq!(one_line(" a\n\n b\t\x1b[31mc "), "a b �[31mc");
        assert_eq!(sanitize_block("a\r\n\tb\x07"), "a\n    b�");
    }

    #[test]
    fn wrapping_prefers_spaces_and_breaks_long_words() {
        assert_eq!(
            wrap("one two three four five", 10),
            ["one two", "three four", "five"]
        );
        assert_eq!(wrap("abcdefghijklmnopq", 8), ["abcdefgh", "ijklmnop", "q"]);
        assert_eq!(wrap("a\n\n  b", 8), ["a", "", "  b"]);
    }

    #[test]
    fn durations_and_counts_are_short() {
        let shown: Vec<String> = [0, 45, 1_900, 59_999, 125_000, 3_720_000]
            .into_iter()
            .map(duration)
            .collect();
        assert_eq!(shown, ["0ms", "45ms", "1.9s", "59.9s", "2m05s", "1h02m"]);
        let shown: Vec<String> = [412, 9_214, 12_345, 4_150_000]
            .into_iter()
            .map(count)
            .collect();
        assert_eq!(shown, ["412", "9214", "12.3k", "4.1M"]);
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
    }
}
