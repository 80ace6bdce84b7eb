//! How a command ends, for the process's exit code.

/// How a successful command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Success,
    /// Exit 2: the plan has changes (`--detailed-exitcode`).
    Changes,
    /// Exit 130: stopped by Ctrl-C or SIGTERM (after its report).
    Interrupted,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Changes => 2,
            Status::Interrupted => 130,
        }
    }
}
