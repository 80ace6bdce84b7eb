//! Hostile names through every renderer: each change is still shown once,
//! on its own line, and nothing a name holds changes the output around it.
//! A plan whose names are hostile is rendered beside the same plan with
//! plain names; both must have the same lines, in the same places.

use super::*;
use crate::apply::{ChangeResult, Outcome, Report, SkipReason};
use crate::escape;
use crate::model::{Change, Diff, Membership, ObjectKind};
use crate::model::{Handover, ProviderKind};
use crate::plan::{Kept, KeptReason, Plan, SitePlan};
use crate::provider::WriteMode;

/// Names an attacker who can name a group or set a display name may use.
pub(crate) const HOSTILE: &[&str] = &[
    "Contractors\n```\n\n</details>\n\n<details open><summary><b>zeta</b> (periscope): no changes</summary>…<!--",
    "Contractors\r```\r\r</details>\r\r<details open><summary><b>zeta</b> (periscope): no changes</summary>…<!--",
    "<img src=x>",
    "[link](http://x)",
    "@octocat",
    "\u{1b}[H\u{1b}[2J",
    "\r\u{1b}[3A\u{1b}[J",
    "Finance\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}Admins",
    "evil\u{202e}gpj.exe",
    "zero\u{200b}\u{200d}\u{2060}\u{feff}width",
    "ticks ```` ````` and | pipes & \"quotes\" 'too'",
    "\u{85}next\u{2028}line\u{9b}2J",
];

/// One site whose every change, kept object and membership is named `name(i)`.
#[allow(
    clippy::too_many_lines,
    reason = "one struct literal for every kind of change, each field named hostilely"
)]
pub(crate) fn plan_named(name: impl Fn(usize) -> String) -> Plan {
    let n = HOSTILE.len();
    let mut changes = Vec::new();
    for i in 0..n {
        changes.push(Change::CreateGroup {
            name: name(i),
            access: None,
            description: Some(name(i)),
            visibility: None,
        });
    }
    for i in 0..n {
        changes.push(Change::UpdateUser {
            email: format!("{}@acme.com", name(i)),
            id: None,
            renamed_from: Some(format!("old{}@acme.com", name(i))),
            first_name: Some(Diff {
                before: name(i),
                after: "Ada".into(),
            }),
            last_name: Some(Diff {
                before: "Lovelace".into(),
                after: name(i),
            }),
            member_type: None,
            kind: None,
            reactivate: false,
            groups: Some(Membership {
                added: vec![name(i)],
                removed: vec![format!("x{}", name(i))],
                after: vec![name(i)],
            }),
        });
        changes.push(Change::CreateUser {
            email: format!("new{}@acme.com", name(i)),
            first_name: name(i),
            last_name: name(i),
            member_type: Some(name(i)),
            groups: vec![name(i), "Analysts".into()],
            kind: Default::default(),
            admin_of: vec![],
        });
    }
    for i in 0..n {
        changes.push(Change::DeactivateUser {
            email: format!("gone{}@acme.com", name(i)),
            id: None,
            handover: Handover::NewOwner(name(i)),
            declared_inactive: false,
            archive_schedules: false,
            revoke_tokens: false,
            owns: None,
        });
        changes.push(Change::DeleteUser {
            email: format!("del{}@acme.com", name(i)),
        });
        changes.push(Change::DeleteGroup {
            name: format!("g{}", name(i)),
            id: None,
        });
    }
    let mut kept: Vec<Kept> = (0..n)
        .map(|i| Kept {
            kind: ObjectKind::Group,
            key: name(i),
            reason: KeptReason::Unmanaged,
            found_as: None,
        })
        .collect();
    kept.sort_by(|a, b| a.key.cmp(&b.key));
    Plan {
        warnings: Vec::new(),
        sites: vec![SitePlan {
            site: "acme".into(),
            provider: ProviderKind::Periscope,
            changes,
            kept,
            notes: vec![],
            guards: vec![],
            unneeded_allowances: vec![],
            privileged: vec![],
            unneeded_privileged: vec![],
            fingerprint: "1f".repeat(32),
            insight: Default::default(),
        }],
    }
}

fn hostile(i: usize) -> String {
    HOSTILE[i].to_string()
}

fn plain(i: usize) -> String {
    format!("plain{i}")
}

