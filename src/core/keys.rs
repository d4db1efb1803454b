//! The provider's signing keys. Each JWK is parsed once, when the key set is
//! cached, into ready-to-use verification keys (one per algorithm it may
//! verify), so that the token path only looks a key up and checks a signature.
//!
//! The cache is an `Arc` snapshot behind an `RwLock` that readers hold only
//! long enough to clone the `Arc`. Fetches are coordinated separately: one in
//! flight at a time, joined by every caller who needs keys meanwhile (each
//! waiting no longer than its own deadline, and receiving that fetch's outcome,
//! success or failure); a failure is remembered and retried with back-off, so a
//! dead provider sees a bounded number of requests however many callers there
//! are. No lock is held while fetching or logging.

use crate::core::error::{quote_untrusted, Error, ErrorKind, Result};
use crate::core::http::{Http, RequestOptions};
use crate::core::jose::{json_type, Alg, Jws, KeyFamily};
use crate::core::log::Level;
use crate::log_at;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use serde_json::{Map, Value};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

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
    /// SHA-256 over the JWK's `kty`, `kid`, `alg` and key members: what the verified-token
    /// cache records as the key that verified a token (see `verified_cache.rs`).
    pub fingerprint: crate::core::verified_cache::KeyFingerprint,
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

pub(crate) type JwkResult<T> = std::result::Result<T, String>;
/// One JWK's public key, parsed once for each algorithm it may verify.
type ParsedKeys = Vec<(Alg, ParsedPublicKey)>;

/// Parses one JWK. `Ok(None)`: a key that is not for signatures (use `enc`,
/// symmetric, or an algorithm soidc does not use); `Err`: a broken key.
pub(crate) fn parse_jwk(jwk: &Map<String, Value>, algs: &[Alg]) -> JwkResult<Option<VerifyKey>> {
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
    // The algorithms this key may verify: those allowed, of its family, and its own alg if it names one.
    let wanted = |family: KeyFamily| -> Vec<Alg> {
        algs.iter()
            .copied()
            .filter(|a| a.family() == family && jwk_alg.is_none_or(|j| j == *a))
            .collect()
    };
    let parsed = match kty {
        "RSA" => Some((KeyFamily::Rsa, parse_rsa(jwk, &wanted(KeyFamily::Rsa))?)),
        "EC" => parse_ec(jwk, &wanted)?,
        "OKP" => parse_okp(jwk, &wanted(KeyFamily::Ed25519))?.map(|p| (KeyFamily::Ed25519, p)),
        _ => None, // "oct" and unknown types never verify provider signatures
    };
    Ok(match parsed {
        Some((family, parsed)) if !parsed.is_empty() => {
            let fingerprint = fingerprint(jwk)?;
            Some(VerifyKey { kid, family, alg: jwk_alg, fingerprint, parsed })
        }
        _ => None,
    })
}

