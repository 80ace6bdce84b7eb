//! The end-to-end tests in one binary (as just and ripgrep do): one link
//! instead of one per file. Each former `tests/NAME.rs` is the module
//! `NAME`, so a test is `NAME::test_name`; run one file with
//! `cargo test --test e2e NAME::`.

// Tests may say more on stderr (captured by the harness unless it fails).
#![allow(clippy::print_stderr)]
// An end-to-end test is one scenario told top to bottom: the exact output
// it pins (snapshot literals), its table of cases, the steps against the
// sandbox. Splitting it would scatter what a reviewer reads in one place.
#![allow(
    clippy::too_many_lines,
    reason = "e2e tests hold snapshot literals, tables of cases and scenario steps"
)]

mod common;

mod access_e2e;
pub(crate) mod attrs_e2e;
mod build_script;
mod cli_e2e;
mod cliedge_e2e;
mod compare_e2e;
mod convergence_e2e;
mod csv_e2e;
mod csvsafe_e2e;
mod escape_e2e;
mod examples;
mod explain_e2e;
mod export_roundtrip_e2e;
mod faults_e2e;
mod files_e2e;
mod fmt_e2e;
mod gitops_e2e;
mod hostile_server_e2e;
mod hostile_state_e2e;
mod identity_e2e;
mod import_e2e;
mod import_sigma_kinds_e2e;
mod importrename_e2e;
mod insight_e2e;
mod insight_grants_e2e;
mod interrupts_e2e;
mod layers;
mod lint_e2e;
mod live_names_import_export_e2e;
mod loader_fuzz;
mod periscope_e2e;
mod periscope_roles_e2e;
mod planschema_e2e;
mod privileged_e2e;
mod readme_first_run_e2e;
mod safety_e2e;
mod same_site_e2e;
mod schema;
mod scim_client_e2e;
mod scim_e2e;
mod scim_etag_e2e;
mod scim_group_members_e2e;
mod scim_sandbox_e2e;
mod secret_echo_e2e;
mod secrets_e2e;
mod sigma_access_example_e2e;
mod sigma_access_sandbox_e2e;
mod sigma_e2e;
mod sigma_replacements_and_refusals_e2e;
mod sigma_retry_e2e;
mod sigmaorg_e2e;
mod sites_e2e;
mod sitesfrom_e2e;
mod superset_e2e;
mod transport_e2e;
mod validation;
mod warnings_e2e;
mod workflow_e2e;
mod workflow_trust_e2e;
