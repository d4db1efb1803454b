//! Every ID token validation rule, in both directions (a token that passes, a token that
//! fails with a message naming the check), with tokens signed by the tests against a stub
//! provider.

mod common;

use common::ffi::{self, Params};
use common::jwt::{self, good_claims, half_hash, sign, sign_hmac, sign_raw, Key};
use common::now;
use common::stub::{jwks_of, public_jwk, StubServer};
use serde_json::{json, Value};
use soidc::core::{Client, ClientParams, ErrorKind};
use soidc::ffi::status::*;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Mutex;

const CLIENT_ID: &str = "rp";
const SECRET: &str = "rp-secret-0123456789abcdef0123456789";

/// A stub provider and a core client for it.
struct Rig {
    client: Client,
    stub: StubServer,
}

fn rig() -> Rig {
    rig_with(StubServer::new(), None)
}

fn rig_with(stub: StubServer, options: Option<&str>) -> Rig {
    let client = Client::from_issuer_url(
        &stub.issuer(),
        ClientParams {
            client_id: CLIENT_ID,
            client_secret: Some(SECRET),
            options,
            ..Default::default()
        },
    )
    .expect("client for the stub");
    Rig { client, stub }
}

impl Rig {
    fn claims(&self) -> Value {
        good_claims(&self.stub.issuer(), CLIENT_ID, None)
    }

