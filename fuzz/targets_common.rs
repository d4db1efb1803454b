//! What each soidc fuzz target does with one input. Shared by the cargo-fuzz
//! targets (`fuzz/fuzz_targets/*.rs`, nightly, where this file is the
//! `soidc_fuzz` library) and by `tests/fuzz_corpus.rs` (stable `cargo test`,
//! which includes it with `#[path]` and replays every committed corpus file).
//!
//! Only the soidc crate and crates soidc itself depends on are used here, so
//! that the replay test builds with soidc's own dependencies.
//!
//! Every target feeds untrusted bytes to the parser the way the client does,
//! then checks invariants on the result (a wrong answer is as much a finding
//! as a panic): an accepted ID token really has our issuer and audience, a
//! token with a corrupted MAC is never accepted, error documents are JSON, the
//! client secret never appears in an error, and so on.
#![allow(dead_code)]
#![forbid(unsafe_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use soidc::core::endpoints::check_introspection_response;
use soidc::core::http::{check_url, Response};
use soidc::core::id_token::{self, IdTokenChecks};
use soidc::core::jose::{self, Alg, KeyFamily};
use soidc::core::keys::KeySet;
use soidc::core::metadata::ProviderMetadata;
use soidc::core::token::{check_token_response, error_from_response, json_object};
use soidc::core::{claims, Client, ClientParams, Error, ErrorKind};
use std::sync::{Arc, Once, OnceLock};

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target: name (= `fuzz/fuzz_targets/<name>.rs`, `fuzz/corpus/<name>/`)
/// and the function that runs one input.
pub const TARGETS: &[(&str, Target)] = &[
    ("jose_parse", jose_parse),
    ("id_token_hs256", id_token_hs256),
    ("discovery", discovery),
    ("jwks", jwks),
    ("token_response", token_response),
    ("introspection_response", introspection_response),
    ("authorization_response", authorization_response),
];

/// The issuer, client and secret of the HS256 ID token target.
pub const ISSUER: &str = "https://op.example.test";
pub const CLIENT_ID: &str = "fuzz-client";
pub const CLIENT_SECRET: &str = "fuzz-client-secret-0123456789abcdef";
/// The leeway the client uses (soidc's default, `leeway_s` 30).
const LEEWAY_S: i64 = 30;

/// The names of all twelve algorithms soidc knows.
const ALG_NAMES: [&str; 12] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256",
    "HS384", "HS512",
];

fn all_algs() -> Vec<Alg> {
    ALG_NAMES
        .iter()
        .map(|n| Alg::parse(n).expect("known alg"))
        .collect()
}

/// Installs a log sink at the most verbose level once per process, so that
/// every diagnostic message is really formatted (the messages are built from
/// untrusted input too). The messages are dropped.
fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        soidc::core::log::set_sink(
            Some(Arc::new(|_level, message: &str| {
                std::hint::black_box(message);
            })),
            5,
        );
    });
}

/// Every error must render to a JSON error document with its status and a message.
fn check_error(e: &Error) {
    assert!(
        !e.message.is_empty(),
        "error of kind {:?} with an empty message",
        e.kind
    );
    let doc: Value = serde_json::from_str(&e.to_json()).expect("the error document is not JSON");
    assert_eq!(doc["status"], e.kind.name(), "error document status");
    assert_eq!(doc["message"], e.message.as_str(), "error document message");
    let _ = e.to_string();
}

/// The input as text, or `None` (every parser here takes `&str`).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

// ---------------------------------------------------------------------------
// jose_parse: a compact JWS from anywhere (ID token, userinfo JWT, logout token)
// ---------------------------------------------------------------------------

