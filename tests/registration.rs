//! Dynamic client registration (RFC 7591) and management (RFC 7592) through the C ABI,
//! against the real oidc-provider of tests/provider (its `registration` and
//! `registrationManagement` features, anonymous registration): register, use the new
//! client at once, read, update, delete, read again; refused metadata, a wrong
//! registration access token, and no secret in any log line or error message.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::ffi::{self, delete_registration, read_registration, register_client, update_registration, Params};
use common::provider;
use flows::*;
use serde_json::{json, Value};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::{Mutex, Once};

const INVALID_ARGUMENT: i32 = 1;
const PROVIDER: i32 = 5;
const UNSUPPORTED: i32 = 7;

/// Every log message of this process (the process-wide callback, installed once).
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn log_cb(_level: c_int, message: *const c_char, _user_data: *mut c_void) {
    // SAFETY: soidc passes a NUL-terminated string valid for the call.
    let m = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    LOGS.lock().unwrap_or_else(|e| e.into_inner()).push(m);
}

fn install_log() {
    static ONCE: Once = Once::new();
    // SAFETY: a valid callback; no user data.
    ONCE.call_once(|| unsafe { soidc::ffi::util::soidc_set_log_callback(Some(log_cb), 5, std::ptr::null_mut()) });
}

#[track_caller]
fn assert_not_logged(secrets: &[&str]) {
    let logs = LOGS.lock().unwrap();
    assert!(!logs.is_empty(), "the log callback received nothing");
    for s in secrets {
        for line in logs.iter() {
            assert!(!line.contains(s), "a log line holds a secret: {line}");
        }
    }
}

