//! The plan as text for a console or a CI log: a summary line, then per site
//! one line per object, with field-level detail under updates.

use std::fmt::Write;

use console::Style;
use similar::{ChangeTag, TextDiff};

use crate::escape::{self, Text};
use crate::model::Handover;
use crate::model::{Action, Change, Diff, Membership, Owned};
use crate::plan::{Kept, Note, Plan, Privileged, SitePlan, Summary};

/// How many kept objects of one kind and reason are listed by name.
const KEPT_LISTED: usize = 10;

struct Styles {
    color: bool,
    create: Style,
    update: Style,
    delete: Style,
    dim: Style,
    bold: Style,
}

impl Styles {
    fn new(color: bool) -> Self {
        let s = |style: Style| style.force_styling(color);
        Styles {
            color,
            create: s(Style::new().green()),
            update: s(Style::new().yellow()),
            delete: s(Style::new().red()),
            dim: s(Style::new().dim()),
            bold: s(Style::new().bold()),
        }
    }

    fn for_action(&self, action: Action) -> (&Style, char) {
        match action {
            Action::Create => (&self.create, '+'),
            Action::Update => (&self.update, '~'),
            Action::Delete => (&self.delete, '-'),
        }
    }
}

/// The summary line: `Plan: 2 to create, 1 to update, 0 to delete.`
pub fn summary_line(summary: &Summary) -> String {
    if summary.total() == 0 {
        return "No changes: the live state matches the declared state.".into();
    }
    format!(
        "Plan: {} to create, {} to update, {} to delete.",
        summary.create, summary.update, summary.delete
    )
}

/// Renders the whole plan. With `color`, ANSI styles are used.
pub fn render(plan: &Plan, color: bool) -> String {
    let st = Styles::new(color);
    let mut out = String::new();
    let _ = writeln!(out, "{}", st.bold.apply_to(summary_line(&plan.summary())));
    render_warnings(&mut out, &plan.warnings, &st);
    for site in &plan.sites {
        out.push('\n');
        render_site(&mut out, site, &st);
    }
    out
}

/// The warnings about the state, under the summary: before any site, so
/// that no long plan hides them.
fn render_warnings(out: &mut String, warnings: &[crate::model::Warning], st: &Styles) {
    if warnings.is_empty() {
        return;
    }
    out.push('\n');
    for w in warnings {
        let line = format!("warning: {}", w.line(escape::text));
        let _ = writeln!(out, "{}", st.update.apply_to(line));
    }
}

fn render_site(out: &mut String, site: &SitePlan, st: &Styles) {
    let summary = Summary::of(&site.changes);
    let counts = if summary.total() == 0 {
        "no changes".to_string()
    } else {
        format!(
            "{} to create, {} to update, {} to delete",
            summary.create, summary.update, summary.delete
        )
    };
    let _ = writeln!(
        out,
        "{} {}",
        st.bold
            .apply_to(format!("site {} ({})", Text(&site.site), site.provider)),
        st.dim.apply_to(format!("— {counts}"))
    );
    out.push_str(&super::insight::text_seats(site));
    out.push_str(&super::insight::text_cost(site));
    render_site_body(out, site, st);
}

fn render_site_body(out: &mut String, site: &SitePlan, st: &Styles) {
    // Privileged changes are listed in change order: each under its change.
    let mut privileged = site.privileged.iter().peekable();
    for (i, change) in site.changes.iter().enumerate() {
        render_change(out, change, st);
        while let Some(p) = privileged.next_if(|p| p.change == i) {
            let line = escape::visible(&privileged_message(&site.site, p));
            let _ = writeln!(
                out,
                "{}",
                st.delete.apply_to(format!("      ! privileged: {line}"))
            );
        }
    }
    render_kept(out, &site.kept, st);
    render_notes(out, &site.notes, st);
    for trip in &site.guards {
        let trip = escape::visible(&trip.to_string());
        let _ = writeln!(out, "{}", st.delete.apply_to(format!("  ! guard: {trip}")));
    }
    for unneeded in &site.unneeded_allowances {
        let unneeded = escape::visible(&unneeded.to_string());
        let _ = writeln!(out, "{}", st.dim.apply_to(format!("  note: {unneeded}")));
    }
    for email in &site.unneeded_privileged {
        let unneeded = escape::visible(&unneeded_privileged(&site.site, email));
        let _ = writeln!(out, "{}", st.dim.apply_to(format!("  note: {unneeded}")));
    }
    out.push_str(&super::insight::text_expiry(site));
}

/// What a privileged change gives whom, and whether apply may carry it out.
pub fn privileged_message(site: &str, p: &Privileged) -> String {
    if p.acknowledged {
        format!("{p}; acknowledged (allow_privileged)")
    } else {
        format!(
            "{p}; apply refuses it until allow_privileged under [sites.{site}] names {}",
            p.email
        )
    }
}

/// An `allow_privileged` entry the plan does not need.
pub fn unneeded_privileged(site: &str, email: &str) -> String {
    format!(
        "site `{site}`: allow_privileged names {email}, and this plan gives them no admin power. Once the change it was written for is applied, remove it, so that the next one is reviewed"
    )
}

