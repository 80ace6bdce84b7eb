//! How a plan shows its answers to an admin's questions (issue 15): seats,
//! expired and expiring access, effective access; and `roster explain`.

use std::fmt::Write;

use crate::escape;
use crate::model::Site;
use crate::plan::effective::EffectiveAccess;
use crate::plan::expiry::Expiring;
use crate::plan::{Plan, SitePlan};

/// `Creator 40 → 43 (+3), Viewer 5 → 4 (−1)`
fn seats_of(site: &SitePlan) -> Option<String> {
    let seats = &site.insight.seats;
    if seats.is_empty() {
        return None;
    }
    let counts: Vec<String> = seats.iter().map(|c| escape::text(&c.describe())).collect();
    Some(counts.join(", "))
}

/// The seat line under a site's header in the text plan, with one line per
/// type over the budget.
pub fn text_seats(site: &SitePlan) -> String {
    let mut out = String::new();
    // Seats are shown where a count changes or a budget is set; the
    // markdown and JSON plans always have them.
    let seats = &site.insight.seats;
    let shown = seats
        .iter()
        .any(|c| c.budget.is_some() || c.before != c.after);
    if let Some(seats) = seats_of(site).filter(|_| shown) {
        let _ = writeln!(out, "  seats: {seats}");
    }
    for c in site.insight.over_budget() {
        let _ = writeln!(
            out,
            "  ! seats over budget: {} {} after the plan, budget {} (seats.{})",
            c.after,
            escape::text(&c.kind),
            c.budget.unwrap_or_default(),
            escape::text(&c.kind)
        );
    }
    out
}

/// The request estimate under a site's header in the text plan (the
/// markdown plan's "apply sends" column): only where apply sends something.
pub fn text_cost(site: &SitePlan) -> String {
    site.insight
        .cost
        .map(|c| format!("  apply sends: {}\n", c.describe()))
        .unwrap_or_default()
}

/// The markdown plan's seat table, after the summary table.
pub fn markdown_seats(plan: &Plan) -> String {
    let rows: Vec<String> = plan
        .sites
        .iter()
        .filter_map(|s| {
            let seats = seats_of(s)?;
            let over: Vec<String> = s
                .insight
                .over_budget()
                .map(|c| {
                    format!(
                        "**{} over budget ({})**",
                        escape::markdown(&c.kind),
                        c.budget.unwrap_or_default()
                    )
                })
                .collect();
            let over = if over.is_empty() {
                String::new()
            } else {
                format!("; {}", over.join(", "))
            };
            let cost = s
                .insight
                .cost
                .map_or_else(|| "nothing".to_string(), |c| c.describe());
            Some(format!(
                "| {} | {}{over} | {} |\n",
                escape::markdown(&s.site),
                escape::markdown(&seats),
                escape::markdown(&cost)
            ))
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "| site | seats before → after | apply sends |\n|---|---|---|\n{}\n",
        rows.concat()
    )
}

fn expired_line(e: &Expiring) -> String {
    let admin = match (e.admin, &e.group) {
        (false, _) => "",
        (true, Some(_)) => ", nor as its admin",
        (true, None) => ", nor as an admin",
    };
    format!(
        "  - expired on {}: {} (no longer declared{admin})\n",
        e.on,
        escape::text(&e.subject())
    )
}

/// The lines after a site's changes: what expired and what expires soon.
pub fn text_expiry(site: &SitePlan) -> String {
    let expiry = &site.insight.expiry;
    let mut out: String = expiry.expired.iter().map(expired_line).collect();
    for e in &expiry.soon {
        let _ = writeln!(
            out,
            "  = expires on {}: {} (within expiry_notice_days = {})",
            e.on,
            escape::text(&e.subject()),
            expiry.notice_days
        );
    }
    out
}

/// The most people the markdown plan lists under "Effective access".
const EFFECTIVE_LISTED: usize = 50;

/// The markdown plan's "Effective access" section: what each person the
/// plan creates or updates ends up with, and why.
pub fn markdown_effective(plan: &Plan) -> String {
    let all: Vec<(&SitePlan, &EffectiveAccess)> = plan
        .sites
        .iter()
        .flat_map(|s| s.insight.effective.iter().map(move |e| (s, e)))
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let mut body = String::new();
    for (site, e) in all.iter().take(EFFECTIVE_LISTED) {
        let held: Vec<String> = e
            .held
            .iter()
            .map(|h| escape::markdown(&h.describe()))
            .collect();
        let _ = writeln!(
            body,
            "- **{}** on {}: {}",
            escape::markdown(&e.email),
            escape::markdown(&site.site),
            if held.is_empty() {
                "nothing".to_string()
            } else {
                held.join("; ")
            }
        );
    }
    if all.len() > EFFECTIVE_LISTED {
        let _ = writeln!(
            body,
            "- … and {} more (the JSON plan lists everyone)",
            all.len() - EFFECTIVE_LISTED
        );
    }
    format!(
        "**Effective access after the plan** ({} {}):\n\n{body}\n",
        all.len(),
        if all.len() == 1 { "person" } else { "people" }
    )
}

/// `roster explain`'s text for one site, or None when the person is not
/// declared there (and nothing of theirs expired).
pub fn explain<'a>(
    site: &Site,
    access: Option<&EffectiveAccess>,
    expired: impl Iterator<Item = &'a Expiring>,
) -> Option<String> {
    let expired: Vec<&Expiring> = expired.collect();
    if access.is_none() && expired.is_empty() {
        return None;
    }
    let mut out = String::new();
    let email = access.map_or_else(|| expired[0].email.clone(), |a| a.email.clone());
    let _ = writeln!(
        out,
        "{} on site {} ({}):",
        escape::text(&email),
        escape::text(&site.name),
        site.provider
    );
    match access {
        Some(a) => {
            if let Some(until) = a.until {
                let _ = writeln!(out, "  access until {until}");
            }
            if a.held.is_empty() {
                let _ = writeln!(out, "  no account type, access level or group");
            }
            for h in &a.held {
                let _ = writeln!(out, "  {}", escape::text(&h.describe()));
            }
        }
        None => {
            let _ = writeln!(out, "  not declared");
        }
    }
    for e in expired {
        out.push_str(&expired_line(e));
    }
    Some(out)
}
