//! The TOML schema of state files, as serde types. Every entry is deserialized
//! on its own so one bad entry does not hide the problems of the others;
//! `Spanned` keeps the location of every value a later check may point at.

use std::fmt;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

pub(super) use super::insight::GroupRef;
use crate::model::{Access, ProviderKind, Unmanaged, Visibility};
use crate::provider::ProviderKeys;
use crate::provider::site_keys::{self, Order, SiteKey, site_keys};

// Only used to describe the files as a JSON Schema; loading reads each
// entry on its own.
/// A state file: any of `[sites.NAME]` tables, `[[users]]` and `[[groups]]`.
#[derive(JsonSchema)]
#[schemars(title = "roster state file", deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct StateFile {
    /// The sites this repository manages, by the name the state uses.
    sites: Option<BTreeMap<String, SiteSpec>>,
    /// People, each declared once.
    users: Option<Vec<UserSpec>>,
    /// Groups (Periscope) and teams (Sigma).
    groups: Option<Vec<GroupSpec>>,
    // Each provider's own tables (Sigma's workspaces...).
    #[serde(flatten)]
    kinds: crate::provider::KindTables,
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

site_keys! {
    /// The keys every site table may have, as written.
    pub struct CommonKeys {
        // Required (see `SiteSpec`); described by the registry's names.
        #[schemars(with = "Provider")]
        provider: Option<Spanned<String>> = listed 1, connection 1;
        /// The API's base URL: https://, or http:// to loopback only.
        #[schemars(with = "Option<String>")]
        base_url: Option<Spanned<String>> = listed 5, connection 3 by super::site::compared_url;
        /// The most requests per second roster sends the site.
        max_requests_per_second: Option<f64> = listed 11, connection 9;
        /// People never removed, deactivated or demoted on this site.
        #[schemars(with = "Option<Vec<String>>")]
        protected: Option<Vec<Spanned<String>>> = listed 12;
        /// The fewest administrators a plan may leave the site with (default 1).
        min_admins: Option<u32> = listed 13;
        /// Acknowledges a plan that removes (deletes or deactivates) up to this many users.
        allow_removals: Option<u32> = listed 14;
        /// Acknowledges a plan that deletes up to this many groups.
        allow_group_deletions: Option<u32> = listed 15;
        /// Acknowledges a plan that removes up to this many group memberships.
        allow_membership_removals: Option<u32> = listed 16;
        /// Acknowledges a plan that removes or demotes up to this many administrators.
        allow_admin_changes: Option<u32> = listed 17;
        /// Acknowledges a plan that gives these people (by email, once the plan
        /// ran) admin power or an administrator's account.
        #[schemars(with = "Option<Vec<String>>")]
        allow_privileged: Option<Vec<Spanned<String>>> = listed 18;
        /// What to do with live users the state does not declare.
        #[serde(default)]
        unmanaged_users: Unmanaged = listed 19;
        /// What to do with live groups the state does not declare.
        #[serde(default)]
        unmanaged_groups: Unmanaged = listed 20;
        /// Seconds one request keeps trying while the site answers 429 (default 60).
        #[schemars(with = "Option<i64>", range(min = 2, max = 3600))]
        patience_seconds: Option<Spanned<i64>> = listed 21, connection 10;
        /// Acknowledges a plan that deletes up to this many workspaces.
        allow_workspace_deletions: Option<u32> = listed 29;
        /// Acknowledges a plan that revokes up to this many grants.
        allow_grant_removals: Option<u32> = listed 30;
        /// Seat budget: the most people of each account type (Sigma) or access
        /// level (Periscope) the site may have after a plan.
        #[schemars(with = "Option<BTreeMap<String, u64>>")]
        seats: Option<Spanned<BTreeMap<Spanned<String>, Spanned<i64>>>> = listed 32;
        /// How many days ahead the plan notes access that expires (default 14).
        #[schemars(with = "Option<u32>", range(max = 366))]
        expiry_notice_days: Option<Spanned<i64>> = listed 33;
        /// The most bytes one answer of the site may hold (default 67108864, 64 MiB).
        #[schemars(with = "Option<i64>", range(min = 1024, max = 4_294_967_296_i64))]
        max_response_bytes: Option<Spanned<i64>> = listed 37, connection 11;
        /// Seconds roster may spend reading the site, and again writing to it (default 7200).
        #[schemars(with = "Option<i64>", range(min = 1, max = 86400))]
        deadline_seconds: Option<Spanned<i64>> = listed 38, connection 12;
    }
}

/// `[sites.NAME]`: a site table as written: its provider, the keys every
/// site has, and every provider's own keys (another provider's are read
/// too: the site's checks report them).
#[derive(Debug)]
pub struct SiteSpec {
    pub provider: Spanned<String>,
    pub common: CommonKeys,
    pub providers: ProviderKeys,
}

/// The one key a site table must have.
const PROVIDER_KEY: &str = "provider";