/// `jose::parse` on the input as a token, then the claim accessors and the ID
/// token claim checks (without a signature) on whatever it accepted.
pub fn jose_parse(data: &[u8]) {
    init();
    let Some(token) = text(data) else { return };
    let jws = match jose::parse(token) {
        Ok(jws) => jws,
        Err(e) => {
            assert_eq!(
                e.kind,
                ErrorKind::Validation,
                "jose::parse error kind: {}",
                e.message
            );
            check_error(&e);
            return;
        }
    };
    // The signing input is the first two parts of the token, verbatim.
    let input = jws.signing_input;
    assert!(
        token.as_bytes().starts_with(input),
        "signing_input is not a prefix of the token"
    );
    assert_eq!(
        token.as_bytes().get(input.len()),
        Some(&b'.'),
        "signing_input does not end before a dot"
    );
    assert_eq!(
        input.iter().filter(|b| **b == b'.').count(),
        1,
        "signing_input has not exactly one dot"
    );
    assert!(!jws.signature.is_empty(), "accepted an empty signature");
    assert_eq!(
        Alg::parse(jws.alg.name()),
        Some(jws.alg),
        "alg name round trip"
    );
    let _ = jose::half_hash(jws.alg, token);

    // The payload, read both ways: the one-pass reader of the decodes and the full map
    // must agree on every verdict and message.
    let (view, map) = match (jws.claims(), jws.claims_map()) {
        (Ok(view), Ok(map)) => (view, map),
        (Err(a), Err(b)) => {
            assert_eq!(a.message, b.message, "the claim reader and the map fail differently");
            check_error(&a);
            return;
        }
        (a, b) => panic!(
            "the one-pass claim reader and the map disagree: {:?} / {:?}",
            a.err().map(|e| e.message),
            b.err().map(|e| e.message)
        ),
    };
    claim_checks(&view, &map);
    let c = &map;
    let now = claims::now();
    let ctx = id_token::Context {
        issuer: ISSUER,
        client_id: CLIENT_ID,
        leeway: LEEWAY_S,
        now,
    };
    let checks = IdTokenChecks {
        nonce: Some("n-0S6_WzA2Mj".into()),
        access_token: Some("fuzz-access-token".into()),
        code: Some("fuzz-code".into()),
        expect_self_azp: true,
        ..Default::default()
    };
    let on_view = id_token::validate(&ctx, jws.alg, jws.typ.as_deref(), &view, &checks, None);
    match id_token::validate(&ctx, jws.alg, jws.typ.as_deref(), c, &checks, None) {
        Ok(()) => {
            assert!(on_view.is_ok(), "validate accepted the map but not the one-pass claims");
            assert_eq!(
                c.get("iss"),
                Some(&json!(ISSUER)),
                "validate accepted a foreign iss"
            );
            assert_eq!(
                c.get("nonce"),
                Some(&json!("n-0S6_WzA2Mj")),
                "validate accepted a wrong nonce"
            );
        }
        Err(e) => {
            assert_eq!(on_view.map_err(|e| e.message).err(), Some(e.message.clone()), "validate differs on the one-pass claims");
            check_error(&e)
        }
    }
}

/// The claim accessors on both readings of one payload: the same answers.
fn claim_checks(view: &claims::TokenClaims<'_>, c: &claims::Claims) {
    fn same<T: PartialEq + std::fmt::Debug>(a: soidc::core::Result<T>, b: soidc::core::Result<T>, what: &str) {
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{what} differs on the one-pass claims"),
            (Err(a), Err(b)) => {
                assert_eq!(a.message, b.message, "{what} fails differently on the one-pass claims");
                check_error(&b);
            }
            (a, b) => panic!("{what}: the one-pass claims give {:?}, the map {:?}", a.map_err(|e| e.message), b.map_err(|e| e.message)),
        }
    }
    for name in [
        "iss", "sub", "azp", "nonce", "acr", "at_hash", "c_hash", "sid",
    ] {
        same(claims::opt_str(view, name), claims::opt_str(c, name), name);
    }
    for name in ["exp", "iat", "nbf", "auth_time"] {
        same(claims::opt_time(view, name), claims::opt_time(c, name), name);
    }
    same(claims::audiences(view), claims::audiences(c), "aud");
    if let Ok(aud) = claims::audiences(c) {
        assert!(!aud.is_empty(), "audiences() returned an empty list");
    }
    let now = claims::now();
    for (exp_required, iat_required) in [(false, false), (true, true)] {
        same(
            claims::check_times(view, now, LEEWAY_S, exp_required, iat_required),
            claims::check_times(c, now, LEEWAY_S, exp_required, iat_required),
            "check_times",
        );
    }
    same(claims::check_min_iat(view, 1.5e9), claims::check_min_iat(c, 1.5e9), "min_iat");
}

// ---------------------------------------------------------------------------
// id_token_hs256: the full decode_id_token path on fuzzed claims
// ---------------------------------------------------------------------------

