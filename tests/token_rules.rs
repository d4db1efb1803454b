//! The rules the specifications state and simple_openid_connect keeps, beyond the ID token
//! checklist of id_token_rules.rs: logout tokens without `exp` (and the `jti` replay cache
//! of `allow_missing_exp`), the 255-character `sub`, a token response that also carries
//! `error`, an introspection answer that is active but expired, the nonce rule in the
//! grants, access-token audience lists and `acr_values_allowed`. Tokens are signed by the
//! tests and served by the tests' own stub provider.

mod common;

use common::jwt::{good_claims, sign};
use common::now;
use common::stub::{Route, StubServer, DISCOVERY_PATH};
use serde_json::{json, Value};
use soidc::core::{Client, ClientParams, Error, ErrorKind};
use std::sync::{Arc, Barrier};

const CLIENT_ID: &str = "rp";
const SECRET: &str = "rp-secret-0123456789abcdef0123456789";
const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn client_for(stub: &StubServer) -> Client {
    Client::from_issuer_url(
        &stub.issuer(),
        ClientParams { client_id: CLIENT_ID, client_secret: Some(SECRET), ..Default::default() },
    )
    .expect("client for the stub")
}

/// A stub whose discovery document also advertises an introspection endpoint.
fn stub_with_introspection() -> StubServer {
    let stub = StubServer::new();
    let mut doc = stub.discovery_doc();
    doc["introspection_endpoint"] = json!(stub.url("/introspect"));
    stub.set_json(DISCOVERY_PATH, 200, &doc);
    stub
}

/// `changes` applied to `base` (a `null` removes the member).
fn with(base: &Value, changes: Value) -> Value {
    let mut c = base.clone();
    for (k, v) in changes.as_object().expect("an object of changes") {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

#[track_caller]
fn reason_of<T: std::fmt::Debug>(r: soidc::core::Result<T>, kind: ErrorKind, reason: &str) -> Error {
    let e = match r {
        Ok(v) => panic!("expected a {kind:?} error with reason {reason:?}, got {v:?}"),
        Err(e) => e,
    };
    assert_eq!(e.kind, kind, "{}", e.message);
    assert_eq!(e.details.get("reason"), Some(&json!(reason)), "{}: {:?}", e.message, e.details);
    e
}

// ---------------------------------------------------------------------------------------
// Back-channel logout tokens: exp, allow_missing_exp, the jti replay cache
// ---------------------------------------------------------------------------------------

fn logout_claims(stub: &StubServer, jti: &str) -> Value {
    let now = now();
    json!({
        "iss": stub.issuer(),
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": jti,
        "sid": "session-1",
        "sub": "user-1",
        "events": {BCL_EVENT: {}},
    })
}

fn logout_token(claims: &Value) -> String {
    sign("RS256", "stub-rs256", &json!({"typ": "logout+jwt"}), claims)
}

#[test]
fn logout_token_without_exp_is_refused_by_default() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    // With exp: fine, and decodable again (tokens with exp are not tracked).
    let good = logout_token(&logout_claims(&stub, "jti-with-exp"));
    c.decode_logout_token(&good, None).expect("a logout token with exp");
    c.decode_logout_token(&good, None).expect("tokens with exp are not replay-tracked");
    assert_eq!(c.logout_jtis_held(), 0);

    let no_exp = logout_token(&with(&logout_claims(&stub, "jti-1"), json!({"exp": null})));
    let e = reason_of(c.decode_logout_token(&no_exp, None), ErrorKind::Validation, "exp");
    assert!(e.message.contains("\"exp\" is missing") && e.message.contains("§2.4"), "{}", e.message);
    // An expired one is still "expired".
    let old = logout_token(&with(&logout_claims(&stub, "jti-2"), json!({"iat": now() - 600, "exp": now() - 300})));
    reason_of(c.decode_logout_token(&old, None), ErrorKind::Validation, "expired");
}

#[test]
fn allow_missing_exp_accepts_within_max_age_once() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let allow = r#"{"allow_missing_exp": true}"#;
    let token = logout_token(&with(&logout_claims(&stub, "jti-once"), json!({"exp": null})));
    let claims = c.decode_logout_token(&token, Some(allow)).expect("accepted once");
    assert_eq!(claims["jti"], "jti-once");
    assert_eq!(c.logout_jtis_held(), 1);
    let e = reason_of(c.decode_logout_token(&token, Some(allow)), ErrorKind::Validation, "replay");
    assert!(e.message.contains("jti-once"), "{}", e.message);
    // Another jti is another token.
    let other = logout_token(&with(&logout_claims(&stub, "jti-other"), json!({"exp": null})));
    c.decode_logout_token(&other, Some(allow)).expect("another jti");
    // A token that fails another check is not remembered: the same jti, fixed, passes.
    let nonce = logout_token(&with(&logout_claims(&stub, "jti-late"), json!({"exp": null, "nonce": "n"})));
    c.decode_logout_token(&nonce, Some(allow)).expect_err("a nonce");
    let fixed = logout_token(&with(&logout_claims(&stub, "jti-late"), json!({"exp": null})));
    c.decode_logout_token(&fixed, Some(allow)).expect("the first valid token with this jti");

    // Too old for max_age_s (default 120 s, plus the 30 s leeway).
    let old = logout_token(&with(&logout_claims(&stub, "jti-old"), json!({"exp": null, "iat": now() - 200})));
    let e = reason_of(c.decode_logout_token(&old, Some(allow)), ErrorKind::Validation, "expired");
    assert!(e.message.contains("max_age_s 120"), "{}", e.message);
    let wide = r#"{"allow_missing_exp": true, "max_age_s": 600}"#;
    c.decode_logout_token(&old, Some(wide)).expect("within a wider max_age_s");
    let narrow = r#"{"allow_missing_exp": true, "max_age_s": 1}"#;
    let recent = logout_token(&with(&logout_claims(&stub, "jti-recent"), json!({"exp": null, "iat": now() - 60})));
    reason_of(c.decode_logout_token(&recent, Some(narrow)), ErrorKind::Validation, "expired");

    // A token with exp keeps its ordinary checks under allow_missing_exp.
    let with_exp = logout_token(&logout_claims(&stub, "jti-exp"));
    c.decode_logout_token(&with_exp, Some(allow)).expect("exp present");
    c.decode_logout_token(&with_exp, Some(allow)).expect("exp present, not tracked");
}

