//! End to end: live names an attacker controls (group names, first names)
//! go through the built binary's text plan (piped and on a pseudo-terminal),
//! markdown comment and apply report, and each change is still shown once,
//! on its own line, with nothing a name holds acting on the output.

use crate::common::*;
use roster::escape;

const KEY_ENV: &str = "ESCAPE_E2E_KEY";

/// Names an admin of the BI site may give a group or a person.
const HOSTILE: &[&str] = &[
    "Contractors\n```\n\n</details>\n\n<details open><summary><b>zeta</b> (periscope): no changes</summary>…<!--",
    "Vendors\r```\r\r</details>\r\r<details open><summary><b>zeta</b> (periscope): no changes</summary>…<!--",
    "<img src=x>",
    "[link](http://x)",
    "@octocat",
    "\u{1b}[H\u{1b}[2J No changes",
    "\r\u{1b}[3A\u{1b}[J",
    "Finance\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}Admins",
    "evil\u{202e}gpj.exe",
    "zero\u{200b}\u{200d}\u{2060}\u{feff}width",
    "ticks ```` and | pipes & \"quotes\"",
];

/// A sandbox whose site `acme` holds, for each name, a group of that name
/// and a person `mallory{i}` whose first name it is and who is in it.
fn sandbox_with(name: impl Fn(usize) -> String) -> BackgroundSandbox {
    let mut data: serde_json::Value = serde_json::from_str(persist::SEED).unwrap();
    let site = &mut data["periscope"]["acme"];
    for i in 0..HOSTILE.len() {
        site["groups"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({ "name": name(i), "access": "view" }));
        site["users"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "email": format!("mallory{i}@acme.com"),
                "first_name": name(i),
                "last_name": "M",
                "groups": ["All Users", name(i)],
            }));
    }
    let key = site["api_key"].as_str().unwrap().to_string();
    assert_eq!(key, "sandbox-periscope-key");
    BackgroundSandbox::start(serde_json::from_value(data).unwrap()).unwrap()
}

/// The state: every `mallory{i}` declared as Mallory in Analysts, the rest
/// of the seed's people and groups not declared (deleted, acknowledged).
fn state_for(url: &str) -> tempfile::TempDir {
    let mut toml = periscope_site(url, KEY_ENV);
    toml.push_str("allow_removals = 10\nallow_group_deletions = 14\n");
    toml.push_str("\n[[groups]]\nname = \"Analysts\"\naccess = \"discovery\"\n");
    for i in 0..HOSTILE.len() {
        toml.push_str(&format!(
            "\n[[users]]\nemail = \"mallory{i}@acme.com\"\nfirst_name = \"Mallory\"\nlast_name = \"M\"\ngroups = [\"Analysts\"]\n"
        ));
    }
    state_dir(&[("roster.toml", &toml)])
}

fn hostile(i: usize) -> String {
    HOSTILE[i].to_string()
}

fn plain(i: usize) -> String {
    format!("plain{i}")
}

fn run(dir: &tempfile::TempDir, args: &[&str]) -> Output {
    roster(dir.path(), args, &[(KEY_ENV, "sandbox-periscope-key")])
}

/// No control character but SGR colour, no bidi or zero-width character.
fn assert_inert(out: &str, what: &str) {
    let stripped = console::strip_ansi_codes(out);
    for line in stripped.lines() {
        let line = line.trim_end_matches('\r'); // a pty ends lines in CRLF
        assert!(
            !line.chars().any(|c| c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}')),
            "{what}: a raw control, bidi or zero-width character in {line:?}"
        );
    }
    let mut rest = out;
    while let Some(at) = rest.find('\u{1b}') {
        let seq = &rest[at..];
        let end = seq.find('m').unwrap_or(seq.len() - 1);
        assert!(
            seq.get(1..2) == Some("[")
                && seq[2..end].chars().all(|c| c.is_ascii_digit() || c == ';'),
            "{what}: a non-colour escape sequence {:?}",
            &seq[..=end]
        );
        rest = &seq[end + 1..];
    }
}

