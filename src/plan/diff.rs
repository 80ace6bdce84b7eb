//! The diff: desired and live state in, ordered changes out. Pure; no I/O.

use std::collections::{HashMap, HashSet};

use super::{
    Change, Diff, Kept, KeptReason, Membership, ObjectKind, Plan, PlanError, SitePlan, fingerprint,
};
use crate::model::{
    DesiredGroup, DesiredSite, DesiredState, DesiredUser, Handover, LiveGroup, LiveSite, LiveUser,
    Locked, Site, Unmanaged, email_key,
};
use crate::provider::Capabilities;
use crate::provider::capabilities::{Addressing, EmailRename, Removal as CanRemove};
use crate::provider::kinds::{KindsPlan, PlannedPeople};

/// Plans every site of `desired` against its live state (`live` in the same
/// order as `desired.sites`).
pub fn plan(desired: &DesiredState, live: &[LiveSite]) -> Result<Plan, Vec<PlanError>> {
    plan_sites(desired.sites.iter().zip(live))
}

/// Plans each desired site against its live state.
pub fn plan_sites<'a>(
    pairs: impl IntoIterator<Item = (&'a DesiredSite, &'a LiveSite)>,
) -> Result<Plan, Vec<PlanError>> {
    let mut sites = Vec::new();
    let mut errors = Vec::new();
    for (d, l) in pairs {
        match plan_site(d, l) {
            Ok(p) => sites.push(p),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(Plan {
            sites,
            warnings: Vec::new(),
        })
    } else {
        Err(errors)
    }
}

fn text_diff(before: &str, after: &str) -> Option<Diff<String>> {
    (before != after).then(|| Diff {
        before: before.to_string(),
        after: after.to_string(),
    })
}

/// Plans one site: groups, people, the organisation's rules, access and
/// attributes, each collecting its errors; a plan only when none has any.
pub fn plan_site(desired: &DesiredSite, live: &LiveSite) -> Result<SitePlan, Vec<PlanError>> {
    let site = &desired.site;
    let mut errors = Vec::new();
    let mut kept = Vec::new();

    let mut groups = plan_groups(desired, live, &mut errors, &mut kept);
    // Live users by email key: their position in `live.users`.
    let live_users = index_live(site, &live.users, |u| &u.email, email_key, &mut errors);
    let mut people = plan_people(desired, live, &live_users, &groups, &mut errors, &mut kept);
    check_sendable(
        site,
        &live_users,
        (&people.changes, &people.deactivations),
        &groups,
        &mut errors,
    );
    let notes = plan_org_rules(
        desired,
        live,
        &live_users,
        &mut people,
        &mut groups,
        &mut errors,
    );
    let mut own = site
        .provider
        .plan_kinds(desired, live, &groups.renamed, &mut errors);
    super::seats::check_names(desired, live, &mut errors);
    kept.append(&mut own.kept);
    if !errors.is_empty() {
        return Err(errors);
    }
    let changes = in_apply_order(own, groups, people);
    finish_site(desired, (live, &live_users), changes, kept, notes)
}

/// The people half of a site's plan.
struct People {
    /// Users created and updated.
    changes: Vec<Change>,
    /// Users deactivated or deleted, in email order.
    deactivations: Vec<Change>,
    /// Email keys of the users this plan deactivates.
    deactivated: HashSet<String>,
    removal: Removal,
}

/// Users, matched by normalised email, then by previous emails: declared
/// ones first, then the live ones nobody declares.
fn plan_people(
    desired: &DesiredSite,
    live: &LiveSite,
    live_users: &HashMap<String, usize>,
    groups: &GroupPlan,
    errors: &mut Vec<PlanError>,
    kept: &mut Vec<Kept>,
) -> People {
    let site = &desired.site;
    let resolved = resolve_memberships(desired, live, groups);
    let mut users = UserPlan {
        site,
        live,
        live_users,
        resolved: &resolved,
        removal: Removal::of(site),
        changes: Vec::new(),
        deactivations: Vec::new(),
        deactivated: HashSet::new(),
        matched: vec![false; live.users.len()],
        errors: std::mem::take(errors),
        kept: std::mem::take(kept),
        declared_types: desired
            .attrs
            .account_types
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        places: &desired.attrs.places,
    };
    users.plan_declared(desired);
    users.plan_undeclared();
    let UserPlan {
        changes,
        mut deactivations,
        deactivated,
        removal,
        errors: found,
        kept: left,
        ..
    } = users;
    *errors = found;
    *kept = left;
    deactivations.sort_by_cached_key(|c| email_key(c.key()));
    People {
        changes,
        deactivations,
        deactivated,
        removal,
    }
}

/// The organisation's rules over the people planned: group admins,
/// members and teams SCIM owns, and who receives removed members'
/// documents. The notes the plan shows about them.
fn plan_org_rules(
    desired: &DesiredSite,
    live: &LiveSite,
    live_users: &HashMap<String, usize>,
    people: &mut People,
    groups: &mut GroupPlan,
    errors: &mut Vec<PlanError>,
) -> Vec<super::Note> {
    let site = &desired.site;
    let planned = PlannedPeople {
        changes: &mut people.changes,
        deactivations: &mut people.deactivations,
        group_deletes: &mut groups.deletes,
    };
    let notes = site.provider.org_rules(desired, live, live_users, planned);
    if let (Handover::NewOwner(owner), false) =
        (&people.removal.handover, people.deactivations.is_empty())
    {
        check_new_owner(site, live, live_users, owner, &people.deactivated, errors);
    }
    notes
}

/// Every change in the order apply runs them. User creates and updates
/// interleave in email order: one line per person.
fn in_apply_order(own: KindsPlan, groups: GroupPlan, people: People) -> Vec<Change> {
    own.first
        .into_iter()
        .chain(groups.creates)
        .chain(groups.updates)
        .chain(own.after_groups)
        .chain(people.changes)
        .chain(own.after_people)
        .chain(people.deactivations)
        .chain(groups.deletes)
        .chain(own.last)
        .collect()
}

/// The site's plan from its ordered changes: guarded, counted, and
/// fingerprinted against the live state it was made from. `live_users`
/// indexes `live.users` by email key.
fn finish_site(
    desired: &DesiredSite,
    (live, live_users): (&LiveSite, &HashMap<String, usize>),
    changes: Vec<Change>,
    mut kept: Vec<Kept>,
    notes: Vec<super::Note>,
) -> Result<SitePlan, Vec<PlanError>> {
    let site = &desired.site;
    let p = site.provider;
    kept.sort_by(|a, b| (a.kind, a.reason, &a.key).cmp(&(b.kind, b.reason, &b.key)));
    let guarded = super::guards::check(site, live, &changes)?;
    let privileges = super::privileged::check(site, live, live_users, &changes);
    let mut effective = super::effective::of_changed(desired, &changes);
    super::effective::with_admin_power(desired, &mut effective, &privileges.changes);
    let insight = super::insight::Insight {
        seats: super::seats::count(site, live, live_users, &changes),
        effective,
        ..Default::default()
    };
    Ok(SitePlan {
        site: site.name.clone(),
        provider: p,
        changes,
        kept,
        notes,
        guards: guarded.trips,
        unneeded_allowances: guarded.unneeded,
        privileged: privileges.changes,
        unneeded_privileged: privileges.unneeded,
        fingerprint: fingerprint(p, live),
        insight,
    })
}

/// The group key and name a membership has once step 1 has run, by the
/// spelling users (declared or live) give; None when membership is never
/// planned (all users' group). Worked out once per spelling, not once per
/// user.
fn resolve_memberships<'a>(
    desired: &'a DesiredSite,
    live: &'a LiveSite,
    groups: &GroupPlan,
) -> HashMap<&'a str, Option<(String, String)>> {
    let p = desired.site.provider;
    let mut resolved: HashMap<&str, Option<(String, String)>> = HashMap::new();
    for name in desired
        .users
        .iter()
        .flat_map(|u| &u.groups)
        .chain(live.users.iter().flat_map(|u| &u.groups))
    {
        resolved.entry(name).or_insert_with(|| {
            if p.implicit_group().is_some_and(|i| p.same_group(i, name)) {
                return None;
            }
            let after = groups
                .renamed
                .get(&p.group_key(name))
                .cloned()
                .unwrap_or_else(|| name.clone());
            Some((p.group_key(&after), after))
        });
    }
    resolved
}

