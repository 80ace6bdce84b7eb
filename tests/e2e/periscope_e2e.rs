//! End to end: the built binary against the sandbox over HTTP, on Periscope.

use crate::common::*;

/// `roster plan --sandbox`, the README's first command, on this repo's state.
#[test]
fn the_readme_plan_shows_creates_updates_and_removals() {
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let out = roster(
        dir.path(),
        &["plan", "--sandbox", "--state", state.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout, @r#"
    Plan: 4 to create, 5 to update, 3 to delete.

    site acme (periscope) — 4 to create, 5 to update, 3 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 14 requests (2 reads, 12 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  access=sql
      ~ group Analysts
          access: "discovery" → "sql"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  donald@acme.com
          groups: +Data Engineering -Analysts
      + user  frances@acme.com  first_name="Frances" last_name="Allen" groups=[Finance]
      ~ user  grace@acme.com
          groups: +Data Engineering
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Data Engineering]
      ~ user  margaret@acme.com
          last_name: "Hamiltn" → "Hamilton"
      + user  radia@acme.com  first_name="Radia" last_name="Perlman" groups=[Analysts]
      - user  john@acme.com  (not declared; deleted permanently)
      - user  tim@acme.com  (not declared; deleted permanently)
      - group Contractors  (not declared; deleted)

    Read 3 state files: 1 site, 12 people, 4 groups.
    "#);
    // The sandbox's data now persists beside the run, created from the seed.
    assert!(dir.path().join(".roster/sandbox.json").exists());
}

#[test]
fn detailed_exit_codes_say_whether_anything_would_change() {
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let state = state.to_str().unwrap();
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "--sandbox", "--detailed-exitcode", "--state", state];
        args.extend_from_slice(extra);
        roster(dir.path(), &args, &[])
    };
    assert_eq!(plan(&[]).code, 2);
    let apply = roster(
        dir.path(),
        &["apply", "--sandbox", "--yes", "--state", state],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    insta::assert_snapshot!(run_snapshot(&apply), @r#"
    exit: 0
    --- stdout
    Plan: 4 to create, 5 to update, 3 to delete.

    site acme (periscope) — 4 to create, 5 to update, 3 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 14 requests (2 reads, 12 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  access=sql
      ~ group Analysts
          access: "discovery" → "sql"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  donald@acme.com
          groups: +Data Engineering -Analysts
      + user  frances@acme.com  first_name="Frances" last_name="Allen" groups=[Finance]
      ~ user  grace@acme.com
          groups: +Data Engineering
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Data Engineering]
      ~ user  margaret@acme.com
          last_name: "Hamiltn" → "Hamilton"
      + user  radia@acme.com  first_name="Radia" last_name="Perlman" groups=[Analysts]
      - user  john@acme.com  (not declared; deleted permanently)
      - user  tim@acme.com  (not declared; deleted permanently)
      - group Contractors  (not declared; deleted)

    site acme
      ok      group Data Engineering created
      ok      group Analysts updated
      ok      group Growth Marketing updated
      ok      user donald@acme.com updated
      ok      user frances@acme.com created
      ok      user grace@acme.com updated
      ok      user linus@acme.com created
      ok      user margaret@acme.com updated
      ok      user radia@acme.com created
      ok      user john@acme.com deleted
      ok      user tim@acme.com deleted
      ok      group Contractors deleted
    Apply finished: 12 applied, 0 failed, 0 skipped.
    --- stderr
    Requests to acme: 14 sent, 0 retried (the plan estimated 14).
    "#);
    let again = plan(&[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stdout
            .starts_with("No changes: the live state matches the declared state.")
    );
    // --sandbox-reset starts again from the seed.
    assert_eq!(plan(&["--sandbox-reset"]).code, 2);
    // An error is 1, even with --detailed-exitcode.
    let bad = roster(
        dir.path(),
        &[
            "plan",
            "--sandbox",
            "--detailed-exitcode",
            "--state",
            "missing",
        ],
        &[],
    );
    assert_eq!(bad.code, 1);
}

#[test]
fn apply_against_a_running_sandbox_converges() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let state = state.to_str().unwrap();
    let out = roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &sb.url, "--state", state],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(sb.sandbox.writes(), 12);
    assert_eq!(
        live_emails(&sb),
        [
            "ada@acme.com",
            "admin@acme.com",
            "alan@acme.com",
            "barbara@acme.com",
            "donald@acme.com",
            "edsger@acme.com",
            "frances@acme.com",
            "grace@acme.com",
            "katherine@acme.com",
            "linus@acme.com",
            "margaret@acme.com",
            "radia@acme.com",
        ]
    );
    let site = &sb.sandbox.data().periscope["acme"];
    let donald = site
        .users
        .iter()
        .find(|u| u.email == "donald@acme.com")
        .unwrap();
    assert_eq!(donald.groups, ["All Users", "Data Engineering"]);
    let names: Vec<_> = site
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.access.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Administrators", "sql"),
            ("All Users", "sql"),
            ("Analysts", "sql"),
            ("Finance", "view"),
            ("Growth Marketing", "view"),
            ("Data Engineering", "sql"),
        ]
    );
    // Every write went out for real.
    assert!(
        writes(&sb)
            .iter()
            .all(|r| r.test_mode.as_deref() == Some("false"))
    );
    let again = roster(
        dir.path(),
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            &sb.url,
            "--state",
            state,
        ],
        &[],
    );
    assert_eq!(again.code, 0, "{}", again.all());
}

