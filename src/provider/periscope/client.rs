//! The Periscope Data (Sisense for Cloud Data Teams) v1 user and group API.
//! Reference: `shared/reference/periscope-api.md`. Sites with role-based
//! access use the user and role API instead (`roles.rs`), through the same
//! requests, retries and errors.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::role_ids::RoleIds;
use super::settings::AccessControl;
use super::wire;
use crate::model::{ALL_USERS, LiveSite, Site, SiteConfig};
use crate::model::{Change, Diff};
use crate::provider::error::{ProviderError, error_message};
use crate::provider::lenient::{List, ListKeys};
use crate::provider::retry::{Pacer, Purpose, RetryPolicy};
use crate::provider::{Pacing, WriteMode};
use crate::secret::Secret;

const AUTH_HEADER: &str = "HTTP-X-PARTNER-AUTH";
const EMAIL_HEADER: &str = "HTTP-X-EMAIL";

pub struct PeriscopeClient {
    http: reqwest::Client,
    base: url::Url,
    /// The site's name in the state, used in every error.
    name: String,
    /// The slug sent in the auth header.
    site: String,
    api_key: Secret,
    key_env: String,
    pub(super) invited_by: String,
    /// Which of Periscope's two APIs the site has.
    pub(super) access: AccessControl,
    /// On a site with role-based access: the ids of its roles and users,
    /// as read and as made by this client's writes.
    pub(super) ids: std::sync::Mutex<RoleIds>,
    pacer: Pacer,
    retry: RetryPolicy,
}

/// One request, described for errors and logs.
pub(super) struct Call<'a> {
    pub method: Method,
    pub path: String,
    pub action: &'a str,
    pub object: &'a str,
    pub email: Option<&'a str>,
    pub mode: Option<WriteMode>,
    pub body: Option<Value>,
    /// How to tell, after an ambiguous failure, whether it took effect.
    pub effect: Effect<'a>,
}

impl<'a> Call<'a> {
    /// A GET of `path`.
    pub(super) fn read(path: String, action: &'a str) -> Self {
        Call {
            method: Method::GET,
            path,
            action,
            object: "",
            email: None,
            mode: None,
            body: None,
            effect: Effect::None,
        }
    }
}

/// The body of a user update: the names that change.
pub(super) fn name_fields(
    first_name: Option<&Diff<String>>,
    last_name: Option<&Diff<String>>,
) -> serde_json::Map<String, Value> {
    let mut body = serde_json::Map::new();
    if let Some(d) = first_name {
        body.insert("first_name".into(), json!(d.after));
    }
    if let Some(d) = last_name {
        body.insert("last_name".into(), json!(d.after));
    }
    body
}

