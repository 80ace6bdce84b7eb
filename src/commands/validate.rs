//! `roster validate`: load and check the state; no network.

use anyhow::Result;

use super::Status;

pub fn run(scope: &super::Scope<'_>) -> Result<Status> {
    let desired = scope.load()?;
    let mut users = std::collections::HashSet::new();
    let mut groups = std::collections::HashSet::new();
    for s in &desired.sites {
        users.extend(s.users.iter().map(|u| crate::model::email_key(&u.email)));
        groups.extend(s.groups.iter().map(|g| g.name.to_lowercase()));
    }
    let n = desired.sites.len();
    outln!(
        "The state under {} is valid: {n} site{}, {} user{}, {} group{}.",
        scope.dir.display(),
        if n == 1 { "" } else { "s" },
        users.len(),
        if users.len() == 1 { "" } else { "s" },
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
    )?;
    Ok(Status::Success)
}