/// How the plan removes a person from this site.
struct Removal {
    handover: Handover,
    archive_schedules: bool,
    revoke_tokens: bool,
}

impl Removal {
    fn of(site: &Site) -> Removal {
        Removal {
            handover: site.handover(),
            archive_schedules: site
                .sigma_org()
                .is_some_and(|o| o.archive_scheduled_exports),
            revoke_tokens: site
                .sigma_org()
                .is_some_and(|o| o.revoke_tokens_on_deactivation),
        }
    }

    /// The removal of `l`, as the provider removes people.
    fn remove(&self, site: &Site, l: &LiveUser) -> Change {
        let delete = match site.capabilities().removal {
            CanRemove::Delete => true,
            CanRemove::Deactivate => false,
            CanRemove::DeactivateOrDelete => site.unmanaged_users == Unmanaged::Delete,
        };
        if delete {
            Change::DeleteUser {
                email: l.email.clone(),
            }
        } else {
            self.deactivate(l, false)
        }
    }

    /// A deactivation of `l`.
    fn deactivate(&self, l: &LiveUser, declared_inactive: bool) -> Change {
        Change::DeactivateUser {
            email: l.email.clone(),
            id: l.id.clone(),
            handover: self.handover.clone(),
            declared_inactive,
            archive_schedules: self.archive_schedules,
            revoke_tokens: self.revoke_tokens,
            owns: None,
        }
    }
}

