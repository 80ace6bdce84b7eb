//! Command-line arguments (clap definitions only).

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::render::Format;

/// `roster --version`: the version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ROSTER_COMMIT"),
    ")"
);

/// The help heading of the options every state-reading command takes.
const GLOBAL: &str = "Global Options";

/// Keep the users and groups of BI platforms in line with TOML files in git.
#[derive(Debug, Parser)]
#[command(name = "roster", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// Directory of the desired state: every *.toml file under it is read.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "DIR",
        default_value = "state",
        env = "ROSTER_STATE",
        hide_env_values = true
    )]
    pub state: PathBuf,

    /// Take every site's connection settings (provider, site, base_url,
    /// cloud, credential sources, max_requests_per_second,
    /// patience_seconds, max_response_bytes, deadline_seconds) from the state
    /// under this trusted directory, such as a checkout of the default
    /// branch; a state that declares them differently is refused before
    /// anything is run or sent.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "DIR",
        env = "ROSTER_SITES_FROM",
        hide_env_values = true
    )]
    pub sites_from: Option<PathBuf>,

    /// Only these sites (repeatable); by default every declared site.
    #[arg(long = "site", global = true, help_heading = GLOBAL, value_name = "NAME")]
    pub sites: Vec<String>,

    /// Log every HTTP call to stderr (-v); RUST_LOG overrides.
    #[arg(short, long, global = true, help_heading = GLOBAL, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and check the state; contacts nothing.
    Validate,
    /// Fetch the live state of every site and print what would change.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Print the plan, ask for confirmation, and carry it out.
    #[command(after_help = APPLY_EXAMPLES)]
    Apply(ApplyArgs),
    /// Run a local emulator of the platforms' APIs.
    Sandbox(SandboxArgs),
    /// Write state that describes the live sites (so the next plan is
    /// empty), or with --csv edit the state from a CSV file.
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(ImportArgs),
    /// Print the state (or a site's live users) as CSV.
    Export(ExportArgs),
    /// Rewrite state files canonically: people sorted by email, groups by
    /// name, lists sorted, emails lower-cased; comments kept.
    Fmt(FmtArgs),
    /// Print the JSON Schema of state files (committed as
    /// schema/roster-state.schema.json for editors), or with --plan of
    /// JSON plans (schema/roster-plan.schema.json).
    Schema(SchemaArgs),
    /// Print a shell completion script (e.g. `roster completions bash >
    /// ~/.local/share/bash-completion/completions/roster`).
    Completions(CompletionsArgs),
    /// Print roster's man page (roff), e.g. `roster man > roster.1`.
    Man,
    /// List the declared sites (name and provider; no secrets), e.g. for a
    /// CI matrix of one job per site.
    Sites(SitesArgs),
    /// Remove the apply lock (or a sandbox data file's lock) left by a run
    /// that was killed.
    ForceUnlock(ForceUnlockArgs),
    /// What one person gets on each site (account type or access level,
    /// groups, and why), from the declared state; contacts nothing.
    Explain(ExplainArgs),
}

const PLAN_EXAMPLES: &str = "\
Examples:
  # Try it without credentials, against the built-in sandbox
  $ roster plan --sandbox

  # Plan one site, save the plan for review, apply exactly that plan later
  $ roster plan --site acme --out plan.json
  $ roster apply plan.json --site acme

  # In CI: the plan as a PR comment; exit 2 when there are changes
  $ roster plan --format markdown --detailed-exitcode";

const APPLY_EXAMPLES: &str = "\
Examples:
  # Show the plan, confirm, apply
  $ roster apply

  # Apply a reviewed saved plan without asking (CI after merge)
  $ roster apply plan.json --yes

  # Check every write with Periscope's test mode; nothing changes
  $ roster apply --dry-run

  # One JSON document with each change's outcome, for a CI job to keep
  $ roster apply --yes --format json > result.json";

const IMPORT_EXAMPLES: &str = "\
Examples:
  # Write state describing the live sites, so the next plan is empty
  $ roster import

  # Also drop people and groups no longer on a site
  $ roster import --prune

  # Edit the state from a CSV export; see what would be written first
  $ roster import --csv people.csv --dry-run";

/// Commands on which the global options mean nothing: they accept them (so
/// no command line stops working) but do not list them.
const WITHOUT_GLOBALS: [&str; 4] = ["schema", "sandbox", "completions", "man"];

/// Commands that read only the state directory: `--site` and
/// `--sites-from` are accepted but not listed.
const STATE_ONLY: [&str; 2] = ["fmt", "force-unlock"];

/// The command line's definition, as parsed and as shown in help,
/// completions and the man page.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    // A subcommand's own argument of the same id is not replaced by the
    // global one; hidden, it keeps the option working without showing it.
    let hidden = |ids: &'static [&'static str]| {
        let globals = globals.clone();
        move |sub: clap::Command| {
            globals
                .iter()
                .filter(|a| ids.contains(&a.get_id().as_str()))
                .fold(sub, |sub, a| sub.arg(a.clone().global(false).hide(true)))
        }
    };
    for name in WITHOUT_GLOBALS {
        cmd = cmd.mut_subcommand(name, hidden(&["state", "sites_from", "sites", "verbose"]));
    }
    for name in STATE_ONLY {
        cmd = cmd.mut_subcommand(name, hidden(&["sites_from", "sites"]));
    }
    cmd
}

