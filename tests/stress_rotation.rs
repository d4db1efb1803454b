//! 16 threads share one client for ID token decoding, refresh and introspection while
//! the provider rotates its signing keys (new keys first, old ones still published, so
//! every token stays valid): every answer must be right for its own input, whatever the
//! other threads and the provider do.
//!
//! Data races: soidc's shared state is Rust (`RwLock`/`Mutex`/atomics, no `unsafe` in
//! src/core), so a race would have to be in the FFI layer or a dependency; the C suite
//! runs its 8-thread test under ThreadSanitizer (tests/c/run.sh, `threads-tsan`). This
//! test is the functional half: no wrong answer under contention and rotation.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::provider;
use flows::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const THREADS: usize = 16;
const ROUNDS: usize = 12;

#[test]
fn sixteen_threads_decode_refresh_and_introspect_while_keys_rotate() {
    // A refetch for an unknown kid is allowed at any time (interval 0), so each
    // rotation is picked up by the first token signed with the new keys.
    let client = Arc::new(conf_client("conf-basic", Some(r#"{"jwks_refetch_min_interval_s": 0}"#)));
    let stop = Arc::new(AtomicBool::new(false));
    let rotations = Arc::new(AtomicUsize::new(0));
    let rotator = {
        let (stop, rotations) = (stop.clone(), rotations.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                provider::rotate(false);
                rotations.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(700));
            }
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, rotations) = (client.clone(), rotations.clone());
            std::thread::spawn(move || {
                let user = if t % 2 == 0 { "alice" } else { "bob" };
                let password = format!("{user}-password");
                let mut checked = 0usize;
                // ROUNDS at least, and on until the keys have rotated during the run (a fast,
                // idle machine can finish ROUNDS before the rotator's second rotation).
                let mut round = 0usize;
                while round < ROUNDS || rotations.load(Ordering::SeqCst) < 3 {
                    let nonce = format!("n-{t}-{round}");
                    let options = format!(r#"{{"nonce": "{nonce}"}}"#);
                    let tokens = password_grant(&client, user, &password, Some("openid email offline_access"), Some(&options)).ok();
                    assert_eq!(s(&tokens["id_token_claims"], "sub"), user, "thread {t}");
                    let id_token = s(&tokens, "id_token").to_owned();
                    let decoded = client.decode_id_token(&id_token, Some(&options)).ok();
                    assert_eq!(s(&decoded, "sub"), user, "thread {t}");
                    assert_eq!(s(&decoded, "nonce"), nonce, "thread {t}");
                    let refresh_token = s(&tokens, "refresh_token").to_owned();
                    let refreshed = refresh(&client, &refresh_token, Some(&format!(r#"{{"id_token": "{id_token}"}}"#))).ok();
                    assert_eq!(s(&refreshed["id_token_claims"], "sub"), user, "thread {t}");
                    let info = introspect(&client, s(&refreshed, "access_token"), Some("access_token"), None).ok();
                    assert_eq!(info["active"], true, "thread {t}");
                    assert_eq!(s(&info, "sub"), user, "thread {t}");
                    checked += 1;
                    round += 1;
                }
                checked
            })
        })
        .collect();
    let checked: usize = workers.into_iter().map(|w| w.join().expect("worker panicked")).sum();
    stop.store(true, Ordering::SeqCst);
    rotator.join().unwrap();
    assert!(checked >= THREADS * ROUNDS, "{checked} rounds checked");
    assert!(rotations.load(Ordering::SeqCst) >= 3, "the keys rotated during the run");
}
