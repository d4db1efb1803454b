//! The provider's signing keys. Each JWK is parsed once, when the key set is
//! cached, into ready-to-use verification keys (one per algorithm it may
//! verify), so that the token path only looks a key up and checks a signature.
//!
//! The cache is an `Arc` snapshot behind an `RwLock` that readers hold only
//! long enough to clone the `Arc`; fetching happens under a separate mutex so
//! that concurrent callers who need new keys share one fetch.

use crate::core::error::{q, Error, ErrorKind, Result};
use crate::core::http::{Http, RequestOptions};
use crate::core::jose::{json_type, Alg, Jws, KeyFamily};
use crate::core::log::Level;
use crate::log_at;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// At most this many keys of a set are considered for one token without `kid`.
const MAX_CANDIDATES: usize = 16;
/// At most this many keys are kept from one JWKS document.
const MAX_KEYS: usize = 100;

/// One usable verification key.
pub struct VerifyKey {
    pub kid: Option<String>,
    pub family: KeyFamily,
    /// The JWK's `alg`, when it names one: then only that algorithm is allowed.
    pub alg: Option<Alg>,
    parsed: Vec<(Alg, ParsedPublicKey)>,
}

impl VerifyKey {
    pub fn verify(&self, alg: Alg, message: &[u8], sig: &[u8]) -> bool {
        self.parsed
            .iter()
            .find(|(a, _)| *a == alg)
            .is_some_and(|(_, k)| k.verify_sig(message, sig).is_ok())
    }
}

fn rsa_params(alg: Alg) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> std::result::Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(format!("member \"{name}\" is {}, expected a string", json_type(v))),
    }
}

fn b64_member(jwk: &Map<String, Value>, name: &str) -> std::result::Result<Vec<u8>, String> {
    let s = member(jwk, name)?.ok_or_else(|| format!("member \"{name}\" is missing"))?;
    crate::core::jose::b64_decode(s, name).map_err(|_| format!("member \"{name}\" is not base64url"))
}

