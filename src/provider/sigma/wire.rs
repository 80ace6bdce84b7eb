//! Sigma's JSON, read leniently (reference §3–§6) straight into the fields
//! roster uses: lists as a bare array or `{entries, nextPage}`; `isArchived`
//! and `isInactive` may be absent; the reference names both `userId` and
//! `memberId` for a member's ID.

use serde::Deserialize;
use serde_json::Value;

use crate::model::UserKind;
use crate::provider::lenient::{self, ListKeys};

/// The scheduler account every organisation has; never touched.
pub(super) const SCHEDULER_ROBOT: &str = "SigmaSchedulerRobot";

/// Where Sigma's lists keep their items and cursor (`nextPageToken` for
/// account types, `nextPage` elsewhere).
pub(super) struct Entries;

impl ListKeys for Entries {
    const ITEMS: &'static [&'static str] = &["entries"];
    const CURSOR: &'static [&'static str] = &["nextPage", "nextPageToken"];
}

/// One page of a list.
pub(super) type Page<T> = lenient::List<T, Entries>;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
#[expect(
    clippy::struct_field_names,
    reason = "the fields are the API's own names (camelCase)"
)]
pub(super) struct Member {
    #[serde(deserialize_with = "lenient::id")]
    pub member_id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub member_type: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub is_archived: bool,
    #[serde(deserialize_with = "lenient::flag")]
    pub is_inactive: bool,
    /// `internal`, `guest` or `embed`; absent means internal.
    #[serde(deserialize_with = "lenient::text")]
    pub user_kind: Option<String>,
    /// The legacy guest flag, read when `userKind` is absent.
    #[serde(deserialize_with = "lenient::flag")]
    pub is_guest: bool,
}

impl Member {
    /// The member's kind: `userKind`, else the legacy `isGuest`, else internal.
    pub(super) fn kind(&self) -> UserKind {
        match &self.user_kind {
            Some(k) => UserKind::parse(k),
            None if self.is_guest => UserKind::Guest,
            None => UserKind::Internal,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
#[expect(
    clippy::struct_field_names,
    reason = "the fields are the API's own names (camelCase)"
)]
pub(super) struct Team {
    #[serde(deserialize_with = "lenient::id")]
    pub team_id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub visibility: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub is_archived: bool,
}

/// A member of a team, or the answer of `whoami`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct MemberRef {
    #[serde(deserialize_with = "lenient::id")]
    pub user_id: Option<String>,
    #[serde(deserialize_with = "lenient::id")]
    pub member_id: Option<String>,
    /// On a team's member list: whether the member is the team's admin.
    #[serde(deserialize_with = "lenient::flag")]
    pub is_team_admin: bool,
}

/// A file a member can reach (`GET /v2/members/{id}/files`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct File {
    #[serde(deserialize_with = "lenient::text", rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient::id")]
    pub owner_id: Option<String>,
}

impl File {
    /// A document the member owns: not a folder or workspace, and with
    /// `ownerId` the member's. Sigma's OpenAPI (`listAccessibleInodes`):
    /// the list holds every document and folder the member can *reach*
    /// (shared with them, in a workspace they see), and `ownerId` (string
    /// or null, optional) says whose each is; only those they own go with
    /// the handover.
    pub(super) fn owned_document(&self, member: &str) -> bool {
        let container = matches!(self.kind.as_deref(), Some("folder" | "workspace"));
        !container && self.owner_id.as_deref() == Some(member)
    }
}

impl MemberRef {
    pub(super) fn id(self) -> Option<String> {
        self.user_id.or(self.member_id)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct AccountType {
    #[serde(deserialize_with = "lenient::text")]
    pub account_type_name: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub is_custom: bool,
}

/// A text field of an answer read as JSON (the answers to writes).
pub(super) fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_list_shapes() {
        let page = |json: &str| serde_json::from_str::<Page<Member>>(json);
        let p = page(r#"[{"memberId": "a"}]"#).unwrap();
        assert_eq!((p.items.len(), p.next), (1, None));
        let p = page(r#"{"entries": [{}, {}], "nextPage": "abc", "total": 9}"#).unwrap();
        assert_eq!((p.items.len(), p.next.as_deref()), (2, Some("abc")));
        let p = page(r#"{"entries": [], "nextPage": null}"#).unwrap();
        assert_eq!(p.next, None);
        let p = page(r#"{"entries": [], "nextPageToken": "t"}"#).unwrap();
        assert_eq!(p.next.as_deref(), Some("t"));
        assert!(page(r#"{"members": []}"#).is_err());
    }

    #[test]
    fn members_leniently() {
        let m: Member = serde_json::from_str(
            r#"{"memberId": "m1", "email": "a@x.io", "isArchived": true, "isInactive": "no",
                "memberType": null, "extra": {"nested": [1, 2]}}"#,
        )
        .unwrap();
        assert_eq!(m.member_id.as_deref(), Some("m1"));
        assert_eq!(m.email.as_deref(), Some("a@x.io"));
        assert!(m.is_archived && !m.is_inactive);
        assert_eq!((m.first_name, m.member_type), (None, None));
        let r: MemberRef = serde_json::from_str(r#"{"memberId": "m2"}"#).unwrap();
        assert_eq!(r.id().as_deref(), Some("m2"));
    }
}
