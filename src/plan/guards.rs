//! Blast-radius guards, protected accounts and the minimum of administrators:
//! checks of a site's plan against its live state, before anything is sent.
//!
//! A guard trips when a plan changes more of one kind than both its count and
//! its share of what is live allow: a count alone would not scale to large
//! sites, a share alone would not protect small ones. An acknowledgement
//! written in the state (`allow_removals = 40`) lets up to that many through.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use super::{Change, Diff, Membership, PlanError};
use crate::model::access::AccessChange;
use crate::model::{LiveSite, Site, email_key};
use crate::provider::Capabilities;
use crate::provider::capabilities::AdminRule;

/// What a guard counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    /// Users deleted (Periscope) or deactivated (Sigma).
    Removals,
    GroupDeletions,
    MembershipRemovals,
    /// Administrators removed, deactivated or demoted.
    AdminChanges,
    /// Sigma workspaces deleted (their content goes with them).
    WorkspaceDeletions,
    /// Grants on workspaces and connections revoked.
    GrantRemovals,
    /// Custom account types deleted (Sigma): every one needs acknowledging.
    AccountTypeDeletions,
}

impl GuardKind {
    /// The most a plan may change without acknowledgement: it trips only
    /// above both the count and the share of what is live.
    pub fn limits(self) -> (usize, f64) {
        match self {
            GuardKind::Removals | GuardKind::GrantRemovals => (5, 0.10),
            GuardKind::GroupDeletions => (3, 0.10),
            GuardKind::MembershipRemovals => (20, 0.10),
            GuardKind::AdminChanges => (1, 0.0),
            GuardKind::WorkspaceDeletions | GuardKind::AccountTypeDeletions => (0, 0.0),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            GuardKind::Removals => "users",
            GuardKind::GroupDeletions => "groups",
            GuardKind::MembershipRemovals => "group memberships",
            GuardKind::AdminChanges => "administrators",
            GuardKind::WorkspaceDeletions => "workspaces",
            GuardKind::GrantRemovals => "grants",
            GuardKind::AccountTypeDeletions => "custom account types",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            GuardKind::Removals | GuardKind::MembershipRemovals => "removes",
            GuardKind::GroupDeletions
            | GuardKind::WorkspaceDeletions
            | GuardKind::AccountTypeDeletions => "deletes",
            GuardKind::AdminChanges => "removes or demotes",
            GuardKind::GrantRemovals => "revokes",
        }
    }

    /// The state key that acknowledges it.
    pub fn allow_key(self) -> &'static str {
        match self {
            GuardKind::Removals => "allow_removals",
            GuardKind::GroupDeletions => "allow_group_deletions",
            GuardKind::MembershipRemovals => "allow_membership_removals",
            GuardKind::AdminChanges => "allow_admin_changes",
            GuardKind::WorkspaceDeletions => "allow_workspace_deletions",
            GuardKind::GrantRemovals => "allow_grant_removals",
            GuardKind::AccountTypeDeletions => "allow_account_type_deletions",
        }
    }
}

/// A guard the plan goes past.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GuardTrip {
    pub site: String,
    pub kind: GuardKind,
    /// How many the plan changes.
    pub count: usize,
    /// How many are live.
    pub live: usize,
    /// The acknowledgement in the state, if any (smaller than `count`).
    pub allowed: Option<usize>,
}

impl fmt::Display for GuardTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (max, share) = self.kind.limits();
        let pct = if self.live == 0 {
            100.0
        } else {
            100.0 * self.count as f64 / self.live as f64
        };
        write!(
            f,
            "site `{}`: the plan {} {} {} ({pct:.0}% of {} live); the guard stops more than {max} and {:.0}% at once",
            self.site,
            self.kind.verb(),
            self.count,
            self.kind.noun(),
            self.live,
            share * 100.0,
        )?;
        if let Some(a) = self.allowed {
            write!(
                f,
                ", and the state allows {a} ({} = {a})",
                self.kind.allow_key()
            )?;
        }
        write!(
            f,
            ". If this is intended, set {} = {} under [sites.{}] in the state, have it reviewed, and plan again",
            self.kind.allow_key(),
            self.count,
            self.site
        )
    }
}

/// An acknowledgement in the state that the plan does not need: left in
/// place after the change it was written for, it would let the next mass
/// change through unreviewed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct UnneededAllowance {
    pub site: String,
    pub kind: GuardKind,
    pub allowed: usize,
}

impl fmt::Display for UnneededAllowance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "site `{}`: {} = {} is set, and this plan does not need it. Once the change it was written for is applied, remove it, so that the guard stops the next large change until someone reviews it",
            self.site,
            self.kind.allow_key(),
            self.allowed
        )
    }
}

/// What the guards found in a site's plan.
#[derive(Debug, Default)]
pub(super) struct Guarded {
    pub trips: Vec<GuardTrip>,
    pub unneeded: Vec<UnneededAllowance>,
}

