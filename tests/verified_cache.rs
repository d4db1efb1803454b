//! The verified-token cache (client option `verified_cache_entries`, src/core/verified_cache.rs):
//! a hit skips the signature check and nothing else. Every test first makes the token a
//! cached one (a decode that succeeded, then one counted as a hit) and then shows that the
//! hit path still refuses what must be refused: an expired token, another audience, a
//! missing scope, a DPoP-bound token without its proof or with a wrong one, a token whose
//! key left the JWKS (refetch, `import_keys`), bytes differing by one char. Signature
//! failures are cached apart (negative entries, bound to the key set they failed
//! against): a negative hit gives the exact error of a full check, and any change of the
//! key set has the token checked again.
//!
//! Tokens with a lifetime or key under the test's control are signed by the test and
//! served by the tests' stub provider; scopes and DPoP-bound tokens come from the real
//! provider (tests/provider).

mod common;
#[path = "common/flows.rs"]
mod flows;

use common::jwt::{b64, sign, sign_hmac, sign_raw, Key};
use common::now;
use common::stub::{jwks_of, StubServer};
use serde_json::{json, Value};
use soidc::core::client::VerifiedCacheStats;
use soidc::core::{Client, ClientParams, Error, ErrorKind};
use std::sync::Arc;
use std::time::Duration;

const CLIENT_ID: &str = "rp";
const SECRET: &str = "rp-secret-0123456789abcdef0123456789";
const API: &str = "https://api.example";

fn client_with(issuer: &str, options: &str) -> Client {
    Client::from_issuer_url(
        issuer,
        ClientParams { client_id: CLIENT_ID, client_secret: Some(SECRET), options: Some(options), ..Default::default() },
    )
    .unwrap_or_else(|e| panic!("client: {e}"))
}

fn cached_client(stub: &StubServer, entries: usize) -> Client {
    client_with(&stub.issuer(), &json!({"verified_cache_entries": entries, "leeway_s": 0, "jwks_refetch_min_interval_s": 0}).to_string())
}

fn stats(c: &Client) -> VerifiedCacheStats {
    c.verified_cache_stats().expect("the cache is on")
}

fn at_claims(stub: &StubServer, sub: &str, exp_in: i64) -> Value {
    let now = now();
    json!({
        "iss": stub.issuer(), "sub": sub, "aud": API, "exp": now + exp_in, "iat": now,
        "jti": format!("jti-{sub}"), "client_id": CLIENT_ID, "scope": "api:read",
    })
}

/// An at+jwt access token for API signed with tests/keys `key` (its kid).
fn at(stub: &StubServer, key: &str, sub: &str, exp_in: i64) -> String {
    let alg = common::jwt::header_alg_for_key(key);
    sign(alg, key, &json!({"typ": "at+jwt"}), &at_claims(stub, sub, exp_in))
}

fn opts() -> String {
    json!({"audience": API}).to_string()
}

#[track_caller]
fn accepted(c: &Client, token: &str, options: &str) -> Value {
    let claims = c.decode_access_token(token, Some(options)).unwrap_or_else(|e| panic!("refused: {e}"));
    serde_json::to_value(claims).unwrap()
}

#[track_caller]
fn refused(c: &Client, token: &str, options: &str, reason: &str) -> Error {
    match c.decode_access_token(token, Some(options)) {
        Ok(v) => panic!("accepted, expected reason {reason}: {v:?}"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
            assert_eq!(e.details.get("reason"), Some(&json!(reason)), "{}: {:?}", e.message, e.details);
            e
        }
    }
}

/// Decodes `token` twice: the first a miss that caches it, the second a hit.
#[track_caller]
fn make_cached(c: &Client, token: &str, options: &str) {
    let before = stats(c);
    accepted(c, token, options);
    accepted(c, token, options);
    let after = stats(c);
    assert_eq!(after.hits, before.hits + 1, "the second decode was a hit");
}

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

