//! The HTTP layer: one connection-reusing ureq agent per client, strict URL
//! policy (https except loopback), no redirects, a response size cap, and every
//! failure mapped to a status with a message naming the host and what happened.

use crate::core::error::{Error, Result};
use crate::core::log::Level;
use crate::core::options::ClientConfig;
use crate::log_at;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use url::{Host, Url};

pub(crate) const USER_AGENT: &str = concat!("soidc/", env!("CARGO_PKG_VERSION"));

/// What came back, already read (bounded by `max_response_bytes`).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub www_authenticate: Option<String>,
    /// The `DPoP-Nonce` header (RFC 9449 §8, §9), as sent (checked where it is used).
    pub dpop_nonce: Option<String>,
    pub body: Vec<u8>,
    /// The host the request went to, for messages.
    pub host: String,
}

impl Response {
    pub fn describe_content_type(&self) -> &str {
        self.content_type.as_deref().unwrap_or("no content type")
    }
}

/// The time budget of one public call: fixed when the call starts, shared by
/// everything the call does (waiting for another caller's fetch, connecting,
/// each request and retry), so that `timeout_ms` bounds the whole call.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions {
    /// When the call must have returned.
    pub deadline: Instant,
    /// The call's whole budget (for messages).
    pub budget: Duration,
}

impl RequestOptions {
    /// A budget starting now.
    pub fn starting_now(budget: Duration) -> Self {
        RequestOptions { deadline: Instant::now() + budget, budget }
    }

    /// From a call's `timeout_ms` option (checked), or `default` when absent.
    pub fn from_ms(timeout_ms: Option<u64>, default: Duration) -> Result<Self> {
        let budget = match timeout_ms {
            Some(ms) => crate::core::options::check_timeout_ms("timeout_ms", ms)?,
            None => default,
        };
        Ok(Self::starting_now(budget))
    }

    /// Time left; zero once the deadline has passed.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The error of a call whose budget ran out before `what` could start.
    pub fn expired(&self, what: &str) -> Error {
        Error::network(format!(
            "{what}: the call's timeout ({} ms) ran out",
            self.budget.as_millis()
        ))
        .with_detail("reason", "timeout")
    }
}

/// The HTTP methods soidc sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

pub struct Http {
    config: HttpConfig,
    /// The agent and the pid that built it. After `fork()` the child must not
    /// share the parent's pooled sockets, so a new agent is built there.
    /// Built at the first request, not at creation (see [`Http::agent`]), and again in a
    /// forked child.
    agent: RwLock<Option<Arc<ureq::Agent>>>,
    agent_pid: AtomicU32,
    /// `provider_down_backoff_s`: the shared outage record and the back-off.
    outage: std::sync::OnceLock<(Arc<crate::core::state::FileCache>, Duration)>,
    /// URLs this client has already checked ([`check_url`]) and parsed for ureq: a
    /// client calls the same few endpoints again and again, and parsing a URL twice
    /// per request (url with IDNA, then http's `Uri`) cost about 8,000 instructions.
    urls: RwLock<Vec<(Box<str>, Arc<Target>)>>,
}

/// A URL that passed [`check_url`], as ureq takes it, and its host for messages.
struct Target {
    url: Url,
    uri: ureq::http::Uri,
    host: String,
}

/// At most this many URLs are remembered per client (the endpoints of one provider;
/// a URL beyond them, or one with a query, is checked and parsed on each call).
const URL_MEMO_MAX: usize = 16;

#[derive(Clone)]
struct HttpConfig {
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: u64,
    allow_insecure_http: bool,
    proxy: Option<ureq::Proxy>,
    /// The certificates of `ca_file`, read and checked at creation; the system trust
    /// store is added when the first agent is built ([`HttpConfig::roots`]).
    ca_file_roots: Option<Arc<Vec<Certificate<'static>>>>,
    roots: OnceLock<Arc<Vec<Certificate<'static>>>>,
    /// RFC 8705: the certificate presented when a server asks for one.
    client_cert: Option<ureq::tls::ClientCert>,
}

impl HttpConfig {
    /// The trust anchors: the system store, plus `ca_file`'s certificates.
    fn roots(&self) -> &Arc<Vec<Certificate<'static>>> {
        self.roots.get_or_init(|| match &self.ca_file_roots {
            None => system_roots().clone(),
            Some(extra) => {
                let mut roots: Vec<Certificate<'static>> = system_roots().as_ref().clone();
                roots.extend(extra.iter().cloned());
                Arc::new(roots)
            }
        })
    }
}

static SECURE_EXECUTION: AtomicBool = AtomicBool::new(false);

/// Tells the core that the process runs in secure-execution mode (setuid or
/// setgid, `AT_SECURE`): the environment is then the caller's and untrusted, so
/// `SSL_CERT_FILE`/`SSL_CERT_DIR` are ignored and the distribution's bundle is read.
pub fn set_secure_execution(on: bool) {
    SECURE_EXECUTION.store(on, Ordering::Relaxed);
}

/// Well-known CA bundle locations (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine/BSD).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system trust store, loaded once per process and shared by every client
/// without a `ca_file` (a copy per client cost ~160 KB each).
fn system_roots() -> &'static Arc<Vec<Certificate<'static>>> {
    static ROOTS: OnceLock<Arc<Vec<Certificate<'static>>>> = OnceLock::new();
    ROOTS.get_or_init(|| Arc::new(load_system_roots()))
}

