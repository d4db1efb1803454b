//! The C ABI under bad input: each pointer argument NULL in turn, invalid UTF-8,
//! malformed or wrong options, NULL-safe frees, status names, the version, and the log
//! callback (which must never see a secret or a token).

mod common;

use common::ffi::{self, cstr, status_name, take, Params};
use soidc::ffi::client::soidc_client;
use common::jwt::{good_claims, sign, sign_hmac};
use common::stub::{StubServer, DISCOVERY_PATH};
use serde_json::{json, Value};
use soidc::ffi::client::*;
use soidc::ffi::status::*;
use soidc::ffi::tokens::soidc_decode_id_token;
use soidc::ffi::util::*;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Mutex;

/// A non-NULL value that no valid pointer has: out-pointers preset to it must be
/// overwritten (with NULL or a result) before the function returns.
const GARBAGE: usize = 0x8;

fn garbage<T>() -> *mut T {
    GARBAGE as *mut T
}

/// Reads and frees `*out`, failing if the function left the preset garbage in it.
#[track_caller]
fn take_out(out: *mut c_char, what: &str) -> Option<String> {
    assert_ne!(
        out as usize, GARBAGE,
        "{what}: the out-pointer was not set on entry"
    );
    // SAFETY: not the garbage value, so NULL or a string soidc handed out.
    unsafe { take(out) }
}

/// Parses an error document and checks it against the status and a message fragment.
#[track_caller]
fn check_error(status: i32, doc: Option<String>, expected: i32, fragment: &str) {
    assert_eq!(status, expected, "document: {doc:?}");
    let doc = doc.expect("an error document");
    let v: Value = serde_json::from_str(&doc).expect("JSON error document");
    assert_eq!(v["status"], status_name(expected));
    let msg = v["message"].as_str().expect("message");
    assert!(
        msg.contains(fragment),
        "message {msg:?} does not contain {fragment:?}"
    );
}

