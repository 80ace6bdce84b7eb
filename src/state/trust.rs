//! Trusted connection settings (`--sites-from DIR`). A pull request's state
//! is data: it may change people, groups and policy, but what runs (credential
//! commands) and where a request or a credential goes come from a trusted
//! checkout. The state is compared with it before anything is run or sent.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::load::{Entry, Parsed};
use super::schema::{SecretRef, SiteSpec};
use crate::model::{DesiredState, Site};

/// The settings of a site that decide what runs or where a request goes.
pub const CONNECTION_SETTINGS: &[&str] = &[
    "provider",
    "site",
    "base_url",
    "cloud",
    "api_key",
    "client_id",
    "client_secret",
    "token",
    "max_requests_per_second",
    "patience_seconds",
    "max_response_bytes",
    "deadline_seconds",
];

/// One connection setting as written: its canonical value (`None` when
/// absent) and where it is written.
struct Setting {
    key: &'static str,
    value: Option<String>,
    span: Option<Range<usize>>,
}

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
pub fn load_with_sites_from(
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
fn settings(entry: &Entry<SiteSpec>) -> Vec<Setting> {
    let spec = &entry.spec;
    let text = |key, v: &Option<Spanned<String>>| Setting {
        key,
        value: v.as_ref().map(|s| s.get_ref().trim().to_string()),
        span: v.as_ref().map(Spanned::span),
    };
    let number = |key, v: &Option<Spanned<i64>>| Setting {
        key,
        value: v.as_ref().map(|n| n.get_ref().to_string()),
        span: v.as_ref().map(Spanned::span),
    };
    let secret = |key, v: &Option<Spanned<SecretRef>>| Setting {
        key,
        value: v.as_ref().map(|s| match s.get_ref() {
            SecretRef::Env(var) => format!("env {}", var.trim()),
            SecretRef::Command(cmd) => format!("command {cmd}"),
            SecretRef::Inline => "inline".to_string(),
            SecretRef::NotText(key) => format!("{key} not a string"),
        }),
        span: v.as_ref().map(Spanned::span),
    };
    let base_url = Setting {
        key: "base_url",
        // Parsed, so `https://h` and `https://h/` are the same address.
        value: spec.base_url.as_ref().map(|u| {
            let raw = u.get_ref().trim();
            url::Url::parse(raw).map_or_else(|_| raw.to_string(), |u| u.to_string())
        }),
        span: spec.base_url.as_ref().map(Spanned::span),
    };
    vec![
        Setting {
            key: "provider",
            value: Some(spec.provider.get_ref().trim().to_string()),
            span: Some(spec.provider.span()),
        },
        text("site", &spec.site),
        base_url,
        text("cloud", &spec.cloud),
        secret("api_key", &spec.api_key),
        secret("client_id", &spec.client_id),
        secret("client_secret", &spec.client_secret),
        secret("token", &spec.token),
        Setting {
            key: "max_requests_per_second",
            value: spec.max_requests_per_second.map(|r| r.to_string()),
            // A float keeps no span; the site's table is pointed at.
            span: None,
        },
        // How long a request keeps trying: a pull request could otherwise
        // hold a plan job (and its credentials) for an hour a request.
        number("patience_seconds", &spec.patience_seconds),
        // How much an answer may hold and how long a site may take: a pull
        // request could otherwise let a site exhaust the job's memory.
        number("max_response_bytes", &spec.max_response_bytes),
        number("deadline_seconds", &spec.deadline_seconds),
    ]
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
