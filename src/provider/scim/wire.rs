//! SCIM 2.0 JSON (RFC 7643, RFC 7644), read leniently: a field of an
//! unexpected type reads as absent, optional fields may be missing, and a
//! number may come as a string (`"status": "409"`, `"totalResults": "3"`).

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::provider::lenient;

/// The `schemas` URN of an error answer.
pub(super) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The `schemas` URN of a PATCH request.
pub(super) const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub(super) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A non-negative number, written as a number or as its decimal text;
/// `None` for anything else.
pub(super) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Count;
    impl<'de> Visitor<'de> for Count {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any value")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        lenient::read_as!(None; bool, f64, unit, none, seq, map);
    }
    d.deserialize_any(Count)
}

/// A boolean, or `None` for anything else (`"true"` as text is read too:
/// some services write booleans as strings).
pub(super) fn maybe_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct MaybeFlag;
    impl<'de> Visitor<'de> for MaybeFlag {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(match v.trim().to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            })
        }
        lenient::read_as!(None; i64, u64, f64, unit, none, seq, map);
    }
    d.deserialize_any(MaybeFlag)
}

/// An object, or its default for anything else.
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(if v.is_object() {
        T::deserialize(v).unwrap_or_default()
    } else {
        T::default()
    })
}

/// `{"supported": bool}` and the other fields of a feature of
/// `/ServiceProviderConfig` (RFC 7643 §5).
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Feature {
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) supported: bool,
    /// `filter.maxResults`.
    #[serde(deserialize_with = "count")]
    pub(super) max_results: Option<u64>,
    /// `bulk.maxOperations`.
    #[serde(deserialize_with = "count")]
    pub(super) max_operations: Option<u64>,
}

/// `pagination` (RFC 9865): which methods the service offers.
#[derive(Deserialize, Default, Debug, Clone, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Pagination {
    #[serde(deserialize_with = "maybe_flag")]
    pub(super) cursor: Option<bool>,
    #[serde(deserialize_with = "maybe_flag")]
    pub(super) index: Option<bool>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) default_pagination_method: Option<String>,
    #[serde(deserialize_with = "count")]
    pub(super) default_page_size: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub(super) max_page_size: Option<u64>,
}

/// `/ServiceProviderConfig`, the parts roster acts on.
#[derive(Deserialize, Default, Debug, Clone, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ServiceProviderConfig {
    #[serde(deserialize_with = "object")]
    pub(super) patch: Feature,
    #[serde(deserialize_with = "object")]
    pub(super) filter: Feature,
    #[serde(deserialize_with = "object")]
    pub(super) etag: Feature,
    #[serde(deserialize_with = "object")]
    pub(super) bulk: Feature,
    #[serde(deserialize_with = "object")]
    pub(super) pagination: Pagination,
}

/// `meta` of a resource: its version is its ETag.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub(super) struct Meta {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) version: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Name {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) given_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) family_name: Option<String>,
}

/// One of a user's `emails`.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub(super) struct Email {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) value: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) primary: bool,
}

/// A `User` resource (`user_name` is SCIM's `userName`).
#[allow(clippy::struct_field_names)]
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct User {
    #[serde(deserialize_with = "lenient::id")]
    pub(super) id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) user_name: Option<String>,
    #[serde(deserialize_with = "object")]
    pub(super) name: Name,
    #[serde(deserialize_with = "lenient::seq")]
    pub(super) emails: Vec<Email>,
    /// Absent means active (RFC 7643 gives no default; services that do
    /// not deactivate leave it out).
    #[serde(deserialize_with = "maybe_flag")]
    pub(super) active: Option<bool>,
    #[serde(deserialize_with = "object")]
    pub(super) meta: Meta,
}

impl User {
    /// The primary email, else the first with a value.
    pub(super) fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary && e.value.is_some())
            .or_else(|| self.emails.iter().find(|e| e.value.is_some()))
            .and_then(|e| e.value.as_deref())
    }
}

/// One of a group's `members`.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub(super) struct Member {
    #[serde(deserialize_with = "lenient::id")]
    pub(super) value: Option<String>,
    /// `"User"` or `"Group"` (RFC 7643 §4.2), where the service says.
    #[serde(rename = "type", deserialize_with = "lenient::text")]
    pub(super) kind: Option<String>,
}

impl Member {
    /// Whether the service marks this member as a group.
    pub(super) fn is_group(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.trim().eq_ignore_ascii_case("group"))
    }
}

/// A group's `members` as the answer has them: `None` when it leaves them
/// out (no `members` key, `null`, or not a list), else the list, `[]`
/// included. RFC 7643 §2.5 makes an absent multi-valued attribute the
/// same as an empty one, so absent members are read again, not trusted.
fn listed_members<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Member>>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        v @ serde_json::Value::Array(_) => Ok(Some(lenient::seq(v).map_err(de::Error::custom)?)),
        _ => Ok(None),
    }
}

/// A `Group` resource.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Group {
    #[serde(deserialize_with = "lenient::id")]
    pub(super) id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) display_name: Option<String>,
    /// `None` when the answer left `members` out (see [`listed_members`]).
    #[serde(deserialize_with = "listed_members")]
    pub(super) members: Option<Vec<Member>>,
    #[serde(deserialize_with = "object")]
    pub(super) meta: Meta,
}

/// A `ListResponse` (RFC 7644 §3.4.2), with the cursor of RFC 9865.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", bound = "T: serde::de::DeserializeOwned")]
pub(super) struct ListResponse<T> {
    #[serde(default, deserialize_with = "count")]
    pub(super) total_results: Option<u64>,
    /// `Resources`; some services write it `resources`.
    #[serde(
        default = "Vec::new",
        alias = "resources",
        rename = "Resources",
        deserialize_with = "lenient::seq"
    )]
    pub(super) resources: Vec<T>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub(super) next_cursor: Option<String>,
}

