//! The plan as markdown for a pull-request comment: counts per site and kind
//! first, then each site's changes in a `diff` block, long sections folded,
//! and a size budget so even a huge plan fits in one comment.

use std::fmt::Write;

use crate::escape;
use crate::model::{Action, Change, ObjectKind};
use crate::model::{Warning, WarningKind};
use crate::plan::{GuardTrip, Plan, SitePlan, Summary, UnneededAllowance};

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

/// The columns of the counts table: users and groups always, each other
/// kind (Sigma access) only when some site of the plan changes one, with
/// the actions that kind has.
const COLUMNS: &[(ObjectKind, &str, &[Action])] = &[
    (ObjectKind::User, "users", &ALL_ACTIONS),
    (ObjectKind::Group, "groups", &ALL_ACTIONS),
    (ObjectKind::Workspace, "workspaces", &ALL_ACTIONS),
    (ObjectKind::Grant, "grants", &ALL_ACTIONS),
    (ObjectKind::Attribute, "attributes", &ALL_ACTIONS),
    (
        ObjectKind::AttributeValues,
        "attribute values",
        &[Action::Update],
    ),
    (ObjectKind::AccountType, "account types", &ALL_ACTIONS),
];

const ALL_ACTIONS: [Action; 3] = [Action::Create, Action::Update, Action::Delete];

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "−",
    }
}

/// `| site | provider | users + | ... |`, a row per site.
fn counts_table(plan: &Plan) -> String {
    let changed: std::collections::HashSet<ObjectKind> = plan
        .sites
        .iter()
        .flat_map(|s| s.changes.iter().map(Change::kind))
        .collect();
    let columns: Vec<(ObjectKind, &str, Action)> = COLUMNS
        .iter()
        .filter(|(kind, _, _)| {
            matches!(kind, ObjectKind::User | ObjectKind::Group) || changed.contains(kind)
        })
        .flat_map(|&(kind, label, actions)| actions.iter().map(move |&a| (kind, label, a)))
        .collect();
    let mut out = String::from("| site | provider |");
    let mut rule = String::from("|---|---|");
    for (_, label, action) in &columns {
        let _ = write!(out, " {label} {} |", symbol(*action));
        rule.push_str("--:|");
    }
    let _ = writeln!(out, "\n{rule}");
    for site in &plan.sites {
        let _ = write!(
            out,
            "| {} | {} |",
            escape::markdown(&site.site),
            site.provider
        );
        for (kind, _, action) in &columns {
            let _ = write!(out, " {} |", count(site, *kind, *action));
        }
        out.push('\n');
    }
    out
}

/// Renders the plan within `budget` characters. `artifact` names where the
/// full plan is when a change had to be left out.
///
/// Every value is shown by the rule of [`escape`]: inside the diff blocks
/// (whose fence outlasts any backtick run) as in the text plan, outside
/// them HTML-escaped with mentions and links made inert. Each change line
/// is bounded, removals get the room first, and what is left out is counted
/// per site and kind; removals left out are announced at the top.
pub fn render(plan: &Plan, fingerprint: &str, budget: usize, artifact: &str) -> String {
    let summary = plan.summary();
    let title = format!("### roster plan: {}\n\n", counts_line(&summary));
    let mut head = String::new();
    head.push_str(&counts_table(plan));
    head.push('\n');
    head.push_str(&super::insight::markdown_seats(plan));
    // The site's name is the one value in these messages: escaped for
    // markdown, it holds no backtick, HTML, newline or link, in a code span
    // or out of one.
    for trip in plan.guard_trips() {
        let trip = GuardTrip {
            site: escape::markdown(&trip.site),
            ..trip.clone()
        };
        let _ = writeln!(
            head,
            "> [!CAUTION]\n> {trip}. `roster apply` refuses this plan until it is acknowledged.\n"
        );
    }
    head.push_str(&privileged_caution(plan, artifact));
    for unneeded in plan.sites.iter().flat_map(|s| &s.unneeded_allowances) {
        let unneeded = UnneededAllowance {
            site: escape::markdown(&unneeded.site),
            ..unneeded.clone()
        };
        let _ = writeln!(head, "> [!NOTE]\n> {unneeded}.\n");
    }
    for site in &plan.sites {
        for email in &site.unneeded_privileged {
            let note = super::text::unneeded_privileged(&site.site, email);
            let _ = writeln!(head, "> [!NOTE]\n> {}.\n", escape::markdown(&note));
        }
    }
    let foot = format!(
        "{}<sub>desired state `{}` · roster {}</sub>\n",
        super::insight::markdown_effective(plan),
        &fingerprint[..fingerprint.len().min(12)],
        env!("CARGO_PKG_VERSION")
    );

    let mut sections: Vec<Section> = plan.sites.iter().map(Section::of).collect();
    let fixed: usize = sections.iter().map(Section::header_len).sum();
    let notice_room = 300 + artifact.len();
    // The warnings about the state come first, under the title, and get
    // the room before any change does.
    let others = title.len() + head.len() + foot.len() + notice_room + fixed;
    let head =
        title + &warnings_block(&plan.warnings, budget.saturating_sub(others), artifact) + &head;
    // The room for changes is what the fixed parts leave; when what is left
    // out takes more words than planned ("not shown" lines, the warning),
    // the room shrinks by the excess and the changes are chosen again.
    let mut room = budget.saturating_sub(head.len() + foot.len() + notice_room + fixed);
    loop {
        let out = layout(&head, &foot, &mut sections, room, artifact);
        if out.len() <= budget || room == 0 {
            return out;
        }
        room = room.saturating_sub(out.len() - budget);
    }
}

