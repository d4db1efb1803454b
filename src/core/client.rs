//! The client: provider metadata, the client's registration, HTTP, and keys.
//! A `Client` is immutable after construction apart from its internally
//! synchronised caches, so one client serves many threads at once.

use crate::core::claims::{self, Claims};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::http::{check_url, Http, RequestOptions};
use crate::core::id_token::{self, AcrCheck, IdTokenChecks};
use crate::core::jose::{self, Alg, Jws};
use crate::core::keys::{KeyCache, KeyPolicy};
use crate::core::log::Level;
use crate::core::metadata::ProviderMetadata;
use crate::core::auth::{self, Authenticator, SigningKey};
use crate::core::options::{self, AuthMethod, ClientConfig, ClientOptions, IdTokenOptions};
use crate::core::state::{self, FileCache};
use std::sync::Arc;
use std::time::SystemTime;
use crate::log_at;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// simple_openid_connect's client type: confidential when a secret was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Public,
    Confidential,
}

pub use crate::core::secret::Secret;

/// The registration-side parameters common to both constructors.
#[derive(Debug, Default)]
pub struct ClientParams<'a> {
    pub redirect_uri: Option<&'a str>,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub options: Option<&'a str>,
}

pub struct Client {
    pub(crate) issuer: String,
    pub(crate) metadata: ProviderMetadata,
    metadata_doc: Value,
    /// When the metadata was discovered (or given, or the time an imported state says).
    metadata_fetched_at: SystemTime,
    /// The `cache_dir` file of this issuer, written back after key fetches and imports.
    cache: Option<Arc<FileCache>>,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) scope: String,
    pub(crate) config: ClientConfig,
    algs: Vec<Alg>,
    pub(crate) http: Http,
    keys: KeyCache,
    auth_method: AuthMethod,
    signing_key: Option<SigningKey>,
    log: std::sync::RwLock<Option<crate::core::log::Target>>,
    /// Whether `log` holds a target: read (never written) on every call, so that a client
    /// without a log sink of its own takes no lock and touches no shared counter there.
    has_log: std::sync::atomic::AtomicBool,
    /// `jti`s of accepted logout tokens without `exp` (`allow_missing_exp`).
    pub(crate) logout_jtis: crate::core::replay::JtiCache,
    /// The DPoP key (RFC 9449) when the client option `dpop` is on.
    pub(crate) dpop: Option<crate::core::dpop::DpopKey>,
    /// The DPoP nonces servers gave this client, per origin (RFC 9449 §8, §9).
    pub(crate) dpop_nonces: crate::core::dpop::NonceStore,
    /// `jti`s of accepted DPoP proofs, scoped by key thumbprint (RFC 9449 §11.1).
    pub(crate) dpop_jtis: crate::core::replay::JtiCache,
    /// DPoP proof headers already checked, parsed (see `dpop_verify::ProofKeyCache`).
    pub(crate) dpop_keys: crate::core::dpop_verify::ProofKeyCache,
    /// Tokens whose signature verified (client option `verified_cache_entries`).
    verified: Option<crate::core::verified_cache::VerifiedCache>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_type", &self.client_type())
            .finish_non_exhaustive()
    }
}

/// A validated token: its payload exactly as signed (a JSON object, checked strictly).
/// The claims map is built only when asked for ([`Decoded::claims`]): the C API hands out
/// the payload itself.
#[derive(Debug)]
pub struct Decoded {
    pub payload: Vec<u8>,
}

impl Decoded {
    /// Every claim as a map.
    pub fn claims(&self) -> Result<Claims> {
        crate::core::json::parse_object(&self.payload)
            .map_err(|e| Error::internal(format!("a validated token payload could not be read again: {e}")))
    }

    /// The claims document: the signed payload itself (a JSON object; JSON is UTF-8).
    pub fn into_document(self) -> String {
        String::from_utf8(self.payload).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// See [`Client::verified_cache_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedCacheStats {
    pub capacity: usize,
    pub entries: usize,
    pub hits: u64,
    /// The negative table (signature failures): its capacity, entries held, hits so far.
    pub failure_capacity: usize,
    pub failure_entries: usize,
    pub failure_hits: u64,
}

/// `options_json` of `soidc_client_provider_keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysOptions {
    pub timeout_ms: Option<u64>,
    /// Fetch now even if the cached set is fresh (a worker's refresh timer).
    pub force_refresh: Option<bool>,
    /// Never fetch; fail if nothing is cached.
    pub cache_only: Option<bool>,
}

