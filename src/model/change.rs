//! A change to one object on one site, as a plan holds it: plain data,
//! shared by the plan that makes it, the renderers that show it and the
//! providers that carry it out.

use serde::{Deserialize, Serialize};

use super::access::AccessChange;
use super::{Access, Handover, UserKind, Visibility};

/// A field's value before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Diff_of_{T}")]
pub struct Diff<T> {
    pub before: T,
    pub after: T,
}

/// A change of group membership: what is added and removed, and the whole
/// set afterwards (Periscope replaces the set in one call).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Membership {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub after: Vec<String>,
}

/// One change to one object on one site. `Hash` agrees with `Eq`: a saved
/// plan is compared with a fresh one through hash sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    CreateGroup {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access: Option<Access>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visibility: Option<Visibility>,
    },
    UpdateGroup {
        /// The group's name as the site has it now.
        live_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<Diff<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access: Option<Diff<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<Diff<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visibility: Option<Diff<String>>,
        /// Sigma team admins added and removed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        admins: Option<Membership>,
    },
    CreateUser {
        email: String,
        first_name: String,
        last_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member_type: Option<String>,
        groups: Vec<String>,
        /// Sigma `userKind` (a guest, or internal).
        #[serde(default, skip_serializing_if = "UserKind::is_internal")]
        kind: UserKind,
        /// Sigma teams (of `groups`) the new member is an admin of.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        admin_of: Vec<String>,
    },
    UpdateUser {
        /// The email the user has once the change ran.
        email: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// An email change (from `previous_emails`): the live email before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renamed_from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_name: Option<Diff<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_name: Option<Diff<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member_type: Option<Diff<String>>,
        /// Sigma `userKind`, when the state declares one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<Diff<String>>,
        /// A deactivated user made active again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reactivate: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups: Option<Membership>,
    },
    /// Sigma: a reversible deactivation, with the user's documents handed over.
    DeactivateUser {
        email: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        handover: Handover,
        /// Declared with `active = false` (rather than not declared).
        declared_inactive: bool,
        /// Sigma `archive_scheduled_exports`: schedules archived, not handed over.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        archive_schedules: bool,
        /// Sigma `revoke_tokens_on_deactivation`: the member's OAuth tokens
        /// are revoked too.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        revoke_tokens: bool,
        /// What the member owns, read for the plan (Sigma).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owns: Option<Owned>,
    },
    /// Periscope: a permanent delete.
    DeleteUser { email: String },
    DeleteGroup {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Sigma: a user attribute created.
    CreateAttribute {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    /// Sigma: a user attribute whose description or default changes. The API
    /// cannot edit one: it is deleted and created again, and every value it
    /// held (`kept`: of people, teams and tenants, declared or not) is set
    /// again with it; the values step then changes what the state changes.
    ReplaceAttribute {
        name: String,
        id: String,
        description: Diff<Option<String>>,
        default: Diff<Option<String>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<KeptValue>,
    },
    /// Sigma: an undeclared user attribute deleted, with the values of
    /// `people` people, `teams` teams and `tenants` tenants.
    DeleteAttribute {
        name: String,
        id: String,
        #[serde(default)]
        people: usize,
        #[serde(default)]
        teams: usize,
        #[serde(default, skip_serializing_if = "is_zero")]
        tenants: usize,
    },
    /// Sigma: the attribute values of one person or team set and removed.
    SetAttributes {
        target: AttrTarget,
        /// The person's email or the team's name.
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        values: Vec<AttrValueChange>,
    },
    /// Sigma: a custom account type created.
    CreateAccountType {
        name: String,
        description: String,
        permissions: Vec<String>,
    },
    /// Sigma: a custom account type whose description or permissions
    /// change. The API cannot edit one: it is deleted (its people held on
    /// `via` meanwhile), created again, and the people in `moved` moved back.
    ReplaceAccountType {
        name: String,
        id: String,
        description: Diff<String>,
        permissions: Membership,
        moved: Vec<String>,
        via: String,
        via_id: String,
    },
    /// Sigma: an undeclared custom account type deleted; its people go to
    /// `to` (name, ID).
    DeleteAccountType {
        name: String,
        id: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        moved: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<(String, String)>,
    },
    /// Sigma workspaces and grants (`op` is the access change's own).
    #[serde(untagged)]
    Access(AccessChange),
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A value a replaced attribute holds live (a person's, a team's or a
/// tenant's): set again once the attribute is created again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeptValue {
    pub target: AttrTarget,
    /// The person's email or the team's name (the ID when neither is known,
    /// and for a tenant).
    pub key: String,
    pub id: String,
    pub value: String,
}

/// Whose attribute values a [`Change::SetAttributes`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttrTarget {
    User,
    Team,
    /// A tenant organisation (Sigma): its values are only ever kept.
    Tenant,
}

/// One attribute value set, changed or removed (`after: None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttrValueChange {
    pub attribute: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// What a member about to be deactivated owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Owned {
    pub documents: usize,
    pub schedules: usize,
}

