//! The TOML schema of `[[user_attributes]]`, `[[account_types]]` and the
//! `attributes` tables of people and teams (Sigma), as serde types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::schema::Fields;

/// An `attributes = { region = "West" }` table: values by attribute name,
/// each with where it is written.
pub type AttrValues = BTreeMap<Spanned<String>, Spanned<String>>;

/// `[[user_attributes]]`: a Sigma user attribute (row-level security).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// The attribute's name; compared ignoring case and surrounding spaces.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// What the attribute is for.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// The value of people and teams that have none of their own.
    #[schemars(with = "Option<String>")]
    pub default: Option<Spanned<String>>,
}

impl Fields for AttributeSpec {
    const FIELDS: &'static [&'static str] = &["name", "description", "default"];
}

/// `[[account_types]]`: a Sigma custom account type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountTypeSpec {
    /// The account type's name, as people's member_type names it.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// What the account type is for (Sigma requires one).
    #[schemars(with = "String")]
    pub description: Spanned<String>,
    /// Permission names, as /v2/accountTypes/{id}/permissions lists them.
    #[schemars(with = "Vec<String>")]
    pub permissions: Vec<Spanned<String>>,
}

impl Fields for AccountTypeSpec {
    const FIELDS: &'static [&'static str] = &["name", "description", "permissions"];
}
