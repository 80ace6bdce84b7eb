//! Sigma workspaces and connections with their grants: the read half
//! (`/v2/workspaces`, `/v2/connections` and each one's `/grants`) and the
//! write half (workspaces created, renamed, deleted; grants given and
//! revoked, a lowered grant revoked then given again, as Sigma grants only
//! raise access).

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Call, Effect, SigmaClient};
use super::wire::text;
use crate::model::access::{
    AccessChange, AccessKind, GrantChange, Grantee, LiveAccess, LiveAccessObject, LiveGrant,
};
use crate::model::{LiveSite, ProviderKind, email_key};
use crate::provider::error::ProviderError;
use crate::provider::ids::SiteIds;
use crate::provider::path_segment as encode;

/// Grant lists read at once.
const GRANT_READS: usize = 8;

impl AccessKind {
    fn path(self) -> &'static str {
        match self {
            AccessKind::Workspace => "/v2/workspaces",
            AccessKind::Connection => "/v2/connections",
        }
    }

    fn id_field(self) -> &'static str {
        match self {
            AccessKind::Workspace => "workspaceId",
            AccessKind::Connection => "connectionId",
        }
    }
}

impl SigmaClient {
    /// Workspaces and connections with their grants, each grantee named as
    /// `live` knows them; nothing is read unless the site manages access.
    pub(super) async fn fetch_access(&self, live: &LiveSite) -> Result<LiveAccess, ProviderError> {
        if !self.org.access.read {
            return Ok(LiveAccess::default());
        }
        let names = GranteeNames::of(live);
        let (w, c) = tokio::join!(
            self.access_objects(AccessKind::Workspace, &names),
            self.access_objects(AccessKind::Connection, &names),
        );
        Ok(LiveAccess {
            workspaces: Some(w?),
            connections: Some(c?),
        })
    }

    async fn access_objects(
        &self,
        kind: AccessKind,
        names: &GranteeNames,
    ) -> Result<Vec<LiveAccessObject>, ProviderError> {
        let action = format!("list {}s", kind.as_str());
        let items: Vec<Value> = self.list_all(kind.path(), &action).await?;
        let items: Vec<Value> = items
            .into_iter()
            .filter(|i| !i.get("isArchived").and_then(Value::as_bool).unwrap_or(false))
            .collect();
        for i in &items {
            let id = text(i, kind.id_field());
            crate::provider::ids::usable_id(&self.name, kind.as_str(), &text(i, "name"), id)?;
        }
        let grants = crate::provider::run_all(
            items.iter().map(|i| {
                let path = format!("{}/{}/grants", kind.path(), encode(&text(i, kind.id_field())));
                async move { self.list_all::<Value>(&path, "list grants").await }
            }),
            GRANT_READS,
        )
        .await;
        items
            .into_iter()
            .zip(grants)
            .map(|(item, grants)| {
                Ok(LiveAccessObject {
                    id: Some(text(&item, kind.id_field())).filter(|s| !s.is_empty()),
                    name: text(&item, "name"),
                    grants: grants?.iter().filter_map(|g| names.grant(g)).collect(),
                })
            })
            .collect()
    }

    /// Carries out one access change.
    pub(super) async fn apply_access(
        &self,
        change: &AccessChange,
        ids: &Mutex<SiteIds>,
    ) -> Result<(), ProviderError> {
        match change {
            AccessChange::CreateWorkspace { name } => {
                let created = self
                    .send(&Call {
                        method: Method::POST,
                        path: "/v2/workspaces".into(),
                        action: "create workspace",
                        effect: Effect::WorkspaceExists(name),
                        object: name,
                        body: Some(json!({ "name": name, "noDuplicates": true })),
                    })
                    .await?;
                let id = created_workspace(&created).ok_or_else(|| ProviderError::Decode {
                    site: self.name.clone(),
                    action: format!("create workspace {name}"),
                    message: "the answer gives no usable workspace id (neither a `workspaceId` \
                              nor one `workspaceIds` entry that can name it); nothing is granted \
                              on it: plan again to see the workspace as the site has it"
                        .into(),
                })?;
                ids.lock().expect("ids lock").workspaces.insert(ProviderKind::Sigma.group_key(name), id);
                Ok(())
            }
            AccessChange::RenameWorkspace { id, name } => {
                self.send(&Call {
                    method: Method::PATCH,
                    path: format!("/v2/workspaces/{}", encode(id)),
                    action: "rename workspace",
                    effect: Effect::None,
                    object: &name.before,
                    body: Some(json!({ "name": name.after })),
                })
                .await?;
                ids.lock().expect("ids lock").workspaces.insert(ProviderKind::Sigma.group_key(&name.after), id.clone());
                Ok(())
            }
            AccessChange::DeleteWorkspace { id, name } => self
                .send(&Call {
                    method: Method::DELETE,
                    path: format!("/v2/workspaces/{}", encode(id)),
                    action: "delete workspace",
                    effect: Effect::Gone,
                    object: name,
                    body: None,
                })
                .await
                .map(|_| ()),
            AccessChange::Grant(g) => self.apply_grant(g, ids).await,
        }
    }

