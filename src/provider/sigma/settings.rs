//! A Sigma organisation's settings: `cloud` or `base_url`, `client_id` and
//! `client_secret`, where a deactivated member's documents go, and the
//! organisation's policy; their checks and credentials.

use serde::Serialize;
use toml::Spanned;

use super::{Credentials, regions};
use crate::model::{Handover, SecretSource, SigmaOrgPolicy, Site, Unmanaged};
use crate::provider::ProviderSettings;
use crate::sandbox::{SANDBOX_SIGMA_SECRET, SigmaOrg};
use crate::secret::Secret;
use crate::state::{SiteCheck, is_valid_email};

/// The keys of a site table only Sigma sites have.
pub const KEYS: &[&str] = &[
    "cloud",
    "client_id",
    "client_secret",
    "new_owner",
    "archive_documents",
    "provisioning",
    "unmanaged_guests",
    "send_invites",
    "archive_scheduled_exports",
    "revoke_tokens_on_deactivation",
    "unmanaged_workspaces",
    "unmanaged_grants",
    "unmanaged_attributes",
    "unmanaged_account_types",
    "allow_account_type_deletions",
];

/// What only Sigma sites have.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub client_id_from: SecretSource,
    pub client_secret_from: SecretSource,
    pub handover: Handover,
    pub org: SigmaOrgPolicy,
}

/// Checks a Sigma site's own keys.
pub(crate) fn check(c: &mut SiteCheck<'_, '_>) -> Settings {
    let spec = c.spec();
    let client_id_from = c.secret(&spec.client_id, "client_id", "CLIENT_ID");
    let client_secret_from = c.secret(&spec.client_secret, "client_secret", "CLIENT_SECRET");
    Settings {
        client_id_from,
        client_secret_from,
        handover: handover(c),
        org: org_policy(c),
    }
}

/// `new_owner` or `archive_documents`: where a deactivated member's
/// documents go.
fn handover(c: &mut SiteCheck<'_, '_>) -> Handover {
    let spec = c.spec();
    let name = c.name();
    let archive = spec
        .archive_documents
        .as_ref()
        .is_some_and(|a| *a.get_ref());
    match (&spec.new_owner, archive) {
        (Some(owner), true) => {
            c.error(
                owner.span(),
                format!("site `{name}`: new_owner and archive_documents = true cannot both be set"),
                Some("keep one: documents either go to new_owner or are archived".into()),
            );
            Handover::Archive
        }
        (Some(owner), false) if !is_valid_email(owner.get_ref().trim()) => {
            c.error(
                owner.span(),
                format!(
                    "site `{name}`: new_owner `{}` is not a valid email address",
                    owner.get_ref()
                ),
                Some("use the email of an active member who should receive the documents".into()),
            );
            Handover::CredentialsOwner
        }
        (Some(owner), false) => Handover::NewOwner(owner.get_ref().trim().to_string()),
        (None, true) => Handover::Archive,
        (None, false) => Handover::CredentialsOwner,
    }
}

/// The organisation's settings.
fn org_policy(c: &mut SiteCheck<'_, '_>) -> SigmaOrgPolicy {
    let spec = c.spec();
    let name = c.name();
    let scim = match &spec.provisioning {
        None => false,
        Some(p) => match p.get_ref().trim() {
            "scim" => true,
            "api" => false,
            other => {
                c.error(
                    p.span(),
                    format!("site `{name}`: unknown provisioning `{other}`"),
                    Some("use provisioning = \"scim\" when SCIM provisions the members, or leave it out".into()),
                );
                false
            }
        },
    };
    let flag =
        |f: &Option<Spanned<bool>>, default: bool| f.as_ref().map_or(default, |v| *v.get_ref());
    SigmaOrgPolicy {
        scim,
        unmanaged_guests: unmanaged_guests(c),
        send_invites: flag(&spec.send_invites, true),
        archive_scheduled_exports: flag(&spec.archive_scheduled_exports, false),
        revoke_tokens_on_deactivation: flag(&spec.revoke_tokens_on_deactivation, true),
        unmanaged_attributes: keep_by_default(&spec.unmanaged_attributes),
        unmanaged_account_types: keep_by_default(&spec.unmanaged_account_types),
        allow_account_type_deletions: spec
            .allow_account_type_deletions
            .as_ref()
            .map(|a| *a.get_ref() as usize),
        attrs_read: false,
        access: crate::model::access::AccessPolicy {
            unmanaged_workspaces: match spec.unmanaged_workspaces.as_ref().map(|u| *u.get_ref()) {
                Some(crate::state::UnmanagedWorkspaces::Delete) => Unmanaged::Remove,
                _ => Unmanaged::Keep,
            },
            unmanaged_grants: spec
                .unmanaged_grants
                .as_ref()
                .map_or(Unmanaged::Remove, |u| *u.get_ref()),
            read: false,
        },
    }
}

