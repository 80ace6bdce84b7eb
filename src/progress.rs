//! Progress on long reads and applies: drawn on stderr when it is a terminal,
//! never in CI (`CI` set) or when output is piped.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress indicator that may be switched off; cheap to pass around.
#[derive(Clone, Debug)]
pub struct Progress(Option<ProgressBar>);

fn enabled() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

impl Progress {
    /// No progress at all.
    pub fn hidden() -> Self {
        Progress(None)
    }

    /// A spinner with a message, for work of unknown length.
    pub fn spinner(message: &str) -> Self {
        if !enabled() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner().with_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress(Some(bar))
    }

    /// A bar of `total` changes (or other units), the elapsed time kept
    /// live between them.
    pub fn bar(total: usize, message: &str) -> Self {
        if !enabled() || total == 0 {
            return Progress(None);
        }
        let bar = ProgressBar::new(total as u64).with_message(message.to_string());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress(Some(bar))
    }

    pub fn inc(&self, n: usize) {
        if let Some(b) = &self.0 {
            b.inc(n as u64);
        }
    }

    /// Removes the indicator from the screen.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
