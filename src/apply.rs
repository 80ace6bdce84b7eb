//! Carrying out a plan: per site, step by step in the plan's order, the
//! changes of one step concurrently; a failed step stops that site's later
//! steps, which depend on it. Sites run concurrently.

use std::collections::HashSet;
use std::fmt::Write;

use crate::plan::{Change, Plan, SitePlan};
use crate::progress::Progress;
use crate::provider::{Client, ProviderError, WriteMode};

/// What happened to one change.
#[derive(Debug, Clone)]
pub enum Outcome {
    Applied,
    Failed(ProviderError),
    Skipped(String),
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

    pub fn is_success(&self) -> bool {
        self.failed() == 0 && (self.mode == WriteMode::TestMode || self.skipped() == 0)
    }

    /// One line per change, then a closing line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (site, results) in &self.sites {
            let _ = writeln!(out, "site {site}");
            for r in results {
                let what = format!("{} {}", r.change.kind().as_str(), r.change.key());
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
                    (Outcome::Failed(e), _) => format!("  FAILED  {what}: {e}"),
                    (Outcome::Skipped(why), _) => format!("  skipped {what}: {why}"),
                };
                let _ = writeln!(out, "{line}");
            }
        }
        let closing = match self.mode {
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
        if self.failed() > 0 && self.mode == WriteMode::Real {
            let _ = writeln!(
                out,
                "Run `roster plan` to see what is left, then `roster apply` again to finish."
            );
        }
        out
    }
}

/// Applies `plan` through `clients` (one per site, in the plan's order).
pub async fn apply(
    plan: &Plan,
    clients: &[Client],
    mode: WriteMode,
    concurrency: usize,
    progress: &Progress,
) -> Report {
    let sites = futures::future::join_all(
        plan.sites
            .iter()
            .zip(clients)
            .map(|(site, client)| apply_site(site, client, mode, concurrency.max(1), progress)),
    )
    .await;
    progress.finish();
    Report {
        mode,
        sites: plan
            .sites
            .iter()
            .map(|s| s.site.clone())
            .zip(sites)
            .collect(),
    }
}

async fn apply_site(
    site: &SitePlan,
    client: &Client,
    mode: WriteMode,
    concurrency: usize,
    progress: &Progress,
) -> Vec<ChangeResult> {
    // Groups that only exist once this plan has really run.
    let pending: HashSet<String> = site
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateGroup { name, .. } => Some(name.clone()),
            Change::UpdateGroup { name: Some(n), .. } => Some(n.after.clone()),
            _ => None,
        })
        .map(|n| site.provider.group_key(&n))
        .collect();

    let mut results: Vec<ChangeResult> = Vec::with_capacity(site.changes.len());
    let mut failed_step: Option<u8> = None;
    let mut start = 0;
    while start < site.changes.len() {
        let step = site.changes[start].step();
        let end = site.changes[start..]
            .iter()
            .position(|c| c.step() != step)
            .map_or(site.changes.len(), |n| start + n);
        let batch = &site.changes[start..end];
        if let Some(failed) = failed_step {
            results.extend(batch.iter().map(|c| ChangeResult {
                change: c.clone(),
                outcome: Outcome::Skipped(format!(
                    "not attempted because a change in step {failed} on this site failed"
                )),
            }));
            start = end;
            continue;
        }
        let outcomes: Vec<Outcome> = if mode == WriteMode::TestMode && !client.has_test_mode() {
            let why = format!(
                "not sent: {} has no server-side test mode, so a dry run sends it nothing",
                provider_name(site)
            );
            batch
                .iter()
                .map(|_| Outcome::Skipped(why.clone()))
                .collect()
        } else {
            // In a dry run, a change that needs a group only a real run
            // creates cannot be checked; it is not sent.
            let (sendable, held): (Vec<usize>, Vec<(usize, String)>) = {
                let mut sendable = Vec::new();
                let mut held = Vec::new();
                for (i, c) in batch.iter().enumerate() {
                    match (mode, needs_pending_group(c, &pending, site)) {
                        (WriteMode::TestMode, Some(group)) => held.push((i, group)),
                        _ => sendable.push(i),
                    }
                }
                (sendable, held)
            };
            let to_send: Vec<Change> = sendable.iter().map(|i| batch[*i].clone()).collect();
            let sent = client.apply_step(&to_send, mode, concurrency).await;
            let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
            for (i, result) in sendable.into_iter().zip(sent) {
                outcomes[i] = Some(match result {
                    Ok(()) => Outcome::Applied,
                    Err(e) => Outcome::Failed(e),
                });
            }
            for (i, group) in held {
                outcomes[i] = Some(Outcome::Skipped(format!(
                    "not sent: it needs group `{group}`, which a dry run does not create"
                )));
            }
            outcomes
                .into_iter()
                .map(|o| o.expect("every change has an outcome"))
                .collect()
        };
        progress.inc(batch.len());
        if outcomes.iter().any(|o| matches!(o, Outcome::Failed(_))) {
            failed_step = Some(step);
        }
        results.extend(
            batch
                .iter()
                .cloned()
                .zip(outcomes)
                .map(|(change, outcome)| ChangeResult { change, outcome }),
        );
        start = end;
    }
    results
}

fn provider_name(site: &SitePlan) -> &'static str {
    match site.provider {
        crate::model::ProviderKind::Periscope => "Periscope",
        crate::model::ProviderKind::Sigma => "Sigma",
    }
}

/// A group this user change refers to that only a real run creates.
fn needs_pending_group(
    change: &Change,
    pending: &HashSet<String>,
    site: &SitePlan,
) -> Option<String> {
    let groups: &[String] = match change {
        Change::CreateUser { groups, .. } => groups,
        Change::UpdateUser {
            groups: Some(m), ..
        } => &m.after,
        _ => return None,
    };
    groups
        .iter()
        .find(|g| pending.contains(&site.provider.group_key(g)))
        .cloned()
}
