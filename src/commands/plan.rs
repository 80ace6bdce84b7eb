//! `roster plan`: fetch live state, print the plan, optionally save it.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::outcome::Status;
use super::output::{out, stderr_line};
use super::scope::Scope;
use super::target::Targets;
use crate::cli::PlanArgs;
use crate::model::DesiredState;
use crate::plan::Plan;
use crate::provider::Pacing;
use crate::render::Format;

pub(super) async fn run(scope: &Scope<'_>, args: &PlanArgs) -> Result<Status> {
    let (desired, read) = scope.load_counted()?;
    // Where the plan goes is checked before any site is read.
    if let Some(path) = &args.out {
        refuse_sandbox_data(&OUT, path, &args.target.sandbox_data)?;
        check_out_path(&OUT, path, scope.dir)?;
    }
    let targets = Targets::connect(&desired, &args.target, Pacing::default()).await?;
    let result = compute(&desired, &targets).await;
    targets.finish().await?;
    let mut computed = result?;
    // The warnings about the state are part of the plan: the reviewer sees
    // them with it, in every format.
    computed.plan.warnings = read.warnings;
    let plan = &computed.plan;
    let fingerprint = crate::plan::DesiredFingerprint::of(&desired);
    let shown = crate::render::render(plan, &fingerprint, args.format);
    let read = read.summary.describe();
    // Reviewers read the plan: how much of the state it was made from
    // belongs with it, so a file no longer read shows as a drop.
    match args.format {
        Format::Text => out!("{shown}\nRead {read}.\n")?,
        Format::Markdown => out!("{shown}\n<sub>Read {read}.</sub>\n")?,
        Format::Json => {
            out!("{shown}")?;
            // Whoever reads the log sees them too (files not read were
            // said as the state was loaded).
            super::output::stderr_placed_warnings(&plan.warnings);
            stderr_line!("Read {read}.");
        }
    }
    if let Some(path) = &args.out {
        let json = match args.format {
            Format::Json => shown,
            _ => crate::render::json::render(plan, fingerprint.get()),
        };
        save(&OUT, path, &json, scope.dir)?;
        stderr_line!(
            "Saved the plan to {}; apply exactly this plan with `{}`.",
            path.display(),
            apply_command(scope, &args.target, path)
        );
    }
    computed.require_every_site("the plan above covers the other sites")?;
    refuse_tripped_guards(plan, "apply will refuse this plan")?;
    refuse_unacknowledged_privileged(plan, "apply will refuse this plan")?;
    super::insight::refuse_over_budget(plan, "apply will refuse this plan")?;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Status::Changes
    } else {
        Status::Success
    })
}

/// The `roster apply` command for a plan this run saved to `path`: the same
/// state, `--site` flags and sandbox (never `--sandbox-reset`, which would
/// change the live state the plan was made from).
fn apply_command(scope: &Scope<'_>, target: &crate::cli::TargetArgs, path: &Path) -> String {
    let mut words = vec![
        "roster apply".to_string(),
        shell_word(&path.display().to_string()),
    ];
    let mut flag = |name: &str, value: &str| words.push(format!("--{name} {}", shell_word(value)));
    if scope.dir != Path::new("state") {
        flag("state", &scope.dir.display().to_string());
    }
    for site in scope.only {
        flag("site", site);
    }
    if let Some(url) = &target.sandbox_url {
        flag("sandbox-url", url);
    }
    if target.sandbox {
        // The default of --sandbox-data is left out.
        if target.sandbox_data != Path::new(".roster/sandbox.json") {
            flag("sandbox-data", &target.sandbox_data.display().to_string());
        }
        words.push("--sandbox".into());
    }
    words.join(" ")
}

/// `word` as one word of a POSIX shell command line.
pub(super) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Fails when the plan goes past a blast-radius guard; the plan printed
/// above already says which and how to acknowledge it, so the error names
/// each in one short line instead of saying it all again.
pub(super) fn refuse_tripped_guards(plan: &Plan, consequence: &str) -> Result<()> {
    use crate::plan::GuardKind;
    let trips = plan.guard_trips();
    if trips.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = trips
        .iter()
        .map(|t| {
            let what = match t.kind {
                GuardKind::Removals => "user removals",
                GuardKind::GroupDeletions => "group deletions",
                GuardKind::MembershipRemovals => "membership removals",
                GuardKind::AdminChanges => "administrator changes",
                GuardKind::WorkspaceDeletions => "workspace deletions",
                GuardKind::GrantRemovals => "grant removals",
                GuardKind::AccountTypeDeletions => "account type deletions",
            };
            format!(
                "  site `{}`: {} {what} (see `{}` above)",
                crate::escape::Text(&t.site),
                t.count,
                t.kind.allow_key()
            )
        })
        .collect();
    Err(anyhow!(
        "{} blast-radius guard{} tripped; {consequence}:\n{}",
        trips.len(),
        if trips.len() == 1 { "" } else { "s" },
        lines.join("\n")
    ))
}