fn load_system_roots() -> Vec<Certificate<'static>> {
    if SECURE_EXECUTION.load(Ordering::Relaxed) {
        for path in SYSTEM_BUNDLES {
            if let Ok(certs) = load_ca_file(path) {
                return certs;
            }
        }
        log_at!(Level::Error, "secure execution: no system CA bundle found");
        return Vec::new();
    }
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.errors.is_empty() {
        log_at!(Level::Warn, "some system CA certificates could not be loaded ({} errors)", loaded.errors.len());
    }
    loaded
        .certs
        .into_iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect()
}

fn load_ca_file(path: &str) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::invalid_argument(format!("ca_file \"{path}\": cannot read: {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.to_owned()),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::invalid_argument(format!("ca_file \"{path}\": invalid PEM: {e}")))
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::invalid_argument(format!("ca_file \"{path}\": no certificate found")));
    }
    Ok(certs)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks a URL the client is about to call (or hand to a browser):
/// absolute, http(s), https unless loopback or `allow_insecure_http`.
pub fn check_url(raw: &str, what: &str, allow_insecure_http: bool) -> Result<Url> {
    let url = Url::parse(raw)
        .map_err(|e| Error::protocol(format!("{what} {} is not a valid URL: {e}", crate::core::error::quote_untrusted(raw))))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::protocol(format!(
                "{what} {} uses http:// on a non-loopback host; https is required (set allow_insecure_http to override)",
                crate::core::error::quote_untrusted(raw)
            )))
        }
        other => {
            return Err(Error::protocol(format!("{what} {} has unsupported scheme {}", crate::core::error::quote_untrusted(raw), crate::core::error::quote_untrusted(other))))
        }
    }
    if url.host().is_none() {
        return Err(Error::protocol(format!("{what} {} has no host", crate::core::error::quote_untrusted(raw))));
    }
    Ok(url)
}

fn host_of(url: &Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_owned(),
    }
}

impl Http {
    pub fn new(cfg: &ClientConfig) -> Result<Self> {
        // A bad ca_file is refused now, at creation; the system store is read later.
        let ca_file_roots = cfg.ca_file.as_deref().map(load_ca_file).transpose()?.map(Arc::new);
        let proxy = match &cfg.proxy {
            None => None,
            Some(p) => Some(
                ureq::Proxy::new(p)
                    .map_err(|e| Error::invalid_argument(format!("proxy: invalid proxy URL: {e}")))?,
            ),
        };
        let config = HttpConfig {
            timeout: cfg.timeout,
            connect_timeout: cfg.connect_timeout,
            max_response_bytes: cfg.max_response_bytes,
            allow_insecure_http: cfg.allow_insecure_http,
            proxy,
            ca_file_roots,
            roots: OnceLock::new(),
            client_cert: cfg.client_cert.as_ref().map(|c| c.tls.clone()),
        };
        Ok(Http {
            config,
            agent: RwLock::new(None),
            // No process has pid 0: the first request builds the agent.
            agent_pid: AtomicU32::new(0),
            outage: std::sync::OnceLock::new(),
            urls: RwLock::new(Vec::new()),
        })
    }

    /// `provider_down_backoff_s`: a request that fails at the network level is recorded
    /// in `cache`'s outage record, and while the record is younger than `backoff` every
    /// request fails at once (`Network`, reason `provider_down`) without being sent. A
    /// provider that answers (any HTTP status) clears the record.
    pub fn watch_outages(&self, cache: Arc<crate::core::state::FileCache>, backoff: Duration) {
        let _ = self.outage.set((cache, backoff));
    }

    fn refuse_if_down(&self, what: &str) -> Result<()> {
        let Some((cache, backoff)) = self.outage.get() else { return Ok(()) };
        let Some(since) = cache.down_since() else { return Ok(()) };
        let ago = crate::core::state::unix_secs(std::time::SystemTime::now()).saturating_sub(since);
        if ago < backoff.as_secs() {
            return Err(Error::network(format!(
                "{what}: not sent: the provider was unreachable {ago} s ago (recorded in cache_dir), and \
                 provider_down_backoff_s is {} s",
                backoff.as_secs()
            ))
            .with_detail("reason", "provider_down"));
        }
        Ok(())
    }

    /// The client's default per-call budget (`timeout_ms` of the client options).
    pub fn default_timeout(&self) -> Duration {
        self.config.timeout
    }

    pub fn allow_insecure_http(&self) -> bool {
        self.config.allow_insecure_http
    }

    /// [`check_url`], the `Uri` ureq sends to and the host, remembered for the URLs this client
    /// has called before. Only URLs that passed are remembered, so every error still
    /// comes from [`check_url`] with its message; whether a URL passes depends on
    /// nothing but the URL and `allow_insecure_http`, which is fixed per client.
    fn target(&self, raw_url: &str, what: &str) -> Result<Arc<Target>> {
        {
            let memo = self.urls.read().unwrap_or_else(|e| e.into_inner());
            if let Some((_, target)) = memo.iter().find(|(raw, _)| &**raw == raw_url) {
                return Ok(target.clone());
            }
        }
        let url = check_url(raw_url, what, self.config.allow_insecure_http)?;
        let host = host_of(&url);
        // A URL the url crate accepts and http's parser refuses gets the error ureq's
        // request builder gave it when it parsed the text itself.
        let uri = ureq::http::Uri::try_from(url.as_str())
            .map_err(|e| map_error(ureq::Error::Http(e.into()), &host, what, self.config.timeout))?;
        let target = Arc::new(Target { url, uri, host });
        // A URL with a query may carry per-call values (a state, a code): not kept.
        if target.url.query().is_none() && target.url.fragment().is_none() {
            let mut memo = self.urls.write().unwrap_or_else(|e| e.into_inner());
            if memo.len() < URL_MEMO_MAX && !memo.iter().any(|(raw, _)| &**raw == raw_url) {
                memo.push((raw_url.into(), target.clone()));
            }
        }
        Ok(target)
    }

