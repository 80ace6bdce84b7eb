//! Writing to a Superset site: users created (with a random password no
//! one is told: people sign in through the site's SSO or LDAP, or after an
//! admin resets the password), edited, deactivated (`active = false`) or
//! deleted; groups created, edited and deleted; a user's groups changed by
//! reading the groups they are in now and writing them back with the
//! plan's additions and removals, so a membership made meanwhile is kept.

use std::sync::Mutex;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{Call, Effect, GROUPS, ROLES, SupersetClient, USERS};
use super::{group_key, wire};
use crate::model::{Change, Membership, email_key};
use crate::provider::{ProviderError, SiteIds, path_segment as encode};

/// The role a user declared in no group is created with: Superset's
/// built-in role of people who may sign in and see only what they are
/// given (its own documentation's role for new users).
pub(super) const NO_GROUP_ROLE: &str = "Gamma";

/// The fields of a user a change sets (`PUT /users/{id}` takes any subset).
type Fields = Map<String, Value>;

impl SupersetClient {
    /// Sends one change; what it learns (a new ID, a new email) goes into
    /// `ids` for the steps that follow.
    pub(super) async fn apply(&self, change: &Change, ids: &Mutex<SiteIds>) -> Result<(), ProviderError> {
        match change {
            Change::CreateGroup { name, description, .. } => {
                let id = self.create_group(name, description.as_deref()).await?;
                lock(ids).groups.insert(group_key(name), id);
                Ok(())
            }
            Change::UpdateGroup { .. } => self.update_group(change, ids).await,
            Change::DeleteGroup { name, .. } => {
                let id = self.group_id(ids, name)?;
                let path = format!("{GROUPS}{}", encode(&id));
                self.send(&call(Method::DELETE, path, "delete group", name, None, Effect::Gone))
                    .await?;
                lock(ids).groups.remove(&group_key(name));
                Ok(())
            }
            Change::CreateUser { .. } => self.create_user(change, ids).await,
            Change::UpdateUser { .. } => self.update_user(change, ids).await,
            Change::DeactivateUser { email, .. } => {
                let id = self.user_id(ids, email)?;
                let fields = Fields::from_iter([("active".into(), json!(false))]);
                self.put_user(&id, email, "deactivate user", fields).await
            }
            Change::DeleteUser { email } => {
                let id = self.user_id(ids, email)?;
                let path = format!("{USERS}{}", encode(&id));
                self.send(&call(Method::DELETE, path, "delete user", email, None, Effect::Gone))
                    .await?;
                lock(ids).members.remove(&email_key(email));
                Ok(())
            }
            Change::Access(_)
            | Change::CreateAttribute { .. }
            | Change::ReplaceAttribute { .. }
            | Change::DeleteAttribute { .. }
            | Change::SetAttributes { .. }
            | Change::CreateAccountType { .. }
            | Change::ReplaceAccountType { .. }
            | Change::DeleteAccountType { .. } => Err(self.unsupported(&format!(
                "Superset has no workspaces, user attributes or account types ({})",
                change.key()
            ))),
        }
    }

    /// How many requests `change` sends: one, and a read of the user first
    /// where their groups or email change, or of the roles where a user is
    /// created in no group.
    pub(super) fn requests_for(change: &Change) -> u64 {
        match change {
            Change::CreateUser { groups, .. } if groups.is_empty() => 2,
            Change::UpdateUser {
                groups,
                renamed_from,
                ..
            } if groups.is_some() || renamed_from.is_some() => 2,
            _ => 1,
        }
    }

    /// `POST /groups/` with the name as its label too; after a lost answer
    /// the group is looked up by name before it is sent again.
    async fn create_group(&self, name: &str, description: Option<&str>) -> Result<String, ProviderError> {
        let body = json!({
            "name": name,
            "label": name,
            "description": description.unwrap_or_default(),
        });
        let answer = self
            .send(&call(Method::POST, GROUPS.into(), "create group", name, Some(body), Effect::GroupExists(name)))
            .await?;
        self.created_id(&answer, "create group", ("group", name))
    }

