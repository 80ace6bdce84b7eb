//! Sigma user attributes: read with their values per member and per team,
//! created, deleted (never edited: the API has no PATCH), and their values
//! set and removed. Team values are sent through
//! `POST /v2/teams/{id}/assignedUserAttributes`, at most
//! [`TEAM_ASSIGNMENTS_PER_REQUEST`] per request, as the reference allows.

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{Call, Effect, SigmaClient};
use crate::attrs::{LiveAttribute, LiveAttrs, name_key};
use crate::model::ProviderKind;
use crate::model::{AttrTarget, AttrValueChange, Change, Diff, KeptValue};
use crate::provider::error::ProviderError;
use crate::provider::ids::SiteIds;
use crate::provider::lenient;
use crate::provider::path_segment as encode;

/// The most team assignments one request may carry (the reference's limit).
pub(super) const TEAM_ASSIGNMENTS_PER_REQUEST: usize = 100;
/// Attributes whose values are read at once. Few: a token is taken before
/// a request waits for its turn, so many waiting requests could outlive it.
const ATTRIBUTE_READS: usize = 2;

/// A user attribute as listed.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Attribute {
    #[serde(deserialize_with = "lenient::id")]
    user_attribute_id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    description: Option<String>,
    default_value: Value,
}

/// One value of an attribute, on its user or team list.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Assigned {
    #[serde(deserialize_with = "lenient::id")]
    user_id: Option<String>,
    #[serde(deserialize_with = "lenient::id")]
    member_id: Option<String>,
    #[serde(deserialize_with = "lenient::id")]
    team_id: Option<String>,
    #[serde(deserialize_with = "lenient::id")]
    tenant_organization_id: Option<String>,
    value: Value,
}

/// An attribute's values: by member ID, by team ID, by tenant ID.
type Values = [BTreeMap<String, String>; 3];

/// A value as the API writes it: `{type: "string", val}`, or read leniently
/// as a bare string.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("val").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn value_json(val: &str) -> Value {
    json!({ "type": "string", "val": val })
}

impl SigmaClient {
    /// Every user attribute with its values, and every account type with
    /// its permissions.
    /// When the state neither declares attributes or account types nor
    /// removes undeclared ones (`attrs_read`), only the account types, and
    /// only where the organisation has a custom one (`custom`): the plan
    /// reads off their permissions whether a custom type gives admin power
    /// (without one, none can).
    pub(super) async fn fetch_attrs(&self, custom: bool) -> Result<LiveAttrs, ProviderError> {
        if !self.org.attrs_read && !custom {
            return Ok(LiveAttrs::default());
        }
        if !self.org.attrs_read {
            return Ok(LiveAttrs {
                read: false,
                attributes: Vec::new(),
                account_types: self.live_account_types().await?,
            });
        }
        let attributes = self.live_attributes().await?;
        let account_types = self.live_account_types().await?;
        Ok(LiveAttrs {
            read: true,
            attributes,
            account_types,
        })
    }

    async fn live_attributes(&self) -> Result<Vec<LiveAttribute>, ProviderError> {
        let listed: Vec<Attribute> = self
            .list_all("/v2/user-attributes", "list user attributes")
            .await?;
        let listed: Vec<(String, Attribute)> = listed
            .into_iter()
            .filter_map(|a| Some((a.user_attribute_id.clone()?, a)))
            .map(|(id, a)| {
                let name = a.name.as_deref().unwrap_or_default();
                let id = crate::provider::ids::usable_id(&self.name, "user attribute", name, id)?;
                Ok((id, a))
            })
            .collect::<Result<_, ProviderError>>()?;
        let values = crate::provider::run_all(
            listed.iter().map(|(id, _)| self.attribute_values(id)),
            ATTRIBUTE_READS,
        )
        .await;
        listed
            .into_iter()
            .zip(values)
            .map(|((id, a), values)| {
                let [users, teams, tenants] = values?;
                Ok(LiveAttribute {
                    id,
                    name: a.name.unwrap_or_default(),
                    description: a.description,
                    default: value_text(&a.default_value),
                    users,
                    teams,
                    tenants,
                })
            })
            .collect()
    }

