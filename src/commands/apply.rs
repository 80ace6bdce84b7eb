//! `roster apply`: show the plan, confirm, carry it out.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Result, bail};

use super::target::Targets;
use super::{Status, load_state};
use crate::cli::ApplyArgs;
use crate::provider::WriteMode;

pub async fn run(dir: &Path, args: &ApplyArgs) -> Result<Status> {
    let desired = load_state(dir)?;
    let targets = Targets::connect(&desired, &args.target).await?;
    let result = apply(&desired, &targets, args).await;
    targets.finish().await?;
    result
}

async fn apply(
    desired: &crate::model::DesiredState,
    targets: &Targets,
    args: &ApplyArgs,
) -> Result<Status> {
    let plan = super::plan::compute(desired, targets).await?;
    print!(
        "{}",
        crate::render::text::render(&plan, crate::render::stdout_color())
    );
    if plan.is_empty() {
        println!("Nothing to apply.");
        return Ok(Status::Success);
    }
    let total = plan.summary().total();
    let sites = plan.sites.iter().filter(|s| !s.changes.is_empty()).count();
    let mode = if args.dry_run {
        println!(
            "\nDry run: sending {total} change{} with test_mode=true; the site{} will check them and change nothing.",
            plural(total),
            plural(sites)
        );
        WriteMode::TestMode
    } else {
        if !args.yes {
            confirm(total, sites)?;
        }
        println!();
        WriteMode::Real
    };
    let report = crate::apply::apply(&plan, &targets.clients, mode, args.concurrency.into()).await;
    print!("{}", report.render());
    if report.is_success() {
        Ok(Status::Success)
    } else {
        bail!(
            "{} of {} changes failed; see the report above",
            report.failed(),
            total
        )
    }
}

fn confirm(total: usize, sites: usize) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply without confirmation: standard input is not a terminal. Review the plan above, then run again with --yes"
        );
    }
    eprint!(
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
