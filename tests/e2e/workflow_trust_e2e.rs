//! What the GitHub workflows trust, checked on the workflow files themselves.
//! Any workflow that runs a pull request's code can upload artifacts named
//! like the reviewed plan, so apply.yml's `SELECT_RUN` (the jq program that
//! picks the run whose plans are applied) is run with `jq` over runs GitHub
//! could return, forged ones among them; its find-plan step runs end to end
//! against a stub `gh`; and parsing every workflow shows that each artifact
//! is downloaded into a directory of its own and that roster runs only after
//! its SHA-256 matched the one its build job computed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

const REPO: &str = "acme/roster";
/// The merged pull request's last commit.
const HEAD: &str = "1111111111111111111111111111111111111111";
/// The commit merged to main (the push apply.yml runs for).
const MERGED: &str = "3333333333333333333333333333333333333333";
/// A commit of main: the plan.yml a genuine `pull_request_target` run ran.
const MAIN_COMMIT: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workflow(name: &str) -> Yaml {
    let path = repo_root().join(".github/workflows").join(name);
    let text = std::fs::read_to_string(&path).expect("the workflow file reads");
    YamlLoader::load_from_str(&text)
        .expect("the workflow is YAML")
        .into_iter()
        .next()
        .expect("the workflow holds a document")
}

fn steps(job: &Yaml) -> &[Yaml] {
    job["steps"].as_vec().map_or(&[], Vec::as_slice)
}

fn text<'a>(yaml: &'a Yaml, what: &str) -> &'a str {
    yaml.as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {yaml:?}"))
}

/// apply.yml's find-plan step.
fn find_step() -> Yaml {
    let wf = workflow("apply.yml");
    steps(&wf["jobs"]["find-plan"])
        .iter()
        .find(|s| s["id"].as_str() == Some("find"))
        .cloned()
        .expect("apply.yml's find-plan job has a step with id `find`")
}

fn select_run_program() -> String {
    text(&find_step()["env"]["SELECT_RUN"], "find-plan's SELECT_RUN").to_owned()
}

/// Runs `jq ARGS` over `input`; `jq` is a tool of the GitHub runners and of
/// `.ci/run` (which installs it when missing).
fn jq(args: &[&str], input: &str) -> String {
    let mut child = Command::new("jq")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jq is installed (.ci/run installs it)");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), input.as_bytes())
        .expect("jq reads its input");
    let out = child.wait_with_output().expect("jq runs");
    assert!(
        out.status.success(),
        "jq failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("jq prints UTF-8")
}

/// `SELECT_RUN` over these candidate runs, as the find-plan step runs it.
fn select(candidates: &[Value]) -> (Option<u64>, String) {
    let input = Value::Array(candidates.to_vec()).to_string();
    let program = select_run_program();
    let out = jq(
        &["-c", "--arg", "repo", REPO, "--arg", "head", HEAD, &program],
        &input,
    );
    let choice: Value = serde_json::from_str(out.trim()).expect("SELECT_RUN prints JSON");
    let why = choice["why"].as_str().expect("a `why`").to_owned();
    (choice["run_id"].as_u64(), why)
}

/// A successful run of plan.yml on `pull_request_target` that reviewed
/// HEAD: the mark and the site's plan, GitHub's answers for it.
fn genuine(id: u64, started: &str) -> Value {
    json!({
        "run": {
            "id": id,
            "path": ".github/workflows/plan.yml",
            "event": "pull_request_target",
            "status": "completed",
            "conclusion": "success",
            // On pull_request_target, the base branch's commit and branch.
            "head_sha": MAIN_COMMIT,
            "head_branch": "main",
            "created_at": started,
            "run_started_at": started,
            "repository": { "full_name": REPO },
            "head_repository": { "full_name": REPO },
            "pull_requests": []
        },
        "artifacts": [
            { "name": "roster-plan-acme", "expired": false },
            { "name": format!("roster-reviewed-{HEAD}"), "expired": false }
        ],
        "compare": "ahead"
    })
}

/// `base` with the values at these JSON pointers replaced.
fn but(mut base: Value, changes: &[(&str, Value)]) -> Value {
    for (pointer, value) in changes {
        *base
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} is in the fixture")) = value.clone();
    }
    base
}

