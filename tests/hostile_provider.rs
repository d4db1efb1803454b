//! Beyond the conformance suite: attacks on token validation (algorithm confusion,
//! embedded keys, `crit`, claim types, audiences, mix-up) and a provider that
//! misbehaves on the wire (slow, cut off, redirecting, huge, deeply nested, HTML
//! errors, insecure endpoints, floods of unknown key ids). Each case says what the
//! correct outcome is and why.

mod common;
mod hostile;

use common::ffi::{self, Params};
use common::jwt::{self, sign, sign_hmac, sign_raw, Key};
use common::stub::{jwks_of, public_jwk};
use hostile::rp::{self, rp, rp_with_secret, Rp, ACCESS_TOKEN, CLIENT_ID, NONCE, SECRET};
use hostile::server::{
    Action, HostileServer, Resp, DISCOVERY_PATH, JWKS_PATH, TOKEN_PATH, USERINFO_PATH,
};
use serde_json::{json, Value};
use soidc::ffi::status::*;
use std::time::{Duration, Instant};

fn pem() -> String {
    std::fs::read_to_string(common::tests_path("keys/stub-rs256.pub.pem")).expect("stub-rs256.pub.pem")
}

/// `soidc_decode_id_token` with the flow's nonce.
fn decode(rp: &Rp, token: &str) -> ffi::Outcome {
    rp::decode_id_token(rp.c(), token, Some(&json!({"nonce": NONCE}).to_string()))
}

fn decode_with(rp: &Rp, token: &str, options: Value) -> ffi::Outcome {
    rp::decode_id_token(rp.c(), token, Some(&options.to_string()))
}

