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

    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
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
