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
