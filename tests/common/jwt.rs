//! Token signing for stub providers: well-formed tokens with jsonwebtoken's keys from
//! tests/keys, and raw tokens with any header (malformed on purpose).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use super::{now, tests_path};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn algorithm(alg: &str) -> Algorithm {
    match alg {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => panic!("no jsonwebtoken algorithm {other}"),
    }
}

/// The private key `tests/keys/<name>.pem` as a jsonwebtoken signing key.
pub fn pem_key(name: &str) -> EncodingKey {
    let path = tests_path(&format!("keys/{name}.pem"));
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let key = if name.contains("rs256") {
        EncodingKey::from_rsa_pem(&pem)
    } else if name.contains("es256") || name.contains("es384") {
        EncodingKey::from_ec_pem(&pem)
    } else if name.contains("ed25519") {
        EncodingKey::from_ed_pem(&pem)
    } else {
        panic!("unknown key type for {name}")
    };
    key.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The key to sign with.
pub enum Key<'a> {
    /// A private key of tests/keys by name.
    Pem(&'a str),
    /// An HMAC secret.
    Secret(&'a [u8]),
}

impl Key<'_> {
    fn encoding_key(&self) -> EncodingKey {
        match self {
            Key::Pem(name) => pem_key(name),
            Key::Secret(s) => EncodingKey::from_secret(s),
        }
    }
}

/// Signs `header_json.claims_json` (both taken verbatim, base64url-encoded) with `alg`
/// and `key`, whatever the header says: for malformed or lying headers.
pub fn sign_raw(header_json: &str, claims_json: &str, alg: &str, key: &Key<'_>) -> String {
    let input = format!(
        "{}.{}",
        b64(header_json.as_bytes()),
        b64(claims_json.as_bytes())
    );
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding_key(), algorithm(alg))
        .unwrap_or_else(|e| panic!("signing with {alg}: {e}"));
    format!("{input}.{sig}")
}

/// The header `{"alg": alg, "typ": "JWT", "kid": kid}` with `overrides` merged in
/// (an override of `null` removes the member).
pub fn header(alg: &str, kid: Option<&str>, overrides: &Value) -> Value {
    let mut h = Map::new();
    h.insert("alg".into(), json!(alg));
    h.insert("typ".into(), json!("JWT"));
    if let Some(kid) = kid {
        h.insert("kid".into(), json!(kid));
    }
    if let Some(o) = overrides.as_object() {
        for (k, v) in o {
            if v.is_null() {
                h.remove(k);
            } else {
                h.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(h)
}

/// Signs `claims` with `alg` and the tests/keys key `key_name` (its kid), the header
/// altered by `header_overrides` (see [`header`]).
pub fn sign(alg: &str, key_name: &str, header_overrides: &Value, claims: &Value) -> String {
    let h = header(alg, Some(key_name), header_overrides);
    sign_raw(
        &h.to_string(),
        &claims.to_string(),
        alg,
        &Key::Pem(key_name),
    )
}

/// An HS* token signed with `secret`, no kid.
pub fn sign_hmac(alg: &str, secret: &[u8], header_overrides: &Value, claims: &Value) -> String {
    let h = header(alg, None, header_overrides);
    sign_raw(
        &h.to_string(),
        &claims.to_string(),
        alg,
        &Key::Secret(secret),
    )
}

/// The signing key matching an algorithm among the stub keys.
pub fn stub_key_for(alg: &str) -> &'static str {
    match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => "stub-rs256",
        "ES256" => "stub-es256",
        "ES384" => "stub-es384",
        "EdDSA" => "stub-ed25519",
        other => panic!("no stub key for {other}"),
    }
}

/// The algorithm a stub key signs with by default (its JWK's `alg`).
pub fn header_alg_for_key(key_name: &str) -> &'static str {
    if key_name.contains("rs256") {
        "RS256"
    } else if key_name.contains("es256") {
        "ES256"
    } else if key_name.contains("es384") {
        "ES384"
    } else if key_name.contains("ed25519") {
        "EdDSA"
    } else {
        panic!("unknown key {key_name}")
    }
}

/// Claims that pass every check for `client_id` at `issuer`: iss, sub, aud, exp = now +
/// 300, iat = now, auth_time = now - 10, and the nonce if given.
pub fn good_claims(issuer: &str, client_id: &str, nonce: Option<&str>) -> Value {
    let now = now();
    let mut c = json!({
        "iss": issuer,
        "sub": "user-1",
        "aud": client_id,
        "exp": now + 300,
        "iat": now,
        "auth_time": now - 10,
    });
    if let Some(n) = nonce {
        c["nonce"] = json!(n);
    }
    c
}

/// The `at_hash` / `c_hash` of `value` for `alg` (OIDC Core 3.1.3.6: left half of the
/// hash, base64url; SHA-512 for EdDSA with Ed25519).
pub fn half_hash(alg: &str, value: &str) -> String {
    use aws_lc_rs::digest;
    let algo = match alg {
        "RS256" | "PS256" | "ES256" | "HS256" => &digest::SHA256,
        "RS384" | "PS384" | "ES384" | "HS384" => &digest::SHA384,
        _ => &digest::SHA512,
    };
    let d = digest::digest(algo, value.as_bytes());
    b64(&d.as_ref()[..d.as_ref().len() / 2])
}

/// Replaces the payload of a compact token (the signature no longer matches).
pub fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    )
}

/// The decoded payload of a compact token (no verification).
pub fn payload(token: &str) -> Value {
    let p = token.split('.').nth(1).expect("a payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("base64url payload"))
        .expect("JSON payload")
}

/// The decoded header of a compact token (no verification).
pub fn header_of(token: &str) -> Value {
    let p = token.split('.').next().expect("a header part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("base64url header"))
        .expect("JSON header")
}
