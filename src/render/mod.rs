//! Rendering plans for people and machines.

pub mod text;

/// Whether to colour what goes to stdout: only on a terminal, never with
/// `NO_COLOR` set (https://no-color.org), always with `CLICOLOR_FORCE`.
pub fn stdout_color() -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    console::colors_enabled()
}
