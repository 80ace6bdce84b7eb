//! End to end: a server that misbehaves cannot exhaust or fool roster. An
//! answer larger than the site's `max_response_bytes` is not read past
//! it; a request that hangs is said to be waiting, and the site's
//! `deadline_seconds` ends it; an ID no URL path can carry (`.`, `..`,
//! empty, holding `/`) is refused where it is read, naming the object, and
//! nothing is written. The hostile servers are small ones on loopback,
//! written here; each stops by itself.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;
use roster::sandbox::sigma::store::{SigmaMember, SigmaTeam};
use roster::sandbox::{SandboxData, SigmaOrg};

/// What the hostile server does with one request.
enum Reply {
    /// A JSON answer with status 200.
    Json(Value),
    /// A 200 whose body never ends (up to `ENDLESS` bytes, then closed).
    Endless,
    /// A 200 announcing a body of 10 GiB, then only a few bytes, held open.
    HugeLength,
    /// Nothing at all, for `HOLD`, then the connection is closed.
    Hang,
}

/// The most an endless body sends: far past any limit in these tests, and
/// small enough that the old behaviour (reading it whole) ends.
const ENDLESS: u64 = 256 * 1024 * 1024;
/// How long a hung request is held before the server gives up.
const HOLD: Duration = Duration::from_secs(90);

/// A server on 127.0.0.1 that answers each request as `reply` says, and
/// records every request line and the bytes of body it sent.
struct Hostile {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    sent: Arc<AtomicU64>,
}

impl Hostile {
    fn start(reply: fn(&str, &str) -> Reply) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (seen, count) = (requests.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, count) = (seen.clone(), count.clone());
                std::thread::spawn(move || serve(stream, reply, &seen, &count));
            }
        });
        Hostile {
            url,
            requests,
            sent,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests that are not reads.
    fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET "))
            .collect()
    }
}

/// Answers requests on one connection until it closes.
fn serve(
    mut stream: TcpStream,
    reply: fn(&str, &str) -> Reply,
    seen: &Mutex<Vec<String>>,
    sent: &AtomicU64,
) {
    stream.set_read_timeout(Some(HOLD)).unwrap();
    loop {
        let Some(line) = read_request(&mut stream) else {
            return;
        };
        seen.lock().unwrap().push(line.clone());
        let mut parts = line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or_default();
        match reply(method, path) {
            Reply::Json(body) => {
                let body = body.to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).is_err()
                    || stream.write_all(body.as_bytes()).is_err()
                {
                    return;
                }
            }
            Reply::Endless => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
                let _ = stream.write_all(head.as_bytes());
                let chunk = vec![b' '; 64 * 1024];
                while sent.load(Ordering::SeqCst) < ENDLESS {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                    sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
                return;
            }
            Reply::HugeLength => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n[   ";
                let _ = stream.write_all(head.as_bytes());
                std::thread::sleep(HOLD);
                return;
            }
            Reply::Hang => {
                std::thread::sleep(HOLD);
                return;
            }
        }
    }
}

/// The request line of one request, its headers and body read and dropped;
/// `None` when the connection closed.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some(head.lines().next().unwrap_or_default().to_string())
}

/// A SCIM site at `url` with `extra` settings, declaring ada@acme.com.
fn scim_state(url: &str, extra: &str) -> tempfile::TempDir {
    state_dir(&[
        (
            "roster.toml",
            &format!(
                "[sites.odd]\nprovider = \"scim\"\nbase_url = \"{url}\"\ntoken = {{ env = \"SCIM_TOKEN\" }}\n{extra}\n"
            ),
        ),
        (
            "people.toml",
            "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n",
        ),
    ])
}

fn run(dir: &tempfile::TempDir, args: &[&str]) -> Output {
    roster(
        dir.path(),
        args,
        &[("SCIM_TOKEN", "t0ken"), ("ROSTER_RETRY_BASE_MS", "10")],
    )
}

