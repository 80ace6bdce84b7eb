//! The three formats of the same plan, and the markdown size budget.

use super::*;
use crate::model::{Access, Handover, ProviderKind};
use crate::model::{Change, Diff, Membership, ObjectKind};
use crate::plan::{Kept, KeptReason, Plan, SitePlan};

fn plan() -> Plan {
    Plan {
        warnings: Vec::new(),
        sites: vec![
            SitePlan {
                site: "acme".into(),
                provider: ProviderKind::Periscope,
                changes: vec![
                    Change::CreateGroup {
                        name: "Data Engineering".into(),
                        access: Some(Access::Sql),
                        description: None,
                        visibility: None,
                    },
                    Change::UpdateUser {
                        email: "ada@acme.com".into(),
                        id: None,
                        renamed_from: None,
                        first_name: None,
                        last_name: Some(Diff {
                            before: "Lovelace".into(),
                            after: "King".into(),
                        }),
                        member_type: None,
                        kind: None,
                        reactivate: false,
                        groups: Some(Membership {
                            added: vec!["Data Engineering".into()],
                            removed: vec!["Finance".into()],
                            after: vec!["Analysts".into(), "Data Engineering".into()],
                        }),
                    },
                    Change::DeleteUser {
                        email: "tim@acme.com".into(),
                    },
                ],
                guards: vec![],
                unneeded_allowances: vec![],
                privileged: vec![],
                unneeded_privileged: vec![],
                notes: vec![],
                kept: vec![Kept {
                    kind: ObjectKind::User,
                    key: "admin@acme.com".into(),
                    reason: KeptReason::InvitedBy,
                    found_as: None,
                }],
                fingerprint: "1f".repeat(32),
                insight: Default::default(),
            },
            SitePlan {
                site: "acme-sigma".into(),
                provider: ProviderKind::Sigma,
                changes: vec![Change::DeactivateUser {
                    email: "tim@acme.com".into(),
                    id: Some("m0001".into()),
                    handover: Handover::NewOwner("admin@acme.com".into()),
                    declared_inactive: false,
                    archive_schedules: false,
                    revoke_tokens: false,
                    owns: None,
                }],
                kept: vec![],
                notes: vec![],
                guards: vec![],
                unneeded_allowances: vec![crate::plan::UnneededAllowance {
                    site: "acme-sigma".into(),
                    kind: crate::plan::GuardKind::Removals,
                    allowed: 40,
                }],
                privileged: vec![],
                unneeded_privileged: vec![],
                fingerprint: "2e".repeat(32),
                insight: Default::default(),
            },
        ],
    }
}

const DESIRED: &str = "9a8b7c6d5e4f3a2b1c0d9a8b7c6d5e4f3a2b1c0d9a8b7c6d5e4f3a2b1c0d9a8b";

