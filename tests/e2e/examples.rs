//! Every example state directory is valid and plans against the sandbox.

use crate::common::*;

#[test]
fn every_example_validates_and_plans_against_the_sandbox() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        seen += 1;
        let state = path.to_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = roster(dir.path(), &["validate", "--state", state], &[]);
        assert_eq!(out.code, 0, "{state}: {}", out.all());
        // A site the seed does not hold starts empty but for its admin;
        // either way the example applies and the plan converges.
        let out = roster(
            dir.path(),
            &["apply", "--sandbox", "--yes", "--state", state],
            &[],
        );
        assert_eq!(out.code, 0, "{state}: {}", out.all());
        let out = roster(
            dir.path(),
            &["plan", "--sandbox", "--detailed-exitcode", "--state", state],
            &[],
        );
        assert_eq!(out.code, 0, "{state}: {}", out.all());
    }
    assert!(seen >= 1);
}
