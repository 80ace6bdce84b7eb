//! The plan of Sigma access: workspaces created, renamed (`previous_names`)
//! or, only when the site says so, deleted; grants on workspaces and
//! connections given, raised, lowered and revoked. Pure; no I/O.

use std::collections::{HashMap, HashSet};

use crate::model::access::{
    AccessChange, AccessKind, AccessPlanError, DesiredAccessObject, DesiredGrant, GrantChange,
    Grantee, LiveAccessObject, LiveGrant,
};
use crate::model::{
    Change, DesiredSite, Diff, Kept, KeptReason, LiveSite, ObjectKind, ProviderKind,
    SigmaOrgPolicy, Unmanaged, email_key,
};

/// Live objects by name key: their positions.
fn by_name(objects: &[LiveAccessObject]) -> HashMap<String, Vec<usize>> {
    let mut map: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        map.entry(ProviderKind::Sigma.group_key(&o.name))
            .or_default()
            .push(i);
    }
    map
}

/// What the access half of a site's plan found.
#[derive(Default)]
pub(super) struct AccessPlan {
    /// Workspaces created and renamed (step 1).
    pub early: Vec<Change>,
    /// Grants (step 3).
    pub grants: Vec<Change>,
    /// Workspaces deleted (step 4).
    pub deletes: Vec<Change>,
    pub kept: Vec<Kept>,
    pub errors: Vec<AccessPlanError>,
}

/// Plans a Sigma site's workspaces, connections and grants. `renamed`:
/// the new name of each team this plan renames, by its live name's key (a
/// grant to the team follows it).
pub(crate) fn plan_access(
    desired: &DesiredSite,
    live: &LiveSite,
    renamed: &HashMap<String, String>,
) -> AccessPlan {
    let mut out = AccessPlan::default();
    let Some(org) = desired.site.sigma_org() else {
        return out;
    };
    let site = &desired.site.name;
    let absent = absent_people(desired, live);
    let cx = Cx {
        site,
        org,
        renamed,
        absent: &absent,
    };
    if let Some(ws) = &live.access.workspaces {
        cx.workspaces(&desired.access.workspaces, ws, &mut out);
    }
    if let Some(cs) = &live.access.connections {
        cx.connections(&desired.access.connections, cs, &mut out);
    }
    out
}

/// The email keys of people declared `active = false` whom the site does
/// not have (under their email or an earlier one): nobody the plan creates.
fn absent_people(desired: &DesiredSite, live: &LiveSite) -> HashSet<String> {
    let on_site: HashSet<String> = live.users.iter().map(|u| email_key(&u.email)).collect();
    desired
        .users
        .iter()
        .filter(|u| !u.active)
        .filter(|u| {
            !std::iter::once(&u.email)
                .chain(&u.previous_emails)
                .any(|e| on_site.contains(&email_key(e)))
        })
        .map(|u| email_key(&u.email))
        .collect()
}

struct Cx<'a> {
    site: &'a str,
    org: &'a SigmaOrgPolicy,
    renamed: &'a HashMap<String, String>,
    absent: &'a HashSet<String>,
}

