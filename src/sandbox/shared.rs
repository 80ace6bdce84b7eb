//! What the sandbox's handlers share: its data, the record of what it was
//! asked, the Sigma tokens it handed out, and how it behaves beyond its
//! data (latency, faults, pacing).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::data::SandboxData;
use super::faults;

/// How the sandbox behaves, beyond its data.
#[derive(Debug, Clone)]
pub struct Options {
    /// Lifetime of Sigma access tokens (Sigma's is an hour).
    pub token_ttl: Duration,
    /// Refuse a Sigma access token after this many requests, whatever its
    /// lifetime says: a token revoked early, which only a 401 reveals.
    pub token_uses: Option<u32>,
    /// Added to every answer, as a network round trip would.
    pub latency: Duration,
    /// Faults injected into answers (switchable later with `set_faults`).
    pub faults: faults::Faults,
    /// For this long from the first request, every request is answered as
    /// Sigma's edge throttles: 429, an HTML page, no `Retry-After`.
    pub edge_throttle: Duration,
    /// Periscope lists answer in pages of this many, with `next_page_start`.
    pub page_size: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token_ttl: Duration::from_hours(1),
            token_uses: None,
            latency: Duration::ZERO,
            faults: faults::Faults::default(),
            edge_throttle: Duration::ZERO,
            page_size: None,
        }
    }
}

/// A token the emulated Sigma handed out.
pub(super) struct Grant {
    pub(super) org: String,
    pub(super) expires: Option<Instant>,
    pub(super) uses_left: Option<u32>,
}

/// One request the sandbox answered, for tests and `roster sandbox` logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// `test_mode` as sent: `None` when the request had none.
    pub test_mode: Option<String>,
    /// The Periscope site named by the auth header, the Sigma
    /// organisation the bearer token belongs to, or the SCIM service named
    /// in the path (never a credential).
    pub site: Option<String>,
    pub status: u16,
}

/// State shared by the handlers.
pub struct Shared {
    pub data: Mutex<SandboxData>,
    pub(super) log: Mutex<Vec<RequestRecord>>,
    pub(super) writes: AtomicU64,
    pub(super) options: Options,
    /// Sigma access and refresh tokens.
    pub(super) access: Mutex<HashMap<String, Grant>>,
    pub(super) refresh: Mutex<HashMap<String, Grant>>,
    pub(super) issued: AtomicU64,
    pub(super) faults: Mutex<faults::Faults>,
    /// Requests picked to have their answer lost or replaced.
    pub(super) meddles: Mutex<Vec<faults::Meddle>>,
    pub(super) rng: Mutex<fastrand::Rng>,
    /// When the first request arrived (the edge throttle's window starts).
    pub(super) first_request: std::sync::OnceLock<Instant>,
}

impl Shared {
    /// Handlers' shared state over `data`, behaving as `options` say.
    pub(super) fn new(data: SandboxData, options: Options) -> Self {
        let faults = options.faults;
        Shared {
            data: Mutex::new(data),
            log: Mutex::new(Vec::new()),
            writes: AtomicU64::new(0),
            options,
            access: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
            rng: Mutex::new(fastrand::Rng::with_seed(faults.seed)),
            faults: Mutex::new(faults),
            meddles: Mutex::new(Vec::new()),
            first_request: std::sync::OnceLock::new(),
        }
    }

    /// Periscope's page size, when lists answer in pages.
    pub fn page_size(&self) -> Option<usize> {
        self.options.page_size
    }

    pub(super) fn record_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// Issues an access and a refresh token for a Sigma organisation.
    pub(super) fn sigma_issue(&self, org: &str) -> (String, String, u64) {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let access = format!("sbx-access-{n:08}-{:x}", org.len() * 7919 + n as usize);
        let refresh = format!("sbx-refresh-{n:08}");
        self.access.lock().expect("sandbox lock").insert(
            access.clone(),
            Grant {
                org: org.to_string(),
                expires: Some(Instant::now() + self.options.token_ttl),
                uses_left: self.options.token_uses,
            },
        );
        self.refresh.lock().expect("sandbox lock").insert(
            refresh.clone(),
            Grant {
                org: org.to_string(),
                expires: None,
                uses_left: None,
            },
        );
        (access, refresh, self.options.token_ttl.as_secs())
    }

    /// The organisation of a valid access token, counting one use of it.
    pub(super) fn sigma_use(&self, token: &str) -> Option<String> {
        let mut grants = self.access.lock().expect("sandbox lock");
        let g = grants.get_mut(token)?;
        if g.expires.is_some_and(|e| Instant::now() >= e) || g.uses_left == Some(0) {
            return None;
        }
        if let Some(n) = g.uses_left.as_mut() {
            *n -= 1;
        }
        Some(g.org.clone())
    }

    /// The organisation a token was issued for, valid or not (for logs).
    pub(super) fn sigma_org_of(&self, token: &str) -> Option<String> {
        let grants = self.access.lock().expect("sandbox lock");
        grants.get(token).map(|g| g.org.clone())
    }

    /// Uses up a refresh token, returning its organisation.
    pub(super) fn sigma_refresh(&self, token: &str) -> Option<String> {
        self.refresh
            .lock()
            .expect("sandbox lock")
            .remove(token)
            .map(|g| g.org)
    }
}
