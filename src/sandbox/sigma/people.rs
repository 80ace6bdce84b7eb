//! What the emulated organisation knows about its people beyond their
//! profile (reference corrections of 2026-11 and §4.4–§4.8, §5.2): each
//! member's `userKind`, whether an invitation went out, scheduled exports,
//! team admins; what the endpoints do with them is in [`super::members`].
//! Kept beside the members so that data files written before these existed
//! still load.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::answer::ApiError;

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