/// What a write leaves behind that a read can find.
#[derive(Clone, Copy)]
pub(super) enum Effect<'a> {
    None,
    /// The user with this email exists.
    UserExists(&'a str),
    /// The group with this name exists.
    GroupExists(&'a str),
    /// The object is gone: a 404 on a retry means an earlier try worked.
    Gone,
}

impl PeriscopeClient {
    pub fn new(
        site: &Site,
        api_key: Secret,
        base_url: &url::Url,
        pacing: Pacing,
    ) -> Result<Self, ProviderError> {
        let SiteConfig::Periscope(super::Settings {
            slug,
            api_key_from,
            invited_by,
            access_control,
        }) = &site.config
        else {
            unreachable!("a Periscope client is only made for a Periscope site")
        };
        let http = crate::provider::http_client(&site.name)?;
        Ok(PeriscopeClient {
            http,
            base: base_url.clone(),
            name: site.name.clone(),
            site: slug.clone(),
            api_key,
            key_env: api_key_from.to_string(),
            invited_by: invited_by.clone(),
            access: *access_control,
            ids: std::sync::Mutex::default(),
            pacer: Pacer::new(&site.name, pacing),
            retry: RetryPolicy::from_env()
                .with_patience(std::time::Duration::from_secs(site.patience_seconds)),
        })
    }

    /// The requests this client sent, and how many were retries.
    pub fn requests(&self) -> crate::provider::cost::Requests {
        self.pacer.requests()
    }

    /// The pacer every request of this client goes through.
    pub(crate) fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    pub(super) fn site_name(&self) -> &str {
        &self.name
    }

    /// The live users and groups, or on a site with role-based access the
    /// users and the roles they hold; a refusal that says the site has the
    /// other API is reported as that.
    pub async fn fetch(&self) -> Result<LiveSite, ProviderError> {
        let live = match self.access {
            AccessControl::Groups => self.fetch_groups().await,
            AccessControl::Roles => self.fetch_roles().await,
        };
        live.map_err(|e| self.other_family(e))
    }

    /// A 4xx answer to a read of one API family, beyond the key's refusal
    /// and a throttle, says the site has the other: never an empty site.
    fn other_family(&self, e: ProviderError) -> ProviderError {
        let Some(status @ (400..=499)) = e.status() else {
            return e;
        };
        if matches!(status, 401 | 403 | 429) {
            return e;
        }
        let (kind, fix) = match self.access {
            AccessControl::Groups => ("roles", "access_control = \"roles\""),
            AccessControl::Roles => ("groups", "access_control = \"groups\" (or leave it out)"),
        };
        ProviderError::Unsupported {
            site: self.name.clone(),
            message: format!(
                "this site uses {kind}: set {fix} in [sites.{}] ({e})",
                self.name
            ),
        }
    }

    async fn fetch_groups(&self) -> Result<LiveSite, ProviderError> {
        // Both reads run at once; the users error is reported first, so the
        // message does not depend on which answer came back first.
        let (users, groups) = tokio::join!(
            self.read_all::<wire::User, wire::UserKeys>("/api/v1/users", "list users"),
            self.read_all::<wire::Group, wire::GroupKeys>("/api/v1/groups", "list groups"),
        );
        let (users, groups) = (users?, groups?);
        let decode = |action: &str, missing: wire::MissingField| ProviderError::Decode {
            site: self.name.clone(),
            action: action.to_string(),
            message: missing.to_string(),
        };
        Ok(LiveSite {
            users: wire::users(users).map_err(|m| decode("list users", m))?,
            groups: wire::groups(groups).map_err(|m| decode("list groups", m))?,
            account_types: Vec::new(),
            // The API key belongs to the site, not to a person.
            api_identity: None,
            access: Default::default(),
            attrs: crate::attrs::LiveAttrs::default(),
        })
    }

    /// Every item of a list: its pages followed by `next_page_start` (sent
    /// back as the query parameter of that name), the only cursor known on
    /// this API family. An answer that shows more pages any other way is
    /// refused: a plan from part of a list would create people who exist
    /// and remove people who were merely on a later page.
    pub(super) async fn read_all<T, K>(&self, path: &str, action: &str) -> Result<Vec<T>, ProviderError>
    where
        T: serde::de::DeserializeOwned,
        K: ListKeys,
    {
        let mut items = Vec::new();
        let mut start: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let path = match &start {
                None => path.to_string(),
                Some(s) => format!(
                    "{path}?next_page_start={}",
                    crate::provider::path_segment(s)
                ),
            };
            let body = self.send(Call::read(path, action)).await?;
            let decode = |e: serde_json::Error| ProviderError::Decode {
                site: self.site_name().to_string(),
                action: action.to_string(),
                message: crate::provider::scrub::scrub(
                    &format!("unexpected answer: {e}"),
                    &self.secrets(),
                ),
            };
            let page: List<T, K> = serde_json::from_slice(&body).map_err(decode)?;
            let signs: wire::PageSigns = serde_json::from_slice(&body).map_err(decode)?;
            items.extend(page.items);
            match self.next_page(action, signs, items.len())? {
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(self.partial(
                        action,
                        format!("`next_page_start` repeats an earlier page's ({next:?})"),
                    ));
                }
                Some(next) => start = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// The next page's start, `None` on the last page; an error when the
    /// answer shows more pages in a way roster cannot follow.
    fn next_page(
        &self,
        action: &str,
        signs: wire::PageSigns,
        read: usize,
    ) -> Result<Option<String>, ProviderError> {
        match signs.next_page_start {
            Some(Value::String(s)) if !s.is_empty() => return Ok(Some(s)),
            Some(Value::Number(n)) => return Ok(Some(n.to_string())),
            Some(Value::String(_)) | None => {}
            Some(other) => {
                return Err(self.partial(
                    action,
                    format!("carries `next_page_start: {other}`, which is not a page start"),
                ));
            }
        }
        if let Some(sign) = signs.other.first() {
            return Err(self.partial(action, format!("carries {sign}")));
        }
        match signs.total {
            Some(total) if total > read as u64 => Err(self.partial(
                action,
                format!("carries `total: {total}`, but the list holds {read}"),
            )),
            _ => Ok(None),
        }
    }

    /// The refusal of a list answer that may be partial.
    fn partial(&self, action: &str, what: String) -> ProviderError {
        ProviderError::Unsupported {
            site: self.site_name().to_string(),
            message: format!(
                "{action}: the answer {what}, a sign of more pages roster cannot follow \
                 (it follows only `next_page_start`); refusing to plan from what may be \
                 part of the list"
            ),
        }
    }

    /// Whether what `effect` describes is on the site now; `None` when the
    /// read itself failed.
    async fn exists(&self, effect: Effect<'_>) -> Option<bool> {
        if self.access == AccessControl::Roles {
            return self.role_exists(effect).await;
        }
        let (path, email) = match effect {
            Effect::UserExists(email) => ("/api/v1/users".to_string(), Some(email)),
            Effect::GroupExists(name) => (
                format!("/api/v1/groups/{}", crate::provider::path_segment(name)),
                None,
            ),
            Effect::None | Effect::Gone => return None,
        };
        let check = Call {
            method: Method::GET,
            path,
            action: "check",
            object: "",
            email,
            mode: None,
            body: None,
            effect: Effect::None,
        };
        // The check is a read, retried like any other.
        match Box::pin(self.send(check)).await {
            Ok(_) => Some(true),
            Err(e) if e.status() == Some(404) => Some(false),
            Err(_) => None,
        }
    }

    /// Carries out one change. With `WriteMode::TestMode` the request is sent
    /// with `test_mode=true` and the site changes nothing.
    pub async fn apply(&self, change: &Change, mode: WriteMode) -> Result<(), ProviderError> {
        if self.access == AccessControl::Roles {
            return self.apply_role_change(change, mode).await;
        }
        let call = match change {
            Change::CreateGroup { .. }
            | Change::UpdateGroup { .. }
            | Change::DeleteGroup { .. } => self.group_call(change, mode),
            Change::CreateUser { .. }
            | Change::UpdateUser { .. }
            | Change::DeactivateUser { .. }
            | Change::DeleteUser { .. } => self.user_call(change, mode)?,
            Change::Access(_) => {
                return Err(ProviderError::Unsupported {
                    site: self.name.clone(),
                    message: "Periscope has no workspaces or connections".into(),
                });
            }
            _ => {
                return Err(ProviderError::Unsupported {
                    site: self.site_name().to_string(),
                    message: format!(
                        "Periscope has no user attributes or custom account types ({})",
                        change.key()
                    ),
                });
            }
        };
        self.send(call).await.map(|_| ())
    }

    /// The request that carries out a change to a group.
    fn group_call<'c>(&'c self, change: &'c Change, mode: WriteMode) -> Call<'c> {
        let group_path =
            |name: &str| format!("/api/v1/groups/{}", crate::provider::path_segment(name));
        match change {
            Change::CreateGroup { name, access, .. } => Call {
                method: Method::POST,
                path: "/api/v1/groups".into(),
                action: "create group",
                object: name,
                email: None,
                mode: Some(mode),
                effect: Effect::GroupExists(name),
                body: Some(json!({
                    "name": name,
                    "access": access.map(crate::model::Access::as_str),
                    "created_by_email": self.invited_by,
                })),
            },
            Change::UpdateGroup {
                live_name,
                name,
                access,
                ..
            } => {
                let mut body = serde_json::Map::new();
                if let Some(n) = name {
                    body.insert("name".into(), json!(n.after));
                }
                if let Some(a) = access {
                    body.insert("access".into(), json!(a.after));
                }
                Call {
                    method: Method::PUT,
                    path: group_path(live_name),
                    action: "update group",
                    object: live_name,
                    email: None,
                    mode: Some(mode),
                    body: Some(Value::Object(body)),
                    // A rename that already happened leaves the new name.
                    effect: match name {
                        Some(n) => Effect::GroupExists(&n.after),
                        None => Effect::None,
                    },
                }
            }
            Change::DeleteGroup { name, .. } => Call {
                method: Method::DELETE,
                path: group_path(name),
                action: "delete group",
                object: name,
                email: None,
                mode: Some(mode),
                body: None,
                effect: Effect::Gone,
            },
            _ => unreachable!("`apply` gives group_call group changes only"),
        }
    }

    /// The request that carries out a change to a person (Periscope has no
    /// deactivation: that change is refused).
    fn user_call<'c>(
        &'c self,
        change: &'c Change,
        mode: WriteMode,
    ) -> Result<Call<'c>, ProviderError> {
        let call = match change {
            Change::CreateUser {
                email,
                first_name,
                last_name,
                groups,
                ..
            } => Call {
                method: Method::POST,
                path: "/api/v1/users".into(),
                action: "create user",
                object: email,
                email: None,
                mode: Some(mode),
                effect: Effect::UserExists(email),
                body: Some(json!({
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                    "groups": groups,
                    "invited_by_email": self.invited_by,
                })),
            },
            Change::UpdateUser {
                email,
                first_name,
                last_name,
                groups,
                ..
            } => {
                let mut body = name_fields(first_name.as_ref(), last_name.as_ref());
                if let Some(m) = groups {
                    // A groups list replaces the user's set; every user stays
                    // in the all-users group.
                    let mut all: Vec<&str> = m.after.iter().map(String::as_str).collect();
                    all.push(ALL_USERS);
                    body.insert("groups".into(), json!(all));
                }
                Call {
                    method: Method::PUT,
                    path: "/api/v1/users".into(),
                    action: "update user",
                    object: email,
                    email: Some(email),
                    mode: Some(mode),
                    body: Some(Value::Object(body)),
                    effect: Effect::None,
                }
            }
            Change::DeactivateUser { email, .. } => {
                return Err(ProviderError::Unsupported {
                    site: self.name.clone(),
                    message: format!("cannot deactivate {email}: Periscope has no deactivation"),
                });
            }
            Change::DeleteUser { email } => Call {
                method: Method::DELETE,
                path: "/api/v1/users".into(),
                action: "delete user",
                object: email,
                email: Some(email),
                mode: Some(mode),
                body: None,
                effect: Effect::Gone,
            },
            _ => unreachable!("`apply` gives user_call user changes only"),
        };
        Ok(call)
    }

    /// Sends a request, retrying what is safe to retry: reads and idempotent
    /// writes after a 429, a 5xx or a lost connection. A create whose answer
    /// was lost is never sent again blindly: the site is read first, and the
    /// create counts as done if what it makes is there. In test mode nothing
    /// is ever made, so nothing is looked for.
    pub(super) async fn send(&self, call: Call<'_>) -> Result<bytes::Bytes, ProviderError> {
        let call = &call;
        let real = call.mode == Some(WriteMode::Real);
        let tries = self.pacer.tries();
        self.retry
            .run(
                &self.name,
                call.action,
                || {
                    tries.next();
                    self.send_once(call)
                },
                |f| async move {
                    let done = match call.effect {
                        Effect::Gone => f.attempt > 1 && f.status == Some(404),
                        Effect::UserExists(_) | Effect::GroupExists(_)
                            if real
                                && (f.ambiguous
                                    || (f.attempt > 1 && matches!(f.status, Some(404 | 409)))) =>
                        {
                            self.exists(call.effect).await == Some(true)
                        }
                        _ => false,
                    };
                    done.then(bytes::Bytes::new)
                },
            )
            .await
    }

    /// One try: the body of a successful answer.
    async fn send_once(&self, call: &Call<'_>) -> Result<bytes::Bytes, ProviderError> {
        crate::provider::check_path(self.site_name(), call.action, call.object, &call.path)?;
        let mut url = crate::provider::endpoint(&self.base, &call.path);
        if let Some(mode) = call.mode {
            // Always explicit: the API's default is not documented.
            url.query_pairs_mut().append_pair(
                "test_mode",
                match mode {
                    WriteMode::Real => "false",
                    WriteMode::TestMode => "true",
                },
            );
        }
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("{}:{}", self.site, self.api_key.expose()))
            .map_err(|_| {
            self.transport(
                call,
                "the site name or API key holds characters a header cannot carry".into(),
            )
        })?;
        auth.set_sensitive(true);
        headers.insert(AUTH_HEADER, auth);
        if let Some(email) = call.email {
            let v = HeaderValue::from_str(email)
                .map_err(|_| self.transport(call, "the email cannot be sent in a header".into()))?;
            headers.insert(EMAIL_HEADER, v);
        }
        let mut request = self.http.request(call.method.clone(), url).headers(headers);
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let answer = self
            .pacer
            .exchange(
                request,
                &Purpose::new(&call.method, &call.path, call.action, call.object),
            )
            .await?;
        let (status, asked_wait, bytes) = (answer.status, answer.retry_after, answer.body);
        tracing::debug!(
            site = ?self.site_name(),
            method = %call.method,
            path = %crate::escape::Visible(&call.path),
            test_mode = ?call.mode.map(|m| m == WriteMode::TestMode),
            status = status.as_u16(),
            duration_ms = answer.elapsed.as_millis() as u64,
            "periscope request"
        );
        if !status.is_success() {
            let hint = match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!(
                    " (the site refused the API key: check the value of {} and that `site` is the slug of the site's dashboard URLs)",
                    self.key_env
                ),
                s if s.is_redirection() => crate::provider::REDIRECT_HINT.to_string(),
                _ => String::new(),
            };
            return Err(ProviderError::Http {
                site: self.site_name().to_string(),
                action: call.action.to_string(),
                object: call.object.to_string(),
                status: status.as_u16(),
                message: error_message(&bytes, &self.secrets()) + &hint,
                retry_after: asked_wait,
            });
        }
        Ok(bytes)
    }

    /// The secrets to scrub from any text shown to people: the API key and
    /// the auth header's `site:key` (a site may echo it base64-encoded).
    fn secrets(&self) -> [String; 2] {
        let key = self.api_key.expose();
        [key.to_string(), format!("{}:{key}", self.site)]
    }

    fn transport(&self, call: &Call<'_>, message: String) -> ProviderError {
        ProviderError::Transport {
            site: self.site_name().to_string(),
            action: call.action.to_string(),
            object: call.object.to_string(),
            message,
        }
    }
}