/// Runs that hold artifacts named like the reviewed plan but must never be
/// applied, each with the reason SELECT_RUN gives.
fn forged_runs() -> Vec<(Value, &'static str)> {
    let at = "2030-01-01T12:00:00Z";
    vec![
        (
            // ci.yml on the pull request, uploading the same artifact names.
            but(
                genuine(201, at),
                &[
                    ("/run/path", json!(".github/workflows/ci.yml")),
                    ("/run/event", json!("pull_request")),
                    ("/run/head_sha", json!(HEAD)),
                    ("/run/head_branch", json!("feature")),
                ],
            ),
            "was made by .github/workflows/ci.yml, not .github/workflows/plan.yml, \
             was triggered by pull_request, not pull_request_target",
        ),
        (
            // plan.yml itself, but on `pull_request`: the pull request's copy.
            but(genuine(202, at), &[("/run/event", json!("pull_request"))]),
            "was triggered by pull_request, not pull_request_target",
        ),
        (
            // A genuine plan run of another commit of the pull request.
            but(
                genuine(203, at),
                &[(
                    "/artifacts/1/name",
                    json!("roster-reviewed-2222222222222222222222222222222222222222"),
                )],
            ),
            "holds no roster-reviewed-1111111111111111111111111111111111111111 mark",
        ),
        (
            // A fork's pull request.
            but(
                genuine(204, at),
                &[("/run/head_repository/full_name", json!("mallory/roster"))],
            ),
            "planned a fork (mallory/roster)",
        ),
        (
            // A run in another repository.
            but(
                genuine(205, at),
                &[("/run/repository/full_name", json!("mallory/roster"))],
            ),
            "belongs to mallory/roster, not acme/roster",
        ),
        (
            // A plan run whose sites did not all plan.
            but(genuine(206, at), &[("/run/conclusion", json!("failure"))]),
            "did not succeed (failure)",
        ),
        (
            // plan.yml as changed on another branch, which a pull request
            // targeted: its head_sha is not in main's history.
            but(
                genuine(207, at),
                &[
                    (
                        "/run/head_sha",
                        json!("4444444444444444444444444444444444444444"),
                    ),
                    ("/run/head_branch", json!("evil")),
                    ("/compare", json!("diverged")),
                ],
            ),
            "ran a plan.yml main never held (commit 4444444444444444444444444444444444444444: diverged)",
        ),
        (
            // The mark has expired.
            but(genuine(208, at), &[("/artifacts/1/expired", json!(true))]),
            "holds no roster-reviewed-1111111111111111111111111111111111111111 mark",
        ),
    ]
}

#[test]
fn select_run_takes_the_newest_genuine_plan_run_over_every_forged_one() {
    let older = genuine(101, "2030-01-01T09:00:00Z");
    let newer = genuine(102, "2030-01-01T10:00:00Z");
    let mut runs = vec![older.clone(), newer.clone()];
    // Every forged run is newer than the genuine ones.
    runs.extend(forged_runs().into_iter().map(|(run, _)| run));
    assert_eq!(select(&runs), (Some(102), String::new()));
    runs.reverse();
    assert_eq!(select(&runs).0, Some(102), "the order GitHub lists them in");
    // A re-run of the older one started later is the newest plan.
    let rerun = but(
        older,
        &[("/run/run_started_at", json!("2030-01-01T11:00:00Z"))],
    );
    assert_eq!(select(&[newer, rerun]).0, Some(101));
}

#[test]
fn select_run_refuses_each_forged_run_naming_the_check_it_failed() {
    for (run, reason) in forged_runs() {
        let id = run["run"]["id"].as_u64().expect("an id");
        let (chosen, why) = select(std::slice::from_ref(&run));
        assert_eq!(chosen, None, "run {id} ({reason}) was accepted");
        assert_eq!(why, format!("run {id} {reason}"), "run {id}");
    }
    let (chosen, why) = select(&[]);
    assert_eq!(chosen, None);
    assert_eq!(
        why,
        format!("no run holds a roster-reviewed-{HEAD} artifact")
    );
}

#[test]
fn select_run_shows_names_a_forger_chose_only_in_harmless_characters() {
    let run = but(
        genuine(301, "2030-01-01T12:00:00Z"),
        &[(
            "/run/path",
            json!(".github/workflows/x.yml\n::set-output name=run-id::7`<b>"),
        )],
    );
    let (chosen, why) = select(&[run]);
    assert_eq!(chosen, None);
    assert_eq!(
        why,
        "run 301 was made by .github/workflows/x.yml???set-output?name?run-id??7??b?, \
         not .github/workflows/plan.yml"
    );
}

/// A stub of `gh api [--paginate] PATH [--jq EXPR]` answering from files
/// under `$GH_FIXTURES` (the path with every other character than letters
/// and digits made `_`), as GitHub would: 404 for anything else.
const GH_STUB: &str = r#"#!/usr/bin/env bash
[ "$1" = api ] || { echo "stub gh: only api" >&2; exit 2; }
shift
expr=.
path=
while [ $# -gt 0 ]; do
  case "$1" in
    --paginate) ;;
    --jq) expr=$2; shift ;;
    *) path=$1 ;;
  esac
  shift
done
echo "$path" >> "$GH_FIXTURES/calls"
file="$GH_FIXTURES/$(printf %s "$path" | tr -c 'A-Za-z0-9' '_')"
if [ ! -f "$file" ]; then
  echo '{"message":"Not Found","status":"404"}'
  exit 1
