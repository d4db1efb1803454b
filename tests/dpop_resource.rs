//! DPoP at a resource server (RFC 9449 §4.3, §7.1): `soidc_decode_access_token` with
//! `dpop_proof`, `http_method`, `http_uri`, `dpop`, `dpop_max_age_s`, `dpop_nonce`, and the
//! client's replay cache (`dpop_replay_cache_entries`, `dpop_replay_window_s`).
//!
//! The DPoP-bound tokens come from the real provider (tests/provider, `dPoP` feature on):
//! the test sends its own proof to the token endpoint, signed with a key of tests/keys, so
//! these tests depend on nothing of soidc's client-side DPoP. Every proof presented to the
//! resource server is built here too, right or wrong on purpose.

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::ffi::{self, FfiClient, Params};
use common::jwt::{b64, sign_raw, Key};
use common::now;
use flows::{client_credentials, conf_client, decode_access_token, s, API};
use serde_json::{json, Value};
use soidc::ffi::status::{SOIDC_ERR_INVALID_ARGUMENT, SOIDC_ERR_VALIDATION};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CLIENT: &str = "conf-basic";
/// The protected resource the proofs are for.
const RS_URI: &str = "https://rs.soidc.test/api/items";
const ES: (&str, &str) = ("client-es256", "ES256");
const ED: (&str, &str) = ("client-ed25519", "EdDSA");
const RSA: (&str, &str) = ("client-rs256", "PS256");
/// Another key: a proof with it does not match a token bound to `ES`.
const OTHER: (&str, &str) = ("stub-es256", "ES256");

// ---------------------------------------------------------------------------------------
// Proofs and bound tokens
// ---------------------------------------------------------------------------------------

/// The public JWK of a tests/keys key: its required members only.
fn public_jwk(name: &str) -> Value {
    let path = common::tests_path(&format!("keys/{name}.pub.jwk.json"));
    let full: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut jwk = json!({});
    for m in ["kty", "crv", "x", "y", "n", "e"] {
        if let Some(v) = full.get(m) {
            jwk[m] = v.clone();
        }
    }
    jwk
}

/// RFC 7638, written out for the test: required members in lexicographic order.
fn thumbprint(jwk: &Value) -> String {
    let names: &[&str] = match jwk["kty"].as_str().unwrap() {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => &["e", "kty", "n"],
    };
    let members: Vec<String> = names.iter().map(|n| format!("\"{n}\":{}", jwk[*n])).collect();
    let canon = format!("{{{}}}", members.join(","));
    b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canon.as_bytes()).as_ref())
}

fn ath(token: &str) -> String {
    b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

fn fresh_jti() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("jti-{}-{}-{}", std::process::id(), now(), N.fetch_add(1, Ordering::Relaxed))
}

/// A proof by `key` for `htm` `htu` (with `ath` of `token` if given), header and claims
/// then changed by `tweak`; signed with the key whatever the header says.
fn proof_with(key: (&str, &str), htm: &str, htu: &str, token: Option<&str>, tweak: impl FnOnce(&mut Value, &mut Value)) -> String {
    let mut header = json!({"typ": "dpop+jwt", "alg": key.1, "jwk": public_jwk(key.0)});
    let mut claims = json!({"jti": fresh_jti(), "htm": htm, "htu": htu, "iat": now()});
    if let Some(t) = token {
        claims["ath"] = json!(ath(t));
    }
    tweak(&mut header, &mut claims);
    sign_raw(&header.to_string(), &claims.to_string(), key.1, &Key::Pem(key.0))
}

