//! DPoP, client side (RFC 9449), against the real provider (oidc-provider's dPoP feature,
//! tests/provider) through the C ABI: bound tokens from every grant the provider offers
//! here, the PAR request's proof and the code binding (§10), the provider's nonce
//! challenges (§8, §9) with exactly one retry, userinfo with a bound token, the proofs of
//! `soidc_dpop_proof`, stable keys from PEM, bad input, and 8 threads while the
//! server's nonces rotate. The stub server checks the retry rules the real provider
//! cannot be made to break (exactly one retry, the call's deadline).

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::ffi::{self, cstr, opt_ptr, take, FfiClient, Outcome, Params};
use common::stub::{Route, StubServer};
use common::{provider, tests_path};
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;
use std::os::raw::c_char;
use std::ptr;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn call(f: impl FnOnce(*mut *mut c_char) -> i32) -> Outcome {
    let mut out: *mut c_char = ptr::null_mut();
    let status = f(&mut out);
    // SAFETY: NULL or a string soidc handed out.
    let doc = unsafe { take(out) };
    Outcome { status, doc }
}

/// `soidc_client_dpop_jwk`.
fn dpop_jwk(c: &FfiClient) -> Outcome {
    // SAFETY: a live client and a valid out-pointer.
    call(|out| unsafe { soidc::ffi::dpop::soidc_client_dpop_jwk(c.0, out) })
}

/// `soidc_dpop_proof`.
fn dpop_proof(c: &FfiClient, method: &str, url: &str, token: Option<&str>, options: Option<&str>) -> Outcome {
    let (m, u) = (cstr(method), cstr(url));
    let (t, o) = (token.map(cstr), options.map(cstr));
    // SAFETY: a live client, valid strings and out-pointer.
    call(|out| unsafe { soidc::ffi::dpop::soidc_dpop_proof(c.0, m.as_ptr(), u.as_ptr(), opt_ptr(&t), opt_ptr(&o), out) })
}

/// The thumbprint (`jkt`) of a client's DPoP key.
fn jkt_of(c: &FfiClient) -> String {
    s(&dpop_jwk(c).ok(), "jkt").to_owned()
}

/// A DPoP client of clients.json with extra client options.
fn dpop_client(client_id: &str, extra: Value) -> FfiClient {
    let mut o = json!({"dpop": true});
    o.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    conf_client_scope(client_id, Some("openid offline_access"), Some(&o.to_string()))
}

fn b64d(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn b64e(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The header and payload of a compact JWS (not verified).
fn jws_parts(jwt: &str) -> (Value, Value) {
    let p: Vec<&str> = jwt.split('.').collect();
    assert_eq!(p.len(), 3, "{jwt}");
    (serde_json::from_slice(&b64d(p[0])).unwrap(), serde_json::from_slice(&b64d(p[1])).unwrap())
}

/// The provider's introspection of `token` (by the client that holds it).
fn introspected_jkt(c: &FfiClient, token: &str) -> Value {
    let doc = introspect(c, token, Some("access_token"), None).ok();
    assert_eq!(doc["active"], true, "{doc}");
    doc["cnf"]["jkt"].clone()
}

/// Asserts a token response is DPoP-bound to `jkt` (token_type and the provider's record).
#[track_caller]
fn assert_bound(c: &FfiClient, doc: &Value, jkt: &str) {
    assert_eq!(doc["token_type"], "DPoP", "{doc}");
    assert_eq!(introspected_jkt(c, s(doc, "access_token")), jkt, "introspection cnf.jkt of {doc}");
}

/// RFC 7638 thumbprint computed here, independently of soidc.
fn thumbprint(jwk: &Value) -> String {
    let text = match jwk["kty"].as_str().unwrap() {
        "EC" => format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, jwk["crv"].as_str().unwrap(), jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()),
        "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, jwk["crv"].as_str().unwrap(), jwk["x"].as_str().unwrap()),
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, jwk["e"].as_str().unwrap(), jwk["n"].as_str().unwrap()),
        other => panic!("kty {other}"),
    };
    b64e(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
}

/// Verifies a proof's signature with the public key in its own header.
fn verify_proof_signature(proof: &str) {
    use aws_lc_rs::signature as sig;
    let (header, _) = jws_parts(proof);
    let (input, signature) = proof.rsplit_once('.').unwrap();
    let signature = b64d(signature);
    let jwk = &header["jwk"];
    let m = |k: &str| b64d(jwk[k].as_str().unwrap());
    let result = match header["alg"].as_str().unwrap() {
        "ES256" => {
            let mut point = vec![4u8];
            point.extend(m("x"));
            point.extend(m("y"));
            sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point).verify(input.as_bytes(), &signature)
        }
        "EdDSA" => sig::UnparsedPublicKey::new(&sig::ED25519, m("x")).verify(input.as_bytes(), &signature),
        "PS256" => sig::RsaPublicKeyComponents { n: m("n"), e: m("e") }.verify(&sig::RSA_PSS_2048_8192_SHA256, input.as_bytes(), &signature),
        "RS256" => sig::RsaPublicKeyComponents { n: m("n"), e: m("e") }.verify(&sig::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature),
        other => panic!("alg {other}"),
    };
    assert!(result.is_ok(), "the proof verifies with its own jwk: {header}");
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(tests_path(&format!("keys/{name}.pem"))).unwrap()
}

