//! Scale benchmark: roster against the sandbox with a latency per request.
//!
//!     cargo bench --bench scale                       # 1,000 / 10,000 / 100,000 people
//!     ROSTER_BENCH_SIZES=1000,10000 cargo bench --bench scale
//!
//! Reports, as markdown:
//! - plan wall time and peak memory (the roster process), people split over
//!   a Periscope site and a Sigma organisation, with no latency (pure CPU)
//!   and with 20 ms per request;
//! - apply wall time for 1,000 and 10,000 changes at 20 ms, next to the
//!   floor `requests × latency / concurrency`;
//! - a 1,000-row Sigma member update done the founding way (one request at a
//!   time, as `batch_update_users.py` does) next to roster doing the same;
//! - applying a saved plan of 100,000 changes: the check of the saved plan
//!   against the fresh one, next to making the plan.
//!
//! The sandbox runs in this process, on the other core; its own work is in
//! the wall times.
//!
//! `ROSTER_BENCH_ONLY=plan` (or `apply`, `founding`, `saved`) runs one table.
//!
//! To profile one case by hand, write it out instead of running it:
//!
//!     ROSTER_BENCH_WRITE=/tmp/case ROSTER_BENCH_SIZES=100000 cargo bench --bench scale
//!     (ROSTER_BENCH_CHANGES=1000 gives that many people a new last name)
//!     roster sandbox --port 8099 --data /tmp/case/sandbox.json &
//!     cd /tmp/case && K=k I=acme-sigma S=s roster plan

// The benchmark reports its measurements on standard output.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use roster::sandbox::periscope::store::PeriscopeUser;
use roster::sandbox::sigma::store::SigmaMember;
use roster::sandbox::{BackgroundSandbox, Options, PeriscopeSite, SandboxData, SigmaOrg};

const LATENCY: Duration = Duration::from_millis(20);
const CONCURRENCY: usize = 16;

fn sites(url: &str) -> String {
    format!(
        r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = {{ env = "K" }}
invited_by = "admin@acme.com"
base_url = "{url}"
allow_removals = 1000000

[sites.acme-sigma]
provider = "sigma"
base_url = "{url}"
client_id = {{ env = "I" }}
client_secret = {{ env = "S" }}
allow_removals = 1000000

[[groups]]
name = "Analysts"
access = "sql"
sites = ["acme"]

[[groups]]
name = "Team"
sites = ["acme-sigma"]
"#
    )
}

/// `people` split over the two sites, all live; `changed` of them (half on
/// each site) get a new last name in the state.
fn case(people: usize, changed: usize) -> (SandboxData, String) {
    let half = people / 2;
    let mut site = PeriscopeSite::new("k", "admin@acme.com");
    site.groups
        .push(roster::sandbox::periscope::store::PeriscopeGroup {
            name: "Analysts".into(),
            access: roster::sandbox::periscope::store::Access::Sql,
        });
    let mut org = SigmaOrg::new("acme-sigma", "s", "admin@acme.com");
    let mut state = String::with_capacity(people * 120);
    state.push_str("[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\nsites = [\"acme\"]\n\n");
    for i in 0..half {
        site.users.push(PeriscopeUser {
            email: format!("p{i}@acme.com"),
            first_name: "P".into(),
            last_name: format!("{i}"),
            groups: vec!["All Users".into(), "Analysts".into()],
        });
        let last = if i < changed / 2 {
            format!("{i}b")
        } else {
            format!("{i}")
        };
        state.push_str(&format!(
            "[[users]]\nemail = \"p{i}@acme.com\"\nfirst_name = \"P\"\nlast_name = \"{last}\"\ngroups = [\"Analysts\"]\nsites = [\"acme\"]\n\n"
        ));
    }
    org.teams.push(roster::sandbox::sigma::store::SigmaTeam {
        team_id: "team".into(),
        name: "Team".into(),
        description: None,
        visibility: "private".into(),
        members: (0..half).map(|i| format!("m{i:028}")).collect(),
    });
    state.push_str("[[users]]\nemail = \"sadmin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\nsites = [\"acme-sigma\"]\n\n");
    org.members[0].email = "sadmin@acme.com".into();
    for i in 0..half {
        org.members.push(SigmaMember {
            member_id: format!("m{i:028}"),
            email: format!("s{i}@acme.com"),
            first_name: "S".into(),
            last_name: format!("{i}"),
            member_type: "Viewer".into(),
            is_archived: false,
            is_inactive: false,
            documents: 0,
        });
        let last = if i < changed - changed / 2 {
            format!("{i}b")
        } else {
            format!("{i}")
        };
        state.push_str(&format!(
            "[[users]]\nemail = \"s{i}@acme.com\"\nfirst_name = \"S\"\nlast_name = \"{last}\"\ngroups = [\"Team\"]\nsites = [\"acme-sigma\"]\n\n"
        ));
    }
    let mut data = SandboxData::default();
    data.periscope.insert("acme".into(), site);
    data.sigma.insert("acme-sigma".into(), org);
    (data, state)
}

