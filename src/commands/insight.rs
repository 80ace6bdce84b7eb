//! The command edge of issue 15: today's date (the one clock read),
//! refusing a plan over its seat budget, `roster explain`, and
//! `roster validate`'s warnings about past dates.

use anyhow::{Result, anyhow, bail};
use chrono::NaiveDate;

use super::{Status, stderr_line};
use crate::cli::ExplainArgs;
use crate::plan::Plan;
use crate::render::escape::Text;

/// Today's date in UTC: what `expires` dates are compared with.
pub(super) fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Fails when the plan leaves a site with more seats than its `seats`
/// budget allows, naming each type over budget.
pub(super) fn refuse_over_budget(plan: &Plan, consequence: &str) -> Result<()> {
    let over = crate::plan::insight::over_budget(plan);
    if over.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = over
        .iter()
        .map(|(site, c)| {
            format!(
                "  site `{}`: {} {} seats after the plan, budget {} (seats.{})",
                Text(site),
                c.after,
                Text(&c.kind),
                c.budget.unwrap_or_default(),
                Text(&c.kind)
            )
        })
        .collect();
    Err(anyhow!(
        "{} seat budget{} exceeded; {consequence}:\n{}\nraise the budget in the site's `seats`, or declare fewer people of that type",
        over.len(),
        if over.len() == 1 { "" } else { "s" },
        lines.join("\n")
    ))
}

/// `roster validate`: a warning for each date already past, at its place.
pub(super) fn warn_past_dates(parsed: &crate::state::Parsed) {
    let today = today();
    for d in crate::state::dated(parsed).iter().filter(|d| d.on < today) {
        stderr_line!(
            "warning: {}: {}: expired on {}; plans remove it until the date or the entry is changed",
            Text(&d.location),
            Text(&d.subject),
            d.on
        );
    }
}

/// `roster explain EMAIL`: what the person gets on each (selected) site,
/// from the declared state alone; nothing is contacted.
pub(super) fn explain(scope: &super::Scope<'_>, args: &ExplainArgs) -> Result<Status> {
    let desired = scope.load()?;
    let today = today();
    let mut found = 0;
    let mut out = String::new();
    for declared in &desired.sites {
        let (site, expiry) = crate::plan::expiry::resolve(declared, today);
        let access = crate::plan::effective::Declared::new(&site).of(&args.email);
        let expired = expiry
            .expired
            .iter()
            .filter(|e| crate::model::email_key(&e.email) == crate::model::email_key(&args.email));
        let text = crate::render::insight::explain(&site.site, access.as_ref(), expired);
        if let Some(text) = text {
            found += 1;
            out.push_str(&text);
        }
    }
    if found == 0 {
        bail!(
            "{} is not declared on {}; nothing to explain",
            Text(&args.email),
            if scope.only.is_empty() {
                "any site"
            } else {
                "the selected sites"
            }
        );
    }
    out!("{out}")?;
    Ok(Status::Success)
}

/// What applying the site's plan costs: the reads this run made for the
/// plan (apply makes them again) and the writes the provider says its
/// changes take. An empty plan costs nothing: apply sends nothing.
pub(super) fn estimate_cost(
    site_plan: &mut crate::plan::SitePlan,
    client: &crate::provider::Client,
    site: &crate::model::Site,
) {
    if site_plan.changes.is_empty() {
        return;
    }
    site_plan.insight.cost = Some(crate::plan::cost::RunCost {
        reads: client.requests().sent,
        writes: client.write_requests(&site_plan.changes),
        max_requests_per_second: site.max_requests_per_second,
    });
}

/// Apply's account of the requests it sent to each site, and how many of
/// them were retries.
pub(super) fn requests_sent(
    plan: &Plan,
    targets: &super::target::Targets,
    sites: &[usize],
    dry_run: bool,
) -> String {
    let mut out = String::new();
    for (site_plan, i) in plan.sites.iter().zip(sites) {
        if site_plan.changes.is_empty() {
            continue;
        }
        let r = targets.clients[*i].requests();
        // The estimate is a real run's: a dry run sends other writes.
        let estimated = site_plan
            .insight
            .cost
            .filter(|_| !dry_run)
            .map(|c| format!(" (the plan estimated {})", c.requests()))
            .unwrap_or_default();
        out.push_str(&format!(
            "Requests to {}: {} sent, {} retried{estimated}.\n",
            Text(&site_plan.site),
            r.sent,
            r.retried
        ));
    }
    out
}
