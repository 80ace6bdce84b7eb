//! Fault runs: plans of hundreds of changes applied to a sandbox that answers
//! 5% of requests with a 5xx (before or after the write took effect), 5% with
//! 429 and drops 1% of connections (Sigma's token requests included), over
//! many seeds. After at most two runs
//! the live state is the desired state, nobody was created twice, and every
//! failure the report gave was real.

use crate::common::*;
use roster::sandbox::faults::Faults;
use roster::sandbox::periscope::store::{PeriscopeGroup, PeriscopeUser};
use roster::sandbox::sigma::store::{SigmaMember, SigmaTeam};
use roster::sandbox::{Options, PeriscopeSite, SandboxData, SigmaOrg};

const SEEDS: u64 = 20;

fn faults(seed: u64) -> Faults {
    Faults {
        error_rate: 0.05,
        throttle_rate: 0.05,
        drop_rate: 0.01,
        retry_after_secs: 0,
        seed,
    }
}

/// A Periscope site of 150 people and the state that changes about 250 things.
fn periscope_case(url: &str) -> (SandboxData, Vec<(String, String)>, Vec<String>) {
    let mut site = PeriscopeSite::new("k", "admin@acme.com");
    for g in 0..5 {
        site.groups.push(PeriscopeGroup {
            name: format!("G{g}"),
            access: roster::sandbox::periscope::store::Access::View,
        });
    }
    for i in 0..150 {
        site.users.push(PeriscopeUser {
            email: format!("u{i}@acme.com"),
            first_name: "U".into(),
            last_name: format!("{i}"),
            groups: vec!["All Users".into(), format!("G{}", i % 5)],
        });
    }
    let mut data = SandboxData::default();
    data.periscope.insert("acme".into(), site);

    let mut state = format!(
        "{}allow_removals = 30\nallow_membership_removals = 100\n\n",
        periscope_site(url, "ACME_KEY")
    );
    for g in 0..5 {
        state.push_str(&format!(
            "[[groups]]\nname = \"G{g}\"\naccess = \"view\"\n\n"
        ));
    }
    for g in 0..3 {
        state.push_str(&format!(
            "[[groups]]\nname = \"N{g}\"\naccess = \"sql\"\n\n"
        ));
    }
    state.push_str("[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n\n");
    for i in 0..120 {
        let last = if i < 60 {
            "Changed".to_string()
        } else {
            format!("{i}")
        };
        let group = if (60..90).contains(&i) {
            (i + 1) % 5
        } else {
            i % 5
        };
        state.push_str(&format!(
            "[[users]]\nemail = \"u{i}@acme.com\"\nfirst_name = \"U\"\nlast_name = \"{last}\"\ngroups = [\"G{group}\"]\n\n"
        ));
    }
    let mut new = Vec::new();
    for i in 0..100 {
        new.push(format!("n{i}@acme.com"));
        state.push_str(&format!(
            "[[users]]\nemail = \"n{i}@acme.com\"\nfirst_name = \"N\"\nlast_name = \"{i}\"\ngroups = [\"N{}\"]\n\n",
            i % 3
        ));
    }
    (data, vec![("state.toml".into(), state)], new)
}