/// The provider metadata of the HS256 client: nothing is ever fetched because
/// only HS* algorithms are allowed (an RS256 header is refused before the JWKS
/// is looked at), and the JWKS URI is a closed loopback port anyway.
pub const HS_METADATA: &str = r#"{
  "issuer": "https://op.example.test",
  "authorization_endpoint": "https://op.example.test/auth",
  "token_endpoint": "https://op.example.test/token",
  "userinfo_endpoint": "https://op.example.test/me",
  "jwks_uri": "http://127.0.0.1:9/jwks",
  "response_types_supported": ["code"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256", "HS256"]
}"#;

fn hs_client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::from_issuer_config(
            HS_METADATA,
            ClientParams {
                client_id: CLIENT_ID,
                client_secret: Some(CLIENT_SECRET),
                options: Some(
                    r#"{"allowed_algs":["HS256","HS384","HS512"],"connect_timeout_ms":50,"timeout_ms":50}"#,
                ),
                ..Default::default()
            },
        )
        .expect("the HS256 fuzz client")
    })
}

/// The audience an options variant trusts besides the client itself.
const EXTRA_AUD: &str = "https://api.example.test";
const NONCE: &str = "n-0S6_WzA2Mj";
const GOOD_ACR: &str = "urn:mace:incommon:iap:silver";

/// The decode options of one variant (selector byte 1, low three bits).
fn id_token_options(variant: u8) -> Option<&'static str> {
    Some(match variant & 7 {
        0 => return None,
        1 => r#"{"nonce":"n-0S6_WzA2Mj"}"#,
        // Variants without an expected nonce skip the nonce check (a token that carries
        // one is refused otherwise: variant 0 reaches that path).
        2 => r#"{"max_age":4000000000,"min_auth_time":1500000000,"ignore_nonce":true}"#,
        3 => r#"{"access_token":"fuzz-access-token","code":"fuzz-code","ignore_nonce":true}"#,
        4 => r#"{"extra_trusted_audiences":["https://api.example.test"],"expect_self_azp":false,"ignore_nonce":true}"#,
        5 => r#"{"min_iat":1500000000.5,"cache_only":true,"ignore_nonce":true}"#,
        6 => r#"{"timeout_ms":1000,"ignore_nonce":true}"#, // with the acr callback
        _ => {
            r#"{"nonce":"n-0S6_WzA2Mj","max_age":4000000000,"access_token":"fuzz-access-token","code":"fuzz-code","extra_trusted_audiences":["https://api.example.test"],"min_iat":1500000000}"#
        }
    })
}

fn hmac_alg(alg: &str) -> (aws_lc_rs::hmac::Algorithm, &'static str) {
    match alg {
        "HS384" => (aws_lc_rs::hmac::HMAC_SHA384, "HS384"),
        "HS512" => (aws_lc_rs::hmac::HMAC_SHA512, "HS512"),
        _ => (aws_lc_rs::hmac::HMAC_SHA256, "HS256"),
    }
}

/// Input: `[header selector, options selector, claims JSON...]`.
///
/// Header selector bits: 0-1 `typ` (absent, `JWT`, `at+jwt`, `application/JWT`),
/// 2 `kid`, 3-4 alg (HS256, HS256, HS384, HS512), 5 "raw header": the rest is
/// `header JSON, NUL, claims JSON` and the header is used verbatim, 6 corrupt
/// the MAC (the token must then be refused). Options selector: see
/// [`id_token_options`]; variants 6 and 7 also pass an `acr` callback.
///
/// The token is signed with the client secret and decoded with
/// `Client::decode_id_token`; an accepted token is checked against the rules
/// independently of soidc's code.
pub fn id_token_hs256(data: &[u8]) {
    let _ = id_token_hs256_accepts(data);
}

