//! The authorization code flow (soidc_auth_code_start / _handle_result / _exchange)
//! against the real provider, driven by tests/provider/browser.mjs as a browser would.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::jwt;
use flows::*;
use serde_json::{json, Value};
use soidc::ffi::status::*;

fn sha256_b64(v: &str) -> String {
    jwt::b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, v.as_bytes()).as_ref())
}

/// Checks the claims of alice's ID token from a code flow.
#[track_caller]
fn assert_alice(doc: &Value, client_id: &str, nonce: Option<&str>) {
    let claims = &doc["id_token_claims"];
    assert_eq!(claims["sub"], "alice", "{doc}");
    assert_eq!(claims["aud"], client_id, "{doc}");
    assert_eq!(claims["iss"], common::provider::issuer(), "{doc}");
    match nonce {
        Some(n) => assert_eq!(claims["nonce"], n, "{doc}"),
        None => assert!(claims.get("nonce").is_none(), "{doc}"),
    }
    assert!(claims["auth_time"].is_i64(), "{doc}");
    assert!(s(doc, "access_token").len() > 10);
    assert!(s(doc, "token_type").eq_ignore_ascii_case("bearer"));
    // The raw ID token is handed back, and its payload is what id_token_claims shows.
    assert_eq!(jwt::payload(s(doc, "id_token")), *claims);
}

#[test]
fn public_pkce_client_full_flow_then_code_replay_fails() {
    let c = keyless_client("public-pkce", None);
    let start = auth_code_start(&c, None).ok();
    let url = s(&start, "url");
    // The URL goes to the provider's authorization endpoint with everything PKCE needs.
    let config: Value = serde_json::from_str(c.provider_config().doc.as_deref().unwrap()).unwrap();
    assert_eq!(base(url), s(&config, "authorization_endpoint"));
    assert_eq!(param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(url, "client_id").as_deref(), Some("public-pkce"));
    assert_eq!(param(url, "redirect_uri").as_deref(), Some(CALLBACK));
    assert_eq!(param(url, "scope").as_deref(), Some("openid"));
    assert_eq!(param(url, "state").as_deref(), Some(s(&start, "state")));
    assert_eq!(param(url, "nonce").as_deref(), Some(s(&start, "nonce")));
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param(url, "code_challenge"), Some(sha256_b64(s(&start, "code_verifier"))));
    for k in ["state", "nonce", "code_verifier"] {
        assert_eq!(s(&start, k).len(), 43, "{k}: {start}");
    }
    assert_eq!(start["redirect_uri"], CALLBACK);

    let redirect = browser_alice(url);
    assert_eq!(base(&redirect), CALLBACK);
    let code = param(&redirect, "code").expect("a code in the redirect");
    let options = result_options(&start);
    let doc = handle_result(&c, &redirect, Some(&options)).ok();
    assert_alice(&doc, "public-pkce", Some(s(&start, "nonce")));

    // The same redirect again: the provider refuses the used code.
    let replay = handle_result(&c, &redirect, Some(&options));
    let err = replay.err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(err["http_status"], 400);
    assert_no_leak(&replay, &[&code, s(&start, "code_verifier")]);
}

#[test]
fn confidential_client_full_flow_and_userinfo_of_the_same_user() {
    let c = conf_client_scope("conf-basic", Some("openid email"), None);
    let (start, redirect) = login_alice(&c, None);
    assert_eq!(param(s(&start, "url"), "scope").as_deref(), Some("openid email"));
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    assert_eq!(doc["id_token_claims"]["email"], "alice@example.test");
    let info = userinfo(&c, s(&doc, "access_token"), Some(r#"{"expected_sub":"alice"}"#)).ok();
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["email"], "alice@example.test");
}

/// The checks before the code exchange: each failure leaves the code unused, so the
/// genuine redirect still succeeds at the end.
#[test]
fn redirect_checks_fail_before_the_exchange() {
    let c = conf_client("conf-basic", None);
    let (start, redirect) = login_alice(&c, None);
    let code = param(&redirect, "code").expect("a code");
    let options = result_options(&start);
    let issuer = common::provider::issuer();
    assert_eq!(param(&redirect, "iss").as_deref(), Some(issuer));

    // wrong state
    let wrong_state = json!({"state": "not-the-state", "nonce": start["nonce"], "code_verifier": start["code_verifier"]});
    let o = handle_result(&c, &redirect, Some(&wrong_state.to_string()));
    let msg = o.err(SOIDC_ERR_VALIDATION, "state")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("not-the-state"), "{msg}");
    assert_no_leak(&o, &[&code]);

    // a response state but none in the options: refused, not skipped
    let no_state = json!({"nonce": start["nonce"], "code_verifier": start["code_verifier"]});
    let o = handle_result(&c, &redirect, Some(&no_state.to_string()));
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "state");
    assert_no_leak(&o, &[&code]);

    // the state removed from the response while one is expected
    let stateless = with_query(&redirect, |q| q.retain(|(k, _)| k != "state"));
    let o = handle_result(&c, &stateless, Some(&options));
    o.err(SOIDC_ERR_VALIDATION, "state");
    assert_no_leak(&o, &[&code]);

    // iss of another issuer (RFC 9207 mix-up defence)
    let other_iss = with_query(&redirect, |q| {
        for (k, v) in q.iter_mut() {
            if k == "iss" {
                *v = "http://127.0.0.1:1/evil".into();
            }
        }
    });
    assert_eq!(param(&other_iss, "iss").as_deref(), Some("http://127.0.0.1:1/evil"));
    let o = handle_result(&c, &other_iss, Some(&options));
    let msg = o.err(SOIDC_ERR_VALIDATION, "RFC 9207")["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("http://127.0.0.1:1/evil") && msg.contains(issuer), "{msg}");
    assert_no_leak(&o, &[&code]);

    // iss with only a trailing slash added: exact comparison
    let slash_iss = with_query(&redirect, |q| {
        for (k, v) in q.iter_mut() {
            if k == "iss" {
                v.push('/');
            }
        }
    });
    handle_result(&c, &slash_iss, Some(&options)).err(SOIDC_ERR_VALIDATION, "RFC 9207");

    // iss missing although the provider advertises authorization_response_iss_parameter_supported
    let config: Value = serde_json::from_str(c.provider_config().doc.as_deref().unwrap()).unwrap();
    assert_eq!(config["authorization_response_iss_parameter_supported"], true);
    let no_iss = with_query(&redirect, |q| q.retain(|(k, _)| k != "iss"));
    assert_eq!(param(&no_iss, "iss"), None);
    let o = handle_result(&c, &no_iss, Some(&options));
    o.err(SOIDC_ERR_VALIDATION, "authorization_response_iss_parameter_supported");
    assert_no_leak(&o, &[&code]);

    // a repeated parameter
    let repeated = with_query(&redirect, |q| q.push(("state".into(), s(&start, "state").into())));
    let o = handle_result(&c, &repeated, Some(&options));
    o.err(SOIDC_ERR_VALIDATION, "repeats");
    assert_no_leak(&o, &[&code]);

    // an unknown option
    let typo = json!({"state": start["state"], "nonce": start["nonce"], "code_verifer": start["code_verifier"]});
    handle_result(&c, &redirect, Some(&typo.to_string())).err(SOIDC_ERR_INVALID_ARGUMENT, "code_verifer");

    // After all that, the genuine redirect works: nothing above used the code.
    let doc = handle_result(&c, &redirect, Some(&options)).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}

