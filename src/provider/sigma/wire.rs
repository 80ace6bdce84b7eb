//! Sigma's JSON, read leniently (reference §3–§6): lists as a bare array or
//! `{entries, nextPage}`; `isArchived` and `isInactive` may be absent.

use serde_json::Value;

/// The scheduler account every organisation has; never touched.
pub const SCHEDULER_ROBOT: &str = "SigmaSchedulerRobot";

/// One page of a list: its items and the cursor of the next page.
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<String>,
}

/// A page from either list shape; `cursor_key` names the next-page field
/// (`nextPage`, or `nextPageToken` for account types).
pub fn page(body: Value, cursor_key: &str) -> Result<Page, String> {
    match body {
        Value::Array(items) => Ok(Page { items, next: None }),
        Value::Object(mut map) => {
            let items = match map.remove("entries") {
                Some(Value::Array(items)) => items,
                _ => return Err("expected an array or an object with an `entries` array".into()),
            };
            let next = match map.get(cursor_key) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            };
            Ok(Page { items, next })
        }
        _ => Err("expected an array or an object with an `entries` array".into()),
    }
}

pub fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A string ID under one of `keys` (the reference names `userId` and
/// `memberId` for the same thing).
pub fn id(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_list_shapes() {
        let p = page(json!([{"a": 1}]), "nextPage").unwrap();
        assert_eq!((p.items.len(), p.next), (1, None));
        let p = page(
            json!({"entries": [{}, {}], "nextPage": "abc", "total": 9}),
            "nextPage",
        )
        .unwrap();
        assert_eq!((p.items.len(), p.next.as_deref()), (2, Some("abc")));
        let p = page(json!({"entries": [], "nextPage": null}), "nextPage").unwrap();
        assert_eq!(p.next, None);
        let p = page(json!({"entries": []}), "nextPageToken").unwrap();
        assert_eq!(p.next, None);
        assert!(page(json!({"members": []}), "nextPage").is_err());
    }
}
