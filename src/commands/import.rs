//! `roster import --csv FILE [--remove]`: edit the state from a CSV file.
//! The edit is checked like any state before it is kept; it is then
//! reviewed and applied through `roster plan` and `roster apply`.

use std::path::Path;

use anyhow::{Result, anyhow, bail};

use super::{Status, load_state};
use crate::cli::ImportArgs;
use crate::state::edit::StateFiles;

pub fn run(dir: &Path, args: &ImportArgs) -> Result<Status> {
    // The state must be valid before it is edited.
    load_state(dir)?;
    let mut files = StateFiles::open(dir).map_err(|e| anyhow!(e))?;
    let result = if args.remove {
        crate::import::csv::remove(&args.csv, &mut files)
    } else {
        crate::import::csv::batch_update(&args.csv, &mut files)
    };
    let people = match result {
        Ok(n) => n,
        Err(problems) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            bail!(
                "{} problem{} in {}; nothing was written",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                args.csv.display()
            );
        }
    };
    let changed = files.changed();
    let verb = if args.remove { "remove" } else { "update" };
    if args.dry_run {
        for (path, text) in &changed {
            println!("--- {} would become:\n{text}", path.display());
        }
        println!(
            "Would {verb} {people} people in {} file(s); nothing was written.",
            changed.len()
        );
        return Ok(Status::Success);
    }
    // Keep the originals: if the edited state is not valid, put them back.
    let originals: Vec<(std::path::PathBuf, String)> = changed
        .iter()
        .map(|(p, _)| {
            (
                p.to_path_buf(),
                std::fs::read_to_string(p).unwrap_or_default(),
            )
        })
        .collect();
    let written = files.write().map_err(|e| anyhow!(e))?;
    if let Err(problems) = crate::state::load(dir) {
        for (path, text) in &originals {
            let _ = std::fs::write(path, text);
        }
        for d in &problems.0 {
            eprintln!("error: {d}");
        }
        bail!("the edited state would not be valid; the files were left as they were");
    }
    for path in &written {
        println!("edited {}", path.display());
    }
    println!(
        "{}d {people} people from {}. Review with `git diff`, then `roster plan`.",
        if args.remove { "Remove" } else { "Update" },
        args.csv.display()
    );
    Ok(Status::Success)
}
