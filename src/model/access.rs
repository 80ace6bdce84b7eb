//! Sigma access as code: workspaces and connections, and the grants that
//! give teams and people a permission on them. Declared (`[[workspaces]]`,
//! `[[connections]]`) and live; the plan compares the two.

use serde::{Deserialize, Serialize};

use super::change::{Action, Diff, ObjectKind};
use super::{Unmanaged, email_key};

/// A Sigma site's settings for access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessPolicy {
    /// Undeclared workspaces: kept (the default) or deleted.
    pub unmanaged_workspaces: Unmanaged,
    /// Undeclared grants on declared workspaces and connections.
    pub unmanaged_grants: Unmanaged,
    /// Whether the client reads workspaces, connections and their grants.
    pub read: bool,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            unmanaged_workspaces: Unmanaged::Keep,
            unmanaged_grants: Unmanaged::Remove,
            read: false,
        }
    }
}

/// What a grant is on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    Workspace,
    Connection,
}

impl AccessKind {
    /// The permissions a grant on this kind may give, lowest first.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            AccessKind::Workspace => &["view", "explore", "organize", "edit"],
            AccessKind::Connection => &["usage", "annotate"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::Workspace => "workspace",
            AccessKind::Connection => "connection",
        }
    }

    /// Where a permission stands (higher gives more); `None` if unknown.
    pub fn rank(self, permission: &str) -> Option<usize> {
        self.permissions().iter().position(|p| *p == permission)
    }

    /// The permission as the API writes it, if it is one of this kind's.
    pub fn parse(self, permission: &str) -> Option<&'static str> {
        let wanted = permission.trim().to_ascii_lowercase();
        self.permissions().iter().copied().find(|p| *p == wanted)
    }
}

/// Who a grant is for: a team (by name) or a person (by email).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case", tag = "type", content = "name")]
pub enum Grantee {
    Team(String),
    Person(String),
}

impl Grantee {
    /// The key two grantees are matched by: team names as Sigma compares
    /// them (surrounding spaces ignored), emails as people are matched.
    pub fn key(&self) -> (u8, String) {
        match self {
            Grantee::Team(name) => (0, team_key(name)),
            Grantee::Person(email) => (1, email_key(email)),
        }
    }
}

/// A team's name as Sigma compares team names: surrounding spaces ignored,
/// in NFC, lower-cased, which is how emails are folded too.
fn team_key(name: &str) -> String {
    email_key(name)
}

impl std::fmt::Display for Grantee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grantee::Team(name) => write!(f, "team {}", crate::escape::text(name)),
            Grantee::Person(email) => f.write_str(&crate::escape::text(email)),
        }
    }
}

/// A declared grant: who, and which permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredGrant {
    pub grantee: Grantee,
    pub permission: String,
    /// `expires`: the grant's last day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<chrono::NaiveDate>,
}

/// A declared workspace or connection (connections have no previous names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredAccessObject {
    pub name: String,
    pub previous_names: Vec<String>,
    pub grants: Vec<DesiredGrant>,
}

/// What a site declares about access.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DesiredAccess {
    pub workspaces: Vec<DesiredAccessObject>,
    pub connections: Vec<DesiredAccessObject>,
}

impl DesiredAccess {
    pub fn is_empty(&self) -> bool {
        self.workspaces.is_empty() && self.connections.is_empty()
    }
}

/// A grant as the site has it. `grantee` is resolved from the ids the API
/// gives (a team or member roster does not know keeps its id as name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveGrant {
    /// Sigma `grantId`.
    pub id: Option<String>,
    pub grantee: Grantee,
    /// The team's or member's id.
    pub grantee_id: Option<String>,
    pub permission: String,
}

/// A workspace or connection as the site has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAccessObject {
    pub id: Option<String>,
    pub name: String,
    pub grants: Vec<LiveGrant>,
}

/// What is live about access on a site (Sigma).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAccess {
    /// `None`: not read (the state declares no access for the site).
    pub workspaces: Option<Vec<LiveAccessObject>>,
    pub connections: Option<Vec<LiveAccessObject>>,
}

impl LiveAccess {
    /// A canonical form for the live fingerprint: sorted, ids kept.
    pub fn canonical(&self) -> impl Serialize + use<> {
        let sorted = |list: &Option<Vec<LiveAccessObject>>| {
            list.as_ref().map(|l| {
                let mut l: Vec<LiveAccessObject> = l.clone();
                for o in &mut l {
                    o.grants
                        .sort_by(|a, b| (a.grantee.key(), &a.id).cmp(&(b.grantee.key(), &b.id)));
                }
                l.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
                l
            })
        };
        (sorted(&self.workspaces), sorted(&self.connections))
    }
}

