//! The command edge: each command loads what it needs, reports errors with
//! //! context (anyhow), and says how the process should exit. The commands
//! share what is below them in this folder: [`output`] (where they print),
//! [`outcome`] (how they end) and [`scope`] (the state they work on).

mod outcome;
mod output;
mod scope;

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

use anyhow::Result;

pub use self::outcome::Status;
use self::output::{out, stderr_line};
use self::scope::Scope;
use crate::cli::{Cli, Command};

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
