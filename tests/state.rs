//! Provider state across processes: `soidc_client_export_state`, `soidc_client_from_state`
//! and `soidc_client_import_keys`, through the C ABI, against the real provider and the
//! tests' own stub (requests counted at both).

mod common;

use common::ffi::{self, cstr, opt_ptr, take, FfiClient, Outcome, Params};
use common::jwt::{good_claims, sign};
use common::provider::{self, alice_id_token, client_secret, discovery_fetch_count, jwks_fetch_count};
use common::stub::{jwks_of, StubServer, DISCOVERY_PATH, JWKS_PATH};
use serde_json::{json, Value};
use soidc::ffi::client::{soidc_client, soidc_client_export_state, soidc_client_from_state, soidc_client_import_keys};
use soidc::ffi::status::*;
use std::os::raw::c_char;
use std::ptr;
use std::sync::{Mutex, MutexGuard};

static PROVIDER_LOCK: Mutex<()> = Mutex::new(());

fn provider_lock() -> MutexGuard<'static, ()> {
    PROVIDER_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn export(c: &FfiClient, options: Option<&str>) -> Outcome {
    let options = options.map(cstr);
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live client, valid strings and out-pointer.
    let status = unsafe { soidc_client_export_state(c.0, opt_ptr(&options), &mut out) };
    Outcome { status, doc: unsafe { take(out) } }
}

fn from_state(state: &str, client_id: &str, secret: Option<&str>, options: Option<&str>) -> (Outcome, Option<FfiClient>) {
    let state = cstr(state);
    let id = cstr(client_id);
    let secret = secret.map(cstr);
    let options = options.map(cstr);
    let mut out_client: *mut soidc_client = ptr::null_mut();
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: valid C strings or NULL, valid out-pointers.
    let status = unsafe {
        soidc_client_from_state(
            state.as_ptr(),
            ptr::null(),
            id.as_ptr(),
            opt_ptr(&secret),
            ptr::null(),
            opt_ptr(&options),
            &mut out_client,
            &mut out,
        )
    };
    let doc = unsafe { take(out) };
    assert_eq!(status == SOIDC_OK, !out_client.is_null(), "a client exactly on success: {doc:?}");
    let client = (!out_client.is_null()).then(|| FfiClient(out_client));
    (Outcome { status, doc }, client)
}

fn import_keys(c: &FfiClient, jwks: &str, options: Option<&str>) -> Outcome {
    let jwks = cstr(jwks);
    let options = options.map(cstr);
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live client, valid strings and out-pointer.
    let status = unsafe { soidc_client_import_keys(c.0, jwks.as_ptr(), opt_ptr(&options), &mut out) };
    Outcome { status, doc: unsafe { take(out) } }
}

fn issuer_opt(issuer: &str) -> String {
    json!({ "issuer": issuer }).to_string()
}

fn stub_client(stub: &StubServer) -> FfiClient {
    ffi::client(&stub.issuer(), Params { client_id: "rp", client_secret: Some("rp-secret"), ..Default::default() })
}

fn stub_token(stub: &StubServer, key: &str) -> String {
    let alg = common::jwt::header_alg_for_key(key);
    sign(alg, key, &json!({}), &good_claims(&stub.issuer(), "rp", None))
}

fn stub_requests(stub: &StubServer) -> (usize, usize) {
    (stub.count(DISCOVERY_PATH), stub.jwks_count())
}

/// A stub, a client that fetched its keys, and its exported state.
fn stub_state() -> (StubServer, Value) {
    let stub = StubServer::new();
    let c = stub_client(&stub);
    c.provider_keys(None).ok();
    let state = export(&c, None).ok();
    (stub, state)
}

// ---------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------