/// One change of Sigma access.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AccessChange {
    CreateWorkspace {
        name: String,
    },
    RenameWorkspace {
        id: String,
        name: Diff<String>,
    },
    /// Only with `unmanaged_workspaces = "delete"`: the content goes too.
    DeleteWorkspace {
        id: String,
        name: String,
    },
    Grant(GrantChange),
}

/// A grant given (`before` none), revoked (`after` none), raised or
/// lowered. A lowered grant is revoked, then given again: Sigma's grants
/// only raise access.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GrantChange {
    pub on: AccessKind,
    /// The workspace or connection, by the name it has once renamed.
    pub object: String,
    /// Its id; none for a workspace this plan creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    pub grantee: Grantee,
    /// The live grant's id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl GrantChange {
    /// Whether the live grant is revoked first: removed, or lowered.
    pub fn revokes_first(&self) -> bool {
        match (&self.before, &self.after) {
            (Some(_), None) => true,
            (Some(b), Some(a)) => self.on.rank(a) < self.on.rank(b) || self.on.rank(b).is_none(),
            _ => false,
        }
    }

    pub fn is_lowered(&self) -> bool {
        self.before.is_some() && self.after.is_some() && self.revokes_first()
    }
}

impl AccessChange {
    pub fn action(&self) -> Action {
        match self {
            AccessChange::CreateWorkspace { .. } => Action::Create,
            AccessChange::RenameWorkspace { .. } => Action::Update,
            AccessChange::DeleteWorkspace { .. } => Action::Delete,
            AccessChange::Grant(g) => match (&g.before, &g.after) {
                (None, _) => Action::Create,
                (Some(_), None) => Action::Delete,
                _ => Action::Update,
            },
        }
    }

    pub fn kind(&self) -> ObjectKind {
        match self {
            AccessChange::Grant(_) => ObjectKind::Grant,
            _ => ObjectKind::Workspace,
        }
    }

    pub fn key(&self) -> &str {
        match self {
            AccessChange::CreateWorkspace { name } | AccessChange::DeleteWorkspace { name, .. } => {
                name
            }
            AccessChange::RenameWorkspace { name, .. } => &name.after,
            AccessChange::Grant(g) => &g.object,
        }
    }

    /// Workspaces are made (step 1) before people (2); grants follow both
    /// (3, with removals); workspaces are deleted last (4).
    pub fn step(&self) -> u8 {
        match self {
            AccessChange::CreateWorkspace { .. } | AccessChange::RenameWorkspace { .. } => 1,
            AccessChange::Grant(_) => 3,
            AccessChange::DeleteWorkspace { .. } => 4,
        }
    }
}

/// A plan of access that cannot be made without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessPlanError {
    #[error(
        "site `{site}`: the site has {count} {kind}s named \"{name}\" (Sigma lets names repeat; roster compares them ignoring case and surrounding spaces); it will not guess which one the state means. Rename all but one in Sigma, then plan again"
    )]
    Ambiguous {
        site: String,
        kind: &'static str,
        name: String,
        count: usize,
    },
    #[error(
        "site `{site}`: connection \"{name}\" is declared but the site has no such connection; roster never creates connections (they hold credentials). Create it in Sigma, fix the name, or limit its sites"
    )]
    ConnectionMissing { site: String, name: String },
    #[error(
        "site `{site}`: workspace \"{name}\" lists \"{previous}\" in previous_names, but both exist on the site; roster will not guess which one to keep. Delete or rename one of them in Sigma, or remove \"{previous}\" from previous_names"
    )]
    RenameConflict {
        site: String,
        name: String,
        previous: String,
    },
    #[error(
        "site `{site}`: {kind} \"{name}\" grants `{email}`, who is declared `active = false` and is not on the site: roster does not create a person only to deactivate them, so the grant could never be given. Remove the grant, or declare the person active"
    )]
    GrantToAbsentPerson {
        site: String,
        kind: &'static str,
        name: String,
        email: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_grantee_is_matched_as_sigma_matches_team_names() {
        let sigma = crate::test_fixtures::sigma();
        for name in [" Finance ", "Caf\u{e9}", "cafe\u{301}", "Data-Team"] {
            let key = Grantee::Team(name.into()).key();
            assert_eq!(key, (0, sigma.group_key(name)), "{name}");
        }
    }
}
