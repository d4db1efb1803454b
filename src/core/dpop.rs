//! DPoP, client side (RFC 9449): the client's proof-of-possession key, the proof JWTs
//! it signs (§4.2), and the nonces servers hand out (§8, §9), remembered per origin.
//!
//! Proof *verification* (a resource server checking a proof) lives elsewhere
//! (`access_token.rs`); nothing here trusts a proof it did not make.
//!
//! Key material: the key pairs are AWS-LC objects (aws-lc-rs); AWS-LC wipes a key's
//! memory when it frees it (`OPENSSL_free` cleanses). The PEM text and the DER decoded
//! from it are held in `Zeroizing` buffers and wiped once the key is parsed.

use crate::core::error::{quote_untrusted, Error, Result};
use crate::core::jose::{b64_encode, jwk_thumbprint};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use url::Url;
use zeroize::Zeroizing;

/// RFC 9449 §4.2: the `typ` of a DPoP proof.
pub const PROOF_TYP: &str = "dpop+jwt";
/// The largest PEM accepted for `dpop_key_pem` (an RSA-4096 key is about 3.3 KB).
pub(crate) const MAX_KEY_PEM_BYTES: usize = 64 * 1024;
/// The longest server nonce remembered (RFC 9449 §8.1 sets no bound; real ones are short).
const MAX_NONCE_BYTES: usize = 1024;
/// How many origins' nonces one client remembers (§8, §9: a nonce per server).
const MAX_NONCE_ORIGINS: usize = 64;
/// The longest HTTP method and URL `soidc_dpop_proof` takes.
const MAX_METHOD_BYTES: usize = 32;
const MAX_URL_BYTES: usize = 8 * 1024;

/// The proof signing algorithms soidc offers (RFC 9449 §4.2: an asymmetric JWS `alg`).
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopAlg {
    ES256,
    EdDSA,
    PS256,
    RS256,
}

impl DpopAlg {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ES256" => DpopAlg::ES256,
            "EdDSA" => DpopAlg::EdDSA,
            "PS256" => DpopAlg::PS256,
            "RS256" => DpopAlg::RS256,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DpopAlg::ES256 => "ES256",
            DpopAlg::EdDSA => "EdDSA",
            DpopAlg::PS256 => "PS256",
            DpopAlg::RS256 => "RS256",
        }
    }
}

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A client's DPoP key: the private key, its algorithm, its public JWK and thumbprint.
pub struct DpopKey {
    alg: DpopAlg,
    pair: Pair,
    /// The public JWK (never a private member).
    jwk: Map<String, Value>,
    /// RFC 7638 SHA-256 thumbprint of `jwk` (the `jkt` of RFC 9449 §6.1).
    jkt: String,
    /// BASE64URL of the protected header, the same for every proof of this key.
    header_b64: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DpopKey({}, jkt {})", self.alg.name(), self.jkt)
    }
}

fn rejected(what: &str) -> Error {
    Error::invalid_argument(format!("{what}: the key could not be used"))
}

