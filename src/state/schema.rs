//! The TOML schema of state files, as serde types. Every entry is deserialized
//! on its own so one bad entry does not hide the problems of the others;
//! `Spanned` keeps the location of every value a later check may point at.

use std::fmt;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

pub use super::insight::GroupRef;
use crate::model::{Access, Unmanaged, Visibility};

// Only used to describe the files as a JSON Schema; loading reads each
// entry on its own.
/// A state file: any of `[sites.NAME]` tables, `[[users]]` and `[[groups]]`.
#[derive(JsonSchema)]
#[schemars(title = "roster state file", deny_unknown_fields)]
#[allow(dead_code)]
pub struct StateFile {
    /// The sites this repository manages, by the name the state uses.
    sites: Option<BTreeMap<String, SiteSpec>>,
    /// People, each declared once.
    users: Option<Vec<UserSpec>>,
    /// Groups (Periscope) and teams (Sigma).
    groups: Option<Vec<GroupSpec>>,
    /// Sigma workspaces and their grants.
    workspaces: Option<Vec<super::access::WorkspaceSpec>>,
    /// Grants on existing Sigma connections.
    connections: Option<Vec<super::access::ConnectionSpec>>,
    /// Sigma user attributes (row-level security).
    user_attributes: Option<Vec<super::attr_schema::AttributeSpec>>,
    /// Sigma custom account types.
    account_types: Option<Vec<super::attr_schema::AccountTypeSpec>>,
    /// Settings for every site (a site's own setting wins).
    settings: Option<SettingsSpec>,
}

/// `[settings]`: defaults for every site, in at most one file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsSpec {
    /// How many days ahead expiring access is noted, where a site does not say (default 14).
    #[schemars(with = "Option<u32>", range(min = 0, max = 366))]
    pub expiry_notice_days: Option<Spanned<i64>>,
}

impl Fields for SettingsSpec {
    const FIELDS: &'static [&'static str] = &["expiry_notice_days"];
}