#[test]
fn dry_run_sends_test_mode_and_changes_nothing() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let out = roster(
        dir.path(),
        &[
            "apply",
            "--dry-run",
            "--sandbox-url",
            &sb.url,
            "--state",
            state.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(sb.sandbox.data(), persist::seed());
    assert_eq!(sb.sandbox.writes(), 0);
    let sent = writes(&sb);
    assert_eq!(
        sent.len(),
        9,
        "three changes need a group only a real run creates"
    );
    assert!(
        sent.iter()
            .all(|r| r.test_mode.as_deref() == Some("true") && r.status == 200)
    );
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 0
    --- stdout
    Plan: 4 to create, 5 to update, 3 to delete.

    site acme (periscope) — 4 to create, 5 to update, 3 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 14 requests (2 reads, 12 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  access=sql
      ~ group Analysts
          access: "discovery" → "sql"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  donald@acme.com
          groups: +Data Engineering -Analysts
      + user  frances@acme.com  first_name="Frances" last_name="Allen" groups=[Finance]
      ~ user  grace@acme.com
          groups: +Data Engineering
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Data Engineering]
      ~ user  margaret@acme.com
          last_name: "Hamiltn" → "Hamilton"
      + user  radia@acme.com  first_name="Radia" last_name="Perlman" groups=[Analysts]
      - user  john@acme.com  (not declared; deleted permanently)
      - user  tim@acme.com  (not declared; deleted permanently)
      - group Contractors  (not declared; deleted)

    Dry run: nothing will be changed.
      Periscope (acme): each write is sent with test_mode=true; the site checks it and saves nothing.
    site acme
      ok      group Data Engineering (accepted with test_mode=true; nothing changed)
      ok      group Analysts (accepted with test_mode=true; nothing changed)
      ok      group Growth Marketing (accepted with test_mode=true; nothing changed)
      skipped user donald@acme.com: not sent: it needs group `Data Engineering`, which a dry run does not create
      ok      user frances@acme.com (accepted with test_mode=true; nothing changed)
      skipped user grace@acme.com: not sent: it needs group `Data Engineering`, which a dry run does not create
      skipped user linus@acme.com: not sent: it needs group `Data Engineering`, which a dry run does not create
      ok      user margaret@acme.com (accepted with test_mode=true; nothing changed)
      ok      user radia@acme.com (accepted with test_mode=true; nothing changed)
      ok      user john@acme.com (accepted with test_mode=true; nothing changed)
      ok      user tim@acme.com (accepted with test_mode=true; nothing changed)
      ok      group Contractors (accepted with test_mode=true; nothing changed)
    Dry run finished: 9 accepted with test_mode=true, 0 failed, 3 not sent; nothing was changed.
    --- stderr
    Requests to acme: 11 sent, 0 retried.
    "#);
}

#[test]
fn apply_without_a_terminal_needs_yes() {
    let sb = seeded_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let out = roster(
        dir.path(),
        &[
            "apply",
            "--sandbox-url",
            &sb.url,
            "--state",
            state.to_str().unwrap(),
        ],
        &[],
    );
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 4 to create, 5 to update, 3 to delete.

    site acme (periscope) — 4 to create, 5 to update, 3 to delete
      seats: sql 11 → 12 (+1)
      apply sends: 14 requests (2 reads, 12 writes), no max_requests_per_second: as fast as the site answers
      + group Data Engineering  access=sql
      ~ group Analysts
          access: "discovery" → "sql"
      ~ group Growth Marketing
          name: "Marketing" → "Growth Marketing"
      ~ user  donald@acme.com
          groups: +Data Engineering -Analysts
      + user  frances@acme.com  first_name="Frances" last_name="Allen" groups=[Finance]
      ~ user  grace@acme.com
          groups: +Data Engineering
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Data Engineering]
      ~ user  margaret@acme.com
          last_name: "Hamiltn" → "Hamilton"
      + user  radia@acme.com  first_name="Radia" last_name="Perlman" groups=[Analysts]
      - user  john@acme.com  (not declared; deleted permanently)
      - user  tim@acme.com  (not declared; deleted permanently)
      - group Contractors  (not declared; deleted)
    --- stderr
    error: refusing to apply without confirmation: standard input is not a terminal. Review the plan above, then run again with --yes
    "#);
    assert!(writes(&sb).is_empty());
}