/// A right proof for a GET of RS_URI with `token`.
fn proof(key: (&str, &str), token: &str) -> String {
    proof_with(key, "GET", RS_URI, Some(token), |_, _| {})
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

fn token_endpoint() -> String {
    static EP: OnceLock<String> = OnceLock::new();
    EP.get_or_init(|| s(&flows::control_get("/.well-known/openid-configuration"), "token_endpoint").to_owned())
        .clone()
}

/// A client-credentials access token for the API, bound by the provider to `key`
/// (RFC 9449 §5: the token request carries a proof of that key).
fn bound_token(key: (&str, &str)) -> String {
    let ep = token_endpoint();
    let p = proof_with(key, "POST", &ep, None, |_, _| {});
    let secret = common::provider::client_secret(CLIENT);
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{CLIENT}:{secret}"));
    let body = format!(
        "grant_type=client_credentials&scope=api%3Aread&resource={}",
        url::form_urlencoded::byte_serialize(API.as_bytes()).collect::<String>()
    );
    let mut resp = agent()
        .post(&ep)
        .header("Authorization", &format!("Basic {basic}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("DPoP", &p)
        .send(body)
        .expect("token request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    assert_eq!(status, 200, "token endpoint: {text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["token_type"], "DPoP", "{doc}");
    let at = s(&doc, "access_token").to_owned();
    assert_eq!(common::jwt::payload(&at)["cnf"]["jkt"], thumbprint(&public_jwk(key.0)), "bound to the proof key");
    at
}

/// An unbound (Bearer) token for the API.
fn bearer_token(c: &FfiClient) -> String {
    let doc = client_credentials(c, Some("api:read"), Some(&json!({"resource": API}).to_string())).ok();
    assert_eq!(doc["token_type"], "Bearer");
    s(&doc, "access_token").to_owned()
}

fn opts(proof: Option<&str>, extra: Value) -> String {
    let mut o = json!({"audience": API, "http_method": "GET", "http_uri": RS_URI});
    if let Some(p) = proof {
        o["dpop_proof"] = json!(p);
    }
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string()
}

/// Asserts a validation failure with `reason` and returns its error document.
#[track_caller]
fn refused(c: &FfiClient, token: &str, options: &str, reason: &str) -> Value {
    let doc = decode_access_token(c, token, Some(options)).err(SOIDC_ERR_VALIDATION, "DPoP proof");
    assert_eq!(doc["reason"], reason, "{doc}");
    let error = doc["error"].as_str().unwrap();
    assert!(["invalid_dpop_proof", "invalid_token", "use_dpop_nonce"].contains(&error), "{doc}");
    assert!(doc["algs"].as_str().unwrap().contains("ES256") && !doc["algs"].as_str().unwrap().contains("HS"), "{doc}");
    doc
}

// ---------------------------------------------------------------------------------------
// Accepted
// ---------------------------------------------------------------------------------------

#[test]
fn bound_tokens_of_the_provider_accepted_with_a_right_proof() {
    let c = conf_client(CLIENT, None);
    for key in [ES, ED, RSA, ("client-rs256", "RS256")] {
        let at = bound_token(key);
        let claims = decode_access_token(&c, &at, Some(&opts(Some(&proof(key, &at)), json!({})))).ok();
        // The claims are handed back untouched: cnf.jkt is the binding just checked.
        assert_eq!(claims, common::jwt::payload(&at), "{}", key.1);
        assert_eq!(claims["cnf"]["jkt"], thumbprint(&public_jwk(key.0)));
    }
}

#[test]
fn htu_and_htm_compared_after_normalisation() {
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    // RFC 9449 §4.3 point 9: scheme/host case, default port, dot segments, percent-encoding
    // case and unreserved characters; query and fragment ignored on both sides.
    let p = proof_with(ES, "GET", "HTTPS://RS.soidc.TEST:443/api/./x/../%69tems?page=2#top", Some(&at), |_, _| {});
    let o = json!({"audience": API, "http_method": "GET", "http_uri": "https://rs.soidc.test/api/items?page=3", "dpop_proof": p});
    decode_access_token(&c, &at, Some(&o.to_string())).ok();
    // The header value may carry optional white space around the proof.
    decode_access_token(&c, &at, Some(&opts(Some(&format!(" {}\t", proof(ES, &at))), json!({})))).ok();
    // A path that differs after normalisation, another port, another scheme: refused.
    for htu in ["https://rs.soidc.test/api/items/", "https://rs.soidc.test:8443/api/items", "http://rs.soidc.test/api/items", "https://rs.soidc.test/api/%2Fitems"] {
        let p = proof_with(ES, "GET", htu, Some(&at), |_, _| {});
        refused(&c, &at, &opts(Some(&p), json!({})), "dpop_htu");
    }
    // Methods are case-sensitive (RFC 9110 §9.1).
    let p = proof_with(ES, "get", RS_URI, Some(&at), |_, _| {});
    refused(&c, &at, &opts(Some(&p), json!({})), "dpop_htm");
}

// ---------------------------------------------------------------------------------------
// Refused, one reason each
// ---------------------------------------------------------------------------------------

#[test]
fn each_wrong_proof_refused_with_its_reason() {
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    let other_at = bound_token(ES);
    let o = |p: &str| opts(Some(p), json!({}));
    let t = now();

    refused(&c, &at, &o(&proof_with(ES, "POST", RS_URI, Some(&at), |_, _| {})), "dpop_htm");
    refused(&c, &at, &o(&proof_with(ES, "GET", "https://rs.soidc.test/api/other", Some(&at), |_, _| {})), "dpop_htu");
    refused(&c, &at, &o(&proof_with(ES, "GET", "not a uri", Some(&at), |_, _| {})), "dpop_htu");
    refused(&c, &at, &o(&proof(ES, &other_at)), "dpop_ath");
    refused(&c, &at, &o(&proof_with(ES, "GET", RS_URI, None, |_, _| {})), "dpop_ath");
    // A valid proof of another key: the token is bound to ES.
    let e = refused(&c, &at, &o(&proof(OTHER, &at)), "dpop_jkt");
    assert!(e["message"].as_str().unwrap().contains("cnf.jkt"), "{e}");
    // iat: 300 s + 30 s leeway into the past, 30 s leeway into the future.
    refused(&c, &at, &o(&proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| cl["iat"] = json!(t - 400))), "dpop_iat");
    refused(&c, &at, &o(&proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| cl["iat"] = json!(t + 120))), "dpop_iat");
    decode_access_token(&c, &at, Some(&o(&proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| cl["iat"] = json!(t - 200))))).ok();
    decode_access_token(&c, &at, Some(&o(&proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| cl["iat"] = json!(t + 10))))).ok();
    // Replay: the same proof twice.
    let p = proof(ES, &at);
    decode_access_token(&c, &at, Some(&o(&p))).ok();
    refused(&c, &at, &o(&p), "dpop_replay");
    // Missing proof for a bound token (e.g. presented with the Bearer scheme).
    let e = refused(&c, &at, &opts(None, json!({})), "dpop_missing");
    assert_eq!(e["error"], "invalid_token");
    // A proof with a token that is not bound.
    let bearer = bearer_token(&c);
    let e = refused(&c, &bearer, &o(&proof(ES, &bearer)), "dpop_unexpected");
    assert_eq!(e["error"], "invalid_token");
    decode_access_token(&c, &bearer, Some(&opts(None, json!({})))).ok();

    // Malformed proofs: all dpop_invalid, error invalid_dpop_proof.
    let (hdr, cl) = (
        json!({"typ": "dpop+jwt", "alg": "none", "jwk": public_jwk(ES.0)}),
        json!({"jti": fresh_jti(), "htm": "GET", "htu": RS_URI, "iat": t, "ath": ath(&at)}),
    );
    let unsigned = format!("{}.{}.", b64(hdr.to_string().as_bytes()), b64(cl.to_string().as_bytes()));
    let mut invalid: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        ("HS256", {
            let h = json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": b64(b"0123456789abcdef0123456789abcdef")}});
            sign_raw(&h.to_string(), &cl.to_string(), "HS256", &Key::Secret(b"0123456789abcdef0123456789abcdef"))
        }),
        ("HS256 with an EC jwk", {
            let h = json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": public_jwk(ES.0)});
            sign_raw(&h.to_string(), &cl.to_string(), "HS256", &Key::Secret(b"0123456789abcdef0123456789abcdef"))
        }),
        ("typ JWT", proof_with(ES, "GET", RS_URI, Some(&at), |h, _| h["typ"] = json!("JWT"))),
        ("no typ", proof_with(ES, "GET", RS_URI, Some(&at), |h, _| { h.as_object_mut().unwrap().remove("typ"); })),
        ("no jwk", proof_with(ES, "GET", RS_URI, Some(&at), |h, _| { h.as_object_mut().unwrap().remove("jwk"); })),
        ("jwk of another kind than alg", proof_with(ES, "GET", RS_URI, Some(&at), |h, _| h["jwk"] = public_jwk(ED.0))),
        ("private d in jwk", proof_with(ES, "GET", RS_URI, Some(&at), |h, _| h["jwk"]["d"] = json!("c2VjcmV0"))),
        ("private p in an RSA jwk", proof_with(RSA, "GET", RS_URI, Some(&at), |h, _| h["jwk"]["p"] = json!("c2VjcmV0"))),
        ("crit", proof_with(ES, "GET", RS_URI, Some(&at), |h, _| h["crit"] = json!(["x"]))),
        ("no jti", proof_with(ES, "GET", RS_URI, Some(&at), |_, c| { c.as_object_mut().unwrap().remove("jti"); })),
        ("iat a string", proof_with(ES, "GET", RS_URI, Some(&at), |_, c| c["iat"] = json!("now"))),
        ("two proofs", format!("{}, {}", proof(ES, &at), proof(ES, &at))),
        ("two proofs, no space", format!("{},{}", proof(ES, &at), proof(ES, &at))),
        ("empty", String::new()),
        ("not a JWS", "abc.def".to_owned()),
        ("JSON", "{\"alg\":\"ES256\"}".to_owned()),
    ];
    // A proof whose signature was altered, and one whose payload was swapped.
    let good = proof(ES, &at);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[2] = b64(&[7u8; 64]);
    invalid.push(("bad signature", parts.join(".")));
    let swapped = {
        let p2 = proof_with(ES, "GET", RS_URI, Some(&at), |_, c| c["jti"] = json!("swapped"));
        let mut a: Vec<&str> = good.split('.').collect();
        a[1] = p2.split('.').nth(1).unwrap();
        a.join(".")
    };
    invalid.push(("payload of another proof", swapped));
    for (what, p) in &invalid {
        let doc = decode_access_token(&c, &at, Some(&o(p))).err(SOIDC_ERR_VALIDATION, "DPoP proof");
        assert_eq!(doc["reason"], "dpop_invalid", "{what}: {doc}");
        assert_eq!(doc["error"], "invalid_dpop_proof", "{what}: {doc}");
    }
    // A refused proof does not use up its jti: the same jti in a right proof is accepted.
    let jti = fresh_jti();
    refused(&c, &at, &o(&proof_with(ES, "PUT", RS_URI, Some(&at), |_, cl| cl["jti"] = json!(jti))), "dpop_htm");
    decode_access_token(&c, &at, Some(&o(&proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| cl["jti"] = json!(jti))))).ok();
    // The same jti under another key is another proof (the cache is scoped by key).
    let at_ed = bound_token(ED);
    decode_access_token(&c, &at_ed, Some(&o(&proof_with(ED, "GET", RS_URI, Some(&at_ed), |_, cl| cl["jti"] = json!(jti))))).ok();
}