/// A `{{{...}}}`-free JSON document nested `depth` arrays deep.
fn nested(depth: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(depth * 2);
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

// ---------------------------------------------------------------------------------------
// Algorithm confusion
// ---------------------------------------------------------------------------------------

/// The classic RS256→HS256 confusion: an HS256 token whose MAC key is the provider's
/// RSA public key (its PEM, which anyone can fetch). The client did not allow HS256
/// (the provider advertises only asymmetric algorithms): rejected on the algorithm,
/// before any key is looked at — also when the header names the RSA key's kid.
#[test]
fn alg_confusion_hs256_with_the_public_key_pem_is_refused_when_hs256_is_not_allowed() {
    let rp = rp(HostileServer::start(), None);
    for kid in [None, Some("stub-rs256")] {
        let overrides = match kid {
            Some(k) => json!({ "kid": k }),
            None => json!({}),
        };
        let token = sign_hmac("HS256", pem().as_bytes(), &overrides, &rp.claims());
        decode(&rp, &token).err(SOIDC_ERR_VALIDATION, "token alg \"HS256\" is not allowed");
        let out = rp.login(&token);
        out.err(SOIDC_ERR_VALIDATION, "token alg \"HS256\" is not allowed");
    }
}

/// HS256 allowed, but the client secret is an ordinary secret: a token MACed with the
/// RSA public key's PEM, its raw modulus or its JWK text is rejected (with the RSA key's
/// kid in the header), because HS* keys are only ever the client secret, never provider
/// key material.
#[test]
fn alg_confusion_hs256_allowed_still_verifies_only_with_the_client_secret() {
    let rp = rp(HostileServer::start(), Some(r#"{"allowed_algs": ["RS256", "HS256"]}"#));
    use base64::Engine;
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(public_jwk("stub-rs256")["n"].as_str().unwrap())
        .unwrap();
    let jwk_text = public_jwk("stub-rs256").to_string().into_bytes();
    for key in [pem().into_bytes(), modulus, jwk_text] {
        let token = sign_hmac("HS256", &key, &json!({"kid": "stub-rs256"}), &rp.claims());
        decode(&rp, &token).err(SOIDC_ERR_VALIDATION, "the HS256 MAC does not verify with the client secret");
    }
    // The genuine article still passes: the check is the MAC, not the algorithm.
    let token = sign_hmac("HS256", SECRET.as_bytes(), &json!({}), &rp.claims());
    decode(&rp, &token).ok();
}

/// The client secret is (mis)configured to be the provider's public key PEM and HS256 is
/// allowed. What is correct: soidc verifies HS* with the client secret and nothing else,
/// so a token MACed with exactly those bytes *is* signed with the secret and verifies —
/// the weakness is the secret (public knowledge), not an algorithm confusion, and soidc
/// cannot know that a secret is public. Everything not MACed with exactly the secret's
/// bytes is rejected: the PEM with CRLF line endings or without its final newline, and an
/// RS256-signed token's signature replayed under an HS256 header.
#[test]
fn alg_confusion_with_the_pem_as_client_secret_accepts_only_macs_with_exactly_the_secret() {
    let secret = pem();
    let rp = rp_with_secret(HostileServer::start(), Some(&secret), Some(r#"{"allowed_algs": ["RS256", "HS256"]}"#));
    let mut claims = rp.claims();
    claims["at_hash"] = json!(jwt::half_hash("HS256", ACCESS_TOKEN));
    let exact = sign_hmac("HS256", secret.as_bytes(), &json!({"kid": "stub-rs256"}), &claims);
    decode(&rp, &exact).ok();

    let crlf = secret.replace('\n', "\r\n");
    let trimmed = secret.trim_end().to_owned();
    for other in [crlf, trimmed] {
        let token = sign_hmac("HS256", other.as_bytes(), &json!({"kid": "stub-rs256"}), &claims);
        decode(&rp, &token).err(SOIDC_ERR_VALIDATION, "MAC does not verify with the client secret");
    }
    // An RS256 signature under an HS256 header: the bytes are an RSA signature, not a MAC.
    let rs = rp.rs256(&claims);
    let parts: Vec<&str> = rs.split('.').collect();
    let h = jwt::b64(jwt::header("HS256", Some("stub-rs256"), &json!({})).to_string().as_bytes());
    let spliced = format!("{h}.{}.{}", parts[1], parts[2]);
    decode(&rp, &spliced).err(SOIDC_ERR_VALIDATION, "MAC does not verify with the client secret");
}

/// An RSA key's signature under an `ES256` header: with the RSA key's kid, the key type
/// does not fit the algorithm; without a kid, no EC key verifies it. Rejected either way.
#[test]
fn rs256_key_with_an_es256_header_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let claims = rp.claims().to_string();
    let h = jwt::header("ES256", Some("stub-rs256"), &json!({}));
    let token = sign_raw(&h.to_string(), &claims, "RS256", &Key::Pem("stub-rs256"));
    decode(&rp, &token).err(SOIDC_ERR_VALIDATION, "key \"stub-rs256\" is Rsa (alg RS256) and cannot verify alg ES256");
    let h = jwt::header("ES256", None, &json!({}));
    let token = sign_raw(&h.to_string(), &claims, "RS256", &Key::Pem("stub-rs256"));
    decode(&rp, &token).err(SOIDC_ERR_VALIDATION, "ES256 signature verifies with none of the");
}

// ---------------------------------------------------------------------------------------
// Header tricks
// ---------------------------------------------------------------------------------------

/// `jwk`, `jku`, `x5u` and `x5c` header members never choose the key: a token signed
/// with an attacker's key that it embeds (`jwk`) or points to (`jku`/`x5u` on the
/// attacker's server) is rejected, and the attacker's server is never contacted. A token
/// signed by the provider's key verifies whatever such members say (they are ignored).
#[test]
fn embedded_and_referenced_keys_in_the_header_are_ignored() {
    let rp = rp(HostileServer::start(), None);
    let attacker = HostileServer::bare();
    attacker.set(JWKS_PATH, Action::json(200, &jwks_of(&["stub-rs256-b"])));
    let attacker_jwk = public_jwk("stub-rs256-b");
    let claims = rp.claims().to_string();
    let headers = [
        json!({"alg": "RS256", "kid": "stub-rs256-b", "jwk": attacker_jwk}),
        json!({"alg": "RS256", "jwk": attacker_jwk}),
        json!({"alg": "RS256", "kid": "stub-rs256", "jwk": attacker_jwk}),
        json!({"alg": "RS256", "kid": "stub-rs256-b", "jku": attacker.url(JWKS_PATH)}),
        json!({"alg": "RS256", "jku": attacker.url(JWKS_PATH)}),
        json!({"alg": "RS256", "kid": "stub-rs256-b", "x5u": attacker.url("/cert.pem")}),
        json!({"alg": "RS256", "x5c": ["MIIBszCCAVmgAwIBAgIUattackerattackerattacker"]}),
    ];
    for h in &headers {
        let token = sign_raw(&h.to_string(), &claims, "RS256", &Key::Pem("stub-rs256-b"));
        let out = decode(&rp, &token);
        assert_eq!(out.status, SOIDC_ERR_VALIDATION, "header {h}: {:?}", out.doc);
        out.err(SOIDC_ERR_VALIDATION, "signature check failed");
    }
    // Provider-signed, with the same members: verified with the provider's key.
    let h = json!({"alg": "RS256", "kid": "stub-rs256", "jku": attacker.url(JWKS_PATH), "jwk": attacker_jwk, "x5u": attacker.url("/c")});
    let token = sign_raw(&h.to_string(), &claims, "RS256", &Key::Pem("stub-rs256"));
    decode(&rp, &token).ok();
    assert_eq!(attacker.request_count(), 0, "the attacker's server was contacted");
    assert_eq!(attacker.connections(), 0);
}

/// A `crit` header member lists extensions the recipient must understand (RFC 7515
/// §4.1.11); soidc understands none, so any `crit` is rejected — also through the flow.
#[test]
fn unknown_crit_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    for crit in [json!(["urn:example:must-understand"]), json!(["exp"]), json!([]), json!("b64")] {
        let token = sign("RS256", "stub-rs256", &json!({"crit": crit, "urn:example:must-understand": true}), &rp.claims());
        decode(&rp, &token).err(SOIDC_ERR_VALIDATION, "soidc understands no critical extension");
    }
    let token = sign("RS256", "stub-rs256", &json!({"crit": ["urn:example:x"], "urn:example:x": 1}), &rp.claims());
    rp.login(&token).err(SOIDC_ERR_VALIDATION, "\"crit\"");
}

// ---------------------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------------------

/// `exp`, `nbf` and `iat` must be JSON numbers: a string, boolean, array, object or null
/// fails the check of that claim (never treated as absent); so does a number too large
/// to be a date.
#[test]
fn time_claims_of_the_wrong_json_type_are_rejected() {
    let rp = rp(HostileServer::start(), None);
    let now = common::now();
    let cases = [
        ("exp", json!((now + 300).to_string()), "claim \"exp\" must be a number (NumericDate), found a string"),
        ("exp", json!(null), "claim \"exp\" must be a number (NumericDate), found null"),
        ("exp", json!([now + 300]), "claim \"exp\" must be a number (NumericDate), found an array"),
        ("exp", json!(1e300), "claim \"exp\" is not a usable NumericDate"),
        ("nbf", json!(true), "claim \"nbf\" must be a number (NumericDate), found a boolean"),
        ("nbf", json!({"t": now}), "claim \"nbf\" must be a number (NumericDate), found an object"),
        ("iat", json!(now.to_string()), "claim \"iat\" must be a number (NumericDate), found a string"),
        ("iat", json!([now]), "claim \"iat\" must be a number (NumericDate), found an array"),
        ("auth_time", json!("yesterday"), "claim \"auth_time\" must be a number (NumericDate), found a string"),
    ];
    for (claim, value, fragment) in cases {
        // Set directly: `claims_with` would remove a claim set to null.
        let mut claims = rp.claims();
        claims[claim] = value;
        let token = rp.rs256(&claims);
        decode(&rp, &token).err(SOIDC_ERR_VALIDATION, fragment);
    }
    // Through the flow as well.
    let token = rp.rs256(&rp.claims_with(json!({"exp": (now + 300).to_string()})));
    rp.login(&token).err(SOIDC_ERR_VALIDATION, "claim \"exp\" must be a number");
}

/// An `iat` far in the future (a provider clock or a forged token ten years ahead) is
/// rejected even though `exp` is later still.
#[test]
fn iat_far_in_the_future_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let later = common::now() + 10 * 365 * 86_400;
    let token = rp.rs256(&rp.claims_with(json!({"iat": later, "exp": later + 300})));
    let e = rp.login(&token).err(SOIDC_ERR_VALIDATION, "is in the future");
    assert!(e["message"].as_str().unwrap().contains(&format!("iat {later}")), "{e}");
}

/// `aud` as an array with an untrusted extra audience (OIDC Core §3.1.3.7 step 3: reject
/// if it contains audiences not trusted by the client), even with a correct `azp`;
/// accepted when the extra audience is listed in `extra_trusted_audiences`.
#[test]
fn aud_array_with_an_untrusted_extra_audience_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"aud": [CLIENT_ID, "https://evil.example"], "azp": CLIENT_ID})));
    rp.login(&token).err(
        SOIDC_ERR_VALIDATION,
        "contains \"https://evil.example\", which is neither client_id \"rp-client\" nor in extra_trusted_audiences",
    );
    decode_with(&rp, &token, json!({"nonce": NONCE, "extra_trusted_audiences": ["https://evil.example"]})).ok();
}