/// [`id_token_hs256`], telling whether the token was accepted (`None`: the
/// input is too short to make a token of).
pub fn id_token_hs256_accepts(data: &[u8]) -> Option<bool> {
    init();
    let [hsel, osel, rest @ ..] = data else {
        return None;
    };
    let (hsel, osel) = (*hsel, *osel);
    let corrupt = hsel & 0x40 != 0;
    let (header, payload): (Vec<u8>, &[u8]) = if hsel & 0x20 != 0 {
        let nul = rest.iter().position(|b| *b == 0)?;
        (rest[..nul].to_vec(), &rest[nul + 1..])
    } else {
        let alg = ["HS256", "HS256", "HS384", "HS512"][usize::from((hsel >> 3) & 3)];
        let mut h = Map::new();
        h.insert("alg".into(), json!(alg));
        match hsel & 3 {
            0 => {}
            1 => drop(h.insert("typ".into(), json!("JWT"))),
            2 => drop(h.insert("typ".into(), json!("at+jwt"))),
            _ => drop(h.insert("typ".into(), json!("application/JWT"))),
        }
        if hsel & 4 != 0 {
            h.insert("kid".into(), json!("hs-key-1"));
        }
        (serde_json::to_vec(&h).expect("header"), rest)
    };
    // The MAC algorithm: the header's own alg when it names an HS* one.
    let header_alg = serde_json::from_slice::<Value>(&header)
        .ok()
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let (mac_alg, mac_name) = hmac_alg(&header_alg);
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = aws_lc_rs::hmac::Key::new(mac_alg, CLIENT_SECRET.as_bytes());
    let mut mac = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes())
        .as_ref()
        .to_vec();
    if corrupt {
        let last = mac.len() - 1;
        mac[last] ^= 1;
    }
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&mac));

    let options = id_token_options(osel);
    let with_acr = osel & 7 >= 6;
    let mut acr_seen: Option<Option<String>> = None;
    let mut acr_cb = |acr: Option<&str>| -> Result<(), String> {
        acr_seen = Some(acr.map(str::to_owned));
        match acr {
            Some(GOOD_ACR) => Ok(()),
            Some(_) => Err("not the required level".into()),
            None => Err(String::new()),
        }
    };
    let now_before = claims::now();
    let result = hs_client().decode_id_token(
        &token,
        options,
        if with_acr { Some(&mut acr_cb) } else { None },
    );
    let claims = match result {
        Ok(c) => c,
        Err(e) => {
            check_error(&e);
            if !data
                .windows(CLIENT_SECRET.len())
                .any(|w| w == CLIENT_SECRET.as_bytes())
            {
                assert!(
                    !e.to_json().contains(CLIENT_SECRET),
                    "the client secret appears in an error: {}",
                    e.message
                );
            }
            return Some(false);
        }
    };

    // Accepted: every rule must really hold.
    assert!(!corrupt, "a token with a corrupted MAC was accepted");
    assert_eq!(
        header_alg, mac_name,
        "a token was accepted although its alg is {header_alg:?}"
    );
    assert_eq!(
        serde_json::from_slice::<Map<String, Value>>(payload)
            .ok()
            .as_ref(),
        Some(&claims),
        "returned claims differ from the payload"
    );
    assert_eq!(
        claims.get("iss"),
        Some(&json!(ISSUER)),
        "accepted a foreign iss"
    );
    let trusted = |a: &str| a == CLIENT_ID || (matches!(osel & 7, 4 | 7) && a == EXTRA_AUD);
    match claims.get("aud") {
        Some(Value::String(a)) => assert_eq!(a, CLIENT_ID, "accepted a foreign aud"),
        Some(Value::Array(items)) => {
            assert!(
                items.iter().any(|a| a == CLIENT_ID),
                "accepted an aud without the client"
            );
            assert!(
                items.iter().all(|a| a.as_str().is_some_and(trusted)),
                "accepted an untrusted aud"
            );
            if items.len() > 1 {
                assert!(
                    claims.get("azp").is_some_and(Value::is_string),
                    "several audiences but no azp"
                );
            }
        }
        other => panic!("accepted aud {other:?}"),
    }
    if let Some(azp) = claims.get("azp") {
        if !matches!(osel & 7, 4) {
            assert_eq!(azp, CLIENT_ID, "accepted a foreign azp");
        }
    }
    assert!(
        claims
            .get("sub")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        "accepted a missing or empty sub"
    );
    assert!(
        claims.get("sub").and_then(Value::as_str).is_some_and(|s| s.len() <= 255),
        "accepted a sub longer than 255 bytes (OIDC Core §2)"
    );
    if matches!(osel & 7, 0) {
        assert!(claims.get("nonce").is_none(), "accepted a nonce nobody expected");
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(f64::trunc);
    let exp = time("exp").expect("accepted a token without a numeric exp");
    assert!(
        exp + LEEWAY_S as f64 > now_before as f64,
        "accepted an expired token (exp {exp})"
    );
    let iat = time("iat").expect("accepted a token without a numeric iat");
    assert!(
        iat <= (claims::now() + LEEWAY_S) as f64,
        "accepted an iat in the future ({iat})"
    );
    if let Some(nbf) = time("nbf") {
        assert!(
            nbf <= (claims::now() + LEEWAY_S) as f64,
            "accepted a token before its nbf ({nbf})"
        );
    }
    if matches!(osel & 7, 1 | 7) {
        assert_eq!(
            claims.get("nonce"),
            Some(&json!(NONCE)),
            "accepted a wrong or missing nonce"
        );
    }
    if matches!(osel & 7, 2 | 7) {
        assert!(
            time("auth_time").is_some(),
            "max_age without auth_time accepted"
        );
    }
    if with_acr {
        assert_eq!(
            acr_seen,
            Some(Some(GOOD_ACR.to_owned())),
            "the acr callback was bypassed or overruled"
        );
    }
    if matches!(osel & 7, 3 | 7) {
        if let Some(h) = claims.get("at_hash") {
            let want = jose::half_hash(Alg::parse(mac_name).expect("HS alg"), "fuzz-access-token");
            assert_eq!(h, &json!(want), "accepted a wrong at_hash");
        }
    }
    Some(true)
}