    /// The agent of this process. It is built at the first request rather than at
    /// creation: building it reads the system trust store (about 3 ms of CPU once per
    /// process, most of a PAM login's cost in a process that makes no request at all,
    /// e.g. a JWT checked with cached keys). A forked child builds its own.
    fn agent(&self) -> Arc<ureq::Agent> {
        let pid = std::process::id();
        if self.agent_pid.load(Ordering::Acquire) != pid {
            let mut guard = self.agent.write().unwrap_or_else(|e| e.into_inner());
            if self.agent_pid.load(Ordering::Acquire) != pid {
                let fresh = Arc::new(build_agent(&self.config));
                // Dropping the inherited pool only closes the child's copies of
                // the parent's socket descriptors: ureq neither shuts sockets
                // down nor writes (no TLS close_notify) when a pool is dropped,
                // so the parent's connections are unaffected.
                let forked = guard.replace(fresh).is_some();
                self.agent_pid.store(pid, Ordering::Release);
                drop(guard);
                // Logged with no lock held: a log callback may call back into soidc.
                if forked {
                    log_at!(Level::Debug, "fork detected: new HTTP connection pool for pid {pid}");
                }
            }
        }
        match &*self.agent.read().unwrap_or_else(|e| e.into_inner()) {
            Some(agent) => agent.clone(),
            // Set above for this pid and never unset.
            None => Arc::new(build_agent(&self.config)),
        }
    }

    /// GET with `Accept: application/json` (or the given accept value).
    pub fn get(
        &self,
        raw_url: &str,
        what: &str,
        headers: &[(&str, &str)],
        opts: RequestOptions,
    ) -> Result<Response> {
        self.execute(Method::Get, raw_url, what, None, headers, opts)
    }

    /// POST `application/x-www-form-urlencoded`.
    pub fn post_form(
        &self,
        raw_url: &str,
        what: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
        opts: RequestOptions,
    ) -> Result<Response> {
        // The body may hold a password, a refresh token or a code: wiped when dropped.
        // Allocated once at its largest encoded size, so that growing it neither costs
        // copies nor leaves unwiped ones in freed memory.
        let most = form.iter().map(|(k, v)| 3 * (k.len() + v.len()) + 2).sum();
        let body = zeroize::Zeroizing::new(
            url::form_urlencoded::Serializer::new(String::with_capacity(most))
                .extend_pairs(form.iter())
                .finish(),
        );
        let body = Some(("application/x-www-form-urlencoded", body.as_bytes()));
        self.execute(Method::Post, raw_url, what, body, headers, opts)
    }

    /// `method` with an optional JSON body (`Content-Type: application/json`), through
    /// the same agent, URL policy, deadline, body cap and error mapping as [`Http::get`]
    /// and [`Http::post_form`]. A body is only sent with POST and PUT: one given with
    /// GET or DELETE is a bug of the caller (`Internal`).
    pub fn send(
        &self,
        method: Method,
        raw_url: &str,
        what: &str,
        json_body: Option<&[u8]>,
        headers: &[(&str, &str)],
        opts: RequestOptions,
    ) -> Result<Response> {
        self.execute(method, raw_url, what, json_body.map(|b| ("application/json", b)), headers, opts)
    }

    /// The one place a request is built and sent: `body` is (content type, bytes).
    fn execute(
        &self,
        method: Method,
        raw_url: &str,
        what: &str,
        body: Option<(&str, &[u8])>,
        headers: &[(&str, &str)],
        opts: RequestOptions,
    ) -> Result<Response> {
        let target = self.target(raw_url, what)?;
        let uri = target.uri.clone();
        let timeout = opts.remaining();
        if timeout.is_zero() {
            return Err(opts.expired(what));
        }
        self.refuse_if_down(what)?;
        let agent = self.agent();
        fn prepare<B>(
            mut req: ureq::RequestBuilder<B>,
            headers: &[(&str, &str)],
            timeout: Duration,
        ) -> ureq::RequestBuilder<B> {
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.config().timeout_global(Some(timeout)).build()
        }
        let result = match (method, body) {
            (Method::Get, None) => prepare(agent.get(uri), headers, timeout).call(),
            (Method::Delete, None) => prepare(agent.delete(uri), headers, timeout).call(),
            (Method::Post, Some((ct, bytes))) => {
                prepare(agent.post(uri), headers, timeout).content_type(ct).send(bytes)
            }
            (Method::Put, Some((ct, bytes))) => {
                prepare(agent.put(uri), headers, timeout).content_type(ct).send(bytes)
            }
            (Method::Post, None) => prepare(agent.post(uri), headers, timeout).send_empty(),
            (Method::Put, None) => prepare(agent.put(uri), headers, timeout).send_empty(),
            (m @ (Method::Get | Method::Delete), Some(_)) => {
                return Err(Error::internal(format!("{what}: a request body with {}", m.name())))
            }
        };
        self.finish(result, &target, what, opts)
    }