/// Runs roster; wall time and the peak resident memory of roster alone.
fn roster(dir: &Path, args: &[&str]) -> (Duration, u64, i32) {
    let before = max_rss_children();
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(dir)
        .args(args)
        .env("K", "k")
        .env("I", "acme-sigma")
        .env("S", "s")
        .env("CI", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("roster runs");
    let wall = start.elapsed();
    let after = max_rss_children();
    (wall, after.max(before), status.code().unwrap_or(-1))
}

/// The largest peak resident set (KiB) of any child that has finished.
fn max_rss_children() -> u64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &raw mut usage) };
    usage.ru_maxrss as u64
}

fn sandbox(data: SandboxData, latency: Duration) -> BackgroundSandbox {
    BackgroundSandbox::start_with(
        data,
        Options {
            latency,
            ..Options::default()
        },
    )
    .unwrap()
}

fn state_dir(state: &str, url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    std::fs::write(dir.path().join("state/sites.toml"), sites(url)).unwrap();
    std::fs::write(dir.path().join("state/people.toml"), state).unwrap();
    dir
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The founding way: fetch every member 500 at a time, then one PATCH per
/// CSV row, one request at a time.
async fn founding_batch_update(url: &str, rows: usize) -> Duration {
    let http = reqwest::Client::new();
    let start = Instant::now();
    let token: serde_json::Value = http
        .post(format!("{url}/v2/auth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "acme-sigma"),
            ("client_secret", "s"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let mut ids = std::collections::HashMap::new();
    let mut page: Option<String> = None;
    loop {
        let mut u = format!("{url}/v2/members?includeArchived=true&limit=500");
        if let Some(p) = &page {
            u.push_str(&format!("&page={p}"));
        }
        let body: serde_json::Value = http
            .get(u)
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for m in body["entries"].as_array().unwrap() {
            ids.insert(
                m["email"].as_str().unwrap().to_string(),
                m["memberId"].as_str().unwrap().to_string(),
            );
        }
        match body["nextPage"].as_str() {
            Some(p) => page = Some(p.to_string()),
            None => break,
        }
    }
    for i in 0..rows {
        let id = &ids[&format!("s{i}@acme.com")];
        let r = http
            .patch(format!("{url}/v2/members/{id}"))
            .header("Authorization", &bearer)
            .json(&serde_json::json!({ "lastName": format!("{i}c") }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    start.elapsed()
}

fn main() {
    // `cargo bench` passes --bench; anything else (such as `cargo test`
    // running benches) only checks that the benchmark builds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("ROSTER_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("sizes are numbers"))
        .collect();

    if let Ok(out) = std::env::var("ROSTER_BENCH_WRITE") {
        let changes = std::env::var("ROSTER_BENCH_CHANGES").map_or(0, |c| c.parse().unwrap());
        let (data, state) = case(sizes[0], changes);
        let out = Path::new(&out);
        let dir = out.join("state");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("sites.toml"), sites("http://127.0.0.1:8099")).unwrap();
        std::fs::write(dir.join("people.toml"), state).unwrap();
        roster::sandbox::persist::save(&out.join("sandbox.json"), &data).unwrap();
        println!("wrote {} people to {}", sizes[0], out.display());
        return;
    }

    let only = std::env::var("ROSTER_BENCH_ONLY").ok();
    let run = |table: &str| only.as_deref().is_none_or(|o| o == table);

    if run("plan") {
        plan_table(&sizes);
    }
    if run("apply") {
        apply_table();
    }
    if run("founding") {
        founding_table();
    }
    if run("saved") {
        saved_table(&sizes);
    }
}

fn plan_table(sizes: &[usize]) {
    println!("## Plan (people over two sites; no changes to make)\n");
    println!("| people | plan, no latency | peak memory | plan, 20 ms per request |");
    println!("|--:|--:|--:|--:|");
    for &n in sizes {
        let (data, state) = case(n, 0);
        let sb = sandbox(data.clone(), Duration::ZERO);
        let dir = state_dir(&state, &sb.url);
        let (wall, rss, code) = roster(dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0, "plan of {n} people");
        drop(sb);
        let sb = sandbox(data, LATENCY);
        let dir = state_dir(&state, &sb.url);
        let (slow, _, code) = roster(dir.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(code, 0);
        println!(
            "| {n} | {} | {} MiB | {} |",
            secs(wall),
            rss / 1024,
            secs(slow)
        );
    }
}

/// The mean time one request takes against `url` with `LATENCY` added,
/// while `in_flight` requests are under way at once, as during an apply of
/// both sites: the injected latency plus the emulator's and the loopback's
/// own time.
async fn mean_request_time(url: &str, in_flight: usize) -> Duration {
    let http = reqwest::Client::new();
    let rounds = 20;
    let start = Instant::now();
    futures::future::join_all((0..in_flight).map(|_| async {
        for _ in 0..rounds {
            let r = http
                .get(format!("{url}/api/v1/groups"))
                .header("HTTP-X-PARTNER-AUTH", "acme:k")
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            r.bytes().await.unwrap();
        }
    }))
    .await;
    start.elapsed() / rounds
}

fn apply_table() {
    println!("\n## Apply at 20 ms per request, --concurrency {CONCURRENCY}\n");
    println!(
        "| changes | requests | wall | floor (busiest site's requests × 20 ms / {CONCURRENCY}) | wall / floor | floor at the measured request time | wall / that floor |"
    );
    println!("|--:|--:|--:|--:|--:|--:|--:|");
    for changes in [1000usize, 10000] {
        let (data, state) = case(changes.max(2000), changes);
        let sb = sandbox(data, LATENCY);
        let dir = state_dir(&state, &sb.url);
        let (wall, _, code) = roster(dir.path(), &["apply", "--yes"]);
        assert_eq!(code, 0, "apply of {changes} changes");
        let log = sb.sandbox.requests();
        let requests = log.len();
        // Sites are applied side by side, each with its own limit: the floor
        // is the busiest site's.
        let busiest = ["acme", "acme-sigma"]
            .iter()
            .map(|s| log.iter().filter(|r| r.site.as_deref() == Some(*s)).count())
            .max()
            .unwrap_or(0);
        let floor = LATENCY.mul_f64(busiest as f64 / CONCURRENCY as f64);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let request = rt.block_on(mean_request_time(&sb.url, 2 * CONCURRENCY));
        let measured = request.mul_f64(busiest as f64 / CONCURRENCY as f64);
        println!(
            "| {changes} | {requests} | {} | {} | {:.2} | {} ({:.1} ms a request) | {:.2} |",
            secs(wall),
            secs(floor),
            wall.as_secs_f64() / floor.as_secs_f64(),
            secs(measured),
            request.as_secs_f64() * 1000.0,
            wall.as_secs_f64() / measured.as_secs_f64()
        );
    }
}

fn founding_table() {
    println!("\n## 1,000-row Sigma member update at 20 ms per request\n");
    let rows = 1000;
    let (data, _) = case(2 * rows, 0);
    let sb = sandbox(data.clone(), LATENCY);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let founding = rt.block_on(founding_batch_update(&sb.url, rows));
    drop(sb);
    let (_, state) = case(2 * rows, 2 * rows);
    // Only the Sigma half changes: keep the Periscope people as they are.
    let state = state.replace(
        "b\"\ngroups = [\"Analysts\"]",
        "\"\ngroups = [\"Analysts\"]",
    );
    let sb = sandbox(data, LATENCY);
    let dir = state_dir(&state, &sb.url);
    let (wall, _, code) = roster(dir.path(), &["apply", "--yes"]);
    assert_eq!(code, 0);
    println!("| way | wall |\n|---|--:|");
    println!(
        "| one request at a time (batch_update_users.py) | {} |",
        secs(founding)
    );
    println!("| roster apply (defaults) | {} |", secs(wall));
    println!(
        "\nroster is {:.1}× faster.",
        founding.as_secs_f64() / wall.as_secs_f64()
    );
}

/// Runs roster with `-v` and no standard input; wall time, exit code, and
/// the `elapsed_ms` of the debug line `event` (the first one).
fn roster_timed(dir: &Path, args: &[&str], event: &str) -> (Duration, i32, Option<u64>) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(dir)
        .arg("-v")
        .args(args)
        .env("K", "k")
        .env("I", "acme-sigma")
        .env("S", "s")
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("roster runs");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let elapsed = stderr
        .lines()
        .find(|l| l.contains(event))
        .and_then(|l| l.split("elapsed_ms=").nth(1))
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse().ok());
    (wall, out.status.code().unwrap_or(-1), elapsed)
}

/// Applying a saved plan in which every person changes (`n` changes over
/// both sites): `roster apply FILE` reads the sites, plans again, and
/// checks the saved plan against the fresh one before it asks to go on
/// (standard input is not a terminal, so it stops there: nothing is sent).
fn saved_table(sizes: &[usize]) {
    println!("\n## Applying a saved plan (every person changes; no latency)\n");
    println!(
        "| changes | plan --out | apply FILE, up to the confirmation | of which: plan computed | of which: saved plan compared |"
    );
    println!("|--:|--:|--:|--:|--:|");
    for &n in sizes {
        let (data, state) = case(n, n);
        let sb = sandbox(data, Duration::ZERO);
        let dir = state_dir(&state, &sb.url);
        let (plan, code, planned) =
            roster_timed(dir.path(), &["plan", "--out", "plan.json"], "plan computed");
        assert_eq!(code, 0, "plan of {n} changes");
        let (apply, code, compared) =
            roster_timed(dir.path(), &["apply", "plan.json"], "saved plan compared");
        // Refused at the confirmation (no terminal), after the check.
        assert_eq!(code, 1, "apply of a saved plan of {n} changes");
        let ms = |v: Option<u64>| v.map_or("?".into(), |v| format!("{v} ms"));
        println!(
            "| {n} | {} | {} | {} | {} |",
            secs(plan),
            secs(apply),
            ms(planned),
            ms(compared)
        );
    }
}
