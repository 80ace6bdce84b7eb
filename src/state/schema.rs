//! The TOML schema of state files, as serde types. Every entry is deserialized
//! on its own so one bad entry does not hide the problems of the others;
//! `Spanned` keeps the location of every value a later check may point at.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

use crate::model::{Access, Unmanaged, Visibility};

/// `[sites.NAME]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub provider: Spanned<String>,
    /// Periscope: the site slug from dashboard URLs.
    pub site: Option<Spanned<String>>,
    pub api_key: Option<Spanned<SecretRef>>,
    pub invited_by: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    /// Sigma: the cloud and region, instead of base_url.
    pub cloud: Option<Spanned<String>>,
    pub client_id: Option<Spanned<SecretRef>>,
    pub client_secret: Option<Spanned<SecretRef>>,
    /// Sigma: who receives a deactivated member's documents.
    pub new_owner: Option<Spanned<String>>,
    /// Sigma: archive a deactivated member's documents instead.
    pub archive_documents: Option<Spanned<bool>>,
    #[serde(default)]
    pub unmanaged_users: Unmanaged,
    #[serde(default)]
    pub unmanaged_groups: Unmanaged,
}

/// `[[users]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub email: Spanned<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    pub sites: Option<Vec<Spanned<String>>>,
    /// Sigma account type.
    pub member_type: Option<Spanned<String>>,
    pub active: Option<Spanned<bool>>,
    #[serde(default)]
    pub previous_emails: Vec<Spanned<String>>,
}

/// `[[groups]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: Spanned<String>,
    pub access: Option<Access>,
    pub description: Option<Spanned<String>>,
    pub visibility: Option<Spanned<Visibility>>,
    #[serde(default)]
    pub previous_names: Vec<Spanned<String>>,
    pub sites: Option<Vec<Spanned<String>>>,
}

/// The keys an entry may have; checked before deserializing so every unknown
/// key is reported, not just the first.
pub trait Fields {
    const FIELDS: &'static [&'static str];
}

impl Fields for SiteSpec {
    const FIELDS: &'static [&'static str] = &[
        "provider",
        "site",
        "api_key",
        "invited_by",
        "base_url",
        "cloud",
        "client_id",
        "client_secret",
        "new_owner",
        "archive_documents",
        "unmanaged_users",
        "unmanaged_groups",
    ];
}

impl Fields for UserSpec {
    const FIELDS: &'static [&'static str] = &[
        "email",
        "first_name",
        "last_name",
        "groups",
        "sites",
        "member_type",
        "active",
        "previous_emails",
    ];
}

impl Fields for GroupSpec {
    const FIELDS: &'static [&'static str] = &[
        "name",
        "access",
        "description",
        "visibility",
        "previous_names",
        "sites",
    ];
}

/// How a secret is written in a state file. Only a reference to where the
/// secret lives is valid; an inline value is kept apart so loading can reject
/// it without ever echoing it.
#[derive(Debug)]
pub enum SecretRef {
    Env(String),
    Inline,
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a reference such as { env = "VARIABLE" }"#)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Ok(SecretRef::Inline)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut env = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "env" => env = Some(map.next_value::<String>()?),
                        other => return Err(de::Error::unknown_field(other, &["env"])),
                    }
                }
                match env {
                    Some(var) if !var.trim().is_empty() => Ok(SecretRef::Env(var)),
                    Some(_) => Err(de::Error::invalid_value(
                        de::Unexpected::Str(""),
                        &"a non-empty environment variable name",
                    )),
                    None => Err(de::Error::missing_field("env")),
                }
            }
        }

        d.deserialize_any(SecretVisitor)
    }
}
