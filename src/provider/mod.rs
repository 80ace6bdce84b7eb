//! Platforms roster manages. Each provider reads a site's live state and
//! carries out planned changes; `Client` dispatches to the right one.

pub mod error;
pub mod ids;
pub mod lenient;
pub mod periscope;
pub mod retry;
pub mod scim;
// See the note on `unreachable_pub` in lib.rs.
#[allow(
    unreachable_pub,
    clippy::case_sensitive_file_extension_comparisons,
    clippy::duration_suboptimal_units,
    clippy::struct_field_names
)]
pub mod sigma;

use std::time::Duration;

use futures::StreamExt;

pub use error::ProviderError;
pub use ids::SiteIds;

use crate::interrupt::SiteGate;
use crate::model::{Credentials, LiveSite, Site};
use crate::plan::Change;

/// How hard a client may press a site.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Requests under way at once (fewer while the site answers 429).
    pub concurrency: usize,
    /// Requests started per second, when the site sets a budget.
    pub per_second: Option<f64>,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            concurrency: 16,
            per_second: None,
        }
    }
}

/// Whether a write really changes the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Real,
    /// Sent with the platform's server-side test mode: checked, not saved.
    TestMode,
}

/// A connection to one site.
pub enum Client {
    Periscope(Box<periscope::PeriscopeClient>),
    Sigma(Box<sigma::SigmaClient>),
}

impl Client {
    /// `base_url` overrides the site's own (to reach the sandbox).
    pub fn new(
        site: &Site,
        credentials: Credentials,
        base_url: Option<&url::Url>,
        pacing: Pacing,
    ) -> Result<Client, ProviderError> {
        let pacing = Pacing {
            per_second: site.max_requests_per_second.or(pacing.per_second),
            ..pacing
        };
        let base = base_url.unwrap_or(&site.base_url);
        match credentials {
            Credentials::Periscope { api_key } => {
                periscope::PeriscopeClient::new(site, api_key, base, pacing)
                    .map(|c| Client::Periscope(Box::new(c)))
            }
            Credentials::Sigma {
                client_id,
                client_secret,
            } => sigma::SigmaClient::new(site, client_id, client_secret, base, pacing)
                .map(|c| Client::Sigma(Box::new(c))),
        }
    }

    /// Whether the platform can check a write without making it.
    pub fn has_test_mode(&self) -> bool {
        matches!(self, Client::Periscope(_))
    }

    pub async fn fetch(&self) -> Result<LiveSite, ProviderError> {
        match self {
            Client::Periscope(c) => c.fetch().await,
            Client::Sigma(c) => c.fetch().await,
        }
    }

    /// Reads what each member a plan deactivates owns, for the plan to
    /// say (Sigma: documents and schedules); only those members are read.
    pub async fn deactivation_context(&self, changes: &mut [Change]) -> Result<(), ProviderError> {
        let Client::Sigma(c) = self else {
            return Ok(());
        };
        let wanted: Vec<(usize, String)> = changes
            .iter()
            .enumerate()
            .filter_map(|(i, change)| match change {
                Change::DeactivateUser { id: Some(id), .. } => Some((i, id.clone())),
                _ => None,
            })
            .collect();
        let read = run_all(wanted.iter().map(|(_, id)| c.owned(id)), 8).await;
        for ((i, _), owned) in wanted.into_iter().zip(read) {
            if let Change::DeactivateUser { owns, .. } = &mut changes[i] {
                *owns = Some(owned?);
            }
        }
        Ok(())
    }

    /// Carries out the changes of one step of a site's plan (they do not
    /// depend on each other), at most `concurrency` requests at once.
    /// Results are in the order of `changes`. `ids` are the site's, read
    /// with the live state the plan was made from; writes add what they
    /// learn (a team created in one step is joined in the next).
    pub async fn apply_step(
        &self,
        changes: &[&Change],
        mode: WriteMode,
        concurrency: usize,
        gate: SiteGate<'_>,
        ids: &std::sync::Mutex<SiteIds>,
    ) -> Vec<Result<(), ProviderError>> {
        match self {
            Client::Periscope(c) => {
                run_all(
                    changes
                        .iter()
                        .map(|change| gated(gate, change, c.apply(change, mode))),
                    concurrency,
                )
                .await
            }
            Client::Sigma(c) => c.apply_step(changes, concurrency, gate, ids).await,
        }
    }
}

/// Runs `send` (one change's requests) if `gate` still lets changes start;
/// otherwise the change is not started.
pub async fn gated(
    gate: SiteGate<'_>,
    change: &Change,
    send: impl Future<Output = Result<(), ProviderError>>,
) -> Result<(), ProviderError> {
    match gate.start(change) {
        Some(_under_way) => send.await,
        None => Err(ProviderError::NotStarted {
            site: gate.site_name().to_string(),
        }),
    }
}