/// An answer that never ends, and one whose `Content-Length` is far past
/// the limit: each refused, naming the site, what was read and the
/// endpoint, after reading no more than the limit (the server could send
/// little past what the sockets hold).
#[test]
fn an_answer_past_max_response_bytes_is_not_read() {
    let endless: fn(&str, &str) -> Reply = |_, _| Reply::Endless;
    let huge: fn(&str, &str) -> Reply = |_, _| Reply::HugeLength;
    for (reply, name) in [(endless, "endless"), (huge, "huge Content-Length")] {
        let server = Hostile::start(reply);
        let dir = scim_state(&server.url, "max_response_bytes = 65536");
        let started = Instant::now();
        let out = run(&dir, &["plan"]);
        assert_eq!(out.code, 1, "{name}: {}", out.all());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name}: {:?}",
            started.elapsed()
        );
        insta::allow_duplicates! {
            insta::assert_snapshot!(run_snapshot(&out), @r"
            exit: 1
            --- stdout
            --- stderr
            error: could not read the live state:
              site `odd`: read the service provider configuration: the answer to GET /ServiceProviderConfig is larger than the site's max_response_bytes (65536 bytes); roster stopped reading it (raise max_response_bytes if the site's answers are that large)
            nothing was changed
            ");
        }
        // Roster stopped reading: the server could not send much past
        // what the sockets' buffers hold.
        let sent = server.sent.load(Ordering::SeqCst);
        assert!(
            sent < 32 * 1024 * 1024,
            "{name}: the server sent {sent} bytes"
        );
        assert_eq!(server.requests().len(), 1, "{name}: not retried");
    }
}

/// The limit is checked in the state: a whole number of bytes from 1 KiB.
#[test]
fn max_response_bytes_and_deadline_seconds_are_checked() {
    let dir = scim_state(
        "http://127.0.0.1:9/scim/v2",
        "max_response_bytes = 12\ndeadline_seconds = 0",
    );
    let out = run(&dir, &["validate"]);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: state/roster.toml:5:22: site `odd`: max_response_bytes must be from 1024 to 4294967296, not 12
      hint: it is the most bytes one answer of the site may hold; leave it out for 67108864 (64 MiB)
    error: state/roster.toml:6:20: site `odd`: deadline_seconds must be from 1 to 86400, not 0
      hint: it is how long roster may spend reading the site, and again writing to it; leave it out for 7200
    error: 2 problems in the state under state; nothing was contacted
    ");
}

/// A request that hangs: while it waits, a line says which site and for
/// how long; the site's deadline ends it with an error naming the
/// deadline and the endpoint, long before the per-request timeout (60 s)
/// and its retries would.
#[test]
fn a_hanging_request_is_reported_and_ended_by_the_deadline() {
    let server = Hostile::start(|_, _| Reply::Hang);
    let dir = scim_state(&server.url, "deadline_seconds = 7");
    let started = Instant::now();
    let out = run(&dir, &["plan"]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(7) && took < Duration::from_secs(20),
        "took {took:?}"
    );
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    site `odd`: still waiting for an answer (read the service provider configuration) after 5 s (the site's deadline_seconds is 7)
    error: could not read the live state:
      site `odd`: read the service provider configuration: gave up: the site's deadline_seconds (7 s) passed before GET /ServiceProviderConfig was answered (raise deadline_seconds if the site is that slow)
    nothing was changed
    ");
    assert_eq!(server.requests().len(), 1);
}

/// A SCIM service whose users (or groups) have the ID `id`, the first of
/// them undeclared and so planned for deactivation.
fn odd_ids(method: &str, path: &str, users: Value, groups: Value) -> Reply {
    let list = |items: &Value| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": items.as_array().map_or(0, Vec::len),
            "startIndex": 1,
            "itemsPerPage": items.as_array().map_or(0, Vec::len),
            "Resources": items,
        })
    };
    match (method, path) {
        ("GET", "/ServiceProviderConfig") => Reply::Json(json!({
            "patch": {"supported": true},
            "filter": {"supported": true, "maxResults": 100},
        })),
        ("GET", "/Users") => Reply::Json(list(&users)),
        ("GET", "/Groups") => Reply::Json(list(&groups)),
        _ => Reply::Json(json!({})),
    }
}

