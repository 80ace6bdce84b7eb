//! An emulated Periscope site with role-based access (RBAC), as the
//! reference's "User and Role Management API" describes it: users on
//! `/api/v2/users` holding role ids, roles on `/api/v1/roles` with
//! privileges (per object type) and permissions (per object). No HTTP here.
//!
//! Where the reference is silent (reference §10) the emulator picks: ids
//! are strings; a sent `roles` list replaces the user's set; every user
//! holds `Everyone`; the built-in roles are never deleted or renamed, but
//! their description and grants may change; deleting a custom role takes
//! it off its holders; the last holder of `Admin` stays.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::fields::{PageInfo, Paging, err, optional, page_of, required};
use crate::sandbox::answer::ApiError;
use crate::sandbox::rules::is_email;

/// The role whose holders administer the site.
pub const ADMIN: &str = "Admin";
/// The role every user holds.
pub const EVERYONE: &str = "Everyone";
/// The roles every RBAC site has (reference §7: "Admin, Everyone, Analyst,
/// Business User, Read").
pub const BUILTIN_ROLES: [&str; 5] = [ADMIN, EVERYONE, "Analyst", "Business User", "Read"];

/// The users and roles of an RBAC site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSite {
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub users: Vec<RoleUser>,
    /// The number in the next id the site hands out.
    #[serde(default)]
    pub next_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Site-wide rights per object type.
    #[serde(default)]
    pub privileges: Vec<Privilege>,
    /// Rights on one object.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// `{object_type, permissions}`: rights on every object of a type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Privilege {
    pub object_type: String,
    pub permissions: Vec<String>,
}

