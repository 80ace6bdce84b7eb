//! Plan unit tests: desired and live state in, the rendered plan out.

use super::*;
use crate::model::{
    Access, DesiredGroup, DesiredSite, DesiredState, DesiredUser, LiveGroup, LiveSite, LiveUser,
    ProviderKind, Site, SiteConfig, Unmanaged,
};
use crate::test_fixtures;

fn site() -> Site {
    let settings = crate::provider::periscope::Settings {
        slug: "acme".into(),
        api_key_from: crate::model::SecretSource::Env("ACME_API_KEY".into()),
        invited_by: "admin@acme.com".into(),
        access_control: Default::default(),
    };
    test_fixtures::site(
        "acme",
        ProviderKind::Periscope,
        "https://app.periscopedata.com",
        SiteConfig::Periscope(settings),
    )
}

fn user(email: &str, first: &str, last: &str, groups: &[&str]) -> DesiredUser {
    DesiredUser {
        email: email.into(),
        first_name: first.into(),
        last_name: last.into(),
        groups: groups
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        member_type: None,
        active: true,
        previous_emails: vec![],
        kind: None,
        expires: None,
        membership_expires: vec![],
    }
}

fn live_user(email: &str, first: &str, last: &str, groups: &[&str]) -> LiveUser {
    LiveUser {
        email: email.into(),
        first_name: first.into(),
        last_name: last.into(),
        groups: groups
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
        active: true,
        ..LiveUser::default()
    }
}

fn group(name: &str, access: Access) -> DesiredGroup {
    DesiredGroup {
        name: name.into(),
        access: Some(access),
        description: None,
        visibility: None,
        previous_names: vec![],
        admins: None,
    }
}

fn live_group(name: &str, access: &str) -> LiveGroup {
    LiveGroup {
        name: name.into(),
        access: Some(access.into()),
        ..LiveGroup::default()
    }
}

fn builtins() -> Vec<LiveGroup> {
    vec![
        live_group("Administrators", "sql"),
        live_group("All Users", "sql"),
    ]
}

fn admin() -> LiveUser {
    live_user(
        "admin@acme.com",
        "Site",
        "Admin",
        &["Administrators", "All Users"],
    )
}

fn render(desired: DesiredSite, live: LiveSite) -> String {
    let plan = plan(
        &DesiredState {
            sites: vec![desired],
        },
        &[live],
    )
    .expect("a plan");
    crate::render::text::render(&plan, false)
}

fn desired(users: Vec<DesiredUser>, groups: Vec<DesiredGroup>) -> DesiredSite {
    DesiredSite {
        access: Default::default(),
        site: site(),
        users,
        groups,
        attrs: Default::default(),
    }
}

