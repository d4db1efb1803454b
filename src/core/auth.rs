//! Client authentication at the token, introspection, revocation and device
//! authorization endpoints: client_secret_basic, client_secret_post,
//! client_secret_jwt, private_key_jwt, tls_client_auth and self_signed_tls_client_auth
//! (RFC 8705 §2: the certificate itself is presented by the HTTP agent, see `mtls.rs`)
//! and none.

use crate::core::secret::Secret;
use crate::core::error::{Error, Result};
use crate::core::jose::b64_encode;
use crate::core::metadata::ProviderMetadata;
use crate::core::options::AuthMethod;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Lifetime of a client assertion: short, it is used at once.
const ASSERTION_LIFETIME_S: i64 = 60;

/// A private key for private_key_jwt, with the algorithm it signs with.
pub struct SigningKey {
    key: EncodingKey,
    alg: Algorithm,
    kid: Option<String>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?}, kid {:?})", self.alg, self.kid)
    }
}

impl SigningKey {
    /// Loads a PEM private key (PKCS#8, or PKCS#1 for RSA) and picks its
    /// algorithm: RS256 for RSA, ES256/ES384 for P-256/P-384, EdDSA for Ed25519.
    pub fn from_pem(pem: &str, kid: Option<String>) -> Result<SigningKey> {
        let bytes = pem.as_bytes();
        let mut candidates: Vec<(EncodingKey, Algorithm)> = Vec::new();
        if let Ok(k) = EncodingKey::from_ed_pem(bytes) {
            candidates.push((k, Algorithm::EdDSA));
        }
        if let Ok(k) = EncodingKey::from_ec_pem(bytes) {
            candidates.push((k.clone(), Algorithm::ES256));
            candidates.push((k, Algorithm::ES384));
        }
        if let Ok(k) = EncodingKey::from_rsa_pem(bytes) {
            candidates.push((k, Algorithm::RS256));
        }
        for (key, alg) in candidates {
            // A trial signature tells which curve/key type this really is.
            if jsonwebtoken::encode(&Header::new(alg), &json!({"probe": true}), &key).is_ok() {
                return Ok(SigningKey { key, alg, kid });
            }
        }
        Err(Error::invalid_argument(
            "private_key_pem is not a usable RSA, P-256, P-384 or Ed25519 private key in PEM form",
        ))
    }
}

impl SigningKey {
    /// The JWS algorithms this key can sign with, the key's default first:
    /// an RSA key also signs PS256 and the longer RS/PS hashes.
    pub fn algs(&self) -> Vec<Algorithm> {
        use Algorithm::*;
        match self.alg {
            RS256 => vec![RS256, PS256, RS384, PS384, RS512, PS512],
            other => vec![other],
        }
    }

    /// Signs `claims` as a JWT with `alg` (one of [`SigningKey::algs`]) and
    /// the header `typ`, with this key's `kid`.
    pub fn sign(&self, alg: Algorithm, typ: &str, claims: &serde_json::Value) -> Result<String> {
        let mut header = Header::new(alg);
        header.kid = self.kid.clone();
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| Error::internal(format!("could not sign the JWT with {alg:?}: {e}")))
    }
}

/// Signs `claims` as an HS256 JWT keyed with the client secret, header `typ`.
pub fn sign_hs256(secret: &Secret, typ: &str, claims: &serde_json::Value) -> Result<String> {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(typ.to_owned());
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    jsonwebtoken::encode(&header, claims, &key).map_err(|e| Error::internal(format!("could not sign the JWT with HS256: {e}")))
}

/// A random identifier for a `jti` claim: 24 bytes, base64url.
pub fn random_jti() -> String {
    random_id()
}

/// The method to use when the caller did not choose one.
///
/// A configured private key means private_key_jwt when the provider advertises
/// it, or when the client has no secret to fall back on. With a secret, soidc
/// uses client_secret_basic when the provider advertises it (the method every
/// OAuth server must support, RFC 6749 §2.3.1), else client_secret_post, else
/// client_secret_jwt (only when it is the one secret method advertised: most
/// providers bind a client to one registered method, so the stronger
/// client_secret_jwt is never preferred over an advertised basic or post; set
/// `auth_method` to use it). With no advertised list, basic is assumed (RFC 8414
/// §2). Unlike simple_openid_connect, soidc works with providers that do not
/// advertise basic.
///
/// A client whose only credential is a client certificate (`client_cert_file`) uses
/// `tls_client_auth` (RFC 8705 §2.1) unless the provider advertises only
/// `self_signed_tls_client_auth` (§2.2); with a secret or a key as well, the certificate
/// is taken to be for certificate-bound tokens and the choice above stands.
pub fn default_method(metadata: &ProviderMetadata, has_secret: bool, has_key: bool, has_cert: bool) -> AuthMethod {
    let advertised = metadata
        .token_endpoint_auth_methods_supported
        .clone()
        .unwrap_or_else(|| vec!["client_secret_basic".into()]);
    let offers = |m: AuthMethod| advertised.iter().any(|a| a == m.name());
    if has_key && offers(AuthMethod::PrivateKeyJwt) {
        return AuthMethod::PrivateKeyJwt;
    }
    if has_secret {
        for m in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::ClientSecretJwt] {
            if offers(m) {
                return m;
            }
        }
        return AuthMethod::ClientSecretBasic;
    }
    if has_key {
        return AuthMethod::PrivateKeyJwt;
    }
    if has_cert {
        if !offers(AuthMethod::TlsClientAuth) && offers(AuthMethod::SelfSignedTlsClientAuth) {
            return AuthMethod::SelfSignedTlsClientAuth;
        }
        return AuthMethod::TlsClientAuth;
    }
    AuthMethod::None
}

