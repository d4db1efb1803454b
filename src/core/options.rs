//! Options objects. Every options document is a JSON object whose keys are
//! checked: an unknown key is an error, so that a typo never silently weakens a
//! check. Ranges are checked here too, so that the rest of the core works with
//! values that make sense.

use crate::core::error::{Error, Result};
use crate::core::jose::Alg;
use crate::core::secret::{read_secret_file, Secret};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::time::Duration;

/// Parses an optional options document into `T` (`None` = all defaults).
pub fn parse<T: DeserializeOwned + Default>(json: Option<&str>, what: &str) -> Result<T> {
    let Some(json) = json else { return Ok(T::default()) };
    // Strict: a repeated key is refused (it would let text appended by a careless
    // `snprintf` override an earlier value), and so is `null` (omit a key for its default).
    let value = crate::core::json::parse_str(json)
        .map_err(|e| Error::invalid_argument(format!("{what}: malformed JSON: {e}")))?;
    let Some(members) = value.as_object() else {
        return Err(Error::invalid_argument(format!("{what}: must be a JSON object")));
    };
    if let Some((key, _)) = members.iter().find(|(_, v)| v.is_null()) {
        return Err(Error::invalid_argument(format!(
            "{what}: option {} is null; omit it to get its default", crate::core::error::quote_untrusted(key)
        )));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            Error::invalid_argument(format!("{what}: {inner}"))
        } else {
            Error::invalid_argument(format!("{what}: option \"{path}\": {inner}"))
        }
    })
}

pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub(crate) const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
pub(crate) const MAX_TIMEOUT_MS: u64 = 600_000;
pub(crate) const DEFAULT_LEEWAY_S: u64 = 30;
pub(crate) const MAX_LEEWAY_S: u64 = 300;
pub(crate) const DEFAULT_MIN_JWKS_CACHE_S: u64 = 600;
/// Whatever the provider's Cache-Control says, keys are re-read at least daily.
pub(crate) const MAX_JWKS_CACHE_S: u64 = 86_400;
/// The largest `provider_down_backoff_s`.
pub(crate) const MAX_PROVIDER_DOWN_BACKOFF_S: u64 = 3600;
pub(crate) const DEFAULT_JWKS_REFETCH_MIN_INTERVAL_S: u64 = 10;
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
pub(crate) const MAX_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// DPoP at a resource server (RFC 9449 §11.1): the replay cache's default size, about
/// 300 requests a second over the default 300-second window plus leeway; an entry costs
/// roughly 100 bytes, so the default cache stays under 10 MB when full.
pub(crate) const DEFAULT_DPOP_REPLAY_CACHE_ENTRIES: u64 = 100_000;
pub(crate) const MAX_DPOP_REPLAY_CACHE_ENTRIES: u64 = 10_000_000;
pub(crate) const DEFAULT_DPOP_REPLAY_WINDOW_S: u64 = 300;
/// The longest DPoP proof age (`dpop_max_age_s`) and replay window (`dpop_replay_window_s`).
pub(crate) const MAX_DPOP_WINDOW_S: u64 = 3_600;

/// `options_json` of `soidc_client_from_issuer_url` / `_config`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientOptions {
    pub timeout_ms: Option<u64>,
    /// Bounds the creation call itself (discovery); default `timeout_ms`.
    pub create_timeout_ms: Option<u64>,
    pub connect_timeout_ms: Option<u64>,
    pub ca_file: Option<String>,
    pub proxy: Option<String>,
    pub leeway_s: Option<u64>,
    pub min_jwks_cache_s: Option<u64>,
    pub jwks_refetch_min_interval_s: Option<u64>,
    pub auth_method: Option<String>,
    pub private_key_pem: Option<Secret>,
    /// A PEM private key read from a file (owner and mode checked).
    pub private_key_file: Option<String>,
    /// The client secret read from a file (owner and mode checked).
    pub client_secret_file: Option<String>,
    pub private_key_kid: Option<String>,
    pub allowed_algs: Option<Vec<String>>,
    pub max_response_bytes: Option<u64>,
    pub allow_insecure_http: Option<bool>,
    /// The issuer this client is for: required by `soidc_client_from_state`; elsewhere,
    /// when given, it must equal the issuer discovered or given.
    pub issuer: Option<String>,
    /// A directory keeping the provider state per issuer (see `state.rs`).
    pub cache_dir: Option<String>,
    /// With `cache_dir`: after a request to the provider failed at the network level,
    /// every client of this issuer sharing the directory refuses requests at once for
    /// this many seconds (`SOIDC_ERR_NETWORK`, reason `provider_down`).
    pub provider_down_backoff_s: Option<u64>,
    /// The client is registered to use pushed authorization requests only (RFC 9126).
    pub require_par: Option<bool>,
    /// DPoP (RFC 9449): `true` (ES256, or the algorithm of `dpop_key_pem`), `false`, or an
    /// algorithm name.
    pub dpop: Option<DpopChoice>,
    /// The DPoP private key as PEM (default: one generated at client creation).
    pub dpop_key_pem: Option<Secret>,
    /// The DPoP private key read from a PEM file (owner and mode checked).
    pub dpop_key_file: Option<String>,
    /// Resource server: how many DPoP proof `jti`s the replay cache holds (RFC 9449 §11.1).
    pub dpop_replay_cache_entries: Option<u64>,
    /// Resource server: how long (seconds) a DPoP proof's `jti` is remembered; proofs older
    /// than this are refused whatever `dpop_max_age_s` says.
    pub dpop_replay_window_s: Option<u64>,
    /// Resource server: how many verified tokens the verified-token cache holds (0: off;
    /// see `verified_cache.rs`).
    pub verified_cache_entries: Option<u64>,
    /// RFC 8705: the client certificate (PEM, leaf first) presented in mutual TLS.
    pub client_cert_file: Option<String>,
    /// RFC 8705: the private key of `client_cert_file` (PEM).
    pub client_key_file: Option<String>,
}