/// `unmanaged_guests`: `"keep"` (the default) or `"deactivate"`; Sigma
/// cannot delete members.
fn unmanaged_guests(c: &mut SiteCheck<'_, '_>) -> Unmanaged {
    let spec = c.spec();
    match &spec.unmanaged_guests {
        None => Unmanaged::Keep,
        Some(u) if *u.get_ref() == Unmanaged::Delete => {
            let name = c.name();
            c.error(
                u.span(),
                format!("site `{name}`: unmanaged_guests = \"delete\" is not possible: Sigma members can only be deactivated"),
                Some("use unmanaged_guests = \"deactivate\" or \"keep\" (the default)".into()),
            );
            Unmanaged::Keep
        }
        Some(u) => *u.get_ref(),
    }
}

/// An `unmanaged_*` setting whose default is "keep".
fn keep_by_default(setting: &Option<Spanned<Unmanaged>>) -> Unmanaged {
    setting.as_ref().map_or(Unmanaged::Keep, |u| *u.get_ref())
}

/// `cloud` (a region's host) or `base_url`, exactly one of them.
pub(crate) fn base_url(c: &mut SiteCheck<'_, '_>) -> Option<url::Url> {
    let spec = c.spec();
    let name = c.name();
    match (&spec.base_url, &spec.cloud) {
        (Some(raw), None) => c.base_url(raw),
        (None, Some(cloud)) => match regions::base_url(cloud.get_ref()) {
            Some(url) => Some(url::Url::parse(url).expect("region URLs are valid")),
            None => {
                c.error(
                    cloud.span(),
                    format!("site `{name}`: unknown cloud `{}`", cloud.get_ref()),
                    Some(format!(
                        "use one of: {}; or set base_url instead",
                        regions::names()
                    )),
                );
                None
            }
        },
        (Some(raw), Some(_)) => {
            c.error(
                raw.span(),
                format!("site `{name}`: set either cloud or base_url, not both"),
                Some("keep cloud for a Sigma region, or base_url for any other host".into()),
            );
            None
        }
        (None, None) => {
            c.missing("cloud", "\"aws-us-west\" (or base_url = \"https://...\")");
            None
        }
    }
}

impl ProviderSettings for Settings {
    type Credentials = Credentials;

    fn credentials(&self, read: &mut dyn FnMut(&SecretSource) -> Secret) -> Credentials {
        Credentials {
            client_id: read(&self.client_id_from),
            client_secret: read(&self.client_secret_from),
        }
    }

    /// Where documents go and the organisation's policy are kept from the
    /// state; the credential sources are connection settings.
    fn with_connection_of(&self, trusted: &Self) -> Self {
        Settings {
            client_id_from: trusted.client_id_from.clone(),
            client_secret_from: trusted.client_secret_from.clone(),
            handover: self.handover.clone(),
            org: self.org.clone(),
        }
    }

    /// Where the client ID comes from: every organisation of a cloud
    /// shares its address, and the client credentials say which one.
    fn identity(&self) -> String {
        format!("client_id from {}", self.client_id_from)
    }

    /// The organisation named like the site, with the fixed secret.
    fn sandbox_credentials(&self, site: &Site) -> Credentials {
        Credentials {
            client_id: Secret::new(&site.name),
            client_secret: Secret::new(SANDBOX_SIGMA_SECRET),
        }
    }

    fn provision(&self, data: &mut crate::sandbox::SandboxData, site: &Site) -> Credentials {
        let org = data.sigma.entry(site.name.clone()).or_insert_with(|| {
            let admin = match &self.handover {
                Handover::NewOwner(owner) => owner.clone(),
                _ => format!("admin@{}.example", site.name),
            };
            crate::progress::notice(&format!("note: the sandbox has no Sigma organisation `{}`; starting one with only {admin} in it",
                site.name));
            SigmaOrg::new(&site.name, SANDBOX_SIGMA_SECRET, &admin)
        });
        Credentials {
            client_id: Secret::new(&org.client_id),
            client_secret: Secret::new(&org.client_secret),
        }
    }
}
