//! The IDs a site's API addresses its objects by. They are read with the
//! live state and handed to the writes explicitly (apply builds them from
//! the live state it planned from), never left behind in a client by a
//! read: a write cannot silently depend on a fetch having run first.

use std::collections::HashMap;

use super::ProviderError;
use super::capabilities::Capabilities;
use crate::model::{LiveSite, ProviderKind, email_key};

/// A site's object IDs by key, as read, and as learnt while applying (a
/// team created in one step is joined in the next; a renamed member keeps
/// their ID under the new email).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SiteIds {
    /// email key -> member ID (Sigma `memberId`).
    pub members: HashMap<String, String>,
    /// group key -> group ID (Sigma `teamId`).
    pub groups: HashMap<String, String>,
    /// workspace name key -> Sigma `workspaceId`.
    pub workspaces: HashMap<String, String>,
    /// user attribute name key -> ID (Sigma `userAttributeId`).
    pub attributes: HashMap<String, String>,
    /// member ID -> the member's version, as read or as the last write
    /// answered, where the platform versions objects (SCIM ETags): a write
    /// sends it back so a change made since is refused, not overwritten.
    pub member_versions: HashMap<String, String>,
    /// group ID -> the group's version, as `member_versions`.
    pub group_versions: HashMap<String, String>,
}

impl SiteIds {
    /// The IDs of everything `live` holds that has one. On a provider that
    /// addresses objects by name (Periscope) this is empty.
    pub fn of(provider: ProviderKind, live: &LiveSite) -> SiteIds {
        let members = live
            .users
            .iter()
            .filter_map(|u| Some((email_key(&u.email), u.id.clone()?)))
            .collect();
        let groups = live
            .groups
            .iter()
            .filter_map(|g| Some((provider.group_key(&g.name), g.id.clone()?)))
            .collect();
        let workspaces = live
            .access
            .workspaces
            .iter()
            .flatten()
            .filter_map(|w| Some((provider.group_key(&w.name), w.id.clone()?)))
            .collect();
        let attributes = live
            .attrs
            .attributes
            .iter()
            .map(|a| (crate::attrs::name_key(&a.name), a.id.clone()))
            .collect();
        let member_versions = live
            .users
            .iter()
            .filter_map(|u| Some((u.id.clone()?, u.version.clone()?)))
            .collect();
        let group_versions = live
            .groups
            .iter()
            .filter_map(|g| Some((g.id.clone()?, g.version.clone()?)))
            .collect();
        SiteIds {
            members,
            groups,
            workspaces,
            attributes,
            member_versions,
            group_versions,
        }
    }
}

/// Whether a site's ID can be put in a URL path as one segment: not
/// empty, not a dot segment (`.`, `..`: every HTTP client and server
/// removes those, percent-encoded or not), and without `/` (which some
/// servers and proxies read as a separator even percent-encoded). A request
/// naming any other would reach another object or endpoint.
pub fn is_usable_id(id: &str) -> bool {
    !(id.is_empty() || super::is_dot_segment(id) || id.contains('/'))
}

/// `id`, which the site `site` gave the `kind` (`user`, `team`...) named
/// `object`, when it can be a URL path segment; else the refusal naming
/// the object. Every ID read from a site goes through this before a
/// request can name it, so a plan is never made on one.
pub fn usable_id(
    site: &str,
    kind: &str,
    object: &str,
    id: impl Into<String>,
) -> Result<String, ProviderError> {
    let id = id.into();
    if is_usable_id(&id) {
        return Ok(id);
    }
    Err(ProviderError::UnusableId {
        site: site.to_string(),
        kind: kind.to_string(),
        object: object.to_string(),
        id,
    })
}

