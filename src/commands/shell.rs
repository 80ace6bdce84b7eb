//! `roster completions SHELL` and `roster man`: generated from the clap
//! definitions, so they never fall behind the commands.

use anyhow::Result;

use super::outcome::Status;
use super::output::write_stdout;

/// Prints the completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<Status> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "roster", &mut script);
    write_stdout(&String::from_utf8_lossy(&script))?;
    Ok(Status::Success)
}

/// Prints the man page: roster(1) with every subcommand's options.
pub(super) fn man() -> Result<Status> {
    let mut page = Vec::new();
    let mut command = crate::cli::command();
    // Built, so each subcommand lists the global options that apply to it.
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_subcommand(&mut page, sub)?;
    }
    man.render_version_section(&mut page)?;
    write_stdout(&String::from_utf8_lossy(&page))?;
    Ok(Status::Success)
}

/// One `roster NAME` section: what it does and its options, in roff.
fn render_subcommand(page: &mut Vec<u8>, sub: &clap::Command) -> std::io::Result<()> {
    use std::io::Write;
    let name = format!("roster {}", sub.get_name());
    writeln!(page, ".SH \"{}\"", name.to_uppercase())?;
    let sub = sub.clone().bin_name(name);
    let man = clap_mangen::Man::new(sub);
    let mut body = Vec::new();
    man.render_description_section(&mut body)?;
    man.render_synopsis_section(&mut body)?;
    man.render_options_section(&mut body)?;
    // Each part opens with its own .SH heading; a subcommand's parts are
    // subsections of its one section.
    let body = String::from_utf8_lossy(&body).replace(".SH ", ".SS ");
    page.write_all(body.as_bytes())
}