/// `{object_type, object_id, permissions}`: rights on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub object_type: String,
    pub object_id: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleUser {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Role ids.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The emulator's own rules: emails compare trimmed and lower-cased; role
/// names compare trimmed and lower-cased (the reference does not say; a
/// site keying roles by name suggests they are unique).
fn key(text: &str) -> String {
    text.trim().to_lowercase()
}

fn is_builtin(name: &str) -> bool {
    BUILTIN_ROLES.iter().any(|b| key(b) == key(name))
}

impl RoleSite {
    /// A new RBAC site: the built-in roles, and the first user, an admin.
    pub fn new(admin_email: &str) -> Self {
        let mut site = RoleSite {
            roles: Vec::new(),
            users: Vec::new(),
            next_id: 1,
        };
        for name in BUILTIN_ROLES {
            let id = site.fresh_id("role");
            site.roles.push(Role {
                id,
                name: name.to_string(),
                description: format!("built-in role {name}"),
                privileges: Vec::new(),
                permissions: Vec::new(),
            });
        }
        let id = site.fresh_id("user");
        let roles = vec![site.role_id(ADMIN), site.role_id(EVERYONE)];
        site.users.push(RoleUser {
            id,
            email: admin_email.to_string(),
            first_name: "Site".into(),
            last_name: "Admin".into(),
            roles,
        });
        site
    }

    fn fresh_id(&mut self, kind: &str) -> String {
        let n = self.next_id.max(1);
        self.next_id = n + 1;
        format!("0000-{kind}-{n:04}")
    }

    /// The id of a built-in role (always present).
    fn role_id(&self, name: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.id.clone())
            .unwrap_or_default()
    }

    fn user_index(&self, id: &str) -> Result<usize, ApiError> {
        self.users
            .iter()
            .position(|u| u.id == id)
            .ok_or_else(|| err(404, format!("no user with id '{id}'")))
    }

    fn role_index(&self, id: &str) -> Result<usize, ApiError> {
        self.roles
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| err(404, format!("no role with id '{id}'")))
    }

    pub fn list_users(&self, paging: Option<Paging>) -> Result<Value, ApiError> {
        let (range, page) = page_of(self.users.len(), paging)?;
        let mut out = json!({ "users": &self.users[range] });
        add_page(&mut out, page);
        Ok(out)
    }

    pub fn get_user(&self, id: &str) -> Result<Value, ApiError> {
        Ok(json!(self.users[self.user_index(id)?]))
    }

    /// The role ids a request sends, checked (ids only, never names:
    /// reference §4), with `Everyone` always among them.
    fn role_ids(&self, body: &Value) -> Result<Option<Vec<String>>, ApiError> {
        let Some(raw) = body.get("roles") else {
            return Ok(None);
        };
        let malformed = || err(400, "`roles` must be an array of role ids");
        let mut out = vec![self.role_id(EVERYONE)];
        for id in raw.as_array().ok_or_else(malformed)? {
            let id = id.as_str().ok_or_else(malformed)?;
            if !self.roles.iter().any(|r| r.id == id) {
                return Err(err(400, format!("'{id}' is not the id of a role")));
            }
            if !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
        Ok(Some(out))
    }

    fn is_admin(&self, user: &RoleUser) -> bool {
        let admin = self.role_id(ADMIN);
        user.roles.contains(&admin)
    }

    fn admin_count(&self) -> usize {
        self.users.iter().filter(|u| self.is_admin(u)).count()
    }

    pub fn create_user(&mut self, body: &Value, test_mode: bool) -> Result<Value, ApiError> {
        let email = required(body, "email")?;
        let first_name = required(body, "first_name")?;
        let last_name = required(body, "last_name")?;
        let invited_by = required(body, "invited_by_email")?;
        if !is_email(email) {
            return Err(err(400, format!("'{email}' is not a valid email")));
        }
        if !self.users.iter().any(|u| key(&u.email) == key(invited_by)) {
            return Err(err(
                400,
                format!("invited_by_email '{invited_by}' is not a user of this site"),
            ));
        }
        if self.users.iter().any(|u| key(&u.email) == key(email)) {
            return Err(err(
                409,
                format!("a user with email '{email}' already exists"),
            ));
        }
        let roles = self
            .role_ids(body)?
            .unwrap_or_else(|| vec![self.role_id(EVERYONE)]);
        let mut site = self.clone();
        let user = RoleUser {
            id: site.fresh_id("user"),
            email: email.to_string(),
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            roles,
        };
        let out = json!(user);
        if !test_mode {
            site.users.push(user);
            *self = site;
        }
        Ok(out)
    }

    pub fn update_user(&mut self, id: &str, body: &Value, test_mode: bool) -> Result<Value, ApiError> {
        let i = self.user_index(id)?;
        let mut user = self.users[i].clone();
        if let Some(v) = optional(body, "first_name")? {
            user.first_name = v.to_string();
        }
        if let Some(v) = optional(body, "last_name")? {
            user.last_name = v.to_string();
        }
        if let Some(roles) = self.role_ids(body)? {
            let stays_admin = roles.contains(&self.role_id(ADMIN));
            if self.is_admin(&user) && !stays_admin && self.admin_count() == 1 {
                return Err(err(400, "cannot take Admin from the last user holding it"));
            }
            user.roles = roles;
        }
        let out = json!(user);
        if !test_mode {
            self.users[i] = user;
        }
        Ok(out)
    }

    pub fn delete_user(&mut self, id: &str, test_mode: bool) -> Result<Value, ApiError> {
        let i = self.user_index(id)?;
        if self.is_admin(&self.users[i]) && self.admin_count() == 1 {
            return Err(err(400, "cannot delete the last user holding Admin"));
        }
        if !test_mode {
            self.users.remove(i);
        }
        Ok(json!({}))
    }

    pub fn list_roles(&self, paging: Option<Paging>) -> Result<Value, ApiError> {
        let (range, page) = page_of(self.roles.len(), paging)?;
        let mut out = json!({ "roles": &self.roles[range] });
        add_page(&mut out, page);
        Ok(out)
    }

    pub fn get_role(&self, id: &str) -> Result<Value, ApiError> {
        Ok(json!(self.roles[self.role_index(id)?]))
    }

    /// A role name not held by another role than `except`.
    fn free_name(&self, name: &str, except: Option<usize>) -> Result<(), ApiError> {
        check_role_name(name)?;
        match self.roles.iter().position(|r| key(&r.name) == key(name)) {
            Some(j) if Some(j) != except => Err(err(
                409,
                format!("role '{}' already exists", self.roles[j].name),
            )),
            _ => Ok(()),
        }
    }

    /// The writer of a role change must be a user of the site.
    fn check_author(&self, body: &Value, field: &str) -> Result<(), ApiError> {
        let author = required(body, field)?;
        if self.users.iter().any(|u| key(&u.email) == key(author)) {
            Ok(())
        } else {
            Err(err(400, format!("{field} '{author}' is not a user of this site")))
        }
    }

    pub fn create_role(&mut self, body: &Value, test_mode: bool) -> Result<Value, ApiError> {
        let name = required(body, "name")?;
        self.check_author(body, "created_by_email")?;
        self.free_name(name, None)?;
        let mut site = self.clone();
        let role = Role {
            id: site.fresh_id("role"),
            name: name.to_string(),
            description: text(body, "description")?.unwrap_or_default(),
            privileges: grants(body, "privileges")?.unwrap_or_default(),
            permissions: grants(body, "permissions")?.unwrap_or_default(),
        };
        let out = json!(role);
        if !test_mode {
            site.roles.push(role);
            *self = site;
        }
        Ok(out)
    }

    /// Fields left out are kept (reference §5).
    pub fn update_role(&mut self, id: &str, body: &Value, test_mode: bool) -> Result<Value, ApiError> {
        let i = self.role_index(id)?;
        self.check_author(body, "updated_by_email")?;
        let mut role = self.roles[i].clone();
        if let Some(name) = optional(body, "name")?.filter(|n| *n != role.name) {
            if is_builtin(&role.name) {
                return Err(err(
                    400,
                    format!("the built-in role '{}' cannot be renamed", role.name),
                ));
            }
            self.free_name(name, Some(i))?;
            role.name = name.to_string();
        }
        if let Some(d) = text(body, "description")? {
            role.description = d;
        }
        if let Some(p) = grants(body, "privileges")? {
            role.privileges = p;
        }
        if let Some(p) = grants(body, "permissions")? {
            role.permissions = p;
        }
        let out = json!(role);
        if !test_mode {
            self.roles[i] = role;
        }
        Ok(out)
    }

    /// A custom role is taken off its holders as it goes.
    pub fn delete_role(&mut self, id: &str, test_mode: bool) -> Result<Value, ApiError> {
        let i = self.role_index(id)?;
        let name = &self.roles[i].name;
        if is_builtin(name) {
            return Err(err(
                400,
                format!("the built-in role '{name}' cannot be deleted"),
            ));
        }
        if !test_mode {
            let gone = self.roles.remove(i).id;
            for u in &mut self.users {
                u.roles.retain(|r| *r != gone);
            }
        }
        Ok(json!({}))
    }
}