#[test]
fn provider_error_access_denied_is_authentication_failed() {
    let c = conf_client("conf-basic", None);
    let start = auth_code_start(&c, None).ok();
    let redirect = browser(&["--deny"], s(&start, "url"), "alice", "alice-password")
        .unwrap_or_else(|e| panic!("browser.mjs --deny failed: {e}"));
    assert_eq!(base(&redirect), CALLBACK);
    assert_eq!(param(&redirect, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&redirect, "code"), None);
    let o = handle_result(&c, &redirect, Some(&result_options(&start)));
    let err = o.err(SOIDC_ERR_AUTHENTICATION_FAILED, "access_denied");
    assert_eq!(err["error"], "access_denied");
    assert_eq!(
        err["error_description"].as_str(),
        param(&redirect, "error_description").as_deref(),
        "{err}"
    );
    // The error check comes after the iss check: a forged iss on an error is still a mix-up.
    let forged = with_query(&redirect, |q| {
        for (k, v) in q.iter_mut() {
            if k == "iss" {
                *v = "https://evil.example".into();
            }
        }
    });
    handle_result(&c, &forged, Some(&result_options(&start))).err(SOIDC_ERR_VALIDATION, "RFC 9207");
}

#[test]
fn redirect_uri_auto_is_the_current_url_without_query() {
    // A client without a default redirect URI: the start options give it, and
    // handle_result derives it from the current URL.
    let secret = common::provider::client_secret("conf-basic");
    let c = common::ffi::client(
        common::provider::issuer(),
        common::ffi::Params { client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() },
    );
    auth_code_start(&c, None).err(SOIDC_ERR_INVALID_ARGUMENT, "redirect_uri");
    let (start, redirect) = login_alice(&c, Some(&json!({"redirect_uri": CALLBACK}).to_string()));
    assert_eq!(start["redirect_uri"], CALLBACK);
    let mut options: Value = serde_json::from_str(&result_options(&start)).unwrap();
    // Without a redirect_uri anywhere, the call fails before the exchange ...
    let o = handle_result(&c, &redirect, Some(&options.to_string()));
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "redirect_uri");
    // ... and with "auto" it succeeds.
    options["redirect_uri"] = json!("auto");
    let doc = handle_result(&c, &redirect, Some(&options.to_string())).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}

