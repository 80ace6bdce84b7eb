//! Periscope's JSON, read leniently: the reference marks the response shapes
//! as inferred, so a list may be a bare array or wrapped in an object, names
//! may be missing, and groups may be names or objects with a name.

use serde_json::Value;

use crate::model::{LiveGroup, LiveUser};

/// The array in a list response: `[...]` or `{"<key>": [...]}` (also
/// `data`/`items`, seen in other APIs of the family).
fn list<'a>(body: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    match body {
        Value::Array(items) => Ok(items),
        Value::Object(map) => [key, "data", "items"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_array))
            .ok_or_else(|| format!("expected an array or an object with a `{key}` array")),
        _ => Err(format!(
            "expected an array or an object with a `{key}` array"
        )),
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn group_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => v.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

pub fn users(body: &Value) -> Result<Vec<LiveUser>, String> {
    list(body, "users")?
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let email = u
                .get("email")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("user #{} has no `email`", i + 1))?;
            Ok(LiveUser {
                id: u
                    .get("id")
                    .map(|id| id.to_string().trim_matches('"').to_string()),
                active: true,
                email: email.trim().to_string(),
                first_name: text(u, "first_name"),
                last_name: text(u, "last_name"),
                groups: u
                    .get("groups")
                    .and_then(Value::as_array)
                    .map(|gs| gs.iter().filter_map(group_name).collect())
                    .unwrap_or_default(),
                ..LiveUser::default()
            })
        })
        .collect()
}

pub fn groups(body: &Value) -> Result<Vec<LiveGroup>, String> {
    list(body, "groups")?
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name = group_name(g).ok_or_else(|| format!("group #{} has no `name`", i + 1))?;
            Ok(LiveGroup {
                id: None,
                name,
                access: g
                    .get("access")
                    .and_then(Value::as_str)
                    .map(|a| a.trim().to_lowercase()),
                ..LiveGroup::default()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_from_array_or_wrapped() {
        let bare = json!([{"email": "a@x.io", "first_name": "A", "groups": ["X", {"name": "Y"}]}]);
        let wrapped = json!({"users": bare.clone()});
        for body in [bare, wrapped] {
            let u = users(&body).unwrap();
            assert_eq!(u[0].email, "a@x.io");
            assert_eq!(u[0].last_name, "");
            assert_eq!(u[0].groups, vec!["X", "Y"]);
        }
        assert!(users(&json!({"people": []})).is_err());
        assert!(users(&json!([{"first_name": "no email"}])).is_err());
    }

    #[test]
    fn groups_lowercase_access() {
        let g =
            groups(&json!({"groups": [{"name": "A", "access": "View"}, {"name": "B"}]})).unwrap();
        assert_eq!(g[0].access.as_deref(), Some("view"));
        assert_eq!(g[1].access, None);
    }
}
