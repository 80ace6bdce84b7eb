//! Carrying out planned changes on Sigma: members created with `addToTeams`,
//! only changed fields PATCHed, deactivation with document handover, and
//! team membership batched per team (`PATCH /v2/teams/{id}/members`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{Call, Effect, SigmaClient};
use crate::interrupt::SiteGate;
use crate::model::{Handover, ProviderKind, Visibility, email_key};
use crate::model::{Change, Diff};
use crate::provider::error::ProviderError;
use crate::provider::ids::SiteIds;

/// Most member IDs sent in one team membership request.
const MEMBERS_PER_REQUEST: usize = 1000;

use crate::provider::path_segment as encode;

/// A team's membership edits, and the changes (by index) they come from.
#[derive(Default)]
struct TeamBatch {
    add: Vec<String>,
    remove: Vec<String>,
    from: Vec<usize>,
}

impl SigmaClient {
    /// Carries out one step's changes: each concurrently, then (for users)
    /// the membership edits of the whole step, one request per team. A
    /// change the gate does not let start is not sent; the membership edits
    /// of changes already started are sent even after a stop. `ids` are the
    /// site's, as read for the plan; what the writes learn is added to them.
    pub async fn apply_step(
        &self,
        changes: &[&Change],
        concurrency: usize,
        gate: SiteGate<'_>,
        ids: &Mutex<SiteIds>,
    ) -> Vec<Result<(), ProviderError>> {
        let mut results: Vec<Result<(), ProviderError>> = crate::provider::run_all(
            changes
                .iter()
                .map(|c| crate::provider::gated(gate, c, self.apply_one(c, ids))),
            concurrency,
        )
        .await;

        // Membership edits of users whose own change went through.
        let mut batches: BTreeMap<String, TeamBatch> = BTreeMap::new();
        for (i, change) in changes.iter().enumerate() {
            let Change::UpdateUser {
                email,
                groups: Some(m),
                ..
            } = change
            else {
                continue;
            };
            if results[i].is_err() {
                continue;
            }
            let member = match self.member_id(ids, email, None) {
                Ok(id) => id,
                Err(e) => {
                    results[i] = Err(e);
                    continue;
                }
            };
            for (names, add) in [(&m.added, true), (&m.removed, false)] {
                for name in names {
                    match self.team_id(ids, name, "change the members of team") {
                        Ok(team) => {
                            let batch = batches.entry(team).or_default();
                            if add {
                                batch.add.push(member.clone());
                            } else {
                                batch.remove.push(member.clone());
                            }
                            if !batch.from.contains(&i) {
                                batch.from.push(i);
                            }
                        }
                        Err(e) => results[i] = Err(e),
                    }
                }
            }
        }
        let outcomes: Vec<(Vec<usize>, Result<(), ProviderError>)> = crate::provider::run_all(
            batches.into_iter().map(|(team, batch)| async move {
                let _under_way: Vec<_> = batch
                    .from
                    .iter()
                    .map(|i| gate.resume(changes[*i]))
                    .collect();
                (
                    batch.from.clone(),
                    self.patch_team_members(ids, &team, batch.add, batch.remove)
                        .await,
                )
            }),
            concurrency,
        )
        .await;
        for (from, outcome) in outcomes {
            if let Err(e) = outcome {
                for i in from {
                    if results[i].is_ok() {
                        results[i] = Err(e.clone());
                    }
                }
            }
        }
        results
    }