impl DpopKey {
    /// A fresh key from the system CSPRNG (RSA keys: 2048 bits).
    pub fn generate(alg: DpopAlg) -> Result<Self> {
        let fail = |_| Error::internal(format!("could not generate a DPoP key for {}", alg.name()));
        let pair = match alg {
            DpopAlg::ES256 => Pair::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).map_err(fail)?),
            DpopAlg::EdDSA => Pair::Ed(Ed25519KeyPair::generate().map_err(fail)?),
            DpopAlg::PS256 | DpopAlg::RS256 => {
                Pair::Rsa(RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(fail)?)
            }
        };
        Self::new(alg, pair)
    }

    /// A key from a PEM private key: PKCS#8 (`PRIVATE KEY`: P-256, Ed25519 or RSA), SEC1
    /// (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`). `wanted`: the algorithm the
    /// `dpop` option names, which the key must fit; `None` picks it from the key
    /// (P-256: ES256, Ed25519: EdDSA, RSA: `rsa_default`). `what` names the option.
    pub fn from_pem(pem: &str, wanted: Option<DpopAlg>, rsa_default: DpopAlg, what: &str) -> Result<Self> {
        if pem.len() > MAX_KEY_PEM_BYTES {
            return Err(Error::invalid_argument(format!(
                "{what} is {} bytes, more than the {MAX_KEY_PEM_BYTES}-byte limit of a PEM private key",
                pem.len()
            )));
        }
        let (label, der) = pem_block(pem).ok_or_else(|| {
            Error::invalid_argument(format!("{what} is not a PEM private key (no -----BEGIN ...----- block with base64 content)"))
        })?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => {
                if let Ok(k) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
                    Pair::Ec(k)
                } else if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
                    Pair::Ed(k)
                } else if let Ok(k) = RsaKeyPair::from_pkcs8(&der) {
                    Pair::Rsa(k)
                } else {
                    return Err(Error::invalid_argument(format!(
                        "{what}: the PKCS#8 key is not a P-256, Ed25519 or RSA (2048 bits or more) private key"
                    )));
                }
            }
            "EC PRIVATE KEY" => Pair::Ec(
                EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|_| Error::invalid_argument(format!("{what}: the EC key is not a P-256 private key")))?,
            ),
            "RSA PRIVATE KEY" => Pair::Rsa(RsaKeyPair::from_der(&der).map_err(|_| rejected(what))?),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(Error::invalid_argument(format!(
                    "{what}: an encrypted private key is not supported; give the key unencrypted (and protect the file with its mode)"
                )))
            }
            other => {
                return Err(Error::invalid_argument(format!(
                    "{what}: a PEM block {} is not a private key (expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)",
                    quote_untrusted(other)
                )))
            }
        };
        let from_key = match &pair {
            Pair::Ec(_) => DpopAlg::ES256,
            Pair::Ed(_) => DpopAlg::EdDSA,
            Pair::Rsa(_) => wanted.filter(|w| matches!(w, DpopAlg::PS256 | DpopAlg::RS256)).unwrap_or(rsa_default),
        };
        if let Some(w) = wanted {
            if w != from_key {
                return Err(Error::invalid_argument(format!(
                    "{what}: the key signs {}, but the option dpop asks for {}",
                    match &pair {
                        Pair::Ec(_) => "ES256 (a P-256 key)",
                        Pair::Ed(_) => "EdDSA (an Ed25519 key)",
                        Pair::Rsa(_) => "RS256 or PS256 (an RSA key)",
                    },
                    w.name()
                )));
            }
        }
        Self::new(from_key, pair)
    }

    fn new(alg: DpopAlg, pair: Pair) -> Result<Self> {
        let jwk = match &pair {
            Pair::Ec(k) => {
                // The uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
                let point = k.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(Error::internal("unexpected P-256 public key encoding"));
                }
                json!({"kty": "EC", "crv": "P-256", "x": b64_encode(&point[1..33]), "y": b64_encode(&point[33..])})
            }
            Pair::Ed(k) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64_encode(k.public_key().as_ref())}),
            Pair::Rsa(k) => {
                let public = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64_encode(public.modulus().big_endian_without_leading_zero()),
                    "e": b64_encode(public.exponent().big_endian_without_leading_zero()),
                })
            }
        };
        let Value::Object(jwk) = jwk else { unreachable!("json! object") };
        let jkt = jwk_thumbprint(&jwk)?;
        // RFC 9449 §4.2: typ, alg, and jwk (the public key, no private member).
        let header = json!({"typ": PROOF_TYP, "alg": alg.name(), "jwk": Value::Object(jwk.clone())});
        let header_b64 = b64_encode(header.to_string().as_bytes());
        Ok(DpopKey { alg, pair, jwk, jkt, header_b64 })
    }

    pub fn alg(&self) -> DpopAlg {
        self.alg
    }

    /// The public JWK.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The RFC 7638 thumbprint (`jkt`).
    pub fn thumbprint(&self) -> &str {
        &self.jkt
    }

    /// A DPoP proof JWT (RFC 9449 §4.2) for one request: `jti` (192 random bits, §4.2 asks
    /// for at least 96), `htm`, `htu` (the URL without query and fragment), `iat`, `nonce`
    /// when the server gave one (§8, §9), `ath` when an access token is presented (§7.1).
    pub fn proof(&self, htm: &str, url: &Url, nonce: Option<&str>, access_token: Option<&str>) -> Result<String> {
        let mut claims = Map::new();
        claims.insert("jti".into(), Value::String(crate::core::auth::random_jti()));
        claims.insert("htm".into(), Value::String(htm.to_owned()));
        claims.insert("htu".into(), Value::String(htu(url)));
        claims.insert("iat".into(), Value::from(crate::core::claims::now()));
        if let Some(n) = nonce {
            claims.insert("nonce".into(), Value::String(n.to_owned()));
        }
        if let Some(at) = access_token {
            claims.insert("ath".into(), Value::String(ath(at)));
        }
        let payload = b64_encode(Value::Object(claims).to_string().as_bytes());
        let signing_input = format!("{}.{payload}", self.header_b64);
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64_encode(&signature)))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let fail = |_| Error::internal(format!("could not sign the DPoP proof with {}", self.alg.name()));
        let rng = SystemRandom::new();
        Ok(match &self.pair {
            // ECDSA_P256_SHA256_FIXED: R || S, the JWS encoding (RFC 7518 §3.4).
            Pair::Ec(k) => k.sign(&rng, message).map_err(fail)?.as_ref().to_vec(),
            Pair::Ed(k) => k.sign(message).as_ref().to_vec(),
            Pair::Rsa(k) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    DpopAlg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0u8; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut out).map_err(fail)?;
                out
            }
        })
    }
}