/// `azp` that is not the client id is rejected (steps 4/5), as is a multi-audience token
/// without `azp`.
#[test]
fn azp_mismatch_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let token = rp.rs256(&rp.claims_with(json!({"azp": "another-client"})));
    rp.login(&token).err(SOIDC_ERR_VALIDATION, "azp \"another-client\" is not client_id \"rp-client\"");
    let token = rp.rs256(&rp.claims_with(json!({"aud": [CLIENT_ID, "api"]})));
    decode_with(&rp, &token, json!({"nonce": NONCE, "extra_trusted_audiences": ["api"]}))
        .err(SOIDC_ERR_VALIDATION, "has several audiences but the azp claim is missing");
}

/// Token substitution: an RFC 9068 access token (`typ: at+jwt`) or a logout token
/// (`typ: logout+jwt`) from the same provider, signed by its key and naming the client,
/// presented as an ID token is rejected on `typ`; an ID token presented as a logout token
/// lacks the logout event; an ID token presented as an access token lacks `at+jwt`.
#[test]
fn token_substitution_between_token_types_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let mut access = rp.claims();
    access["jti"] = json!("jti-1");
    access["client_id"] = json!(CLIENT_ID);
    access["scope"] = json!("openid");
    let at = sign("RS256", "stub-rs256", &json!({"typ": "at+jwt"}), &access);
    rp.login(&at).err(SOIDC_ERR_VALIDATION, "typ \"at+jwt\" is not that of an ID token");
    let mut logout = rp.claims();
    logout.as_object_mut().unwrap().remove("nonce");
    logout["jti"] = json!("jti-2");
    logout["events"] = json!({"http://schemas.openid.net/event/backchannel-logout": {}});
    let lt = sign("RS256", "stub-rs256", &json!({"typ": "logout+jwt"}), &logout);
    rp.login(&lt).err(SOIDC_ERR_VALIDATION, "typ \"logout+jwt\" is not that of an ID token");
    let id = rp.rs256(&rp.claims());
    rp::decode_logout_token(rp.c(), &id, None).err(SOIDC_ERR_VALIDATION, "logout token:");
    rp::decode_access_token(rp.c(), &id, None).err(SOIDC_ERR_VALIDATION, "is not at+jwt");
}

