//! Requests to a SCIM 2.0 service, discovery, and reading its users and
//! groups page by page. References: RFC 7643, RFC 7644, RFC 9865 (cursors).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderValue, IF_MATCH};
use serde_json::Value;

use super::wire;
use crate::model::{LiveGroup, LiveSite, LiveUser, email_key};
use crate::provider::{Pacing, SiteIds};
use crate::provider::error::{ProviderError, error_message};
use crate::provider::retry::{Pacer, Purpose, RetryPolicy};
use crate::secret::Secret;

const SCIM_JSON: &str = "application/scim+json";
/// The page size asked for when the service announces none.
const DEFAULT_PAGE_SIZE: usize = 100;
/// The most resources one list may hold before roster stops reading it
/// (a service that never ends its list).
const MAX_RESOURCES: usize = 1_000_000;
/// Groups whose members are read at once, when a list left them out.
const MEMBER_READS: usize = 8;

/// How a service is read and written, as its `/ServiceProviderConfig` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `patch.supported`: membership and field edits by PATCH; else PUT of
    /// the whole resource (read first, so nothing else on it is lost).
    pub patch: bool,
    /// `filter.supported`: look-ups by `userName eq "…"`; else by reading
    /// the whole list.
    pub filter: bool,
    /// `etag.supported`: writes carry `If-Match` with the version read.
    pub etag: bool,
    /// `bulk.maxOperations` when `bulk.supported` (announced; roster sends
    /// no bulk requests, so one failure stays one object's).
    pub bulk_max_operations: Option<u64>,
    pub paging: Paging,
    /// Resources asked for per page (`count`).
    pub page_size: usize,
    /// Where the service gives a group's members, as the read found.
    pub members: Members,
}

/// Where a service gives a group's `members`: learnt by the read, not
/// announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Members {
    /// In its list answers (or no group the read found has any).
    #[default]
    Listed,
    /// A list answer left out the members of a group whose own read found
    /// some. Such a service may leave them out of a group's plain read
    /// too, so a PUT of a group takes its members from a read that asks
    /// for them (`attributes=members`), never from one that may lack them.
    Apart,
}

impl Default for Capabilities {
    /// What RFC 7644 makes mandatory, and nothing optional.
    fn default() -> Self {
        Capabilities {
            patch: false,
            filter: false,
            etag: false,
            bulk_max_operations: None,
            paging: Paging::Index,
            page_size: DEFAULT_PAGE_SIZE,
            members: Members::Listed,
        }
    }
}

/// How lists are paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `startIndex`/`count` (RFC 7644 §3.4.2.4).
    Index,
    /// `cursor`/`nextCursor` (RFC 9865), when the service announces cursors
    /// and not index paging, or makes cursors its default.
    Cursor,
}

impl Capabilities {
    fn from_config(c: &wire::ServiceProviderConfig, options: &ScimOptions) -> Self {
        let p = &c.pagination;
        let cursor = p.cursor == Some(true)
            && (p.index == Some(false)
                || p.default_pagination_method
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case("cursor")));
        let announced = [p.max_page_size, c.filter.max_results]
            .into_iter()
            .flatten()
            .filter(|n| *n > 0)
            .min()
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        Capabilities {
            patch: c.patch.supported,
            filter: c.filter.supported,
            etag: c.etag.supported,
            bulk_max_operations: c
                .bulk
                .supported
                .then_some(c.bulk.max_operations.unwrap_or(0)),
            paging: if cursor {
                Paging::Cursor
            } else {
                Paging::Index
            },
            page_size: options.page_size.min(announced).max(1),
            members: Members::Listed,
        }
    }
}

/// An object on the service: its id, and its ETag (`meta.version`) as last
/// read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRef {
    pub id: String,
    pub etag: Option<String>,
}

/// What the writes need to know of a site, read with its live state and
/// handed to them explicitly; writes add and update what they learn (a
/// group created, a new ETag after an edit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimIds {
    pub capabilities: Capabilities,
    /// `email_key(userName)` -> the user.
    pub users: HashMap<String, ScimRef>,
    /// [`group_key`]`(displayName)` -> the group.
    pub groups: HashMap<String, ScimRef>,
}

