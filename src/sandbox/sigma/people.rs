//! What the emulated organisation knows about its people beyond their
//! profile (reference corrections of 2026-11 and §4.4–§4.8, §5.2): each
//! member's `userKind`, whether an invitation went out, scheduled exports,
//! team admins, and the files and schedules endpoints. Kept beside the
//! members so that data files written before these existed still load.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::store::{SigmaOrg, paginate};
use crate::sandbox::data::{Answer, ApiError};

/// The kinds of member the API knows (`userKind`).
pub const USER_KINDS: [&str; 3] = ["internal", "guest", "embed"];

fn internal() -> String {
    "internal".into()
}

fn is_internal(kind: &String) -> bool {
    kind == "internal"
}

/// A member's details beyond the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberDetails {
    #[serde(default = "internal", skip_serializing_if = "is_internal")]
    pub user_kind: String,
    /// Scheduled exports the member owns.
    #[serde(default)]
    pub schedules: u32,
    /// Set on create: whether an invitation email was sent (`sendInvite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_sent: Option<bool>,
    /// Documents of others the member can reach (shared with them): listed
    /// on their files with the owner's `ownerId`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared_documents: u32,
    /// Documents the member can reach whose `ownerId` is null (the OpenAPI
    /// allows it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ownerless_documents: u32,
    /// OAuth refresh tokens Sigma holds for the member (OIDC, warehouse
    /// connections).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub oauth_tokens: u32,
    /// How many times `POST /v2/members/{id}/revoke` was called for them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revocations: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Default for MemberDetails {
    fn default() -> Self {
        MemberDetails {
            user_kind: internal(),
            schedules: 0,
            invitation_sent: None,
            shared_documents: 0,
            ownerless_documents: 0,
            oauth_tokens: 0,
            revocations: 0,
        }
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(400, message)
}

/// A boolean field of a body, if present.
pub fn bool_field(body: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(format!("{key} must be a boolean"))),
    }
}

/// The `userKind` a create or update asks for (`isGuest` is the legacy
/// spelling of a guest), checked against the enum.
pub fn requested_kind(body: &Value) -> Result<Option<String>, ApiError> {
    match body.get("userKind") {
        None | Some(Value::Null) => {
            Ok(bool_field(body, "isGuest")?
                .map(|g| if g { "guest" } else { "internal" }.to_string()))
        }
        Some(Value::String(k)) if USER_KINDS.contains(&k.as_str()) => Ok(Some(k.clone())),
        Some(other) => Err(bad(format!(
            "userKind must be one of internal, guest, embed, not {other}"
        ))),
    }
}

impl SigmaOrg {
    /// A member's details (defaults for one never recorded).
    pub fn details(&self, member: &str) -> MemberDetails {
        self.member_details.get(member).cloned().unwrap_or_default()
    }

    pub fn details_mut(&mut self, member: &str) -> &mut MemberDetails {
        self.member_details.entry(member.to_string()).or_default()
    }

    pub fn user_kind(&self, member: &str) -> &str {
        self.member_details
            .get(member)
            .map_or("internal", |d| d.user_kind.as_str())
    }

    pub fn is_team_admin(&self, team: &str, member: &str) -> bool {
        self.team_admins
            .get(team)
            .is_some_and(|a| a.iter().any(|m| m == member))
    }

    /// Scheduled exports go with the documents, or are archived.
    pub fn hand_over_schedules(&mut self, from: &str, to: Option<&str>) {
        let schedules = std::mem::take(&mut self.details_mut(from).schedules);
        match to {
            Some(t) => self.details_mut(t).schedules += schedules,
            None => self.archived_schedules += schedules,
        }
    }

    /// `GET /v2/members/{id}/files`: every document the member can reach
    /// (Sigma's OpenAPI, `listAccessibleInodes`), as workbooks: their own
    /// (`ownerId` theirs), then those shared with them (the credentials
    /// owner's), then those with a null `ownerId`.
    pub fn member_files(
        &self,
        id: &str,
        limit: Option<&str>,
        page: Option<&str>,
    ) -> Result<Answer, ApiError> {
        let m = &self.members[self.member_position(id)?];
        let d = self.details(id);
        let owner = |n: u32| -> Option<&str> {
            if n < m.documents {
                Some(id)
            } else if n < m.documents + d.shared_documents {
                Some(&self.credentials_owner)
            } else {
                None
            }
        };
        let files: Vec<u32> = (0..m.documents + d.shared_documents + d.ownerless_documents).collect();
        paginate(&files, limit, page, |n| {
            json!({
                "id": format!("{id}-doc-{n}"),
                "urlId": format!("doc{n}"),
                "name": format!("Workbook {n}"),
                "type": "workbook",
                "parentId": format!("{id}-home"),
                "permission": "edit",
                "ownerId": owner(*n),
            })
        })
        .map(Answer::from)
    }

    /// `POST /v2/members/{id}/revoke` (Sigma's OpenAPI,
    /// `revokeMemberTokens`): the member's OAuth refresh tokens are revoked;
    /// answered `{memberId, results: {oauth: {tokensRevoked}}}`.
    pub fn revoke_member_tokens(&mut self, id: &str) -> Result<Value, ApiError> {
        self.member_position(id)?;
        let d = self.details_mut(id);
        let revoked = std::mem::take(&mut d.oauth_tokens);
        d.revocations += 1;
        Ok(json!({ "memberId": id, "results": { "oauth": { "tokensRevoked": revoked } } }))
    }

    /// `GET /v2/members/{id}/schedules`: the member's scheduled exports.
    pub fn member_schedules(
        &self,
        id: &str,
        limit: Option<&str>,
        page: Option<&str>,
    ) -> Result<Answer, ApiError> {
        self.member_position(id)?;
        let schedules: Vec<u32> = (0..self.details(id).schedules).collect();
        paginate(&schedules, limit, page, |n| {
            json!({
                "scheduledNotificationId": format!("{id}-schedule-{n}"),
                "workbookId": format!("{id}-doc-{n}"),
                "schedule": { "cronSpec": "0 9 * * 1", "timezone": "UTC" },
            })
        })
        .map(Answer::from)
    }

    fn member_position(&self, id: &str) -> Result<usize, ApiError> {
        self.members
            .iter()
            .position(|m| m.member_id == id)
            .ok_or_else(|| ApiError::new(404, format!("Member not found: {id}")))
    }
}