/// An error answer (RFC 7644 §3.12).
#[derive(Deserialize, Default, Debug, Clone, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Error {
    #[serde(deserialize_with = "count")]
    pub(super) status: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) scim_type: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) detail: Option<String>,
    #[serde(deserialize_with = "lenient::seq")]
    pub(super) schemas: Vec<Option<String>>,
}

impl Error {
    /// The SCIM error in `body`, if the body is one: it names the error
    /// schema, or carries a `scimType` or a `detail`.
    pub(super) fn parse(body: &[u8]) -> Option<Error> {
        let e: Error = serde_json::from_slice(body).ok()?;
        let named = e.schemas.iter().flatten().any(|s| s == ERROR_SCHEMA);
        (named || e.scim_type.is_some() || e.detail.is_some()).then_some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spc(v: serde_json::Value) -> ServiceProviderConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn service_provider_config_missing_or_odd_fields_read_as_unsupported() {
        assert_eq!(spc(json!({})), ServiceProviderConfig::default());
        let c = spc(json!({
            "patch": {"supported": true},
            "filter": {"supported": true, "maxResults": "200"},
            "etag": "yes",
            "bulk": {"supported": false, "maxOperations": 10},
            "pagination": {"cursor": "true", "index": false, "defaultPaginationMethod": "cursor"},
            "unknown": [1, 2]
        }));
        assert!(c.patch.supported);
        assert_eq!(c.filter.max_results, Some(200));
        assert!(!c.etag.supported);
        assert_eq!(c.bulk.max_operations, Some(10));
        assert_eq!(c.pagination.cursor, Some(true));
        assert_eq!(c.pagination.index, Some(false));
        assert_eq!(
            c.pagination.default_pagination_method.as_deref(),
            Some("cursor")
        );
    }

    #[test]
    fn errors_with_status_as_text_or_number() {
        let e = Error::parse(
            br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                 "status": "409", "scimType": "uniqueness", "detail": "taken"}"#,
        )
        .unwrap();
        assert_eq!(e.status, Some(409));
        assert_eq!(e.scim_type.as_deref(), Some("uniqueness"));
        assert_eq!(e.detail.as_deref(), Some("taken"));
        let n = Error::parse(br#"{"status": 412, "detail": "changed"}"#).unwrap();
        assert_eq!(n.status, Some(412));
        assert_eq!(n.scim_type, None);
        // Not a SCIM error: a plain message, HTML, nothing.
        assert_eq!(Error::parse(br#"{"error": "nope"}"#), None);
        assert_eq!(Error::parse(b"<html></html>"), None);
        assert_eq!(Error::parse(b""), None);
    }

    #[test]
    fn users_with_missing_optional_fields() {
        let list: ListResponse<User> = serde_json::from_value(json!({
            "totalResults": "2", "itemsPerPage": 2, "startIndex": 1,
            "Resources": [
                {"id": "1", "userName": "Ada@X.io",
                 "name": {"givenName": "Ada"},
                 "emails": [{"value": "other@x.io"}, {"value": "ada@x.io", "primary": true}],
                 "active": false, "meta": {"version": "W/\"3\""}},
                {"id": 2, "userName": "bob@x.io", "name": "Bob", "emails": "x", "meta": null}
            ]
        }))
        .unwrap();
        assert_eq!(list.total_results, Some(2));
        let [ada, bob] = &list.resources[..] else {
            panic!("two users")
        };
        assert_eq!(ada.primary_email(), Some("ada@x.io"));
        assert_eq!(ada.active, Some(false));
        assert_eq!(ada.name.family_name, None);
        assert_eq!(ada.meta.version.as_deref(), Some("W/\"3\""));
        assert_eq!(bob.id.as_deref(), Some("2"));
        assert_eq!(bob.name.given_name, None);
        assert_eq!(bob.primary_email(), None);
        assert_eq!(bob.active, None);
    }

    #[test]
    fn list_responses_without_resources_or_counts() {
        let empty: ListResponse<Group> =
            serde_json::from_value(json!({"totalResults": 0})).unwrap();
        assert!(empty.resources.is_empty());
        let lower: ListResponse<Group> = serde_json::from_value(json!({
            "resources": [{"displayName": "A", "members": [{"value": "u1"}, {"display": "x"}]}],
            "nextCursor": "c2"
        }))
        .unwrap();
        let members = lower.resources[0].members.as_ref().unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].value, None);
        assert_eq!(lower.next_cursor.as_deref(), Some("c2"));
    }

    /// A group without a `members` key (or with `null`, or not a list)
    /// left them out; `[]` says it has none.
    #[test]
    fn members_left_out_are_told_from_no_members() {
        let groups: ListResponse<Group> = serde_json::from_value(json!({"Resources": [
            {"id": "1", "displayName": "Left out"},
            {"id": "2", "displayName": "Null", "members": null},
            {"id": "3", "displayName": "Odd", "members": "u1"},
            {"id": "4", "displayName": "None", "members": []},
            {"id": "5", "displayName": "Nested", "members": [{"value": "1", "type": "Group"}, {"value": "u1"}]}
        ]}))
        .unwrap();
        let members: Vec<Option<usize>> = groups
            .resources
            .iter()
            .map(|g| g.members.as_ref().map(Vec::len))
            .collect();
        assert_eq!(members, [None, None, None, Some(0), Some(2)]);
        let nested = groups.resources[4].members.as_ref().unwrap();
        assert!(nested[0].is_group() && !nested[1].is_group());
    }
}
