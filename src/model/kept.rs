//! What a plan leaves alone and why: live objects kept although not
//! declared, and differences listed rather than changed. Plain data,
//! shared by the plan of people and groups and by the plans of
//! providers' own kinds.

use serde::Serialize;

use super::{Change, LiveUser, Locked, ObjectKind, UserKind};

/// Why a live object that the state does not declare is left alone.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum KeptReason {
    /// The site says `unmanaged_users = "keep"` / `unmanaged_groups = "keep"`.
    Unmanaged,
    /// The user is the site's `invited_by`, who roster never removes.
    InvitedBy,
    /// SCIM owns the user, or it is the platform's own account.
    Locked(Locked),
    /// A Sigma guest, and the site says `unmanaged_guests = "keep"`.
    Guest,
    /// A Sigma embed user: roster never manages them.
    Embed,
    /// A group that is a member of another group (a nested group): the
    /// state declares memberships of people only, so it is never removed.
    NestedGroup,
}

impl KeptReason {
    pub fn describe(self, kind: ObjectKind) -> String {
        match self {
            KeptReason::Unmanaged => {
                format!("not declared, unmanaged_{}s = \"keep\"", kind.as_str())
            }
            KeptReason::InvitedBy => "the site's invited_by, never removed".into(),
            KeptReason::Locked(Locked::ScimInactive) => {
                "deactivated through SCIM (isInactive); the identity provider owns them".into()
            }
            KeptReason::Locked(Locked::System) => {
                "the platform's own account, never touched".into()
            }
            KeptReason::Guest => "a guest, not declared; unmanaged_guests = \"keep\"".into(),
            KeptReason::Embed => "an embed user; roster never manages embed users".into(),
            KeptReason::NestedGroup => {
                "a member of another group (nested); roster never adds or removes groups in groups"
                    .into()
            }
        }
    }
}

/// A live object the plan does not change although it is not declared, or
/// a declared person it leaves alone (SCIM owns the member they match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Kept {
    pub kind: ObjectKind,
    pub key: String,
    pub reason: KeptReason,
    /// A declared person left alone: the live member their
    /// `previous_emails` matched (`key` is the declared email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_as: Option<String>,
}

/// Why a difference the plan found is not planned as a change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoteReason {
    /// `provisioning = "scim"`: SCIM owns members and team memberships.
    ScimOwned,
    /// Sigma's API sets team admins only when it creates a member.
    TeamAdminsNotWritable,
}

impl NoteReason {
    pub fn describe(self) -> &'static str {
        match self {
            NoteReason::ScimOwned => {
                "owned by SCIM: not changed (change it in the identity provider)"
            }
            NoteReason::TeamAdminsNotWritable => {
                "team admins: not changed (Sigma's API sets isTeamAdmin only when it creates a member; change it in Sigma's UI)"
            }
        }
    }
}

/// A difference between the state and the site that roster does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Note {
    pub reason: NoteReason,
    /// The change roster would make, were it allowed to.
    pub change: Change,
}

impl LiveUser {
    /// Why this live member is left alone whatever the state says: SCIM or
    /// the platform owns them, or they are an embed user (whom roster never
    /// creates, changes or removes).
    pub fn left_alone(&self) -> Option<KeptReason> {
        match (self.locked, self.kind) {
            (Some(lock), _) => Some(KeptReason::Locked(lock)),
            (None, UserKind::Embed) => Some(KeptReason::Embed),
            _ => None,
        }
    }
}