// ---------------------------------------------------------------------------
// discovery: the provider metadata document
// ---------------------------------------------------------------------------

/// The input as a discovery document: `ProviderMetadata::parse`, then, for a
/// document that parses, the whole `Client::from_issuer_config` (URL policy
/// of every endpoint, default algorithms, default client authentication).
pub fn discovery(data: &[u8]) {
    init();
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let md = match ProviderMetadata::parse(&doc) {
        Ok(md) => md,
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Protocol);
            check_error(&e);
            return;
        }
    };
    let endpoints = md.endpoints();
    assert!(
        endpoints.len() >= 2,
        "endpoints() lacks authorization_endpoint or jwks_uri"
    );
    let text = text(data).expect("JSON that parsed is UTF-8");
    for secret in [Some(CLIENT_SECRET), None] {
        let params = ClientParams {
            client_id: CLIENT_ID,
            client_secret: secret,
            ..Default::default()
        };
        match Client::from_issuer_config(text, params) {
            Ok(client) => {
                assert_eq!(client.issuer(), md.issuer);
                assert!(
                    check_url(&md.issuer, "issuer", false).is_ok(),
                    "accepted issuer {:?}",
                    md.issuer
                );
                for (name, url) in &endpoints {
                    assert!(
                        check_url(url, name, false).is_ok(),
                        "accepted {name} {url:?}"
                    );
                }
                let algs = client.allowed_algs();
                assert!(!algs.is_empty(), "no allowed algorithms");
                assert!(
                    algs.iter().all(|a| !a.is_symmetric()),
                    "HS* allowed by default"
                );
                assert_eq!(client.provider_config(), &doc);
                let _ = client.auth_method().name();
            }
            Err(e) => check_error(&e),
        }
    }
}

// ---------------------------------------------------------------------------
// jwks: the provider's key set
// ---------------------------------------------------------------------------

