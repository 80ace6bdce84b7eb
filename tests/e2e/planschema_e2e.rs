//! JSON plans made against the sandbox validate against the committed
//! schema/roster-plan.schema.json (`roster schema --plan`).

use serde_json::Value;

use crate::common::*;

/// The committed plan schema, compiled.
fn plan_validator() -> jsonschema::Validator {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("schema/roster-plan.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::new(&schema).expect("the plan schema compiles")
}

/// The errors of `plan` against the schema, one per line.
fn errors(validator: &jsonschema::Validator, plan: &Value) -> String {
    validator
        .iter_errors(plan)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `roster plan --sandbox --format json` on `state` (relative to the
/// repository), in a fresh directory: a fresh sandbox from the seed.
fn json_plan(state: &str) -> Value {
    let state = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(state);
    let dir = tempfile::tempdir().unwrap();
    let out = roster(
        dir.path(),
        &[
            "plan",
            "--sandbox",
            "--format",
            "json",
            "--state",
            state.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    serde_json::from_str(&out.stdout).unwrap()
}

/// Every `change.op` of the plan, sorted.
fn ops(plan: &Value) -> Vec<String> {
    let mut ops: Vec<String> = plan["sites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["changes"].as_array().unwrap())
        .map(|c| c["change"]["op"].as_str().unwrap().to_owned())
        .collect();
    ops.sort();
    ops.dedup();
    ops
}

#[test]
fn json_plans_of_periscope_sigma_with_access_and_scim_validate_against_the_schema() {
    let validator = plan_validator();
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "state",
            "periscope",
            &["create_user", "delete_group", "delete_user"],
        ),
        (
            "examples/periscope-one-site",
            "periscope",
            &["create_group", "update_user"],
        ),
        // examples/sigma with its access.toml: grants and attribute values.
        (
            "examples/sigma",
            "sigma",
            &["deactivate_user", "grant", "set_attributes"],
        ),
        (
            "examples/scim",
            "scim",
            &["deactivate_user", "update_group"],
        ),
    ];
    for (state, provider, expected_ops) in cases {
        let plan = json_plan(state);
        assert_eq!(plan["sites"][0]["provider"], provider, "{state}");
        let ops = ops(&plan);
        for op in expected_ops {
            assert!(ops.iter().any(|o| o == op), "{state}: no {op} in {ops:?}");
        }
        assert_eq!(errors(&validator, &plan), "", "{state}'s JSON plan");
    }
}

#[test]
fn a_plan_the_schema_does_not_describe_is_refused() {
    let validator = plan_validator();
    let plan = json_plan("examples/sigma");
    assert_eq!(errors(&validator, &plan), "");
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut p = plan.clone();
        edit(&mut p);
        errors(&validator, &p)
    };
    // Another format version, a change op that does not exist, a missing
    // field, a count that is not one.
    let e = broken(&|p| p["format_version"] = 2.into());
    assert!(e.starts_with("/format_version: "), "{e}");
    let e = broken(&|p| p["sites"][0]["changes"][0]["change"]["op"] = "rename_user".into());
    assert!(e.starts_with("/sites/0/changes/0/change: "), "{e}");
    let e = broken(&|p| {
        p["sites"][0]
            .as_object_mut()
            .unwrap()
            .remove("live_fingerprint");
    });
    assert!(
        e.contains("\"live_fingerprint\" is a required property"),
        "{e}"
    );
    let e = broken(&|p| p["summary"]["create"] = "four".into());
    assert!(e.starts_with("/summary/create: "), "{e}");
}
