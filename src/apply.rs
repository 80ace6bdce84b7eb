//! Carrying out a plan: per site, step by step in the plan's order, the
//! changes of one step concurrently; sites run concurrently. A failed change
//! does not stop the others: only what depends on it (users in a group whose
//! create failed) is skipped, unless `--fail-fast` stops the site there.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::interrupt::{Gate, SiteGate};
use crate::model::Change;
use crate::plan::{Plan, SitePlan};
use crate::progress::Progress;
use crate::provider::{Client, ProviderError, SiteIds, WriteMode};

/// What happened to one change.
#[derive(Debug, Clone)]
pub enum Outcome {
    Applied,
    Failed(ProviderError),
    Skipped(SkipReason),
    /// Not sent: the apply was interrupted before it started.
    NotStarted,
}

/// Why a change was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// `--fail-fast`, and an earlier change of the site failed.
    FailFast,
    /// A dry run, and the platform (its product name) has no test mode.
    NoTestMode(&'static str),
    /// The user goes into this group, whose create or rename failed.
    NeedsFailedGroup(String),
    /// A dry run, and the user goes into this group, which only a real
    /// apply creates (or renames to).
    NeedsUncreatedGroup(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::FailFast => {
                f.write_str("not attempted: --fail-fast stopped this site at the first failure")
            }
            SkipReason::NoTestMode(product) => write!(
                f,
                "not sent: {product} has no server-side test mode, so a dry run sends it nothing"
            ),
            SkipReason::NeedsFailedGroup(group) => write!(
                f,
                "not attempted: it needs group `{group}`, whose change failed"
            ),
            SkipReason::NeedsUncreatedGroup(group) => write!(
                f,
                "not sent: it needs group `{group}`, which a dry run does not create"
            ),
        }
    }
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

/// Applies `plan` through `clients`, with the IDs each site's live state
/// was read with (`ids`; both one per site, in the plan's order). Once
/// `run.gate` is stopped no change starts; the rest are not started.
pub async fn apply(plan: &Plan, clients: &[&Client], ids: &[SiteIds], run: &Run<'_>) -> Report {
    let sites = futures::future::join_all(plan.sites.iter().zip(clients).zip(ids).map(
        |((site, &client), ids)| {
            // The site's deadline covers its writes apart from its reads.
            client.begin_writes();
            let target = Target {
                client,
                ids: Mutex::new(ids.clone()),
            };
            async move { apply_site(site, &target, run, run.gate.site(&site.site)).await }
        },
    ))
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

/// Where one site's changes go: its client, and the IDs its objects have,
/// which the writes add to as they learn new ones.
struct Target<'a> {
    client: &'a Client,
    ids: Mutex<SiteIds>,
}

/// One site's apply under way: where its changes go, and what earlier
/// steps decided for later ones.
struct SiteRun<'a> {
    site: &'a SitePlan,
    target: &'a Target<'a>,
    run: &'a Run<'a>,
    gate: SiteGate<'a>,
    /// Groups that only exist once this plan has really run.
    pending: HashSet<String>,
    /// Groups whose create or rename failed: what needs them is not attempted.
    broken: HashSet<String>,
    /// `--fail-fast`, and a change failed: nothing more is attempted.
    stopped: bool,
}

async fn apply_site(
    site: &SitePlan,
    target: &Target<'_>,
    run: &Run<'_>,
    gate: SiteGate<'_>,
) -> Vec<ChangeResult> {
    let mut state = SiteRun {
        site,
        target,
        run,
        gate,
        pending: groups_made(site, &site.changes.iter().collect::<Vec<_>>()),
        broken: HashSet::new(),
        stopped: false,
    };
    let mut results: Vec<ChangeResult> = Vec::with_capacity(site.changes.len());
    // The steps in order, each a run of changes with the same step.
    for batch in site.changes.chunk_by(|a, b| a.step() == b.step()) {
        let outcomes = state.apply_batch(batch).await;
        results.extend(
            batch
                .iter()
                .cloned()
                .zip(outcomes)
                .map(|(change, outcome)| ChangeResult { change, outcome }),
        );
    }
    results
}

impl SiteRun<'_> {
    /// Carries out one step's changes: those held back get their reason,
    /// the rest are sent; then what failed is noted for the next steps.
    async fn apply_batch(&mut self, batch: &[Change]) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = batch.iter().map(|c| self.held_back(c)).collect();
        let to_send: Vec<usize> = (0..batch.len())
            .filter(|i| outcomes[*i].is_none())
            .collect();
        let changes: Vec<&Change> = to_send.iter().map(|i| &batch[*i]).collect();
        let sent = self
            .target
            .client
            .apply_step(
                &changes,
                self.run.mode,
                self.run.concurrency.max(1),
                self.gate,
                &self.target.ids,
            )
            .await;
        for (i, result) in to_send.into_iter().zip(sent) {
            outcomes[i] = Some(match result {
                Ok(()) => Outcome::Applied,
                Err(crate::provider::ProviderError::NotStarted { .. }) => Outcome::NotStarted,
                Err(e) => Outcome::Failed(e),
            });
        }
        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .map(|o| o.expect("every change has an outcome"))
            .collect();
        self.note_failures(batch, &outcomes);
        outcomes
    }

    /// Why a change is not sent (`None`: it is sent).
    fn held_back(&self, change: &Change) -> Option<Outcome> {
        let (site, dry_run) = (self.site, self.run.mode == WriteMode::TestMode);
        if self.gate.is_stopped() {
            return Some(Outcome::NotStarted);
        }
        let reason = if self.stopped {
            SkipReason::FailFast
        } else if dry_run && !self.target.client.has_test_mode() {
            SkipReason::NoTestMode(site.provider.product_name())
        } else if let Some(group) = needs_group(change, &self.broken, site) {
            SkipReason::NeedsFailedGroup(group)
        } else if let Some(group) = dry_run
            .then(|| needs_group(change, &self.pending, site))
            .flatten()
        {
            SkipReason::NeedsUncreatedGroup(group)
        } else {
            return None;
        };
        Some(Outcome::Skipped(reason))
    }

    /// Counts the changes not sent into the progress (sent ones advance it
    /// as each ends: the gate counts them), and notes the groups whose
    /// change failed and whether `--fail-fast` stops the site.
    fn note_failures(&mut self, batch: &[Change], outcomes: &[Outcome]) {
        let unsent = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Skipped(_) | Outcome::NotStarted))
            .count();
        self.run.progress.inc(unsent);
        let failed: Vec<&Change> = batch
            .iter()
            .zip(outcomes)
            .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
            .map(|(c, _)| c)
            .collect();
        self.broken.extend(groups_made(self.site, &failed));
        self.stopped |= self.run.on_failure == OnFailure::Stop && !failed.is_empty();
    }
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
