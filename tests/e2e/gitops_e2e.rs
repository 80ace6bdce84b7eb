//! End to end: the GitOps loop. Plans in every format, saved plans applied
//! or refused, and the exit code of every command.

use crate::common::*;

fn state() -> String {
    repo_state().to_str().unwrap().to_string()
}

#[test]
fn a_saved_plan_round_trips_and_holds_no_secret() {
    let secret = "pk-live-7777-abcdef";
    let sb = sandbox_with_key(secret);
    let dir = tempfile::tempdir().unwrap();
    let roster_toml = repo_site(&sb.url, "ACME_KEY", "");
    let a = std::fs::read_to_string(repo_state().join("people/data-team.toml")).unwrap();
    let b = std::fs::read_to_string(repo_state().join("people/business.toml")).unwrap();
    write_files(
        dir.path(),
        &[
            ("state/roster.toml", &roster_toml),
            ("state/a.toml", &a),
            ("state/b.toml", &b),
        ],
    );
    let env = [("ACME_KEY", secret)];

    let plan = roster(
        dir.path(),
        &["plan", "--out", "plan.json", "--detailed-exitcode"],
        &env,
    );
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert_eq!(
        plan.stderr,
        "Saved the plan to plan.json; apply exactly this plan with `roster apply plan.json`.\n"
    );
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    assert!(!saved.contains(secret), "the saved plan holds the API key");
    assert!(
        !saved.contains("ACME_KEY"),
        "the saved plan names no credential"
    );
    let doc: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"create": 4, "update": 5, "delete": 3})
    );

    let apply = roster(dir.path(), &["apply", "plan.json", "--yes"], &env);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(
        apply
            .stdout
            .contains("Apply finished: 12 applied, 0 failed, 0 skipped.")
    );
    assert!(!apply.all().contains(secret));
    assert_eq!(
        roster(dir.path(), &["plan", "--detailed-exitcode"], &env).code,
        0
    );
    // Applied once, the saved plan is stale: applying it again is refused.
    let again = roster(dir.path(), &["apply", "plan.json", "--yes"], &env);
    assert_eq!(again.code, 1);
    assert!(
        again
            .stdout
            .contains("  - site `acme`: the live state changed since the plan was made\n")
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_live_state_moved_and_says_how() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let out = roster(
        dir.path(),
        &[
            "plan",
            "--sandbox-url",
            &sb.url,
            "--state",
            &state(),
            "--out",
            "plan.json",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    // Someone removes John and adds Eve in the site's UI after review.
    sb.sandbox.edit(|d| {
        let users = &mut d.periscope.get_mut("acme").unwrap().users;
        users.retain(|u| u.email != "john@acme.com");
        users.push(roster::sandbox::periscope::store::PeriscopeUser {
            email: "eve@acme.com".into(),
            first_name: "Eve".into(),
            last_name: "Moneypenny".into(),
            groups: vec!["All Users".into()],
        });
    });
    let before = sb.sandbox.data();
    let out = roster(
        dir.path(),
        &[
            "apply",
            "plan.json",
            "--yes",
            "--sandbox-url",
            &sb.url,
            "--state",
            &state(),
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(out.stdout, @r"
    The saved plan plan.json does not match what roster would do now:
      - site `acme`: the live state changed since the plan was made
    Reviewed changes roster would no longer make:
      site acme
        - user  john@acme.com  (not declared; deleted permanently)
    Changes roster would make now that were not reviewed:
      site acme
        - user  eve@acme.com  (not declared; deleted permanently)
    ");
    assert_eq!(
        out.stderr,
        "error: refusing to apply plan.json: it is not the plan roster would carry out now. Run `roster plan` again, review it, and apply the new plan; nothing was changed\n"
    );
    assert_eq!(sb.sandbox.data(), before);
    assert!(writes(&sb).is_empty());
}

#[test]
fn a_saved_plan_is_refused_when_the_state_files_changed() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let src = repo_state();
    for f in [
        "roster.toml",
        "people/data-team.toml",
        "people/business.toml",
    ] {
        let to = dir.path().join("state").join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(f), to).unwrap();
    }
    let args = ["--sandbox-url", &sb.url];
    assert_eq!(
        roster(
            dir.path(),
            &[&["plan", "--out", "plan.json"][..], &args].concat(),
            &[]
        )
        .code,
        0
    );
    // Reordering entries or comments changes nothing...
    let people = dir.path().join("state/people/business.toml");
    let text = std::fs::read_to_string(&people).unwrap();
    std::fs::write(&people, format!("# reviewed\n{text}")).unwrap();
    let ok = roster(
        dir.path(),
        &[&["apply", "plan.json", "--dry-run"][..], &args].concat(),
        &[],
    );
    assert_eq!(ok.code, 0, "{}", ok.all());
    // ...but a new person does.
    std::fs::write(
        &people,
        format!("{text}\n[[users]]\nemail = \"new@acme.com\"\nfirst_name = \"New\"\nlast_name = \"Person\"\n"),
    )
    .unwrap();
    let out = roster(
        dir.path(),
        &[&["apply", "plan.json", "--yes"][..], &args].concat(),
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with(
        "The saved plan plan.json does not match what roster would do now:\n  - the state files changed since the plan was made\nChanges roster would make now that were not reviewed:\n  site acme\n    + user  new@acme.com"
    ), "{}", out.stdout);
    assert!(
        writes(&sb)
            .iter()
            .all(|w| w.test_mode.as_deref() == Some("true"))
    );
}

#[test]
fn every_format_is_byte_identical_across_runs() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let plan_as = |format: &str| {
        roster(
            dir.path(),
            &[
                "plan",
                "--format",
                format,
                "--sandbox-url",
                &sb.url,
                "--state",
                &state(),
            ],
            &[],
        )
    };
    for format in ["text", "markdown", "json"] {
        let (a, b) = (plan_as(format), plan_as(format));
        assert_eq!(a.code, 0, "{}", a.all());
        assert_eq!(a.stdout, b.stdout, "{format} differs between runs");
    }
    let json = plan_as("json");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let change = &doc["sites"][0]["changes"][3];
    assert_eq!(change["kind"], "user");
    assert_eq!(change["action"], "update");
    assert_eq!(change["key"], "donald@acme.com");
    assert_eq!(
        change["fields"],
        serde_json::json!([{"field": "groups", "before": ["Analysts"], "after": ["Data Engineering"]}])
    );
    let md = plan_as("markdown");
    assert!(
        md.stdout
            .starts_with("### roster plan: 4 to create, 5 to update, 3 to delete\n")
    );
    // apply shows the plan in the chosen format too.
    let apply = roster(
        dir.path(),
        &[
            "apply",
            "--dry-run",
            "--format",
            "markdown",
            "--sandbox-url",
            &sb.url,
            "--state",
            &state(),
        ],
        &[],
    );
    assert!(
        apply
            .stdout
            .starts_with("### roster plan: 4 to create, 5 to update, 3 to delete\n"),
        "{}",
        apply.stdout
    );
}

/// A run's name, its arguments and its exit code: `$URL` stands for the
/// sandbox, `$GOOD` and `$BAD` for a valid and an invalid state, `$BUSY`
/// for a port in use.
const EXIT_CODE_CASES: &[(&str, &[&str], i32)] = &[
    ("validate, valid", &["validate", "--state", "$GOOD"], 0),
    ("validate, invalid", &["validate", "--state", "$BAD"], 1),
    (
        "plan with changes",
        &["plan", "--sandbox-url", "$URL", "--state", "$GOOD"],
        0,
    ),
    (
        "plan with changes, detailed",
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            "$URL",
            "--state",
            "$GOOD",
        ],
        2,
    ),
    (
        "plan, invalid state",
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            "$URL",
            "--state",
            "$BAD",
        ],
        1,
    ),
    (
        "plan, unreachable site",
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            "http://127.0.0.1:9",
            "--state",
            "$GOOD",
        ],
        1,
    ),
    (
        "apply without confirmation",
        &["apply", "--sandbox-url", "$URL", "--state", "$GOOD"],
        1,
    ),
    (
        "apply, unreadable saved plan",
        &[
            "apply",
            "garbage.json",
            "--yes",
            "--sandbox-url",
            "$URL",
            "--state",
            "$GOOD",
        ],
        1,
    ),
    (
        "apply, missing saved plan",
        &[
            "apply",
            "nope.json",
            "--yes",
            "--sandbox-url",
            "$URL",
            "--state",
            "$GOOD",
        ],
        1,
    ),
    (
        "apply --dry-run",
        &[
            "apply",
            "--dry-run",
            "--sandbox-url",
            "$URL",
            "--state",
            "$GOOD",
        ],
        0,
    ),
    (
        "apply",
        &[
            "apply",
            "--yes",
            "--sandbox-url",
            "$URL",
            "--state",
            "$GOOD",
        ],
        0,
    ),
    (
        "plan without changes, detailed",
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            "$URL",
            "--state",
            "$GOOD",
        ],
        0,
    ),
    (
        "apply without changes",
        &["apply", "--sandbox-url", "$URL", "--state", "$GOOD"],
        0,
    ),
    (
        "sandbox on a port in use",
        &["sandbox", "--port", "$BUSY"],
        1,
    ),
    ("unknown flag", &["plan", "--bogus"], 1),
    ("help", &["--help"], 0),
];