impl Cx<'_> {
    /// The one live object of this name, or an error if several.
    fn find<'l>(
        &self,
        kind: AccessKind,
        index: &HashMap<String, Vec<usize>>,
        live: &'l [LiveAccessObject],
        name: &str,
        out: &mut AccessPlan,
    ) -> Option<(usize, &'l LiveAccessObject)> {
        match index
            .get(&ProviderKind::Sigma.group_key(name))
            .map(Vec::as_slice)
        {
            Some([i]) => Some((*i, &live[*i])),
            Some(many) if many.len() > 1 => {
                out.errors.push(AccessPlanError::Ambiguous {
                    site: self.site.into(),
                    kind: kind.as_str(),
                    name: name.into(),
                    count: many.len(),
                });
                None
            }
            _ => None,
        }
    }

    fn workspaces(
        &self,
        desired: &[DesiredAccessObject],
        live: &[LiveAccessObject],
        out: &mut AccessPlan,
    ) {
        let index = by_name(live);
        let mut matched = vec![false; live.len()];
        let kind = AccessKind::Workspace;
        for d in desired {
            let errors_before = out.errors.len();
            let current = self.find(kind, &index, live, &d.name, out);
            let previous = d
                .previous_names
                .iter()
                .find_map(|p| self.find(kind, &index, live, p, out).map(|f| (p, f)));
            if out.errors.len() > errors_before {
                continue;
            }
            let found = match (current, previous) {
                (Some(_), Some((p, _))) => {
                    out.errors.push(AccessPlanError::RenameConflict {
                        site: self.site.into(),
                        name: d.name.clone(),
                        previous: p.clone(),
                    });
                    continue;
                }
                (Some(c), None) => Some(c),
                (None, Some((_, (i, l)))) => {
                    if let Some(id) = &l.id {
                        out.early
                            .push(Change::Access(AccessChange::RenameWorkspace {
                                id: id.clone(),
                                name: Diff {
                                    before: l.name.clone(),
                                    after: d.name.clone(),
                                },
                            }));
                    }
                    Some((i, l))
                }
                (None, None) => {
                    out.early
                        .push(Change::Access(AccessChange::CreateWorkspace {
                            name: d.name.clone(),
                        }));
                    None
                }
            };
            if let Some((i, _)) = found {
                matched[i] = true;
            }
            self.grants(kind, d, found.map(|f| f.1), out);
        }
        for (l, _) in live.iter().zip(&matched).filter(|(_, m)| !**m) {
            match (self.org.access.unmanaged_workspaces, &l.id) {
                (Unmanaged::Remove, Some(id)) => {
                    out.deletes
                        .push(Change::Access(AccessChange::DeleteWorkspace {
                            id: id.clone(),
                            name: l.name.clone(),
                        }));
                }
                _ => out.kept.push(kept(ObjectKind::Workspace, l.name.clone())),
            }
        }
    }

    fn connections(
        &self,
        desired: &[DesiredAccessObject],
        live: &[LiveAccessObject],
        out: &mut AccessPlan,
    ) {
        let index = by_name(live);
        for d in desired {
            let errors_before = out.errors.len();
            let found = self.find(AccessKind::Connection, &index, live, &d.name, out);
            match found {
                Some((_, l)) => self.grants(AccessKind::Connection, d, Some(l), out),
                None if out.errors.len() == errors_before => {
                    out.errors.push(AccessPlanError::ConnectionMissing {
                        site: self.site.into(),
                        name: d.name.clone(),
                    });
                }
                None => {}
            }
        }
    }

    /// The grants of one declared object against its live one (none: it is
    /// created by this plan).
    fn grants(
        &self,
        on: AccessKind,
        d: &DesiredAccessObject,
        live: Option<&LiveAccessObject>,
        out: &mut AccessPlan,
    ) {
        let live_grants: Vec<LiveGrant> = live.map_or_else(Vec::new, |l| {
            l.grants.iter().map(|g| self.after_renames(g)).collect()
        });
        let by_grantee: HashMap<(u8, String), &LiveGrant> =
            live_grants.iter().map(|g| (g.grantee.key(), g)).collect();
        let change = |grantee: &Grantee, l: Option<&LiveGrant>, after: Option<&String>| {
            Change::Access(AccessChange::Grant(GrantChange {
                on,
                object: d.name.clone(),
                object_id: live.and_then(|l| l.id.clone()),
                grantee: grantee.clone(),
                grant_id: l.and_then(|l| l.id.clone()),
                before: l.map(|l| l.permission.clone()),
                after: after.cloned(),
            }))
        };
        let mut declared = std::collections::HashSet::new();
        let mut wanted: Vec<&DesiredGrant> = d.grants.iter().collect();
        wanted.sort_by_cached_key(|g| g.grantee.key());
        for g in wanted {
            declared.insert(g.grantee.key());
            if let Grantee::Person(email) = &g.grantee
                && self.absent.contains(&email_key(email))
            {
                out.errors.push(AccessPlanError::GrantToAbsentPerson {
                    site: self.site.into(),
                    kind: on.as_str(),
                    name: d.name.clone(),
                    email: email.clone(),
                });
                continue;
            }
            let l = by_grantee.get(&g.grantee.key()).copied();
            if l.is_none_or(|l| l.permission != g.permission) {
                out.grants.push(change(&g.grantee, l, Some(&g.permission)));
            }
        }
        let mut undeclared: Vec<&LiveGrant> = live_grants
            .iter()
            .filter(|g| !declared.contains(&g.grantee.key()))
            .collect();
        undeclared.sort_by_cached_key(|g| g.grantee.key());
        for l in undeclared {
            if self.org.access.unmanaged_grants == Unmanaged::Remove {
                out.grants.push(change(&l.grantee, Some(l), None));
            } else {
                let key = format!("{} {} for {}", on.as_str(), d.name, l.grantee);
                out.kept.push(kept(ObjectKind::Grant, key));
            }
        }
    }
}

impl Cx<'_> {
    /// A live grant, its team named as it is once this plan renamed it.
    fn after_renames(&self, g: &LiveGrant) -> LiveGrant {
        let mut g = g.clone();
        if let Grantee::Team(name) = &g.grantee
            && let Some(new) = self.renamed.get(&ProviderKind::Sigma.group_key(name))
        {
            g.grantee = Grantee::Team(new.clone());
        }
        g
    }
}

