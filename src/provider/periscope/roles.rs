//! Periscope sites with role-based access (RBAC), on the "User and Role
//! Management API" (reference: `shared/reference/periscope-rbac-api.md`):
//! users on `/api/v2/users/{id}` holding role ids, roles on
//! `/api/v1/roles/{id}`. A person's roles play the part of groups: the live
//! site's groups are its roles, and a user's groups the roles they hold.
//! Roles are sent by id, never by name (reference §4): names are resolved
//! through the roles read from the site.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Call, Effect, PeriscopeClient, name_fields};
use super::role_ids::RoleIds;
use super::role_wire::{self, LiveRole, LiveRoleUser};
use crate::model::{Change, LiveGroup, LiveSite, LiveUser};
use crate::provider::error::ProviderError;
use crate::provider::{WriteMode, path_segment};

/// The role every user holds (reference §4: the name suggests it); it is
/// kept in every role set roster sends.
pub(super) const EVERYONE: &str = "Everyone";

/// A write of the user and role API (users are named in the path, never
/// in a header), with no effect to look for unless one is given.
fn write<'c>(
    mode: WriteMode,
    method: Method,
    path: String,
    action: &'c str,
    object: &'c str,
    body: Option<Value>,
) -> Call<'c> {
    Call {
        method,
        path,
        action,
        object,
        email: None,
        mode: Some(mode),
        body,
        effect: Effect::None,
    }
}

impl<'c> Call<'c> {
    /// The call, with what it leaves behind that a read can find.
    fn effect(self, effect: Effect<'c>) -> Self {
        Call { effect, ..self }
    }
}

