//! `roster apply`: show the plan, confirm, carry it out.

use std::io::{BufRead, IsTerminal, Write};

use std::sync::Arc;

use anyhow::{Result, bail};

use super::outcome::Status;
use super::output::{out, outln, stderr_line, stderr_text};
use super::scope::Scope;
use super::signals::Watcher;
use super::target::Targets;
use crate::apply::OnFailure;
use crate::cli::ApplyArgs;
use crate::interrupt::Gate;
use crate::plan::{SavedPlan, SavedPlanError};
use crate::progress::Progress;
use crate::provider::Pacing;
use crate::provider::WriteMode;
use crate::render::Format;
use crate::render::json::{Applied, ApplyStatus};

pub(super) async fn run(scope: &Scope<'_>, args: &ApplyArgs) -> Result<Status> {
    // One apply at a time per state and set of live sites, held until this
    // function returns (or removed before an exit that skips destructors).
    // The in-process sandbox's sites are its data file, locked on its own.
    let url = args.target.sandbox_url.as_deref();
    let _lock = (!args.target.sandbox)
        .then(|| {
            crate::lock::acquire(
                &crate::lock::apply_lock_path(scope.dir, url),
                "roster apply",
                &super::force_unlock::hint(scope.dir, url, None),
            )
        })
        .transpose()?;
    // A --report path that cannot be written stops everything before any
    // request.
    if let Some(path) = &args.report {
        super::plan::refuse_sandbox_data(&REPORT, path, &args.target.sandbox_data)?;
        super::plan::check_out_path(&REPORT, path, scope.dir)?;
    }
    let gate = Arc::new(Gate::new());
    let watcher = Watcher::start(gate.clone())?;
    // A saved plan that cannot be read stops everything before any request.
    let saved = args.plan.as_deref().map(load_saved).transpose()?;
    let start = std::time::Instant::now();
    let (full, read) = scope.load_all()?;
    let saved = saved.as_ref().map(|plan| Saved::new(plan, &full));
    let desired = scope.narrow(full)?;
    tracing::debug!(
        sites = desired.sites.len(),
        elapsed_ms = start.elapsed().as_millis() as u64,
        "state loaded"
    );
    let pacing = Pacing {
        concurrency: args.concurrency.into(),
        ..Pacing::default()
    };
    let targets = Targets::connect(&desired, &args.target, pacing).await?;
    if let Some(save) = targets.saver() {
        watcher.on_exit(save);
    }
    let context = Context {
        args,
        state_dir: scope.dir,
        watcher: &watcher,
        gate: &gate,
        warnings: &read.warnings,
    };
    let result = apply(&desired, &targets, saved.as_ref(), &context).await;
    watcher.done();
    targets.finish().await?;
    result
}

/// Reads the saved plan `roster apply FILE` was given.
fn load_saved(path: &std::path::Path) -> Result<SavedPlan, SavedPlanError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Read {
        path: shown.clone(),
        source,
    })?;
    SavedPlan::parse(&text, &shown)
}

/// A saved plan, with what it is checked against: the fingerprint of the
/// state narrowed to the sites the plan covers (as `plan --site` made it),
/// and every site the state declares.
struct Saved<'a> {
    plan: &'a SavedPlan,
    fingerprint: String,
    declared: Vec<String>,
}

impl<'a> Saved<'a> {
    fn new(plan: &'a SavedPlan, full: &crate::model::DesiredState) -> Saved<'a> {
        let covered = crate::model::DesiredState {
            sites: full
                .sites
                .iter()
                .filter(|s| plan.sites.iter().any(|p| p.site == s.site.name))
                .cloned()
                .collect(),
        };
        Saved {
            plan,
            fingerprint: crate::plan::desired_fingerprint(&covered),
            declared: full.sites.iter().map(|s| s.site.name.clone()).collect(),
        }
    }
}

/// What [`apply`] works with besides the state and its sites.
struct Context<'a> {
    args: &'a ApplyArgs,
    state_dir: &'a std::path::Path,
    watcher: &'a Watcher,
    gate: &'a Gate,
    /// The warnings about the state, shown with the plan.
    warnings: &'a [crate::model::Warning],
}

/// `--report FILE`.
const REPORT: super::plan::OutFile = super::plan::OutFile {
    flag: "--report",
    what: "the apply result",
    example: "apply.json",
};

/// The JSON result of an apply, printed (`--format json`) and written
/// (`--report`) as asked.
struct Ending<'a> {
    plan: &'a crate::plan::Plan,
    fingerprint: &'a str,
    unreadable: &'a [String],
    context: &'a Context<'a>,
}

