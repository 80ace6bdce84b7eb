//! `roster sites`: the declared sites, for people and for CI matrices. It
//! loads and checks the state like `validate` and contacts nothing: no
//! credential is read and no command is run.

use anyhow::Result;
use serde::Serialize;

use super::outcome::Status;
use super::output::outln;
use super::scope::Scope;
use crate::cli::{SitesArgs, SitesFormat};

#[derive(Serialize)]
struct Listing<'a> {
    format_version: u32,
    sites: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    name: &'a str,
    provider: &'static str,
}

pub(super) fn run(scope: &Scope<'_>, args: &SitesArgs) -> Result<Status> {
    let desired = scope.load()?;
    let sites: Vec<Entry<'_>> = desired
        .sites
        .iter()
        .map(|s| Entry {
            name: &s.site.name,
            provider: s.site.provider.as_str(),
        })
        .collect();
    match args.format {
        SitesFormat::Json => {
            let listing = Listing {
                format_version: 1,
                sites,
            };
            outln!("{}", serde_json::to_string(&listing)?)?;
        }
        SitesFormat::Text => {
            let width = sites.iter().map(|s| s.name.len()).max().unwrap_or(0);
            for s in &sites {
                outln!("{:width$}  {}", s.name, s.provider)?;
            }
        }
    }
    Ok(Status::Success)
}
