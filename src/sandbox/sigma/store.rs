//! An emulated Sigma organisation and the rules its API applies to each
//! request (reference §4–§6, §12). No HTTP here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::access::SigmaAccess;
use super::people::{MemberDetails, bool_field, requested_kind};
use crate::sandbox::answer::{Answer, ApiError};

/// The scheduler account every organisation has.
pub const SCHEDULER_ROBOT: &str = "SigmaSchedulerRobot";
/// The default page size of paginated lists when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page Sigma serves.
pub const MAX_LIMIT: usize = 1000;
/// Timestamps in the emulator: fixed, so saved data and answers are stable.
const TIMESTAMP: &str = "2026-01-01T00:00:00.000Z";

/// One emulated Sigma organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmaOrg {
    pub client_id: String,
    pub client_secret: String,
    pub organization_id: String,
    /// The member who owns the API credentials: receives the documents of
    /// members deactivated without a new owner.
    pub credentials_owner: String,
    /// Account type names; the first is the default of new members unless
    /// `Viewer` exists.
    pub account_types: Vec<String>,
    #[serde(default)]
    pub members: Vec<SigmaMember>,
    #[serde(default)]
    pub teams: Vec<SigmaTeam>,
    /// Documents archived on deactivation.
    #[serde(default)]
    pub archived_documents: u32,
    /// The next number used to make IDs.
    #[serde(default)]
    pub next_id: u64,
    /// Per member ID: kind, schedules, invitation (see `people`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub member_details: BTreeMap<String, MemberDetails>,
    /// Per team ID: the member IDs that are its admins (`isTeamAdmin`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub team_admins: BTreeMap<String, Vec<String>>,
    /// Scheduled exports archived on deactivation.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub archived_schedules: u32,
    /// Workspaces, connections, grants, user attributes and account type
    /// details (see `access`).
    #[serde(default, skip_serializing_if = "SigmaAccess::is_empty")]
    pub access: SigmaAccess,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmaMember {
    pub member_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub member_type: String,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub is_inactive: bool,
    /// How many documents the member owns.
    #[serde(default)]
    pub documents: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmaTeam {
    pub team_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub visibility: String,
    /// Member IDs.
    #[serde(default)]
    pub members: Vec<String>,
}

/// The emulator's own rule for emails (never the client's): trimmed and
/// lower-cased, code point by code point, with no Unicode normalisation.
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn err(status: u16, message: impl Into<String>) -> ApiError {
    ApiError::new(status, message)
}

/// One page of a list, in the v2.1 shape (also v2 with `limit`). Only the
/// page's items are turned into JSON: a large organisation is paged cheaply.
pub fn paginate<'a, T, J: Serialize>(
    items: &'a [T],
    limit: Option<&str>,
    page: Option<&str>,
    to_json: impl Fn(&'a T) -> J,
) -> Result<PageOut<J>, ApiError> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| err(400, format!("limit must be a positive number, not '{l}'")))?
            .min(MAX_LIMIT),
    };
    let start = match page {
        None | Some("") => 0,
        Some(p) => p
            .strip_prefix("c")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| err(400, format!("invalid page cursor '{p}'")))?,
    };
    let total = items.len();
    let end = (start + limit).min(total);
    let next = (end < total).then(|| format!("c{end}"));
    Ok(PageOut {
        entries: items[start..end].iter().map(to_json).collect(),
        next_page: next,
        total,
        has_more: end < total,
    })
}

/// A page as the API answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageOut<J> {
    pub entries: Vec<J>,
    pub next_page: Option<String>,
    pub total: usize,
    pub has_more: bool,
}

impl<J: Serialize> From<PageOut<J>> for Answer {
    fn from(page: PageOut<J>) -> Answer {
        Answer::json(&page)
    }
}

/// A member as the API shows one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberOut<'a> {
    organization_id: &'a str,
    member_id: &'a str,
    member_type: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    profile_img_url: Option<&'a str>,
    created_by: &'a str,
    updated_by: &'a str,
    created_at: &'static str,
    updated_at: &'static str,
    home_folder_id: String,
    user_kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_inactive: Option<bool>,
}

/// A team membership as the API lists it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamMemberOut<'a> {
    user_id: &'a str,
    is_team_admin: bool,
    added_by: &'a str,
}

