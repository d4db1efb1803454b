//! The OpenID Foundation's relying-party conformance test modules that apply to a
//! code-flow client (`oidcc-client-test-*` of the conformance suite's client test plans),
//! played by the hostile provider of `tests/hostile/`.
//!
//! Each test is named after its module and says in its doc comment what the module
//! expects. The code flow is driven the way a C caller drives it: the test builds the
//! redirect URL (`http://rp.example/cb?code=...&state=...&iss=...`) and hands it to
//! `soidc_auth_code_handle_result`; the hostile server's token endpoint answers with
//! the ID token the test signed with the keys of `tests/keys`. "Reject" means the
//! expected status with a message naming the failed check; "accept" means `SOIDC_OK`.

mod common;
mod hostile;

use base64::Engine;
use common::ffi::{self, Params};
use common::jwt::{self, sign, sign_hmac, sign_raw, Key};
use common::stub::{jwks_of, public_jwk};
use hostile::rp::{self, rp, Rp, ACCESS_TOKEN, CLIENT_ID, NONCE, REFRESH_TOKEN, SECRET, STATE};
use hostile::server::{Action, HostileServer, Resp, JWKS_PATH, TOKEN_PATH, USERINFO_PATH};
use serde_json::{json, Value};
use soidc::ffi::status::*;

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Asserts that a login was rejected as `VALIDATION` naming the check, after the code
/// was exchanged (the ID token comes from the token endpoint).
#[track_caller]
fn assert_rejected(rp: &Rp, out: &ffi::Outcome, fragment: &str) -> String {
    let e = out.err(SOIDC_ERR_VALIDATION, fragment);
    let msg = e["message"].as_str().unwrap().to_owned();
    assert!(msg.starts_with("ID token: "), "the message names the ID token: {msg}");
    assert_eq!(rp.token_requests(), 1, "the code was exchanged exactly once");
    assert_eq!(rp.server.count(USERINFO_PATH), 0, "no userinfo request after a rejected ID token");
    msg
}

/// Asserts that a login was accepted and returns the success document.
#[track_caller]
fn assert_accepted(out: &ffi::Outcome) -> Value {
    let v = out.ok();
    assert_eq!(v["access_token"], ACCESS_TOKEN);
    assert_eq!(v["id_token_claims"]["sub"], "user-1");
    assert_eq!(v["id_token_claims"]["nonce"], NONCE);
    v
}

// ---------------------------------------------------------------------------------------
// Discovery and keys
// ---------------------------------------------------------------------------------------

/// `oidcc-client-test-discovery-issuer-mismatch`: the discovery document's `issuer`
/// differs from the issuer the client discovered. The module expects the RP to reject
/// the document (OpenID Connect Discovery §4.3) and not to start a login.
/// soidc: `SOIDC_ERR_PROTOCOL` naming the issuer mismatch; nothing else is fetched.
#[test]
fn oidcc_client_test_discovery_issuer_mismatch() {
    let server = HostileServer::start();
    let own = server.issuer();
    for wrong in ["https://op.attacker.example".to_owned(), format!("{own}/"), format!("{own}/other")] {
        server.patch_discovery(&json!({"issuer": wrong}));
        let (out, client) = ffi::from_issuer_url(
            &own,
            Params { client_id: CLIENT_ID, client_secret: Some(SECRET), ..Default::default() },
        );
        let e = out.err(SOIDC_ERR_PROTOCOL, "discovery issuer mismatch");
        assert!(e["message"].as_str().unwrap().contains(&wrong), "names the document's issuer: {e}");
        assert!(client.is_none());
    }
    assert_eq!(server.count(JWKS_PATH), 0, "no key fetch for a rejected provider");
    assert_eq!(server.count(TOKEN_PATH), 0);
}

/// `oidcc-client-test-discovery-jwks-uri-keys`: the RP must take the provider's keys
/// from the `jwks_uri` of the discovery document (here not the usual path) and verify
/// the ID token with them. Expected: accept.
#[test]
fn oidcc_client_test_discovery_jwks_uri_keys() {
    let server = HostileServer::start();
    let uri = server.url("/op/keys/signing-set.json");
    server.patch_discovery(&json!({"jwks_uri": uri}));
    server.set("/op/keys/signing-set.json", Action::json(200, &jwks_of(&["stub-rs256"])));
    server.set(JWKS_PATH, Action::json(500, &json!({"error": "not this one"})));
    let rp = rp(server, None);
    assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    assert_eq!(rp.server.count("/op/keys/signing-set.json"), 1);
    assert_eq!(rp.server.count(JWKS_PATH), 0);
}

