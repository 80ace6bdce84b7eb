//! A SCIM service's settings: `base_url` (the SCIM root) and `token` (a
//! bearer token, read from the environment or a command, never inline);
//! their checks and credentials. `unmanaged_users` (`"deactivate"`, the
//! default, `"delete"` or `"keep"`) is the generic setting.

use serde::Serialize;
use toml::Spanned;

use super::Credentials;
use crate::model::{SecretSource, Site};
use crate::provider::ProviderSettings;
use crate::provider::site_keys::site_keys;
use crate::sandbox::{SANDBOX_SCIM_TOKEN, ScimService};
use crate::secret::Secret;
use crate::state::{SecretRef, SiteCheck};

site_keys! {
    /// The keys of a site table only SCIM sites have, as written.
    pub struct Keys {
        /// SCIM: where the bearer token comes from.
        #[schemars(with = "Option<SecretRef>")]
        token: Option<Spanned<SecretRef>> = listed 31, connection 8;
    }
}

/// What one site table of SCIM's declares, for the JSON Schema.
pub const ONE_SITE: &str = "one SCIM service";

/// What only SCIM sites have.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Where the bearer token comes from.
    pub token_from: SecretSource,
}

/// Checks a SCIM site's own keys.
pub(crate) fn check(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Settings {
    Settings {
        token_from: c.secret(&spec.token, "token", "SCIM_TOKEN"),
    }
}

/// `base_url`, the SCIM root: required (a SCIM service has no default host).
pub(crate) fn base_url(c: &mut SiteCheck<'_, '_>, _: &Keys) -> Option<url::Url> {
    match &c.spec().base_url {
        Some(raw) => c.base_url(raw),
        None => {
            c.missing("base_url", "\"https://example.com/scim/v2\"");
            None
        }
    }
}

impl ProviderSettings for Settings {
    type Credentials = Credentials;

    fn credentials(&self, read: &mut dyn FnMut(&SecretSource) -> Secret) -> Credentials {
        Credentials {
            token: read(&self.token_from),
            token_from: self.token_from.to_string(),
            sandbox_service: None,
        }
    }

    /// The token's source is a connection setting, taken from `trusted`.
    fn with_connection_of(&self, trusted: &Self) -> Self {
        Settings {
            token_from: trusted.token_from.clone(),
        }
    }

    /// Where the token comes from: one address may serve several tenants,
    /// each known by its token (a service whose address names the tenant
    /// is told apart by its address already).
    fn identity(&self) -> String {
        format!("token from {}", self.token_from)
    }

    /// The service named like the site, with the fixed test token.
    fn sandbox_credentials(&self, site: &Site) -> Credentials {
        Credentials {
            token: Secret::new(SANDBOX_SCIM_TOKEN),
            token_from: "the sandbox's test token".into(),
            sandbox_service: Some(site.name.clone()),
        }
    }

    fn provision(&self, data: &mut crate::sandbox::SandboxData, site: &Site) -> Credentials {
        let service = data.scim.entry(site.name.clone()).or_insert_with(|| {
            crate::progress::notice(&format!("note: the sandbox has no SCIM service `{}`; starting an empty one",
                site.name));
            ScimService::new(SANDBOX_SCIM_TOKEN)
        });
        Credentials {
            token: Secret::new(&service.token),
            token_from: "the sandbox's test token".into(),
            sandbox_service: Some(site.name.clone()),
        }
    }
}
