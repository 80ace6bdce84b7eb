//! Interrupts and the apply lock, through the binary: Ctrl-C or SIGTERM
//! mid-apply against a slow sandbox stops starting changes, reports every
//! change and exits 130, and a rerun converges with nobody created twice; a
//! second Ctrl-C exits at once naming what was under way; `roster sandbox
//! --save` keeps what it accepted when terminated; two applies never run at
//! once, and a stale lock is removed with `roster force-unlock`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use roster::sandbox::{Options, PeriscopeSite, SandboxData};

const KEY: (&str, &str) = ("ACME_KEY", "sandbox-periscope-key");
const NEW: usize = 20;

/// A sandbox whose site `acme` holds only its administrator, answering
/// every request after `latency`.
fn slow_sandbox(latency: Duration) -> BackgroundSandbox {
    let mut data = SandboxData::default();
    data.periscope.insert(
        "acme".into(),
        PeriscopeSite::new("sandbox-periscope-key", "admin@acme.com"),
    );
    BackgroundSandbox::start_with(
        data,
        Options {
            latency,
            ..Options::default()
        },
    )
    .unwrap()
}

/// The state: the administrator and `NEW` people to create.
fn state_text(url: &str) -> String {
    let mut s = periscope_site(url, "ACME_KEY");
    s += "\n[[users]]\nemail = \"admin@acme.com\"\nfirst_name = \"Site\"\nlast_name = \"Admin\"\ngroups = [\"Administrators\"]\n";
    for i in 0..NEW {
        s += &format!(
            "\n[[users]]\nemail = \"n{i:02}@acme.com\"\nfirst_name = \"N\"\nlast_name = \"{i}\"\n"
        );
    }
    s
}

fn state(url: &str) -> tempfile::TempDir {
    state_dir(&[("roster.toml", &state_text(url))])
}

/// A roster process whose stderr is read as it comes.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Running {
    fn start(cwd: &std::path::Path, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .current_dir(cwd)
            .args(args)
            .env_remove("ROSTER_STATE")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env(KEY.0, KEY.1)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (pipe, sink) = (child.stderr.take().unwrap(), stderr.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Running {
            child,
            stderr,
            reader,
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sends a signal to our own child.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    fn wait_for_stderr(&self, text: &str) {
        wait_until(&format!("stderr to show {text:?}"), || {
            self.stderr.lock().unwrap().contains(text)
        });
    }

    fn finish(self) -> Output {
        let out = self.child.wait_with_output().unwrap();
        self.reader.join().unwrap();
        let stderr = self.stderr.lock().unwrap().clone();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        }
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Users created on the sandbox (POSTs answered 2xx).
fn creates(sb: &BackgroundSandbox) -> usize {
    writes(sb)
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/users" && r.status < 300)
        .count()
}

/// The emails of `  ok      user E created` lines.
fn reported_created(stdout: &str) -> Vec<String> {
    let mut v: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  ok      user "))
        .filter_map(|l| l.strip_suffix(" created"))
        .map(String::from)
        .collect();
    v.sort();
    v
}

fn first_signal_notice(name: &str) -> Vec<String> {
    (0..=2)
        .map(|n| {
            format!(
                "{name}: no new change is started; waiting for the {n} change{} under way to finish (at most 30 s), then reporting. Press Ctrl-C again to exit at once.",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

/// Interrupts an apply of `NEW` creates with `sig` after a few were
/// answered; checks the report, the exit code and the live state, then
/// that a rerun finishes the job creating nobody twice.
fn interrupted_apply_reports_and_a_rerun_converges(sig: i32, name: &str) {
    let sb = slow_sandbox(Duration::from_millis(250));
    let dir = state(&sb.url);
    let apply = Running::start(dir.path(), &["apply", "--yes", "--concurrency", "2"]);
    wait_until("four users created", || creates(&sb) >= 4);
    apply.signal(sig);
    let out = apply.finish();
    assert_eq!(out.code, 130, "{}", out.all());

    // Every change is in the report, and what it says was created is live.
    let created = reported_created(&out.stdout);
    let live: Vec<String> = live_emails(&sb)
        .into_iter()
        .filter(|e| e != "admin@acme.com")
        .collect();
    assert_eq!(created, live, "{}", out.stdout);
    let applied = created.len();
    assert!((4..NEW).contains(&applied), "{}", out.stdout);
    let not_started: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  not started user n"))
        .collect();
    assert_eq!(applied + not_started.len(), NEW, "{}", out.stdout);
    assert!(
        not_started
            .iter()
            .all(|l| l.ends_with("@acme.com: the apply was interrupted first")),
        "{not_started:?}"
    );
    assert!(out.stdout.ends_with(&format!(
        "Apply interrupted: {applied} applied, 0 failed, 0 skipped, {} not started.\nRun `roster plan` to see what is left, then `roster apply` again to finish.\n",
        NEW - applied
    )), "{}", out.stdout);
    let notice = out.stderr.lines().find(|l| l.starts_with(name)).unwrap();
    assert!(
        first_signal_notice(name).iter().any(|n| n == notice),
        "{notice}"
    );
    assert!(
        out.stderr.ends_with(&format!(
            "error: apply interrupted: {} of {NEW} changes not started; see the report above\n",
            NEW - applied
        )),
        "{}",
        out.stderr
    );
    assert_eq!(creates(&sb), applied, "no create was sent after the report");

    let rerun = roster(dir.path(), &["apply", "--yes"], &[KEY]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    assert!(rerun.stdout.ends_with(&format!(
        "Apply finished: {} applied, 0 failed, 0 skipped.\n",
        NEW - applied
    )));
    assert_eq!(live_emails(&sb).len(), NEW + 1);
    assert_eq!(creates(&sb), NEW, "nobody was created twice");
    let plan = roster(dir.path(), &["plan", "--detailed-exitcode"], &[KEY]);
    assert_eq!(plan.code, 0, "{}", plan.all());
}

#[test]
fn sigint_mid_apply_reports_every_change_exits_130_and_a_rerun_converges() {
    interrupted_apply_reports_and_a_rerun_converges(libc::SIGINT, "Interrupted (SIGINT)");
}

#[test]
fn sigterm_mid_apply_reports_every_change_exits_130_and_a_rerun_converges() {
    interrupted_apply_reports_and_a_rerun_converges(libc::SIGTERM, "Terminated (SIGTERM)");
}
