//! The plan: what must change on each site for the live state to match the
//! desired state. Computed by a pure function (`diff::plan`), no I/O.

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
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use crate::model::{Kept, KeptReason, Note, NoteReason, PlanError};
pub use diff::{plan, plan_site, plan_sites};
pub use fingerprint::{DesiredFingerprint, desired_fingerprint, fingerprint};
pub use guards::{GuardKind, GuardTrip, UnneededAllowance};
pub use privileged::{AdminPower, Privileged, PrivilegedHow};
pub use saved::{
    FORMAT_VERSION, Mismatch, SavedChange, SavedPlan, SavedPlanError, SavedSite, compare,
};

use crate::model::ProviderKind;
use crate::model::{Action, AttrTarget, Change, Diff, Membership, ObjectKind};

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
