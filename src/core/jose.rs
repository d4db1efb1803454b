//! Compact JWS parsing: split, decode the header and payload exactly once, and
//! hand out the signing input and signature for verification. Header members
//! that would let a token choose its own key (`jwk`, `jku`, `x5u`, `x5c`) are
//! ignored by construction: the key always comes from the provider's JWKS.

use crate::core::error::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crate::core::json::Val;
use serde_json::{Map, Value};

/// The largest compact token accepted (bytes); real ID tokens are a few KB.
pub(crate) const MAX_TOKEN_BYTES: usize = 256 * 1024;

#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

/// Which kind of key verifies an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
    Hmac,
}

impl Alg {
    pub(crate) const ALL: [Alg; 12] = [
        Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512,
        Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::HS256, Alg::HS384, Alg::HS512,
    ];

    pub fn parse(s: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
        }
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => KeyFamily::Rsa,
            Alg::ES256 => KeyFamily::EcP256,
            Alg::ES384 => KeyFamily::EcP384,
            Alg::EdDSA => KeyFamily::Ed25519,
            Alg::HS256 | Alg::HS384 | Alg::HS512 => KeyFamily::Hmac,
        }
    }

    pub fn is_symmetric(self) -> bool {
        self.family() == KeyFamily::Hmac
    }

    /// The digest behind `at_hash` / `c_hash` for this algorithm (OIDC Core
    /// 3.1.3.6; SHA-512 for Ed25519 as the OpenID errata specify).
    pub fn hash_digest(self) -> &'static aws_lc_rs::digest::Algorithm {
        use aws_lc_rs::digest;
        match self {
            Alg::RS256 | Alg::PS256 | Alg::ES256 | Alg::HS256 => &digest::SHA256,
            Alg::RS384 | Alg::PS384 | Alg::ES384 | Alg::HS384 => &digest::SHA384,
            Alg::RS512 | Alg::PS512 | Alg::HS512 | Alg::EdDSA => &digest::SHA512,
        }
    }
}

/// The members of a JOSE header that soidc looks at, in [`parse`]'s slots.
const HEADER_MEMBERS: [&str; 5] = ["alg", "kid", "typ", "crit", "enc"];

fn header_slot(name: &str) -> Option<usize> {
    HEADER_MEMBERS.iter().position(|m| *m == name)
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug)]
pub struct Jws<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// `BASE64URL(header) . BASE64URL(payload)`, the bytes that were signed.
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
    /// The payload exactly as signed: handed back as the claims document, so that it
    /// needs no second serialisation. Read it with [`Jws::claims`] (the registered claims,
    /// one pass, borrowed) or [`Jws::claims_map`] (every claim as a map); either refuses
    /// a payload that is not a strict JSON object.
    pub payload: Vec<u8>,
}

impl Jws<'_> {
    /// The registered claims, read in one pass from the payload (which is checked whole:
    /// a JSON object, no repeated member at any depth). Not trusted before the signature
    /// is verified.
    pub fn claims(&self) -> Result<crate::core::claims::TokenClaims<'_>> {
        crate::core::claims::TokenClaims::scan(&self.payload).map_err(payload_error)
    }

    /// Every claim of the payload as a map (for rules on any claim, and the Rust API).
    pub fn claims_map(&self) -> Result<Map<String, Value>> {
        // The payload is handed back to the caller verbatim, so a repeated claim
        // (`{"sub":"a","sub":"b"}`), at any depth, would let the caller's JSON parser
        // read another value than the one soidc validated: refused.
        crate::core::json::parse_object(&self.payload).map_err(payload_error)
    }
}

fn payload_error(e: String) -> Error {
    Error::validation(format!("token payload is not a JSON object: {e}"))
}

pub fn b64_decode(part: &str, what: &str) -> Result<Vec<u8>> {
    b64url_decode(part.as_bytes()).ok_or_else(|| Error::validation(format!("{what} is not valid unpadded base64url")))
}

/// Unpadded base64url (RFC 4648 §5) with the base64 crate's `URL_SAFE_NO_PAD` (no padding,
/// no other byte, zero trailing bits). The vector gets room for one more byte, so that a
/// payload handed out as a C string needs no reallocation for its NUL.
fn b64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(base64::decoded_len_estimate(input.len()) + 1);
    URL_SAFE_NO_PAD.decode_vec(input, &mut out).ok()?;
    Some(out)
}

pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Left half of the digest of `value`, base64url: the `at_hash` / `c_hash` rule.
pub fn half_hash(alg: Alg, value: &str) -> String {
    let d = aws_lc_rs::digest::digest(alg.hash_digest(), value.as_bytes());
    let bytes = d.as_ref();
    b64_encode(&bytes[..bytes.len() / 2])
}

fn string_member(v: Option<Val<'_>>, name: &str) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s.into_owned())),
        Some(other) => Err(Error::validation(format!(
            "JOSE header member \"{name}\" must be a string, found {}",
            other.type_name()
        ))),
    }
}

pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Splits and decodes a compact JWS. Rejects JWE, `alg: none`, unknown
/// algorithms, any `crit` member, and payloads that are not a JSON object.
pub fn parse(token: &str) -> Result<Jws<'_>> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::validation(format!(
            "token is {} bytes, more than the {MAX_TOKEN_BYTES}-byte limit",
            token.len()
        )));
    }
    let parts_error = || {
        let dots = token.bytes().filter(|b| *b == b'.').count();
        if dots == 4 {
            Error::validation("token is a JWE (5 parts); encrypted tokens are not supported")
        } else {
            Error::validation(format!("token is not a compact JWS: expected 3 parts, found {}", dots + 1))
        }
    };
    // The header ends at the first dot, the signature starts after the last one; the
    // payload between them is not searched for a third dot: a dot is not base64url, so such
    // a payload fails to decode, and only then is it told apart (as a token of more than
    // three parts, the error it always was, before any other).
    let (h, p, s) = match (token.find('.'), token.rfind('.')) {
        (Some(first), Some(last)) if first < last => (&token[..first], &token[first + 1..last], &token[last + 1..]),
        _ => return Err(parts_error()),
    };
    let payload = b64_decode(p, "token payload");
    if payload.is_err() && p.contains('.') {
        return Err(parts_error());
    }
    let header_bytes = b64_decode(h, "token header")?;
    // Strict JSON: a repeated member (two "alg"s) is refused, never resolved.
    let [alg, kid, typ, crit, enc] = crate::core::json::scan_object::<5>(&header_bytes, header_slot)
        .map_err(|e| Error::validation(format!("token header is not a valid JOSE header: {e}")))?;
    let alg = alg.ok_or_else(|| Error::validation("token header is not a valid JOSE header: missing field `alg`"))?;
    if enc.is_some() {
        return Err(Error::validation("token is a JWE; encrypted tokens are not supported"));
    }
    let alg_name = match &alg {
        Val::Str(s) => s.as_ref(),
        other => {
            return Err(Error::validation(format!(
                "token header \"alg\" must be a string, found {}",
                other.type_name()
            )))
        }
    };
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(Error::validation("token alg \"none\" (unsigned) is never accepted"));
    }
    let alg = Alg::parse(alg_name)
        .ok_or_else(|| Error::validation(format!("token alg {} is not supported", crate::core::error::quote_untrusted(alg_name))))?;
    if let Some(crit) = &crit {
        return Err(Error::validation(format!(
            "token header has \"crit\" {}, and soidc understands no critical extension",
            crate::core::error::quote_untrusted(&crit.to_value().to_string())
        )));
    }
    let kid = string_member(kid, "kid")?;
    let typ = string_member(typ, "typ")?;
    let signature = b64_decode(s, "token signature")?;
    if signature.is_empty() {
        return Err(Error::validation("token signature is empty"));
    }
    let payload = payload?;
    Ok(Jws {
        alg,
        kid,
        typ,
        signing_input: &token.as_bytes()[..h.len() + 1 + p.len()],
        signature,
        payload,
    })
}

/// Whether a JOSE header `typ` is `expected`, with or without the `application/` prefix
/// (RFC 7515 §4.1.9: the prefix may be omitted; media types are case-insensitive).
pub(crate) fn typ_is(typ: Option<&str>, expected: &str) -> bool {
    // `expected` is lower case; compared without building a lower-case copy.
    typ.is_some_and(|t| {
        t.eq_ignore_ascii_case(expected)
            || (t.len() == "application/".len() + expected.len()
                && t.as_bytes()[.."application/".len()].eq_ignore_ascii_case(b"application/")
                && t.as_bytes()["application/".len()..].eq_ignore_ascii_case(expected.as_bytes()))
    })
}

