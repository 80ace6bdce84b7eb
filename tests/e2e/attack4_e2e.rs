//! Findings of an attack run (a hostile pull-request author, a careless
//! admin): secrets in type errors, built-in groups renamed, dot segments in
//! URL paths, addresses the sites refuse, `sites = []`, near-miss file
//! names, a plan written over the sandbox's data, a credential command that
//! never ends, and README text that drifted from the binary.

use crate::common::*;

const SITE: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "ACME_KEY" }
invited_by = "admin@acme.com"
"#;

const ADA: &str = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
"#;

/// A site table of `provider` with `key = value` added.
fn site_with(provider: &str, key: &str, value: &str) -> String {
    let base = match provider {
        "periscope" => {
            "provider = \"periscope\"\nsite = \"acme\"\ninvited_by = \"admin@acme.com\"\n"
        }
        "sigma" => "provider = \"sigma\"\ncloud = \"aws-us-west\"\n",
        _ => "provider = \"scim\"\nbase_url = \"https://scim.example.com/scim/v2\"\n",
    };
    let mut text = format!("[sites.acme]\n{base}");
    for (k, env) in [
        ("api_key", "K"),
        ("client_id", "I"),
        ("client_secret", "S"),
        ("token", "T"),
    ] {
        let needed = match provider {
            "periscope" => k == "api_key",
            "sigma" => k.starts_with("client"),
            _ => k == "token",
        };
        if k == key {
            text.push_str(&format!("{k} = {value}\n"));
        } else if needed {
            text.push_str(&format!("{k} = {{ env = \"{env}\" }}\n"));
        }
    }
    text
}

/// Runs validate and plan (against `url`) on `files`: both exit 1 with
/// `expected` in order on stderr, nothing on stdout.
fn refused(url: &str, name: &str, files: &[(&str, &str)], expected: &[&str]) -> String {
    let dir = state_dir(files);
    let envs = [
        ("ACME_KEY", "k"),
        ("K", "k"),
        ("I", "i"),
        ("S", "s"),
        ("T", "t"),
    ];
    let mut stderr = String::new();
    for args in [&["validate"][..], &["plan", "--sandbox-url", url]] {
        let out = roster(dir.path(), args, &envs);
        assert_eq!(out.code, 1, "{name}: {args:?}; stderr:\n{}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "{name}: {args:?} printed {}",
            out.stdout
        );
        let lines: Vec<&str> = out.stderr.lines().collect();
        let start = lines.iter().position(|l| *l == expected[0]);
        assert!(
            start.is_some_and(|s| lines[s..].starts_with(expected)),
            "{name}: expected\n{}\nin stderr:\n{}",
            expected.join("\n"),
            out.stderr
        );
        assert!(
            out.stderr.trim_end().ends_with("nothing was contacted"),
            "{name}: {}",
            out.stderr
        );
        stderr = out.stderr;
    }
    stderr
}

#[test]
fn a_secret_of_any_type_written_inline_is_never_echoed() {
    let sb = seeded_sandbox();
    let secret = "98765432123456789";
    for (provider, field) in [
        ("periscope", "api_key"),
        ("sigma", "client_id"),
        ("sigma", "client_secret"),
        ("scim", "token"),
    ] {
        let col = field.len() + 4;
        for value in [
            secret.to_string(),
            format!("{secret}.5"),
            format!("[{secret}]"),
            "1979-05-27T07:32:00Z".to_string(),
            "true".to_string(),
        ] {
            let site = site_with(provider, field, &value);
            let line = site.lines().position(|l| l.starts_with(field)).unwrap() + 1;
            let at = format!(
                "error: state/site.toml:{line}:{col}: site `acme`: the {field} is written inline; secrets never live in state files"
            );
            let stderr = refused(&sb.url, field, &[("site.toml", &site)], &[&at]);
            assert!(
                stderr.contains(
                    "  hint: remove it from the file (and rotate it if it was committed)"
                ),
                "{stderr}"
            );
            for shown in [secret, "1979", "true"] {
                assert!(
                    !stderr.contains(shown),
                    "{field} = {value} echoed:\n{stderr}"
                );
            }
        }
        for (key, value) in [("env", secret), ("command", "[98765432123456789]")] {
            let site = site_with(provider, field, &format!("{{ {key} = {value} }}"));
            let line = site.lines().position(|l| l.starts_with(field)).unwrap() + 1;
            let at = format!(
                "error: state/site.toml:{line}:{col}: site `acme`: the {field}'s `{key}` is not a string (the value is not shown)"
            );
            let stderr = refused(&sb.url, field, &[("site.toml", &site)], &[&at]);
            assert!(!stderr.contains(secret), "{field}.{key} echoed:\n{stderr}");
        }
    }
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}