/// `[sites.NAME]`: one Periscope site, one Sigma organisation or one SCIM service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// `periscope`, `sigma` or `scim`.
    #[schemars(with = "Provider")]
    pub provider: Spanned<String>,
    /// Periscope: the site slug from dashboard URLs.
    #[schemars(with = "Option<String>")]
    pub site: Option<Spanned<String>>,
    /// Periscope: where the API key comes from.
    #[schemars(with = "Option<SecretRef>")]
    pub api_key: Option<Spanned<SecretRef>>,
    /// Periscope: the administrator shown as the inviter of new users.
    #[schemars(with = "Option<String>", extend("format" = "email"))]
    pub invited_by: Option<Spanned<String>>,
    /// The API's base URL: https://, or http:// to loopback only.
    #[schemars(with = "Option<String>")]
    pub base_url: Option<Spanned<String>>,
    /// Sigma: the cloud and region, instead of base_url.
    #[schemars(with = "Option<String>")]
    pub cloud: Option<Spanned<String>>,
    /// Sigma: where the API client ID comes from.
    #[schemars(with = "Option<SecretRef>")]
    pub client_id: Option<Spanned<SecretRef>>,
    /// Sigma: where the API client secret comes from.
    #[schemars(with = "Option<SecretRef>")]
    pub client_secret: Option<Spanned<SecretRef>>,
    /// Sigma: who receives a deactivated member's documents.
    #[schemars(with = "Option<String>", extend("format" = "email"))]
    pub new_owner: Option<Spanned<String>>,
    /// Sigma: archive a deactivated member's documents instead.
    #[schemars(with = "Option<bool>")]
    pub archive_documents: Option<Spanned<bool>>,
    /// The most requests per second roster sends the site.
    pub max_requests_per_second: Option<f64>,
    /// Seconds one request keeps trying while the site answers 429 (default 60).
    #[schemars(with = "Option<i64>", range(min = 2, max = 3600))]
    pub patience_seconds: Option<Spanned<i64>>,
    /// The most bytes one answer of the site may hold (default 67108864, 64 MiB).
    #[schemars(with = "Option<i64>", range(min = 1024, max = 4_294_967_296_i64))]
    pub max_response_bytes: Option<Spanned<i64>>,
    /// Seconds roster may spend reading the site, and again writing to it (default 7200).
    #[schemars(with = "Option<i64>", range(min = 1, max = 86400))]
    pub deadline_seconds: Option<Spanned<i64>>,
    /// People never removed, deactivated or demoted on this site.
    #[schemars(with = "Option<Vec<String>>")]
    pub protected: Option<Vec<Spanned<String>>>,
    /// The fewest administrators a plan may leave the site with (default 1).
    pub min_admins: Option<u32>,
    /// Acknowledges a plan that removes (deletes or deactivates) up to this many users.
    pub allow_removals: Option<u32>,
    /// Acknowledges a plan that deletes up to this many groups.
    pub allow_group_deletions: Option<u32>,
    /// Acknowledges a plan that removes up to this many group memberships.
    pub allow_membership_removals: Option<u32>,
    /// Acknowledges a plan that removes or demotes up to this many administrators.
    pub allow_admin_changes: Option<u32>,
    /// Acknowledges a plan that gives these people (by email, once the plan
    /// ran) admin power or an administrator's account.
    #[schemars(with = "Option<Vec<String>>")]
    pub allow_privileged: Option<Vec<Spanned<String>>>,
    /// What to do with live users the state does not declare.
    #[serde(default)]
    pub unmanaged_users: Unmanaged,
    /// What to do with live groups the state does not declare.
    #[serde(default)]
    pub unmanaged_groups: Unmanaged,
    /// Sigma: `"scim"` when SCIM owns the members and team memberships.
    #[schemars(with = "Option<Provisioning>")]
    pub provisioning: Option<Spanned<String>>,
    /// Sigma: what to do with undeclared guests (default "keep").
    #[schemars(with = "Option<Unmanaged>")]
    pub unmanaged_guests: Option<Spanned<Unmanaged>>,
    /// Sigma: whether new members get an invitation email (default true).
    #[schemars(with = "Option<bool>")]
    pub send_invites: Option<Spanned<bool>>,
    /// Sigma: archive a deactivated member's scheduled exports.
    #[schemars(with = "Option<bool>")]
    pub archive_scheduled_exports: Option<Spanned<bool>>,
    /// Sigma: revoke a deactivated member's OAuth tokens (default true).
    #[schemars(with = "Option<bool>")]
    pub revoke_tokens_on_deactivation: Option<Spanned<bool>>,
    /// Sigma: what to do with undeclared workspaces: "keep" (default) or "delete".
    #[schemars(with = "Option<UnmanagedWorkspaces>")]
    pub unmanaged_workspaces: Option<Spanned<UnmanagedWorkspaces>>,
    /// Sigma: what to do with undeclared grants on declared workspaces and connections (default "remove").
    #[schemars(with = "Option<Unmanaged>")]
    pub unmanaged_grants: Option<Spanned<Unmanaged>>,
    /// Acknowledges a plan that deletes up to this many workspaces.
    pub allow_workspace_deletions: Option<u32>,
    /// Acknowledges a plan that revokes up to this many grants.
    pub allow_grant_removals: Option<u32>,
    /// SCIM: where the bearer token comes from.
    #[schemars(with = "Option<SecretRef>")]
    pub token: Option<Spanned<SecretRef>>,
    /// Seat budget: the most people of each account type (Sigma) or access
    /// level (Periscope) the site may have after a plan.
    #[schemars(with = "Option<BTreeMap<String, u64>>")]
    pub seats: Option<Spanned<BTreeMap<Spanned<String>, Spanned<i64>>>>,
    /// How many days ahead the plan notes access that expires (default 14).
    #[schemars(with = "Option<u32>", range(max = 366))]
    pub expiry_notice_days: Option<Spanned<i64>>,
    /// Sigma: what to do with user attributes the state does not declare (default "keep").
    #[schemars(with = "Option<Unmanaged>")]
    pub unmanaged_attributes: Option<Spanned<Unmanaged>>,
    /// Sigma: what to do with custom account types the state does not declare (default "keep").
    #[schemars(with = "Option<Unmanaged>")]
    pub unmanaged_account_types: Option<Spanned<Unmanaged>>,
    /// Sigma: acknowledges a plan that deletes up to this many account types.
    #[schemars(with = "Option<u32>")]
    pub allow_account_type_deletions: Option<Spanned<u32>>,
}