/// Refuses a live state in which two objects of one kind share an ID:
/// a write addressed to that ID could reach either, so a plan about one
/// (deactivate tim) would change the other (ada). Users, groups,
/// workspaces, connections (and the grants of each), user attributes and
/// account types are checked, each kind on its own; objects without an ID
/// (addressed by name) are not. Linear in the objects read.
pub fn distinct_ids(site: &str, caps: &Capabilities, live: &LiveSite) -> Result<(), ProviderError> {
    let users = live.users.iter();
    let users = users.filter_map(|u| Some((u.id.as_deref()?, &u.email)));
    distinct(site, caps.nouns.users, users)?;
    let groups = live.groups.iter();
    let groups = groups.filter_map(|g| Some((g.id.as_deref()?, &g.name)));
    distinct(site, caps.nouns.groups, groups)?;
    for (kind, list) in [
        ("workspaces", &live.access.workspaces),
        ("connections", &live.access.connections),
    ] {
        let objects = list.as_deref().unwrap_or_default();
        let named = objects
            .iter()
            .filter_map(|o| Some((o.id.as_deref()?, &o.name)));
        distinct(site, kind, named)?;
        for o in objects {
            let grants = o.grants.iter();
            let grants = grants.filter_map(|g| Some((g.id.as_deref()?, &g.grantee)));
            distinct(site, &format!("grants on {}", o.name), grants)?;
        }
    }
    let attrs = live.attrs.attributes.iter().map(|a| (&*a.id, &a.name));
    distinct(site, "user attributes", attrs)?;
    let types = live.attrs.account_types.iter().map(|t| (&*t.id, &t.name));
    distinct(site, "account types", types)
}