#[test]
fn logout_token_option_errors() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let token = logout_token(&logout_claims(&stub, "jti-opts"));
    for (options, fragment) in [
        (r#"{"max_age_s": 60}"#, "needs allow_missing_exp"),
        (r#"{"allow_missing_exp": false, "max_age_s": 60}"#, "needs allow_missing_exp"),
        (r#"{"allow_missing_exp": true, "max_age_s": 0}"#, "between 1 and 600"),
        (r#"{"allow_missing_exp": true, "max_age_s": 601}"#, "between 1 and 600"),
        (r#"{"allow_missing_exp": true, "max_age_s": -1}"#, "max_age_s"),
        (r#"{"allow_missing_exp": "yes"}"#, "allow_missing_exp"),
        (r#"{"min_iat": -1}"#, "min_iat"),
    ] {
        common::assert_core_err(c.decode_logout_token(&token, Some(options)), ErrorKind::InvalidArgument, fragment);
    }
    assert_eq!(c.logout_jtis_held(), 0, "nothing was remembered");
}

#[test]
fn logout_token_min_iat_is_exact() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let claims = logout_claims(&stub, "jti-min-iat");
    let iat = claims["iat"].as_i64().unwrap() as f64;
    let token = logout_token(&claims);
    c.decode_logout_token(&token, Some(&json!({"min_iat": iat - 0.5}).to_string())).expect("iat after min_iat");
    c.decode_logout_token(&token, Some(&json!({"min_iat": iat}).to_string())).expect("iat equal to min_iat");
    let e = c.decode_logout_token(&token, Some(&json!({"min_iat": iat + 0.5}).to_string())).unwrap_err();
    assert!(e.message.contains("is before min_iat"), "{}", e.message);
}

/// 8 threads present the same exp-less token at once: exactly one is accepted.
#[test]
fn concurrent_replays_accept_exactly_one() {
    let stub = StubServer::new();
    let c = Arc::new(client_for(&stub));
    // Prime the key cache so that the threads race on the replay check, not on a fetch.
    c.decode_logout_token(&logout_token(&logout_claims(&stub, "prime")), None).unwrap();
    for round in 0..5 {
        let token = Arc::new(logout_token(&with(&logout_claims(&stub, &format!("jti-race-{round}")), json!({"exp": null}))));
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (c, token, barrier) = (c.clone(), token.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    c.decode_logout_token(&token, Some(r#"{"allow_missing_exp": true}"#))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("no panic")).collect();
        let accepted = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(accepted, 1, "round {round}: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.details.get("reason"), Some(&json!("replay")), "{}", r.message);
        }
    }
}

// ---------------------------------------------------------------------------------------
// sub: at most 255 ASCII characters (OIDC Core §2)
// ---------------------------------------------------------------------------------------

#[test]
fn sub_longer_than_255_is_refused() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let base = good_claims(&stub.issuer(), CLIENT_ID, None);
    let id = |sub: &str| sign("RS256", "stub-rs256", &json!({}), &with(&base, json!({"sub": sub})));
    let s255 = "s".repeat(255);
    let s256 = "s".repeat(256);
    assert_eq!(c.decode_id_token(&id(&s255), None, None).expect("255")["sub"], json!(s255));
    let e = reason_of(c.decode_id_token(&id(&s256), None, None), ErrorKind::Validation, "sub");
    assert!(e.message.contains("256") && e.message.contains("255"), "{}", e.message);
    reason_of(c.decode_id_token(&id(""), None, None), ErrorKind::Validation, "sub");
    // Non-ASCII is not refused as such; the cap counts UTF-8 bytes.
    let umlauts = "ü".repeat(127); // 254 bytes
    c.decode_id_token(&id(&umlauts), None, None).expect("254 bytes of non-ASCII");
    reason_of(c.decode_id_token(&id(&"ü".repeat(128)), None, None), ErrorKind::Validation, "sub");

    // Logout tokens.
    let lt = logout_token(&with(&logout_claims(&stub, "jti-sub"), json!({"sub": s256})));
    reason_of(c.decode_logout_token(&lt, None), ErrorKind::Validation, "sub");
    let lt = logout_token(&with(&logout_claims(&stub, "jti-sub"), json!({"sub": s255})));
    c.decode_logout_token(&lt, None).expect("255 in a logout token");

    // UserInfo.
    stub.set_json("/me", 200, &json!({"sub": s256}));
    reason_of(c.fetch_userinfo("at", None), ErrorKind::Validation, "sub");
    stub.set_json("/me", 200, &json!({"sub": s255, "email": "a@b.test"}));
    assert_eq!(c.fetch_userinfo("at", None).expect("255 in userinfo")["email"], "a@b.test");
}

// ---------------------------------------------------------------------------------------
// Token responses
// ---------------------------------------------------------------------------------------

#[test]
fn token_response_with_error_next_to_access_token_is_refused() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    stub.set_json(
        "/token",
        200,
        &json!({"access_token": "at-1", "token_type": "Bearer", "error": "invalid_grant",
                "error_description": "mixed", "error_uri": "https://op.example/e"}),
    );
    let e = common::assert_core_err(
        c.client_credentials_grant(None, None),
        ErrorKind::Protocol,
        "carries error \"invalid_grant\" next to an access_token",
    );
    assert_eq!(e.details.get("error"), Some(&json!("invalid_grant")));
    assert_eq!(e.details.get("error_description"), Some(&json!("mixed")));
    assert_eq!(e.details.get("error_uri"), Some(&json!("https://op.example/e")));
    assert!(!e.message.contains("at-1"), "{}", e.message);
    // Without access_token: still not a success to believe.
    stub.set_json("/token", 200, &json!({"error": "server_error"}));
    let e = common::assert_core_err(c.client_credentials_grant(None, None), ErrorKind::Protocol, "server_error");
    assert_eq!(e.details.get("error"), Some(&json!("server_error")));
    // The ordinary success still works.
    stub.set_json("/token", 200, &json!({"access_token": "at-1", "token_type": "Bearer"}));
    c.client_credentials_grant(None, None).expect("a plain success");
}

// ---------------------------------------------------------------------------------------
// The nonce in the grants
// ---------------------------------------------------------------------------------------

fn token_response(id_token: &str) -> Value {
    json!({"access_token": "at-1", "token_type": "Bearer", "refresh_token": "rt-2", "id_token": id_token})
}

#[test]
fn refresh_accepts_a_repeated_nonce_and_the_other_grants_refuse_an_unexpected_one() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let original_claims = good_claims(&stub.issuer(), CLIENT_ID, Some("login-nonce"));
    let original = sign("RS256", "stub-rs256", &json!({}), &original_claims);
    let refreshed = sign("RS256", "stub-rs256", &json!({}), &original_claims);
    stub.set_json("/token", 200, &token_response(&refreshed));

    // Refresh: a provider that repeats the login's nonce (Keycloak) is fine, with and
    // without the original ID token.
    let doc = c.exchange_refresh_token("rt-1", None).expect("refresh with a repeated nonce");
    assert_eq!(doc["id_token_claims"]["nonce"], "login-nonce");
    let opts = json!({"id_token": original}).to_string();
    c.exchange_refresh_token("rt-1", Some(&opts)).expect("refresh, nonce equal to the original's");
    // ... but with the original at hand, another nonce breaks continuity.
    let other = sign("RS256", "stub-rs256", &json!({}), &with(&original_claims, json!({"nonce": "other"})));
    stub.set_json("/token", 200, &token_response(&other));
    common::assert_core_err(c.exchange_refresh_token("rt-1", Some(&opts)), ErrorKind::Validation, "nonce");

    // Client credentials sends no nonce: an ID token carrying one is refused.
    stub.set_json("/token", 200, &token_response(&refreshed));
    reason_of(c.client_credentials_grant(None, None), ErrorKind::Validation, "nonce");
    // Password grant: refused without a nonce option, accepted with the right one.
    reason_of(c.direct_access_grant("alice", "pw", None, None), ErrorKind::Validation, "nonce");
    c.direct_access_grant("alice", "pw", None, Some(r#"{"nonce": "login-nonce"}"#)).expect("expected nonce");
    reason_of(
        c.direct_access_grant("alice", "pw", None, Some(r#"{"nonce": "another"}"#)),
        ErrorKind::Validation,
        "nonce",
    );
    // Device flow: the same as the password grant.
    reason_of(c.device_authorization_poll("dc-1", None), ErrorKind::Validation, "nonce");
    c.device_authorization_poll("dc-1", Some(r#"{"nonce": "login-nonce"}"#)).expect("device flow, expected nonce");
    // Code exchange: the same rule as soidc_auth_code_handle_result.
    reason_of(c.auth_code_exchange("code-1", Some(r#"{"redirect_uri": "https://rp.example/cb"}"#)), ErrorKind::Validation, "nonce");
    c.auth_code_exchange("code-1", Some(r#"{"redirect_uri": "https://rp.example/cb", "nonce": "login-nonce"}"#))
        .expect("exchange with the nonce");
}

// ---------------------------------------------------------------------------------------
// Introspection: active but expired
// ---------------------------------------------------------------------------------------

#[test]
fn introspection_active_but_expired_is_reported_inactive() {
    let stub = stub_with_introspection();
    let c = client_for(&stub);
    let now = now();
    let answer = |body: Value| {
        stub.set_route("/introspect", Route::json(200, &body));
        c.introspect_token("tok", None, None)
    };
    let live = answer(json!({"active": true, "exp": now + 300, "nbf": now - 10, "sub": "alice", "scope": "a"})).unwrap();
    assert_eq!(live["sub"], "alice", "a live token keeps the whole answer");
    for stale in [
        json!({"active": true, "exp": now - 300, "sub": "alice"}),
        json!({"active": true, "exp": now + 300, "nbf": now + 600, "sub": "alice"}),
    ] {
        assert_eq!(answer(stale.clone()).unwrap(), json!({"active": false}), "{stale}");
    }
    // Within the leeway (30 s) it is still active.
    assert_eq!(answer(json!({"active": true, "exp": now - 5})).unwrap()["active"], true);
    assert_eq!(answer(json!({"active": true, "nbf": now + 5})).unwrap()["active"], true);
    // No times at all: the provider's word stands.
    assert_eq!(answer(json!({"active": true})).unwrap(), json!({"active": true}));
    // An inactive answer is left as it is.
    assert_eq!(answer(json!({"active": false, "exp": now - 300})).unwrap()["exp"], now - 300);
    // A time that cannot be read cannot be judged.
    common::assert_core_err(answer(json!({"active": true, "exp": "soon"})), ErrorKind::Protocol, "exp");
}

// ---------------------------------------------------------------------------------------
// Access tokens: a list of audiences
// ---------------------------------------------------------------------------------------

#[test]
fn access_token_audience_list() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let now = now();
    let claims = json!({
        "iss": stub.issuer(), "sub": "alice", "aud": ["https://api-a.example", "https://api-b.example"],
        "exp": now + 300, "iat": now, "jti": "at-jti", "client_id": CLIENT_ID,
    });
    let at = sign("RS256", "stub-rs256", &json!({"typ": "at+jwt"}), &claims);
    for ok in [
        json!({"audience": "https://api-b.example"}),
        json!({"audience": ["https://api-b.example"]}),
        json!({"audience": ["https://other.example", "https://api-a.example"]}),
    ] {
        c.decode_access_token(&at, Some(&ok.to_string())).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let e = reason_of(
        c.decode_access_token(&at, Some(r#"{"audience": ["https://x.example", "https://y.example"]}"#)),
        ErrorKind::Validation,
        "audience",
    );
    assert!(e.message.contains("any of the audiences") && e.message.contains("https://y.example"), "{}", e.message);
    common::assert_core_err(c.decode_access_token(&at, Some(r#"{"audience": []}"#)), ErrorKind::InvalidArgument, "empty");
    common::assert_core_err(c.decode_access_token(&at, Some(r#"{"audience": [5]}"#)), ErrorKind::InvalidArgument, "audience");
}

// ---------------------------------------------------------------------------------------
// acr_values_allowed
// ---------------------------------------------------------------------------------------

#[test]
fn acr_values_allowed_with_and_without_the_callback() {
    let stub = StubServer::new();
    let c = client_for(&stub);
    let base = good_claims(&stub.issuer(), CLIENT_ID, None);
    let id = |changes: Value| sign("RS256", "stub-rs256", &json!({}), &with(&base, changes));
    let gold = id(json!({"acr": "urn:gold"}));
    let bronze = id(json!({"acr": "urn:bronze"}));
    let none = id(json!({}));
    let list = r#"{"acr_values_allowed": ["urn:silver", "urn:gold"]}"#;
    c.decode_id_token(&gold, Some(list), None).expect("gold is allowed");
    let e = reason_of(c.decode_id_token(&bronze, Some(list), None), ErrorKind::Validation, "acr");
    assert!(e.message.contains("urn:bronze") && e.message.contains("urn:silver"), "{}", e.message);
    reason_of(c.decode_id_token(&none, Some(list), None), ErrorKind::Validation, "acr");
    // Both the list and the callback must pass.
    let mut refuse_all = |_: Option<&str>| -> Result<(), String> { Err("no".into()) };
    reason_of(c.decode_id_token(&gold, Some(list), Some(&mut refuse_all)), ErrorKind::Validation, "acr");
    let mut seen = Vec::new();
    let mut record = |acr: Option<&str>| -> Result<(), String> {
        seen.push(acr.map(str::to_owned));
        Ok(())
    };
    c.decode_id_token(&gold, Some(list), Some(&mut record)).expect("list and callback pass");
    reason_of(c.decode_id_token(&bronze, Some(list), Some(&mut record)), ErrorKind::Validation, "acr");
    assert_eq!(seen, vec![Some("urn:gold".to_owned())], "the callback runs after the list passed");
    common::assert_core_err(
        c.decode_id_token(&gold, Some(r#"{"acr_values_allowed": []}"#), None),
        ErrorKind::InvalidArgument,
        "must not be empty",
    );
    // The code exchange takes the list too.
    stub.set_json("/token", 200, &token_response(&bronze));
    let opts = r#"{"redirect_uri": "https://rp.example/cb", "acr_values_allowed": ["urn:gold"]}"#;
    reason_of(c.auth_code_exchange("code-1", Some(opts)), ErrorKind::Validation, "acr");
    stub.set_json("/token", 200, &token_response(&gold));
    c.auth_code_exchange("code-1", Some(opts)).expect("gold through the exchange");
}

/// The replay cache is bounded: at the cap the oldest entry goes; an entry whose window
/// ended no longer counts as a replay.
#[test]
fn jti_cache_is_bounded_and_forgets_ended_windows() {
    use soidc::core::replay::JtiCache;
    const JTI_CACHE_CAP: usize = 10_000; // documented in the header (soidc_decode_logout_token)
    let cache = JtiCache::default();
    let now = 1_000_000;
    for i in 0..JTI_CACHE_CAP + 5 {
        assert!(cache.insert_new("https://op.example", &format!("j{i}"), now + 100, now), "{i}");
    }
    assert_eq!(cache.len(), JTI_CACHE_CAP);
    // The five oldest were evicted, the newest is still held.
    assert!(cache.insert_new("https://op.example", "j0", now + 100, now));
    assert!(!cache.insert_new("https://op.example", &format!("j{}", JTI_CACHE_CAP + 4), now + 100, now));
    assert_eq!(cache.len(), JTI_CACHE_CAP);
    // The key is iss and jti: the same jti of another issuer is another token.
    assert!(cache.insert_new("https://other.example", "j0", now + 100, now));
    // After the window every entry may come again, and ended entries are dropped.
    let later = now + 100;
    assert!(cache.insert_new("https://op.example", "j7", later + 100, later));
    assert!(cache.len() <= 2, "ended entries are purged: {}", cache.len());
    // A long jti costs no more than a short one (keys are hashes).
    assert!(cache.insert_new("https://op.example", &"x".repeat(200_000), later + 100, later));
}