/// `oidcc-client-test-idtoken-sig-none`: the module registers the client with
/// `id_token_signed_response_alg=none` and expects it to accept an unsigned ID token
/// from the token endpoint (OIDC Core §3.1.3.7 permits `none` only in that case; the
/// conformance profiles list this test as optional, and the suite's issue #878 made it
/// non-mandatory).
///
/// soidc deliberately cannot be registered that way: its contract is that `none` is
/// never accepted (`allowed_algs` containing `none` is `SOIDC_ERR_INVALID_ARGUMENT`).
/// So this test pins soidc's documented behaviour, a deliberate deviation from the
/// module: the unsigned ID token is rejected as `SOIDC_ERR_VALIDATION` naming `none`.
#[test]
fn oidcc_client_test_idtoken_sig_none() {
    let server = HostileServer::start();
    server.patch_discovery(&json!({"id_token_signing_alg_values_supported": ["none", "RS256"]}));
    // "Registering" for none is refused outright.
    let (out, _) = ffi::from_issuer_url(
        &server.issuer(),
        Params {
            client_id: CLIENT_ID,
            client_secret: Some(SECRET),
            options: Some(r#"{"allowed_algs": ["none"]}"#),
            ..Default::default()
        },
    );
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "\"none\" is never accepted");

    let rp = rp(server, None);
    let header = jwt::b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes());
    let payload = jwt::b64(rp.claims().to_string().as_bytes());
    let unsigned = format!("{header}.{payload}.");
    assert_rejected(&rp, &rp.login(&unsigned), "alg \"none\" (unsigned) is never accepted");
}

/// `oidcc-client-test-idtoken-sig-rs256`: an ID token signed with RS256 by the
/// provider's key. Expected: accept. Also checks the token request the RP sent.
#[test]
fn oidcc_client_test_idtoken_sig_rs256() {
    let rp = rp(HostileServer::with_algs(&["RS256"]), None);
    let v = assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    assert_eq!(v["refresh_token"], REFRESH_TOKEN);
    let reqs = rp.server.requests_to(TOKEN_PATH);
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.form_value("grant_type").as_deref(), Some("authorization_code"));
    assert_eq!(req.form_value("code").as_deref(), Some(rp::CODE));
    assert_eq!(req.form_value("redirect_uri").as_deref(), Some(rp::REDIRECT_URI));
    assert_eq!(req.form_value("code_verifier").as_deref(), Some(rp::VERIFIER));
}

/// `oidcc-client-test-invalid-iss`: the ID token's `iss` is not the provider's issuer.
/// Expected: reject (OIDC Core §3.1.3.7 step 2).
#[test]
fn oidcc_client_test_invalid_iss() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"iss": "https://op.attacker.example"})));
    let msg = assert_rejected(&rp, &rp.login(&token), "iss \"https://op.attacker.example\" does not match the issuer");
    assert!(msg.contains(&rp.issuer()), "names the expected issuer: {msg}");
}

/// `oidcc-client-test-invalid-aud`: the ID token's `aud` does not contain the client
/// id. Expected: reject (step 3).
#[test]
fn oidcc_client_test_invalid_aud() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"aud": "some-other-client"})));
    assert_rejected(&rp, &rp.login(&token), "aud [\"some-other-client\"] does not contain client_id \"rp-client\"");
}

/// `oidcc-client-test-missing-aud`: the ID token has no `aud`. Expected: reject.
#[test]
fn oidcc_client_test_missing_aud() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"aud": null})));
    assert_rejected(&rp, &rp.login(&token), "required claim \"aud\" is missing");
}

/// `oidcc-client-test-missing-sub`: the ID token has no `sub`. Expected: reject.
#[test]
fn oidcc_client_test_missing_sub() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"sub": null})));
    assert_rejected(&rp, &rp.login(&token), "required claim \"sub\" is missing");
}