/// The input as a JWKS: `KeySet::parse` with every algorithm allowed and with
/// a subset, then a (garbage) signature check with every parsed key, so that
/// the aws-lc-rs keys built from the JWK members are really used.
pub fn jwks(data: &[u8]) {
    init();
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let all = all_algs();
    let subset: Vec<Alg> = ["HS256", "ES384", "PS512", "EdDSA"]
        .iter()
        .map(|n| Alg::parse(n).expect("alg"))
        .collect();
    for algs in [&all, &subset] {
        let set = match KeySet::parse(doc.clone(), algs) {
            Ok(set) => set,
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Protocol);
                check_error(&e);
                return;
            }
        };
        assert!(set.keys.len() <= 100, "more than 100 keys kept");
        assert_eq!(set.document, doc);
        for key in &set.keys {
            assert_ne!(
                key.family,
                KeyFamily::Hmac,
                "a symmetric key was accepted from a JWKS"
            );
            if let Some(a) = key.alg {
                assert_eq!(
                    a.family(),
                    key.family,
                    "JWK alg {} on a {:?} key",
                    a.name(),
                    key.family
                );
                assert!(
                    algs.contains(&a),
                    "key for alg {} which is not allowed",
                    a.name()
                );
            }
            assert!(
                algs.iter().any(|a| a.family() == key.family),
                "key of a family no allowed alg uses"
            );
            for alg in &all {
                let sig = [0x5au8; 64];
                let _ = key.verify(*alg, b"eyJhbGciOiJSUzI1NiJ9.e30", &sig);
                if alg.family() != key.family {
                    assert!(
                        !key.verify(*alg, b"x.y", &sig),
                        "a {:?} key verified alg {}",
                        key.family,
                        alg.name()
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// token_response and introspection_response: endpoint answers
// ---------------------------------------------------------------------------

fn response(status: u16, body: &[u8]) -> Response {
    Response {
        status,
        content_type: Some("application/json; charset=utf-8".into()),
        cache_control: Some("no-store".into()),
        www_authenticate: None,
        dpop_nonce: None,
        body: body.to_vec(),
        host: "op.example.test".into(),
    }
}

/// An error answer (`HTTP 400`) with this body must become a Provider error
/// carrying the OAuth fields, or an Http error.
fn error_answer(body: &[u8], what: &str) {
    let e = error_from_response(&response(400, body), what);
    check_error(&e);
    match e.kind {
        ErrorKind::Provider => {
            assert!(
                e.details.get("error").is_some_and(Value::is_string),
                "Provider error without an error code"
            );
            assert_eq!(e.details.get("http_status"), Some(&json!(400)));
        }
        ErrorKind::Http => {}
        other => panic!("error_from_response gave kind {other:?}"),
    }
}

/// The input as the body of a token endpoint answer: as a success (`json_object`,
/// `check_token_response`, and `jose::parse` of any ID token) and as an error.
pub fn token_response(data: &[u8]) {
    init();
    match json_object(&response(200, data), "token endpoint") {
        Ok(body) => match check_token_response(&body) {
            Ok(id_token) => {
                assert!(body
                    .get("access_token")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty()));
                assert!(body
                    .get("token_type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("bearer")));
                match id_token {
                    Some(t) => {
                        assert_eq!(body.get("id_token"), Some(&json!(t)));
                        if let Err(e) = jose::parse(&t) {
                            check_error(&e);
                        }
                    }
                    None => assert!(!body.contains_key("id_token")),
                }
            }
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Protocol);
                check_error(&e);
            }
        },
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Http);
            check_error(&e);
        }
    }
    error_answer(data, "token endpoint");
}

/// The input as the body of an introspection endpoint answer.
pub fn introspection_response(data: &[u8]) {
    init();
    match json_object(&response(200, data), "introspection endpoint") {
        Ok(body) => {
            let ok = check_introspection_response(&body)
                .map_err(|e| check_error(&e))
                .is_ok();
            assert_eq!(
                ok,
                body.get("active").is_some_and(Value::is_boolean),
                "active rule"
            );
        }
        Err(e) => check_error(&e),
    }
    error_answer(data, "introspection endpoint");
}

// ---------------------------------------------------------------------------
// authorization_response: the redirect URL the browser came back with
// ---------------------------------------------------------------------------

/// The input as the redirect URL (`parse_authorization_response`); input that
/// is not an absolute URL is also tried as the query and as the fragment of
/// the redirect URI, so that the parameter parsing is reached from any bytes.
pub fn authorization_response(data: &[u8]) {
    init();
    let Some(s) = text(data) else { return };
    let mut urls = vec![s.to_owned()];
    if !s.starts_with("http") {
        urls.push(format!("https://rp.example.test/cb?{s}"));
        urls.push(format!("https://rp.example.test/cb#{s}"));
    }
    for url in urls {
        match soidc::core::authcode::parse_authorization_response(&url) {
            Ok(params) => {
                assert!(
                    params.values().all(Value::is_string),
                    "a parameter is not a string"
                );
            }
            Err(e) => {
                assert!(
                    matches!(e.kind, ErrorKind::InvalidArgument | ErrorKind::Validation),
                    "kind {:?}",
                    e.kind
                );
                check_error(&e);
            }
        }
    }
}
