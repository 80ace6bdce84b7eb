//! The command edge of issue 15: refusing a plan over its seat budget, and
//! `roster explain`.

use anyhow::{Result, anyhow, bail};

use super::outcome::Status;
use super::output::out;
use super::scope::Scope;
use crate::cli::ExplainArgs;
use crate::escape::Text;
use crate::plan::Plan;

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

/// `roster explain EMAIL`: what the person gets on each (selected) site,
/// from the declared state alone; nothing is contacted.
pub(super) fn explain(scope: &Scope<'_>, args: &ExplainArgs) -> Result<Status> {
    let desired = scope.load()?;
    let today = super::scope::today();
    let mut found = 0;
    let email = current_email(&desired, &args.email);
    let mut out = String::new();
    if email != args.email {
        out.push_str(&format!(
            "{} is a previous email of {} (previous_emails): the account is theirs now.\n\n",
            Text(&args.email),
            Text(email)
        ));
    }
    for declared in &desired.sites {
        let (site, expiry) = crate::plan::expiry::resolve(declared, today);
        let access = crate::plan::effective::Declared::new(&site).of(email);
        let expired = expiry
            .expired
            .iter()
            .filter(|e| crate::model::email_key(&e.email) == crate::model::email_key(email));
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

/// The email the person `asked` names is declared with: `asked` itself,
/// or the email of the person who lists it in `previous_emails` (current
/// and previous emails share one namespace, so there is one at most).
fn current_email<'a>(desired: &'a crate::model::DesiredState, asked: &'a str) -> &'a str {
    use crate::model::email_key;
    let key = email_key(asked);
    let people = || desired.sites.iter().flat_map(|s| &s.users);
    if people().any(|u| email_key(&u.email) == key) {
        return asked;
    }
    people()
        .find(|u| u.previous_emails.iter().any(|p| email_key(p) == key))
        .map_or(asked, |u| u.email.as_str())
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