#[test]
fn response_mode_fragment() {
    let c = conf_client("conf-basic", None);
    let (start, redirect) = login_alice(&c, Some(r#"{"response_mode":"fragment"}"#));
    let u = url::Url::parse(&redirect).unwrap();
    assert!(u.query().is_none(), "{redirect}");
    assert!(u.fragment().is_some_and(|f| f.contains("code=")), "{redirect}");
    let mut options: Value = serde_json::from_str(&result_options(&start)).unwrap();
    options["redirect_uri"] = json!("auto");
    let doc = handle_result(&c, &redirect, Some(&options.to_string())).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}

#[test]
fn redirect_uri_mismatch_at_exchange_is_a_provider_error() {
    let c = conf_client("conf-basic", None);
    let (start, redirect) = login_alice(&c, None);
    let mut options: Value = serde_json::from_str(&result_options(&start)).unwrap();
    options["redirect_uri"] = json!("http://127.0.0.1:9/other");
    let o = handle_result(&c, &redirect, Some(&options.to_string()));
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
}

#[test]
fn pkce_verifier_mismatch_is_a_provider_error() {
    let c = keyless_client("public-pkce", None);
    let (start, redirect) = login_alice(&c, None);
    let code = param(&redirect, "code").expect("a code");
    let other_verifier = "A".repeat(43);
    let options = json!({"state": start["state"], "nonce": start["nonce"], "code_verifier": other_verifier});
    let o = handle_result(&c, &redirect, Some(&options.to_string()));
    let err = o.err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(err["error"], "invalid_grant");
    assert_no_leak(&o, &[&code, &other_verifier, s(&start, "code_verifier")]);
}

#[test]
fn pkce_verifier_missing_for_a_public_client_is_a_provider_error() {
    let c = keyless_client("public-pkce", None);
    let (start, redirect) = login_alice(&c, None);
    let options = json!({"state": start["state"], "nonce": start["nonce"]});
    let err = handle_result(&c, &redirect, Some(&options.to_string())).err(SOIDC_ERR_PROVIDER, "");
    assert!(err["error"] == "invalid_grant" || err["error"] == "invalid_request", "{err}");
}

#[test]
fn nonce_mismatch_fails_validation() {
    let c = conf_client("conf-basic", None);
    let (start, redirect) = login_alice(&c, None);
    let options = json!({"state": start["state"], "nonce": "another-nonce", "code_verifier": start["code_verifier"]});
    let o = handle_result(&c, &redirect, Some(&options.to_string()));
    o.err(SOIDC_ERR_VALIDATION, "nonce");
    assert_no_leak(&o, &[&param(&redirect, "code").unwrap()]);
}

#[test]
fn id_token_nonce_without_expected_nonce_is_refused() {
    let c = conf_client("conf-basic", None);
    let (start, redirect) = login_alice(&c, None);
    let options = json!({"state": start["state"], "code_verifier": start["code_verifier"]});
    // The ID token check refuses it (the same rule as soidc_auth_code_exchange and
    // soidc_decode_id_token), with a reason a caller can act on.
    let doc = handle_result(&c, &redirect, Some(&options.to_string())).err(SOIDC_ERR_VALIDATION, "nonce");
    assert_eq!(doc["reason"], "nonce", "{doc}");

    // soidc_auth_code_exchange applies the same rule.
    let (start, redirect) = login_alice(&c, None);
    let code = param(&redirect, "code").expect("a code");
    let options = json!({"redirect_uri": CALLBACK, "code_verifier": start["code_verifier"]});
    let doc = code_exchange(&c, &code, Some(&options.to_string())).err(SOIDC_ERR_VALIDATION, "nonce");
    assert_eq!(doc["reason"], "nonce", "{doc}");
}

#[test]
fn code_exchange_directly() {
    let c = keyless_client("public-pkce", None);
    let (start, redirect) = login_alice(&c, None);
    let code = param(&redirect, "code").expect("a code");
    let options = json!({
        "redirect_uri": CALLBACK,
        "code_verifier": start["code_verifier"],
        "nonce": start["nonce"],
    });
    let doc = code_exchange(&c, &code, Some(&options.to_string())).ok();
    assert_alice(&doc, "public-pkce", Some(s(&start, "nonce")));

    // The code is used now.
    let o = code_exchange(&c, &code, Some(&options.to_string()));
    assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
    assert_no_leak(&o, &[&code]);
}

#[test]
fn code_exchange_failures() {
    let c = conf_client("conf-basic", None);
    // A code the provider never issued.
    let bogus = "bogus-code-0123456789-abcdefghijklmnop";
    let o = code_exchange(&c, bogus, None);
    let err = o.err(SOIDC_ERR_PROVIDER, "invalid_grant");
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(err["http_status"], 400);
    assert_no_leak(&o, &[bogus]);
    // Bad options never reach the network.
    code_exchange(&c, bogus, Some(r#"{"state":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "state");
    code_exchange(&c, bogus, Some("{")).err(SOIDC_ERR_INVALID_ARGUMENT, "");
    // A real code with the wrong nonce expectation.
    let (start, redirect) = login_alice(&c, None);
    let code = param(&redirect, "code").unwrap();
    let options = json!({"code_verifier": start["code_verifier"], "nonce": "not-it"});
    let o = code_exchange(&c, &code, Some(&options.to_string()));
    o.err(SOIDC_ERR_VALIDATION, "nonce");
    assert_no_leak(&o, &[&code]);
}

#[test]
fn list_valued_options_and_extra_params_in_the_url() {
    let c = conf_client("conf-basic", None);
    let options = json!({
        "scope": "openid offline_access",
        "prompt": ["login", "consent"],
        "acr_values": ["urn:acr:one", "urn:acr:two"],
        "ui_locales": ["de-CH", "en"],
        "max_age": 600,
        "login_hint": "alice@example.test",
        "extra_params": {"x_number": 7, "x_flag": true},
    });
    let start = auth_code_start(&c, Some(&options.to_string())).ok();
    let url = s(&start, "url").to_owned();
    assert_eq!(param(&url, "prompt").as_deref(), Some("login consent"));
    assert_eq!(param(&url, "acr_values").as_deref(), Some("urn:acr:one urn:acr:two"));
    assert_eq!(param(&url, "ui_locales").as_deref(), Some("de-CH en"));
    assert_eq!(param(&url, "max_age").as_deref(), Some("600"));
    assert_eq!(param(&url, "login_hint").as_deref(), Some("alice@example.test"));
    assert_eq!(param(&url, "scope").as_deref(), Some("openid offline_access"));
    assert_eq!(param(&url, "x_number").as_deref(), Some("7"));
    assert_eq!(param(&url, "x_flag").as_deref(), Some("true"));
    // Spaces are encoded, never sent raw.
    assert!(!url.contains(' '), "{url}");

    // The provider accepts the URL; prompt=consent grants offline_access, so the flow
    // yields a refresh token, and a refresh keeps the ID token's identity (OIDC Core 12.2).
    let redirect = browser_alice(&url);
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    let original = s(&doc, "id_token");
    let rt = s(&doc, "refresh_token");
    let refreshed = refresh(&c, rt, Some(&json!({"id_token": original}).to_string())).ok();
    let (old, new) = (&doc["id_token_claims"], &refreshed["id_token_claims"]);
    for k in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(old[k], new[k], "{k}: {old} vs {new}");
    }
}

#[test]
fn resource_extra_params_arrays_and_string_values() {
    let c = conf_client("conf-basic", None);
    let options = json!({
        "prompt": "none",
        "ui_locales": "fr",
        "resource": ["https://a.example", "https://b.example"],
        "response_mode": "query",
        "extra_params": {"claims_locales": ["fr", "en"], "x_single": "a b&c"},
    });
    let start = auth_code_start(&c, Some(&options.to_string())).ok();
    let url = s(&start, "url");
    assert_eq!(param(url, "prompt").as_deref(), Some("none"));
    assert_eq!(param(url, "ui_locales").as_deref(), Some("fr"));
    assert_eq!(param(url, "response_mode").as_deref(), Some("query"));
    assert_eq!(params(url, "resource"), vec!["https://a.example", "https://b.example"]);
    // extra_params: an array becomes a repeated parameter, a string one parameter.
    assert_eq!(params(url, "claims_locales"), vec!["fr", "en"]);
    assert_eq!(param(url, "x_single").as_deref(), Some("a b&c"));
}

#[test]
fn state_nonce_and_pkce_can_be_switched_off() {
    let c = conf_client("conf-basic", None);
    let options = json!({"state": false, "nonce": false, "pkce": false});
    let start = auth_code_start(&c, Some(&options.to_string())).ok();
    let url = s(&start, "url");
    for k in ["state", "nonce", "code_challenge", "code_challenge_method"] {
        assert_eq!(param(url, k), None, "{k} in {url}");
    }
    assert!(start["state"].is_null() && start["nonce"].is_null() && start["code_verifier"].is_null(), "{start}");

    // The flow works without them (the confidential client needs no PKCE at this provider).
    let redirect = browser_alice(url);
    assert_eq!(param(&redirect, "state"), None);
    let doc = handle_result(&c, &redirect, None).ok();
    assert_alice(&doc, "conf-basic", None);
}

#[test]
fn given_values_are_used_verbatim() {
    let c = conf_client("conf-basic", None);
    let verifier = "v".repeat(43);
    let options = json!({"state": "my-state", "nonce": "my-nonce", "code_verifier": verifier});
    let start = auth_code_start(&c, Some(&options.to_string())).ok();
    assert_eq!(start["state"], "my-state");
    assert_eq!(start["nonce"], "my-nonce");
    assert_eq!(start["code_verifier"], verifier);
    let url = s(&start, "url");
    assert_eq!(param(url, "state").as_deref(), Some("my-state"));
    assert_eq!(param(url, "nonce").as_deref(), Some("my-nonce"));
    assert_eq!(param(url, "code_challenge"), Some(sha256_b64(&verifier)));
    // 128 characters are the maximum and still fine.
    let long = json!({"code_verifier": "x".repeat(128)}).to_string();
    auth_code_start(&c, Some(&long)).ok();
    // Two starts never share generated values.
    let a = auth_code_start(&c, None).ok();
    let b = auth_code_start(&c, None).ok();
    for k in ["state", "nonce", "code_verifier"] {
        assert_ne!(a[k], b[k], "{k}");
    }
}

#[test]
fn start_rejects_bad_options() {
    let c = conf_client("conf-basic", None);
    let bad = [
        json!({"code_verifier": "a".repeat(42)}),
        json!({"code_verifier": "a".repeat(129)}),
        json!({"code_verifier": format!("{}!", "a".repeat(42))}),
        json!({"pkce": false, "code_verifier": "a".repeat(43)}),
        json!({"state": ""}),
        json!({"nonce": ""}),
        json!({"prompt": 1}),
        json!({"promt": "login"}),
        json!({"extra_params": {"code_challenge": "x"}}),
        json!({"extra_params": {"state": "x"}}),
        json!({"extra_params": {"nested": {"a": 1}}}),
    ];
    for options in bad {
        let o = auth_code_start(&c, Some(&options.to_string()));
        assert_eq!(o.status, SOIDC_ERR_INVALID_ARGUMENT, "{options}: {:?}", o.doc);
        o.err(SOIDC_ERR_INVALID_ARGUMENT, "");
    }
    let o = auth_code_start(&c, Some(&json!({"code_verifier": "a".repeat(42)}).to_string()));
    o.err(SOIDC_ERR_INVALID_ARGUMENT, "code_verifier");
}

// ---------------------------------------------------------------------------------------
// Pushed authorization requests (RFC 9126)
// ---------------------------------------------------------------------------------------

/// The requests the provider saw at its pushed authorization request endpoint.
fn par_requests() -> Vec<Value> {
    endpoint_requests().into_iter().filter(|r| r["path"] == "/request").collect()
}

/// Checks a PAR start document: the URL holds only client_id and request_uri.
#[track_caller]
fn assert_pushed(start: &Value, client_id: &str) {
    let url = s(start, "url");
    let names: Vec<String> = query(url).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    assert_eq!(param(url, "client_id").as_deref(), Some(client_id));
    assert!(param(url, "request_uri").unwrap().starts_with("urn:ietf:params:oauth:request_uri:"), "{url}");
    let exp = start["expires_in"].as_u64().expect("expires_in");
    assert!(exp > 0 && exp <= 600, "{start}");
    for k in ["state", "nonce", "code_verifier"] {
        assert!(!url.contains(s(start, k)), "{k} must not travel through the browser: {url}");
    }
}

#[test]
fn par_with_each_client_authentication_method_end_to_end() {
    let _lock = requests_lock();
    let cases = [
        (conf_client("conf-basic", Some(r#"{"auth_method":"client_secret_basic"}"#)), "conf-basic", "basic"),
        (conf_client("conf-post", Some(r#"{"auth_method":"client_secret_post"}"#)), "conf-post", "post"),
        (conf_client("conf-jwt", Some(r#"{"auth_method":"client_secret_jwt"}"#)), "conf-jwt", "client_secret_jwt"),
        (keyless_client("conf-pkjwt", Some(&pkjwt_options("client-rs256", "client-rs256"))), "conf-pkjwt", "private_key_jwt"),
        (keyless_client("conf-pkjwt", Some(&pkjwt_options("client-es256", "client-es256"))), "conf-pkjwt", "private_key_jwt"),
        (keyless_client("public-pkce", None), "public-pkce", "none"),
    ];
    for (c, id, method) in &cases {
        requests_reset();
        let (start, redirect) = login_alice(c, Some(r#"{"par":true,"scope":"openid email","timeout_ms":10000}"#));
        assert_pushed(&start, id);
        let seen = par_requests();
        assert_eq!(seen.len(), 1, "{id}: {seen:?}");
        assert_eq!(seen[0]["auth_method"], *method, "{id}: {seen:?}");
        assert_eq!(seen[0]["status"], 201, "{id}: {seen:?}");
        let params: Vec<&str> = seen[0]["params"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        for p in ["code_challenge", "code_challenge_method", "nonce", "redirect_uri", "response_type", "scope", "state"] {
            assert!(params.contains(&p), "{id}: {p} was not pushed: {params:?}");
        }
        assert_eq!(base(&redirect), CALLBACK);
        let doc = handle_result(c, &redirect, Some(&result_options(&start))).ok();
        assert_alice(&doc, id, Some(s(&start, "nonce")));
        assert_eq!(doc["id_token_claims"]["email"], "alice@example.test", "the pushed scope was used");
    }
}

#[test]
fn par_required_by_the_client_registration() {
    // The client option require_par makes "auto" push.
    let c = conf_client("par-required", Some(r#"{"require_par":true}"#));
    let (start, redirect) = login_alice(&c, None);
    assert_pushed(&start, "par-required");
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "par-required", Some(s(&start, "nonce")));

    // Without PAR the provider refuses the plain request.
    let c = conf_client("par-required", None);
    for options in [None, Some(r#"{"par":false}"#), Some(r#"{"par":"auto"}"#)] {
        let start = auth_code_start(&c, options).ok();
        assert!(param(s(&start, "url"), "request_uri").is_none());
        assert!(start.get("expires_in").is_none(), "{start}");
        let redirect = browser_alice(s(&start, "url"));
        let o = handle_result(&c, &redirect, Some(&result_options(&start)));
        let e = o.err(SOIDC_ERR_AUTHENTICATION_FAILED, "");
        assert_eq!(e["error"], "invalid_request", "{e}");
        assert!(e["error_description"].as_str().unwrap().contains("Pushed Authorization Request"), "{e}");
    }
    // An explicit par:false wins over the client option.
    let c = conf_client("par-required", Some(r#"{"require_par":true}"#));
    let start = auth_code_start(&c, Some(r#"{"par":false}"#)).ok();
    assert!(param(s(&start, "url"), "request_uri").is_none());
}

#[test]
fn par_request_uri_is_single_use() {
    let c = conf_client("conf-basic", None);
    let (start, redirect) = login_alice(&c, Some(r#"{"par":true}"#));
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    // The same URL again: the provider no longer knows the request_uri, and answers
    // with an error that carries no state (the request it belonged to is gone).
    let again = browser_alice(s(&start, "url"));
    assert_eq!(param(&again, "error").as_deref(), Some("invalid_request_uri"), "{again}");
    assert!(param(&again, "code").is_none(), "{again}");
    handle_result(&c, &again, Some(&result_options(&start))).err(SOIDC_ERR_VALIDATION, "state");
    let e = handle_result(&c, &again, None).err(SOIDC_ERR_AUTHENTICATION_FAILED, "invalid_request_uri");
    assert_eq!(e["error"], "invalid_request_uri", "{e}");
}

#[test]
fn par_error_responses() {
    // An unregistered redirect_uri: the provider refuses the push.
    let c = conf_client("conf-basic", None);
    let o = auth_code_start(&c, Some(r#"{"par":true,"redirect_uri":"http://127.0.0.1:9/elsewhere"}"#));
    let e = o.err(SOIDC_ERR_PROVIDER, "pushed authorization request endpoint");
    assert_eq!(e["error"], "invalid_request", "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("redirect_uri"), "{e}");
    assert_eq!(e["http_status"], 400, "{e}");
    // A wrong secret: invalid_client, and the secret is not in the error.
    let secret = "not-the-secret-0123456789";
    let bad = ffi_client_with_secret("conf-basic", secret);
    let o = auth_code_start(&bad, Some(r#"{"par":true}"#));
    let e = o.err(SOIDC_ERR_PROVIDER, "invalid_client");
    assert_eq!(e["http_status"], 401, "{e}");
    assert_no_leak(&o, &[secret]);
    // A provider without the endpoint: par true is unsupported, auto does not push.
    let mut config: Value = serde_json::from_str(c.provider_config().doc.as_deref().unwrap()).unwrap();
    config.as_object_mut().unwrap().remove("pushed_authorization_request_endpoint");
    let secret = common::provider::client_secret("conf-basic");
    let (out, without) = common::ffi::from_issuer_config(
        &config.to_string(),
        common::ffi::Params { redirect_uri: Some(CALLBACK), client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() },
    );
    let without = without.unwrap_or_else(|| panic!("{:?}", out.doc));
    auth_code_start(&without, Some(r#"{"par":true}"#)).err(SOIDC_ERR_UNSUPPORTED_BY_PROVIDER, "pushed_authorization_request_endpoint");
    let start = auth_code_start(&without, None).ok();
    assert!(param(s(&start, "url"), "request_uri").is_none());
    // Metadata that requires PAR makes "auto" push (and the flow completes).
    let mut config: Value = serde_json::from_str(c.provider_config().doc.as_deref().unwrap()).unwrap();
    config["require_pushed_authorization_requests"] = json!(true);
    let (out, strict) = common::ffi::from_issuer_config(
        &config.to_string(),
        common::ffi::Params { redirect_uri: Some(CALLBACK), client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() },
    );
    let strict = strict.unwrap_or_else(|| panic!("{:?}", out.doc));
    let (start, redirect) = login_alice(&strict, None);
    assert_pushed(&start, "conf-basic");
    let doc = handle_result(&strict, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    // ... unless the call says par: false.
    let start = auth_code_start(&strict, Some(r#"{"par":false}"#)).ok();
    assert!(param(s(&start, "url"), "request_uri").is_none());
}

#[test]
fn par_bad_options() {
    let c = conf_client("conf-basic", None);
    for bad in [r#"{"par":"yes"}"#, r#"{"par":0}"#, r#"{"par":null}"#, r#"{"par":"Auto"}"#, r#"{"par":{}}"#] {
        auth_code_start(&c, Some(bad)).err(SOIDC_ERR_INVALID_ARGUMENT, "par");
    }
    for reserved in ["request_uri", "request", "code_challenge"] {
        let o = json!({"par": true, "extra_params": {reserved: "x"}}).to_string();
        auth_code_start(&c, Some(&o)).err(SOIDC_ERR_INVALID_ARGUMENT, reserved);
    }
    auth_code_start(&c, Some(r#"{"par":true,"timeout_ms":0}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "timeout_ms");
    let (out, none) = common::ffi::from_issuer_url(
        common::provider::issuer(),
        common::ffi::Params { client_id: "conf-basic", options: Some(r#"{"require_par":"yes"}"#), ..Default::default() },
    );
    assert!(none.is_none());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "require_par");
}

fn ffi_client_with_secret(client_id: &str, secret: &str) -> common::ffi::FfiClient {
    common::ffi::client(
        common::provider::issuer(),
        common::ffi::Params { redirect_uri: Some(CALLBACK), client_id, client_secret: Some(secret), ..Default::default() },
    )
}

// ---------------------------------------------------------------------------------------
// Signed request objects (RFC 9101)
// ---------------------------------------------------------------------------------------

/// Checks a request object: header, the RFC 9101 claims, and the parameters in it.
#[track_caller]
fn assert_request_object(jwt: &str, start: &Value, client_id: &str, alg: &str, kid: Option<&str>) {
    let h = jwt::header_of(jwt);
    assert_eq!(h["alg"], alg, "{h}");
    assert_eq!(h["typ"], "oauth-authz-req+jwt", "{h}");
    assert_eq!(h.get("kid").and_then(Value::as_str), kid, "{h}");
    let p = jwt::payload(jwt);
    assert_eq!(p["iss"], client_id, "{p}");
    assert_eq!(p["aud"], common::provider::issuer(), "{p}");
    assert_eq!(p["client_id"], client_id, "{p}");
    let iat = p["iat"].as_i64().unwrap();
    assert_eq!(p["nbf"], iat, "{p}");
    assert_eq!(p["exp"].as_i64().unwrap() - iat, 300, "{p}");
    assert!(s(&p, "jti").len() >= 32, "{p}");
    for k in ["state", "nonce"] {
        assert_eq!(p[k], start[k], "{p}");
    }
    assert_eq!(p["code_challenge"], sha256_b64(s(start, "code_verifier")), "{p}");
    assert_eq!(p["redirect_uri"], CALLBACK, "{p}");
    assert_eq!(p["response_type"], "code", "{p}");
}

#[test]
fn signed_request_objects_per_algorithm_with_and_without_par() {
    let _lock = requests_lock();
    // (key file, kid, request_object_alg, expected alg)
    let cases = [
        ("client-rs256", "client-rs256", None, "RS256"),
        ("client-rs256", "client-rs256-any", Some("PS256"), "PS256"),
        ("client-es256", "client-es256", None, "ES256"),
        ("client-ed25519", "client-ed25519", None, "EdDSA"),
    ];
    for (key, kid, wanted, alg) in cases {
        let c = keyless_client("jar-pkjwt", Some(&pkjwt_options(key, kid)));
        for par in [false, true] {
            requests_reset();
            let mut o = json!({"request_object": "signed", "par": par, "scope": "openid email", "max_age": 600});
            if let Some(w) = wanted {
                o["request_object_alg"] = json!(w);
            }
            let (start, redirect) = login_alice(&c, Some(&o.to_string()));
            let url = s(&start, "url");
            if par {
                assert_pushed(&start, "jar-pkjwt");
                let seen = par_requests();
                assert_eq!(seen.len(), 1, "{seen:?}");
                let names: Vec<&str> = seen[0]["params"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
                assert!(names.contains(&"request"), "{names:?}");
                assert!(!names.contains(&"state") && !names.contains(&"nonce"), "only in the request object: {names:?}");
                assert_eq!(seen[0]["auth_method"], "private_key_jwt");
            } else {
                let names: Vec<String> = query(url).into_iter().map(|(k, _)| k).collect();
                assert_eq!(names, ["response_type", "client_id", "scope", "request"], "{url}");
                let jwt = param(url, "request").unwrap();
                assert_request_object(&jwt, &start, "jar-pkjwt", alg, Some(kid));
                assert_eq!(jwt::payload(&jwt)["max_age"], 600);
            }
            let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
            assert_alice(&doc, "jar-pkjwt", Some(s(&start, "nonce")));
            assert_eq!(doc["id_token_claims"]["email"], "alice@example.test", "{alg} par {par}: the scope in the JWT was used");
        }
    }
}

#[test]
fn signed_request_object_hs256_with_the_client_secret() {
    let c = conf_client("conf-basic", None);
    for par in [false, true] {
        let o = json!({"request_object": "signed", "par": par}).to_string();
        let (start, redirect) = login_alice(&c, Some(&o));
        if par {
            assert_pushed(&start, "conf-basic");
        } else {
            let jwt = param(s(&start, "url"), "request").unwrap();
            assert_request_object(&jwt, &start, "conf-basic", "HS256", None);
        }
        let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
        assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    }
}

#[test]
fn signed_request_object_required() {
    // The client is registered with require_signed_request_object: plain is refused.
    let c = keyless_client("jar-pkjwt", Some(&pkjwt_options("client-es256", "client-es256")));
    let start = auth_code_start(&c, Some(r#"{"request_object":"plain"}"#)).ok();
    assert!(param(s(&start, "url"), "request").is_none());
    let redirect = browser_alice(s(&start, "url"));
    let e = handle_result(&c, &redirect, Some(&result_options(&start))).err(SOIDC_ERR_AUTHENTICATION_FAILED, "");
    assert_eq!(e["error"], "invalid_request", "{e}");

    // Metadata that says require_signed_request_object makes signing the default.
    let plain = conf_client("conf-basic", None);
    let mut config: Value = serde_json::from_str(plain.provider_config().doc.as_deref().unwrap()).unwrap();
    config["require_signed_request_object"] = json!(true);
    let secret = common::provider::client_secret("conf-basic");
    let (out, strict) = common::ffi::from_issuer_config(
        &config.to_string(),
        common::ffi::Params { redirect_uri: Some(CALLBACK), client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() },
    );
    let strict = strict.unwrap_or_else(|| panic!("{:?}", out.doc));
    let (start, redirect) = login_alice(&strict, None);
    assert!(param(s(&start, "url"), "request").is_some(), "{start}");
    let doc = handle_result(&strict, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    let start = auth_code_start(&strict, Some(r#"{"request_object":"plain"}"#)).ok();
    assert!(param(s(&start, "url"), "request").is_none());

    // A provider that does not advertise HS256: a client with only a secret cannot sign.
    config["request_object_signing_alg_values_supported"] = json!(["RS256", "ES256"]);
    let (out, no_hs) = common::ffi::from_issuer_config(
        &config.to_string(),
        common::ffi::Params { redirect_uri: Some(CALLBACK), client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() },
    );
    let no_hs = no_hs.unwrap_or_else(|| panic!("{:?}", out.doc));
    auth_code_start(&no_hs, None).err(SOIDC_ERR_UNSUPPORTED_BY_PROVIDER, "HS256");
}

#[test]
fn signed_request_object_bad_options() {
    let conf = conf_client("conf-basic", None);
    for bad in [r#"{"request_object":"yes"}"#, r#"{"request_object":true}"#, r#"{"request_object":null}"#, r#"{"request_object":"Signed"}"#] {
        auth_code_start(&conf, Some(bad)).err(SOIDC_ERR_INVALID_ARGUMENT, "request_object");
    }
    auth_code_start(&conf, Some(r#"{"request_object_alg":"HS256"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "request_object_alg");
    auth_code_start(&conf, Some(r#"{"request_object":"signed","request_object_alg":"RS256"}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "request_object_alg");
    let es = keyless_client("jar-pkjwt", Some(&pkjwt_options("client-es256", "client-es256")));
    for alg in ["RS256", "none", "HS256", ""] {
        let o = json!({"request_object": "signed", "request_object_alg": alg}).to_string();
        auth_code_start(&es, Some(&o)).err(SOIDC_ERR_INVALID_ARGUMENT, "request_object_alg");
    }
    let public = keyless_client("public-pkce", None);
    auth_code_start(&public, Some(r#"{"request_object":"signed"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "private key");
}

#[test]
fn request_object_signed_by_another_key_is_refused_by_the_provider() {
    // The provider verifies the signature: a key the client did not register (under a
    // registered kid), and PS256 with a key registered for RS256 only, are refused.
    let cases = [
        keyless_client("jar-pkjwt", Some(&pkjwt_options("stub-rs256", "client-rs256"))),
        keyless_client("jar-pkjwt", Some(&pkjwt_options("client-rs256", "client-rs256"))),
    ];
    for (i, c) in cases.iter().enumerate() {
        let o = if i == 0 { r#"{"request_object":"signed"}"# } else { r#"{"request_object":"signed","request_object_alg":"PS256"}"# };
        let start = auth_code_start(c, Some(o)).ok();
        match browser(&[], s(&start, "url"), "alice", "alice-password") {
            Err(e) => assert!(e.contains("invalid_request_object"), "{e}"),
            Ok(url) => {
                assert_eq!(param(&url, "error").as_deref(), Some("invalid_request_object"), "{url}");
                assert!(param(&url, "code").is_none(), "{url}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// JWT-secured authorization responses (JARM) and form_post
// ---------------------------------------------------------------------------------------

const FORM: &str = "application/x-www-form-urlencoded";

/// Logs alice in with `response_mode`; returns the start document and the POST that the
/// browser would send to the redirect URI (action URL, body).
#[track_caller]
fn login_form_post(c: &common::ffi::FfiClient, options: &Value) -> (Value, String, String) {
    let start = auth_code_start(c, Some(&options.to_string())).ok();
    let line = browser_alice(s(&start, "url"));
    let mut parts = line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("POST"), "not a form_post: {line}");
    let action = parts.next().unwrap().to_owned();
    let body = parts.next().unwrap_or("").to_owned();
    (start, action, body)
}

/// The state_json of the form_post handler for a start document and response mode.
fn form_state(start: &Value, mode: &str) -> String {
    let mut o: Value = serde_json::from_str(&result_options(start)).unwrap();
    o["response_mode"] = json!(mode);
    o.to_string()
}

fn with_mode(options: &str, mode: &str) -> String {
    let mut o: Value = serde_json::from_str(options).unwrap();
    o["response_mode"] = json!(mode);
    o.to_string()
}

/// The `response` JWT of a JARM redirect (query or fragment).
fn jarm_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    let from = |pairs: Vec<(String, String)>| pairs.into_iter().find(|(k, _)| k == "response").map(|(_, v)| v);
    from(u.query_pairs().into_owned().collect())
        .or_else(|| from(url::form_urlencoded::parse(u.fragment().unwrap_or("").as_bytes()).into_owned().collect()))
        .unwrap_or_else(|| panic!("no response parameter in {url}"))
}

#[test]
fn jarm_modes_end_to_end() {
    let c = conf_client("conf-basic", None);
    for mode in ["jwt", "query.jwt", "fragment.jwt"] {
        let (start, redirect) = login_alice(&c, Some(&json!({"response_mode": mode}).to_string()));
        assert_eq!(base(&redirect), CALLBACK);
        let jwt = jarm_of(&redirect);
        if mode == "fragment.jwt" {
            assert!(url::Url::parse(&redirect).unwrap().query().is_none(), "{redirect}");
        } else {
            assert_eq!(query(&redirect).len(), 1, "only the response parameter: {redirect}");
        }
        let claims = jwt::payload(&jwt);
        assert_eq!(claims["aud"], "conf-basic", "{claims}");
        assert_eq!(claims["state"], start["state"], "{claims}");
        let doc = handle_result(&c, &redirect, Some(&with_mode(&result_options(&start), mode))).ok();
        assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
    }
    // Without response_mode in the options the JWT is still verified and used.
    let (start, redirect) = login_alice(&c, Some(r#"{"response_mode":"query.jwt"}"#));
    let doc = handle_result(&c, &redirect, Some(&result_options(&start))).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}

#[test]
fn form_post_and_form_post_jwt_end_to_end() {
    let c = conf_client("conf-basic", None);
    for mode in ["form_post", "form_post.jwt"] {
        let (start, action, body) = login_form_post(&c, &json!({"response_mode": mode}));
        assert_eq!(action, CALLBACK);
        let names: Vec<String> = url::form_urlencoded::parse(body.as_bytes()).map(|(k, _)| k.into_owned()).collect();
        if mode == "form_post" {
            assert!(names.contains(&"code".to_owned()) && names.contains(&"state".to_owned()), "{body}");
        } else {
            assert_eq!(names, ["response"], "{body}");
        }
        let state = form_state(&start, mode);
        let doc = handle_form_post(&c, "application/x-www-form-urlencoded; charset=UTF-8", &body, Some(&state), Some(r#"{"timeout_ms":10000}"#)).ok();
        assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
        // The same POST again: the code is spent.
        let o = handle_form_post(&c, FORM, &body, Some(&state), None);
        assert_eq!(o.err(SOIDC_ERR_PROVIDER, "invalid_grant")["error"], "invalid_grant");
    }
    // With PAR and a signed request object too.
    let (start, _, body) = login_form_post(&c, &json!({"response_mode": "form_post.jwt", "par": true, "request_object": "signed"}));
    let doc = handle_form_post(&c, FORM, &body, Some(&form_state(&start, "form_post.jwt")), None).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}

#[test]
fn form_post_checks() {
    let c = conf_client("conf-basic", None);
    let (start, _, body) = login_form_post(&c, &json!({"response_mode": "form_post"}));
    let state = form_state(&start, "form_post");
    let code = url::form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == "code").unwrap().1.into_owned();
    // Each failure leaves the code unused.
    for ct in ["text/plain", "application/json", "", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=latin1"] {
        let o = handle_form_post(&c, ct, &body, Some(&state), None);
        o.err(SOIDC_ERR_INVALID_ARGUMENT, "content_type");
        assert_no_leak(&o, &[&code]);
    }
    let o = handle_form_post(&c, FORM, &format!("{body}&state=again"), Some(&state), None);
    o.err(SOIDC_ERR_VALIDATION, "repeats");
    let o = handle_form_post(&c, FORM, &body, Some(r#"{"state":"other"}"#), None);
    o.err(SOIDC_ERR_VALIDATION, "state");
    assert_no_leak(&o, &[&code]);
    let other_iss = body.replace("iss=", "iss=http%3A%2F%2Fevil.test%2F&x=");
    handle_form_post(&c, FORM, &other_iss, Some(&state), None).err(SOIDC_ERR_VALIDATION, "RFC 9207");
    handle_form_post(&c, FORM, &body, Some(&form_state(&start, "form_post.jwt")), None).err(SOIDC_ERR_VALIDATION, "plain");
    handle_form_post(&c, FORM, &body, Some(&form_state(&start, "query")), None).err(SOIDC_ERR_INVALID_ARGUMENT, "response_mode");
    let big = "a=".to_owned() + &"b".repeat(300 * 1024);
    handle_form_post(&c, FORM, &big, Some(&state), None).err(SOIDC_ERR_INVALID_ARGUMENT, "limit");
    let auto = json!({"state": start["state"], "redirect_uri": "auto"}).to_string();
    handle_form_post(&c, FORM, &body, Some(&auto), None).err(SOIDC_ERR_INVALID_ARGUMENT, "auto");
    handle_form_post(&c, FORM, &body, Some(r#"{"url":"x"}"#), None).err(SOIDC_ERR_INVALID_ARGUMENT, "url");
    handle_form_post(&c, FORM, &body, Some(&state), Some(r#"{"state":"x"}"#)).err(SOIDC_ERR_INVALID_ARGUMENT, "state");
    // An error response in the body: authentication failed with the provider's fields.
    let err_body = format!(
        "error=access_denied&error_description=no+thanks&state={}&iss={}",
        s(&start, "state"),
        url::form_urlencoded::byte_serialize(common::provider::issuer().as_bytes()).collect::<String>()
    );
    let e = handle_form_post(&c, FORM, &err_body, Some(&state), None).err(SOIDC_ERR_AUTHENTICATION_FAILED, "access_denied");
    assert_eq!(e["error_description"], "no thanks");
    // The genuine body still works.
    let doc = handle_form_post(&c, FORM, &body, Some(&state), None).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}

/// JARM failures. The provider signs with its keys (RS256 by default); forged responses are
/// keyed with the client secret under HS256 (which the test provider advertises for
/// authorization responses and the client allows), so that every claim check is reached
/// through a verifying signature.
#[test]
fn jarm_failures() {
    let secret = common::provider::client_secret("conf-basic");
    let c = conf_client("conf-basic", Some(r#"{"allowed_algs":["RS256","ES256","EdDSA","HS256"]}"#));
    let (start, redirect) = login_alice(&c, Some(r#"{"response_mode":"query.jwt"}"#));
    let jwt = jarm_of(&redirect);
    let genuine = jwt::payload(&jwt);
    let options = with_mode(&result_options(&start), "query.jwt");
    let code = s(&genuine, "code").to_owned();
    let at = |token: &str| format!("{CALLBACK}?response={token}");
    let hs = |claims: &Value| jwt::sign_hmac("HS256", secret.as_bytes(), &json!({}), claims);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = genuine.clone();
        f(&mut v);
        v
    };

    // A forged response with the genuine claims verifies (so the checks below are reached).
    // It is not handed over, to keep the code unused: decode-only through a copy with
    // another state shows the signature passed.
    let o = handle_result(&c, &at(&hs(&edit(&|v| v["state"] = json!("forged")))), Some(&options));
    o.err(SOIDC_ERR_VALIDATION, "state");

    // Signed by another key under the provider's kid.
    let kid = jwt::header_of(&jwt)["kid"].as_str().unwrap().to_owned();
    let wrong_key = jwt::sign("RS256", "stub-rs256", &json!({"kid": kid}), &genuine);
    let o = handle_result(&c, &at(&wrong_key), Some(&options));
    o.err(SOIDC_ERR_VALIDATION, "signature");
    assert_no_leak(&o, &[&code]);

    // Wrong aud, wrong iss, expired, no exp.
    let o = handle_result(&c, &at(&hs(&edit(&|v| v["aud"] = json!("someone-else")))), Some(&options));
    assert_eq!(o.err(SOIDC_ERR_VALIDATION, "aud")["reason"], "audience");
    handle_result(&c, &at(&hs(&edit(&|v| v["iss"] = json!("http://127.0.0.1:1/evil")))), Some(&options))
        .err(SOIDC_ERR_VALIDATION, "iss");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    handle_result(&c, &at(&hs(&edit(&|v| v["exp"] = json!(now - 120)))), Some(&options)).err(SOIDC_ERR_VALIDATION, "expired");
    handle_result(&c, &at(&hs(&edit(&|v| {
        v.as_object_mut().unwrap().remove("exp");
    }))), Some(&options))
    .err(SOIDC_ERR_VALIDATION, "exp");
    // Within the leeway (30 s): accepted as far as the signature and times go (state forged).
    handle_result(&c, &at(&hs(&edit(&|v| {
        v["exp"] = json!(now - 5);
        v["state"] = json!("forged");
    }))), Some(&options))
    .err(SOIDC_ERR_VALIDATION, "state");
    // A parameter that is not a string.
    handle_result(&c, &at(&hs(&edit(&|v| v["code"] = json!(42)))), Some(&options)).err(SOIDC_ERR_VALIDATION, "code");

    // alg none, a JWE, garbage.
    let none = format!(
        "{}.{}.",
        jwt::b64(br#"{"alg":"none"}"#),
        jwt::b64(genuine.to_string().as_bytes())
    );
    handle_result(&c, &at(&none), Some(&options)).err(SOIDC_ERR_VALIDATION, "");
    let jwe = format!("{}.a.b.c.d", jwt::b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#));
    handle_result(&c, &at(&jwe), Some(&options)).err(SOIDC_ERR_UNSUPPORTED_BY_PROVIDER, "encrypted");
    handle_result(&c, &at("not-a-jwt"), Some(&options)).err(SOIDC_ERR_VALIDATION, "");

    // Parameters beside the JWT are refused; a plain response when a JWT mode was asked too.
    handle_result(&c, &format!("{}&code=x", at(&jwt)), Some(&options)).err(SOIDC_ERR_VALIDATION, "other parameters");
    let plain = format!("{CALLBACK}?code={code}&state={}", s(&start, "state"));
    handle_result(&c, &plain, Some(&options)).err(SOIDC_ERR_VALIDATION, "plain");
    // ... and a JWT when a plain mode was asked.
    handle_result(&c, &redirect, Some(&with_mode(&result_options(&start), "query"))).err(SOIDC_ERR_VALIDATION, "plain response mode");
    // form_post modes belong to the form_post handler; unknown modes are bad input.
    handle_result(&c, &redirect, Some(&with_mode(&result_options(&start), "form_post.jwt"))).err(SOIDC_ERR_INVALID_ARGUMENT, "form_post");
    handle_result(&c, &redirect, Some(&with_mode(&result_options(&start), "JWT"))).err(SOIDC_ERR_INVALID_ARGUMENT, "response_mode");

    // An alg outside authorization_signing_alg_values_supported.
    let mut config: Value = serde_json::from_str(c.provider_config().doc.as_deref().unwrap()).unwrap();
    config["authorization_signing_alg_values_supported"] = json!(["ES256"]);
    let (out, strict) = common::ffi::from_issuer_config(
        &config.to_string(),
        common::ffi::Params { redirect_uri: Some(CALLBACK), client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() },
    );
    let strict = strict.unwrap_or_else(|| panic!("{:?}", out.doc));
    handle_result(&strict, &redirect, Some(&options)).err(SOIDC_ERR_VALIDATION, "authorization_signing_alg_values_supported");

    // The genuine response still completes the flow.
    let doc = handle_result(&c, &redirect, Some(&options)).ok();
    assert_alice(&doc, "conf-basic", Some(s(&start, "nonce")));
}