#[test]
fn round_trip_at_the_real_provider_makes_no_request() {
    let _g = provider_lock();
    let secret = client_secret("conf-basic");
    let first = ffi::client(provider::issuer(), Params { client_id: "conf-basic", client_secret: Some(&secret), ..Default::default() });
    let (token, _) = alice_id_token("conf-basic", None);
    assert_eq!(first.decode_id_token(&token, None).ok()["sub"], "alice");
    let state = export(&first, None).ok();
    assert_eq!(state["soidc_state"], 1);
    assert_eq!(state["issuer"], provider::issuer());
    assert_eq!(state["metadata"], first.provider_config().ok());
    assert_eq!(state["jwks"], first.provider_keys(Some(r#"{"cache_only": true}"#)).ok());
    let fetched = state["jwks_fetched_at"].as_u64().unwrap();
    let expires = state["jwks_expires_at"].as_u64().unwrap();
    assert!(expires >= fetched + 600, "min_jwks_cache_s 600: {fetched} -> {expires}");
    assert!(!state.to_string().contains(&secret), "no secret in the state");

    let (d0, j0) = (discovery_fetch_count(), jwks_fetch_count());
    let (out, second) = from_state(&state.to_string(), "conf-basic", Some(&secret), Some(&issuer_opt(provider::issuer())));
    let second = second.unwrap_or_else(|| panic!("{:?}", out.doc));
    for _ in 0..5 {
        let (token, _) = alice_id_token("conf-basic", None);
        assert_eq!(second.decode_id_token(&token, None).ok()["sub"], "alice");
    }
    assert_eq!((discovery_fetch_count() - d0, jwks_fetch_count() - j0), (0, 0), "no discovery, no JWKS request");
    // Its own export carries the same provider data.
    let again = export(&second, None).ok();
    assert_eq!(again, state);
    println!("round trip at the real provider: 0 discovery, 0 JWKS requests for 5 decodes");
}

#[test]
fn round_trip_at_the_stub_makes_no_request() {
    let (stub, state) = stub_state();
    assert_eq!(stub_requests(&stub), (1, 1));
    let (out, c) = from_state(&state.to_string(), "rp", Some("rp-secret"), Some(&issuer_opt(&stub.issuer())));
    let c = c.unwrap_or_else(|| panic!("{:?}", out.doc));
    for key in ["stub-rs256", "stub-es256", "stub-es384", "stub-ed25519"] {
        assert_eq!(c.decode_id_token(&stub_token(&stub, key), None).ok()["sub"], "user-1", "{key}");
    }
    assert_eq!(stub_requests(&stub), (1, 1), "the imported client made no request");
    assert_eq!(c.provider_config().ok()["x_stub_extension"]["kept"], true, "metadata verbatim");
}

#[test]
fn a_state_without_keys_fetches_them_on_first_use() {
    let stub = StubServer::new();
    let c = stub_client(&stub);
    let state = export(&c, None).ok();
    assert!(state.get("jwks").is_none() && state.get("jwks_expires_at").is_none(), "{state}");
    let (out, c2) = from_state(&state.to_string(), "rp", Some("rp-secret"), Some(&issuer_opt(&stub.issuer())));
    let c2 = c2.unwrap_or_else(|| panic!("{:?}", out.doc));
    assert_eq!(stub_requests(&stub), (1, 0));
    c2.decode_id_token(&stub_token(&stub, "stub-rs256"), Some(r#"{"cache_only": true}"#))
        .err(SOIDC_ERR_VALIDATION, "no keys are cached");
    assert_eq!(c2.decode_id_token(&stub_token(&stub, "stub-rs256"), None).ok()["sub"], "user-1");
    assert_eq!(stub_requests(&stub), (1, 1));
}

#[test]
fn stale_keys_are_used_cache_only_and_refreshed_on_first_fetching_use() {
    let (stub, mut state) = stub_state();
    let now = common::now() as u64;
    state["jwks_fetched_at"] = json!(now - 1000);
    state["jwks_expires_at"] = json!(now - 400);
    let (out, c) = from_state(&state.to_string(), "rp", Some("rp-secret"), Some(&issuer_opt(&stub.issuer())));
    let c = c.unwrap_or_else(|| panic!("{:?}", out.doc));
    assert_eq!(stub_requests(&stub), (1, 1), "creation makes no request");
    let token = stub_token(&stub, "stub-es256");
    assert_eq!(c.decode_id_token(&token, Some(r#"{"cache_only": true}"#)).ok()["sub"], "user-1");
    assert_eq!(stub_requests(&stub), (1, 1), "cache_only never fetches, stale keys serve");
    assert_eq!(c.decode_id_token(&token, None).ok()["sub"], "user-1");
    assert_eq!(stub_requests(&stub), (1, 2), "the first fetching use refreshed them");
    assert_eq!(c.decode_id_token(&token, None).ok()["sub"], "user-1");
    assert_eq!(stub_requests(&stub), (1, 2), "fresh again");
    let exported = export(&c, None).ok();
    assert!(exported["jwks_expires_at"].as_u64().unwrap() > now, "{exported}");
}

// ---------------------------------------------------------------------------------------
// Refused states
// ---------------------------------------------------------------------------------------

fn refused(stub: &StubServer, state: &str, options: Option<&str>, fragment: &str) {
    let before = stub_requests(stub);
    let own = issuer_opt(&stub.issuer());
    let (out, c) = from_state(state, "rp", Some("rp-secret"), Some(options.unwrap_or(&own)));
    assert!(c.is_none());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
    assert_eq!(stub_requests(stub), before, "a refused state makes no request");
}

#[test]
fn bad_states_are_refused_whole() {
    let (stub, state) = stub_state();
    let text = state.to_string();
    let now = common::now() as u64;
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut s = state.clone();
        f(&mut s);
        s.to_string()
    };
    // Tampered: the metadata names another issuer than the state.
    refused(&stub, &edit(&|s| s["metadata"]["issuer"] = json!("http://127.0.0.1:1")), None, "tampered");
    // Truncated.
    refused(&stub, &text[..text.len() / 2], None, "malformed JSON");
    refused(&stub, "", None, "malformed JSON");
    // Stale metadata.
    refused(&stub, &edit(&|s| s["metadata_fetched_at"] = json!(now - 90_000)), None, "stale");
    // Foreign issuer: the state is for the stub, the client expects another issuer.
    refused(&stub, &text, Some(&issuer_opt("https://other.example")), "expects \"https://other.example\"");
    // Versions.
    refused(&stub, &edit(&|s| s["soidc_state"] = json!(2)), None, "version 2 is not supported");
    refused(&stub, &edit(&|s| s["soidc_state"] = json!("1")), None, "is not supported");
    refused(&stub, &edit(&|s| { s.as_object_mut().unwrap().remove("soidc_state"); }), None, "not a soidc state document");
    // Oversized.
    refused(&stub, &edit(&|s| s["metadata"]["x_pad"] = json!("a".repeat(1024 * 1024))), None, "more than the 1048576 allowed");
    // Duplicate member (at the top and nested).
    refused(&stub, &format!("{{\"issuer\":\"http://evil.example\",{}", &text[1..]), None, "appears more than once");
    let nested = text.replacen("\"keys\":[", "\"keys\":[],\"keys\":[", 1);
    refused(&stub, &nested, None, "appears more than once");
    // Unknown member, missing issuer option, times that make no sense.
    refused(&stub, &edit(&|s| s["extra"] = json!(1)), None, "unknown member \"extra\"");
    refused(&stub, &text, Some("{}"), "needs the client option \"issuer\"");
    refused(&stub, &edit(&|s| s["metadata_fetched_at"] = json!(now + 3600)), None, "lies in the future");
    refused(&stub, &edit(&|s| s["jwks_expires_at"] = json!(now - 3600)), None, "must lie between");
    refused(&stub, &edit(&|s| s["jwks_expires_at"] = json!(now + 10 * 86_400)), None, "must lie between");
    refused(&stub, &edit(&|s| { s.as_object_mut().unwrap().remove("jwks_fetched_at"); }), None, "go together");
    // Keys that do not parse, or none usable.
    refused(&stub, &edit(&|s| s["jwks"] = json!({"keys": []})), None, "no key usable");
    refused(&stub, &edit(&|s| s["jwks"] = json!({"nokeys": 1})), None, "no \"keys\" member");
    refused(&stub, &edit(&|s| s["jwks"] = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})), None, "no key usable");
    // Metadata that is not valid, or an endpoint violating the transport policy.
    refused(&stub, &edit(&|s| { s["metadata"].as_object_mut().unwrap().remove("jwks_uri"); }), None, "jwks_uri");
    refused(&stub, &edit(&|s| s["metadata"]["token_endpoint"] = json!("http://op.example/token")), None, "https is required");
    refused(&stub, &edit(&|s| s["metadata"]["jwks_uri"] = json!("ftp://127.0.0.1/jwks")), None, "unsupported scheme");
    refused(&stub, "[1,2]", None, "expected a JSON object");
}

// ---------------------------------------------------------------------------------------
// Keys handed in by the host
// ---------------------------------------------------------------------------------------

#[test]
fn imported_keys_serve_without_requests_and_garbage_changes_nothing() {
    let stub = StubServer::new();
    stub.set_json(JWKS_PATH, 500, &json!({"error": "down"}));
    let c = stub_client(&stub);
    let only_rs = jwks_of(&["stub-rs256"]);
    import_keys(&c, &only_rs.to_string(), None).ok_status();
    let token = stub_token(&stub, "stub-rs256");
    assert_eq!(c.decode_id_token(&token, None).ok()["sub"], "user-1");
    assert_eq!(stub.jwks_count(), 0, "imported keys are fresh: no fetch");

    let dup = only_rs.to_string().replacen("\"kty\":", "\"kty\":\"RSA\",\"kty\":", 1);
    let big = json!({"keys": [], "pad": "a".repeat(1024 * 1024)}).to_string();
    let garbage: [(&str, Option<&str>, &str); 10] = [
        ("{\"keys\": [", None, "malformed JSON"),
        ("not json", None, "malformed JSON"),
        (&dup, None, "appears more than once"),
        ("{\"keys\": []}", None, "no key usable"),
        ("{\"keys\": {}}", None, "not an array"),
        ("[]", None, "not a JSON object"),
        (&big, None, "more than the 1048576 allowed"),
        (r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#, None, "no key usable"),
        (&jwks_of(&["stub-es256"]).to_string(), Some(r#"{"max_age_s": 86401}"#), "max_age_s must be at most 86400"),
        (&jwks_of(&["stub-es256"]).to_string(), Some(r#"{"max_age": 5}"#), "unknown field"),
    ];
    for (doc, options, fragment) in garbage {
        import_keys(&c, doc, options).err(SOIDC_ERR_INVALID_ARGUMENT, fragment);
        assert_eq!(c.provider_keys(Some(r#"{"cache_only": true}"#)).ok(), only_rs, "unchanged after {fragment}");
        let exported = export(&c, None).ok();
        assert_eq!(exported["jwks"], only_rs);
    }
    assert_eq!(c.decode_id_token(&token, None).ok()["sub"], "user-1");
    assert_eq!(stub.jwks_count(), 0);
}

#[test]
fn imported_keys_expire_after_max_age() {
    let stub = StubServer::new();
    let c = stub_client(&stub);
    import_keys(&c, &jwks_of(&["stub-es384"]).to_string(), Some(r#"{"max_age_s": 0}"#)).ok_status();
    let token = stub_token(&stub, "stub-es384");
    assert_eq!(c.decode_id_token(&token, Some(r#"{"cache_only": true}"#)).ok()["sub"], "user-1");
    assert_eq!(stub.jwks_count(), 0);
    assert_eq!(c.decode_id_token(&token, None).ok()["sub"], "user-1");
    assert_eq!(stub.jwks_count(), 1, "max_age_s 0: refreshed on the first fetching use");
    let state = export(&c, None).ok();
    assert_eq!(state["jwks"], jwks_of(&common::stub::STUB_KEYS), "the fetched set replaced the imported one");
}

trait OkStatus {
    fn ok_status(&self);
}

impl OkStatus for Outcome {
    #[track_caller]
    fn ok_status(&self) {
        assert_eq!(self.status, SOIDC_OK, "{:?}", self.doc);
        assert!(self.doc.is_none(), "nothing handed out on success");
    }
}

// ---------------------------------------------------------------------------------------
// Bad input at the boundary
// ---------------------------------------------------------------------------------------

#[test]
fn bad_input_to_every_new_function() {
    let (stub, state) = stub_state();
    let text = cstr(&state.to_string());
    let c = stub_client(&stub);
    let id = cstr("rp");
    let good_opts = cstr(&issuer_opt(&stub.issuer()));
    let bad_utf8: &[u8] = b"{\"issuer\": \"\xff\xfe\"}\0";
    let bad_utf8 = bad_utf8.as_ptr() as *const c_char;
    let malformed = cstr("{\"issuer\": ");
    let unknown = cstr(r#"{"issuer": "x", "no_such_option": 1}"#);
    let jwks = cstr(&jwks_of(&["stub-rs256"]).to_string());

    let decode = |out: *mut c_char| -> Value { serde_json::from_str(&unsafe { take(out) }.expect("an error document")).unwrap() };
    // SAFETY (all calls below): NULL or valid C strings; out-pointers valid or NULL as stated.
    unsafe {
        // export_state
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_export_state(ptr::null(), ptr::null(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("client is NULL"));
        assert_eq!(soidc_client_export_state(c.0, ptr::null(), ptr::null_mut()), SOIDC_ERR_INVALID_ARGUMENT);
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_export_state(c.0, bad_utf8, &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("not valid UTF-8"));
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_export_state(c.0, malformed.as_ptr(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("malformed JSON"));
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_export_state(c.0, cstr(r#"{"x": 1}"#).as_ptr(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("unknown field"));

        // from_state
        let mut cl: *mut soidc_client = ptr::null_mut();
        let mut out = ptr::null_mut();
        let args: [(*const c_char, *const c_char, *const c_char, &str); 7] = [
            (ptr::null(), id.as_ptr(), good_opts.as_ptr(), "state_json is NULL"),
            (bad_utf8, id.as_ptr(), good_opts.as_ptr(), "state_json is not valid UTF-8"),
            (text.as_ptr(), ptr::null(), good_opts.as_ptr(), "client_id is NULL"),
            (text.as_ptr(), bad_utf8, good_opts.as_ptr(), "client_id is not valid UTF-8"),
            (text.as_ptr(), id.as_ptr(), bad_utf8, "options_json is not valid UTF-8"),
            (text.as_ptr(), id.as_ptr(), malformed.as_ptr(), "malformed JSON"),
            (text.as_ptr(), id.as_ptr(), unknown.as_ptr(), "unknown field"),
        ];
        for (st, cid, opts, fragment) in args {
            let status = soidc_client_from_state(st, ptr::null(), cid, ptr::null(), ptr::null(), opts, &mut cl, &mut out);
            assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT, "{fragment}");
            assert!(cl.is_null());
            let msg = decode(out)["message"].as_str().unwrap().to_owned();
            assert!(msg.contains(fragment), "{msg} / {fragment}");
        }
        let status = soidc_client_from_state(text.as_ptr(), ptr::null(), id.as_ptr(), ptr::null(), ptr::null(), good_opts.as_ptr(), ptr::null_mut(), &mut out);
        assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("out_client is NULL"));
        // Without out_json: the status alone.
        let status = soidc_client_from_state(ptr::null(), ptr::null(), id.as_ptr(), ptr::null(), ptr::null(), good_opts.as_ptr(), &mut cl, ptr::null_mut());
        assert_eq!(status, SOIDC_ERR_INVALID_ARGUMENT);
        assert!(cl.is_null());

        // import_keys
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_import_keys(ptr::null(), jwks.as_ptr(), ptr::null(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("client is NULL"));
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_import_keys(c.0, ptr::null(), ptr::null(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("jwks_json is NULL"));
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_import_keys(c.0, bad_utf8, ptr::null(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("not valid UTF-8"));
        let mut out = ptr::null_mut();
        assert_eq!(soidc_client_import_keys(c.0, jwks.as_ptr(), malformed.as_ptr(), &mut out), SOIDC_ERR_INVALID_ARGUMENT);
        assert!(decode(out)["message"].as_str().unwrap().contains("malformed JSON"));
        assert_eq!(soidc_client_import_keys(c.0, jwks.as_ptr(), bad_utf8, ptr::null_mut()), SOIDC_ERR_INVALID_ARGUMENT);
    }
    // The client is untouched by all of that: its keys are the stub's full set.
    c.provider_keys(Some(r#"{"cache_only": true}"#)).err(SOIDC_ERR_VALIDATION, "no keys are cached");
    // A wrong `issuer` option on the other constructors is refused too.
    let (out, none) = ffi::from_issuer_url(&stub.issuer(), Params { client_id: "rp", options: Some(&issuer_opt("https://x.example")), ..Default::default() });
    assert!(none.is_none());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "differs from issuer_url");
    let (out, none) = ffi::from_issuer_config(&state["metadata"].to_string(), Params { client_id: "rp", options: Some(&issuer_opt("https://x.example")), ..Default::default() });
    assert!(none.is_none());
    out.err(SOIDC_ERR_INVALID_ARGUMENT, "differs from the metadata's issuer");
}
