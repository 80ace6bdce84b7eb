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
    for unneeded in plan.sites.iter().flat_map(|s| &s.unneeded_allowances) {
        let _ = writeln!(head, "> [!NOTE]\n> {unneeded}.\n");
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
    // Each site is rendered once, as the text plan renders it, and cut into
    // blocks: one per object (its line and the field lines under it).
    let blocks: Vec<Vec<String>> = plan
        .sites
        .iter()
        .map(|site| blocks_of(&crate::render::text::site_body(site)))
        .collect();
    let headers: Vec<String> = plan
        .sites
        .iter()
        .zip(&blocks)
        .map(|(site, blocks)| {
            let lines: usize = blocks.iter().map(|b| b.lines().count()).sum();
            format!(
                "<details{}><summary><b>{}</b> ({}): {}</summary>\n\n```diff\n",
                if lines > FOLD_LINES { "" } else { " open" },
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
    for (i, ((site, header), blocks)) in plan.sites.iter().zip(&headers).zip(&blocks).enumerate() {
        let share = room / (plan.sites.len() - i);
        let mut used = 0usize;
        body.push_str(header);
        let (changes, notes): (Vec<&String>, Vec<&String>) =
            blocks.iter().partition(|b| b.starts_with(['+', '~', '-']));
        let mut shown = 0usize;
        for text in &changes {
            if used + text.len() > share {
                break;
            }
            used += text.len();
            body.push_str(text);
            shown += 1;
        }
        if shown < changes.len() {
            let rest = changes.len() - shown;
            cut += rest;
            body.push_str(&format!("… {rest} more changes on {}\n", site.site));
        } else {
            // Kept objects and guards, as the text plan lists them, when they fit.
            let notes: String = notes.iter().map(|n| n.as_str()).collect();
            if used + notes.len() <= share {
                used += notes.len();
                body.push_str(&notes);
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

/// A site's text lines, dedented for a diff block (the symbol first) and
/// grouped into one block per object: its line, then the lines under it.
fn blocks_of(site_body: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in site_body.lines() {
        let line = line.strip_prefix("  ").unwrap_or(line);
        let starts_block = !line.starts_with(' ') || blocks.is_empty();
        if starts_block {
            blocks.push(String::new());
        }
        let block = blocks.last_mut().expect("a block was pushed");
        block.push_str(line);
        block.push('\n');
    }
    blocks
}
