//! `roster import --csv FILE [--remove]`: edit the state from a CSV file.
//! The edit is checked like any state before it is kept; it is then
//! reviewed and applied through `roster plan` and `roster apply`.

use std::path::Path;

use anyhow::{Result, anyhow, bail};

use super::outcome::Status;
use super::output::{outln, stderr_line};
use super::scope::{Scope, load_state};
use super::target::Targets;
use crate::cli::ImportArgs;
use crate::model::{LiveUser, ProviderKind};
use crate::provider::Pacing;
use crate::state::edit::StateFiles;

pub(super) async fn run(scope: &Scope<'_>, args: &ImportArgs) -> Result<Status> {
    match &args.csv {
        Some(csv) => from_csv(scope.dir, csv, args),
        None => from_live(scope, args).await,
    }
}

/// Edits the state so it describes what is live on the sites.
async fn from_live(scope: &Scope<'_>, args: &ImportArgs) -> Result<Status> {
    let (full, _) = scope.load_all()?;
    let all_sites: Vec<(String, ProviderKind)> = full
        .sites
        .iter()
        .map(|s| (s.site.name.clone(), s.site.provider))
        .collect();
    let mut desired = scope.narrow(full)?;
    for site in &mut desired.sites {
        site.site.provider.read_all_kinds(&mut site.site);
    }
    let targets = Targets::connect(&desired, &args.target, Pacing::default()).await?;
    let live = targets.fetch().await;
    targets.finish().await?;
    let live = live?;
    if args.prune {
        refuse_prune_of_empty(&desired, &live)?;
    }
    let mut files = StateFiles::open(scope.dir).map_err(|e| anyhow!(e))?;
    let mut lines = import_sites(
        scope.dir,
        &mut files,
        (&desired, &live),
        &all_sites,
        args.prune,
    )?;
    if args.prune {
        lines.extend(prune_everywhere(&mut files, (&desired, &live), &all_sites));
    }
    files.canonicalize().map_err(|e| anyhow!(e))?;
    if args.dry_run {
        return show_dry_run(scope.dir, &files, &lines);
    }
    let new_files: Vec<std::path::PathBuf> = files
        .changed()
        .into_iter()
        .filter(|(path, _)| std::fs::symlink_metadata(path).is_err())
        .map(|(path, _)| path.to_path_buf())
        .collect();
    let written = write_checked(scope.dir, &files)?;
    for path in &written {
        outln!("edited {}", path.display())?;
    }
    for l in &lines {
        outln!("{l}")?;
    }
    if written.is_empty() {
        outln!("No file changed: the state already says what the import found.")?;
    } else {
        outln!("{}", review_hint(&new_files))?;
    }
    outln!("{}", still_to_plan(scope, &live, args.prune))?;
    Ok(Status::Success)
}

/// The names of the state's sites of provider `p`.
fn sites_of(all: &[(String, ProviderKind)], p: ProviderKind) -> Vec<String> {
    all.iter()
        .filter(|(_, of)| *of == p)
        .map(|(name, _)| name.clone())
        .collect()
}

/// `--prune` of what each provider declares once for every one of its
/// sites: warns of those kept, and says which left.
fn prune_everywhere(
    files: &mut StateFiles,
    (desired, live): (&crate::model::DesiredState, &[crate::model::LiveSite]),
    all: &[(String, ProviderKind)],
) -> Vec<String> {
    let mut said = Vec::new();
    for &p in ProviderKind::ALL {
        let read: Vec<(&str, &crate::model::LiveSite)> = desired
            .sites
            .iter()
            .zip(live)
            .filter(|(d, _)| d.site.provider == p)
            .map(|(d, l)| (d.site.name.as_str(), l))
            .collect();
        let done = p.prune_kinds_everywhere(files, &read, &sites_of(all, p));
        for why in &done.warnings {
            stderr_line!("warning: {}", crate::escape::visible(why));
        }
        said.extend(done.said);
    }
    said
}