impl ScimIds {
    /// What the writes need, from the ids and versions apply hands a site
    /// (read with the live state the plan was made from) and the service's
    /// `capabilities`.
    pub fn from_site(capabilities: Capabilities, ids: &SiteIds) -> ScimIds {
        let handles = |by_key: &HashMap<String, String>, versions: &HashMap<String, String>| {
            by_key
                .iter()
                .map(|(key, id)| {
                    let etag = versions.get(id).cloned();
                    (key.clone(), ScimRef { id: id.clone(), etag })
                })
                .collect()
        };
        ScimIds {
            capabilities,
            users: handles(&ids.members, &ids.member_versions),
            groups: handles(&ids.groups, &ids.group_versions),
        }
    }

    /// Writes these ids and versions (what the writes learnt included) back
    /// into `ids`, for the steps that follow.
    pub fn store_in(self, ids: &mut SiteIds) {
        let split = |refs: HashMap<String, ScimRef>| {
            let mut by_key = HashMap::with_capacity(refs.len());
            let mut versions = HashMap::new();
            for (key, r) in refs {
                if let Some(etag) = r.etag {
                    versions.insert(r.id.clone(), etag);
                }
                by_key.insert(key, r.id);
            }
            (by_key, versions)
        };
        (ids.members, ids.member_versions) = split(self.users);
        (ids.groups, ids.group_versions) = split(self.groups);
    }
}

/// The key two `displayName`s are matched by: trimmed, NFC, lower-cased
/// (RFC 7643 §4.2: `displayName` is not case-exact).
pub fn group_key(name: &str) -> String {
    email_key(name)
}

/// Tunables, for tests and for sites that need smaller requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScimOptions {
    /// The page size asked for (lowered to what the service announces).
    pub page_size: usize,
    /// Most members added or removed by one PATCH of a group.
    pub members_per_request: usize,
}

impl Default for ScimOptions {
    fn default() -> Self {
        ScimOptions {
            page_size: DEFAULT_PAGE_SIZE,
            members_per_request: 100,
        }
    }
}

pub struct ScimClient {
    http: reqwest::Client,
    base: url::Url,
    /// The site's name in the state, used in every error.
    pub(super) name: String,
    token: Secret,
    /// Where the token comes from, for the hint after a 401.
    token_from: String,
    pacer: Pacer,
    retry: RetryPolicy,
    pub(super) options: ScimOptions,
}

/// One request, described for errors and logs.
pub(super) struct Call<'a> {
    pub method: Method,
    /// The path under the base URL, segments escaped, maybe a query.
    pub path: String,
    pub action: &'a str,
    pub object: &'a str,
    pub body: Option<Value>,
    /// Sent as `If-Match`.
    pub if_match: Option<String>,
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
            if_match: None,
            effect: Effect::None,
        }
    }
}

/// What a write leaves behind that a read can find.
#[derive(Clone, Copy)]
pub(super) enum Effect<'a> {
    None,
    /// A user with this `userName` exists: the found user is the answer.
    UserExists(&'a str),
    /// A group with this `displayName` exists: the found group is the answer.
    GroupExists(&'a str),
    /// The object is gone: a 404 on a retry means an earlier try worked.
    Gone,
}

/// A successful answer.
#[derive(Debug, Clone, Default)]
pub(super) struct Reply {
    pub body: bytes::Bytes,
    /// The `ETag` header.
    pub etag: Option<String>,
}

impl Reply {
    /// The answer read as `T` (an empty body reads as `T`'s default).
    pub(super) fn read<T: serde::de::DeserializeOwned + Default>(&self) -> Option<T> {
        if self.body.is_empty() {
            return Some(T::default());
        }
        serde_json::from_slice(&self.body).ok()
    }
}

/// A resource read from a list: its id, the name roster knows it by
/// (`userName`, `displayName`) and its version.
pub(super) trait Resource: serde::de::DeserializeOwned {
    fn id(&self) -> Option<&str>;
    fn name(&self) -> Option<&str>;
    fn version(&self) -> Option<&str>;
}

impl Resource for wire::User {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.user_name.as_deref()
    }
    fn version(&self) -> Option<&str> {
        self.meta.version.as_deref()
    }
}