/// The users half of one site's plan, built person by person.
struct UserPlan<'a> {
    site: &'a Site,
    live: &'a LiveSite,
    live_users: &'a HashMap<String, usize>,
    resolved: &'a HashMap<&'a str, Option<(String, String)>>,
    removal: Removal,
    /// Users created and updated.
    changes: Vec<Change>,
    /// Users deactivated or deleted.
    deactivations: Vec<Change>,
    /// Email keys of the users this plan deactivates.
    deactivated: HashSet<String>,
    /// Which live users a declared one matched.
    matched: Vec<bool>,
    errors: Vec<PlanError>,
    kept: Vec<Kept>,
    /// Custom account types the state declares (they may not exist yet).
    declared_types: Vec<String>,
    /// Where each person's `member_type` is written.
    places: &'a crate::attrs::Places,
}

impl UserPlan<'_> {
    fn memberships(&self, names: &[String]) -> Vec<(&str, &str)> {
        membership_set(names, self.resolved)
    }

    /// Every declared user, in email order.
    fn plan_declared(&mut self, desired: &DesiredSite) {
        let mut desired_users: Vec<&DesiredUser> = desired.users.iter().collect();
        desired_users.sort_by_cached_key(|u| email_key(&u.email));
        for u in desired_users {
            self.plan_user(u);
        }
    }

    /// One declared user: created, left alone, deactivated or updated.
    fn plan_user(&mut self, u: &DesiredUser) {
        let (site, live) = (self.site, self.live);
        let matched = match match_user(site, live, self.live_users, u) {
            Err(e) => return self.errors.push(e),
            Ok(Some(i)) => i,
            // A user declared inactive who does not exist needs nothing.
            Ok(None) if !u.active => return,
            Ok(None) => return self.create(u),
        };
        self.matched[matched] = true;
        let l = &live.users[matched];
        if let Some(lock) = l.left_alone() {
            // Found by a previous email: listed under the declared one, so
            // the person is accounted for, with the member it matched.
            let by_previous = email_key(&l.email) != email_key(&u.email);
            self.kept.push(Kept {
                kind: ObjectKind::User,
                key: if by_previous { &u.email } else { &l.email }.clone(),
                reason: lock,
                found_as: by_previous.then(|| l.email.clone()),
            });
            return;
        }
        if !u.active {
            if l.active {
                self.deactivated.insert(email_key(&l.email));
                self.deactivations.push(self.removal.deactivate(l, true));
            }
            return;
        }
        let change = self.update(u, l);
        if change != empty_update(&u.email, l) {
            self.changes.push(change);
        }
    }

    fn create(&mut self, u: &DesiredUser) {
        let member_type = member_type(
            (self.site, &self.declared_types, self.places),
            self.live,
            u,
            &mut self.errors,
        );
        let groups = self
            .memberships(&u.groups)
            .into_iter()
            .map(|(_, name)| name.to_string())
            .collect();
        self.changes.push(Change::CreateUser {
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            member_type,
            groups,
            kind: u.kind.unwrap_or_default(),
            admin_of: Vec::new(),
        });
    }

    /// What makes live user `l` as `u` declares them (perhaps nothing).
    fn update(&mut self, u: &DesiredUser, l: &LiveUser) -> Change {
        let membership = self.membership_change(u, l);
        let member_type = member_type(
            (self.site, &self.declared_types, self.places),
            self.live,
            u,
            &mut self.errors,
        )
        .and_then(|wanted| {
            let before = l.member_type.clone().unwrap_or_default();
            (!before.eq_ignore_ascii_case(&wanted)).then_some(Diff {
                before,
                after: wanted,
            })
        });
        let renamed_from = (email_key(&l.email) != email_key(&u.email)).then(|| l.email.clone());
        Change::UpdateUser {
            email: u.email.clone(),
            id: l.id.clone(),
            renamed_from,
            first_name: text_diff(&l.first_name, &u.first_name),
            last_name: text_diff(&l.last_name, &u.last_name),
            member_type,
            kind: u
                .kind
                .filter(|k| *k != l.kind && self.site.capabilities().people.kinds)
                .map(|k| Diff {
                    before: l.kind.as_str().to_string(),
                    after: k.as_str().to_string(),
                }),
            reactivate: !l.active,
            groups: membership,
        }
    }

    /// The groups `u` joins and leaves, as live user `l`; None when none.
    fn membership_change(&self, u: &DesiredUser, l: &LiveUser) -> Option<Membership> {
        let wanted = self.memberships(&u.groups);
        let has = self.memberships(&l.groups);
        let missing_from = |set: &[(&str, &str)], other: &[(&str, &str)]| -> Vec<String> {
            set.iter()
                .filter(|(k, _)| other.binary_search_by(|(o, _)| o.cmp(k)).is_err())
                .map(|(_, name)| name.to_string())
                .collect()
        };
        let added = missing_from(&wanted, &has);
        let removed = missing_from(&has, &wanted);
        (!added.is_empty() || !removed.is_empty()).then(|| Membership {
            added,
            removed,
            after: wanted.iter().map(|(_, name)| name.to_string()).collect(),
        })
    }

    /// Live users nobody declared, in email order: kept, or removed.
    fn plan_undeclared(&mut self) {
        let live = self.live;
        let mut unmanaged: Vec<&LiveUser> = live
            .users
            .iter()
            .zip(&self.matched)
            .filter(|(_, matched)| !**matched)
            .map(|(u, _)| u)
            .collect();
        unmanaged.sort_by_cached_key(|u| email_key(&u.email));
        for u in unmanaged {
            match self.fate(u) {
                // Already deactivated: nothing to do, nothing worth listing.
                Fate::Untouched => {}
                Fate::Kept(reason) => self.kept.push(Kept {
                    kind: ObjectKind::User,
                    key: u.email.clone(),
                    reason,
                    found_as: None,
                }),
                Fate::Removed => {
                    let change = self.removal.remove(self.site, u);
                    if matches!(change, Change::DeactivateUser { .. }) {
                        self.deactivated.insert(email_key(&u.email));
                    }
                    self.deactivations.push(change);
                }
            }
        }
    }

    /// What becomes of an undeclared live user.
    fn fate(&self, u: &LiveUser) -> Fate {
        let site = self.site;
        if let Some(lock) = u.left_alone() {
            Fate::Kept(lock)
        } else if site
            .invited_by()
            .is_some_and(|i| email_key(i) == email_key(&u.email))
        {
            Fate::Kept(KeptReason::InvitedBy)
        } else if !u.active && site.unmanaged_users != Unmanaged::Delete {
            Fate::Untouched
        } else if let Some(rule) = site.provider.undeclared_rule(site, u) {
            rule.kept().map_or(Fate::Removed, Fate::Kept)
        } else if site.unmanaged_users == Unmanaged::Keep {
            Fate::Kept(KeptReason::Unmanaged)
        } else {
            Fate::Removed
        }
    }
}