    /// An attribute's values: by member ID, by team ID and by tenant ID
    /// (a replacement sets every one of them again, so each is read).
    /// Sigma's OpenAPI reads them with `GET /v2/user-attributes/{id}/users`,
    /// `/teams` and `/tenants` (`getUserAttributeTenantAssignments`:
    /// entries `{tenantOrganizationId, value}`); there is no endpoint that
    /// edits an attribute itself (only GET and DELETE on
    /// `/v2/user-attributes/{id}`).
    async fn attribute_values(&self, id: &str) -> Result<Values, ProviderError> {
        let id = encode(id);
        let mut values: Values = Default::default();
        for (slot, list, action) in [
            (0, "users", "list the members' values of a user attribute"),
            (1, "teams", "list the teams' values of a user attribute"),
            (2, "tenants", "list the tenants' values of a user attribute"),
        ] {
            let path = format!("/v2/user-attributes/{id}/{list}");
            values[slot] = self
                .list_all::<Assigned>(&path, action)
                .await?
                .into_iter()
                .filter_map(|a| {
                    let who = a.user_id.or(a.member_id).or(a.team_id).or(a.tenant_organization_id)?;
                    Some((who, value_text(&a.value)?))
                })
                .collect();
        }
        Ok(values)
    }

    /// Creates, replaces or deletes an attribute, keeping `ids` in step.
    pub(super) async fn apply_attribute_change(
        &self,
        change: &Change,
        ids: &Mutex<SiteIds>,
    ) -> Result<(), ProviderError> {
        match change {
            Change::CreateAttribute {
                name,
                description,
                default,
            } => {
                self.create_attribute(ids, name, description.as_deref(), default.as_deref())
                    .await
            }
            Change::ReplaceAttribute {
                name,
                id,
                description,
                default,
                kept,
            } => {
                self.delete_attribute(name, id).await?;
                self.create_attribute(ids, name, after(description), after(default))
                    .await?;
                self.set_kept_values(ids, name, kept).await
            }
            Change::DeleteAttribute { name, id, .. } => self.delete_attribute(name, id).await,
            _ => unreachable!("only attribute changes come here"),
        }
    }

