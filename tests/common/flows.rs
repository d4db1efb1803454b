//! Helpers of the `flows_*` test binaries (grants and endpoints against the real
//! provider, through the C ABI).
//!
//! Included by each flows test as `#[path = "common/flows.rs"] mod flows;` next to
//! `mod common;`, so the other test binaries do not compile it.
//!
//! - FFI wrappers for the grant, endpoint and token functions (free functions, so they can
//!   never clash with methods others add to `FfiClient`);
//! - clients of tests/provider/clients.json;
//! - the provider's `/test/*` control endpoints and `browser.mjs`;
//! - URL and secret-leak helpers.
#![allow(dead_code)]

use crate::common::ffi::{self, cstr, opt_ptr, take, FfiClient, Outcome, Params};
use crate::common::provider::{self, client_secret};
use crate::common::{repo_root, tests_path};
use serde_json::Value;
use soidc::ffi::flows as f;
use soidc::ffi::tokens as t;
use std::os::raw::c_char;
use std::process::Command;
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The redirect URI every test client has registered.
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// The post-logout redirect URI every test client has registered.
pub const LOGGED_OUT: &str = "http://127.0.0.1:9/logged-out";
/// The provider's resource server (RFC 9068 access tokens).
pub const API: &str = "https://api.soidc.test";

// ---------------------------------------------------------------------------------------
// FFI wrappers
// ---------------------------------------------------------------------------------------

/// Runs one C call that writes `out_json`, and collects status and document.
fn call(f: impl FnOnce(*mut *mut c_char) -> i32) -> Outcome {
    let mut out: *mut c_char = ptr::null_mut();
    let status = f(&mut out);
    // SAFETY: out is NULL or a string soidc handed out.
    let doc = unsafe { take(out) };
    Outcome { status, doc }
}

/// `soidc_auth_code_start`.
pub fn auth_code_start(c: &FfiClient, options: Option<&str>) -> Outcome {
    let o = options.map(cstr);
    // SAFETY: a live client, valid strings and out-pointer.
    call(|out| unsafe { f::soidc_auth_code_start(c.0, opt_ptr(&o), out) })
}

/// `soidc_auth_code_handle_result`.
pub fn handle_result(c: &FfiClient, url: &str, options: Option<&str>) -> Outcome {
    let u = cstr(url);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_auth_code_handle_result(c.0, u.as_ptr(), opt_ptr(&o), out) })
}

/// `soidc_auth_code_handle_form_post`.
pub fn handle_form_post(c: &FfiClient, content_type: &str, body: &str, state: Option<&str>, options: Option<&str>) -> Outcome {
    let ct = cstr(content_type);
    let b = cstr(body);
    let st = state.map(cstr);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_auth_code_handle_form_post(c.0, ct.as_ptr(), b.as_ptr(), opt_ptr(&st), opt_ptr(&o), out) })
}

/// `soidc_auth_code_exchange`.
pub fn code_exchange(c: &FfiClient, code: &str, options: Option<&str>) -> Outcome {
    let code = cstr(code);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_auth_code_exchange(c.0, code.as_ptr(), opt_ptr(&o), out) })
}

/// `soidc_client_credentials_grant`.
pub fn client_credentials(c: &FfiClient, scope: Option<&str>, options: Option<&str>) -> Outcome {
    let s = scope.map(cstr);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_client_credentials_grant(c.0, opt_ptr(&s), opt_ptr(&o), out) })
}

/// `soidc_direct_access_grant`.
pub fn password_grant(
    c: &FfiClient,
    user: &str,
    password: &str,
    scope: Option<&str>,
    options: Option<&str>,
) -> Outcome {
    let u = cstr(user);
    let p = cstr(password);
    let s = scope.map(cstr);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe {
        f::soidc_direct_access_grant(c.0, u.as_ptr(), p.as_ptr(), opt_ptr(&s), opt_ptr(&o), out)
    })
}

