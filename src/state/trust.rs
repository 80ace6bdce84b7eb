//! Trusted connection settings (`--sites-from DIR`). A pull request's state
//! is data: it may change people, groups and policy, but what runs (credential
//! commands) and where a request or a credential goes come from a trusted
//! checkout. The state is compared with it before anything is run or sent.

use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::load::{Entry, Parsed};
use super::schema::{SITE_KEY_TABLES, SiteSpec};
use crate::model::{DesiredState, Site};
use crate::provider::site_keys::{self, ConnectionSetting, Order};

/// The settings of a site that decide what runs or where a request goes:
/// the site keys declared as connection settings (see `site_keys!`), in
/// their order.
pub const CONNECTION_SETTINGS: &[&str] = &CONNECTION;

const CONNECTION: [&str; site_keys::count(&SITE_KEY_TABLES, Order::Connection)] =
    site_keys::names(&SITE_KEY_TABLES, Order::Connection);

/// Why a state cannot be used with trusted connection settings.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The state under `--state` itself has problems.
    #[error("{0}")]
    State(Diagnostics),
    /// The trusted state cannot be read, or its sites are not valid.
    #[error("the trusted state under {dir} cannot be used: {diagnostics}")]
    Trusted {
        dir: PathBuf,
        diagnostics: Diagnostics,
    },
    /// The state declares connection settings the trusted state does not.
    #[error("{} difference{} from the trusted connection settings", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Differs(Vec<Diagnostic>),
}

/// The state under `dir`, every site's connection settings taken from the
/// state under `trusted`, and notes on trusted sites the state leaves out.
/// Fails, before anything is run or sent, when the state declares a
/// connection setting differently or a site the trusted state lacks.
pub(super) fn load_with_sites_from(
    dir: &Path,
    trusted: &Path,
    piece_bytes: usize,
    today: chrono::NaiveDate,
) -> Result<(DesiredState, super::StateRead, Vec<String>), TrustError> {
    outside_files(dir).map_err(|d| TrustError::State(Diagnostics(d)))?;
    let parsed = super::load::read_dir(dir, piece_bytes);
    let read = super::StateRead::of(&parsed, today);
    let located = declared(&parsed);
    let desired = super::validate::build(parsed).map_err(|d| TrustError::State(Diagnostics(d)))?;
    let (trusted_sites, trusted_declared) = load_trusted(trusted, piece_bytes)?;
    let differences = compare(&located, &trusted_declared, trusted);
    if !differences.is_empty() {
        return Err(TrustError::Differs(differences));
    }
    let notes = left_out(&desired, &trusted_sites, trusted);
    Ok((
        with_trusted_connections(desired, &trusted_sites),
        read,
        notes,
    ))
}

/// An untrusted state may not reach out of its directory: a symlink there
/// to a file elsewhere on the machine (a credentials file, `/proc/...`)
/// would be read, and what a message quotes of it printed. Nothing is read
/// when one is found.
fn outside_files(dir: &Path) -> Result<(), Vec<Diagnostic>> {
    // The directory itself may not lead elsewhere either: a pull request
    // can make `state` a symlink to any directory on the machine.
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(vec![Diagnostic {
            file: dir.to_path_buf(),
            line: 1,
            column: 1,
            message: "the state directory is a symlink; with --sites-from the state is untrusted and is read only from a real directory".into(),
            hint: Some("check out the state as files, not as a link to a directory elsewhere".into()),
        }]);
    }
    let Ok(root) = std::fs::canonicalize(dir) else {
        return Ok(()); // reading it reports why it cannot be read
    };
    let found = super::discover::discover(dir);
    let outside: Vec<Diagnostic> = found
        .files
        .iter()
        .filter(|f| std::fs::canonicalize(f).is_ok_and(|real| !real.starts_with(&root)))
        .map(|f| Diagnostic {
            file: f.clone(),
            line: 1,
            column: 1,
            message: "this file lies outside the state directory (it is reached through a symlink); with --sites-from the state is untrusted and is read only from inside its directory".into(),
            hint: Some("put the file itself in the state directory instead of a symlink to it".into()),
        })
        .collect();
    if outside.is_empty() {
        Ok(())
    } else {
        Err(outside)
    }
}

