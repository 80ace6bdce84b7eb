//! Ctrl-C (SIGINT) and SIGTERM during a command that writes.
//!
//! Before apply sends anything, a signal ends the command at once (exit
//! 130, nothing changed). While it applies, the first signal closes the
//! gate: no change starts, the changes under way finish (at most
//! [`GRACE`]), and the usual report follows. A second signal, or the grace
//! running out, exits at once naming the changes that were under way. Every
//! exit that skips destructors first runs the cleanup (the sandbox saves
//! what it accepted) and removes this process's locks.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

use super::output::stderr_line;
use crate::interrupt::Gate;

/// How long the changes under way may take to finish after the first signal.
pub(super) const GRACE: Duration = Duration::from_secs(30);

/// The exit code of a command ended by a signal (128 + SIGINT).
pub(super) const INTERRUPTED: i32 = 130;

const PREPARING: u8 = 0;
const APPLYING: u8 = 1;
const DONE: u8 = 2;
const CONFIRMING: u8 = 3;

type Cleanup = Box<dyn Fn() + Send + Sync>;

/// Watches for SIGINT and SIGTERM for as long as it lives.
pub(super) struct Watcher {
    phase: Arc<AtomicU8>,
    cleanup: Arc<Mutex<Option<Cleanup>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Starts watching; until [`Watcher::applying`], a signal exits at once.
    pub(super) fn start(gate: Arc<Gate>) -> Result<Watcher> {
        let mut signals = Signals::new().context("cannot watch for Ctrl-C")?;
        let phase = Arc::new(AtomicU8::new(PREPARING));
        let cleanup: Arc<Mutex<Option<Cleanup>>> = Arc::new(Mutex::new(None));
        let (p, c) = (phase.clone(), cleanup.clone());
        let task = tokio::spawn(async move {
            loop {
                let name = signals.next().await;
                match p.load(Ordering::SeqCst) {
                    PREPARING => {
                        stderr_line!("\n{name}: stopped before any change was sent to a site.");
                        exit_now(&c);
                    }
                    CONFIRMING => {
                        stderr_line!("\nCancelled; nothing was changed.");
                        exit_now(&c);
                    }
                    APPLYING if !gate.is_stopped() => {
                        gate.stop();
                        let n = gate.in_flight().len();
                        stderr_line!(
                            "\n{name}: no new change is started; waiting for the {n} change{} under way to finish (at most {} s), then reporting. Press Ctrl-C again to exit at once.",
                            if n == 1 { "" } else { "s" },
                            GRACE.as_secs()
                        );
                        let (gate, c, p) = (gate.clone(), c.clone(), p.clone());
                        tokio::spawn(async move {
                            tokio::time::sleep(GRACE).await;
                            if p.load(Ordering::SeqCst) != APPLYING {
                                return;
                            }
                            give_up(
                                &gate,
                                &c,
                                &format!(
                                    "the changes under way did not finish within {} s",
                                    GRACE.as_secs()
                                ),
                            );
                        });
                    }
                    APPLYING => give_up(&gate, &c, &format!("{name} again")),
                    _ => give_up(&gate, &c, &format!("{name} after the apply")),
                }
            }
        });
        Ok(Watcher {
            phase,
            cleanup,
            task,
        })
    }

    /// What to do before exiting at once (save the in-process sandbox).
    pub(super) fn on_exit(&self, cleanup: Cleanup) {
        *self
            .cleanup
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cleanup);
    }

    /// The confirmation prompt is up: a signal cancels (exit 130).
    pub(super) fn confirming(&self) {
        self.phase.store(CONFIRMING, Ordering::SeqCst);
    }

    /// Changes are being sent: the first signal now stops gracefully.
    pub(super) fn applying(&self) {
        self.phase.store(APPLYING, Ordering::SeqCst);
    }

    /// The apply has ended: a signal now exits at once.
    pub(super) fn done(&self) {
        self.phase.store(DONE, Ordering::SeqCst);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Exits at once, naming what may have been under way.
fn give_up(gate: &Gate, cleanup: &Mutex<Option<Cleanup>>, why: &str) {
    let flying = gate.in_flight();
    let mut text = format!("\n{why}: exiting now, without waiting.\n");
    if flying.is_empty() {
        text += "No change was under way.\n";
    } else {
        text += "These changes were under way; each may or may not have taken effect:\n";
        for what in &flying {
            text += &format!("  {what}\n");
        }
    }
    text += "Run `roster plan` to see what is left, then `roster apply` again to finish.";
    stderr_line!("{text}");
    exit_now(cleanup);
}

fn exit_now(cleanup: &Mutex<Option<Cleanup>>) -> ! {
    if let Some(f) = cleanup
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
    {
        f();
    }
    crate::lock::release_all();
    std::process::exit(INTERRUPTED);
}

/// SIGINT and SIGTERM (Ctrl-C only where there are no Unix signals).
pub(super) struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub(super) fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for the next signal and names it.
    pub(super) async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "Interrupted (SIGINT)",
                _ = self.term.recv() => "Terminated (SIGTERM)",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Interrupted (Ctrl-C)"
        }
    }
}
