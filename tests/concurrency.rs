//! One client shared by many threads through the C ABI (a `const soidc_client *` is
//! thread-safe): every result matches its own token, whatever the other threads do.

mod common;

use common::ffi::{self, decode_id_token_raw, Params};
use common::jwt;
use common::provider::{self, client_secret, password_grant};
use serde_json::json;
use soidc::ffi::client::soidc_client;
use soidc::ffi::status::*;

const THREADS: usize = 8;

/// The two tests run one after the other so that the provider's JWKS fetch counter
/// belongs to one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
const ROUNDS: usize = 200;

/// What one token should decode to.
#[derive(Clone)]
enum Expect {
    Sub(&'static str),
    Fails(i32, &'static str),
}

fn token_for(user: &str) -> String {
    let secret = client_secret("conf-basic");
    let resp = password_grant(
        "conf-basic",
        &secret,
        user,
        &format!("{user}-password"),
        "openid email",
        None,
    );
    resp["id_token"].as_str().unwrap().to_owned()
}

/// Runs THREADS threads over one shared handle; thread `t` decodes `tokens[t]` ROUNDS
/// times and checks every result against its expectation.
fn run(tokens: Vec<(String, Expect)>) {
    assert_eq!(tokens.len(), THREADS);
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fetches_before = provider::jwks_fetch_count();
    let secret = client_secret("conf-basic");
    let client = ffi::client(
        provider::issuer(),
        Params {
            client_id: "conf-basic",
            client_secret: Some(&secret),
            ..Default::default()
        },
    );
    let handle = client.0 as usize; // the raw pointer, shared as a plain integer
    let threads: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(t, (token, expect))| {
            std::thread::spawn(move || {
                let c = handle as *const soidc_client;
                for round in 0..ROUNDS {
                    let out = decode_id_token_raw(c, &token, None, None, std::ptr::null_mut());
                    match &expect {
                        Expect::Sub(sub) => {
                            let claims = out.ok();
                            assert_eq!(claims["sub"], *sub, "thread {t} round {round}");
                        }
                        Expect::Fails(status, fragment) => {
                            out.err(*status, fragment);
                        }
                    }
                }
            })
        })
        .collect();
    for (t, th) in threads.into_iter().enumerate() {
        th.join().unwrap_or_else(|_| panic!("thread {t} failed"));
    }
    drop(client); // only after every thread is done
                  // The threads that all needed keys at once shared one fetch.
    assert_eq!(provider::jwks_fetch_count() - fetches_before, 1);
}

#[test]
fn eight_threads_share_one_client() {
    let tokens = (0..THREADS)
        .map(|t| {
            let user = if t % 2 == 0 { "alice" } else { "bob" };
            (token_for(user), Expect::Sub(user))
        })
        .collect();
    run(tokens);
}

#[test]
fn valid_and_invalid_tokens_interleaved() {
    let alice = token_for("alice");
    let bob = token_for("bob");
    // A token for another client (valid signature, wrong aud).
    let post_secret = client_secret("conf-post");
    let foreign = password_grant(
        "conf-post",
        &post_secret,
        "alice",
        "alice-password",
        "openid",
        None,
    )["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Alice's token claiming to be bob's (signature no longer matches).
    let mut claims = jwt::payload(&alice);
    claims["sub"] = json!("bob");
    let forged = jwt::with_payload(&alice, &claims);
    let garbage = "eyJhbGciOiJSUzI1NiJ9.%%%.sig".to_owned();
    let tokens = vec![
        (alice.clone(), Expect::Sub("alice")),
        (forged, Expect::Fails(SOIDC_ERR_VALIDATION, "signature")),
        (bob.clone(), Expect::Sub("bob")),
        (
            foreign,
            Expect::Fails(
                SOIDC_ERR_VALIDATION,
                "does not contain client_id \"conf-basic\"",
            ),
        ),
        (alice, Expect::Sub("alice")),
        (garbage, Expect::Fails(SOIDC_ERR_VALIDATION, "base64url")),
        (bob, Expect::Sub("bob")),
        (
            "".to_owned(),
            Expect::Fails(SOIDC_ERR_VALIDATION, "expected 3 parts"),
        ),
    ];
    run(tokens);
}