/// `oidcc-client-test-missing-iat`: the ID token has no `iat`. Expected: reject
/// (`iat` is REQUIRED, OIDC Core §2).
#[test]
fn oidcc_client_test_missing_iat() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"iat": null})));
    assert_rejected(&rp, &rp.login(&token), "required claim \"iat\" is missing");
}

/// `oidcc-client-test-invalid-sig-rs256`: an RS256 ID token whose signature does not
/// verify with the provider's key. Expected: reject (step 6).
#[test]
fn oidcc_client_test_invalid_sig_rs256() {
    let rp = rp(HostileServer::with_algs(&["RS256"]), None);
    // Signed by a key the provider does not publish, under the provider's kid.
    let h = jwt::header("RS256", Some("stub-rs256"), &json!({}));
    let token = sign_raw(&h.to_string(), &rp.claims().to_string(), "RS256", &Key::Pem("stub-rs256-b"));
    assert_rejected(&rp, &rp.login(&token), "signature does not verify with key \"stub-rs256\"");
}

/// `oidcc-client-test-invalid-sig-es256`: as above with ES256 (the client registered
/// for ES256). Expected: reject.
#[test]
fn oidcc_client_test_invalid_sig_es256() {
    let rp = rp(HostileServer::with_algs(&["ES256"]), None);
    let good = sign("ES256", "stub-es256", &json!({}), &rp.claims());
    let other = sign("ES256", "stub-es256", &json!({}), &rp.claims_with(json!({"sub": "admin"})));
    // The header and payload of one token with the (valid) signature of another.
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], other.split('.').nth(2).unwrap());
    assert_rejected(&rp, &rp.login(&forged), "signature does not verify with key \"stub-es256\"");
}

/// `oidcc-client-test-invalid-sig-hs256`: the client registered for HS256 (the client
/// secret is the key); the ID token's MAC is wrong. Expected: reject. A correct HS256
/// token is accepted first, so the rejection is the MAC's doing; the JWKS is never
/// consulted for HS256.
#[test]
fn oidcc_client_test_invalid_sig_hs256() {
    let server = HostileServer::with_algs(&["HS256"]);
    let rp = rp(server, Some(r#"{"allowed_algs": ["HS256"]}"#));
    let mut claims = rp.claims();
    claims["at_hash"] = json!(jwt::half_hash("HS256", ACCESS_TOKEN));
    claims["c_hash"] = json!(jwt::half_hash("HS256", rp::CODE));
    assert_accepted(&rp.login(&sign_hmac("HS256", SECRET.as_bytes(), &json!({}), &claims)));
    let bad = sign_hmac("HS256", b"not-the-client-secret", &json!({}), &claims);
    let out = rp.login(&bad);
    let e = out.err(SOIDC_ERR_VALIDATION, "the HS256 MAC does not verify with the client secret");
    assert!(!e.to_string().contains(SECRET), "the secret never appears in errors");
    assert_eq!(rp.server.count(JWKS_PATH), 0);
}

/// `oidcc-client-test-nonce-invalid`: the ID token's `nonce` is not the one the RP
/// sent. Expected: reject (step 11).
#[test]
fn oidcc_client_test_nonce_invalid() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"nonce": "a-replayed-nonce"})));
    assert_rejected(&rp, &rp.login(&token), "nonce \"a-replayed-nonce\" does not match the expected nonce");
}

/// `oidcc-client-test-kid-absent-single-jwks`: no `kid` in the ID token header and a
/// single key (without `kid`) in the JWKS. Expected: accept, using that key.
#[test]
fn oidcc_client_test_kid_absent_single_jwks() {
    let server = HostileServer::with_algs(&["RS256"]);
    let mut key = public_jwk("stub-rs256");
    key.as_object_mut().unwrap().remove("kid");
    server.set(JWKS_PATH, Action::json(200, &json!({"keys": [key]})));
    let rp = rp(server, None);
    let token = sign("RS256", "stub-rs256", &json!({"kid": null}), &rp.claims());
    assert_accepted(&rp.login(&token));
}