/// The one refusal `plan` and `apply` both end with (exit 1, the same
/// words, nothing changed).
fn refusal(plan: &Output, apply: &Output) -> String {
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert_eq!(apply.code, 1, "{}", apply.all());
    assert_eq!(plan.stderr, apply.stderr);
    let lines: Vec<&str> = plan.stderr.lines().collect();
    assert_eq!(
        [lines[0], lines[2]],
        [
            "error: could not read the live state:",
            "nothing was changed"
        ],
        "{}",
        plan.stderr
    );
    lines[1].trim().to_string()
}

fn scim_user(id: &str, email: &str) -> Value {
    json!({"id": id, "userName": email, "name": {"givenName": "A", "familyName": "B"}, "active": true})
}

/// A SCIM user or group whose ID is `.`, `..`, empty or holds `/`: plan
/// and apply refuse the site, naming the object, and no write is sent (a
/// user with the ID `.` once made roster deactivate another user).
#[test]
fn scim_ids_that_cannot_be_a_path_segment_are_refused_before_any_write() {
    fn users_only(id: &'static str) -> fn(&str, &str) -> Reply {
        match id {
            "." => |m, p| {
                odd_ids(
                    m,
                    p,
                    json!([
                        scim_user("u1", "ada@acme.com"),
                        scim_user(".", "mallory@acme.com")
                    ]),
                    json!([]),
                )
            },
            ".." => |m, p| {
                odd_ids(
                    m,
                    p,
                    json!([
                        scim_user("u1", "ada@acme.com"),
                        scim_user("..", "mallory@acme.com")
                    ]),
                    json!([]),
                )
            },
            "" => |m, p| {
                odd_ids(
                    m,
                    p,
                    json!([
                        scim_user("u1", "ada@acme.com"),
                        scim_user("", "mallory@acme.com")
                    ]),
                    json!([]),
                )
            },
            _ => |m, p| {
                odd_ids(
                    m,
                    p,
                    json!([
                        scim_user("u1", "ada@acme.com"),
                        scim_user("a/b", "mallory@acme.com")
                    ]),
                    json!([]),
                )
            },
        }
    }
    let mut refusals = Vec::new();
    for id in [".", "..", "", "a/b"] {
        let server = Hostile::start(users_only(id));
        let dir = scim_state(
            &server.url,
            "unmanaged_users = \"deactivate\"\nallow_removals = 5",
        );
        let plan = run(&dir, &["plan"]);
        let apply = run(&dir, &["apply", "--yes"]);
        assert_eq!(server.writes(), Vec::<String>::new(), "{id:?}");
        refusals.push(refusal(&plan, &apply));
    }
    insta::assert_snapshot!(refusals.join("\n"), @r#"
    site `odd`: the user mallory@acme.com has the ID ".", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the user on the site)
    site `odd`: the user mallory@acme.com has the ID "..", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the user on the site)
    site `odd`: the user mallory@acme.com has the ID "", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the user on the site)
    site `odd`: the user mallory@acme.com has the ID "a/b", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the user on the site)
    "#);

    // A group, likewise.
    let server = Hostile::start(|m, p| {
        odd_ids(
            m,
            p,
            json!([scim_user("u1", "ada@acme.com")]),
            json!([{"id": "..", "displayName": "Old Team", "members": [{"value": "u1"}]}]),
        )
    });
    let dir = scim_state(
        &server.url,
        "unmanaged_groups = \"delete\"\nallow_group_deletions = 5",
    );
    let out = run(&dir, &["apply", "--yes"]);
    insta::assert_snapshot!(run_snapshot(&out), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: could not read the live state:
      site `odd`: the group Old Team has the ID "..", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the group on the site)
    nothing was changed
    "#);
    assert_eq!(server.writes(), Vec::<String>::new());
}

