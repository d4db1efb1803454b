//! Mutual TLS (RFC 8705): the client certificate a client presents (`client_cert_file` /
//! `client_key_file`), client authentication by that certificate (`tls_client_auth`,
//! §2.1; `self_signed_tls_client_auth`, §2.2), the provider's `mtls_endpoint_aliases`
//! (§5), and the resource-server check of certificate-bound access tokens (§3).

use crate::core::claims::{ClaimSet, JsonView};
use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::jose::b64_encode;
use crate::core::secret::read_secret_file;
use std::fmt;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey};

/// A certificate given to `soidc_decode_access_token` larger than this is refused (a
/// client certificate is one to a few KiB; 64 KiB leaves room for long chains).
pub(crate) const MAX_CERT_BYTES: usize = 64 * 1024;

/// The client's certificate chain and private key, ready for the HTTP agent. The PEM
/// text they came from is wiped as soon as it is parsed (`Secret`, `Zeroizing`); the
/// copies the TLS stack keeps are ureq's and rustls's (rustls holds the key as an
/// aws-lc key object, which aws-lc clears when it is freed).
#[derive(Clone)]
pub struct ClientCertificate {
    pub(crate) tls: ClientCert,
    /// RFC 8705 §3.1 thumbprint of the leaf certificate (for logs and checks).
    pub(crate) x5t_s256: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientCertificate(x5t#S256 {}, key <redacted>)", self.x5t_s256)
    }
}

impl ClientCertificate {
    /// Reads `client_cert_file` (one or more certificates, leaf first) and
    /// `client_key_file` (one private key: PKCS#8, PKCS#1 or SEC1), both PEM. Both files
    /// are read with the rules of `client_secret_file` (regular file owned by this user
    /// or root, no group/other access, at most 64 KiB): a combined PEM holding the
    /// certificate and the key can then be given as both. Every problem is
    /// `InvalidArgument` naming the option, never the content.
    pub fn from_files(cert_path: &str, key_path: &str) -> Result<ClientCertificate> {
        let cert_text = read_secret_file(cert_path, "client_cert_file", false)?;
        let key_text = read_secret_file(key_path, "client_key_file", false)?;
        let fail = |option: &str, path: &str, why: &str| {
            Error::invalid_argument(format!("{option} {}: {why}", crate::core::error::quote_untrusted(path)))
        };
        let mut chain: Vec<Certificate<'static>> = Vec::new();
        let mut cert_file_has_key = false;
        for item in ureq::tls::parse_pem(cert_text.expose().as_bytes()) {
            match item {
                Ok(PemItem::Certificate(c)) => chain.push(c),
                Ok(PemItem::PrivateKey(_)) => cert_file_has_key = true,
                Ok(_) => {}
                Err(_) => return Err(fail("client_cert_file", cert_path, "is not valid PEM")),
            }
        }
        if chain.is_empty() {
            let why = if cert_file_has_key {
                "holds a private key but no certificate (give the certificate here and the key as client_key_file)"
            } else {
                "holds no PEM certificate"
            };
            return Err(fail("client_cert_file", cert_path, why));
        }
        for c in &chain {
            check_der_certificate(c.der()).map_err(|why| fail("client_cert_file", cert_path, &why))?;
        }
        let mut key: Option<PrivateKey<'static>> = None;
        for item in ureq::tls::parse_pem(key_text.expose().as_bytes()) {
            match item {
                Ok(PemItem::PrivateKey(k)) if key.is_none() => key = Some(k),
                Ok(PemItem::PrivateKey(_)) => {
                    return Err(fail("client_key_file", key_path, "holds more than one private key"))
                }
                Ok(_) => {}
                Err(_) => return Err(fail("client_key_file", key_path, "is not valid PEM")),
            }
        }
        let key = key.ok_or_else(|| {
            fail("client_key_file", key_path, "holds no unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)")
        })?;
        check_pair(&chain, &key).map_err(|(option, why)| {
            fail(option, if option == "client_key_file" { key_path } else { cert_path }, &why)
        })?;
        let x5t_s256 = x5t_s256(chain[0].der());
        Ok(ClientCertificate { tls: ClientCert::new_with_certs(&chain, key), x5t_s256 })
    }
}