/// The client option `dpop`: a switch or an algorithm name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DpopChoice {
    Switch(bool),
    Alg(String),
}

/// The checked DPoP settings of a client: the algorithm asked for (`None`: ES256 for a
/// generated key, the key's own for a given one) and the key given, if any.
#[derive(Debug, Clone)]
pub struct DpopConfig {
    pub alg: Option<crate::core::dpop::DpopAlg>,
    pub key_pem: Option<Secret>,
    /// The option the key came from, for messages.
    pub key_option: &'static str,
}

/// Client authentication at the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    /// RFC 8705 §2.1: PKI mutual TLS (a certificate from a CA the provider trusts).
    TlsClientAuth,
    /// RFC 8705 §2.2: a self-signed certificate registered with the provider.
    SelfSignedTlsClientAuth,
    None,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "client_secret_basic" => AuthMethod::ClientSecretBasic,
            "client_secret_post" => AuthMethod::ClientSecretPost,
            "client_secret_jwt" => AuthMethod::ClientSecretJwt,
            "private_key_jwt" => AuthMethod::PrivateKeyJwt,
            "tls_client_auth" => AuthMethod::TlsClientAuth,
            "self_signed_tls_client_auth" => AuthMethod::SelfSignedTlsClientAuth,
            "none" => AuthMethod::None,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::None => "none",
        }
    }
}

/// The checked, defaulted form of [`ClientOptions`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub timeout: Duration,
    pub create_timeout: Duration,
    pub connect_timeout: Duration,
    pub ca_file: Option<String>,
    pub proxy: Option<String>,
    pub leeway_s: u64,
    pub min_jwks_cache_s: u64,
    pub jwks_refetch_min_interval_s: u64,
    pub auth_method: Option<AuthMethod>,
    pub private_key_pem: Option<Secret>,
    /// The client secret read from `client_secret_file`.
    pub client_secret_from_file: Option<Secret>,
    pub private_key_kid: Option<String>,
    /// `None`: the provider's advertised asymmetric algorithms.
    pub allowed_algs: Option<Vec<Alg>>,
    pub max_response_bytes: u64,
    pub allow_insecure_http: bool,
    pub issuer: Option<String>,
    pub cache_dir: Option<String>,
    pub provider_down_backoff: Option<Duration>,
    /// Push every authorization request (RFC 9126) unless a call says `par: false`.
    pub require_par: bool,
    /// DPoP (RFC 9449) when on.
    pub dpop: Option<DpopConfig>,
    /// Capacity of the DPoP proof replay cache (entries).
    pub dpop_replay_cache_entries: usize,
    /// How long a DPoP proof `jti` is remembered, in seconds.
    pub dpop_replay_window_s: u64,
    /// The certificate and key presented in mutual TLS (RFC 8705), when configured.
    pub client_cert: Option<crate::core::mtls::ClientCertificate>,
    /// Capacity of the verified-token cache (0: no cache).
    pub verified_cache_entries: usize,
}

pub fn check_timeout_ms(name: &str, v: u64) -> Result<Duration> {
    if v == 0 || v > MAX_TIMEOUT_MS {
        return Err(Error::invalid_argument(format!(
            "{name} must be between 1 and {MAX_TIMEOUT_MS}, got {v}"
        )));
    }
    Ok(Duration::from_millis(v))
}

