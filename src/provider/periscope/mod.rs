//! Periscope Data / Sisense for Cloud Data Teams.

mod checks;
mod client;
mod role_ids;
mod role_wire;
mod roles;
pub mod settings;
mod wire;

pub(crate) use checks::CHECKS;
/// Periscope has no object kinds of its own beside people and groups.
pub(crate) use crate::provider::kinds::NoKinds as Kinds;
pub use client::PeriscopeClient;
pub use settings::Settings;

use crate::model::{ADMINISTRATORS, ALL_USERS, LiveSite, Site};
use crate::provider::capabilities::{
    AccountTypes, Addressing, AdminPermissions, AdminRule, Capabilities, EmailRename, GroupFields, NameRule, Nouns,
    People, Removal, TestMode,
};
use crate::provider::{Pacing, ProviderError, SiteClient, Step, gated, run_all};
use crate::secret::Secret;

pub const CAPABILITIES: Capabilities = Capabilities {
    name: "periscope",
    product: "Periscope",
    removal: Removal::Delete,
    test_mode: TestMode::ServerSide {
        flag: "test_mode=true",
    },
    email_rename: EmailRename::Unsupported,
    group_fields: GroupFields {
        access: true,
        description: false,
        visibility: false,
    },
    account_types: AccountTypes::None,
    admin_rule: AdminRule::InGroup(ADMINISTRATORS),
    admin_permissions: AdminPermissions::None,
    builtin_groups: &[ADMINISTRATORS, ALL_USERS],
    implicit_group: Some(ALL_USERS),
    names: NameRule::AlphanumericOnly,
    addressing: Addressing::ByName,
    people: People {
        kinds: false,
        group_admins: false,
    },
    nouns: Nouns {
        users: "users",
        groups: "groups",
        group_rule: "group names compare ignoring case and anything not a letter or digit, after Unicode NFC",
    },
    attrs: crate::provider::capabilities::Attrs {
        user_attributes: false,
        custom_account_types: false,
        workspaces: false,
    },
};

/// A Periscope site's secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: Secret,
}

pub type Client = PeriscopeClient;

impl SiteClient for PeriscopeClient {
    type Credentials = Credentials;

    fn connect(
        site: &Site,
        credentials: Credentials,
        base: &url::Url,
        pacing: Pacing,
    ) -> Result<Self, ProviderError> {
        PeriscopeClient::new(site, credentials.api_key, base, pacing)
    }

    async fn fetch_live(&self) -> Result<LiveSite, ProviderError> {
        self.fetch().await
    }

    /// One request per change (the default `write_requests`).
    fn pacer(&self) -> &crate::provider::retry::Pacer {
        PeriscopeClient::pacer(self)
    }

    async fn apply_changes(&self, step: Step<'_>) -> Vec<Result<(), ProviderError>> {
        let Step {
            changes,
            mode,
            concurrency,
            gate,
            ..
        } = step;
        run_all(
            changes
                .iter()
                .map(|change| gated(gate, change, self.apply(change, mode))),
            concurrency,
        )
        .await
    }
}