/// The members that make a JWK's identity, each length-prefixed (absent and empty differ).
fn fingerprint(jwk: &Map<String, Value>) -> JwkResult<crate::core::verified_cache::KeyFingerprint> {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for name in ["kty", "kid", "alg", "crv", "n", "e", "x", "y"] {
        match member(jwk, name)? {
            None => ctx.update(&[0]),
            Some(v) => {
                ctx.update(&[1]);
                ctx.update(&(v.len() as u64).to_be_bytes());
                ctx.update(v.as_bytes());
            }
        }
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

/// RFC 7518 §6.3.1: `n` and `e`.
fn parse_rsa(jwk: &Map<String, Value>, algs: &[Alg]) -> JwkResult<ParsedKeys> {
    let n = b64_member(jwk, "n")?;
    let e = b64_member(jwk, "e")?;
    let comps = RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() };
    algs.iter()
        .map(|&alg| {
            let params = rsa_params(alg).expect("RSA family");
            comps
                .to_parsed_public_key(params)
                .map(|k| (alg, k))
                .map_err(|e| format!("invalid RSA key: {e}"))
        })
        .collect()
}

/// RFC 7518 §6.2.1: `crv` (P-256 or P-384; others are not used), `x`, `y`.
fn parse_ec(
    jwk: &Map<String, Value>,
    wanted: &dyn Fn(KeyFamily) -> Vec<Alg>,
) -> JwkResult<Option<(KeyFamily, ParsedKeys)>> {
    let crv = member(jwk, "crv")?.ok_or("member \"crv\" is missing")?;
    let (family, verify_alg, len): (_, &'static signature::EcdsaVerificationAlgorithm, usize) = match crv {
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
    let parsed = wanted(family)
        .into_iter()
        .map(|alg| {
            ParsedPublicKey::new(verify_alg, &point)
                .map(|k| (alg, k))
                .map_err(|e| format!("invalid EC key: {e}"))
        })
        .collect::<JwkResult<Vec<_>>>()?;
    Ok(Some((family, parsed)))
}

/// RFC 8037 §2: `crv` Ed25519 (others are not used), `x`.
fn parse_okp(jwk: &Map<String, Value>, algs: &[Alg]) -> JwkResult<Option<ParsedKeys>> {
    if member(jwk, "crv")? != Some("Ed25519") {
        return Ok(None);
    }
    let x = b64_member(jwk, "x")?;
    if x.len() != 32 {
        return Err("Ed25519 key must be 32 bytes".into());
    }
    algs.iter()
        .map(|&alg| {
            ParsedPublicKey::new(&signature::ED25519, &x)
                .map(|k| (alg, k))
                .map_err(|e| format!("invalid Ed25519 key: {e}"))
        })
        .collect::<JwkResult<Vec<_>>>()
        .map(Some)
}

/// A fetched and parsed key set.
pub struct KeySet {
    pub keys: Vec<VerifyKey>,
    /// The document as the provider sent it.
    pub document: Value,
    /// Unique among the sets this process parsed (a set never changes once parsed): the
    /// verified-token cache binds a cached signature failure to it.
    pub id: u64,
}

/// The next `KeySet::id`.
static NEXT_SET_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

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
        let id = NEXT_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(KeySet { keys, document, id })
    }

    fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Whether this set holds the key with this fingerprint.
    pub fn holds(&self, fingerprint: &crate::core::verified_cache::KeyFingerprint) -> bool {
        self.keys.iter().any(|k| k.fingerprint == *fingerprint)
    }

    /// Verifies the token's signature with a fitting key of this set; `Ok(Some(key))`:
    /// the key that verified it. `Ok(None)`: no key with the token's `kid` (the caller
    /// may refetch).
    fn verify(&self, jws: &Jws<'_>) -> Result<Option<&VerifyKey>> {
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
                return Ok(Some(key));
            }
        }
        if tried > 0 {
            return Err(Error::validation(match &jws.kid {
                Some(kid) => format!("signature check failed: the {} signature does not verify with key {}", jws.alg.name(), quote_untrusted(kid)),
                None => format!("signature check failed: the {} signature verifies with none of the {tried} candidate keys (token has no kid)", jws.alg.name()),
            })
            .with_detail("reason", "signature"));
        }
        if let Some(key) = kid_seen_wrong_type {
            return Err(Error::validation(format!(
                "signature check failed: key {} is {:?}{} and cannot verify alg {}",
                quote_untrusted(key.kid.as_deref().unwrap_or("")),
                key.family,
                key.alg.map(|a| format!(" (alg {})", a.name())).unwrap_or_default(),
                jws.alg.name()
            ))
            .with_detail("reason", "signature"));
        }
        Ok(None)
    }
}

struct Snapshot {
    set: Option<Arc<KeySet>>,
    expires_at: Option<Instant>,
    /// Wall-clock times of the set, for export (Instants do not survive processes):
    /// when it was fetched, and until when it counts as fresh (unaffected by back-off).
    fetched_wall: Option<SystemTime>,
    expires_wall: Option<SystemTime>,
}

/// A cached key set with its wall-clock times, as exported in a state document.
pub struct KeysExport {
    pub set: Arc<KeySet>,
    pub fetched_at: SystemTime,
    pub expires_at: SystemTime,
}

/// Called after every successful fetch (outside every lock): the file cache writes the new keys back.
pub type OnFetch = Box<dyn Fn(&KeysExport) + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

/// The fetch coordination of one key cache: at most one fetch in flight; every
/// caller that arrives meanwhile waits (within its own deadline) and receives
/// that fetch's outcome; a failure is remembered and retried with back-off.
struct FetchState {
    in_flight: bool,
    /// Incremented whenever a fetch completes.
    generation: u64,
    /// The outcome of the latest completed fetch.
    last_outcome: Option<Result<Arc<KeySet>>>,
    /// When the latest fetch started (the unknown-kid rate limit).
    last_attempt: Option<Instant>,
    /// Consecutive failures, and when the next fetch may start after them.
    failures: u32,
    retry_at: Option<Instant>,
}