/// A user as the plan leaves them: all the guards need to know.
#[derive(Clone, Copy)]
struct After {
    /// In the administrators' group (Periscope) or of the admin account
    /// type (Sigma), active or not.
    admin_role: bool,
    active: bool,
}

impl After {
    fn new(
        caps: &Capabilities,
        groups: &[String],
        member_type: Option<&str>,
        active: bool,
    ) -> After {
        After {
            admin_role: caps.is_admin(groups, member_type),
            active,
        }
    }

    /// The admin role after an update that sets `groups` or `member_type`
    /// (whichever the provider's admin rule reads; else unchanged).
    fn updated(
        &mut self,
        caps: &Capabilities,
        groups: Option<&Membership>,
        member_type: Option<&Diff<String>>,
    ) {
        match (caps.admin_rule, groups, member_type) {
            (AdminRule::InGroup(_), Some(m), _) => {
                self.admin_role = caps.is_admin(&m.after, None);
            }
            (AdminRule::AccountType(_), _, Some(d)) => {
                self.admin_role = caps.is_admin(&[], Some(&d.after));
            }
            _ => {}
        }
    }

    fn is_admin(self) -> bool {
        self.active && self.admin_role
    }
}

/// The users of `live` once `changes` have run, by email key.
fn simulate(p: &Capabilities, live: &LiveSite, changes: &[Change]) -> HashMap<String, After> {
    let mut users: HashMap<String, After> = live
        .users
        .iter()
        .map(|u| {
            (
                email_key(&u.email),
                After::new(p, &u.groups, u.member_type.as_deref(), u.active),
            )
        })
        .collect();
    for c in changes {
        match c {
            Change::CreateUser {
                email,
                member_type,
                groups,
                ..
            } => {
                users.insert(
                    email_key(email),
                    After::new(p, groups, member_type.as_deref(), true),
                );
            }
            Change::UpdateUser {
                email,
                renamed_from,
                member_type,
                reactivate,
                groups,
                ..
            } => {
                let from = email_key(renamed_from.as_deref().unwrap_or(email));
                if let Some(mut u) = users.remove(&from) {
                    u.updated(p, groups.as_ref(), member_type.as_ref());
                    u.active |= *reactivate;
                    users.insert(email_key(email), u);
                }
            }
            Change::DeactivateUser { email, .. } => {
                if let Some(u) = users.get_mut(&email_key(email)) {
                    u.active = false;
                }
            }
            Change::DeleteUser { email } => {
                users.remove(&email_key(email));
            }
            _ => {}
        }
    }
    users
}

fn count(changes: &[Change], pick: impl Fn(&Change) -> usize) -> usize {
    changes.iter().map(pick).sum()
}

/// Checks a site's plan: protected accounts and the minimum of
/// administrators are errors; guards that trip, and acknowledgements the
/// plan does not need, are returned.
pub(super) fn check(
    site: &Site,
    live: &LiveSite,
    changes: &[Change],
) -> Result<Guarded, Vec<PlanError>> {
    let caps = site.capabilities();
    let before: HashMap<String, After> = simulate(caps, live, &[]);
    let after = simulate(caps, live, changes);
    let mut errors = protected_kept(site, live, &before, &after);
    errors.extend(enough_admins(site, &before, &after));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(blast_radius(measure(site, live, changes, &before, &after)))
}

/// Protected people, and whoever the API credentials belong to, are never
/// deleted, deactivated or demoted.
fn protected_kept(
    site: &Site,
    live: &LiveSite,
    before: &HashMap<String, After>,
    after: &HashMap<String, After>,
) -> Vec<PlanError> {
    let mut protected: Vec<(&str, &str)> = site
        .safety
        .protected
        .iter()
        .map(|e| (e.as_str(), "protected"))
        .collect();
    if let Some(identity) = &live.api_identity {
        protected.push((identity, "the owner of the API credentials"));
    }
    let mut errors = Vec::new();
    for (email, why) in protected {
        let key = email_key(email);
        let Some(was) = before.get(&key).filter(|u| u.active) else {
            continue;
        };
        let problem = match after.get(&key) {
            None => Some("deletes"),
            Some(u) if !u.active => Some("deactivates"),
            Some(u) if was.is_admin() && !u.is_admin() => Some("demotes"),
            Some(_) => None,
        };
        if let Some(what) = problem {
            errors.push(PlanError::Protected {
                site: site.name.clone(),
                email: email.to_string(),
                what: what.to_string(),
                why: why.to_string(),
            });
        }
    }
    errors
}

/// The plan leaves at least `min_admins` administrators, unless it adds
/// none and removes none of too few.
fn enough_admins(
    site: &Site,
    before: &HashMap<String, After>,
    after: &HashMap<String, After>,
) -> Option<PlanError> {
    let admins_before = before.values().filter(|u| u.is_admin()).count();
    let admins_after = after.values().filter(|u| u.is_admin()).count();
    (admins_after < site.safety.min_admins && admins_after < admins_before).then(|| {
        PlanError::TooFewAdmins {
            site: site.name.clone(),
            before: admins_before,
            after: admins_after,
            min: site.safety.min_admins,
        }
    })
}

