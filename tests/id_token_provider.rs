//! Real ID tokens, issued by the test provider (password grant), validated by soidc for
//! each signing algorithm the provider uses (RS256, ES256, EdDSA).

mod common;

use common::ffi::{self, FfiClient, Params};
use common::jwt;
use common::provider::{self, alice_id_token, client_secret};
use serde_json::{json, Value};
use soidc::ffi::status::*;

fn ffi_client(client_id: &str) -> FfiClient {
    let secret = client_secret(client_id);
    ffi::client(
        provider::issuer(),
        Params {
            client_id,
            client_secret: Some(&secret),
            ..Default::default()
        },
    )
}

/// Decodes a fresh token of `client_id` with the right nonce and access token, checks
/// the claims, and checks at_hash and nonce in the rejecting direction.
fn round_trip(client_id: &str, expected_alg: &str) {
    let client = ffi_client(client_id);
    let nonce = format!("nonce-{client_id}");
    let (token, resp) = alice_id_token(client_id, Some(&nonce));
    assert_eq!(jwt::header_of(&token)["alg"], expected_alg);
    let access_token = resp["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();

    let options = json!({"nonce": nonce, "access_token": access_token}).to_string();
    let claims = client.decode_id_token(&token, Some(&options)).ok();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["nonce"], nonce);
    assert_eq!(claims["iss"], provider::issuer());
    assert_eq!(claims["aud"], client_id);
    assert!(claims["auth_time"].is_i64(), "{claims}");
    assert!(claims["at_hash"].is_string(), "{claims}");
    // Every claim of the token is handed back, unknown ones included, unchanged.
    assert_eq!(claims, jwt::payload(&token));

    // Without options a token that carries a nonce is refused (no nonce was expected, as
    // simple_openid_connect); ignore_nonce skips the check (at_hash stays opt-in).
    let doc = client.decode_id_token(&token, None).err(SOIDC_ERR_VALIDATION, "nonce");
    assert_eq!(doc["reason"], "nonce", "{doc}");
    assert_eq!(client.decode_id_token(&token, Some(r#"{"ignore_nonce": true}"#)).ok(), claims);

    // at_hash against another access token
    let options = json!({"nonce": nonce, "access_token": "not-the-access-token"}).to_string();
    client
        .decode_id_token(&token, Some(&options))
        .err(SOIDC_ERR_VALIDATION, "at_hash does not match");

    // wrong nonce
    let options = json!({"nonce": "another-nonce"}).to_string();
    client
        .decode_id_token(&token, Some(&options))
        .err(SOIDC_ERR_VALIDATION, "nonce");

    // a token without nonce when one is expected
    let (plain, _) = alice_id_token(client_id, None);
    client.decode_id_token(&plain, None).ok();
    let options = json!({"nonce": nonce}).to_string();
    client
        .decode_id_token(&plain, Some(&options))
        .err(SOIDC_ERR_VALIDATION, "no nonce claim");
}

#[test]
fn rs256_conf_basic() {
    round_trip("conf-basic", "RS256");
}

#[test]
fn es256_conf_es256() {
    round_trip("conf-es256", "ES256");
}

#[test]
fn eddsa_conf_eddsa() {
    round_trip("conf-eddsa", "EdDSA");
}

#[test]
fn token_of_another_client_fails_on_aud() {
    let (token, _) = alice_id_token("conf-basic", None);
    let client = ffi_client("conf-post");
    let err = client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "aud");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("conf-basic") && msg.contains("conf-post"),
        "{msg}"
    );
}

#[test]
fn tampered_provider_token_fails_the_signature_check() {
    let client = ffi_client("conf-basic");
    let (token, _) = alice_id_token("conf-basic", None);
    let mut claims: Value = jwt::payload(&token);
    claims["sub"] = json!("bob");
    let forged = jwt::with_payload(&token, &claims);
    client
        .decode_id_token(&forged, None)
        .err(SOIDC_ERR_VALIDATION, "signature");
    // The genuine token still validates (nothing was poisoned).
    assert_eq!(client.decode_id_token(&token, None).ok()["sub"], "alice");
}

#[test]
fn core_client_decodes_provider_tokens() {
    use soidc::core::{Client, ClientParams, ErrorKind};
    let secret = client_secret("conf-es256");
    let client = Client::from_issuer_url(
        provider::issuer(),
        ClientParams {
            client_id: "conf-es256",
            client_secret: Some(&secret),
            ..Default::default()
        },
    )
    .expect("client");
    let (token, resp) = alice_id_token("conf-es256", Some("n-1"));
    let opts = json!({"nonce": "n-1", "access_token": resp["access_token"]}).to_string();
    let claims = client
        .decode_id_token(&token, Some(&opts), None)
        .expect("valid token");
    assert_eq!(claims["sub"], "alice");
    common::assert_core_err(
        client.decode_id_token(&token, Some(r#"{"nonce": "n-2"}"#), None),
        ErrorKind::Validation,
        "nonce",
    );
}

#[test]
fn bob_gets_bob() {
    let client = ffi_client("conf-basic");
    let secret = client_secret("conf-basic");
    let resp = provider::password_grant(
        "conf-basic",
        &secret,
        "bob",
        "bob-password",
        "openid email",
        None,
    );
    let claims = client
        .decode_id_token(resp["id_token"].as_str().unwrap(), None)
        .ok();
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["email"], "bob@example.test");
    assert!(claims.get("name").is_none(), "no profile scope: {claims}");
}