impl Resource for wire::Group {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }
    fn version(&self) -> Option<&str> {
        self.meta.version.as_deref()
    }
}

impl ScimClient {
    /// A client for the service at `base_url` (the SCIM root, such as
    /// `https://example.com/scim/v2`), sending `token` as a bearer token.
    /// `site` names the site in errors; `token_from` says where the token
    /// comes from (an environment variable's name), for the hint after a
    /// 401; `patience` is how long one request keeps trying through 429s.
    pub fn new(
        site: &str,
        base_url: &url::Url,
        token: Secret,
        token_from: &str,
        pacing: Pacing,
        patience: Duration,
    ) -> Result<Self, ProviderError> {
        Ok(ScimClient {
            http: crate::provider::http_client(site)?,
            base: base_url.clone(),
            name: site.to_string(),
            token,
            token_from: token_from.to_string(),
            pacer: Pacer::new(site, pacing),
            retry: RetryPolicy::from_env().with_patience(patience),
            options: ScimOptions::default(),
        })
    }

    /// This client with other tunables.
    /// The requests sent so far, and how many were retries.
    pub fn requests(&self) -> crate::provider::cost::Requests {
        self.pacer.requests()
    }

    /// The pacer every request of this client goes through.
    pub(crate) fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    #[must_use]
    pub fn with_options(self, options: ScimOptions) -> Self {
        ScimClient { options, ..self }
    }

    /// Reads `/ServiceProviderConfig`: what the service supports.
    pub async fn discover(&self) -> Result<Capabilities, ProviderError> {
        let action = "read the service provider configuration";
        let reply = self
            .send(&Call::get("/ServiceProviderConfig".into(), action, ""))
            .await?;
        let config: wire::ServiceProviderConfig = serde_json::from_slice(&reply.body)
            .map_err(|e| self.decode_error(action, format!("unexpected answer: {e}")))?;
        Ok(Capabilities::from_config(&config, &self.options))
    }

    /// Reads the service's capabilities, then every user and group: the
    /// live site, and the ids and ETags the writes need.
    pub async fn fetch(&self) -> Result<(LiveSite, ScimIds), ProviderError> {
        let capabilities = self.discover().await?;
        let (users, groups) = tokio::join!(
            self.list_all::<wire::User>("/Users", None, &capabilities, "list users"),
            self.list_all::<wire::Group>("/Groups", None, &capabilities, "list groups"),
        );
        let (users, mut groups) = (users?, groups?);
        let members = if self.read_left_out_members(&mut groups).await? {
            Members::Apart
        } else {
            Members::Listed
        };
        let mut ids = ScimIds {
            capabilities: Capabilities {
                members,
                ..capabilities
            },
            ..ScimIds::default()
        };
        let mut live_users = self.live_users(users, &mut ids)?;
        let live_groups = self.live_groups(groups, &mut live_users, &mut ids)?;
        Ok((
            LiveSite {
                users: live_users,
                groups: live_groups,
                account_types: Vec::new(),
                // The token belongs to the service, not to a user.
                api_identity: None,
                access: Default::default(),
                attrs: crate::attrs::LiveAttrs::default(),
            },
            ids,
        ))
    }