#[test]
fn text() {
    insta::assert_snapshot!(text::render(&plan(), false), @r#"
    Plan: 1 to create, 1 to update, 2 to delete.

    site acme (periscope) — 1 to create, 1 to update, 1 to delete
      + group Data Engineering  access=sql
      ~ user  ada@acme.com
          last_name: "Lovelace" → "King"
          groups: +Data Engineering -Finance
      - user  tim@acme.com  (not declared; deleted permanently)
      = kept 1 user (the site's invited_by, never removed): admin@acme.com

    site acme-sigma (sigma) — 0 to create, 0 to update, 1 to delete
      - user  tim@acme.com  (not declared; deactivated, documents to admin@acme.com)
      note: site `acme-sigma`: allow_removals = 40 is set, and this plan does not need it. Once the change it was written for is applied, remove it, so that the guard stops the next large change until someone reviews it
    "#);
}

#[test]
fn markdown() {
    insta::assert_snapshot!(markdown::render(&plan(), DESIRED, markdown::DEFAULT_BUDGET, "the artifact"), @r#"
    ### roster plan: 1 to create, 1 to update, 2 to delete

    | site | provider | users + | users ~ | users − | groups + | groups ~ | groups − |
    |---|---|--:|--:|--:|--:|--:|--:|
    | acme | periscope | 0 | 1 | 1 | 1 | 0 | 0 |
    | acme-sigma | sigma | 0 | 0 | 1 | 0 | 0 | 0 |

    > [!NOTE]
    > site `acme-sigma`: allow_removals = 40 is set, and this plan does not need it. Once the change it was written for is applied, remove it, so that the guard stops the next large change until someone reviews it.

    <details open><summary><b>acme</b> (periscope): 1 to create, 1 to update, 1 to delete</summary>

    ```diff
    + group Data Engineering  access=sql
    ~ user  ada@acme.com
        last_name: "Lovelace" → "King"
        groups: +Data Engineering -Finance
    - user  tim@acme.com  (not declared; deleted permanently)
    = kept 1 user (the site's invited_by, never removed): admin@acme.com
    ```

    </details>

    <details open><summary><b>acme-sigma</b> (sigma): 0 to create, 0 to update, 1 to delete</summary>

    ```diff
    - user  tim@acme.com  (not declared; deactivated, documents to admin@acme.com)
    note: site `acme-sigma`: allow_removals = 40 is set, and this plan does not need it. Once the change it was written for is applied, remove it, so that the guard stops the next large change until someone reviews it
    ```

    </details>

    <sub>desired state `9a8b7c6d5e4f` · roster 0.1.0</sub>
    "#);
}

#[allow(
    clippy::too_many_lines,
    reason = "the JSON snapshot literal is the assertion"
)]
#[test]
fn json() {
    insta::assert_snapshot!(json::render(&plan(), DESIRED), @r#"
    {
      "format_version": 1,
      "roster_version": "0.1.0",
      "desired_fingerprint": "9a8b7c6d5e4f3a2b1c0d9a8b7c6d5e4f3a2b1c0d9a8b7c6d5e4f3a2b1c0d9a8b",
      "summary": {
        "create": 1,
        "update": 1,
        "delete": 2
      },
      "sites": [
        {
          "site": "acme",
          "provider": "periscope",
          "live_fingerprint": "1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f",
          "summary": {
            "create": 1,
            "update": 1,
            "delete": 1
          },
          "changes": [
            {
              "kind": "group",
              "action": "create",
              "key": "Data Engineering",
              "fields": [
                {
                  "field": "name",
                  "before": null,
                  "after": "Data Engineering"
                },
                {
                  "field": "access",
                  "before": null,
                  "after": "sql"
                }
              ],
              "change": {
                "op": "create_group",
                "name": "Data Engineering",
                "access": "sql"
              }
            },
            {
              "kind": "user",
              "action": "update",
              "key": "ada@acme.com",
              "fields": [
                {
                  "field": "last_name",
                  "before": "Lovelace",
                  "after": "King"
                },
                {
                  "field": "groups",
                  "before": [
                    "Analysts",
                    "Finance"
                  ],
                  "after": [
                    "Analysts",
                    "Data Engineering"
                  ]
                }
              ],
              "change": {
                "op": "update_user",
                "email": "ada@acme.com",
                "last_name": {
                  "before": "Lovelace",
                  "after": "King"
                },
                "groups": {
                  "added": [
                    "Data Engineering"
                  ],
                  "removed": [
                    "Finance"
                  ],
                  "after": [
                    "Analysts",
                    "Data Engineering"
                  ]
                }
              }
            },
            {
              "kind": "user",
              "action": "delete",
              "key": "tim@acme.com",
              "fields": [],
              "change": {
                "op": "delete_user",
                "email": "tim@acme.com"
              }
            }
          ],
          "kept": [
            {
              "kind": "user",
              "key": "admin@acme.com",
              "reason": "invited_by"
            }
          ],
          "guards": [],
          "unneeded_allowances": [],
          "seats": [],
          "expiry": {
            "expired": [],
            "soon": [],
            "notice_days": 0
          },
          "effective": []
        },
        {
          "site": "acme-sigma",
          "provider": "sigma",
          "live_fingerprint": "2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e",
          "summary": {
            "create": 0,
            "update": 0,
            "delete": 1
          },
          "changes": [
            {
              "kind": "user",
              "action": "delete",
              "key": "tim@acme.com",
              "fields": [
                {
                  "field": "active",
                  "before": true,
                  "after": false
                }
              ],
              "change": {
                "op": "deactivate_user",
                "email": "tim@acme.com",
                "id": "m0001",
                "handover": {
                  "to": "new_owner",
                  "email": "admin@acme.com"
                },
                "declared_inactive": false
              }
            }
          ],
          "kept": [],
          "guards": [],
          "unneeded_allowances": [
            {
              "site": "acme-sigma",
              "kind": "removals",
              "allowed": 40
            }
          ],
          "seats": [],
          "expiry": {
            "expired": [],
            "soon": [],
            "notice_days": 0
          },
          "effective": []
        }
      ]
    }
    "#);
}

#[test]
fn a_ten_thousand_change_plan_fits_in_one_comment() {
    let mut p = plan();
    p.sites[0].changes = (0..10_000)
        .map(|i| Change::CreateUser {
            email: format!("person{i:05}@acme.com"),
            first_name: "Person".into(),
            last_name: format!("Number {i}"),
            member_type: None,
            groups: vec!["Analysts".into(), "Data Engineering".into()],
            kind: Default::default(),
            admin_of: vec![],
        })
        .collect();
    let out = markdown::render(
        &p,
        DESIRED,
        markdown::DEFAULT_BUDGET,
        "the `roster-plan` artifact",
    );
    assert!(
        out.chars().count() < 65_536,
        "{} characters",
        out.chars().count()
    );
    assert!(out.starts_with("### roster plan: 10000 to create, 0 to update, 1 to delete\n"));
    assert!(out.contains("| acme | periscope | 10000 | 0 | 0 | 0 | 0 | 0 |"));
    assert!(out.contains("+ user  person00000@acme.com"));
    assert!(!out.contains("person09999@acme.com"));
    // The second site still gets its section, and the cut is announced.
    let shown = out.matches("+ user  person").count();
    assert!(out.contains(&format!(
        "… {} more changes on acme not shown: {} user creates; the full plan is in the `roster-plan` artifact\n",
        10_000 - shown,
        10_000 - shown
    )));
    assert!(out.contains(&format!(
        "> {} changes are not shown to keep this comment under GitHub's size limit. The full plan is in the `roster-plan` artifact.",
        10_000 - shown
    )));
    assert!(
        out.contains("<details><summary><b>acme</b>"),
        "a long section is folded"
    );
    assert!(out.ends_with("</sub>\n"));
}

/// `n` warnings about the state: look-alike names and past dates, each
/// with a hostile name in it.
fn warnings(n: usize) -> Vec<crate::model::Warning> {
    use crate::model::{Warning, WarningKind};
    let hostile = crate::render::hostile_tests::HOSTILE;
    (0..n)
        .map(|i| Warning {
            location: format!("state/people.toml:{}:8", i + 1),
            kind: if i % 2 == 0 {
                WarningKind::MixedScripts {
                    what: "account type".into(),
                    name: format!("V\u{456}ewer {}", hostile[i % hostile.len()]),
                }
            } else {
                WarningKind::Expired {
                    subject: format!("{}@acme.com", hostile[i % hostile.len()]),
                    on: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                }
            },
        })
        .collect()
}

#[test]
fn the_warnings_get_room_before_any_change_in_the_markdown_comment() {
    let mut plan = crate::render::hostile_tests::plan_named(|i| format!("name{i}"));
    plan.sites[0]
        .changes
        .extend((0..3_000).map(|i| Change::CreateUser {
            email: format!("new{i:05}@acme.com"),
            first_name: "New".into(),
            last_name: "Person".into(),
            member_type: None,
            groups: vec![],
            kind: crate::model::UserKind::default(),
            admin_of: vec![],
        }));
    plan.warnings = warnings(6);
    let out = markdown::render(&plan, "9a8b7c6d", 20_000, "the artifact");
    assert!(out.len() <= 20_000, "{} characters", out.len());
    let block = out
        .find("> [!WARNING]\n> **6 warnings about the state**")
        .unwrap();
    assert!(block < out.find("| site |").unwrap(), "{out}");
    for w in &plan.warnings {
        let line = format!("> - {}\n", w.line(crate::escape::markdown));
        assert!(out.contains(&line), "{line} is not in:\n{out}");
    }
    assert!(out.contains("more changes on acme not shown"), "{out}");
}

#[test]
fn warnings_the_whole_comment_cannot_hold_are_counted_per_kind() {
    let mut plan = crate::render::hostile_tests::plan_named(|i| format!("name{i}"));
    plan.warnings = warnings(400);
    let out = markdown::render(&plan, "9a8b7c6d", 20_000, "the artifact");
    assert!(out.len() <= 20_000, "{} characters", out.len());
    let shown = out.matches("\n> - state/people.toml:").count();
    assert!(shown > 10, "{out}");
    let hidden = 400 - shown;
    // Even ones are look-alike names.
    let mixed = (shown..400).filter(|i| i % 2 == 0).count();
    let past = hidden - mixed;
    assert!(
        out.contains(&format!(
            "> - **{hidden} more not shown**, as this comment cannot hold them: look-alike names: {mixed}, past dates: {past}. Read them in the artifact, or run `roster validate`.\n"
        )),
        "{out}"
    );
}