/// The hostile output has the plain output's lines, in the same places.
fn assert_same_shape(hostile: &str, plain: &str, what: &str) {
    let h: Vec<String> = hostile
        .lines()
        .map(|l| console::strip_ansi_codes(l).into_owned())
        .collect();
    let p: Vec<String> = plain
        .lines()
        .map(|l| console::strip_ansi_codes(l).into_owned())
        .collect();
    assert_eq!(
        h.len(),
        p.len(),
        "{what}: line count\n{hostile}\n---\n{plain}"
    );
    for (a, b) in h.iter().zip(&p) {
        if a.starts_with("```") && b.starts_with("```") {
            continue;
        }
        let cut = b.find("plain").unwrap_or(b.len()).min(8);
        assert_eq!(
            a.get(..cut),
            b.get(..cut),
            "{what}: {a:?} is where {b:?} is"
        );
    }
}

/// Each name's group deletion and person's update is shown exactly once,
/// each on its own line.
fn assert_each_change_once(out: &str, what: &str) {
    let lines: Vec<String> = out
        .lines()
        .map(|l| console::strip_ansi_codes(l).into_owned())
        .collect();
    for (i, raw) in HOSTILE.iter().enumerate() {
        let delete = format!("- group {}  (not declared; deleted)", escape::text(raw));
        let found = lines
            .iter()
            .filter(|l| l.trim_start().trim_end_matches('\r') == delete)
            .count();
        assert_eq!(found, 1, "{what}: `{delete}` shown {found} times\n{out}");
        let update = format!("~ user  mallory{i}@acme.com");
        let found = lines
            .iter()
            .filter(|l| l.trim_start().trim_end_matches('\r') == update)
            .count();
        assert_eq!(found, 1, "{what}: `{update}` shown {found} times\n{out}");
        let name = format!("first_name: {} → \"Mallory\"", escape::quoted(raw));
        let stripped = console::strip_ansi_codes(out);
        assert_eq!(stripped.matches(&name).count(), 1, "{what}: {name}\n{out}");
    }
}

#[test]
fn hostile_names_through_the_piped_text_plan() {
    let (sb, pb) = (sandbox_with(hostile), sandbox_with(plain));
    let (dir, pdir) = (state_for(&sb.url), state_for(&pb.url));
    let out = run(&dir, &["plan"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let plain_out = run(&pdir, &["plan"]);
    assert_inert(&out.stdout, "text");
    assert_same_shape(&out.stdout, &plain_out.stdout, "text");
    assert_each_change_once(&out.stdout, "text");
    assert!(
        out.stdout
            .starts_with("Plan: 0 to create, 11 to update, 24 to delete.\n")
    );
    assert!(
        out.stdout
            .contains("  - group \\x1b[H\\x1b[2J No changes  (not declared; deleted)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  - group evil\\u{202e}gpj.exe  (not declared; deleted)\n")
    );
    assert!(
        out.stdout
            .contains("      groups: +Analysts -\\r\\x1b[3A\\x1b[J\n")
    );
    assert!(only_reads(&sb));
}

#[test]
fn hostile_names_through_the_text_plan_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("util-linux `script` is needed to run roster on a pseudo-terminal");
    }
    let (sb, pb) = (sandbox_with(hostile), sandbox_with(plain));
    let on_tty = |url: &str| {
        let dir = state_for(url);
        // stdout on the terminal; stderr (the progress spinner) apart.
        let cmd = format!("{} plan 2>stderr.txt", env!("CARGO_BIN_EXE_roster"));
        let out = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .env(KEY_ENV, "sandbox-periscope-key")
            .env_remove("NO_COLOR")
            .env_remove("RUST_LOG")
            .env("TERM", "xterm-256color")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
    };
    let out = on_tty(&sb.url);
    assert!(out.contains("\u{1b}["), "a terminal gets colour:\n{out}");
    assert_inert(&out, "terminal");
    assert_same_shape(&out, &on_tty(&pb.url), "terminal");
    assert_each_change_once(&out, "terminal");
}