    /// Reads the members of each group the list answer left them out of
    /// (no `members` key: left out, or none; RFC 7643 §2.5 cannot tell),
    /// one `GET /Groups/{id}?attributes=members` each: at most one read per
    /// group, none for a group the list gave members for (`[]` included).
    /// A group still without `members` then has none. Whether any such
    /// read found members: the service leaves members out of lists.
    pub(super) async fn read_left_out_members(
        &self,
        groups: &mut [wire::Group],
    ) -> Result<bool, ProviderError> {
        let left_out: Vec<(usize, &str, &str)> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.members.is_none())
            .filter_map(|(i, g)| Some((i, g.id.as_deref()?, g.display_name.as_deref()?)))
            .collect();
        let reads = crate::provider::run_all(
            left_out
                .iter()
                .map(|(_, id, name)| self.group_members(id, name, "read the members of group")),
            MEMBER_READS,
        )
        .await;
        let left_out: Vec<usize> = left_out.into_iter().map(|(i, _, _)| i).collect();
        let mut apart = false;
        for (i, read) in left_out.into_iter().zip(reads) {
            let members = read?;
            apart |= !members.is_empty();
            groups[i].members = Some(members);
        }
        Ok(apart)
    }

    /// The members of the group with `id`, asked for by name
    /// (`attributes=members`, RFC 7644 §3.4.2.5); none when the answer
    /// still has no `members`.
    pub(super) async fn group_members(
        &self,
        id: &str,
        object: &str,
        action: &str,
    ) -> Result<Vec<wire::Member>, ProviderError> {
        let path = format!(
            "/Groups/{}?attributes=members",
            crate::provider::path_segment(id)
        );
        let reply = self.send(&Call::get(path, action, object)).await?;
        let group: wire::Group = reply
            .read()
            .ok_or_else(|| self.decode_error(action, "the group read is not a group".into()))?;
        Ok(group.members.unwrap_or_default())
    }

    /// Users as the model has them; userNames equal but for case are
    /// refused (the service should have kept them apart, RFC 7643 §4.1.1).
    fn live_users(
        &self,
        users: Vec<wire::User>,
        ids: &mut ScimIds,
    ) -> Result<Vec<LiveUser>, ProviderError> {
        let mut live = Vec::with_capacity(users.len());
        for (i, u) in users.into_iter().enumerate() {
            // userName is required (RFC 7643 §4.1.1); without it, the
            // primary email stands in.
            let user_name = u
                .user_name
                .clone()
                .or_else(|| u.primary_email().map(str::to_string));
            let (Some(id), Some(user_name)) = (u.id.clone(), user_name) else {
                return Err(self.decode_error(
                    "list users",
                    format!(
                        "user #{} has no `id`, or neither a `userName` nor an email",
                        i + 1
                    ),
                ));
            };
            let user_name = user_name.trim().to_string();
            let id = crate::provider::ids::usable_id(&self.name, "user", &user_name, id)?;
            let key = email_key(&user_name);
            let handle = ScimRef {
                id: id.clone(),
                etag: u.meta.version.clone(),
            };
            let version = u.meta.version;
            if ids.users.insert(key.clone(), handle).is_some() {
                return Err(self.duplicate("users", "userName", &user_name));
            }
            live.push(LiveUser {
                id: Some(id),
                email: user_name,
                first_name: u.name.given_name.unwrap_or_default(),
                last_name: u.name.family_name.unwrap_or_default(),
                active: u.active.unwrap_or(true),
                version,
                ..LiveUser::default()
            });
        }
        Ok(live)
    }

    /// Groups as the model has them, each user's groups and each group's
    /// nested groups from the groups' `members` (a member is a group when
    /// its id is one, or the service types it `Group`; other members that
    /// are not users are left out).
    fn live_groups(
        &self,
        groups: Vec<wire::Group>,
        users: &mut [LiveUser],
        ids: &mut ScimIds,
    ) -> Result<Vec<LiveGroup>, ProviderError> {
        let by_id: HashMap<String, usize> = users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| Some((u.id.clone()?, i)))
            .collect();
        let group_names: HashMap<String, String> = groups
            .iter()
            .filter_map(|g| Some((g.id.clone()?, g.display_name.clone()?)))
            .collect();
        let mut live = Vec::with_capacity(groups.len());
        for (i, g) in groups.into_iter().enumerate() {
            let (Some(id), Some(name)) = (g.id, g.display_name) else {
                return Err(self.decode_error(
                    "list groups",
                    format!("group #{} has no `id` or no `displayName`", i + 1),
                ));
            };
            let id = crate::provider::ids::usable_id(&self.name, "group", &name, id)?;
            let handle = ScimRef {
                id: id.clone(),
                etag: g.meta.version.clone(),
            };
            if ids.groups.insert(group_key(&name), handle).is_some() {
                return Err(self.duplicate("groups", "displayName", &name));
            }
            let mut member_groups = Vec::new();
            for member in g.members.iter().flatten() {
                let Some(value) = member.value.as_ref() else {
                    continue;
                };
                match (by_id.get(value), group_names.get(value)) {
                    (Some(&u), _) if !member.is_group() => users[u].groups.push(name.clone()),
                    (_, Some(group)) => member_groups.push(group.clone()),
                    _ if member.is_group() => member_groups.push(value.clone()),
                    _ => {}
                }
            }
            member_groups.sort();
            live.push(LiveGroup {
                id: Some(id),
                name,
                version: g.meta.version,
                member_groups,
                ..LiveGroup::default()
            });
        }
        Ok(live)
    }

    fn duplicate(&self, what: &str, field: &str, value: &str) -> ProviderError {
        ProviderError::Unsupported {
            site: self.name.clone(),
            message: format!(
                "two {what} have the {field} {value:?} (compared case-insensitively); \
                 roster cannot tell them apart: rename or remove one on the service"
            ),
        }
    }

    /// Every resource of `endpoint` (matching `filter`, if any), page by
    /// page. A list that never ends, repeats a resource or a cursor, or
    /// holds more than its `totalResults` is refused: a plan is never made
    /// from what may be part of a list.
    pub(super) async fn list_all<T: Resource>(
        &self,
        endpoint: &str,
        filter: Option<&str>,
        caps: &Capabilities,
        action: &str,
    ) -> Result<Vec<T>, ProviderError> {
        let filter = filter.map(|f| format!("&filter={}", crate::provider::path_segment(f)));
        let filter = filter.as_deref().unwrap_or_default();
        let count = caps.page_size;
        let mut items: Vec<T> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut cursors: HashSet<String> = HashSet::new();
        let mut page = Page::First;
        loop {
            let query = match (&page, caps.paging) {
                (Page::Cursor(c), _) => {
                    format!("cursor={}&count={count}", crate::provider::path_segment(c))
                }
                (Page::First, Paging::Cursor) => format!("cursor=&count={count}"),
                (Page::First, Paging::Index) => format!("startIndex=1&count={count}"),
                (Page::Index(s), _) => format!("startIndex={s}&count={count}"),
            };
            let path = format!("{endpoint}?{query}{filter}");
            let reply = self.send(&Call::get(path, action, "")).await?;
            let list: wire::ListResponse<T> = serde_json::from_slice(&reply.body)
                .map_err(|e| self.decode_error(action, format!("unexpected answer: {e}")))?;
            let got = list.resources.len();
            for item in list.resources {
                if let Some(id) = item.id()
                    && !seen.insert(id.to_string())
                {
                    return Err(self.partial(action, &format!("repeats the resource {id:?}")));
                }
                items.push(item);
            }
            if items.len() > MAX_RESOURCES {
                return Err(self.partial(action, &format!("goes past {MAX_RESOURCES} resources")));
            }
            if let Some(total) = list.total_results
                && got == 0
                && (items.len() as u64) < total
            {
                return Err(self.partial(
                    action,
                    &format!(
                        "ends with an empty page after {} of its totalResults ({total})",
                        items.len()
                    ),
                ));
            }
            if let Some(total) = list.total_results
                && items.len() as u64 > total
            {
                return Err(self.partial(
                    action,
                    &format!("holds more resources than its totalResults ({total})"),
                ));
            }
            page = match next_page(
                caps.paging,
                &page,
                got,
                count,
                list.total_results,
                &items,
                list.next_cursor,
            ) {
                Some(Page::Cursor(c)) if !cursors.insert(c.clone()) => {
                    return Err(self.partial(action, &format!("repeats the cursor {c:?}")));
                }
                Some(next) => next,
                None => return Ok(items),
            };
        }
    }

    /// The refusal of a list that may be partial or never end.
    fn partial(&self, action: &str, what: &str) -> ProviderError {
        ProviderError::Unsupported {
            site: self.name.clone(),
            message: format!(
                "{action}: the list {what}; refusing to plan from what may be part of the list \
                 (does the service honour startIndex/count?)"
            ),
        }
    }

    /// The user whose `userName` is `user_name` (compared as emails are,
    /// case-insensitively), found with a `userName eq` filter where the
    /// service has filters, else in the whole list; `None` if there is none.
    pub async fn lookup_user(
        &self,
        caps: &Capabilities,
        user_name: &str,
    ) -> Result<Option<ScimRef>, ProviderError> {
        self.lookup::<wire::User>(caps, "/Users", "userName", user_name, email_key)
            .await
    }

    /// The group whose `displayName` is `name` (by [`group_key`]), found
    /// with a `displayName eq` filter where the service has filters, else
    /// in the whole list.
    pub async fn lookup_group(
        &self,
        caps: &Capabilities,
        name: &str,
    ) -> Result<Option<ScimRef>, ProviderError> {
        self.lookup::<wire::Group>(caps, "/Groups", "displayName", name, group_key)
            .await
    }

    /// The resource of `endpoint` whose `attribute` has the same `key` as
    /// `value`.
    async fn lookup<T: Resource>(
        &self,
        caps: &Capabilities,
        endpoint: &str,
        attribute: &str,
        value: &str,
        key: fn(&str) -> String,
    ) -> Result<Option<ScimRef>, ProviderError> {
        let filter = format!("{attribute} eq {}", quoted(value));
        let wanted = key(value);
        let found: Vec<T> = Box::pin(self.list_all(
            endpoint,
            caps.filter.then_some(filter.as_str()),
            caps,
            "look up",
        ))
        .await?;
        Ok(found
            .into_iter()
            .find(|r| r.name().map(key).as_ref() == Some(&wanted))
            .and_then(|r| {
                Some(ScimRef {
                    id: r.id()?.to_string(),
                    etag: r.version().map(str::to_string),
                })
            }))
    }

    /// Sends a request, retrying what is safe to retry (429s, and after a
    /// 5xx or a lost connection, what an earlier try cannot have done
    /// twice). A create whose answer was lost is never sent again blindly:
    /// the service is searched first, and what it finds is the answer.
    pub(super) async fn send_with(
        &self,
        call: &Call<'_>,
        caps: &Capabilities,
    ) -> Result<Reply, ProviderError> {
        // Whether a try went unanswered (it may have been carried out).
        let lost = std::sync::atomic::AtomicBool::new(false);
        let lost = &lost;
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
                    if f.ambiguous {
                        lost.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    let found = match call.effect {
                        Effect::Gone if f.attempt > 1 && f.status == Some(404) => {
                            return Some(Reply::default());
                        }
                        Effect::UserExists(name)
                            if f.ambiguous || (f.attempt > 1 && f.status == Some(409)) =>
                        {
                            self.lookup_user(caps, name).await
                        }
                        Effect::GroupExists(name)
                            if f.ambiguous || (f.attempt > 1 && f.status == Some(409)) =>
                        {
                            self.lookup_group(caps, name).await
                        }
                        _ => return None,
                    };
                    // A failed look-up finds nothing: the create is not
                    // counted as done.
                    let found = found.ok().flatten()?;
                    tracing::debug!(site = ?self.name, action = call.action, "found after a lost answer");
                    Some(Reply {
                        body: serde_json::to_vec(&serde_json::json!({
                            "id": found.id,
                            "meta": {"version": found.etag},
                        }))
                        .unwrap_or_default()
                        .into(),
                        etag: None,
                    })
                },
            )
            .await
            .map_err(|e| Self::explain(e, call, lost.load(std::sync::atomic::Ordering::Relaxed)))
    }

    /// [`Self::send_with`] for a call with no effect to look for.
    pub(super) async fn send(&self, call: &Call<'_>) -> Result<Reply, ProviderError> {
        self.send_with(call, &Capabilities::default()).await
    }

    /// One try: the successful answer, or the error with the service's
    /// SCIM error detail.
    async fn send_once(&self, call: &Call<'_>) -> Result<Reply, ProviderError> {
        let request = self.request(call)?;
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
            duration_ms = answer.elapsed.as_millis() as u64,
            "scim request"
        );
        if answer.status.is_success() {
            let etag = answer
                .headers
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(Reply {
                body: answer.body,
                etag,
            });
        }
        Err(ProviderError::Http {
            site: self.name.clone(),
            action: call.action.to_string(),
            object: call.object.to_string(),
            status: answer.status.as_u16(),
            message: self.error_text(&answer.body, answer.status),
            retry_after: answer.retry_after,
        })
    }

    /// The request for `call`: bearer token, SCIM media types, `If-Match`.
    fn request(&self, call: &Call<'_>) -> Result<reqwest::RequestBuilder, ProviderError> {
        crate::provider::check_path(&self.name, call.action, call.object, &call.path)?;
        let url = crate::provider::endpoint(&self.base, &call.path);
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
            .map_err(|_| self.transport(call, "the token cannot be sent in a header".into()))?;
        bearer.set_sensitive(true);
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .header(AUTHORIZATION, bearer)
            .header(ACCEPT, SCIM_JSON);
        if let Some(tag) = &call.if_match {
            let tag = HeaderValue::from_str(tag)
                .map_err(|_| self.transport(call, "the ETag cannot be sent in a header".into()))?;
            request = request.header(IF_MATCH, tag);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, SCIM_JSON)
                .body(serde_json::to_vec(body).unwrap_or_default());
        }
        Ok(request)
    }

    /// An error body said in words: a SCIM error's `detail` and `scimType`,
    /// else what [`error_message`] makes of it; and a hint where one helps.
    fn error_text(&self, body: &[u8], status: reqwest::StatusCode) -> String {
        let secrets = [self.token.expose()];
        let mut text = match wire::Error::parse(body) {
            Some(e) => {
                let detail = e.detail.as_deref().map_or_else(
                    || "(no detail)".to_string(),
                    |d| error_message(d.as_bytes(), &secrets),
                );
                match e.scim_type {
                    Some(t) => format!(
                        "{detail} (scimType {})",
                        error_message(t.as_bytes(), &secrets)
                    ),
                    None => detail,
                }
            }
            None => error_message(body, &secrets),
        };
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            text.push_str(&format!(
                " (the service refused the bearer token: check the value of {})",
                self.token_from
            ));
        } else if status.is_redirection() {
            text.push_str(crate::provider::REDIRECT_HINT);
        }
        text
    }

    /// Says what a 409 or a 412 means for the object at hand.
    /// `lost`: an earlier try of the same request went unanswered.
    fn explain(mut e: ProviderError, call: &Call<'_>, lost: bool) -> ProviderError {
        let what = match e.status() {
            Some(412) if lost => format!(
                "{} no longer has the version read for the plan: an earlier try of this \
                 request went unanswered and may have made the change, or someone else \
                 changed it; nothing was overwritten: plan again",
                call.object
            ),
            Some(412) => format!(
                "{} was changed on the service since the plan was read (its ETag no longer \
                 matches), so it was not overwritten: plan again",
                call.object
            ),
            Some(409) if matches!(call.effect, Effect::UserExists(_) | Effect::GroupExists(_)) => {
                format!(
                    "the service already has {} (uniqueness: compared case-insensitively, \
                     maybe under another case or a deactivated account)",
                    call.object
                )
            }
            _ => return e,
        };
        e.add_note(&what);
        e
    }

    pub(super) fn transport(&self, call: &Call<'_>, message: String) -> ProviderError {
        ProviderError::Transport {
            site: self.name.clone(),
            action: call.action.to_string(),
            object: call.object.to_string(),
            message,
        }
    }

    /// A decode error; its message (which may quote the answer) scrubbed.
    pub(super) fn decode_error(&self, action: &str, message: String) -> ProviderError {
        ProviderError::Decode {
            site: self.name.clone(),
            action: action.to_string(),
            message: crate::provider::scrub::scrub(&message, &[self.token.expose()]),
        }
    }
}

