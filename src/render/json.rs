//! The plan as JSON: a documented, versioned schema for bots, and the form a
//! saved plan (`roster plan --out FILE`) takes. See the README, "JSON plans".

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Action, Change, ObjectKind};
use crate::plan::{Kept, Plan, SitePlan, Summary};

/// Bumped whenever a field changes meaning or disappears; kept with the
/// saved plan's reader.
pub use crate::plan::FORMAT_VERSION;

/// The document borrows from the plan: a plan of many changes is not
/// copied to be written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanDocument<'a> {
    pub format_version: u32,
    pub roster_version: &'static str,
    /// Fingerprint of the desired state (the state files) the plan came from.
    pub desired_fingerprint: &'a str,
    pub summary: Summary,
    /// What the state holds that its author may not have meant (past
    /// dates, look-alike names, files not read); absent when there are
    /// none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningDocument<'a>>,
    pub sites: Vec<SiteDocument<'a>>,
}

/// A warning about the state: its `location`, its `kind` with that kind's
/// fields, and the whole `message` as `roster validate` prints it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WarningDocument<'a> {
    #[serde(flatten)]
    pub warning: &'a crate::model::Warning,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SiteDocument<'a> {
    pub site: &'a str,
    pub provider: crate::model::ProviderKind,
    /// Fingerprint of the site's live state the plan was computed from.
    pub live_fingerprint: &'a str,
    pub summary: Summary,
    pub changes: Vec<ChangeDocument<'a>>,
    pub kept: &'a [Kept],
    /// Differences listed, not changed (SCIM-owned members, team admins);
    /// absent when there are none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [crate::plan::Note],
    /// Blast-radius guards the plan goes past; apply refuses it.
    pub guards: &'a [crate::plan::GuardTrip],
    /// `allow_*` acknowledgements in the state the plan does not need.
    pub unneeded_allowances: &'a [crate::plan::UnneededAllowance],
    /// Changes that give someone admin power or an administrator's account
    /// (`change` is the index in `changes`); apply refuses those not
    /// `acknowledged`. Absent when there are none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub privileged: &'a [crate::plan::Privileged],
    /// People `allow_privileged` names whom the plan gives no admin power;
    /// absent when there are none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub unneeded_privileged: &'a [String],
    /// `seats`, `expiry` and `effective` (see the README, "JSON plans").
    #[serde(flatten)]
    pub insight: &'a crate::plan::insight::Insight,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeDocument<'a> {
    pub kind: ObjectKind,
    pub action: Action,
    pub key: &'a str,
    /// Field-level before and after (`null` where there is none).
    pub fields: Vec<FieldDocument>,
    /// The change itself, as apply carries it out.
    pub change: &'a Change,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FieldDocument {
    pub field: &'static str,
    pub before: Value,
    pub after: Value,
}

fn field(field: &'static str, before: Value, after: Value) -> FieldDocument {
    FieldDocument {
        field,
        before,
        after,
    }
}

fn diff(name: &'static str, d: &Option<crate::model::Diff<String>>) -> Option<FieldDocument> {
    d.as_ref().map(|d| changed(name, d))
}

/// A field's value before and after the change.
fn changed<T: serde::Serialize>(name: &'static str, d: &crate::model::Diff<T>) -> FieldDocument {
    field(name, json!(d.before), json!(d.after))
}

/// A membership's list before and after the change.
fn membership(name: &'static str, m: &crate::model::Membership) -> FieldDocument {
    let mut before: Vec<&String> = m
        .after
        .iter()
        .filter(|g| !m.added.contains(g))
        .chain(&m.removed)
        .collect();
    before.sort();
    field(name, json!(before), json!(m.after))
}

/// The fields that are there.
fn present<const N: usize>(fields: [Option<FieldDocument>; N]) -> Vec<FieldDocument> {
    fields.into_iter().flatten().collect()
}

/// A change's fields, before and after.
pub fn fields(change: &Change) -> Vec<FieldDocument> {
    match change {
        Change::CreateGroup {
            name,
            access,
            description,
            visibility,
        } => present([
            Some(field("name", Value::Null, json!(name))),
            access.map(|a| field("access", Value::Null, json!(a))),
            description
                .as_ref()
                .map(|d| field("description", Value::Null, json!(d))),
            visibility.map(|v| field("visibility", Value::Null, json!(v))),
        ]),
        Change::UpdateGroup {
            name,
            access,
            description,
            visibility,
            admins,
            ..
        } => present([
            diff("name", name),
            diff("access", access),
            diff("description", description),
            diff("visibility", visibility),
            admins.as_ref().map(|m| membership("admins", m)),
        ]),
        Change::CreateUser {
            email,
            first_name,
            last_name,
            member_type,
            groups,
            kind,
            admin_of,
        } => present([
            Some(field("email", Value::Null, json!(email))),
            (!kind.is_internal()).then(|| field("kind", Value::Null, json!(kind))),
            (!admin_of.is_empty()).then(|| field("admin_of", Value::Null, json!(admin_of))),
            Some(field("first_name", Value::Null, json!(first_name))),
            Some(field("last_name", Value::Null, json!(last_name))),
            member_type
                .as_ref()
                .map(|t| field("member_type", Value::Null, json!(t))),
            Some(field("groups", Value::Null, json!(groups))),
        ]),
        Change::UpdateUser {
            email,
            renamed_from,
            first_name,
            last_name,
            member_type,
            kind,
            reactivate,
            groups,
            ..
        } => present([
            renamed_from
                .as_ref()
                .map(|from| field("email", json!(from), json!(email))),
            reactivate.then(|| field("active", json!(false), json!(true))),
            diff("first_name", first_name),
            diff("last_name", last_name),
            diff("member_type", member_type),
            diff("kind", kind),
            groups.as_ref().map(|m| membership("groups", m)),
        ]),
        Change::DeactivateUser { .. } => vec![field("active", json!(true), json!(false))],
        Change::DeleteUser { .. } | Change::DeleteGroup { .. } => Vec::new(),
        Change::Access(a) => super::access::fields(a, field),
        _ => attr_fields(change),
    }
}

/// The fields of an attribute, value or account type change.
fn attr_fields(change: &Change) -> Vec<FieldDocument> {
    match change {
        Change::CreateAttribute {
            description,
            default,
            ..
        } => vec![
            field("description", Value::Null, json!(description)),
            field("default", Value::Null, json!(default)),
        ],
        Change::ReplaceAttribute {
            description,
            default,
            ..
        } => vec![
            changed("description", description),
            changed("default", default),
        ],
        Change::SetAttributes { values, .. } => {
            let side = |after: bool| -> serde_json::Map<String, Value> {
                values
                    .iter()
                    .filter_map(|v| {
                        let value = if after { &v.after } else { &v.before };
                        Some((v.attribute.clone(), json!(value.as_ref()?)))
                    })
                    .collect()
            };
            vec![field(
                "attributes",
                Value::Object(side(false)),
                Value::Object(side(true)),
            )]
        }
        Change::CreateAccountType {
            description,
            permissions,
            ..
        } => vec![
            field("description", Value::Null, json!(description)),
            field("permissions", Value::Null, json!(permissions)),
        ],
        Change::ReplaceAccountType {
            description,
            permissions,
            ..
        } => vec![
            changed("description", description),
            membership("permissions", permissions),
        ],
        _ => Vec::new(),
    }
}

fn site_document(site: &SitePlan) -> SiteDocument<'_> {
    SiteDocument {
        site: &site.site,
        provider: site.provider,
        live_fingerprint: &site.fingerprint,
        summary: Summary::of(&site.changes),
        changes: site
            .changes
            .iter()
            .map(|c| ChangeDocument {
                kind: c.kind(),
                action: c.action(),
                key: c.key(),
                fields: fields(c),
                change: c,
            })
            .collect(),
        kept: &site.kept,
        notes: &site.notes,
        guards: &site.guards,
        unneeded_allowances: &site.unneeded_allowances,
        privileged: &site.privileged,
        unneeded_privileged: &site.unneeded_privileged,
        insight: &site.insight,
    }
}

