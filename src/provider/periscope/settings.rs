//! A Periscope site's settings: `site` (the slug), `api_key`, `invited_by`,
//! an optional `base_url` and `access_control` (which of Periscope's two
//! APIs the site has); their checks and credentials.

use serde::Serialize;
use toml::Spanned;

use super::Credentials;
use crate::model::{SecretSource, Site};
use crate::provider::ProviderSettings;
use crate::provider::site_keys::site_keys;
use crate::sandbox::{PeriscopeSite, SANDBOX_PERISCOPE_KEY};
use crate::secret::Secret;
use crate::state::{SecretRef, SiteCheck, is_valid_email};

/// Where the API lives unless `base_url` says otherwise.
pub const DEFAULT_URL: &str = "https://app.periscopedata.com";

site_keys! {
    /// The keys of a site table only Periscope sites have, as written.
    pub struct Keys {
        /// Periscope: the site slug from dashboard URLs.
        #[schemars(with = "Option<String>")]
        site: Option<Spanned<String>> = listed 2, connection 2;
        /// Periscope: where the API key comes from.
        #[schemars(with = "Option<SecretRef>")]
        api_key: Option<Spanned<SecretRef>> = listed 3, connection 5;
        /// Periscope: the administrator shown as the inviter of new users.
        #[schemars(with = "Option<String>", extend("format" = "email"))]
        invited_by: Option<Spanned<String>> = listed 4;
        /// Periscope: `"groups"` (default), or `"roles"` for a site with role-based access.
        #[schemars(with = "Option<AccessControl>")]
        access_control: Option<Spanned<String>> = listed 42;
    }
}

/// How a site controls access, declared (`access_control`), never guessed:
/// no source shows how a site of one kind answers the other kind's API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccessControl {
    /// Groups with an access level: the "User and Group Management API".
    #[default]
    Groups,
    /// Role-based access (RBAC): people hold roles, on the "User and Role
    /// Management API".
    Roles,
}

impl AccessControl {
    const ALL: [AccessControl; 2] = [AccessControl::Groups, AccessControl::Roles];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessControl::Groups => "groups",
            AccessControl::Roles => "roles",
        }
    }
}

/// What one site table of Periscope's declares, for the JSON Schema.
pub const ONE_SITE: &str = "one Periscope site";

/// What only Periscope sites have.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The slug in dashboard URLs, sent in the auth header.
    pub slug: String,
    /// Where the API key comes from.
    pub api_key_from: SecretSource,
    /// Shown as the inviter of users roster creates; never removed.
    pub invited_by: String,
    /// Which of Periscope's two APIs the site has.
    pub access_control: AccessControl,
}

/// Checks a Periscope site's own keys.
pub(crate) fn check(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Settings {
    let slug = c.required_text(&spec.site, "site", "\"the-slug-in-your-dashboard-urls\"");
    let api_key_from = c.secret(&spec.api_key, "api_key", "API_KEY");
    let invited_by = match &spec.invited_by {
        Some(e) if is_valid_email(e.get_ref().trim()) => e.get_ref().trim().to_string(),
        Some(e) => {
            let name = c.name();
            c.error(
                e.span(),
                format!(
                    "site `{name}`: invited_by `{}` is not a valid email address",
                    e.get_ref()
                ),
                Some("use the email of an administrator of the site".into()),
            );
            String::new()
        }
        None => {
            c.missing("invited_by", "\"admin@example.com\"");
            String::new()
        }
    };
    Settings {
        slug,
        api_key_from,
        invited_by,
        access_control: access_control(c, spec),
    }
}

/// `access_control`: `"groups"` unless the site says `"roles"`.
fn access_control(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> AccessControl {
    let Some(written) = &spec.access_control else {
        return AccessControl::default();
    };
    let value = written.get_ref().trim();
    let name = c.name();
    match AccessControl::ALL.into_iter().find(|a| a.as_str() == value) {
        Some(AccessControl::Roles) => {
            // The client reads and writes such sites; the state cannot
            // declare people's roles or custom roles yet, and a plan that
            // took the site's roles for groups would take roles away.
            c.error(
                written.span(),
                format!("site `{name}`: a site with role-based access (access_control = \"roles\") cannot be planned yet: the state has no `roles` on people and no `[[roles]]`, and planning its roles as groups would take away roles people hold"),
                Some("leave this site out of the state until roles can be declared".into()),
            );
            AccessControl::Roles
        }
        Some(found) => found,
        None => {
            c.error(
                written.span(),
                format!("site `{name}`: access_control `{}` is not \"groups\" or \"roles\"", written.get_ref()),
                Some("write access_control = \"roles\" for a site with role-based access (RBAC), or leave it out for a site with groups".into()),
            );
            AccessControl::default()
        }
    }
}

/// `base_url`, or Periscope's own address.
pub(crate) fn base_url(c: &mut SiteCheck<'_, '_>, _: &Keys) -> Option<url::Url> {
    match &c.spec().base_url {
        Some(raw) => c.base_url(raw),
        None => Some(url::Url::parse(DEFAULT_URL).expect("the default URL is valid")),
    }
}

impl ProviderSettings for Settings {
    type Credentials = Credentials;

    fn invited_by(&self) -> Option<&str> {
        Some(&self.invited_by)
    }

    fn credentials(&self, read: &mut dyn FnMut(&SecretSource) -> Secret) -> Credentials {
        Credentials {
            api_key: read(&self.api_key_from),
        }
    }

    /// `invited_by` is policy, kept from the state; the rest is connection.
    fn with_connection_of(&self, trusted: &Self) -> Self {
        Settings {
            slug: trusted.slug.clone(),
            api_key_from: trusted.api_key_from.clone(),
            invited_by: self.invited_by.clone(),
            access_control: self.access_control,
        }
    }

    /// The slug: it names the site in every request (the API key only
    /// proves the right to it). Slugs compare ignoring case.
    fn identity(&self) -> String {
        format!("site = \"{}\"", self.slug.to_lowercase())
    }

    /// The fixed Periscope key.
    fn sandbox_credentials(&self, _site: &Site) -> Credentials {
        Credentials {
            api_key: Secret::new(SANDBOX_PERISCOPE_KEY),
        }
    }

    fn provision(&self, data: &mut crate::sandbox::SandboxData, _site: &Site) -> Credentials {
        let Settings {
            slug,
            invited_by,
            access_control,
            ..
        } = self;
        let s = data.periscope.entry(slug.clone()).or_insert_with(|| {
            crate::progress::notice(&format!("note: the sandbox has no Periscope site `{slug}`; starting one with only {invited_by} in it"));
            match access_control {
                AccessControl::Groups => PeriscopeSite::new(SANDBOX_PERISCOPE_KEY, invited_by),
                AccessControl::Roles => {
                    PeriscopeSite::new_role_based(SANDBOX_PERISCOPE_KEY, invited_by)
                }
            }
        });
        Credentials {
            api_key: Secret::new(&s.api_key),
        }
    }
}