/// A Sigma organisation with ada (declared) and, as `odd` says, a member
/// (mallory, undeclared) or a team (Old Team, undeclared) whose ID is `id`.
fn sigma_org_with(odd: &str, id: &str) -> SandboxData {
    let mut org = SigmaOrg::new("acme-sigma", "sandbox-sigma-secret", "admin@acme.com");
    let member = |member_id: &str, email: &str| SigmaMember {
        member_id: member_id.into(),
        email: email.into(),
        first_name: "A".into(),
        last_name: "B".into(),
        member_type: "Viewer".into(),
        is_archived: false,
        is_inactive: false,
        documents: 0,
    };
    org.members.push(member("m-ada", "ada@acme.com"));
    if odd == "member" {
        org.members.push(member(id, "mallory@acme.com"));
    } else {
        org.teams.push(SigmaTeam {
            team_id: id.into(),
            name: "Old Team".into(),
            description: None,
            visibility: "private".into(),
            members: vec!["m-ada".into()],
        });
    }
    let mut data = SandboxData::default();
    data.sigma.insert("acme-sigma".into(), org);
    data
}

/// A Sigma org where an undeclared member (tim) has ada's `memberId`, or
/// an undeclared team (Old Team) the declared Analysts' `teamId`: what a
/// proxy rewriting the lists could make roster see.
fn sigma_org_sharing(shared: &str) -> SandboxData {
    // ada (m-ada), in the team Old Team.
    let mut data = sigma_org_with("team", "t-analysts");
    let org = data.sigma.get_mut("acme-sigma").unwrap();
    if shared == "member" {
        org.teams[0].name = "Analysts".into();
        let ada = org.members.iter().find(|m| m.member_id == "m-ada");
        let mut tim = ada.unwrap().clone();
        tim.email = "tim@acme.com".into();
        org.members.push(tim);
    } else {
        let mut analysts = org.teams[0].clone();
        analysts.name = "Analysts".into();
        org.teams.insert(0, analysts);
    }
    data
}

/// The refusal of plan and apply on a Sigma sandbox holding `data`, with
/// a state declaring the admin and ada (`groups` before them, `ada_extra`
/// in ada's table); no write may reach the sandbox.
fn sigma_refusal(data: SandboxData, (groups, ada_extra): (&str, &str), what: &str) -> String {
    let sb = BackgroundSandbox::start(data).unwrap();
    let dir = state_dir(&[(
        "roster.toml",
        &format!(
            "[sites.acme-sigma]\nprovider = \"sigma\"\nbase_url = \"{}\"\nclient_id = {{ env = \"SIGMA_ID\" }}\nclient_secret = {{ env = \"SIGMA_SECRET\" }}\nnew_owner = \"admin@acme.com\"\nallow_removals = 5\nallow_group_deletions = 5\nunmanaged_groups = \"delete\"\n\n{groups}\
             [[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\nmember_type = \"Admin\"\n\n\
             [[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"A\"\nlast_name = \"B\"\nmember_type = \"Viewer\"\n{ada_extra}",
            sb.url
        ),
    )]);
    let env = [
        ("SIGMA_ID", "acme-sigma"),
        ("SIGMA_SECRET", "sandbox-sigma-secret"),
    ];
    let plan = roster(dir.path(), &["plan"], &env);
    let apply = roster(dir.path(), &["apply", "--yes"], &env);
    assert!(only_reads(&sb), "{what}: {:?}", writes(&sb));
    refusal(&plan, &apply)
}

