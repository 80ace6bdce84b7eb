//! Apache Superset (6.1): its people and groups, through Flask-AppBuilder's
//! security API (`/api/v1/security/...`, on where the server sets
//! `FAB_ADD_SECURITY_API = True`), signed in as an admin account with a
//! bearer token that is renewed when it expires.
//!
//! People are matched by email; a new person's username is their email.
//! Removal is `active = false` unless the site says `unmanaged_users =
//! "delete"`. The account roster signs in with is never changed. Superset
//! has no test mode: a dry run sends nothing. Roles and row-level security
//! are not managed yet. There is no sandbox for Superset: tests run against
//! a real server (`scripts/superset-server`).

mod client;
mod read;
pub mod settings;
mod wire;
mod write;

/// Superset's roles and row-level security rules are not managed yet: no
/// object kinds of its own beside people and groups.
pub(crate) use crate::provider::kinds::NoKinds as Kinds;
pub use client::{Login, SupersetClient};
pub use settings::Settings;

use crate::model::{Change, LiveSite, Site};
use crate::provider::capabilities::{
    AccountTypes, Addressing, AdminPermissions, AdminRule, Attrs, Capabilities, EmailRename, GroupFields, NameRule,
    Nouns, People, Removal, TestMode,
};
use crate::provider::{Pacing, ProviderError, SiteClient, Step, gated, run_all};
use crate::secret::Secret;

/// Superset's checks of the state: none beyond the generic ones.
pub(crate) const CHECKS: &[crate::state::NamedCheck] = &[];

pub const CAPABILITIES: Capabilities = Capabilities {
    name: "superset",
    product: "Superset",
    // `active = false` by default; DELETE where the site says
    // `unmanaged_users = "delete"`.
    removal: Removal::DeactivateOrDelete,
    test_mode: TestMode::None,
    // A user's email is a field like any other (`PUT /users/{id}`).
    email_rename: EmailRename::Supported,
    group_fields: GroupFields {
        access: false,
        description: true,
        visibility: false,
    },
    account_types: AccountTypes::None,
    // Admin power is a role (Admin), and roles are not managed yet.
    admin_rule: AdminRule::None,
    admin_permissions: AdminPermissions::None,
    builtin_groups: &[],
    implicit_group: None,
    names: NameRule::Trimmed,
    addressing: Addressing::ById,
    people: People {
        kinds: false,
        group_admins: false,
    },
    nouns: Nouns {
        users: "users",
        groups: "groups",
        group_rule: "group names compare ignoring case and surrounding spaces, after Unicode NFC",
    },
    attrs: Attrs {
        user_attributes: false,
        custom_account_types: false,
        workspaces: false,
    },
};

/// How a Superset site is reached: the account roster signs in with; or,
/// for a sandbox, nothing, as there is none for Superset.
#[derive(Debug, Clone)]
pub enum Credentials {
    Login {
        username: Secret,
        password: Secret,
        /// Where the password comes from, for the hint after a refusal.
        password_from: String,
        auth_provider: settings::AuthProvider,
    },
    /// Asked for a sandbox: connecting says Superset has none.
    NoSandbox,
}

pub type Client = SupersetClient;

/// The key two group names are matched by (see [`NameRule::Trimmed`]).
fn group_key(name: &str) -> String {
    crate::provider::group_key(CAPABILITIES.names, name)
}

impl SiteClient for SupersetClient {
    type Credentials = Credentials;

    fn connect(site: &Site, credentials: Credentials, base: &url::Url, pacing: Pacing) -> Result<Self, ProviderError> {
        let Credentials::Login {
            username,
            password,
            password_from,
            auth_provider,
        } = credentials
        else {
            return Err(ProviderError::Unsupported {
                site: site.name.clone(),
                message: "roster has no sandbox for Superset: run against a real Superset server (scripts/superset-server starts one on this machine)".into(),
            });
        };
        let login = Login {
            username,
            password,
            password_from,
            auth_provider,
        };
        let patience = std::time::Duration::from_secs(site.patience_seconds);
        SupersetClient::new(&site.name, base, login, pacing, patience)
    }

    async fn fetch_live(&self) -> Result<LiveSite, ProviderError> {
        self.fetch().await
    }

    /// Superset has no test mode: `step.mode` is never `TestMode` here (a
    /// dry run sends nothing). IDs are `step.ids`'s, read with the plan's
    /// live state; what the writes learn goes back into them.
    async fn apply_changes(&self, step: Step<'_>) -> Vec<Result<(), ProviderError>> {
        let Step {
            changes,
            concurrency,
            gate,
            ids,
            ..
        } = step;
        run_all(
            changes
                .iter()
                .map(|change| gated(gate, change, self.apply(change, ids))),
            concurrency,
        )
        .await
    }

    fn pacer(&self) -> &crate::provider::retry::Pacer {
        SupersetClient::pacer(self)
    }

    fn write_requests(&self, changes: &[Change]) -> u64 {
        changes.iter().map(SupersetClient::requests_for).sum()
    }
}
