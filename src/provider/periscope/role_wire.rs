//! The JSON of Periscope's "User and Role Management API" (sites with
//! role-based access), read leniently: the reference marks the user
//! answers as unknown and the role answers as seen in one customer's
//! script, so a list may be a bare array or wrapped in an object, ids may
//! be numbers or strings, and a user's roles may be ids or role objects.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::wire::MissingField;
use crate::provider::lenient::{self, ListKeys};

/// `[...]` or `{"users": [...]}` (also `data`/`items`).
pub(super) struct UserKeys;

impl ListKeys for UserKeys {
    const ITEMS: &'static [&'static str] = &["users", "data", "items"];
    const CURSOR: &'static [&'static str] = &[];
}

/// `[...]` or `{"roles": [...]}` (also `data`/`items`).
pub(super) struct RoleKeys;

impl ListKeys for RoleKeys {
    const ITEMS: &'static [&'static str] = &["roles", "data", "items"];
    const CURSOR: &'static [&'static str] = &[];
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct User {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient::seq")]
    pub roles: Vec<RoleRef>,
}

/// A role a user holds: its id (a string or a number), or an object with
/// an id and perhaps a name. Anything else names no role.
#[derive(Default, Debug, PartialEq, Eq)]
pub(super) struct RoleRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for RoleRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = RoleRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a role id or object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RoleRef, E> {
                Ok(RoleRef {
                    id: Some(v.to_string()),
                    name: None,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RoleRef, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RoleRef, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RoleRef, A::Error> {
                let mut out = RoleRef::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "id" => out.id = map.next_value::<Id>()?.0,
                        "name" => out.name = map.next_value::<lenient::Text>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
            lenient::read_as!(RoleRef::default(); bool, f64, unit, seq);
        }
        d.deserialize_any(RefVisitor)
    }
}

/// [`lenient::id`] as a type, for map values read by hand.
struct Id(Option<String>);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::id(d).map(Id)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Role {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub description: Option<String>,
}

/// The answer to a create: the new object, with its id.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Created {
    #[serde(deserialize_with = "lenient::id")]
    pub id: Option<String>,
}

/// A role as roster knows it: its id, name and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LiveRole {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

/// A user as roster knows it, with the ids of the roles they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LiveRoleUser {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role_ids: Vec<String>,
}

fn missing(kind: &'static str, number: usize, field: &'static str) -> MissingField {
    MissingField {
        kind,
        number,
        field,
    }
}

pub(super) fn roles(items: Vec<Role>) -> Result<Vec<LiveRole>, MissingField> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(LiveRole {
                id: r.id.ok_or(missing("role", i + 1, "id"))?,
                name: r.name.ok_or(missing("role", i + 1, "name"))?,
                description: r.description,
            })
        })
        .collect()
}

/// Users addressed by id: one without an id or an email cannot be planned.
/// A role named but not given by id is looked up by name in `roles`.
pub(super) fn users(items: Vec<User>, roles: &[LiveRole]) -> Result<Vec<LiveRoleUser>, MissingField> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            let role_ids = u
                .roles
                .into_iter()
                .filter_map(|r| {
                    r.id.or_else(|| {
                        let name = r.name?;
                        roles.iter().find(|l| l.name == name).map(|l| l.id.clone())
                    })
                })
                .collect();
            Ok(LiveRoleUser {
                id: u.id.ok_or(missing("user", i + 1, "id"))?,
                email: u.email.ok_or(missing("user", i + 1, "email"))?.trim().to_string(),
                first_name: u.first_name.unwrap_or_default(),
                last_name: u.last_name.unwrap_or_default(),
                role_ids,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::lenient::List;
    use serde_json::{Value, json};

    fn read_roles(body: Value) -> Result<Vec<LiveRole>, String> {
        let list: List<Role, RoleKeys> = serde_json::from_value(body).map_err(|e| e.to_string())?;
        super::roles(list.items).map_err(|e| e.to_string())
    }

    fn read_users(body: Value, roles: &[LiveRole]) -> Result<Vec<LiveRoleUser>, String> {
        let list: List<User, UserKeys> = serde_json::from_value(body).map_err(|e| e.to_string())?;
        super::users(list.items, roles).map_err(|e| e.to_string())
    }

    #[test]
    fn roles_from_array_or_wrapped_with_any_id() {
        let bare = json!([{"id": 7, "name": "Admin", "description": "all"},
                          {"id": "r-2", "name": "Read", "permissions": [{"object_id": "d"}]}]);
        for body in [bare.clone(), json!({ "roles": bare })] {
            let r = read_roles(body).unwrap();
            assert_eq!(r[0].id, "7");
            assert_eq!(r[0].description.as_deref(), Some("all"));
            assert_eq!(r[1].id, "r-2");
            assert_eq!(r[1].description, None);
        }
        assert_eq!(
            read_roles(json!([{"id": 1}])).unwrap_err(),
            "role #1 has no `name`"
        );
    }

    #[test]
    fn users_hold_roles_as_ids_objects_or_names() {
        let roles = read_roles(json!([{"id": 3, "name": "Analyst"}])).unwrap();
        let body = json!({"users": [{"id": 12, "email": " a@x.io ", "first_name": "A",
            "roles": ["r-1", 2, {"id": 5, "name": "X"}, {"name": "Analyst"}, {"name": "Gone"}, true]}]});
        let u = read_users(body, &roles).unwrap();
        assert_eq!(u[0].id, "12");
        assert_eq!(u[0].email, "a@x.io");
        assert_eq!(u[0].last_name, "");
        assert_eq!(u[0].role_ids, vec!["r-1", "2", "5", "3"]);
        assert_eq!(
            read_users(json!([{"email": "a@x.io"}]), &roles).unwrap_err(),
            "user #1 has no `id`"
        );
    }
}