impl SigmaOrg {
    /// A new organisation: its admin (who owns the API credentials), the
    /// scheduler robot, and the default account types.
    pub fn new(client_id: &str, client_secret: &str, admin_email: &str) -> Self {
        let mut org = SigmaOrg {
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            organization_id: "00000000-0000-4000-8000-000000000001".into(),
            credentials_owner: String::new(),
            account_types: vec![
                "Admin".into(),
                "Creator".into(),
                "Explorer".into(),
                "Viewer".into(),
            ],
            members: Vec::new(),
            teams: Vec::new(),
            archived_documents: 0,
            next_id: 1,
            member_details: BTreeMap::new(),
            team_admins: BTreeMap::new(),
            archived_schedules: 0,
            access: SigmaAccess::default(),
        };
        let admin = org.new_member_id();
        org.credentials_owner.clone_from(&admin);
        org.members.push(SigmaMember {
            member_id: admin,
            email: admin_email.to_string(),
            first_name: "Org".into(),
            last_name: "Admin".into(),
            member_type: "Admin".into(),
            is_archived: false,
            is_inactive: false,
            documents: 0,
        });
        org.members.push(SigmaMember {
            member_id: SCHEDULER_ROBOT.into(),
            email: "scheduler-robot@sigmacomputing.com".into(),
            first_name: "Scheduler".into(),
            last_name: "User".into(),
            member_type: "admin".into(),
            is_archived: false,
            is_inactive: false,
            documents: 0,
        });
        org
    }

    /// A 29-character member ID, as Sigma's look.
    fn new_member_id(&mut self) -> String {
        self.next_id += 1;
        format!("sbxm{:025}", self.next_id)
    }

    fn new_team_id(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }

    fn member_index(&self, id: &str) -> Result<usize, ApiError> {
        self.members
            .iter()
            .position(|m| m.member_id == id)
            .ok_or_else(|| err(404, format!("Member not found: {id}")))
    }

    fn team_index(&self, id: &str) -> Result<usize, ApiError> {
        self.teams
            .iter()
            .position(|t| t.team_id == id)
            .ok_or_else(|| err(404, format!("Team not found: {id}")))
    }

    /// The account type's configured spelling; names match ignoring case.
    fn account_type(&self, name: &str) -> Result<String, ApiError> {
        self.account_types
            .iter()
            .find(|t| t.eq_ignore_ascii_case(name.trim()))
            .cloned()
            .ok_or_else(|| err(404, "Member type name is not found"))
    }

    fn email_taken(&self, email: &str, except: Option<usize>) -> bool {
        self.members
            .iter()
            .enumerate()
            .any(|(i, m)| Some(i) != except && email_key(&m.email) == email_key(email))
    }

    pub fn member_json(&self, m: &SigmaMember, full: bool) -> Value {
        serde_json::to_value(self.member_out(m, full)).expect("members always serialize")
    }

    pub fn member_out<'a>(&'a self, m: &'a SigmaMember, full: bool) -> MemberOut<'a> {
        MemberOut {
            organization_id: &self.organization_id,
            member_id: &m.member_id,
            member_type: &m.member_type,
            first_name: &m.first_name,
            last_name: &m.last_name,
            email: &m.email,
            profile_img_url: None,
            created_by: &self.credentials_owner,
            updated_by: &self.credentials_owner,
            created_at: TIMESTAMP,
            updated_at: TIMESTAMP,
            home_folder_id: format!("00000000-0000-4000-9000-{:012}", m.member_id.len()),
            user_kind: self.user_kind(&m.member_id),
            // Lists omit the flags of active members; single answers carry them.
            is_archived: (full || m.is_archived).then_some(m.is_archived),
            is_inactive: (full || m.is_inactive).then_some(m.is_inactive),
        }
    }

    fn team_json(&self, t: &SigmaTeam, with_members: bool) -> Value {
        let mut v = json!({
            "teamId": t.team_id,
            "name": t.name,
            "description": t.description,
            "visibility": t.visibility,
            "isArchived": false,
            "createdBy": self.credentials_owner,
            "updatedBy": self.credentials_owner,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        });
        if with_members {
            v["members"] = json!(t.members);
        }
        v
    }

    /// `GET /v2/members`: archived and SCIM-inactive members only when asked.
    pub fn list_members(
        &self,
        include_archived: bool,
        include_inactive: bool,
        email: Option<&str>,
    ) -> Vec<&SigmaMember> {
        self.members
            .iter()
            .filter(|m| include_archived || !m.is_archived)
            .filter(|m| include_inactive || !m.is_inactive)
            .filter(|m| email.is_none_or(|e| m.email.trim().eq_ignore_ascii_case(e.trim())))
            .collect()
    }

    pub fn get_member(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.member_index(id)?;
        Ok(self.member_json(&self.members[i], true))
    }