/// `oidcc-client-test-kid-absent-multiple-jwks`: no `kid` in the header and several
/// keys of the same type (without `kid`) in the JWKS. The module accepts either
/// outcome: reject (the key cannot be chosen by kid) or try the keys and accept.
/// soidc tries the fitting keys (at most 16): accept.
#[test]
fn oidcc_client_test_kid_absent_multiple_jwks() {
    let server = HostileServer::with_algs(&["RS256"]);
    let keys: Vec<Value> = ["stub-rs256-b", "stub-rs256"]
        .iter()
        .map(|n| {
            let mut k = public_jwk(n);
            k.as_object_mut().unwrap().remove("kid");
            k
        })
        .collect();
    server.set(JWKS_PATH, Action::json(200, &json!({ "keys": keys })));
    let rp = rp(server, None);
    let token = sign("RS256", "stub-rs256", &json!({"kid": null}), &rp.claims());
    assert_accepted(&rp.login(&token));
}

/// `oidcc-client-test-ignores-unparseable-key-in-jwks`: the provider's JWKS holds,
/// besides its real signing key, keys the RP cannot use (a post-quantum-shaped `AKP`
/// key with an unknown parameter set, a made-up key type, and here also an RSA key
/// whose modulus is not base64url). RFC 7517 §5: ignore them. Expected: accept.
#[test]
fn oidcc_client_test_ignores_unparseable_key_in_jwks() {
    let server = HostileServer::with_algs(&["RS256"]);
    server.set_jwks(&json!({"keys": [
        {"kty": "AKP", "alg": "ML-DSA-99", "kid": "pq-1", "pub": "bm90LWEta2V5"},
        {"kty": "made-up", "kid": "odd-1", "q": 5},
        {"kty": "RSA", "kid": "broken-1", "n": "***not base64***", "e": "AQAB"},
        public_jwk("stub-rs256")
    ]}));
    let rp = rp(server, None);
    assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    // And without a kid in the token: only the usable key is a candidate.
    let token = sign("RS256", "stub-rs256", &json!({"kid": null}), &rp.claims());
    assert_accepted(&rp.login(&token));
}

/// `oidcc-client-test-signing-key-rotation`: a first login with key A; the provider
/// then rotates its JWKS to key B (new kid) and signs the second login's ID token with
/// B. Expected: the RP refetches the JWKS and accepts both.
///
/// In the suite a user performs the second login; here it follows within milliseconds,
/// so the client's unknown-kid refetch rate limit (`jwks_refetch_min_interval_s`,
/// default 10 s) is set to 0 to stand for that time.
#[test]
fn oidcc_client_test_signing_key_rotation() {
    let server = HostileServer::with_algs(&["RS256"]);
    server.set_jwks(&jwks_of(&["stub-rs256"]));
    let rp = rp(server, Some(r#"{"jwks_refetch_min_interval_s": 0}"#));
    assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    assert_eq!(rp.server.count(JWKS_PATH), 1);

    rp.server.set_jwks(&jwks_of(&["stub-rs256-b"]));
    let token = sign("RS256", "stub-rs256-b", &json!({}), &rp.claims());
    assert_accepted(&rp.login(&token));
    assert_eq!(rp.server.count(JWKS_PATH), 2, "exactly one refetch for the new kid");
}

/// `oidcc-client-test-signing-key-rotation-just-before-signing`: the provider rotates
/// its keys right before signing the ID token, so keys the RP fetched earlier (here at
/// start-up, through `soidc_client_provider_keys`) no longer include the signing key.
/// Expected: the RP refetches the JWKS and accepts. (Refetch rate limit 0 as above.)
#[test]
fn oidcc_client_test_signing_key_rotation_just_before_signing() {
    let server = HostileServer::with_algs(&["RS256"]);
    server.set_jwks(&jwks_of(&["stub-rs256"]));
    let rp = rp(server, Some(r#"{"jwks_refetch_min_interval_s": 0}"#));
    let keys = rp::provider_keys(rp.c(), None).ok();
    assert_eq!(keys["keys"][0]["kid"], "stub-rs256");

    rp.server.set_jwks(&jwks_of(&["stub-rs256-b"]));
    let token = sign("RS256", "stub-rs256-b", &json!({}), &rp.claims());
    assert_accepted(&rp.login(&token));
    assert_eq!(rp.server.count(JWKS_PATH), 2);
}

/// `oidcc-client-test-invalid-athash`: the ID token's `at_hash` does not match the
/// access token. The module targets flows that return the access token from the
/// authorization endpoint; in the code flow OIDC Core §3.1.3.8 lets the RP validate
/// `at_hash` when present, which soidc does. Expected: reject.
#[test]
fn oidcc_client_test_invalid_athash() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"at_hash": jwt::half_hash("RS256", "some-other-token")})));
    assert_rejected(&rp, &rp.login(&token), "at_hash does not match the access token");
}