/// An answer with nobody roster manages in it (nobody at all, or only the
/// platform's own, SCIM-owned or embed accounts) is more likely a broken
/// read than an empty site: `--prune` never takes everyone off the state on
/// its word.
fn refuse_prune_of_empty(
    desired: &crate::model::DesiredState,
    live: &[crate::model::LiveSite],
) -> Result<()> {
    if let Some((site, _)) = desired
        .sites
        .iter()
        .zip(live)
        .find(|(d, l)| !l.users.iter().any(LiveUser::is_managed) && !d.users.is_empty())
    {
        bail!(
            "site `{}` lists nobody roster manages; --prune would take everyone declared for it off the state. Nothing was written; check the site, or remove the people by hand",
            site.site.name
        );
    }
    Ok(())
}

/// Edits the state files from each site's live state; the lines that say
/// what was done, site by site.
fn import_sites(
    dir: &Path,
    files: &mut StateFiles,
    (desired, live): (&crate::model::DesiredState, &[crate::model::LiveSite]),
    all: &[(String, ProviderKind)],
    prune: bool,
) -> Result<Vec<String>> {
    let names: Vec<String> = all.iter().map(|(name, _)| name.clone()).collect();
    let mut lines = Vec::new();
    for (site, live) in desired.sites.iter().zip(live) {
        let same = sites_of(all, site.site.provider);
        let sites = (names.as_slice(), same.as_slice());
        let done = crate::import::live::import_site(dir, files, site, live, sites, prune)?;
        for why in &done.skipped {
            stderr_line!(
                "warning: {}: {}",
                site.site.name,
                crate::escape::visible(why)
            );
        }
        for u in &done.undone {
            lines.push(format!(
                "{}: {} `{}` is live as `{}`, so the entry says `{}` again (the rename was never applied; declare it again to make it)",
                site.site.name, u.what, u.declared, u.live, u.live
            ));
        }
        lines.push(site_summary(&site.site.name, &done, prune));
    }
    Ok(lines)
}

/// One site's line: people, groups (and the provider's own kinds) added,
/// updated and, with `--prune`, removed.
fn site_summary(site: &str, done: &crate::import::live::Imported, prune: bool) -> String {
    let removed = |n: usize| {
        if prune {
            format!(", {n} removed")
        } else {
            String::new()
        }
    };
    let mut line = format!(
        "{}: {} added, {} updated{}; {} added, {} updated{}",
        site,
        people(done.users_added),
        done.users_updated,
        removed(done.users_removed),
        count(done.groups_added, "group", "groups"),
        done.groups_updated,
        removed(done.groups_removed)
    );
    if done.kinds_added + done.kinds_updated + done.kinds_removed > 0 {
        line.push_str(&format!(
            "; {} {} added, {} updated{}",
            done.kinds_added,
            done.kinds_imported,
            done.kinds_updated,
            removed(done.kinds_removed)
        ));
    }
    line
}

/// `--dry-run`: checks the edited state and shows it, writing nothing.
fn show_dry_run(dir: &Path, files: &StateFiles, lines: &[String]) -> Result<Status> {
    check(dir, files)?;
    for (path, text) in files.changed() {
        outln!("--- {} would become:\n{text}", path.display())?;
    }
    for l in lines {
        outln!("{l}")?;
    }
    outln!("Nothing was written (--dry-run).")?;
    Ok(Status::Success)
}

/// How to review what import wrote: `git diff` does not show new files.
fn review_hint(new_files: &[std::path::PathBuf]) -> String {
    if new_files.is_empty() {
        return "Review with `git diff`.".to_string();
    }
    let names: Vec<String> = new_files
        .iter()
        .map(|p| super::plan::shell_word(&p.display().to_string()))
        .collect();
    format!(
        "Review with `git diff`, and `git add` the new file{} it does not show: {}.",
        if names.len() == 1 { "" } else { "s" },
        names.join(" ")
    )
}

