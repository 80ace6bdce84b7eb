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
    /// Never sent: the apply was interrupted before this change started.
    #[error("site `{site}`: not started: the apply was interrupted")]
    NotStarted { site: String },
}

/// `create user ada@acme.com`, or just `list users`. A very long name (a
/// live value) is shortened visibly, as every output shows one; escaping
/// is the printer's.
fn what(action: &str, object: &str) -> String {
    const SHOWN: usize = crate::render::escape::MAX_CHARS;
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
            ProviderError::Transport { .. } => true,
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
            | ProviderError::Unsupported { .. }
            | ProviderError::NotStarted { .. } => false,
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
pub fn error_message(body: &[u8], secrets: &[&str]) -> String {
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
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(s, "[redacted]");
    }
    if text.chars().count() > BODY_LIMIT {
        text = text.chars().take(BODY_LIMIT).collect::<String>() + "…";
    }
    if text.is_empty() {
        "(empty response body)".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_error_shapes_and_scrubs_secrets() {
        assert_eq!(error_message(br#"{"error":"nope"}"#, &[]), "nope");
        assert_eq!(
            error_message(br#"{"message":"Duplicate record"}"#, &[]),
            "Duplicate record"
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"deep"}}"#, &[]),
            "deep"
        );
        assert_eq!(
            error_message(b"bad key s3cr3t here", &["s3cr3t"]),
            "bad key [redacted] here"
        );
        assert_eq!(error_message(b"", &[]), "(empty response body)");
        let long = "x".repeat(1000);
        assert!(error_message(long.as_bytes(), &[]).chars().count() <= BODY_LIMIT + 1);
    }
}
