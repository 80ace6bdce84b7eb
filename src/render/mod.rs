//! Rendering plans for people and machines.

pub mod access;
pub mod apply;
pub mod attrs;
pub mod insight;
pub mod json;
pub mod markdown;
pub mod text;

#[cfg(test)]
pub(crate) mod hostile_tests;
#[cfg(test)]
mod tests;

/// Whether to colour what goes to stdout: only on a terminal, never with
/// `NO_COLOR` set (https://no-color.org), always with `CLICOLOR_FORCE`.
pub fn stdout_color() -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    console::colors_enabled()
}

/// How `plan` and `apply` print the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a console or a CI log.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For programs; the same schema as a saved plan.
    Json,
}

/// The plan in the chosen format. Markdown and JSON carry the fingerprint of
/// the desired state; it is computed only for them.
pub fn render(
    plan: &crate::plan::Plan,
    desired: &crate::plan::DesiredFingerprint,
    format: Format,
) -> String {
    match format {
        Format::Text => text::render(plan, stdout_color()),
        Format::Markdown => markdown::render(
            plan,
            desired.get(),
            markdown::DEFAULT_BUDGET,
            "the JSON plan saved with `roster plan --out` (the workflow's `roster-plan` artifact)",
        ),
        Format::Json => json::render(plan, desired.get()),
    }
}
