//! User attributes (row-level security) and custom account types: the
//! declared and the live side, provider-neutral in shape (only Sigma has
//! them today). Loading fills [`DesiredAttrs`], the Sigma client fills
//! [`LiveAttrs`], and `plan::attributes` / `plan::account_types` compare them.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// The key two attribute or account type names are matched by: trimmed and
/// lower-cased, as Sigma refuses a second one that differs only so.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    crate::model::fold(name.trim().nfc()).collect()
}

/// `[[user_attributes]]`: one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredAttribute {
    pub name: String,
    pub description: Option<String>,
    pub default: Option<String>,
}

/// `[[account_types]]`: one custom account type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredAccountType {
    pub name: String,
    pub description: String,
    /// Sorted, without repeats.
    pub permissions: Vec<String>,
    /// `file:line:column` of the name, for errors only the live site finds.
    #[serde(skip)]
    pub place: String,
}

/// Attribute values by attribute name (as declared in `[[user_attributes]]`).
pub type Values = BTreeMap<String, String>;

/// What a site's state declares about attributes and account types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DesiredAttrs {
    pub attributes: Vec<DesiredAttribute>,
    pub account_types: Vec<DesiredAccountType>,
    /// The values of each declared person (by email as declared) that has any.
    pub users: BTreeMap<String, Values>,
    /// The values of each declared team (by name as declared) that has any.
    pub groups: BTreeMap<String, Values>,
    /// Where the values only the plan can check are written.
    #[serde(skip)]
    pub places: Places,
}

/// Where a value that only the plan can check (it needs the live site) is
/// written in the state files, as `file:line:column: `, so the plan error
/// about it starts with its place like a load error does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    /// The `member_type` that applies on the site, by the person's email key.
    pub member_types: HashMap<String, String>,
    /// Each permission of a declared account type: (type's name key, permission).
    pub permissions: HashMap<(String, String), String>,
}

impl Places {
    /// `file:line:column: ` of a person's `member_type`, or nothing.
    pub fn member_type(&self, email: &str) -> String {
        let at = self.member_types.get(&crate::model::email_key(email));
        at.map_or_else(String::new, |at| format!("{at}: "))
    }

    /// `file:line:column: ` of a declared account type's permission, or nothing.
    pub fn permission(&self, account_type: &str, permission: &str) -> String {
        let key = (name_key(account_type), permission.to_string());
        self.permissions
            .get(&key)
            .map_or_else(String::new, |at| format!("{at}: "))
    }
}

impl DesiredAttrs {
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
            && self.account_types.is_empty()
            && self.users.is_empty()
            && self.groups.is_empty()
    }
}

/// A user attribute as the site reports it, with its values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAttribute {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub default: Option<String>,
    /// member ID -> value.
    pub users: BTreeMap<String, String>,
    /// team ID -> value.
    pub teams: BTreeMap<String, String>,
    /// tenant organisation ID -> value (Sigma's tenants).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, String>,
}

/// An account type as the site reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAccountType {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub custom: bool,
    /// Sorted permission names.
    pub permissions: Vec<String>,
}

/// What is live about attributes and account types on one site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAttrs {
    /// Whether the site was read for them (a provider without them: false).
    pub read: bool,
    pub attributes: Vec<LiveAttribute>,
    pub account_types: Vec<LiveAccountType>,
}

impl LiveAttrs {
    /// A canonical form for the live state's fingerprint: sorted by name.
    #[must_use]
    pub fn canonical(&self) -> LiveAttrs {
        let mut c = self.clone();
        c.attributes.sort_by_cached_key(|a| name_key(&a.name));
        c.account_types.sort_by_cached_key(|t| name_key(&t.name));
        c
    }

    /// Every permission name some account type of the site has: the names
    /// the site is known to offer.
    pub fn offered_permissions(&self) -> std::collections::BTreeSet<&str> {
        self.account_types
            .iter()
            .flat_map(|t| t.permissions.iter().map(String::as_str))
            .collect()
    }
}
