//! Hostile callers at the C boundary: every exported function of include/soidc.h with a
//! 2 MiB string argument, and options JSON of the wrong types for every function that
//! takes options. The rule: a clear status and a well-formed (error) document, never a
//! crash, a hang or an abort; wrong options are refused before any network access.
//! (`fork()` after use is in tests/hostile_fork.rs, a binary of its own.)

mod common;
mod hostile;

use common::ffi::{self, status_name, take, FfiClient, Outcome, Params};
use hostile::rp::{self, CLIENT_ID, SECRET};
use hostile::server::{HostileServer, DEVICE_PATH, TOKEN_PATH, USERINFO_PATH};
use serde_json::{json, Value};
use soidc::ffi::client as cl;
use soidc::ffi::status::*;
use soidc::ffi::util as ut;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

/// The size of the huge arguments: twice the largest input limit of soidc (1 MiB, state
/// documents and imported key sets; tokens 256 KiB) and far over the HTTP stack's (64 KiB
/// URIs, 128 KiB requests). 10 MB found nothing more and took five times as long (about
/// 20 s of CPU in a debug build).
const TWO_MIB: usize = 2 * 1024 * 1024;

/// A 2 MiB string of `fill` characters after `prefix`.
fn big(prefix: &str, fill: char) -> String {
    let mut s = String::with_capacity(TWO_MIB + prefix.len());
    s.push_str(prefix);
    s.extend(std::iter::repeat_n(fill, TWO_MIB));
    s
}

/// Checks that `out` has one of the `allowed` statuses and a well-formed document:
/// on failure an error document whose `status` names the code.
#[track_caller]
fn check(what: &str, out: &Outcome, allowed: &[i32]) -> Option<Value> {
    let shown = out.doc.as_deref().map(|d| d.chars().take(300).collect::<String>());
    assert!(allowed.contains(&out.status), "{what}: status {} ({}) not in {allowed:?}; document {shown:?}", out.status, status_name(out.status));
    let doc = out.doc.as_deref()?;
    if out.status != SOIDC_OK {
        let v: Value = serde_json::from_str(doc).unwrap_or_else(|e| panic!("{what}: error document is not JSON: {e}"));
        assert_eq!(v["status"], status_name(out.status), "{what}");
        assert!(v["message"].is_string(), "{what}");
        return Some(v);
    }
    None
}

/// A client of a hostile server that answers every endpoint sensibly.
fn client() -> rp::Rp {
    rp::rp(HostileServer::start(), None)
}

// ---------------------------------------------------------------------------------------
// The list of exported functions
// ---------------------------------------------------------------------------------------

/// Every function these tests call with hostile input. Kept in step with the header: a new
/// export makes `every_exported_function_is_covered` fail until it is added here.
const COVERED: [&str; 44] = [
    "soidc_auth_code_handle_form_post",
    "soidc_client_from_issuer_url", "soidc_client_from_issuer_url_with_log", "soidc_client_from_issuer_config", "soidc_client_free",
    "soidc_client_get_type", "soidc_client_provider_config", "soidc_client_provider_keys",
    "soidc_client_set_log_callback", "soidc_auth_code_start", "soidc_auth_code_handle_result",
    "soidc_auth_code_exchange", "soidc_client_credentials_grant", "soidc_direct_access_grant",
    "soidc_exchange_refresh_token", "soidc_device_authorization_start",
    "soidc_device_authorization_poll", "soidc_fetch_userinfo", "soidc_introspect_token",
    "soidc_revoke_token", "soidc_initiate_logout", "soidc_decode_id_token",
    "soidc_decode_access_token", "soidc_decode_logout_token", "soidc_string_free",
    "soidc_status_name", "soidc_version", "soidc_set_log_callback", "soidc_json_get_string",
    "soidc_json_get_int64", "soidc_json_get_bool", "soidc_json_get_raw", "soidc_json_quote",
    "soidc_client_export_state", "soidc_client_from_state", "soidc_client_import_keys",
    "soidc_token_exchange", "soidc_register_client", "soidc_client_read_registration",
    "soidc_client_update_registration", "soidc_client_delete_registration",
    "soidc_client_dpop_jwk", "soidc_dpop_proof",
    "soidc_claims_get",
];

fn export_state(c: *const cl::soidc_client, options: Option<&str>) -> Outcome {
    let options = options.map(ffi::cstr);
    // SAFETY: a live client (or NULL), valid strings and out-pointer.
    rp::call(|out| unsafe { cl::soidc_client_export_state(c, ffi::opt_ptr(&options), out) })
}

fn import_keys(c: *const cl::soidc_client, jwks: &str, options: Option<&str>) -> Outcome {
    let jwks = ffi::cstr(jwks);
    let options = options.map(ffi::cstr);
    // SAFETY: a live client (or NULL), valid strings and out-pointer.
    rp::call(|out| unsafe { cl::soidc_client_import_keys(c, jwks.as_ptr(), ffi::opt_ptr(&options), out) })
}

fn from_state(state: &str, options: Option<&str>) -> Outcome {
    let state = ffi::cstr(state);
    let id = ffi::cstr(CLIENT_ID);
    let options = options.map(ffi::cstr);
    let mut client: *mut cl::soidc_client = ptr::null_mut();
    // SAFETY: valid strings, valid out-pointers.
    let out = rp::call(|out| unsafe {
        cl::soidc_client_from_state(state.as_ptr(), ptr::null(), id.as_ptr(), ptr::null(), ptr::null(), ffi::opt_ptr(&options), &mut client, out)
    });
    if !client.is_null() {
        drop(FfiClient(client));
    }
    out
}

#[test]
fn every_exported_function_is_covered() {
    let header = std::fs::read_to_string(common::repo_root().join("include/soidc.h")).expect("include/soidc.h");
    let mut exported: Vec<String> = header
        .lines()
        .filter(|l| !l.trim_start().starts_with('*') && !l.trim_start().starts_with("/*") && !l.starts_with(' '))
        .filter_map(|l| {
            // The identifier right before the first '(' of a declaration line.
            let before = &l[..l.find('(')?];
            let name = before.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next()?;
            name.starts_with("soidc_").then(|| name.to_owned())
        })
        .collect();
    exported.sort();
    exported.dedup();
    let missing: Vec<&String> = exported.iter().filter(|n| !COVERED.contains(&n.as_str())).collect();
    assert!(missing.is_empty(), "exported but not covered by the hostile-caller tests: {missing:?}");
    assert!(exported.len() >= 25, "parsed only {exported:?}");
}

// ---------------------------------------------------------------------------------------
// 2 MiB string arguments
// ---------------------------------------------------------------------------------------

/// A 2 MiB token to each decoder: `SOIDC_ERR_VALIDATION` naming the size limit, before any
/// parsing or key fetch.
#[test]
fn two_mib_token_hits_the_size_limit_in_every_decoder() {
    let rp = client();
    let token = big("eyJhbGciOiJSUzI1NiJ9.", 'A');
    let before = rp.server.request_count();
    let outs = [
        ("soidc_decode_id_token", rp::decode_id_token(rp.c(), &token, None)),
        ("soidc_decode_access_token", rp::decode_access_token(rp.c(), &token, None)),
        ("soidc_decode_logout_token", rp::decode_logout_token(rp.c(), &token, None)),
    ];
    for (what, out) in &outs {
        let e = check(what, out, &[SOIDC_ERR_VALIDATION]).unwrap();
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains("262144-byte limit"), "{what}: {msg}");
        assert!(msg.len() < 500, "{what}: the message does not echo the token");
    }
    assert_eq!(rp.server.request_count(), before, "no network for an oversized token");
}

