//! Any SCIM 2.0 service (RFC 7643, RFC 7644): users and groups over a
//! bearer token, with what the service announces in
//! `/ServiceProviderConfig` deciding how writes are sent (PATCH or PUT,
//! `If-Match`, filtered look-ups, cursor or index pagination).
//!
//! No state is left in [`ScimClient`] by a read: [`ScimClient::fetch`]
//! returns the live site with a [`ScimIds`] (the service's capabilities,
//! and each object's id and ETag), and every write takes what it needs
//! from it. Through the registry ([`ScimSite`]), each user's and group's
//! ETag travels with the live state (`LiveUser::version`) into the
//! `SiteIds` apply hands every step, as the ids do; `ScimSite` keeps only
//! the service's capabilities, read once (by the read, or by the first
//! write when no read came first).

mod client;
pub mod settings;
mod site;
mod wire;
mod write;

pub use client::{Capabilities, Members, Paging, ScimClient, ScimIds, ScimOptions, ScimRef, group_key};
pub use settings::Settings;
pub use site::ScimSite;
pub use write::UserEdit;

use crate::provider::capabilities::{
    AccountTypes, Addressing, AdminPermissions, AdminRule, Capabilities as Caps, EmailRename, GroupFields, NameRule,
    Nouns, People, Removal, TestMode,
};
use crate::secret::Secret;

/// SCIM has no object kinds of its own beside people and groups.
pub(crate) use crate::provider::kinds::NoKinds as Kinds;

/// SCIM's checks of the state: what it needs is asked of its capabilities.
pub(crate) const CHECKS: &[crate::state::NamedCheck] = &[];

pub const CAPABILITIES: Caps = Caps {
    name: "scim",
    product: "SCIM",
    // `active = false` by default; DELETE where the site says
    // `unmanaged_users = "delete"`.
    removal: Removal::DeactivateOrDelete,
    test_mode: TestMode::None,
    // A new email is a new `userName` (and primary email) of the same user.
    email_rename: EmailRename::Supported,
    group_fields: GroupFields {
        access: false,
        description: false,
        visibility: false,
    },
    account_types: AccountTypes::None,
    admin_rule: AdminRule::None,
    // SCIM defines no roles, and roster manages none there: what a group
    // means is the application's business, unknown to roster. No change on
    // a SCIM service is privileged (README, "Privileged changes").
    admin_permissions: AdminPermissions::None,
    builtin_groups: &[],
    implicit_group: None,
    // `displayName` is not case-exact (RFC 7643 §4.2): trimmed, NFC,
    // lower-cased, as `group_key` does.
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
    attrs: crate::provider::capabilities::Attrs {
        user_attributes: false,
        custom_account_types: false,
        workspaces: false,
    },
};

/// A SCIM service's bearer token, and where it comes from (for the hint
/// after a refusal).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub token: Secret,
    pub token_from: String,
    /// The sandbox's service this site is served as (`/scim/{name}/v2`
    /// under the sandbox's address), when the site is pointed at one.
    pub sandbox_service: Option<String>,
}

pub type Client = ScimSite;
