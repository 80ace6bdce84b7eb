//! End to end: Sigma user attributes (values per person and per team) and
//! custom account types, planned, applied, imported and refused, through
//! the built binary against the sandbox.

use crate::common::*;
use roster::sandbox::SigmaOrg;

const SITE: &str = r#"[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "SIGMA_ID" }
client_secret = { env = "SIGMA_SECRET" }
"#;

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

/// A state directory holding the seeded Sigma organisation as imported.
fn imported(sb: &BackgroundSandbox) -> tempfile::TempDir {
    let dir = state_dir(&[("roster.toml", SITE)]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    dir
}

fn imported_text(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("state/imported/acme-sigma.toml")).unwrap()
}

fn plan(dir: &tempfile::TempDir, sb: &BackgroundSandbox) -> Output {
    roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &[],
    )
}

#[test]
fn an_imported_sigma_org_declares_its_attributes_and_account_types_and_plans_empty() {
    let sb = seeded_sandbox();
    let dir = imported(&sb);
    let text = imported_text(&dir);
    println!("{text}");
    let out = plan(&dir, &sb);
    assert_eq!(out.code, 0, "{}", out.all());
}