fn kept(kind: ObjectKind, key: String) -> Kept {
    Kept {
        kind,
        key,
        reason: KeptReason::Unmanaged,
        found_as: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::access::{DesiredAccess, LiveAccess};
    use crate::test_fixtures;

    fn grant(on: AccessKind, before: Option<&str>, after: Option<&str>) -> GrantChange {
        GrantChange {
            on,
            object: "W".into(),
            object_id: Some("w1".into()),
            grantee: Grantee::Team("T".into()),
            grant_id: Some("g1".into()),
            before: before.map(str::to_string),
            after: after.map(str::to_string),
        }
    }

    #[test]
    fn only_a_lowered_or_removed_grant_is_revoked_first() {
        let w = AccessKind::Workspace;
        assert!(grant(w, Some("edit"), Some("view")).is_lowered());
        assert!(!grant(w, Some("view"), Some("edit")).revokes_first());
        assert!(grant(w, Some("view"), None).revokes_first());
        assert!(!grant(w, None, Some("view")).revokes_first());
        let c = AccessKind::Connection;
        assert!(grant(c, Some("annotate"), Some("usage")).is_lowered());
        // An unknown live permission is replaced, never assumed lower.
        assert!(grant(w, Some("owner"), Some("view")).revokes_first());
    }

    fn sigma(policy: crate::model::access::AccessPolicy) -> DesiredSite {
        let org = SigmaOrgPolicy {
            access: policy,
            ..Default::default()
        };
        let site = test_fixtures::sigma_site(
            test_fixtures::SIGMA_URL,
            crate::model::Handover::CredentialsOwner,
            org,
        );
        DesiredSite {
            site,
            users: vec![],
            groups: vec![],
            access: DesiredAccess {
                workspaces: vec![DesiredAccessObject {
                    name: "W".into(),
                    previous_names: vec![],
                    grants: vec![],
                }],
                connections: vec![],
            },
            attrs: Default::default(),
        }
    }

    fn live() -> LiveSite {
        let object = |id: &str, name: &str| LiveAccessObject {
            id: Some(id.into()),
            name: name.into(),
            grants: vec![LiveGrant {
                id: Some(format!("g-{id}")),
                grantee: Grantee::Person("a@x.io".into()),
                grantee_id: Some("m1".into()),
                permission: "view".into(),
            }],
        };
        LiveSite {
            access: LiveAccess {
                workspaces: Some(vec![object("w1", "W"), object("w2", "Other")]),
                connections: Some(vec![]),
            },
            ..LiveSite::default()
        }
    }

    #[test]
    fn undeclared_grants_and_workspaces_follow_the_site_settings() {
        let keep_all = crate::model::access::AccessPolicy {
            unmanaged_grants: Unmanaged::Keep,
            ..Default::default()
        };
        let p = plan_access(&sigma(keep_all), &live(), &HashMap::new());
        assert!(p.grants.is_empty() && p.deletes.is_empty());
        let kept: Vec<&str> = p.kept.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(kept, ["workspace W for a@x.io", "Other"]);

        let remove_all = crate::model::access::AccessPolicy {
            unmanaged_workspaces: Unmanaged::Remove,
            ..Default::default()
        };
        let p = plan_access(&sigma(remove_all), &live(), &HashMap::new());
        assert_eq!(p.grants.len(), 1);
        assert_eq!(p.grants[0].action(), Action::Delete);
        assert_eq!(p.deletes.len(), 1);
        assert_eq!(p.deletes[0].key(), "Other");
        assert!(p.kept.is_empty());
    }

    #[test]
    fn a_grant_follows_its_team_through_a_rename_in_the_same_plan() {
        let mut desired = sigma(crate::model::access::AccessPolicy::default());
        desired.access.workspaces[0].grants = vec![DesiredGrant {
            grantee: Grantee::Team("Data Team".into()),
            permission: "view".into(),
            expires: None,
        }];
        let mut live = live();
        let w = &mut live.access.workspaces.as_mut().unwrap()[0];
        w.grants[0].grantee = Grantee::Team("Data".into());
        let renamed = HashMap::from([(ProviderKind::Sigma.group_key("data"), "Data Team".into())]);
        let p = plan_access(&desired, &live, &renamed);
        assert!(p.grants.is_empty(), "{:?}", p.grants);
        // Without the rename, the old team's grant goes and the new one's comes.
        let p = plan_access(&desired, &live, &HashMap::new());
        let actions: Vec<Action> = p.grants.iter().map(Change::action).collect();
        assert_eq!(actions, [Action::Create, Action::Delete]);
    }
}
