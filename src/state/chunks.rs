//! Cutting a large state file into pieces that parse on their own.
//!
//! The TOML parser holds every token of a file and then its whole tree: for
//! a file of 100,000 people that is about 350 MB at once. A state file is
//! mostly `[[users]]` and `[[groups]]` entries, and each entry, with the
//! sub-tables that follow it, means the same parsed alone as in the file. So
//! the file is cut just before such headers into pieces of at least
//! [`MIN_CHUNK_BYTES`], each parsed and deserialized, then dropped.
//!
//! Cutting is only ever an optimisation. The file is not cut when a piece
//! could mean something else alone: a key before the first header (such as
//! `users = [...]`, which later `[[users]]` may not extend), a `[users]` or
//! `[groups]` table, or a table header that appears twice (which TOML
//! forbids, but two pieces would not notice). Whoever parses the pieces
//! falls back to the whole file when any piece has a problem, so every
//! message is the one the whole file gets.

use std::collections::HashSet;
use std::ops::Range;

use toml_parser::Source;
use toml_parser::lexer::{Token, TokenKind};

/// Pieces smaller than this are not worth a parse of their own.
pub(super) const MIN_CHUNK_BYTES: usize = 64 * 1024;

/// Where to cut `text`: consecutive ranges covering it, or a single range
/// when it is small or must be parsed whole.
pub(super) fn chunks(text: &str, min_bytes: usize) -> Vec<Range<usize>> {
    let whole = std::iter::once(0..text.len()).collect();
    if text.len() < min_bytes.saturating_mul(2) {
        return whole;
    }
    let Some(cuts) = cut_points(text) else {
        return whole;
    };
    let mut ranges = Vec::new();
    let mut start = 0;
    for cut in cuts {
        if cut - start >= min_bytes {
            ranges.push(start..cut);
            start = cut;
        }
    }
    ranges.push(start..text.len());
    ranges
}

/// Byte offsets of the `[[users]]` and `[[groups]]` headers that start a
/// line outside any value, or None when the file must be parsed whole.
fn cut_points(text: &str) -> Option<Vec<usize>> {
    let mut cuts = Vec::new();
    let mut std_headers = HashSet::new();
    let mut seen_header = false;
    // Tokens of the current line (no whitespace or comments), and the
    // nesting of brackets and braces where the line began.
    let mut line: Vec<Token> = Vec::new();
    let mut depth: i64 = 0;
    let mut line_depth: i64 = 0;
    // None after the last token ends the last line.
    for token in Source::new(text).lex().map(Some).chain([None]) {
        match token.map(|t| t.kind()) {
            Some(TokenKind::Whitespace | TokenKind::Comment) => {}
            None | Some(TokenKind::Newline | TokenKind::Eof) => {
                if line_depth == 0 && !line.is_empty() {
                    match header(text, &line) {
                        Header::None if !seen_header => return None,
                        Header::None => {}
                        Header::Entry { start } => {
                            seen_header = true;
                            cuts.push(start);
                        }
                        Header::Other(name) => {
                            seen_header = true;
                            if let Some(name) = name
                                && !std_headers.insert(name)
                            {
                                return None;
                            }
                        }
                        Header::EntryTable => return None,
                    }
                }
                line.clear();
                line_depth = depth;
            }
            Some(kind) => {
                match kind {
                    TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
                    TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => depth -= 1,
                    _ => {}
                }
                line.extend(token);
            }
        }
    }
    Some(cuts)
}

/// What a line that starts outside any value is.
enum Header {
    /// A key: `name = value`.
    None,
    /// `[[users]]` or `[[groups]]`, starting at this offset.
    Entry { start: usize },
    /// `[users]` or `[groups]`: a table where an array of tables is meant.
    EntryTable,
    /// Another header; a plain table's name, to find repeats.
    Other(Option<String>),
}

fn header(text: &str, line: &[Token]) -> Header {
    use TokenKind::{LeftSquareBracket as Open, RightSquareBracket as Close};
    let raw = |t: &Token| unquote(&text[t.span().start()..t.span().end()]);
    if line.first().map(Token::kind) != Some(Open) {
        return Header::None;
    }
    let entry = |i: usize| matches!(raw(&line[i]), "users" | "groups");
    let kinds: Vec<TokenKind> = line.iter().map(Token::kind).collect();
    match kinds.as_slice() {
        [Open, Open, _, Close, Close] if entry(2) => Header::Entry {
            start: line[0].span().start(),
        },
        [Open, Open, ..] => Header::Other(None),
        [Open, _, Close] if entry(1) => Header::EntryTable,
        [Open, _, ..] if !entry(1) => Header::Other(Some(line[1..].iter().map(raw).collect())),
        [Open, ..] => Header::Other(None),
        _ => Header::None,
    }
}

fn unquote(raw: &str) -> &str {
    raw.trim_matches(|c| c == '"' || c == '\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        chunks(text, 1).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn cuts_before_each_entry_header_outside_values() {
        let text = "[sites.a]\nprovider = \"sigma\"\n\n[[users]]\nemail = \"a@x.com\"\n[users.overrides.a]\ngroups = [\n[\"x\"],\n]\n\n  [[ groups ]] # g\nname = \"\"\"\n[[users]]\n\"\"\"\n[[users]]\nemail = 'b'\n";
        assert_eq!(
            pieces(text),
            [
                "[sites.a]\nprovider = \"sigma\"\n\n",
                "[[users]]\nemail = \"a@x.com\"\n[users.overrides.a]\ngroups = [\n[\"x\"],\n]\n\n  ",
                "[[ groups ]] # g\nname = \"\"\"\n[[users]]\n\"\"\"\n",
                "[[users]]\nemail = 'b'\n",
            ]
        );
    }

    #[test]
    fn keeps_whole_what_pieces_could_misread() {
        for text in [
            // A top-level key before the first header.
            "users = []\n[[users]]\nemail = \"a\"\n",
            "sites.a.provider = \"sigma\"\n[[users]]\nemail = \"a\"\n",
            // `[users]` as a table.
            "[[users]]\nemail = \"a\"\n[users]\n",
            // A table header twice, even spelt differently.
            "[sites]\n[[users]]\nemail = \"a\"\n[ \"sites\" ]\n",
        ] {
            assert_eq!(pieces(text), [text], "{text}");
        }
    }

    #[test]
    fn the_shipped_people_files_are_cut_at_every_entry() {
        // tests/loader_fuzz.rs reads mutations of these files both whole
        // and in pieces; that comparison needs files that are cut.
        for text in [
            include_str!("../../state/people/data-team.toml"),
            include_str!("../../examples/sigma/people.toml"),
        ] {
            let entries = text
                .lines()
                .filter(|l| *l == "[[users]]" || *l == "[[groups]]")
                .count();
            assert!(entries > 3);
            assert_eq!(chunks(text, 1).len(), entries + 1, "{text}");
        }
    }

    #[test]
    fn small_files_are_one_piece() {
        let text = "[[users]]\nemail = \"a\"\n[[users]]\nemail = \"b\"\n";
        assert_eq!(chunks(text, MIN_CHUNK_BYTES).len(), 1);
        assert_eq!(chunks(text, 1).len(), 2);
    }

    #[test]
    fn pieces_are_at_least_the_minimum() {
        let entry = "[[users]]\nemail = \"a@example.com\"\n";
        let text = entry.repeat(100);
        let ranges = chunks(&text, 10 * entry.len());
        assert_eq!(ranges.len(), 10);
        assert!(ranges.iter().all(|r| r.len() == 10 * entry.len()));
    }
}
