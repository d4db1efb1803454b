//! Every client authentication method at the real provider's token endpoint, checked
//! through what the provider saw (`GET /test/requests`), and the failures of each.
//!
//! The provider's request list is shared by the whole test binary, so every test here
//! that talks to the token endpoint holds `requests_lock()` while it resets and reads it.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::ffi::{self, Params};
use common::provider::{self, client_secret};
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;

/// Runs `grant` after a reset and asserts the provider saw exactly one token request,
/// of `grant_type`, authenticated with `method`, answered `status`.
#[track_caller]
fn saw_exactly(method: &str, grant_type: &str, status: u16, grant: impl FnOnce()) {
    requests_reset();
    grant();
    let seen = token_requests();
    assert_eq!(seen.len(), 1, "expected one token request, the provider saw {seen:?}");
    let r = &seen[0];
    assert_eq!(r["auth_method"], method, "{r}");
    assert_eq!(r["grant_type"], grant_type, "{r}");
    assert_eq!(r["status"], status, "{r}");
}

/// A client credentials grant that must succeed.
#[track_caller]
fn cc_ok(c: &common::ffi::FfiClient) -> Value {
    let doc = client_credentials(c, None, None).ok();
    assert!(s(&doc, "access_token").len() > 10, "{doc}");
    doc
}