#[test]
fn exit_codes_of_every_command() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let good = state();
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("x.toml"), "[sites.x]\nprovider = \"nope\"\n").unwrap();
    let bad = bad.to_str().unwrap().to_string();
    std::fs::write(
        dir.path().join("garbage.json"),
        "{\"format_version\": 1, \"oops\": true}",
    )
    .unwrap();
    let url = sb.url.clone();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let fill = |arg: &str| match arg {
        "$URL" => url.clone(),
        "$GOOD" => good.clone(),
        "$BAD" => bad.clone(),
        "$BUSY" => busy_port.clone(),
        _ => arg.to_string(),
    };
    for (name, args, code) in EXIT_CODE_CASES {
        let args: Vec<String> = args.iter().map(|a| fill(a)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = roster(dir.path(), &args, &[]);
        assert_eq!(out.code, *code, "{name}: {}", out.all());
    }
    let garbage = roster(
        dir.path(),
        &[
            "apply",
            "garbage.json",
            "--yes",
            "--sandbox-url",
            &url,
            "--state",
            &good,
        ],
        &[],
    );
    assert!(
        garbage.stderr.starts_with(
            "error: garbage.json is not a roster plan: missing field `desired_fingerprint`"
        ),
        "{}",
        garbage.stderr
    );
    drop(busy);
}
