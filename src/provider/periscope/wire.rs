//! Periscope's JSON, read leniently: the reference marks the response shapes
//! as inferred, so a list may be a bare array or wrapped in an object, names
//! may be missing, and groups may be names or objects with a name.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde_json::Value;

use crate::model::{LiveGroup, LiveUser};
use crate::provider::lenient::{self, ListKeys, Text};

/// `[...]` or `{"users": [...]}` (also `data`/`items`, seen in other APIs
/// of the family).
pub(super) struct UserKeys;

impl ListKeys for UserKeys {
    const ITEMS: &'static [&'static str] = &["users", "data", "items"];
    const CURSOR: &'static [&'static str] = &[];
}

/// `[...]` or `{"groups": [...]}`, likewise.
pub(super) struct GroupKeys;

impl ListKeys for GroupKeys {
    const ITEMS: &'static [&'static str] = &["groups", "data", "items"];
    const CURSOR: &'static [&'static str] = &[];
}

#[cfg(test)]
pub(super) type Users = lenient::List<User, UserKeys>;
#[cfg(test)]
pub(super) type Groups = lenient::List<Group, GroupKeys>;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct User {
    #[serde(deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    email: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    first_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    last_name: Option<String>,
    #[serde(deserialize_with = "lenient::seq")]
    groups: Vec<Group>,
}

/// A group: its name, or an object with a name (and, in the group list, an
/// access level). Anything else has no name.
#[derive(Default)]
pub(super) struct Group {
    name: Option<String>,
    access: Option<String>,
}

impl<'de> Deserialize<'de> for Group {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct GroupVisitor;
        impl<'de> Visitor<'de> for GroupVisitor {
            type Value = Group;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a group name or object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Group, E> {
                Ok(Group {
                    name: Some(v.to_string()),
                    access: None,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Group, A::Error> {
                let mut group = Group::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" => group.name = map.next_value::<Text>()?.0,
                        "access" => group.access = map.next_value::<Text>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(group)
            }
            lenient::read_as!(Group::default(); bool, i64, u64, f64, unit, seq);
        }
        d.deserialize_any(GroupVisitor)
    }
}

/// An entry of a list that lacks the field roster knows it by.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} #{number} has no `{field}`")]
pub(crate) struct MissingField {
    /// `user` or `group`.
    pub kind: &'static str,
    /// The entry's place in the list, from 1.
    pub number: usize,
    pub field: &'static str,
}

pub(super) fn users(items: Vec<User>) -> Result<Vec<LiveUser>, MissingField> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            let email = u.email.ok_or(MissingField {
                kind: "user",
                number: i + 1,
                field: "email",
            })?;
            Ok(LiveUser {
                id: u.id,
                active: true,
                email: email.trim().to_string(),
                first_name: u.first_name.unwrap_or_default(),
                last_name: u.last_name.unwrap_or_default(),
                groups: u.groups.into_iter().filter_map(|g| g.name).collect(),
                ..LiveUser::default()
            })
        })
        .collect()
}

pub(super) fn groups(items: Vec<Group>) -> Result<Vec<LiveGroup>, MissingField> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let name = g.name.ok_or(MissingField {
                kind: "group",
                number: i + 1,
                field: "name",
            })?;
            Ok(LiveGroup {
                id: None,
                name,
                access: g.access.map(|a| a.trim().to_lowercase()),
                ..LiveGroup::default()
            })
        })
        .collect()
}

/// What a list answer says about pages beyond itself. The only cursor
/// known on this API family is the dashboards API's `next_page_start`
/// (reference §8.3); any other sign of more pages is one roster cannot
/// follow.
#[derive(Default, Debug)]
pub(super) struct PageSigns {
    /// `next_page_start` as sent (null or absent: none).
    pub next_page_start: Option<Value>,
    /// Other signs of more pages, as `key: value` for messages.
    pub other: Vec<String>,
    /// `total`, when a number.
    pub total: Option<u64>,
}

/// Keys that, holding anything but null, false or "", say more pages exist.
const OTHER_CURSORS: &[&str] = &[
    "next",
    "next_page",
    "nextPage",
    "cursor",
    "next_cursor",
    "nextCursor",
    "has_more",
    "hasMore",
];

impl<'de> Deserialize<'de> for PageSigns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SignsVisitor;
        impl<'de> Visitor<'de> for SignsVisitor {
            type Value = PageSigns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list answer")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<PageSigns, A::Error> {
                let mut signs = PageSigns::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "next_page_start" {
                        signs.next_page_start =
                            Some(map.next_value::<Value>()?).filter(|v| !v.is_null());
                    } else if key == "total" {
                        signs.total = map.next_value::<Value>()?.as_u64();
                    } else if OTHER_CURSORS.contains(&key.as_str()) {
                        let v: Value = map.next_value()?;
                        let empty = matches!(&v, Value::Null | Value::Bool(false))
                            || v.as_str().is_some_and(str::is_empty);
                        if !empty {
                            signs.other.push(format!("`{key}: {}`", short_json(&v)));
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(signs)
            }
            lenient::read_as!(PageSigns::default(); bool, i64, u64, f64, str, unit, seq);
        }
        d.deserialize_any(SignsVisitor)
    }
}

/// A JSON value in at most 40 characters, for a message.
fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        s.chars().take(40).collect::<String>() + "…"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn users(body: &serde_json::Value) -> Result<Vec<LiveUser>, String> {
        let list: Users = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
        super::users(list.items).map_err(|e| e.to_string())
    }

    fn groups(body: &serde_json::Value) -> Result<Vec<LiveGroup>, String> {
        let list: Groups = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
        super::groups(list.items).map_err(|e| e.to_string())
    }

    #[test]
    fn users_from_array_or_wrapped() {
        let bare = json!([{"email": "a@x.io", "first_name": "A", "id": 12,
                           "groups": ["X", {"name": "Y", "id": 3}, 7, {"nameless": true}]}]);
        let wrapped = json!({"users": bare.clone()});
        for body in [bare, wrapped] {
            let u = users(&body).unwrap();
            assert_eq!(u[0].email, "a@x.io");
            assert_eq!(u[0].last_name, "");
            assert_eq!(u[0].groups, vec!["X", "Y"]);
            assert_eq!(u[0].id.as_deref(), Some("12"));
        }
        assert!(users(&json!({"people": []})).is_err());
        assert_eq!(
            users(&json!([{"first_name": "no email"}])).unwrap_err(),
            "user #1 has no `email`"
        );
    }

    #[test]
    fn groups_lowercase_access() {
        let g =
            groups(&json!({"groups": [{"name": "A", "access": "View"}, {"name": "B"}]})).unwrap();
        assert_eq!(g[0].access.as_deref(), Some("view"));
        assert_eq!(g[1].access, None);
    }
}
