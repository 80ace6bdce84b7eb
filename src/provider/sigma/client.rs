//! The Sigma Computing REST API (v2/v2.1): requests, pagination and reading
//! an organisation's members, teams and account types.
//! Reference: `shared/reference/sigma-api.md`.

use std::collections::HashMap;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::auth::Auth;
use super::wire::{self, SCHEDULER_ROBOT};
use crate::model::{LiveGroup, LiveSite, LiveUser, Locked, Site, SiteConfig, email_key};
use crate::provider::Pacing;
use crate::provider::error::{ProviderError, error_message};
use crate::provider::retry::{Pacer, Purpose, RetryPolicy};
use crate::secret::Secret;

/// The largest page Sigma serves (reference §3.1).
pub(super) const PAGE_SIZE: usize = 1000;
/// Team member lists read at once.
const TEAM_READS: usize = 8;

pub struct SigmaClient {
    pub(super) http: reqwest::Client,
    pub(super) base: url::Url,
    pub(super) name: String,
    pub(super) auth: Auth,
    pacer: Pacer,
    retry: RetryPolicy,
    /// The organisation's policy (invitations, schedules).
    pub(super) org: crate::model::SigmaOrgPolicy,
}

/// One request, described for errors and logs.
pub(super) struct Call<'a> {
    pub method: Method,
    pub path: String,
    pub action: &'a str,
    pub object: &'a str,
    pub body: Option<Value>,
    /// How to tell, after an ambiguous failure, whether it took effect.
    pub effect: Effect<'a>,
}