/// Checks with rustls itself (the stack that will present them) that the key is usable
/// and belongs to the leaf certificate, so that a mismatch is an argument error at client
/// creation rather than a failure inside the HTTP agent at the first request. The error
/// names the option at fault.
fn check_pair(chain: &[Certificate<'static>], key: &PrivateKey<'static>) -> std::result::Result<(), (&'static str, String)> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        chain.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect();
    // rustls takes an owned copy and parses it into an aws-lc key object; the copy is
    // freed by rustls (as ureq's own copy is when it builds its TLS configuration).
    let key_der = PrivateKeyDer::try_from(key.der().to_vec()).map_err(|_| {
        ("client_key_file", "is not a usable RSA, ECDSA or Ed25519 private key".to_owned())
    })?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let signing = provider.key_provider.load_private_key(key_der).map_err(|_| {
        ("client_key_file", "is not a usable RSA, ECDSA or Ed25519 private key".to_owned())
    })?;
    let certified = rustls::sign::CertifiedKey::new(certs, signing);
    match certified.keys_match() {
        Ok(()) => Ok(()),
        // The key cannot tell its public key: accepted; a wrong key then fails the TLS
        // handshake with a TLS error.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => Err((
            "client_key_file",
            "does not hold the private key of the certificate in client_cert_file".to_owned(),
        )),
        Err(_) => Err(("client_cert_file", "holds a certificate that cannot be parsed".to_owned())),
    }
}

/// RFC 8705 §3.1: `x5t#S256` is the base64url (no padding) SHA-256 of the DER certificate.
pub fn x5t_s256(der: &[u8]) -> String {
    b64_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref())
}

