//! `roster plan`: fetch live state, print the plan.

use std::path::Path;

use anyhow::{Result, anyhow};

use super::target::Targets;
use super::{Status, load_state};
use crate::cli::PlanArgs;
use crate::model::DesiredState;
use crate::plan::Plan;

pub async fn run(dir: &Path, args: &PlanArgs) -> Result<Status> {
    let desired = load_state(dir)?;
    let targets = Targets::connect(&desired, &args.target).await?;
    let result = compute(&desired, &targets).await;
    targets.finish().await?;
    let plan = result?;
    print!(
        "{}",
        crate::render::text::render(&plan, crate::render::stdout_color())
    );
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Status::Changes
    } else {
        Status::Success
    })
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