    /// Revokes the live grant if the change lowers or removes it, then
    /// grants the new permission if there is one.
    async fn apply_grant(&self, g: &GrantChange, ids: &Mutex<SiteIds>) -> Result<(), ProviderError> {
        let object = match &g.object_id {
            Some(id) => id.clone(),
            None => self.lookup(ids, |i| &i.workspaces, &ProviderKind::Sigma.group_key(&g.object), &g.object)?,
        };
        let base = format!("{}/{}/grants", g.on.path(), encode(&object));
        let what = format!("{} {} for {}", g.on.as_str(), g.object, g.grantee);
        if let (Some(grant_id), true) = (&g.grant_id, g.revokes_first()) {
            self.send(&Call {
                method: Method::DELETE,
                path: format!("{base}/{}", encode(grant_id)),
                action: "revoke grant on",
                effect: Effect::Gone,
                object: &what,
                body: None,
            })
            .await?;
        }
        let Some(permission) = &g.after else {
            return Ok(());
        };
        let grantee = match &g.grantee {
            Grantee::Team(name) => json!({ "teamId": self.lookup(ids, |i| &i.groups, &ProviderKind::Sigma.group_key(name), name)? }),
            Grantee::Person(email) => json!({ "memberId": self.lookup(ids, |i| &i.members, &email_key(email), email)? }),
        };
        self.send(&Call {
            method: Method::POST,
            path: base,
            action: "grant access on",
            effect: Effect::None,
            object: &what,
            body: Some(json!({ "grants": [{ "grantee": grantee, "permission": permission }] })),
        })
        .await
        .map(|_| ())
    }

    fn lookup(
        &self,
        ids: &Mutex<SiteIds>,
        map: impl Fn(&SiteIds) -> &HashMap<String, String>,
        key: &str,
        shown: &str,
    ) -> Result<String, ProviderError> {
        map(&ids.lock().expect("ids lock"))
            .get(key)
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("`{shown}` was not found on the site"),
            })
    }
}

/// The id of the workspace a `POST /v2/workspaces` made. Sigma's OpenAPI
/// (`createWorkspace`) answers 200 with one of two shapes: the workspace
/// (`workspaceId`, `workspaceUrlId`, `name`, ...) or `{workspaceIds: [...],
/// workspaceUrlIds: [...]}`; a workspace found after a lost answer has the
/// first. An id that is empty or cannot be one path segment (`.`, `..`,
/// or with a `/`), or a list of other than one id, is no answer: refused.
fn created_workspace(answer: &Value) -> Option<String> {
    let id = match answer.get("workspaceId") {
        Some(Value::String(id)) => id.clone(),
        _ => match answer.get("workspaceIds").and_then(Value::as_array)?.as_slice() {
            [Value::String(id)] => id.clone(),
            _ => return None,
        },
    };
    let usable = !id.trim().is_empty()
        && !id.contains('/')
        && !crate::provider::is_dot_segment(&id);
    usable.then_some(id)
}

/// Team names and member emails by id, to name a grant's grantee.
struct GranteeNames {
    teams: HashMap<String, String>,
    members: HashMap<String, String>,
}

impl GranteeNames {
    fn of(live: &LiveSite) -> Self {
        let by_id = |pairs: Vec<(Option<&String>, &String)>| {
            pairs.into_iter().filter_map(|(id, n)| Some((id?.clone(), n.clone()))).collect()
        };
        GranteeNames {
            teams: by_id(live.groups.iter().map(|g| (g.id.as_ref(), &g.name)).collect()),
            members: by_id(live.users.iter().map(|u| (u.id.as_ref(), &u.email)).collect()),
        }
    }

    /// A grant as read; a grantee roster does not know is named by its id.
    fn grant(&self, g: &Value) -> Option<LiveGrant> {
        let (team, member) = (text(g, "teamId"), text(g, "memberId"));
        let (grantee, id) = if !team.is_empty() {
            let name = self.teams.get(&team).cloned().unwrap_or_else(|| team.clone());
            (Grantee::Team(name), team)
        } else if !member.is_empty() {
            let email = self.members.get(&member).cloned().unwrap_or_else(|| member.clone());
            (Grantee::Person(email), member)
        } else {
            return None;
        };
        Some(LiveGrant {
            id: Some(text(g, "grantId")).filter(|s| !s.is_empty()),
            grantee,
            grantee_id: Some(id),
            permission: text(g, "permission"),
        })
    }
}