    fn finish(
        &self,
        result: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        target: &Target,
        what: &str,
        opts: RequestOptions,
    ) -> Result<Response> {
        let (url, host) = (&target.url, &target.host);
        let timeout = opts.budget;
        let outage = self.outage.get().map(|(cache, _)| cache);
        let mut resp = result.map_err(|e| {
            let e = map_error(e, host, what, timeout);
            if let Some(cache) = outage.filter(|_| e.kind == crate::core::error::ErrorKind::Network) {
                cache.record_down();
            }
            e
        })?;
        if let Some(cache) = outage {
            cache.clear_down();
        }
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let content_type = header("content-type");
        let cache_control = header("cache-control");
        let www_authenticate = header("www-authenticate");
        let dpop_nonce = header("dpop-nonce");
        if (300..400).contains(&status) {
            let target = header("location")
                .and_then(|l| url.join(&l).ok())
                .map(|u| host_of(&u))
                .unwrap_or_else(|| "an unknown location".into());
            return Err(Error::http(format!(
                "{what} at {host} answered HTTP {status} redirecting to {target}; redirects are never followed"
            ))
            .with_detail("http_status", status));
        }
        // Read into a buffer of the announced length, not one grown from a few bytes by
        // doubling; at most 64 KiB up front (a larger body still grows to the cap), so
        // that a length merely announced costs no more memory than before.
        let limit = self.config.max_response_bytes;
        let announced = resp.body().content_length().unwrap_or(0).min(limit).min(64 * 1024);
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        std::io::Read::read_to_end(&mut resp.body_mut().with_config().limit(limit).reader(), &mut body)
            .map_err(|e| map_error(ureq::Error::from(e), host, what, timeout))?;
        log_at!(Level::Debug, "{what}: HTTP {status} from {host}, {} bytes", body.len());
        Ok(Response { status, content_type, cache_control, www_authenticate, dpop_nonce, body, host: host.clone() })
    }
}

/// How long a host name's addresses are reused without a new lookup.
const DNS_CACHE_TTL: Duration = Duration::from_secs(30);
const DNS_CACHE_MAX: usize = 64;

/// ureq's default resolver starts a thread for every lookup when a timeout is set,
/// and ureq resolves on every request, even one that reuses a pooled connection:
/// measured at about 60 µs of client CPU per request. This one answers IP literals
/// at once and keeps a host name's addresses for `DNS_CACHE_TTL`.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, ureq::unversioned::resolver::ResolvedSocketAddrs)>>,
}

impl ureq::unversioned::resolver::Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("");
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let mut out = self.empty();
            out.push(std::net::SocketAddr::new(ip, port));
            return Ok(out);
        }
        let key = format!("{host}:{port}");
        let now = std::time::Instant::now();
        if let Some((at, addrs)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if now.duration_since(*at) < DNS_CACHE_TTL {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= DNS_CACHE_MAX {
            cache.retain(|_, (at, _)| now.duration_since(*at) < DNS_CACHE_TTL);
            if cache.len() >= DNS_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(key, (now, addrs.clone()));
        Ok(addrs)
    }
}

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// How much shorter than the time left a socket timeout already in place may be and
/// still be handed on unchanged (1/64 of the time left, at most 16 ms).
fn steady_slack(left: Duration) -> Duration {
    (left / 64).min(Duration::from_millis(16))
}

/// Request bytes held back to go out in one write with what follows (the headers of
/// a request with its form body): at most this many.
const COALESCE_MAX: usize = 4096;

/// The outermost layer of the agent's connections (plain or TLS, through a proxy or
/// not): [`LeanTransport`].
#[derive(Debug)]
struct Lean;

impl Connector<Box<dyn Transport>> for Lean {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Self::Out>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| {
            Box::new(LeanTransport { inner, read: None, write: None, held: Vec::new(), held_reason: None, io_since_probe: true })
                as Self::Out
        }))
    }
}

/// Spares three kinds of system call ureq makes for every request, keeping what each
/// one is for (measured per client-credentials round trip: bench/run.sh HTTP rows).
///
/// - Socket timeouts. ureq hands the transport the time left before the call's
///   deadline on every read and write, and its TCP transport sets
///   `SO_RCVTIMEO`/`SO_SNDTIMEO` whenever that value differs from the last one, which
///   with a deadline is every time (three `setsockopt` per request). This layer hands
///   on the value it passed last time while that is no longer than the time left and
///   at most [`steady_slack`] shorter; otherwise a fresh value half the slack shorter
///   than the time left. So no wait lasts beyond the deadline. A read that the
///   shorter value ends early is resumed for exactly the time that was left (nothing
///   was consumed), so reads time out at the deadline as before; a write stalled that
///   long (a peer that stopped reading) fails at most the slack before it.
/// - Writes. ureq writes a request's headers and its body with one `send` each; the
///   bytes of small writes are held back (up to [`COALESCE_MAX`]) and go out in one
///   write before the first read, which a request always ends with (the response).
///   A write error then shows at that point, with the same error.
/// - Liveness probes. ureq probes a pooled connection (three system calls) both when
///   it goes back to the pool and when it is taken out for the next request. The
///   first probe is skipped: the one at checkout, right before the connection is
///   used again, still refuses a connection the server closed or sent bytes on.
#[derive(Debug)]
struct LeanTransport {
    inner: Box<dyn Transport>,
    /// The read and the write timeout last handed on (what the socket has).
    read: Option<Duration>,
    write: Option<Duration>,
    /// Request bytes held back, and the timeout reason of the write that held them.
    held: Vec<u8>,
    held_reason: Option<ureq::Timeout>,
    /// Reads or writes happened since the last liveness probe.
    io_since_probe: bool,
}

