//! Account types as `sigma-openapi-access.json` describes them: listed
//! (`pageToken`/`pageSize`), created with a set of permissions, deleted,
//! never edited; deleting one that members have needs
//! `reassignToAccountTypeId`, and the default types cannot be deleted. No
//! HTTP here.

use serde_json::{Value, json};

use super::access::{AccountTypeDetails, array, bad, not_found, text};
use super::store::SigmaOrg;
use crate::sandbox::answer::ApiError;

/// The permissions the emulated organisation knows, with what each allows.
/// The reference names one (`view-worksheet`); the others are the
/// emulator's, in the same style.
pub const PERMISSIONS: [(&str, &str); 12] = [
    (
        "view-worksheet",
        "View workbooks and worksheets shared with you",
    ),
    (
        "explore-worksheet",
        "Explore data in workbooks: filter, sort, drill",
    ),
    ("download-data", "Download data from workbooks"),
    ("export-schedule", "Schedule exports of workbooks"),
    ("create-workbook", "Create, edit and publish workbooks"),
    ("create-dataset", "Create datasets and data models"),
    ("write-sql", "Write SQL against connections"),
    ("upload-csv", "Upload CSV files"),
    ("create-input-table", "Create input tables"),
    ("manage-workspaces", "Create and manage workspaces"),
    ("manage-connections", "Create and manage connections"),
    ("admin-portal", "Use the Administration portal"),
];

/// The default account types (any era's names): never custom, never
/// deleted.
const DEFAULT_TYPES: [&str; 7] = [
    "admin",
    "creator",
    "explorer",
    "viewer",
    "lite",
    "essential",
    "pro",
];

/// The permissions of a default type, by its name.
fn default_permissions(name: &str) -> Vec<String> {
    let take = match name.to_lowercase().as_str() {
        "admin" => PERMISSIONS.len(),
        "creator" | "pro" => 10,
        "explorer" | "essential" => 4,
        "viewer" | "lite" => 1,
        _ => 0,
    };
    PERMISSIONS[..take]
        .iter()
        .map(|(p, _)| (*p).to_string())
        .collect()
}

impl SigmaOrg {
    /// An account type's ID: recorded, or from its place in the list (the
    /// place is recorded before any type is deleted, so IDs never move).
    fn account_type_id(&self, i: usize, name: &str) -> String {
        self.access
            .account_types
            .get(name)
            .map_or_else(|| format!("at-{}", i + 1), |d| d.account_type_id.clone())
    }

    fn is_custom(&self, name: &str) -> bool {
        self.access
            .account_types
            .get(name)
            .is_some_and(|d| d.custom)
            || !DEFAULT_TYPES.contains(&name.to_lowercase().as_str())
    }

    /// `GET /v2/accountTypes` entries.
    pub fn account_types_json(&self) -> Vec<Value> {
        self.account_types
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let description = self
                    .access
                    .account_types
                    .get(name)
                    .and_then(|d| d.description.clone())
                    .unwrap_or_else(|| format!("{name} account type"));
                json!({
                    "accountTypeId": self.account_type_id(i, name),
                    "accountTypeName": name,
                    "description": description,
                    "isCustom": self.is_custom(name),
                })
            })
            .collect()
    }

    /// The place of the account type with ID `id`.
    fn account_type_index(&self, id: &str) -> Result<usize, ApiError> {
        self.account_types
            .iter()
            .enumerate()
            .position(|(i, name)| self.account_type_id(i, name) == id)
            .ok_or_else(|| not_found(format!("Account type not found: {id}")))
    }

    /// `POST /v2/accountTypes`: `name`, `description` and `permissions`,
    /// all required; every permission a known name. Answered with 201.
    pub fn create_account_type(&mut self, body: &Value) -> Result<Value, ApiError> {
        let name = text(body, "name")?.trim().to_string();
        let description = match body.get("description") {
            Some(Value::String(d)) => d.clone(),
            None | Some(Value::Null) => return Err(bad("description is required")),
            Some(_) => return Err(bad("description must be a string")),
        };
        let mut permissions = Vec::new();
        for p in array(body, "permissions")? {
            let p = p
                .as_str()
                .ok_or_else(|| bad("permissions must be permission names"))?;
            if !PERMISSIONS.iter().any(|(known, _)| *known == p) {
                return Err(bad(format!("Unknown permission: {p}")));
            }
            if !permissions.iter().any(|q| q == p) {
                permissions.push(p.to_string());
            }
        }
        if self
            .account_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::new(409, "Duplicate record"));
        }
        self.next_id += 1;
        let details = AccountTypeDetails {
            account_type_id: format!("at-c{:06}", self.next_id),
            description: Some(description),
            permissions: Some(permissions),
            custom: true,
        };
        self.access.account_types.insert(name.clone(), details);
        self.account_types.push(name);
        let i = self.account_types.len() - 1;
        Ok(self.account_types_json().swap_remove(i))
    }

    /// `DELETE /v2/accountTypes/{id}?reassignToAccountTypeId=`: a custom
    /// type only; its members move to the other type, which is required
    /// when it has any.
    pub fn delete_account_type(
        &mut self,
        id: &str,
        reassign: Option<&str>,
    ) -> Result<Value, ApiError> {
        let i = self.account_type_index(id)?;
        let name = self.account_types[i].clone();
        if !self.is_custom(&name) {
            return Err(bad("Default Sigma account types cannot be deleted"));
        }
        let target = match reassign.filter(|r| !r.is_empty()) {
            Some(r) if r == id => {
                return Err(bad(
                    "reassignToAccountTypeId must name another account type",
                ));
            }
            Some(r) => Some(self.account_types[self.account_type_index(r)?].clone()),
            None => None,
        };
        let holders = self
            .members
            .iter()
            .filter(|m| m.member_type.eq_ignore_ascii_case(&name))
            .count();
        let target = match (target, holders) {
            (Some(t), _) => t,
            (None, 0) => String::new(),
            (None, n) => {
                return Err(bad(format!(
                    "Account type {name} is assigned to {n} member(s): reassignToAccountTypeId is required"
                )));
            }
        };
        for m in &mut self.members {
            if m.member_type.eq_ignore_ascii_case(&name) {
                m.member_type.clone_from(&target);
            }
        }
        self.pin_account_type_ids();
        self.account_types.remove(i);
        self.access.account_types.remove(&name);
        Ok(json!({}))
    }

    /// Records every type's ID, so that removing one moves no other's.
    fn pin_account_type_ids(&mut self) {
        for (i, name) in self.account_types.clone().iter().enumerate() {
            let id = self.account_type_id(i, name);
            self.access
                .account_types
                .entry(name.clone())
                .or_insert_with(|| AccountTypeDetails {
                    account_type_id: id,
                    description: None,
                    permissions: None,
                    custom: false,
                });
        }
    }

    /// `GET /v2/accountTypes/{id}/permissions`: the permissions the type
    /// has, as a bare array of `{permission, description}`.
    pub fn account_type_permissions(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.account_type_index(id)?;
        let name = &self.account_types[i];
        let names = self
            .access
            .account_types
            .get(name)
            .and_then(|d| d.permissions.clone())
            .unwrap_or_else(|| default_permissions(name));
        Ok(Value::Array(
            names
                .iter()
                .filter_map(|n| PERMISSIONS.iter().find(|(p, _)| p == n))
                .map(|(p, d)| json!({ "permission": p, "description": d }))
                .collect(),
        ))
    }
}