/// The most privileged changes the caution at the top names one by one.
const PRIVILEGED_LISTED: usize = 20;

/// A caution naming every privileged change (up to [`PRIVILEGED_LISTED`]),
/// whatever room the changes below get.
fn privileged_caution(plan: &Plan, artifact: &str) -> String {
    let all: Vec<(&SitePlan, &crate::plan::Privileged)> = plan
        .sites
        .iter()
        .flat_map(|s| s.privileged.iter().map(move |p| (s, p)))
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let refused = all.iter().filter(|(_, p)| !p.acknowledged).count();
    let mut out = format!(
        "> [!CAUTION]\n> **{} privileged change{}** (admin power or an administrator's account); {refused} not acknowledged, which `roster apply` refuses:\n",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
    );
    for (site, p) in all.iter().take(PRIVILEGED_LISTED) {
        let message = super::text::privileged_message(&site.site, p);
        let _ = writeln!(
            out,
            "> - {}: {}",
            escape::markdown(&site.site),
            escape::markdown(&message)
        );
    }
    if all.len() > PRIVILEGED_LISTED {
        let _ = writeln!(
            out,
            "> - … and {} more, each marked `! privileged` below or in {artifact}",
            all.len() - PRIVILEGED_LISTED
        );
    }
    out.push('\n');
    out
}

/// The warnings about the state as a `[!WARNING]` block, in `room`
/// characters: all of them, unless even the whole comment could not hold
/// them; then those that fit, and how many more of each kind are in
/// `artifact`.
fn warnings_block(warnings: &[Warning], room: usize, artifact: &str) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let n = warnings.len();
    let mut out = format!(
        "> [!WARNING]\n> **{n} warning{} about the state**: read {} before approving.\n",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "each" }
    );
    // What a line saying what is left out takes at most.
    let tail_room = 200 + artifact.len();
    let mut left_out: Vec<&Warning> = Vec::new();
    for w in warnings {
        let line = format!("> - {}\n", w.line(escape::markdown));
        if left_out.is_empty() && out.len() + line.len() + tail_room <= room {
            out.push_str(&line);
        } else {
            left_out.push(w);
        }
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "> - **{} more not shown**, as this comment cannot hold them: {}. Read them in {artifact}, or run `roster validate`.",
            left_out.len(),
            warning_counts(&left_out)
        );
    }
    out.push('\n');
    out
}

