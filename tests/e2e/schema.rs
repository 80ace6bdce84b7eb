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
