//! A Superset site's settings, all in this one place: `base_url` (the
//! server's address, required), `username` and `password` (the account
//! roster signs in with, read from the environment or a command, never
//! inline) and `auth_provider` (`"db"`, the default, or `"ldap"`: what the
//! login endpoint is told). `unmanaged_users` and `unmanaged_groups` are
//! the generic settings.

use serde::Serialize;
use toml::Spanned;

use super::Credentials;
use crate::model::{SecretSource, Site};
use crate::provider::ProviderSettings;
use crate::provider::site_keys::site_keys;
use crate::secret::Secret;
use crate::state::{SecretRef, SiteCheck};

site_keys! {
    /// The keys of a site table only Superset sites have, as written.
    pub struct Keys {
        /// Superset: where the username roster signs in with comes from.
        #[schemars(with = "Option<SecretRef>")]
        username: Option<Spanned<SecretRef>> = listed 39, connection 13;
        /// Superset: where its password comes from.
        #[schemars(with = "Option<SecretRef>")]
        password: Option<Spanned<SecretRef>> = listed 40, connection 14;
        /// Superset: how the login checks the password, "db" (default) or "ldap".
        #[schemars(with = "Option<String>")]
        auth_provider: Option<Spanned<String>> = listed 41;
    }
}

/// What one site table of Superset's declares, for the JSON Schema.
pub const ONE_SITE: &str = "one Superset server";

/// How Superset checks the password at `POST /api/v1/security/login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthProvider {
    /// Superset's own user database.
    Db,
    /// The LDAP server Superset is configured with.
    Ldap,
}

impl AuthProvider {
    /// The name the login endpoint takes.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthProvider::Db => "db",
            AuthProvider::Ldap => "ldap",
        }
    }

    fn parse(raw: &str) -> Option<AuthProvider> {
        match raw.trim() {
            "db" => Some(AuthProvider::Db),
            "ldap" => Some(AuthProvider::Ldap),
            _ => None,
        }
    }
}

/// What only Superset sites have.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Where the username roster signs in with comes from.
    pub username_from: SecretSource,
    /// Where its password comes from.
    pub password_from: SecretSource,
    pub auth_provider: AuthProvider,
}

/// Checks a Superset site's own keys.
pub(crate) fn check(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> Settings {
    Settings {
        username_from: c.secret(&spec.username, "username", "SUPERSET_USERNAME"),
        password_from: c.secret(&spec.password, "password", "SUPERSET_PASSWORD"),
        auth_provider: auth_provider(c, spec),
    }
}

/// `auth_provider`: `"db"` unless the site says `"ldap"`.
fn auth_provider(c: &mut SiteCheck<'_, '_>, spec: &Keys) -> AuthProvider {
    let Some(raw) = &spec.auth_provider else {
        return AuthProvider::Db;
    };
    if let Some(p) = AuthProvider::parse(raw.get_ref()) {
        return p;
    }
    let name = c.name();
    c.error(
        raw.span(),
        format!(
            "site `{name}`: auth_provider `{}` is not one Superset's login takes",
            raw.get_ref()
        ),
        Some("write auth_provider = \"db\" (Superset's own accounts, the default) or \"ldap\"".into()),
    );
    AuthProvider::Db
}

/// `base_url`, the server's address: required (Superset has no one host).
pub(crate) fn base_url(c: &mut SiteCheck<'_, '_>, _: &Keys) -> Option<url::Url> {
    match &c.spec().base_url {
        Some(raw) => c.base_url(raw),
        None => {
            c.missing("base_url", "\"https://superset.example.com\"");
            None
        }
    }
}

impl ProviderSettings for Settings {
    type Credentials = Credentials;

    fn credentials(&self, read: &mut dyn FnMut(&SecretSource) -> Secret) -> Credentials {
        Credentials::Login {
            username: read(&self.username_from),
            password: read(&self.password_from),
            password_from: self.password_from.to_string(),
            auth_provider: self.auth_provider,
        }
    }

    /// The credential sources are connection settings, taken from
    /// `trusted`; `auth_provider` only says how Superset checks them, and
    /// is the state's.
    fn with_connection_of(&self, trusted: &Self) -> Self {
        Settings {
            username_from: trusted.username_from.clone(),
            password_from: trusted.password_from.clone(),
            auth_provider: self.auth_provider,
        }
    }

    /// One server per address, whoever signs in to it.
    fn identity(&self) -> String {
        "one Superset server per address".into()
    }

    /// None: roster has no Superset emulator (tests use a real server).
    fn sandbox_credentials(&self, _site: &Site) -> Credentials {
        Credentials::NoSandbox
    }

    /// None: roster has no Superset emulator (tests use a real server).
    fn provision(&self, _data: &mut crate::sandbox::SandboxData, _site: &Site) -> Credentials {
        Credentials::NoSandbox
    }
}