/// Warnings counted per kind: `3 past dates, 1 look-alike name`.
fn warning_counts(warnings: &[&Warning]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for w in warnings {
        let kind = match w.kind {
            WarningKind::NotRead { .. } => "files not read",
            WarningKind::Expired { .. } => "past dates",
            WarningKind::MixedScripts { .. } => "look-alike names",
        };
        *counts.entry(kind).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    parts.join(", ")
}

/// The comment with `room` characters for changes and notes: privileged
/// changes first, then removals, then the other changes, then kept objects
/// and notes.
fn layout(head: &str, foot: &str, sections: &mut [Section], room: usize, artifact: &str) -> String {
    for section in sections.iter_mut() {
        section.shown.iter_mut().for_each(|s| *s = false);
        section.notes_shown = false;
    }
    let room = share_out(sections, room, Class::Privileged);
    let room = share_out(sections, room, Class::Removal);
    let mut room = share_out(sections, room, Class::Other);
    for section in sections.iter_mut() {
        if section.all_shown() && section.notes.len() <= room {
            room -= section.notes.len();
            section.notes_shown = true;
        }
    }

    let mut out = head.to_string();
    let hidden_removals: Vec<String> = sections
        .iter()
        .filter_map(|s| {
            s.hidden_counts(Class::Removal)
                .map(|c| format!("{} ({c})", escape::markdown(&s.site.site)))
        })
        .collect();
    if !hidden_removals.is_empty() {
        let n: usize = sections.iter().map(|s| s.hidden(Class::Removal)).sum();
        let _ = writeln!(
            out,
            "> [!WARNING]\n> **{n} removal{} not shown** in this comment, as it cannot hold them all: {}. Review them in {artifact} before approving.\n",
            if n == 1 { " is" } else { "s are" },
            hidden_removals.join("; ")
        );
    }
    for section in sections.iter() {
        section.render(&mut out, artifact);
    }
    let hidden_privileged: usize = sections.iter().map(|s| s.hidden(Class::Privileged)).sum();
    if hidden_privileged > 0 {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> **{hidden_privileged} privileged change{} not shown** in this comment, as it cannot hold them all. Review them in {artifact} before approving.\n",
            if hidden_privileged == 1 {
                " is"
            } else {
                "s are"
            },
        );
    }
    let cut: usize = sections
        .iter()
        .map(|s| s.changes.len() - s.shown.iter().filter(|s| **s).count())
        .sum();
    if cut > 0 {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> {cut} changes are not shown to keep this comment under GitHub's size limit. The full plan is in {artifact}.\n"
        );
    }
    out.push_str(foot);
    out
}

/// Characters of one line of a diff block, beyond which it is shortened:
/// each change gets a bounded share of the comment.
const LINE_MAX: usize = 1_000;

/// One site's section: its changes as blocks of lines, which are shown.
struct Section<'a> {
    site: &'a SitePlan,
    changes: Vec<(&'a Change, String)>,
    /// Each change's class: which get the room first.
    classes: Vec<Class>,
    shown: Vec<bool>,
    /// Kept objects, guards and notes, as the text plan lists them.
    notes: String,
    notes_shown: bool,
}