/// What no line of text may hold: any control character but SGR colour.
fn assert_inert_text(out: &str, what: &str) {
    let stripped = console::strip_ansi_codes(out);
    for line in stripped.lines() {
        assert!(
            !line.chars().any(|c| c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{61c}')),
            "{what}: a raw control, bidi or zero-width character in {line:?}"
        );
    }
    // Every escape sequence left is a colour (SGR) one, written by roster.
    let mut rest = out;
    while let Some(at) = rest.find('\u{1b}') {
        let seq = &rest[at..];
        let end = seq.find('m').expect("an SGR sequence ends in m");
        assert!(
            seq[1..end].starts_with('[')
                && seq[2..end].chars().all(|c| c.is_ascii_digit() || c == ';'),
            "{what}: a non-colour escape sequence {:?}",
            &seq[..=end]
        );
        rest = &seq[end + 1..];
    }
}

/// The hostile and plain renderings have the same lines, and each line
/// starts the same way (the same change in the same place).
fn assert_same_shape(hostile: &str, plain: &str, what: &str) {
    let h: Vec<&str> = hostile.lines().collect();
    let p: Vec<&str> = plain.lines().collect();
    assert_eq!(h.len(), p.len(), "{what}: line count\n{hostile}");
    for (a, b) in h.iter().zip(&p) {
        let (a, b) = (console::strip_ansi_codes(a), console::strip_ansi_codes(b));
        if a.starts_with("```") && b.starts_with("```") {
            continue; // a fence, longer where the names hold backticks
        }
        // What comes before the first name: the same structure.
        let cut = b.find("plain").unwrap_or(b.len()).min(8);
        assert_eq!(
            a.get(..cut),
            b.get(..cut),
            "{what}: line {a:?} is where {b:?} is"
        );
    }
}

/// Each hostile name is shown, escaped, as often as its plain twin: once
/// per place it appears in the plan, never split or merged.
fn assert_each_shown(out: &str, shown: impl Fn(&str) -> String, what: &str) {
    let plain_out = out.to_string();
    for (i, raw) in HOSTILE.iter().enumerate() {
        let needle = format!("del{}@acme.com", shown(raw));
        assert_eq!(
            plain_out.matches(&needle).count(),
            1,
            "{what}: the delete of name {i} ({needle:?}) is not shown exactly once\n{out}"
        );
        let line = out.lines().find(|l| l.contains(&needle)).unwrap();
        assert!(
            console::strip_ansi_codes(line)
                .trim_start()
                .starts_with("- user  del"),
            "{what}: the delete of name {i} is not on its own line: {line:?}"
        );
    }
}

#[test]
fn hostile_names_cannot_forge_the_text_plan() {
    for color in [false, true] {
        let out = text::render(&plan_named(hostile), color);
        let what = if color { "coloured text" } else { "text" };
        assert_inert_text(&out, what);
        assert_same_shape(&out, &text::render(&plan_named(plain), color), what);
        assert_each_shown(&out, escape::text, what);
    }
}

#[test]
fn hostile_names_cannot_forge_the_markdown_comment() {
    let out = markdown::render(
        &plan_named(hostile),
        "9a8b7c6d5e4f",
        markdown::DEFAULT_BUDGET,
        "the artifact",
    );
    let plain = markdown::render(
        &plan_named(plain),
        "9a8b7c6d5e4f",
        markdown::DEFAULT_BUDGET,
        "the artifact",
    );
    assert_inert_text(&out, "markdown");
    assert_same_shape(&out, &plain, "markdown");
    assert_each_shown(&out, escape::text, "markdown");
    assert_markdown_intact(&out);
    // Outside the code block, the structure is the plain one's exactly.
    assert_eq!(outside_fences(&out), outside_fences(&plain));
}

/// The lines of a comment outside its code blocks.
fn outside_fences(md: &str) -> Vec<&str> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for line in md.lines() {
        match fence {
            None if line.starts_with("```") => {
                fence = Some(line.trim_end_matches("diff"));
            }
            None => out.push(line),
            Some(f) if line == f => fence = None,
            Some(_) => {}
        }
    }
    out
}

/// Balanced details and fences; outside the code blocks no HTML comment,
/// and no HTML, mention or link from data.
pub(crate) fn assert_markdown_intact(md: &str) {
    assert_eq!(
        md.matches("<details").count(),
        md.matches("</details>").count(),
        "details balanced\n{md}"
    );
    let mut fence: Option<String> = None;
    for line in md.lines() {
        match &fence {
            None if line.starts_with("```") => {
                fence = Some(line.trim_end_matches("diff").to_string());
            }
            None => {
                let mut rest = line.to_string();
                for tag in [
                    "<details open>",
                    "<details>",
                    "</details>",
                    "<summary>",
                    "</summary>",
                    "<b>",
                    "</b>",
                    "<sub>",
                    "</sub>",
                ] {
                    rest = rest.replace(tag, "");
                }
                // (`<!--` inside a code block is text, as any HTML there.)
                assert!(!rest.contains("<!--"), "an HTML comment opens: {line:?}");
                assert!(!rest.contains('<'), "raw < outside a fence: {line:?}");
                assert!(!rest.contains("@octocat"), "a mention: {line:?}");
                assert!(!rest.contains("](http"), "a link: {line:?}");
            }
            Some(f) if line == f => fence = None,
            Some(f) => assert!(
                !line.starts_with(f.as_str()),
                "a line in the block could close it: {line:?}"
            ),
        }
    }
    assert!(fence.is_none(), "a code block is left open\n{md}");
}