/// Appends the form-urlencoding of a client id or secret, as it goes into Basic
/// credentials (RFC 6749 §2.3.1); a value with nothing to encode is copied at once.
fn push_form_encoded(out: &mut String, s: &str) {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')) {
        out.push_str(s);
    } else {
        out.extend(url::form_urlencoded::byte_serialize(s.as_bytes()));
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::fill(&mut bytes).expect("system RNG");
    b64_encode(&bytes)
}

/// How to authenticate one request.
pub struct Authenticator<'a> {
    pub method: AuthMethod,
    pub client_id: &'a str,
    pub secret: Option<&'a Secret>,
    pub key: Option<&'a SigningKey>,
    /// The `aud` of client assertions.
    pub assertion_audience: &'a str,
}

/// Adds the credentials to a request's form and headers.
pub fn apply(a: &Authenticator<'_>, form: &mut Vec<(String, String)>, headers: &mut Vec<(String, String)>) -> Result<()> {
    let need_secret = || {
        a.secret.ok_or_else(|| {
            Error::invalid_argument(format!("auth_method {} needs a client secret", a.method.name()))
        })
    };
    match a.method {
        AuthMethod::ClientSecretBasic => {
            let secret = need_secret()?;
            // Built in place, and the copy of the secret in `pair` wiped when dropped.
            let mut pair = zeroize::Zeroizing::new(String::with_capacity(
                3 * (a.client_id.len() + secret.expose().len()) + 1,
            ));
            push_form_encoded(&mut pair, a.client_id);
            pair.push(':');
            push_form_encoded(&mut pair, secret.expose());
            let mut value = String::with_capacity(6 + pair.len().div_ceil(3) * 4);
            value.push_str("Basic ");
            base64::Engine::encode_string(&base64::engine::general_purpose::STANDARD, pair.as_bytes(), &mut value);
            headers.push(("Authorization".into(), value));
        }
        AuthMethod::ClientSecretPost => {
            let secret = need_secret()?;
            form.push(("client_id".into(), a.client_id.into()));
            form.push(("client_secret".into(), secret.expose().into()));
        }
        AuthMethod::ClientSecretJwt => {
            let secret = need_secret()?;
            let key = EncodingKey::from_secret(secret.expose().as_bytes());
            let jwt = assertion(a, &key, Algorithm::HS256, None)?;
            push_assertion(form, a.client_id, jwt);
        }
        AuthMethod::PrivateKeyJwt => {
            let key = a.key.ok_or_else(|| {
                Error::invalid_argument("auth_method private_key_jwt needs private_key_pem")
            })?;
            let jwt = assertion(a, &key.key, key.alg, key.kid.clone())?;
            push_assertion(form, a.client_id, jwt);
        }
        // RFC 8705 §2: the client is authenticated by the certificate the HTTP agent
        // presents in the TLS handshake; the request carries client_id in the body.
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::None => {
            form.push(("client_id".into(), a.client_id.into()))
        }
    }
    Ok(())
}

fn push_assertion(form: &mut Vec<(String, String)>, client_id: &str, jwt: String) {
    form.push(("client_id".into(), client_id.into()));
    form.push(("client_assertion_type".into(), ASSERTION_TYPE.into()));
    form.push(("client_assertion".into(), jwt));
}

/// A client assertion (RFC 7523 §3): iss = sub = client id, aud, a unique
/// jti, and a short exp.
fn assertion(a: &Authenticator<'_>, key: &EncodingKey, alg: Algorithm, kid: Option<String>) -> Result<String> {
    let now = crate::core::claims::now();
    let claims = json!({
        "iss": a.client_id,
        "sub": a.client_id,
        "aud": a.assertion_audience,
        "jti": random_id(),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_S,
    });
    let mut header = Header::new(alg);
    header.kid = kid;
    jsonwebtoken::encode(&header, &claims, key)
        .map_err(|e| Error::internal(format!("could not sign the client assertion: {e}")))
}
