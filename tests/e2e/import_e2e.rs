//! End to end: import from live sites writes state that makes the next plan
//! empty, keeping the comments of the files it edits.

use crate::common::*;

const COMMENTED: &str = r#"# Our Periscope site.
[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"

# Ada's old name: import fixes it and keeps this comment.
[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Byron"   # before her marriage
groups = ["Administrators"]
"#;

/// The seed's Periscope site and Sigma organisation.
const TWO_SITES: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"

[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "I" }
client_secret = { env = "S" }
"#;

#[test]
fn import_from_a_populated_site_then_the_plan_is_empty() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("site.toml", COMMENTED)]);
    let dry = roster(
        dir.path(),
        &["import", "--dry-run", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(dry.stdout.contains("acme: 10 people added, 1 updated; 4 groups added, 0 updated\nNothing was written (--dry-run).\n"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/site.toml")).unwrap(),
        COMMENTED
    );
    assert!(!dir.path().join("state/imported").exists());

    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let site = std::fs::read_to_string(dir.path().join("state/site.toml")).unwrap();
    assert!(site.starts_with("# Our Periscope site.\n"));
    assert!(site.contains("# Ada's old name: import fixes it and keeps this comment.\n[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"   # before her marriage\ngroups = [\"Administrators\", \"Analysts\"]\n"), "{site}");
    let plan = roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(writes(&sb).is_empty(), "import reads, never writes");
}

#[test]
fn import_from_sigma_and_periscope_sites_at_once() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", TWO_SITES)]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("acme: 11 people added, 0 updated; 4 groups added, 0 updated\n"),
        "{}",
        out.stdout
    );
    // People on both sites are declared once: the second site is added to
    // their sites, with an override where their groups differ.
    let sigma = std::fs::read_to_string(dir.path().join("state/imported/acme.toml")).unwrap();
    assert!(sigma.contains("email = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\ngroups = [\"Administrators\", \"Analysts\"]\nsites = [\"acme\", \"acme-sigma\"]\n"), "{sigma}");
    assert!(
        sigma.contains(
            "[users.overrides.acme-sigma]\ngroups = [\"Analysts\"]\nmember_type = \"Creator\"\n"
        ),
        "{sigma}"
    );
    let plan = roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    // Archived members are imported as deactivated.
    let text = std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap();
    assert!(text.contains("email = \"barbara@old-acme.com\""), "{text}");
}

/// People who left a site (deleted in its UI) are taken off it by
/// `import --prune`: off their `sites` when they have others, out of the
/// state when it was their only one; without --prune they stay.
#[test]
fn import_prune_takes_people_who_left_off_the_state() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", TWO_SITES)]);
    let url = sb.url.clone();
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "--sandbox-url", url.as_str()];
        args.extend_from_slice(extra);
        roster(dir.path(), &args, &[])
    };
    assert_eq!(import(&[]).code, 0);
    // On both sites: ada, tim. On Periscope only: donald.
    sb.sandbox.edit(|data| {
        let site = data.periscope.get_mut("acme").unwrap();
        site.users
            .retain(|u| u.email != "ada@acme.com" && u.email != "donald@acme.com");
        let org = data.sigma.get_mut("acme-sigma").unwrap();
        org.members.retain(|m| m.email != "tim@acme.com");
    });
    let plan_code = || {
        roster(
            dir.path(),
            &["plan", "--detailed-exitcode", "--sandbox-url", &url],
            &[],
        )
        .code
    };
    // Without --prune the state still declares them: the plan would
    // create them again, Ada in Administrators, which is privileged (exit
    // 1 until acknowledged).
    assert_eq!(import(&[]).code, 0);
    assert_eq!(plan_code(), 1);
    let plan = roster(dir.path(), &["plan", "--sandbox-url", &url], &[]);
    assert!(
        plan.stdout.contains("+ user  ada@acme.com")
            && plan.stdout.contains("+ user  donald@acme.com")
            && plan.stdout.contains(
                "! privileged: ada@acme.com is created with admin power: group Administrators"
            ),
        "{}",
        plan.all()
    );

    let dry = import(&["--prune", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout.contains(
            "acme: 0 people added, 0 updated, 2 removed; 0 groups added, 0 updated, 0 removed\n\
             acme-sigma: 0 people added, 0 updated, 1 removed; 0 groups added, 0 updated, 0 removed\n"
        ),
        "{}",
        dry.stdout
    );
    assert_eq!(plan_code(), 1, "a dry run writes nothing");

    let out = import(&["--prune"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let text = std::fs::read_to_string(dir.path().join("state/imported/acme.toml")).unwrap();
    assert!(!text.contains("donald@acme.com"), "{text}");
    // Ada is on Sigma only now (her override for it stays, and her
    // attribute value is imported), Tim on Periscope only.
    assert!(
        text.contains("email = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\ngroups = [\"Administrators\", \"Analysts\"]\nsites = [\"acme-sigma\"]\nattributes = { region = \"West\" }\n\n[users.overrides.acme-sigma]\n"),
        "{text}"
    );
    let tim = text
        .split("[[users]]")
        .find(|e| e.contains("tim@acme.com"))
        .unwrap();
    assert!(tim.contains("sites = [\"acme\"]\n"), "{tim}");
    assert_eq!(plan_code(), 0);
    assert!(only_reads(&sb), "import reads, never writes");
}

/// A site that answers with nobody is not believed: --prune refuses.
#[test]
fn import_prune_refuses_to_empty_a_site() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("site.toml", COMMENTED)]);
    sb.sandbox
        .edit(|data| data.periscope.get_mut("acme").unwrap().users.clear());
    let out = roster(
        dir.path(),
        &["import", "--prune", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("site `acme` lists nobody roster manages; --prune would take everyone declared for it off the state. Nothing was written"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/site.toml")).unwrap(),
        COMMENTED
    );
}