impl<'a> Section<'a> {
    fn of(site: &'a SitePlan) -> Section<'a> {
        // The site is rendered once, as the text plan renders it (values
        // escaped and shortened), and cut into one block per object; the
        // changes come first, in plan order.
        let mut blocks = blocks_of(&crate::render::text::site_body(site)).into_iter();
        let changes: Vec<(&Change, String)> = site
            .changes
            .iter()
            .zip(blocks.by_ref())
            .map(|(c, b)| (c, bounded(&b)))
            .collect();
        let notes: String = blocks.map(|b| bounded(&b)).collect();
        let privileged: std::collections::HashSet<usize> =
            site.privileged.iter().map(|p| p.change).collect();
        let classes = changes
            .iter()
            .enumerate()
            .map(|(i, (c, _))| match () {
                () if privileged.contains(&i) => Class::Privileged,
                () if c.action() == Action::Delete => Class::Removal,
                () => Class::Other,
            })
            .collect();
        Section {
            site,
            classes,
            shown: vec![false; changes.len()],
            changes,
            notes,
            notes_shown: false,
        }
    }

    /// The section's details, summary and fences, without its changes.
    fn header_len(&self) -> usize {
        escape::markdown(&self.site.site).len() + 160
    }

    fn all_shown(&self) -> bool {
        self.shown.iter().all(|s| *s)
    }

    /// The changes of one class that are not shown.
    fn hidden_of(&self, class: Class) -> impl Iterator<Item = &'a Change> + '_ {
        self.changes
            .iter()
            .zip(&self.shown)
            .zip(&self.classes)
            .filter(move |((_, shown), c)| !**shown && **c == class)
            .map(|(((c, _), _), _)| *c)
    }

    /// How many changes of one class are not shown.
    fn hidden(&self, class: Class) -> usize {
        self.hidden_of(class).count()
    }

    /// The changes of one class not shown, counted per kind, or None.
    fn hidden_counts(&self, class: Class) -> Option<String> {
        per_kind(self.hidden_of(class))
    }

    fn render(&self, out: &mut String, artifact: &str) {
        let mut body = String::new();
        for ((_, block), shown) in self.changes.iter().zip(&self.shown) {
            if *shown {
                body.push_str(block);
            }
        }
        let hidden = self
            .changes
            .iter()
            .zip(&self.shown)
            .filter(|(_, s)| !**s)
            .map(|((c, _), _)| *c);
        let rest = self.changes.len() - self.shown.iter().filter(|s| **s).count();
        if let Some(kinds) = per_kind(hidden) {
            let _ = writeln!(
                body,
                "… {rest} more change{} on {} not shown: {kinds}; the full plan is in {artifact}",
                if rest == 1 { "" } else { "s" },
                escape::text(&self.site.site),
            );
        }
        if self.notes_shown {
            body.push_str(&self.notes);
        }
        let lines = body.lines().count();
        let fence = escape::fence(&body);
        let _ = write!(
            out,
            "<details{}><summary><b>{}</b> ({}): {}</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n\n",
            if lines > FOLD_LINES { "" } else { " open" },
            escape::markdown(&self.site.site),
            self.site.provider,
            counts_line(&Summary::of(&self.site.changes)),
        );
    }
}

/// Which changes get the comment's room first: privileged changes, then
/// removals, then the rest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Privileged,
    Removal,
    Other,
}

/// Changes counted per kind, removals first: `2 user deletes, 1 group create`.
fn per_kind<'a>(changes: impl Iterator<Item = &'a Change>) -> Option<String> {
    const KINDS: [&str; 10] = [
        "user delete",
        "user deactivation",
        "group delete",
        "user update",
        "group update",
        "user create",
        "group create",
        "attribute or account type delete",
        "attribute or account type change",
        "attribute or account type create",
    ];
    let mut counts = [0usize; KINDS.len() + super::access::KINDS.len()];
    for c in changes {
        let i = match c {
            Change::Access(a) => KINDS.len() + super::access::kind_index(a),
            Change::DeleteUser { .. } => 0,
            Change::DeactivateUser { .. } => 1,
            Change::DeleteGroup { .. } => 2,
            Change::UpdateUser { .. } => 3,
            Change::UpdateGroup { .. } => 4,
            Change::CreateUser { .. } => 5,
            Change::CreateGroup { .. } => 6,
            Change::DeleteAttribute { .. } | Change::DeleteAccountType { .. } => 7,
            Change::ReplaceAttribute { .. }
            | Change::SetAttributes { .. }
            | Change::ReplaceAccountType { .. } => 8,
            Change::CreateAttribute { .. } | Change::CreateAccountType { .. } => 9,
        };
        counts[i] += 1;
    }
    let parts: Vec<String> = KINDS
        .iter()
        .chain(&super::access::KINDS)
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}{}", if n == 1 { "" } else { "s" }))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Marks changes of one class (removals or the rest) as shown while they
/// fit, sharing `room` out among the sites in turn so that a huge site
/// cannot crowd out the others; returns the room left.
fn share_out(sections: &mut [Section], mut room: usize, class: Class) -> usize {
    let n = sections.len();
    for (i, section) in sections.iter_mut().enumerate() {
        let share = room / (n - i);
        let mut used = 0usize;
        let changes = section.changes.iter().zip(&section.classes);
        for (((_, block), c), shown) in changes.zip(section.shown.iter_mut()) {
            if *c != class || used + block.len() > share {
                continue;
            }
            used += block.len();
            *shown = true;
        }
        room -= used;
    }
    room
}

/// A block with each line bounded to [`LINE_MAX`] characters.
fn bounded(block: &str) -> String {
    block
        .lines()
        .map(|l| escape::shorten_line(l, LINE_MAX) + "\n")
        .collect()
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
