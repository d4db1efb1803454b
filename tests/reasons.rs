//! The machine-readable `reason` of validation error documents, for servers that answer
//! differently to "no keys yet" (503) and "bad token" (401), or refresh keys on an
//! unknown kid.

mod common;

use common::ffi::{self, FfiClient, Params};
use common::jwt::{good_claims, sign};
use common::stub::StubServer;
use serde_json::json;
use soidc::ffi::status::*;

fn client(stub: &StubServer) -> FfiClient {
    ffi::client(&stub.issuer(), Params { client_id: "rp", client_secret: Some("rp-secret"), ..Default::default() })
}

#[track_caller]
fn reason(client: &FfiClient, token: &str, options: Option<&str>, expected: &str) {
    let doc = client.decode_id_token(token, options).err(SOIDC_ERR_VALIDATION, "");
    assert_eq!(doc["reason"], expected, "{doc}");
}

#[test]
fn validation_errors_carry_a_reason() {
    let stub = StubServer::new();
    let c = client(&stub);
    let claims = good_claims(&stub.issuer(), "rp", None);
    let token = sign("RS256", "stub-rs256", &json!({}), &claims);
    reason(&c, &token, Some(r#"{"cache_only": true}"#), "no_keys_cached");
    c.decode_id_token(&token, None).ok();

    // Change a character in the middle of the signature (the last one may only carry
    // padding bits, which base64url decoding rejects before any signature check).
    let mut forged = token.clone().into_bytes();
    let at = forged.len() - 20;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    reason(&c, &forged, None, "signature");
    reason(&c, &sign("RS256", "stub-rs256", &json!({"kid": "nobody"}), &claims), None, "unknown_kid");

    let mut expired = claims.clone();
    expired["exp"] = json!(common::now() - 3600);
    reason(&c, &sign("RS256", "stub-rs256", &json!({}), &expired), None, "expired");
    let mut other_iss = claims.clone();
    other_iss["iss"] = json!("https://elsewhere.example");
    reason(&c, &sign("RS256", "stub-rs256", &json!({}), &other_iss), None, "issuer");
    let mut other_aud = claims.clone();
    other_aud["aud"] = json!("someone-else");
    reason(&c, &sign("RS256", "stub-rs256", &json!({}), &other_aud), None, "audience");
}

/// The claims document is the payload as signed, so a repeated claim name must be
/// refused: the caller's JSON parser might read the other value.
#[test]
fn repeated_claim_names_are_refused() {
    let stub = StubServer::new();
    let c = client(&stub);
    let claims = good_claims(&stub.issuer(), "rp", None);
    let body = claims.to_string();
    let doubled = format!("{{\"sub\":\"admin\",{}", &body[1..]);
    let token = common::jwt::sign_raw(
        r#"{"alg":"RS256","typ":"JWT"}"#,
        &doubled,
        "RS256",
        &common::jwt::Key::Pem("stub-rs256"),
    );
    c.decode_id_token(&token, None).err(SOIDC_ERR_VALIDATION, "appears more than once");
    // The ordinary token's document is its payload, byte for byte.
    let token = sign("RS256", "stub-rs256", &json!({}), &claims);
    let doc = c.decode_id_token(&token, None);
    assert_eq!(doc.doc.as_deref(), Some(body.as_str()));
}
