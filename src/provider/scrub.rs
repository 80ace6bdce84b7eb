//! Removes secrets from text a site sent back. A site may echo what roster
//! sent in any form: the raw value, form- or percent-encoded (as in a
//! request body), base64 (as in an auth header), JSON-escaped, or in another
//! letter case. Every one of these forms is replaced by `[redacted]`.
//!
//! Each secret becomes one regular expression (linear in the text's size):
//! per character, the character itself or any of its escapes; or, as a
//! whole, one of its base64 encodings.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use regex::{Regex, RegexBuilder};
use std::fmt::Write as _;

/// What a secret is replaced by.
pub const REDACTED: &str = "[redacted]";

/// What the whole text becomes when a secret is too long to look for.
const WITHHELD: &str = "(the answer was withheld: it could not be checked for secrets)";

/// The shortest run of base64 characters looked for inside a longer encoding
/// (shorter runs would hide unrelated text).
const MIN_B64_CORE: usize = 8;

/// `text` with every form of every secret replaced by [`REDACTED`]. Pass
/// also the values roster sends that hold a secret (an auth header's
/// `site:key`), so their base64 is looked for whole.
pub fn scrub(text: &str, secrets: &[impl AsRef<str>]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().map(AsRef::as_ref).filter(|s| !s.is_empty()) {
        match pattern(secret) {
            Some(re) => text = re.replace_all(&text, REDACTED).into_owned(),
            None => return WITHHELD.to_string(),
        }
    }
    text
}

/// One expression matching every form of `secret`, letter case ignored.
fn pattern(secret: &str) -> Option<Regex> {
    let mut whole = base64_forms(secret);
    // Its bytes in hex, as a logging layer may dump a request.
    whole.push(secret.bytes().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    }));
    whole.sort_by_key(|f| std::cmp::Reverse(f.len()));
    whole.dedup();
    let alternatives: Vec<String> = whole
        .iter()
        .map(|f| regex::escape(f))
        .chain(std::iter::once(secret.chars().map(char_forms).collect()))
        .collect();
    RegexBuilder::new(&alternatives.join("|"))
        .case_insensitive(true)
        .build()
        .ok()
}

/// A group matching `c` as written or escaped: percent-encoded (any case of
/// hex, also encoded again: `%252F`), `+` or whitespace for a space, and
/// JSON's `\"` `\\` `\/` `\n`... and `\uXXXX`.
fn char_forms(c: char) -> String {
    let mut forms = vec![regex::escape(&c.to_string())];
    let mut utf8 = [0; 4];
    let mut percent = String::new();
    for b in c.encode_utf8(&mut utf8).bytes() {
        let _ = write!(percent, "%(?:25)*{b:02X}");
    }
    forms.push(percent);
    let mut units = [0; 2];
    let mut json = String::new();
    for u in c.encode_utf16(&mut units).iter() {
        let _ = write!(json, "\\\\u{u:04X}");
    }
    forms.push(json);
    // An HTML character reference, decimal or hex (`&#83;`, `&#x53;`).
    forms.push(format!("&#0*{};|&#x0*{:X};", u32::from(c), u32::from(c)));
    match c {
        ' ' => forms.extend([r"\+".to_string(), r"\s+".to_string()]),
        '"' | '\\' | '/' => forms.push(regex::escape(&format!("\\{c}"))),
        '\n' => forms.push(r"\\n".to_string()),
        '\r' => forms.push(r"\\r".to_string()),
        '\t' => forms.push(r"\\t".to_string()),
        _ => {}
    }
    format!("(?:{})", forms.join("|"))
}

