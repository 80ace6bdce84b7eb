//! How a string from a live site or a state file is shown, in every output.
//!
//! One rule: nothing a value holds can act on the reader's terminal or on
//! the markdown around it. Control characters (C0, DEL, C1), line and
//! paragraph separators, bidi controls and zero-width characters are shown
//! as escapes (`\n`, `\x1b`, `\u{202e}`), a backslash as `\\`, so a value
//! always stays on its own line and reads the same everywhere; a value
//! not in Unicode NFC has its combining marks shown as escapes too
//! (`cafe\u{301}`), so two spellings that look alike never read alike; a
//! value longer than [`MAX_CHARS`] is shortened, visibly (`… (+99,800
//! chars)`).
//! Markdown outside code blocks also has HTML, mentions, links and table
//! pipes neutralised ([`markdown`]); a code block gets a fence longer than
//! any backtick run in it ([`fence`]). JSON needs none of this: it carries
//! values whole, escaped by `serde_json`.

use std::fmt::{self, Write};

/// Characters of a value shown before it is shortened.
pub const MAX_CHARS: usize = 200;

/// Whether `c` is shown as an escape rather than as itself: a control,
/// bidi, zero-width or line-separator character (and the backslash).
pub fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL, C1
        || matches!(
            c,
            '\\'
            | '\u{061C}'                       // Arabic letter mark
            | '\u{180E}'                       // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'          // zero-width space/(non-)joiner, LRM, RLM
            | '\u{2028}' | '\u{2029}'          // line and paragraph separators
            | '\u{202A}'..='\u{202E}'          // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'          // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'          // bidi isolates
            | '\u{FEFF}'                       // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

fn push_escaped(out: &mut impl Write, c: char, quote: bool, marks: bool) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        '\\' => out.write_str("\\\\"),
        '"' if quote => out.write_str("\\\""),
        c if (c as u32) < 0x80 && needs_escape(c) => write!(out, "\\x{:02x}", c as u32),
        c if needs_escape(c) || (marks && unicode_normalization::char::is_combining_mark(c)) => {
            write!(out, "\\u{{{:x}}}", c as u32)
        }
        c => out.write_char(c),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn write_value(out: &mut impl Write, s: &str, quote: bool, limit: Option<usize>) -> fmt::Result {
    // A decomposed spelling (`e` + U+0301) looks like the composed one:
    // its marks are shown, so a rename between the two reads as one.
    let marks = !s.is_ascii() && !unicode_normalization::is_nfc(s);
    let mut chars = s.chars();
    for (shown, c) in chars.by_ref().enumerate() {
        if limit.is_some_and(|l| shown == l) {
            let rest = 1 + chars.count();
            if quote {
                out.write_char('"')?;
            }
            return write!(out, "… (+{} chars)", thousands(rest));
        }
        push_escaped(out, c, quote, marks)?;
    }
    if quote {
        out.write_char('"')?;
    }
    Ok(())
}

/// A value shown on a line of text, escaped and shortened: `Display` it.
pub struct Text<'a>(pub &'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(f, self.0, false, Some(MAX_CHARS))
    }
}

/// A value escaped but never shortened (messages that must stay whole,
/// such as an error a site sent): `Display` it.
pub struct Visible<'a>(pub &'a str);

impl fmt::Display for Visible<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value(f, self.0, false, None)
    }
}

/// A value escaped and shortened, for a line of text.
pub fn text(s: &str) -> String {
    Text(s).to_string()
}

/// A value escaped, never shortened.
pub fn visible(s: &str) -> String {
    Visible(s).to_string()
}

/// A whole message for a terminal (standard error): values, file names
/// and keys inside it may hold anything, so every character [`needs_escape`]
/// names is escaped, except the message's own line breaks and tabs and
/// the backslash (escapes already in it stay as they are).
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let acts = |c: char| !matches!(c, '\\' | '\n' | '\t') && needs_escape(c);
    if !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            let _ = push_escaped(&mut out, c, false, false);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A value in double quotes, with `"` escaped too, shortened after the
/// closing quote: `"Ada"`, `"a\"b"`, `"xxx…"… (+99,800 chars)`.
pub fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    let _ = write_value(&mut out, s, true, Some(MAX_CHARS));
    out
}

/// Whether `quoted`/`text` would shorten `s`.
pub fn is_long(s: &str) -> bool {
    s.chars().nth(MAX_CHARS).is_some()
}

