//! Sigma Computing.

mod access;
mod account_types;
mod attributes;
mod auth;
mod client;
mod kinds;
pub mod regions;
pub mod settings;
mod wire;
mod write;

pub use client::SigmaClient;
pub use settings::Settings;

use crate::model::{LiveSite, Site};
use crate::model::Change;
use crate::provider::capabilities::{
    AccountTypes, Addressing, AdminPermissions, AdminRule, Capabilities, EmailRename, GroupFields, NameRule, Nouns,
    People, Removal, TestMode,
};
use crate::provider::{Pacing, ProviderError, SiteClient, Step, run_all};
use crate::secret::Secret;

pub(crate) use kinds::{CHECKS, Kinds};

pub const CAPABILITIES: Capabilities = Capabilities {
    name: "sigma",
    product: "Sigma",
    removal: Removal::Deactivate,
    test_mode: TestMode::None,
    email_rename: EmailRename::Supported,
    group_fields: GroupFields {
        access: false,
        description: true,
        visibility: true,
    },
    account_types: AccountTypes::Named,
    admin_rule: AdminRule::AccountType("admin"),
    // Sigma names its account types' permissions (`GET
    // /v2/accountTypes/{id}/permissions`, e.g. `view-worksheet`) but
    // publishes no list of them, nor which are administrative: the OpenAPI
    // marks every account-type, member and user-attribute write "must use
    // credentials owned by a user assigned the Admin account type". What
    // only the built-in Admin type may do (and no built-in Creator, Viewer,
    // Pro... may) is what makes an administrator, so a custom type holding
    // any such permission is an admin's, whatever the permission's name
    // (a look-alike name cannot hide it).
    admin_permissions: AdminPermissions::HeldOnlyByAdminType,
    builtin_groups: &[],
    implicit_group: None,
    // Teams are matched by name ignoring case and surrounding spaces; the
    // API itself addresses them by ID.
    names: NameRule::Trimmed,
    addressing: Addressing::ById,
    people: People {
        kinds: true,
        group_admins: true,
    },
    nouns: Nouns {
        users: "members",
        groups: "teams",
        group_rule: "team names compare ignoring case and surrounding spaces, after Unicode NFC",
    },
    attrs: crate::provider::capabilities::Attrs {
        user_attributes: true,
        custom_account_types: true,
        workspaces: true,
    },
};

/// A Sigma organisation's API client credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: Secret,
    pub client_secret: Secret,
}

pub type Client = SigmaClient;

impl SiteClient for SigmaClient {
    type Credentials = Credentials;

    fn connect(
        site: &Site,
        credentials: Credentials,
        base: &url::Url,
        pacing: Pacing,
    ) -> Result<Self, ProviderError> {
        SigmaClient::new(
            site,
            credentials.client_id,
            credentials.client_secret,
            base,
            pacing,
        )
    }

    async fn fetch_live(&self) -> Result<LiveSite, ProviderError> {
        self.fetch().await
    }

    fn pacer(&self) -> &crate::provider::retry::Pacer {
        SigmaClient::pacer(self)
    }

    fn write_requests(&self, changes: &[Change]) -> u64 {
        write::requests_for(changes)
    }

    /// Reads the documents and schedules of each member the plan
    /// deactivates; only those members are read.
    async fn deactivation_context(&self, changes: &mut [Change]) -> Result<(), ProviderError> {
        let wanted: Vec<(usize, String)> = changes
            .iter()
            .enumerate()
            .filter_map(|(i, change)| match change {
                Change::DeactivateUser { id: Some(id), .. } => Some((i, id.clone())),
                _ => None,
            })
            .collect();
        let read = run_all(wanted.iter().map(|(_, id)| self.owned(id)), 8).await;
        for ((i, _), owned) in wanted.into_iter().zip(read) {
            if let Change::DeactivateUser { owns, .. } = &mut changes[i] {
                *owns = Some(owned?);
            }
        }
        Ok(())
    }

    /// Sigma has no test mode: `step.mode` is never `TestMode` here (a dry
    /// run sends nothing).
    async fn apply_changes(&self, step: Step<'_>) -> Vec<Result<(), ProviderError>> {
        self.apply_step(step.changes, step.concurrency, step.gate, step.ids)
            .await
    }
}