    /// A group renamed (its label follows) or given a new description.
    async fn update_group(&self, change: &Change, ids: &Mutex<SiteIds>) -> Result<(), ProviderError> {
        let Change::UpdateGroup {
            live_name,
            name,
            access,
            description,
            visibility,
            admins,
            ..
        } = change
        else {
            return Ok(());
        };
        if access.is_some() || visibility.is_some() || admins.is_some() {
            return Err(self.unsupported(&format!(
                "cannot change group {live_name}: a Superset group has a name, a description and members"
            )));
        }
        let mut fields = Fields::new();
        if let Some(name) = name {
            fields.insert("name".into(), json!(name.after));
            fields.insert("label".into(), json!(name.after));
        }
        if let Some(description) = description {
            fields.insert("description".into(), json!(description.after));
        }
        if fields.is_empty() {
            return Ok(());
        }
        let id = self.group_id(ids, live_name)?;
        let path = format!("{GROUPS}{}", encode(&id));
        self.send(&call(Method::PUT, path, "update group", live_name, Some(Value::Object(fields)), Effect::None))
            .await?;
        if let Some(name) = name {
            let mut ids = lock(ids);
            ids.groups.remove(&group_key(live_name));
            ids.groups.insert(group_key(&name.after), id);
        }
        Ok(())
    }

    /// `POST /users/`: username and email the person's email, active, in
    /// the declared groups, with a random password that is never shown or
    /// kept. Superset refuses a user with neither a role nor a group (400):
    /// one declared in no group gets [`NO_GROUP_ROLE`] (roster does not
    /// manage roles yet).
    async fn create_user(&self, change: &Change, ids: &Mutex<SiteIds>) -> Result<(), ProviderError> {
        let Change::CreateUser {
            email,
            first_name,
            last_name,
            groups,
            ..
        } = change
        else {
            return Ok(());
        };
        let group_ids = groups
            .iter()
            .map(|g| self.group_id(ids, g).map(|id| number_or_text(&id)))
            .collect::<Result<Vec<_>, _>>()?;
        // Superset creates a user only with a role or a group.
        let roles = if group_ids.is_empty() {
            vec![number_or_text(&self.role_id(NO_GROUP_ROLE, email).await?)]
        } else {
            Vec::new()
        };
        let body = json!({
            "username": email,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "active": true,
            "password": random_password(),
            "roles": roles,
            "groups": group_ids,
        });
        let answer = self
            .send(&call(Method::POST, USERS.into(), "create user", email, Some(body), Effect::UserExists(email)))
            .await?;
        let id = self.created_id(&answer, "create user", ("user", email))?;
        lock(ids).members.insert(email_key(email), id);
        Ok(())
    }

    /// Names, email (its username too, where the username was the old
    /// email), reactivation and groups, in one `PUT`.
    async fn update_user(&self, change: &Change, ids: &Mutex<SiteIds>) -> Result<(), ProviderError> {
        let Change::UpdateUser {
            email,
            renamed_from,
            first_name,
            last_name,
            reactivate,
            groups,
            member_type,
            kind,
            ..
        } = change
        else {
            return Ok(());
        };
        if member_type.is_some() || kind.is_some() {
            return Err(self.unsupported(&format!(
                "cannot change user {email}: a Superset user has no account type or kind"
            )));
        }
        let live_email = renamed_from.as_deref().unwrap_or(email);
        let id = self.user_id(ids, live_email)?;
        let mut fields = Fields::new();
        for (key, diff) in [("first_name", first_name), ("last_name", last_name)] {
            if let Some(d) = diff {
                fields.insert(key.into(), json!(d.after));
            }
        }
        if *reactivate {
            fields.insert("active".into(), json!(true));
        }
        if renamed_from.is_some() || groups.is_some() {
            let now = self.read_user(&id, live_email).await?;
            if renamed_from.is_some() {
                fields.insert("email".into(), json!(email));
                if now.username.as_deref().map(email_key) == Some(email_key(live_email)) {
                    fields.insert("username".into(), json!(email));
                }
            }
            if let Some(m) = groups {
                fields.insert("groups".into(), json!(self.groups_after(&now, m, ids)?));
            }
        }
        if fields.is_empty() {
            return Ok(());
        }
        self.put_user(&id, live_email, "update user", fields).await?;
        if renamed_from.is_some() {
            let mut ids = lock(ids);
            ids.members.remove(&email_key(live_email));
            ids.members.insert(email_key(email), id);
        }
        Ok(())
    }

    /// The IDs of the groups a user is in after `m`: those they are in now
    /// (as just read), less the removed, plus the added.
    fn groups_after(&self, now: &wire::User, m: &Membership, ids: &Mutex<SiteIds>) -> Result<Vec<Value>, ProviderError> {
        let removed = m
            .removed
            .iter()
            .map(|g| self.group_id(ids, g))
            .collect::<Result<Vec<_>, _>>()?;
        let mut after: Vec<String> = now
            .groups
            .iter()
            .filter_map(|g| g.id.clone())
            .filter(|id| !removed.contains(id))
            .collect();
        for g in &m.added {
            let id = self.group_id(ids, g)?;
            if !after.contains(&id) {
                after.push(id);
            }
        }
        Ok(after.iter().map(|id| number_or_text(id)).collect())
    }