/// Parses a list of algorithm names; `none` and unknown names are refused.
pub fn parse_algs(names: &[String], what: &str) -> Result<Vec<Alg>> {
    if names.is_empty() {
        return Err(Error::invalid_argument(format!("{what} must not be empty")));
    }
    names
        .iter()
        .map(|n| {
            if n.eq_ignore_ascii_case("none") {
                return Err(Error::invalid_argument(format!(
                    "{what}: \"none\" is never accepted (unsigned tokens)"
                )));
            }
            Alg::parse(n).ok_or_else(|| {
                Error::invalid_argument(format!("{what}: unknown or unsupported algorithm \"{n}\""))
            })
        })
        .collect()
}

impl ClientOptions {
    pub fn resolve(self) -> Result<ClientConfig> {
        let timeout = check_timeout_ms("timeout_ms", self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS))?;
        let create_timeout = match self.create_timeout_ms {
            Some(ms) => check_timeout_ms("create_timeout_ms", ms)?,
            None => timeout,
        };
        let connect_timeout = check_timeout_ms(
            "connect_timeout_ms",
            self.connect_timeout_ms.unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS),
        )?;
        let leeway_s = self.leeway_s.unwrap_or(DEFAULT_LEEWAY_S);
        if leeway_s > MAX_LEEWAY_S {
            return Err(Error::invalid_argument(format!(
                "leeway_s must be at most {MAX_LEEWAY_S}, got {leeway_s}"
            )));
        }
        let min_jwks_cache_s = self.min_jwks_cache_s.unwrap_or(DEFAULT_MIN_JWKS_CACHE_S);
        if min_jwks_cache_s > MAX_JWKS_CACHE_S {
            return Err(Error::invalid_argument(format!(
                "min_jwks_cache_s must be at most {MAX_JWKS_CACHE_S}, got {min_jwks_cache_s}"
            )));
        }
        let jwks_refetch_min_interval_s =
            self.jwks_refetch_min_interval_s.unwrap_or(DEFAULT_JWKS_REFETCH_MIN_INTERVAL_S);
        if jwks_refetch_min_interval_s > MAX_JWKS_CACHE_S {
            return Err(Error::invalid_argument(format!(
                "jwks_refetch_min_interval_s must be at most {MAX_JWKS_CACHE_S}, got {jwks_refetch_min_interval_s}"
            )));
        }
        let auth_method = match self.auth_method.as_deref() {
            None => None,
            Some(s) => Some(AuthMethod::parse(s).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "auth_method: unknown method \"{s}\" (expected client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth or none)"
                ))
            })?),
        };
        let private_key_pem = match (self.private_key_pem, &self.private_key_file) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_argument("private_key_pem and private_key_file exclude each other"))
            }
            (Some(pem), None) => Some(pem),
            (None, Some(path)) => Some(read_secret_file(path, "private_key_file", false)?),
            (None, None) => None,
        };
        let client_secret_from_file = match &self.client_secret_file {
            Some(path) => Some(read_secret_file(path, "client_secret_file", true)?),
            None => None,
        };
        if auth_method == Some(AuthMethod::PrivateKeyJwt) && private_key_pem.is_none() {
            return Err(Error::invalid_argument("auth_method private_key_jwt needs private_key_pem or private_key_file"));
        }
        let client_cert = match (&self.client_cert_file, &self.client_key_file) {
            (Some(cert), Some(key)) => Some(crate::core::mtls::ClientCertificate::from_files(cert, key)?),
            (None, None) => None,
            _ => {
                return Err(Error::invalid_argument(
                    "client_cert_file and client_key_file go together; give both or neither",
                ))
            }
        };
        if matches!(auth_method, Some(AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth))
            && client_cert.is_none()
        {
            return Err(Error::invalid_argument(format!(
                "auth_method {} needs client_cert_file and client_key_file (RFC 8705 §2)",
                auth_method.map_or("", |m| m.name())
            )));
        }
        let allowed_algs = match &self.allowed_algs {
            None => None,
            Some(list) => Some(parse_algs(list, "allowed_algs")?),
        };
        let max_response_bytes = self.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if !(1024..=MAX_MAX_RESPONSE_BYTES).contains(&max_response_bytes) {
            return Err(Error::invalid_argument(format!(
                "max_response_bytes must be between 1024 and {MAX_MAX_RESPONSE_BYTES}, got {max_response_bytes}"
            )));
        }
        if self.issuer.as_deref() == Some("") {
            return Err(Error::invalid_argument("issuer must not be empty"));
        }
        if self.cache_dir.as_deref() == Some("") {
            return Err(Error::invalid_argument("cache_dir must not be empty"));
        }
        let dpop_replay_cache_entries =
            self.dpop_replay_cache_entries.unwrap_or(DEFAULT_DPOP_REPLAY_CACHE_ENTRIES);
        if !(1..=MAX_DPOP_REPLAY_CACHE_ENTRIES).contains(&dpop_replay_cache_entries) {
            return Err(Error::invalid_argument(format!(
                "dpop_replay_cache_entries must be between 1 and {MAX_DPOP_REPLAY_CACHE_ENTRIES}, got {dpop_replay_cache_entries}"
            )));
        }
        let verified_cache_entries = self.verified_cache_entries.unwrap_or(0);
        if verified_cache_entries > crate::core::verified_cache::MAX_ENTRIES {
            return Err(Error::invalid_argument(format!(
                "verified_cache_entries must be between 0 and {}, got {verified_cache_entries}",
                crate::core::verified_cache::MAX_ENTRIES
            )));
        }
        let dpop_replay_window_s = self.dpop_replay_window_s.unwrap_or(DEFAULT_DPOP_REPLAY_WINDOW_S);
        if !(1..=MAX_DPOP_WINDOW_S).contains(&dpop_replay_window_s) {
            return Err(Error::invalid_argument(format!(
                "dpop_replay_window_s must be between 1 and {MAX_DPOP_WINDOW_S}, got {dpop_replay_window_s}"
            )));
        }
        let provider_down_backoff = match self.provider_down_backoff_s {
            None => None,
            Some(_) if self.cache_dir.is_none() => {
                return Err(Error::invalid_argument(
                    "provider_down_backoff_s needs cache_dir (the outage is recorded there for the other processes)",
                ))
            }
            Some(s) if (1..=MAX_PROVIDER_DOWN_BACKOFF_S).contains(&s) => Some(Duration::from_secs(s)),
            Some(s) => {
                return Err(Error::invalid_argument(format!(
                    "provider_down_backoff_s must be between 1 and {MAX_PROVIDER_DOWN_BACKOFF_S}, got {s}"
                )))
            }
        };
        if let Some(proxy) = &self.proxy {
            if proxy.is_empty() {
                return Err(Error::invalid_argument("proxy must not be empty"));
            }
        }
        let dpop = resolve_dpop(self.dpop, self.dpop_key_pem, self.dpop_key_file.as_deref())?;
        Ok(ClientConfig {
            timeout,
            create_timeout,
            connect_timeout,
            ca_file: self.ca_file,
            proxy: self.proxy,
            leeway_s,
            min_jwks_cache_s,
            jwks_refetch_min_interval_s,
            auth_method,
            private_key_pem,
            client_secret_from_file,
            private_key_kid: self.private_key_kid,
            allowed_algs,
            max_response_bytes,
            allow_insecure_http: self.allow_insecure_http.unwrap_or(false),
            issuer: self.issuer,
            cache_dir: self.cache_dir,
            provider_down_backoff,
            require_par: self.require_par.unwrap_or(false),
            dpop,
            dpop_replay_cache_entries: dpop_replay_cache_entries as usize,
            dpop_replay_window_s,
            client_cert,
            verified_cache_entries: verified_cache_entries as usize,
        })
    }
}

