//! The provider's key set: caching, refetch on an unknown kid (rate-limited), key
//! rotation at the real provider, failures of the JWKS endpoint, Cache-Control.

mod common;

use common::ffi::{self, FfiClient, Params};
use common::jwt::{good_claims, sign};
use common::provider::{self, alice_id_token, client_secret, jwks_fetch_count, rotate};
use common::stub::{dead_url, jwks_of, public_jwk, Route, StubServer, JWKS_PATH};
use serde_json::json;
use soidc::ffi::status::*;
use std::sync::{Mutex, MutexGuard};

/// Tests that use the real provider hold this: its JWKS fetch counter and its keys
/// (rotation) are shared by every test of this binary.
static PROVIDER_LOCK: Mutex<()> = Mutex::new(());

fn provider_lock() -> MutexGuard<'static, ()> {
    PROVIDER_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn provider_client(client_id: &str, options: Option<&str>) -> FfiClient {
    let secret = client_secret(client_id);
    ffi::client(
        provider::issuer(),
        Params {
            client_id,
            client_secret: Some(&secret),
            options,
            ..Default::default()
        },
    )
}

fn stub_client(stub: &StubServer, options: Option<&str>) -> FfiClient {
    ffi::client(
        &stub.issuer(),
        Params {
            client_id: "rp",
            client_secret: Some("rp-secret"),
            options,
            ..Default::default()
        },
    )
}

fn stub_token(stub: &StubServer, key: &str, kid: Option<&str>) -> String {
    let alg = common::jwt::header_alg_for_key(key);
    let overrides = match kid {
        Some(k) => json!({"kid": k}),
        None => json!({}),
    };
    sign(
        alg,
        key,
        &overrides,
        &good_claims(&stub.issuer(), "rp", None),
    )
}

// ---------------------------------------------------------------------------------------
// Real provider
// ---------------------------------------------------------------------------------------

#[test]
fn keys_are_fetched_once_for_many_tokens() {
    let _guard = provider_lock();
    let client = provider_client("conf-basic", None);
    let before = jwks_fetch_count();
    let secret = client_secret("conf-basic");
    for i in 0..20 {
        let (user, password) = if i % 2 == 0 {
            ("alice", "alice-password")
        } else {
            ("bob", "bob-password")
        };
        let nonce = format!("n{i}");
        let resp = provider::password_grant(
            "conf-basic",
            &secret,
            user,
            password,
            "openid",
            Some(&nonce),
        );
        let options = json!({"nonce": nonce}).to_string();
        let claims = client
            .decode_id_token(resp["id_token"].as_str().unwrap(), Some(&options))
            .ok();
        assert_eq!(claims["sub"], user);
    }
    assert_eq!(jwks_fetch_count() - before, 1, "20 decodes, one JWKS fetch");
}