pub fn document<'a>(plan: &'a Plan, desired_fingerprint: &'a str) -> PlanDocument<'a> {
    PlanDocument {
        format_version: FORMAT_VERSION,
        roster_version: env!("CARGO_PKG_VERSION"),
        desired_fingerprint,
        summary: plan.summary(),
        warnings: plan
            .warnings
            .iter()
            .map(|warning| WarningDocument {
                warning,
                message: warning.line(str::to_string),
            })
            .collect(),
        sites: plan.sites.iter().map(site_document).collect(),
    }
}

/// The JSON Schema of the JSON plan (`roster schema --plan`, committed as
/// schema/roster-plan.schema.json), generated from the types that write it.
pub fn json_schema() -> String {
    // The schema of what roster writes (a field skipped when empty is not
    // required), not of what it would read.
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<PlanDocument<'static>>();
    schema.insert(
        "$id".into(),
        json!(format!("urn:roster:plan:format_version:{FORMAT_VERSION}")),
    );
    schema.insert(
        "title".into(),
        json!(format!("roster JSON plan, format_version {FORMAT_VERSION}")),
    );
    schema.insert(
        "description".into(),
        json!(format!(
            "The output of `roster plan --format json` and `roster plan --out FILE`, format_version {FORMAT_VERSION}. The version stays {FORMAT_VERSION} while fields are only added; it is bumped when a field changes meaning or disappears."
        )),
    );
    if let Some(version) = schema
        .get_mut("properties")
        .and_then(|p| p.get_mut("format_version"))
        .and_then(Value::as_object_mut)
    {
        version.insert("const".into(), json!(FORMAT_VERSION));
    }
    serde_json::to_string_pretty(&schema).expect("a schema always serializes") + "\n"
}

