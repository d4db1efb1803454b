//! Shared harness of the Rust integration tests.
//!
//! - `provider`: the real test OpenID provider (tests/provider), one per test binary.
//! - `stub`: a tiny HTTP server of the tests' own, with routes set per test.
//! - `jwt`: token signing with the keys of tests/keys, including malformed tokens.
//! - `ffi`: safe wrappers around the C ABI for tests that go through it.
//!
//! Every test binary compiles this module separately and uses only part of it.
#![allow(dead_code)]

pub mod ffi;
pub mod jwt;
pub mod provider;
pub mod stub;

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under tests/.
pub fn tests_path(rel: &str) -> PathBuf {
    repo_root().join("tests").join(rel)
}

/// Seconds since the epoch, as the library's clock sees it.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Asserts that a core result failed with `kind` and a message containing `fragment`.
#[track_caller]
pub fn assert_core_err<T: std::fmt::Debug>(
    result: soidc::core::Result<T>,
    kind: soidc::core::ErrorKind,
    fragment: &str,
) -> soidc::core::Error {
    match result {
        Ok(v) => panic!("expected a {kind:?} error containing {fragment:?}, got success: {v:?}"),
        Err(e) => {
            assert_eq!(e.kind, kind, "wrong error kind; message: {}", e.message);
            assert!(
                e.message.contains(fragment),
                "error message {:?} does not contain {fragment:?}",
                e.message
            );
            e
        }
    }
}

/// Runs the ignored test `name` of this test binary alone in a child process, with the
/// environment variable `var` set to `value` (the child returns at once without it).
pub fn run_child_test(name: &str, var: &str, value: impl AsRef<std::ffi::OsStr>) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", name, "--test-threads", "1", "--quiet"])
        .env(var, value)
        .output()
        .unwrap()
}

/// Asserts that a child test process passed its one test and that nothing but the test
/// harness printed anything: stderr empty, stdout only the harness's own lines (the
/// library never prints).
#[track_caller]
pub fn assert_quiet_child(out: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the child failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 passed"), "the child ran: {stdout}");
    assert!(out.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let foreign: Vec<&str> = stdout
        .lines()
        .filter(|l| !(l.trim().is_empty() || l.starts_with("running ") || l.starts_with("test result:") || l.chars().all(|c| c == '.')))
        .collect();
    assert!(foreign.is_empty(), "unexpected output: {foreign:?}");
}