/// Two Sigma members (or two teams) with one ID: plan and apply refuse
/// the site naming both and the ID, and nothing is written (once, tim's
/// deactivation archived ada, and deleting Old Team deleted Analysts).
#[test]
fn sigma_objects_sharing_an_id_are_refused_before_any_write() {
    let mut refusals = Vec::new();
    for shared in ["member", "team"] {
        let state = (
            "[[groups]]\nname = \"Analysts\"\n\n",
            "groups = [\"Analysts\"]\n",
        );
        refusals.push(sigma_refusal(sigma_org_sharing(shared), state, shared));
    }
    insta::assert_snapshot!(refusals.join("\n"), @r#"
    site `acme-sigma`: the members ada@acme.com and tim@acme.com have the same ID "m-ada": a request naming it could reach either, so none is sent (fix the site, or whatever stands between roster and it)
    site `acme-sigma`: the teams Analysts and Old Team have the same ID "t-analysts": a request naming it could reach either, so none is sent (fix the site, or whatever stands between roster and it)
    "#);
}

/// A Sigma member or team whose ID is `.`, `..`, empty or holds `/`: plan
/// and apply refuse the site, naming the object, and no write is sent.
#[test]
fn sigma_ids_that_cannot_be_a_path_segment_are_refused_before_any_write() {
    let mut refusals = Vec::new();
    for odd in ["member", "team"] {
        for id in [".", "..", "", "a/b"] {
            let what = format!("{odd} {id:?}");
            refusals.push(sigma_refusal(sigma_org_with(odd, id), ("", ""), &what));
        }
    }
    insta::assert_snapshot!(refusals.join("\n"), @r#"
    site `acme-sigma`: the member mallory@acme.com has the ID ".", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the member on the site)
    site `acme-sigma`: the member mallory@acme.com has the ID "..", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the member on the site)
    site `acme-sigma`: the member mallory@acme.com has the ID "", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the member on the site)
    site `acme-sigma`: the member mallory@acme.com has the ID "a/b", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the member on the site)
    site `acme-sigma`: the team Old Team has the ID ".", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the team on the site)
    site `acme-sigma`: the team Old Team has the ID "..", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the team on the site)
    site `acme-sigma`: the team Old Team has the ID "", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the team on the site)
    site `acme-sigma`: the team Old Team has the ID "a/b", which cannot be a URL path segment (empty, `.`, `..`, or holding `/`): a request naming it would reach another object or endpoint, so none is sent (fix the team on the site)
    "#);
}

/// A Periscope server whose list of users never ends: each page holds new
/// users and a `next_page_start` no page had.
fn endless_users(_method: &str, path: &str) -> Reply {
    static PAGE: AtomicU64 = AtomicU64::new(0);
    if path != "/api/v1/users" {
        return Reply::Json(json!({"groups": []}));
    }
    let page = PAGE.fetch_add(1, Ordering::SeqCst);
    let users: Vec<Value> = (0..8)
        .map(|i| json!({"id": format!("{page}-{i}"), "email": format!("u{page}-{i}@acme.com"), "first_name": "A", "last_name": "B"}))
        .collect();
    Reply::Json(json!({"users": users, "next_page_start": format!("p{}", page + 1)}))
}

/// A list whose pages never end: the answers read from the site add up to
/// at most 4 times its max_response_bytes, then the plan stops naming the
/// site, the endpoint and the limit, after a bounded number of requests
/// (without the bound, the site's deadline_seconds would end it instead).
#[test]
fn a_list_that_never_ends_is_read_only_up_to_its_bound() {
    let server = Hostile::start(endless_users);
    let dir = state_dir(&[(
        "roster.toml",
        &format!(
            "[sites.odd]\nprovider = \"periscope\"\nsite = \"acme\"\ninvited_by = \"admin@acme.com\"\nbase_url = \"{}\"\napi_key = {{ env = \"K\" }}\nmax_response_bytes = 1024\ndeadline_seconds = 30\n",
            server.url
        ),
    )]);
    let out = roster(dir.path(), &["plan"], &[("K", "k3y")]);
    insta::assert_snapshot!(run_snapshot(&out), @r"
    exit: 1
    --- stdout
    --- stderr
    error: could not read the live state:
      site `odd`: list users: the answers read from the site add up to more than 4096 bytes (4 times its max_response_bytes) at GET /api/v1/users; roster stopped reading (a list that never ends? raise max_response_bytes if the site is that large)
    nothing was changed
    ");
    let pages = server.requests().len();
    assert!(pages < 40, "{pages} requests");
}