/// An error response whose `state` is not the one the RP sent is not the provider's
/// answer to this RP's request: anyone can send a browser to the redirect URI with
/// `error=...&error_description=<any text>` (CSRF, RFC 6749 §10.12). Handing that text out
/// as the provider's error (`SOIDC_ERR_AUTHENTICATION_FAILED` with `error_description`,
/// which callers show to users) lets a third party put words in the provider's mouth. The
/// state must be checked before the error is believed: `SOIDC_ERR_VALIDATION` naming the
/// state. (With the right state, the error is the provider's: see
/// oidcc_client_test_form_post_error.)
#[test]
fn error_response_with_a_wrong_state_is_not_believed() {
    let rp = rp(HostileServer::start(), None);
    let issuer = rp.issuer();
    let url = rp::callback_url(&[
        ("error", "access_denied"),
        ("error_description", "Your account is locked. Call +1 555 0100 to unlock it."),
        ("state", "a-state-this-rp-never-sent"),
        ("iss", &issuer),
    ]);
    rp.handle(&url, &rp::result_options()).err(SOIDC_ERR_VALIDATION, "state");
    let url = rp::callback_url(&[("error", "access_denied"), ("error_description", "forged"), ("iss", &issuer)]);
    rp.handle(&url, &rp::result_options()).err(SOIDC_ERR_VALIDATION, "state");
}

/// The mix-up attack (RFC 9207): the authorization response carries the `iss` of another
/// provider (the attacker's). Rejected before anything else — before the error
/// parameters and before the code is sent to any token endpoint. When the provider
/// advertises `authorization_response_iss_parameter_supported`, a response without `iss`
/// is rejected too.
#[test]
fn mix_up_attack_with_another_providers_iss_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let other = HostileServer::start();
    let code_with_iss = |iss: &str| rp::callback_url(&[("code", rp::CODE), ("state", rp::STATE), ("iss", iss)]);
    rp.server.set_token_response(&rp.token_response(&rp.rs256(&rp.claims())));
    let e = rp.handle(&code_with_iss(&other.issuer()), &rp::result_options()).err(SOIDC_ERR_VALIDATION, "RFC 9207 mix-up defence");
    assert!(e["message"].as_str().unwrap().contains(&other.issuer()), "{e}");
    let err_url = rp::callback_url(&[("error", "access_denied"), ("state", rp::STATE), ("iss", &other.issuer())]);
    rp.handle(&err_url, &rp::result_options()).err(SOIDC_ERR_VALIDATION, "RFC 9207");
    assert_eq!(rp.token_requests(), 0);
    assert_eq!(other.request_count(), 0);

    let strict_server = HostileServer::start();
    strict_server.patch_discovery(&json!({"authorization_response_iss_parameter_supported": true}));
    let strict = rp::rp(strict_server, None);
    let no_iss = rp::callback_url(&[("code", rp::CODE), ("state", rp::STATE)]);
    strict.handle(&no_iss, &rp::result_options()).err(SOIDC_ERR_VALIDATION, "has no iss parameter");
    assert_eq!(strict.token_requests(), 0);
    // The genuine response passes.
    strict.server.set_token_response(&strict.token_response(&strict.rs256(&strict.claims())));
    strict.handle(&strict.callback_url(), &rp::result_options()).ok();
}

// ---------------------------------------------------------------------------------------
// Malformed and oversized input
// ---------------------------------------------------------------------------------------

