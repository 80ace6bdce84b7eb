//! The plan: what must change on each site for the live state to match the
//! desired state. Computed by a pure function (`diff::plan`), no I/O.

pub mod access;
mod account_types;
mod attributes;
pub mod cost;
mod diff;
pub mod effective;
pub mod expiry;
mod fingerprint;
mod guards;
pub mod insight;
mod privileged;
mod saved;
pub mod seats;
mod sigma_org;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use diff::{PlanError, plan, plan_site, plan_sites};
pub use fingerprint::{DesiredFingerprint, desired_fingerprint, fingerprint};
pub use guards::{GuardKind, GuardTrip, UnneededAllowance};
pub use privileged::{AdminPower, Privileged, PrivilegedHow};
pub use saved::{
    FORMAT_VERSION, Mismatch, SavedChange, SavedPlan, SavedPlanError, SavedSite, compare,
};

use crate::model::{Access, Handover, Locked, ProviderKind, UserKind, Visibility};

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
    Access(access::AccessChange),
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
            Change::CreateGroup { name, .. } | Change::DeleteGroup { name, .. } => name,
            Change::UpdateGroup {
                live_name, name, ..
            } => name.as_ref().map_or(live_name, |n| &n.after),
            Change::CreateUser { email, .. }
            | Change::UpdateUser { email, .. }
            | Change::DeactivateUser { email, .. }
            | Change::DeleteUser { email } => email,
            Change::Access(a) => a.key(),
            Change::CreateAttribute { name, .. }
            | Change::ReplaceAttribute { name, .. }
            | Change::DeleteAttribute { name, .. }
            | Change::CreateAccountType { name, .. }
            | Change::ReplaceAccountType { name, .. }
            | Change::DeleteAccountType { name, .. } => name,
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
            Change::CreateGroup { .. } | Change::UpdateGroup { .. } => 1,
            Change::CreateUser { .. } | Change::UpdateUser { .. } => 2,
            Change::DeleteUser { .. } | Change::DeactivateUser { .. } => 3,
            Change::DeleteGroup { .. } => 4,
            Change::Access(a) => a.step(),
            Change::CreateAttribute { .. }
            | Change::ReplaceAttribute { .. }
            | Change::CreateAccountType { .. }
            | Change::ReplaceAccountType { .. } => 1,
            Change::DeleteAttribute { .. } | Change::DeleteAccountType { .. } => 4,
            Change::SetAttributes { .. } => 5,
        }
    }
}

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

/// The plan for one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SitePlan {
    pub site: String,
    pub provider: ProviderKind,
    /// Changes in the order they must run.
    pub changes: Vec<Change>,
    pub kept: Vec<Kept>,
    /// Differences listed, not changed (SCIM-owned members, team admins).
    pub notes: Vec<Note>,
    /// Blast-radius guards the plan goes past; apply refuses such a plan.
    pub guards: Vec<GuardTrip>,
    /// `allow_*` acknowledgements in the state this plan does not need.
    pub unneeded_allowances: Vec<UnneededAllowance>,
    /// Changes that give someone admin power or an administrator's
    /// account; apply refuses those not acknowledged.
    pub privileged: Vec<Privileged>,
    /// People `allow_privileged` names whom this plan gives no admin power.
    pub unneeded_privileged: Vec<String>,
    /// Fingerprint of the live state the plan was computed from.
    pub fingerprint: String,
    /// Seats, expiring access, effective access (see `insight.rs`).
    pub insight: insight::Insight,
}

/// The plan for every site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub sites: Vec<SitePlan>,
    /// What the state it was made from holds that its author may not have
    /// meant (past dates, look-alike names, files not read): shown with
    /// the plan, in every format, for the reviewer. Empty from
    /// [`plan_sites`]; the command that loaded the state adds them.
    pub warnings: Vec<crate::model::Warning>,
}

/// How many changes of each action a plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Summary {
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            match c.action() {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s
    }

    pub fn total(&self) -> usize {
        self.create + self.update + self.delete
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        Summary::of(self.sites.iter().flat_map(|s| &s.changes))
    }

    /// Every privileged change `allow_privileged` does not acknowledge, with
    /// its site.
    pub fn unacknowledged(&self) -> Vec<(&SitePlan, &Privileged)> {
        self.sites
            .iter()
            .flat_map(|s| s.privileged.iter().map(move |p| (s, p)))
            .filter(|(_, p)| !p.acknowledged)
            .collect()
    }

    /// Every guard the plan goes past, on every site.
    pub fn guard_trips(&self) -> Vec<&GuardTrip> {
        self.sites.iter().flat_map(|s| &s.guards).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.iter().all(|s| s.changes.is_empty())
    }
}