#[test]
fn garbage_proof_of_one_megabyte() {
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    let garbage: String = (0..1024 * 1024).map(|i| (b'A' + (i % 26) as u8) as char).collect();
    let dotted = format!("{}.{}.{}", &garbage[..400_000], &garbage[..400_000], &garbage[..200_000]);
    for g in [garbage, dotted] {
        let start = Instant::now();
        let doc = decode_access_token(&c, &at, Some(&opts(Some(&g), json!({})))).err(SOIDC_ERR_VALIDATION, "byte limit");
        assert_eq!(doc["reason"], "dpop_invalid");
        assert!(doc.to_string().len() < 2048, "the error document does not echo the garbage");
        assert!(start.elapsed() < Duration::from_secs(2), "bounded work: {:?}", start.elapsed());
    }
}

// ---------------------------------------------------------------------------------------
// Modes, nonce, windows
// ---------------------------------------------------------------------------------------

#[test]
fn dpop_allowed_and_required() {
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    let bearer = bearer_token(&c);
    let allowed = |p: Option<&str>| opts(p, json!({"dpop": "allowed"}));
    let required = |p: Option<&str>| opts(p, json!({"dpop": "required"}));
    // allowed: a proof with an unbound token is checked (all but the binding) and accepted.
    decode_access_token(&c, &bearer, Some(&allowed(Some(&proof(ES, &bearer))))).ok();
    decode_access_token(&c, &bearer, Some(&allowed(Some(&proof(OTHER, &bearer))))).ok();
    refused(&c, &bearer, &allowed(Some(&proof_with(ES, "POST", RS_URI, Some(&bearer), |_, _| {}))), "dpop_htm");
    refused(&c, &bearer, &allowed(Some(&proof(ES, &at))), "dpop_ath");
    decode_access_token(&c, &bearer, Some(&allowed(None))).ok();
    // ... but a bound token still needs its proof, never a downgrade to Bearer.
    refused(&c, &at, &allowed(None), "dpop_missing");
    refused(&c, &at, &allowed(Some(&proof(OTHER, &at))), "dpop_jkt");
    decode_access_token(&c, &at, Some(&allowed(Some(&proof(ES, &at))))).ok();
    // required: only bound tokens with their proof.
    decode_access_token(&c, &at, Some(&required(Some(&proof(ES, &at))))).ok();
    refused(&c, &at, &required(None), "dpop_missing");
    refused(&c, &bearer, &required(None), "dpop_jkt");
    refused(&c, &bearer, &required(Some(&proof(ES, &bearer))), "dpop_jkt");
}