/// What a write leaves behind that a read can find.
#[derive(Clone, Copy)]
pub(super) enum Effect<'a> {
    None,
    /// A member with this email exists: the found member is the answer.
    MemberExists(&'a str),
    /// A team with this name exists: the found team is the answer.
    TeamExists(&'a str),
    /// A workspace with this name exists: the found workspace is the answer.
    WorkspaceExists(&'a str),
    /// A user attribute with this name exists: the found one is the answer.
    AttributeExists(&'a str),
    /// An account type with this name exists: the found one is the answer.
    AccountTypeExists(&'a str),
    /// The object is gone: a 404 on a retry means an earlier try worked.
    Gone,
}

impl SigmaClient {
    pub fn new(
        site: &Site,
        client_id: Secret,
        client_secret: Secret,
        base_url: &url::Url,
        pacing: Pacing,
    ) -> Result<Self, ProviderError> {
        let SiteConfig::Sigma(super::Settings {
            client_id_from,
            client_secret_from,
            ..
        }) = &site.config
        else {
            unreachable!("a Sigma client is only made for a Sigma site")
        };
        let http = crate::provider::http_client(&site.name)?;
        let base = base_url.clone();
        Ok(SigmaClient {
            auth: Auth::new(
                http.clone(),
                &base,
                &site.name,
                client_id,
                client_secret,
                format!("{client_id_from} and {client_secret_from}"),
            )
            .with_max_response_bytes(pacing.max_response_bytes),
            http,
            base,
            name: site.name.clone(),
            pacer: Pacer::new(&site.name, pacing),
            retry: RetryPolicy::from_env()
                .with_patience(std::time::Duration::from_secs(site.patience_seconds)),
            org: site.sigma_org().cloned().unwrap_or_default(),
        })
    }

    /// Sends a request, retrying what is safe to retry: reads and idempotent
    /// writes after a 429, a 5xx or a lost connection. A create whose answer
    /// was lost is never sent again blindly: the site is read first, and if
    /// the member or team is there, that is the answer.
    /// The requests this client sent, and how many were retries.
    pub fn requests(&self) -> crate::provider::cost::Requests {
        self.pacer.requests()
    }

    /// The pacer every request of this client goes through.
    pub(crate) fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    pub(super) async fn send(&self, call: &Call<'_>) -> Result<Value, ProviderError> {
        self.send_as(call).await
    }

    /// [`Self::send`], the answer read as `T`.
    async fn send_as<T: serde::de::DeserializeOwned>(
        &self,
        call: &Call<'_>,
    ) -> Result<T, ProviderError> {
        let tries = self.pacer.tries();
        self.retry
            .run(
                &self.name,
                call.action,
                || {
                    tries.next();
                    async { self.decode(call.action, &self.send_once(call).await?) }
                },
                |f| async move {
                    let found = match call.effect {
                        Effect::Gone if f.attempt > 1 && f.status == Some(404) => Some(Value::Null),
                        Effect::None | Effect::Gone => None,
                        _ if f.ambiguous || (f.attempt > 1 && f.status == Some(409)) =>
                        {
                            self.find(call.effect).await
                        }
                        _ => None,
                    };
                    found.and_then(|v| serde_json::from_value(v).ok())
                },
            )
            .await
    }

    /// The object `effect` describes, if the site has it now: read by its
    /// email or name, every page, matched as the plan matches names.
    /// Facts from Sigma's OpenAPI (`sigma-openapi-full.json`): `GET
    /// /v2/members` takes `email`, `includeArchived` and `includeInactive`
    /// (a lost create of a member whom SCIM marked inactive meanwhile is
    /// found too); `GET /v2/workspaces` takes `exactName` (equal, ignoring
    /// case); `GET /v2/user-attributes` takes `name`; `GET /v2/accountTypes`
    /// takes no filter, so every account type is read.
    async fn find(&self, effect: Effect<'_>) -> Option<Value> {
        let group_key = |n: &str| crate::model::ProviderKind::Sigma.group_key(n);
        let (path, field, name, key): (String, &str, &str, fn(&str) -> String) = match effect {
            Effect::MemberExists(email) => (
                format!(
                    "/v2/members?includeArchived=true&includeInactive=true&email={}",
                    crate::provider::path_segment(email)
                ),
                "email",
                email,
                email_key,
            ),
            Effect::TeamExists(name) => (
                format!("/v2/teams?name={}", crate::provider::path_segment(name)),
                "name",
                name,
                group_key,
            ),
            Effect::WorkspaceExists(name) => (
                format!(
                    "/v2/workspaces?exactName={}",
                    crate::provider::path_segment(name)
                ),
                "name",
                name,
                group_key,
            ),
            Effect::AttributeExists(name) => (
                format!(
                    "/v2/user-attributes?name={}",
                    crate::provider::path_segment(name)
                ),
                "name",
                name,
                crate::attrs::name_key,
            ),
            Effect::AccountTypeExists(name) => {
                let wanted = crate::attrs::name_key(name);
                let types: Vec<Value> = Box::pin(self.all_account_types("check")).await.ok()?;
                return types.into_iter().find(|t| {
                    crate::attrs::name_key(&wire::text(t, "accountTypeName")) == wanted
                });
            }
            Effect::None | Effect::Gone => return None,
        };
        let wanted = key(name);
        // The check is a read of every page, retried like any other.
        let items: Vec<Value> = Box::pin(self.list_all(&path, "check")).await.ok()?;
        items
            .into_iter()
            .find(|item| key(&wire::text(item, field)) == wanted)
    }

    /// Sends one request with a bearer token (after a 401 the token is
    /// replaced and the request sent once more); the body of a successful
    /// answer.
    async fn send_once(&self, call: &Call<'_>) -> Result<bytes::Bytes, ProviderError> {
        crate::provider::check_path(&self.name, call.action, call.object, &call.path)?;
        let url = crate::provider::endpoint(&self.base, &call.path);
        let mut replaced_token = false;
        loop {
            let (token, generation) = self.auth.bearer().await.inspect_err(|e| {
                // The edge throttles the token endpoint with the rest.
                if e.status() == Some(429) {
                    self.pacer.throttled();
                }
            })?;
            let mut bearer =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    self.transport(call, "the API token cannot be sent in a header".into())
                })?;
            bearer.set_sensitive(true);
            let mut request = self
                .http
                .request(call.method.clone(), url.clone())
                .header(AUTHORIZATION, bearer);
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
                site = ?self.name,
                method = %call.method,
                path = %crate::escape::Visible(&call.path),
                status = status.as_u16(),
                duration_ms = answer.elapsed.as_millis() as u64,
                "sigma request"
            );
            if status == StatusCode::UNAUTHORIZED && !replaced_token {
                self.auth.refused(generation).await;
                replaced_token = true;
                continue;
            }
            if !status.is_success() {
                return Err(ProviderError::Http {
                    site: self.name.clone(),
                    action: call.action.to_string(),
                    object: call.object.to_string(),
                    status: status.as_u16(),
                    message: error_message(&bytes, &self.auth.secrets())
                        + if status.is_redirection() {
                            crate::provider::REDIRECT_HINT
                        } else {
                            ""
                        },
                    retry_after: asked_wait,
                });
            }
            return Ok(bytes);
        }
    }

    /// An answer's body read as `T`; an empty body reads as JSON null.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        body: &[u8],
    ) -> Result<T, ProviderError> {
        let body: &[u8] = if body.is_empty() { b"null" } else { body };
        serde_json::from_slice(body)
            .map_err(|e| self.decode_error(action, format!("unexpected answer: {e}")))
    }

    pub(super) fn transport(&self, call: &Call<'_>, message: String) -> ProviderError {
        ProviderError::Transport {
            site: self.name.clone(),
            action: call.action.to_string(),
            object: call.object.to_string(),
            message,
        }
    }

    /// A GET, retried with backoff on 429, 5xx and connection failures.
    pub(super) async fn read<T: serde::de::DeserializeOwned>(
        &self,
        path: String,
        action: &str,
    ) -> Result<T, ProviderError> {
        self.send_as(&Call {
            method: Method::GET,
            path,
            action,
            object: "",
            body: None,
            effect: Effect::None,
        })
        .await
    }

    /// Every item of a cursor-paginated list, at the largest page size.
    pub(super) async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        action: &str,
    ) -> Result<Vec<T>, ProviderError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}{sep}limit={PAGE_SIZE}");
            if let Some(c) = &cursor {
                url.push_str("&page=");
                url.push_str(
                    &percent_encoding::utf8_percent_encode(c, percent_encoding::NON_ALPHANUMERIC)
                        .to_string(),
                );
            }
            let page: wire::Page<T> = self.read(url, action).await?;
            items.extend(page.items);
            match self.next_page(action, page.next, page.has_more, cursor.as_ref())? {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// Where the next page is, or `None` after the last. An answer that
    /// says more pages follow without saying where (`hasMore: true`, no
    /// `nextPage`), or names the page just read again, is refused: a plan
    /// is never made from what may be part of a list.
    pub(super) fn next_page(
        &self,
        action: &str,
        next: Option<String>,
        has_more: bool,
        current: Option<&String>,
    ) -> Result<Option<String>, ProviderError> {
        let refuse = |what: &str| ProviderError::Unsupported {
            site: self.name.clone(),
            message: format!(
                "{action}: the answer {what}; refusing to plan from what may be part of the list"
            ),
        };
        match next {
            Some(next) if Some(&next) == current => {
                Err(refuse("names the page just read as the next one"))
            }
            Some(next) => Ok(Some(next)),
            None if has_more => Err(refuse("says `hasMore: true` but gives no `nextPage`")),
            None => Ok(None),
        }
    }

    /// The account types' names, and whether any is custom.
    async fn account_types(&self) -> Result<(Vec<String>, bool), ProviderError> {
        let types: Vec<wire::AccountType> = self.all_account_types("list account types").await?;
        let custom = types.iter().any(|t| t.is_custom);
        let names = types
            .into_iter()
            .filter_map(|t| t.account_type_name)
            .filter(|n| !n.is_empty())
            .collect();
        Ok((names, custom))
    }

    /// Every account type: `GET /v2/accountTypes`, every page (`pageToken`
    /// and `nextPageToken`, not the `page` cursor of the other lists).
    pub(super) async fn all_account_types<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
    ) -> Result<Vec<T>, ProviderError> {
        let mut types = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!("/v2/accountTypes?pageSize={PAGE_SIZE}");
            if let Some(t) = &token {
                url.push_str("&pageToken=");
                url.push_str(&crate::provider::path_segment(t));
            }
            let page: wire::Page<T> = self.read(url, action).await?;
            types.extend(page.items);
            match self.next_page(action, page.next, page.has_more, token.as_ref())? {
                Some(next) => token = Some(next),
                None => return Ok(types),
            }
        }
    }

    /// A decode error; its message (which may quote the answer) scrubbed.
    fn decode_error(&self, action: &str, message: String) -> ProviderError {
        ProviderError::Decode {
            site: self.name.clone(),
            action: action.to_string(),
            message: crate::provider::scrub::scrub(&message, &self.auth.secrets()),
        }
    }

    /// How many documents and scheduled exports a member owns, read for a
    /// member the plan deactivates (never for every member of the org).
    pub async fn owned(&self, member: &str) -> Result<crate::model::Owned, ProviderError> {
        let id = crate::provider::path_segment(member);
        let (files_path, schedules_path) = (
            format!("/v2/members/{id}/files"),
            format!("/v2/members/{id}/schedules"),
        );
        let (files, schedules) = tokio::join!(
            self.list_all::<wire::File>(&files_path, "list the files of a member"),
            self.list_all::<Value>(&schedules_path, "list the schedules of a member"),
        );
        Ok(crate::model::Owned {
            documents: files?.iter().filter(|f| f.owned_document(member)).count(),
            schedules: schedules?.len(),
        })
    }

    /// Reads members (archived and SCIM-inactive included), teams with their
    /// members, and account types, concurrently: the only reads that wait
    /// for another are the pages of one list and each team's members.
    pub async fn fetch(&self) -> Result<LiveSite, ProviderError> {
        let (members, teams, account_types, whoami) = tokio::join!(
            self.list_all::<wire::Member>(
                "/v2.1/members?includeArchived=true&includeInactive=true",
                "list members"
            ),
            self.teams_and_members(),
            self.account_types(),
            self.read::<wire::MemberRef>("/v2/whoami".into(), "find who the credentials belong to"),
        );
        let (account_types, custom) = account_types?;
        // Read after the rest, so the requests waiting at once stay few.
        let attrs = self.fetch_attrs(custom).await;
        let (members, (teams, team_members)) = (members?, teams?);
        let identity = whoami?.id();
        let (groups, mut memberships) = live_groups(teams, team_members)?;
        let users = live_users(&self.name, members, &mut memberships)?;
        let api_identity = identity.and_then(|id| {
            users
                .iter()
                .find(|u| u.id.as_deref() == Some(id.as_str()))
                .map(|u| u.email.clone())
        });
        let mut live = LiveSite {
            users,
            groups,
            account_types,
            api_identity,
            attrs: attrs?,
            ..LiveSite::default()
        };
        live.access = self.fetch_access(&live).await?;
        Ok(live)
    }

    /// The teams that are not archived, and each one's members: each team's
    /// members are read as soon as the teams are known, alongside the pages
    /// of members.
    async fn teams_and_members(&self) -> Result<(Vec<wire::Team>, TeamMembers), ProviderError> {
        let teams: Vec<wire::Team> = self.list_all("/v2.1/teams", "list teams").await?;
        let teams: Vec<wire::Team> = teams.into_iter().filter(|t| !t.is_archived).collect();
        for t in &teams {
            let name = t.name.as_deref().unwrap_or_default();
            let id = t.team_id.clone().unwrap_or_default();
            crate::provider::ids::usable_id(&self.name, "team", name, id)?;
        }
        let members = crate::provider::run_all(
            teams.iter().map(|t| {
                let id = t.team_id.clone().unwrap_or_default();
                async move {
                    let path = format!("/v2/teams/{}/members", crate::provider::path_segment(&id));
                    self.list_all::<wire::MemberRef>(&path, "list team members")
                        .await
                }
            }),
            TEAM_READS,
        )
        .await;
        Ok((teams, members))
    }
}