#[test]
fn hostile_names_cannot_forge_the_apply_report() {
    let report = |name: fn(usize) -> String| {
        let plan = plan_named(name);
        let results = plan.sites[0]
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| ChangeResult {
                change: c.clone(),
                outcome: if i % 2 == 0 {
                    Outcome::Applied
                } else {
                    Outcome::Skipped(SkipReason::NeedsFailedGroup(name(i % HOSTILE.len())))
                },
            })
            .collect();
        let report = Report {
            mode: WriteMode::Real,
            sites: vec![("acme".into(), results)],
            interrupted: false,
        };
        crate::render::apply::report(&report)
    };
    let out = report(hostile);
    assert_inert_text(&out, "apply report");
    assert_same_shape(&out, &report(plain), "apply report");
    for (i, raw) in HOSTILE.iter().enumerate() {
        let needle = format!("user del{}@acme.com", escape::text(raw));
        assert_eq!(out.matches(&needle).count(), 1, "name {i}\n{out}");
    }
}

#[test]
fn hostile_names_cannot_forge_the_saved_plan_mismatch() {
    let render = |name: fn(usize) -> String| {
        let plan = plan_named(name);
        let m = crate::plan::Mismatch {
            reasons: vec![format!("site `{}`: the live state changed", name(0))],
            dropped: plan.sites[0]
                .changes
                .iter()
                .map(|c| (name(1), c.clone()))
                .collect(),
            added: vec![],
        };
        crate::render::apply::mismatch(&m, "plan.json")
    };
    let out = render(hostile);
    assert_inert_text(&out, "mismatch");
    assert_same_shape(&out, &render(plain), "mismatch");
}

/// A plan with one update carrying a 100,000-character live first name and
/// `deletes` deletions after it.
fn long_name_plan(deletes: usize) -> Plan {
    let mut plan = plan_named(plain);
    let site = &mut plan.sites[0];
    site.changes = vec![Change::UpdateUser {
        email: "long@acme.com".into(),
        id: None,
        renamed_from: None,
        first_name: Some(Diff {
            before: "x".repeat(100_000),
            after: "Ada".into(),
        }),
        last_name: None,
        member_type: None,
        kind: None,
        reactivate: false,
        groups: None,
    }];
    site.changes
        .extend((0..deletes).map(|i| Change::DeleteUser {
            email: format!("leaver{i:05}@acme.com"),
        }));
    plan
}

#[test]
fn a_100000_character_name_hides_no_deletion() {
    let plan = long_name_plan(10);
    for out in [
        markdown::render(&plan, "9a8b7c6d", markdown::DEFAULT_BUDGET, "the artifact"),
        text::render(&plan, false),
    ] {
        for i in 0..10 {
            let line =
                format!("- user  leaver{i:05}@acme.com  (not declared; deleted permanently)");
            assert_eq!(out.matches(&line).count(), 1, "{line}\n{out}");
        }
        let shown = format!(
            "first_name: \"{}\"… (+99,800 chars) → \"Ada\"",
            "x".repeat(200)
        );
        assert!(out.contains(&shown), "the long name is shortened visibly");
        assert!(out.len() < 5_000, "{} characters", out.len());
        assert!(!out.contains("not shown"));
    }
}

