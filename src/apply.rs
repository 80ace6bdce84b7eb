//! Carrying out a plan: per site, step by step in the plan's order, the
//! changes of one step concurrently; sites run concurrently. A failed change
//! does not stop the others: only what depends on it (users in a group whose
//! create failed) is skipped, unless `--fail-fast` stops the site there.

use std::collections::HashSet;
use std::fmt::Write;

use crate::interrupt::{Gate, SiteGate};
use crate::plan::{Change, Plan, SitePlan};
use crate::progress::Progress;
use crate::provider::{Client, ProviderError, WriteMode};
use crate::render::escape::{Text, Visible};

/// What happened to one change.
#[derive(Debug, Clone)]
pub enum Outcome {
    Applied,
    Failed(ProviderError),
    Skipped(String),
    /// Not sent: the apply was interrupted before it started.
    NotStarted,
}

/// The result of one change of one site.
#[derive(Debug, Clone)]
pub struct ChangeResult {
    pub change: Change,
    pub outcome: Outcome,
}

/// Every change's result, per site, in plan order.
#[derive(Debug, Clone)]
pub struct Report {
    pub mode: WriteMode,
    pub sites: Vec<(String, Vec<ChangeResult>)>,
    /// The apply was stopped (Ctrl-C or SIGTERM) before its end.
    pub interrupted: bool,
}

impl Report {
    pub fn count(&self, pick: fn(&Outcome) -> bool) -> usize {
        self.sites
            .iter()
            .flat_map(|(_, r)| r)
            .filter(|r| pick(&r.outcome))
            .count()
    }

    pub fn applied(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Applied))
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }

    pub fn not_started(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted))
    }

    pub fn is_success(&self) -> bool {
        !self.interrupted
            && self.failed() == 0
            && (self.mode == WriteMode::TestMode || self.skipped() == 0)
    }

    /// One line per change, then a closing line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (site, results) in &self.sites {
            let _ = writeln!(out, "site {}", Text(site));
            for r in results {
                let what = format!("{} {}", r.change.kind().as_str(), Text(r.change.key()));
                let verb = match r.change.action() {
                    crate::plan::Action::Create => "created",
                    crate::plan::Action::Update => "updated",
                    crate::plan::Action::Delete => match r.change {
                        Change::DeactivateUser { .. } => "deactivated",
                        _ => "deleted",
                    },
                };
                let line = match (&r.outcome, self.mode) {
                    (Outcome::Applied, WriteMode::Real) => format!("  ok      {what} {verb}"),
                    (Outcome::Applied, WriteMode::TestMode) => {
                        format!("  ok      {what} (accepted with test_mode=true; nothing changed)")
                    }
                    (Outcome::Failed(e), _) => {
                        format!("  FAILED  {what}: {}", Visible(&e.to_string()))
                    }
                    (Outcome::Skipped(why), _) => format!("  skipped {what}: {}", Visible(why)),
                    (Outcome::NotStarted, _) => {
                        format!("  not started {what}: the apply was interrupted first")
                    }
                };
                let _ = writeln!(out, "{line}");
            }
        }
        let closing = match self.mode {
            _ if self.interrupted => format!(
                "{} interrupted: {} {}, {} failed, {} skipped, {} not started.",
                if self.mode == WriteMode::Real {
                    "Apply"
                } else {
                    "Dry run"
                },
                self.applied(),
                if self.mode == WriteMode::Real {
                    "applied"
                } else {
                    "accepted with test_mode=true"
                },
                self.failed(),
                self.skipped(),
                self.not_started()
            ),
            WriteMode::Real => format!(
                "Apply finished: {} applied, {} failed, {} skipped.",
                self.applied(),
                self.failed(),
                self.skipped()
            ),
            WriteMode::TestMode => format!(
                "Dry run finished: {} accepted with test_mode=true, {} failed, {} not sent; nothing was changed.",
                self.applied(),
                self.failed(),
                self.skipped()
            ),
        };
        let _ = writeln!(out, "{closing}");
        if (self.failed() > 0 || self.interrupted) && self.mode == WriteMode::Real {
            let _ = writeln!(
                out,
                "Run `roster plan` to see what is left, then `roster apply` again to finish."
            );
        }
        out
    }
}

/// How apply goes on after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Carry on; skip only the changes that depend on the failed one.
    Continue,
    /// Stop: attempt nothing more on that site.
    Stop,
}

/// How apply runs: write mode, pacing, what a failure stops, and the gate
/// an interrupt closes.
pub struct Run<'a> {
    pub mode: WriteMode,
    pub concurrency: usize,
    pub on_failure: OnFailure,
    pub progress: &'a Progress,
    pub gate: &'a Gate,
}

