//! Errors from talking to a platform. Each names the site, what was being
//! done to which object, and the HTTP status where there was one.

/// A failed request to a site.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("site `{site}`: {}: HTTP {status}: {message}", what(action, object))]
    Http {
        site: String,
        action: String,
        object: String,
        status: u16,
        /// The site's message, then what to check, if anything.
        message: String,
        /// What the site asked for in `Retry-After`.
        retry_after: Option<std::time::Duration>,
    },
    #[error("site `{site}`: {}: {message}", what(action, object))]
    Transport {
        site: String,
        action: String,
        object: String,
        message: String,
    },
    #[error("site `{site}`: {message}")]
    Unsupported { site: String, message: String },
    #[error("site `{site}`: {action}: the response could not be read: {message}")]
    Decode {
        site: String,
        action: String,
        message: String,
    },
    /// The answer was larger than the site allows; it was not read further.
    #[error(
        "site `{site}`: {}: the answer to {endpoint} is larger than the site's max_response_bytes ({limit} bytes); roster stopped reading it (raise max_response_bytes if the site's answers are that large)",
        what(action, object)
    )]
    TooLarge {
        site: String,
        action: String,
        object: String,
        /// The method and path, without the query.
        endpoint: String,
        limit: u64,
    },
    /// The answers read from the site add up to more than it allows.
    #[error(
        "site `{site}`: {}: the answers read from the site add up to more than {limit} bytes ({} times its max_response_bytes) at {endpoint}; roster stopped reading (a list that never ends? raise max_response_bytes if the site is that large)",
        what(action, object),
        crate::provider::retry::ANSWERS_IN_ALL
    )]
    TooMuchInAll {
        site: String,
        action: String,
        object: String,
        /// The method and path, without the query.
        endpoint: String,
        limit: u64,
    },
    /// The site's deadline passed before the request was answered.
    #[error(
        "site `{site}`: {}: gave up: the site's deadline_seconds ({seconds} s) passed before {endpoint} was answered (raise deadline_seconds if the site is that slow)",
        what(action, object)
    )]
    Deadline {
        site: String,
        action: String,
        object: String,
        endpoint: String,
        seconds: u64,
    },
    /// The site gave an object an ID that cannot be put in a URL path.
    #[error(
        "site `{site}`: the {kind} {object} has the ID {id:?}, which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the {kind} on the site)"
    )]
    UnusableId {
        site: String,
        /// What the object is (`user`, `group`, `team`...).
        kind: String,
        object: String,
        id: String,
    },
    /// The site gave two objects of one kind the same ID.
    #[error(
        "site `{site}`: the {kind} {first} and {second} have the same ID {id:?}: a request naming it could reach either, so none is sent (fix the site, or whatever stands between roster and it)"
    )]
    SharedId {
        site: String,
        /// What the objects are (`members`, `teams`, `workspaces`...).
        kind: String,
        first: String,
        second: String,
        id: String,
    },
    /// Never sent: the apply was interrupted before this change started.
    #[error("site `{site}`: not started: the apply was interrupted")]
    NotStarted { site: String },
}

/// `create user ada@acme.com`, or just `list users`. A very long name (a
/// live value) is shortened visibly, as every output shows one; escaping
/// is the printer's.
fn what(action: &str, object: &str) -> String {
    const SHOWN: usize = crate::escape::MAX_CHARS;
    if object.is_empty() {
        action.to_string()
    } else if let Some((cut, _)) = object.char_indices().nth(SHOWN) {
        let rest = object[cut..].chars().count();
        format!("{action} {}… (+{rest} chars)", &object[..cut])
    } else {
        format!("{action} {object}")
    }
}

impl ProviderError {
    /// Whether the site may have carried out the request although it failed:
    /// a 5xx, or no answer at all (a 429 was not carried out).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ProviderError::Http { status, .. } => *status >= 500,
            // A request under way when the deadline passed, or whose
            // answer was too large to read, may have been carried out.
            ProviderError::Transport { .. }
            | ProviderError::TooLarge { .. }
            | ProviderError::TooMuchInAll { .. }
            | ProviderError::Deadline { .. } => true,
            _ => false,
        }
    }

    /// What the site asked to wait before trying again.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ProviderError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the same request may succeed if sent again: 429, 5xx, or no
    /// answer at all.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Http { status, .. } => *status == 429 || *status >= 500,
            ProviderError::Transport { .. } => true,
            ProviderError::Decode { .. }
            | ProviderError::TooLarge { .. }
            | ProviderError::TooMuchInAll { .. }
            | ProviderError::Deadline { .. }
            | ProviderError::UnusableId { .. }
            | ProviderError::SharedId { .. }
            | ProviderError::Unsupported { .. }
            | ProviderError::NotStarted { .. } => false,
        }
    }

    /// Adds `note` to the message of an answer's error (a hint found after
    /// the answer was read).
    pub fn add_note(&mut self, note: &str) {
        if let ProviderError::Http { message, .. } = self {
            message.push_str(" (");
            message.push_str(note);
            message.push(')');
        }
    }

    /// The HTTP status, when the site answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProviderError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The error of a request (`method` `path`, for `action` on `object`)