/// `oidcc-client-test-missing-athash`: no `at_hash` in the ID token. The module applies
/// to implicit and hybrid flows only (`id_token token`, `code id_token token`), where
/// `at_hash` is REQUIRED; for `response_type=code` it is OPTIONAL (OIDC Core §3.1.3.6),
/// so a code-flow RP must accept.
#[test]
fn oidcc_client_test_missing_athash() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"at_hash": null})));
    assert_accepted(&rp.login(&token));
}

/// `oidcc-client-test-invalid-chash`: the ID token's `c_hash` does not match the
/// authorization code. The module targets hybrid flows; soidc checks a `c_hash`
/// present in a code-flow ID token too. Expected: reject.
#[test]
fn oidcc_client_test_invalid_chash() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"c_hash": jwt::half_hash("RS256", "another-code")})));
    assert_rejected(&rp, &rp.login(&token), "c_hash does not match the authorization code");
}

// ---------------------------------------------------------------------------------------
// UserInfo
// ---------------------------------------------------------------------------------------

/// `oidcc-client-test-userinfo-invalid-sub`: the UserInfo response's `sub` differs
/// from the ID token's. Expected: reject (OIDC Core §5.3.2: the RP MUST verify it).
/// soidc: `soidc_fetch_userinfo` with `expected_sub` → `SOIDC_ERR_VALIDATION`.
#[test]
fn oidcc_client_test_userinfo_invalid_sub() {
    let rp = rp(HostileServer::start(), None);
    let login = assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    let sub = login["id_token_claims"]["sub"].as_str().unwrap();
    rp.server.set_json(USERINFO_PATH, 200, &json!({"sub": "someone-else", "name": "Mallory"}));
    let options = json!({"expected_sub": sub}).to_string();
    let out = rp::userinfo(rp.c(), ACCESS_TOKEN, Some(&options));
    out.err(SOIDC_ERR_VALIDATION, "sub \"someone-else\" does not match the expected sub \"user-1\"");
}

