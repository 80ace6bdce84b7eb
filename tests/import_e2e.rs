//! End to end: import from live sites writes state that makes the next plan
//! empty, keeping the comments of the files it edits.

mod common;

use common::*;

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
    let sites = r#"[sites.acme]
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
    let dir = state_dir(&[("roster.toml", sites)]);
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