/// A provider metadata document that needs no network (creation from config).
fn metadata() -> String {
    json!({
        "issuer": "https://idp.example",
        "authorization_endpoint": "https://idp.example/auth",
        "token_endpoint": "https://idp.example/token",
        "jwks_uri": "https://idp.example/jwks",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------
// The constructors
// ---------------------------------------------------------------------------------------

type Ctor = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *mut *mut soidc_client,
    *mut *mut c_char,
) -> soidc_status;

/// The six string arguments, as raw bytes (None = NULL).
#[derive(Clone)]
struct Args {
    strings: [Option<Vec<u8>>; 6],
}

const NAMES_URL: [&str; 6] = [
    "issuer_url",
    "redirect_uri",
    "client_id",
    "client_secret",
    "scope",
    "options_json",
];
const NAMES_CONFIG: [&str; 6] = [
    "provider_metadata_json",
    "redirect_uri",
    "client_id",
    "client_secret",
    "scope",
    "options_json",
];
/// Which of the six may be NULL.
const NULLABLE: [bool; 6] = [false, true, false, true, true, true];

impl Args {
    fn new(first: &str) -> Args {
        Args {
            strings: [
                Some(first.as_bytes().to_vec()),
                Some(b"http://127.0.0.1:9/callback".to_vec()),
                Some(b"rp".to_vec()),
                Some(b"rp-secret".to_vec()),
                Some(b"openid email".to_vec()),
                Some(b"{}".to_vec()),
            ],
        }
    }
    fn set(mut self, i: usize, v: Option<&[u8]>) -> Args {
        self.strings[i] = v.map(<[u8]>::to_vec);
        self
    }
}

/// Calls a constructor; returns (status, whether a client was handed out, document).
fn construct(
    ctor: Ctor,
    args: &Args,
    out_client: bool,
    out_json: bool,
) -> (i32, bool, Option<String>) {
    let c: Vec<Option<CString>> = args
        .strings
        .iter()
        .map(|s| s.as_ref().map(|b| CString::new(b.clone()).unwrap()))
        .collect();
    let p = |i: usize| c[i].as_ref().map_or(ptr::null(), |s| s.as_ptr());
    let mut client: *mut soidc_client = garbage();
    let mut json: *mut c_char = garbage();
    // SAFETY: valid C strings or NULL; out-pointers valid or NULL.
    let status = unsafe {
        ctor(
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            if out_client {
                &mut client
            } else {
                ptr::null_mut()
            },
            if out_json { &mut json } else { ptr::null_mut() },
        )
    };
    let doc = if out_json {
        take_out(json, "out_json")
    } else {
        None
    };
    let made = if out_client {
        assert_ne!(client as usize, GARBAGE, "out_client was not set on entry");
        if status == SOIDC_OK {
            assert!(!client.is_null(), "success without a client");
        } else {
            assert!(client.is_null(), "failure must leave out_client NULL");
        }
        // SAFETY: NULL or a client soidc handed out.
        unsafe { soidc_client_free(client) };
        !client.is_null()
    } else {
        false
    };
    (status, made, doc)
}

fn constructor_null_arguments(ctor: Ctor, names: [&str; 6], first: &str) {
    for i in 0..6 {
        let args = Args::new(first).set(i, None);
        let (status, made, doc) = construct(ctor, &args, true, true);
        if NULLABLE[i] {
            assert_eq!(status, SOIDC_OK, "NULL {} is allowed: {doc:?}", names[i]);
            assert!(made);
            assert!(doc.is_none(), "no document on success");
        } else {
            assert!(!made);
            check_error(
                status,
                doc,
                SOIDC_ERR_INVALID_ARGUMENT,
                &format!("{} is NULL", names[i]),
            );
            // Without out_json the status alone reports it.
            let (status, made, _) = construct(ctor, &args, true, false);
            assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
            assert!(!made);
        }
    }
    // out_client NULL
    let args = Args::new(first);
    let (status, _, doc) = construct(ctor, &args, false, true);
    check_error(
        status,
        doc,
        SOIDC_ERR_INVALID_ARGUMENT,
        "out_client is NULL",
    );
    let (status, _, _) = construct(ctor, &args, false, false);
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
}

fn constructor_invalid_utf8(ctor: Ctor, names: [&str; 6], first: &str) {
    for (i, name) in names.iter().enumerate() {
        let args = Args::new(first).set(i, Some(b"ab\xff\xfecd"));
        let (status, made, doc) = construct(ctor, &args, true, true);
        assert!(!made);
        check_error(
            status,
            doc,
            SOIDC_ERR_INVALID_ARGUMENT,
            &format!("{name} is not valid UTF-8"),
        );
    }
}

#[test]
fn from_issuer_config_null_arguments() {
    constructor_null_arguments(soidc_client_from_issuer_config, NAMES_CONFIG, &metadata());
}

#[test]
fn from_issuer_url_null_arguments() {
    let stub = StubServer::new();
    constructor_null_arguments(soidc_client_from_issuer_url, NAMES_URL, &stub.issuer());
}

#[test]
fn from_issuer_config_invalid_utf8() {
    constructor_invalid_utf8(soidc_client_from_issuer_config, NAMES_CONFIG, &metadata());
}

#[test]
fn from_issuer_url_invalid_utf8() {
    let stub = StubServer::new();
    constructor_invalid_utf8(soidc_client_from_issuer_url, NAMES_URL, &stub.issuer());
    assert_eq!(
        stub.count(DISCOVERY_PATH),
        0,
        "arguments are checked before any request"
    );
}

#[test]
fn empty_strings_are_refused() {
    for (i, fragment) in [
        (2, "client_id must not be empty"),
        (3, "client_secret must not be empty"),
        (4, "scope must not be empty"),
    ] {
        let args = Args::new(&metadata()).set(i, Some(b""));
        let (status, made, doc) = construct(soidc_client_from_issuer_config, &args, true, true);
        assert!(!made);
        check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    let args = Args::new("");
    let (status, _, doc) = construct(soidc_client_from_issuer_url, &args, true, true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "issuer");
}

fn options_error(options: &str, fragment: &str) {
    let (out, client) = ffi::from_issuer_config(
        &metadata(),
        Params {
            client_id: "rp",
            client_secret: Some("rp-secret"),
            options: Some(options),
            ..Default::default()
        },
    );
    assert!(client.is_none(), "options {options} were accepted");
    out.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
}

#[test]
fn malformed_options_json() {
    options_error("{", "options_json: malformed JSON");
    options_error("{\"timeout_ms\": 5,}", "malformed JSON");
    options_error("", "malformed JSON");
}

#[test]
fn options_that_are_not_an_object() {
    for options in [
        "[]",
        "[{\"timeout_ms\": 5}]",
        "5",
        "\"timeout_ms\"",
        "null",
        "true",
    ] {
        options_error(options, "options_json: must be a JSON object");
    }
}

#[test]
fn unknown_option_keys() {
    options_error(r#"{"timeout": 5}"#, "unknown field `timeout`");
    options_error(r#"{"leeway": 5}"#, "unknown field `leeway`");
    options_error(
        r#"{"allowed_algs": ["RS256"], "nonce": "x"}"#,
        "unknown field `nonce`",
    );
}

#[test]
fn wrong_option_types() {
    options_error(r#"{"timeout_ms": "5"}"#, "invalid type");
    options_error(r#"{"allowed_algs": "RS256"}"#, "invalid type");
    options_error(r#"{"allow_insecure_http": 1}"#, "invalid type");
    options_error(r#"{"leeway_s": 1.5}"#, "invalid type");
    options_error(r#"{"leeway_s": -1}"#, "invalid value");
}

#[test]
fn wrong_option_types_name_the_option() {
    // "a typo never silently weakens a check" also means the caller must learn which
    // option is wrong.
    options_error(r#"{"timeout_ms": "5"}"#, "timeout_ms");
    options_error(r#"{"allowed_algs": "RS256"}"#, "allowed_algs");
}

#[test]
fn out_of_range_options() {
    options_error(
        r#"{"allowed_algs": ["none"]}"#,
        "\"none\" is never accepted",
    );
    options_error(
        r#"{"allowed_algs": ["RS256", "NONE"]}"#,
        "\"none\" is never accepted",
    );
    options_error(r#"{"allowed_algs": []}"#, "allowed_algs must not be empty");
    options_error(
        r#"{"allowed_algs": ["RSA-OAEP"]}"#,
        "unknown or unsupported algorithm \"RSA-OAEP\"",
    );
    options_error(r#"{"leeway_s": 301}"#, "leeway_s must be at most 300");
    options_error(r#"{"timeout_ms": 0}"#, "timeout_ms must be between 1 and");
    options_error(
        r#"{"connect_timeout_ms": 600001}"#,
        "connect_timeout_ms must be between 1 and",
    );
    options_error(
        r#"{"max_response_bytes": 10}"#,
        "max_response_bytes must be between",
    );
    options_error(
        r#"{"auth_method": "magic"}"#,
        "auth_method: unknown method \"magic\"",
    );
    options_error(r#"{"proxy": ""}"#, "proxy must not be empty");
    options_error(
        r#"{"ca_file": "/nonexistent/soidc-ca.pem"}"#,
        "ca_file \"/nonexistent/soidc-ca.pem\": cannot read",
    );
}

#[test]
fn client_free_and_string_free_accept_null() {
    // SAFETY: NULL is documented as a no-op for both.
    unsafe {
        soidc_client_free(ptr::null_mut());
        soidc_string_free(ptr::null_mut());
    }
}

// ---------------------------------------------------------------------------------------
// Functions on a client
// ---------------------------------------------------------------------------------------

fn config_client() -> ffi::FfiClient {
    let (out, client) = ffi::from_issuer_config(
        &metadata(),
        Params {
            client_id: "rp",
            client_secret: Some("rp-secret"),
            ..Default::default()
        },
    );
    assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
    client.unwrap()
}

#[test]
fn get_type_null() {
    // SAFETY: NULL is allowed.
    assert_eq!(
        unsafe { soidc_client_get_type(ptr::null()) },
        SOIDC_CLIENT_INVALID
    );
    assert_eq!(config_client().get_type(), SOIDC_CLIENT_CONFIDENTIAL);
}

#[test]
fn provider_config_null_arguments() {
    let client = config_client();
    let mut out: *mut c_char = garbage();
    // SAFETY: NULL client is allowed; out is valid.
    let status = unsafe { soidc_client_provider_config(ptr::null(), &mut out) };
    check_error(
        status,
        take_out(out, "out_json"),
        SOIDC_ERR_INVALID_ARGUMENT,
        "client is NULL",
    );
    // SAFETY: NULL out_json is allowed.
    let status = unsafe { soidc_client_provider_config(client.0, ptr::null_mut()) };
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
    let status = unsafe { soidc_client_provider_config(ptr::null(), ptr::null_mut()) };
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
    assert_eq!(
        client.provider_config().ok()["issuer"],
        "https://idp.example"
    );
}

#[test]
fn provider_keys_null_and_bad_arguments() {
    let client = config_client();
    let mut out: *mut c_char = garbage();
    // SAFETY: NULL client is allowed; out is valid.
    let status = unsafe { soidc_client_provider_keys(ptr::null(), ptr::null(), &mut out) };
    check_error(
        status,
        take_out(out, "out_json"),
        SOIDC_ERR_INVALID_ARGUMENT,
        "client is NULL",
    );
    // SAFETY: NULL out_json is allowed.
    let status = unsafe { soidc_client_provider_keys(client.0, ptr::null(), ptr::null_mut()) };
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
    let status = unsafe { soidc_client_provider_keys(ptr::null(), ptr::null(), ptr::null_mut()) };
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);

    client
        .provider_keys(Some("{"))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "malformed JSON");
    client
        .provider_keys(Some("[]"))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "must be a JSON object");
    client
        .provider_keys(Some(r#"{"forse_refresh": true}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "unknown field");
    client
        .provider_keys(Some(r#"{"timeout_ms": 0}"#))
        .err(SOIDC_ERR_INVALID_ARGUMENT, "timeout_ms must be between");

    let bad = CString::new(b"{\"timeout_ms\": \xff}".to_vec()).unwrap();
    let mut out: *mut c_char = garbage();
    let status = unsafe { soidc_client_provider_keys(client.0, bad.as_ptr(), &mut out) };
    check_error(
        status,
        take_out(out, "out_json"),
        SOIDC_ERR_INVALID_ARGUMENT,
        "options_json is not valid UTF-8",
    );
}

#[test]
fn decode_id_token_null_and_bad_arguments() {
    let stub = StubServer::new();
    let client = ffi::client(
        &stub.issuer(),
        Params {
            client_id: "rp",
            ..Default::default()
        },
    );
    let token = sign(
        "RS256",
        "stub-rs256",
        &json!({}),
        &good_claims(&stub.issuer(), "rp", None),
    );
    let token_c = cstr(&token);

    let decode = |c: *const soidc_client, t: *const c_char, o: *const c_char, with_out: bool| {
        let mut out: *mut c_char = garbage();
        // SAFETY: pointers are NULL or valid.
        let status = unsafe {
            soidc_decode_id_token(
                c,
                t,
                o,
                None,
                ptr::null_mut(),
                if with_out { &mut out } else { ptr::null_mut() },
            )
        };
        let doc = if with_out {
            take_out(out, "out_json")
        } else {
            None
        };
        (status, doc)
    };

    let (status, doc) = decode(ptr::null(), token_c.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "client is NULL");
    let (status, doc) = decode(client.0, ptr::null(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "raw_token is NULL");
    let (status, _) = decode(ptr::null(), ptr::null(), ptr::null(), false);
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);

    // NULL options and NULL out_json are fine.
    let (status, doc) = decode(client.0, token_c.as_ptr(), ptr::null(), true);
    assert_eq!(status, SOIDC_OK, "{doc:?}");
    let (status, _) = decode(client.0, token_c.as_ptr(), ptr::null(), false);
    assert_eq!(status, SOIDC_OK);
    let bad_token = cstr("a.b.c");
    let (status, _) = decode(client.0, bad_token.as_ptr(), ptr::null(), false);
    assert_eq!(status, SOIDC_ERR_VALIDATION);

    let invalid = CString::new(b"eyJ\xff.x.y".to_vec()).unwrap();
    let (status, doc) = decode(client.0, invalid.as_ptr(), ptr::null(), true);
    check_error(
        status,
        doc,
        SOIDC_ERR_INVALID_ARGUMENT,
        "raw_token is not valid UTF-8",
    );
    let invalid = CString::new(b"{\"nonce\": \"\xff\"}".to_vec()).unwrap();
    let (status, doc) = decode(client.0, token_c.as_ptr(), invalid.as_ptr(), true);
    check_error(
        status,
        doc,
        SOIDC_ERR_INVALID_ARGUMENT,
        "options_json is not valid UTF-8",
    );

    for (options, fragment) in [
        ("{", "malformed JSON"),
        ("[\"nonce\"]", "must be a JSON object"),
        (r#"{"nonse": "x"}"#, "unknown field `nonse`"),
        (r#"{"nonce": 5}"#, "invalid type"),
        (r#"{"extra_trusted_audiences": "api"}"#, "invalid type"),
        (r#"{"timeout_ms": 0}"#, "timeout_ms must be between"),
    ] {
        let o = cstr(options);
        let (status, doc) = decode(client.0, token_c.as_ptr(), o.as_ptr(), true);
        check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
}

/// `soidc_auth_code_handle_form_post`: NULL and invalid UTF-8 in each argument, bad
/// content types, bodies and documents; none of them reaches the network (the client's
/// provider, from config, does not exist).
#[test]
fn handle_form_post_null_and_bad_arguments() {
    use soidc::ffi::flows::soidc_auth_code_handle_form_post;
    let client = config_client();
    let call = |c: *const soidc_client, ct: *const c_char, body: *const c_char, st: *const c_char, o: *const c_char, with_out: bool| {
        let mut out: *mut c_char = garbage();
        // SAFETY: pointers are NULL or valid.
        let status = unsafe {
            soidc_auth_code_handle_form_post(c, ct, body, st, o, if with_out { &mut out } else { ptr::null_mut() })
        };
        let doc = if with_out { take_out(out, "out_json") } else { None };
        (status, doc)
    };
    let ct = cstr("application/x-www-form-urlencoded");
    let body = cstr("code=c&state=s");
    let st = cstr(r#"{"state":"s"}"#);
    let (status, doc) = call(ptr::null(), ct.as_ptr(), body.as_ptr(), st.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "client is NULL");
    let (status, doc) = call(client.0, ptr::null(), body.as_ptr(), st.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "content_type is NULL");
    let (status, doc) = call(client.0, ct.as_ptr(), ptr::null(), st.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "body is NULL");
    let (status, _) = call(ptr::null(), ptr::null(), ptr::null(), ptr::null(), ptr::null(), false);
    assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);

    let invalid = CString::new(b"code=\xff".to_vec()).unwrap();
    let (status, doc) = call(client.0, ct.as_ptr(), invalid.as_ptr(), st.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "body is not valid UTF-8");
    let invalid_ct = CString::new(b"application/x-www-form-urlencoded\xff".to_vec()).unwrap();
    let (status, doc) = call(client.0, invalid_ct.as_ptr(), body.as_ptr(), st.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "content_type is not valid UTF-8");
    let invalid_st = CString::new(b"{\"state\": \"\xff\"}".to_vec()).unwrap();
    let (status, doc) = call(client.0, ct.as_ptr(), body.as_ptr(), invalid_st.as_ptr(), ptr::null(), true);
    check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, "state_json is not valid UTF-8");

    for (content_type, fragment) in [("text/html", "content_type"), ("", "content_type"), ("application/x-www-form-urlencoded;charset=utf-16", "UTF-8")] {
        let c = cstr(content_type);
        let (status, doc) = call(client.0, c.as_ptr(), body.as_ptr(), st.as_ptr(), ptr::null(), true);
        check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    for (state_json, fragment) in [
        ("{", "malformed JSON"),
        ("[]", "must be a JSON object"),
        (r#"{"stat":"s"}"#, "unknown field `stat`"),
        (r#"{"state":5}"#, "invalid type"),
        (r#"{"state":null}"#, "null"),
        (r#"{"state":"s","state":"t"}"#, "state"),
        (r#"{"state":"s","response_mode":"query.jwt"}"#, "response_mode"),
        (r#"{"state":"s","redirect_uri":"auto"}"#, "auto"),
    ] {
        let j = cstr(state_json);
        let (status, doc) = call(client.0, ct.as_ptr(), body.as_ptr(), j.as_ptr(), ptr::null(), true);
        check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    for (options, fragment) in [(r#"{"state":"s"}"#, "unknown field `state`"), (r#"{"timeout_ms":0}"#, "timeout_ms"), ("42", "must be a JSON object")] {
        let o = cstr(options);
        let (status, doc) = call(client.0, ct.as_ptr(), body.as_ptr(), st.as_ptr(), o.as_ptr(), true);
        check_error(status, doc, SOIDC_ERR_INVALID_ARGUMENT, fragment);
    }
    // Checks that need no network: a repeated parameter, a wrong state, no code, an error.
    for (b, status_expected, fragment) in [
        ("code=c&code=d&state=s", SOIDC_ERR_VALIDATION, "repeats"),
        ("code=c&state=t", SOIDC_ERR_VALIDATION, "state"),
        ("state=s", SOIDC_ERR_VALIDATION, "neither code nor error"),
        ("", SOIDC_ERR_VALIDATION, "state"),
        ("error=access_denied&state=s", SOIDC_ERR_AUTHENTICATION_FAILED, "access_denied"),
        ("response=a.b&state=s", SOIDC_ERR_VALIDATION, "other parameters"),
        ("response=a.b.c.d.e", SOIDC_ERR_UNSUPPORTED_BY_PROVIDER, "encrypted"),
    ] {
        let b = cstr(b);
        let (status, doc) = call(client.0, ct.as_ptr(), b.as_ptr(), st.as_ptr(), ptr::null(), true);
        check_error(status, doc, status_expected, fragment);
    }
}

// ---------------------------------------------------------------------------------------
// Utilities
// ---------------------------------------------------------------------------------------

#[test]
fn status_names() {
    let expected = [
        (SOIDC_OK, 0, "ok"),
        (SOIDC_ERR_INVALID_ARGUMENT, 1, "invalid_argument"),
        (SOIDC_ERR_NETWORK, 2, "network"),
        (SOIDC_ERR_HTTP, 3, "http"),
        (SOIDC_ERR_PROTOCOL, 4, "protocol"),
        (SOIDC_ERR_PROVIDER, 5, "provider"),
        (SOIDC_ERR_VALIDATION, 6, "validation"),
        (
            SOIDC_ERR_UNSUPPORTED_BY_PROVIDER,
            7,
            "unsupported_by_provider",
        ),
        (SOIDC_ERR_AUTHENTICATION_FAILED, 8, "authentication_failed"),
        (SOIDC_ERR_PENDING, 9, "pending"),
        (SOIDC_ERR_NOT_FOUND, 10, "not_found"),
        (SOIDC_ERR_INTERNAL, 100, "internal"),
    ];
    for (constant, value, name) in expected {
        assert_eq!(constant, value, "{name}");
        assert_eq!(status_name(value), name);
        // The name is static: the same pointer every time, never to be freed.
        assert_eq!(soidc_status_name(value), soidc_status_name(value));
    }
    for other in [42, -1, 11, 99, 101, i32::MIN, i32::MAX] {
        assert_eq!(status_name(other), "unknown", "{other}");
    }
}

#[test]
fn status_values_match_the_header() {
    let header = std::fs::read_to_string(common::repo_root().join("include/soidc.h"))
        .expect("include/soidc.h");
    for (name, value) in [
        ("SOIDC_OK", SOIDC_OK),
        ("SOIDC_ERR_INVALID_ARGUMENT", SOIDC_ERR_INVALID_ARGUMENT),
        ("SOIDC_ERR_NETWORK", SOIDC_ERR_NETWORK),
        ("SOIDC_ERR_HTTP", SOIDC_ERR_HTTP),
        ("SOIDC_ERR_PROTOCOL", SOIDC_ERR_PROTOCOL),
        ("SOIDC_ERR_PROVIDER", SOIDC_ERR_PROVIDER),
        ("SOIDC_ERR_VALIDATION", SOIDC_ERR_VALIDATION),
        (
            "SOIDC_ERR_UNSUPPORTED_BY_PROVIDER",
            SOIDC_ERR_UNSUPPORTED_BY_PROVIDER,
        ),
        (
            "SOIDC_ERR_AUTHENTICATION_FAILED",
            SOIDC_ERR_AUTHENTICATION_FAILED,
        ),
        ("SOIDC_ERR_PENDING", SOIDC_ERR_PENDING),
        ("SOIDC_ERR_NOT_FOUND", SOIDC_ERR_NOT_FOUND),
        ("SOIDC_ERR_INTERNAL", SOIDC_ERR_INTERNAL),
        ("SOIDC_CLIENT_INVALID", SOIDC_CLIENT_INVALID),
        ("SOIDC_CLIENT_PUBLIC", SOIDC_CLIENT_PUBLIC),
        ("SOIDC_CLIENT_CONFIDENTIAL", SOIDC_CLIENT_CONFIDENTIAL),
    ] {
        assert_eq!(
            define(&header, name),
            value.to_string(),
            "{name} in include/soidc.h"
        );
    }
}

/// The value of `#define NAME value` in a header.
fn define(header: &str, name: &str) -> String {
    header
        .lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some("#define") && it.next() == Some(name))
                .then(|| it.collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| panic!("#define {name} not found"))
}

#[test]
fn version_matches_cargo_and_the_header() {
    // SAFETY: a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(soidc_version()) }.to_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert_eq!(soidc_version(), soidc_version(), "static");
    let header = std::fs::read_to_string(common::repo_root().join("include/soidc.h"))
        .expect("include/soidc.h");
    let major = define(&header, "SOIDC_VERSION_MAJOR");
    let minor = define(&header, "SOIDC_VERSION_MINOR");
    let patch = define(&header, "SOIDC_VERSION_PATCH");
    assert_eq!(format!("{major}.{minor}.{patch}"), version);
    assert_eq!(major, env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(minor, env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(patch, env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(
        define(&header, "SOIDC_VERSION_STRING"),
        format!("\"{version}\"")
    );
    let number: i64 = major.parse::<i64>().unwrap() * 10000
        + minor.parse::<i64>().unwrap() * 100
        + patch.parse::<i64>().unwrap();
    assert_eq!(
        define(&header, "SOIDC_VERSION_NUMBER"),
        format!("({major} * 10000 + {minor} * 100 + {patch})")
    );
    assert!(number >= 0);
}

// ---------------------------------------------------------------------------------------
// The log callback
// ---------------------------------------------------------------------------------------

/// The two log tests change the process-wide callback: one at a time.
static LOG_SERIAL: Mutex<()> = Mutex::new(());

/// Every message delivered, with its level.
static LOG: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(level: c_int, message: *const c_char, user_data: *mut c_void) {
    assert_eq!(user_data as usize, 0x5eed, "user_data is passed through");
    let text = CStr::from_ptr(message).to_string_lossy().into_owned();
    LOG.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((level, text));
}

fn drain_log() -> Vec<(c_int, String)> {
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}

#[test]
fn log_callback_never_sees_secrets_or_tokens() {
    const SECRET: &str = "s3cr3t-value";
    let _serial = LOG_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ud = 0x5eed as *mut c_void;
    // SAFETY: `collect` is thread-safe and user_data is a plain value.
    unsafe { soidc_set_log_callback(Some(collect), 5, ud) };
    drain_log();

    let stub = StubServer::new();
    let client = ffi::client(
        &stub.issuer(),
        Params {
            client_id: "rp",
            client_secret: Some(SECRET),
            options: Some(
                r#"{"allowed_algs": ["RS256", "HS256"], "jwks_refetch_min_interval_s": 0}"#,
            ),
            ..Default::default()
        },
    );
    let claims = good_claims(&stub.issuer(), "rp", Some("nonce-1"));
    let good = sign("RS256", "stub-rs256", &json!({}), &claims);
    let mut tokens = vec![good.clone()];
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("someone-else");
    tokens.push(sign("RS256", "stub-rs256", &json!({}), &wrong_aud));
    tokens.push(sign(
        "RS256",
        "stub-rs256-b",
        &json!({"kid": "rotated-away"}),
        &claims,
    ));
    tokens.push(sign_hmac(
        "HS256",
        b"not-the-secret-0123456789abcdef",
        &json!({}),
        &claims,
    ));
    tokens.push(sign_hmac(
        "HS256",
        SECRET.as_bytes(),
        &json!({}),
        &wrong_aud,
    ));
    let mut docs = Vec::new();
    client
        .decode_id_token(&good, Some(r#"{"nonce": "nonce-1"}"#))
        .ok();
    for t in &tokens[1..] {
        let out = client.decode_id_token(
            t,
            Some(r#"{"nonce": "nonce-1", "access_token": "at-SECRET-VALUE"}"#),
        );
        assert_eq!(out.status, SOIDC_ERR_VALIDATION, "{:?}", out.doc);
        docs.push(out.doc.unwrap());
    }
    // A failing creation with the secret.
    stub.set_json(
        DISCOVERY_PATH,
        500,
        &json!({"error": "server_error", "secret": "no"}),
    );
    let (out, _) = ffi::from_issuer_url(
        &stub.issuer(),
        Params {
            client_id: "rp",
            client_secret: Some(SECRET),
            ..Default::default()
        },
    );
    assert_eq!(out.status, SOIDC_ERR_HTTP);
    docs.push(out.doc.unwrap());

    // SAFETY: turning logging off.
    unsafe { soidc_set_log_callback(None, 0, ptr::null_mut()) };
    let log = drain_log();

    assert!(!log.is_empty(), "level 5 delivers messages");
    assert!(log.iter().all(|(level, _)| (1..=5).contains(level)));
    assert!(
        log.iter().any(|(_, m)| m.contains("ID token")),
        "rejections are logged: {log:?}"
    );
    assert!(
        log.iter().any(|(_, m)| m.contains("JWKS")),
        "key fetches are logged: {log:?}"
    );
    let texts: Vec<&str> = log
        .iter()
        .map(|(_, m)| m.as_str())
        .chain(docs.iter().map(String::as_str))
        .collect();
    for text in texts {
        assert!(!text.contains(SECRET), "the client secret leaked: {text}");
        assert!(
            !text.contains("at-SECRET-VALUE"),
            "the access token leaked: {text}"
        );
        for t in &tokens {
            let sig = t.rsplit('.').next().unwrap();
            let payload = t.split('.').nth(1).unwrap();
            assert!(!text.contains(t.as_str()), "a raw token leaked: {text}");
            assert!(!text.contains(sig), "a token signature leaked: {text}");
            assert!(!text.contains(payload), "a token payload leaked: {text}");
        }
    }
}

#[test]
fn log_levels_filter_and_null_callback_is_off() {
    let _serial = LOG_SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ud = 0x5eed as *mut c_void;
    let stub = StubServer::new();
    let client = ffi::client(
        &stub.issuer(),
        Params {
            client_id: "rp",
            ..Default::default()
        },
    );
    let token = sign(
        "RS256",
        "stub-rs256",
        &json!({}),
        &good_claims(&stub.issuer(), "someone-else", None),
    );

    // max_level 1: the rejection (info) and the key fetch (info, debug) are not delivered.
    // SAFETY: `collect` is thread-safe and user_data is a plain value.
    unsafe { soidc_set_log_callback(Some(collect), 1, ud) };
    drain_log();
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "aud");
    unsafe { soidc_set_log_callback(None, 5, ptr::null_mut()) };
    let log = drain_log();
    assert!(
        log.iter().all(|(level, _)| *level == 1),
        "only errors at max_level 1: {log:?}"
    );

    // NULL callback: nothing at all, whatever max_level says.
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "aud");
    assert!(drain_log().is_empty());

    // Out-of-range levels are clamped, never a crash: 99 acts as 5, -7 as off.
    unsafe { soidc_set_log_callback(Some(collect), 99, ud) };
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "aud");
    unsafe { soidc_set_log_callback(Some(collect), -7, ud) };
    let log = drain_log();
    assert!(
        log.iter()
            .any(|(level, m)| *level == 3 && m.contains("ID token")),
        "{log:?}"
    );
    client
        .decode_id_token(&token, None)
        .err(SOIDC_ERR_VALIDATION, "aud");
    unsafe { soidc_set_log_callback(None, 0, ptr::null_mut()) };
    assert!(drain_log().is_empty(), "max_level -7 delivers nothing");
}

/// A panic inside the library comes back as SOIDC_ERR_INTERNAL with an error document,
/// prints nothing, and the same client keeps working afterwards.
#[cfg(feature = "test-hooks")]
#[test]
fn forced_panic_is_internal_and_the_client_keeps_working() {
    let stub = StubServer::new();
    let params = Params { client_id: "rp", client_secret: Some("s"), ..Default::default() };
    let (out, client) = ffi::from_issuer_config(&stub.discovery_doc().to_string(), params);
    assert_eq!(out.status, SOIDC_OK, "{:?}", out.doc);
    let client = client.expect("a client");
    soidc::ffi::force_panic_on_next_call();
    let doc = client.provider_config().err(SOIDC_ERR_INTERNAL, "panic forced by the test hook");
    assert_eq!(doc["status"], "internal");
    client.provider_config().ok();
}

// ---------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------

/// Each argument of the JSON helpers NULL or invalid UTF-8 in turn: SOIDC_ERR_INVALID_ARGUMENT,
/// string out-pointers overwritten with NULL, integer out-values untouched; an absent member
/// is SOIDC_ERR_NOT_FOUND, never confused with a bad argument.
#[test]
fn json_helpers_null_and_bad_arguments() {
    use soidc::ffi::json::*;
    let doc = cstr(r#"{"sub":"alice","exp":5,"ok":true}"#);
    let sub = cstr("/sub");
    let bad_utf8: &[u8] = b"\xff\xfe\0";
    let bad = bad_utf8.as_ptr() as *const c_char;
    // (document, pointer, expected status) for each combination.
    let cases = [
        (ptr::null(), sub.as_ptr(), SOIDC_ERR_INVALID_ARGUMENT),
        (doc.as_ptr(), ptr::null(), SOIDC_ERR_INVALID_ARGUMENT),
        (bad, sub.as_ptr(), SOIDC_ERR_INVALID_ARGUMENT),
        (doc.as_ptr(), bad, SOIDC_ERR_INVALID_ARGUMENT),
        (doc.as_ptr(), c"/nope".as_ptr(), SOIDC_ERR_NOT_FOUND),
        (doc.as_ptr(), c"nope".as_ptr(), SOIDC_ERR_INVALID_ARGUMENT),
    ];
    for (i, (d, p, expected)) in cases.into_iter().enumerate() {
        // SAFETY: NULL or valid C strings; out-pointers preset to garbage must be
        // overwritten (strings) or left alone (numbers).
        unsafe {
            let mut out: *mut c_char = garbage();
            assert_eq!(soidc_json_get_string(d, p, &mut out), expected, "case {i}");
            assert_eq!(take_out(out, "soidc_json_get_string"), None, "case {i}");
            let mut out: *mut c_char = garbage();
            assert_eq!(soidc_json_get_raw(d, p, &mut out), expected, "case {i}");
            assert_eq!(take_out(out, "soidc_json_get_raw"), None, "case {i}");
            let mut n = 77i64;
            assert_eq!(soidc_json_get_int64(d, p, &mut n), expected, "case {i}");
            assert_eq!(n, 77, "case {i}");
            let mut b: c_int = 77;
            assert_eq!(soidc_json_get_bool(d, p, &mut b), expected, "case {i}");
            assert_eq!(b, 77, "case {i}");
        }
    }
    // SAFETY: valid C strings, NULL out-pointers.
    unsafe {
        assert_eq!(soidc_json_get_string(doc.as_ptr(), sub.as_ptr(), ptr::null_mut()), SOIDC_ERR_INVALID_ARGUMENT);
        assert_eq!(soidc_json_get_raw(doc.as_ptr(), sub.as_ptr(), ptr::null_mut()), SOIDC_ERR_INVALID_ARGUMENT);
        assert_eq!(soidc_json_get_int64(doc.as_ptr(), c"/exp".as_ptr(), ptr::null_mut()), SOIDC_ERR_INVALID_ARGUMENT);
        assert_eq!(soidc_json_get_bool(doc.as_ptr(), c"/ok".as_ptr(), ptr::null_mut()), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(soidc_json_quote(ptr::null()).is_null());
        assert!(soidc_json_quote(bad).is_null());
        assert_eq!(take(soidc_json_quote(c"a\"b".as_ptr())).as_deref(), Some(r#""a\"b""#));
        // And the success path of each, for contrast.
        let mut out: *mut c_char = garbage();
        assert_eq!(soidc_json_get_string(doc.as_ptr(), sub.as_ptr(), &mut out), SOIDC_OK);
        assert_eq!(take_out(out, "soidc_json_get_string").as_deref(), Some("alice"));
        let mut n = 0i64;
        assert_eq!(soidc_json_get_int64(doc.as_ptr(), c"/exp".as_ptr(), &mut n), SOIDC_OK);
        assert_eq!(n, 5);
        let mut b: c_int = 0;
        assert_eq!(soidc_json_get_bool(doc.as_ptr(), c"/ok".as_ptr(), &mut b), SOIDC_OK);
        assert_eq!(b, 1);
    }
}

/// A panic inside a JSON helper is SOIDC_ERR_INTERNAL (quote: NULL), and the next call works.
#[test]
fn json_helpers_survive_a_panic() {
    use soidc::ffi::json::*;
    let doc = cstr(r#"{"sub":"alice"}"#);
    soidc::ffi::force_panic_on_next_call();
    let mut out: *mut c_char = garbage();
    // SAFETY: valid C strings and out-pointer.
    unsafe {
        assert_eq!(soidc_json_get_string(doc.as_ptr(), c"/sub".as_ptr(), &mut out), SOIDC_ERR_INTERNAL);
        assert!(out.is_null());
        soidc::ffi::force_panic_on_next_call();
        assert!(soidc_json_quote(c"x".as_ptr()).is_null());
        assert_eq!(soidc_json_get_string(doc.as_ptr(), c"/sub".as_ptr(), &mut out), SOIDC_OK);
        assert_eq!(take(out).as_deref(), Some("alice"));
    }
}