/// Fails when the plan gives someone admin power or an administrator's
/// account without the site's `allow_privileged` naming them: each such
/// change is named, with the line to write.
pub(super) fn refuse_unacknowledged_privileged(plan: &Plan, consequence: &str) -> Result<()> {
    let refused = plan.unacknowledged();
    if refused.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = refused
        .iter()
        .map(|(site, p)| {
            format!(
                "  site `{}`: {p}",
                crate::escape::Text(&site.site),
                p = crate::escape::Text(&p.to_string())
            )
        })
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for site in &plan.sites {
        let mut emails: Vec<String> = site
            .privileged
            .iter()
            .map(|p| format!("{:?}", p.email))
            .collect();
        emails.sort();
        emails.dedup();
        if site.privileged.iter().any(|p| !p.acknowledged) {
            keys.push(format!(
                "  allow_privileged = [{}] under [sites.{}]",
                crate::escape::Text(&emails.join(", ")),
                crate::escape::Text(&site.site)
            ));
        }
    }
    Err(anyhow!(
        "{} privileged change{} not acknowledged; {consequence}:\n{}\nIf this is intended, write in the state, have it reviewed, and plan again:\n{}",
        refused.len(),
        if refused.len() == 1 { "" } else { "s" },
        lines.join("\n"),
        keys.join("\n")
    ))
}

/// A file a command writes beside its output: its option and what it holds.
pub(super) struct OutFile {
    pub flag: &'static str,
    pub what: &'static str,
    /// A name to suggest instead of one inside the state directory.
    pub example: &'static str,
}

/// `plan --out`.
pub(super) const OUT: OutFile = OutFile {
    flag: "--out",
    what: "the plan",
    example: "plan.json",
};

/// Writes the file whole or not at all: a temporary file beside it,
/// removed on any failure, then renamed over it. Only a new path or a
/// regular file outside the state directory is written.
pub(super) fn save(file: &OutFile, path: &Path, text: &str, state_dir: &Path) -> Result<()> {
    use std::io::Write;
    let parent = check_out_path(file, path, state_dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".roster-plan-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| {
            format!(
                "cannot write {} to {}; it was left as it was",
                file.what,
                path.display()
            )
        })?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| {
        format!(
            "cannot write {} to {}; it was left as it was",
            file.what,
            path.display()
        )
    })?;
    Ok(())
}

/// Refuses an `--out` path that is the sandbox's data file or its lock
/// (`--sandbox-data`, by default `.roster/sandbox.json`), whether or not
/// this run uses the sandbox: writing over it would replace the sandbox's
/// organisations with a plan.
pub(super) fn refuse_sandbox_data(file: &OutFile, path: &Path, sandbox_data: &Path) -> Result<()> {
    let lock = crate::lock::data_lock_path(sandbox_data);
    let same = |other: &Path| match (resolved(path), resolved(other)) {
        (Some(a), Some(b)) => a == b,
        _ => std::path::absolute(path).ok() == std::path::absolute(other).ok(),
    };
    let what = if same(sandbox_data) {
        "data file"
    } else if same(&lock) {
        "data file's lock"
    } else {
        return Ok(());
    };
    bail!(
        "{} {}: it is the sandbox's {what} (--sandbox-data {}), which --sandbox reads its sites from; save {} elsewhere (e.g. {} {}). Nothing was written",
        file.flag,
        path.display(),
        sandbox_data.display(),
        file.what,
        file.flag,
        file.example
    );
}

/// `path` with its directory resolved (symlinks, `..`), when it exists.
fn resolved(path: &Path) -> Option<std::path::PathBuf> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

/// Refuses an `--out` path that is not a regular file or is inside the
/// state directory; the directory the file goes in.
pub(super) fn check_out_path(
    file: &OutFile,
    path: &Path,
    state_dir: &Path,
) -> Result<std::path::PathBuf> {
    let flag = file.flag;
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            let kind = m.file_type();
            let what = if kind.is_symlink() {
                "a symlink"
            } else if kind.is_dir() {
                "a directory"
            } else {
                "not a regular file (a device, FIFO or socket)"
            };
            bail!(
                "{flag} {}: it is {what}; {} is written only to a new path or over a regular file. Nothing was written",
                path.display(),
                file.what
            );
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("{flag} {}: cannot check the path", path.display()));
        }
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let real_parent = std::fs::canonicalize(&parent).with_context(|| {
        format!(
            "{flag} {}: no directory {} to write it in",
            path.display(),
            parent.display()
        )
    })?;
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{flag} {}: name a file", path.display()))?;
    // Inside it, or in a directory linked into it (read as state too).
    let inside_state = std::fs::canonicalize(state_dir)
        .is_ok_and(|real_state| real_parent.join(name).starts_with(real_state))
        || crate::state::state_dirs(state_dir).contains(&real_parent);
    if inside_state {
        bail!(
            "{flag} {}: it is inside the state directory {}, where roster reads state from; save {} elsewhere (e.g. {flag} {}). Nothing was written",
            path.display(),
            state_dir.display(),
            file.what,
            file.example
        );
    }
    // A directory roster cannot write in (read-only, /proc, /sys) is found
    // now, before anything is sent, not after an apply that then fails.
    tempfile::Builder::new()
        .prefix(".roster-check-")
        .tempfile_in(&real_parent)
        .with_context(|| {
            format!(
                "{flag} {}: cannot write in {}; nothing was written",
                path.display(),
                real_parent.display()
            )
        })?;
    Ok(real_parent)
}

