//! Requests to Superset's security API (`/api/v1/security/...`): signing
//! in for a bearer token and renewing it, sending with the retries that are
//! safe, and reading users and groups page by page (rison `q=(page:N,
//! page_size:M)`, pages from 0). What the API does is written down, as
//! verified on 6.1.0, in `scripts/superset-server`.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use super::settings::AuthProvider;
use super::wire;
use crate::model::email_key;
use crate::provider::error::{ProviderError, error_message};
use crate::provider::retry::{Pacer, Purpose, RetryPolicy};
use crate::provider::{Pacing, check_path, endpoint, http_client};
use crate::secret::Secret;

/// Items asked for per page: Flask-AppBuilder's `FAB_API_MAX_PAGE_SIZE`
/// (100 by default) caps it.
pub(super) const PAGE_SIZE: usize = 100;
/// The most pages one list may take before roster stops reading it (a list
/// that never ends): ten million objects.
const MAX_PAGES: usize = 100_000;

pub(super) const USERS: &str = "/api/v1/security/users/";
pub(super) const GROUPS: &str = "/api/v1/security/groups/";
pub(super) const ROLES: &str = "/api/v1/security/roles/";
const LOGIN: &str = "/api/v1/security/login";
const REFRESH: &str = "/api/v1/security/refresh";

/// The account roster signs in with.
pub struct Login {
    pub username: Secret,
    pub password: Secret,
    /// Where the password comes from, for the hint after a refusal.
    pub password_from: String,
    pub auth_provider: AuthProvider,
}

/// The tokens of a sign-in: the bearer token sent with each request and
/// the refresh token that renews it; `generation` counts sign-ins and
/// renewals, so two requests refused at once renew it only once.
struct Session {
    access: Secret,
    refresh: Option<Secret>,
    generation: u64,
}

pub struct SupersetClient {
    http: reqwest::Client,
    base: url::Url,
    /// The site's name in the state, used in every error.
    pub(super) name: String,
    login: Login,
    session: tokio::sync::Mutex<Option<Session>>,
    pacer: Pacer,
    retry: RetryPolicy,
}

/// One request, described for errors.
pub(super) struct Call<'a> {
    pub method: Method,
    /// The path under the base URL, segments escaped, maybe a query.
    pub path: String,
    pub action: &'a str,
    pub object: &'a str,
    pub body: Option<Value>,
    /// How to tell, after a failure, whether an earlier try took effect.
    pub effect: Effect<'a>,
}

impl<'a> Call<'a> {
    pub(super) fn get(path: String, action: &'a str, object: &'a str) -> Self {
        Call {
            method: Method::GET,
            path,
            action,
            object,
            body: None,
            effect: Effect::None,
        }
    }
}