/// One site's lines (changes, then kept objects), without colour or header.
pub fn site_body(site: &SitePlan) -> String {
    let mut out = String::new();
    render_site_body(&mut out, site, &Styles::new(false));
    out
}

/// One change's lines, without colour.
pub fn change_lines(change: &Change) -> String {
    let mut out = String::new();
    render_change(&mut out, change, &Styles::new(false));
    out
}

fn render_change(out: &mut String, change: &Change, st: &Styles) {
    let (style, symbol) = st.for_action(change.action());
    let head = format!(
        "  {symbol} {:<5} {}",
        change.kind().as_str(),
        Text(change.key())
    );
    let detail = detail(change);
    if detail.is_empty() {
        let _ = writeln!(out, "{}", style.apply_to(head));
    } else {
        let _ = writeln!(
            out,
            "{}  {}",
            style.apply_to(head),
            st.dim.apply_to(detail.join(" "))
        );
    }
    changed_fields(out, change, st);
}

/// What follows a change's head on its line: a new object's fields, or why
/// a person or group goes.
fn detail(change: &Change) -> Vec<String> {
    match change {
        Change::CreateGroup {
            access,
            description,
            visibility,
            ..
        } => [
            access.map(|a| format!("access={a}")),
            quoted("description", description),
            visibility.map(|v| format!("visibility={}", v.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Change::CreateUser { .. } => new_user_detail(change),
        Change::DeleteUser { .. } => vec!["(not declared; deleted permanently)".into()],
        Change::DeactivateUser {
            handover,
            declared_inactive,
            archive_schedules,
            revoke_tokens,
            owns,
            ..
        } => {
            let why = if *declared_inactive {
                "active = false"
            } else {
                "not declared"
            };
            let tokens = if *revoke_tokens {
                ", tokens revoked"
            } else {
                ""
            };
            let handover = match owns {
                None if *handover == Handover::Nothing && !*archive_schedules => {
                    return vec![format!("({why}; deactivated{tokens})")];
                }
                Some(owns) => owned(handover, *archive_schedules, *owns),
                None if *archive_schedules => format!("{handover}, schedules archived"),
                None => handover.to_string(),
            };
            let handover = escape::visible(&handover);
            vec![format!("({why}; deactivated, {handover}{tokens})")]
        }
        Change::DeleteGroup { .. } => vec!["(not declared; deleted)".into()],
        Change::UpdateGroup { .. } | Change::UpdateUser { .. } => Vec::new(),
        Change::Access(a) => super::access::detail(a),
        Change::CreateAttribute { .. }
        | Change::ReplaceAttribute { .. }
        | Change::DeleteAttribute { .. }
        | Change::SetAttributes { .. }
        | Change::CreateAccountType { .. }
        | Change::ReplaceAccountType { .. }
        | Change::DeleteAccountType { .. } => super::attrs::detail(change),
    }
}

/// `name="value"`, for a field that is set.
fn quoted(name: &str, v: &Option<String>) -> Option<String> {
    v.as_ref().map(|v| format!("{name}={}", escape::quoted(v)))
}

/// A new person's fields.
fn new_user_detail(change: &Change) -> Vec<String> {
    let Change::CreateUser {
        first_name,
        last_name,
        member_type,
        groups,
        kind,
        admin_of,
        ..
    } = change
    else {
        return Vec::new();
    };
    [
        Some(format!(
            "first_name={} last_name={}",
            escape::quoted(first_name),
            escape::quoted(last_name)
        )),
        quoted("member_type", member_type),
        Some(format!(
            "groups=[{}]",
            groups
                .iter()
                .map(|g| escape::text(g))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (!kind.is_internal()).then(|| format!("kind={}", kind.as_str())),
        (!admin_of.is_empty()).then(|| {
            let teams: Vec<String> = admin_of.iter().map(|g| escape::text(g)).collect();
            format!("admin_of=[{}]", teams.join(", "))
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// An update's fields, one line each: before → after.
fn changed_fields(out: &mut String, change: &Change, st: &Styles) {
    match change {
        Change::UpdateGroup {
            name,
            access,
            description,
            visibility,
            admins,
            ..
        } => {
            field(out, "name", name.as_ref(), st);
            field(out, "access", access.as_ref(), st);
            field(out, "description", description.as_ref(), st);
            field(out, "visibility", visibility.as_ref(), st);
            if let Some(Membership { added, removed, .. }) = admins {
                let _ = writeln!(out, "      admins: {}", plus_minus(added, removed, st));
            }
        }
        Change::UpdateUser {
            email,
            renamed_from,
            first_name,
            last_name,
            member_type,
            kind,
            reactivate,
            groups,
            ..
        } => {
            if let Some(from) = renamed_from {
                let rename = Diff {
                    before: from.clone(),
                    after: email.clone(),
                };
                field(out, "email", Some(&rename), st);
            }
            if *reactivate {
                let _ = writeln!(out, "      active: false → true (reactivated)");
            }
            field(out, "first_name", first_name.as_ref(), st);
            field(out, "last_name", last_name.as_ref(), st);
            field(out, "member_type", member_type.as_ref(), st);
            field(out, "kind", kind.as_ref(), st);
            if let Some(m) = groups {
                let _ = writeln!(
                    out,
                    "      groups: {}",
                    plus_minus(&m.added, &m.removed, st)
                );
            }
        }
        Change::Access(a) => {
            if let Some((name, d)) = super::access::changed_field(a) {
                field(out, name, Some(d), st);
            }
        }
        _ => {
            for line in super::attrs::fields(change) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
}

/// Names added and removed: `+a -b`, each escaped.
fn plus_minus(added: &[String], removed: &[String], st: &Styles) -> String {
    let parts: Vec<String> = added
        .iter()
        .map(|g| st.create.apply_to(format!("+{}", Text(g))).to_string())
        .chain(
            removed
                .iter()
                .map(|g| st.delete.apply_to(format!("-{}", Text(g))).to_string()),
        )
        .collect();
    parts.join(" ")
}

/// Where a deactivated Sigma member's documents and schedules go, with
/// how many there are.
fn owned(handover: &Handover, archive_schedules: bool, owns: Owned) -> String {
    let plural = |n: usize, noun: &str| format!("{n} {noun}{}", if n == 1 { "" } else { "s" });
    let documents = plural(owns.documents, "document");
    let schedules = plural(owns.schedules, "schedule");
    let to = match handover {
        Handover::CredentialsOwner => "to the API credentials' owner".to_string(),
        Handover::NewOwner(e) => format!("to {e}"),
        Handover::Archive => "archived".to_string(),
        Handover::Nothing => "kept".to_string(),
    };
    if archive_schedules && *handover != Handover::Archive {
        format!("{documents} {to}, {schedules} archived")
    } else {
        format!("{documents} and {schedules} {to}")
    }
}

/// Differences the plan lists without changing them, by reason, each shown
/// as the change it would be.
fn render_notes(out: &mut String, notes: &[Note], st: &Styles) {
    let mut notes: Vec<&Note> = notes.iter().collect();
    notes.sort_by_key(|n| n.reason);
    let mut last = None;
    for note in notes {
        if last != Some(note.reason) {
            let header = format!("  = {}:", note.reason.describe());
            let _ = writeln!(out, "{}", st.dim.apply_to(header));
            last = Some(note.reason);
        }
        for line in change_lines(&note.change).lines() {
            let _ = writeln!(out, "    {}", st.dim.apply_to(line));
        }
    }
}

fn field(out: &mut String, name: &str, diff: Option<&Diff<String>>, st: &Styles) {
    let Some(d) = diff else { return };
    // Colour only emphasises what differs; the values are escaped first,
    // and long ones are shown shortened, without emphasis.
    let (before, after) = if st.color && !escape::is_long(&d.before) && !escape::is_long(&d.after) {
        inline_diff(&d.before, &d.after, st)
    } else {
        (escape::quoted(&d.before), escape::quoted(&d.after))
    };
    let _ = writeln!(out, "      {name}: {before} → {after}");
}

/// Both values quoted, with the characters that differ emphasised.
fn inline_diff(before: &str, after: &str, st: &Styles) -> (String, String) {
    let diff = TextDiff::from_chars(before, after);
    let (mut old, mut new) = (String::from("\""), String::from("\""));
    for change in diff.iter_all_changes() {
        let text = escape::quoted(change.value());
        // The piece without its quotes: escaped like the whole value.
        let text = &text[1..text.len() - 1];
        match change.tag() {
            ChangeTag::Equal => {
                old.push_str(text);
                new.push_str(text);
            }
            ChangeTag::Delete => {
                let _ = write!(old, "{}", st.delete.clone().underlined().apply_to(text));
            }
            ChangeTag::Insert => {
                let _ = write!(new, "{}", st.create.clone().underlined().apply_to(text));
            }
        }
    }
    old.push('"');
    new.push('"');
    (old, new)
}

fn render_kept(out: &mut String, kept: &[Kept], st: &Styles) {
    // `kept` is sorted by kind, reason and key: list each run together.
    let mut start = 0;
    while start < kept.len() {
        let first = &kept[start];
        let end = kept[start..]
            .iter()
            .position(|k| k.kind != first.kind || k.reason != first.reason)
            .map_or(kept.len(), |n| start + n);
        let run = &kept[start..end];
        let noun = if run.len() == 1 {
            first.kind.as_str().to_string()
        } else {
            format!("{}s", first.kind.as_str())
        };
        let mut names: Vec<String> = run
            .iter()
            .take(KEPT_LISTED)
            .map(|k| match &k.found_as {
                Some(live) => format!(
                    "{} (in previous_emails: {})",
                    escape::text(&k.key),
                    escape::text(live)
                ),
                None => escape::text(&k.key),
            })
            .collect();
        let more = run.len().saturating_sub(KEPT_LISTED);
        if more > 0 {
            names.push(format!("and {more} more"));
        }
        let _ = writeln!(
            out,
            "{}",
            st.dim.apply_to(format!(
                "  = kept {} {noun} ({}): {}",
                run.len(),
                first.reason.describe(first.kind),
                names.join(", ")
            ))
        );
        start = end;
    }
}