/// The options `dpop`, `dpop_key_pem` and `dpop_key_file` together: a key given turns
/// DPoP on (unless `dpop` is false, which contradicts it).
fn resolve_dpop(choice: Option<DpopChoice>, pem: Option<Secret>, file: Option<&str>) -> Result<Option<DpopConfig>> {
    use crate::core::dpop::{DpopAlg, MAX_KEY_PEM_BYTES};
    let (key_pem, key_option) = match (pem, file) {
        (Some(_), Some(_)) => return Err(Error::invalid_argument("dpop_key_pem and dpop_key_file exclude each other")),
        (Some(pem), None) => {
            if pem.expose().len() > MAX_KEY_PEM_BYTES {
                return Err(Error::invalid_argument(format!(
                    "dpop_key_pem is {} bytes, more than the {MAX_KEY_PEM_BYTES}-byte limit of a PEM private key",
                    pem.expose().len()
                )));
            }
            (Some(pem), "dpop_key_pem")
        }
        (None, Some(path)) => (Some(read_secret_file(path, "dpop_key_file", false)?), "dpop_key_file"),
        (None, None) => (None, "dpop_key_pem"),
    };
    let alg = match &choice {
        None | Some(DpopChoice::Switch(true)) => None,
        Some(DpopChoice::Switch(false)) if key_pem.is_some() => {
            return Err(Error::invalid_argument(format!("dpop is false but {key_option} gives a DPoP key")))
        }
        Some(DpopChoice::Switch(false)) => return Ok(None),
        Some(DpopChoice::Alg(name)) => Some(DpopAlg::parse(name).ok_or_else(|| {
            Error::invalid_argument(format!(
                "dpop: {} is not true, false, \"ES256\", \"EdDSA\", \"PS256\" or \"RS256\"",
                crate::core::error::quote_untrusted(name)
            ))
        })?),
    };
    let on = matches!(choice, Some(DpopChoice::Switch(true)) | Some(DpopChoice::Alg(_))) || key_pem.is_some();
    Ok(on.then_some(DpopConfig { alg, key_pem, key_option }))
}