/// `soidc_exchange_refresh_token`.
pub fn refresh(c: &FfiClient, refresh_token: &str, options: Option<&str>) -> Outcome {
    let r = cstr(refresh_token);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_exchange_refresh_token(c.0, r.as_ptr(), opt_ptr(&o), out) })
}

/// `soidc_device_authorization_start`.
pub fn device_start(c: &FfiClient, scope: Option<&str>, options: Option<&str>) -> Outcome {
    let s = scope.map(cstr);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_device_authorization_start(c.0, opt_ptr(&s), opt_ptr(&o), out) })
}

/// `soidc_device_authorization_poll`.
pub fn device_poll(c: &FfiClient, device_code: &str, options: Option<&str>) -> Outcome {
    let d = cstr(device_code);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_device_authorization_poll(c.0, d.as_ptr(), opt_ptr(&o), out) })
}

/// `soidc_fetch_userinfo`.
pub fn userinfo(c: &FfiClient, access_token: &str, options: Option<&str>) -> Outcome {
    let a = cstr(access_token);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_fetch_userinfo(c.0, a.as_ptr(), opt_ptr(&o), out) })
}

/// `soidc_introspect_token`.
pub fn introspect(c: &FfiClient, token: &str, hint: Option<&str>, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let h = hint.map(cstr);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_introspect_token(c.0, tk.as_ptr(), opt_ptr(&h), opt_ptr(&o), out) })
}

/// `soidc_revoke_token`.
pub fn revoke(c: &FfiClient, token: &str, hint: Option<&str>, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let h = hint.map(cstr);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_revoke_token(c.0, tk.as_ptr(), opt_ptr(&h), opt_ptr(&o), out) })
}

/// `soidc_initiate_logout`: on success `doc` is the URL, on failure the error document.
pub fn initiate_logout(c: &FfiClient, request: Option<&str>) -> Outcome {
    let r = request.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { f::soidc_initiate_logout(c.0, opt_ptr(&r), out) })
}

/// `soidc_decode_access_token`.
pub fn decode_access_token(c: &FfiClient, token: &str, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { t::soidc_decode_access_token(c.0, tk.as_ptr(), opt_ptr(&o), out) })
}

/// `soidc_decode_logout_token`.
pub fn decode_logout_token(c: &FfiClient, token: &str, options: Option<&str>) -> Outcome {
    let tk = cstr(token);
    let o = options.map(cstr);
    // SAFETY: as above.
    call(|out| unsafe { t::soidc_decode_logout_token(c.0, tk.as_ptr(), opt_ptr(&o), out) })
}

/// The URL of a successful `initiate_logout`.
#[track_caller]
pub fn ok_url(o: &Outcome) -> String {
    assert_eq!(o.status, 0, "expected success, got {}: {:?}", o.status, o.doc);
    o.doc.clone().expect("a URL on success")
}

/// A string member of a document.
#[track_caller]
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// Asserts that no secret appears anywhere in an outcome's document.
#[track_caller]
pub fn assert_no_leak(o: &Outcome, secrets: &[&str]) {
    let doc = o.doc.as_deref().unwrap_or("");
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!doc.contains(secret), "the document leaks a secret ({secret:?}): {doc}");
        // Also not in an encoded form a message might carry.
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        assert!(!doc.contains(&encoded), "the document leaks a secret ({encoded:?}): {doc}");
    }
}

// ---------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------

/// A confidential client of clients.json (its secret), redirect URI CALLBACK.
pub fn conf_client(client_id: &str, options: Option<&str>) -> FfiClient {
    conf_client_scope(client_id, None, options)
}

/// As [`conf_client`] with a default scope.
pub fn conf_client_scope(client_id: &str, scope: Option<&str>, options: Option<&str>) -> FfiClient {
    let secret = client_secret(client_id);
    ffi::client(
        provider::issuer(),
        Params {
            redirect_uri: Some(CALLBACK),
            client_id,
            client_secret: Some(&secret),
            scope,
            options,
        },
    )
}

