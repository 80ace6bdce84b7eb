//! User attributes (row-level security), their values per member and per
//! team, as `sigma-openapi-access.json` describes them. The reference has
//! no endpoint that edits an attribute itself: it is created or deleted;
//! its values are set (POST, which also overwrites) and removed (PATCH with
//! `delete`, or DELETE of one). No HTTP here.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::access::{
    TIMESTAMP, TeamValue, UserAttribute, array, attribute_value, bad, not_found, position, text,
    value_json,
};
use super::store::SigmaOrg;
use crate::sandbox::answer::ApiError;

/// The most assignments `POST /v2/teams/{id}/assignedUserAttributes` takes.
pub const TEAM_ASSIGNMENTS_LIMIT: usize = 100;

/// One value of an attribute, as its user or team list shows it.
pub struct Assigned<'a> {
    pub who: &'a str,
    pub value: &'a str,
    pub priority: Option<u32>,
}

impl SigmaOrg {
    fn attribute_index(&self, id: &str) -> Result<usize, ApiError> {
        position(
            &self.access.user_attributes,
            id,
            |a| &a.user_attribute_id,
            "User attribute",
        )
    }

    pub fn attribute_json(&self, a: &UserAttribute) -> Value {
        json!({
            "userAttributeId": a.user_attribute_id,
            "name": a.name,
            "description": a.description,
            "defaultValue": a.default_value.as_deref().map(value_json),
            "createdBy": self.credentials_owner,
            "updatedBy": self.credentials_owner,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        })
    }

    /// `GET /v2/user-attributes`: `name` matches a part of the name,
    /// ignoring case.
    pub fn list_attributes(&self, name: Option<&str>) -> Vec<&UserAttribute> {
        let needle = name.map(str::to_lowercase);
        self.access
            .user_attributes
            .iter()
            .filter(|a| {
                needle
                    .as_deref()
                    .is_none_or(|n| a.name.to_lowercase().contains(n))
            })
            .collect()
    }

    pub fn get_attribute(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.attribute_index(id)?;
        Ok(self.attribute_json(&self.access.user_attributes[i]))
    }

