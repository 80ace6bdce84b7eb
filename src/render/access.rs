//! How access changes (Sigma workspaces and grants) read in text, markdown
//! and JSON plans.

use serde_json::{Value, json};

use super::json::FieldDocument;
use crate::escape;
use crate::model::access::{AccessChange, GrantChange};

/// What follows the change's head on its line (text and markdown).
pub fn detail(change: &AccessChange) -> Vec<String> {
    match change {
        AccessChange::CreateWorkspace { .. } | AccessChange::RenameWorkspace { .. } => Vec::new(),
        AccessChange::DeleteWorkspace { .. } => {
            vec![
                "(not declared, unmanaged_workspaces = \"delete\"; deleted with its content)"
                    .into(),
            ]
        }
        AccessChange::Grant(g) => vec![grant_detail(g)],
    }
}

/// `workspace, team Analysts: edit → view (lowered: revoked, then granted)`
fn grant_detail(g: &GrantChange) -> String {
    let permission = match (&g.before, &g.after) {
        (None, Some(a)) => a.clone(),
        (Some(b), None) => format!("{b} (not declared; revoked)"),
        (Some(b), Some(a)) if g.is_lowered() => {
            format!("{b} → {a} (lowered: revoked, then granted)")
        }
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, None) => String::new(),
    };
    format!(
        "{}, {}: {}",
        g.on.as_str(),
        g.grantee,
        escape::text(&permission)
    )
}

/// A grant's `(workspace, team Analysts)`, for the apply report's line;
/// empty for a workspace change.
pub fn grantee_suffix(change: &AccessChange) -> String {
    match change {
        AccessChange::Grant(g) => format!(" ({}, {})", g.on.as_str(), g.grantee),
        _ => String::new(),
    }
}

/// The field lines under an update (a workspace's name).
pub fn changed_field(change: &AccessChange) -> Option<(&'static str, &crate::model::Diff<String>)> {
    match change {
        AccessChange::RenameWorkspace { name, .. } => Some(("name", name)),
        _ => None,
    }
}

/// The JSON plan's `fields` of an access change.
pub fn fields(
    change: &AccessChange,
    field: fn(&'static str, Value, Value) -> FieldDocument,
) -> Vec<FieldDocument> {
    match change {
        AccessChange::CreateWorkspace { name } => vec![field("name", Value::Null, json!(name))],
        AccessChange::RenameWorkspace { name, .. } => {
            vec![field("name", json!(name.before), json!(name.after))]
        }
        AccessChange::DeleteWorkspace { .. } => Vec::new(),
        AccessChange::Grant(g) => vec![field("permission", json!(g.before), json!(g.after))],
    }
}

/// The markdown summary's kind of an access change, as an index of
/// [`KINDS`].
pub const KINDS: [&str; 4] = [
    "workspace delete",
    "grant change",
    "workspace update",
    "workspace create",
];

pub fn kind_index(change: &AccessChange) -> usize {
    match change {
        AccessChange::DeleteWorkspace { .. } => 0,
        AccessChange::Grant(_) => 1,
        AccessChange::RenameWorkspace { .. } => 2,
        AccessChange::CreateWorkspace { .. } => 3,
    }
}