impl Ending<'_> {
    fn emit(&self, status: ApplyStatus, report: Option<&crate::apply::Report>) -> Result<()> {
        let args = self.context.args;
        if args.format != Format::Json && args.report.is_none() {
            return Ok(());
        }
        let applied = Applied {
            status,
            dry_run: args.dry_run,
            report,
            unreadable: self.unreadable,
        };
        let json = crate::render::json::render_apply(self.plan, self.fingerprint, &applied);
        if args.format == Format::Json {
            out!("{json}")?;
        }
        if let Some(path) = &args.report {
            super::plan::save(&REPORT, path, &json, self.context.state_dir)?;
            stderr_line!("Wrote the apply result to {}.", path.display());
        }
        Ok(())
    }
}

async fn apply(
    desired: &crate::model::DesiredState,
    targets: &Targets,
    saved: Option<&Saved<'_>>,
    context: &Context<'_>,
) -> Result<Status> {
    let args = context.args;
    let json = args.format == Format::Json;
    let mut computed = super::plan::compute(desired, targets).await?;
    computed.plan.warnings = context.warnings.to_vec();
    if saved.is_some() {
        computed.require_every_site(
            "a saved plan is applied whole or not at all; nothing was changed",
        )?;
    }
    let plan = &computed.plan;
    let fingerprint = crate::plan::DesiredFingerprint::of(desired);
    refuse_changed_plan(saved, plan, args)?;
    show_plan(plan, &fingerprint, args)?;
    let unreadable = computed.unreadable_lines();
    let ending = Ending {
        plan,
        fingerprint: fingerprint.get(),
        unreadable: &unreadable,
        context,
    };
    if let Err(refused) =
        super::plan::refuse_tripped_guards(plan, "refusing to apply; nothing was changed")
    {
        ending.emit(ApplyStatus::Refused, None)?;
        return Err(refused);
    }
    if let Err(refused) = super::plan::refuse_unacknowledged_privileged(
        plan,
        "refusing to apply; nothing was changed",
    ) {
        ending.emit(ApplyStatus::Refused, None)?;
        return Err(refused);
    }
    if let Err(refused) =
        super::insight::refuse_over_budget(plan, "refusing to apply; nothing was changed")
    {
        ending.emit(ApplyStatus::Refused, None)?;
        return Err(refused);
    }
    say_unreadable(&unreadable, json)?;
    if plan.is_empty() {
        if !json {
            outln!("Nothing to apply.")?;
        }
        ending.emit(ApplyStatus::NothingToApply, None)?;
        computed.require_every_site("the other sites have nothing to apply")?;
        return Ok(Status::Success);
    }
    let report = carry_out(plan, &computed, targets, context).await?;
    if !json {
        print_report(&crate::render::apply::report(&report), args.format)?;
        // After the report, with the notices: what each site was sent.
        stderr_text!(
            "{}",
            super::insight::requests_sent(plan, targets, &computed.sites, args.dry_run)
        );
    }
    finish(&report, &computed, &ending)
}

/// Refuses a saved plan (`roster apply FILE`) that is not the plan roster
/// would carry out now, showing how it differs.
fn refuse_changed_plan(
    saved: Option<&Saved<'_>>,
    plan: &crate::plan::Plan,
    args: &ApplyArgs,
) -> Result<()> {
    let (Some(saved), Some(path)) = (saved, &args.plan) else {
        return Ok(());
    };
    let start = std::time::Instant::now();
    let mismatch = crate::plan::compare(saved.plan, plan, &saved.fingerprint, &saved.declared);
    tracing::debug!(
        elapsed_ms = start.elapsed().as_millis() as u64,
        "saved plan compared"
    );
    let Some(mismatch) = mismatch else {
        return Ok(());
    };
    let shown = crate::render::apply::mismatch(&mismatch, &path.display().to_string());
    if args.format == Format::Json {
        stderr_text!("{shown}");
    } else {
        out!("{shown}")?;
    }
    bail!(
        "refusing to apply {}: it is not the plan roster would carry out now. Run `roster plan` again, review it, and apply the new plan; nothing was changed",
        path.display()
    )
}