    async fn create_attribute(
        &self,
        ids: &Mutex<SiteIds>,
        name: &str,
        description: Option<&str>,
        default: Option<&str>,
    ) -> Result<(), ProviderError> {
        let mut body = serde_json::Map::new();
        body.insert("name".into(), json!(name));
        if let Some(d) = description {
            body.insert("description".into(), json!(d));
        }
        if let Some(d) = default {
            body.insert("defaultValue".into(), value_json(d));
        }
        let created = self
            .send(&Call {
                method: Method::POST,
                path: "/v2/user-attributes".into(),
                action: "create user attribute",
                object: name,
                body: Some(Value::Object(body)),
                effect: Effect::AttributeExists(name),
            })
            .await?;
        let id = created
            .get("userAttributeId")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Decode {
                site: self.name.clone(),
                action: "create user attribute".into(),
                message: "no userAttributeId in the answer".into(),
            })?;
        ids.lock()
            .expect("ids lock")
            .attributes
            .insert(name_key(name), id.to_string());
        Ok(())
    }

    /// Every value a replaced attribute held, set again: one `POST
    /// .../users`, `.../teams` or `.../tenants` per
    /// [`TEAM_ASSIGNMENTS_PER_REQUEST`] values of each.
    async fn set_kept_values(
        &self,
        ids: &Mutex<SiteIds>,
        name: &str,
        kept: &[KeptValue],
    ) -> Result<(), ProviderError> {
        let attribute = self.attribute_id(ids, name)?;
        for (target, list, key) in [
            (AttrTarget::User, "users", "userId"),
            (AttrTarget::Team, "teams", "teamId"),
            (AttrTarget::Tenant, "tenants", "tenantOrganizationId"),
        ] {
            let assignments: Vec<Value> = kept
                .iter()
                .filter(|k| k.target == target)
                .map(|k| json!({ key: k.id, "value": value_json(&k.value) }))
                .collect();
            for chunk in assignments.chunks(TEAM_ASSIGNMENTS_PER_REQUEST) {
                self.send(&Call {
                    method: Method::POST,
                    path: format!("/v2/user-attributes/{}/{list}", encode(&attribute)),
                    action: "set again the values of a replaced user attribute",
                    object: name,
                    body: Some(json!({ "assignments": chunk })),
                    effect: Effect::None,
                })
                .await?;
            }
        }
        Ok(())
    }

    async fn delete_attribute(&self, name: &str, id: &str) -> Result<(), ProviderError> {
        self.send(&Call {
            method: Method::DELETE,
            path: format!("/v2/user-attributes/{}", encode(id)),
            action: "delete user attribute",
            object: name,
            body: None,
            effect: Effect::Gone,
        })
        .await
        .map(|_| ())
    }

    fn attribute_id(&self, ids: &Mutex<SiteIds>, name: &str) -> Result<String, ProviderError> {
        ids.lock()
            .expect("ids lock")
            .attributes
            .get(&name_key(name))
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("no user attribute `{name}` was found on the site"),
            })
    }

    /// Sets and removes one person's or team's values.
    pub(super) async fn apply_values(
        &self,
        change: &Change,
        ids: &Mutex<SiteIds>,
    ) -> Result<(), ProviderError> {
        let Change::SetAttributes {
            target,
            key,
            id,
            values,
        } = change
        else {
            unreachable!("only value changes come here");
        };
        if *target == AttrTarget::Tenant {
            // The plan only ever keeps a tenant's values (`ReplaceAttribute`).
            return Err(ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("the values of tenant `{key}` are only ever kept"),
            });
        }
        let who = match (id, target) {
            (Some(id), _) => id.clone(),
            (None, AttrTarget::User) => self.member_id_of(ids, key)?,
            (None, AttrTarget::Team | AttrTarget::Tenant) => ids
                .lock()
                .expect("ids lock")
                .groups
                .get(&ProviderKind::Sigma.group_key(key))
                .cloned()
                .ok_or_else(|| ProviderError::Unsupported {
                    site: self.name.clone(),
                    message: format!("no team `{key}` was found on the site"),
                })?,
        };
        match target {
            AttrTarget::User => self.set_user_values(ids, key, &who, values).await?,
            AttrTarget::Team | AttrTarget::Tenant => {
                self.set_team_values(ids, key, &who, values).await?;
            }
        }
        self.remove_values(ids, (*target, key, &who), values).await
    }

    pub(super) fn member_id_of(&self, ids: &Mutex<SiteIds>, email: &str) -> Result<String, ProviderError> {
        ids.lock()
            .expect("ids lock")
            .members
            .get(&crate::model::email_key(email))
            .cloned()
            .ok_or_else(|| ProviderError::Unsupported {
                site: self.name.clone(),
                message: format!("no member with email {email} was found on the site"),
            })
    }

    /// A person's values: one request per attribute.
    async fn set_user_values(
        &self,
        ids: &Mutex<SiteIds>,
        email: &str,
        member: &str,
        values: &[AttrValueChange],
    ) -> Result<(), ProviderError> {
        for v in values {
            let Some(val) = &v.after else { continue };
            let attribute = self.attribute_id(ids, &v.attribute)?;
            self.send(&Call {
                method: Method::POST,
                path: format!("/v2/user-attributes/{}/users", encode(&attribute)),
                action: "set a member's user attribute value",
                object: email,
                body: Some(json!({ "assignments": [{ "userId": member, "value": value_json(val) }] })),
                effect: Effect::None,
            })
            .await?;
        }
        Ok(())
    }

    /// A team's values, at most [`TEAM_ASSIGNMENTS_PER_REQUEST`] a request.
    async fn set_team_values(
        &self,
        ids: &Mutex<SiteIds>,
        name: &str,
        team: &str,
        values: &[AttrValueChange],
    ) -> Result<(), ProviderError> {
        let mut assignments = Vec::new();
        for v in values {
            if let Some(val) = &v.after {
                let attribute = self.attribute_id(ids, &v.attribute)?;
                assignments.push(json!({ "userAttributeId": attribute, "value": value_json(val) }));
            }
        }
        for chunk in assignments.chunks(TEAM_ASSIGNMENTS_PER_REQUEST) {
            self.send(&Call {
                method: Method::POST,
                path: format!("/v2/teams/{}/assignedUserAttributes", encode(team)),
                action: "set a team's user attribute values",
                object: name,
                body: Some(json!({ "assignments": chunk })),
                effect: Effect::None,
            })
            .await?;
        }
        Ok(())
    }

    /// The values removed: one DELETE each.
    async fn remove_values(
        &self,
        ids: &Mutex<SiteIds>,
        (target, key, who): (AttrTarget, &str, &str),
        values: &[AttrValueChange],
    ) -> Result<(), ProviderError> {
        let list = match target {
            AttrTarget::User => "users",
            AttrTarget::Team => "teams",
            AttrTarget::Tenant => "tenants",
        };
        for v in values.iter().filter(|v| v.after.is_none()) {
            let attribute = self.attribute_id(ids, &v.attribute)?;
            self.send(&Call {
                method: Method::DELETE,
                path: format!(
                    "/v2/user-attributes/{}/{list}/{}",
                    encode(&attribute),
                    encode(who)
                ),
                action: "remove a user attribute value",
                object: key,
                body: None,
                effect: Effect::Gone,
            })
            .await?;
        }
        Ok(())
    }
}

