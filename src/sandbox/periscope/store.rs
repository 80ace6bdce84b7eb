//! An emulated Periscope site and the rules its API applies to each request.
//! No HTTP here.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use super::fields::Paging;
use super::fields::{PageInfo, err, optional, page_of, required};
use super::roles::RoleSite;
use crate::sandbox::answer::{Answer, ApiError};
use crate::sandbox::rules::is_email;

/// The group whose members administer a site (reference §6, §7: "A user
/// becomes admin by joining the `Administrators` group").
pub const ADMINISTRATORS: &str = "Administrators";
/// The group every user is in (reference §6, §7: "the `All Users` group has
/// SQL access by default").
pub const ALL_USERS: &str = "All Users";

/// A group's access level (reference §6a: `"access": "discovery"`; the
/// levels from the User Types pages: View, Discovery, SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    View,
    Discovery,
    Sql,
}

impl Access {
    const ALL: [Access; 3] = [Access::View, Access::Discovery, Access::Sql];

    pub fn as_str(self) -> &'static str {
        match self {
            Access::View => "view",
            Access::Discovery => "discovery",
            Access::Sql => "sql",
        }
    }

    /// A level as the emulated API takes it: any case, spaces around.
    fn parse(value: &str) -> Option<Access> {
        Access::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

/// One emulated Periscope site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriscopeSite {
    pub api_key: String,
    #[serde(default)]
    pub groups: Vec<PeriscopeGroup>,
    #[serde(default)]
    pub users: Vec<PeriscopeUser>,
    /// Present on a site with role-based access: its users and roles, on
    /// the "User and Role Management API" (the v1 users and groups above
    /// stay empty, and their API refuses every request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_based: Option<RoleSite>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriscopeGroup {
    pub name: String,
    pub access: Access,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriscopeUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The emulator's own matching rules (never the client's, so a wrong
/// assumption in roster still shows up in a test): emails compare trimmed
/// and lower-cased, code point by code point, with no Unicode
/// normalisation; group names as the API resolves `/groups/my-new-group`
/// to `myNewGroup`, ignoring case and anything not alphanumeric.
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn group_slug(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_builtin_group(name: &str) -> bool {
    [ADMINISTRATORS, ALL_USERS]
        .iter()
        .any(|b| group_slug(b) == group_slug(name))
}

impl PeriscopeSite {
    /// A new site as Periscope makes one: the built-in groups, and the first
    /// user, an administrator.
    pub fn new(api_key: &str, admin_email: &str) -> Self {
        PeriscopeSite {
            api_key: api_key.to_string(),
            groups: vec![
                PeriscopeGroup {
                    name: ADMINISTRATORS.into(),
                    access: Access::Sql,
                },
                PeriscopeGroup {
                    name: ALL_USERS.into(),
                    access: Access::Sql,
                },
            ],
            users: vec![PeriscopeUser {
                email: admin_email.to_string(),
                first_name: "Site".into(),
                last_name: "Admin".into(),
                groups: vec![ADMINISTRATORS.into(), ALL_USERS.into()],
            }],
            role_based: None,
        }
    }

    /// A new site with role-based access: the built-in roles, and the
    /// first user, holding Admin.
    pub fn new_role_based(api_key: &str, admin_email: &str) -> Self {
        PeriscopeSite {
            api_key: api_key.to_string(),
            groups: Vec::new(),
            users: Vec::new(),
            role_based: Some(RoleSite::new(admin_email)),
        }
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        // The path may spell the name differently (`my-new-group` for
        // `myNewGroup`): exact match first, then the API's loose match.
        self.groups.iter().position(|g| g.name == name).or_else(|| {
            self.groups
                .iter()
                .position(|g| group_slug(&g.name) == group_slug(name))
        })
    }

    fn user_index(&self, email: &str) -> Option<usize> {
        // Runs on every request: the wanted key is made once, and each
        // user's email is case-folded lazily, without allocating.
        let wanted = email_key(email);
        self.users.iter().position(|u| {
            let email = u.email.trim();
            if email.is_ascii() {
                email.eq_ignore_ascii_case(&wanted)
            } else {
                email
                    .chars()
                    .flat_map(char::to_lowercase)
                    .eq(wanted.chars())
            }
        })
    }

    /// The users, all of them or one page (as the dashboards API pages:
    /// `next_page_start` names the next page, null on the last).
    pub fn list_users(&self, paging: Option<Paging>) -> Result<Answer, ApiError> {
        #[derive(Serialize)]
        struct Users<'a> {
            users: Vec<UserOut<'a>>,
            #[serde(flatten)]
            page: Option<PageInfo>,
        }
        let (range, page) = page_of(self.users.len(), paging)?;
        Ok(Answer::json(&Users {
            users: self.users[range.clone()]
                .iter()
                .zip(range)
                .map(|(u, i)| user_out(i, u))
                .collect(),
            page,
        }))
    }

    pub fn get_user(&self, email: &str) -> Result<Value, ApiError> {
        let i = self.user_index(email).ok_or_else(|| no_user(email))?;
        Ok(user_json(i, &self.users[i]))
    }

    /// The groups, all of them or one page, as [`Self::list_users`].
    pub fn list_groups(&self, paging: Option<Paging>) -> Result<Value, ApiError> {
        let (range, page) = page_of(self.groups.len(), paging)?;
        let groups: Vec<Value> = self.groups[range.clone()]
            .iter()
            .zip(range)
            .map(|(g, i)| group_json(i, g))
            .collect();
        let mut out = json!({ "groups": groups });
        if let Some(page) = page {
            out["next_page_start"] = json!(page.next_page_start);
            out["items_this_page"] = json!(page.items_this_page);
        }
        Ok(out)
    }

    pub fn get_group(&self, name: &str) -> Result<Value, ApiError> {
        let i = self.group_index(name).ok_or_else(|| no_group(name))?;
        Ok(group_json(i, &self.groups[i]))
    }

    /// The groups named in a request, as the site spells them; every user is
    /// in the all-users group.
    fn resolve_groups(&self, body: &Value) -> Result<Option<Vec<String>>, ApiError> {
        let Some(raw) = body.get("groups") else {
            return Ok(None);
        };
        let names = raw
            .as_array()
            .ok_or_else(|| err(400, "`groups` must be an array of group names"))?;
        let mut out = vec![ALL_USERS.to_string()];
        for n in names {
            let n = n
                .as_str()
                .ok_or_else(|| err(400, "`groups` must be an array of group names"))?;
            let i = self
                .group_index(n)
                .ok_or_else(|| err(400, format!("group '{n}' does not exist")))?;
            let name = &self.groups[i].name;
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        Ok(Some(out))
    }

    pub fn create_user(&mut self, body: &Value, test_mode: bool) -> Result<Value, ApiError> {
        let email = required(body, "email")?;
        let first_name = required(body, "first_name")?;
        let last_name = required(body, "last_name")?;
        let invited_by = required(body, "invited_by_email")?;
        if !is_email(email) {
            return Err(err(400, format!("'{email}' is not a valid email")));
        }
        if self.user_index(invited_by).is_none() {
            return Err(err(
                400,
                format!("invited_by_email '{invited_by}' is not a user of this site"),
            ));
        }
        if self.user_index(email).is_some() {
            return Err(err(
                409,
                format!("a user with email '{email}' already exists"),
            ));
        }
        let groups = self
            .resolve_groups(body)?
            .unwrap_or_else(|| vec![ALL_USERS.to_string()]);
        let user = PeriscopeUser {
            email: email.to_string(),
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            groups,
        };
        let out = user_json(self.users.len(), &user);
        if !test_mode {
            self.users.push(user);
        }
        Ok(out)
    }

    pub fn update_user(
        &mut self,
        email: &str,
        body: &Value,
        test_mode: bool,
    ) -> Result<Value, ApiError> {
        let i = self.user_index(email).ok_or_else(|| no_user(email))?;
        let mut user = self.users[i].clone();
        if let Some(v) = optional(body, "first_name")? {
            user.first_name = v.to_string();
        }
        if let Some(v) = optional(body, "last_name")? {
            user.last_name = v.to_string();
        }
        if let Some(groups) = self.resolve_groups(body)? {
            let was_admin = user.groups.iter().any(|g| g == ADMINISTRATORS);
            let is_admin = groups.iter().any(|g| g == ADMINISTRATORS);
            if was_admin && !is_admin && self.admin_count() == 1 {
                return Err(err(400, "cannot remove the last member of Administrators"));
            }
            user.groups = groups;
        }
        let out = user_json(i, &user);
        if !test_mode {
            self.users[i] = user;
        }
        Ok(out)
    }

    pub fn delete_user(&mut self, email: &str, test_mode: bool) -> Result<Value, ApiError> {
        let i = self.user_index(email).ok_or_else(|| no_user(email))?;
        if self.users[i].groups.iter().any(|g| g == ADMINISTRATORS) && self.admin_count() == 1 {
            return Err(err(400, "cannot delete the last member of Administrators"));
        }
        if !test_mode {
            self.users.remove(i);
        }
        Ok(json!({}))
    }

    pub fn create_group(&mut self, body: &Value, test_mode: bool) -> Result<Value, ApiError> {
        let name = required(body, "name")?;
        check_group_name(name)?;
        let access = access_of(body)?.unwrap_or(Access::View);
        if let Some(i) = self.group_index(name) {
            return Err(err(
                409,
                format!("group '{}' already exists", self.groups[i].name),
            ));
        }
        let group = PeriscopeGroup {
            name: name.to_string(),
            access,
        };
        let out = group_json(self.groups.len(), &group);
        if !test_mode {
            self.groups.push(group);
        }
        Ok(out)
    }

    pub fn update_group(
        &mut self,
        name: &str,
        body: &Value,
        test_mode: bool,
    ) -> Result<Value, ApiError> {
        let i = self.group_index(name).ok_or_else(|| no_group(name))?;
        let mut group = self.groups[i].clone();
        let old_name = group.name.clone();
        if let Some(new_name) = optional(body, "name")?.filter(|n| *n != old_name) {
            if is_builtin_group(&old_name) {
                return Err(err(
                    400,
                    format!("the built-in group '{old_name}' cannot be renamed"),
                ));
            }
            check_group_name(new_name)?;
            if let Some(j) = self.group_index(new_name).filter(|j| *j != i) {
                return Err(err(
                    409,
                    format!("group '{}' already exists", self.groups[j].name),
                ));
            }
            group.name = new_name.to_string();
        }
        if let Some(a) = access_of(body)? {
            group.access = a;
        }
        let out = group_json(i, &group);
        if !test_mode {
            for u in &mut self.users {
                for g in &mut u.groups {
                    if *g == old_name {
                        g.clone_from(&group.name);
                    }
                }
            }
            self.groups[i] = group;
        }
        Ok(out)
    }

    pub fn delete_group(&mut self, name: &str, test_mode: bool) -> Result<Value, ApiError> {
        let i = self.group_index(name).ok_or_else(|| no_group(name))?;
        let group = self.groups[i].name.clone();
        if is_builtin_group(&group) {
            return Err(err(
                400,
                format!("the built-in group '{group}' cannot be deleted"),
            ));
        }
        if !test_mode {
            self.groups.remove(i);
            for u in &mut self.users {
                u.groups.retain(|g| *g != group);
            }
        }
        Ok(json!({}))
    }

    fn admin_count(&self) -> usize {
        self.users
            .iter()
            .filter(|u| u.groups.iter().any(|g| g == ADMINISTRATORS))
            .count()
    }
}

/// The longest group name the emulator accepts. Provisional: the reference
/// documents no limit; some limit is certain.
const GROUP_NAME_LIMIT: usize = 100;

fn check_group_name(name: &str) -> Result<(), ApiError> {
    if name.chars().count() > GROUP_NAME_LIMIT {
        return Err(err(
            400,
            format!("group names are at most {GROUP_NAME_LIMIT} characters"),
        ));
    }
    Ok(())
}

/// A user as the API shows one.
#[derive(Serialize)]
struct UserOut<'a> {
    id: usize,
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    groups: &'a [String],
}

fn user_out(i: usize, u: &PeriscopeUser) -> UserOut<'_> {
    UserOut {
        id: i + 1,
        email: &u.email,
        first_name: &u.first_name,
        last_name: &u.last_name,
        groups: &u.groups,
    }
}