/// The tables that declare site keys: the common keys', then each
/// provider's, in the registry's order.
pub(super) const SITE_KEY_TABLES: [&[SiteKey]; 1 + ProviderKind::ALL.len()] = site_key_tables();

const fn site_key_tables() -> [&'static [SiteKey]; 1 + ProviderKind::ALL.len()] {
    let mut tables = [CommonKeys::KEYS; 1 + ProviderKind::ALL.len()];
    let mut i = 0;
    while i < ProviderKind::ALL.len() {
        tables[i + 1] = ProviderKind::ALL[i].site_keys();
        i += 1;
    }
    tables
}

/// Every site key, in the order messages list them.
const SITE_KEYS: [&str; site_keys::count(&SITE_KEY_TABLES, Order::Listed)] =
    site_keys::names(&SITE_KEY_TABLES, Order::Listed);

impl<'de> Deserialize<'de> for SiteSpec {
    /// Each key's value is read into the field that declares it, in the
    /// order written; the first that cannot be read stops the table.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SiteVisitor;

        impl<'de> Visitor<'de> for SiteVisitor {
            type Value = SiteSpec;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("struct SiteSpec")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SiteSpec, A::Error> {
                let mut common = CommonKeys::default();
                let mut providers = ProviderKeys::default();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value_seed(KeyValue {
                        key: &key,
                        common: &mut common,
                        providers: &mut providers,
                    })?;
                }
                let provider = common
                    .provider
                    .clone()
                    .ok_or_else(|| de::Error::missing_field(PROVIDER_KEY))?;
                Ok(SiteSpec {
                    provider,
                    common,
                    providers,
                })
            }
        }

        d.deserialize_struct("SiteSpec", &SITE_KEYS, SiteVisitor)
    }
}

/// The site keys whose values are emails: those whose JSON Schema has
/// `"format": "email"`.
pub(super) fn site_email_keys() -> &'static [String] {
    static KEYS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let schema = SiteSpec::json_schema(&mut schemars::SchemaGenerator::default());
        let properties = schema
            .get("properties")
            .and_then(serde_json::Value::as_object);
        properties
            .into_iter()
            .flatten()
            .filter(|(_, p)| p.get("format").and_then(serde_json::Value::as_str) == Some("email"))
            .map(|(key, _)| key.clone())
            .collect()
    });
    &KEYS
}

/// The value of one key of a site table, read into the keys that declare it.
struct KeyValue<'k> {
    key: &'k str,
    common: &'k mut CommonKeys,
    providers: &'k mut ProviderKeys,
}

impl<'de> de::DeserializeSeed<'de> for KeyValue<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, value: D) -> Result<(), D::Error> {
        let read = if CommonKeys::KEYS.iter().any(|k| k.name == self.key) {
            self.common.read(self.key, value)?
        } else {
            self.providers.read(self.key, value)?
        };
        if read {
            Ok(())
        } else {
            Err(de::Error::unknown_field(self.key, &SITE_KEYS))
        }
    }
}

impl JsonSchema for SiteSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SiteSpec".into()
    }

    /// The common keys' schema and every provider's, as one table.
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut properties = serde_json::Map::new();
        let parts = std::iter::once(CommonKeys::json_schema(generator))
            .chain(ProviderKeys::json_schemas(generator));
        for part in parts {
            if let Some(serde_json::Value::Object(some)) = part.get("properties") {
                properties.extend(some.clone());
            }
        }
        if let Some(serde_json::Value::Object(provider)) = properties.get_mut(PROVIDER_KEY) {
            provider.insert("description".into(), Provider::names().into());
        }
        schemars::json_schema!({
            "description": format!("`[sites.NAME]`: {}.", ProviderKeys::one_site_of_each()),
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
            "required": [PROVIDER_KEY],
        })
    }
}

/// The platforms roster manages: every registered provider's name.
struct Provider;

impl Provider {
    /// `` `a`, `b` or `c`. ``
    fn names() -> String {
        let names: Vec<String> = ProviderKind::ALL.iter().map(|k| format!("`{k}`")).collect();
        format!("{}.", site_keys::or_list(&names))
    }
}

impl JsonSchema for Provider {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Provider".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
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
    pub attributes: Option<AttrValues>,
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
    pub attributes: Option<AttrValues>,
}

/// An `attributes = { region = "West" }` table: values by attribute name,
/// each with where it is written.
pub(crate) type AttrValues = BTreeMap<Spanned<String>, Spanned<String>>;

/// The keys an entry may have; checked before deserializing so every unknown
/// key is reported, not just the first.
pub(crate) trait Fields {
    const FIELDS: &'static [&'static str];
}

impl Fields for SiteSpec {
    const FIELDS: &'static [&'static str] = &SITE_KEYS;
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