    async fn patch_team_members(
        &self,
        ids: &Mutex<SiteIds>,
        team: &str,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<(), ProviderError> {
        let object = Self::team_name(ids, team);
        let mut add = add.chunks(MEMBERS_PER_REQUEST);
        let mut remove = remove.chunks(MEMBERS_PER_REQUEST);
        loop {
            let (a, r) = (add.next(), remove.next());
            if a.is_none() && r.is_none() {
                return Ok(());
            }
            let mut body = Map::new();
            if let Some(a) = a {
                body.insert("add".into(), json!(a));
            }
            if let Some(r) = r {
                body.insert("remove".into(), json!(r));
            }
            self.send(&Call {
                method: Method::PATCH,
                path: format!("/v2/teams/{}/members", encode(team)),
                action: "change the members of team",
                effect: Effect::None,
                object: &object,
                body: Some(Value::Object(body)),
            })
            .await?;
        }
    }

    fn team_name(ids: &Mutex<SiteIds>, id: &str) -> String {
        let ids = ids.lock().expect("ids lock");
        ids.groups
            .iter()
            .find(|(_, v)| *v == id)
            .map_or_else(|| id.to_string(), |(k, _)| k.clone())
    }

    fn member_id(
        &self,
        ids: &Mutex<SiteIds>,
        email: &str,
        planned: Option<&String>,
    ) -> Result<String, ProviderError> {
        if let Some(id) = planned {
            return Ok(id.clone());
        }
        ids.lock()
            .expect("ids lock")
            .members
            .get(&email_key(email))
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("no member with email {email} was found on the site"),
            })
    }

    fn team_id(
        &self,
        ids: &Mutex<SiteIds>,
        name: &str,
        action: &str,
    ) -> Result<String, ProviderError> {
        ids.lock()
            .expect("ids lock")
            .groups
            .get(&ProviderKind::Sigma.group_key(name))
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("cannot {action} `{name}`: no such team on the site"),
            })
    }

    /// Carries out one change: a team's in [`Self::apply_team_change`], a
    /// member's in [`Self::apply_member_change`].
    async fn apply_one(&self, change: &Change, ids: &Mutex<SiteIds>) -> Result<(), ProviderError> {
        match change {
            Change::CreateGroup { .. }
            | Change::UpdateGroup { .. }
            | Change::DeleteGroup { .. } => self.apply_team_change(change, ids).await,
            Change::CreateUser { .. }
            | Change::UpdateUser { .. }
            | Change::DeactivateUser { .. }
            | Change::DeleteUser { .. } => self.apply_member_change(change, ids).await,
            Change::Access(a) => self.apply_access(a, ids).await,
            Change::CreateAttribute { .. }
            | Change::ReplaceAttribute { .. }
            | Change::DeleteAttribute { .. } => self.apply_attribute_change(change, ids).await,
            Change::SetAttributes { .. } => self.apply_values(change, ids).await,
            Change::CreateAccountType { .. }
            | Change::ReplaceAccountType { .. }
            | Change::DeleteAccountType { .. } => self.apply_account_type_change(change, ids).await,
        }
    }

    /// Creates, updates or deletes a team, keeping `ids` in step.
    async fn apply_team_change(
        &self,
        change: &Change,
        ids: &Mutex<SiteIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateGroup {
                name,
                description,
                visibility,
                ..
            } => {
                let created = self
                    .send(&Call {
                        method: Method::POST,
                        path: "/v2/teams".into(),
                        action: "create team",
                        effect: Effect::TeamExists(name),
                        object: name,
                        body: Some(new_team_body(name, description.as_deref(), *visibility)),
                    })
                    .await?;
                self.remember_team(ids, name, &created)
            }
            Change::UpdateGroup {
                live_name,
                id,
                name,
                description,
                visibility,
                ..
            } => {
                let team = match id {
                    Some(id) => id.clone(),
                    None => self.team_id(ids, live_name, "update team")?,
                };
                let body =
                    team_update_body(name.as_ref(), description.as_ref(), visibility.as_ref());
                self.send(&Call {
                    method: Method::PATCH,
                    path: format!("/v2/teams/{}", encode(&team)),
                    action: "update team",
                    effect: Effect::None,
                    object: live_name,
                    body: Some(body),
                })
                .await?;
                if let Some(n) = name {
                    let mut ids = ids.lock().expect("ids lock");
                    ids.groups.remove(&ProviderKind::Sigma.group_key(&n.before));
                    ids.groups
                        .insert(ProviderKind::Sigma.group_key(&n.after), team);
                }
                Ok(())
            }
            Change::DeleteGroup { name, id } => {
                let team = match id {
                    Some(id) => id.clone(),
                    None => self.team_id(ids, name, "delete team")?,
                };
                self.send(&Call {
                    method: Method::DELETE,
                    path: format!("/v2/teams/{}", encode(&team)),
                    action: "delete team",
                    effect: Effect::Gone,
                    object: name,
                    body: None,
                })
                .await
                .map(|_| ())
            }
            _ => unreachable!("`apply_one` gives apply_team_change team changes only"),
        }
    }

    /// Records the id of a team just created, from the answer.
    fn remember_team(
        &self,
        ids: &Mutex<SiteIds>,
        name: &str,
        created: &Value,
    ) -> Result<(), ProviderError> {
        let id = created
            .get("teamId")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Decode {
                site: self.name.clone(),
                action: "create team".into(),
                message: "no teamId in the answer".into(),
            })?;
        ids.lock()
            .expect("ids lock")
            .groups
            .insert(ProviderKind::Sigma.group_key(name), id.to_string());
        Ok(())
    }

    /// Creates, updates or deactivates a member, keeping `ids` in step
    /// (Sigma members cannot be deleted: that change is refused).
    async fn apply_member_change(
        &self,
        change: &Change,
        ids: &Mutex<SiteIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateUser {
                email,
                groups,
                admin_of,
                ..
            } => {
                let mut body = new_member_body(change);
                if !groups.is_empty() {
                    let teams = self.teams_to_join(ids, groups, admin_of)?;
                    body.insert("addToTeams".into(), Value::Array(teams));
                }
                self.create_member(ids, email, body).await
            }
            Change::UpdateUser {
                email,
                id,
                renamed_from,
                ..
            } => {
                let body = member_update_body(change);
                if body.is_empty() {
                    // Only memberships change; the step batches them.
                    return Ok(());
                }
                let lookup = renamed_from.as_deref().unwrap_or(email);
                let member = self.member_id(ids, lookup, id.as_ref())?;
                self.send(&Call {
                    method: Method::PATCH,
                    path: format!("/v2/members/{}", encode(&member)),
                    action: "update member",
                    effect: Effect::None,
                    object: email,
                    body: Some(Value::Object(body)),
                })
                .await?;
                if renamed_from.is_some() {
                    ids.lock()
                        .expect("ids lock")
                        .members
                        .insert(email_key(email), member);
                }
                Ok(())
            }
            Change::DeactivateUser {
                email,
                id,
                handover,
                archive_schedules,
                revoke_tokens,
                ..
            } => {
                let member = self.member_id(ids, email, id.as_ref())?;
                let (method, body) = self.deactivation(ids, handover, *archive_schedules)?;
                self.send(&Call {
                    method,
                    path: format!("/v2/members/{}", encode(&member)),
                    action: "deactivate member",
                    effect: Effect::None,
                    object: email,
                    body,
                })
                .await?;
                if *revoke_tokens {
                    self.revoke_tokens(&member, email).await?;
                }
                Ok(())
            }
            Change::DeleteUser { email } => Err(ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("cannot delete {email}: Sigma members can only be deactivated"),
            }),
            _ => unreachable!("`apply_one` gives apply_member_change member changes only"),
        }
    }

    /// The teams a new member joins (`addToTeams`), admin of those in
    /// `admin_of`.
    fn teams_to_join(
        &self,
        ids: &Mutex<SiteIds>,
        groups: &[String],
        admin_of: &[String],
    ) -> Result<Vec<Value>, ProviderError> {
        groups
            .iter()
            .map(|g| {
                let admin = admin_of
                    .iter()
                    .any(|a| ProviderKind::Sigma.same_group(a, g));
                self.team_id(ids, g, "add a new member to team").map(|id| {
                    if admin {
                        json!({ "teamId": id, "isTeamAdmin": true })
                    } else {
                        json!({ "teamId": id })
                    }
                })
            })
            .collect()
    }

    /// Creates a member and records its id.
    async fn create_member(
        &self,
        ids: &Mutex<SiteIds>,
        email: &str,
        body: Map<String, Value>,
    ) -> Result<(), ProviderError> {
        let created = self
            .send(&Call {
                method: Method::POST,
                // Without an invitation where the site says so
                // (sendInvite is a query parameter).
                path: if self.org.send_invites {
                    "/v2/members".into()
                } else {
                    "/v2/members?sendInvite=false".into()
                },
                action: "create member",
                effect: Effect::MemberExists(email),
                object: email,
                body: Some(Value::Object(body)),
            })
            .await?;
        if let Some(id) = created.get("memberId").and_then(Value::as_str) {
            ids.lock()
                .expect("ids lock")
                .members
                .insert(email_key(email), id.to_string());
        }
        Ok(())
    }

    /// Revokes a deactivated member's OAuth refresh tokens (OIDC sign-on,
    /// warehouse connections), so Sigma can no longer issue access tokens
    /// on their behalf. Sigma's OpenAPI (`revokeMemberTokens`): `POST
    /// /v2/members/{memberId}/revoke`, an empty object as body, admin
    /// credentials; sessions and access tokens already issued run out on
    /// their own. Sent again after a lost answer: revoking twice is harmless.
    async fn revoke_tokens(&self, member: &str, email: &str) -> Result<(), ProviderError> {
        self.send(&Call {
            method: Method::POST,
            path: format!("/v2/members/{}/revoke", encode(member)),
            action: "revoke the OAuth tokens of deactivated member",
            effect: Effect::None,
            object: email,
            body: Some(json!({})),
        })
        .await
        .map(|_| ())
    }

    /// How a member is deactivated: the method and body that hand over (or
    /// archive) their documents and, if asked, archive their schedules.
    fn deactivation(
        &self,
        ids: &Mutex<SiteIds>,
        handover: &Handover,
        archive_schedules: bool,
    ) -> Result<(Method, Option<Value>), ProviderError> {
        let (method, mut body) = match handover {
            // PATCH to archive the schedules; the documents still go
            // to the credentials' owner, as DELETE sends them.
            // `Nothing` is never a Sigma site's (its settings always
            // name where documents go): Sigma's own default.
            Handover::CredentialsOwner | Handover::Nothing if archive_schedules => {
                (Method::PATCH, Some(json!({ "isArchived": true })))
            }
            Handover::CredentialsOwner | Handover::Nothing => (Method::DELETE, None),
            Handover::Archive => (
                Method::PATCH,
                Some(json!({ "isArchived": true, "archiveDocuments": true })),
            ),
            Handover::NewOwner(owner) => {
                let owner_id = self.member_id(ids, owner, None)?;
                (
                    Method::PATCH,
                    Some(json!({ "isArchived": true, "newOwnerId": owner_id })),
                )
            }
        };
        // archiveDocuments archives the schedules too.
        if let (Some(Value::Object(b)), true, false) =
            (&mut body, archive_schedules, *handover == Handover::Archive)
        {
            b.insert("archiveScheduledExports".into(), json!(true));
        }
        Ok((method, body))
    }
}