/// The token requests of `client_id` since the last reset.
fn requests_of(client_id: &str) -> Vec<Value> {
    token_requests().into_iter().filter(|r| r["client_id"] == client_id).collect()
}

fn set_nonce_policy(body: Value) {
    let (status, answer) = control_post("/test/dpop-nonce", &body);
    assert_eq!(status, 200, "{answer}");
}

// ---------------------------------------------------------------------------------------
// Bound tokens from every grant
// ---------------------------------------------------------------------------------------

#[test]
fn client_credentials_token_is_bound_to_the_clients_key() {
    let _g = requests_lock();
    requests_reset();
    let c = dpop_client("dpop-bound", json!({}));
    let jkt = jkt_of(&c);
    let doc = client_credentials(&c, None, None).ok();
    assert_bound(&c, &doc, &jkt);
    // A JWT access token (resource indicator): its cnf.jkt is our thumbprint (§6.1).
    let doc = client_credentials(&c, Some("api:read"), Some(&json!({"resource": API}).to_string())).ok();
    assert_eq!(doc["token_type"], "DPoP");
    let (_, claims) = jws_parts(s(&doc, "access_token"));
    assert_eq!(claims["cnf"]["jkt"], jkt, "{claims}");
    let reqs = requests_of("dpop-bound");
    assert!(reqs.len() >= 2 && reqs.iter().all(|r| r["dpop"] == true), "every token request carried a proof: {reqs:?}");
    // Without DPoP the provider refuses this client (dpop_bound_access_tokens): the proof
    // above is what made it work.
    let plain = conf_client("dpop-bound", None);
    let e = client_credentials(&plain, None, None).err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(e["error"], "invalid_grant", "{e}");
}

#[test]
fn every_algorithm_obtains_a_bound_token() {
    for alg in ["ES256", "EdDSA", "PS256", "RS256"] {
        let c = conf_client("dpop-bound", Some(&json!({"dpop": alg}).to_string()));
        let jwk = dpop_jwk(&c).ok();
        assert_eq!(thumbprint(&jwk["jwk"]), s(&jwk, "jkt"), "{alg}: {jwk}");
        let doc = client_credentials(&c, None, None).ok();
        assert_bound(&c, &doc, s(&jwk, "jkt"));
        let proof = s(&dpop_proof(&c, "GET", "https://rs.example/x", None, None).ok(), "proof").to_owned();
        assert_eq!(jws_parts(&proof).0["alg"], alg);
    }
}

