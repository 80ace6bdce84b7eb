//! Names that mix scripts (`Vi\u{435}wer`, with a Cyrillic `е`): they look
//! like another name and are not it. `roster validate` warns at their
//! place; the state stays valid (a name may mix scripts on purpose).

use toml::Spanned;
use unicode_security::MixedScript;

/// A name that mixes scripts, where it is written and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    /// `file:line:column` of the name.
    pub location: String,
    /// `group`, `account type`, `user attribute`, `workspace`,
    /// `connection`, `member_type`, `email`, `grantee` (a grant's email)
    pub what: &'static str,
    pub name: String,
}

/// Every declared name under `dir` (and each `member_type`, email and
/// grantee email) that mixes scripts.
pub(super) fn mixed_scripts(parsed: &super::load::Parsed) -> Vec<Lookalike> {
    let e = &parsed.entries;
    let names = e
        .groups
        .iter()
        .map(|g| (g.file, "group", &g.spec.name))
        .chain(e.kinds.names())
        .chain(e.users.iter().filter_map(|u| {
            u.spec
                .member_type
                .as_ref()
                .map(|m| (u.file, "member_type", m))
        }))
        .chain(e.users.iter().map(|u| (u.file, "email", &u.spec.email)))
        .chain(e.kinds.emails());
    let mut found = Vec::new();
    for (file, what, name) in names {
        if mixes(name) {
            let f = &parsed.files[file];
            let (line, column) = f.line_column(name.span().start);
            found.push(Lookalike {
                location: format!("{}:{line}:{column}", f.path.display()),
                what,
                name: name.get_ref().clone(),
            });
        }
    }
    found
}

fn mixes(name: &Spanned<String>) -> bool {
    // ASCII is Latin and characters every script shares (digits,
    // punctuation): one script, told without looking up each character.
    let name = name.get_ref().as_str();
    !name.is_ascii() && !name.is_single_script()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cyrillic_letter_in_a_latin_name_mixes_scripts_and_digits_do_not() {
        let s = |t: &str| Spanned::new(0..0, t.to_string());
        assert!(mixes(&s("Vi\u{435}wer")));
        assert!(!mixes(&s("Viewer")));
        assert!(!mixes(&s("Analysts 2 (EU)")));
        assert!(!mixes(&s("Финансы")));
        assert!(!mixes(&s("分析チーム")));
        assert!(!mixes(&s("ada.lovelace+bi@example.com")));
    }
}
