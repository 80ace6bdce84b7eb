//! Where commands print: standard output through [`write_stdout`] (the
//! `out!` and `outln!` macros), standard error through [`write_stderr`]
//! (`stderr_line!`, `stderr_text!`), every value in a warning escaped.

use anyhow::Result;

/// Writes to standard output (see [`write_stdout`]); `?` it.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::output::write_stdout(&format!($($arg)*))
    };
}
pub(crate) use out;

/// [`out!`] with a newline.
macro_rules! outln {
    () => {
        $crate::commands::output::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::commands::output::write_stdout(&format!("{}\n", format!($($arg)*)))
    };
}
pub(crate) use outln;

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
        $crate::commands::output::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use stderr_line;

/// `eprint!` through [`write_stderr`].
macro_rules! stderr_text {
    ($($arg:tt)*) => {
        $crate::commands::output::write_stderr(format_args!($($arg)*))
    };
}
pub(crate) use stderr_text;

/// Each warning on its own line of standard error, every value in it
/// escaped.
pub(super) fn stderr_warnings<'a>(warnings: impl IntoIterator<Item = &'a crate::model::Warning>) {
    for w in warnings {
        stderr_line!("warning: {}", w.line(crate::escape::text));
    }
}

/// [`stderr_warnings`] of all but the files not read, which were said as
/// the state was loaded.
pub(super) fn stderr_placed_warnings(warnings: &[crate::model::Warning]) {
    stderr_warnings(warnings.iter().filter(|w| !w.is_not_read()));
}
