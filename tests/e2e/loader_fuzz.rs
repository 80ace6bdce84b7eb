//! The loaders never panic: valid state files, mutated thousands of ways,
//! either load or give located problems; `roster fmt`'s formatter likewise.
//! Reading a file in pieces (as large files are) gives the same answer as
//! reading it whole.

use std::path::Path;

const ITERATIONS: usize = 3000;
/// Bytes that matter to TOML, and some that do not belong in it at all.
const ALPHABET: &[u8] = b"[]{}=\"'\n#,.:-_ abcz019@\t\\\x00\xff\xc3\xa9";

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["state", "examples"] {
        for f in roster::state::toml_files(&root.join(dir)).unwrap() {
            files.push(std::fs::read_to_string(f).unwrap());
        }
    }
    assert!(files.len() >= 5);
    files
}

fn mutate(rng: &mut fastrand::Rng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..rng.usize(1..6) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.usize(0..bytes.len());
        match rng.u8(0..6) {
            0 => {
                let end = (at + rng.usize(1..40)).min(bytes.len());
                bytes.drain(at..end);
            }
            1 => {
                for _ in 0..rng.usize(1..8) {
                    bytes.insert(at, ALPHABET[rng.usize(0..ALPHABET.len())]);
                }
            }
            2 => {
                let end = (at + rng.usize(1..80)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = rng.usize(0..bytes.len());
                bytes.splice(to..to, copy);
            }
            3 => bytes.truncate(at),
            4 => bytes[at] = ALPHABET[rng.usize(0..ALPHABET.len())],
            _ => {
                // Swap two lines.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 2 {
                    let (a, b) = (rng.usize(0..lines.len()), rng.usize(0..lines.len()));
                    lines.swap(a, b);
                }
                bytes = lines.join("\n").into_bytes();
            }
        }
    }
    bytes
}

#[test]
fn mutated_state_files_never_panic_the_loaders() {
    let seeds = seeds();
    #[allow(clippy::unreadable_literal)] // the seed is a date, 2026-11-23
    let mut rng = fastrand::Rng::with_seed(20261123);
    let dir = tempfile::tempdir().unwrap();
    let (mut loaded, mut refused) = (0, 0);
    for _ in 0..ITERATIONS {
        let seed = rng.usize(0..seeds.len());
        let bytes = mutate(&mut rng, &seeds[seed]);
        std::fs::write(dir.path().join("state.toml"), &bytes).unwrap();
        let whole = roster::state::load_in_pieces(dir.path(), usize::MAX);
        // Read in pieces (one per entry), the answer is the same, down to
        // every message's location.
        let pieces = roster::state::load_in_pieces(dir.path(), 1);
        assert_eq!(
            format!("{pieces:?}"),
            format!("{whole:?}"),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        match whole {
            Ok(_) => loaded += 1,
            Err(problems) => {
                refused += 1;
                assert!(!problems.0.is_empty());
                for p in &problems.0 {
                    assert!(p.line >= 1 && p.column >= 1, "{p}");
                }
            }
        }
        let formatted = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| roster::state::format::canonical(text).ok());
        if let Some(formatted) = formatted {
            // Formatting is stable.
            assert_eq!(
                roster::state::format::canonical(&formatted).unwrap(),
                formatted
            );
        }
    }
    assert!(
        refused > ITERATIONS / 2,
        "most mutations are caught ({loaded} loaded, {refused} refused)"
    );
}
