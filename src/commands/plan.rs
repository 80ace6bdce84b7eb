//! `roster plan`: fetch live state, print the plan, optionally save it.

use std::path::Path;

use anyhow::{Context, Result, anyhow};

use super::Status;
use super::target::Targets;
use crate::cli::PlanArgs;
use crate::model::DesiredState;
use crate::plan::Plan;
use crate::provider::Pacing;

pub async fn run(scope: &super::Scope<'_>, args: &PlanArgs) -> Result<Status> {
    let desired = scope.load()?;
    let targets = Targets::connect(&desired, &args.target, Pacing::default()).await?;
    let result = compute(&desired, &targets).await;
    targets.finish().await?;
    let plan = result?;
    let fingerprint = crate::plan::desired_fingerprint(&desired);
    print!(
        "{}",
        crate::render::render(&plan, &fingerprint, args.format)
    );
    if let Some(path) = &args.out {
        save(path, &crate::render::json::render(&plan, &fingerprint))?;
        eprintln!(
            "Saved the plan to {}; apply exactly this plan with `roster apply {}`.",
            path.display(),
            path.display()
        );
    }
    refuse_tripped_guards(&plan, "apply will refuse this plan")?;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Status::Changes
    } else {
        Status::Success
    })
}

/// Fails when the plan goes past a blast-radius guard; the plan printed
/// above already says which and how to acknowledge it.
pub fn refuse_tripped_guards(plan: &Plan, consequence: &str) -> Result<()> {
    let trips = plan.guard_trips();
    if trips.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = trips.iter().map(|t| format!("  {t}")).collect();
    Err(anyhow!(
        "{} blast-radius guard{} tripped; {consequence}:\n{}",
        trips.len(),
        if trips.len() == 1 { "" } else { "s" },
        lines.join("\n")
    ))
}

/// Writes a file whole or not at all.
fn save(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write the plan to {}", path.display()))
}

/// Fetches every site and computes the plan.
pub async fn compute(desired: &DesiredState, targets: &Targets) -> Result<Plan> {
    let live = targets.fetch().await?;
    crate::plan::plan(desired, &live).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        anyhow!(
            "the plan cannot be made:\n{}\nnothing was changed",
            lines.join("\n")
        )
    })
}
