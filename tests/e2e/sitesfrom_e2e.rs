//! `--sites-from DIR`: a pull request's state may change people, groups and
//! policy, never what runs or where a request or credential goes. Hostile
//! states are refused before any command runs or request is sent; the same
//! states without `--sites-from` show that each attack is live.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::*;

const SECRET: &str = "psk-trusted-9c8b7a6d5e4f";
const OTHER_SECRET: &str = "sigma-secret-of-another-site-1234";

/// A TCP listener on loopback that counts connections and keeps what each
/// sent (a stand-in for an attacker's server).
struct Listener {
    url: String,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Listener {
    fn start() -> Listener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
                let mut bytes = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    bytes.extend_from_slice(&buf[..n]);
                    if bytes.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                keep.lock().unwrap().push(bytes);
            }
        });
        Listener { url, received }
    }

    fn connections(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn saw(&self, text: &str) -> bool {
        self.received
            .lock()
            .unwrap()
            .iter()
            .any(|b| String::from_utf8_lossy(b).contains(text))
    }
}

/// A directory holding this repo's people files and `roster_toml`.
fn write_state(dir: &Path, roster_toml: &str) {
    std::fs::create_dir_all(dir.join("people")).unwrap();
    for f in ["business.toml", "data-team.toml"] {
        std::fs::copy(
            repo_state().join("people").join(f),
            dir.join("people").join(f),
        )
        .unwrap();
    }
    std::fs::write(dir.join("roster.toml"), roster_toml).unwrap();
}

/// `line:column` of the first `needle` in `text`.
fn at(text: &str, needle: &str) -> String {
    let offset = text.find(needle).expect("the needle is in the text");
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    format!("{line}:{column}")
}

/// A hostile pull request: its roster.toml, and the first line of the
/// error a reviewer reads.
struct Hostile {
    name: &'static str,
    roster_toml: String,
    error: String,
}