/// `options_json` of `soidc_client_export_state` (no options yet; unknown keys are refused).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {}

/// `options_json` of `soidc_client_import_keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportKeysOptions {
    /// How long the keys count as fresh; default `min_jwks_cache_s`, at most a day.
    pub max_age_s: Option<u64>,
}

/// The algorithms tokens may be signed with: `allowed_algs`, or the asymmetric ones
/// the provider advertises (RS256 when it advertises none: OIDC Discovery §3 makes
/// RS256 mandatory to support).
fn choose_algs(metadata: &ProviderMetadata, config: &ClientConfig) -> Vec<Alg> {
    if let Some(list) = &config.allowed_algs {
        return list.clone();
    }
    let mut v: Vec<Alg> = metadata
        .id_token_signing_alg_values_supported
        .iter()
        .filter_map(|n| Alg::parse(n))
        .filter(|a| !a.is_symmetric())
        .collect();
    if v.is_empty() {
        v.push(Alg::RS256);
    }
    v
}

/// The client authentication method: `auth_method` when given (checked against the
/// credentials the client has), otherwise what `auth::default_method` picks.
fn choose_auth_method(
    metadata: &ProviderMetadata,
    config: &ClientConfig,
    has_secret: bool,
    has_key: bool,
) -> Result<AuthMethod> {
    // A certificate-based method without a certificate is refused in `ClientOptions::resolve`.
    let has_cert = config.client_cert.is_some();
    let Some(m) = config.auth_method else {
        return Ok(auth::default_method(metadata, has_secret, has_key, has_cert));
    };
    let needs_secret = matches!(
        m,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
    );
    if needs_secret && !has_secret {
        return Err(Error::invalid_argument(format!(
            "auth_method {} needs a client secret, but this is a public client",
            m.name()
        )));
    }
    Ok(m)
}

/// The client's DPoP key (RFC 9449): the one given (`dpop_key_pem` / `dpop_key_file`) or
/// a new one (ES256 unless `dpop` names another algorithm). Its algorithm must be among
/// the provider's `dpop_signing_alg_values_supported` (§5.1) when the provider lists them.
fn dpop_key(doc: &Value, cfg: crate::core::options::DpopConfig) -> Result<crate::core::dpop::DpopKey> {
    use crate::core::dpop::{DpopAlg, DpopKey};
    let advertised: Option<Vec<&str>> = doc
        .get("dpop_signing_alg_values_supported")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect());
    let offers = |a: DpopAlg| advertised.as_ref().is_none_or(|l| l.contains(&a.name()));
    // An RSA key without an algorithm asked for: PS256, unless the provider lists only RS256.
    let rsa_default = if !offers(DpopAlg::PS256) && offers(DpopAlg::RS256) { DpopAlg::RS256 } else { DpopAlg::PS256 };
    let key = match &cfg.key_pem {
        Some(pem) => DpopKey::from_pem(pem.expose(), cfg.alg, rsa_default, cfg.key_option)?,
        None => DpopKey::generate(cfg.alg.unwrap_or(DpopAlg::ES256))?,
    };
    if !offers(key.alg()) {
        return Err(Error::unsupported(format!(
            "DPoP with {}: the provider's dpop_signing_alg_values_supported ({}) does not list it",
            key.alg().name(),
            advertised.unwrap_or_default().join(", ")
        )));
    }
    Ok(key)
}

fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

