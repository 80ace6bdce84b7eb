//! Convergence as a property: for generated declared and live states
//! (names that differ only in case or Unicode normalisation, duplicates,
//! hostile display names), `roster apply` against the sandbox either
//! converges, so that the next plan is empty, or refuses before any write
//! with an error; and nobody is ever created twice.
//!
//! The cases are drawn from a fixed seed so CI is repeatable;
//! `PROPTEST_CASES=500 cargo test --test e2e convergence_e2e::` explores more.

use std::collections::BTreeMap;

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use roster::sandbox::SandboxData;
use serde_json::json;

/// People: a local part spelt in NFC; variants spell it other ways.
const PEOPLE: [&str; 5] = ["ada", "jos\u{e9}", "zo\u{eb}", "bob", "\u{c5}sa"];
/// Groups (teams on Sigma).
const GROUPS: [&str; 4] = ["Analysts", "Caf\u{e9}", "Data-Eng", "Finance"];
/// First names, some of them hostile to a terminal or a PR comment.
const FIRST_NAMES: [&str; 7] = [
    "Ada",
    "Zo\u{eb}",
    "<img src=x>",
    "x\u{202e}y",
    "```",
    "\u{1b}[2J",
    "a\nb",
];

/// How a name is spelt: as declared, in capitals, decomposed (NFD), or both.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    Plain,
    Upper,
    Decomposed,
    UpperDecomposed,
}

fn decompose(s: &str) -> String {
    s.replace('\u{e9}', "e\u{301}")
        .replace('\u{eb}', "e\u{308}")
        .replace('\u{c5}', "A\u{30a}")
        .replace('\u{c9}', "E\u{301}")
        .replace('\u{cb}', "E\u{308}")
}

fn spell(s: &str, how: Spelling) -> String {
    match how {
        Spelling::Plain => s.to_string(),
        Spelling::Upper => s.to_uppercase(),
        Spelling::Decomposed => decompose(s),
        Spelling::UpperDecomposed => decompose(&s.to_uppercase()),
    }
}

/// Who an email or group name belongs to, whatever its spelling: folds the
/// few letters the pools use (so this test owns its own rule).
fn identity(s: &str) -> String {
    s.to_lowercase()
        .replace(['\u{301}', '\u{308}', '\u{30a}'], "")
        .replace(['\u{e9}', '\u{eb}'], "e")
        .replace('\u{e5}', "a")
}

#[derive(Debug, Clone)]
struct Person {
    who: usize,
    spelling: Spelling,
    first: usize,
    groups: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Case {
    sigma: bool,
    declared_groups: Vec<(usize, Spelling)>,
    declared: Vec<Person>,
    live_groups: Vec<(usize, Spelling)>,
    live: Vec<Person>,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    prop_oneof![
        4 => Just(Spelling::Plain),
        1 => Just(Spelling::Upper),
        2 => Just(Spelling::Decomposed),
        1 => Just(Spelling::UpperDecomposed),
    ]
}

fn person() -> impl Strategy<Value = Person> {
    (
        0..PEOPLE.len(),
        spelling(),
        0..FIRST_NAMES.len(),
        proptest::collection::vec(0..GROUPS.len(), 0..3),
    )
        .prop_map(|(who, spelling, first, groups)| Person {
            who,
            spelling,
            first,
            groups,
        })
}

/// A case. Most are sites whose names the rules tell apart and, on
/// Periscope (whose API cannot carry non-ASCII emails), ASCII emails, so
/// that most cases are applied; the rest hold duplicates and non-ASCII
/// emails, which roster must refuse before writing.
fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        proptest::collection::vec((0..GROUPS.len(), spelling()), 0..4),
        proptest::collection::vec(person(), 0..4),
        proptest::collection::vec((0..GROUPS.len(), spelling()), 0..4),
        proptest::collection::vec(person(), 0..5),
        proptest::bool::weighted(0.25),
    )
        .prop_map(|(sigma, dg, declared, lg, live, messy)| {
            let mut case = Case {
                sigma,
                declared_groups: dg,
                declared,
                live_groups: lg,
                live,
            };
            if !messy {
                tidy(&mut case);
            }
            case
        })
}