/// Why a fetch is wanted, which decides what may hold it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Nothing cached, or the cached set is stale: held back by the failure back-off.
    Stale,
    /// A token names a kid the cached set lacks: held back by the back-off and by
    /// `jwks_refetch_min_interval_s` since the last attempt.
    UnknownKid,
    /// The host asked (`force_refresh`): only joins a fetch already in flight.
    Forced,
}

pub struct KeyCache {
    jwks_uri: String,
    algs: Vec<Alg>,
    min_cache: Duration,
    refetch_min_interval: Duration,
    current: RwLock<Arc<Snapshot>>,
    fetch: Mutex<FetchState>,
    fetch_done: Condvar,
    on_fetch: OnceLock<OnFetch>,
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

/// The first retry after a failed fetch waits this long; each further failure
/// doubles it, up to `jwks_refetch_min_interval_s`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Ends an in-flight fetch even if the fetching thread unwinds, so that waiters
/// are never left waiting for a fetch that will not complete.
struct InFlight<'a> {
    cache: &'a KeyCache,
    outcome: Option<Result<Arc<KeySet>>>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let outcome = self
            .outcome
            .take()
            .unwrap_or_else(|| Err(Error::internal("the JWKS fetch was interrupted")));
        let mut st = self.cache.fetch.lock().unwrap_or_else(|e| e.into_inner());
        st.in_flight = false;
        st.generation = st.generation.wrapping_add(1);
        match &outcome {
            Ok(_) => {
                st.failures = 0;
                st.retry_at = None;
            }
            Err(_) => {
                st.failures = st.failures.saturating_add(1);
                let doubling = FIRST_BACKOFF.saturating_mul(1u32 << (st.failures - 1).min(16));
                let delay = doubling.min(self.cache.refetch_min_interval);
                let retry_at = Instant::now() + delay;
                st.retry_at = Some(retry_at);
                // Stale keys stay in use until the back-off ends, without every
                // caller asking again meanwhile.
                let mut cur = self.cache.current.write().unwrap_or_else(|e| e.into_inner());
                if let Some(set) = cur.set.clone() {
                    *cur = Arc::new(Snapshot {
                        set: Some(set),
                        expires_at: Some(retry_at),
                        fetched_wall: cur.fetched_wall,
                        expires_wall: cur.expires_wall,
                    });
                }
            }
        }
        st.last_outcome = Some(outcome);
        drop(st);
        self.cache.fetch_done.notify_all();
    }
}

impl KeyCache {
    pub fn new(jwks_uri: String, algs: Vec<Alg>, min_cache_s: u64, refetch_min_interval_s: u64) -> Self {
        KeyCache {
            jwks_uri,
            algs,
            min_cache: Duration::from_secs(min_cache_s),
            refetch_min_interval: Duration::from_secs(refetch_min_interval_s),
            current: RwLock::new(Arc::new(Snapshot { set: None, expires_at: None, fetched_wall: None, expires_wall: None })),
            fetch: Mutex::new(FetchState {
                in_flight: false,
                generation: 0,
                last_outcome: None,
                last_attempt: None,
                failures: 0,
                retry_at: None,
            }),
            fetch_done: Condvar::new(),
            on_fetch: OnceLock::new(),
        }
    }

    /// The algorithms keys are parsed for.
    pub fn algs(&self) -> &[Alg] {
        &self.algs
    }

    /// Installs the hook run after every successful fetch (once; later calls are ignored).
    pub fn set_on_fetch(&self, f: OnFetch) {
        let _ = self.on_fetch.set(f);
    }

    /// The cached set with its wall-clock times (`None`: nothing cached yet).
    pub fn export(&self) -> Option<KeysExport> {
        let snap = self.snapshot();
        Some(KeysExport { set: snap.set.clone()?, fetched_at: snap.fetched_wall?, expires_at: snap.expires_wall? })
    }