#[test]
fn server_nonce_and_age_windows() {
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    let with_nonce = |n: Option<&str>| proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| if let Some(n) = n { cl["nonce"] = json!(n) });
    let o = |p: &str| opts(Some(p), json!({"dpop_nonce": "n-1"}));
    let e = refused(&c, &at, &o(&with_nonce(None)), "dpop_nonce");
    assert_eq!(e["error"], "use_dpop_nonce");
    refused(&c, &at, &o(&with_nonce(Some("n-0"))), "dpop_nonce");
    decode_access_token(&c, &at, Some(&o(&with_nonce(Some("n-1"))))).ok();
    // Without dpop_nonce a proof's nonce is not looked at.
    decode_access_token(&c, &at, Some(&opts(Some(&with_nonce(Some("n-0"))), json!({})))).ok();

    // dpop_max_age_s: 60 s old is too old for 10 s (+ 30 s leeway), fine for 300.
    let old = || proof_with(ES, "GET", RS_URI, Some(&at), |_, cl| cl["iat"] = json!(now() - 60));
    refused(&c, &at, &opts(Some(&old()), json!({"dpop_max_age_s": 10})), "dpop_iat");
    decode_access_token(&c, &at, Some(&opts(Some(&old()), json!({"dpop_max_age_s": 300})))).ok();
    // The client's replay window bounds the age whatever dpop_max_age_s says: a proof older
    // than its jti is remembered could be replayed.
    let secret = common::provider::client_secret(CLIENT);
    let short = ffi::client(
        common::provider::issuer(),
        Params {
            client_id: CLIENT,
            client_secret: Some(&secret),
            options: Some(r#"{"dpop_replay_window_s": 5, "leeway_s": 0}"#),
            ..Default::default()
        },
    );
    refused(&short, &at, &opts(Some(&old()), json!({"dpop_max_age_s": 300})), "dpop_iat");
    decode_access_token(&short, &at, Some(&opts(Some(&proof(ES, &at)), json!({})))).ok();
}