#[test]
fn code_flow_binds_code_and_tokens_and_refresh_keeps_the_binding() {
    let c = dpop_client("dpop-bound", json!({}));
    let jkt = jkt_of(&c);
    let (start, redirect) = login_alice(&c, Some(r#"{"prompt": "consent"}"#));
    // §10: dpop_jkt by default on a DPoP client.
    assert_eq!(param(s(&start, "url"), "dpop_jkt").as_deref(), Some(jkt.as_str()));
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    assert_bound(&c, &doc, &jkt);
    assert_eq!(doc["id_token_claims"]["sub"], "alice");
    // Userinfo with the bound token: DPoP scheme and a proof with ath (the default here).
    let ui = userinfo(&c, s(&doc, "access_token"), None).ok();
    assert_eq!(ui["sub"], "alice");
    // The same token as a Bearer token is refused by the provider.
    let e = userinfo(&c, s(&doc, "access_token"), Some(r#"{"token_type": "Bearer"}"#));
    assert_eq!(e.status, SOIDC_ERR_PROVIDER, "{:?}", e.doc);
    // Refresh: a new token, bound to the same key (RFC 9449 §5).
    let rt = s(&doc, "refresh_token");
    let refreshed = refresh(&c, rt, Some(&json!({"id_token": s(&doc, "id_token")}).to_string())).ok();
    assert_bound(&c, &refreshed, &jkt);
    assert_ne!(refreshed["access_token"], doc["access_token"]);
    assert_eq!(userinfo(&c, s(&refreshed, "access_token"), Some(r#"{"token_type": "dpop"}"#)).ok()["sub"], "alice");
}

#[test]
fn code_bound_by_dpop_jkt_cannot_be_redeemed_with_another_key() {
    let a = dpop_client("dpop-bound", json!({}));
    let b = dpop_client("dpop-bound", json!({}));
    assert_ne!(jkt_of(&a), jkt_of(&b), "each client generates its own key");
    let (start, redirect) = login_alice(&a, None);
    // The code was bound to a's key: b (same client_id, another key) cannot redeem it.
    let e = handle_result(&b, &redirect, Some(&result_options(&start))).err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(e["error"], "invalid_grant", "{e}");
    // Without dpop_jkt and without PAR the code is not bound in advance.
    let (start, redirect) = login_alice(&a, Some(r#"{"dpop_jkt": false}"#));
    assert_eq!(param(s(&start, "url"), "dpop_jkt"), None);
    let doc = handle_result(&a, &redirect, Some(&result_options(&start))).ok();
    assert_bound(&a, &doc, &jkt_of(&a));
}

#[test]
fn par_request_carries_a_proof_that_binds_the_code() {
    let _g = requests_lock();
    requests_reset();
    let a = dpop_client("dpop-bound", json!({}));
    // dpop_jkt off: the binding comes from the PAR request's proof alone (§10.1).
    let (start, redirect) = login_alice(&a, Some(r#"{"par": true, "dpop_jkt": false}"#));
    let pushes: Vec<Value> = endpoint_requests().into_iter().filter(|r| r["path"] == "/request").collect();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0]["dpop"], true, "the push carried a DPoP proof: {pushes:?}");
    assert!(!pushes[0]["params"].as_array().unwrap().contains(&json!("dpop_jkt")), "{pushes:?}");
    let b = dpop_client("dpop-bound", json!({}));
    let e = handle_result(&b, &redirect, Some(&result_options(&start))).err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(e["error"], "invalid_grant", "{e}");
    // The right key redeems a fresh one.
    let (start, redirect) = login_alice(&a, Some(r#"{"par": true}"#));
    let doc = handle_result(&a, &redirect, Some(&result_options(&start))).ok();
    assert_bound(&a, &doc, &jkt_of(&a));
}

#[test]
fn device_flow_token_is_bound() {
    let c = dpop_client("dpop-bound", json!({}));
    let start = device_start(&c, Some("openid"), None).ok();
    device_decide(s(&start, "user_code"), "alice", true);
    let doc = device_poll(&c, s(&start, "device_code"), None).ok();
    assert_bound(&c, &doc, &jkt_of(&c));
    assert_eq!(userinfo(&c, s(&doc, "access_token"), None).ok()["sub"], "alice");
}

/// The test provider's password grant (its own code, see tests/provider/server.mjs) does
/// not bind tokens: soidc sends the proof and refuses the Bearer answer (RFC 9449 §5).
#[test]
fn an_unbound_token_is_refused_when_dpop_is_on() {
    let _g = requests_lock();
    requests_reset();
    let c = dpop_client("conf-basic", json!({}));
    let e = password_grant(&c, "alice", "alice-password", Some("openid"), None).err(SOIDC_ERR_PROTOCOL, "did not bind");
    assert_eq!(e["reason"], "dpop_not_bound", "{e}");
    let reqs = requests_of("conf-basic");
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["dpop"], true, "the password grant carried a proof");
    assert_eq!(reqs[0]["grant_type"], "password");
}

// ---------------------------------------------------------------------------------------
// Server nonces (§8, §9)
// ---------------------------------------------------------------------------------------

#[test]
fn provider_nonce_challenge_is_answered_with_one_retry() {
    let _g = requests_lock();
    requests_reset();
    let c = dpop_client("dpop-nonce", json!({}));
    let jkt = jkt_of(&c);
    // First call: no nonce known; the provider answers use_dpop_nonce, soidc retries once.
    let doc = client_credentials(&c, None, None).ok();
    assert_bound(&c, &doc, &jkt);
    let statuses: Vec<Value> = requests_of("dpop-nonce").iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, vec![json!(400), json!(200)], "one challenge, one retry");
    // Second call: the remembered nonce goes into the first proof.
    requests_reset();
    client_credentials(&c, None, None).ok();
    let statuses: Vec<Value> = requests_of("dpop-nonce").iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, vec![json!(200)], "the nonce was remembered");
    // New nonces (a new server secret): the old one is refused, one retry again.
    set_nonce_policy(json!({"rotate": true}));
    requests_reset();
    assert_bound(&c, &client_credentials(&c, None, None).ok(), &jkt);
    let statuses: Vec<Value> = requests_of("dpop-nonce").iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, vec![json!(400), json!(200)], "after rotation");
}

/// The userinfo endpoint's 401 `WWW-Authenticate: DPoP error="use_dpop_nonce"` (§9), with a
/// client that knows no nonce yet: a second client on the same key (dpop_key_pem).
#[test]
fn userinfo_nonce_challenge_and_a_stable_key_across_clients() {
    let _g = requests_lock();
    let key = json!({"dpop_key_pem": pem("client-es256")});
    let a = dpop_client("dpop-bound", key.clone());
    let b = dpop_client("dpop-bound", key);
    assert_eq!(jkt_of(&a), jkt_of(&b), "the same PEM key gives the same thumbprint");
    let public: Value = serde_json::from_str(&std::fs::read_to_string(tests_path("keys/client-es256.pub.jwk.json")).unwrap()).unwrap();
    assert_eq!(jkt_of(&a), thumbprint(&public), "and it is the key's RFC 7638 thumbprint");
    let (start, redirect) = login_alice(&a, None);
    let doc = handle_result(&a, &redirect, Some(&result_options(&start))).ok();
    set_nonce_policy(json!({"require": true}));
    let ui = userinfo(&b, s(&doc, "access_token"), None);
    set_nonce_policy(json!({"require": false}));
    assert_eq!(ui.ok()["sub"], "alice", "b answered the userinfo nonce challenge");
}

/// Stub token endpoint that always asks for a nonce: exactly one retry, never a loop.
#[test]
fn exactly_one_retry_and_the_calls_deadline() {
    let stub = StubServer::new();
    let challenge = |nonce: &str| {
        Route::json(400, &json!({"error": "use_dpop_nonce", "error_description": "nonce required"})).with_header("DPoP-Nonce", nonce)
    };
    stub.set_route("/token", challenge("n-1"));
    let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", client_secret: Some("s3cret-s3cret"), options: Some(r#"{"dpop": true}"#), ..Default::default() });
    assert_eq!(out.status, 0, "{:?}", out.doc);
    let c = c.unwrap();
    let e = client_credentials(&c, None, None).err(SOIDC_ERR_PROVIDER, "use_dpop_nonce");
    assert_eq!(e["error"], "use_dpop_nonce");
    assert_eq!(stub.count("/token"), 2, "the first send and one retry");
    // The nonce is now known: the first proof carries it, and the same nonce again is no
    // reason for another send.
    client_credentials(&c, None, None).err(SOIDC_ERR_PROVIDER, "use_dpop_nonce");
    assert_eq!(stub.count("/token"), 3, "no retry with a nonce the proof already carried");
    // A challenge without a DPoP-Nonce header: nothing new to send, no retry.
    stub.set_route("/token", Route::json(400, &json!({"error": "use_dpop_nonce"})));
    client_credentials(&c, None, None).err(SOIDC_ERR_PROVIDER, "use_dpop_nonce");
    assert_eq!(stub.count("/token"), 4);
    // The retry is bounded by the call's timeout_ms: 2 x 700 ms do not fit in 1000 ms.
    stub.set_route("/token", challenge("n-2").with_delay(Duration::from_millis(700)));
    let t0 = Instant::now();
    let e = client_credentials(&c, None, Some(r#"{"timeout_ms": 1000}"#)).err(SOIDC_ERR_NETWORK, "");
    let took = t0.elapsed();
    assert_eq!(e["reason"], "timeout", "{e}");
    assert!(took < Duration::from_millis(1400), "the retry respected the deadline: {took:?}");
}

/// Token exchange (RFC 8693) with a DPoP client, at a stub token endpoint (the test
/// provider has no token exchange): a Bearer access token is refused as unbound, a DPoP
/// one or an `N_A` token (not an access token) passes; a DPoP-Nonce is remembered.
#[test]
fn token_exchange_answers_are_checked_for_the_binding() {
    let stub = StubServer::new();
    let (out, c) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", client_secret: Some("s3cret-s3cret"), options: Some(r#"{"dpop": true}"#), ..Default::default() });
    assert_eq!(out.status, 0, "{:?}", out.doc);
    let c = c.unwrap();
    let at = soidc::ffi::token_exchange::SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
    let exchange = |c: &FfiClient| {
        let (s, t) = (cstr("subject-token"), cstr(at));
        // SAFETY: a live client, valid strings and out-pointer.
        call(|out| unsafe { soidc::ffi::token_exchange::soidc_token_exchange(c.0, s.as_ptr(), t.as_ptr(), ptr::null(), out) })
    };
    let answer = |token_type: &str| {
        Route::json(200, &json!({"access_token": "issued", "issued_token_type": at, "token_type": token_type}))
            .with_header("DPoP-Nonce", "from-the-token-endpoint")
    };
    stub.set_route("/token", answer("Bearer"));
    let e = exchange(&c).err(SOIDC_ERR_PROTOCOL, "did not bind");
    assert_eq!(e["reason"], "dpop_not_bound", "{e}");
    stub.set_route("/token", answer("DPoP"));
    assert_eq!(exchange(&c).ok()["token_type"], "DPoP");
    stub.set_route("/token", answer("N_A"));
    exchange(&c).ok();
    // The token endpoint's nonce is used for a proof to its origin.
    let (_, claims) = jws_parts(s(&dpop_proof(&c, "POST", &stub.url("/token"), None, None).ok(), "proof"));
    assert_eq!(claims["nonce"], "from-the-token-endpoint");
}

// ---------------------------------------------------------------------------------------
// soidc_dpop_proof and soidc_client_dpop_jwk
// ---------------------------------------------------------------------------------------

#[test]
fn proofs_for_the_hosts_own_requests() {
    let c = dpop_client("dpop-bound", json!({}));
    let jwk = dpop_jwk(&c).ok();
    let public = jwk["jwk"].as_object().unwrap();
    assert_eq!(public.keys().cloned().collect::<Vec<_>>(), ["crv", "kty", "x", "y"], "public members only: {jwk}");
    let token = "an-access-token.with.dots";
    let p1 = s(&dpop_proof(&c, "GET", "https://API.example:443/v1/items?page=2#top", Some(token), Some(r#"{"nonce": "srv-nonce_1"}"#)).ok(), "proof").to_owned();
    let (h, claims) = jws_parts(&p1);
    assert_eq!(h["typ"], "dpop+jwt");
    assert_eq!(h["alg"], "ES256");
    assert_eq!(h["jwk"], jwk["jwk"]);
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], "https://api.example/v1/items", "no query, no fragment (§4.2)");
    assert_eq!(claims["nonce"], "srv-nonce_1");
    let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    assert_eq!(claims["ath"], b64e(sha.as_ref()));
    assert!((claims["iat"].as_i64().unwrap() - common::now()).abs() <= 2);
    assert!(b64d(claims["jti"].as_str().unwrap()).len() >= 12, "jti of 96 bits or more");
    verify_proof_signature(&p1);
    let p2 = s(&dpop_proof(&c, "POST", "http://127.0.0.1:8080/a", None, None).ok(), "proof").to_owned();
    let (_, c2) = jws_parts(&p2);
    assert_ne!(c2["jti"], claims["jti"], "a new jti per proof");
    assert!(c2.get("ath").is_none() && c2.get("nonce").is_none(), "{c2}");
    assert_eq!(c2["htu"], "http://127.0.0.1:8080/a");
    verify_proof_signature(&p2);
    // A nonce the client learned from an origin is used for that origin by default. The
    // dpop-nonce client's token requests would show up in the request log that
    // provider_nonce_challenge_is_answered_with_one_retry reads: hold its lock.
    let _g = requests_lock();
    let nonce_client = dpop_client("dpop-nonce", json!({}));
    client_credentials(&nonce_client, None, None).ok();
    let url = format!("{}/me", provider::issuer());
    let (_, c3) = jws_parts(s(&dpop_proof(&nonce_client, "GET", &url, None, None).ok(), "proof"));
    assert!(c3["nonce"].as_str().is_some_and(|n| !n.is_empty()), "{c3}");
    // Keys of the other algorithms: their proofs verify too.
    for (alg, key) in [("EdDSA", "client-ed25519"), ("RS256", "client-rs256"), ("PS256", "client-rs256")] {
        let k = conf_client("dpop-bound", Some(&json!({"dpop": alg, "dpop_key_pem": pem(key)}).to_string()));
        let p = s(&dpop_proof(&k, "DELETE", "https://rs.example/x", Some("t"), None).ok(), "proof").to_owned();
        assert_eq!(jws_parts(&p).0["alg"], alg);
        assert!(jws_parts(&p).0["jwk"].get("d").is_none());
        verify_proof_signature(&p);
    }
}

/// Both halves of soidc together: a client obtains a DPoP-bound JWT access token for the
/// API, makes the proof for its own API call with `soidc_dpop_proof`, and the resource
/// server side (`soidc_decode_access_token` with `dpop_proof`) accepts it once; a replay,
/// another URL and another key's proof are refused.
#[test]
fn the_resource_side_accepts_our_proofs() {
    let c = dpop_client("dpop-bound", json!({"dpop": "EdDSA"}));
    let doc = client_credentials(&c, Some("api:read"), Some(&json!({"resource": API}).to_string())).ok();
    assert_eq!(doc["token_type"], "DPoP");
    let at = s(&doc, "access_token");
    let uri = "https://api.soidc.test/items?page=1";
    let proof = s(&dpop_proof(&c, "GET", uri, Some(at), None).ok(), "proof").to_owned();
    let opts = |proof: &str, uri: &str| json!({"audience": API, "dpop_proof": proof, "http_method": "GET", "http_uri": uri}).to_string();
    let claims = decode_access_token(&c, at, Some(&opts(&proof, uri))).ok();
    assert_eq!(claims["cnf"]["jkt"], jkt_of(&c));
    let again = decode_access_token(&c, at, Some(&opts(&proof, uri))).err(SOIDC_ERR_VALIDATION, "");
    assert_eq!(again["reason"], "dpop_replay", "{again}");
    let fresh = s(&dpop_proof(&c, "GET", uri, Some(at), None).ok(), "proof").to_owned();
    let elsewhere = decode_access_token(&c, at, Some(&opts(&fresh, "https://api.soidc.test/other"))).err(SOIDC_ERR_VALIDATION, "");
    assert_eq!(elsewhere["reason"], "dpop_htu", "{elsewhere}");
    let other = dpop_client("dpop-bound", json!({}));
    let foreign = s(&dpop_proof(&other, "GET", uri, Some(at), None).ok(), "proof").to_owned();
    let wrong_key = decode_access_token(&c, at, Some(&opts(&foreign, uri))).err(SOIDC_ERR_VALIDATION, "");
    assert_eq!(wrong_key["reason"], "dpop_jkt", "{wrong_key}");
}

#[test]
fn dpop_key_file_gives_the_same_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("soidc-dpop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dpop.pem");
    std::fs::write(&path, pem("client-ed25519")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let from_file = dpop_client("dpop-bound", json!({"dpop_key_file": path}));
    let from_pem = dpop_client("dpop-bound", json!({"dpop_key_pem": pem("client-ed25519")}));
    assert_eq!(jkt_of(&from_file), jkt_of(&from_pem));
    assert_eq!(dpop_jwk(&from_file).ok()["jwk"]["crv"], "Ed25519");
    // And it obtains bound tokens.
    assert_bound(&from_file, &client_credentials(&from_file, None, None).ok(), &jkt_of(&from_pem));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// Bad input: SOIDC_ERR_INVALID_ARGUMENT, nothing printed (checked in a child process)
// ---------------------------------------------------------------------------------------

const CHILD_ENV: &str = "SOIDC_DPOP_BAD_INPUT_CHILD";

#[test]
fn bad_input_is_refused_and_nothing_is_printed() {
    let out = common::run_child_test("bad_input_child", CHILD_ENV, provider::issuer());
    common::assert_quiet_child(&out);
}

#[test]
#[ignore = "run by bad_input_is_refused_and_nothing_is_printed in a child process"]
fn bad_input_child() {
    use std::os::unix::fs::PermissionsExt;
    let Ok(issuer) = std::env::var(CHILD_ENV) else { return };
    let secret = provider::client_secret("dpop-bound");
    let create = |options: &str| {
        ffi::from_issuer_url(&issuer, Params { client_id: "dpop-bound", client_secret: Some(&secret), options: Some(options), ..Default::default() })
    };
    let dir = std::env::temp_dir().join(format!("soidc-dpop-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let open = dir.join("open.pem");
    std::fs::write(&open, pem("client-es256")).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a key at all\n").unwrap();
    std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o600)).unwrap();
    let unreadable = dir.join("unreadable.pem");
    std::fs::write(&unreadable, pem("client-es256")).unwrap();
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    let megabyte = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", "A".repeat(1024 * 1024));
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let cases: Vec<(Value, &str)> = vec![
        (json!({"dpop": 1}), "dpop"),
        (json!({"dpop": "ES512"}), "ES512"),
        (json!({"dpop": "es256"}), "es256"),
        (json!({"dpop": ["ES256"]}), "dpop"),
        (json!({"dpop": {"alg": "ES256"}}), "dpop"),
        (json!({"dpop_key_pem": 5}), "dpop_key_pem"),
        (json!({"dpop_key_pem": ["x"]}), "dpop_key_pem"),
        (json!({"dpop_key_pem": "garbage"}), "not a PEM private key"),
        (json!({"dpop_key_pem": megabyte}), "limit"),
        (json!({"dpop_key_pem": encrypted}), "encrypted"),
        (json!({"dpop_key_pem": pem("client-es256"), "dpop": "EdDSA"}), "asks for EdDSA"),
        (json!({"dpop_key_pem": pem("client-rs256"), "dpop": "ES256"}), "asks for ES256"),
        (json!({"dpop_key_pem": pem("client-es256"), "dpop": false}), "dpop is false"),
        (json!({"dpop_key_pem": pem("client-es256"), "dpop_key_file": open}), "exclude each other"),
        (json!({"dpop_key_file": 5}), "dpop_key_file"),
        (json!({"dpop_key_file": ""}), "must not be empty"),
        (json!({"dpop_key_file": "/nonexistent/dpop.pem"}), "cannot open"),
        (json!({"dpop_key_file": open}), "group or others"),
        (json!({"dpop_key_file": garbage}), "not a PEM private key"),
        (json!({"dpop_key_file": dir}), "regular file"),
    ];
    for (options, fragment) in &cases {
        let (out, c) = create(&options.to_string());
        assert!(c.is_none(), "{options}: no client");
        let e = out.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
        let msg = e["message"].as_str().unwrap();
        assert!(msg.len() < 500, "{options}: short message: {msg}");
        for material in ["MIGHAgEA", "MIIEvgIB", "MC4CAQAw", "AAAAAAAAAAAA", "MIIBvTBX"] {
            assert!(!msg.contains(material), "{options}: no key material in the message: {msg}");
        }
    }
    // A file this user cannot read (root reads any file: skipped then).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let (out, _) = create(&json!({"dpop_key_file": unreadable}).to_string());
        out.err(SOIDC_ERR_INVALID_ARGUMENT, "cannot open");
    }

    // The new call options and arguments.
    let plain = ffi::client(&issuer, Params { client_id: "conf-basic", client_secret: Some(&provider::client_secret("conf-basic")), redirect_uri: Some(CALLBACK), ..Default::default() });
    dpop_jwk(&plain).err(SOIDC_ERR_INVALID_ARGUMENT, "no DPoP key");
    dpop_proof(&plain, "GET", "https://rs.example/", None, None).err(SOIDC_ERR_INVALID_ARGUMENT, "no DPoP key");
    auth_code_start(&plain, Some(r#"{"dpop_jkt": true}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "no DPoP key");
    userinfo(&plain, "tok", Some(r#"{"token_type": "DPoP"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "DPoP key");
    let c = ffi::client(&issuer, Params { client_id: "dpop-bound", client_secret: Some(&secret), redirect_uri: Some(CALLBACK), options: Some(r#"{"dpop": true}"#), ..Default::default() });
    auth_code_start(&c, Some(r#"{"dpop_jkt": "yes"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "dpop_jkt");
    auth_code_start(&c, Some(r#"{"extra_params": {"dpop_jkt": "x"}}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "dpop_jkt");
    userinfo(&c, "tok", Some(r#"{"token_type": "MAC"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "token_type");
    userinfo(&c, "tok", Some(r#"{"token_type": 5}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "token_type");
    for (method, url, token, options, fragment) in [
        ("", "https://rs.example/", None, None, "method"),
        ("GE T", "https://rs.example/", None, None, "method"),
        ("GET", "/relative", None, None, "url"),
        ("GET", "ftp://rs.example/", None, None, "url"),
        ("GET", "https://rs.example/", Some(""), None, "access_token"),
        ("GET", "https://rs.example/", None, Some(r#"{"nonce": 5}"#), "nonce"),
        ("GET", "https://rs.example/", None, Some(r#"{"nonce": "a b"}"#), "nonce"),
        ("GET", "https://rs.example/", None, Some(r#"{"nonce": ""}"#), "nonce"),
        ("GET", "https://rs.example/", None, Some(r#"{"nonse": "x"}"#), "nonse"),
        ("GET", "https://rs.example/", None, Some(r#"{"nonce": null}"#), "null"),
    ] {
        dpop_proof(&c, method, url, token, options).err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    let huge = "x".repeat(300 * 1024);
    dpop_proof(&c, "GET", "https://rs.example/", Some(&huge), None).err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    dpop_proof(&c, "GET", &format!("https://rs.example/{huge}"), None, None).err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// Concurrency: 8 threads obtaining tokens while the server's nonces rotate
// ---------------------------------------------------------------------------------------

#[test]
fn eight_threads_obtain_bound_tokens_while_nonces_rotate() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ROTATIONS: usize = 3;
    const THREADS: usize = 8;
    const PER_THREAD: usize = 12;
    let _g = requests_lock();
    let c = dpop_client("dpop-nonce", json!({}));
    let jkt = jkt_of(&c);
    let rotated = AtomicBool::new(false);
    // Each worker keeps obtaining tokens until the rotations are over and it has its 12.
    let results: Vec<Vec<Outcome>> = std::thread::scope(|scope| {
        let rotator = scope.spawn(|| {
            for _ in 0..ROTATIONS {
                std::thread::sleep(Duration::from_millis(400));
                set_nonce_policy(json!({"rotate": true}));
            }
            rotated.store(true, Ordering::SeqCst);
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    while !rotated.load(Ordering::SeqCst) || out.iter().filter(|o: &&Outcome| o.status == SOIDC_OK).count() < PER_THREAD {
                        out.push(client_credentials(&c, None, None));
                    }
                    out
                })
            })
            .collect();
        let out = workers.into_iter().map(|w| w.join().unwrap()).collect();
        rotator.join().unwrap();
        out
    });
    // The right answers: a token bound to the client's key; or, when the server's secret
    // was replaced between the challenge and the one retry (or a request still being
    // answered by the replaced provider instance handed out an old nonce), the provider's
    // own use_dpop_nonce refusal. A rotation can catch at most the one call each thread
    // has in flight, so there are at most THREADS refusals per rotation. Never a Bearer
    // token, never another error.
    let mut tokens = std::collections::HashSet::new();
    let mut refused = 0;
    for outcome in results.iter().flatten() {
        if outcome.status == SOIDC_ERR_PROVIDER {
            let e = outcome.err(SOIDC_ERR_PROVIDER, "use_dpop_nonce");
            assert_eq!(e["error"], "use_dpop_nonce", "{e}");
            refused += 1;
            continue;
        }
        let doc = outcome.ok();
        assert_eq!(doc["token_type"], "DPoP", "{doc}");
        assert!(tokens.insert(s(&doc, "access_token").to_owned()), "every token is a new one");
    }
    assert!(tokens.len() >= THREADS * PER_THREAD, "{} tokens", tokens.len());
    assert!(refused <= THREADS * ROTATIONS, "{refused} refusals for {ROTATIONS} rotations");
    // Each one is bound to the client's key (a sample: introspection is one request each).
    for t in tokens.iter().take(12) {
        assert_eq!(introspected_jkt(&c, t), jkt);
    }
    println!("{} bound tokens, {refused} use_dpop_nonce refusals, from {THREADS} threads across {ROTATIONS} nonce rotations", tokens.len());
}