    /// Installs a key set obtained elsewhere (an imported state, keys the host fetched):
    /// fresh until `expires_at` (wall clock), then refreshed on first use like a fetched
    /// set. The fetch coordination (one in flight, back-off) is left as it is: a fetch
    /// in flight may still replace this set when it completes.
    pub fn install(&self, set: Arc<KeySet>, fetched_at: SystemTime, expires_at: SystemTime) {
        let left = expires_at.duration_since(SystemTime::now()).unwrap_or_default();
        let snap = Arc::new(Snapshot {
            set: Some(set),
            expires_at: Some(Instant::now() + left),
            fetched_wall: Some(fetched_at),
            expires_wall: Some(expires_at),
        });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = snap;
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// One HTTP fetch and parse; stores the new set. Runs with no lock held.
    fn fetch_now(&self, http: &Http, req: RequestOptions) -> Result<Arc<KeySet>> {
        let resp = http.get(&self.jwks_uri, "JWKS", &[], req)?;
        if resp.status != 200 {
            return Err(Error::http(format!(
                "JWKS at {} answered HTTP {} (expected 200)",
                resp.host, resp.status
            ))
            .with_detail("http_status", resp.status));
        }
        let doc: Value = crate::core::json::parse_slice(&resp.body).map_err(|e| {
            Error::http(format!("JWKS from {} is not JSON ({}): {e}", resp.host, resp.describe_content_type()))
        })?;
        let set = Arc::new(KeySet::parse(doc, &self.algs)?);
        let ceiling = Duration::from_secs(crate::core::options::MAX_JWKS_CACHE_S);
        let lifetime = max_age(resp.cache_control.as_deref())
            .map(Duration::from_secs)
            .unwrap_or_default()
            .max(self.min_cache)
            .min(ceiling);
        let wall = SystemTime::now();
        let snap = Arc::new(Snapshot {
            set: Some(set.clone()),
            expires_at: Some(Instant::now() + lifetime),
            fetched_wall: Some(wall),
            expires_wall: Some(wall + lifetime),
        });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = snap;
        log_at!(Level::Info, "fetched JWKS from {}: {} usable keys, cached for {} s", resp.host, set.keys.len(), lifetime.as_secs());
        if let Some(hook) = self.on_fetch.get() {
            hook(&KeysExport { set: set.clone(), fetched_at: wall, expires_at: wall + lifetime });
        }
        Ok(set)
    }

    /// Fetches, or joins the fetch already in flight, within the caller's deadline.
    /// `Ok(None)`: held back (an unknown-kid refetch inside the rate limit).
    fn fetch_shared(&self, http: &Http, req: RequestOptions, trigger: Trigger) -> Result<Option<Arc<KeySet>>> {
        let mut st = self.fetch.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if st.in_flight {
                let generation = st.generation;
                while st.in_flight && st.generation == generation {
                    let left = req.remaining();
                    if left.is_zero() {
                        return Err(req.expired("waiting for the JWKS fetch another caller started"));
                    }
                    st = self.fetch_done.wait_timeout(st, left).unwrap_or_else(|e| e.into_inner()).0;
                }
                if st.generation != generation {
                    // That fetch's outcome is this caller's too.
                    return st.last_outcome.clone().map(|o| o.map(Some)).unwrap_or(Ok(None));
                }
                continue;
            }
            let now = Instant::now();
            if trigger != Trigger::Forced {
                if let Some(retry_at) = st.retry_at.filter(|t| now < *t) {
                    let wait_ms = retry_at.duration_since(now).as_millis();
                    return match (&st.last_outcome, trigger) {
                        (_, Trigger::UnknownKid) => Ok(None),
                        (Some(Err(e)), _) => {
                            let mut e = e.clone();
                            e.message = format!(
                                "{} (that JWKS fetch failed {} time(s) in a row; the next attempt is allowed in {wait_ms} ms)",
                                e.message, st.failures
                            );
                            Err(e)
                        }
                        _ => Ok(None),
                    };
                }
                if trigger == Trigger::UnknownKid
                    && st.last_attempt.is_some_and(|t| now.duration_since(t) < self.refetch_min_interval)
                {
                    return Ok(None);
                }
            }
            if req.remaining().is_zero() {
                return Err(req.expired("JWKS fetch"));
            }
            st.in_flight = true;
            st.last_attempt = Some(now);
            break;
        }
        drop(st);
        // Messages of the fetch are delivered after it has ended: a log callback
        // that calls soidc must not find this thread's own fetch still in flight.
        let outcome = crate::core::log::deferred(|| {
            let mut flight = InFlight { cache: self, outcome: None };
            let outcome = self.fetch_now(http, req);
            flight.outcome = Some(outcome.clone());
            drop(flight);
            outcome
        });
        outcome.map(Some)
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
        match self.fetch_shared(http, policy.request, Trigger::Stale) {
            Ok(Some(set)) => Ok(set),
            Ok(None) | Err(_) if snap.set.is_some() => {
                // Keep the last good keys (the back-off keeps them in use without
                // every caller asking again).
                let latest = self.snapshot();
                let set = latest.set.clone().or_else(|| snap.set.clone()).expect("checked above");
                log_at!(Level::Warn, "JWKS refresh failed; the previous keys stay in use");
                Ok(set)
            }
            Ok(None) => Err(Error::network("no JWKS could be fetched yet")),
            Err(e) => Err(e),
        }
    }

