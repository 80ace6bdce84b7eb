//! End to end: blast-radius guards, protected accounts, min_admins.

use crate::common::*;

const ADMIN_ONLY: &str = r#"
[[users]]
email = "admin@acme.com"
first_name = "Site"
last_name = "Admin"
groups = ["Administrators"]
"#;

fn site(url: &str, extra: &str) -> String {
    format!("{}{extra}\n", periscope_site(url, "ACME_KEY"))
}

const KEY: [(&str, &str); 1] = [("ACME_KEY", "sandbox-periscope-key")];

#[test]
fn mass_removal_trips_guards_until_the_state_acknowledges_it() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "")),
        ("people.toml", ADMIN_ONLY),
    ]);
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &KEY);
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(plan.stdout.contains(
        "  ! guard: site `acme`: the plan removes 10 users (91% of 11 live); the guard stops more than 5 and 10% at once. If this is intended, set allow_removals = 10 under [sites.acme] in the state, have it reviewed, and plan again\n"
    ), "{}", plan.stdout);
    assert!(plan.stdout.contains(
        "  ! guard: site `acme`: the plan deletes 4 groups (100% of 4 live); the guard stops more than 3 and 10% at once. If this is intended, set allow_group_deletions = 4 under [sites.acme] in the state, have it reviewed, and plan again\n"
    ));
    assert!(
        plan.stderr
            .starts_with("error: 2 blast-radius guards tripped; apply will refuse this plan:\n")
    );
    let md = roster(dir.path(), &["plan", "--format", "markdown"], &KEY);
    assert!(
        md.stdout
            .contains("> [!CAUTION]\n> site `acme`: the plan removes 10 users"),
        "{}",
        md.stdout
    );

    let apply = roster(dir.path(), &["apply", "--yes"], &KEY);
    assert_eq!(apply.code, 1);
    assert!(apply.stderr.starts_with(
        "error: 2 blast-radius guards tripped; refusing to apply; nothing was changed:\n"
    ));
    assert!(writes(&sb).is_empty());

    // Acknowledging less than the plan does is not enough, and says so.
    std::fs::write(
        dir.path().join("state/site.toml"),
        site(&sb.url, "allow_removals = 9\nallow_group_deletions = 4"),
    )
    .unwrap();
    let plan = roster(dir.path(), &["plan"], &KEY);
    assert_eq!(plan.code, 1);
    assert!(plan.stdout.contains("the guard stops more than 5 and 10% at once, and the state allows 9 (allow_removals = 9)."), "{}", plan.stdout);

    std::fs::write(
        dir.path().join("state/site.toml"),
        site(&sb.url, "allow_removals = 10\nallow_group_deletions = 4"),
    )
    .unwrap();
    assert_eq!(
        roster(dir.path(), &["plan", "--detailed-exitcode"], &KEY).code,
        2
    );
    let apply = roster(dir.path(), &["apply", "--yes"], &KEY);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert_eq!(live_emails(&sb), ["admin@acme.com"]);

    // Applied: the acknowledgements are no longer needed, and the plan says
    // so (they would let the next mass removal through unreviewed).
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &KEY);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(
        plan.stdout,
        "No changes: the live state matches the declared state.\n\n\
         site acme (periscope) — no changes\n\
         \x20 note: site `acme`: allow_removals = 10 is set, and this plan does not need it. Once the change it was written for is applied, remove it, so that the guard stops the next large change until someone reviews it\n\
         \x20 note: site `acme`: allow_group_deletions = 4 is set, and this plan does not need it. Once the change it was written for is applied, remove it, so that the guard stops the next large change until someone reviews it\n\n\
         Read 2 state files: 1 site, 1 person, 0 groups.\n"
    );
    let md = roster(dir.path(), &["plan", "--format", "markdown"], &KEY);
    assert!(
        md.stdout.contains(
            "> [!NOTE]\n> site `acme`: allow_removals = 10 is set, and this plan does not need it."
        ),
        "{}",
        md.stdout
    );
}

