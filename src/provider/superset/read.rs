//! Reading a Superset site: every user and group, into the live state.
//! The account roster signs in with is the site's API identity: kept,
//! never changed (`Locked::System`), and never removed by a plan.

use std::collections::HashMap;

use super::client::{GROUPS, SupersetClient, USERS};
use super::wire;
use crate::model::{LiveGroup, LiveSite, LiveUser, Locked};
use crate::provider::ProviderError;
use crate::provider::ids::usable_id;

impl SupersetClient {
    /// Every user and group, each group with its description and each user
    /// with the groups they are in.
    pub async fn fetch(&self) -> Result<LiveSite, ProviderError> {
        let (users, groups) = tokio::join!(
            self.list_all::<wire::User>(USERS, "list users"),
            self.list_all::<wire::Group>(GROUPS, "list groups"),
        );
        let groups = self.live_groups(groups?)?;
        let names: HashMap<&str, &str> = groups
            .iter()
            .filter_map(|g| Some((g.id.as_deref()?, g.name.as_str())))
            .collect();
        let mut api_identity = None;
        let mut live_users = Vec::new();
        for u in users? {
            let Some(user) = self.live_user(u, &names)? else {
                continue;
            };
            if user.locked.is_some() {
                api_identity = Some(user.email.clone());
            }
            live_users.push(user);
        }
        Ok(LiveSite {
            users: live_users,
            groups,
            account_types: Vec::new(),
            api_identity,
            access: Default::default(),
            attrs: crate::attrs::LiveAttrs::default(),
        })
    }

    fn live_groups(&self, groups: Vec<wire::Group>) -> Result<Vec<LiveGroup>, ProviderError> {
        let mut live = Vec::with_capacity(groups.len());
        for g in groups {
            let (Some(id), Some(name)) = (g.id, g.name) else {
                continue;
            };
            let id = usable_id(&self.name, "group", &name, id)?;
            live.push(LiveGroup {
                id: Some(id),
                name,
                description: Some(g.description.unwrap_or_default()),
                ..LiveGroup::default()
            });
        }
        Ok(live)
    }

    /// A user as roster sees them; `None` for one without an email (which
    /// Superset requires: there is nothing to match them by).
    fn live_user(
        &self,
        u: wire::User,
        group_names: &HashMap<&str, &str>,
    ) -> Result<Option<LiveUser>, ProviderError> {
        let email = u.email.as_deref().unwrap_or_default().trim().to_string();
        let Some(id) = u.id.filter(|_| !email.is_empty()) else {
            return Ok(None);
        };
        let id = usable_id(&self.name, "user", &email, id)?;
        let groups = u
            .groups
            .iter()
            .filter_map(|g| {
                let by_id = g.id.as_deref().and_then(|id| group_names.get(id));
                by_id.map(|n| (*n).to_string()).or_else(|| g.name.clone())
            })
            .collect();
        let signs_in = u.username.as_deref() == Some(self.login_username());
        Ok(Some(LiveUser {
            id: Some(id),
            email,
            first_name: u.first_name.unwrap_or_default(),
            last_name: u.last_name.unwrap_or_default(),
            groups,
            active: u.active,
            locked: signs_in.then_some(Locked::System),
            ..LiveUser::default()
        }))
    }
}