/// The body that creates a team.
fn new_team_body(name: &str, description: Option<&str>, visibility: Option<Visibility>) -> Value {
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    if let Some(d) = description {
        body.insert("description".into(), json!(d));
    }
    if let Some(v) = visibility {
        body.insert("visibility".into(), json!(v.as_str()));
    }
    Value::Object(body)
}

/// The body that updates a team: the fields that change.
fn team_update_body(
    name: Option<&Diff<String>>,
    description: Option<&Diff<String>>,
    visibility: Option<&Diff<String>>,
) -> Value {
    let mut body = Map::new();
    if let Some(n) = name {
        body.insert("name".into(), json!(n.after));
    }
    if let Some(d) = description {
        body.insert("description".into(), json!(d.after));
    }
    if let Some(v) = visibility {
        body.insert("visibility".into(), json!(v.after));
    }
    Value::Object(body)
}

/// The body that creates a member (`CreateUser`), without its teams.
fn new_member_body(change: &Change) -> Map<String, Value> {
    let mut body = Map::new();
    if let Change::CreateUser {
        email,
        first_name,
        last_name,
        member_type,
        kind,
        ..
    } = change
    {
        body.insert("email".into(), json!(email));
        if !kind.is_internal() {
            body.insert("userKind".into(), json!(kind.as_str()));
        }
        body.insert("firstName".into(), json!(first_name));
        body.insert("lastName".into(), json!(last_name));
        if let Some(t) = member_type {
            body.insert("memberType".into(), json!(t));
        }
    }
    body
}

