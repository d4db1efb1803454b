//! DPoP at a resource server: checking the proof that comes with a DPoP-bound access
//! token (RFC 9449 §4.3 and §7.1), with a per-client replay cache of proof `jti`s (§11.1).
//!
//! Proof *creation* (the client side) lives elsewhere; this module only verifies. Every
//! failure is a validation error whose document carries a `reason` (`dpop_missing`,
//! `dpop_invalid`, `dpop_htm`, `dpop_htu`, `dpop_iat`, `dpop_ath`, `dpop_jkt`,
//! `dpop_replay`, `dpop_unexpected`, `dpop_nonce`), the RFC 6750 / RFC 9449 §7.1 `error`
//! code a server puts in its `WWW-Authenticate: DPoP` challenge, and `algs`, the proof
//! algorithms accepted (the challenge's `algs` parameter).
//!
//! Work is bounded: a proof longer than [`MAX_PROOF_BYTES`] is refused before it is
//! decoded, and the JSON of its header and payload goes through the strict parser.

use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::jose::{self, json_type, Alg};
use crate::core::keys::parse_jwk;
use crate::core::replay::JtiCache;
use serde_json::{Map, Value};

/// The longest proof accepted (bytes). A proof is a small header (with the public key:
/// an RSA-8192 `n` is about 1.4 KB of base64url) and a few claims; 1 MB of garbage is
/// refused here without being decoded.
pub(crate) const MAX_PROOF_BYTES: usize = 16 * 1024;
/// The longest `jti` accepted (bytes); the replay cache stores a hash of it anyway.
const MAX_JTI_BYTES: usize = 256;
/// `dpop_max_age_s` when the caller gives none.
pub(crate) const DEFAULT_MAX_AGE_S: u64 = 300;

/// The proof algorithms accepted (RFC 9449 §4.3 point 5: asymmetric only; `none` and the
/// HMAC family are refused). Advertised as the `algs` of the §7.1 challenge.
pub(crate) const PROOF_ALGS: [Alg; 9] = [
    Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::PS256, Alg::PS384, Alg::PS512, Alg::RS256, Alg::RS384, Alg::RS512,
];

/// `algs` as a space-separated list, as the `WWW-Authenticate: DPoP algs="..."` wants it.
pub fn proof_algs_string() -> String {
    PROOF_ALGS.iter().map(|a| a.name()).collect::<Vec<_>>().join(" ")
}

/// Members of a private (or symmetric) JWK: never in a proof's `jwk` (RFC 9449 §4.3
/// point 7; RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A DPoP failure: a validation error with its reason, the §7.1 error code and the
/// accepted algorithms.
pub(crate) fn fail(reason: &str, message: impl Into<String>) -> Error {
    let error = match reason {
        // No proof for a bound token, a proof for a bearer token: the token is the problem
        // (RFC 9449 §7.1 shows a bare challenge for a missing proof; RFC 6750 §3.1).
        "dpop_missing" | "dpop_unexpected" => "invalid_token",
        "dpop_nonce" => "use_dpop_nonce",
        _ => "invalid_dpop_proof",
    };
    Error::validation(format!("DPoP proof: {}", message.into()))
        .with_detail("reason", reason)
        .with_detail("error", error)
        .with_detail("algs", proof_algs_string())
}

/// What a resource server expects of proofs, as its caller gave it (checked arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Default: a token with `cnf.jkt` needs a valid proof; a proof with any other token
    /// is refused (`dpop_unexpected`).
    Default,
    /// Only DPoP-bound tokens, each with a valid proof.
    Required,
    /// As the default, but a proof presented with an unbound token is checked (everything
    /// except the key binding) and then accepted, instead of refused.
    Allowed,
}

impl Mode {
    pub fn parse(s: Option<&str>) -> Result<Mode> {
        match s {
            None => Ok(Mode::Default),
            Some("required") => Ok(Mode::Required),
            Some("allowed") => Ok(Mode::Allowed),
            Some(other) => Err(Error::invalid_argument(format!(
                "options_json: dpop must be \"required\" or \"allowed\", got {}",
                quote_untrusted(other)
            ))),
        }
    }
}

