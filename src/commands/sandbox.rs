//! `roster sandbox`: serve the emulator on a fixed port until Ctrl-C or
//! SIGTERM. With `--save`, the data file is locked while it runs and saved
//! when a signal arrives (every write answered so far), again once the
//! requests under way have been answered, and at once on a second signal.

use std::io::Write;

use anyhow::{Context, Result};

use super::outcome::Status;
use super::output::stderr_line;
use super::signals::Signals;
use crate::cli::SandboxArgs;
use crate::sandbox::faults::Faults;
use crate::sandbox::{Options, Sandbox, persist};

pub(super) async fn run(args: &SandboxArgs) -> Result<Status> {
    if let Some(path) = &args.data {
        persist::check_regular(path)?;
    }
    let saving = args.data.clone().filter(|_| args.save);
    let _lock = saving
        .as_deref()
        .map(|path| {
            crate::lock::acquire(
                &crate::lock::data_lock_path(path),
                "roster sandbox --save",
                &super::force_unlock::hint(std::path::Path::new("state"), None, Some(path)),
            )
        })
        .transpose()?;
    // Watched from the start: a signal is never the default (dying unsaved).
    let mut signals = Signals::new().context("cannot watch for Ctrl-C")?;
    let data = load_data(args)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} (pick another with --port)",
                args.port
            )
        })?;
    let url = format!("http://{}", listener.local_addr()?);
    let banner = banner(&url, &data);
    // The server outlives whoever reads this: a closed stdout (`| head`)
    // must not stop it.
    let mut out = std::io::stdout();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    let sandbox = Sandbox::with_options(data, options(args));
    let save = saving.map(|path| {
        let sandbox = sandbox.clone();
        move || persist::save(&path, &sandbox.data()).map(|()| path.clone())
    });
    let on_signal = save.clone();
    sandbox
        .serve(listener, async move {
            let name = signals.next().await;
            stderr_line!("{name}: stopping once the requests under way are answered");
            if let Some(save) = &on_signal {
                report(save());
            }
            tokio::spawn(async move {
                let name = signals.next().await;
                stderr_line!("{name} again: stopping now");
                if let Some(save) = &on_signal {
                    report(save());
                }
                crate::lock::release_all();
                std::process::exit(super::signals::INTERRUPTED);
            });
        })
        .await?;
    if let Some(save) = &save {
        let path = save()?;
        stderr_line!("saved the sandbox data to {}", path.display());
    }
    Ok(Status::Success)
}

/// The data file's data, or the seed (saved to the file when it names one
/// that does not exist yet).
fn load_data(args: &SandboxArgs) -> Result<crate::sandbox::SandboxData> {
    Ok(match &args.data {
        Some(path) if path.exists() => persist::load(path)?,
        Some(path) => {
            let seed = persist::seed();
            persist::save(path, &seed)?;
            stderr_line!("created {} from the seed", path.display());
            seed
        }
        None => persist::seed(),
    })
}

/// How the sandbox behaves, from the command line.
fn options(args: &SandboxArgs) -> Options {
    Options {
        token_ttl: std::time::Duration::from_secs(args.token_ttl.max(1)),
        latency: std::time::Duration::from_millis(args.latency_ms),
        faults: Faults {
            error_rate: args.error_rate,
            throttle_rate: args.throttle_rate,
            drop_rate: args.drop_rate,
            retry_after_secs: args.retry_after,
            seed: args.seed,
        },
        edge_throttle: std::time::Duration::from_secs(args.edge_throttle_seconds),
        page_size: args.page_size.map(|n| n as usize),
        ..Options::default()
    }
}

/// What `roster sandbox` prints first: where it listens and the test
/// credentials of every emulated site.
fn banner(url: &str, data: &crate::sandbox::SandboxData) -> String {
    let mut banner = format!("roster sandbox listening on {url}\n");
    banner += &format!("Point roster at it with: roster plan --sandbox-url {url}\n");
    banner += "Test credentials of the emulated sites (they are not secrets):\n";
    banner += &data.banner(url);
    banner += "Stop with Ctrl-C.\n";
    banner
}

fn report(saved: Result<std::path::PathBuf, persist::SandboxFileError>) {
    match saved {
        Ok(path) => stderr_line!("saved the sandbox data to {}", path.display()),
        Err(e) => stderr_line!("error: {e}"),
    }
}
