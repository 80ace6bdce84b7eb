//! Writing to a SCIM service: users and groups created, edited by PATCH
//! where the service supports it (else read, changed and PUT whole), and
//! deleted; group membership added and removed in batches. With ETags,
//! every edit carries `If-Match` with the version read for the plan, so a
//! change made since is reported (412), never overwritten.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{
    Call, Capabilities, Effect, Members, Reply, ScimClient, ScimIds, ScimRef, group_key,
};
use super::wire::{self, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA};
use crate::interrupt::SiteGate;
use crate::model::email_key;
use crate::model::Change;
use crate::provider::error::ProviderError;
use crate::provider::path_segment as encode;

/// What changes on a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEdit {
    /// A new `userName` (and primary email).
    pub user_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub active: Option<bool>,
}

impl UserEdit {
    fn is_empty(&self) -> bool {
        *self == UserEdit::default()
    }
}

/// A group's membership edits, and the changes (by index) they come from.
#[derive(Default)]
struct GroupBatch {
    name: String,
    add: Vec<String>,
    remove: Vec<String>,
    from: Vec<usize>,
}

impl ScimClient {
    /// Creates a user (`userName` and primary email `email`, active). After
    /// an ambiguous failure the user is looked up by `userName` before the
    /// create is sent again; a 409 says the service already has them.
    pub async fn create_user(
        &self,
        caps: &Capabilities,
        email: &str,
        given_name: &str,
        family_name: &str,
    ) -> Result<ScimRef, ProviderError> {
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": email,
            "name": {"givenName": given_name, "familyName": family_name},
            "emails": [{"value": email, "type": "work", "primary": true}],
            "active": true,
        });
        let call = Call {
            method: Method::POST,
            path: "/Users".into(),
            action: "create user",
            object: email,
            body: Some(body),
            if_match: None,
            effect: Effect::UserExists(email),
        };
        let reply = self.send_with(&call, caps).await?;
        self.created(&reply, "create user", ("user", email))
    }

    /// Creates a group with no members; looked up by `displayName` after an
    /// ambiguous failure.
    pub async fn create_group(
        &self,
        caps: &Capabilities,
        name: &str,
    ) -> Result<ScimRef, ProviderError> {
        let call = Call {
            method: Method::POST,
            path: "/Groups".into(),
            action: "create group",
            object: name,
            body: Some(json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": []})),
            if_match: None,
            effect: Effect::GroupExists(name),
        };
        let reply = self.send_with(&call, caps).await?;
        self.created(&reply, "create group", ("group", name))
    }

    /// The id and version of what a create answered (or a look-up found)
    /// for the `kind` named `object`; an id no path can carry is refused.
    fn created(
        &self,
        reply: &Reply,
        action: &str,
        (kind, object): (&str, &str),
    ) -> Result<ScimRef, ProviderError> {
        let resource: wire::Group = reply.read().unwrap_or_default();
        let id = resource
            .id
            .ok_or_else(|| self.decode_error(action, "the answer has no `id`".into()))?;
        let id = crate::provider::ids::usable_id(&self.name, kind, object, id)?;
        Ok(ScimRef {
            id,
            etag: reply.etag.clone().or(resource.meta.version),
        })
    }

    /// Changes a user's fields (`object` names them in errors): PATCH where
    /// supported, else the user read, changed and PUT back. Gives the
    /// user's new version.
    pub async fn update_user(
        &self,
        caps: &Capabilities,
        user: &ScimRef,
        object: &str,
        edit: &UserEdit,
    ) -> Result<ScimRef, ProviderError> {
        let path = format!("/Users/{}", encode(&user.id));
        if !caps.patch || edit.user_name.is_some() {
            // A new userName rewrites the emails too, from what is there.
            return self
                .read_change_put(caps, user, &path, object, "update user", |v| {
                    apply_user_edit(v, edit);
                })
                .await;
        }
        let mut ops = Vec::new();
        for (path, value) in [
            ("name.givenName", edit.given_name.as_ref().map(|v| json!(v))),
            (
                "name.familyName",
                edit.family_name.as_ref().map(|v| json!(v)),
            ),
            ("active", edit.active.map(|v| json!(v))),
        ] {
            if let Some(value) = value {
                ops.push(json!({"op": "replace", "path": path, "value": value}));
            }
        }
        self.patch(caps, user, path, object, "update user", ops)
            .await
    }

    /// Deletes a user (a 404 on a retry means the first try did it).
    pub async fn delete_user(
        &self,
        caps: &Capabilities,
        user: &ScimRef,
        object: &str,
    ) -> Result<(), ProviderError> {
        self.delete(caps, user, "/Users", object, "delete user")
            .await
    }

    /// Renames a group. Gives its new version.
    pub async fn rename_group(
        &self,
        caps: &Capabilities,
        group: &ScimRef,
        object: &str,
        new_name: &str,
    ) -> Result<ScimRef, ProviderError> {
        let path = format!("/Groups/{}", encode(&group.id));
        if caps.patch {
            let ops = vec![json!({"op": "replace", "path": "displayName", "value": new_name})];
            return self
                .patch(caps, group, path, object, "rename group", ops)
                .await;
        }
        self.read_change_put_group(caps, group, object, "rename group", |v| {
            v.insert("displayName".into(), json!(new_name));
        })
        .await
    }

    /// Deletes a group (a 404 on a retry means the first try did it).
    pub async fn delete_group(
        &self,
        caps: &Capabilities,
        group: &ScimRef,
        object: &str,
    ) -> Result<(), ProviderError> {
        self.delete(caps, group, "/Groups", object, "delete group")
            .await
    }

    /// Adds and removes members (user ids) of a group: PATCH requests of at
    /// most `members_per_request` members each where supported, else one
    /// PUT of the whole group as read now with the edits made. Gives the
    /// group's new version.
    pub async fn change_members(
        &self,
        caps: &Capabilities,
        group: &ScimRef,
        object: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<ScimRef, ProviderError> {
        let path = format!("/Groups/{}", encode(&group.id));
        let action = "change the members of group";
        if !caps.patch {
            return self
                .read_change_put_group(caps, group, object, action, |v| {
                    edit_members(v, add, remove);
                })
                .await;
        }
        let per = self.options.members_per_request.max(1);
        let edits: Vec<(&String, bool)> = add
            .iter()
            .map(|m| (m, true))
            .chain(remove.iter().map(|m| (m, false)))
            .collect();
        let mut current = group.clone();
        for chunk in edits.chunks(per) {
            let added: Vec<Value> = chunk
                .iter()
                .filter(|(_, a)| *a)
                .map(|(m, _)| json!({"value": m}))
                .collect();
            let mut ops = Vec::new();
            if !added.is_empty() {
                ops.push(json!({"op": "add", "path": "members", "value": added}));
            }
            for (m, _) in chunk.iter().filter(|(_, a)| !*a) {
                let path = format!("members[value eq {}]", Value::String((*m).clone()));
                ops.push(json!({"op": "remove", "path": path}));
            }
            current = self
                .patch(caps, &current, path.clone(), object, action, ops)
                .await?;
        }
        Ok(current)
    }

    /// One PATCH with `If-Match` where ETags are supported.
    async fn patch(
        &self,
        caps: &Capabilities,
        target: &ScimRef,
        path: String,
        object: &str,
        action: &str,
        ops: Vec<Value>,
    ) -> Result<ScimRef, ProviderError> {
        if ops.is_empty() {
            return Ok(target.clone());
        }
        let call = Call {
            method: Method::PATCH,
            path,
            action,
            object,
            body: Some(json!({"schemas": [PATCH_SCHEMA], "Operations": ops})),
            if_match: if_match(caps, target),
            effect: Effect::None,
        };
        let reply = self.send_with(&call, caps).await?;
        Ok(Self::edited(target, &reply))
    }

    /// Reads a resource, changes its JSON with `change`, and PUTs it back
    /// with `If-Match` (the version read for the plan where ETags are
    /// supported): what the service holds beyond roster's fields is kept.
    async fn read_change_put(
        &self,
        caps: &Capabilities,
        target: &ScimRef,
        path: &str,
        object: &str,
        action: &str,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<ScimRef, ProviderError> {
        let mut resource = self.read_object(path, object, action).await?;
        // Read-only attributes are not sent back.
        resource.remove("meta");
        change(&mut resource);
        let call = Call {
            method: Method::PUT,
            path: path.to_string(),
            action,
            object,
            body: Some(Value::Object(resource)),
            if_match: if_match(caps, target),
            effect: Effect::None,
        };
        let reply = self.send_with(&call, caps).await?;
        Ok(Self::edited(target, &reply))
    }

    /// The resource at `path`, read as a JSON object.
    async fn read_object(
        &self,
        path: &str,
        object: &str,
        action: &str,
    ) -> Result<Map<String, Value>, ProviderError> {
        let read = self
            .send(&Call::get(path.to_string(), action, object))
            .await?;
        match serde_json::from_slice::<Value>(&read.body) {
            Ok(Value::Object(resource)) => Ok(resource),
            _ => Err(self.decode_error(action, "the resource read is not an object".into())),
        }
    }

    /// [`Self::read_change_put`] of a group, whose PUT carries every
    /// member it has that `change` does not remove, nested groups
    /// included. Where the service leaves members out of what it answers
    /// (`Members::Apart`), they are read by name (`attributes=members`) and
    /// put into the group read, never taken as none from a read that left
    /// them out.
    async fn read_change_put_group(
        &self,
        caps: &Capabilities,
        group: &ScimRef,
        object: &str,
        action: &str,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<ScimRef, ProviderError> {
        let path = format!("/Groups/{}", encode(&group.id));
        let members = if caps.members == Members::Apart {
            Some(self.members_as_read(&group.id, object, action).await?)
        } else {
            None
        };
        self.read_change_put(caps, group, &path, object, action, |v| {
            if let Some(members) = members {
                v.retain(|k, _| !k.eq_ignore_ascii_case("members"));
                v.insert("members".into(), Value::Array(members));
            }
            change(v);
        })
        .await
    }

    /// A group's `members` as the service holds them (every sub-attribute
    /// kept), asked for by name.
    async fn members_as_read(
        &self,
        id: &str,
        object: &str,
        action: &str,
    ) -> Result<Vec<Value>, ProviderError> {
        let path = format!("/Groups/{}?attributes=members", encode(id));
        let group = self.read_object(&path, object, action).await?;
        Ok(group
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("members"))
            .and_then(|(_, v)| match v {
                Value::Array(members) => Some(members),
                _ => None,
            })
            .unwrap_or_default())
    }

    async fn delete(
        &self,
        caps: &Capabilities,
        target: &ScimRef,
        endpoint: &str,
        object: &str,
        action: &str,
    ) -> Result<(), ProviderError> {
        let call = Call {
            method: Method::DELETE,
            path: format!("{endpoint}/{}", encode(&target.id)),
            action,
            object,
            body: None,
            if_match: if_match(caps, target),
            effect: Effect::Gone,
        };
        self.send_with(&call, caps).await.map(|_| ())
    }

    /// The object after an edit: its new version from the `ETag` header or
    /// the answer's `meta.version`. Without either, no version is kept (a
    /// later edit goes without `If-Match` rather than fail on a stale one).
    fn edited(target: &ScimRef, reply: &Reply) -> ScimRef {
        let resource: wire::Group = reply.read().unwrap_or_default();
        ScimRef {
            id: target.id.clone(),
            etag: reply.etag.clone().or(resource.meta.version),
        }
    }

    /// Carries out one step of a plan's changes: each concurrently, then
    /// the membership edits of the whole step, batched per group. A change
    /// the gate does not let start is not sent. `ids` come from
    /// [`ScimClient::fetch`] of the live state the plan was made from;
    /// what the writes learn (ids, new versions) is added to them.
    pub async fn apply_step(
        &self,
        changes: &[&Change],
        concurrency: usize,
        gate: SiteGate<'_>,
        ids: &Mutex<ScimIds>,
    ) -> Vec<Result<(), ProviderError>> {
        let caps = ids.lock().expect("ids lock").capabilities.clone();
        let caps = &caps;
        let mut results: Vec<Result<(), ProviderError>> = crate::provider::run_all(
            changes
                .iter()
                .map(|c| crate::provider::gated(gate, c, self.apply_one(caps, c, ids))),
            concurrency,
        )
        .await;
        let batches = self.membership_batches(changes, &mut results, ids);
        let outcomes = crate::provider::run_all(
            batches.into_iter().map(|(key, batch)| async move {
                let _under_way: Vec<_> = batch
                    .from
                    .iter()
                    .map(|i| gate.resume(changes[*i]))
                    .collect();
                let outcome = self.send_batch(caps, ids, &key, &batch).await;
                (batch.from, outcome)
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

    async fn send_batch(
        &self,
        caps: &Capabilities,
        ids: &Mutex<ScimIds>,
        key: &str,
        batch: &GroupBatch,
    ) -> Result<(), ProviderError> {
        let group = self.group_ref(ids, &batch.name)?;
        let after = self
            .change_members(caps, &group, &batch.name, &batch.add, &batch.remove)
            .await?;
        ids.lock()
            .expect("ids lock")
            .groups
            .insert(key.to_string(), after);
        Ok(())
    }

    /// The membership edits of the changes that went through, per group.
    fn membership_batches(
        &self,
        changes: &[&Change],
        results: &mut [Result<(), ProviderError>],
        ids: &Mutex<ScimIds>,
    ) -> BTreeMap<String, GroupBatch> {
        let mut batches: BTreeMap<String, GroupBatch> = BTreeMap::new();
        for (i, change) in changes.iter().enumerate() {
            let (email, added, removed): (&str, &[String], &[String]) = match change {
                Change::CreateUser { email, groups, .. } => (email, groups, &[]),
                Change::UpdateUser {
                    email,
                    groups: Some(m),
                    ..
                } => (email, &m.added, &m.removed),
                _ => continue,
            };
            if results[i].is_err() || (added.is_empty() && removed.is_empty()) {
                continue;
            }
            let user = match self.user_ref(ids, email) {
                Ok(user) => user.id,
                Err(e) => {
                    results[i] = Err(e);
                    continue;
                }
            };
            for (names, add) in [(added, true), (removed, false)] {
                for name in names {
                    let batch = batches.entry(group_key(name)).or_default();
                    batch.name.clone_from(name);
                    if add {
                        batch.add.push(user.clone());
                    } else {
                        batch.remove.push(user.clone());
                    }
                    if !batch.from.contains(&i) {
                        batch.from.push(i);
                    }
                }
            }
        }
        batches
    }

    fn user_ref(&self, ids: &Mutex<ScimIds>, email: &str) -> Result<ScimRef, ProviderError> {
        ids.lock()
            .expect("ids lock")
            .users
            .get(&email_key(email))
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("no user with userName {email} was found on the service"),
            })
    }

    fn group_ref(&self, ids: &Mutex<ScimIds>, name: &str) -> Result<ScimRef, ProviderError> {
        ids.lock()
            .expect("ids lock")
            .groups
            .get(&group_key(name))
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("no group with displayName {name} was found on the service"),
            })
    }

    /// Records what a write learnt about a user.
    fn learn_user(ids: &Mutex<ScimIds>, email: &str, user: ScimRef) {
        ids.lock()
            .expect("ids lock")
            .users
            .insert(email_key(email), user);
    }

    /// Sends one change (memberships aside: the step batches them).
    async fn apply_one(
        &self,
        caps: &Capabilities,
        change: &Change,
        ids: &Mutex<ScimIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateGroup { .. } | Change::UpdateGroup { .. } | Change::DeleteGroup { .. } => {
                self.apply_group_change(caps, change, ids).await
            }
            Change::CreateUser { .. }
            | Change::UpdateUser { .. }
            | Change::DeactivateUser { .. }
            | Change::DeleteUser { .. } => self.apply_user_change(caps, change, ids).await,
            Change::Access(_)
            | Change::CreateAttribute { .. }
            | Change::ReplaceAttribute { .. }
            | Change::DeleteAttribute { .. }
            | Change::SetAttributes { .. }
            | Change::CreateAccountType { .. }
            | Change::ReplaceAccountType { .. }
            | Change::DeleteAccountType { .. } => Err(self.refusal(change)),
        }
    }

    /// Why a change of a kind SCIM has not is refused unsent.
    fn refusal(&self, change: &Change) -> ProviderError {
        if let Change::Access(_) = change {
            return self.unsupported("a SCIM service has no workspaces or connections");
        }
        self.unsupported(&format!(
            "a SCIM service has no user attributes or custom account types ({})",
            change.key()
        ))
    }

    /// Creates, renames or deletes a group, keeping `ids` in step.
    async fn apply_group_change(
        &self,
        caps: &Capabilities,
        change: &Change,
        ids: &Mutex<ScimIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateGroup { name, .. } => {
                let group = self.create_group(caps, name).await?;
                ids.lock()
                    .expect("ids lock")
                    .groups
                    .insert(group_key(name), group);
            }
            Change::UpdateGroup {
                live_name,
                name,
                access,
                description,
                visibility,
                admins,
                ..
            } => {
                if access.is_some()
                    || description.is_some()
                    || visibility.is_some()
                    || admins.is_some()
                {
                    return Err(self.unsupported(&format!(
                        "cannot change group {live_name}: a SCIM group has only a displayName and members"
                    )));
                }
                let Some(name) = name else { return Ok(()) };
                let group = self.group_ref(ids, live_name)?;
                let after = self
                    .rename_group(caps, &group, live_name, &name.after)
                    .await?;
                let mut ids = ids.lock().expect("ids lock");
                ids.groups.remove(&group_key(live_name));
                ids.groups.insert(group_key(&name.after), after);
            }
            Change::DeleteGroup { name, .. } => {
                let group = self.group_ref(ids, name)?;
                self.delete_group(caps, &group, name).await?;
                ids.lock()
                    .expect("ids lock")
                    .groups
                    .remove(&group_key(name));
            }
            _ => {}
        }
        Ok(())
    }

    /// Creates, updates, deactivates or deletes a user, keeping `ids` in step.
    async fn apply_user_change(
        &self,
        caps: &Capabilities,
        change: &Change,
        ids: &Mutex<ScimIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateUser {
                email,
                first_name,
                last_name,
                ..
            } => {
                let user = self.create_user(caps, email, first_name, last_name).await?;
                Self::learn_user(ids, email, user);
            }
            Change::UpdateUser {
                email,
                renamed_from,
                ..
            } => {
                let Some(edit) = user_edit(change) else {
                    // Only memberships change; the step batches them.
                    return Ok(());
                };
                let lookup = renamed_from.as_deref().unwrap_or(email);
                let user = self.user_ref(ids, lookup)?;
                let after = self.update_user(caps, &user, lookup, &edit).await?;
                if renamed_from.is_some() {
                    ids.lock()
                        .expect("ids lock")
                        .users
                        .remove(&email_key(lookup));
                }
                Self::learn_user(ids, email, after);
            }
            Change::DeactivateUser { email, .. } => {
                let user = self.user_ref(ids, email)?;
                let edit = user_edit(change).unwrap_or_default();
                let after = self.update_user(caps, &user, email, &edit).await?;
                Self::learn_user(ids, email, after);
            }
            Change::DeleteUser { email } => {
                let user = self.user_ref(ids, email)?;
                self.delete_user(caps, &user, email).await?;
                ids.lock()
                    .expect("ids lock")
                    .users
                    .remove(&email_key(email));
            }
            _ => {}
        }
        Ok(())
    }

    fn unsupported(&self, message: &str) -> ProviderError {
        ProviderError::Unsupported {
            site: self.name.clone(),
            message: message.to_string(),
        }
    }
}

