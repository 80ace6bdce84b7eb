//! `roster validate`: load and check the state; no network.

use std::path::Path;

use anyhow::Result;

use super::{Status, load_state};

pub fn run(dir: &Path) -> Result<Status> {
    let desired = load_state(dir)?;
    let mut users = std::collections::HashSet::new();
    let mut groups = std::collections::HashSet::new();
    for s in &desired.sites {
        users.extend(s.users.iter().map(|u| crate::model::email_key(&u.email)));
        groups.extend(s.groups.iter().map(|g| g.name.to_lowercase()));
    }
    let n = desired.sites.len();
    println!(
        "The state under {} is valid: {n} site{}, {} user{}, {} group{}.",
        dir.display(),
        if n == 1 { "" } else { "s" },
        users.len(),
        if users.len() == 1 { "" } else { "s" },
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
    );
    Ok(Status::Success)
}
