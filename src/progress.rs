//! Progress on long reads and applies: drawn on stderr when it is a terminal,
//! never in CI (`CI` set) or when output is piped. Notices (a request slow
//! to answer) are shown always: above the indicator when one is drawn,
//! else as a line on stderr.

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress indicator that may be switched off; cheap to pass around.
#[derive(Clone, Debug)]
pub struct Progress(Option<ProgressBar>);

/// The indicator drawn now, if any: notices are printed above it.
static DRAWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How a notice is printed when no indicator is drawn (the face's printer).
static PRINTER: OnceLock<fn(&str)> = OnceLock::new();

/// Sets how notices are printed when no indicator is drawn.
pub fn set_notice_printer(print: fn(&str)) {
    // Set once per process; a second call keeps the first printer.
    let _ = PRINTER.set(print);
}

/// Shows `line` (already escaped) to whoever watches: above the drawn
/// indicator, else through the notice printer.
pub fn notice(line: &str) {
    let drawn = DRAWN.lock().ok().and_then(|d| d.clone());
    match (drawn, PRINTER.get()) {
        (Some(bar), _) => bar.println(line),
        (None, Some(print)) => print(line),
        (None, None) => {}
    }
}

fn drawn(bar: ProgressBar) -> Progress {
    if let Ok(mut d) = DRAWN.lock() {
        *d = Some(bar.clone());
    }
    Progress(Some(bar))
}

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
        drawn(bar)
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
        drawn(bar)
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
            // The drawn indicator shares this one's state: finished too
            // when it is this one.
            if let Ok(mut d) = DRAWN.lock()
                && d.as_ref().is_some_and(ProgressBar::is_finished)
            {
                *d = None;
            }
        }
    }
}
