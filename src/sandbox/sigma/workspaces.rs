//! Workspaces, their grants, `/v2/grants` and connections, as
//! `sigma-openapi-access.json` describes them. No HTTP here.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::access::{
    CONNECTION_PERMISSIONS, Connection, Grant, TIMESTAMP, WORKSPACE_PERMISSIONS, Workspace, bad,
    not_found, position, text,
};
use super::store::SigmaOrg;
use crate::sandbox::answer::ApiError;

/// What a grant of `/v2/workspaces/{id}/grants` or
/// `/v2/connections/{id}/grants` is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inode {
    Workspace,
    Connection,
}

impl Inode {
    /// Its permissions, lowest first.
    fn ladder(self) -> &'static [&'static str] {
        match self {
            Inode::Workspace => &WORKSPACE_PERMISSIONS,
            Inode::Connection => &CONNECTION_PERMISSIONS,
        }
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A number in base 62, as Sigma's URL IDs are written.
fn base62(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("base62 digits are ASCII")
}

/// Names compare trimmed and ignoring case (`exactName`, `noDuplicates`).
fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Whether `noDuplicates: true` was sent.
fn no_duplicates(body: &Value) -> Result<bool, ApiError> {
    match body.get("noDuplicates") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad("noDuplicates must be a boolean")),
    }
}

impl SigmaOrg {
    fn workspace_index(&self, id: &str) -> Result<usize, ApiError> {
        position(
            &self.access.workspaces,
            id,
            |w| &w.workspace_id,
            "Workspace",
        )
    }

    pub fn workspace_json(&self, w: &Workspace) -> Value {
        json!({
            "workspaceId": w.workspace_id,
            "workspaceUrlId": w.url_id,
            "name": w.name,
            "createdBy": self.credentials_owner,
            "updatedBy": self.credentials_owner,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        })
    }

    /// `GET /v2/workspaces`: `exactName` (equal, ignoring case) wins over
    /// `name` (a substring, ignoring case).
    pub fn list_workspaces(&self, name: Option<&str>, exact: Option<&str>) -> Vec<&Workspace> {
        let needle = name.map(str::to_lowercase);
        self.access
            .workspaces
            .iter()
            .filter(|w| match (exact, &needle) {
                (Some(e), _) => same_name(&w.name, e),
                (None, Some(n)) => w.name.to_lowercase().contains(n.as_str()),
                (None, None) => true,
            })
            .collect()
    }

    pub fn get_workspace(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.workspace_index(id)?;
        Ok(self.workspace_json(&self.access.workspaces[i]))
    }

    fn workspace_name_taken(&self, name: &str, except: Option<usize>) -> bool {
        self.access
            .workspaces
            .iter()
            .enumerate()
            .any(|(i, w)| Some(i) != except && same_name(&w.name, name))
    }

    /// `POST /v2/workspaces`: names may repeat unless `noDuplicates`.
    pub fn create_workspace(&mut self, body: &Value) -> Result<Value, ApiError> {
        let name = text(body, "name")?.to_string();
        if no_duplicates(body)? && self.workspace_name_taken(&name, None) {
            return Err(ApiError::new(409, "Duplicate record"));
        }
        let workspace_id = self.new_access_id("3a000000");
        let w = Workspace {
            workspace_id,
            url_id: base62(self.next_id * 7_919 + 1_000_003),
            name,
        };
        // Sigma's OpenAPI: the 200 answer is one of two shapes.
        let out = if self.access.workspace_ids_answer {
            json!({ "workspaceIds": [w.workspace_id], "workspaceUrlIds": [w.url_id] })
        } else {
            self.workspace_json(&w)
        };
        self.access.workspaces.push(w);
        Ok(out)
    }

    /// `PATCH /v2/workspaces/{id}`: a rename (`name` is required).
    pub fn update_workspace(&mut self, id: &str, body: &Value) -> Result<Value, ApiError> {
        let i = self.workspace_index(id)?;
        let name = text(body, "name")?.to_string();
        if no_duplicates(body)? && self.workspace_name_taken(&name, Some(i)) {
            return Err(ApiError::new(409, "Duplicate record"));
        }
        self.access.workspaces[i].name = name;
        Ok(self.workspace_json(&self.access.workspaces[i]))
    }

    /// `DELETE /v2/workspaces/{id}`: the workspace and its grants go.
    pub fn delete_workspace(&mut self, id: &str) -> Result<Value, ApiError> {
        let i = self.workspace_index(id)?;
        self.access.workspaces.remove(i);
        self.access.grants.retain(|g| g.inode_id != id);
        Ok(json!({}))
    }

    /// A grant as `/v2/grants` shows one: with its `inodeType` (a
    /// workspace is a folder).
    pub fn document_grant_json(&self, g: &Grant) -> Value {
        let mut v = self.grant_json(g);
        v["inodeType"] = json!("folder");
        v
    }

    fn is_workspace(&self, id: &str) -> bool {
        self.access.workspaces.iter().any(|w| w.workspace_id == id)
    }