#[test]
fn option_default_off_bounds_and_wrong_types() {
    let stub = StubServer::new();
    let off = client_with(&stub.issuer(), "{}");
    assert!(off.verified_cache_stats().is_none(), "off by default");
    let zero = client_with(&stub.issuer(), r#"{"verified_cache_entries": 0}"#);
    assert!(zero.verified_cache_stats().is_none(), "0 is off");
    let t = at(&stub, "stub-rs256", "alice", 300);
    accepted(&off, &t, &opts());
    let max = client_with(&stub.issuer(), r#"{"verified_cache_entries": 1000000}"#);
    assert_eq!(stats(&max).capacity, 1_000_000);
    for bad in [r#"1000001"#, r#"-1"#, r#""10""#, r#"1.5"#, r#"true"#, r#"null"#] {
        let e = Client::from_issuer_url(
            &stub.issuer(),
            ClientParams {
                client_id: CLIENT_ID,
                options: Some(&format!(r#"{{"verified_cache_entries": {bad}}}"#)),
                ..Default::default()
            },
        )
        .expect_err(bad);
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad}: {}", e.message);
        assert!(e.message.contains("verified_cache_entries"), "{bad}: {}", e.message);
    }
}

// ---------------------------------------------------------------------------------------
// What a hit still checks
// ---------------------------------------------------------------------------------------

#[test]
fn hit_refuses_an_expired_token() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = at(&stub, "stub-rs256", "short", 2);
    make_cached(&c, &t, &opts());
    let exp = common::jwt::payload(&t)["exp"].as_i64().unwrap();
    while now() < exp {
        std::thread::sleep(Duration::from_millis(200));
    }
    let hits = stats(&c).hits;
    refused(&c, &t, &opts(), "expired");
    assert_eq!(stats(&c).hits, hits + 1, "refused on a hit");
}

#[test]
fn hit_refuses_a_token_for_another_audience_and_rechecks_the_issuer_rules() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = at(&stub, "stub-es256", "alice", 300);
    make_cached(&c, &t, &opts());
    let hits = stats(&c).hits;
    refused(&c, &t, r#"{"audience": "https://other.example"}"#, "audience");
    refused(&c, &t, r#"{"required_scopes": ["api:write"], "audience": "https://api.example"}"#, "scope");
    let e = c
        .decode_access_token(&t, Some(r#"{"audience": "https://api.example", "require_claims": [{"claim": "sub", "op": "eq", "value": "bob"}]}"#))
        .expect_err("claim rule");
    assert_eq!(e.details.get("reason"), Some(&json!("claim_rule")), "{}", e.message);
    // The default audience is the client_id, which this token lacks.
    refused(&c, &t, "{}", "audience");
    assert_eq!(stats(&c).hits, hits + 4, "each refusal came on a hit");
    accepted(&c, &t, &opts());
}

#[test]
fn a_cached_token_is_not_accepted_as_another_kind_of_token() {
    // The cache sits below the typ check: a cached at+jwt presented as an ID token is
    // still refused by the ID token rules.
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = at(&stub, "stub-rs256", "alice", 300);
    make_cached(&c, &t, &opts());
    let e = c.decode_id_token(&t, None, None).expect_err("an access token is no ID token");
    assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
}

#[test]
fn bytes_differing_by_one_char_are_checked_in_full() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = at(&stub, "stub-rs256", "alice", 300);
    make_cached(&c, &t, &opts());
    let parts: Vec<&str> = t.split('.').collect();
    // One char of the payload: a different signing input with the cached signature.
    let mut p = parts[1].as_bytes().to_vec();
    let mid = p.len() / 2;
    p[mid] = if p[mid] == b'A' { b'B' } else { b'A' };
    let changed_payload = format!("{}.{}.{}", parts[0], String::from_utf8(p).unwrap(), parts[2]);
    let e = c.decode_access_token(&changed_payload, Some(&opts())).expect_err("changed payload");
    assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
    // One char of the signature (not the last, whose low bits may be padding): the
    // cached signing input with another signature.
    let mut s = parts[2].as_bytes().to_vec();
    s[10] = if s[10] == b'A' { b'B' } else { b'A' };
    let changed_sig = format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(s).unwrap());
    refused(&c, &changed_sig, &opts(), "signature");
    // The last char of the signature: either not canonical base64url (refused when
    // parsed) or another signature (refused by the check).
    let mut s = parts[2].as_bytes().to_vec();
    let last = s.len() - 1;
    s[last] = if s[last] == b'A' { b'B' } else { b'A' };
    let changed_last = format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(s).unwrap());
    let e = c.decode_access_token(&changed_last, Some(&opts())).expect_err("changed last char");
    assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
    // The header: the same payload and signature with another header (kid absent).
    let header = b64(&serde_json::to_vec(&json!({"alg": "RS256", "typ": "at+jwt", "kid": "stub-rs256", "x": 1})).unwrap());
    let changed_header = format!("{header}.{}.{}", parts[1], parts[2]);
    refused(&c, &changed_header, &opts(), "signature");
    // Nothing of that was cached: only the one token is.
    assert_eq!(stats(&c).entries, 1);
    let hits = stats(&c).hits;
    accepted(&c, &t, &opts());
    assert_eq!(stats(&c).hits, hits + 1);
}

// ---------------------------------------------------------------------------------------
// Keys leaving the set
// ---------------------------------------------------------------------------------------

#[test]
fn hit_refuses_a_token_whose_key_left_the_jwks_on_refetch() {
    let stub = StubServer::new();
    stub.set_jwks(&jwks_of(&["stub-rs256", "stub-rs256-b", "stub-es256"]));
    // 64 entries (one shard): room for both tokens whatever their hashes.
    let c = cached_client(&stub, 64);
    let gone = at(&stub, "stub-rs256", "alice", 300);
    let stays = at(&stub, "stub-rs256-b", "bob", 300);
    make_cached(&c, &gone, &opts());
    make_cached(&c, &stays, &opts());
    assert_eq!(stats(&c).entries, 2);
    // The provider rotates stub-rs256 out; the client refetches (a worker's refresh).
    stub.set_jwks(&jwks_of(&["stub-rs256-b", "stub-es256"]));
    c.provider_keys(Some(r#"{"force_refresh": true}"#)).unwrap();
    refused(&c, &gone, &opts(), "unknown_kid");
    assert_eq!(stats(&c).entries, 1, "its entry was dropped");
    let hits = stats(&c).hits;
    accepted(&c, &stays, &opts());
    assert_eq!(stats(&c).hits, hits + 1, "the token of the remaining key is still a hit");
    // The key comes back: the token verifies again (a miss, then cached again).
    stub.set_jwks(&jwks_of(&["stub-rs256", "stub-rs256-b"]));
    c.provider_keys(Some(r#"{"force_refresh": true}"#)).unwrap();
    make_cached(&c, &gone, &opts());
}

#[test]
fn hit_refuses_a_token_whose_kid_now_names_other_key_material() {
    // The same kid republished with another key: the fingerprint covers the material.
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = at(&stub, "stub-rs256", "alice", 300);
    make_cached(&c, &t, &opts());
    let mut other = common::stub::public_jwk("stub-rs256-b");
    other["kid"] = json!("stub-rs256");
    stub.set_jwks(&json!({"keys": [other]}));
    c.provider_keys(Some(r#"{"force_refresh": true}"#)).unwrap();
    refused(&c, &t, &opts(), "signature");
    assert_eq!(stats(&c).entries, 0);
}

#[test]
fn hit_refuses_a_token_whose_key_left_with_import_keys() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = at(&stub, "stub-es256", "alice", 300);
    make_cached(&c, &t, &opts());
    // The host installs a set without the key (the stub still serves it: with
    // cache_only no fetch may bring it back).
    c.import_keys(&jwks_of(&["stub-rs256"]).to_string(), Some(r#"{"max_age_s": 600}"#)).unwrap();
    let only_cached = json!({"audience": API, "cache_only": true}).to_string();
    let hits = stats(&c).hits;
    refused(&c, &t, &only_cached, "unknown_kid");
    assert_eq!(stats(&c).hits, hits, "not a hit");
    // Re-imported: accepted (and cached) again.
    c.import_keys(&jwks_of(&["stub-es256"]).to_string(), None).unwrap();
    make_cached(&c, &t, &only_cached);

}

// ---------------------------------------------------------------------------------------
// What is not cached
// ---------------------------------------------------------------------------------------

#[test]
fn hmac_tokens_are_not_cached_and_failures_only_as_failures() {
    let stub = StubServer::new();
    let c = client_with(&stub.issuer(), &json!({"verified_cache_entries": 16, "allowed_algs": ["HS256", "RS256"]}).to_string());
    let hs = sign_hmac("HS256", SECRET.as_bytes(), &json!({"typ": "at+jwt"}), &at_claims(&stub, "alice", 300));
    accepted(&c, &hs, &opts());
    accepted(&c, &hs, &opts());
    assert_eq!(stats(&c).entries, 0, "HS* tokens are verified every time");
    // A token that fails the signature check, twice: refused both times, never cached
    // as verified (the second refusal comes from the negative table).
    let t = at(&stub, "stub-rs256", "alice", 300);
    let parts: Vec<&str> = t.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64(&[7u8; 256]));
    refused(&c, &forged, &opts(), "signature");
    refused(&c, &forged, &opts(), "signature");
    // An expired token whose signature is fine is cached (the signature verified) but
    // refused every time.
    let expired = at(&stub, "stub-rs256", "old", -100);
    refused(&c, &expired, &opts(), "expired");
    refused(&c, &expired, &opts(), "expired");
    assert_eq!(stats(&c).entries, 1);
    assert_eq!(stats(&c).hits, 1);
}

#[test]
fn tokens_over_16_kib_are_not_cached() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let mut claims = at_claims(&stub, "big", 300);
    claims["filler"] = json!("x".repeat(20 * 1024));
    let big = sign("ES256", "stub-es256", &json!({"typ": "at+jwt"}), &claims);
    accepted(&c, &big, &opts());
    accepted(&c, &big, &opts());
    assert_eq!(stats(&c).entries, 0);
    assert_eq!(stats(&c).hits, 0);
    // Just below the limit: cached.
    claims["filler"] = json!("x".repeat(10 * 1024));
    let fits = sign("ES256", "stub-es256", &json!({"typ": "at+jwt"}), &claims);
    make_cached(&c, &fits, &opts());
}

// ---------------------------------------------------------------------------------------
// Signature failures (negative entries)
// ---------------------------------------------------------------------------------------

/// `t` with one char of its signature changed (not the last, whose low bits may be padding).
fn bad_signature(t: &str) -> String {
    let parts: Vec<&str> = t.split('.').collect();
    let mut s = parts[2].as_bytes().to_vec();
    s[10] = if s[10] == b'A' { b'B' } else { b'A' };
    format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(s).unwrap())
}

#[track_caller]
fn same_error(a: &Error, b: &Error) {
    assert_eq!(a.kind, b.kind);
    assert_eq!(a.message, b.message);
    assert_eq!(a.details, b.details);
}

#[test]
fn a_negative_hit_gives_the_exact_error_of_the_full_check() {
    let stub = StubServer::new();
    // 400 entries: 100 negative ones (one shard), room for every failure below.
    let c = cached_client(&stub, 400);
    assert_eq!(stats(&c).failure_capacity, 100, "a quarter of the capacity");
    for key in ["stub-rs256", "stub-es256", "stub-ed25519"] {
        let bad = bad_signature(&at(&stub, key, "alice", 300));
        let before = stats(&c);
        let first = refused(&c, &bad, &opts(), "signature");
        assert_eq!(stats(&c).failure_entries, before.failure_entries + 1, "{key}: the failure was cached");
        let second = refused(&c, &bad, &opts(), "signature");
        assert_eq!(stats(&c).failure_hits, before.failure_hits + 1, "{key}: the second refusal was a negative hit");
        same_error(&first, &second);
        // The same error as a client without the cache gives.
        let plain = client_with(&stub.issuer(), r#"{"leeway_s": 0}"#);
        same_error(&first, &refused(&plain, &bad, &opts(), "signature"));
    }
    // The verified table holds nothing of it, and a valid token still is a verified hit.
    assert_eq!(stats(&c).entries, 0);
    make_cached(&c, &at(&stub, "stub-rs256", "bob", 300), &opts());
    // The negative table is bounded (16 entries: 4 negative ones): more failing tokens
    // evict older ones, never verified ones.
    let small = cached_client(&stub, 16);
    assert_eq!(stats(&small).failure_capacity, 4);
    let good = at(&stub, "stub-es256", "carol", 300);
    make_cached(&small, &good, &opts());
    for i in 0..10 {
        refused(&small, &bad_signature(&at(&stub, "stub-es256", &format!("u{i}"), 300)), &opts(), "signature");
        assert!(stats(&small).failure_entries <= 4, "{:?}", stats(&small));
    }
    assert_eq!(stats(&small).entries, 1, "failing tokens never push verified ones out");
    let hits = stats(&small).hits;
    accepted(&small, &good, &opts());
    assert_eq!(stats(&small).hits, hits + 1, "still a hit");
}

#[test]
fn unknown_kid_no_kid_and_other_failures_are_not_cached_as_failures() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    // An unknown kid (a refetch may find it): checked every time.
    let unknown = sign("RS256", "stub-rs256", &json!({"typ": "at+jwt", "kid": "not-there"}), &at_claims(&stub, "a", 300));
    refused(&c, &unknown, &opts(), "unknown_kid");
    refused(&c, &unknown, &opts(), "unknown_kid");
    // No kid: a failure may earn a refetch, so it is checked every time.
    let no_kid = bad_signature(&sign("RS256", "stub-rs256", &json!({"typ": "at+jwt", "kid": null}), &at_claims(&stub, "b", 300)));
    refused(&c, &no_kid, &opts(), "signature");
    refused(&c, &no_kid, &opts(), "signature");
    // Claim failures are not signature failures (an expired token is a verified entry).
    let expired = at(&stub, "stub-rs256", "old", -100);
    refused(&c, &expired, &opts(), "expired");
    refused(&c, &expired, &opts(), "expired");
    let st = stats(&c);
    assert_eq!((st.failure_entries, st.failure_hits), (0, 0), "{st:?}");
    // The unknown kid appears in the JWKS: the token is checked against it.
    let mut k = common::stub::public_jwk("stub-rs256");
    k["kid"] = json!("not-there");
    let mut jwks = jwks_of(&["stub-rs256", "stub-es256"]);
    jwks["keys"].as_array_mut().unwrap().push(k);
    stub.set_jwks(&jwks);
    accepted(&c, &unknown, &opts());
}

#[test]
fn a_failure_is_checked_again_after_any_key_set_change() {
    // A token signed with the material of stub-rs256-b but naming kid stub-rs256 fails
    // against the provider's set; once the provider publishes that material under that
    // kid (refetch, import_keys), it verifies, although its failure was cached.
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let t = sign("RS256", "stub-rs256-b", &json!({"typ": "at+jwt", "kid": "stub-rs256"}), &at_claims(&stub, "rot", 300));
    refused(&c, &t, &opts(), "signature");
    refused(&c, &t, &opts(), "signature");
    assert_eq!(stats(&c).failure_hits, 1);
    let mut new_key = common::stub::public_jwk("stub-rs256-b");
    new_key["kid"] = json!("stub-rs256");
    let new_set = json!({"keys": [new_key]});
    // 1. A refetch brings the new material.
    stub.set_jwks(&new_set);
    c.provider_keys(Some(r#"{"force_refresh": true}"#)).unwrap();
    make_cached(&c, &t, &opts());
    // 2. import_keys of the old set: the token fails again (checked, then a negative
    //    hit); import_keys of the new set: accepted again.
    let old_set = jwks_of(&["stub-rs256"]).to_string();
    c.import_keys(&old_set, None).unwrap();
    refused(&c, &t, &opts(), "signature");
    let hits = stats(&c).failure_hits;
    refused(&c, &t, &opts(), "signature");
    assert_eq!(stats(&c).failure_hits, hits + 1);
    c.import_keys(&new_set.to_string(), None).unwrap();
    accepted(&c, &t, &opts());
    // 3. Even an identical set imported again counts as a change: checked again (a
    //    miss: the negative hit count does not move), with the same outcome.
    c.import_keys(&old_set, None).unwrap();
    refused(&c, &t, &opts(), "signature");
    let hits = stats(&c).failure_hits;
    c.import_keys(&old_set, None).unwrap();
    refused(&c, &t, &opts(), "signature");
    assert_eq!(stats(&c).failure_hits, hits, "checked against the new set, not answered from the entry");
    // 4. The key is removed: the cached failure does not stand in for the unknown kid.
    refused(&c, &t, &opts(), "signature");
    c.import_keys(&jwks_of(&["stub-es256"]).to_string(), Some(r#"{"max_age_s": 600}"#)).unwrap();
    refused(&c, &t, &json!({"audience": API, "cache_only": true}).to_string(), "unknown_kid");
}

#[test]
fn threads_never_see_a_failure_cached_against_another_key_set() {
    // The main thread alternates the set between OLD (kid K = material A) and NEW (kid K
    // = material B) with import_keys; 4 threads decode a token signed with B naming K.
    // With OLD throughout a decode it must be refused ("signature", mostly negative
    // hits); with NEW throughout it must be accepted, although threads cache its failure
    // against OLD all the time.
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let stub = StubServer::new();
    let c = Arc::new(cached_client(&stub, 8));
    let old_set = jwks_of(&["stub-rs256"]).to_string();
    let mut k = common::stub::public_jwk("stub-rs256-b");
    k["kid"] = json!("stub-rs256");
    let new_set = json!({"keys": [k]}).to_string();
    c.import_keys(&old_set, None).unwrap();
    let t = sign("RS256", "stub-rs256-b", &json!({"typ": "at+jwt", "kid": "stub-rs256"}), &at_claims(&stub, "rot", 300));
    let o = json!({"audience": API, "cache_only": true}).to_string();
    // phase % 4: 0 = OLD stable, 1 = importing NEW, 2 = NEW stable, 3 = importing OLD
    let phase = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|th| {
            let (c, phase, stop, t, o) = (c.clone(), phase.clone(), stop.clone(), t.clone(), o.clone());
            std::thread::spawn(move || {
                let (mut refused_old, mut accepted_new) = (0usize, 0usize);
                while !stop.load(Ordering::SeqCst) {
                    let p0 = phase.load(Ordering::SeqCst);
                    let r = c.decode_access_token(&t, Some(&o));
                    let p1 = phase.load(Ordering::SeqCst);
                    if let Err(e) = &r {
                        assert_eq!(e.details.get("reason"), Some(&json!("signature")), "thread {th}: {}", e.message);
                    }
                    if p0 == p1 && p0 % 4 == 0 {
                        assert!(r.is_err(), "thread {th}: accepted with the old key");
                        refused_old += 1;
                    }
                    if p0 == p1 && p0 % 4 == 2 {
                        assert!(r.is_ok(), "thread {th}: refused with the new key: {:?}", r.err().map(|e| e.message));
                        accepted_new += 1;
                    }
                }
                (refused_old, accepted_new)
            })
        })
        .collect();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(3));
        phase.fetch_add(1, Ordering::SeqCst);
        c.import_keys(&new_set, None).unwrap();
        phase.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(3));
        phase.fetch_add(1, Ordering::SeqCst);
        c.import_keys(&old_set, None).unwrap();
        phase.fetch_add(1, Ordering::SeqCst);
    }
    stop.store(true, Ordering::SeqCst);
    let (mut refused, mut accepted) = (0, 0);
    for w in workers {
        let (r, a) = w.join().expect("worker panicked");
        refused += r;
        accepted += a;
    }
    assert!(refused > 0 && accepted > 0, "refused with OLD: {refused}, accepted with NEW: {accepted}");
    assert!(stats(&c).failure_hits > 0, "{:?}", stats(&c));
}

// ---------------------------------------------------------------------------------------
// Bound and concurrency
// ---------------------------------------------------------------------------------------

#[test]
fn the_cache_is_bounded_and_keeps_the_tokens_in_use() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 20);
    assert_eq!(stats(&c).capacity, 20);
    let hot = at(&stub, "stub-es256", "hot", 300);
    make_cached(&c, &hot, &opts());
    for i in 0..200 {
        accepted(&c, &at(&stub, "stub-es256", &format!("user{i}"), 300), &opts());
        assert!(stats(&c).entries <= 20, "{} entries", stats(&c).entries);
        // The hot token is used between the one-off ones.
        accepted(&c, &hot, &opts());
    }
    let st = stats(&c);
    assert_eq!(st.entries, 20, "full");
    // CLOCK keeps a token that is hit between evictions.
    assert!(st.hits >= 150, "the hot token stayed cached: {st:?}");
}

#[test]
fn many_threads_decode_a_mix_of_valid_and_invalid_tokens_with_the_cache_full_and_evicting() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 300;
    let stub = StubServer::new();
    stub.set_jwks(&jwks_of(&["stub-rs256", "stub-es256", "stub-ed25519"]));
    let c = Arc::new(cached_client(&stub, 24));
    // 60 valid tokens over 3 keys (more than the capacity: entries are evicted all the
    // time), and invalid ones of each kind.
    let keys = ["stub-rs256", "stub-es256", "stub-ed25519"];
    let valid: Vec<(String, String)> = (0..60)
        .map(|i| {
            let sub = format!("u{i}");
            (at(&stub, keys[i % 3], &sub, 300), sub)
        })
        .collect();
    let expired = at(&stub, "stub-es256", "expired", -100);
    let forged = {
        let p: Vec<&str> = valid[1].0.split('.').collect();
        format!("{}.{}.{}", p[0], p[1], b64(&[1u8; 64]))
    };
    let swapped = {
        let (a, b): (Vec<&str>, Vec<&str>) = (valid[0].0.split('.').collect(), valid[3].0.split('.').collect());
        format!("{}.{}.{}", a[0], b[1], a[2])
    };
    let invalid: Vec<(String, &str)> = vec![(expired, "expired"), (forged, "signature"), (swapped, "signature")];
    let valid = Arc::new(valid);
    let invalid = Arc::new(invalid);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (c, valid, invalid) = (c.clone(), valid.clone(), invalid.clone());
            std::thread::spawn(move || {
                let mut seed = 0x9e37_79b9u64.wrapping_mul(t as u64 + 1);
                let mut n = 0usize;
                for _ in 0..ROUNDS {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let pick = (seed % 100) as usize;
                    if pick < 10 {
                        let (tok, reason) = &invalid[pick % invalid.len()];
                        let e = c.decode_access_token(tok, Some(&opts())).expect_err("invalid");
                        assert_eq!(e.details.get("reason"), Some(&json!(reason)), "thread {t}: {}", e.message);
                    } else if pick < 15 {
                        // A valid token for the wrong audience.
                        let (tok, _) = &valid[pick % valid.len()];
                        let e = c.decode_access_token(tok, Some(r#"{"audience": "https://x.example"}"#)).expect_err("aud");
                        assert_eq!(e.details.get("reason"), Some(&json!("audience")), "thread {t}: {}", e.message);
                    } else {
                        // Mostly the first 20 tokens (hits), sometimes the rest (evictions).
                        let i = if pick < 80 { pick % 20 } else { (seed as usize >> 8) % valid.len() };
                        let (tok, sub) = &valid[i];
                        let claims = c.decode_access_token(tok, Some(&opts())).unwrap_or_else(|e| panic!("thread {t}: {e}"));
                        assert_eq!(claims["sub"], json!(sub), "thread {t}: the claims of its own token");
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    let done: usize = workers.into_iter().map(|w| w.join().expect("worker panicked")).sum();
    assert_eq!(done, THREADS * ROUNDS);
    let st = stats(&c);
    assert!(st.entries <= 24, "{st:?}");
    assert!(st.hits > 0, "{st:?}");
}

#[test]
fn threads_hitting_while_the_key_set_is_replaced_never_accept_a_removed_key() {
    // The main thread alternates the key set between {A, B} and {B} (import_keys); 4
    // threads decode a token of each key meanwhile (cache_only: no fetch brings A back).
    // Whenever the set was {B} from before a decode began until after it ended, the
    // token of A must have been refused, although it was cached a moment before; with
    // {A, B} throughout, both must pass.
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let stub = StubServer::new();
    stub.set_jwks(&jwks_of(&["stub-rs256", "stub-rs256-b"]));
    let c = Arc::new(cached_client(&stub, 4));
    let ab = jwks_of(&["stub-rs256", "stub-rs256-b"]).to_string();
    let only_b = jwks_of(&["stub-rs256-b"]).to_string();
    c.import_keys(&ab, None).unwrap();
    let (a, b) = (at(&stub, "stub-rs256", "alice", 300), at(&stub, "stub-rs256-b", "bob", 300));
    let o = json!({"audience": API, "cache_only": true}).to_string();
    // phase % 4: 0 = {A, B} stable, 1 = importing {B}, 2 = {B} stable, 3 = importing {A, B}
    let phase = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (c, phase, stop, a, b, o) = (c.clone(), phase.clone(), stop.clone(), a.clone(), b.clone(), o.clone());
            std::thread::spawn(move || {
                let (mut refused_in_b, mut accepted_in_ab) = (0usize, 0usize);
                while !stop.load(Ordering::SeqCst) {
                    for (tok, sub) in [(&a, "alice"), (&b, "bob")] {
                        let p0 = phase.load(Ordering::SeqCst);
                        let r = c.decode_access_token(tok, Some(&o));
                        let p1 = phase.load(Ordering::SeqCst);
                        match &r {
                            Ok(claims) => assert_eq!(claims["sub"], json!(sub), "thread {t}"),
                            Err(e) => assert_eq!(e.details.get("reason"), Some(&json!("unknown_kid")), "thread {t}: {}", e.message),
                        }
                        if p0 == p1 && p0 % 4 == 2 {
                            if sub == "alice" {
                                assert!(r.is_err(), "thread {t}: the token of a removed key was accepted (phase {p0})");
                                refused_in_b += 1;
                            } else {
                                assert!(r.is_ok(), "thread {t}: the token of the remaining key was refused");
                            }
                        }
                        if p0 == p1 && p0 % 4 == 0 {
                            assert!(r.is_ok(), "thread {t}: {sub} refused with both keys in the set");
                            accepted_in_ab += 1;
                        }
                    }
                }
                (refused_in_b, accepted_in_ab)
            })
        })
        .collect();
    for _ in 0..40 {
        phase.fetch_add(1, Ordering::SeqCst);
        c.import_keys(&only_b, None).unwrap();
        phase.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(3));
        phase.fetch_add(1, Ordering::SeqCst);
        c.import_keys(&ab, None).unwrap();
        phase.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(3));
    }
    stop.store(true, Ordering::SeqCst);
    let (mut refused, mut accepted) = (0, 0);
    for w in workers {
        let (r, a) = w.join().expect("worker panicked");
        refused += r;
        accepted += a;
    }
    // Both situations really occurred (the check is not vacuous).
    assert!(refused > 0 && accepted > 0, "refused in {{B}}: {refused}, accepted in {{A, B}}: {accepted}");
    assert!(stats(&c).hits > 0);
}

#[test]
fn id_tokens_and_logout_tokens_are_cached_too_and_rechecked() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let claims = common::jwt::good_claims(&stub.issuer(), CLIENT_ID, Some("n-1"));
    let id = sign("RS256", "stub-rs256", &json!({}), &claims);
    c.decode_id_token(&id, Some(r#"{"nonce": "n-1"}"#), None).unwrap();
    c.decode_id_token(&id, Some(r#"{"nonce": "n-1"}"#), None).unwrap();
    assert_eq!(stats(&c).hits, 1);
    let e = c.decode_id_token(&id, Some(r#"{"nonce": "n-2"}"#), None).expect_err("nonce");
    assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
    assert_eq!(stats(&c).hits, 2, "refused on a hit");
}

#[test]
fn hit_refuses_a_certificate_bound_token_without_its_certificate() {
    let stub = StubServer::new();
    let c = cached_client(&stub, 16);
    let mut claims = at_claims(&stub, "alice", 300);
    claims["cnf"] = json!({"x5t#S256": b64(&[9u8; 32])});
    let t = sign("ES256", "stub-es256", &json!({"typ": "at+jwt"}), &claims);
    // Refused for want of the certificate, but the signature verified: cached.
    refused(&c, &t, &opts(), "cnf_x5t");
    refused(&c, &t, &opts(), "cnf_x5t");
    assert_eq!(stats(&c).hits, 1, "the second refusal came on a hit");
}

// ---------------------------------------------------------------------------------------
// Real provider: scopes and DPoP binding
// ---------------------------------------------------------------------------------------

mod provider_tokens {
    use super::*;
    use common::provider;
    use flows::{client_credentials, conf_client, s};

    const CLIENT: &str = "conf-basic";
    const RS_URI: &str = "https://rs.soidc.test/api/items";
    const ES: (&str, &str) = ("client-es256", "ES256");
    const OTHER: (&str, &str) = ("stub-es256", "ES256");

    fn rs_client() -> Client {
        let secret = provider::client_secret(CLIENT);
        Client::from_issuer_url(
            provider::issuer(),
            ClientParams {
                client_id: CLIENT,
                client_secret: Some(&secret),
                options: Some(r#"{"verified_cache_entries": 100}"#),
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn public_jwk(name: &str) -> Value {
        let full = common::stub::public_jwk(name);
        let mut jwk = json!({});
        for m in ["kty", "crv", "x", "y", "n", "e"] {
            if let Some(v) = full.get(m) {
                jwk[m] = v.clone();
            }
        }
        jwk
    }

    fn fresh_jti() -> String {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        format!("vc-{}-{}-{}", std::process::id(), now(), N.fetch_add(1, Ordering::Relaxed))
    }

    fn proof_for(key: (&str, &str), htm: &str, htu: &str, token: Option<&str>) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": key.1, "jwk": public_jwk(key.0)});
        let mut claims = json!({"jti": fresh_jti(), "htm": htm, "htu": htu, "iat": now()});
        if let Some(t) = token {
            claims["ath"] = json!(b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, t.as_bytes()).as_ref()));
        }
        sign_raw(&header.to_string(), &claims.to_string(), key.1, &Key::Pem(key.0))
    }

    /// A client-credentials access token for flows::API bound to `key` by the provider.
    fn bound_token(key: (&str, &str)) -> String {
        let ep = s(&flows::control_get("/.well-known/openid-configuration"), "token_endpoint").to_owned();
        let secret = provider::client_secret(CLIENT);
        let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{CLIENT}:{secret}"));
        let body = format!(
            "grant_type=client_credentials&scope=api%3Aread&resource={}",
            url::form_urlencoded::byte_serialize(flows::API.as_bytes()).collect::<String>()
        );
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        let mut resp = agent
            .post(&ep)
            .header("Authorization", &format!("Basic {basic}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("DPoP", &proof_for(key, "POST", &ep, None))
            .send(body)
            .expect("token request");
        let text = resp.body_mut().read_to_string().unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("token endpoint: {text}"));
        assert_eq!(doc["token_type"], "DPoP", "{doc}");
        s(&doc, "access_token").to_owned()
    }

    fn rs_opts(proof: Option<&str>, extra: Value) -> String {
        let mut o = json!({"audience": flows::API, "http_method": "GET", "http_uri": RS_URI});
        if let Some(p) = proof {
            o["dpop_proof"] = json!(p);
        }
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o.to_string()
    }

    #[test]
    fn provider_token_hit_refuses_a_missing_scope_and_another_audience() {
        let issuing = conf_client(CLIENT, None);
        let doc = client_credentials(&issuing, Some("api:read"), Some(&json!({"resource": flows::API}).to_string())).ok();
        let at = s(&doc, "access_token").to_owned();
        let c = rs_client();
        let o = json!({"audience": flows::API, "required_scopes": ["api:read"]}).to_string();
        make_cached(&c, &at, &o);
        let hits = stats(&c).hits;
        refused(&c, &at, &json!({"audience": flows::API, "required_scopes": ["api:write"]}).to_string(), "scope");
        refused(&c, &at, &json!({"audience": "https://other.soidc.test"}).to_string(), "audience");
        assert_eq!(stats(&c).hits, hits + 2);
        accepted(&c, &at, &o);
    }

    #[test]
    fn provider_dpop_bound_token_hit_refuses_a_missing_or_wrong_proof() {
        let at = bound_token(ES);
        let c = rs_client();
        let o1 = rs_opts(Some(&proof_for(ES, "GET", RS_URI, Some(&at))), json!({}));
        accepted(&c, &at, &o1);
        let hits = stats(&c).hits;
        // The same proof again: a replay (the cache never skips the replay check).
        let e = c.decode_access_token(&at, Some(&o1)).expect_err("replayed proof");
        assert_eq!(e.details.get("reason"), Some(&json!("dpop_replay")), "{}", e.message);
        // Without a proof.
        let e = c.decode_access_token(&at, Some(&rs_opts(None, json!({})))).expect_err("no proof");
        assert_eq!(e.details.get("reason"), Some(&json!("dpop_missing")), "{}", e.message);
        // A proof by another key.
        let e = c.decode_access_token(&at, Some(&rs_opts(Some(&proof_for(OTHER, "GET", RS_URI, Some(&at))), json!({})))).expect_err("other key");
        assert_eq!(e.details.get("reason"), Some(&json!("dpop_jkt")), "{}", e.message);
        // A proof for another method.
        let e = c.decode_access_token(&at, Some(&rs_opts(Some(&proof_for(ES, "POST", RS_URI, Some(&at))), json!({})))).expect_err("htm");
        assert_eq!(e.details.get("reason"), Some(&json!("dpop_htm")), "{}", e.message);
        assert_eq!(stats(&c).hits, hits + 4, "each refusal came on a hit");
        // A fresh right proof: accepted on a hit.
        accepted(&c, &at, &rs_opts(Some(&proof_for(ES, "GET", RS_URI, Some(&at))), json!({})));
        assert_eq!(stats(&c).hits, hits + 5);
    }
}