impl Cli {
    /// Parses the process's arguments against [`command`].
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        let mut matches = command().try_get_matches()?;
        Cli::from_arg_matches_mut(&mut matches)
    }
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The person's email (compared ignoring case).
    pub email: String,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema of `roster plan --format json` (and of saved
    /// plans) instead of the schema of state files.
    #[arg(long)]
    pub plan: bool,
}

#[derive(Debug, Args)]
pub struct SitesArgs {
    /// How to print the list.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SitesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SitesFormat {
    /// One line per site: name and provider.
    Text,
    /// `{"format_version": 1, "sites": [{"name": ..., "provider": ...}]}`.
    Json,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Where the sites are reached: the real platforms, or a sandbox.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Run against a sandbox started inside this command (no credentials
    /// needed); its data persists in --sandbox-data.
    #[arg(long)]
    pub sandbox: bool,

    /// Run against a sandbox that is already running (`roster sandbox`).
    #[arg(long, value_name = "URL", conflicts_with = "sandbox")]
    pub sandbox_url: Option<String>,

    /// Where --sandbox keeps its data between runs.
    #[arg(long, value_name = "FILE", default_value = ".roster/sandbox.json")]
    pub sandbox_data: PathBuf,

    /// Start --sandbox again from the seed, forgetting earlier applies.
    #[arg(long, requires = "sandbox")]
    pub sandbox_reset: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Exit 2 when the plan has changes, 0 when it has none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// How to print the plan.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,

    /// Also save the plan as JSON, to apply later with `roster apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `roster plan --out`: applied only if roster would
    /// still make exactly those changes.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,

    /// How to print the plan and the result: json prints one document
    /// (the plan and each change's outcome) instead of both texts.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,

    /// Also write the result as JSON (as --format json prints it) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Apply without asking for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Send every write with the platform's test mode (test_mode=true): the
    /// site checks each request and changes nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Stop a site at its first failed change (by default apply carries on,
    /// skipping only what depends on the failure).
    #[arg(long)]
    pub fail_fast: bool,

    /// How many requests may be under way at once, per site.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port to listen on (127.0.0.1 only). Sigma's sample scripts expect 8081.
    #[arg(long, default_value_t = 8081)]
    pub port: u16,

    /// JSON file with the emulated sites; created from the seed if missing.
    /// Without it the sandbox starts from the seed.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// Save the data back to --data when the sandbox stops (Ctrl-C or
    /// SIGTERM).
    #[arg(long, requires = "data")]
    pub save: bool,

    /// Lifetime of Sigma access tokens, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub token_ttl: u64,

    /// Delay added to every answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// Share of requests answered with a 5xx, before or after the write
    /// took effect (0.0 to 1.0).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = rate)]
    pub error_rate: f64,

    /// Share of requests answered 429 with Retry-After.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = rate)]
    pub throttle_rate: f64,

    /// Share of requests whose connection closes without a whole answer.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = rate)]
    pub drop_rate: f64,

    /// Seconds a 429 asks the client to wait.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub retry_after: u64,

    /// Seed of the fault injection, to repeat a run.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// For this many seconds from the first request, answer every request
    /// as Sigma's edge throttles: 429, an HTML page, no Retry-After.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub edge_throttle_seconds: u64,

    /// Answer Periscope's user and group lists in pages of N, each but the
    /// last with `next_page_start`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub page_size: Option<u32>,
}

fn rate(raw: &str) -> Result<f64, String> {
    let p: f64 = raw
        .parse()
        .map_err(|_| format!("`{raw}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not between 0.0 and 1.0"))
    }
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Change nothing; exit 1 if a file is not in canonical form (for CI).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Edit the state from a CSV with the columns Email, First Name, Last
    /// Name, New Email, Member Type, isArchived (any order; blank cells
    /// leave values alone) instead of reading the live sites.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,

    /// The CSV lists people to remove from the state (an `email_address` or
    /// `email` column).
    #[arg(long, requires = "csv")]
    pub remove: bool,

    /// Also take people and groups who are no longer on a site off it in
    /// the state (their entry goes when it was their only site).
    #[arg(long, conflicts_with = "csv")]
    pub prune: bool,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Print what would be written, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,

    /// Export what is live on the sites instead of the state.
    #[arg(long)]
    pub live: bool,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// Remove the lock of this sandbox data file instead of apply's lock.
    #[arg(long, value_name = "FILE")]
    pub sandbox_data: Option<PathBuf>,

    /// Remove the lock of applies against the sandbox at this URL.
    #[arg(long, value_name = "URL", conflicts_with = "sandbox_data")]
    pub sandbox_url: Option<String>,

    /// Remove the lock even if its holder may still be running (you say
    /// it is stale).
    #[arg(long, short = 'y')]
    pub yes: bool,
}
