//! The fault contract, against the tests' own stub provider (the Toxiproxy suite in
//! tests/fault does the same against the real provider): `timeout_ms` bounds the whole
//! call, including waiting for another caller's JWKS fetch and discovery; one fetch in
//! flight, its outcome shared; failures backed off; a log callback may call soidc;
//! strict JSON; secrets from files with checked permissions.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::ffi::{self, cstr, decode_id_token_raw, opt_ptr, take, FfiClient, Params};
use common::jwt::{good_claims, sign};
use common::stub::{Route, StubServer, DISCOVERY_PATH, JWKS_PATH};
use serde_json::json;
use soidc::ffi::client::{soidc_client, soidc_client_set_log_callback};
use soidc::ffi::status::*;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous: these check bounds, not speed (the machine may be loaded).
const MARGIN: Duration = Duration::from_millis(700);

fn stub_client(stub: &StubServer, options: Option<&str>) -> FfiClient {
    ffi::client(
        &stub.issuer(),
        Params { client_id: "rp", client_secret: Some("rp-secret"), options, ..Default::default() },
    )
}

fn token(stub: &StubServer) -> String {
    sign("RS256", "stub-rs256", &json!({"kid": "stub-rs256"}), &good_claims(&stub.issuer(), "rp", None))
}

struct Shared(*const soidc_client);
// SAFETY: the C contract: a client may be used from many threads at once.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