    /// Fetches now regardless of freshness and back-off (for an explicit refresh);
    /// joins a fetch already in flight.
    pub fn refresh(&self, http: &Http, req: RequestOptions) -> Result<Arc<KeySet>> {
        match self.fetch_shared(http, req, Trigger::Forced)? {
            Some(set) => Ok(set),
            None => Err(Error::network("the JWKS fetch did not complete")),
        }
    }

    /// Verifies a token's signature, refetching once (rate-limited) when its
    /// `kid` is not in the cached set. Returns the fingerprint of the key that verified it.
    pub fn verify(&self, http: &Http, jws: &Jws<'_>, policy: KeyPolicy) -> Result<crate::core::verified_cache::KeyFingerprint> {
        self.verify_tracked(http, jws, policy).map_err(|(e, _)| e)
    }

    /// [`KeyCache::verify`], and with an error the `KeySet::id` of the set the token's
    /// signature failed against when that failure is final for that set: the token names
    /// a kid the set holds, and its signature does not verify with it (or the key cannot
    /// verify its alg), reason "signature", no refetch made or due. `None` for every
    /// other error (unknown kid, no kid, network, no keys).
    pub fn verify_tracked(
        &self,
        http: &Http,
        jws: &Jws<'_>,
        policy: KeyPolicy,
    ) -> std::result::Result<crate::core::verified_cache::KeyFingerprint, (Error, Option<u64>)> {
        let set = self.get(http, policy).map_err(|e| (e, None))?;
        // A token without kid whose signature fits none of the cached keys may be
        // signed with a rotated key: it earns the same (rate-limited) refetch as an
        // unknown kid, and the first error stands if that does not help.
        let mut first_error = None;
        match set.verify(jws) {
            Ok(Some(key)) => return Ok(key.fingerprint),
            Ok(None) => {}
            Err(e) if jws.kid.is_none() => first_error = Some(e),
            Err(e) => {
                let final_for_set = e.details.get("reason").and_then(Value::as_str) == Some("signature");
                return Err((e, final_for_set.then_some(set.id)));
            }
        }
        let kid = jws.kid.as_deref();
        if policy.allow_fetch {
            let latest = self.snapshot().set.clone();
            let retry_set = match latest {
                // Someone else fetched a set that knows this kid meanwhile.
                Some(l) if !Arc::ptr_eq(&l, &set) && kid.is_none_or(|k| l.has_kid(k)) => Some(l),
                _ => match self.fetch_shared(http, policy.request, Trigger::UnknownKid) {
                    Ok(Some(s)) => {
                        log_at!(Level::Info, "unknown kid {}: JWKS refetched", kid.map(quote_untrusted).unwrap_or_else(|| "(none)".into()));
                        Some(s)
                    }
                    Ok(None) => {
                        log_at!(Level::Debug, "unknown kid {}: refetch suppressed (rate limit or back-off)", kid.map(quote_untrusted).unwrap_or_else(|| "(none)".into()));
                        None
                    }
                    Err(e) if e.kind == ErrorKind::Validation => return Err((e, None)),
                    Err(e) => {
                        log_at!(Level::Warn, "JWKS refetch failed: {}", e.message);
                        None
                    }
                },
            };
            if let Some(s) = retry_set {
                match s.verify(jws) {
                    Ok(Some(key)) => return Ok(key.fingerprint),
                    Ok(None) => {}
                    Err(e) => return Err((first_error.unwrap_or(e), None)),
                }
            }
        }
        if let Some(e) = first_error {
            return Err((e, None));
        }
        Err((Error::validation(match kid {
            Some(k) => format!("signature check failed: no key with kid {} and a type fitting alg {} in the provider's JWKS", quote_untrusted(k), jws.alg.name()),
            None => format!("signature check failed: the provider's JWKS has no key fitting alg {}", jws.alg.name()),
        })
        .with_detail("reason", "unknown_kid"), None))
    }
}