/// The plan, on stdout; with `--format json`, on stderr when it is to be
/// confirmed (the JSON comes at the end: whoever confirms reads the plan
/// first).
fn show_plan(
    plan: &crate::plan::Plan,
    fingerprint: &crate::plan::DesiredFingerprint,
    args: &ApplyArgs,
) -> Result<()> {
    if args.format != Format::Json {
        out!("{}", crate::render::render(plan, fingerprint, args.format))?;
    } else if !args.yes && !args.dry_run && !plan.is_empty() {
        stderr_text!("{}", crate::render::render(plan, fingerprint, Format::Text));
    } else {
        // For whoever reads the log (files not read were said already).
        super::output::stderr_placed_warnings(&plan.warnings);
    }
    Ok(())
}

/// One line per site whose live state could not be read.
fn say_unreadable(unreadable: &[String], json: bool) -> Result<()> {
    for why in unreadable {
        let line = format!("\nNot applied, as its live state could not be read: {why}");
        if json {
            stderr_line!("{line}");
        } else {
            outln!("{line}")?;
        }
    }
    Ok(())
}

/// The run's status from its report: interrupted, finished, or failed.
fn finish(
    report: &crate::apply::Report,
    computed: &super::plan::Computed,
    ending: &Ending<'_>,
) -> Result<Status> {
    let total = ending.plan.summary().total();
    let see = if ending.context.args.format == Format::Json {
        "see the JSON result"
    } else {
        "see the report above"
    };
    if report.interrupted {
        ending.emit(ApplyStatus::Interrupted, Some(report))?;
        stderr_line!(
            "error: apply interrupted: {} of {total} changes not started; {see}",
            report.not_started()
        );
        Ok(Status::Interrupted)
    } else if report.is_success() {
        // A site that could not be read is a failure of the run, whatever
        // was applied on the others.
        let status = if computed.unreadable.is_empty() {
            ApplyStatus::Finished
        } else {
            ApplyStatus::Failed
        };
        ending.emit(status, Some(report))?;
        computed.require_every_site("the changes of the other sites were applied")?;
        Ok(Status::Success)
    } else {
        ending.emit(ApplyStatus::Failed, Some(report))?;
        bail!("{} of {} changes failed; {see}", report.failed(), total)
    }
}

/// Confirms (unless --yes or --dry-run), then sends the plan's changes.
async fn carry_out(
    plan: &crate::plan::Plan,
    computed: &super::plan::Computed,
    targets: &Targets,
    context: &Context<'_>,
) -> Result<crate::apply::Report> {
    let args = context.args;
    // Notices go to stderr when stdout holds the JSON document.
    let say = |text: &str| -> Result<()> {
        if args.format == Format::Json {
            stderr_line!("{text}");
            Ok(())
        } else {
            outln!("{text}")
        }
    };
    let clients: Vec<&crate::provider::Client> = computed
        .sites
        .iter()
        .map(|i| &targets.clients[*i])
        .collect();
    let total = plan.summary().total();
    let sites = plan.sites.iter().filter(|s| !s.changes.is_empty()).count();
    let mode = if args.dry_run {
        say(&format!("\n{}", crate::render::apply::dry_run_notice(plan)))?;
        WriteMode::TestMode
    } else {
        if !args.yes {
            context.watcher.confirming();
            confirm(total, sites)?;
        }
        if args.format != Format::Json {
            outln!()?;
        }
        WriteMode::Real
    };
    let progress = Progress::bar(total, "Applying");
    context.gate.count_into(progress.clone());
    let run = crate::apply::Run {
        mode,
        concurrency: args.concurrency.into(),
        on_failure: if args.fail_fast {
            OnFailure::Stop
        } else {
            OnFailure::Continue
        },
        progress: &progress,
        gate: context.gate,
    };
    context.watcher.applying();
    let report = crate::apply::apply(plan, &clients, &computed.ids, &run).await;
    context.watcher.done();
    Ok(report)
}

/// The report after the plan; in a markdown document (a job summary, a
/// comment), inside a code block, so no name in it is read as markdown.
fn print_report(text: &str, format: crate::render::Format) -> Result<()> {
    if format == crate::render::Format::Markdown {
        let fence = crate::escape::fence(text);
        out!("\n{fence}text\n{text}{fence}\n")
    } else {
        out!("{text}")
    }
}

fn confirm(total: usize, sites: usize) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply without confirmation: standard input is not a terminal. Review the plan above, then run again with --yes"
        );
    }
    stderr_text!(
        "\nApply {total} change{} to {sites} site{}? Only 'yes' or 'y' is accepted. [y/N] ",
        plural(total),
        plural(sites)
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => bail!("apply cancelled; nothing was changed"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