/// What becomes of an undeclared live user.
enum Fate {
    /// Left alone, for this reason.
    Kept(KeptReason),
    /// Deactivated or deleted.
    Removed,
    /// Nothing to do: already deactivated.
    Untouched,
}

/// `new_owner` must be a member who can receive documents.
fn check_new_owner(
    site: &Site,
    live: &LiveSite,
    live_users: &HashMap<String, usize>,
    owner: &str,
    deactivated: &HashSet<String>,
    errors: &mut Vec<PlanError>,
) {
    let live_owner = live_users.get(&email_key(owner)).map(|i| &live.users[*i]);
    let why = match live_owner {
        None => Some(", and no member has that email".to_string()),
        Some(o) if o.locked == Some(Locked::ScimInactive) => Some(
            ", and that member is deactivated through SCIM (isInactive): the identity provider owns them".to_string(),
        ),
        Some(o) if o.locked.is_some() => {
            Some(", and that member is the platform's own account".to_string())
        }
        Some(o) if !o.active => Some(", and that member is deactivated".to_string()),
        Some(_) if deactivated.contains(&email_key(owner)) => {
            Some(", and this plan deactivates that member".to_string())
        }
        Some(_) => None,
    };
    if let Some(why) = why {
        errors.push(PlanError::NewOwnerUnavailable {
            site: site.name.clone(),
            owner: owner.to_string(),
            why,
        });
    }
}