#[test]
fn hostile_names_through_the_markdown_comment() {
    let (sb, pb) = (sandbox_with(hostile), sandbox_with(plain));
    let (dir, pdir) = (state_for(&sb.url), state_for(&pb.url));
    let out = run(&dir, &["plan", "--format", "markdown"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let md = out.stdout;
    let plain_md = run(&pdir, &["plan", "--format", "markdown"]).stdout;
    assert_inert(&md, "markdown");
    assert_same_shape(&md, &plain_md, "markdown");
    assert_each_change_once(&md, "markdown");
    // One code block, its fence longer than the names' backtick runs; what
    // the names hold inside it is text.
    assert_eq!(md.lines().filter(|l| l.starts_with("`````diff")).count(), 1);
    assert_eq!(md.lines().filter(|l| *l == "`````").count(), 1);
    let (before, rest) = md.split_once("`````diff\n").unwrap();
    let (_, after) = rest.split_once("\n`````\n").unwrap();
    assert_eq!(before.matches("<details").count(), 1, "{md}");
    assert_eq!(after.matches("</details>").count(), 1, "{md}");
    assert_eq!(
        before.matches("</details>").count() + after.matches("<details").count(),
        0
    );
    for outside in [before, after] {
        assert!(!outside.contains("<!--"), "an HTML comment opens:\n{md}");
        let data_free = outside
            .replace("<details open>", "")
            .replace("<details>", "")
            .replace("</details>", "")
            .replace("<summary>", "")
            .replace("</summary>", "")
            .replace("<b>", "")
            .replace("</b>", "")
            .replace("<sub>", "")
            .replace("</sub>", "");
        assert!(!data_free.contains('<'), "raw < outside the block:\n{md}");
        assert!(!data_free.contains("@octocat") && !data_free.contains("](http"));
    }
    assert!(md.ends_with("</sub>\n"), "the footer is last and visible");
}

#[test]
fn hostile_names_through_the_apply_report() {
    let (sb, pb) = (sandbox_with(hostile), sandbox_with(plain));
    let (dir, pdir) = (state_for(&sb.url), state_for(&pb.url));
    let out = run(&dir, &["apply", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let plain_out = run(&pdir, &["apply", "--yes"]);
    assert_inert(&out.stdout, "apply");
    assert_same_shape(&out.stdout, &plain_out.stdout, "apply");
    let report = out.stdout.split_once("\nsite acme\n").unwrap().1;
    for (i, raw) in HOSTILE.iter().enumerate() {
        let line = format!("  ok      group {} deleted\n", escape::text(raw));
        assert_eq!(report.matches(&line).count(), 1, "{line}\n{report}");
        let line = format!("  ok      user mallory{i}@acme.com updated\n");
        assert_eq!(report.matches(&line).count(), 1, "{line}\n{report}");
    }
    assert!(report.ends_with("Apply finished: 35 applied, 0 failed, 0 skipped.\n"));
    // The live state: the hostile groups are gone, every Mallory is renamed.
    let site = &sb.sandbox.data().periscope["acme"];
    assert!(
        site.groups
            .iter()
            .all(|g| !HOSTILE.contains(&g.name.as_str()))
    );
    for i in 0..HOSTILE.len() {
        let u = site
            .users
            .iter()
            .find(|u| u.email == format!("mallory{i}@acme.com"))
            .unwrap();
        assert_eq!(u.first_name, "Mallory");
    }
    let again = run(&dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
}

/// A plan error naming live objects keeps each name on its own line.
/// `apply --format markdown` (a job summary): the report after the plan is
/// one code block, so no name in it is read as markdown or HTML.
#[test]
fn hostile_names_through_a_markdown_apply_report() {
    let sb = sandbox_with(hostile);
    let dir = state_for(&sb.url);
    let out = run(&dir, &["apply", "--yes", "--format", "markdown"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let (plan, report) = out.stdout.rsplit_once("</sub>\n").unwrap();
    assert_inert(plan, "markdown plan");
    let report = report.trim_start_matches('\n');
    let fence = report.split_once("text\n").map_or_else(
        || panic!("the report opens a code block:\n{report}"),
        |(f, _)| f,
    );
    assert!(
        fence.len() >= 3 && fence.chars().all(|c| c == '`'),
        "{report}"
    );
    let body = report
        .strip_prefix(&format!("{fence}text\n"))
        .and_then(|r| r.strip_suffix(&format!("{fence}\n")))
        .unwrap_or_else(|| panic!("one block, closed last:\n{report}"));
    assert!(!body.contains(fence), "no longer backtick run inside");
    assert!(body.ends_with("Apply finished: 35 applied, 0 failed, 0 skipped.\n"));
    assert_inert(body, "markdown apply report");
}

#[test]
fn hostile_names_in_a_plan_error_are_escaped() {
    let name = "\u{1b}[2J\rNo changes: the live state matches the declared state.\n";
    let mut data: serde_json::Value = serde_json::from_str(persist::SEED).unwrap();
    let groups = data["periscope"]["acme"]["groups"].as_array_mut().unwrap();
    groups.push(serde_json::json!({ "name": "Ops", "access": "view" }));
    groups.push(serde_json::json!({ "name": name, "access": "view" }));
    let sb = BackgroundSandbox::start(serde_json::from_value(data).unwrap()).unwrap();
    let mut toml = periscope_site(&sb.url, KEY_ENV);
    toml.push_str(
        "\n[[groups]]\nname = \"Ops\"\naccess = \"view\"\nprevious_names = [\"\\u001b[2J\\rNo changes: the live state matches the declared state.\\n\"]\n",
    );
    let dir = state_dir(&[("roster.toml", &toml)]);
    let out = run(&dir, &["plan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(out.stdout, "");
    assert_inert(&out.stderr, "plan error");
    let shown = escape::text(name);
    assert_eq!(
        shown,
        "\\x1b[2J\\rNo changes: the live state matches the declared state.\\n"
    );
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("previous_names"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        line.starts_with("  site `acme`: group `Ops` lists `"),
        "{line}"
    );
    assert!(
        line.contains(&format!("both `Ops` and `{shown}` exist")),
        "{line}"
    );
    assert!(only_reads(&sb));
}

/// What a state file holds (a value, a key, its own file name) reaches the
/// terminal in validate's errors only as escapes, never as raw controls.
#[test]
fn values_keys_and_file_names_in_load_errors_reach_the_terminal_escaped() {
    let site =
        "[sites.acme]\nprovider = \"periscope\"\nsite = \"acme\"\napi_key = { env = \"K\" }\n";
    let person = "[[users]]\nemail = \"e@acme.com\"\nfirst_name = \"a\"\nlast_name = \"b\"\ngroups = [\"Nope\\u001b[31mRED\"]\n\"\\u001b[5mblink\" = 1\n";
    let dir = state_dir(&[("site.toml", site), ("bad\u{1b}[2Jname.toml", person)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        !out.all().contains('\u{1b}'),
        "a raw ESC reached the terminal: {:?}",
        out.all()
    );
    assert!(out.stderr.contains("Nope\\x1b[31mRED"), "{}", out.stderr);
    assert!(
        out.stderr.contains("bad\\x1b[2Jname.toml"),
        "{}",
        out.stderr
    );
}

/// `roster fmt` on a file that is not TOML names the place, and neither
/// quotes the line (it may hold a secret written inline) nor lets a
/// control character in it reach the terminal.
#[test]
fn fmt_reports_a_syntax_error_by_place_without_quoting_the_line() {
    let dir = state_dir(&[(
        "site.toml",
        "[sites.acme]\nprovider = \"periscope\"\napi_key = \"hunter2SECRETVALUE\" x\n# \u{1b}[2J\n",
    )]);
    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.all().contains("hunter2SECRETVALUE"), "{}", out.all());
    assert!(!out.all().contains('\u{1b}'), "{:?}", out.all());
    assert!(out.stderr.contains("site.toml:3:"), "{}", out.stderr);
}