#[test]
fn client_secret_basic_is_the_default_and_works_explicitly() {
    let _g = requests_lock();
    let c = conf_client("conf-basic", None);
    saw_exactly("basic", "client_credentials", 200, || {
        cc_ok(&c);
    });
    let c = conf_client("conf-basic", Some(r#"{"auth_method":"client_secret_basic"}"#));
    saw_exactly("basic", "client_credentials", 200, || {
        cc_ok(&c);
    });
}

#[test]
fn client_secret_post() {
    let _g = requests_lock();
    let c = conf_client("conf-post", Some(r#"{"auth_method":"client_secret_post"}"#));
    saw_exactly("post", "client_credentials", 200, || {
        cc_ok(&c);
    });
}

#[test]
fn client_secret_jwt() {
    let _g = requests_lock();
    let c = conf_client("conf-jwt", Some(r#"{"auth_method":"client_secret_jwt"}"#));
    saw_exactly("client_secret_jwt", "client_credentials", 200, || {
        cc_ok(&c);
    });
    // Each assertion is fresh (a unique jti): a second grant works too.
    saw_exactly("client_secret_jwt", "client_credentials", 200, || {
        cc_ok(&c);
    });
}

#[test]
fn private_key_jwt_with_each_key_type() {
    let _g = requests_lock();
    for key in ["client-rs256", "client-es256", "client-ed25519"] {
        let c = keyless_client("conf-pkjwt", Some(&pkjwt_options(key, key)));
        saw_exactly("private_key_jwt", "client_credentials", 200, || {
            cc_ok(&c);
        });
        // The same client authenticates at introspection and revocation too.
        let doc = cc_ok(&c);
        let at = s(&doc, "access_token");
        assert_eq!(introspect(&c, at, None, None).ok()["active"], true, "{key}");
        assert_eq!(revoke(&c, at, None, None).ok(), json!({}), "{key}");
        assert_eq!(introspect(&c, at, None, None).ok()["active"], false, "{key}");
    }
}

#[test]
fn private_key_jwt_chosen_by_default_when_a_key_is_given() {
    let _g = requests_lock();
    let path = common::tests_path("keys/client-es256.pem");
    let pem = std::fs::read_to_string(path).unwrap();
    let options = json!({"private_key_pem": pem, "private_key_kid": "client-es256"}).to_string();
    let c = keyless_client("conf-pkjwt", Some(&options));
    saw_exactly("private_key_jwt", "client_credentials", 200, || {
        cc_ok(&c);
    });
}

#[test]
fn none_for_the_public_client_in_the_code_flow() {
    let _g = requests_lock();
    let c = keyless_client("public-pkce", None);
    let (start, redirect) = login_alice(&c, None);
    saw_exactly("none", "authorization_code", 200, || {
        let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
        assert_eq!(doc["id_token_claims"]["sub"], "alice");
    });
    // Explicitly asked for, the same.
    let c = keyless_client("public-pkce", Some(r#"{"auth_method":"none"}"#));
    let (start, redirect) = login_alice(&c, None);
    saw_exactly("none", "authorization_code", 200, || {
        handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    });
}

#[test]
fn each_confidential_method_also_in_the_code_flow() {
    let _g = requests_lock();
    for (id, method, seen) in [
        ("conf-post", "client_secret_post", "post"),
        ("conf-jwt", "client_secret_jwt", "client_secret_jwt"),
    ] {
        let c = conf_client(id, Some(&json!({"auth_method": method}).to_string()));
        let (start, redirect) = login_alice(&c, None);
        saw_exactly(seen, "authorization_code", 200, || {
            let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
            assert_eq!(doc["id_token_claims"]["aud"], id);
        });
    }
}

// ---------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------

fn with_secret(client_id: &str, secret: &str, options: Option<&str>) -> common::ffi::FfiClient {
    ffi::client(
        provider::issuer(),
        Params { client_id, client_secret: Some(secret), options, ..Default::default() },
    )
}

#[test]
fn wrong_secret_is_invalid_client_for_each_secret_method() {
    let _g = requests_lock();
    for (id, method, seen) in [
        ("conf-basic", "client_secret_basic", "basic"),
        ("conf-post", "client_secret_post", "post"),
        ("conf-jwt", "client_secret_jwt", "client_secret_jwt"),
    ] {
        let wrong = format!("{id}-WRONG-secret-0123456789abcdef0123456789");
        let c = with_secret(id, &wrong, Some(&json!({"auth_method": method}).to_string()));
        saw_exactly(seen, "client_credentials", 401, || {
            let o = client_credentials(&c, None, None);
            let err = o.err(SOIDC_ERR_PROVIDER, "invalid_client");
            assert_eq!(err["error"], "invalid_client", "{id}");
            assert_eq!(err["http_status"], 401, "{id}");
            assert_no_leak(&o, &[&wrong, &client_secret(id)]);
        });
        // The password grant with a wrong secret leaks neither the secret nor the password.
        let o = password_grant(&c, "alice", "alice-password", None, None);
        o.err(SOIDC_ERR_PROVIDER, "invalid_client");
        assert_no_leak(&o, &[&wrong, "alice-password"]);
    }
}

#[test]
fn private_key_jwt_with_an_unknown_key_is_invalid_client() {
    let _g = requests_lock();
    // A key the provider does not know, under its own kid and under a registered kid.
    for kid in ["stub-rs256", "client-rs256"] {
        let c = keyless_client("conf-pkjwt", Some(&pkjwt_options("stub-rs256", kid)));
        saw_exactly("private_key_jwt", "client_credentials", 401, || {
            let o = client_credentials(&c, None, None);
            let err = o.err(SOIDC_ERR_PROVIDER, "invalid_client");
            assert_eq!(err["error"], "invalid_client", "{kid}");
        });
    }
    // A registered key under another registered key's kid.
    let c = keyless_client("conf-pkjwt", Some(&pkjwt_options("client-es256", "client-rs256")));
    let o = client_credentials(&c, None, None);
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_client")["error"], "invalid_client");
}

#[test]
fn client_creation_refuses_impossible_methods() {
    let issuer = provider::issuer();
    // A public client cannot use a secret method.
    for method in ["client_secret_basic", "client_secret_post", "client_secret_jwt"] {
        let options = json!({"auth_method": method}).to_string();
        let (o, c) = ffi::from_issuer_url(
            issuer,
            Params { client_id: "public-pkce", options: Some(&options), ..Default::default() },
        );
        assert!(c.is_none());
        o.err(SOIDC_ERR_INVALID_ARGUMENT, method);
    }
    // private_key_jwt without a key, an unknown method, a key that is not a key.
    let (o, _) = ffi::from_issuer_url(
        issuer,
        Params { client_id: "conf-pkjwt", options: Some(r#"{"auth_method":"private_key_jwt"}"#), ..Default::default() },
    );
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "private_key_pem");
    let (o, _) = ffi::from_issuer_url(
        issuer,
        Params { client_id: "conf-basic", client_secret: Some("x"), options: Some(r#"{"auth_method":"tls_client_auth"}"#), ..Default::default() },
    );
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "tls_client_auth");
    let bad_key = json!({"auth_method": "private_key_jwt", "private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}).to_string();
    let (o, _) = ffi::from_issuer_url(
        issuer,
        Params { client_id: "conf-pkjwt", options: Some(&bad_key), ..Default::default() },
    );
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "private_key_pem");
    // The public key file is not a private key.
    let pub_pem = std::fs::read_to_string(common::tests_path("keys/stub-rs256.pub.pem")).unwrap();
    let pub_key = json!({"auth_method": "private_key_jwt", "private_key_pem": pub_pem}).to_string();
    let (o, _) = ffi::from_issuer_url(
        issuer,
        Params { client_id: "conf-pkjwt", options: Some(&pub_key), ..Default::default() },
    );
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "private_key_pem");
}

#[test]
fn public_client_without_method_sends_no_credentials() {
    let _g = requests_lock();
    // The password grant of the public client: client_id only.
    let c = keyless_client("public-pkce", None);
    saw_exactly("none", "password", 200, || {
        let doc = password_grant(&c, "alice", "alice-password", Some("openid"), None).ok();
        assert_eq!(doc["id_token_claims"]["aud"], "public-pkce");
    });
}