#[test]
fn replay_cache_is_bounded() {
    let secret = common::provider::client_secret(CLIENT);
    let c = ffi::client(
        common::provider::issuer(),
        Params { client_id: CLIENT, client_secret: Some(&secret), options: Some(r#"{"dpop_replay_cache_entries": 3}"#), ..Default::default() },
    );
    let at = bound_token(ES);
    let proofs: Vec<String> = (0..5).map(|_| proof(ES, &at)).collect();
    for p in &proofs {
        decode_access_token(&c, &at, Some(&opts(Some(p), json!({})))).ok();
    }
    // The three newest are remembered; the oldest two were evicted (the documented
    // trade-off of a bounded cache: size it for the request rate times the window).
    for p in &proofs[2..] {
        refused(&c, &at, &opts(Some(p), json!({})), "dpop_replay");
    }
    decode_access_token(&c, &at, Some(&opts(Some(&proofs[0]), json!({})))).ok();
}

// ---------------------------------------------------------------------------------------
// Concurrency: 8 threads, replays mixed in
// ---------------------------------------------------------------------------------------

#[test]
fn eight_threads_each_proof_accepted_exactly_once() {
    const THREADS: usize = 8;
    const PROOFS: usize = 48;
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    let proofs: Vec<String> = (0..PROOFS).map(|_| proof(ES, &at)).collect();
    // Wrong ones mixed in (another method): refused every time, never in the cache.
    let wrong: Vec<String> = (0..PROOFS / 4).map(|_| proof_with(ES, "DELETE", RS_URI, Some(&at), |_, _| {})).collect();
    let accepted: Vec<AtomicUsize> = (0..PROOFS).map(|_| AtomicUsize::new(0)).collect();
    let replays = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (c, at, proofs, wrong, accepted, replays) = (&c, &at, &proofs, &wrong, &accepted, &replays);
            scope.spawn(move || {
                // Every thread presents every proof, each starting elsewhere.
                for k in 0..PROOFS {
                    let i = (k * 7 + t * 5) % PROOFS;
                    let o = decode_access_token(c, at, Some(&opts(Some(&proofs[i]), json!({}))));
                    if o.status == 0 {
                        accepted[i].fetch_add(1, Ordering::SeqCst);
                    } else {
                        let doc = o.err(SOIDC_ERR_VALIDATION, "replayed proof");
                        assert_eq!(doc["reason"], "dpop_replay");
                        replays.fetch_add(1, Ordering::SeqCst);
                    }
                    if k % 4 == 0 {
                        let w = &wrong[(k / 4 + t) % wrong.len()];
                        let doc = decode_access_token(c, at, Some(&opts(Some(w), json!({})))).err(SOIDC_ERR_VALIDATION, "htm");
                        assert_eq!(doc["reason"], "dpop_htm");
                    }
                }
            });
        }
    });
    let counts: Vec<usize> = accepted.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    assert!(counts.iter().all(|&n| n == 1), "each proof accepted exactly once: {counts:?}");
    assert_eq!(replays.load(Ordering::SeqCst), PROOFS * (THREADS - 1));
}

