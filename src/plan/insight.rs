//! What a plan tells a reviewer beyond its changes (issue 15): seats before
//! and after, expired and expiring access, what each changed person ends up
//! with, and what the run costs.

use serde::Serialize;

use super::effective::EffectiveAccess;
use super::expiry::Expiry;
use super::seats::SeatCount;

/// A site plan's answers to an admin's questions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Insight {
    /// Seats per account type or access level, before and after.
    pub seats: Vec<SeatCount>,
    /// Access past its date (planned as not declared) and ending soon.
    pub expiry: Expiry,
    /// What each person the plan creates or updates ends up with.
    pub effective: Vec<EffectiveAccess>,
    /// The requests apply sends to the site (absent for an empty plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<super::cost::RunCost>,
}

impl Insight {
    /// The seat counts over the site's budget.
    pub fn over_budget(&self) -> impl Iterator<Item = &SeatCount> {
        self.seats.iter().filter(|s| s.over_budget())
    }
}

/// Every site's seat counts over budget: a plan apply refuses.
pub fn over_budget(plan: &super::Plan) -> Vec<(&str, &SeatCount)> {
    plan.sites
        .iter()
        .flat_map(|s| s.insight.over_budget().map(move |c| (s.site.as_str(), c)))
        .collect()
}
