//! End to end: how roster talks to a site that throttles at its edge or
//! answers in pages, and the sandbox's independence from the client.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use roster::sandbox::{Options, SandboxData, SigmaOrg};

const SIGMA_CREDS: [(&str, &str); 2] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
];

/// A Sigma site at `url` reading its credentials from the environment.
fn sigma_site(url: &str, extra: &str) -> String {
    format!(
        r#"[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "SIGMA_ID" }}
client_secret = {{ env = "SIGMA_SECRET" }}
{extra}
"#
    )
}

fn org(sb: &BackgroundSandbox) -> SigmaOrg {
    sb.sandbox.data().sigma["acme-sigma"].clone()
}

/// The repository's own state (one Periscope site), pointed at `url`.
fn repo_state_at(url: &str) -> tempfile::TempDir {
    let file = |name: &str| std::fs::read_to_string(repo_state().join(name)).unwrap();
    state_dir(&[
        ("roster.toml", &repo_site(url, "ACME_KEY", "")),
        ("people/data-team.toml", &file("people/data-team.toml")),
        ("people/business.toml", &file("people/business.toml")),
    ])
}

/// A Sigma site at `url` keeping what is not declared, with one new
/// person (Linus) in one new team (Kernel).
fn linus_and_kernel(url: &str) -> tempfile::TempDir {
    state_dir(&[
        (
            "site.toml",
            &sigma_site(
                url,
                "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"\npatience_seconds = 60",
            ),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\n\n\
         [[users]]\nemail = \"linus@acme.com\"\nfirst_name = \"Linus\"\nlast_name = \"Torvalds\"\ngroups = [\"Kernel\"]\n\n\
         [[groups]]\nname = \"Kernel\"\n",
        ),
    ])
}