/// What to do with undeclared workspaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnmanagedWorkspaces {
    Keep,
    Delete,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Provisioning {
    Api,
    Scim,
}

/// The platforms roster manages: every registered provider's name.
struct Provider;

impl JsonSchema for Provider {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Provider".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = crate::model::ProviderKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        schemars::json_schema!({
            "description": "The platforms roster manages.",
            "type": "string",
            "enum": names,
        })
    }
}

/// `[[users]]`: one person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// The address the person signs in with; compared ignoring case.
    #[schemars(with = "String", extend("format" = "email"))]
    pub email: Spanned<String>,
    #[schemars(with = "String")]
    pub first_name: Spanned<String>,
    #[schemars(with = "String")]
    pub last_name: Spanned<String>,
    /// Groups (Periscope) or teams (Sigma) the person is in; a membership
    /// that ends is written `{ name = "Contractors", expires = 2026-12-31 }`.
    #[serde(default)]
    pub groups: Vec<GroupRef>,
    /// The sites the person is on; default: every site.
    #[schemars(with = "Option<Vec<String>>")]
    pub sites: Option<Vec<Spanned<String>>>,
    /// Sigma account type, matched ignoring case.
    #[schemars(with = "Option<String>")]
    pub member_type: Option<Spanned<String>>,
    /// false: keep the account, deactivated (Sigma).
    #[schemars(with = "Option<bool>")]
    pub active: Option<Spanned<bool>>,
    /// Earlier addresses: a live user found by one is renamed.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub previous_emails: Vec<Spanned<String>>,
    /// Per site: groups and account type there, instead of the ones above.
    pub overrides: Option<BTreeMap<String, OverrideSpec>>,
    /// Sigma: `"guest"` creates the person as a guest.
    #[schemars(with = "Option<PersonKind>")]
    pub kind: Option<Spanned<String>>,
    /// The last day of the person's access (a TOML date, 2026-12-31).
    #[schemars(with = "Option<String>", extend("format" = "date"))]
    pub expires: Option<Spanned<toml::value::Datetime>>,
    /// Sigma: the person's user attribute values, by attribute name.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub attributes: Option<super::attr_schema::AttrValues>,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum PersonKind {
    Internal,
    Guest,
}

/// `[users.overrides.SITE]`: what differs for a person on one site.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideSpec {
    /// The first name on that site.
    #[schemars(with = "Option<String>")]
    pub first_name: Option<Spanned<String>>,
    /// The last name on that site.
    #[schemars(with = "Option<String>")]
    pub last_name: Option<Spanned<String>>,
    /// The groups on that site.
    pub groups: Option<Vec<GroupRef>>,
    /// The account type on that site (Sigma).
    #[schemars(with = "Option<String>")]
    pub member_type: Option<Spanned<String>>,
}