/// What a change does, for counting and for the symbol a reviewer sees.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// The kind of object a change is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Group,
    User,
    Workspace,
    Grant,
    Attribute,
    AttributeValues,
    AccountType,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Group => "group",
            ObjectKind::User => "user",
            ObjectKind::Workspace => "workspace",
            ObjectKind::Grant => "grant",
            ObjectKind::Attribute => "attribute",
            ObjectKind::AttributeValues => "attribute values",
            ObjectKind::AccountType => "account_type",
        }
    }
}

impl Change {
    pub fn action(&self) -> Action {
        match self {
            Change::CreateGroup { .. }
            | Change::CreateUser { .. }
            | Change::CreateAttribute { .. }
            | Change::CreateAccountType { .. } => Action::Create,
            Change::UpdateGroup { .. }
            | Change::UpdateUser { .. }
            | Change::ReplaceAttribute { .. }
            | Change::SetAttributes { .. }
            | Change::ReplaceAccountType { .. } => Action::Update,
            Change::DeleteGroup { .. }
            | Change::DeleteUser { .. }
            | Change::DeactivateUser { .. }
            | Change::DeleteAttribute { .. }
            | Change::DeleteAccountType { .. } => Action::Delete,
            Change::Access(a) => a.action(),
        }
    }

    pub fn kind(&self) -> ObjectKind {
        match self {
            Change::CreateGroup { .. }
            | Change::UpdateGroup { .. }
            | Change::DeleteGroup { .. } => ObjectKind::Group,
            Change::Access(a) => a.kind(),
            Change::CreateAttribute { .. }
            | Change::ReplaceAttribute { .. }
            | Change::DeleteAttribute { .. } => ObjectKind::Attribute,
            Change::SetAttributes { .. } => ObjectKind::AttributeValues,
            Change::CreateAccountType { .. }
            | Change::ReplaceAccountType { .. }
            | Change::DeleteAccountType { .. } => ObjectKind::AccountType,
            _ => ObjectKind::User,
        }
    }

    /// The object's name as the reviewer knows it (the new name on a rename).
    pub fn key(&self) -> &str {
        match self {
            Change::CreateGroup { name, .. }
            | Change::DeleteGroup { name, .. }
            | Change::CreateAttribute { name, .. }
            | Change::ReplaceAttribute { name, .. }
            | Change::DeleteAttribute { name, .. }
            | Change::CreateAccountType { name, .. }
            | Change::ReplaceAccountType { name, .. }
            | Change::DeleteAccountType { name, .. } => name,
            Change::UpdateGroup {
                live_name, name, ..
            } => name.as_ref().map_or(live_name, |n| &n.after),
            Change::CreateUser { email, .. }
            | Change::UpdateUser { email, .. }
            | Change::DeactivateUser { email, .. }
            | Change::DeleteUser { email } => email,
            Change::Access(a) => a.key(),
            Change::SetAttributes { key, .. } => key,
        }
    }

    /// The step of the apply this change belongs to; steps run in order.
    /// 1 groups created or updated, 2 users created or updated (with their
    /// memberships), 3 users deactivated or deleted, 4 groups deleted.
    /// Attributes and account types are created or replaced in 1 and
    /// deleted in 4 (people have moved off by then); attribute values are
    /// set in 5, once every person and team exists.
    pub fn step(&self) -> u8 {
        match self {
            Change::CreateGroup { .. }
            | Change::UpdateGroup { .. }
            | Change::CreateAttribute { .. }
            | Change::ReplaceAttribute { .. }
            | Change::CreateAccountType { .. }
            | Change::ReplaceAccountType { .. } => 1,
            Change::CreateUser { .. } | Change::UpdateUser { .. } => 2,
            Change::DeleteUser { .. } | Change::DeactivateUser { .. } => 3,
            Change::DeleteGroup { .. }
            | Change::DeleteAttribute { .. }
            | Change::DeleteAccountType { .. } => 4,
            Change::Access(a) => a.step(),
            Change::SetAttributes { .. } => 5,
        }
    }
}