#[test]
fn a_waiter_is_bounded_by_its_own_timeout_not_by_the_fetch_it_waits_for() {
    let stub = StubServer::new();
    let client = stub_client(&stub, None);
    stub.set_route(JWKS_PATH, Route::json(200, &common::stub::jwks_of(&common::stub::STUB_KEYS)).with_delay(Duration::from_millis(2500)));
    let shared = Arc::new(Shared(client.0));
    let tok = token(&stub);
    let slow = {
        let (shared, tok) = (shared.clone(), tok.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let out = decode_id_token_raw(shared.0, &tok, Some(r#"{"timeout_ms":10000}"#), None, std::ptr::null_mut());
            (out, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300)); // the slow caller's fetch is in flight
    let started = Instant::now();
    let out = decode_id_token_raw(shared.0, &tok, Some(r#"{"timeout_ms":200}"#), None, std::ptr::null_mut());
    let took = started.elapsed();
    let doc = out.err(SOIDC_ERR_NETWORK, "waiting for the JWKS fetch");
    assert_eq!(doc["reason"], "timeout");
    assert!(took < Duration::from_millis(200) + MARGIN, "waited {took:?} behind another caller's fetch");
    let (slow_out, slow_took) = slow.join().unwrap();
    slow_out.ok();
    assert!(slow_took >= Duration::from_millis(2000), "the slow fetch really was slow ({slow_took:?})");
    assert_eq!(stub.jwks_count(), 1, "one fetch for both callers");
}

#[test]
fn every_waiter_gets_the_outcome_of_the_one_fetch_in_flight() {
    let stub = StubServer::new();
    let client = stub_client(&stub, None);
    stub.set_route(JWKS_PATH, Route::json(500, &json!({"error": "boom"})).with_delay(Duration::from_millis(600)));
    let shared = Arc::new(Shared(client.0));
    let tok = token(&stub);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (shared, tok) = (shared.clone(), tok.clone());
            std::thread::spawn(move || decode_id_token_raw(shared.0, &tok, Some(r#"{"timeout_ms":5000}"#), None, std::ptr::null_mut()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().err(SOIDC_ERR_HTTP, "HTTP 500");
    }
    assert_eq!(stub.jwks_count(), 1, "8 concurrent callers, one failed fetch shared by all");
}

#[test]
fn a_dead_jwks_endpoint_sees_a_bounded_number_of_requests() {
    let stub = StubServer::new();
    let client = stub_client(&stub, Some(r#"{"jwks_refetch_min_interval_s":5}"#));
    stub.set_json(JWKS_PATH, 503, &json!({"error": "down"}));
    let shared = Arc::new(Shared(client.0));
    let tok = token(&stub);
    let calls = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (shared, tok, calls) = (shared.clone(), tok.clone(), calls.clone());
            std::thread::spawn(move || {
                let mut worst = Duration::ZERO;
                while started.elapsed() < Duration::from_millis(2500) {
                    let t = Instant::now();
                    let out = decode_id_token_raw(shared.0, &tok, Some(r#"{"timeout_ms":200}"#), None, std::ptr::null_mut());
                    worst = worst.max(t.elapsed());
                    assert!(out.status == SOIDC_ERR_HTTP || out.status == SOIDC_ERR_NETWORK, "{out:?}");
                    calls.fetch_add(1, Ordering::Relaxed);
                }
                worst
            })
        })
        .collect();
    let worst = handles.into_iter().map(|h| h.join().unwrap()).max().unwrap();
    let calls = calls.load(Ordering::Relaxed);
    let fetches = stub.jwks_count();
    // Back-off 1 s, then 2 s: at most 3 attempts within 2.5 s (4 allows for timing).
    assert!(fetches <= 4, "{fetches} JWKS requests for {calls} calls in 2.5 s");
    assert!(calls >= 100, "the calls failed fast during the back-off ({calls} calls)");
    assert!(worst < Duration::from_millis(200) + MARGIN, "a call took {worst:?}");
    eprintln!("dead JWKS: {calls} calls from 16 threads, {fetches} requests, slowest call {worst:?}");
}

#[test]
fn the_last_good_keys_stay_in_use_while_the_jwks_endpoint_fails() {
    let stub = StubServer::new();
    // Keys are stale at once (no cache lifetime), so every decode wants a refresh.
    let client = stub_client(&stub, Some(r#"{"min_jwks_cache_s":0,"jwks_refetch_min_interval_s":2}"#));
    let tok = token(&stub);
    client.decode_id_token(&tok, None).ok();
    stub.set_json(JWKS_PATH, 500, &json!({"error": "down"}));
    for _ in 0..50 {
        client.decode_id_token(&tok, Some(r#"{"timeout_ms":500}"#)).ok();
    }
    assert!(stub.jwks_count() <= 3, "{} requests", stub.jwks_count());
}

#[test]
fn discovery_is_bounded_by_create_timeout_ms() {
    let stub = StubServer::new();
    let doc = stub.discovery_doc();
    stub.set_route(DISCOVERY_PATH, Route::json(200, &doc).with_delay(Duration::from_millis(3000)));
    let started = Instant::now();
    let (out, client) = ffi::from_issuer_url(
        &stub.issuer(),
        Params { client_id: "rp", options: Some(r#"{"create_timeout_ms":300}"#), ..Default::default() },
    );
    let took = started.elapsed();
    assert!(client.is_none());
    out.err(SOIDC_ERR_NETWORK, "discovery");
    assert!(took < Duration::from_millis(300) + MARGIN, "creation took {took:?}");
    // The default is timeout_ms.
    let started = Instant::now();
    let (out, _) = ffi::from_issuer_url(
        &stub.issuer(),
        Params { client_id: "rp", options: Some(r#"{"timeout_ms":250}"#), ..Default::default() },
    );
    out.err(SOIDC_ERR_NETWORK, "discovery");
    assert!(started.elapsed() < Duration::from_millis(250) + MARGIN);
    for bad in [r#"{"create_timeout_ms":0}"#, r#"{"create_timeout_ms":"1"}"#, r#"{"create_timeout_ms":null}"#] {
        let (out, _) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(bad), ..Default::default() });
        out.err(SOIDC_ERR_INVALID_ARGUMENT, "create_timeout_ms");
    }
}

#[test]
fn the_blocking_device_wait_ends_at_its_timeout_with_pending() {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["device_authorization_endpoint"] = json!(stub.url("/device"));
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    stub.set_json("/token", 400, &json!({"error": "authorization_pending"}));
    let client = stub_client(&stub, None);
    for (timeout, interval) in [(1500u64, 1u64), (400, 1)] {
        let started = Instant::now();
        let out = flows::device_poll(&client, "dc", Some(&format!(r#"{{"wait":true,"interval":{interval},"timeout_ms":{timeout}}}"#)));
        let took = started.elapsed();
        out.err(SOIDC_ERR_PENDING, "timeout");
        assert!(took <= Duration::from_millis(timeout) + MARGIN, "wait took {took:?} for timeout_ms {timeout}");
    }
    // A slow token endpoint: the budget bounds the request as well.
    stub.set_route("/token", Route::json(400, &json!({"error": "authorization_pending"})).with_delay(Duration::from_millis(3000)));
    let started = Instant::now();
    let out = flows::device_poll(&client, "dc", Some(r#"{"wait":true,"interval":1,"timeout_ms":500}"#));
    assert_eq!(out.status, SOIDC_ERR_NETWORK, "{out:?}");
    assert!(started.elapsed() < Duration::from_millis(500) + MARGIN);
}

/// What the re-entrant log callback needs: the client and a token to decode.
struct Reentry {
    client: *const soidc_client,
    token: String,
    nested_ok: AtomicUsize,
    messages: AtomicUsize,
    depth: AtomicUsize,
}

unsafe extern "C" fn reentrant_log(_level: c_int, _msg: *const c_char, user_data: *mut c_void) {
    // SAFETY: user_data is the test's Reentry, alive for the whole test.
    let r = unsafe { &*(user_data as *const Reentry) };
    r.messages.fetch_add(1, Ordering::Relaxed);
    if r.depth.fetch_add(1, Ordering::SeqCst) == 0 {
        // Calls back into soidc on the same client, while soidc is logging.
        let out = decode_id_token_raw(r.client, &r.token, None, None, std::ptr::null_mut());
        let keys = {
            let opts = cstr(r#"{"cache_only":true}"#);
            let mut out: *mut c_char = std::ptr::null_mut();
            // SAFETY: a live client and a valid out-pointer.
            let status = unsafe { soidc::ffi::client::soidc_client_provider_keys(r.client, opts.as_ptr(), &mut out) };
            // SAFETY: soidc's string.
            unsafe { take(out) };
            status
        };
        if out.status == SOIDC_OK && keys == SOIDC_OK {
            r.nested_ok.fetch_add(1, Ordering::Relaxed);
        }
    }
    r.depth.fetch_sub(1, Ordering::SeqCst);
}

#[test]
fn a_log_callback_may_call_back_into_soidc() {
    let stub = StubServer::new();
    let client = stub_client(&stub, Some(r#"{"min_jwks_cache_s":0,"jwks_refetch_min_interval_s":0}"#));
    let tok = token(&stub);
    let r = Box::new(Reentry {
        client: client.0,
        token: tok.clone(),
        nested_ok: AtomicUsize::new(0),
        messages: AtomicUsize::new(0),
        depth: AtomicUsize::new(0),
    });
    // SAFETY: a live client; the callback and its user data outlive the client.
    let status = unsafe {
        soidc_client_set_log_callback(client.0, Some(reentrant_log), 5, &*r as *const Reentry as *mut c_void)
    };
    assert_eq!(status, SOIDC_OK);
    // The first decode fetches the JWKS and logs from inside the fetch path; the
    // callback's nested decode then finds the keys (or fetches them itself).
    let done = std::sync::mpsc::channel();
    let (tx, rx) = done;
    let shared = Shared(client.0);
    let tok2 = tok.clone();
    std::thread::spawn(move || {
        let shared = shared;
        let out = decode_id_token_raw(shared.0, &tok2, None, None, std::ptr::null_mut());
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(Duration::from_secs(20)).expect("a re-entrant log callback must not deadlock");
    out.ok();
    assert!(r.messages.load(Ordering::Relaxed) > 0, "the callback received messages");
    assert!(r.nested_ok.load(Ordering::Relaxed) > 0, "a nested call from the callback succeeded");
    drop(client);
}

#[test]
fn duplicate_members_are_refused_everywhere() {
    let stub = StubServer::new();
    // Options: a repeated key and a null value.
    let (out, _) = ffi::from_issuer_url(
        &stub.issuer(),
        Params { client_id: "rp", options: Some(r#"{"timeout_ms":1000,"timeout_ms":2000}"#), ..Default::default() },
    );
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "appears more than once");
    let client = stub_client(&stub, None);
    let tok = token(&stub);
    client
        .decode_id_token(&tok, Some(r#"{"expect_self_azp":true,"expect_self_azp":false}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "\"expect_self_azp\" appears more than once");
    client.decode_id_token(&tok, Some(r#"{"nonce":null}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "null");
    // A claim repeated inside a nested object of the payload.
    let mut claims = good_claims(&stub.issuer(), "rp", None);
    claims["address"] = json!({"country": "x"});
    let payload = claims.to_string().replacen(r#""country":"x""#, r#""country":"x","country":"y""#, 1);
    let dup = common::jwt::sign_raw(
        &json!({"alg": "RS256", "kid": "stub-rs256"}).to_string(),
        &payload,
        "RS256",
        &common::jwt::Key::Pem("stub-rs256"),
    );
    client.decode_id_token(&dup, None).err(SOIDC_ERR_VALIDATION, "\"country\" appears more than once");
    // A repeated header member.
    let dup_header = common::jwt::sign_raw(
        r#"{"alg":"RS256","kid":"stub-rs256","kid":"other"}"#,
        &good_claims(&stub.issuer(), "rp", None).to_string(),
        "RS256",
        &common::jwt::Key::Pem("stub-rs256"),
    );
    client.decode_id_token(&dup_header, None).err(SOIDC_ERR_VALIDATION, "\"kid\" appears more than once");
    // A JWKS with a repeated member.
    let jwks = common::stub::jwks_of(&["stub-rs256"]).to_string();
    let dup_jwks = jwks.replacen(r#""keys":"#, r#""keys":[],"keys":"#, 1);
    let stub2 = StubServer::new();
    stub2.set_route(JWKS_PATH, Route::raw(200, "application/json", dup_jwks.as_bytes()));
    let c2 = stub_client(&stub2, None);
    c2.decode_id_token(&token(&stub2), None).err(SOIDC_ERR_HTTP, "appears more than once");
    // A discovery document with a repeated member.
    let disc = stub2.discovery_doc().to_string();
    let dup_disc = disc.replacen(r#""issuer":"#, r#""issuer":"https://evil.example","issuer":"#, 1);
    stub2.set_route(DISCOVERY_PATH, Route::raw(200, "application/json", dup_disc.as_bytes()));
    let (out, _) = ffi::from_issuer_url(&stub2.issuer(), Params { client_id: "rp", ..Default::default() });
    out.err(SOIDC_ERR_HTTP, "appears more than once");
    let (out, _) = ffi::from_issuer_config(&dup_disc, Params { client_id: "rp", ..Default::default() });
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "appears more than once");
    // A token response with a repeated member.
    stub.set_route("/token", Route::raw(200, "application/json", br#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#));
    flows::client_credentials(&client, None, None).err(SOIDC_ERR_HTTP, "appears more than once");
}

fn write_mode(path: &std::path::Path, content: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn secrets_from_files_with_checked_permissions() {
    let stub = StubServer::new();
    let dir = std::env::temp_dir().join(format!("soidc-fault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("secret");
    write_mode(&secret, "rp-secret\n", 0o600);
    let opts = json!({"client_secret_file": secret}).to_string();
    let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&opts), ..Default::default() });
    assert_eq!(out.status, SOIDC_OK, "{out:?}");
    let c = c.unwrap();
    assert_eq!(c.get_type(), 2, "a secret from a file makes the client confidential");
    // HS256 tokens verify with the secret read from the file (its newline removed).
    let hs = common::jwt::sign_raw(
        &json!({"alg": "HS256"}).to_string(),
        &good_claims(&stub.issuer(), "rp", None).to_string(),
        "HS256",
        &common::jwt::Key::Secret(b"rp-secret"),
    );
    let opts_hs = json!({"client_secret_file": secret, "allowed_algs": ["HS256"]}).to_string();
    let (_, c_hs) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&opts_hs), ..Default::default() });
    c_hs.unwrap().decode_id_token(&hs, None).ok();
    // Group- or world-accessible: refused, and the message never shows the content.
    write_mode(&secret, "rp-secret\n", 0o644);
    let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&opts), ..Default::default() });
    assert!(c.is_none());
    let doc = out.err(SOIDC_ERR_INVALID_ARGUMENT, "must not be accessible by group or others");
    assert!(!doc.to_string().contains("rp-secret"));
    // Both the argument and the file: refused.
    write_mode(&secret, "rp-secret\n", 0o600);
    let (out, _) = ffi::from_issuer_url(
        &stub.issuer(),
        Params { client_id: "rp", client_secret: Some("x"), options: Some(&opts), ..Default::default() },
    );
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "exclude each other");
    // A private key file: the same rules.
    let key = dir.join("key.pem");
    let pem = std::fs::read_to_string(common::tests_path("keys/stub-rs256.pem")).unwrap();
    write_mode(&key, &pem, 0o640);
    let kopts = json!({"private_key_file": key, "auth_method": "private_key_jwt"}).to_string();
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&kopts), ..Default::default() });
    let doc = out.err(SOIDC_ERR_INVALID_ARGUMENT, "private_key_file");
    assert!(!doc.to_string().contains("PRIVATE KEY"));
    write_mode(&key, &pem, 0o400);
    let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&kopts), ..Default::default() });
    assert_eq!(out.status, SOIDC_OK, "{out:?}");
    assert_eq!(c.unwrap().get_type(), 2);
    let (out, _) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(r#"{"private_key_file":"/nonexistent/k.pem"}"#), ..Default::default() });
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "cannot open");
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = opt_ptr(&None);
}
