//! End to end: the loop the GitHub workflows run, step by step, against the
//! sandbox: list the sites (`roster sites --format json`, the matrix), plan
//! each site on its own for the pull request (`--site S --out plan-S.json`),
//! and after merge apply each saved plan, which is refused when anything
//! moved since the review.

use crate::common::*;

/// Two sites, one of each provider, at the sandbox `url`.
fn two_sites(url: &str) -> String {
    format!(
        r#"
[sites.acme]
provider = "periscope"
site = "acme"
api_key = {{ env = "ACME_KEY" }}
invited_by = "admin@acme.com"
base_url = "{url}"
unmanaged_groups = "keep"
allow_removals = 9

[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
unmanaged_users = "keep"
unmanaged_groups = "keep"

[[groups]]
name = "Analysts"
access = "sql"

[[users]]
email = "admin@acme.com"
first_name = "Site"
last_name = "Admin"
groups = ["Administrators"]
sites = ["acme"]

[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
member_type = "Creator"
groups = ["Analysts"]

[[users]]
email = "linus@acme.com"
first_name = "Linus"
last_name = "Torvalds"
member_type = "Creator"
groups = ["Analysts"]
"#
    )
}

const ENV: [(&str, &str); 3] = [
    ("ACME_KEY", "sandbox-periscope-key"),
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

#[test]
fn sites_are_listed_for_a_matrix_without_secrets_or_requests() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", &two_sites(&sb.url))]);
    let json = roster(dir.path(), &["sites", "--format", "json"], &[]);
    assert_eq!(json.code, 0, "{}", json.all());
    assert_eq!(
        json.stdout,
        "{\"format_version\":1,\"sites\":[{\"name\":\"acme\",\"provider\":\"periscope\"},\
         {\"name\":\"acme-sigma\",\"provider\":\"sigma\"}]}\n"
    );
    let text = roster(dir.path(), &["sites", "--site", "acme-sigma"], &[]);
    assert_eq!(
        (text.code, text.stdout.as_str()),
        (0, "acme-sigma  sigma\n")
    );
    assert!(sb.sandbox.requests().is_empty(), "sites contacts nothing");
}

/// `roster plan --site S --out plan-S.json` for every listed site, as the
/// plan workflow's matrix does.
fn plan_each_site(dir: &std::path::Path, url: &str) {
    for site in ["acme", "acme-sigma"] {
        let out = roster(
            dir,
            &[
                "plan",
                "--site",
                site,
                "--sandbox-url",
                url,
                "--format",
                "markdown",
                "--detailed-exitcode",
                "--out",
                &format!("plan-{site}.json"),
            ],
            &ENV,
        );
        assert_eq!(out.code, 2, "{site}: {}", out.all());
        assert!(
            out.stdout.contains(&format!("<b>{site}</b>")),
            "{}",
            out.stdout
        );
    }
}

fn apply_saved(dir: &std::path::Path, url: &str, site: &str) -> Output {
    roster(
        dir,
        &[
            "apply",
            &format!("plan-{site}.json"),
            "--site",
            site,
            "--yes",
            "--sandbox-url",
            url,
        ],
        &ENV,
    )
}

#[test]
fn each_site_applies_the_plan_that_was_reviewed() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", &two_sites(&sb.url))]);
    plan_each_site(dir.path(), &sb.url);
    for site in ["acme", "acme-sigma"] {
        let out = apply_saved(dir.path(), &sb.url, site);
        assert_eq!(out.code, 0, "{site}: {}", out.all());
    }
    let again = roster(
        dir.path(),
        &["plan", "--sandbox-url", &sb.url, "--detailed-exitcode"],
        &ENV,
    );
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn a_saved_site_plan_is_refused_when_someone_changed_the_site_by_hand() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("roster.toml", &two_sites(&sb.url))]);
    plan_each_site(dir.path(), &sb.url);
    // Between review and merge, someone adds Eve to the Periscope site by
    // hand; `acme` removes undeclared people, so a fresh plan would delete
    // her, and nobody reviewed that.
    sb.sandbox.edit(|d| {
        d.periscope.get_mut("acme").unwrap().users.push(
            roster::sandbox::periscope::store::PeriscopeUser {
                email: "eve@acme.com".into(),
                first_name: "Eve".into(),
                last_name: "Moneypenny".into(),
                groups: vec!["All Users".into()],
            },
        );
    });
    let before = sb.sandbox.data();
    let out = apply_saved(dir.path(), &sb.url, "acme");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("site `acme`: the live state changed since the plan was made"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Changes roster would make now that were not reviewed:\n  site acme\n    - user  eve@acme.com  (not declared; deleted permanently)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("refusing to apply plan-acme.json"),
        "{}",
        out.stderr
    );
    assert_eq!(sb.sandbox.data(), before, "nothing was written");
    assert!(only_reads(&sb));
    // The other site's reviewed plan is still the plan, and goes through.
    let sigma = apply_saved(dir.path(), &sb.url, "acme-sigma");
    assert_eq!(sigma.code, 0, "{}", sigma.all());
}
