//! The ids of a Periscope site with role-based access: its API takes roles
//! and users by id, and people write role names and emails.

use std::collections::HashMap;

use super::role_wire::LiveRole;

/// The ids of a site's roles and users, as read and as made since.
#[derive(Debug, Default)]
pub(crate) struct RoleIds {
    pub(super) roles: Vec<LiveRole>,
    /// User ids by email, lower-cased.
    pub(super) users: HashMap<String, String>,
}

impl RoleIds {
    /// A role's id by name: as written, else ignoring case and the spaces
    /// around it (how the site matches names is not documented).
    pub(super) fn role(&self, name: &str) -> Option<&str> {
        let exact = self.roles.iter().find(|r| r.name == name);
        let loose = || {
            self.roles
                .iter()
                .find(|r| r.name.trim().to_lowercase() == name.trim().to_lowercase())
        };
        exact.or_else(loose).map(|r| r.id.as_str())
    }

    pub(super) fn role_name(&self, id: &str) -> Option<&str> {
        self.roles
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.as_str())
    }

    pub(super) fn user(&self, email: &str) -> Option<&str> {
        self.users.get(&email.trim().to_lowercase()).map(String::as_str)
    }
}