fi
jq -r "$expr" "$file"
"#;

fn fixture_name(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// GitHub's answers for a push of MERGED, which merged pull request 7
/// (head HEAD), where these runs hold artifacts named `roster-reviewed-HEAD`.
fn github_answers(dir: &Path, runs: &[Value]) {
    let mut answers = vec![
        (
            format!("repos/{REPO}/commits/{MERGED}/pulls"),
            json!([{ "number": 7, "merged_at": "2030-01-02T00:00:00Z" }]),
        ),
        (
            format!("repos/{REPO}/pulls/7"),
            json!({ "head": { "sha": HEAD } }),
        ),
        (
            format!("repos/{REPO}/actions/artifacts?name=roster-reviewed-{HEAD}&per_page=100"),
            json!({ "artifacts": runs.iter().map(|r| json!({
                "name": format!("roster-reviewed-{HEAD}"),
                "expired": false,
                "workflow_run": { "id": r["run"]["id"] }
            })).collect::<Vec<_>>() }),
        ),
    ];
    for r in runs {
        let id = &r["run"]["id"];
        answers.push((format!("repos/{REPO}/actions/runs/{id}"), r["run"].clone()));
        answers.push((
            format!("repos/{REPO}/actions/runs/{id}/artifacts?per_page=100"),
            json!({ "artifacts": r["artifacts"] }),
        ));
        let sha = r["run"]["head_sha"].as_str().expect("a head_sha");
        answers.push((
            format!("repos/{REPO}/compare/{sha}...{MERGED}"),
            json!({ "status": r["compare"] }),
        ));
    }
    for (path, answer) in answers {
        std::fs::write(dir.join(fixture_name(&path)), answer.to_string()).expect("fixture");
    }
}

/// Runs the find-plan step's script as GitHub would (bash -eo pipefail) with
/// the stub `gh`; returns what it wrote to `$GITHUB_OUTPUT`.
fn run_find_step(runs: &[Value]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    let gh = bin.join("gh");
    std::fs::write(&gh, GH_STUB).expect("the stub gh");
    let mut perms = std::fs::metadata(&gh).expect("gh").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&gh, perms).expect("gh is executable");
    github_answers(dir.path(), runs);
    let output = dir.path().join("github-output");
    let step = find_step();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(text(&step["run"], "find-plan's script"))
        .env("PATH", path)
        .env("GH_FIXTURES", dir.path())
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_TEMP", dir.path())
        .env("GH_TOKEN", "unused")
        .env("REPO", REPO)
        .env("SHA", MERGED)
        .env("EVENT", "push")
        .env("RUN_ID", "999")
        .env("SELECT_RUN", select_run_program())
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the find step failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&output).expect("the step wrote its outputs")
}

#[test]
fn the_find_plan_step_hands_on_only_a_genuine_run_and_says_why_otherwise() {
    let genuine_run = genuine(102, "2030-01-01T10:00:00Z");
    let forged: Vec<Value> = forged_runs().into_iter().map(|(run, _)| run).collect();
    let mut all = vec![genuine_run];
    all.extend(forged.iter().cloned());
    assert_eq!(run_find_step(&all), "pr=7\nrun-id=102\n");

    let only_forged = run_find_step(&forged);
    let mut lines = only_forged.lines();
    assert_eq!(lines.next(), Some("pr=7"));
    let why = lines.next().expect("a `why` output");
    assert_eq!(lines.next(), None, "no run-id: {only_forged}");
    assert!(
        why.starts_with(&format!(
            "why=No run of plan.yml on pull_request_target reviewed the last commit of #7 \
             ({HEAD}), so nothing is applied: run 201 was made by .github/workflows/ci.yml"
        )),
        "{why}"
    );
    for (run, reason) in forged_runs() {
        let id = &run["run"]["id"];
        assert!(why.contains(&format!("run {id} {reason}")), "{id}: {why}");
    }

    // The report job puts that reason in its comment.
    let wf = workflow("apply.yml");
    assert_eq!(
        wf["jobs"]["find-plan"]["outputs"]["why"].as_str(),
        Some("${{ steps.find.outputs.why }}")
    );
    let report = steps(&wf["jobs"]["report"])
        .iter()
        .find(|s| !s["env"]["WHY"].is_badvalue())
        .expect("the report job's comment step reads WHY");
    assert_eq!(
        report["env"]["WHY"].as_str(),
        Some("${{ needs.find-plan.outputs.why }}")
    );
    assert!(text(&report["with"]["script"], "the report script").contains("process.env.WHY"));
}