fn service_metadata(name: &str) -> Value {
    json!({
        "client_name": name,
        "grant_types": ["client_credentials"],
        "response_types": [],
        "redirect_uris": [],
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

#[test]
fn register_use_read_update_delete_then_read_fails() {
    install_log();
    let issuer = provider::issuer();
    let reg = register_client(issuer, &service_metadata("dcr-lifecycle").to_string(), None).ok();
    let client_id = s(&reg, "client_id").to_owned();
    let secret = s(&reg, "client_secret").to_owned();
    let uri = s(&reg, "registration_client_uri").to_owned();
    let mut rat = s(&reg, "registration_access_token").to_owned();
    assert_eq!(reg["client_name"], "dcr-lifecycle", "the response is returned as sent: {reg}");
    assert!(uri.starts_with(issuer), "{uri}");

    // The new client works at once.
    let c = ffi::client(issuer, Params { client_id: &client_id, client_secret: Some(&secret), ..Default::default() });
    let tokens = client_credentials(&c, None, None).ok();
    assert!(!s(&tokens, "access_token").is_empty());

    // Read (RFC 7592 §2.1).
    let read = read_registration(&uri, &rat, None).ok();
    assert_eq!(read["client_id"], client_id.as_str());
    assert_eq!(read["client_name"], "dcr-lifecycle");

    // Update (RFC 7592 §2.2): the whole metadata, with client_id (and the current secret).
    let mut new_md = service_metadata("dcr-lifecycle-renamed");
    new_md["client_id"] = json!(client_id);
    new_md["client_secret"] = json!(secret);
    let updated = update_registration(&uri, &rat, &new_md.to_string(), None).ok();
    assert_eq!(updated["client_name"], "dcr-lifecycle-renamed", "{updated}");
    if let Some(Value::String(rotated)) = updated.get("registration_access_token") {
        rat = rotated.clone();
    }
    let read = read_registration(&uri, &rat, None).ok();
    assert_eq!(read["client_name"], "dcr-lifecycle-renamed");

    // Delete (RFC 7592 §2.3): `{}`, then the registration is gone.
    let del = delete_registration(&uri, &rat, None);
    assert_eq!(del.ok(), json!({}));
    let gone = read_registration(&uri, &rat, None);
    assert_ne!(gone.status, 0, "a deleted registration cannot be read: {gone:?}");
    assert_no_leak(&gone, &[&rat, &secret]);
    // And the client no longer gets tokens.
    let refused = client_credentials(&c, None, None);
    assert_ne!(refused.status, 0, "{refused:?}");
    assert_not_logged(&[&rat, &secret]);
}

#[test]
fn register_at_the_endpoint_itself() {
    let endpoint = format!("{}/reg", provider::issuer());
    let doc = ffi::client(provider::issuer(), Params { client_id: "conf-basic", client_secret: Some("x"), ..Default::default() });
    let config = ffi::FfiClient::provider_config(&doc).ok();
    assert_eq!(config["registration_endpoint"], endpoint.as_str(), "discovery names the endpoint");
    let reg = register_client(&endpoint, &service_metadata("dcr-endpoint").to_string(), Some(r#"{"endpoint":true,"timeout_ms":10000}"#)).ok();
    assert!(!s(&reg, "client_id").is_empty());
    // The same URL taken for an issuer: discovery of it fails (no such document).
    let o = register_client(&endpoint, &service_metadata("dcr-x").to_string(), None);
    assert_ne!(o.status, 0);
}

#[test]
fn refused_redirect_uris_are_provider_errors() {
    install_log();
    let issuer = provider::issuer();
    // A fragment (RFC 6749 §3.1.2: never allowed).
    let md = json!({"redirect_uris": ["https://rp.example/cb#fragment"], "client_name": "dcr-fragment"});
    let e = register_client(issuer, &md.to_string(), None).err(PROVIDER, "invalid_redirect_uri");
    assert_eq!(e["error"], "invalid_redirect_uri", "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("fragment"), "{e}");
    assert_eq!(e["http_status"], 400);
    // A native client with http on a non-loopback host.
    let md = json!({"application_type": "native", "redirect_uris": ["http://rp.example/cb"]});
    let e = register_client(issuer, &md.to_string(), None).err(PROVIDER, "invalid_redirect_uri");
    assert_eq!(e["error"], "invalid_redirect_uri", "{e}");
    // Metadata of the wrong type: invalid_client_metadata.
    let mut md = service_metadata("dcr-bad-auth-method");
    md["token_endpoint_auth_method"] = json!("no_such_method");
    let e = register_client(issuer, &md.to_string(), None).err(PROVIDER, "invalid_client_metadata");
    assert_eq!(e["error"], "invalid_client_metadata", "{e}");
}

#[test]
fn wrong_registration_access_token_is_refused() {
    install_log();
    let issuer = provider::issuer();
    let reg = register_client(issuer, &service_metadata("dcr-wrong-token").to_string(), None).ok();
    let uri = s(&reg, "registration_client_uri");
    let rat = s(&reg, "registration_access_token");
    let secret = s(&reg, "client_secret");
    let wrong = "wrong-registration-access-token-0123456789";
    let o = read_registration(uri, wrong, None);
    let e = o.err(PROVIDER, "invalid_token");
    assert_eq!(e["http_status"], 401, "{e}");
    assert_no_leak(&o, &[wrong, rat, secret]);
    let mut md = service_metadata("dcr-hijacked");
    md["client_id"] = reg["client_id"].clone();
    let o = update_registration(uri, wrong, &md.to_string(), None);
    o.err(PROVIDER, "invalid_token");
    let o = delete_registration(uri, wrong, None);
    o.err(PROVIDER, "invalid_token");
    // Nothing changed: the right token still reads the original registration.
    let read = read_registration(uri, rat, None).ok();
    assert_eq!(read["client_name"], "dcr-wrong-token");
    // A registration access token of another client does not work either.
    let other = register_client(issuer, &service_metadata("dcr-other").to_string(), None).ok();
    read_registration(uri, s(&other, "registration_access_token"), None).err(PROVIDER, "invalid_token");
    assert_not_logged(&[rat, secret, s(&other, "registration_access_token")]);
    delete_registration(uri, rat, None).ok();
    // oidc-provider quirk: a registration access token used at another client's URI is
    // destroyed on the spot (a token that leaked is withdrawn), so the other client can no
    // longer be managed with it.
    read_registration(s(&other, "registration_client_uri"), s(&other, "registration_access_token"), None)
        .err(PROVIDER, "invalid_token");
}

#[test]
fn an_initial_access_token_the_provider_does_not_know_is_ignored_or_refused_never_leaked() {
    // oidc-provider here registers anonymously; a bearer token it was not configured for
    // is refused as invalid_token. Either way, the token never appears in the outcome.
    let iat = "initial-access-token-not-known-0123456789";
    let options = json!({"initial_access_token": iat}).to_string();
    let o = register_client(provider::issuer(), &service_metadata("dcr-iat").to_string(), Some(&options));
    assert_no_leak(&o, &[iat]);
    if o.status != 0 {
        o.err(PROVIDER, "invalid_token");
    }
}

#[test]
fn local_refusals_send_nothing() {
    let issuer = provider::issuer();
    let md = service_metadata("dcr-local").to_string();
    register_client(issuer, "{not json", None).err(INVALID_ARGUMENT, "metadata_json");
    register_client(issuer, "[]", None).err(INVALID_ARGUMENT, "metadata_json");
    register_client(issuer, r#"{"a":1,"a":2}"#, None).err(INVALID_ARGUMENT, "metadata_json");
    register_client(issuer, &md, Some(r#"{"initial_acess_token":"x"}"#)).err(INVALID_ARGUMENT, "initial_acess_token");
    register_client(issuer, &md, Some(r#"{"timeout_ms":0}"#)).err(INVALID_ARGUMENT, "timeout_ms");
    register_client(issuer, &md, Some(r#"{"initial_access_token":""}"#)).err(INVALID_ARGUMENT, "initial_access_token is empty");
    register_client("http://op.example", &md, None).err(INVALID_ARGUMENT, "https is required");
    register_client("https://op.example/reg#x", &md, Some(r#"{"endpoint":true}"#)).err(INVALID_ARGUMENT, "fragment");
    read_registration("ftp://op.example/reg/x", "t", None).err(INVALID_ARGUMENT, "unsupported scheme");
    read_registration(&format!("{issuer}/reg/x"), "", None).err(INVALID_ARGUMENT, "registration_access_token is empty");
    update_registration(&format!("{issuer}/reg/x"), "t", &md, None).err(INVALID_ARGUMENT, "client_id");
    delete_registration(&format!("{issuer}/reg/x"), "t", Some(r#"{"endpoint":true}"#)).err(INVALID_ARGUMENT, "endpoint");
}

#[test]
fn a_provider_without_registration_is_unsupported() {
    let stub = common::stub::StubServer::new();
    let o = register_client(&stub.issuer(), &service_metadata("dcr-stub").to_string(), None);
    o.err(UNSUPPORTED, "registration_endpoint");
}