    pub fn whoami(&self) -> Value {
        json!({ "userId": self.credentials_owner, "organizationId": self.organization_id })
    }

    /// `POST /v2/members`; `send_invite` is the `sendInvite` query
    /// parameter (default true). Embed users are never emailed.
    pub fn create_member(&mut self, body: &Value, send_invite: bool) -> Result<Value, ApiError> {
        let email = required(body, "email")?;
        let first_name = required(body, "firstName")?;
        let last_name = required(body, "lastName")?;
        if !crate::sandbox::rules::is_email(email) {
            return Err(err(400, format!("Invalid email: {email}")));
        }
        let member_type = match optional(body, "memberType")? {
            Some(t) => self.account_type(t)?,
            None => self
                .account_types
                .iter()
                .find(|t| t.eq_ignore_ascii_case("viewer"))
                .or(self.account_types.first())
                .cloned()
                .unwrap_or_else(|| "Viewer".into()),
        };
        if self.email_taken(email, None) {
            return Err(err(409, "Duplicate record"));
        }
        let mut teams = Vec::new();
        if let Some(list) = body.get("addToTeams").filter(|v| !v.is_null()) {
            let list = list
                .as_array()
                .ok_or_else(|| err(400, "addToTeams must be an array of {teamId}"))?;
            for t in list {
                let id = t
                    .get("teamId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| err(400, "addToTeams entries need a teamId"))?;
                let admin = bool_field(t, "isTeamAdmin")?.unwrap_or(false);
                teams.push((self.team_index(id)?, admin));
            }
        }
        let kind = requested_kind(body)?.unwrap_or_else(|| "internal".into());
        let member = SigmaMember {
            member_id: self.new_member_id(),
            email: email.to_string(),
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            member_type,
            is_archived: false,
            is_inactive: false,
            documents: 0,
        };
        for (t, admin) in teams {
            self.teams[t].members.push(member.member_id.clone());
            if admin {
                let team = self.teams[t].team_id.clone();
                self.team_admins
                    .entry(team)
                    .or_default()
                    .push(member.member_id.clone());
            }
        }
        let invited = send_invite && kind != "embed";
        let details = self.details_mut(&member.member_id);
        details.user_kind = kind;
        details.invitation_sent = Some(invited);
        let out = self.member_json(&member, true);
        self.members.push(member);
        Ok(out)
    }

    pub fn update_member(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        let i = self.member_index(id)?;
        if !body.is_object() {
            return Err(err(400, "the body must be a JSON object"));
        }
        let mut m = self.members[i].clone();
        if let Some(e) = optional(body, "email")? {
            if !crate::sandbox::rules::is_email(e) {
                return Err(err(400, format!("Invalid email: {e}")));
            }
            if self.email_taken(e, Some(i)) {
                return Err(err(409, "Duplicate record"));
            }
            m.email = e.to_string();
        }
        if let Some(v) = optional(body, "firstName")? {
            m.first_name = v.to_string();
        }
        if let Some(v) = optional(body, "lastName")? {
            m.last_name = v.to_string();
        }
        if let Some(t) = optional(body, "memberType")? {
            m.member_type = self.account_type(t)?;
        }
        let kind = requested_kind(body)?;
        let archive_schedules = bool_field(body, "archiveScheduledExports")?.unwrap_or(false);
        let new_owner = optional(body, "newOwnerId")?;
        let archive_documents = body
            .get("archiveDocuments")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if new_owner.is_some() && archive_documents {
            return Err(err(
                400,
                "newOwnerId and archiveDocuments cannot be combined",
            ));
        }
        match body.get("isArchived") {
            None | Some(Value::Null) => {
                if new_owner.is_some() || archive_documents || archive_schedules {
                    return Err(err(
                        400,
                        "newOwnerId, archiveDocuments and archiveScheduledExports are only valid with isArchived: true",
                    ));
                }
            }
            Some(Value::Bool(true)) if !m.is_archived => {
                if id == SCHEDULER_ROBOT || id == self.credentials_owner {
                    return Err(err(403, "This member cannot be deactivated"));
                }
                let receiver = match (new_owner, archive_documents) {
                    (Some(owner), _) => {
                        let o = self.member_index(owner)?;
                        if self.members[o].is_archived || o == i {
                            return Err(err(400, "newOwnerId must be an active member"));
                        }
                        Some(o)
                    }
                    (None, true) => None,
                    (None, false) => Some(self.member_index(&self.credentials_owner.clone())?),
                };
                self.hand_over(i, receiver);
                let schedules_to = receiver
                    .filter(|_| !archive_schedules)
                    .map(|r| self.members[r].member_id.clone());
                self.hand_over_schedules(id, schedules_to.as_deref());
                m.documents = 0;
                m.is_archived = true;
            }
            Some(Value::Bool(false)) => m.is_archived = false,
            Some(Value::Bool(true)) => {}
            Some(_) => return Err(err(400, "isArchived must be a boolean")),
        }
        self.members[i] = m;
        if let Some(kind) = kind {
            self.details_mut(id).user_kind = kind;
        }
        Ok(self.member_json(&self.members[i], true))
    }

    fn hand_over(&mut self, from: usize, to: Option<usize>) {
        let documents = self.members[from].documents;
        self.members[from].documents = 0;
        match to {
            Some(t) => self.members[t].documents += documents,
            None => self.archived_documents += documents,
        }
    }

    /// `DELETE /v2/members/{id}`: deactivation; documents go to the owner of
    /// the API credentials.
    pub fn delete_member(&mut self, id: &str) -> Result<Value, ApiError> {
        let i = self.member_index(id)?;
        if id == SCHEDULER_ROBOT || id == self.credentials_owner {
            return Err(err(403, "This member cannot be deactivated"));
        }
        if !self.members[i].is_archived {
            let owner = self.member_index(&self.credentials_owner.clone())?;
            self.hand_over(i, Some(owner));
            let owner = self.credentials_owner.clone();
            self.hand_over_schedules(id, Some(&owner));
            self.members[i].is_archived = true;
        }
        Ok(json!({}))
    }

    pub fn list_teams(&self, name: Option<&str>) -> Vec<Value> {
        self.teams
            .iter()
            .filter(|t| name.is_none_or(|n| n == t.name))
            .map(|t| self.team_json(t, false))
            .collect()
    }

    pub fn get_team(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.team_index(id)?;
        Ok(self.team_json(&self.teams[i], true))
    }

    fn team_name_taken(&self, name: &str, except: Option<usize>) -> bool {
        self.teams
            .iter()
            .enumerate()
            .any(|(i, t)| Some(i) != except && t.name.trim().eq_ignore_ascii_case(name.trim()))
    }

    fn visibility(body: &Value) -> Result<Option<String>, ApiError> {
        match optional(body, "visibility")? {
            None => Ok(None),
            Some(v @ ("public" | "private")) => Ok(Some(v.to_string())),
            Some(v) => Err(err(
                400,
                format!("visibility must be public or private, not '{v}'"),
            )),
        }
    }

    pub fn create_team(&mut self, body: &Value) -> Result<Value, ApiError> {
        let name = required(body, "name")?;
        if self.team_name_taken(name, None) {
            return Err(err(409, "Duplicate record"));
        }
        let mut members = Vec::new();
        if let Some(list) = body.get("members").and_then(Value::as_array) {
            for m in list {
                let id = m
                    .as_str()
                    .ok_or_else(|| err(400, "members must be member IDs"))?;
                self.member_index(id)?;
                members.push(id.to_string());
            }
        }
        let team = SigmaTeam {
            team_id: self.new_team_id(),
            name: name.to_string(),
            description: optional(body, "description")?.map(str::to_string),
            visibility: Self::visibility(body)?.unwrap_or_else(|| "private".into()),
            members,
        };
        let mut out = self.team_json(&team, true);
        out["workspaceId"] = Value::Null;
        self.teams.push(team);
        Ok(out)
    }

    pub fn update_team(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        let i = self.team_index(id)?;
        let mut team = self.teams[i].clone();
        if let Some(name) = optional(body, "name")? {
            if self.team_name_taken(name, Some(i)) {
                return Err(err(409, "Duplicate record"));
            }
            team.name = name.to_string();
        }
        match body.get("description") {
            None => {}
            Some(Value::Null) => team.description = None,
            Some(Value::String(d)) => team.description = Some(d.clone()),
            Some(_) => return Err(err(400, "description must be a string")),
        }
        if let Some(v) = Self::visibility(body)? {
            team.visibility = v;
        }
        self.teams[i] = team;
        Ok(self.team_json(&self.teams[i], false))
    }

    pub fn delete_team(&mut self, id: &str) -> Result<Value, ApiError> {
        let i = self.team_index(id)?;
        self.teams.remove(i);
        self.team_admins.remove(id);
        self.forget_team(id);
        Ok(json!({}))
    }

    /// A team's member IDs.
    pub fn team_members(&self, id: &str) -> Result<&[String], ApiError> {
        let i = self.team_index(id)?;
        Ok(&self.teams[i].members)
    }

    /// A team membership as the API lists it.
    pub fn team_member_out<'a>(&'a self, team: &str, member: &'a str) -> TeamMemberOut<'a> {
        TeamMemberOut {
            user_id: member,
            is_team_admin: self.is_team_admin(team, member),
            added_by: &self.credentials_owner,
        }
    }

    /// `PATCH /v2/teams/{id}/members`: `add` and `remove` lists of member
    /// IDs, either of which may be absent or null.
    pub fn patch_team_members(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        let i = self.team_index(id)?;
        let ids = |key: &str| -> Result<Vec<String>, ApiError> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(list)) => list
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| err(400, format!("{key} must be member IDs")))
                    })
                    .collect(),
                Some(_) => Err(err(400, format!("{key} must be an array of member IDs"))),
            }
        };
        let (add, remove) = (ids("add")?, ids("remove")?);
        for m in add.iter().chain(&remove) {
            let j = self.member_index(m)?;
            if self.members[j].is_inactive {
                return Err(err(
                    400,
                    format!("Inactive members cannot be added or removed from a team: {m}"),
                ));
            }
        }
        if let Some(admins) = self.team_admins.get_mut(id) {
            admins.retain(|m| !remove.contains(m));
        }
        let team = &mut self.teams[i];
        team.members.retain(|m| !remove.contains(m));
        for m in add {
            if !team.members.contains(&m) {
                team.members.push(m);
            }
        }
        Ok(json!({}))
    }
}