    /// The ID of the role named `name` (`GET /roles/`), for creating `object`.
    async fn role_id(&self, name: &str, object: &str) -> Result<String, ProviderError> {
        let roles: Vec<wire::Ref> = self.list_all(ROLES, "list roles").await?;
        roles
            .into_iter()
            .find(|r| r.name.as_deref() == Some(name))
            .and_then(|r| r.id)
            .ok_or_else(|| {
                self.unsupported(&format!(
                    "cannot create user {object}: Superset needs a role or a group for every user, {object} is declared in no group, and the site has no {name} role to give them; declare a group for them"
                ))
            })
    }

    /// `GET /users/{id}`: the user as the site has them now.
    async fn read_user(&self, id: &str, object: &str) -> Result<wire::User, ProviderError> {
        let path = format!("{USERS}{}", encode(id));
        let answer = self.send(&Call::get(path, "read user", object)).await?;
        serde_json::from_value::<wire::One<wire::User>>(answer)
            .map(|one| one.result)
            .map_err(|e| self.decode_error("read user", format!("unexpected answer: {e}")))
    }

    /// `PUT /users/{id}` with `fields`: sending it twice sets the same.
    async fn put_user(&self, id: &str, object: &str, action: &str, fields: Fields) -> Result<(), ProviderError> {
        let path = format!("{USERS}{}", encode(id));
        self.send(&call(Method::PUT, path, action, object, Some(Value::Object(fields)), Effect::None))
            .await
            .map(|_| ())
    }

    /// The ID a create answered (or a look-up found), refused if no path
    /// can carry it.
    fn created_id(&self, answer: &Value, action: &str, (kind, object): (&str, &str)) -> Result<String, ProviderError> {
        let created: wire::Created = serde_json::from_value(answer.clone()).unwrap_or_default();
        let id = created
            .id
            .ok_or_else(|| self.decode_error(action, "the answer has no `id`".into()))?;
        crate::provider::ids::usable_id(&self.name, kind, object, id)
    }

    fn user_id(&self, ids: &Mutex<SiteIds>, email: &str) -> Result<String, ProviderError> {
        lock(ids)
            .members
            .get(&email_key(email))
            .cloned()
            .ok_or_else(|| self.unsupported(&format!("no user with email {email} was found on the site")))
    }

    fn group_id(&self, ids: &Mutex<SiteIds>, name: &str) -> Result<String, ProviderError> {
        lock(ids)
            .groups
            .get(&group_key(name))
            .cloned()
            .ok_or_else(|| self.unsupported(&format!("no group named {name} was found on the site")))
    }

    fn unsupported(&self, message: &str) -> ProviderError {
        ProviderError::Unsupported {
            site: self.name.clone(),
            message: message.to_string(),
        }
    }
}

fn lock(ids: &Mutex<SiteIds>) -> std::sync::MutexGuard<'_, SiteIds> {
    ids.lock().expect("ids lock")
}

fn call<'a>(
    method: Method,
    path: String,
    action: &'a str,
    object: &'a str,
    body: Option<Value>,
    effect: Effect<'a>,
) -> Call<'a> {
    Call {
        method,
        path,
        action,
        object,
        body,
        effect,
    }
}

/// An ID as Superset takes it in a list of roles or groups: the number it
/// gave (IDs are read as text).
fn number_or_text(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))
}

/// 32 characters drawn from 62 by the operating system's random source
/// (about 190 bits): a password no one is told, so the account is reached
/// only through SSO or LDAP, or after an admin sets one.
fn random_password() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // The largest multiple of 62 a byte holds: bytes above it are skipped,
    // so every character is as likely.
    const FAIR: u8 = 248;
    let mut password = String::with_capacity(32);
    let mut bytes = [0u8; 64];
    while password.len() < 32 {
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        for b in bytes.iter().filter(|b| **b < FAIR) {
            if password.len() < 32 {
                password.push(char::from(CHARS[usize::from(*b) % CHARS.len()]));
            }
        }
    }
    password
}

#[cfg(test)]
mod tests {
    use super::{number_or_text, random_password};

    #[test]
    fn random_passwords_are_long_and_differ() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_go_back_as_the_numbers_superset_gave() {
        assert_eq!(number_or_text("12"), serde_json::json!(12));
        assert_eq!(number_or_text("a1"), serde_json::json!("a1"));
    }
}