impl site_keys::Compared for Option<Spanned<SecretRef>> {
    /// Where the secret comes from (never the secret: it is never written).
    fn compared(&self) -> (Option<String>, Option<std::ops::Range<usize>>) {
        let value = self.as_ref().map(|s| match s.get_ref() {
            SecretRef::Env(var) => format!("env {}", var.trim()),
            SecretRef::Command(cmd) => format!("command {cmd}"),
            SecretRef::Inline => "inline".to_string(),
            SecretRef::NotText(key) => format!("{key} not a string"),
        });
        (value, self.as_ref().map(Spanned::span))
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

#[cfg(test)]
mod site_table_tests {
    use super::{CommonKeys, Fields, SITE_KEY_TABLES, SiteSpec};
    use crate::model::ProviderKind;

    fn site(text: &str) -> Result<SiteSpec, String> {
        toml::from_str::<SiteSpec>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn every_key_is_declared_once_and_listed() {
        let mut names: Vec<&str> = SITE_KEY_TABLES
            .iter()
            .flat_map(|t| t.iter().map(|k| k.name))
            .collect();
        assert_eq!(names.len(), SiteSpec::FIELDS.len());
        for name in &names {
            assert!(SiteSpec::FIELDS.contains(name), "`{name}` is not listed");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SiteSpec::FIELDS.len(), "a key declared twice");
        for &kind in ProviderKind::ALL {
            for key in kind.site_keys() {
                assert_eq!(ProviderKind::owning(key.name), Some(kind), "{}", key.name);
            }
        }
        for key in CommonKeys::KEYS {
            assert_eq!(ProviderKind::owning(key.name), None, "{}", key.name);
        }
    }

    #[test]
    fn each_value_is_read_into_the_keys_that_declare_it() {
        let spec = site(
            "provider = \"sigma\"\nbase_url = \"https://h\"\ncloud = \"aws-us-west\"\nsite = \"acme\"\nmin_admins = 2\n",
        )
        .unwrap();
        assert_eq!(spec.provider.get_ref(), "sigma");
        assert_eq!(spec.common.provider.as_ref().unwrap().get_ref(), "sigma");
        assert_eq!(spec.common.base_url.unwrap().get_ref(), "https://h");
        assert_eq!(spec.common.min_admins, Some(2));
        let written: Vec<&str> = spec.providers.written().iter().map(|w| w.0).collect();
        assert_eq!(written, ["site", "cloud"]);
    }

    /// A TOML value that `property`'s JSON Schema accepts.
    fn sample(property: &serde_json::Value, defs: &serde_json::Value) -> String {
        let schema = match property["$ref"].as_str() {
            Some(r) => &defs[r.trim_start_matches("#/$defs/")],
            None => property,
        };
        let choices = [&schema["enum"][0], &schema["oneOf"][0]["const"]];
        if let Some(first) = choices.into_iter().find(|c| c.is_string()) {
            return first.to_string();
        }
        match schema["type"].as_str() {
            Some("string") => "\"x@example.com\"".into(),
            Some("boolean") => "true".into(),
            Some("integer") => "1".into(),
            Some("object") => "{ env = \"X\" }".into(),
            other => panic!("no sample of {other:?}"),
        }
    }

    #[test]
    fn every_providers_key_keeps_where_it_is_written() {
        // Another provider's key is reported where it is written.
        let schema: serde_json::Value = serde_json::from_str(&crate::state::json_schema()).unwrap();
        let defs = &schema["$defs"];
        for &kind in ProviderKind::ALL {
            let mut text = format!("provider = \"{kind}\"\n");
            for key in kind.site_keys() {
                let property = &defs["SiteSpec"]["properties"][key.name];
                text += &format!("{} = {}\n", key.name, sample(property, defs));
            }
            let spec = site(&text).unwrap();
            let written: Vec<&str> = spec.providers.written().iter().map(|w| w.0).collect();
            let declared: Vec<&str> = kind.site_keys().iter().map(|k| k.name).collect();
            assert_eq!(written, declared, "{kind}");
        }
    }

    #[test]
    fn the_email_keys_are_those_whose_schema_says_so() {
        assert_eq!(super::site_email_keys(), ["invited_by", "new_owner"]);
    }

    #[test]
    fn the_first_value_written_that_cannot_be_read_is_the_one_reported() {
        let cloud_first = site("provider = \"sigma\"\ncloud = 1\nbase_url = true\n");
        assert_eq!(
            cloud_first.unwrap_err(),
            "invalid type: integer `1`, expected a string"
        );
        let base_url_first = site("provider = \"sigma\"\nbase_url = true\ncloud = 1\n");
        assert_eq!(
            base_url_first.unwrap_err(),
            "invalid type: boolean `true`, expected a string"
        );
        // A missing provider is said once every value was read.
        assert_eq!(
            site("cloud = 1\n").unwrap_err(),
            "invalid type: integer `1`, expected a string"
        );
        assert_eq!(
            site("cloud = \"x\"\n").unwrap_err(),
            "missing field `provider`"
        );
    }
}