impl ScimClient {
    /// How many requests applying `changes` sends to a service with `caps`,
    /// step by step as apply runs them: one per create and delete; per
    /// edit, one PATCH, or a read and a PUT where the service has no PATCH
    /// (and for a new userName, which rewrites the emails read), and for a
    /// group's PUT the read of its members where the service leaves them
    /// out (`Members::Apart`); membership edits batched per group and step,
    /// as [`Self::apply_step`] sends them. Not counted, as no plan can know them: retries, and the
    /// look-up after a create whose answer was lost (a recovery from a
    /// fault, sent only when one happens).
    pub fn requests_for(&self, caps: &Capabilities, changes: &[Change]) -> u64 {
        let per = self.options.members_per_request.max(1);
        let edit = |whole: bool| if caps.patch && !whole { 1 } else { 2 };
        // A group's PUT: its read, its members' read where the service
        // leaves them out, the PUT.
        let put_group = 2 + u64::from(caps.members == Members::Apart);
        let mut requests = 0;
        for step in changes.chunk_by(|a, b| a.step() == b.step()) {
            // group key -> members added or removed in this step
            let mut members: HashMap<String, usize> = HashMap::new();
            for change in step {
                requests += match change {
                    Change::CreateGroup { .. }
                    | Change::DeleteGroup { .. }
                    | Change::CreateUser { .. }
                    | Change::DeleteUser { .. } => 1,
                    Change::UpdateGroup {
                        name: Some(_),
                        access: None,
                        description: None,
                        visibility: None,
                        admins: None,
                        ..
                    } if caps.patch => 1,
                    Change::UpdateGroup {
                        name: Some(_),
                        access: None,
                        description: None,
                        visibility: None,
                        admins: None,
                        ..
                    } => put_group,
                    Change::UpdateUser { .. } | Change::DeactivateUser { .. } => {
                        user_edit(change).map_or(0, |e| edit(e.user_name.is_some()))
                    }
                    // Refused unsent.
                    Change::UpdateGroup { .. }
                    | Change::Access(_)
                    | Change::CreateAttribute { .. }
                    | Change::ReplaceAttribute { .. }
                    | Change::DeleteAttribute { .. }
                    | Change::SetAttributes { .. }
                    | Change::CreateAccountType { .. }
                    | Change::ReplaceAccountType { .. }
                    | Change::DeleteAccountType { .. } => 0,
                };
                let (added, removed): (&[String], &[String]) = match change {
                    Change::CreateUser { groups, .. } => (groups, &[]),
                    Change::UpdateUser {
                        groups: Some(m), ..
                    } => (&m.added, &m.removed),
                    _ => continue,
                };
                for name in added.iter().chain(removed) {
                    *members.entry(group_key(name)).or_default() += 1;
                }
            }
            requests += members
                .values()
                .map(|n| {
                    if caps.patch {
                        n.div_ceil(per) as u64
                    } else {
                        put_group
                    }
                })
                .sum::<u64>();
        }
        requests
    }
}

