//! What a run costs in requests: counted by each client's pacer as they
//! are sent (see `retry.rs`), and estimated by each provider for a plan.

use serde::Serialize;

/// Requests a client sent, and how many of them were retries (after a 429,
/// a 5xx or a lost connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Requests {
    pub sent: u64,
    pub retried: u64,
}