/// `[[groups]]`: a Periscope group or a Sigma team.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Periscope access level; required on Periscope sites.
    #[schemars(with = "Option<Access>")]
    pub access: Option<Spanned<Access>>,
    /// Sigma team description.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Sigma team visibility.
    #[schemars(with = "Option<Visibility>")]
    pub visibility: Option<Spanned<Visibility>>,
    /// Earlier names: a live group found by one is renamed.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub previous_names: Vec<Spanned<String>>,
    /// The sites the group is on; default: every site.
    #[schemars(with = "Option<Vec<String>>")]
    pub sites: Option<Vec<Spanned<String>>>,
    /// Sigma: the team's admins (emails of its declared members).
    #[schemars(with = "Option<Vec<String>>")]
    pub admins: Option<Vec<Spanned<String>>>,
    /// Sigma: the team's user attribute values, by attribute name.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub attributes: Option<super::attr_schema::AttrValues>,
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
        "max_requests_per_second",
        "protected",
        "min_admins",
        "allow_removals",
        "allow_group_deletions",
        "allow_membership_removals",
        "allow_admin_changes",
        "allow_privileged",
        "unmanaged_users",
        "unmanaged_groups",
        "patience_seconds",
        "provisioning",
        "unmanaged_guests",
        "send_invites",
        "archive_scheduled_exports",
        "revoke_tokens_on_deactivation",
        "unmanaged_workspaces",
        "unmanaged_grants",
        "allow_workspace_deletions",
        "allow_grant_removals",
        "token",
        "seats",
        "expiry_notice_days",
        "unmanaged_attributes",
        "unmanaged_account_types",
        "allow_account_type_deletions",
        "max_response_bytes",
        "deadline_seconds",
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
        "overrides",
        "kind",
        "expires",
        "attributes",
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
        "admins",
        "attributes",
    ];
}

/// How a secret is written in a state file. Only a reference to where the
/// secret lives is valid; an inline value is kept apart so loading can reject
/// it without ever echoing it.
#[derive(Debug)]
pub enum SecretRef {
    Env(String),
    Command(String),
    Inline,
    /// `env` or `command` given something other than a string (never echoed).
    NotText(&'static str),
}

impl JsonSchema for SecretRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretRef".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Where a secret comes from: an environment variable, or the output of a shell command. Secrets are never written in state files.",
            "type": "object",
            "properties": {
                "env": { "type": "string", "minLength": 1 },
                "command": { "type": "string", "minLength": 1 }
            },
            "oneOf": [{ "required": ["env"] }, { "required": ["command"] }],
            "additionalProperties": false
        })
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a reference such as { env = "VARIABLE" } or { command = "..." }"#)
            }

            // Any value written in place of a reference is an inline
            // secret: it is never echoed, whatever its type.
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Ok(SecretRef::Inline)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretRef, E> {
                Ok(SecretRef::Inline)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretRef, E> {
                Ok(SecretRef::Inline)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretRef, E> {
                Ok(SecretRef::Inline)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretRef, E> {
                Ok(SecretRef::Inline)
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<SecretRef, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(SecretRef::Inline)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = match key.as_str() {
                        "env" => map
                            .next_value::<SecretText>()?
                            .0
                            .map_or(SecretRef::NotText("env"), SecretRef::Env),
                        "command" => map
                            .next_value::<SecretText>()?
                            .0
                            .map_or(SecretRef::NotText("command"), SecretRef::Command),
                        // A date or time written in place of a reference.
                        TOML_DATETIME_KEY => {
                            map.next_value::<de::IgnoredAny>()?;
                            SecretRef::Inline
                        }
                        other => return Err(de::Error::unknown_field(other, &["env", "command"])),
                    };
                    if found.is_some() {
                        return Err(de::Error::custom(
                            "give either `env` or `command`, not both",
                        ));
                    }
                    found = Some(value);
                }
                match found {
                    Some(SecretRef::Env(v) | SecretRef::Command(v)) if v.trim().is_empty() => {
                        Err(de::Error::invalid_value(
                            de::Unexpected::Str(""),
                            &"a non-empty variable name or command",
                        ))
                    }
                    Some(r) => Ok(r),
                    None => Err(de::Error::missing_field("env")),
                }
            }
        }

        d.deserialize_any(SecretVisitor)
    }
}

/// The key toml's deserializer wraps a date or time in.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

/// The text of `env` or `command`, `None` for any other type: the value
/// is never echoed (it may be the secret itself).
struct SecretText(Option<String>);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = SecretText;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretText, E> {
                Ok(SecretText(Some(v.to_string())))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretText, E> {
                Ok(SecretText(None))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretText, E> {
                Ok(SecretText(None))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretText, E> {
                Ok(SecretText(None))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretText, E> {
                Ok(SecretText(None))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<SecretText, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(SecretText(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretText, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(SecretText(None))
            }
        }

        d.deserialize_any(TextVisitor)
    }
}
