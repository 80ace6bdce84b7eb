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

use serde::Serialize;

pub use diff::{PlanError, plan, plan_site, plan_sites};
pub use fingerprint::{DesiredFingerprint, desired_fingerprint, fingerprint};
pub use guards::{GuardKind, GuardTrip, UnneededAllowance};
pub use privileged::{AdminPower, Privileged, PrivilegedHow};
pub use saved::{
    FORMAT_VERSION, Mismatch, SavedChange, SavedPlan, SavedPlanError, SavedSite, compare,
};

use crate::model::{
    Action, AttrTarget, AttrValueChange, Change, Diff, KeptValue, Membership, ObjectKind,
};
use crate::model::{Locked, ProviderKind};

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