/// Parses one JWK. `Ok(None)`: a key that is not for signatures (use `enc`,
/// symmetric, or an algorithm soidc does not use); `Err`: a broken key.
fn parse_jwk(jwk: &Map<String, Value>, algs: &[Alg]) -> std::result::Result<Option<VerifyKey>, String> {
    let kty = member(jwk, "kty")?.ok_or("member \"kty\" is missing")?;
    let kid = member(jwk, "kid")?.map(str::to_owned);
    if member(jwk, "use")? == Some("enc") {
        return Ok(None);
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops.as_array().is_some_and(|a| a.iter().any(|o| o == "verify"));
        if !verifies {
            return Ok(None);
        }
    }
    let jwk_alg = match member(jwk, "alg")? {
        None => None,
        Some(name) => match Alg::parse(name) {
            Some(a) => Some(a),
            None => return Ok(None), // e.g. RSA-OAEP, or an algorithm soidc does not verify
        },
    };
    let wanted = |family: KeyFamily| -> Vec<Alg> {
        algs.iter()
            .copied()
            .filter(|a| a.family() == family && jwk_alg.is_none_or(|j| j == *a))
            .collect()
    };
    let (family, parsed) = match kty {
        "RSA" => {
            let n = b64_member(jwk, "n")?;
            let e = b64_member(jwk, "e")?;
            let comps = RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() };
            let mut parsed = Vec::new();
            for alg in wanted(KeyFamily::Rsa) {
                let params = rsa_params(alg).expect("RSA family");
                let key = comps
                    .to_parsed_public_key(params)
                    .map_err(|e| format!("invalid RSA key: {e}"))?;
                parsed.push((alg, key));
            }
            (KeyFamily::Rsa, parsed)
        }
        "EC" => {
            let crv = member(jwk, "crv")?.ok_or("member \"crv\" is missing")?;
            let (family, verify_alg, len): (_, &'static signature::EcdsaVerificationAlgorithm, usize) =
                match crv {
                    "P-256" => (KeyFamily::EcP256, &signature::ECDSA_P256_SHA256_FIXED, 32),
                    "P-384" => (KeyFamily::EcP384, &signature::ECDSA_P384_SHA384_FIXED, 48),
                    _ => return Ok(None),
                };
            let x = b64_member(jwk, "x")?;
            let y = b64_member(jwk, "y")?;
            if x.len() != len || y.len() != len {
                return Err(format!("EC key coordinates must be {len} bytes for {crv}"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4u8);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let mut parsed = Vec::new();
            for alg in wanted(family) {
                let key = ParsedPublicKey::new(verify_alg, &point)
                    .map_err(|e| format!("invalid EC key: {e}"))?;
                parsed.push((alg, key));
            }
            (family, parsed)
        }
        "OKP" => {
            if member(jwk, "crv")? != Some("Ed25519") {
                return Ok(None);
            }
            let x = b64_member(jwk, "x")?;
            if x.len() != 32 {
                return Err("Ed25519 key must be 32 bytes".into());
            }
            let mut parsed = Vec::new();
            for alg in wanted(KeyFamily::Ed25519) {
                let key = ParsedPublicKey::new(&signature::ED25519, &x)
                    .map_err(|e| format!("invalid Ed25519 key: {e}"))?;
                parsed.push((alg, key));
            }
            (KeyFamily::Ed25519, parsed)
        }
        _ => return Ok(None), // "oct" and unknown types never verify provider signatures
    };
    if parsed.is_empty() {
        return Ok(None);
    }
    Ok(Some(VerifyKey { kid, family, alg: jwk_alg, parsed }))
}

/// A fetched and parsed key set.
pub struct KeySet {
    pub keys: Vec<VerifyKey>,
    /// The document as the provider sent it.
    pub document: Value,
}

impl KeySet {
    pub fn parse(document: Value, algs: &[Alg]) -> Result<KeySet> {
        let keys_json = document
            .get("keys")
            .ok_or_else(|| Error::protocol("JWKS has no \"keys\" member"))?
            .as_array()
            .ok_or_else(|| Error::protocol("JWKS \"keys\" is not an array"))?;
        let mut keys = Vec::new();
        for (i, k) in keys_json.iter().enumerate() {
            let Some(obj) = k.as_object() else {
                log_at!(Level::Warn, "JWKS key #{i} is not an object; ignored");
                continue;
            };
            match parse_jwk(obj, algs) {
                Ok(Some(key)) if keys.len() < MAX_KEYS => keys.push(key),
                Ok(_) => {}
                Err(msg) => log_at!(Level::Warn, "JWKS key #{i} ignored: {msg}"),
            }
        }
        Ok(KeySet { keys, document })
    }

    fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Verifies the token's signature with a fitting key of this set.
    /// `Ok(false)`: no key with the token's `kid` (the caller may refetch).
    fn verify(&self, jws: &Jws<'_>) -> Result<bool> {
        let family = jws.alg.family();
        let mut tried = 0usize;
        let mut kid_seen_wrong_type = None;
        for key in &self.keys {
            if let Some(kid) = &jws.kid {
                if key.kid.as_deref() != Some(kid.as_str()) {
                    continue;
                }
            }
            if key.family != family || key.alg.is_some_and(|a| a != jws.alg) {
                if jws.kid.is_some() {
                    kid_seen_wrong_type = Some(key);
                }
                continue;
            }
            if tried == MAX_CANDIDATES {
                break;
            }
            tried += 1;
            if key.verify(jws.alg, jws.signing_input, &jws.signature) {
                return Ok(true);
            }
        }
        if tried > 0 {
            return Err(Error::validation(match &jws.kid {
                Some(kid) => format!("signature check failed: the {} signature does not verify with key {}", jws.alg.name(), q(kid)),
                None => format!("signature check failed: the {} signature verifies with none of the {tried} candidate keys (token has no kid)", jws.alg.name()),
            })
            .with_detail("reason", "signature"));
        }
        if let Some(key) = kid_seen_wrong_type {
            return Err(Error::validation(format!(
                "signature check failed: key {} is {:?}{} and cannot verify alg {}",
                q(key.kid.as_deref().unwrap_or("")),
                key.family,
                key.alg.map(|a| format!(" (alg {})", a.name())).unwrap_or_default(),
                jws.alg.name()
            ))
            .with_detail("reason", "signature"));
        }
        Ok(false)
    }
}

struct Snapshot {
    set: Option<Arc<KeySet>>,
    expires_at: Option<Instant>,
}

struct FetchState {
    last_attempt: Option<Instant>,
}

pub struct KeyCache {
    jwks_uri: String,
    algs: Vec<Alg>,
    min_cache: Duration,
    refetch_min_interval: Duration,
    current: RwLock<Arc<Snapshot>>,
    fetch: Mutex<FetchState>,
}

/// Where keys may come from for one verification.
#[derive(Debug, Clone, Copy)]
pub struct KeyPolicy {
    pub allow_fetch: bool,
    pub request: RequestOptions,
}

fn max_age(cache_control: Option<&str>) -> Option<u64> {
    cache_control?
        .split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.trim().parse::<u64>().ok())
}

impl KeyCache {
    pub fn new(jwks_uri: String, algs: Vec<Alg>, min_cache_s: u64, refetch_min_interval_s: u64) -> Self {
        KeyCache {
            jwks_uri,
            algs,
            min_cache: Duration::from_secs(min_cache_s),
            refetch_min_interval: Duration::from_secs(refetch_min_interval_s),
            current: RwLock::new(Arc::new(Snapshot { set: None, expires_at: None })),
            fetch: Mutex::new(FetchState { last_attempt: None }),
        }
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn fetch_now(&self, http: &Http, req: RequestOptions, state: &mut FetchState) -> Result<Arc<KeySet>> {
        state.last_attempt = Some(Instant::now());
        let resp = http.get(&self.jwks_uri, "JWKS", &[], req)?;
        if resp.status != 200 {
            return Err(Error::http(format!(
                "JWKS at {} answered HTTP {} (expected 200)",
                resp.host, resp.status
            ))
            .with_detail("http_status", resp.status));
        }
        let doc: Value = serde_json::from_slice(&resp.body).map_err(|e| {
            Error::http(format!("JWKS from {} is not JSON ({}): {e}", resp.host, resp.describe_content_type()))
        })?;
        let set = Arc::new(KeySet::parse(doc, &self.algs)?);
        let ceiling = Duration::from_secs(crate::core::options::MAX_JWKS_CACHE_S);
        let lifetime = max_age(resp.cache_control.as_deref())
            .map(Duration::from_secs)
            .unwrap_or_default()
            .max(self.min_cache)
            .min(ceiling);
        log_at!(Level::Info, "fetched JWKS from {}: {} usable keys, cached for {} s", resp.host, set.keys.len(), lifetime.as_secs());
        let snap = Arc::new(Snapshot { set: Some(set.clone()), expires_at: Some(Instant::now() + lifetime) });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = snap;
        Ok(set)
    }

    /// The current key set, fetched if none is cached or it is stale. A failed
    /// refresh of a stale set keeps the last good keys in use.
    pub fn get(&self, http: &Http, policy: KeyPolicy) -> Result<Arc<KeySet>> {
        let snap = self.snapshot();
        let fresh = snap.expires_at.is_some_and(|t| Instant::now() < t);
        if let (Some(set), true) = (&snap.set, fresh || !policy.allow_fetch) {
            return Ok(set.clone());
        }
        if !policy.allow_fetch {
            return Err(Error::validation("no keys are cached and this call may not fetch them (cache_only)")
                .with_detail("reason", "no_keys_cached"));
        }
        let mut state = self.fetch.lock().unwrap_or_else(|e| e.into_inner());
        let snap = self.snapshot();
        if let (Some(set), true) = (&snap.set, snap.expires_at.is_some_and(|t| Instant::now() < t)) {
            return Ok(set.clone()); // another caller fetched while we waited
        }
        match self.fetch_now(http, policy.request, &mut state) {
            Ok(set) => Ok(set),
            Err(e) => match &snap.set {
                Some(old) => {
                    // Keep the last good keys, and do not try again before the
                    // refetch interval: during an outage every caller would
                    // otherwise wait for a timeout in turn.
                    let retry = self.refetch_min_interval;
                    log_at!(Level::Warn, "JWKS refresh failed, keeping the previous keys for {} s: {}", retry.as_secs(), e.message);
                    let snap = Arc::new(Snapshot { set: Some(old.clone()), expires_at: Some(Instant::now() + retry) });
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) = snap;
                    Ok(old.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Fetches now regardless of freshness (for an explicit refresh).
    pub fn refresh(&self, http: &Http, req: RequestOptions) -> Result<Arc<KeySet>> {
        let mut state = self.fetch.lock().unwrap_or_else(|e| e.into_inner());
        self.fetch_now(http, req, &mut state)
    }

    /// Verifies a token's signature, refetching once (rate-limited) when its
    /// `kid` is not in the cached set.
    pub fn verify(&self, http: &Http, jws: &Jws<'_>, policy: KeyPolicy) -> Result<()> {
        let set = self.get(http, policy)?;
        // A token without kid whose signature fits none of the cached keys may be
        // signed with a rotated key: it earns the same (rate-limited) refetch as an
        // unknown kid, and the first error stands if that does not help.
        let mut first_error = None;
        match set.verify(jws) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) if jws.kid.is_none() => first_error = Some(e),
            Err(e) => return Err(e),
        }
        let kid = jws.kid.as_deref();
        if policy.allow_fetch {
            let mut state = self.fetch.lock().unwrap_or_else(|e| e.into_inner());
            let latest = self.snapshot().set.clone();
            let retry_set = match latest {
                // Someone else fetched a set that knows this kid meanwhile.
                Some(l) if !Arc::ptr_eq(&l, &set) && kid.is_none_or(|k| l.has_kid(k)) => Some(l),
                _ => {
                    let allowed = state
                        .last_attempt
                        .is_none_or(|t| t.elapsed() >= self.refetch_min_interval);
                    if allowed {
                        log_at!(Level::Info, "unknown kid {:?}: refetching JWKS", kid);
                        match self.fetch_now(http, policy.request, &mut state) {
                            Ok(s) => Some(s),
                            Err(e) if e.kind == ErrorKind::Validation => return Err(e),
                            Err(e) => {
                                log_at!(Level::Warn, "JWKS refetch failed: {}", e.message);
                                None
                            }
                        }
                    } else {
                        log_at!(Level::Debug, "unknown kid {:?}: refetch suppressed (rate limit)", kid);
                        None
                    }
                }
            };
            drop(state);
            if let Some(s) = retry_set {
                match s.verify(jws) {
                    Ok(true) => return Ok(()),
                    Ok(false) => {}
                    Err(e) => return Err(first_error.unwrap_or(e)),
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        Err(Error::validation(match kid {
            Some(k) => format!("signature check failed: no key with kid {} and a type fitting alg {} in the provider's JWKS", q(k), jws.alg.name()),
            None => format!("signature check failed: the provider's JWKS has no key fitting alg {}", jws.alg.name()),
        })
        .with_detail("reason", "unknown_kid"))
    }
}
