//! A Sigma organisation's settings: `cloud` or `base_url`, `client_id` and
//! `client_secret`, where a deactivated member's documents go, and the
//! organisation's policy; their checks and credentials.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Credentials, regions};
use crate::model::{Handover, SecretSource, SigmaOrgPolicy, Site, SiteConfig, Unmanaged};
use crate::provider::ProviderSettings;
use crate::provider::site_keys::site_keys;
use crate::sandbox::{SANDBOX_SIGMA_SECRET, SigmaOrg};
use crate::secret::Secret;
use crate::state::{SecretRef, SiteCheck, is_valid_email};

site_keys! {
    /// The keys of a site table only Sigma sites have, as written.
    pub struct Keys {
        /// Sigma: the cloud and region, instead of base_url.
        #[schemars(with = "Option<String>")]
        cloud: Option<Spanned<String>> = listed 6, connection 4;
        /// Sigma: where the API client ID comes from.
        #[schemars(with = "Option<SecretRef>")]
        client_id: Option<Spanned<SecretRef>> = listed 7, connection 6;
        /// Sigma: where the API client secret comes from.
        #[schemars(with = "Option<SecretRef>")]
        client_secret: Option<Spanned<SecretRef>> = listed 8, connection 7;
        /// Sigma: who receives a deactivated member's documents.
        #[schemars(with = "Option<String>", extend("format" = "email"))]
        new_owner: Option<Spanned<String>> = listed 9;
        /// Sigma: archive a deactivated member's documents instead.
        #[schemars(with = "Option<bool>")]
        archive_documents: Option<Spanned<bool>> = listed 10;
        /// Sigma: `"scim"` when SCIM owns the members and team memberships.
        #[schemars(with = "Option<Provisioning>")]
        provisioning: Option<Spanned<String>> = listed 22;
        /// Sigma: what to do with undeclared guests (default "keep").
        #[schemars(with = "Option<Unmanaged>")]
        unmanaged_guests: Option<Spanned<Unmanaged>> = listed 23;
        /// Sigma: whether new members get an invitation email (default true).
        #[schemars(with = "Option<bool>")]
        send_invites: Option<Spanned<bool>> = listed 24;
        /// Sigma: archive a deactivated member's scheduled exports.
        #[schemars(with = "Option<bool>")]
        archive_scheduled_exports: Option<Spanned<bool>> = listed 25;
        /// Sigma: revoke a deactivated member's OAuth tokens (default true).
        #[schemars(with = "Option<bool>")]
        revoke_tokens_on_deactivation: Option<Spanned<bool>> = listed 26;
        /// Sigma: what to do with undeclared workspaces: "keep" (default) or "delete".
        #[schemars(with = "Option<UnmanagedWorkspaces>")]
        unmanaged_workspaces: Option<Spanned<UnmanagedWorkspaces>> = listed 27;
        /// Sigma: what to do with undeclared grants on declared workspaces and connections (default "remove").
        #[schemars(with = "Option<Unmanaged>")]
        unmanaged_grants: Option<Spanned<Unmanaged>> = listed 28;
        /// Sigma: what to do with user attributes the state does not declare (default "keep").
        #[schemars(with = "Option<Unmanaged>")]
        unmanaged_attributes: Option<Spanned<Unmanaged>> = listed 34;
        /// Sigma: what to do with custom account types the state does not declare (default "keep").
        #[schemars(with = "Option<Unmanaged>")]
        unmanaged_account_types: Option<Spanned<Unmanaged>> = listed 35;
        /// Sigma: acknowledges a plan that deletes up to this many account types.
        #[schemars(with = "Option<u32>")]
        allow_account_type_deletions: Option<Spanned<u32>> = listed 36;
    }
}

/// What one site table of Sigma's declares, for the JSON Schema.
pub const ONE_SITE: &str = "one Sigma organisation";

/// What to do with undeclared workspaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnmanagedWorkspaces {
    Keep,
    Delete,
}

// How members are provisioned, as `provisioning` says (no description:
// the key's own describes it).
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Provisioning {
    Api,
    Scim,
}

/// What only Sigma sites have.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub client_id_from: SecretSource,
    pub client_secret_from: SecretSource,
    pub handover: Handover,
    pub org: SigmaOrgPolicy,
}

/// Checks a Sigma site's own keys.
pub(crate) fn check(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Settings {
    let client_id_from = c.secret(&spec.client_id, "client_id", "CLIENT_ID");
    let client_secret_from = c.secret(&spec.client_secret, "client_secret", "CLIENT_SECRET");
    Settings {
        client_id_from,
        client_secret_from,
        handover: handover(c, spec),
        org: org_policy(c, spec),
    }
}

/// `new_owner` or `archive_documents`: where a deactivated member's
/// documents go.
fn handover(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Handover {
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
fn org_policy(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> SigmaOrgPolicy {
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
        unmanaged_guests: unmanaged_guests(c, spec),
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
                Some(UnmanagedWorkspaces::Delete) => Unmanaged::Remove,
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
fn unmanaged_guests(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Unmanaged {
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
pub(crate) fn base_url(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Option<url::Url> {
    let name = c.name();
    match (&c.spec().base_url, &spec.cloud) {
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

impl SiteConfig {
    /// The organisation policy of a Sigma site.
    pub fn sigma_org(&self) -> Option<&SigmaOrgPolicy> {
        if let SiteConfig::Sigma(s) = self {
            Some(&s.org)
        } else {
            None
        }
    }
}

impl ProviderSettings for Settings {
    type Credentials = Credentials;

    fn handover(&self) -> Handover {
        self.handover.clone()
    }

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
