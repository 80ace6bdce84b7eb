//! `roster fmt`: rewrite state files in canonical form, keeping comments.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::outcome::Status;
use super::output::outln;
use crate::cli::FmtArgs;
use crate::state::format::canonical;

pub(super) fn run(dir: &Path, args: &FmtArgs) -> Result<Status> {
    super::scope::warn_near_misses(dir);
    let files = crate::state::toml_files(dir)
        .with_context(|| format!("cannot read the state directory {}", dir.display()))?;
    let mut changed = Vec::new();
    let mut errors = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        match canonical(&text) {
            Ok(out) if out != text => changed.push((path, out)),
            Ok(_) => {}
            Err(e) => errors.push(syntax_error(path, &text, &e)),
        }
    }
    if !errors.is_empty() {
        bail!(
            "cannot format files that are not valid TOML; nothing was written:\n{}",
            errors.join("\n")
        );
    }
    if args.check {
        for (path, _) in &changed {
            outln!("would reformat {}", path.display())?;
        }
        if !changed.is_empty() {
            bail!(
                "{} file{} not in canonical form; run `roster fmt`",
                changed.len(),
                if changed.len() == 1 { " is" } else { "s are" }
            );
        }
    } else {
        // Every path is checked before any is written: a state file that is
        // a symlink out of the state directory is not written through.
        let targets = changed
            .iter()
            .map(|(path, _)| crate::state::write::target_inside(dir, path))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| anyhow!("{e}; nothing was written"))?;
        for ((path, out), real) in changed.iter().zip(&targets) {
            crate::state::write::write_atomic(real, out).map_err(|e| anyhow!(e))?;
            outln!("formatted {}", path.display())?;
        }
    }
    outln!(
        "{}",
        canonical_count(files.len() - changed.len(), files.len(), args.check)
    )?;
    Ok(Status::Success)
}

/// `2 of 3 state files were already canonical.`, in agreement: `The state
/// file is canonical.`, `1 of 2 state files was already canonical.`
fn canonical_count(canonical: usize, total: usize, check: bool) -> String {
    let (is, are) = if check {
        ("is", "are")
    } else {
        ("was already", "were already")
    };
    if total == 1 {
        let not = if canonical == 1 { "" } else { " not" };
        let verb = if check { "is" } else { "was" };
        let already = if canonical == 1 && !check {
            " already"
        } else {
            ""
        };
        return format!("The state file {verb}{not}{already} canonical.");
    }
    let verb = if canonical == 1 { is } else { are };
    format!("{canonical} of {total} state files {verb} canonical.")
}

/// A TOML syntax error as `file:line:column: message`, without the source
/// line the parser quotes: that line may hold a secret written inline.
fn syntax_error(path: &Path, text: &str, e: &toml_edit::TomlError) -> String {
    let source = crate::state::SourceFile::new(path, text.to_string());
    let (line, column) = e
        .span()
        .map_or((1, 1), |span| source.line_column(span.start));
    format!(
        "{}:{line}:{column}: {}",
        crate::escape::visible(&path.display().to_string()),
        crate::escape::visible(e.message().trim_end())
    )
}
