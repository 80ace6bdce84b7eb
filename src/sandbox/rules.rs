//! The emulator's own rules for what the platforms accept, written from the
//! references (`shared/reference/`), never taken from roster's client
//! (`state`, `model`, `provider`): were both to share a rule, a wrong
//! assumption about a platform could never show up in a test.

/// The longest address SMTP carries (RFC 5321 §4.5.3.1.3: a 256-octet
/// path, less its angle brackets).
const EMAIL_LIMIT: usize = 254;
/// The longest local part (RFC 5321 §4.5.3.1.1).
const LOCAL_LIMIT: usize = 64;
/// The longest domain label (RFC 1035 §2.3.4).
const LABEL_LIMIT: usize = 63;

/// Whether the platforms would take `email` as an address: Sigma's OpenAPI
/// marks member emails `format: email`; Periscope sends invitations to it.
/// The emulator reads that as RFC 5321's mailbox, unquoted (dot-atom, with
/// the letters of any script, as RFC 6531 allows), at a domain of two or
/// more labels.
pub fn is_email(email: &str) -> bool {
    if email.len() > EMAIL_LIMIT {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    is_local_part(local) && is_domain(domain)
}

/// A dot-atom: atoms of allowed characters joined by single dots.
fn is_local_part(local: &str) -> bool {
    local.len() <= LOCAL_LIMIT
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atom_char))
}

/// RFC 5322's atext, plus any non-ASCII character that is not a space or a
/// control (RFC 6531's UTF8-non-ascii).
fn is_atom_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
    } else {
        !c.is_whitespace() && !c.is_control()
    }
}

/// Two or more labels of letters, digits and inner hyphens; the last not
/// all digits.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| is_label(l))
        && !labels
            .last()
            .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= LABEL_LIMIT
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn addresses_as_the_references_read() {
        for good in [
            "ada@acme.com",
            "ADA.Lovelace+bi@mail.acme.co.uk",
            "jos\u{e9}@acme.com",
            "zo\u{eb}@caf\u{e9}.example",
            "o'brien@acme.com",
            "a@b.io",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "ada",
            "ada@",
            "@acme.com",
            "ada@acme",
            "ada@acme.",
            "ada@.acme.com",
            "ada@acme..com",
            "ada@-acme.com",
            "ada@10.0.0.1",
            ".ada@acme.com",
            "ada.@acme.com",
            "a..da@acme.com",
            "ada lovelace@acme.com",
            "ada@acme .com",
            "ada\n@acme.com",
            "\"ada\"@acme.com",
            "ada@acme.com\u{0}",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email(&format!("{}@acme.com", "a".repeat(65))));
        assert!(is_email(&format!("{}@acme.com", "a".repeat(64))));
    }
}