#[test]
fn rotation_is_picked_up_through_an_unknown_kid() {
    let _guard = provider_lock();
    let client = provider_client("conf-basic", Some(r#"{"jwks_refetch_min_interval_s": 0}"#));
    let before = jwks_fetch_count();
    let (old_token, _) = alice_id_token("conf-basic", None);
    assert_eq!(
        client.decode_id_token(&old_token, None).ok()["sub"],
        "alice"
    );
    assert_eq!(jwks_fetch_count() - before, 1);

    let kids = rotate(true);
    assert_eq!(kids.len(), 3, "drop_old leaves only the new keys: {kids:?}");
    let (new_token, _) = alice_id_token("conf-basic", None);
    let new_kid = common::jwt::header_of(&new_token)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(kids.contains(&new_kid), "{new_kid} in {kids:?}");
    assert_ne!(common::jwt::header_of(&old_token)["kid"], new_kid);

    // Same client: the unknown kid triggers one refetch, which finds the new key.
    assert_eq!(
        client.decode_id_token(&new_token, None).ok()["sub"],
        "alice"
    );
    assert_eq!(jwks_fetch_count() - before, 2);
    // The cache now holds the new set only; the old key was dropped by the provider.
    client
        .decode_id_token(&old_token, None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid");

    // Rotation that keeps the old keys: both generations verify.
    let kids = rotate(false);
    assert_eq!(kids.len(), 6, "{kids:?}");
    let (newest, _) = alice_id_token("conf-es256", None);
    let es_client = provider_client("conf-es256", Some(r#"{"jwks_refetch_min_interval_s": 0}"#));
    es_client.decode_id_token(&newest, None).ok();
    let (newest_rs, _) = alice_id_token("conf-basic", None);
    client.decode_id_token(&newest_rs, None).ok();
    client.decode_id_token(&new_token, None).ok();
}

#[test]
fn provider_keys_refresh_and_cache_only() {
    let _guard = provider_lock();
    let client = provider_client("conf-basic", None);
    client
        .provider_keys(Some(r#"{"cache_only": true}"#))
        .err(SOIDC_ERR_VALIDATION, "no keys are cached");
    let (token, _) = alice_id_token("conf-basic", None);
    client
        .decode_id_token(&token, Some(r#"{"cache_only": true}"#))
        .err(SOIDC_ERR_VALIDATION, "cache_only");
    let before = jwks_fetch_count();
    let keys = client.provider_keys(None).ok();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 3);
    assert_eq!(
        client.provider_keys(Some(r#"{"cache_only": true}"#)).ok(),
        keys
    );
    client
        .decode_id_token(&token, Some(r#"{"cache_only": true}"#))
        .ok();
    assert_eq!(jwks_fetch_count() - before, 1);
    client
        .provider_keys(Some(r#"{"force_refresh": true}"#))
        .ok();
    assert_eq!(jwks_fetch_count() - before, 2);
    client
        .provider_keys(Some(r#"{"force_refresh": true, "cache_only": true}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "contradict");
    client
        .provider_keys(Some(r#"{"refresh": true}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "unknown field `refresh`");
}

// ---------------------------------------------------------------------------------------
// Stub provider
// ---------------------------------------------------------------------------------------

#[test]
fn flood_of_unknown_kids_is_rate_limited() {
    let stub = StubServer::new();
    let client = stub_client(&stub, None); // jwks_refetch_min_interval_s: default 10
    client
        .decode_id_token(&stub_token(&stub, "stub-rs256", None), None)
        .ok();
    for i in 0..50 {
        let token = stub_token(&stub, "stub-rs256-b", Some(&format!("unknown-{i}")));
        client.decode_id_token(&token, None).err(
            SOIDC_ERR_VALIDATION,
            &format!("no key with kid \"unknown-{i}\""),
        );
    }
    let fetches = stub.jwks_count();
    assert!(
        (1..=2).contains(&fetches),
        "{fetches} JWKS fetches for 50 unknown kids"
    );
    // Known keys keep working throughout.
    client
        .decode_id_token(&stub_token(&stub, "stub-es256", None), None)
        .ok();
}

#[test]
fn unknown_kid_refetches_and_finds_a_new_key() {
    let stub = StubServer::new();
    stub.set_jwks(&jwks_of(&["stub-rs256"]));
    let client = stub_client(&stub, Some(r#"{"jwks_refetch_min_interval_s": 0}"#));
    let old = stub_token(&stub, "stub-rs256", None);
    client.decode_id_token(&old, None).ok();
    assert_eq!(stub.jwks_count(), 1);

    let rotated = stub_token(&stub, "stub-rs256-b", None);
    client
        .decode_id_token(&rotated, None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid \"stub-rs256-b\"");
    assert_eq!(stub.jwks_count(), 2, "one refetch for the unknown kid");

    stub.set_jwks(&jwks_of(&["stub-rs256-b", "stub-rs256"]));
    client.decode_id_token(&rotated, None).ok();
    assert_eq!(stub.jwks_count(), 3);
    client.decode_id_token(&old, None).ok();
    client.decode_id_token(&rotated, None).ok();
    assert_eq!(stub.jwks_count(), 3, "known kids need no fetch");
}

#[test]
fn refetch_is_suppressed_within_the_interval() {
    let stub = StubServer::new();
    stub.set_jwks(&jwks_of(&["stub-rs256"]));
    let client = stub_client(&stub, Some(r#"{"jwks_refetch_min_interval_s": 3600}"#));
    client
        .decode_id_token(&stub_token(&stub, "stub-rs256", None), None)
        .ok();
    stub.set_jwks(&jwks_of(&["stub-rs256-b", "stub-rs256"]));
    let rotated = stub_token(&stub, "stub-rs256-b", None);
    client
        .decode_id_token(&rotated, None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid \"stub-rs256-b\"");
    assert_eq!(stub.jwks_count(), 1, "the first fetch starts the interval");
    // An explicit refresh is not rate-limited, and then the key is known.
    client
        .provider_keys(Some(r#"{"force_refresh": true}"#))
        .ok();
    client.decode_id_token(&rotated, None).ok();
    assert_eq!(stub.jwks_count(), 2);
}

#[test]
fn enc_keys_never_verify() {
    let stub = StubServer::new();
    let mut enc = public_jwk("stub-es256");
    enc["use"] = json!("enc");
    let mut no_verify = public_jwk("stub-ed25519");
    no_verify["key_ops"] = json!(["encrypt"]);
    stub.set_jwks(&json!({"keys": [enc, no_verify, public_jwk("stub-rs256")]}));
    let client = stub_client(&stub, Some(r#"{"jwks_refetch_min_interval_s": 0}"#));
    client
        .decode_id_token(&stub_token(&stub, "stub-es256", None), None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid \"stub-es256\"");
    client
        .decode_id_token(&stub_token(&stub, "stub-ed25519", None), None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid \"stub-ed25519\"");
    client
        .decode_id_token(&stub_token(&stub, "stub-rs256", None), None)
        .ok();
    // provider_keys hands out the document as published, enc key included.
    assert_eq!(
        client.provider_keys(None).ok()["keys"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn symmetric_keys_in_the_jwks_are_ignored() {
    // An `oct` key in the JWKS must never become an HMAC key (HS* verify with the
    // client secret only).
    use base64::Engine;
    let secret = b"published-oct-secret-0123456789abcdef";
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let stub = StubServer::new();
    stub.set_jwks(&json!({"keys": [{"kty": "oct", "kid": "oct-1", "k": k, "alg": "HS256"}, public_jwk("stub-rs256")]}));
    let client = stub_client(&stub, Some(r#"{"allowed_algs": ["RS256", "HS256"]}"#));
    let claims = good_claims(&stub.issuer(), "rp", None);
    let token = common::jwt::sign_hmac("HS256", secret, &json!({"kid": "oct-1"}), &claims);
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "MAC does not verify");
    let token = common::jwt::sign_hmac("HS256", b"rp-secret", &json!({"kid": "oct-1"}), &claims);
    client.decode_id_token(&token, None).ok();
}

#[test]
fn broken_keys_are_skipped_and_the_rest_is_used() {
    let stub = StubServer::new();
    let mut broken = public_jwk("stub-rs256");
    broken["kid"] = json!("broken");
    broken["n"] = json!("@@not-base64@@");
    let mut short = public_jwk("stub-es256");
    short["kid"] = json!("short");
    short["x"] = json!("AAAA");
    stub.set_jwks(&json!({"keys": [broken, short, 7, {"kty": "RSA"}, public_jwk("stub-es256")]}));
    let client = stub_client(&stub, None);
    client
        .decode_id_token(&stub_token(&stub, "stub-es256", None), None)
        .ok();
    let token = stub_token(&stub, "stub-rs256", Some("broken"));
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid \"broken\"");
}

#[test]
fn last_good_keys_stay_in_use_when_the_endpoint_fails() {
    let stub = StubServer::new();
    // min_jwks_cache_s 0: the cached set is stale at once, so every use tries to refresh;
    // jwks_refetch_min_interval_s 0: a failed refresh is retried at the next use.
    let client = stub_client(
        &stub,
        Some(r#"{"min_jwks_cache_s": 0, "jwks_refetch_min_interval_s": 0}"#),
    );
    let token = stub_token(&stub, "stub-rs256", None);
    client.decode_id_token(&token, None).ok();
    assert_eq!(stub.jwks_count(), 1);
    let good_keys = client.provider_keys(Some(r#"{"cache_only": true}"#)).ok();

    stub.set_json(JWKS_PATH, 500, &json!({"error": "server_error"}));
    client.decode_id_token(&token, None).ok();
    assert_eq!(stub.jwks_count(), 2, "the refresh was attempted");

    stub.set_route(
        JWKS_PATH,
        Route::raw(200, "text/html", b"<html>maintenance</html>"),
    );
    client
        .decode_id_token(&stub_token(&stub, "stub-ed25519", None), None)
        .ok();

    stub.set_json(JWKS_PATH, 200, &json!({"keys": "none"}));
    client
        .decode_id_token(&stub_token(&stub, "stub-es384", None), None)
        .ok();

    // The stale set is what provider_keys hands out, too.
    assert_eq!(client.provider_keys(None).ok(), good_keys);
    // A forced refresh that fails leaves the cached keys in place.
    let _ = client.provider_keys(Some(r#"{"force_refresh": true}"#));
    client
        .decode_id_token(&token, Some(r#"{"cache_only": true}"#))
        .ok();

    // Once the endpoint is back, the new set replaces the old one.
    stub.set_jwks(&jwks_of(&["stub-es256"]));
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "no key with kid \"stub-rs256\"");
}

#[test]
fn failing_refresh_of_stale_keys_is_rate_limited() {
    // Once the cached set is stale and the endpoint is down, every decode must not
    // repeat the failing request (each one costs up to timeout_ms, serialised behind the
    // fetch lock): a failed refresh should wait jwks_refetch_min_interval_s like a
    // refetch for an unknown kid does, serving the last good keys meanwhile.
    let stub = StubServer::new();
    let client = stub_client(
        &stub,
        Some(r#"{"min_jwks_cache_s": 1, "jwks_refetch_min_interval_s": 3600}"#),
    );
    let token = stub_token(&stub, "stub-rs256", None);
    client.decode_id_token(&token, None).ok();
    assert_eq!(stub.jwks_count(), 1);
    std::thread::sleep(std::time::Duration::from_millis(1200)); // the set is now stale
    stub.set_json(JWKS_PATH, 503, &json!({"error": "temporarily_unavailable"}));
    for _ in 0..5 {
        client.decode_id_token(&token, None).ok();
    }
    let fetches = stub.jwks_count();
    assert!(
        fetches <= 2,
        "{fetches} JWKS requests: the failing endpoint was hit by every decode"
    );
}

#[test]
fn jwks_failures_without_cached_keys_are_reported() {
    let stub = StubServer::new();
    stub.set_json(JWKS_PATH, 500, &json!({"error": "server_error"}));
    // No back-off between failed fetches here (tests/fault_contract.rs tests the back-off),
    // so that each failure mode below is fetched and reported.
    let client = stub_client(&stub, Some(r#"{"jwks_refetch_min_interval_s":0}"#));
    let token = stub_token(&stub, "stub-rs256", None);
    let doc = client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_HTTP, "JWKS at");
    assert_eq!(doc["http_status"], 500);
    client.provider_keys(None).err(SOIDC_ERR_HTTP, "HTTP 500");

    stub.set_route(JWKS_PATH, Route::raw(200, "text/plain", b"keys"));
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_HTTP, "JWKS from");

    stub.set_json(JWKS_PATH, 200, &json!({"keys": 5}));
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_PROTOCOL, "JWKS \"keys\" is not an array");
    stub.set_json(JWKS_PATH, 200, &json!({"not_keys": []}));
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_PROTOCOL, "JWKS has no \"keys\" member");

    // A jwks_uri where nothing listens.
    let mut doc = stub.discovery_doc();
    doc["jwks_uri"] = json!(format!("{}/jwks", dead_url()));
    let (out, dead) = ffi::from_issuer_config(
        &doc.to_string(),
        Params {
            client_id: "rp",
            ..Default::default()
        },
    );
    assert_eq!(out.status, SOIDC_OK);
    dead.unwrap()
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_NETWORK, "JWKS");
}

#[test]
fn jwks_redirect_is_not_followed_and_slow_jwks_times_out() {
    let stub = StubServer::new();
    stub.set_route(
        JWKS_PATH,
        Route::raw(302, "text/plain", b"").with_header("Location", "/elsewhere"),
    );
    let client = stub_client(&stub, Some(r#"{"jwks_refetch_min_interval_s":0}"#));
    let token = stub_token(&stub, "stub-rs256", None);
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_HTTP, "redirects are never followed");
    assert_eq!(stub.count("/elsewhere"), 0);

    stub.set_route(
        JWKS_PATH,
        Route::json(200, &jwks_of(&common::stub::STUB_KEYS))
            .with_delay(std::time::Duration::from_secs(5)),
    );
    // The per-call timeout_ms bounds the key fetch.
    client
        .decode_id_token(&token, Some(r#"{"timeout_ms": 300}"#))
        .err(SOIDC_ERR_NETWORK, "timed out");
    client
        .provider_keys(Some(r#"{"timeout_ms": 300}"#))
        .err(SOIDC_ERR_NETWORK, "timed out");
}

#[test]
fn cache_control_max_age_extends_the_cache() {
    let stub = StubServer::new();
    stub.set_route(
        JWKS_PATH,
        Route::json(200, &jwks_of(&common::stub::STUB_KEYS))
            .with_header("Cache-Control", "public, max-age=3600"),
    );
    let client = stub_client(&stub, Some(r#"{"min_jwks_cache_s": 0}"#));
    let token = stub_token(&stub, "stub-rs256", None);
    for _ in 0..3 {
        client.decode_id_token(&token, None).ok();
    }
    assert_eq!(stub.jwks_count(), 1, "max-age=3600 keeps the set fresh");
}

#[test]
fn without_cache_control_min_jwks_cache_zero_refetches() {
    let stub = StubServer::new();
    let client = stub_client(&stub, Some(r#"{"min_jwks_cache_s": 0}"#));
    let token = stub_token(&stub, "stub-rs256", None);
    for _ in 0..3 {
        client.decode_id_token(&token, None).ok();
    }
    assert_eq!(stub.jwks_count(), 3);
}

#[test]
fn cache_control_max_age_is_only_a_lower_bound_over_min_jwks_cache() {
    let stub = StubServer::new();
    stub.set_route(
        JWKS_PATH,
        Route::json(200, &jwks_of(&common::stub::STUB_KEYS))
            .with_header("Cache-Control", "max-age=0, no-cache"),
    );
    let client = stub_client(&stub, None); // min_jwks_cache_s: default 600
    let token = stub_token(&stub, "stub-rs256", None);
    for _ in 0..3 {
        client.decode_id_token(&token, None).ok();
    }
    assert_eq!(
        stub.jwks_count(),
        1,
        "min_jwks_cache_s wins over a shorter max-age"
    );
}

#[test]
fn jwks_cache_options_are_checked() {
    let stub = StubServer::new();
    for (options, fragment) in [
        (
            r#"{"min_jwks_cache_s": 86401}"#,
            "min_jwks_cache_s must be at most 86400",
        ),
        (
            r#"{"jwks_refetch_min_interval_s": 86401}"#,
            "jwks_refetch_min_interval_s must be at most 86400",
        ),
        (r#"{"min_jwks_cache_s": -1}"#, "options_json"),
    ] {
        let (out, client) = ffi::from_issuer_url(
            &stub.issuer(),
            Params {
                client_id: "rp",
                options: Some(options),
                ..Default::default()
            },
        );
        assert!(client.is_none());
        out.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
}