/// `oidcc-client-test-userinfo-signed`: the client registered
/// `userinfo_signed_response_alg=RS256`; the UserInfo response is a JWT
/// (`application/jwt`) signed by the provider. Expected: accept, with its claims.
/// A tampered signed response is rejected (the signature is really checked).
#[test]
fn oidcc_client_test_userinfo_signed() {
    let rp = rp(HostileServer::start(), None);
    assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    let claims = json!({"iss": rp.issuer(), "aud": CLIENT_ID, "sub": "user-1", "name": "Alice"});
    let signed = rp.rs256(&claims);
    rp.server.set(USERINFO_PATH, Action::Reply(Resp::raw(200, "application/jwt", signed.as_bytes())));
    let v = rp::userinfo(rp.c(), ACCESS_TOKEN, Some(r#"{"expected_sub": "user-1"}"#)).ok();
    assert_eq!(v["name"], "Alice");
    assert_eq!(v["sub"], "user-1");

    let tampered = jwt::with_payload(&signed, &json!({"iss": rp.issuer(), "aud": CLIENT_ID, "sub": "user-1", "name": "Mallory"}));
    rp.server.set(USERINFO_PATH, Action::Reply(Resp::raw(200, "application/jwt", tampered.as_bytes())));
    rp::userinfo(rp.c(), ACCESS_TOKEN, None).err(SOIDC_ERR_VALIDATION, "signed userinfo: signature check failed");
}

/// `oidcc-client-test-userinfo-bearer-header`: the RP must send the access token in the
/// `Authorization: Bearer` header (RFC 6750 §2.1). Expected: accept; the server
/// received the header and no token in the query or body.
#[test]
fn oidcc_client_test_userinfo_bearer_header() {
    let rp = rp(HostileServer::start(), None);
    assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    let v = rp::userinfo(rp.c(), ACCESS_TOKEN, Some(r#"{"expected_sub": "user-1"}"#)).ok();
    assert_eq!(v["sub"], "user-1");
    let reqs = rp.server.requests_to(USERINFO_PATH);
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.header("authorization"), Some(format!("Bearer {ACCESS_TOKEN}").as_str()));
    assert!(!req.query.as_deref().unwrap_or("").contains(ACCESS_TOKEN), "no token in the query: {:?}", req.query);
    assert!(req.body.is_empty(), "no body (so no access_token form parameter)");
}

// ---------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------

/// A login, then a refresh whose response carries `new_claims` in its ID token;
/// returns the refresh outcome. The original ID token is passed as `id_token`.
fn refresh_with(rp: &Rp, new_claims: &Value) -> ffi::Outcome {
    let original = rp.rs256(&rp.claims());
    assert_accepted(&rp.login(&original));
    let refreshed = rp.rs256(new_claims);
    rp.server.set_token_response(&json!({
        "access_token": "at-after-refresh", "token_type": "Bearer", "expires_in": 300,
        "refresh_token": "rt-2", "id_token": refreshed
    }));
    let options = json!({"id_token": original}).to_string();
    rp::refresh(rp.c(), REFRESH_TOKEN, Some(&options))
}

/// Claims of a correct refreshed ID token: same iss, sub, aud, auth_time; no nonce,
/// no at_hash/c_hash.
fn refreshed_claims(rp: &Rp) -> Value {
    let mut c = rp.claims();
    for k in ["nonce", "at_hash", "c_hash"] {
        c.as_object_mut().unwrap().remove(k);
    }
    c
}

/// `oidcc-client-test-refresh-token-invalid-issuer`: the ID token in the refresh
/// response has an `iss` different from the original ID token's (OIDC Core §12.2).
/// Expected: reject. A correct refresh is accepted first.
#[test]
fn oidcc_client_test_refresh_token_invalid_issuer() {
    let rp = rp(HostileServer::start(), None);
    let ok = refresh_with(&rp, &refreshed_claims(&rp)).ok();
    assert_eq!(ok["id_token_claims"]["sub"], "user-1");
    let mut bad = refreshed_claims(&rp);
    bad["iss"] = json!("https://op.attacker.example");
    let out = refresh_with(&rp, &bad);
    out.err(SOIDC_ERR_VALIDATION, "iss \"https://op.attacker.example\"");
    let form = rp.server.requests_to(TOKEN_PATH).last().unwrap().form();
    assert!(form.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(form.contains(&("refresh_token".into(), REFRESH_TOKEN.into())));
}

/// `oidcc-client-test-refresh-token-invalid-sub`: the ID token in the refresh response
/// has a different `sub` (OIDC Core §12.2). Expected: reject.
#[test]
fn oidcc_client_test_refresh_token_invalid_sub() {
    let rp = rp(HostileServer::start(), None);
    let mut bad = refreshed_claims(&rp);
    bad["sub"] = json!("user-2");
    refresh_with(&rp, &bad).err(
        SOIDC_ERR_VALIDATION,
        "refreshed ID token: sub \"user-2\" differs from the original ID token's \"user-1\"",
    );
}

/// `oidcc-client-test-refresh-token-invalid-aud`: the ID token in the refresh response
/// has an `aud` other than the original's (OIDC Core §12.2). Expected: reject.
#[test]
fn oidcc_client_test_refresh_token_invalid_aud() {
    let rp = rp(HostileServer::start(), None);
    let mut bad = refreshed_claims(&rp);
    bad["aud"] = json!("random_aud_value_Xq81");
    refresh_with(&rp, &bad).err(SOIDC_ERR_VALIDATION, "aud [\"random_aud_value_Xq81\"] does not contain client_id");
}

/// `oidcc-client-test-refresh-token-invalid-azp`: the original ID token had no `azp`;
/// the refreshed one has a (random) `azp`. OIDC Core §12.2: "if no azp Claim was present
/// in the original ID Token, one MUST NOT be present in the new ID Token". Expected:
/// reject.
#[test]
fn oidcc_client_test_refresh_token_invalid_azp() {
    let rp = rp(HostileServer::start(), None);
    let mut bad = refreshed_claims(&rp);
    bad["azp"] = json!("random_azp_value_Hd72kQ");
    refresh_with(&rp, &bad).err(SOIDC_ERR_VALIDATION, "azp");
}

// ---------------------------------------------------------------------------------------
// Back-channel logout
// ---------------------------------------------------------------------------------------

/// The claims of a correct logout token (Back-Channel Logout 1.0 §2.4).
fn logout_claims(rp: &Rp) -> Value {
    let now = common::now();
    json!({
        "iss": rp.issuer(),
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": format!("jti-{now}"),
        "sub": "user-1",
        "sid": "sid-08a5019c",
        "events": { BCL_EVENT: {} }
    })
}

fn logout_token(claims: &Value) -> String {
    sign("RS256", "stub-rs256", &json!({"typ": "logout+jwt"}), claims)
}

/// A back-channel logout client: a login first, as every logout module does.
fn logout_rp(options: Option<&str>) -> Rp {
    let rp = rp(HostileServer::start(), options);
    assert_accepted(&rp.login(&rp.rs256(&rp.claims())));
    rp
}

#[track_caller]
fn reject_logout(rp: &Rp, token: &str, fragment: &str) {
    let e = rp::decode_logout_token(rp.c(), token, None).err(SOIDC_ERR_VALIDATION, fragment);
    assert!(e["message"].as_str().unwrap().starts_with("logout token: "), "{e}");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout`: the RP starts RP-initiated logout
/// (`end_session_endpoint` with `id_token_hint`), then receives a valid logout token
/// on its back-channel URI. Expected: the RP builds the logout URL and accepts the
/// token (answering HTTP 200, which is the caller's part).
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout() {
    let rp = logout_rp(None);
    let id_token = rp.rs256(&rp.claims());
    let request = json!({"id_token_hint": id_token, "post_logout_redirect_uri": "http://rp.example/bye", "state": STATE});
    let url = rp::initiate_logout(rp.c(), Some(&request.to_string()));
    assert_eq!(url.status, SOIDC_OK, "{:?}", url.doc);
    let url = url::Url::parse(url.doc.as_deref().unwrap()).unwrap();
    assert_eq!(url.as_str().split('?').next().unwrap(), rp.server.url("/logout"));
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.contains(&("id_token_hint".into(), id_token.clone())));
    assert!(q.contains(&("state".into(), STATE.into())));

    let claims = rp::decode_logout_token(rp.c(), &logout_token(&logout_claims(&rp)), None).ok();
    assert_eq!(claims["sid"], "sid-08a5019c");
    assert_eq!(claims["sub"], "user-1");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-alg-none`: the logout token is
/// unsigned (`alg: none`). Expected: reject (HTTP 400 from the RP).
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_alg_none() {
    let rp = logout_rp(None);
    let header = jwt::b64(json!({"alg": "none", "typ": "logout+jwt"}).to_string().as_bytes());
    let payload = jwt::b64(logout_claims(&rp).to_string().as_bytes());
    reject_logout(&rp, &format!("{header}.{payload}."), "alg \"none\" (unsigned) is never accepted");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-no-event`: the logout token has no
/// `events` claim. Expected: reject.
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_no_event() {
    let rp = logout_rp(None);
    let mut c = logout_claims(&rp);
    c.as_object_mut().unwrap().remove("events");
    reject_logout(&rp, &logout_token(&c), "required claim \"events\" is missing");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce`: the logout token
/// carries a `nonce`, which §2.4 prohibits. Expected: reject.
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_with_nonce() {
    let rp = logout_rp(None);
    let mut c = logout_claims(&rp);
    c["nonce"] = json!(NONCE);
    reject_logout(&rp, &logout_token(&c), "a logout token must not contain a nonce");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg`: the client registered
/// RS256; the logout token is signed with ES256 (a valid key of the provider).
/// Expected: reject. soidc's equivalent of the registration is `allowed_algs`.
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_alg() {
    let rp = logout_rp(Some(r#"{"allowed_algs": ["RS256"]}"#));
    let token = sign("ES256", "stub-es256", &json!({"typ": "logout+jwt"}), &logout_claims(&rp));
    reject_logout(&rp, &token, "token alg \"ES256\" is not allowed");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud`: the logout token's `aud`
/// is another client. Expected: reject.
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_aud() {
    let rp = logout_rp(None);
    let mut c = logout_claims(&rp);
    c["aud"] = json!("another-client");
    reject_logout(&rp, &logout_token(&c), "does not contain client_id \"rp-client\"");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event`: `events` holds a
/// different event type instead of the back-channel logout event. Expected: reject.
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_event() {
    let rp = logout_rp(None);
    let mut c = logout_claims(&rp);
    c["events"] = json!({"http://schemas.openid.net/event/frontchannel-logout": {}});
    reject_logout(&rp, &logout_token(&c), "events has no \"http://schemas.openid.net/event/backchannel-logout\" member");
}

/// `oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss`: the logout token's `iss`
/// is not the provider's. Expected: reject.
#[test]
fn oidcc_client_test_rp_backchannel_rpinitlogout_wrong_iss() {
    let rp = logout_rp(None);
    let mut c = logout_claims(&rp);
    c["iss"] = json!("https://op.attacker.example");
    reject_logout(&rp, &logout_token(&c), "iss \"https://op.attacker.example\" does not match the issuer");
}

// ---------------------------------------------------------------------------------------
// Client authentication and error responses
// ---------------------------------------------------------------------------------------

/// `oidcc-client-test-client-secret-basic`: the RP must authenticate at the token
/// endpoint with `client_secret_basic`: `Authorization: Basic
/// base64(urlencode(client_id) ":" urlencode(client_secret))`, where both are first
/// form-urlencoded (RFC 6749 §2.3.1), and no credentials in the body. The server
/// checks exactly that encoding for a secret with ':', '+', '/', ' ' and '&'.
/// Expected: the token request succeeds and the login is accepted.
#[test]
fn oidcc_client_test_client_secret_basic() {
    let server = HostileServer::start();
    server.patch_discovery(&json!({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}));
    // Written out by hand, not computed with an encoder: ':' %3A, '+' %2B, '/' %2F,
    // ' ' '+', '&' %26; the client id needs no escaping.
    let expected_pair = "rp-client:s3cr3t%3A%2B%2F+%26-0123456789abcdefghij";
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(expected_pair));
    let rp = rp(server, None);
    let response = rp.token_response(&rp.rs256(&rp.claims()));
    rp.server.on(TOKEN_PATH, move |req| {
        let form = req.form();
        let creds_in_body = form.iter().any(|(k, _)| k == "client_secret" || k == "client_assertion");
        if req.header("authorization") == Some(expected.as_str()) && !creds_in_body {
            Action::json(200, &response)
        } else {
            Action::json(401, &json!({"error": "invalid_client", "error_description": "bad Basic credentials"}))
        }
    });
    assert_accepted(&rp.handle(&rp.callback_url(), &rp::result_options()));
}

/// `oidcc-client-test-form-post-error`: the provider answers the authorization request
/// (response_mode=form_post) with an error. The module expects the RP to consume the
/// error response and show an error, never calling the token endpoint.
///
/// soidc does not implement form_post receiving: the C caller, who owns the HTTP
/// server, passes the POSTed parameters as the query of a URL. So the test hands
/// `error=access_denied` (with description, uri, state and iss) that way; expected:
/// `SOIDC_ERR_AUTHENTICATION_FAILED` with the provider's fields in the error document.
#[test]
fn oidcc_client_test_form_post_error() {
    let rp = rp(HostileServer::start(), None);
    let issuer = rp.issuer();
    let url = rp::callback_url(&[
        ("error", "access_denied"),
        ("error_description", "Error response using form_post"),
        ("error_uri", "https://op.example/errors/access_denied"),
        ("state", STATE),
        ("iss", &issuer),
    ]);
    let e = rp.handle(&url, &rp::result_options()).err(SOIDC_ERR_AUTHENTICATION_FAILED, "access_denied");
    assert_eq!(e["error"], "access_denied");
    assert_eq!(e["error_description"], "Error response using form_post");
    assert_eq!(e["error_uri"], "https://op.example/errors/access_denied");
    assert_eq!(rp.token_requests(), 0, "no token request after an error response");
}
