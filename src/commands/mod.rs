//! The command edge: each command loads what it needs, reports errors with
//! context (anyhow), and says how the process should exit.

/// Writes to standard output (see [`write_stdout`]); `?` it.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::write_stdout(&format!($($arg)*))
    };
}

/// [`out!`] with a newline.
macro_rules! outln {
    () => {
        $crate::commands::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::commands::write_stdout(&format!("{}\n", format!($($arg)*)))
    };
}

mod apply;
mod export;
mod fmt;
mod force_unlock;
mod import;
mod insight;
mod plan;
mod sandbox;
mod shell;
mod signals;
mod sites;
mod target;
mod validate;

use std::path::Path;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::model::DesiredState;

/// How a successful command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 2: the plan has changes (`--detailed-exitcode`).
    Changes,
    /// Exit 130: stopped by Ctrl-C or SIGTERM (after its report).
    Interrupted,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Changes => 2,
            Status::Interrupted => 130,
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Status> {
    init_logging(cli.verbose);
    crate::progress::set_notice_printer(|line| stderr_line!("{line}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Commands that may hold the sandbox data file's lock release it when
    // stopped (apply watches for itself: its first signal is gentler).
    let _released_on_signal = match &cli.command {
        Command::Plan(_) | Command::Import(_) | Command::Export(_) => {
            let _in_runtime = runtime.enter();
            Some(signals::Watcher::start(Default::default())?)
        }
        _ => None,
    };
    let only = cli.sites.as_slice();
    let scope = Scope {
        dir: &cli.state,
        only,
        sites_from: cli.sites_from.as_deref(),
    };
    match &cli.command {
        Command::Validate => validate::run(&scope),
        Command::Plan(args) => runtime.block_on(plan::run(&scope, args)),
        Command::Apply(args) => runtime.block_on(apply::run(&scope, args)),
        Command::Sandbox(args) => runtime.block_on(sandbox::run(args)),
        Command::Fmt(args) => fmt::run(&cli.state, args),
        Command::Import(args) => runtime.block_on(import::run(&scope, args)),
        Command::Export(args) => runtime.block_on(export::run(&scope, args)),
        Command::Schema(args) => {
            let schema = if args.plan {
                crate::render::json::json_schema()
            } else {
                crate::state::json_schema()
            };
            out!("{schema}")?;
            Ok(Status::Success)
        }
        Command::Completions(args) => shell::completions(args.shell),
        Command::Man => shell::man(),
        Command::Sites(args) => sites::run(&scope, args),
        Command::ForceUnlock(args) => force_unlock::run(&cli.state, args),
        Command::Explain(args) => insight::explain(&scope, args),
    }
}

/// An error and its causes on one line, `outer: inner`, each cause said
/// once: an error whose message already quotes its source (thiserror's
/// `{source}`) does not have it repeated.
pub fn describe_error(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Writes `text` to standard output. A reader that has gone away (`roster
/// plan | head`) is not a failure: what is left is not written and the
/// command carries on, ending as it would have. Any other failure (a full
/// disk behind a redirection) is an error.
pub(crate) fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}

/// Writes to standard error. With [`write_stdout`], the one place commands
/// print: clippy's `print_stdout` and `print_stderr` are denied elsewhere.
/// Call it through `stderr_line!` (as `eprintln!`) or `stderr_text!` (as
/// `eprint!`).
#[allow(clippy::print_stderr)]
pub(crate) fn write_stderr(args: std::fmt::Arguments<'_>) {
    eprint!("{}", crate::escape::terminal_safe(&args.to_string()));
}

/// `eprintln!` through [`write_stderr`].
macro_rules! stderr_line {
    ($($arg:tt)*) => {
        $crate::commands::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use stderr_line;

/// `eprint!` through [`write_stderr`].
macro_rules! stderr_text {
    ($($arg:tt)*) => {
        $crate::commands::write_stderr(format_args!($($arg)*))
    };
}
pub(crate) use stderr_text;

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "roster=debug",
        _ => "roster=trace,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only on a terminal (and never with NO_COLOR set).
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_target(false)
        .try_init();
}

/// Which state, and which of its sites, a command works on.
pub(crate) struct Scope<'a> {
    pub dir: &'a Path,
    /// Only these sites (`--site`); all when empty.
    pub only: &'a [String],
    /// The trusted state every site's connection settings come from
    /// (`--sites-from`).
    pub sites_from: Option<&'a Path>,
}

impl Scope<'_> {
    /// The state, checked whole, narrowed to the sites asked for.
    fn load(&self) -> Result<DesiredState> {
        Ok(self.load_counted()?.0)
    }

    /// [`Scope::load`], how much of the state was read (all of it,
    /// whatever the sites asked for) and what it warns of.
    fn load_counted(&self) -> Result<(DesiredState, crate::state::StateRead)> {
        let start = std::time::Instant::now();
        let (full, read) = self.load_all()?;
        let desired = self.narrow(full)?;
        tracing::debug!(
            sites = desired.sites.len(),
            elapsed_ms = start.elapsed().as_millis() as u64,
            "state loaded"
        );
        Ok((desired, read))
    }

    /// The whole state, every site's connection settings taken from the
    /// trusted state when there is one (`--sites-from`). Every command that
    /// may resolve a credential or contact a site loads through here. Files
    /// that look like state but are not read are warned of on standard
    /// error at once (they may explain a problem found next), and lead the
    /// warnings returned.
    fn load_all(&self) -> Result<(DesiredState, crate::state::StateRead)> {
        let not_read = crate::state::not_read(self.dir);
        stderr_warnings(&not_read);
        let today = insight::today();
        let (desired, mut read) = match self.sites_from {
            Some(trusted) => load_trusting(self.dir, trusted, today)?,
            None => crate::state::load_counted(self.dir, today)
                .map_err(|d| state_problems(self.dir, d))?,
        };
        read.warnings.splice(0..0, not_read);
        Ok((desired, read))
    }

    /// Keeps only the sites asked for; naming an undeclared one is an error.
    fn narrow(&self, mut desired: DesiredState) -> Result<DesiredState> {
        let declared: Vec<&str> = desired.sites.iter().map(|s| s.site.name.as_str()).collect();
        let unknown: Vec<&str> = self
            .only
            .iter()
            .map(String::as_str)
            .filter(|n| !declared.contains(n))
            .collect();
        if !unknown.is_empty() {
            anyhow::bail!(
                "--site {}: no such site in the state; the sites are {}",
                unknown.join(", "),
                declared.join(", ")
            );
        }
        if !self.only.is_empty() {
            desired.sites.retain(|s| self.only.contains(&s.site.name));
        }
        Ok(desired)
    }
}

/// Loads the state, printing every problem found (each on its own line,
/// located) before failing.
fn load_state(dir: &Path) -> Result<DesiredState> {
    warn_near_misses(dir);
    crate::state::load(dir).map_err(|d| state_problems(dir, d))
}

/// Names each file under the state directory that looks like a state file
/// but will not be read (`people/x.tml`, `x.toml ` with a trailing space).
fn warn_near_misses(dir: &Path) {
    stderr_warnings(&crate::state::not_read(dir));
}

/// Each warning on its own line of standard error, every value in it
/// escaped.
fn stderr_warnings<'a>(warnings: impl IntoIterator<Item = &'a crate::model::Warning>) {
    for w in warnings {
        stderr_line!("warning: {}", w.line(crate::escape::text));
    }
}