/// The timeout to hand on for `t`, given the one last handed on (`granted`, updated).
fn steady(granted: &mut Option<Duration>, t: NextTimeout) -> NextTimeout {
    use ureq::unversioned::transport::time::Duration as UDuration;
    let UDuration::Exact(left) = t.after else {
        *granted = None;
        return t;
    };
    if let Some(g) = *granted {
        if g <= left && left - g <= steady_slack(left) {
            return NextTimeout { after: UDuration::Exact(g), ..t };
        }
    }
    let g = left - steady_slack(left) / 2;
    if g.is_zero() {
        *granted = None;
        return t;
    }
    *granted = Some(g);
    NextTimeout { after: UDuration::Exact(g), ..t }
}

impl LeanTransport {
    /// Writes the first `n` bytes of the output buffer.
    fn send(&mut self, n: usize, t: NextTimeout) -> std::result::Result<(), ureq::Error> {
        let given = steady(&mut self.write, t);
        self.inner.transmit_output(n, given)
    }

    /// Sends the bytes held back, if any (with the timeout reason of the write that
    /// held them, and `t`'s time left). They are wiped from the side buffer after.
    fn flush(&mut self, t: NextTimeout) -> std::result::Result<(), ureq::Error> {
        if self.held.is_empty() {
            return Ok(());
        }
        let t = NextTimeout { reason: self.held_reason.take().unwrap_or(t.reason), ..t };
        let held = std::mem::take(&mut self.held);
        let mut result = Ok(());
        for piece in held.chunks(self.inner.buffers().output().len().max(1)) {
            self.inner.buffers().output()[..piece.len()].copy_from_slice(piece);
            result = self.send(piece.len(), t);
            if result.is_err() {
                break;
            }
        }
        self.held = held;
        zeroize::Zeroize::zeroize(&mut self.held[..]);
        self.held.clear();
        result
    }
}