/// What a role write leaves to learn from its answer.
enum Made<'c> {
    Nothing,
    User(&'c str),
    Role(&'c str),
}

impl PeriscopeClient {
    /// The users and roles of a site with role-based access, as groups.
    pub(super) async fn fetch_roles(&self) -> Result<LiveSite, ProviderError> {
        let (roles, users) = self.read_roles_and_users().await?;
        let ids = self.lock_ids();
        let live_users = users
            .iter()
            .map(|u| LiveUser {
                id: Some(u.id.clone()),
                active: true,
                email: u.email.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                groups: u
                    .role_ids
                    .iter()
                    .filter_map(|id| ids.role_name(id))
                    .map(str::to_string)
                    .collect(),
                ..LiveUser::default()
            })
            .collect();
        let groups = roles
            .iter()
            .map(|r| LiveGroup {
                id: Some(r.id.clone()),
                name: r.name.clone(),
                description: r.description.clone(),
                ..LiveGroup::default()
            })
            .collect();
        Ok(LiveSite {
            users: live_users,
            groups,
            account_types: Vec::new(),
            api_identity: None,
            access: Default::default(),
            attrs: crate::attrs::LiveAttrs::default(),
        })
    }

    /// Reads roles and users (both at once), and keeps their ids.
    async fn read_roles_and_users(
        &self,
    ) -> Result<(Vec<LiveRole>, Vec<LiveRoleUser>), ProviderError> {
        let (users, roles) = tokio::join!(
            self.read_all::<role_wire::User, role_wire::UserKeys>("/api/v2/users", "list users"),
            self.read_all::<role_wire::Role, role_wire::RoleKeys>("/api/v1/roles", "list roles"),
        );
        let (users, roles) = (users?, roles?);
        let decode = |action: &str, missing: super::wire::MissingField| ProviderError::Decode {
            site: self.site_name().to_string(),
            action: action.to_string(),
            message: missing.to_string(),
        };
        let roles = role_wire::roles(roles).map_err(|m| decode("list roles", m))?;
        let users = role_wire::users(users, &roles).map_err(|m| decode("list users", m))?;
        let mut ids = self.lock_ids();
        ids.roles.clone_from(&roles);
        ids.users = users
            .iter()
            .map(|u| (u.email.to_lowercase(), u.id.clone()))
            .collect();
        drop(ids);
        Ok((roles, users))
    }

    fn lock_ids(&self) -> std::sync::MutexGuard<'_, RoleIds> {
        self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether what a write makes is on the site now; `None` when the read
    /// failed or there is nothing to look for.
    pub(super) async fn role_exists(&self, effect: Effect<'_>) -> Option<bool> {
        if matches!(effect, Effect::None | Effect::Gone) {
            return None;
        }
        let (roles, users) = Box::pin(self.read_roles_and_users()).await.ok()?;
        Some(match effect {
            Effect::UserExists(email) => users.iter().any(|u| u.email.eq_ignore_ascii_case(email)),
            Effect::GroupExists(name) => roles.iter().any(|r| r.name == name),
            Effect::None | Effect::Gone => false,
        })
    }

    /// Carries out one change on a site with role-based access.
    pub(super) async fn apply_role_change(
        &self,
        change: &Change,
        mode: WriteMode,
    ) -> Result<(), ProviderError> {
        let (call, made) = self.role_call(change, mode).await?;
        let answer = self.send(call).await?;
        if mode == WriteMode::Real {
            self.remember(made, &answer);
        }
        Ok(())
    }

    /// Keeps the id a create answered with, for the writes after it.
    fn remember(&self, made: Made<'_>, answer: &[u8]) {
        let Some(id) = serde_json::from_slice::<role_wire::Created>(answer)
            .ok()
            .and_then(|c| c.id)
        else {
            return;
        };
        let mut ids = self.lock_ids();
        match made {
            Made::User(email) => {
                ids.users.insert(email.trim().to_lowercase(), id);
            }
            Made::Role(name) => ids.roles.push(LiveRole {
                id,
                name: name.to_string(),
                description: None,
            }),
            Made::Nothing => {}
        }
    }

    /// The request that carries out a change, with what it makes.
    async fn role_call<'c>(
        &'c self,
        change: &'c Change,
        mode: WriteMode,
    ) -> Result<(Call<'c>, Made<'c>), ProviderError> {
        match change {
            Change::CreateUser { .. } | Change::UpdateUser { .. } | Change::DeleteUser { .. } => {
                self.user_write(change, mode).await
            }
            Change::CreateGroup { .. } | Change::UpdateGroup { .. } | Change::DeleteGroup { .. } => {
                self.role_write(change, mode).await
            }
            Change::DeactivateUser { email, .. } => Err(self.unsupported(format!(
                "cannot deactivate {email}: Periscope has no deactivation"
            ))),
            other => Err(self.unsupported(format!(
                "a site with role-based access has no {}",
                other.key()
            ))),
        }
    }

    /// The request that carries out a change to a person, by id.
    async fn user_write<'c>(
        &'c self,
        change: &'c Change,
        mode: WriteMode,
    ) -> Result<(Call<'c>, Made<'c>), ProviderError> {
        let user_path = |id: &str| format!("/api/v2/users/{}", path_segment(id));
        Ok(match change {
            Change::CreateUser {
                email,
                first_name,
                last_name,
                groups,
                ..
            } => {
                let body = json!({
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                    "roles": self.role_ids(groups).await?,
                    "invited_by_email": self.invited_by,
                });
                let path = "/api/v2/users".to_string();
                let call = write(mode, Method::POST, path, "create user", email, Some(body));
                (call.effect(Effect::UserExists(email)), Made::User(email))
            }
            Change::UpdateUser {
                email,
                id,
                first_name,
                last_name,
                groups,
                ..
            } => {
                let mut body = name_fields(first_name.as_ref(), last_name.as_ref());
                if let Some(m) = groups {
                    // A sent roles list replaces the set (reference §4).
                    body.insert("roles".into(), json!(self.role_ids(&m.after).await?));
                }
                let id = match id {
                    Some(id) => id.clone(),
                    None => self.user_id(email).await?,
                };
                let body = Some(Value::Object(body));
                let call = write(mode, Method::PUT, user_path(&id), "update user", email, body);
                (call, Made::Nothing)
            }
            Change::DeleteUser { email } => {
                let id = self.user_id(email).await?;
                let call = write(mode, Method::DELETE, user_path(&id), "delete user", email, None);
                (call.effect(Effect::Gone), Made::Nothing)
            }
            _ => unreachable!("`role_call` gives user_write user changes only"),
        })
    }

    /// The request that carries out a change to a role, by id.
    async fn role_write<'c>(
        &'c self,
        change: &'c Change,
        mode: WriteMode,
    ) -> Result<(Call<'c>, Made<'c>), ProviderError> {
        let role_path = |id: &str| format!("/api/v1/roles/{}", path_segment(id));
        Ok(match change {
            Change::CreateGroup {
                name,
                access,
                description,
                ..
            } => {
                self.no_access_level(name, access.is_some())?;
                let body = json!({
                    "name": name,
                    "description": description.as_deref().unwrap_or_default(),
                    "created_by_email": self.invited_by,
                });
                let path = "/api/v1/roles".to_string();
                let call = write(mode, Method::POST, path, "create role", name, Some(body));
                (call.effect(Effect::GroupExists(name)), Made::Role(name))
            }
            Change::UpdateGroup {
                live_name,
                id,
                name,
                access,
                description,
                ..
            } => {
                self.no_access_level(live_name, access.is_some())?;
                let mut body = serde_json::Map::new();
                if let Some(n) = name {
                    body.insert("name".into(), json!(n.after));
                }
                if let Some(d) = description {
                    body.insert("description".into(), json!(d.after));
                }
                body.insert("updated_by_email".into(), json!(self.invited_by));
                let path = role_path(&self.role_id_of(id.as_deref(), live_name).await?);
                let body = Some(Value::Object(body));
                let call = write(mode, Method::PUT, path, "update role", live_name, body);
                // A rename that already happened leaves the new name.
                let call = match name {
                    Some(n) => call.effect(Effect::GroupExists(&n.after)),
                    None => call,
                };
                (call, Made::Nothing)
            }
            Change::DeleteGroup { name, id } => {
                let path = role_path(&self.role_id_of(id.as_deref(), name).await?);
                let call = write(mode, Method::DELETE, path, "delete role", name, None);
                (call.effect(Effect::Gone), Made::Nothing)
            }
            _ => unreachable!("`role_call` gives role_write role changes only"),
        })
    }

    /// Roles have privileges and permissions, not a group's access level.
    fn no_access_level(&self, role: &str, has_access: bool) -> Result<(), ProviderError> {
        if has_access {
            return Err(self.unsupported(format!(
                "role `{role}`: roles have no access level (view, discovery, sql); leave `access` out"
            )));
        }
        Ok(())
    }

    fn unsupported(&self, message: String) -> ProviderError {
        ProviderError::Unsupported {
            site: self.site_name().to_string(),
            message,
        }
    }

    /// The ids of the roles named, `Everyone` among them; a name the site
    /// does not have is an error, before any request.
    async fn role_ids(&self, names: &[String]) -> Result<Vec<String>, ProviderError> {
        if self.lock_ids().roles.is_empty() {
            self.read_roles_and_users().await?;
        }
        let ids = self.lock_ids();
        let mut out: Vec<String> = Vec::with_capacity(names.len() + 1);
        for name in std::iter::once(EVERYONE).chain(names.iter().map(String::as_str)) {
            match ids.role(name) {
                Some(id) if !out.iter().any(|o| o == id) => out.push(id.to_string()),
                Some(_) => {}
                None if name == EVERYONE => {}
                None => {
                    return Err(self.unsupported(format!(
                        "the site has no role `{name}` (roles are sent by id, and no role of that name was read)"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// A user's id: as read, or read again (a user made since).
    async fn user_id(&self, email: &str) -> Result<String, ProviderError> {
        if let Some(id) = self.lock_ids().user(email) {
            return Ok(id.to_string());
        }
        self.read_roles_and_users().await?;
        self.lock_ids()
            .user(email)
            .map(str::to_string)
            .ok_or_else(|| self.unsupported(format!("the site has no user {email}")))
    }

    /// A role's id: as the plan carries it, as read, or read again.
    async fn role_id_of(&self, planned: Option<&str>, name: &str) -> Result<String, ProviderError> {
        if let Some(id) = planned {
            return Ok(id.to_string());
        }
        if let Some(id) = self.lock_ids().role(name) {
            return Ok(id.to_string());
        }
        self.read_roles_and_users().await?;
        self.lock_ids()
            .role(name)
            .map(str::to_string)
            .ok_or_else(|| self.unsupported(format!("the site has no role `{name}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::{AccessControl, Settings};
    use super::*;
    use crate::model::{Diff, Membership, ProviderKind, SecretSource, SiteConfig};
    use crate::provider::Pacing;
    use crate::sandbox::{BackgroundSandbox, PeriscopeSite, SandboxData};
    use crate::secret::Secret;

    /// A sandbox with the site `acme`: with role-based access, or groups.
    fn sandbox(roles: bool) -> BackgroundSandbox {
        let site = if roles {
            PeriscopeSite::new_role_based("k", "admin@acme.com")
        } else {
            PeriscopeSite::new("k", "admin@acme.com")
        };
        let mut data = SandboxData::default();
        data.periscope.insert("acme".into(), site);
        BackgroundSandbox::start(data).unwrap()
    }

    fn client(url: &str, access_control: AccessControl) -> PeriscopeClient {
        let settings = Settings {
            slug: "acme".into(),
            api_key_from: SecretSource::Env("ACME_KEY".into()),
            invited_by: "admin@acme.com".into(),
            access_control,
        };
        let site = crate::test_fixtures::site(
            "acme",
            ProviderKind::Periscope,
            url,
            SiteConfig::Periscope(settings),
        );
        PeriscopeClient::new(
            &site,
            Secret::new("k"),
            &url::Url::parse(url).unwrap(),
            Pacing::default(),
        )
        .unwrap()
    }

    fn roles_of(s: &BackgroundSandbox) -> crate::sandbox::periscope::roles::RoleSite {
        s.sandbox.data().periscope["acme"].role_based.clone().unwrap()
    }

    /// Role names of the sandbox user `email`, Everyone left out.
    fn held(s: &BackgroundSandbox, email: &str) -> Vec<String> {
        let site = roles_of(s);
        let user = site.users.iter().find(|u| u.email == email).unwrap();
        let name = |id: &String| site.roles.iter().find(|r| r.id == *id).unwrap().name.clone();
        user.roles.iter().map(name).filter(|n| n != EVERYONE).collect()
    }

    fn membership(after: &[&str]) -> Membership {
        Membership {
            added: vec![],
            removed: vec![],
            after: after.iter().map(ToString::to_string).collect(),
        }
    }

    /// A new custom role, a new person holding it and a built-in role,
    /// their roles and names changed, the role deleted, the person deleted.
    fn changes() -> Vec<Change> {
        vec![
            Change::CreateGroup {
                name: "Finance".into(),
                access: None,
                description: Some("money".into()),
                visibility: None,
            },
            Change::CreateUser {
                email: "ada@acme.com".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                member_type: None,
                groups: vec!["Analyst".into(), "Finance".into()],
                kind: Default::default(),
                admin_of: vec![],
            },
            Change::UpdateUser {
                email: "ada@acme.com".into(),
                id: None,
                renamed_from: None,
                first_name: Some(Diff {
                    before: "Ada".into(),
                    after: "Augusta".into(),
                }),
                last_name: None,
                member_type: None,
                kind: None,
                reactivate: false,
                groups: Some(membership(&["Finance", "Read"])),
            },
        ]
    }

    #[tokio::test]
    async fn roles_read_as_groups_and_written_by_id() {
        let s = sandbox(true);
        let c = client(&s.url, AccessControl::Roles);
        let live = c.fetch().await.unwrap();
        let names: Vec<&str> = live.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Admin", "Everyone", "Analyst", "Business User", "Read"]);
        assert_eq!(live.users[0].groups, ["Admin", "Everyone"]);
        assert!(live.users[0].id.is_some());

        let [create_role, create_user, update_user] = changes().try_into().unwrap();
        c.apply(&create_role, WriteMode::Real).await.unwrap();
        c.apply(&create_user, WriteMode::Real).await.unwrap();
        assert_eq!(held(&s, "ada@acme.com"), ["Analyst", "Finance"]);
        c.apply(&update_user, WriteMode::Real).await.unwrap();
        assert_eq!(held(&s, "ada@acme.com"), ["Finance", "Read"]);
        let finance = roles_of(&s).roles.into_iter().find(|r| r.name == "Finance").unwrap();
        assert_eq!(finance.description, "money");
        let rename = Change::UpdateGroup {
            live_name: "Finance".into(),
            id: None,
            name: Some(Diff {
                before: "Finance".into(),
                after: "Money".into(),
            }),
            access: None,
            description: None,
            visibility: None,
            admins: None,
        };
        c.apply(&rename, WriteMode::Real).await.unwrap();
        let delete_role = Change::DeleteGroup {
            name: "Money".into(),
            id: Some(finance.id),
        };
        c.apply(&delete_role, WriteMode::Real).await.unwrap();
        assert_eq!(held(&s, "ada@acme.com"), ["Read"]);
        let delete_user = Change::DeleteUser {
            email: "ada@acme.com".into(),
        };
        c.apply(&delete_user, WriteMode::Real).await.unwrap();
        assert_eq!(roles_of(&s).users.len(), 1);
        assert!(s.sandbox.requests().iter().all(|r| r.status < 300));
    }

    #[tokio::test]
    async fn test_mode_writes_change_nothing() {
        let s = sandbox(true);
        let c = client(&s.url, AccessControl::Roles);
        c.fetch().await.unwrap();
        let before = s.sandbox.data();
        // The new role is not made, so the person is given built-in roles.
        let [create_role, mut create_user, _] = changes().try_into().unwrap();
        if let Change::CreateUser { groups, .. } = &mut create_user {
            *groups = vec!["Analyst".into()];
        }
        let update_admin = Change::UpdateUser {
            email: "admin@acme.com".into(),
            id: None,
            renamed_from: None,
            first_name: None,
            last_name: None,
            member_type: None,
            kind: None,
            reactivate: false,
            groups: Some(membership(&["Admin", "Read"])),
        };
        for change in [create_role, create_user, update_admin] {
            c.apply(&change, WriteMode::TestMode).await.unwrap();
        }
        assert_eq!(s.sandbox.data(), before);
        let writes: Vec<_> = s
            .sandbox
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect();
        assert_eq!(writes.len(), 3);
        assert!(writes.iter().all(|r| r.test_mode.as_deref() == Some("true")));
    }

    #[tokio::test]
    async fn a_role_the_site_lacks_is_refused_before_any_write() {
        let s = sandbox(true);
        let c = client(&s.url, AccessControl::Roles);
        let [_, create_user, _] = changes().try_into().unwrap();
        let e = c.apply(&create_user, WriteMode::Real).await.unwrap_err();
        assert!(e.to_string().contains("the site has no role `Finance`"), "{e}");
        assert_eq!(s.sandbox.writes(), 0);
        let access = Change::CreateGroup {
            name: "X".into(),
            access: Some(crate::model::Access::Sql),
            description: None,
            visibility: None,
        };
        let e = c.apply(&access, WriteMode::Real).await.unwrap_err();
        assert!(e.to_string().contains("roles have no access level"), "{e}");
    }

    #[tokio::test]
    async fn the_other_familys_refusal_names_the_setting() {
        let roles_site = sandbox(true);
        let e = client(&roles_site.url, AccessControl::Groups)
            .fetch()
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "site `acme`: this site uses roles: set access_control = \"roles\" in [sites.acme] (site `acme`: list users: HTTP 404"
            ),
            "{e}"
        );
        let group_site = sandbox(false);
        let e = client(&group_site.url, AccessControl::Roles)
            .fetch()
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("this site uses groups: set access_control = \"groups\" (or leave it out)"),
            "{e}"
        );
        // A refused key stays a refused key.
        let e = PeriscopeClient::new(
            &crate::test_fixtures::site(
                "acme",
                ProviderKind::Periscope,
                &roles_site.url,
                SiteConfig::Periscope(Settings {
                    slug: "acme".into(),
                    api_key_from: SecretSource::Env("ACME_KEY".into()),
                    invited_by: "admin@acme.com".into(),
                    access_control: AccessControl::Roles,
                }),
            ),
            Secret::new("wrong"),
            &url::Url::parse(&roles_site.url).unwrap(),
            Pacing::default(),
        )
        .unwrap()
        .fetch()
        .await
        .unwrap_err();
        assert_eq!(e.status(), Some(401), "{e}");
    }
}