/// [`stderr_warnings`] of all but the files not read, which were said as
/// the state was loaded.
fn stderr_placed_warnings(warnings: &[crate::model::Warning]) {
    stderr_warnings(warnings.iter().filter(|w| !w.is_not_read()));
}

/// Prints every problem found in the state; the error that ends the command.
fn state_problems(dir: &Path, diagnostics: crate::state::Diagnostics) -> anyhow::Error {
    for d in &diagnostics.0 {
        stderr_line!("error: {d}");
    }
    let n = diagnostics.0.len();
    anyhow::anyhow!(
        "{n} problem{} in the state under {}; nothing was contacted",
        if n == 1 { "" } else { "s" },
        dir.display()
    )
}

/// Loads the state with every site's connection settings from the trusted
/// state under `trusted`, printing every problem found before failing;
/// nothing has been run or sent when it fails.
fn load_trusting(
    dir: &Path,
    trusted: &Path,
    today: chrono::NaiveDate,
) -> Result<(DesiredState, crate::state::StateRead)> {
    use crate::state::TrustError;
    let print = |diagnostics: &[crate::state::Diagnostic]| {
        for d in diagnostics {
            stderr_line!("error: {d}");
        }
    };
    match crate::state::load_with_sites_from(dir, trusted, today) {
        Ok((desired, read, notes)) => {
            for note in notes {
                stderr_line!("note: {note}");
            }
            Ok((desired, read))
        }
        Err(TrustError::State(d)) => Err(state_problems(dir, d)),
        Err(TrustError::Trusted { diagnostics, .. }) => {
            print(&diagnostics.0);
            anyhow::bail!(
                "the trusted state under {} (--sites-from) cannot be used; nothing was run or contacted",
                trusted.display()
            )
        }
        Err(TrustError::Differs(d)) => {
            print(&d);
            let n = d.len();
            anyhow::bail!(
                "{n} difference{} from the connection settings of the trusted state under {} (--sites-from); a change to connection settings is planned from the default branch after merge. No credential command was run and no site was contacted",
                if n == 1 { "" } else { "s" },
                trusted.display()
            )
        }
    }
}