// ---------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------

#[test]
fn each_option_with_a_wrong_type_or_value() {
    let c = conf_client(CLIENT, None);
    let at = bound_token(ES);
    let p = proof(ES, &at);
    let bad: Vec<(Value, &str)> = vec![
        (json!({"dpop_proof": 5, "http_method": "GET", "http_uri": RS_URI}), "dpop_proof"),
        (json!({"dpop_proof": [p, p], "http_method": "GET", "http_uri": RS_URI}), "dpop_proof"),
        (json!({"dpop_proof": p, "http_method": true, "http_uri": RS_URI}), "http_method"),
        (json!({"dpop_proof": p, "http_method": "GE T", "http_uri": RS_URI}), "http_method"),
        (json!({"dpop_proof": p, "http_method": "", "http_uri": RS_URI}), "http_method"),
        (json!({"dpop_proof": p, "http_uri": RS_URI}), "http_method"),
        (json!({"dpop_proof": p, "http_method": "GET", "http_uri": ["x"]}), "http_uri"),
        (json!({"dpop_proof": p, "http_method": "GET"}), "http_uri"),
        (json!({"dpop_proof": p, "http_method": "GET", "http_uri": "/api/items"}), "http_uri"),
        (json!({"dpop_proof": p, "http_method": "GET", "http_uri": "ftp://rs.soidc.test/"}), "http_uri"),
        (json!({"dpop": "maybe"}), "dpop"),
        (json!({"dpop": true}), "dpop"),
        (json!({"dpop_max_age_s": "300"}), "dpop_max_age_s"),
        (json!({"dpop_max_age_s": -1}), "dpop_max_age_s"),
        (json!({"dpop_max_age_s": 0}), "dpop_max_age_s"),
        (json!({"dpop_max_age_s": 100000}), "dpop_max_age_s"),
        (json!({"dpop_nonce": 1}), "dpop_nonce"),
        (json!({"dpop_nonce": ""}), "dpop_nonce"),
        (json!({"dpop_proof": null}), "dpop_proof"),
        (json!({"dpop_replay_window_s": 5}), "dpop_replay_window_s"),
    ];
    for (o, name) in bad {
        let doc = decode_access_token(&c, &at, Some(&o.to_string())).err(SOIDC_ERR_INVALID_ARGUMENT, name);
        assert!(!doc.to_string().contains(&p[p.len() - 20..]), "no proof in the message: {doc}");
    }
    // Nothing changed: the proof is still unused and accepted.
    decode_access_token(&c, &at, Some(&opts(Some(&p), json!({})))).ok();

    let secret = common::provider::client_secret(CLIENT);
    for (o, name) in [
        (r#"{"dpop_replay_cache_entries": "10"}"#, "dpop_replay_cache_entries"),
        (r#"{"dpop_replay_cache_entries": 0}"#, "dpop_replay_cache_entries"),
        (r#"{"dpop_replay_cache_entries": -3}"#, "dpop_replay_cache_entries"),
        (r#"{"dpop_replay_cache_entries": 100000000}"#, "dpop_replay_cache_entries"),
        (r#"{"dpop_replay_window_s": true}"#, "dpop_replay_window_s"),
        (r#"{"dpop_replay_window_s": 0}"#, "dpop_replay_window_s"),
        (r#"{"dpop_replay_window_s": 7200}"#, "dpop_replay_window_s"),
    ] {
        let (out, client) = ffi::from_issuer_url(
            common::provider::issuer(),
            Params { client_id: CLIENT, client_secret: Some(&secret), options: Some(o), ..Default::default() },
        );
        assert!(client.is_none(), "{o}");
        out.err(SOIDC_ERR_INVALID_ARGUMENT, name);
    }
}
