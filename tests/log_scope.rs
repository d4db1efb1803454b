//! Per-client log callbacks: messages produced while working for a client with its own
//! callback reach that callback (with its user data), not the process-wide one, even when
//! two clients are used on two threads at once.

mod common;

use common::ffi::{self, Params};
use common::jwt::{good_claims, sign};
use common::stub::StubServer;
use serde_json::json;
use soidc::ffi::client::soidc_client_set_log_callback;
use soidc::ffi::status::*;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Mutex;

/// Collects (tag, message) pairs; `user_data` points at a static tag string.
static SEEN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(_level: c_int, message: *const c_char, user_data: *mut c_void) {
    let tag = CStr::from_ptr(user_data as *const c_char).to_string_lossy().into_owned();
    let msg = CStr::from_ptr(message).to_string_lossy().into_owned();
    SEEN.lock().unwrap().push((tag, msg));
}

static TAG_A: &[u8] = b"client-a\0";
static TAG_B: &[u8] = b"client-b\0";

#[test]
fn each_client_logs_to_its_own_callback() {
    let stub = StubServer::new();
    let doc = stub.discovery_doc().to_string();
    let make = |id: &'static str| {
        let (out, c) = ffi::from_issuer_config(&doc, Params { client_id: id, client_secret: Some("s"), ..Default::default() });
        assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
        c.expect("client")
    };
    let a = make("client-a-id");
    let b = make("client-b-id");
    // SAFETY: live clients, a valid callback, static user data.
    unsafe {
        assert_eq!(soidc_client_set_log_callback(a.0, Some(collect), 5, TAG_A.as_ptr() as *mut c_void), SOIDC_OK);
        assert_eq!(soidc_client_set_log_callback(b.0, Some(collect), 5, TAG_B.as_ptr() as *mut c_void), SOIDC_OK);
    }
    // Tokens for the wrong audience: each decode fails and logs why, naming its client id.
    let token = sign("RS256", "stub-rs256", &json!({}), &good_claims(&stub.issuer(), "someone-else", None));
    std::thread::scope(|s| {
        s.spawn(|| a.decode_id_token(&token, None).err(SOIDC_ERR_VALIDATION, "client-a-id"));
        s.spawn(|| b.decode_id_token(&token, None).err(SOIDC_ERR_VALIDATION, "client-b-id"));
    });
    let seen = SEEN.lock().unwrap().clone();
    assert!(seen.iter().any(|(t, m)| t == "client-a" && m.contains("client-a-id")), "{seen:?}");
    assert!(seen.iter().any(|(t, m)| t == "client-b" && m.contains("client-b-id")), "{seen:?}");
    assert!(!seen.iter().any(|(t, m)| t == "client-a" && m.contains("client-b-id")), "{seen:?}");
    assert!(!seen.iter().any(|(t, m)| t == "client-b" && m.contains("client-a-id")), "{seen:?}");

    // NULL returns a client to the process-wide callback (none here): nothing more arrives.
    SEEN.lock().unwrap().clear();
    // SAFETY: as above.
    unsafe { assert_eq!(soidc_client_set_log_callback(a.0, None, 0, std::ptr::null_mut()), SOIDC_OK) };
    a.decode_id_token(&token, None).err(SOIDC_ERR_VALIDATION, "aud");
    assert!(SEEN.lock().unwrap().iter().all(|(t, _)| t != "client-a"));
    // A NULL client is an invalid argument.
    // SAFETY: NULL is allowed and refused.
    let st = unsafe { soidc_client_set_log_callback(std::ptr::null(), Some(collect), 5, std::ptr::null_mut()) };
    assert_eq!(st, SOIDC_ERR_INVALID_ARGUMENT);
}
