//! End to end: `roster import` on Sigma's own kinds. A pending workspace
//! rename is written back to the live name, as a group's is; `--prune`
//! takes off workspaces, connections, user attributes and custom account
//! types the site no longer has; the plan after either is empty.

use crate::common::*;

const CREDS: [(&str, &str); 2] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

/// The seeded Sigma org's site, followed by `extra`.
fn site(url: &str, extra: &str) -> String {
    format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
{extra}"#
    )
}

#[test]
fn a_pending_workspace_rename_is_written_back_and_the_plan_is_empty() {
    let sb = seeded_sandbox();
    let state = site(
        &sb.url,
        r#"
# Finance's space, to be renamed
[[workspaces]]
name = "Money" # the new name
previous_names = ["Old Money", "Finance"]
"#,
    );
    let dir = state_dir(&[("site.toml", &state)]);
    let out = roster(dir.path(), &["import"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "edited state/imported/acme-sigma.toml\n\
         edited state/site.toml\n\
         acme-sigma: workspace `Money` is live as `Finance`, so the entry says `Finance` again (the rename was never applied; declare it again to make it)\n\
         acme-sigma: 8 people added, 0 updated; 4 groups added, 0 updated; 3 workspaces and connections added, 1 updated\n\
         Review with `git diff`, and `git add` the new file it does not show: state/imported/acme-sigma.toml.\n\
         `roster plan` should now show no changes.\n"
    );
    let written = std::fs::read_to_string(dir.path().join("state/site.toml")).unwrap();
    assert_eq!(
        written,
        site(
            &sb.url,
            r#"
# Finance's space, to be renamed
[[workspaces]]
name = "Finance" # the new name
previous_names = ["Old Money"]
grants.teams = { Finance = "edit" }
grants.people = { "alan@acme.com" = "view" }
"#
        )
    );
    let imported =
        std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap();
    assert!(
        !imported.contains("name = \"Finance\"\ngrants"),
        "{imported}"
    );
    let plan = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .starts_with("No changes: the live state matches the declared state.\n"),
        "{}",
        plan.stdout
    );
    assert!(only_reads(&sb));
}

#[test]
fn both_a_workspace_and_its_previous_name_live_stop_the_import() {
    let sb = seeded_sandbox();
    let state = site(
        &sb.url,
        r#"
[[workspaces]]
name = "Finance"
previous_names = ["Analytics"]
"#,
    );
    let dir = state_dir(&[("site.toml", &state)]);
    let out = roster(dir.path(), &["import"], &CREDS);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: site `acme-sigma`: workspace `Finance` lists `Analytics` in previous_names, and both are live on the site; import will not guess which one the entry describes. Remove one of them on the site, or remove `Analytics` from previous_names; nothing was written\n"
    );
    let kept = std::fs::read_to_string(dir.path().join("state/site.toml")).unwrap();
    assert_eq!(kept, state);
    assert!(!dir.path().join("state/imported").exists());
    assert!(only_reads(&sb));
}

#[test]
fn prune_takes_off_every_kind_the_site_lacks_and_the_plan_is_empty() {
    let sb = seeded_sandbox();
    let state = site(
        &sb.url,
        r#"
[[user_attributes]]
name = "gone_attr"

[[account_types]]
name = "Gone Type"
description = "not on the site"
permissions = ["download-data"]

[[workspaces]]
name = "Gone Space"

[[connections]]
name = "Gone Connection"

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Creator"
groups = ["Analysts"]
attributes = { gone_attr = "x" }

[[groups]]
name = "Analysts"
attributes = { gone_attr = "y" }
"#,
    );
    let dir = state_dir(&[("site.toml", &state)]);
    // Without --prune nothing declared is dropped, and the count says so.
    let kept = roster(dir.path(), &["import", "--dry-run"], &CREDS);
    assert_eq!(kept.code, 0, "{}", kept.all());
    for name in ["gone_attr", "Gone Type", "Gone Space", "Gone Connection"] {
        assert!(kept.stdout.contains(name), "{name}: {}", kept.stdout);
    }
    let out = roster(dir.path(), &["import", "--prune"], &CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "edited state/imported/acme-sigma.toml\n\
         edited state/site.toml\n\
         acme-sigma: 7 people added, 0 updated, 0 removed; 3 groups added, 1 updated, 0 removed; 4 workspaces and connections added, 0 updated, 2 removed\n\
         user attribute `gone_attr` is on no Sigma site: taken out of the state (--prune)\n\
         account type `Gone Type` is on no Sigma site: taken out of the state (--prune)\n\
         Review with `git diff`, and `git add` the new file it does not show: state/imported/acme-sigma.toml.\n\
         `roster plan` should now show no changes.\n"
    );
    let written = std::fs::read_to_string(dir.path().join("state/site.toml")).unwrap();
    assert_eq!(
        written,
        site(
            &sb.url,
            r#"
[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Creator"
groups = ["Analysts"]
attributes = { region = "West" }

[[groups]]
name = "Analysts"
description = "People who write SQL"
visibility = "public"
"#
        )
    );
    let imported =
        std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap();
    assert!(
        !imported.contains("Gone") && !imported.contains("gone_attr"),
        "{imported}"
    );
    let plan = roster(dir.path(), &["plan"], &CREDS);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .starts_with("No changes: the live state matches the declared state.\n"),
        "{}",
        plan.stdout
    );
    assert!(only_reads(&sb));
}

/// A group declared `analysts` that is live as `Analysts` is a rename the
/// plan would make: import undoes it like one under `previous_names`, so
/// the plan after it is empty.
#[test]
fn a_group_name_differing_only_in_case_takes_the_live_spelling() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_state(), &dir.path().join("state"));
    let site = dir.path().join("state/roster.toml");
    let text = std::fs::read_to_string(&site).unwrap();
    assert!(
        text.contains("name = \"Analysts\"\n"),
        "the repo state changed"
    );
    std::fs::write(
        &site,
        text.replace("name = \"Analysts\"\n", "name = \"analysts\"\n"),
    )
    .unwrap();
    let import = roster(dir.path(), &["import", "--sandbox", "--prune"], &[]);
    assert_eq!(import.code, 0, "{}", import.all());
    assert!(
        import.stdout.contains(
            "acme: group `analysts` is live as `Analysts`, so the entry says `Analysts` again"
        ) || import.stderr.contains(
            "acme: group `analysts` is live as `Analysts`, so the entry says `Analysts` again"
        ),
        "{}",
        import.all()
    );
    assert!(
        std::fs::read_to_string(&site)
            .unwrap()
            .contains("name = \"Analysts\"\n")
    );
    let plan = roster(
        dir.path(),
        &["plan", "--sandbox", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stdout.starts_with("No changes:"), "{}", plan.stdout);
}