fn hostile_states(trusted: &str, marker: &Path, listener: &Listener) -> Vec<Hostile> {
    let trusted_key = r#"api_key = { env = "ACME_KEY" }"#;
    let command = trusted.replace(
        trusted_key,
        &format!(
            r#"api_key = {{ command = "touch '{}'; echo stolen" }}"#,
            marker.display()
        ),
    );
    let base_url = trusted.replace(
        &format!("base_url = \"{}\"", base_url_of(trusted)),
        &format!("base_url = \"{}\"", listener.url),
    );
    let new_site = format!(
        "{trusted}\n[sites.intruder]\nprovider = \"periscope\"\nsite = \"acme\"\napi_key = {{ env = \"ACME_KEY\" }}\ninvited_by = \"admin@acme.com\"\nbase_url = \"{}\"\n",
        listener.url
    );
    let env_name = trusted.replace(trusted_key, r#"api_key = { env = "OTHER_SECRET" }"#);
    let differs = |text: &str, needle: &str, trusted_needle: &str, key: &str| {
        format!(
            "error: pr/roster.toml:{}: site `acme`: connection setting `{key}` is declared differently from the trusted state (trusted/roster.toml:{})",
            at(text, needle),
            at(trusted, trusted_needle)
        )
    };
    vec![
        Hostile {
            name: "a command source",
            error: differs(&command, "{ command", "{ env", "api_key"),
            roster_toml: command,
        },
        Hostile {
            name: "a base_url pointing elsewhere",
            error: differs(&base_url, "\"http", "\"http", "base_url"),
            roster_toml: base_url,
        },
        Hostile {
            name: "a new site",
            error: format!(
                "error: pr/roster.toml:{}: site `intruder` is not declared in the trusted state under trusted; roster will not contact it",
                at(&new_site, "[sites.intruder]")
            ),
            roster_toml: new_site,
        },
        Hostile {
            name: "a changed credential variable",
            error: differs(&env_name, "{ env", "{ env", "api_key"),
            roster_toml: env_name,
        },
    ]
}

fn base_url_of(roster_toml: &str) -> String {
    let line = roster_toml
        .lines()
        .find(|l| l.starts_with("base_url = "))
        .unwrap();
    line["base_url = ".len()..].trim_matches('"').to_string()
}

#[test]
fn hostile_pull_request_states_run_nothing_and_contact_nobody() {
    let sb = sandbox_with_key(SECRET);
    let listener = Listener::start();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let trusted = repo_site(&sb.url, "ACME_KEY", "");
    write_state(&dir.path().join("trusted"), &trusted);
    let env = [
        ("ACME_KEY", SECRET),
        ("OTHER_SECRET", OTHER_SECRET),
        ("ROSTER_RETRY_BASE_MS", "1"),
    ];
    for case in hostile_states(&trusted, &marker, &listener) {
        write_state(&dir.path().join("pr"), &case.roster_toml);
        for command in [
            vec!["plan", "--state", "pr", "--sites-from", "trusted"],
            vec!["apply", "--yes", "--state", "pr", "--sites-from", "trusted"],
            vec!["validate", "--state", "pr", "--sites-from", "trusted"],
            vec!["import", "--state", "pr", "--sites-from", "trusted"],
            vec![
                "export",
                "--live",
                "--state",
                "pr",
                "--sites-from",
                "trusted",
            ],
        ] {
            let out = roster(dir.path(), &command, &env);
            let what = format!("{} ({}): {}", case.name, command[0], out.all());
            assert_eq!(out.code, 1, "{what}");
            assert_eq!(out.stdout, "", "{what}");
            assert!(
                out.stderr.contains(&format!("{}\n", case.error)),
                "{what}\nwanted {}",
                case.error
            );
            assert!(
                out.stderr.contains("a change to connection settings is planned from the default branch after merge. No credential command was run and no site was contacted"),
                "{what}"
            );
            assert!(
                !out.all().contains(SECRET) && !out.all().contains(OTHER_SECRET),
                "{what}"
            );
            assert!(!marker.exists(), "{what}: the command ran");
            assert_eq!(
                listener.connections(),
                0,
                "{what}: the listener was contacted"
            );
            assert!(
                sb.sandbox.requests().is_empty(),
                "{what}: the site was contacted"
            );
        }
    }
    assert!(
        live_emails(&sb).contains(&"tim@acme.com".to_string()),
        "nothing was applied"
    );
}

/// Without `--sites-from`, the same states do what the attacker wants: the
/// test above would catch a check that stopped working.
#[test]
fn without_sites_from_the_hostile_states_reach_their_targets() {
    let sb = sandbox_with_key(SECRET);
    let listener = Listener::start();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let trusted = repo_site(&sb.url, "ACME_KEY", "");
    let env = [("ACME_KEY", SECRET), ("ROSTER_RETRY_BASE_MS", "1")];
    let cases = hostile_states(&trusted, &marker, &listener);
    write_state(&dir.path().join("pr"), &cases[0].roster_toml);
    let out = roster(dir.path(), &["plan", "--state", "pr"], &env);
    assert!(marker.exists(), "the command source ran: {}", out.all());
    write_state(&dir.path().join("pr"), &cases[1].roster_toml);
    let out = roster(dir.path(), &["plan", "--state", "pr"], &env);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(listener.connections() > 0);
    assert!(
        listener.saw(&format!("acme:{SECRET}")),
        "the key went to the listener"
    );
}

#[test]
fn identical_connection_settings_with_changed_people_plan_and_apply_normally() {
    let sb = sandbox_with_key(SECRET);
    let listener = Listener::start();
    let dir = tempfile::tempdir().unwrap();
    // The trusted state also has a site the pull request removes: it is
    // not planned and not contacted.
    let gone = format!(
        "\n[sites.retired]\nprovider = \"periscope\"\nsite = \"retired\"\napi_key = {{ env = \"ACME_KEY\" }}\ninvited_by = \"admin@acme.com\"\nbase_url = \"{}\"\n",
        listener.url
    );
    let trusted = repo_site(&sb.url, "ACME_KEY", "");
    write_state(&dir.path().join("trusted"), &format!("{trusted}{gone}"));
    // Same connection settings, written in another order and spacing, with
    // policy changed; and one person more.
    let pr = trusted
        .replace(
            r#"api_key = { env = "ACME_KEY" }"#,
            "api_key = {env=\"ACME_KEY\"}\nunmanaged_groups = \"keep\"",
        )
        .replace(
            &format!("base_url = \"{}\"", sb.url),
            &format!("base_url = \"{}/\"", sb.url),
        );
    write_state(&dir.path().join("pr"), &pr);
    write_files(
        &dir.path().join("pr"),
        &[(
            "people/new.toml",
            "[[users]]\nemail = \"dorothy@acme.com\"\nfirst_name = \"Dorothy\"\nlast_name = \"Vaughan\"\ngroups = [\"Analysts\"]\n",
        )],
    );
    let env = [("ACME_KEY", SECRET)];
    let note = "note: site `retired` is declared in the trusted state under trusted but not in the state; it is not planned and not contacted\n";

    let plan = roster(
        dir.path(),
        &["plan", "--state", "pr", "--sites-from", "trusted"],
        &env,
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stderr.contains(note), "{}", plan.stderr);
    assert!(
        plan.stdout.contains("+ user  dorothy@acme.com"),
        "{}",
        plan.stdout
    );
    // unmanaged_groups = "keep" (policy) comes from the pull request.
    assert!(
        !plan.stdout.contains("- group Contractors"),
        "{}",
        plan.stdout
    );
    assert!(only_reads(&sb));

    let apply = roster(
        dir.path(),
        &["apply", "--yes", "--state", "pr", "--sites-from", "trusted"],
        &env,
    );
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(live_emails(&sb).contains(&"dorothy@acme.com".to_string()));
    let again = roster(
        dir.path(),
        &[
            "plan",
            "--detailed-exitcode",
            "--state",
            "pr",
            "--sites-from",
            "trusted",
        ],
        &env,
    );
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(!plan.all().contains(SECRET) && !apply.all().contains(SECRET));
    assert_eq!(listener.connections(), 0);
}

/// The sandbox brings its own credentials and address, but the check still
/// runs: a hostile state is refused with `--sandbox` too, and a good one
/// plans against the sandbox as usual (ROSTER_SITES_FROM works like the flag).
#[test]
fn sites_from_combines_with_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = std::fs::read_to_string(repo_state().join("roster.toml")).unwrap();
    write_state(&dir.path().join("trusted"), &trusted);
    write_state(&dir.path().join("pr"), &trusted);
    write_files(
        &dir.path().join("pr"),
        &[(
            "people/new.toml",
            "[[users]]\nemail = \"dorothy@acme.com\"\nfirst_name = \"Dorothy\"\nlast_name = \"Vaughan\"\n",
        )],
    );
    let env = [("ROSTER_SITES_FROM", "trusted")];
    let plan = roster(dir.path(), &["plan", "--sandbox", "--state", "pr"], &env);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains("+ user  dorothy@acme.com"),
        "{}",
        plan.stdout
    );

    let marker = dir.path().join("marker");
    let hostile = trusted.replace(
        r#"api_key = { env = "ACME_PERISCOPE_API_KEY" }"#,
        &format!(
            r#"api_key = {{ command = "touch '{}'; echo k" }}"#,
            marker.display()
        ),
    );
    write_state(&dir.path().join("pr"), &hostile);
    let out = roster(dir.path(), &["plan", "--sandbox", "--state", "pr"], &env);
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: pr/roster.toml:7:11: site `acme`: connection setting `api_key` is declared differently from the trusted state (trusted/roster.toml:7:11)
      hint: connection settings (provider, site, base_url, cloud, api_key, client_id, client_secret, token, max_requests_per_second, patience_seconds, max_response_bytes, deadline_seconds, username, password) come from the trusted state, and a change to them is planned from the default branch after merge: keep `api_key` as the trusted state has it here, and change it in a pull request of its own
    error: 1 difference from the connection settings of the trusted state under trusted (--sites-from); a change to connection settings is planned from the default branch after merge. No credential command was run and no site was contacted
    ");
    assert!(!marker.exists());
}