/// What a change edits on its user (not memberships), if anything.
fn user_edit(change: &Change) -> Option<UserEdit> {
    let edit = match change {
        Change::UpdateUser {
            email,
            renamed_from,
            first_name,
            last_name,
            reactivate,
            ..
        } => UserEdit {
            user_name: renamed_from.as_ref().map(|_| email.clone()),
            given_name: first_name.as_ref().map(|d| d.after.clone()),
            family_name: last_name.as_ref().map(|d| d.after.clone()),
            active: reactivate.then_some(true),
        },
        Change::DeactivateUser { .. } => UserEdit {
            active: Some(false),
            ..UserEdit::default()
        },
        _ => return None,
    };
    (!edit.is_empty()).then_some(edit)
}

/// `If-Match` for `target`, where the service versions resources.
fn if_match(caps: &Capabilities, target: &ScimRef) -> Option<String> {
    if caps.etag { target.etag.clone() } else { None }
}

/// A user resource's JSON with `edit` made: names, `active`, and a new
/// `userName` also written over the primary email (or the email equal to
/// the old userName), or added as the primary one.
fn apply_user_edit(user: &mut Map<String, Value>, edit: &UserEdit) {
    let name = user.entry("name").or_insert_with(|| json!({}));
    if !name.is_object() {
        *name = json!({});
    }
    if let Value::Object(name) = name {
        if let Some(g) = &edit.given_name {
            name.insert("givenName".into(), json!(g));
        }
        if let Some(f) = &edit.family_name {
            name.insert("familyName".into(), json!(f));
        }
    }
    if let Some(a) = edit.active {
        user.insert("active".into(), json!(a));
    }
    let Some(new) = &edit.user_name else { return };
    let old = user.get("userName").and_then(Value::as_str).map(email_key);
    user.insert("userName".into(), json!(new));
    let emails = user.entry("emails").or_insert_with(|| json!([]));
    if !emails.is_array() {
        *emails = json!([]);
    }
    let Value::Array(emails) = emails else { return };
    let is_old = |e: &Value| e.get("value").and_then(Value::as_str).map(email_key) == old;
    let primary = |e: &Value| e.get("primary").and_then(Value::as_bool) == Some(true);
    let at = emails
        .iter()
        .position(primary)
        .or_else(|| emails.iter().position(is_old));
    match at
        .and_then(|i| emails.get_mut(i))
        .and_then(Value::as_object_mut)
    {
        Some(entry) => {
            entry.insert("value".into(), json!(new));
        }
        None => emails.push(json!({"value": new, "type": "work", "primary": true})),
    }
}

