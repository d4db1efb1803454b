//! The other grants and endpoints against the real provider, through the C ABI:
//! client credentials, password, refresh, device authorization, userinfo, introspection,
//! revocation and the RP-initiated logout URL.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::jwt;
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;
use std::time::Duration;

const ALICE_PW: &str = "alice-password";

/// A password grant for `user` on conf-basic that must succeed.
#[track_caller]
fn tokens_of(c: &common::ffi::FfiClient, user: &str, scope: &str) -> Value {
    password_grant(c, user, &format!("{user}-password"), Some(scope), None).ok()
}

// ---------------------------------------------------------------------------------------
// Client credentials
// ---------------------------------------------------------------------------------------

#[test]
fn client_credentials_grant_succeeds() {
    let c = conf_client("conf-basic", None);
    let doc = client_credentials(&c, None, None).ok();
    assert!(s(&doc, "access_token").len() > 10, "{doc}");
    assert_eq!(doc["token_type"], "Bearer");
    assert!(doc["expires_in"].as_u64().unwrap() > 0, "{doc}");
    assert!(doc.get("id_token_claims").is_none(), "{doc}");
    assert!(doc.get("refresh_token").is_none(), "{doc}");

    // With a resource indicator the provider issues an RFC 9068 JWT with that audience.
    let doc = client_credentials(&c, Some("api:read"), Some(&json!({"resource": API}).to_string())).ok();
    let at = s(&doc, "access_token");
    assert_eq!(jwt::header_of(at)["typ"], "at+jwt");
    let claims = jwt::payload(at);
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["client_id"], "conf-basic");
    assert_eq!(claims["scope"], "api:read");
    assert_eq!(doc["scope"], "api:read");

    // The same through timeout_ms and extra_params (ignored by the provider).
    let options = json!({"timeout_ms": 10000, "extra_params": {"x_test": "1"}}).to_string();
    client_credentials(&c, None, Some(&options)).ok();
}