fn uses(step: &Yaml, action: &str) -> bool {
    step["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with(&format!("{action}@")))
}

fn workflow_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join(".github/workflows"))
        .expect("the workflows directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_artifact_is_downloaded_into_a_directory_of_its_own() {
    let mut downloads = 0;
    for name in workflow_names() {
        let wf = workflow(&name);
        for (job_name, job) in wf["jobs"].as_hash().expect("jobs") {
            let job_name = text(job_name, "a job name");
            for step in steps(job)
                .iter()
                .filter(|s| uses(s, "actions/download-artifact"))
            {
                downloads += 1;
                let place = format!("{name}, job {job_name}");
                let path = step["with"]["path"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{place}: a download without a path"));
                assert!(
                    !path.is_empty()
                        && path
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_'),
                    "{place}: `{path}` is not one plain directory name"
                );
                assert!(
                    !repo_root().join(path).exists(),
                    "{place}: `{path}` is a directory of the checkout"
                );
            }
        }
    }
    assert!(downloads >= 8, "only {downloads} downloads found");

    // The reviewed plan: from the run find-plan checked, into reviewed/,
    // and only reviewed/plan-SITE.json is applied.
    let wf = workflow("apply.yml");
    let job = &wf["jobs"]["apply"];
    let plan = steps(job)
        .iter()
        .find(|s| s["with"]["name"].as_str() == Some("roster-plan-${{ matrix.site }}"))
        .expect("the apply job downloads the reviewed plan");
    assert_eq!(
        plan["with"]["run-id"].as_str(),
        Some("${{ needs.find-plan.outputs.run-id }}")
    );
    assert_eq!(plan["with"]["path"].as_str(), Some("reviewed"));
    let script = text(&apply_step(job)["run"], "the apply script");
    assert!(
        script.contains("plan=\"reviewed/plan-$SITE.json\""),
        "{script}"
    );
    assert!(script.contains("bin/roster apply \"$plan\""), "{script}");
}

fn apply_step(job: &Yaml) -> &Yaml {
    steps(job)
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains(" apply ")))
        .expect("a step that runs roster apply")
}

/// The lines of `script` that run roster (not cargo's build of it).
fn roster_commands(script: &str) -> Vec<(usize, &str)> {
    script
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            !l.starts_with('#')
                && !l.contains("target/release/roster")
                && l.split_whitespace()
                    .any(|w| w == "roster" || w.ends_with("/roster"))
                && !l.starts_with("echo \"$ROSTER_SHA256")
        })
        .collect()
}

#[test]
fn roster_runs_only_once_its_sha256_matches_its_build_job() {
    let mut checked = 0;
    for name in ["apply.yml", "plan.yml", "drift.yml"] {
        let wf = workflow(name);
        let build = &wf["jobs"]["build"];
        assert_eq!(
            build["outputs"]["roster-sha256"].as_str(),
            Some("${{ steps.sum.outputs.sha256 }}"),
            "{name}: the build job's output"
        );
        let sum = steps(build)
            .iter()
            .position(|s| s["id"].as_str() == Some("sum"))
            .unwrap_or_else(|| panic!("{name}: the build job's `sum` step"));
        let built = steps(build)
            .iter()
            .position(|s| s["run"].as_str().is_some_and(|r| r.contains("cargo build")))
            .expect("a build step");
        assert!(built < sum, "{name}: summed before it was built");
        assert!(
            text(&steps(build)[sum]["run"], "sum").contains("sha256sum target/release/roster"),
            "{name}"
        );
        for (job_name, job) in wf["jobs"].as_hash().expect("jobs") {
            let job_name = text(job_name, "a job name");
            let Some(binary) = steps(job).iter().position(|s| {
                uses(s, "actions/download-artifact")
                    && s["with"]["name"].as_str() == Some("roster-binary")
            }) else {
                continue;
            };
            let place = format!("{name}, job {job_name}");
            assert_eq!(
                steps(job)[binary]["with"]["path"].as_str(),
                Some("bin"),
                "{place}"
            );
            for (i, step) in steps(job).iter().enumerate() {
                let Some(script) = step["run"].as_str() else {
                    continue;
                };
                let commands = roster_commands(script);
                if commands.is_empty() {
                    continue;
                }
                assert!(i > binary, "{place}: roster runs before it is downloaded");
                assert_eq!(
                    step["env"]["ROSTER_SHA256"].as_str(),
                    Some("${{ needs.build.outputs.roster-sha256 }}"),
                    "{place}"
                );
                let check = script
                    .lines()
                    .position(|l| {
                        l.contains(
                            "echo \"$ROSTER_SHA256  bin/roster\" | sha256sum --check --strict",
                        )
                    })
                    .unwrap_or_else(|| panic!("{place}: roster runs unchecked:\n{script}"));
                for (line, command) in commands {
                    assert!(line > check, "{place}: `{command}` runs before the check");
                    assert!(
                        !command.contains("./roster"),
                        "{place}: `{command}` runs a roster from the workspace"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4, "the steps that run a downloaded roster");
}
