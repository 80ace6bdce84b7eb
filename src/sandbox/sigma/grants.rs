//! How an emulated organisation grants access on its workspaces and
//! connections (the data is in [`super::access`]): new IDs, who a grantee
//! is, and grants that only ever raise access.

use std::collections::HashMap;

use serde_json::Value;

use super::access::{Grant, Grantee, Known, TIMESTAMP, array, bad, not_found, text};
use super::store::SigmaOrg;
use crate::sandbox::answer::ApiError;

impl SigmaOrg {
    /// A new ID: `prefix` then the organisation's next number, UUID-shaped.
    pub fn new_access_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-0000-4000-8000-{:012x}", self.next_id)
    }

    pub fn has_team(&self, id: &str) -> bool {
        self.teams.iter().any(|t| t.team_id == id)
    }

    /// The IDs of every member and team, for checking a request's many
    /// references at once.
    pub fn known(&self) -> Known<'_> {
        Known {
            members: self.members.iter().map(|m| m.member_id.as_str()).collect(),
            teams: self.teams.iter().map(|t| t.team_id.as_str()).collect(),
        }
    }

    /// A `grantee` object: exactly one of `memberId` and `teamId`, naming
    /// someone who exists.
    pub fn grantee(g: &Value, known: &Known<'_>) -> Result<Grantee, ApiError> {
        let g = g
            .get("grantee")
            .filter(|g| g.is_object())
            .ok_or_else(|| bad("grantee is required: {memberId} or {teamId}"))?;
        let member = g.get("memberId").and_then(Value::as_str);
        let team = g.get("teamId").and_then(Value::as_str);
        match (member, team) {
            (Some(_), Some(_)) => Err(bad(
                "Do not set both memberId and teamId in the same grantee",
            )),
            (Some(m), None) if known.members.contains(m) => Ok(Grantee::Member(m.to_string())),
            (Some(m), None) => Err(not_found(format!("Member not found: {m}"))),
            (None, Some(t)) if known.teams.contains(t) => Ok(Grantee::Team(t.to_string())),
            (None, Some(t)) => Err(not_found(format!("Team not found: {t}"))),
            (None, None) => Err(bad("grantee needs a memberId or a teamId")),
        }
    }

    /// Grants `permission` on `inode` to each grantee, in one go. A grant
    /// only raises access: one at or below what the grantee has already is
    /// answered as success and changes nothing (the existing, higher grant
    /// stays). Returns the index of each grant that now stands.
    pub fn raise_grants(
        &mut self,
        inode: &str,
        ladder: &[&str],
        wanted: Vec<(Grantee, String)>,
    ) -> Vec<usize> {
        let mut index: HashMap<Grantee, usize> = self
            .access
            .grants
            .iter()
            .enumerate()
            .filter(|(_, g)| g.inode_id == inode)
            .filter_map(|(i, g)| grantee_of(g).map(|who| (who, i)))
            .collect();
        let rank = |p: &str| ladder.iter().position(|l| *l == p);
        let mut out = Vec::with_capacity(wanted.len());
        for (who, permission) in wanted {
            if let Some(&i) = index.get(&who) {
                if rank(&permission) > rank(&self.access.grants[i].permission) {
                    self.access.grants[i].permission = permission;
                }
                out.push(i);
                continue;
            }
            let grant_id = self.new_access_id("9a000000");
            let (member_id, team_id) = match &who {
                Grantee::Member(m) => (Some(m.clone()), None),
                Grantee::Team(t) => (None, Some(t.clone())),
            };
            self.access.grants.push(Grant {
                grant_id,
                inode_id: inode.to_string(),
                member_id,
                team_id,
                permission,
            });
            index.insert(who, self.access.grants.len() - 1);
            out.push(self.access.grants.len() - 1);
        }
        out
    }

    /// The grants of a bulk grant request (`{grants: [{grantee,
    /// permission}]}`), every one checked before any is made.
    pub fn requested_grants(
        &self,
        body: &Value,
        ladder: &[&str],
    ) -> Result<Vec<(Grantee, String)>, ApiError> {
        let known = self.known();
        array(body, "grants")?
            .iter()
            .map(|g| {
                let who = Self::grantee(g, &known)?;
                let permission = text(g, "permission")?;
                if !ladder.contains(&permission) {
                    return Err(bad(format!(
                        "permission must be one of {}, not '{permission}'",
                        ladder.join(", ")
                    )));
                }
                Ok((who, permission.to_string()))
            })
            .collect()
    }

    /// A grant as the lists show one.
    pub fn grant_json(&self, g: &Grant) -> Value {
        serde_json::json!({
            "grantId": g.grant_id,
            "inodeId": g.inode_id,
            "organizationId": self.organization_id,
            "memberId": g.member_id,
            "teamId": g.team_id,
            "permission": g.permission,
            "createdBy": self.credentials_owner,
            "updatedBy": self.credentials_owner,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        })
    }

    /// The grants on `inode`, in the order they were made.
    pub fn grants_on(&self, inode: &str) -> Vec<&Grant> {
        self.access
            .grants
            .iter()
            .filter(|g| g.inode_id == inode)
            .collect()
    }

    /// Removes the grant `grant` on `inode`.
    pub fn revoke(&mut self, inode: &str, grant: &str) -> Result<Grant, ApiError> {
        let i = self
            .access
            .grants
            .iter()
            .position(|g| g.grant_id == grant && g.inode_id == inode)
            .ok_or_else(|| not_found(format!("Grant not found: {grant}")))?;
        Ok(self.access.grants.remove(i))
    }
}

fn grantee_of(g: &Grant) -> Option<Grantee> {
    match (&g.member_id, &g.team_id) {
        (Some(m), _) => Some(Grantee::Member(m.clone())),
        (None, Some(t)) => Some(Grantee::Team(t.clone())),
        (None, None) => None,
    }
}