#[test]
fn client_credentials_grant_failures() {
    let c = conf_client("conf-basic", None);
    // A resource the provider does not serve.
    let o = client_credentials(&c, None, Some(&json!({"resource": "https://unknown.example"}).to_string()));
    let err = o.err(SOIDC_ERR_PROVIDER, "invalid_target");
    assert_eq!(err["error"], "invalid_target");
    assert_eq!(err["http_status"], 400);
    // Options are checked before anything is sent.
    client_credentials(&c, None, Some(r#"{"resourse": "x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "resourse");
    client_credentials(&c, None, Some(r#"{"extra_params": {"grant_type": "password"}}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "grant_type");
    client_credentials(&c, None, Some(r#"{"timeout_ms": 0}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "timeout_ms");
    // A client that may not use the grant.
    let public = keyless_client("public-pkce", None);
    let err = client_credentials(&public, None, None).err(SOIDC_ERR_PROVIDER, "");
    assert!(err["error"].is_string(), "{err}");
}

// ---------------------------------------------------------------------------------------
// Password (direct access) grant
// ---------------------------------------------------------------------------------------

#[test]
fn password_grant_succeeds() {
    let c = conf_client("conf-basic", None);
    let doc = tokens_of(&c, "alice", "openid email profile");
    let claims = &doc["id_token_claims"];
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "conf-basic");
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(jwt::payload(s(&doc, "id_token")), *claims);
    assert!(doc.get("refresh_token").is_none(), "no offline_access: {doc}");

    // The nonce option is sent and required in the ID token.
    let options = json!({"nonce": "n-123"}).to_string();
    let doc = password_grant(&c, "bob", "bob-password", Some("openid"), Some(&options)).ok();
    assert_eq!(doc["id_token_claims"]["sub"], "bob");
    assert_eq!(doc["id_token_claims"]["nonce"], "n-123");

    // Without openid there is no ID token, and that is fine for this grant.
    let doc = tokens_of(&c, "alice", "email");
    assert!(doc.get("id_token").is_none() && doc.get("id_token_claims").is_none(), "{doc}");
}

#[test]
fn password_grant_failures_never_show_the_password() {
    let c = conf_client("conf-basic", None);
    let secret = common::provider::client_secret("conf-basic");
    let wrong = "Wr0ng-Pa55word-for-alice";
    let o = password_grant(&c, "alice", wrong, Some("openid"), None);
    let err = o.err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(err["http_status"], 400);
    assert_no_leak(&o, &[wrong, &secret]);

    let o = password_grant(&c, "nobody", "nobody-Secret-pw-42", None, None);
    o.err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_no_leak(&o, &["nobody-Secret-pw-42", &secret]);

    // The ID token carries another nonce than the expected one (the provider got another
    // through extra_params): the tokens are not handed out.
    let options = json!({"nonce": "expected", "extra_params": {"nonce": "other"}}).to_string();
    let o = password_grant(&c, "alice", ALICE_PW, Some("openid"), Some(&options));
    o.err(SOIDC_ERR_VALIDATION, "nonce");
    assert_no_leak(&o, &[ALICE_PW, &secret]);

    password_grant(&c, "alice", ALICE_PW, Some("openid"), Some(r#"{"nonse":"x"}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "nonse");
    password_grant(&c, "alice", ALICE_PW, Some("openid"), Some(r#"{"extra_params":{"password":"x"}}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "password");
    let o = password_grant(&c, "alice", ALICE_PW, Some("openid not-a-scope"), None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_scope")["error"], "invalid_scope");
}

// ---------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------

#[test]
fn refresh_keeps_the_id_token_identity() {
    let c = conf_client("conf-basic", None);
    let doc = tokens_of(&c, "alice", "openid offline_access email");
    let original = s(&doc, "id_token");
    let rt = s(&doc, "refresh_token");

    let refreshed = refresh(&c, rt, Some(&json!({"id_token": original}).to_string())).ok();
    let (old, new) = (&doc["id_token_claims"], &refreshed["id_token_claims"]);
    for k in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(old[k], new[k], "{k}: {old} vs {new}");
    }
    assert_eq!(new["sub"], "alice");
    assert_ne!(s(&refreshed, "access_token"), s(&doc, "access_token"));

    // Without the original: still validated, no continuity check.
    let again = refresh(&c, rt, None).ok();
    assert_eq!(again["id_token_claims"]["sub"], "alice");
    // A narrower scope.
    let narrow = refresh(&c, rt, Some(r#"{"scope":"openid"}"#)).ok();
    assert_eq!(narrow["id_token_claims"]["sub"], "alice");
}

/// The provider repeats the login's nonce in refreshed ID tokens (as Keycloak does): the
/// refresh grant must not fail on it, and with the original ID token the nonce must be
/// the original's.
#[test]
fn refresh_with_a_repeated_nonce() {
    let c = conf_client("conf-basic", None);
    let options = json!({"nonce": "n-refresh-1"}).to_string();
    let doc = password_grant(&c, "alice", ALICE_PW, Some("openid offline_access"), Some(&options)).ok();
    assert_eq!(doc["id_token_claims"]["nonce"], "n-refresh-1");
    let rt = s(&doc, "refresh_token");
    let refreshed = refresh(&c, rt, None).ok();
    assert_eq!(refreshed["id_token_claims"]["nonce"], "n-refresh-1", "the provider repeats the nonce: {refreshed}");
    let original = json!({"id_token": s(&doc, "id_token")}).to_string();
    let refreshed = refresh(&c, rt, Some(&original)).ok();
    assert_eq!(refreshed["id_token_claims"]["sub"], "alice");
    // The refreshed ID token re-validated later: the nonce is no longer at hand.
    let token = s(&refreshed, "id_token");
    c.decode_id_token(token, None).err(SOIDC_ERR_VALIDATION, "nonce");
    c.decode_id_token(token, Some(r#"{"ignore_nonce": true}"#)).ok();
    c.decode_id_token(token, Some(r#"{"nonce": "n-refresh-1"}"#)).ok();
}

#[test]
fn refresh_with_another_users_id_token_fails_on_sub() {
    let c = conf_client("conf-basic", None);
    let alice = tokens_of(&c, "alice", "openid offline_access");
    let bob = tokens_of(&c, "bob", "openid");
    let rt = s(&alice, "refresh_token");
    let o = refresh(&c, rt, Some(&json!({"id_token": s(&bob, "id_token")}).to_string()));
    let msg = o.err(SOIDC_ERR_VALIDATION, "sub")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("alice") && msg.contains("bob"), "{msg}");
    assert_no_leak(&o, &[rt]);

    // The original ID token of another client fails on aud.
    let other = conf_client("conf-post", None);
    let post_tokens = password_grant(&other, "alice", ALICE_PW, Some("openid"), None).ok();
    let o = refresh(&c, rt, Some(&json!({"id_token": s(&post_tokens, "id_token")}).to_string()));
    o.err(SOIDC_ERR_VALIDATION, "aud");
}

#[test]
fn refresh_failures() {
    let c = conf_client("conf-basic", None);
    let bogus = "bogus-refresh-token-0123456789abcdef";
    let o = refresh(&c, bogus, None);
    let err = o.err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(err["error"], "invalid_grant");
    assert_no_leak(&o, &[bogus]);
    refresh(&c, bogus, Some(r#"{"id_tokn":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "id_tokn");
    // An original ID token that is not a JWT is the caller's mistake.
    let doc = tokens_of(&c, "alice", "openid offline_access");
    let o = refresh(&c, s(&doc, "refresh_token"), Some(r#"{"id_token":"not-a-jwt"}"#));
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "id_token");
}

/// A malformed `id_token` option is the caller's mistake and must be refused before the
/// refresh token is sent: with a rotating provider (public clients here) sending it uses
/// the refresh token up, and the new one would be lost with the error.
#[test]
fn refresh_with_a_malformed_original_id_token_keeps_the_refresh_token() {
    let c = keyless_client("public-pkce", None);
    let doc = password_grant(&c, "alice", ALICE_PW, Some("openid offline_access"), None).ok();
    let rt = s(&doc, "refresh_token");
    let o = refresh(&c, rt, Some(r#"{"id_token":"not-a-jwt"}"#));
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "id_token");
    assert_no_leak(&o, &[rt]);
    // The refresh token must still be the current one.
    let again = refresh(&c, rt, Some(&json!({"id_token": s(&doc, "id_token")}).to_string()));
    assert_eq!(
        again.status, SOIDC_OK,
        "the INVALID_ARGUMENT call above already spent the refresh token at the provider: {:?}",
        again.doc
    );
}

#[test]
fn refresh_rotation_for_the_public_client() {
    let c = keyless_client("public-pkce", None);
    let doc = password_grant(&c, "alice", ALICE_PW, Some("openid offline_access"), None).ok();
    let rt = s(&doc, "refresh_token");
    let first = refresh(&c, rt, Some(&json!({"id_token": s(&doc, "id_token")}).to_string())).ok();
    let rotated = s(&first, "refresh_token");
    assert_ne!(rotated, rt, "public clients get rotated refresh tokens");
    assert_eq!(first["id_token_claims"]["sub"], "alice");
    // The rotated token works; the old one is refused (and revokes the grant).
    let o = refresh(&c, rt, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
    assert_no_leak(&o, &[rt]);
}

/// Secrets reach neither error documents nor the log, whatever fails.
#[test]
fn no_secret_reaches_the_log() {
    let wrong_secret = "Wrong-Client-Secret-for-log-test-0123";
    let good = conf_client("conf-basic", None);
    let bad = common::ffi::client(
        common::provider::issuer(),
        common::ffi::Params { client_id: "conf-basic", client_secret: Some(wrong_secret), ..Default::default() },
    );
    let good_log = capture_logs(&good);
    let bad_log = capture_logs(&bad);
    let wrong_pw = "Wrong-Password-for-log-test-4567";
    let real_secret = common::provider::client_secret("conf-basic");

    let mut secrets: Vec<String> = vec![wrong_secret.into(), wrong_pw.into(), real_secret.clone(), ALICE_PW.into()];
    password_grant(&good, "alice", wrong_pw, None, None).err(SOIDC_ERR_PROVIDER, "invalid_grant");
    password_grant(&bad, "alice", ALICE_PW, None, None).err(SOIDC_ERR_PROVIDER, "invalid_client");
    client_credentials(&bad, None, None).err(SOIDC_ERR_PROVIDER, "invalid_client");
    let doc = password_grant(&good, "alice", ALICE_PW, Some("openid offline_access"), None).ok();
    for k in ["access_token", "refresh_token", "id_token"] {
        secrets.push(s(&doc, k).into());
    }
    refresh(&bad, s(&doc, "refresh_token"), None).err(SOIDC_ERR_PROVIDER, "invalid_client");
    refresh(&good, s(&doc, "refresh_token"), Some(r#"{"nonce":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "nonce");
    userinfo(&good, s(&doc, "access_token"), Some(r#"{"expected_sub":"bob"}"#)).err(SOIDC_ERR_VALIDATION, "sub");
    introspect(&bad, s(&doc, "access_token"), None, None).err(SOIDC_ERR_PROVIDER, "invalid_client");
    revoke(&bad, s(&doc, "refresh_token"), None, None).err(SOIDC_ERR_PROVIDER, "invalid_client");
    let bogus_code = "Bogus-Code-for-log-test-89abcdef";
    secrets.push(bogus_code.into());
    code_exchange(&good, bogus_code, None).err(SOIDC_ERR_PROVIDER, "invalid_grant");
    let start = auth_code_start(&good, None).ok();
    let redirect = browser_alice(s(&start, "url"));
    let code = param(&redirect, "code").unwrap();
    secrets.push(code.clone());
    secrets.push(s(&start, "code_verifier").into());
    let wrong = json!({"state": start["state"], "nonce": "wrong", "code_verifier": start["code_verifier"]});
    handle_result(&good, &redirect, Some(&wrong.to_string())).err(SOIDC_ERR_VALIDATION, "nonce");
    handle_result(&good, &redirect, Some(&result_options(&start))).err(SOIDC_ERR_PROVIDER, "invalid_grant");

    let logged: Vec<(i32, String)> = good_log.messages().into_iter().chain(bad_log.messages()).collect();
    assert!(logged.iter().any(|(_, m)| m.contains("grant failed")), "the failures were logged: {logged:?}");
    for (level, m) in &logged {
        for secret in &secrets {
            assert!(!m.contains(secret.as_str()), "level {level} message leaks {secret:?}: {m}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Device authorization
// ---------------------------------------------------------------------------------------

/// Starts a device authorization and checks the response shape.
fn device_begin(c: &common::ffi::FfiClient, scope: &str) -> Value {
    let doc = device_start(c, Some(scope), None).ok();
    for k in ["device_code", "user_code", "verification_uri"] {
        assert!(!s(&doc, k).is_empty(), "{k}: {doc}");
    }
    assert!(doc["expires_in"].as_u64().unwrap() > 0, "{doc}");
    assert!(s(&doc, "verification_uri").starts_with(common::provider::issuer()), "{doc}");
    doc
}

fn poll_options(start: &Value, extra: Value) -> String {
    let mut o = json!({"interval": start["interval"].as_u64().unwrap_or(5), "expires_in": start["expires_in"]});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string()
}

#[test]
fn device_flow_pending_then_approved() {
    let c = conf_client("conf-basic", None);
    let start = device_begin(&c, "openid email");
    let code = s(&start, "device_code");
    let interval = start["interval"].as_u64().unwrap_or(5);

    // One non-blocking poll: pending.
    let o = device_poll(&c, code, Some(&poll_options(&start, json!({}))));
    let err = o.err(SOIDC_ERR_PENDING, "");
    assert_eq!(err["error"], "authorization_pending", "{err}");
    assert_eq!(err["interval"], interval, "{err}");
    assert_no_leak(&o, &[code]);

    // Polling again at once: pending, or slow_down with an interval 5 s longer.
    let err = device_poll(&c, code, Some(&poll_options(&start, json!({})))).err(SOIDC_ERR_PENDING, "");
    match err["error"].as_str() {
        Some("authorization_pending") => assert_eq!(err["interval"], interval, "{err}"),
        Some("slow_down") => assert_eq!(err["interval"], interval + 5, "{err}"),
        other => panic!("unexpected error {other:?}: {err}"),
    }

    // Waiting with a budget shorter than the interval: pending, without sleeping.
    let err = device_poll(&c, code, Some(&poll_options(&start, json!({"wait": true, "timeout_ms": 1000}))))
        .err(SOIDC_ERR_PENDING, "timeout_ms");
    assert!(err["interval"].is_u64(), "{err}");

    // alice approves on the verification page; a waiting poll then gets the tokens.
    device_decide(s(&start, "user_code"), "alice", true);
    let doc = device_poll(&c, code, Some(&poll_options(&start, json!({"wait": true, "timeout_ms": 20000})))).ok();
    assert_eq!(doc["id_token_claims"]["sub"], "alice");
    assert_eq!(doc["id_token_claims"]["email"], "alice@example.test");
    assert_eq!(doc["token_type"], "Bearer");

    // The device code is used up.
    let o = device_poll(&c, code, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
}

#[test]
fn device_flow_single_poll_after_approval() {
    let c = conf_client("conf-basic", None);
    let start = device_begin(&c, "openid");
    device_decide(s(&start, "user_code"), "bob", true);
    let doc = device_poll(&c, s(&start, "device_code"), None).ok();
    assert_eq!(doc["id_token_claims"]["sub"], "bob");
    assert_eq!(doc["id_token_claims"]["aud"], "conf-basic");
}

#[test]
fn device_flow_for_the_public_client() {
    let c = keyless_client("public-pkce", None);
    let start = device_begin(&c, "openid email");
    device_decide(s(&start, "user_code"), "alice", true);
    let doc = device_poll(&c, s(&start, "device_code"), Some(&poll_options(&start, json!({"wait": true})))).ok();
    assert_eq!(doc["id_token_claims"]["sub"], "alice");
    assert_eq!(doc["id_token_claims"]["aud"], "public-pkce");
}

/// The device endpoint and token requests for `device_code` seen by the provider: (code_challenge sent with S256, code_verifier sent at the token endpoint).
fn device_pkce_seen(device_code: &str) -> (bool, bool) {
    let dev = endpoint_requests();
    let dev: Vec<_> = dev.iter().filter(|r| r["path"] == "/device/auth" && r["device_code"] == device_code).collect();
    assert_eq!(dev.len(), 1, "{dev:?}");
    let challenge = dev[0]["params"].as_array().unwrap().iter().any(|p| p == "code_challenge");
    if challenge {
        assert_eq!(dev[0]["code_challenge_method"], "S256", "{dev:?}");
    }
    let tok = token_requests();
    let polls: Vec<_> = tok.iter().filter(|r| r["device_code"] == device_code).collect();
    assert!(!polls.is_empty(), "{tok:?}");
    let verifier = polls.iter().all(|r| r["code_verifier"] == true);
    assert!(verifier || polls.iter().all(|r| r["code_verifier"] == false), "{polls:?}");
    (challenge, verifier)
}

/// PKCE in the device flow (Keycloak requires it of PKCE-enforcing clients; oidc-provider
/// ignores the parameters, so the flow succeeds either way and the provider's record of the
/// requests shows what was sent).
#[test]
fn device_flow_pkce_on_and_off() {
    let _lock = requests_lock();
    requests_reset();
    // (client, pkce option, expected on)
    let public = keyless_client("public-pkce", None);
    let conf = conf_client("conf-basic", None);
    let cases: [(&common::ffi::FfiClient, Option<&str>, bool); 6] = [
        (&public, None, true),                        // auto: public and S256 advertised
        (&public, Some(r#"{"pkce":"auto"}"#), true),
        (&public, Some(r#"{"pkce":false}"#), false),
        (&conf, None, false),                         // auto: confidential
        (&conf, Some(r#"{"pkce":true}"#), true),
        (&conf, Some(r#"{"pkce":false}"#), false),
    ];
    for (c, options, on) in cases {
        let start = device_start(c, Some("openid"), options).ok();
        let verifier = start.get("code_verifier").and_then(Value::as_str).map(str::to_owned);
        assert_eq!(verifier.is_some(), on, "{options:?}: {start}");
        if let Some(v) = &verifier {
            assert_eq!(v.len(), 43, "{start}");
        }
        device_decide(s(&start, "user_code"), "alice", true);
        let poll = match &verifier {
            Some(v) => json!({"code_verifier": v}).to_string(),
            None => "{}".to_owned(),
        };
        let doc = device_poll(c, s(&start, "device_code"), Some(&poll)).ok();
        assert_eq!(doc["id_token_claims"]["sub"], "alice");
        assert_eq!(device_pkce_seen(s(&start, "device_code")), (on, on), "{options:?}");
        if let Some(v) = &verifier {
            assert!(!doc.to_string().contains(v.as_str()), "the verifier is not in the token result");
        }
    }
}

#[test]
fn device_flow_pkce_bad_input() {
    let c = keyless_client("public-pkce", None);
    for bad in [r#"{"pkce":"yes"}"#, r#"{"pkce":1}"#, r#"{"pkce":"AUTO"}"#, r#"{"pkce":["auto"]}"#] {
        device_start(&c, None, Some(bad)).err(SOIDC_ERR_INVALID_ARGUMENT, "pkce");
    }
    device_start(&c, None, Some(r#"{"pkce":null}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "pkce");
    device_start(&c, None, Some(r#"{"pkce":true,"pkce":false}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "");
    device_start(&c, None, Some(r#"{"extra_params":{"code_challenge":"x"}}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "code_challenge");
    for bad in ["short", &"a".repeat(129), &format!("{}!", "a".repeat(42)), &"é".repeat(30)] {
        let o = json!({"code_verifier": bad}).to_string();
        device_poll(&c, "some-device-code", Some(&o)).err(SOIDC_ERR_INVALID_ARGUMENT, "code_verifier");
    }
    device_poll(&c, "some-device-code", Some(r#"{"code_verifier":42}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "code_verifier");
}

#[test]
fn device_flow_denied() {
    let c = conf_client("conf-basic", None);
    let start = device_begin(&c, "openid");
    device_decide(s(&start, "user_code"), "alice", false);
    let o = device_poll(&c, s(&start, "device_code"), Some(&poll_options(&start, json!({"wait": true}))));
    let err = o.err(SOIDC_ERR_PROVIDER, "access_denied");
    assert_eq!(err["error"], "access_denied");
    assert_no_leak(&o, &[s(&start, "device_code")]);
}

#[test]
fn device_flow_expired_code() {
    let c = conf_client("device-short", None);
    let start = device_begin(&c, "openid");
    assert_eq!(start["expires_in"], 3, "{start}");
    std::thread::sleep(Duration::from_millis(3500));
    let o = device_poll(&c, s(&start, "device_code"), None);
    let err = o.err(SOIDC_ERR_PROVIDER, "expired_token");
    assert_eq!(err["error"], "expired_token");
    assert_eq!(err["http_status"], 400);
}

#[test]
fn device_flow_expiry_known_locally_stops_a_waiting_poll() {
    // expires_in shorter than the interval: the waiting poll asks once and gives up
    // with expired_token rather than sleeping past the expiry.
    let c = conf_client("conf-basic", None);
    let start = device_begin(&c, "openid");
    let options = json!({"wait": true, "interval": 5, "expires_in": 1}).to_string();
    let err = device_poll(&c, s(&start, "device_code"), Some(&options)).err(SOIDC_ERR_PROVIDER, "expire");
    assert_eq!(err["error"], "expired_token");
}

#[test]
fn device_flow_failures() {
    let c = conf_client("conf-basic", None);
    let o = device_poll(&c, "bogus-device-code-0123456789", None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
    assert_no_leak(&o, &["bogus-device-code-0123456789"]);
    device_poll(&c, "x", Some(r#"{"wiat":true}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "wiat");
    device_start(&c, None, Some(r#"{"nonce":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "nonce");
    // Another client's device code.
    let start = device_begin(&c, "openid");
    let other = conf_client("conf-post", None);
    let o = device_poll(&other, s(&start, "device_code"), None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
}

// ---------------------------------------------------------------------------------------
// UserInfo
// ---------------------------------------------------------------------------------------

#[test]
fn userinfo_json_and_expected_sub() {
    let c = conf_client("conf-basic", None);
    let doc = tokens_of(&c, "alice", "openid email profile");
    let at = s(&doc, "access_token");
    let info = userinfo(&c, at, None).ok();
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["email"], "alice@example.test");
    assert_eq!(info["name"], "Alice Liddell");
    let info = userinfo(&c, at, Some(r#"{"expected_sub":"alice","timeout_ms":10000}"#)).ok();
    assert_eq!(info["sub"], "alice");

    let o = userinfo(&c, at, Some(r#"{"expected_sub":"bob"}"#));
    let msg = o.err(SOIDC_ERR_VALIDATION, "sub")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("alice") && msg.contains("bob"), "{msg}");
    assert_no_leak(&o, &[at]);
    userinfo(&c, at, Some(r#"{"expected_subject":"alice"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "expected_subject");
}

#[test]
fn userinfo_with_revoked_or_unknown_token_is_invalid_token() {
    let c = conf_client("conf-basic", None);
    let doc = tokens_of(&c, "alice", "openid");
    let at = s(&doc, "access_token");
    userinfo(&c, at, None).ok();
    assert_eq!(revoke(&c, at, Some("access_token"), None).ok(), json!({}));
    let o = userinfo(&c, at, None);
    let err = o.err(SOIDC_ERR_PROVIDER, "invalid_token");
    assert_eq!(err["error"], "invalid_token");
    assert_eq!(err["http_status"], 401);
    assert_no_leak(&o, &[at]);

    let bogus = "bogus-access-token-0123456789abcdef";
    let o = userinfo(&c, bogus, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_token")["error"], "invalid_token");
    assert_no_leak(&o, &[bogus]);
}

#[test]
fn userinfo_signed_jwt() {
    let c = conf_client("conf-jwtuserinfo", None);
    let doc = password_grant(&c, "alice", ALICE_PW, Some("openid email"), None).ok();
    let info = userinfo(&c, s(&doc, "access_token"), Some(r#"{"expected_sub":"alice"}"#)).ok();
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["email"], "alice@example.test");
    // The claims are those of the signed response: iss and aud included.
    assert_eq!(info["iss"], common::provider::issuer(), "{info}");
    assert_eq!(info["aud"], "conf-jwtuserinfo", "{info}");
    userinfo(&c, s(&doc, "access_token"), Some(r#"{"expected_sub":"bob"}"#)).err(SOIDC_ERR_VALIDATION, "sub");
}

// ---------------------------------------------------------------------------------------
// Introspection and revocation
// ---------------------------------------------------------------------------------------

#[test]
fn introspection_before_and_after_revocation() {
    let c = conf_client("conf-basic", None);
    let doc = tokens_of(&c, "alice", "openid offline_access");
    let at = s(&doc, "access_token");
    let rt = s(&doc, "refresh_token");

    let info = introspect(&c, at, Some("access_token"), None).ok();
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["client_id"], "conf-basic");
    let info = introspect(&c, rt, Some("refresh_token"), Some(r#"{"timeout_ms":10000}"#)).ok();
    assert_eq!(info["active"], true, "{info}");
    let info = introspect(&c, at, None, None).ok();
    assert_eq!(info["active"], true, "{info}");

    assert_eq!(revoke(&c, at, Some("access_token"), None).ok(), json!({}));
    assert_eq!(introspect(&c, at, Some("access_token"), None).ok(), json!({"active": false}));

    // Unknown tokens are simply inactive.
    assert_eq!(introspect(&c, "bogus-token-0123456789", None, None).ok()["active"], false);
    introspect(&c, at, None, Some(r#"{"hint":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "hint");
}

#[test]
fn revocation_of_the_refresh_token_stops_refresh() {
    let c = conf_client("conf-basic", None);
    let doc = tokens_of(&c, "alice", "openid offline_access");
    let rt = s(&doc, "refresh_token");
    refresh(&c, rt, None).ok();
    assert_eq!(revoke(&c, rt, Some("refresh_token"), None).ok(), json!({}));
    let o = refresh(&c, rt, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
    assert_no_leak(&o, &[rt]);
    assert_eq!(introspect(&c, rt, Some("refresh_token"), None).ok()["active"], false);
    // Revoking it again, or a token that never existed, is still a success (RFC 7009).
    assert_eq!(revoke(&c, rt, None, None).ok(), json!({}));
    assert_eq!(revoke(&c, "bogus-token-0123456789", None, None).ok(), json!({}));
    revoke(&c, rt, None, Some(r#"{"timeout":1}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "timeout");
}

#[test]
fn introspection_revocation_and_device_start_with_a_wrong_secret() {
    let secret = "wrong-secret-for-conf-basic-0123";
    let c = common::ffi::client(
        common::provider::issuer(),
        common::ffi::Params { client_id: "conf-basic", client_secret: Some(secret), ..Default::default() },
    );
    let o = introspect(&c, "some-token-0123456789", None, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_client")["error"], "invalid_client");
    assert_no_leak(&o, &[secret, "some-token-0123456789"]);
    let o = revoke(&c, "some-token-0123456789", None, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_client")["error"], "invalid_client");
    assert_no_leak(&o, &[secret, "some-token-0123456789"]);
    let o = device_start(&c, None, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_client")["error"], "invalid_client");
    assert_no_leak(&o, &[secret]);
}

// ---------------------------------------------------------------------------------------
// RP-initiated logout
// ---------------------------------------------------------------------------------------

#[test]
fn logout_url_parameters_and_the_provider_accepts_it() {
    let c = conf_client("conf-basic", None);
    // A real browser session: log in with a code flow keeping the cookies.
    let jar = std::env::temp_dir().join(format!("soidc-flows-jar-{}.json", std::process::id()));
    let jar_arg = jar.to_str().unwrap().to_owned();
    let start = auth_code_start(&c, None).ok();
    let redirect = browser(&["--jar", &jar_arg], s(&start, "url"), "alice", ALICE_PW)
        .unwrap_or_else(|e| panic!("browser.mjs failed: {e}"));
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    let idt = s(&doc, "id_token");
    let state = "st ate&x=1/é";
    let request = json!({
        "id_token_hint": idt,
        "post_logout_redirect_uri": LOGGED_OUT,
        "state": state,
        "ui_locales": ["de-CH", "en"],
    });
    let url = ok_url(&initiate_logout(&c, Some(&request.to_string())));
    let config: Value = serde_json::from_str(c.provider_config().doc.as_deref().unwrap()).unwrap();
    assert_eq!(base(&url), s(&config, "end_session_endpoint"));
    assert_eq!(param(&url, "id_token_hint").as_deref(), Some(idt));
    assert_eq!(param(&url, "post_logout_redirect_uri").as_deref(), Some(LOGGED_OUT));
    assert_eq!(param(&url, "state").as_deref(), Some(state));
    assert_eq!(param(&url, "client_id").as_deref(), Some("conf-basic"));
    assert_eq!(param(&url, "ui_locales").as_deref(), Some("de-CH en"));
    // Correctly encoded: the reserved characters of the values never appear raw.
    let raw_query = url.split_once('?').unwrap().1;
    assert!(!raw_query.contains(' ') && !raw_query.contains("http://"), "{url}");
    assert!(!raw_query.contains("x=1"), "{url}");
    assert_eq!(query(&url).len(), 5, "{url}");

    // The provider accepts it, ends the session and sends the browser back with the state.
    let back = browser(&["--jar", &jar_arg], &url, "alice", ALICE_PW);
    let _ = std::fs::remove_file(&jar);
    let back = back.unwrap_or_else(|e| panic!("browser.mjs (logout) failed: {e}"));
    assert_eq!(base(&back), LOGGED_OUT);
    assert_eq!(param(&back, "state").as_deref(), Some(state));
}

#[test]
fn logout_url_options() {
    let c = conf_client("conf-basic", None);
    // Nothing given: the endpoint with client_id only.
    let url = ok_url(&initiate_logout(&c, None));
    assert_eq!(query(&url), vec![("client_id".to_owned(), "conf-basic".to_owned())]);
    // client_id switched off.
    let url = ok_url(&initiate_logout(&c, Some(r#"{"client_id":false,"state":"s"}"#)));
    assert_eq!(param(&url, "client_id"), None);
    assert_eq!(param(&url, "state").as_deref(), Some("s"));
    let url = ok_url(&initiate_logout(&c, Some(r#"{"client_id":false}"#)));
    assert_eq!(query(&url), vec![]);
    // logout_hint, a string ui_locales, extra params (arrays repeated).
    let request = json!({"logout_hint": "alice@example.test", "ui_locales": "fr", "extra_params": {"x": ["1", "2"]}});
    let url = ok_url(&initiate_logout(&c, Some(&request.to_string())));
    assert_eq!(param(&url, "logout_hint").as_deref(), Some("alice@example.test"));
    assert_eq!(param(&url, "ui_locales").as_deref(), Some("fr"));
    assert_eq!(params(&url, "x"), vec!["1", "2"]);

    // Unknown keys and wrong types are refused; the document is an error document.
    let o = initiate_logout(&c, Some(r#"{"post_logout_redirect":"x"}"#));
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "post_logout_redirect");
    initiate_logout(&c, Some(r#"{"client_id":"conf-basic"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "");
    initiate_logout(&c, Some("[]")).err(SOIDC_ERR_INVALID_ARGUMENT, "");
    initiate_logout(&c, Some(r#"{"extra_params":{"client_id":"x"}}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "client_id");
}