impl Client {
    /// Discovery: fetches `<issuer>/.well-known/openid-configuration` and
    /// requires its `issuer` to equal `issuer` exactly (OIDC Discovery §4.3).
    ///
    /// With the option `cache_dir`: a fresh state file of this issuer is used without
    /// any request; otherwise one process at a time (an advisory lock, waited for until
    /// the creation's deadline) discovers, fetches the keys and writes the file, and
    /// the processes that waited use that file.
    pub fn from_issuer_url(issuer: &str, params: ClientParams<'_>) -> Result<Client> {
        let started = std::time::Instant::now();
        let config = Self::check_params(&params)?;
        // The whole creation (discovery included) is bounded by create_timeout_ms.
        let req = RequestOptions { deadline: started + config.create_timeout, budget: config.create_timeout };
        let url = check_url(issuer, "issuer", config.allow_insecure_http)
            .map_err(|e| Error::invalid_argument(e.message))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid_argument(format!(
                "issuer \"{issuer}\" must not have a query or fragment"
            )));
        }
        if let Some(expected) = config.issuer.as_deref().filter(|e| *e != issuer) {
            return Err(Error::invalid_argument(format!(
                "the option issuer {} differs from issuer_url {}",
                crate::core::error::quote_untrusted(expected),
                crate::core::error::quote_untrusted(issuer)
            )));
        }
        let http = Http::new(&config)?;
        let cache = config.cache_dir.as_deref().and_then(|d| FileCache::open(d, issuer)).map(Arc::new);
        if let (Some(cache), Some(backoff)) = (&cache, config.provider_down_backoff) {
            http.watch_outages(cache.clone(), backoff);
        }
        let Some(cache) = cache else {
            let (metadata, doc) = Self::discovery_doc(issuer, &http, req)?;
            return Self::build(metadata, doc, params, config, http);
        };
        if let Some(st) = Self::load_cached(&cache, issuer, &config).filter(|s| s.keys_fresh()) {
            log_at!(Level::Info, "provider state of {issuer} read from {}", cache.path.display());
            return Self::from_checked_state(st, params, config, http, Some(cache));
        }
        // Stale or missing: one process fetches, the others wait for its file (at most half
        // of the creation's budget, so that one still left waiting can fetch by itself).
        let lock = cache.lock(started + config.create_timeout / 2);
        let cached = Self::load_cached(&cache, issuer, &config);
        // Written meanwhile by the process that held the lock (also when this one gave up
        // waiting for it).
        if cached.as_ref().is_some_and(|s| s.keys_fresh()) {
            log_at!(Level::Info, "provider state of {issuer} read from {} (written by another process)", cache.path.display());
            return Self::from_checked_state(cached.expect("checked"), params, config, http, Some(cache));
        }
        let (metadata, doc) = match Self::discovery_doc(issuer, &http, req) {
            Ok(found) => found,
            Err(e) if cached.is_some() && matches!(e.kind, ErrorKind::Network | ErrorKind::Http) => {
                // The provider is unreachable: a state whose keys have expired (but not its
                // metadata) still serves; the keys are refreshed on first use.
                log_at!(Level::Warn, "discovery failed ({}); using the cached state in {}, whose keys are stale", e.message, cache.path.display());
                return Self::from_checked_state(cached.expect("checked"), params, config, http, Some(cache));
            }
            Err(e) => return Err(e),
        };
        let mut client = Self::build(metadata, doc, params, config, http)?;
        client.attach_cache(cache);
        // The keys are fetched now, so that the file is complete; the fetch hook writes it.
        if let Err(e) = client.keys.get(&client.http, KeyPolicy { allow_fetch: true, request: req }) {
            log_at!(Level::Warn, "JWKS fetch for the cache failed ({}); the keys are fetched on first use", e.message);
            client.persist(None);
        }
        drop(lock);
        Ok(client)
    }

    /// The cached state when it can be trusted and read; a problem is a warning.
    fn load_cached(cache: &FileCache, issuer: &str, config: &ClientConfig) -> Option<state::State> {
        let bytes = cache.read()?;
        match state::parse(&bytes, issuer, &|m| choose_algs(m, config))
            .and_then(|s| Self::check_state_endpoints(&s, config).map(|()| s))
        {
            Ok(s) => Some(s),
            Err(e) => {
                log_at!(Level::Warn, "state file {} ignored: {}", cache.path.display(), e.message);
                None
            }
        }
    }

    fn check_state_endpoints(st: &state::State, config: &ClientConfig) -> Result<()> {
        for (name, url) in st.metadata.endpoints() {
            check_url(url, name, config.allow_insecure_http)
                .map_err(|e| Error::invalid_argument(format!("state: {}", e.message)))?;
        }
        Ok(())
    }

    fn from_checked_state(
        st: state::State,
        params: ClientParams<'_>,
        config: ClientConfig,
        http: Http,
        cache: Option<Arc<FileCache>>,
    ) -> Result<Client> {
        let mut client = Self::build(st.metadata, st.metadata_doc, params, config, http)?;
        client.metadata_fetched_at = st.metadata_fetched_at;
        if let Some(k) = st.keys {
            if k.expires_at <= SystemTime::now() {
                log_at!(Level::Info, "the imported keys of {} are stale: they stay in use and are refreshed on first use", client.issuer);
            }
            client.keys.install(k.set, k.fetched_at, k.expires_at);
        }
        if let Some(cache) = cache {
            client.attach_cache(cache);
        }
        Ok(client)
    }

    /// Writes the state back to the cache file after each successful key fetch.
    fn attach_cache(&mut self, cache: Arc<FileCache>) {
        let (issuer, doc, at, hook_cache) = (self.issuer.clone(), self.metadata_doc.clone(), self.metadata_fetched_at, cache.clone());
        self.keys.set_on_fetch(Box::new(move |k| hook_cache.write(&state::export(&issuer, &doc, at, Some(k)))));
        self.cache = Some(cache);
    }

    fn persist(&self, keys: Option<&crate::core::keys::KeysExport>) {
        if let Some(cache) = &self.cache {
            cache.write(&state::export(&self.issuer, &self.metadata_doc, self.metadata_fetched_at, keys));
        }
    }

    /// Creates a client from a state document (see `state.rs`) without network access.
    /// The client option `issuer` is required: the state must belong to it.
    pub fn from_state(state_json: &str, params: ClientParams<'_>) -> Result<Client> {
        let config = Self::check_params(&params)?;
        let expected = config.issuer.clone().ok_or_else(|| {
            Error::invalid_argument("soidc_client_from_state needs the client option \"issuer\": the issuer the state must belong to")
        })?;
        check_url(&expected, "issuer", config.allow_insecure_http).map_err(|e| Error::invalid_argument(e.message))?;
        let st = state::parse(state_json.as_bytes(), &expected, &|m| choose_algs(m, &config))?;
        Self::check_state_endpoints(&st, &config)?;
        let http = Http::new(&config)?;
        let cache = config.cache_dir.as_deref().and_then(|d| FileCache::open(d, &expected)).map(Arc::new);
        if let (Some(cache), Some(backoff)) = (&cache, config.provider_down_backoff) {
            http.watch_outages(cache.clone(), backoff);
        }
        Self::from_checked_state(st, params, config, http, cache)
    }

    /// The provider state as one versioned document (no secrets).
    pub fn export_state(&self, options_json: Option<&str>) -> Result<Value> {
        let _: ExportOptions = options::parse(options_json, "options_json")?;
        Ok(state::export(&self.issuer, &self.metadata_doc, self.metadata_fetched_at, self.keys.export().as_ref()))
    }

    /// Installs a JWKS the host fetched itself; an unusable document changes nothing.
    pub fn import_keys(&self, jwks_json: &str, options_json: Option<&str>) -> Result<()> {
        let o: ImportKeysOptions = options::parse(options_json, "options_json")?;
        let max_age = o.max_age_s.unwrap_or(self.config.min_jwks_cache_s);
        if max_age > options::MAX_JWKS_CACHE_S {
            return Err(Error::invalid_argument(format!(
                "max_age_s must be at most {}, got {max_age}",
                options::MAX_JWKS_CACHE_S
            )));
        }
        if jwks_json.len() > state::MAX_STATE_BYTES {
            return Err(Error::invalid_argument(format!(
                "jwks_json is {} bytes, more than the {} allowed",
                jwks_json.len(),
                state::MAX_STATE_BYTES
            )));
        }
        let doc = crate::core::json::parse_str(jwks_json)
            .map_err(|e| Error::invalid_argument(format!("jwks_json: malformed JSON: {e}")))?;
        let set = Arc::new(state::parse_keys(doc, &self.algs)?);
        let now = SystemTime::now();
        let expires = now + std::time::Duration::from_secs(max_age);
        log_at!(Level::Info, "{} keys imported by the host, fresh for {max_age} s", set.keys.len());
        self.keys.install(set.clone(), now, expires);
        self.persist(Some(&crate::core::keys::KeysExport { set, fetched_at: now, expires_at: expires }));
        Ok(())
    }

    /// Fetches and checks the discovery document of `issuer`.
    pub(crate) fn discovery_doc(issuer: &str, http: &Http, req: RequestOptions) -> Result<(ProviderMetadata, Value)> {
        let resp = http.get(&discovery_url(issuer), "discovery", &[], req)?;
        if resp.status != 200 {
            return Err(Error::http(format!(
                "discovery at {} answered HTTP {} (expected 200)",
                resp.host, resp.status
            ))
            .with_detail("http_status", resp.status));
        }
        let doc: Value = crate::core::json::parse_slice(&resp.body).map_err(|e| {
            Error::http(format!(
                "discovery document from {} is not JSON ({}): {e}",
                resp.host,
                resp.describe_content_type()
            ))
            .with_detail("http_status", resp.status)
        })?;
        let metadata = ProviderMetadata::parse(&doc)?;
        if metadata.issuer != issuer {
            return Err(Error::protocol(format!(
                "discovery issuer mismatch: the document says {} but the client was given {}",
                crate::core::error::quote_untrusted(&metadata.issuer),
                crate::core::error::quote_untrusted(issuer)
            )));
        }
        Ok((metadata, doc))
    }

    /// Uses a provider metadata document the caller already has.
    pub fn from_issuer_config(metadata_json: &str, params: ClientParams<'_>) -> Result<Client> {
        let config = Self::check_params(&params)?;
        let doc: Value = crate::core::json::parse_str(metadata_json)
            .map_err(|e| Error::invalid_argument(format!("provider metadata: malformed JSON: {e}")))?;
        let metadata = ProviderMetadata::parse(&doc).map_err(|e| Error::invalid_argument(e.message))?;
        check_url(&metadata.issuer, "issuer", config.allow_insecure_http)
            .map_err(|e| Error::invalid_argument(e.message))?;
        if let Some(expected) = config.issuer.as_deref().filter(|e| *e != metadata.issuer) {
            return Err(Error::invalid_argument(format!(
                "the option issuer {} differs from the metadata's issuer {}",
                crate::core::error::quote_untrusted(expected),
                crate::core::error::quote_untrusted(&metadata.issuer)
            )));
        }
        let http = Http::new(&config)?;
        Self::build(metadata, doc, params, config, http)
    }

    fn check_params(params: &ClientParams<'_>) -> Result<ClientConfig> {
        if params.client_id.is_empty() {
            return Err(Error::invalid_argument("client_id must not be empty"));
        }
        if params.client_secret == Some("") {
            return Err(Error::invalid_argument(
                "client_secret must not be empty; pass NULL for a public client",
            ));
        }
        if params.scope == Some("") {
            return Err(Error::invalid_argument("scope must not be empty; pass NULL for \"openid\""));
        }
        let config = options::parse::<ClientOptions>(params.options, "options_json")?.resolve()?;
        if params.client_secret.is_some() && config.client_secret_from_file.is_some() {
            return Err(Error::invalid_argument(
                "client_secret and the option client_secret_file exclude each other; pass NULL as client_secret",
            ));
        }
        let has_secret = params.client_secret.is_some() || config.client_secret_from_file.is_some();
        if let Some(algs) = &config.allowed_algs {
            if algs.iter().any(|a| a.is_symmetric()) && !has_secret {
                return Err(Error::invalid_argument(
                    "allowed_algs lists an HS* algorithm, which needs the client secret as its key, but this client has none",
                ));
            }
        }
        Ok(config)
    }

    fn build(
        metadata: ProviderMetadata,
        doc: Value,
        params: ClientParams<'_>,
        mut config: ClientConfig,
        http: Http,
    ) -> Result<Client> {
        for (name, url) in metadata.endpoints() {
            check_url(url, name, config.allow_insecure_http)?;
        }
        let algs = choose_algs(&metadata, &config);
        let keys = KeyCache::new(
            metadata.jwks_uri.clone(),
            algs.clone(),
            config.min_jwks_cache_s,
            config.jwks_refetch_min_interval_s,
        );
        // The PEM text is not kept once the key is parsed (it is wiped on drop).
        let signing_key = match config.private_key_pem.take() {
            Some(pem) => Some(SigningKey::from_pem(pem.expose(), config.private_key_kid.clone())?),
            None => None,
        };
        let client_secret = match config.client_secret_from_file.take() {
            Some(s) => Some(s),
            None => params.client_secret.map(Secret::new),
        };
        let auth_method = choose_auth_method(&metadata, &config, client_secret.is_some(), signing_key.is_some())?;
        let dpop = match config.dpop.take() {
            Some(d) => Some(dpop_key(&doc, d)?),
            None => None,
        };
        log_at!(
            Level::Info,
            "client {} for issuer {} ready (client authentication: {})",
            params.client_id,
            metadata.issuer,
            auth_method.name()
        );
        let dpop_jtis = crate::core::replay::JtiCache::with_capacity(config.dpop_replay_cache_entries);
        let verified = (config.verified_cache_entries > 0)
            .then(|| crate::core::verified_cache::VerifiedCache::new(config.verified_cache_entries));
        Ok(Client {
            issuer: metadata.issuer.clone(),
            metadata,
            metadata_doc: doc,
            metadata_fetched_at: SystemTime::now(),
            cache: None,
            client_id: params.client_id.to_owned(),
            client_secret,
            redirect_uri: params.redirect_uri.map(str::to_owned),
            scope: params.scope.unwrap_or("openid").to_owned(),
            config,
            algs,
            http,
            keys,
            auth_method,
            signing_key,
            log: std::sync::RwLock::new(None),
            has_log: std::sync::atomic::AtomicBool::new(false),
            logout_jtis: Default::default(),
            dpop,
            dpop_nonces: Default::default(),
            dpop_jtis,
            dpop_keys: Default::default(),
            verified,
        })
    }

    /// Confidential when the client holds a credential: a secret (as
    /// simple_openid_connect decides it), a private key for private_key_jwt, or a
    /// client certificate it authenticates with (RFC 8705 §2).
    pub fn client_type(&self) -> ClientType {
        let by_cert = matches!(self.auth_method, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth);
        if self.client_secret.is_some() || self.signing_key.is_some() || by_cert {
            ClientType::Confidential
        } else {
            ClientType::Public
        }
    }

    /// Gives this client its own log sink (`None`: back to the process-wide one).
    pub fn set_log_target(&self, target: Option<crate::core::log::Target>) {
        let mut log = self.log.write().unwrap_or_else(|e| e.into_inner());
        let has = target.is_some();
        *log = target;
        self.has_log.store(has, std::sync::atomic::Ordering::Release);
    }

    /// Runs `f` with this client's log sink, if it has one, as the thread's sink.
    pub fn in_log_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        if !self.has_log.load(std::sync::atomic::Ordering::Acquire) {
            return f();
        }
        let target = self.log.read().unwrap_or_else(|e| e.into_inner()).clone();
        crate::core::log::scoped(target, f)
    }

    /// The time budget of one call: its `timeout_ms` option, or the client's default.
    pub(crate) fn request_options(&self, timeout_ms: Option<u64>) -> Result<RequestOptions> {
        RequestOptions::from_ms(timeout_ms, self.http.default_timeout())
    }

    /// The client authentication method in use.
    pub fn auth_method(&self) -> AuthMethod {
        self.auth_method
    }

    pub(crate) fn authenticator(&self) -> Authenticator<'_> {
        Authenticator {
            method: self.auth_method,
            client_id: &self.client_id,
            secret: self.client_secret.as_ref(),
            key: self.signing_key.as_ref(),
            assertion_audience: self.metadata.token_endpoint.as_deref().unwrap_or(&self.issuer),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// The provider metadata document, verbatim.
    pub fn provider_config(&self) -> &Value {
        &self.metadata_doc
    }

    /// The algorithms tokens may be signed with.
    pub fn allowed_algs(&self) -> &[Alg] {
        &self.algs
    }

    /// The provider's JWKS document from the cache, fetched if stale.
    pub fn provider_keys(&self, options_json: Option<&str>) -> Result<Value> {
        let o: KeysOptions = options::parse(options_json, "options_json")?;
        let req = self.request_options(o.timeout_ms)?;
        let set = if o.force_refresh == Some(true) {
            if o.cache_only == Some(true) {
                return Err(Error::invalid_argument("force_refresh and cache_only contradict each other"));
            }
            self.keys.refresh(&self.http, req).inspect_err(|e| {
                log_at!(Level::Warn, "forced JWKS refresh failed, the cached keys stay in use: {}", e.message)
            })?
        } else {
            self.keys.get(&self.http, KeyPolicy { allow_fetch: o.cache_only != Some(true), request: req })?
        };
        Ok(set.document.clone())
    }

    /// Checks the signature of a parsed token: the algorithm must be allowed;
    /// HS* verify with the client secret, the rest with the provider's keys.
    pub(crate) fn verify_signature(&self, jws: &Jws<'_>, policy: KeyPolicy) -> Result<()> {
        if !self.algs.contains(&jws.alg) {
            let allowed: Vec<&str> = self.algs.iter().map(|a| a.name()).collect();
            return Err(Error::validation(format!(
                "token alg \"{}\" is not allowed (allowed_algs: {})",
                jws.alg.name(),
                claims::show_list(&allowed)
            )));
        }
        if jws.alg.is_symmetric() {
            let secret = self.client_secret.as_ref().ok_or_else(|| {
                Error::validation("HS* token but this client has no secret to verify it with")
            })?;
            let algo = match jws.alg {
                Alg::HS256 => aws_lc_rs::hmac::HMAC_SHA256,
                Alg::HS384 => aws_lc_rs::hmac::HMAC_SHA384,
                _ => aws_lc_rs::hmac::HMAC_SHA512,
            };
            let key = aws_lc_rs::hmac::Key::new(algo, secret.expose().as_bytes());
            return aws_lc_rs::hmac::verify(&key, jws.signing_input, &jws.signature).map_err(|_| {
                Error::validation(format!("signature check failed: the {} MAC does not verify with the client secret", jws.alg.name()))
                    .with_detail("reason", "signature")
            });
        }
        let Some(cache) = &self.verified else {
            return self.keys.verify(&self.http, jws, policy).map(|_| ());
        };
        // A hit counts only while the current key set (fetched if stale, as for a miss)
        // still holds the key that verified the token; see verified_cache.rs.
        let set = self.keys.get(&self.http, policy)?;
        if let Some(outcome) = cache.check(jws, set.id, |key| set.holds(key)) {
            // A verified token whose key is still there, or the exact error this token's
            // signature gave against this very key set.
            return outcome;
        }
        drop(set);
        match self.keys.verify_tracked(&self.http, jws, policy) {
            Ok(key) => {
                cache.insert(jws, key);
                Ok(())
            }
            Err((e, Some(set_id))) => {
                cache.insert_failure(jws, set_id, &e);
                Err(e)
            }
            Err((e, None)) => Err(e),
        }
    }

    /// The verified-token cache: its capacity, entries held and hits so far (`None`:
    /// no cache). For tests and diagnostics; not part of the C ABI.
    pub fn verified_cache_stats(&self) -> Option<VerifiedCacheStats> {
        self.verified.as_ref().map(|c| VerifiedCacheStats {
            capacity: c.capacity(),
            entries: c.len(),
            hits: c.hits(),
            failure_capacity: c.failure_capacity(),
            failure_entries: c.failures(),
            failure_hits: c.failure_hits(),
        })
    }

    /// Decodes and validates an ID token; returns all of its claims.
    pub fn decode_id_token(
        &self,
        raw_token: &str,
        options_json: Option<&str>,
        acr_check: Option<AcrCheck<'_>>,
    ) -> Result<Claims> {
        self.decode_id_token_full(raw_token, options_json, acr_check).and_then(|d| d.claims())
    }

    /// As [`Client::decode_id_token`], also returning the payload as signed.
    pub fn decode_id_token_full(
        &self,
        raw_token: &str,
        options_json: Option<&str>,
        acr_check: Option<AcrCheck<'_>>,
    ) -> Result<Decoded> {
        let o: IdTokenOptions = options::parse(options_json, "options_json")?;
        let policy = KeyPolicy {
            allow_fetch: o.cache_only != Some(true),
            request: self.request_options(o.timeout_ms)?,
        };
        let checks = o.into_checks()?;
        self.decode_id_token_with(raw_token, &checks, policy, acr_check)
    }

    pub(crate) fn decode_id_token_with(
        &self,
        raw_token: &str,
        checks: &IdTokenChecks,
        policy: KeyPolicy,
        acr_check: Option<AcrCheck<'_>>,
    ) -> Result<Decoded> {
        let run = || -> Result<Decoded> {
            let jws = jose::parse(raw_token)?;
            let claims = jws.claims()?;
            self.verify_signature(&jws, policy)?;
            let ctx = id_token::Context {
                issuer: &self.issuer,
                client_id: &self.client_id,
                leeway: self.config.leeway_s as i64,
                now: claims::now(),
            };
            id_token::validate(&ctx, jws.alg, jws.typ.as_deref(), &claims, checks, acr_check)?;
            // Last: the caller's own claim rules (any claim: on the full map), on a token
            // soidc has accepted.
            if let Some(rules) = &checks.require_claims {
                rules.check(&jws.claims_map()?)?;
            }
            drop(claims);
            Ok(Decoded { payload: jws.payload })
        };
        run().map_err(|e| {
            let e = if e.kind == ErrorKind::Validation { e.context("ID token") } else { e };
            log_at!(Level::Info, "{}", e.message);
            e
        })
    }
}