/// No two live objects of one identity, and on Periscope ASCII people only.
fn tidy(case: &mut Case) {
    let mut seen = std::collections::BTreeSet::new();
    case.live_groups.retain(|(g, _)| seen.insert(*g));
    if !case.sigma {
        for p in case.declared.iter_mut().chain(case.live.iter_mut()) {
            p.who = [0, 3][p.who % 2];
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    case.live.retain(|p| seen.insert(p.who));
}

fn email(p: &Person) -> String {
    spell(&format!("{}@acme.com", PEOPLE[p.who]), p.spelling)
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The declared state: one site, the declared groups (the first spelling
/// of each), its administrator and the declared people (the first
/// spelling of each) in the groups that are declared.
fn state_text(case: &Case, url: &str) -> String {
    let mut groups: BTreeMap<usize, String> = BTreeMap::new();
    for (g, how) in &case.declared_groups {
        groups.entry(*g).or_insert_with(|| spell(GROUPS[*g], *how));
    }
    let mut out = if case.sigma {
        format!(
            "[sites.acme-sigma]\nprovider = \"sigma\"\nbase_url = \"{url}\"\n\
             client_id = {{ env = \"SIGMA_ID\" }}\nclient_secret = {{ env = \"SIGMA_SECRET\" }}\n"
        )
    } else {
        format!("{}\n", periscope_site(url, "ACME_KEY"))
    };
    for name in groups.values() {
        out += &format!("\n[[groups]]\nname = {}\n", toml_str(name));
        if !case.sigma {
            out += "access = \"view\"\n";
        }
    }
    out += if case.sigma {
        "\n[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Org\"\nlast_name = \"Admin\"\nmember_type = \"Admin\"\n"
    } else {
        "\n[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n"
    };
    let mut seen = std::collections::BTreeSet::new();
    for p in case.declared.iter().filter(|p| seen.insert(p.who)) {
        let member_of: Vec<String> = p
            .groups
            .iter()
            .filter_map(|g| groups.get(g))
            .map(|n| toml_str(n))
            .collect();
        out += &format!(
            "\n[[users]]\nemail = {}\nfirst_name = {}\nlast_name = \"L\"\ngroups = [{}]\n",
            toml_str(&email(p)),
            toml_str(FIRST_NAMES[p.first]),
            member_of.join(", ")
        );
        if case.sigma {
            out += "member_type = \"Creator\"\n";
        }
    }
    out
}

/// The live site: the seedless sandbox's administrator plus the case's
/// live people and groups, spelt as generated (duplicates included).
fn live_data(case: &Case) -> SandboxData {
    let groups: Vec<String> = case
        .live_groups
        .iter()
        .map(|(g, how)| spell(GROUPS[*g], *how))
        .collect();
    let group_of = |p: &Person| -> Vec<String> {
        p.groups
            .iter()
            .filter_map(|g| case.live_groups.iter().position(|(lg, _)| lg == g))
            .map(|i| groups[i].clone())
            .collect()
    };
    let value = if case.sigma {
        sigma_data(case, &groups, &group_of)
    } else {
        periscope_data(case, &groups, &group_of)
    };
    serde_json::from_value(value).unwrap()
}

fn sigma_data(
    case: &Case,
    groups: &[String],
    group_of: &dyn Fn(&Person) -> Vec<String>,
) -> serde_json::Value {
    let mut members = vec![json!({
        "member_id": "sbxm0", "email": "admin@acme.com", "first_name": "Org",
        "last_name": "Admin", "member_type": "Admin"
    })];
    let mut teams: Vec<serde_json::Value> = groups
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({ "team_id": format!("00000000-0000-4000-8000-{i:012x}"),
                    "name": name, "visibility": "public", "members": [] })
        })
        .collect();
    for (i, p) in case.live.iter().enumerate() {
        let id = format!("sbxm{}", i + 1);
        members.push(json!({
            "member_id": id, "email": email(p), "first_name": FIRST_NAMES[p.first],
            "last_name": "L", "member_type": "Creator"
        }));
        for name in group_of(p) {
            let t = groups.iter().position(|g| *g == name).unwrap();
            teams[t]["members"].as_array_mut().unwrap().push(json!(id));
        }
    }
    json!({ "sigma": { "acme-sigma": {
        "client_id": "acme-sigma", "client_secret": "sandbox-sigma-secret",
        "organization_id": "00000000-0000-4000-8000-000000000001",
        "credentials_owner": "sbxm0",
        "account_types": ["Admin", "Creator", "Explorer", "Viewer"],
        "members": members, "teams": teams, "next_id": 100
    }}})
}

fn periscope_data(
    case: &Case,
    groups: &[String],
    group_of: &dyn Fn(&Person) -> Vec<String>,
) -> serde_json::Value {
    let mut all_groups = vec![
        json!({ "name": "Administrators", "access": "sql" }),
        json!({ "name": "All Users", "access": "sql" }),
    ];
    all_groups.extend(
        groups
            .iter()
            .map(|name| json!({ "name": name, "access": "view" })),
    );
    let mut users = vec![json!({
        "email": "admin@acme.com", "first_name": "Site", "last_name": "Admin",
        "groups": ["Administrators", "All Users"]
    })];
    for p in &case.live {
        let mut g = group_of(p);
        g.push("All Users".into());
        users.push(json!({
            "email": email(p), "first_name": FIRST_NAMES[p.first],
            "last_name": "L", "groups": g
        }));
    }
    json!({ "periscope": { "acme": {
        "api_key": "sandbox-periscope-key", "groups": all_groups, "users": users
    }}})
}

/// How many live accounts each person has (active or not), by identity.
fn accounts(data: &SandboxData) -> BTreeMap<String, usize> {
    let emails: Vec<&str> = match (data.sigma.get("acme-sigma"), data.periscope.get("acme")) {
        (Some(org), _) => org.members.iter().map(|m| m.email.as_str()).collect(),
        (_, Some(site)) => site.users.iter().map(|u| u.email.as_str()).collect(),
        _ => Vec::new(),
    };
    let mut count = BTreeMap::new();
    for e in emails {
        *count.entry(identity(e)).or_insert(0) += 1;
    }
    count
}

const ENV: [(&str, &str); 3] = [
    ("SIGMA_ID", "acme-sigma"),
    ("SIGMA_SECRET", "sandbox-sigma-secret"),
    ("ACME_KEY", "sandbox-periscope-key"),
];

enum Outcome {
    Converged,
    Refused,
}

/// Runs one case; `Err` says what went wrong.
fn converges(case: &Case) -> Result<Outcome, String> {
    let before = live_data(case);
    let sb = BackgroundSandbox::start(before.clone()).map_err(|e| e.to_string())?;
    let state = state_text(case, &sb.url);
    let dir = state_dir(&[("roster.toml", &state)]);
    let apply = roster(
        dir.path(),
        &["apply", "--yes", "--sandbox-url", &sb.url],
        &ENV,
    );
    let context = || format!("state:\n{state}\napply:\n{}", apply.all());
    if apply.code != 0 {
        if !only_reads(&sb) {
            return Err(format!("apply failed after writing\n{}", context()));
        }
        if !apply.stderr.contains("error") {
            return Err(format!("apply refused without an error\n{}", context()));
        }
        if std::env::var_os("CONVERGENCE_SHOW_REFUSALS").is_some() {
            eprintln!(
                "refused: {}",
                apply.stderr.lines().take(2).collect::<Vec<_>>().join(" | ")
            );
        }
        return Ok(Outcome::Refused);
    }
    let plan = roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &ENV,
    );
    if plan.code != 0 {
        return Err(format!(
            "the plan after apply is not empty (exit {})\n{}\nplan:\n{}",
            plan.code,
            context(),
            plan.all()
        ));
    }
    let (was, now) = (accounts(&before), accounts(&sb.sandbox.data()));
    for (who, n) in &now {
        if *n > (*was.get(who).unwrap_or(&0)).max(1) {
            return Err(format!("{who} has {n} accounts now\n{}", context()));
        }
    }
    Ok(Outcome::Converged)
}

#[test]
fn every_plan_converges_or_refuses_before_writing() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let converged = std::cell::Cell::new(0u32);
    let result = runner.run(&case(), |case| {
        if let Outcome::Converged = converges(&case).map_err(TestCaseError::fail)? {
            converged.set(converged.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Refusing everything would pass the property without testing it.
    assert!(
        converged.get() * 2 >= cases,
        "only {} of {cases} cases were applied; the rest were refused",
        converged.get()
    );
}