/// The length of a DER element starting at `input`: (header length, content length).
fn der_header(input: &[u8]) -> Option<(usize, usize)> {
    let first = *input.get(1)?;
    if first < 0x80 {
        return Some((2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 || input.len() < 2 + n {
        return None;
    }
    let len = input[2..2 + n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
    Some((2 + n, len))
}

/// A cheap structural check that `der` is one X.509 certificate: a DER SEQUENCE spanning
/// exactly the input whose first element is a SEQUENCE (the TBSCertificate, RFC 5280 §4.1).
/// It catches keys, CSRs of the wrong shape, truncation and garbage; the signature and
/// contents are not examined (the thumbprint is over the bytes as given).
fn check_der_certificate(der: &[u8]) -> std::result::Result<(), String> {
    let bad = || Err("is not a DER X.509 certificate".to_owned());
    if der.first() != Some(&0x30) {
        return bad();
    }
    let Some((h, len)) = der_header(der) else { return bad() };
    if h.checked_add(len) != Some(der.len()) {
        return bad();
    }
    let inner = &der[h..];
    if inner.first() != Some(&0x30) {
        return bad();
    }
    match der_header(inner) {
        Some((ih, ilen)) if ih + ilen < inner.len() => Ok(()),
        _ => bad(),
    }
}

/// The DER of the certificate a resource server was handed (option `client_cert_pem` of
/// `soidc_decode_access_token`): PEM (the first CERTIFICATE block, the leaf, is used), or,
/// without PEM armour, standard base64 of the DER (as in `x5c`; whitespace is ignored,
/// padding optional). Returns the `x5t#S256` thumbprint.
pub fn thumbprint_of_given_cert(text: &str) -> Result<String> {
    const OPT: &str = "options_json: client_cert_pem";
    if text.len() > MAX_CERT_BYTES {
        return Err(Error::invalid_argument(format!(
            "{OPT} is {} bytes, more than the {MAX_CERT_BYTES}-byte limit",
            text.len()
        )));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid_argument(format!("{OPT} is empty")));
    }
    let der: Vec<u8> = if trimmed.contains("-----BEGIN") {
        // Each line trimmed: nginx's `$ssl_client_cert` prefixes every line but the first
        // with a tab.
        let lines: String = trimmed.lines().map(|l| format!("{}\n", l.trim())).collect();
        let mut first: Option<Vec<u8>> = None;
        let mut saw_key = false;
        for item in ureq::tls::parse_pem(lines.as_bytes()) {
            match item {
                Ok(PemItem::Certificate(c)) => {
                    if first.is_none() {
                        first = Some(c.der().to_vec());
                    }
                }
                Ok(PemItem::PrivateKey(_)) => saw_key = true,
                Ok(_) => {}
                Err(_) => return Err(Error::invalid_argument(format!("{OPT} is not valid PEM"))),
            }
        }
        if saw_key {
            // A private key never belongs here; refusing it keeps it out of any further use.
            return Err(Error::invalid_argument(format!(
                "{OPT} holds a private key; give the client's certificate only"
            )));
        }
        first.ok_or_else(|| Error::invalid_argument(format!("{OPT} holds no PEM certificate")))?
    } else {
        use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
        use base64::Engine;
        const B64: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        let compact: String = trimmed.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        B64.decode(compact.as_bytes()).map_err(|_| {
            Error::invalid_argument(format!(
                "{OPT} is neither PEM nor base64 of a DER certificate"
            ))
        })?
    };
    check_der_certificate(&der).map_err(|why| Error::invalid_argument(format!("{OPT} {why}")))?;
    Ok(x5t_s256(&der))
}

/// RFC 8705 §3.1: a token whose `cnf` carries `x5t#S256` is bound to that certificate.
/// With `cert_x5t` (the thumbprint of the certificate the request came with) the two must
/// be equal; without one the token is refused. A certificate given for a token without
/// `cnf["x5t#S256"]` is not an error: the token is a bearer token (or bound otherwise,
/// e.g. DPoP, checked elsewhere); a resource server that requires certificate binding
/// checks that the claims it gets back have `cnf["x5t#S256"]`.
/// Failures: `Validation` with `reason: "cnf_x5t"`.
pub fn check_certificate_binding<C: ClaimSet>(claims: &C, cert_x5t: Option<&str>) -> Result<()> {
    let refuse = |msg: String| Err(Error::validation(msg).with_detail("reason", "cnf_x5t"));
    let expected = match claims.claim("cnf") {
        None => return Ok(()),
        Some(cnf) if cnf.is_object() => match cnf.member("x5t#S256") {
            None => return Ok(()),
            Some(v) => match v.as_str() {
                Some(s) if !s.is_empty() => s,
                _ => return refuse(format!("cnf[\"x5t#S256\"] must be a non-empty string, found {}", v.type_name())),
            },
        },
        Some(v) => return refuse(format!("claim \"cnf\" must be an object, found {}", v.type_name())),
    };
    match cert_x5t {
        None => refuse(
            "the token is bound to a client certificate (cnf[\"x5t#S256\"], RFC 8705 §3) but no client_cert_pem was given".into(),
        ),
        // Thumbprints are public values; a plain comparison is fine.
        Some(actual) if actual == expected => Ok(()),
        Some(_) => refuse(
            "the client certificate does not match the token's cnf[\"x5t#S256\"] (RFC 8705 §3.1)".into(),
        ),
    }
}

/// The endpoints that have an mTLS alias (RFC 8705 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    PushedAuthorization,
    Introspection,
    Revocation,
    Userinfo,
    DeviceAuthorization,
}

impl Client {
    /// Whether this client talks mutual TLS: it has a client certificate (for
    /// `tls_client_auth` / `self_signed_tls_client_auth`, or for certificate-bound tokens
    /// with another authentication method).
    pub fn uses_mtls(&self) -> bool {
        self.config.client_cert.is_some()
    }

    /// The URL to call for `which`: RFC 8705 §5 — a client using mutual TLS uses the
    /// provider's `mtls_endpoint_aliases` entry when there is one, the regular endpoint
    /// otherwise (and always when it does not use mutual TLS).
    pub(crate) fn endpoint_url(&self, which: Endpoint) -> Option<&str> {
        let m = &self.metadata;
        if self.uses_mtls() {
            if let Some(a) = &m.mtls_endpoint_aliases {
                let alias = match which {
                    Endpoint::Token => &a.token_endpoint,
                    Endpoint::PushedAuthorization => &a.pushed_authorization_request_endpoint,
                    Endpoint::Introspection => &a.introspection_endpoint,
                    Endpoint::Revocation => &a.revocation_endpoint,
                    Endpoint::Userinfo => &a.userinfo_endpoint,
                    Endpoint::DeviceAuthorization => &a.device_authorization_endpoint,
                };
                if let Some(url) = alias {
                    return Some(url);
                }
            }
        }
        match which {
            Endpoint::Token => m.token_endpoint.as_deref(),
            Endpoint::PushedAuthorization => m.pushed_authorization_request_endpoint.as_deref(),
            Endpoint::Introspection => m.introspection_endpoint.as_deref(),
            Endpoint::Revocation => m.revocation_endpoint.as_deref(),
            Endpoint::Userinfo => m.userinfo_endpoint.as_deref(),
            Endpoint::DeviceAuthorization => m.device_authorization_endpoint.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::claims::Claims;
    use serde_json::{json, Value};

    fn claims(v: Value) -> Claims {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn binding_rules() {
        let t = claims(json!({"cnf": {"x5t#S256": "abc"}}));
        assert!(check_certificate_binding(&t, Some("abc")).is_ok());
        let e = check_certificate_binding(&t, Some("abd")).unwrap_err();
        assert_eq!(e.details.get("reason"), Some(&json!("cnf_x5t")));
        let e = check_certificate_binding(&t, None).unwrap_err();
        assert_eq!(e.details.get("reason"), Some(&json!("cnf_x5t")));
        assert!(check_certificate_binding(&claims(json!({})), Some("abc")).is_ok());
        assert!(check_certificate_binding(&claims(json!({"cnf": {"jkt": "x"}})), None).is_ok());
        assert!(check_certificate_binding(&claims(json!({"cnf": "x"})), None).is_err());
        assert!(check_certificate_binding(&claims(json!({"cnf": {"x5t#S256": 5}})), Some("5")).is_err());
    }

    #[test]
    fn given_cert_forms() {
        // A minimal structurally valid "certificate": SEQUENCE { SEQUENCE {}, NULL }.
        let der = [0x30, 0x04, 0x30, 0x00, 0x05, 0x00];
        let want = x5t_s256(&der);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        assert_eq!(thumbprint_of_given_cert(&b64).unwrap(), want);
        assert_eq!(thumbprint_of_given_cert(b64.trim_end_matches('=')).unwrap(), want);
        let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        assert_eq!(thumbprint_of_given_cert(&pem).unwrap(), want);
        // nginx's $ssl_client_cert: every line but the first starts with a tab.
        let tabbed = pem.trim_end().replace('\n', "\n\t");
        assert_eq!(thumbprint_of_given_cert(&tabbed).unwrap(), want);
        for bad in ["", "   ", "garbage!", "AAAA", "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"] {
            assert_eq!(thumbprint_of_given_cert(bad).unwrap_err().kind, crate::core::ErrorKind::InvalidArgument, "{bad:?}");
        }
        let big = "A".repeat(MAX_CERT_BYTES + 1);
        assert!(thumbprint_of_given_cert(&big).unwrap_err().message.contains("limit"));
        // Trailing bytes after the certificate are refused.
        let b64x = base64::engine::general_purpose::STANDARD.encode([0x30, 0x04, 0x30, 0x00, 0x05, 0x00, 0x00]);
        assert!(thumbprint_of_given_cert(&b64x).is_err());
    }

    #[test]
    fn default_method_with_a_certificate() {
        use crate::core::auth::default_method;
        use crate::core::metadata::ProviderMetadata;
        use crate::core::options::AuthMethod;
        let meta = |methods: Value| {
            let mut doc = json!({
                "issuer": "https://op.example", "authorization_endpoint": "https://op.example/a",
                "jwks_uri": "https://op.example/j", "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            });
            if !methods.is_null() {
                doc["token_endpoint_auth_methods_supported"] = methods;
            }
            ProviderMetadata::parse(&doc).unwrap()
        };
        let both = meta(json!(["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"]));
        assert_eq!(default_method(&both, false, false, true), AuthMethod::TlsClientAuth);
        let only_self = meta(json!(["self_signed_tls_client_auth", "client_secret_basic"]));
        assert_eq!(default_method(&only_self, false, false, true), AuthMethod::SelfSignedTlsClientAuth);
        assert_eq!(default_method(&meta(Value::Null), false, false, true), AuthMethod::TlsClientAuth);
        // With a secret or a key, the certificate is for bound tokens; the method stays.
        assert_eq!(default_method(&both, true, false, true), AuthMethod::ClientSecretBasic);
        assert_eq!(default_method(&both, false, true, true), AuthMethod::PrivateKeyJwt);
        assert_eq!(default_method(&both, false, false, false), AuthMethod::None);
    }

    #[test]
    fn x5t_is_base64url_sha256() {
        // SHA-256("") = e3b0c442...; base64url without padding.
        assert_eq!(x5t_s256(b""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }
}
