//! Bad input: every kind of problem gives exit 1, a located message with a
//! hint, and no request to any site.

use crate::common::*;

pub(crate) const SITE: &str = r#"[sites.acme]
provider = "periscope"
site = "acme"
api_key = { env = "ACME_KEY" }
invited_by = "admin@acme.com"
"#;

pub(crate) const SIGMA: &str = r#"[sites.acme-sigma]
provider = "sigma"
cloud = "aws-us-west"
client_id = { env = "SIGMA_ID" }
client_secret = { env = "SIGMA_SECRET" }
"#;

pub(crate) const ADA: &str = r#"[[users]]
email = "ada@acme.com"
first_name = "Ada"
last_name = "Lovelace"
"#;

struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    /// Lines stderr must hold, in order.
    expected: Vec<&'static str>,
}

fn case(name: &'static str, files: &[(&'static str, &str)], expected: &[&'static str]) -> Case {
    Case {
        name,
        files: files.iter().map(|(n, t)| (*n, t.to_string())).collect(),
        expected: expected.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "unknown key",
            &[
                ("site.toml", SITE),
                ("people.toml", &format!("{ADA}team = \"x\"\n")),
            ],
            &[
                "error: state/people.toml:5:1: user `ada@acme.com`: unknown field `team`, expected one of `email`, `first_name`, `last_name`, `groups`, `sites`, `member_type`, `active`, `previous_emails`, `overrides`, `kind`, `expires`, `attributes`",
                "  hint: remove the key or fix its spelling",
            ],
        ),
        case(
            "wrong type",
            &[
                ("site.toml", SITE),
                ("people.toml", &format!("{ADA}groups = \"Analysts\"\n")),
            ],
            &[
                "error: state/people.toml:5:10: user `ada@acme.com`: invalid type: string \"Analysts\", expected a sequence",
                "  hint: change the value to the type named above",
            ],
        ),
        case(
            "missing field",
            &[
                ("site.toml", SITE),
                (
                    "people.toml",
                    "[[users]]\nemail = \"ada@acme.com\"\nlast_name = \"L\"\n",
                ),
            ],
            &[
                "error: state/people.toml:1:1: user `ada@acme.com`: missing field `first_name`",
                "  hint: add the field to the entry",
            ],
        ),
        case(
            "invalid email",
            &[
                ("site.toml", SITE),
                ("people.toml", &ADA.replace("ada@acme.com", "ada.acme.com")),
            ],
            &[
                "error: state/people.toml:2:9: `ada.acme.com` is not a valid email address",
                "  hint: write the address the person signs in with, such as ada@example.com",
            ],
        ),
        case(
            "same person twice, by case and spaces",
            &[
                ("site.toml", SITE),
                ("a.toml", ADA),
                ("b/c.toml", &ADA.replace("ada@acme.com", " ADA@Acme.com ")),
            ],
            &[
                "error: state/b/c.toml:2:9: `ADA@Acme.com` is declared twice (emails compare ignoring case and surrounding spaces, after Unicode NFC)",
                "  hint: the same address is first used at state/a.toml:2:9; keep one",
            ],
        ),
        case(
            "group not declared",
            &[
                ("site.toml", SITE),
                (
                    "people.toml",
                    &format!("{ADA}groups = [\"Administrators\", \"Analysts\"]\n"),
                ),
            ],
            &[
                "error: state/people.toml:5:29: group `Analysts` is not declared",
                "  hint: add a [[groups]] entry with name = \"Analysts\", or fix the spelling",
            ],
        ),
        case(
            "site not declared",
            &[
                ("site.toml", SITE),
                (
                    "people.toml",
                    &format!("{ADA}sites = [\"acme\", \"acme-eu\"]\n"),
                ),
            ],
            &[
                "error: state/people.toml:5:18: site `acme-eu` is not declared",
                "  hint: declare it as [sites.acme-eu] or use one of: acme",
            ],
        ),
        case(
            "group not on the user's site",
            &[
                (
                    "site.toml",
                    &format!("{SITE}\n{}", SITE.replace("acme]", "beta]")),
                ),
                (
                    "people.toml",
                    &format!(
                        "[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\nsites = [\"beta\"]\n\n{ADA}groups = [\"Analysts\"]\n"
                    ),
                ),
            ],
            &[
                "error: state/people.toml:10:11: group `Analysts` is not declared for site `acme`, where this user is",
                "  hint: add \"acme\" to the group's sites, or limit the user's sites",
            ],
        ),
        case(
            "API key inline",
            &[(
                "site.toml",
                &SITE.replace(r#"{ env = "ACME_KEY" }"#, "\"pk_live_0123456789\""),
            )],
            &[
                "error: state/site.toml:4:11: site `acme`: the api_key is written inline; secrets never live in state files",
                "  hint: remove it from the file (and rotate it if it was committed), then write api_key = { env = \"ACME_API_KEY\" }",
            ],
        ),
        case(
            "API key with an unknown key",
            &[(
                "site.toml",
                &SITE.replace(r#"{ env = "ACME_KEY" }"#, r#"{ var = "ACME_KEY" }"#),
            )],
            &[
                "error: state/site.toml:4:11: site `acme`: unknown field `var`, expected `env` or `command`",
            ],
        ),
        case(
            "API key missing",
            &[(
                "site.toml",
                &SITE.replace("api_key = { env = \"ACME_KEY\" }\n", ""),
            )],
            &[
                "error: state/site.toml:1:1: site `acme`: missing field `api_key`",
                "  hint: add api_key = { env = \"ACME_API_KEY\" }",
            ],
        ),
        case(
            "empty state directory",
            &[],
            &[
                "  hint: declare at least one [sites.NAME] table in a .toml file there (see examples/), or run `roster import`",
            ],
        ),
        case(
            "no site declared",
            &[("people.toml", ADA)],
            &[
                "error: state/people.toml:1:1: no site is declared in the state",
                "  hint: add a [sites.NAME] table with provider, site, api_key and invited_by (see examples/)",
            ],
        ),
        case(
            "unknown provider",
            &[("site.toml", &SITE.replace("\"periscope\"", "\"looker\""))],
            &[
                "error: state/site.toml:2:12: site `acme`: unknown provider `looker`",
                "  hint: use provider = \"periscope\" or provider = \"sigma\" or provider = \"scim\" or provider = \"superset\"",
            ],
        ),
        case(
            "invalid access level",
            &[
                ("site.toml", SITE),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"Analysts\"\naccess = \"admin\"\n",
                ),
            ],
            &[
                "error: state/groups.toml:3:10: group #1: unknown variant `admin`, expected one of `view`, `discovery`, `sql`",
                "  hint: use one of the values listed above",
            ],
        ),
        case(
            "group twice, by case and punctuation",
            &[
                ("site.toml", SITE),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"Data Eng\"\naccess = \"sql\"\n\n[[groups]]\nname = \"data-eng\"\naccess = \"view\"\n",
                ),
            ],
            &[
                "error: state/groups.toml:6:8: group `data-eng` is declared twice (names compare ignoring case and punctuation)",
                "  hint: the same name is first used at state/groups.toml:2:8; keep one",
            ],
        ),
        case(
            "built-in group declared",
            &[
                ("site.toml", SITE),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"all users\"\naccess = \"sql\"\n",
                ),
            ],
            &[
                "error: state/groups.toml:2:8: `all users` is a built-in group and cannot be declared",
            ],
        ),
        case(
            "site declared twice",
            &[("a.toml", SITE), ("b.toml", SITE)],
            &[
                "error: state/b.toml:1:8: site `acme` is declared twice",
                "  hint: it is first declared at state/a.toml:1:8; keep one",
            ],
        ),
        case(
            "invalid invited_by",
            &[(
                "site.toml",
                &SITE.replace("\"admin@acme.com\"", "\"admin\""),
            )],
            &[
                "error: state/site.toml:5:14: site `acme`: invited_by `admin` is not a valid email address",
            ],
        ),
        case(
            "TOML syntax",
            &[
                ("site.toml", SITE),
                ("people.toml", "[[users]\nemail = \"x\"\n"),
            ],
            &["error: state/people.toml:1:9: invalid TOML: unclosed array table, expected `]`"],
        ),
        case(
            "unknown top-level key",
            &[("site.toml", &format!("{SITE}\n[people]\nada = 1\n"))],
            &["error: state/site.toml:7:2: unknown top-level key `people`"],
        ),
        case(
            "unknown Sigma cloud",
            &[("site.toml", &SIGMA.replace("aws-us-west", "aws-mars"))],
            &[
                "error: state/site.toml:3:9: site `acme-sigma`: unknown cloud `aws-mars`",
                "  hint: use one of: gcp-us, gcp-ksa, aws-us-west, aws-us-east, aws-ca, aws-eu, aws-au, aws-uk, azure-us, azure-eu, azure-ca, azure-uk, azure-au, aws, gcp, azure, aws-staging, gcp-staging, azure-staging; or set base_url instead",
            ],
        ),
        case(
            "Sigma cloud and base_url both",
            &[(
                "site.toml",
                &format!("{SIGMA}base_url = \"https://api.sigmacomputing.com\"\n"),
            )],
            &[
                "error: state/site.toml:6:12: site `acme-sigma`: set either cloud or base_url, not both",
            ],
        ),
        case(
            "Sigma site without cloud or base_url",
            &[("site.toml", &SIGMA.replace("cloud = \"aws-us-west\"\n", ""))],
            &[
                "error: state/site.toml:1:1: site `acme-sigma`: missing field `cloud`",
                "  hint: add cloud = \"aws-us-west\" (or base_url = \"https://...\")",
            ],
        ),
        case(
            "Sigma client secret inline",
            &[(
                "site.toml",
                &SIGMA.replace(r#"{ env = "SIGMA_SECRET" }"#, "\"shhh-0123\""),
            )],
            &[
                "error: state/site.toml:5:17: site `acme-sigma`: the client_secret is written inline; secrets never live in state files",
                "  hint: remove it from the file (and rotate it if it was committed), then write client_secret = { env = \"ACME_SIGMA_CLIENT_SECRET\" }",
            ],
        ),
        case(
            "Periscope setting on a Sigma site",
            &[(
                "site.toml",
                &format!("{SIGMA}invited_by = \"admin@acme.com\"\n"),
            )],
            &[
                "error: state/site.toml:6:14: site `acme-sigma`: `invited_by` is a setting of periscope sites, not sigma ones",
            ],
        ),
        case(
            "new_owner and archive_documents both",
            &[(
                "site.toml",
                &format!("{SIGMA}new_owner = \"admin@acme.com\"\narchive_documents = true\n"),
            )],
            &[
                "error: state/site.toml:6:13: site `acme-sigma`: new_owner and archive_documents = true cannot both be set",
            ],
        ),
        case(
            "member_type for a Periscope-only user",
            &[
                ("site.toml", SITE),
                ("people.toml", &format!("{ADA}member_type = \"Creator\"\n")),
            ],
            &[
                "error: state/people.toml:5:15: `member_type` applies to Sigma sites, and this user is on no Sigma site",
            ],
        ),
        case(
            "active = false on a Periscope site",
            &[
                ("site.toml", SITE),
                ("people.toml", &format!("{ADA}active = false\n")),
            ],
            &[
                "error: state/people.toml:5:10: `active = false` on Periscope site `acme`, which has no deactivation",
                "  hint: remove the user to delete them there, or limit the user's sites",
            ],
        ),
        case(
            "Periscope group without access",
            &[
                ("site.toml", SITE),
                ("groups.toml", "[[groups]]\nname = \"Analysts\"\n"),
            ],
            &[
                "error: state/groups.toml:1:1: group `Analysts`: missing field `access`, needed on Periscope site `acme`",
                "  hint: add access = \"view\", \"discovery\" or \"sql\"",
            ],
        ),
        case(
            "team settings on a Periscope-only group",
            &[
                ("site.toml", SITE),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\nvisibility = \"public\"\n",
                ),
            ],
            &[
                "error: state/groups.toml:4:14: group `Analysts`: `visibility` applies to Sigma teams, and the group is on no Sigma site",
            ],
        ),
        case(
            "Periscope built-in group on a Sigma site",
            &[
                ("site.toml", SIGMA),
                (
                    "people.toml",
                    &format!("{ADA}groups = [\"Administrators\"]\n"),
                ),
            ],
            &[
                "error: state/people.toml:5:11: group `Administrators` is not declared for site `acme-sigma`, where this user is",
            ],
        ),
        case(
            "previous email used by another person",
            &[
                ("site.toml", SIGMA),
                (
                    "people.toml",
                    &format!(
                        "{ADA}\n{}previous_emails = [\"ada@acme.com\"]\n",
                        ADA.replace("ada@", "augusta@")
                    ),
                ),
            ],
            &[
                "error: state/people.toml:10:20: `ada@acme.com` is already used (emails compare ignoring case and surrounding spaces, after Unicode NFC)",
            ],
        ),
        case(
            "protected email invalid",
            &[("site.toml", &format!("{SITE}protected = [\"root\"]\n"))],
            &[
                "error: state/site.toml:6:14: site `acme`: protected `root` is not a valid email address",
            ],
        ),
        case(
            "negative acknowledgement",
            &[("site.toml", &format!("{SITE}allow_removals = -3\n"))],
            &[
                "error: state/site.toml:6:18: site `acme`: invalid value: integer `-3`, expected u32",
            ],
        ),
        case(
            "request budget of zero",
            &[(
                "site.toml",
                &format!("{SITE}max_requests_per_second = 0.0\n"),
            )],
            &[
                "error: state/site.toml:1:1: site `acme`: max_requests_per_second must be more than 0",
            ],
        ),
        case(
            "request budget too slow to ever finish",
            &[(
                "site.toml",
                &format!("{SITE}max_requests_per_second = 1e-20\n"),
            )],
            &[
                "error: state/site.toml:1:1: site `acme`: max_requests_per_second = 0.00000000000000000001 is out of range: it must be from 0.01 (a request every 100 seconds) to 10000",
            ],
        ),
        case(
            "request budget of infinity",
            &[(
                "site.toml",
                &format!("{SITE}max_requests_per_second = inf\n"),
            )],
            &[
                "error: state/site.toml:1:1: site `acme`: max_requests_per_second = inf is out of range: it must be from 0.01 (a request every 100 seconds) to 10000",
            ],
        ),
        case(
            "unknown unmanaged policy",
            &[("site.toml", &format!("{SITE}unmanaged_users = \"purge\"\n"))],
            &[
                "error: state/site.toml:6:19: site `acme`: unknown variant `purge`, expected one of `deactivate`, `remove`, `keep`, `delete`",
            ],
        ),
        case(
            "invalid team visibility",
            &[
                ("site.toml", SIGMA),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"T\"\nvisibility = \"secret\"\n",
                ),
            ],
            &[
                "error: state/groups.toml:3:14: group #1: unknown variant `secret`, expected `public` or `private`",
            ],
        ),
        case(
            "empty group name",
            &[
                ("site.toml", SIGMA),
                ("groups.toml", "[[groups]]\nname = \" \"\n"),
            ],
            &["error: state/groups.toml:2:8: a group name cannot be empty"],
        ),
        case(
            "previous name of one group is another's name",
            &[
                ("site.toml", SIGMA),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"A\"\n\n[[groups]]\nname = \"B\"\nprevious_names = [\"a\"]\n",
                ),
            ],
            &[
                "error: state/groups.toml:6:19: group `B` is declared twice (names compare ignoring case and punctuation)",
            ],
        ),
        case(
            "sites not a list",
            &[
                ("site.toml", SITE),
                ("people.toml", &format!("{ADA}sites = \"acme\"\n")),
            ],
            &[
                "error: state/people.toml:5:9: user `ada@acme.com`: invalid type: string \"acme\", expected a sequence",
            ],
        ),
        case(
            "a key twice in one table",
            &[("site.toml", &format!("{SITE}site = \"again\"\n"))],
            &["error: state/site.toml:6:1: invalid TOML: duplicate key"],
        ),
        case(
            "base_url not a URL",
            &[("site.toml", &format!("{SITE}base_url = \"not a url\"\n"))],
            &[
                "error: state/site.toml:6:12: site `acme`: base_url `not a url` is not a URL: relative URL without a base",
            ],
        ),
        case(
            "base_url with another scheme",
            &[(
                "site.toml",
                &format!("{SITE}base_url = \"ftp://periscope.example.com\"\n"),
            )],
            &[
                "error: state/site.toml:6:12: site `acme`: base_url `ftp://periscope.example.com` has scheme `ftp`; use https://",
            ],
        ),
        case(
            "a site is not a table",
            &[("site.toml", "[sites]\nacme = \"periscope\"\n")],
            &["error: state/site.toml:2:8: site `acme` must be a table"],
        ),
        case(
            "active not a boolean",
            &[
                ("site.toml", SIGMA),
                ("people.toml", &format!("{ADA}active = \"no\"\n")),
            ],
            &[
                "error: state/people.toml:5:10: user `ada@acme.com`: invalid type: string \"no\", expected a boolean",
            ],
        ),
        case(
            "one person granted twice on a workspace, in another case",
            &[
                ("site.toml", SIGMA),
                (
                    "access.toml",
                    &format!(
                        "{ADA}\n[[workspaces]]\nname = \"Finance\"\ngrants.people = {{ \"ada@acme.com\" = \"explore\", \"Ada@acme.com\" = \"edit\" }}\n"
                    ),
                ),
            ],
            &[
                "error: state/access.toml:8:47: workspace `Finance`: `Ada@acme.com` is granted twice (emails compare ignoring case and surrounding spaces, after Unicode NFC)",
                "  hint: it is first granted at state/access.toml:8:19; keep one",
            ],
        ),
        case(
            "one team granted twice on a connection, in another case",
            &[
                ("site.toml", SIGMA),
                (
                    "access.toml",
                    "[[groups]]\nname = \"Data Team\"\n\n[[connections]]\nname = \"Snowflake Prod\"\ngrants.teams = { \"Data Team\" = \"usage\", \"data team \" = \"annotate\" }\n",
                ),
            ],
            &[
                "error: state/access.toml:6:41: connection `Snowflake Prod`: `data team ` is granted twice (team names compare ignoring case and surrounding spaces)",
                "  hint: it is first granted at state/access.toml:6:18; keep one",
            ],
        ),
        case(
            "users not an array of tables",
            &[("site.toml", &format!("users = \"everyone\"\n{SITE}"))],
            &["error: state/site.toml:1:9: `users` must be an array of tables"],
        ),
        case(
            "Periscope access on a group only on SCIM and Sigma sites",
            &[
                (
                    "site.toml",
                    &format!(
                        "{SIGMA}\n[sites.tableau]\nprovider = \"scim\"\nbase_url = \"https://example.com/scim/v2\"\ntoken = {{ env = \"SCIM_TOKEN\" }}\n"
                    ),
                ),
                (
                    "groups.toml",
                    "[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\n",
                ),
            ],
            &[
                "error: state/groups.toml:3:10: group `Analysts`: `access` applies to Periscope groups, and the group is on no Periscope site",
                "  hint: remove it, or put the group on a Periscope site",
            ],
        ),
        case(
            "a Sigma seat type repeated in another letter case",
            &[
                (
                    "site.toml",
                    &format!("{SIGMA}seats = {{ creator = 3, CREATOR = 5 }}\n"),
                ),
                ("people.toml", ADA),
            ],
            &[
                "error: state/site.toml:6:24: site `acme-sigma`: seat type `CREATOR` is declared twice in `seats` (seat types compare ignoring case)",
                "  hint: it is first declared at state/site.toml:6:11; keep one",
                "error: 1 problem in the state under state; nothing was contacted",
            ],
        ),
        case(
            "a Periscope access level repeated in another spelling",
            &[
                (
                    "site.toml",
                    &format!("{SITE}seats = {{ SQL = 1, \"Sql\" = 100 }}\n"),
                ),
                ("people.toml", ADA),
            ],
            &[
                "error: state/site.toml:6:20: site `acme`: seat type `Sql` is declared twice in `seats` (seat types compare ignoring case)",
                "  hint: it is first declared at state/site.toml:6:11; keep one",
                "error: 1 problem in the state under state; nothing was contacted",
            ],
        ),
        case(
            "a bad site value alone, not the checks that need the site",
            &[
                (
                    "site.toml",
                    &format!(
                        "{SIGMA}seats = {{ Creator = -1 }}\n\n[[user_attributes]]\nname = \"Region\"\n\n[[account_types]]\nname = \"Analyst\"\ndescription = \"d\"\npermissions = []\n\n[[groups]]\nname = \"Finance\"\nadmins = [\"ada@acme.com\"]\n"
                    ),
                ),
                (
                    "people.toml",
                    &format!(
                        "{ADA}member_type = \"Creator\"\ngroups = [\"Finance\"]\nattributes = {{ Region = \"EU\" }}\noverrides.acme-sigma = {{ member_type = \"Viewer\" }}\n"
                    ),
                ),
            ],
            &[
                "error: state/site.toml:6:21: site `acme-sigma`: a seat budget must be 0 or more, not -1",
                "  hint: write the most people the site may have, e.g. Creator = 45",
                "error: 1 problem in the state under state; nothing was contacted",
            ],
        ),
        case(
            "a date written as text names the person, and their grants wait",
            &[
                (
                    "site.toml",
                    &format!(
                        "{SIGMA}\n[[workspaces]]\nname = \"Finance\"\ngrants.people = {{ \"ada@acme.com\" = \"view\" }}\n\n[[groups]]\nname = \"Finance\"\nadmins = [\"ada@acme.com\"]\n"
                    ),
                ),
                (
                    "people.toml",
                    &format!("{ADA}groups = [\"Finance\"]\nexpires = \"2026-01-01\"\n"),
                ),
            ],
            &[
                "error: state/people.toml:6:11: user `ada@acme.com`: invalid type: string \"2026-01-01\", expected a TOML datetime",
                "  hint: write the date without quotes, as in expires = 2026-12-31",
                "error: 1 problem in the state under state; nothing was contacted",
            ],
        ),
        case(
            "an account type with an empty name",
            &[
                (
                    "site.toml",
                    &format!(
                        "{SIGMA}\n[[account_types]]\nname = \" \"\ndescription = \"d\"\npermissions = []\n"
                    ),
                ),
                ("people.toml", ADA),
            ],
            &[
                "error: state/site.toml:8:8: account type name cannot be empty",
                "  hint: write the account type's name, as in name = \"Analyst\"",
                "error: 1 problem in the state under state; nothing was contacted",
            ],
        ),
    ]
}

