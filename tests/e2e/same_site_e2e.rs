//! End to end: two `[sites.*]` tables that reach one live site (the same
//! provider, base URL once normalised, and the site's identity as its
//! provider tells it) are refused at load, naming both: they would undo
//! each other's changes on every apply.

use crate::common::*;

fn periscope(name: &str, slug: &str, extra: &str) -> String {
    format!(
        "[sites.{name}]\nprovider = \"periscope\"\nsite = \"{slug}\"\napi_key = {{ env = \"{name}_KEY\" }}\ninvited_by = \"admin@acme.com\"\n{extra}\n"
    )
}

fn sigma(name: &str, address: &str, id_env: &str) -> String {
    format!(
        "[sites.{name}]\nprovider = \"sigma\"\n{address}\nclient_id = {{ env = \"{id_env}\" }}\nclient_secret = {{ env = \"{name}_SECRET\" }}\n"
    )
}

fn scim(name: &str, url: &str, token_env: &str) -> String {
    format!(
        "[sites.{name}]\nprovider = \"scim\"\nbase_url = \"{url}\"\ntoken = {{ env = \"{token_env}\" }}\n"
    )
}

fn validate(sites: &str) -> Output {
    let dir = state_dir(&[("roster.toml", sites)]);
    roster(dir.path(), &["validate"], &[])
}

#[test]
fn a_periscope_site_declared_twice_under_two_names_is_refused_naming_both() {
    let out = validate(&format!(
        "{}{}",
        periscope("acme", "acme", ""),
        periscope(
            "acme-again",
            "ACME",
            "base_url = \"https://App.PeriscopeData.com:443/\""
        )
    ));
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: state/roster.toml:7:8: site `acme-again` reaches the same live site as site `acme`: periscope at https://app.periscopedata.com, site = "acme"; two entries for one site undo each other's changes on every apply
      hint: `acme` is declared at state/roster.toml:1:8; keep one of them and declare the people of both for it
    error: 1 problem in the state under state; nothing was contacted
    "#);
}

#[test]
fn a_sigma_cloud_and_its_base_url_with_one_client_id_are_one_organisation() {
    let out = validate(&format!(
        "{}{}",
        sigma("org", "cloud = \"aws-us-west\"", "SIGMA_ID"),
        sigma(
            "org-copy",
            "base_url = \"https://AWS-API.sigmacomputing.com/\"",
            "SIGMA_ID"
        )
    ));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("site `org-copy` reaches the same live site as site `org`: sigma at https://aws-api.sigmacomputing.com, client_id from SIGMA_ID"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_scim_service_with_one_token_is_one_site_whatever_its_trailing_slash() {
    let out = validate(&format!(
        "{}{}",
        scim("idp", "https://scim.example.com/v2", "T"),
        scim("idp2", "https://SCIM.example.com/v2/", "T")
    ));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("site `idp2` reaches the same live site as site `idp`: scim at https://scim.example.com/v2, token from T"),
        "{}",
        out.stderr
    );
}

#[test]
fn sites_told_apart_by_their_slug_organisation_or_tenant_are_kept() {
    let sites = [
        periscope("acme", "acme", ""),
        periscope("acme-eu", "acme-eu", ""),
        sigma("org", "cloud = \"aws-us-west\"", "PROD_ID"),
        sigma("org-staging", "cloud = \"aws-us-west\"", "STAGING_ID"),
        scim("idp", "https://scim.example.com/v2", "T1"),
        scim("idp-other", "https://scim.example.com/v2", "T2"),
        scim("idp-path", "https://scim.example.com/v2/tenant", "T1"),
    ];
    let out = validate(&sites.concat());
    assert_eq!(out.code, 0, "{}", out.all());
}