/// A Sigma organisation of 100 members and the state that changes about 200 things.
fn sigma_case(url: &str) -> (SandboxData, Vec<(String, String)>, Vec<String>) {
    let mut org = SigmaOrg::new("acme-sigma", "sandbox-sigma-secret", "admin@acme.com");
    for i in 0..100 {
        org.members.push(SigmaMember {
            member_id: format!("m{i:028}"),
            email: format!("m{i}@acme.com"),
            first_name: "M".into(),
            last_name: format!("{i}"),
            member_type: "Viewer".into(),
            is_archived: false,
            is_inactive: false,
            documents: 1,
        });
    }
    for t in 0..4 {
        org.teams.push(SigmaTeam {
            team_id: format!("team-{t}"),
            name: format!("T{t}"),
            description: None,
            visibility: "private".into(),
            members: (0..100)
                .filter(|i| i % 4 == t)
                .map(|i| format!("m{i:028}"))
                .collect(),
        });
    }
    let mut data = SandboxData::default();
    data.sigma.insert("acme-sigma".into(), org);

    let mut state = format!(
        "[sites.acme-sigma]\nprovider = \"sigma\"\nbase_url = \"{url}\"\nclient_id = {{ env = \"SIGMA_ID\" }}\nclient_secret = {{ env = \"SIGMA_SECRET\" }}\nnew_owner = \"admin@acme.com\"\nallow_removals = 20\nallow_membership_removals = 100\n\n"
    );
    for t in 0..5 {
        state.push_str(&format!("[[groups]]\nname = \"T{t}\"\n\n"));
    }
    state.push_str("[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\nmember_type = \"Admin\"\n\n");
    for i in 0..80 {
        let kind = if i < 40 { "Creator" } else { "Viewer" };
        let team = if (40..70).contains(&i) { 4 } else { i % 4 };
        state.push_str(&format!(
            "[[users]]\nemail = \"m{i}@acme.com\"\nfirst_name = \"M\"\nlast_name = \"{i}\"\nmember_type = \"{kind}\"\ngroups = [\"T{team}\"]\n\n"
        ));
    }
    let mut new = Vec::new();
    for i in 0..60 {
        new.push(format!("s{i}@acme.com"));
        state.push_str(&format!(
            "[[users]]\nemail = \"s{i}@acme.com\"\nfirst_name = \"S\"\nlast_name = \"{i}\"\ngroups = [\"T{}\"]\n\n",
            i % 5
        ));
    }
    (data, vec![("state.toml".into(), state)], new)
}

/// Emails of active users of the one site in `data`.
fn active_emails(data: &SandboxData) -> Vec<String> {
    let mut v: Vec<String> = data
        .periscope
        .values()
        .flat_map(|s| s.users.iter().map(|u| u.email.clone()))
        .chain(data.sigma.values().flat_map(|o| {
            o.members
                .iter()
                .filter(|m| !m.is_archived)
                .map(|m| m.email.clone())
        }))
        .collect();
    v.sort();
    v
}

/// Checks that every failure a run (`run`) reported is real: a failed
/// create left nobody (`live` holds the active emails after it), and no
/// create was sent twice; how many failures it reported.
fn check_failures(run: &str, stdout: &str, new: &[String], live: &[String]) -> usize {
    let mut seen = 0;
    // Every failure reported is real: a failed create left nobody, a
    // failed removal left the person active.
    for line in stdout.lines().filter(|l| l.starts_with("  FAILED  user ")) {
        seen += 1;
        let email = line["  FAILED  user ".len()..]
            .split(':')
            .next()
            .unwrap()
            .to_string();
        assert!(
            !line.contains("409") && !line.contains("Duplicate record"),
            "{run}: a create was sent twice: {line}"
        );
        if new.contains(&email) {
            assert!(
                !live.contains(&email),
                "{run}: reported failed but created: {line}"
            );
        }
    }
    seen
}

/// Sandbox data, state files and the emails the state adds, for a URL.
type Case = fn(&str) -> (SandboxData, Vec<(String, String)>, Vec<String>);

fn run_case(name: &str, case: Case) {
    let env = [
        ("ACME_KEY", "k"),
        ("SIGMA_ID", "acme-sigma"),
        ("SIGMA_SECRET", "sandbox-sigma-secret"),
        ("ROSTER_RETRY_BASE_MS", "2"),
    ];
    let (mut throttled, mut errored, mut failures_seen) = (0, 0, 0);
    // Sigma's token requests meet the same faults, and are retried.
    let mut token_faults = 0;
    for seed in 0..SEEDS {
        // The URL is only known once the sandbox runs: build the case twice.
        let (data, _, _) = case("http://127.0.0.1:1");
        let sb = BackgroundSandbox::start_with(
            data,
            Options {
                faults: faults(seed),
                ..Options::default()
            },
        )
        .unwrap();
        let (_, files, new) = case(&sb.url);
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let dir = state_dir(&files);

        let first = roster(dir.path(), &["apply", "--yes"], &env);
        assert!(
            first.code == 0 || first.code == 1,
            "{name} seed {seed}: {}",
            first.all()
        );
        let after_first = sb.sandbox.data();
        let live = active_emails(&after_first);
        failures_seen += check_failures(&format!("{name} seed {seed}"), &first.stdout, &new, &live);
        // Nobody created twice.
        for email in &new {
            assert!(
                live.iter().filter(|e| *e == email).count() <= 1,
                "{name} seed {seed}: {email} twice"
            );
        }

        let second = roster(dir.path(), &["apply", "--yes"], &env);
        assert_eq!(
            second.code,
            0,
            "{name} seed {seed}, second run: {}",
            second.all()
        );

        let requests = sb.sandbox.requests();
        throttled += requests.iter().filter(|r| r.status == 429).count();
        errored += requests.iter().filter(|r| r.status >= 500).count();
        token_faults += requests
            .iter()
            .filter(|r| r.path == "/v2/auth/token" && (r.status == 429 || r.status >= 500))
            .count();

        sb.sandbox.set_faults(Faults::default());
        let check = roster(dir.path(), &["plan", "--detailed-exitcode"], &env);
        assert_eq!(
            check.code,
            0,
            "{name} seed {seed}: not converged after two runs:\n{}",
            check.all()
        );
        for email in &new {
            assert!(
                active_emails(&sb.sandbox.data()).contains(email),
                "{name} seed {seed}: {email} missing"
            );
        }
    }
    assert!(
        throttled > 50 && errored > 50,
        "{name}: faults were injected ({throttled} 429s, {errored} 5xx)"
    );
    if name == "sigma" {
        assert!(token_faults > 0, "{name}: no token request met a fault");
    }
    eprintln!(
        "{name}: {SEEDS} seeds, {throttled} 429s, {errored} 5xx ({token_faults} on tokens), {failures_seen} failures reported"
    );
}