    /// The claims with `changes` applied (a `null` removes the claim).
    fn claims_with(&self, changes: Value) -> Value {
        let mut c = self.claims();
        for (k, v) in changes.as_object().expect("an object of changes") {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    fn rs256(&self, claims: &Value) -> String {
        sign("RS256", "stub-rs256", &json!({}), claims)
    }

    #[track_caller]
    fn accept_token(&self, token: &str, options: Option<Value>) -> Value {
        let opts = options.map(|o| o.to_string());
        match self.client.decode_id_token(token, opts.as_deref(), None) {
            Ok(claims) => Value::Object(claims),
            Err(e) => panic!("expected the token to be accepted, got {e}"),
        }
    }

    #[track_caller]
    fn reject_token(&self, token: &str, options: Option<Value>, fragment: &str) -> String {
        let opts = options.map(|o| o.to_string());
        let e = common::assert_core_err(
            self.client.decode_id_token(token, opts.as_deref(), None),
            ErrorKind::Validation,
            fragment,
        );
        assert!(e.message.starts_with("ID token: "), "{}", e.message);
        e.message
    }

    /// An RS256 token with `changes` applied to the good claims must pass.
    #[track_caller]
    fn accept(&self, changes: Value, options: Option<Value>) -> Value {
        self.accept_token(&self.rs256(&self.claims_with(changes)), options)
    }

    /// An RS256 token with `changes` applied to the good claims must fail naming `fragment`.
    #[track_caller]
    fn reject(&self, changes: Value, options: Option<Value>, fragment: &str) -> String {
        self.reject_token(&self.rs256(&self.claims_with(changes)), options, fragment)
    }
}

// ---------------------------------------------------------------------------------------
// Signatures and algorithms
// ---------------------------------------------------------------------------------------

#[test]
fn each_asymmetric_algorithm_verifies() {
    let r = rig();
    for alg in ["RS256", "ES256", "ES384", "EdDSA"] {
        let token = sign(alg, jwt::stub_key_for(alg), &json!({}), &r.claims());
        let claims = r.accept_token(&token, None);
        assert_eq!(claims["sub"], "user-1", "{alg}");
    }
    assert_eq!(
        r.stub.jwks_count(),
        1,
        "one JWKS fetch serves every algorithm"
    );
}

#[test]
fn ps256_verifies_with_an_rsa_key_without_alg() {
    let stub = StubServer::new();
    let mut any = public_jwk("stub-rs256");
    any.as_object_mut().unwrap().remove("alg");
    any["kid"] = json!("stub-rs256-any");
    stub.set_jwks(&json!({"keys": [public_jwk("stub-rs256"), any]}));
    let r = rig_with(stub, None);
    let h = jwt::header("PS256", Some("stub-rs256-any"), &json!({}));
    let token = sign_raw(
        &h.to_string(),
        &r.claims().to_string(),
        "PS256",
        &Key::Pem("stub-rs256"),
    );
    r.accept_token(&token, None);
    // The same key published with alg RS256 may not verify PS256.
    let token = sign("PS256", "stub-rs256", &json!({}), &r.claims());
    r.reject_token(&token, None, "cannot verify alg PS256");
}

#[test]
fn tampered_payload_fails_the_signature_check() {
    let r = rig();
    let token = r.rs256(&r.claims());
    r.accept_token(&token, None);
    let forged = jwt::with_payload(&token, &r.claims_with(json!({"sub": "admin"})));
    r.reject_token(
        &forged,
        None,
        "signature does not verify with key \"stub-rs256\"",
    );
}

#[test]
fn token_without_kid_tries_the_fitting_keys() {
    let r = rig();
    let token = sign("ES256", "stub-es256", &json!({"kid": null}), &r.claims());
    r.accept_token(&token, None);
    // Signed by a key the provider does not publish: no candidate verifies.
    let token = sign("RS256", "stub-rs256-b", &json!({"kid": null}), &r.claims());
    r.reject_token(&token, None, "verifies with none of the");
}

#[test]
fn alg_none_is_rejected() {
    let r = rig();
    let payload = jwt::b64(r.claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let header = jwt::b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
        r.reject_token(&format!("{header}.{payload}."), None, "\"none\"");
        // Even with some signature bytes.
        r.reject_token(&format!("{header}.{payload}.c2ln"), None, "never accepted");
    }
}

#[test]
fn alg_not_advertised_by_the_provider_is_rejected() {
    let r = rig_with(StubServer::with_algs(&["RS256"]), None);
    let accepted = r.rs256(&r.claims());
    r.accept_token(&accepted, None);
    let token = sign("RS384", "stub-rs256", &json!({}), &r.claims());
    r.reject_token(&token, None, "token alg \"RS384\" is not allowed");
    let token = sign("ES256", "stub-es256", &json!({}), &r.claims());
    r.reject_token(&token, None, "token alg \"ES256\" is not allowed");
}

#[test]
fn allowed_algs_option_overrides_the_advertised_list() {
    let r = rig_with(StubServer::new(), Some(r#"{"allowed_algs": ["ES256"]}"#));
    r.accept_token(&sign("ES256", "stub-es256", &json!({}), &r.claims()), None);
    r.reject_token(
        &r.rs256(&r.claims()),
        None,
        "token alg \"RS256\" is not allowed",
    );
}

#[test]
fn unknown_alg_is_rejected() {
    let r = rig();
    let h = json!({"alg": "XS999", "kid": "stub-rs256"}).to_string();
    let token = sign_raw(
        &h,
        &r.claims().to_string(),
        "RS256",
        &Key::Pem("stub-rs256"),
    );
    r.reject_token(&token, None, "token alg \"XS999\" is not supported");
}

#[test]
fn hs256_is_rejected_by_default() {
    let r = rig();
    let token = sign_hmac("HS256", SECRET.as_bytes(), &json!({}), &r.claims());
    r.reject_token(&token, None, "token alg \"HS256\" is not allowed");
}

#[test]
fn hs256_is_accepted_when_allowed_and_signed_with_the_client_secret() {
    let r = rig_with(
        StubServer::new(),
        Some(r#"{"allowed_algs": ["RS256", "HS256"]}"#),
    );
    let token = sign_hmac("HS256", SECRET.as_bytes(), &json!({}), &r.claims());
    r.accept_token(&token, None);
    // RS256 still works alongside.
    r.accept_token(&r.rs256(&r.claims()), None);
    // Another secret does not.
    let token = sign_hmac(
        "HS256",
        b"some-other-secret-0123456789abcdef",
        &json!({}),
        &r.claims(),
    );
    r.reject_token(&token, None, "MAC does not verify with the client secret");
    // HS384 is not listed.
    let token = sign_hmac("HS384", SECRET.as_bytes(), &json!({}), &r.claims());
    r.reject_token(&token, None, "token alg \"HS384\" is not allowed");
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_rejected() {
    // Algorithm confusion: an attacker MACs with the provider's public key bytes.
    let r = rig_with(
        StubServer::new(),
        Some(r#"{"allowed_algs": ["RS256", "HS256"]}"#),
    );
    let pem = std::fs::read(common::tests_path("keys/stub-rs256.pub.pem")).unwrap();
    let token = sign_hmac("HS256", &pem, &json!({"kid": "stub-rs256"}), &r.claims());
    r.reject_token(&token, None, "MAC does not verify with the client secret");
    let jwk = public_jwk("stub-rs256").to_string();
    let token = sign_hmac(
        "HS256",
        jwk.as_bytes(),
        &json!({"kid": "stub-rs256"}),
        &r.claims(),
    );
    r.reject_token(&token, None, "MAC does not verify");
}

#[test]
fn hs256_in_allowed_algs_needs_a_secret() {
    let stub = StubServer::new();
    let result = Client::from_issuer_url(
        &stub.issuer(),
        ClientParams {
            client_id: CLIENT_ID,
            options: Some(r#"{"allowed_algs": ["HS256"]}"#),
            ..Default::default()
        },
    );
    common::assert_core_err(result, ErrorKind::InvalidArgument, "client secret");
}

#[test]
fn rs256_header_with_an_ec_key_kid_is_rejected() {
    let r = rig();
    let token = sign_raw(
        &jwt::header("RS256", Some("stub-es256"), &json!({})).to_string(),
        &r.claims().to_string(),
        "RS256",
        &Key::Pem("stub-rs256"),
    );
    r.reject_token(&token, None, "key \"stub-es256\"");
    r.reject_token(&token, None, "cannot verify alg RS256");
    // ES256 header with the RSA key's kid, signed by the EC key.
    let token = sign_raw(
        &jwt::header("ES256", Some("stub-rs256"), &json!({})).to_string(),
        &r.claims().to_string(),
        "ES256",
        &Key::Pem("stub-es256"),
    );
    r.reject_token(&token, None, "cannot verify alg ES256");
    // ES384 signature presented as ES256 with the P-384 key's kid.
    let token = sign_raw(
        &jwt::header("ES256", Some("stub-es384"), &json!({})).to_string(),
        &r.claims().to_string(),
        "ES384",
        &Key::Pem("stub-es384"),
    );
    r.reject_token(&token, None, "cannot verify alg ES256");
}

#[test]
fn crit_header_is_rejected() {
    let r = rig();
    r.accept_token(&r.rs256(&r.claims()), None);
    let token = sign(
        "RS256",
        "stub-rs256",
        &json!({"crit": ["exp"], "exp": 1}),
        &r.claims(),
    );
    r.reject_token(&token, None, "\"crit\"");
    let token = sign("RS256", "stub-rs256", &json!({"crit": []}), &r.claims());
    r.reject_token(&token, None, "critical extension");
}

#[test]
fn jwe_is_rejected() {
    let r = rig();
    let h = jwt::b64(
        json!({"alg": "RSA-OAEP", "enc": "A256GCM"})
            .to_string()
            .as_bytes(),
    );
    r.reject_token(
        &format!("{h}.ZW5jcnlwdGVka2V5.aXY.Y2lwaGVydGV4dA.dGFn"),
        None,
        "JWE",
    );
    // An `enc` header in a three-part token is a JWE too.
    let token = sign(
        "RS256",
        "stub-rs256",
        &json!({"enc": "A256GCM"}),
        &r.claims(),
    );
    r.reject_token(&token, None, "JWE");
}

#[test]
fn typ_must_be_that_of_an_id_token() {
    let r = rig();
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("application/jwt"),
        Value::Null,
    ] {
        let token = sign("RS256", "stub-rs256", &json!({"typ": typ}), &r.claims());
        r.accept_token(&token, None);
    }
    let token = sign(
        "RS256",
        "stub-rs256",
        &json!({"typ": "at+jwt"}),
        &r.claims(),
    );
    r.reject_token(&token, None, "typ \"at+jwt\"");
    let token = sign(
        "RS256",
        "stub-rs256",
        &json!({"typ": "logout+jwt"}),
        &r.claims(),
    );
    r.reject_token(&token, None, "typ");
    let token = sign("RS256", "stub-rs256", &json!({"typ": 7}), &r.claims());
    r.reject_token(&token, None, "\"typ\" must be a string");
}

#[test]
fn malformed_compact_serialisation_is_rejected() {
    let r = rig();
    r.reject_token("!!!.@@@.###", None, "not valid unpadded base64url");
    r.reject_token("", None, "expected 3 parts");
    r.reject_token("abc.def", None, "expected 3 parts, found 2");
    r.reject_token("a.b.c.d", None, "expected 3 parts, found 4");
    let good = r.rs256(&r.claims());
    r.reject_token(&format!("{good}="), None, "base64url");
    let parts: Vec<&str> = good.split('.').collect();
    r.reject_token(
        &format!("{}.{}.", parts[0], parts[1]),
        None,
        "signature is empty",
    );
    let not_json = jwt::b64(b"{not json");
    r.reject_token(
        &format!("{not_json}.{}.{}", parts[1], parts[2]),
        None,
        "not a valid JOSE header",
    );
    r.reject_token(&"a".repeat(300 * 1024), None, "byte limit");
}

#[test]
fn header_members_of_the_wrong_type_are_rejected() {
    let r = rig();
    let token = sign_raw(
        r#"{"alg": 5}"#,
        &r.claims().to_string(),
        "RS256",
        &Key::Pem("stub-rs256"),
    );
    r.reject_token(&token, None, "\"alg\" must be a string");
    let token = sign("RS256", "stub-rs256", &json!({"kid": 5}), &r.claims());
    r.reject_token(&token, None, "\"kid\" must be a string");
}

#[test]
fn payload_must_be_a_json_object() {
    let r = rig();
    let h = jwt::header("RS256", Some("stub-rs256"), &json!({})).to_string();
    let token = sign_raw(&h, r#"["iss", "sub"]"#, "RS256", &Key::Pem("stub-rs256"));
    r.reject_token(&token, None, "payload is not a JSON object");
    let token = sign_raw(&h, "\"a string\"", "RS256", &Key::Pem("stub-rs256"));
    r.reject_token(&token, None, "payload is not a JSON object");
}

#[test]
fn key_with_use_enc_never_verifies() {
    let stub = StubServer::new();
    let mut enc = public_jwk("stub-es256");
    enc["use"] = json!("enc");
    stub.set_jwks(&json!({"keys": [public_jwk("stub-rs256"), enc]}));
    let r = rig_with(stub, None);
    r.accept_token(&r.rs256(&r.claims()), None);
    let token = sign("ES256", "stub-es256", &json!({}), &r.claims());
    r.reject_token(&token, None, "no key with kid \"stub-es256\"");
}

// ---------------------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------------------

#[test]
fn iss() {
    let r = rig();
    let claims = r.accept(json!({}), None);
    assert_eq!(claims["iss"], r.stub.issuer());
    r.reject(
        json!({"iss": "https://other.example"}),
        None,
        "iss \"https://other.example\" does not match",
    );
    r.reject(
        json!({"iss": format!("{}/", r.stub.issuer())}),
        None,
        "does not match the issuer",
    );
    r.reject(
        json!({"iss": null}),
        None,
        "required claim \"iss\" is missing",
    );
    r.reject(json!({"iss": 1}), None, "claim \"iss\" must be a string");
}

#[test]
fn aud() {
    let r = rig();
    r.accept(json!({"aud": CLIENT_ID}), None);
    r.accept(json!({"aud": [CLIENT_ID]}), None);
    r.reject(
        json!({"aud": null}),
        None,
        "required claim \"aud\" is missing",
    );
    r.reject(
        json!({"aud": "other"}),
        None,
        "aud [\"other\"] does not contain client_id \"rp\"",
    );
    r.reject(
        json!({"aud": ["other"]}),
        None,
        "does not contain client_id",
    );
    r.reject(json!({"aud": []}), None, "empty array");
    r.reject(
        json!({"aud": 5}),
        None,
        "claim \"aud\" must be a string or an array of strings",
    );
    r.reject(
        json!({"aud": [CLIENT_ID, 5]}),
        None,
        "must hold only strings",
    );
}

#[test]
fn aud_with_an_untrusted_extra_audience() {
    let r = rig();
    let changes = json!({"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID});
    r.reject(
        changes.clone(),
        None,
        "contains \"api\", which is neither client_id",
    );
    r.reject(
        changes.clone(),
        Some(json!({"extra_trusted_audiences": ["other"]})),
        "contains \"api\"",
    );
    let claims = r.accept(changes, Some(json!({"extra_trusted_audiences": ["api"]})));
    assert_eq!(claims["aud"], json!([CLIENT_ID, "api"]));
}

#[test]
fn several_audiences_need_azp() {
    let r = rig();
    let trusted = Some(json!({"extra_trusted_audiences": ["api"]}));
    r.reject(
        json!({"aud": [CLIENT_ID, "api"]}),
        trusted.clone(),
        "azp claim is missing",
    );
    r.accept(
        json!({"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID}),
        trusted,
    );
}

#[test]
fn azp() {
    let r = rig();
    r.accept(json!({"azp": CLIENT_ID}), None);
    r.reject(
        json!({"azp": "other"}),
        None,
        "azp \"other\" is not client_id \"rp\"",
    );
    r.accept(
        json!({"azp": "other"}),
        Some(json!({"expect_self_azp": false})),
    );
    r.reject(json!({"azp": 3}), None, "claim \"azp\" must be a string");
    let several = json!({"aud": [CLIENT_ID, "api"], "azp": "api"});
    r.reject(
        several.clone(),
        Some(json!({"extra_trusted_audiences": ["api"]})),
        "azp \"api\" is not client_id",
    );
    r.accept(
        several,
        Some(json!({"extra_trusted_audiences": ["api"], "expect_self_azp": false})),
    );
}

#[test]
fn sub() {
    let r = rig();
    assert_eq!(r.accept(json!({"sub": "x"}), None)["sub"], "x");
    r.reject(
        json!({"sub": null}),
        None,
        "required claim \"sub\" is missing",
    );
    r.reject(json!({"sub": ""}), None, "claim \"sub\" is empty");
    r.reject(
        json!({"sub": 42}),
        None,
        "claim \"sub\" must be a string, found a number",
    );
}

#[test]
fn exp() {
    let r = rig();
    let now = now();
    r.accept(json!({"exp": now + 3600}), None);
    r.accept(json!({"exp": now - 10}), None); // within the default 30 s leeway
    r.reject(json!({"exp": now - 120}), None, "token expired at");
    r.reject(
        json!({"exp": null}),
        None,
        "required claim \"exp\" is missing",
    );
    r.reject(
        json!({"exp": (now + 300).to_string()}),
        None,
        "claim \"exp\" must be a number (NumericDate), found a string",
    );
    r.reject(json!({"exp": 1e300}), None, "not a usable NumericDate");
}

#[test]
fn iat() {
    let r = rig();
    let now = now();
    r.accept(json!({"iat": now - 3600}), None);
    r.accept(json!({"iat": now + 10}), None); // within leeway
    r.reject(json!({"iat": now + 600}), None, "is in the future");
    r.reject(
        json!({"iat": null}),
        None,
        "required claim \"iat\" is missing",
    );
    r.reject(
        json!({"iat": "yesterday"}),
        None,
        "claim \"iat\" must be a number",
    );
}

#[test]
fn min_iat() {
    let r = rig();
    let now = now();
    r.accept(
        json!({"iat": now - 100}),
        Some(json!({"min_iat": now - 200})),
    );
    r.reject(
        json!({"iat": now - 100}),
        Some(json!({"min_iat": now - 50})),
        "is before min_iat",
    );
    // Fractional bounds (Python's time.time()) are compared exactly with iat.
    let at = now - 100;
    r.accept(json!({"iat": at}), Some(json!({"min_iat": at as f64 - 0.25})));
    r.accept(json!({"iat": at}), Some(json!({"min_iat": at as f64})));
    r.reject(
        json!({"iat": at}),
        Some(json!({"min_iat": at as f64 + 0.25})),
        "is before min_iat",
    );
    // ... and so is a fractional iat.
    r.accept(json!({"iat": at as f64 + 0.5}), Some(json!({"min_iat": at as f64 + 0.25})));
    r.reject(
        json!({"iat": at as f64 + 0.5}),
        Some(json!({"min_iat": at as f64 + 0.75})),
        "is before min_iat",
    );
    // Out of range.
    let token = r.rs256(&r.claims());
    for bad in [json!({"min_iat": -1.5}), json!({"min_iat": 1e300}), json!({"min_iat": "0"})] {
        common::assert_core_err(
            r.client.decode_id_token(&token, Some(&bad.to_string()), None),
            ErrorKind::InvalidArgument,
            "min_iat",
        );
    }
}

#[test]
fn nbf() {
    let r = rig();
    let now = now();
    r.accept(json!({"nbf": now - 10}), None);
    r.accept(json!({"nbf": now + 10}), None); // within leeway
    r.reject(json!({"nbf": now + 600}), None, "token is not valid before");
    r.reject(
        json!({"nbf": "soon"}),
        None,
        "claim \"nbf\" must be a number",
    );
}

#[test]
fn nonce() {
    let r = rig();
    let expect = Some(json!({"nonce": "n-0S6_WzA2Mj"}));
    r.accept(json!({"nonce": "n-0S6_WzA2Mj"}), expect.clone());
    // Strict both ways (simple_openid_connect): a nonce nobody expected is refused ...
    r.reject(
        json!({"nonce": "anything"}),
        None,
        "the token carries a nonce but none was expected",
    );
    // ... unless the check is switched off, which skips it entirely.
    r.accept(json!({"nonce": "anything"}), Some(json!({"ignore_nonce": true})));
    r.accept(json!({}), Some(json!({"ignore_nonce": true})));
    r.accept(json!({}), Some(json!({"ignore_nonce": false})));
    let opts = json!({"nonce": "n-0S6_WzA2Mj", "ignore_nonce": true}).to_string();
    let token = r.rs256(&r.claims_with(json!({"nonce": "n-0S6_WzA2Mj"})));
    common::assert_core_err(
        r.client.decode_id_token(&token, Some(&opts), None),
        ErrorKind::InvalidArgument,
        "nonce and ignore_nonce contradict each other",
    );
    r.reject(
        json!({}),
        expect.clone(),
        "nonce was expected but the token has no nonce claim",
    );
    r.reject(
        json!({"nonce": "n-other"}),
        expect.clone(),
        "nonce \"n-other\" does not match the expected nonce",
    );
    r.reject(
        json!({"nonce": 5}),
        expect,
        "claim \"nonce\" must be a string",
    );
}

#[test]
fn max_age() {
    let r = rig();
    let now = now();
    r.accept(
        json!({"auth_time": now - 100}),
        Some(json!({"max_age": 600})),
    );
    r.reject(
        json!({"auth_time": now - 5000}),
        Some(json!({"max_age": 600})),
        "older than max_age 600 s allows",
    );
    r.reject(
        json!({"auth_time": null}),
        Some(json!({"max_age": 600})),
        "max_age was requested but the token has no auth_time claim",
    );
    r.accept(json!({"auth_time": null}), None); // auth_time only matters when asked for
    r.reject(
        json!({"auth_time": "recent"}),
        None,
        "claim \"auth_time\" must be a number",
    );
}

#[test]
fn huge_max_age_does_not_wrap_around() {
    // max_age is a u64 option; a value beyond i64::MAX must not turn into a negative age
    // that rejects every token (accepting, or refusing the option, are both fine).
    let r = rig();
    let token = r.rs256(&r.claims_with(json!({"auth_time": now() - 100})));
    for max_age in [u64::MAX, 1u64 << 63] {
        let opts = json!({"max_age": max_age}).to_string();
        match r.client.decode_id_token(&token, Some(&opts), None) {
            Ok(_) => {}
            Err(e) => assert_eq!(
                e.kind,
                ErrorKind::InvalidArgument,
                "max_age {max_age}: {}",
                e.message
            ),
        }
    }
}

#[test]
fn min_auth_time() {
    let r = rig();
    let now = now();
    r.accept(
        json!({"auth_time": now - 100}),
        Some(json!({"min_auth_time": now - 200})),
    );
    r.reject(
        json!({"auth_time": now - 100}),
        Some(json!({"min_auth_time": now - 50})),
        "is before min_auth_time",
    );
    // As simple_openid_connect: only checked when the token has auth_time.
    r.accept(
        json!({"auth_time": null}),
        Some(json!({"min_auth_time": now - 50})),
    );
}

#[test]
fn at_hash_and_c_hash() {
    let r = rig();
    let at = "access-token-value-SlAV32hkKG";
    let code = "authorization-code-Qcb0Orv1zh30";
    let changes = json!({"at_hash": half_hash("RS256", at), "c_hash": half_hash("RS256", code)});
    r.accept(
        changes.clone(),
        Some(json!({"access_token": at, "code": code})),
    );
    r.accept(changes.clone(), None);
    r.reject(
        changes.clone(),
        Some(json!({"access_token": "other-access-token"})),
        "at_hash does not match the access token",
    );
    r.reject(
        changes.clone(),
        Some(json!({"code": "other-code"})),
        "c_hash does not match the authorization code",
    );
    // The hash follows the token's alg: a SHA-512-based at_hash does not pass for RS256.
    r.reject(
        json!({"at_hash": half_hash("EdDSA", at)}),
        Some(json!({"access_token": at})),
        "at_hash does not match",
    );
    // ES384 uses SHA-384.
    let claims = r.claims_with(json!({"at_hash": half_hash("ES384", at)}));
    r.accept_token(
        &sign("ES384", "stub-es384", &json!({}), &claims),
        Some(json!({"access_token": at})),
    );
    // EdDSA (Ed25519) uses SHA-512.
    let claims = r.claims_with(json!({"at_hash": half_hash("EdDSA", at)}));
    r.accept_token(
        &sign("EdDSA", "stub-ed25519", &json!({}), &claims),
        Some(json!({"access_token": at})),
    );
    r.reject(
        json!({"at_hash": 12}),
        Some(json!({"access_token": at})),
        "claim \"at_hash\" must be a string",
    );
}

#[test]
fn all_claims_are_returned() {
    let r = rig();
    let claims = r.claims_with(
        json!({"acr": "urn:gold", "x_custom": {"nested": [1, 2]}, "email": "a@b.test"}),
    );
    let decoded = r.accept_token(&r.rs256(&claims), None);
    assert_eq!(decoded, claims);
}

// ---------------------------------------------------------------------------------------
// Client options: leeway
// ---------------------------------------------------------------------------------------

#[test]
fn leeway_option_is_honoured() {
    let r = rig_with(StubServer::new(), Some(r#"{"leeway_s": 120}"#));
    let now = now();
    r.accept(json!({"exp": now - 100}), None);
    r.reject(json!({"exp": now - 600}), None, "leeway 120 s");
    r.accept(json!({"iat": now + 100}), None);
    r.accept(json!({"nbf": now + 100}), None);

    let strict = rig_with(StubServer::new(), Some(r#"{"leeway_s": 0}"#));
    strict.reject(json!({"exp": now - 5}), None, "leeway 0 s");
    strict.reject(json!({"iat": now + 60}), None, "in the future");
}

#[test]
fn leeway_above_300_is_an_invalid_argument() {
    let stub = StubServer::new();
    let (out, client) = ffi::from_issuer_url(
        &stub.issuer(),
        Params {
            client_id: CLIENT_ID,
            options: Some(r#"{"leeway_s": 301}"#),
            ..Default::default()
        },
    );
    assert!(client.is_none());
    out.err(
        SOIDC_ERR_INVALID_ARGUMENT,
        "leeway_s must be at most 300, got 301",
    );
    assert_eq!(
        stub.count(common::stub::DISCOVERY_PATH),
        0,
        "options are checked before any request"
    );
    let (out, client) = ffi::from_issuer_url(
        &stub.issuer(),
        Params {
            client_id: CLIENT_ID,
            options: Some(r#"{"leeway_s": 300}"#),
            ..Default::default()
        },
    );
    assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
    assert!(client.is_some());
}

// ---------------------------------------------------------------------------------------
// The acr callback, through the C ABI
// ---------------------------------------------------------------------------------------

/// What the callback saw, one entry per call (None = called with NULL).
#[derive(Default)]
struct AcrCalls(Mutex<Vec<Option<String>>>);

impl AcrCalls {
    fn take(&self) -> Vec<Option<String>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

unsafe fn record(acr: *const c_char, user_data: *mut c_void) -> Option<String> {
    let calls = &*(user_data as *const AcrCalls);
    let acr = (!acr.is_null()).then(|| CStr::from_ptr(acr).to_str().unwrap().to_owned());
    calls.0.lock().unwrap().push(acr.clone());
    acr
}

/// Accepts only "urn:gold" (so NULL, a token without acr, is rejected).
unsafe extern "C" fn only_gold(acr: *const c_char, user_data: *mut c_void) -> c_int {
    match record(acr, user_data).as_deref() {
        Some("urn:gold") => 0,
        _ => 1,
    }
}

/// Accepts everything, NULL included.
unsafe extern "C" fn accept_all(acr: *const c_char, user_data: *mut c_void) -> c_int {
    record(acr, user_data);
    0
}

#[test]
fn acr_callback() {
    let stub = StubServer::new();
    let client = ffi::client(
        &stub.issuer(),
        Params {
            client_id: CLIENT_ID,
            client_secret: Some(SECRET),
            ..Default::default()
        },
    );
    let calls = AcrCalls::default();
    let ud = &calls as *const AcrCalls as *mut c_void;
    let base = good_claims(&stub.issuer(), CLIENT_ID, None);
    let with_acr = |acr: Value| {
        let mut c = base.clone();
        c["acr"] = acr;
        sign("RS256", "stub-rs256", &json!({}), &c)
    };
    let no_acr = sign("RS256", "stub-rs256", &json!({}), &base);

    let gold = with_acr(json!("urn:gold"));
    let claims = client
        .decode_id_token_acr(&gold, None, Some(only_gold), ud)
        .ok();
    assert_eq!(claims["acr"], "urn:gold");
    assert_eq!(calls.take(), [Some("urn:gold".to_owned())]);

    let silver = with_acr(json!("urn:silver"));
    client
        .decode_id_token_acr(&silver, None, Some(only_gold), ud)
        .err(
            SOIDC_ERR_VALIDATION,
            "acr \"urn:silver\" was rejected by the validate_acr callback",
        );
    assert_eq!(calls.take(), [Some("urn:silver".to_owned())]);

    // No acr: the callback is called with NULL, and its refusal stands.
    client
        .decode_id_token_acr(&no_acr, None, Some(only_gold), ud)
        .err(SOIDC_ERR_VALIDATION, "acr (absent) was rejected");
    assert_eq!(calls.take(), [None]);

    // A callback that accepts NULL lets it through.
    client
        .decode_id_token_acr(&no_acr, None, Some(accept_all), ud)
        .ok();
    assert_eq!(calls.take(), [None]);

    // Without a callback, any acr passes.
    client.decode_id_token(&silver, None).ok();
    assert!(calls.take().is_empty());

    // An acr of the wrong type fails before the callback is asked.
    client
        .decode_id_token_acr(&with_acr(json!(2)), None, Some(accept_all), ud)
        .err(SOIDC_ERR_VALIDATION, "claim \"acr\" must be a string");
    assert!(calls.take().is_empty());

    // A forged token never reaches the callback.
    let forged = jwt::with_payload(&silver, &jwt::payload(&gold));
    client
        .decode_id_token_acr(&forged, None, Some(accept_all), ud)
        .err(SOIDC_ERR_VALIDATION, "signature");
    assert!(calls.take().is_empty());

    // Nor does an expired one.
    let mut old = base.clone();
    old["acr"] = json!("urn:gold");
    old["exp"] = json!(now() - 3600);
    client
        .decode_id_token_acr(
            &sign("RS256", "stub-rs256", &json!({}), &old),
            None,
            Some(accept_all),
            ud,
        )
        .err(SOIDC_ERR_VALIDATION, "expired");
    assert!(calls.take().is_empty());
}

#[test]
fn decode_options_are_checked() {
    let r = rig();
    let token = r.rs256(&r.claims());
    common::assert_core_err(
        r.client
            .decode_id_token(&token, Some(r#"{"noncee": "x"}"#), None),
        ErrorKind::InvalidArgument,
        "unknown field `noncee`",
    );
    common::assert_core_err(
        r.client.decode_id_token(&token, Some("[]"), None),
        ErrorKind::InvalidArgument,
        "must be a JSON object",
    );
    common::assert_core_err(
        r.client
            .decode_id_token(&token, Some(r#"{"max_age": -1}"#), None),
        ErrorKind::InvalidArgument,
        "options_json",
    );
}

#[test]
fn ffi_decode_reports_validation_documents() {
    let stub = StubServer::new();
    let client = ffi::client(
        &stub.issuer(),
        Params {
            client_id: CLIENT_ID,
            ..Default::default()
        },
    );
    let mut claims = good_claims(&stub.issuer(), CLIENT_ID, Some("abc"));
    let ok = client
        .decode_id_token(
            &sign("ES256", "stub-es256", &json!({}), &claims),
            Some(r#"{"nonce":"abc"}"#),
        )
        .ok();
    assert_eq!(ok, claims);
    claims["exp"] = json!(now() - 3600);
    let token = sign("ES256", "stub-es256", &json!({}), &claims);
    let doc = client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "ID token: token expired at");
    assert_eq!(doc["status"], "validation");
    assert!(
        !doc.to_string().contains(&token),
        "the token must not be echoed"
    );
    // jwks_of is the stub's default key set.
    assert_eq!(
        client.provider_keys(None).ok(),
        jwks_of(&common::stub::STUB_KEYS)
    );
}