/// Applies `plan` through `clients` (one per site, in the plan's order).
/// Once `run.gate` is stopped no change starts; the rest are not started.
pub async fn apply(plan: &Plan, clients: &[&Client], run: &Run<'_>) -> Report {
    let sites = futures::future::join_all(
        plan.sites
            .iter()
            .zip(clients)
            .map(|(site, &client)| apply_site(site, client, run, run.gate.site(&site.site))),
    )
    .await;
    run.progress.finish();
    Report {
        mode: run.mode,
        interrupted: run.gate.is_stopped(),
        sites: plan
            .sites
            .iter()
            .map(|s| s.site.clone())
            .zip(sites)
            .collect(),
    }
}

/// The groups a change of step 1 creates or renames to, by key.
fn groups_made(site: &SitePlan, changes: &[&Change]) -> HashSet<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateGroup { name, .. } => Some(name.clone()),
            Change::UpdateGroup { name: Some(n), .. } => Some(n.after.clone()),
            _ => None,
        })
        .map(|n| site.provider.group_key(&n))
        .collect()
}

async fn apply_site(
    site: &SitePlan,
    client: &Client,
    run: &Run<'_>,
    gate: SiteGate<'_>,
) -> Vec<ChangeResult> {
    let (mode, on_failure) = (run.mode, run.on_failure);
    // Groups that only exist once this plan has really run.
    let pending = groups_made(site, &site.changes.iter().collect::<Vec<_>>());
    // Groups whose create or rename failed: what needs them is not attempted.
    let mut broken: HashSet<String> = HashSet::new();
    let mut stopped = false;

    let mut results: Vec<ChangeResult> = Vec::with_capacity(site.changes.len());
    let mut start = 0;
    while start < site.changes.len() {
        let step = site.changes[start].step();
        let end = site.changes[start..]
            .iter()
            .position(|c| c.step() != step)
            .map_or(site.changes.len(), |n| start + n);
        let batch = &site.changes[start..end];
        start = end;

        // What is not sent, and why; the rest is sent.
        let mut outcomes: Vec<Option<Outcome>> = batch
            .iter()
            .map(|c| {
                if gate.is_stopped() {
                    return Some(Outcome::NotStarted);
                }
                if stopped {
                    return Some(Outcome::Skipped(
                        "not attempted: --fail-fast stopped this site at the first failure".into(),
                    ));
                }
                if mode == WriteMode::TestMode && !client.has_test_mode() {
                    return Some(Outcome::Skipped(format!(
                        "not sent: {} has no server-side test mode, so a dry run sends it nothing",
                        site.provider.product_name()
                    )));
                }
                if let Some(group) = needs_group(c, &broken, site) {
                    return Some(Outcome::Skipped(format!(
                        "not attempted: it needs group `{group}`, whose change failed"
                    )));
                }
                let dry_pending = (mode == WriteMode::TestMode)
                    .then(|| needs_group(c, &pending, site))
                    .flatten();
                if let Some(group) = dry_pending {
                    return Some(Outcome::Skipped(format!(
                        "not sent: it needs group `{group}`, which a dry run does not create"
                    )));
                }
                None
            })
            .collect();
        let to_send: Vec<usize> = (0..batch.len())
            .filter(|i| outcomes[*i].is_none())
            .collect();
        let changes: Vec<&Change> = to_send.iter().map(|i| &batch[*i]).collect();
        let sent = client
            .apply_step(&changes, mode, run.concurrency.max(1), gate)
            .await;
        for (i, result) in to_send.into_iter().zip(sent) {
            outcomes[i] = Some(match result {
                Ok(()) => Outcome::Applied,
                Err(crate::provider::ProviderError::NotStarted { .. }) => Outcome::NotStarted,
                Err(e) => Outcome::Failed(e),
            });
        }
        // Sent changes advance the progress as each ends (the gate counts
        // them); those not sent count here.
        let unsent = outcomes
            .iter()
            .filter(|o| matches!(o, Some(Outcome::Skipped(_) | Outcome::NotStarted)))
            .count();
        run.progress.inc(unsent);
        let failed: Vec<&Change> = batch
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, Some(Outcome::Failed(_))))
            .map(|(c, _)| c)
            .collect();
        broken.extend(groups_made(site, &failed));
        stopped |= on_failure == OnFailure::Stop && !failed.is_empty();
        results.extend(
            batch
                .iter()
                .cloned()
                .zip(outcomes)
                .map(|(change, outcome)| ChangeResult {
                    change,
                    outcome: outcome.expect("every change has an outcome"),
                }),
        );
    }
    results
}

/// A group of `wanted` (by key) that this user change puts the user in.
fn needs_group(change: &Change, wanted: &HashSet<String>, site: &SitePlan) -> Option<String> {
    let groups: &[String] = match change {
        Change::CreateUser { groups, .. } => groups,
        Change::UpdateUser {
            groups: Some(m), ..
        } => &m.after,
        _ => return None,
    };
    groups
        .iter()
        .find(|g| wanted.contains(&site.provider.group_key(g)))
        .cloned()
}