fn user_json(i: usize, u: &PeriscopeUser) -> Value {
    serde_json::to_value(user_out(i, u)).expect("users always serialize")
}

fn group_json(i: usize, g: &PeriscopeGroup) -> Value {
    json!({ "id": i + 1, "name": g.name, "access": g.access.as_str() })
}

fn no_user(email: &str) -> ApiError {
    err(404, format!("no user with email '{email}'"))
}

fn no_group(name: &str) -> ApiError {
    err(404, format!("no group named '{name}'"))
}

fn access_of(body: &Value) -> Result<Option<Access>, ApiError> {
    match optional(body, "access")? {
        None => Ok(None),
        Some(a) => Access::parse(a).map(Some).ok_or_else(|| {
            err(
                400,
                format!("access '{a}' is not one of view, discovery, sql"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> PeriscopeSite {
        PeriscopeSite::new("k", "admin@x.io")
    }

    #[test]
    fn test_mode_changes_nothing() {
        let mut s = site();
        let before = s.clone();
        let body = json!({"email": "a@x.io", "first_name": "A", "last_name": "B", "invited_by_email": "admin@x.io"});
        s.create_user(&body, true).unwrap();
        s.create_group(&json!({"name": "G", "access": "sql"}), true)
            .unwrap();
        s.delete_user("admin@x.io", true).unwrap_err();
        assert_eq!(s, before);
    }

    #[test]
    fn groups_resolve_loosely_and_built_ins_are_protected() {
        let mut s = site();
        s.create_group(&json!({"name": "myNewGroup", "access": "Discovery"}), false)
            .unwrap();
        assert_eq!(s.get_group("my-new-group").unwrap()["name"], "myNewGroup");
        assert_eq!(
            s.create_group(&json!({"name": "MYNEWGROUP"}), false)
                .unwrap_err()
                .status,
            409
        );
        assert_eq!(s.delete_group("All Users", false).unwrap_err().status, 400);
        assert_eq!(
            s.update_group("administrators", &json!({"name": "Admins"}), false)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn renames_carry_memberships() {
        let mut s = site();
        s.create_group(&json!({"name": "Old", "access": "view"}), false)
            .unwrap();
        s.update_user(
            "admin@x.io",
            &json!({"groups": ["Administrators", "Old"]}),
            false,
        )
        .unwrap();
        s.update_group("Old", &json!({"name": "New"}), false)
            .unwrap();
        assert!(s.users[0].groups.contains(&"New".to_string()));
    }

    #[test]
    fn the_last_admin_stays() {
        let mut s = site();
        assert_eq!(s.delete_user("ADMIN@x.io", false).unwrap_err().status, 400);
        assert_eq!(
            s.update_user("admin@x.io", &json!({"groups": []}), false)
                .unwrap_err()
                .status,
            400
        );
    }
}
