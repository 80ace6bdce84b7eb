//! The desired state: TOML files under the state directory, loaded, checked
//! and turned into the model.

mod credentials;
mod diagnostic;
mod load;
mod schema;
mod validate;

use std::path::Path;

pub use credentials::{MissingCredentials, resolve_credentials};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use validate::{PERISCOPE_DEFAULT_URL, check_base_url, is_valid_email};

use crate::model::DesiredState;

/// Reads and checks every `*.toml` file under `dir`. Either the whole state
/// is valid, or every problem found is returned, each with its location.
pub fn load(dir: &Path) -> Result<DesiredState, Diagnostics> {
    let parsed = load::read_dir(dir);
    validate::build(parsed).map_err(Diagnostics)
}
