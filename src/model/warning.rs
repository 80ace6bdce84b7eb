//! Warnings about the declared state: what is read but may not be what its
//! author meant, and files that look like state but are not read. They
//! never stop a command; every plan carries them, so a reviewer sees them.

use serde::{Deserialize, Serialize};

/// A warning about the declared state, at its place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Warning {
    /// `file:line:column` of what the warning is about, or a file's path.
    pub location: String,
    #[serde(flatten)]
    pub kind: WarningKind,
}

/// What a warning is about (`kind` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarningKind {
    /// A file under the state directory that looks like a state file but
    /// is not read (`people/x.tml`, `x.toml ` with a trailing space).
    NotRead {
        /// Why it is not read.
        why: String,
        /// The state directory.
        state_dir: String,
    },
    /// An `expires` date already past: plans remove what it ends.
    Expired {
        /// Who loses what: `ada@acme.com`, `ada@acme.com in Finance`, `edit
        /// on workspace Finance for team Analysts`.
        subject: String,
        on: chrono::NaiveDate,
    },
    /// A name that mixes scripts (`Vi\u{435}wer`, with a Cyrillic `е`): it
    /// looks like a name it is not.
    MixedScripts {
        /// `group`, `account type`, `user attribute`, `workspace`,
        /// `connection`, `member_type`, `email`, `grantee`
        what: String,
        name: String,
    },
}

impl Warning {
    /// A file not read (warned of on standard error as the state is
    /// loaded, before anything else).
    pub fn is_not_read(&self) -> bool {
        matches!(self.kind, WarningKind::NotRead { .. })
    }

    /// The warning as one line (without `warning: `), each value the state
    /// holds (a path, a name, an email) shown through `show`, which escapes
    /// it for where the line goes.
    pub fn line(&self, show: impl Fn(&str) -> String) -> String {
        match &self.kind {
            WarningKind::NotRead { why, state_dir } => format!(
                "{}: not read: {why}; only files named *.toml are state (rename it, or move it out of {})",
                // Quoted (the name may end in spaces), escaped once, by `show`.
                show(&format!("\"{}\"", self.location)),
                show(state_dir)
            ),
            WarningKind::Expired { subject, on } => format!(
                "{}: {}: expired on {on}; plans remove it until the date or the entry is changed",
                show(&self.location),
                show(subject)
            ),
            WarningKind::MixedScripts { what, name } => format!(
                "{}: {what} `{}` mixes scripts (such as a Cyrillic letter among Latin ones), so it looks like a name it is not; retype it if that was not meant",
                show(&self.location),
                show(name)
            ),
        }
    }
}
