//! Replays the committed fuzz corpus on stable Rust: every file under
//! `fuzz/corpus/<target>/`, `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`
//! goes through the same function as the cargo-fuzz target
//! (`fuzz/targets_common.rs`, shared with the fuzz targets). A panic or a broken
//! invariant fails the test.
//!
//! Fuzzing itself needs nightly (`make fuzz`, `fuzz/run.sh`); this test does not.

#[path = "../fuzz/targets_common.rs"]
mod fuzz_common;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted (none if the folder is absent).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read_dir entry").path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

fn target_fn(target: &str) -> fuzz_common::Target {
    fuzz_common::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
        .1
}

/// Runs every corpus, seed and regression file of one target; the corpus and
/// the seeds must not be empty.
fn replay(target: &str) {
    let run = target_fn(target);
    let corpus = inputs("corpus", target);
    let seeds = inputs("seeds", target);
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ is empty or missing"
    );
    assert!(
        !seeds.is_empty(),
        "fuzz/seeds/{target}/ is empty or missing"
    );
    for path in corpus
        .iter()
        .chain(&seeds)
        .chain(&inputs("regressions", target))
    {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{target}: {}", path.display());
        run(&data);
    }
}

/// One regression input, by file name (`fuzz/regressions/<target>/<name>`).
#[allow(dead_code)] // used by the regression tests below, when there are any
fn regression(target: &str, name: &str) {
    let path = fuzz_dir().join("regressions").join(target).join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    target_fn(target)(&data);
}

#[test]
fn every_target_has_a_fuzz_target_and_a_corpus() {
    for (name, _) in fuzz_common::TARGETS {
        let src = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(src.is_file(), "{} is missing", src.display());
        assert!(
            !inputs("corpus", name).is_empty(),
            "fuzz/corpus/{name}/ is empty or missing"
        );
    }
    let mut listed: Vec<&str> = fuzz_common::TARGETS.iter().map(|(n, _)| *n).collect();
    listed.sort_unstable();
    let mut on_disk: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "rs").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    on_disk.sort_unstable();
    assert_eq!(
        listed, on_disk,
        "fuzz/fuzz_targets/ and TARGETS in fuzz/targets_common.rs differ"
    );
}

/// The named HS256 seeds do what their names say, so the target keeps reaching
/// both the accepting and the refusing paths of `decode_id_token`.
#[test]
fn id_token_seeds_are_accepted_or_refused_as_named() {
    let seeds = inputs("seeds", "id_token_hs256");
    let mut valid = 0;
    for path in &seeds {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(path).unwrap();
        let accepted = fuzz_common::id_token_hs256_accepts(&data);
        if name.starts_with("valid-") || name.ends_with("-valid") {
            assert_eq!(accepted, Some(true), "seed {name} was not accepted");
            valid += 1;
        } else if name.starts_with("refused-") {
            assert_eq!(accepted, Some(false), "seed {name} was not refused");
        }
    }
    assert!(
        valid >= 5,
        "only {valid} valid-* seeds in fuzz/seeds/id_token_hs256/"
    );
}

#[test]
fn corpus_jose_parse() {
    replay("jose_parse");
}

#[test]
fn corpus_id_token_hs256() {
    replay("id_token_hs256");
}

#[test]
fn corpus_discovery() {
    replay("discovery");
}

#[test]
fn corpus_jwks() {
    replay("jwks");
}

#[test]
fn corpus_token_response() {
    replay("token_response");
}

#[test]
fn corpus_introspection_response() {
    replay("introspection_response");
}

#[test]
fn corpus_authorization_response() {
    replay("authorization_response");
}

// Regression tests: one per crash the fuzzers found (input in fuzz/regressions/).
