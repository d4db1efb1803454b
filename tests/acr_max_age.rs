//! `acr_values` / `max_age` on every flow that starts a login, checked on return, against
//! the real provider: the code flow (the start document carries both for the callback),
//! the device flow (RFC 8628 §3.1 with the OIDC parameters) and the password grant. The
//! test provider gives a login the first of the requested acr_values as its `acr`.

mod common;
#[path = "common/flows.rs"]
mod flows;

use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;

fn merged(base: &str, extra: Value) -> String {
    let mut o: Value = serde_json::from_str(base).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string()
}

#[test]
fn code_flow_start_carries_acr_values_and_max_age_for_the_callback() {
    let c = conf_client("conf-basic", None);
    let start_opts = json!({"acr_values": ["urn:acr:mfa", "urn:acr:pwd"], "max_age": 600}).to_string();
    let (start, redirect) = login_alice(&c, Some(&start_opts));
    assert_eq!(start["acr_values"], json!(["urn:acr:mfa", "urn:acr:pwd"]), "{start}");
    assert_eq!(start["max_age"], 600, "{start}");
    let url = s(&start, "url");
    assert_eq!(param(url, "acr_values").as_deref(), Some("urn:acr:mfa urn:acr:pwd"));
    assert_eq!(param(url, "max_age").as_deref(), Some("600"));
    // The callback gets them as they were kept: acr must be one requested, auth_time recent.
    let o = merged(&result_options(&start), json!({"max_age": start["max_age"], "acr_values_allowed": start["acr_values"]}));
    let doc = handle_result(&c, &redirect, Some(&o)).ok();
    assert_eq!(doc["id_token_claims"]["acr"], "urn:acr:mfa", "{doc}");
    assert!(doc["id_token_claims"]["auth_time"].is_i64(), "{doc}");

    // A login whose acr is not among those the callback allows is refused.
    let start_opts = json!({"acr_values": "urn:acr:pwd"}).to_string();
    let (start, redirect) = login_alice(&c, Some(&start_opts));
    assert_eq!(start["acr_values"], json!(["urn:acr:pwd"]));
    assert!(start.get("max_age").is_none(), "{start}");
    let o = merged(&result_options(&start), json!({"acr_values_allowed": ["urn:acr:mfa"]}));
    let err = handle_result(&c, &redirect, Some(&o)).err(SOIDC_ERR_VALIDATION, "acr");
    assert_eq!(err["reason"], "acr", "{err}");
}

#[test]
fn password_grant_acr_values_and_max_age() {
    let c = conf_client("conf-basic", None);
    // The test provider gives a password grant that asks for acr_values the acr urn:acr:pwd
    // (a password is one factor), whatever was asked.
    let o = json!({"acr_values": "urn:acr:pwd", "acr_values_allowed": ["urn:acr:pwd"], "max_age": 60}).to_string();
    let doc = password_grant(&c, "alice", "alice-password", Some("openid"), Some(&o)).ok();
    assert_eq!(doc["id_token_claims"]["acr"], "urn:acr:pwd", "{doc}");
    // Asking for mfa does not make a password login mfa: acr_values_allowed refuses it.
    let o = json!({"acr_values": ["urn:acr:pwd", "urn:acr:mfa"], "acr_values_allowed": ["urn:acr:mfa"]}).to_string();
    let out = password_grant(&c, "alice", "alice-password", Some("openid"), Some(&o));
    assert_eq!(out.err(SOIDC_ERR_VALIDATION, "acr")["reason"], "acr");
    assert_no_leak(&out, &["alice-password"]);
    // Without acr_values the provider sends no acr: acr_values_allowed refuses the token.
    let o = json!({"acr_values_allowed": ["urn:acr:mfa"]}).to_string();
    password_grant(&c, "alice", "alice-password", Some("openid"), Some(&o)).err(SOIDC_ERR_VALIDATION, "no acr claim");
    // Bad or inapplicable options are refused before anything is sent.
    password_grant(&c, "alice", "wrong", Some("openid"), Some(r#"{"acr_values_allowed": []}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "acr_values_allowed");
    password_grant(&c, "alice", "wrong", Some("openid"), Some(r#"{"acr_values": []}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "acr_values");
    password_grant(&c, "alice", "wrong", Some("openid"), Some(r#"{"max_age": -1}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "max_age");
    for o in [r#"{"acr_values": "x"}"#, r#"{"acr_values_allowed": ["x"]}"#, r#"{"max_age": 5}"#] {
        client_credentials(&c, None, Some(o)).err(SOIDC_ERR_INVALID_ARGUMENT, "client credentials");
    }
}

#[test]
fn device_flow_acr_values_and_max_age() {
    let c = conf_client("conf-basic", None);
    let o = json!({"acr_values": ["urn:acr:mfa"], "max_age": 300}).to_string();
    let start = device_start(&c, Some("openid"), Some(&o)).ok();
    assert_eq!(start["acr_values"], json!(["urn:acr:mfa"]), "{start}");
    assert_eq!(start["max_age"], 300, "{start}");
    device_decide(s(&start, "user_code"), "alice", true);
    let poll = json!({"acr_values_allowed": start["acr_values"], "max_age": start["max_age"]}).to_string();
    let doc = device_poll(&c, s(&start, "device_code"), Some(&poll)).ok();
    assert_eq!(doc["id_token_claims"]["acr"], "urn:acr:mfa", "{doc}");

    // An acr other than the one allowed.
    let start = device_start(&c, Some("openid"), Some(r#"{"acr_values": "urn:acr:pwd"}"#)).ok();
    device_decide(s(&start, "user_code"), "alice", true);
    let err = device_poll(&c, s(&start, "device_code"), Some(r#"{"acr_values_allowed": ["urn:acr:mfa"]}"#))
        .err(SOIDC_ERR_VALIDATION, "acr");
    assert_eq!(err["reason"], "acr");

    // A login older than max_age allows (no leeway): the user signed in, then the poll
    // came more than max_age seconds later.
    let strict = conf_client("conf-basic", Some(r#"{"leeway_s": 0}"#));
    let start = device_start(&strict, Some("openid"), Some(r#"{"max_age": 1}"#)).ok();
    device_decide(s(&start, "user_code"), "alice", true);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    device_poll(&strict, s(&start, "device_code"), Some(r#"{"max_age": 1}"#)).err(SOIDC_ERR_VALIDATION, "max_age");
    device_start(&c, Some("openid"), Some(r#"{"acr_values": []}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "acr_values");
}