/// The first PEM block of `text`: its label and its decoded content (wiped on drop).
fn pem_block(text: &str) -> Option<(String, Zeroizing<Vec<u8>>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = &rest[..label_end];
    if label.is_empty() || label.len() > 64 || !label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') {
        return None;
    }
    let body = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body.find(&end_marker)?;
    let b64: Zeroizing<String> = Zeroizing::new(body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect());
    use base64::Engine;
    let der = Zeroizing::new(base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()).ok()?);
    if der.is_empty() {
        return None;
    }
    Some((label.to_owned(), der))
}

/// RFC 9449 §4.2 `htu`: the target URI without query and fragment.
pub fn htu(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the ASCII access token.
pub fn ath(access_token: &str) -> String {
    b64_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes()).as_ref())
}

/// RFC 9449 §8.1: `nonce = 1*NQCHAR` (%x21 / %x23-5B / %x5D-7E), and not absurdly long.
pub fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.len() <= MAX_NONCE_BYTES && n.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// The origin a nonce belongs to: scheme, host and port (§8: the authorization server's;
/// §9: each resource server's).
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The nonces servers gave this client, per origin (RFC 9449 §8.2, §9): bounded, and
/// safe to use from many threads. A full table forgets one origin to make room.
#[derive(Default)]
pub struct NonceStore(Mutex<HashMap<String, String>>);

impl NonceStore {
    pub fn get(&self, origin: &str) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(origin).cloned()
    }

    /// Remembers `nonce` for `origin` if it is a valid nonce (§8.1); returns whether it was.
    pub fn put(&self, origin: &str, nonce: &str) -> bool {
        if !valid_nonce(nonce) {
            return false;
        }
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_NONCE_ORIGINS && !map.contains_key(origin) {
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        map.insert(origin.to_owned(), nonce.to_owned());
        true
    }
}