/// The longest role name the emulator accepts (provisional: the reference
/// documents no limit).
const ROLE_NAME_LIMIT: usize = 100;

fn check_role_name(name: &str) -> Result<(), ApiError> {
    if name.chars().count() > ROLE_NAME_LIMIT {
        return Err(err(
            400,
            format!("role names are at most {ROLE_NAME_LIMIT} characters"),
        ));
    }
    Ok(())
}

/// A text field that may be empty (a description).
fn text(body: &Value, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(400, format!("`{field}` must be a string"))),
    }
}

/// `privileges` or `permissions`: a list of grant records, each with an
/// `object_type` and a list of permission strings.
fn grants<T: serde::de::DeserializeOwned>(
    body: &Value,
    field: &str,
) -> Result<Option<Vec<T>>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| err(400, format!("`{field}` is malformed: {e}"))),
    }
}

fn add_page(out: &mut Value, page: Option<PageInfo>) {
    if let Some(page) = page {
        out["next_page_start"] = json!(page.next_page_start);
        out["items_this_page"] = json!(page.items_this_page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> RoleSite {
        RoleSite::new("admin@x.io")
    }

    fn role_named(s: &RoleSite, name: &str) -> String {
        s.roles.iter().find(|r| r.name == name).unwrap().id.clone()
    }

    fn new_user(roles: Value) -> Value {
        json!({"email": "a@x.io", "first_name": "A", "last_name": "B",
               "invited_by_email": "admin@x.io", "roles": roles})
    }

    #[test]
    fn test_mode_saves_nothing() {
        let mut s = site();
        let before = s.clone();
        let analyst = role_named(&s, "Analyst");
        s.create_user(&new_user(json!([analyst])), true).unwrap();
        s.create_role(
            &json!({"name": "Finance", "created_by_email": "admin@x.io"}),
            true,
        )
        .unwrap();
        let admin_id = s.users[0].id.clone();
        s.update_user(&admin_id, &json!({"first_name": "X"}), true)
            .unwrap();
        assert_eq!(s, before);
    }

    #[test]
    fn users_hold_role_ids_never_names() {
        let mut s = site();
        let analyst = role_named(&s, "Analyst");
        assert_eq!(
            s.create_user(&new_user(json!(["Analyst"])), false)
                .unwrap_err()
                .status,
            400
        );
        let made = s.create_user(&new_user(json!([analyst])), false).unwrap();
        let id = made["id"].as_str().unwrap().to_string();
        assert_eq!(s.users[1].roles, vec![role_named(&s, EVERYONE), analyst]);
        // A sent list replaces the set; Everyone stays.
        s.update_user(&id, &json!({"roles": []}), false).unwrap();
        assert_eq!(s.users[1].roles, vec![role_named(&s, EVERYONE)]);
        assert_eq!(
            s.create_user(&new_user(json!([])), false).unwrap_err().status,
            409
        );
    }

    #[test]
    fn built_in_roles_are_never_deleted_or_renamed() {
        let mut s = site();
        for name in BUILTIN_ROLES {
            let id = role_named(&s, name);
            assert_eq!(s.delete_role(&id, false).unwrap_err().status, 400);
            let rename = json!({"name": "Other", "updated_by_email": "admin@x.io"});
            assert_eq!(s.update_role(&id, &rename, false).unwrap_err().status, 400);
        }
        let everyone = role_named(&s, EVERYONE);
        let grants = json!({"updated_by_email": "admin@x.io", "description": "all",
            "privileges": [{"object_type": "Dashboard", "permissions": ["read_dashboards"]}]});
        s.update_role(&everyone, &grants, false).unwrap();
        assert_eq!(s.roles[1].privileges[0].permissions, vec!["read_dashboards"]);
        assert_eq!(s.roles[1].name, EVERYONE);
    }

    #[test]
    fn a_deleted_role_leaves_its_holders() {
        let mut s = site();
        let made = s
            .create_role(
                &json!({"name": "Finance", "description": "money", "created_by_email": "admin@x.io",
                    "permissions": [{"object_type": "Dashboard", "object_id": "d1", "permissions": ["create_dashboards"]}]}),
                false,
            )
            .unwrap();
        let finance = made["id"].as_str().unwrap().to_string();
        let admin = s.users[0].id.clone();
        let mut roles = s.users[0].roles.clone();
        roles.push(finance.clone());
        s.update_user(&admin, &json!({ "roles": roles }), false)
            .unwrap();
        assert_eq!(
            s.create_role(&json!({"name": "finance", "created_by_email": "admin@x.io"}), false)
                .unwrap_err()
                .status,
            409
        );
        let malformed = json!({"name": "Bad", "created_by_email": "admin@x.io",
            "permissions": [{"object_type": "Dashboard", "permissions": ["x"]}]});
        assert_eq!(s.create_role(&malformed, false).unwrap_err().status, 400);
        s.delete_role(&finance, false).unwrap();
        assert!(!s.users[0].roles.contains(&finance));
    }

    #[test]
    fn accepted_writes_persist_and_group_sites_save_as_before() {
        use crate::sandbox::PeriscopeSite;
        let mut site = PeriscopeSite::new_role_based("k", "admin@x.io");
        let roles = site.role_based.as_mut().unwrap();
        roles
            .create_role(&json!({"name": "Finance", "created_by_email": "admin@x.io"}), false)
            .unwrap();
        let saved = serde_json::to_string(&site).unwrap();
        let back: PeriscopeSite = serde_json::from_str(&saved).unwrap();
        assert_eq!(back, site);
        let group_site = serde_json::to_value(PeriscopeSite::new("k", "admin@x.io")).unwrap();
        assert!(group_site.get("role_based").is_none());
    }

    #[test]
    fn the_last_admin_stays() {
        let mut s = site();
        let admin = s.users[0].id.clone();
        assert_eq!(s.delete_user(&admin, false).unwrap_err().status, 400);
        assert_eq!(
            s.update_user(&admin, &json!({"roles": []}), false)
                .unwrap_err()
                .status,
            400
        );
    }
}
