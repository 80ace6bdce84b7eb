//! Sigma's OAuth client-credentials token (reference §1): fetched once,
//! cached for its lifetime, refreshed with the refresh token shortly before it
//! expires (a new token when refreshing fails), and replaced once after a 401.
//!
//! One lock guards the token, so however many requests find it expired at
//! once, one token request is made and the others wait for its result: a
//! burst of 401s cannot storm the token endpoint. A token request that meets
//! a 429, a 5xx or a lost connection fails the API request that needed it,
//! which is retried as a whole (`SigmaClient::send`), token and all.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::provider::error::{ProviderError, describe_transport, error_message};
use crate::secret::Secret;

/// Refresh this long before expiry (at most a tenth of the token's life).
const MARGIN: Duration = Duration::from_mins(1);

struct Token {
    access: Secret,
    refresh: Option<Secret>,
    expires_at: Instant,
    margin: Duration,
}

#[derive(Default)]
struct State {
    token: Option<Token>,
    /// Bumped each time a token is obtained; a 401 only invalidates the
    /// token it was sent with.
    generation: u64,
}

pub(super) struct Auth {
    http: reqwest::Client,
    url: url::Url,
    site: String,
    client_id: Secret,
    client_secret: Secret,
    /// Environment variables holding the credentials, for hints.
    envs: String,
    state: tokio::sync::Mutex<State>,
    /// The most bytes the token endpoint's answer may hold.
    max_response_bytes: u64,
}

impl Auth {
    pub(super) fn new(
        http: reqwest::Client,
        base: &url::Url,
        site: &str,
        client_id: Secret,
        client_secret: Secret,
        envs: String,
    ) -> Self {
        Auth {
            http,
            url: crate::provider::endpoint(base, "/v2/auth/token"),
            site: site.to_string(),
            client_id,
            client_secret,
            envs,
            state: tokio::sync::Mutex::new(State::default()),
            max_response_bytes: crate::provider::retry::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// This with answers bounded to `limit` bytes (the site's
    /// `max_response_bytes`).
    #[must_use]
    pub(super) fn with_max_response_bytes(self, limit: u64) -> Self {
        Auth {
            max_response_bytes: limit,
            ..self
        }
    }

    /// The secrets to scrub from any text shown to people: the client ID
    /// and secret, and the pair as HTTP Basic would carry it.
    pub(super) fn secrets(&self) -> [String; 3] {
        let (id, secret) = (self.client_id.expose(), self.client_secret.expose());
        [id.to_string(), secret.to_string(), format!("{id}:{secret}")]
    }

    /// A valid access token and its generation.
    pub(super) async fn bearer(&self) -> Result<(Secret, u64), ProviderError> {
        let mut state = self.state.lock().await;
        if let Some(t) = state
            .token
            .as_ref()
            .filter(|t| Instant::now() + t.margin < t.expires_at)
        {
            return Ok((t.access.clone(), state.generation));
        }
        let refresh = state.token.as_ref().and_then(|t| t.refresh.clone());
        let token = match refresh {
            Some(r) => match self
                .request(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", r.expose()),
                ])
                .await
            {
                Ok(t) => t,
                Err(_) => {
                    self.request(&[("grant_type", "client_credentials")])
                        .await?
                }
            },
            None => {
                self.request(&[("grant_type", "client_credentials")])
                    .await?
            }
        };
        state.generation += 1;
        let access = token.access.clone();
        state.token = Some(token);
        tracing::debug!(site = ?self.site, generation = state.generation, "sigma token obtained");
        Ok((access, state.generation))
    }

    /// The token of `generation` was refused: the next `bearer` gets a new one.
    pub(super) async fn refused(&self, generation: u64) {
        let mut state = self.state.lock().await;
        let current = state.generation == generation;
        if let Some(t) = state.token.as_mut().filter(|_| current) {
            t.expires_at = Instant::now();
        }
    }

    async fn request(&self, grant: &[(&str, &str)]) -> Result<Token, ProviderError> {
        let mut form: Vec<(&str, &str)> = grant.to_vec();
        form.push(("client_id", self.client_id.expose()));
        form.push(("client_secret", self.client_secret.expose()));
        let fail = |message: String| ProviderError::Transport {
            site: self.site.clone(),
            action: "get an API token".into(),
            object: String::new(),
            message,
        };
        let response = self
            .http
            .post(self.url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| fail(describe_transport(e)))?;
        let status = response.status();
        let asked_wait = crate::provider::retry::retry_after(response.headers());
        let bytes = crate::provider::retry::read_limited(response, self.max_response_bytes)
            .await
            .map_err(|e| {
                crate::provider::error::exchange_failed(
                    e,
                    &self.site,
                    (&reqwest::Method::POST, self.url.path()),
                    "get an API token",
                    "",
                )
            })?;
        if !status.is_success() {
            return Err(ProviderError::Http {
                site: self.site.clone(),
                action: "get an API token".into(),
                object: String::new(),
                status: status.as_u16(),
                message: if status.as_u16() == 429 || status.is_server_error() {
                    // Not the credentials' fault: the site is busy.
                    error_message(&bytes, &self.secrets())
                } else {
                    format!(
                        "{} (check the values of {} and the site's cloud or base_url)",
                        error_message(&bytes, &self.secrets()),
                        self.envs
                    )
                },
                retry_after: asked_wait,
            });
        }
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| ProviderError::Decode {
            site: self.site.clone(),
            action: "get an API token".into(),
            message: format!("not JSON: {e}"),
        })?;
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Decode {
                site: self.site.clone(),
                action: "get an API token".into(),
                message: "no access_token in the answer".into(),
            })?;
        let lifetime = Duration::from_secs(
            body.get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(3600),
        );
        Ok(Token {
            access: Secret::new(access),
            refresh: body
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(Secret::new),
            expires_at: Instant::now() + lifetime,
            margin: MARGIN.min(lifetime / 10),
        })
    }
}
