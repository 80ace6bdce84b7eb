//! The cost of applying a plan: how many requests apply sends to a site
//! (the reads the plan was made from, made again, and the writes its
//! provider says the changes take) and roughly how long that takes at the
//! site's pacing.

use serde::Serialize;

/// Requests apply sends to one site, and how fast it may send them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunCost {
    pub reads: u64,
    pub writes: u64,
    /// `max_requests_per_second`, when the site sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_second: Option<f64>,
}

impl RunCost {
    pub fn requests(&self) -> u64 {
        self.reads + self.writes
    }

    /// The shortest time the site's request budget allows, in seconds.
    pub fn seconds(&self) -> Option<f64> {
        self.max_requests_per_second
            .map(|r| self.requests() as f64 / r)
    }

    /// `14 requests (2 reads, 12 writes), at least 3 s at max_requests_per_second = 5`
    pub fn describe(&self) -> String {
        let pace = match (self.seconds(), self.max_requests_per_second) {
            (Some(s), Some(r)) => {
                format!(", at least {} s at max_requests_per_second = {r}", s.ceil())
            }
            _ => ", no max_requests_per_second: as fast as the site answers".to_string(),
        };
        format!(
            "{} request{} ({} read{}, {} write{}){pace}",
            self.requests(),
            plural(self.requests()),
            self.reads,
            plural(self.reads),
            self.writes,
            plural(self.writes)
        )
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