/// A base_url is an address only: a query, a fragment, a user name or a
/// password in it is refused where it is written, and the password is never
/// shown. Nothing is sent.
#[test]
fn base_urls_with_a_query_fragment_or_userinfo_are_refused_where_written() {
    let sb = sandbox_with_key(SECRET);
    let host = sb.url.trim_start_matches("http://").trim_end_matches('/');
    let cases = [
        (
            format!("http://{host}/?site=other"),
            "?site",
            "holds a query (`?...`); roster adds the queries it needs itself",
            "remove the `?` and everything after it",
        ),
        (
            format!("http://{host}/#top"),
            "#top",
            "holds a fragment (`#...`), which is never sent",
            "remove the `#` and everything after it",
        ),
        (
            format!("http://bob:hunter2-secret@{host}"),
            "bob:",
            "holds a password (`user:password@`); secrets never live in state files",
            "remove the user name and password from the URL (and rotate the password if it was committed); the site's credentials come from api_key, or client_id and client_secret",
        ),
        (
            format!("http://bob@{host}"),
            "bob@",
            "holds a user name (`user@`), which roster never sends",
            "remove the user name and the `@` from the URL",
        ),
    ];
    for (url, needle, message, hint) in cases {
        let text = periscope_site(&url, "ACME_KEY");
        let dir = state_dir(&[("roster.toml", &text)]);
        for command in ["validate", "plan"] {
            let out = roster(dir.path(), &[command], &[("ACME_KEY", SECRET)]);
            assert_eq!(out.code, 1, "{url}: {}", out.all());
            assert_eq!(
                out.stderr,
                format!(
                    "error: state/roster.toml:{}: site `acme`: base_url {message}\n  hint: {hint}\nerror: 1 problem in the state under state; nothing was contacted\n",
                    at(&text, needle)
                ),
                "{url}"
            );
            assert!(!out.all().contains("hunter2"), "{}", out.all());
        }
    }
    let out = roster(
        Path::new("."),
        &[
            "plan",
            "--state",
            repo_state().to_str().unwrap(),
            "--sandbox-url",
            &format!("http://bob:hunter2-secret@{host}"),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: --sandbox-url holds a password (`user:password@`); secrets never live in state files
      hint: remove the user name and password from the URL (and rotate the password if it was committed); the site's credentials come from api_key, or client_id and client_secret
    ");
    assert!(!out.all().contains("hunter2"), "{}", out.all());
    assert!(sb.sandbox.requests().is_empty());
}

/// A request budget is a connection setting too (pointed at by its site's
/// table, as a number keeps no location); a trusted state that cannot be
/// read stops the command.
#[test]
fn a_changed_budget_or_an_unusable_trusted_state_stops_the_command() {
    let sb = sandbox_with_key(SECRET);
    let dir = tempfile::tempdir().unwrap();
    let trusted = repo_site(&sb.url, "ACME_KEY", "max_requests_per_second = 5");
    write_state(&dir.path().join("trusted"), &trusted);
    let pr = trusted.replace(
        "max_requests_per_second = 5",
        "max_requests_per_second = 500",
    );
    write_state(&dir.path().join("pr"), &pr);
    let env = [("ACME_KEY", SECRET)];
    let out = roster(
        dir.path(),
        &["plan", "--state", "pr", "--sites-from", "trusted"],
        &env,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: pr/roster.toml:4:1: site `acme`: connection setting `max_requests_per_second` is declared differently from the trusted state (trusted/roster.toml:4:1)
      hint: connection settings (provider, site, base_url, cloud, api_key, client_id, client_secret, token, max_requests_per_second, patience_seconds, max_response_bytes, deadline_seconds, username, password) come from the trusted state, and a change to them is planned from the default branch after merge: keep `max_requests_per_second` as the trusted state has it here, and change it in a pull request of its own
    error: 1 difference from the connection settings of the trusted state under trusted (--sites-from); a change to connection settings is planned from the default branch after merge. No credential command was run and no site was contacted
    ");
    // How long a request keeps trying is the trusted state's too.
    let pr = trusted.replace(
        "max_requests_per_second = 5",
        "max_requests_per_second = 5\npatience_seconds = 3600",
    );
    write_state(&dir.path().join("pr"), &pr);
    let out = roster(
        dir.path(),
        &["plan", "--state", "pr", "--sites-from", "trusted"],
        &env,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: pr/roster.toml:10:20: site `acme`: connection setting `patience_seconds` is declared here but not in the trusted state (trusted/roster.toml:4:1)
      hint: connection settings (provider, site, base_url, cloud, api_key, client_id, client_secret, token, max_requests_per_second, patience_seconds, max_response_bytes, deadline_seconds, username, password) come from the trusted state, and a change to them is planned from the default branch after merge: keep `patience_seconds` as the trusted state has it here, and change it in a pull request of its own
    error: 1 difference from the connection settings of the trusted state under trusted (--sites-from); a change to connection settings is planned from the default branch after merge. No credential command was run and no site was contacted
    ");
    assert!(sb.sandbox.requests().is_empty());

    let out = roster(
        dir.path(),
        &["plan", "--state", "pr", "--sites-from", "nowhere"],
        &env,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .starts_with("error: nowhere:1:1: cannot read the state directory"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.ends_with("error: the trusted state under nowhere (--sites-from) cannot be used; nothing was run or contacted\n"),
        "{}",
        out.stderr
    );
    assert!(sb.sandbox.requests().is_empty());
}

#[test]
fn an_untrusted_state_cannot_read_a_file_outside_its_directory_through_a_symlink() {
    let sb = sandbox_with_key(SECRET);
    let dir = tempfile::tempdir().unwrap();
    let trusted = repo_site(&sb.url, "ACME_KEY", "");
    write_state(&dir.path().join("trusted"), &trusted);
    write_state(&dir.path().join("pr"), &trusted);
    // A TOML-shaped file elsewhere on the machine, whose values a
    // validation message would quote.
    let private = dir.path().join("private.toml");
    std::fs::write(
        &private,
        "[[users]]\nemail = \"token-ab12cd34\"\nfirst_name = \"a\"\nlast_name = \"b\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&private, dir.path().join("pr/people/leak.toml")).unwrap();
    for command in ["plan", "validate"] {
        let out = roster(
            dir.path(),
            &[command, "--state", "pr", "--sites-from", "trusted"],
            &[("ACME_KEY", SECRET)],
        );
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(
            out.stderr.starts_with(
                "error: pr/people/leak.toml:1:1: this file lies outside the state directory (it is reached through a symlink); with --sites-from the state is untrusted and is read only from inside its directory\n"
            ),
            "{}",
            out.stderr
        );
        assert!(!out.all().contains("token-ab12cd34"), "{}", out.all());
        assert!(sb.sandbox.requests().is_empty());
    }
    // Trusted (no --sites-from), the same link is read as the admin meant.
    let out = roster(dir.path(), &["validate", "--state", "pr"], &[]);
    assert!(out.all().contains("token-ab12cd34"), "{}", out.all());
}

#[test]
fn an_untrusted_state_directory_that_is_a_symlink_is_not_read() {
    let sb = sandbox_with_key(SECRET);
    let dir = tempfile::tempdir().unwrap();
    let trusted = repo_site(&sb.url, "ACME_KEY", "");
    write_state(&dir.path().join("trusted"), &trusted);
    // A directory elsewhere on the machine, holding TOML-shaped files.
    write_state(&dir.path().join("elsewhere"), &trusted);
    std::fs::write(
        dir.path().join("elsewhere/private.toml"),
        "[[users]]\nemail = \"token-ab12cd34\"\nfirst_name = \"a\"\nlast_name = \"b\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("pr")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", dir.path().join("pr/state")).unwrap();
    let out = roster(
        dir.path(),
        &["plan", "--state", "pr/state", "--sites-from", "trusted"],
        &[("ACME_KEY", SECRET)],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: pr/state:1:1: the state directory is a symlink; with --sites-from the state is untrusted and is read only from a real directory
      hint: check out the state as files, not as a link to a directory elsewhere
    error: 1 problem in the state under pr/state; nothing was contacted
    ");
    assert!(!out.all().contains("token-ab12cd34") && !out.all().contains("private.toml"));
    assert!(sb.sandbox.requests().is_empty());
}
