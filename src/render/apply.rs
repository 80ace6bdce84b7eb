//! What `roster apply` prints besides the plan: why a saved plan is refused,
//! what a dry run will send, and the report of what was done.

use std::fmt::Write;

use crate::apply::{Outcome, Report};
use crate::escape::{Text, Visible};
use crate::model::ProviderKind;
use crate::model::{Action, Change};
use crate::plan::{Mismatch, Plan};
use crate::provider::WriteMode;
use crate::provider::capabilities::TestMode;

/// How a saved plan (`path`) differs from what roster would do now, for the
/// person who reviewed it.
pub fn mismatch(m: &Mismatch, path: &str) -> String {
    let mut out = format!("The saved plan {path} does not match what roster would do now:\n");
    for r in &m.reasons {
        let _ = writeln!(out, "  - {}", Visible(r));
    }
    mismatch_section(
        &mut out,
        "Reviewed changes roster would no longer make:",
        &m.dropped,
    );
    mismatch_section(
        &mut out,
        "Changes roster would make now that were not reviewed:",
        &m.added,
    );
    if m.dropped.is_empty() && m.added.is_empty() {
        out.push_str(
            "The changes themselves are the same, but what they were computed from moved.\n",
        );
    }
    out
}

/// One list of a mismatch, under its title, the changes grouped by site.
fn mismatch_section(out: &mut String, title: &str, list: &[(String, Change)]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}");
    let mut site = "";
    for (s, c) in list {
        if s != site {
            let _ = writeln!(out, "  site {}", Text(s));
            site = s;
        }
        for line in crate::render::text::change_lines(c).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
}

/// What a dry run will and will not send, per kind of site in the plan.
pub fn dry_run_notice(plan: &Plan) -> String {
    let with_changes = |p: ProviderKind| {
        plan.sites
            .iter()
            .filter(|s| s.provider == p && !s.changes.is_empty())
            .map(|s| crate::escape::text(&s.site))
            .collect::<Vec<_>>()
    };
    let mut lines = vec!["Dry run: nothing will be changed.".to_string()];
    for &p in ProviderKind::ALL {
        let sites = with_changes(p);
        if sites.is_empty() {
            continue;
        }
        let caps = p.capabilities();
        let what = match caps.test_mode {
            TestMode::ServerSide { flag } => {
                format!("each write is sent with {flag}; the site checks it and saves nothing.")
            }
            TestMode::None => format!(
                "{} has no server-side test mode, so no write is sent; the plan above is all a dry run can show.",
                caps.product
            ),
        };
        lines.push(format!("  {} ({}): {what}", caps.product, sites.join(", ")));
    }
    lines.join("\n")
}

/// The apply report: one line per change, then a closing line.
pub fn report(report: &Report) -> String {
    let mut out = String::new();
    for (site, results) in &report.sites {
        let _ = writeln!(out, "site {}", Text(site));
        for r in results {
            let _ = writeln!(out, "{}", result_line(&r.change, &r.outcome, report.mode));
        }
    }
    let _ = writeln!(out, "{}", closing(report));
    if (report.failed() > 0 || report.interrupted) && report.mode == WriteMode::Real {
        let _ = writeln!(
            out,
            "Run `roster plan` to see what is left, then `roster apply` again to finish."
        );
    }
    out
}

/// One change's line of the report.
fn result_line(change: &Change, outcome: &Outcome, mode: WriteMode) -> String {
    let mut what = format!("{} {}", change.kind().as_str(), Text(change.key()));
    if let Change::Access(a) = change {
        what.push_str(&super::access::grantee_suffix(a));
    }
    let verb = match change.action() {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Delete => match change {
            Change::DeactivateUser { .. } => "deactivated",
            _ => "deleted",
        },
    };
    match (outcome, mode) {
        (Outcome::Applied, WriteMode::Real) => format!("  ok      {what} {verb}"),
        (Outcome::Applied, WriteMode::TestMode) => {
            format!("  ok      {what} (accepted with test_mode=true; nothing changed)")
        }
        (Outcome::Failed(e), _) => {
            format!("  FAILED  {what}: {}", Visible(&e.to_string()))
        }
        (Outcome::Skipped(why), _) => {
            format!("  skipped {what}: {}", Visible(&why.to_string()))
        }
        (Outcome::NotStarted, _) => {
            format!("  not started {what}: the apply was interrupted first")
        }
    }
}

/// The report's last line: how many changes did what.
fn closing(report: &Report) -> String {
    match report.mode {
        _ if report.interrupted => format!(
            "{} interrupted: {} {}, {} failed, {} skipped, {} not started.",
            if report.mode == WriteMode::Real {
                "Apply"
            } else {
                "Dry run"
            },
            report.applied(),
            if report.mode == WriteMode::Real {
                "applied"
            } else {
                "accepted with test_mode=true"
            },
            report.failed(),
            report.skipped(),
            report.not_started()
        ),
        WriteMode::Real => format!(
            "Apply finished: {} applied, {} failed, {} skipped.",
            report.applied(),
            report.failed(),
            report.skipped()
        ),
        WriteMode::TestMode => format!(
            "Dry run finished: {} accepted with test_mode=true, {} failed, {} not sent; nothing was changed.",
            report.applied(),
            report.failed(),
            report.skipped()
        ),
    }
}
