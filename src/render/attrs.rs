//! How the changes of user attributes, their values and custom account
//! types read in a plan: shared by the text and markdown renderers. Values
//! are escaped like every other value a state or a site supplies.

use crate::escape::{quoted, visible};
use crate::model::{AttrTarget, Change, Diff, KeptValue};

/// A value, or what its absence means.
fn value(v: Option<&String>, absent: &str) -> String {
    v.map_or_else(|| absent.to_string(), |v| quoted(v))
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| visible(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What follows the change's head on its line.
pub fn detail(change: &Change) -> Vec<String> {
    match change {
        Change::CreateAttribute {
            description,
            default,
            ..
        } => [
            description
                .as_ref()
                .map(|d| format!("description={}", quoted(d))),
            default.as_ref().map(|d| format!("default={}", quoted(d))),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Change::ReplaceAttribute { kept, .. } => vec![format!(
            "(replaced: Sigma cannot edit an attribute; deleted and created again, {})",
            match kept.len() {
                0 => "no value to set again".to_string(),
                1 => "its 1 value set again".to_string(),
                n => format!("its {n} values set again"),
            }
        )],
        Change::DeleteAttribute {
            people,
            teams,
            tenants,
            ..
        } => vec![match (people, teams, tenants) {
            (0, 0, 0) => "(not declared; deleted; no person or team holds a value)".into(),
            (_, _, 0) => format!(
                "(not declared; deleted with the values of {} and {})",
                self::people(*people),
                self::teams(*teams)
            ),
            _ => format!(
                "(not declared; deleted with the values of {}, {} and {} tenant{})",
                self::people(*people),
                self::teams(*teams),
                tenants,
                if *tenants == 1 { "" } else { "s" }
            ),
        }],
        Change::SetAttributes { target, .. } => vec![match target {
            AttrTarget::User => "(person)".into(),
            AttrTarget::Team => "(team)".into(),
            AttrTarget::Tenant => "(tenant)".into(),
        }],
        Change::CreateAccountType {
            description,
            permissions,
            ..
        } => vec![
            format!("description={}", quoted(description)),
            format!("permissions=[{}]", list(permissions)),
        ],
        Change::ReplaceAccountType { .. } => {
            vec!["(replaced: Sigma cannot edit an account type; deleted and created again)".into()]
        }
        Change::DeleteAccountType { moved, to, .. } => match to {
            Some((to, _)) if !moved.is_empty() => vec![format!(
                "(not declared; deleted, {} moved to {})",
                people(moved.len()),
                visible(to)
            )],
            _ => vec!["(not declared; deleted)".into()],
        },
        _ => Vec::new(),
    }
}

fn people(n: usize) -> String {
    format!("{n} {}", if n == 1 { "person" } else { "people" })
}

fn teams(n: usize) -> String {
    format!("{n} team{}", if n == 1 { "" } else { "s" })
}

/// `values set again: a@x.com="EU", team Ops="EU", tenant t-1="US"`:
/// every value the replaced attribute holds, none left out.
fn kept_values(kept: &[KeptValue]) -> Vec<String> {
    if kept.is_empty() {
        return Vec::new();
    }
    let list: Vec<String> = kept
        .iter()
        .map(|k| {
            let whose = match k.target {
                AttrTarget::User => "",
                AttrTarget::Team => "team ",
                AttrTarget::Tenant => "tenant ",
            };
            format!("{whose}{}={}", visible(&k.key), quoted(&k.value))
        })
        .collect();
    vec![format!("values set again: {}", list.join(", "))]
}

/// The lines under the head: one per field or value that changes.
pub fn fields(change: &Change) -> Vec<String> {
    match change {
        Change::ReplaceAttribute {
            description,
            default,
            kept,
            ..
        } => [("description", description), ("default", default)]
            .into_iter()
            .filter(|(_, d)| d.before != d.after)
            .map(|(name, d)| {
                format!(
                    "{name}: {} → {}",
                    value(d.before.as_ref(), "(none)"),
                    value(d.after.as_ref(), "(none)")
                )
            })
            .chain(kept_values(kept))
            .collect(),
        Change::SetAttributes { values, .. } => values
            .iter()
            .map(|v| {
                format!(
                    "{}: {} → {}",
                    visible(&v.attribute),
                    value(v.before.as_ref(), "(none)"),
                    value(v.after.as_ref(), "(removed)")
                )
            })
            .collect(),
        Change::ReplaceAccountType {
            description,
            permissions,
            moved,
            via,
            name,
            ..
        } => replaced_type(description, permissions, moved, (via, name)),
        Change::DeleteAccountType { moved, .. } if !moved.is_empty() => {
            vec![format!("moved: {}", list(moved))]
        }
        _ => Vec::new(),
    }
}

fn replaced_type(
    description: &Diff<String>,
    permissions: &crate::model::Membership,
    moved: &[String],
    (via, name): (&str, &str),
) -> Vec<String> {
    let mut lines = Vec::new();
    if description.before != description.after {
        lines.push(format!(
            "description: {} → {}",
            quoted(&description.before),
            quoted(&description.after)
        ));
    }
    if !permissions.added.is_empty() || !permissions.removed.is_empty() {
        let changes: Vec<String> = permissions
            .added
            .iter()
            .map(|p| format!("+{}", visible(p)))
            .chain(
                permissions
                    .removed
                    .iter()
                    .map(|p| format!("-{}", visible(p))),
            )
            .collect();
        lines.push(format!("permissions: {}", changes.join(" ")));
    }
    if !moved.is_empty() {
        lines.push(format!(
            "people: {} held on {} meanwhile, then moved back to {}: {}",
            people(moved.len()),
            visible(via),
            visible(name),
            list(moved)
        ));
    }
    lines
}