/// What a write leaves behind that a read can find.
#[derive(Clone, Copy)]
pub(super) enum Effect<'a> {
    /// Nothing to look for: the request is sent again as it is (reads,
    /// and edits that set fields to the same values again).
    None,
    /// A user with this email exists: the found user is the answer.
    UserExists(&'a str),
    /// A group with this name exists: the found group is the answer.
    GroupExists(&'a str),
    /// The object is gone: a 404 on a retry means an earlier try worked.
    Gone,
}

impl SupersetClient {
    pub fn new(
        site: &str,
        base_url: &url::Url,
        login: Login,
        pacing: Pacing,
        patience: Duration,
    ) -> Result<Self, ProviderError> {
        Ok(SupersetClient {
            http: http_client(site)?,
            base: base_url.clone(),
            name: site.to_string(),
            login,
            session: tokio::sync::Mutex::new(None),
            pacer: Pacer::new(site, pacing),
            retry: RetryPolicy::from_env().with_patience(patience),
        })
    }

    pub(crate) fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    /// The username roster signs in with.
    pub(super) fn login_username(&self) -> &str {
        self.login.username.expose()
    }

    /// Sends a request, retrying what is safe to retry (429s, and after a
    /// 5xx or a lost connection, what an earlier try cannot have done
    /// twice). A create whose answer was lost is never sent again blindly:
    /// the user (by email) or group (by name) is looked up first, and what
    /// is found is the answer. Gives the answer's JSON (`null` if empty).
    pub(super) async fn send(&self, call: &Call<'_>) -> Result<Value, ProviderError> {
        let tries = self.pacer.tries();
        self.retry
            .run(
                &self.name,
                call.action,
                || {
                    tries.next();
                    self.send_signed_in(call)
                },
                |f| async move {
                    let retried = f.attempt > 1;
                    match call.effect {
                        Effect::Gone if retried && f.status == Some(404) => Some(Value::Null),
                        Effect::UserExists(email) if f.ambiguous || (retried && f.status == Some(422)) => {
                            self.find_user(email).await.ok().flatten().map(|id| json!({"id": id}))
                        }
                        Effect::GroupExists(name) if f.ambiguous || (retried && f.status == Some(422)) => {
                            self.find_group(name).await.ok().flatten().map(|id| json!({"id": id}))
                        }
                        _ => None,
                    }
                },
            )
            .await
    }

    /// One try, signed in: a refused bearer token (expired) is renewed
    /// once and the request sent again.
    async fn send_signed_in(&self, call: &Call<'_>) -> Result<Value, ProviderError> {
        let (token, generation) = self.token().await?;
        match self.send_once(call, &token).await {
            Err(e) if e.status() == Some(401) => {
                let token = self.renew(generation).await?;
                self.send_once(call, &token).await
            }
            other => other,
        }
    }

    /// The bearer token, signing in first if there is none.
    async fn token(&self) -> Result<(Secret, u64), ProviderError> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref() {
            return Ok((s.access.clone(), s.generation));
        }
        let fresh = self.sign_in(0).await?;
        let answer = (fresh.access.clone(), fresh.generation);
        *session = Some(fresh);
        Ok(answer)
    }

    /// A new bearer token after the one of `generation` was refused: by the
    /// refresh token, else by signing in again. A renewal another request
    /// made since is used as it is.
    async fn renew(&self, generation: u64) -> Result<Secret, ProviderError> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref().filter(|s| s.generation != generation) {
            return Ok(s.access.clone());
        }
        let refreshed = match session.as_ref().and_then(|s| s.refresh.clone()) {
            Some(refresh) => self.refresh(&refresh).await.ok().map(|access| Session {
                access,
                refresh: Some(refresh),
                generation: generation + 1,
            }),
            None => None,
        };
        let fresh = match refreshed {
            Some(s) => s,
            None => self.sign_in(generation + 1).await?,
        };
        let access = fresh.access.clone();
        *session = Some(fresh);
        Ok(access)
    }

    /// `POST /api/v1/security/login`: the account's tokens.
    async fn sign_in(&self, generation: u64) -> Result<Session, ProviderError> {
        let body = json!({
            "username": self.login.username.expose(),
            "password": self.login.password.expose(),
            "provider": self.login.auth_provider.as_str(),
            "refresh": true,
        });
        let call = Call {
            method: Method::POST,
            path: LOGIN.into(),
            action: "sign in",
            object: "",
            body: Some(body),
            effect: Effect::None,
        };
        let tries = self.pacer.tries();
        let no_token = Secret::new("");
        let answer = self
            .retry
            .run(
                &self.name,
                call.action,
                || {
                    tries.next();
                    self.send_once(&call, &no_token)
                },
                |_| async { None },
            )
            .await?;
        let tokens: wire::Tokens = serde_json::from_value(answer).unwrap_or_default();
        let access = tokens
            .access_token
            .ok_or_else(|| self.decode_error("sign in", "the answer has no access_token".into()))?;
        Ok(Session {
            access: Secret::new(access),
            refresh: tokens.refresh_token.map(Secret::new),
            generation,
        })
    }

    /// `POST /api/v1/security/refresh` with the refresh token: a new
    /// bearer token.
    async fn refresh(&self, refresh: &Secret) -> Result<Secret, ProviderError> {
        let call = Call {
            method: Method::POST,
            path: REFRESH.into(),
            action: "renew the sign-in",
            object: "",
            body: None,
            effect: Effect::None,
        };
        self.pacer.tries().next();
        let answer = self.send_once(&call, refresh).await?;
        let tokens: wire::Tokens = serde_json::from_value(answer).unwrap_or_default();
        tokens
            .access_token
            .map(Secret::new)
            .ok_or_else(|| self.decode_error("renew the sign-in", "the answer has no access_token".into()))
    }

    /// One request with `token` as its bearer token (none if empty): the
    /// answer's JSON, or the error with Superset's message.
    async fn send_once(&self, call: &Call<'_>, token: &Secret) -> Result<Value, ProviderError> {
        let mut request = self
            .http
            .request(call.method.clone(), self.url(call)?)
            .header(ACCEPT, "application/json");
        if !token.expose().is_empty() {
            let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| self.decode_error(call.action, "the token cannot be sent in a header".into()))?;
            bearer.set_sensitive(true);
            request = request.header(AUTHORIZATION, bearer);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        let answer = self
            .pacer
            .exchange(
                request,
                &Purpose::new(&call.method, &call.path, call.action, call.object),
            )
            .await?;
        tracing::debug!(
            site = ?self.name,
            method = %call.method,
            path = %crate::escape::Visible(&call.path),
            status = answer.status.as_u16(),
            "superset request"
        );
        if answer.status.is_success() {
            if answer.body.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&answer.body)
                .map_err(|e| self.decode_error(call.action, format!("unexpected answer: {e}")));
        }
        Err(ProviderError::Http {
            site: self.name.clone(),
            action: call.action.to_string(),
            object: call.object.to_string(),
            status: answer.status.as_u16(),
            message: self.error_text(call, &answer.body, answer.status, token),
            retry_after: answer.retry_after,
        })
    }

    /// The URL of `call`'s path. A collection's path ends in `/`, as
    /// Superset routes it (without, it redirects, which roster never
    /// follows); the rest is checked and built as every provider's is.
    fn url(&self, call: &Call<'_>) -> Result<url::Url, ProviderError> {
        let (route, query) = match call.path.split_once('?') {
            Some((route, query)) => (route, Some(query)),
            None => (call.path.as_str(), None),
        };
        let collection = route.ends_with('/');
        let route = route.trim_end_matches('/');
        check_path(&self.name, call.action, call.object, route)?;
        let mut url = endpoint(&self.base, route);
        if collection {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url.set_query(query);
        Ok(url)
    }

    /// Superset's message, scrubbed of every secret, and a hint where one
    /// helps.
    fn error_text(&self, call: &Call<'_>, body: &[u8], status: reqwest::StatusCode, token: &Secret) -> String {
        let secrets = [self.login.password.expose(), token.expose()];
        let mut text = error_message(body, &secrets);
        if status == reqwest::StatusCode::UNAUTHORIZED && call.path == LOGIN {
            text.push_str(&format!(
                " (Superset refused the sign-in: check the site's username and the value of {}, and auth_provider)",
                self.login.password_from
            ));
        } else if status == reqwest::StatusCode::FORBIDDEN {
            text.push_str(" (the account roster signs in with needs Superset's Admin role)");
        } else if status.is_redirection() {
            text.push_str(crate::provider::REDIRECT_HINT);
        }
        text
    }

    /// A decode error; its message (which may quote the answer) scrubbed.
    pub(super) fn decode_error(&self, action: &str, message: String) -> ProviderError {
        ProviderError::Decode {
            site: self.name.clone(),
            action: action.to_string(),
            message: crate::provider::scrub::scrub(&message, &[self.login.password.expose()]),
        }
    }

    /// Every item of the list at `path` (`USERS` or `GROUPS`), page by page
    /// in the order of their IDs, until a short page or the announced count.
    pub(super) async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        action: &str,
    ) -> Result<Vec<T>, ProviderError> {
        let mut items = Vec::new();
        for page in 0..MAX_PAGES {
            let query = format!("q=(order_column:id,order_direction:asc,page:{page},page_size:{PAGE_SIZE})");
            let answer = self
                .send(&Call::get(format!("{path}?{query}"), action, ""))
                .await?;
            let page: wire::Page<T> = serde_json::from_value(answer)
                .map_err(|e| self.decode_error(action, format!("unexpected answer: {e}")))?;
            let got = page.result.len();
            items.extend(page.result);
            let total = page.count.map_or(u64::MAX, |c| c);
            if got < PAGE_SIZE || items.len() as u64 >= total {
                return Ok(items);
            }
        }
        Err(ProviderError::Unsupported {
            site: self.name.clone(),
            message: format!("{action}: the list did not end after {MAX_PAGES} pages; refusing to plan from what may be part of it"),
        })
    }

    /// The ID of the user whose email is `email` (compared as emails are).
    pub(super) async fn find_user(&self, email: &str) -> Result<Option<String>, ProviderError> {
        let wanted = email_key(email);
        let users: Vec<wire::User> = Box::pin(self.list_all(USERS, "look up users")).await?;
        Ok(users
            .into_iter()
            .find(|u| u.email.as_deref().map(email_key).as_ref() == Some(&wanted))
            .and_then(|u| u.id))
    }

    /// The ID of the group named `name` (compared as group names are).
    pub(super) async fn find_group(&self, name: &str) -> Result<Option<String>, ProviderError> {
        let wanted = super::group_key(name);
        let groups: Vec<wire::Group> = Box::pin(self.list_all(GROUPS, "look up groups")).await?;
        Ok(groups
            .into_iter()
            .find(|g| g.name.as_deref().map(super::group_key).as_ref() == Some(&wanted))
            .and_then(|g| g.id))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use serde_json::{Value, json};

    use super::{Login, SupersetClient, USERS};
    use crate::provider::Pacing;
    use crate::provider::superset::settings::AuthProvider;
    use crate::secret::Secret;

    /// What the server saw: `method path bearer`, in order.
    type Seen = Arc<Mutex<Vec<String>>>;

    /// A server answering as Superset does around an expired token: the
    /// login gives `old` and a refresh token; `old` is refused with 401
    /// ("Token has expired"); the refresh gives `new`, which is accepted.
    async fn expiring_server(seen: Seen) -> url::Url {
        let bearer = |h: &HeaderMap| {
            h.get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string()
        };
        let (s1, s2, s3) = (seen.clone(), seen.clone(), seen);
        let app = Router::new()
            .route(
                "/api/v1/security/login",
                post(move |h: HeaderMap| async move {
                    s1.lock().unwrap().push(format!("login {}", bearer(&h)));
                    axum::Json(json!({"access_token": "old", "refresh_token": "refresh"}))
                }),
            )
            .route(
                "/api/v1/security/refresh",
                post(move |h: HeaderMap| async move {
                    s2.lock().unwrap().push(format!("refresh {}", bearer(&h)));
                    axum::Json(json!({"access_token": "new"}))
                }),
            )
            .route(
                "/api/v1/security/users/",
                get(move |h: HeaderMap| async move {
                    let b = bearer(&h);
                    s3.lock().unwrap().push(format!("users {b}"));
                    if b == "Bearer new" {
                        let page = json!({"count": 1, "result": [{"id": 1, "email": "a@x.io"}]});
                        (StatusCode::OK, axum::Json(page))
                    } else {
                        (StatusCode::UNAUTHORIZED, axum::Json(json!({"msg": "Token has expired"})))
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// An expired bearer token is renewed with the refresh token, once, and
    /// the refused request sent again; the password is sent to the login
    /// only.
    #[tokio::test]
    async fn an_expired_token_is_renewed_with_the_refresh_token() {
        let seen = Seen::default();
        let base = expiring_server(seen.clone()).await;
        let login = Login {
            username: Secret::new("admin"),
            password: Secret::new("pw"),
            password_from: "SUPERSET_PASSWORD".into(),
            auth_provider: AuthProvider::Db,
        };
        let client = SupersetClient::new("bi", &base, login, Pacing::default(), std::time::Duration::from_secs(5)).unwrap();
        let users: Vec<Value> = client.list_all(USERS, "list users").await.unwrap();
        assert_eq!(users, [json!({"id": 1, "email": "a@x.io"})]);
        assert_eq!(
            *seen.lock().unwrap(),
            ["login -", "users Bearer old", "refresh Bearer refresh", "users Bearer new"]
        );
    }
}
