//! `roster export --format csv [--live]`: the state, or what is live on the
//! sites, as CSV: one row per person and site.

use anyhow::{Context, Result};

use super::Status;
use super::target::Targets;
use crate::cli::ExportArgs;
use crate::provider::Pacing;

/// Each cell as a spreadsheet can open it safely (see `neutralise`); the
/// file reads back with `roster import --csv` unchanged.
fn write_row<const N: usize>(out: &mut csv::Writer<Vec<u8>>, cells: [&str; N]) -> Result<()> {
    out.write_record(
        cells
            .map(crate::import::csv::neutralise)
            .iter()
            .map(std::convert::AsRef::as_ref),
    )?;
    Ok(())
}

pub(super) async fn run(scope: &super::Scope<'_>, args: &ExportArgs) -> Result<Status> {
    let desired = scope.load()?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(crate::import::roundtrip::EXPORT_HEADERS)?;
    if args.live {
        let targets = Targets::connect(&desired, &args.target, Pacing::default()).await?;
        let live = targets.fetch().await;
        targets.finish().await?;
        for (site, live) in desired.sites.iter().zip(live?) {
            let p = site.site.provider;
            // Members roster never declares (the platform's own accounts,
            // SCIM-owned and embed users) are left out: the file reads back.
            let (mut users, unmanaged): (Vec<_>, Vec<_>) = live
                .users
                .into_iter()
                .partition(crate::model::LiveUser::is_managed);
            if !unmanaged.is_empty() {
                let emails: Vec<&str> = unmanaged.iter().map(|u| u.email.as_str()).collect();
                super::stderr_line!(
                    "note: {}: left out {} member{} roster never manages: {}",
                    site.site.name,
                    emails.len(),
                    if emails.len() == 1 { "" } else { "s" },
                    crate::render::escape::visible(&emails.join(", "))
                );
            }
            users.sort_by_cached_key(|u| crate::model::email_key(&u.email));
            for u in users {
                let groups: Vec<&str> = u
                    .groups
                    .iter()
                    .map(String::as_str)
                    .filter(|g| {
                        p.implicit_group()
                            .is_none_or(|i| p.group_key(i) != p.group_key(g))
                    })
                    .collect();
                write_row(
                    &mut out,
                    [
                        site.site.name.as_str(),
                        &u.email,
                        &u.first_name,
                        &u.last_name,
                        &groups.join(";"),
                        u.member_type.as_deref().unwrap_or_default(),
                        if u.active { "true" } else { "false" },
                    ],
                )?;
            }
        }
    } else {
        // Memberships past their `expires` date are no longer granted.
        let today = super::insight::today();
        for site in &desired.sites {
            let mut users: Vec<_> = site.users.iter().collect();
            users.sort_by_cached_key(|u| crate::model::email_key(&u.email));
            for u in users {
                write_row(
                    &mut out,
                    [
                        site.site.name.as_str(),
                        &u.email,
                        &u.first_name,
                        &u.last_name,
                        &u.groups_on(today).join(";"),
                        u.member_type.as_deref().unwrap_or_default(),
                        if u.active { "true" } else { "false" },
                    ],
                )?;
            }
        }
    }
    let bytes = out.into_inner().context("writing the CSV")?;
    out!("{}", String::from_utf8(bytes).context("the CSV is UTF-8")?)?;
    Ok(Status::Success)
}