/// The request a proof must match, from the decode options (already checked).
#[derive(Debug)]
pub struct Request<'a> {
    /// The `DPoP` header value, untouched.
    pub proof: &'a str,
    /// The request's method, e.g. `GET` (compared exactly: methods are case-sensitive,
    /// RFC 9110 §9.1).
    pub method: &'a str,
    /// The request's URI, normalised by [`normalise_htu`].
    pub uri: String,
    /// How old a proof may be (seconds), before leeway; at most `replay_window_s`.
    pub max_age_s: u64,
    /// How long the client remembers a `jti` after the proof's `iat` (before leeway): the
    /// client's `dpop_replay_window_s`, the same for every call whatever its `max_age_s`,
    /// so that a call with a longer `dpop_max_age_s` cannot accept a proof that a call
    /// with a shorter one already accepted and forgot.
    pub replay_window_s: u64,
    pub leeway_s: u64,
    /// The nonce the server gave the client (RFC 9449 §9), when it wants one.
    pub nonce: Option<&'a str>,
}

/// RFC 9449 §4.3 point 9: the URI without query and fragment, after RFC 3986 syntax-based
/// (§6.2.2: case of scheme and host, percent-encoding case, unreserved characters decoded,
/// dot segments removed) and scheme-based (§6.2.3: default port dropped, empty path `/`)
/// normalisation. Only absolute `http`/`https` URIs without user information.
pub fn normalise_htu(uri: &str) -> std::result::Result<String, String> {
    // The WHATWG parser of the url crate lowercases scheme and host, drops the default
    // port and an empty one, removes dot segments and gives an empty path as "/".
    let u = url::Url::parse(uri).map_err(|e| format!("not an absolute URI ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("scheme {} is not http or https", quote_untrusted(u.scheme())));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("has user information".into());
    }
    let host = u.host_str().ok_or("has no host")?;
    let mut out = String::with_capacity(uri.len());
    out.push_str(u.scheme());
    out.push_str("://");
    out.push_str(host);
    if let Some(port) = u.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    normalise_percent(u.path(), &mut out);
    Ok(out)
}

/// RFC 3986 §6.2.2.1 and §6.2.2.2: `%xx` with upper-case hex digits, and the unreserved
/// characters (§2.3) decoded.
fn normalise_percent(path: &str, out: &mut String) {
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let v = (h * 16 + l) as u8;
                if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                    out.push(v as char);
                } else {
                    out.push('%');
                    out.push_str(&format!("{v:02X}"));
                }
                i += 3;
                continue;
            }
        }
        // The url crate's path is ASCII (it percent-encodes everything else).
        out.push(b[i] as char);
        i += 1;
    }
}

/// base64url(SHA-256(access token)): the `ath` claim (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    jose::b64_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

fn claim_str<'a>(c: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    match c.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(fail("dpop_invalid", format!("claim \"{name}\" is {}, expected a string", json_type(v)))),
        None => Err(fail("dpop_invalid", format!("required claim \"{name}\" is missing (RFC 9449 §4.2)"))),
    }
}

/// A proof header's key, checked (RFC 9449 §4.3 points 4, 5 and 7) and parsed.
pub(crate) struct ProofKey {
    alg: Alg,
    key: crate::core::keys::VerifyKey,
    /// RFC 7638 thumbprint of the `jwk`.
    thumbprint: String,
}