/// Each team's members, as read (in the order of the teams).
type TeamMembers = Vec<Result<Vec<wire::MemberRef>, ProviderError>>;

/// The teams each member is in, and those they administer, by member id.
#[derive(Default)]
struct Memberships {
    groups_of: HashMap<String, Vec<String>>,
    admin_of: HashMap<String, Vec<String>>,
}

/// The live groups (teams), and who is in each.
fn live_groups(
    teams: Vec<wire::Team>,
    team_members: TeamMembers,
) -> Result<(Vec<LiveGroup>, Memberships), ProviderError> {
    let mut memberships = Memberships::default();
    let mut groups = Vec::with_capacity(teams.len());
    for (team, members) in teams.into_iter().zip(team_members) {
        let name = team.name.unwrap_or_default();
        for member in members? {
            let admin = member.is_team_admin;
            if let Some(member) = member.id() {
                if admin {
                    memberships
                        .admin_of
                        .entry(member.clone())
                        .or_default()
                        .push(name.clone());
                }
                memberships
                    .groups_of
                    .entry(member)
                    .or_default()
                    .push(name.clone());
            }
        }
        groups.push(LiveGroup {
            id: team.team_id,
            name,
            access: None,
            description: team.description,
            visibility: team.visibility,
            version: None,
            member_groups: Vec::new(),
        });
    }
    Ok((groups, memberships))
}