#[test]
fn creates_groups_and_users() {
    let out = render(
        desired(
            vec![
                user("admin@acme.com", "Site", "Admin", &["Administrators"]),
                user("grace@acme.com", "Grace", "Hopper", &["Analysts"]),
            ],
            vec![group("Analysts", Access::Sql)],
        ),
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![admin()],
            groups: builtins(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @r#"
    Plan: 2 to create, 0 to update, 0 to delete.

    site acme (periscope) — 2 to create, 0 to update, 0 to delete
      seats: sql 1 → 2 (+1)
      + group Analysts  access=sql
      + user  grace@acme.com  first_name="Grace" last_name="Hopper" groups=[Analysts]
    "#);
}

#[test]
fn updates_each_field() {
    let out = render(
        desired(
            vec![
                user("admin@acme.com", "Site", "Admin", &["Administrators"]),
                user("ada@acme.com", "Augusta", "King", &["Analysts"]),
            ],
            vec![group("Analysts", Access::Sql)],
        ),
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                live_user(
                    "ada@acme.com",
                    "Ada",
                    "Lovelace",
                    &["Analysts", "All Users"],
                ),
            ],
            groups: [builtins(), vec![live_group("Analysts", "View")]].concat(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @r#"
    Plan: 0 to create, 2 to update, 0 to delete.

    site acme (periscope) — 0 to create, 2 to update, 0 to delete
      ~ group Analysts
          access: "view" → "sql"
      ~ user  ada@acme.com
          first_name: "Ada" → "Augusta"
          last_name: "Lovelace" → "King"
    "#);
}

#[test]
fn membership_changes_ignore_all_users_and_case() {
    let out = render(
        desired(
            vec![
                user("admin@acme.com", "Site", "Admin", &["Administrators"]),
                user("ada@acme.com", "Ada", "Lovelace", &["analysts", "Finance"]),
                user("alan@acme.com", "Alan", "Turing", &["Finance"]),
            ],
            vec![
                group("Analysts", Access::Sql),
                group("Finance", Access::View),
                group("Ops", Access::View),
            ],
        ),
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                // Only All Users differs: no change.
                live_user("alan@acme.com", "Alan", "Turing", &["Finance"]),
                live_user(
                    "ada@acme.com",
                    "Ada",
                    "Lovelace",
                    &["ANALYSTS", "Ops", "All Users"],
                ),
            ],
            groups: [
                builtins(),
                vec![
                    live_group("Analysts", "sql"),
                    live_group("Finance", "view"),
                    live_group("Ops", "view"),
                ],
            ]
            .concat(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @"
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme (periscope) — 0 to create, 1 to update, 0 to delete
      ~ user  ada@acme.com
          groups: +Finance -Ops
    ");
}

#[test]
fn removes_undeclared_by_default_but_never_builtins_or_invited_by() {
    let mut d = desired(vec![], vec![]);
    d.site.config = SiteConfig::Periscope(crate::provider::periscope::Settings {
        slug: "acme".into(),
        api_key_from: crate::model::SecretSource::Env("ACME_API_KEY".into()),
        invited_by: "ADMIN@acme.com".into(),
        access_control: Default::default(),
    });
    let out = render(
        d,
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![admin(), live_user("tim@acme.com", "Tim", "B", &["Old"])],
            groups: [builtins(), vec![live_group("Old", "view")]].concat(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @"
    Plan: 0 to create, 0 to update, 2 to delete.

    site acme (periscope) — 0 to create, 0 to update, 2 to delete
      seats: sql 2 → 1 (−1)
      - user  tim@acme.com  (not declared; deleted permanently)
      - group Old  (not declared; deleted)
      = kept 1 user (the site's invited_by, never removed): admin@acme.com
    ");
}

#[test]
fn keeps_undeclared_when_the_site_says_keep() {
    let mut d = desired(
        vec![user("admin@acme.com", "Site", "Admin", &["Administrators"])],
        vec![],
    );
    d.site.unmanaged_users = Unmanaged::Keep;
    d.site.unmanaged_groups = Unmanaged::Keep;
    let out = render(
        d,
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                live_user("tim@acme.com", "Tim", "B", &[]),
                live_user("bob@acme.com", "Bob", "C", &[]),
            ],
            groups: [builtins(), vec![live_group("Old", "view")]].concat(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @r#"
    No changes: the live state matches the declared state.

    site acme (periscope) — no changes
      = kept 1 group (not declared, unmanaged_groups = "keep"): Old
      = kept 2 users (not declared, unmanaged_users = "keep"): bob@acme.com, tim@acme.com
    "#);
}

#[test]
fn emails_match_case_insensitively() {
    let out = render(
        desired(
            vec![
                user(" Admin@ACME.com ", "Site", "Admin", &["Administrators"]),
                user("Ada@Acme.com", "Ada", "Lovelace", &[]),
            ],
            vec![],
        ),
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                live_user("ada@acme.com", "Ada", "Lovelace", &["All Users"]),
            ],
            groups: builtins(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @"
    No changes: the live state matches the declared state.

    site acme (periscope) — no changes
    ");
}

#[test]
fn renames_via_previous_names_and_carries_memberships() {
    let mut g = group("Growth", Access::View);
    g.previous_names = vec!["Marketing".into()];
    let out = render(
        desired(
            vec![
                user("admin@acme.com", "Site", "Admin", &["Administrators"]),
                user("barbara@acme.com", "Barbara", "Liskov", &["Growth"]),
            ],
            vec![g],
        ),
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                live_user("barbara@acme.com", "Barbara", "Liskov", &["Marketing"]),
            ],
            groups: [builtins(), vec![live_group("Marketing", "view")]].concat(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @r#"
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme (periscope) — 0 to create, 1 to update, 0 to delete
      ~ group Growth
          name: "Marketing" → "Growth"
    "#);
}

#[test]
fn a_rename_whose_old_and_new_names_both_exist_is_an_error() {
    let mut g = group("Growth", Access::View);
    g.previous_names = vec!["Marketing".into()];
    let errors = plan(
        &DesiredState {
            sites: vec![desired(vec![], vec![g])],
        },
        &[LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![admin()],
            groups: [
                builtins(),
                vec![
                    live_group("Marketing", "view"),
                    live_group("growth", "view"),
                ],
            ]
            .concat(),
            ..LiveSite::default()
        }],
    )
    .unwrap_err();
    insta::assert_snapshot!(errors[0].to_string(), @"site `acme`: group `Growth` lists `Marketing` in previous_names, but both `growth` and `Marketing` exist on the site; roster will not guess which one to keep. Delete one of them on the site, or remove `Marketing` from previous_names");
}

#[test]
fn changes_run_in_dependency_order() {
    let p = plan(
        &DesiredState {
            sites: vec![desired(
                vec![
                    user("zed@acme.com", "Zed", "Z", &["New"]),
                    user("amy@acme.com", "Amy", "A", &[]),
                ],
                vec![group("New", Access::View), group("Changed", Access::Sql)],
            )],
        },
        &[LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                live_user("amy@acme.com", "Amy", "Old", &["Gone"]),
                live_user("bob@acme.com", "Bob", "B", &[]),
            ],
            groups: [
                builtins(),
                vec![live_group("Gone", "view"), live_group("Changed", "view")],
            ]
            .concat(),
            ..LiveSite::default()
        }],
    )
    .unwrap();
    let order: Vec<String> = p.sites[0]
        .changes
        .iter()
        .map(|c| format!("{} {:?} {}", c.step(), c.action(), c.key()))
        .collect();
    assert_eq!(
        order,
        [
            "1 Create New",
            "1 Update Changed",
            "2 Update amy@acme.com",
            "2 Create zed@acme.com",
            "3 Delete bob@acme.com",
            "4 Delete Gone",
        ]
    );
    // Steps never go backwards.
    let steps: Vec<u8> = p.sites[0].changes.iter().map(Change::step).collect();
    assert!(steps.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        p.summary(),
        Summary {
            create: 2,
            update: 2,
            delete: 2
        }
    );
}

#[test]
fn identical_inputs_give_identical_plans_whatever_the_live_order() {
    let d = desired(
        vec![
            user("a@acme.com", "A", "A", &["X"]),
            user("b@acme.com", "B", "B", &[]),
        ],
        vec![group("X", Access::View)],
    );
    let live1 = LiveSite {
        account_types: vec![],
        api_identity: None,
        access: Default::default(),
        users: vec![
            admin(),
            live_user("c@acme.com", "C", "C", &[]),
            live_user("d@acme.com", "D", "D", &[]),
        ],
        groups: builtins(),
        ..LiveSite::default()
    };
    let mut live2 = live1.clone();
    live2.users.reverse();
    live2.groups.reverse();
    assert_eq!(render(d.clone(), live1), render(d, live2));
}

mod sigma {
    use super::*;
    use crate::model::{Handover, Locked};

    fn sigma_site(handover: Handover) -> Site {
        test_fixtures::sigma_site(test_fixtures::SIGMA_URL, handover, Default::default())
    }

    fn member(email: &str, member_type: &str) -> LiveUser {
        LiveUser {
            id: Some(format!("id-{email}")),
            email: email.into(),
            first_name: "F".into(),
            last_name: "L".into(),
            member_type: Some(member_type.into()),
            active: true,
            ..LiveUser::default()
        }
    }

    fn person(email: &str, member_type: Option<&str>) -> DesiredUser {
        DesiredUser {
            member_type: member_type.map(str::to_string),
            ..user(email, "F", "L", &[])
        }
    }

    fn live(users: Vec<LiveUser>) -> LiveSite {
        LiveSite {
            users,
            groups: vec![],
            account_types: vec!["Admin".into(), "Creator".into(), "Viewer".into()],
            api_identity: None,
            access: Default::default(),
            ..LiveSite::default()
        }
    }

    fn render_sigma(
        site: Site,
        users: Vec<DesiredUser>,
        live: LiveSite,
    ) -> Result<String, Vec<PlanError>> {
        let p = plan(
            &DesiredState {
                sites: vec![DesiredSite {
                    access: Default::default(),
                    site,
                    users,
                    groups: vec![],
                    attrs: Default::default(),
                }],
            },
            &[live],
        )?;
        Ok(crate::render::text::render(&p, false))
    }

    #[test]
    fn deactivates_reactivates_renames_and_leaves_locked_members_alone() {
        let mut archived = member("john@x.io", "Creator");
        archived.active = false;
        let mut scim = member("scim@x.io", "Viewer");
        scim.locked = Some(Locked::ScimInactive);
        let mut robot = member("robot@x.io", "admin");
        robot.locked = Some(Locked::System);
        let mut renamed = person("barbara@new.io", Some("viewer"));
        renamed.previous_emails = vec!["barbara@old.io".into()];
        let mut off = person("ada@x.io", None);
        off.active = false;
        let out = render_sigma(
            sigma_site(Handover::NewOwner("boss@x.io".into())),
            vec![
                person("boss@x.io", Some("ADMIN")),
                person("john@x.io", None),
                renamed,
                off,
                person("scim@x.io", Some("Creator")),
            ],
            live(vec![
                member("boss@x.io", "Admin"),
                archived,
                member("barbara@old.io", "Viewer"),
                member("ada@x.io", "Creator"),
                member("tim@x.io", "Creator"),
                inactive(member("gone@x.io", "Creator")),
                scim,
                robot,
            ]),
        )
        .unwrap();
        insta::assert_snapshot!(out, @r#"
        Plan: 0 to create, 2 to update, 2 to delete.

        site org (sigma) — 0 to create, 2 to update, 2 to delete
          seats: Admin 2 → 2, Creator 2 → 1 (−1), Viewer 2 → 2
          ~ user  barbara@new.io
              email: "barbara@old.io" → "barbara@new.io"
          ~ user  john@x.io
              active: false → true (reactivated)
          - user  ada@x.io  (active = false; deactivated, documents to boss@x.io, tokens revoked)
          - user  tim@x.io  (not declared; deactivated, documents to boss@x.io, tokens revoked)
          = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim@x.io
          = kept 1 user (the platform's own account, never touched): robot@x.io
        "#);
    }

    #[test]
    fn keep_leaves_undeclared_members_active() {
        let mut site = sigma_site(Handover::Archive);
        site.unmanaged_users = Unmanaged::Keep;
        let out = render_sigma(site, vec![], live(vec![member("tim@x.io", "Creator")])).unwrap();
        insta::assert_snapshot!(out, @r#"
        No changes: the live state matches the declared state.

        site org (sigma) — no changes
          = kept 1 user (not declared, unmanaged_users = "keep"): tim@x.io
        "#);
    }

    #[test]
    fn plan_errors_name_what_to_fix() {
        let mut both = person("barbara@new.io", None);
        both.previous_emails = vec!["barbara@old.io".into()];
        let errors = render_sigma(
            sigma_site(Handover::NewOwner("nobody@x.io".into())),
            vec![both, person("ada@x.io", Some("Wizard"))],
            live(vec![
                member("barbara@new.io", "Viewer"),
                member("barbara@old.io", "Viewer"),
                member("ada@x.io", "Viewer"),
                member("tim@x.io", "Viewer"),
            ]),
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"), @r"
        site `org`: user `ada@x.io` has member_type `Wizard`, which is not an account type of the organisation. Valid types: Admin, Creator, Viewer
        site `org`: user `barbara@new.io` lists `barbara@old.io` in previous_emails, but both addresses exist on the site; roster will not guess which account to keep. Deactivate or delete `barbara@old.io` on the site (the plan then keeps `barbara@new.io`), or remove `barbara@old.io` from previous_emails
        site `org`: new_owner `nobody@x.io` must be an active member of the site that SCIM does not manage, to receive deactivated members' documents, and no member has that email. Set new_owner under [sites.org] to such a member, or set archive_documents = true instead
        ");
    }

    #[test]
    fn periscope_cannot_change_an_email() {
        let mut u = user("ada@new.io", "Ada", "L", &[]);
        u.previous_emails = vec!["ada@old.io".into()];
        let errors = plan(
            &DesiredState {
                sites: vec![desired(vec![u], vec![])],
            },
            &[LiveSite {
                account_types: vec![],
                api_identity: None,
                access: Default::default(),
                users: vec![admin(), live_user("ada@old.io", "Ada", "L", &[])],
                groups: builtins(),
                ..LiveSite::default()
            }],
        )
        .unwrap_err();
        assert!(matches!(
            errors[0],
            PlanError::EmailChangeUnsupported { .. }
        ));
    }

    fn errors_of(result: Result<String, Vec<PlanError>>) -> String {
        let errors = result.unwrap_err();
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn team(name: &str) -> LiveGroup {
        LiveGroup {
            id: Some(format!("t-{name}")),
            name: name.into(),
            ..LiveGroup::default()
        }
    }

    #[test]
    fn live_objects_the_rules_make_equal_are_errors_naming_both() {
        let mut teams = live(vec![
            member("ann@x.io", "Viewer"),
            member("ANN@x.io", "Viewer"),
            member("jos\u{e9}@x.io", "Viewer"),
            member("jose\u{301}@x.io", "Viewer"),
        ]);
        teams.groups = vec![team("analysts"), team("Analysts"), team("Caf\u{e9}")];
        let desired = DesiredSite {
            access: Default::default(),
            site: sigma_site(Handover::Archive),
            users: vec![person("ann@x.io", None)],
            groups: vec![DesiredGroup {
                name: "Analysts".into(),
                access: None,
                ..group("Analysts", Access::View)
            }],
            attrs: Default::default(),
        };
        let errors = plan_site(&desired, &teams).unwrap_err();
        // As a reader is shown them (escaped: an NFD spelling shows its mark).
        let text: Vec<String> = errors
            .iter()
            .map(|e| crate::escape::visible(&e.to_string()))
            .collect();
        insta::assert_snapshot!(text.join("\n"), @r#"
        site `org`: the site has two teams, "Analysts" and "analysts", that roster cannot tell apart (team names compare ignoring case and surrounding spaces, after Unicode NFC); it will not guess which one the state means. Rename or remove one of them in Sigma's UI, then plan again
        site `org`: the site has two members, "ANN@x.io" and "ann@x.io", that roster cannot tell apart (emails compare ignoring case, after Unicode NFC); it will not guess which one the state means. Rename or remove one of them in Sigma's UI, then plan again
        site `org`: the site has two members, "jose\u{301}@x.io" and "josé@x.io", that roster cannot tell apart (emails compare ignoring case, after Unicode NFC); it will not guess which one the state means. Rename or remove one of them in Sigma's UI, then plan again
        "#);
        // Whatever order the site lists them in.
        teams.users.reverse();
        teams.groups.reverse();
        assert_eq!(plan_site(&desired, &teams).unwrap_err(), errors);
    }

    #[test]
    fn nfc_and_nfd_spellings_are_one_person_and_one_team() {
        let mut l = live(vec![member("jose\u{301}@acme.com", "Viewer")]);
        l.groups = vec![team("Cafe\u{301}")];
        let mut jose = person("JOS\u{c9}@acme.com", Some("viewer"));
        jose.groups = vec!["Caf\u{e9}".into()];
        l.users[0].groups = vec!["Cafe\u{301}".into()];
        let out = plan_site(
            &DesiredSite {
                access: Default::default(),
                site: sigma_site(Handover::Archive),
                users: vec![jose],
                groups: vec![DesiredGroup {
                    access: None,
                    ..group("Caf\u{e9}", Access::View)
                }],
                attrs: Default::default(),
            },
            &l,
        )
        .unwrap();
        // Only the team's spelling changes: no create, no delete.
        assert_eq!(
            out.changes,
            vec![Change::UpdateGroup {
                live_name: "Cafe\u{301}".into(),
                id: Some("t-Cafe\u{301}".into()),
                name: Some(Diff {
                    before: "Cafe\u{301}".into(),
                    after: "Caf\u{e9}".into()
                }),
                access: None,
                description: None,
                visibility: None,
                admins: None,
            }]
        );
    }

    #[test]
    fn a_person_whose_previous_email_is_scim_inactive_is_listed() {
        let mut old = member("barbara@old.io", "Viewer");
        old.locked = Some(Locked::ScimInactive);
        let mut barbara = person("barbara@new.io", None);
        barbara.previous_emails = vec!["barbara@old.io".into()];
        let site = DesiredSite {
            access: Default::default(),
            site: sigma_site(Handover::Archive),
            users: vec![barbara],
            groups: vec![],
            attrs: Default::default(),
        };
        let p = Plan {
            sites: vec![plan_site(&site, &live(vec![old])).unwrap()],
            warnings: Vec::new(),
        };
        insta::assert_snapshot!(crate::render::text::render(&p, false), @"
        No changes: the live state matches the declared state.

        site org (sigma) — no changes
          = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): barbara@new.io (in previous_emails: barbara@old.io)
        ");
        let json = serde_json::to_value(&p.sites[0].kept).unwrap();
        insta::assert_snapshot!(json, @r#"[{"found_as":"barbara@old.io","key":"barbara@new.io","kind":"user","reason":{"locked":"scim_inactive"}}]"#);
    }

    #[test]
    fn a_deactivated_previous_email_is_not_a_rename_target() {
        let mut barbara = person("barbara@new.io", Some("Creator"));
        barbara.previous_emails = vec!["barbara@old.io".into()];
        let mut scim = member("barbara@scim.io", "Viewer");
        scim.locked = Some(Locked::ScimInactive);
        barbara.previous_emails.push("barbara@scim.io".into());
        let out = render_sigma(
            sigma_site(Handover::Archive),
            vec![barbara.clone()],
            live(vec![
                member("barbara@new.io", "Viewer"),
                inactive(member("barbara@old.io", "Viewer")),
                scim,
            ]),
        )
        .unwrap();
        insta::assert_snapshot!(out, @r#"
        Plan: 0 to create, 1 to update, 0 to delete.

        site org (sigma) — 0 to create, 1 to update, 0 to delete
          seats: Creator 0 → 1 (+1), Viewer 2 → 1 (−1)
          ~ user  barbara@new.io
              member_type: "Viewer" → "Creator"
          = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): barbara@scim.io
        "#);
        // The other way round, deactivating the new address did not help:
        // the hint says what would.
        let errors = errors_of(render_sigma(
            sigma_site(Handover::Archive),
            vec![barbara],
            live(vec![
                inactive(member("barbara@new.io", "Viewer")),
                member("barbara@old.io", "Viewer"),
            ]),
        ));
        insta::assert_snapshot!(errors, @"site `org`: user `barbara@new.io` lists `barbara@old.io` in previous_emails; `barbara@old.io` is active on the site and `barbara@new.io` exists there deactivated, so the email cannot change to `barbara@new.io`. Delete the deactivated `barbara@new.io` on the site, or remove `barbara@old.io` from previous_emails (the plan then reactivates `barbara@new.io` and removes `barbara@old.io`)");
    }

    #[test]
    fn new_owner_must_not_be_owned_by_scim() {
        let mut boss = member("boss@x.io", "Admin");
        boss.locked = Some(Locked::ScimInactive);
        let errors = errors_of(render_sigma(
            sigma_site(Handover::NewOwner("boss@x.io".into())),
            vec![person("boss@x.io", None)],
            live(vec![boss, member("tim@x.io", "Viewer")]),
        ));
        insta::assert_snapshot!(errors, @"site `org`: new_owner `boss@x.io` must be an active member of the site that SCIM does not manage, to receive deactivated members' documents, and that member is deactivated through SCIM (isInactive): the identity provider owns them. Set new_owner under [sites.org] to such a member, or set archive_documents = true instead");
    }

    /// An already deactivated member: nothing to do, nothing listed.
    fn inactive(mut u: LiveUser) -> LiveUser {
        u.active = false;
        u
    }
}

#[test]
fn periscope_refuses_emails_its_header_cannot_carry() {
    let errors = plan(
        &DesiredState {
            sites: vec![desired(
                vec![
                    user("admin@acme.com", "Site", "Admin", &["Administrators"]),
                    user("jos\u{e9}@acme.com", "Jos\u{e9}", "L", &[]),
                    user("zo\u{eb}@acme.com", "Zo\u{eb}", "New", &[]),
                ],
                vec![],
            )],
        },
        &[LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![
                admin(),
                live_user("zo\u{eb}@acme.com", "Zo\u{eb}", "Old", &[]),
                live_user("ren\u{e9}e@acme.com", "R", "L", &[]),
            ],
            groups: builtins(),
            ..LiveSite::default()
        }],
    )
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(text.join("\n"), @r#"
    site `acme`: user "josé@acme.com" has an email that Periscope's API cannot carry: the HTTP-X-EMAIL header that names a user to update or delete carries printable ASCII only. Declare the address the person signs in with in ASCII, or limit the user's sites
    site `acme`: user "zoë@acme.com" has an email that Periscope's API cannot carry: the HTTP-X-EMAIL header that names a user to update or delete carries printable ASCII only. Change them in Periscope's UI, or declare them exactly as they are live
    site `acme`: user "renée@acme.com" has an email that Periscope's API cannot carry: the HTTP-X-EMAIL header that names a user to update or delete carries printable ASCII only. Remove them in Periscope's UI, or set unmanaged_users = "keep" for the site
    "#);
}

#[test]
fn periscope_groups_match_after_nfc() {
    let out = render(
        desired(
            vec![user("admin@acme.com", "Site", "Admin", &["Administrators"])],
            vec![group("Caf\u{e9} Crew", Access::View)],
        ),
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: vec![admin()],
            groups: [builtins(), vec![live_group("cafe\u{301}-crew", "view")]].concat(),
            ..LiveSite::default()
        },
    );
    insta::assert_snapshot!(out, @r#"
    Plan: 0 to create, 1 to update, 0 to delete.

    site acme (periscope) — 0 to create, 1 to update, 0 to delete
      ~ group Café Crew
          name: "cafe\u{301}-crew" → "Café Crew"
    "#);
}

/// Debug snapshots of whole `SitePlan`s: the fields the text never shows
/// (ids, `live_name`, `declared_inactive`, the memberships' `after`, the
/// fingerprint) are pinned too.
mod site_plan_snapshots {
    use super::*;
    use crate::model::Handover;

    fn site_plan(desired: DesiredSite, live: LiveSite) -> SitePlan {
        let mut p = plan(
            &DesiredState {
                sites: vec![desired],
            },
            &[live],
        )
        .expect("a plan");
        p.sites.remove(0)
    }

    fn sigma_org() -> Site {
        test_fixtures::sigma_site(
            test_fixtures::SIGMA_URL,
            Handover::CredentialsOwner,
            Default::default(),
        )
    }

    fn sigma_member(email: &str, groups: &[&str]) -> LiveUser {
        LiveUser {
            id: Some(format!("m-{email}")),
            member_type: Some("Viewer".into()),
            ..live_user(email, "F", "L", groups)
        }
    }

    fn team(name: &str) -> LiveGroup {
        LiveGroup {
            id: Some(format!("t-{name}")),
            name: name.into(),
            ..LiveGroup::default()
        }
    }

    fn periscope_live(users: Vec<LiveUser>, groups: Vec<LiveGroup>) -> LiveSite {
        LiveSite {
            account_types: vec![],
            api_identity: None,
            access: Default::default(),
            users: [vec![admin()], users].concat(),
            groups: [builtins(), groups].concat(),
            ..LiveSite::default()
        }
    }

    fn admin_user() -> DesiredUser {
        user("admin@acme.com", "Site", "Admin", &["Administrators"])
    }

    #[allow(
        clippy::too_many_lines,
        reason = "a SitePlan debug snapshot: the literal is the assertion"
    )]
    #[test]
    fn a_periscope_plan_that_creates_a_group_and_a_person_and_changes_access() {
        let p = site_plan(
            desired(
                vec![
                    admin_user(),
                    user("grace@acme.com", "Grace", "Hopper", &["Analysts"]),
                ],
                vec![
                    group("Analysts", Access::Sql),
                    group("Finance", Access::View),
                ],
            ),
            periscope_live(vec![], vec![live_group("Analysts", "view")]),
        );
        insta::assert_debug_snapshot!(p, @r#"
        SitePlan {
            site: "acme",
            provider: Periscope,
            changes: [
                CreateGroup {
                    name: "Finance",
                    access: Some(
                        View,
                    ),
                    description: None,
                    visibility: None,
                },
                UpdateGroup {
                    live_name: "Analysts",
                    id: None,
                    name: None,
                    access: Some(
                        Diff {
                            before: "view",
                            after: "sql",
                        },
                    ),
                    description: None,
                    visibility: None,
                    admins: None,
                },
                CreateUser {
                    email: "grace@acme.com",
                    first_name: "Grace",
                    last_name: "Hopper",
                    member_type: None,
                    groups: [
                        "Analysts",
                    ],
                    kind: Internal,
                    admin_of: [],
                },
            ],
            kept: [],
            notes: [],
            guards: [],
            unneeded_allowances: [],
            privileged: [],
            unneeded_privileged: [],
            fingerprint: "4080e3f1f2be1e920f8b6898a37791b9539dad4914663f29a53debfe8c175be6",
            insight: Insight {
                seats: [
                    SeatCount {
                        kind: "sql",
                        before: 1,
                        after: 2,
                        budget: None,
                    },
                ],
                expiry: Expiry {
                    expired: [],
                    soon: [],
                    notice_days: 0,
                },
                effective: [
                    EffectiveAccess {
                        email: "grace@acme.com",
                        until: None,
                        held: [
                            Held {
                                kind: AccessLevel,
                                value: "sql",
                                sources: [
                                    Through(
                                        "Analysts",
                                    ),
                                ],
                                until: None,
                                note: None,
                            },
                            Held {
                                kind: Group,
                                value: "Analysts",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                        ],
                    },
                ],
                cost: None,
            },
        }
        "#);
    }

    #[allow(
        clippy::too_many_lines,
        reason = "a SitePlan debug snapshot: the literal is the assertion"
    )]
    #[test]
    fn a_periscope_plan_that_updates_a_person_and_deletes() {
        let p = site_plan(
            desired(
                vec![
                    admin_user(),
                    user("ada@acme.com", "Augusta", "King", &["Finance"]),
                ],
                vec![
                    group("Analysts", Access::View),
                    group("Finance", Access::View),
                ],
            ),
            periscope_live(
                vec![
                    live_user("ada@acme.com", "Ada", "King", &["Analysts", "All Users"]),
                    live_user("tim@acme.com", "Tim", "Gone", &["All Users"]),
                ],
                vec![
                    live_group("Analysts", "view"),
                    live_group("Finance", "view"),
                    live_group("Old", "view"),
                ],
            ),
        );
        insta::assert_debug_snapshot!(p, @r#"
        SitePlan {
            site: "acme",
            provider: Periscope,
            changes: [
                UpdateUser {
                    email: "ada@acme.com",
                    id: None,
                    renamed_from: None,
                    first_name: Some(
                        Diff {
                            before: "Ada",
                            after: "Augusta",
                        },
                    ),
                    last_name: None,
                    member_type: None,
                    kind: None,
                    reactivate: false,
                    groups: Some(
                        Membership {
                            added: [
                                "Finance",
                            ],
                            removed: [
                                "Analysts",
                            ],
                            after: [
                                "Finance",
                            ],
                        },
                    ),
                },
                DeleteUser {
                    email: "tim@acme.com",
                },
                DeleteGroup {
                    name: "Old",
                    id: None,
                },
            ],
            kept: [],
            notes: [],
            guards: [],
            unneeded_allowances: [],
            privileged: [],
            unneeded_privileged: [],
            fingerprint: "3f5d819f5d52f93c76d47678b24e62e6d9334b38747d27651e104f5bb99cc70b",
            insight: Insight {
                seats: [
                    SeatCount {
                        kind: "sql",
                        before: 3,
                        after: 2,
                        budget: None,
                    },
                ],
                expiry: Expiry {
                    expired: [],
                    soon: [],
                    notice_days: 0,
                },
                effective: [
                    EffectiveAccess {
                        email: "ada@acme.com",
                        until: None,
                        held: [
                            Held {
                                kind: AccessLevel,
                                value: "view",
                                sources: [
                                    Through(
                                        "Finance",
                                    ),
                                ],
                                until: None,
                                note: None,
                            },
                            Held {
                                kind: Group,
                                value: "Finance",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                        ],
                    },
                ],
                cost: None,
            },
        }
        "#);
    }

    fn sigma_plan(users: Vec<DesiredUser>, live_users: Vec<LiveUser>) -> SitePlan {
        let no_access = |name: &str| DesiredGroup {
            access: None,
            ..group(name, Access::View)
        };
        site_plan(
            DesiredSite {
                access: Default::default(),
                site: sigma_org(),
                users,
                groups: vec![no_access("Analysts"), no_access("Finance")],
                attrs: Default::default(),
            },
            LiveSite {
                users: live_users,
                groups: vec![team("Analysts"), team("Finance")],
                account_types: vec!["Admin".into(), "Creator".into(), "Viewer".into()],
                api_identity: None,
                access: Default::default(),
                ..LiveSite::default()
            },
        )
    }

    fn viewer(email: &str, groups: &[&str]) -> DesiredUser {
        DesiredUser {
            member_type: Some("Viewer".into()),
            ..user(email, "F", "L", groups)
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "a SitePlan debug snapshot: the literal is the assertion"
    )]
    #[test]
    fn a_sigma_plan_that_changes_team_memberships_and_a_member_type() {
        let p = sigma_plan(
            vec![
                viewer("boss@x.io", &["Analysts", "Finance"]),
                DesiredUser {
                    member_type: Some("Creator".into()),
                    ..user("cy@x.io", "F", "L", &[])
                },
            ],
            vec![
                sigma_member("boss@x.io", &["Analysts"]),
                sigma_member("cy@x.io", &["Finance"]),
            ],
        );
        insta::assert_debug_snapshot!(p, @r#"
        SitePlan {
            site: "org",
            provider: Sigma,
            changes: [
                UpdateUser {
                    email: "boss@x.io",
                    id: Some(
                        "m-boss@x.io",
                    ),
                    renamed_from: None,
                    first_name: None,
                    last_name: None,
                    member_type: None,
                    kind: None,
                    reactivate: false,
                    groups: Some(
                        Membership {
                            added: [
                                "Finance",
                            ],
                            removed: [],
                            after: [
                                "Analysts",
                                "Finance",
                            ],
                        },
                    ),
                },
                UpdateUser {
                    email: "cy@x.io",
                    id: Some(
                        "m-cy@x.io",
                    ),
                    renamed_from: None,
                    first_name: None,
                    last_name: None,
                    member_type: Some(
                        Diff {
                            before: "Viewer",
                            after: "Creator",
                        },
                    ),
                    kind: None,
                    reactivate: false,
                    groups: Some(
                        Membership {
                            added: [],
                            removed: [
                                "Finance",
                            ],
                            after: [],
                        },
                    ),
                },
            ],
            kept: [],
            notes: [],
            guards: [],
            unneeded_allowances: [],
            privileged: [],
            unneeded_privileged: [],
            fingerprint: "08a6235c03ee3938305081b6bdcc19ab1ee8011a996375c428c01e6cc9840066",
            insight: Insight {
                seats: [
                    SeatCount {
                        kind: "Creator",
                        before: 0,
                        after: 1,
                        budget: None,
                    },
                    SeatCount {
                        kind: "Viewer",
                        before: 2,
                        after: 1,
                        budget: None,
                    },
                ],
                expiry: Expiry {
                    expired: [],
                    soon: [],
                    notice_days: 0,
                },
                effective: [
                    EffectiveAccess {
                        email: "boss@x.io",
                        until: None,
                        held: [
                            Held {
                                kind: AccountType,
                                value: "Viewer",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                            Held {
                                kind: Group,
                                value: "Analysts",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                            Held {
                                kind: Group,
                                value: "Finance",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                        ],
                    },
                    EffectiveAccess {
                        email: "cy@x.io",
                        until: None,
                        held: [
                            Held {
                                kind: AccountType,
                                value: "Creator",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                        ],
                    },
                ],
                cost: None,
            },
        }
        "#);
    }

    #[allow(
        clippy::too_many_lines,
        reason = "a SitePlan debug snapshot: the literal is the assertion"
    )]
    #[test]
    fn a_sigma_plan_that_creates_a_member_and_deactivates_two() {
        let mut off = viewer("ada@x.io", &[]);
        off.active = false;
        let p = sigma_plan(
            vec![viewer("new@x.io", &["Finance"]), off],
            vec![sigma_member("ada@x.io", &[]), sigma_member("tim@x.io", &[])],
        );
        insta::assert_debug_snapshot!(p, @r#"
        SitePlan {
            site: "org",
            provider: Sigma,
            changes: [
                CreateUser {
                    email: "new@x.io",
                    first_name: "F",
                    last_name: "L",
                    member_type: Some(
                        "Viewer",
                    ),
                    groups: [
                        "Finance",
                    ],
                    kind: Internal,
                    admin_of: [],
                },
                DeactivateUser {
                    email: "ada@x.io",
                    id: Some(
                        "m-ada@x.io",
                    ),
                    handover: CredentialsOwner,
                    declared_inactive: true,
                    archive_schedules: false,
                    revoke_tokens: true,
                    owns: None,
                },
                DeactivateUser {
                    email: "tim@x.io",
                    id: Some(
                        "m-tim@x.io",
                    ),
                    handover: CredentialsOwner,
                    declared_inactive: false,
                    archive_schedules: false,
                    revoke_tokens: true,
                    owns: None,
                },
            ],
            kept: [],
            notes: [],
            guards: [],
            unneeded_allowances: [],
            privileged: [],
            unneeded_privileged: [],
            fingerprint: "845bd3e0c4910c839ee7c2401c90830b76d17347ece6e17d44959b707ebe3585",
            insight: Insight {
                seats: [
                    SeatCount {
                        kind: "Viewer",
                        before: 2,
                        after: 1,
                        budget: None,
                    },
                ],
                expiry: Expiry {
                    expired: [],
                    soon: [],
                    notice_days: 0,
                },
                effective: [
                    EffectiveAccess {
                        email: "new@x.io",
                        until: None,
                        held: [
                            Held {
                                kind: AccountType,
                                value: "Viewer",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                            Held {
                                kind: Group,
                                value: "Finance",
                                sources: [
                                    Direct,
                                ],
                                until: None,
                                note: None,
                            },
                        ],
                    },
                ],
                cost: None,
            },
        }
        "#);
    }
}