/// Options every network-touching call accepts.
#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct CallOptions {
    pub timeout_ms: Option<u64>,
}

impl CallOptions {
    pub fn timeout(&self) -> Result<Option<Duration>> {
        self.timeout_ms.map(|v| check_timeout_ms("timeout_ms", v)).transpose()
    }
}

/// `options_json` of `soidc_decode_id_token`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdTokenOptions {
    pub timeout_ms: Option<u64>,
    pub nonce: Option<String>,
    /// Skip the nonce check (a token carrying a nonce is otherwise refused when no
    /// `nonce` is given). Refused together with `nonce`.
    pub ignore_nonce: Option<bool>,
    pub extra_trusted_audiences: Option<Vec<String>>,
    /// Seconds, fractions allowed (Python's `time.time()`).
    pub min_iat: Option<f64>,
    pub min_auth_time: Option<i64>,
    pub max_age: Option<u64>,
    pub expect_self_azp: Option<bool>,
    pub access_token: Option<String>,
    pub code: Option<String>,
    /// Validate against cached keys only; never touch the network.
    pub cache_only: Option<bool>,
    /// The token's `acr` must be one of these (beside the ACR callback, if any).
    pub acr_values_allowed: Option<Vec<String>>,
    /// Claim rules (see `claim_rules.rs`), parsed strictly here.
    pub require_claims: Option<crate::core::claim_rules::ClaimRules>,
}

impl IdTokenOptions {
    /// The checks these options ask for; contradictory or empty options are refused.
    pub fn into_checks(self) -> Result<crate::core::id_token::IdTokenChecks> {
        let ignore_nonce = self.ignore_nonce.unwrap_or(false);
        if ignore_nonce && self.nonce.is_some() {
            return Err(Error::invalid_argument(
                "options_json: nonce and ignore_nonce contradict each other; give one of them",
            ));
        }
        Ok(crate::core::id_token::IdTokenChecks {
            nonce: self.nonce,
            ignore_nonce,
            extra_trusted_audiences: self.extra_trusted_audiences.unwrap_or_default(),
            min_iat: self.min_iat.map(|v| check_min_iat(v, "options_json")).transpose()?,
            min_auth_time: self.min_auth_time,
            max_age: self.max_age,
            expect_self_azp: self.expect_self_azp.unwrap_or(true),
            access_token: self.access_token,
            code: self.code,
            acr_values_allowed: check_acr_values_allowed(self.acr_values_allowed, "options_json")?,
            require_claims: self.require_claims,
        })
    }
}

/// `min_iat`: a finite, non-negative number of seconds (JSON cannot carry NaN or infinities,
/// but a value beyond any NumericDate soidc reads is a caller error too).
pub fn check_min_iat(v: f64, what: &str) -> Result<f64> {
    if !(0.0..1e15).contains(&v) {
        return Err(Error::invalid_argument(format!(
            "{what}: min_iat must be a number of seconds between 0 and 1e15, got {v}"
        )));
    }
    Ok(v)
}

/// `acr_values_allowed`: a non-empty list (an empty one would refuse every token).
pub fn check_acr_values_allowed(list: Option<Vec<String>>, what: &str) -> Result<Option<Vec<String>>> {
    match list {
        Some(l) if l.is_empty() => Err(Error::invalid_argument(format!(
            "{what}: acr_values_allowed must not be empty (omit it to accept any acr)"
        ))),
        other => Ok(other),
    }
}

/// A token passed as an argument (subject token, registration access token, ...): not
/// empty and at most `max` bytes, checked before anything is sent.
pub(crate) fn check_token_arg(what: &str, token: &str, max: usize) -> Result<()> {
    if token.is_empty() {
        return Err(Error::invalid_argument(format!("{what} is empty")));
    }
    if token.len() > max {
        return Err(Error::invalid_argument(format!(
            "{what} is {} bytes, more than the {max}-byte limit",
            token.len()
        )));
    }
    Ok(())
}