/// `secret` in base64, standard and URL-safe, with and without padding; and
/// the part of its encoding that does not depend on what comes before or
/// after it, at each of the three alignments, so the secret is also found
/// inside a longer encoded value (`site:key` in an auth header).
fn base64_forms(secret: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for engine in [STANDARD, URL_SAFE] {
        let full = engine.encode(secret);
        forms.push(full.trim_end_matches('=').to_string());
        forms.push(full);
        for shift in 0..3usize {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = engine.encode(&bytes);
            let start = (8 * shift).div_ceil(6);
            let end = 8 * bytes.len() / 6;
            if let Some(core) = encoded.get(start..end).filter(|c| c.len() >= MIN_B64_CORE) {
                forms.push(core.to_string());
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t/Plus+Eq=";

    fn hidden(text: &str) {
        let out = scrub(text, &[SECRET]);
        assert!(out.contains(REDACTED), "{text} -> {out}");
        for leak in ["s3cr3t", "S3CR3T", "czNjcjN0"] {
            assert!(!out.contains(leak), "{text} -> {out}");
        }
    }

    #[test]
    fn raw_and_other_letter_case() {
        hidden("bad s3cr3t/Plus+Eq= here");
        hidden("BAD S3CR3T/PLUS+EQ= HERE");
    }

    #[test]
    fn form_urlencoded_and_percent_encoded() {
        hidden("client_secret=s3cr3t%2FPlus%2BEq%3D&x=1");
        hidden("CLIENT_SECRET=S3CR3T%2FPLUS%2BEQ%3D");
        hidden("s3cr3t%2fPlus%2bEq%3d");
        hidden("s3cr3t%252FPlus%252BEq%253D");
        hidden("%73%33%63%72%33%74%2F%50%6C%75%73%2B%45%71%3D");
        assert_eq!(scrub("k=a+b%21", &["a b!"]), "k=[redacted]");
        assert_eq!(scrub("k=a%20b!", &["a b!"]), "k=[redacted]");
    }

    #[test]
    fn base64_standard_and_url_safe_with_and_without_padding() {
        for engine in [STANDARD, URL_SAFE] {
            let full = engine.encode(SECRET);
            hidden(&full);
            hidden(full.trim_end_matches('='));
            hidden(&full.to_ascii_lowercase());
        }
    }

    #[test]
    fn base64_of_a_longer_value_holding_the_secret() {
        for prefix in ["", "a:", "ab:", "abc:"] {
            let header = STANDARD.encode(format!("{prefix}{SECRET}"));
            let out = scrub(&format!("Basic {header}"), &[SECRET]);
            assert!(out.contains(REDACTED), "{prefix}: {out}");
            assert!(
                !out.contains(&header[header.len() - 8..]),
                "{prefix}: {out}"
            );
        }
    }

    #[test]
    fn hex_and_html_character_references() {
        /// `SECRET` with each byte or character written by `form`.
        fn each<T>(items: impl Iterator<Item = T>, form: impl Fn(T) -> String) -> String {
            items.map(form).collect::<Vec<_>>().concat()
        }
        let hex = each(SECRET.bytes(), |b| format!("{b:02x}"));
        hidden(&hex);
        hidden(&hex.to_ascii_uppercase());
        hidden(&each(SECRET.chars(), |c| format!("&#{};", u32::from(c))));
        hidden(&each(SECRET.chars(), |c| format!("&#x{:x};", u32::from(c))));
    }

    #[test]
    fn json_escaped() {
        hidden(r#"{"echo":"s3cr3t\/Plus+Eq="}"#);
        hidden(r"s3cr3t\u002fPlus\u002BEq\u003D");
        assert_eq!(scrub(r#"x a\"b\\c y"#, &[r#"a"b\c"#]), "x [redacted] y");
    }

    #[test]
    fn other_text_is_kept_and_empty_secrets_ignored() {
        assert_eq!(
            scrub("nothing secret here", &[SECRET, ""]),
            "nothing secret here"
        );
    }

    #[test]
    fn time_is_linear_in_the_text() {
        let text = "s3cr3t/Plus+Eq".repeat(20_000);
        let started = std::time::Instant::now();
        let out = scrub(&text, &[SECRET]);
        assert!(!out.contains(REDACTED));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