/// An HTTP method for a proof's `htm`: an RFC 9110 token, upper-case letters for the
/// standard ones; at most 32 bytes.
pub fn check_method(method: &str) -> Result<()> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if method.is_empty() || method.len() > MAX_METHOD_BYTES || !method.bytes().all(tchar) {
        return Err(Error::invalid_argument(format!(
            "method must be an HTTP method (1 to {MAX_METHOD_BYTES} token characters, such as GET or POST)"
        )));
    }
    Ok(())
}

/// The URL of a proof: absolute, http or https, with a host, at most 8 KiB.
pub fn check_proof_url(raw: &str) -> Result<Url> {
    if raw.len() > MAX_URL_BYTES {
        return Err(Error::invalid_argument(format!("url is {} bytes, more than the {MAX_URL_BYTES}-byte limit", raw.len())));
    }
    let url = Url::parse(raw).map_err(|e| Error::invalid_argument(format!("url is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::invalid_argument("url must be an http or https URL with a host"));
    }
    Ok(url)
}

/// Whether a response asks for a (new) DPoP nonce: `use_dpop_nonce` as an OAuth error body
/// (RFC 9449 §8: 400 from the token endpoint or PAR) or in a `WWW-Authenticate: DPoP`
/// challenge (§9: 401 from a resource server, the userinfo endpoint among them).
pub fn asks_for_nonce(resp: &crate::core::http::Response) -> bool {
    if resp.status == 400 {
        if let Ok(Value::Object(body)) = crate::core::json::parse_slice(&resp.body) {
            return body.get("error").and_then(Value::as_str) == Some("use_dpop_nonce");
        }
        return false;
    }
    if resp.status == 401 {
        return resp.www_authenticate.as_deref().is_some_and(challenge_asks_for_nonce);
    }
    false
}

/// A `WWW-Authenticate` value with a DPoP challenge whose `error` is `use_dpop_nonce`
/// (RFC 9110 §11.6.1: challenges are `scheme [param, ...]`, separated by commas too).
fn challenge_asks_for_nonce(header: &str) -> bool {
    let mut in_dpop = false;
    for item in header.split(',') {
        let item = item.trim();
        // An item that starts with a word not followed by '=' opens a new challenge.
        let param = match item.split_once(char::is_whitespace) {
            Some((first, rest)) if !first.contains('=') => {
                in_dpop = first.eq_ignore_ascii_case("dpop");
                rest.trim()
            }
            None if !item.contains('=') => {
                in_dpop = item.eq_ignore_ascii_case("dpop");
                continue;
            }
            _ => item,
        };
        if in_dpop
            && param.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("error") && v.trim().trim_matches('"') == "use_dpop_nonce"
            })
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(jwt: &str) -> (Value, Value) {
        let mut it = jwt.split('.');
        let dec = |s: &str| -> Value {
            serde_json::from_slice(&crate::core::jose::b64_decode(s, "part").unwrap()).unwrap()
        };
        (dec(it.next().unwrap()), dec(it.next().unwrap()))
    }

    #[test]
    fn proofs_of_every_alg_verify_with_their_public_jwk() {
        for alg in [DpopAlg::ES256, DpopAlg::EdDSA, DpopAlg::PS256, DpopAlg::RS256] {
            let key = DpopKey::generate(alg).unwrap();
            let url = Url::parse("https://RS.example:443/a/b?x=1#frag").unwrap();
            let proof = key.proof("POST", &url, Some("n-1"), Some("tok")).unwrap();
            let (h, c) = parts(&proof);
            assert_eq!(h["typ"], "dpop+jwt");
            assert_eq!(h["alg"], alg.name());
            assert_eq!(c["htu"], "https://rs.example/a/b");
            assert_eq!(c["htm"], "POST");
            assert_eq!(c["nonce"], "n-1");
            assert_eq!(c["ath"], ath("tok"));
            assert!(c["jti"].as_str().unwrap().len() >= 16);
            let jwk = h["jwk"].as_object().unwrap();
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(!jwk.contains_key(private));
            }
            assert_eq!(jwk_thumbprint(jwk).unwrap(), key.thumbprint());
            // Verify the signature with the public key the header carries.
            let (input, sig) = proof.rsplit_once('.').unwrap();
            let sig = crate::core::jose::b64_decode(sig, "sig").unwrap();
            let b = |k: &str| crate::core::jose::b64_decode(jwk[k].as_str().unwrap(), k).unwrap();
            let ok = match alg {
                DpopAlg::ES256 => {
                    let mut point = vec![4u8];
                    point.extend(b("x"));
                    point.extend(b("y"));
                    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(input.as_bytes(), &sig)
                }
                DpopAlg::EdDSA => signature::UnparsedPublicKey::new(&signature::ED25519, b("x")).verify(input.as_bytes(), &sig),
                DpopAlg::PS256 | DpopAlg::RS256 => {
                    let params = if alg == DpopAlg::PS256 { &signature::RSA_PSS_2048_8192_SHA256 } else { &signature::RSA_PKCS1_2048_8192_SHA256 };
                    signature::RsaPublicKeyComponents { n: b("n"), e: b("e") }.verify(params, input.as_bytes(), &sig)
                }
            };
            assert!(ok.is_ok(), "{alg:?} proof verifies");
        }
    }

    #[test]
    fn nonce_rules_and_store_bound() {
        assert!(valid_nonce("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
        assert!(!valid_nonce(""));
        assert!(!valid_nonce("a b"));
        assert!(!valid_nonce("a\"b"));
        assert!(!valid_nonce(&"a".repeat(2000)));
        let s = NonceStore::default();
        for i in 0..200 {
            assert!(s.put(&format!("https://h{i}.example"), "n"));
        }
        assert_eq!(s.0.lock().unwrap().len(), MAX_NONCE_ORIGINS);
        assert!(!s.put("https://x.example", "bad nonce"));
        assert_eq!(s.get("https://x.example"), None);
    }

    #[test]
    fn challenges() {
        assert!(challenge_asks_for_nonce(r#"DPoP error="use_dpop_nonce", error_description="x""#));
        assert!(challenge_asks_for_nonce(r#"Bearer realm="a", DPoP algs="ES256", error="use_dpop_nonce""#));
        assert!(!challenge_asks_for_nonce(r#"DPoP error="invalid_token""#));
        assert!(!challenge_asks_for_nonce(r#"Bearer error="use_dpop_nonce""#));
        assert!(challenge_asks_for_nonce(r#"Bearer realm="x",DPoP error="use_dpop_nonce""#));
        assert!(!challenge_asks_for_nonce(r#"DPoP algs="ES256", Bearer error="use_dpop_nonce""#));
    }

    #[test]
    fn pem_errors() {
        let e = DpopKey::from_pem("garbage", None, DpopAlg::PS256, "dpop_key_pem").unwrap_err();
        assert!(e.message.contains("not a PEM private key"), "{}", e.message);
        let e = DpopKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None, DpopAlg::PS256, "dpop_key_pem").unwrap_err();
        assert!(e.message.contains("PKCS#8"), "{}", e.message);
        let big = "A".repeat(MAX_KEY_PEM_BYTES + 1);
        assert!(DpopKey::from_pem(&big, None, DpopAlg::PS256, "dpop_key_pem").unwrap_err().message.contains("limit"));
    }
}

/// `options_json` of `soidc_dpop_proof`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofOptions {
    /// The server's nonce (RFC 9449 §9); default: the one remembered for the URL's origin.
    pub nonce: Option<String>,
}

impl crate::core::client::Client {
    /// The DPoP key, or the error of a call that needs one on a client without.
    fn dpop_key(&self) -> Result<&DpopKey> {
        self.dpop.as_ref().ok_or_else(|| {
            Error::invalid_argument("this client has no DPoP key: create it with the client option dpop (or dpop_key_pem / dpop_key_file)")
        })
    }

    /// `{"jwk": {the public JWK}, "jkt": "the RFC 7638 thumbprint"}` of the DPoP key.
    pub fn dpop_jwk(&self) -> Result<Value> {
        let key = self.dpop_key()?;
        Ok(json!({"jwk": Value::Object(key.public_jwk().clone()), "jkt": key.thumbprint()}))
    }

    /// The `dpop_jkt` authorization request parameter (RFC 9449 §10), or the error of
    /// asking for it without a key.
    pub(crate) fn dpop_jkt(&self) -> Result<String> {
        Ok(self.dpop_key()?.thumbprint().to_owned())
    }

    /// A proof for a request the host makes itself (`soidc_dpop_proof`): `{"proof": ...}`.
    pub fn dpop_proof(&self, method: &str, url: &str, access_token: Option<&str>, options_json: Option<&str>) -> Result<Value> {
        let o: ProofOptions = crate::core::options::parse(options_json, "options_json")?;
        let key = self.dpop_key()?;
        check_method(method)?;
        let url = check_proof_url(url)?;
        if let Some(at) = access_token {
            crate::core::options::check_token_arg("access_token", at, crate::core::jose::MAX_TOKEN_BYTES)?;
        }
        let nonce = match o.nonce {
            Some(n) if valid_nonce(&n) => Some(n),
            Some(_) => {
                return Err(Error::invalid_argument(
                    "options_json: nonce must be 1 to 1024 characters of RFC 9449 §8.1 NQCHAR (printable ASCII except space, '\"' and '\\\\')",
                ))
            }
            None => self.dpop_nonces.get(&origin(&url)),
        };
        Ok(json!({"proof": key.proof(method, &url, nonce.as_deref(), access_token)?}))
    }

    /// Sends one request through `send` (which gets the `DPoP` header value, or `None` when
    /// the client has no DPoP key), with a fresh proof for `method` and `url`. The nonce
    /// remembered for the URL's origin goes into the proof; a `DPoP-Nonce` in the answer
    /// is remembered (RFC 9449 §8.2); when the answer is `use_dpop_nonce` with a nonce the
    /// proof did not carry, the request is sent exactly once more with a new proof carrying
    /// it (§8, §9). `send` runs within the call's deadline, the retry too.
    pub(crate) fn with_dpop(
        &self,
        method: crate::core::http::Method,
        url: &str,
        access_token: Option<&str>,
        mut send: impl FnMut(Option<&str>) -> Result<crate::core::http::Response>,
    ) -> Result<crate::core::http::Response> {
        let Some(key) = &self.dpop else { return send(None) };
        // The URL policy itself is the HTTP layer's (check_url); here only what the proof needs.
        let parsed = Url::parse(url)
            .map_err(|e| Error::protocol(format!("{} is not a valid URL: {e}", quote_untrusted(url))))?;
        let origin = origin(&parsed);
        let sent_nonce = self.dpop_nonces.get(&origin);
        let proof = key.proof(method.name(), &parsed, sent_nonce.as_deref(), access_token)?;
        let resp = send(Some(&proof))?;
        let fresh = resp.dpop_nonce.as_deref().filter(|n| self.dpop_nonces.put(&origin, n)).map(str::to_owned);
        if !asks_for_nonce(&resp) {
            return Ok(resp);
        }
        // Exactly one retry, and only with a nonce this proof did not already carry.
        let Some(nonce) = fresh.filter(|n| Some(n) != sent_nonce.as_ref()) else {
            crate::log_at!(crate::core::log::Level::Info, "DPoP: {} asked for a nonce but gave no new one", resp.host);
            return Ok(resp);
        };
        crate::log_at!(crate::core::log::Level::Debug, "DPoP: {} asked for a nonce; sending once more with it", resp.host);
        let proof = key.proof(method.name(), &parsed, Some(&nonce), access_token)?;
        let resp = send(Some(&proof))?;
        if let Some(n) = resp.dpop_nonce.as_deref() {
            self.dpop_nonces.put(&origin, n);
        }
        Ok(resp)
    }
}
