//! The committed JSON Schema of state files is the one the code generates.

#[test]
fn the_committed_schema_is_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("schema/roster-state.schema.json")).unwrap();
    let out = crate::common::roster(root, &["schema"], &[]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout == committed,
        "schema/roster-state.schema.json is stale: run `cargo run -- schema > schema/roster-state.schema.json`"
    );
    // Editors find it through taplo's configuration.
    let taplo = std::fs::read_to_string(root.join(".taplo.toml")).unwrap();
    assert!(taplo.contains("path = \"./schema/roster-state.schema.json\""));
}

#[test]
fn the_committed_plan_schema_is_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("schema/roster-plan.schema.json")).unwrap();
    let out = crate::common::roster(root, &["schema", "--plan"], &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout == committed,
        "schema/roster-plan.schema.json is stale: run `cargo run -- schema --plan > schema/roster-plan.schema.json`"
    );
    // It names the format version it describes.
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let version = roster::render::json::FORMAT_VERSION;
    assert_eq!(
        schema["$id"],
        format!("urn:roster:plan:format_version:{version}")
    );
    assert_eq!(schema["properties"]["format_version"]["const"], version);
}