#[test]
fn removals_get_the_room_first_and_what_is_left_out_is_counted() {
    // Many updates before the deletions in plan order; a small budget.
    let mut plan = long_name_plan(0);
    let site = &mut plan.sites[0];
    site.changes = (0..2_000)
        .map(|i| Change::UpdateUser {
            email: format!("person{i:05}@acme.com"),
            id: None,
            renamed_from: None,
            first_name: Some(Diff {
                before: "y".repeat(300),
                after: "Ada".into(),
            }),
            last_name: None,
            member_type: None,
            kind: None,
            reactivate: false,
            groups: None,
        })
        .collect();
    site.changes.extend((0..40).map(|i| Change::DeleteUser {
        email: format!("leaver{i:05}@acme.com"),
    }));
    let out = markdown::render(&plan, "9a8b7c6d", 20_000, "the artifact");
    assert!(out.len() <= 20_000, "{} characters", out.len());
    for i in 0..40 {
        assert!(
            out.contains(&format!("- user  leaver{i:05}@acme.com")),
            "{i}"
        );
    }
    let shown = out.matches("~ user  person").count();
    assert!(shown > 0);
    assert!(
        out.contains(&format!(
            "… {n} more changes on acme not shown: {n} user updates; the full plan is in the artifact\n",
            n = 2_000 - shown
        )),
        "{out}"
    );
    assert!(!out.contains("[!WARNING]"));
    assert_markdown_intact(&out);

    // More removals than the comment can hold: the number left out is said
    // at the top, per site and kind.
    plan.sites[0]
        .changes
        .extend((40..3_000).map(|i| Change::DeactivateUser {
            email: format!("leaver{i:05}@acme.com"),
            id: None,
            handover: Handover::Archive,
            declared_inactive: false,
            archive_schedules: false,
            revoke_tokens: false,
            owns: None,
        }));
    let out = markdown::render(&plan, "9a8b7c6d", 20_000, "the artifact");
    assert!(out.len() <= 20_000, "{} characters", out.len());
    assert_eq!(
        out.matches("~ user  person").count(),
        0,
        "removals come first"
    );
    let shown = out.matches("- user  leaver").count();
    let hidden = 3_000 - shown;
    let warning = format!(
        "> [!WARNING]\n> **{hidden} removals are not shown** in this comment, as it cannot hold them all: acme ({hidden} user deactivations). Review them in the artifact before approving.\n"
    );
    let at = out.find(&warning).unwrap_or_else(|| panic!("{out}"));
    assert!(
        at < out.find("<details").unwrap(),
        "the warning comes first"
    );
    assert!(out.contains(&format!(
        "… {} more changes on acme not shown: {hidden} user deactivations, 2000 user updates; the full plan is in the artifact\n",
        hidden + 2_000
    )));
    assert_markdown_intact(&out);
}

#[test]
fn many_sites_keep_the_comment_in_its_budget_and_count_every_removal() {
    let mut plan = long_name_plan(100);
    let one = plan.sites[0].clone();
    plan.sites = (0..150)
        .map(|i| SitePlan {
            site: format!("site{i:03}"),
            ..one.clone()
        })
        .collect();
    let out = markdown::render(&plan, "9a8b7c6d", markdown::DEFAULT_BUDGET, "the artifact");
    assert!(
        out.len() <= markdown::DEFAULT_BUDGET,
        "{} characters",
        out.len()
    );
    assert_markdown_intact(&out);
    let shown = out.matches("- user  leaver").count();
    let hidden = 150 * 100 - shown;
    assert!(shown > 0 && hidden > 0);
    assert!(
        out.contains(&format!(
            "> **{hidden} removals are not shown** in this comment"
        )),
        "{}",
        &out[..2_000]
    );
    assert_eq!(
        out.matches("<details").count(),
        150,
        "every site keeps its section"
    );
}

#[test]
fn a_hostile_site_name_cannot_forge_the_comment_or_the_text() {
    for site in HOSTILE {
        let mut plan = plan_named(plain);
        let s = &mut plan.sites[0];
        s.site = site.to_string();
        s.guards = vec![crate::plan::GuardTrip {
            site: site.to_string(),
            kind: crate::plan::GuardKind::Removals,
            count: 20,
            live: 30,
            allowed: None,
        }];
        s.unneeded_allowances = vec![crate::plan::UnneededAllowance {
            site: site.to_string(),
            kind: crate::plan::GuardKind::Removals,
            allowed: 40,
        }];
        let md = markdown::render(&plan, "9a8b7c6d", markdown::DEFAULT_BUDGET, "the artifact");
        assert_markdown_intact(&md);
        let lines = |t: &str| t.lines().count();
        let mut plain_plan = plan_named(plain);
        let mut guards = plan.sites[0].guards.clone();
        guards[0].site = "acme".into();
        let mut unneeded = plan.sites[0].unneeded_allowances.clone();
        unneeded[0].site = "acme".into();
        plain_plan.sites[0].guards = guards;
        plain_plan.sites[0].unneeded_allowances = unneeded;
        let plain_md = markdown::render(&plain_plan, "9a8b7c6d", markdown::DEFAULT_BUDGET, "x");
        assert_eq!(lines(&md), lines(&plain_md), "{md}");
        for color in [false, true] {
            let text = text::render(&plan, color);
            assert_inert_text(&text, "text");
            assert_eq!(lines(&text), lines(&text::render(&plain_plan, color)));
        }
    }
}
