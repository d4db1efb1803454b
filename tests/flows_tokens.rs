//! Real tokens of the provider through the C ABI: RFC 9068 JWT access tokens
//! (soidc_decode_access_token) and OpenID Connect back-channel logout tokens
//! (soidc_decode_logout_token) delivered by the provider's own back-channel logout.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::jwt;
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;

const BCL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// An RFC 9068 access token of conf-basic for the API with `scope`.
fn api_token(c: &common::ffi::FfiClient, scope: &str) -> String {
    let doc = client_credentials(c, Some(scope), Some(&json!({"resource": API}).to_string())).ok();
    s(&doc, "access_token").to_owned()
}

fn aud_api(extra: Value) -> String {
    let mut o = json!({"audience": API});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string()
}

// ---------------------------------------------------------------------------------------
// RFC 9068 access tokens
// ---------------------------------------------------------------------------------------

#[test]
fn access_token_of_the_provider_validates() {
    let c = conf_client("conf-basic", None);
    let at = api_token(&c, "api:read api:write");
    assert_eq!(jwt::header_of(&at)["typ"], "at+jwt");
    let claims = decode_access_token(&c, &at, Some(&aud_api(json!({})))).ok();
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["iss"], common::provider::issuer());
    assert_eq!(claims["client_id"], "conf-basic");
    assert_eq!(claims["sub"], "conf-basic", "client credentials: the client is the subject");
    assert_eq!(claims["scope"], "api:read api:write");
    // Every claim is handed back unchanged.
    assert_eq!(claims, jwt::payload(&at));

    let options = aud_api(json!({"required_scopes": ["api:read", "api:write"]}));
    decode_access_token(&c, &at, Some(&options)).ok();
    // A resource server known by several names: any one of them in aud will do.
    let options = json!({"audience": ["https://other.example", API]}).to_string();
    decode_access_token(&c, &at, Some(&options)).ok();
    let options = json!({"audience": ["https://other.example", "conf-basic"]}).to_string();
    let err = decode_access_token(&c, &at, Some(&options)).err(SOIDC_ERR_VALIDATION, "any of the audiences");
    assert_eq!(err["reason"], "audience");
    // A resource server without a client secret validates it just as well.
    let rs = keyless_client("public-pkce", None);
    decode_access_token(&rs, &at, Some(&aud_api(json!({"required_scopes": ["api:write"]})))).ok();
}

#[test]
fn access_token_of_a_user_validates() {
    // The password grant of conf-basic with api:read gets a JWT for the API by default.
    let c = conf_client("conf-basic", None);
    let doc = password_grant(&c, "alice", "alice-password", Some("openid api:read"), None).ok();
    let at = s(&doc, "access_token");
    let claims = decode_access_token(&c, at, Some(&aud_api(json!({"required_scopes": ["api:read"]})))).ok();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "conf-basic");
}

#[test]
fn access_token_wrong_audience() {
    let c = conf_client("conf-basic", None);
    let at = api_token(&c, "api:read");
    // The default audience is the client id, which the token is not for.
    let o = decode_access_token(&c, &at, None);
    let msg = o.err(SOIDC_ERR_VALIDATION, "aud")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("conf-basic") && msg.contains(API), "{msg}");
    let o = decode_access_token(&c, &at, Some(r#"{"audience":"https://other.example"}"#));
    o.err(SOIDC_ERR_VALIDATION, "https://other.example");
    assert_no_leak(&o, &[&at]);
}

#[test]
fn access_token_missing_required_scope_is_insufficient_scope() {
    let c = conf_client("conf-basic", None);
    let at = api_token(&c, "api:read");
    let o = decode_access_token(&c, &at, Some(&aud_api(json!({"required_scopes": ["api:read", "api:write"]}))));
    let err = o.err(SOIDC_ERR_VALIDATION, "api:write");
    assert_eq!(err["error"], "insufficient_scope", "{err}");
    assert_no_leak(&o, &[&at]);
    // A token without any scope claim lacks every scope.
    let at = api_token(&c, "");
    assert!(jwt::payload(&at).get("scope").is_none(), "{}", jwt::payload(&at));
    let err = decode_access_token(&c, &at, Some(&aud_api(json!({"required_scopes": ["api:read"]}))))
        .err(SOIDC_ERR_VALIDATION, "api:read");
    assert_eq!(err["error"], "insufficient_scope");
    // ... but is fine when nothing is required.
    decode_access_token(&c, &at, Some(&aud_api(json!({})))).ok();
}

#[test]
fn opaque_access_token_is_refused() {
    let c = conf_client("conf-basic", None);
    let doc = client_credentials(&c, None, None).ok();
    let opaque = s(&doc, "access_token");
    assert_eq!(opaque.matches('.').count(), 0, "an opaque token: {opaque}");
    let o = decode_access_token(&c, opaque, Some(&aud_api(json!({}))));
    o.err(SOIDC_ERR_VALIDATION, "");
    assert_no_leak(&o, &[opaque]);
}

#[test]
fn id_token_as_access_token_is_refused_on_typ() {
    let c = conf_client("conf-basic", None);
    let doc = password_grant(&c, "alice", "alice-password", Some("openid"), None).ok();
    let idt = s(&doc, "id_token");
    assert_eq!(jwt::header_of(idt)["typ"], "JWT");
    let o = decode_access_token(&c, idt, None);
    let msg = o.err(SOIDC_ERR_VALIDATION, "typ")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("at+jwt"), "{msg}");
}