/// A JWKS of 10 MB: `SOIDC_ERR_HTTP` naming the size limit (`max_response_bytes`, 1 MiB
/// by default), no crash, nothing cached; once the provider serves a normal JWKS again
/// the next call fetches and verifies.
#[test]
fn jwks_of_10_mb_is_refused_by_the_size_limit() {
    // No back-off after the failed fetch, so that the repaired JWKS is read at once.
    let rp = rp(HostileServer::start(), Some(r#"{"jwks_refetch_min_interval_s":0}"#));
    rp.server.set(JWKS_PATH, Action::Flood { status: 200, content_type: "application/json".into(), len: 10 * 1024 * 1024 });
    let token = rp.rs256(&rp.claims());
    let e = decode(&rp, &token).err(SOIDC_ERR_HTTP, "larger than the 1048576-byte limit (max_response_bytes)");
    assert!(e["message"].as_str().unwrap().contains("JWKS"), "{e}");
    rp::provider_keys(rp.c(), None).err(SOIDC_ERR_HTTP, "byte limit");
    rp.server.set_jwks(&jwks_of(&["stub-rs256"]));
    decode(&rp, &token).ok();
}

/// A discovery document and a JWKS nested 10 000 arrays deep: an error (soidc's strict
/// parser refuses nesting beyond 64 levels), no stack overflow. The same for a token response and an ID token
/// payload.
#[test]
fn json_nested_10000_deep_is_an_error_not_a_stack_overflow() {
    let server = HostileServer::start();
    server.set(DISCOVERY_PATH, Action::Reply(Resp::raw(200, "application/json", &nested(10_000))));
    let (out, _) = ffi::from_issuer_url(&server.issuer(), Params { client_id: CLIENT_ID, ..Default::default() });
    out.err(SOIDC_ERR_HTTP, "nests deeper than 64 levels");

    let rp = rp(HostileServer::start(), None);
    rp.server.set(JWKS_PATH, Action::Reply(Resp::raw(200, "application/json", &nested(10_000))));
    decode(&rp, &rp.rs256(&rp.claims())).err(SOIDC_ERR_HTTP, "nests deeper than 64 levels");
    let mut deep_object = String::new();
    for _ in 0..10_000 {
        deep_object.push_str("{\"a\":");
    }
    deep_object.push('1');
    deep_object.push_str(&"}".repeat(10_000));
    rp.server.set(JWKS_PATH, Action::Reply(Resp::raw(200, "application/json", deep_object.as_bytes())));
    rp::provider_keys(rp.c(), None).err(SOIDC_ERR_HTTP, "nests deeper than 64 levels");

    rp.server.set(TOKEN_PATH, Action::Reply(Resp::raw(200, "application/json", &nested(10_000))));
    rp.handle(&rp.callback_url(), &rp::result_options()).err(SOIDC_ERR_HTTP, "nests deeper than 64 levels");

    // In a token: the payload (a JSON object nested 10 000 deep) and a header member.
    let h = jwt::b64(br#"{"alg":"RS256","kid":"stub-rs256"}"#);
    let p = jwt::b64(deep_object.as_bytes());
    decode(&rp, &format!("{h}.{p}.c2ln")).err(SOIDC_ERR_VALIDATION, "nests deeper than 64 levels");
    let mut deep_header = b"{\"alg\":\"RS256\",\"typ\":".to_vec();
    deep_header.extend(nested(10_000));
    deep_header.push(b'}');
    let p = jwt::b64(rp.claims().to_string().as_bytes());
    decode(&rp, &format!("{}.{p}.c2ln", jwt::b64(&deep_header))).err(SOIDC_ERR_VALIDATION, "nests deeper than 64 levels");
}

/// A "token" of thousands of dots is not a compact JWS: rejected with the part count
/// (and four dots is called a JWE).
#[test]
fn token_with_thousands_of_dots_is_rejected() {
    let rp = rp(HostileServer::start(), None);
    let dots = "a.".repeat(5000);
    decode(&rp, &dots).err(SOIDC_ERR_VALIDATION, "expected 3 parts, found 5001");
    decode(&rp, &".".repeat(200_000)).err(SOIDC_ERR_VALIDATION, "expected 3 parts, found 200001");
    decode(&rp, "a.b.c.d.e").err(SOIDC_ERR_VALIDATION, "JWE");
    rp.login(&dots).err(SOIDC_ERR_VALIDATION, "expected 3 parts");
    assert_eq!(rp.server.count(JWKS_PATH), 0, "no key fetch for a malformed token");
}

// ---------------------------------------------------------------------------------------
// A misbehaving network peer
// ---------------------------------------------------------------------------------------

/// A provider that answers after the client's timeout (300 ms against a 3 s delay):
/// `SOIDC_ERR_NETWORK` naming the timeout, for the token endpoint, the JWKS and
/// discovery. Only a generous upper bound on the time is asserted.
#[test]
fn provider_answering_after_the_timeout_is_a_network_error() {
    let rp = rp(HostileServer::start(), None);
    let slow = |body: &Value| Action::Delay(Duration::from_secs(3), Resp::json(200, body));
    rp.server.set(TOKEN_PATH, slow(&rp.token_response(&rp.rs256(&rp.claims()))));
    let started = Instant::now();
    let mut options = rp::result_options();
    options["timeout_ms"] = json!(300);
    rp.handle(&rp.callback_url(), &options).err(SOIDC_ERR_NETWORK, "timed out");
    assert!(started.elapsed() < Duration::from_secs(10));

    rp.server.set(JWKS_PATH, slow(&jwks_of(&["stub-rs256"])));
    decode_with(&rp, &rp.rs256(&rp.claims()), json!({"nonce": NONCE, "timeout_ms": 300}))
        .err(SOIDC_ERR_NETWORK, "timed out");

    let server = HostileServer::start();
    let doc = server.discovery_doc();
    server.set(DISCOVERY_PATH, slow(&doc));
    let (out, _) = ffi::from_issuer_url(
        &server.issuer(),
        Params { client_id: CLIENT_ID, options: Some(r#"{"timeout_ms": 300}"#), ..Default::default() },
    );
    out.err(SOIDC_ERR_NETWORK, "timed out");
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A provider that closes the connection in the middle of the body (100 of 5000
/// announced bytes): `SOIDC_ERR_NETWORK` or `SOIDC_ERR_HTTP`, naming the endpoint's host.
#[test]
fn provider_closing_mid_body_is_a_network_or_http_error() {
    let rp = rp(HostileServer::start(), None);
    let body = rp.token_response(&rp.rs256(&rp.claims())).to_string();
    rp.server.set(
        TOKEN_PATH,
        Action::CloseMidBody {
            status: 200,
            content_type: "application/json".into(),
            announced: 5000,
            sent: body.as_bytes()[..100].to_vec(),
        },
    );
    let out = rp.handle(&rp.callback_url(), &rp::result_options());
    assert!(
        out.status == SOIDC_ERR_NETWORK || out.status == SOIDC_ERR_HTTP,
        "expected network or http, got {out:?}"
    );
    let e = rp::doc(&out);
    let addr = rp.server.addr().to_string();
    assert!(e["message"].as_str().unwrap().contains(&addr), "names the host: {e}");
    // Hang up without any answer.
    rp.server.set(TOKEN_PATH, Action::Hangup);
    let out = rp.handle(&rp.callback_url(), &rp::result_options());
    assert!(out.status == SOIDC_ERR_NETWORK || out.status == SOIDC_ERR_HTTP, "{out:?}");
}

/// A provider that sends the head at once and then the body one byte every 20 ms (a
/// client with only a per-read timeout would wait for minutes): the whole-request timeout
/// (300 ms) still ends the call with `SOIDC_ERR_NETWORK`.
#[test]
fn provider_trickling_the_body_is_cut_off_by_the_whole_request_timeout() {
    let rp = rp(HostileServer::start(), None);
    let resp = Resp::json(200, &rp.token_response(&rp.rs256(&rp.claims())));
    rp.server.set(TOKEN_PATH, Action::Trickle { resp, every: Duration::from_millis(20) });
    let mut options = rp::result_options();
    options["timeout_ms"] = json!(300);
    let started = Instant::now();
    let out = rp.handle(&rp.callback_url(), &options);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    out.err(SOIDC_ERR_NETWORK, "timed out");
}

/// A megabyte of response headers (ureq reads at most 64 KiB of head): `SOIDC_ERR_HTTP`.
#[test]
fn response_headers_of_a_megabyte_are_refused() {
    let rp = rp(HostileServer::start(), None);
    let pad = "h".repeat(1024 * 1024);
    rp.server.set(JWKS_PATH, Action::Reply(Resp::json(200, &jwks_of(&["stub-rs256"])).with_header("X-Pad", &pad)));
    let e = rp::provider_keys(rp.c(), None).err(SOIDC_ERR_HTTP, "response headers");
    assert!(e["message"].as_str().unwrap().len() < 1000, "{e}");
}

/// The token endpoint redirects (302/307) to another host: `SOIDC_ERR_HTTP` naming the
/// redirect and its target, which never receives anything (redirects are never
/// followed: the code, verifier and client credentials stay home).
#[test]
fn redirect_from_the_token_endpoint_to_another_host_is_not_followed() {
    let rp = rp(HostileServer::start(), None);
    let other = HostileServer::bare();
    for status in [302, 307, 308] {
        rp.server.set(TOKEN_PATH, Action::Reply(Resp::redirect(status, &other.url("/collect"))));
        let e = rp.handle(&rp.callback_url(), &rp::result_options()).err(SOIDC_ERR_HTTP, "redirects are never followed");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains(&format!("HTTP {status} redirecting to {}", other.addr())), "{msg}");
        assert_eq!(e["http_status"], status);
    }
    rp.server.set(JWKS_PATH, Action::Reply(Resp::redirect(301, &other.url("/jwks"))));
    decode(&rp, &rp.rs256(&rp.claims())).err(SOIDC_ERR_HTTP, "redirects are never followed");
    assert_eq!(other.request_count(), 0);
    assert_eq!(other.connections(), 0);
}

/// HTTP 500 with an HTML page from the token endpoint: `SOIDC_ERR_HTTP` with the status
/// and the content type in the message and `http_status` in the document.
#[test]
fn http_500_with_html_is_an_http_error_naming_status_and_content_type() {
    let rp = rp(HostileServer::start(), None);
    let html = b"<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>";
    rp.server.set(TOKEN_PATH, Action::Reply(Resp::raw(500, "text/html; charset=utf-8", html)));
    let e = rp.handle(&rp.callback_url(), &rp::result_options()).err(SOIDC_ERR_HTTP, "answered HTTP 500");
    assert!(e["message"].as_str().unwrap().contains("text/html"), "{e}");
    assert_eq!(e["http_status"], 500);
    // The same from userinfo and discovery.
    rp.server.set(USERINFO_PATH, Action::Reply(Resp::raw(500, "text/html", html)));
    let e = rp::userinfo(rp.c(), ACCESS_TOKEN, None).err(SOIDC_ERR_HTTP, "HTTP 500");
    assert!(e["message"].as_str().unwrap().contains("text/html"), "{e}");
    rp.server.set(DISCOVERY_PATH, Action::Reply(Resp::raw(500, "text/html", html)));
    let (out, _) = ffi::from_issuer_url(&rp.issuer(), Params { client_id: CLIENT_ID, ..Default::default() });
    out.err(SOIDC_ERR_HTTP, "answered HTTP 500");
}

/// An `http://` endpoint in the metadata of an https provider, on a non-loopback host:
/// `SOIDC_ERR_PROTOCOL` naming the member (tokens and secrets must not travel in clear).
#[test]
fn http_endpoint_in_https_metadata_is_a_protocol_error() {
    let base = json!({
        "issuer": "https://op.example",
        "authorization_endpoint": "https://op.example/authorize",
        "token_endpoint": "https://op.example/token",
        "userinfo_endpoint": "https://op.example/userinfo",
        "jwks_uri": "https://op.example/jwks",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]
    });
    for member in ["token_endpoint", "userinfo_endpoint", "jwks_uri", "authorization_endpoint"] {
        let mut doc = base.clone();
        doc[member] = json!(format!("http://op.example/{member}"));
        let (out, client) = ffi::from_issuer_config(
            &doc.to_string(),
            Params { client_id: CLIENT_ID, client_secret: Some(SECRET), ..Default::default() },
        );
        let e = out.err(SOIDC_ERR_PROTOCOL, "uses http:// on a non-loopback host");
        assert!(e["message"].as_str().unwrap().contains(member), "{e}");
        assert!(client.is_none());
    }
    let (out, _) = ffi::from_issuer_config(&base.to_string(), Params { client_id: CLIENT_ID, ..Default::default() });
    assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
}

/// A flood of tokens with random, unknown `kid`s (1000 of them) must not turn into a flood
/// of JWKS requests: the refetch is rate-limited, so the provider sees at most 2.
#[test]
fn flood_of_unknown_kids_does_not_flood_the_jwks_endpoint() {
    let rp = rp(HostileServer::start(), None);
    decode(&rp, &rp.rs256(&rp.claims())).ok();
    let payload = jwt::b64(rp.claims().to_string().as_bytes());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..1000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kid = format!("kid-{i}-{seed:016x}");
        let header = jwt::b64(json!({"alg": "RS256", "kid": kid}).to_string().as_bytes());
        let out = decode(&rp, &format!("{header}.{payload}.c2lnbmF0dXJl"));
        if i % 250 == 0 {
            out.err(SOIDC_ERR_VALIDATION, &format!("no key with kid \"{kid}\""));
        } else {
            assert_eq!(out.status, SOIDC_ERR_VALIDATION, "{:?}", out.doc);
        }
    }
    let fetches = rp.server.count(JWKS_PATH);
    assert!(fetches <= 2, "{fetches} JWKS fetches for 1000 unknown kids");
    // The known key still works afterwards.
    decode(&rp, &rp.rs256(&rp.claims())).ok();
}

// ---------------------------------------------------------------------------------------
// Refresh continuity (OIDC Core §12.2), beyond the suite's three modules
// ---------------------------------------------------------------------------------------

fn refresh(rp: &Rp, original: &str, new_claims: &Value) -> ffi::Outcome {
    rp.server.set_token_response(&json!({
        "access_token": "at-2", "token_type": "Bearer", "expires_in": 300,
        "id_token": rp.rs256(new_claims)
    }));
    rp::refresh(rp.c(), "rt-1", Some(&json!({"id_token": original}).to_string()))
}

fn plain_claims(rp: &Rp) -> Value {
    let mut c = rp.claims();
    for k in ["nonce", "at_hash", "c_hash"] {
        c.as_object_mut().unwrap().remove(k);
    }
    c
}

/// §12.2: "if the ID Token contains an auth_time Claim, its value MUST represent the
/// time of the original authentication". The condition is on the *new* token: a
/// refreshed ID token without `auth_time` is allowed and must be accepted; one with a
/// different `auth_time` is rejected.
#[test]
fn refreshed_id_token_may_omit_auth_time() {
    let rp = rp(HostileServer::start(), None);
    let original = rp.rs256(&plain_claims(&rp));
    let mut changed = plain_claims(&rp);
    changed["auth_time"] = json!(common::now() - 5);
    refresh(&rp, &original, &changed).err(SOIDC_ERR_VALIDATION, "auth_time");
    let mut without = plain_claims(&rp);
    without.as_object_mut().unwrap().remove("auth_time");
    let out = refresh(&rp, &original, &without);
    assert_eq!(out.status, SOIDC_OK, "a refreshed ID token without auth_time was rejected: {:?}", out.doc);
}

/// §12.2: the refreshed `aud` "MUST be the same" as the original's. RFC 7519 §4.1.3 makes a
/// single audience as a string and as a one-element array the same value; so a provider
/// that writes `"aud": "rp-client"` once and `"aud": ["rp-client"]` the next time keeps
/// the audience, and the refresh must be accepted.
#[test]
fn refreshed_id_token_aud_as_string_or_one_element_array_is_the_same_audience() {
    let rp = rp(HostileServer::start(), None);
    // One claim set for both tokens: built twice, a second boundary between the two
    // could give them different auth_time values.
    let claims = plain_claims(&rp);
    let original = rp.rs256(&claims);
    let mut as_array = claims.clone();
    as_array["aud"] = json!([CLIENT_ID]);
    let out = refresh(&rp, &original, &as_array);
    assert_eq!(out.status, SOIDC_OK, "aud \"{CLIENT_ID}\" vs [\"{CLIENT_ID}\"] was taken as a change: {:?}", out.doc);
}

/// §12.2: the refreshed `azp` must equal the original's; "if no azp Claim was present in the
/// original ID Token, one MUST NOT be present in the new ID Token" — even when it names
/// the client itself.
#[test]
fn refreshed_id_token_must_not_gain_an_azp() {
    let rp = rp(HostileServer::start(), None);
    let claims = plain_claims(&rp);
    let original = rp.rs256(&claims);
    let mut with_azp = claims.clone();
    with_azp["azp"] = json!(CLIENT_ID);
    refresh(&rp, &original, &with_azp).err(SOIDC_ERR_VALIDATION, "azp");
}

/// Reuse of the `Rp` helper's second constructor keeps a public client working too: the
/// public client gets `client_id` in the form and no Authorization header.
#[test]
fn public_client_sends_no_credentials() {
    let rp = rp_with_secret(HostileServer::start(), None, None);
    rp.login(&rp.rs256(&rp.claims())).ok();
    let req = rp.server.requests_to(TOKEN_PATH).pop().unwrap();
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.form_value("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(req.form_value("client_secret"), None);
}

// ---------------------------------------------------------------------------------------
// Untrusted input echoed back in messages
// ---------------------------------------------------------------------------------------

/// Error messages quote values the attacker chose (the redirect URL's `state` and `iss`,
/// `error_description`, an unverified token header's `kid` and `alg`). A careful library
/// bounds what it quotes: otherwise one request makes the relying party log megabytes
/// (the documents go to logs). The provider's fields stay verbatim in the error document's
/// own members (`error_description`, ...), as the contract says; the *message* should
/// quote a bounded prefix. Bound asserted: 16 KiB per message.
#[test]
fn error_messages_bound_the_untrusted_values_they_quote() {
    const BOUND: usize = 16 * 1024;
    let rp = rp(HostileServer::start(), None);
    let huge = "q".repeat(10 * 1024 * 1024);
    let issuer = rp.issuer();
    let mut sizes = Vec::new();
    let mut measure = |what: &str, out: ffi::Outcome, status: i32| {
        assert_eq!(out.status, status, "{what}: {:?}", out.doc.as_deref().map(|d| &d[..d.len().min(200)]));
        let v = rp::doc(&out);
        sizes.push((what.to_owned(), v["message"].as_str().unwrap().len()));
    };
    let url = rp::callback_url(&[("code", rp::CODE), ("state", &huge), ("iss", &issuer)]);
    measure("state", rp.handle(&url, &rp::result_options()), SOIDC_ERR_VALIDATION);
    let url = rp::callback_url(&[("code", rp::CODE), ("state", rp::STATE), ("iss", &huge)]);
    measure("iss parameter", rp.handle(&url, &rp::result_options()), SOIDC_ERR_VALIDATION);
    let url = rp::callback_url(&[("error", "access_denied"), ("error_description", &huge), ("state", rp::STATE), ("iss", &issuer)]);
    measure("error_description", rp.handle(&url, &rp::result_options()), SOIDC_ERR_AUTHENTICATION_FAILED);
    let big_kid = "k".repeat(150 * 1024); // base64url: 200 KB, under the 256 KiB token limit
    let payload = jwt::b64(rp.claims().to_string().as_bytes());
    let h = jwt::b64(json!({"alg": "RS256", "kid": big_kid}).to_string().as_bytes());
    measure("kid", decode(&rp, &format!("{h}.{payload}.c2ln")), SOIDC_ERR_VALIDATION);
    let h = jwt::b64(json!({"alg": big_kid}).to_string().as_bytes());
    measure("alg", decode(&rp, &format!("{h}.{payload}.c2ln")), SOIDC_ERR_VALIDATION);
    assert_eq!(rp.token_requests(), 0);
    let over: Vec<_> = sizes.iter().filter(|(_, n)| *n > BOUND).collect();
    assert!(over.is_empty(), "messages quoting untrusted values without a bound (bytes): {over:?}");
}

static LOG_LINES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

unsafe extern "C" fn collect_log(_level: std::os::raw::c_int, message: *const std::os::raw::c_char, _user: *mut std::os::raw::c_void) {
    // SAFETY: soidc passes a NUL-terminated message valid during the call.
    let m = unsafe { std::ffi::CStr::from_ptr(message) }.to_string_lossy().into_owned();
    LOG_LINES.lock().unwrap().push(m);
}

/// An unverified token header is attacker input. Its `kid` ends up in the error message
/// and, at info level, in the log callback: raw line breaks and escape sequences there
/// let an attacker forge log lines ("...\nsoidc: login ok for admin"). Messages must
/// escape control characters (as `{:?}` does in soidc's own "unknown kid" log line).
#[test]
fn messages_do_not_carry_raw_control_characters_from_untrusted_input() {
    let rp = rp(HostileServer::start(), None);
    // SAFETY: a live client; collect_log is thread-safe and needs no user data.
    let st = unsafe { soidc::ffi::client::soidc_client_set_log_callback(rp.c(), Some(collect_log), 5, std::ptr::null_mut()) };
    assert_eq!(st, SOIDC_OK);
    let forged = "k1\nsoidc: FORGED login ok for admin\r\n\u{1b}[2J";
    let payload = jwt::b64(rp.claims().to_string().as_bytes());
    let h = jwt::b64(json!({"alg": "RS256", "kid": forged}).to_string().as_bytes());
    let e = decode(&rp, &format!("{h}.{payload}.c2ln")).err(SOIDC_ERR_VALIDATION, "no key with kid");
    let url = rp::callback_url(&[("code", rp::CODE), ("state", forged), ("iss", &rp.issuer())]);
    let e2 = rp.handle(&url, &rp::result_options()).err(SOIDC_ERR_VALIDATION, "state");
    // SAFETY: switch the callback off.
    unsafe { soidc::ffi::client::soidc_client_set_log_callback(rp.c(), None, 0, std::ptr::null_mut()) };
    let lines = LOG_LINES.lock().unwrap().clone();
    let raw = |s: &str| s.chars().any(|c| c.is_control());
    let bad_logs: Vec<&String> = lines.iter().filter(|l| raw(l)).collect();
    let msg = e["message"].as_str().unwrap();
    let msg2 = e2["message"].as_str().unwrap();
    assert!(
        bad_logs.is_empty() && !raw(msg) && !raw(msg2),
        "raw control characters from untrusted input:\n log lines: {bad_logs:?}\n messages: {msg:?} / {msg2:?}"
    );
}