/// What `roster plan` will show now, from the state as written and the live
/// state just read (no further request), planned as `roster plan` plans it:
/// access past its `expires` date as not declared.
fn still_to_plan(scope: &Scope<'_>, live: &[crate::model::LiveSite], prune: bool) -> String {
    let today = super::scope::today();
    let plan = scope
        .load_all()
        .and_then(|(full, _)| scope.narrow(full))
        .ok()
        .and_then(|desired| {
            let resolved: Vec<_> = desired
                .sites
                .iter()
                .map(|s| crate::plan::expiry::resolve(s, today).0)
                .collect();
            crate::plan::plan_sites(resolved.iter().map(|s| &**s).zip(live))
                .ok()
                .map(|plan| plan.summary().total())
        });
    match plan {
        Some(0) => "`roster plan` should now show no changes.".to_string(),
        Some(n) if !prune => format!(
            "`roster plan` will still show {n} change{}: what the state declares and the sites lack (import keeps it; `roster import --prune` takes it off the state), and access past its `expires` date (import keeps the date).",
            if n == 1 { "" } else { "s" }
        ),
        Some(n) => format!(
            "`roster plan` will still show {n} change{}; run it to see which.",
            if n == 1 { "" } else { "s" }
        ),
        None => "Run `roster plan` to see what is left to change.".to_string(),
    }
}

/// `1 person`, `2 people`.
fn people(n: usize) -> String {
    count(n, "person", "people")
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Edits the state from a CSV file.
fn from_csv(dir: &Path, csv: &Path, args: &ImportArgs) -> Result<Status> {
    // The state must be valid before it is edited.
    let desired = load_state(dir)?;
    let mut files = StateFiles::open(dir).map_err(|e| anyhow!(e))?;
    let result = if args.remove {
        crate::import::csv::remove(csv, &mut files)
    } else {
        crate::import::csv::batch_update(csv, &mut files, &desired)
    };
    let updated = match result {
        Ok(n) => n,
        Err(e) => {
            for p in &e.problems {
                stderr_line!("error: {p}");
            }
            bail!("{e}; nothing was written");
        }
    };
    files.canonicalize().map_err(|e| anyhow!(e))?;
    let changed = files.changed();
    let verb = if args.remove { "remove" } else { "update" };
    if args.dry_run {
        check(dir, &files)?;
        for (path, text) in &changed {
            outln!("--- {} would become:\n{text}", path.display())?;
        }
        outln!(
            "Would {verb} {} in {}; nothing was written.",
            people(updated),
            count(changed.len(), "file", "files")
        )?;
        return Ok(Status::Success);
    }
    let written = write_checked(dir, &files)?;
    for path in &written {
        outln!("edited {}", path.display())?;
    }
    outln!(
        "{}d {} from {}. Review with `git diff`, then `roster plan`.",
        if args.remove { "Remove" } else { "Update" },
        people(updated),
        csv.display()
    )?;
    Ok(Status::Success)
}

/// Writes the edits, only if the state still loads with them.
pub(super) fn write_checked(dir: &Path, files: &StateFiles) -> Result<Vec<std::path::PathBuf>> {
    check(dir, files)?;
    files.write().map_err(|e| {
        anyhow!("{e}; every file written was put back, and nothing else was left behind")
    })
}

/// Whether the edits land inside the state directory and the state still
/// loads with them, written nowhere: a dry run fails exactly where the real
/// run would.
fn check(dir: &Path, files: &StateFiles) -> Result<()> {
    files
        .check_targets()
        .map_err(|e| anyhow!("{e}; nothing was written"))?;
    files.check(dir).map_err(|problems| {
        for p in &problems {
            stderr_line!("error: {p}");
        }
        anyhow!("the edited state would not be valid; nothing was written")
    })
}