/// The plan of the sites that could be read, and what happened to the rest.
pub(super) struct Computed {
    pub plan: Plan,
    /// For each site of the plan, its index in the state (and its client).
    pub sites: Vec<usize>,
    /// For each site of the plan, the IDs its API addresses objects by, as
    /// read with its live state; apply hands them to the writes.
    pub ids: Vec<crate::provider::SiteIds>,
    /// Why each unreadable site could not be read.
    pub unreadable: Vec<crate::provider::ProviderError>,
}

impl Computed {
    /// Why each unreadable site could not be read, one line each, whatever
    /// the site's answer held.
    pub(super) fn unreadable_lines(&self) -> Vec<String> {
        unreadable_lines(&self.unreadable)
    }

    /// Fails when a site could not be read; `consequence` says what that
    /// means for the command.
    pub(super) fn require_every_site(&self, consequence: &str) -> Result<()> {
        if self.unreadable.is_empty() {
            return Ok(());
        }
        Err(anyhow!(
            "could not read the live state of {} site{}:\n  {}\n{consequence}",
            self.unreadable.len(),
            if self.unreadable.len() == 1 { "" } else { "s" },
            self.unreadable_lines().join("\n  ")
        ))
    }
}

fn unreadable_lines(errors: &[crate::provider::ProviderError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| crate::escape::visible(&e.to_string()))
        .collect()
}

/// Fetches every site and computes the plan of those that could be read.
pub(super) async fn compute(desired: &DesiredState, targets: &Targets) -> Result<Computed> {
    let mut readable = Vec::new();
    let mut live = Vec::new();
    let mut sites = Vec::new();
    let mut unreadable = Vec::new();
    let start = std::time::Instant::now();
    let fetched = targets.fetch_each().await;
    tracing::debug!(
        elapsed_ms = start.elapsed().as_millis() as u64,
        "live state read"
    );
    for (i, (site, result)) in desired.sites.iter().zip(fetched).enumerate() {
        match result {
            Ok(l) => {
                readable.push(site);
                live.push(l);
                sites.push(i);
            }
            Err(e) => unreadable.push(e),
        }
    }
    if readable.is_empty() && !unreadable.is_empty() {
        bail!(
            "could not read the live state:\n  {}\nnothing was changed",
            unreadable_lines(&unreadable).join("\n  ")
        );
    }
    let start = std::time::Instant::now();
    // Access past its `expires` date is planned as not declared.
    let today = super::scope::today();
    let resolved: Vec<_> = readable
        .into_iter()
        .map(|s| crate::plan::expiry::resolve(s, today))
        .collect();
    let mut plan = crate::plan::plan_sites(resolved.iter().map(|(s, _)| &**s).zip(&live)).map_err(
        |errors| {
            // Each error on its own line, whatever the live names in it hold.
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("  {}", crate::escape::visible(&e.to_string())))
                .collect();
            anyhow!(
                "the plan cannot be made:\n{}\nnothing was changed",
                lines.join("\n")
            )
        },
    )?;
    for (site_plan, (_, expiry)) in plan.sites.iter_mut().zip(resolved) {
        site_plan.insight.expiry = expiry;
    }
    for (site_plan, i) in plan.sites.iter_mut().zip(&sites) {
        targets.clients[*i]
            .deactivation_context(&mut site_plan.changes)
            .await
            .map_err(|e| {
                anyhow!(
                    "could not read what the members to deactivate own:\n  {}\nnothing was changed",
                    crate::escape::visible(&e.to_string())
                )
            })?;
    }
    for (site_plan, i) in plan.sites.iter_mut().zip(&sites) {
        super::insight::estimate_cost(site_plan, &targets.clients[*i], &desired.sites[*i].site);
    }
    tracing::debug!(
        changes = plan.sites.iter().map(|s| s.changes.len()).sum::<usize>(),
        elapsed_ms = start.elapsed().as_millis() as u64,
        "plan computed"
    );
    let ids = plan
        .sites
        .iter()
        .zip(&live)
        .map(|(site, live)| crate::provider::SiteIds::of(site.provider, live))
        .collect();
    Ok(Computed {
        plan,
        sites,
        ids,
        unreadable,
    })
}