/// A client without a secret (public, or private_key_jwt via options), redirect URI CALLBACK.
pub fn keyless_client(client_id: &str, options: Option<&str>) -> FfiClient {
    ffi::client(
        provider::issuer(),
        Params {
            redirect_uri: Some(CALLBACK),
            client_id,
            client_secret: None,
            scope: None,
            options,
        },
    )
}

/// Client options for private_key_jwt with `tests/keys/<key>.pem`, kid = `kid`.
pub fn pkjwt_options(key: &str, kid: &str) -> String {
    let path = tests_path(&format!("keys/{key}.pem"));
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::json!({
        "auth_method": "private_key_jwt",
        "private_key_pem": pem,
        "private_key_kid": kid,
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------
// The provider's control endpoints and browser.mjs
// ---------------------------------------------------------------------------------------

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

fn read(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> (u16, Value) {
    let mut resp = resp.unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{what}: cannot read body: {e}"));
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
    (status, value)
}

/// `GET <issuer><path>`, JSON; panics unless 200.
pub fn control_get(path: &str) -> Value {
    let (status, body) = read(agent().get(&format!("{}{path}", provider::issuer())).call(), path);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// `POST <issuer><path>` with a JSON body; returns status and JSON answer.
pub fn control_post(path: &str, body: &Value) -> (u16, Value) {
    let resp = agent()
        .post(&format!("{}{path}", provider::issuer()))
        .header("Content-Type", "application/json")
        .send(body.to_string());
    read(resp, path)
}

/// Serialises the tests that read `/test/requests` (its list is shared by the binary).
pub fn requests_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `POST /test/requests/reset`.
pub fn requests_reset() {
    let (status, body) = control_post("/test/requests/reset", &Value::Null);
    assert_eq!(status, 200, "requests reset: {body}");
}

/// `GET /test/requests`: the token requests the provider saw since the last reset.
pub fn token_requests() -> Vec<Value> {
    control_get("/test/requests").as_array().expect("an array").clone()
}

/// `GET /test/endpoint-requests`: the requests at the device authorization and pushed
/// authorization request endpoints since the last reset (parameter names, auth method).
pub fn endpoint_requests() -> Vec<Value> {
    control_get("/test/endpoint-requests").as_array().expect("an array").clone()
}

/// `POST /test/device/approve` (or `/deny`) as `user`; panics unless the provider says ok.
pub fn device_decide(user_code: &str, user: &str, approve: bool) {
    let path = if approve { "/test/device/approve" } else { "/test/device/deny" };
    let (status, body) = control_post(path, &serde_json::json!({"user_code": user_code, "user": user}));
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(body["ok"], true, "{path}: {body}");
}

/// `POST /test/backchannel-logout`: logs `user` in to `client_id` and out again; returns
/// the logout tokens the provider delivered to the sink for it.
pub fn backchannel_logout(user: &str, client_id: &str) -> Vec<String> {
    let (status, body) = control_post(
        "/test/backchannel-logout",
        &serde_json::json!({"user": user, "client_id": client_id}),
    );
    assert_eq!(status, 200, "backchannel-logout: {body}");
    strings(&body["logout_tokens"])
}

/// `GET /test/backchannel-logout-tokens`: every logout token the sink received.
pub fn delivered_logout_tokens() -> Vec<String> {
    strings(&control_get("/test/backchannel-logout-tokens"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|t| t.as_str().expect("a string").to_owned())
        .collect()
}

/// Runs `node tests/provider/browser.mjs [flags] <url> <user> <password>` from the repo root;
/// `Ok(final URL)` or `Err(stderr)`.
pub fn browser(flags: &[&str], url: &str, user: &str, password: &str) -> Result<String, String> {
    let out = Command::new("node")
        .arg(tests_path("provider/browser.mjs"))
        .args(flags)
        .arg(url)
        .arg(user)
        .arg(password)
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 stdout");
    let line = stdout.lines().last().unwrap_or("").trim().to_owned();
    assert!(!line.is_empty(), "browser.mjs printed nothing");
    Ok(line)
}

/// Logs alice in through `url` and returns the redirect URL back to the client.
#[track_caller]
pub fn browser_alice(url: &str) -> String {
    browser(&[], url, "alice", "alice-password").unwrap_or_else(|e| panic!("browser.mjs failed: {e}"))
}

/// Starts the code flow with `options`, logs alice in; returns the start document and the
/// redirect URL.
#[track_caller]
pub fn login_alice(c: &FfiClient, options: Option<&str>) -> (Value, String) {
    let start = auth_code_start(c, options).ok();
    let redirect = browser_alice(s(&start, "url"));
    (start, redirect)
}

/// The options of `handle_result` for a start document: its state, nonce and code_verifier.
pub fn result_options(start: &Value) -> String {
    let mut o = serde_json::Map::new();
    for k in ["state", "nonce", "code_verifier"] {
        if let Some(v) = start[k].as_str() {
            o.insert(k.into(), Value::String(v.into()));
        }
    }
    Value::Object(o).to_string()
}

// ---------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------

/// The decoded query parameters of a URL, in order (repeats kept).
pub fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

/// Every value of one query parameter.
pub fn params(url: &str, key: &str) -> Vec<String> {
    query(url).into_iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect()
}

/// The single value of a query parameter (panics if repeated), None if absent.
#[track_caller]
pub fn param(url: &str, key: &str) -> Option<String> {
    let mut all = params(url, key);
    assert!(all.len() <= 1, "{key} is repeated in {url}");
    all.pop()
}

/// The URL with its query rebuilt by `edit` (which may change, drop or add pairs).
pub fn with_query(url: &str, edit: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let mut u = url::Url::parse(url).expect("an absolute URL");
    let mut pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    edit(&mut pairs);
    u.set_query(None);
    if !pairs.is_empty() {
        u.query_pairs_mut().extend_pairs(pairs.iter());
    }
    u.to_string()
}

/// The URL without its query and fragment.
pub fn base(url: &str) -> String {
    let mut u = url::Url::parse(url).expect("an absolute URL");
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

// ---------------------------------------------------------------------------------------
// Log capture (per-client log callback)
// ---------------------------------------------------------------------------------------

/// Every message one client logged, at any level.
#[derive(Default)]
pub struct LogCapture(Mutex<Vec<(i32, String)>>);

impl LogCapture {
    pub fn messages(&self) -> Vec<(i32, String)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

unsafe extern "C" fn capture_cb(level: std::os::raw::c_int, message: *const c_char, user_data: *mut std::os::raw::c_void) {
    // SAFETY: user_data is the leaked LogCapture of capture_logs; message a C string.
    let cap = unsafe { &*(user_data as *const LogCapture) };
    let text = unsafe { std::ffi::CStr::from_ptr(message) }.to_string_lossy().into_owned();
    cap.0.lock().unwrap_or_else(|e| e.into_inner()).push((level, text));
}

/// Sends everything `c` logs (trace level included) to a capture that lives for the
/// rest of the process (leaked: the client may outlive any scope).
pub fn capture_logs(c: &FfiClient) -> &'static LogCapture {
    let cap: &'static LogCapture = Box::leak(Box::default());
    // SAFETY: a live client; the callback and its user_data live forever.
    let status = unsafe {
        soidc::ffi::client::soidc_client_set_log_callback(
            c.0,
            Some(capture_cb),
            5,
            cap as *const LogCapture as *mut std::os::raw::c_void,
        )
    };
    assert_eq!(status, 0, "soidc_client_set_log_callback");
    cap
}