#[test]
fn a_wrong_api_key_is_a_clear_error_naming_the_site() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("site.toml", &periscope_site(&sb.url, "ACME_KEY"))]);
    let out = roster(dir.path(), &["plan"], &[("ACME_KEY", "wrong-key-0451")]);
    assert_eq!(out.code, 1);
    assert!(!out.all().contains("wrong-key-0451"));
    insta::assert_snapshot!(out.stderr, @r"
    error: could not read the live state:
      site `acme`: list users: HTTP 401: invalid API key for site 'acme' (the site refused the API key: check the value of ACME_KEY and that `site` is the slug of the site's dashboard URLs)
    nothing was changed
    ");
}

#[test]
fn a_missing_environment_variable_is_named_before_any_request() {
    let sb = seeded_sandbox();
    let dir = state_dir(&[("site.toml", &periscope_site(&sb.url, "ACME_KEY_NOT_SET"))]);
    let out = roster(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(out.stderr, @r"
    error: site `acme`: environment variable ACME_KEY_NOT_SET is not set (it holds one of the site's credentials)
    fix it and run again, or use --sandbox to try roster without credentials; nothing was contacted
    ");
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn api_keys_never_appear_in_output() {
    let secret = "s3cr3t-periscope-key-4f9a";
    let sb = sandbox_with_key(secret);
    let dir = tempfile::tempdir().unwrap();
    let roster_toml = repo_site(&sb.url, "ACME_KEY", "allow_removals = 7");
    let people = std::fs::read_to_string(repo_state().join("people/data-team.toml")).unwrap();
    write_files(
        dir.path(),
        &[
            ("state/roster.toml", &roster_toml),
            ("state/people.toml", &people),
        ],
    );
    let env = [("ACME_KEY", secret)];
    for args in [
        &["validate"][..],
        &["plan", "-vv"],
        &["apply", "--dry-run", "-vv"],
        &["apply", "--yes", "-vv"],
        &["plan", "-vv", "--detailed-exitcode"],
    ] {
        let out = roster(dir.path(), args, &env);
        assert!(out.code == 0 || out.code == 2, "{args:?}: {}", out.all());
        assert!(!out.all().contains(secret), "{args:?} printed the key");
        if args.contains(&"-vv") {
            assert!(
                out.stderr.contains("periscope request"),
                "-vv logs each request"
            );
        }
    }
    // A wrong key is not echoed either.
    let out = roster(
        dir.path(),
        &["plan", "-vv"],
        &[("ACME_KEY", "another-wrong-key-77")],
    );
    assert!(!out.all().contains("another-wrong-key-77"));
}

#[test]
fn a_failed_change_is_reported_and_only_what_depends_on_it_is_skipped() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let long = "G".repeat(120);
    let out = roster(
        dir.path(),
        &["apply", "--yes"],
        &[("ACME_KEY", "sandbox-periscope-key")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let report = &out.stdout[out.stdout.find("site acme\n  ").unwrap()..];
    assert_eq!(
        report,
        format!(
            "site acme
  FAILED  group {long}: site `acme`: create group {long}: HTTP 400: group names are at most 100 characters
  ok      user ada@acme.com updated
  skipped user new@acme.com: not attempted: it needs group `{long}`, whose change failed
  ok      user zoe@acme.com created
Apply finished: 2 applied, 1 failed, 1 skipped.
Run `roster plan` to see what is left, then `roster apply` again to finish.
"
        )
    );
    assert_eq!(
        out.stderr,
        "Requests to acme: 5 sent, 0 retried (the plan estimated 6).\nerror: 1 of 4 changes failed; see the report above\n"
    );
    let emails = live_emails(&sb);
    assert!(emails.contains(&"zoe@acme.com".to_string()));
    assert!(!emails.contains(&"new@acme.com".to_string()));
}

#[test]
fn fail_fast_stops_a_site_at_its_first_failure() {
    let sb = seeded_sandbox();
    let dir = failing_group_state(&sb.url);
    let out = roster(
        dir.path(),
        &["apply", "--yes", "--fail-fast"],
        &[("ACME_KEY", "sandbox-periscope-key")],
    );
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    Plan: 3 to create, 1 to update, 0 to delete.

    site acme (periscope) — 3 to create, 1 to update, 0 to delete
      seats: sql 11 → 13 (+2)
      apply sends: 6 requests (2 reads, 4 writes), no max_requests_per_second: as fast as the site answers
      + group GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG  access=view
      ~ user  ada@acme.com
          last_name: "Lovelace" → "King"
      + user  new@acme.com  first_name="New" last_name="Person" groups=[GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG]
      + user  zoe@acme.com  first_name="Zoe" last_name="Other" groups=[]
      = kept 3 groups (not declared, unmanaged_groups = "keep"): Contractors, Finance, Marketing
      = kept 9 users (not declared, unmanaged_users = "keep"): alan@acme.com, barbara@acme.com, donald@acme.com, edsger@acme.com, grace@acme.com, john@acme.com, katherine@acme.com, margaret@acme.com, tim@acme.com

    site acme
      FAILED  group GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG: site `acme`: create group GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG: HTTP 400: group names are at most 100 characters
      skipped user ada@acme.com: not attempted: --fail-fast stopped this site at the first failure
      skipped user new@acme.com: not attempted: --fail-fast stopped this site at the first failure
      skipped user zoe@acme.com: not attempted: --fail-fast stopped this site at the first failure
    Apply finished: 0 applied, 1 failed, 3 skipped.
    Run `roster plan` to see what is left, then `roster apply` again to finish.
    --- stderr
    Requests to acme: 3 sent, 0 retried (the plan estimated 6).
    error: 1 of 4 changes failed; see the report above
    "#);
    assert_eq!(sb.sandbox.writes(), 0);
}

#[test]
fn the_sandbox_command_serves_roster_and_saves_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.json");
    let sandbox = SandboxProcess::start(&["--data", data.to_str().unwrap(), "--save"]);
    let url = sandbox.url.clone();
    let rest = &sandbox.banner;
    assert_eq!(
        rest[2],
        "  periscope site acme: HTTP-X-PARTNER-AUTH: acme:sandbox-periscope-key"
    );
    assert_eq!(
        rest[3],
        format!(
            "  sigma organisation acme-sigma: client_id=acme-sigma client_secret=sandbox-sigma-secret (POST {url}/v2/auth/token)"
        )
    );

    let state = repo_state();
    let state = state.to_str().unwrap();
    let plan = roster(
        dir.path(),
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            &url,
            "--state",
            state,
        ],
        &[],
    );
    assert_eq!(plan.code, 2, "{}", plan.all());
    let apply = roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &url, "--state", state],
        &[],
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    let again = roster(
        dir.path(),
        &[
            "plan",
            "--detailed-exitcode",
            "--sandbox-url",
            &url,
            "--state",
            state,
        ],
        &[],
    );
    assert_eq!(again.code, 0, "{}", again.all());

    assert!(sandbox.stop(), "the sandbox exits cleanly on Ctrl-C");
    let saved = persist::load(&data).unwrap();
    assert!(
        saved.periscope["acme"]
            .users
            .iter()
            .any(|u| u.email == "linus@acme.com")
    );
}

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let dir = state_dir(&[(
        "site.toml",
        &periscope_site("http://periscope.example.com", "K"),
    )]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: state/site.toml:6:12: site `acme`: base_url `http://periscope.example.com` uses plain http://, which is only allowed for loopback addresses; use https://
    error: 1 problem in the state under state; nothing was contacted
    ");
    let dir = state_dir(&[(
        "site.toml",
        &periscope_site("https://periscope.example.com", "K"),
    )]);
    let out = roster(
        dir.path(),
        &["plan", "--sandbox-url", "http://10.1.2.3:8081"],
        &[],
    );
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: --sandbox-url `http://10.1.2.3:8081` uses plain http://, which is only allowed for loopback addresses; use https://
    ");
}

/// A server that redirects every request to `to`.
fn redirector(to: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
                let to = to.clone();
                async move {
                    (
                        axum::http::StatusCode::TEMPORARY_REDIRECT,
                        [(axum::http::header::LOCATION, format!("{to}{uri}"))],
                    )
                }
            });
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}

#[test]
fn redirects_are_never_followed_with_credentials() {
    let sb = seeded_sandbox();
    let url = redirector(sb.url.clone());
    let dir = state_dir(&[("site.toml", &periscope_site(&url, "ACME_KEY"))]);
    let out = roster(
        dir.path(),
        &["plan"],
        &[("ACME_KEY", "sandbox-periscope-key")],
    );
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: could not read the live state:
      site `acme`: list users: HTTP 307: (empty response body) (the site redirects elsewhere; roster never follows a redirect with credentials: check base_url)
    nothing was changed
    ");
    assert!(
        sb.sandbox.requests().is_empty(),
        "the credentials reached the redirect's target"
    );
}

#[test]
fn a_secret_can_come_from_a_command() {
    let sb = seeded_sandbox();
    let site = periscope_site(&sb.url, "UNUSED").replace(
        r#"api_key = { env = "UNUSED" }"#,
        r#"api_key = { command = "printf '%s' sandbox-periscope-key" }"#,
    ) + "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\n";
    let dir = state_dir(&[("site.toml", &site)]);
    let out = roster(dir.path(), &["plan", "--detailed-exitcode"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(sb.sandbox.requests().iter().all(|r| r.status == 200));
    // A failing command: named, its output never shown, nothing contacted.
    let requests = sb.sandbox.requests().len();
    let site = periscope_site(&sb.url, "UNUSED").replace(
        r#"api_key = { env = "UNUSED" }"#,
        r#"api_key = { command = "echo leaked-secret-123 >&2; exit 3" }"#,
    );
    std::fs::write(dir.path().join("state/site.toml"), site).unwrap();
    let out = roster(dir.path(), &["plan"], &[]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.lines().next().unwrap(),
        "error: site `acme`: the command `echo leaked-secret-123 >&2; exit 3` failed (exit status: 3) (it holds one of the site's credentials)"
    );
    assert!(
        !out.stderr
            .replace("echo leaked-secret-123", "")
            .contains("leaked-secret-123")
    );
    assert_eq!(sb.sandbox.requests().len(), requests);
}

/// `roster sandbox | head -1`: whoever reads its banner may go away; the
/// sandbox keeps serving.
#[test]
fn the_sandbox_keeps_serving_when_its_output_is_closed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["sandbox", "--port", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let mut plan = None;
    for _ in 0..100 {
        let out = roster(
            dir.path(),
            &[
                "plan",
                "--detailed-exitcode",
                "--sandbox-url",
                &url,
                "--state",
                state.to_str().unwrap(),
            ],
            &[("ROSTER_RETRY_BASE_MS", "1")],
        );
        if out.code == 2 {
            plan = Some(out);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(plan.is_some(), "the sandbox stopped serving");
    assert!(child.try_wait().unwrap().is_none(), "the sandbox exited");
    let _ = child.kill();
    let _ = child.wait();
}

/// `roster plan | head -1` where the reader has already gone: no crash, the
/// exit code is the plan's, and a command that then writes still does.
#[test]
fn a_reader_that_goes_away_is_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let state = repo_state();
    let state = state.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
            .current_dir(dir.path())
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader leaves before anything is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (out.status.code(), stderr)
    };
    let plan = ["plan", "--sandbox", "--detailed-exitcode", "--state", state];
    assert_eq!(run(&plan).0, Some(2));
    let (code, stderr) = run(&["apply", "--sandbox", "--yes", "--state", state]);
    assert_eq!(code, Some(0), "{stderr}");
    // The apply went through although nobody read its report.
    assert_eq!(run(&plan).0, Some(0));
    assert_eq!(run(&["validate", "--state", state]).0, Some(0));
}
