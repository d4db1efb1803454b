//! soidc against a real Keycloak, through the C API (soidc's `extern "C"` functions, as a
//! C program calls them): discovery, client credentials, password, refresh, userinfo,
//! introspection, revocation, the code flow with PKCE, the device flow, RP-initiated and
//! back-channel logout, RFC 9068 access tokens, token exchange, dynamic client registration
//! with an initial access token (RFC 7591/7592) and the provider's error answers.
//!
//! Keycloak is started by tests/keycloak/run.sh (`make test-keycloak`), which imports
//! tests/keycloak/realm.json and exports SOIDC_KC_ISSUER and SOIDC_KC_BCL_PORT. Every test
//! here is `#[ignore]`d so that a plain `cargo test` (no Keycloak) lists them as ignored
//! rather than passing them vacuously; run.sh runs them with `--ignored`.
//!
//! Keycloak's pages (login form, device verification, consent) are driven over plain HTTP
//! by tests/keycloak/browser.rs, as a user's browser would submit them.

mod common;
#[path = "common/flows.rs"]
mod flows;
#[path = "keycloak/browser.rs"]
mod browser;

use browser::Browser;
use common::ffi::{self, FfiClient, Params};
use flows::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

const CONF: &str = "soidc-conf";
const CONF_SECRET: &str = "soidc-conf-secret-0123456789abcdef";
const SERVICE: &str = "soidc-service";
const SERVICE_SECRET: &str = "soidc-service-secret-0123456789abcdef";
const API_CLIENT: &str = "soidc-api";
const API_SECRET: &str = "soidc-api-secret-0123456789abcdef";
const PUBLIC: &str = "soidc-public";
const SCOPE: &str = "openid email profile";

const STATUS_INVALID_ARGUMENT: i32 = 1;
const STATUS_PROVIDER: i32 = 5;
const STATUS_VALIDATION: i32 = 6;
const STATUS_AUTHENTICATION_FAILED: i32 = 8;

/// The issuer of the realm run.sh imported.
fn issuer() -> String {
    std::env::var("SOIDC_KC_ISSUER").expect("SOIDC_KC_ISSUER is not set: run tests/keycloak/run.sh (make test-keycloak)")
}

/// The origin of Keycloak (`http://127.0.0.1:PORT`), for following its own redirects.
fn origin() -> String {
    let u = url::Url::parse(&issuer()).unwrap();
    format!("{}://{}:{}", u.scheme(), u.host_str().unwrap(), u.port().unwrap())
}

fn client_with(id: &str, secret: Option<&str>, scope: &str) -> FfiClient {
    ffi::client(
        &issuer(),
        Params { redirect_uri: Some(CALLBACK), client_id: id, client_secret: secret, scope: Some(scope), options: None },
    )
}

fn conf() -> FfiClient {
    client_with(CONF, Some(CONF_SECRET), SCOPE)
}

/// Password-grant tokens of `user` for soidc-conf.
fn tokens(c: &FfiClient, user: &str) -> Value {
    password_grant(c, user, &format!("{user}-password"), None, None).ok()
}

/// Logs `user` in on Keycloak's login form at `url` (an authorization URL) and returns
/// the redirect back to the client (with code, state and iss).
fn login(b: &mut Browser, url: &str, user: &str) -> String {
    let page = b.browse(url, &origin());
    assert_eq!(page.status, 200, "the authorization URL should show the login form: {page:?}");
    let form = page.form("kc-form-login");
    let pw = format!("{user}-password");
    let done = b.submit(&form, &[("username", user), ("password", &pw)], &origin());
    assert!((300..400).contains(&done.status), "login should redirect back to the client: {} {:?}\n{}", done.status, done.location, done.body);
    let back = done.location.expect("a Location back to the client");
    assert!(back.starts_with(CALLBACK), "redirect {back} is not to the client's redirect URI");
    back
}