/// The live people: members with an id and an email, with their teams.
/// A member whose id no URL path can carry is refused, naming them.
fn live_users(
    site: &str,
    members: Vec<wire::Member>,
    memberships: &mut Memberships,
) -> Result<Vec<LiveUser>, ProviderError> {
    let mut users = Vec::with_capacity(members.len());
    for m in members {
        let kind = m.kind();
        let Some(id) = m.member_id else {
            continue;
        };
        let email = m.email.as_deref().unwrap_or_default().trim().to_string();
        if email.is_empty() {
            continue;
        }
        let id = crate::provider::ids::usable_id(site, "member", &email, id)?;
        let locked = if id == SCHEDULER_ROBOT {
            Some(Locked::System)
        } else if m.is_inactive {
            Some(Locked::ScimInactive)
        } else {
            None
        };
        users.push(LiveUser {
            kind,
            admin_of: memberships.admin_of.remove(&id).unwrap_or_default(),
            groups: memberships.groups_of.remove(&id).unwrap_or_default(),
            id: Some(id),
            email,
            first_name: m.first_name.unwrap_or_default(),
            last_name: m.last_name.unwrap_or_default(),
            member_type: m.member_type,
            active: !m.is_archived,
            locked,
            version: None,
        });
    }
    Ok(users)
}