#[test]
fn each_kind_of_bad_input_is_located_and_nothing_is_contacted() {
    let sb = seeded_sandbox();
    for c in cases() {
        let files: Vec<(&str, &str)> = c.files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let dir = state_dir(&files);
        for args in [
            &["validate"][..],
            &["plan", "--sandbox-url", &sb.url],
            &["apply", "--yes", "--sandbox-url", &sb.url],
        ] {
            let out = roster(
                dir.path(),
                args,
                &[("ACME_KEY", "k"), ("SIGMA_ID", "i"), ("SIGMA_SECRET", "s")],
            );
            assert_eq!(
                out.code, 1,
                "{}: {args:?} exit code; stderr:\n{}",
                c.name, out.stderr
            );
            assert!(
                out.stdout.is_empty(),
                "{}: {args:?} printed to stdout",
                c.name
            );
            let lines: Vec<&str> = out.stderr.lines().collect();
            let start = lines.iter().position(|l| *l == c.expected[0]);
            let found = start.is_some_and(|s| lines[s..].starts_with(&c.expected));
            assert!(
                found,
                "{}: expected\n{}\nin stderr:\n{}",
                c.name,
                c.expected.join("\n"),
                out.stderr
            );
            assert!(
                out.stderr.trim_end().ends_with("nothing was contacted"),
                "{}: {}",
                c.name,
                out.stderr
            );
        }
    }
    assert!(
        sb.sandbox.requests().is_empty(),
        "bad input reached the sandbox"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = state_dir(&[
        (
            "site.toml",
            &SITE
                .replace(r#"{ env = "ACME_KEY" }"#, "\"inline-secret-value\"")
                .replace("acme.com\"", "acme.com\"\ncolour = \"blue\""),
        ),
        (
            "people/a.toml",
            &format!(
                "{ADA}groups = [\"Nope\"]\n\n{}",
                ADA.replace("ada@", "ADA@")
            ),
        ),
        (
            "people/b.toml",
            "[[users]]\nemail = \"x@acme.com\"\nfirst_name = 1\nlast_name = \"L\"\n",
        ),
    ]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert!(!out.all().contains("inline-secret-value"));
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    insta::assert_snapshot!(errors.join("\n"), @r#"
    error: state/people/a.toml:5:11: group `Nope` is not declared
    error: state/people/a.toml:8:9: `ADA@acme.com` is declared twice (emails compare ignoring case and surrounding spaces, after Unicode NFC)
    error: state/people/b.toml:3:14: user `x@acme.com`: invalid type: integer `1`, expected a string
    error: state/site.toml:4:11: site `acme`: the api_key is written inline; secrets never live in state files
    error: state/site.toml:6:1: site `acme`: unknown field `colour`, expected one of `provider`, `site`, `api_key`, `invited_by`, `base_url`, `cloud`, `client_id`, `client_secret`, `new_owner`, `archive_documents`, `max_requests_per_second`, `protected`, `min_admins`, `allow_removals`, `allow_group_deletions`, `allow_membership_removals`, `allow_admin_changes`, `allow_privileged`, `unmanaged_users`, `unmanaged_groups`, `patience_seconds`, `provisioning`, `unmanaged_guests`, `send_invites`, `archive_scheduled_exports`, `revoke_tokens_on_deactivation`, `unmanaged_workspaces`, `unmanaged_grants`, `allow_workspace_deletions`, `allow_grant_removals`, `token`, `seats`, `expiry_notice_days`, `unmanaged_attributes`, `unmanaged_account_types`, `allow_account_type_deletions`, `max_response_bytes`, `deadline_seconds`, `username`, `password`, `auth_provider`, `access_control`
    error: 5 problems in the state under state; nothing was contacted
    "#);
}

#[test]
fn binary_garbage_and_huge_files_are_refused_cleanly() {
    let dir = state_dir(&[("site.toml", SITE)]);
    std::fs::write(
        dir.path().join("state/garbage.toml"),
        [0xff, 0xfe, 0x00, 0x01, b'x'],
    )
    .unwrap();
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains(
        "error: state/garbage.toml:1:1: the file is not UTF-8 text (invalid byte at offset 0)"
    ));

    // A file of 200,000 bad entries: every problem is found, nothing panics.
    let mut big = String::new();
    for i in 0..200_000 {
        big.push_str(&format!(
            "[[users]]\nemail = \"user{i}\"\nfirst_name = \"A\"\nlast_name = \"B\"\n"
        ));
    }
    let dir = state_dir(&[("site.toml", SITE), ("big.toml", &big)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .ends_with("error: 200000 problems in the state under state; nothing was contacted\n")
    );
}

/// One syntax error is reported alone: what a broken file declares is
/// unknown, so the checks across files (undeclared groups, no site) that
/// would follow from it are not made.
#[test]
fn a_syntax_error_is_not_buried_under_its_consequences() {
    let site = "[sites.acme]\nprovider = \"periscope\"\nsite = \"acme\"\nsite = \"again\"\napi_key = { env = \"K\" }\ninvited_by = \"admin@acme.com\"\n\n[[groups]]\nname = \"Analysts\"\naccess = \"sql\"\n";
    let people = "[[users]]\nemail = \"ada@acme.com\"\nfirst_name = \"Ada\"\nlast_name = \"L\"\ngroups = [\"Analysts\"]\n";
    let dir = state_dir(&[("roster.toml", site), ("people.toml", people)]);
    let out = roster(dir.path(), &["validate"], &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 2, "{}", out.stderr);
    assert!(
        errors[0].starts_with("error: state/roster.toml:4:1: invalid TOML: "),
        "{}",
        out.stderr
    );
    assert_eq!(
        errors[1],
        "error: 1 problem in the state under state; nothing was contacted"
    );
}