/// that got no whole answer.
pub fn exchange_failed(
    e: super::retry::ExchangeError,
    site: &str,
    call: (&reqwest::Method, &str),
    action: &str,
    object: &str,
) -> ProviderError {
    use super::retry::ExchangeError;
    let (method, path) = call;
    let endpoint = format!("{method} {}", path.split('?').next().unwrap_or_default());
    let (site, action, object) = (site.to_string(), action.to_string(), object.to_string());
    match e {
        ExchangeError::Transport(e) => ProviderError::Transport {
            site,
            action,
            object,
            message: describe_transport(e),
        },
        ExchangeError::TooLarge { limit } => ProviderError::TooLarge {
            site,
            action,
            object,
            endpoint,
            limit,
        },
        ExchangeError::TooMuchInAll { limit } => ProviderError::TooMuchInAll {
            site,
            action,
            object,
            endpoint,
            limit,
        },
        ExchangeError::Deadline { deadline } => ProviderError::Deadline {
            site,
            action,
            object,
            endpoint,
            seconds: deadline.as_secs(),
        },
    }
}

/// A transport error without the URL (which may carry a query) or anything
/// else reqwest adds.
pub fn describe_transport(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_redirect() {
        "the site answered with a redirect, which roster does not follow with credentials".into()
    } else {
        let e = e.without_url();
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg = format!("{msg}: {s}");
            source = s.source();
        }
        msg
    }
}

/// The most of an error body that goes into a message.
const BODY_LIMIT: usize = 300;

/// The message in an error body: `{"error": "..."}`, `{"message": "..."}`,
/// `{"error": {"message": "..."}}`, or the text itself; truncated, and with
/// every secret the request carried removed.
pub fn error_message(body: &[u8], secrets: &[impl AsRef<str>]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => ["error", "message"]
            .iter()
            .find_map(|k| match v.get(k) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(inner @ serde_json::Value::Object(_)) => inner
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string),
                _ => None,
            })
            .unwrap_or_else(|| v.to_string()),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            html_summary(&text).unwrap_or_else(|| text.into_owned())
        }
    };
    // Scrubbed before whitespace is folded: a secret may hold a line break.
    let text = crate::provider::scrub::scrub(&text, secrets);
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > BODY_LIMIT {
        text = text.chars().take(BODY_LIMIT).collect::<String>() + "…";
    }
    if text.is_empty() {
        "(empty response body)".into()
    } else {
        text
    }
}

/// The most of an HTML page's title that goes into a message.
const TITLE_LIMIT: usize = 80;

/// An HTML page (an edge's or a proxy's error page, such as Cloudflare's
/// error 1015) said in a few words, never as its markup: `an HTML page
/// titled "..."`, with the Cloudflare error code when the page has one.
/// `None` when the text is not HTML.
fn html_summary(text: &str) -> Option<String> {
    // Offsets in `lower` are offsets in `text`: ASCII lower-casing keeps them.
    let lower = text.to_ascii_lowercase();
    if !(lower.trim_start().starts_with("<!doctype html") || lower.contains("<html")) {
        return None;
    }
    let title = lower
        .find("<title")
        .and_then(|start| {
            let open_end = start + lower[start..].find('>')? + 1;
            let close = open_end + lower[open_end..].find("</title")?;
            text.get(open_end..close)
        })
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    let mut summary = String::from("the site answered with an HTML page");
    if let Some(t) = title {
        let short: String = t.chars().take(TITLE_LIMIT).collect();
        let more = if t.chars().count() > TITLE_LIMIT {
            "…"
        } else {
            ""
        };
        summary = format!("{summary} titled \"{short}{more}\"");
    }
    if let Some(code) = cloudflare_code(&lower) {
        summary = format!("{summary} (Cloudflare error {code})");
    }
    Some(summary)
}

/// The number after "error code" (`Error code: 1015`, `error code 1015`).
fn cloudflare_code(lower: &str) -> Option<&str> {
    let at = lower.find("error code")? + "error code".len();
    let rest = lower[at..].trim_start_matches(|c: char| c == ':' || c.is_whitespace());
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    (end > 0 && end <= 6).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_are_summed_up_never_shown() {
        let page = "<!DOCTYPE html>\n<html><head><title>Access denied | api.example.com used Cloudflare to restrict access</title>\n<script>evil()</script></head><body><h1>Error 1015</h1><p>Error code: 1015</p><p>You are being rate limited</p></body></html>";
        assert_eq!(
            error_message(page.as_bytes(), &[""; 0]),
            "the site answered with an HTML page titled \"Access denied | api.example.com used Cloudflare to restrict access\" (Cloudflare error 1015)"
        );
        let indented = "\n  <!doctype html><html><head><TITLE>Slow Down</TITLE></head></html>";
        assert_eq!(
            error_message(indented.as_bytes(), &[""; 0]),
            "the site answered with an HTML page titled \"Slow Down\""
        );
        let untitled = "<html><body>\x1b[31m slow down</body></html>";
        assert_eq!(
            error_message(untitled.as_bytes(), &[""; 0]),
            "the site answered with an HTML page"
        );
        let long = format!("<html><title>{}</title></html>", "t".repeat(500));
        assert!(error_message(long.as_bytes(), &[""; 0]).chars().count() < 130);
        // Not HTML: the text, as before.
        assert_eq!(
            error_message(b"plain <b>text</b>", &[""; 0]),
            "plain <b>text</b>"
        );
    }

    #[test]
    fn reads_common_error_shapes_and_scrubs_secrets() {
        assert_eq!(error_message(br#"{"error":"nope"}"#, &[""; 0]), "nope");
        assert_eq!(
            error_message(br#"{"message":"Duplicate record"}"#, &[""; 0]),
            "Duplicate record"
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"deep"}}"#, &[""; 0]),
            "deep"
        );
        assert_eq!(
            error_message(b"bad key s3cr3t here", &["s3cr3t"]),
            "bad key [redacted] here"
        );
        assert_eq!(error_message(b"", &[""; 0]), "(empty response body)");
        let long = "x".repeat(1000);
        assert!(error_message(long.as_bytes(), &[""; 0]).chars().count() <= BODY_LIMIT + 1);
    }
}
