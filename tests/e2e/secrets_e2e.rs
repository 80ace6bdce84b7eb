//! Secret scan: every command, at the highest verbosity, with known secrets
//! for both providers; none appears in stdout, stderr or any file written.

use crate::common::*;

const PERISCOPE_KEY: &str = "psk-live-1f2e3d4c5b6a";
const SIGMA_ID: &str = "sigma-client-id-77aa";
const SIGMA_SECRET: &str = "sigma-secret-88bb99cc";

/// A Periscope and a Sigma site at `url`, both keeping what is not
/// declared, with their secrets read from P_KEY, S_ID and S_SECRET.
fn two_sites_with_secrets(url: &str) -> String {
    format!(
        r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = {{ env = "P_KEY" }}
invited_by = "admin@acme.com"
base_url = "{url}"
unmanaged_users = "keep"
unmanaged_groups = "keep"

[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "S_ID" }}
client_secret = {{ env = "S_SECRET" }}
unmanaged_users = "keep"
unmanaged_groups = "keep"

[[groups]]
name = "Analysts"
access = "sql"

[[users]]
email = "linus@acme.com"
first_name = "Linus"
last_name = "Torvalds"
member_type = "Creator"
groups = ["Analysts"]
"#
    )
}

#[test]
fn no_command_ever_shows_a_secret() {
    let mut data = persist::seed();
    data.periscope.get_mut("acme").unwrap().api_key = PERISCOPE_KEY.into();
    let org = data.sigma.get_mut("acme-sigma").unwrap();
    org.client_id = SIGMA_ID.into();
    org.client_secret = SIGMA_SECRET.into();
    let sb = BackgroundSandbox::start(data).unwrap();
    let state = two_sites_with_secrets(&sb.url);
    let dir = state_dir(&[("roster.toml", &state)]);
    let env = [
        ("P_KEY", PERISCOPE_KEY),
        ("S_ID", SIGMA_ID),
        ("S_SECRET", SIGMA_SECRET),
        ("RUST_LOG", "trace"),
    ];
    let runs: Vec<Vec<&str>> = vec![
        vec!["validate", "-vv"],
        vec!["plan", "-vv"],
        vec!["plan", "-vv", "--format", "markdown"],
        vec!["plan", "-vv", "--format", "json", "--out", "plan.json"],
        vec!["apply", "-vv", "--dry-run"],
        vec!["apply", "-vv", "plan.json", "--yes"],
        vec!["plan", "-vv", "--detailed-exitcode"],
        vec!["fmt", "-vv", "--check"],
        vec!["schema", "-vv"],
    ];
    let secrets = [PERISCOPE_KEY, SIGMA_ID, SIGMA_SECRET];
    for args in &runs {
        let out = roster(dir.path(), args, &env);
        assert!(out.code == 0 || out.code == 2, "{args:?}: {}", out.all());
        for s in secrets {
            assert!(!out.all().contains(s), "{args:?} printed a secret");
        }
        assert!(
            !out.all().contains("sbx-access-") && !out.all().contains("sbx-refresh-"),
            "{args:?} printed a token"
        );
    }
    // Wrong secrets, refused by the sites: the errors do not echo them either.
    let wrong = [
        ("P_KEY", "wrong-periscope-key-5555"),
        ("S_ID", SIGMA_ID),
        ("S_SECRET", "wrong-sigma-secret-6666"),
        ("RUST_LOG", "trace"),
    ];
    let out = roster(dir.path(), &["plan", "-vv"], &wrong);
    assert_eq!(out.code, 1);
    for s in [
        "wrong-periscope-key-5555",
        "wrong-sigma-secret-6666",
        SIGMA_ID,
    ] {
        assert!(!out.all().contains(s), "an error printed {s}");
    }
    // Nothing written holds a secret either.
    for entry in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        for s in secrets {
            assert!(!text.contains(s), "{} holds a secret", entry.display());
        }
    }
    assert!(dir.path().join("plan.json").exists());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