/// `objects` of one `kind`, as (ID, name) pairs: the first two sharing an
/// ID are refused, naming both.
fn distinct<'o, N: std::fmt::Display>(
    site: &str,
    kind: &str,
    objects: impl Iterator<Item = (&'o str, N)>,
) -> Result<(), ProviderError> {
    let mut seen: HashMap<&str, N> = HashMap::new();
    for (id, name) in objects {
        if let Some(first) = seen.insert(id, name) {
            return Err(ProviderError::SharedId {
                site: site.to_string(),
                kind: kind.to_string(),
                first: first.to_string(),
                second: seen[id].to_string(),
                id: id.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LiveGroup, LiveUser};
    use crate::test_fixtures;

    #[test]
    fn workspaces_and_attributes_sharing_an_id_are_refused_naming_both() {
        use crate::attrs::{LiveAccountType, LiveAttribute};
        use crate::model::access::LiveAccessObject;
        let caps = ProviderKind::Sigma.capabilities();
        let workspace = |id: &str, name: &str| LiveAccessObject {
            id: Some(id.into()),
            name: name.into(),
            grants: Vec::new(),
        };
        let mut live = LiveSite::default();
        live.access.workspaces = Some(vec![workspace("w1", "Sales"), workspace("w2", "Ops")]);
        assert!(distinct_ids("s", caps, &live).is_ok());
        live.access.workspaces = Some(vec![workspace("w1", "Sales"), workspace("w1", "Ops")]);
        let e = distinct_ids("s", caps, &live).unwrap_err().to_string();
        assert!(
            e.starts_with("site `s`: the workspaces Sales and Ops have the same ID \"w1\""),
            "{e}"
        );
        live.access.workspaces = None;
        let attribute = |id: &str, name: &str| LiveAttribute {
            id: id.into(),
            name: name.into(),
            ..LiveAttribute::default()
        };
        live.attrs.attributes = vec![attribute("a1", "region"), attribute("a1", "team")];
        let e = distinct_ids("s", caps, &live).unwrap_err().to_string();
        assert!(
            e.contains("the user attributes region and team have the same ID \"a1\""),
            "{e}"
        );
        live.attrs.attributes.clear();
        let kind = |id: &str, name: &str| LiveAccountType {
            id: id.into(),
            name: name.into(),
            ..LiveAccountType::default()
        };
        live.attrs.account_types = vec![kind("k1", "Analyst"), kind("k1", "Viewer")];
        let e = distinct_ids("s", caps, &live).unwrap_err().to_string();
        assert!(
            e.contains("the account types Analyst and Viewer have the same ID \"k1\""),
            "{e}"
        );
    }

    #[test]
    fn ids_that_cannot_be_one_path_segment_are_refused_naming_the_object() {
        for bad in ["", ".", "..", "a/b", "/", "../x"] {
            let e = usable_id("s", "user", "ann@x.io", bad)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("site `s`: the user ann@x.io has the ID ")
                    && e.contains(&format!("{bad:?}")),
                "{e}"
            );
        }
        for good in [
            "m1",
            "...",
            ".a",
            "a.b",
            "2819c223-7f76-453a-919d-413861904646",
            "a b",
        ] {
            assert_eq!(usable_id("s", "user", "ann@x.io", good).unwrap(), good);
        }
    }

    #[test]
    fn ids_are_keyed_as_the_plan_matches_names() {
        let live = LiveSite {
            users: vec![
                LiveUser {
                    id: Some("m1".into()),
                    email: "Ann@X.io".into(),
                    ..LiveUser::default()
                },
                LiveUser {
                    id: None,
                    email: "bob@x.io".into(),
                    ..LiveUser::default()
                },
            ],
            groups: vec![LiveGroup {
                id: Some("t1".into()),
                name: " Analysts ".into(),
                access: None,
                description: None,
                visibility: None,
                version: Some("W/\"7\"".into()),
                member_groups: Vec::new(),
            }],
            account_types: vec![],
            api_identity: None,
            ..LiveSite::default()
        };
        let ids = SiteIds::of(ProviderKind::Sigma, &live);
        assert_eq!(
            ids.members,
            HashMap::from([("ann@x.io".to_string(), "m1".to_string())])
        );
        assert_eq!(
            ids.groups,
            HashMap::from([(ProviderKind::Sigma.group_key("analysts"), "t1".to_string())])
        );
        assert_eq!(
            ids.group_versions,
            HashMap::from([("t1".to_string(), "W/\"7\"".to_string())])
        );
        assert!(ids.member_versions.is_empty());
    }

    /// A sandbox with one Sigma org, `org`, holding the member ann@x.io
    /// (`m-ann`) and the team Analysts (`t-analysts`), not yet in it.
    fn sandbox_with_ann_and_analysts() -> crate::sandbox::BackgroundSandbox {
        use crate::sandbox::sigma::store::{SigmaMember, SigmaTeam};
        use crate::sandbox::{BackgroundSandbox, SandboxData, SigmaOrg};

        let mut org = SigmaOrg::new("org", "s", "admin@x.io");
        org.members.push(SigmaMember {
            member_id: "m-ann".into(),
            email: "ann@x.io".into(),
            first_name: "Ann".into(),
            last_name: "A".into(),
            member_type: "Viewer".into(),
            is_archived: false,
            is_inactive: false,
            documents: 0,
        });
        org.teams.push(SigmaTeam {
            team_id: "t-analysts".into(),
            name: "Analysts".into(),
            description: None,
            visibility: "private".into(),
            members: vec![],
        });
        let mut data = SandboxData::default();
        data.sigma.insert("org".into(), org);
        BackgroundSandbox::start(data).unwrap()
    }

    /// A client of the Sigma org `org` at `url`.
    fn sigma_client(url: &str) -> crate::provider::Client {
        use crate::model::{Credentials, Handover};
        use crate::provider::{Client, Pacing};
        use crate::secret::Secret;

        let site = test_fixtures::sigma_site(url, Handover::CredentialsOwner, Default::default());
        let credentials = Credentials::Sigma(crate::provider::sigma::Credentials {
            client_id: Secret::new("org"),
            client_secret: Secret::new("s"),
        });
        Client::new(&site, credentials, None, Pacing::default()).unwrap()
    }

    /// A Sigma team membership edit sent with IDs handed over and no read
    /// of the site before it: the write needs nothing a fetch left behind.
    #[test]
    fn sigma_writes_use_the_ids_they_are_given_and_nothing_else() {
        use crate::model::{Change, Membership};
        use crate::provider::WriteMode;
        use std::sync::Mutex;

        let sb = sandbox_with_ann_and_analysts();
        let client = sigma_client(&sb.url);
        let join = Change::UpdateUser {
            email: "ann@x.io".into(),
            id: None,
            renamed_from: None,
            first_name: None,
            last_name: None,
            member_type: None,
            kind: None,
            reactivate: false,
            groups: Some(Membership {
                added: vec!["Analysts".into()],
                removed: vec![],
                after: vec!["Analysts".into()],
            }),
        };
        let gate = crate::interrupt::Gate::new();
        let send = |ids: SiteIds| {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(client.apply_step(
                &[&join],
                WriteMode::Real,
                4,
                gate.site("org"),
                &Mutex::new(ids),
            ))
        };

        // Without the IDs, nothing is guessed and nothing is sent.
        let results = send(SiteIds::default());
        assert_eq!(
            results[0].as_ref().unwrap_err().to_string(),
            "site `org`: no member with email ann@x.io was found on the site"
        );
        assert!(sb.sandbox.data().sigma["org"].teams[0].members.is_empty());

        let ids = SiteIds {
            members: HashMap::from([("ann@x.io".into(), "m-ann".into())]),
            groups: HashMap::from([(
                ProviderKind::Sigma.group_key("Analysts"),
                "t-analysts".into(),
            )]),
            ..SiteIds::default()
        };
        assert!(send(ids)[0].is_ok());
        assert_eq!(sb.sandbox.data().sigma["org"].teams[0].members, ["m-ann"]);
    }
}
