//! Writing the document without ever letting trace data become markup:
//! escaped text and attribute values, links to an object by its id, and
//! JSON that can sit inside a `<script>` element.
//!
//! Invariants:
//! - Trace strings reach the document only through [`Markup::text`],
//!   [`Markup::attr`], [`Markup::href`] or [`write_script_json`]; only
//!   literals of this module's callers go through [`Markup::raw`].
//! - An attribute value keeps every character of the trace string except
//!   NUL, which HTML cannot carry (it becomes U+FFFD), so an id read back
//!   from `element.id` is the key of its object in the page's data.
//! - Script JSON has no `<` (written `\u003c`) and no U+2028/U+2029: nothing
//!   in it can close the script element or open a comment, and it parses to
//!   the same value.

use std::io;
use std::io::Write;

use serde::Serialize;

/// An output document with escaping writers.
pub(super) struct Markup<'w> {
    out: &'w mut dyn Write,
}

impl<'w> Markup<'w> {
    pub(super) fn new(out: &'w mut dyn Write) -> Markup<'w> {
        Markup { out }
    }

    /// Markup written as is: literals only, never trace data.
    pub(super) fn raw(&mut self, markup: &str) -> io::Result<&mut Self> {
        self.out.write_all(markup.as_bytes())?;
        Ok(self)
    }

    /// Text content: `&`, `<` and `>` become references.
    pub(super) fn text(&mut self, text: &str) -> io::Result<&mut Self> {
        escape(self.out, text, false)?;
        Ok(self)
    }

    /// The inside of a double-quoted attribute value.
    pub(super) fn attr(&mut self, value: &str) -> io::Result<&mut Self> {
        escape(self.out, value, true)?;
        Ok(self)
    }

    /// `href="#<id>"`: a link to the element (or object) with this id.
    pub(super) fn href(&mut self, id: &str) -> io::Result<&mut Self> {
        self.raw(" href=\"#")?.attr(&fragment(id))?.raw("\"")
    }

    /// ` id="<id>"`.
    pub(super) fn id(&mut self, id: &str) -> io::Result<&mut Self> {
        self.raw(" id=\"")?.attr(id)?.raw("\"")
    }

    /// The underlying writer, for the script JSON.
    pub(super) fn writer(&mut self) -> &mut dyn Write {
        self.out
    }
}

fn escape(out: &mut dyn Write, text: &str, attribute: bool) -> io::Result<()> {
    let mut start = 0;
    for (index, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' if attribute => "&quot;",
            '\'' if attribute => "&#39;",
            '\0' => "\u{fffd}",
            // A raw CR would be read as a line feed; other C0 controls are
            // parse errors when raw. As references both keep their value.
            '\r' if attribute => "&#13;",
            c if attribute && c.is_ascii_control() && c != '\t' && c != '\n' => {
                out.write_all(&text.as_bytes()[start..index])?;
                write!(out, "&#{};", u32::from(c))?;
                start = index + c.len_utf8();
                continue;
            }
            _ => continue,
        };
        out.write_all(&text.as_bytes()[start..index])?;
        out.write_all(replacement.as_bytes())?;
        start = index + c.len_utf8();
    }
    out.write_all(&text.as_bytes()[start..])
}

/// An id as a URL fragment: what JavaScript's `encodeURI` keeps stays, `#`
/// and everything else is percent-encoded (UTF-8), so `#<fragment>` finds
/// the element whose id is `id` and `explorer.js` builds the same links.
pub(super) fn fragment(id: &str) -> String {
    const KEPT: &[u8] = b"-_.!~*'();/?:@&=+$,";
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || KEPT.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Compact JSON of `value` that is safe as the content of a script element.
pub(super) fn write_script_json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, ScriptFormatter);
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// serde_json's compact output with `<`, U+2028 and U+2029 escaped inside
/// strings, the only place JSON text can hold them.
struct ScriptFormatter;

impl serde_json::ser::Formatter for ScriptFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + Write,
    {
        let mut start = 0;
        for (index, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..index])?;
            writer.write_all(escaped.as_bytes())?;
            start = index + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(write: impl FnOnce(&mut Markup) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut Markup::new(&mut out)).unwrap_or_else(|error| panic!("{error}"));
        String::from_utf8(out).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn text_and_attributes_cannot_become_markup() {
        let hostile = "</script><img src=x onerror=\"alert(1)\">&amp; 'a'";
        assert_eq!(
            written(|m| m.text(hostile).map(drop)),
            "&lt;/script&gt;&lt;img src=x onerror=\"alert(1)\"&gt;&amp;amp; 'a'"
        );
        assert_eq!(
            written(|m| m.attr(hostile).map(drop)),
            "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp; &#39;a&#39;"
        );
        assert_eq!(
            written(|m| m.attr("a\r\nb\x07\0c\té").map(drop)),
            "a&#13;\nb&#7;\u{fffd}c\té"
        );
    }

    #[test]
    fn fragments_match_encode_uri() {
        assert_eq!(fragment("conversation_item:12"), "conversation_item:12");
        assert_eq!(
            fragment("edge:spawn:a/b?c=d&e"),
            "edge:spawn:a/b?c=d&e",
            "encodeURI keeps these"
        );
        assert_eq!(fragment("a b#c%d\"é"), "a%20b%23c%25d%22%C3%A9");
    }

    #[test]
    fn script_json_cannot_end_the_script_and_parses_back() {
        let hostile = "</script><!-- \u{2028}\u{2029} <b>";
        let mut out = Vec::new();
        write_script_json(&mut out, &serde_json::json!({ hostile: [hostile] }))
            .unwrap_or_else(|error| panic!("{error}"));
        let text = String::from_utf8(out).unwrap_or_else(|error| panic!("{error}"));
        assert!(!text.contains('<'), "{text}");
        assert!(
            !text.contains('\u{2028}') && !text.contains('\u{2029}'),
            "{text}"
        );
        assert_eq!(
            text,
            r#"{"\u003c/script>\u003c!-- \u2028\u2029 \u003cb>":["\u003c/script>\u003c!-- \u2028\u2029 \u003cb>"]}"#
        );
        let back: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(back, serde_json::json!({ hostile: [hostile] }));
    }
}
