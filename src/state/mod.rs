//! The desired state: TOML files under the state directory, loaded, checked
//! and turned into the model.

mod checks;
mod chunks;
mod credentials;
mod diagnostic;
mod discover;
pub mod edit;
pub mod format;
pub(crate) mod insight;
mod load;
mod lookalike;
mod schema;
mod site;
mod trust;
mod validate;
mod warnings;
pub mod write;

use std::path::Path;

pub use credentials::{MissingCredentials, resolve_credentials};
pub use diagnostic::{Diagnostic, Diagnostics, SourceFile};
pub use discover::{near_misses, state_dirs};
pub use insight::Dated;
pub(crate) use insight::{GrantValue, check_date, plain_date};
pub(crate) use load::{Entry, read_list};
pub use load::{Parsed, toml_files};
pub use lookalike::Lookalike;
pub use schema::SecretRef;
pub(crate) use schema::{AttrValues, Fields};
pub use site::{BaseUrlError, SiteCheck, check_base_url};
pub use trust::{CONNECTION_SETTINGS, TrustError};
pub use validate::is_valid_email;
pub(crate) use validate::{Checker, Loaded, NamedCheck};
pub use warnings::not_read;

use crate::model::{DesiredState, Warning};

/// The JSON Schema of state files, for editors (see `schema/`).
pub fn json_schema() -> String {
    // TOML has no null: an absent key is how a value is left out.
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(drop_null)
        .into_generator();
    let schema = generator.into_root_schema_for::<schema::StateFile>();
    serde_json::to_string_pretty(&schema).expect("a schema always serializes") + "\n"
}

/// Removes the `null` alternative schemars gives every `Option`.
fn drop_null(schema: &mut schemars::Schema) {
    use serde_json::Value;
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(any)) = schema.get_mut("anyOf") {
        any.retain(|s| s.get("type").and_then(Value::as_str) != Some("null"));
        if let [only] = any.as_slice() {
            let only = only.clone();
            schema.remove("anyOf");
            if let Value::Object(fields) = only {
                for (k, v) in fields {
                    schema.insert(k, v);
                }
            }
        }
    }
    schemars::transform::transform_subschemas(&mut drop_null, schema);
}

/// Reads and checks every `*.toml` file under `dir`. Either the whole state
/// is valid, or every problem found is returned, each with its location.
pub fn load(dir: &Path) -> Result<DesiredState, Diagnostics> {
    load_in_pieces(dir, chunks::MIN_CHUNK_BYTES)
}

/// [`load`], reading files larger than twice `piece_bytes` piece by piece.
/// The answer is the same whatever the size; tests check that it is.
pub fn load_in_pieces(dir: &Path, piece_bytes: usize) -> Result<DesiredState, Diagnostics> {
    let parsed = load::read_dir(dir, piece_bytes);
    validate::build(parsed).map_err(Diagnostics)
}

/// [`load`], every site's connection settings taken from the trusted state
/// under `trusted` (see `trust.rs`); with notes on trusted sites left out.
pub fn load_with_sites_from(
    dir: &Path,
    trusted: &Path,
    today: chrono::NaiveDate,
) -> Result<(DesiredState, StateRead, Vec<String>), TrustError> {
    trust::load_with_sites_from(dir, trusted, chunks::MIN_CHUNK_BYTES, today)
}

/// [`load`], saying also how much was read and what it warns of (dates
/// before `today`, look-alike names), from the one read of its files.
pub fn load_counted(
    dir: &Path,
    today: chrono::NaiveDate,
) -> Result<(DesiredState, StateRead), Diagnostics> {
    let parsed = load::read_dir(dir, chunks::MIN_CHUNK_BYTES);
    let read = StateRead::of(&parsed, today);
    let desired = validate::build(parsed).map_err(Diagnostics)?;
    Ok((desired, read))
}

/// What reading a state found besides the model: how much it read, and
/// the warnings about what it holds (files not read aside: see
/// [`not_read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRead {
    pub summary: ReadSummary,
    pub warnings: Vec<Warning>,
}

impl StateRead {
    fn of(parsed: &load::Parsed, today: chrono::NaiveDate) -> StateRead {
        StateRead {
            summary: ReadSummary::of(parsed),
            warnings: warnings::placed(parsed, today),
        }
    }
}

/// How many files were read and what they declare: shown with every plan
/// so that a reviewer sees a drop (a file no longer read, people missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSummary {
    pub files: usize,
    pub sites: usize,
    pub people: usize,
    pub groups: usize,
}

impl ReadSummary {
    fn of(parsed: &load::Parsed) -> ReadSummary {
        ReadSummary {
            files: parsed.files.len(),
            sites: parsed.entries.sites.len(),
            people: parsed.entries.users.len(),
            groups: parsed.entries.groups.len(),
        }
    }

    /// `3 state files: 1 site, 12 people, 5 groups`
    pub fn describe(&self) -> String {
        let n = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        format!(
            "{}: {}, {}, {}",
            n(self.files, "state file", "state files"),
            n(self.sites, "site", "sites"),
            n(self.people, "person", "people"),
            n(self.groups, "group", "groups"),
        )
    }
}