/// Decodes and checks a proof's header (its base64url text `h`): `typ`, no `crit`, an
/// accepted asymmetric `alg`, a public `jwk` fitting it. A deterministic function of `h`.
fn parse_header(h: &str) -> Result<ProofKey> {
    let header_bytes = jose::b64_decode(h, "header")
        .map_err(|_| fail("dpop_invalid", "header is not valid unpadded base64url"))?;
    let header = crate::core::json::parse_object(&header_bytes)
        .map_err(|e| fail("dpop_invalid", format!("header is not a JSON object: {e}")))?;
    // Point 4: typ.
    let typ = header.get("typ").and_then(Value::as_str);
    if !jose::typ_is(typ, "dpop+jwt") {
        return Err(fail(
            "dpop_invalid",
            format!("header typ {} is not dpop+jwt (RFC 9449 §4.2)", typ.map(quote_untrusted).unwrap_or_else(|| "(absent or not a string)".into())),
        ));
    }
    if let Some(crit) = header.get("crit") {
        return Err(fail("dpop_invalid", format!("header has \"crit\" {}, and no critical extension is understood", quote_untrusted(&crit.to_string()))));
    }
    // Point 5: an asymmetric algorithm from the allow-list.
    let alg_name = match header.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        Some(v) => return Err(fail("dpop_invalid", format!("header alg is {}, expected a string", json_type(v)))),
        None => return Err(fail("dpop_invalid", "header has no alg")),
    };
    let alg = match Alg::parse(alg_name) {
        Some(a) if PROOF_ALGS.contains(&a) => a,
        Some(a) if a.is_symmetric() => {
            return Err(fail("dpop_invalid", format!("alg {} is symmetric; proofs are signed with a private key (RFC 9449 §4.3)", a.name())))
        }
        _ => {
            return Err(fail(
                "dpop_invalid",
                format!("alg {} is not accepted (accepted: {})", quote_untrusted(alg_name), proof_algs_string()),
            ))
        }
    };
    // Point 7 (before the key is used): a public key.
    let jwk = match header.get("jwk") {
        Some(Value::Object(m)) => m,
        Some(v) => return Err(fail("dpop_invalid", format!("header jwk is {}, expected an object", json_type(v)))),
        None => return Err(fail("dpop_invalid", "header has no jwk (RFC 9449 §4.2)")),
    };
    if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(fail("dpop_invalid", format!("header jwk has the private member \"{m}\"; it must be a public key (RFC 9449 §4.3)")));
    }
    let key = match parse_jwk(jwk, &[alg]) {
        Ok(Some(k)) => k,
        Ok(None) => {
            return Err(fail("dpop_invalid", format!("header jwk is not a public key usable for alg {}", alg.name())))
        }
        Err(e) => return Err(fail("dpop_invalid", format!("header jwk: {e}"))),
    };
    let thumbprint = jose::jwk_thumbprint(jwk).map_err(|e| fail("dpop_invalid", e.message))?;
    Ok(ProofKey { alg, key, thumbprint })
}

/// How many distinct proof headers a client keeps parsed; when full it starts afresh.
const PROOF_KEY_CACHE_CAP: usize = 1024;
/// Longer headers are never kept (an RSA-4096 key's header is about 800 bytes).
const PROOF_KEY_CACHE_MAX_HEADER: usize = 2048;

/// Proof headers seen with a valid signature, parsed: a client sends the same header (typ,
/// alg, jwk) with every proof, so the header's JSON, the key's parsing and its thumbprint
/// are paid once per key; each proof's signature is still verified. Keyed by the header's
/// exact base64url text, so a hit is exactly the header that was checked. Bounded at
/// [`PROOF_KEY_CACHE_CAP`] entries (cleared when full: someone minting keys only makes
/// himself slower); per client, in memory.
#[derive(Default)]
pub struct ProofKeyCache {
    map: std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<ProofKey>>>,
}

impl ProofKeyCache {
    fn get(&self, h: &str) -> Option<std::sync::Arc<ProofKey>> {
        self.map.read().unwrap_or_else(|p| p.into_inner()).get(h).cloned()
    }

    fn insert(&self, h: &str, key: std::sync::Arc<ProofKey>) {
        if h.len() > PROOF_KEY_CACHE_MAX_HEADER {
            return;
        }
        let mut m = self.map.write().unwrap_or_else(|p| p.into_inner());
        if m.len() >= PROOF_KEY_CACHE_CAP {
            m.clear();
        }
        m.insert(h.to_owned(), key);
    }
}