/// A group resource's JSON with members added and removed (by `value`);
/// other members, and what each member carries, are kept.
fn edit_members(group: &mut Map<String, Value>, add: &[String], remove: &[String]) {
    let value_of = |m: &Value| m.get("value").and_then(Value::as_str).map(str::to_string);
    let mut members: Vec<Value> = match group.remove("members") {
        Some(Value::Array(members)) => members,
        _ => Vec::new(),
    };
    let gone: std::collections::HashSet<&str> = remove.iter().map(String::as_str).collect();
    members.retain(|m| value_of(m).is_none_or(|v| !gone.contains(v.as_str())));
    let present: std::collections::HashSet<String> = members.iter().filter_map(value_of).collect();
    for id in add.iter().filter(|id| !present.contains(*id)) {
        members.push(json!({"value": id}));
    }
    group.insert("members".into(), Value::Array(members));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memberships are counted as sent: per group and step, PATCHes of at
    /// most `members_per_request` members, or one read and one PUT.
    #[test]
    fn the_estimate_batches_memberships_per_group_and_step() {
        let client = ScimClient::new(
            "svc",
            &url::Url::parse("http://127.0.0.1:9/v2").unwrap(),
            crate::secret::Secret::new("t"),
            "SCIM_TOKEN",
            crate::provider::Pacing::default(),
            std::time::Duration::from_secs(1),
        )
        .unwrap()
        .with_options(super::super::ScimOptions {
            page_size: 10,
            members_per_request: 2,
        });
        let create = |email: &str, groups: &[&str]| Change::CreateUser {
            email: email.into(),
            first_name: "A".into(),
            last_name: "B".into(),
            member_type: None,
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
            kind: crate::model::UserKind::default(),
            admin_of: vec![],
        };
        let changes = [
            Change::CreateGroup {
                name: "A".into(),
                access: None,
                description: None,
                visibility: None,
            },
            create("u1@x.io", &["A", "B"]),
            create("u2@x.io", &["a "]),
            create("u3@x.io", &["A"]),
            create("u4@x.io", &[]),
            Change::DeleteUser {
                email: "u5@x.io".into(),
            },
        ];
        let patch = Capabilities {
            patch: true,
            ..Capabilities::default()
        };
        // 1 group + 4 users + 1 delete; A: 3 members in 2 PATCHes, B: 1.
        assert_eq!(client.requests_for(&patch, &changes), 6 + 2 + 1);
        // A and B: a read and a PUT each.
        assert_eq!(
            client.requests_for(&Capabilities::default(), &changes),
            6 + 2 + 2
        );
    }

    #[test]
    fn a_new_user_name_rewrites_the_primary_email_and_keeps_the_others() {
        let mut user = json!({
            "userName": "old@x.io",
            "name": {"givenName": "A", "middleName": "M"},
            "emails": [{"value": "home@y.io"}, {"value": "old@x.io", "primary": true, "type": "work"}],
            "title": "kept"
        });
        let edit = UserEdit {
            user_name: Some("new@x.io".into()),
            family_name: Some("B".into()),
            ..UserEdit::default()
        };
        apply_user_edit(user.as_object_mut().unwrap(), &edit);
        assert_eq!(
            user,
            json!({
                "userName": "new@x.io",
                "name": {"givenName": "A", "middleName": "M", "familyName": "B"},
                "emails": [{"value": "home@y.io"}, {"value": "new@x.io", "primary": true, "type": "work"}],
                "title": "kept"
            })
        );
        let mut bare = json!({"userName": "old@x.io", "name": "odd"});
        apply_user_edit(bare.as_object_mut().unwrap(), &edit);
        assert_eq!(
            bare["emails"],
            json!([{"value": "new@x.io", "type": "work", "primary": true}])
        );
        assert_eq!(bare["name"], json!({"familyName": "B"}));
    }

    #[test]
    fn members_are_added_once_and_removed_by_value() {
        let mut group = json!({"displayName": "G", "members": [
            {"value": "u1", "display": "one"}, {"value": "g9", "type": "Group"}, {"value": "u2"}
        ]});
        edit_members(
            group.as_object_mut().unwrap(),
            &["u1".into(), "u3".into()],
            &["u2".into(), "u4".into()],
        );
        assert_eq!(
            group["members"],
            json!([{"value": "u1", "display": "one"}, {"value": "g9", "type": "Group"}, {"value": "u3"}])
        );
    }
}