/// The plan as pretty JSON with a final newline; identical inputs give
/// identical bytes.
pub fn render(plan: &Plan, desired_fingerprint: &str) -> String {
    let mut out = serde_json::to_string_pretty(&document(plan, desired_fingerprint))
        .expect("a plan always serializes");
    out.push('\n');
    out
}

/// Bumped whenever a field of an apply result changes meaning or disappears.
pub const APPLY_FORMAT_VERSION: u32 = 1;

/// How an apply ended, as its JSON result says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyStatus {
    /// The plan was empty: nothing was sent.
    NothingToApply,
    /// The plan trips a blast-radius guard: nothing was sent.
    Refused,
    /// Every change was applied (or, in a dry run, checked or not sent).
    Finished,
    /// At least one change failed (or was skipped in a real run).
    Failed,
    /// Ctrl-C or SIGTERM stopped the apply before its end.
    Interrupted,
}

/// `roster apply --format json` and `--report FILE`: the plan, and what
/// happened to each of its changes. See the README, "JSON apply results".
#[derive(Debug, Serialize)]
pub struct ApplyDocument<'a> {
    pub format_version: u32,
    pub roster_version: &'static str,
    pub status: ApplyStatus,
    /// `true` for `--dry-run` (writes sent with test_mode=true, or not at all).
    pub dry_run: bool,
    pub summary: ApplySummary,
    pub plan: PlanDocument<'a>,
    /// One entry per site of the plan, in its order; empty when nothing was
    /// sent.
    pub results: Vec<SiteResultDocument<'a>>,
    /// Why each site whose live state could not be read was left out.
    pub unreadable: &'a [String],
}

#[derive(Debug, Default, Serialize)]
pub struct ApplySummary {
    pub applied: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_started: usize,
}

#[derive(Debug, Serialize)]
pub struct SiteResultDocument<'a> {
    pub site: &'a str,
    pub changes: Vec<ResultDocument<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ResultDocument<'a> {
    pub kind: ObjectKind,
    pub action: Action,
    pub key: &'a str,
    /// `applied`, `failed`, `skipped` or `not_started`.
    pub outcome: &'static str,
    /// For `failed`: the HTTP status, when the site answered.
    pub http_status: Option<u16>,
    /// For `failed`: the error, as the text report shows it.
    pub error: Option<String>,
    /// For `skipped`: why it was not sent.
    pub reason: Option<String>,
}

fn result_document(r: &crate::apply::ChangeResult) -> ResultDocument<'_> {
    use crate::apply::Outcome;
    let (outcome, http_status, error, reason) = match &r.outcome {
        Outcome::Applied => ("applied", None, None, None),
        Outcome::Failed(e) => {
            let status = match e {
                crate::provider::ProviderError::Http { status, .. } => Some(*status),
                _ => None,
            };
            ("failed", status, Some(e.to_string()), None)
        }
        Outcome::Skipped(why) => ("skipped", None, None, Some(why.to_string())),
        Outcome::NotStarted => ("not_started", None, None, None),
    };
    ResultDocument {
        kind: r.change.kind(),
        action: r.change.action(),
        key: r.change.key(),
        outcome,
        http_status,
        error,
        reason,
    }
}

/// What an apply did, for [`apply_document`].
pub struct Applied<'a> {
    pub status: ApplyStatus,
    pub dry_run: bool,
    pub report: Option<&'a crate::apply::Report>,
    pub unreadable: &'a [String],
}

pub fn apply_document<'a>(
    plan: &'a Plan,
    desired_fingerprint: &'a str,
    applied: &Applied<'a>,
) -> ApplyDocument<'a> {
    let (summary, results) = match applied.report {
        Some(report) => (
            ApplySummary {
                applied: report.applied(),
                failed: report.failed(),
                skipped: report.skipped(),
                not_started: report.not_started(),
            },
            report
                .sites
                .iter()
                .map(|(site, results)| SiteResultDocument {
                    site,
                    changes: results.iter().map(result_document).collect(),
                })
                .collect(),
        ),
        None => (ApplySummary::default(), Vec::new()),
    };
    ApplyDocument {
        format_version: APPLY_FORMAT_VERSION,
        roster_version: env!("CARGO_PKG_VERSION"),
        status: applied.status,
        dry_run: applied.dry_run,
        summary,
        plan: document(plan, desired_fingerprint),
        results,
        unreadable: applied.unreadable,
    }
}

/// The apply result as pretty JSON with a final newline.
pub fn render_apply(plan: &Plan, desired_fingerprint: &str, applied: &Applied<'_>) -> String {
    let mut out = serde_json::to_string_pretty(&apply_document(plan, desired_fingerprint, applied))
        .expect("an apply result always serializes");
    out.push('\n');
    out
}