/// The constructors with each argument 2 MiB long in turn.
#[test]
fn two_mib_arguments_to_the_constructors() {
    let server = HostileServer::start();
    let issuer = server.issuer();
    let huge = big("", 'x');
    let base = Params {
        redirect_uri: Some("http://rp.example/cb"),
        client_id: CLIENT_ID,
        client_secret: Some(SECRET),
        scope: None,
        options: None,
    };
    // The issuer: not a URL at all, then a URL with a 2 MiB path (over the http crate's
    // URI limit, so the discovery request cannot even be built).
    let (out, _) = ffi::from_issuer_url(&huge, base);
    check("issuer_url 2 MiB garbage", &out, &[SOIDC_ERR_INVALID_ARGUMENT]);
    let long_issuer = format!("{issuer}/{huge}");
    let (out, _) = ffi::from_issuer_url(&long_issuer, base);
    // (NETWORK today, INVALID_ARGUMENT by the contract: see
    // oversized_requests_are_the_callers_error_not_the_providers.)
    let e = check("issuer_url with a 2 MiB path", &out, &[SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_NETWORK]).unwrap();
    assert!(e["message"].as_str().unwrap().len() < 1000, "the message does not echo 2 MiB");

    // Strings the client only stores: accepted.
    for (what, p) in [
        ("redirect_uri", Params { redirect_uri: Some(&huge), ..base }),
        ("client_id", Params { client_id: &huge, ..base }),
        ("client_secret", Params { client_secret: Some(&huge), ..base }),
        ("scope", Params { scope: Some(&huge), ..base }),
    ] {
        let (out, client) = ffi::from_issuer_url(&issuer, p);
        check(what, &out, &[SOIDC_OK]);
        assert!(client.is_some(), "{what}");
    }
    // Options: 2 MiB of whitespace around an empty object is a valid empty object; a
    // 2 MiB value of an unknown key is refused.
    let spaces = format!("{{{}}}", " ".repeat(TWO_MIB));
    let (out, _) = ffi::from_issuer_url(&issuer, Params { options: Some(&spaces), ..base });
    check("options 2 MiB of whitespace", &out, &[SOIDC_OK]);
    let unknown = format!(r#"{{"x_padding": "{huge}"}}"#);
    let (out, _) = ffi::from_issuer_url(&issuer, Params { options: Some(&unknown), ..base });
    check("options with a 2 MiB unknown member", &out, &[SOIDC_ERR_INVALID_ARGUMENT]);
    let proxy = format!(r#"{{"proxy": "http://{huge}"}}"#);
    let (out, _) = ffi::from_issuer_url(&issuer, Params { options: Some(&proxy), ..base });
    check("options with a 2 MiB proxy URL", &out, &[SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_NETWORK, SOIDC_ERR_HTTP]);
}

/// A 2 MiB provider metadata document (valid, with a 2 MiB extension member) makes a
/// client; `soidc_client_provider_config` hands the document back (over 2 MiB), and
/// `soidc_string_free` frees it.
#[test]
fn two_mib_metadata_then_provider_config_and_string_free() {
    let server = HostileServer::start();
    let mut doc = server.discovery_doc();
    doc["x_padding"] = json!(big("", 'p'));
    let text = doc.to_string();
    let (out, client) = ffi::from_issuer_config(&text, Params { client_id: CLIENT_ID, ..Default::default() });
    check("from_issuer_config 2 MiB", &out, &[SOIDC_OK]);
    let client = client.unwrap();
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live client, a valid out-pointer.
    let status = unsafe { cl::soidc_client_provider_config(client.0, &mut out) };
    assert_eq!(status, SOIDC_OK);
    assert!(!out.is_null());
    // SAFETY: out is soidc's NUL-terminated string.
    let len = unsafe { CStr::from_ptr(out) }.to_bytes().len();
    assert!(len > TWO_MIB, "{len}");
    // SAFETY: handed out by soidc, freed once.
    unsafe { ut::soidc_string_free(out) };
    // Not a valid document: a 2 MiB string of garbage.
    let (out, _) = ffi::from_issuer_config(&big("{", '['), Params { client_id: CLIENT_ID, ..Default::default() });
    check("from_issuer_config 2 MiB garbage", &out, &[SOIDC_ERR_INVALID_ARGUMENT]);
}

/// The flows with 2 MiB strings: each call ends with a clear status. What goes to the
/// provider goes in full (a 2 MiB code, token, scope...), and the provider's answer
/// decides; nothing crashes or hangs.
#[test]
fn two_mib_arguments_to_the_flows() {
    let rp = client();
    let c = rp.c();
    let huge = big("", 'z');
    // Built with format! rather than serde (the filler needs no escaping): 2 MiB
    // documents are slow to serialise in a debug build.
    let huge_opts = |key: &str| format!(r#"{{"{key}": "{huge}"}}"#);

    // Options documents of 2 MiB with a known key (handled) and an unknown one (refused).
    check("auth_code_start login_hint", &rp::auth_code_start(c, Some(&huge_opts("login_hint"))), &[SOIDC_OK]);
    check("auth_code_start unknown", &rp::auth_code_start(c, Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("provider_keys unknown", &rp::provider_keys(c, Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);

    // The redirect URL and the code.
    let url = rp::callback_url(&[("code", &huge), ("state", rp::STATE)]);
    let out = rp.handle(&url, &rp::result_options());
    check("handle_result 2 MiB code", &out, &[SOIDC_ERR_PROVIDER]);
    let req = rp.server.requests_to(TOKEN_PATH).pop().unwrap();
    assert!(req.body_len > TWO_MIB, "the code went to the token endpoint in full");
    let out = rp.handle(&big("http://rp.example/cb?state=", 's'), &rp::result_options());
    check("handle_result 2 MiB state", &out, &[SOIDC_ERR_VALIDATION]);
    check("handle_result 2 MiB garbage", &rp.handle(&huge, &rp::result_options()), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("handle_result 2 MiB options", &rp::handle_result(c, &rp.callback_url(), Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("auth_code_exchange 2 MiB code", &rp::auth_code_exchange(c, &huge, None), &[SOIDC_ERR_PROVIDER]);
    // form_post: a 2 MiB body is over the limit before it is parsed; 2 MiB documents.
    let form = "application/x-www-form-urlencoded";
    check("handle_form_post 2 MiB body", &rp::handle_form_post(c, form, &huge, None, None), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("handle_form_post 2 MiB content type", &rp::handle_form_post(c, &huge, "code=c", None, None), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("handle_form_post 2 MiB state", &rp::handle_form_post(c, form, "code=c&state=s", Some(&huge_opts("state")), None), &[SOIDC_ERR_VALIDATION]);
    check("handle_form_post 2 MiB options", &rp::handle_form_post(c, form, "code=c", None, Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("auth_code_exchange 2 MiB options", &rp::auth_code_exchange(c, "c", Some(&huge_opts("redirect_uri"))), &[SOIDC_ERR_PROVIDER]);

    // Grants.
    check("client_credentials 2 MiB scope", &rp::client_credentials(c, Some(&huge), None), &[SOIDC_ERR_PROVIDER]);
    check("client_credentials 2 MiB options", &rp::client_credentials(c, None, Some(&huge_opts("resource"))), &[SOIDC_ERR_PROVIDER]);
    check("direct_access 2 MiB username", &rp::direct_access(c, &huge, "pw", None, None), &[SOIDC_ERR_PROVIDER]);
    check("direct_access 2 MiB password", &rp::direct_access(c, "alice", &huge, None, None), &[SOIDC_ERR_PROVIDER]);
    check("direct_access 2 MiB scope", &rp::direct_access(c, "alice", "pw", Some(&huge), None), &[SOIDC_ERR_PROVIDER]);
    check("direct_access 2 MiB nonce option", &rp::direct_access(c, "alice", "pw", None, Some(&huge_opts("nonce"))), &[SOIDC_ERR_PROVIDER]);
    check("refresh 2 MiB refresh_token", &rp::refresh(c, &huge, None), &[SOIDC_ERR_PROVIDER]);
    // The original ID token is checked before the request: over the token size limit.
    check("refresh 2 MiB id_token option", &rp::refresh(c, "rt", Some(&huge_opts("id_token"))), &[SOIDC_ERR_INVALID_ARGUMENT]);

    // A refresh whose response carries a new ID token, checked against a 2 MiB "original".
    rp.server.set_token_response(&json!({
        "access_token": "at", "token_type": "Bearer",
        "id_token": rp.rs256(&json!({"iss": rp.issuer(), "sub": "user-1", "aud": CLIENT_ID, "exp": common::now() + 300, "iat": common::now()}))
    }));
    let e = check("refresh 2 MiB original id_token", &rp::refresh(c, "rt", Some(&huge_opts("id_token"))), &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
    assert!(e["message"].as_str().unwrap().contains("262144-byte limit"), "{e}");
    rp.server.set_json(TOKEN_PATH, 400, &json!({"error": "invalid_grant"}));

    // Device flow.
    check("device_start 2 MiB scope", &rp::device_start(c, Some(&huge), None), &[SOIDC_OK]);
    assert!(rp.server.requests_to(DEVICE_PATH).pop().unwrap().body_len > TWO_MIB);
    check("device_start 2 MiB options", &rp::device_start(c, None, Some(&huge_opts("resource"))), &[SOIDC_OK]);
    check("device_poll 2 MiB device_code", &rp::device_poll(c, &huge, None), &[SOIDC_ERR_PROVIDER]);
    check("device_poll 2 MiB options", &rp::device_poll(c, "dc", Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);

    // Endpoints.
    let out = rp::userinfo(c, &huge, None);
    check("userinfo 2 MiB access token", &out, &[SOIDC_ERR_HTTP, SOIDC_ERR_INVALID_ARGUMENT]);
    check("userinfo 2 MiB expected_sub", &rp::userinfo(c, "at", Some(&huge_opts("expected_sub"))), &[SOIDC_ERR_VALIDATION]);
    check("introspect 2 MiB token", &rp::introspect(c, &huge, None, None), &[SOIDC_OK]);
    check("introspect 2 MiB hint", &rp::introspect(c, "t", Some(&huge), None), &[SOIDC_OK]);
    check("introspect 2 MiB options", &rp::introspect(c, "t", None, Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("revoke 2 MiB token", &rp::revoke(c, &huge, Some(&huge), None), &[SOIDC_OK]);
    check("revoke 2 MiB options", &rp::revoke(c, "t", None, Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);
    let logout = rp::initiate_logout(c, Some(&huge_opts("id_token_hint")));
    check("initiate_logout 2 MiB id_token_hint", &logout, &[SOIDC_OK]);
    assert!(logout.doc.unwrap().len() > TWO_MIB);
    check("initiate_logout 2 MiB unknown", &rp::initiate_logout(c, Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);

    // Decoders: 2 MiB options.
    check("decode_id_token 2 MiB nonce", &rp::decode_id_token(c, "a.b.c", Some(&huge_opts("nonce"))), &[SOIDC_ERR_VALIDATION]);
    check("decode_access_token 2 MiB audience", &rp::decode_access_token(c, "a.b.c", Some(&huge_opts("audience"))), &[SOIDC_ERR_VALIDATION]);
    check("decode_logout_token 2 MiB unknown", &rp::decode_logout_token(c, "a.b.c", Some(&huge_opts("x_pad"))), &[SOIDC_ERR_INVALID_ARGUMENT]);

    // The client still works.
    check("userinfo afterwards", &rp::userinfo(c, "at", None), &[SOIDC_OK]);
    assert!(rp.server.count(USERINFO_PATH) >= 2);
}

/// A request the client cannot even write — a URL over the `http` crate's URI limit
/// (64 KiB), a header over ureq's 128 KiB request buffer — is the caller's input at fault:
/// by the status table it is `SOIDC_ERR_INVALID_ARGUMENT`, not `SOIDC_ERR_NETWORK` ("DNS,
/// connect, TLS, timeout, reset"), and the message must not blame the provider ("malformed
/// HTTP from <host>") which received nothing.
#[test]
fn oversized_requests_are_the_callers_error_not_the_providers() {
    let rp = client();
    let before = rp.server.request_count();
    let token = big("", 't'); // 2 MiB; 200 KB behaves the same
    let out = rp::userinfo(rp.c(), &token[..200 * 1024], None);
    let e = check("userinfo 200 KB access token", &out, &[SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_HTTP, SOIDC_ERR_NETWORK]).unwrap();
    let msg = e["message"].as_str().unwrap().to_owned();
    let long_issuer = format!("{}/{}", rp.issuer(), &token[..100 * 1024]);
    let (out2, _) = ffi::from_issuer_url(&long_issuer, Params { client_id: CLIENT_ID, ..Default::default() });
    let e2 = check("issuer with a 100 KB path", &out2, &[SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_HTTP, SOIDC_ERR_NETWORK]).unwrap();
    assert_eq!(rp.server.request_count(), before, "nothing reached the provider");
    assert!(!msg.contains("malformed HTTP from"), "the provider is blamed for the client's oversized request: {msg}");
    assert_eq!(out.status, SOIDC_ERR_INVALID_ARGUMENT, "userinfo with a 200 KB token: {msg}");
    assert_eq!(out2.status, SOIDC_ERR_INVALID_ARGUMENT, "issuer with a 100 KB path: {e2}");
}

unsafe extern "C" fn count_messages(_level: c_int, message: *const c_char, user_data: *mut c_void) {
    // SAFETY: soidc passes a NUL-terminated message; user_data is the test's counter.
    let len = unsafe { CStr::from_ptr(message) }.to_bytes().len();
    let max = unsafe { &*(user_data as *const std::sync::atomic::AtomicUsize) };
    max.fetch_max(len, std::sync::atomic::Ordering::Relaxed);
}

/// The functions without string arguments, with hostile non-string arguments: NULL
/// handles, out-of-range status codes and log levels; and a per-client log callback that
/// watches a 2 MiB client id go by (messages stay bounded or at least deliverable).
#[test]
fn functions_without_string_arguments_take_hostile_values() {
    for status in [i32::MIN, -1, 11, 99, 101, i32::MAX] {
        // SAFETY: static string.
        let name = unsafe { CStr::from_ptr(ut::soidc_status_name(status)) };
        assert_eq!(name.to_str().unwrap(), "unknown");
    }
    // SAFETY: static string.
    let version = unsafe { CStr::from_ptr(ut::soidc_version()) }.to_str().unwrap().to_owned();
    assert_eq!(version.split('.').count(), 3);
    // SAFETY: NULL is allowed for all of these.
    unsafe {
        cl::soidc_client_free(ptr::null_mut());
        ut::soidc_string_free(ptr::null_mut());
        assert_eq!(cl::soidc_client_get_type(ptr::null()), SOIDC_CLIENT_INVALID);
        ut::soidc_set_log_callback(None, i32::MIN, ptr::null_mut());
        ut::soidc_set_log_callback(None, i32::MAX, ptr::null_mut());
    }
    let status = unsafe { cl::soidc_client_set_log_callback(ptr::null(), None, 3, ptr::null_mut()) };
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);

    let server = HostileServer::start();
    let huge_id = big("", 'i');
    let client: FfiClient = ffi::client(&server.issuer(), Params { client_id: &huge_id, client_secret: Some(SECRET), ..Default::default() });
    let longest = Box::new(std::sync::atomic::AtomicUsize::new(0));
    let user_data = &*longest as *const _ as *mut c_void;
    // SAFETY: the counter outlives the client (dropped after it below).
    let status = unsafe { cl::soidc_client_set_log_callback(client.0, Some(count_messages), i32::MAX, user_data) };
    assert_eq!(status, SOIDC_OK);
    let out = rp::decode_id_token(client.0, "a.b.c", None);
    check("decode with a 2 MiB client id", &out, &[SOIDC_ERR_VALIDATION]);
    let out = rp::client_credentials(client.0, None, None);
    // The Basic header is over ureq's 128 KiB request buffer: HTTP today (see
    // oversized_requests_are_the_callers_error_not_the_providers).
    check("client_credentials with a 2 MiB client id", &out, &[SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_HTTP]);
    // SAFETY: switch the callback off before the counter goes away.
    unsafe { cl::soidc_client_set_log_callback(client.0, None, 0, ptr::null_mut()) };
    drop(client);
    assert!(longest.load(std::sync::atomic::Ordering::Relaxed) > 0, "the per-client callback saw messages");
}

/// The JSON helpers with 2 MiB arguments: a 2 MiB document (read in full, the value found),
/// 2 MiB of nesting (refused, no stack overflow), a 2 MiB pointer and a 2 MiB string to
/// quote. Statuses only; nothing is printed.
#[test]
fn two_mib_arguments_to_the_json_helpers() {
    use soidc::ffi::json::*;
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let mut doc = String::with_capacity(TWO_MIB + 64);
    doc.push_str(r#"{"pad":""#);
    doc.extend(std::iter::repeat_n('x', TWO_MIB));
    doc.push_str(r#"","n":[1,2,{"v":42}]}"#);
    let doc = c(&doc);
    let mut n = 0i64;
    // SAFETY: valid C strings and out-pointers for every call below.
    unsafe {
        assert_eq!(soidc_json_get_int64(doc.as_ptr(), c"/n/2/v".as_ptr(), &mut n), SOIDC_OK);
        assert_eq!(n, 42);
        let mut out: *mut c_char = ptr::null_mut();
        assert_eq!(soidc_json_get_string(doc.as_ptr(), c"/pad".as_ptr(), &mut out), SOIDC_OK);
        assert_eq!(take(out).unwrap().len(), TWO_MIB);

        let deep = c(&("[".repeat(TWO_MIB / 2) + &"]".repeat(TWO_MIB / 2)));
        let mut raw: *mut c_char = std::ptr::dangling_mut::<c_char>();
        assert_eq!(soidc_json_get_raw(deep.as_ptr(), c"".as_ptr(), &mut raw), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(raw.is_null());
        let unclosed = c(&"{\"a\":".repeat(TWO_MIB / 5));
        let mut b = 7;
        assert_eq!(soidc_json_get_bool(unclosed.as_ptr(), c"/a".as_ptr(), &mut b), SOIDC_ERR_INVALID_ARGUMENT);
        assert_eq!(b, 7);

        let long_pointer = c(&"/a".repeat(TWO_MIB / 2));
        assert_eq!(soidc_json_get_int64(doc.as_ptr(), long_pointer.as_ptr(), &mut n), SOIDC_ERR_NOT_FOUND);
        let long_tildes = c(&("/".to_owned() + &"~".repeat(TWO_MIB)));
        assert_eq!(soidc_json_get_int64(doc.as_ptr(), long_tildes.as_ptr(), &mut n), SOIDC_ERR_INVALID_ARGUMENT);

        let quotes = c(&big("", '"'));
        let q = take(soidc_json_quote(quotes.as_ptr())).unwrap();
        assert_eq!(q.len(), 2 * TWO_MIB + 2);
        let controls = c(&big("", '\u{1}'));
        let q = take(soidc_json_quote(controls.as_ptr())).unwrap();
        assert_eq!(q.len(), 6 * TWO_MIB + 2);
    }
}

// ---------------------------------------------------------------------------------------
// Options of the wrong types
// ---------------------------------------------------------------------------------------

/// Calls one function with an options document.
type Caller = Box<dyn Fn(&str) -> Outcome>;
/// A function's name, its caller, and bad options with the member each one gets wrong.
type Case = (&'static str, Caller, Vec<(&'static str, Value)>);

/// Each function with options, and for each a list of documents with a member of the
/// wrong JSON type (or not an object at all). Every one is `SOIDC_ERR_INVALID_ARGUMENT`
/// with a message naming the member, and nothing reaches the provider.
#[test]
fn options_of_the_wrong_types_are_refused_for_every_function() {
    let rp = client();
    let server = HostileServer::start();
    let issuer = server.issuer();
    let cp = rp.client.0 as usize;
    let c = move || cp as *const soidc::ffi::client::soidc_client;
    let state_doc = rp::doc(&export_state(c(), None)).to_string();
    let cases: Vec<Case> = vec![
        ("soidc_client_from_issuer_url", Box::new(move |o: &str| ffi::from_issuer_url(&issuer, Params { client_id: CLIENT_ID, options: Some(o), ..Default::default() }).0), vec![
            ("timeout_ms", json!({"timeout_ms": "1000"})),
            ("leeway_s", json!({"leeway_s": -1})),
            ("allowed_algs", json!({"allowed_algs": "RS256"})),
            ("allowed_algs", json!({"allowed_algs": [256]})),
            ("allow_insecure_http", json!({"allow_insecure_http": "yes"})),
            ("max_response_bytes", json!({"max_response_bytes": 1.5})),
            ("ca_file", json!({"ca_file": ["/etc/ssl/certs"]})),
        ]),
        ("soidc_client_from_issuer_config", Box::new(|o: &str| {
            let md = json!({"issuer": "https://op.example", "authorization_endpoint": "https://op.example/a", "jwks_uri": "https://op.example/j", "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"]});
            ffi::from_issuer_config(&md.to_string(), Params { client_id: CLIENT_ID, options: Some(o), ..Default::default() }).0
        }), vec![
            ("min_jwks_cache_s", json!({"min_jwks_cache_s": "600"})),
            ("auth_method", json!({"auth_method": 1})),
            ("private_key_pem", json!({"private_key_pem": {"pem": "x"}})),
        ]),
        ("soidc_client_provider_keys", Box::new(move |o: &str| rp::provider_keys(c(), Some(o))), vec![
            ("force_refresh", json!({"force_refresh": "true"})),
            ("cache_only", json!({"cache_only": 1})),
            ("timeout_ms", json!({"timeout_ms": -5})),
        ]),
        ("soidc_client_export_state", Box::new(move |o: &str| export_state(c(), Some(o))), vec![
            ("x_pad", json!({"x_pad": 1})),
        ]),
        ("soidc_client_import_keys", Box::new(move |o: &str| import_keys(c(), r#"{"keys":[]}"#, Some(o))), vec![
            ("max_age_s", json!({"max_age_s": "600"})),
            ("max_age_s", json!({"max_age_s": -1})),
            ("max_age_s", json!({"max_age_s": 1e9})),
        ]),
        ("soidc_client_from_state", Box::new(move |o: &str| from_state(&state_doc, Some(o))), vec![
            ("issuer", json!({"issuer": 5})),
            ("cache_dir", json!({"cache_dir": ["/tmp"]})),
            ("timeout_ms", json!({"issuer": "https://op.example", "timeout_ms": "1000"})),
        ]),
        ("soidc_auth_code_start", Box::new(move |o: &str| rp::auth_code_start(c(), Some(o))), vec![
            ("pkce", json!({"pkce": "yes"})),
            ("state", json!({"state": 5})),
            ("prompt", json!({"prompt": 5})),
            ("max_age", json!({"max_age": "60"})),
            ("extra_params", json!({"extra_params": ["a", "b"]})),
        ]),
        ("soidc_auth_code_handle_result", Box::new(move |o: &str| rp::handle_result(c(), "http://rp.example/cb?code=c&state=s", Some(o))), vec![
            ("state", json!({"state": 5})),
            ("nonce", json!({"nonce": ["n"]})),
            ("require_id_token", json!({"require_id_token": "true"})),
            ("max_age", json!({"max_age": -1})),
            ("timeout_ms", json!({"timeout_ms": "5000"})),
        ]),
        ("soidc_auth_code_handle_form_post", Box::new(move |o: &str| {
            rp::handle_form_post(c(), "application/x-www-form-urlencoded", "code=c&state=s", Some(r#"{"state":"s"}"#), Some(o))
        }), vec![
            ("max_age", json!({"max_age": "60"})),
            ("require_id_token", json!({"require_id_token": 1})),
            ("timeout_ms", json!({"timeout_ms": -1})),
            ("state", json!({"state": "s"})),
        ]),
        ("soidc_auth_code_handle_form_post", Box::new(move |o: &str| {
            rp::handle_form_post(c(), "application/x-www-form-urlencoded", "code=c&state=s", Some(o), None)
        }), vec![
            ("state", json!({"state": 5})),
            ("nonce", json!({"nonce": ["n"]})),
            ("response_mode", json!({"response_mode": "query.jwt"})),
            ("redirect_uri", json!({"redirect_uri": "auto"})),
        ]),
        ("soidc_auth_code_start", Box::new(move |o: &str| rp::auth_code_start(c(), Some(o))), vec![
            ("par", json!({"par": "yes"})),
            ("request_object", json!({"request_object": "unsigned"})),
            ("request_object_alg", json!({"request_object_alg": 256})),
        ]),
        ("soidc_device_authorization_start", Box::new(move |o: &str| rp::device_start(c(), None, Some(o))), vec![
            ("pkce", json!({"pkce": "on"})),
        ]),
        ("soidc_device_authorization_poll", Box::new(move |o: &str| rp::device_poll(c(), "dc", Some(o))), vec![
            ("code_verifier", json!({"code_verifier": "too-short"})),
        ]),
        ("soidc_auth_code_exchange", Box::new(move |o: &str| rp::auth_code_exchange(c(), "code", Some(o))), vec![
            ("code_verifier", json!({"code_verifier": 1})),
            ("redirect_uri", json!({"redirect_uri": false})),
        ]),
        ("soidc_client_credentials_grant", Box::new(move |o: &str| rp::client_credentials(c(), None, Some(o))), vec![
            ("resource", json!({"resource": 5})),
            ("extra_params", json!({"extra_params": "a=b"})),
        ]),
        ("soidc_direct_access_grant", Box::new(move |o: &str| rp::direct_access(c(), "alice", "pw", None, Some(o))), vec![
            ("nonce", json!({"nonce": 5})),
            ("timeout_ms", json!({"timeout_ms": true})),
        ]),
        ("soidc_exchange_refresh_token", Box::new(move |o: &str| rp::refresh(c(), "rt", Some(o))), vec![
            ("id_token", json!({"id_token": 5})),
            ("scope", json!({"scope": ["openid"]})),
        ]),
        ("soidc_device_authorization_start", Box::new(move |o: &str| rp::device_start(c(), None, Some(o))), vec![
            ("resource", json!({"resource": {"a": 1}})),
        ]),
        ("soidc_device_authorization_poll", Box::new(move |o: &str| rp::device_poll(c(), "dc", Some(o))), vec![
            ("wait", json!({"wait": "true"})),
            ("interval", json!({"interval": -1})),
            ("expires_in", json!({"expires_in": "600"})),
        ]),
        ("soidc_fetch_userinfo", Box::new(move |o: &str| rp::userinfo(c(), "at", Some(o))), vec![
            ("expected_sub", json!({"expected_sub": 5})),
        ]),
        ("soidc_introspect_token", Box::new(move |o: &str| rp::introspect(c(), "t", None, Some(o))), vec![
            ("timeout_ms", json!({"timeout_ms": -5})),
        ]),
        ("soidc_revoke_token", Box::new(move |o: &str| rp::revoke(c(), "t", None, Some(o))), vec![
            ("timeout_ms", json!({"timeout_ms": 1.5})),
        ]),
        ("soidc_initiate_logout", Box::new(move |o: &str| rp::initiate_logout(c(), Some(o))), vec![
            ("client_id", json!({"client_id": "yes"})),
            ("ui_locales", json!({"ui_locales": 5})),
            ("id_token_hint", json!({"id_token_hint": {"t": 1}})),
        ]),
        ("soidc_decode_id_token", Box::new(move |o: &str| rp::decode_id_token(c(), "a.b.c", Some(o))), vec![
            ("nonce", json!({"nonce": 5})),
            ("extra_trusted_audiences", json!({"extra_trusted_audiences": "rp"})),
            ("min_iat", json!({"min_iat": "0"})),
            ("expect_self_azp", json!({"expect_self_azp": "false"})),
        ]),
        ("soidc_decode_access_token", Box::new(move |o: &str| rp::decode_access_token(c(), "a.b.c", Some(o))), vec![
            ("required_scopes", json!({"required_scopes": "a b"})),
            ("audience", json!({"audience": 5})),
        ]),
        ("soidc_decode_logout_token", Box::new(move |o: &str| rp::decode_logout_token(c(), "a.b.c", Some(o))), vec![
            ("extra_trusted_audiences", json!({"extra_trusted_audiences": 5})),
            ("min_iat", json!({"min_iat": "x"})),
        ]),
    ];
    let not_objects = ["null", "[]", "\"timeout_ms\"", "42", "true", "{\"a\":", "{} {}"];
    let before = rp.server.request_count() + server.request_count();
    for (function, call, bad) in &cases {
        for (member, options) in bad {
            let text = options.to_string();
            let out = call(&text);
            let e = check(&format!("{function} {text}"), &out, &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
            let msg = e["message"].as_str().unwrap();
            assert!(msg.contains(member), "{function} {text}: the message {msg:?} does not name {member}");
        }
        for text in not_objects {
            let out = call(text);
            check(&format!("{function} {text}"), &out, &[SOIDC_ERR_INVALID_ARGUMENT]);
        }
        // Nested 10 000 deep: refused (soidc parses at most 64 levels), not a stack overflow.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        check(&format!("{function} nested"), &call(&deep), &[SOIDC_ERR_INVALID_ARGUMENT]);
        let deep = format!(r#"{{"timeout_ms": {}1{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
        check(&format!("{function} nested member"), &call(&deep), &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    assert_eq!(rp.server.request_count() + server.request_count(), before, "wrong options reached the network");
    // The functions reached through a NULL options pointer are fine (no options is valid).
    // SAFETY: a live client, NULL options, a valid out-pointer.
    let mut out: *mut c_char = ptr::null_mut();
    let status = unsafe { soidc::ffi::flows::soidc_auth_code_start(c(), ptr::null(), &mut out) };
    let doc = unsafe { take(out) };
    assert_eq!(status, SOIDC_OK, "{doc:?}");
}

// ---------------------------------------------------------------------------------------
// soidc_client_from_issuer_url_with_log
// ---------------------------------------------------------------------------------------

struct Collected(std::sync::Mutex<Vec<String>>);

unsafe extern "C" fn collect_log(_level: c_int, msg: *const c_char, user_data: *mut c_void) {
    // SAFETY: user_data is the test's Collected, alive for the whole test; msg is a C string.
    let (c, m) = unsafe { (&*(user_data as *const Collected), CStr::from_ptr(msg)) };
    c.0.lock().unwrap().push(m.to_string_lossy().into_owned());
}

/// The creation-time log callback: hostile arguments get clear statuses and no client;
/// a good call's discovery messages reach the client's own callback (not the
/// process-wide one), and later calls keep using it.
#[test]
fn from_issuer_url_with_log_hostile_arguments_and_creation_messages() {
    let server = HostileServer::start();
    let issuer = server.issuer();
    let call = |issuer: *const c_char, client_id: *const c_char, cb: ut::soidc_log_callback, ud: *mut c_void, out_client: *mut *mut cl::soidc_client| {
        let mut out_json: *mut c_char = ptr::null_mut();
        // SAFETY: every pointer is NULL or valid for the call.
        let status = unsafe {
            cl::soidc_client_from_issuer_url_with_log(issuer, ptr::null(), client_id, ptr::null(), ptr::null(), ptr::null(), cb, 5, ud, out_client, &mut out_json)
        };
        // SAFETY: soidc's string or NULL.
        (status, unsafe { take(out_json) })
    };
    let iss = ffi::cstr(&issuer);
    let id = ffi::cstr(CLIENT_ID);
    let collected = Box::new(Collected(std::sync::Mutex::new(Vec::new())));
    let ud = &*collected as *const Collected as *mut c_void;
    let mut out: *mut cl::soidc_client = ptr::null_mut();
    // NULL issuer, NULL client_id, NULL out_client: INVALID_ARGUMENT, no client.
    let (st, doc) = call(ptr::null(), id.as_ptr(), Some(collect_log), ud, &mut out);
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT, "{doc:?}");
    assert!(out.is_null());
    let (st, _) = call(iss.as_ptr(), ptr::null(), Some(collect_log), ud, &mut out);
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT);
    let (st, _) = call(iss.as_ptr(), id.as_ptr(), Some(collect_log), ud, ptr::null_mut());
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT);
    // Invalid UTF-8 and a 2 MiB issuer.
    let bad = std::ffi::CString::new(vec![b'h', 0xff, b'x']).unwrap();
    let (st, doc) = call(bad.as_ptr(), id.as_ptr(), None, ptr::null_mut(), &mut out);
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT, "{doc:?}");
    let huge = ffi::cstr(&big("http://127.0.0.1/", 'a'));
    let (st, _) = call(huge.as_ptr(), id.as_ptr(), Some(collect_log), ud, &mut out);
    assert!(st == SOIDC_ERR_INVALID_ARGUMENT || st == SOIDC_ERR_NETWORK || st == SOIDC_ERR_HTTP, "status {st}");
    assert!(out.is_null());
    // A good call: the discovery messages went to the client's callback.
    collected.0.lock().unwrap().clear();
    let (st, doc) = call(iss.as_ptr(), id.as_ptr(), Some(collect_log), ud, &mut out);
    assert_eq!(st, SOIDC_OK, "{doc:?}");
    let client = FfiClient(out);
    let messages = collected.0.lock().unwrap().clone();
    assert!(messages.iter().any(|m| m.contains("discovery")), "creation messages: {messages:?}");
    assert!(messages.iter().any(|m| m.contains("ready")), "creation messages: {messages:?}");
    // ... and later calls keep using it.
    let before = collected.0.lock().unwrap().len();
    client.provider_keys(None).ok();
    assert!(collected.0.lock().unwrap().len() > before, "later calls log to the same callback");
    drop(client);
    // NULL callback: the same as soidc_client_from_issuer_url.
    let mut out2: *mut cl::soidc_client = ptr::null_mut();
    let (st, _) = call(iss.as_ptr(), id.as_ptr(), None, ptr::null_mut(), &mut out2);
    assert_eq!(st, SOIDC_OK);
    drop(FfiClient(out2));
}

/// The state functions with 2 MiB and deeply nested documents, NULL handles and a
/// hostile server's state: a clear status, a well-formed document, no request, and
/// the client unchanged.
#[test]
fn hostile_documents_to_the_state_functions() {
    let rp = client();
    let c = rp.client.0 as *const cl::soidc_client;
    let before = rp.server.request_count();
    let keys_before = rp::provider_keys(c, Some(r#"{"cache_only": true}"#));
    let huge = big(r#"{"keys": [], "x": ""#, 'k') + "\"}";
    let e = check("import_keys 2 MiB", &import_keys(c, &huge, None), &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
    assert!(e["message"].as_str().unwrap().contains("more than the 1048576 allowed"), "{e}");
    let deep = format!(r#"{{"keys": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    check("import_keys nested", &import_keys(c, &deep, None), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("import_keys NUL-free garbage", &import_keys(c, "\u{1}\u{2}", None), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("import_keys NULL client", &import_keys(ptr::null(), "{}", None), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("export_state NULL client", &export_state(ptr::null(), None), &[SOIDC_ERR_INVALID_ARGUMENT]);
    check("export_state 2 MiB options", &export_state(c, Some(&format!(r#"{{"x_pad": "{}"}}"#, big("", 'o')))), &[SOIDC_ERR_INVALID_ARGUMENT]);
    let opts = json!({"issuer": rp.server.issuer()}).to_string();
    let e = check("from_state 2 MiB", &from_state(&big("{", ' '), Some(&opts)), &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
    assert!(e["message"].as_str().unwrap().contains("more than the 1048576 allowed"), "{e}");
    let deep_state = format!(r#"{{"soidc_state": 1, "metadata": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    check("from_state nested", &from_state(&deep_state, Some(&opts)), &[SOIDC_ERR_INVALID_ARGUMENT]);
    // The hostile server's own state round-trips, and a copy with an injected endpoint is refused.
    let state = rp::doc(&export_state(c, None));
    check("from_state own", &from_state(&state.to_string(), Some(&opts)), &[SOIDC_OK]);
    let mut evil = state.clone();
    evil["metadata"]["token_endpoint"] = json!("http://attacker.example/token");
    check("from_state injected endpoint", &from_state(&evil.to_string(), Some(&opts)), &[SOIDC_ERR_INVALID_ARGUMENT]);
    assert_eq!(rp.server.request_count(), before, "no request");
    let keys_after = rp::provider_keys(c, Some(r#"{"cache_only": true}"#));
    assert_eq!((keys_before.status, keys_before.doc), (keys_after.status, keys_after.doc), "the client's keys are unchanged");
}

// ---------------------------------------------------------------------------------------
// Token exchange (RFC 8693)
// ---------------------------------------------------------------------------------------

fn token_exchange(c: rp::C, subject: &str, ty: &str, options: Option<&str>) -> Outcome {
    let s = ffi::cstr(subject);
    let t = ffi::cstr(ty);
    let o = options.map(ffi::cstr);
    // SAFETY: a live client, valid strings and out-pointer.
    rp::call(|out| unsafe {
        soidc::ffi::token_exchange::soidc_token_exchange(c, s.as_ptr(), t.as_ptr(), ffi::opt_ptr(&o), out)
    })
}

/// 2 MiB in each string argument of `soidc_token_exchange`, and options of the wrong
/// types: `SOIDC_ERR_INVALID_ARGUMENT`, short messages, and no request sent.
#[test]
fn token_exchange_hostile_arguments() {
    let rp = client();
    let at = soidc::ffi::token_exchange::SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
    let huge = big("", 'x');
    let before = rp.server.request_count();
    let outs = [
        ("2 MiB subject_token", token_exchange(rp.c(), &huge, at, None)),
        ("2 MiB subject_token_type", token_exchange(rp.c(), ACCESS_TOKEN_LIKE, &huge, None)),
        ("2 MiB options", token_exchange(rp.c(), ACCESS_TOKEN_LIKE, at, Some(&format!("{{\"scope\": \"{huge}\"}}")))),
        ("2 MiB audience", token_exchange(rp.c(), ACCESS_TOKEN_LIKE, at, Some(&json!({"audience": [huge.as_str()]}).to_string()))),
    ];
    for (what, out) in &outs {
        let e = check(what, out, &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
        assert!(e["message"].as_str().unwrap().len() < 500, "{what}: the message does not echo the input");
    }
    for options in [
        json!({"audience": {"a": 1}}), json!({"resource": true}), json!({"scope": 1}),
        json!({"actor_token": ["a"], "actor_token_type": at}), json!({"requested_token_type": 5}),
        json!({"timeout_ms": "5"}), json!({"timeout_ms": 1.5}), json!([at]),
    ] {
        let out = token_exchange(rp.c(), ACCESS_TOKEN_LIKE, at, Some(&options.to_string()));
        check(&options.to_string(), &out, &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    assert_eq!(rp.server.request_count(), before, "nothing is sent for refused input");
}

const ACCESS_TOKEN_LIKE: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

// ---------------------------------------------------------------------------------------
// Dynamic client registration (RFC 7591) and management (RFC 7592)
// ---------------------------------------------------------------------------------------

use soidc::ffi::registration as dcr;

/// The four registration exports with raw pointers (NULL allowed).
fn dcr_register(target: *const c_char, metadata: *const c_char, options: *const c_char) -> Outcome {
    // SAFETY: NULL or valid strings, a valid out-pointer.
    rp::call(|out| unsafe { dcr::soidc_register_client(target, metadata, options, out) })
}
fn dcr_read(uri: *const c_char, token: *const c_char, options: *const c_char) -> Outcome {
    // SAFETY: as above.
    rp::call(|out| unsafe { dcr::soidc_client_read_registration(uri, token, options, out) })
}
fn dcr_update(uri: *const c_char, token: *const c_char, metadata: *const c_char, options: *const c_char) -> Outcome {
    // SAFETY: as above.
    rp::call(|out| unsafe { dcr::soidc_client_update_registration(uri, token, metadata, options, out) })
}
fn dcr_delete(uri: *const c_char, token: *const c_char, options: *const c_char) -> Outcome {
    // SAFETY: as above.
    rp::call(|out| unsafe { dcr::soidc_client_delete_registration(uri, token, options, out) })
}

/// NULL where a value is needed, invalid UTF-8, malformed metadata, unknown and
/// wrongly typed options, 2 MiB in every argument: `SOIDC_ERR_INVALID_ARGUMENT` with a
/// short message that does not echo the input or a secret, and no request sent. A NULL
/// `out_json` is allowed (the status alone).
#[test]
fn registration_hostile_arguments() {
    let rp = client();
    let server = rp.server.issuer();
    let endpoint = ffi::cstr(&format!("{server}/reg"));
    let uri = ffi::cstr(&format!("{server}/reg/client-1"));
    let token = ffi::cstr("registration-access-token-0123456789");
    let md = ffi::cstr(r#"{"client_name":"x","redirect_uris":["https://rp.example/cb"]}"#);
    let md_upd = ffi::cstr(r#"{"client_id":"client-1","client_name":"x"}"#);
    let as_endpoint = ffi::cstr(r#"{"endpoint":true}"#);
    let n = ptr::null::<c_char>();
    let before = rp.server.request_count();
    let huge = big("", 'x');
    let huge_c = ffi::cstr(&huge);
    let huge_md = ffi::cstr(&format!(r#"{{"client_name":"{huge}"}}"#));
    let huge_md_upd = ffi::cstr(&format!(r#"{{"client_id":"c","client_name":"{huge}"}}"#));
    let huge_opts = ffi::cstr(&format!(r#"{{"x_pad":"{huge}"}}"#));
    let huge_iat = ffi::cstr(&json!({"initial_access_token": huge, "endpoint": true}).to_string());
    let bad_utf8 = std::ffi::CString::new(vec![b'{', 0xff, b'}']).unwrap();
    let outs: Vec<(String, Outcome)> = vec![
        ("register NULL target".into(), dcr_register(n, md.as_ptr(), n)),
        ("register NULL metadata".into(), dcr_register(endpoint.as_ptr(), n, as_endpoint.as_ptr())),
        ("register bad UTF-8 metadata".into(), dcr_register(endpoint.as_ptr(), bad_utf8.as_ptr(), as_endpoint.as_ptr())),
        ("register 2 MiB metadata".into(), dcr_register(endpoint.as_ptr(), huge_md.as_ptr(), as_endpoint.as_ptr())),
        ("register 2 MiB options".into(), dcr_register(endpoint.as_ptr(), md.as_ptr(), huge_opts.as_ptr())),
        ("register 2 MiB initial_access_token".into(), dcr_register(endpoint.as_ptr(), md.as_ptr(), huge_iat.as_ptr())),
        ("read NULL uri".into(), dcr_read(n, token.as_ptr(), n)),
        ("read NULL token".into(), dcr_read(uri.as_ptr(), n, n)),
        ("read 2 MiB token".into(), dcr_read(uri.as_ptr(), huge_c.as_ptr(), n)),
        ("read 2 MiB options".into(), dcr_read(uri.as_ptr(), token.as_ptr(), huge_opts.as_ptr())),
        ("update NULL uri".into(), dcr_update(n, token.as_ptr(), md_upd.as_ptr(), n)),
        ("update NULL token".into(), dcr_update(uri.as_ptr(), n, md_upd.as_ptr(), n)),
        ("update NULL metadata".into(), dcr_update(uri.as_ptr(), token.as_ptr(), n, n)),
        ("update 2 MiB metadata".into(), dcr_update(uri.as_ptr(), token.as_ptr(), huge_md_upd.as_ptr(), n)),
        ("update 2 MiB token".into(), dcr_update(uri.as_ptr(), huge_c.as_ptr(), md_upd.as_ptr(), n)),
        ("update metadata without client_id".into(), dcr_update(uri.as_ptr(), token.as_ptr(), md.as_ptr(), n)),
        ("delete NULL uri".into(), dcr_delete(n, token.as_ptr(), n)),
        ("delete NULL token".into(), dcr_delete(uri.as_ptr(), n, n)),
        ("delete 2 MiB token".into(), dcr_delete(uri.as_ptr(), huge_c.as_ptr(), n)),
        ("delete 2 MiB options".into(), dcr_delete(uri.as_ptr(), token.as_ptr(), huge_opts.as_ptr())),
    ];
    for (what, out) in &outs {
        let e = check(what, out, &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
        let msg = e["message"].as_str().unwrap();
        assert!(msg.len() < 500, "{what}: the message does not echo the input: {}", &msg[..500]);
        assert!(!msg.contains("registration-access-token-0123456789"), "{what}: {msg}");
    }
    // Malformed metadata of every kind, for register and update.
    for bad in ["", "{", "[]", "null", "\"x\"", r#"{"a":1,"a":2}"#, "{\"a\":1} trailing", &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))] {
        let m = ffi::cstr(bad);
        check(&format!("register {bad:.20}"), &dcr_register(endpoint.as_ptr(), m.as_ptr(), as_endpoint.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
        check(&format!("update {bad:.20}"), &dcr_update(uri.as_ptr(), token.as_ptr(), m.as_ptr(), n), &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    // Unknown option keys, wrong types, null values, out-of-range timeouts.
    for options in [
        json!({"endpiont": true}), json!({"endpoint": "yes"}), json!({"initial_access_token": 5}),
        json!({"initial_access_token": ""}), json!({"timeout_ms": 0}), json!({"timeout_ms": "5"}),
        json!({"ca_file": ["a"]}), json!({"allow_insecure_http": 1}), json!({"endpoint": null}), json!([true]),
        json!({"ca_file": "/nonexistent/ca.pem", "endpoint": true}), json!({"proxy": "http://127.0.0.1:9"}),
    ] {
        let o = ffi::cstr(&options.to_string());
        check(&format!("register {options}"), &dcr_register(endpoint.as_ptr(), md.as_ptr(), o.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    for options in [json!({"endpoint": true}), json!({"initial_access_token": "t"}), json!({"timeout_ms": -1}), json!({"x": 1})] {
        let o = ffi::cstr(&options.to_string());
        check(&format!("read {options}"), &dcr_read(uri.as_ptr(), token.as_ptr(), o.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
        check(&format!("update {options}"), &dcr_update(uri.as_ptr(), token.as_ptr(), md_upd.as_ptr(), o.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
        check(&format!("delete {options}"), &dcr_delete(uri.as_ptr(), token.as_ptr(), o.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    // URLs the policy refuses: http on a non-loopback host, other schemes, relative, a fragment.
    for bad in ["http://op.example/reg", "ftp://op.example/reg", "/reg", "https://op.example/reg#f", ""] {
        let u = ffi::cstr(bad);
        check(&format!("register {bad}"), &dcr_register(u.as_ptr(), md.as_ptr(), as_endpoint.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
        check(&format!("read {bad}"), &dcr_read(u.as_ptr(), token.as_ptr(), n), &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    // A NULL out_json: the status alone.
    // SAFETY: NULL strings and a NULL out-pointer are allowed.
    let st = unsafe { dcr::soidc_register_client(n, n, n, ptr::null_mut()) };
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT);
    // SAFETY: as above.
    let st = unsafe { dcr::soidc_client_delete_registration(n, n, n, ptr::null_mut()) };
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT);
    assert_eq!(rp.server.request_count(), before, "nothing is sent for refused input");
    // A 2 MiB URL cannot go into a request line: a clear status, no crash.
    let huge_url = ffi::cstr(&big(&format!("{server}/reg/"), 'u'));
    for (what, out) in [
        ("register 2 MiB endpoint", dcr_register(huge_url.as_ptr(), md.as_ptr(), as_endpoint.as_ptr())),
        ("register 2 MiB issuer", dcr_register(huge_url.as_ptr(), md.as_ptr(), n)),
        ("read 2 MiB uri", dcr_read(huge_url.as_ptr(), token.as_ptr(), n)),
        ("delete 2 MiB uri", dcr_delete(huge_url.as_ptr(), token.as_ptr(), n)),
    ] {
        let e = check(what, &out, &[SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_NETWORK, SOIDC_ERR_HTTP]).unwrap();
        assert!(e["message"].as_str().unwrap().len() < 500, "{what}: the message does not echo the input");
    }
}

// ---------------------------------------------------------------------------------------
// DPoP (RFC 9449), client side
// ---------------------------------------------------------------------------------------

use soidc::ffi::dpop as dp;

fn dpop_proof_raw(c: rp::C, method: *const c_char, url: *const c_char, token: *const c_char, options: *const c_char) -> Outcome {
    // SAFETY: a live client or NULL, NULL or valid strings, a valid out-pointer.
    rp::call(|out| unsafe { dp::soidc_dpop_proof(c, method, url, token, options, out) })
}

/// NULL where a value is needed, invalid UTF-8 in each string, 2 MiB in each string, a
/// NULL `out_json`: `SOIDC_ERR_INVALID_ARGUMENT`, short messages, no request sent; a
/// client without DPoP is refused the same way.
#[test]
fn dpop_exports_hostile_arguments() {
    let rp = rp::rp(HostileServer::start(), Some(r#"{"dpop": true}"#));
    let plain = client();
    let n = ptr::null::<c_char>();
    let get = ffi::cstr("GET");
    let url = ffi::cstr("https://rs.example/a");
    let token = ffi::cstr(ACCESS_TOKEN_LIKE);
    let bad_utf8 = std::ffi::CString::new(vec![b'G', 0xff, b'T']).unwrap();
    let bad_utf8_json = std::ffi::CString::new(vec![b'{', 0xff, b'}']).unwrap();
    let huge = ffi::cstr(&big("https://rs.example/", 'x'));
    let huge_token = ffi::cstr(&big("", 'x'));
    let huge_opts = ffi::cstr(&format!("{{\"nonce\": \"{}\"}}", big("", 'n')));
    let before = rp.server.request_count();
    // SAFETY: a live client or NULL and a valid out-pointer.
    let jwk = |c: rp::C| rp::call(|out| unsafe { dp::soidc_client_dpop_jwk(c, out) });
    let outs: Vec<(&str, Outcome)> = vec![
        ("jwk NULL client", jwk(ptr::null())),
        ("jwk of a client without DPoP", jwk(plain.c())),
        ("proof NULL client", dpop_proof_raw(ptr::null(), get.as_ptr(), url.as_ptr(), n, n)),
        ("proof NULL method", dpop_proof_raw(rp.c(), n, url.as_ptr(), n, n)),
        ("proof NULL url", dpop_proof_raw(rp.c(), get.as_ptr(), n, n, n)),
        ("proof bad UTF-8 method", dpop_proof_raw(rp.c(), bad_utf8.as_ptr(), url.as_ptr(), n, n)),
        ("proof bad UTF-8 url", dpop_proof_raw(rp.c(), get.as_ptr(), bad_utf8.as_ptr(), n, n)),
        ("proof bad UTF-8 token", dpop_proof_raw(rp.c(), get.as_ptr(), url.as_ptr(), bad_utf8.as_ptr(), n)),
        ("proof bad UTF-8 options", dpop_proof_raw(rp.c(), get.as_ptr(), url.as_ptr(), n, bad_utf8_json.as_ptr())),
        ("proof 2 MiB method", dpop_proof_raw(rp.c(), huge_token.as_ptr(), url.as_ptr(), n, n)),
        ("proof 2 MiB url", dpop_proof_raw(rp.c(), get.as_ptr(), huge.as_ptr(), n, n)),
        ("proof 2 MiB token", dpop_proof_raw(rp.c(), get.as_ptr(), url.as_ptr(), huge_token.as_ptr(), n)),
        ("proof 2 MiB options", dpop_proof_raw(rp.c(), get.as_ptr(), url.as_ptr(), n, huge_opts.as_ptr())),
        ("proof of a client without DPoP", dpop_proof_raw(plain.c(), get.as_ptr(), url.as_ptr(), token.as_ptr(), n)),
    ];
    for (what, out) in &outs {
        let e = check(what, out, &[SOIDC_ERR_INVALID_ARGUMENT]).unwrap();
        assert!(e["message"].as_str().unwrap().len() < 500, "{what}: the message does not echo the input");
    }
    for options in [json!({"nonce": 5}), json!({"nonce": ["a"]}), json!({"nonce": "a b"}), json!({"x": 1}), json!([])] {
        let o = ffi::cstr(&options.to_string());
        check(&options.to_string(), &dpop_proof_raw(rp.c(), get.as_ptr(), url.as_ptr(), n, o.as_ptr()), &[SOIDC_ERR_INVALID_ARGUMENT]);
    }
    // A NULL out_json: both need one.
    // SAFETY: a live client, valid strings, a NULL out-pointer (allowed: the status alone).
    assert_eq!(unsafe { dp::soidc_client_dpop_jwk(rp.c(), ptr::null_mut()) }, SOIDC_ERR_INVALID_ARGUMENT);
    // SAFETY: as above.
    assert_eq!(unsafe { dp::soidc_dpop_proof(rp.c(), get.as_ptr(), url.as_ptr(), n, n, ptr::null_mut()) }, SOIDC_ERR_INVALID_ARGUMENT);
    // The good call works, and nothing touched the network.
    let ok = check("proof", &dpop_proof_raw(rp.c(), get.as_ptr(), url.as_ptr(), token.as_ptr(), n), &[SOIDC_OK]);
    assert!(ok.is_none());
    check("jwk", &jwk(rp.c()), &[SOIDC_OK]);
    assert_eq!(rp.server.request_count(), before, "no request");
}

/// `soidc_claims_get` with hostile arguments: NULL and invalid UTF-8 in each argument, a NULL
/// out-pointer, garbage documents and paths, a 2 MiB document, 2 MiB of nesting, a 2 MiB
/// path and a path of 100 000 names. Statuses and out-pointers only; nothing is printed.
#[test]
fn claims_get_hostile_arguments() {
    use soidc::ffi::json::soidc_claims_get;
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let bad_utf8: &[u8] = b"\xff\xfe\0";
    let bad = bad_utf8.as_ptr() as *const c_char;
    let doc = c(r#"{"realm_access":{"roles":["a","b"]},"orgs":[{"id":1},{"id":2}],"x.y":true}"#);
    let get = |d: *const c_char, p: *const c_char| -> (i32, Option<String>) {
        let mut out: *mut c_char = std::ptr::dangling_mut::<c_char>();
        // SAFETY: NULL or valid C strings; a writable out-pointer preset to garbage, which
        // the call sets to NULL or to a string of the library's that `take` frees once.
        unsafe {
            let status = soidc_claims_get(d, p, &mut out);
            (status, take(out))
        }
    };
    let path = c("realm_access.roles");
    assert_eq!(get(doc.as_ptr(), path.as_ptr()), (SOIDC_OK, Some(r#"["a","b"]"#.into())));
    assert_eq!(get(doc.as_ptr(), c(r"x\.y").as_ptr()), (SOIDC_OK, Some("true".into())));
    assert_eq!(get(doc.as_ptr(), c("orgs.id").as_ptr()), (SOIDC_OK, Some("[1,2]".into())));
    assert_eq!(get(ptr::null(), path.as_ptr()), (SOIDC_ERR_INVALID_ARGUMENT, None));
    assert_eq!(get(doc.as_ptr(), ptr::null()), (SOIDC_ERR_INVALID_ARGUMENT, None));
    assert_eq!(get(bad, path.as_ptr()), (SOIDC_ERR_INVALID_ARGUMENT, None));
    assert_eq!(get(doc.as_ptr(), bad), (SOIDC_ERR_INVALID_ARGUMENT, None));
    for garbage in ["", "{", "[1]", "\"str\"", "null", r#"{"a":1,"a":2}"#, r#"{"a":1} trailing"#, "\u{1}"] {
        assert_eq!(get(c(garbage).as_ptr(), path.as_ptr()), (SOIDC_ERR_INVALID_ARGUMENT, None), "{garbage:?}");
    }
    for bad_path in ["", ".", "a..b", "a.", r"a\b", "/~2", "/~"] {
        assert_eq!(get(doc.as_ptr(), c(bad_path).as_ptr()), (SOIDC_ERR_INVALID_ARGUMENT, None), "{bad_path:?}");
    }
    for absent in ["nope", "realm_access.nope", "realm_access.roles.x", "/orgs/5/id", "/realm_access/roles/-"] {
        assert_eq!(get(doc.as_ptr(), c(absent).as_ptr()), (SOIDC_ERR_NOT_FOUND, None), "{absent:?}");
    }
    // SAFETY: valid C strings and a NULL out-pointer.
    assert_eq!(unsafe { soidc_claims_get(doc.as_ptr(), path.as_ptr(), ptr::null_mut()) }, SOIDC_ERR_INVALID_ARGUMENT);

    let mut huge = String::with_capacity(TWO_MIB + 64);
    huge.push_str(r#"{"pad":""#);
    huge.extend(std::iter::repeat_n('x', TWO_MIB));
    huge.push_str(r#"","n":{"v":[1,{"w":2}]}}"#);
    let huge = c(&huge);
    assert_eq!(get(huge.as_ptr(), c("n.v.w").as_ptr()), (SOIDC_OK, Some("[2]".into())));
    let (status, pad) = get(huge.as_ptr(), c("pad").as_ptr());
    assert_eq!((status, pad.map(|p| p.len())), (SOIDC_OK, Some(TWO_MIB + 2)));
    let deep = c(&("{\"a\":".repeat(TWO_MIB / 5) + "1" + &"}".repeat(TWO_MIB / 5)));
    assert_eq!(get(deep.as_ptr(), c("a").as_ptr()), (SOIDC_ERR_INVALID_ARGUMENT, None));
    let long_path = c(&"a".repeat(TWO_MIB));
    assert_eq!(get(doc.as_ptr(), long_path.as_ptr()).0, SOIDC_ERR_INVALID_ARGUMENT);
    let many_names = c(&vec!["a"; 100_000].join("."));
    assert_eq!(get(doc.as_ptr(), many_names.as_ptr()).0, SOIDC_ERR_INVALID_ARGUMENT);
    let long_pointer = c(&"/a".repeat(TWO_MIB / 2));
    assert_eq!(get(doc.as_ptr(), long_pointer.as_ptr()).0, SOIDC_ERR_INVALID_ARGUMENT);
}