/// One guard's measure: how many the plan changes, of how many live, and
/// the acknowledgement written in the state.
struct Measured<'a> {
    site: &'a Site,
    kind: GuardKind,
    count: usize,
    live: usize,
    allowed: Option<usize>,
}

/// How many active people, groups (not built in) and memberships (not in
/// the all-users group) the site has: what the guards measure against.
fn live_totals(site: &Site, live: &LiveSite) -> (usize, usize, usize) {
    let p = site.provider;
    let people = live
        .users
        .iter()
        .filter(|u| u.active && u.locked.is_none())
        .count();
    let groups = live
        .groups
        .iter()
        .filter(|g| !p.is_builtin_group(&g.name))
        .count();
    let implicit = |g: &str| p.implicit_group().is_some_and(|i| p.same_group(g, i));
    let memberships = live
        .users
        .iter()
        .map(|u| u.groups.iter().filter(|g| !implicit(g)).count())
        .sum();
    (people, groups, memberships)
}

/// What each guard counts in the plan and on the site.
fn measure<'a>(
    site: &'a Site,
    live: &LiveSite,
    changes: &[Change],
    before: &HashMap<String, After>,
    after: &HashMap<String, After>,
) -> [Measured<'a>; 7] {
    let (live_users, live_groups, live_memberships) = live_totals(site, live);
    let admins_before = before.values().filter(|u| u.is_admin()).count();
    let admin_changes = before
        .iter()
        .filter(|(k, u)| u.is_admin() && !after.get(*k).is_some_and(|a| a.is_admin()))
        .count();
    let allow = &site.safety.allow;
    let m = |kind, count, live, allowed| Measured {
        site,
        kind,
        count,
        live,
        allowed,
    };
    [
        m(
            GuardKind::Removals,
            count(changes, |c| {
                usize::from(matches!(
                    c,
                    Change::DeleteUser { .. } | Change::DeactivateUser { .. }
                ))
            }),
            live_users,
            allow.removals,
        ),
        m(
            GuardKind::GroupDeletions,
            count(changes, |c| {
                usize::from(matches!(c, Change::DeleteGroup { .. }))
            }),
            live_groups,
            allow.group_deletions,
        ),
        m(
            GuardKind::MembershipRemovals,
            count(changes, |c| match c {
                Change::UpdateUser {
                    groups: Some(m), ..
                } => m.removed.len(),
                _ => 0,
            }),
            live_memberships,
            allow.membership_removals,
        ),
        m(
            GuardKind::AdminChanges,
            admin_changes,
            admins_before,
            allow.admin_changes,
        ),
        m(
            GuardKind::WorkspaceDeletions,
            count_access(changes, Counted::WorkspaceDeletions),
            live.access.workspaces.as_ref().map_or(0, Vec::len),
            allow.workspace_deletions,
        ),
        m(
            GuardKind::GrantRemovals,
            count_access(changes, Counted::GrantRemovals),
            live_grants(live),
            allow.grant_removals,
        ),
        m(
            GuardKind::AccountTypeDeletions,
            count(changes, |c| {
                usize::from(matches!(c, Change::DeleteAccountType { .. }))
            }),
            live.attrs.account_types.iter().filter(|t| t.custom).count(),
            site.sigma_org()
                .and_then(|o| o.allow_account_type_deletions),
        ),
    ]
}

/// What the access guards count.
enum Counted {
    WorkspaceDeletions,
    GrantRemovals,
}

/// How many changes of `what` the plan holds.
fn count_access(changes: &[Change], what: Counted) -> usize {
    changes
        .iter()
        .filter(|c| match (c, &what) {
            (Change::Access(AccessChange::DeleteWorkspace { .. }), Counted::WorkspaceDeletions) => {
                true
            }
            (Change::Access(AccessChange::Grant(g)), Counted::GrantRemovals) => g.after.is_none(),
            _ => false,
        })
        .count()
}

/// How many grants are live on the site's workspaces and connections.
fn live_grants(live: &LiveSite) -> usize {
    [&live.access.workspaces, &live.access.connections]
        .into_iter()
        .flatten()
        .flatten()
        .map(|o| o.grants.len())
        .sum()
}

/// Guards that trip, and acknowledgements not needed.
fn blast_radius(measured: [Measured<'_>; 7]) -> Guarded {
    let mut guarded = Guarded::default();
    for Measured {
        site,
        kind,
        count,
        live,
        allowed,
    } in measured
    {
        let (max, share) = kind.limits();
        let over = count > max && (live == 0 || count as f64 / live as f64 > share);
        match allowed {
            Some(allowed) if !over => guarded.unneeded.push(UnneededAllowance {
                site: site.name.clone(),
                kind,
                allowed,
            }),
            _ if over && allowed.is_none_or(|a| a < count) => guarded.trips.push(GuardTrip {
                site: site.name.clone(),
                kind,
                count,
                live,
                allowed,
            }),
            _ => {}
        }
    }
    guarded
}