impl Transport for LeanTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> std::result::Result<(), ureq::Error> {
        self.io_since_probe = true;
        if amount == 0 {
            return Ok(());
        }
        if self.held.len() + amount <= COALESCE_MAX {
            if self.held.is_empty() {
                self.held_reason = Some(timeout.reason);
            }
            let out = self.inner.buffers().output();
            self.held.extend_from_slice(&out[..amount]);
            return Ok(());
        }
        if !self.held.is_empty() {
            let h = self.held.len();
            let out = self.inner.buffers().output();
            if h + amount <= out.len() {
                // What was held goes first, in the same write.
                out.copy_within(0..amount, h);
                out[..h].copy_from_slice(&self.held);
                zeroize::Zeroize::zeroize(&mut self.held[..]);
                self.held.clear();
                self.held_reason = None;
                return self.send(h + amount, timeout);
            }
            let current = zeroize::Zeroizing::new(out[..amount].to_vec());
            self.flush(timeout)?;
            self.inner.buffers().output()[..amount].copy_from_slice(&current);
        }
        self.send(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        use ureq::unversioned::transport::time::Duration as UDuration;
        self.io_since_probe = true;
        self.flush(timeout)?;
        let start = Instant::now();
        let given = steady(&mut self.read, timeout);
        match self.inner.await_input(given) {
            Err(ureq::Error::Timeout(_)) if given.after != timeout.after => {
                // Woken by the shorter value: wait out exactly what was left.
                self.read = None;
                let left = timeout.after.saturating_sub(start.elapsed());
                if left.is_zero() {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                self.inner.await_input(NextTimeout { after: UDuration::Exact(left), ..timeout })
            }
            other => other,
        }
    }

    fn is_open(&mut self) -> bool {
        if !self.held.is_empty() {
            // A request left half sent: never reused.
            return false;
        }
        if std::mem::replace(&mut self.io_since_probe, false) {
            // Going back to the pool after a request: probed when next taken out.
            return true;
        }
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

fn build_agent(cfg: &HttpConfig) -> ureq::Agent {
    let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(crypto)
        .root_certs(RootCerts::Specific(cfg.roots().clone()))
        // Presented only to a server that asks for a client certificate (RFC 8705 §2:
        // mutual TLS at the token endpoint or its mtls_endpoint_aliases entry).
        .client_cert(cfg.client_cert.clone())
        .build();
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .https_only(false)
        .proxy(cfg.proxy.clone())
        .tls_config(tls)
        .user_agent(USER_AGENT)
        .accept("application/json")
        .accept_encoding("identity")
        .timeout_global(Some(cfg.timeout))
        .timeout_connect(Some(cfg.connect_timeout))
        .max_idle_connections_per_host(8)
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default().chain(Lean),
        CachingResolver::default(),
    )
}

fn map_error(e: ureq::Error, host: &str, what: &str, timeout: Duration) -> Error {
    use ureq::Error as E;
    match e {
        E::Timeout(t) => Error::network(format!(
            "{what}: {host} timed out ({t}); the call's timeout is {} ms",
            timeout.as_millis()
        ))
        .with_detail("reason", "timeout"),
        E::HostNotFound => Error::network(format!("{what}: could not resolve host {host}")),
        E::ConnectionFailed => Error::network(format!("{what}: could not connect to {host}")),
        E::Io(io) => match io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            Some(tls) => Error::network(format!("{what}: TLS error with {host}: {tls}")),
            None => Error::network(format!("{what}: I/O error talking to {host}: {io}")),
        },
        E::Tls(m) => Error::network(format!("{what}: TLS error with {host}: {m}")),
        E::Rustls(r) => Error::network(format!("{what}: TLS error with {host}: {r}")),
        E::BodyExceedsLimit(n) => Error::http(format!(
            "{what}: response from {host} is larger than the {n}-byte limit (max_response_bytes)"
        )),
        E::LargeResponseHeader(_, limit) => {
            Error::http(format!("{what}: response headers from {host} exceed {limit} bytes"))
        }
        E::BodyStalled => Error::network(format!("{what}: {host} stopped sending the body")),
        E::ConnectProxyFailed(m) => Error::network(format!("{what}: proxy failed: {m}")),
        // Raised while writing the request (ureq's protocol error has no public type to
        // match on, hence the text): the caller's input was too large for it.
        E::Protocol(p) if p.to_string().contains("output too small") => too_large(what, host),
        // An argument that cannot go into a request line or header (a control character
        // in a token for the Authorization header, ...): the value is never echoed.
        E::Http(e) => Error::invalid_argument(format!(
            "{what}: the request to {host} could not be built: {e} (an argument holds characters HTTP does not allow there)"
        )),
        E::Protocol(p) => Error::http(format!("{what}: malformed HTTP from {host}: {p}")),
        other => Error::network(format!("{what}: request to {host} failed: {other}")),
    }
}

fn too_large(what: &str, host: &str) -> Error {
    Error::invalid_argument(format!(
        "{what}: the request to {host} could not be built (an argument is too large for an HTTP request)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::AtomicUsize;
    use ureq::unversioned::transport::time::Duration as UDuration;
    use ureq::unversioned::transport::LazyBuffers;

    fn http(timeout_ms: u64) -> Http {
        let options = format!(r#"{{"timeout_ms":{timeout_ms}}}"#);
        let cfg = crate::core::options::parse::<crate::core::options::ClientOptions>(Some(&options), "options_json")
            .unwrap()
            .resolve()
            .unwrap();
        Http::new(&cfg).unwrap()
    }

    /// Reads one request (headers and a Content-Length body); `None` at end of stream.
    fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let len = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse::<usize>().unwrap()))
            .unwrap_or(0);
        let mut body = vec![0; len];
        r.read_exact(&mut body).ok()?;
        Some((head, body))
    }

    /// A keep-alive server on 127.0.0.1: `answer(head, body)` says what to do with a
    /// request: `Some(bytes)` is sent back as the body, `None` hangs (reads on without
    /// answering). Returns its base URL and the count of connections it accepted.
    fn serve(answer: impl Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static, close_after: bool) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let (count, answer) = (connections.clone(), Arc::new(answer));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let answer = answer.clone();
                std::thread::spawn(move || {
                    let mut w = stream.try_clone().unwrap();
                    let mut r = BufReader::new(stream);
                    while let Some((head, body)) = read_request(&mut r) {
                        let Some(out) = answer(&head, &body) else { continue };
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", out.len());
                        let _ = w.write_all(&[head.as_bytes(), &out].concat());
                        if close_after {
                            return;
                        }
                    }
                });
            }
        });
        (url, connections)
    }

    #[test]
    fn request_bodies_of_every_size_arrive_whole_over_one_connection() {
        let (url, connections) = serve(|_, body| Some(body.to_vec()), false);
        let url = format!("{url}/echo");
        let h = http(5000);
        // Below and above the bytes held back (4 KiB with the headers), and above
        // ureq's output buffer, so that every path of LeanTransport::transmit_output runs.
        for len in [0usize, 1, 46, 3700, 4096, 5000, 70_000, 300_000] {
            let body: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let opts = RequestOptions::starting_now(Duration::from_secs(5));
            let resp = h.send(Method::Put, &url, "test", Some(&body), &[], opts).unwrap();
            assert_eq!(resp.status, 200);
            assert!(resp.body == body, "a {len}-byte body came back changed");
            let resp = h.get(&url, "test", &[], RequestOptions::starting_now(Duration::from_secs(5))).unwrap();
            assert!(resp.body.is_empty());
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1, "the connection is reused");
    }

    #[test]
    fn requests_through_a_connect_proxy_arrive_whole_and_reuse_the_tunnel() {
        let (target, _) = serve(|_, body| Some(body.to_vec()), false);
        // A CONNECT proxy: answers 200, then copies bytes both ways.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let mut r = BufReader::new(client.try_clone().unwrap());
                let Some((head, _)) = read_request(&mut r) else { continue };
                let authority = head.split_whitespace().nth(1).unwrap().to_owned();
                assert!(head.starts_with("CONNECT "), "{head}");
                count.fetch_add(1, Ordering::SeqCst);
                let upstream = TcpStream::connect(authority).unwrap();
                let mut w = client.try_clone().unwrap();
                w.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
                let (mut up_r, mut up_w) = (upstream.try_clone().unwrap(), upstream);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut up_r, &mut w);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut r, &mut up_w);
                });
            }
        });
        let options = format!(r#"{{"timeout_ms":5000,"proxy":"{proxy}"}}"#);
        let cfg = crate::core::options::parse::<crate::core::options::ClientOptions>(Some(&options), "options_json")
            .unwrap()
            .resolve()
            .unwrap();
        let h = Http::new(&cfg).unwrap();
        for len in [0usize, 46, 5000, 200_000] {
            let body: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
            let opts = RequestOptions::starting_now(Duration::from_secs(5));
            let resp = h.send(Method::Put, &format!("{target}/echo"), "test", Some(&body), &[], opts).unwrap();
            assert!(resp.status == 200 && resp.body == body, "a {len}-byte body through the proxy");
        }
        assert_eq!(tunnels.load(Ordering::SeqCst), 1, "one tunnel, reused");
    }

    #[test]
    fn a_connection_the_server_closed_is_not_reused() {
        let (url, connections) = serve(|_, _| Some(b"{}".to_vec()), true);
        let url = format!("{url}/x");
        let h = http(5000);
        for _ in 0..3 {
            let resp = h.get(&url, "test", &[], RequestOptions::starting_now(Duration::from_secs(5))).unwrap();
            assert_eq!(resp.body, b"{}");
            // The server's FIN arrives; the probe when the connection is taken out sees it.
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(connections.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_reused_connection_still_times_out_at_the_call_deadline() {
        // /ok is answered, /hang is not: its read uses the socket timeout /ok left in
        // place on the connection (a little shorter than its own time left).
        let (base, connections) = serve(|head, _| (!head.contains("/hang")).then(|| b"{}".to_vec()), false);
        let h = http(5000);
        for budget_ms in [700u64, 400] {
            let budget = Duration::from_millis(budget_ms);
            h.get(&format!("{base}/ok"), "test", &[], RequestOptions::starting_now(budget)).unwrap();
            let start = Instant::now();
            let e = h.get(&format!("{base}/hang"), "test", &[], RequestOptions::starting_now(budget)).unwrap_err();
            let took = start.elapsed();
            assert_eq!(e.kind, crate::core::error::ErrorKind::Network, "{}", e.message);
            assert!(e.message.contains("timed out"), "{}", e.message);
            assert!(took >= budget - Duration::from_millis(2), "{budget_ms} ms call returned after {took:?}");
            assert!(took < budget + Duration::from_millis(300), "{budget_ms} ms call returned after {took:?}");
        }
        // One connection per /ok + /hang pair (a connection that timed out is dropped).
        assert_eq!(connections.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn checked_urls_are_remembered_but_not_with_a_query_and_refusals_are_not() {
        let h = http(5000);
        let memo_len = || h.urls.read().unwrap().len();
        for _ in 0..2 {
            let e = h.target("http://provider.example/token", "token endpoint").err().unwrap();
            assert!(e.message.contains("https is required"), "{}", e.message);
        }
        assert_eq!(memo_len(), 0);
        let a = h.target("http://127.0.0.1:9/token", "token endpoint").unwrap();
        assert!(Arc::ptr_eq(&a, &h.target("http://127.0.0.1:9/token", "token endpoint").unwrap()));
        assert_eq!((a.host.as_str(), a.uri.to_string().as_str()), ("127.0.0.1:9", "http://127.0.0.1:9/token"));
        h.target("http://127.0.0.1:9/cb?code=abc&state=xyz", "callback").unwrap();
        h.target("http://127.0.0.1:9/cb#frag", "callback").unwrap();
        assert_eq!(memo_len(), 1, "a URL with a query or fragment is not kept");
        for i in 0..40 {
            h.target(&format!("http://127.0.0.1:9/p{i}"), "test").unwrap();
        }
        assert_eq!(memo_len(), URL_MEMO_MAX);
    }

    /// The URL memo is shared by every thread using the client: threads calling more URLs
    /// than it holds, at once, each get the answer of the URL they asked for, and the memo
    /// stays bounded with each entry parsed from its own text.
    #[test]
    fn the_url_memo_is_safe_from_many_threads() {
        let (base, _) = serve(
            |head, _| Some(head.split_whitespace().nth(1).unwrap_or("").as_bytes().to_vec()),
            false,
        );
        let h = Arc::new(http(10000));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (h, base) = (h.clone(), base.clone());
                std::thread::spawn(move || {
                    for i in 0..120 {
                        let path = format!("/p{}", (i * 7 + t * 5) % 40);
                        let r = h.get(&format!("{base}{path}"), "test", &[], RequestOptions::starting_now(Duration::from_secs(10))).unwrap();
                        assert_eq!(String::from_utf8_lossy(&r.body), path, "thread {t}, call {i}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let memo = h.urls.read().unwrap();
        assert_eq!(memo.len(), URL_MEMO_MAX);
        for (raw, target) in memo.iter() {
            assert_eq!(target.url.as_str(), &**raw);
            assert_eq!(target.uri.to_string(), &**raw);
        }
        let distinct: std::collections::HashSet<&str> = memo.iter().map(|(raw, _)| &**raw).collect();
        assert_eq!(distinct.len(), memo.len(), "no URL is kept twice");
    }

    fn next(after: Duration) -> NextTimeout {
        NextTimeout { after: UDuration::Exact(after), reason: ureq::Timeout::Global, per_read: None, per_write: None }
    }

    #[test]
    fn steady_timeouts_never_exceed_the_time_left() {
        let mut granted = None;
        let ms = Duration::from_millis;
        let first = steady(&mut granted, next(ms(2000)));
        assert_eq!(*first.after, ms(1992), "half the slack (16 ms) below the time left");
        // Kept while the time left stays within the slack above it.
        for left in [1999, 1995, 1992] {
            assert_eq!(*steady(&mut granted, next(ms(left))).after, ms(1992));
        }
        // Less time left than the value in place: a fresh one.
        assert_eq!(*steady(&mut granted, next(ms(1991))).after, ms(1983));
        // Much more time left: a fresh one too (a wait ends no earlier than needed).
        assert_eq!(*steady(&mut granted, next(ms(4000))).after, ms(3992));
        // Short budgets: the slack is 1/64 of the time left.
        assert_eq!(*steady(&mut granted, next(ms(64))).after, ms(63) + Duration::from_micros(500));
        // No deadline: handed on as it is.
        let none = NextTimeout { after: UDuration::NotHappening, ..next(ms(1)) };
        assert!(steady(&mut granted, none).after.is_not_happening());
        assert_eq!(granted, None);
        for left_us in [1u64, 2, 7, 1000, 123_456, 30_000_000] {
            let left = Duration::from_micros(left_us);
            let given = steady(&mut granted, next(left));
            assert!(*given.after <= left && !given.after.is_zero());
        }
    }

    /// What the inner transport below a [`LeanTransport`] was handed.
    #[derive(Debug, Default)]
    struct Log {
        sent: Vec<u8>,
        writes: usize,
        reads: Vec<NextTimeout>,
        probes: usize,
        time_out_next_read: bool,
    }

    #[derive(Debug)]
    struct Recorder {
        buffers: LazyBuffers,
        log: Arc<std::sync::Mutex<Log>>,
    }

    impl Transport for Recorder {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }
        fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> std::result::Result<(), ureq::Error> {
            let out = self.buffers.output()[..amount].to_vec();
            let mut log = self.log.lock().unwrap();
            log.writes += 1;
            log.sent.extend_from_slice(&out);
            Ok(())
        }
        fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
            let mut log = self.log.lock().unwrap();
            log.reads.push(timeout);
            if std::mem::replace(&mut log.time_out_next_read, false) {
                return Err(ureq::Error::Timeout(timeout.reason));
            }
            Ok(true)
        }
        fn is_open(&mut self) -> bool {
            self.log.lock().unwrap().probes += 1;
            true
        }
    }

    fn lean(output: usize) -> (LeanTransport, Arc<std::sync::Mutex<Log>>) {
        let log = Arc::new(std::sync::Mutex::new(Log::default()));
        let inner = Recorder { buffers: LazyBuffers::new(1024, output), log: log.clone() };
        let t = LeanTransport { inner: Box::new(inner), read: None, write: None, held: Vec::new(), held_reason: None, io_since_probe: true };
        (t, log)
    }

    fn write(t: &mut LeanTransport, bytes: &[u8]) {
        t.buffers().output()[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), next(Duration::from_secs(5))).unwrap();
    }

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    #[test]
    fn small_writes_go_out_together_before_the_first_read() {
        let (mut t, log) = lean(128 * 1024);
        write(&mut t, b"POST / HTTP/1.1\r\n\r\n");
        write(&mut t, b"grant_type=x");
        assert_eq!(log.lock().unwrap().writes, 0);
        assert!(t.await_input(next(Duration::from_secs(5))).unwrap());
        let log = log.lock().unwrap();
        assert_eq!((log.writes, log.sent.as_slice()), (1, &b"POST / HTTP/1.1\r\n\r\ngrant_type=x"[..]));
        assert!(t.held.is_empty());
    }

    #[test]
    fn a_large_write_takes_what_was_held_along_or_after_it() {
        // Held headers and a body that fits beside them in the output buffer: one write.
        let (mut t, log) = lean(128 * 1024);
        let (head, body) = (bytes(300, 1), bytes(10_000, 2));
        write(&mut t, &head);
        write(&mut t, &body);
        assert_eq!(log.lock().unwrap().writes, 1);
        assert_eq!(log.lock().unwrap().sent, [head.clone(), body.clone()].concat());
        // A body that does not fit beside them: the held bytes first, then the body.
        let (mut t, log) = lean(8192);
        let body = bytes(8150, 3);
        write(&mut t, &head);
        write(&mut t, &body);
        t.await_input(next(Duration::from_secs(5))).unwrap();
        assert_eq!(log.lock().unwrap().writes, 2);
        assert_eq!(log.lock().unwrap().sent, [head, body].concat());
    }

    #[test]
    fn a_read_woken_early_by_a_kept_timeout_waits_out_the_rest() {
        let (mut t, log) = lean(1024);
        let ms = Duration::from_millis;
        log.lock().unwrap().time_out_next_read = true;
        assert!(t.await_input(next(ms(2000))).unwrap());
        let reads = log.lock().unwrap().reads.clone();
        assert_eq!(reads.len(), 2);
        assert_eq!(*reads[0].after, ms(1992));
        assert!(*reads[1].after <= ms(2000) && *reads[1].after > ms(1990), "{:?}", reads[1].after);
        // A read handed the whole time left times out as it is.
        log.lock().unwrap().time_out_next_read = true;
        let none = NextTimeout { after: UDuration::NotHappening, ..next(ms(1)) };
        assert!(matches!(t.await_input(none), Err(ureq::Error::Timeout(ureq::Timeout::Global))));
    }

    #[test]
    fn a_connection_is_probed_when_taken_out_not_when_put_back() {
        let (mut t, log) = lean(1024);
        write(&mut t, b"GET / HTTP/1.1\r\n\r\n");
        t.await_input(next(Duration::from_secs(5))).unwrap();
        assert!(t.is_open(), "put back after a request");
        assert_eq!(log.lock().unwrap().probes, 0);
        assert!(t.is_open(), "taken out for the next one");
        assert_eq!(log.lock().unwrap().probes, 1);
        // Bytes of a request still held: never reused.
        write(&mut t, b"GET / HTTP/1.1\r\n\r\n");
        assert!(!t.is_open());
    }
}