/// A user's memberships as (group key, name after step 1), sorted by key,
/// one per key (the last spelling given wins).
fn membership_set<'a>(
    names: &[String],
    resolved: &'a HashMap<&str, Option<(String, String)>>,
) -> Vec<(&'a str, &'a str)> {
    let mut set: Vec<(&str, &str)> = names
        .iter()
        .filter_map(|n| resolved.get(n.as_str()).and_then(Option::as_ref))
        .map(|(key, name)| (key.as_str(), name.as_str()))
        .collect();
    // A stable sort keeps equal keys in the order given; keep the last.
    set.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(set.len());
    for m in set {
        match out.last_mut() {
            Some(last) if last.0 == m.0 => *last = m,
            _ => out.push(m),
        }
    }
    out
}

/// An update that changes nothing, to compare a computed one against.
fn empty_update(email: &str, l: &LiveUser) -> Change {
    Change::UpdateUser {
        email: email.to_string(),
        id: l.id.clone(),
        renamed_from: None,
        first_name: None,
        last_name: None,
        member_type: None,
        kind: None,
        reactivate: false,
        groups: None,
    }
}

/// The declared account type in the organisation's own spelling; an unknown
/// one is an error naming the valid types.
fn member_type(
    (site, declared_types, places): (&crate::model::Site, &[String], &crate::attrs::Places),
    live: &LiveSite,
    u: &DesiredUser,
    errors: &mut Vec<PlanError>,
) -> Option<String> {
    if !site.capabilities().has_account_types() {
        return None;
    }
    let given = u.member_type.as_ref()?;
    match live
        .account_types
        .iter()
        .chain(declared_types)
        .find(|t| t.eq_ignore_ascii_case(given))
    {
        Some(t) => Some(t.clone()),
        None => {
            errors.push(PlanError::UnknownMemberType {
                at: places.member_type(&u.email),
                site: site.name.clone(),
                email: u.email.clone(),
                given: given.clone(),
                valid: live.account_types.join(", "),
            });
            None
        }
    }
}

/// The group half of a site's plan.
struct GroupPlan {
    creates: Vec<Change>,
    updates: Vec<Change>,
    deletes: Vec<Change>,
    /// Live group key -> the name it has once step 1 has run.
    renamed: HashMap<String, String>,
}

fn plan_groups(
    desired: &DesiredSite,
    live: &LiveSite,
    errors: &mut Vec<PlanError>,
    kept: &mut Vec<Kept>,
) -> GroupPlan {
    let site = &desired.site;
    let p = site.provider;
    let live_groups: HashMap<String, &LiveGroup> =
        index_live(site, &live.groups, |g| &g.name, |n| p.group_key(n), errors)
            .into_iter()
            .map(|(k, i)| (k, &live.groups[i]))
            .collect();
    let mut out = GroupPlan {
        creates: Vec::new(),
        updates: Vec::new(),
        deletes: Vec::new(),
        renamed: HashMap::new(),
    };
    let mut used: HashSet<String> = HashSet::new();
    let mut desired_groups: Vec<&DesiredGroup> = desired.groups.iter().collect();
    desired_groups.sort_by_cached_key(|g| p.group_key(&g.name));
    for g in desired_groups {
        let matched = match match_group(site, &live_groups, g, errors) {
            GroupMatch::Live(live) => live,
            GroupMatch::None => {
                out.creates.push(create_group(site.capabilities(), g));
                continue;
            }
            GroupMatch::Conflict => continue,
        };
        let live_key = p.group_key(&matched.name);
        used.insert(live_key.clone());
        out.renamed.insert(live_key, g.name.clone());
        out.updates
            .extend(update_group(site.capabilities(), g, matched));
    }
    plan_unmanaged_groups(site, live, &used, &mut out, kept);
    keep_nested_groups(site, live, &out, kept);
    out
}