/// Where the next page of a list starts.
enum Page {
    First,
    /// `startIndex`, from 1.
    Index(u64),
    Cursor(String),
}

/// The page after `current`, or `None` after the last: an empty page ends
/// a list; so does reaching `totalResults`, or (without it) a short page;
/// with cursors, a page without `nextCursor`.
fn next_page<T>(
    paging: Paging,
    current: &Page,
    got: usize,
    asked: usize,
    total: Option<u64>,
    items: &[T],
    next_cursor: Option<String>,
) -> Option<Page> {
    if got == 0 {
        return None;
    }
    if paging == Paging::Cursor {
        return next_cursor.filter(|c| !c.is_empty()).map(Page::Cursor);
    }
    let read = items.len() as u64;
    match total {
        Some(total) if read >= total => None,
        None if got < asked => None,
        _ => {
            let start = match current {
                Page::Index(s) => *s,
                Page::First | Page::Cursor(_) => 1,
            };
            Some(Page::Index(start + got as u64))
        }
    }
}

/// A filter's string literal (RFC 7644 §3.4.2.2: JSON string syntax).
fn quoted(value: &str) -> String {
    Value::String(value.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_configuration() {
        let config: wire::ServiceProviderConfig = serde_json::from_value(serde_json::json!({
            "patch": {"supported": true},
            "filter": {"supported": true, "maxResults": 50},
            "etag": {"supported": false},
            "pagination": {"cursor": true, "index": true, "defaultPaginationMethod": "cursor"}
        }))
        .unwrap();
        let caps = Capabilities::from_config(&config, &ScimOptions::default());
        assert!(caps.patch && caps.filter && !caps.etag);
        assert_eq!(caps.bulk_max_operations, None);
        assert_eq!(caps.paging, Paging::Cursor);
        assert_eq!(caps.page_size, 50);
        let plain = Capabilities::from_config(
            &wire::ServiceProviderConfig::default(),
            &ScimOptions::default(),
        );
        assert_eq!(plain, Capabilities::default());
    }

    #[test]
    fn pages_end_on_an_empty_page_the_total_or_a_short_page() {
        let three = [1, 2, 3];
        let next = |got, total, items: &[i32]| {
            next_page(Paging::Index, &Page::First, got, 3, total, items, None).map(|p| match p {
                Page::Index(s) => s,
                _ => 0,
            })
        };
        assert_eq!(next(3, Some(7), &three), Some(4));
        assert_eq!(next(3, Some(3), &three), None);
        assert_eq!(next(0, Some(7), &three), None);
        assert_eq!(next(2, None, &three[..2]), None);
        assert_eq!(next(3, None, &three), Some(4));
        // Cursors: the next one is followed; none, or an empty one, ends.
        let cursor = |got, c: Option<&str>| {
            next_page(
                Paging::Cursor,
                &Page::First,
                got,
                3,
                Some(9),
                &three,
                c.map(str::to_string),
            )
            .map(|p| match p {
                Page::Cursor(c) => c,
                _ => String::new(),
            })
        };
        assert_eq!(cursor(3, Some("c2")).as_deref(), Some("c2"));
        assert_eq!(cursor(3, Some("")), None);
        assert_eq!(cursor(3, None), None);
        assert_eq!(cursor(0, Some("c2")), None);
    }

    #[test]
    fn filter_literals_are_json_strings() {
        assert_eq!(quoted(r#"a"b\c@x.io"#), r#""a\"b\\c@x.io""#);
    }
}