/// The value a field has after a replacement.
fn after(d: &Diff<Option<String>>) -> Option<&str> {
    d.after.as_deref()
}

/// The requests a replaced attribute or a change of values sends, as
/// [`SigmaClient::apply_attribute_change`] and [`SigmaClient::apply_values`]
/// send them.
pub(super) fn requests_for(change: &Change) -> u64 {
    let batches = |n: usize| n.div_ceil(TEAM_ASSIGNMENTS_PER_REQUEST) as u64;
    match change {
        Change::ReplaceAttribute { kept, .. } => {
            let of = |t| kept.iter().filter(|k| k.target == t).count();
            [AttrTarget::User, AttrTarget::Team, AttrTarget::Tenant]
                .into_iter()
                .map(|t| batches(of(t)))
                .sum::<u64>()
                + 2
        }
        Change::SetAttributes { target, values, .. } => {
            let set = values.iter().filter(|v| v.after.is_some()).count();
            let removed = (values.len() - set) as u64;
            match target {
                AttrTarget::User => set as u64 + removed,
                AttrTarget::Team | AttrTarget::Tenant => batches(set) + removed,
            }
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(attribute: &str, after: Option<&str>) -> AttrValueChange {
        AttrValueChange {
            attribute: attribute.into(),
            before: Some("old".into()),
            after: after.map(str::to_string),
        }
    }

    #[test]
    fn requests_count_each_value_of_a_person_and_each_batch_of_a_team() {
        let values: Vec<AttrValueChange> = (0..250)
            .map(|i| value(&format!("a{i}"), Some("v")))
            .chain([value("gone", None), value("gone2", None)])
            .collect();
        let change = |target| Change::SetAttributes {
            target,
            key: "k".into(),
            id: None,
            values: values.clone(),
        };
        assert_eq!(requests_for(&change(AttrTarget::User)), 252);
        assert_eq!(requests_for(&change(AttrTarget::Team)), 3 + 2);
        let kept = |target, n: usize| {
            (0..n).map(move |i| KeptValue {
                target,
                key: format!("k{i}"),
                id: format!("i{i}"),
                value: "v".into(),
            })
        };
        let replaced = Change::ReplaceAttribute {
            name: "region".into(),
            id: "r".into(),
            description: Diff {
                before: None,
                after: Some("d".into()),
            },
            default: Diff {
                before: None,
                after: None,
            },
            kept: kept(AttrTarget::User, 101)
                .chain(kept(AttrTarget::Team, 1))
                .collect(),
        };
        assert_eq!(requests_for(&replaced), 2 + 2 + 1);
    }
}
