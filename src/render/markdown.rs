//! The plan as markdown for a pull-request comment: counts per site and kind
//! first, then each site's changes in a `diff` block, long sections folded,
//! and a size budget so even a huge plan fits in one comment.

use std::fmt::Write;

use crate::plan::{Action, ObjectKind, Plan, SitePlan, Summary};

/// GitHub refuses comments over 65,536 characters; leave room for a header
/// a workflow may add.
pub const DEFAULT_BUDGET: usize = 60_000;
/// Sites with more lines than this are folded.
const FOLD_LINES: usize = 30;

fn count(site: &SitePlan, kind: ObjectKind, action: Action) -> usize {
    site.changes
        .iter()
        .filter(|c| c.kind() == kind && c.action() == action)
        .count()
}

fn counts_line(s: &Summary) -> String {
    if s.total() == 0 {
        "no changes".into()
    } else {
        format!(
            "{} to create, {} to update, {} to delete",
            s.create, s.update, s.delete
        )
    }
}

/// Renders the plan within `budget` characters. `artifact` names where the
/// full plan is when a section had to be cut.
pub fn render(plan: &Plan, fingerprint: &str, budget: usize, artifact: &str) -> String {
    let summary = plan.summary();
    let mut head = String::new();
    let _ = writeln!(head, "### roster plan: {}\n", counts_line(&summary));
    let _ = writeln!(
        head,
        "| site | provider | users + | users ~ | users − | groups + | groups ~ | groups − |"
    );
    let _ = writeln!(head, "|---|---|--:|--:|--:|--:|--:|--:|");
    for site in &plan.sites {
        let c = |k, a| count(site, k, a);
        let _ = writeln!(
            head,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            site.site,
            site.provider,
            c(ObjectKind::User, Action::Create),
            c(ObjectKind::User, Action::Update),
            c(ObjectKind::User, Action::Delete),
            c(ObjectKind::Group, Action::Create),
            c(ObjectKind::Group, Action::Update),
            c(ObjectKind::Group, Action::Delete),
        );
    }
    head.push('\n');
    for trip in plan.guard_trips() {
        let _ = writeln!(
            head,
            "> [!CAUTION]\n> {trip}. `roster apply` refuses this plan until it is acknowledged.\n"
        );
    }
    let foot = format!(
        "<sub>desired state `{}` · roster {}</sub>\n",
        &fingerprint[..fingerprint.len().min(12)],
        env!("CARGO_PKG_VERSION")
    );

    // Every site keeps its section; the room left for changes is shared out
    // in turn, so a huge site cannot crowd out the others.
    let notice_room = 400;
    let close = "```\n\n</details>\n\n";
    let headers: Vec<String> = plan
        .sites
        .iter()
        .map(|site| {
            let folded = crate::render::text::site_body(site).lines().count() > FOLD_LINES;
            format!(
                "<details{}><summary><b>{}</b> ({}): {}</summary>\n\n```diff\n",
                if folded { "" } else { " open" },
                site.site,
                site.provider,
                counts_line(&Summary::of(&site.changes))
            )
        })
        .collect();
    let fixed: usize = headers.iter().map(|h| h.len() + close.len() + 60).sum();
    let mut room = budget.saturating_sub(head.len() + foot.len() + notice_room + fixed);
    let mut body = String::new();
    let mut cut = 0usize;
    for (i, (site, header)) in plan.sites.iter().zip(&headers).enumerate() {
        let share = room / (plan.sites.len() - i);
        let mut used = 0usize;
        body.push_str(header);
        let mut shown = 0usize;
        for change in &site.changes {
            let text = dedent(&crate::render::text::change_lines(change));
            if used + text.len() > share {
                break;
            }
            used += text.len();
            body.push_str(&text);
            shown += 1;
        }
        if shown < site.changes.len() {
            let rest = site.changes.len() - shown;
            cut += rest;
            body.push_str(&format!("… {rest} more changes on {}\n", site.site));
        } else {
            // Kept objects, as the text plan lists them, when they fit.
            let kept = dedent(&kept_lines(&crate::render::text::site_body(site)));
            if used + kept.len() <= share {
                used += kept.len();
                body.push_str(&kept);
            }
        }
        room -= used;
        body.push_str(close);
    }
    let mut out = head;
    out.push_str(&body);
    if cut > 0 {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> {cut} changes are not shown to keep this comment under GitHub's size limit. The full plan is in {artifact}.\n"
        );
    }
    out.push_str(&foot);
    out
}

fn kept_lines(site_body: &str) -> String {
    site_body
        .lines()
        .filter(|l| l.starts_with("  = ") || l.starts_with("  ! "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Text-plan lines start with two spaces; a diff block wants the symbol first.
fn dedent(lines: &str) -> String {
    lines
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect()
}