#[test]
fn access_token_forged_or_bad_options() {
    let c = conf_client("conf-basic", None);
    let at = api_token(&c, "api:read");
    let mut claims = jwt::payload(&at);
    claims["scope"] = json!("api:read api:write");
    let forged = jwt::with_payload(&at, &claims);
    decode_access_token(&c, &forged, Some(&aud_api(json!({})))).err(SOIDC_ERR_VALIDATION, "signature");
    decode_access_token(&c, &at, Some(r#"{"audiences":["x"]}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "audiences");
    decode_access_token(&c, &at, Some(r#"{"required_scopes":"api:read"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "");
    // cache_only after the keys are cached (the decodes above cached them).
    decode_access_token(&c, &at, Some(&aud_api(json!({"cache_only": true})))).ok();
}

// ---------------------------------------------------------------------------------------
// Back-channel logout tokens
// ---------------------------------------------------------------------------------------

#[test]
fn back_channel_logout_token_from_the_provider() {
    let delivered = backchannel_logout("alice", "conf-bcl");
    // Other tests of this binary log out concurrently: pick alice's token.
    let token = delivered
        .iter()
        .find(|t| jwt::payload(t)["sub"] == "alice")
        .unwrap_or_else(|| panic!("no logout token for alice in {delivered:?}"));
    // The sink received the same token.
    assert!(delivered_logout_tokens().contains(token));
    assert_eq!(jwt::header_of(token)["typ"], "logout+jwt");

    let bcl = conf_client("conf-bcl", None);
    let claims = decode_logout_token(&bcl, token, None).ok();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "conf-bcl");
    assert_eq!(claims["iss"], common::provider::issuer());
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()), "{claims}");
    assert!(claims["jti"].is_string(), "{claims}");
    assert!(claims["events"][BCL_EVENT].is_object(), "{claims}");
    assert!(claims.get("nonce").is_none());
    assert_eq!(claims, jwt::payload(token));
    // The provider sends exp (required by Back-Channel Logout 1.0 §2.4).
    assert!(claims["exp"].is_i64(), "{claims}");
    // A replayed token with exp still decodes: soidc documents that it tracks the jti
    // only of tokens accepted without exp.
    decode_logout_token(&bcl, token, None).ok();
    decode_logout_token(&bcl, token, Some(r#"{"allow_missing_exp": true}"#)).ok();

    // Another client is not the audience.
    let other = conf_client("conf-basic", None);
    let o = decode_logout_token(&other, token, None);
    let msg = o.err(SOIDC_ERR_VALIDATION, "aud")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("conf-bcl") && msg.contains("conf-basic"), "{msg}");
    // ... not even when it trusts conf-bcl as an extra audience: its own id must be in aud.
    let o = decode_logout_token(&other, token, Some(r#"{"extra_trusted_audiences":["conf-bcl"]}"#));
    o.err(SOIDC_ERR_VALIDATION, "aud");
}

#[test]
fn back_channel_logout_token_failures() {
    let delivered = backchannel_logout("bob", "conf-bcl");
    let token = delivered
        .iter()
        .find(|t| jwt::payload(t)["sub"] == "bob")
        .unwrap_or_else(|| panic!("no logout token for bob in {delivered:?}"));
    let bcl = conf_client("conf-bcl", None);
    assert_eq!(decode_logout_token(&bcl, token, None).ok()["sub"], "bob");
    // Issued before min_iat.
    let claims = jwt::payload(token);
    let min_iat = claims["iat"].as_i64().unwrap() + 3600;
    decode_logout_token(&bcl, token, Some(&json!({"min_iat": min_iat}).to_string()))
        .err(SOIDC_ERR_VALIDATION, "iat");
    // Tampered.
    let mut forged = claims.clone();
    forged["sub"] = json!("alice");
    decode_logout_token(&bcl, &jwt::with_payload(token, &forged), None).err(SOIDC_ERR_VALIDATION, "signature");
    // An ID token is not a logout token (no jti, no events claim).
    let doc = password_grant(&bcl, "alice", "alice-password", Some("openid"), None).ok();
    let err = decode_logout_token(&bcl, s(&doc, "id_token"), None).err(SOIDC_ERR_VALIDATION, "logout token");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("jti") || msg.contains("events"), "{msg}");
    decode_logout_token(&bcl, token, Some(r#"{"nonce":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "nonce");
}