#[test]
fn a_handful_of_removals_goes_through_on_a_small_site() {
    let sb = seeded_sandbox();
    // Keep everyone but three people; groups are kept.
    let mut people = String::from(ADMIN_ONLY);
    for (email, first, last, groups) in [
        (
            "ada@acme.com",
            "Ada",
            "Lovelace",
            r#"["Administrators", "Analysts"]"#,
        ),
        ("grace@acme.com", "Grace", "Hopper", r#"["Analysts"]"#),
        (
            "alan@acme.com",
            "Alan",
            "Turing",
            r#"["Analysts", "Finance"]"#,
        ),
        (
            "katherine@acme.com",
            "Katherine",
            "Johnson",
            r#"["Finance"]"#,
        ),
        ("edsger@acme.com", "Edsger", "Dijkstra", r#"["Analysts"]"#),
        ("barbara@acme.com", "Barbara", "Liskov", r#"["Marketing"]"#),
        ("donald@acme.com", "Donald", "Knuth", r#"["Analysts"]"#),
    ] {
        people.push_str(&format!(
            "\n[[users]]\nemail = \"{email}\"\nfirst_name = \"{first}\"\nlast_name = \"{last}\"\ngroups = {groups}\n"
        ));
    }
    let groups = "[[groups]]\nname = \"Analysts\"\naccess = \"discovery\"\n\n[[groups]]\nname = \"Finance\"\naccess = \"view\"\n\n[[groups]]\nname = \"Marketing\"\naccess = \"view\"\n";
    let dir = state_dir(&[
        ("site.toml", &site(&sb.url, "unmanaged_groups = \"keep\"")),
        ("people.toml", &people),
        ("groups.toml", groups),
    ]);
    let out = roster(dir.path(), &["apply", "--yes"], &KEY);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("Apply finished: 3 applied, 0 failed, 0 skipped."),
        "{}",
        out.stdout
    );
}

#[test]
fn protected_people_are_never_removed_or_demoted() {
    let sb = seeded_sandbox();
    let everyone_but_ada =
        std::fs::read_to_string(repo_state().join("people/business.toml")).unwrap();
    let dir = state_dir(&[
        (
            "site.toml",
            &site(
                &sb.url,
                "protected = [\"ADA@acme.com\"]\nunmanaged_groups = \"keep\"\nallow_removals = 20",
            ),
        ),
        ("people.toml", &format!("{ADMIN_ONLY}\n{everyone_but_ada}")),
        (
            "groups.toml",
            "[[groups]]\nname = \"Analysts\"\naccess = \"discovery\"\n\n[[groups]]\nname = \"Finance\"\naccess = \"view\"\n\n[[groups]]\nname = \"Growth Marketing\"\naccess = \"view\"\nprevious_names = [\"Marketing\"]\n",
        ),
    ]);
    let out = roster(dir.path(), &["plan"], &KEY);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "error: the plan cannot be made:\n  site `acme`: the plan deletes `ADA@acme.com`, who is protected and is never removed, deactivated or demoted. Declare them as they are, or remove them from protected\nnothing was changed\n"
    );
    // Declared, but taken out of Administrators: a demotion.
    std::fs::write(
        dir.path().join("state/ada.toml"),
        "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\ngroups = [\"Analysts\"]\n",
    )
    .unwrap();
    let out = roster(dir.path(), &["apply", "--yes"], &KEY);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("the plan demotes `ADA@acme.com`, who is protected"),
        "{}",
        out.stderr
    );
    assert!(writes(&sb).is_empty());
}

#[test]
fn a_site_keeps_its_minimum_of_administrators() {
    let sb = seeded_sandbox();
    // Nobody declared in Administrators: both admins would lose it.
    let people = "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\n\n[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n";
    let dir = state_dir(&[
        (
            "site.toml",
            &site(
                &sb.url,
                "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\nallow_admin_changes = 2\nallow_membership_removals = 5",
            ),
        ),
        ("people.toml", people),
    ]);
    let out = roster(dir.path(), &["plan"], &KEY);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains(
        "site `acme`: the plan leaves 0 administrator(s), fewer than min_admins = 1 (there are 2 now). Keep enough administrators declared, or lower min_admins"
    ), "{}", out.stderr);
    // With min_admins = 2, even one demotion is refused.
    let people = format!(
        "{ADMIN_ONLY}\n[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n"
    );
    std::fs::write(dir.path().join("state/people.toml"), people).unwrap();
    let strict = site(
        &sb.url,
        "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\nmin_admins = 2",
    );
    std::fs::write(dir.path().join("state/site.toml"), strict).unwrap();
    let out = roster(dir.path(), &["plan"], &KEY);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains(
        "the plan leaves 1 administrator(s), fewer than min_admins = 2 (there are 2 now)"
    ));
    assert!(writes(&sb).is_empty());
}

#[test]
fn the_owner_of_sigma_credentials_is_never_deactivated() {
    let sb = seeded_sandbox();
    // The example without its admin, who owns the sandbox's credentials.
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sigma");
    let people = std::fs::read_to_string(example.join("people.toml")).unwrap();
    let start = people
        .find("[[users]]\nemail = \"admin@acme.com\"")
        .unwrap();
    let end = start + people[start..].find("\n\n").unwrap();
    let people = format!("{}{}", &people[..start], &people[end + 2..]);
    let site = std::fs::read_to_string(example.join("roster.toml"))
        .unwrap()
        .replace("new_owner = \"admin@acme.com\"", "");
    let access = std::fs::read_to_string(example.join("access.toml")).unwrap();
    let dir = state_dir(&[
        ("roster.toml", &site),
        ("people.toml", &people),
        ("access.toml", &access),
    ]);
    let out = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains(
        "site `acme-sigma`: the plan deactivates `admin@acme.com`, who is the owner of the API credentials and is never removed, deactivated or demoted"
    ), "{}", out.stderr);
}