/// The JWK SHA-256 thumbprint of RFC 7638, base64url: the SHA-256 of the JSON object of
/// the key's required members only (§3.2: EC `crv`, `kty`, `x`, `y`; OKP `crv`, `kty`, `x`
/// (RFC 8037 §2); RSA `e`, `kty`, `n`), in lexicographic order, without whitespace (§3.3).
/// A member of the wrong type, a missing one or an unknown `kty` is a validation error.
pub(crate) fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String> {
    let kty = match jwk.get("kty") {
        Some(Value::String(k)) => k.as_str(),
        _ => return Err(Error::validation("JWK has no string \"kty\"")),
    };
    let required: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        other => {
            return Err(Error::validation(format!(
                "JWK kty {} has no RFC 7638 thumbprint here (EC, OKP and RSA only)",
                crate::core::error::quote_untrusted(other)
            )))
        }
    };
    // Built by hand rather than through a map: the member order must be lexicographic
    // whatever map type serde_json was compiled with (§3.3).
    let mut text = String::from("{");
    for (i, name) in required.iter().enumerate() {
        let value = match jwk.get(*name) {
            Some(Value::String(s)) => s,
            _ => return Err(Error::validation(format!("JWK ({kty}) has no string \"{name}\""))),
        };
        if i > 0 {
            text.push(',');
        }
        // serde_json writes the minimal JSON string escapes RFC 7638 §3.3 asks for.
        text.push_str(&serde_json::to_string(name).map_err(|e| Error::internal(e.to_string()))?);
        text.push(':');
        text.push_str(&serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))?);
    }
    text.push('}');
    Ok(b64_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref()))
}

#[cfg(test)]
mod b64_tests {
    use super::*;

    #[test]
    fn typ_comparison() {
        for (typ, expected, want) in [
            ("JWT", "jwt", true),
            ("jwt", "jwt", true),
            ("application/JWT", "jwt", true),
            ("Application/jwt", "jwt", true),
            ("application/jwt ", "jwt", false),
            ("app/jwt", "jwt", false),
            ("at+JWT", "at+jwt", true),
            ("application/at+jwt", "at+jwt", true),
            ("application/", "jwt", false),
            ("applicationXjwt", "jwt", false),
            ("jwté", "jwt", false),
            ("", "jwt", false),
        ] {
            assert_eq!(typ_is(Some(typ), expected), want, "{typ}");
        }
        assert!(!typ_is(None, "jwt"));
    }

    /// The number of parts is judged before anything else, whatever the parts hold.
    #[test]
    fn parts_are_counted_first() {
        let h = b64_encode(br#"{"alg":"RS256"}"#);
        let p = b64_encode(br#"{"sub":"a"}"#);
        let msg = |t: &str| parse(t).unwrap_err().message;
        assert_eq!(msg("abc"), "token is not a compact JWS: expected 3 parts, found 1");
        assert_eq!(msg(&format!("{h}.{p}")), "token is not a compact JWS: expected 3 parts, found 2");
        assert_eq!(msg(&format!("{h}.{p}.c2ln.x")), "token is not a compact JWS: expected 3 parts, found 4");
        assert_eq!(msg("!.!.!.!"), "token is not a compact JWS: expected 3 parts, found 4");
        assert_eq!(msg("!.!.!.!.!"), "token is a JWE (5 parts); encrypted tokens are not supported");
        assert_eq!(msg(&format!("{h}.{p}..")), "token is not a compact JWS: expected 3 parts, found 4");
        assert_eq!(msg("..."), "token is not a compact JWS: expected 3 parts, found 4");
        assert_eq!(msg(".."), "token header is not a valid JOSE header: EOF while parsing a value at line 1 column 0");
        assert_eq!(msg(&format!("{h}.!.c2ln")), "token payload is not valid unpadded base64url");
        assert_eq!(msg(&format!("!.{p}.c2ln")), "token header is not valid unpadded base64url");
        assert_eq!(msg(&format!("{h}.!.")), "token signature is empty");
        let token = format!("{h}.{p}.c2ln");
        let ok = parse(&token).unwrap();
        assert_eq!(ok.payload, br#"{"sub":"a"}"#);
        assert_eq!(ok.signature, b"sig");
        assert_eq!(ok.signing_input, format!("{h}.{p}").as_bytes());
    }
}

#[cfg(test)]
mod thumbprint_tests {
    use super::*;

    /// RFC 7638 §3.1's example key and its published thumbprint.
    #[test]
    fn rfc7638_example() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let mut bad = jwk.as_object().unwrap().clone();
        bad.remove("e");
        assert!(jwk_thumbprint(&bad).is_err());
        bad.insert("e".into(), Value::from(3));
        assert!(jwk_thumbprint(&bad).is_err());
    }
}