/// Checks one proof against the request and the access token it came with (RFC 9449
/// §4.3 points 1 to 13, then the `jti` replay check of §11.1, last, so that a refused
/// proof never occupies the cache). `jkt`: the token's `cnf.jkt`, `None` for an unbound
/// token (only with `dpop: "allowed"`). Returns the proof key's thumbprint.
pub fn verify(
    req: &Request<'_>,
    access_token: &str,
    jkt: Option<&str>,
    cache: &JtiCache,
    keys: &ProofKeyCache,
    now: i64,
) -> Result<String> {
    // §4.3 point 1: one proof. HTTP joins repeated header fields with commas, and a compact
    // JWS has none, so a comma means several proofs.
    if req.proof.len() > MAX_PROOF_BYTES {
        return Err(fail(
            "dpop_invalid",
            format!("is {} bytes, more than the {MAX_PROOF_BYTES}-byte limit", req.proof.len()),
        ));
    }
    let proof = req.proof.trim_matches([' ', '\t']);
    if proof.contains(',') {
        return Err(fail("dpop_invalid", "several proofs (a comma in the DPoP header value); exactly one is allowed (RFC 9449 §4.3)"));
    }
    if proof.is_empty() {
        return Err(fail("dpop_invalid", "the DPoP header value is empty"));
    }
    // Point 2: a well-formed compact JWS.
    let mut parts = proof.splitn(4, '.');
    let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => (h, p, s),
        _ => return Err(fail("dpop_invalid", "not a compact JWS (three base64url parts)")),
    };
    let bad = |what: &str| fail("dpop_invalid", format!("{what} is not valid unpadded base64url"));
    let payload = jose::b64_decode(p, "payload").map_err(|_| bad("payload"))?;
    let claims = crate::core::json::parse_object(&payload)
        .map_err(|e| fail("dpop_invalid", format!("payload is not a JSON object: {e}")))?;
    let signature = jose::b64_decode(s, "signature").map_err(|_| bad("signature"))?;
    // Points 4, 5, 7: the header, parsed once per distinct header (see ProofKeyCache).
    let (key, cached) = match keys.get(h) {
        Some(k) => (k, true),
        None => (std::sync::Arc::new(parse_header(h)?), false),
    };
    // Point 6: the signature verifies with that key.
    if signature.is_empty() || !key.key.verify(key.alg, &proof.as_bytes()[..h.len() + 1 + p.len()], &signature) {
        return Err(fail("dpop_invalid", "the signature does not verify with the header jwk"));
    }
    if !cached {
        keys.insert(h, key.clone());
    }
    // Point 3: the required claims.
    let jti = claim_str(&claims, "jti")?;
    if jti.is_empty() || jti.len() > MAX_JTI_BYTES {
        return Err(fail("dpop_invalid", format!("jti must have 1 to {MAX_JTI_BYTES} bytes, found {}", jti.len())));
    }
    let htm = claim_str(&claims, "htm")?;
    let htu = claim_str(&claims, "htu")?;
    let iat = match claims.get("iat") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(v) => return Err(fail("dpop_invalid", format!("claim \"iat\" is {}, expected a number", json_type(v)))),
        None => return Err(fail("dpop_invalid", "required claim \"iat\" is missing (RFC 9449 §4.2)")),
    };
    // Point 8: htm.
    if htm != req.method {
        return Err(fail("dpop_htm", format!("htm {} is not the request method {}", quote_untrusted(htm), quote_untrusted(req.method))));
    }
    // Point 9: htu, both sides normalised.
    match normalise_htu(htu) {
        Ok(n) if n == req.uri => {}
        Ok(n) => {
            return Err(fail("dpop_htu", format!("htu {} is not the request URI {}", quote_untrusted(&n), quote_untrusted(&req.uri))))
        }
        Err(e) => return Err(fail("dpop_htu", format!("htu {}: {e}", quote_untrusted(htu)))),
    }
    // Point 10: the server's nonce, when it gave one.
    if let Some(expected) = req.nonce {
        match claims.get("nonce") {
            Some(Value::String(n)) if n == expected => {}
            Some(Value::String(_)) => return Err(fail("dpop_nonce", "nonce is not the one the server gave (RFC 9449 §9)")),
            Some(v) => return Err(fail("dpop_nonce", format!("claim \"nonce\" is {}, expected a string", json_type(v)))),
            None => return Err(fail("dpop_nonce", "the proof has no nonce and the server requires one (RFC 9449 §9)")),
        }
    }
    // Point 11: iat within [now - max_age - leeway, now + leeway] (§11.1 leaves the window
    // to the server; the future side allows only the clock leeway).
    let (max_age, leeway) = (req.max_age_s as i64, req.leeway_s as i64);
    if !iat.is_finite() {
        return Err(fail("dpop_iat", "iat is not a finite number"));
    }
    let iat = iat.floor().clamp(-1e15, 1e15) as i64;
    if iat > now + leeway {
        return Err(fail("dpop_iat", format!("iat {iat} is {} s in the future (leeway {leeway} s)", iat - now)));
    }
    if iat < now - max_age - leeway {
        return Err(fail("dpop_iat", format!("iat {iat} is {} s old, more than {max_age} s plus {leeway} s leeway", now - iat)));
    }
    // Point 12: ath, the hash of the access token presented with the proof.
    match claims.get("ath") {
        Some(Value::String(a)) if *a == access_token_hash(access_token) => {}
        Some(Value::String(_)) => return Err(fail("dpop_ath", "ath is not the hash of the access token presented")),
        Some(v) => return Err(fail("dpop_ath", format!("claim \"ath\" is {}, expected a string", json_type(v)))),
        None => return Err(fail("dpop_ath", "the proof has no ath, required with an access token (RFC 9449 §4.2)")),
    }
    // Point 13: the key is the one the token is bound to.
    let thumbprint = &key.thumbprint;
    if let Some(jkt) = jkt {
        if thumbprint != jkt {
            return Err(fail("dpop_jkt", format!("the proof key's thumbprint {} is not the token's cnf.jkt {}", quote_untrusted(thumbprint), quote_untrusted(jkt))));
        }
    }
    // §11.1: jti not seen within the proof's acceptance window (it is remembered until
    // the longest window any call on this client accepts has ended). Scoped by the key,
    // so one client's jti never blocks another's.
    let until = iat.saturating_add(req.replay_window_s as i64 + leeway + 1);
    if !cache.insert_new(thumbprint, jti, until, now) {
        return Err(fail("dpop_replay", format!("jti {} was already used with this key (a replayed proof)", quote_untrusted(jti))));
    }
    Ok(thumbprint.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_normalisation() {
        let n = |s: &str| normalise_htu(s).unwrap();
        assert_eq!(n("HTTPS://API.Example.COM:443/a/./b/../c?q=1#f"), "https://api.example.com/a/c");
        assert_eq!(n("http://h.example:80"), "http://h.example/");
        assert_eq!(n("http://h.example:8080/%7euser/%2fx%3a"), "http://h.example:8080/~user/%2Fx%3A");
        assert_ne!(n("http://h.example/a"), n("https://h.example/a"));
        assert_ne!(n("http://h.example/a"), n("http://h.example/a/"));
        assert!(normalise_htu("ftp://h.example/").is_err());
        assert!(normalise_htu("https://u:p@h.example/").is_err());
        assert!(normalise_htu("/relative").is_err());
        assert_eq!(n("https://h.example/%"), "https://h.example/%");
        assert_eq!(n("https://h.example/%4"), "https://h.example/%4");
    }

    #[test]
    fn thumbprint_rfc7638_example() {
        // RFC 7638 §3.1.
        let jwk: Map<String, Value> = serde_json::from_str(r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#).unwrap();
        assert_eq!(jose::jwk_thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