// ---------------------------------------------------------------------------------------
// Discovery and keys
// ---------------------------------------------------------------------------------------

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn discovery_and_keys() {
    let c = conf();
    assert_eq!(c.get_type(), 2, "a client with a secret is confidential");
    let cfg = c.provider_config().ok();
    assert_eq!(cfg["issuer"], issuer());
    for endpoint in ["token_endpoint", "userinfo_endpoint", "introspection_endpoint", "revocation_endpoint", "end_session_endpoint", "device_authorization_endpoint"] {
        assert!(cfg[endpoint].as_str().is_some_and(|u| u.starts_with(&origin())), "{endpoint} in {cfg}");
    }
    assert_eq!(cfg["backchannel_logout_supported"], true);
    // Keycloak's JWKS carries an encryption key beside the signing keys; soidc keeps it
    // out of signature checks but must not refuse the set (quirk: `use: enc`).
    let keys = c.provider_keys(Some(r#"{"force_refresh": true}"#)).ok();
    let keys = keys["keys"].as_array().expect("a JWKS");
    assert!(keys.iter().any(|k| k["use"] == "enc"), "expected Keycloak's enc key in {keys:?}");
    assert!(keys.iter().any(|k| k["use"] == "sig" && k["alg"] == "RS256"), "expected an RS256 signing key in {keys:?}");
    // An issuer with a trailing slash is not Keycloak's issuer: refused, not normalised.
    let (o, _) = ffi::from_issuer_url(&format!("{}/", issuer()), Params { client_id: CONF, ..Default::default() });
    assert_ne!(o.status, 0, "the issuer must match exactly: {o:?}");
}

// ---------------------------------------------------------------------------------------
// Grants
// ---------------------------------------------------------------------------------------

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn client_credentials_with_rfc9068_access_token() {
    let c = client_with(SERVICE, Some(SERVICE_SECRET), "openid");
    let doc = client_credentials(&c, None, None).ok();
    assert_eq!(doc["token_type"], "Bearer");
    let at = s(&doc, "access_token");
    // Quirk: with scope openid Keycloak adds an ID token to the client credentials
    // response; soidc validates it like any other (aud and azp are the client).
    assert!(doc["id_token"].is_string(), "Keycloak sends an ID token here: {doc}");
    assert_eq!(doc["id_token_claims"]["azp"], SERVICE, "{doc}");
    assert_eq!(doc["id_token_claims"]["aud"], SERVICE, "{doc}");
    // RFC 9068: typ at+jwt (the realm's client setting), aud (audience mapper), client_id.
    let claims = decode_access_token(&c, at, None).ok();
    assert_eq!(claims["client_id"], SERVICE);
    assert_eq!(claims["iss"], issuer());
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
    // Another audience than the token's is refused with reason "audience".
    let e = decode_access_token(&c, at, Some(r#"{"audience": "not-an-audience"}"#)).err(STATUS_VALIDATION, "aud");
    assert_eq!(e["reason"], "audience", "{e}");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn password_grant_and_the_nonce_quirk() {
    let c = conf();
    let doc = tokens(&c, "alice");
    let idc = &doc["id_token_claims"];
    assert_eq!(idc["preferred_username"], "alice");
    assert_eq!(idc["aud"], CONF);
    assert_eq!(idc["iss"], issuer());
    // Quirk: Keycloak ignores the nonce parameter of the password grant, so an ID token
    // the caller asked to carry a nonce has none. soidc refuses it (the caller asked for
    // the check; OIDC Core §3.1.3.7 item 11 / §2: a nonce sent must come back).
    let e = password_grant(&c, "alice", "alice-password", None, Some(r#"{"nonce": "n-0S6_WzA2Mj"}"#)).err(STATUS_VALIDATION, "nonce");
    assert!(!e.to_string().contains("alice-password"));
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn refresh_with_the_new_id_token() {
    let c = conf();
    let first = tokens(&c, "alice");
    let rt = s(&first, "refresh_token");
    let options = json!({"id_token": s(&first, "id_token")}).to_string();
    let doc = refresh(&c, rt, Some(&options)).ok();
    assert_ne!(s(&doc, "access_token"), s(&first, "access_token"));
    let idc = &doc["id_token_claims"];
    assert_eq!(idc["sub"], first["id_token_claims"]["sub"], "the refreshed ID token keeps sub");
    assert_eq!(idc["preferred_username"], "alice");
    // bob's ID token as the original: the new one's sub differs (OIDC Core §12.2).
    let bob = tokens(&c, "bob");
    let options = json!({"id_token": s(&bob, "id_token")}).to_string();
    refresh(&c, s(&doc, "refresh_token"), Some(&options)).err(STATUS_VALIDATION, "sub");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn userinfo() {
    let c = conf();
    let t = tokens(&c, "alice");
    let sub = t["id_token_claims"]["sub"].as_str().unwrap().to_owned();
    let info = flows::userinfo(&c, s(&t, "access_token"), Some(&json!({"expected_sub": sub}).to_string())).ok();
    assert_eq!(info["sub"], sub);
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["preferred_username"], "alice");
    // bob's sub expected: refused.
    let bob = tokens(&c, "bob");
    let bob_sub = bob["id_token_claims"]["sub"].as_str().unwrap().to_owned();
    flows::userinfo(&c, s(&t, "access_token"), Some(&json!({"expected_sub": bob_sub}).to_string())).err(STATUS_VALIDATION, "sub");
    // A token Keycloak never issued: invalid_token from the WWW-Authenticate header.
    let e = flows::userinfo(&c, "not-a-token", None).err(STATUS_PROVIDER, "");
    assert_eq!(e["error"], "invalid_token", "{e}");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn introspection_and_revocation() {
    let c = conf();
    let t = tokens(&c, "alice");
    let at = s(&t, "access_token");
    let rt = s(&t, "refresh_token");
    let active = introspect(&c, at, Some("access_token"), None).ok();
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["username"], "alice");
    assert_eq!(introspect(&c, rt, Some("refresh_token"), None).ok()["active"], true);
    assert_eq!(introspect(&c, "garbage", None, None).ok()["active"], false);

    // Quirk (Keycloak 26.6.2+): introspection answers inactive unless the calling client
    // is in the token's audience. soidc-api is in soidc-conf's tokens (audience mapper)...
    let api = client_with(API_CLIENT, Some(API_SECRET), "openid");
    assert_eq!(introspect(&api, at, None, None).ok()["active"], true);
    // ...but not in soidc-service's: the same valid token is "inactive" for it.
    let svc = client_with(SERVICE, Some(SERVICE_SECRET), "openid");
    let svc_at = client_credentials(&svc, None, None).ok()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&svc, &svc_at, None, None).ok()["active"], true);
    assert_eq!(introspect(&api, &svc_at, None, None).ok()["active"], false, "Keycloak's audience rule for introspection");

    // Revocation (RFC 7009): the refresh token, then the access token.
    assert_eq!(revoke(&c, rt, Some("refresh_token"), None).ok(), json!({}));
    assert_eq!(introspect(&c, rt, Some("refresh_token"), None).ok()["active"], false);
    let e = refresh(&c, rt, None).err(STATUS_PROVIDER, "invalid_grant");
    assert_eq!(e["error"], "invalid_grant");
    let t2 = tokens(&c, "alice");
    let at2 = s(&t2, "access_token");
    assert_eq!(introspect(&c, at2, None, None).ok()["active"], true);
    revoke(&c, at2, Some("access_token"), None).ok();
    assert_eq!(introspect(&c, at2, None, None).ok()["active"], false);
    // Revoking an unknown token is a success (RFC 7009 §2.2).
    revoke(&c, "never-issued", None, None).ok();
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn errors_wrong_secret_and_wrong_password() {
    let bad = client_with(CONF, Some("wrong-secret-value-0123"), SCOPE);
    let o = password_grant(&bad, "alice", "alice-password", None, None);
    let e = o.err(STATUS_PROVIDER, "");
    let code = e["error"].as_str().unwrap();
    assert!(code == "unauthorized_client" || code == "invalid_client", "{e}");
    assert_no_leak(&o, &["wrong-secret-value-0123", "alice-password"]);
    let e = client_credentials(&bad, None, None).err(STATUS_PROVIDER, "");
    assert!(matches!(e["error"].as_str(), Some("unauthorized_client" | "invalid_client")), "{e}");
    let e = introspect(&bad, "anything", None, None).err(STATUS_PROVIDER, "");
    assert!(matches!(e["error"].as_str(), Some("unauthorized_client" | "invalid_client")), "{e}");

    let c = conf();
    let o = password_grant(&c, "alice", "not-her-password", None, None);
    let e = o.err(STATUS_PROVIDER, "invalid_grant");
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(e["http_status"], 400, "RFC 6749 §5.2: invalid_grant is a 400");
    assert_no_leak(&o, &["not-her-password", CONF_SECRET]);
    // A client without the password grant enabled.
    let svc = client_with(SERVICE, Some(SERVICE_SECRET), "openid");
    let e = password_grant(&svc, "alice", "alice-password", None, None).err(STATUS_PROVIDER, "");
    assert!(matches!(e["error"].as_str(), Some("unauthorized_client" | "invalid_client" | "invalid_grant")), "{e}");
}

// ---------------------------------------------------------------------------------------
// The authorization code flow, driven through Keycloak's login form
// ---------------------------------------------------------------------------------------

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn code_flow_with_pkce_public_client() {
    let c = client_with(PUBLIC, None, SCOPE);
    assert_eq!(c.get_type(), 1);
    let start = auth_code_start(&c, None).ok();
    assert!(s(&start, "code_verifier").len() >= 43);
    let url = s(&start, "url");
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    let mut b = Browser::new();
    let back = login(&mut b, url, "alice");
    assert_eq!(param(&back, "iss").as_deref(), Some(issuer().as_str()), "Keycloak sends the RFC 9207 iss parameter");
    let doc = handle_result(&c, &back, Some(&result_options(&start))).ok();
    let idc = &doc["id_token_claims"];
    assert_eq!(idc["preferred_username"], "alice");
    assert_eq!(idc["nonce"], start["nonce"]);
    assert_eq!(idc["aud"], PUBLIC);
    // Its access token is an RFC 9068 token for soidc-public (audience mapper).
    let claims = decode_access_token(&c, s(&doc, "access_token"), None).ok();
    assert_eq!(claims["client_id"], PUBLIC, "client_id (from azp for user tokens) in {claims}");

    // The same code again: Keycloak refuses it (invalid_grant).
    let code = param(&back, "code").unwrap();
    let o = json!({"code_verifier": s(&start, "code_verifier")}).to_string();
    let e = code_exchange(&c, &code, Some(&o)).err(STATUS_PROVIDER, "invalid_grant");
    assert_eq!(e["error"], "invalid_grant");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn code_flow_without_pkce_is_refused_by_the_public_client() {
    let c = client_with(PUBLIC, None, SCOPE);
    let start = auth_code_start(&c, Some(r#"{"pkce": false}"#)).ok();
    let mut b = Browser::new();
    let page = b.get(s(&start, "url"));
    // Keycloak redirects back with an error (the client enforces S256 PKCE).
    let back = page.location.clone().unwrap_or_else(|| panic!("expected a redirect with an error: {page:?}"));
    assert!(back.starts_with(CALLBACK), "{back}");
    let e = handle_result(&c, &back, Some(&result_options(&start))).err(STATUS_AUTHENTICATION_FAILED, "");
    assert_eq!(e["error"], "invalid_request", "{e}");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn code_flow_confidential_client_and_wrong_state() {
    let c = conf();
    let start = auth_code_start(&c, None).ok();
    let mut b = Browser::new();
    let back = login(&mut b, s(&start, "url"), "bob");
    // A wrong state is refused before the code is used...
    let mut wrong: Value = serde_json::from_str(&result_options(&start)).unwrap();
    wrong["state"] = json!("not-the-state");
    handle_result(&c, &back, Some(&wrong.to_string())).err(STATUS_VALIDATION, "state");
    // ...so the right one still works.
    let doc = handle_result(&c, &back, Some(&result_options(&start))).ok();
    assert_eq!(doc["id_token_claims"]["preferred_username"], "bob");
    assert!(doc["id_token_claims"]["sid"].is_string(), "Keycloak's ID tokens carry sid");
}

// ---------------------------------------------------------------------------------------
// The device flow, approved on Keycloak's verification page
// ---------------------------------------------------------------------------------------

/// Opens the verification URI (with the code), logs `user` in on the login form, and
/// grants (or denies) access on the consent page; checks Keycloak's final page.
fn approve_device(verification_uri_complete: &str, user: &str, grant: bool) {
    let mut b = Browser::new();
    let page = b.browse(verification_uri_complete, &origin());
    assert_eq!(page.status, 200, "the verification URI should show the login form: {page:?}");
    let form = page.form("kc-form-login");
    let pw = format!("{user}-password");
    let page = b.submit(&form, &[("username", user), ("password", &pw)], &origin());
    assert_eq!(page.status, 200, "after the login, Keycloak's consent page: {page:?}");
    let form = page.form("login-actions/consent");
    let button = if grant { ("accept", "Yes") } else { ("cancel", "No") };
    let page = b.submit(&form, &[button], &origin());
    assert_eq!(page.status, 200, "device verification ended with {page:?}");
    assert!(!page.has_form("<form"), "the final page has no more forms: {}", page.body);
    let expected = if grant { "Device Login Successful" } else { "Device Login Failed" };
    assert!(page.body.contains(expected), "expected {expected:?}: {}", page.body);
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn device_flow_confidential_client() {
    let c = conf();
    let start = device_start(&c, None, None).ok();
    let code = s(&start, "device_code");
    let poll = |wait: bool| {
        let o = json!({"wait": wait, "interval": start["interval"], "expires_in": start["expires_in"], "timeout_ms": 60000});
        device_poll(&c, code, Some(&o.to_string()))
    };
    let pending = poll(false).err(9, "");
    assert_eq!(pending["error"], "authorization_pending", "{pending}");
    approve_device(s(&start, "verification_uri_complete"), "alice", true);
    let doc = poll(true).ok();
    assert_eq!(doc["id_token_claims"]["preferred_username"], "alice");
    decode_access_token(&c, s(&doc, "access_token"), None).ok();
    // The device code is spent.
    poll(false).err(STATUS_PROVIDER, "");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn device_flow_denied() {
    let c = conf();
    let start = device_start(&c, None, None).ok();
    approve_device(s(&start, "verification_uri_complete"), "bob", false);
    let o = json!({"wait": true, "interval": start["interval"], "expires_in": start["expires_in"], "timeout_ms": 60000});
    let e = device_poll(&c, s(&start, "device_code"), Some(&o.to_string())).err(STATUS_PROVIDER, "access_denied");
    assert_eq!(e["error"], "access_denied");
}

/// Quirk: a public client that enforces PKCE gets PKCE demanded in the device flow too,
/// which RFC 8628 does not define. soidc sends it (option `pkce`, "auto": on for a public
/// client when the provider advertises S256) and its poll passes the `code_verifier`:
/// the flow completes. With `pkce: false` Keycloak still refuses the start, recorded here
/// so that a Keycloak that changes this shows up.
#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn device_flow_of_a_pkce_enforcing_public_client() {
    let c = client_with(PUBLIC, None, SCOPE);
    let e = device_start(&c, None, Some(r#"{"pkce":false}"#)).err(STATUS_PROVIDER, "code_challenge_method");
    assert_eq!(e["error"], "invalid_request", "{e}");

    let start = device_start(&c, None, None).ok();
    let verifier = s(&start, "code_verifier").to_owned();
    assert!(verifier.len() >= 43, "{start}");
    approve_device(s(&start, "verification_uri_complete"), "alice", true);
    let o = json!({"wait": true, "interval": start["interval"], "expires_in": start["expires_in"],
                   "timeout_ms": 60000, "code_verifier": verifier});
    let doc = device_poll(&c, s(&start, "device_code"), Some(&o.to_string())).ok();
    assert_eq!(doc["id_token_claims"]["preferred_username"], "alice", "{doc}");
    // Without the verifier Keycloak refuses the poll of a PKCE device code.
    let start = device_start(&c, None, None).ok();
    approve_device(s(&start, "verification_uri_complete"), "alice", true);
    let o = json!({"wait": true, "interval": start["interval"], "expires_in": start["expires_in"], "timeout_ms": 60000});
    device_poll(&c, s(&start, "device_code"), Some(&o.to_string())).err(STATUS_PROVIDER, "");
}

// ---------------------------------------------------------------------------------------
// Logout: RP-initiated, and the back-channel logout token Keycloak delivers
// ---------------------------------------------------------------------------------------

/// One back-channel logout request as the listener saw it.
struct LogoutDelivery {
    request_line: String,
    form_encoded: bool,
    logout_token: Option<String>,
}

/// Listens on SOIDC_KC_BCL_PORT (the realm's back-channel logout URL) for the rest of the
/// process and forwards every request. Other tests' sessions may end meanwhile (a revoked
/// refresh token can end one), so the test picks its own session's token by `sid`.
fn logout_listener() -> mpsc::Receiver<LogoutDelivery> {
    let port: u16 = std::env::var("SOIDC_KC_BCL_PORT").expect("SOIDC_KC_BCL_PORT").parse().unwrap();
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the back-channel logout listener");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let Ok(clone) = stream.try_clone() else { continue };
            let mut reader = BufReader::new(clone);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            let mut form_encoded = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.trim_end().to_ascii_lowercase();
                if lower.is_empty() {
                    break;
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("content-type:") && lower.contains("application/x-www-form-urlencoded") {
                    form_encoded = true;
                }
            }
            let mut body = vec![0; length.min(1 << 20)];
            let _ = reader.read_exact(&mut body);
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
            let logout_token = url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == "logout_token")
                .map(|(_, v)| v.into_owned());
            if tx.send(LogoutDelivery { request_line, form_encoded, logout_token }).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn rp_initiated_logout_and_backchannel_logout_token() {
    let c = conf();
    let tokens_delivered = logout_listener();
    // alice logs in through the browser (a Keycloak SSO session with soidc-conf in it).
    let start = auth_code_start(&c, None).ok();
    let mut b = Browser::new();
    let back = login(&mut b, s(&start, "url"), "alice");
    let doc = handle_result(&c, &back, Some(&result_options(&start))).ok();
    let idc = doc["id_token_claims"].clone();

    // RP-initiated logout: the URL soidc builds, opened in the same browser.
    let request = json!({"id_token_hint": s(&doc, "id_token"), "post_logout_redirect_uri": LOGGED_OUT, "state": "bye-1"});
    let url = ok_url(&initiate_logout(&c, Some(&request.to_string())));
    assert!(url.starts_with(&format!("{}/protocol/openid-connect/logout?", issuer())), "{url}");
    assert_eq!(param(&url, "client_id").as_deref(), Some(CONF));
    // With an id_token_hint Keycloak logs out at once (no "Do you want to log out?" page).
    let page = b.browse(&url, &origin());
    let landed = page.location.clone().unwrap_or_else(|| panic!("logout should redirect to the post-logout URI: {page:?}"));
    assert!(landed.starts_with(LOGGED_OUT), "{landed}");
    assert_eq!(param(&landed, "state").as_deref(), Some("bye-1"));

    // Keycloak POSTed a logout token for this session to the back-channel logout URL.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (token, claims) = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let d = tokens_delivered.recv_timeout(left).expect("Keycloak delivered no logout token for this session");
        assert!(d.request_line.starts_with("POST /backchannel-logout "), "{}", d.request_line);
        assert!(d.form_encoded, "the logout token comes form-encoded (Back-Channel Logout §2.5)");
        let token = d.logout_token.expect("a logout_token parameter");
        let claims = decode_logout_token(&c, &token, None).ok();
        if claims["sid"] == idc["sid"] {
            break (token, claims);
        }
    };
    assert_eq!(claims["iss"], issuer());
    assert_eq!(claims["aud"], CONF);
    assert_eq!(claims["sub"], idc["sub"]);
    assert_eq!(claims["sid"], idc["sid"], "the session of the logged-in ID token");
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    // The same token is not an ID token, and not an access token.
    ffi::FfiClient::decode_id_token(&c, &token, None).err(STATUS_VALIDATION, "");
    decode_access_token(&c, &token, None).err(STATUS_VALIDATION, "");
    // The session is gone: the refresh token no longer works.
    refresh(&c, s(&doc, "refresh_token"), None).err(STATUS_PROVIDER, "invalid_grant");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn rfc9068_access_tokens_of_users() {
    let c = conf();
    let t = tokens(&c, "alice");
    let at = s(&t, "access_token");
    let claims = decode_access_token(&c, at, Some(r#"{"required_scopes": ["email", "profile"]}"#)).ok();
    assert_eq!(claims["client_id"], CONF, "client_id (Keycloak sends azp) in {claims}");
    assert_eq!(claims["sub"], t["id_token_claims"]["sub"]);
    // The resource server soidc-api (audience mapper) accepts it too.
    decode_access_token(&c, at, Some(r#"{"audience": "soidc-api"}"#)).ok();
    let e = decode_access_token(&c, at, Some(r#"{"required_scopes": ["admin"]}"#)).err(STATUS_VALIDATION, "admin");
    assert_eq!(e["reason"], "scope");
    // An ID token is not an access token (typ JWT, not at+jwt: RFC 9068 §4).
    decode_access_token(&c, s(&t, "id_token"), None).err(STATUS_VALIDATION, "typ");
    // Bad input.
    decode_access_token(&c, at, Some(r#"{"audience": "a", "audience": "b"}"#)).err(STATUS_INVALID_ARGUMENT, "");
    decode_access_token(&c, at, Some(r#"{"no_such_option": 1}"#)).err(STATUS_INVALID_ARGUMENT, "");
}

// ---------------------------------------------------------------------------------------
// Token exchange (RFC 8693), Keycloak's standard token exchange (enabled on soidc-conf)
// ---------------------------------------------------------------------------------------

const TT_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const TT_REFRESH: &str = "urn:ietf:params:oauth:token-type:refresh_token";
const TT_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

/// `soidc_token_exchange`.
fn token_exchange(c: &FfiClient, subject: &str, subject_type: &str, options: Option<&str>) -> common::ffi::Outcome {
    let st = common::ffi::cstr(subject);
    let ty = common::ffi::cstr(subject_type);
    let o = options.map(common::ffi::cstr);
    let mut out: *mut std::os::raw::c_char = std::ptr::null_mut();
    // SAFETY: a live client, valid C strings and out-pointer.
    let status = unsafe {
        soidc::ffi::token_exchange::soidc_token_exchange(c.0, st.as_ptr(), ty.as_ptr(), common::ffi::opt_ptr(&o), &mut out)
    };
    // SAFETY: out is NULL or soidc's string.
    let doc = unsafe { common::ffi::take(out) };
    common::ffi::Outcome { status, doc }
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn token_exchange_for_another_audience() {
    let c = conf();
    let t = tokens(&c, "alice");
    let at = s(&t, "access_token");
    let doc = token_exchange(&c, at, TT_ACCESS, Some(r#"{"audience": "soidc-api"}"#)).ok();
    assert_eq!(doc["issued_token_type"], TT_ACCESS);
    assert_eq!(doc["token_type"], "Bearer");
    let issued = s(&doc, "access_token");
    assert_ne!(issued, at);
    // The new token is for soidc-api only, and still alice's.
    let claims = decode_access_token(&c, issued, Some(r#"{"audience": "soidc-api"}"#)).ok();
    assert_eq!(claims["aud"], "soidc-api", "{claims}");
    assert_eq!(claims["sub"], t["id_token_claims"]["sub"]);
    let e = decode_access_token(&c, issued, None).err(STATUS_VALIDATION, "aud");
    assert_eq!(e["reason"], "audience");
    // The audience as a one-element list is the same request.
    let doc = token_exchange(&c, at, TT_ACCESS, Some(r#"{"audience": ["soidc-api"], "timeout_ms": 20000}"#)).ok();
    assert_eq!(doc["issued_token_type"], TT_ACCESS);
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn token_exchange_downscoping() {
    let c = conf();
    let t = tokens(&c, "alice");
    let before = decode_access_token(&c, s(&t, "access_token"), None).ok();
    assert!(before["scope"].as_str().unwrap().split(' ').any(|x| x == "profile"), "{before}");
    assert_eq!(before["given_name"], "Alice");
    let doc = token_exchange(&c, s(&t, "access_token"), TT_ACCESS, Some(r#"{"scope": "email"}"#)).ok();
    assert_eq!(doc["scope"], "email");
    let after = decode_access_token(&c, s(&doc, "access_token"), Some(r#"{"required_scopes": ["email"]}"#)).ok();
    assert_eq!(after["scope"], "email");
    assert_eq!(after["email"], "alice@example.com");
    assert!(after.get("given_name").is_none(), "the profile scope's claims are gone: {after}");
    decode_access_token(&c, s(&doc, "access_token"), Some(r#"{"required_scopes": ["profile"]}"#)).err(STATUS_VALIDATION, "profile");
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn token_exchange_refused_by_keycloak() {
    let c = conf();
    let t = tokens(&c, "alice");
    let at = s(&t, "access_token");
    // A client on which standard token exchange is not enabled.
    let svc = client_with(SERVICE, Some(SERVICE_SECRET), "openid");
    let o = token_exchange(&svc, at, TT_ACCESS, None);
    let e = o.err(STATUS_PROVIDER, "not enabled");
    assert_eq!(e["error"], "invalid_request", "Keycloak's code for it: {e}");
    assert_no_leak(&o, &[at, SERVICE_SECRET]);
    // A subject token Keycloak never issued.
    let e = token_exchange(&c, "not-a-token-at-all", TT_ACCESS, None).err(STATUS_PROVIDER, "");
    assert_eq!(e["error"], "invalid_request", "{e}");
    assert_eq!(e["error_description"], "Invalid token");
    // An audience the client may not ask for (Keycloak answers invalid_request where
    // RFC 8693 §2.2.2 suggests invalid_target; soidc reports what the provider said).
    let e = token_exchange(&c, at, TT_ACCESS, Some(r#"{"audience": "soidc-public"}"#)).err(STATUS_PROVIDER, "soidc-public");
    assert_eq!(e["error"], "invalid_request", "{e}");
    // Subject token types other than access tokens are not supported by Keycloak's
    // standard token exchange, nor is a refresh token as the requested type here.
    token_exchange(&c, at, TT_JWT, None).err(STATUS_PROVIDER, "access tokens only");
    token_exchange(&c, at, TT_ACCESS, Some(&json!({"requested_token_type": TT_REFRESH}).to_string())).err(STATUS_PROVIDER, "unsupported");
    // A revoked subject token.
    let t2 = tokens(&c, "bob");
    revoke(&c, s(&t2, "access_token"), Some("access_token"), None).ok();
    token_exchange(&c, s(&t2, "access_token"), TT_ACCESS, None).err(STATUS_PROVIDER, "");
    // A wrong client secret.
    let bad = client_with(CONF, Some("wrong-secret-value-0123"), SCOPE);
    let o = token_exchange(&bad, at, TT_ACCESS, None);
    let e = o.err(STATUS_PROVIDER, "");
    assert!(matches!(e["error"].as_str(), Some("unauthorized_client" | "invalid_client")), "{e}");
    assert_no_leak(&o, &[at, "wrong-secret-value-0123"]);
}

// ---------------------------------------------------------------------------------------
// Dynamic client registration (RFC 7591) and management (RFC 7592)
//
// Keycloak refuses anonymous registration from hosts its "Trusted Hosts" policy does not
// list (none by default), so these tests register with an initial access token: one is
// created through Keycloak's admin REST API (`POST /admin/realms/soidc/clients-initial-access`)
// with an admin token of the master realm (the bootstrap admin run.sh started Keycloak
// with: SOIDC_KC_ADMIN_USERNAME / SOIDC_KC_ADMIN_PASSWORD). The realm stays as imported.
// ---------------------------------------------------------------------------------------

/// A new initial access token of the soidc realm, valid for `count` registrations.
fn initial_access_token(count: u32) -> String {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let user = std::env::var("SOIDC_KC_ADMIN_USERNAME").expect("SOIDC_KC_ADMIN_USERNAME (set by run.sh)");
    let password = std::env::var("SOIDC_KC_ADMIN_PASSWORD").expect("SOIDC_KC_ADMIN_PASSWORD (set by run.sh)");
    let mut resp = agent
        .post(&format!("{}/realms/master/protocol/openid-connect/token", origin()))
        .send_form([("grant_type", "password"), ("client_id", "admin-cli"), ("username", &user), ("password", &password)])
        .expect("admin token request");
    assert_eq!(resp.status().as_u16(), 200, "admin token");
    let admin: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let admin_token = admin["access_token"].as_str().expect("admin access token").to_owned();
    let mut resp = agent
        .post(&format!("{}/admin/realms/soidc/clients-initial-access", origin()))
        .header("Authorization", &format!("Bearer {admin_token}"))
        .content_type("application/json")
        .send(json!({"count": count, "expiration": 600}).to_string().as_bytes())
        .expect("initial access token request");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    assert!(status == 200 || status == 201, "clients-initial-access: HTTP {status}: {body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    doc["token"].as_str().expect("token in the clients-initial-access response").to_owned()
}

fn kc_service_metadata(name: &str) -> Value {
    json!({
        "client_name": name,
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn registration_with_an_initial_access_token_then_use_read_update_delete() {
    let iat = initial_access_token(1);
    let options = json!({"initial_access_token": iat}).to_string();
    let reg = ffi::register_client(&issuer(), &kc_service_metadata("soidc-dcr").to_string(), Some(&options)).ok();
    let client_id = s(&reg, "client_id").to_owned();
    let secret = s(&reg, "client_secret").to_owned();
    let uri = s(&reg, "registration_client_uri").to_owned();
    let mut rat = s(&reg, "registration_access_token").to_owned();
    assert!(uri.starts_with(&issuer()), "{uri}");

    // The new client gets a token at once. With scope openid Keycloak adds an ID token to
    // the client credentials response (the quirk above): soidc checks its signature and
    // that it was issued to the new client.
    let c = ffi::client(
        &issuer(),
        Params { client_id: &client_id, client_secret: Some(&secret), scope: Some("openid"), ..Default::default() },
    );
    let tokens = client_credentials(&c, None, None).ok();
    assert!(!s(&tokens, "access_token").is_empty());
    assert_eq!(tokens["id_token_claims"]["aud"], client_id.as_str(), "{tokens}");
    assert_eq!(tokens["id_token_claims"]["azp"], client_id.as_str(), "{tokens}");

    // Read: Keycloak rotates the registration access token on every call (quirk); the
    // response carries the new one.
    let read = ffi::read_registration(&uri, &rat, None).ok();
    assert_eq!(read["client_id"], client_id.as_str());
    assert_eq!(read["client_name"], "soidc-dcr");
    if let Some(Value::String(t)) = read.get("registration_access_token") {
        rat = t.clone();
    }
    let mut md = kc_service_metadata("soidc-dcr-renamed");
    md["client_id"] = json!(client_id);
    let updated = ffi::update_registration(&uri, &rat, &md.to_string(), None).ok();
    assert_eq!(updated["client_name"], "soidc-dcr-renamed", "{updated}");
    if let Some(Value::String(t)) = updated.get("registration_access_token") {
        rat = t.clone();
    }
    assert_eq!(ffi::delete_registration(&uri, &rat, None).ok(), json!({}));
    let gone = ffi::read_registration(&uri, &rat, None);
    let e = gone.err(STATUS_PROVIDER, "invalid_token");
    assert_eq!(e["http_status"], 401, "{e}");
    assert_no_leak(&gone, &[&rat, &secret, &iat]);
    assert_ne!(client_credentials(&c, None, None).status, 0, "a deleted client gets no token");

    // The initial access token was for one registration: a second one is refused.
    let again = ffi::register_client(&issuer(), &kc_service_metadata("soidc-dcr-2").to_string(), Some(&options));
    let e = again.err(STATUS_PROVIDER, "invalid_token");
    assert!(e["error_description"].as_str().unwrap().contains("No remaining count"), "{e}");
    assert_no_leak(&again, &[&iat]);
}

#[test]
#[ignore = "needs Keycloak: make test-keycloak"]
fn registration_refused_by_keycloak() {
    // Anonymous: the Trusted Hosts policy refuses 127.0.0.1 (403 insufficient_scope).
    let o = ffi::register_client(&issuer(), &kc_service_metadata("soidc-dcr-anon").to_string(), None);
    let e = o.err(STATUS_PROVIDER, "insufficient_scope");
    assert!(e["error_description"].as_str().unwrap().contains("Trusted Hosts"), "{e}");
    assert_eq!(e["http_status"], 403, "{e}");
    // A wrong initial access token.
    let wrong = "not-an-initial-access-token";
    let o = ffi::register_client(
        &issuer(),
        &kc_service_metadata("soidc-dcr-wrong").to_string(),
        Some(&json!({"initial_access_token": wrong}).to_string()),
    );
    let e = o.err(STATUS_PROVIDER, "invalid_token");
    assert_eq!(e["http_status"], 401, "{e}");
    assert_no_leak(&o, &[wrong]);
    // A redirect URI with a fragment.
    let iat = initial_access_token(1);
    let md = json!({"redirect_uris": ["https://rp.example/cb#fragment"], "client_name": "soidc-dcr-fragment"});
    let o = ffi::register_client(&issuer(), &md.to_string(), Some(&json!({"initial_access_token": iat}).to_string()));
    let e = o.err(STATUS_PROVIDER, "invalid_redirect_uri");
    assert_eq!(e["http_status"], 400, "{e}");
    assert_no_leak(&o, &[&iat]);
    // A wrong registration access token at an existing client's URI.
    let iat = initial_access_token(1);
    let reg = ffi::register_client(
        &issuer(),
        &kc_service_metadata("soidc-dcr-wrong-rat").to_string(),
        Some(&json!({"initial_access_token": iat}).to_string()),
    )
    .ok();
    let uri = s(&reg, "registration_client_uri");
    let o = ffi::read_registration(uri, "wrong-registration-access-token", None);
    let e = o.err(STATUS_PROVIDER, "invalid_token");
    assert_eq!(e["http_status"], 401, "{e}");
    assert_eq!(ffi::delete_registration(uri, s(&reg, "registration_access_token"), None).ok(), json!({}));
}