/// Groups that are members of other groups (nested): shown as kept, as
/// `"Sub-Team in Team"` (the outer group by the name it has once step 1
/// has run). The state declares memberships of people only, so roster
/// never adds or removes a group in a group; a nesting that goes with a
/// group this plan deletes is not listed (the delete is).
fn keep_nested_groups(site: &Site, live: &LiveSite, out: &GroupPlan, kept: &mut Vec<Kept>) {
    let p = site.provider;
    let deleted: HashSet<String> = out.deletes.iter().map(|c| p.group_key(c.key())).collect();
    for g in &live.groups {
        let key = p.group_key(&g.name);
        if deleted.contains(&key) {
            continue;
        }
        let outer = out.renamed.get(&key).unwrap_or(&g.name);
        for member in &g.member_groups {
            if deleted.contains(&p.group_key(member)) {
                continue;
            }
            kept.push(Kept {
                kind: ObjectKind::Group,
                key: format!("{member} in {outer}"),
                reason: KeptReason::NestedGroup,
                found_as: None,
            });
        }
    }
}

/// What live group a declared group is.
enum GroupMatch<'l> {
    /// Found by its name or a previous one.
    Live(&'l LiveGroup),
    /// None: the group is new.
    None,
    /// Its name and a previous one match two live groups (reported).
    Conflict,
}

/// The live group declared group `g` is: by its name, else by a previous
/// one.
fn match_group<'l>(
    site: &Site,
    live_groups: &HashMap<String, &'l LiveGroup>,
    g: &DesiredGroup,
    errors: &mut Vec<PlanError>,
) -> GroupMatch<'l> {
    let p = site.provider;
    let key = p.group_key(&g.name);
    let by_previous = g
        .previous_names
        .iter()
        .filter(|prev| p.group_key(prev) != key)
        .find_map(|prev| live_groups.get(&p.group_key(prev)).map(|l| (prev, *l)));
    match (live_groups.get(&key), by_previous) {
        (Some(current), Some((prev, old))) => {
            errors.push(PlanError::GroupRenameConflict {
                site: site.name.clone(),
                name: g.name.clone(),
                previous: prev.clone(),
                live_current: current.name.clone(),
                live_previous: old.name.clone(),
            });
            GroupMatch::Conflict
        }
        (Some(l), None) => GroupMatch::Live(l),
        (None, Some((_, l))) => GroupMatch::Live(l),
        (None, None) => GroupMatch::None,
    }
}

/// The creation of `g`, with the fields the provider's groups have.
fn create_group(caps: &Capabilities, g: &DesiredGroup) -> Change {
    let fields = caps.group_fields;
    Change::CreateGroup {
        name: g.name.clone(),
        access: g.access.filter(|_| fields.access),
        description: g.description.clone().filter(|_| fields.description),
        visibility: g.visibility.filter(|_| fields.visibility),
    }
}

/// What makes live group `matched` as `g` declares it (perhaps nothing).
fn update_group(caps: &Capabilities, g: &DesiredGroup, matched: &LiveGroup) -> Option<Change> {
    let fields = caps.group_fields;
    // Access levels and visibilities are case-insensitive on the APIs.
    let lower = |v: &Option<String>| v.as_deref().unwrap_or_default().to_lowercase();
    let access = g
        .access
        .filter(|_| fields.access)
        .and_then(|a| text_diff(&lower(&matched.access), a.as_str()));
    let description = g
        .description
        .as_ref()
        .filter(|_| fields.description)
        .and_then(|d| text_diff(matched.description.as_deref().unwrap_or_default(), d));
    let visibility = g
        .visibility
        .filter(|_| fields.visibility)
        .and_then(|v| text_diff(&lower(&matched.visibility), v.as_str()));
    let name = text_diff(&matched.name, &g.name);
    let changed =
        name.is_some() || access.is_some() || description.is_some() || visibility.is_some();
    changed.then(|| Change::UpdateGroup {
        live_name: matched.name.clone(),
        id: matched.id.clone(),
        name,
        access,
        description,
        visibility,
        admins: None,
    })
}