fn required<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    optional(body, field)?.ok_or_else(|| err(400, format!("{field} is required")))
}

fn optional<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(err(400, format!("{field} cannot be empty")))
        }
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(err(400, format!("{field} must be a string"))),
    }
}

/// A body that is an object, for handlers.
pub fn object(body: Value) -> Result<Value, ApiError> {
    match body {
        Value::Object(_) => Ok(body),
        Value::Null => Ok(Value::Object(Map::new())),
        _ => Err(err(400, "the body must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> SigmaOrg {
        SigmaOrg::new("id", "secret", "admin@x.io")
    }

    #[test]
    fn pagination_walks_every_item_once() {
        let items: Vec<Value> = (0..2500).map(|i| json!(i)).collect();
        let mut seen = 0;
        let mut page: Option<String> = None;
        loop {
            let v = serde_json::to_value(
                paginate(&items, Some("1000"), page.as_deref(), Value::clone).unwrap(),
            )
            .unwrap();
            seen += v["entries"].as_array().unwrap().len();
            assert_eq!(v["total"], 2500);
            match v["nextPage"].as_str() {
                Some(p) => page = Some(p.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, 2500);
        assert_eq!(
            paginate(&items, Some("5000"), None, Value::clone)
                .unwrap()
                .entries
                .len(),
            1000
        );
        assert_eq!(
            paginate(&items, None, Some("bogus"), Value::clone)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn documented_errors() {
        let mut o = org();
        let m = o
            .create_member(&json!({"email": "a@x.io", "firstName": "A", "lastName": "B", "memberType": "creator"}), true)
            .unwrap();
        assert_eq!(m["memberType"], "Creator");
        let id = m["memberId"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 29);
        let e = o
            .update_member(&id, &json!({"memberType": "Wizard"}))
            .unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (404, "Member type name is not found")
        );
        let e = o
            .update_member(&id, &json!({"email": "ADMIN@x.io"}))
            .unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (409, "Duplicate record"));
        assert_eq!(
            o.update_member(&id, &json!({})).unwrap()["isArchived"],
            false
        );
    }

    #[test]
    fn deactivation_hands_documents_over_and_reactivation_restores() {
        let mut o = org();
        let a = o
            .create_member(
                &json!({"email": "a@x.io", "firstName": "A", "lastName": "B"}),
                true,
            )
            .unwrap();
        let b = o
            .create_member(
                &json!({"email": "b@x.io", "firstName": "B", "lastName": "B"}),
                true,
            )
            .unwrap();
        let (a, b) = (
            a["memberId"].as_str().unwrap().to_string(),
            b["memberId"].as_str().unwrap().to_string(),
        );
        let ai = o.member_index(&a).unwrap();
        o.members[ai].documents = 3;
        o.update_member(&a, &json!({"isArchived": true, "newOwnerId": b}))
            .unwrap();
        assert_eq!(o.members[o.member_index(&b).unwrap()].documents, 3);
        assert!(
            o.list_members(false, false, None)
                .iter()
                .all(|m| m.member_id != a)
        );
        o.update_member(&a, &json!({"isArchived": false})).unwrap();
        assert!(!o.members[ai].is_archived);
    }
}