/// Every request, for 15 seconds from the first, is answered as Sigma's
/// edge (Cloudflare error 1015) throttles: 429, an HTML page, no
/// Retry-After. The apply waits it out (2 s at least a try, then longer),
/// halves its requests under way, never shows the page, and converges.
#[test]
fn an_apply_survives_a_15_second_edge_throttle() {
    let window = Duration::from_secs(15);
    let sb = BackgroundSandbox::start_with(
        persist::seed(),
        Options {
            edge_throttle: window,
            ..Options::default()
        },
    )
    .unwrap();
    let dir = linus_and_kernel(&sb.url);
    let started = Instant::now();
    // Short base waits elsewhere; the 2 s floor after an edge 429 stays real.
    let mut env = SIGMA_CREDS.to_vec();
    env.push(("ROSTER_RETRY_BASE_MS", "10"));
    let out = roster(dir.path(), &["apply", "--yes", "-v"], &env);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.all());
    // -v logs with timestamps: the report on stdout is pinned whole.
    insta::assert_snapshot!(out.stdout, @r#"
    Plan: 2 to create, 0 to update, 0 to delete.

    site acme-sigma (sigma) — 2 to create, 0 to update, 0 to delete
      seats: Admin 2 → 2, Creator 3 → 3, Explorer 1 → 1, none 0 → 1 (+1), Viewer 3 → 3
      apply sends: 16 requests (14 reads, 2 writes), no max_requests_per_second: as fast as the site answers
      + group Kernel
      + user  linus@acme.com  first_name="Linus" last_name="Torvalds" groups=[Kernel]
      = kept 4 groups (not declared, unmanaged_groups = "keep"): Analysts, Finance, Marketing, Old Team
      = kept 6 users (not declared, unmanaged_users = "keep"): ada@acme.com, alan@acme.com, barbara@old-acme.com, grace@acme.com, katherine@acme.com, tim@acme.com
      = kept 1 user (deactivated through SCIM (isInactive); the identity provider owns them): scim.user@acme.com
      = kept 1 user (the platform's own account, never touched): scheduler-robot@sigmacomputing.com

    site acme-sigma
      ok      group Kernel created
      ok      user linus@acme.com created
    Apply finished: 2 applied, 0 failed, 0 skipped.
    "#);
    assert!(took >= window, "finished in {took:?}, inside the window");
    assert!(took < Duration::from_mins(1), "took {took:?}");
    // Live: the team and the member, in it.
    let org = org(&sb);
    let linus = org
        .members
        .iter()
        .find(|m| m.email == "linus@acme.com")
        .expect("linus was created");
    let kernel = org.teams.iter().find(|t| t.name == "Kernel").unwrap();
    assert_eq!(kernel.members, std::slice::from_ref(&linus.member_id));
    // The sandbox throttled, and roster waited at least 2 s after each 429.
    let throttled = sb
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert!(throttled >= 4, "{throttled} throttled requests");
    let waits: Vec<u64> = out
        .stderr
        .lines()
        .filter(|l| l.contains("retrying") && l.contains("HTTP 429"))
        .filter_map(|l| l.split("wait_ms=").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert!(!waits.is_empty(), "{}", out.stderr);
    assert!(waits.iter().all(|w| *w >= 2000), "{waits:?}");
    assert!(waits.iter().any(|w| *w > 2000), "no backoff: {waits:?}");
    // The pacer halved the requests under way (16 → 8 → ...).
    assert!(
        out.stderr
            .contains("limit=8 site throttled: fewer requests at once")
            || out
                .stderr
                .contains("site throttled: fewer requests at once limit=8"),
        "{}",
        out.stderr
    );
    // The edge's page is summed up, never shown.
    assert!(
        out.stderr.contains(
            "HTTP 429: the site answered with an HTML page titled \"Access denied | api.sigmacomputing.com used Cloudflare to restrict access\" (Cloudflare error 1015)"
        ),
        "{}",
        out.stderr
    );
    for raw in ["<html", "<!DOCTYPE", "<script", "cf-wrapper"] {
        assert!(!out.all().contains(raw), "{raw} shown: {}", out.all());
    }
}

/// With little patience, a request gives up while the edge still throttles:
/// exit 1, the page summed up, the setting named, nothing written.
#[test]
fn a_request_gives_up_when_its_patience_runs_out() {
    let sb = BackgroundSandbox::start_with(
        persist::seed(),
        Options {
            edge_throttle: Duration::from_secs(30),
            ..Options::default()
        },
    )
    .unwrap();
    let dir = state_dir(&[
        (
            "roster.toml",
            &repo_site(&sb.url, "ACME_KEY", "patience_seconds = 3"),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n",
        ),
    ]);
    let started = Instant::now();
    let out = roster(
        dir.path(),
        &["apply", "--yes"],
        &[("ACME_KEY", "sandbox-periscope-key")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        out.stderr.contains(
            "site `acme`: list users: HTTP 429: the site answered with an HTML page titled \"Access denied | api.sigmacomputing.com used Cloudflare to restrict access\" (Cloudflare error 1015) (still throttled after 2 s of retries; the site's patience_seconds is 3 (raise it, or lower --concurrency or max_requests_per_second))"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("<html"));
    assert!(only_reads(&sb));
}

#[test]
fn patience_seconds_is_checked() {
    let dir = state_dir(&[(
        "roster.toml",
        &repo_site("http://127.0.0.1:9", "ACME_KEY", "patience_seconds = 1"),
    )]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: state/roster.toml:9:20: site `acme`: patience_seconds must be from 2 to 3600, not 1
      hint: it is how long one request keeps trying while the site answers 429; leave it out for 60
    error: 1 problem in the state under state; nothing was contacted
    ");
}

/// `roster sandbox --page-size 2` answers Periscope's lists in pages with
/// `next_page_start`; roster reads them whole, plans exactly as against an
/// unpaged site, applies, and converges.
#[test]
fn a_paged_periscope_site_is_read_whole_and_plans_like_an_unpaged_one() {
    let unpaged = seeded_sandbox();
    let want = roster(
        repo_state_at(&unpaged.url).path(),
        &["plan"],
        &[("ACME_KEY", "sandbox-periscope-key")],
    );
    assert_eq!(want.code, 0, "{}", want.all());
    assert!(
        want.stdout
            .contains("Plan: 4 to create, 5 to update, 3 to delete.")
    );

    let paged = SandboxProcess::start(&["--page-size", "2"]);
    let dir = repo_state_at(&paged.url);
    let env = [("ACME_KEY", "sandbox-periscope-key")];
    let got = roster(dir.path(), &["plan", "-v"], &env);
    assert_eq!(got.code, 0, "{}", got.all());
    // The request estimate counts the pages read: the one line that differs.
    let plan = |s: &str| -> String {
        let lines = s.lines().filter(|l| !l.starts_with("  apply sends: "));
        lines.collect::<Vec<_>>().join("\n")
    };
    assert_eq!(plan(&got.stdout), plan(&want.stdout));
    assert!(got.stdout.contains("  apply sends: "), "{}", got.stdout);
    // Pages were followed: more than one request for each list.
    let pages = got
        .stderr
        .lines()
        .filter(|l| l.contains("periscope request") && l.contains("next_page_start=p"))
        .count();
    assert!(pages >= 4, "{}", got.stderr);

    let apply = roster(dir.path(), &["apply", "--yes"], &env);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let again = roster(dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stdout
            .starts_with("No changes: the live state matches the declared state."),
        "{}",
        again.stdout
    );
    assert!(paged.stop());
}

/// A tiny Periscope-like server: `/api/v1/users` answers `users` (a JSON
/// object's text); anything else an empty group list. Records each
/// request line.
fn fake_periscope(users: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // The headers, up to the blank line.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            log.lock().unwrap().push(line.trim().to_string());
            let body = if line.starts_with("GET /api/v1/users") {
                users.clone()
            } else {
                r#"{"groups": [{"name": "All Users", "access": "sql"}]}"#.to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

/// An answer that shows more pages in any way but `next_page_start` is
/// refused: exit 1, the site and the field named, nothing written.
#[test]
fn an_unknown_cursor_is_refused_with_exit_1_and_no_write() {
    let admin = r#"{"email": "admin@acme.com", "first_name": "Site", "last_name": "Admin", "groups": ["All Users"]}"#;
    let cases = [
        (r#""has_more": true"#, "carries `has_more: true`"),
        (
            r#""next": "/api/v1/users?page=2""#,
            "carries `next: \"/api/v1/users?page=2\"`",
        ),
        (r#""next_page": 2"#, "carries `next_page: 2`"),
        (r#""cursor": "abc""#, "carries `cursor: \"abc\"`"),
        (
            r#""total": 40"#,
            "carries `total: 40`, but the list holds 1",
        ),
        (
            r#""next_page_start": {"at": 2}"#,
            "carries `next_page_start: {\"at\":2}`, which is not a page start",
        ),
    ];
    for (sign, said) in cases {
        let (url, seen) = fake_periscope(format!(r#"{{"users": [{admin}], {sign}}}"#));
        let dir = state_dir(&[
            ("roster.toml", &periscope_site(&url, "ACME_KEY")),
            (
                "people.toml",
                "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n",
            ),
        ]);
        let out = roster(dir.path(), &["apply", "--yes"], &[("ACME_KEY", "k")]);
        assert_eq!(out.code, 1, "{sign}: {}", out.all());
        let message = format!(
            "site `acme`: list users: the answer {said}, a sign of more pages roster cannot follow (it follows only `next_page_start`); refusing to plan from what may be part of the list"
        );
        assert!(out.stderr.contains(&message), "{sign}: {}", out.stderr);
        assert!(!out.stdout.contains("Apply finished"), "{}", out.stdout);
        let seen = seen.lock().unwrap();
        assert!(
            seen.iter().all(|l| l.starts_with("GET ")),
            "{sign}: a write was sent: {seen:?}"
        );
    }
    // Null, false and empty signs are the last page's: read, planned.
    let (url, seen) = fake_periscope(format!(
        r#"{{"users": [{admin}], "has_more": false, "next": null, "cursor": "", "total": 1, "next_page_start": null}}"#
    ));
    let dir = state_dir(&[("roster.toml", &periscope_site(&url, "ACME_KEY"))]);
    let out = roster(dir.path(), &["plan"], &[("ACME_KEY", "k")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(seen.lock().unwrap().iter().all(|l| l.starts_with("GET ")));
}

/// Sigma's lists answer only in pages: 2,500 members (three pages of
/// 1,000), a team of 1,200 (two pages of team members), all read whole.
#[test]
fn sigma_lists_of_many_pages_are_read_whole() {
    let mut data: SandboxData = persist::seed();
    let org = data.sigma.get_mut("acme-sigma").unwrap();
    let template = org.members[0].clone();
    let mut team = org.teams[0].clone();
    team.team_id = "big-team".into();
    team.name = "Everyone Here".into();
    team.members.clear();
    let mut people = String::from(
        "[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\n",
    );
    for i in 0..2500 {
        let mut m = template.clone();
        m.member_id = format!("bulk{i:05}");
        m.email = format!("p{i:05}@acme.com");
        m.first_name = "P".into();
        m.last_name = format!("{i}");
        m.is_archived = false;
        m.is_inactive = false;
        let groups = if i < 1200 {
            team.members.push(m.member_id.clone());
            "\ngroups = [\"Everyone Here\"]"
        } else {
            ""
        };
        people += &format!(
            "\n[[users]]\nemail = \"{}\"\nfirst_name = \"P\"\nlast_name = \"{i}\"\nmember_type = \"{}\"{groups}\n",
            m.email, m.member_type
        );
        org.members.push(m);
    }
    org.teams.push(team);
    let sb = BackgroundSandbox::start(data).unwrap();
    let dir = state_dir(&[
        (
            "site.toml",
            &sigma_site(
                &sb.url,
                "unmanaged_users = \"keep\"\nunmanaged_groups = \"keep\"",
            ),
        ),
        ("people.toml", &people),
        ("groups.toml", "[[groups]]\nname = \"Everyone Here\"\n"),
    ]);
    let out = roster(dir.path(), &["plan", "--detailed-exitcode"], &SIGMA_CREDS);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .starts_with("No changes: the live state matches the declared state."),
        "{}",
        out.stdout
    );
    let requests = sb.sandbox.requests();
    let count = |path: &str| requests.iter().filter(|r| r.path == path).count();
    assert_eq!(count("/v2.1/members"), 3);
    assert_eq!(count("/v2/teams/big-team/members"), 2);
    assert!(only_reads(&sb));
}

/// Paths from a file under src/sandbox that reach the client's rules.
fn forbidden_imports(source: &str, depth: usize) -> Vec<String> {
    const RULES: [&str; 3] = ["model", "state", "provider"];
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        // `crate::model...`, and `crate::{model::..., state::...}`.
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let heads: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split([',', '}'])
                    .map(|p| p.trim().split("::").next().unwrap_or_default())
                    .collect(),
                None => vec![
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or_default(),
                ],
            };
            if heads.iter().any(|h| RULES.contains(h)) {
                found.push(format!("{}: {}", n + 1, line.trim()));
            }
        }
        // `super::super::...` climbing out of the sandbox (one inline
        // module, such as `mod tests`, allowed for).
        for (i, _) in code.match_indices("super::") {
            if code[..i].ends_with("super::") {
                continue;
            }
            let supers = code[i..]
                .split("::")
                .take_while(|s| s.trim() == "super")
                .count();
            if supers > depth {
                found.push(format!("{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

/// The sandbox's rules are its own: no file under src/sandbox imports the
/// client's `state`, `model` or `provider`.
#[test]
fn the_sandbox_never_imports_the_clients_rules() {
    // The check itself finds what it looks for.
    assert_eq!(
        forbidden_imports("use crate::model::{ALL_USERS, Access};", 3).len(),
        1
    );
    assert_eq!(
        forbidden_imports("if !crate::state::is_valid_email(e) {", 3).len(),
        1
    );
    assert_eq!(
        forbidden_imports("use crate::{sandbox::data, provider::retry};", 3).len(),
        1
    );
    assert_eq!(
        forbidden_imports("use super::super::super::model::Access;", 2).len(),
        1
    );
    assert!(
        forbidden_imports(
            "use crate::sandbox::rules::is_email; use super::super::data;",
            3
        )
        .is_empty()
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![root.join("sandbox")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 8, "{files:?}");
    let mut found = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).unwrap();
        // src/sandbox/faults.rs is crate::sandbox::faults: two deep, and
        // `super` once reaches crate::sandbox; a mod.rs is one less.
        let mut depth = relative.components().count();
        if path.file_name().is_some_and(|n| n == "mod.rs") {
            depth -= 1;
        }
        // Inside the sandbox: `super` at most depth - 1 times, plus one
        // inline module.
        let source = std::fs::read_to_string(&path).unwrap();
        for f in forbidden_imports(&source, depth) {
            found.push(format!("{}:{f}", relative.display()));
        }
    }
    assert!(
        found.is_empty(),
        "the sandbox imports the client's rules:\n{}",
        found.join("\n")
    );
}

/// A tiny Sigma-like server: a token for anyone, `members` (a JSON
/// object's text) for the member list, an empty last page for any other
/// list. Records each request line.
fn fake_sigma(members: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut length = 0;
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                header.clear();
            }
            let mut body = vec![0; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            log.lock().unwrap().push(line.trim().to_string());
            let answer = if line.starts_with("POST /v2/auth/token") {
                r#"{"access_token": "t", "token_type": "bearer", "expires_in": 3600}"#.to_string()
            } else if line.starts_with("GET /v2.1/members") {
                members.clone()
            } else {
                r#"{"entries": [], "hasMore": false, "nextPage": null, "memberId": "m0"}"#
                    .to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, seen)
}

/// A Sigma list that says more pages follow without saying where, or names
/// the page just read as the next, is refused: no plan from part of a list.
#[test]
fn a_sigma_list_that_cannot_be_followed_to_its_end_is_refused() {
    let member = r#"{"memberId": "m0", "email": "admin@acme.com", "firstName": "A", "lastName": "B", "memberType": "Admin"}"#;
    for (page, said) in [
        (
            format!(r#"{{"entries": [{member}], "hasMore": true, "nextPage": null}}"#),
            "says `hasMore: true` but gives no `nextPage`",
        ),
        (
            format!(r#"{{"entries": [{member}], "hasMore": true, "nextPage": "p1"}}"#),
            "names the page just read as the next one",
        ),
    ] {
        let (url, seen) = fake_sigma(page);
        let site = format!(
            "[sites.acme-sigma]\nprovider = \"sigma\"\nbase_url = \"{url}\"\nclient_id = {{ env = \"SIGMA_ID\" }}\nclient_secret = {{ env = \"SIGMA_SECRET\" }}\n"
        );
        let dir = state_dir(&[("roster.toml", &site)]);
        let out = roster(
            dir.path(),
            &["apply", "--yes"],
            &[
                ("SIGMA_ID", "i"),
                ("SIGMA_SECRET", "s"),
                ("ROSTER_RETRY_BASE_MS", "1"),
            ],
        );
        assert_eq!(out.code, 1, "{said}: {}", out.all());
        let message = format!(
            "site `acme-sigma`: list members: the answer {said}; refusing to plan from what may be part of the list"
        );
        assert!(out.stderr.contains(&message), "{said}: {}", out.stderr);
        let seen = seen.lock().unwrap();
        assert!(
            seen.iter()
                .all(|l| l.starts_with("GET ") || l.starts_with("POST /v2/auth/token")),
            "{said}: a write was sent: {seen:?}"
        );
    }
}