#[test]
fn periscope_converges_under_faults() {
    run_case("periscope", periscope_case);
}

#[test]
fn sigma_converges_under_faults() {
    run_case("sigma", sigma_case);
}

/// The fault flags of `roster sandbox` itself: a plan gets through 30%
/// throttling and 10% errors by retrying; a site that always fails is
/// named with its HTTP status.
#[test]
fn the_sandbox_command_injects_faults_from_its_flags() {
    let state = repo_state();
    let state = state.to_str().unwrap();
    let env = [("ROSTER_RETRY_BASE_MS", "1")];
    let dir = tempfile::tempdir().unwrap();

    let flaky = SandboxProcess::start(&[
        "--throttle-rate",
        "0.3",
        "--error-rate",
        "0.1",
        "--retry-after",
        "0",
        "--seed",
        "5",
        "--latency-ms",
        "2",
    ]);
    let plan = roster(
        dir.path(),
        &[
            "plan",
            "-v",
            "--detailed-exitcode",
            "--sandbox-url",
            &flaky.url,
            "--state",
            state,
        ],
        &env,
    );
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stderr.contains("retrying"),
        "faults were injected and retried:\n{}",
        plan.stderr
    );
    assert!(
        plan.stdout
            .starts_with("Plan: 4 to create, 5 to update, 3 to delete.\n")
    );
    assert!(flaky.stop());

    let broken = SandboxProcess::start(&["--error-rate", "1.0"]);
    let plan = roster(
        dir.path(),
        &["plan", "--sandbox-url", &broken.url, "--state", state],
        &env,
    );
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr.starts_with(
            "error: could not read the live state:\n  site `acme`: list users: HTTP 50"
        ),
        "{}",
        plan.stderr
    );
    assert!(broken.stop());
}

/// Reads are always safe to retry, the token request included: a plan goes
/// through although a third of all requests fail, and no seed fails it.
#[test]
fn a_plan_goes_through_when_a_third_of_requests_fail_tokens_included() {
    let env = [
        ("SIGMA_ID", "acme-sigma"),
        ("SIGMA_SECRET", "sandbox-sigma-secret"),
        ("ROSTER_RETRY_BASE_MS", "1"),
    ];
    let mut token_faults = 0;
    for seed in 0..12 {
        let (data, _, _) = sigma_case("http://127.0.0.1:1");
        let sb = BackgroundSandbox::start_with(
            data,
            Options {
                faults: Faults {
                    error_rate: 0.2,
                    throttle_rate: 0.1,
                    drop_rate: 0.0,
                    retry_after_secs: 0,
                    seed,
                },
                ..Options::default()
            },
        )
        .unwrap();
        let (_, files, _) = sigma_case(&sb.url);
        let dir = state_dir(&[("state.toml", files[0].1.as_str())]);
        let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &env);
        assert_eq!(plan.code, 2, "seed {seed}: {}", plan.all());
        token_faults += sb
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.path == "/v2/auth/token" && r.status != 200)
            .count();
    }
    assert!(token_faults >= 2, "{token_faults} token requests failed");
}
