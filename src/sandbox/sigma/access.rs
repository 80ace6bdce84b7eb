//! What an emulated Sigma organisation holds about access, beyond people
//! and teams (`sigma-openapi-access.json`): workspaces, connections, the
//! grants on both, user attributes with their values per member and per
//! team, and what the API says about account types. Saved beside the
//! members so that data files written before these existed still load.
//!
//! The rules here are the emulator's own, written from the reference: a
//! grant only ever raises access (lowering is a delete, then a grant).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::answer::ApiError;

/// Timestamps of access objects: fixed, so saved data and answers are stable.
pub const TIMESTAMP: &str = "2026-01-01T00:00:00.000Z";

/// Workspace permissions, lowest first (`POST /v2/workspaces/{id}/grants`).
pub const WORKSPACE_PERMISSIONS: [&str; 4] = ["view", "explore", "organize", "edit"];
/// Connection permissions, lowest first: Can Use, then Can Use & Annotate.
pub const CONNECTION_PERMISSIONS: [&str; 2] = ["usage", "annotate"];

/// Access data of one organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmaAccess {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<Workspace>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
    /// Grants on workspaces and connections (the inode says which).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_attributes: Vec<UserAttribute>,
    /// Per attribute ID: member ID → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_values: BTreeMap<String, BTreeMap<String, String>>,
    /// Per attribute ID: team ID → value and priority.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub team_values: BTreeMap<String, BTreeMap<String, TeamValue>>,
    /// Per account type name (as configured): what the API says about it
    /// beyond the name. Types without an entry get defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub account_types: BTreeMap<String, AccountTypeDetails>,
    /// The organisation's tenants (`tenantOrganizationId`s), which may hold
    /// attribute values (`/v2/user-attributes/{id}/tenants`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Per attribute ID: tenant organisation ID → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenant_values: BTreeMap<String, BTreeMap<String, String>>,
    /// `POST /v2/workspaces` answers `{workspaceIds, workspaceUrlIds}`, the
    /// second shape Sigma's OpenAPI gives it, rather than the workspace.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub workspace_ids_answer: bool,
}

impl SigmaAccess {
    pub fn is_empty(&self) -> bool {
        self == &SigmaAccess::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub workspace_id: String,
    pub url_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub connection_id: String,
    pub name: String,
    /// The warehouse kind, e.g. `snowflake`.
    pub kind: String,
    #[serde(default)]
    pub is_archived: bool,
}

/// One grant: to a member or a team, on a workspace or a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub grant_id: String,
    pub inode_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAttribute {
    pub user_attribute_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub default_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamValue {
    pub value: String,
    pub priority: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountTypeDetails {
    pub account_type_id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `None`: the defaults of a built-in type.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    /// Created through `POST /v2/accountTypes`.
    #[serde(default)]
    pub custom: bool,
}

/// The IDs of an organisation's members and teams.
pub struct Known<'a> {
    pub members: HashSet<&'a str>,
    pub teams: HashSet<&'a str>,
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grantee {
    Member(String),
    Team(String),
}

pub fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(400, message)
}

pub fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(404, message)
}

/// A required string field of a JSON object.
pub fn text<'a>(v: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    match v.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(bad(format!("{field} cannot be empty"))),
        None | Some(Value::Null) => Err(bad(format!("{field} is required"))),
        Some(_) => Err(bad(format!("{field} must be a string"))),
    }
}

/// A required array field of a JSON object.
pub fn array<'a>(v: &'a Value, field: &str) -> Result<&'a [Value], ApiError> {
    match v.get(field) {
        Some(Value::Array(a)) => Ok(a),
        None | Some(Value::Null) => Err(bad(format!("{field} is required"))),
        Some(_) => Err(bad(format!("{field} must be an array"))),
    }
}

/// The place of the item whose ID (`id_of`) is `id`, or 404 naming `what`.
pub fn position<T>(
    items: &[T],
    id: &str,
    id_of: impl Fn(&T) -> &str,
    what: &str,
) -> Result<usize, ApiError> {
    items
        .iter()
        .position(|x| id_of(x) == id)
        .ok_or_else(|| not_found(format!("{what} not found: {id}")))
}

/// A `{type: "string", val}` value (the only type the reference has).
pub fn attribute_value(v: &Value, field: &str) -> Result<String, ApiError> {
    let value = v
        .get(field)
        .filter(|x| x.is_object())
        .ok_or_else(|| bad(format!("{field} must be an object {{type, val}}")))?;
    if value.get("type").and_then(Value::as_str) != Some("string") {
        return Err(bad(format!("{field}.type must be \"string\"")));
    }
    match value.get("val") {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(bad(format!("{field}.val must be a string"))),
    }
}

/// The JSON of an attribute value.
pub fn value_json(val: &str) -> Value {
    serde_json::json!({ "type": "string", "val": val })
}