/// Live groups nobody declared (built-ins aside), in name order: deleted
/// or kept.
fn plan_unmanaged_groups(
    site: &Site,
    live: &LiveSite,
    used: &HashSet<String>,
    out: &mut GroupPlan,
    kept: &mut Vec<Kept>,
) {
    let p = site.provider;
    let mut unmanaged: Vec<&LiveGroup> = live
        .groups
        .iter()
        .filter(|g| !used.contains(&p.group_key(&g.name)) && !p.is_builtin_group(&g.name))
        .collect();
    unmanaged.sort_by_cached_key(|g| p.group_key(&g.name));
    for g in unmanaged {
        match site.unmanaged_groups {
            Unmanaged::Remove | Unmanaged::Delete => out.deletes.push(Change::DeleteGroup {
                name: g.name.clone(),
                id: g.id.clone(),
            }),
            Unmanaged::Keep => kept.push(Kept {
                kind: ObjectKind::Group,
                key: g.name.clone(),
                reason: KeptReason::Unmanaged,
                found_as: None,
            }),
        }
    }
}

/// Something live with a name roster matches by.
trait Named {
    /// The plural a reviewer knows these by on a site, and the matching rule.
    fn noun(caps: &Capabilities) -> (&'static str, &'static str);
}

impl Named for LiveUser {
    fn noun(caps: &Capabilities) -> (&'static str, &'static str) {
        (
            caps.nouns.users,
            "emails compare ignoring case, after Unicode NFC",
        )
    }
}

impl Named for LiveGroup {
    fn noun(caps: &Capabilities) -> (&'static str, &'static str) {
        (caps.nouns.groups, caps.nouns.group_rule)
    }
}

/// Live objects by matching key: their position in `items`. Two that the
/// rules make equal are an error naming both, never a guess (the first
/// stays in the index so the rest of the plan can still be checked).
fn index_live<T: Named>(
    site: &Site,
    items: &[T],
    name: impl Fn(&T) -> &String,
    key: impl Fn(&str) -> String,
    errors: &mut Vec<PlanError>,
) -> HashMap<String, usize> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(items.len());
    let mut clashes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = index.insert(key(name(item)), i) {
            index.insert(key(name(item)), first);
            let mut pair = [name(&items[first]).clone(), name(item).clone()];
            pair.sort();
            clashes.push(pair);
        }
    }
    // The same error whatever order the site lists them in.
    clashes.sort();
    let (noun, rule) = T::noun(site.capabilities());
    errors.extend(
        clashes
            .into_iter()
            .map(|[first, second]| PlanError::LiveDuplicate {
                site: site.name.clone(),
                noun,
                first,
                second,
                rule,
                product: site.provider.product_name(),
            }),
    );
    index
}

/// The live user a declared one is: found by email, else by a previous
/// email. A previous email whose account is already deactivated is not a
/// rename target when the current one exists: the new account is planned
/// as usual and the old one stays as it is.
fn match_user(
    site: &Site,
    live: &LiveSite,
    index: &HashMap<String, usize>,
    u: &DesiredUser,
) -> Result<Option<usize>, PlanError> {
    let in_use = |i: usize| live.users[i].active && live.users[i].locked.is_none();
    let current = index.get(&email_key(&u.email)).copied();
    let found: Vec<(&String, usize)> = u
        .previous_emails
        .iter()
        .filter_map(|prev| index.get(&email_key(prev)).map(|i| (prev, *i)))
        .filter(|(_, i)| Some(*i) != current)
        .collect();
    // Prefer an account in use over a deactivated one.
    let previous = found
        .iter()
        .find(|(_, i)| in_use(*i))
        .or(found.first())
        .copied();
    let error = |make: fn(String, String, String) -> PlanError, prev: &String| {
        Err(make(site.name.clone(), u.email.clone(), prev.clone()))
    };
    match (current, previous) {
        (Some(c), Some((_, old))) if !in_use(old) => Ok(Some(c)),
        (Some(c), Some((prev, _))) if !in_use(c) => error(
            |site, email, previous| PlanError::EmailRenameOntoDeactivated {
                site,
                email,
                previous,
            },
            prev,
        ),
        (Some(_), Some((prev, _))) => error(
            |site, email, previous| PlanError::EmailRenameConflict {
                site,
                email,
                previous,
            },
            prev,
        ),
        (None, Some((prev, _))) if site.capabilities().email_rename == EmailRename::Unsupported => {
            error(
                |site, email, previous| PlanError::EmailChangeUnsupported {
                    site,
                    email,
                    previous,
                },
                prev,
            )
        }
        (Some(i), None) | (None, Some((_, i))) => Ok(Some(i)),
        (None, None) => Ok(None),
    }
}