/// The body that updates a member (`UpdateUser`): the fields that change;
/// empty when only memberships do.
fn member_update_body(change: &Change) -> Map<String, Value> {
    let mut body = Map::new();
    if let Change::UpdateUser {
        email,
        renamed_from,
        first_name,
        last_name,
        member_type,
        kind,
        reactivate,
        ..
    } = change
    {
        if let Some(k) = kind {
            body.insert("userKind".into(), json!(k.after));
        }
        if renamed_from.is_some() {
            body.insert("email".into(), json!(email));
        }
        if let Some(d) = first_name {
            body.insert("firstName".into(), json!(d.after));
        }
        if let Some(d) = last_name {
            body.insert("lastName".into(), json!(d.after));
        }
        if let Some(d) = member_type {
            body.insert("memberType".into(), json!(d.after));
        }
        if *reactivate {
            body.insert("isArchived".into(), json!(false));
        }
    }
    body
}

/// How many write requests carrying out `changes` (a site's plan, in its
/// order) sends, as [`SigmaClient::apply_step`] sends them: one per change
/// that has a body to send, and per step one per team whose members change
/// (more past `MEMBERS_PER_REQUEST`).
pub(super) fn requests_for(changes: &[Change]) -> u64 {
    let mut requests = 0;
    for step in changes.chunk_by(|a, b| a.step() == b.step()) {
        let mut teams: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for change in step {
            requests += own_requests(change);
            if let Change::UpdateUser {
                groups: Some(m), ..
            } = change
            {
                for g in &m.added {
                    teams.entry(ProviderKind::Sigma.group_key(g)).or_default().0 += 1;
                }
                for g in &m.removed {
                    teams.entry(ProviderKind::Sigma.group_key(g)).or_default().1 += 1;
                }
            }
        }
        requests += teams
            .values()
            .map(|(add, remove)| add.max(remove).div_ceil(MEMBERS_PER_REQUEST) as u64)
            .sum::<u64>();
    }
    requests
}

/// The requests a change sends on its own (an update of memberships only
/// is sent in its step's team batches; a delete is refused unsent).
fn own_requests(change: &Change) -> u64 {
    match change {
        Change::UpdateUser { .. } => u64::from(!member_update_body(change).is_empty()),
        Change::DeleteUser { .. } => 0,
        // The deactivation, then the revocation of the member's tokens.
        Change::DeactivateUser { revoke_tokens, .. } => 1 + u64::from(*revoke_tokens),
        Change::ReplaceAccountType { moved, .. } => 2 + moved.len() as u64,
        Change::ReplaceAttribute { .. } | Change::SetAttributes { .. } => {
            super::attributes::requests_for(change)
        }
        // A lowered grant is revoked, then given again: two requests.
        Change::Access(crate::model::access::AccessChange::Grant(g)) if g.is_lowered() => 2,
        _ => 1,
    }
}