/// A setting, its canonical value, and its `(line, column)` when written.
type LocatedSetting = (&'static str, Option<String>, Option<(usize, usize)>);

/// A site's settings with their locations turned into `file:line:column`.
struct Located {
    name: String,
    path: PathBuf,
    table: (usize, usize),
    settings: Vec<LocatedSetting>,
}

/// The trusted sites, checked, and their settings as written. Any problem
/// in the trusted state stops the command: nothing in it is guessed.
fn load_trusted(dir: &Path, piece_bytes: usize) -> Result<(Vec<Site>, Vec<Located>), TrustError> {
    let fail = |diagnostics: Vec<Diagnostic>| TrustError::Trusted {
        dir: dir.to_path_buf(),
        diagnostics: Diagnostics(diagnostics),
    };
    let parsed = super::load::read_dir(dir, piece_bytes);
    if !parsed.entries.diagnostics.is_empty() {
        return Err(fail(parsed.entries.diagnostics));
    }
    let located = declared(&parsed);
    let sites = super::validate::build_sites(&parsed).map_err(fail)?;
    Ok((sites, located))
}

/// Every site's connection settings as written, located.
fn declared(parsed: &Parsed) -> Vec<Located> {
    parsed
        .entries
        .sites
        .iter()
        .map(|(name, entry)| {
            let file = &parsed.files[entry.file];
            Located {
                name: name.get_ref().clone(),
                path: file.path.clone(),
                table: file.line_column(entry.span.start),
                settings: settings(entry)
                    .into_iter()
                    .map(|s| {
                        let at = s.span.map(|r| file.line_column(r.start));
                        (s.key, s.value, at)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Every connection setting of a site table, in [`CONNECTION_SETTINGS`] order.
fn settings(entry: &Entry<SiteSpec>) -> Vec<ConnectionSetting> {
    let spec = &entry.spec;
    let mut all = spec.common.connection_settings();
    all.extend(spec.providers.connection_settings());
    all.sort_by_key(|s| s.place);
    all
}

/// One problem for each site the trusted state lacks and for each
/// connection setting declared differently, located in the state.
fn compare(state: &[Located], trusted: &[Located], dir: &Path) -> Vec<Diagnostic> {
    let trusted_by_name: std::collections::HashMap<&str, &Located> =
        trusted.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut out = Vec::new();
    for site in state {
        let Some(t) = trusted_by_name.get(site.name.as_str()) else {
            out.push(Diagnostic {
                file: site.path.clone(),
                line: site.table.0,
                column: site.table.1,
                message: format!(
                    "site `{}` is not declared in the trusted state under {}; roster will not contact it",
                    site.name,
                    dir.display()
                ),
                hint: Some(hint(
                    "declare the new site in a pull request of its own",
                )),
            });
            continue;
        };
        for ((key, value, at), (_, trusted_value, trusted_at)) in
            site.settings.iter().zip(&t.settings)
        {
            if value == trusted_value {
                continue;
            }
            let (line, column) = at.unwrap_or(site.table);
            let (tl, tc) = trusted_at.unwrap_or(t.table);
            out.push(Diagnostic {
                file: site.path.clone(),
                line,
                column,
                message: format!(
                    "site `{}`: connection setting `{key}` {} the trusted state ({}:{tl}:{tc})",
                    site.name,
                    match (value, trusted_value) {
                        (Some(_), Some(_)) => "is declared differently from",
                        (Some(_), None) => "is declared here but not in",
                        (None, _) => "is missing here but declared in",
                    },
                    t.path.display(),
                ),
                hint: Some(hint(&format!(
                    "keep `{key}` as the trusted state has it here, and change it in a pull request of its own"
                ))),
            });
        }
    }
    out
}

fn hint(what: &str) -> String {
    format!(
        "connection settings ({}) come from the trusted state, and a change to them is planned from the default branch after merge: {what}",
        CONNECTION_SETTINGS.join(", ")
    )
}

/// Notes on the trusted sites the state does not declare: they are not
/// planned and not contacted.
fn left_out(desired: &DesiredState, trusted: &[Site], dir: &Path) -> Vec<String> {
    let declared: std::collections::HashSet<&str> =
        desired.sites.iter().map(|s| s.site.name.as_str()).collect();
    trusted
        .iter()
        .filter(|t| !declared.contains(t.name.as_str()))
        .map(|t| {
            format!(
                "site `{}` is declared in the trusted state under {} but not in the state; it is not planned and not contacted",
                t.name,
                dir.display()
            )
        })
        .collect()
}

/// Every site's connection settings replaced by the trusted ones; people,
/// groups and policy stay as the state declares them.
fn with_trusted_connections(mut desired: DesiredState, trusted: &[Site]) -> DesiredState {
    for d in &mut desired.sites {
        if let Some(t) = trusted.iter().find(|t| t.name == d.site.name) {
            d.site = with_connection_of(&d.site, t);
        }
    }
    desired
}

fn with_connection_of(site: &Site, trusted: &Site) -> Site {
    // The providers were compared first; were they to differ, the
    // trusted site's settings win whole.
    let config = site.config.with_connection_of(&trusted.config);
    Site {
        provider: trusted.provider,
        base_url: trusted.base_url.clone(),
        max_requests_per_second: trusted.max_requests_per_second,
        patience_seconds: trusted.patience_seconds,
        max_response_bytes: trusted.max_response_bytes,
        deadline_seconds: trusted.deadline_seconds,
        config,
        ..site.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::Entry;
    use super::{CONNECTION_SETTINGS, settings};

    #[test]
    fn every_connection_setting_is_compared_in_the_order_listed() {
        let spec = toml::from_str("provider = \"periscope\"\ntoken = { env = \"T\" }\n").unwrap();
        let entry = Entry {
            file: 0,
            span: 0..0,
            spec,
        };
        let compared = settings(&entry);
        let keys: Vec<&str> = compared.iter().map(|s| s.key).collect();
        assert_eq!(keys, CONNECTION_SETTINGS);
        let value = |key: &str| compared.iter().find(|s| s.key == key).unwrap();
        assert_eq!(value("provider").value.as_deref(), Some("periscope"));
        assert_eq!(value("token").value.as_deref(), Some("env T"));
        assert_eq!(value("site").value, None);
    }
}