    /// `POST /v2/user-attributes`: `name`, optional `description` and
    /// `defaultValue`. Names are unique, ignoring case.
    pub fn create_attribute(&mut self, body: &Value) -> Result<Value, ApiError> {
        let name = text(body, "name")?.to_string();
        let taken = self
            .access
            .user_attributes
            .iter()
            .any(|a| a.name.trim().eq_ignore_ascii_case(name.trim()));
        if taken {
            return Err(ApiError::new(409, "Duplicate record"));
        }
        let description = match body.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) => Some(d.clone()),
            Some(_) => return Err(bad("description must be a string")),
        };
        let default_value = match body.get("defaultValue") {
            None | Some(Value::Null) => None,
            Some(_) => Some(attribute_value(body, "defaultValue")?),
        };
        let a = UserAttribute {
            user_attribute_id: self.new_access_id("5a000000"),
            name,
            description,
            default_value,
        };
        let out = self.attribute_json(&a);
        self.access.user_attributes.push(a);
        Ok(out)
    }

    /// `DELETE /v2/user-attributes/{id}`: permanent, with its values.
    pub fn delete_attribute(&mut self, id: &str) -> Result<Value, ApiError> {
        let i = self.attribute_index(id)?;
        self.access.user_attributes.remove(i);
        self.access.user_values.remove(id);
        self.access.team_values.remove(id);
        self.access.tenant_values.remove(id);
        Ok(json!({}))
    }

    /// The tenants with a value of attribute `id`: entries
    /// `{tenantOrganizationId, value, ...}` (Sigma's OpenAPI,
    /// `getUserAttributeTenantAssignments`).
    pub fn attribute_tenants(&self, id: &str) -> Result<Vec<Value>, ApiError> {
        self.attribute_index(id)?;
        Ok(self
            .access
            .tenant_values
            .get(id)
            .into_iter()
            .flatten()
            .map(|(tenant, value)| {
                json!({
                    "tenantOrganizationId": tenant,
                    "value": value_json(value),
                    "createdBy": self.credentials_owner,
                    "updatedBy": self.credentials_owner,
                    "createdAt": TIMESTAMP,
                    "updatedAt": TIMESTAMP,
                })
            })
            .collect())
    }

    /// `POST /v2/user-attributes/{id}/tenants`: `{assignments:
    /// [{tenantOrganizationId, value}]}`, each a tenant of the organisation;
    /// sets or overwrites.
    pub fn set_tenant_values(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        self.attribute_index(id)?;
        let values: Vec<(String, String)> = array(body, "assignments")?
            .iter()
            .map(|a| {
                let tenant = text(a, "tenantOrganizationId")?;
                if !self.access.tenants.iter().any(|t| t == tenant) {
                    return Err(not_found(format!("Tenant not found: {tenant}")));
                }
                Ok((tenant.to_string(), attribute_value(a, "value")?))
            })
            .collect::<Result<_, _>>()?;
        self.access
            .tenant_values
            .entry(id.to_string())
            .or_default()
            .extend(values);
        Ok(json!({}))
    }

    /// `PATCH /v2/user-attributes/{id}/tenants`: `{delete:
    /// [{tenantOrganizationId}]}` (the only update the OpenAPI allows).
    pub fn remove_tenant_values(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        self.attribute_index(id)?;
        let who: Vec<String> = array(body, "delete")?
            .iter()
            .map(|d| text(d, "tenantOrganizationId").map(str::to_string))
            .collect::<Result<_, _>>()?;
        drop_keys(self.access.tenant_values.get_mut(id), &who);
        Ok(json!({}))
    }

    /// The members with a value of attribute `id`.
    pub fn attribute_users(&self, id: &str) -> Result<Vec<Assigned<'_>>, ApiError> {
        self.attribute_index(id)?;
        Ok(self
            .access
            .user_values
            .get(id)
            .into_iter()
            .flatten()
            .map(|(who, value)| Assigned {
                who,
                value,
                priority: None,
            })
            .collect())
    }

    /// The teams with a value of attribute `id`.
    pub fn attribute_teams(&self, id: &str) -> Result<Vec<Assigned<'_>>, ApiError> {
        self.attribute_index(id)?;
        Ok(self
            .access
            .team_values
            .get(id)
            .into_iter()
            .flatten()
            .map(|(who, v)| Assigned {
                who,
                value: &v.value,
                priority: Some(v.priority),
            })
            .collect())
    }

    /// An entry of `GET /v2/user-attributes/{id}/users` or `/teams`.
    pub fn assigned_json(&self, a: &Assigned<'_>) -> Value {
        let mut v = json!({
            "value": value_json(a.value),
            "createdBy": self.credentials_owner,
            "updatedBy": self.credentials_owner,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        });
        match a.priority {
            Some(p) => {
                v["teamId"] = json!(a.who);
                v["priority"] = json!(p);
            }
            None => v["userId"] = json!(a.who),
        }
        v
    }

    /// The `{assignments: [{userId|teamId, value}]}` of a request, each
    /// naming a member (or a team) that exists.
    fn assignments(&self, body: &Value, teams: bool) -> Result<Vec<(String, String)>, ApiError> {
        let (key, what) = if teams {
            ("teamId", "Team")
        } else {
            ("userId", "Member")
        };
        let known = self.known();
        array(body, "assignments")?
            .iter()
            .map(|a| {
                let who = text(a, key)?;
                let exists = if teams {
                    known.teams.contains(who)
                } else {
                    known.members.contains(who)
                };
                if !exists {
                    return Err(not_found(format!("{what} not found: {who}")));
                }
                Ok((who.to_string(), attribute_value(a, "value")?))
            })
            .collect()
    }

    /// `POST /v2/user-attributes/{id}/users`: sets (or overwrites) values.
    pub fn set_user_values(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        self.attribute_index(id)?;
        let values = self.assignments(body, false)?;
        self.access
            .user_values
            .entry(id.to_string())
            .or_default()
            .extend(values);
        Ok(json!({}))
    }

    /// `POST /v2/user-attributes/{id}/teams`: sets (or overwrites) values.
    pub fn set_team_values(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        self.attribute_index(id)?;
        let values = self.assignments(body, true)?;
        self.set_team_values_of(id, values);
        Ok(json!({}))
    }

    /// Teams' values of an attribute; new ones come last in priority.
    fn set_team_values_of(&mut self, attribute: &str, values: Vec<(String, String)>) {
        let teams = self
            .access
            .team_values
            .entry(attribute.to_string())
            .or_default();
        let mut next = teams.values().map(|v| v.priority).max().unwrap_or(0);
        for (team, value) in values {
            teams
                .entry(team)
                .and_modify(|v| v.value.clone_from(&value))
                .or_insert_with(|| {
                    next += 1;
                    TeamValue {
                        value,
                        priority: next,
                    }
                });
        }
    }

    /// `PATCH /v2/user-attributes/{id}/users` or `/teams`: `{delete:
    /// [{userId}]}` or `{delete: [{teamId}]}`; one without a value is
    /// ignored.
    pub fn remove_values(
        &mut self,
        id: &str,
        body: &Value,
        teams: bool,
    ) -> Result<Value, ApiError> {
        self.attribute_index(id)?;
        let key = if teams { "teamId" } else { "userId" };
        let who: Vec<String> = array(body, "delete")?
            .iter()
            .map(|d| text(d, key).map(str::to_string))
            .collect::<Result<_, _>>()?;
        if teams {
            drop_keys(self.access.team_values.get_mut(id), &who);
        } else {
            drop_keys(self.access.user_values.get_mut(id), &who);
        }
        Ok(json!({}))
    }

    /// `DELETE /v2/user-attributes/{id}/users/{userId}` or
    /// `/teams/{teamId}`: 404 when there is no such value.
    pub fn remove_value(&mut self, id: &str, who: &str, teams: bool) -> Result<Value, ApiError> {
        self.attribute_index(id)?;
        let removed = if teams {
            self.access
                .team_values
                .get_mut(id)
                .and_then(|m| m.remove(who))
                .is_some()
        } else {
            self.access
                .user_values
                .get_mut(id)
                .and_then(|m| m.remove(who))
                .is_some()
        };
        if removed {
            Ok(json!({}))
        } else {
            Err(not_found(format!("No value of {id} assigned to {who}")))
        }
    }

    /// `GET /v2/teams/{id}/user-attributes`: entries `{userAttributeId,
    /// userAttributeName, value}`.
    pub fn team_attributes(&self, team: &str) -> Result<Vec<Value>, ApiError> {
        if !self.has_team(team) {
            return Err(not_found(format!("Team not found: {team}")));
        }
        Ok(self
            .access
            .user_attributes
            .iter()
            .filter_map(|a| {
                let v = self
                    .access
                    .team_values
                    .get(&a.user_attribute_id)?
                    .get(team)?;
                Some(json!({
                    "userAttributeId": a.user_attribute_id,
                    "userAttributeName": a.name,
                    "value": value_json(&v.value),
                }))
            })
            .collect())
    }

    /// `POST /v2/teams/{id}/assignedUserAttributes`: at most 100
    /// assignments a request, every one checked before any is made.
    pub fn assign_team_attributes(&mut self, team: &str, body: &Value) -> Result<Value, ApiError> {
        if !self.has_team(team) {
            return Err(not_found(format!("Team not found: {team}")));
        }
        let list = array(body, "assignments")?;
        if list.len() > TEAM_ASSIGNMENTS_LIMIT {
            return Err(bad(format!(
                "Maximum {TEAM_ASSIGNMENTS_LIMIT} assignments per request ({} sent)",
                list.len()
            )));
        }
        let mut values = Vec::with_capacity(list.len());
        for a in list {
            let id = text(a, "userAttributeId")?;
            self.attribute_index(id)?;
            values.push((id.to_string(), attribute_value(a, "value")?));
        }
        for (id, value) in values {
            self.set_team_values_of(&id, vec![(team.to_string(), value)]);
        }
        Ok(json!({}))
    }

    /// A team that is deleted takes its grants and attribute values along.
    pub fn forget_team(&mut self, team: &str) {
        self.access
            .grants
            .retain(|g| g.team_id.as_deref() != Some(team));
        for values in self.access.team_values.values_mut() {
            values.remove(team);
        }
    }
}

fn drop_keys<V>(map: Option<&mut BTreeMap<String, V>>, keys: &[String]) {
    if let Some(map) = map {
        for k in keys {
            map.remove(k);
        }
    }
}