/// Changes the site's API could not carry out are errors, before anything
/// is sent: creates without the inviter, and (where requests name people
/// and groups by name) names a request cannot carry.
fn check_sendable(
    site: &Site,
    live_users: &HashMap<String, usize>,
    (user_changes, deactivations): (&[Change], &[Change]),
    groups: &GroupPlan,
    errors: &mut Vec<PlanError>,
) {
    check_inviter(site, live_users, user_changes, errors);
    if site.capabilities().addressing == Addressing::ByName {
        check_ascii_emails(site, user_changes.iter().chain(deactivations), errors);
        check_group_paths(site, groups.updates.iter().chain(&groups.deletes), errors);
    }
}

/// Periscope creates a user only in the name of `invited_by`, who must be a
/// user of the site already: without them every create would fail, after
/// the plan's other changes were made.
fn check_inviter(
    site: &Site,
    live_users: &HashMap<String, usize>,
    changes: &[Change],
    errors: &mut Vec<PlanError>,
) {
    let creates = changes
        .iter()
        .any(|c| matches!(c, Change::CreateUser { .. }));
    if let Some(inviter) = site.invited_by().filter(|_| creates)
        && !live_users.contains_key(&email_key(inviter))
    {
        errors.push(PlanError::InviterMissing {
            site: site.name.clone(),
            inviter: inviter.to_string(),
        });
    }
}

/// The longest group name roster puts in a Periscope URL path: servers
/// commonly refuse request lines over 8 KiB, and HTTP stacks URIs over 64.
const MAX_PATH_NAME: usize = 2000;

/// Periscope addresses a group to update or delete by its live name, in
/// the URL path: a name too long to send could be planned but never
/// changed, so no change is planned for one.
fn check_group_paths<'a>(
    site: &Site,
    changes: impl Iterator<Item = &'a Change>,
    errors: &mut Vec<PlanError>,
) {
    for c in changes {
        let name = match c {
            Change::UpdateGroup { live_name, .. } => live_name,
            Change::DeleteGroup { name, .. } => name,
            _ => continue,
        };
        if crate::provider::is_dot_segment(name) {
            errors.push(PlanError::GroupNameDotSegment {
                site: site.name.clone(),
                name: name.clone(),
            });
            continue;
        }
        let chars = name.chars().count();
        if chars > MAX_PATH_NAME {
            errors.push(PlanError::GroupNameTooLong {
                site: site.name.clone(),
                shown: format!("{}…", name.chars().take(40).collect::<String>()),
                chars,
            });
        }
    }
}

/// Whether an HTTP header can carry `value` as it is: printable ASCII and
/// spaces only (a control character, LF included, is refused by any HTTP
/// stack, so such a user could be planned but never changed).
fn header_safe(value: &str) -> bool {
    value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// Periscope names the user to update or delete in the ASCII-only
/// `HTTP-X-EMAIL` header: a user whose email it cannot carry could be
/// created but never changed or removed, so no change is planned for one.
fn check_ascii_emails<'a>(
    site: &Site,
    changes: impl Iterator<Item = &'a Change>,
    errors: &mut Vec<PlanError>,
) {
    for c in changes {
        let hint = match c {
            Change::CreateUser { .. } => {
                "Declare the address the person signs in with in ASCII, or limit the user's sites"
            }
            Change::UpdateUser { .. } => {
                "Change them in Periscope's UI, or declare them exactly as they are live"
            }
            Change::DeleteUser { .. } => {
                "Remove them in Periscope's UI, or set unmanaged_users = \"keep\" for the site"
            }
            _ => continue,
        };
        if !header_safe(c.key()) {
            errors.push(PlanError::EmailNotAscii {
                site: site.name.clone(),
                email: c.key().to_string(),
                hint,
            });
        }
    }
}