    /// `GET /v2/grants`: grants on workspaces (the only documents the
    /// emulator has), filtered by `inodeId`, `teamId` and `userId`.
    pub fn list_grants(
        &self,
        inode: Option<&str>,
        team: Option<&str>,
        user: Option<&str>,
    ) -> Vec<&Grant> {
        let workspaces: HashSet<&str> = self
            .access
            .workspaces
            .iter()
            .map(|w| w.workspace_id.as_str())
            .collect();
        self.access
            .grants
            .iter()
            .filter(|g| workspaces.contains(g.inode_id.as_str()))
            .filter(|g| inode.is_none_or(|i| g.inode_id == i))
            .filter(|g| team.is_none_or(|t| g.team_id.as_deref() == Some(t)))
            .filter(|g| user.is_none_or(|u| g.member_id.as_deref() == Some(u)))
            .collect()
    }

    /// `POST /v2/grants`: create or raise one grant; answers with the grant
    /// that stands afterwards (the existing one when it was already at or
    /// above the permission asked for).
    pub fn create_grant(&mut self, body: &Value) -> Result<Value, ApiError> {
        let inode = text(body, "inodeId")?.to_string();
        if body.get("tagId").is_some_and(|t| !t.is_null()) {
            return Err(bad(
                "tagId names a version tag, and this organisation has none",
            ));
        }
        if !self.is_workspace(&inode) {
            return Err(not_found(format!("Inode not found: {inode}")));
        }
        let who = Self::grantee(body, &self.known())?;
        let permission = text(body, "permission")?;
        if !WORKSPACE_PERMISSIONS.contains(&permission) {
            return Err(bad(format!(
                "permission on a workspace must be one of {}, not '{permission}'",
                WORKSPACE_PERMISSIONS.join(", ")
            )));
        }
        let wanted = vec![(who, permission.to_string())];
        let i = self.raise_grants(&inode, &WORKSPACE_PERMISSIONS, wanted)[0];
        Ok(self.document_grant_json(&self.access.grants[i]))
    }

    fn document_grant_index(&self, id: &str) -> Result<usize, ApiError> {
        self.access
            .grants
            .iter()
            .position(|g| g.grant_id == id)
            .filter(|&i| self.is_workspace(&self.access.grants[i].inode_id))
            .ok_or_else(|| not_found(format!("Grant not found: {id}")))
    }

    pub fn get_grant(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.document_grant_index(id)?;
        Ok(self.document_grant_json(&self.access.grants[i]))
    }

    /// `DELETE /v2/grants/{id}`: answers with the grant deleted.
    pub fn delete_grant(&mut self, id: &str) -> Result<Value, ApiError> {
        let i = self.document_grant_index(id)?;
        let g = self.access.grants.remove(i);
        Ok(self.document_grant_json(&g))
    }

    fn connection_index(&self, id: &str) -> Result<usize, ApiError> {
        position(
            &self.access.connections,
            id,
            |c| &c.connection_id,
            "Connection",
        )
    }

    pub fn connection_json(&self, c: &Connection) -> Value {
        json!({
            "organizationId": self.organization_id,
            "connectionId": c.connection_id,
            "isSample": false,
            "isAuditLog": false,
            "lastActiveAt": TIMESTAMP,
            "name": c.name,
            "type": c.kind,
            "useOauth": false,
            "createdBy": self.credentials_owner,
            "updatedBy": self.credentials_owner,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
            "isArchived": c.is_archived,
        })
    }

    /// `GET /v2/connections`: archived ones only with `includeArchived`;
    /// `search` matches a part of the name, ignoring case.
    pub fn list_connections(
        &self,
        include_archived: bool,
        search: Option<&str>,
    ) -> Vec<&Connection> {
        let needle = search.map(str::to_lowercase);
        self.access
            .connections
            .iter()
            .filter(|c| include_archived || !c.is_archived)
            .filter(|c| {
                needle
                    .as_deref()
                    .is_none_or(|n| c.name.to_lowercase().contains(n))
            })
            .collect()
    }

    pub fn get_connection(&self, id: &str) -> Result<Value, ApiError> {
        let i = self.connection_index(id)?;
        Ok(self.connection_json(&self.access.connections[i]))
    }

    /// That a workspace or connection `id` exists.
    fn check_inode(&self, kind: Inode, id: &str) -> Result<(), ApiError> {
        match kind {
            Inode::Workspace => self.workspace_index(id).map(drop),
            Inode::Connection => self.connection_index(id).map(drop),
        }
    }

    /// `POST /v2/workspaces/{id}/grants` or `/v2/connections/{id}/grants`.
    pub fn grant_inode(&mut self, kind: Inode, id: &str, body: &Value) -> Result<Value, ApiError> {
        self.check_inode(kind, id)?;
        let wanted = self.requested_grants(body, kind.ladder())?;
        self.raise_grants(id, kind.ladder(), wanted);
        Ok(json!({}))
    }

    /// The grants on a workspace or connection, for its paged list.
    pub fn inode_grants(&self, kind: Inode, id: &str) -> Result<Vec<&Grant>, ApiError> {
        self.check_inode(kind, id)?;
        Ok(self.grants_on(id))
    }

    /// `DELETE /v2/workspaces/{id}/grants/{grant}` or the connection's.
    pub fn revoke_inode_grant(
        &mut self,
        kind: Inode,
        id: &str,
        grant: &str,
    ) -> Result<Value, ApiError> {
        self.check_inode(kind, id)?;
        self.revoke(id, grant)?;
        Ok(json!({}))
    }
}