/// Runs `tasks`, up to `concurrency` at a time, and gives their results in
/// the order of `tasks`. A new task starts as soon as any running one ends:
/// one slow answer never holds the others' slots.
pub async fn run_all<T>(
    tasks: impl IntoIterator<Item = impl Future<Output = T>>,
    concurrency: usize,
) -> Vec<T> {
    let mut results: Vec<(usize, T)> = futures::stream::iter(
        tasks
            .into_iter()
            .enumerate()
            .map(|(i, task)| async move { (i, task.await) }),
    )
    .buffer_unordered(concurrency.max(1))
    .collect()
    .await;
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Characters escaped in a path segment: all but RFC 3986's unreserved ones
/// (ALPHA / DIGIT / "-" / "." / "_" / "~", never encoded). Sub-delims are
/// escaped too, though pchar allows them: `+`, `;` and `&` mean something to
/// some servers, and escaping data characters is always allowed.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A name or ID made safe to put in a URL path as one segment.
pub fn path_segment(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, SEGMENT).to_string()
}

/// The URL of `path` (an API path, segments already made safe with
/// [`path_segment`], and maybe a query) on the API at `base`. The URL is
/// built from its parts, never by joining text: `base`'s scheme, host and
/// port are kept whatever `path` holds, its path segments come first, then
/// those of `path`, and `path`'s query replaces none of them.
pub fn endpoint(base: &url::Url, path: &str) -> url::Url {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let segments: Vec<&str> = base
        .path_segments()
        .into_iter()
        .flatten()
        .chain(path.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    let mut url = base.clone();
    url.set_path(&segments.join("/"));
    url.set_query(query);
    url.set_fragment(None);
    url
}

/// Said of a 3xx answer, which is never followed.
pub const REDIRECT_HINT: &str = " (the site redirects elsewhere; roster never follows a redirect with credentials: check base_url)";

/// The HTTP client every provider uses for `site`: rustls, timeouts, and no
/// redirects (a redirect would carry credentials to another host).
pub fn http_client(site: &str) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_mins(1))
        .build()
        .map_err(|e| ProviderError::Transport {
            site: site.to_string(),
            action: "set up".into(),
            object: "the HTTP client".into(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::{path_segment, run_all};

    #[test]
    fn path_segments_escape_all_but_the_unreserved_characters() {
        let cases = [
            ("dd8a16db-0d3b-4e1f", "dd8a16db-0d3b-4e1f"),
            ("a.b_c~d", "a.b_c~d"),
            ("Data Team", "Data%20Team"),
            ("a/b", "a%2Fb"),
            ("é", "%C3%A9"),
            ("50%", "50%25"),
            ("a?b#c", "a%3Fb%23c"),
            ("R&D+1", "R%26D%2B1"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(path_segment(raw), encoded, "{raw}");
            let back = percent_encoding::percent_decode_str(encoded).decode_utf8();
            assert_eq!(back.unwrap(), raw);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_all_keeps_every_slot_busy_and_the_order() {
        // Task 0 is slow; the others are quick. With two slots, the quick
        // ones all run in the second slot while task 0 runs in the first.
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let tasks = (0..5u64).map(|i| {
            let (running, most) = (&running, &most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let ms = if i == 0 { 100 } else { 10 };
                tokio::time::sleep(Duration::from_millis(ms)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i
            }
        });
        assert_eq!(run_all(tasks, 2).await, [0, 1, 2, 3, 4]);
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // In order (`buffered`), tasks 2.. would wait for task 0: 100 ms + 10.
        assert_eq!(started.elapsed(), Duration::from_millis(100));
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::{endpoint, path_segment};

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn the_base_path_is_kept_and_the_request_path_follows_it() {
        for base in ["https://h.example", "https://h.example/"] {
            assert_eq!(
                endpoint(&url(base), "/api/v1/users").as_str(),
                "https://h.example/api/v1/users"
            );
        }
        for base in ["https://h.example/proxy", "https://h.example/proxy/"] {
            assert_eq!(
                endpoint(&url(base), "/v2/members?limit=2&page=x").as_str(),
                "https://h.example/proxy/v2/members?limit=2&page=x"
            );
        }
    }

    #[test]
    fn nothing_in_the_path_changes_the_host() {
        let base = url("https://h.example:8443/api");
        for path in ["//evil.example/x", "/@evil.example", "/x#y", "/x?y=1#z"] {
            let u = endpoint(&base, path);
            assert_eq!(u.host_str(), Some("h.example"), "{path}");
            assert_eq!(u.port(), Some(8443), "{path}");
            assert!(u.path().starts_with("/api/"), "{path}: {u}");
        }
    }

    #[test]
    fn encoded_segments_are_sent_as_they_are() {
        let path = format!("/v2/teams/{}", path_segment("a/b?c#d%"));
        assert_eq!(
            endpoint(&url("https://h.example"), &path).as_str(),
            "https://h.example/v2/teams/a%2Fb%3Fc%23d%25"
        );
    }
}
