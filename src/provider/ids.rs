//! The IDs a site's API addresses its objects by. They are read with the
//! live state and handed to the writes explicitly (apply builds them from
//! the live state it planned from), never left behind in a client by a
//! read: a write cannot silently depend on a fetch having run first.

use std::collections::HashMap;

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
        SiteIds { members, groups }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LiveGroup, LiveUser};

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
            }],
            account_types: vec![],
            api_identity: None,
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
    }
}
