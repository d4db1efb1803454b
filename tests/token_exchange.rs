//! `soidc_token_exchange` (RFC 8693) through the C ABI, without a real provider: bad
//! input of every kind (refused before any network access, with a clear status and
//! message), and the response checks against the tests' stub server. The exchanges
//! themselves are tested against Keycloak in tests/keycloak.rs.

mod common;

use common::ffi::{self, cstr, opt_ptr, take, FfiClient, Outcome, Params};
use common::stub::{Route, StubServer};
use serde_json::{json, Value};
use soidc::ffi::token_exchange::*;
use std::os::raw::c_char;
use std::ptr;

const INVALID_ARGUMENT: i32 = 1;
const NETWORK: i32 = 2;
const HTTP: i32 = 3;
const PROTOCOL: i32 = 4;
const PROVIDER: i32 = 5;
const SUBJECT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

/// A confidential client of the stub (its token endpoint: `/token`).
fn stub_client(stub: &StubServer) -> FfiClient {
    ffi::client(
        &stub.issuer(),
        Params { client_id: "rp", client_secret: Some("rp-secret-0123456789"), ..Default::default() },
    )
}

/// A client whose token endpoint nobody listens on: a request that passes every local
/// check ends as a network error.
fn dead_client() -> FfiClient {
    let metadata = json!({
        "issuer": "http://127.0.0.1:9",
        "authorization_endpoint": "http://127.0.0.1:9/auth",
        "token_endpoint": format!("{}/token", common::stub::dead_url()),
        "jwks_uri": "http://127.0.0.1:9/jwks",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let (o, c) = ffi::from_issuer_config(
        &metadata.to_string(),
        Params { client_id: "rp", client_secret: Some("rp-secret-0123456789"), ..Default::default() },
    );
    assert_eq!(o.status, 0, "{o:?}");
    c.unwrap()
}

fn exchange_raw(client: *const soidc::ffi::client::soidc_client, subject: *const c_char, ty: *const c_char, options: *const c_char) -> Outcome {
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: the pointers are NULL or valid for the call (the tests' own strings).
    let status = unsafe { soidc_token_exchange(client, subject, ty, options, &mut out) };
    Outcome { status, doc: unsafe { take(out) } }
}

fn exchange(c: &FfiClient, subject: &str, ty: &str, options: Option<&str>) -> Outcome {
    let s = cstr(subject);
    let t = cstr(ty);
    let o = options.map(cstr);
    exchange_raw(c.0, s.as_ptr(), t.as_ptr(), opt_ptr(&o))
}

#[test]
fn header_constants_are_the_rfc_8693_identifiers() {
    assert_eq!(SOIDC_TOKEN_TYPE_ACCESS_TOKEN, "urn:ietf:params:oauth:token-type:access_token");
    assert_eq!(SOIDC_TOKEN_TYPE_REFRESH_TOKEN, "urn:ietf:params:oauth:token-type:refresh_token");
    assert_eq!(SOIDC_TOKEN_TYPE_ID_TOKEN, "urn:ietf:params:oauth:token-type:id_token");
    assert_eq!(SOIDC_TOKEN_TYPE_SAML1, "urn:ietf:params:oauth:token-type:saml1");
    assert_eq!(SOIDC_TOKEN_TYPE_SAML2, "urn:ietf:params:oauth:token-type:saml2");
    assert_eq!(SOIDC_TOKEN_TYPE_JWT, "urn:ietf:params:oauth:token-type:jwt");
    let header = std::fs::read_to_string(common::repo_root().join("include/soidc.h")).unwrap();
    for (name, value) in [
        ("SOIDC_TOKEN_TYPE_ACCESS_TOKEN", SOIDC_TOKEN_TYPE_ACCESS_TOKEN),
        ("SOIDC_TOKEN_TYPE_JWT", SOIDC_TOKEN_TYPE_JWT),
    ] {
        assert!(header.contains(&format!("#define {name} \"{value}\"")), "{name} in soidc.h");
    }
    assert!(header.contains("soidc_status soidc_token_exchange("));
}

#[test]
fn null_and_non_utf8_arguments() {
    let c = dead_client();
    let s = cstr(SUBJECT);
    let t = cstr(SOIDC_TOKEN_TYPE_ACCESS_TOKEN);
    exchange_raw(ptr::null(), s.as_ptr(), t.as_ptr(), ptr::null()).err(INVALID_ARGUMENT, "client is NULL");
    exchange_raw(c.0, ptr::null(), t.as_ptr(), ptr::null()).err(INVALID_ARGUMENT, "subject_token is NULL");
    exchange_raw(c.0, s.as_ptr(), ptr::null(), ptr::null()).err(INVALID_ARGUMENT, "subject_token_type is NULL");
    let bad = [0xffu8, 0xfe, b'x', 0];
    exchange_raw(c.0, bad.as_ptr() as *const c_char, t.as_ptr(), ptr::null()).err(INVALID_ARGUMENT, "UTF-8");
    exchange_raw(c.0, s.as_ptr(), t.as_ptr(), bad.as_ptr() as *const c_char).err(INVALID_ARGUMENT, "UTF-8");
    // out_json NULL: the status alone.
    // SAFETY: valid strings; out_json may be NULL.
    let status = unsafe { soidc_token_exchange(c.0, ptr::null(), t.as_ptr(), ptr::null(), ptr::null_mut()) };
    assert_eq!(status, INVALID_ARGUMENT);
}

#[test]
fn bad_tokens_and_token_types() {
    let c = dead_client();
    let at = SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
    exchange(&c, "", at, None).err(INVALID_ARGUMENT, "subject_token is empty");
    let huge = "a".repeat(300 * 1024);
    let o = exchange(&c, &huge, at, None);
    o.err(INVALID_ARGUMENT, "262144-byte limit");
    assert!(o.doc.as_ref().unwrap().len() < 1024, "the token is not echoed");
    for (ty, fragment) in [
        ("access_token", "not a token type identifier"),
        ("", "not a token type identifier"),
        ("urn:ietf:params:oauth:token-type:acess_token", "RFC 8693"),
        ("urn:ietf:params:oauth:token-type:", "RFC 8693"),
        ("urn:ietf:params:oauth:token-type:access_token ", "RFC 8693"),
        ("not a uri", "not a token type identifier"),
    ] {
        exchange(&c, SUBJECT, ty, None).err(INVALID_ARGUMENT, fragment);
    }
    exchange(&c, SUBJECT, &format!("urn:x:{}", "y".repeat(5000)), None).err(INVALID_ARGUMENT, "bytes");
    // The subject token never appears in an error.
    let o = exchange(&c, "secret-subject-token-value", "bogus", None);
    o.err(INVALID_ARGUMENT, "");
    assert!(!o.doc.unwrap().contains("secret-subject-token-value"));
}

#[test]
fn bad_options() {
    let c = dead_client();
    let at = SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
    for (options, fragment) in [
        ("{", "malformed JSON"),
        ("[]", "JSON object"),
        ("\"audience\"", "JSON object"),
        (r#"{"audiences": "x"}"#, "audiences"),
        (r#"{"audience": "a", "audience": "b"}"#, ""),
        (r#"{"audience": null}"#, "null"),
        (r#"{"audience": 7}"#, "audience"),
        (r#"{"audience": []}"#, "empty list"),
        (r#"{"audience": [""]}"#, "1 to 4096 bytes"),
        (r#"{"audience": [1, 2]}"#, "audience"),
        (r#"{"resource": "relative/path"}"#, "absolute URI"),
        (r#"{"resource": "https://api.example/#frag"}"#, "fragment"),
        (r#"{"scope": " "}"#, "blank"),
        (r#"{"scope": ["a"]}"#, "scope"),
        (r#"{"actor_token": "tok"}"#, "actor_token_type"),
        (r#"{"actor_token_type": "urn:ietf:params:oauth:token-type:jwt"}"#, "without actor_token"),
        (r#"{"actor_token": "", "actor_token_type": "urn:ietf:params:oauth:token-type:jwt"}"#, "actor_token is empty"),
        (r#"{"actor_token": "t", "actor_token_type": "jwt"}"#, "actor_token_type"),
        (r#"{"requested_token_type": "urn:ietf:params:oauth:token-type:acces_token"}"#, "requested_token_type"),
        (r#"{"timeout_ms": 0}"#, "timeout_ms"),
        (r#"{"timeout_ms": 99999999999}"#, "timeout_ms"),
        (r#"{"timeout_ms": -1}"#, "timeout_ms"),
    ] {
        exchange(&c, SUBJECT, at, Some(options)).err(INVALID_ARGUMENT, fragment);
    }
    let many: Vec<String> = (0..65).map(|i| format!("aud-{i}")).collect();
    exchange(&c, SUBJECT, at, Some(&json!({"audience": many}).to_string())).err(INVALID_ARGUMENT, "more than 64");
    let long = "r".repeat(5000);
    exchange(&c, SUBJECT, at, Some(&json!({"audience": long}).to_string())).err(INVALID_ARGUMENT, "4096");
    // A nesting bomb is refused by the strict JSON reader.
    let deep = format!("{{\"audience\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    exchange(&c, SUBJECT, at, Some(&deep)).err(INVALID_ARGUMENT, "");
}

#[test]
fn valid_requests_reach_the_token_endpoint() {
    let c = dead_client();
    // Every option, a registered and a non-IETF (extension) URI type: all local checks
    // pass and the request is sent, so it fails only on the network.
    let options = json!({
        "actor_token": "actor", "actor_token_type": SOIDC_TOKEN_TYPE_JWT,
        "requested_token_type": "https://example.com/token-types/custom",
        "audience": ["a", "b"], "resource": ["https://api.example/x", "urn:example:api"],
        "scope": "read write", "timeout_ms": 2000,
    });
    exchange(&c, SUBJECT, SOIDC_TOKEN_TYPE_ACCESS_TOKEN, Some(&options.to_string())).err(NETWORK, "");
    exchange(&c, SUBJECT, "urn:example:token-type:opaque", None).err(NETWORK, "");
}

#[test]
fn response_checks() {
    let stub = StubServer::new();
    let c = stub_client(&stub);
    let at = SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
    let good = json!({"access_token": "issued", "issued_token_type": at, "token_type": "Bearer", "expires_in": 60});
    stub.set_json("/token", 200, &good);
    let doc: Value = exchange(&c, SUBJECT, at, None).ok();
    assert_eq!(doc, good);
    assert_eq!(stub.count("/token"), 1);
    // An ID token issued (token_type N_A, RFC 8693 §2.2.1) is returned as is.
    let n_a = json!({"access_token": "an-id-token", "issued_token_type": SOIDC_TOKEN_TYPE_ID_TOKEN, "token_type": "N_A"});
    stub.set_json("/token", 200, &n_a);
    assert_eq!(exchange(&c, SUBJECT, at, Some(&json!({"requested_token_type": SOIDC_TOKEN_TYPE_ID_TOKEN}).to_string())).ok(), n_a);

    for (body, fragment) in [
        (json!({"issued_token_type": at, "token_type": "Bearer"}), "no access_token"),
        (json!({"access_token": "", "issued_token_type": at, "token_type": "Bearer"}), "access_token"),
        (json!({"access_token": "x", "token_type": "Bearer"}), "no issued_token_type"),
        (json!({"access_token": "x", "issued_token_type": 5, "token_type": "Bearer"}), "issued_token_type"),
        (json!({"access_token": "x", "issued_token_type": "nope", "token_type": "Bearer"}), "issued_token_type"),
        (json!({"access_token": "x", "issued_token_type": at}), "no token_type"),
        (json!({"access_token": "x", "issued_token_type": at, "token_type": "Bearer", "expires_in": "60"}), "expires_in"),
        (json!({"access_token": "x", "issued_token_type": at, "token_type": "Bearer", "scope": ["a"]}), "scope"),
    ] {
        stub.set_json("/token", 200, &body);
        exchange(&c, SUBJECT, at, None).err(PROTOCOL, fragment);
    }
    // The provider's refusal, with its fields.
    stub.set_json("/token", 400, &json!({"error": "invalid_target", "error_description": "no such audience"}));
    let e = exchange(&c, SUBJECT, at, Some(r#"{"audience": "x"}"#)).err(PROVIDER, "invalid_target");
    assert_eq!(e["error"], "invalid_target");
    assert_eq!(e["error_description"], "no such audience");
    assert_eq!(e["http_status"], 400);
    stub.set_route("/token", Route::raw(502, "text/html", b"<h1>bad gateway</h1>"));
    exchange(&c, SUBJECT, at, None).err(HTTP, "502");
    stub.set_route("/token", Route::raw(200, "application/json", b"not json"));
    exchange(&c, SUBJECT, at, None).err(HTTP, "not JSON");
}
