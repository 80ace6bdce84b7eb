//! `roster export --format csv [--live]`: the state, or what is live on the
//! sites, as CSV: one row per person and site.

use anyhow::Result;

use super::outcome::Status;
use super::output::out;
use super::scope::Scope;
use super::target::Targets;
use crate::cli::ExportArgs;
use crate::import::roundtrip::{ExportRow, export_csv};
use crate::model::{DesiredState, LiveSite, email_key};
use crate::provider::Pacing;

pub(super) async fn run(scope: &Scope<'_>, args: &ExportArgs) -> Result<Status> {
    let desired = scope.load()?;
    // Every cell as a spreadsheet can open it safely; the file reads back
    // with `roster import --csv` unchanged, or nothing is written.
    let csv = if args.live {
        let targets = Targets::connect(&desired, &args.target, Pacing::default()).await?;
        let live = targets.fetch().await;
        targets.finish().await?;
        export_csv(&live_rows(&desired, &live?))?
    } else {
        export_csv(&declared_rows(&desired))?
    };
    out!("{csv}")?;
    Ok(Status::Success)
}

/// What is live on each site, a row per member roster manages. Members
/// roster never declares (the platform's own accounts, SCIM-owned and
/// embed users) are left out, and said: the file reads back.
fn live_rows<'a>(desired: &'a DesiredState, live: &'a [LiveSite]) -> Vec<ExportRow<'a>> {
    let mut rows = Vec::new();
    for (site, live) in desired.sites.iter().zip(live) {
        let p = site.site.provider;
        let (mut users, unmanaged): (Vec<_>, Vec<_>) =
            live.users.iter().partition(|u| u.is_managed());
        if !unmanaged.is_empty() {
            let emails: Vec<&str> = unmanaged.iter().map(|u| u.email.as_str()).collect();
            super::output::stderr_line!(
                "note: {}: left out {} member{} roster never manages: {}",
                site.site.name,
                emails.len(),
                if emails.len() == 1 { "" } else { "s" },
                crate::escape::visible(&emails.join(", "))
            );
        }
        users.sort_by_cached_key(|u| email_key(&u.email));
        for u in users {
            let groups = u
                .groups
                .iter()
                .map(String::as_str)
                .filter(|g| {
                    p.implicit_group()
                        .is_none_or(|i| p.group_key(i) != p.group_key(g))
                })
                .collect();
            rows.push(ExportRow {
                site: &site.site.name,
                email: &u.email,
                first_name: &u.first_name,
                last_name: &u.last_name,
                groups,
                member_type: u.member_type.as_deref(),
                active: u.active,
            });
        }
    }
    rows
}

/// The declared people of each site, a row each. Memberships past their
/// `expires` date are no longer granted.
fn declared_rows(desired: &DesiredState) -> Vec<ExportRow<'_>> {
    let today = super::scope::today();
    let mut rows = Vec::new();
    for site in &desired.sites {
        let mut users: Vec<_> = site.users.iter().collect();
        users.sort_by_cached_key(|u| email_key(&u.email));
        for u in users {
            rows.push(ExportRow {
                site: &site.site.name,
                email: &u.email,
                first_name: &u.first_name,
                last_name: &u.last_name,
                groups: u.groups_on(today),
                member_type: u.member_type.as_deref(),
                active: u.active,
            });
        }
    }
    rows
}