/// A value (or a message holding values) for markdown outside a code block:
/// escaped and shortened as in text, then HTML-escaped, with mentions,
/// links, autolinks, emphasis and table pipes made inert.
pub fn markdown(s: &str) -> String {
    markdown_inline(&text(s))
}

/// HTML and markdown syntax in an already visible string made inert. Each
/// special character becomes a numeric character reference, which markdown
/// shows as the character and never reads as syntax (HTML, links, code
/// spans, `*` and `~` emphasis, table pipes; `_` is left, as in site and
/// group names, where at worst it emphasises a word); `@`, the `:` of `://` and the `.` of
/// `www.` are followed by a zero-width space reference so that no mention,
/// email, URL or `www.` autolink can form.
fn markdown_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '@' => out.push_str("&#64;&#8203;"),
            ':' if chars.peek() == Some(&'/') => out.push_str("&#58;&#8203;"),
            '.' if ends_with_www(&out) => out.push_str("&#46;&#8203;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' | '|' | '[' | ']' | '`' | '*' | '~' | '\\' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn ends_with_www(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[b.len() - 3..].eq_ignore_ascii_case(b"www")
}

/// A code fence for `body`: backticks, one more than the longest run of
/// backticks in it, and at least three, so nothing in it can close it.
pub fn fence(body: &str) -> String {
    let mut longest = 0usize;
    let mut run = 0usize;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// `s` cut to at most `max` characters, visibly: for a line already made
/// visible (escaped) whose whole length must be bounded.
pub fn shorten_line(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!(
            "{}… (+{} chars)",
            &s[..at],
            thousands(s[at..].chars().count())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_are_made_visible() {
        let cases = [
            ("Ada", "Ada"),
            ("a\nb\rc\td", "a\\nb\\rc\\td"),
            ("\u{1b}[2J\u{8}\u{7f}", "\\x1b[2J\\x08\\x7f"),
            ("\u{85}\u{9b}", "\\u{85}\\u{9b}"),
            ("evil\u{202e}gpj.exe", "evil\\u{202e}gpj.exe"),
            (
                "a\u{200b}\u{200d}\u{2060}\u{feff}b",
                "a\\u{200b}\\u{200d}\\u{2060}\\u{feff}b",
            ),
            (
                "\u{2066}x\u{2069}\u{200e}\u{200f}\u{61c}",
                "\\u{2066}x\\u{2069}\\u{200e}\\u{200f}\\u{61c}",
            ),
            ("\u{2028}", "\\u{2028}"),
            ("back\\slash", "back\\\\slash"),
            ("José Ünïcødé 日本", "José Ünïcødé 日本"),
        ];
        for (raw, shown) in cases {
            assert_eq!(text(raw), shown, "{raw:?}");
            assert_eq!(visible(raw), shown, "{raw:?}");
        }
        assert_eq!(quoted("a\"b\n"), "\"a\\\"b\\n\"");
    }

    #[test]
    fn long_values_are_shortened_visibly() {
        let long = "x".repeat(100_000);
        let shown = text(&long);
        assert_eq!(shown, format!("{}… (+99,800 chars)", "x".repeat(200)));
        assert_eq!(
            quoted(&long),
            format!("\"{}\"… (+99,800 chars)", "x".repeat(200))
        );
        assert_eq!(visible(&long), long);
        assert_eq!(text(&"y".repeat(200)), "y".repeat(200));
        assert!(!is_long(&"y".repeat(200)) && is_long(&"y".repeat(201)));
        assert_eq!(shorten_line("abcdef", 4), "abcd… (+2 chars)");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn markdown_has_no_html_mention_link_or_pipe() {
        let shown =
            markdown("<img src=x> [link](http://x) @octocat a|b </details><!-- `x` www.x.com");
        for raw in ["<", ">", "[", "](", "@o", "://", "|", "`", "<!--", "www."] {
            assert!(!shown.contains(raw), "{raw} in {shown}");
        }
        assert_eq!(markdown("Ada & co"), "Ada &amp; co");
        assert_eq!(markdown("a\nb"), "a&#92;nb", "a newline is shown as \\n");
    }

    #[test]
    fn a_fence_outlasts_every_backtick_run() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ``` b"), "````");
        assert_eq!(fence("`````"), "``````");
    }
}
